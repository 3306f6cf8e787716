#include "aic_memo.h"

#include <http_log.h>
#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

APLOG_USE_MODULE(aichat);

/* Changes committed by any process of this httpd, by kind: counters in
 * shared memory. Without it, process-local counters that stamped entries
 * cannot trust to hear of other processes' changes. */
static apr_uint32_t *changes, local_changes[AIC_CHANGES_KINDS];
static int changes_shared;

int aic_memo_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm = NULL;
    apr_status_t rv;

    /* Anonymous: the children inherit it; a restart makes a new one. */
    if ((rv = apr_shm_create(&shm, sizeof(local_changes), NULL, pconf)) == APR_SUCCESS) {
        changes = apr_shm_baseaddr_get(shm);
        for (int k = 0; k < AIC_CHANGES_KINDS; k++) {
            apr_atomic_set32(&changes[k], 0);
        }
        changes_shared = 1;
    } else {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     "mod_aichat: no shared memory for the change counters: share pages and "
                     "users are looked up in the database every time");
        changes = local_changes;
        changes_shared = 0;
    }
    return OK;
}

void aic_memo_note_change(aic_changes kind)
{
    apr_atomic_inc32(&changes[kind]);
}

typedef struct {
    void *value;
    aic_memo_stamp stamp;
    int stamped;
} entry;

struct aic_memo {
    const aic_memo_conf *conf;
    apr_thread_mutex_t *lock;
    apr_pool_t *pool;
    apr_hash_t *entries;
    apr_size_t bytes;
};

/* Empty the memo (under its lock). */
static void start_over(aic_memo *m)
{
    apr_pool_clear(m->pool);
    m->entries = apr_hash_make(m->pool);
    m->bytes = 0;
}

aic_memo *aic_memo_make(apr_pool_t *pchild, const aic_memo_conf *conf)
{
    aic_memo *m = apr_pcalloc(pchild, sizeof(*m));

    m->conf = conf;
    if (apr_thread_mutex_create(&m->lock, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS ||
        apr_pool_create(&m->pool, pchild) != APR_SUCCESS) {
        return NULL;
    }
    apr_pool_tag(m->pool, conf->tag);
    m->entries = apr_hash_make(m->pool);
    return m;
}

int aic_memo_now(aic_memo_stamp *stamp, const aic_memo *m)
{
    stamp->at = apr_time_now();
    stamp->changes = 0;
    if (!m || m->conf->kind == AIC_CHANGES_NONE) {
        return m != NULL;
    }
    stamp->changes = apr_atomic_read32(&changes[m->conf->kind]);
    return changes_shared;
}

int aic_memo_get(aic_memo *m, const char *key, const aic_memo_stamp *now, aic_memo_copy_fn copy,
                 void *out, apr_pool_t *p)
{
    const entry *e;
    int found = 0;

    if (!m || apr_thread_mutex_lock(m->lock) != APR_SUCCESS) {
        return 0;
    }
    e = apr_hash_get(m->entries, key, APR_HASH_KEY_STRING);
    if (e && (!e->stamped ||
              (now && e->stamp.changes == now->changes && now->at - e->stamp.at < m->conf->ttl))) {
        found = copy(out, p, e->value);
    }
    apr_thread_mutex_unlock(m->lock);
    return found;
}

void aic_memo_put(aic_memo *m, const char *key, const aic_memo_stamp *stamp, apr_size_t len,
                  aic_memo_keep_fn keep, const void *in)
{
    entry *e;
    apr_size_t added = 0, kept = 0;

    if (!m ||
        (m->conf->max_bytes &&
         len > (m->conf->max_entry ? m->conf->max_entry : m->conf->max_bytes / 16)) ||
        apr_thread_mutex_lock(m->lock) != APR_SUCCESS) {
        return;
    }
    if (apr_hash_count(m->entries) >= m->conf->max_entries ||
        (m->conf->max_bytes && m->bytes + len > m->conf->max_bytes)) {
        start_over(m);
    }
    e = apr_hash_get(m->entries, key, APR_HASH_KEY_STRING);
    if (!e) {
        e = apr_pcalloc(m->pool, sizeof(*e));
        apr_hash_set(m->entries, apr_pstrdup(m->pool, key), APR_HASH_KEY_STRING, e);
        added = sizeof(*e) + strlen(key) + 1;
    }
    /* What keep allocates stays in the pool until the next start-over. */
    e->value = keep(m->pool, e->value, in, &kept);
    e->stamped = stamp != NULL;
    if (stamp) {
        e->stamp = *stamp;
    }
    m->bytes += added + kept;
    apr_thread_mutex_unlock(m->lock);
}
