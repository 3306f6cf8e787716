/* Conversations and messages: create, list, change, delete and restore
 * conversations; send a message and have the conversation's models answer
 * (streamed as Server-Sent Events or as one JSON answer); regenerate; switch
 * branches; invite users; credits reserved before and settled after each
 * provider call. */
#include "api/aic_api.h"
#include "httpd/aic_audit.h"
#include "httpd/aic_batch.h"
#include "httpd/aic_curl.h"

#include <http_protocol.h>
#include <http_log.h>
#include <apr_strings.h>

#include "core/aic_ids.h"
#include "core/aic_provider.h"
#include "core/aic_valid.h"

APLOG_USE_MODULE(aichat);

#define CONV_PAGE          20
#define CONV_PAGE_MAX      100
#define DEFAULT_MAX_TOKENS 1024
#define GROUP_CHAR_LIMIT   280
/* How often the writer tries turns the database could not give back. */
#define ABANDONED_EVERY apr_time_from_sec(1)

/* A model (ai_tools t) as a turn needs it: JSON that model_from_json reads. */
#define CHAT_MODEL_JSON                                                                            \
    "json_build_object('id', t.id, 'slug', t.slug, 'display_name', t.display_name,"                \
    " 'provider', t.provider, 'model_id', t.model_id, 'capabilities', t.capabilities,"             \
    " 'defaults', t.default_settings)"
#define CHAT_VISIBLE      AIC_SQL_VISIBLE("c")
#define CHAT_FINISH_NARGS 10
/* What a send needs before it begins, in one round trip: the conversation
 * (as chat_conv_head), whether the explicit parent (when the first argument
 * is false: the second, or none) is a message of it, its active models in
 * order (JSON) and the thread up to the parent (chat_context; NULL without
 * a parent). */
#define CHAT_SEND_LOAD_SQL                                                                         \
    "WITH c AS (SELECT c.*, CASE WHEN %s::boolean THEN c.active_leaf_id ELSE %s::uuid END"         \
    " AS parent FROM conversations c WHERE c.id = %s::uuid AND c.deleted_at IS NULL"               \
    " AND " CHAT_VISIBLE ")"                                                                       \
    " SELECT '', (c.owner_id = %s::uuid)::int, coalesce(c.active_leaf_id::text, ''),"              \
    " c.settings::text, coalesce(c.system_prompt, ''), c.title, ok.parent_ok::int,"                \
    " (SELECT json_agg(" CHAT_MODEL_JSON " ORDER BY m.position)"                                   \
    " FROM conversation_ai_models m JOIN ai_tools t ON t.id = m.tool_id"                           \
    " WHERE m.conversation_id = c.id AND m.is_active)::text,"                                      \
    " CASE WHEN ok.parent_ok AND c.parent IS NOT NULL THEN chat_context(c.parent)::text END"       \
    " FROM c CROSS JOIN LATERAL (SELECT %s::boolean OR c.parent IS NULL OR EXISTS"                 \
    " (SELECT 1 FROM messages p WHERE p.id = c.parent AND p.conversation_id = c.id)"               \
    " AS parent_ok) ok"
/* The same for regenerating a message: the conversation (as
 * chat_conv_head), the message's conversation, sender type, parent and
 * model, that model (JSON) and, for an answer, the thread up to its parent. */
#define CHAT_REGENERATE_LOAD_SQL                                                                   \
    "SELECT '', (c.owner_id = %s::uuid)::int, coalesce(c.active_leaf_id::text, ''),"               \
    " c.settings::text, coalesce(c.system_prompt, ''), c.title, m.conversation_id::text,"          \
    " m.sender_type, coalesce(m.parent_message_id::text, ''),"                                     \
    " coalesce(m.sender_tool_id::text, ''),"                                                       \
    " (SELECT " CHAT_MODEL_JSON " FROM ai_tools t WHERE t.id = m.sender_tool_id)::text,"           \
    " CASE WHEN m.sender_type = 'ai' AND m.parent_message_id IS NOT NULL"                          \
    " THEN chat_context(m.parent_message_id)::text END"                                            \
    " FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = %s::uuid"      \
    " AND c.deleted_at IS NULL AND " CHAT_VISIBLE
/* The audit row of a turn that began (b): its status and new values (x)
 * from C, its entity the user's message or the regenerated answer. */
#define CHAT_TURN_AUDIT                                                                            \
    AIC_AUDIT_INSERT_SELECT_SQL("x.status", "coalesce(b.user_message_id::text, x.regenerated)",    \
                                "x.new_values", "FROM b, x WHERE b.code IS NULL")
/* What a turn writes before the provider call and the request's audit row
 * (migrations 011 and 012) in one statement: the audit status, new values
 * and entity id of a regeneration, then chat_turn_reserve's arguments. */
#define CHAT_TURN_RESERVE_SQL                                                                      \
    "WITH x AS (SELECT %s::int AS status, %s::jsonb AS new_values, %s::text AS regenerated),"      \
    " b AS (SELECT * FROM chat_turn_reserve_json(%s::uuid, %s::uuid, %s::uuid, %s, %s::bigint,"    \
    " %s::uuid, %s::boolean, %s::int, %s::int)),"                                                  \
    " a AS (" CHAT_TURN_AUDIT ")"                                                                  \
    " SELECT b.code, b.user_message_id::text, b.answer_id::text, b.first_index::text,"             \
    " b.user_message_json FROM b"

/* The list's filters on a conversation c (CHAT_LIST_ARGS): archived, pinned,
 * a model's slug, a title pattern, the cursor (last activity in microseconds
 * since the epoch, id). */
#define CHAT_LIST_FILTERS                                                                          \
    " AND c.archived = %s::boolean AND (%s::boolean IS NULL OR c.pinned = %s::boolean)"            \
    " AND (%s::text IS NULL OR EXISTS (SELECT 1 FROM conversation_ai_models m"                     \
    " JOIN ai_tools t ON t.id = m.tool_id WHERE m.conversation_id = c.id AND t.slug = %s))"        \
    " AND (%s::text IS NULL OR c.title ILIKE %s)"                                                  \
    " AND (%s::text IS NULL OR (c.last_message_at, c.id) < (timestamptz 'epoch'"                   \
    " + %s::bigint * interval '1 microsecond', %s::uuid))"
/* Each half of the list reads conversations by an index (CHAT_LIST_FROM,
 * its FROM and WHERE, then CHAT_LIST_HALF): live and filtered, newest
 * first, at most a page (the filters' arguments, then the page size). */
#define CHAT_LIST_FROM "(SELECT c AS conv, c.id, c.last_message_at FROM "
#define CHAT_LIST_HALF                                                                             \
    " AND c.deleted_at IS NULL" CHAT_LIST_FILTERS                                                  \
    " ORDER BY c.last_message_at DESC, c.id DESC LIMIT %s::int)"
/* A page of the list: the user's own conversations and those they take part
 * in as a member (the owner is the only admin), each half from its index,
 * then the page of both, as JSON with the cursor of the next page. */
