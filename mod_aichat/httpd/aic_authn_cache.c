#include "aic_authn_cache.h"
#include "aic_db.h"

#include <http_log.h>
#include <http_request.h>
#include <stdlib.h>
#include <mod_auth.h>

#include <ap_provider.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_general.h>
#include <string.h>

#include "core/aic_digest.h"

APLOG_USE_MODULE(aichat);

#define SLOTS       4096
#define DEFAULT_TTL 300

typedef struct {
    unsigned char key[AIC_SHA256_LEN];
    apr_time_t expires;
    unsigned char asking[AIC_SHA256_LEN]; /* credentials being checked now, if busy */
    int busy;
} slot;

/* Configuration (one per server tree: the directive is global). */
static const char *wrapped_name;
static apr_interval_time_t ttl = apr_time_from_sec(DEFAULT_TTL);
static const authn_provider *wrapped;

/* Per child process. */
static slot *table;
static apr_thread_mutex_t *lock;
static apr_thread_cond_t *checked; /* a busy slot's check ended */
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
    apr_thread_cond_create(&checked, pchild);
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
    int hit, mine;

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
    /* The same credentials are being checked by another thread (a burst of
     * requests from one client, or the first ones a new process serves):
     * wait for that answer instead of hashing again. A bcrypt check costs
     * about 80 ms of CPU, and mod_authn_dbd holds a pooled database
     * connection for the whole request that made it. */
    while (s->busy && !memcmp(s->asking, key, sizeof(key))) {
        apr_thread_cond_wait(checked, lock);
    }
    hit = s->expires > now && !memcmp(s->key, key, sizeof(key));
    mine = !hit && !s->busy;
    if (mine) {
        memcpy(s->asking, key, sizeof(key));
        s->busy = 1;
    }
    apr_thread_mutex_unlock(lock);
    if (hit) {
        return AUTH_GRANTED;
    }
    status = wrapped->check_password(r, user, password);
    /* mod_authn_dbd finds no user on a connection that a PostgreSQL restart
     * reset (its statement is gone, and the driver reports that as no rows):
     * once that connection is repaired, ask again. When no connection can be
     * had, the database is away and checked nothing: an error (told as 503),
     * not "no such user" (a sign-in page for a signed-in user). */
    if (status == AUTH_USER_NOT_FOUND || status == AUTH_GENERAL_ERROR) {
        switch (aic_db_repaired(r)) {
        case 1:
            status = wrapped->check_password(r, user, password);
            break;
        case -1:
            status = AUTH_GENERAL_ERROR;
            break;
        }
    }
    apr_thread_mutex_lock(lock);
    if (status == AUTH_GRANTED) {
        memcpy(s->key, key, sizeof(key));
        s->expires = now + ttl;
    } else if (!memcmp(s->key, key, sizeof(key))) {
        s->expires = 0;
    }
    if (mine) {
        s->busy = 0;
        apr_thread_cond_broadcast(checked);
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
