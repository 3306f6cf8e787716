/* The aichat-openai handler: OpenAI's API under {base}/v1 (/chat/v1 by
 * default) for tools that speak it. Apache authenticates the request
 * (AuthType aichat-key); here the user is loaded as for every endpoint, and
 * every error is in OpenAI's format. */
#include "openai.h"

#include <http_protocol.h>
#include <apr_strings.h>

/* The models this API serves, listed or called: the active models of the
 * configured providers (an array literal, the last argument). */
#define SERVED "t.is_active AND t.provider = ANY (%s::text[])"

const aic_stmt aic_openai_stmts[] = {
    /* A served model by slug, as the chat turn's statements give it. */
    {"openai_model",
     "SELECT json_build_object('id', t.id, 'slug', t.slug, 'display_name', t.display_name,"
     " 'provider', t.provider, 'model_id', t.model_id, 'capabilities', t.capabilities,"
     " 'defaults', t.default_settings)::text FROM ai_tools t"
     " WHERE t.slug = %s AND " SERVED},
    /* The served models as OpenAI model objects, by slug: a JSON array. */
    {"openai_models",
     "SELECT coalesce(json_agg(json_build_object('id', t.slug, 'object', 'model', 'created',"
     " extract(epoch FROM t.created_at)::bigint, 'owned_by', t.provider) ORDER BY t.slug),"
     " '[]')::text FROM ai_tools t WHERE " SERVED},
    /* One JSON argument each (sql/functions/keys.sql). */
    {"openai_reserve", "SELECT api_call_reserve(%s::json)::text"},
    {"openai_settle", "SELECT api_calls_settle(%s::json)::text"},
    {NULL, NULL}};

int aic_openai_key_allows(const aic_api_key *key, const char *slug, apr_pool_t *p)
{
    if (!key->models) {
        return 1;
    }
    for (apr_size_t i = 0; i < aic_json_len(key->models); i++) {
        const char *s = aic_json_str(aic_json_at(key->models, i), p);

        if (s && !strcmp(s, slug)) {
            return 1;
        }
    }
    return 0;
}

int aic_openai_model_not_found(request_rec *r, const char *slug)
{
    return aic_send_error(r, HTTP_NOT_FOUND, "model_not_found",
                          apr_psprintf(r->pool,
                                       "The model `%s` does not exist or you do not have access "
                                       "to it.",
                                       slug),
                          "model");
}

/* GET /models and GET /models/{slug}: what this key may use. */
static int models(aic_ctx *ctx, const aic_api_key *key, const char *slug)
{
    request_rec *r = ctx->r;
    const char *json = NULL;
    aic_json *all, *out;
    apr_status_t rv =
        aic_db_value(&json, ctx->db, "openai_models", AIC_ARGS(ctx->conf->providers_sql));

    if (rv != APR_SUCCESS || !(all = aic_json_from(r->pool, json))) {
        return aic_send_failure(r, rv == APR_SUCCESS ? APR_EGENERAL : rv);
    }
    out = aic_json_array(r->pool);
    for (apr_size_t i = 0; i < aic_json_len(all); i++) {
        aic_json *m = aic_json_at(all, i);
        const char *id = aic_json_str(aic_json_get(m, "id"), r->pool);

        if (!aic_openai_key_allows(key, id, r->pool)) {
            continue;
        }
        if (slug && !strcmp(slug, id)) {
            return aic_send_json(r, HTTP_OK, m);
        }
        aic_json_push(out, m);
    }
    if (slug) {
        return aic_openai_model_not_found(r, slug);
    }
    all = aic_json_object(r->pool);
    aic_json_set_str(all, "object", "list");
    aic_json_set(all, "data", out);
    return aic_send_json(r, HTTP_OK, all);
}

int aic_openai_key_refused(request_rec *r, const char *why)
{
    if (!why || !strcmp(why, "missing_key")) {
        return aic_send_error(r, HTTP_UNAUTHORIZED, "missing_api_key",
                              "No API key: send it as Authorization: Bearer KEY.", NULL);
    }
    if (!strcmp(why, "revoked_api_key")) {
        return aic_send_error(r, HTTP_UNAUTHORIZED, why, "This API key was revoked.", NULL);
    }
    if (!strcmp(why, "expired_api_key")) {
        return aic_send_error(r, HTTP_UNAUTHORIZED, why, "This API key has expired.", NULL);
    }
    return aic_send_error(r, HTTP_UNAUTHORIZED, "invalid_api_key", "Incorrect API key.", NULL);
}