#define CHAT_CONV_LIST_SQL                                                                         \
    "WITH page AS (SELECT u.conv, u.id, u.last_message_at FROM (" CHAT_LIST_FROM                   \
    "conversations c WHERE c.owner_id = %s::uuid" CHAT_LIST_HALF " UNION ALL " CHAT_LIST_FROM      \
    "conversation_participants p JOIN conversations c ON c.id = p.conversation_id"                 \
    " WHERE p.user_id = %s::uuid AND p.role = 'member' AND c.owner_id <> p.user_id" CHAT_LIST_HALF \
    ") u ORDER BY u.last_message_at DESC, u.id DESC LIMIT %s::int)"                                \
    " SELECT json_build_object('items', coalesce(json_agg(conversation_json(conv, %s::uuid)"       \
    " ORDER BY last_message_at DESC, id DESC), '[]'::json), 'next', CASE WHEN count(*) ="          \
    " %s::int THEN (SELECT encode(convert_to('v|' || id || '|' || (extract(epoch FROM"             \
    " last_message_at) * 1000000)::bigint, 'UTF8'), 'hex') FROM page"                              \
    " ORDER BY last_message_at, id LIMIT 1) END)::text FROM page"

const aic_stmt aic_chat_stmts[] = {
    {"chat_conv",
     "SELECT conversation_json(c, %s::uuid)::text, (c.owner_id = %s::uuid)::int,"
     " coalesce(c.active_leaf_id::text, ''), c.settings::text, coalesce(c.system_prompt, ''),"
     " c.title FROM conversations c WHERE c.id = %s::uuid AND c.deleted_at IS NULL"
     " AND " AIC_SQL_VISIBLE("c")},
    /* The same without the conversation's JSON, for those that do not answer it. */
    {"chat_conv_head",
     "SELECT '', (c.owner_id = %s::uuid)::int,"
     " coalesce(c.active_leaf_id::text, ''), c.settings::text, coalesce(c.system_prompt, ''),"
     " c.title FROM conversations c WHERE c.id = %s::uuid AND c.deleted_at IS NULL"
     " AND " AIC_SQL_VISIBLE("c")},
    {"chat_conv_deleted",
     "SELECT (c.owner_id = %s::uuid)::int FROM conversations c WHERE c.id = %s::uuid"
     " AND c.deleted_at IS NOT NULL AND " AIC_SQL_VISIBLE("c") " FOR UPDATE"},
    {"chat_conv_lock", "SELECT conversation_json(c, %s::uuid)::text, (c.owner_id = %s::uuid)::int"
                       " FROM conversations c WHERE c.id = %s::uuid AND c.deleted_at IS NULL"
                       " AND " AIC_SQL_VISIBLE("c") " FOR UPDATE"},
    {"chat_send_load", CHAT_SEND_LOAD_SQL},
    {"chat_regenerate_load", CHAT_REGENERATE_LOAD_SQL},
    {"chat_tool_by_slug", "SELECT id::text, provider, api_key_required::int FROM ai_tools"
                          " WHERE slug = %s AND is_active"},
    {"chat_conv_insert", "INSERT INTO conversations (owner_id, title, system_prompt, settings)"
                         " VALUES (%s::uuid, %s, %s, %s::jsonb) RETURNING id::text"},
    {"chat_conv_add_model",
     "INSERT INTO conversation_ai_models (conversation_id, tool_id, position)"
     " VALUES (%s::uuid, %s::uuid, %s::int)"},
    {"chat_popularity", "UPDATE ai_tools SET popularity = popularity + 1 WHERE id = %s::uuid"},
    {"chat_participant_add",
     "INSERT INTO conversation_participants (conversation_id, user_id, role)"
     " VALUES (%s::uuid, %s::uuid, %s) ON CONFLICT DO NOTHING"},
    {"chat_participant_remove",
     "DELETE FROM conversation_participants WHERE conversation_id = %s::uuid"
     " AND user_id = (SELECT id FROM users WHERE username = %s) AND role <> 'admin'"},
    {"chat_user_by_name", "SELECT id::text FROM users WHERE username = %s AND is_active"},
    {"chat_conv_json",
     "SELECT conversation_json(c, %s::uuid)::text FROM conversations c WHERE c.id = %s::uuid"},
    {"chat_conv_list", CHAT_CONV_LIST_SQL},
    {"chat_conv_update",
     "UPDATE conversations SET title = %s, system_prompt = %s, settings = %s::jsonb,"
     " pinned = %s::boolean, archived = %s::boolean, updated_at = now() WHERE id = %s::uuid"
     " RETURNING conversation_json(conversations, %s::uuid)::text"},
    {"chat_conv_delete",
     "UPDATE conversations SET deleted_at = now(), status = 'deleted', updated_at = now()"
     " WHERE id = %s::uuid"},
    {"chat_conv_restore",
     "UPDATE conversations SET deleted_at = NULL, status = 'active', updated_at = now()"
     " WHERE id = %s::uuid RETURNING conversation_json(conversations, %s::uuid)::text"},
    {"chat_message_in_conv", "SELECT sender_type, coalesce(sender_tool_id::text, ''),"
                             " coalesce(parent_message_id::text, '') FROM messages"
                             " WHERE id = %s::uuid AND conversation_id = %s::uuid"},
    {"chat_message_insert",
     "INSERT INTO messages (conversation_id, parent_message_id, sender_type, sender_user_id,"
     " sender_tool_id, content, status, is_first_responder) VALUES (%s::uuid, %s::uuid, %s,"
     " %s::uuid, %s::uuid, %s, %s, %s::boolean) RETURNING id::text"},
    {"chat_turn_reserve", CHAT_TURN_RESERVE_SQL},
    {"chat_turn_record", "SELECT 1 FROM chat_turn_record(%s::uuid, %s::uuid, %s, %s::uuid,"
                         " %s::uuid, %s::uuid, %s::boolean)"},
    /* Turns the database failed, given back (migration 013): one now, or a
     * batch of them from the writer once the database is back (aic_batch). */
    {"chat_turns_abandon", "SELECT chat_turns_abandon(%s::json)::text"},
    /* CHAT_FINISH_NARGS arguments, the first of chat_answer_complete's. */
    {"chat_answer_finish",
     "SELECT answer_json, balance::text FROM chat_answer_finish(%s::uuid, %s, %s, %s, %s::int,"
     " %s::int, %s::boolean, %s::int, %s::uuid, %s::bigint)"},
    {"chat_answer_complete",
     "SELECT answer_json, balance::text FROM chat_answer_complete(%s::uuid, %s, %s, %s, %s::int,"
     " %s::int, %s::boolean, %s::int, %s::uuid, %s::bigint, %s::uuid, %s::uuid, %s, %s::uuid,"
     " %s::uuid, %s::boolean)"},
    {"chat_thread",
     "SELECT json_build_object('items', coalesce(json_agg(message_json(msg) ORDER BY depth DESC),"
     " '[]'::json))::text FROM message_path((SELECT active_leaf_id FROM conversations"
     " WHERE id = %s::uuid))"},
    {"chat_set_active",
     "UPDATE conversations SET active_leaf_id = message_newest_leaf(%s::uuid), updated_at = now()"
     " WHERE id = %s::uuid RETURNING active_leaf_id::text"},
    {NULL, NULL}};

