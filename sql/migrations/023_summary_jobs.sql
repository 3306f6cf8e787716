-- 023: "Summarise these": a summary job per bulk request, worked in the
-- background by each httpd process's summary worker (FOR UPDATE SKIP
-- LOCKED), one conversation after the other, each charged as a single
-- summary is. position is the next of conversation_ids to summarise;
-- errors one {conversation_id, code, message} per conversation that failed;
-- status failed when none could be summarised.
-- audit is the creating request's audit row, which the worker writes again
-- for each summary it stores. The functions are in sql/functions/history.sql.

CREATE TABLE summary_jobs (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status           text NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'done', 'failed')),
    model            text NOT NULL,
    conversation_ids uuid[] NOT NULL,
    position         integer NOT NULL DEFAULT 0,
    done             integer NOT NULL DEFAULT 0,
    failed           integer NOT NULL DEFAULT 0,
    errors           jsonb NOT NULL DEFAULT '[]',
    audit            jsonb NOT NULL,
    worker           text,
    attempts         integer NOT NULL DEFAULT 0,
    heartbeat_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz
);
CREATE INDEX summary_jobs_queue ON summary_jobs (created_at) WHERE status IN ('queued', 'running');

GRANT SELECT, INSERT, UPDATE ON summary_jobs TO :"app_role";
