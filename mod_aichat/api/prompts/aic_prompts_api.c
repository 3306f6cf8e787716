/* Favourite prompts: a title and a text, linked to any number of models of
 * the catalog; listed with the prompts for a conversation's models first.
 * Only their owner sees them. */
#include "prompts.h"

#include <http_protocol.h>
#include <apr_strings.h>

#include "core/aic_valid.h"

#define TITLE_MAX 200
#define TEXT_MAX  20000
#define TOOLS_MAX 50

static int not_found(request_rec *r)
{
    return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such prompt.", NULL);
}

/* body's tools (a list of model slugs) into *tools: OK, or the 422 sent. */
static int read_tools(aic_json **tools, request_rec *r, const aic_json *body)
{
    aic_json *v = aic_json_get(body, "tools");

    if (!aic_json_has(body, "tools")) {
        return OK;
    }
    if (aic_json_typeof(v) != AIC_JSON_ARRAY || aic_json_len(v) > TOOLS_MAX) {
        return aic_prompts_refused(r, "tools", "tools must be a list of at most 50 model slugs.");
    }
    for (apr_size_t i = 0; i < aic_json_len(v); i++) {
        if (!aic_valid_slug(aic_json_str(aic_json_at(v, i), r->pool))) {
            return aic_prompts_refused(
                r, "tools", apr_psprintf(r->pool, "tools[%d] must be a model's slug.", (int)i));
        }
    }
    *tools = v;
    return OK;
}

/* Create (id NULL) or change a prompt from body. */
static int save(aic_ctx *ctx, const char *id, const aic_json *body)
{
    request_rec *r = ctx->r;
    const char *title = NULL, *text = NULL, *code, *prompt, *old;
    aic_json *tools = NULL, *args = aic_json_object(r->pool), *res = NULL;
    apr_status_t rv;

    if (aic_refuse_unknown_fields(r, body, (const char *const[]){"title", "text", "tools", NULL},
                                  "prompt") != OK) {
        return OK;
    }
    if (!id && !aic_json_has(body, "title")) {
        return aic_prompts_invalid(r, "title", "title is required.");
    }
    if (!id && !aic_json_has(body, "text")) {
        return aic_prompts_invalid(r, "text", "text is required.");
    }
    if (aic_prompts_text(&title, r, body, "title", 1, TITLE_MAX, 0, 0) != OK ||
        aic_prompts_text(&text, r, body, "text", 1, TEXT_MAX, 1, 0) != OK ||
        read_tools(&tools, r, body) != OK) {
        return OK;
    }
    aic_json_set_str(args, "owner", ctx->user->id);
    aic_json_set_str(args, "id", id);
    aic_json_set_str(args, "title", title);
    aic_json_set_str(args, "text", text);
    if (tools) {
        aic_json_set(args, "tools", tools);
    }
    aic_json_set_int(args, "max", AIC_PROMPTS_MAX);
    if ((rv = aic_db_begin(ctx->db)) == APR_SUCCESS) {
        rv = aic_prompts_call(&res, ctx, "prompt_save", args);
    }
    if (rv != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return aic_send_failure(r, rv);
    }
    if ((code = aic_json_str(aic_json_get(res, "code"), r->pool))) {
        aic_db_rollback(ctx->db);
        if (!strcmp(code, "unknown_tool")) {
            return aic_prompts_invalid(r, "tools",
                                       apr_pstrcat(r->pool, "tools: no model has the slug ",
                                                   aic_json_str(aic_json_get(res, "slug"), r->pool),
                                                   ".", NULL));
        }
        if (!strcmp(code, "too_many")) {
            return aic_send_error(
                r, HTTP_CONFLICT, "too_many_prompts",
                apr_psprintf(r->pool, "You may keep at most %d prompts.", AIC_PROMPTS_MAX), NULL);
        }
        return not_found(r);
    }
    prompt = aic_json_dump(aic_json_get(res, "prompt"), r->pool);
    old = id ? aic_json_dump(aic_json_get(res, "old"), r->pool) : NULL;
    return aic_audit_commit_send(
        ctx->db, r, id ? HTTP_OK : HTTP_CREATED, id ? "update" : "create", "prompt",
        id ? id : aic_json_str(aic_json_get(aic_json_get(res, "prompt"), "id"), r->pool), old,
        prompt, prompt);
}

