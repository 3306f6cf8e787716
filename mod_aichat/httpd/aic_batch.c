#include "aic_batch.h"
#include "aic_db.h"
#include "aic_worker.h"

#include <http_log.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

APLOG_USE_MODULE(aichat);

/* The longest wait between two tries while the database refuses batches. */
#define MAX_DELAY apr_time_from_sec(5)

struct aic_batch {
    server_rec *s;
    const char *label;
    apr_interval_time_t interval, delay; /* delay: interval, longer while refused */
    int wake_rows;
    aic_bg *bg; /* the writer's thread */
    apr_thread_mutex_t *lock;
    /* Under lock: the rows being collected, in the pool `filling`. */
    apr_pool_t *filling, *spare;
    apr_array_header_t *rows;
    apr_size_t bytes, dropped;
    void (*on_round)(void *arg); /* called before each round (aic_batch_on_round) */
    void *on_round_arg;
    int rounding; /* on_round runs: its rows go with the round, the last one too */
    /* The writer's own: its scratch, and the rows of a batch the database
     * could not be reached for, kept for the next round (in carry_pool). */
    apr_pool_t *work, *carry_pool;
    apr_array_header_t *carry;
    apr_size_t carry_bytes;
};

void aic_batch_on_round(aic_batch *b, void (*fn)(void *arg), void *arg)
{
    apr_thread_mutex_lock(b->lock);
    b->on_round = fn;
    b->on_round_arg = arg;
    apr_thread_mutex_unlock(b->lock);
}

int aic_batch_add(aic_batch *b, const char *json_row)
{
    apr_size_t len = strlen(json_row);
    int wake;

    if (!b || apr_thread_mutex_lock(b->lock) != APR_SUCCESS) {
        return 0;
    }
    /* While the writer stops, rows come only from on_round, before its last
     * round takes them. */
    if (aic_bg_stopping(b->bg) && !b->rounding) {
        apr_thread_mutex_unlock(b->lock);
        return 0;
    }
    if (b->bytes + len > AIC_BATCH_MAX_BYTES) {
        b->dropped++;
        apr_thread_mutex_unlock(b->lock);
        return 0;
    }
    APR_ARRAY_PUSH(b->rows, const char *) = apr_pstrmemdup(b->filling, json_row, len);
    b->bytes += len + 1;
    wake = b->rows->nelts == b->wake_rows;
    apr_thread_mutex_unlock(b->lock);
    if (wake) {
        aic_bg_wake(b->bg);
    }
    return 1;
}

/* Run the statement on the rows from..to-1 in one JSON array. */
static apr_status_t run(aic_db *db, aic_batch *b, apr_pool_t *work, const apr_array_header_t *rows,
                        int from, int to)
{
    apr_array_header_t part = *rows;
    const char *written = NULL;

    part.elts = rows->elts + (apr_size_t)from * sizeof(const char *);
    part.nelts = to - from;
    return aic_db_value(
        &written, db, b->label,
        AIC_ARGS(apr_pstrcat(work, "[", apr_array_pstrcat(work, &part, ','), "]", NULL)));
}

/* Keep rows from `from` on for the next round, as many as AIC_BATCH_MAX_BYTES
 * hold; returns how many. */
static int carry(aic_batch *b, const apr_array_header_t *rows, int from)
{
    int i;

    for (i = from; i < rows->nelts; i++) {
        const char *row = APR_ARRAY_IDX(rows, i, const char *);
        apr_size_t len = strlen(row);

        if (b->carry_bytes + len + 1 > AIC_BATCH_MAX_BYTES) {
            break;
        }
        APR_ARRAY_PUSH(b->carry, const char *) = apr_pstrmemdup(b->carry_pool, row, len);
        b->carry_bytes += len + 1;
    }
    return i - from;
}

/* Write the rows in one statement. When the database refuses it (an SQL
 * error: a row it cannot take), write them one by one, so that only the rows
 * it refuses are lost (logged with their count). While the database cannot
 * be reached, keep the rows not written for the next round (unless this is
 * the last, or too many wait). */
