/* Unit tests for core/aic_provider: requests built for each provider kind,
 * whole answers and error bodies, and streamed answers (the samples of the
 * provider reference, fed whole, byte by byte and in random splits). */
#include "unit_helpers.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_file_io.h>

#include "core/aic_json.h"
#include "core/aic_provider.h"

#ifndef SAMPLES_DIR
#define SAMPLES_DIR "tests/unit/samples"
#endif

#define KEY "sk-proj-Xy7QpL2mN9rT4vW8zA1bC3dE5fG6hJ0k"

/* ---- helpers ---- */

static apr_array_header_t *msgs(apr_pool_t *p, ...)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(aic_chat_msg));
    const char *role;
    va_list ap;

    va_start(ap, p);
    while ((role = va_arg(ap, const char *)) != NULL) {
        aic_chat_msg *m = apr_array_push(a);

        m->role = role;
        m->content = va_arg(ap, const char *);
    }
    va_end(ap);
    return a;
}

static aic_chat_request base_request(apr_pool_t *p, aic_provider_kind kind, const char *base)
{
    aic_chat_request r;

    memset(&r, 0, sizeof(r));
    r.kind = kind;
    r.base_url = base;
    r.key = KEY;
    r.model = "test-model";
    r.system = "Be brief.";
    r.messages = msgs(p, "user", "Hi", "assistant", "Hello!", "user", "Help?", NULL);
    r.temperature = 0.7;
    r.max_tokens = 256;
    r.stream = 1;
    return r;
}

/* Build req, check success, and return the body parsed back. */
static aic_json *build_ok(aic_http_call *call, apr_pool_t *p, const aic_chat_request *req)
{
    aic_json *body = NULL;
    const char *err = NULL;

    assert_int_equal(aic_provider_build(call, p, req), APR_SUCCESS);
    assert_non_null(call->url);
    assert_non_null(call->headers);
    assert_non_null(call->body);
    assert_int_equal(aic_json_parse(&body, &err, p, call->body, strlen(call->body)), APR_SUCCESS);
    assert_int_equal(aic_json_typeof(body), AIC_JSON_OBJECT);
    for (int i = 0; i < call->headers->nelts; i++) {
        const char *h = APR_ARRAY_IDX(call->headers, i, const char *);

        assert_null(strpbrk(h, "\r\n"));
    }
    return body;
}

/* The header "name: value" exactly, or NULL when absent. */
static const char *header(const aic_http_call *call, const char *name)
{
    apr_size_t n = strlen(name);

    for (int i = 0; i < call->headers->nelts; i++) {
        const char *h = APR_ARRAY_IDX(call->headers, i, const char *);

        if (!strncasecmp(h, name, n) && h[n] == ':') {
            return h + n + 2;
        }
    }
    return NULL;
}

static const char *jstr(apr_pool_t *p, const aic_json *o, const char *key)
{
    return aic_json_str(aic_json_get(o, key), p);
}

static const char *dumped(apr_pool_t *p, const aic_json *o, const char *key)
{
    assert_true(aic_json_has(o, key));
    return aic_json_dump(aic_json_get(o, key), p);
}

/* ---- building: OpenAI ---- */

static void test_build_openai(void **state)
{
    apr_pool_t *p = *state;
    aic_chat_request req = base_request(p, AIC_PROVIDER_OPENAI, "https://api.openai.com");
    aic_http_call call;
    aic_json *body = build_ok(&call, p, &req), *m;

    assert_string_equal(call.url, "https://api.openai.com/v1/chat/completions");
    assert_string_equal(header(&call, "Authorization"), "Bearer " KEY);
    assert_string_equal(header(&call, "Content-Type"), "application/json");
    assert_string_equal(jstr(p, body, "model"), "test-model");
    m = aic_json_get(body, "messages");
    assert_int_equal(aic_json_len(m), 4);
    assert_string_equal(jstr(p, aic_json_at(m, 0), "role"), "system");
    assert_string_equal(jstr(p, aic_json_at(m, 0), "content"), "Be brief.");
    assert_string_equal(jstr(p, aic_json_at(m, 1), "role"), "user");
    assert_string_equal(jstr(p, aic_json_at(m, 2), "role"), "assistant");
    assert_string_equal(jstr(p, aic_json_at(m, 2), "content"), "Hello!");
    assert_string_equal(jstr(p, aic_json_at(m, 3), "content"), "Help?");
    assert_string_equal(dumped(p, body, "temperature"), "0.7");
    assert_int_equal(aic_json_int(aic_json_get(body, "max_completion_tokens")), 256);
    assert_false(aic_json_has(body, "max_tokens"));
    assert_true(aic_json_bool(aic_json_get(body, "stream")));
    assert_true(aic_json_bool(aic_json_get(aic_json_get(body, "stream_options"), "include_usage")));
}

static void test_build_openai_compatible(void **state)
{
    apr_pool_t *p = *state;
    aic_chat_request req = base_request(p, AIC_PROVIDER_OPENAI, "http://localhost:11434/v1");
    aic_http_call call;
    aic_json *body;

    req.key = NULL;
    req.system = NULL;
    req.stream = 0;
    req.temperature = 0;
    body = build_ok(&call, p, &req);
    /* The base already names the version: no /v1/v1. */
    assert_string_equal(call.url, "http://localhost:11434/v1/chat/completions");
    assert_null(header(&call, "Authorization"));
    assert_int_equal(aic_json_int(aic_json_get(body, "max_tokens")), 256);
    assert_false(aic_json_has(body, "max_completion_tokens"));
    assert_false(aic_json_has(body, "stream"));
    assert_false(aic_json_has(body, "stream_options"));
    /* 0 is a temperature, sent. */
    assert_string_equal(dumped(p, body, "temperature"), "0");
    assert_int_equal(aic_json_len(aic_json_get(body, "messages")), 3);
    assert_string_equal(jstr(p, aic_json_at(aic_json_get(body, "messages"), 0), "role"), "user");

    /* A trailing slash is tolerated; no version in the base gets /v1. */
    req.base_url = "http://127.0.0.1:8081/";
    build_ok(&call, p, &req);
    assert_string_equal(call.url, "http://127.0.0.1:8081/v1/chat/completions");
    req.base_url = "https://openrouter.ai/api/v1";
    build_ok(&call, p, &req);
    assert_string_equal(call.url, "https://openrouter.ai/api/v1/chat/completions");
}

static void test_build_openai_defaults_not_sent(void **state)
{
    apr_pool_t *p = *state;
    aic_chat_request req = base_request(p, AIC_PROVIDER_OPENAI, "https://API.OpenAI.com");
    aic_http_call call;
    aic_json *body;

    req.temperature = -1;
    req.max_tokens = 0;
    req.system = "";
    body = build_ok(&call, p, &req);
    assert_false(aic_json_has(body, "temperature"));
    assert_false(aic_json_has(body, "max_tokens"));
    assert_false(aic_json_has(body, "max_completion_tokens"));
    assert_int_equal(aic_json_len(aic_json_get(body, "messages")), 3);
    /* The host is compared without case. */
    req.max_tokens = 10;
    body = build_ok(&call, p, &req);
    assert_true(aic_json_has(body, "max_completion_tokens"));
    req.temperature = 1.25;
    body = build_ok(&call, p, &req);
    assert_string_equal(dumped(p, body, "temperature"), "1.25");
}

