/* Background threads (a mutex and a condition to be woken, a flag to stop,
 * joined when the child's pool is cleaned), and the worker of jobs that runs
 * on one: the loop that takes the waiting jobs and runs them. */
#include "aic_worker.h"

#include <ap_mpm.h>
#include <http_log.h>
#include <util_mutex.h>
#include <apr_strings.h>
#include <apr_proc_mutex.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

APLOG_USE_MODULE(aichat);

/* Look for work at least this often; while the database does not answer,
 * twice as long after each try, up to DOWN_WAIT. */
#define IDLE_WAIT apr_time_from_sec(1)
#define DOWN_WAIT apr_time_from_sec(30)

/* ---- background threads ---- */

struct aic_bg {
    apr_thread_t *thread;
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *wake;
    int stopping, woken; /* under lock */
    aic_bg_fn fn;
    void *data;
};

void aic_bg_wake(aic_bg *bg)
{
    if (bg && apr_thread_mutex_lock(bg->lock) == APR_SUCCESS) {
        bg->woken = 1;
        apr_thread_cond_signal(bg->wake);
        apr_thread_mutex_unlock(bg->lock);
    }
}

int aic_bg_wait(aic_bg *bg, apr_interval_time_t timeout, int even_if_woken)
{
    int stop;

    apr_thread_mutex_lock(bg->lock);
    if (!bg->stopping && (even_if_woken || !bg->woken)) {
        bg->woken = 0;
        apr_thread_cond_timedwait(bg->wake, bg->lock, timeout);
    }
    bg->woken = 0;
    stop = bg->stopping;
    apr_thread_mutex_unlock(bg->lock);
    return stop;
}

int aic_bg_stopping(aic_bg *bg)
{
    int stop;

    apr_thread_mutex_lock(bg->lock);
    stop = bg->stopping;
    apr_thread_mutex_unlock(bg->lock);
    return stop;
}

static void *APR_THREAD_FUNC bg_main(apr_thread_t *thread, void *data)
{
    aic_bg *bg = data;

    bg->fn(bg, bg->data);
    /* A plain return, not apr_thread_exit: pthread_exit's unwinding leaves
     * the thread's stack poisoned for AddressSanitizer, which then reports
     * its own clean-up of the thread. */
    (void)thread;
    return NULL;
}

/* Before pchild's subpools go: raise the flag, wake the thread, join it. */
static apr_status_t bg_stop(void *data)
{
    aic_bg *bg = data;
    apr_status_t rv;

    apr_thread_mutex_lock(bg->lock);
    bg->stopping = 1;
    apr_thread_cond_signal(bg->wake);
    apr_thread_mutex_unlock(bg->lock);
    apr_thread_join(&rv, bg->thread);
    return APR_SUCCESS;
}

/* Start a thread that takes none of the process's signals: they are the
 * MPM's, and prefork's handlers end the process (pchild cleaned, this
 * thread joined), which a background thread must not run. The faults a
 * thread raises itself stay its own. Threaded MPMs block them all before
 * child_init already. */
static apr_status_t start_thread(apr_thread_t **thread, aic_bg *bg, apr_pool_t *pchild)
{
    static const int own[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};
    sigset_t mask, old;
    apr_status_t rv;
    size_t i;

    sigfillset(&mask);
    for (i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
        sigdelset(&mask, own[i]);
    }
    pthread_sigmask(SIG_BLOCK, &mask, &old);
    rv = apr_thread_create(thread, NULL, bg_main, bg, pchild);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rv;
}

void aic_bg_start(aic_bg **out, apr_pool_t *pchild, server_rec *s, const char *what, aic_bg_fn fn,
                  void *data)
{
    aic_bg *bg;
    apr_status_t rv;

    *out = NULL;
    bg = apr_pcalloc(pchild, sizeof(*bg));
    bg->fn = fn;
    bg->data = data;
    if ((rv = apr_thread_mutex_create(&bg->lock, APR_THREAD_MUTEX_DEFAULT, pchild)) !=
            APR_SUCCESS ||
        (rv = apr_thread_cond_create(&bg->wake, pchild)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "mod_aichat: cannot start the %s", what);
        return;
    }
    /* Set before the thread runs, which may read it through data. */
    *out = bg;
    if ((rv = start_thread(&bg->thread, bg, pchild)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "mod_aichat: cannot start the %s", what);
        *out = NULL;
        return;
    }
    apr_pool_pre_cleanup_register(pchild, bg, bg_stop);
}

/* ---- the worker of jobs ---- */

