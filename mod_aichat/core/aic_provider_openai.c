/* The OpenAI chat completions protocol, also spoken by compatible servers
 * (Ollama, vLLM, llama.cpp, Mistral...): the request, a whole answer, and
 * one stream chunk. */
#include "aic_provider_int.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>

/* The lower-cased host of url. */
static const char *host_of(apr_pool_t *p, const char *url)
{
    const char *h = strstr(url, "://");
    char *host;

    h = h ? h + 3 : url;
    host = apr_pstrmemdup(p, h, strcspn(h, "/:?#"));
    for (char *c = host; *c; c++) {
        *c = (char)apr_tolower(*c);
    }
    return host;
}

static apr_status_t build_openai(aic_http_call *out, apr_pool_t *p, const aic_chat_request *req,
                                 aic_json *body)
{
    const char *host = host_of(p, req->base_url);
    aic_json *msgs = aic_json_array(p);
    apr_status_t rv = APR_SUCCESS;

    out->url = aic_prov_api_url(p, req->base_url, "v1", "/chat/completions");
    if (req->key) {
        rv = aic_prov_add_header(out->headers, p, "Authorization",
                                 apr_pstrcat(p, "Bearer ", req->key, NULL));
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    aic_json_set_str(body, "model", req->model);
    if (aic_prov_has_system(req)) {
        aic_json_push(msgs, aic_prov_role_content(p, "system", req->system));
    }
    for (int i = 0; i < req->messages->nelts; i++) {
        const aic_chat_msg *m = &APR_ARRAY_IDX(req->messages, i, aic_chat_msg);

        aic_json_push(msgs, aic_prov_role_content(p, m->role, m->content));
    }
    aic_json_set(body, "messages", msgs);
    if ((rv = aic_prov_set_decimal(body, p, "temperature", req->temperature)) != APR_SUCCESS ||
        (rv = aic_prov_set_sampling(body, p, req, "top_p", "stop")) != APR_SUCCESS) {
        return rv;
    }
    if (req->max_tokens > 0) {
        /* OpenAI deprecated max_tokens; compatible servers (Ollama...) know only it. */
        aic_json_set_int(body,
                         strcmp(host, "api.openai.com") ? "max_tokens" : "max_completion_tokens",
                         req->max_tokens);
    }
    if (req->stream) {
        aic_json_set_bool(body, "stream", 1);
        /* Mistral rejects unknown fields and sends usage anyway. */
        if (strcmp(host, "api.mistral.ai")) {
            aic_json *opts = aic_json_object(p);

            aic_json_set_bool(opts, "include_usage", 1);
            aic_json_set(body, "stream_options", opts);
        }
    }
    return APR_SUCCESS;
}

/* Answer text that is a string or an array of {"type":"text","text":...} parts. */
static apr_status_t openai_content(text_sink *k, const aic_json *content, apr_pool_t *tmp)
{
    apr_status_t rv = aic_prov_emit(k, aic_json_str(content, tmp));

    for (apr_size_t i = 0; aic_json_typeof(content) == AIC_JSON_ARRAY &&
                           i < aic_json_len(content) && rv == APR_SUCCESS;
         i++) {
        const aic_json *part = aic_json_at(content, i);

        if (!aic_json_has(part, "type") ||
            aic_prov_str_is(aic_json_get(part, "type"), "text", tmp)) {
            rv = aic_prov_emit(k, aic_json_str(aic_json_get(part, "text"), tmp));
        }
    }
    return rv;
}

static apr_status_t openai_whole(aic_chat_result *r, text_sink *k, const aic_json *root,
                                 apr_pool_t *p, apr_pool_t *tmp)
{
    const aic_json *choice = aic_prov_first(aic_json_get(root, "choices"));
    const aic_json *msg = aic_json_get(choice, "message");
    const aic_json *usage = aic_json_get(root, "usage");

    if (aic_json_typeof(msg) != AIC_JSON_OBJECT) {
        return aic_prov_set_error(r, p, "provider_malformed",
                                  "the provider's answer has no message");
    }
    r->finish_reason = aic_json_str(aic_json_get(choice, "finish_reason"), p);
    r->complete = r->finish_reason != NULL;
    aic_prov_set_count(&r->prompt_tokens, aic_json_get(usage, "prompt_tokens"));
    aic_prov_set_count(&r->completion_tokens, aic_json_get(usage, "completion_tokens"));
    return openai_content(k, aic_json_get(msg, "content"), tmp);
}

static apr_status_t openai_chunk(aic_provider_stream *s, const aic_json *root,
                                 const aic_sse_event *ev)
{
    /* A usage-only chunk has "choices":[] (or null, or none: vLLM). */
    const aic_json *choice = aic_prov_first(aic_json_get(root, "choices"));
    const aic_json *usage = aic_json_get(root, "usage");
    const char *finish = aic_json_str(aic_json_get(choice, "finish_reason"), s->pool);

    (void)ev; /* the event name says nothing OpenAI needs */
    aic_prov_set_count(&s->res.prompt_tokens, aic_json_get(usage, "prompt_tokens"));
    aic_prov_set_count(&s->res.completion_tokens, aic_json_get(usage, "completion_tokens"));
    if (finish) {
        s->res.finish_reason = finish;
        s->res.complete = 1;
    }
    return openai_content(&s->out, aic_json_get(aic_json_get(choice, "delta"), "content"),
                          s->scratch);
}

const aic_prov_protocol aic_prov_openai = {build_openai, openai_whole, openai_chunk};
