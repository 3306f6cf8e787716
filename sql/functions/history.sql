-- A conversation's history: annotations (notes on a range of a message's
-- text), versions (snapshots: taken, listed, compared, restored as a new
-- conversation), deleting a branch (after a snapshot of it), and the AI
-- summary's bookkeeping.
--
-- Every change takes one JSON argument with named keys, among them `audit`
-- (the request's audit row as audit_insert takes it, without entity_id and
-- values, which are added here), and returns one JSON object: `code` NULL
-- and `body` (what the API answers), or a code (not_found, forbidden,
-- invalid_field with `field`) and `message`, and then nothing is written.
-- Applied by scripts/aichat-migrate after the migrations, on every run that
-- finds sql/functions/ changed, all files in one transaction in name order
-- (see sql/README.md). Each function is defined here only.

-- Whether viewer may see conversation conv (owner, or a participant while
-- the owner is not deleted; not deleted itself): true for its owner, false for a participant, NULL for anyone else.
CREATE OR REPLACE FUNCTION history_viewer_owns(conv uuid, viewer uuid) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    owns boolean;
BEGIN
    SELECT c.owner_id = viewer INTO owns FROM conversations c
     WHERE c.id = conv AND c.deleted_at IS NULL
       AND (c.owner_id = viewer OR conversation_member_sees(c.id, c.owner_id, viewer));
    RETURN owns;
END
$$;

CREATE OR REPLACE FUNCTION history_refused(code text, message text, field text DEFAULT NULL)
RETURNS json
LANGUAGE sql IMMUTABLE AS $$
    SELECT json_build_object('code', code, 'message', message, 'field', field)
$$;

-- Write the request's audit row (args->'audit') for entity id with its old
-- and new values.
CREATE OR REPLACE FUNCTION history_audit(args json, id uuid, old_values jsonb, new_values jsonb)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM audit_insert(((args->'audit')::jsonb
                          || jsonb_build_object('entity_id', id, 'old_values', old_values,
                                                'new_values', new_values))::json);
END
$$;

-- ---- annotations ----------------------------------------------------------

