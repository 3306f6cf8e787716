/* libFuzzer target: a provider's stream parser (core/aic_provider.c and its
 * protocol file core/aic_provider_<kind>.c), built once per provider with
 * FUZZ_KIND set (fuzz_stream_openai, _anthropic, _gemini). The body is fed in
 * one piece and in pieces of 1 to 7 bytes; both must give the same text, usage
 * and outcome. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "core/aic_provider.h"
#include "fuzz_common.h"

typedef struct {
    apr_pool_t *p;
    char *text; /* the deltas, joined */
} deltas;

static apr_status_t on_delta(void *ctx, const char *text, apr_size_t len)
{
    deltas *d = ctx;

    d->text = apr_pstrcat(d->p, d->text, apr_pstrmemdup(d->p, text, len), NULL);
    return APR_SUCCESS;
}

static apr_status_t feed(void *s, const char *data, apr_size_t len)
{
    return aic_provider_stream_feed(s, data, len);
}

static const char *outcome(apr_pool_t *p, const uint8_t *data, size_t size, int split)
{
    deltas d = {p, ""};
    aic_provider_stream *s = aic_provider_stream_create(p, FUZZ_KIND, on_delta, &d);
    const aic_chat_result *res;
    apr_status_t rv = fuzz_feed(feed, s, data, size, split);

    res = aic_provider_stream_result(s);
    if (!res->text || res != aic_provider_stream_result(s)) {
        abort();
    }
    return apr_psprintf(
        p, "%d|%s|%s|%ld|%ld|%s|%d|%s|%s", rv, d.text, res->text, res->prompt_tokens,
        res->completion_tokens, res->finish_reason ? res->finish_reason : "-", res->complete,
        res->error_code ? res->error_code : "-", res->error_message ? res->error_message : "-");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    if (strcmp(outcome(p, data, size, 0), outcome(p, data, size, 1))) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
