/* The only door to apr_dbd and mod_dbd. Capabilities register tables of
 * labelled SQL at configuration time; every pooled connection prepares all of
 * them once, after the schema version has been checked. Handlers see labels
 * and text values only, never SQL strings or driver handles. */
#ifndef AIC_DB_H
#define AIC_DB_H

#include <httpd.h>

/** The schema version this module needs (the highest migration number in sql/). */
#define AIC_SCHEMA_REQUIRED 14

/** The database cannot be reached (or the connection broke). */
#define AIC_DB_EDOWN (APR_OS_START_USERERR + 101)
/** The database schema is older than AIC_SCHEMA_REQUIRED. */
#define AIC_DB_ESCHEMA (APR_OS_START_USERERR + 102)

typedef struct aic_db aic_db;

/** One labelled statement; apr_dbd placeholders (%s), never $1. */
typedef struct {
    const char *label;
    const char *sql;
} aic_stmt;

/** Result rows: cells[row * ncols + col], NULL for SQL NULL; all in the request pool. */
typedef struct {
    int nrows;
    int ncols;
    const char **cells;
} aic_rows;

/** Count and array of a literal argument list: AIC_ARGS("a", b). */
#define AIC_ARGS(...)                                                                              \
    (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), (const char *const[])     \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }

/** Forget registered tables (pre_config: configuration is read again on restart). */
void aic_db_reset(void);
/** Register a table of statements ending with {NULL, NULL}. Config time only. */
void aic_db_register(const aic_stmt *table);
/** Look up mod_dbd; fails (with a log line) when it is not loaded. */
int aic_db_post_config(apr_pool_t *pconf, server_rec *s);

/**
 * The request's connection, taken from mod_dbd's pool on first use and given
 * back with the request (or earlier, aic_db_release). Returns APR_SUCCESS,
 * AIC_DB_EDOWN or AIC_DB_ESCHEMA.
 */
apr_status_t aic_db_acquire(aic_db **db, request_rec *r);

/**
 * header_parser hook: before authentication, take the request's pooled
 * connection on the module's locations (and under AIChatBaseURI, where
 * mod_authn_dbd checks passwords), so a connection PostgreSQL dropped is
 * repaired before anything uses it.
 */
int aic_db_header_parser(request_rec *r);

/**
 * A connection outside any request (a background writer): results and
 * scratch live in p. Give it back with aic_db_close (or by clearing p).
 */
apr_status_t aic_db_open(aic_db **db, apr_pool_t *p, server_rec *s);
/** Roll back what is open and give the connection back. */
void aic_db_close(aic_db *db);

/** Give the connection back before the request ends (not inside a
 * transaction); the next aic_db_acquire takes one again. */
void aic_db_release(aic_db *db);
/**
 * For an authentication provider whose lookup on r's connection failed or
 * found nothing: 1 when taking that connection found it reset by a database
 * restart (its statements, mod_authn_dbd's too, gone) and prepared it again,
 * so that the lookup is worth one more try.
 */
int aic_db_repaired(request_rec *r);

/** A round trip: AIC_DB_EDOWN when the connection is dead. */
apr_status_t aic_db_ping(aic_db *db);

/** Run a labelled SELECT (or ... RETURNING); rows land in out. */
apr_status_t aic_db_select(aic_rows *out, aic_db *db, const char *label, int nargs,
                           const char *const *args);
/** First column of the first row into *value; APR_NOTFOUND when no row. */
apr_status_t aic_db_value(const char **value, aic_db *db, const char *label, int nargs,
                          const char *const *args);
/** Run a labelled statement without rows; *affected may be NULL. */
apr_status_t aic_db_exec(int *affected, aic_db *db, const char *label, int nargs,
                         const char *const *args);

/** Start a transaction. */
apr_status_t aic_db_begin(aic_db *db);
/** Commit; when a statement failed inside, rolls back and returns its error. */
apr_status_t aic_db_commit(aic_db *db);
/** Roll back (no-op without a transaction). */
void aic_db_rollback(aic_db *db);

#endif
