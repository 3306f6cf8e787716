/* The Anthropic messages protocol: the request, a whole answer, and one
 * stream event. */
#include "aic_provider_int.h"

#include <apr_strings.h>
#include <limits.h>
#include <string.h>

static apr_status_t build_anthropic(aic_http_call *out, apr_pool_t *p, const aic_chat_request *req,
                                    aic_json *body)
{
    const apr_array_header_t *turns = aic_prov_merged_turns(p, req->messages);
    aic_json *msgs = aic_json_array(p);
    apr_status_t rv = APR_SUCCESS;

    out->url = aic_prov_api_url(p, req->base_url, "v1", "/messages");
    if (req->key) {
        rv = aic_prov_add_header(out->headers, p, "x-api-key", req->key);
    }
    if (rv != APR_SUCCESS || (rv = aic_prov_add_header(out->headers, p, "anthropic-version",
                                                       "2023-06-01")) != APR_SUCCESS) {
        return rv;
    }
    aic_json_set_str(body, "model", req->model);
    aic_json_set_int(body, "max_tokens",
                     req->max_tokens > 0 ? req->max_tokens : AIC_PROVIDER_ANTHROPIC_MAX_TOKENS);
    if (aic_prov_has_system(req)) {
        aic_json_set_str(body, "system", req->system);
    }
    for (int i = 0; i < turns->nelts; i++) {
        const aic_chat_msg *m = &APR_ARRAY_IDX(turns, i, aic_chat_msg);

        aic_json_push(msgs, aic_prov_role_content(p, m->role, m->content));
    }
    aic_json_set(body, "messages", msgs);
    if ((rv = aic_prov_set_decimal(body, p, "temperature", req->temperature)) != APR_SUCCESS ||
        (rv = aic_prov_set_sampling(body, p, req, "top_p", "stop_sequences")) != APR_SUCCESS) {
        return rv;
    }
    if (req->stream) {
        aic_json_set_bool(body, "stream", 1);
    }
    return APR_SUCCESS;
}

/* n (>= 0) plus a count when it is positive, at most LONG_MAX: a provider's
 * absurd count must not overflow the sum. */
static long add_count(long n, long part)
{
    return part <= 0 ? n : part > LONG_MAX - n ? LONG_MAX : n + part;
}

/* Anthropic's input tokens: uncached + cache writes + cache reads; -1 when absent. */
static long anthropic_input(const aic_json *usage)
{
    long n = -1, part = -1;

    aic_prov_set_count(&n, aic_json_get(usage, "input_tokens"));
    if (n >= 0) {
        aic_prov_set_count(&part, aic_json_get(usage, "cache_creation_input_tokens"));
        n = add_count(n, part);
        part = -1;
        aic_prov_set_count(&part, aic_json_get(usage, "cache_read_input_tokens"));
        n = add_count(n, part);
    }
    return n;
}

static apr_status_t anthropic_whole(aic_chat_result *r, text_sink *k, const aic_json *root,
                                    apr_pool_t *p, apr_pool_t *tmp)
{
    const aic_json *content = aic_json_get(root, "content");
    const aic_json *usage = aic_json_get(root, "usage");
    apr_status_t rv = APR_SUCCESS;

    if (aic_json_typeof(content) != AIC_JSON_ARRAY) {
        return aic_prov_set_error(r, p, "provider_malformed",
                                  "the provider's answer has no content");
    }
    /* Only text blocks: thinking, tool_use... are not part of the answer. */
    for (apr_size_t i = 0; i < aic_json_len(content) && rv == APR_SUCCESS; i++) {
        const aic_json *block = aic_json_at(content, i);

        if (aic_prov_str_is(aic_json_get(block, "type"), "text", tmp)) {
            rv = aic_prov_emit(k, aic_json_str(aic_json_get(block, "text"), tmp));
        }
    }
    r->finish_reason = aic_json_str(aic_json_get(root, "stop_reason"), p);
    r->complete = r->finish_reason != NULL;
    r->prompt_tokens = anthropic_input(usage);
    aic_prov_set_count(&r->completion_tokens, aic_json_get(usage, "output_tokens"));
    return rv;
}

static apr_status_t anthropic_event(aic_provider_stream *s, const aic_json *root,
                                    const aic_sse_event *ev)
{
    const char *type = aic_json_str(aic_json_get(root, "type"), s->scratch);
    const aic_json *delta = aic_json_get(root, "delta");

    if (!type) {
        type = ev->event ? ev->event : "";
    }
    if (!strcmp(type, "message_start")) {
        const aic_json *usage = aic_json_get(aic_json_get(root, "message"), "usage");

        s->res.prompt_tokens = anthropic_input(usage);
        aic_prov_set_count(&s->res.completion_tokens, aic_json_get(usage, "output_tokens"));
    } else if (!strcmp(type, "content_block_delta")) {
        /* thinking_delta, input_json_delta... are not answer text. */
        if (aic_prov_str_is(aic_json_get(delta, "type"), "text_delta", s->scratch)) {
            return aic_prov_emit(&s->out, aic_json_str(aic_json_get(delta, "text"), s->scratch));
        }
    } else if (!strcmp(type, "message_delta")) {
        const char *stop = aic_json_str(aic_json_get(delta, "stop_reason"), s->pool);

        if (stop) {
            s->res.finish_reason = stop;
        }
        /* Cumulative: the last value is the count. */
        aic_prov_set_count(&s->res.completion_tokens,
                           aic_json_get(aic_json_get(root, "usage"), "output_tokens"));
    } else if (!strcmp(type, "message_stop")) {
        s->res.complete = 1;
        s->finished = 1;
    }
    return APR_SUCCESS;
}

const aic_prov_protocol aic_prov_anthropic = {build_anthropic, anthropic_whole, anthropic_event};
