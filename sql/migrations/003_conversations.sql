-- 003: conversations, their models and participants, messages (a tree),
-- and the credit ledger.

CREATE TABLE conversations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title           text NOT NULL DEFAULT '' CHECK (char_length(title) <= 200),
    source          text NOT NULL DEFAULT 'native' CHECK (char_length(source) <= 64),
    summary         text,
    system_prompt   text CHECK (system_prompt IS NULL OR char_length(system_prompt) <= 20000),
    settings        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    total_messages  integer NOT NULL DEFAULT 0 CHECK (total_messages >= 0),
    last_message_at timestamptz NOT NULL DEFAULT now(),
    active_leaf_id  uuid,           -- the message the visible thread ends at
    first_responder integer NOT NULL DEFAULT 0, -- rotation counter for group chats
    pinned          boolean NOT NULL DEFAULT false,
    archived        boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz
);
CREATE INDEX conversations_owner_activity ON conversations (owner_id, last_message_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX conversations_title_trgm ON conversations USING gin (title gin_trgm_ops);

CREATE TABLE conversation_ai_models (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    tool_id         uuid NOT NULL REFERENCES ai_tools (id) ON DELETE RESTRICT,
    position        integer NOT NULL CHECK (position >= 0),
    is_active       boolean NOT NULL DEFAULT true,
    settings        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    PRIMARY KEY (conversation_id, tool_id),
    UNIQUE (conversation_id, position)
);

CREATE TABLE conversation_participants (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            text NOT NULL CHECK (role IN ('admin', 'member')),
    joined_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_participants_user ON conversation_participants (user_id);

CREATE TABLE messages (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id    uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    parent_message_id  uuid REFERENCES messages (id) ON DELETE CASCADE,
    sender_type        text NOT NULL CHECK (sender_type IN ('user', 'ai', 'system')),
    sender_user_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    sender_tool_id     uuid REFERENCES ai_tools (id) ON DELETE SET NULL,
    content            text NOT NULL DEFAULT '',
    content_type       text NOT NULL DEFAULT 'text/markdown',
    prompt_tokens      integer CHECK (prompt_tokens IS NULL OR prompt_tokens >= 0),
    completion_tokens  integer CHECK (completion_tokens IS NULL OR completion_tokens >= 0),
    tokens_estimated   boolean NOT NULL DEFAULT false,
    response_time_ms   integer,
    status             text NOT NULL DEFAULT 'complete'
                       CHECK (status IN ('complete', 'streaming', 'error', 'incomplete')),
    error              text,
    is_first_responder boolean NOT NULL DEFAULT false,
    metadata           jsonb NOT NULL DEFAULT '{}',
    created_at         timestamptz NOT NULL DEFAULT now(),
    search             tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED
);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at, id);
CREATE INDEX messages_parent ON messages (parent_message_id, created_at, id);
CREATE INDEX messages_search ON messages USING gin (search);

ALTER TABLE conversations ADD CONSTRAINT conversations_active_leaf
    FOREIGN KEY (active_leaf_id) REFERENCES messages (id) ON DELETE SET NULL;

-- Every change of users.token_credits, so balances are explainable.
CREATE TABLE credit_ledger (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    delta         bigint NOT NULL,
    balance_after bigint NOT NULL CHECK (balance_after >= 0),
    reason        text NOT NULL CHECK (reason IN ('initial', 'grant', 'reserve', 'settle', 'release')),
    message_id    uuid REFERENCES messages (id) ON DELETE SET NULL,
    granted_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    note          text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credit_ledger_user ON credit_ledger (user_id, id DESC);

GRANT SELECT, INSERT, UPDATE, DELETE ON conversations, conversation_ai_models,
    conversation_participants, messages TO :"app_role";
GRANT SELECT, INSERT ON credit_ledger TO :"app_role";
