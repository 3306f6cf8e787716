/* libFuzzer target: the router (core/aic_route.c). The input is lines:
 * a method, a path, and optionally a pattern. The method and path are looked
 * up among the module's own route patterns; the path is also matched against
 * the input's pattern. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "core/aic_route.h"

/* The shapes of the module's routes (api/): literals, placeholders, both
 * methods of one path, a root. */
static const aic_route routes[] = {
    {"GET", "/", NULL},
    {"GET", "/v1/health", NULL},
    {"GET", "/v1/me", NULL},
    {"PATCH", "/v1/me", NULL},
    {"GET", "/v1/tools", NULL},
    {"GET", "/v1/tools/{slug}", NULL},
    {"PUT", "/v1/tools/{slug}/favorite", NULL},
    {"DELETE", "/v1/tools/{slug}/favorite", NULL},
    {"POST", "/v1/conversations", NULL},
    {"GET", "/v1/conversations", NULL},
    {"GET", "/v1/conversations/{id}", NULL},
    {"PATCH", "/v1/conversations/{id}", NULL},
    {"DELETE", "/v1/conversations/{id}", NULL},
    {"POST", "/v1/conversations/{id}/messages", NULL},
    {"DELETE", "/v1/conversations/{id}/participants/{username}", NULL},
    {"PUT", "/v1/conversations/{id}/share", NULL},
    {"GET", "/v1/shares/{token}", NULL},
    {"POST", "/v1/shares/{token}/fork", NULL},
    {"POST", "/v1/admin/users/{id}/credits", NULL},
};

/* The next line of the input, copied into p; NULL when none is left. */
static const char *line(apr_pool_t *p, const char **at, const char *end)
{
    const char *start = *at, *nl;

    if (start >= end) {
        return NULL;
    }
    nl = memchr(start, '\n', (size_t)(end - start));
    *at = nl ? nl + 1 : end;
    return apr_pstrmemdup(p, start, (apr_size_t)((nl ? nl : end) - start));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *at = (const char *)data, *end = at + size;
    const char *method, *path, *pattern, *allow = NULL;
    const aic_route *found = NULL;
    apr_array_header_t *table;
    apr_table_t *params;
    aic_route_result res;
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    method = line(p, &at, end);
    path = line(p, &at, end);
    pattern = line(p, &at, end);
    if (method && path) {
        table = apr_array_make(p, sizeof(routes) / sizeof(routes[0]), sizeof(const aic_route *));
        for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
            APR_ARRAY_PUSH(table, const aic_route *) = &routes[i];
        }
        params = apr_table_make(p, 4);
        res = aic_route_find(&found, params, &allow, p, table, method, path);
        if ((res == AIC_ROUTE_FOUND && !found) || (res == AIC_ROUTE_NO_METHOD && !allow)) {
            abort();
        }
        if (pattern) {
            aic_route_match(apr_table_make(p, 4), pattern, path);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
