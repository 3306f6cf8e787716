-- 005: share links. A link's token is derived from a server secret and the
-- row's nonce; only the token's SHA-256 is stored, so this table opens no link.

CREATE TABLE shared_chats (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id     uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    token_hash          text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    token_nonce         text NOT NULL CHECK (token_nonce ~ '^[0-9a-f]{32}$'),
    is_public           boolean NOT NULL DEFAULT true,
    indexable           boolean NOT NULL DEFAULT false, -- search engines may index it
    created_by          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz,                    -- NULL: never
    revoked_at          timestamptz,
    snapshot_message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    view_count          bigint NOT NULL DEFAULT 0 CHECK (view_count >= 0),
    last_viewed_at      timestamptz
);
-- One live share per conversation.
CREATE UNIQUE INDEX shared_chats_live ON shared_chats (conversation_id) WHERE revoked_at IS NULL;
CREATE INDEX shared_chats_creator ON shared_chats (created_by, created_at DESC, id DESC)
    WHERE revoked_at IS NULL;
CREATE INDEX shared_chats_all_live ON shared_chats (created_at DESC, id DESC)
    WHERE revoked_at IS NULL;

-- Views not yet added to view_count: one row per view, insert-only, so
-- concurrent views of one share never wait on its row. The module moves them
-- into view_count from time to time (share_views_rollup); no foreign key, so
-- an insert takes no lock on the share.
CREATE TABLE share_views (
    share_id  uuid NOT NULL,
    viewed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX share_views_share ON share_views (share_id);

-- A conversation copied from a share ("continue this conversation").
ALTER TABLE conversations ADD COLUMN forked_from_share uuid
    REFERENCES shared_chats (id) ON DELETE SET NULL;

-- What a share shows: the thread ending at the snapshot, without failed or
-- unfinished answers. Root first.
CREATE FUNCTION share_thread(snapshot uuid) RETURNS TABLE (msg messages, depth integer)
LANGUAGE sql STABLE AS $$
    SELECT p.msg, p.depth FROM message_path(snapshot) p
    WHERE (p.msg).status IN ('complete', 'incomplete')
    ORDER BY p.depth DESC
$$;

-- The newest message of the visible thread a share may end at.
CREATE FUNCTION share_snapshot(conv uuid) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT (p.msg).id FROM message_path((SELECT active_leaf_id FROM conversations
                                         WHERE id = conv)) p
    WHERE (p.msg).status IN ('complete', 'incomplete')
    ORDER BY p.depth LIMIT 1
$$;

-- A share as its owner (and the audit log) sees it: never the token.
CREATE FUNCTION share_json(s shared_chats) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', s.id, 'conversation_id', s.conversation_id,
        'title', (SELECT c.title FROM conversations c WHERE c.id = s.conversation_id),
        'owner', (SELECT u.username FROM users u WHERE u.id = s.created_by),
        'is_public', s.is_public, 'indexable', s.indexable,
        'created_at', s.created_at, 'updated_at', s.updated_at,
        'expires_at', s.expires_at,
        'expired', s.expires_at IS NOT NULL AND s.expires_at <= now(),
        'revoked_at', s.revoked_at,
        'snapshot_message_id', s.snapshot_message_id,
        'message_count', (SELECT count(*) FROM share_thread(s.snapshot_message_id)),
        'view_count', s.view_count + (SELECT count(*) FROM share_views v WHERE v.share_id = s.id),
        'last_viewed_at', greatest(s.last_viewed_at, (SELECT max(v.viewed_at) FROM share_views v
                                                      WHERE v.share_id = s.id)))
$$;

-- Copy a share's messages into a new conversation of new_owner; returns its id.
CREATE FUNCTION share_fork(share uuid, new_owner uuid) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    s      shared_chats;
    src    conversations;
    new_id uuid;
    prev   uuid;
    n      integer := 0;
    m      messages;
BEGIN
    SELECT * INTO STRICT s FROM shared_chats WHERE id = share;
    SELECT * INTO STRICT src FROM conversations WHERE id = s.conversation_id;
    INSERT INTO conversations (owner_id, title, source, settings, forked_from_share)
    VALUES (new_owner, src.title, 'share', src.settings, share)
    RETURNING id INTO new_id;
    -- Its owner is its administrator, as for a conversation created anew.
    INSERT INTO conversation_participants (conversation_id, user_id, role)
    VALUES (new_id, new_owner, 'admin');
    INSERT INTO conversation_ai_models (conversation_id, tool_id, position, is_active, settings)
    SELECT new_id, tool_id, position, is_active, settings FROM conversation_ai_models
    WHERE conversation_id = src.id;
    FOR m IN SELECT (t.msg).* FROM share_thread(s.snapshot_message_id) t ORDER BY t.depth DESC
    LOOP
        INSERT INTO messages (conversation_id, parent_message_id, sender_type, sender_user_id,
                              sender_tool_id, content, content_type, prompt_tokens,
                              completion_tokens, tokens_estimated, response_time_ms, status,
                              is_first_responder, metadata, created_at)
        VALUES (new_id, prev, m.sender_type,
                CASE WHEN m.sender_type = 'user' THEN new_owner END, m.sender_tool_id,
                m.content, m.content_type, m.prompt_tokens, m.completion_tokens,
                m.tokens_estimated, m.response_time_ms, m.status, m.is_first_responder,
                jsonb_build_object('copied_from_share', share), m.created_at)
        RETURNING id INTO prev;
        n := n + 1;
    END LOOP;
    UPDATE conversations SET active_leaf_id = prev, total_messages = n, last_message_at = now()
    WHERE id = new_id;
    RETURN new_id;
END
$$;

-- Deleting a conversation kills its share for good (restoring does not revive it).
CREATE FUNCTION shared_chats_revoke_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE shared_chats SET revoked_at = now(), updated_at = now()
    WHERE conversation_id = NEW.id AND revoked_at IS NULL;
    RETURN NEW;
END
$$;
CREATE TRIGGER conversations_delete_revokes_share AFTER UPDATE OF deleted_at ON conversations
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
    EXECUTE FUNCTION shared_chats_revoke_deleted();

GRANT SELECT, INSERT, UPDATE ON shared_chats TO :"app_role";
GRANT SELECT, INSERT, DELETE ON share_views TO :"app_role";
