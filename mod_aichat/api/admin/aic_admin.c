/* Administration: users and the audit log, as JSON under /v1/admin and as
 * server-rendered pages under the admin area. Apache guards both with
 * `Require aichat-role admin`; every endpoint checks the role again. */
#include "api/aic_api.h"
#include "httpd/aic_page.h"

#include <http_protocol.h>
#include <util_script.h>
#include <apr_strings.h>

#include "core/aic_ids.h"
#include "core/aic_valid.h"

#define PAGE_SIZE 50
#define MAX_PAGE  100

const aic_stmt aic_admin_stmts[] = {
    {"admin_users",
     "SELECT coalesce(json_agg(user_json(u) ORDER BY u.username), '[]')::text, count(*)::text"
     " FROM (SELECT * FROM users WHERE (%s = '' OR username ILIKE %s"
     " OR coalesce(display_name, '') ILIKE %s OR coalesce(email, '') ILIKE %s)"
     " AND username > %s ORDER BY username LIMIT %s::int) u"},
    {"admin_user_update",
     "UPDATE users SET is_active = coalesce(%s::boolean, is_active), role = coalesce(%s, role),"
     " updated_at = now() WHERE id = %s::uuid RETURNING user_json(users)::text"},
    {"admin_audit",
     "SELECT coalesce(json_agg(json_build_object('id', a.id, 'created_at', a.created_at,"
     " 'username', a.username, 'method', a.method, 'uri', a.uri, 'status', a.status,"
     " 'ip_address', host(a.ip_address), 'user_agent', a.user_agent, 'request_id',"
     " a.request_id, 'duration_ms', a.duration_ms, 'entity_type', a.entity_type, 'entity_id',"
     " a.entity_id, 'action', a.action, 'old_values', a.old_values, 'new_values',"
     " a.new_values, 'metadata', a.metadata) ORDER BY a.id DESC), '[]')::text,"
     " count(*)::text, min(a.id)::text"
     " FROM (SELECT * FROM audit_logs WHERE (%s::text IS NULL OR username = %s)"
     " AND (%s::text IS NULL OR action = %s) AND (%s::text IS NULL OR entity_type = %s)"
     " AND (%s::date IS NULL OR created_at >= %s::date)"
     " AND (%s::date IS NULL OR created_at < %s::date + 1)"
     " AND (%s::bigint IS NULL OR id < %s::bigint) ORDER BY id DESC LIMIT %s::int) a"},
    {"admin_user_credit",
     "WITH u AS (UPDATE users SET token_credits = token_credits + %s::bigint, updated_at = now()"
     " WHERE id = %s::uuid RETURNING *), l AS (INSERT INTO credit_ledger (user_id, delta,"
     " balance_after, reason, granted_by, note) SELECT id, %s::bigint, token_credits, 'grant',"
     " %s::uuid, %s FROM u) SELECT user_json(ROW(u.*)::users)::text FROM u"},
    {"admin_overview",
     "SELECT json_build_object('users', count(*), 'active', count(*) FILTER (WHERE is_active),"
     " 'admins', count(*) FILTER (WHERE role = 'admin'), 'audit_24h', (SELECT count(*) FROM"
     " audit_logs WHERE created_at > now() - interval '1 day'))::text FROM users"},
    {NULL, NULL}};

/* ---- queries shared by the JSON API and the pages ---- */

typedef struct {
    const char *q, *after;
    int limit;
} user_query;

typedef struct {
    const char *user, *action, *entity, *from, *to, *before;
    int limit;
} audit_query;

static const char *nonempty(const char *s)
{
    return (s && *s) ? s : NULL;
}

