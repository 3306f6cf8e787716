-- 006: a cheaper message_json (bench/chat: building message JSON was most of
-- the database time of a send), in PL/pgSQL since (sql/functions/chat.sql).
-- The siblings of a root message (no parent) were found by scanning the
-- whole conversation, since `IS NOT DISTINCT FROM` can use no index: roots
-- get a partial index.

CREATE INDEX messages_roots ON messages (conversation_id, created_at, id)
    WHERE parent_message_id IS NULL;
