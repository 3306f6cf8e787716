/* What the chat capability's files share (private to api/chat/):
 *   aic_chat.c               the capability's tables: routes, the writer of abandoned turns
 *   aic_chat_stmts.c         its statements
 *   aic_chat_conversations.c conversations, participants, the thread, the active branch
 *   aic_chat_send.c          sending and regenerating: read and check the request, run a turn
 *   aic_chat_turn.c          the turn's phases and the driver that runs them
 *   aic_chat_call.c          one model call outside a turn (aic_api.h), reserved like one
 *   aic_chat_events.c        the turn's Server-Sent Events
 * and core/aic_turn_plan.h computes what a turn needs without I/O. */
#ifndef AIC_CHAT_H
#define AIC_CHAT_H

#include "api/aic_api.h"
#include "httpd/aic_batch.h"

/* ---- conversations (aic_chat_conversations.c) ---- */

/** A conversation as its viewer may see it. */
typedef struct {
    const char *id;
    const char *json; /**< conversation_json, or NULL when not read */
    int is_owner;
    const char *active_leaf; /**< NULL when empty */
    aic_json *settings;
    const char *system_prompt; /**< NULL when none */
    const char *title;
} aic_chat_conv;

/** From the first six columns of a chat_conv, chat_conv_head, chat_send_load
 * or chat_regenerate_load row (with_json: the first holds the JSON). */
void aic_chat_conv_from_row(aic_chat_conv *c, request_rec *r, const char *id,
                            const char *const *cells, int with_json);

/* ---- models ---- */

/** A model of a conversation with what a provider call needs. */
typedef struct {
    const char *id, *slug, *display_name, *provider, *model_id;
    aic_json *capabilities, *defaults;
} aic_chat_model;

/** From the JSON object the statements build for a model (id, slug,
 * display_name, provider, model_id, capabilities, defaults). */
void aic_chat_model_from_json(aic_chat_model *m, apr_pool_t *p, const aic_json *obj);

/** obj's integer member key, or def when it is absent or not an integer. */
apr_int64_t aic_chat_json_int(const aic_json *obj, const char *key, apr_int64_t def);

/* ---- the turn (aic_chat_turn.c) ---- */

/** The events of a streamed turn on their way to the client. */
typedef struct {
    apr_bucket_brigade *out; /**< made with the first event */
    apr_pool_t *pool;        /**< one event's JSON and text, cleared once it is sent */
    int gone;                /**< the client went away */
} aic_chat_events;

/**
 * One turn: a user message (or a regeneration) and the answers of the
 * conversation's models. The endpoint fills the first block; the phases
 * the rest.
 */
typedef struct {
    /* What the endpoint asks for. */
    aic_ctx *ctx;
    const aic_chat_conv *conv;
    apr_array_header_t *models; /**< aic_chat_model; in answering order once reserved */
    int stream;                 /**< answer as Server-Sent Events */
    const char *content;        /**< the user's message; NULL for a regeneration */
    const char *regenerated;    /**< the answer regenerated; NULL for a message */
    const char *parent_id;      /**< what the first answer answers, NULL for a root */
    /** The template version the message was filled from (recorded on it), or NULL. */
    const char *template_version;

    /* What the phases learn. */
    apr_array_header_t *thread;   /**< aic_turn_item: what the next answer answers, root first */
    apr_int64_t *reserved;        /**< credits reserved per model, in models' order; a later
                                       model's grows by what the earlier answers add to its
                                       context */
    const char *user_message_id;  /**< NULL for a regeneration */
    aic_json *user_message;       /**< its JSON, as the API shows it; idem */
    const char *title;            /**< from the user's message, for an untitled conversation */
    const char *first_answer_id;  /**< chosen as the turn is reserved */
    int recorded;                 /**< the conversation and the first answer's row are stored */
    int failed_at;                /**< the model whose answer the database failed, or -1 */
    const char *failed_answer_id; /**< that answer, when it has an id */
    const char *balance;          /**< credits after the last settlement, NULL when unknown */
    aic_json *answers;            /**< the stored answers, for the JSON response */
    aic_chat_events events;
    /** The first failure, for the JSON response. */
    struct {
        int status;
        const char *code, *message, *retry_after;
    } error;
} aic_chat_turn;

/** The client's status for a failed answer's code (provider_*, insufficient_credits). */
int aic_chat_error_status(const char *code);

/** Run the turn t (its first block filled): every phase, then the response.
 * context is the thread up to the parent as chat_context gives it (NULL
 * without a parent). Returns what the endpoint returns. */
int aic_chat_turn_run(aic_chat_turn *t, const char *context);

/* ---- events (aic_chat_events.c) ---- */

/** Answer r as a stream of events (status, content type, caching). */
void aic_chat_events_begin(aic_chat_events *ev, request_rec *r);

/** Write one event and flush it; APR_ECONNABORTED (and ev->gone) once the
 * client went away. Clears ev->pool. */
apr_status_t aic_chat_event(aic_chat_events *ev, request_rec *r, const char *name, aic_json *data);

/** start: an answer begins (the first one of a message carries it, user_message). */
void aic_chat_event_start(aic_chat_events *ev, request_rec *r, const aic_chat_model *m,
                          const char *answer_id, const char *parent_id, int first_responder,
                          aic_json *user_message);

/** delta: a piece of an answer's text. */
apr_status_t aic_chat_event_delta(aic_chat_events *ev, request_rec *r, const aic_chat_model *m,
                                  const char *answer_id, const char *text, apr_size_t len);

/** error: an answer failed; message is the stored answer, or NULL. */
void aic_chat_event_error(aic_chat_events *ev, request_rec *r, const aic_chat_model *m,
                          const char *answer_id, const char *code, const char *text,
                          aic_json *message);

/** done: an answer is stored (message) with its usage. */
void aic_chat_event_done(aic_chat_events *ev, request_rec *r, const aic_chat_model *m,
                         const char *answer_id, apr_int64_t prompt, apr_int64_t completion,
                         int estimated, aic_json *message);

/** end: the turn is over; balance is the user's credits, NULL when unknown. */
void aic_chat_event_end(aic_chat_events *ev, request_rec *r, const char *balance);

/* ---- endpoints (aic_chat_conversations.c, aic_chat_send.c) ---- */

int aic_chat_conversation_create(aic_ctx *ctx);
int aic_chat_conversation_list(aic_ctx *ctx);
int aic_chat_conversation_get(aic_ctx *ctx);
int aic_chat_conversation_patch(aic_ctx *ctx);
int aic_chat_conversation_set_models(aic_ctx *ctx);
int aic_chat_conversation_delete(aic_ctx *ctx);
int aic_chat_conversation_restore(aic_ctx *ctx);
int aic_chat_participant_add(aic_ctx *ctx);
int aic_chat_participant_remove(aic_ctx *ctx);
int aic_chat_thread(aic_ctx *ctx);
int aic_chat_set_active(aic_ctx *ctx);
int aic_chat_message_send(aic_ctx *ctx);
int aic_chat_message_regenerate(aic_ctx *ctx);

#endif
