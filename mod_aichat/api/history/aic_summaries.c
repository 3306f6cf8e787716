/* The AI summary of a conversation: its visible thread, as a transcript,
 * given to the model AIChatSummaryModel names, charged to the one who asks
 * as a turn's answer is (aic_chat_call_run: reserved before the call, given
 * back when it fails); the summary is stored with its model and time, and
 * the reservation settled, in one statement. Made again on each request.
 * "Summarise these" makes the same call for each conversation of a summary
 * job (aic_summary_jobs.c). */
#include "history.h"

#include <apr_strings.h>

#include "core/aic_provider.h"
#include "core/aic_valid.h"

/* The newest part of a long conversation is what the model reads (bytes). */
#define TRANSCRIPT_MAX (64 * 1024)

static const char SYSTEM[] =
    "You summarise conversations between people and AI models. Write a short summary "
    "(two to four sentences) of what the conversation below is about and what it concluded, "
    "in the language of the conversation, as plain text without a heading.";

/* The thread (chat_context's items, root first) as one user message: each
 * message "Name: text", the newest TRANSCRIPT_MAX bytes of them. */
static apr_array_header_t *transcript(apr_pool_t *p, const char *title, const aic_json *thread)
{
    apr_array_header_t *msgs = apr_array_make(p, 1, sizeof(aic_chat_msg));
    apr_array_header_t *parts = apr_array_make(p, 16, sizeof(const char *));
    apr_size_t total = 0;
    aic_chat_msg *m;
    const char *text;

    for (apr_size_t i = aic_json_len(thread); i-- > 0 && total < TRANSCRIPT_MAX;) {
        aic_json *item = aic_json_at(thread, i);
        const char *type = aic_json_str(aic_json_get(item, "sender_type"), p);
        const char *tool = aic_json_str(aic_json_get(item, "tool"), p);
        const char *content = aic_json_str(aic_json_get(item, "content"), p);
        const char *status = aic_json_str(aic_json_get(item, "status"), p);
        const char *part;
        apr_size_t len;

        if (!content || !*content || (status && !strcmp(status, "error"))) {
            continue;
        }
        part = apr_pstrcat(p, type && !strcmp(type, "ai") ? (tool ? tool : "Assistant") : "User",
                           ": ", content, "\n\n", NULL);
        len = strlen(part);
        if (total + len > TRANSCRIPT_MAX) {
            apr_size_t room = TRANSCRIPT_MAX - total, skip = len - room;

            /* Keep the end of the oldest part kept, from a character's start. */
            while (skip < len && ((unsigned char)part[skip] & 0xC0) == 0x80) {
                skip++;
            }
            part += skip;
            len -= skip;
        }
        total += len;
        APR_ARRAY_PUSH(parts, const char *) = part;
    }
    /* Oldest first, joined once. */
    for (int i = 0, j = parts->nelts - 1; i < j; i++, j--) {
        const char *t = APR_ARRAY_IDX(parts, i, const char *);

        APR_ARRAY_IDX(parts, i, const char *) = APR_ARRAY_IDX(parts, j, const char *);
        APR_ARRAY_IDX(parts, j, const char *) = t;
    }
    text = apr_array_pstrcat(p, parts, 0);
    m = apr_array_push(msgs);
    m->role = "user";
    m->content = apr_pstrcat(p, "Conversation",
                             title && *title ? apr_pstrcat(p, " \"", title, "\"", NULL) : "",
                             ":\n\n", text, NULL);
    return msgs;
}

void aic_summary_call(aic_chat_call *call, apr_pool_t *p, server_rec *s, const aic_json *src,
                      const char *conv)
{
    memset(call, 0, sizeof(*call));
    call->model_json = aic_json_dump(aic_json_get(src, "model"), p);
    call->system = SYSTEM;
    call->messages =
        transcript(p, aic_json_str(aic_json_get(src, "title"), p), aic_json_get(src, "thread"));
    call->note = apr_pstrcat(p, "summary of ", conv, NULL);
    call->pool = p;
    call->s = s;
}

int aic_summary_create(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *conv = apr_table_get(ctx->params, "id"), *text = NULL, *code;
    aic_json *args = aic_json_object(r->pool), *src;
    aic_chat_call call;
    apr_status_t rv;

    if (!aic_valid_uuid(conv)) {
        return aic_history_not_found(ctx, "conversation");
    }
    aic_json_set_str(args, "viewer", ctx->user->id);
    aic_json_set_str(args, "conv", conv);
    aic_json_set_str(args, "slug", ctx->conf->summary_model);
    if (!ctx->conf->summary_model) {
        /* Still 404 for a conversation the user may not see. */
        aic_json_set_str(args, "slug", "");
    }
    rv = aic_db_value(&text, ctx->db, "history_summary_source",
                      AIC_ARGS(aic_json_dump(args, r->pool)));
    if (rv == APR_SUCCESS &&
        aic_json_typeof(src = aic_json_from(r->pool, text)) != AIC_JSON_OBJECT) {
        rv = APR_EGENERAL;
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if ((code = aic_json_str(aic_json_get(src, "code"), r->pool))) {
        if (!strcmp(code, "summary_unavailable") && !ctx->conf->summary_model) {
            return aic_send_error(r, HTTP_SERVICE_UNAVAILABLE, code,
                                  "This server has no summary model (AIChatSummaryModel).", NULL);
        }
        return aic_history_refuse(ctx, src, code);
    }
    aic_summary_call(&call, r->pool, r->server, src, conv);
    if (aic_chat_call_run(&call, ctx) != APR_SUCCESS) {
        if (call.retry_after) {
            apr_table_setn(r->err_headers_out, "Retry-After", call.retry_after);
        }
        return aic_send_error(r, call.status, call.code, call.message, NULL);
    }
    args = aic_json_object(r->pool);
    aic_json_set_str(args, "conv", conv);
    aic_json_set_str(args, "summary", call.text);
    aic_json_set_str(args, "model", ctx->conf->summary_model);
    aic_json_set_int(args, "reserved", call.reserved);
    aic_json_set_int(args, "used", call.used);
    return aic_history_answer(ctx, "history_summary_store", args, HTTP_OK, "summarise",
                              "conversation");
}
