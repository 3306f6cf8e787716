/* Administration of users: list, enable or disable, change the role, grant
 * credits; as JSON under /v1/admin and as the users page. */
#include "admin.h"
#include "httpd/aic_page.h"

#include <http_protocol.h>
#include <apr_strings.h>

#include "core/aic_cursor.h"
#include "core/aic_valid.h"

/* The kind of the users list's cursors (core/aic_cursor.h). */
#define USERS_CURSOR "u"

typedef struct {
    const char *q, *after;
    int limit;
} user_query;

/* Validate query-string input; NULL when fine, else the offending field. */
static const char *read_user_query(user_query *uq, apr_table_t *args, int def, apr_pool_t *p)
{
    const char *after = apr_table_get(args, "after");

    uq->q = apr_table_get(args, "q");
    uq->q = uq->q ? uq->q : "";
    /* The cursor names the last username of the previous page. */
    uq->after = "";
    if (after && *after &&
        aic_cursor_decode(&uq->after, p, after, USERS_CURSOR, 1) != APR_SUCCESS) {
        return "after";
    }
    if (strlen(uq->q) > 255 || !aic_valid_utf8(uq->q, 255)) {
        return "q";
    }
    if (strlen(uq->after) > 255 || !aic_valid_utf8(uq->after, 255)) {
        return "after";
    }
    return (uq->limit = aic_valid_limit(apr_table_get(args, "limit"), def, AIC_ADMIN_PAGE_MAX)) < 0
               ? "limit"
               : NULL;
}

static apr_status_t list_users(aic_json **items, const char **next, aic_ctx *ctx,
                               const user_query *uq)
{
    request_rec *r = ctx->r;
    const char *pat = aic_like_contains(r->pool, uq->q), *err = NULL;
    aic_rows rows;
    apr_status_t rv =
        aic_db_select(&rows, ctx->db, "admin_users",
                      AIC_ARGS(uq->q, pat, pat, pat, uq->after, apr_itoa(r->pool, uq->limit)));

    *next = NULL;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (aic_json_parse(items, &err, r->pool, rows.cells[0], strlen(rows.cells[0]))) {
        return APR_EGENERAL;
    }
    if (atoi(rows.cells[1]) == uq->limit) {
        const char *last = aic_json_str(
            aic_json_get(aic_json_at(*items, aic_json_len(*items) - 1), "username"), r->pool);

        *next = aic_cursor_encode(r->pool, USERS_CURSOR, &last, 1);
    }
    return APR_SUCCESS;
}

int aic_admin_api_users(aic_ctx *ctx)
{
    user_query uq;
    aic_json *items = NULL;
    const char *next = NULL,
               *bad = read_user_query(&uq, aic_query_args(ctx->r), AIC_ADMIN_PAGE, ctx->r->pool);
    apr_status_t rv;

    if (bad) {
        return aic_send_error(ctx->r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_psprintf(ctx->r->pool, "'%s' is not valid.", bad), bad);
    }
    rv = list_users(&items, &next, ctx, &uq);
    return aic_admin_send_list(ctx->r, rv, items, next);
}

/* Apply is_active/role to a user; NULL values leave a field alone. Refuses
 * to let an administrator lock themselves out. */
static apr_status_t change_user(const char **user_json, const char **problem, aic_ctx *ctx,
                                const char *id, const char *is_active, const char *role)
{
    apr_array_header_t *fields = apr_array_make(ctx->r->pool, 2, sizeof(const char *));

    *problem = NULL;
    if (!aic_valid_uuid(id)) {
        return APR_NOTFOUND;
    }
    if (!strcasecmp(id, ctx->user->id) &&
        ((is_active && !strcmp(is_active, "false")) || (role && strcmp(role, "admin")))) {
        *problem = "You cannot disable or demote your own account.";
        return APR_EINVAL;
    }
    if (is_active) {
        APR_ARRAY_PUSH(fields, const char *) = "is_active";
    }
    if (role) {
        APR_ARRAY_PUSH(fields, const char *) = "role";
    }
    return aic_user_update(user_json, ctx, id, "admin_user_update", AIC_ARGS(is_active, role, id),
                           fields);
}

/* Delete an account softly (it cannot sign in; what it made is kept and
 * hidden from others) or restore it; never one's own. */
static apr_status_t set_deleted(const char **user_json, const char **problem, aic_ctx *ctx,
                                const char *id, int deleted)
{
    apr_array_header_t *fields = apr_array_make(ctx->r->pool, 1, sizeof(const char *));

    *problem = NULL;
    if (!aic_valid_uuid(id)) {
        return APR_NOTFOUND;
    }
    if (!strcasecmp(id, ctx->user->id)) {
        *problem = "You cannot delete or restore your own account.";
        return APR_EINVAL;
    }
    APR_ARRAY_PUSH(fields, const char *) = "deleted_at";
    return aic_user_update(user_json, ctx, id, deleted ? "admin_user_delete" : "admin_user_restore",
                           AIC_ARGS(id), fields);
}

