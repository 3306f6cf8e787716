/* The owner's import jobs: list, one job, the conversations it wrote, its
 * progress as Server-Sent Events, cancel. Another user's job is 404. */
#include "imports.h"
#include "httpd/aic_audit.h"

#include <http_protocol.h>
#include <apr_strings.h>

#include "core/aic_cursor.h"
#include "core/aic_json.h"
#include "core/aic_valid.h"

/* Events poll the job this often, without holding a database connection between. */
#define EVENTS_POLL      (500 * 1000)
#define EVENTS_MAX_POLLS (2 * 60 * 60) /* an hour */

/* Pages: of jobs (GET /imports), of a job's conversations. */
#define JOBS_PAGE      20
#define JOBS_PAGE_MAX  100
#define CONVS_PAGE     200
#define CONVS_PAGE_MAX 500

static int not_found(request_rec *r)
{
    return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such import.", NULL);
}

/* The limit of a page, or -1 after a 422 was sent. */
static int page_limit(request_rec *r, apr_table_t *q, int def, int max)
{
    int limit = aic_valid_limit(apr_table_get(q, "limit"), def, max);

    if (limit < 0) {
        aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                       apr_psprintf(r->pool, "limit must be 1 to %d.", max), "limit");
    }
    return limit;
}

static int bad_cursor(request_rec *r)
{
    return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                          "after is not a cursor from this list.", "after");
}

/* A page of the owner's jobs, newest first. */
int aic_imports_list(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_table_t *q = aic_query_args(r);
    const char *after = apr_table_get(q, "after"), *json;
    aic_json *args = aic_json_object(r->pool);
    int limit = page_limit(r, q, JOBS_PAGE, JOBS_PAGE_MAX);
    apr_status_t rv;

    if (limit < 0) {
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    /* The cursor the statement issues: "ij", the last job's id and its
     * creation. */
    if (aic_list_after(r, args, after, "ij") != OK) {
        return OK;
    }
    aic_json_set_str(args, "viewer", ctx->user->id);
    aic_json_set_int(args, "limit", limit);
    rv = aic_db_value(&json, ctx->db, "imports_list", AIC_ARGS(aic_json_dump(args, r->pool)));
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, json);
}

/* A page of the conversations one of the owner's jobs wrote, in its order. */
int aic_imports_conversations(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_table_t *q = aic_query_args(r);
    const char *id = apr_table_get(ctx->params, "id"), *after = apr_table_get(q, "after");
    const char *json;
    aic_json *args = aic_json_object(r->pool);
    int limit;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return not_found(r);
    }
    if ((limit = page_limit(r, q, CONVS_PAGE, CONVS_PAGE_MAX)) < 0) {
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    /* The cursor the statement issues: "ic", the last conversation's
     * position in the job (an integer) and its id. */
    if (after && *after) {
        const char *fields[2];

        if (aic_cursor_decode(fields, r->pool, after, "ic", 2) != APR_SUCCESS ||
            !aic_valid_id_cursor(fields[0]) || strlen(fields[0]) > 9 ||
            !aic_valid_uuid(fields[1])) {
            return bad_cursor(r);
        }
        aic_json_set_str(args, "after_pos", fields[0]);
        aic_json_set_str(args, "after_id", fields[1]);
    }
    aic_json_set_str(args, "viewer", ctx->user->id);
    aic_json_set_str(args, "id", id);
    aic_json_set_int(args, "limit", limit);
    rv = aic_db_value(&json, ctx->db, "imports_conversations",
                      AIC_ARGS(aic_json_dump(args, r->pool)));
    if (rv == APR_NOTFOUND) {
        return not_found(r);
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, json);
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
