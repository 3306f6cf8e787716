/* Method + path-pattern routing, independent of httpd. A pattern is a path
 * whose segments are literals or {name} placeholders matching one non-empty
 * segment, e.g. "/v1/conversations/{id}/messages". */
#ifndef AIC_ROUTE_H
#define AIC_ROUTE_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct {
    const char *method;  /**< "GET", "POST", ...; GET routes also answer HEAD */
    const char *pattern; /**< see above */
    const void *target;  /**< opaque for the router: the endpoint */
} aic_route;

typedef enum {
    AIC_ROUTE_FOUND,    /**< *found set, params filled */
    AIC_ROUTE_NO_PATH,  /**< no pattern matches the path: 404 */
    AIC_ROUTE_NO_METHOD /**< the path exists with other methods: 405, *allow set */
} aic_route_result;

/**
 * Match one pattern against a path; on success, placeholders are added to
 * params (values copied into params' pool). Returns 1 on a match.
 */
int aic_route_match(apr_table_t *params, const char *pattern, const char *path);

/**
 * Find the route for method + path among routes (an array of const aic_route *).
 * *allow receives "GET, PATCH"-style text when the result is AIC_ROUTE_NO_METHOD.
 */
aic_route_result aic_route_find(const aic_route **found, apr_table_t *params, const char **allow,
                                apr_pool_t *p, const apr_array_header_t *routes, const char *method,
                                const char *path);

#endif
