/* The capabilities: each owns its routes, its statements and its handlers. */
#ifndef AIC_API_H
#define AIC_API_H

#include "httpd/aic_handler.h"

/* Health and the signed-in user (/v1/health, /v1/me). */
extern const aic_route aic_me_routes[];
extern const aic_stmt aic_me_stmts[];

/* Administration: users and the audit log, as JSON and as pages. */
extern const aic_route aic_admin_api_routes[];
extern const aic_route aic_admin_page_routes[];
extern const aic_stmt aic_admin_stmts[];

/**
 * Apply a user update in one transaction with its audit row: label names an
 * UPDATE ... RETURNING user_json statement taking args; the old and new
 * values of `fields` are recorded. *user_json receives the updated user.
 * Returns APR_SUCCESS, APR_NOTFOUND (no such user) or an aic_db error.
 */
apr_status_t aic_user_update(const char **user_json, aic_ctx *ctx, const char *user_id,
                             const char *label, int nargs, const char *const *args,
                             const apr_array_header_t *fields);

/** Send the response for a failed aic_user_update. */
int aic_user_update_failed(request_rec *r, apr_status_t rv);

/* The catalog: categories, models, favourites, providers. */
extern const aic_route aic_catalog_routes[];
extern const aic_route aic_catalog_page_routes[];
extern const aic_stmt aic_catalog_stmts[];
extern const aic_stmt aic_admin_catalog_stmts[];

/* Conversations and messages. */
extern const aic_route aic_chat_routes[];
extern const aic_stmt aic_chat_stmts[];

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
/** Per-child state of the catalog (provider probe cache, the model list in memory). */
void aic_catalog_child_init(apr_pool_t *pchild, server_rec *s);

#endif
