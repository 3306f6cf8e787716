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

#endif
