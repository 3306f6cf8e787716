/* Parsing of the AIChatProvider directive's arguments:
 *   NAME KIND BASE_URL [key=env:VAR|key=file:PATH] [timeout=SECONDS] [connect_timeout=SECONDS]
 * KIND is openai | anthropic | gemini. Keys are resolved (read from the
 * environment or a file) separately, so they are never part of a message. */
#ifndef AIC_PROVIDER_CFG_H
#define AIC_PROVIDER_CFG_H

#include <apr_pools.h>

typedef enum { AIC_PROVIDER_OPENAI, AIC_PROVIDER_ANTHROPIC, AIC_PROVIDER_GEMINI } aic_provider_kind;

typedef enum { AIC_KEY_NONE, AIC_KEY_ENV, AIC_KEY_FILE } aic_key_source;

typedef struct {
    const char *name;
    aic_provider_kind kind;
    const char *base_url; /**< without a trailing slash */
    aic_key_source key_source;
    const char *key_ref; /**< the variable name or file path, never the key */
    int timeout;         /**< total seconds for one upstream call */
    int connect_timeout; /**< seconds to connect */
    const char *key;     /**< resolved at startup; NULL when absent */
} aic_provider_cfg;

#define AIC_PROVIDER_DEFAULT_TIMEOUT         120
#define AIC_PROVIDER_DEFAULT_CONNECT_TIMEOUT 10

/**
 * Parse argc/argv into a new *out allocated from p. Returns NULL on success,
 * otherwise a message naming the faulty argument.
 */
const char *aic_provider_parse(aic_provider_cfg **out, apr_pool_t *p, int argc, char *const argv[]);

/** "openai", "anthropic" or "gemini". */
const char *aic_provider_kind_name(aic_provider_kind kind);

/**
 * Read a secret from its source: an environment variable, or the first line
 * of a file. *out is NULL for AIC_KEY_NONE. Returns NULL on success, otherwise
 * a message that names the variable or file (never the secret).
 */
const char *aic_key_read(const char **out, apr_pool_t *p, aic_key_source source, const char *ref);

/**
 * Resolve cfg->key from its source (environment variable or the first line of
 * a file). Returns NULL on success or when no key is configured, otherwise a
 * message that names the variable or file (never the key).
 */
const char *aic_provider_resolve_key(aic_provider_cfg *cfg, apr_pool_t *p);

#endif
