#include "aic_handler.h"
#include "aic_page.h"

#include <http_protocol.h>
#include <http_log.h>
#include <apr_strings.h>

APLOG_USE_MODULE(aichat);

static apr_array_header_t *routers[2];

void aic_handler_reset(apr_pool_t *pconf)
{
    routers[AIC_ROUTER_API] = apr_array_make(pconf, 32, sizeof(const aic_route *));
    routers[AIC_ROUTER_ADMIN] = apr_array_make(pconf, 16, sizeof(const aic_route *));
}

void aic_handler_routes(aic_router_kind kind, const aic_route *table)
{
    for (const aic_route *route = table; route->method; route++) {
        APR_ARRAY_PUSH(routers[kind], const aic_route *) = route;
    }
}

/* Answer an error in the router's own format. */
static int fail(request_rec *r, aic_router_kind kind, int status, const char *code,
                const char *message)
{
    if (kind == AIC_ROUTER_ADMIN) {
        return aic_page_error(r, status, message);
    }
    return aic_send_error(r, status, code, message, NULL);
}

/* The database failed (rv): a page or the API's 503, both with Retry-After. */
static int db_unavailable(request_rec *r, aic_router_kind kind, apr_status_t rv)
{
    if (kind == AIC_ROUTER_ADMIN) {
        return aic_page_error(r, HTTP_SERVICE_UNAVAILABLE, AIC_DB_UNAVAILABLE_MESSAGE);
    }
    return aic_send_db_error(r, rv);
}

/* For an error document: whether the database answers now (a connection,
 * then a round trip on it, into *db). A refusal by Apache (mod_authn_dbd's
 * 401 or 500, Require aichat-role's 403) may only mean that it did not.
 * When the refused request already found it unreachable (the header
 * parser's connection failed), that is what the refusal comes from, even if
 * the database answers again by now (it was starting up). */
static apr_status_t db_answers(request_rec *r, aic_db **db)
{
    apr_status_t rv;

    if (aic_req_get(aic_original(r))->db_down) {
        return AIC_DB_EDOWN;
    }
    rv = aic_db_acquire(db, r);
    return rv == APR_SUCCESS ? aic_db_ping(*db) : rv;
}

/* ErrorDocument target for the admin pages: Require aichat-role denies when
 * it cannot look the user up, and mod_authn_dbd fails (500) when it cannot
 * check a password, so either while PostgreSQL is away is told as that. */
static int admin_error_document(request_rec *r)
{
    int status = aic_original(r)->status;
    aic_db *db = NULL;
    apr_status_t rv;

    if ((status == HTTP_FORBIDDEN || status == HTTP_INTERNAL_SERVER_ERROR) &&
        (rv = db_answers(r, &db)) != APR_SUCCESS) {
        return db_unavailable(r, AIC_ROUTER_ADMIN, rv);
    }
    return aic_page_error(r, status,
                          status == HTTP_FORBIDDEN ? "This area is for administrators."
                                                   : "This page cannot be shown.");
}

/* ErrorDocument target for the API: the envelope for the original status
 * (Apache's own 401/403 from authentication and Require). */
static int error_document(request_rec *r)
{
    request_rec *orig = aic_original(r);
    int status = orig->status;
    aic_db *db = NULL;
    apr_status_t rv;

    /* mod_authn_dbd answers 401 or 500 when PostgreSQL went away: say so. A
     * 401 without a user name checked no password, so the database is not
     * asked then. */
    if (((status == HTTP_UNAUTHORIZED && orig->user) || status == HTTP_FORBIDDEN ||
         status == HTTP_INTERNAL_SERVER_ERROR) &&
        (rv = db_answers(r, &db)) != APR_SUCCESS) {
        return aic_send_db_error(r, rv);
    }
    switch (status) {
    case HTTP_UNAUTHORIZED:
        return aic_send_error(r, status, "unauthenticated",
                              "Sign in first: this API needs credentials.", NULL);
    case HTTP_FORBIDDEN: {
        aic_user *user = NULL;

        if (aic_user_current(&user, r, db) == APR_SUCCESS && !user->is_active) {
            return aic_send_error(r, status, "user_disabled",
                                  "This account is disabled; ask an administrator.", NULL);
        }
        return aic_send_error(r, status, "forbidden", "You are not allowed to do this.", NULL);
    }
    case HTTP_NOT_FOUND:
        return aic_send_error(r, status, "not_found", "No such resource.", NULL);
    case HTTP_REQUEST_ENTITY_TOO_LARGE:
        return aic_send_error(r, status, "body_too_large", "The request body is too large.", NULL);
    default:
        return aic_send_error(r, status, status >= 500 ? "internal_error" : "http_error",
                              ap_get_status_line(status) + 4, NULL);
    }
}

