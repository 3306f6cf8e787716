#include "aic_authn_cache.h"

#include <http_log.h>
#include <http_request.h>
#include <stdlib.h>
#include <mod_auth.h>
#include <ap_provider.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>
#include <apr_general.h>
#include <string.h>

#include "core/aic_digest.h"

APLOG_USE_MODULE(aichat);

#define SLOTS       4096
#define DEFAULT_TTL 300

typedef struct {
    unsigned char key[AIC_SHA256_LEN];
    apr_time_t expires;
    unsigned char asking[AIC_SHA256_LEN]; /* the key a thread is asking the provider about */
    int busy;
} slot;

/* Configuration (one per server tree: the directive is global). */
static const char *wrapped_name;
static apr_interval_time_t ttl = apr_time_from_sec(DEFAULT_TTL);
static const authn_provider *wrapped;

/* Per child process. */
static slot *table;
static apr_thread_mutex_t *lock;
static apr_thread_cond_t *answered; /* a slot's question to the provider was answered */
static unsigned char pepper[32];

const char *aic_authn_cache_directive(cmd_parms *cmd, void *dconf, const char *provider,
                                      const char *seconds)
{
    if (!strcmp(provider, "aichat-cache")) {
        return "AIChatAuthnCache: the provider to cache cannot be aichat-cache itself";
    }
    wrapped_name = apr_pstrdup(cmd->pool, provider);
    if (seconds) {
        char *end = NULL;
        long n = strtol(seconds, &end, 10);

        if (!*seconds || *end || n < 1 || n > 86400) {
            return apr_psprintf(cmd->pool,
                                "AIChatAuthnCache: '%s' must be a number of seconds "
                                "between 1 and 86400",
                                seconds);
        }
        ttl = apr_time_from_sec(n);
    }
    return NULL;
}

int aic_authn_cache_post_config(apr_pool_t *pconf, server_rec *s)
{
    wrapped = NULL;
    if (!wrapped_name) {
        return OK;
    }
    wrapped = ap_lookup_provider(AUTHN_PROVIDER_GROUP, wrapped_name, AUTHN_PROVIDER_VERSION);
    if (!wrapped || !wrapped->check_password) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "mod_aichat: AIChatAuthnCache: no authentication provider '%s' (is its "
                     "module loaded?)",
                     wrapped_name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

void aic_authn_cache_child_init(apr_pool_t *pchild)
{
    table = apr_pcalloc(pchild, sizeof(slot) * SLOTS);
    apr_thread_mutex_create(&lock, APR_THREAD_MUTEX_DEFAULT, pchild);
    apr_thread_cond_create(&answered, pchild);
    apr_generate_random_bytes(pepper, sizeof(pepper));
}

static authn_status check_password(request_rec *r, const char *user, const char *password)
{
    unsigned char key[AIC_SHA256_LEN];
    const void *parts[] = {pepper, user, "", password};
    apr_size_t lens[] = {sizeof(pepper), strlen(user), 1, strlen(password)};
    slot *s;
    authn_status status;
    apr_time_t now = apr_time_now();
    int hit, asking;

    if (!wrapped) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "mod_aichat: aichat-cache is used but AIChatAuthnCache names no provider");
        return AUTH_GENERAL_ERROR;
    }
    if (!table || aic_sha256(key, 4, parts, lens) != APR_SUCCESS) {
        return wrapped->check_password(r, user, password);
    }
    s = &table[(key[0] | key[1] << 8 | key[2] << 16) % SLOTS];
    apr_thread_mutex_lock(lock);
    /* Concurrent requests with the same credentials (a browser's, a client's
     * parallel connections, all of them again when the entry expires) wait
     * for the one check in progress instead of each running bcrypt. */
    while (!(hit = s->expires > now && !memcmp(s->key, key, sizeof(key))) && s->busy &&
           !memcmp(s->asking, key, sizeof(key))) {
        apr_thread_cond_wait(answered, lock);
    }
    asking = !hit && !s->busy;
    if (asking) {
        memcpy(s->asking, key, sizeof(key));
        s->busy = 1;
    }
    apr_thread_mutex_unlock(lock);
    if (hit) {
        return AUTH_GRANTED;
    }
    status = wrapped->check_password(r, user, password);
    apr_thread_mutex_lock(lock);
    if (status == AUTH_GRANTED) {
        memcpy(s->key, key, sizeof(key));
        s->expires = now + ttl;
    } else if (!memcmp(s->key, key, sizeof(key))) {
        s->expires = 0;
    }
    if (asking) {
        /* Waiters find the entry; after a refusal, the next of them asks again. */
        s->busy = 0;
        apr_thread_cond_broadcast(answered);
    }
    apr_thread_mutex_unlock(lock);
    return status;
}

static const authn_provider cache_provider = {&check_password, NULL};

void aic_authn_cache_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHN_PROVIDER_GROUP, "aichat-cache", AUTHN_PROVIDER_VERSION,
                              &cache_provider, AP_AUTH_INTERNAL_PER_CONF);
}
