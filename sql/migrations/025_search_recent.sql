-- 025: a user's messages by time. search_run ranks a one-word query's own
-- messages newest window first and stops once no older match can enter the
-- page (sql/functions/search.sql); this index gives a window's messages when
-- the word is common, so a common word reads the last weeks of the user's
-- messages, not every match (bench/README.md, docs/architecture.md).

CREATE INDEX messages_owner_time ON messages (owner_id, created_at);