int aic_prompt_create(aic_ctx *ctx)
{
    aic_json *body = NULL;

    if (aic_read_json_object(&body, ctx->r) != OK) {
        return OK;
    }
    return save(ctx, NULL, body);
}

int aic_prompt_patch(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id");
    aic_json *body = NULL;

    if (aic_read_json_object(&body, ctx->r) != OK) {
        return OK;
    }
    if (!aic_valid_uuid(id)) {
        return not_found(ctx->r);
    }
    return save(ctx, id, body);
}

/* The query's tools (model slugs separated by commas, as a chat not yet
 * created has picked them) into *tools: OK, or the 422 sent. */
static int read_picked(aic_json **tools, request_rec *r, const char *list)
{
    char *copy = apr_pstrdup(r->pool, list), *last = NULL;
    int n = 0;

    *tools = aic_json_array(r->pool);
    for (char *slug = apr_strtok(copy, ",", &last); slug; slug = apr_strtok(NULL, ",", &last)) {
        if (++n > TOOLS_MAX || !aic_valid_slug(slug)) {
            return aic_prompts_refused(r, "tools",
                                       "tools must be at most 50 model slugs separated by commas.");
        }
        aic_json_push_str(*tools, slug);
    }
    return OK;
}

/* GET /prompts[?conversation_id= | ?tools=a,b]: the caller's prompts, those
 * for a model of the conversation (or of the models picked for a new chat)
 * first. */
int aic_prompt_list(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_table_t *q = aic_query_args(r);
    const char *conv = apr_table_get(q, "conversation_id"), *picked = apr_table_get(q, "tools");
    aic_json *args = aic_json_object(r->pool), *res = NULL, *out, *tools = NULL;
    apr_status_t rv;

    if (conv && *conv && !aic_valid_uuid(conv)) {
        return aic_prompts_invalid(r, "conversation_id",
                                   "conversation_id must be a conversation's id.");
    }
    if (picked && conv && *conv) {
        return aic_prompts_invalid(
            r, "tools", "Give conversation_id or tools (a new chat's models), not both.");
    }
    if (picked && read_picked(&tools, r, picked) != OK) {
        return OK;
    }
    aic_json_set_str(args, "owner", ctx->user->id);
    aic_json_set_str(args, "conversation", conv && *conv ? conv : NULL);
    if (tools) {
        aic_json_set(args, "tools", tools);
    }
    if ((rv = aic_prompts_call(&res, ctx, "prompt_list", args)) != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if (aic_json_str(aic_json_get(res, "code"), r->pool)) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such conversation.", NULL);
    }
    out = aic_json_object(r->pool);
    aic_json_set(out, "items", aic_json_get(res, "items"));
    return aic_send_json(r, HTTP_OK, out);
}

int aic_prompt_get(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id"), *json = NULL;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return not_found(ctx->r);
    }
    rv = aic_db_value(&json, ctx->db, "prompt_get", AIC_ARGS(id, ctx->user->id));
    if (rv == APR_NOTFOUND) {
        return not_found(ctx->r);
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(ctx->r, rv);
    }
    return aic_send_json_text(ctx->r, HTTP_OK, json);
}

int aic_prompt_delete(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id"), *json = NULL;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return not_found(ctx->r);
    }
    if ((rv = aic_db_begin(ctx->db)) == APR_SUCCESS) {
        rv = aic_db_value(&json, ctx->db, "prompt_delete", AIC_ARGS(id, ctx->user->id));
    }
    if (rv != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return rv == APR_NOTFOUND ? not_found(ctx->r) : aic_send_failure(ctx->r, rv);
    }
    return aic_audit_commit_send(ctx->db, ctx->r, HTTP_NO_CONTENT, "delete", "prompt", id, json,
                                 NULL, NULL);
}
