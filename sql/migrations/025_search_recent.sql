-- 025: a user's messages by time. search_run ranks a user's own messages
-- newest window first and stops once no older match can enter the page
-- (sql/functions/search.sql); this index gives a window's messages, and the
-- planner intersects it with (owner, words) of messages_owner_search, so a
-- common word, a tag filter or a date range reads from the heap only the
-- matches of the windows it needs, not every match (bench/README.md).

CREATE INDEX messages_owner_time ON messages (owner_id, created_at);