static void test_build_openai_no_merge(void **state)
{
    apr_pool_t *p = *state;
    aic_chat_request req = base_request(p, AIC_PROVIDER_OPENAI, "https://api.openai.com");
    aic_http_call call;
    aic_json *m;

    req.messages = msgs(p, "user", "one", "user", "two", NULL);
    m = aic_json_get(build_ok(&call, p, &req), "messages");
    assert_int_equal(aic_json_len(m), 3);
    assert_string_equal(jstr(p, aic_json_at(m, 1), "content"), "one");
    assert_string_equal(jstr(p, aic_json_at(m, 2), "content"), "two");
}

static void test_build_mistral_no_stream_options(void **state)
{
    apr_pool_t *p = *state;
    aic_chat_request req = base_request(p, AIC_PROVIDER_OPENAI, "https://api.mistral.ai/v1");
    aic_http_call call;
    aic_json *body = build_ok(&call, p, &req);

    assert_string_equal(call.url, "https://api.mistral.ai/v1/chat/completions");
    assert_true(aic_json_bool(aic_json_get(body, "stream")));
    assert_false(aic_json_has(body, "stream_options"));
    assert_true(aic_json_has(body, "max_tokens"));
}

/* ---- building: Anthropic ---- */

static void test_build_anthropic(void **state)
{
    apr_pool_t *p = *state;
    aic_chat_request req = base_request(p, AIC_PROVIDER_ANTHROPIC, "https://api.anthropic.com");
    aic_http_call call;
    aic_json *body, *m;

    req.max_tokens = 0;
    req.temperature = 0.5;
    req.messages = msgs(p, "user", "Hi", "user", "Are you there?", "user", "Hello?", "assistant",
                        "Hello!", "assistant", "Yes.", "user", "Help?", NULL);
    body = build_ok(&call, p, &req);
    assert_string_equal(call.url, "https://api.anthropic.com/v1/messages");
    assert_string_equal(header(&call, "x-api-key"), KEY);
    assert_string_equal(header(&call, "anthropic-version"), "2023-06-01");
    assert_null(header(&call, "Authorization"));
    assert_string_equal(jstr(p, body, "model"), "test-model");
    assert_string_equal(jstr(p, body, "system"), "Be brief.");
    assert_int_equal(aic_json_int(aic_json_get(body, "max_tokens")), 1024);
    assert_string_equal(dumped(p, body, "temperature"), "0.5");
    assert_true(aic_json_bool(aic_json_get(body, "stream")));
    assert_false(aic_json_has(body, "stream_options"));
    /* Consecutive turns merged; no system role inside messages. */
    m = aic_json_get(body, "messages");
    assert_int_equal(aic_json_len(m), 3);
    assert_string_equal(jstr(p, aic_json_at(m, 0), "role"), "user");
    assert_string_equal(jstr(p, aic_json_at(m, 0), "content"), "Hi\n\nAre you there?\n\nHello?");
    assert_string_equal(jstr(p, aic_json_at(m, 1), "role"), "assistant");
    assert_string_equal(jstr(p, aic_json_at(m, 1), "content"), "Hello!\n\nYes.");
    assert_string_equal(jstr(p, aic_json_at(m, 2), "role"), "user");

    req.max_tokens = 99;
    req.system = NULL;
    req.stream = 0;
    req.temperature = -1;
    req.base_url = "http://127.0.0.1:8082/v1";
    body = build_ok(&call, p, &req);
    assert_string_equal(call.url, "http://127.0.0.1:8082/v1/messages");
    assert_int_equal(aic_json_int(aic_json_get(body, "max_tokens")), 99);
    assert_false(aic_json_has(body, "system"));
    assert_false(aic_json_has(body, "stream"));
    assert_false(aic_json_has(body, "temperature"));
}

/* ---- building: Gemini ---- */

static void test_build_gemini(void **state)
{
    apr_pool_t *p = *state;
    aic_chat_request req =
        base_request(p, AIC_PROVIDER_GEMINI, "https://generativelanguage.googleapis.com");
    aic_http_call call;
    aic_json *body, *c, *gen;

    req.model = "gemini-2.0-flash";
    req.messages = msgs(p, "user", "Hi", "assistant", "Hello!", "assistant", "Anything else?",
                        "user", "Help?", "user", "Please.", NULL);
    body = build_ok(&call, p, &req);
    assert_string_equal(call.url, "https://generativelanguage.googleapis.com/v1beta/models/"
                                  "gemini-2.0-flash:streamGenerateContent?alt=sse");
    assert_string_equal(header(&call, "x-goog-api-key"), KEY);
    assert_null(header(&call, "Authorization"));
    assert_string_equal(
        jstr(p, aic_json_at(aic_json_get(aic_json_get(body, "systemInstruction"), "parts"), 0),
             "text"),
        "Be brief.");
    c = aic_json_get(body, "contents");
    assert_int_equal(aic_json_len(c), 3);
    assert_string_equal(jstr(p, aic_json_at(c, 0), "role"), "user");
    assert_string_equal(jstr(p, aic_json_at(c, 1), "role"), "model");
    assert_string_equal(jstr(p, aic_json_at(aic_json_get(aic_json_at(c, 1), "parts"), 0), "text"),
                        "Hello!\n\nAnything else?");
    assert_string_equal(jstr(p, aic_json_at(c, 2), "role"), "user");
    assert_string_equal(jstr(p, aic_json_at(aic_json_get(aic_json_at(c, 2), "parts"), 0), "text"),
                        "Help?\n\nPlease.");
    gen = aic_json_get(body, "generationConfig");
    assert_string_equal(dumped(p, gen, "temperature"), "0.7");
    assert_int_equal(aic_json_int(aic_json_get(gen, "maxOutputTokens")), 256);
    assert_false(aic_json_has(body, "model"));
    assert_false(aic_json_has(body, "stream"));

    req.stream = 0;
    req.temperature = -1;
    req.max_tokens = 0;
    req.system = NULL;
    req.base_url = "http://127.0.0.1:8083/v1beta";
    body = build_ok(&call, p, &req);
    assert_string_equal(call.url,
                        "http://127.0.0.1:8083/v1beta/models/gemini-2.0-flash:generateContent");
    assert_false(aic_json_has(body, "generationConfig"));
    assert_false(aic_json_has(body, "systemInstruction"));
}