CREATE OR REPLACE FUNCTION annotation_json(a annotations, viewer uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    author jsonb;
BEGIN
    SELECT jsonb_build_object('username', u.username,
                              'display_name', coalesce(u.display_name, u.username))
      INTO author FROM users u WHERE u.id = a.author_id;
    RETURN jsonb_build_object(
        'id', a.id, 'conversation_id', a.conversation_id, 'message_id', a.message_id,
        'position', a.position, 'note', a.note, 'author', author,
        'is_author', a.author_id = viewer, 'created_at', a.created_at,
        'updated_at', a.updated_at);
END
$$;

-- args: viewer, conv. The conversation's annotations, by message and place.
CREATE OR REPLACE FUNCTION annotation_list(args json) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    conv uuid := (args->>'conv')::uuid;
BEGIN
    IF history_viewer_owns(conv, viewer) IS NULL THEN
        RETURN history_refused('not_found', 'No such conversation.');
    END IF;
    RETURN json_build_object('code', NULL, 'body', json_build_object('items', (
        SELECT coalesce(json_agg(annotation_json(a, viewer)
                                 ORDER BY a.message_id, (a.position->>'start')::int, a.created_at,
                                          a.id), '[]'::json)
          FROM annotations a WHERE a.conversation_id = conv)));
END
$$;

-- args: viewer, conv, message, position (checked by the module), note, audit.
CREATE OR REPLACE FUNCTION annotation_create(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    conv uuid := (args->>'conv')::uuid;
    created annotations;
    body jsonb;
BEGIN
    IF history_viewer_owns(conv, viewer) IS NULL THEN
        RETURN history_refused('not_found', 'No such conversation.');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = (args->>'message')::uuid
                                             AND m.conversation_id = conv) THEN
        RETURN history_refused('invalid_field', 'message_id must be a message of this conversation.',
                               'message_id');
    END IF;
    INSERT INTO annotations (conversation_id, message_id, author_id, position, note)
    VALUES (conv, (args->>'message')::uuid, viewer, (args->'position')::jsonb, args->>'note')
    RETURNING * INTO created;
    body := annotation_json(created, viewer);
    PERFORM history_audit(args, created.id, NULL, body);
    RETURN json_build_object('code', NULL, 'body', body);
END
$$;

-- args: viewer, id, note and position (each NULL to keep), audit. Only the
-- author changes a note; another participant is refused, anyone else finds none.
CREATE OR REPLACE FUNCTION annotation_update(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    before annotations;
    after annotations;
    body jsonb;
BEGIN
    SELECT * INTO before FROM annotations a WHERE a.id = (args->>'id')::uuid FOR UPDATE;
    IF NOT FOUND OR history_viewer_owns(before.conversation_id, viewer) IS NULL THEN
        RETURN history_refused('not_found', 'No such annotation.');
    END IF;
    IF before.author_id <> viewer THEN
        RETURN history_refused('forbidden', 'Only its author may change an annotation.');
    END IF;
    UPDATE annotations a
       SET note = coalesce(args->>'note', a.note),
           position = coalesce((args->'position')::jsonb, a.position), updated_at = now()
     WHERE a.id = before.id RETURNING * INTO after;
    body := annotation_json(after, viewer);
    PERFORM history_audit(args, before.id, annotation_json(before, viewer), body);
    RETURN json_build_object('code', NULL, 'body', body);
END
$$;

-- args: viewer, id, audit.
CREATE OR REPLACE FUNCTION annotation_delete(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    gone annotations;
BEGIN
    SELECT * INTO gone FROM annotations a WHERE a.id = (args->>'id')::uuid FOR UPDATE;
    IF NOT FOUND OR history_viewer_owns(gone.conversation_id, viewer) IS NULL THEN
        RETURN history_refused('not_found', 'No such annotation.');
    END IF;
    IF gone.author_id <> viewer THEN
        RETURN history_refused('forbidden', 'Only its author may delete an annotation.');
    END IF;
    DELETE FROM annotations a WHERE a.id = gone.id;
    PERFORM history_audit(args, gone.id, annotation_json(gone, viewer), NULL);
    RETURN json_build_object('code', NULL, 'body', NULL);
END
$$;

-- ---- versions -------------------------------------------------------------

-- What a version keeps of conversation conv: title, system prompt, settings,
-- models (slugs, in order), the owner's tags on it (id, name, colour, as
-- conversation_json shows them; a participant's own tags are theirs, not the
-- conversation's) and the messages of the path ending at leaf, root first,
-- as they were.
CREATE OR REPLACE FUNCTION version_snapshot(conv uuid, leaf uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c conversations;
    models jsonb;
    tag_list jsonb;
    msgs jsonb;
BEGIN
    SELECT * INTO c FROM conversations WHERE id = conv;
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'name', t.name, 'color', t.color)
                              ORDER BY lower(t.name), t.id), '[]')
      INTO tag_list
      FROM conversation_tags ct JOIN tags t ON t.id = ct.tag_id
     WHERE ct.conversation_id = conv AND t.user_id = c.owner_id;
    SELECT coalesce(jsonb_agg(t.slug ORDER BY m.position), '[]') INTO models
      FROM conversation_ai_models m JOIN ai_tools t ON t.id = m.tool_id
     WHERE m.conversation_id = conv AND m.is_active;
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', (p.msg).id, 'sender_type', (p.msg).sender_type,
               'sender', message_sender(p.msg),
               'sender_user_id', (p.msg).sender_user_id,
               'sender_tool_id', (p.msg).sender_tool_id,
               'content', (p.msg).content, 'content_type', (p.msg).content_type,
               'status', (p.msg).status, 'error', (p.msg).error,
               'created_at', (p.msg).created_at) ORDER BY p.depth DESC), '[]')
      INTO msgs FROM message_path(leaf) p;
    RETURN jsonb_build_object('title', c.title, 'system_prompt', c.system_prompt,
                              'settings', c.settings, 'models', models, 'tags', tag_list,
                              'messages', msgs);
END
$$;

-- A version as the API shows it; with_snapshot adds what it holds.
CREATE OR REPLACE FUNCTION version_json(v conversation_versions, with_snapshot boolean)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    creator text;
    o jsonb;
BEGIN
    SELECT u.username INTO creator FROM users u WHERE u.id = v.created_by;
    o := jsonb_build_object('id', v.id, 'conversation_id', v.conversation_id,
                            'comment', v.comment, 'reason', v.reason, 'created_by', creator,
                            'created_at', v.created_at, 'title', v.snapshot->'title',
                            'message_count', v.message_count);
    IF with_snapshot THEN
        o := o || jsonb_build_object('snapshot', v.snapshot);
    END IF;
    RETURN o;
END
$$;

-- Take a version of conv: the path ending at leaf (the active one when NULL).
CREATE OR REPLACE FUNCTION version_take(conv uuid, leaf uuid, viewer uuid, comment text,
                                        reason text) RETURNS conversation_versions
