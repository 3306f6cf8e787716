/* Usage as JSON (GET /v1/usage, GET /v1/admin/usage), charts and files: everything that spent
 * credits (chat answers, summaries, API calls: keys_usage in sql/functions/keys.sql). A user's
 * tokens per day as a server-side SVG (GET /v1/usage/chart.svg), a user's and the site's usage
 * as CSV per day, kind, model or key, and for the site per user or provider too (GET
 * /v1/usage.csv, GET /v1/admin/usage.csv, ?by=), and the administrators' page (/admin/usage):
 * the last days at a glance as charts with their text alternative, then by kind, user, model,
 * provider (with its errors) and key. The last 30 days of the same page, shortened, are on the
 * administrators' overview (aic_keys_usage_glance). The administrators' keys page is
 * aic_keys.c's. */
#include "keys.h"
#include "httpd/aic_page.h"

#include <http_protocol.h>
#include <apr_strings.h>

#include "core/aic_chart.h"
#include "core/aic_valid.h"

#define DEFAULT_DAYS 30

/* ?days=N (1 to 366, default 30), or -1 after having answered 422. */
static int days_arg(request_rec *r, int html)
{
    int days = aic_valid_limit(apr_table_get(aic_query_args(r), "days"), DEFAULT_DAYS, 366);

    if (days < 1) {
        if (html) {
            aic_page_error(r, HTTP_UNPROCESSABLE_ENTITY,
                           "days must be a whole number from 1 to 366.");
        } else {
            aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                           "days must be a whole number from 1 to 366.", "days");
        }
    }
    return days;
}

/* A chart of one member of each day of usage (keys_usage's days). */
static const char *days_chart(request_rec *r, const aic_json *usage, const char *id,
                              const char *title, const char *unit, const char *member)
{
    aic_json *days = aic_json_get(usage, "days");
    int n = (int)aic_json_len(days);
    aic_chart_bar *bars = apr_pcalloc(r->pool, sizeof(*bars) * (apr_size_t)(n ? n : 1));

    for (int i = 0; i < n; i++) {
        aic_json *d = aic_json_at(days, (apr_size_t)i);

        bars[i].label = aic_json_str(aic_json_get(d, "day"), r->pool);
        bars[i].value = aic_json_int(aic_json_get(d, member));
    }
    return aic_chart_bars(r->pool, id, title, unit, bars, n);
}

/* The usage of viewer as JSON, or NULL after having answered the failure. */
static aic_json *usage_of(aic_ctx *ctx, const char *viewer, int days)
{
    const char *json = NULL;
    apr_status_t rv = aic_keys_usage(&json, ctx, viewer, days);
    aic_json *usage = rv == APR_SUCCESS ? aic_json_from(ctx->r->pool, json) : NULL;

    if (!usage) {
        aic_send_failure(ctx->r, rv == APR_SUCCESS ? APR_EGENERAL : rv);
    }
    return usage;
}

/* GET /v1/usage (a user's) and /v1/admin/usage (the site's) as JSON. */
static int usage_json(aic_ctx *ctx, const char *viewer)
{
    int days = days_arg(ctx->r, 0);
    const char *json = NULL;
    apr_status_t rv;

    if (days < 0) {
        return OK;
    }
    if ((rv = aic_keys_usage(&json, ctx, viewer, days)) != APR_SUCCESS) {
        return aic_send_failure(ctx->r, rv);
    }
    return aic_send_json_text(ctx->r, HTTP_OK, json);
}

static int my_usage(aic_ctx *ctx)
{
    return usage_json(ctx, ctx->user->id);
}

static int site_usage(aic_ctx *ctx)
{
    return usage_json(ctx, NULL);
}

/* GET /v1/usage/chart.svg: the user's tokens per day. */
static int usage_svg(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    int days = days_arg(r, 0);
    aic_json *usage;

    if (days < 0 || !(usage = usage_of(ctx, ctx->user->id, days))) {
        return OK;
    }
    ap_set_content_type(r, "image/svg+xml; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->headers_out, "Content-Security-Policy", "default-src 'none'");
    apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
    ap_rputs(days_chart(r, usage, "usage-tokens",
                        apr_psprintf(r->pool, "Tokens per day, last %d days", days), "tokens",
                        "tokens"),
             r);
    return OK;
}

/* What a CSV file is grouped by (?by=): the columns that name a row (the
 * names keys_usage_rows gives), whether the calls that failed are counted,
 * and whether only the site's file (an administrator's) may be grouped so. */
typedef struct {
    const char *by, *head;
    int errors, admin;
} grouping;

static const grouping groupings[] = {
    {"day", "day", 0, 0},       {"kind", "kind", 0, 0},
    {"model", "model", 0, 0},   {"key", "key_name,key_prefix,username", 0, 0},
    {"user", "username", 0, 1}, {"provider", "provider", 1, 1},
    {NULL, NULL, 0, 0}};

/* ?by= (day when absent), or NULL after having answered 422 (no such
 * grouping) or 403 (an administrators' grouping in a user's file). */
static const grouping *by_arg(request_rec *r, int site)
{
    const char *by = apr_table_get(aic_query_args(r), "by");

    if (!by) {
        return &groupings[0];
    }
    for (const grouping *g = groupings; g->by; g++) {
        if (!strcmp(g->by, by)) {
            if (g->admin && !site) {
                aic_send_error(r, HTTP_FORBIDDEN, "forbidden",
                               "Usage by user or provider is the site's: administrators only "
                               "(GET /v1/admin/usage.csv).",
                               "by");
                return NULL;
            }
            return g;
        }
    }
    aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                   site ? "by must be day, kind, model, key, user or provider."
                        : "by must be day, kind, model or key.",
                   "by");
    return NULL;
}

