/* The public side of the provider layer: requests checked and built, whole
 * answers and error statuses mapped, the stream object fed through the SSE
 * parser; each protocol's own part is in aic_provider_<kind>.c. */
#include "aic_provider_int.h"
#include "aic_valid.h"

#include <apr_strings.h>
#include <math.h>
#include <string.h>

/* ---- the protocols ---- */

static const aic_prov_protocol *const protocols[] = {
    [AIC_PROVIDER_OPENAI] = &aic_prov_openai,
    [AIC_PROVIDER_ANTHROPIC] = &aic_prov_anthropic,
    [AIC_PROVIDER_GEMINI] = &aic_prov_gemini,
};

/* The protocol of kind, NULL for a kind outside the enum. */
static const aic_prov_protocol *protocol_of(aic_provider_kind kind)
{
    return (unsigned)kind < sizeof(protocols) / sizeof(protocols[0]) ? protocols[kind] : NULL;
}

/* Building refuses a kind outside the enum; the parsers read any kind that
 * is not OpenAI or Anthropic as Gemini. */
static const aic_prov_protocol *parser_of(aic_provider_kind kind)
{
    const aic_prov_protocol *proto = protocol_of(kind);

    return proto ? proto : &aic_prov_gemini;
}

/* ---- small helpers ---- */

static void result_init(aic_chat_result *r)
{
    memset(r, 0, sizeof(*r));
    r->text = "";
    r->prompt_tokens = -1;
    r->completion_tokens = -1;
}

/* ---- error messages ---- */

/* 1 when a body is an error: {"error":...} (OpenAI, Anthropic, Gemini,
 * llama.cpp, newer vLLM) or {"object":"error",...} (older vLLM, Mistral). */
static int is_error(const aic_json *root, apr_pool_t *p)
{
    root = aic_prov_unwrap(root);
    return aic_json_typeof(aic_json_get(root, "error")) != AIC_JSON_NULL ||
           aic_prov_str_is(aic_json_get(root, "object"), "error", p);
}

/* The provider's own words in an error body, or NULL. */
static const char *provider_message(const aic_json *root, apr_pool_t *p)
{
    const aic_json *e, *m;

    root = aic_prov_unwrap(root);
    e = aic_json_get(root, "error");
    if (aic_json_typeof(e) == AIC_JSON_STRING) {
        return aic_json_str(e, p);
    }
    /* error.message, or a flat message; Mistral's is an object. */
    m = aic_json_typeof(e) == AIC_JSON_OBJECT ? aic_json_get(e, "message")
                                              : aic_json_get(root, "message");
    switch (aic_json_typeof(m)) {
    case AIC_JSON_STRING:
        return aic_json_str(m, p);
    case AIC_JSON_OBJECT:
    case AIC_JSON_ARRAY:
        return aic_json_dump(m, p);
    default:
        return NULL;
    }
}

static const char *status_error_code(int status)
{
    switch (status) {
    case 401:
    case 403:
        return "provider_auth";
    case 429:
        return "provider_rate_limited";
    case 503:
    case 529:
        return "provider_overloaded";
    case 400:
    case 404:
    case 422:
        return "provider_bad_request";
    default:
        return "provider_error";
    }
}

/* ---- building requests ---- */

static int utf8_ok(const char *s)
{
    return aic_valid_utf8(s, strlen(s));
}

