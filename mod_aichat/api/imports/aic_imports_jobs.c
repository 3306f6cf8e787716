/* The owner's import jobs: list, one job, its progress as Server-Sent
 * Events, cancel. Another user's job is 404. */
#include "imports.h"
#include "httpd/aic_audit.h"

#include <http_protocol.h>
#include <apr_strings.h>

#include "core/aic_valid.h"

/* Events poll the job this often, without holding a database connection between. */
#define EVENTS_POLL      (500 * 1000)
#define EVENTS_MAX_POLLS (2 * 60 * 60) /* an hour */

static int not_found(request_rec *r)
{
    return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such import.", NULL);
}

int aic_imports_list(aic_ctx *ctx)
{
    const char *json;
    apr_status_t rv = aic_db_value(&json, ctx->db, "imports_list", AIC_ARGS(ctx->user->id));

    if (rv != APR_SUCCESS) {
        return aic_send_failure(ctx->r, rv);
    }
    return aic_send_json_text(ctx->r, HTTP_OK,
                              apr_pstrcat(ctx->r->pool, "{\"imports\":", json, "}", NULL));
}

int aic_imports_get(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id"), *json;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return not_found(ctx->r);
    }
    rv = aic_db_value(&json, ctx->db, "imports_get", AIC_ARGS(id, ctx->user->id));
    if (rv == APR_NOTFOUND) {
        return not_found(ctx->r);
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(ctx->r, rv);
    }
    return aic_send_json_text(ctx->r, HTTP_OK, json);
}

int aic_imports_cancel(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id");
    aic_rows rows;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return not_found(r);
    }
    rv = aic_db_begin(ctx->db);
    if (rv == APR_SUCCESS) {
        rv = aic_db_select(&rows, ctx->db, "imports_cancel", AIC_ARGS(id, ctx->user->id));
    }
    if (rv == APR_SUCCESS && rows.nrows == 0) {
        aic_db_rollback(ctx->db);
        return not_found(r);
    }
    if (rv == APR_SUCCESS) {
        rv = aic_audit_change(ctx->db, r, HTTP_OK, "import.cancel", "import_job", id, NULL,
                              rows.cells[0]);
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_commit(ctx->db);
    } else {
        aic_db_rollback(ctx->db);
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, rows.cells[0]);
}

static int finished(const char *status)
{
    return strcmp(status, "done") == 0 || strcmp(status, "failed") == 0 ||
           strcmp(status, "cancelled") == 0;
}

static apr_status_t send_event(request_rec *r, apr_bucket_brigade *bb, const char *name,
                               const char *json)
{
    apr_status_t rv = apr_brigade_printf(bb, NULL, NULL, "event: %s\ndata: %s\n\n", name, json);

    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_flush_create(r->connection->bucket_alloc));
    if (rv == APR_SUCCESS) {
        rv = ap_pass_brigade(r->output_filters, bb);
    }
    apr_brigade_cleanup(bb);
    return rv;
}

/* progress events whenever the job changed, then end when it is over. */
int aic_imports_events(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id"), *last = "";
    apr_bucket_brigade *bb;
    apr_pool_t *now, *kept, *was;
    aic_db *db = ctx->db;
    aic_rows rows;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return not_found(r);
    }
    rv = aic_db_select(&rows, db, "imports_get", AIC_ARGS(id, ctx->user->id));
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if (rows.nrows == 0) {
        return not_found(r);
    }
    r->status = HTTP_OK;
    ap_set_content_type(r, "text/event-stream; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Accel-Buffering", "no");
    apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    /* Each poll's rows in one pool, the last job sent in another: a stream
     * of any length holds two answers, not every one. */
    apr_pool_create(&now, r->pool);
    apr_pool_create(&kept, r->pool);
    for (int i = 0; i < EVENTS_MAX_POLLS; i++) {
        const char *json = rows.cells[0], *status = rows.cells[1];

        if (strcmp(json, last) != 0) {
            if (send_event(r, bb, "progress", json) != APR_SUCCESS || r->connection->aborted) {
                return OK;
            }
            apr_pool_clear(kept);
            last = apr_pstrdup(kept, json);
        }
        if (finished(status)) {
            send_event(r, bb, "end", json);
            return OK;
        }
        aic_db_release(db);
        apr_sleep(EVENTS_POLL);
        if (aic_client_gone(r)) {
            return OK;
        }
        apr_pool_clear(now);
        if (aic_db_acquire(&db, r) == APR_SUCCESS) {
            was = aic_db_pool_swap(db, now);
            rv = aic_db_select(&rows, db, "imports_get", AIC_ARGS(id, ctx->user->id));
            aic_db_pool_swap(db, was);
        } else {
            rv = AIC_DB_EDOWN;
        }
        if (rv != APR_SUCCESS || rows.nrows == 0) {
            send_event(
                r, bb, "error",
                "{\"code\":\"database_unavailable\",\"message\":\"" AIC_DB_UNAVAILABLE_MESSAGE
                "\"}");
            return OK;
        }
    }
    return OK;
}
