/* Conversations: create, list, read, change, delete and restore them;
 * invite and remove participants; read the visible thread and switch the
 * active branch. */
#include "aic_chat.h"
#include "httpd/aic_audit.h"

#include <apr_strings.h>

#include "core/aic_valid.h"

#define CONV_PAGE     20
#define CONV_PAGE_MAX 100

void aic_chat_conv_from_row(aic_chat_conv *c, request_rec *r, const char *id,
                            const char *const *cells, int with_json)
{
    c->id = id;
    c->json = with_json ? cells[0] : NULL;
    c->is_owner = cells[1][0] == '1';
    c->active_leaf = *cells[2] ? cells[2] : NULL;
    c->settings = aic_json_from(r->pool, cells[3]);
    c->system_prompt = *cells[4] ? cells[4] : NULL;
    c->title = cells[5];
}

/* The conversation id as its viewer may see it (with its JSON or not):
 * APR_NOTFOUND for others. */
static apr_status_t load_conversation(aic_chat_conv *c, aic_ctx *ctx, const char *id, int with_json)
{
    aic_rows rows;
    apr_status_t rv;
    const char *me = ctx->user->id;

    if (!aic_valid_uuid(id)) {
        return APR_NOTFOUND;
    }
    rv = with_json ? aic_db_select(&rows, ctx->db, "chat_conv", AIC_ARGS(me, me, id, me, me))
                   : aic_db_select(&rows, ctx->db, "chat_conv_head", AIC_ARGS(me, id, me, me));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows.nrows == 0) {
        return APR_NOTFOUND;
    }
    aic_chat_conv_from_row(c, ctx->r, id, rows.cells, with_json);
    return APR_SUCCESS;
}

/* Whether `tools` is a list of 1 to 8 entries (their slugs are checked by
 * resolve_tools); else the 422 is sent. */
static int tools_listed(request_rec *r, aic_json *tools)
{
    if (aic_json_typeof(tools) == AIC_JSON_ARRAY && aic_json_len(tools) >= 1 &&
        aic_json_len(tools) <= 8) {
        return 1;
    }
    aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                   "tools must be a list of 1 to 8 model slugs.", "tools");
    return 0;
}

/* Refuses the request's tools: the transaction rolled back, the 422 sent. */
static int refuse_tools(aic_ctx *ctx, const char *code, const char *message)
{
    aic_db_rollback(ctx->db);
    aic_send_error(ctx->r, HTTP_UNPROCESSABLE_ENTITY, code, message, "tools");
    return DONE;
}

/* The catalog ids of `tools` (a JSON list of 1 to 8 model slugs, checked by
 * the caller), each an active model whose provider can serve it, none twice,
 * inside the open transaction. OK, or DONE once rolled back and refused. */
static int resolve_tools(aic_ctx *ctx, aic_json *tools, apr_array_header_t *tool_ids)
{
    request_rec *r = ctx->r;
    apr_status_t rv;

    for (apr_size_t i = 0; i < aic_json_len(tools); i++) {
        const char *slug = aic_json_str(aic_json_at(tools, i), r->pool);
        aic_rows rows;
        const aic_provider_cfg *prov;

        if (!slug) {
            return refuse_tools(ctx, "invalid_field", "tools must be a list of model slugs.");
        }
        if ((rv = aic_db_select(&rows, ctx->db, "chat_tool_by_slug", AIC_ARGS(slug))) !=
            APR_SUCCESS) {
            aic_db_rollback(ctx->db);
            aic_send_failure(r, rv);
            return DONE;
        }
        if (rows.nrows == 0) {
            return refuse_tools(ctx, "unknown_tool",
                                apr_psprintf(r->pool, "There is no model '%s'.", slug));
        }
        prov = aic_config_provider(ctx->conf, rows.cells[1]);
        if (!prov || (rows.cells[2][0] == '1' && !prov->key)) {
            return refuse_tools(
                ctx, "tool_unavailable",
                apr_psprintf(r->pool, "The model '%s' is not available now.", slug));
        }
        for (int k = 0; k < tool_ids->nelts; k++) {
            if (!strcmp(APR_ARRAY_IDX(tool_ids, k, const char *), rows.cells[0])) {
                return refuse_tools(ctx, "invalid_field", "tools lists a model twice.");
            }
        }
        APR_ARRAY_PUSH(tool_ids, const char *) = rows.cells[0];
    }
    return OK;
}

