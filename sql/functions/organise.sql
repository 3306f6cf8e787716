-- Organise: tags (per user, with a colour), tagging, bulk actions on
-- conversations and saved searches (sql/migrations/019_organise.sql).
--
-- The changes take one JSON argument with named keys and return one JSON
-- object: what the API answers, or {"error": code} for what the module turns
-- into a 404/409/422 (not_found, name_taken, too_many), having written
-- nothing. The request's audit row comes as the key `audit` (as audit_insert
-- takes it) and is written with the change, in the same statement.

-- A tag as the API shows it, with how many of the viewer's live,
-- unarchived conversations carry it (what the list filtered by it shows).
CREATE OR REPLACE FUNCTION tag_json(t tags) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', t.id, 'name', t.name, 'color', t.color, 'created_at', t.created_at,
        'updated_at', t.updated_at,
        'count', (SELECT count(*) FROM conversation_tags ct
                    JOIN conversations c ON c.id = ct.conversation_id
                   WHERE ct.tag_id = t.id AND c.deleted_at IS NULL AND NOT c.archived))
$$;

-- The viewer's tags by name.
CREATE OR REPLACE FUNCTION organise_tags(viewer uuid) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('items', coalesce(json_agg(tag_json(t) ORDER BY lower(t.name), t.id),
                                               '[]'::json))
      FROM tags t WHERE t.user_id = viewer
$$;

