/* Whether each configured provider answers, probed at most once a while per
 * process so that listing providers does not hit them each time. */
#include "catalog.h"
#include "httpd/aic_curl.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#define PROBE_TTL     apr_time_from_sec(30)
#define PROBE_TIMEOUT 2

typedef struct {
    apr_time_t checked;
    int reachable;
} probe;

static apr_thread_mutex_t *probe_lock;
static apr_hash_t *probes; /* provider name -> probe, in the child pool */
static apr_pool_t *probe_pool;

void aic_catalog_probe_child_init(apr_pool_t *pchild)
{
    apr_thread_mutex_create(&probe_lock, APR_THREAD_MUTEX_DEFAULT, pchild);
    probes = apr_hash_make(pchild);
    probe_pool = pchild;
}

/* Cached for PROBE_TTL. */
int aic_catalog_reachable(const aic_provider_cfg *prov)
{
    probe *pr;
    apr_time_t now = apr_time_now();
    int fresh, result;

    apr_thread_mutex_lock(probe_lock);
    pr = apr_hash_get(probes, prov->name, APR_HASH_KEY_STRING);
    if (!pr) {
        pr = apr_pcalloc(probe_pool, sizeof(*pr));
        apr_hash_set(probes, apr_pstrdup(probe_pool, prov->name), APR_HASH_KEY_STRING, pr);
    }
    fresh = pr->checked && now - pr->checked < PROBE_TTL;
    result = pr->reachable;
    apr_thread_mutex_unlock(probe_lock);
    if (fresh) {
        return result;
    }
    result = aic_curl_reachable(prov->base_url, PROBE_TIMEOUT);
    apr_thread_mutex_lock(probe_lock);
    pr->checked = now;
    pr->reachable = result;
    apr_thread_mutex_unlock(probe_lock);
    return result;
}