static void test_build_gemini_model_escaped(void **state)
{
    apr_pool_t *p = *state;
    aic_chat_request req = base_request(p, AIC_PROVIDER_GEMINI, "http://h");
    aic_http_call call;

    req.stream = 0;
    req.model = "my model/x?y#z%";
    build_ok(&call, p, &req);
    assert_string_equal(call.url,
                        "http://h/v1beta/models/my%20model%2Fx%3Fy%23z%25:generateContent");
    /* Ids copied from the model list ("models/NAME") name the same model. */
    req.model = "models/gemini-2.5-pro";
    build_ok(&call, p, &req);
    assert_string_equal(call.url, "http://h/v1beta/models/gemini-2.5-pro:generateContent");
}

/* ---- building: refusals ---- */

static void test_build_rejects_header_injection(void **state)
{
    apr_pool_t *p = *state;
    const aic_provider_kind kinds[] = {AIC_PROVIDER_OPENAI, AIC_PROVIDER_ANTHROPIC,
                                       AIC_PROVIDER_GEMINI};
    const char *bad[] = {"abc\r\nX-Evil: 1", "abc\ndef", "abc\rdef", "a\x01z"};

    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 4; i++) {
            aic_chat_request req = base_request(p, kinds[k], "http://h");
            aic_http_call call;

            req.key = bad[i];
            assert_int_equal(aic_provider_build(&call, p, &req), APR_EINVAL);
            assert_null(call.url);
            assert_null(call.body);
        }
    }
}

/* top_p and stop sequences under each protocol's names; neither sent unless given. */
static void test_build_sampling(void **state)
{
    apr_pool_t *p = *state;
    static const aic_provider_kind kinds[] = {AIC_PROVIDER_OPENAI, AIC_PROVIDER_ANTHROPIC,
                                              AIC_PROVIDER_GEMINI};
    static const char *const top_p_key[] = {"top_p", "top_p", "topP"};
    static const char *const stop_key[] = {"stop", "stop_sequences", "stopSequences"};
    apr_array_header_t *stop = apr_array_make(p, 2, sizeof(const char *));
    const double top_p = 0.25;

    APR_ARRAY_PUSH(stop, const char *) = "END";
    APR_ARRAY_PUSH(stop, const char *) = "\n\nUser:";
    for (int i = 0; i < 3; i++) {
        aic_chat_request req = base_request(p, kinds[i], "http://h");
        aic_http_call call;
        aic_json *body, *where;

        req.temperature = -1;
        req.max_tokens = 0;
        body = build_ok(&call, p, &req);
        where = kinds[i] == AIC_PROVIDER_GEMINI ? aic_json_get(body, "generationConfig") : body;
        assert_false(aic_json_has(where, top_p_key[i]));
        assert_false(aic_json_has(where, stop_key[i]));
        req.top_p = &top_p;
        req.stop = stop;
        body = build_ok(&call, p, &req);
        where = kinds[i] == AIC_PROVIDER_GEMINI ? aic_json_get(body, "generationConfig") : body;
        assert_string_equal(dumped(p, where, top_p_key[i]), "0.25");
        assert_string_equal(dumped(p, where, stop_key[i]), "[\"END\",\"\\n\\nUser:\"]");
    }
}

static void test_build_rejects_bad_requests(void **state)
{
    apr_pool_t *p = *state;
    aic_http_call call;
    aic_chat_request req;
    const char *nan_text = "NaN";
    const double too_much = 1.5;
    apr_array_header_t *bad_stop = apr_array_make(p, 1, sizeof(const char *));

    APR_ARRAY_PUSH(bad_stop, const char *) = "bad \xC3( utf-8";
    req = base_request(p, AIC_PROVIDER_OPENAI, "http://h");
    req.messages = msgs(p, NULL);
    assert_int_equal(aic_provider_build(&call, p, &req), APR_EINVAL);
    req.messages = NULL;
    assert_int_equal(aic_provider_build(&call, p, &req), APR_EINVAL);
    req = base_request(p, AIC_PROVIDER_ANTHROPIC, "http://h");
    req.messages = msgs(p, "system", "x", NULL);
    assert_int_equal(aic_provider_build(&call, p, &req), APR_EINVAL);
    req.messages = msgs(p, "user", NULL, NULL);
    assert_int_equal(aic_provider_build(&call, p, &req), APR_EINVAL);
    req.messages = msgs(p, "user", "bad \xC3( utf-8", NULL);
    assert_int_equal(aic_provider_build(&call, p, &req), APR_EINVAL);
    req = base_request(p, AIC_PROVIDER_GEMINI, "http://h");
    req.model = "";
    assert_int_equal(aic_provider_build(&call, p, &req), APR_EINVAL);
    req = base_request(p, AIC_PROVIDER_GEMINI, "http://h/a b");
    assert_int_equal(aic_provider_build(&call, p, &req), APR_EINVAL);
    req = base_request(p, AIC_PROVIDER_OPENAI, NULL);
    assert_int_equal(aic_provider_build(&call, p, &req), APR_EINVAL);
    req = base_request(p, AIC_PROVIDER_OPENAI, "http://h");
    req.temperature = strtod(nan_text, NULL);
    assert_int_equal(aic_provider_build(&call, p, &req), APR_EINVAL);
    req.temperature = 1e300;
    assert_int_equal(aic_provider_build(&call, p, &req), APR_EINVAL);
    req.temperature = 0.2;
    req.top_p = &too_much;
    assert_int_equal(aic_provider_build(&call, p, &req), APR_EINVAL);
    req.top_p = NULL;
    req.stop = bad_stop;
    assert_int_equal(aic_provider_build(&call, p, &req), APR_EINVAL);
    req.stop = NULL;
    req.kind = (aic_provider_kind)42;
    assert_int_equal(aic_provider_build(&call, p, &req), APR_EINVAL);
}

/* ---- whole answers ---- */

static const char OPENAI_ANSWER[] =
    "{\"id\":\"chatcmpl-B9x\",\"object\":\"chat.completion\",\"created\":1753950000,"
    "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
    "\"assistant\",\"content\":\"Hello!\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":3,"
    "\"total_tokens\":22,\"prompt_tokens_details\":{\"cached_tokens\":0},"
    "\"completion_tokens_details\":{\"reasoning_tokens\":0}},\"service_tier\":\"default\","
    "\"system_fingerprint\":\"fp_34a54ae93c\"}";

static const char ANTHROPIC_ANSWER[] =
    "{\"id\":\"msg_01XF\",\"type\":\"message\",\"role\":\"assistant\",\"model\":"
    "\"claude-sonnet-4-20250514\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"hmm\"},"
    "{\"type\":\"text\",\"text\":\"Hello\"},{\"type\":\"tool_use\",\"id\":\"t\"},{\"type\":"
    "\"text\",\"text\":\"!\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":"
    "{\"input_tokens\":21,\"output_tokens\":6,\"cache_creation_input_tokens\":0,"
    "\"cache_read_input_tokens\":0}}";

