/* Users from r->user (whatever Apache module authenticated them), the
 * "aichat-role" authorization provider, and the CSRF refusal. */
#ifndef AIC_AUTH_H
#define AIC_AUTH_H

#include <httpd.h>

#include "aic_db.h"

struct aic_user {
    const char *id;
    const char *username;
    const char *role;
    int is_active;
    const char *json; /**< the user as the API shows it */
};

/**
 * The signed-in user, provisioned on first sight. Returns APR_SUCCESS with *user
 * set, APR_NOTFOUND when the request has no r->user, or an aic_db error.
 */
apr_status_t aic_user_current(struct aic_user **user, request_rec *r, aic_db *db);

/** 1 when the user has the role (admins have every role). */
int aic_user_has_role(const struct aic_user *user, const char *role);

/** Register the "aichat-role" authorization provider. */
void aic_auth_register(apr_pool_t *p);

/** OK, or sends 403 csrf_rejected (JSON or HTML) and returns its status. */
int aic_csrf_check(request_rec *r, int html);

extern const aic_stmt aic_auth_stmts[];

#endif
