#include "aic_ids.h"

#include <apr_general.h>

const char *aic_random_hex(apr_pool_t *p, apr_size_t nbytes)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char *raw = apr_palloc(p, nbytes);
    char *out = apr_palloc(p, 2 * nbytes + 1);

    if (apr_generate_random_bytes(raw, nbytes) != APR_SUCCESS) {
        return NULL;
    }
    for (apr_size_t i = 0; i < nbytes; i++) {
        out[2 * i] = digits[raw[i] >> 4];
        out[2 * i + 1] = digits[raw[i] & 0x0F];
    }
    out[2 * nbytes] = '\0';
    return out;
}
