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

/* The URI an audit row records: the original request's, as redacted. */
static const char *audited_uri(request_rec *r)
{
    request_rec *orig = aic_original(r);
    aic_req *req = aic_req_get(r);

    if (req->audit_uri) {
        return req->audit_uri;
    }
    return orig->args ? apr_pstrcat(r->pool, orig->uri, "?", orig->args, NULL) : orig->uri;
}

void aic_audit_redact(request_rec *r, const char *secret)
{
    const char *uri = audited_uri(r);
    apr_size_t n = secret ? strlen(secret) : 0;
    const char *at;
    char *out = "";

    if (!n) {
        return;
    }
    while ((at = strstr(uri, secret))) {
        out = apr_pstrcat(r->pool, out, apr_pstrmemdup(r->pool, uri, (apr_size_t)(at - uri)),
                          "{token}", NULL);
        uri = at + n;
    }
    aic_req_get(r)->audit_uri = apr_pstrcat(r->pool, out, uri, NULL);
}

void aic_audit_values(const char **args, request_rec *r, const char *status, const char *action,
                      const char *entity_type, const char *entity_id, const char *old_values,
                      const char *new_values)
{
    request_rec *orig = aic_original(r);
    aic_req *req = aic_req_get(r);
    const char *user = orig->user ? orig->user : r->user;
    apr_time_t ms = apr_time_as_msec(apr_time_now() - orig->request_time);
    const char *values[16] = {req->user ? req->user->id : NULL,
                              user,
                              user,
                              orig->method,
                              audited_uri(r),
                              status,
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

    memcpy(args, values, sizeof(values));
}

static apr_status_t write_row(aic_db *db, request_rec *r, int status, const char *action,
                              const char *entity_type, const char *entity_id,
                              const char *old_values, const char *new_values)
{
    const char *args[16];

    aic_audit_values(args, r, apr_itoa(r->pool, status), action, entity_type, entity_id, old_values,
                     new_values);
    return aic_db_exec(NULL, db, "audit_insert", 16, args);
}

apr_status_t aic_audit_change(aic_db *db, request_rec *r, int status, const char *action,
                              const char *entity_type, const char *entity_id,
                              const char *old_values, const char *new_values)
{
    apr_status_t rv =
        write_row(db, r, status, action, entity_type, entity_id, old_values, new_values);

    if (rv == APR_SUCCESS) {
        aic_req_get(r)->audited = 1;
    }
    return rv;
}

apr_status_t aic_audit_select(aic_rows *out, aic_db *db, request_rec *r, const char *label,
                              int nlead, const char *const *lead, const char *action,
                              const char *entity_type)
{
    const char **args = apr_palloc(r->pool, sizeof(*args) * (apr_size_t)(nlead + 16));

    memcpy(args, lead, sizeof(*args) * (apr_size_t)nlead);
    aic_audit_values(args + nlead, r, NULL, action, entity_type, NULL, NULL, NULL);
    return aic_db_select(out, db, label, nlead + 16, args);
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
        rv = write_row(db, orig, status, "request", NULL, NULL, NULL, NULL);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, orig,
                      "mod_aichat: audit row for request %s (status %d) not written",
                      aic_request_id(orig), status);
    }
    return DECLINED;
}