/* The conversation's answering models, in this order (positions 0, 1, …). */
static apr_status_t add_models(aic_ctx *ctx, const char *id, const apr_array_header_t *tool_ids)
{
    apr_status_t rv = APR_SUCCESS;

    for (int i = 0; rv == APR_SUCCESS && i < tool_ids->nelts; i++) {
        rv = aic_db_exec(
            NULL, ctx->db, "chat_conv_add_model",
            AIC_ARGS(id, APR_ARRAY_IDX(tool_ids, i, const char *), apr_itoa(ctx->r->pool, i)));
    }
    return rv;
}

int aic_chat_conversation_create(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *body = NULL, *tools, *settings;
    const char *title = "", *system_prompt = NULL, *err, *id = NULL, *json = NULL;
    const char *settings_text = "{}";
    apr_array_header_t *tool_ids = apr_array_make(r->pool, 4, sizeof(const char *));
    apr_status_t rv;

    if (aic_read_json_object(&body, r) != OK) {
        return OK;
    }
    if (aic_refuse_unknown_fields(
            r, body, (const char *const[]){"tools", "title", "system_prompt", "settings", NULL},
            "conversation") != OK) {
        return OK;
    }
    tools = aic_json_get(body, "tools");
    if (!tools_listed(r, tools)) {
        return OK;
    }
    if (aic_json_has(body, "title") &&
        (err = aic_valid_text(&title, r->pool, aic_json_str(aic_json_get(body, "title"), r->pool),
                              0, 200, 0))) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_pstrcat(r->pool, "title ", err, ".", NULL), "title");
    }
    if (aic_json_has(body, "system_prompt") &&
        aic_json_typeof(aic_json_get(body, "system_prompt")) != AIC_JSON_NULL &&
        (err = aic_valid_text(&system_prompt, r->pool,
                              aic_json_str(aic_json_get(body, "system_prompt"), r->pool), 0, 20000,
                              1))) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_pstrcat(r->pool, "system_prompt ", err, ".", NULL),
                              "system_prompt");
    }
    if (aic_json_has(body, "settings")) {
        settings = aic_json_get(body, "settings");
        if (aic_json_typeof(settings) != AIC_JSON_OBJECT) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "settings must be a JSON object.", "settings");
        }
        settings_text = aic_json_dump(settings, r->pool);
    }
    if ((rv = aic_db_begin(ctx->db)) != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if (resolve_tools(ctx, tools, tool_ids) != OK) {
        return OK;
    }
    rv = aic_db_value(&id, ctx->db, "chat_conv_insert",
                      AIC_ARGS(ctx->user->id, title, system_prompt, settings_text));
    if (rv == APR_SUCCESS) {
        rv = add_models(ctx, id, tool_ids);
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_exec(NULL, ctx->db, "chat_participant_add",
                         AIC_ARGS(id, ctx->user->id, "admin"));
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_value(&json, ctx->db, "chat_conv_json", AIC_ARGS(ctx->user->id, id));
    }
    if (rv == APR_SUCCESS) {
        rv = aic_audit_change(ctx->db, r, HTTP_CREATED, "create", "conversation", id, NULL, json);
    }
    /* Popularity counts real use: one per conversation started, atomically.
     * Last before the commit: the model's row stays locked until then, and
     * every conversation started with that model waits for it. */
    for (int i = 0; rv == APR_SUCCESS && i < tool_ids->nelts; i++) {
        rv = aic_db_exec(NULL, ctx->db, "chat_popularity",
                         AIC_ARGS(APR_ARRAY_IDX(tool_ids, i, const char *)));
    }
    if (rv != APR_SUCCESS || (rv = aic_db_commit(ctx->db)) != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        aic_req_get(r)->audited = 0;
        return aic_send_failure(r, rv);
    }
    apr_table_setn(r->headers_out, "Location",
                   apr_pstrcat(r->pool, ctx->conf->base_uri, "/api/v1/conversations/", id, NULL));
    return aic_send_json_text(r, HTTP_CREATED, json);
}

