#include "aic_auth.h"
#include "aic_config.h"
#include "aic_http.h"
#include "aic_memo.h"
#include "aic_page.h"

#include <http_log.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_auth.h>
#include <ap_provider.h>
#include <apr_strings.h>
#include <apr_uuid.h>

#include "core/aic_csrf.h"

APLOG_USE_MODULE(aichat);

const aic_stmt aic_auth_stmts[] = {
    {"auth_user_by_name", "SELECT " AIC_USER_COLUMNS " FROM users u WHERE u.username = %s"},
    {"auth_user_provision",
     "WITH u AS (INSERT INTO users (username, display_name, token_credits, last_login_at)"
     " VALUES (%s, %s, %s::bigint, now()) ON CONFLICT (username) DO NOTHING"
     " RETURNING id, token_credits)"
     " INSERT INTO credit_ledger (user_id, delta, balance_after, reason)"
     " SELECT id, token_credits, token_credits, 'initial' FROM u"},
    {"auth_user_seen", "UPDATE users SET last_login_at = now() WHERE id = %s::uuid"},
    {NULL, NULL}};

#define USER_PLAIN   "auth_user_by_name"
#define USER_COLUMNS 4 /* in AIC_USER_COLUMNS */

static apr_status_t load(struct aic_user **user, int *stale, request_rec *r, aic_db *db,
                         const char *label)
{
    aic_rows rows;
    apr_status_t rv = aic_db_select(&rows, db, label, AIC_ARGS(r->user));
    struct aic_user *u;

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows.nrows == 0) {
        return APR_NOTFOUND;
    }
    if (rows.ncols < USER_COLUMNS) {
        return APR_EGENERAL;
    }
    u = apr_pcalloc(aic_original(r)->pool, sizeof(*u));
    u->id = rows.cells[0];
    u->username = r->user;
    u->role = rows.cells[1];
    u->is_active = rows.cells[2] && rows.cells[2][0] == '1';
    *stale = rows.cells[3] && rows.cells[3][0] == '1';
    u->loaded_by = label;
    u->nextra = rows.ncols - USER_COLUMNS;
    u->extra = rows.cells + USER_COLUMNS;
    *user = u;
    return APR_SUCCESS;
}

/* ---- users looked up lately, per process ----
 * The plain lookup runs before every API request. A user it found in the last
 * second is taken from the memo instead, unless an account changed in this
 * httpd since (AIC_CHANGES_USERS): a role or is_active changed here applies
 * at once, one changed elsewhere (another server, scripts/aichat-user) within
 * a second. Entries are fixed in size and updated in place. */
#define ROLE_SIZE 16

typedef struct {
    char id[APR_UUID_FORMATTED_LENGTH + 1];
    char role[ROLE_SIZE];
    int is_active;
} seen_user;

static const aic_memo_conf seen_conf = {.tag = "aichat_seen_users",
                                        .kind = AIC_CHANGES_USERS,
                                        .ttl = apr_time_from_sec(1),
                                        .max_entries = 4096};
static aic_memo *seen;

void aic_auth_child_init(apr_pool_t *pchild)
{
    seen = aic_memo_make(pchild, &seen_conf);
}

/* Copy a remembered user out into the aic_user out (in p). */
static int seen_copy(void *out, apr_pool_t *p, const void *value)
{
    struct aic_user *u = out;
    const seen_user *e = value;

    u->id = apr_pstrdup(p, e->id);
    u->role = apr_pstrdup(p, e->role);
    u->is_active = e->is_active;
    return 1;
}

static void *seen_keep(apr_pool_t *pool, void *old, const void *in, apr_size_t *added)
{
    const struct aic_user *u = in;
    seen_user *e = old ? old : apr_palloc(pool, sizeof(*e));

    *added = old ? 0 : sizeof(*e);
    apr_cpystrn(e->id, u->id, sizeof(e->id));
    apr_cpystrn(e->role, u->role, sizeof(e->role));
    e->is_active = u->is_active;
    return e;
}

/* The user r->user from memory (into r's pool), or NULL. */
static struct aic_user *seen_get(request_rec *r, const aic_memo_stamp *now)
{
    apr_pool_t *p = aic_original(r)->pool;
    struct aic_user *u = apr_pcalloc(p, sizeof(*u));

    if (!aic_memo_get(seen, r->user, now, seen_copy, u, p)) {
        return NULL;
    }
    u->username = r->user;
    u->loaded_by = USER_PLAIN;
    return u;
}

/* Remember u, read as stamp says. */
static void seen_put(const struct aic_user *u, const aic_memo_stamp *stamp)
{
    if (strlen(u->id) < APR_UUID_FORMATTED_LENGTH + 1 && strlen(u->role) < ROLE_SIZE) {
        aic_memo_put(seen, u->username, stamp, 0, seen_keep, u);
    }
}

apr_status_t aic_user_current(struct aic_user **user, request_rec *r, aic_db *db)
{
    return aic_user_current_with(user, r, db, NULL);
}

