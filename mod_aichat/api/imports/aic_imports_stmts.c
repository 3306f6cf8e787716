/* The imports capability's statements (sql/functions/imports.sql). */
#include "imports.h"

const aic_stmt aic_imports_stmts[] = {
    /* A new job: owner, file name, path, size, format, conversations, its
     * limits {conversations, seconds}. */
    {"imports_create",
     "INSERT INTO import_jobs (owner_id, file_name, file_path, file_size, format,"
     " conversations_total, limit_conversations, limit_seconds) SELECT %s::uuid,"
     " nullif(%s, ''), %s, %s::bigint, nullif(%s, ''), nullif(%s, '')::int,"
     " (l->>'conversations')::int, (l->>'seconds')::int FROM (SELECT %s::jsonb AS l) a"
     " RETURNING import_job_json(import_jobs)::text, id::text"},
    /* A page of the owner's jobs, newest first: {viewer, after_ts, after_id, limit}. */
    {"imports_list", "SELECT import_job_list(%s::jsonb)::text"},
    /* A page of the conversations an owner's job wrote: {viewer, id, after_pos,
     * after_id, limit}; no row when the job is not the viewer's. */
    {"imports_conversations", "SELECT import_job_conversation_list(%s::jsonb)::text"},
    /* One job of its owner: its JSON and status. Arguments: id, owner. */
    {"imports_get", "SELECT import_job_json(j)::text, j.status FROM import_jobs j"
                    " WHERE j.id = %s::uuid AND j.owner_id = %s::uuid"},
    /* Cancel: a waiting job ends now, a running one after its current conversation. */
    {"imports_cancel",
     "UPDATE import_jobs SET cancel_requested = (status IN ('queued', 'running')),"
     " status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,"
     " finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END"
     " WHERE id = %s::uuid AND owner_id = %s::uuid"
     " RETURNING import_job_json(import_jobs)::text"},
    /* The worker's statements: take a job, report, write a conversation, end. */
    {"imports_take", "SELECT id::text, owner_id::text, file_path, coalesce(file_name, '')"
                     " FROM import_job_take(%s)"},
    {"imports_progress", "SELECT import_job_progress(%s::uuid, %s, %s::jsonb)::int"},
    {"imports_conversation", "SELECT import_conversation(%s::uuid, %s, %s::jsonb)::text"},
    {"imports_feedback", "SELECT import_feedback(%s::uuid, %s, %s::jsonb)::int"},
    {"imports_end", "SELECT import_job_end(%s::uuid, %s, %s::jsonb)::text"},
    /* Exports: the ids of the owner's conversations (and their sizes, for
     * the batches); the ZIP and the one-conversation export then read them in
     * batches: those of the ids (a uuid[] literal) the user may read, in that
     * order, each cell as PostgreSQL's jsonb prints it ... */
    {"imports_export_ids",
     "SELECT c.id::text, c.total_messages::text FROM conversations c WHERE c.owner_id = %s::uuid"
     " AND c.deleted_at IS NULL AND (%s = '' OR c.id = ANY (%s::uuid[]))"
     " ORDER BY c.created_at, c.id"},
    {"imports_export_heads",
     "SELECT c.id::text, c.title, c.source, c.external_id, to_jsonb(c.created_at)::text,"
     " to_jsonb(c.updated_at)::text, c.active_leaf_id::text, c.archived::text,"
     " extract(epoch FROM c.created_at)::text, extract(epoch FROM c.updated_at)::text"
     " FROM unnest(%s::uuid[]) WITH ORDINALITY u(id, n) JOIN conversations c ON c.id = u.id"
     " WHERE c.deleted_at IS NULL AND (c.owner_id = %s::uuid"
     " OR conversation_member_sees(c.id, c.owner_id, %s::uuid)) ORDER BY u.n"},
    /* ... then all their messages in one result: the conversation's place
     * in the batch, then time order; the tree is made in C. */
    {"imports_export_rows",
     "SELECT u.n::text, m.id::text, m.parent_message_id::text,"
     " CASE m.sender_type WHEN 'ai' THEN 'assistant' ELSE m.sender_type::text END,"
     " m.content, m.content_type, coalesce(a.model_id, m.metadata->>'model'),"
     " to_jsonb(m.created_at)::text, m.metadata::text, extract(epoch FROM m.created_at)::text,"
     " to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
     " FROM unnest(%s::uuid[]) WITH ORDINALITY u(id, n) JOIN messages m ON m.conversation_id = u.id"
     " LEFT JOIN ai_tools a ON a.id = m.sender_tool_id ORDER BY u.n, m.created_at, m.id"},
    {NULL, NULL}};
