/* Rate limits per key: two token buckets (requests and tokens per minute),
 * each full at its per-minute limit and refilled continuously, in shared
 * memory made at post_config and inherited by the children, so that every
 * process of an httpd draws from the same buckets. A slot is found by the
 * key's id (open addressing over a few places; a full neighbourhood gives its
 * least recently used slot to the new key, which starts with full buckets).
 * Each slot has a spin lock taken for a few instructions. Another node has
 * its own buckets: behind a balancer of N nodes a key may get N times its
 * rate. */
#include "keys.h"

#include <http_log.h>
#include <http_protocol.h>
#include <apr_atomic.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

APLOG_USE_MODULE(aichat);

#define SLOTS  4096
#define PROBE  8
#define ID_LEN 36

typedef struct {
    volatile apr_uint32_t lock;
    char id[ID_LEN + 1];
    apr_time_t updated; /* the buckets' last refill */
    double requests, tokens;
} slot;

static slot *slots;

int aic_keys_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm = NULL;
    apr_status_t rv;

    if ((rv = apr_shm_create(&shm, SLOTS * sizeof(slot), NULL, pconf)) == APR_SUCCESS) {
        slots = apr_shm_baseaddr_get(shm);
        memset(slots, 0, SLOTS * sizeof(slot));
    } else {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     "mod_aichat: no shared memory for API rate limits: each process counts "
                     "on its own");
        slots = apr_pcalloc(pconf, SLOTS * sizeof(slot));
    }
    return OK;
}

static void lock(slot *sl)
{
    while (apr_atomic_cas32(&sl->lock, 1, 0) != 0) {
        apr_thread_yield();
    }
}

static void unlock(slot *sl)
{
    apr_atomic_set32(&sl->lock, 0);
}

/* The slot of id, locked: its own, else a free or the least recently used
 * one of its neighbourhood, made id's with full buckets. */
static slot *find(const char *id, int rpm, int tpm, apr_time_t now)
{
    unsigned h = 5381;
    slot *oldest = NULL;

    for (const char *c = id; *c; c++) {
        h = h * 33 + (unsigned char)*c;
    }
    for (int i = 0; i < PROBE; i++) {
        slot *sl = &slots[(h + (unsigned)i) % SLOTS];

        lock(sl);
        if (!strcmp(sl->id, id)) {
            if (oldest) {
                unlock(oldest);
            }
            return sl;
        }
        if (!oldest || sl->updated < oldest->updated) {
            if (oldest) {
                unlock(oldest);
            }
            oldest = sl;
        } else {
            unlock(sl);
        }
    }
    apr_cpystrn(oldest->id, id, sizeof(oldest->id));
    oldest->updated = now;
    oldest->requests = rpm;
    oldest->tokens = tpm;
    return oldest;
}

static double refill(double have, int per_minute, apr_time_t elapsed)
{
    double n = have + (double)per_minute * (double)elapsed / (double)apr_time_from_sec(60);

    return n > per_minute ? per_minute : n;
}

/* Time until a bucket (per_minute) holding have has need. */
static apr_time_t wait_for(double have, double need, int per_minute)
{
    return have >= need ? 0
                        : (apr_time_t)((need - have) * (double)apr_time_from_sec(60) / per_minute);
}

static void window(aic_rate_window *w, int per_minute, double have)
{
    w->limit = per_minute;
    w->remaining = per_minute ? (apr_int64_t)have : 0;
    w->reset = per_minute ? wait_for(have, per_minute, per_minute) : 0;
}

int aic_keys_rate_take(aic_rate *out, const aic_api_key *key, apr_int64_t tokens)
{
    apr_time_t now = apr_time_now(), wait = 0;
    double need;
    slot *sl;

    memset(out, 0, sizeof(*out));
    if (!slots || (!key->rpm && !key->tpm) || strlen(key->id) > ID_LEN) {
        return 1;
    }
    sl = find(key->id, key->rpm, key->tpm, now);
    if (now > sl->updated) {
        sl->requests = refill(sl->requests, key->rpm, now - sl->updated);
        sl->tokens = refill(sl->tokens, key->tpm, now - sl->updated);
        sl->updated = now;
    }
    /* A call larger than a minute's tokens waits for a full bucket and takes it. */
    need = key->tpm && tokens > key->tpm ? key->tpm : (double)tokens;
    if (key->rpm) {
        wait = wait_for(sl->requests, 1, key->rpm);
    }
    if (key->tpm && wait_for(sl->tokens, need, key->tpm) > wait) {
        wait = wait_for(sl->tokens, need, key->tpm);
    }
    if (!wait) {
        sl->requests -= key->rpm ? 1 : 0;
        sl->tokens -= key->tpm ? need : 0;
    }
    window(&out->requests, key->rpm, sl->requests);
    window(&out->tokens, key->tpm, sl->tokens);
    unlock(sl);
    out->retry_after = wait ? (int)((wait + apr_time_from_sec(1) - 1) / apr_time_from_sec(1)) : 0;
    return wait == 0;
}

void aic_keys_rate_give(const aic_api_key *key, apr_int64_t tokens)
{
    slot *sl;

    if (!slots || !key->tpm || tokens <= 0 || strlen(key->id) > ID_LEN) {
        return;
    }
    sl = find(key->id, key->rpm, key->tpm, apr_time_now());
    sl->tokens = sl->tokens + (double)tokens > key->tpm ? key->tpm : sl->tokens + (double)tokens;
    unlock(sl);
}

/* A duration as OpenAI writes it: 1s, 6m0s, 250ms. */
static const char *duration(apr_pool_t *p, apr_time_t t)
{
    apr_int64_t ms = apr_time_as_msec(t + 999);

    if (ms < 1000) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT "ms", ms);
    }
    if (ms < 60000) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT "s", (ms + 999) / 1000);
    }
    return apr_psprintf(p, "%" APR_INT64_T_FMT "m%" APR_INT64_T_FMT "s", ms / 60000,
                        (ms % 60000 + 999) / 1000);
}

static void headers(request_rec *r, const char *what, const aic_rate_window *w)
{
    apr_table_t *h = r->err_headers_out;

    if (!w->limit) {
        return;
    }
    apr_table_setn(h, apr_pstrcat(r->pool, "x-ratelimit-limit-", what, NULL),
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, w->limit));
    apr_table_setn(h, apr_pstrcat(r->pool, "x-ratelimit-remaining-", what, NULL),
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, w->remaining));
    apr_table_setn(h, apr_pstrcat(r->pool, "x-ratelimit-reset-", what, NULL),
                   duration(r->pool, w->reset));
}

void aic_keys_rate_headers(request_rec *r, const aic_rate *out)
{
    headers(r, "requests", &out->requests);
    headers(r, "tokens", &out->tokens);
    if (out->retry_after) {
        apr_table_setn(r->err_headers_out, "Retry-After", apr_itoa(r->pool, out->retry_after));
    }
}
