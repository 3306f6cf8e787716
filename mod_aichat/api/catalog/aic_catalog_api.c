/* The catalog: categories, models (ai_tools), favourites and providers, for
 * users, and their administration (JSON under /v1/admin; the admin pages
 * share the save/delete functions below). */
#include "api/aic_api.h"
#include "httpd/aic_audit.h"
#include "httpd/aic_curl.h"

#include <http_protocol.h>
#include <http_log.h>
#include <util_script.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>
#include <stdlib.h>

#include "core/aic_catalog.h"
#include "core/aic_ids.h"
#include "core/aic_valid.h"

APLOG_USE_MODULE(aichat);

#define TOOLS_PAGE     20
#define TOOLS_PAGE_MAX 100

/* The filters shared by the three sort orders of GET /tools. Parameters: user,
 * category x2, provider x2, q, pattern x4, favourites only. */
#define TOOL_FILTERS                                                                               \
    " FROM ai_tools t LEFT JOIN user_favorite_tools f ON f.tool_id = t.id"                         \
    " AND f.user_id = %s::uuid"                                                                    \
    " WHERE t.is_active AND (%s::uuid IS NULL OR t.category_id = %s::uuid)"                        \
    " AND (%s::text IS NULL OR t.provider = %s)"                                                   \
    " AND (%s::text IS NULL OR t.name ILIKE %s OR t.display_name ILIKE %s"                         \
    " OR t.slug ILIKE %s OR t.description ILIKE %s)"                                               \
    " AND (NOT %s::boolean OR f.user_id IS NOT NULL)"

/* One page in one sort order: KEYSET takes (present, value, id) from the
 * cursor; LAST builds the next cursor from the page's last row. Then limit,
 * the provider lists, limit again. */
#define TOOL_PAGE(KEYSET, ORDER, LAST, REVERSE)                                                    \
    "WITH page AS (SELECT t AS tool, t.id, t.name, t.popularity, t.created_at,"                    \
    " (f.user_id IS NOT NULL) AS fav" TOOL_FILTERS " AND " KEYSET " ORDER BY " ORDER               \
    " LIMIT %s::int)"                                                                              \
    " SELECT json_build_object('items', coalesce(json_agg(tool_json(tool, %s::text[],"             \
    " %s::text[], fav) ORDER BY " ORDER "), '[]'::json), 'next', CASE WHEN count(*) ="             \
    " %s::int THEN (SELECT " CURSOR(LAST) " FROM page ORDER BY " REVERSE " LIMIT 1) END)::text"    \
                                          " FROM page"

/* The cursor naming a row in one sort order: (kind, id, value), hex-encoded. */
#define CURSOR(VALUE)  "encode(convert_to(" VALUE ", 'UTF8'), 'hex')"
#define CURSOR_POPULAR "'p|' || id || '|' || popularity"
#define CURSOR_NAME    "'n|' || id || '|' || name"
#define CURSOR_NEWEST  "'c|' || id || '|' || (extract(epoch FROM created_at) * 1000000)::bigint"
#define ORDER_POPULAR  "popularity DESC, id DESC"
#define ORDER_NAME     "name, id"
#define ORDER_NEWEST   "created_at DESC, id DESC"

