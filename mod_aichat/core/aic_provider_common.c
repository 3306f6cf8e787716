/* The helpers the three protocols share: answer text, reading JSON, error
 * messages, and the pieces of a request. */
#include "aic_provider_int.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>

#define TEXT_MIN_CAP 256

/* ---- small helpers ---- */

void aic_prov_text_append(text_buf *b, apr_pool_t *p, const char *s, apr_size_t n)
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

const char *aic_prov_text_str(const text_buf *b)
{
    return b->len ? b->s : "";
}

apr_status_t aic_prov_emit(text_sink *k, const char *s)
{
    apr_size_t n = s ? strlen(s) : 0;

    if (n == 0) {
        return APR_SUCCESS;
    }
    aic_prov_text_append(&k->text, k->pool, s, n);
    return k->on_delta ? k->on_delta(k->ctx, s, n) : APR_SUCCESS;
}

/* Element 0 of an array, NULL when v is no array or an empty one. */
aic_json *aic_prov_first(const aic_json *v)
{
    return aic_json_typeof(v) == AIC_JSON_ARRAY && aic_json_len(v) ? aic_json_at(v, 0) : NULL;
}

int aic_prov_str_is(const aic_json *v, const char *want, apr_pool_t *p)
{
    const char *s = aic_json_str(v, p);

    return s && !strcmp(s, want);
}

/* Set *dst to an integer count v; leave it when v is absent or not an integer. */
void aic_prov_set_count(long *dst, const aic_json *v)
{
    if (aic_json_typeof(v) == AIC_JSON_INT) {
        *dst = (long)aic_json_int(v);
    }
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

/* The keys of the configured providers (aic_provider_redact_keys). */
static const char *const *configured_keys;

void aic_provider_redact_keys(const char *const *keys)
{
    configured_keys = keys;
}

/* msg with every configured key replaced by "[redacted]". */
static const char *without_keys(apr_pool_t *p, const char *msg)
{
    for (const char *const *k = configured_keys; k && *k; k++) {
        apr_size_t klen = strlen(*k);
        text_buf out = {0};
        const char *at, *from = msg;

        if (klen == 0 || !strstr(msg, *k)) {
            continue;
        }
        while ((at = strstr(from, *k))) {
            aic_prov_text_append(&out, p, from, (apr_size_t)(at - from));
            aic_prov_text_append(&out, p, "[redacted]", 10);
            from = at + klen;
        }
        aic_prov_text_append(&out, p, from, strlen(from));
        msg = aic_prov_text_str(&out);
    }
    return msg;
}

/* The message for a result: the configured keys and key-like words redacted
 * (some servers echo the key they refused, and a key must never reach a log,
 * a client or the database), then cut to AIC_PROVIDER_MAX_MESSAGE bytes at a
 * character boundary. */
static const char *clean_message(apr_pool_t *p, const char *msg)
{
    text_buf out = {0};
    apr_size_t i = 0, n;

    msg = without_keys(p, msg);
    n = strlen(msg);

    /* Whole words are kept or redacted, so the cut below never leaves part of a key. */
    while (i < n && out.len <= AIC_PROVIDER_MAX_MESSAGE) {
        apr_size_t j = i;

        while (j < n && word_char(msg[j])) {
            j++;
        }
        if (j == i) {
            j = i + 1;
            aic_prov_text_append(&out, p, msg + i, 1);
        } else if (looks_secret(msg + i, j - i)) {
            aic_prov_text_append(&out, p, "[redacted]", 10);
        } else {
            aic_prov_text_append(&out, p, msg + i, j - i);
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
    return aic_prov_text_str(&out);
}

apr_status_t aic_prov_set_error(aic_chat_result *r, apr_pool_t *p, const char *code,
                                const char *msg)
{
    r->error_code = code;
    r->error_message = clean_message(p, msg);
    return APR_EGENERAL;
}

/* Gemini wraps errors of streaming calls in a one-element array. */
const aic_json *aic_prov_unwrap(const aic_json *root)
{
    return aic_json_typeof(root) == AIC_JSON_ARRAY && aic_json_len(root) == 1 ? aic_prov_first(root)
                                                                              : root;
}

/* ---- building requests ---- */

/* 1 when s has no control character (nor a space, unless spaces are allowed). */
int aic_prov_no_ctl(const char *s, int allow_space)
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

apr_status_t aic_prov_add_header(apr_array_header_t *h, apr_pool_t *p, const char *name,
                                 const char *value)
{
    if (!aic_prov_no_ctl(value, 1)) {
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
const char *aic_prov_api_url(apr_pool_t *p, const char *base, const char *version, const char *rest)
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

int aic_prov_has_system(const aic_chat_request *req)
{
    return req->system && *req->system;
}

/* The messages with consecutive turns of one role joined by a blank line:
 * Anthropic and Gemini want alternating turns. Each run is joined once, so
 * that many short turns cost their length, not its square. */
const apr_array_header_t *aic_prov_merged_turns(apr_pool_t *p, const apr_array_header_t *msgs)
{
    apr_array_header_t *out = apr_array_make(p, msgs->nelts, sizeof(aic_chat_msg));

    for (int i = 0, end; i < msgs->nelts; i = end) {
        const aic_chat_msg *m = &APR_ARRAY_IDX(msgs, i, aic_chat_msg);
        aic_chat_msg *turn = apr_array_push(out);

        *turn = *m;
        end = i + 1;
        while (end < msgs->nelts && !strcmp(APR_ARRAY_IDX(msgs, end, aic_chat_msg).role, m->role)) {
            end++;
        }
        if (end - i > 1) {
            apr_array_header_t *parts = apr_array_make(p, 2 * (end - i), sizeof(const char *));

            for (int k = i; k < end; k++) {
                if (k > i) {
                    APR_ARRAY_PUSH(parts, const char *) = "\n\n";
                }
                APR_ARRAY_PUSH(parts, const char *) = APR_ARRAY_IDX(msgs, k, aic_chat_msg).content;
            }
            turn->content = apr_array_pstrcat(p, parts, 0);
        }
    }
    return out;
}

aic_json *aic_prov_role_content(apr_pool_t *p, const char *role, const char *content)
{
    aic_json *m = aic_json_object(p);

    aic_json_set_str(m, "role", role);
    aic_json_set_str(m, "content", content);
    return m;
}

apr_status_t aic_prov_set_decimal(aic_json *obj, apr_pool_t *p, const char *key, double t)
{
    aic_json *num = NULL;
    apr_status_t rv = APR_SUCCESS;

    if (t >= 0 && (rv = json_decimal(&num, p, t)) == APR_SUCCESS) {
        aic_json_set(obj, key, num);
    }
    return rv;
}

int aic_prov_has_sampling(const aic_chat_request *req)
{
    return req->top_p || (req->stop && req->stop->nelts > 0);
}

apr_status_t aic_prov_set_sampling(aic_json *obj, apr_pool_t *p, const aic_chat_request *req,
                                   const char *top_p_key, const char *stop_key)
{
    apr_status_t rv;

    if (req->top_p && (rv = aic_prov_set_decimal(obj, p, top_p_key, *req->top_p)) != APR_SUCCESS) {
        return rv;
    }
    if (req->stop && req->stop->nelts > 0) {
        aic_json *list = aic_json_array(p);

        for (int i = 0; i < req->stop->nelts; i++) {
            aic_json_push_str(list, APR_ARRAY_IDX(req->stop, i, const char *));
        }
        aic_json_set(obj, stop_key, list);
    }
    return APR_SUCCESS;
}
