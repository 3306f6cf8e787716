#include "aic_dbd_pg.h"

#include <http_config.h>
#include <apr_dbd.h>
#include <libpq-fe.h>
#include <string.h>

/* Reserved key in a connection's statement hash: the PostgreSQL backend pid
 * the statements were prepared on. */
#define BACKEND_KEY "aichat:backend-pid"

/* mod_dbd's per-request record (dbd_acquire_t) begins with its connection. */
typedef struct {
    ap_dbd_t *rec;
} dbd_request_view;

/* mod_dbd's per-server configuration (svr_cfg) begins with its dbd_cfg_t. */
typedef struct {
    dbd_cfg_t *cfg;
} dbd_server_view;

/* apr_dbd_pgsql's transaction record (struct apr_dbd_transaction_t). */
typedef struct {
    int mode;
    int errnum;
    apr_dbd_t *handle;
} pg_transaction;

static module *dbd_module_rec;

int aic_dbd_pg_init(void)
{
    dbd_module_rec = ap_find_linked_module("mod_dbd.c");
    return dbd_module_rec != NULL;
}

ap_dbd_t *aic_dbd_pg_held(request_rec *r)
{
    dbd_request_view *held = ap_get_module_config(r->request_config, dbd_module_rec);

    return held ? held->rec : NULL;
}

static PGconn *native(ap_dbd_t *dbd)
{
    return apr_dbd_native_handle(dbd->driver, dbd->handle);
}

int aic_dbd_pg_connected(ap_dbd_t *dbd)
{
    return native(dbd) && PQstatus(native(dbd)) == CONNECTION_OK;
}

int aic_dbd_pg_poll(ap_dbd_t *dbd)
{
    PGconn *conn = native(dbd);

    /* A backend that was ended sent its last message, then closed: one read
     * takes the message and leaves the connection looking fine, the next
     * finds the end. So two reads (the second costs a system call that
     * would block, on a connection that is alive). */
    for (int i = 0; i < 2; i++) {
        if (!conn || !PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK) {
            return 0;
        }
    }
    return 1;
}

/* Does the backend hold any prepared statement? mod_dbd prepares all of its
 * own when it makes a connection, and a reset takes them all away. */
static int any_prepared(ap_dbd_t *dbd, apr_pool_t *p)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;

    if (apr_dbd_select(dbd->driver, p, dbd->handle, &res,
                       "SELECT count(*) FROM pg_prepared_statements", 1) != 0 ||
        apr_dbd_get_row(dbd->driver, p, res, &row, 1) != 0) {
        return 1; /* unknown: the next statement finds out */
    }
    return strcmp(apr_dbd_get_entry(dbd->driver, row, 0), "0") != 0;
}

int aic_dbd_pg_reset_seen(int *was, int *now, ap_dbd_t *dbd, server_rec *s, apr_pool_t *p)
{
    int *known = apr_hash_get(dbd->prepared, BACKEND_KEY, APR_HASH_KEY_STRING);
    int pid = PQbackendPID(native(dbd));
    dbd_server_view *view = ap_get_module_config(s->module_config, dbd_module_rec);
    apr_hash_t *queries = view && view->cfg ? view->cfg->queries : NULL;

    if (known && *known == pid) {
        return 0;
    }
    if (!known) {
        /* First seen: a connection that only other modules used (mod_auth_form's
         * sign-in handler) may have been reset since mod_dbd made it. */
        known = apr_palloc(dbd->pool, sizeof(*known));
        apr_hash_set(dbd->prepared, BACKEND_KEY, APR_HASH_KEY_STRING, known);
        *known = 0;
        if (!queries || !apr_hash_count(queries) || any_prepared(dbd, p)) {
            *known = pid;
            return 0;
        }
    }
    for (apr_hash_index_t *hi = queries ? apr_hash_first(p, queries) : NULL; hi;
         hi = apr_hash_next(hi)) {
        const void *label;
        void *sql;
        apr_dbd_prepared_t *stmt = NULL;

        apr_hash_this(hi, &label, NULL, &sql);
        if (apr_dbd_prepare(dbd->driver, dbd->pool, dbd->handle, sql, label, &stmt) == 0) {
            apr_hash_set(dbd->prepared, label, APR_HASH_KEY_STRING, stmt);
        }
    }
    *was = *known;
    *now = *known = pid;
    return 1;
}

int aic_dbd_pg_begin(ap_dbd_t *dbd, apr_pool_t *p, apr_dbd_transaction_t **trans)
{
    int rc;

    *trans = apr_pcalloc(p, sizeof(pg_transaction));
    rc = apr_dbd_transaction_start(dbd->driver, p, dbd->handle, trans);
    if (rc != 0) {
        /* The driver made the record the connection's transaction even so:
         * end it, or the connection would carry it to its next request. */
        apr_dbd_transaction_mode_set(dbd->driver, *trans, APR_DBD_TRANSACTION_ROLLBACK);
        apr_dbd_transaction_end(dbd->driver, p, *trans);
        *trans = NULL;
    }
    return rc;
}