const aic_stmt aic_catalog_stmts[] = {
    {"catalog_categories",
     "SELECT json_build_object('items', coalesce(json_agg(category_json(c) ORDER BY c.name),"
     " '[]'::json))::text FROM categories c"},
    {"catalog_tools_popularity",
     TOOL_PAGE("(%s::text IS NULL OR (t.popularity, t.id) < (%s::bigint, %s::uuid))", ORDER_POPULAR,
               CURSOR_POPULAR, "popularity, id")},
    {"catalog_tools_name", TOOL_PAGE("(%s::text IS NULL OR (t.name, t.id) > (%s::text, %s::uuid))",
                                     ORDER_NAME, CURSOR_NAME, "name DESC, id DESC")},
    {"catalog_tools_newest",
     TOOL_PAGE("(%s::text IS NULL OR (t.created_at, t.id) < (timestamptz 'epoch' + %s::bigint"
               " * interval '1 microsecond', %s::uuid))",
               ORDER_NEWEST, CURSOR_NEWEST, "created_at, id")},
    /* GET /tools loads the user with the catalog version (is the copy in
     * memory current?) and the user's favourites: extra[0] and extra[1]. */
    {"catalog_user",
     "SELECT " AIC_USER_COLUMNS ", v.version::text, (SELECT string_agg(f.tool_id::text, ',')"
     " FROM user_favorite_tools f WHERE f.user_id = u.id) FROM users u CROSS JOIN"
     " catalog_version v WHERE u.username = %s"},
    /* Every active model with its JSON (not a favourite, then a favourite), its
     * cursor and place in each sort, and the version this is a snapshot of (a
     * row of NULLs but the version when there is no model). Parameters: the
     * provider lists, twice. */
    {"catalog_snapshot",
     "SELECT v.version::text, s.id::text, s.category_id::text, s.provider,"
     " tool_json(s.tool, %s::text[], %s::text[], false)::text,"
     " tool_json(s.tool, %s::text[], %s::text[], true)::text, " CURSOR(CURSOR_POPULAR) ", " CURSOR(
         CURSOR_NAME) ", " CURSOR(CURSOR_NEWEST) ","
                                                 " (s.by_popularity - 1)::text, (s.by_name - "
                                                 "1)::text, (s.by_newest - 1)::text"
                                                 " FROM catalog_version v LEFT JOIN (SELECT t AS "
                                                 "tool, t.id, t.category_id, t.provider,"
                                                 " t.popularity, t.name, t.created_at,"
                                                 " row_number() OVER (ORDER BY " ORDER_POPULAR
                                                 ") AS by_popularity,"
                                                 " row_number() OVER (ORDER BY " ORDER_NAME
                                                 ") AS by_name,"
                                                 " row_number() OVER (ORDER BY " ORDER_NEWEST
                                                 ") AS by_newest"
                                                 " FROM ai_tools t WHERE t.is_active) s ON true"},
    {"catalog_tool",
     "SELECT tool_json(t, %s::text[], %s::text[], EXISTS (SELECT 1 FROM user_favorite_tools f"
     " WHERE f.tool_id = t.id AND f.user_id = %s::uuid))::text FROM ai_tools t"
     " WHERE t.slug = %s AND (t.is_active OR %s::boolean)"},
    {"catalog_tool_id", "SELECT id::text FROM ai_tools WHERE slug = %s AND is_active"},
    {"catalog_favorite_add",
     "INSERT INTO user_favorite_tools (user_id, tool_id) VALUES (%s::uuid, %s::uuid)"
     " ON CONFLICT DO NOTHING"},
    {"catalog_favorite_remove",
     "DELETE FROM user_favorite_tools WHERE user_id = %s::uuid AND tool_id = %s::uuid"},
    {"catalog_favorites",
     "SELECT json_build_object('items', coalesce(json_agg(tool_json(t, %s::text[], %s::text[],"
     " true) ORDER BY f.added_at DESC, t.id), '[]'::json))::text FROM user_favorite_tools f"
     " JOIN ai_tools t ON t.id = f.tool_id WHERE f.user_id = %s::uuid AND t.is_active"},
    {"catalog_admin_tools",
     "SELECT json_build_object('items', coalesce(json_agg(tool_json(t, %s::text[], %s::text[],"
     " false) ORDER BY t.name, t.id), '[]'::json))::text FROM ai_tools t"},
    {"catalog_tool_lock",
     "SELECT tool_json(t, %s::text[], %s::text[], false)::text, t.id::text FROM ai_tools t"
     " WHERE t.slug = %s FOR UPDATE"},
    {"catalog_category_exists", "SELECT 1 FROM categories WHERE id = %s::uuid FOR KEY SHARE"},
    {"catalog_slug_taken",
     "SELECT 1 FROM ai_tools WHERE slug = %s AND id IS DISTINCT FROM %s::uuid"},
    {"catalog_tool_insert",
     "INSERT INTO ai_tools (slug, name, display_name, avatar, provider, model_id, description,"
     " category_id, api_key_required, capabilities, default_settings, is_active)"
     " VALUES (%s, %s, %s, %s, %s, %s, %s, %s::uuid, %s::boolean, %s::jsonb, %s::jsonb,"
     " %s::boolean) ON CONFLICT (slug) DO NOTHING"
     " RETURNING tool_json(ai_tools, %s::text[], %s::text[], false)::text, id::text"},
    {"catalog_tool_update",
     "UPDATE ai_tools SET slug = %s, name = %s, display_name = %s, avatar = %s, provider = %s,"
     " model_id = %s, description = %s, category_id = %s::uuid,"
     " api_key_required = %s::boolean, capabilities = %s::jsonb, default_settings = %s::jsonb,"
     " is_active = %s::boolean, updated_at = now() WHERE id = %s::uuid"
     " RETURNING tool_json(ai_tools, %s::text[], %s::text[], false)::text"},
    {"catalog_tool_in_use",
     "SELECT count(*)::text FROM conversation_ai_models WHERE tool_id = %s::uuid"},
    {"catalog_tool_delete", "DELETE FROM ai_tools WHERE id = %s::uuid"},
    {"catalog_category_insert",
     "INSERT INTO categories (name, description, icon) VALUES (%s, %s, %s)"
     " ON CONFLICT (name) DO NOTHING RETURNING category_json(categories)::text, id::text"},
    {"catalog_category_lock",
     "SELECT category_json(c)::text, (SELECT count(*) FROM ai_tools t"
     " WHERE t.category_id = c.id)::text FROM categories c WHERE c.id = %s::uuid FOR UPDATE"},
    {"catalog_category_name_taken", "SELECT 1 FROM categories WHERE name = %s AND id <> %s::uuid"},
    {"catalog_category_update",
     "UPDATE categories SET name = %s, description = %s, icon = %s, updated_at = now()"
     " WHERE id = %s::uuid RETURNING category_json(categories)::text"},
    {"catalog_category_delete", "DELETE FROM categories WHERE id = %s::uuid"},
    {NULL, NULL}};

/* ---- small helpers ---- */

static const aic_result ok_result = {HTTP_OK, NULL, NULL, NULL, NULL};

static aic_result invalid(const char *field, const char *message)
{
    aic_result res = {HTTP_UNPROCESSABLE_ENTITY, "invalid_field", field, message, NULL};
    return res;
}

static aic_result db_failure(apr_status_t rv)
{
    aic_result res = {HTTP_SERVICE_UNAVAILABLE, AIC_DB_UNAVAILABLE_CODE, NULL,
                      AIC_DB_UNAVAILABLE_MESSAGE, NULL};

    if (rv != AIC_DB_EDOWN && rv != AIC_DB_ESCHEMA) {
        res.status = HTTP_INTERNAL_SERVER_ERROR;
        res.code = "internal_error";
        res.message = "The change could not be saved.";
    }
    return res;
}

static aic_result not_found(const char *what)
{
    aic_result res = {HTTP_NOT_FOUND, "not_found", NULL, what, NULL};
    return res;
}

int aic_send_result(request_rec *r, const aic_result *res)
{
    if (res->status >= 400) {
        return aic_send_error(r, res->status, res->code, res->message, res->field);
    }
    if (res->status == HTTP_NO_CONTENT) {
        r->status = HTTP_NO_CONTENT;
        apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
        return OK;
    }
    return aic_send_json_text(r, res->status, res->json);
}

static const char *user_id(aic_ctx *ctx)
{
    return ctx->user ? ctx->user->id : NULL;
}

static int send_db_text(request_rec *r, apr_status_t rv, const char *text, const char *missing)
{
    if (rv == APR_NOTFOUND) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", missing, NULL);
    }
    if (rv != APR_SUCCESS) {
        aic_result res = db_failure(rv);
        return aic_send_result(r, &res);
    }
    return aic_send_json_text(r, HTTP_OK, text);
}

/* ---- reading ---- */

static int categories(aic_ctx *ctx)
{
    const char *text = NULL;
    apr_status_t rv = aic_db_value(&text, ctx->db, "catalog_categories", 0, NULL);

    return send_db_text(ctx->r, rv, text, NULL);
}

typedef struct {
    const char *label;
    char kind; /* the cursor's kind for this sort */
} sort_order;

static const sort_order sorts[] = {
    {"catalog_tools_popularity", 'p'}, {"catalog_tools_name", 'n'}, {"catalog_tools_newest", 'c'}};

/* Decode a cursor "K|uuid|value" issued for sort kind; NULL when it is not one. */
static const char *read_cursor(const char **id, const char **value, apr_pool_t *p,
                               const char *after, char kind)
{
    const char *text = aic_hex_decode(p, after);
    const char *bar;

    if (!text || text[0] != kind || text[1] != '|' || strlen(text) < 39 || text[38] != '|') {
        return "after";
    }
    *id = apr_pstrmemdup(p, text + 2, 36);
    *value = text + 39;
    bar = *value;
    if (!aic_valid_uuid(*id) || !aic_valid_utf8(bar, 4096)) {
        return "after";
    }
    if (kind != 'n') {
        const char *c = *value + (**value == '-' && kind == 'c');

        if (!*c || strlen(c) > 18) {
            return "after";
        }
        for (; *c; c++) {
            if (!apr_isdigit(*c)) {
                return "after";
            }
        }
    }
    return NULL;
}

