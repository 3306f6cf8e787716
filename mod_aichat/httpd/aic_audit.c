#include "aic_audit.h"
#include "aic_auth.h"
#include "aic_config.h"
#include "aic_http.h"

#include <http_core.h>
#include <http_log.h>
#include <http_request.h>
#include <apr_strings.h>

APLOG_USE_MODULE(aichat);

const aic_stmt aic_audit_stmts[] = {{"audit_insert", AIC_AUDIT_INSERT_SQL}, {NULL, NULL}};

/* The name SetHandler gave the request's location, if any. */
static const char *configured_handler(request_rec *r)
{
    core_dir_config *d = ap_get_core_module_config(r->per_dir_config);
    const char *err = NULL, *name;

    if (!d || !d->expr_handler) {
        return r->handler;
    }
    name = ap_expr_str_exec(r, d->expr_handler, &err);
    return err ? NULL : name;
}

int aic_location_is_ours(request_rec *r)
{
    const char *h = configured_handler(r);

    return h && !strncmp(h, "aichat-", 7);
}

/* Run label with its leading argument (none, or one for a WITH clause)
 * followed by the audit row's 16. */
static apr_status_t write_row(aic_db *db, request_rec *r, const char *label, const char *arg,
                              int status, const char *action, const char *entity_type,
                              const char *entity_id, const char *old_values, const char *new_values)
{
    request_rec *orig = aic_original(r);
    aic_req *req = aic_req_get(r);
    const char *uri =
        orig->args ? apr_pstrcat(r->pool, orig->uri, "?", orig->args, NULL) : orig->uri;
    apr_time_t ms = apr_time_as_msec(apr_time_now() - orig->request_time);
    const char *user = orig->user ? orig->user : r->user;
    const char *args[17] = {arg,
                            req->user ? req->user->id : NULL,
                            user,
                            user,
                            orig->method,
                            uri,
                            apr_itoa(r->pool, status),
                            orig->useragent_ip,
                            apr_table_get(orig->headers_in, "User-Agent"),
                            aic_request_id(r),
                            apr_psprintf(r->pool, "%" APR_TIME_T_FMT, ms),
                            entity_type,
                            entity_id,
                            action,
                            old_values,
                            new_values,
                            req->notes};

    return arg ? aic_db_exec(NULL, db, label, 17, args)
               : aic_db_exec(NULL, db, label, 16, args + 1);
}

apr_status_t aic_audit_change(aic_db *db, request_rec *r, int status, const char *action,
                              const char *entity_type, const char *entity_id,
                              const char *old_values, const char *new_values)
{
    apr_status_t rv = write_row(db, r, "audit_insert", NULL, status, action, entity_type, entity_id,
                                old_values, new_values);

    if (rv == APR_SUCCESS) {
        aic_req_get(r)->audited = 1;
    }
    return rv;
}

apr_status_t aic_audit_change_with(aic_db *db, request_rec *r, const char *label, const char *arg,
                                   int status, const char *action, const char *entity_type,
                                   const char *entity_id)
{
    apr_status_t rv =
        write_row(db, r, label, arg, status, action, entity_type, entity_id, NULL, NULL);

    if (rv == APR_SUCCESS) {
        aic_req_get(r)->audited = 1;
    }
    return rv;
}

int aic_audit_log_transaction(request_rec *r)
{
    request_rec *orig = aic_original(r);
    const aic_server_conf *conf = aic_config_get(orig->server);
    aic_req *req;
    aic_db *db = NULL;
    apr_status_t rv;
    int status;

    if (!aic_location_is_ours(orig)) {
        return DECLINED;
    }
    req = aic_req_get(orig);
    if (req->audited) {
        return DECLINED;
    }
    status = orig->status;
    if (!conf->audit_reads && status < 400 && (orig->method_number == M_GET || orig->header_only)) {
        return DECLINED;
    }
    if (req->db_down) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, orig,
                      "mod_aichat: audit row for request %s not written: database unavailable",
                      aic_request_id(orig));
        return DECLINED;
    }
    /* A transaction left open by a failed handler must not swallow the row. */
    if ((rv = aic_db_acquire(&db, orig)) == APR_SUCCESS) {
        aic_db_rollback(db);
        rv = write_row(db, orig, "audit_insert", NULL, status, "request", NULL, NULL, NULL, NULL);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, orig,
                      "mod_aichat: audit row for request %s (status %d) not written",
                      aic_request_id(orig), status);
    }
    return DECLINED;
}
