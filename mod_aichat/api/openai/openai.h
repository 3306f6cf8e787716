/* What the OpenAI-compatible API's files share (private to api/openai/):
 *   aic_openai.c       the aichat-openai handler: routes, the user, errors in
 *                      OpenAI's format, GET /models
 *   aic_openai_call.c  POST /chat/completions, streamed and not: read the
 *                      request, check the key's limits, reserve, call the
 *                      provider, settle
 * The key that authenticated the request comes from api/keys/ (AuthType
 * aichat-key, aic_keys_current). */
#ifndef AIC_OPENAI_H
#define AIC_OPENAI_H

#include "api/aic_api.h"
#include "api/keys/keys.h"

/** POST /chat/completions for the signed-in user and key. */
int aic_openai_completions(aic_ctx *ctx, const aic_api_key *key);

/** 404 model_not_found for slug, as OpenAI words it (for the handler to return). */
int aic_openai_model_not_found(request_rec *r, const char *slug);

/** 401 for a key refused for why (missing_key, revoked_api_key,
 * expired_api_key; anything else: invalid_api_key), in OpenAI's words. */
int aic_openai_key_refused(request_rec *r, const char *why);

/** 1 when key may use the model slug. */
int aic_openai_key_allows(const aic_api_key *key, const char *slug, apr_pool_t *p);

#endif
