/* One call of a catalog model outside a conversation's turn: a summary, a
 * call of the OpenAI-compatible API. Charged as a turn's answer is: the
 * reservation is an upper bound of what the call can use (core/aic_turn_plan),
 * taken before the provider is asked and given back when the call fails;
 * the caller settles it in the statement that stores what the answer made.
 * The provider is asked and read as a turn's answer is: the request built by
 * core/aic_provider, the stream through its parser, the text cut at
 * AIChatMaxAnswerBytes, each piece handed on as it comes (the API streams
 * them to its client). */
#include "aic_chat.h"
#include "httpd/aic_curl.h"

#include <http_log.h>
#include <apr_strings.h>

#include "core/aic_provider.h"
#include "core/aic_turn_plan.h"

APLOG_USE_MODULE(aichat);

#define DEFAULT_MAX_TOKENS 1024
/* How often a client that may leave is looked at while the provider works. */
#define CLIENT_EVERY apr_time_from_sec(1)

typedef struct {
    aic_chat_call *c;
    aic_provider_stream *parser;
    apr_size_t bytes, cap;
} reading;

static apr_status_t on_delta(void *arg, const char *text, apr_size_t len)
{
    reading *rd = arg;
    aic_chat_call *c = rd->c;
    apr_status_t rv = APR_SUCCESS;

    if (len > rd->cap - rd->bytes) {
        len = aic_turn_fit_bytes(text, len, rd->cap - rd->bytes);
        c->capped = 1;
    }
    rd->bytes += len;
    if (c->on_text && len && (rv = c->on_text(c->arg, text, len)) != APR_SUCCESS) {
        c->gone = 1;
    }
    return rv == APR_SUCCESS && c->capped ? APR_EOF : rv;
}

static apr_status_t on_body(void *arg, const char *data, apr_size_t len)
{
    reading *rd = arg;

    return aic_provider_stream_feed(rd->parser, data, len);
}

/* What was sent, as estimated, when the provider gives no usage. */
static apr_int64_t estimate(const aic_chat_call *c)
{
    apr_int64_t n = aic_tokens_estimate(c->system);

    for (int i = 0; i < c->messages->nelts; i++) {
        n += aic_tokens_estimate(APR_ARRAY_IDX(c->messages, i, aic_chat_msg).content);
    }
    return n;
}

static apr_status_t failed(aic_chat_call *c, int status, const char *code, const char *message)
{
    c->status = status;
    c->code = code;
    c->message = message;
    return APR_EGENERAL;
}

apr_status_t aic_chat_call_plan(aic_chat_call *c, aic_ctx *ctx)
{
    aic_json *obj = aic_json_from(c->pool, c->model_json);
    aic_chat_model m;

    c->status = 0;
    c->code = c->message = c->retry_after = NULL;
    if (aic_json_typeof(obj) != AIC_JSON_OBJECT) {
        return failed(c, HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                      "The request could not be completed.");
    }
    aic_chat_model_from_json(&m, c->pool, obj);
    c->provider = m.provider;
    c->model_id = m.model_id;
    c->display_name = m.display_name;
    if (c->max_tokens <= 0) {
        c->max_tokens = (int)aic_chat_json_int(m.defaults, "max_tokens", DEFAULT_MAX_TOKENS);
        c->max_tokens = c->max_tokens > 0 ? c->max_tokens : DEFAULT_MAX_TOKENS;
    }
    if (aic_turn_reserve(&c->reserved, aic_turn_input_bound(c->system, c->messages), estimate(c),
                         c->max_tokens,
                         aic_chat_json_int(m.capabilities, "context_window", 0)) != 0) {
        return failed(
            c, HTTP_UNPROCESSABLE_ENTITY, "context_too_long",
            apr_psprintf(c->pool, "This is too long for %s's context window.", m.display_name));
    }
    if (!aic_config_provider(ctx->conf, m.provider)) {
        return failed(c, HTTP_SERVICE_UNAVAILABLE, "provider_unavailable",
                      "The model's provider is not configured on this server.");
    }
    return APR_SUCCESS;
}

