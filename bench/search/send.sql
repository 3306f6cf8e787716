-- bench/search, the send: a message as a send stores it, into messages
-- (with its stored tsvector, its owner and the GIN index kept up to date) and into a
-- copy without either, so pgbench can run both in one run and print each
-- one's latency (with-index.pgbench, without-index.pgbench).
\set ON_ERROR_STOP on
DROP TABLE IF EXISTS bench_messages_plain;
CREATE TABLE bench_messages_plain (LIKE messages INCLUDING DEFAULTS);
ALTER TABLE bench_messages_plain DROP COLUMN search, DROP COLUMN owner_id, ADD PRIMARY KEY (id),
    ADD FOREIGN KEY (conversation_id) REFERENCES conversations (id) ON DELETE CASCADE;
CREATE INDEX ON bench_messages_plain (conversation_id, created_at, id);
CREATE INDEX ON bench_messages_plain (parent_message_id, created_at, id);
DROP TABLE IF EXISTS bench_heavy_convs;
CREATE TABLE bench_heavy_convs AS
SELECT row_number() OVER (ORDER BY c.id) AS n, c.id FROM conversations c
  JOIN users u ON u.id = c.owner_id WHERE u.username = 'bench_search_0000';
CREATE UNIQUE INDEX ON bench_heavy_convs (n);
