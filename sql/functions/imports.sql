-- Imports: the job a worker takes, each conversation written in its own
-- transaction with the job's counts, and the job as the API shows it.

-- a + b, key by key, of two {code: count} objects. PL/pgSQL, not SQL: a SQL
-- function with an aggregate is planned again at every statement that calls
-- it, twice per conversation an import writes (8% of import_conversation's
-- time in pg_stat_user_functions, bench/imports).
CREATE OR REPLACE FUNCTION import_counts_add(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    sum jsonb := coalesce(a, '{}');
    e record;
BEGIN
    FOR e IN SELECT * FROM jsonb_each_text(coalesce(b, '{}')) LOOP
        sum := jsonb_set(sum, ARRAY[e.key],
                         to_jsonb(coalesce((sum->>e.key)::bigint, 0) + e.value::bigint));
    END LOOP;
    RETURN sum;
END
$$;

-- A page of the conversations a job wrote, in the order it met them (the
-- owner's live ones): {items: [{id, title, source, created, messages_added}],
-- next}, next the cursor of the following page (core/aic_cursor: "ic", the
-- last one's position, its id) or null after the last.
CREATE OR REPLACE FUNCTION import_job_conversations_page(job uuid, owner uuid, after_pos integer,
                                                         after_id uuid, lim integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH page AS (
        SELECT i.position AS pos, i.conversation_id AS cid, i.created, i.messages_added,
               c.title, c.source
          FROM import_job_conversations i
          JOIN conversations c ON c.id = i.conversation_id AND c.owner_id = owner
                              AND c.deleted_at IS NULL
         WHERE i.job_id = job
           AND (after_id IS NULL OR (i.position, i.conversation_id) > (after_pos, after_id))
         ORDER BY i.position, i.conversation_id LIMIT lim + 1),
    shown AS (SELECT * FROM page ORDER BY pos, cid LIMIT lim)
    SELECT jsonb_build_object(
        'items', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                      'id', s.cid, 'title', s.title, 'source', s.source, 'created', s.created,
                      'messages_added', s.messages_added) ORDER BY s.pos, s.cid), '[]')
                  FROM shown s),
        'next', CASE WHEN (SELECT count(*) FROM page) > lim THEN (
                    SELECT encode(convert_to('ic|' || s.pos || '|' || s.cid, 'UTF8'), 'hex')
                      FROM shown s ORDER BY s.pos DESC, s.cid DESC LIMIT 1) END)
$$;

-- The job as the API shows it, with the first 200 conversations it wrote
-- and the cursor of the rest (GET /imports/{id}/conversations).
CREATE OR REPLACE FUNCTION import_job_json(j import_jobs) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', j.id, 'status', j.status, 'file_name', j.file_name, 'file_size', j.file_size,
        'format', j.format, 'bytes_read', j.bytes_read,
        'conversations_total', j.conversations_total,
        'conversations_done', j.conversations_done,
        'conversations_created', j.conversations_created,
        'messages_added', j.messages_added, 'skipped', j.skipped, 'warnings', j.warnings,
        'feedback_linked', j.feedback_linked,
        'limits', jsonb_build_object('conversations', j.limit_conversations,
                                     'seconds', j.limit_seconds),
        'errors', j.errors, 'reason', j.reason, 'cancel_requested', j.cancel_requested,
        'created_at', j.created_at, 'started_at', j.started_at, 'finished_at', j.finished_at,
        'conversations', p.page->'items', 'conversations_next', p.page->'next')
    FROM (SELECT import_job_conversations_page(j.id, j.owner_id, NULL, NULL, 200) AS page) p
$$;

