/* libFuzzer target: what an audit row makes of request bytes. The first byte
 * picks the cap; the rest is the text (a URI, a User-Agent, a user name).
 * aic_utf8_clean must give valid UTF-8 within the cap (cleaning it again
 * changes nothing), and aic_share_token_redact on a share location must leave
 * no run of token characters long enough to be a token, UUIDs aside. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "core/aic_share_token.h"
#include "core/aic_utf8.h"

static const char token_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int uuid_shaped(const char *s, size_t n)
{
    if (n != 36) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? s[i] != '-' : !apr_isxdigit(s[i])) {
            return 0;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    apr_pool_t *p;
    const char *in, *clean, *redacted;
    size_t max;

    if (!ready) {
        apr_initialize();
        ready = 1;
    }
    if (size < 1) {
        return 0;
    }
    apr_pool_create(&p, NULL);
    max = (size_t)data[0] * 16;
    in = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    clean = aic_utf8_clean(p, in, max);
    if (strlen(clean) > max || aic_utf8_clean(p, clean, max) != clean) {
        abort();
    }
    redacted = aic_share_token_redact(p, clean, 1);
    for (const char *at = redacted; *at;) {
        size_t run = strspn(at, token_chars);

        if (run >= AIC_SHARE_TOKEN_LEN && !uuid_shaped(at, run)) {
            abort();
        }
        at += run ? run : 1;
    }
    apr_pool_destroy(p);
    return 0;
}