static const char GEMINI_ANSWER[] =
    "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"thinking...\",\"thought\":true},"
    "{\"text\":\"Hello!\"}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],"
    "\"usageMetadata\":{\"promptTokenCount\":8,\"candidatesTokenCount\":3,\"totalTokenCount\":"
    "11,\"promptTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":8}]},\"modelVersion\":"
    "\"gemini-2.0-flash\",\"responseId\":\"p0mRaNDeLZqnz7IP0v3B0Qg\"}";

static aic_chat_result parse(apr_pool_t *p, aic_provider_kind kind, int status, const char *body,
                             apr_status_t want)
{
    aic_chat_result r;

    assert_int_equal(aic_provider_parse_response(&r, p, kind, status, body, strlen(body)), want);
    assert_non_null(r.text);
    if (want == APR_SUCCESS) {
        assert_null(r.error_code);
        assert_null(r.error_message);
    } else {
        assert_non_null(r.error_code);
        assert_non_null(r.error_message);
        assert_true(strlen(r.error_message) > 0);
    }
    return r;
}

static void test_parse_openai(void **state)
{
    apr_pool_t *p = *state;
    aic_chat_result r = parse(p, AIC_PROVIDER_OPENAI, 200, OPENAI_ANSWER, APR_SUCCESS);

    assert_string_equal(r.text, "Hello!");
    assert_int_equal(r.prompt_tokens, 19);
    assert_int_equal(r.completion_tokens, 3);
    assert_string_equal(r.finish_reason, "stop");
    assert_true(r.complete);

    /* DeepSeek's leading blank lines; no usage; content as parts; null content. */
    r = parse(p, AIC_PROVIDER_OPENAI, 200,
              "\n\n{\"choices\":[{\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
              "{\"type\":\"text\",\"text\":\"b\"}]},\"finish_reason\":\"length\"}]}",
              APR_SUCCESS);
    assert_string_equal(r.text, "ab");
    assert_int_equal(r.prompt_tokens, -1);
    assert_int_equal(r.completion_tokens, -1);
    assert_string_equal(r.finish_reason, "length");
    r = parse(p, AIC_PROVIDER_OPENAI, 200,
              "{\"choices\":[{\"message\":{\"content\":null},\"finish_reason\":null}]}",
              APR_SUCCESS);
    assert_string_equal(r.text, "");
    assert_null(r.finish_reason);
    assert_false(r.complete);
}

static void test_parse_anthropic(void **state)
{
    apr_pool_t *p = *state;
    aic_chat_result r = parse(p, AIC_PROVIDER_ANTHROPIC, 200, ANTHROPIC_ANSWER, APR_SUCCESS);

    /* Only text blocks count. */
    assert_string_equal(r.text, "Hello!");
    assert_int_equal(r.prompt_tokens, 21);
    assert_int_equal(r.completion_tokens, 6);
    assert_string_equal(r.finish_reason, "end_turn");
    assert_true(r.complete);
    /* Cached input counts as input. */
    r = parse(p, AIC_PROVIDER_ANTHROPIC, 200,
              "{\"content\":[],\"stop_reason\":\"max_tokens\",\"usage\":{\"input_tokens\":5,"
              "\"output_tokens\":1,\"cache_creation_input_tokens\":10,"
              "\"cache_read_input_tokens\":100}}",
              APR_SUCCESS);
    assert_int_equal(r.prompt_tokens, 115);
    assert_string_equal(r.finish_reason, "max_tokens");
}

static void test_parse_gemini(void **state)
{
    apr_pool_t *p = *state;
    aic_chat_result r = parse(p, AIC_PROVIDER_GEMINI, 200, GEMINI_ANSWER, APR_SUCCESS);

    /* Thought parts are not the answer. */
    assert_string_equal(r.text, "Hello!");
    assert_int_equal(r.prompt_tokens, 8);
    assert_int_equal(r.completion_tokens, 3);
    assert_string_equal(r.finish_reason, "STOP");
    assert_true(r.complete);
    /* A blocked prompt has no candidates. */
    r = parse(p, AIC_PROVIDER_GEMINI, 200,
              "{\"promptFeedback\":{\"blockReason\":\"SAFETY\"},\"usageMetadata\":"
              "{\"promptTokenCount\":4}}",
              APR_EGENERAL);
    assert_string_equal(r.error_code, "provider_bad_request");
    assert_non_null(strstr(r.error_message, "SAFETY"));
}

static void test_parse_malformed(void **state)
{
    apr_pool_t *p = *state;
    const aic_provider_kind kinds[] = {AIC_PROVIDER_OPENAI, AIC_PROVIDER_ANTHROPIC,
                                       AIC_PROVIDER_GEMINI};
    const char *bodies[] = {"", "<html>oops</html>", "{\"choices\":", "[]", "{}", "{\"a\":1}"};

    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 6; i++) {
            aic_chat_result r = parse(p, kinds[k], 200, bodies[i], APR_EGENERAL);

            assert_string_equal(r.error_code, "provider_malformed");
            assert_string_equal(r.text, "");
            assert_false(r.complete);
        }
    }
    /* A 200 that is an error. */
    {
        aic_chat_result r =
            parse(p, AIC_PROVIDER_OPENAI, 200, "{\"error\":{\"message\":\"Rate limit exceeded\"}}",
                  APR_EGENERAL);

        assert_string_equal(r.error_code, "provider_error");
        assert_string_equal(r.error_message, "Rate limit exceeded");
    }
}

typedef struct {
    aic_provider_kind kind;
    int status;
    const char *body;
    const char *code;
    const char *message; /* expected exactly, or NULL to only require one */
} error_case;

