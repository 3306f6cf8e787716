#include "aic_db.h"
#include "aic_dbd_pg.h"
#include "aic_http.h"
#include "aic_memo.h"

#include <stdarg.h>
#include <stdlib.h>

#include <http_log.h>
#include <http_config.h>
#include <http_request.h>
#include <apr_dbd.h>
#include <apr_atomic.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <mod_dbd.h>

APLOG_USE_MODULE(aichat);

#define MAX_TABLES 32

struct aic_db {
    request_rec *r; /**< NULL outside requests (aic_db_open) */
    server_rec *s;
    apr_pool_t *pool; /**< results and scratch: the request's, or the opener's */
    ap_dbd_t *dbd;
    int borrowed; /**< dbd is the request's own (mod_authn_dbd took it): not ours to give back */
    int repaired; /**< taking dbd found it reset by a restart and prepared it again */
    apr_dbd_transaction_t *trans;
    apr_status_t trans_error; /**< first failure inside the transaction */
};

static const aic_stmt *tables[MAX_TABLES];
static int ntables;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) * dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) * dbd_close;

/* Set once a connection saw a schema that is new enough; process-wide. */
static apr_uint32_t schema_ok;
/* Until this second, connections are tried before use: one was found dead,
 * so others in the pool may be too (PostgreSQL restarted). */
static apr_uint32_t suspect_until;

#define SUSPECT_SECONDS 60

/* Log for db: against its request, else its server (a background writer). */
static void db_log(aic_db *db, int level, const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(db->pool, fmt, ap);
    va_end(ap);
    if (db->r) {
        ap_log_rerror(APLOG_MARK, level, 0, db->r, "%s", msg);
    } else {
        ap_log_error(APLOG_MARK, level, 0, db->s, "%s", msg);
    }
}

static void mark_down(aic_db *db)
{
    if (db->r) {
        aic_req_mark_db_down(db->r);
    }
}

void aic_db_reset(void)
{
    ntables = 0;
    apr_atomic_set32(&schema_ok, 0);
}

void aic_db_register(const aic_stmt *table)
{
    if (ntables < MAX_TABLES) {
        tables[ntables++] = table;
    }
}

int aic_db_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_hash_t *seen = apr_hash_make(pconf);

    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!dbd_open || !dbd_close || !aic_dbd_pg_init()) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "mod_aichat: mod_dbd is not loaded; load it and configure DBDriver pgsql");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (ntables == MAX_TABLES) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "mod_aichat: too many statement tables");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (int t = 0; t < ntables; t++) {
        for (const aic_stmt *st = tables[t]; st->label; st++) {
            if (apr_hash_get(seen, st->label, APR_HASH_KEY_STRING)) {
                ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                             "mod_aichat: statement label %s is registered twice", st->label);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            apr_hash_set(seen, st->label, APR_HASH_KEY_STRING, st);
        }
    }
    return OK;
}

/* Connection state as libpq last saw it (aic_dbd_pg_connected). */
static int connected(ap_dbd_t *dbd)
{
    return aic_dbd_pg_connected(dbd);
}

/* apr_dbd_pgsql's connection check repairs a broken connection with
 * PQreset: a new backend that has none of the prepared statements, neither
 * ours nor those mod_dbd prepared for other modules (mod_authn_dbd's password
 * query). aic_dbd_pg_reset_seen notices it and prepares mod_dbd's again;
 * forgetting ours makes prepare_all prepare them again, so the pooled
 * connection serves again instead of failing until it expires. */
static apr_status_t repair_after_reset(aic_db *db)
{
    int was = 0, now = 0;

    if (!aic_dbd_pg_reset_seen(&was, &now, db->dbd, db->s, db->pool)) {
        return APR_SUCCESS;
    }
    db_log(db, APLOG_NOTICE,
           "mod_aichat: database connection was re-established (backend %d, was %s): "
           "preparing its statements again",
           now, was ? apr_itoa(db->pool, was) : "unknown");
    db->repaired = 1;
    for (int t = 0; t < ntables; t++) {
        for (const aic_stmt *st = tables[t]; st->label; st++) {
            apr_hash_set(db->dbd->prepared, st->label, APR_HASH_KEY_STRING, NULL);
        }
    }
    return APR_SUCCESS;
}

