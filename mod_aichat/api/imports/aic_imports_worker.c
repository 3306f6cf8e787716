/* The worker: one thread per httpd process (aic_worker) that takes the
 * oldest waiting job of any node (FOR UPDATE SKIP LOCKED, in
 * import_job_take), reads the upload in two passes (import.h) and writes
 * each conversation in its own transaction with the job's counts. A job
 * whose process went away without a word (its heartbeat older than 30 s) is
 * taken again; conversations already written are found by their ids, so
 * nothing is written twice. When the process stops gracefully the job goes
 * back to the queue after the current conversation; cancel stops it there
 * too. The upload's file is removed when the job ends. */
#include "imports.h"

#include "httpd/aic_worker.h"

#include <http_log.h>
#include <apr_file_io.h>
#include <apr_strings.h>

APLOG_USE_MODULE(aichat);

typedef aic_worker worker;

static worker *the_worker;

void aic_imports_wake(void)
{
    aic_worker_wake(the_worker);
}

/* One job being worked. */
typedef struct {
    worker *w;
    aic_db *db;
    const char *id;
    apr_status_t stop; /* why the reading stopped early */
} job;

#define JOB_CANCELLED (APR_OS_START_USERERR + 321)
#define JOB_STOPPING  (APR_OS_START_USERERR + 322)

static apr_status_t on_conv(void *baton, const aic_import_conv *c, apr_pool_t *p)
{
    job *j = baton;
    const char *out;
    apr_pool_t *was;
    apr_status_t rv;

    if (aic_worker_stopping(j->w)) {
        return j->stop = JOB_STOPPING;
    }
    was = aic_db_pool_swap(j->db, p);
    rv = aic_db_value(&out, j->db, "imports_conversation",
                      AIC_ARGS(j->id, j->w->name, aic_import_conv_json(c, p)));
    aic_db_pool_swap(j->db, was);
    if (rv != APR_SUCCESS) {
        return j->stop = rv;
    }
    if (strstr(out, "\"stop\"")) {
        return j->stop = JOB_CANCELLED;
    }
    return APR_SUCCESS;
}

/* ChatGPT's message feedback, once the conversations are written. */
static apr_status_t on_feedback(void *baton, aic_json *records, apr_pool_t *p)
{
    job *j = baton;
    const char *go_on;
    apr_pool_t *was;
    apr_status_t rv;

    was = aic_db_pool_swap(j->db, p);
    rv = aic_db_value(&go_on, j->db, "imports_feedback",
                      AIC_ARGS(j->id, j->w->name, aic_json_dump(records, p)));
    aic_db_pool_swap(j->db, was);
    if (rv != APR_SUCCESS) {
        return j->stop = rv;
    }
    if (strcmp(go_on, "1") != 0) {
        return j->stop = JOB_CANCELLED;
    }
    return APR_SUCCESS;
}

static void on_reject(void *baton, const char *ext_id, const char *title, const char *code,
                      const char *message)
{
    job *j = baton;
    apr_pool_t *p, *was;
    aic_json *args, *errors, *e;
    const char *ok;

    apr_pool_create(&p, j->w->pool);
    args = aic_json_object(p);
    errors = aic_json_array(p);
    e = aic_json_object(p);
    aic_json_set_str(e, "conversation", ext_id);
    aic_json_set_str(e, "title", title);
    aic_json_set_str(e, "code", code);
    aic_json_set_str(e, "message", message);
    aic_json_push(errors, e);
    aic_json_set(args, "errors", errors);
    was = aic_db_pool_swap(j->db, p);
    aic_db_value(&ok, j->db, "imports_progress",
                 AIC_ARGS(j->id, j->w->name, aic_json_dump(args, p)));
    aic_db_pool_swap(j->db, was);
    apr_pool_destroy(p);
}

static void end_job(job *j, apr_pool_t *p, const char *status, const char *code,
                    const char *message)
{
    aic_json *args = aic_json_object(p);
    const char *out;

    aic_json_set_str(args, "status", status);
    if (code) {
        aic_json *e = aic_json_object(p);

        aic_json_set_str(e, "code", code);
        aic_json_set_str(e, "message", message);
        aic_json_set(args, "error", e);
        aic_json_set_str(args, "reason", message);
    }
    aic_db_value(&out, j->db, "imports_end", AIC_ARGS(j->id, j->w->name, aic_json_dump(args, p)));
}

