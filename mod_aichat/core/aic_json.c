#include "aic_json.h"

#include <apr_strings.h>
#include <json-c/json.h>
#include <limits.h>
#include <string.h>
#include <stdlib.h>
#include <math.h>

static apr_status_t json_release(void *data)
{
    json_object_put(data);
    return APR_SUCCESS;
}

/* Tie a fresh root to p: the pool's cleanup drops our reference. */
static aic_json *owned(apr_pool_t *p, json_object *j)
{
    if (j) {
        apr_pool_cleanup_register(p, j, json_release, apr_pool_cleanup_null);
    }
    return j;
}

aic_json *aic_json_object(apr_pool_t *p)
{
    return owned(p, json_object_new_object());
}

aic_json *aic_json_array(apr_pool_t *p)
{
    return owned(p, json_object_new_array());
}

/* 0 when j holds NaN or Infinity, which json-c accepts even when strict. */
static int all_finite(json_object *j)
{
    switch (json_object_get_type(j)) {
    case json_type_double:
        return isfinite(json_object_get_double(j));
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(j); i++) {
            if (!all_finite(json_object_array_get_idx(j, i))) {
                return 0;
            }
        }
        return 1;
    case json_type_object: {
        json_object_object_foreach(j, key, val)
        {
            (void)key;
            if (!all_finite(val)) {
                return 0;
            }
        }
        return 1;
    }
    default:
        return 1;
    }
}

apr_status_t aic_json_parse(aic_json **out, const char **err, apr_pool_t *p, const char *text,
                            apr_size_t len)
{
    apr_status_t rv = APR_SUCCESS;
    json_tokener *tok = json_tokener_new();
    json_object *j = NULL;
    char *copy;

    *out = NULL;
    *err = NULL;
    if (!tok) {
        *err = "out of memory";
        return APR_ENOMEM;
    }
    /* Strict RFC 8259 (no trailing commas, no comments...). The terminating
     * NUL is part of the input so that a top-level number ends there. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    copy = apr_pstrmemdup(p, text, len);
    if (memchr(text, '\0', len)) {
        *err = "NUL byte in the input";
        rv = APR_EINVAL;
        goto leave;
    }
    j = json_tokener_parse_ex(tok, copy, (int)len + 1);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        enum json_tokener_error e = json_tokener_get_error(tok);

        *err = (e == json_tokener_continue || (len == 0))
                   ? "unexpected end of input"
                   : apr_pstrdup(p, json_tokener_error_desc(e));
        rv = APR_EINVAL;
        goto leave;
    }
    if (!all_finite(j)) {
        *err = "NaN and Infinity are not JSON numbers";
        rv = APR_EINVAL;
        goto leave;
    }
    *out = owned(p, j);
    j = NULL;
leave:
    if (j) {
        json_object_put(j);
    }
    json_tokener_free(tok);
    return rv;
}

aic_json_type aic_json_typeof(const aic_json *v)
{
    switch (json_object_get_type(v)) {
    case json_type_boolean:
        return AIC_JSON_BOOL;
    case json_type_int:
        return AIC_JSON_INT;
    case json_type_double:
        return AIC_JSON_DOUBLE;
    case json_type_string:
        return AIC_JSON_STRING;
    case json_type_object:
        return AIC_JSON_OBJECT;
    case json_type_array:
        return AIC_JSON_ARRAY;
    default:
        return AIC_JSON_NULL;
    }
}

aic_json *aic_json_get(const aic_json *obj, const char *key)
{
    json_object *v = NULL;

    if (!json_object_is_type(obj, json_type_object)) {
        return NULL;
    }
    return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

int aic_json_has(const aic_json *obj, const char *key)
{
    return json_object_is_type(obj, json_type_object) && json_object_object_get_ex(obj, key, NULL);
}

const char *aic_json_str(const aic_json *v, apr_pool_t *p)
{
    const char *s;
    apr_size_t n;

    if (!json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    s = json_object_get_string((json_object *)v);
    n = (apr_size_t)json_object_get_string_len(v);
    /* "\u0000" would silently cut a C string short: no such strings. */
    if (memchr(s, '\0', n)) {
        return NULL;
    }
    return apr_pstrmemdup(p, s, n);
}

apr_int64_t aic_json_int(const aic_json *v)
{
    return json_object_get_int64(v);
}

double aic_json_double(const aic_json *v)
{
    return json_object_get_double(v);
}

