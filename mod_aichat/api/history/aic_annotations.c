/* Annotations: a note on a message, tied to a range of its text. Its
 * position is {"start", "end", "quote"}: code points into the text as the
 * reader saw it and the text quoted, so that the note can be found again
 * when the display changes. Everyone who takes part in the conversation sees
 * its notes; their author alone changes or deletes them. */
#include "history.h"

#include <apr_strings.h>

#include "core/aic_valid.h"

#define NOTE_MAX     10000
#define QUOTE_MAX    2000
#define POSITION_MAX 10000000

/* The position in v, checked, into *out (a new object with only its keys);
 * NULL, or what is wrong with it. */
static const char *valid_position(aic_json **out, apr_pool_t *p, const aic_json *v)
{
    aic_json *start = aic_json_get(v, "start"), *end = aic_json_get(v, "end");
    const char *quote = aic_json_str(aic_json_get(v, "quote"), p);
    apr_size_t chars;

    if (aic_json_typeof(v) != AIC_JSON_OBJECT ||
        aic_json_unknown_key(v, (const char *const[]){"start", "end", "quote", NULL}, p)) {
        return "position must be an object with start, end and quote";
    }
    if (aic_json_typeof(start) != AIC_JSON_INT || aic_json_typeof(end) != AIC_JSON_INT ||
        aic_json_int(start) < 0 || aic_json_int(end) <= aic_json_int(start) ||
        aic_json_int(end) > POSITION_MAX) {
        return "position.start and position.end must be offsets with start before end";
    }
    if (!quote || !aic_valid_utf8(quote, QUOTE_MAX * 4) || !(chars = aic_utf8_length(quote)) ||
        chars > QUOTE_MAX) {
        return apr_psprintf(p, "position.quote must be the text quoted, 1 to %d characters",
                            QUOTE_MAX);
    }
    *out = aic_json_object(p);
    aic_json_set_int(*out, "start", aic_json_int(start));
    aic_json_set_int(*out, "end", aic_json_int(end));
    aic_json_set_str(*out, "quote", quote);
    return NULL;
}

/* Read note and position from body into args (each only when present,
 * unless required). OK, or DONE once the error is sent. */
static int read_fields(aic_json *args, aic_ctx *ctx, const aic_json *body, int required)
{
    request_rec *r = ctx->r;
    const char *note, *err;
    aic_json *position = NULL;

    if (required || aic_json_has(body, "note")) {
        if ((err = aic_valid_text(&note, r->pool, aic_json_str(aic_json_get(body, "note"), r->pool),
                                  1, NOTE_MAX, 1))) {
            aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                           apr_pstrcat(r->pool, "note ", err, ".", NULL), "note");
            return DONE;
        }
        aic_json_set_str(args, "note", note);
    }
    if (required || aic_json_has(body, "position")) {
        if ((err = valid_position(&position, r->pool, aic_json_get(body, "position")))) {
            aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                           apr_pstrcat(r->pool, err, ".", NULL), "position");
            return DONE;
        }
        aic_json_set(args, "position", position);
    }
    return OK;
}

int aic_annotation_list(aic_ctx *ctx)
{
    const char *conv = apr_table_get(ctx->params, "id");
    aic_json *args = aic_json_object(ctx->r->pool);

    if (!aic_valid_uuid(conv)) {
        return aic_history_not_found(ctx, "conversation");
    }
    aic_json_set_str(args, "conv", conv);
    return aic_history_answer(ctx, "history_annotation_list", args, HTTP_OK, NULL, NULL);
}

int aic_annotation_create(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *conv = apr_table_get(ctx->params, "id"), *message;
    aic_json *body = NULL, *args = aic_json_object(r->pool);

    if (aic_read_json_object(&body, r) != OK) {
        return OK;
    }
    if (aic_refuse_unknown_fields(r, body,
                                  (const char *const[]){"message_id", "position", "note", NULL},
                                  "annotation") != OK) {
        return OK;
    }
    if (!aic_valid_uuid(conv)) {
        return aic_history_not_found(ctx, "conversation");
    }
    message = aic_json_str(aic_json_get(body, "message_id"), r->pool);
    if (!aic_valid_uuid(message)) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "message_id must be a message of this conversation.", "message_id");
    }
    if (read_fields(args, ctx, body, 1) != OK) {
        return OK;
    }
    aic_json_set_str(args, "conv", conv);
    aic_json_set_str(args, "message", message);
    return aic_history_answer(ctx, "history_annotation_create", args, HTTP_CREATED, "create",
                              "annotation");
}

int aic_annotation_update(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id");
    aic_json *body = NULL, *args = aic_json_object(r->pool);

    if (aic_read_json_object(&body, r) != OK) {
        return OK;
    }
    if (aic_refuse_unknown_fields(r, body, (const char *const[]){"position", "note", NULL}, NULL) !=
        OK) {
        return OK;
    }
    if (!aic_valid_uuid(id)) {
        return aic_history_not_found(ctx, "annotation");
    }
    if (read_fields(args, ctx, body, 0) != OK) {
        return OK;
    }
    aic_json_set_str(args, "id", id);
    return aic_history_answer(ctx, "history_annotation_update", args, HTTP_OK, "update",
                              "annotation");
}

int aic_annotation_delete(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id");
    aic_json *args = aic_json_object(ctx->r->pool);

    if (!aic_valid_uuid(id)) {
        return aic_history_not_found(ctx, "annotation");
    }
    aic_json_set_str(args, "id", id);
    return aic_history_answer(ctx, "history_annotation_delete", args, HTTP_NO_CONTENT, "delete",
                              "annotation");
}
