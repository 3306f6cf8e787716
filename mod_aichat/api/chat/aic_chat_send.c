/* Sending a message and regenerating an answer: read and check the
 * request and what the conversation holds, then run the turn
 * (aic_chat_turn.c). */
#include "aic_chat.h"

#include <apr_strings.h>

#include "core/aic_valid.h"

void aic_chat_model_from_json(aic_chat_model *m, apr_pool_t *p, const aic_json *obj)
{
    m->id = aic_json_str(aic_json_get(obj, "id"), p);
    m->slug = aic_json_str(aic_json_get(obj, "slug"), p);
    m->display_name = aic_json_str(aic_json_get(obj, "display_name"), p);
    m->provider = aic_json_str(aic_json_get(obj, "provider"), p);
    m->model_id = aic_json_str(aic_json_get(obj, "model_id"), p);
    m->capabilities = aic_json_get(obj, "capabilities");
    m->defaults = aic_json_get(obj, "defaults");
}

apr_int64_t aic_chat_json_int(const aic_json *obj, const char *key, apr_int64_t def)
{
    aic_json *v = aic_json_get(obj, key);

    return aic_json_typeof(v) == AIC_JSON_INT ? aic_json_int(v) : def;
}

static int wants_stream(request_rec *r, const aic_json *body)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    aic_json *v = aic_json_get(body, "stream");

    if (aic_json_typeof(v) == AIC_JSON_BOOL) {
        return aic_json_bool(v);
    }
    return accept && ap_strstr_c(accept, "text/event-stream") != NULL;
}

/* The conversation's active models from their JSON (chat_send_load). OK, or
 * DONE once the error is sent. */
static int load_models(aic_chat_turn *t, const char *text)
{
    request_rec *r = t->ctx->r;
    aic_json *list = text ? aic_json_from(r->pool, text) : NULL;
    apr_size_t n = aic_json_len(list);

    if (text && aic_json_typeof(list) != AIC_JSON_ARRAY) {
        aic_send_failure(r, APR_EGENERAL);
        return DONE;
    }
    t->models = apr_array_make(r->pool, (int)n + 1, sizeof(aic_chat_model));
    for (apr_size_t i = 0; i < n; i++) {
        aic_chat_model_from_json(apr_array_push(t->models), r->pool, aic_json_at(list, i));
    }
    if (!n) {
        aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "no_models",
                       "This conversation has no active model.", NULL);
        return DONE;
    }
    return OK;
}

/* Where a message goes, and what its body got wrong that is told only
 * once the conversation is found. */
typedef struct {
    int use_leaf;          /* after the active leaf, else after parent_id */
    const char *parent_id; /* NULL for a root */
    int bad_parent, bad_stream;
} send_target;

/* Load the conversation (checking the parent), check the message, run the turn. */
static int send_message(aic_ctx *ctx, const char *id, const aic_chat_message *m,
                        const send_target *to)
{
    request_rec *r = ctx->r;
    const char *me = ctx->user->id, *content = NULL, *err;
    const char *use_leaf = to->use_leaf ? "true" : "false";
    aic_chat_conv c;
    aic_chat_turn t;
    aic_rows rows;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such conversation.", NULL);
    }
    rv = aic_db_select(
        &rows, ctx->db, "chat_send_load",
        AIC_ARGS(use_leaf, to->bad_parent ? NULL : to->parent_id, id, me, me, me, use_leaf));
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if (rows.nrows == 0) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such conversation.", NULL);
    }
    aic_chat_conv_from_row(&c, r, id, rows.cells, 0);
    if (m->system_prompt) {
        c.system_prompt = m->system_prompt;
    }
    if (!m->content) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "content must be a string.", "content");
    }
    if ((err = aic_valid_text(&content, r->pool, m->content, 1,
                              (apr_size_t)ctx->conf->max_message_chars, 1))) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY,
                              strstr(err, "at most") ? "message_too_long" : "invalid_field",
                              apr_pstrcat(r->pool, "content ", err, ".", NULL), "content");
    }
    if (to->bad_stream) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "stream must be true or false.", "stream");
    }
    if (to->bad_parent || rows.cells[6][0] != '1') {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "parent_id must be a message of this conversation or null.",
                              "parent_id");
    }
    memset(&t, 0, sizeof(t));
    t.ctx = ctx;
    t.conv = &c;
    t.stream = m->stream >= 0 ? m->stream : wants_stream(r, NULL);
    t.content = content;
    t.parent_id = to->use_leaf ? c.active_leaf : to->parent_id;
    t.template_version = m->template_version;
    if (load_models(&t, rows.cells[7]) != OK) {
        return OK;
    }
    return aic_chat_turn_run(&t, rows.cells[8]);
}