static void test_parse_errors(void **state)
{
    apr_pool_t *p = *state;
    const error_case cases[] = {
        {AIC_PROVIDER_OPENAI, 401,
         "{\"error\":{\"message\":\"Incorrect API key provided: sk-abc***1234. You can find your "
         "API key at https://platform.openai.com/account/api-keys.\",\"type\":"
         "\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}",
         "provider_auth",
         "Incorrect API key provided: sk-abc***1234. You can find your API key at "
         "https://platform.openai.com/account/api-keys."},
        {AIC_PROVIDER_OPENAI, 403, "{\"error\":{\"message\":\"Country not supported\"}}",
         "provider_auth", "Country not supported"},
        {AIC_PROVIDER_OPENAI, 429,
         "{\"error\":{\"message\":\"You exceeded your current quota\",\"type\":"
         "\"insufficient_quota\",\"code\":\"insufficient_quota\"}}",
         "provider_rate_limited", "You exceeded your current quota"},
        {AIC_PROVIDER_OPENAI, 500, "{\"error\":{\"message\":\"The server had an error\"}}",
         "provider_error", "The server had an error"},
        {AIC_PROVIDER_OPENAI, 502, "<html><body>Bad gateway</body></html>", "provider_error", NULL},
        {AIC_PROVIDER_OPENAI, 503,
         "{\"error\":{\"code\":503,\"message\":\"Loading model\",\"type\":\"unavailable_error\"}}",
         "provider_overloaded", "Loading model"},
        {AIC_PROVIDER_OPENAI, 404,
         "{\"error\":{\"message\":\"The model `x` does not exist\",\"code\":\"model_not_found\"}}",
         "provider_bad_request", "The model `x` does not exist"},
        /* older vLLM: flat, with an integer code */
        {AIC_PROVIDER_OPENAI, 400,
         "{\"object\":\"error\",\"message\":\"max_tokens is too large\",\"type\":"
         "\"BadRequestError\",\"param\":null,\"code\":400}",
         "provider_bad_request", "max_tokens is too large"},
        /* Mistral: the message is an object */
        {AIC_PROVIDER_OPENAI, 422,
         "{\"object\":\"error\",\"message\":{\"detail\":[{\"type\":\"extra_forbidden\"}]},"
         "\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}",
         "provider_bad_request", "{\"detail\":[{\"type\":\"extra_forbidden\"}]}"},
        {AIC_PROVIDER_ANTHROPIC, 401,
         "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":"
         "\"invalid x-api-key\"},\"request_id\":\"req_011C\"}",
         "provider_auth", "invalid x-api-key"},
        {AIC_PROVIDER_ANTHROPIC, 529,
         "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
         "\"Overloaded\"}}",
         "provider_overloaded", "Overloaded"},
        {AIC_PROVIDER_ANTHROPIC, 400,
         "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":"
         "\"max_tokens: Field required\"}}",
         "provider_bad_request", "max_tokens: Field required"},
        {AIC_PROVIDER_ANTHROPIC, 402,
         "{\"type\":\"error\",\"error\":{\"type\":\"billing_error\",\"message\":\"No credit\"}}",
         "provider_error", "No credit"},
        {AIC_PROVIDER_ANTHROPIC, 413, "", "provider_error", "the provider answered HTTP 413"},
        /* Gemini: a bad key is a 400 */
        {AIC_PROVIDER_GEMINI, 400,
         "{\n  \"error\": {\n    \"code\": 400,\n    \"message\": \"API key not valid. Please "
         "pass a valid API key.\",\n    \"status\": \"INVALID_ARGUMENT\",\n    \"details\": [{"
         "\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\",\"reason\":"
         "\"API_KEY_INVALID\",\"domain\":\"googleapis.com\"}]\n  }\n}\n",
         "provider_auth", "API key not valid. Please pass a valid API key."},
        {AIC_PROVIDER_GEMINI, 400,
         "{\"error\":{\"code\":400,\"message\":\"Invalid JSON payload\",\"status\":"
         "\"INVALID_ARGUMENT\"}}",
         "provider_bad_request", "Invalid JSON payload"},
        /* streaming calls wrap the error in an array */
        {AIC_PROVIDER_GEMINI, 429,
         "[{\"error\":{\"code\":429,\"message\":\"Resource has been exhausted\",\"status\":"
         "\"RESOURCE_EXHAUSTED\"}}]",
         "provider_rate_limited", "Resource has been exhausted"},
        {AIC_PROVIDER_GEMINI, 503,
         "{\"error\":{\"code\":503,\"message\":\"The model is overloaded.\",\"status\":"
         "\"UNAVAILABLE\"}}",
         "provider_overloaded", "The model is overloaded."},
        {AIC_PROVIDER_GEMINI, 504, "{\"error\":{\"code\":504,\"message\":\"Deadline\"}}",
         "provider_error", "Deadline"},
        {AIC_PROVIDER_GEMINI, 404,
         "{\"error\":{\"code\":404,\"message\":\"models/x is not found\"}}", "provider_bad_request",
         "models/x is not found"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        aic_chat_result r = parse(p, cases[i].kind, cases[i].status, cases[i].body, APR_EGENERAL);

        assert_string_equal(r.error_code, cases[i].code);
        if (cases[i].message) {
            assert_string_equal(r.error_message, cases[i].message);
        }
        assert_string_equal(r.text, "");
        assert_int_equal(r.prompt_tokens, -1);
        assert_false(r.complete);
    }
}

static void test_parse_error_redacts_keys(void **state)
{
    apr_pool_t *p = *state;
    char *big = apr_palloc(p, 5000);
    aic_chat_result r = parse(p, AIC_PROVIDER_OPENAI, 401,
                              "{\"error\":{\"message\":\"Incorrect API key provided: " KEY
                              ". Also AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv and "
                              "0123456789abcdef0123456789abcdef01. Model "
                              "claude-sonnet-4-20250514 request 7f3c-11\"}}",
                              APR_EGENERAL);

    assert_null(strstr(r.error_message, KEY));
    assert_null(strstr(r.error_message, "Xy7QpL2mN9rT4vW8zA1bC3dE5fG6hJ0k"));
    assert_null(strstr(r.error_message, "AIzaSy"));
    assert_null(strstr(r.error_message, "0123456789abcdef0123456789abcdef01"));
    assert_string_equal(r.error_message,
                        "Incorrect API key provided: [redacted]. Also [redacted] and [redacted]. "
                        "Model claude-sonnet-4-20250514 request 7f3c-11");

    /* Long messages are cut at a character boundary, a key at the cut included. */
    memcpy(big, "{\"error\":\"", 10);
    for (int i = 10; i < 4000; i += 2) {
        memcpy(big + i, "\xC3\xA9", 2); /* é */
    }
    strcpy(big + 4000, "\"}");
    r = parse(p, AIC_PROVIDER_OPENAI, 500, big, APR_EGENERAL);
    assert_true(strlen(r.error_message) <= AIC_PROVIDER_MAX_MESSAGE);
    assert_true(strlen(r.error_message) >= AIC_PROVIDER_MAX_MESSAGE - 1);
    assert_int_equal(strlen(r.error_message) % 2, 0);
    memset(big + 10, 'a', 1009);
    big[1019] = ' ';
    strcpy(big + 1020, KEY "\"}");
    r = parse(p, AIC_PROVIDER_OPENAI, 500, big, APR_EGENERAL);
    assert_null(strstr(r.error_message, "sk-proj-Xy7"));
    assert_null(strstr(r.error_message, "Xy7QpL"));
}

static void test_parse_error_redacts_configured_keys(void **state)
{
    apr_pool_t *p = *state;
    /* Shapes the key-like rule lets through: short, and with punctuation. */
    static const char *const keys[] = {"mock-key", "k.9:x/+=", NULL};
    aic_chat_result r;

    aic_provider_redact_keys(keys);
    r = parse(p, AIC_PROVIDER_ANTHROPIC, 401,
              "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\","
              "\"message\":\"invalid x-api-key mock-key (mock-keymock-key) or k.9:x/+=\"}}",
              APR_EGENERAL);
    assert_string_equal(r.error_message,
                        "invalid x-api-key [redacted] ([redacted][redacted]) or [redacted]");
    /* A stream's error event too. */
    r = parse(p, AIC_PROVIDER_OPENAI, 500, "{\"error\":{\"message\":\"bad key k.9:x/+=.\"}}",
              APR_EGENERAL);
    assert_string_equal(r.error_message, "bad key [redacted].");
    aic_provider_redact_keys(NULL);
    r = parse(p, AIC_PROVIDER_OPENAI, 500, "{\"error\":{\"message\":\"bad key mock-key\"}}",
              APR_EGENERAL);
    assert_string_equal(r.error_message, "bad key mock-key");
}

/* ---- streams ---- */

typedef struct {
    apr_pool_t *p;
    char *text; /* deltas concatenated */
    int calls;
    int stop_at; /* > 0: fail on that call */
} deltas;

static apr_status_t on_delta(void *ctx, const char *text, apr_size_t len)
{
    deltas *d = ctx;

    assert_true(len > 0);
    d->text = apr_pstrcat(d->p, d->text, apr_pstrmemdup(d->p, text, len), NULL);
    d->calls++;
    return d->stop_at > 0 && d->calls == d->stop_at ? APR_EOF : APR_SUCCESS;
}

static apr_uint32_t next_rand(apr_uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7FFF;
}

/* Feed text: chunk 0 = whole, 1 = byte by byte, -1 = random 1..64 with seed. */
static apr_status_t feed(aic_provider_stream *s, const char *text, apr_size_t len, int chunk,
                         apr_uint32_t seed)
{
    apr_size_t off = 0;
    apr_status_t rv = APR_SUCCESS;

    while (off < len && rv == APR_SUCCESS) {
        apr_size_t n = chunk == 0 ? len : chunk == 1 ? 1 : 1 + next_rand(&seed) % 64;

        if (n > len - off) {
            n = len - off;
        }
        rv = aic_provider_stream_feed(s, text + off, n);
        off += n;
    }
    return rv;
}

static const aic_chat_result *run_stream(apr_pool_t *p, aic_provider_kind kind, const char *text,
                                         apr_size_t len, int chunk, apr_uint32_t seed,
                                         apr_status_t want, deltas *d)
{
    aic_provider_stream *s;
    const aic_chat_result *r;

    memset(d, 0, sizeof(*d));
    d->p = p;
    d->text = "";
    s = aic_provider_stream_create(p, kind, on_delta, d);
    assert_non_null(s);
    assert_int_equal(feed(s, text, len, chunk, seed), want);
    r = aic_provider_stream_result(s);
    assert_non_null(r->text);
    /* What went to on_delta is the answer. */
    assert_string_equal(r->text, d->text);
    /* A second call gives the same result. */
    assert_ptr_equal(aic_provider_stream_result(s), r);
    return r;
}

static const char *load_sample(apr_pool_t *p, const char *name, apr_size_t *len)
{
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    char *buf;

    assert_int_equal(apr_file_open(&f, apr_pstrcat(p, SAMPLES_DIR, "/", name, NULL),
                                   APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, p),
                     APR_SUCCESS);
    assert_int_equal(apr_file_info_get(&fi, APR_FINFO_SIZE, f), APR_SUCCESS);
    *len = (apr_size_t)fi.size;
    buf = apr_palloc(p, *len + 1);
    assert_int_equal(apr_file_read_full(f, buf, *len, NULL), APR_SUCCESS);
    buf[*len] = '\0';
    apr_file_close(f);
    return buf;
}

/* The sample, whole, byte by byte and in 20 random splits, gives the expected result. */
static void check_sample(apr_pool_t *p, aic_provider_kind kind, const char *name, const char *text,
                         long prompt, long completion, const char *finish, int min_deltas)
{
    apr_size_t len;
    const char *sample = load_sample(p, name, &len);

    for (int run = 0; run < 22; run++) {
        deltas d;
        int chunk = run == 0 ? 0 : run == 1 ? 1 : -1;
        const aic_chat_result *r = run_stream(p, kind, sample, len, chunk,
                                              (apr_uint32_t)run * 2654435761u, APR_SUCCESS, &d);

        assert_null(r->error_code);
        assert_null(r->error_message);
        assert_string_equal(r->text, text);
        assert_int_equal(r->prompt_tokens, prompt);
        assert_int_equal(r->completion_tokens, completion);
        assert_string_equal(r->finish_reason, finish);
        assert_true(r->complete);
        assert_true(d.calls >= min_deltas);
    }
}

/* Found by fuzzing (tests/fuzz, stream_anthropic): input token counts near the
 * largest integer overflowed when the cached ones were added. The sum stops at
 * LONG_MAX, whole or streamed. */
static void test_anthropic_input_tokens_saturate(void **state)
{
    static const char usage[] = "{\"input_tokens\":9223372036854775807,"
                                "\"cache_creation_input_tokens\":5,\"cache_read_input_tokens\":7}";
    apr_pool_t *p = *state;
    const char *body =
        apr_pstrcat(p, "{\"content\":[],\"stop_reason\":\"end_turn\",\"usage\":", usage, "}", NULL);
    const char *stream = apr_pstrcat(p,
                                     "event: message_start\ndata: {\"type\":\"message_start\","
                                     "\"message\":{\"usage\":",
                                     usage, "}}\n\n", NULL);
    aic_chat_result r = parse(p, AIC_PROVIDER_ANTHROPIC, 200, body, APR_SUCCESS);
    deltas d;

    assert_true(r.prompt_tokens == LONG_MAX);
    assert_true(run_stream(p, AIC_PROVIDER_ANTHROPIC, stream, strlen(stream), 0, 0, APR_SUCCESS, &d)
                    ->prompt_tokens == LONG_MAX);
}

static void test_stream_samples(void **state)
{
    apr_pool_t *p = *state;

    check_sample(p, AIC_PROVIDER_OPENAI, "openai-stream.txt", "Hello! How can I help today?", 19, 8,
                 "stop", 4);
    check_sample(p, AIC_PROVIDER_ANTHROPIC, "anthropic-stream.txt",
                 "Hello! How can I help you today?", 21, 12, "end_turn", 3);
    check_sample(p, AIC_PROVIDER_GEMINI, "gemini-stream.txt", "Hello! How can I help you today?", 8,
                 9, "STOP", 3);
}

/* The first n events of a sample (events end with a blank line). */
static apr_size_t events_prefix(const char *text, const char *sep, int n)
{
    const char *at = text;

    for (int i = 0; i < n; i++) {
        at = strstr(at, sep);
        assert_non_null(at);
        at += strlen(sep);
    }
    return (apr_size_t)(at - text);
}

static void test_stream_cut(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t len;
    const char *text;
    const aic_chat_result *r;
    deltas d;

    /* OpenAI cut after three events: no finish_reason, no usage, no [DONE]. */
    text = load_sample(p, "openai-stream.txt", &len);
    r = run_stream(p, AIC_PROVIDER_OPENAI, text, events_prefix(text, "\n\n", 3), 0, 0, APR_SUCCESS,
                   &d);
    assert_false(r->complete);
    assert_string_equal(r->text, "Hello! How");
    assert_null(r->finish_reason);
    assert_int_equal(r->prompt_tokens, -1);
    assert_null(r->error_code);
    /* ... cut inside an event: the partial event is dropped, not malformed. */
    r = run_stream(p, AIC_PROVIDER_OPENAI, text, events_prefix(text, "\n\n", 3) + 40, 1, 0,
                   APR_SUCCESS, &d);
    assert_false(r->complete);
    assert_null(r->error_code);
    /* ... after the finish chunk: finished, usage lost. */
    r = run_stream(p, AIC_PROVIDER_OPENAI, text, events_prefix(text, "\n\n", 6), 0, 0, APR_SUCCESS,
                   &d);
    assert_true(r->complete);
    assert_string_equal(r->finish_reason, "stop");
    assert_int_equal(r->completion_tokens, -1);

    /* Anthropic without message_stop (the message_delta came). */
    text = load_sample(p, "anthropic-stream.txt", &len);
    r = run_stream(p, AIC_PROVIDER_ANTHROPIC, text, events_prefix(text, "\n\n", 8), -1, 5,
                   APR_SUCCESS, &d);
    assert_false(r->complete);
    assert_string_equal(r->text, "Hello! How can I help you today?");
    assert_string_equal(r->finish_reason, "end_turn");
    assert_int_equal(r->completion_tokens, 12);
    r = run_stream(p, AIC_PROVIDER_ANTHROPIC, text, events_prefix(text, "\n\n", 4), 0, 0,
                   APR_SUCCESS, &d);
    assert_false(r->complete);
    assert_string_equal(r->text, "Hello");
    assert_int_equal(r->prompt_tokens, 21);
    assert_int_equal(r->completion_tokens, 1);

    /* Gemini: two events only. */
    text = load_sample(p, "gemini-stream.txt", &len);
    r = run_stream(p, AIC_PROVIDER_GEMINI, text, events_prefix(text, "\r\n\r\n", 2), 1, 0,
                   APR_SUCCESS, &d);
    assert_false(r->complete);
    assert_string_equal(r->text, "Hello! How can I help");
    assert_null(r->finish_reason);
    assert_int_equal(r->prompt_tokens, 8);
    assert_int_equal(r->completion_tokens, -1);
    /* ... the last event without its blank line is complete JSON: used. */
    r = run_stream(p, AIC_PROVIDER_GEMINI, text, len - 4, 1, 0, APR_SUCCESS, &d);
    assert_true(r->complete);
    assert_string_equal(r->text, "Hello! How can I help you today?");
    assert_int_equal(r->completion_tokens, 9);
    r = run_stream(p, AIC_PROVIDER_GEMINI, text, len - 2, 0, 0, APR_SUCCESS, &d);
    assert_true(r->complete);
    /* ... cut inside the last JSON: dropped, not malformed. */
    r = run_stream(p, AIC_PROVIDER_GEMINI, text, len - 30, 0, 0, APR_SUCCESS, &d);
    assert_false(r->complete);
    assert_null(r->error_code);
    assert_string_equal(r->text, "Hello! How can I help");
}

static void test_stream_errors(void **state)
{
    apr_pool_t *p = *state;
    const aic_chat_result *r;
    deltas d;
    const char *openai =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}"
        "\n\n"
        "data: {\"error\":{\"message\":\"The server had an error while processing your request. "
        "Sorry about that!\",\"type\":\"server_error\"}}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\ndata: [DONE]\n\n";
    const char *anthropic =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":"
        "{\"input_tokens\":3,\"output_tokens\":1}}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
        "\"message\":\"Overloaded\"}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    const char *gemini =
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]}}]}\r\n\r\n"
        "data: {\"error\":{\"code\":500,\"message\":\"Internal error encountered.\",\"status\":"
        "\"INTERNAL\"}}\r\n\r\n";
    const char *llama =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
        "error: {\"code\":500,\"message\":\"context size exceeded\",\"type\":\"server_error\"}\n\n"
        "data: [DONE]\n\n";

    for (int chunk = 0; chunk < 2; chunk++) {
        r = run_stream(p, AIC_PROVIDER_OPENAI, openai, strlen(openai), chunk, 0, APR_EGENERAL, &d);
        assert_string_equal(r->error_code, "provider_stream_error");
        assert_string_equal(r->error_message, "The server had an error while processing your "
                                              "request. Sorry about that!");
        assert_string_equal(r->text, "Hel");
        assert_false(r->complete);

        r = run_stream(p, AIC_PROVIDER_ANTHROPIC, anthropic, strlen(anthropic), chunk, 0,
                       APR_EGENERAL, &d);
        assert_string_equal(r->error_code, "provider_stream_error");
        assert_string_equal(r->error_message, "Overloaded");
        assert_string_equal(r->text, "Hi");
        assert_false(r->complete);

        r = run_stream(p, AIC_PROVIDER_GEMINI, gemini, strlen(gemini), chunk, 0, APR_EGENERAL, &d);
        assert_string_equal(r->error_code, "provider_stream_error");
        assert_string_equal(r->error_message, "Internal error encountered.");
        assert_string_equal(r->text, "Hi");
        assert_false(r->complete);

        r = run_stream(p, AIC_PROVIDER_OPENAI, llama, strlen(llama), chunk, 0, APR_EGENERAL, &d);
        assert_string_equal(r->error_code, "provider_stream_error");
        assert_string_equal(r->error_message, "context size exceeded");
        assert_string_equal(r->text, "Hi");
        assert_false(r->complete);
    }
    /* llama.cpp's error field with a non-JSON value. */
    r = run_stream(p, AIC_PROVIDER_OPENAI, "error: boom\n\n", 13, 0, 0, APR_EGENERAL, &d);
    assert_string_equal(r->error_code, "provider_stream_error");
    assert_string_equal(r->error_message, "boom");
}

