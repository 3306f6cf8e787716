/* Rendering a share, the httpd side: the rows become a view that
 * core/aic_share_view.c renders as HTML or JSON; the page's security headers
 * (its Content-Security-Policy names the hash of the one inline style); the
 * answers for links that are gone. */
#include "share.h"

#include <http_protocol.h>
#include <apr_base64.h>
#include <apr_strings.h>

#include "core/aic_digest.h"
#include "core/aic_html.h"
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

/* The view of s with the messages share_messages read: those on the page
 * (and *lead, the thread's first, when it is there only for the description). */
static aic_share_view view_of(const aic_share_message **lead, request_rec *r, const aic_share *s,
                              const aic_rows *msgs)
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
                        0};

    *lead = NULL;
    for (int i = 0; i < msgs->nrows; i++) {
        const char **c = msgs->cells + i * msgs->ncols;
        aic_share_message *m = &list[v.nmessages];

        m->sender_type = c[0];
        m->sender = c[1];
        m->content = c[2];
        m->created_at = c[3];
        m->notes = c[4];
        m->content_type = c[5];
        if (c[6][0] == '1') {
            v.nmessages++;
        } else {
            /* Kept after the page's messages: the slot past them is free. */
            list[msgs->nrows] = *m;
            *lead = &list[msgs->nrows];
        }
    }
    return v;
}

const char *aic_share_body(request_rec *r, const aic_share *s, const aic_rows *msgs, int page,
                           int pages, const char *token)
{
    aic_share_view_place at = {NULL, page, pages};
    aic_share_view v = view_of(&at.lead, r, s, msgs);

    if (!page) {
        return aic_json_dump(aic_share_view_json(r->pool, &v), r->pool);
    }
    return aic_share_view_page(r->pool, &v, &at, aic_config_get(r->server)->base_uri, token);
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

/* A page past the end of a live share's thread, or a page parameter that is
 * not a page number: 404, with a link to the thread's start. */
int aic_share_no_page(request_rec *r, const char *token)
{
    const char *heading = "This page does not exist";

    apr_table_unset(r->headers_out, "ETag");
    apr_table_unset(r->headers_out, "Last-Modified");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    r->status = HTTP_NOT_FOUND;
    ap_set_content_type(r, "text/html; charset=utf-8");
    ap_rvputs(r, aic_share_view_head(r->pool, heading, 1), "</head><body><main class=\"gone\"><h1>",
              heading,
              "</h1><p>The shared conversation has no page of that number.</p>"
              "<p><a href=\"./",
              aic_html_escape(r->pool, token),
              "\">Read it from the start</a></p></main></body></html>\n", NULL);
    return OK;
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
