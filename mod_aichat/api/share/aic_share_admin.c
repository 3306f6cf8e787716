/* Administration of share links: every live share listed, any revoked, as
 * JSON under /v1/admin/shares and as the admin page. */
#include "share.h"
#include "httpd/aic_audit.h"
#include "httpd/aic_page.h"

#include <http_protocol.h>
#include <apr_strings.h>

#include "core/aic_valid.h"

/* Revoke any live share as an administrator: APR_NOTFOUND when none. */
static apr_status_t admin_revoke(aic_ctx *ctx, const char *id)
{
    const char *old_json = NULL, *new_json = NULL;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return APR_NOTFOUND;
    }
    if ((rv = aic_db_begin(ctx->db)) == APR_SUCCESS &&
        (rv = aic_db_value(&old_json, ctx->db, "share_admin_lock", AIC_ARGS(id))) == APR_SUCCESS &&
        (rv = aic_db_value(&new_json, ctx->db, "share_revoke", AIC_ARGS(id))) == APR_SUCCESS &&
        (rv = aic_audit_change(ctx->db, ctx->r, HTTP_NO_CONTENT, "revoke", "share", id, old_json,
                               new_json)) == APR_SUCCESS) {
        rv = aic_db_commit(ctx->db);
    }
    if (rv != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        aic_req_get(ctx->r)->audited = 0;
    }
    return rv;
}

static apr_status_t admin_list(aic_json **items, aic_ctx *ctx)
{
    aic_rows rows;
    apr_status_t rv = aic_db_select(&rows, ctx->db, "share_admin_list", 0, NULL);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    *items = aic_json_array(ctx->r->pool);
    for (int i = 0; i < rows.nrows; i++) {
        aic_json *share = aic_json_from(ctx->r->pool, rows.cells[i]);

        if (share) {
            aic_json_push(*items, share);
        }
    }
    return APR_SUCCESS;
}

/* GET /admin/shares: every live share (newest first, at most 100). */
int aic_share_admin_api_list(aic_ctx *ctx)
{
    aic_json *items = NULL, *out = aic_json_object(ctx->r->pool);
    apr_status_t rv = admin_list(&items, ctx);

    if (rv != APR_SUCCESS) {
        return aic_send_failure(ctx->r, rv);
    }
    aic_json_set(out, "items", items);
    return aic_send_json(ctx->r, HTTP_OK, out);
}

/* DELETE /admin/shares/{id} */
int aic_share_admin_api_revoke(aic_ctx *ctx)
{
    apr_status_t rv = admin_revoke(ctx, apr_table_get(ctx->params, "id"));

    if (rv == APR_NOTFOUND) {
        return aic_send_error(ctx->r, HTTP_NOT_FOUND, "not_found", "No such live share.", NULL);
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(ctx->r, rv);
    }
    ctx->r->status = HTTP_NO_CONTENT;
    apr_table_setn(ctx->r->headers_out, "X-Request-Id", aic_request_id(ctx->r));
    return OK;
}

static const char *admin_base(aic_ctx *ctx)
{
    return apr_pstrcat(ctx->r->pool, ctx->conf->base_uri, "/admin", NULL);
}

static const char *field(request_rec *r, const aic_json *obj, const char *key)
{
    return aic_e(r, aic_json_str(aic_json_get(obj, key), r->pool));
}

/* The admin page: live shares with their owner, dates and views, and Revoke. */
int aic_share_admin_page(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *items = NULL;

    if (admin_list(&items, ctx) != APR_SUCCESS) {
        return aic_page_error(r, HTTP_SERVICE_UNAVAILABLE, "Shares cannot be listed now.");
    }
    aic_page_begin(r, HTTP_OK, "Shared links", "shares");
    if (!aic_json_len(items)) {
        ap_rputs("<p>No conversation is shared at the moment.</p>", r);
        return aic_page_end(r);
    }
    ap_rputs("<table><thead><tr><th>Conversation</th><th>Owner</th><th>Who can open</th>"
             "<th>Created</th><th>Expires</th><th>Views</th><th>Actions</th></tr></thead><tbody>",
             r);
    for (apr_size_t i = 0; i < aic_json_len(items); i++) {
        aic_json *s = aic_json_at(items, i);
        const char *expires = aic_json_str(aic_json_get(s, "expires_at"), r->pool);

        ap_rprintf(r,
                   "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s%s</td>"
                   "<td>%" APR_INT64_T_FMT "</td><td class=\"actions\"><form method=\"post\" "
                   "action=\"%s/shares/%s/revoke\"><button type=\"submit\">Revoke</button></form>"
                   "</td></tr>",
                   field(r, s, "title"), field(r, s, "owner"),
                   aic_json_bool(aic_json_get(s, "is_public")) ? "anyone with the link"
                                                               : "signed-in users",
                   field(r, s, "created_at"), expires ? aic_e(r, expires) : "never",
                   aic_json_bool(aic_json_get(s, "expired")) ? " (expired)" : "",
                   aic_json_int(aic_json_get(s, "view_count")), aic_e(r, admin_base(ctx)),
                   field(r, s, "id"));
    }
    ap_rputs("</tbody></table>", r);
    return aic_page_end(r);
}

/* POST /shares/{id}/revoke from the admin page. */
int aic_share_admin_page_revoke(aic_ctx *ctx)
{
    apr_status_t rv = admin_revoke(ctx, apr_table_get(ctx->params, "id"));

    if (rv == APR_NOTFOUND) {
        return aic_page_error(ctx->r, HTTP_NOT_FOUND, "No such live share.");
    }
    if (rv != APR_SUCCESS) {
        return aic_page_error(ctx->r, HTTP_SERVICE_UNAVAILABLE, "The share could not be revoked.");
    }
    return aic_page_redirect(ctx->r, apr_pstrcat(ctx->r->pool, admin_base(ctx), "/shares", NULL));
}