/* ---- small helpers ---- */

/* The conversation as its viewer may see it: APR_NOTFOUND for others. */
typedef struct {
    const char *id;
    const char *json;
    int is_owner;
    const char *active_leaf; /* NULL when empty */
    aic_json *settings;
    const char *system_prompt; /* NULL when none */
    const char *title;
} conversation;

/* From the first six columns of a chat_conv or chat_conv_head row. */
static void conversation_from_row(conversation *c, request_rec *r, const char *id,
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

static apr_status_t load_conversation(conversation *c, aic_ctx *ctx, const char *id, int with_json)
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
    conversation_from_row(c, ctx->r, id, rows.cells, with_json);
    return APR_SUCCESS;
}

/* A model of a conversation with what a provider call needs. */
typedef struct {
    const char *id, *slug, *display_name, *provider, *model_id;
    aic_json *capabilities, *defaults;
} model;

/* From a CHAT_MODEL_JSON object. */
static void model_from_json(model *m, request_rec *r, const aic_json *obj)
{
    m->id = aic_json_str(aic_json_get(obj, "id"), r->pool);
    m->slug = aic_json_str(aic_json_get(obj, "slug"), r->pool);
    m->display_name = aic_json_str(aic_json_get(obj, "display_name"), r->pool);
    m->provider = aic_json_str(aic_json_get(obj, "provider"), r->pool);
    m->model_id = aic_json_str(aic_json_get(obj, "model_id"), r->pool);
    m->capabilities = aic_json_get(obj, "capabilities");
    m->defaults = aic_json_get(obj, "defaults");
}

static apr_int64_t json_int_or(const aic_json *obj, const char *key, apr_int64_t def)
{
    aic_json *v = aic_json_get(obj, key);

    return aic_json_typeof(v) == AIC_JSON_INT ? aic_json_int(v) : def;
}

/* ---- conversations ---- */

static int conversation_create(aic_ctx *ctx)
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
    if (aic_json_typeof(tools) != AIC_JSON_ARRAY || aic_json_len(tools) < 1 ||
        aic_json_len(tools) > 8) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "tools must be a list of 1 to 8 model slugs.", "tools");
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
    for (apr_size_t i = 0; i < aic_json_len(tools); i++) {
        const char *slug = aic_json_str(aic_json_at(tools, i), r->pool);
        aic_rows rows;
        const aic_provider_cfg *prov;

        if (!slug) {
            aic_db_rollback(ctx->db);
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "tools must be a list of model slugs.", "tools");
        }
        if ((rv = aic_db_select(&rows, ctx->db, "chat_tool_by_slug", AIC_ARGS(slug))) !=
            APR_SUCCESS) {
            aic_db_rollback(ctx->db);
            return aic_send_failure(r, rv);
        }
        if (rows.nrows == 0) {
            aic_db_rollback(ctx->db);
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "unknown_tool",
                                  apr_psprintf(r->pool, "There is no model '%s'.", slug), "tools");
        }
        prov = aic_config_provider(ctx->conf, rows.cells[1]);
        if (!prov || (rows.cells[2][0] == '1' && !prov->key)) {
            aic_db_rollback(ctx->db);
            return aic_send_error(
                r, HTTP_UNPROCESSABLE_ENTITY, "tool_unavailable",
                apr_psprintf(r->pool, "The model '%s' is not available now.", slug), "tools");
        }
        for (int k = 0; k < tool_ids->nelts; k++) {
            if (!strcmp(APR_ARRAY_IDX(tool_ids, k, const char *), rows.cells[0])) {
                aic_db_rollback(ctx->db);
                return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                      "tools lists a model twice.", "tools");
            }
        }
        APR_ARRAY_PUSH(tool_ids, const char *) = rows.cells[0];
    }
    rv = aic_db_value(&id, ctx->db, "chat_conv_insert",
                      AIC_ARGS(ctx->user->id, title, system_prompt, settings_text));
    for (int i = 0; rv == APR_SUCCESS && i < tool_ids->nelts; i++) {
        const char *tool_id = APR_ARRAY_IDX(tool_ids, i, const char *);

        rv = aic_db_exec(NULL, ctx->db, "chat_conv_add_model",
                         AIC_ARGS(id, tool_id, apr_itoa(r->pool, i)));
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

static int conversation_list(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_table_t *args = aic_query_args(r);
    const char *archived = apr_table_get(args, "archived"), *pinned = apr_table_get(args, "pinned");
    const char *tool = apr_table_get(args, "tool"), *q = apr_table_get(args, "q");
    const char *after = apr_table_get(args, "after"), *cursor_id = NULL, *cursor_ts = NULL;
    const char *pattern = NULL, *text = NULL, *me = ctx->user->id, *lim, *cursor;
    int limit = aic_valid_limit(apr_table_get(args, "limit"), CONV_PAGE, CONV_PAGE_MAX);
    apr_status_t rv;

#define BOOL_ARG(v) (!(v) || !strcmp((v), "true") || !strcmp((v), "false"))
    if (limit < 0) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field", "limit is not valid.",
                              "limit");
    }
    if (!BOOL_ARG(archived) || !BOOL_ARG(pinned)) {
        const char *field = BOOL_ARG(archived) ? "pinned" : "archived";

        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_psprintf(r->pool, "%s must be true or false.", field), field);
    }
#undef BOOL_ARG
    if ((q && !aic_valid_utf8(q, 400)) || (tool && !aic_valid_slug(tool))) {
        const char *field = (q && !aic_valid_utf8(q, 400)) ? "q" : "tool";

        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_psprintf(r->pool, "%s is not valid.", field), field);
    }
    if (after && *after) {
        const char *c = aic_hex_decode(r->pool, after);

        if (!c || strncmp(c, "v|", 2) || strlen(c) < 40 || c[38] != '|' ||
            !aic_valid_uuid(apr_pstrmemdup(r->pool, c + 2, 36)) || !aic_valid_id_cursor(c + 39)) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "after is not a cursor "
                                  "from this list.",
                                  "after");
        }
        cursor_id = apr_pstrmemdup(r->pool, c + 2, 36);
        cursor_ts = c + 39;
    }
    if (q && *q) {
        pattern = aic_like_contains(r->pool, q);
    } else {
        q = NULL;
    }
    lim = apr_itoa(r->pool, limit);
    archived = archived ? archived : "false";
    cursor = cursor_id ? "1" : NULL;
    /* The user's own conversations and those they take part in, each from
     * its index, newest first; then the page of both. */
#define HALF_ARGS                                                                                  \
    me, archived, pinned, pinned, tool, tool, q, pattern, cursor, cursor_ts, cursor_id, lim
    rv = aic_db_value(&text, ctx->db, "chat_conv_list",
                      AIC_ARGS(HALF_ARGS, HALF_ARGS, lim, me, lim));
#undef HALF_ARGS
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, text);
}

