-- 011: a turn begins in two statements instead of one (bench/chat). What
-- must precede the provider call stays before it: the reservation, the
-- user's message, a group's rotation, the ledger row and (from the module,
-- in the same statement) the request's audit row, committed together by
-- chat_turn_reserve. The rest (the conversation's count, activity, active
-- leaf and title, the first answer's row, the user message's JSON) is
-- chat_turn_record, which the module runs once the provider has the request,
-- while it answers: its time is no longer added to the time to the first
-- answer text. The rows are those chat_turn_begin wrote. The functions are
-- in sql/functions/chat.sql.

-- IF EXISTS: a fresh database never had it (functions come after the
-- migrations).
DROP FUNCTION IF EXISTS chat_turn_begin(uuid, uuid, uuid, text, text, bigint, uuid, boolean, uuid[], integer);
