/* Rendering a share, the httpd side: the rows become a view that
 * core/aic_share_view.c renders as HTML or JSON; the page's security headers
 * (its Content-Security-Policy names the hash of the one inline style); the
 * answers for links that are gone. */
#include "share.h"

#include <http_protocol.h>
#include <apr_base64.h>
#include <apr_strings.h>

#include "core/aic_digest.h"
#include "core/aic_html_clean.h"
#include "core/aic_markdown.h"
#include "core/aic_share_view.h"

/* The page's Content-Security-Policy: its one inline style, nothing else. */
static const char *page_csp;

void aic_share_post_config(apr_pool_t *pconf)
{
    unsigned char sum[AIC_SHA256_LEN];
    apr_size_t len = strlen(aic_share_view_css);
    char b64[64];

    aic_markdown_init();
    aic_html_clean_init();
    if (aic_sha256(sum, 1, (const void *const[]){aic_share_view_css}, &len) != APR_SUCCESS) {
        page_csp = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
                   "form-action 'none'";
        return;
    }
    apr_base64_encode_binary(b64, sum, AIC_SHA256_LEN);
    page_csp = apr_pstrcat(pconf, "default-src 'none'; style-src 'sha256-", b64,
                           "'; img-src data:; frame-ancestors 'none'; base-uri 'none'; "
                           "form-action 'none'",
                           NULL);
}

/* The view of s with the messages share_messages read. */
static aic_share_view view_of(request_rec *r, const aic_share *s, const aic_rows *msgs)
{
    aic_share_message *list = apr_palloc(r->pool, sizeof(*list) * (apr_size_t)(msgs->nrows + 1));
    aic_share_view v = {s->title,
                        s->tools,
                        s->shared_on,
                        s->expires_on,
                        s->created_at,
                        s->expires_at,
                        !(s->is_public && s->indexable),
                        list,
                        msgs->nrows};

    for (int i = 0; i < msgs->nrows; i++) {
        const char **c = msgs->cells + i * msgs->ncols;

        list[i].sender_type = c[0];
        list[i].sender = c[1];
        list[i].content = c[2];
        list[i].created_at = c[3];
        list[i].notes = c[4];
        list[i].content_type = c[5];
    }
    return v;
}

const char *aic_share_body(request_rec *r, const aic_share *s, const aic_rows *msgs, int json,
                           const char *token)
{
    aic_share_view v = view_of(r, s, msgs);

    if (json) {
        return aic_json_dump(aic_share_view_json(r->pool, &v), r->pool);
    }
    return aic_share_view_html(r->pool, &v, aic_config_get(r->server)->base_uri, token);
}

void aic_share_security_headers(request_rec *r)
{
    apr_table_setn(r->headers_out, "Content-Security-Policy", page_csp);
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->headers_out, "Referrer-Policy", "no-referrer");
    apr_table_setn(r->headers_out, "X-Frame-Options", "DENY");
    apr_table_mergen(r->headers_out, "Vary", "Accept");
    apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
}

/* 404 (unknown, revoked or malformed: one answer for all) or 410 (expired). */
int aic_share_gone(request_rec *r, int status, int json)
{
    const char *heading =
        status == HTTP_GONE ? "This link has expired" : "This link does not exist";
    const char *text = status == HTTP_GONE
                           ? "The owner shared this conversation for a limited time, and that "
                             "time is over."
                           : "The shared conversation you are looking for was not found. The "
                             "link may be mistyped, or its owner may have stopped sharing it.";

    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (json) {
        return aic_send_error(r, status, status == HTTP_GONE ? "share_expired" : "not_found",
                              apr_pstrcat(r->pool, heading, ".", NULL), NULL);
    }
    r->status = status;
    ap_set_content_type(r, "text/html; charset=utf-8");
    ap_rvputs(r, aic_share_view_head(r->pool, heading, 1), "</head><body><main class=\"gone\"><h1>",
              heading, "</h1><p>", text, "</p></main></body></html>\n", NULL);
    return OK;
}
