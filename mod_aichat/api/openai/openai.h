/* What the OpenAI-compatible API's files share (private to api/openai/):
 *   aic_openai.c       the aichat-openai handler: routes, the user, errors in
 *                      OpenAI's format, GET /models
 *   aic_openai_call.c  POST /chat/completions, streamed and not: read the
 *                      request, check the key's limits, reserve, call the
 *                      provider, settle
 *   aic_openai_lease.c the credits this process holds for keys' calls, taken
 *                      from the database when they run short, given back by
 *                      the settlements' writer
 * The key that authenticated the request comes from api/keys/ (AuthType
 * aichat-key, aic_keys_current). */
#ifndef AIC_OPENAI_H
#define AIC_OPENAI_H

#include "api/aic_api.h"
#include "api/keys/keys.h"
#include "httpd/aic_batch.h"

/** POST /chat/completions for the signed-in user and key. */
int aic_openai_completions(aic_ctx *ctx, const aic_api_key *key);

/** 404 model_not_found for slug, as OpenAI words it (for the handler to return). */
int aic_openai_model_not_found(request_rec *r, const char *slug);

/** 401 for a key refused for why (missing_key, revoked_api_key,
 * expired_api_key; anything else: invalid_api_key), in OpenAI's words. */
int aic_openai_key_refused(request_rec *r, const char *why);

/** 1 when key may use the model slug. */
int aic_openai_key_allows(const aic_api_key *key, const char *slug, apr_pool_t *p);

/** Hold credits for keys' calls in this process, given back by settlements'
 * writer at each of its rounds; with no writer (NULL), each call takes its own. */
void aic_openai_lease_init(apr_pool_t *pchild, server_rec *s, aic_batch *settlements);

/**
 * Take `credits` for a call of key by ctx's user to model slug of provider:
 * from what this process holds for the key, else from the database
 * (api_call_reserve, which checks the key and the model again). Returns
 * APR_SUCCESS, with *lease NULL, or the lease the call's settlement must give
 * back (aic_openai_lease_release) when no writer holds it; APR_ENOSPC with
 * *code (api_call_reserve's) when refused; else the database's failure.
 */
apr_status_t aic_openai_lease_take(const char **code, const char **lease, aic_ctx *ctx,
                                   const aic_api_key *key, const char *slug, const char *provider,
                                   apr_int64_t credits);

/** The settlements' row that gives back leases (an array of their ids), of
 * which `credits` were not taken by a call. */
const char *aic_openai_lease_release(apr_pool_t *p, const char *viewer, const char *key,
                                     const apr_array_header_t *leases, apr_int64_t credits);

#endif
