/* The chat capability's statements, registered at configuration time. */
#include "aic_chat.h"

#include "httpd/aic_audit.h"

/* A model (ai_tools t) as a turn needs it: JSON that model_from_json reads. */
#define CHAT_MODEL_JSON                                                                            \
    "json_build_object('id', t.id, 'slug', t.slug, 'display_name', t.display_name,"                \
    " 'provider', t.provider, 'model_id', t.model_id, 'capabilities', t.capabilities,"             \
    " 'defaults', t.default_settings)"
#define CHAT_VISIBLE AIC_SQL_VISIBLE("c")
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
