-- bench/search: 1,000 users, 100,000 conversations, 1,000,000 messages of
-- mixed text, made in SQL. One heavy user owns 20,000 conversations (200,000
-- messages); 10% of them carry the tag "bench". Words are drawn log-uniformly
-- from a vocabulary of 50,000 (rank r with probability ~1/r: a few common
-- words, a long tail of rare ones): ranks 1..256 are English words, the rest
-- made-up words "xw<rank>". Each message has 8..60 words and a time in the
-- last two years.
\set ON_ERROR_STOP on
SELECT setseed(0.16);

CREATE TEMP TABLE vocab (w text[]);
INSERT INTO vocab VALUES (string_to_array(
 'the to and of a in is it you that for this with on be are can not have as your i at or
  if will what do was but by from an we my so they about all use one there how more which
  would like just when out some also time them then make get data new file could other
  need these code any has only into should way first been than here may work because
  function server error message using set value model user each see two know well very
  most run where our me used good want his over even test question think number change
  write list find thank help name type system start different without line example same
  default point back after create page version table through result problem answer update
  check read call return string key build add people both world many while object query
  between next case search field request great day now right within group text order back
  again small large long every old right place tell last never under might before still
  open close local remote image color design simple clear fast slow better best plan
  report meeting project budget travel weather recipe garden music history science
  market price energy health review summary draft email letter story chapter idea',
 ' '));

INSERT INTO users (username, display_name)
SELECT 'bench_search_' || lpad(i::text, 4, '0'), 'Bench ' || i FROM generate_series(0, 999) i
ON CONFLICT (username) DO NOTHING;

-- Heavy user: bench_search_0000, 20,000 conversations; the 999 others: 80,000.
CREATE TEMP TABLE bench_convs AS
SELECT gen_random_uuid() AS id,
       (SELECT id FROM users WHERE username = 'bench_search_' || lpad(
            CASE WHEN i <= 20000 THEN 0 ELSE 1 + (i % 999) END::text, 4, '0')) AS owner_id,
       now() - (random() * 730) * interval '1 day' AS started
  FROM generate_series(1, 100000) i;

INSERT INTO conversations (id, owner_id, title, created_at, last_message_at)
SELECT c.id, c.owner_id,
       (SELECT string_agg(CASE WHEN r <= 256 THEN (SELECT w[r] FROM vocab) ELSE 'xw' || r END, ' ')
          FROM (SELECT floor(power(50000, random()))::int AS r
                  FROM generate_series(1, 3 + (c.started IS NULL)::int + (random() * 4)::int)) z),
       c.started, c.started + interval '10 minutes'
  FROM bench_convs c;

-- The search indexes (019_organise.sql: the words per owner; 025: the
-- messages per owner by time) are dropped for the load and built again after
-- it (as a restore does), so the load does not maintain them row by row.
DROP INDEX IF EXISTS messages_owner_search;
DROP INDEX IF EXISTS messages_owner_time;
INSERT INTO messages (conversation_id, sender_type, content, created_at)
SELECT c.id, CASE WHEN k % 2 = 1 THEN 'user' ELSE 'ai' END,
       (SELECT string_agg(CASE WHEN r <= 256 THEN v.w[r] ELSE 'xw' || r END, ' ')
          FROM vocab v,
               LATERAL (SELECT floor(power(50000, random()))::int AS r
                          FROM generate_series(1, 8 + k * 0 + (random() * 52)::int)) z),
       c.started + k * interval '1 minute'
  FROM bench_convs c, generate_series(1, 10) k;
CREATE INDEX messages_owner_search ON messages USING gin (owner_id, search);
CREATE INDEX messages_owner_time ON messages (owner_id, created_at);

INSERT INTO tags (user_id, name, color)
SELECT id, 'bench', '#336699' FROM users WHERE username = 'bench_search_0000';
INSERT INTO conversation_tags (tag_id, conversation_id)
SELECT t.id, c.id FROM tags t, bench_convs c
 WHERE t.name = 'bench' AND c.owner_id = t.user_id AND random() < 0.1;

ANALYZE users;
ANALYZE conversations;
ANALYZE messages;
ANALYZE conversation_tags;
