/* The page behind a share link (handler aichat-share): the conversation up to
 * its snapshot, Markdown rendered on the server, as HTML a page at a time
 * (?page=N, from 1; each at most AIC_SHARE_PAGE_BYTES of content or one
 * message) or whole as JSON. Public
 * shares open anywhere the handler is set; signed-in shares only under
 * BASE/shared/ for an authenticated user. Unknown, revoked and malformed
 * tokens get the same 404; expired links a 410; a page the thread does not
 * have, or a page parameter that is no page number, a 404 of its own. Each
 * process remembers the shares it served (until any transaction commits in
 * this httpd, or for a second) and their rendered pages (keyed by a version
 * the database computes, and the page); every request for a page (a 304
 * too) is a view, counted and audited through the process's batch writer.
 * So a view of a page in memory costs no database round trip. */
#include "share.h"
#include "httpd/aic_audit.h"
#include "httpd/aic_batch.h"
#include "httpd/aic_memo.h"

#include <http_protocol.h>
#include <http_request.h>
#include <http_log.h>
#include <apr_strings.h>
#include <limits.h>
#include <stdlib.h>

#include "core/aic_share_token.h"
#include "core/aic_share_view.h"

APLOG_USE_MODULE(aichat);

#define CACHE_ENTRIES 1024
/* A page is kept up to PAGE_BYTES, in at most CACHE_BYTES per process: each
 * page of a long thread is read and rendered once, not on every view. A page
 * holds at most AIC_SHARE_PAGE_BYTES of content, or one message, so pages
 * fit; the JSON variant (the whole thread) is kept when it fits. */
#define CACHE_BYTES   (64 * 1024 * 1024)
#define PAGE_BYTES    (8 * 1024 * 1024)
#define SHARE_RECHECK apr_time_from_sec(1) /* for changes made outside this httpd */
#define VIEWS_EVERY   apr_time_from_msec(100)
#define VIEWS_BATCH   1000 /* views that wake the writer early */

/* ---- the per-process memo: shares by token hash, rendered bodies ----
 * A share is stamped (AIC_CHANGES_ANY, SHARE_RECHECK); a body is lasting, kept
 * under "<share id>/json" or "<share id>/html/<page>" with the share's
 * version, and serves only that version. */

typedef struct {
    const char *version;
    const char *body;
    apr_size_t len;
} cached;

static const aic_memo_conf memo_conf = {.tag = "aichat_shares",
                                        .kind = AIC_CHANGES_ANY,
                                        .ttl = SHARE_RECHECK,
                                        .max_entries = CACHE_ENTRIES,
                                        .max_bytes = CACHE_BYTES,
                                        .max_entry = PAGE_BYTES};
static aic_memo *memo;

/* This process's views, on their way to the database. */
static aic_batch *views;

void aic_share_child_init(apr_pool_t *pchild, server_rec *s)
{
    /* NULL when its writer could not start: views are then written with the request. */
    views = aic_batch_start(pchild, s, "share_views_record", VIEWS_EVERY, VIEWS_BATCH);
    memo = aic_memo_make(pchild, &memo_conf);
}

/* Copy a body out when it is of the version out asks for. */
static int body_copy(void *out, apr_pool_t *p, const void *value)
{
    cached *want = out;
    const cached *c = value;

    if (strcmp(c->version, want->version)) {
        return 0;
    }
    want->body = apr_pstrmemdup(p, c->body, c->len);
    want->len = c->len;
    return 1;
}

static void *body_keep(apr_pool_t *pool, void *old, const void *in, apr_size_t *added)
{
    const cached *from = in;
    cached *c = old ? old : apr_palloc(pool, sizeof(*c));

    c->version = apr_pstrdup(pool, from->version);
    c->body = apr_pstrmemdup(pool, from->body, from->len);
    c->len = from->len;
    *added = (old ? 0 : sizeof(*c)) + strlen(from->version) + 1 + from->len + 1;
    return c;
}

/* A copy (in p) of the body kept under key at version, or NULL. */
static const char *cache_get(apr_size_t *len, apr_pool_t *p, const char *key, const char *version)
{
    cached want = {version, NULL, 0};

    if (!aic_memo_get(memo, key, NULL, body_copy, &want, p)) {
        return NULL;
    }
    *len = want.len;
    return want.body;
}

/* Keep body under key. */
static void cache_put(const char *key, const char *version, const char *body, apr_size_t len)
{
    cached c = {version, body, len};

    aic_memo_put(memo, key, NULL, len, body_keep, &c);
}

/* The strings of an aic_share, each copied by share_copy and share_keep:
 * a field missing here would point into the request that read it. */
static const apr_size_t share_strings[] = {
    APR_OFFSETOF(aic_share, id),         APR_OFFSETOF(aic_share, snapshot),
    APR_OFFSETOF(aic_share, title),      APR_OFFSETOF(aic_share, tools),
    APR_OFFSETOF(aic_share, version),    APR_OFFSETOF(aic_share, shared_on),
    APR_OFFSETOF(aic_share, expires_on), APR_OFFSETOF(aic_share, created_at),
    APR_OFFSETOF(aic_share, expires_at), APR_OFFSETOF(aic_share, version_id)};
