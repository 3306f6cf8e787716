-- 014: the conversation and share APIs' reads.
--
-- A cheaper conversation_json, as 006 did for message_json. The SQL function
-- of 003 has five sub-selects and is never inlined, so PostgreSQL planned
-- them again for every statement that used it (creating, reading, changing,
-- listing a conversation): 0.92 ms a call on the development cluster,
-- against 0.21 ms in PL/pgSQL, which keeps its plans for the session. The
-- models are read once for both `tools` and `is_group`. Same JSON as 003.

CREATE OR REPLACE FUNCTION conversation_json(c conversations, viewer uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    owner text;
    tools jsonb;
    ntools bigint;
    participants jsonb;
BEGIN
    SELECT u.username INTO owner FROM users u WHERE u.id = c.owner_id;
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'slug', t.slug, 'display_name', t.display_name, 'provider', t.provider,
               'model_id', t.model_id, 'is_active', m.is_active) ORDER BY m.position), '[]'),
           count(*)
      INTO tools, ntools
      FROM conversation_ai_models m JOIN ai_tools t ON t.id = m.tool_id
     WHERE m.conversation_id = c.id;
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'username', u.username, 'display_name', coalesce(u.display_name, u.username),
               'role', p.role) ORDER BY p.joined_at, u.username), '[]')
      INTO participants
      FROM conversation_participants p JOIN users u ON u.id = p.user_id
     WHERE p.conversation_id = c.id;
    RETURN jsonb_build_object(
        'id', c.id, 'title', c.title, 'source', c.source, 'system_prompt', c.system_prompt,
        'settings', c.settings, 'status', c.status, 'total_messages', c.total_messages,
        'last_message_at', c.last_message_at, 'active_leaf_id', c.active_leaf_id,
        'pinned', c.pinned, 'archived', c.archived, 'created_at', c.created_at,
        'updated_at', c.updated_at, 'deleted_at', c.deleted_at,
        'owner', owner, 'is_owner', c.owner_id = viewer,
        'tools', tools, 'participants', participants, 'is_group', ntools > 1);
END
$$;

-- The conversation list's second half (the conversations a user takes part
-- in without owning them) read every participant row of the user, their own
-- conversations' included (the owner is each one's admin participant), and
-- joined them all: 2.7 ms of a 6.9 ms page for a user with 1,951
-- conversations, growing with them. It now reads the member rows only.
CREATE INDEX conversation_participants_member ON conversation_participants (user_id)
    WHERE role = 'member';

-- share_json (009) the same way: its sub-selects were planned again for every
-- statement (a share's creation, change and revocation, the owner's and the
-- administrators' lists): 1.09-1.25 ms a call against 0.67-0.84 ms for a
-- share of 10 messages on the development cluster (pgbench), most of what is
-- left being the count of the shared thread's messages. Same JSON as 009.
CREATE OR REPLACE FUNCTION share_json(s shared_chats) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    title text;
    owner text;
    messages bigint;
BEGIN
    SELECT c.title INTO title FROM conversations c WHERE c.id = s.conversation_id;
    SELECT u.username INTO owner FROM users u WHERE u.id = s.created_by;
    SELECT count(*) INTO messages FROM share_thread(s.snapshot_message_id);
    RETURN jsonb_build_object(
        'id', s.id, 'conversation_id', s.conversation_id, 'title', title, 'owner', owner,
        'is_public', s.is_public, 'indexable', s.indexable,
        'created_at', s.created_at, 'updated_at', s.updated_at,
        'expires_at', s.expires_at,
        'expired', s.expires_at IS NOT NULL AND s.expires_at <= now(),
        'revoked_at', s.revoked_at,
        'snapshot_message_id', s.snapshot_message_id,
        'message_count', messages,
        'view_count', s.view_count,
        'last_viewed_at', s.last_viewed_at);
END
$$;
