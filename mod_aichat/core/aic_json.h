/* The only door to json-c. Values are json-c objects behind an opaque type;
 * roots are tied to an APR pool (released by a pool cleanup), children are
 * borrowed from their parent. */
#ifndef AIC_JSON_H
#define AIC_JSON_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct json_object aic_json;

typedef enum {
    AIC_JSON_NULL,
    AIC_JSON_BOOL,
    AIC_JSON_INT,
    AIC_JSON_DOUBLE,
    AIC_JSON_STRING,
    AIC_JSON_OBJECT,
    AIC_JSON_ARRAY
} aic_json_type;

/** A new empty object owned by pool p. */
aic_json *aic_json_object(apr_pool_t *p);
/** A new empty array owned by pool p. */
aic_json *aic_json_array(apr_pool_t *p);

/**
 * Parse text (len bytes, need not be NUL-terminated) into *out, owned by p.
 * On failure returns APR_EINVAL and sets *err to a short reason.
 */
apr_status_t aic_json_parse(aic_json **out, const char **err, apr_pool_t *p, const char *text,
                            apr_size_t len);
/** The JSON value of text (NULL: NULL), or NULL when it is not JSON. */
aic_json *aic_json_from(apr_pool_t *p, const char *text);

/** The type of v; a NULL v is AIC_JSON_NULL. */
aic_json_type aic_json_typeof(const aic_json *v);
/** Borrowed member of an object, NULL when absent (or when obj is not an object). */
aic_json *aic_json_get(const aic_json *obj, const char *key);
/** 1 when key is present in obj (even with a null value). */
int aic_json_has(const aic_json *obj, const char *key);
/** String value copied into p, or NULL when v is not a string or holds a NUL. */
const char *aic_json_str(const aic_json *v, apr_pool_t *p);
/** Borrowed string value (valid while v lives), NULL when v is not a string. */
const char *aic_json_cstr(const aic_json *v);
/** Length in bytes of a string v (0 when not a string). */
apr_size_t aic_json_strlen(const aic_json *v);
/** Integer value of an int v. */
apr_int64_t aic_json_int(const aic_json *v);
/** Numeric value of an int or double v, as a double. */
double aic_json_double(const aic_json *v);
/** Boolean value of a bool v. */
int aic_json_bool(const aic_json *v);
/** The keys of an object, copied into p. */
apr_array_header_t *aic_json_keys(const aic_json *obj, apr_pool_t *p);
/** The first key of obj not listed in allowed (NULL-terminated), copied into p;
 * NULL when every key is allowed. */
const char *aic_json_unknown_key(const aic_json *obj, const char *const *allowed, apr_pool_t *p);
/** Number of elements in an array. */
apr_size_t aic_json_len(const aic_json *arr);
/** Borrowed element i of an array. */
aic_json *aic_json_at(const aic_json *arr, apr_size_t i);

/** Set obj[key] to a string (NULL s sets null). */
void aic_json_set_str(aic_json *obj, const char *key, const char *s);
/** Set obj[key] to an integer. */
void aic_json_set_int(aic_json *obj, const char *key, apr_int64_t n);
/** Set obj[key] to a (finite) double. */
void aic_json_set_double(aic_json *obj, const char *key, double d);
/** Set obj[key] to a boolean. */
void aic_json_set_bool(aic_json *obj, const char *key, int b);
/** Set obj[key] to null. */
void aic_json_set_null(aic_json *obj, const char *key);
/** Set obj[key] to v (shared: v stays valid in its own pool too). */
void aic_json_set(aic_json *obj, const char *key, aic_json *v);
/** Append v to an array (shared, as aic_json_set). */
void aic_json_push(aic_json *arr, aic_json *v);
/** Append a string (NULL: null) to an array. */
void aic_json_push_str(aic_json *arr, const char *s);

/** The value of a number (int or double) as a double. */
double aic_json_num(const aic_json *v);
/** Set obj[key] to a number. */
void aic_json_set_num(aic_json *obj, const char *key, double n);
/** Set obj[key] to a string of len bytes (may hold NUL). */
void aic_json_set_strn(aic_json *obj, const char *key, const char *s, apr_size_t len);

/**
 * A builder of one value from the events of a streaming parser (the YAJL
 * door, core/aic_jstream.c, drives it): begin/end containers, a key before
 * each object member, scalars. The finished value is taken with
 * aic_json_builder_take, which ties it to a pool; what is not taken is
 * released with the builder's pool or by aic_json_builder_reset. Each call
 * returns APR_SUCCESS, APR_ENOMEM, or APR_EINVAL (nesting past 128, an end
 * without a begin). Duplicate keys: the last wins.
 */
typedef struct aic_json_builder aic_json_builder;
aic_json_builder *aic_json_builder_create(apr_pool_t *p);
apr_status_t aic_json_builder_begin(aic_json_builder *b, int array);
apr_status_t aic_json_builder_end(aic_json_builder *b);
apr_status_t aic_json_builder_key(aic_json_builder *b, const char *key, apr_size_t len);
apr_status_t aic_json_builder_string(aic_json_builder *b, const char *s, apr_size_t len);
apr_status_t aic_json_builder_int(aic_json_builder *b, apr_int64_t n);
apr_status_t aic_json_builder_double(aic_json_builder *b, double d);
apr_status_t aic_json_builder_bool(aic_json_builder *b, int v);
apr_status_t aic_json_builder_null(aic_json_builder *b);
/** Open containers (0: between values). */
int aic_json_builder_depth(const aic_json_builder *b);
/** The finished value tied to p (NULL when none); the builder starts afresh. */
aic_json *aic_json_builder_take(aic_json_builder *b, apr_pool_t *p);
/** Drop whatever is being built. */
void aic_json_builder_reset(aic_json_builder *b);

/** Compact serialisation of v, copied into p. */
const char *aic_json_dump(const aic_json *v, apr_pool_t *p);

/** The JSON string literal of the len bytes of s (UTF-8), quoted and escaped
 * as aic_json_dump escapes (as PostgreSQL's to_json does), handed to fn;
 * returns what fn returns. */
apr_status_t aic_json_quote(const char *s, apr_size_t len,
                            apr_status_t (*fn)(void *baton, const char *json, apr_size_t n),
                            void *baton);

/** The product's error envelope {"error":{"code","message"[,"field"]}} as text. */
const char *aic_json_error_body(apr_pool_t *p, const char *code, const char *message,
                                const char *field);

#endif
