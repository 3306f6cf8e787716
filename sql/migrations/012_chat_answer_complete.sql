-- 012: the rest of a turn's beginning (chat_turn_record) leaves the way to
-- the first answer text (bench/chat). The user message's JSON now comes
-- with the reservation (chat_turn_reserve_json), so the client's start event can go out before the
-- provider is asked. A streamed answer's row is recorded once its first
-- text has reached the client; an answer with no text streamed by then (a
-- non-streamed send, a failure) is recorded and finished in one statement,
-- chat_answer_complete, as the provider has answered.

DROP FUNCTION chat_turn_record(uuid, uuid, text, uuid, uuid, uuid, boolean);

-- chat_turn_reserve (011), then the user's message as the API shows it
-- (NULL for a regeneration or without credits).
CREATE FUNCTION chat_turn_reserve_json(viewer uuid, conv uuid, parent uuid, content text,
                                       reserve bigint, regenerated uuid, is_group boolean,
                                       ntools integer, fixed integer,
                                       OUT code text, OUT user_message_id uuid,
                                       OUT user_message_json text, OUT answer_id uuid,
                                       OUT first_index integer)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT r.code, r.user_message_id, r.answer_id, r.first_index
      INTO code, user_message_id, answer_id, first_index
      FROM chat_turn_reserve(viewer, conv, parent, content, reserve, regenerated, is_group,
                             ntools, fixed) r;
    IF user_message_id IS NOT NULL THEN
        SELECT message_json(m)::text INTO user_message_json FROM messages m
         WHERE m.id = user_message_id;
    END IF;
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

-- Settle a reservation under the users row lock, never below zero: the
-- ledger records the change actually made ('release' for a failed call,
-- else 'settle') against the answer. Raises when the user is gone, so
-- nothing is half-applied. The new balance.
CREATE FUNCTION chat_settle(viewer uuid, reserved bigint, used bigint, failed boolean,
                            answer uuid) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    old_balance bigint;
    balance bigint;
BEGIN
    SELECT u.token_credits INTO old_balance FROM users u WHERE u.id = viewer FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'chat_settle: no user %', viewer;
    END IF;
    balance := greatest(old_balance + reserved - used, 0);
    UPDATE users SET token_credits = balance WHERE id = viewer;
    INSERT INTO credit_ledger (user_id, delta, balance_after, reason, message_id)
    VALUES (viewer, balance - old_balance, balance,
            CASE WHEN failed THEN 'release' ELSE 'settle' END, answer);
    RETURN balance;
END
$$;

-- Finish an answer whose row was recorded: its row, the settlement of its
-- reservation and the conversation (even a failed answer ends the visible
-- thread, so it can be regenerated). Raises when the answer or the user is
-- gone, so nothing is half-applied. The rows are those of 008.
CREATE OR REPLACE FUNCTION chat_answer_finish(answer uuid, content text, status text, error text,
                                              prompt_tokens integer, completion_tokens integer,
                                              estimated boolean, response_ms integer,
                                              viewer uuid, reserved bigint,
                                              OUT answer_json text, OUT balance bigint)
LANGUAGE plpgsql AS $$
DECLARE
    conversation uuid;
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
    balance := chat_settle(viewer, reserved,
                           chat_answer_finish.prompt_tokens::bigint
                           + chat_answer_finish.completion_tokens,
                           chat_answer_finish.status = 'error', answer);
    UPDATE conversations c
       SET total_messages = c.total_messages + 1, last_message_at = now(),
           active_leaf_id = answer, updated_at = now()
     WHERE c.id = conversation;
END
$$;

-- Record a turn's first answer finished, all or nothing: the arguments of
-- chat_answer_finish, then those of chat_turn_record but its answer id.
-- The rows chat_turn_record and chat_answer_finish would write, each
-- written once: the answer's row with its text, the conversation (the
-- user's message and the answer counted, the answer its active leaf).
CREATE FUNCTION chat_answer_complete(answer uuid, content text, status text, error text,
                                     prompt_tokens integer, completion_tokens integer,
                                     estimated boolean, response_ms integer, viewer uuid,
                                     reserved bigint, conv uuid, user_message uuid, title text,
                                     parent uuid, tool uuid, is_group boolean,
                                     OUT answer_json text, OUT balance bigint)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO messages (id, conversation_id, parent_message_id, sender_type, sender_tool_id,
                          content, status, error, prompt_tokens, completion_tokens,
                          tokens_estimated, response_time_ms, is_first_responder, created_at)
    VALUES (answer, conv, coalesce(user_message, parent), 'ai', tool, content, status, error,
            prompt_tokens, completion_tokens, estimated, response_ms, is_group,
            clock_timestamp());
    SELECT message_json(m)::text INTO answer_json FROM messages m WHERE m.id = answer;
    balance := chat_settle(viewer, reserved,
                           chat_answer_complete.prompt_tokens::bigint
                           + chat_answer_complete.completion_tokens,
                           chat_answer_complete.status = 'error', answer);
    UPDATE conversations c
       SET total_messages = c.total_messages + 1 + (user_message IS NOT NULL)::int,
           last_message_at = now(), active_leaf_id = answer,
           title = CASE WHEN user_message IS NOT NULL AND c.title = ''
                        THEN chat_answer_complete.title ELSE c.title END,
           updated_at = now()
     WHERE c.id = conv;
END
$$;
