/* Whether each configured provider answers, probed at most once a while per
 * process (a memo by provider name) so that listing providers does not hit
 * them each time. */
#include "catalog.h"
#include "httpd/aic_curl.h"
#include "httpd/aic_memo.h"

#define PROBE_TIMEOUT 2

static const aic_memo_conf probe_conf = {.tag = "aichat_probes",
                                         .kind = AIC_CHANGES_NONE,
                                         .ttl = apr_time_from_sec(30),
                                         .max_entries = 256};
static aic_memo *probes;

void aic_catalog_probe_child_init(apr_pool_t *pchild)
{
    probes = aic_memo_make(pchild, &probe_conf);
}

static int probe_copy(void *out, apr_pool_t *p, const void *value)
{
    *(int *)out = *(const int *)value;
    return 1;
}

static void *probe_keep(apr_pool_t *pool, void *old, const void *in)
{
    int *kept = old ? old : apr_palloc(pool, sizeof(*kept));

    *kept = *(const int *)in;
    return kept;
}

int aic_catalog_reachable(const aic_provider_cfg *prov)
{
    aic_memo_stamp stamp;
    int result = 0, remember = aic_memo_now(&stamp, probes);

    if (remember && aic_memo_get(probes, prov->name, &stamp, probe_copy, &result, NULL)) {
        return result;
    }
    result = aic_curl_reachable(prov->base_url, PROBE_TIMEOUT);
    if (remember) {
        aic_memo_put(probes, prov->name, &stamp, 0, probe_keep, &result);
    }
    return result;
}
