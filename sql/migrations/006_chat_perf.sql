-- 006: a cheaper message_json (bench/chat: building message JSON was most of
-- the database time of a send). A SQL function with sub-selects is never
-- inlined, so PostgreSQL planned its four sub-selects again on every call;
-- PL/pgSQL keeps its plans for the session. The siblings of a root message
-- (no parent) were found by scanning the whole conversation, since
-- `IS NOT DISTINCT FROM` can use no index: roots get a partial index, and
-- one query now gives both the sibling ids and the position. Same JSON as 003.

CREATE INDEX messages_roots ON messages (conversation_id, created_at, id)
    WHERE parent_message_id IS NULL;

CREATE OR REPLACE FUNCTION message_json(m messages) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    sender jsonb;
    siblings jsonb;
    earlier bigint;
BEGIN
    IF m.sender_type = 'ai' THEN
        SELECT jsonb_build_object('slug', t.slug, 'display_name', t.display_name,
                                  'model_id', t.model_id)
            INTO sender FROM ai_tools t WHERE t.id = m.sender_tool_id;
    ELSE
        SELECT jsonb_build_object('username', u.username,
                                  'display_name', coalesce(u.display_name, u.username))
            INTO sender FROM users u WHERE u.id = m.sender_user_id;
    END IF;
    IF m.parent_message_id IS NULL THEN
        SELECT jsonb_agg(s.id ORDER BY s.created_at, s.id),
               count(*) FILTER (WHERE (s.created_at, s.id) < (m.created_at, m.id))
            INTO siblings, earlier
            FROM messages s
            WHERE s.conversation_id = m.conversation_id AND s.parent_message_id IS NULL;
    ELSE
        SELECT jsonb_agg(s.id ORDER BY s.created_at, s.id),
               count(*) FILTER (WHERE (s.created_at, s.id) < (m.created_at, m.id))
            INTO siblings, earlier
            FROM messages s
            WHERE s.parent_message_id = m.parent_message_id
              AND s.conversation_id = m.conversation_id;
    END IF;
    RETURN jsonb_build_object(
        'id', m.id, 'conversation_id', m.conversation_id, 'parent_id', m.parent_message_id,
        'sender_type', m.sender_type, 'sender', sender,
        'content', m.content, 'content_type', m.content_type, 'status', m.status,
        'error', m.error, 'prompt_tokens', m.prompt_tokens,
        'completion_tokens', m.completion_tokens, 'tokens_estimated', m.tokens_estimated,
        'response_time_ms', m.response_time_ms, 'is_first_responder', m.is_first_responder,
        'created_at', m.created_at, 'sibling_ids', siblings, 'sibling_index', earlier);
END
$$;
