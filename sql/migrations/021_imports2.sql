-- 021: imports, second part. An import that adds messages to a conversation
-- already there takes a version of it first (reason 'before_import'); the
-- job counts the ChatGPT feedback records it linked to stored messages.

ALTER TABLE conversation_versions DROP CONSTRAINT conversation_versions_reason_check;
ALTER TABLE conversation_versions ADD CONSTRAINT conversation_versions_reason_check
    CHECK (reason IN ('manual', 'before_branch_delete', 'before_import'));

ALTER TABLE import_jobs ADD COLUMN feedback_linked integer NOT NULL DEFAULT 0;

-- The limits in force when the job was created (AIChatImportMaxConversations,
-- AIChatImportTimeLimit); NULL: none.
ALTER TABLE import_jobs ADD COLUMN limit_conversations integer CHECK (limit_conversations > 0),
                        ADD COLUMN limit_seconds integer CHECK (limit_seconds > 0);
