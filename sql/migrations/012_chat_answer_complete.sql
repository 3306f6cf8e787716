-- 012: the rest of a turn's beginning (chat_turn_record) leaves the way to
-- the first answer text (bench/chat). The user message's JSON now comes
-- with the reservation (chat_turn_reserve_json), so the client's start
-- event can go out before the provider is asked. A streamed answer's row is
-- recorded once its first text has reached the client; an answer with no
-- text streamed by then (a non-streamed send, a failure) is recorded and
-- finished in one statement, chat_answer_complete, as the provider has
-- answered. The functions are in sql/functions/chat.sql.

-- chat_turn_record loses its OUT parameter (the user message's JSON), which
-- CREATE OR REPLACE cannot do. IF EXISTS: a fresh database never had it.
DROP FUNCTION IF EXISTS chat_turn_record(uuid, uuid, text, uuid, uuid, uuid, boolean);
