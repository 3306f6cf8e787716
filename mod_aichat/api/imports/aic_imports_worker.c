/* The worker: one thread per httpd process (threaded MPMs) that takes the
 * oldest waiting job of any node (FOR UPDATE SKIP LOCKED, in
 * import_job_take), reads the upload in two passes (import.h) and writes
 * each conversation in its own transaction with the job's counts. A job
 * whose process went away without a word (its heartbeat older than 30 s) is
 * taken again; conversations already written are found by their ids, so
 * nothing is written twice. When the process stops gracefully the job goes
 * back to the queue after the current conversation; cancel stops it there
 * too. The upload's file is removed when the job ends. */
#include "imports.h"

#include <ap_mpm.h>
#include <http_log.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <unistd.h>

APLOG_USE_MODULE(aichat);

#define IDLE_WAIT (1000 * 1000) /* look for work at least this often */

typedef struct {
    server_rec *s;
    apr_pool_t *pool;
    apr_thread_t *thread;
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *wake;
    int stopping, woken;
    const char *name; /* host:pid, as the job row records it */
} worker;

static worker *the_worker;

void aic_imports_wake(void)
{
    worker *w = the_worker;

    if (w && apr_thread_mutex_lock(w->lock) == APR_SUCCESS) {
        w->woken = 1;
        apr_thread_cond_signal(w->wake);
        apr_thread_mutex_unlock(w->lock);
    }
}

static int stopping(worker *w)
{
    int stop;

    apr_thread_mutex_lock(w->lock);
    stop = w->stopping;
    apr_thread_mutex_unlock(w->lock);
    return stop;
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

    if (stopping(j->w)) {
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

/* Take and run jobs until none waits. */
static void work(worker *w, apr_pool_t *p)
{
    while (!stopping(w)) {
        aic_db *db = NULL;
        aic_rows rows;
        apr_pool_t *jp;

        if (aic_db_open(&db, p, w->s) != APR_SUCCESS) {
            return;
        }
        if (aic_db_select(&rows, db, "imports_take", AIC_ARGS(w->name)) != APR_SUCCESS ||
            rows.nrows == 0) {
            aic_db_close(db);
            return;
        }
        apr_pool_create(&jp, p);
        run_job(w, db, jp, rows.cells[0], rows.cells[2], rows.cells[3]);
        apr_pool_destroy(jp);
        aic_db_close(db);
        apr_pool_clear(p);
    }
}

/* A pool with an allocator of its own: the worker clears its pools while
 * requests allocate in others. */
static apr_status_t own_pool(apr_pool_t **p, apr_pool_t *parent)
{
    apr_allocator_t *a = NULL;
    apr_status_t rv = apr_allocator_create(&a);

    if (rv == APR_SUCCESS && (rv = apr_pool_create_ex(p, parent, NULL, a)) == APR_SUCCESS) {
        apr_allocator_owner_set(a, *p);
    } else if (a) {
        apr_allocator_destroy(a);
    }
    return rv;
}

static void *APR_THREAD_FUNC loop(apr_thread_t *thread, void *data)
{
    worker *w = data;
    apr_pool_t *p;

    apr_pool_create(&p, w->pool);
    for (;;) {
        apr_thread_mutex_lock(w->lock);
        if (!w->stopping && !w->woken) {
            apr_thread_cond_timedwait(w->wake, w->lock, IDLE_WAIT);
        }
        w->woken = 0;
        if (w->stopping) {
            apr_thread_mutex_unlock(w->lock);
            break;
        }
        apr_thread_mutex_unlock(w->lock);
        work(w, p);
        apr_pool_clear(p);
    }
    (void)thread;
    return NULL;
}

static apr_status_t stop(void *data)
{
    worker *w = data;
    apr_status_t rv;

    apr_thread_mutex_lock(w->lock);
    w->stopping = 1;
    apr_thread_cond_signal(w->wake);
    apr_thread_mutex_unlock(w->lock);
    apr_thread_join(&rv, w->thread);
    the_worker = NULL;
    return APR_SUCCESS;
}

void aic_imports_child_init(apr_pool_t *pchild, server_rec *s)
{
    worker *w;
    apr_status_t rv;
    int threaded = 0;
    char host[256] = "";

    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) != APR_SUCCESS || !threaded) {
        return;
    }
    w = apr_pcalloc(pchild, sizeof(*w));
    w->s = s;
    gethostname(host, sizeof(host) - 1);
    w->name = apr_psprintf(pchild, "%s:%" APR_PID_T_FMT, host, getpid());
    if ((rv = own_pool(&w->pool, pchild)) != APR_SUCCESS ||
        (rv = apr_thread_mutex_create(&w->lock, APR_THREAD_MUTEX_DEFAULT, pchild)) != APR_SUCCESS ||
        (rv = apr_thread_cond_create(&w->wake, pchild)) != APR_SUCCESS ||
        (rv = apr_thread_create(&w->thread, NULL, loop, w, pchild)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "mod_aichat: cannot start the import worker");
        return;
    }
    the_worker = w;
    apr_pool_pre_cleanup_register(pchild, w, stop);
}