/* A text as a CSV field (RFC 4180): quoted when it holds a comma, a quote
 * or a line break; a text a spreadsheet would run as a formula (its first
 * character =, +, -, @, tab or CR) is led by a ' so that it stays text. */
static const char *csv_text(apr_pool_t *p, const char *s)
{
    int formula = s[0] && strchr("=+-@\t\r", s[0]);
    apr_size_t quotes = 0;
    char *out, *o;

    if (!formula && !strpbrk(s, ",\"\r\n")) {
        return s;
    }
    for (const char *c = s; *c; c++) {
        quotes += *c == '"';
    }
    o = out = apr_palloc(p, strlen(s) + quotes + 4);
    *o++ = '"';
    if (formula) {
        *o++ = '\'';
    }
    for (const char *c = s; *c; c++) {
        if (*c == '"') {
            *o++ = '"';
        }
        *o++ = *c;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* Usage as CSV, grouped as ?by= says: the names of the row, then calls,
 * (errors,) prompt and completion tokens, tokens (a summary's too, whose
 * split is not kept), credits. viewer NULL: the site's. */
static int usage_csv(aic_ctx *ctx, const char *viewer)
{
    request_rec *r = ctx->r;
    int days = days_arg(r, 0);
    const grouping *g;
    const char *json = NULL;
    aic_json *list = NULL;
    apr_status_t rv;

    if (days < 0 || !(g = by_arg(r, viewer == NULL))) {
        return OK;
    }
    rv = aic_db_value(&json, ctx->db, "keys_usage_rows",
                      AIC_ARGS(viewer, apr_itoa(r->pool, days), g->by));
    if (rv != APR_SUCCESS || !json || !(list = aic_json_from(r->pool, json))) {
        return aic_send_failure(r, rv == APR_SUCCESS ? APR_EGENERAL : rv);
    }
    ap_set_content_type(r, "text/csv; charset=utf-8");
    apr_table_setn(r->headers_out, "Content-Disposition",
                   apr_psprintf(r->pool, "attachment; filename=\"%s-usage-%s%d-days.csv\"",
                                viewer ? "my" : "site",
                                g == groupings ? "" : apr_pstrcat(r->pool, "by-", g->by, "-", NULL),
                                days));
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
    ap_rprintf(r, "%s,calls,%sprompt_tokens,completion_tokens,tokens,credits\r\n", g->head,
               g->errors ? "errors," : "");
    for (apr_size_t i = 0; i < aic_json_len(list); i++) {
        aic_json *row = aic_json_at(list, i), *names = aic_json_get(row, "names");

        for (apr_size_t j = 0; j < aic_json_len(names); j++) {
            const char *name = aic_json_str(aic_json_at(names, j), r->pool);

            ap_rprintf(r, "%s,", csv_text(r->pool, name ? name : ""));
        }
        ap_rprintf(r, "%" APR_INT64_T_FMT ",", aic_json_int(aic_json_get(row, "calls")));
        if (g->errors) {
            ap_rprintf(r, "%" APR_INT64_T_FMT ",", aic_json_int(aic_json_get(row, "errors")));
        }
        ap_rprintf(r,
                   "%" APR_INT64_T_FMT ",%" APR_INT64_T_FMT ",%" APR_INT64_T_FMT
                   ",%" APR_INT64_T_FMT "\r\n",
                   aic_json_int(aic_json_get(row, "prompt_tokens")),
                   aic_json_int(aic_json_get(row, "completion_tokens")),
                   aic_json_int(aic_json_get(row, "tokens")),
                   aic_json_int(aic_json_get(row, "credits")));
    }
    return OK;
}

static int my_csv(aic_ctx *ctx)
{
    return usage_csv(ctx, ctx->user->id);
}

static int site_csv(aic_ctx *ctx)
{
    return usage_csv(ctx, NULL);
}

/* One table of usage rows under a heading of level (2 or 3): name is the
 * member that names a row (name2 a second one in parentheses, or NULL);
 * errors adds that column; at most max rows (0: all). */
static void table(request_rec *r, int level, const char *caption, const char *heading,
                  const aic_json *rows, apr_size_t max, const char *name, const char *name2,
                  int errors)
{
    apr_size_t n = aic_json_len(rows);

    ap_rprintf(r, "<h%d>%s</h%d>", level, aic_e(r, caption), level);
    if (!n) {
        ap_rputs("<p>Nothing used credits.</p>", r);
        return;
    }
    if (max && n > max) {
        n = max;
    }
    ap_rprintf(r,
               "<table><thead><tr><th>%s</th><th>Calls</th>%s<th>Tokens</th><th>Credits</th>"
               "</tr></thead><tbody>",
               aic_e(r, heading), errors ? "<th>Errors</th>" : "");
    for (apr_size_t i = 0; i < n; i++) {
        aic_json *row = aic_json_at(rows, i);
        const char *second = name2 ? aic_json_str(aic_json_get(row, name2), r->pool) : NULL;

        ap_rprintf(r, "<tr><td>%s%s%s%s</td><td>%" APR_INT64_T_FMT "</td>",
                   aic_e(r, aic_json_str(aic_json_get(row, name), r->pool)), second ? " (" : "",
                   second ? aic_e(r, second) : "", second ? ")" : "",
                   aic_json_int(aic_json_get(row, "calls")));
        if (errors) {
            ap_rprintf(r, "<td>%" APR_INT64_T_FMT "</td>",
                       aic_json_int(aic_json_get(row, "errors")));
        }
        ap_rprintf(r, "<td>%" APR_INT64_T_FMT "</td><td>%" APR_INT64_T_FMT "</td></tr>",
                   aic_json_int(aic_json_get(row, "tokens")),
                   aic_json_int(aic_json_get(row, "credits")));
    }
    ap_rputs("</tbody></table>", r);
}

/* The table of usage by kind (keys_usage's kinds), each kind named in words. */
static void kinds_table(request_rec *r, int level, const aic_json *usage)
{
    static const struct {
        const char *kind, *label;
    } labels[] = {{"chat", "Chat answers"}, {"summary", "Summaries"}, {"api", "API calls"}};
    aic_json *kinds = aic_json_get(usage, "kinds");

    for (apr_size_t i = 0; i < aic_json_len(kinds); i++) {
        aic_json *row = aic_json_at(kinds, i);
        const char *kind = aic_json_str(aic_json_get(row, "kind"), r->pool);

        for (apr_size_t j = 0; kind && j < sizeof(labels) / sizeof(labels[0]); j++) {
            if (!strcmp(kind, labels[j].kind)) {
                aic_json_set_str(row, "label", labels[j].label);
            }
        }
    }
    table(r, level, "By kind", "Kind", kinds, 0, "label", NULL, 1);
}

/* The table of usage by API key (keys_usage's keys): its name, then its
 * prefix and owner in parentheses. */
static void keys_table(request_rec *r, const aic_json *usage)
{
    aic_json *keys = aic_json_get(usage, "keys");

    for (apr_size_t i = 0; i < aic_json_len(keys); i++) {
        aic_json *row = aic_json_at(keys, i);
        const char *owner = aic_json_str(aic_json_get(row, "username"), r->pool);

        aic_json_set_str(row, "whose",
                         apr_pstrcat(r->pool, aic_json_str(aic_json_get(row, "prefix"), r->pool),
                                     "…, ", owner ? owner : "(deleted)", NULL));
    }
    table(r, 2, "By API key", "Key", keys, 0, "name", "whose", 0);
}

/* The site's tokens per day (of every kind), as /admin/usage and
 * the overview draw it. */
static const char *tokens_chart(request_rec *r, const aic_json *usage, int days)
{
    return days_chart(r, usage, "site-tokens",
                      apr_psprintf(r->pool, "Tokens per day, last %d days", days), "tokens",
                      "tokens");
}

/* The links to the site's CSV files over days, one per grouping. */
static void csv_links(aic_ctx *ctx, int days)
{
    request_rec *r = ctx->r;
    const char *base = aic_e(r, ctx->conf->base_uri);

    ap_rputs("<p>Download as CSV:", r);
    for (const grouping *g = groupings; g->by; g++) {
        ap_rprintf(r, "%s <a href=\"%s/api/v1/admin/usage.csv?days=%d&amp;by=%s\">by %s</a>",
                   g == groupings ? "" : ",", base, days, g->by, g->by);
    }
    ap_rputs(".</p>", r);
}

/* /admin/usage: the site's API usage over ?days (30). */
static int admin_page(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    int days = days_arg(r, 1);
    const char *json = NULL;
    aic_json *usage = NULL;

    if (days < 0) {
        return OK;
    }
    if (aic_keys_usage(&json, ctx, NULL, days) != APR_SUCCESS ||
        !(usage = aic_json_from(r->pool, json))) {
        return aic_page_error(r, HTTP_SERVICE_UNAVAILABLE, "Usage cannot be read now.");
    }
    aic_page_begin(r, HTTP_OK, "Usage", "usage");
    ap_rprintf(r,
               "<p>Everything that spent credits in the last %d days: chat answers, summaries "
               "and calls through the OpenAI-compatible API (each one a call).</p>",
               days);
    csv_links(ctx, days);
    ap_rputs("<figure>", r);
    ap_rputs(tokens_chart(r, usage, days), r);
    ap_rputs("</figure><figure>", r);
    ap_rputs(days_chart(r, usage, "site-calls",
                        apr_psprintf(r->pool, "Calls per day, last %d days", days), "calls",
                        "calls"),
             r);
    ap_rputs("</figure>", r);
    kinds_table(r, 2, usage);
    table(r, 2, "Top users", "User", aic_json_get(usage, "users"), 0, "username", NULL, 0);
    table(r, 2, "By model", "Model", aic_json_get(usage, "models"), 0, "model", NULL, 0);
    table(r, 2, "By provider, with errors", "Provider", aic_json_get(usage, "providers"), 0,
          "provider", NULL, 1);
    keys_table(r, usage);
    return aic_page_end(r);
}

/* A figure of the glance: label and one member of keys_usage's totals. */
static void total(request_rec *r, const aic_json *totals, const char *label, const char *member)
{
    ap_rprintf(r, "<div><dt>%s</dt><dd>%" APR_INT64_T_FMT "</dd></div>", label,
               aic_json_int(aic_json_get(totals, member)));
}

void aic_keys_usage_glance(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *json = NULL;
    aic_json *usage = NULL, *totals;

    ap_rprintf(r,
               "<section aria-labelledby=\"usage-glance\"><h2 id=\"usage-glance\">"
               "Usage, last %d days</h2>",
               DEFAULT_DAYS);
    if (aic_keys_usage(&json, ctx, NULL, DEFAULT_DAYS) != APR_SUCCESS ||
        !(usage = aic_json_from(r->pool, json))) {
        ap_rputs("<p class=\"error\">Usage cannot be read now.</p></section>", r);
        return;
    }
    totals = aic_json_get(usage, "totals");
    ap_rputs("<dl class=\"stats\">", r);
    total(r, totals, "Calls", "calls");
    total(r, totals, "Tokens", "tokens");
    total(r, totals, "Credits", "credits");
    ap_rputs("</dl><figure>", r);
    ap_rputs(tokens_chart(r, usage, DEFAULT_DAYS), r);
    ap_rputs("</figure>", r);
    kinds_table(r, 3, usage);
    table(r, 3, "Top 5 users", "User", aic_json_get(usage, "users"), 5, "username", NULL, 0);
    table(r, 3, "Errors by provider", "Provider", aic_json_get(usage, "providers"), 0, "provider",
          NULL, 1);
    ap_rprintf(r,
               "<p><a href=\"%s/admin/usage\">All of the site's usage</a>: by kind, user, model, "
               "provider and API key, over up to 366 days.</p>",
               aic_e(r, ctx->conf->base_uri));
    csv_links(ctx, DEFAULT_DAYS);
    ap_rputs("</section>", r);
}

static const aic_endpoint ep_usage = {my_usage, 0};
static const aic_endpoint ep_site_usage = {site_usage, AIC_EP_ADMIN};
static const aic_endpoint ep_svg = {usage_svg, 0};
static const aic_endpoint ep_csv = {my_csv, 0};
static const aic_endpoint ep_site_csv = {site_csv, AIC_EP_ADMIN};
static const aic_endpoint ep_admin_page = {admin_page, AIC_EP_ADMIN};

const aic_route aic_keys_usage_routes[] = {{"GET", "/v1/usage", &ep_usage},
                                           {"GET", "/v1/admin/usage", &ep_site_usage},
                                           {"GET", "/v1/usage/chart.svg", &ep_svg},
                                           {"GET", "/v1/usage.csv", &ep_csv},
                                           {"GET", "/v1/admin/usage.csv", &ep_site_csv},
                                           {NULL, NULL, NULL}};

static const aic_endpoint ep_keys_page = {aic_keys_admin_page, AIC_EP_ADMIN};
static const aic_endpoint ep_keys_page_revoke = {aic_keys_admin_page_revoke, AIC_EP_ADMIN};

const aic_route aic_keys_page_routes[] = {{"GET", "/usage", &ep_admin_page},
                                          {"GET", "/keys", &ep_keys_page},
                                          {"POST", "/keys/{id}/revoke", &ep_keys_page_revoke},
                                          {NULL, NULL, NULL}};