/* Under a non-threaded MPM (prefork) a node has many processes, each
 * serving one request at a time: only one of them works the jobs, the one
 * whose worker holds the node's lock AIC_JOBS_MUTEX (its mechanism set by a
 * Mutex directive). The others' workers try it at each look for work. The
 * worker that took it gives it back when its thread ends. Its default
 * mechanism is fcntl, which the kernel frees if the process dies (APR's
 * own default on Linux, a process-shared pthread mutex, is not known to
 * be). Under a threaded MPM there is no lock: every process works jobs. */
#define AIC_JOBS_MUTEX "aichat-jobs"

static apr_proc_mutex_t *jobs_lock;
static apr_thread_mutex_t *jobs_guard; /* this process's: jobs_holder */
static aic_worker *jobs_holder;        /* the worker of this process holding jobs_lock */

void aic_worker_pre_config(apr_pool_t *pconf)
{
    ap_mutex_register(pconf, AIC_JOBS_MUTEX, NULL, APR_LOCK_FCNTL, 0);
}

int aic_worker_post_config(apr_pool_t *pconf, server_rec *s)
{
    int threaded = 0;

    jobs_lock = NULL;
    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) == APR_SUCCESS && threaded) {
        return OK;
    }
    if (ap_proc_mutex_create(&jobs_lock, NULL, AIC_JOBS_MUTEX, NULL, s, pconf, 0) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR; /* logged by ap_proc_mutex_create */
    }
    return OK;
}

void aic_worker_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (jobs_lock &&
        ((rv = apr_proc_mutex_child_init(&jobs_lock, apr_proc_mutex_lockfile(jobs_lock), pchild)) !=
             APR_SUCCESS ||
         (rv = apr_thread_mutex_create(&jobs_guard, APR_THREAD_MUTEX_DEFAULT, pchild)) !=
             APR_SUCCESS)) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "mod_aichat: cannot open the lock %s: this process takes no jobs",
                     AIC_JOBS_MUTEX);
        jobs_guard = NULL;
    }
}

/* Whether w may take jobs now: always under a threaded MPM; under prefork
 * while this process holds the node's lock, taken here if it is free. */
static int jobs_ours(aic_worker *w)
{
    int ours;

    if (!jobs_lock) {
        return 1;
    }
    if (!jobs_guard) {
        return 0;
    }
    apr_thread_mutex_lock(jobs_guard);
    if (!jobs_holder && apr_proc_mutex_trylock(jobs_lock) == APR_SUCCESS) {
        jobs_holder = w;
    }
    ours = jobs_holder != NULL;
    apr_thread_mutex_unlock(jobs_guard);
    return ours;
}

/* As w's thread ends: the node's lock goes back if w took it. */
static void jobs_leave(aic_worker *w)
{
    if (jobs_guard) {
        apr_thread_mutex_lock(jobs_guard);
        if (jobs_holder == w) {
            apr_proc_mutex_unlock(jobs_lock);
            jobs_holder = NULL;
        }
        apr_thread_mutex_unlock(jobs_guard);
    }
}

struct aic_worker_thread {
    aic_bg *bg;
    apr_interval_time_t wait; /* the worker's own: IDLE_WAIT, longer while down */
    const char *what, *take;
    aic_worker_run_fn run;
    aic_worker **slot;
};

void aic_worker_wake(aic_worker *w)
{
    aic_bg_wake(w ? w->thread->bg : NULL);
}

int aic_worker_stopping(aic_worker *w)
{
    return aic_bg_stopping(w->thread->bg);
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

static void loop(aic_bg *bg, void *data)
{
    aic_worker *w = data;
    apr_pool_t *p;

    apr_pool_create(&p, w->pool);
    while (!aic_bg_wait(bg, w->thread->wait, 0)) {
        if (jobs_ours(w)) {
            pace(w, work(w, p));
            apr_pool_clear(p);
        }
    }
    jobs_leave(w);
}

/* Before the thread is stopped: no request wakes the worker any more. */
static apr_status_t forget(void *data)
{
    aic_worker *w = data;

    *w->thread->slot = NULL;
    return APR_SUCCESS;
}

void aic_worker_start(aic_worker **slot, apr_pool_t *pchild, server_rec *s, const char *what,
                      const char *take, aic_worker_run_fn run)
{
    aic_worker *w;
    apr_status_t rv;
    char host[256] = "";

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
    if ((rv = aic_worker_own_pool(&w->pool, pchild)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "mod_aichat: cannot start the %s", what);
        return;
    }
    aic_bg_start(&w->thread->bg, pchild, s, what, loop, w);
    if (!w->thread->bg) {
        return;
    }
    *slot = w;
    apr_pool_pre_cleanup_register(pchild, w, forget);
}
