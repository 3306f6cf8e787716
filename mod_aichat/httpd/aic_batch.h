/* Batches: rows a request wants written but need not wait for (the views of
 * share pages, the audit rows of requests without a user or that found the
 * database away, abandoned turns).
 * Requests add rows; each process has a writer thread that hands them to one
 * statement as a JSON array a few times a second, and once more when the
 * process stops. While the database cannot be reached, the rows are tried
 * again with the next ones (less and less often, up to every 5 s). When the
 * database refuses a batch (an SQL error), its rows are written one by one,
 * so that a row it cannot take loses no other. Rows are lost when the process
 * dies without stopping or stops while the database is away, when the
 * database stays away so long that AIC_BATCH_MAX_BYTES fill up, or when it
 * refuses the row itself; each loss is logged with its count. */
#ifndef AIC_BATCH_H
#define AIC_BATCH_H

#include <httpd.h>

/** Rows held (waiting and refused) before new ones are dropped. */
#define AIC_BATCH_MAX_BYTES (32 * 1024 * 1024)

typedef struct aic_batch aic_batch;

/**
 * A batch whose writer calls the statement `label` (one argument: the JSON
 * array of the rows) every `interval`, or sooner when `rows` rows wait.
 * Called in child_init; the writer stops (writing what waits) when pchild
 * is cleaned up. NULL when no thread could be started (logged): callers
 * then write with the request.
 */
aic_batch *aic_batch_start(apr_pool_t *pchild, server_rec *s, const char *label,
                           apr_interval_time_t interval, int rows);

/**
 * Have the writer call fn(arg) before each round takes its rows, the last
 * one too: rows fn adds (aic_batch_add) go with that round's. Set once,
 * right after aic_batch_start.
 */
void aic_batch_on_round(aic_batch *b, void (*fn)(void *arg), void *arg);

/** Queue one row: a JSON value, copied. 0 when it had to be dropped. */
int aic_batch_add(aic_batch *b, const char *json_row);

#endif