/* A failed call: tell a broken connection (AIC_DB_EDOWN) from an SQL error. */
static apr_status_t failure(aic_db *db, int rc, const char *label)
{
    apr_status_t rv;

    if (!connected(db->dbd)) {
        apr_atomic_set32(&suspect_until,
                         (apr_uint32_t)apr_time_sec(apr_time_now()) + SUSPECT_SECONDS);
        db_log(db, APLOG_ERR, "mod_aichat: database connection lost during %s", label);
        mark_down(db);
        rv = AIC_DB_EDOWN;
    } else {
        db_log(db, APLOG_ERR, "mod_aichat: statement %s failed: %s", label,
               apr_dbd_error(db->dbd->driver, db->dbd->handle, rc));
        rv = APR_EGENERAL;
    }
    if (db->trans && db->trans_error == APR_SUCCESS) {
        db->trans_error = rv;
    }
    return rv;
}

/* Check on this connection (until one connection saw them good) that the
 * schema is new enough and that its functions are the ones this module was
 * built with: aichat-migrate records the digest of sql/functions/ it applied
 * in schema_functions, the build the digest of the same files. */
static apr_status_t check_schema(aic_db *db)
{
    static const char *const sql =
        "SELECT (SELECT coalesce(max(version), 0) FROM schema_migrations),"
        " (SELECT digest FROM schema_functions)";
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    long version = 0;
    const char *digest = NULL;
    int rc;

    if (apr_atomic_read32(&schema_ok)) {
        return APR_SUCCESS;
    }
    rc = apr_dbd_select(db->dbd->driver, db->pool, db->dbd->handle, &res, sql, 1);
    if (rc != 0 && !connected(db->dbd)) {
        return AIC_DB_EDOWN;
    } else if (rc != 0) {
        /* No schema_functions (an aichat-migrate older than this module), or no schema. */
        db_log(db, APLOG_ERR,
               "mod_aichat: the database schema cannot be checked (%s) but this module needs "
               "version %d with functions %s: run aichat-migrate (scripts/aichat-migrate) "
               "against the database, then requests are served again",
               apr_dbd_error(db->dbd->driver, db->dbd->handle, rc), AIC_SCHEMA_REQUIRED,
               AIC_FUNCTIONS_DIGEST);
        return AIC_DB_ESCHEMA;
    } else if (apr_dbd_get_row(db->dbd->driver, db->pool, res, &row, 1) == 0) {
        version = atol(apr_dbd_get_entry(db->dbd->driver, row, 0));
        digest = apr_dbd_get_entry(db->dbd->driver, row, 1);
    }
    if (version < AIC_SCHEMA_REQUIRED || !digest || strcmp(digest, AIC_FUNCTIONS_DIGEST) != 0) {
        db_log(db, APLOG_ERR,
               "mod_aichat: the database schema is at version %ld with functions %s but this "
               "module needs version %d with functions %s: run aichat-migrate "
               "(scripts/aichat-migrate) against the database, then requests are served again",
               version, digest ? digest : "(none recorded)", AIC_SCHEMA_REQUIRED,
               AIC_FUNCTIONS_DIGEST);
        return AIC_DB_ESCHEMA;
    }
    apr_atomic_set32(&schema_ok, 1);
    return APR_SUCCESS;
}

/* Prepare every registered statement on this pooled connection, once. The
 * statements live in the connection's pool, as mod_dbd's own do. */