static apr_status_t check_request(const aic_chat_request *req)
{
    if (!req || !req->base_url || !*req->base_url || !aic_prov_no_ctl(req->base_url, 0) ||
        !req->model || !*req->model || !utf8_ok(req->model) || !req->messages ||
        req->messages->nelts == 0 || (req->system && !utf8_ok(req->system))) {
        return APR_EINVAL;
    }
    /* NaN fails both comparisons: it is neither "not sent" nor valid. */
    if (!(req->temperature < 0) && !(isfinite(req->temperature) && req->temperature <= 1000)) {
        return APR_EINVAL;
    }
    if (req->top_p && !(*req->top_p >= 0 && *req->top_p <= 1)) {
        return APR_EINVAL;
    }
    for (int i = 0; req->stop && i < req->stop->nelts; i++) {
        const char *s = APR_ARRAY_IDX(req->stop, i, const char *);

        if (!s || !utf8_ok(s)) {
            return APR_EINVAL;
        }
    }
    for (int i = 0; i < req->messages->nelts; i++) {
        const aic_chat_msg *m = &APR_ARRAY_IDX(req->messages, i, aic_chat_msg);

        if (!m->role || (strcmp(m->role, "user") && strcmp(m->role, "assistant")) || !m->content ||
            !utf8_ok(m->content)) {
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

apr_status_t aic_provider_build(aic_http_call *out, apr_pool_t *p, const aic_chat_request *req)
{
    aic_http_call call = {NULL, NULL, NULL};
    const aic_prov_protocol *proto;
    aic_json *body;
    apr_status_t rv;

    memset(out, 0, sizeof(*out));
    if ((rv = check_request(req)) != APR_SUCCESS) {
        return rv;
    }
    call.headers = apr_array_make(p, 4, sizeof(const char *));
    APR_ARRAY_PUSH(call.headers, const char *) = "Content-Type: application/json";
    body = aic_json_object(p);
    proto = protocol_of(req->kind);
    rv = proto ? proto->build(&call, p, req, body) : APR_EINVAL;
    if (rv == APR_SUCCESS) {
        call.body = aic_json_dump(body, p);
        *out = call;
    }
    return rv;
}

/* ---- whole answers ---- */

apr_status_t aic_provider_parse_response(aic_chat_result *out, apr_pool_t *p,
                                         aic_provider_kind kind, int http_status, const char *body,
                                         apr_size_t len)
{
    text_sink k = {{NULL, 0, 0}, p, NULL, NULL};
    apr_pool_t *tmp = NULL;
    aic_json *root = NULL;
    const char *err = NULL, *msg;
    apr_status_t rv;

    result_init(out);
    if ((rv = apr_pool_create(&tmp, p)) != APR_SUCCESS) {
        return rv;
    }
    aic_json_parse(&root, &err, tmp, body ? body : "", body ? len : 0);
    if (http_status < 200 || http_status > 299) {
        const char *code = status_error_code(http_status);

        if (kind == AIC_PROVIDER_GEMINI && http_status == 400 &&
            aic_prov_gemini_bad_key(root, tmp)) {
            code = "provider_auth";
        }
        msg = root ? provider_message(root, tmp) : NULL;
        rv = aic_prov_set_error(
            out, p, code,
            msg ? msg : apr_psprintf(tmp, "the provider answered HTTP %d", http_status));
        goto leave;
    }
    if (!root) {
        rv = aic_prov_set_error(out, p, "provider_malformed",
                                apr_pstrcat(tmp, "the provider's answer is not JSON: ", err, NULL));
        goto leave;
    }
    if (is_error(root, tmp)) {
        msg = provider_message(root, tmp);
        rv = aic_prov_set_error(out, p, "provider_error",
                                msg ? msg : "the provider answered with an error");
        goto leave;
    }
    rv = parser_of(kind)->whole(out, &k, root, p, tmp);
    out->text = aic_prov_text_str(&k.text);
leave:
    apr_pool_destroy(tmp);
    return rv;
}

/* ---- streamed answers ---- */

static apr_status_t on_event(void *ctx, const aic_sse_event *ev)
{
    aic_provider_stream *s = ctx;
    aic_json *root = NULL;
    const char *err = NULL, *msg;
    apr_status_t rv = APR_SUCCESS;

    if (s->finished) {
        return APR_SUCCESS;
    }
    if (ev->field_error) {
        /* llama.cpp: error: {"error":{...}} or {"code":...,"message":...}. */
        aic_json_parse(&root, &err, s->scratch, ev->field_error, strlen(ev->field_error));
        msg = root ? provider_message(root, s->scratch) : NULL;
        rv = aic_prov_set_error(&s->res, s->pool, "provider_stream_error",
                                msg ? msg
                                    : (*ev->field_error ? ev->field_error : "the provider failed"));
        goto leave;
    }
    if (s->kind == AIC_PROVIDER_OPENAI && !strncmp(ev->data, "[DONE]", 6)) {
        s->res.complete = 1;
        s->finished = 1;
        goto leave;
    }
    if (aic_json_parse(&root, &err, s->scratch, ev->data, ev->data_len) != APR_SUCCESS) {
        if (!s->at_eof) {
            rv = aic_prov_set_error(
                &s->res, s->pool, "provider_malformed",
                apr_pstrcat(s->scratch, "a stream event is not JSON: ", err, NULL));
        }
        goto leave;
    }
    if (is_error(root, s->scratch)) {
        msg = provider_message(root, s->scratch);
        rv = aic_prov_set_error(&s->res, s->pool, "provider_stream_error",
                                msg ? msg : "the provider failed during the answer");
        goto leave;
    }
    rv = s->proto->event(s, root, ev);
leave:
    apr_pool_clear(s->scratch);
    return rv;
}

aic_provider_stream *aic_provider_stream_create(apr_pool_t *p, aic_provider_kind kind,
                                                aic_delta_cb on_delta, void *ctx)
{
    aic_provider_stream *s = apr_pcalloc(p, sizeof(*s));

    if (apr_pool_create(&s->scratch, p) != APR_SUCCESS ||
        !(s->sse = aic_sse_create(p, on_event, s, AIC_PROVIDER_MAX_EVENT))) {
        return NULL;
    }
    s->pool = p;
    s->kind = kind;
    s->proto = parser_of(kind);
    s->out.pool = p;
    s->out.on_delta = on_delta;
    s->out.ctx = ctx;
    result_init(&s->res);
    return s;
}

apr_status_t aic_provider_stream_feed(aic_provider_stream *s, const char *data, apr_size_t len)
{
    apr_status_t rv;

    if (s->rv != APR_SUCCESS || s->ended) {
        return s->rv;
    }
    rv = aic_sse_feed(s->sse, data, len);
    if (rv == APR_ENOSPC) {
        rv = aic_prov_set_error(&s->res, s->pool, "provider_malformed",
                                "a stream event is larger than the limit");
    }
    s->rv = rv;
    return rv;
}

const aic_chat_result *aic_provider_stream_result(aic_provider_stream *s)
{
    if (!s->ended) {
        s->ended = 1;
        if (s->rv == APR_SUCCESS && s->kind == AIC_PROVIDER_GEMINI) {
            s->at_eof = 1;
            s->rv = aic_sse_flush(s->sse);
        }
        if (s->rv == APR_SUCCESS) {
            /* A discarded unterminated event shows as complete == 0. */
            (void)aic_sse_end(s->sse);
        }
    }
    s->res.text = aic_prov_text_str(&s->out.text);
    return &s->res;
}

long aic_tokens_estimate(const char *text)
{
    if (!text || !*text) {
        return 0;
    }
    return (long)((aic_utf8_length(text) + 3) / 4);
}
