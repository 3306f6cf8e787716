#include "aic_audit.h"
#include "aic_auth.h"
#include "aic_batch.h"
#include "aic_config.h"
#include "aic_http.h"

#include <http_core.h>
#include <http_log.h>
#include <http_request.h>
#include <apr_strings.h>

#include "core/aic_share_token.h"
#include "core/aic_utf8.h"

APLOG_USE_MODULE(aichat);

/* One row (a JSON object) or many (an array, from the writer). */
const aic_stmt aic_audit_stmts[] = {{"audit_insert", "SELECT audit_insert(%s::json)::text"},
                                    {NULL, NULL}};

#define ROWS_EVERY apr_time_from_msec(100)
#define ROWS_BATCH 1000 /* rows that wake the writer early */

/* This process's rows of requests without a user, on their way to the
 * database; NULL when its writer could not start. */
static aic_batch *rows;

void aic_audit_child_init(apr_pool_t *pchild, server_rec *s)
{
    rows = aic_batch_start(pchild, s, "audit_insert", ROWS_EVERY, ROWS_BATCH);
}

/* The URI an audit row records: the original request's, with its query
 * string, without the share tokens in it. */
static const char *audited_uri(request_rec *orig)
{
    const char *uri =
        orig->args ? apr_pstrcat(orig->pool, orig->uri, "?", orig->args, NULL) : orig->uri;
    const char *handler = aic_location_handler(orig);

    return aic_share_token_redact(orig->pool, uri, handler && !strcmp(handler, "aichat-share"));
}

static void set_text(aic_json *row, const char *key, apr_pool_t *p, const char *s, apr_size_t max)
{
    aic_json_set_str(row, key, aic_utf8_clean(p, s, max));
}

aic_json *aic_audit_json(request_rec *r, int status, const char *action, const char *entity_type,
                         const char *entity_id, const char *old_values, const char *new_values)
{
    request_rec *orig = aic_original(r);
    aic_req *req = aic_req_get(r);
    apr_pool_t *p = r->pool;
    aic_json *row = aic_json_object(p);

    aic_json_set_str(row, "user_id", req->user ? req->user->id : NULL);
    set_text(row, "username", p, orig->user ? orig->user : r->user, AIC_AUDIT_NAME_MAX);
    set_text(row, "method", p, orig->method, AIC_AUDIT_NAME_MAX);
    set_text(row, "uri", p, audited_uri(orig), AIC_AUDIT_URI_MAX);
    if (status) {
        aic_json_set_int(row, "status", status);
    }
    aic_json_set_str(row, "ip_address", orig->useragent_ip);
    set_text(row, "user_agent", p, apr_table_get(orig->headers_in, "User-Agent"),
             AIC_AUDIT_AGENT_MAX);
    aic_json_set_str(row, "request_id", aic_request_id(r));
    aic_json_set_int(row, "duration_ms", apr_time_as_msec(apr_time_now() - orig->request_time));
    set_text(row, "entity_type", p, entity_type, AIC_AUDIT_NAME_MAX);
    set_text(row, "entity_id", p, entity_id, AIC_AUDIT_NAME_MAX);
    set_text(row, "action", p, action, AIC_AUDIT_NAME_MAX);
    aic_json_set(row, "old_values", aic_json_from(p, old_values));
    aic_json_set(row, "new_values", aic_json_from(p, new_values));
    aic_json_set(row, "metadata", aic_json_from(p, req->notes));
    return row;
}

static apr_status_t write_row(aic_db *db, request_rec *r, const aic_json *row)
{
    const char *written = NULL;

    return aic_db_value(&written, db, "audit_insert", AIC_ARGS(aic_json_dump(row, r->pool)));
}

apr_status_t aic_audit_change(aic_db *db, request_rec *r, int status, const char *action,
                              const char *entity_type, const char *entity_id,
                              const char *old_values, const char *new_values)
{
    apr_status_t rv = write_row(
        db, r, aic_audit_json(r, status, action, entity_type, entity_id, old_values, new_values));

    if (rv == APR_SUCCESS) {
        aic_req_get(r)->audited = 1;
    }
    return rv;
}

/* The status the client got: an ErrorDocument (the module's JSON errors)
 * answers in an internal redirect, after the request's own status was set. */
static int answered_status(request_rec *orig)
{
    request_rec *last = orig;

    while (last->next) {
        last = last->next;
    }
    return last->status;
}

/* Hand row to the writer, stamped with the time now. 0 when it cannot take it. */
static int queue_row(request_rec *r, aic_json *row)
{
    aic_json_set_int(row, "at", apr_time_now());
    return aic_batch_add(rows, aic_json_dump(row, r->pool));
}

int aic_audit_commit_send(aic_db *db, request_rec *r, int status, const char *action,
                          const char *entity_type, const char *entity_id, const char *old_values,
                          const char *new_values, const char *reply)
{
    apr_status_t rv =
        aic_audit_change(db, r, status, action, entity_type, entity_id, old_values, new_values);

    if (rv != APR_SUCCESS || (rv = aic_db_commit(db)) != APR_SUCCESS) {
        aic_db_rollback(db);
        aic_req_get(r)->audited = 0;
        return aic_send_failure(r, rv);
    }
    if (!reply) {
        r->status = HTTP_NO_CONTENT;
        apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
        return OK;
    }
    return aic_send_json_text(r, status, reply);
}

int aic_audit_log_transaction(request_rec *r)
{
    request_rec *orig = aic_original(r);
    const aic_server_conf *conf = aic_config_get(orig->server);
    aic_req *req;
    aic_json *row;
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
    status = answered_status(orig);
    if (!conf->audit_reads && status < 400 && (orig->method_number == M_GET || orig->header_only)) {
        return DECLINED;
    }
    row = aic_audit_json(orig, status, "request", NULL, NULL, NULL, NULL);
    /* A request without a user (a 401, a health check, a share link's 404)
     * need not take a connection for its row: the writer writes many rows in
     * one statement, with the time they were queued. */
    if (!req->user && queue_row(orig, row)) {
        return DECLINED;
    }
    /* A transaction left open by a failed handler must not swallow the row. */
    rv = req->db_down ? AIC_DB_EDOWN : aic_db_acquire(&db, orig);
    if (rv == APR_SUCCESS) {
        aic_db_rollback(db);
        rv = write_row(db, orig, row);
    }
    /* The database away (or a connection found dead after it came back):
     * the writer tries again until it answers. */
    if (rv == AIC_DB_EDOWN && queue_row(orig, row)) {
        return DECLINED;
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv == AIC_DB_EDOWN ? 0 : rv, orig,
                      "mod_aichat: audit row for request %s (status %d) not written%s",
                      aic_request_id(orig), status,
                      rv == AIC_DB_EDOWN ? ": database unavailable" : "");
    }
    return DECLINED;
}
