/* The credits this process holds for keys' calls. A call's reservation is
 * taken from what the process holds for its key; only when that runs short
 * does the call go to the database (api_call_reserve), which takes the call's
 * bound from the user's balance and the key's budget, and more for the key's
 * next calls when both hold plenty (a lease). So a busy key's calls through
 * one process meet the database about once a second before their answers,
 * not once a call.
 *
 * The writer of the settlements gives back what is left of every lease at the
 * start of each of its rounds (a second at most), the process's last one too,
 * together with the settlements of the calls that took from them. A call in
 * flight keeps what it took; its settlement gives back what it did not use. */
#include "openai.h"
#include "httpd/aic_worker.h"

#include <http_log.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

APLOG_USE_MODULE(aichat);

/* A lease asks for the key's next calls too: this many times the call's
 * bound, twice as many for each lease taken for the key since the last
 * round, up to 2^LEASE_DOUBLINGS times as many. */
#define LEASE_CALLS     16
#define LEASE_DOUBLINGS 6

typedef struct {
    const char *viewer, *key;
    apr_int64_t left;           /* credits held and not taken by a call */
    apr_array_header_t *leases; /* their ids */
} held;

/* Under lock: what is held, by key id, in pool (cleared by each round). */
static apr_thread_mutex_t *lock;
static apr_pool_t *pool;
static apr_hash_t *holding;
static aic_batch *writer; /* NULL: each call's lease goes back with its settlement */

const char *aic_openai_lease_release(apr_pool_t *p, const char *viewer, const char *key,
                                     const apr_array_header_t *leases, apr_int64_t credits)
{
    aic_json *row = aic_json_object(p), *ids = aic_json_array(p);

    for (int i = 0; i < leases->nelts; i++) {
        aic_json_push_str(ids, APR_ARRAY_IDX(leases, i, const char *));
    }
    aic_json_set(row, "leases", ids);
    aic_json_set_str(row, "viewer", viewer);
    aic_json_set_str(row, "key", key);
    aic_json_set_int(row, "credits", credits);
    return aic_json_dump(row, p);
}

/* At the start of the writer's round: every lease given back with what is
 * left of it, and nothing held. */
static void give_back(void *arg)
{
    (void)arg;
    apr_thread_mutex_lock(lock);
    for (apr_hash_index_t *i = apr_hash_first(pool, holding); i; i = apr_hash_next(i)) {
        held *h = apr_hash_this_val(i);

        aic_batch_add(writer,
                      aic_openai_lease_release(pool, h->viewer, h->key, h->leases, h->left));
    }
    apr_pool_clear(pool);
    holding = apr_hash_make(pool);
    apr_thread_mutex_unlock(lock);
}

void aic_openai_lease_init(apr_pool_t *pchild, server_rec *s, aic_batch *settlements)
{
    if (!settlements || apr_thread_mutex_create(&lock, APR_THREAD_MUTEX_DEFAULT, pchild) ||
        aic_worker_own_pool(&pool, pchild)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "mod_aichat: no credits held for /chat/v1: each call reserves its own");
        return;
    }
    writer = settlements;
    holding = apr_hash_make(pool);
    aic_batch_on_round(writer, give_back, NULL);
}

/* Take credits from what is held for the key: 0 when it holds too few, with
 * *want what a lease should ask for. */
static int take_held(apr_int64_t *want, const aic_api_key *key, apr_int64_t credits)
{
    held *h;
    int taken = 0, leases = 0;

    apr_thread_mutex_lock(lock);
    h = apr_hash_get(holding, key->id, APR_HASH_KEY_STRING);
    if (h && h->left >= credits) {
        h->left -= credits;
        taken = 1;
    } else if (h) {
        leases = h->leases->nelts;
    }
    apr_thread_mutex_unlock(lock);
    *want = credits * LEASE_CALLS << (leases < LEASE_DOUBLINGS ? leases : LEASE_DOUBLINGS);
    return taken;
}

/* Hold a lease taken for the key, of which the call took `taken`. */
static void hold(const char *viewer, const aic_api_key *key, const char *lease, apr_int64_t credits,
                 apr_int64_t taken)
{
    held *h;

    apr_thread_mutex_lock(lock);
    if (!(h = apr_hash_get(holding, key->id, APR_HASH_KEY_STRING))) {
        h = apr_pcalloc(pool, sizeof(*h));
        h->viewer = apr_pstrdup(pool, viewer);
        h->key = apr_pstrdup(pool, key->id);
        h->leases = apr_array_make(pool, 2, sizeof(const char *));
        apr_hash_set(holding, h->key, APR_HASH_KEY_STRING, h);
    }
    h->left += credits - taken;
    APR_ARRAY_PUSH(h->leases, const char *) = apr_pstrdup(pool, lease);
    apr_thread_mutex_unlock(lock);
}

apr_status_t aic_openai_lease_take(const char **code, const char **lease, aic_ctx *ctx,
                                   const aic_api_key *key, const char *slug, const char *provider,
                                   apr_int64_t credits)
{
    request_rec *r = ctx->r;
    aic_json *args, *res;
    const char *result = NULL;
    apr_int64_t want = credits;
    apr_status_t rv;

    *code = *lease = NULL;
    if (writer && take_held(&want, key, credits)) {
        return APR_SUCCESS;
    }
    args = aic_json_object(r->pool);
    aic_json_set_str(args, "viewer", ctx->user->id);
    aic_json_set_str(args, "key", key->id);
    aic_json_set_int(args, "reserve", credits);
    aic_json_set_int(args, "want", want);
    aic_json_set_str(args, "model", slug);
    aic_json_set_str(args, "provider", provider);
    rv = aic_db_value(&result, ctx->db, "openai_reserve", AIC_ARGS(aic_json_dump(args, r->pool)));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!(res = aic_json_from(r->pool, result))) {
        return APR_EGENERAL;
    }
    if ((*code = aic_json_str(aic_json_get(res, "code"), r->pool))) {
        return APR_ENOSPC;
    }
    *lease = aic_json_str(aic_json_get(res, "lease"), r->pool);
    if (writer) {
        hold(ctx->user->id, key, *lease, aic_json_int(aic_json_get(res, "credits")), credits);
        *lease = NULL;
    }
    return APR_SUCCESS;
}
