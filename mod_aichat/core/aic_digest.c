#include "aic_digest.h"

#include <limits.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

apr_status_t aic_sha256(unsigned char out[AIC_SHA256_LEN], int n, const void *const *parts,
                        const apr_size_t *lens)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);

    for (int i = 0; ok && i < n; i++) {
        ok = EVP_DigestUpdate(ctx, parts[i], lens[i]);
    }
    ok = ok && EVP_DigestFinal_ex(ctx, out, &len) && len == AIC_SHA256_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? APR_SUCCESS : APR_EGENERAL;
}

apr_status_t aic_hmac_sha256(unsigned char out[AIC_SHA256_LEN], const void *key, apr_size_t key_len,
                             const void *data, apr_size_t len)
{
    unsigned int out_len = 0;

    if (key_len > INT_MAX || !HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len) ||
        out_len != AIC_SHA256_LEN) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}
