/* The audit log for administrators: filtered and paged, as JSON under
 * /v1/admin/audit and as the audit page. */
#include "admin.h"
#include "httpd/aic_page.h"

#include <http_protocol.h>
#include <apr_strings.h>

#include "core/aic_valid.h"

typedef struct {
    const char *user, *action, *entity, *from, *to, *before;
    int limit;
} audit_query;

static const char *nonempty(const char *s)
{
    return (s && *s) ? s : NULL;
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
    return (aq->limit = aic_valid_limit(apr_table_get(args, "limit"), def, AIC_ADMIN_PAGE_MAX)) < 0
               ? "limit"
               : NULL;
}

static apr_status_t list_audit(aic_json **items, const char **next, aic_ctx *ctx,
                               const audit_query *aq)
{
    request_rec *r = ctx->r;
    const char *err = NULL;
    aic_rows rows;
    aic_json *filters = aic_json_object(r->pool);
    apr_status_t rv;

    aic_json_set_str(filters, "user", aq->user);
    aic_json_set_str(filters, "action", aq->action);
    aic_json_set_str(filters, "entity", aq->entity);
    aic_json_set_str(filters, "from", aq->from);
    aic_json_set_str(filters, "to", aq->to);
    aic_json_set_str(filters, "before", aq->before);
    rv = aic_db_select(&rows, ctx->db, "admin_audit",
                       AIC_ARGS(aic_json_dump(filters, r->pool), apr_itoa(r->pool, aq->limit)));

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

int aic_admin_api_audit(aic_ctx *ctx)
{
    audit_query aq;
    aic_json *items = NULL;
    const char *next = NULL, *bad = read_audit_query(&aq, aic_query_args(ctx->r), AIC_ADMIN_PAGE);
    apr_status_t rv;

    if (bad) {
        return aic_send_error(ctx->r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_psprintf(ctx->r->pool, "'%s' is not valid.", bad), bad);
    }
    rv = list_audit(&items, &next, ctx, &aq);
    return aic_admin_send_list(ctx->r, rv, items, next);
}

static const char *json_text(request_rec *r, const aic_json *v)
{
    return v ? aic_json_dump(v, r->pool) : "";
}

static void filter_input(request_rec *r, const char *label, const char *name, const char *type,
                         const char *value)
{
    ap_rprintf(r, "<label>%s <input type=\"%s\" name=\"%s\" value=\"%s\"></label>", label, type,
               name, aic_e(r, value));
}

int aic_admin_page_audit(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    audit_query aq;
    aic_json *items = NULL;
    const char *next = NULL, *base = aic_admin_base(ctx);
    const char *bad = read_audit_query(&aq, aic_query_args(r), AIC_ADMIN_PAGE);

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