/* The ErrorDocument target: Apache's refusals (AuthType aichat-key's 401,
 * 403, 413, a database that was away) in OpenAI's format. */
static int error_document(request_rec *r)
{
    request_rec *orig = aic_original(r);
    const char *why = apr_table_get(orig->notes, "aichat-key-error");

    if (orig->status == HTTP_SERVICE_UNAVAILABLE || aic_req_get(orig)->db_down) {
        return aic_send_db_error(r, AIC_DB_EDOWN);
    }
    switch (orig->status) {
    case HTTP_UNAUTHORIZED:
        return aic_openai_key_refused(r, why);
    case HTTP_FORBIDDEN:
        return aic_send_error(r, HTTP_FORBIDDEN, "forbidden", "You are not allowed to do this.",
                              NULL);
    case HTTP_REQUEST_ENTITY_TOO_LARGE:
        return aic_send_error(r, orig->status, "body_too_large", "The request body is too large.",
                              NULL);
    default:
        return aic_send_error(r, orig->status,
                              orig->status >= 500 ? "internal_error" : "http_error",
                              ap_get_status_line(orig->status) + 4, NULL);
    }
}

static int route(aic_ctx *ctx, const aic_api_key *key, const char *path)
{
    request_rec *r = ctx->r;
    int get = r->method_number == M_GET, post = r->method_number == M_POST;
    const char *allow = NULL;

    if (!strcmp(path, "/chat/completions")) {
        if (post) {
            return aic_openai_completions(ctx, key);
        }
        allow = "POST";
    } else if (!strcmp(path, "/models")) {
        if (get) {
            return models(ctx, key, NULL);
        }
        allow = "GET";
    } else if (!strncmp(path, "/models/", 8) && path[8] && !strchr(path + 8, '/')) {
        if (get) {
            return models(ctx, key, path + 8);
        }
        allow = "GET";
    }
    if (!allow) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found",
                              apr_psprintf(r->pool, "No such endpoint: %s %s.", r->method,
                                           ap_escape_html(r->pool, path)),
                              NULL);
    }
    apr_table_setn(r->headers_out, "Allow", allow);
    return aic_send_error(
        r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
        apr_psprintf(r->pool, "%s is not allowed here; use %s.", r->method, allow), NULL);
}

int aic_openai_handler(request_rec *r)
{
    aic_ctx ctx = {r, NULL, NULL, NULL, NULL};
    const aic_api_key *key;
    const char *prefix, *path;
    apr_size_t n;
    apr_status_t rv;
    int rc;

    if (!r->handler || strcmp(r->handler, "aichat-openai")) {
        return DECLINED;
    }
    aic_req_get(r)->openai = 1;
    aic_request_id(r);
    ctx.conf = aic_config_get(r->server);
    prefix = apr_pstrcat(r->pool, ctx.conf->base_uri, "/v1", NULL);
    n = strlen(prefix);
    if (strncmp(r->uri, prefix, n) || (r->uri[n] != '/' && r->uri[n] != '\0')) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such endpoint.", NULL);
    }
    path = r->uri[n] ? r->uri + n : "/";
    if (r->prev && !strcmp(path, "/_error")) {
        return error_document(r);
    }
    if (!(key = aic_keys_current(r))) {
        /* The location is not guarded by AuthType aichat-key. */
        return aic_send_error(r, HTTP_UNAUTHORIZED, "missing_api_key",
                              "No API key: send it as Authorization: Bearer KEY.", NULL);
    }
    if ((rv = aic_db_acquire(&ctx.db, r)) != APR_SUCCESS) {
        return aic_send_db_error(r, rv);
    }
    if ((rv = aic_user_current(&ctx.user, r, ctx.db)) != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if (!ctx.user->is_active) {
        return aic_send_error(r, HTTP_FORBIDDEN, "user_disabled",
                              "This account is disabled; ask an administrator.", NULL);
    }
    rc = route(&ctx, key, path);
    aic_db_rollback(ctx.db);
    return rc;
}
