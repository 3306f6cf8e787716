/* Usage as JSON (GET /v1/usage, GET /v1/admin/usage), charts and files: a user's tokens per day as
 * a server-side SVG (GET /v1/usage/chart.svg), a user's and the site's usage per day as CSV (GET
 * /v1/usage.csv, GET /v1/admin/usage.csv), and the administrators' page (/admin/usage): the last
 * days at a glance as charts with their text alternative, then by user, model, provider (with its
 * errors) and key. */
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
                              const char *title, const char *unit, const char *member,
                              const char *plus)
{
    aic_json *days = aic_json_get(usage, "days");
    int n = (int)aic_json_len(days);
    aic_chart_bar *bars = apr_pcalloc(r->pool, sizeof(*bars) * (apr_size_t)(n ? n : 1));

    for (int i = 0; i < n; i++) {
        aic_json *d = aic_json_at(days, (apr_size_t)i);

        bars[i].label = aic_json_str(aic_json_get(d, "day"), r->pool);
        bars[i].value = aic_json_int(aic_json_get(d, member)) +
                        (plus ? aic_json_int(aic_json_get(d, plus)) : 0);
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
                        "prompt_tokens", "completion_tokens"),
             r);
    return OK;
}

/* Usage per day as CSV: day, calls, prompt and completion tokens, credits. */
static int usage_csv(aic_ctx *ctx, const char *viewer)
{
    request_rec *r = ctx->r;
    int days = days_arg(r, 0);
    aic_json *usage, *list;

    if (days < 0 || !(usage = usage_of(ctx, viewer, days))) {
        return OK;
    }
    ap_set_content_type(r, "text/csv; charset=utf-8");
    apr_table_setn(r->headers_out, "Content-Disposition",
                   apr_psprintf(r->pool, "attachment; filename=\"%s-usage-%d-days.csv\"",
                                viewer ? "my" : "site", days));
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
    ap_rputs("day,calls,prompt_tokens,completion_tokens,credits\r\n", r);
    list = aic_json_get(usage, "days");
    for (apr_size_t i = 0; i < aic_json_len(list); i++) {
        aic_json *d = aic_json_at(list, i);

        /* Only dates and numbers: nothing a spreadsheet could read as a formula. */
        ap_rprintf(r,
                   "%s,%" APR_INT64_T_FMT ",%" APR_INT64_T_FMT ",%" APR_INT64_T_FMT
                   ",%" APR_INT64_T_FMT "\r\n",
                   aic_json_str(aic_json_get(d, "day"), r->pool),
                   aic_json_int(aic_json_get(d, "calls")),
                   aic_json_int(aic_json_get(d, "prompt_tokens")),
                   aic_json_int(aic_json_get(d, "completion_tokens")),
                   aic_json_int(aic_json_get(d, "credits")));
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

/* One table of usage rows: name is the member that names a row (name2 a
 * second one in parentheses, or NULL); errors adds that column. */
static void table(request_rec *r, const char *caption, const char *heading, const aic_json *rows,
                  const char *name, const char *name2, int errors)
{
    ap_rprintf(r, "<h2>%s</h2>", aic_e(r, caption));
    if (!aic_json_len(rows)) {
        ap_rputs("<p>No calls.</p>", r);
        return;
    }
    ap_rprintf(r,
               "<table><thead><tr><th>%s</th><th>Calls</th>%s<th>Tokens</th><th>Credits</th>"
               "</tr></thead><tbody>",
               aic_e(r, heading), errors ? "<th>Errors</th>" : "");
    for (apr_size_t i = 0; i < aic_json_len(rows); i++) {
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
    aic_page_begin(r, HTTP_OK, "API usage", "usage");
    ap_rprintf(r,
               "<p>Calls through the OpenAI-compatible API in the last %d days. "
               "<a href=\"%s/api/v1/admin/usage.csv?days=%d\">Download as CSV</a>.</p>",
               days, aic_e(r, ctx->conf->base_uri), days);
    ap_rputs("<figure>", r);
    ap_rputs(days_chart(r, usage, "site-tokens",
                        apr_psprintf(r->pool, "Tokens per day, last %d days", days), "tokens",
                        "prompt_tokens", "completion_tokens"),
             r);
    ap_rputs("</figure><figure>", r);
    ap_rputs(days_chart(r, usage, "site-calls",
                        apr_psprintf(r->pool, "Calls per day, last %d days", days), "calls",
                        "calls", NULL),
             r);
    ap_rputs("</figure>", r);
    table(r, "Top users", "User", aic_json_get(usage, "users"), "username", NULL, 0);
    table(r, "By model", "Model", aic_json_get(usage, "models"), "model", NULL, 0);
    table(r, "By provider, with errors", "Provider", aic_json_get(usage, "providers"), "provider",
          NULL, 1);
    table(r, "By key", "Key", aic_json_get(usage, "keys"), "name", "prefix", 0);
    return aic_page_end(r);
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

const aic_route aic_keys_page_routes[] = {{"GET", "/usage", &ep_admin_page}, {NULL, NULL, NULL}};
