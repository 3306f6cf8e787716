-- 026: summary jobs listed by their owner (newest first, a page at a time)
-- and cancelled: a queued job ends at once, a running one after the
-- conversation it is summarising (cancel_requested, read by the worker
-- between two conversations). The functions are in sql/functions/history.sql.

ALTER TABLE summary_jobs DROP CONSTRAINT summary_jobs_status_check;
ALTER TABLE summary_jobs ADD CONSTRAINT summary_jobs_status_check
    CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled'));
ALTER TABLE summary_jobs ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false;
CREATE INDEX summary_jobs_owner ON summary_jobs (owner_id, created_at DESC, id DESC);