#define SHARE_STRINGS (sizeof(share_strings) / sizeof(share_strings[0]))

static const char **share_string(const aic_share *s, apr_size_t i)
{
    return (const char **)((char *)s + share_strings[i]);
}

static void share_copy(aic_share *to, const aic_share *from, apr_pool_t *p)
{
    *to = *from;
    for (apr_size_t i = 0; i < SHARE_STRINGS; i++) {
        *share_string(to, i) = apr_pstrdup(p, *share_string(from, i));
    }
}

static int share_out(void *out, apr_pool_t *p, const void *value)
{
    share_copy(out, value, p);
    return 1;
}

/* The most keeping s may allocate. */
static apr_size_t share_size(const aic_share *s)
{
    apr_size_t n = sizeof(*s);

    for (apr_size_t i = 0; i < SHARE_STRINGS; i++) {
        n += strlen(*share_string(s, i)) + 1;
    }
    return n;
}

/* A share read again (every view after a change anywhere in this httpd) is
 * mostly the same: its unchanged strings are kept, not copied again, or the
 * memo's pool would grow with every view. */
static void *share_keep(apr_pool_t *pool, void *old, const void *in, apr_size_t *added)
{
    const aic_share *from = in;
    aic_share *k = old ? old : apr_pcalloc(pool, sizeof(*k)), was = *k;

    *added = old ? 0 : sizeof(*k);
    *k = *from;
    for (apr_size_t i = 0; i < SHARE_STRINGS; i++) {
        const char *kept = *share_string(&was, i), *now = *share_string(from, i);

        if (kept && !strcmp(kept, now)) {
            *share_string(k, i) = kept;
        } else {
            *share_string(k, i) = apr_pstrdup(pool, now);
            *added += strlen(now) + 1;
        }
    }
    return k;
}

/* ---- finding a share ---- */

static void share_from_row(aic_share *s, const char **c)
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
    s->version_id = c[13];
    s->show_annotations = c[14][0] == '1';
}

static int expired(const aic_share *s)
{
    return s->expires && apr_time_now() >= s->expires;
}

/* The live share behind a token (well formed): APR_NOTFOUND when unknown or
 * revoked. From this process's memory while no transaction was committed in
 * this httpd since it was read (changes made elsewhere, by another server or
 * by hand, are seen within SHARE_RECHECK); else from the database, acquiring
 * *db when it is NULL. */