static int conversation_get(aic_ctx *ctx)
{
    conversation c;
    apr_status_t rv = load_conversation(&c, ctx, apr_table_get(ctx->params, "id"), 1);

    if (rv == APR_NOTFOUND) {
        return aic_send_error(ctx->r, HTTP_NOT_FOUND, "not_found", "No such conversation.", NULL);
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(ctx->r, rv);
    }
    return aic_send_json_text(ctx->r, HTTP_OK, c.json);
}

/* Lock a conversation the viewer may change (owner, or an admin participant
 * for pin/archive/title); 404 for others. */
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

static int conversation_patch(aic_ctx *ctx)
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

static int conversation_delete(aic_ctx *ctx)
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

static int conversation_restore(aic_ctx *ctx)
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

static int participant_add(aic_ctx *ctx)
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

static int participant_remove(aic_ctx *ctx)
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

/* ---- messages ---- */

static int thread(aic_ctx *ctx)
{
    conversation c;
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
static int set_active(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    conversation c;
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

/* One turn: a user message (or a regeneration) and the answers. */
typedef struct {
    aic_ctx *ctx;
    conversation *conv;
    apr_array_header_t *models; /* model, in answering order */
    int group;
    int stream;
    int client_gone;
    const char *user_message_id;   /* NULL for a regeneration */
    const char *user_message_json; /* idem; from the reservation */
    const char *title;             /* from the user message, for an untitled conversation */
    const char *parent_id;         /* what the first answer answers */
    const char *first_answer_id;   /* the first answer's id, chosen as the turn begins */
    int recorded;                  /* the first answer's row: 1 recorded, -1 failed */
    int db_failed_at;              /* the model whose answer the database failed, or -1 */
    const char *failed_answer_id;  /* that model's answer, when it has an id */
    apr_int64_t *reserved;         /* credits reserved for each model, in models' order */
    const char *balance;           /* credits after the last settlement */
    aic_json *answers;             /* for the JSON answer */
    apr_array_header_t *thread;    /* thread_item: what the next answer answers, root first */
    apr_pool_t *ev_pool;           /* one event's JSON and text, cleared once it is sent */
    apr_bucket_brigade *out;       /* the events on their way to the client */
    const char *first_error_code, *first_error_message, *retry_after;
    int first_error_status;
} turn;

/* Map a provider failure to the client's status. */
static int error_status(const char *code)
{
    if (!strcmp(code, "provider_rate_limited")) {
        return HTTP_TOO_MANY_REQUESTS;
    }
    if (!strcmp(code, "provider_timeout")) {
        return HTTP_GATEWAY_TIME_OUT;
    }
    return HTTP_BAD_GATEWAY;
}

/* Write one Server-Sent Event and flush it; notices a client that went away.
 * Nothing of it stays in the request pool: a stream of any length holds one
 * event's memory, not every event's. */
static apr_status_t sse(turn *t, const char *event, aic_json *data)
{
    request_rec *r = t->ctx->r;
    apr_status_t rv;

    if (t->client_gone) {
        return APR_ECONNABORTED;
    }
    if (!t->out) {
        t->out = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    }
    rv = apr_brigade_printf(t->out, NULL, NULL, "event: %s\ndata: %s\n\n", event,
                            aic_json_dump(data, t->ev_pool));
    APR_BRIGADE_INSERT_TAIL(t->out, apr_bucket_flush_create(r->connection->bucket_alloc));
    if (rv == APR_SUCCESS) {
        rv = ap_pass_brigade(r->output_filters, t->out);
    }
    apr_brigade_cleanup(t->out);
    apr_pool_clear(t->ev_pool);
    if (rv != APR_SUCCESS || r->connection->aborted) {
        t->client_gone = 1;
        return APR_ECONNABORTED;
    }
    return APR_SUCCESS;
}

typedef struct {
    turn *t;
    const char *message_id;
    const model *m;
    int first; /* the turn's first answer, whose row is recorded once its text flows */
} delta_ctx;

static apr_status_t record_turn(turn *t, const model *m);

static apr_status_t on_delta(void *arg, const char *text, apr_size_t len)
{
    delta_ctx *d = arg;
    apr_pool_t *p = d->t->ev_pool;
    aic_json *ev;
    apr_status_t rv;

    if (!d->t->stream) {
        return APR_SUCCESS;
    }
    ev = aic_json_object(p);
    aic_json_set_str(ev, "message_id", d->message_id);
    aic_json_set_str(ev, "model", d->m->slug);
    aic_json_set_str(ev, "text", apr_pstrmemdup(p, text, len));
    rv = sse(d->t, "delta", ev);
    if (rv == APR_SUCCESS && d->first && !d->t->recorded) {
        rv = record_turn(d->t, d->m);
    }
    return rv;
}

typedef struct {
    aic_provider_stream *parser;
    delta_ctx *d;
} body_ctx;

static apr_status_t on_body(void *arg, const char *data, apr_size_t len)
{
    body_ctx *b = arg;

    return aic_provider_stream_feed(b->parser, data, len);
}

static int client_gone(void *arg)
{
    body_ctx *b = arg;

    return b->d->t->client_gone || b->d->t->ctx->r->connection->aborted;
}

/* One message of the thread a model is asked about. */
typedef struct {
    const char *type, *tool_id, *tool, *content, *status;
} thread_item;

/* The thread up to the turn's parent (chat_context, read with the
 * conversation; NULL without a parent), once per turn; the turn's own
 * messages are appended to it as they are stored (thread_add), so that no
 * model's context is read from the database again. */
static apr_status_t thread_load(turn *t, const char *text)
{
    request_rec *r = t->ctx->r;
    aic_json *path;

    t->thread = apr_array_make(r->pool, 16, sizeof(thread_item));
    if (!text) {
        return APR_SUCCESS;
    }
    if (!(path = aic_json_from(r->pool, text))) {
        return APR_EGENERAL;
    }
    for (apr_size_t i = 0; i < aic_json_len(path); i++) {
        aic_json *item = aic_json_at(path, i);
        thread_item *it = apr_array_push(t->thread);

        it->type = aic_json_str(aic_json_get(item, "sender_type"), r->pool);
        it->tool_id = aic_json_str(aic_json_get(item, "tool_id"), r->pool);
        it->tool = aic_json_str(aic_json_get(item, "tool"), r->pool);
        it->content = aic_json_str(aic_json_get(item, "content"), r->pool);
        it->status = aic_json_str(aic_json_get(item, "status"), r->pool);
    }
    return APR_SUCCESS;
}

static void thread_add(turn *t, const char *type, const model *m, const char *content,
                       const char *status)
{
    thread_item *it = apr_array_push(t->thread);

    it->type = type;
    it->tool_id = m ? m->id : NULL;
    it->tool = m ? m->display_name : NULL;
    it->content = content;
    it->status = status;
}

/* The context for a model: the turn's thread, newest messages kept. */
static apr_array_header_t *context_messages(turn *t, const model *m, apr_int64_t *tokens)
{
    request_rec *r = t->ctx->r;
    apr_array_header_t *msgs = apr_array_make(r->pool, 16, sizeof(aic_chat_msg));
    apr_size_t n = (apr_size_t)t->thread->nelts, start = 0;
    int max = t->ctx->conf->max_context_messages;

    *tokens = 0;
    if (n > (apr_size_t)max) {
        start = n - (apr_size_t)max; /* the oldest are trimmed; the system prompt stays */
    }
    for (apr_size_t i = start; i < n; i++) {
        const thread_item *item = &APR_ARRAY_IDX(t->thread, i, thread_item);
        aic_chat_msg *msg;

        if (!item->content || !*item->content || (item->status && !strcmp(item->status, "error"))) {
            continue;
        }
        msg = apr_array_push(msgs);
        if (!strcmp(item->type, "user")) {
            msg->role = "user";
            msg->content = item->content;
        } else if (item->tool_id && strcmp(item->tool_id, m->id)) {
            /* Another model's answer in a group chat: attributed, as if said to us. */
            msg->role = "user";
            msg->content = apr_psprintf(r->pool, "[%s answered]: %s", item->tool, item->content);
        } else {
            msg->role = "assistant";
            msg->content = item->content;
        }
        *tokens += aic_tokens_estimate(msg->content);
    }
    return msgs;
}

/* Cut text to at most limit code points (UTF-8 safe). */
static const char *limit_chars(apr_pool_t *p, const char *text, apr_int64_t limit)
{
    apr_int64_t count = 0;
    const char *c = text;

    for (; *c; c++) {
        if ((*c & 0xC0) != 0x80 && count++ == limit) {
            return apr_pstrmemdup(p, text, (apr_size_t)(c - text));
        }
    }
    return text;
}

/* The error event of an answer; message_json is the stored answer, or NULL. */
static void send_error(turn *t, const char *answer_id, const model *m, const char *code,
                       const char *message, const char *message_json)
{
    aic_json *ev = aic_json_object(t->ev_pool), *err = aic_json_object(t->ev_pool);

    aic_json_set_str(ev, "message_id", answer_id);
    aic_json_set_str(ev, "model", m->slug);
    aic_json_set_str(err, "code", code);
    aic_json_set_str(err, "message", message);
    aic_json_set(ev, "error", err);
    if (message_json) {
        aic_json_set(ev, "message", aic_json_from(t->ev_pool, message_json));
    }
    sse(t, "error", ev);
}

/* A turn that the database failed at the index-th model (m, its answer
 * answer_id when it has one): no model answers after it, and the client is
 * told 503. */
static void database_failed(turn *t, int index, const model *m, const char *answer_id)
{
    t->db_failed_at = index;
    t->failed_answer_id = answer_id;
    if (!t->first_error_code) {
        t->first_error_code = AIC_DB_UNAVAILABLE_CODE;
        t->first_error_message = AIC_DB_UNAVAILABLE_MESSAGE;
        t->first_error_status = HTTP_SERVICE_UNAVAILABLE;
    }
    if (t->stream && !t->client_gone && answer_id) {
        send_error(t, answer_id, m, AIC_DB_UNAVAILABLE_CODE, AIC_DB_UNAVAILABLE_MESSAGE, NULL);
    }
}

/* The start event of an answer (the first one carries the user's message). */
static void send_start(turn *t, const model *m, const char *answer_id, const char *parent,
                       int index)
{
    aic_json *ev;

    if (!t->stream) {
        return;
    }
    ev = aic_json_object(t->ev_pool);
    aic_json_set_str(ev, "message_id", answer_id);
    aic_json_set_str(ev, "parent_id", parent);
    aic_json_set_str(ev, "model", m->slug);
    aic_json_set_str(ev, "display_name", m->display_name);
    aic_json_set_bool(ev, "is_first_responder", t->group && index == 0);
    if (t->user_message_json && index == 0) {
        aic_json_set(ev, "user_message", aic_json_from(t->ev_pool, t->user_message_json));
    }
    sse(t, "start", ev);
}

/* The rest of the turn's beginning (chat_turn_record, migration 012): the
 * conversation and the first answer's row (m's). A streamed first answer is
 * recorded once its first text has reached the client; one with no text
 * streamed by then is recorded as it is finished (chat_answer_complete).
 * A failure stops the call. */
static apr_status_t record_turn(turn *t, const model *m)
{
    aic_ctx *ctx = t->ctx;
    aic_rows rows;
    apr_status_t rv;

    rv = aic_db_select(&rows, ctx->db, "chat_turn_record",
                       AIC_ARGS(t->conv->id, t->user_message_id, t->title, t->first_answer_id,
                                t->parent_id, m->id, t->group ? "true" : "false"));
    /* No database connection is held while the provider answers. */
    aic_db_release(ctx->db);
    t->recorded = rv == APR_SUCCESS && rows.nrows == 1 ? 1 : -1;
    if (t->recorded < 0) {
        return rv != APR_SUCCESS ? rv : APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* Ask one model; store its answer; stream or collect it. Returns the parent
 * for the next model (this answer when it has text). */
static const char *answer(turn *t, const model *m, const char *parent, int index)
{
    aic_ctx *ctx = t->ctx;
    request_rec *r = ctx->r;
    const aic_provider_cfg *prov = aic_config_provider(ctx->conf, m->provider);
    apr_pool_t *call_pool = NULL;
    aic_rows rows;
    const char *answer_id, *final_json, *status, *text, *code = NULL, *message = NULL;
    apr_int64_t ctx_tokens = 0, limit, prompt, completion;
    int estimated = 0;
    apr_time_t started;
    aic_chat_request req;
    aic_http_call call;
    aic_curl_result res;
    aic_curl_call cc;
    delta_ctx dctx;
    body_ctx bctx;
    const aic_chat_result *out = NULL;
    aic_chat_result parsed;
    aic_json *ev;
    apr_status_t rv;

    /* The answer row before its text, so that whatever happens it is
     * recorded: the first one's as its text flows or as it is finished
     * (record_turn), the others' now. */
    if (index == 0) {
        answer_id = t->first_answer_id;
    } else if ((rv = aic_db_select(&rows, ctx->db, "chat_message_insert",
                                   AIC_ARGS(t->conv->id, parent, "ai", NULL, m->id, "", "streaming",
                                            "false"))) != APR_SUCCESS) {
        database_failed(t, index, m, NULL);
        return NULL;
    } else {
        answer_id = rows.cells[0];
    }
    send_start(t, m, answer_id, parent, index);
    dctx.t = t;
    dctx.message_id = answer_id;
    dctx.m = m;
    dctx.first = index == 0;

    /* The request: system prompt, group instructions, the thread. */
    memset(&req, 0, sizeof(req));
    req.kind = prov ? prov->kind : AIC_PROVIDER_OPENAI;
    req.base_url = prov ? prov->base_url : "";
    req.key = prov ? prov->key : NULL;
    req.model = m->model_id;
    req.messages = context_messages(t, m, &ctx_tokens);
    req.temperature = -1;
    req.max_tokens = (int)json_int_or(m->defaults, "max_tokens", DEFAULT_MAX_TOKENS);
    req.stream = 1;
    limit = json_int_or(t->conv->settings, "character_limit", t->group ? GROUP_CHAR_LIMIT : 0);
    req.system = t->conv->system_prompt;
    if (t->group) {
        req.system = apr_psprintf(
            r->pool, "%s%sYou are %s in a group conversation with other AI models.%s%s",
            req.system ? req.system : "", req.system ? "\n\n" : "", m->display_name,
            index > 0 ? " Other models have already answered: add a different perspective "
                        "rather than repeating them."
                      : "",
            limit > 0 ? apr_psprintf(r->pool, " Answer in at most %" APR_INT64_T_FMT " characters.",
                                     limit)
                      : "");
    } else if (limit > 0) {
        req.system = apr_psprintf(r->pool, "%s%sAnswer in at most %" APR_INT64_T_FMT " characters.",
                                  req.system ? req.system : "", req.system ? "\n\n" : "", limit);
    }
    started = apr_time_now();
    apr_pool_create(&call_pool, r->pool);
    if (!prov) {
        code = "provider_unavailable";
        message = "The model's provider is not configured on this server.";
    } else if (aic_provider_build(&call, call_pool, &req) != APR_SUCCESS) {
        code = "provider_bad_request";
        message = "The request for the provider could not be built.";
    } else {
        aic_provider_stream *parser =
            aic_provider_stream_create(call_pool, prov->kind, on_delta, &dctx);

        bctx.parser = parser;
        bctx.d = &dctx;
        cc.url = call.url;
        cc.headers = call.headers;
        cc.body = call.body;
        cc.connect_timeout = prov->connect_timeout;
        cc.timeout = prov->timeout;
        cc.on_body = on_body;
        cc.should_abort = client_gone;
        cc.ctx = &bctx;
        /* No database connection is held while the provider answers. */
        aic_db_release(ctx->db);
        aic_curl_post(&res, call_pool, &cc);
        out = aic_provider_stream_result(parser);
        if (res.status && (res.status < 200 || res.status > 299)) {
            aic_provider_parse_response(&parsed, call_pool, prov->kind, res.status, res.error_body,
                                        res.error_len);
            out = &parsed;
            code = parsed.error_code ? parsed.error_code : "provider_error";
            message = parsed.error_message;
            t->retry_after = apr_pstrdup(r->pool, res.retry_after);
        } else if (out->error_code) {
            code = out->error_code;
            message = out->error_message;
        } else if (res.rv == APR_TIMEUP) {
            code = "provider_timeout";
            message = "The provider did not answer in time.";
        } else if (res.rv == APR_ECONNREFUSED) {
            code = "provider_unreachable";
            message = "The provider cannot be reached.";
        } else if (t->client_gone || r->connection->aborted) {
            t->client_gone = 1;
        } else if (res.rv != APR_SUCCESS || !out->complete) {
            code = "provider_incomplete";
            message = "The provider's answer was cut off.";
        }
    }
    /* The first answer's row could not be recorded as its text flowed:
     * there is nothing to finish. */
    if (t->recorded < 0) {
        apr_pool_destroy(call_pool);
        database_failed(t, index, m, answer_id);
        return NULL;
    }
    text = out && out->text ? out->text : "";
    if (limit > 0) {
        text = limit_chars(r->pool, text, limit);
    }
    prompt = out && out->prompt_tokens >= 0 ? out->prompt_tokens : -1;
    completion = out && out->completion_tokens >= 0 ? out->completion_tokens : -1;
    if (prompt < 0 || completion < 0) {
        estimated = 1;
        prompt = prompt < 0 ? ctx_tokens : prompt;
        completion = completion < 0 ? aic_tokens_estimate(text) : completion;
    }
    if (t->client_gone) {
        status = "incomplete";
    } else if (code) {
        status = "error";
    } else {
        status = "complete";
    }
    /* A failed call is not charged (its reservation is released); one the
     * client interrupted is charged what it used. */
    if (!strcmp(status, "error")) {
        prompt = completion = 0;
    }

    /* The answer, its settlement (under the row lock, never below zero) and
     * the conversation, all or nothing (chat_answer_finish, migration 008);
     * a first answer not yet recorded is recorded in the same statement
     * (chat_answer_complete, whose first arguments are finish's). Without
     * them the reservation is given back and the client told 503. */
    {
        const char *args[] = {
            answer_id,
            text,
            status,
            message ? message : (code ? code : NULL),
            apr_psprintf(r->pool, "%" APR_INT64_T_FMT, prompt),
            apr_psprintf(r->pool, "%" APR_INT64_T_FMT, completion),
            estimated ? "true" : "false",
            apr_psprintf(r->pool, "%" APR_TIME_T_FMT, apr_time_as_msec(apr_time_now() - started)),
            ctx->user->id,
            apr_psprintf(r->pool, "%" APR_INT64_T_FMT, t->reserved[index]),
            t->conv->id,
            t->user_message_id,
            t->title,
            t->parent_id,
            m->id,
            t->group ? "true" : "false"};
        int record = index == 0 && !t->recorded;

        rv = aic_db_select(&rows, ctx->db, record ? "chat_answer_complete" : "chat_answer_finish",
                           record ? (int)(sizeof(args) / sizeof(*args)) : CHAT_FINISH_NARGS, args);
    }
    if (rv != APR_SUCCESS || rows.nrows != 1) {
        apr_pool_destroy(call_pool);
        database_failed(t, index, m, answer_id);
        return NULL;
    }
    final_json = rows.cells[0];
    t->balance = rows.cells[1];
    /* What outlives the call is copied out of its pool. */
    if (code && !t->first_error_code) {
        t->first_error_code = code;
        t->first_error_message = apr_pstrdup(r->pool, message ? message : code);
        t->first_error_status = error_status(code);
    }
    if (t->stream && !t->client_gone && code) {
        send_error(t, answer_id, m, code, message ? message : code, final_json);
    } else if (t->stream && !t->client_gone) {
        aic_json *usage = aic_json_object(r->pool);

        ev = aic_json_object(r->pool);
        aic_json_set_str(ev, "message_id", answer_id);
        aic_json_set_str(ev, "model", m->slug);
        aic_json_set_int(usage, "prompt_tokens", prompt);
        aic_json_set_int(usage, "completion_tokens", completion);
        aic_json_set_bool(usage, "estimated", estimated);
        aic_json_set(ev, "usage", usage);
        aic_json_set(ev, "message", aic_json_from(r->pool, final_json));
        sse(t, "done", ev);
    }
    aic_json_push(t->answers, aic_json_from(r->pool, final_json));
    if (*text) {
        thread_add(t, "ai", m, apr_pstrdup(r->pool, text), status);
        parent = answer_id;
    }
    apr_pool_destroy(call_pool);
    return parent;
}

/* The index of a group's fixed first responder (its slug in the settings),
 * or -1 when the rotation decides. */
static int fixed_first(const apr_array_header_t *models, const char *fixed)
{
    int first = -1;

    for (int i = 0; fixed && i < models->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(models, i, model).slug, fixed)) {
            first = i;
        }
    }
    return first;
}

/* Put the first responder (chat_turn_reserve chose it) first, the others
 * following in turn; reservations move with their model. */
static void order_models(apr_array_header_t *models, apr_int64_t *reserved, int first)
{
    int n = models->nelts;

    while (n > 1 && first-- > 0) {
        model head = APR_ARRAY_IDX(models, 0, model);
        apr_int64_t head_reserved = reserved[0];

        memmove(models->elts, models->elts + sizeof(model), sizeof(model) * (apr_size_t)(n - 1));
        memmove(reserved, reserved + 1, sizeof(*reserved) * (apr_size_t)(n - 1));
        APR_ARRAY_IDX(models, n - 1, model) = head;
        reserved[n - 1] = head_reserved;
    }
}

/* This process's turns the database failed and that could not be given back
 * then, on their way to it (aic_batch; NULL under a non-threaded MPM). */
static aic_batch *abandoned;

void aic_chat_child_init(apr_pool_t *pchild, server_rec *s)
{
    abandoned = aic_batch_start(pchild, s, "chat_turns_abandon", ABANDONED_EVERY, 1);
}

/* Put in order a turn the database failed (chat_turns_abandon, migration
 * 013): give back what the models from the failed one reserved, end the
 * failed answer's row as an error and make the user message part of the
 * visible thread. When the database does not answer, the writer does it
 * once it does. */
static void abandon_turn(turn *t, const char *regenerated)
{
    aic_ctx *ctx = t->ctx;
    request_rec *r = ctx->r;
    apr_int64_t unsettled = 0;
    const char *row, *balance = NULL;
    aic_json *o = aic_json_object(r->pool);

    for (int i = t->db_failed_at; i < t->models->nelts; i++) {
        unsettled += t->reserved[i];
    }
    aic_json_set_str(o, "turn", t->first_answer_id);
    aic_json_set_str(o, "viewer", ctx->user->id);
    aic_json_set_int(o, "released", unsettled);
    aic_json_set_str(o, "message", t->user_message_id ? t->user_message_id : regenerated);
    aic_json_set_str(o, "conv", t->conv->id);
    aic_json_set_str(o, "user_message", t->user_message_id);
    aic_json_set_str(o, "title", t->title);
    aic_json_set_bool(o, "counted", t->recorded > 0 || t->db_failed_at > 0);
    aic_json_set_str(o, "answer", t->failed_answer_id);
    row = aic_json_dump(o, r->pool);
    if (aic_db_value(&balance, ctx->db, "chat_turns_abandon",
                     AIC_ARGS(apr_pstrcat(r->pool, "[", row, "]", NULL))) == APR_SUCCESS) {
        t->balance = balance;
    } else if (aic_batch_add(abandoned, row)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "mod_aichat: %" APR_INT64_T_FMT " credits reserved by %s are given back "
                      "once the database answers",
                      unsettled, ctx->user->username);
    } else {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "mod_aichat: %" APR_INT64_T_FMT " credits reserved by %s stay reserved",
                      unsettled, ctx->user->username);
    }
}

