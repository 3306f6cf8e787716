/* Audit: one audit_logs row per request the module handled. A request that
 * changes data writes its row inside the change's transaction (so no change
 * lands without its row); every other request gets its row from the
 * log_transaction hook. */
#ifndef AIC_AUDIT_H
#define AIC_AUDIT_H

#include <httpd.h>

#include "aic_db.h"

/**
 * Write the request's audit row for a change, inside db's open transaction.
 * old_values/new_values are JSON text (or NULL); status is what the request
 * will answer when the transaction commits.
 */
apr_status_t aic_audit_change(aic_db *db, request_rec *r, int status, const char *action,
                              const char *entity_type, const char *entity_id,
                              const char *old_values, const char *new_values);

/**
 * The INSERT of one audit row (16 arguments). A capability may put a WITH
 * clause with one argument before it, for a change made in the same
 * statement, and run it with aic_audit_change_with.
 */
#define AIC_AUDIT_INSERT_SQL                                                                       \
    "INSERT INTO audit_logs (user_id, username, method, uri, status, ip_address, user_agent,"      \
    " request_id, duration_ms, entity_type, entity_id, action, old_values, new_values,"            \
    " metadata)"                                                                                   \
    " VALUES (coalesce(%s::uuid, (SELECT id FROM users WHERE username = %s)), %s, %s, %s,"         \
    " %s::int, %s::inet, %s, %s, %s::int, %s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb)"

/**
 * As aic_audit_change without old or new values, through the statement
 * `label`: a WITH clause taking arg, then AIC_AUDIT_INSERT_SQL. One round trip
 * for a small change and its row (a share's view count).
 */
apr_status_t aic_audit_change_with(aic_db *db, request_rec *r, const char *label, const char *arg,
                                   int status, const char *action, const char *entity_type,
                                   const char *entity_id);

/** 1 when SetHandler gave r's location one of the module's handlers. */
int aic_location_is_ours(request_rec *r);

/** The log_transaction hook. */
int aic_audit_log_transaction(request_rec *r);

extern const aic_stmt aic_audit_stmts[];

#endif
