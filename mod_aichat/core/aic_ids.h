/* Random identifiers from APR's random source. */
#ifndef AIC_IDS_H
#define AIC_IDS_H

#include <apr_pools.h>

/** nbytes random bytes as lower-case hex (2*nbytes characters), or NULL on failure. */
const char *aic_random_hex(apr_pool_t *p, apr_size_t nbytes);

/** A random (version 4) UUID, lower-case with hyphens, or NULL on failure. */
const char *aic_random_uuid(apr_pool_t *p);

/** data (len bytes) as lower-case hex. */
const char *aic_hex_encode(apr_pool_t *p, const char *data, apr_size_t len);
/** Decode hex (even length, 0-9a-fA-F) into a NUL-terminated string; NULL when invalid
 * or when the decoded bytes hold a NUL. */
const char *aic_hex_decode(apr_pool_t *p, const char *hex);

#endif
