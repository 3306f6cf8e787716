/* The page behind a share link (handler aichat-share): the conversation up to
 * its snapshot, Markdown rendered on the server, as HTML or as JSON. Public
 * shares open anywhere the handler is set; signed-in shares only under
 * BASE/shared/ for an authenticated user. Unknown, revoked and malformed
 * tokens get the same 404; expired links a 410. Each process remembers the
 * shares it served (until any transaction commits in this httpd, or for a
 * second) and their rendered pages (keyed by a version the database
 * computes); every view is counted and audited through the process's batch
 * writer. So a view of a page in memory costs no database round trip. */
#include "api/aic_api.h"
#include "httpd/aic_audit.h"
#include "httpd/aic_batch.h"

#include <http_protocol.h>
#include <http_request.h>
#include <http_log.h>
#include <apr_base64.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "core/aic_digest.h"
#include "core/aic_html.h"
#include "core/aic_markdown.h"
#include "core/aic_share_token.h"

APLOG_USE_MODULE(aichat);

#define DESCRIPTION_BYTES 200
#define CACHE_ENTRIES     1024
#define CACHE_BYTES       (16 * 1024 * 1024)
#define CACHE_ENTRY_MAX   (1024 * 1024)
#define SHARE_RECHECK     apr_time_from_sec(1) /* for changes made outside this httpd */
#define VIEWS_EVERY       apr_time_from_msec(100)
#define VIEWS_BATCH       1000 /* views that wake the writer early */

/* The tools of a conversation as [{slug, display_name}], in their order. */
#define SHARE_TOOLS(CONV)                                                                          \
    "(SELECT coalesce(json_agg(json_build_object('slug', t.slug, 'display_name',"                  \
    " t.display_name) ORDER BY m.position), '[]'::json)::text FROM conversation_ai_models m"       \
    " JOIN ai_tools t ON t.id = m.tool_id WHERE m.conversation_id = " CONV ")"

/* A live share by token hash, with what the page needs and its version:
 * everything shown that can change (title, models, share settings) is in it. */
#define SHARE_OPEN                                                                                 \
    "SELECT s.id::text, s.is_public::int, s.indexable::int,"                                       \
    " coalesce((extract(epoch FROM s.expires_at) * 1000000)::bigint, 0)::text,"                    \
    " s.snapshot_message_id::text, c.title, x.tools,"                                              \
    " md5(concat_ws('|', s.id, s.updated_at, c.title, x.tools)),"                                  \
    " extract(epoch FROM greatest(s.updated_at, c.updated_at))::bigint::text,"                     \
    " to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),"                                     \
    " coalesce(to_char(s.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"'), ''),"       \
    " to_json(s.created_at)#>>'{}', coalesce(to_json(s.expires_at)#>>'{}', '')"                    \
    " FROM shared_chats s JOIN conversations c ON c.id = s.conversation_id"                        \
    " CROSS JOIN LATERAL (SELECT " SHARE_TOOLS(                                                    \
        "c.id") " AS tools) x"                                                                     \
                " WHERE s.token_hash = %s AND s.revoked_at IS NULL AND c.deleted_at IS NULL"

const aic_stmt aic_share_page_stmts[] = {
    {"share_open", SHARE_OPEN},
    {"share_messages",
     "SELECT (t.msg).sender_type, CASE (t.msg).sender_type WHEN 'ai' THEN coalesce((SELECT"
     " a.display_name FROM ai_tools a WHERE a.id = (t.msg).sender_tool_id), 'Assistant') END,"
     " (t.msg).content, to_json((t.msg).created_at)#>>'{}'"
     " FROM share_thread(%s::uuid) t ORDER BY t.depth DESC"},
    /* A batch of views (aic_batch): counted and audited in one statement. */
    {"share_views_record", "SELECT share_views_record(%s::json)::text"},
    {NULL, NULL}};

/* A live share as found by its token. */
typedef struct {
    const char *id, *snapshot, *title, *tools, *version;
    int is_public, indexable;
    apr_time_t expires, mtime;           /* expires 0: never */
    const char *shared_on, *expires_on;  /* dates for people; expires_on "" = never */
    const char *created_at, *expires_at; /* ISO for JSON; expires_at "" = never */
} share;

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

/* ---- the per-process cache: shares by token hash, rendered bodies ---- */

typedef struct {
    const char *version;
    const char *body;
    apr_size_t len;
} cached;

/* A share as read from the database, the change count before that read,
 * and when. */
typedef struct {
    share s;
    apr_uint32_t changes;
    apr_time_t read_at;
} known;

