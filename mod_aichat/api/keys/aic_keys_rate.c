/* Rate limits per key and per user (AIChatAPIUserLimit): two token buckets (requests and tokens per
 * minute), each full at its per-minute limit and refilled continuously, in shared memory made at
 * post_config and inherited by the children, so that every process of an httpd draws from the same
 * buckets. A call takes from its key's buckets, then from its user's (and gives the key's back when
 * the user's are short). A slot is found by the key's id (open addressing over a few places; a full
 * neighbourhood gives its least recently used slot to the new key, which starts with full buckets).
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
#define ID_LEN 37 /* a UUID, or u and a UUID */

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

/* Take a request and tokens from the buckets of id (limits rpm and tpm, 0:
 * none) into out's windows. Returns 1 when taken. */
static int take(aic_rate *out, const char *id, int rpm, int tpm, apr_int64_t tokens)
{
    apr_time_t now = apr_time_now(), wait = 0;
    double need;
    slot *sl;

    memset(out, 0, sizeof(*out));
    if (!slots || (!rpm && !tpm) || strlen(id) > ID_LEN) {
        return 1;
    }
    sl = find(id, rpm, tpm, now);
    if (now > sl->updated) {
        sl->requests = refill(sl->requests, rpm, now - sl->updated);
        sl->tokens = refill(sl->tokens, tpm, now - sl->updated);
        sl->updated = now;
    }
    /* A call larger than a minute's tokens waits for a full bucket and takes it. */
    need = tpm && tokens > tpm ? tpm : (double)tokens;
    if (rpm) {
        wait = wait_for(sl->requests, 1, rpm);
    }
    if (tpm && wait_for(sl->tokens, need, tpm) > wait) {
        wait = wait_for(sl->tokens, need, tpm);
    }
    if (!wait) {
        sl->requests -= rpm ? 1 : 0;
        sl->tokens -= tpm ? need : 0;
    }
    window(&out->requests, rpm, sl->requests);
    window(&out->tokens, tpm, sl->tokens);
    unlock(sl);
    out->retry_after = wait ? (int)((wait + apr_time_from_sec(1) - 1) / apr_time_from_sec(1)) : 0;
    return wait == 0;
}

/* Give back requests and tokens to the buckets of id. */
static void give(const char *id, int rpm, int tpm, int requests, apr_int64_t tokens)
{
    slot *sl;

    if (!slots || (!rpm && !tpm) || strlen(id) > ID_LEN) {
        return;
    }
    sl = find(id, rpm, tpm, apr_time_now());
    if (rpm) {
        sl->requests = sl->requests + requests > rpm ? rpm : sl->requests + requests;
    }
    if (tpm) {
        sl->tokens = sl->tokens + (double)tokens > tpm ? tpm : sl->tokens + (double)tokens;
    }
    unlock(sl);
}

/* The user's buckets live beside the keys', under the user's id. */
static const char *user_slot(apr_pool_t *p, const char *user_id)
{
    return apr_pstrcat(p, "u", user_id, NULL);
}

int aic_keys_rate_take(aic_rate *out, const aic_rate_user *user, const aic_api_key *key,
                       apr_int64_t tokens)
{
    aic_rate mine;

    if (!take(out, key->id, key->rpm, key->tpm, tokens)) {
        return 0;
    }
    if (!take(&mine, user_slot(user->pool, user->id), user->rpm, user->tpm, tokens)) {
        give(key->id, key->rpm, key->tpm, 1, tokens);
        *out = mine;
        return 0;
    }
    if (!key->rpm && !key->tpm) {
        *out = mine;
    }
    return 1;
}

void aic_keys_rate_give(const aic_rate_user *user, const aic_api_key *key, apr_int64_t tokens)
{
    if (tokens > 0) {
        give(key->id, 0, key->tpm, 0, tokens);
        give(user_slot(user->pool, user->id), 0, user->tpm, 0, tokens);
    }
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
