/* Audit: one audit_logs row per request the module handled. A request that
 * changes data writes its row inside the change's transaction (so no change
 * lands without its row); every other request gets its row from the
 * log_transaction hook. A row is one JSON object with named keys, built here
 * only and written by the SQL function audit_insert (sql/functions/audit.sql).
 * Its text is valid UTF-8 of bounded length whatever bytes the request held,
 * and no share token in its URI: the database never holds a live link. */
#ifndef AIC_AUDIT_H
#define AIC_AUDIT_H

#include <httpd.h>

#include "aic_db.h"
#include "core/aic_json.h"

/** Longest URI (with its query string) and User-Agent kept, in bytes. */
#define AIC_AUDIT_URI_MAX   2048
#define AIC_AUDIT_AGENT_MAX 2048
/** Longest user name, method, entity and action kept, in bytes. */
#define AIC_AUDIT_NAME_MAX 256

/**
 * r's audit row: user_id, username, method, uri (share tokens redacted),
 * status (left out when 0, for a statement that knows it), ip_address,
 * user_agent, request_id, duration_ms (so far), entity_type, entity_id,
 * action, old_values and new_values (JSON text, or NULL) and metadata. Every
 * string is made valid UTF-8 (U+FFFD for ill-formed bytes) and cut to its
 * cap. Allocated in r's pool.
 */
aic_json *aic_audit_json(request_rec *r, int status, const char *action, const char *entity_type,
                         const char *entity_id, const char *old_values, const char *new_values);

/**
 * Write the request's audit row for a change, inside db's open transaction,
 * and mark the request audited. old_values/new_values are JSON text (or
 * NULL); status is what the request will answer when the transaction commits.
 */
apr_status_t aic_audit_change(aic_db *db, request_rec *r, int status, const char *action,
                              const char *entity_type, const char *entity_id,
                              const char *old_values, const char *new_values);

/**
 * Start this process's writer of audit rows that need not wait for their
 * request (child_init): the rows of requests without a signed-in user.
 */
void aic_audit_child_init(apr_pool_t *pchild, server_rec *s);

/**
 * The log_transaction hook: the row of a request no change audited. A
 * request without a user goes to the writer (or, without one, is written
 * now); a signed-in user's row is written on the request's connection.
 */
int aic_audit_log_transaction(request_rec *r);

extern const aic_stmt aic_audit_stmts[];

/**
 * Write a change's audit row (as aic_audit_change), commit, and answer
 * status with the JSON text reply (204 without a body when reply is NULL).
 * On failure the change is rolled back and the failure answered. Returns
 * what the endpoint returns.
 */
int aic_audit_commit_send(aic_db *db, request_rec *r, int status, const char *action,
                          const char *entity_type, const char *entity_id, const char *old_values,
                          const char *new_values, const char *reply);

#endif
