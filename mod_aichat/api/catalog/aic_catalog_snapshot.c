/* The catalog's model list in memory, per process.
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
#include "catalog.h"

#include <http_log.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <stdlib.h>

APLOG_USE_MODULE(aichat);

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

void aic_catalog_snapshot_child_init(apr_pool_t *pchild, server_rec *s)
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

/* The columns of catalog_snapshot: a cursor and a position per sort order. */
enum {
    COL_VERSION,
    COL_ID,
    COL_CATEGORY_ID,
    COL_PROVIDER,
    COL_JSON,
    COL_JSON_FAVORITE,
    COL_CURSORS,
    COL_POSITIONS = COL_CURSORS + AIC_CATALOG_SORTS,
    COL_COUNT = COL_POSITIONS + AIC_CATALOG_SORTS
};

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
    if (rows.nrows < 1 || rows.ncols != COL_COUNT || !rows.cells[COL_VERSION]) {
        return APR_EGENERAL;
    }
    items = apr_pcalloc(r->pool, sizeof(*items) * (apr_size_t)rows.nrows);
    for (int i = 0; i < rows.nrows; i++) {
        const char **row = rows.cells + i * rows.ncols;
        aic_catalog_item *it = &items[n];

        if (!row[COL_ID]) {
            continue; /* no active model at all */
        }
        it->id = row[COL_ID];
        it->category_id = row[COL_CATEGORY_ID];
        it->provider = row[COL_PROVIDER];
        it->json[0] = row[COL_JSON];
        it->json[1] = row[COL_JSON_FAVORITE];
        for (int k = 0; k < AIC_CATALOG_SORTS; k++) {
            it->cursor[k] = row[COL_CURSORS + k];
            it->position[k] = row[COL_POSITIONS + k] ? atoi(row[COL_POSITIONS + k]) : -1;
        }
        n++;
    }
    if ((rv = apr_pool_create_unmanaged_ex(&pool, NULL, NULL)) != APR_SUCCESS) {
        return rv;
    }
    snap = apr_pcalloc(pool, sizeof(*snap));
    snap->pool = pool;
    rv = aic_catalog_make(&snap->catalog, pool, apr_atoi64(rows.cells[COL_VERSION]), items, n);
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

apr_status_t aic_catalog_snapshot_page(const char **json, aic_ctx *ctx, aic_catalog_query *query)
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
