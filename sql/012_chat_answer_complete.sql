-- 012: the rest of a turn's beginning (chat_turn_record) leaves the way to
-- the first answer text (bench/chat). The user message's JSON now comes
-- with the reservation, so the client's start event can go out before the
-- provider is asked. A streamed answer's row is recorded once its first
-- text has reached the client; an answer with no text streamed by then (a
-- non-streamed send, a failure) is recorded and finished in one statement,
-- chat_answer_complete, as the provider has answered.

DROP FUNCTION chat_turn_reserve(uuid, uuid, uuid, text, bigint, uuid, boolean, integer, integer);
DROP FUNCTION chat_turn_record(uuid, uuid, text, uuid, uuid, uuid, boolean);

-- Reserve and record the user's message. content is the user's message, or
-- NULL for a regeneration (regenerated: the answer regenerated, which the
-- reservation then names). ntools models answer; a group's first responder
-- is its fixed one (fixed, an index into them) or the rotation's. Nothing is
-- written without credits for `reserve`: code 'insufficient_credits' then,
-- NULL otherwise. user_message_json is the user's message as the API shows
-- it; answer_id the id the first answer's row will have; first_index the
-- index of the model that answers first.
CREATE FUNCTION chat_turn_reserve(viewer uuid, conv uuid, parent uuid, content text,
                                  reserve bigint, regenerated uuid, is_group boolean,
                                  ntools integer, fixed integer,
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
        SELECT message_json(m)::text INTO user_message_json FROM messages m
         WHERE m.id = user_message_id;
    END IF;
    IF is_group THEN
        UPDATE conversations c SET first_responder = c.first_responder + 1 WHERE c.id = conv
        RETURNING c.first_responder - 1 INTO rotation;
    END IF;
    INSERT INTO credit_ledger (user_id, delta, balance_after, reason, message_id)
    VALUES (viewer, -reserve, balance, 'reserve', coalesce(user_message_id, regenerated));
    first_index := CASE WHEN is_group THEN coalesce(fixed, rotation % ntools) ELSE 0 END;
    answer_id := gen_random_uuid();
END
$$;

-- Record the rest of a turn that chat_turn_reserve began: the conversation
-- (for a user's message: its count, activity, active leaf and, when it has
-- none, the title) and the first answer's row (answer, answering
-- user_message or, for a regeneration, parent; tool its model). The
-- answer's own clock orders it after the user's message.
CREATE FUNCTION chat_turn_record(conv uuid, user_message uuid, title text, answer uuid,
                                 parent uuid, tool uuid, is_group boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF user_message IS NOT NULL THEN
        UPDATE conversations c
           SET total_messages = c.total_messages + 1, last_message_at = now(),
               active_leaf_id = user_message,
               title = CASE WHEN c.title = '' THEN chat_turn_record.title ELSE c.title END,
               updated_at = now()
         WHERE c.id = conv;
    END IF;
    INSERT INTO messages (id, conversation_id, parent_message_id, sender_type, sender_tool_id,
                          content, status, is_first_responder, created_at)
    VALUES (answer, conv, coalesce(user_message, parent), 'ai', tool, '', 'streaming', is_group,
            clock_timestamp());
END
$$;

-- Record a turn's first answer and finish it, all or nothing: the
-- arguments of chat_answer_finish, then those of chat_turn_record but its
-- answer id.
CREATE FUNCTION chat_answer_complete(answer uuid, content text, status text, error text,
                                     prompt_tokens integer, completion_tokens integer,
                                     estimated boolean, response_ms integer, viewer uuid,
                                     reserved bigint, conv uuid, user_message uuid, title text,
                                     parent uuid, tool uuid, is_group boolean,
                                     OUT answer_json text, OUT balance bigint)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM chat_turn_record(conv, user_message, title, answer, parent, tool, is_group);
    SELECT f.answer_json, f.balance INTO answer_json, balance
      FROM chat_answer_finish(answer, content, status, error, prompt_tokens, completion_tokens,
                              estimated, response_ms, viewer, reserved) f;
END
$$;
