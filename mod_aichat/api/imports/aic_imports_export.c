/* Exports: one conversation as the product's JSON or as Markdown; the whole
 * library (or a selection) as a ZIP streamed while it is written: json/ and
 * markdown/ with a file per conversation, and a ChatGPT-format
 * conversations.json that ChatGPT-format importers (ours too) read. One
 * batch of conversations is in memory at a time. */
#include "imports.h"
#include "httpd/aic_audit.h"

#include <http_protocol.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "core/aic_valid.h"
#include "core/aic_zip.h"

/* A file name safe in any header and file system: [A-Za-z0-9._-], at most 60. */
static const char *safe_name(apr_pool_t *p, const char *title, const char *id)
{
    char *out = apr_palloc(p, 61), *o = out;

    for (const char *s = title; *s && o < out + 40; s++) {
        char ch = *s;

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_') {
            *o++ = ch;
        } else if (o > out && o[-1] != '-') {
            *o++ = '-';
        }
    }
    while (o > out && o[-1] == '-') {
        o--;
    }
    *o = '\0';
    return apr_psprintf(p, "%s%s%.8s", out, *out ? "-" : "", id);
}

static int not_found(request_rec *r)
{
    return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such conversation.", NULL);
}

/* ---- the conversations, read and rendered ----
 *
 * The selection's conversations are read in batches, two statements a
 * batch (the conversations, then all their messages in one result, each
 * conversation's in time order), and rendered here as text straight into
 * the archive, the way PostgreSQL's jsonb prints them (keys shorter first,
 * then in byte order; ", " and ": "): byte for byte the files of the SQL
 * functions this replaced (dropped by migration 027), which ran three times
 * per conversation. */

/* Cells of imports_export_heads and imports_export_rows. */
enum {
    H_ID,
    H_TITLE,
    H_SOURCE,
    H_EXT,
    H_CREATED,
    H_UPDATED,
    H_LEAF,
    H_ARCHIVED,
    H_CEPOCH,
    H_UEPOCH,
    HCOLS
};
enum {
    M_N,
    M_ID,
    M_PARENT,
    M_ROLE,
    M_CONTENT,
    M_TYPE,
    M_MODEL,
    M_CREATED,
    M_META,
    M_EPOCH,
    M_WHEN,
    MCOLS
};

/* A batch: up to this many conversations, or this many messages. */
#define BATCH_CONVERSATIONS 200
#define BATCH_MESSAGES      5000

#define UNSET   (-1)
#define UNREACH (-2)

/* One conversation of a batch: its row, its message rows (time order) and
 * the tree over them. */
typedef struct {
    const char *const *h;
    const char *const *m;
    int n;
    int *parent;      /* row of each row's parent; -1 a root, UNREACH a missing parent */
    int *depth;       /* UNREACH: not under a root (left out, as the SQL leaves it) */
    apr_hash_t *rows; /* id: &parent[row] */
    int *order;       /* the rows reachable from a root: depth, then time */
    int nordered;
    int *child;   /* first child of each row (time order), -1 */
    int *sibling; /* the next child of the same parent, -1 */
    int roots;    /* the first root, -1 */
} conv;

#define CELL(c, i, col) ((c)->m[(i)*MCOLS + (col)])

/* Text made in a fixed buffer and handed on when it is full. */
typedef struct {
    apr_status_t (*fn)(void *baton, const char *buf, apr_size_t len);
    void *baton;
    apr_status_t rv;
    apr_size_t len;
    char buf[65536];
} sink;

static void sink_flush(sink *s)
{
    if (s->len && s->rv == APR_SUCCESS) {
        s->rv = s->fn(s->baton, s->buf, s->len);
    }
    s->len = 0;
}

