/* libFuzzer target: a provider's whole-answer parser (core/aic_provider.c
 * and its protocol file core/aic_provider_<kind>.c), built once per provider
 * with FUZZ_KIND set. The input is an HTTP status in decimal, a newline, then
 * the body ("200\n{...}"); without one, the status is 200 and the whole input
 * is the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>

#include "core/aic_provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    aic_chat_result res;
    apr_pool_t *p;
    apr_status_t rv;
    size_t at = 0;
    int status = 0;

    while (at < size && at < 3 && in[at] >= '0' && in[at] <= '9') {
        status = status * 10 + (in[at++] - '0');
    }
    if (at > 0 && at < size && in[at] == '\n') {
        at++;
    } else {
        at = 0;
        status = 200;
    }
    apr_pool_create(&p, NULL);
    memset(&res, 0, sizeof(res));
    rv = aic_provider_parse_response(&res, p, FUZZ_KIND, status, in + at, size - at);
    if ((rv == APR_SUCCESS) != (res.error_code == NULL) || (rv == APR_SUCCESS && !res.text)) {
        abort();
    }
    if (res.error_message && strlen(res.error_message) > AIC_PROVIDER_MAX_MESSAGE) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
