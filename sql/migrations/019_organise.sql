-- 019: organise and find. Tags (per user, with a colour) and the
-- conversations they are on; saved searches (a search's filters under a
-- name); the full-text vector of a conversation's title and summary, beside
-- the one messages have had since 003; messages indexed per owner for search. The functions are in
-- sql/functions/organise.sql and sql/functions/search.sql.

CREATE TABLE tags (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 50),
    color      text NOT NULL CHECK (color ~ '^#[0-9a-f]{6}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- A name once per user, whatever its case ("Work" and "work" are one tag).
CREATE UNIQUE INDEX tags_user_name ON tags (user_id, lower(name));

-- A tag is its user's: the same conversation may carry tags of its owner and
-- of its participants, each seeing only their own.
CREATE TABLE conversation_tags (
    tag_id          uuid NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tag_id, conversation_id)
);
CREATE INDEX conversation_tags_conversation ON conversation_tags (conversation_id);

CREATE TABLE saved_searches (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    query      jsonb NOT NULL CHECK (jsonb_typeof(query) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX saved_searches_user_name ON saved_searches (user_id, lower(name));

-- Titles and summaries are searched like messages (the same configuration,
-- 'simple': no stemming, no stopwords, right for mixed languages). Adding a
-- stored column rewrites conversations once.
ALTER TABLE conversations ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', title || ' ' || coalesce(summary, ''))) STORED;
CREATE INDEX conversations_search ON conversations USING gin (search);

-- Search per user. The messages' one full-text index (003) held every
-- user's words: a word common on the site matched rows of everybody, which
-- a search read from the heap only to drop (bench/search: 50,000 rows read
-- for the 10,000 of the heavy user, seconds on a loaded machine). Messages
-- now carry their conversation's owner (which never changes; set by the
-- trigger messages_owner in sql/functions/search.sql) and the index is on
-- (owner, words), so GIN intersects the two inside the index. Still one
-- index to keep up to date per message. btree_gin (a trusted contrib
-- extension) lets GIN index the uuid. The UPDATE rewrites messages once: on
-- a large site, run this migration in a quiet hour.
-- The old index goes first, so the UPDATE does not maintain it.
CREATE EXTENSION IF NOT EXISTS btree_gin;
DROP INDEX messages_search;
ALTER TABLE messages ADD COLUMN owner_id uuid;
UPDATE messages m SET owner_id = c.owner_id FROM conversations c WHERE c.id = m.conversation_id;
ALTER TABLE messages ALTER COLUMN owner_id SET NOT NULL;
CREATE INDEX messages_owner_search ON messages USING gin (owner_id, search);

GRANT SELECT, INSERT, UPDATE, DELETE ON tags, conversation_tags, saved_searches TO :"app_role";
