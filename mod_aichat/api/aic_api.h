/* The index of the capabilities: each owns its routes, its statements and its
 * per-process state, declared here one block per capability and wired in
 * mod_aichat.c. What the files of one capability share is in its folder's
 * header (api/catalog/catalog.h, api/share/share.h, api/admin/admin.h). */
#ifndef AIC_API_H
#define AIC_API_H

#include "httpd/aic_handler.h"

/* Health and the signed-in user (/v1/health, /v1/me). */
extern const aic_route aic_me_routes[];
extern const aic_stmt aic_me_stmts[];

/* Administration: users and the audit log, as JSON and as pages. */
extern const aic_route aic_admin_api_routes[];
extern const aic_route aic_admin_page_routes[];
extern const aic_stmt aic_admin_stmts[];

/**
 * Apply a user update in one transaction with its audit row: label names an
 * UPDATE ... RETURNING user_json statement taking args; the old and new
 * values of `fields` are recorded. *user_json receives the updated user.
 * Returns APR_SUCCESS, APR_NOTFOUND (no such user) or an aic_db error.
 */
apr_status_t aic_user_update(const char **user_json, aic_ctx *ctx, const char *user_id,
                             const char *label, int nargs, const char *const *args,
                             const apr_array_header_t *fields);

/** Send the response for a failed aic_user_update. */
int aic_user_update_failed(request_rec *r, apr_status_t rv);

/* The catalog: categories, models, favourites, providers. */
extern const aic_route aic_catalog_routes[];
extern const aic_route aic_catalog_page_routes[];
extern const aic_stmt aic_catalog_stmts[];
extern const aic_stmt aic_admin_catalog_stmts[];
/** Per-child state of the catalog (the model list in memory). */
void aic_catalog_child_init(apr_pool_t *pchild, server_rec *s);
/** The catalog's state shared by the processes (provider probes), after aic_config_post. */
int aic_catalog_post_config(apr_pool_t *pconf, server_rec *s);

/* Conversations and messages. */
extern const aic_route aic_chat_routes[];
extern const aic_stmt aic_chat_stmts[];
/** Per process: the writer of the turns the database failed (aic_batch). */
void aic_chat_child_init(apr_pool_t *pchild, server_rec *s);

/** The conversation list's filter parameters besides its page (limit, after). */
#define AIC_CHAT_LIST_PARAMS                                                                       \
    "archived", "pinned", "deleted", "tool", "q", "tags", "tags_mode", "has_notes"

/**
 * Read the conversation list's filter from params (AIC_CHAT_LIST_PARAMS as
 * GET /conversations takes them, strings): archived, pinned and deleted
 * (true or false), tool (a slug), q (words of the title, at most 400 bytes),
 * tags (ids separated by commas, at most 20) and tags_mode (any or all),
 * has_notes (true or false, 1 or 0). *out receives chat_conversation_match's
 * arguments without viewer, cursor and limit (as the list and a bulk action
 * on all that match give them). Returns NULL when acceptable, else a
 * message, with *field the parameter.
 */
const char *aic_chat_list_filter(aic_json **out, const char **field, apr_pool_t *p,
                                 apr_table_t *params);

/** A message another capability sends (a template's use). */
typedef struct {
    const char *content;          /**< checked as a typed message is; NULL: not text */
    int stream;                   /**< answer as Server-Sent Events; -1: as Accept asks */
    const char *template_version; /**< recorded on the message, its use counted; or NULL */
    const char *system_prompt;    /**< this turn's instead of the conversation's, or NULL */
} aic_chat_message;

/** Send m after the active leaf of the conversation id and answer as
 * POST /conversations/{id}/messages does (404, 422, 402, the turn). */
int aic_chat_send(aic_ctx *ctx, const char *id, const aic_chat_message *m);

/* Prompts and templates: favourite prompts, templates, versions, the gallery. */
extern const aic_route aic_prompts_routes[];
extern const aic_stmt aic_prompts_stmts[];

/** One call of a catalog model outside a conversation's turn (a summary, a
 * call of the OpenAI-compatible API), charged as a turn's answer is
 * (api/chat/aic_chat_call.c). */
typedef struct {
    /* What the caller gives. */
    const char *model_json;             /**< the model as the chat statements build it: id, slug,
                                             display_name, provider, model_id, capabilities, defaults */
    const char *system;                 /**< the system prompt, or NULL */
    const apr_array_header_t *messages; /**< aic_chat_msg (core/aic_provider.h), oldest first */
    const char *note;                   /**< what the ledger says the credits are for */
    apr_pool_t *pool;                   /**< where the answer is kept (a request's or a job's) */
    server_rec *s;                      /**< where a failure to give credits back is logged */
    int max_tokens;                     /**< 0: the model's default */
    const double *temperature;          /**< NULL: the provider's default */
    const double *top_p;                /**< NULL: the provider's default */
    const apr_array_header_t *stop;     /**< const char *: stop sequences, or NULL */
    /** Each piece of the answer as it comes (within AIChatMaxAnswerBytes), or
     * NULL; anything but APR_SUCCESS stops the call as a client gone. */
    apr_status_t (*on_text)(void *arg, const char *text, apr_size_t len);
    void *arg;
    request_rec *client; /**< a client whose leaving stops the call, or NULL */
    /* What aic_chat_call_plan gives. */
    const char *provider, *model_id, *display_name;
    apr_int64_t reserved; /**< the credits to reserve */
    /* What the call gives. */
    const char *text; /**< the answer (what came, when it failed or was stopped) */
    apr_int64_t prompt_tokens, completion_tokens,
        used;                  /**< estimated when the provider gives none */
    const char *finish_reason; /**< the provider's, or NULL */
    int capped;                /**< the answer reached AIChatMaxAnswerBytes */
    int gone;                  /**< the client left, or on_text stopped the call */
    int status;                /**< after a failure: the client's status, code and message */
    const char *code, *message, *retry_after;
} aic_chat_call;