static struct {
    apr_pool_t *pool;
    apr_thread_mutex_t *lock;
    apr_hash_t *bodies, *shares;
    apr_size_t bytes;
} cache;

/* This process's views, on their way to the database. */
static aic_batch *views;

/* Empty the cache (under its lock). */
static void start_over(void)
{
    apr_pool_clear(cache.pool);
    cache.bodies = apr_hash_make(cache.pool);
    cache.shares = apr_hash_make(cache.pool);
    cache.bytes = 0;
}

/* Make room for len more bytes (under the lock): a full cache starts over,
 * and the hot shares come back first. */
static void make_room(apr_size_t len)
{
    if (apr_hash_count(cache.bodies) + apr_hash_count(cache.shares) >= CACHE_ENTRIES ||
        cache.bytes + len > CACHE_BYTES) {
        start_over();
    }
}

void aic_share_child_init(apr_pool_t *pchild, server_rec *s)
{
    /* NULL under prefork: views are then written with the request. */
    views = aic_batch_start(pchild, s, "share_views_record", VIEWS_EVERY, VIEWS_BATCH);
    if (apr_thread_mutex_create(&cache.lock, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS ||
        apr_pool_create(&cache.pool, pchild) != APR_SUCCESS) {
        cache.lock = NULL;
        return;
    }
    start_over();
}

/* A copy (in p) of the body cached under key at version, or NULL. */
static const char *cache_get(apr_size_t *len, apr_pool_t *p, const char *key, const char *version)
{
    const cached *c;
    const char *copy = NULL;

    if (!cache.lock || apr_thread_mutex_lock(cache.lock) != APR_SUCCESS) {
        return NULL;
    }
    c = apr_hash_get(cache.bodies, key, APR_HASH_KEY_STRING);
    if (c && !strcmp(c->version, version)) {
        copy = apr_pstrmemdup(p, c->body, c->len);
        *len = c->len;
    }
    apr_thread_mutex_unlock(cache.lock);
    return copy;
}

/* Keep body under key. */
static void cache_put(const char *key, const char *version, const char *body, apr_size_t len)
{
    cached *c;

    if (!cache.lock || len > CACHE_ENTRY_MAX || apr_thread_mutex_lock(cache.lock) != APR_SUCCESS) {
        return;
    }
    make_room(len);
    c = apr_hash_get(cache.bodies, key, APR_HASH_KEY_STRING);
    if (!c) {
        c = apr_palloc(cache.pool, sizeof(*c));
        apr_hash_set(cache.bodies, apr_pstrdup(cache.pool, key), APR_HASH_KEY_STRING, c);
    }
    /* A replaced body stays in the pool until the next start-over. */
    c->version = apr_pstrdup(cache.pool, version);
    c->body = apr_pstrmemdup(cache.pool, body, len);
    c->len = len;
    cache.bytes += len;
    apr_thread_mutex_unlock(cache.lock);
}

static void share_copy(share *to, const share *from, apr_pool_t *p)
{
    *to = *from;
    to->id = apr_pstrdup(p, from->id);
    to->snapshot = apr_pstrdup(p, from->snapshot);
    to->title = apr_pstrdup(p, from->title);
    to->tools = apr_pstrdup(p, from->tools);
    to->version = apr_pstrdup(p, from->version);
    to->shared_on = apr_pstrdup(p, from->shared_on);
    to->expires_on = apr_pstrdup(p, from->expires_on);
    to->created_at = apr_pstrdup(p, from->created_at);
    to->expires_at = apr_pstrdup(p, from->expires_at);
}

/* The share remembered under hash, into s (copied into p), while nothing
 * was committed since it was read and for at most SHARE_RECHECK. */
static int known_get(share *s, apr_pool_t *p, const char *hash, apr_uint32_t changes)
{
    const known *k;
    int found = 0;

    if (!cache.lock || apr_thread_mutex_lock(cache.lock) != APR_SUCCESS) {
        return 0;
    }
    k = apr_hash_get(cache.shares, hash, APR_HASH_KEY_STRING);
    if (k && k->changes == changes && apr_time_now() - k->read_at < SHARE_RECHECK) {
        share_copy(s, &k->s, p);
        found = 1;
    }
    apr_thread_mutex_unlock(cache.lock);
    return found;
}

static void known_put(const char *hash, const share *s, apr_uint32_t changes, apr_time_t read_at)
{
    known *k;

    if (!cache.lock || apr_thread_mutex_lock(cache.lock) != APR_SUCCESS) {
        return;
    }
    make_room(0);
    k = apr_hash_get(cache.shares, hash, APR_HASH_KEY_STRING);
    if (!k) {
        k = apr_palloc(cache.pool, sizeof(*k));
        apr_hash_set(cache.shares, apr_pstrdup(cache.pool, hash), APR_HASH_KEY_STRING, k);
    }
    share_copy(&k->s, s, cache.pool);
    k->changes = changes;
    k->read_at = read_at;
    apr_thread_mutex_unlock(cache.lock);
}

/* ---- finding and rendering a share ---- */

static void share_from_row(share *s, const char **c)
{
    s->id = c[0];
    s->is_public = c[1][0] == '1';
    s->indexable = c[2][0] == '1';
    s->expires = (apr_time_t)apr_atoi64(c[3]);
    s->snapshot = c[4];
    s->title = c[5];
    s->tools = c[6];
    s->version = c[7];
    s->mtime = apr_time_from_sec(apr_atoi64(c[8]));
    s->shared_on = c[9];
    s->expires_on = c[10];
    s->created_at = c[11];
    s->expires_at = c[12];
}

static int expired(const share *s)
{
    return s->expires && apr_time_now() >= s->expires;
}

/* The live share behind a token (well formed): APR_NOTFOUND when unknown or
 * revoked. From this process's memory while no transaction was committed in
 * this httpd since it was read (changes made elsewhere, by another server or
 * by hand, are seen within SHARE_RECHECK); else from the database, acquiring
 * *db when it is NULL. */
static apr_status_t find(share *s, aic_db **db, request_rec *r, const char *token)
{
    const char *hash = aic_share_token_hash(r->pool, token);
    apr_uint32_t changes = 0;
    int shared = aic_db_changes(AIC_CHANGES_ANY, &changes);
    apr_time_t read_at = apr_time_now();
    aic_rows rows;
    apr_status_t rv;

    if (shared && known_get(s, r->pool, hash, changes)) {
        return APR_SUCCESS;
    }
    if (!*db && (rv = aic_db_acquire(db, r)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = aic_db_select(&rows, *db, "share_open", AIC_ARGS(hash))) != APR_SUCCESS) {
        return rv;
    }
    if (rows.nrows == 0) {
        return APR_NOTFOUND;
    }
    share_from_row(s, rows.cells);
    if (shared) {
        known_put(hash, s, changes, read_at);
    }
    return APR_SUCCESS;
}

/* Queue the view and its audit row for this process's writer, or (without
 * one, or when it has too many waiting) write them now. */
static void record_view(request_rec *r, aic_db **db, const share *s, int status)
{
    const char *values[16], *text, *written = NULL;
    aic_json *row = aic_json_array(r->pool);

    aic_audit_values(values, r, apr_itoa(r->pool, status), "view", "share", s->id, NULL, NULL);
    aic_json_push_str(row, s->id);
    aic_json_push_str(row, apr_psprintf(r->pool, "%" APR_TIME_T_FMT, apr_time_now()));
    for (int i = 0; i < 16; i++) {
        aic_json_push_str(row, values[i]);
    }
    text = aic_json_dump(row, r->pool);
    if (aic_batch_add(views, text) ||
        ((*db || aic_db_acquire(db, r) == APR_SUCCESS) &&
         aic_db_value(&written, *db, "share_views_record",
                      AIC_ARGS(apr_pstrcat(r->pool, "[", text, "]", NULL))) == APR_SUCCESS)) {
        aic_req_get(r)->audited = 1;
    }
}

static const char *title_of(const share *s)
{
    return *s->title ? s->title : "Shared conversation";
}

static aic_json *content_json(request_rec *r, const share *s, const aic_rows *msgs)
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
static const char *model_names(request_rec *r, const share *s)
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

static const char *render_html(request_rec *r, const share *s, const aic_rows *msgs,
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

/* ---- responses ---- */

static void security_headers(request_rec *r)
{
    apr_table_setn(r->headers_out, "Content-Security-Policy", page_csp);
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->headers_out, "Referrer-Policy", "no-referrer");
    apr_table_setn(r->headers_out, "X-Frame-Options", "DENY");
    apr_table_mergen(r->headers_out, "Vary", "Accept");
    apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
}

/* 404 (unknown, revoked or malformed: one answer for all) or 410 (expired). */
static int gone(request_rec *r, int status, int json)
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

/* The request asks for JSON rather than the page. */
static int wants_json(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");

    return accept && ap_strcasestr(accept, "application/json") && !ap_strcasestr(accept, "html");
}

/* The share's body as the request wants it, from the cache or rendered now. */
static apr_status_t body_of(const char **body, apr_size_t *len, request_rec *r, aic_db **db,
                            const share *s, int json, const char *token)
{
    const char *key = apr_pstrcat(r->pool, s->id, json ? "/json" : "/html", NULL);
    aic_rows msgs;
    apr_status_t rv;

    if ((*body = cache_get(len, r->pool, key, s->version))) {
        return APR_SUCCESS;
    }
    if ((!*db && (rv = aic_db_acquire(db, r)) != APR_SUCCESS) ||
        (rv = aic_db_select(&msgs, *db, "share_messages", AIC_ARGS(s->snapshot))) != APR_SUCCESS) {
        return rv;
    }
    *body =
        json ? aic_json_dump(content_json(r, s, &msgs), r->pool) : render_html(r, s, &msgs, token);
    *len = strlen(*body);
    cache_put(key, s->version, *body, *len);
    return APR_SUCCESS;
}

/* ETag, Last-Modified, caching and indexing headers of a share's answer. */
static void validators(request_rec *r, const share *s, int json)
{
    apr_table_setn(r->headers_out, "ETag",
                   apr_pstrcat(r->pool, "\"", s->version, json ? "-json" : "", "\"", NULL));
    apr_table_setn(r->headers_out, "Cache-Control",
                   s->is_public ? "public, no-cache" : "private, no-cache");
    if (!(s->is_public && s->indexable)) {
        apr_table_setn(r->headers_out, "X-Robots-Tag", "noindex, nofollow");
    }
    ap_update_mtime(r, s->mtime);
    ap_set_last_modified(r);
}

static int share_page(request_rec *r)
{
    const aic_server_conf *conf = aic_config_get(r->server);
    const char *signed_in_prefix = apr_pstrcat(r->pool, conf->base_uri, "/shared/", NULL);
    const char *token = strrchr(r->uri, '/'), *body = NULL;
    int json = wants_json(r), signed_in, status;
    apr_size_t len = 0;
    aic_db *db = NULL;
    aic_user *user = NULL;
    share s;
    apr_status_t rv;

    aic_request_id(r);
    security_headers(r);
    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return aic_send_error(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                              "Share links answer GET and HEAD only.", NULL);
    }
    token = token ? token + 1 : "";
    aic_audit_redact(r, token);
    signed_in = r->user && !strncmp(r->uri, signed_in_prefix, strlen(signed_in_prefix));
    if (!aic_share_token_valid(token)) {
        return gone(r, HTTP_NOT_FOUND, json);
    }
    if (signed_in) {
        if ((rv = aic_db_acquire(&db, r)) != APR_SUCCESS ||
            (rv = aic_user_current(&user, r, db)) != APR_SUCCESS) {
            return aic_send_failure(r, rv);
        }
        if (!user->is_active) {
            return aic_send_error(r, HTTP_FORBIDDEN, "user_disabled",
                                  "This account is disabled; ask an administrator.", NULL);
        }
    }
    rv = find(&s, &db, r, token);
    if (rv == APR_NOTFOUND || (rv == APR_SUCCESS && !s.is_public && !signed_in)) {
        return gone(r, HTTP_NOT_FOUND, json);
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if (expired(&s)) {
        return gone(r, HTTP_GONE, json);
    }
    validators(r, &s, json);
    status = ap_meets_conditions(r);
    if (status != OK && status != HTTP_NOT_MODIFIED) {
        return status;
    }
    /* A 304 is a view too. */
    record_view(r, &db, &s, status == OK ? HTTP_OK : status);
    if (status == HTTP_NOT_MODIFIED) {
        return status;
    }
    if ((rv = body_of(&body, &len, r, &db, &s, json, token)) != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    ap_set_content_type(r, json ? "application/json" : "text/html; charset=utf-8");
    ap_set_content_length(r, len);
    ap_rwrite(body, (int)len, r);
    return OK;
}

int aic_share_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, "aichat-share")) {
        return DECLINED;
    }
    return share_page(r);
}

/* GET /v1/shares/{token}: what a share holds, for a signed-in user (any share). */
int aic_share_api_content(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *token = apr_table_get(ctx->params, "token"), *body = NULL;
    apr_size_t len = 0;
    share s;
    apr_status_t rv;

    aic_audit_redact(r, token);
    rv = aic_share_token_valid(token) ? find(&s, &ctx->db, r, token) : APR_NOTFOUND;

    if (rv == APR_NOTFOUND) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "This link does not exist.", NULL);
    }
    if (rv == APR_SUCCESS && expired(&s)) {
        return aic_send_error(r, HTTP_GONE, "share_expired", "This link has expired.", NULL);
    }
    if (rv != APR_SUCCESS ||
        (rv = body_of(&body, &len, r, &ctx->db, &s, 1, token)) != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, body);
}