apr_status_t aic_user_current_with(struct aic_user **user, request_rec *r, aic_db *db,
                                   const char *label)
{
    aic_req *req = aic_req_get(r);
    const aic_server_conf *conf = aic_config_get(r->server);
    apr_status_t rv;
    aic_memo_stamp stamp;
    int stale = 0, remember;

    *user = NULL;
    label = label ? label : USER_PLAIN;
    /* Any statement's user serves a caller that needs no more than the plain one. */
    if (req->user && (!strcmp(label, USER_PLAIN) || !strcmp(label, req->user->loaded_by))) {
        *user = req->user;
        return APR_SUCCESS;
    }
    if (!r->user || !*r->user) {
        return APR_NOTFOUND;
    }
    remember = !strcmp(label, USER_PLAIN) && aic_memo_now(&stamp, seen);
    if (remember && (*user = seen_get(r, &stamp))) {
        req->user = *user;
        return APR_SUCCESS;
    }
    rv = load(user, &stale, r, db, label);
    if (rv == APR_NOTFOUND) {
        /* First request of a user another Apache module authenticated. */
        int created = 0;

        rv = aic_db_exec(
            &created, db, "auth_user_provision",
            AIC_ARGS(r->user, r->user,
                     apr_psprintf(r->pool, "%" APR_INT64_T_FMT, conf->default_credits)));
        if (rv == APR_SUCCESS) {
            if (created) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_aichat: provisioned user %s",
                              r->user);
                req->notes = "{\"provisioned\":true}";
            }
            rv = load(user, &stale, r, db, label);
        }
    } else if (rv == APR_SUCCESS && stale) {
        /* last_login_at is kept to the hour, so most requests write nothing. */
        rv = aic_db_exec(NULL, db, "auth_user_seen", AIC_ARGS((*user)->id));
    }
    if (rv == APR_SUCCESS) {
        req->user = *user;
        if (remember) {
            seen_put(*user, &stamp);
        }
    }
    return rv;
}

int aic_user_has_role(const struct aic_user *user, const char *role)
{
    return user && user->is_active && (!strcmp(user->role, "admin") || !strcmp(user->role, role));
}

/* Require aichat-role ROLE [ROLE ...] */
static authz_status check_role(request_rec *r, const char *require_line,
                               const void *parsed_require_line)
{
    aic_db *db = NULL;
    struct aic_user *user = NULL;
    apr_status_t rv;
    const char *roles = require_line, *role;

    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    if ((rv = aic_db_acquire(&db, r)) != APR_SUCCESS ||
        (rv = aic_user_current(&user, r, db)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "mod_aichat: aichat-role cannot look up %s: denied", r->user);
        return AUTHZ_DENIED;
    }
    while (*(role = ap_getword_white(r->pool, &roles))) {
        if (aic_user_has_role(user, role)) {
            return AUTHZ_GRANTED;
        }
    }
    return AUTHZ_DENIED;
}

static const char *parse_role(cmd_parms *cmd, const char *require_line,
                              const void **parsed_require_line)
{
    const char *line = require_line, *role;

    if (!*require_line) {
        return "Require aichat-role needs at least one role (user or admin)";
    }
    while (*(role = ap_getword_white(cmd->temp_pool, &line))) {
        if (strcmp(role, "user") && strcmp(role, "admin")) {
            return apr_psprintf(cmd->pool,
                                "Require aichat-role: unknown role '%s' (use user or "
                                "admin)",
                                role);
        }
    }
    return NULL;
}

static const authz_provider role_provider = {&check_role, &parse_role};

void aic_auth_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "aichat-role", AUTHZ_PROVIDER_VERSION,
                              &role_provider, AP_AUTH_INTERNAL_PER_CONF);
}

int aic_csrf_check(request_rec *r, int html)
{
    const aic_server_conf *conf = aic_config_get(r->server);

    if (!aic_csrf_unsafe_method(r->method) ||
        aic_csrf_allowed(apr_table_get(r->headers_in, "Origin"),
                         apr_table_get(r->headers_in, "Referer"),
                         apr_table_get(r->headers_in, "Host"), conf->public_url)) {
        return OK;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_aichat: refused a cross-site %s (Origin %s)",
                  r->method,
                  apr_table_get(r->headers_in, "Origin") ? "foreign" : "absent, Referer foreign");
    if (html) {
        aic_page_error(r, HTTP_FORBIDDEN, "This request came from another site and was refused.");
    } else {
        aic_send_error(r, HTTP_FORBIDDEN, "csrf_rejected",
                       "Cross-site requests may not change data.", NULL);
    }
    return HTTP_FORBIDDEN;
}

/* ---- sign-in redirects ----
 * mod_auth_form answers a sign-in (its handler, or a form posted to any page
 * it guards) with a redirect to the posted location, through httpd's error
 * path: the Location is only known as that answer goes out, so a filter
 * checks it there. A location that is not a path of this site becomes the
 * chat's start page, and the canned body naming the old one is dropped. */

#define SIGNIN_FILTER "AICHAT_SIGNIN"

static apr_status_t signin_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    const char *location = apr_table_get(r->headers_out, "Location");

    if (!f->ctx) {
        if (!ap_is_HTTP_REDIRECT(r->status) || !location || aic_csrf_same_site_path(location)) {
            ap_remove_output_filter(f);
            return ap_pass_brigade(f->next, bb);
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "mod_aichat: a sign-in asked to go to another site; sent to the start page");
        apr_table_setn(r->headers_out, "Location",
                       apr_pstrcat(r->pool, aic_config_get(r->server)->base_uri, "/", NULL));
        apr_table_unset(r->headers_out, "Content-Length");
        f->ctx = f;
    }
    for (apr_bucket *b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);) {
        apr_bucket *next = APR_BUCKET_NEXT(b);

        if (!APR_BUCKET_IS_METADATA(b)) {
            apr_bucket_delete(b);
        }
        b = next;
    }
    return ap_pass_brigade(f->next, bb);
}

static void signin_insert(request_rec *r)
{
    const char *type = ap_auth_type(r);

    if (type && !strcasecmp(type, "form")) {
        ap_add_output_filter(SIGNIN_FILTER, NULL, r, r->connection);
    }
}

void aic_signin_register(void)
{
    ap_register_output_filter(SIGNIN_FILTER, signin_filter, NULL, AP_FTYPE_CONTENT_SET);
    ap_hook_insert_error_filter(signin_insert, NULL, NULL, APR_HOOK_MIDDLE);
}
