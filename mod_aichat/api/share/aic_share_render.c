/* Rendering a share: the page (HTML with its one inline style, Markdown
 * rendered on the server, everything escaped), its JSON variant, and the
 * answers for links that are gone. */
#include "share.h"

#include <http_protocol.h>
#include <apr_base64.h>
#include <apr_strings.h>

#include "core/aic_digest.h"
#include "core/aic_html.h"
#include "core/aic_markdown.h"

#define DESCRIPTION_BYTES 200

static const char page_css[] =
    ":root{color-scheme:light dark;--fg:#1d232b;--muted:#5b6674;--bg:#fff;--card:#f5f7fa;"
    "--line:#dde3ea;--accent:#2457c5}"
    "@media (prefers-color-scheme:dark){:root{--fg:#e6e9ee;--muted:#9aa5b4;--bg:#14171c;"
    "--card:#1d2229;--line:#2e3540;--accent:#7aa2ff}}"
    "*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);"
    "font:16px/1.55 system-ui,-apple-system,'Segoe UI',sans-serif}"
    "header,main,footer{max-width:52rem;margin:0 auto;padding:0 1rem}"
    "header{padding-top:2rem;border-bottom:1px solid var(--line)}"
    ".kicker{margin:0;color:var(--muted);font-size:.85rem;text-transform:uppercase;"
    "letter-spacing:.05em}h1{margin:.2rem 0 .4rem;font-size:1.6rem;overflow-wrap:anywhere}"
    ".meta{margin:0 0 1rem;color:var(--muted);font-size:.9rem}"
    ".msg{margin:1.2rem 0;padding:.8rem 1rem;border:1px solid var(--line);border-radius:.6rem}"
    ".msg.user{background:var(--card)}.who{margin:0 0 .3rem;font-size:.8rem;color:var(--muted);"
    "text-transform:uppercase;letter-spacing:.04em}.body{overflow-wrap:anywhere}"
    ".body>:first-child{margin-top:0}.body>:last-child{margin-bottom:0}"
    "pre{overflow:auto;padding:.7rem;background:var(--card);border:1px solid var(--line);"
    "border-radius:.4rem}code{font:.9em ui-monospace,SFMono-Regular,Menlo,monospace}"
    "table{border-collapse:collapse;display:block;overflow:auto}th,td{border:1px solid "
    "var(--line);padding:.3rem .6rem}blockquote{margin:0;padding-left:1rem;border-left:3px "
    "solid var(--line);color:var(--muted)}a{color:var(--accent)}img{max-width:100%}"
    "footer{padding:1rem 1rem 3rem;border-top:1px solid var(--line);color:var(--muted);"
    "font-size:.9rem}.continue{display:inline-block;padding:.5rem .9rem;border-radius:.4rem;"
    "background:var(--accent);color:var(--bg);text-decoration:none;font-weight:600}"
    ".gone{text-align:center;padding:4rem 1rem}";

/* The page's Content-Security-Policy: its one inline style, nothing else. */
static const char *page_csp;