/* ---- the model list in memory ----
 *
 * Each process keeps a snapshot of the active models (aic_catalog) per
 * provider configuration, made by one statement and tagged with the catalog
 * version it saw. A request reads the current version and the viewer's
 * favourites with the user (catalog_user) and, when its snapshot is that
 * recent, builds the page from memory. Any committed change raises the version
 * (migration 006), so the next request in every process sees it. One
 * request per process makes the new snapshot; the others wait for it.
 * Requests hold a reference to the snapshot they use; a replaced snapshot's
 * pool is destroyed when its last user is done. */

typedef struct {
    apr_pool_t *pool; /* own allocator: made and destroyed at request time */
    aic_catalog *catalog;
    int refs; /* the slot's reference and one per request using it */
} snapshot;

typedef struct {
    const char *providers_sql; /* the provider lists the JSON's availability depends on */
    const char *keyed_sql;
    snapshot *current;
    int loading; /* a request is making a newer snapshot */
} snapshot_slot;

static apr_thread_mutex_t *snapshot_lock;
static apr_thread_cond_t *snapshot_ready;  /* a request finished making a snapshot */
static apr_array_header_t *snapshot_slots; /* snapshot_slot, one per provider configuration */

/* Under snapshot_lock. */
static void snapshot_unref(snapshot *snap)
{
    if (snap && --snap->refs == 0) {
        apr_pool_destroy(snap->pool);
    }
}

static void snapshot_release(snapshot *snap)
{
    apr_thread_mutex_lock(snapshot_lock);
    snapshot_unref(snap);
    apr_thread_mutex_unlock(snapshot_lock);
}

static apr_status_t snapshots_drop(void *data)
{
    for (int i = 0; i < snapshot_slots->nelts; i++) {
        snapshot_slot *slot = &APR_ARRAY_IDX(snapshot_slots, i, snapshot_slot);

        snapshot_unref(slot->current);
        slot->current = NULL;
    }
    return APR_SUCCESS;
}

static void snapshots_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_thread_mutex_create(&snapshot_lock, APR_THREAD_MUTEX_DEFAULT, pchild);
    apr_thread_cond_create(&snapshot_ready, pchild);
    snapshot_slots = apr_array_make(pchild, 1, sizeof(snapshot_slot));
    for (server_rec *sp = s; sp; sp = sp->next) {
        const aic_server_conf *conf = aic_config_get(sp);
        int known = 0;

        for (int i = 0; i < snapshot_slots->nelts && !known; i++) {
            snapshot_slot *slot = &APR_ARRAY_IDX(snapshot_slots, i, snapshot_slot);

            known = !strcmp(slot->providers_sql, conf->providers_sql) &&
                    !strcmp(slot->keyed_sql, conf->keyed_sql);
        }
        if (!known) {
            snapshot_slot *slot = apr_array_push(snapshot_slots);

            slot->providers_sql = conf->providers_sql;
            slot->keyed_sql = conf->keyed_sql;
            slot->current = NULL;
            slot->loading = 0;
        }
    }
    apr_pool_cleanup_register(pchild, NULL, snapshots_drop, apr_pool_cleanup_null);
}

static snapshot_slot *slot_for(const aic_server_conf *conf)
{
    for (int i = 0; i < snapshot_slots->nelts; i++) {
        snapshot_slot *slot = &APR_ARRAY_IDX(snapshot_slots, i, snapshot_slot);

        if (!strcmp(slot->providers_sql, conf->providers_sql) &&
            !strcmp(slot->keyed_sql, conf->keyed_sql)) {
            return slot;
        }
    }
    return NULL;
}

/* The slot's snapshot if it is at least `version`, referenced for the caller;
 * or NULL, and the caller makes one (and must call snapshot_loaded). */
static snapshot *snapshot_take(snapshot_slot *slot, apr_int64_t version)
{
    snapshot *snap;

    apr_thread_mutex_lock(snapshot_lock);
    for (;;) {
        snap = slot->current;
        if (snap && aic_catalog_version(snap->catalog) >= version) {
            snap->refs++;
            break;
        }
        if (!slot->loading) {
            slot->loading = 1;
            snap = NULL;
            break;
        }
        apr_thread_cond_wait(snapshot_ready, snapshot_lock);
    }
    apr_thread_mutex_unlock(snapshot_lock);
    return snap;
}

/* Install the snapshot the caller made (NULL: it failed), unless a newer one
 * is there, and wake the requests waiting for it. */
static void snapshot_loaded(snapshot_slot *slot, snapshot *snap)
{
    apr_thread_mutex_lock(snapshot_lock);
    if (snap && (!slot->current || aic_catalog_version(slot->current->catalog) <
                                       aic_catalog_version(snap->catalog))) {
        snapshot_unref(slot->current);
        slot->current = snap;
        snap->refs++;
    }
    slot->loading = 0;
    apr_thread_cond_broadcast(snapshot_ready);
    apr_thread_mutex_unlock(snapshot_lock);
}

/* Make a snapshot from the database, referenced for the caller. */
static apr_status_t snapshot_make(snapshot **out, snapshot_slot *slot, aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_rows rows;
    aic_catalog_item *items;
    snapshot *snap;
    apr_pool_t *pool = NULL;
    int n = 0;
    apr_status_t rv;

    *out = NULL;
    rv = aic_db_select(
        &rows, ctx->db, "catalog_snapshot",
        AIC_ARGS(slot->providers_sql, slot->keyed_sql, slot->providers_sql, slot->keyed_sql));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows.nrows < 1 || !rows.cells[0]) {
        return APR_EGENERAL;
    }
    items = apr_pcalloc(r->pool, sizeof(*items) * (apr_size_t)rows.nrows);
    for (int i = 0; i < rows.nrows; i++) {
        const char **row = rows.cells + i * rows.ncols;
        aic_catalog_item *it = &items[n];

        if (!row[1]) {
            continue; /* no active model at all */
        }
        it->id = row[1];
        it->category_id = row[2];
        it->provider = row[3];
        it->json[0] = row[4];
        it->json[1] = row[5];
        for (int k = 0; k < AIC_CATALOG_SORTS; k++) {
            it->cursor[k] = row[6 + k];
            it->position[k] = row[9 + k] ? atoi(row[9 + k]) : -1;
        }
        n++;
    }
    if ((rv = apr_pool_create_unmanaged_ex(&pool, NULL, NULL)) != APR_SUCCESS) {
        return rv;
    }
    snap = apr_pcalloc(pool, sizeof(*snap));
    snap->pool = pool;
    rv = aic_catalog_make(&snap->catalog, pool, apr_atoi64(rows.cells[0]), items, n);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "mod_aichat: the catalog snapshot is inconsistent; answering from SQL");
        apr_pool_destroy(pool);
        return rv;
    }
    snap->refs = 1; /* the caller's */
    *out = snap;
    return APR_SUCCESS;
}

