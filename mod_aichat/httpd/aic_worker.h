/* A background worker: one thread per httpd process (threaded MPMs) that
 * calls its work function when woken, or at least once a second, until the
 * process stops; stopping waits for the work function to return. Used by
 * the import jobs and the summary jobs. */
#ifndef AIC_WORKER_H
#define AIC_WORKER_H

#include <httpd.h>

/** A worker. Its users read s, pool and name; the rest is aic_worker.c's. */
typedef struct aic_worker {
    server_rec *s;
    apr_pool_t *pool; /**< the worker's own (its own allocator), for sub-pools */
    const char *name; /**< host:pid, as job rows record who works them */
    struct aic_worker_thread *thread;
} aic_worker;

/** Take and run what waits; return when nothing does (or when
 * aic_worker_stopping). p is cleared after each call. */
typedef void (*aic_worker_fn)(aic_worker *w, apr_pool_t *p);

/**
 * Start a worker in this child process (nothing on a non-threaded MPM):
 * *slot is set while it runs and cleared when pchild stops it. what names
 * it in the error log.
 */
void aic_worker_start(aic_worker **slot, apr_pool_t *pchild, server_rec *s, const char *what,
                      aic_worker_fn work);

/** Wake w (NULL: nothing) to look for work now. */
void aic_worker_wake(aic_worker *w);

/** A pool of parent's with an allocator of its own, for a background
 * thread that clears its pools while requests allocate in others (a shared
 * allocator would need a lock). Used by the workers and the batch writer. */
apr_status_t aic_worker_own_pool(apr_pool_t **p, apr_pool_t *parent);

/** Whether the process is stopping: stop after the current step. */
int aic_worker_stopping(aic_worker *w);

#endif