static void write_rows(aic_batch *b, apr_pool_t *work, const apr_array_header_t *rows, int last)
{
    aic_db *db = NULL;
    apr_status_t rv = aic_db_open(&db, work, b->s);
    int done = 0, refused = 0, kept;

    if (rv == APR_SUCCESS && (rv = run(db, b, work, rows, 0, rows->nelts)) == APR_SUCCESS) {
        done = rows->nelts;
    }
    if (rv == APR_EGENERAL && rows->nelts == 1) {
        refused = done = 1;
    } else if (rv == APR_EGENERAL) {
        for (; done < rows->nelts; done++) {
            if ((rv = run(db, b, work, rows, done, done + 1)) == APR_EGENERAL) {
                refused++;
            } else if (rv != APR_SUCCESS) {
                break;
            }
        }
    }
    aic_db_close(db);
    if (done == rows->nelts) {
        b->delay = b->interval;
    } else {
        b->delay = b->delay * 2 > MAX_DELAY ? MAX_DELAY : b->delay * 2;
    }
    if (refused) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, b->s,
                     "mod_aichat: %d rows for %s lost: the database rejected them", refused,
                     b->label);
    }
    if (done == rows->nelts) {
        return;
    }
    kept = last ? 0 : carry(b, rows, done);
    if (kept) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, b->s,
                     "mod_aichat: %d rows for %s not written yet (database unavailable); "
                     "trying again",
                     kept, b->label);
    }
    if (done + kept < rows->nelts) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, b->s,
                     "mod_aichat: %d rows for %s lost: the database stayed out of reach",
                     rows->nelts - done - kept, b->label);
    }
}

/* The writer: every interval, or when woken by rows enough, the rows that
 * wait; while the database is away, not before the delay (even when woken). */
static void writer(aic_bg *bg, void *data)
{
    aic_batch *b = data;
    apr_pool_t *work = b->work;
    int last = 0;

    while (!last) {
        apr_array_header_t *rows;
        apr_pool_t *taken;
        apr_size_t dropped;
        void (*on_round)(void *arg);

        last = aic_bg_wait(bg, b->delay, b->carry->nelts > 0);
        apr_thread_mutex_lock(b->lock);
        on_round = b->on_round;
        b->rounding = 1;
        apr_thread_mutex_unlock(b->lock);
        if (on_round) {
            on_round(b->on_round_arg);
        }
        apr_thread_mutex_lock(b->lock);
        b->rounding = 0;
        rows = b->rows;
        taken = b->filling;
        b->filling = b->spare;
        b->spare = taken;
        b->rows = apr_array_make(b->filling, 256, sizeof(const char *));
        b->bytes = 0;
        dropped = b->dropped;
        b->dropped = 0;
        apr_thread_mutex_unlock(b->lock);

        if (dropped) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, b->s,
                         "mod_aichat: %" APR_SIZE_T_FMT " rows for %s dropped: too many waiting",
                         dropped, b->label);
        }
        if (rows->nelts || b->carry->nelts) {
            /* The rows kept from the last round first, copied out of their
             * pool, which then takes what this round keeps. */
            apr_array_header_t *all =
                apr_array_make(work, b->carry->nelts + rows->nelts, sizeof(const char *));

            for (int i = 0; i < b->carry->nelts; i++) {
                APR_ARRAY_PUSH(all, const char *) =
                    apr_pstrdup(work, APR_ARRAY_IDX(b->carry, i, const char *));
            }
            apr_array_cat(all, rows);
            apr_pool_clear(b->carry_pool);
            b->carry = apr_array_make(b->carry_pool, 16, sizeof(const char *));
            b->carry_bytes = 0;
            write_rows(b, work, all, last);
        }
        apr_pool_clear(work);
        /* The requests fill the other pool now: this one is the writer's. */
        apr_pool_clear(taken);
    }
}

aic_batch *aic_batch_start(apr_pool_t *pchild, server_rec *s, const char *label,
                           apr_interval_time_t interval, int rows)
{
    aic_batch *b = apr_pcalloc(pchild, sizeof(*b));
    apr_status_t rv;

    b->s = s;
    b->label = label;
    b->interval = b->delay = interval;
    b->wake_rows = rows;
    if ((rv = apr_thread_mutex_create(&b->lock, APR_THREAD_MUTEX_DEFAULT, pchild)) != APR_SUCCESS ||
        (rv = aic_worker_own_pool(&b->filling, pchild)) != APR_SUCCESS ||
        (rv = aic_worker_own_pool(&b->spare, pchild)) != APR_SUCCESS ||
        (rv = aic_worker_own_pool(&b->work, pchild)) != APR_SUCCESS ||
        (rv = aic_worker_own_pool(&b->carry_pool, pchild)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "mod_aichat: cannot set up the %s writer",
                     label);
        return NULL;
    }
    b->rows = apr_array_make(b->filling, 256, sizeof(const char *));
    b->carry = apr_array_make(b->carry_pool, 16, sizeof(const char *));
    /* Stopped before pchild's subpools go (mod_dbd's connections live in
     * one): its last round writes what waits. */
    aic_bg_start(&b->bg, pchild, s, apr_pstrcat(pchild, label, " writer", NULL), writer, b);
    return b->bg ? b : NULL;
}