static apr_status_t prepare_all(aic_db *db)
{
    ap_dbd_t *dbd = db->dbd;

    for (int t = 0; t < ntables; t++) {
        for (const aic_stmt *st = tables[t]; st->label; st++) {
            apr_dbd_prepared_t *stmt = NULL;
            int rc;

            if (apr_hash_get(dbd->prepared, st->label, APR_HASH_KEY_STRING)) {
                continue;
            }
            rc = apr_dbd_prepare(dbd->driver, dbd->pool, dbd->handle, st->sql, st->label, &stmt);
            if (rc != 0) {
                return failure(db, rc, st->label);
            }
            apr_hash_set(dbd->prepared, st->label, APR_HASH_KEY_STRING, stmt);
        }
    }
    return APR_SUCCESS;
}

/* Give the connection back to mod_dbd's pool (request pool cleanup, or early). */
static apr_status_t give_back(void *data)
{
    aic_db *db = data;

    if (db->dbd && db->borrowed) {
        db->dbd = NULL;
        db->borrowed = 0;
    } else if (db->dbd) {
        if (db->trans) {
            apr_dbd_transaction_mode_set(db->dbd->driver, db->trans, APR_DBD_TRANSACTION_ROLLBACK);
            apr_dbd_transaction_end(db->dbd->driver, db->pool, db->trans);
            db->trans = NULL;
        }
        dbd_close(db->s, db->dbd);
        db->dbd = NULL;
    }
    return APR_SUCCESS;
}

/* Is the pooled connection usable? A dead one is reconnected by the driver
 * (repair_after_reset then prepares it again). While connections are suspect,
 * a round trip proves it. */
static int alive_or_reconnected(aic_db *db)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;

    /* A connection the server closed (PostgreSQL restarted) is marked bad by
     * reading its goodbye; the driver's check then reconnects. */
    if (!aic_dbd_pg_poll(db->dbd)) {
        return apr_dbd_check_conn(db->dbd->driver, db->pool, db->dbd->handle) == APR_SUCCESS;
    }
    if (apr_time_sec(apr_time_now()) >= (apr_time_t)apr_atomic_read32(&suspect_until)) {
        return 1;
    }
    if (apr_dbd_select(db->dbd->driver, db->pool, db->dbd->handle, &res, "SELECT 1", 1) == 0) {
        while (apr_dbd_get_row(db->dbd->driver, db->pool, res, &row, -1) == 0) {
            continue;
        }
        return 1;
    }
    return apr_dbd_check_conn(db->dbd->driver, db->pool, db->dbd->handle) == APR_SUCCESS;
}

/* Take a pooled connection for db and make it ready (repaired, checked, prepared). */
static apr_status_t open_connection(aic_db *db)
{
    apr_status_t rv;

    /* When mod_authn_dbd already holds a connection for this request, use it:
     * waiting for a second one could starve the pool (every thread holding
     * one and waiting for another). Otherwise our own pooled connection, held
     * only while needed (not for a whole streamed answer). */
    ap_dbd_t *held = db->r ? aic_dbd_pg_held(db->r) : NULL;

    db->repaired = 0;
    if (held) {
        db->dbd = held;
        db->borrowed = 1;
    } else {
        db->dbd = dbd_open(db->pool, db->s);
    }
    if (!db->dbd) {
        /* mod_dbd already logged why; a dead pooled connection is replaced next time. */
        mark_down(db);
        return AIC_DB_EDOWN;
    }
    if (!alive_or_reconnected(db)) {
        give_back(db);
        mark_down(db);
        return AIC_DB_EDOWN;
    }
    if ((rv = repair_after_reset(db)) != APR_SUCCESS || (rv = check_schema(db)) != APR_SUCCESS ||
        (rv = prepare_all(db)) != APR_SUCCESS) {
        give_back(db);
        if (rv == AIC_DB_EDOWN) {
            mark_down(db);
        }
    }
    return rv;
}

/* A released db takes a connection again on its next statement. */
static apr_status_t ensure(aic_db *db)
{
    return db->dbd ? APR_SUCCESS : open_connection(db);
}

