-- 008: a chat send (or regenerate) in fewer round trips (bench/chat). The
-- writes before the provider call (user message, conversation, reservation,
-- first-responder rotation, the first answer row) and those after it (the
-- answer, the settlement, the conversation) each become one function, called
-- in one statement: one round trip and one implicit transaction each, instead
-- of a BEGIN, five or six statements and a COMMIT. Same rows as before.

-- The thread ending at a message, root first, as a model is told it: each
-- message's sender type, model (id and name), content and status. Read with
-- the conversation before a turn begins. PL/pgSQL keeps its plan (see 006).
CREATE FUNCTION chat_context(leaf uuid) RETURNS json
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

-- Begin a turn. content is the user's message, or NULL for a regeneration
-- (regenerated: the answer regenerated, which the reservation then names).
-- tools are the turn's models in their order; the first answer row is for
-- the first responder: a group's fixed one (fixed, an index into tools),
-- else the rotation's. Nothing is written without credits for `reserve`:
-- code 'insufficient_credits' then, NULL otherwise. first_index is the
-- index into tools of the model that answers first.
CREATE FUNCTION chat_turn_begin(viewer uuid, conv uuid, parent uuid, content text, title text,
                                reserve bigint, regenerated uuid, is_group boolean, tools uuid[],
                                fixed integer,
                                OUT code text, OUT user_message_id uuid,
                                OUT user_message_json text, OUT answer_id uuid,
                                OUT first_index integer)
LANGUAGE plpgsql AS $$
DECLARE
    balance bigint;
    rotation integer := 0;
BEGIN
    -- The reservation first: without the credits nothing is written. The
    -- users row lock is then taken before the conversation's, as when the
    -- answer is finished (chat_answer_finish).
    UPDATE users SET token_credits = token_credits - reserve
     WHERE id = viewer AND token_credits >= reserve
    RETURNING token_credits INTO balance;
    IF NOT FOUND THEN
        code := 'insufficient_credits';
        RETURN;
    END IF;
    IF content IS NOT NULL THEN
        INSERT INTO messages (conversation_id, parent_message_id, sender_type, sender_user_id,
                              content, status)
        VALUES (conv, parent, 'user', viewer, content, 'complete')
        RETURNING id INTO user_message_id;
        UPDATE conversations c
           SET total_messages = c.total_messages + 1, last_message_at = now(),
               active_leaf_id = user_message_id,
               title = CASE WHEN c.title = '' THEN chat_turn_begin.title ELSE c.title END,
               first_responder = c.first_responder + is_group::int, updated_at = now()
         WHERE c.id = conv
        RETURNING c.first_responder - 1 INTO rotation;
    ELSIF is_group THEN
        UPDATE conversations c SET first_responder = c.first_responder + 1 WHERE c.id = conv
        RETURNING c.first_responder - 1 INTO rotation;
    END IF;
    INSERT INTO credit_ledger (user_id, delta, balance_after, reason, message_id)
    VALUES (viewer, -reserve, balance, 'reserve', coalesce(user_message_id, regenerated));
    first_index := CASE WHEN is_group THEN coalesce(fixed, rotation % cardinality(tools)) ELSE 0 END;
    -- The answer row is recorded before the provider is asked, whatever then
    -- happens. Its own clock: it follows the user's message of the same
    -- transaction (ordered by created_at).
    INSERT INTO messages (conversation_id, parent_message_id, sender_type, sender_tool_id,
                          content, status, is_first_responder, created_at)
    VALUES (conv, coalesce(user_message_id, parent), 'ai', tools[first_index + 1], '', 'streaming',
            is_group, clock_timestamp())
    RETURNING id INTO answer_id;
    IF user_message_id IS NOT NULL THEN
        SELECT message_json(m)::text INTO user_message_json FROM messages m
         WHERE m.id = user_message_id;
    END IF;
END
$$;

-- Finish an answer: its row, the settlement of its reservation under the
-- users row lock (never below zero; the ledger records the change actually
-- made: 'release' for a failed call, else 'settle'), and the conversation
-- (even a failed answer ends the visible thread, so it can be regenerated).
-- Raises when the answer or the user is gone, so nothing is half-applied.
CREATE FUNCTION chat_answer_finish(answer uuid, content text, status text, error text,
                                   prompt_tokens integer, completion_tokens integer,
                                   estimated boolean, response_ms integer, viewer uuid,
                                   reserved bigint,
                                   OUT answer_json text, OUT balance bigint)
LANGUAGE plpgsql AS $$
DECLARE
    conversation uuid;
    old_balance bigint;
BEGIN
    UPDATE messages m
       SET content = chat_answer_finish.content, status = chat_answer_finish.status,
           error = chat_answer_finish.error, prompt_tokens = chat_answer_finish.prompt_tokens,
           completion_tokens = chat_answer_finish.completion_tokens,
           tokens_estimated = estimated, response_time_ms = response_ms
     WHERE m.id = answer
    RETURNING message_json(m)::text, m.conversation_id INTO answer_json, conversation;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'chat_answer_finish: no message %', answer;
    END IF;
    SELECT u.token_credits INTO old_balance FROM users u WHERE u.id = viewer FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'chat_answer_finish: no user %', viewer;
    END IF;
    balance := greatest(old_balance + reserved - (chat_answer_finish.prompt_tokens::bigint
                                                  + chat_answer_finish.completion_tokens), 0);
    UPDATE users SET token_credits = balance WHERE id = viewer;
    INSERT INTO credit_ledger (user_id, delta, balance_after, reason, message_id)
    VALUES (viewer, balance - old_balance, balance,
            CASE WHEN chat_answer_finish.status = 'error' THEN 'release' ELSE 'settle' END,
            answer);
    UPDATE conversations c
       SET total_messages = c.total_messages + 1, last_message_at = now(),
           active_leaf_id = answer, updated_at = now()
     WHERE c.id = conversation;
END
$$;