/* GET /tools without search, from memory: APR_NOTFOUND when the database
 * must answer instead (a cursor naming a model that changed or is gone). */
static apr_status_t tools_from_memory(const char **json, aic_ctx *ctx, aic_catalog_query *query)
{
    snapshot_slot *slot = slot_for(ctx->conf);
    snapshot *snap;
    apr_status_t rv;

    *json = NULL;
    if (!slot || ctx->user->nextra != 2 || !ctx->user->extra[0]) {
        return APR_NOTFOUND;
    }
    query->favorites = ctx->user->extra[1];
    if (!(snap = snapshot_take(slot, apr_atoi64(ctx->user->extra[0])))) {
        rv = snapshot_make(&snap, slot, ctx);
        snapshot_loaded(slot, rv == APR_SUCCESS ? snap : NULL);
        if (rv == APR_EINVAL) {
            return APR_NOTFOUND;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    /* The page is a copy: the snapshot may be replaced right after. */
    rv = aic_catalog_page(json, snap->catalog, query, ctx->r->pool);
    snapshot_release(snap);
    return rv;
}

static int tools(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_table_t *args;
    const char *sort, *category, *provider, *q, *favorites, *after, *bad = NULL;
    const char *pattern = NULL, *cursor_id = NULL, *cursor_value = NULL, *text = NULL;
    const sort_order *order = NULL;
    int limit, fav;
    apr_status_t rv;

    args = aic_query_args(r);
    sort = apr_table_get(args, "sort");
    category = apr_table_get(args, "category");
    provider = apr_table_get(args, "provider");
    q = apr_table_get(args, "q");
    favorites = apr_table_get(args, "favorites");
    after = apr_table_get(args, "after");
    limit = aic_valid_limit(apr_table_get(args, "limit"), TOOLS_PAGE, TOOLS_PAGE_MAX);

    if (!sort || !strcmp(sort, "popularity")) {
        order = &sorts[0];
    } else if (!strcmp(sort, "name")) {
        order = &sorts[1];
    } else if (!strcmp(sort, "newest")) {
        order = &sorts[2];
    } else {
        bad = "sort";
    }
    if (!bad && limit < 0) {
        bad = "limit";
    }
    if (!bad && category && *category && !aic_valid_uuid(category)) {
        bad = "category";
    }
    if (!bad && provider && (!*provider || !aic_valid_utf8(provider, 64))) {
        bad = "provider";
    }
    if (!bad && q && !aic_valid_utf8(q, 400)) {
        bad = "q";
    }
    if (!bad && favorites && strcmp(favorites, "true") && strcmp(favorites, "false") &&
        strcmp(favorites, "1") && strcmp(favorites, "0")) {
        bad = "favorites";
    }
    if (!bad && after && *after) {
        bad = read_cursor(&cursor_id, &cursor_value, r->pool, after, order->kind);
    }
    if (bad) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_psprintf(r->pool, "'%s' is not valid here.", bad), bad);
    }
    category = (category && *category) ? category : NULL;
    q = (q && *q) ? q : NULL;
    fav = favorites && (!strcmp(favorites, "true") || !strcmp(favorites, "1"));
    after = (after && *after) ? after : NULL;
    /* Search needs the database's ILIKE and trigram indexes; the rest is served from memory. */
    if (!q) {
        aic_catalog_query query = {
            (int)(order - sorts), category, provider, fav, NULL, after, limit};

        rv = tools_from_memory(&text, ctx, &query);
        if (rv != APR_NOTFOUND) {
            return send_db_text(r, rv, text, NULL);
        }
    }
    pattern = q ? aic_like_contains(r->pool, q) : NULL;
    {
        const char *lim = apr_itoa(r->pool, limit);

        rv = aic_db_value(&text, ctx->db, order->label,
                          AIC_ARGS(user_id(ctx), category, category, provider, provider, q, pattern,
                                   pattern, pattern, pattern, fav ? "true" : "false",
                                   cursor_id ? "1" : NULL, cursor_value, cursor_id, lim,
                                   ctx->conf->providers_sql, ctx->conf->keyed_sql, lim));
    }
    return send_db_text(r, rv, text, NULL);
}

static int tool(aic_ctx *ctx)
{
    const char *text = NULL;
    apr_status_t rv =
        aic_db_value(&text, ctx->db, "catalog_tool",
                     AIC_ARGS(ctx->conf->providers_sql, ctx->conf->keyed_sql, user_id(ctx),
                              apr_table_get(ctx->params, "slug"),
                              aic_user_has_role(ctx->user, "admin") ? "true" : "false"));

    /* Administrators also see inactive models; for everyone else they are gone. */
    return send_db_text(ctx->r, rv, text, "No such model.");
}

static int favorites(aic_ctx *ctx)
{
    const char *text = NULL;
    apr_status_t rv =
        aic_db_value(&text, ctx->db, "catalog_favorites",
                     AIC_ARGS(ctx->conf->providers_sql, ctx->conf->keyed_sql, user_id(ctx)));

    return send_db_text(ctx->r, rv, text, NULL);
}