apr_status_t aic_db_acquire(aic_db **out, request_rec *r)
{
    aic_req *req = aic_req_get(r);
    aic_db *db = req->db;
    apr_status_t rv;

    *out = NULL;
    if (!db) {
        /* Kept with the original request: subrequests have shorter pools. */
        request_rec *orig = aic_original(r);

        db = apr_pcalloc(orig->pool, sizeof(*db));
        db->r = orig;
        db->s = orig->server;
        db->pool = orig->pool;
        req->db = db;
        apr_pool_cleanup_register(orig->pool, db, give_back, apr_pool_cleanup_null);
    }
    if ((rv = ensure(db)) != APR_SUCCESS) {
        return rv;
    }
    *out = db;
    return APR_SUCCESS;
}

int aic_db_repaired(request_rec *r)
{
    aic_db *db = NULL;

    if (aic_db_acquire(&db, r) != APR_SUCCESS) {
        return -1;
    }
    return db->repaired;
}

apr_pool_t *aic_db_pool_swap(aic_db *db, apr_pool_t *p)
{
    apr_pool_t *was = db->pool;

    db->pool = p;
    return was;
}

apr_status_t aic_db_open(aic_db **out, apr_pool_t *p, server_rec *s)
{
    aic_db *db = apr_pcalloc(p, sizeof(*db));
    apr_status_t rv;

    db->s = s;
    db->pool = p;
    apr_pool_cleanup_register(p, db, give_back, apr_pool_cleanup_null);
    *out = (rv = ensure(db)) == APR_SUCCESS ? db : NULL;
    return rv;
}

void aic_db_close(aic_db *db)
{
    if (db) {
        aic_db_rollback(db);
        give_back(db);
    }
}

void aic_db_release(aic_db *db)
{
    if (db && !db->trans) {
        give_back(db);
    }
}

apr_status_t aic_db_ping(aic_db *db)
{
    static const char *const sql = "SELECT 1";
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_status_t rv = ensure(db);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (apr_dbd_select(db->dbd->driver, db->pool, db->dbd->handle, &res, sql, 1) != 0) {
        return failure(db, -1, "ping");
    }
    while (apr_dbd_get_row(db->dbd->driver, db->pool, res, &row, -1) == 0) {
        continue;
    }
    return APR_SUCCESS;
}

int aic_db_header_parser(request_rec *r)
{
    aic_db *db = NULL;

    /* Touch (and repair) a pooled connection and give it straight back: the
     * pool hands out the most recently returned one first, so the password
     * check (mod_authn_dbd) gets a repaired connection. Only where a password
     * will be checked: the request needs a user and brings credentials (HTTP
     * auth or a session cookie). Static files, sign-in pages, public share
     * links and requests without credentials touch no connection. */
    if (!r->main &&
        (apr_table_get(r->headers_in, "Authorization") || apr_table_get(r->headers_in, "Cookie")) &&
        ap_some_authn_required(r) && aic_db_acquire(&db, r) == APR_SUCCESS) {
        aic_db_release(db);
    }
    return DECLINED;
}

static apr_dbd_prepared_t *statement(aic_db *db, const char *label)
{
    apr_dbd_prepared_t *stmt = apr_hash_get(db->dbd->prepared, label, APR_HASH_KEY_STRING);

    if (!stmt) {
        db_log(db, APLOG_CRIT, "mod_aichat: no statement labelled %s is registered", label);
    }
    return stmt;
}

/* A statement outside a transaction committed on its own: in a request that
 * may change state (any method but GET and HEAD), count it as a change. */
static void autocommitted(aic_db *db)
{
    if (!db->trans && db->r && db->r->method_number != M_GET) {
        aic_memo_note_change(AIC_CHANGES_ANY);
    }
}