void aic_share_post_config(apr_pool_t *pconf)
{
    unsigned char sum[AIC_SHA256_LEN];
    apr_size_t len = sizeof(page_css) - 1;
    char b64[64];

    aic_markdown_init();
    if (aic_sha256(sum, 1, (const void *const[]){page_css}, &len) != APR_SUCCESS) {
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

static const char *title_of(const aic_share *s)
{
    return *s->title ? s->title : "Shared conversation";
}

aic_json *aic_share_content_json(request_rec *r, const aic_share *s, const aic_rows *msgs)
{
    aic_json *out = aic_json_object(r->pool), *list = aic_json_array(r->pool);
    aic_json *tools = aic_json_from(r->pool, s->tools);

    aic_json_set_str(out, "title", title_of(s));
    aic_json_set(out, "models", tools ? tools : aic_json_array(r->pool));
    for (int i = 0; i < msgs->nrows; i++) {
        const char **c = msgs->cells + i * msgs->ncols;
        aic_json *m = aic_json_object(r->pool);

        aic_json_set_str(m, "role", strcmp(c[0], "ai") ? "user" : "ai");
        aic_json_set_str(m, "sender", c[1]);
        aic_json_set_str(m, "content", c[2]);
        aic_json_set_str(m, "created_at", c[3]);
        aic_json_push(list, m);
    }
    aic_json_set(out, "messages", list);
    aic_json_set_str(out, "created_at", s->created_at);
    aic_json_set_str(out, "expires_at", *s->expires_at ? s->expires_at : NULL);
    return out;
}

/* The models' names joined for people. */
static const char *model_names(request_rec *r, const aic_share *s)
{
    aic_json *tools = aic_json_from(r->pool, s->tools);
    const char *names = "";

    for (apr_size_t i = 0; i < aic_json_len(tools); i++) {
        const char *name =
            aic_json_str(aic_json_get(aic_json_at(tools, i), "display_name"), r->pool);

        names = apr_pstrcat(r->pool, names, i ? ", " : "", name ? name : "", NULL);
    }
    return names;
}

static void meta(apr_array_header_t *out, request_rec *r, const char *attr, const char *name,
                 const char *content)
{
    APR_ARRAY_PUSH(out, const char *) =
        apr_pstrcat(r->pool, "<meta ", attr, "=\"", name, "\" content=\"",
                    aic_html_escape(r->pool, content), "\">\n", NULL);
}

static const char *page_head(request_rec *r, const char *title, int noindex)
{
    return apr_pstrcat(r->pool,
                       "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
                       noindex ? "<meta name=\"robots\" content=\"noindex, nofollow\">\n" : "",
                       "<title>", aic_html_escape(r->pool, title), "</title>\n<style>", page_css,
                       "</style>\n", NULL);
}

const char *aic_share_render_html(request_rec *r, const aic_share *s, const aic_rows *msgs,
                                  const char *token)
{
    const aic_server_conf *conf = aic_config_get(r->server);
    apr_array_header_t *out = apr_array_make(r->pool, 16 + 4 * msgs->nrows, sizeof(const char *));
    const char *title = title_of(s), *names = model_names(r, s);
    const char *description =
        msgs->nrows ? aic_markdown_text(r->pool, msgs->cells[2], DESCRIPTION_BYTES) : "";

    APR_ARRAY_PUSH(out, const char *) = page_head(r, title, !(s->is_public && s->indexable));
    meta(out, r, "name", "description", description);
    meta(out, r, "property", "og:type", "article");
    meta(out, r, "property", "og:title", title);
    meta(out, r, "property", "og:description", description);
    meta(out, r, "property", "og:site_name", "mod_aichat");
    meta(out, r, "name", "twitter:card", "summary");
    meta(out, r, "name", "twitter:title", title);
    meta(out, r, "name", "twitter:description", description);
    APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(
        r->pool, "</head><body>\n<header><p class=\"kicker\">Shared conversation</p><h1>",
        aic_html_escape(r->pool, title), "</h1>\n<p class=\"meta\">",
        *names ? apr_pstrcat(r->pool, "With ", aic_html_escape(r->pool, names), " · ", NULL) : "",
        "Shared ", aic_html_escape(r->pool, s->shared_on),
        *s->expires_on
            ? apr_pstrcat(r->pool, " · Expires ", aic_html_escape(r->pool, s->expires_on), NULL)
            : "",
        "</p></header>\n<main>\n", NULL);
    for (int i = 0; i < msgs->nrows; i++) {
        const char **c = msgs->cells + i * msgs->ncols;
        int ai = !strcmp(c[0], "ai");
        const char *html = aic_markdown_html(r->pool, c[2]);

        APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(
            r->pool, "<article class=\"msg ", ai ? "ai" : "user", "\"><h2 class=\"who\">",
            ai ? aic_html_escape(r->pool, c[1]) : "User", "</h2><div class=\"body\">",
            html ? html : aic_html_escape(r->pool, c[2]), "</div></article>\n", NULL);
    }
    APR_ARRAY_PUSH(out, const char *) =
        apr_pstrcat(r->pool, "</main>\n<footer><p><a class=\"continue\" href=\"",
                    aic_html_escape(r->pool, conf->base_uri), "/#/fork/", token,
                    "\">Continue this conversation</a></p><p>Messages up to the moment the link "
                    "was shared. Answers were written by AI models and may be wrong.</p>"
                    "</footer>\n</body></html>\n",
                    NULL);
    return apr_array_pstrcat(r->pool, out, 0);
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
    ap_rvputs(r, page_head(r, heading, 1), "</head><body><main class=\"gone\"><h1>", heading,
              "</h1><p>", text, "</p></main></body></html>\n", NULL);
    return OK;
}