static void put(sink *s, const char *p, apr_size_t n)
{
    if (s->len + n > sizeof(s->buf)) {
        sink_flush(s);
        if (n > sizeof(s->buf)) {
            if (s->rv == APR_SUCCESS) {
                s->rv = s->fn(s->baton, p, n);
            }
            return;
        }
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

#define PUTS(s, lit) put((s), (lit), sizeof(lit) - 1)

static void put_raw(sink *s, const char *v)
{
    if (v) {
        put(s, v, strlen(v));
    } else {
        PUTS(s, "null");
    }
}

static apr_status_t put_quoted(void *baton, const char *json, apr_size_t n)
{
    sink *s = baton;

    put(s, json, n);
    return s->rv;
}

/* A JSON string, escaped as PostgreSQL's to_json does (aic_json_quote); null
 * for NULL. */
static void put_str(sink *s, const char *v)
{
    if (!v) {
        PUTS(s, "null");
    } else if (s->rv == APR_SUCCESS) {
        s->rv = aic_json_quote(v, strlen(v), put_quoted, s);
    }
}

/* A member of an object the exports write: its key as written ("\"id\": "),
 * and the column of a row (a message's, or the conversation's header) that
 * holds its value: a JSON string, or JSON text as PostgreSQL gave it (raw). */
typedef struct {
    const char *key;
    int col, raw;
} json_member;

#define KEY(name) "\"" name "\": "

/* The members from a row's cells, separated as PostgreSQL separates them. */
static void put_members(sink *s, const json_member *m, apr_size_t n, const char *const *cells)
{
    for (apr_size_t k = 0; k < n; k++) {
        if (k) {
            PUTS(s, ", ");
        }
        put(s, m[k].key, strlen(m[k].key));
        if (m[k].raw) {
            put_raw(s, cells[m[k].col]);
        } else {
            put_str(s, cells[m[k].col]);
        }
    }
}

#define NMEMBERS(m) (sizeof(m) / sizeof((m)[0]))

/* The tree: parents, depths, the rows in (depth, time) order, children. */
static void tree(conv *c, apr_pool_t *p)
{
    apr_hash_t *rows = c->rows = apr_hash_make(p);
    int *depth = c->depth = apr_palloc(p, sizeof(int) * (apr_size_t)(c->n + 1));
    int *count, max = 0;

    c->parent = apr_palloc(p, sizeof(int) * (apr_size_t)(c->n + 1));
    c->order = apr_palloc(p, sizeof(int) * (apr_size_t)(c->n + 1));
    c->child = apr_palloc(p, sizeof(int) * (apr_size_t)(c->n + 1));
    c->sibling = apr_palloc(p, sizeof(int) * (apr_size_t)(c->n + 1));
    for (int i = 0; i < c->n; i++) {
        apr_hash_set(rows, CELL(c, i, M_ID), APR_HASH_KEY_STRING, &c->parent[i]);
    }
    for (int i = 0; i < c->n; i++) {
        const char *pid = CELL(c, i, M_PARENT);
        int *at = pid ? apr_hash_get(rows, pid, APR_HASH_KEY_STRING) : NULL;

        c->parent[i] = !pid ? -1 : at ? (int)(at - c->parent) : UNREACH;
        depth[i] = UNSET;
        c->child[i] = c->sibling[i] = -1;
    }
    /* Depths: up to a row whose depth is known (or a root), then down again. */
    for (int i = 0; i < c->n; i++) {
        int j = i, k = 0, base;

        while (depth[j] == UNSET && c->parent[j] >= 0 && k <= c->n) {
            j = c->parent[j];
            k++;
        }
        if (depth[j] != UNSET) {
            base = depth[j];
        } else {
            base = depth[j] = c->parent[j] == -1 ? 0 : UNREACH;
        }
        for (int t = i, d = k; d > 0; d--, t = c->parent[t]) {
            depth[t] = base == UNREACH ? UNREACH : base + d;
        }
        if (depth[i] > max) {
            max = depth[i];
        }
    }
    /* A stable counting sort by depth keeps the time order within a depth. */
    count = apr_pcalloc(p, sizeof(int) * (apr_size_t)(max + 2));
    for (int i = 0; i < c->n; i++) {
        if (depth[i] >= 0) {
            count[depth[i] + 1]++;
        }
    }
    for (int d = 1; d <= max + 1; d++) {
        count[d] += count[d - 1];
    }
    c->nordered = count[max + 1];
    for (int i = 0; i < c->n; i++) {
        if (depth[i] >= 0) {
            c->order[count[depth[i]]++] = i;
        }
    }
    /* Children in time order: prepended from the last row back. */
    c->roots = -1;
    for (int i = c->n - 1; i >= 0; i--) {
        if (depth[i] < 0) {
            continue;
        }
        if (c->parent[i] == -1) {
            c->sibling[i] = c->roots;
            c->roots = i;
        } else {
            c->sibling[i] = c->child[c->parent[i]];
            c->child[c->parent[i]] = i;
        }
    }
}

/* The product's own format (import_export_json). */
static void render_json(sink *s, const conv *c)
{
    static const json_member message[] = {{KEY("id"), M_ID, 0},
                                          {KEY("role"), M_ROLE, 0},
                                          {KEY("model"), M_MODEL, 0},
                                          {KEY("content"), M_CONTENT, 0},
                                          {KEY("metadata"), M_META, 1},
                                          {KEY("parent_id"), M_PARENT, 0},
                                          {KEY("created_at"), M_CREATED, 1},
                                          {KEY("content_type"), M_TYPE, 0}};
    static const json_member tail[] = {{KEY("created_at"), H_CREATED, 1},
                                       {KEY("updated_at"), H_UPDATED, 1},
                                       {KEY("external_id"), H_EXT, 0},
                                       {KEY("active_leaf_id"), H_LEAF, 0}};

    PUTS(s, "{\"id\": ");
    put_str(s, c->h[H_ID]);
    PUTS(s, ", \"title\": ");
    put_str(s, c->h[H_TITLE]);
    PUTS(s, ", \"format\": \"mod_aichat.conversation\", \"source\": ");
    put_str(s, c->h[H_SOURCE]);
    PUTS(s, ", \"version\": 1, \"messages\": [");
    for (int k = 0; k < c->nordered; k++) {
        int i = c->order[k];

        if (k) {
            PUTS(s, ", ");
        }
        PUTS(s, "{");
        put_members(s, message, NMEMBERS(message), &CELL(c, i, 0));
        PUTS(s, "}");
    }
    PUTS(s, "], ");
    put_members(s, tail, NMEMBERS(tail), c->h);
    PUTS(s, "}");
}

static void put_children(sink *s, const conv *c, int first)
{
    PUTS(s, "[");
    for (int k = first; k >= 0; k = c->sibling[k]) {
        if (k != first) {
            PUTS(s, ", ");
        }
        put_str(s, CELL(c, k, M_ID));
    }
    PUTS(s, "]");
}

typedef struct {
    const char *id;
    int row;
} by_id;

static int by_id_cmp(const void *a, const void *b)
{
    return strcmp(((const by_id *)a)->id, ((const by_id *)b)->id);
}

/* ChatGPT's format (import_export_chatgpt): the mapping's nodes in key order. */
static void render_chatgpt(sink *s, const conv *c, apr_pool_t *p)
{
    /* is_archived: boolean::text, true or false. */
    static const json_member tail[] = {{KEY("create_time"), H_CEPOCH, 1},
                                       {KEY("is_archived"), H_ARCHIVED, 1},
                                       {KEY("update_time"), H_UEPOCH, 1},
                                       {KEY("current_node"), H_LEAF, 0},
                                       {KEY("conversation_id"), H_ID, 0}};
    by_id *nodes = apr_palloc(p, sizeof(by_id) * (apr_size_t)(c->nordered + 1));
    const char *slug = NULL;

    for (int k = 0; k < c->nordered; k++) {
        nodes[k].row = c->order[k];
        nodes[k].id = CELL(c, c->order[k], M_ID);
    }
    qsort(nodes, (size_t)c->nordered, sizeof(by_id), by_id_cmp);
    PUTS(s, "{\"id\": ");
    put_str(s, c->h[H_ID]);
    PUTS(s, ", \"title\": ");
    put_str(s, c->h[H_TITLE]);
    PUTS(s, ", \"mapping\": {\"client-created-root\": {\"id\": \"client-created-root\", "
            "\"parent\": null, \"message\": null, \"children\": ");
    put_children(s, c, c->roots);
    PUTS(s, "}");
    for (int k = 0; k < c->nordered; k++) {
        int i = nodes[k].row;
        const char *model = CELL(c, i, M_MODEL), *type = CELL(c, i, M_TYPE);
        int html = type && strcmp(type, "text/html") == 0;

        PUTS(s, ", ");
        put_str(s, nodes[k].id);
        PUTS(s, ": {\"id\": ");
        put_str(s, nodes[k].id);
        PUTS(s, ", \"parent\": ");
        put_str(s, c->parent[i] >= 0 ? CELL(c, i, M_PARENT) : "client-created-root");
        PUTS(s, ", \"message\": {\"id\": ");
        put_str(s, nodes[k].id);
        PUTS(s, ", \"author\": {\"name\": null, \"role\": ");
        put_str(s, CELL(c, i, M_ROLE));
        PUTS(s, ", \"metadata\": {}}, \"status\": \"finished_successfully\", \"weight\": 1.0, "
                "\"channel\": null, \"content\": {\"parts\": [");
        put_str(s, CELL(c, i, M_CONTENT));
        PUTS(s, "], \"content_type\": \"text\"}, \"end_turn\": ");
        if (strcmp(CELL(c, i, M_ROLE), "assistant") == 0) {
            PUTS(s, "true");
        } else {
            PUTS(s, "false");
        }
        /* ChatGPT's format has text only: HTML (an imported Gemini answer)
         * goes as it is, a "text" part, marked in the metadata (which other
         * importers ignore) so that ours stores it as HTML again. */
        PUTS(s, ", \"metadata\": {");
        if (model) {
            PUTS(s, "\"model_slug\": ");
            put_str(s, model);
        }
        if (model && html) {
            PUTS(s, ", ");
        }
        if (html) {
            PUTS(s, "\"" AIC_IMPORT_HTML_MARK "\": \"text/html\"");
        }
        PUTS(s, "}");
        PUTS(s, ", \"recipient\": \"all\", \"create_time\": ");
        put_raw(s, CELL(c, i, M_EPOCH));
        PUTS(s, ", \"update_time\": null}, \"children\": ");
        put_children(s, c, c->child[i]);
        PUTS(s, "}");
    }
    /* The default model: the newest message's that names one (rows are in time order). */
    for (int i = 0; i < c->n; i++) {
        if (CELL(c, i, M_MODEL) && c->depth[i] >= 0) {
            slug = CELL(c, i, M_MODEL);
        }
    }
    PUTS(s, "}, ");
    put_members(s, tail, NMEMBERS(tail), c->h);
    PUTS(s, ", \"default_model_slug\": ");
    put_str(s, slug);
    PUTS(s, "}");
}

/* Markdown (import_export_markdown): the title, then the active path. */
static void render_markdown(sink *s, const conv *c, apr_pool_t *p)
{
    int *path = apr_palloc(p, sizeof(int) * (apr_size_t)(c->n + 1)), n = 0;
    int *at = c->h[H_LEAF] ? apr_hash_get(c->rows, c->h[H_LEAF], APR_HASH_KEY_STRING) : NULL;

    for (int i = at ? (int)(at - c->parent) : -1; i >= 0 && n < c->n; i = c->parent[i]) {
        path[n++] = i;
    }
    PUTS(s, "# ");
    put_raw(s, c->h[H_TITLE]);
    PUTS(s, "\n\n");
    for (int k = n - 1, first = 1; k >= 0; k--) {
        int i = path[k];
        const char *who = "You";

        if (c->depth[i] < 0 || !CELL(c, i, M_CONTENT)) {
            continue;
        }
        if (strcmp(CELL(c, i, M_ROLE), "assistant") == 0) {
            who = CELL(c, i, M_MODEL) ? CELL(c, i, M_MODEL) : "Assistant";
        }
        if (!first) {
            PUTS(s, "\n");
        }
        first = 0;
        PUTS(s, "### ");
        put_raw(s, who);
        PUTS(s, " \xc2\xb7 ");
        put_raw(s, CELL(c, i, M_WHEN));
        PUTS(s, " UTC\n\n");
        put_raw(s, CELL(c, i, M_CONTENT));
        PUTS(s, "\n");
    }
}

/* Called with each conversation of the selection, in the selection's order. */
typedef apr_status_t (*visit_fn)(void *baton, conv *c, apr_pool_t *p);

/* One batch, ids[from, to): its conversations (those the user may read),
 * then their messages. */
static apr_status_t batch(aic_ctx *ctx, const aic_rows *ids, int from, int to, visit_fn visit,
                          void *baton, apr_pool_t *p)
{
    const char *me = ctx->user->id;
    apr_pool_t *was = aic_db_pool_swap(ctx->db, p);
    aic_rows heads, rows = {0, 0, NULL};
    char *list = apr_palloc(p, (apr_size_t)(to - from) * 37 + 3), *l = list;
    apr_status_t rv;
    int r = 0;

    *l++ = '{';
    for (int i = from; i < to; i++) {
        l += apr_snprintf(l, 38, "%s%s", i > from ? "," : "", ids->cells[i * ids->ncols]);
    }
    strcpy(l, "}");
    rv = aic_db_select(&heads, ctx->db, "imports_export_heads", AIC_ARGS(list, me, me));
    if (rv == APR_SUCCESS && heads.nrows) {
        l = list;
        *l++ = '{';
        for (int i = 0; i < heads.nrows; i++) {
            l += apr_snprintf(l, 38, "%s%s", i ? "," : "", heads.cells[i * HCOLS + H_ID]);
        }
        strcpy(l, "}");
        rv = aic_db_select(&rows, ctx->db, "imports_export_rows", AIC_ARGS(list));
    }
    aic_db_pool_swap(ctx->db, was);
    for (int i = 0; rv == APR_SUCCESS && i < heads.nrows; i++) {
        conv c = {0};

        c.h = heads.cells + i * HCOLS;
        c.m = rows.cells + r * MCOLS;

        while (r < rows.nrows && atoi(rows.cells[r * MCOLS + M_N]) == i + 1) {
            r++, c.n++;
        }
        tree(&c, p);
        rv = visit(baton, &c, p);
    }
    return rv;
}

/* Every conversation of ids (id, messages) in batches, one batch in memory at a time. */
static apr_status_t each_conv(aic_ctx *ctx, const aic_rows *ids, visit_fn visit, void *baton)
{
    apr_pool_t *p;
    apr_status_t rv = APR_SUCCESS;

    apr_pool_create(&p, ctx->r->pool);
    for (int from = 0, to; rv == APR_SUCCESS && from < ids->nrows; from = to) {
        long messages = 0;

        for (to = from; to < ids->nrows && to - from < BATCH_CONVERSATIONS &&
                        (to == from || messages < BATCH_MESSAGES);
             to++) {
            messages += atol(ids->cells[to * ids->ncols + 1]);
        }
        rv = batch(ctx, ids, from, to, visit, baton, p);
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    return rv;
}

/* ---- one conversation ---- */

static apr_status_t to_brigade(void *baton, const char *buf, apr_size_t len)
{
    return apr_brigade_write(baton, NULL, NULL, buf, len);
}

typedef struct {
    sink s;
    apr_pool_t *pool;
    int md;
    const char *title;
} one_run;

static apr_status_t visit_one(void *baton, conv *c, apr_pool_t *p)
{
    one_run *one = baton;

    one->title = apr_pstrdup(one->pool, c->h[H_TITLE]);
    if (one->md) {
        render_markdown(&one->s, c, p);
    } else {
        render_json(&one->s, c);
    }
    sink_flush(&one->s);
    return one->s.rv;
}

/* The export's audit row (export.create), before any of it is sent; none when
 * the request is already audited (a bulk action's export writes its own). */
static apr_status_t audit_export(aic_ctx *ctx, const char *id, const char *what)
{
    apr_status_t rv;

    if (aic_req_get(ctx->r)->audited) {
        return APR_SUCCESS;
    }
    if ((rv = aic_db_begin(ctx->db)) == APR_SUCCESS &&
        (rv = aic_audit_change(ctx->db, ctx->r, HTTP_OK, "export.create", "conversation", id, NULL,
                               what)) == APR_SUCCESS) {
        return aic_db_commit(ctx->db);
    }
    aic_db_rollback(ctx->db);
    return rv;
}

int aic_imports_export_one(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id");
    const char *format = apr_table_get(aic_query_args(r), "format");
    const char *cells[] = {id, "0"};
    aic_rows ids = {1, 2, cells};
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    one_run *one = apr_pcalloc(r->pool, sizeof(*one));
    apr_status_t rv;

    if (!format) {
        format = "json";
    }
    if (strcmp(format, "json") != 0 && strcmp(format, "markdown") != 0) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "format must be json or markdown.", "format");
    }
    if (!aic_valid_uuid(id)) {
        return not_found(r);
    }
    one->md = strcmp(format, "markdown") == 0;
    one->pool = r->pool;
    one->s.fn = to_brigade;
    one->s.baton = bb;
    if ((rv = each_conv(ctx, &ids, visit_one, one)) != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if (!one->title) {
        return not_found(r);
    }
    rv = audit_export(ctx, id, one->md ? "{\"format\":\"markdown\"}" : "{\"format\":\"json\"}");
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    apr_table_setn(r->headers_out, "Content-Disposition",
                   apr_psprintf(r->pool, "attachment; filename=\"%s.%s\"",
                                safe_name(r->pool, one->title, id), one->md ? "md" : "json"));
    if (!one->md) {
        char *text;
        apr_size_t len;

        apr_brigade_pflatten(bb, &text, &len, r->pool);
        return aic_send_json_text(r, HTTP_OK, apr_pstrmemdup(r->pool, text, len));
    }
    ap_set_content_type(r, "text/markdown; charset=utf-8");
    apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    ap_pass_brigade(r->output_filters, bb);
    return OK;
}

/* ---- the library as a ZIP ---- */

/* The archive's bytes go out as they are made. */
typedef struct {
    request_rec *r;
    apr_bucket_brigade *bb;
} out;

static apr_status_t to_client(void *baton, const void *buf, apr_size_t len)
{
    out *o = baton;
    apr_status_t rv = ap_fwrite(o->r->output_filters, o->bb, buf, len);

    if (rv == APR_SUCCESS && o->r->connection->aborted) {
        rv = APR_ECONNABORTED;
    }
    return rv;
}

static apr_status_t to_member(void *baton, const char *buf, apr_size_t len)
{
    return aic_zip_out_write(baton, buf, len);
}

/* The archive being written. */
typedef struct {
    aic_zip_out *z;
    sink s;
    int written;
} zip_run;

static apr_status_t member(zip_run *zr, apr_pool_t *p, const char *dir, const conv *c,
                           const char *ext)
{
    const char *name =
        apr_psprintf(p, "%s/%s.%s", dir, safe_name(p, c->h[H_TITLE], c->h[H_ID]), ext);

    sink_flush(&zr->s);
    return zr->s.rv != APR_SUCCESS ? zr->s.rv : aic_zip_out_member(zr->z, name, apr_time_now());
}

/* json/ and markdown/: two files per conversation. */
static apr_status_t visit_files(void *baton, conv *c, apr_pool_t *p)
{
    zip_run *zr = baton;
    apr_status_t rv;

    if ((rv = member(zr, p, "json", c, "json")) != APR_SUCCESS) {
        return rv;
    }
    render_json(&zr->s, c);
    if ((rv = member(zr, p, "markdown", c, "md")) != APR_SUCCESS) {
        return rv;
    }
    render_markdown(&zr->s, c, p);
    return zr->s.rv;
}

/* conversations.json: the ChatGPT-format array. */
static apr_status_t visit_chatgpt(void *baton, conv *c, apr_pool_t *p)
{
    zip_run *zr = baton;

    if (zr->written++) {
        PUTS(&zr->s, ",");
    }
    render_chatgpt(&zr->s, c, p);
    return zr->s.rv;
}

/* The ids asked for (validated) as an array literal; "" for all. OK or the error sent. */
static int selection(const char **list, request_rec *r)
{
    aic_json *body, *ids;
    apr_array_header_t *all;
    int rc;

    *list = "";
    if (!apr_table_get(r->headers_in, "Content-Type") && r->remaining == 0) {
        return OK;
    }
    if ((rc = aic_read_json_object(&body, r)) != OK) {
        return rc;
    }
    if (!aic_json_has(body, "conversation_ids")) {
        return OK;
    }
    ids = aic_json_get(body, "conversation_ids");
    if (aic_json_typeof(ids) != AIC_JSON_ARRAY || aic_json_len(ids) == 0 ||
        aic_json_len(ids) > 100000) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "conversation_ids must be a list of conversation ids.",
                              "conversation_ids"),
               HTTP_UNPROCESSABLE_ENTITY;
    }
    /* Joined once: each id added to the string so far would copy it again. */
    all = apr_array_make(r->pool, (int)aic_json_len(ids), sizeof(const char *));
    for (apr_size_t i = 0; i < aic_json_len(ids); i++) {
        const char *id = aic_json_cstr(aic_json_at(ids, i));

        if (!id || !aic_valid_uuid(id)) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "conversation_ids must be a list of conversation ids.",
                                  "conversation_ids"),
                   HTTP_UNPROCESSABLE_ENTITY;
        }
        APR_ARRAY_PUSH(all, const char *) = id;
    }
    *list = apr_pstrcat(r->pool, "{", apr_array_pstrcat(r->pool, all, ','), "}", NULL);
    return OK;
}

