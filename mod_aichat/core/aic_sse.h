/* An incremental Server-Sent Events parser (WHATWG HTML "server-sent events"
 * rules) for upstream provider streams. It takes bytes split anywhere (one at
 * a time works), understands LF, CRLF and lone CR line ends, comments, the
 * data, event and llama.cpp's non-standard error fields, and ignores id,
 * retry and unknown fields. An event's bytes live in a sub-pool cleared after
 * it is dispatched, so a stream fed for minutes does not grow. */
#ifndef AIC_SSE_H
#define AIC_SSE_H

#include <apr_pools.h>

typedef struct aic_sse aic_sse;

typedef struct {
    const char *event;       /**< the event: field, NULL when absent or empty */
    const char *data;        /**< the data lines joined with \n ("" when none), NUL-terminated */
    apr_size_t data_len;     /**< bytes in data */
    const char *field_error; /**< value of llama.cpp's non-standard "error:" field, else NULL */
} aic_sse_event;

/**
 * Receives each event; its strings are valid during the call only. A status
 * other than APR_SUCCESS stops the parser: aic_sse_feed returns it, now and
 * on every later call.
 */
typedef apr_status_t (*aic_sse_cb)(void *ctx, const aic_sse_event *ev);

/**
 * A parser allocated from p that calls cb(ctx, event) for each event. An event
 * whose data (plus the line being read) exceeds max_event_bytes stops the
 * parser with APR_ENOSPC. NULL when out of memory.
 */
aic_sse *aic_sse_create(apr_pool_t *p, aic_sse_cb cb, void *ctx, apr_size_t max_event_bytes);

/**
 * Parse len more bytes of the stream, dispatching every event completed by a
 * blank line. Returns APR_SUCCESS, APR_ENOSPC for an oversized event, or the
 * callback's status; once failed, every later call returns the same status.
 */
apr_status_t aic_sse_feed(aic_sse *s, const char *data, apr_size_t len);

/**
 * End of a stream whose last event may lack its blank line (Gemini closes
 * the connection instead): complete the pending line and dispatch a pending
 * event as if the blank line had come. Call it before aic_sse_end, only when
 * such an event is wanted; the spec itself discards it.
 */
apr_status_t aic_sse_flush(aic_sse *s);

/**
 * End of the stream: a pending event without its blank line is discarded, as
 * the spec says. Returns APR_INCOMPLETE when such an event (data, an error
 * field, or a partial line other than a comment) was pending, else APR_SUCCESS, or the status
 * that stopped the parser. The parser is then ready for a new stream.
 */
apr_status_t aic_sse_end(aic_sse *s);

#endif