static void test_stream_malformed(void **state)
{
    apr_pool_t *p = *state;
    const aic_chat_result *r;
    deltas d;
    const char *bad = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"
                      "data: {\"choices\":[{\"delta\":\n\n"
                      "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n";

    r = run_stream(p, AIC_PROVIDER_OPENAI, bad, strlen(bad), 0, 0, APR_EGENERAL, &d);
    assert_string_equal(r->error_code, "provider_malformed");
    assert_string_equal(r->text, "a");
    r = run_stream(p, AIC_PROVIDER_ANTHROPIC, "event: ping\ndata: {nope}\n\n", 26, 1, 0,
                   APR_EGENERAL, &d);
    assert_string_equal(r->error_code, "provider_malformed");
    r = run_stream(p, AIC_PROVIDER_GEMINI, "data: [1,\r\n\r\n", 13, 0, 0, APR_EGENERAL, &d);
    assert_string_equal(r->error_code, "provider_malformed");
}

static void test_stream_ignores_unknown(void **state)
{
    apr_pool_t *p = *state;
    const aic_chat_result *r;
    deltas d;
    const char *openai =
        ": OPENROUTER PROCESSING\n\n"
        "event: whatever\nid: 1\nretry: 5\nx-field: y\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}],"
        "\"usage\":null,\"error\":null}\n\n"
        ": keep-alive\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"think\"}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":"
        "\"stop\"}]}\n\n"
        "data: {\"choices\":null,\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":1}}\n\n"
        "data: [DONE]\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"after done\"}}]}\n\n";
    const char *anthropic =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":"
        "{\"input_tokens\":4,\"output_tokens\":1}}}\n\n"
        "event: ping\ndata: {\"type\": \"ping\"}\n\n"
        "event: brand_new_event\ndata: {\"type\":\"brand_new_event\",\"x\":1}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hmm\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,"
        "\"delta\":{\"type\":\"text_delta\",\"text\":\"ok\"}}\n\n"
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
        "null},\"usage\":{\"output_tokens\":5}}\n\n"
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
        "\"max_tokens\"},\"usage\":{\"output_tokens\":7}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    const char *gemini =
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"plan\",\"thought\":true},"
        "{\"text\":\"o\"}]}}],\"usageMetadata\":{\"promptTokenCount\":3}}\r\n\r\n"
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"k\"}]}}],\"usageMetadata\":"
        "{\"promptTokenCount\":3,\"candidatesTokenCount\":1}}\r\n\r\n"
        "data: {\"candidates\":[{\"finishReason\":\"MAX_TOKENS\"}],\"usageMetadata\":"
        "{\"promptTokenCount\":3,\"candidatesTokenCount\":2}}\r\n\r\n";

    r = run_stream(p, AIC_PROVIDER_OPENAI, openai, strlen(openai), 1, 0, APR_SUCCESS, &d);
    assert_null(r->error_code);
    assert_string_equal(r->text, "ok");
    assert_int_equal(d.calls, 1);
    assert_string_equal(r->finish_reason, "stop");
    assert_int_equal(r->prompt_tokens, 2);
    assert_int_equal(r->completion_tokens, 1);
    assert_true(r->complete);

    r = run_stream(p, AIC_PROVIDER_ANTHROPIC, anthropic, strlen(anthropic), -1, 3, APR_SUCCESS, &d);
    assert_null(r->error_code);
    assert_string_equal(r->text, "ok");
    /* output_tokens is cumulative: the last value, not the sum. */
    assert_int_equal(r->completion_tokens, 7);
    assert_int_equal(r->prompt_tokens, 4);
    assert_string_equal(r->finish_reason, "max_tokens");
    assert_true(r->complete);

    r = run_stream(p, AIC_PROVIDER_GEMINI, gemini, strlen(gemini), -1, 9, APR_SUCCESS, &d);
    assert_null(r->error_code);
    assert_string_equal(r->text, "ok");
    assert_int_equal(r->prompt_tokens, 3);
    assert_int_equal(r->completion_tokens, 2);
    assert_string_equal(r->finish_reason, "MAX_TOKENS");
    assert_true(r->complete);
}

