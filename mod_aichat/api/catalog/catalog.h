/* What the files of the catalog capability share: the save/delete service
 * (used by the JSON API and the admin pages), the model list in memory and
 * the provider probe. */
#ifndef AIC_API_CATALOG_H
#define AIC_API_CATALOG_H

#include "api/aic_api.h"
#include "core/aic_catalog.h"

/* ---- aic_catalog_service.c ---- */

/** The outcome of a change shared by the JSON API and the admin pages. */
typedef struct {
    int status;          /**< HTTP status */
    const char *code;    /**< error code, NULL on success */
    const char *field;   /**< the offending field, or NULL */
    const char *message; /**< error message, NULL on success */
    const char *json;    /**< the saved object on success (NULL for 204) */
} aic_result;

/** Send a result as JSON (the object, 204, or the error envelope). */
int aic_send_result(request_rec *r, const aic_result *res);

/** Create (slug NULL) or update the model `slug` from the members of in. */
aic_result aic_catalog_tool_save(aic_ctx *ctx, const char *slug, const aic_json *in);
/** Delete the model `slug`. */
aic_result aic_catalog_tool_delete(aic_ctx *ctx, const char *slug);
/** Create (id NULL) or update a category from the members of in. */
aic_result aic_catalog_category_save(aic_ctx *ctx, const char *id, const aic_json *in);
/** Delete an empty category (409 category_not_empty otherwise). */
aic_result aic_catalog_category_delete(aic_ctx *ctx, const char *id);
/** The result of a database failure: 503 when the database is away, 500 otherwise. */
aic_result aic_catalog_db_failure(apr_status_t rv);

/* ---- aic_catalog_snapshot.c ---- */

/** Per child: one slot for the snapshot of each provider configuration. */
void aic_catalog_snapshot_child_init(apr_pool_t *pchild, server_rec *s);

/**
 * GET /tools without search, from the process's snapshot (made first when it
 * is older than the catalog version ctx->user->extra[0] read): the page for
 * query in r's pool. APR_NOTFOUND when the database must answer instead (a
 * cursor naming a model that changed or is gone, no snapshot slot).
 */
apr_status_t aic_catalog_snapshot_page(const char **json, aic_ctx *ctx, aic_catalog_query *query);

/* ---- aic_catalog_probe.c ---- */

/** The probe slots in shared memory, one per provider name (post_config). */
int aic_catalog_probe_post_config(apr_pool_t *pconf, server_rec *s);

/** Whether the provider's base URL answers: probed at most once a minute per
 * provider by all the processes of this httpd; the last result otherwise. */
int aic_catalog_reachable(const aic_provider_cfg *prov);

#endif
