/* What the keys capability's files share (private to api/keys/):
 *   aic_keys.c        a user's keys (make, list, revoke), an administrator's
 *   aic_keys_stmts.c  its statements (the functions of sql/functions/keys.sql)
 *   aic_keys_auth.c   AuthType aichat-key: the Apache authentication of
 *                     `Authorization: Bearer` keys, so Require, r->user and the
 *                     logs work as for any user
 *   aic_keys_rate.c   the rate limits: token buckets in shared memory
 *   aic_keys_pages.c  usage as JSON, CSV, server-side SVG charts and the
 *                     administrators' page
 * What other capabilities use of it (the OpenAI-compatible API) is declared in
 * api/aic_api.h. */
#ifndef AIC_KEYS_H
#define AIC_KEYS_H

#include "api/aic_api.h"

/** The text every key begins with; then AIC_KEY_RANDOM_CHARS of base64url. */
#define AIC_KEY_LEAD         "sk-aic-"
#define AIC_KEY_RANDOM_CHARS 43
/** How much of a key is shown (and stored) to tell it apart. */
#define AIC_KEY_PREFIX_CHARS 14

/** The SHA-256 of key as hex (what the database holds), or NULL. */
const char *aic_keys_hash(apr_pool_t *p, const char *key);

/** 1 when key has the shape of a key (AIC_KEY_LEAD and its random part). */
int aic_keys_shaped(const char *key);

/** The usage JSON (keys_usage) of viewer (NULL: the whole site) over the
 * last days into *json. Returns APR_SUCCESS or an aic_db error. */
apr_status_t aic_keys_usage(const char **json, aic_ctx *ctx, const char *viewer, int days);

#endif
