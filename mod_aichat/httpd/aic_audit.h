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

/** 1 when SetHandler gave r's location one of the module's handlers. */
int aic_location_is_ours(request_rec *r);

/** The log_transaction hook. */
int aic_audit_log_transaction(request_rec *r);

extern const aic_stmt aic_audit_stmts[];

#endif
