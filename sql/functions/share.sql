-- Share links: what a share shows, a share as its owner sees it, copying a
-- share into a new conversation, and the batches of share views.
-- Applied by scripts/aichat-migrate after the migrations, on every run that
-- finds sql/functions/ changed, all files in one transaction in name order
-- (see sql/README.md). Each function is defined here only.

-- What a share shows: the thread ending at the snapshot, without failed or
-- unfinished answers. Root first.
CREATE OR REPLACE FUNCTION share_thread(snapshot uuid) RETURNS TABLE (msg messages, depth integer)
LANGUAGE sql STABLE AS $$
    SELECT p.msg, p.depth FROM message_path(snapshot) p
    WHERE (p.msg).status IN ('complete', 'incomplete')
    ORDER BY p.depth DESC
$$;

-- The newest message of the visible thread a share may end at.
CREATE OR REPLACE FUNCTION share_snapshot(conv uuid) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT (p.msg).id FROM message_path((SELECT active_leaf_id FROM conversations
                                         WHERE id = conv)) p
    WHERE (p.msg).status IN ('complete', 'incomplete')
    ORDER BY p.depth LIMIT 1
$$;

-- A share as its owner (and the audit log) sees it: never the token. Most of
-- its cost is the count of the messages it shows (the shared thread's, or
-- the version's when it shows one). version: the
-- version it shows (version_id), for people: its comment, reason, time and
-- the count of the messages the page shows of it; null when it shows the
-- conversation.
CREATE OR REPLACE FUNCTION share_json(s shared_chats) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    title text;
    owner text;
    messages bigint;
    version jsonb;
BEGIN
    SELECT c.title INTO title FROM conversations c WHERE c.id = s.conversation_id;
    SELECT u.username INTO owner FROM users u WHERE u.id = s.created_by;
    IF s.version_id IS NOT NULL THEN
        SELECT jsonb_build_object(
                   'id', v.id, 'comment', v.comment, 'reason', v.reason, 'created_at', v.created_at,
                   'message_count', (SELECT count(*) FROM jsonb_array_elements(v.snapshot->'messages') e
                                      WHERE e->>'status' IN ('complete', 'incomplete')))
          INTO version FROM conversation_versions v WHERE v.id = s.version_id;
        messages := (version->>'message_count')::bigint;
    ELSE
        SELECT count(*) INTO messages FROM share_thread(s.snapshot_message_id);
    END IF;
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
        'last_viewed_at', s.last_viewed_at,
        'version_id', s.version_id, 'show_annotations', s.show_annotations,
        'version', version);
END
$$;

-- Copy a share's messages into a new conversation of new_owner; returns its id.
CREATE OR REPLACE FUNCTION share_fork(share uuid, new_owner uuid) RETURNS uuid
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
CREATE OR REPLACE FUNCTION shared_chats_revoke_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE shared_chats SET revoked_at = now(), updated_at = now()
    WHERE conversation_id = NEW.id AND revoked_at IS NULL;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER conversations_delete_revokes_share AFTER UPDATE OF deleted_at ON conversations
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
    EXECUTE FUNCTION shared_chats_revoke_deleted();

-- A batch of views, as each httpd process's writer thread hands them over a
-- few times a second in one statement: a JSON array of objects, share_id and
-- audit (the view's audit row, as audit_insert takes it, with at, the time of
-- the view). Counts every view (one row update per share and batch, so views
-- never wait for each other on a hot share's row) and writes its audit row;
-- returns how many views it recorded.
CREATE OR REPLACE FUNCTION share_views_record(batch json) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE shared_chats s SET view_count = s.view_count + v.views,
           last_viewed_at = greatest(s.last_viewed_at, v.last)
      FROM (SELECT (e->>'share_id')::uuid AS share_id, count(*) AS views,
                   max(to_timestamp((e->'audit'->>'at')::double precision / 1e6)) AS last
              FROM json_array_elements(batch) e GROUP BY 1) v
     WHERE s.id = v.share_id;
    RETURN audit_insert(coalesce((SELECT json_agg(e->'audit') FROM json_array_elements(batch) e),
                                 '[]'::json));
END
$$;