/* PUT/DELETE /tools/{slug}/favorite: idempotent; a real change is audited. */
static int favorite_set(aic_ctx *ctx, int on)
{
    request_rec *r = ctx->r;
    const char *slug = apr_table_get(ctx->params, "slug"), *tool_id = NULL;
    int changed = 0;
    apr_status_t rv;

    if ((rv = aic_db_begin(ctx->db)) == APR_SUCCESS) {
        rv = aic_db_value(&tool_id, ctx->db, "catalog_tool_id", AIC_ARGS(slug));
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_exec(&changed, ctx->db, on ? "catalog_favorite_add" : "catalog_favorite_remove",
                         AIC_ARGS(ctx->user->id, tool_id));
    }
    if (rv == APR_SUCCESS && changed) {
        const char *value = apr_psprintf(r->pool, "{\"tool\":\"%s\"}", slug);

        rv = aic_audit_change(ctx->db, r, HTTP_OK, on ? "create" : "delete", "favorite", tool_id,
                              on ? NULL : value, on ? value : NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_commit(ctx->db);
    } else {
        aic_db_rollback(ctx->db);
    }
    if (rv != APR_SUCCESS) {
        aic_req_get(r)->audited = 0;
        return send_db_text(r, rv, NULL, "No such model.");
    }
    return aic_send_json_text(r, HTTP_OK, on ? "{\"favorite\":true}" : "{\"favorite\":false}");
}

static int favorite_put(aic_ctx *ctx)
{
    return favorite_set(ctx, 1);
}

static int favorite_delete(aic_ctx *ctx)
{
    return favorite_set(ctx, 0);
}

/* ---- providers: configured upstreams and whether they answer ---- */

#define PROBE_TTL     apr_time_from_sec(30)
#define PROBE_TIMEOUT 2

typedef struct {
    apr_time_t checked;
    int reachable;
} probe;

static apr_thread_mutex_t *probe_lock;
static apr_hash_t *probes; /* provider name -> probe, in the child pool */
static apr_pool_t *probe_pool;

void aic_catalog_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_thread_mutex_create(&probe_lock, APR_THREAD_MUTEX_DEFAULT, pchild);
    probes = apr_hash_make(pchild);
    probe_pool = pchild;
    snapshots_child_init(pchild, s);
}

/* Cached for PROBE_TTL so that listing providers does not hit them each time. */
static int reachable(const aic_provider_cfg *prov)
{
    probe *pr;
    apr_time_t now = apr_time_now();
    int fresh, result;

    apr_thread_mutex_lock(probe_lock);
    pr = apr_hash_get(probes, prov->name, APR_HASH_KEY_STRING);
    if (!pr) {
        pr = apr_pcalloc(probe_pool, sizeof(*pr));
        apr_hash_set(probes, apr_pstrdup(probe_pool, prov->name), APR_HASH_KEY_STRING, pr);
    }
    fresh = pr->checked && now - pr->checked < PROBE_TTL;
    result = pr->reachable;
    apr_thread_mutex_unlock(probe_lock);
    if (fresh) {
        return result;
    }
    result = aic_curl_reachable(prov->base_url, PROBE_TIMEOUT);
    apr_thread_mutex_lock(probe_lock);
    pr->checked = now;
    pr->reachable = result;
    apr_thread_mutex_unlock(probe_lock);
    return result;
}

static int providers(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *body = aic_json_object(r->pool), *items = aic_json_array(r->pool);

    for (int i = 0; i < ctx->conf->providers->nelts; i++) {
        const aic_provider_cfg *prov = APR_ARRAY_IDX(ctx->conf->providers, i, aic_provider_cfg *);
        aic_json *item = aic_json_object(r->pool);
        const char *host = strstr(prov->base_url, "://") + 3;

        aic_json_set_str(item, "name", prov->name);
        aic_json_set_str(item, "kind", aic_provider_kind_name(prov->kind));
        aic_json_set_str(item, "host", apr_pstrmemdup(r->pool, host, strcspn(host, "/")));
        aic_json_set_bool(item, "key_present", prov->key != NULL);
        aic_json_set_bool(item, "reachable", reachable(prov));
        aic_json_push(items, item);
    }
    aic_json_set(body, "items", items);
    return aic_send_json(r, HTTP_OK, body);
}

/* ---- administration: tools ---- */

typedef struct {
    const char *slug, *name, *display_name, *avatar, *provider, *model_id, *description;
    const char *category_id, *api_key_required, *capabilities, *default_settings, *is_active;
} tool_fields;

static const char *const tool_keys[] = {"slug",
                                        "name",
                                        "display_name",
                                        "avatar",
                                        "provider",
                                        "model_id",
                                        "description",
                                        "category_id",
                                        "api_key_required",
                                        "capabilities",
                                        "default_settings",
                                        "is_active",
                                        NULL};

/* The current values of a tool (from tool_json) as fields. */
static void fields_from_tool(tool_fields *f, const aic_json *t, apr_pool_t *p)
{
    f->slug = aic_json_str(aic_json_get(t, "slug"), p);
    f->name = aic_json_str(aic_json_get(t, "name"), p);
    f->display_name = aic_json_str(aic_json_get(t, "display_name"), p);
    f->avatar = aic_json_str(aic_json_get(t, "avatar"), p);
    f->provider = aic_json_str(aic_json_get(t, "provider"), p);
    f->model_id = aic_json_str(aic_json_get(t, "model_id"), p);
    f->description = aic_json_str(aic_json_get(t, "description"), p);
    f->category_id = aic_json_str(aic_json_get(aic_json_get(t, "category"), "id"), p);
    f->api_key_required = aic_json_bool(aic_json_get(t, "api_key_required")) ? "true" : "false";
    f->capabilities = aic_json_dump(aic_json_get(t, "capabilities"), p);
    f->default_settings = aic_json_dump(aic_json_get(t, "default_settings"), p);
    f->is_active = aic_json_bool(aic_json_get(t, "is_active")) ? "true" : "false";
}

static aic_result text_field(const char **out, const aic_json *in, const char *key, apr_pool_t *p,
                             apr_size_t min, apr_size_t max, int multiline, int nullable)
{
    aic_json *v = aic_json_get(in, key);
    const char *err;

    if (!aic_json_has(in, key)) {
        return ok_result;
    }
    if (nullable && aic_json_typeof(v) == AIC_JSON_NULL) {
        *out = NULL;
        return ok_result;
    }
    if (aic_json_typeof(v) != AIC_JSON_STRING) {
        return invalid(key,
                       apr_psprintf(p, "%s must be a string%s.", key, nullable ? " or null" : ""));
    }
    if ((err = aic_valid_text(out, p, aic_json_str(v, p), min, max, multiline))) {
        return invalid(key, apr_pstrcat(p, key, " ", err, ".", NULL));
    }
    return ok_result;
}

static aic_result bool_field(const char **out, const aic_json *in, const char *key, apr_pool_t *p)
{
    aic_json *v = aic_json_get(in, key);

    if (!aic_json_has(in, key)) {
        return ok_result;
    }
    if (aic_json_typeof(v) != AIC_JSON_BOOL) {
        return invalid(key, apr_psprintf(p, "%s must be true or false.", key));
    }
    *out = aic_json_bool(v) ? "true" : "false";
    return ok_result;
}

static aic_result object_field(const char **out, const aic_json *in, const char *key, apr_pool_t *p)
{
    aic_json *v = aic_json_get(in, key);

    if (!aic_json_has(in, key)) {
        return ok_result;
    }
    if (aic_json_typeof(v) != AIC_JSON_OBJECT) {
        return invalid(key, apr_psprintf(p, "%s must be a JSON object.", key));
    }
    *out = aic_json_dump(v, p);
    if (strlen(*out) > 16384) {
        return invalid(key, apr_psprintf(p, "%s is too large.", key));
    }
    return ok_result;
}

