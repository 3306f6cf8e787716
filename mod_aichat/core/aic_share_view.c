#include "aic_share_view.h"

#include <apr_strings.h>
#include <apr_tables.h>
#include <string.h>

#include "core/aic_html.h"
#include "core/aic_html_clean.h"
#include "core/aic_markdown.h"

/* The page's description (and its social cards'): the first message's text. */
#define DESCRIPTION_BYTES 200

const char aic_share_view_css[] =
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
    "pre.plain{white-space:pre-wrap;font:inherit}"
    "pre{overflow:auto;padding:.7rem;background:var(--card);border:1px solid var(--line);"
    "border-radius:.4rem}code{font:.9em ui-monospace,SFMono-Regular,Menlo,monospace}"
    "table{border-collapse:collapse;display:block;overflow:auto}th,td{border:1px solid "
    "var(--line);padding:.3rem .6rem}blockquote{margin:0;padding-left:1rem;border-left:3px "
    "solid var(--line);color:var(--muted)}a{color:var(--accent)}img{max-width:100%}"
    "footer{padding:1rem 1rem 3rem;border-top:1px solid var(--line);color:var(--muted);"
    "font-size:.9rem}.continue{display:inline-block;padding:.5rem .9rem;border-radius:.4rem;"
    "background:var(--accent);color:var(--bg);text-decoration:none;font-weight:600}"
    ".gone{text-align:center;padding:4rem 1rem}"
    ".notes{margin-top:.6rem;padding-top:.4rem;border-top:1px dashed var(--line);font-size:.9rem}"
    ".notes h3{margin:0;font-size:.8rem;color:var(--muted);text-transform:uppercase}"
    ".notes ul{margin:.3rem 0 0;padding-left:1.2rem}.notes p{margin:.2rem 0}"
    ".note-by{color:var(--muted)}"
    ".pages{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;justify-content:center;margin:1.2rem 0;"
    "color:var(--muted);font-size:.9rem}";

int aic_share_view_pages(int *first, int *count, const apr_size_t *sizes, int n, apr_size_t budget,
                         int page)
{
    int pages = 1, start = 0;
    apr_size_t used = 0;

    *first = 0;
    *count = 0;
    for (int i = 0; i < n; i++) {
        /* A message that does not fit starts the next page, unless it is the page's first. */
        if (i > start && (used > budget || sizes[i] > budget - used)) {
            if (pages == page) {
                *first = start;
                *count = i - start;
            }
            pages++;
            start = i;
            used = 0;
        }
        used += sizes[i];
    }
    if (pages == page && n > start) {
        *first = start;
        *count = n - start;
    }
    return pages;
}

static int is_html(const aic_share_message *msg)
{
    return msg->content_type && !strcmp(msg->content_type, "text/html");
}

/* A message's content as the page shows it. */
static const char *content_html(apr_pool_t *p, const aic_share_message *msg)
{
    const char *html;

    if (is_html(msg)) {
        return aic_html_clean(p, msg->content, msg->content ? strlen(msg->content) : 0);
    }
    html = aic_markdown_html(p, msg->content);
    return html ? html : aic_html_escape(p, msg->content);
}

/* The text of a message, for the page's description. */
static const char *content_text(apr_pool_t *p, const aic_share_message *msg)
{
    if (is_html(msg)) {
        return aic_html_text(p, msg->content, msg->content ? strlen(msg->content) : 0,
                             DESCRIPTION_BYTES);
    }
    return aic_markdown_text(p, msg->content, DESCRIPTION_BYTES);
}

static const char *title_of(const aic_share_view *v)
{
    return *v->title ? v->title : "Shared conversation";
}

aic_json *aic_share_view_json(apr_pool_t *p, const aic_share_view *v)
{
    aic_json *out = aic_json_object(p), *list = aic_json_array(p);
    aic_json *tools = aic_json_from(p, v->tools);

    aic_json_set_str(out, "title", title_of(v));
    aic_json_set(out, "models", tools ? tools : aic_json_array(p));
    for (int i = 0; i < v->nmessages; i++) {
        const aic_share_message *msg = &v->messages[i];
        aic_json *m = aic_json_object(p);

        aic_json_set_str(m, "role", strcmp(msg->sender_type, "ai") ? "user" : "ai");
        aic_json_set_str(m, "sender", msg->sender);
        aic_json_set_str(m, "content", msg->content);
        aic_json_set_str(m, "content_type",
                         msg->content_type ? msg->content_type : "text/markdown");
        aic_json_set_str(m, "created_at", msg->created_at);
        if (msg->notes) {
            aic_json_set(m, "annotations", aic_json_from(p, msg->notes));
        }
        aic_json_push(list, m);
    }
    aic_json_set(out, "messages", list);
    aic_json_set_str(out, "created_at", v->created_at);
    aic_json_set_str(out, "expires_at", *v->expires_at ? v->expires_at : NULL);
    return out;
}