static apr_status_t find(aic_share *s, aic_db **db, request_rec *r, const char *token)
{
    const char *hash = aic_share_token_hash(r->pool, token);
    aic_memo_stamp stamp;
    int remember = aic_memo_now(&stamp, memo);
    aic_rows rows;
    apr_status_t rv;

    if (remember && aic_memo_get(memo, hash, &stamp, share_out, s, r->pool)) {
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
    if (remember) {
        aic_memo_put(memo, hash, &stamp, share_size(s), share_keep, s);
    }
    return APR_SUCCESS;
}

/* Queue the view and its audit row for this process's writer, or (without
 * one, or when it has too many waiting) write them now. */
static void record_view(request_rec *r, aic_db **db, const aic_share *s, int status)
{
    const char *text, *written = NULL;
    aic_json *row = aic_json_object(r->pool);
    aic_json *audit = aic_audit_json(r, status, "view", "share", s->id, NULL, NULL);

    aic_json_set_int(audit, "at", apr_time_now());
    aic_json_set_str(row, "share_id", s->id);
    aic_json_set(row, "audit", audit);
    text = aic_json_dump(row, r->pool);
    if (aic_batch_add(views, text) ||
        ((*db || aic_db_acquire(db, r) == APR_SUCCESS) &&
         aic_db_value(&written, *db, "share_views_record",
                      AIC_ARGS(apr_pstrcat(r->pool, "[", text, "]", NULL))) == APR_SUCCESS)) {
        aic_req_get(r)->audited = 1;
    }
}

/* The request asks for JSON rather than the page. */
static int wants_json(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");

    return accept && ap_strcasestr(accept, "application/json") && !ap_strcasestr(accept, "html");
}

/* The page the query asks for: 1 when it names none, -1 when its page
 * parameter is not a page number (digits, from 1, without a leading zero)
 * or comes twice. Other parameters (links shared on social sites gain some)
 * are left alone. */
static int page_asked(const char *args)
{
    int page = 1, seen = 0;

    while (args && *args) {
        apr_size_t len = strcspn(args, "&"), name = strcspn(args, "=&");

        if (name == 4 && !strncmp(args, "page", 4)) {
            const char *value = args + (name < len ? name + 1 : name);
            apr_size_t digits = len - (apr_size_t)(value - args);

            if (seen++ || digits < 1 || digits > 9 || *value == '0' ||
                strspn(value, "0123456789") < digits) {
                return -1;
            }
            page = atoi(value);
        }
        args += len + (args[len] == '&');
    }
    return page;
}

/* The messages (*lo to *hi, from 1) of page `page` of s's thread, and how
 * many *pages it has: the sizes of its messages cut into pages
 * (aic_share_view_pages). APR_NOTFOUND when it has no such page. */
static apr_status_t page_range(int *lo, int *hi, int *pages, request_rec *r, aic_db *db,
                               const aic_share *s, int page)
{
    apr_size_t *sizes;
    aic_rows rows;
    int first, count;
    apr_status_t rv;

    rv = aic_db_select(&rows, db,
                       *s->version_id ? "share_version_message_sizes" : "share_message_sizes",
                       AIC_ARGS(*s->version_id ? s->version_id : s->snapshot));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    sizes = apr_palloc(r->pool, sizeof(*sizes) * (apr_size_t)(rows.nrows + 1));
    for (int i = 0; i < rows.nrows; i++) {
        sizes[i] =
            rows.cells[i * rows.ncols] ? (apr_size_t)apr_atoi64(rows.cells[i * rows.ncols]) : 0;
    }
    *pages = aic_share_view_pages(&first, &count, sizes, rows.nrows, AIC_SHARE_PAGE_BYTES, page);
    if (page > *pages) {
        return APR_NOTFOUND;
    }
    *lo = first + 1;
    *hi = first + count;
    return APR_SUCCESS;
}

/* The share's body as the request wants it: page `page` of its thread, or
 * (page 0) the JSON of all of it; from the cache or rendered now.
 * APR_NOTFOUND when the thread has no such page. */
static apr_status_t body_of(const char **body, apr_size_t *len, request_rec *r, aic_db **db,
                            const aic_share *s, int page, const char *token)
{
    const char *key = page ? apr_psprintf(r->pool, "%s/html/%d", s->id, page)
                           : apr_pstrcat(r->pool, s->id, "/json", NULL);
    int lo = 1, hi = INT_MAX, pages = 1;
    aic_rows msgs;
    apr_status_t rv;

    if ((*body = cache_get(len, r->pool, key, s->version))) {
        return APR_SUCCESS;
    }
    if (!*db && (rv = aic_db_acquire(db, r)) != APR_SUCCESS) {
        return rv;
    }
    if (page && (rv = page_range(&lo, &hi, &pages, r, *db, s, page)) != APR_SUCCESS) {
        return rv;
    }
    rv = aic_db_select(&msgs, *db, *s->version_id ? "share_version_messages" : "share_messages",
                       AIC_ARGS(s->show_annotations ? "true" : "false",
                                *s->version_id ? s->version_id : s->snapshot, apr_itoa(r->pool, lo),
                                apr_itoa(r->pool, hi)));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *body = aic_share_body(r, s, &msgs, page, pages, token);
    *len = strlen(*body);
    cache_put(key, s->version, *body, *len);
    return APR_SUCCESS;
}

/* ETag, Last-Modified, caching and indexing headers of a share's answer:
 * page `page`, or (0) the JSON. */
static void validators(request_rec *r, const aic_share *s, int page)
{
    apr_table_setn(r->headers_out, "ETag",
                   apr_pstrcat(r->pool, "\"", s->version,
                               !page       ? "-json"
                               : page == 1 ? ""
                                           : apr_psprintf(r->pool, "-p%d", page),
                               "\"", NULL));
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
    int json = wants_json(r), page = json ? 0 : page_asked(r->args), signed_in, status;
    apr_size_t len = 0;
    aic_db *db = NULL;
    aic_user *user = NULL;
    aic_share s;
    apr_status_t rv;

    aic_request_id(r);
    aic_share_security_headers(r);
    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return aic_send_error(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                              "Share links answer GET and HEAD only.", NULL);
    }
    token = token ? token + 1 : "";
    signed_in = r->user && !strncmp(r->uri, signed_in_prefix, strlen(signed_in_prefix));
    if (!aic_share_token_valid(token)) {
        return aic_share_gone(r, HTTP_NOT_FOUND, json);
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
        return aic_share_gone(r, HTTP_NOT_FOUND, json);
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if (expired(&s)) {
        return aic_share_gone(r, HTTP_GONE, json);
    }
    if (page < 0) {
        return aic_share_no_page(r, token);
    }
    validators(r, &s, page);
    status = ap_meets_conditions(r);
    if (status != OK && status != HTTP_NOT_MODIFIED) {
        return status;
    }
    /* A 304 is a view too; a page the thread does not have is none. */
    if (status == HTTP_NOT_MODIFIED) {
        record_view(r, &db, &s, status);
        return status;
    }
    rv = body_of(&body, &len, r, &db, &s, page, token);
    if (rv == APR_NOTFOUND) {
        return aic_share_no_page(r, token);
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    record_view(r, &db, &s, HTTP_OK);
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
    aic_share s;
    apr_status_t rv;

    rv = aic_share_token_valid(token) ? find(&s, &ctx->db, r, token) : APR_NOTFOUND;

    if (rv == APR_NOTFOUND) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "This link does not exist.", NULL);
    }
    if (rv == APR_SUCCESS && expired(&s)) {
        return aic_send_error(r, HTTP_GONE, "share_expired", "This link has expired.", NULL);
    }
    if (rv != APR_SUCCESS ||
        (rv = body_of(&body, &len, r, &ctx->db, &s, 0, token)) != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, body);
}