/**
 * Plan c: the model (from c->model_json), its max_tokens, and in
 * c->reserved the credits the call can use (the bound of what it is sent
 * and its max_tokens, as for a turn's answer). Otherwise c->status, code
 * and message say why (422 context_too_long, 503 provider_unavailable).
 */
apr_status_t aic_chat_call_plan(aic_chat_call *c, aic_ctx *ctx);

/**
 * Ask the planned model with no database connection held: the request built
 * by core/aic_provider, the answer read through its stream parser and cut
 * at AIChatMaxAnswerBytes, c->on_text told of each piece. APR_SUCCESS: the
 * answer is c->text (c->gone when the client left, c->capped when it was
 * cut). Otherwise the provider failed: c->status, code, message and
 * retry_after say how. The caller reserved and settles.
 */
apr_status_t aic_chat_call_ask(aic_chat_call *c, aic_ctx *ctx);

/**
 * Plan c, reserve its credits (chat_call_reserve), ask the model, and give
 * the reservation back when the call fails. APR_SUCCESS: c->text and c->used
 * are the answer and the reservation is the caller's to settle in the
 * statement that stores what it made (chat_settle(viewer, reserved, used,
 * false, NULL)), or to give back with aic_chat_call_release. Otherwise
 * c->status, code and message say why (402 insufficient_credits, the plan's,
 * 503 for the database, a provider's failure), and nothing stays reserved.
 * Of ctx it uses conf, db and user only: a worker with no request runs it too.
 */
apr_status_t aic_chat_call_run(aic_chat_call *c, aic_ctx *ctx);

/** Give back what c reserved (the caller could not store its answer). */
apr_status_t aic_chat_call_release(aic_chat_call *c, aic_ctx *ctx);

/* Sharing: share links (API and admin page) and the page behind a link. */
extern const aic_route aic_share_routes[];
extern const aic_route aic_share_page_routes[];
extern const aic_stmt aic_share_stmts[];
extern const aic_stmt aic_share_page_stmts[];
/** The aichat-share handler: a shared conversation as HTML, or JSON when asked. */
int aic_share_handler(request_rec *r);
/** Startup (before threads): Markdown extensions, the page's style hash. */
void aic_share_post_config(apr_pool_t *pconf);
/** Per-child state: the cache of shares and pages, the writer of views. */
void aic_share_child_init(apr_pool_t *pchild, server_rec *s);

/* A conversation's history: annotations, versions (and deleting a branch), summaries. */
extern const aic_route aic_history_routes[];
extern const aic_stmt aic_history_stmts[];

/* Organise: tags with colours, tagging, bulk actions, saved searches (api/tags/). */
extern const aic_route aic_organise_routes[];
extern const aic_stmt aic_organise_stmts[];

/* Search: ranked full-text search over messages, titles and summaries (api/search/). */
extern const aic_route aic_search_routes[];
extern const aic_stmt aic_search_stmts[];

/* Personal API keys: AuthType aichat-key (Authorization: Bearer), the keys'
 * API and usage, their rate limits (what the OpenAI-compatible API uses of
 * them is in api/keys/keys.h). */
extern const aic_route aic_keys_routes[];
extern const aic_route aic_keys_usage_routes[];
extern const aic_route aic_keys_page_routes[];
extern const aic_stmt aic_keys_stmts[];
/** Register AuthType aichat-key's check_authn hook. */
void aic_keys_register(apr_pool_t *p);
/** The keys found lately, per process (child_init). */
void aic_keys_child_init(apr_pool_t *pchild);
/** The rate limits' shared memory (post_config, before the children). */
int aic_keys_post_config(apr_pool_t *pconf, server_rec *s);

/* The OpenAI-compatible API (/chat/v1: chat/completions, models). */
extern const aic_stmt aic_openai_stmts[];
/** The aichat-openai handler. */
int aic_openai_handler(request_rec *r);
/** Per process: the writer of the settlements the database could not take
 * when their call ended (aic_batch). */
void aic_openai_child_init(apr_pool_t *pchild, server_rec *s);

/* Imports and exports: chat exports of other services in, the library out. */
extern const aic_route aic_imports_routes[];
extern const aic_stmt aic_imports_stmts[];
/** Per process: the worker thread that runs import jobs. */
void aic_imports_child_init(apr_pool_t *pchild, server_rec *s);

/** Per process: the worker thread that runs summary jobs ("Summarise these",
 * api/history/aic_summary_jobs.c), and waking it when a job is queued. */
void aic_summary_jobs_child_init(apr_pool_t *pchild, server_rec *s);
void aic_summary_jobs_wake(void);

#endif