-- Create (no id) or change a tag. args: viewer, id, name, color, max (the
-- most tags a user may have), audit. Returns {"tag": ...} or an error:
-- not_found, name_taken, too_many.
CREATE OR REPLACE FUNCTION organise_tag_save(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    tag_id uuid := (args->>'id')::uuid;
    old    tags;
    t      tags;
BEGIN
    IF tag_id IS NULL THEN
        -- Serialise a user's creations, so that the cap holds under concurrency
        -- (NO KEY: foreign key checks on the user need not wait).
        PERFORM 1 FROM users WHERE id = viewer FOR NO KEY UPDATE;
        IF (SELECT count(*) FROM tags WHERE user_id = viewer) >= (args->>'max')::int THEN
            RETURN json_build_object('error', 'too_many');
        END IF;
    ELSE
        SELECT * INTO old FROM tags WHERE id = tag_id AND user_id = viewer FOR UPDATE;
        IF NOT FOUND THEN
            RETURN json_build_object('error', 'not_found');
        END IF;
    END IF;
    BEGIN
        IF tag_id IS NULL THEN
            INSERT INTO tags (user_id, name, color)
            VALUES (viewer, args->>'name', args->>'color') RETURNING * INTO t;
        ELSE
            UPDATE tags SET name = coalesce(args->>'name', name),
                            color = coalesce(args->>'color', color), updated_at = now()
             WHERE id = tag_id RETURNING * INTO t;
        END IF;
    EXCEPTION WHEN unique_violation THEN
        RETURN json_build_object('error', 'name_taken');
    END;
    PERFORM audit_insert(((args->'audit')::jsonb || jsonb_build_object(
        'entity_id', t.id,
        'old_values', CASE WHEN old.id IS NOT NULL THEN jsonb_build_object('name', old.name,
                                                                           'color', old.color) END,
        'new_values', jsonb_build_object('name', t.name, 'color', t.color)))::json);
    RETURN json_build_object('tag', tag_json(t));
END
$$;

-- Delete a tag (and so untag every conversation that carried it). args:
-- viewer, id, audit. Returns {"deleted": id} or {"error": "not_found"}.
CREATE OR REPLACE FUNCTION organise_tag_delete(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    t tags;
BEGIN
    DELETE FROM tags WHERE id = (args->>'id')::uuid AND user_id = (args->>'viewer')::uuid
    RETURNING * INTO t;
    IF NOT FOUND THEN
        RETURN json_build_object('error', 'not_found');
    END IF;
    PERFORM audit_insert(((args->'audit')::jsonb || jsonb_build_object(
        'entity_id', t.id, 'old_values', jsonb_build_object('name', t.name, 'color', t.color)))::json);
    RETURN json_build_object('deleted', t.id);
END
$$;

-- Whether the viewer may see (and so tag) a live conversation: they own it
-- or take part in it.
CREATE OR REPLACE FUNCTION organise_visible(conv uuid, viewer uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM conversations c WHERE c.id = conv AND c.deleted_at IS NULL
                      AND (c.owner_id = viewer
                           OR conversation_member_sees(c.id, c.owner_id, viewer)))
$$;

-- Put one of the viewer's tags on a conversation they may see, or take it
-- off (args: viewer, conversation, tag, on, audit). Idempotent. Returns
-- {"tags": the viewer's tags on it} or {"error": "not_found"}.
CREATE OR REPLACE FUNCTION organise_tag_conversation(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    conv   uuid := (args->>'conversation')::uuid;
    tag    uuid := (args->>'tag')::uuid;
    was    boolean;
BEGIN
    IF NOT organise_visible(conv, viewer)
       OR NOT EXISTS (SELECT 1 FROM tags WHERE id = tag AND user_id = viewer) THEN
        RETURN json_build_object('error', 'not_found');
    END IF;
    was := EXISTS (SELECT 1 FROM conversation_tags WHERE tag_id = tag AND conversation_id = conv);
    IF (args->>'on')::boolean THEN
        INSERT INTO conversation_tags (tag_id, conversation_id) VALUES (tag, conv)
        ON CONFLICT DO NOTHING;
    ELSE
        DELETE FROM conversation_tags WHERE tag_id = tag AND conversation_id = conv;
    END IF;
    PERFORM audit_insert(((args->'audit')::jsonb || jsonb_build_object(
        'entity_id', conv,
        'old_values', jsonb_build_object('tag_id', tag, 'tagged', was),
        'new_values', jsonb_build_object('tag_id', tag, 'tagged', (args->>'on')::boolean)))::json);
    RETURN json_build_object('tags', (
        SELECT coalesce(json_agg(json_build_object('id', t.id, 'name', t.name, 'color', t.color)
                                 ORDER BY lower(t.name), t.id), '[]'::json)
          FROM conversation_tags ct JOIN tags t ON t.id = ct.tag_id
         WHERE ct.conversation_id = conv AND t.user_id = viewer));
END
$$;

-- One action on many conversations, all or nothing. args: viewer, ids (a
-- JSON array of conversation ids) or filter (chat_conversation_match's
-- arguments without viewer, cursor and limit: all that match, the list's
-- filter) with max (the most a filter may match), action (tag, untag,
-- archive, unarchive, delete, restore, export, summarise), tag (for tag and
-- untag), model (for summarise: the summary model's slug), audit (the
-- request's row: each conversation gets one, with its id and what changed).
-- Tag, untag and summarise apply to conversations the viewer may see, the
-- others to the viewer's own (restore to their deleted ones); export
-- changes nothing (the module then sends the ZIP of them); summarise queues
-- a summary job (summary_job_create, in history.sql). The conversations are
-- locked, checked, then changed by one statement that also writes the audit
-- rows. An id the viewer may not act on refuses the request; a filter acts
-- on those of its matches the action applies to (not a participant's
-- archive of the owner's chat), and when there are none writes the
-- request's audit row alone (status 200) and answers count 0. Returns {"action", "count", "ids", "job"
-- (summarise)}, or, having changed nothing, {"error": "not_found", "ids":
-- the ids the viewer may not act on}, {"error": "too_many_matches", "max"}
-- (more than max match the filter) or {"error": "summary_unavailable"}
-- (summarise: the model is not in the catalog or not active).
CREATE OR REPLACE FUNCTION organise_bulk(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    viewer  uuid := (args->>'viewer')::uuid;
    act     text := args->>'action';
    tag     uuid := (args->>'tag')::uuid;
    audit   jsonb := (args->'audit')::jsonb;
    matched boolean := json_typeof(args->'filter') = 'object';
    lim     integer := (args->>'max')::int;
    chosen  uuid[];
    ids     uuid[];
    seen    uuid[];
    missing uuid[];
    n       integer;
    job     jsonb;
BEGIN
    -- The conversations named, once each, in the order given (the list's
    -- for a filter: the order summaries are made in).
    IF matched THEN
        chosen := ARRAY(SELECT c.id FROM chat_conversation_match((
                            (args->'filter')::jsonb
                            || jsonb_build_object('viewer', viewer, 'limit', lim + 1))::json) c);
        IF cardinality(chosen) > lim THEN
            RETURN json_build_object('error', 'too_many_matches', 'max', lim);
        END IF;
    ELSE
        chosen := ARRAY(SELECT s.i FROM (SELECT x.e::uuid AS i, min(x.pos) AS o
                                           FROM json_array_elements_text(args->'ids')
                                                WITH ORDINALITY x(e, pos)
                                          GROUP BY 1) s ORDER BY s.o);
    END IF;
    ids := chosen;
    IF act IN ('tag', 'untag', 'summarise') THEN
        IF act <> 'summarise' AND NOT EXISTS (SELECT 1 FROM tags WHERE id = tag AND user_id = viewer) THEN
            RETURN json_build_object('error', 'tag_not_found');
        END IF;
        seen := ARRAY(SELECT c.id FROM conversations c
                        WHERE c.id = ANY (ids) AND c.deleted_at IS NULL
                          AND (c.owner_id = viewer
                               OR conversation_member_sees(c.id, c.owner_id, viewer))
                        ORDER BY c.id FOR SHARE OF c);
    ELSE
        seen := ARRAY(SELECT c.id FROM conversations c
                        WHERE c.id = ANY (ids) AND c.owner_id = viewer
                          AND (c.deleted_at IS NOT NULL) = (act = 'restore')
                        ORDER BY c.id FOR UPDATE OF c);
    END IF;
    IF matched THEN
        -- What the action applies to among the matches (still, once locked).
        ids := seen;
        IF act = 'summarise' THEN
            chosen := ARRAY(SELECT x.i FROM unnest(chosen) WITH ORDINALITY x(i, o)
                              JOIN unnest(seen) s(i) ON s.i = x.i ORDER BY x.o);
        END IF;
        IF cardinality(ids) = 0 THEN
            -- Nothing to do (no summary job queued): the request's row, 200.
            PERFORM audit_insert((audit || '{"status": 200}')::json);
            RETURN json_build_object('action', act, 'count', 0, 'ids', ids);
        END IF;
    ELSE
        missing := ARRAY(SELECT i FROM unnest(ids) i WHERE i <> ALL (seen) ORDER BY i);
        IF cardinality(missing) > 0 THEN
            RETURN json_build_object('error', 'not_found', 'ids', missing);
        END IF;
    END IF;
    IF act = 'summarise' AND NOT EXISTS (SELECT 1 FROM ai_tools t
                                          WHERE t.slug = args->>'model' AND t.is_active) THEN
        RETURN json_build_object('error', 'summary_unavailable');
    END IF;

    IF act = 'tag' THEN
        WITH ins AS (INSERT INTO conversation_tags (tag_id, conversation_id)
                     SELECT tag, i FROM unnest(ids) i ON CONFLICT DO NOTHING
                     RETURNING conversation_id)
        SELECT audit_insert(json_agg(audit || jsonb_build_object(
                   'entity_id', i,
                   'old_values', jsonb_build_object('tag_id', tag, 'tagged',
                                                    ins.conversation_id IS NULL),
                   'new_values', jsonb_build_object('tag_id', tag, 'tagged', true))))
          INTO n FROM unnest(ids) i LEFT JOIN ins ON ins.conversation_id = i;
    ELSIF act = 'untag' THEN
        WITH del AS (DELETE FROM conversation_tags
                      WHERE tag_id = tag AND conversation_id = ANY (ids)
                     RETURNING conversation_id)
        SELECT audit_insert(json_agg(audit || jsonb_build_object(
                   'entity_id', i,
                   'old_values', jsonb_build_object('tag_id', tag, 'tagged',
                                                    del.conversation_id IS NOT NULL),
                   'new_values', jsonb_build_object('tag_id', tag, 'tagged', false))))
          INTO n FROM unnest(ids) i LEFT JOIN del ON del.conversation_id = i;
    ELSIF act IN ('archive', 'unarchive') THEN
        WITH old AS (SELECT id, archived FROM conversations WHERE id = ANY (ids)),
             upd AS (UPDATE conversations c SET archived = (act = 'archive'), updated_at = now()
                      WHERE c.id = ANY (ids) RETURNING c.id, c.archived)
        SELECT audit_insert(json_agg(audit || jsonb_build_object(
                   'entity_id', u.id,
                   'old_values', jsonb_build_object('archived', o.archived),
                   'new_values', jsonb_build_object('archived', u.archived))))
          INTO n FROM upd u JOIN old o ON o.id = u.id;
    ELSIF act = 'delete' THEN
        WITH upd AS (UPDATE conversations c
                        SET deleted_at = now(), status = 'deleted', updated_at = now()
                      WHERE c.id = ANY (ids) RETURNING c.id)
        SELECT audit_insert(json_agg(audit || jsonb_build_object(
                   'entity_id', u.id,
                   'old_values', jsonb_build_object('status', 'active'),
                   'new_values', jsonb_build_object('status', 'deleted'))))
          INTO n FROM upd u;
    ELSIF act = 'restore' THEN
        WITH upd AS (UPDATE conversations c
                        SET deleted_at = NULL, status = 'active', updated_at = now()
                      WHERE c.id = ANY (ids) RETURNING c.id)
        SELECT audit_insert(json_agg(audit || jsonb_build_object(
                   'entity_id', u.id,
                   'old_values', jsonb_build_object('status', 'deleted'),
                   'new_values', jsonb_build_object('status', 'active'))))
          INTO n FROM upd u;
    ELSIF act = 'export' THEN
        SELECT audit_insert(json_agg(audit || jsonb_build_object('entity_id', i)))
          INTO n FROM unnest(ids) i;
    ELSIF act = 'summarise' THEN
        -- The chats are summarised in the order given.
        job := summary_job_create(viewer, chosen, args->>'model', audit);
        SELECT audit_insert(json_agg(audit || jsonb_build_object(
                   'entity_id', i, 'new_values', jsonb_build_object('summary_job_id', job->'id'))))
          INTO n FROM unnest(ids) i;
    ELSE
        RAISE EXCEPTION 'organise_bulk: unknown action %', act;
    END IF;
    RETURN json_build_object('action', act, 'count', n, 'ids', ids, 'job', job);
END
$$;

-- How many conversations match the list's filter (args: viewer and
-- chat_conversation_match's other arguments but cursor and limit), all
-- pages: what a bulk action on all that match names. Returns {"count"}.
CREATE OR REPLACE FUNCTION organise_bulk_count(args json) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('count', count(*)) FROM chat_conversation_match(args)
$$;

-- A saved search as the API shows it.
CREATE OR REPLACE FUNCTION saved_search_json(s saved_searches) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', s.id, 'name', s.name, 'query', s.query,
                              'created_at', s.created_at, 'updated_at', s.updated_at)
$$;

-- The viewer's saved searches by name.
CREATE OR REPLACE FUNCTION organise_saved_searches(viewer uuid) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('items', coalesce(json_agg(saved_search_json(s)
                                                        ORDER BY lower(s.name), s.id), '[]'::json))
      FROM saved_searches s WHERE s.user_id = viewer
$$;

-- Create (no id) or change a saved search. args: viewer, id, name, query (a
-- JSON object the module checked as a search), max, audit. Returns
-- {"saved_search": ...} or an error: not_found, name_taken, too_many.
CREATE OR REPLACE FUNCTION organise_saved_search_save(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    sid    uuid := (args->>'id')::uuid;
    old    saved_searches;
    s      saved_searches;
BEGIN
    IF sid IS NULL THEN
        PERFORM 1 FROM users WHERE id = viewer FOR NO KEY UPDATE;
        IF (SELECT count(*) FROM saved_searches WHERE user_id = viewer) >= (args->>'max')::int THEN
            RETURN json_build_object('error', 'too_many');
        END IF;
    ELSE
        SELECT * INTO old FROM saved_searches WHERE id = sid AND user_id = viewer FOR UPDATE;
        IF NOT FOUND THEN
            RETURN json_build_object('error', 'not_found');
        END IF;
    END IF;
    BEGIN
        IF sid IS NULL THEN
            INSERT INTO saved_searches (user_id, name, query)
            VALUES (viewer, args->>'name', (args->'query')::jsonb) RETURNING * INTO s;
        ELSE
            UPDATE saved_searches SET name = coalesce(args->>'name', name),
                                      query = coalesce((args->'query')::jsonb, query),
                                      updated_at = now()
             WHERE id = sid RETURNING * INTO s;
        END IF;
    EXCEPTION WHEN unique_violation THEN
        RETURN json_build_object('error', 'name_taken');
    END;
    PERFORM audit_insert(((args->'audit')::jsonb || jsonb_build_object(
        'entity_id', s.id,
        'old_values', CASE WHEN old.id IS NOT NULL THEN saved_search_json(old) END,
        'new_values', saved_search_json(s)))::json);
    RETURN json_build_object('saved_search', saved_search_json(s));
END
$$;

-- Delete a saved search (args: viewer, id, audit). Returns {"deleted": id}
-- or {"error": "not_found"}.
CREATE OR REPLACE FUNCTION organise_saved_search_delete(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    s saved_searches;
BEGIN
    DELETE FROM saved_searches
     WHERE id = (args->>'id')::uuid AND user_id = (args->>'viewer')::uuid RETURNING * INTO s;
    IF NOT FOUND THEN
        RETURN json_build_object('error', 'not_found');
    END IF;
    PERFORM audit_insert(((args->'audit')::jsonb || jsonb_build_object(
        'entity_id', s.id, 'old_values', saved_search_json(s)))::json);
    RETURN json_build_object('deleted', s.id);
END
$$;