int aic_chat_send(aic_ctx *ctx, const char *id, const aic_chat_message *m)
{
    send_target to = {1, NULL, 0, 0};

    return send_message(ctx, id, m, &to);
}

int aic_chat_message_send(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *body = NULL, *v;
    aic_chat_message m = {NULL, 0, NULL, NULL};
    send_target to = {1, NULL, 0, 0};

    if (aic_read_json_object(&body, r) != OK) {
        return OK;
    }
    if (aic_refuse_unknown_fields(r, body,
                                  (const char *const[]){"content", "parent_id", "stream", NULL},
                                  "message") != OK) {
        return OK;
    }
    /* The parent: the active leaf, none (null) or a message of the
     * conversation (checked as the conversation is read). */
    if (aic_json_has(body, "parent_id")) {
        to.use_leaf = 0;
        v = aic_json_get(body, "parent_id");
        if (aic_json_typeof(v) != AIC_JSON_NULL) {
            to.parent_id = aic_json_str(v, r->pool);
            to.bad_parent = !aic_valid_uuid(to.parent_id);
        }
    }
    v = aic_json_get(body, "content");
    m.content = aic_json_typeof(v) == AIC_JSON_STRING ? aic_json_str(v, r->pool) : NULL;
    to.bad_stream = aic_json_has(body, "stream") &&
                    aic_json_typeof(aic_json_get(body, "stream")) != AIC_JSON_BOOL;
    m.stream = wants_stream(r, body);
    return send_message(ctx, apr_table_get(ctx->params, "id"), &m, &to);
}

int aic_chat_message_regenerate(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id"), *me = ctx->user->id;
    aic_chat_conv c;
    aic_chat_turn t;
    aic_json *body = NULL, *tool;
    aic_rows rows;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such message.", NULL);
    }
    /* The body is optional: only a non-empty one is read (and must be JSON). */
    if (apr_atoi64(apr_table_get(r->headers_in, "Content-Length")
                       ? apr_table_get(r->headers_in, "Content-Length")
                       : "0") > 0 ||
        apr_table_get(r->headers_in, "Transfer-Encoding")) {
        if (aic_read_json_object(&body, r) != OK) {
            return OK;
        }
    }
    if ((rv = aic_db_select(&rows, ctx->db, "chat_regenerate_load", AIC_ARGS(me, id, me, me))) !=
        APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if (rows.nrows == 0) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such message.", NULL);
    }
    if (strcmp(rows.cells[7], "ai") || !*rows.cells[9]) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "not_an_answer",
                              "Only a model's answer can be regenerated.", NULL);
    }
    aic_chat_conv_from_row(&c, r, rows.cells[6], rows.cells, 0);
    if (!(tool = aic_json_from(r->pool, rows.cells[10]))) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "tool_unavailable",
                              "The model of this answer no longer exists.", NULL);
    }
    memset(&t, 0, sizeof(t));
    t.ctx = ctx;
    t.conv = &c;
    t.stream = wants_stream(r, body);
    t.regenerated = id;
    t.parent_id = *rows.cells[8] ? rows.cells[8] : NULL;
    t.models = apr_array_make(r->pool, 1, sizeof(aic_chat_model));
    aic_chat_model_from_json(apr_array_push(t.models), r->pool, tool);
    return aic_chat_turn_run(&t, rows.cells[11]);
}