int aic_json_bool(const aic_json *v)
{
    return json_object_get_boolean(v);
}

apr_array_header_t *aic_json_keys(const aic_json *obj, apr_pool_t *p)
{
    apr_array_header_t *keys = apr_array_make(p, 8, sizeof(const char *));

    if (json_object_is_type(obj, json_type_object)) {
        json_object_object_foreach((json_object *)obj, key, val)
        {
            (void)val;
            APR_ARRAY_PUSH(keys, const char *) = apr_pstrdup(p, key);
        }
    }
    return keys;
}

const char *aic_json_unknown_key(const aic_json *obj, const char *const *allowed, apr_pool_t *p)
{
    if (!json_object_is_type(obj, json_type_object)) {
        return NULL;
    }
    json_object_object_foreach((json_object *)obj, key, val)
    {
        const char *const *a = allowed;

        (void)val;
        while (*a && strcmp(*a, key)) {
            a++;
        }
        if (!*a) {
            return apr_pstrdup(p, key);
        }
    }
    return NULL;
}

apr_size_t aic_json_len(const aic_json *arr)
{
    return json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
}

aic_json *aic_json_at(const aic_json *arr, apr_size_t i)
{
    return json_object_array_get_idx(arr, i);
}

void aic_json_set_str(aic_json *obj, const char *key, const char *s)
{
    json_object_object_add(obj, key, s ? json_object_new_string(s) : NULL);
}

void aic_json_set_int(aic_json *obj, const char *key, apr_int64_t n)
{
    json_object_object_add(obj, key, json_object_new_int64(n));
}

void aic_json_set_double(aic_json *obj, const char *key, double d)
{
    json_object_object_add(obj, key, json_object_new_double(d));
}

void aic_json_set_bool(aic_json *obj, const char *key, int b)
{
    json_object_object_add(obj, key, json_object_new_boolean(b));
}

void aic_json_set_null(aic_json *obj, const char *key)
{
    json_object_object_add(obj, key, NULL);
}

void aic_json_set(aic_json *obj, const char *key, aic_json *v)
{
    /* _add steals a reference: take one so v's own pool cleanup stays balanced. */
    json_object_object_add(obj, key, json_object_get(v));
}

void aic_json_push(aic_json *arr, aic_json *v)
{
    json_object_array_add(arr, json_object_get(v));
}

aic_json *aic_json_from(apr_pool_t *p, const char *text)
{
    aic_json *j = NULL;
    const char *err = NULL;

    return text && aic_json_parse(&j, &err, p, text, strlen(text)) == APR_SUCCESS ? j : NULL;
}

void aic_json_push_str(aic_json *arr, const char *s)
{
    json_object_array_add(arr, s ? json_object_new_string(s) : NULL);
}