LANGUAGE plpgsql AS $$
DECLARE
    snap jsonb := version_snapshot(conv, coalesce(leaf, (SELECT c.active_leaf_id
                                                          FROM conversations c WHERE c.id = conv)));
    v conversation_versions;
BEGIN
    INSERT INTO conversation_versions (conversation_id, created_by, comment, reason, snapshot,
                                       message_count)
    VALUES (conv, viewer, comment, reason, snap, jsonb_array_length(snap->'messages'))
    RETURNING * INTO v;
    RETURN v;
END
$$;

-- args: viewer, conv, limit, after_ts and after_id (the cursor's row: its
-- creation in microseconds since the epoch and its id). A page, newest first,
-- without what they hold; next names the page's last row while the page is full.
CREATE OR REPLACE FUNCTION version_list(args json) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    conv uuid := (args->>'conv')::uuid;
    after_at timestamptz := timestamptz 'epoch' + (args->>'after_ts')::bigint * interval '1 microsecond';
    after_id uuid := (args->>'after_id')::uuid;
    lim int := (args->>'limit')::int;
BEGIN
    IF history_viewer_owns(conv, viewer) IS NULL THEN
        RETURN history_refused('not_found', 'No such conversation.');
    END IF;
    RETURN (
        WITH page AS (
            SELECT v AS version, v.id, v.created_at FROM conversation_versions v
             WHERE v.conversation_id = conv
               AND (after_id IS NULL OR (v.created_at, v.id) < (after_at, after_id))
             ORDER BY v.created_at DESC, v.id DESC LIMIT lim)
        SELECT json_build_object('code', NULL, 'body', json_build_object(
                   'items', coalesce(json_agg(version_json(version, false)
                                              ORDER BY created_at DESC, id DESC), '[]'::json),
                   'next', CASE WHEN count(*) = lim THEN (
                       SELECT encode(convert_to('cv|' || p.id || '|'
                                  || (extract(epoch FROM p.created_at) * 1000000)::bigint,
                                  'UTF8'), 'hex')
                         FROM page p ORDER BY p.created_at, p.id LIMIT 1) END))
          FROM page);
END
$$;

-- args: viewer, conv, comment, audit. Anyone who takes part may take one.
CREATE OR REPLACE FUNCTION version_create(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    conv uuid := (args->>'conv')::uuid;
    v conversation_versions;
    body jsonb;
BEGIN
    IF history_viewer_owns(conv, viewer) IS NULL THEN
        RETURN history_refused('not_found', 'No such conversation.');
    END IF;
    PERFORM 1 FROM conversations c WHERE c.id = conv FOR SHARE;
    v := version_take(conv, NULL, viewer, coalesce(args->>'comment', ''), 'manual');
    body := version_json(v, false);
    PERFORM history_audit(args, v.id, NULL, body);
    RETURN json_build_object('code', NULL, 'body', body);
END
$$;

-- A version viewer may see (its conversation visible to them), or NULL.
CREATE OR REPLACE FUNCTION version_visible(id uuid, viewer uuid) RETURNS conversation_versions
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v conversation_versions;
BEGIN
    SELECT * INTO v FROM conversation_versions x WHERE x.id = version_visible.id;
    IF NOT FOUND OR history_viewer_owns(v.conversation_id, viewer) IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN v;
END
$$;

-- args: viewer, id. The snapshot's tags are its owner's: a participant sees
-- none of them, as they see none of the owner's tags on the conversation.
CREATE OR REPLACE FUNCTION version_get(args json) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    v conversation_versions := version_visible((args->>'id')::uuid, viewer);
    body jsonb;
BEGIN
    IF v.id IS NULL THEN
        RETURN history_refused('not_found', 'No such version.');
    END IF;
    body := version_json(v, true);
    IF NOT history_viewer_owns(v.conversation_id, viewer) AND body->'snapshot' ? 'tags' THEN
        body := jsonb_set(body, '{snapshot,tags}', '[]'::jsonb);
    END IF;
    RETURN json_build_object('code', NULL, 'body', body);
END
$$;

-- args: viewer, id, other (a version of the same conversation). A diff of
-- two versions, message by message along their paths: each place is `same`
-- (the same message: same sender and text), `changed` (both have one there,
-- different), `added` (only the other has one) or `removed` (only this one);
-- and which of title, system prompt, settings and models changed.
CREATE OR REPLACE FUNCTION version_compare(args json) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    a conversation_versions := version_visible((args->>'id')::uuid, viewer);
    b conversation_versions := version_visible((args->>'other')::uuid, viewer);
    items jsonb;
BEGIN
    IF a.id IS NULL THEN
        RETURN history_refused('not_found', 'No such version.');
    END IF;
    IF b.id IS NULL OR b.conversation_id <> a.conversation_id THEN
        RETURN history_refused('invalid_field', 'with must be a version of the same conversation.',
                               'with');
    END IF;
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'index', i - 1,
               'change', CASE WHEN x IS NULL THEN 'added' WHEN y IS NULL THEN 'removed'
                              WHEN x->>'sender_type' = y->>'sender_type'
                                   AND x->'sender' = y->'sender'
                                   AND x->>'content' = y->>'content' THEN 'same'
                              ELSE 'changed' END,
               'from', x, 'to', y) ORDER BY i), '[]')
      INTO items
      FROM generate_series(1, greatest(a.message_count, b.message_count)) i
      LEFT JOIN LATERAL (SELECT a.snapshot->'messages'->(i - 1) AS x,
                                b.snapshot->'messages'->(i - 1) AS y) p ON true;
    RETURN json_build_object('code', NULL, 'body', json_build_object(
        'from', version_json(a, false), 'to', version_json(b, false),
        'title_changed', a.snapshot->'title' IS DISTINCT FROM b.snapshot->'title',
        'system_prompt_changed',
            a.snapshot->'system_prompt' IS DISTINCT FROM b.snapshot->'system_prompt',
        'settings_changed', a.snapshot->'settings' IS DISTINCT FROM b.snapshot->'settings',
        'models_changed', a.snapshot->'models' IS DISTINCT FROM b.snapshot->'models',
        'messages', items));
