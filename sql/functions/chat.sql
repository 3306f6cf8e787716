-- Conversations and messages as the API shows them, the message tree, and a
-- chat turn's writes: reserve credits and record the user's message before the
-- provider is asked, record and finish the answers, settle or give back the
-- credits.
--
-- Most are PL/pgSQL rather than SQL on purpose: a SQL function with
-- sub-selects is never inlined, so PostgreSQL plans its sub-selects again for
-- every statement that calls it, while PL/pgSQL keeps its plans for the
-- session.
-- Applied by scripts/aichat-migrate after the migrations, on every run that
-- finds sql/functions/ changed, all files in one transaction in name order
-- (see sql/README.md). Each function is defined here only.

-- Whether viewer takes part in conversation conv (owned by owner) and may
-- see it: never while an administrator has deleted its owner, whose content
-- is hidden from everyone else until restored. Every path by which someone
-- other than the owner lists, opens, sends to, searches, tags, annotates or
-- exports a conversation asks this.
CREATE OR REPLACE FUNCTION conversation_member_sees(conv uuid, owner uuid, viewer uuid)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM conversation_participants p
                    WHERE p.conversation_id = conv AND p.user_id = viewer)
       AND NOT EXISTS (SELECT 1 FROM users o WHERE o.id = owner AND o.deleted_at IS NOT NULL)
$$;

-- A conversation as its viewer sees it. The models are read once for both
-- `tools` and `is_group`.
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
        'tools', tools, 'participants', participants, 'is_group', ntools > 1,
        'summary', c.summary, 'summary_model', c.summary_model,
        'summarized_at', c.summarized_at,
        'tags', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'name', t.name,
                                                              'color', t.color)
                                           ORDER BY lower(t.name), t.id), '[]')
                   FROM conversation_tags ct JOIN tags t ON t.id = ct.tag_id
                  WHERE ct.conversation_id = c.id AND t.user_id = viewer));
END
$$;

-- Who sent a message, as the API shows it: a model's slug, display name and
-- model id; an imported answer whose model is not in the catalog, the model
-- as the export named it (no slug); a person's username and display name.
CREATE OR REPLACE FUNCTION message_sender(m messages) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    sender jsonb;
BEGIN
    IF m.sender_type = 'ai' THEN
        SELECT jsonb_build_object('slug', t.slug, 'display_name', t.display_name,
                                  'model_id', t.model_id)
            INTO sender FROM ai_tools t WHERE t.id = m.sender_tool_id;
        IF sender IS NULL AND m.metadata ? 'model' THEN
            sender := jsonb_build_object('slug', NULL, 'display_name', m.metadata->>'model',
                                         'model_id', m.metadata->>'model');
        END IF;
    ELSE
        SELECT jsonb_build_object('username', u.username,
                                  'display_name', coalesce(u.display_name, u.username))
            INTO sender FROM users u WHERE u.id = m.sender_user_id;
    END IF;
    RETURN sender;
END
$$;

-- A message, with the ids of its siblings (same parent) for branch arrows and
-- its position among them, and the template (id, version, name) it was sent
-- from. A root message's siblings (no parent) are found
-- through the partial index messages_roots, since `IS NOT DISTINCT FROM` can
-- use no index.
CREATE OR REPLACE FUNCTION message_json(m messages) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    sender jsonb;
    siblings jsonb;
    earlier bigint;
    template jsonb;
BEGIN
    sender := message_sender(m);
    IF m.template_version_id IS NOT NULL THEN
        SELECT jsonb_build_object('id', v.template_id, 'version', v.version, 'name', v.name)
            INTO template FROM template_versions v WHERE v.id = m.template_version_id;
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
        'created_at', m.created_at, 'sibling_ids', siblings, 'sibling_index', earlier,
        'template', template);
END
$$;

-- The thread ending at a message: root first.
CREATE OR REPLACE FUNCTION message_path(leaf uuid) RETURNS TABLE (msg messages, depth integer)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE path AS (
        SELECT m AS msg, 0 AS depth FROM messages m WHERE m.id = leaf
        UNION ALL
        SELECT p, path.depth + 1 FROM messages p JOIN path ON p.id = (path.msg).parent_message_id
        WHERE path.depth < 100000)
    SELECT msg, depth FROM path ORDER BY depth DESC
$$;