/* The statement that loads the user for this endpoint (NULL: the plain one). */
static const char *user_stmt(const aic_endpoint *ep)
{
    return ep && (ep->flags & AIC_EP_USER) ? ((const aic_endpoint_user *)ep)->user_stmt : NULL;
}

/* A disabled account is refused everywhere, whatever it asks for. */
static int refuse_disabled(request_rec *r, aic_router_kind kind, const aic_endpoint *ep)
{
    aic_db *db = NULL;
    aic_user *user = NULL;

    if (aic_db_acquire(&db, r) != APR_SUCCESS ||
        aic_user_current_with(&user, r, db, user_stmt(ep)) != APR_SUCCESS || user->is_active) {
        return OK; /* the endpoint reports database trouble in its own way */
    }
    fail(r, kind, HTTP_FORBIDDEN, "user_disabled",
         "This account is disabled; ask an administrator.");
    return HTTP_FORBIDDEN;
}

static int dispatch(request_rec *r, aic_router_kind kind, const aic_route *route,
                    apr_table_t *params)
{
    const aic_endpoint *ep = route->target;
    aic_ctx ctx = {r, aic_config_get(r->server), NULL, NULL, params};
    apr_status_t rv;
    int rc;

    if ((rc = aic_csrf_check(r, kind == AIC_ROUTER_ADMIN)) != OK) {
        return OK;
    }
    if (ep->flags & AIC_EP_OWN_DB) {
        return ep->fn(&ctx);
    }
    if ((rv = aic_db_acquire(&ctx.db, r)) != APR_SUCCESS) {
        return db_unavailable(r, kind, rv);
    }
    if (!(ep->flags & AIC_EP_PUBLIC)) {
        rv = aic_user_current_with(&ctx.user, r, ctx.db, user_stmt(ep));
        if (rv == APR_NOTFOUND) {
            return fail(r, kind, HTTP_UNAUTHORIZED, "unauthenticated", "Sign in first.");
        }
        if (rv != APR_SUCCESS) {
            return db_unavailable(r, kind, rv);
        }
        if (!ctx.user->is_active) {
            return fail(r, kind, HTTP_FORBIDDEN, "user_disabled",
                        "This account is disabled; ask an administrator.");
        }
        if ((ep->flags & AIC_EP_ADMIN) && !aic_user_has_role(ctx.user, "admin")) {
            return fail(r, kind, HTTP_FORBIDDEN, "forbidden", "Administrators only.");
        }
    }
    rc = ep->fn(&ctx);
    /* An endpoint that bailed out mid-transaction leaves nothing half-applied. */
    aic_db_rollback(ctx.db);
    return rc;
}

static int route_request(request_rec *r, aic_router_kind kind, const char *prefix)
{
    apr_size_t n = strlen(prefix);
    const char *path;
    const aic_route *route = NULL;
    const char *allow = NULL;
    apr_table_t *params = apr_table_make(r->pool, 4);
    aic_route_result found;
    int rc;

    aic_request_id(r);
    if (strncmp(r->uri, prefix, n) || (r->uri[n] != '/' && r->uri[n] != '\0')) {
        return fail(r, kind, HTTP_NOT_FOUND, "not_found", "No such resource.");
    }
    path = r->uri[n] ? r->uri + n : "/";
    if (kind == AIC_ROUTER_API && r->prev && !strcmp(path, "/v1/_error")) {
        return error_document(r);
    }
    if (kind == AIC_ROUTER_ADMIN && r->prev && !strcmp(path, "/_error")) {
        return admin_error_document(r);
    }
    found = aic_route_find(&route, params, &allow, r->pool, routers[kind], r->method, path);
    if (r->user &&
        (rc = refuse_disabled(r, kind, found == AIC_ROUTE_FOUND ? route->target : NULL)) != OK) {
        return OK;
    }
    switch (found) {
    case AIC_ROUTE_FOUND:
        return dispatch(r, kind, route, params);
    case AIC_ROUTE_NO_METHOD:
        apr_table_setn(r->headers_out, "Allow", allow);
        return fail(r, kind, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                    apr_psprintf(r->pool, "%s is not allowed here; use %s.", r->method, allow));
    default:
        return fail(r, kind, HTTP_NOT_FOUND, "not_found", "No such resource.");
    }
}

int aic_handler(request_rec *r)
{
    const aic_server_conf *conf;

    if (!r->handler || strncmp(r->handler, "aichat-", 7)) {
        return DECLINED;
    }
    conf = aic_config_get(r->server);
    if (!strcmp(r->handler, "aichat-api")) {
        return route_request(r, AIC_ROUTER_API, apr_pstrcat(r->pool, conf->base_uri, "/api", NULL));
    }
    if (!strcmp(r->handler, "aichat-admin")) {
        return route_request(r, AIC_ROUTER_ADMIN,
                             apr_pstrcat(r->pool, conf->base_uri, "/admin", NULL));
    }
    return DECLINED;
}
