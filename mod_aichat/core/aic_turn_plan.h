/* The turn planner: what a chat turn computes before and around its
 * provider calls, without I/O: the context a model is shown (trimmed, with
 * its token estimate), the credits reserved for it (an upper bound of what
 * it may use, and the window check), the
 * character limit and the cut it makes, the system prompt with the group
 * instructions, and the order in which a group's models answer. The driver
 * (api/chat/aic_chat_turn.c) reads and writes; this file only computes. */
#ifndef AIC_TURN_PLAN_H
#define AIC_TURN_PLAN_H

#include <apr_pools.h>
#include <apr_tables.h>

/** The character limit of a group's answers when the conversation sets none. */
#define AIC_TURN_GROUP_CHAR_LIMIT 280

/** One message of the thread a model is asked about. */
typedef struct {
    const char *type;    /**< "user" or "ai" */
    const char *tool_id; /**< the answering model's id; NULL for a user's message */
    const char *tool;    /**< its display name */
    const char *content; /**< NULL or "" is left out of the context */
    const char *status;  /**< "error" is left out of the context; NULL counts as complete */
} aic_turn_item;

/**
 * The context shown to the model model_id: the newest max_messages items of
 * thread (aic_turn_item, root first), without empty or failed ones, as
 * aic_chat_msg (core/aic_provider.h) allocated from p. Another model's
 * answer (a group chat) becomes a user message "[Name answered]: text".
 * *tokens receives the estimate of the context's text (aic_tokens_estimate).
 */
apr_array_header_t *aic_turn_context(apr_int64_t *tokens, apr_pool_t *p,
                                     const apr_array_header_t *thread, int max_messages,
                                     const char *model_id);

/** Tokens a provider may add to each message of a request besides its text
 * (role, separators; the system prompt counts as a message), and once more
 * for the start of the answer. */
#define AIC_TURN_MESSAGE_TOKENS 8

/**
 * An upper bound of the input tokens of a request with the system prompt
 * system (NULL or "" for none) and messages (aic_chat_msg): the UTF-8 bytes
 * of every text, since a byte-level BPE tokenizer never makes more tokens
 * than the bytes it reads, plus AIC_TURN_MESSAGE_TOKENS per message and for
 * the answer's start.
 */
apr_int64_t aic_turn_input_bound(const char *system, const apr_array_header_t *messages);

/**
 * The credits to reserve for one model's answer into *reserve: the bound of
 * everything it is sent (input_bound, aic_turn_input_bound), at most its
 * window (window <= 0: no window known; a provider refuses a larger input,
 * and a refused call costs nothing), plus its max_tokens (max_out). Returns
 * 0, or -1 when the new message alone (own_tokens, an estimate) and max_out
 * do not fit in the window.
 */
int aic_turn_reserve(apr_int64_t *reserve, apr_int64_t input_bound, apr_int64_t own_tokens,
                     apr_int64_t max_out, apr_int64_t window);

/**
 * The character limit of the answers: the conversation's (configured, NULL
 * when it sets none), else AIC_TURN_GROUP_CHAR_LIMIT in a group, else none.
 * A limit <= 0 means none.
 */
apr_int64_t aic_turn_char_limit(const apr_int64_t *configured, int group);

/** text cut to at most limit code points (UTF-8 safe); text itself when it
 * is short enough; a copy from p otherwise. */
const char *aic_turn_cut(apr_pool_t *p, const char *text, apr_int64_t limit);

/** The length of the longest start of text (len bytes of UTF-8) that is at
 * most room bytes and ends between two code points. */
apr_size_t aic_turn_fit_bytes(const char *text, apr_size_t len, apr_size_t room);

/**
 * The system prompt of the index-th model to answer (display_name): the
 * conversation's (system, NULL for none), then in a group the group
 * instructions (a later model is asked to add a different perspective), and
 * the character limit when there is one (limit > 0). NULL when all of it is
 * empty.
 */
const char *aic_turn_system(apr_pool_t *p, const char *system, int group, const char *display_name,
                            int index, apr_int64_t limit);

/** The index of the fixed first responder (fixed, a slug) among the n
 * slugs, or -1 when there is none or it is not among them. */
int aic_turn_fixed_first(const char *const *slugs, int n, const char *fixed);

/** The answering order of n models when the first-th answers first: the
 * others follow in turn, wrapping around (order[i] is a model's index). */
void aic_turn_order(int *order, int n, int first);

#endif
