-- 017: imports. The source's ids on conversations and messages (a second
-- import of the same export adds what is new), the import jobs that any
-- node's worker takes, and the conversations each job touched.

ALTER TABLE conversations ADD COLUMN external_id text
    CHECK (external_id IS NULL OR char_length(external_id) <= 200);
CREATE UNIQUE INDEX conversations_external ON conversations (owner_id, source, external_id)
    WHERE external_id IS NOT NULL;

ALTER TABLE messages ADD COLUMN external_id text
    CHECK (external_id IS NULL OR char_length(external_id) <= 200);
CREATE UNIQUE INDEX messages_external ON messages (conversation_id, external_id)
    WHERE external_id IS NOT NULL;

CREATE TABLE import_jobs (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status                text NOT NULL DEFAULT 'queued'
                          CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    file_name             text CHECK (file_name IS NULL OR char_length(file_name) <= 255),
    file_path             text NOT NULL,
    file_size             bigint NOT NULL CHECK (file_size >= 0),
    format                text,
    bytes_read            bigint NOT NULL DEFAULT 0,
    conversations_total   integer,
    conversations_done    integer NOT NULL DEFAULT 0,
    conversations_created integer NOT NULL DEFAULT 0,
    messages_added        integer NOT NULL DEFAULT 0,
    skipped               jsonb NOT NULL DEFAULT '{}',
    warnings              jsonb NOT NULL DEFAULT '{}',
    errors                jsonb NOT NULL DEFAULT '[]',
    reason                text,
    cancel_requested      boolean NOT NULL DEFAULT false,
    worker                text,
    attempts              integer NOT NULL DEFAULT 0,
    heartbeat_at          timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    started_at            timestamptz,
    finished_at           timestamptz
);
CREATE INDEX import_jobs_owner ON import_jobs (owner_id, created_at DESC, id DESC);
CREATE INDEX import_jobs_queue ON import_jobs (created_at) WHERE status IN ('queued', 'running');

CREATE TABLE import_job_conversations (
    job_id          uuid NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    created         boolean NOT NULL,
    messages_added  integer NOT NULL DEFAULT 0,
    position        integer NOT NULL,
    PRIMARY KEY (job_id, conversation_id)
);

GRANT SELECT, INSERT, UPDATE ON import_jobs, import_job_conversations TO :"app_role";
