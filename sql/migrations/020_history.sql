-- 020: a conversation's history: notes on a range of a message's text
-- (annotations), snapshots of a conversation (versions), and the AI summary's
-- model and time (its text is conversations.summary, which 003 made).
-- The functions are in sql/functions/history.sql.

CREATE TABLE annotations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id      uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    author_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- {"start", "end", "quote"}: code points into the message's text as the
    -- reader saw it, and the text quoted, so the note can be found again
    -- when the display changes.
    position        jsonb NOT NULL CHECK (jsonb_typeof(position) = 'object'),
    note            text NOT NULL CHECK (char_length(note) BETWEEN 1 AND 10000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX annotations_conversation ON annotations (conversation_id, created_at, id);
CREATE INDEX annotations_message ON annotations (message_id);
CREATE INDEX annotations_author ON annotations (author_id);

-- A snapshot of a conversation: its title, system prompt, settings, models,
-- tags and the messages of one path (the active one, or the branch about to
-- be deleted), as JSON, exactly as they were.
CREATE TABLE conversation_versions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    comment         text NOT NULL DEFAULT '' CHECK (char_length(comment) <= 500),
    reason          text NOT NULL CHECK (reason IN ('manual', 'before_branch_delete')),
    snapshot        jsonb NOT NULL CHECK (jsonb_typeof(snapshot) = 'object'),
    message_count   integer NOT NULL CHECK (message_count >= 0),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversation_versions_conversation
    ON conversation_versions (conversation_id, created_at DESC, id DESC);

-- The summary's model (a catalog slug, kept as text: the model may go) and time.
ALTER TABLE conversations ADD COLUMN summary_model text CHECK (char_length(summary_model) <= 64),
                          ADD COLUMN summarized_at timestamptz;

-- A share may show a version, exactly as it was, instead of the conversation
-- up to its snapshot message; and its owner chooses whether it shows notes.
ALTER TABLE shared_chats
    ADD COLUMN version_id uuid REFERENCES conversation_versions (id) ON DELETE CASCADE,
    ADD COLUMN show_annotations boolean NOT NULL DEFAULT false;

GRANT SELECT, INSERT, UPDATE, DELETE ON annotations TO :"app_role";
GRANT SELECT, INSERT ON conversation_versions TO :"app_role";
