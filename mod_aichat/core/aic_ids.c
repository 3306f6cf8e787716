#include "aic_ids.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <string.h>

const char *aic_hex_encode(apr_pool_t *p, const char *data, apr_size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *raw = (const unsigned char *)data;
    char *out = apr_palloc(p, 2 * len + 1);

    for (apr_size_t i = 0; i < len; i++) {
        out[2 * i] = digits[raw[i] >> 4];
        out[2 * i + 1] = digits[raw[i] & 0x0F];
    }
    out[2 * len] = '\0';
    return out;
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

const char *aic_hex_decode(apr_pool_t *p, const char *hex)
{
    apr_size_t n = strlen(hex);
    char *out;

    if (n % 2) {
        return NULL;
    }
    out = apr_palloc(p, n / 2 + 1);
    for (apr_size_t i = 0; i < n / 2; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);

        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            return NULL;
        }
        out[i] = (char)(hi << 4 | lo);
    }
    out[n / 2] = '\0';
    return out;
}

const char *aic_random_hex(apr_pool_t *p, apr_size_t nbytes)
{
    char *raw = apr_palloc(p, nbytes);

    if (apr_generate_random_bytes((unsigned char *)raw, nbytes) != APR_SUCCESS) {
        return NULL;
    }
    return aic_hex_encode(p, raw, nbytes);
}

const char *aic_random_uuid(apr_pool_t *p)
{
    unsigned char raw[16];
    const char *hex;

    if (apr_generate_random_bytes(raw, sizeof(raw)) != APR_SUCCESS) {
        return NULL;
    }
    raw[6] = (unsigned char)((raw[6] & 0x0F) | 0x40); /* version 4 */
    raw[8] = (unsigned char)((raw[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    hex = aic_hex_encode(p, (const char *)raw, sizeof(raw));
    return apr_psprintf(p, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}
