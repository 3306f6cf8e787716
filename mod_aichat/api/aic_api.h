/* The index of the capabilities: each owns its routes, its statements and its
 * per-process state, declared here one block per capability and wired in
 * mod_aichat.c. What the files of one capability share is in its folder's
 * header (api/catalog/catalog.h, api/share/share.h, api/admin/admin.h). */
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
/** Per-child state of the catalog (the model list in memory). */
void aic_catalog_child_init(apr_pool_t *pchild, server_rec *s);
/** The catalog's state shared by the processes (provider probes), after aic_config_post. */
int aic_catalog_post_config(apr_pool_t *pconf, server_rec *s);

/* Conversations and messages. */
extern const aic_route aic_chat_routes[];
extern const aic_stmt aic_chat_stmts[];
/** Per process: the writer of the turns the database failed (aic_batch). */
void aic_chat_child_init(apr_pool_t *pchild, server_rec *s);

/* Sharing: share links (API and admin page) and the page behind a link. */
extern const aic_route aic_share_routes[];
extern const aic_route aic_share_page_routes[];
extern const aic_stmt aic_share_stmts[];
extern const aic_stmt aic_share_page_stmts[];
/** The aichat-share handler: a shared conversation as HTML, or JSON when asked. */
int aic_share_handler(request_rec *r);
/** Startup (before threads): Markdown extensions, the page's style hash. */
void aic_share_post_config(apr_pool_t *pconf);
/** Per-child state: the cache of shares and pages, the writer of views. */
void aic_share_child_init(apr_pool_t *pchild, server_rec *s);

/* Imports and exports: chat exports of other services in, the library out. */
extern const aic_route aic_imports_routes[];
extern const aic_stmt aic_imports_stmts[];
/** Per process: the worker thread that runs import jobs. */
void aic_imports_child_init(apr_pool_t *pchild, server_rec *s);

#endif