/* Overlay the members of `in` on f, checking each. */
static aic_result apply_tool_input(tool_fields *f, aic_ctx *ctx, const aic_json *in)
{
    apr_pool_t *p = ctx->r->pool;
    const char *unknown_key;
    aic_result res;

    if ((unknown_key = aic_json_unknown_key(in, tool_keys, p))) {
        aic_result unknown = {HTTP_UNPROCESSABLE_ENTITY, "unknown_field", unknown_key,
                              apr_psprintf(p, "'%s' is not a field of a model.", unknown_key),
                              NULL};
        return unknown;
    }
    if (aic_json_has(in, "slug")) {
        const char *slug = aic_json_str(aic_json_get(in, "slug"), p);

        if (!aic_valid_slug(slug)) {
            return invalid("slug", "slug must be 1-63 lower-case letters, digits and '-', "
                                   "starting with a letter or digit.");
        }
        f->slug = slug;
    }
#define CHECK(x)                                                                                   \
    if ((res = (x)).status != HTTP_OK)                                                             \
    return res
    CHECK(text_field(&f->name, in, "name", p, 1, 200, 0, 0));
    CHECK(text_field(&f->display_name, in, "display_name", p, 1, 200, 0, 0));
    CHECK(text_field(&f->avatar, in, "avatar", p, 1, 2048, 0, 1));
    CHECK(text_field(&f->provider, in, "provider", p, 1, 64, 0, 0));
    CHECK(text_field(&f->model_id, in, "model_id", p, 1, 200, 0, 0));
    CHECK(text_field(&f->description, in, "description", p, 0, 10000, 1, 0));
    CHECK(bool_field(&f->api_key_required, in, "api_key_required", p));
    CHECK(bool_field(&f->is_active, in, "is_active", p));
    CHECK(object_field(&f->capabilities, in, "capabilities", p));
    CHECK(object_field(&f->default_settings, in, "default_settings", p));
#undef CHECK
    if (aic_json_has(in, "category_id")) {
        aic_json *v = aic_json_get(in, "category_id");

        if (aic_json_typeof(v) == AIC_JSON_NULL) {
            f->category_id = NULL;
        } else if (!aic_valid_uuid(aic_json_str(v, p))) {
            return invalid("category_id", "category_id must be the id of a category or null.");
        } else {
            f->category_id = aic_json_str(v, p);
        }
    }
    if (!f->slug) {
        return invalid("slug", "slug is required.");
    }
    if (!f->name) {
        return invalid("name", "name is required.");
    }
    if (!f->provider) {
        return invalid("provider", "provider is required.");
    }
    if (!f->model_id) {
        return invalid("model_id", "model_id is required.");
    }
    if (!aic_config_provider(ctx->conf, f->provider)) {
        return invalid("provider", apr_psprintf(p,
                                                "provider '%s' is not configured on this "
                                                "server (AIChatProvider).",
                                                f->provider));
    }
    if (aic_json_has(in, "avatar") && f->avatar && strncmp(f->avatar, "https://", 8) &&
        strncmp(f->avatar, "http://", 7) && f->avatar[0] != '/') {
        return invalid("avatar", "avatar must be an http(s) URL or a path on this site.");
    }
    if (!f->display_name) {
        f->display_name = f->name;
    }
    return ok_result;
}

aic_result aic_catalog_tool_save(aic_ctx *ctx, const char *slug, const aic_json *in)
{
    request_rec *r = ctx->r;
    apr_pool_t *p = r->pool;
    tool_fields f = {NULL, NULL, NULL, NULL, NULL, NULL, "", NULL, "true", "{}", "{}", "true"};
    const char *old_text = NULL, *id = NULL, *taken = NULL, *new_text = NULL;
    aic_json *old = NULL;
    aic_result res;
    aic_rows rows;
    apr_status_t rv;

    if ((rv = aic_db_begin(ctx->db)) != APR_SUCCESS) {
        return db_failure(rv);
    }
    if (slug) {
        const char *err = NULL;

        rv = aic_db_select(&rows, ctx->db, "catalog_tool_lock",
                           AIC_ARGS(ctx->conf->providers_sql, ctx->conf->keyed_sql, slug));
        if (rv == APR_SUCCESS && rows.nrows == 0) {
            aic_db_rollback(ctx->db);
            return not_found("No such model.");
        }
        if (rv != APR_SUCCESS) {
            goto failed;
        }
        old_text = rows.cells[0];
        id = rows.cells[1];
        if (aic_json_parse(&old, &err, p, old_text, strlen(old_text)) != APR_SUCCESS) {
            rv = APR_EGENERAL;
            goto failed;
        }
        fields_from_tool(&f, old, p);
        if (apr_is_empty_array(aic_json_keys(in, p))) {
            aic_result same = {HTTP_OK, NULL, NULL, NULL, old_text};

            aic_db_rollback(ctx->db);
            return same;
        }
    }
    if ((res = apply_tool_input(&f, ctx, in)).status != HTTP_OK) {
        aic_db_rollback(ctx->db);
        return res;
    }
    if (f.category_id) {
        const char *one = NULL;

        rv = aic_db_value(&one, ctx->db, "catalog_category_exists", AIC_ARGS(f.category_id));
        if (rv == APR_NOTFOUND) {
            aic_db_rollback(ctx->db);
            return invalid("category_id", "category_id does not name a category.");
        }
        if (rv != APR_SUCCESS) {
            goto failed;
        }
    }
    rv = aic_db_value(&taken, ctx->db, "catalog_slug_taken", AIC_ARGS(f.slug, id));
    if (rv == APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return invalid("slug",
                       apr_psprintf(p, "slug '%s' is already used by another model.", f.slug));
    }
    if (rv != APR_NOTFOUND) {
        goto failed;
    }
    if (!slug) {
        rv = aic_db_select(&rows, ctx->db, "catalog_tool_insert",
                           AIC_ARGS(f.slug, f.name, f.display_name, f.avatar, f.provider,
                                    f.model_id, f.description, f.category_id, f.api_key_required,
                                    f.capabilities, f.default_settings, f.is_active,
                                    ctx->conf->providers_sql, ctx->conf->keyed_sql));
        if (rv == APR_SUCCESS && rows.nrows == 0) {
            /* A concurrent create took the slug between the check and here. */
            aic_db_rollback(ctx->db);
            return invalid("slug", "slug is already used by another model.");
        }
        if (rv == APR_SUCCESS) {
            new_text = rows.cells[0];
            id = rows.cells[1];
        }
    } else {
        rv = aic_db_value(&new_text, ctx->db, "catalog_tool_update",
                          AIC_ARGS(f.slug, f.name, f.display_name, f.avatar, f.provider, f.model_id,
                                   f.description, f.category_id, f.api_key_required, f.capabilities,
                                   f.default_settings, f.is_active, id, ctx->conf->providers_sql,
                                   ctx->conf->keyed_sql));
    }
    if (rv == APR_SUCCESS) {
        rv = aic_audit_change(ctx->db, r, slug ? HTTP_OK : HTTP_CREATED, slug ? "update" : "create",
                              "ai_tool", id, old_text, new_text);
    }
    if (rv == APR_SUCCESS && (rv = aic_db_commit(ctx->db)) == APR_SUCCESS) {
        aic_result done = {slug ? HTTP_OK : HTTP_CREATED, NULL, NULL, NULL, new_text};
        return done;
    }
failed:
    aic_db_rollback(ctx->db);
    aic_req_get(r)->audited = 0;
    return db_failure(rv);
}

