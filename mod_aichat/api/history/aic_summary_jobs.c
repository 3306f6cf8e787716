/* "Summarise these": POST /conversations/bulk with action summarise queues
 * a summary job (organise_bulk, summary_job_create); GET /summary-jobs lists
 * its owner's jobs (newest first, a page at a time), GET /summary-jobs/{id}
 * shows one (status, counts, the error of each conversation that failed),
 * DELETE /summary-jobs/{id} cancels it: a queued job ends at once, a running
 * one after the conversation it is summarising; cancelling an ended job
 * changes nothing and answers it as it is. Others' jobs are 404.
 * A worker thread per httpd process (httpd/aic_worker) takes the oldest
 * waiting job (FOR UPDATE SKIP LOCKED) and summarises its conversations one
 * after the other as POST /conversations/{id}/summary does
 * (aic_summary_call, aic_chat_call_run: charged to the job's owner, the
 * reservation given back when the call fails), each stored and settled with
 * the job's progress and an audit row in one statement (summary_job_step).
 * A conversation that fails is recorded and the job goes on; a cancelled
 * job ends before its next conversation (summary_job_next). When the
 * process stops gracefully the job goes back to the queue after the current
 * conversation; a job whose process went away without a word (no heartbeat
 * for 30 s) is taken again where it stopped. */
#include "history.h"
#include "httpd/aic_worker.h"

#include <http_log.h>
#include <apr_strings.h>

#include "core/aic_valid.h"

APLOG_USE_MODULE(aichat);

#define JOBS_PAGE     20
#define JOBS_PAGE_MAX 100

static aic_worker *the_worker;

void aic_summary_jobs_wake(void)
{
    aic_worker_wake(the_worker);
}

int aic_summary_job_get(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id");
    aic_json *args = aic_json_object(ctx->r->pool);

    if (!aic_valid_uuid(id)) {
        return aic_history_not_found(ctx, "summary job");
    }
    aic_json_set_str(args, "id", id);
    return aic_history_answer(ctx, "history_summary_job_get", args, HTTP_OK, NULL, NULL);
}

int aic_summary_job_list(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_table_t *q = aic_query_args(r);
    const char *after = apr_table_get(q, "after"), *active = apr_table_get(q, "active");
    int limit = aic_valid_limit(apr_table_get(q, "limit"), JOBS_PAGE, JOBS_PAGE_MAX);
    aic_json *args = aic_json_object(r->pool);

    if (limit < 0) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_psprintf(r->pool, "limit must be 1 to %d.", JOBS_PAGE_MAX),
                              "limit");
    }
    if (active && *active) {
        if (aic_valid_flag(active) < 0) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "active must be true or false (1 or 0).", "active");
        }
        aic_json_set_bool(args, "active", aic_valid_flag(active));
    }
    /* The cursor the statement issues: "j", the last job's id and its
     * creation. */
    if (aic_list_after(r, args, after, "j") != OK) {
        return OK;
    }
    aic_json_set_int(args, "limit", limit);
    return aic_history_answer(ctx, "history_summary_job_list", args, HTTP_OK, NULL, NULL);
}

int aic_summary_job_cancel(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id");
    aic_json *args = aic_json_object(ctx->r->pool);

    if (!aic_valid_uuid(id)) {
        return aic_history_not_found(ctx, "summary job");
    }
    aic_json_set_str(args, "id", id);
    return aic_history_answer(ctx, "history_summary_job_cancel", args, HTTP_OK, "cancel",
                              "summary_job");
}

static aic_json *error_json(apr_pool_t *p, const char *code, const char *message)
{
    aic_json *e = aic_json_object(p);

    aic_json_set_str(e, "code", code);
    aic_json_set_str(e, "message", message);
    return e;
}

/* Summarise conv, the job's next conversation, and record what came of it. */
static apr_status_t step(aic_worker *w, aic_ctx *ctx, apr_pool_t *p, const char *job,
                         const char *model, const char *conv)
{
    aic_json *args = aic_json_object(p), *src = NULL;
    const char *text = NULL, *code;
    aic_chat_call call;
    apr_status_t rv;

    aic_json_set_str(args, "viewer", ctx->user->id);
    aic_json_set_str(args, "conv", conv);
    aic_json_set_str(args, "slug", model);
    rv = aic_db_value(&text, ctx->db, "history_summary_source", AIC_ARGS(aic_json_dump(args, p)));
    if (rv == APR_SUCCESS && aic_json_typeof(src = aic_json_from(p, text)) != AIC_JSON_OBJECT) {
        rv = APR_EGENERAL;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    memset(&call, 0, sizeof(call));
    args = aic_json_object(p);
    aic_json_set_str(args, "job", job);
    aic_json_set_str(args, "worker", w->name);
    aic_json_set_str(args, "conv", conv);
    if ((code = aic_json_str(aic_json_get(src, "code"), p))) {
        aic_json_set(args, "error",
                     error_json(p, code, aic_json_str(aic_json_get(src, "message"), p)));
    } else {
        aic_summary_call(&call, p, w->s, src, conv);
        if (aic_chat_call_run(&call, ctx) != APR_SUCCESS) {
            aic_json_set(args, "error", error_json(p, call.code, call.message));
            call.reserved = 0; /* given back */
        } else {
            aic_json_set_str(args, "summary", call.text);
            aic_json_set_str(args, "model", model);
            aic_json_set_int(args, "reserved", call.reserved);
            aic_json_set_int(args, "used", call.used);
        }
    }
    rv = aic_db_value(&text, ctx->db, "history_summary_job_step", AIC_ARGS(aic_json_dump(args, p)));
    if (call.reserved && (rv != APR_SUCCESS || strstr(text, "\"not_found\""))) {
        /* Not stored (the job is no longer this worker's): not charged. */
        aic_chat_call_release(&call, ctx);
    }
    return rv;
}

/* A job summary_job_take gave (id, owner, the owner's user name, model):
 * its conversations one after the other. */
static void run_job(aic_worker *w, aic_db *db, apr_pool_t *p, const char *const *row)
{
    const char *job = row[0], *conv = NULL, *ok;
    aic_user user;
    aic_ctx ctx;

    memset(&user, 0, sizeof(user));
    user.id = row[1];
    user.username = row[2];
    memset(&ctx, 0, sizeof(ctx));
    ctx.conf = aic_config_get(w->s);
    ctx.db = db;
    ctx.user = &user;
    for (;;) {
        apr_pool_t *cp, *was;
        apr_status_t rv;

        if (aic_worker_stopping(w)) {
            aic_db_value(&ok, db, "history_summary_job_requeue", AIC_ARGS(job, w->name));
            return;
        }
        rv = aic_db_value(&conv, db, "history_summary_job_next", AIC_ARGS(job, w->name));
        if (rv != APR_SUCCESS || !conv || !*conv) {
            return; /* done, no longer ours, or the database went away (taken again later) */
        }
        apr_pool_create(&cp, p);
        was = aic_db_pool_swap(db, cp);
        rv = step(w, &ctx, cp, job, row[3], apr_pstrdup(cp, conv));
        aic_db_pool_swap(db, was);
        apr_pool_destroy(cp);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, w->s,
                         "mod_aichat: summary job %s stopped: the database did not answer", job);
            return;
        }
    }
}

void aic_summary_jobs_child_init(apr_pool_t *pchild, server_rec *s)
{
    aic_worker_start(&the_worker, pchild, s, "summary worker", "history_summary_job_take", run_job);
}
