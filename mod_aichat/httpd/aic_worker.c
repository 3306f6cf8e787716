/* The background worker's thread: a mutex and a condition to be woken, a
 * flag to stop, joined when the child's pool is cleaned; the loop that
 * takes the waiting jobs and runs them. */
#include "aic_worker.h"

#include <ap_mpm.h>
#include <http_log.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <unistd.h>

APLOG_USE_MODULE(aichat);

/* Look for work at least this often; while the database does not answer,
 * twice as long after each try, up to DOWN_WAIT. */
#define IDLE_WAIT apr_time_from_sec(1)
#define DOWN_WAIT apr_time_from_sec(30)

struct aic_worker_thread {
    apr_thread_t *thread;
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *wake;
    int stopping, woken;
    apr_interval_time_t wait; /* the worker's own: IDLE_WAIT, longer while down */
    const char *what, *take;
    aic_worker_run_fn run;
    aic_worker **slot;
};

void aic_worker_wake(aic_worker *w)
{
    struct aic_worker_thread *t = w ? w->thread : NULL;

    if (t && apr_thread_mutex_lock(t->lock) == APR_SUCCESS) {
        t->woken = 1;
        apr_thread_cond_signal(t->wake);
        apr_thread_mutex_unlock(t->lock);
    }
}

int aic_worker_stopping(aic_worker *w)
{
    struct aic_worker_thread *t = w->thread;
    int stop;

    apr_thread_mutex_lock(t->lock);
    stop = t->stopping;
    apr_thread_mutex_unlock(t->lock);
    return stop;
}

apr_status_t aic_worker_own_pool(apr_pool_t **p, apr_pool_t *parent)
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

/* Take and run jobs until none waits: each on a connection of its own,
 * given back before the next is taken. Whether the database answered. */
static int work(aic_worker *w, apr_pool_t *p)
{
    struct aic_worker_thread *t = w->thread;

    while (!aic_worker_stopping(w)) {
        aic_db *db = NULL;
        aic_rows rows;
        apr_pool_t *jp;
        apr_status_t rv;

        if (aic_db_open(&db, p, w->s) != APR_SUCCESS) {
            return 0;
        }
        if ((rv = aic_db_select(&rows, db, t->take, AIC_ARGS(w->name))) != APR_SUCCESS ||
            rows.nrows == 0) {
            aic_db_close(db);
            return rv == APR_SUCCESS;
        }
        apr_pool_create(&jp, p);
        t->run(w, db, jp, (const char *const *)rows.cells);
        apr_pool_destroy(jp);
        aic_db_close(db);
        apr_pool_clear(p);
    }
    return 1;
}

/* After a look for work: the next wait, and one line in the error log (from
 * this thread) when the database stops answering and when it answers again. */
static void pace(aic_worker *w, int answered)
{
    struct aic_worker_thread *t = w->thread;

    if (answered && t->wait > IDLE_WAIT) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, w->s,
                     "mod_aichat: the %s reaches the database again", t->what);
    } else if (!answered && t->wait == IDLE_WAIT) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s,
                     "mod_aichat: the %s cannot take jobs: the database did not answer; "
                     "trying again",
                     t->what);
    }
    if (answered) {
        t->wait = IDLE_WAIT;
    } else {
        t->wait = t->wait * 2 > DOWN_WAIT ? DOWN_WAIT : t->wait * 2;
    }
}

static void *APR_THREAD_FUNC loop(apr_thread_t *thread, void *data)
{
    aic_worker *w = data;
    struct aic_worker_thread *t = w->thread;
    apr_pool_t *p;

    apr_pool_create(&p, w->pool);
    for (;;) {
        apr_thread_mutex_lock(t->lock);
        if (!t->stopping && !t->woken) {
            apr_thread_cond_timedwait(t->wake, t->lock, t->wait);
        }
        t->woken = 0;
        if (t->stopping) {
            apr_thread_mutex_unlock(t->lock);
            break;
        }
        apr_thread_mutex_unlock(t->lock);
        pace(w, work(w, p));
        apr_pool_clear(p);
    }
    (void)thread;
    return NULL;
}

static apr_status_t stop(void *data)
{
    aic_worker *w = data;
    struct aic_worker_thread *t = w->thread;
    apr_status_t rv;

    apr_thread_mutex_lock(t->lock);
    t->stopping = 1;
    apr_thread_cond_signal(t->wake);
    apr_thread_mutex_unlock(t->lock);
    apr_thread_join(&rv, t->thread);
    *t->slot = NULL;
    return APR_SUCCESS;
}

void aic_worker_start(aic_worker **slot, apr_pool_t *pchild, server_rec *s, const char *what,
                      const char *take, aic_worker_run_fn run)
{
    aic_worker *w;
    apr_status_t rv;
    int threaded = 0;
    char host[256] = "";

    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) != APR_SUCCESS || !threaded) {
        return;
    }
    w = apr_pcalloc(pchild, sizeof(*w));
    w->thread = apr_pcalloc(pchild, sizeof(*w->thread));
    w->s = s;
    w->thread->wait = IDLE_WAIT;
    w->thread->what = what;
    w->thread->take = take;
    w->thread->run = run;
    w->thread->slot = slot;
    gethostname(host, sizeof(host) - 1);
    w->name = apr_psprintf(pchild, "%s:%" APR_PID_T_FMT, host, getpid());
    if ((rv = aic_worker_own_pool(&w->pool, pchild)) != APR_SUCCESS ||
        (rv = apr_thread_mutex_create(&w->thread->lock, APR_THREAD_MUTEX_DEFAULT, pchild)) !=
            APR_SUCCESS ||
        (rv = apr_thread_cond_create(&w->thread->wake, pchild)) != APR_SUCCESS ||
        (rv = apr_thread_create(&w->thread->thread, NULL, loop, w, pchild)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "mod_aichat: cannot start the %s", what);
        return;
    }
    *slot = w;
    apr_pool_pre_cleanup_register(pchild, w, stop);
}