const char *aic_chat_list_filter(aic_json **out, const char **field, apr_pool_t *p,
                                 apr_table_t *params)
{
    const char *archived = apr_table_get(params, "archived");
    const char *pinned = apr_table_get(params, "pinned");
    const char *deleted = apr_table_get(params, "deleted");
    const char *tool = apr_table_get(params, "tool"), *q = apr_table_get(params, "q");
    const char *tags = apr_table_get(params, "tags");
    const char *tags_mode = apr_table_get(params, "tags_mode");
    const char *has_notes = apr_table_get(params, "has_notes");
    const char *err;
    aic_json *filter, *tag_list = NULL;

#define BOOL_ARG(v) (!(v) || !strcmp((v), "true") || !strcmp((v), "false"))
    if (!BOOL_ARG(archived) || !BOOL_ARG(pinned) || !BOOL_ARG(deleted)) {
        *field = !BOOL_ARG(archived) ? "archived" : !BOOL_ARG(pinned) ? "pinned" : "deleted";
        return apr_psprintf(p, "%s must be true or false", *field);
    }
#undef BOOL_ARG
    if ((q && !aic_valid_utf8(q, 400)) || (tool && !aic_valid_slug(tool))) {
        *field = (q && !aic_valid_utf8(q, 400)) ? "q" : "tool";
        return apr_psprintf(p, "%s is not valid", *field);
    }
    /* Tags: the user's tag ids, any of them (or all with tags_mode=all). */
    if (tags && *tags) {
        apr_array_header_t *ids;

        if ((err = aic_valid_uuid_list(&ids, p, tags, 20))) {
            *field = "tags";
            return apr_pstrcat(p, "tags ", err, NULL);
        }
        tag_list = aic_json_array(p);
        for (int i = 0; i < ids->nelts; i++) {
            aic_json_push_str(tag_list, APR_ARRAY_IDX(ids, i, const char *));
        }
    }
    if (tags_mode && strcmp(tags_mode, "any") && strcmp(tags_mode, "all")) {
        *field = "tags_mode";
        return "tags_mode must be any or all";
    }
    if (has_notes && *has_notes && aic_valid_flag(has_notes) < 0) {
        *field = "has_notes";
        return "has_notes must be true or false (1 or 0)";
    }
    filter = aic_json_object(p);
    aic_json_set_str(filter, "archived", archived ? archived : "false");
    aic_json_set_str(filter, "pinned", pinned);
    aic_json_set_bool(filter, "deleted", deleted && !strcmp(deleted, "true"));
    aic_json_set_str(filter, "tool", tool);
    aic_json_set_str(filter, "pattern", q && *q ? aic_like_contains(p, q) : NULL);
    aic_json_set(filter, "tags", tag_list);
    aic_json_set_bool(filter, "tags_all", tags_mode && !strcmp(tags_mode, "all"));
    if (has_notes && *has_notes) {
        aic_json_set_bool(filter, "has_notes", aic_valid_flag(has_notes));
    }
    *out = filter;
    *field = NULL;
    return NULL;
}

int aic_chat_conversation_list(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_table_t *args = aic_query_args(r);
    const char *after = apr_table_get(args, "after");
    const char *text = NULL, *err, *field;
    aic_json *list;
    int limit = aic_valid_limit(apr_table_get(args, "limit"), CONV_PAGE, CONV_PAGE_MAX);
    apr_status_t rv;

    if (limit < 0) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field", "limit is not valid.",
                              "limit");
    }
    if ((err = aic_chat_list_filter(&list, &field, r->pool, args))) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_pstrcat(r->pool, err, ".", NULL), field);
    }
    /* The cursor the statement issues: "v", the last row's id and its last
     * activity. */
    if (aic_list_after(r, list, after, "v") != OK) {
        return OK;
    }
    aic_json_set_str(list, "viewer", ctx->user->id);
    aic_json_set_int(list, "limit", limit);
    rv = aic_db_value(&text, ctx->db, "chat_conv_list", AIC_ARGS(aic_json_dump(list, r->pool)));
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, text);
}

int aic_chat_conversation_get(aic_ctx *ctx)
{
    aic_chat_conv c;
    apr_status_t rv = load_conversation(&c, ctx, apr_table_get(ctx->params, "id"), 1);

    if (rv == APR_NOTFOUND) {
        return aic_send_error(ctx->r, HTTP_NOT_FOUND, "not_found", "No such conversation.", NULL);
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(ctx->r, rv);
    }
    return aic_send_json_text(ctx->r, HTTP_OK, c.json);
}

