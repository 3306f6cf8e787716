-- The chat turn's functions with many arguments take one JSON argument with
-- named keys and return one JSON object (sql/functions/chat.sql):
-- chat_turn_reserve (which now also gives the user message's JSON, so
-- chat_turn_reserve_json goes), chat_turn_record, chat_answer_finish and
-- chat_answer_complete. CREATE OR REPLACE cannot change a function's
-- arguments or result: the old signatures are dropped here. IF EXISTS: a
-- fresh database never had them.
DROP FUNCTION IF EXISTS chat_turn_reserve_json(uuid, uuid, uuid, text, bigint, uuid, boolean,
                                               integer, integer);
DROP FUNCTION IF EXISTS chat_turn_reserve(uuid, uuid, uuid, text, bigint, uuid, boolean, integer,
                                          integer);
DROP FUNCTION IF EXISTS chat_turn_record(uuid, uuid, text, uuid, uuid, uuid, boolean);
DROP FUNCTION IF EXISTS chat_answer_finish(uuid, text, text, text, integer, integer, boolean,
                                           integer, uuid, bigint);
DROP FUNCTION IF EXISTS chat_answer_complete(uuid, text, text, text, integer, integer, boolean,
                                             integer, uuid, bigint, uuid, uuid, text, uuid, uuid,
                                             boolean);
