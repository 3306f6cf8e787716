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
    /* The owner's newest jobs. */
    {"imports_list",
     "SELECT coalesce(jsonb_agg(import_job_json(j) ORDER BY j.created_at DESC, j.id DESC),"
     " '[]')::text FROM (SELECT * FROM import_jobs WHERE owner_id = %s::uuid"
     " ORDER BY created_at DESC, id DESC LIMIT 50) j"},
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
    /* Exports: one conversation of its owner (or a participant) with its
     * messages, parents first; the ids of the owner's conversations. */
    {"imports_export_conv",
     "SELECT CASE %s WHEN 'markdown' THEN import_export_markdown(c.id)"
     " WHEN 'chatgpt' THEN import_export_chatgpt(c.id)::text"
     " ELSE import_export_json(c.id)::text END, c.title FROM conversations c"
     " WHERE c.id = %s::uuid AND c.deleted_at IS NULL AND (c.owner_id = %s::uuid"
     " OR conversation_member_sees(c.id, c.owner_id, %s::uuid))"},
    {"imports_export_ids", "SELECT c.id::text FROM conversations c WHERE c.owner_id = %s::uuid"
                           " AND c.deleted_at IS NULL AND (%s = '' OR c.id = ANY (%s::uuid[]))"
                           " ORDER BY c.created_at, c.id"},
    {NULL, NULL}};