END
$$;

-- args: viewer, id, audit. A new conversation of viewer's with what the
-- version holds: its title, system prompt, settings, the models that still
-- exist, the tags that still exist and are viewer's (a deleted tag is not
-- made again; a participant restoring the owner's version gets none of the
-- owner's tags), and its messages as one path (new ids, the same senders,
-- texts, statuses and times). The version's conversation is never touched.
CREATE OR REPLACE FUNCTION version_restore(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    v conversation_versions := version_visible((args->>'id')::uuid, viewer);
    new_id uuid;
    prev uuid;
    n integer := 0;
    msg jsonb;
    body jsonb;
BEGIN
    IF v.id IS NULL THEN
        RETURN history_refused('not_found', 'No such version.');
    END IF;
    INSERT INTO conversations (owner_id, title, source, system_prompt, settings)
    VALUES (viewer, v.snapshot->>'title', 'version', v.snapshot->>'system_prompt',
            v.snapshot->'settings')
    RETURNING id INTO new_id;
    INSERT INTO conversation_participants (conversation_id, user_id, role)
    VALUES (new_id, viewer, 'admin');
    INSERT INTO conversation_ai_models (conversation_id, tool_id, position)
    SELECT new_id, t.id, (row_number() OVER (ORDER BY s.ord))::int - 1
      FROM jsonb_array_elements_text(v.snapshot->'models') WITH ORDINALITY s(slug, ord)
      JOIN ai_tools t ON t.slug = s.slug;
    INSERT INTO conversation_tags (tag_id, conversation_id)
    SELECT DISTINCT t.id, new_id
      FROM jsonb_array_elements(coalesce(v.snapshot->'tags', '[]')) s(tag)
      JOIN tags t ON t.id = (s.tag->>'id')::uuid AND t.user_id = viewer;
    FOR msg IN SELECT e FROM jsonb_array_elements(v.snapshot->'messages') e LOOP
        INSERT INTO messages (conversation_id, parent_message_id, sender_type, sender_user_id,
                              sender_tool_id, content, content_type, status, error, created_at)
        VALUES (new_id, prev, msg->>'sender_type',
                (SELECT u.id FROM users u WHERE u.id = (msg->>'sender_user_id')::uuid),
                (SELECT t.id FROM ai_tools t WHERE t.id = (msg->>'sender_tool_id')::uuid),
                msg->>'content', msg->>'content_type', msg->>'status', msg->>'error',
                (msg->>'created_at')::timestamptz)
        RETURNING id INTO prev;
        n := n + 1;
    END LOOP;
    UPDATE conversations c
       SET active_leaf_id = prev, total_messages = n,
           last_message_at = coalesce((SELECT max((e->>'created_at')::timestamptz)
                                         FROM jsonb_array_elements(v.snapshot->'messages') e),
                                      now())
     WHERE c.id = new_id;
    SELECT conversation_json(c, viewer) INTO body FROM conversations c WHERE c.id = new_id;
    PERFORM history_audit(args, new_id, jsonb_build_object('version_id', v.id,
                                                           'conversation_id', v.conversation_id),
                          body);
    RETURN json_build_object('code', NULL, 'body', body);
END
$$;

-- ---- deleting a branch ----------------------------------------------------

-- args: viewer, id (a message), audit. The owner deletes a message and
-- everything below it; a version of the path through that branch (down to
-- its newest leaf) is taken first. When the visible thread ran through it,
-- the thread shows the newest branch left at its parent. Refused while an
-- answer is being written, or while a live share ends in the branch.
-- Answers the version and the conversation.
CREATE OR REPLACE FUNCTION branch_delete(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    m messages;
    c conversations;
    v conversation_versions;
    branch uuid[];
    removed integer;
    leaf uuid;
    body jsonb;
BEGIN
    SELECT * INTO m FROM messages x WHERE x.id = (args->>'id')::uuid;
    IF NOT FOUND OR history_viewer_owns(m.conversation_id, viewer) IS NULL THEN
        RETURN history_refused('not_found', 'No such message.');
    END IF;
    SELECT * INTO c FROM conversations x WHERE x.id = m.conversation_id FOR UPDATE;
    IF c.owner_id <> viewer THEN
        RETURN history_refused('forbidden', 'Only the owner may delete a branch.');
    END IF;
    IF EXISTS (SELECT 1 FROM messages x WHERE x.conversation_id = c.id AND x.status = 'streaming') THEN
        RETURN history_refused('conflict', 'An answer is being written; try again when it is done.');
    END IF;
    WITH RECURSIVE below(id) AS (
        SELECT m.id
        UNION ALL
        SELECT x.id FROM messages x JOIN below ON x.parent_message_id = below.id)
    SELECT array_agg(id) INTO branch FROM below;
    removed := cardinality(branch);
    -- A live share ending in the branch would go with it, unseen by its owner.
    IF EXISTS (SELECT 1 FROM shared_chats s WHERE s.conversation_id = c.id
                                              AND s.revoked_at IS NULL
                                              AND s.snapshot_message_id = ANY (branch)) THEN
        RETURN history_refused('conflict', 'The shared link shows this branch: update the share '
                               'or stop sharing first.');
    END IF;
    v := version_take(c.id, message_newest_leaf(m.id), viewer,
                      'Before deleting a branch', 'before_branch_delete');
    -- Where the visible thread goes when it ran through the branch.
    IF EXISTS (SELECT 1 FROM message_path(c.active_leaf_id) p WHERE (p.msg).id = m.id) THEN
        leaf := CASE WHEN m.parent_message_id IS NOT NULL THEN
                    (SELECT message_newest_leaf(s.id) FROM messages s
                      WHERE s.parent_message_id = m.parent_message_id AND s.id <> m.id
                      ORDER BY s.created_at DESC, s.id DESC LIMIT 1)
                END;
        leaf := coalesce(leaf, m.parent_message_id,
                         (SELECT message_newest_leaf(s.id) FROM messages s
                           WHERE s.conversation_id = c.id AND s.parent_message_id IS NULL
                             AND s.id <> m.id ORDER BY s.created_at DESC, s.id DESC LIMIT 1));
    ELSE
        leaf := c.active_leaf_id;
    END IF;
    DELETE FROM messages x WHERE x.id = m.id;
    UPDATE conversations x
       SET active_leaf_id = leaf, total_messages = greatest(x.total_messages - removed, 0),
           updated_at = now()
     WHERE x.id = c.id;
    SELECT conversation_json(x, viewer) INTO body FROM conversations x WHERE x.id = c.id;
    PERFORM history_audit(args, m.id,
                          jsonb_build_object('conversation_id', c.id, 'messages', removed,
                                             'active_leaf_id', c.active_leaf_id),
                          jsonb_build_object('version_id', v.id, 'active_leaf_id', leaf));
    RETURN json_build_object('code', NULL, 'body', json_build_object(
        'conversation', body, 'version', version_json(v, false), 'deleted_messages', removed));
END
$$;

-- ---- summaries ------------------------------------------------------------

-- args: viewer, conv, slug (the configured summary model). What a summary
-- needs: the conversation's title and visible thread (chat_context) and the
-- model as the chat statements give it; code not_found for a conversation
-- the viewer may not see, summary_unavailable when the model is not in the
-- catalog or not active.
CREATE OR REPLACE FUNCTION summary_source(args json) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    conv uuid := (args->>'conv')::uuid;
    c conversations;
    model json;
BEGIN
    IF history_viewer_owns(conv, (args->>'viewer')::uuid) IS NULL THEN
        RETURN history_refused('not_found', 'No such conversation.');
    END IF;
    SELECT json_build_object('id', t.id, 'slug', t.slug, 'display_name', t.display_name,
                             'provider', t.provider, 'model_id', t.model_id,
                             'capabilities', t.capabilities, 'defaults', t.default_settings)
      INTO model FROM ai_tools t WHERE t.slug = args->>'slug' AND t.is_active;
    IF model IS NULL THEN
        RETURN history_refused('summary_unavailable', 'The summary model is not available now.');
    END IF;
    SELECT * INTO c FROM conversations x WHERE x.id = conv;
    IF c.active_leaf_id IS NULL THEN
        RETURN history_refused('invalid_field', 'An empty conversation has nothing to summarise.',
                               'conversation');
    END IF;
    RETURN json_build_object('code', NULL, 'title', c.title, 'model', model,
                             'thread', chat_context(c.active_leaf_id));
END
$$;

-- args: viewer, conv, summary, model (its slug), reserved, used, audit. The
-- summary stored with its model and time, and the call's reservation settled
-- (chat_settle), together. A conversation deleted meanwhile is charged all
-- the same (the call was made) and answers not_found.
CREATE OR REPLACE FUNCTION summary_store(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    conv uuid := (args->>'conv')::uuid;
    previous text;
    balance bigint;
    body jsonb;
BEGIN
    balance := chat_settle(viewer, (args->>'reserved')::bigint, (args->>'used')::bigint, false,
                           NULL);
    SELECT c.summary INTO previous FROM conversations c
     WHERE c.id = conv AND c.deleted_at IS NULL FOR UPDATE;
    IF NOT FOUND THEN
        RETURN json_build_object('code', 'not_found', 'message', 'No such conversation.',
                                 'balance', balance);
    END IF;
    UPDATE conversations c
       SET summary = args->>'summary', summary_model = args->>'model', summarized_at = now()
     WHERE c.id = conv
    RETURNING jsonb_build_object('conversation_id', c.id, 'summary', c.summary,
                                 'summary_model', c.summary_model,
                                 'summarized_at', c.summarized_at, 'credits', balance)
      INTO body;
    PERFORM history_audit(args, conv, jsonb_build_object('summary', previous),
                          body - 'credits' || jsonb_build_object('used', (args->>'used')::bigint));
    RETURN json_build_object('code', NULL, 'body', body);
END
$$;

-- ---- summary jobs ("Summarise these") ---------------------------------------

CREATE OR REPLACE FUNCTION summary_job_json(j summary_jobs) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', j.id, 'status', j.status, 'model', j.model,
                              'conversation_ids', to_jsonb(j.conversation_ids),
                              'total', cardinality(j.conversation_ids), 'done', j.done,
                              'failed', j.failed, 'errors', j.errors,
                              'cancel_requested', j.cancel_requested,
                              'created_at', j.created_at, 'started_at', j.started_at,
                              'finished_at', j.finished_at)
$$;

-- A new job for viewer over ids (checked by the caller: organise_bulk) with
-- model (a catalog slug) and the creating request's audit row.
CREATE OR REPLACE FUNCTION summary_job_create(viewer uuid, ids uuid[], model text, audit jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    j summary_jobs;
BEGIN
    INSERT INTO summary_jobs (owner_id, model, conversation_ids, audit)
    VALUES (viewer, model, ids, audit - 'at')
    RETURNING * INTO j;
    RETURN summary_job_json(j);
END
$$;

-- args: viewer, id. The viewer's job, or not_found.
CREATE OR REPLACE FUNCTION summary_job_get(args json) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    j summary_jobs;
BEGIN
    SELECT * INTO j FROM summary_jobs x
     WHERE x.id = (args->>'id')::uuid AND x.owner_id = (args->>'viewer')::uuid;
    IF NOT FOUND THEN
        RETURN history_refused('not_found', 'No such summary job.');
    END IF;
    RETURN json_build_object('code', NULL, 'body', summary_job_json(j));
END
$$;

-- args: viewer, active (true: the queued and running jobs only; false: the
-- ended ones; absent: all), after_ts and after_id (the cursor, or absent),
-- limit. A page of the viewer's jobs, newest first, with the cursor of the
-- next page (core/aic_cursor: "j", id, created_at in microseconds since the
-- epoch).
CREATE OR REPLACE FUNCTION summary_job_list(args json) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    active boolean := (args->>'active')::boolean;
    after_at timestamptz := timestamptz 'epoch' + (args->>'after_ts')::bigint * interval '1 microsecond';
    after_id uuid := (args->>'after_id')::uuid;
    lim int := (args->>'limit')::int;
BEGIN
    RETURN (
        WITH page AS (
            SELECT x AS job, x.id, x.created_at FROM summary_jobs x
             WHERE x.owner_id = viewer
               AND (active IS NULL OR (x.status IN ('queued', 'running')) = active)
               AND (after_id IS NULL OR (x.created_at, x.id) < (after_at, after_id))
             ORDER BY x.created_at DESC, x.id DESC LIMIT lim)
        SELECT json_build_object('code', NULL, 'body', json_build_object(
                   'items', coalesce(json_agg(summary_job_json(job)
                                              ORDER BY created_at DESC, id DESC), '[]'::json),
                   'next', CASE WHEN count(*) = lim THEN (
                       SELECT encode(convert_to('j|' || p.id || '|'
                                  || (extract(epoch FROM p.created_at) * 1000000)::bigint,
                                  'UTF8'), 'hex')
                         FROM page p ORDER BY p.created_at, p.id LIMIT 1) END))
          FROM page);
END
$$;

-- args: viewer, id, audit. Cancel the viewer's job: a queued one ends now
-- (cancelled), a running one after the conversation it is summarising (its
-- worker reads cancel_requested before the next); an ended one stays as it
-- is (cancelling it again changes nothing). The audit row records the job's
-- status before and after. not_found for a job not the viewer's.
CREATE OR REPLACE FUNCTION summary_job_cancel(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    j summary_jobs;
    was summary_jobs;
BEGIN
    SELECT * INTO was FROM summary_jobs x
     WHERE x.id = (args->>'id')::uuid AND x.owner_id = (args->>'viewer')::uuid
     FOR UPDATE;
    IF NOT FOUND THEN
        RETURN history_refused('not_found', 'No such summary job.');
    END IF;
    UPDATE summary_jobs x
       SET cancel_requested = x.cancel_requested OR x.status IN ('queued', 'running'),
           status = CASE WHEN x.status = 'queued' THEN 'cancelled' ELSE x.status END,
           finished_at = CASE WHEN x.status = 'queued' THEN now() ELSE x.finished_at END
     WHERE x.id = was.id
    RETURNING * INTO j;
    PERFORM history_audit(args, j.id,
                          jsonb_build_object('status', was.status,
                                             'cancel_requested', was.cancel_requested),
                          jsonb_build_object('status', j.status,
                                             'cancel_requested', j.cancel_requested));
    RETURN json_build_object('code', NULL, 'body', summary_job_json(j));
END
$$;

-- The oldest waiting job, or one whose worker went away (no heartbeat for
-- 30 s), now worker's: id, owner, the owner's user name, model. A job
-- cancelled while nobody worked it ends cancelled here.
CREATE OR REPLACE FUNCTION summary_job_take(worker text)
RETURNS TABLE (id uuid, owner_id uuid, username text, model text)
LANGUAGE plpgsql AS $$
DECLARE
    j summary_jobs;
BEGIN
    LOOP
        SELECT * INTO j FROM summary_jobs x
         WHERE x.status = 'queued'
            OR (x.status = 'running' AND x.heartbeat_at < now() - interval '30 seconds')
         ORDER BY x.created_at, x.id
         LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            RETURN;
        END IF;
        EXIT WHEN NOT j.cancel_requested;
        UPDATE summary_jobs x SET status = 'cancelled', finished_at = now(), worker = NULL
         WHERE x.id = j.id;
    END LOOP;
    UPDATE summary_jobs x
       SET status = 'running', worker = summary_job_take.worker, attempts = x.attempts + 1,
           heartbeat_at = now(), started_at = coalesce(x.started_at, now())
     WHERE x.id = j.id;
    RETURN QUERY SELECT j.id, j.owner_id, u.username::text, j.model FROM users u
                  WHERE u.id = j.owner_id;
END
$$;

-- The conversation job should summarise next, while worker holds it (its
-- heartbeat renewed); NULL when none is left (the job is then done, or
-- failed when no conversation could be summarised), when its owner
-- cancelled it (it is then cancelled) or when the job is no longer worker's.
CREATE OR REPLACE FUNCTION summary_job_next(job uuid, worker text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    j summary_jobs;
BEGIN
    UPDATE summary_jobs x SET heartbeat_at = now()
     WHERE x.id = job AND x.worker = summary_job_next.worker AND x.status = 'running'
    RETURNING * INTO j;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF j.cancel_requested OR j.position >= cardinality(j.conversation_ids) THEN
        UPDATE summary_jobs x
           SET status = CASE WHEN x.position < cardinality(x.conversation_ids) THEN 'cancelled'
                             WHEN x.done = 0 AND x.failed > 0 THEN 'failed' ELSE 'done' END,
               finished_at = now(), worker = NULL
         WHERE x.id = job;
        RETURN NULL;
    END IF;
    RETURN j.conversation_ids[j.position + 1];
END
$$;

-- args: job, worker, conv (the job's next conversation), and either the
-- summary made (summary, model, reserved, used: stored and settled by
-- summary_store, with the job's audit row) or error {code, message}. The
-- job moves on to its next conversation in the same transaction.
CREATE OR REPLACE FUNCTION summary_job_step(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    j summary_jobs;
    conv uuid := (args->>'conv')::uuid;
    err jsonb := (args->'error')::jsonb;
    res json;
BEGIN
    SELECT * INTO j FROM summary_jobs x
     WHERE x.id = (args->>'job')::uuid AND x.worker = args->>'worker' AND x.status = 'running'
       AND x.conversation_ids[x.position + 1] = conv
     FOR UPDATE;
    IF NOT FOUND THEN
        RETURN json_build_object('code', 'not_found', 'message', 'The job is not this worker''s.');
    END IF;
    IF err IS NULL THEN
        res := summary_store((args::jsonb || jsonb_build_object(
                   'viewer', j.owner_id,
                   'audit', j.audit || jsonb_build_object('metadata',
                                                          jsonb_build_object('job_id', j.id))))::json);
        IF res->>'code' IS NOT NULL THEN
            err := jsonb_build_object('code', res->>'code', 'message', res->>'message');
        END IF;
    END IF;
    UPDATE summary_jobs x
       SET position = x.position + 1, heartbeat_at = now(),
           done = x.done + (err IS NULL)::int, failed = x.failed + (err IS NOT NULL)::int,
           errors = CASE WHEN err IS NULL THEN x.errors
                         ELSE x.errors || jsonb_build_array(
                                  jsonb_build_object('conversation_id', conv) || err) END
     WHERE x.id = j.id;
    RETURN json_build_object('code', NULL);
END
$$;

-- The job goes back to the queue (its worker's process stops), to be taken
-- up where it stopped.
CREATE OR REPLACE FUNCTION summary_job_requeue(job uuid, worker text) RETURNS integer
LANGUAGE sql AS $$
    WITH u AS (
        UPDATE summary_jobs x SET status = 'queued', worker = NULL
         WHERE x.id = job AND x.worker = summary_job_requeue.worker AND x.status = 'running'
        RETURNING 1)
    SELECT count(*)::int FROM u
$$;

-- ---- what a share shows of the history ------------------------------------

-- args: share, conv, version_id (a version of conv; JSON null: the
-- conversation itself; absent: unchanged), show_annotations (absent:
-- unchanged). Run by the share API in the transaction that creates or
-- changes the share; returns the share (share_json) or refuses a version
-- that is not the conversation's.
CREATE OR REPLACE FUNCTION share_history_set(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    s shared_chats;
    version uuid := (args->>'version_id')::uuid;
BEGIN
    IF version IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM conversation_versions v
         WHERE v.id = version AND v.conversation_id = (args->>'conv')::uuid) THEN
        RETURN history_refused('invalid_field', 'version_id must be a version of this conversation.',
                               'version_id');
    END IF;
    UPDATE shared_chats x
       SET version_id = CASE WHEN (args::jsonb) ? 'version_id' THEN version ELSE x.version_id END,
           show_annotations = coalesce((args->>'show_annotations')::boolean, x.show_annotations),
           updated_at = now()
     WHERE x.id = (args->>'share')::uuid
    RETURNING * INTO s;
    RETURN json_build_object('code', NULL, 'body', share_json(s));
END
$$;

-- The notes on a message as a share shows them (quote, note, author), or
-- NULL when it has none.
CREATE OR REPLACE FUNCTION share_annotations(message uuid) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT json_agg(json_build_object('quote', a.position->>'quote', 'note', a.note,
                                              'author', coalesce(u.display_name, u.username))
                            ORDER BY (a.position->>'start')::int, a.created_at, a.id)
              FROM annotations a JOIN users u ON u.id = a.author_id
             WHERE a.message_id = message);
END
$$;
