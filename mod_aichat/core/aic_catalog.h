/* The catalog's model list in memory: a snapshot of the active models, each
 * as the database rendered it, with its place in each sort order and the
 * cursor that names it there; and the page of GET /tools a request asks for,
 * byte for byte the JSON the list statement would have produced. */
#ifndef AIC_CATALOG_H
#define AIC_CATALOG_H

#include <apr_pools.h>

/** Sort orders: popularity, name, newest. */
#define AIC_CATALOG_SORTS 3

/** One active model. */
typedef struct {
    const char *id;                        /**< uuid text, lower case */
    const char *category_id;               /**< uuid text, lower case; NULL without one */
    const char *provider;                  /**< provider name */
    const char *json[2];                   /**< its JSON with "favorite" false, then true */
    const char *cursor[AIC_CATALOG_SORTS]; /**< the `next` cursor naming it, per sort */
    int position[AIC_CATALOG_SORTS];       /**< its place (from 0) in each sort */
} aic_catalog_item;

typedef struct aic_catalog aic_catalog;

/** What one request asks for. */
typedef struct {
    int sort;              /**< 0 popularity, 1 name, 2 newest */
    const char *category;  /**< a uuid (any case), or NULL for any */
    const char *provider;  /**< a provider name, or NULL for any */
    int favorites_only;    /**< only the viewer's favourites */
    const char *favorites; /**< the viewer's favourite model ids, comma-separated; or NULL */
    const char *after;     /**< a cursor from an earlier page, or NULL */
    int limit;             /**< page size */
} aic_catalog_query;

/**
 * Make a snapshot at catalog version `version` from n items, copied (strings
 * too) into p, which the snapshot lives in. APR_EINVAL when the positions are
 * not each of 0..n-1 exactly once per sort, or a field is missing.
 */
apr_status_t aic_catalog_make(aic_catalog **out, apr_pool_t *p, apr_int64_t version,
                              const aic_catalog_item *items, int n);

/** The catalog version a snapshot was made at. */
apr_int64_t aic_catalog_version(const aic_catalog *c);

/**
 * The page {"items" : [...], "next" : ...} for q, allocated in p.
 * APR_NOTFOUND when q->after is not the cursor of a model of the snapshot in
 * that sort (a model changed or gone since: the database must answer).
 */
apr_status_t aic_catalog_page(const char **json, const aic_catalog *c, const aic_catalog_query *q,
                              apr_pool_t *p);

#endif