aic_result aic_catalog_tool_delete(aic_ctx *ctx, const char *slug)
{
    aic_rows rows;
    apr_status_t rv;

    if ((rv = aic_db_begin(ctx->db)) != APR_SUCCESS) {
        return db_failure(rv);
    }
    rv = aic_db_select(&rows, ctx->db, "catalog_tool_lock",
                       AIC_ARGS(ctx->conf->providers_sql, ctx->conf->keyed_sql, slug));
    if (rv == APR_SUCCESS && rows.nrows == 0) {
        aic_db_rollback(ctx->db);
        return not_found("No such model.");
    }
    if (rv == APR_SUCCESS) {
        const char *uses = NULL;

        rv = aic_db_value(&uses, ctx->db, "catalog_tool_in_use", AIC_ARGS(rows.cells[1]));
        if (rv == APR_SUCCESS && strcmp(uses, "0")) {
            /* Conversations keep their models: deactivating hides it instead. */
            aic_result busy = {HTTP_CONFLICT, "tool_in_use", NULL,
                               apr_psprintf(ctx->r->pool,
                                            "%s conversation(s) use this model; "
                                            "deactivate it instead.",
                                            uses),
                               NULL};
            aic_db_rollback(ctx->db);
            return busy;
        }
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_exec(NULL, ctx->db, "catalog_tool_delete", AIC_ARGS(rows.cells[1]));
    }
    if (rv == APR_SUCCESS) {
        rv = aic_audit_change(ctx->db, ctx->r, HTTP_NO_CONTENT, "delete", "ai_tool", rows.cells[1],
                              rows.cells[0], NULL);
    }
    if (rv == APR_SUCCESS && (rv = aic_db_commit(ctx->db)) == APR_SUCCESS) {
        aic_result done = {HTTP_NO_CONTENT, NULL, NULL, NULL, NULL};
        return done;
    }
    aic_db_rollback(ctx->db);
    aic_req_get(ctx->r)->audited = 0;
    return db_failure(rv);
}

/* ---- administration: categories ---- */

aic_result aic_catalog_category_save(aic_ctx *ctx, const char *id, const aic_json *in)
{
    request_rec *r = ctx->r;
    apr_pool_t *p = r->pool;
    const char *name = NULL, *description = "", *icon = NULL, *old_text = NULL, *new_text = NULL;
    const char *taken = NULL, *err = NULL, *unknown_key;
    apr_array_header_t *keys = aic_json_keys(in, p);
    aic_rows rows;
    aic_result res;
    apr_status_t rv;

    if ((unknown_key = aic_json_unknown_key(
             in, (const char *const[]){"name", "description", "icon", NULL}, p))) {
        aic_result unknown = {HTTP_UNPROCESSABLE_ENTITY, "unknown_field", unknown_key,
                              apr_psprintf(p, "'%s' is not a field of a category.", unknown_key),
                              NULL};
        return unknown;
    }
    if (id && !aic_valid_uuid(id)) {
        return not_found("No such category.");
    }
    if ((rv = aic_db_begin(ctx->db)) != APR_SUCCESS) {
        return db_failure(rv);
    }
    if (id) {
        aic_json *old = NULL;

        rv = aic_db_select(&rows, ctx->db, "catalog_category_lock", AIC_ARGS(id));
        if (rv == APR_SUCCESS && rows.nrows == 0) {
            aic_db_rollback(ctx->db);
            return not_found("No such category.");
        }
        if (rv != APR_SUCCESS) {
            goto failed;
        }
        old_text = rows.cells[0];
        if (aic_json_parse(&old, &err, p, old_text, strlen(old_text)) != APR_SUCCESS) {
            rv = APR_EGENERAL;
            goto failed;
        }
        name = aic_json_str(aic_json_get(old, "name"), p);
        description = aic_json_str(aic_json_get(old, "description"), p);
        icon = aic_json_str(aic_json_get(old, "icon"), p);
        if (apr_is_empty_array(keys)) {
            aic_result same = {HTTP_OK, NULL, NULL, NULL, old_text};

            aic_db_rollback(ctx->db);
            return same;
        }
    }
    if ((res = text_field(&name, in, "name", p, 1, 100, 0, 0)).status != HTTP_OK ||
        (res = text_field(&description, in, "description", p, 0, 2000, 1, 0)).status != HTTP_OK ||
        (res = text_field(&icon, in, "icon", p, 1, 64, 0, 1)).status != HTTP_OK) {
        aic_db_rollback(ctx->db);
        return res;
    }
    if (!name) {
        aic_db_rollback(ctx->db);
        return invalid("name", "name is required.");
    }
    if (id) {
        rv = aic_db_value(&taken, ctx->db, "catalog_category_name_taken", AIC_ARGS(name, id));
        if (rv == APR_SUCCESS) {
            aic_db_rollback(ctx->db);
            return invalid("name", "Another category has this name.");
        }
        if (rv == APR_NOTFOUND) {
            rv = aic_db_value(&new_text, ctx->db, "catalog_category_update",
                              AIC_ARGS(name, description, icon, id));
        }
    } else {
        rv = aic_db_select(&rows, ctx->db, "catalog_category_insert",
                           AIC_ARGS(name, description, icon));
        if (rv == APR_SUCCESS && rows.nrows == 0) {
            aic_db_rollback(ctx->db);
            return invalid("name", "Another category has this name.");
        }
        if (rv == APR_SUCCESS) {
            new_text = rows.cells[0];
            id = rows.cells[1];
        }
    }
    if (rv == APR_SUCCESS) {
        rv = aic_audit_change(ctx->db, r, old_text ? HTTP_OK : HTTP_CREATED,
                              old_text ? "update" : "create", "category", id, old_text, new_text);
    }
    if (rv == APR_SUCCESS && (rv = aic_db_commit(ctx->db)) == APR_SUCCESS) {
        aic_result done = {old_text ? HTTP_OK : HTTP_CREATED, NULL, NULL, NULL, new_text};
        return done;
    }
failed:
    aic_db_rollback(ctx->db);
    aic_req_get(r)->audited = 0;
    return db_failure(rv);
}

