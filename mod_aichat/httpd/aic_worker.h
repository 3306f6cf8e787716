/* Background threads, and the worker of jobs that runs on one: one thread
 * per httpd process that, when woken or at least once a second (while the database
 * does not answer, twice as long after each try, up to 30 s), takes the jobs
 * waiting in the database one at a time and runs each, until none waits;
 * until the process stops, which waits for the job being run to return (a job checks
 * aic_worker_stopping between its steps). Under a non-threaded MPM (prefork)
 * only the process holding the node's lock "aichat-jobs" takes jobs. Used by
 * the import jobs and the summary jobs. */
#ifndef AIC_WORKER_H
#define AIC_WORKER_H

#include <httpd.h>

#include "aic_db.h"

/**
 * A background thread of this child process, woken by requests and stopped
 * (its stop flag raised, it woken, then joined) before pchild's subpools go,
 * mod_dbd's connections among them. The job workers and the batch writers
 * (aic_batch) each run on one.
 */
typedef struct aic_bg aic_bg;

/** What a background thread runs: until aic_bg_wait says to stop. */
typedef void (*aic_bg_fn)(aic_bg *bg, void *data);

/** Start fn(bg, data) on a thread of its own, which takes no signals,
 * *out set to bg before it runs; *out NULL when it cannot start (logged,
 * naming what). */
void aic_bg_start(aic_bg **out, apr_pool_t *pchild, server_rec *s, const char *what, aic_bg_fn fn,
                  void *data);

/** Wake bg's thread (NULL: nothing): its next aic_bg_wait returns at once. */
void aic_bg_wake(aic_bg *bg);

/** Wait up to timeout, or less when woken (since the last wait too, unless
 * even_if_woken) or stopped. Nonzero when the thread is to stop. */
int aic_bg_wait(aic_bg *bg, apr_interval_time_t timeout, int even_if_woken);

/** Whether bg's thread is to stop. */
int aic_bg_stopping(aic_bg *bg);

/** A worker. Its users read s, pool and name; the rest is aic_worker.c's. */
typedef struct aic_worker {
    server_rec *s;
    apr_pool_t *pool; /**< the worker's own (its own allocator), for sub-pools */
    const char *name; /**< host:pid, as job rows record who works them */
    struct aic_worker_thread *thread;
} aic_worker;

/** Run one job: row holds the cells of the row the take statement gave for
 * it; db is a connection of the worker's own, held for the job; row and
 * everything the job allocates in p are gone when it returns. */
typedef void (*aic_worker_run_fn)(aic_worker *w, aic_db *db, apr_pool_t *p, const char *const *row);

/** pre_config: register the node's lock of jobs (the Mutex directive's "aichat-jobs"). */
void aic_worker_pre_config(apr_pool_t *pconf);

/** post_config: under a non-threaded MPM, make the node's lock of jobs. */
int aic_worker_post_config(apr_pool_t *pconf, server_rec *s);

/** child_init, before the workers start: open the node's lock in this process. */
void aic_worker_child_init(apr_pool_t *pchild, server_rec *s);

/**
 * Start a worker in this child process:
 * *slot is set while it runs and cleared when pchild stops it. what names
 * it in the error log. take labels the statement that takes the next job
 * (its one argument the worker's name; a row for the job it took, none
 * when nothing waits); each job taken is given to run.
 */
void aic_worker_start(aic_worker **slot, apr_pool_t *pchild, server_rec *s, const char *what,
                      const char *take, aic_worker_run_fn run);

/** Wake w (NULL: nothing) to look for work now. */
void aic_worker_wake(aic_worker *w);

/** A pool of parent's with an allocator of its own, for a background
 * thread that clears its pools while requests allocate in others (a shared
 * allocator would need a lock). Used by the workers and the batch writer. */
apr_status_t aic_worker_own_pool(apr_pool_t **p, apr_pool_t *parent);

/** Whether the process is stopping: stop after the current step. */
int aic_worker_stopping(aic_worker *w);

#endif
