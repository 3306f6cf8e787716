/* The only door to YAJL: a JSON document read as a stream, handed on one
 * item at a time as a json-c value (aic_json). An item is an element of a
 * top-level array, an element of an array that is a member of a top-level
 * object (with that member's key), or any other member of a top-level object
 * (with its key, flagged as a member). Memory holds one item, never the
 * document. Strict JSON: no comments, no NaN; strings must be valid UTF-8;
 * one leading byte order mark is skipped. */
#ifndef AIC_JSTREAM_H
#define AIC_JSTREAM_H

#include <apr_pools.h>

#include "aic_json.h"

/** What the document's top level is. */
typedef enum {
    AIC_JSTREAM_NONE,
    AIC_JSTREAM_ARRAY,
    AIC_JSTREAM_OBJECT,
    AIC_JSTREAM_SCALAR
} aic_jstream_top;

/**
 * Called for each item. key: NULL for an element of the top-level array,
 * else the top-level member's key; member: 1 when item is that member's
 * value itself (not an element of it). item lives in pool, which is cleared
 * after the call. A status other than APR_SUCCESS stops the stream with it.
 */
typedef apr_status_t (*aic_jstream_item_fn)(void *baton, const char *key, int member,
                                            aic_json *item, apr_pool_t *pool);

typedef struct aic_jstream aic_jstream;

/** The stream stopped on bad input: aic_jstream_error says which. */
#define AIC_JSTREAM_EBAD (APR_OS_START_USERERR + 301)

/** A stream in p. max_depth: deepest nesting allowed; max_string: longest string or key. */
aic_jstream *aic_jstream_create(apr_pool_t *p, int max_depth, apr_size_t max_string,
                                aic_jstream_item_fn fn, void *baton);
/**
 * Feed len bytes. Returns APR_SUCCESS, AIC_JSTREAM_EBAD (see aic_jstream_error),
 * or what the item function returned.
 */
apr_status_t aic_jstream_feed(aic_jstream *js, const char *buf, apr_size_t len);
/** The end of the input: AIC_JSTREAM_EBAD when the document is incomplete. */
apr_status_t aic_jstream_finish(aic_jstream *js);
/**
 * Why the stream stopped: *code is invalid_json, invalid_utf8 or
 * limit_exceeded, *message says what, *offset is the byte offset where it
 * was found (counted from the first byte fed, a byte order mark included).
 */
void aic_jstream_error(const aic_jstream *js, const char **code, const char **message,
                       apr_off_t *offset);
/** The top level seen so far. */
aic_jstream_top aic_jstream_top_level(const aic_jstream *js);
/** Bytes fed so far. */
apr_off_t aic_jstream_bytes(const aic_jstream *js);

#endif
