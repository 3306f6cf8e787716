-- 011: a turn begins in two statements instead of one (bench/chat). What
-- must precede the provider call stays before it: the reservation, the
-- user's message, a group's rotation, the ledger row and (from the module,
-- in the same statement) the request's audit row, committed together by
-- chat_turn_reserve. The rest (the conversation's count, activity, active
-- leaf and title, the first answer's row, the user message's JSON) is
-- chat_turn_record, which the module runs once the provider has the request,
-- while it answers: its time is no longer added to the time to the first
-- answer text. The rows are those chat_turn_begin wrote.

DROP FUNCTION chat_turn_begin(uuid, uuid, uuid, text, text, bigint, uuid, boolean, uuid[], integer);

-- Reserve and record the user's message. content is the user's message, or
-- NULL for a regeneration (regenerated: the answer regenerated, which the
-- reservation then names). ntools models answer; a group's first responder
-- is its fixed one (fixed, an index into them) or the rotation's. Nothing is
-- written without credits for `reserve`: code 'insufficient_credits' then,
-- NULL otherwise. answer_id is the id the first answer's row will have;
-- first_index the index of the model that answers first.
CREATE FUNCTION chat_turn_reserve(viewer uuid, conv uuid, parent uuid, content text,
                                  reserve bigint, regenerated uuid, is_group boolean,
                                  ntools integer, fixed integer,
                                  OUT code text, OUT user_message_id uuid,
                                  OUT answer_id uuid, OUT first_index integer)
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
-- user_message or, for a regeneration, parent; tool its model), with the
-- user message's JSON. The answer's own clock orders it after the user's
-- message.
CREATE FUNCTION chat_turn_record(conv uuid, user_message uuid, title text, answer uuid,
                                 parent uuid, tool uuid, is_group boolean,
                                 OUT user_message_json text)
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
    IF user_message IS NOT NULL THEN
        SELECT message_json(m)::text INTO user_message_json FROM messages m
         WHERE m.id = user_message;
    END IF;
END
$$;

-- Give back what a turn reserved and did not settle (the database failed the
-- turn before its answers were stored): the ledger names the message the
-- reservation named.
CREATE FUNCTION chat_turn_release(viewer uuid, reserved bigint, message uuid,
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
