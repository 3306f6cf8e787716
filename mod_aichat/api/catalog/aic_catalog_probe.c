/* Whether each configured provider answers: probed at most once a minute per
 * provider by all the processes of this httpd together, whoever asks, so that
 * listing providers never turns into traffic to them. Each provider has a
 * slot in shared memory: the time of its last probe and that probe's result.
 * The request that finds the slot older than a minute claims it (compare and
 * swap) and probes; the others answer the last result, and wait for it only
 * while the very first probe runs. */
#include "catalog.h"
#include "httpd/aic_curl.h"

#include <http_log.h>
#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_shm.h>

APLOG_USE_MODULE(aichat);

#define PROBE_TIMEOUT 2
#define PROBE_EVERY   60 /* seconds */
#define PROBE_WAIT    apr_time_from_msec(50)

enum { UNKNOWN, UNREACHABLE, REACHABLE };

typedef struct {
    apr_uint32_t probed_at; /* seconds since the epoch, modulo 2^32; 0 = never */
    apr_uint32_t result;
} slot;

/* The slots, and each provider name's slot (made at post_config, read only after). */
static slot *slots;
static apr_hash_t *slot_of;

int aic_catalog_probe_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_size_t n = 0;
    apr_shm_t *shm = NULL;
    apr_status_t rv;

    slot_of = apr_hash_make(pconf);
    for (server_rec *sp = s; sp; sp = sp->next) {
        const aic_server_conf *conf = aic_config_get(sp);

        for (int i = 0; i < conf->providers->nelts; i++) {
            const aic_provider_cfg *prov = APR_ARRAY_IDX(conf->providers, i, aic_provider_cfg *);

            if (!apr_hash_get(slot_of, prov->name, APR_HASH_KEY_STRING)) {
                apr_size_t *at = apr_palloc(pconf, sizeof(*at));

                *at = n++;
                apr_hash_set(slot_of, prov->name, APR_HASH_KEY_STRING, at);
            }
        }
    }
    /* Anonymous: the children inherit it. Without it, each process keeps its own. */
    if ((rv = apr_shm_create(&shm, (n ? n : 1) * sizeof(slot), NULL, pconf)) == APR_SUCCESS) {
        slots = apr_shm_baseaddr_get(shm);
        memset(slots, 0, (n ? n : 1) * sizeof(slot));
    } else {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     "mod_aichat: no shared memory for provider probes: each process probes "
                     "each provider at most once a minute");
        slots = apr_pcalloc(pconf, (n ? n : 1) * sizeof(slot));
    }
    return OK;
}

int aic_catalog_reachable(const aic_provider_cfg *prov)
{
    const apr_size_t *at = slot_of ? apr_hash_get(slot_of, prov->name, APR_HASH_KEY_STRING) : NULL;
    slot *sl;
    apr_uint32_t now, last, result;
    apr_time_t give_up;
    int reachable;

    if (!at) {
        return aic_curl_reachable(prov->base_url, PROBE_TIMEOUT);
    }
    sl = &slots[*at];
    now = (apr_uint32_t)apr_time_sec(apr_time_now());
    last = apr_atomic_read32(&sl->probed_at);
    if ((last == 0 || now - last >= PROBE_EVERY) &&
        apr_atomic_cas32(&sl->probed_at, now ? now : 1, last) == last) {
        reachable = aic_curl_reachable(prov->base_url, PROBE_TIMEOUT);
        apr_atomic_set32(&sl->result, reachable ? REACHABLE : UNREACHABLE);
        return reachable;
    }
    /* Another request probes: its answer, or the last one. */
    give_up = apr_time_now() + apr_time_from_sec(PROBE_TIMEOUT + 1);
    while ((result = apr_atomic_read32(&sl->result)) == UNKNOWN && apr_time_now() < give_up) {
        apr_sleep(PROBE_WAIT);
    }
    return result == REACHABLE;
}
