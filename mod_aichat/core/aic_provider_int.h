/* What the files of the provider layer share, not part of its interface:
 * the table each protocol fills in its own file (aic_provider_openai.c,
 * aic_provider_anthropic.c, aic_provider_gemini.c), the stream object their
 * stream events update, and the helpers of aic_provider_common.c. Only
 * core/aic_provider*.c include it. */
#ifndef AIC_PROVIDER_INT_H
#define AIC_PROVIDER_INT_H

#include "aic_provider.h"
#include "aic_json.h"
#include "aic_sse.h"

/* A NUL-terminated text in a pool, grown by doubling (not per piece). */
typedef struct {
    char *s;
    apr_size_t len;
    apr_size_t cap;
} text_buf;

/* Where answer text goes: a buffer, and on_delta when streaming. */
typedef struct {
    text_buf text;
    apr_pool_t *pool; /* the buffer's pool */
    aic_delta_cb on_delta;
    void *ctx;
} text_sink;

/* ---- one protocol ---- */

typedef struct {
    /** Set out's URL and headers and fill body for a request already checked. */
    apr_status_t (*build)(aic_http_call *out, apr_pool_t *p, const aic_chat_request *req,
                          aic_json *body);
    /** Read a 2xx whole answer (JSON, not an error body) into r, its text into k. */
    apr_status_t (*whole)(aic_chat_result *r, text_sink *k, const aic_json *root, apr_pool_t *p,
                          apr_pool_t *tmp);
    /** Apply one stream event (JSON, not an error body) to s. */
    apr_status_t (*event)(aic_provider_stream *s, const aic_json *root, const aic_sse_event *ev);
} aic_prov_protocol;

extern const aic_prov_protocol aic_prov_openai;
extern const aic_prov_protocol aic_prov_anthropic;
extern const aic_prov_protocol aic_prov_gemini;

/** 1 when a Gemini error body says the key was refused (400 API_KEY_INVALID). */
int aic_prov_gemini_bad_key(const aic_json *root, apr_pool_t *p);

/* ---- the stream object (aic_provider.c) ---- */

struct aic_provider_stream {
    apr_pool_t *pool;
    apr_pool_t *scratch; /* one event's JSON, cleared after each event */
    aic_provider_kind kind;
    const aic_prov_protocol *proto;
    aic_sse *sse;
    text_sink out;
    aic_chat_result res;
    apr_status_t rv; /* sticky status of the feed */
    int finished;    /* [DONE] or message_stop came: later events are ignored */
    int at_eof;      /* parsing an unterminated last event: a cut JSON is dropped */
    int ended;
};

/* ---- helpers (aic_provider_common.c) ---- */

void aic_prov_text_append(text_buf *b, apr_pool_t *p, const char *s, apr_size_t n);
/** The text, "" when none was appended. */
const char *aic_prov_text_str(const text_buf *b);
/** Append s (may be NULL) to k's text and pass it to on_delta, if any. */
apr_status_t aic_prov_emit(text_sink *k, const char *s);

/** Element 0 of an array, NULL when v is no array or an empty one. */
aic_json *aic_prov_first(const aic_json *v);
/** 1 when v is the string want. */
int aic_prov_str_is(const aic_json *v, const char *want, apr_pool_t *p);
/** Set *dst to an integer count v; leave it when v is absent or not an integer. */
void aic_prov_set_count(long *dst, const aic_json *v);

/** Set r's error code and its message, cleaned (key-like words redacted, cut);
 * returns APR_EGENERAL. */
apr_status_t aic_prov_set_error(aic_chat_result *r, apr_pool_t *p, const char *code,
                                const char *msg);
/** The one element of a one-element array (Gemini's streamed errors), else root. */
const aic_json *aic_prov_unwrap(const aic_json *root);

/** 1 when s has no control character (nor a space, unless spaces are allowed). */
int aic_prov_no_ctl(const char *s, int allow_space);
/** Add "name: value"; APR_EINVAL when value holds a control character. */
apr_status_t aic_prov_add_header(apr_array_header_t *h, apr_pool_t *p, const char *name,
                                 const char *value);
/** base + "/" + version + rest, without repeating a version base ends with. */
const char *aic_prov_api_url(apr_pool_t *p, const char *base, const char *version,
                             const char *rest);
/** Set key to t when t >= 0, as a JSON number with at most 6 decimals. */
apr_status_t aic_prov_set_decimal(aic_json *obj, apr_pool_t *p, const char *key, double t);
/** Set the request's top_p and stop sequences, when it has them, under the
 * protocol's names for them. */
apr_status_t aic_prov_set_sampling(aic_json *obj, apr_pool_t *p, const aic_chat_request *req,
                                   const char *top_p_key, const char *stop_key);
/** 1 when the request has top_p or stop sequences. */
int aic_prov_has_sampling(const aic_chat_request *req);
/** 1 when the request has a non-empty system prompt. */
int aic_prov_has_system(const aic_chat_request *req);
/** The messages with consecutive turns of one role joined by a blank line. */
const apr_array_header_t *aic_prov_merged_turns(apr_pool_t *p, const apr_array_header_t *msgs);
/** {"role":role,"content":content} */
aic_json *aic_prov_role_content(apr_pool_t *p, const char *role, const char *content);

#endif
