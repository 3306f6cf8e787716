/* Random identifiers from APR's random source. */
#ifndef AIC_IDS_H
#define AIC_IDS_H

#include <apr_pools.h>

/** nbytes random bytes as lower-case hex (2*nbytes characters), or NULL on failure. */
const char *aic_random_hex(apr_pool_t *p, apr_size_t nbytes);

#endif