static void run_job(worker *w, aic_db *db, apr_pool_t *p, const char *id, const char *path,
                    const char *name)
{
    job j = {w, db, id, APR_SUCCESS};
    apr_array_header_t *members;
    aic_json *args = aic_json_object(p), *skipped = aic_json_object(p), *errors;
    const char *code, *message, *ok = "0", *format = NULL;
    int total = 0;
    apr_status_t rv;
    apr_finfo_t fi;

    if (apr_stat(&fi, path, APR_FINFO_SIZE, p) != APR_SUCCESS) {
        end_job(&j, p, "failed", "upload_missing",
                "The uploaded file is not on this server (AIChatImportDir must be shared by "
                "every node).");
        return;
    }
    if (aic_import_file_scan(&members, &code, &message, p, path, *name ? name : NULL) !=
        APR_SUCCESS) {
        end_job(&j, p, "failed", code, message);
        apr_file_remove(path, p);
        return;
    }
    errors = aic_json_array(p);
    for (int i = 0; i < members->nelts; i++) {
        const aic_import_member *m = &APR_ARRAY_IDX(members, i, aic_import_member);

        if (m->format != AIC_IMPORT_UNKNOWN) {
            format = aic_import_source(m->format);
            total += m->count;
        } else if (m->code && strcmp(m->code, "unknown_format") == 0) {
            aic_import_count(skipped, "ignored_member", 1);
        } else {
            aic_json *e = aic_json_object(p);

            aic_json_set_str(e, "member", m->name);
            aic_json_set_str(e, "code", m->code);
            aic_json_set_str(e, "message", m->message);
            aic_json_push(errors, e);
        }
    }
    aic_json_set_str(args, "format", format);
    aic_json_set_int(args, "conversations_total", total);
    aic_json_set(args, "skipped", skipped);
    aic_json_set(args, "errors", errors);
    rv = aic_db_value(&ok, db, "imports_progress", AIC_ARGS(id, w->name, aic_json_dump(args, p)));
    if (rv != APR_SUCCESS || strcmp(ok, "1") != 0) {
        if (rv == APR_SUCCESS) {
            end_job(&j, p, "cancelled", NULL, NULL);
        }
        return;
    }
    skipped = aic_json_object(p);
    rv = aic_import_file_read(p, path, members, on_conv, on_reject, on_feedback, &j, skipped);
    if (j.stop == JOB_STOPPING) {
        end_job(&j, p, "requeue", NULL, NULL);
        return; /* the file stays for whoever takes the job next */
    }
    if (j.stop != APR_SUCCESS && j.stop != JOB_CANCELLED) {
        /* The database went away: the job's heartbeat stops, and a worker takes it again. */
        ap_log_error(APLOG_MARK, APLOG_WARNING, j.stop, w->s,
                     "mod_aichat: import job %s stopped: the database did not answer", id);
        return;
    }
    args = aic_json_object(p);
    aic_json_set(args, "skipped", skipped);
    aic_json_set_int(args, "bytes_read", (apr_int64_t)fi.size);
    aic_db_value(&ok, db, "imports_progress", AIC_ARGS(id, w->name, aic_json_dump(args, p)));
    if (j.stop == JOB_CANCELLED) {
        end_job(&j, p, "cancelled", NULL, NULL);
    } else if (rv != APR_SUCCESS) {
        end_job(&j, p, "failed", "invalid_upload", "The upload changed while it was imported.");
    } else {
        end_job(&j, p, "done", NULL, NULL);
    }
    apr_file_remove(path, p);
}

/* A job import_job_take gave: id, owner, file path, file name. */
static void run(worker *w, aic_db *db, apr_pool_t *p, const char *const *row)
{
    run_job(w, db, p, row[0], row[2], row[3]);
}

void aic_imports_child_init(apr_pool_t *pchild, server_rec *s)
{
    aic_worker_start(&the_worker, pchild, s, "import worker", "imports_take", run);
}
