/* The provider layer without httpd or curl: chat requests built for the
 * OpenAI (and compatible), Anthropic and Gemini wire protocols, and their
 * answers parsed, whole or streamed, into one result shape. */
#ifndef AIC_PROVIDER_H
#define AIC_PROVIDER_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "aic_provider_cfg.h"

/** The largest upstream stream event accepted (bytes). */
#define AIC_PROVIDER_MAX_EVENT (4 * 1024 * 1024)
/** Default max_tokens for Anthropic, which requires one. */
#define AIC_PROVIDER_ANTHROPIC_MAX_TOKENS 1024
/** Provider error messages are cut to this many bytes. */
#define AIC_PROVIDER_MAX_MESSAGE 1024

typedef struct {
    const char *role;    /**< "user" | "assistant" */
    const char *content; /**< UTF-8 text */
} aic_chat_msg;

typedef struct {
    aic_provider_kind kind;
    const char *base_url;               /**< no trailing slash, e.g. https://api.openai.com or
                                           http://localhost:11434/v1 */
    const char *key;                    /**< may be NULL */
    const char *model;                  /**< provider model id */
    const char *system;                 /**< system prompt, NULL or "" for none */
    const apr_array_header_t *messages; /**< aic_chat_msg, oldest first, at least one */
    double temperature;                 /**< < 0 = not sent; sent with at most 6 decimals */
    const double *top_p;                /**< NULL = not sent; 0 to 1, at most 6 decimals */
    const apr_array_header_t *stop;     /**< const char *: stop sequences; NULL = none */
    int max_tokens;                     /**< <= 0 = provider default (Anthropic: 1024) */
    int stream;
} aic_chat_request;

typedef struct {
    const char *url;
    apr_array_header_t *headers; /**< "Name: value" strings, never holding CR or LF */
    const char *body;            /**< JSON */
} aic_http_call;

typedef struct {
    const char *text;          /**< the whole answer so far, never NULL */
    long prompt_tokens;        /**< -1 when the provider gave none */
    long completion_tokens;    /**< -1 when the provider gave none */
    const char *finish_reason; /**< the provider's value or NULL */
    int complete; /**< the provider said it finished ([DONE]/finish_reason, message_stop,
                     finishReason) */
    /** NULL, or provider_auth, provider_rate_limited, provider_overloaded, provider_error,
     * provider_bad_request, provider_malformed, provider_stream_error */
    const char *error_code;
    const char *error_message; /**< the provider's message, cut, with the configured keys and
                                  key-like words redacted */
} aic_chat_result;

/**
 * Build the upstream call for req into *out (allocated from p):
 * OpenAI POST {base}/v1/chat/completions, Anthropic POST {base}/v1/messages,
 * Gemini POST {base}/v1beta/models/{model}:generateContent (or
 * :streamGenerateContent?alt=sse); the version segment is not repeated when
 * base already ends with one (".../v1"). Consecutive turns of the same role
 * are joined with a blank line for Anthropic and Gemini. Returns APR_EINVAL
 * for a missing model, base URL or message, a role other than user or
 * assistant, text that is not UTF-8 (stop sequences too), a temperature
 * that is not finite or above 1000, a top_p outside 0 to 1, or a control
 * character (CR, LF...) in a header value.
 */
apr_status_t aic_provider_build(aic_http_call *out, apr_pool_t *p, const aic_chat_request *req);

/**
 * Parse a whole (non-streamed) answer, HTTP status and body, into *out. HTTP
 * errors map to 401/403 provider_auth (also Gemini's 400 API_KEY_INVALID), 429
 * provider_rate_limited, 503/529 provider_overloaded, other >= 500 and
 * unlisted statuses provider_error, 400/404/422 provider_bad_request; a 2xx
 * body that is not the expected JSON is provider_malformed, one carrying an
 * "error" is provider_error, a prompt Gemini blocked is provider_bad_request.
 * Returns APR_SUCCESS for an answer, APR_EGENERAL when out->error_code is set.
 */
apr_status_t aic_provider_parse_response(aic_chat_result *out, apr_pool_t *p,
                                         aic_provider_kind kind, int http_status, const char *body,
                                         apr_size_t len);

typedef struct aic_provider_stream aic_provider_stream;

/** Receives each piece of answer text (valid during the call only); a status
 * other than APR_SUCCESS stops the stream and is returned by the feed. */
typedef apr_status_t (*aic_delta_cb)(void *ctx, const char *text, apr_size_t len);

/**
 * A parser for a streamed answer (HTTP 2xx, text/event-stream) of the given
 * kind, allocated from p, that calls on_delta(ctx, ...) for each piece of
 * text and keeps usage: OpenAI's final usage chunk; Anthropic's input tokens
 * from message_start and the last cumulative output tokens from message_delta;
 * Gemini's last usageMetadata counts. In-stream errors (OpenAI data with a
 * top-level "error", Anthropic's error event, a Gemini error object,
 * llama.cpp's "error:" field) set provider_stream_error and stop; unknown
 * events and fields and pings are ignored. NULL when out of memory.
 */
aic_provider_stream *aic_provider_stream_create(apr_pool_t *p, aic_provider_kind kind,
                                                aic_delta_cb on_delta, void *ctx);

/**
 * Feed raw upstream bytes, split anywhere. Returns APR_SUCCESS while the
 * stream goes on; APR_EGENERAL once the result carries an error_code (a
 * stream error, malformed JSON, an event over AIC_PROVIDER_MAX_EVENT), or
 * on_delta's status; every later call returns the same status.
 */
apr_status_t aic_provider_stream_feed(aic_provider_stream *s, const char *data, apr_size_t len);

/**
 * End of the upstream body: the result. complete is 0 when the stream was cut
 * (no [DONE] or finish_reason, message_stop, finishReason); malformed event
 * JSON set provider_malformed. A last Gemini event without its blank line is
 * used when its JSON is complete (Gemini ends by closing the connection).
 * Valid as long as p; calling it again returns the same result.
 */
const aic_chat_result *aic_provider_stream_result(aic_provider_stream *s);

/**
 * The configured keys, redacted byte for byte from every provider message
 * (aic_chat_result.error_message), whatever their shape, before the
 * key-like words are. Set once before any thread exists (post_config); keys
 * (NULL-terminated) must live as long as the configuration; NULL for none.
 */
void aic_provider_redact_keys(const char *const *keys);

/** Token estimate when a provider gives no usage: ceil(UTF-8 code points / 4),
 * at least 1 for non-empty text, 0 for NULL or "". */
long aic_tokens_estimate(const char *text);

#endif