/* Begin a change of conversation id by its owner: lock it and read its JSON
 * into *json. Anything else (unknown or not visible: 404; a participant: 403
 * with `refusal`; the database: 503) is answered here, rolled back, and a
 * status other than OK returned. */
static int lock_as_owner(const char **json, aic_ctx *ctx, const char *id, const char *refusal)
{
    aic_rows rows;
    apr_status_t rv;
    const char *me = ctx->user->id;

    rows.nrows = 0;
    if (aic_valid_uuid(id) && ((rv = aic_db_begin(ctx->db)) != APR_SUCCESS ||
                               (rv = aic_db_select(&rows, ctx->db, "chat_conv_lock",
                                                   AIC_ARGS(me, me, id, me, me))) != APR_SUCCESS)) {
        aic_db_rollback(ctx->db);
        aic_send_failure(ctx->r, rv);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (rows.nrows == 0) {
        aic_db_rollback(ctx->db);
        aic_send_error(ctx->r, HTTP_NOT_FOUND, "not_found", "No such conversation.", NULL);
        return HTTP_NOT_FOUND;
    }
    if (rows.cells[1][0] != '1') {
        aic_db_rollback(ctx->db);
        aic_send_error(ctx->r, HTTP_FORBIDDEN, "forbidden", refusal, NULL);
        return HTTP_FORBIDDEN;
    }
    *json = rows.cells[0];
    return OK;
}

static int commit_change(aic_ctx *ctx, int status, const char *action, const char *id,
                         const char *old_json, const char *new_json)
{
    request_rec *r = ctx->r;
    apr_status_t rv =
        aic_audit_change(ctx->db, r, status, action, "conversation", id, old_json, new_json);

    if (rv != APR_SUCCESS || (rv = aic_db_commit(ctx->db)) != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        aic_req_get(r)->audited = 0;
        return aic_send_failure(r, rv);
    }
    if (status == HTTP_NO_CONTENT) {
        r->status = HTTP_NO_CONTENT;
        apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
        return OK;
    }
    return aic_send_json_text(r, status, new_json);
}

int aic_chat_conversation_patch(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id"), *old_json = NULL, *new_json = NULL, *err;
    aic_json *body = NULL, *old;
    const char *title, *system_prompt, *settings, *pinned, *archived;
    apr_status_t rv;

    if (aic_read_json_object(&body, r) != OK) {
        return OK;
    }
    if (aic_refuse_unknown_fields(
            r, body,
            (const char *const[]){"title", "system_prompt", "settings", "pinned", "archived", NULL},
            NULL) != OK) {
        return OK;
    }
    if (lock_as_owner(&old_json, ctx, id, "Only the owner may change the conversation.") != OK) {
        return OK;
    }
    old = aic_json_from(r->pool, old_json);
    title = aic_json_str(aic_json_get(old, "title"), r->pool);
    system_prompt = aic_json_str(aic_json_get(old, "system_prompt"), r->pool);
    settings = aic_json_dump(aic_json_get(old, "settings"), r->pool);
    pinned = aic_json_bool(aic_json_get(old, "pinned")) ? "true" : "false";
    archived = aic_json_bool(aic_json_get(old, "archived")) ? "true" : "false";
    err = NULL;
    if (aic_json_has(body, "title") &&
        (err = aic_valid_text(&title, r->pool, aic_json_str(aic_json_get(body, "title"), r->pool),
                              1, 200, 0))) {
        aic_db_rollback(ctx->db);
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_pstrcat(r->pool, "title ", err, ".", NULL), "title");
    }
    if (aic_json_has(body, "system_prompt")) {
        aic_json *v = aic_json_get(body, "system_prompt");

        if (aic_json_typeof(v) == AIC_JSON_NULL) {
            system_prompt = NULL;
        } else if ((err = aic_valid_text(&system_prompt, r->pool, aic_json_str(v, r->pool), 0,
                                         20000, 1))) {
            aic_db_rollback(ctx->db);
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  apr_pstrcat(r->pool, "system_prompt ", err, ".", NULL),
                                  "system_prompt");
        }
    }
    if (aic_json_has(body, "settings")) {
        if (aic_json_typeof(aic_json_get(body, "settings")) != AIC_JSON_OBJECT) {
            aic_db_rollback(ctx->db);
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "settings must be a JSON object.", "settings");
        }
        settings = aic_json_dump(aic_json_get(body, "settings"), r->pool);
    }
    if (aic_json_has(body, "pinned") || aic_json_has(body, "archived")) {
        const char *key = aic_json_has(body, "pinned") ? "pinned" : "archived";

        for (int k = 0; k < 2; k++, key = "archived") {
            aic_json *v = aic_json_get(body, key);

            if (!aic_json_has(body, key)) {
                continue;
            }
            if (aic_json_typeof(v) != AIC_JSON_BOOL) {
                aic_db_rollback(ctx->db);
                return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                      apr_psprintf(r->pool, "%s must be true or false.", key), key);
            }
            if (!strcmp(key, "pinned")) {
                pinned = aic_json_bool(v) ? "true" : "false";
            } else {
                archived = aic_json_bool(v) ? "true" : "false";
            }
        }
    }
    rv =
        aic_db_value(&new_json, ctx->db, "chat_conv_update",
                     AIC_ARGS(title, system_prompt, settings, pinned, archived, id, ctx->user->id));
    if (rv != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return aic_send_failure(r, rv);
    }
    return commit_change(ctx, HTTP_OK, "update", id, old_json, new_json);
}