int aic_imports_export_zip(aic_ctx *ctx)
{
    const char *list;
    int rc;

    if ((rc = selection(&list, ctx->r)) != OK) {
        return rc;
    }
    return aic_imports_export_send(ctx, list);
}

int aic_imports_export_send(aic_ctx *ctx, const char *list)
{
    request_rec *r = ctx->r;
    const char *me = ctx->user->id;
    aic_rows ids;
    out o = {r, NULL};
    zip_run *zr;
    apr_status_t rv;

    rv = aic_db_select(&ids, ctx->db, "imports_export_ids",
                       AIC_ARGS(me, list, list[0] ? list : "{}"));
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    rv = audit_export(ctx, NULL, apr_psprintf(r->pool, "{\"conversations\":%d}", ids.nrows));
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    r->status = HTTP_OK;
    ap_set_content_type(r, "application/zip");
    apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
    apr_table_setn(r->headers_out, "Content-Disposition",
                   "attachment; filename=\"aichat-export.zip\"");
    o.bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    zr = apr_pcalloc(r->pool, sizeof(*zr));
    if (aic_zip_out_open(&zr->z, r->pool, to_client, &o) != APR_SUCCESS) {
        return OK;
    }
    zr->s.fn = to_member;
    zr->s.baton = zr->z;
    /* json/ and markdown/, two files per conversation; then conversations.json. */
    if (each_conv(ctx, &ids, visit_files, zr) != APR_SUCCESS) {
        return OK;
    }
    sink_flush(&zr->s);
    if (zr->s.rv != APR_SUCCESS ||
        aic_zip_out_member(zr->z, "conversations.json", apr_time_now()) != APR_SUCCESS) {
        return OK;
    }
    PUTS(&zr->s, "[");
    if (each_conv(ctx, &ids, visit_chatgpt, zr) != APR_SUCCESS) {
        return OK;
    }
    PUTS(&zr->s, "]");
    sink_flush(&zr->s);
    if (zr->s.rv == APR_SUCCESS && aic_zip_out_close(zr->z) == APR_SUCCESS) {
        ap_fflush(r->output_filters, o.bb);
    }
    return OK;
}
