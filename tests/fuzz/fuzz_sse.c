/* libFuzzer target: the SSE parser (core/aic_sse.c) on a whole stream.
 * The stream is parsed twice, in one piece and in pieces of 1 to 7 bytes;
 * both must give the same events and the same end status. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "core/aic_ids.h"
#include "core/aic_sse.h"
#include "fuzz_common.h"

/* Small, so that oversized events (APR_ENOSPC) are reached too. */
#define MAX_EVENT 4096

typedef struct {
    apr_pool_t *p;
    char *log; /* every event as "event\x01error\x01hex(data)\x02" */
} events;

static apr_status_t on_event(void *ctx, const aic_sse_event *ev)
{
    events *e = ctx;

    /* data may hold NUL bytes: its length counts, and a NUL follows it. */
    if (ev->data[ev->data_len] != '\0') {
        abort();
    }
    e->log = apr_pstrcat(e->p, e->log, ev->event ? ev->event : "-", "\x01",
                         ev->field_error ? ev->field_error : "-", "\x01",
                         aic_hex_encode(e->p, ev->data, ev->data_len), "\x02", NULL);
    return APR_SUCCESS;
}

static apr_status_t feed(void *s, const char *data, apr_size_t len)
{
    return aic_sse_feed(s, data, len);
}

static apr_status_t parse(events *e, const uint8_t *data, size_t size, int split, int flush)
{
    aic_sse *s = aic_sse_create(e->p, on_event, e, MAX_EVENT);

    apr_status_t rv = fuzz_feed(feed, s, data, size, split), end;

    if (flush && rv == APR_SUCCESS) {
        rv = aic_sse_flush(s);
    }
    end = aic_sse_end(s);
    return rv == APR_SUCCESS ? end : rv;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    for (int flush = 0; flush < 2; flush++) {
        events whole = {p, ""}, pieces = {p, ""};
        apr_status_t a = parse(&whole, data, size, 0, flush);
        apr_status_t b = parse(&pieces, data, size, 1, flush);

        if (a != b || strcmp(whole.log, pieces.log)) {
            abort();
        }
    }
    apr_pool_destroy(p);
    return 0;
}