/* PUT /conversations/{id}/models: the models that answer from now on, in
 * turn when several (the owner's choice; earlier answers keep their model).
 * How an imported chat whose model is not in the catalog is continued. */
int aic_chat_conversation_set_models(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id"), *old_json = NULL, *new_json = NULL;
    apr_array_header_t *tool_ids = apr_array_make(r->pool, 4, sizeof(const char *));
    aic_json *body = NULL, *tools;
    apr_status_t rv;

    if (aic_read_json_object(&body, r) != OK) {
        return OK;
    }
    if (aic_refuse_unknown_fields(r, body, (const char *const[]){"tools", NULL}, NULL) != OK) {
        return OK;
    }
    tools = aic_json_get(body, "tools");
    if (!tools_listed(r, tools)) {
        return OK;
    }
    if (lock_as_owner(&old_json, ctx, id, "Only the owner may choose the models.") != OK ||
        resolve_tools(ctx, tools, tool_ids) != OK) {
        return OK;
    }
    rv = aic_db_exec(NULL, ctx->db, "chat_conv_clear_models", AIC_ARGS(id));
    if (rv == APR_SUCCESS) {
        rv = add_models(ctx, id, tool_ids);
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_value(&new_json, ctx->db, "chat_conv_json", AIC_ARGS(ctx->user->id, id));
    }
    if (rv != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return aic_send_failure(r, rv);
    }
    return commit_change(ctx, HTTP_OK, "update", id, old_json, new_json);
}

int aic_chat_conversation_delete(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id"), *old_json = NULL;
    apr_status_t rv;

    if (lock_as_owner(&old_json, ctx, id, "Only the owner may delete the conversation.") != OK) {
        return OK;
    }
    if ((rv = aic_db_exec(NULL, ctx->db, "chat_conv_delete", AIC_ARGS(id))) != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return aic_send_failure(r, rv);
    }
    return commit_change(ctx, HTTP_NO_CONTENT, "delete", id, old_json, NULL);
}

int aic_chat_conversation_restore(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id"), *me = ctx->user->id, *new_json = NULL;
    aic_rows rows;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such deleted conversation.",
                              NULL);
    }
    if ((rv = aic_db_begin(ctx->db)) != APR_SUCCESS ||
        (rv = aic_db_select(&rows, ctx->db, "chat_conv_deleted", AIC_ARGS(me, id, me, me))) !=
            APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return aic_send_failure(r, rv);
    }
    if (rows.nrows == 0 || rows.cells[0][0] != '1') {
        aic_db_rollback(ctx->db);
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such deleted conversation.",
                              NULL);
    }
    if ((rv = aic_db_value(&new_json, ctx->db, "chat_conv_restore", AIC_ARGS(id, me))) !=
        APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return aic_send_failure(r, rv);
    }
    return commit_change(ctx, HTTP_OK, "restore", id, NULL, new_json);
}