/* DELETE /v1/admin/users/{id} and POST /v1/admin/users/{id}/restore. */
static int api_set_deleted(aic_ctx *ctx, int deleted)
{
    const char *updated = NULL, *problem = NULL;
    apr_status_t rv =
        set_deleted(&updated, &problem, ctx, apr_table_get(ctx->params, "id"), deleted);

    if (problem) {
        return aic_send_error(ctx->r, HTTP_CONFLICT, "cannot_change_self", problem, NULL);
    }
    if (rv != APR_SUCCESS) {
        return aic_user_update_failed(ctx->r, rv);
    }
    return aic_send_json_text(ctx->r, HTTP_OK, updated);
}

int aic_admin_api_user_delete(aic_ctx *ctx)
{
    return api_set_deleted(ctx, 1);
}

int aic_admin_api_user_restore(aic_ctx *ctx)
{
    return api_set_deleted(ctx, 0);
}

int aic_admin_api_user_patch(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *body = NULL, *v;
    const char *is_active = NULL, *role = NULL, *updated = NULL, *problem = NULL;
    apr_status_t rv;

    if (aic_read_json_object(&body, r) != OK) {
        return OK;
    }
    if (aic_refuse_unknown_fields(r, body, (const char *const[]){"is_active", "role", NULL},
                                  NULL) != OK) {
        return OK;
    }
    if (aic_json_has(body, "is_active")) {
        v = aic_json_get(body, "is_active");
        if (aic_json_typeof(v) != AIC_JSON_BOOL) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "is_active must be true or false.", "is_active");
        }
        is_active = aic_json_bool(v) ? "true" : "false";
    }
    if (aic_json_has(body, "role")) {
        role = aic_json_str(aic_json_get(body, "role"), r->pool);
        if (aic_valid_role(role)) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "role must be \"user\" or \"admin\".", "role");
        }
    }
    rv = change_user(&updated, &problem, ctx, apr_table_get(ctx->params, "id"), is_active, role);
    if (problem) {
        return aic_send_error(r, HTTP_CONFLICT, "cannot_change_self", problem, NULL);
    }
    if (rv != APR_SUCCESS) {
        return aic_user_update_failed(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, updated);
}

/* POST /v1/admin/users/{id}/credits {"amount", "note"?}: a grant, ledgered and audited. */
int aic_admin_api_user_credits(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *body = NULL, *v;
    const char *id = apr_table_get(ctx->params, "id"), *note = NULL, *updated = NULL, *amount;
    apr_array_header_t *fields = apr_array_make(r->pool, 1, sizeof(const char *));
    apr_status_t rv;

    if (aic_read_json_object(&body, r) != OK) {
        return OK;
    }
    if (aic_refuse_unknown_fields(r, body, (const char *const[]){"amount", "note", NULL},
                                  "grant") != OK) {
        return OK;
    }
    v = aic_json_get(body, "amount");
    if (aic_json_typeof(v) != AIC_JSON_INT || aic_json_int(v) < 1 ||
        aic_json_int(v) > APR_INT64_C(1000000000)) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "amount must be a whole number of credits from 1 to 1000000000.",
                              "amount");
    }
    amount = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, aic_json_int(v));
    if (aic_json_has(body, "note") &&
        aic_json_typeof(aic_json_get(body, "note")) != AIC_JSON_NULL) {
        const char *err = aic_valid_text(
            &note, r->pool, aic_json_str(aic_json_get(body, "note"), r->pool), 0, 500, 0);

        if (err) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  apr_pstrcat(r->pool, "note ", err, ".", NULL), "note");
        }
    }
    if (!aic_valid_uuid(id)) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such user.", NULL);
    }
    APR_ARRAY_PUSH(fields, const char *) = "token_credits";
    rv = aic_user_update(&updated, ctx, id, "admin_user_credit",
                         AIC_ARGS(amount, id, amount, ctx->user->id, note), fields);
    if (rv != APR_SUCCESS) {
        return aic_user_update_failed(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, updated);
}

