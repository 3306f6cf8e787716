#include "aic_share_token.h"

#include <apr_base64.h>
#include <apr_strings.h>
#include <string.h>

#include "aic_digest.h"
#include "aic_ids.h"

#define TOKEN_BYTES 24 /* 192 bits: 32 base64 characters, no padding */

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const char *aic_share_nonce(apr_pool_t *p)
{
    return aic_random_hex(p, 16);
}

const char *aic_share_token(apr_pool_t *p, const char *secret, apr_size_t secret_len,
                            const char *nonce)
{
    unsigned char mac[AIC_SHA256_LEN];
    char *out;

    if (!secret || !secret_len || !nonce ||
        aic_hmac_sha256(mac, secret, secret_len, nonce, strlen(nonce)) != APR_SUCCESS) {
        return NULL;
    }
    out = apr_palloc(p, apr_base64_encode_len(TOKEN_BYTES));
    apr_base64_encode_binary(out, mac, TOKEN_BYTES);
    for (char *c = out; *c; c++) {
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    }
    return out;
}

const char *aic_share_token_hash(apr_pool_t *p, const char *token)
{
    unsigned char sum[AIC_SHA256_LEN];
    apr_size_t len = strlen(token);

    if (aic_sha256(sum, 1, (const void *const[]){token}, &len) != APR_SUCCESS) {
        return NULL;
    }
    return aic_hex_encode(p, (const char *)sum, sizeof(sum));
}

int aic_share_token_valid(const char *s)
{
    return s && strlen(s) == AIC_SHARE_TOKEN_LEN && strspn(s, alphabet) == AIC_SHARE_TOKEN_LEN;
}