int aic_chat_participant_add(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id"), *old_json = NULL, *new_json = NULL;
    const char *username, *user_id = NULL;
    aic_json *body = NULL;
    apr_status_t rv;

    if (aic_read_json_object(&body, r) != OK) {
        return OK;
    }
    username = aic_json_str(aic_json_get(body, "username"), r->pool);
    if (!username || !*username || strlen(username) > 255) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "username is required.", "username");
    }
    if (lock_as_owner(&old_json, ctx, id, "Only the owner may invite.") != OK) {
        return OK;
    }
    rv = aic_db_value(&user_id, ctx->db, "chat_user_by_name", AIC_ARGS(username));
    if (rv == APR_NOTFOUND) {
        aic_db_rollback(ctx->db);
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "unknown_user",
                              "There is no active user with this name.", "username");
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_exec(NULL, ctx->db, "chat_participant_add", AIC_ARGS(id, user_id, "member"));
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_value(&new_json, ctx->db, "chat_conv_json", AIC_ARGS(ctx->user->id, id));
    }
    if (rv != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return aic_send_failure(r, rv);
    }
    return commit_change(ctx, HTTP_OK, "invite", id, old_json, new_json);
}

int aic_chat_participant_remove(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id"), *old_json = NULL, *new_json = NULL;
    int removed = 0;
    apr_status_t rv;

    if (lock_as_owner(&old_json, ctx, id, "Only the owner may remove participants.") != OK) {
        return OK;
    }
    rv = aic_db_exec(&removed, ctx->db, "chat_participant_remove",
                     AIC_ARGS(id, apr_table_get(ctx->params, "username")));
    if (rv == APR_SUCCESS && !removed) {
        aic_db_rollback(ctx->db);
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such participant.", NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_value(&new_json, ctx->db, "chat_conv_json", AIC_ARGS(ctx->user->id, id));
    }
    if (rv != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return aic_send_failure(r, rv);
    }
    return commit_change(ctx, HTTP_OK, "uninvite", id, old_json, new_json);
}

int aic_chat_thread(aic_ctx *ctx)
{
    aic_chat_conv c;
    const char *text = NULL;
    apr_status_t rv = load_conversation(&c, ctx, apr_table_get(ctx->params, "id"), 0);

    if (rv == APR_NOTFOUND) {
        return aic_send_error(ctx->r, HTTP_NOT_FOUND, "not_found", "No such conversation.", NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_value(&text, ctx->db, "chat_thread", AIC_ARGS(c.id));
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(ctx->r, rv);
    }
    return aic_send_json_text(ctx->r, HTTP_OK, text);
}

/* PUT /conversations/{id}/active {"message_id"}: show the branch through that
 * message (down to its newest leaf). */
int aic_chat_set_active(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_chat_conv c;
    aic_json *body = NULL;
    const char *msg_id, *leaf = NULL, *text = NULL;
    aic_rows rows;
    apr_status_t rv;

    if (aic_read_json_object(&body, r) != OK) {
        return OK;
    }
    msg_id = aic_json_str(aic_json_get(body, "message_id"), r->pool);
    if ((rv = load_conversation(&c, ctx, apr_table_get(ctx->params, "id"), 0)) == APR_NOTFOUND) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such conversation.", NULL);
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if (!aic_valid_uuid(msg_id)) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "message_id must be a message of this conversation.", "message_id");
    }
    if ((rv = aic_db_select(&rows, ctx->db, "chat_message_in_conv", AIC_ARGS(msg_id, c.id))) !=
        APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if (rows.nrows == 0) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "message_id must be a message of this conversation.", "message_id");
    }
    if ((rv = aic_db_begin(ctx->db)) == APR_SUCCESS) {
        rv = aic_db_value(&leaf, ctx->db, "chat_set_active", AIC_ARGS(msg_id, c.id));
    }
    if (rv == APR_SUCCESS) {
        rv = aic_audit_change(
            ctx->db, r, HTTP_OK, "switch_branch", "conversation", c.id,
            apr_psprintf(r->pool, "{\"active_leaf_id\":%s%s%s}", c.active_leaf ? "\"" : "",
                         c.active_leaf ? c.active_leaf : "null", c.active_leaf ? "\"" : ""),
            apr_psprintf(r->pool, "{\"active_leaf_id\":\"%s\"}", leaf));
    }
    if (rv == APR_SUCCESS && (rv = aic_db_commit(ctx->db)) == APR_SUCCESS) {
        rv = aic_db_value(&text, ctx->db, "chat_thread", AIC_ARGS(c.id));
    }
    if (rv != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        aic_req_get(r)->audited = 0;
        return aic_send_failure(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, text);
}
