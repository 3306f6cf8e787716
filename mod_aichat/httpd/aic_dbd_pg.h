/* The DB door's knowledge of other modules' insides: mod_dbd's private
 * records and the libpq connection under apr_dbd_pgsql. Only aic_db.c
 * includes this header.
 *
 * Why it is needed: mod_dbd offers no call for "the connection this request
 * already holds" (mod_authn_dbd took it with ap_dbd_acquire; taking a second
 * one could starve the pool) nor for "the statements other modules
 * registered" (ap_dbd_prepare), and apr_dbd_pgsql's connection check repairs
 * a broken connection with PQreset, which silently loses every prepared
 * statement; and its BEGIN writes through a NULL transaction record when it
 * fails. These functions read mod_dbd's records through views of their
 * first members, give the driver a record of its own shape, and ask libpq
 * directly.
 *
 * Checked against httpd 2.4.71 (apache2-dev 2.4.71-1~deb12u1: mod_dbd.c's
 * dbd_acquire_t and svr_cfg, under APR_HAS_THREADS), apr-util 1.6.3
 * (libaprutil1-dbd-pgsql 1.6.3-1+deb12u1: apr_dbd_native_handle gives the
 * PGconn, the check calls PQreset, dbd_pgsql_start_transaction sets
 * (*trans)->handle whatever BEGIN answered) and libpq 15. Check again when either
 * changes: a different layout reads garbage, not an error. */
#ifndef AIC_DBD_PG_H
#define AIC_DBD_PG_H

#include <httpd.h>
#include <apr_dbd.h> /* before mod_dbd.h, which uses its types */
#include <mod_dbd.h>

/** Find mod_dbd's module record; 0 when mod_dbd is not loaded. Call in post_config. */
int aic_dbd_pg_init(void);

/** The connection mod_dbd holds for r (ap_dbd_acquire ran for it), or NULL. */
ap_dbd_t *aic_dbd_pg_held(request_rec *r);

/** 1 when libpq last saw dbd's connection in order (unlike apr_dbd_check_conn,
 * which resets a broken connection). */
int aic_dbd_pg_connected(ap_dbd_t *dbd);

/** Read what the server sent without blocking, then as aic_dbd_pg_connected:
 * a connection the server closed (PostgreSQL restarted) has the goodbye and
 * the end waiting on its socket, and reading both marks the connection bad. */
int aic_dbd_pg_poll(ap_dbd_t *dbd);

/**
 * Notice a connection that apr_dbd_pgsql's check re-established (PQreset: a
 * new backend with none of the prepared statements) by its backend pid, kept
 * in dbd->prepared under a reserved key. On a new backend, prepare mod_dbd's
 * registered statements for s again (mod_authn_dbd's password query) and
 * return 1 with the old and new pid; the caller prepares its own. The first
 * call on a connection records the pid and returns 0, unless the backend has
 * no prepared statement at all (reset before the module first used it): then
 * as on a new backend, with an old pid of 0. Scratch allocations go to p.
 */
int aic_dbd_pg_reset_seen(int *was, int *now, ap_dbd_t *dbd, server_rec *s, apr_pool_t *p);

/**
 * apr_dbd_transaction_start with a record of the driver's own shape made in
 * p first: when BEGIN fails with a result (a connection the server just
 * closed), apr_dbd_pgsql writes to the record it was given, and it makes one
 * only on success, so a NULL one crashed the process. On failure the record
 * is ended and *trans is NULL. Returns the driver's code (0 on success).
 */
int aic_dbd_pg_begin(ap_dbd_t *dbd, apr_pool_t *p, apr_dbd_transaction_t **trans);

#endif