/* Shared by sending and regenerating: reserve, record, answer, respond.
 * context is the thread up to the parent (thread_load). */
static int run_turn(turn *t, const char *content, const char *regenerated, const char *context)
{
    aic_ctx *ctx = t->ctx;
    request_rec *r = ctx->r;
    apr_int64_t estimate = 0, total;
    const char *parent = t->parent_id, *est, *new_values, *fixed;
    aic_rows rows;
    apr_status_t rv;
    aic_json *body;
    int fixed_index;

    t->reserved = apr_pcalloc(r->pool, sizeof(apr_int64_t) * (apr_size_t)t->models->nelts);
    t->db_failed_at = -1;
    if (apr_pool_create(&t->ev_pool, r->pool) != APR_SUCCESS) {
        return aic_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                              "The request could not be completed.", NULL);
    }
    if ((rv = thread_load(t, context)) != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    for (int i = 0; i < t->models->nelts; i++) {
        const model *m = &APR_ARRAY_IDX(t->models, i, model);
        apr_int64_t ctx_tokens = 0, window = json_int_or(m->capabilities, "context_window", 0);
        apr_int64_t max_out = json_int_or(m->defaults, "max_tokens", DEFAULT_MAX_TOKENS);
        apr_int64_t own = content ? aic_tokens_estimate(content) : 0;

        context_messages(t, m, &ctx_tokens);
        ctx_tokens += own;
        if (window > 0 && own + max_out > window) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "context_too_long",
                                  apr_psprintf(r->pool,
                                               "The message is too long for %s's context window.",
                                               m->display_name),
                                  "content");
        }
        if (window > 0 && ctx_tokens + max_out > window) {
            ctx_tokens = window - max_out; /* the provider sees no more than its window */
        }
        t->reserved[i] = ctx_tokens + max_out;
        estimate += t->reserved[i];
    }
    total = estimate;
    fixed_index =
        t->group
            ? fixed_first(t->models,
                          aic_json_str(aic_json_get(t->conv->settings, "first_responder"), r->pool))
            : -1;
    fixed = fixed_index >= 0 ? apr_itoa(r->pool, fixed_index) : NULL;

    /* One statement: the reservation, the user message, a group's rotation,
     * the ledger row and the request's audit row commit together, or nothing
     * does. The rest of the turn's beginning is recorded with the first
     * answer (record_turn). */
    est = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, total);
    new_values =
        apr_psprintf(r->pool,
                     "{\"conversation_id\":\"%s\",\"parent_id\":%s%s%s,\"length\":%" APR_SIZE_T_FMT
                     ",\"reserved_credits\":%" APR_INT64_T_FMT "}",
                     t->conv->id, t->parent_id ? "\"" : "", t->parent_id ? t->parent_id : "null",
                     t->parent_id ? "\"" : "", content ? strlen(content) : 0, total);
    rv = aic_audit_select(
        &rows, ctx->db, r, "chat_turn_reserve",
        AIC_ARGS(apr_itoa(r->pool, t->stream ? HTTP_OK : HTTP_CREATED), new_values, regenerated,
                 ctx->user->id, t->conv->id, t->parent_id, content, est, regenerated,
                 t->group ? "true" : "false", apr_itoa(r->pool, t->models->nelts), fixed),
        content ? "create" : "regenerate", "message");
    if (rv == APR_SUCCESS && rows.nrows != 1) {
        rv = APR_EGENERAL;
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if (rows.cells[0]) {
        return aic_send_error(r, HTTP_PAYMENT_REQUIRED, "insufficient_credits",
                              apr_psprintf(r->pool,
                                           "This needs about %" APR_INT64_T_FMT
                                           " credits; your balance is lower.",
                                           total),
                              NULL);
    }
    aic_req_get(r)->audited = 1;
    if (content) {
        t->user_message_id = rows.cells[1];
        t->user_message_json = rows.cells[4];
        t->title = limit_chars(r->pool, content, 60);
        parent = t->user_message_id;
        thread_add(t, "user", NULL, content, "complete");
    }
    t->first_answer_id = rows.cells[2];
    order_models(t->models, t->reserved, atoi(rows.cells[3]));
    if (t->stream) {
        r->status = HTTP_OK;
        ap_set_content_type(r, "text/event-stream; charset=utf-8");
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
        apr_table_setn(r->headers_out, "X-Accel-Buffering", "no");
        apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
    }
    for (int i = 0; i < t->models->nelts && !t->client_gone && t->db_failed_at < 0; i++) {
        parent = answer(t, &APR_ARRAY_IDX(t->models, i, model), parent, i);
    }
    if (t->db_failed_at >= 0) {
        abandon_turn(t, regenerated);
    }
    if (t->stream) {
        if (!t->client_gone) {
            aic_json *end = aic_json_object(r->pool);

            /* null when the database could not say (it went away). */
            if (t->balance) {
                aic_json_set_int(end, "credits", apr_atoi64(t->balance));
            } else {
                aic_json_set_null(end, "credits");
            }
            sse(t, "end", end);
        }
        return OK;
    }
    if (t->first_error_code && (!t->group || t->db_failed_at >= 0)) {
        if (t->retry_after) {
            apr_table_setn(r->err_headers_out, "Retry-After", t->retry_after);
        }
        return aic_send_error(r, t->first_error_status, t->first_error_code, t->first_error_message,
                              NULL);
    }
    body = aic_json_object(r->pool);
    if (t->user_message_json) {
        aic_json_set(body, "user_message", aic_json_from(r->pool, t->user_message_json));
    }
    aic_json_set(body, "answers", t->answers);
    aic_json_set_int(body, "credits", t->balance ? apr_atoi64(t->balance) : 0);
    return aic_send_json(r, HTTP_CREATED, body);
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

/* The conversation's active models from their JSON (chat_send_load). */
static int load_models(turn *t, const char *text)
{
    request_rec *r = t->ctx->r;
    aic_json *list = text ? aic_json_from(r->pool, text) : NULL;
    apr_size_t n = aic_json_len(list);

    if (text && aic_json_typeof(list) != AIC_JSON_ARRAY) {
        return aic_send_failure(r, APR_EGENERAL);
    }
    t->models = apr_array_make(r->pool, (int)n + 1, sizeof(model));
    for (apr_size_t i = 0; i < n; i++) {
        model_from_json(apr_array_push(t->models), r, aic_json_at(list, i));
    }
    t->group = n > 1;
    if (!n) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "no_models",
                              "This conversation has no active model.", NULL);
    }
    return OK;
}

