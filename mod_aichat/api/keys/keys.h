/* What the keys capability's files share:
 *   aic_keys.c        a user's keys (make, list, revoke), an administrator's,
 *                     and the administrators' keys page (/admin/keys)
 *   aic_keys_stmts.c  its statements (the functions of sql/functions/keys.sql)
 *   aic_keys_auth.c   AuthType aichat-key: the Apache authentication of
 *                     `Authorization: Bearer` keys, so Require, r->user and the
 *                     logs work as for any user
 *   aic_keys_rate.c   the rate limits: token buckets in shared memory
 *   aic_keys_pages.c  usage as JSON, CSV, server-side SVG charts, the
 *                     administrators' page and its glance on their overview
 * Its hooks and tables are in the index (api/aic_api.h); the key of a request
 * and the rate limits, declared here too, are what the OpenAI-compatible API
 * (api/openai/) uses of it. */
#ifndef AIC_KEYS_H
#define AIC_KEYS_H

#include "api/aic_api.h"

/** The key a request was authenticated with. */
typedef struct {
    const char *id, *prefix;
    aic_json *models; /**< the catalog slugs it may use; NULL: every model */
    int rpm, tpm;     /**< its rate limits; 0: none */
    int keep;         /**< its calls are kept as conversations */
} aic_api_key;
/** The key that authenticated r (AuthType aichat-key), or NULL. */
const aic_api_key *aic_keys_current(request_rec *r);
/** The challenge of a 401 for a key refused for code (missing_key, or why the
 * key was refused): WWW-Authenticate: Bearer, with error="invalid_token" for a
 * key that was sent. */
void aic_keys_challenge(request_rec *r, const char *code);
/** One window of a rate limit, as the x-ratelimit-* headers tell it. */
typedef struct {
    apr_int64_t limit, remaining; /**< limit 0: no limit */
    apr_time_t reset;             /**< until the bucket is full again */
} aic_rate_window;
typedef struct {
    aic_rate_window requests, tokens;
    int retry_after; /**< seconds; 0 when the call was let through */
} aic_rate;
/** A user's share of the limits: AIChatAPIUserLimit (0: none). */
typedef struct {
    const char *id;
    int rpm, tpm;
    apr_pool_t *pool; /**< the request's */
} aic_rate_user;
/**
 * Take a request and `tokens` tokens from the key's buckets (its rpm and
 * tpm) and the user's, shared by the processes of this httpd. Returns 1 when
 * taken; 0 when a bucket is short (nothing is taken, and out says which
 * limit and when to come back).
 */
int aic_keys_rate_take(aic_rate *out, const aic_rate_user *user, const aic_api_key *key,
                       apr_int64_t tokens);
/** Give back tokens taken and not used (a call used less than it reserved). */
void aic_keys_rate_give(const aic_rate_user *user, const aic_api_key *key, apr_int64_t tokens);
/** The x-ratelimit-* headers of out on r (and Retry-After when refused). */
void aic_keys_rate_headers(request_rec *r, const aic_rate *out);

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

/** Write the site's API usage of the last 30 days at a glance into the page
 * being rendered on ctx->r (the administrators' overview): calls, tokens
 * and credits in all, the tokens per day chart of /admin/usage, the top 5
 * users, errors by provider, and links to /admin/usage and its CSV. When
 * usage cannot be read, a short note says so instead. */
void aic_keys_usage_glance(aic_ctx *ctx);

/** The administrators' keys page (GET /admin/keys?after=): every key with
 * its owner, name, prefix, dates and status, and a Revoke form. */
int aic_keys_admin_page(aic_ctx *ctx);
/** POST /admin/keys/{id}/revoke from that page: 303 back to it. */
int aic_keys_admin_page_revoke(aic_ctx *ctx);

#endif