-- From a message down to the newest leaf below it (following the newest child).
CREATE OR REPLACE FUNCTION message_newest_leaf(start uuid) RETURNS uuid
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE down(id, depth) AS (
        SELECT start, 0
        UNION ALL
        SELECT (SELECT c.id FROM messages c WHERE c.parent_message_id = down.id
                ORDER BY c.created_at DESC, c.id DESC LIMIT 1), down.depth + 1
        FROM down WHERE down.id IS NOT NULL AND down.depth < 100000)
    SELECT id FROM down WHERE id IS NOT NULL ORDER BY depth DESC LIMIT 1
$$;

-- The conversations of a user's list, newest activity first: their own and
-- those they take part in as a member (the owner is the only admin), each
-- half read from its index, at most limit of each; or the owner's deleted
-- ones. args (JSON): viewer, archived, pinned (or null for both), tool (a
-- model's slug, or null), pattern (an ILIKE pattern for the title, or null),
-- tags (a JSON array of tag ids, or null: a tag not the viewer's matches
-- nothing) with tags_all (all of them, else any), has_notes (with notes,
-- without, or null for both), deleted, after_ts and after_id (a cursor, or
-- null), limit (or null: all of them). The one filter of the list: its pages
-- (chat_conversation_list) and a bulk action on all that match
-- (organise_bulk) read it.
CREATE OR REPLACE FUNCTION chat_conversation_match(args json) RETURNS SETOF conversations
LANGUAGE plpgsql STABLE AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    arch boolean := coalesce((args->>'archived')::boolean, false);
    pin boolean := (args->>'pinned')::boolean;
    tool text := args->>'tool';
    pattern text := args->>'pattern';
    after_at timestamptz := timestamptz 'epoch' + (args->>'after_ts')::bigint * interval '1 microsecond';
    after_id uuid := (args->>'after_id')::uuid;
    lim int := (args->>'limit')::int;
    -- Tags (the viewer's only): any of them, or all when tags_all.
    tags_arg json := CASE json_typeof(args->'tags') WHEN 'array' THEN args->'tags' ELSE '[]' END;
    tag_ids uuid[] := ARRAY(SELECT t.id FROM tags t
                             WHERE t.user_id = viewer
                               AND t.id::text IN (SELECT json_array_elements_text(tags_arg)));
    ntags int := (SELECT count(DISTINCT e) FROM json_array_elements_text(tags_arg) e);
    tags_all boolean := coalesce((args->>'tags_all')::boolean, false);
    notes boolean := (args->>'has_notes')::boolean;
    -- The owner's deleted chats instead, by last activity, filtered only by
    -- pinned and the title (others never see a deleted chat).
    del boolean := coalesce((args->>'deleted')::boolean, false);
BEGIN
    RETURN QUERY
        SELECT (u.conv).*
          FROM ((SELECT c AS conv, c.id, c.last_message_at FROM conversations c
                  WHERE NOT del AND c.owner_id = viewer AND c.deleted_at IS NULL AND c.archived = arch
                    AND (pin IS NULL OR c.pinned = pin)
                    AND (tool IS NULL OR EXISTS (
                            SELECT 1 FROM conversation_ai_models m JOIN ai_tools t ON t.id = m.tool_id
                             WHERE m.conversation_id = c.id AND t.slug = tool))
                    AND (pattern IS NULL OR c.title ILIKE pattern)
                    AND (ntags = 0 OR (SELECT count(*) FROM conversation_tags ct
                                        WHERE ct.conversation_id = c.id
                                          AND ct.tag_id = ANY (tag_ids))
                                       >= CASE WHEN tags_all THEN ntags ELSE 1 END)
                    AND (notes IS NULL OR conversation_has_notes(c.id) = notes)
                    AND (after_id IS NULL OR (c.last_message_at, c.id) < (after_at, after_id))
                  ORDER BY c.last_message_at DESC, c.id DESC LIMIT lim)
                UNION ALL
                (SELECT c AS conv, c.id, c.last_message_at
                   FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
                  WHERE p.user_id = viewer AND p.role = 'member' AND c.owner_id <> p.user_id
                    AND NOT del AND c.deleted_at IS NULL AND c.archived = arch
                    AND conversation_member_sees(c.id, c.owner_id, viewer)
                    AND (pin IS NULL OR c.pinned = pin)
                    AND (tool IS NULL OR EXISTS (
                            SELECT 1 FROM conversation_ai_models m JOIN ai_tools t ON t.id = m.tool_id
                             WHERE m.conversation_id = c.id AND t.slug = tool))
                    AND (pattern IS NULL OR c.title ILIKE pattern)
                    AND (ntags = 0 OR (SELECT count(*) FROM conversation_tags ct
                                        WHERE ct.conversation_id = c.id
                                          AND ct.tag_id = ANY (tag_ids))
                                       >= CASE WHEN tags_all THEN ntags ELSE 1 END)
                    AND (notes IS NULL OR conversation_has_notes(c.id) = notes)
                    AND (after_id IS NULL OR (c.last_message_at, c.id) < (after_at, after_id))
                  ORDER BY c.last_message_at DESC, c.id DESC LIMIT lim)
                UNION ALL
                (SELECT c AS conv, c.id, c.last_message_at FROM conversations c
                  WHERE del AND c.owner_id = viewer AND c.deleted_at IS NOT NULL
                    AND (pin IS NULL OR c.pinned = pin)
                    AND (pattern IS NULL OR c.title ILIKE pattern)
                    AND (after_id IS NULL OR (c.last_message_at, c.id) < (after_at, after_id))
                  ORDER BY c.last_message_at DESC, c.id DESC LIMIT lim)) u
         ORDER BY u.last_message_at DESC, u.id DESC LIMIT lim;
END
$$;

-- A page of a user's conversation list (chat_conversation_match, args as it
-- takes them), as JSON with the cursor of the next page (core/aic_cursor:
-- "v", id, last activity in microseconds since the epoch).
CREATE OR REPLACE FUNCTION chat_conversation_list(args json) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    lim int := (args->>'limit')::int;
BEGIN
    RETURN (
        WITH page AS (SELECT c AS conv, c.id, c.last_message_at
                        FROM chat_conversation_match(args) c)
        SELECT json_build_object(
                   'items', coalesce(json_agg(conversation_json(conv, viewer)
                                              ORDER BY last_message_at DESC, id DESC), '[]'::json),
                   'next', CASE WHEN count(*) = lim THEN (
                       SELECT encode(convert_to('v|' || id || '|'
                                  || (extract(epoch FROM last_message_at) * 1000000)::bigint,
                                  'UTF8'), 'hex')
                         FROM page ORDER BY last_message_at, id LIMIT 1) END)
          FROM page);
END
$$;

-- The thread ending at a message, root first, as a model is told it: each
-- message's sender type, model (id and name), content and status. Read with
-- the conversation before a turn begins.
CREATE OR REPLACE FUNCTION chat_context(leaf uuid) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT coalesce(json_agg(json_build_object(
                'sender_type', (p.msg).sender_type, 'tool_id', (p.msg).sender_tool_id,
                'tool', (SELECT t.display_name FROM ai_tools t WHERE t.id = (p.msg).sender_tool_id),
                'content', (p.msg).content, 'status', (p.msg).status) ORDER BY p.depth DESC),
                '[]'::json)
            FROM message_path(leaf) p);
