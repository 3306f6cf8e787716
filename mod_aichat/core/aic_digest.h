/* The only door to OpenSSL's libcrypto: message digests and MACs. */
#ifndef AIC_DIGEST_H
#define AIC_DIGEST_H

#include <apr_pools.h>

#define AIC_SHA256_LEN 32

/**
 * SHA-256 over the concatenation of n parts (parts[i], lens[i] bytes each)
 * into out. Returns APR_SUCCESS or APR_EGENERAL.
 */
apr_status_t aic_sha256(unsigned char out[AIC_SHA256_LEN], int n, const void *const *parts,
                        const apr_size_t *lens);

/** HMAC-SHA-256 of data under key into out. Returns APR_SUCCESS or APR_EGENERAL. */
apr_status_t aic_hmac_sha256(unsigned char out[AIC_SHA256_LEN], const void *key, apr_size_t key_len,
                             const void *data, apr_size_t len);

#endif
