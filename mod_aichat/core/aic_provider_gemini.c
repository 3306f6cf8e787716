/* The Gemini generateContent protocol: the request, a whole answer, and one
 * stream event, both a GenerateContentResponse. */
#include "aic_provider_int.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>

/* Gemini refuses a bad key with 400 and the reason API_KEY_INVALID. */
int aic_prov_gemini_bad_key(const aic_json *root, apr_pool_t *p)
{
    const aic_json *details = aic_json_get(aic_json_get(aic_prov_unwrap(root), "error"), "details");

    for (apr_size_t i = 0; aic_json_typeof(details) == AIC_JSON_ARRAY && i < aic_json_len(details);
         i++) {
        if (aic_prov_str_is(aic_json_get(aic_json_at(details, i), "reason"), "API_KEY_INVALID",
                            p)) {
            return 1;
        }
    }
    return 0;
}

/* Percent-encode everything but unreserved characters (RFC 3986). */
static const char *path_escape(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = apr_palloc(p, strlen(s) * 3 + 1), *o = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (apr_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

/* Gemini's {"parts":[{"text":...}]}. */
static aic_json *gemini_parts(apr_pool_t *p, const char *text)
{
    aic_json *c = aic_json_object(p), *parts = aic_json_array(p), *part = aic_json_object(p);

    aic_json_set_str(part, "text", text);
    aic_json_push(parts, part);
    aic_json_set(c, "parts", parts);
    return c;
}

static apr_status_t build_gemini(aic_http_call *out, apr_pool_t *p, const aic_chat_request *req,
                                 aic_json *body)
{
    const apr_array_header_t *turns = aic_prov_merged_turns(p, req->messages);
    const char *model = req->model;
    aic_json *contents = aic_json_array(p);
    apr_status_t rv = APR_SUCCESS;

    /* Gemini lists its models as "models/NAME": accept ids copied from there. */
    if (!strncmp(model, "models/", 7) && model[7]) {
        model += 7;
    }
    out->url = aic_prov_api_url(
        p, req->base_url, "v1beta",
        apr_pstrcat(p, "/models/", path_escape(p, model),
                    req->stream ? ":streamGenerateContent?alt=sse" : ":generateContent", NULL));
    if (req->key) {
        rv = aic_prov_add_header(out->headers, p, "x-goog-api-key", req->key);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (aic_prov_has_system(req)) {
        aic_json_set(body, "systemInstruction", gemini_parts(p, req->system));
    }
    for (int i = 0; i < turns->nelts; i++) {
        const aic_chat_msg *m = &APR_ARRAY_IDX(turns, i, aic_chat_msg);
        aic_json *c = gemini_parts(p, m->content);

        aic_json_set_str(c, "role", strcmp(m->role, "assistant") ? "user" : "model");
        aic_json_push(contents, c);
    }
    aic_json_set(body, "contents", contents);
    if (req->temperature >= 0 || req->max_tokens > 0 || aic_prov_has_sampling(req)) {
        aic_json *gen = aic_json_object(p);

        if ((rv = aic_prov_set_decimal(gen, p, "temperature", req->temperature)) != APR_SUCCESS ||
            (rv = aic_prov_set_sampling(gen, p, req, "topP", "stopSequences")) != APR_SUCCESS) {
            return rv;
        }
        if (req->max_tokens > 0) {
            aic_json_set_int(gen, "maxOutputTokens", req->max_tokens);
        }
        aic_json_set(body, "generationConfig", gen);
    }
    return APR_SUCCESS;
}

/* A GenerateContentResponse: a whole answer, or one chunk of a stream. */
static apr_status_t gemini_response(aic_chat_result *r, text_sink *k, const aic_json *root,
                                    apr_pool_t *p, apr_pool_t *tmp, int whole)
{
    const aic_json *cand = aic_prov_first(aic_json_get(root, "candidates"));
    const aic_json *usage = aic_json_get(root, "usageMetadata");
    const aic_json *parts = aic_json_get(aic_json_get(cand, "content"), "parts");
    const char *finish;
    apr_status_t rv = APR_SUCCESS;

    aic_prov_set_count(&r->prompt_tokens, aic_json_get(usage, "promptTokenCount"));
    aic_prov_set_count(&r->completion_tokens, aic_json_get(usage, "candidatesTokenCount"));
    if (!cand) {
        const char *block =
            aic_json_str(aic_json_get(aic_json_get(root, "promptFeedback"), "blockReason"), tmp);

        if (block) {
            return aic_prov_set_error(
                r, p, "provider_bad_request",
                apr_pstrcat(tmp, "the provider blocked the prompt: ", block, NULL));
        }
        /* A stream chunk may carry usage only. */
        return whole ? aic_prov_set_error(r, p, "provider_malformed",
                                          "the provider's answer has no candidates")
                     : APR_SUCCESS;
    }
    for (apr_size_t i = 0;
         aic_json_typeof(parts) == AIC_JSON_ARRAY && i < aic_json_len(parts) && rv == APR_SUCCESS;
         i++) {
        const aic_json *part = aic_json_at(parts, i);
        const aic_json *thought = aic_json_get(part, "thought");

        /* Thinking summaries are not the answer. */
        if (!(aic_json_typeof(thought) == AIC_JSON_BOOL && aic_json_bool(thought))) {
            rv = aic_prov_emit(k, aic_json_str(aic_json_get(part, "text"), tmp));
        }
    }
    if ((finish = aic_json_str(aic_json_get(cand, "finishReason"), p)) != NULL) {
        r->finish_reason = finish;
        r->complete = 1;
    }
    return rv;
}

static apr_status_t gemini_whole(aic_chat_result *r, text_sink *k, const aic_json *root,
                                 apr_pool_t *p, apr_pool_t *tmp)
{
    return gemini_response(r, k, root, p, tmp, 1);
}

static apr_status_t gemini_chunk(aic_provider_stream *s, const aic_json *root,
                                 const aic_sse_event *ev)
{
    (void)ev; /* the event name says nothing Gemini needs */
    return gemini_response(&s->res, &s->out, root, s->pool, s->scratch, 0);
}

const aic_prov_protocol aic_prov_gemini = {build_gemini, gemini_whole, gemini_chunk};