/* A message's notes (JSON [{quote, note, author}], or NULL) as an aside, or "". */
static const char *notes_html(apr_pool_t *p, const char *notes)
{
    aic_json *list = notes ? aic_json_from(p, notes) : NULL;
    apr_array_header_t *out;

    if (!aic_json_len(list)) {
        return "";
    }
    out = apr_array_make(p, (int)aic_json_len(list) + 2, sizeof(const char *));
    APR_ARRAY_PUSH(out, const char *) = "<aside class=\"notes\"><h3>Notes</h3><ul>";
    for (apr_size_t i = 0; i < aic_json_len(list); i++) {
        aic_json *n = aic_json_at(list, i);

        APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(
            p, "<li><blockquote>", aic_html_escape(p, aic_json_str(aic_json_get(n, "quote"), p)),
            "</blockquote><p>", aic_html_escape(p, aic_json_str(aic_json_get(n, "note"), p)),
            " <span class=\"note-by\">— ",
            aic_html_escape(p, aic_json_str(aic_json_get(n, "author"), p)), "</span></p></li>",
            NULL);
    }
    APR_ARRAY_PUSH(out, const char *) = "</ul></aside>";
    return apr_array_pstrcat(p, out, 0);
}

/* The models' names joined for people. */
static const char *model_names(apr_pool_t *p, const aic_share_view *v)
{
    aic_json *tools = aic_json_from(p, v->tools);
    const char *names = "";

    for (apr_size_t i = 0; i < aic_json_len(tools); i++) {
        const char *name = aic_json_str(aic_json_get(aic_json_at(tools, i), "display_name"), p);

        names = apr_pstrcat(p, names, i ? ", " : "", name ? name : "", NULL);
    }
    return names;
}

static void meta(apr_array_header_t *out, apr_pool_t *p, const char *attr, const char *name,
                 const char *content)
{
    APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p, "<meta ", attr, "=\"", name, "\" content=\"",
                                                    aic_html_escape(p, content), "\">\n", NULL);
}

const char *aic_share_view_head(apr_pool_t *p, const char *title, int noindex)
{
    return apr_pstrcat(p,
                       "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
                       noindex ? "<meta name=\"robots\" content=\"noindex, nofollow\">\n" : "",
                       "<title>", aic_html_escape(p, title), "</title>\n<style>",
                       aic_share_view_css, "</style>\n", NULL);
}

/* The links between the pages of a long thread (the first page is the
 * link's own address), or "". */
static const char *pages_nav(apr_pool_t *p, const aic_share_view_place *at, const char *token)
{
    const char *earlier = "", *later = "";

    if (!at || at->pages < 2) {
        return "";
    }
    if (at->page > 1) {
        earlier = apr_pstrcat(p, "<a rel=\"prev\" href=\"",
                              at->page == 2 ? apr_pstrcat(p, "./", aic_html_escape(p, token), NULL)
                                            : apr_psprintf(p, "?page=%d", at->page - 1),
                              "\">Earlier messages</a>", NULL);
    }
    if (at->page < at->pages) {
        later =
            apr_psprintf(p, "<a rel=\"next\" href=\"?page=%d\">Later messages</a>", at->page + 1);
    }
    return apr_psprintf(p, "<nav class=\"pages\">%s<span>Page %d of %d</span>%s</nav>\n", earlier,
                        at->page, at->pages, later);
}

const char *aic_share_view_page(apr_pool_t *p, const aic_share_view *v,
                                const aic_share_view_place *at, const char *base_uri,
                                const char *token)
{
    apr_array_header_t *out = apr_array_make(p, 18 + 4 * v->nmessages, sizeof(const char *));
    const char *title = title_of(v), *names = model_names(p, v), *nav = pages_nav(p, at, token);
    const aic_share_message *lead = at && at->lead ? at->lead
                                    : v->nmessages ? &v->messages[0]
                                                   : NULL;
    const char *description = lead ? content_text(p, lead) : "";

    APR_ARRAY_PUSH(out, const char *) = aic_share_view_head(p, title, v->noindex);
    meta(out, p, "name", "description", description);
    meta(out, p, "property", "og:type", "article");
    meta(out, p, "property", "og:title", title);
    meta(out, p, "property", "og:description", description);
    meta(out, p, "property", "og:site_name", "mod_aichat");
    meta(out, p, "name", "twitter:card", "summary");
    meta(out, p, "name", "twitter:title", title);
    meta(out, p, "name", "twitter:description", description);
    APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(
        p, "</head><body>\n<header><p class=\"kicker\">Shared conversation</p><h1>",
        aic_html_escape(p, title), "</h1>\n<p class=\"meta\">",
        *names ? apr_pstrcat(p, "With ", aic_html_escape(p, names), " · ", NULL) : "", "Shared ",
        aic_html_escape(p, v->shared_on),
        *v->expires_on ? apr_pstrcat(p, " · Expires ", aic_html_escape(p, v->expires_on), NULL)
                       : "",
        "</p></header>\n<main>\n", nav, NULL);
    for (int i = 0; i < v->nmessages; i++) {
        const aic_share_message *msg = &v->messages[i];
        int ai = !strcmp(msg->sender_type, "ai");

        APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(
            p, "<article class=\"msg ", ai ? "ai" : "user", "\"><h2 class=\"who\">",
            ai ? aic_html_escape(p, msg->sender) : "User", "</h2><div class=\"body\">",
            content_html(p, msg), "</div>", notes_html(p, msg->notes), "</article>\n", NULL);
    }
    APR_ARRAY_PUSH(out, const char *) =
        apr_pstrcat(p, nav, "</main>\n<footer><p><a class=\"continue\" href=\"",
                    aic_html_escape(p, base_uri), "/#/fork/", token,
                    "\">Continue this conversation</a></p><p>Messages up to the moment the link "
                    "was shared. Answers were written by AI models and may be wrong.</p>"
                    "</footer>\n</body></html>\n",
                    NULL);
    return apr_array_pstrcat(p, out, 0);
}