static int message_send(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id"), *me = ctx->user->id;
    conversation c;
    turn t;
    aic_json *body = NULL, *v;
    const char *content = NULL, *parent_id = NULL, *err;
    int use_leaf = 1, bad_parent = 0;
    aic_rows rows;
    apr_status_t rv;

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
        use_leaf = 0;
        v = aic_json_get(body, "parent_id");
        if (aic_json_typeof(v) != AIC_JSON_NULL) {
            parent_id = aic_json_str(v, r->pool);
            bad_parent = !aic_valid_uuid(parent_id);
        }
    }
    if (!aic_valid_uuid(id)) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such conversation.", NULL);
    }
    rv = aic_db_select(&rows, ctx->db, "chat_send_load",
                       AIC_ARGS(use_leaf ? "true" : "false", bad_parent ? NULL : parent_id, id, me,
                                me, me, use_leaf ? "true" : "false"));
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if (rows.nrows == 0) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such conversation.", NULL);
    }
    conversation_from_row(&c, r, id, rows.cells, 0);
    v = aic_json_get(body, "content");
    if (aic_json_typeof(v) != AIC_JSON_STRING) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "content must be a string.", "content");
    }
    if ((err = aic_valid_text(&content, r->pool, aic_json_str(v, r->pool), 1,
                              (apr_size_t)ctx->conf->max_message_chars, 1))) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY,
                              strstr(err, "at most") ? "message_too_long" : "invalid_field",
                              apr_pstrcat(r->pool, "content ", err, ".", NULL), "content");
    }
    if (aic_json_has(body, "stream") &&
        aic_json_typeof(aic_json_get(body, "stream")) != AIC_JSON_BOOL) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "stream must be true or false.", "stream");
    }
    if (bad_parent || rows.cells[6][0] != '1') {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "parent_id must be a message of this conversation or null.",
                              "parent_id");
    }
    memset(&t, 0, sizeof(t));
    t.ctx = ctx;
    t.conv = &c;
    t.stream = wants_stream(r, body);
    t.parent_id = use_leaf ? c.active_leaf : parent_id;
    t.answers = aic_json_array(r->pool);
    if (load_models(&t, rows.cells[7]) != OK) {
        return OK;
    }
    return run_turn(&t, content, NULL, rows.cells[8]);
}