static void test_stream_delta_stops(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t len;
    const char *text = load_sample(p, "openai-stream.txt", &len);
    aic_provider_stream *s;
    deltas d;

    memset(&d, 0, sizeof(d));
    d.p = p;
    d.text = "";
    d.stop_at = 2;
    s = aic_provider_stream_create(p, AIC_PROVIDER_OPENAI, on_delta, &d);
    /* The client went away: on_delta's status stops the stream. */
    assert_int_equal(aic_provider_stream_feed(s, text, len), APR_EOF);
    assert_int_equal(d.calls, 2);
    assert_int_equal(aic_provider_stream_feed(s, "data: [DONE]\n\n", 14), APR_EOF);
    assert_int_equal(d.calls, 2);
    assert_string_equal(aic_provider_stream_result(s)->text, "Hello! How");
    assert_false(aic_provider_stream_result(s)->complete);
}

static void test_stream_oversize(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_stream *s = aic_provider_stream_create(p, AIC_PROVIDER_OPENAI, NULL, NULL);
    apr_size_t n = 64 * 1024;
    char *chunk = apr_palloc(p, n);
    apr_status_t rv = APR_SUCCESS;

    memset(chunk, 'a', n);
    assert_int_equal(aic_provider_stream_feed(s, "data: ", 6), APR_SUCCESS);
    for (apr_size_t sent = 0; sent <= AIC_PROVIDER_MAX_EVENT && rv == APR_SUCCESS; sent += n) {
        rv = aic_provider_stream_feed(s, chunk, n);
    }
    assert_int_equal(rv, APR_EGENERAL);
    assert_string_equal(aic_provider_stream_result(s)->error_code, "provider_malformed");
    assert_string_equal(aic_provider_stream_result(s)->text, "");
}

