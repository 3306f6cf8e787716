#include "aic_share_token.h"

#include <apr_base64.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>
#include <strings.h>

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

/* 1 when the n bytes at s are a UUID (8-4-4-4-12 hex digits). */
static int is_uuid(const char *s, apr_size_t n)
{
    if (n != 36) {
        return 0;
    }
    for (apr_size_t i = 0; i < n; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? s[i] != '-' : !apr_isxdigit(s[i])) {
            return 0;
        }
    }
    return 1;
}

/* Where a token may start in uri: after its first share segment, or NULL. */
static const char *token_scope(const char *uri)
{
    static const char *const names[] = {"share", "shared", "shares"};
    const char *seg = uri;

    while (*seg && *seg != '?') {
        apr_size_t n;

        seg += strspn(seg, "/");
        n = strcspn(seg, "/?");
        for (apr_size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (n == strlen(names[i]) && !strncasecmp(seg, names[i], n)) {
                return seg + n;
            }
        }
        seg += n;
    }
    return NULL;
}

const char *aic_share_token_redact(apr_pool_t *p, const char *uri, int share_location)
{
    const char *at = !uri ? NULL : share_location ? uri : token_scope(uri);
    const char *copied = uri; /* uri is in out up to here */
    char *out = NULL;

    if (!at) {
        return uri;
    }
    while (*at) {
        apr_size_t run = strspn(at, alphabet);

        if (run >= AIC_SHARE_TOKEN_LEN && !is_uuid(at, run)) {
            out =
                apr_pstrcat(p, out ? out : "", apr_pstrmemdup(p, copied, (apr_size_t)(at - copied)),
                            AIC_SHARE_TOKEN_REDACTED, NULL);
            copied = at + run;
        }
        at += run ? run : 1;
    }
    return out ? apr_pstrcat(p, out, copied, NULL) : uri;
}