int aic_admin_page_users(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    user_query uq;
    aic_json *items = NULL;
    const char *next = NULL, *base = aic_admin_base(ctx);
    const char *bad = read_user_query(&uq, aic_query_args(r), AIC_ADMIN_PAGE, r->pool);

    if (bad) {
        return aic_page_error(r, HTTP_UNPROCESSABLE_ENTITY,
                              apr_psprintf(r->pool, "The filter '%s' is not valid.", bad));
    }
    if (list_users(&items, &next, ctx, &uq) != APR_SUCCESS) {
        return aic_page_error(r, HTTP_SERVICE_UNAVAILABLE, "Users cannot be listed now.");
    }
    aic_page_begin(r, HTTP_OK, "Users", "users");
    ap_rprintf(r,
               "<form class=\"filters\" method=\"get\" action=\"%s/users\">"
               "<label>Search <input type=\"search\" name=\"q\" value=\"%s\"></label>"
               "<button type=\"submit\">Search</button></form>",
               aic_e(r, base), aic_e(r, uq.q));
    ap_rputs("<table><thead><tr><th>Username</th><th>Display name</th><th>E-mail</th>"
             "<th>Role</th><th>Status</th><th>Credits</th><th>Created</th><th>Actions</th>"
             "</tr></thead><tbody>",
             r);
    for (apr_size_t i = 0; i < aic_json_len(items); i++) {
        aic_json *u = aic_json_at(items, i);
        const char *id = aic_json_str(aic_json_get(u, "id"), r->pool);
        const char *role = aic_json_str(aic_json_get(u, "role"), r->pool);
        int active = aic_json_bool(aic_json_get(u, "is_active"));
        int deleted = aic_json_typeof(aic_json_get(u, "deleted_at")) != AIC_JSON_NULL;
        const char *action = apr_psprintf(r->pool, "%s/users/%s", aic_e(r, base), aic_e(r, id));

        ap_rprintf(r,
                   "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                   "<td>%" APR_INT64_T_FMT "</td><td>%s</td><td class=\"actions\">",
                   aic_e(r, aic_json_str(aic_json_get(u, "username"), r->pool)),
                   aic_e(r, aic_json_str(aic_json_get(u, "display_name"), r->pool)),
                   aic_e(r, aic_json_str(aic_json_get(u, "email"), r->pool)), aic_e(r, role),
                   deleted  ? "deleted"
                   : active ? "active"
                            : "disabled",
                   aic_json_int(aic_json_get(u, "token_credits")),
                   aic_e(r, aic_json_str(aic_json_get(u, "created_at"), r->pool)));
        ap_rprintf(r,
                   "<form method=\"post\" action=\"%s\"><input type=\"hidden\" name=\"action\" "
                   "value=\"%s\"><button type=\"submit\">%s</button></form>",
                   action, active ? "disable" : "enable", active ? "Disable" : "Enable");
        ap_rprintf(r,
                   "<form method=\"post\" action=\"%s\"><input type=\"hidden\" name=\"action\" "
                   "value=\"%s\"><button type=\"submit\">%s</button></form>",
                   action, deleted ? "restore" : "delete", deleted ? "Restore" : "Delete");
        ap_rprintf(r,
                   "<form method=\"post\" action=\"%s\"><input type=\"hidden\" name=\"action\" "
                   "value=\"role\"><select name=\"role\" aria-label=\"Role\">"
                   "<option value=\"user\"%s>user</option><option value=\"admin\"%s>admin</option>"
                   "</select><button type=\"submit\">Set role</button></form></td></tr>",
                   action, strcmp(role, "admin") ? " selected" : "",
                   strcmp(role, "admin") ? "" : " selected");
    }
    ap_rputs("</tbody></table>", r);
    if (next) {
        ap_rprintf(r, "<p class=\"pager\"><a href=\"%s/users?q=%s&amp;after=%s\">Next page</a></p>",
                   aic_e(r, base), aic_e(r, ap_escape_urlencoded(r->pool, uq.q)),
                   aic_e(r, ap_escape_urlencoded(r->pool, next)));
    }
    return aic_page_end(r);
}

/* The users page's answer to a change: back to the list, or what went wrong. */
static int page_changed(aic_ctx *ctx, apr_status_t rv, const char *problem)
{
    request_rec *r = ctx->r;

    if (problem) {
        return aic_page_error(r, HTTP_CONFLICT, problem);
    }
    if (rv == APR_NOTFOUND) {
        return aic_page_error(r, HTTP_NOT_FOUND, "No such user.");
    }
    if (rv != APR_SUCCESS) {
        return aic_page_error(r, HTTP_SERVICE_UNAVAILABLE, "The change could not be saved.");
    }
    return aic_page_redirect(r, apr_pstrcat(r->pool, aic_admin_base(ctx), "/users", NULL));
}

/* POST action=enable|disable|role|delete|restore (+ role=...) from the users page. */
int aic_admin_page_user_post(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_table_t *form = aic_page_form(r);
    const char *action, *role, *is_active = NULL, *updated = NULL, *problem = NULL;
    apr_status_t rv;

    if (!form) {
        return OK;
    }
    action = apr_table_get(form, "action");
    role = apr_table_get(form, "role");
    if (action && !strcmp(action, "enable")) {
        is_active = "true";
        role = NULL;
    } else if (action && !strcmp(action, "disable")) {
        is_active = "false";
        role = NULL;
    } else if (action && (!strcmp(action, "delete") || !strcmp(action, "restore"))) {
        rv = set_deleted(&updated, &problem, ctx, apr_table_get(ctx->params, "id"),
                         !strcmp(action, "delete"));
        return page_changed(ctx, rv, problem);
    } else if (!action || strcmp(action, "role") || aic_valid_role(role)) {
        return aic_page_error(r, HTTP_UNPROCESSABLE_ENTITY, "Unknown action or role.");
    }
    rv = change_user(&updated, &problem, ctx, apr_table_get(ctx->params, "id"), is_active, role);
    return page_changed(ctx, rv, problem);
}