apr_status_t aic_chat_call_ask(aic_chat_call *c, aic_ctx *ctx)
{
    const aic_provider_cfg *prov = aic_config_provider(ctx->conf, c->provider);
    aic_chat_request req;
    aic_http_call http;
    aic_curl_call call;
    aic_curl_transfer *x = NULL;
    aic_curl_result res;
    const aic_chat_result *out;
    reading rd;
    apr_pool_t *pool;
    apr_time_t checked = apr_time_now();

    c->status = 0;
    c->code = c->message = c->retry_after = c->finish_reason = NULL;
    c->text = "";
    c->capped = c->gone = 0;
    memset(&req, 0, sizeof(req));
    req.kind = prov->kind;
    req.base_url = prov->base_url;
    req.key = prov->key;
    req.model = c->model_id;
    req.system = c->system;
    req.messages = c->messages;
    req.temperature = c->temperature ? *c->temperature : -1;
    req.top_p = c->top_p;
    req.stop = c->stop;
    req.max_tokens = c->max_tokens;
    req.stream = 1;
    apr_pool_create(&pool, c->pool);
    if (aic_provider_build(&http, pool, &req) != APR_SUCCESS) {
        apr_pool_destroy(pool);
        return failed(c, HTTP_BAD_GATEWAY, "provider_bad_request",
                      "The request for the provider could not be built.");
    }
    memset(&rd, 0, sizeof(rd));
    rd.c = c;
    rd.cap = (apr_size_t)ctx->conf->max_answer_bytes;
    rd.parser = aic_provider_stream_create(pool, prov->kind, on_delta, &rd);
    memset(&call, 0, sizeof(call));
    call.url = http.url;
    call.headers = http.headers;
    call.body = http.body;
    call.connect_timeout = prov->connect_timeout;
    call.timeout = prov->timeout;
    call.on_body = on_body;
    call.ctx = &rd;
    /* No database connection is held while the provider answers. */
    aic_db_release(ctx->db);
    aic_curl_start(&x, pool, &call);
    while (aic_curl_step(x) == APR_INCOMPLETE) {
        if (c->client && apr_time_now() - checked >= CLIENT_EVERY) {
            checked = apr_time_now();
            if (aic_client_gone(c->client)) {
                c->gone = 1;
                break;
            }
        }
    }
    aic_curl_end(&res, x);
    out = aic_provider_stream_result(rd.parser);
    if (res.status && (res.status < 200 || res.status > 299)) {
        aic_chat_result *parsed = apr_palloc(pool, sizeof(*parsed));

        aic_provider_parse_response(parsed, pool, prov->kind, res.status, res.error_body,
                                    res.error_len);
        failed(c, 0, parsed->error_code ? parsed->error_code : "provider_error",
               parsed->error_message);
        c->retry_after = apr_pstrdup(c->pool, res.retry_after);
    } else if (out->error_code) {
        failed(c, 0, out->error_code, out->error_message);
    } else if (res.rv == APR_TIMEUP) {
        failed(c, 0, "provider_timeout", "The provider did not answer in time.");
    } else if (res.rv == APR_ECONNREFUSED) {
        failed(c, 0, "provider_unreachable", "The provider cannot be reached.");
    } else if (c->gone || (c->client && c->client->connection->aborted)) {
        c->gone = 1;
    } else if (!c->capped && (res.rv != APR_SUCCESS || !out->complete)) {
        failed(c, 0, "provider_incomplete", "The provider's answer was cut off.");
    }
    if (out->text) {
        c->text = apr_pstrmemdup(c->pool, out->text, c->capped ? rd.bytes : strlen(out->text));
    }
    c->finish_reason = out->finish_reason ? apr_pstrdup(c->pool, out->finish_reason) : NULL;
    c->prompt_tokens = out->prompt_tokens >= 0 ? out->prompt_tokens : estimate(c);
    c->completion_tokens =
        out->completion_tokens >= 0 ? out->completion_tokens : aic_tokens_estimate(c->text);
    c->used = c->prompt_tokens + c->completion_tokens;
    if (c->code) {
        c->status = aic_chat_error_status(c->code);
        c->message = apr_pstrdup(c->pool, c->message ? c->message : c->code);
    }
    apr_pool_destroy(pool);
    return c->code ? APR_EGENERAL : APR_SUCCESS;
}

apr_status_t aic_chat_call_release(aic_chat_call *c, aic_ctx *ctx)
{
    const char *balance = NULL;
    apr_status_t rv;

    rv = aic_db_value(
        &balance, ctx->db, "chat_call_release",
        AIC_ARGS(ctx->user->id, apr_psprintf(c->pool, "%" APR_INT64_T_FMT, c->reserved)));
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, c->s,
                     "mod_aichat: %" APR_INT64_T_FMT " credits reserved by %s for %s stay "
                     "reserved",
                     c->reserved, ctx->user->username, c->note);
    }
    return rv;
}

apr_status_t aic_chat_call_run(aic_chat_call *c, aic_ctx *ctx)
{
    const char *balance = NULL;
    apr_status_t rv;

    if ((rv = aic_chat_call_plan(c, ctx)) != APR_SUCCESS) {
        return rv;
    }
    rv = aic_db_value(
        &balance, ctx->db, "chat_call_reserve",
        AIC_ARGS(ctx->user->id, apr_psprintf(c->pool, "%" APR_INT64_T_FMT, c->reserved), c->note));
    if (rv != APR_SUCCESS) {
        c->status = HTTP_SERVICE_UNAVAILABLE;
        c->code = AIC_DB_UNAVAILABLE_CODE;
        c->message = AIC_DB_UNAVAILABLE_MESSAGE;
        return rv;
    }
    if (!balance) {
        return failed(c, HTTP_PAYMENT_REQUIRED, "insufficient_credits",
                      apr_psprintf(c->pool,
                                   "This needs about %" APR_INT64_T_FMT
                                   " credits; your balance is lower.",
                                   c->reserved));
    }
    if ((rv = aic_chat_call_ask(c, ctx)) != APR_SUCCESS) {
        aic_chat_call_release(c, ctx);
    }
    return rv;
}
