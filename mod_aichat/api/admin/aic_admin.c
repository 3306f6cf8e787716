/* Administration: users and the audit log, as JSON under /v1/admin and as
 * server-rendered pages under the admin area. Apache guards both with
 * `Require aichat-role admin`; every endpoint checks the role again. This
 * file holds the route tables, the overview page (with the API usage of the
 * last 30 days that api/keys/ draws) and what the others share. */
#include "admin.h"
#include "api/keys/keys.h"
#include "httpd/aic_page.h"

#include <http_protocol.h>
#include <apr_strings.h>

int aic_admin_send_list(request_rec *r, apr_status_t rv, aic_json *items, const char *next)
{
    aic_json *body;

    if (rv != APR_SUCCESS) {
        return aic_user_update_failed(r, rv == APR_NOTFOUND ? APR_EGENERAL : rv);
    }
    body = aic_json_object(r->pool);
    aic_json_set(body, "items", items);
    aic_json_set_str(body, "next", next);
    return aic_send_json(r, HTTP_OK, body);
}

const char *aic_admin_base(aic_ctx *ctx)
{
    return apr_pstrcat(ctx->r->pool, ctx->conf->base_uri, "/admin", NULL);
}

static int page_overview(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *text = NULL, *err = NULL;
    aic_json *o = NULL;
    static const char *const keys[] = {"users", "active", "admins", "audit_24h"};
    static const char *const labels[] = {"Users", "Active users", "Administrators",
                                         "Audit rows, last 24 h"};

    if (aic_db_value(&text, ctx->db, "admin_overview", 0, NULL) != APR_SUCCESS ||
        aic_json_parse(&o, &err, r->pool, text, strlen(text)) != APR_SUCCESS) {
        return aic_page_error(r, HTTP_SERVICE_UNAVAILABLE, "The overview cannot be read now.");
    }
    aic_page_begin(r, HTTP_OK, "Overview", "");
    ap_rputs("<dl class=\"stats\">", r);
    for (int i = 0; i < 4; i++) {
        ap_rprintf(r, "<div><dt>%s</dt><dd>%" APR_INT64_T_FMT "</dd></div>", labels[i],
                   aic_json_int(aic_json_get(o, keys[i])));
    }
    ap_rputs("</dl>", r);
    aic_keys_usage_glance(ctx);
    return aic_page_end(r);
}

static const aic_endpoint ep_api_users = {aic_admin_api_users, AIC_EP_ADMIN};
static const aic_endpoint ep_api_user_patch = {aic_admin_api_user_patch, AIC_EP_ADMIN};
static const aic_endpoint ep_api_user_delete = {aic_admin_api_user_delete, AIC_EP_ADMIN};
static const aic_endpoint ep_api_user_restore = {aic_admin_api_user_restore, AIC_EP_ADMIN};
static const aic_endpoint ep_api_audit = {aic_admin_api_audit, AIC_EP_ADMIN};
static const aic_endpoint ep_api_user_credits = {aic_admin_api_user_credits, AIC_EP_ADMIN};
static const aic_endpoint ep_overview = {page_overview, AIC_EP_ADMIN};
static const aic_endpoint ep_users = {aic_admin_page_users, AIC_EP_ADMIN};
static const aic_endpoint ep_user_post = {aic_admin_page_user_post, AIC_EP_ADMIN};
static const aic_endpoint ep_audit = {aic_admin_page_audit, AIC_EP_ADMIN};

const aic_route aic_admin_api_routes[] = {
    {"GET", "/v1/admin/users", &ep_api_users},
    {"PATCH", "/v1/admin/users/{id}", &ep_api_user_patch},
    {"DELETE", "/v1/admin/users/{id}", &ep_api_user_delete},
    {"POST", "/v1/admin/users/{id}/restore", &ep_api_user_restore},
    {"GET", "/v1/admin/audit", &ep_api_audit},
    {"POST", "/v1/admin/users/{id}/credits", &ep_api_user_credits},
    {NULL, NULL, NULL}};

const aic_route aic_admin_page_routes[] = {{"GET", "/", &ep_overview},
                                           {"GET", "/users", &ep_users},
                                           {"POST", "/users/{id}", &ep_user_post},
                                           {"GET", "/audit", &ep_audit},
                                           {NULL, NULL, NULL}};