/* Validate query-string input; NULL when fine, else the offending field. */
static const char *read_user_query(user_query *uq, apr_table_t *args, int def, apr_pool_t *p)
{
    const char *after = apr_table_get(args, "after");

    uq->q = apr_table_get(args, "q");
    uq->q = uq->q ? uq->q : "";
    /* The cursor is the last username of the previous page, hex-encoded. */
    uq->after = (after && *after) ? aic_hex_decode(p, after) : "";
    if (!uq->after) {
        return "after";
    }
    if (strlen(uq->q) > 255 || !aic_valid_utf8(uq->q, 255)) {
        return "q";
    }
    if (strlen(uq->after) > 255 || !aic_valid_utf8(uq->after, 255)) {
        return "after";
    }
    return (uq->limit = aic_valid_limit(apr_table_get(args, "limit"), def, MAX_PAGE)) < 0 ? "limit"
                                                                                          : NULL;
}

static const char *read_audit_query(audit_query *aq, apr_table_t *args, int def)
{
    static const char *const texts[] = {"user", "action", "entity"};
    const char **slots[] = {&aq->user, &aq->action, &aq->entity};

    for (int i = 0; i < 3; i++) {
        *slots[i] = nonempty(apr_table_get(args, texts[i]));
        if (*slots[i] && !aic_valid_utf8(*slots[i], 255)) {
            return texts[i];
        }
    }
    aq->from = nonempty(apr_table_get(args, "from"));
    aq->to = nonempty(apr_table_get(args, "to"));
    aq->before = nonempty(apr_table_get(args, "before"));
    if (aq->from && !aic_valid_date(aq->from)) {
        return "from";
    }
    if (aq->to && !aic_valid_date(aq->to)) {
        return "to";
    }
    if (aq->before && !aic_valid_id_cursor(aq->before)) {
        return "before";
    }
    return (aq->limit = aic_valid_limit(apr_table_get(args, "limit"), def, MAX_PAGE)) < 0 ? "limit"
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

        *next = aic_hex_encode(r->pool, last, strlen(last));
    }
    return APR_SUCCESS;
}

static apr_status_t list_audit(aic_json **items, const char **next, aic_ctx *ctx,
                               const audit_query *aq)
{
    request_rec *r = ctx->r;
    const char *err = NULL;
    aic_rows rows;
    apr_status_t rv = aic_db_select(&rows, ctx->db, "admin_audit",
                                    AIC_ARGS(aq->user, aq->user, aq->action, aq->action, aq->entity,
                                             aq->entity, aq->from, aq->from, aq->to, aq->to,
                                             aq->before, aq->before, apr_itoa(r->pool, aq->limit)));

    *next = NULL;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (aic_json_parse(items, &err, r->pool, rows.cells[0], strlen(rows.cells[0]))) {
        return APR_EGENERAL;
    }
    if (atoi(rows.cells[1]) == aq->limit) {
        *next = rows.cells[2];
    }
    return APR_SUCCESS;
}

/* ---- JSON API ---- */

static int send_list(request_rec *r, apr_status_t rv, aic_json *items, const char *next)
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

static int api_users(aic_ctx *ctx)
{
    user_query uq;
    aic_json *items = NULL;
    const char *next = NULL,
               *bad = read_user_query(&uq, aic_query_args(ctx->r), PAGE_SIZE, ctx->r->pool);
    apr_status_t rv;

    if (bad) {
        return aic_send_error(ctx->r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_psprintf(ctx->r->pool, "'%s' is not valid.", bad), bad);
    }
    rv = list_users(&items, &next, ctx, &uq);
    return send_list(ctx->r, rv, items, next);
}