const char *aic_json_dump(const aic_json *v, apr_pool_t *p)
{
    size_t len = 0;
    const char *s = json_object_to_json_string_length(
        (json_object *)v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

    return apr_pstrmemdup(p, s, len);
}

apr_status_t aic_json_quote(const char *s, apr_size_t len,
                            apr_status_t (*fn)(void *baton, const char *json, apr_size_t n),
                            void *baton)
{
    json_object *o = len <= INT_MAX ? json_object_new_string_len(s, (int)len) : NULL;
    size_t n = 0;
    const char *text;
    apr_status_t rv;

    if (!o) {
        return APR_ENOMEM;
    }
    text = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    rv = text ? fn(baton, text, n) : APR_ENOMEM;
    json_object_put(o);
    return rv;
}

const char *aic_json_error_body(apr_pool_t *p, const char *code, const char *message,
                                const char *field)
{
    aic_json *body = aic_json_object(p);
    json_object *err = json_object_new_object();

    json_object_object_add(err, "code", json_object_new_string(code));
    json_object_object_add(err, "message", json_object_new_string(message));
    if (field) {
        json_object_object_add(err, "field", json_object_new_string(field));
    }
    json_object_object_add(body, "error", err);
    return aic_json_dump(body, p);
}

double aic_json_num(const aic_json *v)
{
    return json_object_get_double(v);
}

void aic_json_set_num(aic_json *obj, const char *key, double n)
{
    json_object_object_add(obj, key, json_object_new_double(n));
}

void aic_json_set_strn(aic_json *obj, const char *key, const char *s, apr_size_t len)
{
    json_object_object_add(obj, key, json_object_new_string_len(s, (int)len));
}

/* ---- the builder: one value from a streaming parser's events ---- */

#define BUILDER_DEPTH 128

struct aic_json_builder {
    json_object *stack[BUILDER_DEPTH]; /* open containers; stack[0] is the root */
    int depth;
    json_object *done; /* a finished root not yet taken */
    char *key;         /* the pending key of the innermost object */
    apr_size_t key_cap;
};

static apr_status_t builder_release(void *data)
{
    aic_json_builder *b = data;

    aic_json_builder_reset(b);
    free(b->key);
    b->key = NULL;
    return APR_SUCCESS;
}

aic_json_builder *aic_json_builder_create(apr_pool_t *p)
{
    aic_json_builder *b = apr_pcalloc(p, sizeof(*b));

    apr_pool_cleanup_register(p, b, builder_release, apr_pool_cleanup_null);
    return b;
}

void aic_json_builder_reset(aic_json_builder *b)
{
    if (b->depth > 0) {
        json_object_put(b->stack[0]);
    }
    if (b->done) {
        json_object_put(b->done);
    }
    b->depth = 0;
    b->done = NULL;
}

/* Place v (a new reference) in the open container, or make it the root. */
static apr_status_t place(aic_json_builder *b, json_object *v)
{
    json_object *top;

    if (b->depth == 0) {
        if (b->done) {
            json_object_put(b->done);
        }
        b->done = v;
        return APR_SUCCESS;
    }
    top = b->stack[b->depth - 1];
    if (json_object_is_type(top, json_type_array)) {
        json_object_array_add(top, v);
    } else {
        json_object_object_add(top, b->key ? b->key : "", v);
    }
    return APR_SUCCESS;
}

static apr_status_t open_container(aic_json_builder *b, json_object *c)
{
    if (!c) {
        return APR_ENOMEM;
    }
    if (b->depth >= BUILDER_DEPTH) {
        json_object_put(c);
        return APR_EINVAL;
    }
    if (b->depth > 0) {
        place(b, c); /* the parent holds the reference; the stack borrows it */
    }
    b->stack[b->depth++] = c;
    return APR_SUCCESS;
}

apr_status_t aic_json_builder_begin(aic_json_builder *b, int array)
{
    return open_container(b, array ? json_object_new_array() : json_object_new_object());
}

apr_status_t aic_json_builder_end(aic_json_builder *b)
{
    if (b->depth == 0) {
        return APR_EINVAL;
    }
    if (--b->depth == 0) {
        json_object *root = b->stack[0];

        b->depth = 0;
        return place(b, root);
    }
    return APR_SUCCESS;
}

apr_status_t aic_json_builder_key(aic_json_builder *b, const char *key, apr_size_t len)
{
    if (len + 1 > b->key_cap) {
        char *k = realloc(b->key, len + 1);

        if (!k) {
            return APR_ENOMEM;
        }
        b->key = k;
        b->key_cap = len + 1;
    }
    memcpy(b->key, key, len);
    b->key[len] = '\0';
    return APR_SUCCESS;
}

apr_status_t aic_json_builder_string(aic_json_builder *b, const char *s, apr_size_t len)
{
    return place(b, json_object_new_string_len(s, (int)len));
}

apr_status_t aic_json_builder_int(aic_json_builder *b, apr_int64_t n)
{
    return place(b, json_object_new_int64(n));
}

apr_status_t aic_json_builder_double(aic_json_builder *b, double d)
{
    return place(b, json_object_new_double(d));
}

apr_status_t aic_json_builder_bool(aic_json_builder *b, int v)
{
    return place(b, json_object_new_boolean(v));
}

apr_status_t aic_json_builder_null(aic_json_builder *b)
{
    return place(b, NULL);
}

int aic_json_builder_depth(const aic_json_builder *b)
{
    return b->depth;
}

aic_json *aic_json_builder_take(aic_json_builder *b, apr_pool_t *p)
{
    json_object *v = b->done;

    b->done = NULL;
    return v ? owned(p, v) : NULL;
}

const char *aic_json_cstr(const aic_json *v)
{
    return json_object_is_type(v, json_type_string) ? json_object_get_string((json_object *)v)
                                                    : NULL;
}

apr_size_t aic_json_strlen(const aic_json *v)
{
    return json_object_is_type(v, json_type_string) ? (apr_size_t)json_object_get_string_len(v) : 0;
}