-- args: viewer, after_ts and after_id (the cursor, or absent), limit. A page
-- of the viewer's jobs, newest first: {items, next}, next the cursor of the
-- following page (core/aic_cursor: "ij", the last job's id, its creation in
-- microseconds since the epoch) or null after the last.
CREATE OR REPLACE FUNCTION import_job_list(args jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    after_at timestamptz := timestamptz 'epoch'
                            + (args->>'after_ts')::bigint * interval '1 microsecond';
    after_id uuid := (args->>'after_id')::uuid;
    lim int := (args->>'limit')::int;
BEGIN
    RETURN (
        WITH page AS (
            SELECT x AS job, x.id, x.created_at FROM import_jobs x
             WHERE x.owner_id = viewer
               AND (after_id IS NULL OR (x.created_at, x.id) < (after_at, after_id))
             ORDER BY x.created_at DESC, x.id DESC LIMIT lim + 1),
        shown AS (SELECT * FROM page ORDER BY created_at DESC, id DESC LIMIT lim)
        SELECT jsonb_build_object(
            'items', (SELECT coalesce(jsonb_agg(import_job_json(s.job)
                                                ORDER BY s.created_at DESC, s.id DESC), '[]')
                        FROM shown s),
            'next', CASE WHEN (SELECT count(*) FROM page) > lim THEN (
                        SELECT encode(convert_to('ij|' || s.id || '|'
                                   || (extract(epoch FROM s.created_at) * 1000000)::bigint,
                                   'UTF8'), 'hex')
                          FROM shown s ORDER BY s.created_at, s.id LIMIT 1) END));
END
$$;

-- args: viewer, id, after_pos and after_id (the cursor, or absent), limit.
-- A page of the conversations the viewer's job wrote; no row when the job is
-- not the viewer's.
CREATE OR REPLACE FUNCTION import_job_conversation_list(args jsonb) RETURNS SETOF jsonb
LANGUAGE sql STABLE AS $$
    SELECT import_job_conversations_page(j.id, j.owner_id, (args->>'after_pos')::int,
                                         (args->>'after_id')::uuid, (args->>'limit')::int)
      FROM import_jobs j
     WHERE j.id = (args->>'id')::uuid AND j.owner_id = (args->>'viewer')::uuid
$$;

-- The oldest job waiting, or one whose worker stopped beating (its process
-- went away): taken by this worker. A job taken three times fails.
CREATE OR REPLACE FUNCTION import_job_take(worker text) RETURNS TABLE (
    id uuid, owner_id uuid, file_path text, file_name text)
LANGUAGE plpgsql AS $$
DECLARE
    j import_jobs;
BEGIN
    LOOP
        SELECT * INTO j FROM import_jobs q
            WHERE q.status = 'queued'
               OR (q.status = 'running' AND q.heartbeat_at < now() - interval '30 seconds')
            ORDER BY q.created_at FOR UPDATE SKIP LOCKED LIMIT 1;
        IF NOT FOUND THEN
            RETURN;
        END IF;
        IF j.attempts >= 3 THEN
            UPDATE import_jobs SET status = 'failed', finished_at = now(),
                reason = 'the import stopped three times before it ended'
                WHERE import_jobs.id = j.id;
            CONTINUE;
        END IF;
        IF j.cancel_requested THEN
            UPDATE import_jobs SET status = 'cancelled', finished_at = now()
                WHERE import_jobs.id = j.id;
            CONTINUE;
        END IF;
        -- A job taken again reads its upload from the start: what was
        -- written is found again (nothing twice, so the conversations it
        -- created and the messages it added stay counted), and what the
        -- reading counts (done, skipped, warnings, errors, feedback) is
        -- counted anew, so it ends with the counts of an uninterrupted run.
        UPDATE import_jobs SET status = 'running', worker = import_job_take.worker,
            heartbeat_at = now(), started_at = coalesce(started_at, now()),
            attempts = attempts + 1, conversations_done = 0, feedback_linked = 0,
            skipped = '{}', warnings = '{}', errors = '[]'
            WHERE import_jobs.id = j.id;
        RETURN QUERY SELECT j.id, j.owner_id, j.file_path, j.file_name;
        RETURN;
    END LOOP;
END
$$;

-- What the worker learnt of the upload (args: format, conversations_total,
-- bytes_read, skipped, errors to append), its heartbeat; whether to go on
-- (false: cancelled, or taken by another worker).
CREATE OR REPLACE FUNCTION import_job_progress(job uuid, worker text, args jsonb) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    go_on boolean;
BEGIN
    UPDATE import_jobs j SET
        format = coalesce(args->>'format', j.format),
        conversations_total = coalesce((args->>'conversations_total')::int, j.conversations_total),
        bytes_read = greatest(j.bytes_read, coalesce((args->>'bytes_read')::bigint, 0)),
        skipped = import_counts_add(j.skipped, args->'skipped'),
        errors = CASE WHEN jsonb_array_length(j.errors) < 1000
                      THEN j.errors || coalesce(args->'errors', '[]') ELSE j.errors END,
        heartbeat_at = now()
    WHERE j.id = job AND j.status = 'running' AND j.worker = import_job_progress.worker
    RETURNING NOT j.cancel_requested INTO go_on;
    RETURN coalesce(go_on, false);
END
$$;

-- The end of a job: done (or failed with a reason when nothing imported
-- and something went wrong), cancelled, or back in the queue (requeue) when
-- the process stops gracefully.
CREATE OR REPLACE FUNCTION import_job_end(job uuid, worker text, args jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    j import_jobs;
BEGIN
    UPDATE import_jobs SET
        status = CASE WHEN args->>'status' = 'requeue' THEN 'queued'
                      WHEN cancel_requested THEN 'cancelled'
                      ELSE args->>'status' END,
        reason = coalesce(args->>'reason', reason),
        errors = CASE WHEN args ? 'error' THEN errors || jsonb_build_array(args->'error')
                      ELSE errors END,
        heartbeat_at = now(),
        worker = CASE WHEN args->>'status' = 'requeue' THEN NULL ELSE import_jobs.worker END,
        attempts = CASE WHEN args->>'status' = 'requeue' THEN attempts - 1 ELSE attempts END,
        finished_at = CASE WHEN args->>'status' = 'requeue' THEN NULL ELSE now() END
    WHERE id = job AND status = 'running' AND import_jobs.worker = import_job_end.worker
    RETURNING * INTO j;
    RETURN import_job_json(j);
END
$$;

-- A job that reached one of its limits: failed now, with its reason.
CREATE OR REPLACE FUNCTION import_job_limit(j import_jobs, message text) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE import_jobs SET status = 'failed', finished_at = now(), reason = message,
        errors = errors || jsonb_build_array(jsonb_build_object('code', 'limit_exceeded',
                                                                'message', message))
    WHERE id = j.id;
    RETURN jsonb_build_object('stop', true, 'code', 'limit_exceeded');
END
$$;

-- ChatGPT's message feedback (providers.md §5.1), after the conversations:
-- each record [{conversation, message, rating, comment?, time?}] kept in the
-- metadata of the stored message it names (the owner's, from ChatGPT), the
-- others counted feedback_unlinked. False: the job was cancelled or taken
-- over.
CREATE OR REPLACE FUNCTION import_feedback(job uuid, worker text, records jsonb) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    j import_jobs;
    total integer;
    linked integer;
BEGIN
    SELECT * INTO j FROM import_jobs WHERE id = job FOR UPDATE;
    IF NOT FOUND OR j.status <> 'running' OR j.worker IS DISTINCT FROM import_feedback.worker
       OR j.cancel_requested THEN
        RETURN false;
    END IF;
    -- One record per message: the later one in the file.
    WITH r AS (
        SELECT DISTINCT ON (v->>'conversation', v->>'message') v
        FROM jsonb_array_elements(records) WITH ORDINALITY e(v, n)
        ORDER BY v->>'conversation', v->>'message', n DESC),
    counted AS (SELECT count(*) AS n FROM r),
    linked_rows AS (
        UPDATE messages m SET metadata = m.metadata || jsonb_build_object('feedback',
            jsonb_strip_nulls(jsonb_build_object(
                'rating', (r.v->>'rating')::int, 'comment', r.v->>'comment',
                'created_at', to_timestamp(0) + ((r.v->>'time')::bigint
                                                 * interval '1 microsecond'))))
        FROM r, conversations c
        WHERE c.owner_id = j.owner_id AND c.source = 'chatgpt'
          AND c.external_id = r.v->>'conversation' AND c.deleted_at IS NULL
          AND m.conversation_id = c.id AND m.external_id = r.v->>'message'
        RETURNING 1)
    SELECT (SELECT n FROM counted), (SELECT count(*) FROM linked_rows) INTO total, linked;
    UPDATE import_jobs SET feedback_linked = feedback_linked + linked,
        skipped = CASE WHEN total > linked
                       THEN import_counts_add(skipped,
                                              jsonb_build_object('feedback_unlinked', total - linked))
                       ELSE skipped END,
        heartbeat_at = now()
    WHERE id = job;
    RETURN true;
END
$$;

-- One conversation of a running job, in its own transaction: created the
-- first time (owner, source, external id), its new messages added (by their
-- external id) under their parents, the job's counts moved on. Answers
-- {"stop": true} without writing when the job was cancelled or taken over.
-- conv: {source, external_id, title, created, updated (µs), active (index),
-- skipped, warnings, bytes_read, messages: [{ext, parent (index or -1),
-- role, text, time (µs), model, html, meta}]}.
CREATE OR REPLACE FUNCTION import_conversation(job uuid, worker text, conv jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    j import_jobs;
    cid uuid;
    is_new boolean := false;
    ids uuid[];
    fresh boolean[];
    added integer;
    leaf uuid;
    leaf_tool uuid;
    pos integer;
BEGIN
    -- The commit does not wait for the WAL to reach the disk: a database
    -- crash can lose the last conversations written, together with their
    -- counts in the job (one transaction), and the job taken again writes
    -- them again. One commit per conversation then costs no disk flush.
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT * INTO j FROM import_jobs WHERE id = job FOR UPDATE;
    IF NOT FOUND OR j.status <> 'running' OR j.worker IS DISTINCT FROM import_conversation.worker
       OR j.cancel_requested THEN
        RETURN jsonb_build_object('stop', true);
    END IF;
    -- The job's limits: it ends failed before a conversation past them,
    -- what it wrote stays.
    IF j.conversations_done >= j.limit_conversations THEN
        RETURN import_job_limit(j, format(
            'The upload holds more conversations than the limit (%s, AIChatImportMaxConversations): '
            'the first %s were imported, the rest was not.', j.limit_conversations,
            j.conversations_done));
    END IF;
    IF now() - j.started_at > j.limit_seconds * interval '1 second' THEN
        RETURN import_job_limit(j, format(
            'The import ran longer than its time limit (%s s, AIChatImportTimeLimit): it stopped '
            'after %s conversations, which stay imported.', j.limit_seconds,
            j.conversations_done));
    END IF;
    SELECT c.id INTO cid FROM conversations c
        WHERE c.owner_id = j.owner_id AND c.source = conv->>'source'
          AND c.external_id = conv->>'external_id';
    IF cid IS NULL THEN
        INSERT INTO conversations (owner_id, title, source, external_id, created_at, updated_at,
                                   last_message_at)
        VALUES (j.owner_id, conv->>'title', conv->>'source', conv->>'external_id',
                to_timestamp(0) + ((conv->>'created')::bigint * interval '1 microsecond'),
                to_timestamp(0) + ((conv->>'updated')::bigint * interval '1 microsecond'),
                to_timestamp(0) + ((conv->>'updated')::bigint * interval '1 microsecond'))
        RETURNING id INTO cid;
        is_new := true;
    END IF;
    -- Each message's row id: the stored one, or a new one.
    SELECT array_agg(coalesce(m.id, gen_random_uuid()) ORDER BY s.n),
           array_agg(m.id IS NULL ORDER BY s.n)
        INTO ids, fresh
        FROM jsonb_array_elements(conv->'messages') WITH ORDINALITY s(v, n)
        LEFT JOIN messages m ON m.conversation_id = cid AND m.external_id = s.v->>'ext';
    -- New messages in a conversation already there: its state before them
    -- is kept as a version first (the history capability's).
    IF NOT is_new AND true = ANY (fresh) THEN
        PERFORM version_take(cid, NULL, j.owner_id, '', 'before_import');
    END IF;
    INSERT INTO messages (id, conversation_id, parent_message_id, sender_type, sender_user_id,
                          sender_tool_id, content, content_type, metadata, created_at,
                          external_id)
    SELECT ids[s.n], cid,
           CASE WHEN (s.v->>'parent')::int >= 0 THEN ids[(s.v->>'parent')::int + 1] END,
           CASE WHEN s.v->>'role' = 'assistant' THEN 'ai' ELSE 'user' END,
           CASE WHEN s.v->>'role' = 'assistant' THEN NULL ELSE j.owner_id END,
           CASE WHEN s.v->>'role' = 'assistant' THEN
               (SELECT t.id FROM ai_tools t WHERE t.model_id = s.v->>'model'
                ORDER BY t.is_active DESC, t.created_at LIMIT 1) END,
           s.v->>'text',
           CASE WHEN (s.v->>'html')::boolean THEN 'text/html' ELSE 'text/markdown' END,
           coalesce(s.v->'meta', '{}'),
           to_timestamp(0) + ((s.v->>'time')::bigint * interval '1 microsecond'),
           s.v->>'ext'
    FROM jsonb_array_elements(conv->'messages') WITH ORDINALITY s(v, n)
    WHERE fresh[s.n]
    ORDER BY s.n;
    GET DIAGNOSTICS added = ROW_COUNT;
    leaf := ids[(conv->>'active')::int + 1];
    IF is_new THEN
        -- The conversation's model: the catalog model that answered last on
        -- the active path (none when no answer's model is in the catalog:
        -- the owner then picks one to continue with).
        WITH RECURSIVE up AS (
            SELECT m.parent_message_id, m.sender_tool_id FROM messages m WHERE m.id = leaf
            UNION ALL
            SELECT p.parent_message_id, p.sender_tool_id
              FROM up JOIN messages p ON p.id = up.parent_message_id
             WHERE up.sender_tool_id IS NULL)
        SELECT up.sender_tool_id INTO leaf_tool FROM up WHERE up.sender_tool_id IS NOT NULL;
        IF leaf_tool IS NOT NULL THEN
            INSERT INTO conversation_ai_models (conversation_id, tool_id, position)
                VALUES (cid, leaf_tool, 0);
        END IF;
        UPDATE conversations SET active_leaf_id = leaf, total_messages = added
            WHERE id = cid;
    ELSIF added > 0 THEN
        -- The active leaf moves to the source's when it lies on the source's
        -- path (the source went on below it); one elsewhere (the owner chose
        -- another branch or went on with the chat) stays.
        UPDATE conversations SET total_messages = total_messages + added,
            active_leaf_id = CASE
                WHEN leaf IS NULL THEN active_leaf_id
                WHEN active_leaf_id IS NULL THEN leaf
                WHEN active_leaf_id IN (SELECT (p.msg).id FROM message_path(leaf) p) THEN leaf
                ELSE active_leaf_id END,
            last_message_at = greatest(last_message_at, to_timestamp(0)
                + ((conv->>'updated')::bigint * interval '1 microsecond'))
            WHERE id = cid;
    END IF;
    pos := j.conversations_done + 1;
    INSERT INTO import_job_conversations (job_id, conversation_id, created, messages_added,
                                          position)
        VALUES (job, cid, is_new, added, pos)
        ON CONFLICT (job_id, conversation_id) DO UPDATE
        SET messages_added = import_job_conversations.messages_added + EXCLUDED.messages_added;
    UPDATE import_jobs SET
        conversations_done = conversations_done + 1,
        conversations_created = conversations_created + is_new::int,
        messages_added = messages_added + added,
        skipped = import_counts_add(skipped, conv->'skipped'),
        warnings = import_counts_add(warnings, conv->'warnings'),
        bytes_read = greatest(bytes_read, coalesce((conv->>'bytes_read')::bigint, 0)),
        heartbeat_at = now()
    WHERE id = job;
    RETURN jsonb_build_object('conversation_id', cid, 'created', is_new, 'added', added);
END
$$;