static int api_audit(aic_ctx *ctx)
{
    audit_query aq;
    aic_json *items = NULL;
    const char *next = NULL, *bad = read_audit_query(&aq, aic_query_args(ctx->r), PAGE_SIZE);
    apr_status_t rv;

    if (bad) {
        return aic_send_error(ctx->r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_psprintf(ctx->r->pool, "'%s' is not valid.", bad), bad);
    }
    rv = list_audit(&items, &next, ctx, &aq);
    return send_list(ctx->r, rv, items, next);
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

static int api_user_patch(aic_ctx *ctx)
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
static int api_user_credits(aic_ctx *ctx)
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

/* ---- pages ---- */

static const char *admin_base(aic_ctx *ctx)
{
    return apr_pstrcat(ctx->r->pool, ctx->conf->base_uri, "/admin", NULL);
}

static const char *json_text(request_rec *r, const aic_json *v)
{
    return v ? aic_json_dump(v, r->pool) : "";
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
    return aic_page_end(r);
}

static int page_users(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    user_query uq;
    aic_json *items = NULL;
    const char *next = NULL, *base = admin_base(ctx);
    const char *bad = read_user_query(&uq, aic_query_args(r), PAGE_SIZE, r->pool);

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
        const char *action = apr_psprintf(r->pool, "%s/users/%s", aic_e(r, base), aic_e(r, id));

        ap_rprintf(r,
                   "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                   "<td>%" APR_INT64_T_FMT "</td><td>%s</td><td class=\"actions\">",
                   aic_e(r, aic_json_str(aic_json_get(u, "username"), r->pool)),
                   aic_e(r, aic_json_str(aic_json_get(u, "display_name"), r->pool)),
                   aic_e(r, aic_json_str(aic_json_get(u, "email"), r->pool)), aic_e(r, role),
                   active ? "active" : "disabled", aic_json_int(aic_json_get(u, "token_credits")),
                   aic_e(r, aic_json_str(aic_json_get(u, "created_at"), r->pool)));
        ap_rprintf(r,
                   "<form method=\"post\" action=\"%s\"><input type=\"hidden\" name=\"action\" "
                   "value=\"%s\"><button type=\"submit\">%s</button></form>",
                   action, active ? "disable" : "enable", active ? "Disable" : "Enable");
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

/* POST action=enable|disable|role (+ role=...) from the users page. */
static int page_user_post(aic_ctx *ctx)
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
    } else if (!action || strcmp(action, "role") || aic_valid_role(role)) {
        return aic_page_error(r, HTTP_UNPROCESSABLE_ENTITY, "Unknown action or role.");
    }
    rv = change_user(&updated, &problem, ctx, apr_table_get(ctx->params, "id"), is_active, role);
    if (problem) {
        return aic_page_error(r, HTTP_CONFLICT, problem);
    }
    if (rv == APR_NOTFOUND) {
        return aic_page_error(r, HTTP_NOT_FOUND, "No such user.");
    }
    if (rv != APR_SUCCESS) {
        return aic_page_error(r, HTTP_SERVICE_UNAVAILABLE, "The change could not be saved.");
    }
    return aic_page_redirect(r, apr_pstrcat(r->pool, admin_base(ctx), "/users", NULL));
}

static void filter_input(request_rec *r, const char *label, const char *name, const char *type,
                         const char *value)
{
    ap_rprintf(r, "<label>%s <input type=\"%s\" name=\"%s\" value=\"%s\"></label>", label, type,
               name, aic_e(r, value));
}