END
$$;

-- A reservation of credits, for a chat turn and an API call alike: the
-- user's balance lowered by amount when it holds that much (never below
-- zero). The new balance, or NULL when it does not (nothing changed); the
-- caller writes the ledger row. The one reservation of a turn
-- (chat_turn_reserve), a later model of a group turn (chat_answer_begin),
-- a summary (chat_call_reserve) and an API call (api_call_reserve).
CREATE OR REPLACE FUNCTION credits_reserve(viewer uuid, amount bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    balance bigint;
BEGIN
    UPDATE users SET token_credits = token_credits - amount
     WHERE id = viewer AND token_credits >= amount
    RETURNING token_credits INTO balance;
    RETURN balance;
END
$$;

-- Begin a turn: reserve and record the user's message. args (JSON): viewer,
-- conv, parent, content (the user's message, or null for a regeneration),
-- reserve (the credits), regenerated (the answer regenerated, which the
-- reservation then names), is_group, ntools (how many models answer), fixed
-- (a group's fixed first responder, an index into them, or null for the
-- rotation's), audit (the request's audit row, as audit_insert takes it,
-- written with the reservation; its entity is the user's message, else the
-- regenerated answer), template_version (the template version the message
-- was filled from, whose use is counted with it, or null). Returns JSON: code 'insufficient_credits' when the balance is
-- too low (and nothing is written), else null; user_message_id and
-- user_message (the message as the API shows it, so that the client's start
-- event can go out before the provider is asked; null for a regeneration);
-- answer_id, the id the first answer's row will have; first_index, the
-- index of the model that answers first.
CREATE OR REPLACE FUNCTION chat_turn_reserve(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    a record;
    balance bigint;
    rotation integer := 0;
    message_id uuid;
BEGIN
    SELECT * INTO a FROM json_to_record(args)
        AS x(viewer uuid, conv uuid, parent uuid, content text, reserve bigint,
             regenerated uuid, is_group boolean, ntools integer, fixed integer,
             template_version uuid);
    -- The reservation first: without the credits nothing is written. The
    -- users row lock is then taken before the conversation's, as when the
    -- answer is finished (chat_answer_finish).
    balance := credits_reserve(a.viewer, a.reserve);
    IF balance IS NULL THEN
        RETURN json_build_object('code', 'insufficient_credits');
    END IF;
    IF a.content IS NOT NULL THEN
        INSERT INTO messages (conversation_id, parent_message_id, sender_type, sender_user_id,
                              content, status, template_version_id)
        VALUES (a.conv, a.parent, 'user', a.viewer, a.content, 'complete', a.template_version)
        RETURNING id INTO message_id;
    END IF;
    IF a.template_version IS NOT NULL THEN
        PERFORM template_used(a.template_version);
    END IF;
    IF a.is_group THEN
        UPDATE conversations c SET first_responder = c.first_responder + 1 WHERE c.id = a.conv
        RETURNING c.first_responder - 1 INTO rotation;
    END IF;
    INSERT INTO credit_ledger (user_id, delta, balance_after, reason, message_id)
    VALUES (a.viewer, -a.reserve, balance, 'reserve', coalesce(message_id, a.regenerated));
    PERFORM audit_insert(((args->'audit')::jsonb
                          || jsonb_build_object('entity_id', coalesce(message_id, a.regenerated)))::json);
    RETURN json_build_object(
        'code', NULL,
        'user_message_id', message_id,
        'user_message', (SELECT message_json(m) FROM messages m WHERE m.id = message_id),
        'answer_id', gen_random_uuid(),
        'first_index', CASE WHEN a.is_group THEN coalesce(a.fixed, rotation % a.ntools) ELSE 0 END);
END
$$;

-- Begin a group's later answer: its row, before its text, and the credits
-- its request needs beyond what the turn reserved for it (the turn's earlier
-- answers are part of its context). args (JSON): conv, parent, tool (its
-- model), viewer, more (those credits, 0 for none). Returns JSON: answer,
-- the row's id; code 'insufficient_credits' when the balance cannot cover
-- more (nothing more is reserved and the model is not to be asked), else
-- null. The users row lock is taken first, as by chat_turn_reserve.
CREATE OR REPLACE FUNCTION chat_answer_begin(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    a record;
    balance bigint;
    answer uuid;
    refused boolean := false;
BEGIN
    SELECT * INTO a FROM json_to_record(args)
        AS x(conv uuid, parent uuid, tool uuid, viewer uuid, more bigint);
    IF a.more > 0 THEN
        balance := credits_reserve(a.viewer, a.more);
        refused := balance IS NULL;
    END IF;
    INSERT INTO messages (conversation_id, parent_message_id, sender_type, sender_tool_id,
                          content, status, is_first_responder)
    VALUES (a.conv, a.parent, 'ai', a.tool, '', 'streaming', false)
    RETURNING id INTO answer;
    IF a.more > 0 AND NOT refused THEN
        INSERT INTO credit_ledger (user_id, delta, balance_after, reason, message_id)
        VALUES (a.viewer, -a.more, balance, 'reserve', answer);
    END IF;
    RETURN json_build_object('answer', answer,
                             'code', CASE WHEN refused THEN 'insufficient_credits' END);
END
$$;

-- Record the rest of a turn that chat_turn_reserve began, once a streamed
-- answer's first text has reached the client: the conversation (for a user's
-- message: its count, activity, active leaf and, when it has none, the title)
-- and the first answer's row. args (JSON): conv, user_message (null for a
-- regeneration), title, answer (the first answer's id), parent (what a
-- regeneration answers), tool (its model), is_group. The answer's own clock
-- orders it after the user's message.
CREATE OR REPLACE FUNCTION chat_turn_record(args json) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    a record;
BEGIN
    SELECT * INTO a FROM json_to_record(args)
        AS x(conv uuid, user_message uuid, title text, answer uuid, parent uuid, tool uuid,
             is_group boolean);
    IF a.user_message IS NOT NULL THEN
        UPDATE conversations c
           SET total_messages = c.total_messages + 1, last_message_at = now(),
               active_leaf_id = a.user_message,
               title = CASE WHEN c.title = '' THEN a.title ELSE c.title END,
               updated_at = now()
         WHERE c.id = a.conv;
    END IF;
    INSERT INTO messages (id, conversation_id, parent_message_id, sender_type, sender_tool_id,
                          content, status, is_first_responder, created_at)
    VALUES (a.answer, a.conv, coalesce(a.user_message, a.parent), 'ai', a.tool, '', 'streaming',
            a.is_group, clock_timestamp());
END
$$;

-- Give back what a turn reserved and did not settle (the database failed the
-- turn before its answers were stored): the ledger names the message the
-- reservation named.
CREATE OR REPLACE FUNCTION chat_turn_release(viewer uuid, reserved bigint, message uuid,
                                             OUT balance bigint)
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET token_credits = token_credits + reserved WHERE id = viewer
    RETURNING token_credits INTO balance;
    IF FOUND THEN
        INSERT INTO credit_ledger (user_id, delta, balance_after, reason, message_id)
        VALUES (viewer, reserved, balance, 'release', message);
    END IF;
END
$$;

-- Reserve credits for a call outside a turn (a summary; aic_chat_call_run):
-- never below zero, with its ledger row (note says what for). The new
-- balance, or NULL when it is too low (and nothing is written). Settled or
-- given back by chat_settle.
CREATE OR REPLACE FUNCTION chat_call_reserve(viewer uuid, amount bigint, note text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    balance bigint;
BEGIN
    balance := credits_reserve(viewer, amount);
    IF balance IS NOT NULL THEN
        INSERT INTO credit_ledger (user_id, delta, balance_after, reason, note)
        VALUES (viewer, -amount, balance, 'reserve', note);
    END IF;
    RETURN balance;
END
$$;

-- Settle a reservation under the users row lock (FOR NO KEY UPDATE, as an
-- UPDATE of the balance takes: a foreign key check on the user, such as a
-- summary job's insert, does not wait for it, so no deadlock with a
-- transaction that locked a conversation first): charged what was used, at
-- most what was reserved (a reservation bounds what a call can use; a
-- provider reporting more is charged the reservation), so a balance never
-- goes below zero. The ledger records the change ('release' for a failed
-- call, else 'settle') against the answer. Raises when the user is gone, so
-- nothing is half-applied. The new balance.
CREATE OR REPLACE FUNCTION chat_settle(viewer uuid, reserved bigint, used bigint, failed boolean,
                                       answer uuid) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    old_balance bigint;
    balance bigint;
BEGIN
    SELECT u.token_credits INTO old_balance FROM users u WHERE u.id = viewer FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'chat_settle: no user %', viewer;
    END IF;
    balance := old_balance + reserved - least(used, reserved);
    UPDATE users SET token_credits = balance WHERE id = viewer;
    INSERT INTO credit_ledger (user_id, delta, balance_after, reason, message_id)
    VALUES (viewer, balance - old_balance, balance,
            CASE WHEN failed THEN 'release' ELSE 'settle' END, answer);
    RETURN balance;
END
$$;

-- Finish an answer whose row was recorded: its row, the settlement of its
-- reservation and the conversation (even a failed answer ends the visible
-- thread, so it can be regenerated). args (JSON): answer, content, status,
-- error, prompt_tokens, completion_tokens, estimated, response_ms, viewer,
-- reserved. Returns JSON: answer (the message as the API shows it) and
-- balance. Raises when the answer or the user is gone, so nothing is
-- half-applied.
CREATE OR REPLACE FUNCTION chat_answer_finish(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    a record;
    conversation uuid;
    answer_json jsonb;
    balance bigint;
BEGIN
    SELECT * INTO a FROM json_to_record(args)
        AS x(answer uuid, content text, status text, error text, prompt_tokens integer,
             completion_tokens integer, estimated boolean, response_ms integer, viewer uuid,
             reserved bigint);
    UPDATE messages m
       SET content = a.content, status = a.status, error = a.error,
           prompt_tokens = a.prompt_tokens, completion_tokens = a.completion_tokens,
           tokens_estimated = a.estimated, response_time_ms = a.response_ms
     WHERE m.id = a.answer
    RETURNING message_json(m), m.conversation_id INTO answer_json, conversation;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'chat_answer_finish: no message %', a.answer;
    END IF;
    balance := chat_settle(a.viewer, a.reserved, a.prompt_tokens::bigint + a.completion_tokens,
                           a.status = 'error', a.answer);
    UPDATE conversations c
       SET total_messages = c.total_messages + 1, last_message_at = now(),
           active_leaf_id = a.answer, updated_at = now()
     WHERE c.id = conversation;
    RETURN json_build_object('answer', answer_json, 'balance', balance);
END
$$;

-- Record a turn's first answer finished, all or nothing (an answer with no
-- text streamed by the time the provider answered: a non-streamed send, a
-- failure): args are chat_answer_finish's and chat_turn_record's (conv,
-- user_message, title, parent, tool, is_group); so is the result. The rows
-- chat_turn_record and chat_answer_finish would write, each written once: the
-- answer's row with its text, the conversation (the user's message and the
-- answer counted, the answer its active leaf).
CREATE OR REPLACE FUNCTION chat_answer_complete(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    a record;
    answer_json jsonb;
    balance bigint;
BEGIN
    SELECT * INTO a FROM json_to_record(args)
        AS x(answer uuid, content text, status text, error text, prompt_tokens integer,
             completion_tokens integer, estimated boolean, response_ms integer, viewer uuid,
             reserved bigint, conv uuid, user_message uuid, title text, parent uuid, tool uuid,
             is_group boolean);
    INSERT INTO messages (id, conversation_id, parent_message_id, sender_type, sender_tool_id,
                          content, status, error, prompt_tokens, completion_tokens,
                          tokens_estimated, response_time_ms, is_first_responder, created_at)
    VALUES (a.answer, a.conv, coalesce(a.user_message, a.parent), 'ai', a.tool, a.content,
            a.status, a.error, a.prompt_tokens, a.completion_tokens, a.estimated, a.response_ms,
            a.is_group, clock_timestamp());
    -- Read after the insert: its siblings then include the answer itself.
    SELECT message_json(m) INTO answer_json FROM messages m WHERE m.id = a.answer;
    balance := chat_settle(a.viewer, a.reserved, a.prompt_tokens::bigint + a.completion_tokens,
                           a.status = 'error', a.answer);
    UPDATE conversations c
       SET total_messages = c.total_messages + 1 + (a.user_message IS NOT NULL)::int,
           last_message_at = now(), active_leaf_id = a.answer,
           title = CASE WHEN a.user_message IS NOT NULL AND c.title = ''
                        THEN a.title ELSE c.title END,
           updated_at = now()
     WHERE c.id = a.conv;
    RETURN json_build_object('answer', answer_json, 'balance', balance);
END
$$;

-- Put in order the turns the database failed, once the database answers
-- again; once per turn however often it is called (abandoned_turns): the
-- module calls it at once and, when that fails, again from a writer thread
-- that retries until the database is back (aic_batch).
-- Each element of batch a turn: turn (its first answer id), viewer,
-- released (the credits its failed models reserved), message (the message
-- its reservation named), conv, user_message (NULL for a regeneration),
-- title, counted (whether the conversation already counts the user
-- message), answer (the failed model's answer, NULL when it has no row).
-- The failed answer's row, when it is still 'streaming', ends as an error
-- and the thread's visible end; the user message joins the visible thread
-- when the turn did not record it. Returns the balance after the last turn
-- given back (NULL when none was).
CREATE OR REPLACE FUNCTION chat_turns_abandon(batch json) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    marked boolean;
    given bigint;
BEGIN
    FOR t IN SELECT * FROM json_to_recordset(batch)
                 AS x(turn uuid, viewer uuid, released bigint, message uuid, conv uuid,
                      user_message uuid, title text, counted boolean, answer uuid)
    LOOP
        INSERT INTO abandoned_turns (turn_id, user_id, released)
        VALUES (t.turn, t.viewer, t.released)
        ON CONFLICT (turn_id) DO NOTHING;
        CONTINUE WHEN NOT FOUND;
        UPDATE messages m
           SET status = 'error',
               error = 'The database became unavailable before the answer was stored.'
         WHERE m.id = t.answer AND m.status = 'streaming';
        marked := FOUND;
        IF marked OR (t.user_message IS NOT NULL AND NOT t.counted) THEN
            UPDATE conversations c
               SET total_messages = c.total_messages + marked::int
                                    + (t.user_message IS NOT NULL AND NOT t.counted)::int,
                   last_message_at = now(),
                   active_leaf_id = CASE WHEN marked THEN t.answer ELSE t.user_message END,
                   title = CASE WHEN t.user_message IS NOT NULL AND NOT t.counted AND c.title = ''
                                THEN t.title ELSE c.title END,
                   updated_at = now()
             WHERE c.id = t.conv;
        END IF;
        given := chat_turn_release(t.viewer, t.released, t.message);
    END LOOP;
    RETURN given;
END
$$;
