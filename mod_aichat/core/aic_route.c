#include "aic_route.h"

#include <apr_strings.h>
#include <string.h>

int aic_route_match(apr_table_t *params, const char *pattern, const char *path)
{
    const char *pt = pattern, *pa = path;
    apr_table_t *found = apr_table_make(apr_table_elts(params)->pool, 2);

    if (!strcmp(pattern, "/") || !strcmp(path, "/")) {
        return !strcmp(pattern, path);
    }
    while (*pt && *pa) {
        const char *pt_end, *pa_end;

        if (*pt != '/' || *pa != '/') {
            return 0;
        }
        pt++;
        pa++;
        pt_end = pt + strcspn(pt, "/");
        pa_end = pa + strcspn(pa, "/");
        if (pa_end == pa) {
            return 0; /* empty segment: "//" or a trailing slash */
        }
        if (*pt == '{' && pt_end > pt + 1 && pt_end[-1] == '}') {
            apr_pool_t *pool = apr_table_elts(params)->pool;

            apr_table_setn(found, apr_pstrmemdup(pool, pt + 1, (apr_size_t)(pt_end - pt - 2)),
                           apr_pstrmemdup(pool, pa, (apr_size_t)(pa_end - pa)));
        } else if (pt_end - pt != pa_end - pa || strncmp(pt, pa, (apr_size_t)(pt_end - pt))) {
            return 0;
        }
        pt = pt_end;
        pa = pa_end;
    }
    if (*pt || *pa) {
        return 0;
    }
    apr_table_overlap(params, found, APR_OVERLAP_TABLES_SET);
    return 1;
}

/* 1 when method is one of the ", "-separated names in list. */
static int method_listed(const char *list, const char *method)
{
    apr_size_t n = strlen(method);

    for (const char *s = list; s; s = strchr(s, ',')) {
        s += (*s == ',') ? 2 : 0;
        if (!strncmp(s, method, n) && (s[n] == ',' || s[n] == '\0')) {
            return 1;
        }
    }
    return 0;
}

static int method_matches(const char *route_method, const char *method)
{
    return !strcmp(route_method, method) ||
           (!strcmp(method, "HEAD") && !strcmp(route_method, "GET"));
}

aic_route_result aic_route_find(const aic_route **found, apr_table_t *params, const char **allow,
                                apr_pool_t *p, const apr_array_header_t *routes, const char *method,
                                const char *path)
{
    const char *methods = NULL;

    *found = NULL;
    *allow = NULL;
    for (int i = 0; i < routes->nelts; i++) {
        const aic_route *route = APR_ARRAY_IDX(routes, i, const aic_route *);
        apr_table_t *scratch = apr_table_make(p, 2);

        if (!aic_route_match(scratch, route->pattern, path)) {
            continue;
        }
        if (method_matches(route->method, method)) {
            apr_table_overlap(params, scratch, APR_OVERLAP_TABLES_SET);
            *found = route;
            return AIC_ROUTE_FOUND;
        }
        if (!methods || !method_listed(methods, route->method)) {
            methods = methods ? apr_pstrcat(p, methods, ", ", route->method, NULL) : route->method;
        }
    }
    if (methods) {
        *allow = methods;
        return AIC_ROUTE_NO_METHOD;
    }
    return AIC_ROUTE_NO_PATH;
}