static int message_regenerate(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id"), *me = ctx->user->id;
    conversation c;
    turn t;
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
    conversation_from_row(&c, r, rows.cells[6], rows.cells, 0);
    if (!(tool = aic_json_from(r->pool, rows.cells[10]))) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "tool_unavailable",
                              "The model of this answer no longer exists.", NULL);
    }
    memset(&t, 0, sizeof(t));
    t.ctx = ctx;
    t.conv = &c;
    t.stream = wants_stream(r, body);
    t.parent_id = *rows.cells[8] ? rows.cells[8] : NULL;
    t.answers = aic_json_array(r->pool);
    t.models = apr_array_make(r->pool, 1, sizeof(model));
    model_from_json(apr_array_push(t.models), r, tool);
    return run_turn(&t, NULL, id, rows.cells[11]);
}

static const aic_endpoint ep_conv_create = {conversation_create, 0};
static const aic_endpoint ep_conv_list = {conversation_list, 0};
static const aic_endpoint ep_conv_get = {conversation_get, 0};
static const aic_endpoint ep_conv_patch = {conversation_patch, 0};
static const aic_endpoint ep_conv_delete = {conversation_delete, 0};
static const aic_endpoint ep_conv_restore = {conversation_restore, 0};
static const aic_endpoint ep_participant_add = {participant_add, 0};
static const aic_endpoint ep_participant_remove = {participant_remove, 0};
static const aic_endpoint ep_thread = {thread, 0};
static const aic_endpoint ep_send = {message_send, 0};
static const aic_endpoint ep_active = {set_active, 0};
static const aic_endpoint ep_regenerate = {message_regenerate, 0};

const aic_route aic_chat_routes[] = {
    {"POST", "/v1/conversations", &ep_conv_create},
    {"GET", "/v1/conversations", &ep_conv_list},
    {"GET", "/v1/conversations/{id}", &ep_conv_get},
    {"PATCH", "/v1/conversations/{id}", &ep_conv_patch},
    {"DELETE", "/v1/conversations/{id}", &ep_conv_delete},
    {"POST", "/v1/conversations/{id}/restore", &ep_conv_restore},
    {"POST", "/v1/conversations/{id}/participants", &ep_participant_add},
    {"DELETE", "/v1/conversations/{id}/participants/{username}", &ep_participant_remove},
    {"GET", "/v1/conversations/{id}/messages", &ep_thread},
    {"POST", "/v1/conversations/{id}/messages", &ep_send},
    {"PUT", "/v1/conversations/{id}/active", &ep_active},
    {"POST", "/v1/messages/{id}/regenerate", &ep_regenerate},
    {NULL, NULL, NULL}};
