/* Using a template: its variables filled with values (core/aic_template).
 * A preview shows the filled prompt and counts nothing; a use counts one
 * (atomically: usage_count + 1 in the database) and either gives the filled
 * prompt back (for the composer) or, with a conversation, sends it there as
 * a chat turn: the message records the template version, the use is counted
 * in the transaction that stores it, and the template's system prompt, when
 * it has one, is that turn's. */
#include "prompts.h"

#include <http_protocol.h>
#include <apr_strings.h>

#include "core/aic_template.h"
#include "core/aic_valid.h"

/* A live template the caller may use. */
typedef struct {
    aic_json *json;
    const char *version_id;
    aic_template *compiled;
} usable;

/* OK with u filled, or the error sent and its status (never OK) returned. */
static int load(usable *u, aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id"), *me = ctx->user->id;
    aic_template_error err;
    aic_rows rows;
    apr_status_t rv = APR_SUCCESS;

    if (!aic_valid_uuid(id) || ((rv = aic_db_select(&rows, ctx->db, "template_use_load",
                                                    AIC_ARGS(me, id, me))) == APR_SUCCESS &&
                                rows.nrows == 0)) {
        aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such template.", NULL);
        return HTTP_NOT_FOUND;
    }
    if (rv != APR_SUCCESS) {
        aic_send_failure(r, rv);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    u->json = aic_json_from(r->pool, rows.cells[0]);
    u->version_id = rows.cells[1];
    /* What was stored compiled when it was saved. */
    if (aic_template_compile(&u->compiled, &err, r->pool,
                             aic_json_str(aic_json_get(u->json, "content"), r->pool),
                             aic_json_get(u->json, "variables")) != APR_SUCCESS) {
        aic_send_failure(r, APR_EGENERAL);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* The filled prompt of u with body's values: OK with *out, or the 422 sent. */
static int fill(const char **out, aic_ctx *ctx, const usable *u, const aic_json *body)
{
    aic_template_error err;

    if (aic_template_fill(out, &err, ctx->r->pool, u->compiled, aic_json_get(body, "values"),
                          (apr_size_t)ctx->conf->max_message_chars) != APR_SUCCESS) {
        aic_send_error(ctx->r, HTTP_UNPROCESSABLE_ENTITY, err.code, err.message, err.field);
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    return OK;
}

/* The answer of a preview, or of a use without a conversation. */
static aic_json *filled(request_rec *r, const usable *u, const char *prompt)
{
    aic_json *out = aic_json_object(r->pool), *tmpl = aic_json_object(r->pool);

    aic_json_set_str(out, "prompt", prompt);
    aic_json_set(out, "system_prompt", aic_json_get(u->json, "system_prompt"));
    aic_json_set(out, "model", aic_json_get(u->json, "model"));
    aic_json_set(tmpl, "id", aic_json_get(u->json, "id"));
    aic_json_set(tmpl, "version", aic_json_get(u->json, "version"));
    aic_json_set(tmpl, "name", aic_json_get(u->json, "name"));
    aic_json_set(out, "template", tmpl);
    return out;
}

/* POST /templates/{id}/preview {"values"}: the filled prompt; nothing counted. */
int aic_template_preview(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *body = NULL;
    const char *prompt = NULL;
    usable u;

    if (aic_read_json_object(&body, r) != OK ||
        aic_refuse_unknown_fields(r, body, (const char *const[]){"values", NULL}, "preview") !=
            OK ||
        load(&u, ctx) != OK || fill(&prompt, ctx, &u, body) != OK) {
        return OK;
    }
    return aic_send_json(r, HTTP_OK, filled(r, &u, prompt));
}

/* POST /templates/{id}/use {"values", "conversation_id"?, "stream"?}. */
int aic_template_use(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *body = NULL, *out, *v;
    const char *prompt = NULL, *conv = NULL, *count = NULL;
    aic_chat_message m = {NULL, -1, NULL, NULL};
    usable u;
    apr_status_t rv;

    if (aic_read_json_object(&body, r) != OK ||
        aic_refuse_unknown_fields(
            r, body, (const char *const[]){"values", "conversation_id", "stream", NULL}, "use") !=
            OK) {
        return OK;
    }
    v = aic_json_get(body, "conversation_id");
    if (aic_json_typeof(v) != AIC_JSON_NULL && !aic_valid_uuid(conv = aic_json_str(v, r->pool))) {
        return aic_prompts_invalid(r, "conversation_id",
                                   "conversation_id must be a conversation's id, or null.");
    }
    v = aic_json_get(body, "stream");
    if (aic_json_has(body, "stream") && aic_json_typeof(v) != AIC_JSON_BOOL) {
        return aic_prompts_invalid(r, "stream", "stream must be true or false.");
    }
    if (load(&u, ctx) != OK || fill(&prompt, ctx, &u, body) != OK) {
        return OK;
    }
    if (conv) {
        m.content = prompt;
        m.stream = aic_json_typeof(v) == AIC_JSON_BOOL ? aic_json_bool(v) : -1;
        m.template_version = u.version_id;
        m.system_prompt = aic_json_str(aic_json_get(u.json, "system_prompt"), r->pool);
        return aic_chat_send(ctx, conv, &m);
    }
    if ((rv = aic_db_value(&count, ctx->db, "template_used", AIC_ARGS(u.version_id))) !=
        APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    out = filled(r, &u, prompt);
    aic_json_set_int(out, "usage_count", count ? apr_atoi64(count) : 0);
    return aic_send_json(r, HTTP_OK, out);
}