apr_status_t aic_db_select(aic_rows *out, aic_db *db, const char *label, int nargs,
                           const char *const *args)
{
    apr_dbd_prepared_t *stmt;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_status_t rv;
    int rc;

    out->nrows = out->ncols = 0;
    out->cells = NULL;
    if ((rv = ensure(db)) != APR_SUCCESS) {
        return rv;
    }
    if (!(stmt = statement(db, label))) {
        return APR_EGENERAL;
    }
    if (db->trans && db->trans_error) {
        return db->trans_error;
    }
    rc = apr_dbd_pselect(db->dbd->driver, db->pool, db->dbd->handle, &res, stmt, 1, nargs,
                         (const char **)args);
    if (rc != 0) {
        return failure(db, rc, label);
    }
    autocommitted(db);
    out->nrows = apr_dbd_num_tuples(db->dbd->driver, res);
    out->ncols = apr_dbd_num_cols(db->dbd->driver, res);
    out->cells = apr_pcalloc(db->pool, sizeof(char *) * (apr_size_t)(out->nrows * out->ncols + 1));
    for (int i = 0; i < out->nrows; i++) {
        if (apr_dbd_get_row(db->dbd->driver, db->pool, res, &row, i + 1) != 0) {
            return failure(db, -1, label);
        }
        for (int c = 0; c < out->ncols; c++) {
            char *value = NULL;

            /* APR_ENOENT means SQL NULL: leave the cell NULL. */
            if (apr_dbd_datum_get(db->dbd->driver, row, c, APR_DBD_TYPE_STRING, &value) ==
                APR_SUCCESS) {
                out->cells[i * out->ncols + c] = value;
            }
        }
    }
    return APR_SUCCESS;
}

apr_status_t aic_db_value(const char **value, aic_db *db, const char *label, int nargs,
                          const char *const *args)
{
    aic_rows rows;
    apr_status_t rv = aic_db_select(&rows, db, label, nargs, args);

    *value = NULL;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows.nrows == 0) {
        return APR_NOTFOUND;
    }
    *value = rows.cells[0];
    return APR_SUCCESS;
}

apr_status_t aic_db_exec(int *affected, aic_db *db, const char *label, int nargs,
                         const char *const *args)
{
    apr_dbd_prepared_t *stmt;
    apr_status_t rv;
    int n = 0, rc;

    if ((rv = ensure(db)) != APR_SUCCESS) {
        return rv;
    }
    if (!(stmt = statement(db, label))) {
        return APR_EGENERAL;
    }
    if (db->trans && db->trans_error) {
        return db->trans_error;
    }
    rc = apr_dbd_pquery(db->dbd->driver, db->pool, db->dbd->handle, &n, stmt, nargs,
                        (const char **)args);
    if (rc != 0) {
        return failure(db, rc, label);
    }
    autocommitted(db);
    if (affected) {
        *affected = n;
    }
    return APR_SUCCESS;
}

apr_status_t aic_db_begin(aic_db *db)
{
    apr_status_t rv = ensure(db);
    int rc;

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rc = aic_dbd_pg_begin(db->dbd, db->pool, &db->trans);
    db->trans_error = APR_SUCCESS;
    if (rc != 0) {
        return failure(db, rc, "BEGIN");
    }
    return APR_SUCCESS;
}

apr_status_t aic_db_commit(aic_db *db)
{
    apr_status_t failed = db->trans_error;
    int rc;

    if (!db->trans) {
        return APR_EGENERAL;
    }
    if (failed) {
        apr_dbd_transaction_mode_set(db->dbd->driver, db->trans, APR_DBD_TRANSACTION_ROLLBACK);
    }
    rc = apr_dbd_transaction_end(db->dbd->driver, db->pool, db->trans);
    db->trans = NULL;
    if (failed) {
        return failed;
    }
    if (rc != 0) {
        return failure(db, rc, "COMMIT");
    }
    aic_memo_note_change(AIC_CHANGES_ANY);
    return APR_SUCCESS;
}

void aic_db_rollback(aic_db *db)
{
    if (db && db->trans) {
        apr_dbd_transaction_mode_set(db->dbd->driver, db->trans, APR_DBD_TRANSACTION_ROLLBACK);
        apr_dbd_transaction_end(db->dbd->driver, db->pool, db->trans);
        db->trans = NULL;
    }
}