static void test_tokens_estimate(void **state)
{
    assert_int_equal(aic_tokens_estimate(NULL), 0);
    assert_int_equal(aic_tokens_estimate(""), 0);
    assert_int_equal(aic_tokens_estimate("a"), 1);
    assert_int_equal(aic_tokens_estimate("abcd"), 1);
    assert_int_equal(aic_tokens_estimate("abcde"), 2);
    assert_int_equal(aic_tokens_estimate("abcdefgh"), 2);
    /* Code points, not bytes: five é are 10 bytes. */
    assert_int_equal(aic_tokens_estimate("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"), 2);
    assert_int_equal(aic_tokens_estimate("\xF0\x9F\x98\x80"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_build_openai),
        POOL_TEST(test_build_openai_compatible),
        POOL_TEST(test_build_openai_defaults_not_sent),
        POOL_TEST(test_build_openai_no_merge),
        POOL_TEST(test_build_mistral_no_stream_options),
        POOL_TEST(test_build_anthropic),
        POOL_TEST(test_build_gemini),
        POOL_TEST(test_build_gemini_model_escaped),
        POOL_TEST(test_build_rejects_header_injection),
        POOL_TEST(test_build_sampling),
        POOL_TEST(test_build_rejects_bad_requests),
        POOL_TEST(test_parse_openai),
        POOL_TEST(test_parse_anthropic),
        POOL_TEST(test_parse_gemini),
        POOL_TEST(test_parse_malformed),
        POOL_TEST(test_parse_errors),
        POOL_TEST(test_parse_error_redacts_keys),
        POOL_TEST(test_parse_error_redacts_configured_keys),
        POOL_TEST(test_stream_samples),
        POOL_TEST(test_anthropic_input_tokens_saturate),
        POOL_TEST(test_stream_cut),
        POOL_TEST(test_stream_errors),
        POOL_TEST(test_stream_malformed),
        POOL_TEST(test_stream_ignores_unknown),
        POOL_TEST(test_stream_delta_stops),
        POOL_TEST(test_stream_oversize),
        POOL_TEST(test_tokens_estimate),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
