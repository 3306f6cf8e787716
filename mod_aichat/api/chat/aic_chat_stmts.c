/* The chat capability's statements, registered at configuration time: one
 * literal each (apr_dbd placeholders). A statement's rows are read by
 * position in the file that runs it; the turn's functions take and give
 * JSON with named keys (sql/functions/chat.sql). */
#include "aic_chat.h"

const aic_stmt aic_chat_stmts[] = {
    /* A conversation its viewer may see (owned, or taken part in): its JSON,
     * whether the viewer owns it, its active leaf, settings, system prompt and
     * title. Arguments: viewer, viewer, id, viewer, viewer. */
    {"chat_conv",
     "SELECT conversation_json(c, %s::uuid)::text, (c.owner_id = %s::uuid)::int,"
     " coalesce(c.active_leaf_id::text, ''), c.settings::text, coalesce(c.system_prompt,"
     " ''), c.title"
     " FROM conversations c WHERE c.id = %s::uuid AND c.deleted_at IS NULL"
     " AND (c.owner_id = %s::uuid OR conversation_member_sees(c.id, c.owner_id, %s::uuid))"},
    /* The same without the conversation's JSON, for those that do not answer it. */
    {"chat_conv_head",
     "SELECT '', (c.owner_id = %s::uuid)::int, coalesce(c.active_leaf_id::text, ''),"
     " c.settings::text, coalesce(c.system_prompt, ''), c.title"
     " FROM conversations c WHERE c.id = %s::uuid AND c.deleted_at IS NULL"
     " AND (c.owner_id = %s::uuid OR conversation_member_sees(c.id, c.owner_id, %s::uuid))"},
    /* A deleted conversation the viewer may see, locked: whether they own it. */
    {"chat_conv_deleted",
     "SELECT (c.owner_id = %s::uuid)::int FROM conversations c WHERE c.id = %s::uuid"
     " AND c.deleted_at IS NOT NULL AND (c.owner_id = %s::uuid OR conversation_member_sees(c.id, "
     "c.owner_id, %s::uuid)) FOR UPDATE"},
    /* A live conversation the viewer may see, locked for a change: its JSON and
     * whether they own it. */
    {"chat_conv_lock", "SELECT conversation_json(c, %s::uuid)::text, (c.owner_id = %s::uuid)::int"
                       " FROM conversations c WHERE c.id = %s::uuid AND c.deleted_at IS NULL"
                       " AND (c.owner_id = %s::uuid OR conversation_member_sees(c.id, c.owner_id, "
                       "%s::uuid)) FOR UPDATE"},
    /* What a send needs before it begins, in one round trip: the conversation
     * (as chat_conv_head), whether the explicit parent (when the first argument
     * is false: the second, or none) is a message of it, its active models in
     * order (JSON) and the thread up to the parent (chat_context; NULL without
     * a parent). */
    {"chat_send_load",
     "WITH c AS (SELECT c.*,"
     " CASE WHEN %s::boolean THEN c.active_leaf_id ELSE %s::uuid END AS parent"
     " FROM conversations c WHERE c.id = %s::uuid AND c.deleted_at IS NULL"
     " AND (c.owner_id = %s::uuid OR conversation_member_sees(c.id, c.owner_id, %s::uuid)))"
     " SELECT '', (c.owner_id = %s::uuid)::int, coalesce(c.active_leaf_id::text, ''),"
     " c.settings::text, coalesce(c.system_prompt, ''), c.title, ok.parent_ok::int,"
     " (SELECT json_agg(json_build_object('id', t.id, 'slug', t.slug, 'display_name',"
     " t.display_name, 'provider', t.provider, 'model_id', t.model_id, 'capabilities',"
     " t.capabilities, 'defaults', t.default_settings)"
     " ORDER BY m.position) FROM conversation_ai_models m"
     " JOIN ai_tools t ON t.id = m.tool_id WHERE m.conversation_id = c.id"
     " AND m.is_active)::text, CASE WHEN ok.parent_ok"
     " AND c.parent IS NOT NULL THEN chat_context(c.parent)::text END FROM c CROSS"
     " JOIN LATERAL (SELECT %s::boolean OR c.parent IS NULL OR EXISTS (SELECT 1"
     " FROM messages p WHERE p.id = c.parent"
     " AND p.conversation_id = c.id) AS parent_ok) ok"},
    /* The same for regenerating a message: the conversation (as
     * chat_conv_head), the message's conversation, sender type, parent and
     * model, that model (JSON) and, for an answer, the thread up to its parent. */
    {"chat_regenerate_load",
     "SELECT '', (c.owner_id = %s::uuid)::int, coalesce(c.active_leaf_id::text, ''),"
     " c.settings::text, coalesce(c.system_prompt, ''), c.title, m.conversation_id::text,"
     " m.sender_type, coalesce(m.parent_message_id::text, ''),"
     " coalesce(m.sender_tool_id::text, ''), (SELECT json_build_object('id', t.id,"
     " 'slug', t.slug, 'display_name', t.display_name, 'provider', t.provider,"
     " 'model_id', t.model_id, 'capabilities', t.capabilities, 'defaults',"
     " t.default_settings)"
     " FROM ai_tools t WHERE t.id = m.sender_tool_id)::text,"
     " CASE WHEN m.sender_type = 'ai'"
     " AND m.parent_message_id IS NOT NULL THEN chat_context(m.parent_message_id)::text"
     " END"
     " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
     " WHERE m.id = %s::uuid AND c.deleted_at IS NULL"
     " AND (c.owner_id = %s::uuid OR conversation_member_sees(c.id, c.owner_id, %s::uuid))"},
    {"chat_tool_by_slug",
     "SELECT id::text, provider, api_key_required::int FROM ai_tools WHERE slug = %s"
     " AND is_active"},
    {"chat_conv_insert", "INSERT INTO conversations (owner_id, title, system_prompt, settings)"
                         " VALUES (%s::uuid, %s, %s, %s::jsonb) RETURNING id::text"},
    {"chat_conv_add_model",
     "INSERT INTO conversation_ai_models (conversation_id, tool_id, position)"
     " VALUES (%s::uuid, %s::uuid, %s::int)"},
    {"chat_conv_clear_models",
     "DELETE FROM conversation_ai_models WHERE conversation_id = %s::uuid"},
    {"chat_popularity", "UPDATE ai_tools SET popularity = popularity + 1 WHERE id = %s::uuid"},
    {"chat_participant_add",
     "INSERT INTO conversation_participants (conversation_id, user_id, role)"
     " VALUES (%s::uuid, %s::uuid, %s) ON CONFLICT DO NOTHING"},
    {"chat_participant_remove",
     "DELETE FROM conversation_participants WHERE conversation_id = %s::uuid"
     " AND user_id = (SELECT id FROM users WHERE username = %s) AND role <> 'admin'"},
    {"chat_user_by_name", "SELECT id::text FROM users WHERE username = %s AND is_active"
                          " AND deleted_at IS NULL"},
    {"chat_conv_json", "SELECT conversation_json(c, %s::uuid)::text FROM conversations c"
                       " WHERE c.id = %s::uuid"},
    /* A page of the list (chat_conversation_list: one JSON argument). */
    {"chat_conv_list", "SELECT chat_conversation_list(%s::json)::text"},
    {"chat_conv_update",
     "UPDATE conversations"
     " SET title = %s, system_prompt = %s, settings = %s::jsonb, pinned = %s::boolean,"
     " archived = %s::boolean, updated_at = now()"
     " WHERE id = %s::uuid RETURNING conversation_json(conversations, %s::uuid)::text"},
    {"chat_conv_delete",
     "UPDATE conversations SET deleted_at = now(), status = 'deleted', updated_at = now()"
     " WHERE id = %s::uuid"},
    {"chat_conv_restore",
     "UPDATE conversations SET deleted_at = NULL, status = 'active', updated_at = now()"
     " WHERE id = %s::uuid RETURNING conversation_json(conversations, %s::uuid)::text"},
    {"chat_message_in_conv", "SELECT sender_type, coalesce(sender_tool_id::text, ''),"
                             " coalesce(parent_message_id::text, '')"
                             " FROM messages WHERE id = %s::uuid AND conversation_id = %s::uuid"},
    /* A later answer's row, before its text, with the credits its context
     * needs beyond the turn's reservation (one JSON argument and result). */
    {"chat_answer_begin", "SELECT chat_answer_begin(%s::json)::text"},
    /* What a turn writes before the provider call, with the request's audit
     * row (a key of the argument), in one statement. */
    {"chat_turn_reserve", "SELECT chat_turn_reserve(%s::json)::text"},
    /* The rest of a turn's beginning, once its first text is out. */
    {"chat_turn_record", "SELECT 1 FROM chat_turn_record(%s::json)"},
    /* Turns the database failed, given back: one now, or a batch of them from
     * the writer once the database is back (aic_batch). */
    {"chat_turns_abandon", "SELECT chat_turns_abandon(%s::json)::text"},
    /* An answer stored and settled: one whose row was recorded (finish), or a
     * first one recorded at the same time (complete). */
    {"chat_answer_finish", "SELECT chat_answer_finish(%s::json)::text"},
    {"chat_answer_complete", "SELECT chat_answer_complete(%s::json)::text"},
    /* A call outside a turn (aic_chat_call.c): its reservation (NULL when the
     * balance is too low), and the reservation given back after a failure. */
    {"chat_call_reserve", "SELECT chat_call_reserve(%s::uuid, %s::bigint, %s)::text"},
    {"chat_call_release", "SELECT chat_settle(%s::uuid, %s::bigint, 0, true, NULL)::text"},
    /* The visible thread: the path from the root to the active leaf. */
    {"chat_thread",
     "SELECT json_build_object('items', coalesce(json_agg(message_json(msg)"
     " ORDER BY depth DESC), '[]'::json))::text FROM message_path((SELECT active_leaf_id"
     " FROM conversations WHERE id = %s::uuid))"},
    /* Show the branch through a message, down to its newest leaf. */
    {"chat_set_active", "UPDATE conversations"
                        " SET active_leaf_id = message_newest_leaf(%s::uuid), updated_at = now()"
                        " WHERE id = %s::uuid RETURNING active_leaf_id::text"},
    {NULL, NULL}};
