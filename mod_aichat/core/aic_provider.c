#include "aic_provider.h"
#include "aic_json.h"
#include "aic_sse.h"
#include "aic_valid.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#define TEXT_MIN_CAP 256

/* ---- small helpers ---- */

/* A NUL-terminated text in a pool, grown by doubling (not per piece). */
typedef struct {
    char *s;
    apr_size_t len;
    apr_size_t cap;
} text_buf;

static void text_append(text_buf *b, apr_pool_t *p, const char *s, apr_size_t n)
{
    if (b->len + n + 1 > b->cap) {
        apr_size_t cap = b->cap ? b->cap : TEXT_MIN_CAP;
        char *grown;

        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        grown = apr_palloc(p, cap);
        if (b->len) {
            memcpy(grown, b->s, b->len);
        }
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static const char *text_str(const text_buf *b)
{
    return b->len ? b->s : "";
}

/* Where answer text goes: a buffer, and on_delta when streaming. */
typedef struct {
    text_buf text;
    apr_pool_t *pool; /* the buffer's pool */
    aic_delta_cb on_delta;
    void *ctx;
} text_sink;

static apr_status_t emit(text_sink *k, const char *s)
{
    apr_size_t n = s ? strlen(s) : 0;

    if (n == 0) {
        return APR_SUCCESS;
    }
    text_append(&k->text, k->pool, s, n);
    return k->on_delta ? k->on_delta(k->ctx, s, n) : APR_SUCCESS;
}

/* Element 0 of an array, NULL when v is no array or an empty one. */
static aic_json *first(const aic_json *v)
{
    return aic_json_typeof(v) == AIC_JSON_ARRAY && aic_json_len(v) ? aic_json_at(v, 0) : NULL;
}

static int str_is(const aic_json *v, const char *want, apr_pool_t *p)
{
    const char *s = aic_json_str(v, p);

    return s && !strcmp(s, want);
}

/* Set *dst to an integer count v; leave it when v is absent or not an integer. */
static void set_count(long *dst, const aic_json *v)
{
    if (aic_json_typeof(v) == AIC_JSON_INT) {
        *dst = (long)aic_json_int(v);
    }
}

static void result_init(aic_chat_result *r)
{
    memset(r, 0, sizeof(*r));
    r->text = "";
    r->prompt_tokens = -1;
    r->completion_tokens = -1;
}

/* ---- error messages ---- */

static int word_char(char c)
{
    return apr_isalnum(c) || c == '-' || c == '_';
}

/* 20+ characters mixing upper and lower case letters and digits, or 32+
 * mixing letters and digits: the shape of API keys (sk-proj-..., AIza...). */
static int looks_secret(const char *w, apr_size_t n)
{
    int upper = 0, lower = 0, digit = 0;

    for (apr_size_t i = 0; i < n; i++) {
        upper |= apr_isupper(w[i]) != 0;
        lower |= apr_islower(w[i]) != 0;
        digit |= apr_isdigit(w[i]) != 0;
    }
    return (n >= 20 && upper && lower && digit) || (n >= 32 && (upper || lower) && digit);
}

/* The message for a result: key-like words redacted (some servers echo the
 * key they refused, and the key must never reach a log or a client), then cut
 * to AIC_PROVIDER_MAX_MESSAGE bytes at a character boundary. */
static const char *clean_message(apr_pool_t *p, const char *msg)
{
    text_buf out = {0};
    apr_size_t i = 0, n = strlen(msg);

    /* Whole words are kept or redacted, so the cut below never leaves part of a key. */
    while (i < n && out.len <= AIC_PROVIDER_MAX_MESSAGE) {
        apr_size_t j = i;

        while (j < n && word_char(msg[j])) {
            j++;
        }
        if (j == i) {
            j = i + 1;
            text_append(&out, p, msg + i, 1);
        } else if (looks_secret(msg + i, j - i)) {
            text_append(&out, p, "[redacted]", 10);
        } else {
            text_append(&out, p, msg + i, j - i);
        }
        i = j;
    }
    if (out.len > AIC_PROVIDER_MAX_MESSAGE) {
        out.len = AIC_PROVIDER_MAX_MESSAGE;
        while (out.len && ((unsigned char)out.s[out.len] & 0xC0) == 0x80) {
            out.len--;
        }
        out.s[out.len] = '\0';
    }
    return text_str(&out);
}

static apr_status_t set_error(aic_chat_result *r, apr_pool_t *p, const char *code, const char *msg)
{
    r->error_code = code;
    r->error_message = clean_message(p, msg);
    return APR_EGENERAL;
}

/* Gemini wraps errors of streaming calls in a one-element array. */
static const aic_json *unwrap(const aic_json *root)
{
    return aic_json_typeof(root) == AIC_JSON_ARRAY && aic_json_len(root) == 1 ? first(root) : root;
}

/* 1 when a body is an error: {"error":...} (OpenAI, Anthropic, Gemini,
 * llama.cpp, newer vLLM) or {"object":"error",...} (older vLLM, Mistral). */
static int is_error(const aic_json *root, apr_pool_t *p)
{
    root = unwrap(root);
    return aic_json_typeof(aic_json_get(root, "error")) != AIC_JSON_NULL ||
           str_is(aic_json_get(root, "object"), "error", p);
}

/* The provider's own words in an error body, or NULL. */
static const char *provider_message(const aic_json *root, apr_pool_t *p)
{
    const aic_json *e, *m;

    root = unwrap(root);
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

/* Gemini refuses a bad key with 400 and the reason API_KEY_INVALID. */
static int gemini_bad_key(const aic_json *root, apr_pool_t *p)
{
    const aic_json *details = aic_json_get(aic_json_get(unwrap(root), "error"), "details");

    for (apr_size_t i = 0; aic_json_typeof(details) == AIC_JSON_ARRAY && i < aic_json_len(details);
         i++) {
        if (str_is(aic_json_get(aic_json_at(details, i), "reason"), "API_KEY_INVALID", p)) {
            return 1;
        }
    }
    return 0;
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

/* 1 when s has no control character (nor a space, unless spaces are allowed). */
static int no_ctl(const char *s, int allow_space)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < 0x20 || c == 0x7F) {
            if (!(allow_space && c == '\t')) {
                return 0;
            }
        } else if (c == ' ' && !allow_space) {
            return 0;
        }
    }
    return 1;
}

static apr_status_t add_header(apr_array_header_t *h, apr_pool_t *p, const char *name,
                               const char *value)
{
    if (!no_ctl(value, 1)) {
        return APR_EINVAL;
    }
    APR_ARRAY_PUSH(h, const char *) = apr_pstrcat(p, name, ": ", value, NULL);
    return APR_SUCCESS;
}

/* 1 when the last path segment of url is an API version (v1, v1beta...). */
static int ends_with_version(const char *url)
{
    const char *seg = strrchr(url, '/');

    if (!seg || seg == url || seg[-1] == '/' || seg[1] != 'v' || !apr_isdigit(seg[2])) {
        return 0;
    }
    for (seg += 2; *seg; seg++) {
        if (!apr_isalnum(*seg)) {
            return 0;
        }
    }
    return 1;
}

/* base + "/" + version + rest, without repeating a version base ends with
 * (http://localhost:11434/v1 gives .../v1/chat/completions). */
static const char *api_url(apr_pool_t *p, const char *base, const char *version, const char *rest)
{
    apr_size_t n = strlen(base);

    while (n && base[n - 1] == '/') {
        n--;
    }
    base = apr_pstrmemdup(p, base, n);
    if (ends_with_version(base)) {
        return apr_pstrcat(p, base, rest, NULL);
    }
    return apr_pstrcat(p, base, "/", version, rest, NULL);
}

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

/* A JSON number for 0 <= d <= 1000 with at most 6 decimals ("0.7", not
 * 0.69999999999999996). Formatted by hand: printf's %g follows the locale and
 * apr_snprintf's drops the leading 0; aic_json has no double setter, so the
 * literal goes through the parser. */
static apr_status_t json_decimal(aic_json **out, apr_pool_t *p, double d)
{
    apr_uint64_t micro = (apr_uint64_t)(d * 1e6 + 0.5);
    char buf[48];
    const char *err;
    apr_size_t n = apr_snprintf(buf, sizeof(buf), "%" APR_UINT64_T_FMT ".%06" APR_UINT64_T_FMT,
                                micro / 1000000, micro % 1000000);

    while (buf[n - 1] == '0') {
        n--;
    }
    if (buf[n - 1] == '.') {
        n--;
    }
    return aic_json_parse(out, &err, p, buf, n);
}

static int utf8_ok(const char *s)
{
    return aic_valid_utf8(s, strlen(s));
}

static apr_status_t check_request(const aic_chat_request *req)
{
    if (!req || !req->base_url || !*req->base_url || !no_ctl(req->base_url, 0) || !req->model ||
        !*req->model || !utf8_ok(req->model) || !req->messages || req->messages->nelts == 0 ||
        (req->system && !utf8_ok(req->system))) {
        return APR_EINVAL;
    }
    /* NaN fails both comparisons: it is neither "not sent" nor valid. */
    if (!(req->temperature < 0) && !(isfinite(req->temperature) && req->temperature <= 1000)) {
        return APR_EINVAL;
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

static int has_system(const aic_chat_request *req)
{
    return req->system && *req->system;
}

/* The messages with consecutive turns of one role joined by a blank line:
 * Anthropic and Gemini want alternating turns. */
static const apr_array_header_t *merged_turns(apr_pool_t *p, const apr_array_header_t *msgs)
{
    apr_array_header_t *out = apr_array_make(p, msgs->nelts, sizeof(aic_chat_msg));

    for (int i = 0; i < msgs->nelts; i++) {
        const aic_chat_msg *m = &APR_ARRAY_IDX(msgs, i, aic_chat_msg);
        aic_chat_msg *last = out->nelts ? &APR_ARRAY_IDX(out, out->nelts - 1, aic_chat_msg) : NULL;

        if (last && !strcmp(last->role, m->role)) {
            last->content = apr_pstrcat(p, last->content, "\n\n", m->content, NULL);
        } else {
            APR_ARRAY_PUSH(out, aic_chat_msg) = *m;
        }
    }
    return out;
}

static aic_json *role_content(apr_pool_t *p, const char *role, const char *content)
{
    aic_json *m = aic_json_object(p);

    aic_json_set_str(m, "role", role);
    aic_json_set_str(m, "content", content);
    return m;
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

static apr_status_t set_temperature(aic_json *obj, apr_pool_t *p, const char *key, double t)
{
    aic_json *num = NULL;
    apr_status_t rv = APR_SUCCESS;

    if (t >= 0 && (rv = json_decimal(&num, p, t)) == APR_SUCCESS) {
        aic_json_set(obj, key, num);
    }
    return rv;
}

static apr_status_t build_openai(aic_http_call *out, apr_pool_t *p, const aic_chat_request *req,
                                 aic_json *body)
{
    const char *host = host_of(p, req->base_url);
    aic_json *msgs = aic_json_array(p);
    apr_status_t rv = APR_SUCCESS;

    out->url = api_url(p, req->base_url, "v1", "/chat/completions");
    if (req->key) {
        rv =
            add_header(out->headers, p, "Authorization", apr_pstrcat(p, "Bearer ", req->key, NULL));
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    aic_json_set_str(body, "model", req->model);
    if (has_system(req)) {
        aic_json_push(msgs, role_content(p, "system", req->system));
    }
    for (int i = 0; i < req->messages->nelts; i++) {
        const aic_chat_msg *m = &APR_ARRAY_IDX(req->messages, i, aic_chat_msg);

        aic_json_push(msgs, role_content(p, m->role, m->content));
    }
    aic_json_set(body, "messages", msgs);
    if ((rv = set_temperature(body, p, "temperature", req->temperature)) != APR_SUCCESS) {
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

static apr_status_t build_anthropic(aic_http_call *out, apr_pool_t *p, const aic_chat_request *req,
                                    aic_json *body)
{
    const apr_array_header_t *turns = merged_turns(p, req->messages);
    aic_json *msgs = aic_json_array(p);
    apr_status_t rv = APR_SUCCESS;

    out->url = api_url(p, req->base_url, "v1", "/messages");
    if (req->key) {
        rv = add_header(out->headers, p, "x-api-key", req->key);
    }
    if (rv != APR_SUCCESS ||
        (rv = add_header(out->headers, p, "anthropic-version", "2023-06-01")) != APR_SUCCESS) {
        return rv;
    }
    aic_json_set_str(body, "model", req->model);
    aic_json_set_int(body, "max_tokens",
                     req->max_tokens > 0 ? req->max_tokens : AIC_PROVIDER_ANTHROPIC_MAX_TOKENS);
    if (has_system(req)) {
        aic_json_set_str(body, "system", req->system);
    }
    for (int i = 0; i < turns->nelts; i++) {
        const aic_chat_msg *m = &APR_ARRAY_IDX(turns, i, aic_chat_msg);

        aic_json_push(msgs, role_content(p, m->role, m->content));
    }
    aic_json_set(body, "messages", msgs);
    if ((rv = set_temperature(body, p, "temperature", req->temperature)) != APR_SUCCESS) {
        return rv;
    }
    if (req->stream) {
        aic_json_set_bool(body, "stream", 1);
    }
    return APR_SUCCESS;
}

static apr_status_t build_gemini(aic_http_call *out, apr_pool_t *p, const aic_chat_request *req,
                                 aic_json *body)
{
    const apr_array_header_t *turns = merged_turns(p, req->messages);
    const char *model = req->model;
    aic_json *contents = aic_json_array(p);
    apr_status_t rv = APR_SUCCESS;

    /* Gemini lists its models as "models/NAME": accept ids copied from there. */
    if (!strncmp(model, "models/", 7) && model[7]) {
        model += 7;
    }
    out->url = api_url(
        p, req->base_url, "v1beta",
        apr_pstrcat(p, "/models/", path_escape(p, model),
                    req->stream ? ":streamGenerateContent?alt=sse" : ":generateContent", NULL));
    if (req->key) {
        rv = add_header(out->headers, p, "x-goog-api-key", req->key);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (has_system(req)) {
        aic_json_set(body, "systemInstruction", gemini_parts(p, req->system));
    }
    for (int i = 0; i < turns->nelts; i++) {
        const aic_chat_msg *m = &APR_ARRAY_IDX(turns, i, aic_chat_msg);
        aic_json *c = gemini_parts(p, m->content);

        aic_json_set_str(c, "role", strcmp(m->role, "assistant") ? "user" : "model");
        aic_json_push(contents, c);
    }
    aic_json_set(body, "contents", contents);
    if (req->temperature >= 0 || req->max_tokens > 0) {
        aic_json *gen = aic_json_object(p);

        if ((rv = set_temperature(gen, p, "temperature", req->temperature)) != APR_SUCCESS) {
            return rv;
        }
        if (req->max_tokens > 0) {
            aic_json_set_int(gen, "maxOutputTokens", req->max_tokens);
        }
        aic_json_set(body, "generationConfig", gen);
    }
    return APR_SUCCESS;
}

apr_status_t aic_provider_build(aic_http_call *out, apr_pool_t *p, const aic_chat_request *req)
{
    aic_http_call call = {NULL, NULL, NULL};
    aic_json *body;
    apr_status_t rv;

    memset(out, 0, sizeof(*out));
    if ((rv = check_request(req)) != APR_SUCCESS) {
        return rv;
    }
    call.headers = apr_array_make(p, 4, sizeof(const char *));
    APR_ARRAY_PUSH(call.headers, const char *) = "Content-Type: application/json";
    body = aic_json_object(p);
    switch (req->kind) {
    case AIC_PROVIDER_OPENAI:
        rv = build_openai(&call, p, req, body);
        break;
    case AIC_PROVIDER_ANTHROPIC:
        rv = build_anthropic(&call, p, req, body);
        break;
    case AIC_PROVIDER_GEMINI:
        rv = build_gemini(&call, p, req, body);
        break;
    default:
        rv = APR_EINVAL;
    }
    if (rv == APR_SUCCESS) {
        call.body = aic_json_dump(body, p);
        *out = call;
    }
    return rv;
}

/* ---- whole answers ---- */

/* Answer text that is a string or an array of {"type":"text","text":...} parts. */
static apr_status_t openai_content(text_sink *k, const aic_json *content, apr_pool_t *tmp)
{
    apr_status_t rv = emit(k, aic_json_str(content, tmp));

    for (apr_size_t i = 0; aic_json_typeof(content) == AIC_JSON_ARRAY &&
                           i < aic_json_len(content) && rv == APR_SUCCESS;
         i++) {
        const aic_json *part = aic_json_at(content, i);

        if (!aic_json_has(part, "type") || str_is(aic_json_get(part, "type"), "text", tmp)) {
            rv = emit(k, aic_json_str(aic_json_get(part, "text"), tmp));
        }
    }
    return rv;
}

static apr_status_t openai_whole(aic_chat_result *r, text_sink *k, const aic_json *root,
                                 apr_pool_t *p, apr_pool_t *tmp)
{
    const aic_json *choice = first(aic_json_get(root, "choices"));
    const aic_json *msg = aic_json_get(choice, "message");
    const aic_json *usage = aic_json_get(root, "usage");

    if (aic_json_typeof(msg) != AIC_JSON_OBJECT) {
        return set_error(r, p, "provider_malformed", "the provider's answer has no message");
    }
    r->finish_reason = aic_json_str(aic_json_get(choice, "finish_reason"), p);
    r->complete = r->finish_reason != NULL;
    set_count(&r->prompt_tokens, aic_json_get(usage, "prompt_tokens"));
    set_count(&r->completion_tokens, aic_json_get(usage, "completion_tokens"));
    return openai_content(k, aic_json_get(msg, "content"), tmp);
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

    set_count(&n, aic_json_get(usage, "input_tokens"));
    if (n >= 0) {
        set_count(&part, aic_json_get(usage, "cache_creation_input_tokens"));
        n = add_count(n, part);
        part = -1;
        set_count(&part, aic_json_get(usage, "cache_read_input_tokens"));
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
        return set_error(r, p, "provider_malformed", "the provider's answer has no content");
    }
    /* Only text blocks: thinking, tool_use... are not part of the answer. */
    for (apr_size_t i = 0; i < aic_json_len(content) && rv == APR_SUCCESS; i++) {
        const aic_json *block = aic_json_at(content, i);

        if (str_is(aic_json_get(block, "type"), "text", tmp)) {
            rv = emit(k, aic_json_str(aic_json_get(block, "text"), tmp));
        }
    }
    r->finish_reason = aic_json_str(aic_json_get(root, "stop_reason"), p);
    r->complete = r->finish_reason != NULL;
    r->prompt_tokens = anthropic_input(usage);
    set_count(&r->completion_tokens, aic_json_get(usage, "output_tokens"));
    return rv;
}

/* A GenerateContentResponse: a whole answer, or one chunk of a stream. */
static apr_status_t gemini_response(aic_chat_result *r, text_sink *k, const aic_json *root,
                                    apr_pool_t *p, apr_pool_t *tmp, int whole)
{
    const aic_json *cand = first(aic_json_get(root, "candidates"));
    const aic_json *usage = aic_json_get(root, "usageMetadata");
    const aic_json *parts = aic_json_get(aic_json_get(cand, "content"), "parts");
    const char *finish;
    apr_status_t rv = APR_SUCCESS;

    set_count(&r->prompt_tokens, aic_json_get(usage, "promptTokenCount"));
    set_count(&r->completion_tokens, aic_json_get(usage, "candidatesTokenCount"));
    if (!cand) {
        const char *block =
            aic_json_str(aic_json_get(aic_json_get(root, "promptFeedback"), "blockReason"), tmp);

        if (block) {
            return set_error(r, p, "provider_bad_request",
                             apr_pstrcat(tmp, "the provider blocked the prompt: ", block, NULL));
        }
        /* A stream chunk may carry usage only. */
        return whole ? set_error(r, p, "provider_malformed",
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
            rv = emit(k, aic_json_str(aic_json_get(part, "text"), tmp));
        }
    }
    if ((finish = aic_json_str(aic_json_get(cand, "finishReason"), p)) != NULL) {
        r->finish_reason = finish;
        r->complete = 1;
    }
    return rv;
}

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

        if (kind == AIC_PROVIDER_GEMINI && http_status == 400 && gemini_bad_key(root, tmp)) {
            code = "provider_auth";
        }
        msg = root ? provider_message(root, tmp) : NULL;
        rv = set_error(out, p, code,
                       msg ? msg : apr_psprintf(tmp, "the provider answered HTTP %d", http_status));
        goto leave;
    }
    if (!root) {
        rv = set_error(out, p, "provider_malformed",
                       apr_pstrcat(tmp, "the provider's answer is not JSON: ", err, NULL));
        goto leave;
    }
    if (is_error(root, tmp)) {
        msg = provider_message(root, tmp);
        rv = set_error(out, p, "provider_error", msg ? msg : "the provider answered with an error");
        goto leave;
    }
    switch (kind) {
    case AIC_PROVIDER_OPENAI:
        rv = openai_whole(out, &k, root, p, tmp);
        break;
    case AIC_PROVIDER_ANTHROPIC:
        rv = anthropic_whole(out, &k, root, p, tmp);
        break;
    default:
        rv = gemini_response(out, &k, root, p, tmp, 1);
        break;
    }
    out->text = text_str(&k.text);
leave:
    apr_pool_destroy(tmp);
    return rv;
}

/* ---- streamed answers ---- */

struct aic_provider_stream {
    apr_pool_t *pool;
    apr_pool_t *scratch; /* one event's JSON, cleared after each event */
    aic_provider_kind kind;
    aic_sse *sse;
    text_sink out;
    aic_chat_result res;
    apr_status_t rv; /* sticky status of the feed */
    int finished;    /* [DONE] or message_stop came: later events are ignored */
    int at_eof;      /* parsing an unterminated last event: a cut JSON is dropped */
    int ended;
};

static apr_status_t openai_chunk(aic_provider_stream *s, const aic_json *root)
{
    /* A usage-only chunk has "choices":[] (or null, or none: vLLM). */
    const aic_json *choice = first(aic_json_get(root, "choices"));
    const aic_json *usage = aic_json_get(root, "usage");
    const char *finish = aic_json_str(aic_json_get(choice, "finish_reason"), s->pool);

    set_count(&s->res.prompt_tokens, aic_json_get(usage, "prompt_tokens"));
    set_count(&s->res.completion_tokens, aic_json_get(usage, "completion_tokens"));
    if (finish) {
        s->res.finish_reason = finish;
        s->res.complete = 1;
    }
    return openai_content(&s->out, aic_json_get(aic_json_get(choice, "delta"), "content"),
                          s->scratch);
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
        set_count(&s->res.completion_tokens, aic_json_get(usage, "output_tokens"));
    } else if (!strcmp(type, "content_block_delta")) {
        /* thinking_delta, input_json_delta... are not answer text. */
        if (str_is(aic_json_get(delta, "type"), "text_delta", s->scratch)) {
            return emit(&s->out, aic_json_str(aic_json_get(delta, "text"), s->scratch));
        }
    } else if (!strcmp(type, "message_delta")) {
        const char *stop = aic_json_str(aic_json_get(delta, "stop_reason"), s->pool);

        if (stop) {
            s->res.finish_reason = stop;
        }
        /* Cumulative: the last value is the count. */
        set_count(&s->res.completion_tokens,
                  aic_json_get(aic_json_get(root, "usage"), "output_tokens"));
    } else if (!strcmp(type, "message_stop")) {
        s->res.complete = 1;
        s->finished = 1;
    }
    return APR_SUCCESS;
}

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
        rv = set_error(&s->res, s->pool, "provider_stream_error",
                       msg ? msg : (*ev->field_error ? ev->field_error : "the provider failed"));
        goto leave;
    }
    if (s->kind == AIC_PROVIDER_OPENAI && !strncmp(ev->data, "[DONE]", 6)) {
        s->res.complete = 1;
        s->finished = 1;
        goto leave;
    }
    if (aic_json_parse(&root, &err, s->scratch, ev->data, ev->data_len) != APR_SUCCESS) {
        if (!s->at_eof) {
            rv = set_error(&s->res, s->pool, "provider_malformed",
                           apr_pstrcat(s->scratch, "a stream event is not JSON: ", err, NULL));
        }
        goto leave;
    }
    if (is_error(root, s->scratch)) {
        msg = provider_message(root, s->scratch);
        rv = set_error(&s->res, s->pool, "provider_stream_error",
                       msg ? msg : "the provider failed during the answer");
        goto leave;
    }
    switch (s->kind) {
    case AIC_PROVIDER_OPENAI:
        rv = openai_chunk(s, root);
        break;
    case AIC_PROVIDER_ANTHROPIC:
        rv = anthropic_event(s, root, ev);
        break;
    default:
        rv = gemini_response(&s->res, &s->out, root, s->pool, s->scratch, 0);
        break;
    }
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
        rv = set_error(&s->res, s->pool, "provider_malformed",
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
    s->res.text = text_str(&s->out.text);
    return &s->res;
}

long aic_tokens_estimate(const char *text)
{
    if (!text || !*text) {
        return 0;
    }
    return (long)((aic_utf8_length(text) + 3) / 4);
}
