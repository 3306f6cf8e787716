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

/* Conversations a viewer may see: owned, or taken part in. Two arguments:
 * the viewer's id, twice. */
#define AIC_SQL_VISIBLE(ALIAS)                                                                     \
    "(" ALIAS ".owner_id = %s::uuid OR EXISTS (SELECT 1 FROM conversation_participants p"          \
    " WHERE p.conversation_id = " ALIAS ".id AND p.user_id = %s::uuid))"

/* Conversations and messages. */
extern const aic_route aic_chat_routes[];
extern const aic_stmt aic_chat_stmts[];
/** Per process: the writer of the turns the database failed (aic_batch). */
void aic_chat_child_init(apr_pool_t *pchild, server_rec *s);

/* Sharing: share links (API and admin page) and the page behind a link. */
extern const aic_route aic_share_routes[];
extern const aic_route aic_share_page_routes[];
extern const aic_stmt aic_share_stmts[];
/** The aichat-share handler: a shared conversation as HTML, or JSON when asked. */
int aic_share_handler(request_rec *r);
extern const aic_stmt aic_share_page_stmts[];
/** GET /v1/shares/{token}: a share's content (the page's JSON variant) for a signed-in user. */
int aic_share_api_content(aic_ctx *ctx);
/** Startup (before threads): Markdown extensions, the page's style hash. */
void aic_share_post_config(apr_pool_t *pconf);
/** Per-child state: the cache of shares and pages, the writer of views. */
void aic_share_child_init(apr_pool_t *pchild, server_rec *s);

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
