#include "aic_utf8.h"

#include <string.h>

/* The length of the well-formed sequence at s (1 to 4), or 0 when the bytes
 * at s are ill-formed; *bad is then the length of the maximal subpart to
 * replace (at least 1). */
static apr_size_t sequence(const unsigned char *s, apr_size_t *bad)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    apr_size_t n, i;

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlong form */
        hi = c == 0xED ? 0x9F : 0xBF; /* no surrogate */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80; /* no overlong form */
        hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
    } else {
        *bad = 1;
        return 0;
    }
    for (i = 1; i < n; i++) {
        if (s[i] < lo || s[i] > hi) {
            *bad = i;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return n;
}

const char *aic_utf8_clean(apr_pool_t *p, const char *s, apr_size_t max)
{
    const unsigned char *in = (const unsigned char *)s;
    apr_size_t len, at = 0, n, bad = 0, out_len = 0, cap;
    char *out;

    if (!s) {
        return NULL;
    }
    len = strlen(s);
    while (at < len && (n = sequence(in + at, &bad)) && at + n <= max) {
        at += n;
    }
    if (at == len) {
        return s;
    }
    /* Each replaced byte may grow to three. */
    cap = len * 3 < max ? len * 3 : max;
    out = apr_palloc(p, cap + 1);
    memcpy(out, s, at);
    out_len = at;
    while (at < len) {
        const char *piece = s + at;

        if ((n = sequence(in + at, &bad))) {
            at += n;
        } else {
            piece = AIC_UTF8_REPLACEMENT;
            n = sizeof(AIC_UTF8_REPLACEMENT) - 1;
            at += bad;
        }
        if (out_len + n > cap) {
            break;
        }
        memcpy(out + out_len, piece, n);
        out_len += n;
    }
    out[out_len] = '\0';
    return out;
}
