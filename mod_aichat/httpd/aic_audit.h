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

#define AIC_AUDIT_COLUMNS                                                                          \
    "INSERT INTO audit_logs (user_id, username, method, uri, status, ip_address, user_agent,"      \
    " request_id, duration_ms, entity_type, entity_id, action, old_values, new_values,"            \
    " metadata)"
#define AIC_AUDIT_USER "coalesce(%s::uuid, (SELECT id FROM users WHERE username = %s))"

/** The INSERT of one audit row (16 arguments). */
#define AIC_AUDIT_INSERT_SQL                                                                       \
    AIC_AUDIT_COLUMNS " VALUES (" AIC_AUDIT_USER ", %s, %s, %s, %s::int, %s::inet, %s, %s,"        \
                      " %s::int, %s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb)"

/**
 * The same row inserted from a SELECT over FROM_WHERE (the same 16 arguments,
 * as aic_audit_select passes them): the status, the entity id and the new
 * values (jsonb) come from the SQL expressions STATUS, ENTITY_ID and
 * NEW_VALUES. A capability puts it after a WITH clause, so a change, its
 * outcome and its audit row take one round trip.
 */
#define AIC_AUDIT_INSERT_SELECT_SQL(STATUS, ENTITY_ID, NEW_VALUES, FROM_WHERE)                     \
    AIC_AUDIT_COLUMNS " SELECT " AIC_AUDIT_USER ", %s, %s, %s, coalesce(%s::int, " STATUS "),"     \
                      " %s::inet, %s, %s, %s::int, %s, coalesce(%s, " ENTITY_ID "), %s,"           \
                      " %s::jsonb, coalesce(%s::jsonb, " NEW_VALUES "), %s::jsonb " FROM_WHERE

/**
 * Run the statement `label` with nlead leading arguments followed by the 16
 * of r's audit row, its status, entity id and new values NULL (for
 * AIC_AUDIT_INSERT_SELECT_SQL to fill in). Rows land in out. The caller marks
 * the request audited when the statement wrote its row.
 */
apr_status_t aic_audit_select(aic_rows *out, aic_db *db, request_rec *r, const char *label,
                              int nlead, const char *const *lead, const char *action,
                              const char *entity_type);

/**
 * Record r's URI in its audit row with every occurrence of secret (a share
 * token) replaced by "{token}": the database never holds a live token.
 */
void aic_audit_redact(request_rec *r, const char *secret);

/**
 * The 16 values of r's audit row, in AIC_AUDIT_INSERT_SQL's order, into
 * args: user id, username (twice), method, URI (redacted), status, address,
 * User-Agent, request id, duration in ms so far, entity type, entity id,
 * action, old values, new values, metadata.
 */
void aic_audit_values(const char **args, request_rec *r, const char *status, const char *action,
                      const char *entity_type, const char *entity_id, const char *old_values,
                      const char *new_values);

/** The log_transaction hook. */
int aic_audit_log_transaction(request_rec *r);

extern const aic_stmt aic_audit_stmts[];

#endif
