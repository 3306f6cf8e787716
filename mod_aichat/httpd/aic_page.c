#include "aic_page.h"
#include "aic_config.h"
#include "aic_http.h"

#include <http_protocol.h>
#include <util_script.h>
#include <apr_strings.h>

#include "core/aic_html.h"

/* The admin navigation: key (path under the admin area) and label. Later
 * capabilities add their page here. */
static const struct {
    const char *key;
    const char *label;
} nav[] = {{"", "Overview"},           {"users", "Users"}, {"catalog", "Catalog"},
           {"shares", "Shared links"}, {"usage", "Usage"}, {"keys", "API keys"},
           {"audit", "Audit log"}};

const char *aic_e(request_rec *r, const char *s)
{
    return aic_html_escape(r->pool, s);
}

void aic_page_begin(request_rec *r, int status, const char *title, const char *active)
{
    const char *base = aic_config_get(r->server)->base_uri;

    aic_retry_later(r, status);
    r->status = status;
    ap_set_content_type(r, "text/html; charset=utf-8");
    apr_table_setn(r->headers_out, "Content-Security-Policy",
                   "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                   "frame-ancestors 'none'; base-uri 'none'");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->headers_out, "Referrer-Policy", "same-origin");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
    ap_rprintf(r,
               "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
               "<title>%s · mod_aichat admin</title>"
               "<link rel=\"stylesheet\" href=\"%s/assets/admin.css\"></head><body>"
               "<header class=\"top\"><a class=\"brand\" href=\"%s/\">mod_aichat</a>"
               "<span class=\"area\">Administration</span>"
               "<span class=\"who\">%s</span></header><nav class=\"admin-nav\"><ul>",
               aic_e(r, title), aic_e(r, base), aic_e(r, base), aic_e(r, r->user));
    for (apr_size_t i = 0; i < sizeof(nav) / sizeof(nav[0]); i++) {
        ap_rprintf(r, "<li><a href=\"%s/admin/%s\"%s>%s</a></li>", aic_e(r, base), nav[i].key,
                   active && !strcmp(active, nav[i].key) ? " aria-current=\"page\"" : "",
                   nav[i].label);
    }
    ap_rprintf(r, "</ul></nav><main><h1>%s</h1>", aic_e(r, title));
}

int aic_page_end(request_rec *r)
{
    ap_rputs("</main></body></html>\n", r);
    return OK;
}

int aic_page_error(request_rec *r, int status, const char *message)
{
    aic_page_begin(r, status, ap_get_status_line(status) + 4, NULL);
    ap_rprintf(r, "<p class=\"error\">%s</p>", aic_e(r, message));
    return aic_page_end(r);
}

int aic_page_redirect(request_rec *r, const char *location)
{
    apr_table_setn(r->headers_out, "Location", location);
    apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
    r->status = HTTP_SEE_OTHER;
    return OK;
}

apr_table_t *aic_page_form(request_rec *r)
{
    apr_array_header_t *pairs = NULL;
    apr_table_t *form = apr_table_make(r->pool, 16);
    const char *ct = apr_table_get(r->headers_in, "Content-Type");

    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33)) {
        aic_page_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "This form must be posted from its page.");
        return NULL;
    }
    if (ap_parse_form_data(r, NULL, &pairs, 32, 65536) != OK) {
        aic_page_error(r, HTTP_BAD_REQUEST, "The form could not be read.");
        return NULL;
    }
    while (pairs && !apr_is_empty_array(pairs)) {
        ap_form_pair_t *pair = (ap_form_pair_t *)apr_array_pop(pairs);
        apr_off_t len = 0;
        apr_size_t size;
        char *value;

        apr_brigade_length(pair->value, 1, &len);
        size = (apr_size_t)len;
        value = apr_palloc(r->pool, size + 1);
        apr_brigade_flatten(pair->value, value, &size);
        value[size] = '\0';
        apr_table_setn(form, pair->name, value);
    }
    return form;
}
