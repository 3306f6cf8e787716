#include "aic_cursor.h"

#include <string.h>

#include "aic_ids.h"
#include "aic_valid.h"

const char *aic_cursor_encode(apr_pool_t *p, const char *kind, const char *const *fields,
                              int nfields)
{
    apr_size_t len, kl;
    char *text, *o;

    if (!kind || !*kind || strchr(kind, '|') || nfields < 1 || nfields > AIC_CURSOR_MAX_FIELDS) {
        return NULL;
    }
    kl = strlen(kind);
    len = kl;
    for (int i = 0; i < nfields; i++) {
        if (!fields[i] || (i < nfields - 1 && strchr(fields[i], '|'))) {
            return NULL;
        }
        len += 1 + strlen(fields[i]);
        if (len > AIC_CURSOR_MAX_BYTES) {
            return NULL;
        }
    }
    text = o = apr_palloc(p, len + 1);
    memcpy(o, kind, kl);
    o += kl;
    for (int i = 0; i < nfields; i++) {
        apr_size_t fl = strlen(fields[i]);

        *o++ = '|';
        memcpy(o, fields[i], fl);
        o += fl;
    }
    *o = '\0';
    return aic_hex_encode(p, text, len);
}

/* The text of a lower-case hex string in p; NULL on any other digit, an odd
 * length or a NUL byte. */
static char *unhex(apr_pool_t *p, const char *hex, apr_size_t n)
{
    char *out = apr_palloc(p, n / 2 + 1);

    for (apr_size_t i = 0; i < n / 2; i++) {
        int v = 0;

        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + k];

            if (c >= '0' && c <= '9') {
                v = v << 4 | (c - '0');
            } else if (c >= 'a' && c <= 'f') {
                v = v << 4 | (c - 'a' + 10);
            } else {
                return NULL;
            }
        }
        if (v == 0) {
            return NULL;
        }
        out[i] = (char)v;
    }
    out[n / 2] = '\0';
    return out;
}

apr_status_t aic_cursor_decode(const char **fields, apr_pool_t *p, const char *cursor,
                               const char *kind, int nfields)
{
    const char *found[AIC_CURSOR_MAX_FIELDS];
    apr_size_t n = cursor ? strnlen(cursor, 2 * AIC_CURSOR_MAX_BYTES + 1) : 0;
    apr_size_t kl = kind ? strlen(kind) : 0;
    char *text, *c;

    if (n == 0 || n % 2 || n > 2 * AIC_CURSOR_MAX_BYTES || kl == 0 || strchr(kind, '|') ||
        nfields < 1 || nfields > AIC_CURSOR_MAX_FIELDS) {
        return APR_EINVAL;
    }
    text = unhex(p, cursor, n);
    if (!text || !aic_valid_utf8(text, AIC_CURSOR_MAX_BYTES) || strncmp(text, kind, kl) ||
        text[kl] != '|') {
        return APR_EINVAL;
    }
    c = text + kl;
    for (int i = 0; i < nfields; i++) {
        if (*c != '|') {
            return APR_EINVAL;
        }
        *c++ = '\0';
        found[i] = c;
        if (i < nfields - 1) {
            c += strcspn(c, "|");
        }
    }
    memcpy(fields, found, sizeof(*fields) * (apr_size_t)nfields);
    return APR_SUCCESS;
}
