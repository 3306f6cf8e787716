/* Server configuration: directives, defaults, merge rules. */
#ifndef AIC_CONFIG_H
#define AIC_CONFIG_H

#include <httpd.h>
#include <http_config.h>

#include "core/aic_provider_cfg.h"

#define AIC_DEFAULT_MAX_BODY             (1024 * 1024)
#define AIC_DEFAULT_CREDITS              1000
#define AIC_DEFAULT_MAX_ANSWER           (4 * 1024 * 1024)
#define AIC_DEFAULT_IMPORT_MAX           ((apr_off_t)2 * 1024 * 1024 * 1024)
#define AIC_DEFAULT_IMPORT_CONVERSATIONS 1000000
#define AIC_DEFAULT_IMPORT_SECONDS       1800

typedef struct {
    apr_array_header_t *providers;      /**< aic_provider_cfg *; NULL = unset */
    apr_off_t max_body;                 /**< -1 = unset */
    const char *public_url;             /**< NULL = unset: links use the request's own host */
    apr_int64_t default_credits;        /**< -1 = unset */
    int audit_reads;                    /**< -1 = unset */
    const char *base_uri;               /**< NULL = unset; default "/chat" */
    int max_message_chars;              /**< -1 = unset; default 32000 */
    int max_context_messages;           /**< -1 = unset; default 40 */
    apr_int64_t max_answer_bytes;       /**< -1 = unset; default AIC_DEFAULT_MAX_ANSWER */
    int api_user_rpm, api_user_tpm;     /**< -1 = unset; default 0: no per-user API limit */
    aic_key_source share_secret_source; /**< AIC_KEY_NONE = unset */
    const char *share_secret_ref;       /**< variable name or file path */
    const char *summary_model;          /**< a catalog slug; NULL = unset: no summaries */
    /* Resolved at startup: the secret share-link tokens are derived with. */
    const char *share_secret; /**< NULL: sharing cannot create or show links */
    /* Derived at startup: provider names as PostgreSQL array literals. */
    const char *providers_sql;    /**< every configured provider, e.g. {openai,google} */
    const char *keyed_sql;        /**< those whose key is present */
    apr_off_t import_max_size;    /**< -1 = unset; default AIC_DEFAULT_IMPORT_MAX */
    const char *import_dir;       /**< NULL = unset; default the system's temporary folder */
    int import_max_conversations; /**< -1 = unset; default AIC_DEFAULT_IMPORT_CONVERSATIONS */
    int import_time_limit;        /**< seconds; -1 = unset; default AIC_DEFAULT_IMPORT_SECONDS */
} aic_server_conf;

extern const command_rec aic_directives[];

/** Create the per-server configuration (all members unset). */
void *aic_config_create(apr_pool_t *p, server_rec *s);
/** Merge a virtual host's configuration over the main server's. */
void *aic_config_merge(apr_pool_t *p, void *base, void *add);
/** The effective configuration of s, with defaults applied. */
const aic_server_conf *aic_config_get(const server_rec *s);
/** Resolve provider keys and apply defaults for every server; logs problems. */
int aic_config_post(apr_pool_t *pconf, server_rec *s);
/** The configured provider called name, or NULL. */
const aic_provider_cfg *aic_config_provider(const aic_server_conf *conf, const char *name);

#endif