aic_result aic_catalog_category_delete(aic_ctx *ctx, const char *id)
{
    aic_rows rows;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return not_found("No such category.");
    }
    if ((rv = aic_db_begin(ctx->db)) != APR_SUCCESS) {
        return db_failure(rv);
    }
    /* FOR UPDATE: a tool cannot be added to it until this commits. */
    rv = aic_db_select(&rows, ctx->db, "catalog_category_lock", AIC_ARGS(id));
    if (rv == APR_SUCCESS && rows.nrows == 0) {
        aic_db_rollback(ctx->db);
        return not_found("No such category.");
    }
    if (rv == APR_SUCCESS && strcmp(rows.cells[1], "0")) {
        aic_result busy = {HTTP_CONFLICT, "category_not_empty", NULL,
                           apr_psprintf(ctx->r->pool,
                                        "The category still holds %s model(s); "
                                        "move or delete them first.",
                                        rows.cells[1]),
                           NULL};
        aic_db_rollback(ctx->db);
        return busy;
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_exec(NULL, ctx->db, "catalog_category_delete", AIC_ARGS(id));
    }
    if (rv == APR_SUCCESS) {
        rv = aic_audit_change(ctx->db, ctx->r, HTTP_NO_CONTENT, "delete", "category", id,
                              rows.cells[0], NULL);
    }
    if (rv == APR_SUCCESS && (rv = aic_db_commit(ctx->db)) == APR_SUCCESS) {
        aic_result done = {HTTP_NO_CONTENT, NULL, NULL, NULL, NULL};
        return done;
    }
    aic_db_rollback(ctx->db);
    aic_req_get(ctx->r)->audited = 0;
    return db_failure(rv);
}

/* ---- administration endpoints (JSON) ---- */

static int admin_tools(aic_ctx *ctx)
{
    const char *text = NULL;
    apr_status_t rv = aic_db_value(&text, ctx->db, "catalog_admin_tools",
                                   AIC_ARGS(ctx->conf->providers_sql, ctx->conf->keyed_sql));

    return send_db_text(ctx->r, rv, text, NULL);
}

typedef aic_result (*save_fn)(aic_ctx *ctx, const char *key, const aic_json *in);

/* Create (no path parameter) or update (the object named by `param`) from the body. */
static int save_from_body(aic_ctx *ctx, save_fn save, const char *param)
{
    aic_json *body = NULL;
    aic_result res;

    if (aic_read_json_object(&body, ctx->r) != OK) {
        return OK;
    }
    res = save(ctx, param ? apr_table_get(ctx->params, param) : NULL, body);
    return aic_send_result(ctx->r, &res);
}

static int admin_tool_create(aic_ctx *ctx)
{
    return save_from_body(ctx, aic_catalog_tool_save, NULL);
}

static int admin_tool_update(aic_ctx *ctx)
{
    return save_from_body(ctx, aic_catalog_tool_save, "slug");
}

static int admin_tool_delete(aic_ctx *ctx)
{
    aic_result res = aic_catalog_tool_delete(ctx, apr_table_get(ctx->params, "slug"));

    return aic_send_result(ctx->r, &res);
}

static int admin_category_create(aic_ctx *ctx)
{
    return save_from_body(ctx, aic_catalog_category_save, NULL);
}

static int admin_category_update(aic_ctx *ctx)
{
    return save_from_body(ctx, aic_catalog_category_save, "id");
}

static int admin_category_delete(aic_ctx *ctx)
{
    aic_result res = aic_catalog_category_delete(ctx, apr_table_get(ctx->params, "id"));

    return aic_send_result(ctx->r, &res);
}

static const aic_endpoint ep_categories = {categories, 0};
static const aic_endpoint_user ep_tools = {{tools, AIC_EP_USER}, "catalog_user"};
static const aic_endpoint ep_tool = {tool, 0};
static const aic_endpoint ep_favorite_put = {favorite_put, 0};
static const aic_endpoint ep_favorite_delete = {favorite_delete, 0};
static const aic_endpoint ep_favorites = {favorites, 0};
static const aic_endpoint ep_providers = {providers, 0};
static const aic_endpoint ep_admin_tools = {admin_tools, AIC_EP_ADMIN};
static const aic_endpoint ep_admin_tool_create = {admin_tool_create, AIC_EP_ADMIN};
static const aic_endpoint ep_admin_tool_update = {admin_tool_update, AIC_EP_ADMIN};
static const aic_endpoint ep_admin_tool_delete = {admin_tool_delete, AIC_EP_ADMIN};
static const aic_endpoint ep_admin_category_create = {admin_category_create, AIC_EP_ADMIN};
static const aic_endpoint ep_admin_category_update = {admin_category_update, AIC_EP_ADMIN};
static const aic_endpoint ep_admin_category_delete = {admin_category_delete, AIC_EP_ADMIN};

const aic_route aic_catalog_routes[] = {
    {"GET", "/v1/categories", &ep_categories},
    {"GET", "/v1/tools", &ep_tools.ep},
    {"GET", "/v1/tools/{slug}", &ep_tool},
    {"PUT", "/v1/tools/{slug}/favorite", &ep_favorite_put},
    {"DELETE", "/v1/tools/{slug}/favorite", &ep_favorite_delete},
    {"GET", "/v1/me/favorites", &ep_favorites},
    {"GET", "/v1/providers", &ep_providers},
    {"GET", "/v1/admin/tools", &ep_admin_tools},
    {"POST", "/v1/admin/tools", &ep_admin_tool_create},
    {"PATCH", "/v1/admin/tools/{slug}", &ep_admin_tool_update},
    {"DELETE", "/v1/admin/tools/{slug}", &ep_admin_tool_delete},
    {"POST", "/v1/admin/categories", &ep_admin_category_create},
    {"PATCH", "/v1/admin/categories/{id}", &ep_admin_category_update},
    {"DELETE", "/v1/admin/categories/{id}", &ep_admin_category_delete},
    {NULL, NULL, NULL}};
