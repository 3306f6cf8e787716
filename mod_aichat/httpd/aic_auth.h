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
    const char *loaded_by;    /**< the statement that loaded it */
    int nextra;               /**< how many columns that statement adds ... */
    const char *const *extra; /**< ... after AIC_USER_COLUMNS, for the endpoint */
};

/**
 * What every statement that loads the user returns first (an account an
 * administrator deleted counts as not active), from `users u`,
 * with the user name as its one parameter:
 * SELECT AIC_USER_COLUMNS [, more] FROM users u [...] WHERE u.username = %s
 */
#define AIC_USER_COLUMNS                                                                           \
    "u.id, u.role, (u.is_active AND u.deleted_at IS NULL)::int,"                                   \
    " (u.last_login_at IS NULL OR u.last_login_at < now() - interval '1 hour')::int"

/**
 * The signed-in user, provisioned on first sight. Returns APR_SUCCESS with *user
 * set, APR_NOTFOUND when the request has no r->user, or an aic_db error.
 */
apr_status_t aic_user_current(struct aic_user **user, request_rec *r, aic_db *db);

/**
 * The same, loaded by the statement `label` (NULL: the plain one), which adds
 * what an endpoint needs with the user in the same round trip (user->extra).
 * A user loaded by another statement earlier in the request is loaded again.
 * The plain statement's user comes from the process's memory when it was
 * read there in the last second and no account changed in this httpd since.
 */
apr_status_t aic_user_current_with(struct aic_user **user, request_rec *r, aic_db *db,
                                   const char *label);

/** 1 when the user has the role (admins have every role). */
int aic_user_has_role(const struct aic_user *user, const char *role);

/** Set up the process's memory of users looked up lately (child_init). */
void aic_auth_child_init(apr_pool_t *pchild);

/** Register the "aichat-role" authorization provider. */
void aic_auth_register(apr_pool_t *p);

/**
 * Keep the redirects of mod_auth_form's sign-in on this site: it follows a
 * posted httpd_location wherever it points (with a fresh session cookie).
 * Registers an output filter and the hook that adds it to the redirects
 * answered where AuthType form signs users in.
 */
void aic_signin_register(void);

/** OK, or sends 403 csrf_rejected (JSON or HTML) and returns its status. */
int aic_csrf_check(request_rec *r, int html);

extern const aic_stmt aic_auth_stmts[];

#endif