static int page_audit(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    audit_query aq;
    aic_json *items = NULL;
    const char *next = NULL, *base = admin_base(ctx);
    const char *bad = read_audit_query(&aq, aic_query_args(r), PAGE_SIZE);

    if (bad) {
        return aic_page_error(r, HTTP_UNPROCESSABLE_ENTITY,
                              apr_psprintf(r->pool, "The filter '%s' is not valid.", bad));
    }
    if (list_audit(&items, &next, ctx, &aq) != APR_SUCCESS) {
        return aic_page_error(r, HTTP_SERVICE_UNAVAILABLE, "The audit log cannot be read now.");
    }
    aic_page_begin(r, HTTP_OK, "Audit log", "audit");
    ap_rprintf(r, "<form class=\"filters\" method=\"get\" action=\"%s/audit\">", aic_e(r, base));
    filter_input(r, "User", "user", "text", aq.user);
    filter_input(r, "Action", "action", "text", aq.action);
    filter_input(r, "Entity", "entity", "text", aq.entity);
    filter_input(r, "From", "from", "date", aq.from);
    filter_input(r, "To", "to", "date", aq.to);
    ap_rputs("<button type=\"submit\">Filter</button></form>", r);
    ap_rputs("<table class=\"audit\"><thead><tr><th>Time</th><th>User</th><th>Request</th>"
             "<th>Status</th><th>Action</th><th>Entity</th><th>Old values</th>"
             "<th>New values</th><th>Client</th></tr></thead><tbody>",
             r);
    for (apr_size_t i = 0; i < aic_json_len(items); i++) {
        aic_json *a = aic_json_at(items, i);

        ap_rprintf(r,
                   "<tr><td>%s</td><td>%s</td><td><code>%s %s</code><br><small>%s</small></td>"
                   "<td>%" APR_INT64_T_FMT "</td><td>%s</td><td>%s %s</td>"
                   "<td><code>%s</code></td><td><code>%s</code></td><td>%s<br><small>%s</small>"
                   "</td></tr>",
                   aic_e(r, aic_json_str(aic_json_get(a, "created_at"), r->pool)),
                   aic_e(r, aic_json_str(aic_json_get(a, "username"), r->pool)),
                   aic_e(r, aic_json_str(aic_json_get(a, "method"), r->pool)),
                   aic_e(r, aic_json_str(aic_json_get(a, "uri"), r->pool)),
                   aic_e(r, aic_json_str(aic_json_get(a, "request_id"), r->pool)),
                   aic_json_int(aic_json_get(a, "status")),
                   aic_e(r, aic_json_str(aic_json_get(a, "action"), r->pool)),
                   aic_e(r, aic_json_str(aic_json_get(a, "entity_type"), r->pool)),
                   aic_e(r, aic_json_str(aic_json_get(a, "entity_id"), r->pool)),
                   aic_e(r, json_text(r, aic_json_get(a, "old_values"))),
                   aic_e(r, json_text(r, aic_json_get(a, "new_values"))),
                   aic_e(r, aic_json_str(aic_json_get(a, "ip_address"), r->pool)),
                   aic_e(r, aic_json_str(aic_json_get(a, "user_agent"), r->pool)));
    }
    ap_rputs("</tbody></table>", r);
    if (next) {
        const char *q = apr_psprintf(r->pool, "user=%s&action=%s&entity=%s&from=%s&to=%s&before=%s",
                                     ap_escape_urlencoded(r->pool, aq.user ? aq.user : ""),
                                     ap_escape_urlencoded(r->pool, aq.action ? aq.action : ""),
                                     ap_escape_urlencoded(r->pool, aq.entity ? aq.entity : ""),
                                     aq.from ? aq.from : "", aq.to ? aq.to : "", next);

        ap_rprintf(r, "<p class=\"pager\"><a href=\"%s/audit?%s\">Older entries</a></p>",
                   aic_e(r, base), aic_e(r, q));
    }
    return aic_page_end(r);
}

static const aic_endpoint ep_api_users = {api_users, AIC_EP_ADMIN};
static const aic_endpoint ep_api_user_patch = {api_user_patch, AIC_EP_ADMIN};
static const aic_endpoint ep_api_audit = {api_audit, AIC_EP_ADMIN};
static const aic_endpoint ep_api_user_credits = {api_user_credits, AIC_EP_ADMIN};
static const aic_endpoint ep_overview = {page_overview, AIC_EP_ADMIN};
static const aic_endpoint ep_users = {page_users, AIC_EP_ADMIN};
static const aic_endpoint ep_user_post = {page_user_post, AIC_EP_ADMIN};
static const aic_endpoint ep_audit = {page_audit, AIC_EP_ADMIN};

const aic_route aic_admin_api_routes[] = {
    {"GET", "/v1/admin/users", &ep_api_users},
    {"PATCH", "/v1/admin/users/{id}", &ep_api_user_patch},
    {"GET", "/v1/admin/audit", &ep_api_audit},
    {"POST", "/v1/admin/users/{id}/credits", &ep_api_user_credits},
    {NULL, NULL, NULL}};

const aic_route aic_admin_page_routes[] = {{"GET", "/", &ep_overview},
                                           {"GET", "/users", &ep_users},
                                           {"POST", "/users/{id}", &ep_user_post},
                                           {"GET", "/audit", &ep_audit},
                                           {NULL, NULL, NULL}};
