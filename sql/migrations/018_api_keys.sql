-- 018: personal API keys for the OpenAI-compatible API (/chat/v1), and one
-- row per call made with them (what the usage pages read).
--
-- A key is shown once and stored only as the SHA-256 of its text (256
-- random bits: a hash needs no salt nor a slow function) with a visible
-- prefix that identifies it. Its monthly budget counts what its calls
-- reserved and were settled to in budget_month.

CREATE TABLE api_keys (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    prefix         text NOT NULL CHECK (char_length(prefix) BETWEEN 8 AND 32),
    key_hash       bytea NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
    models         text[],            -- catalog slugs it may use; NULL: every model
    monthly_budget bigint CHECK (monthly_budget IS NULL OR monthly_budget >= 0),
    rpm            integer CHECK (rpm IS NULL OR rpm > 0),
    tpm            integer CHECK (tpm IS NULL OR tpm > 0),
    expires_at     timestamptz,
    keep_conversations boolean NOT NULL DEFAULT false, -- its calls kept as conversations (source api)
    budget_month   date NOT NULL DEFAULT date_trunc('month', now())::date,
    budget_used    bigint NOT NULL DEFAULT 0 CHECK (budget_used >= 0),
    last_used_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    revoked_by     uuid REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX api_keys_user ON api_keys (user_id, created_at DESC, id DESC);
CREATE INDEX api_keys_newest ON api_keys (created_at DESC, id DESC);

CREATE TABLE api_calls (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    key_id            uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    model             text NOT NULL,
    provider          text NOT NULL,
    stream            boolean NOT NULL,
    reserved          bigint NOT NULL CHECK (reserved >= 0),
    prompt_tokens     integer NOT NULL DEFAULT 0,
    completion_tokens integer NOT NULL DEFAULT 0,
    credits           bigint NOT NULL DEFAULT 0,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'complete', 'incomplete', 'error')),
    error             text,
    conversation_id   uuid REFERENCES conversations (id) ON DELETE SET NULL, -- when kept
    created_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz
);
CREATE INDEX api_calls_user_time ON api_calls (user_id, created_at);
CREATE INDEX api_calls_key_time ON api_calls (key_id, created_at);
CREATE INDEX api_calls_time ON api_calls (created_at);

GRANT SELECT, INSERT, UPDATE ON api_keys TO :"app_role";
GRANT SELECT, INSERT, UPDATE ON api_calls TO :"app_role";
