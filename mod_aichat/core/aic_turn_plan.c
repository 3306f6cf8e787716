#include "aic_turn_plan.h"

#include <string.h>

#include <apr_strings.h>

#include "aic_provider.h"

apr_array_header_t *aic_turn_context(apr_int64_t *tokens, apr_pool_t *p,
                                     const apr_array_header_t *thread, int max_messages,
                                     const char *model_id)
{
    apr_array_header_t *msgs = apr_array_make(p, 16, sizeof(aic_chat_msg));
    int start = 0;

    *tokens = 0;
    if (max_messages >= 0 && thread->nelts > max_messages) {
        start = thread->nelts - max_messages; /* the oldest are trimmed; the system prompt stays */
    }
    for (int i = start; i < thread->nelts; i++) {
        const aic_turn_item *item = &APR_ARRAY_IDX(thread, i, aic_turn_item);
        aic_chat_msg *msg;

        if (!item->content || !*item->content || (item->status && !strcmp(item->status, "error"))) {
            continue;
        }
        msg = apr_array_push(msgs);
        if (!strcmp(item->type, "user")) {
            msg->role = "user";
            msg->content = item->content;
        } else if (item->tool_id && strcmp(item->tool_id, model_id)) {
            /* Another model's answer in a group chat: attributed, as if said to us. */
            msg->role = "user";
            msg->content = apr_psprintf(p, "[%s answered]: %s", item->tool, item->content);
        } else {
            msg->role = "assistant";
            msg->content = item->content;
        }
        *tokens += aic_tokens_estimate(msg->content);
    }
    return msgs;
}

apr_int64_t aic_turn_input_bound(const char *system, const apr_array_header_t *messages)
{
    apr_int64_t bound = AIC_TURN_MESSAGE_TOKENS;

    if (system && *system) {
        bound += (apr_int64_t)strlen(system) + AIC_TURN_MESSAGE_TOKENS;
    }
    for (int i = 0; i < messages->nelts; i++) {
        const aic_chat_msg *msg = &APR_ARRAY_IDX(messages, i, aic_chat_msg);

        bound += (apr_int64_t)strlen(msg->content) + AIC_TURN_MESSAGE_TOKENS;
    }
    return bound;
}

int aic_turn_reserve(apr_int64_t *reserve, apr_int64_t input_bound, apr_int64_t own_tokens,
                     apr_int64_t max_out, apr_int64_t window)
{
    if (window > 0 && own_tokens + max_out > window) {
        return -1;
    }
    if (window > 0 && input_bound > window) {
        input_bound = window; /* a provider takes no more than its window */
    }
    *reserve = input_bound + max_out;
    return 0;
}

apr_int64_t aic_turn_char_limit(const apr_int64_t *configured, int group)
{
    if (configured) {
        return *configured;
    }
    return group ? AIC_TURN_GROUP_CHAR_LIMIT : 0;
}

const char *aic_turn_cut(apr_pool_t *p, const char *text, apr_int64_t limit)
{
    apr_int64_t count = 0;

    for (const char *c = text; *c; c++) {
        if ((*c & 0xC0) != 0x80 && count++ == limit) {
            return apr_pstrmemdup(p, text, (apr_size_t)(c - text));
        }
    }
    return text;
}

apr_size_t aic_turn_fit_bytes(const char *text, apr_size_t len, apr_size_t room)
{
    if (len <= room) {
        return len;
    }
    /* Back off the continuation bytes of a code point that would be split. */
    while (room > 0 && ((unsigned char)text[room] & 0xC0) == 0x80) {
        room--;
    }
    return room;
}

const char *aic_turn_system(apr_pool_t *p, const char *system, int group, const char *display_name,
                            int index, apr_int64_t limit)
{
    const char *sep = system ? "\n\n" : "";

    system = system ? system : "";
    if (group) {
        return apr_psprintf(
            p, "%s%sYou are %s in a group conversation with other AI models.%s%s", system, sep,
            display_name,
            index > 0 ? " Other models have already answered: add a different perspective "
                        "rather than repeating them."
                      : "",
            limit > 0
                ? apr_psprintf(p, " Answer in at most %" APR_INT64_T_FMT " characters.", limit)
                : "");
    }
    if (limit > 0) {
        return apr_psprintf(p, "%s%sAnswer in at most %" APR_INT64_T_FMT " characters.", system,
                            sep, limit);
    }
    return *system ? system : NULL;
}

int aic_turn_fixed_first(const char *const *slugs, int n, const char *fixed)
{
    for (int i = 0; fixed && i < n; i++) {
        if (slugs[i] && !strcmp(slugs[i], fixed)) {
            return i;
        }
    }
    return -1;
}

void aic_turn_order(int *order, int n, int first)
{
    if (first < 0) {
        first = 0;
    }
    for (int i = 0; i < n; i++) {
        order[i] = (first + i) % n;
    }
}
