-- 024: an index under every column that references messages. Deleting a
-- message (a branch, a chat, an administrator's purge) checks each such
-- column for rows naming it; without an index each check read the whole
-- table: 500 messages deleted among 100,000 conversations took 3.4-3.7 s,
-- and 21 ms with these indexes (ChangeLog, 2026-12-06).

CREATE INDEX conversations_active_leaf ON conversations (active_leaf_id);
CREATE INDEX credit_ledger_message ON credit_ledger (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX shared_chats_snapshot_message ON shared_chats (snapshot_message_id);
