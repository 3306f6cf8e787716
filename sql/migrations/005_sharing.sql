-- 005: share links. A link's token is derived from a server secret and the
-- row's nonce; only the token's SHA-256 is stored, so this table opens no link.
-- The functions (share_thread, share_json, share_fork, the trigger that
-- revokes a deleted conversation's share) are in sql/functions/share.sql.

CREATE TABLE shared_chats (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id     uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    token_hash          text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    token_nonce         text NOT NULL CHECK (token_nonce ~ '^[0-9a-f]{32}$'),
    is_public           boolean NOT NULL DEFAULT true,
    indexable           boolean NOT NULL DEFAULT false, -- search engines may index it
    created_by          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz,                    -- NULL: never
    revoked_at          timestamptz,
    snapshot_message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    view_count          bigint NOT NULL DEFAULT 0 CHECK (view_count >= 0),
    last_viewed_at      timestamptz
);
-- One live share per conversation.
CREATE UNIQUE INDEX shared_chats_live ON shared_chats (conversation_id) WHERE revoked_at IS NULL;
CREATE INDEX shared_chats_creator ON shared_chats (created_by, created_at DESC, id DESC)
    WHERE revoked_at IS NULL;
CREATE INDEX shared_chats_all_live ON shared_chats (created_at DESC, id DESC)
    WHERE revoked_at IS NULL;

-- Views not yet added to view_count: one row per view, insert-only, so
-- concurrent views of one share never wait on its row. The module moves them
-- into view_count from time to time (share_views_rollup); no foreign key, so
-- an insert takes no lock on the share.
CREATE TABLE share_views (
    share_id  uuid NOT NULL,
    viewed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX share_views_share ON share_views (share_id);

-- A conversation copied from a share ("continue this conversation").
ALTER TABLE conversations ADD COLUMN forked_from_share uuid
    REFERENCES shared_chats (id) ON DELETE SET NULL;

GRANT SELECT, INSERT, UPDATE ON shared_chats TO :"app_role";
GRANT SELECT, INSERT, DELETE ON share_views TO :"app_role";
