-- Search: PostgreSQL full-text search over the messages (every branch), the
-- notes on them (annotations) and the titles and summaries of the
-- conversations a user owns or takes part in, never deleted ones; titles
-- also match fuzzily (pg_trgm). The text search configuration is 'simple'
-- (no stemming, no stopwords: right for mixed languages), the one the stored
-- vectors messages.search, annotations.search and conversations.search are
-- made with.

-- A message carries its conversation's owner (messages_owner_search indexes
-- its words per owner: 019_organise.sql).
CREATE OR REPLACE FUNCTION messages_set_owner() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.owner_id := (SELECT c.owner_id FROM conversations c WHERE c.id = NEW.conversation_id);
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER messages_owner BEFORE INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_set_owner();

-- Text as HTML text: & < > " ' escaped.
CREATE OR REPLACE FUNCTION search_html_escape(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT replace(replace(replace(replace(replace(s, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
                           '"', '&quot;'), '''', '&#39;')
$$;

-- A snippet of doc around the matches of query, escaped as HTML, each match
-- in <mark>…</mark>. ts_headline marks the matches with two private-use
-- characters (taken out of the text first), the text is escaped, then they
-- become the tags: no markup of the text ever reaches the snippet.
CREATE OR REPLACE FUNCTION search_snippet(doc text, query tsquery) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT replace(replace(search_html_escape(ts_headline(
               'simple', translate(left(doc, 100000), chr(57344) || chr(57345), ''), query,
               'StartSel=' || chr(57344) || ', StopSel=' || chr(57345)
               || ', MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "')),
               chr(57344), '<mark>'), chr(57345), '</mark>')
$$;

-- Relevance with recency, as one number that does not change with time: the
-- logarithm of the text's rank plus its age's worth, a month newer counting
-- as twice the rank. A page's cursor is the last item's score and key.
-- STABLE, not IMMUTABLE, as extract() on a timestamptz is: so the planner
-- inlines it, not calling a SQL function per matching row (bench/search).
CREATE OR REPLACE FUNCTION search_score(rank real, at timestamptz) RETURNS double precision
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ln(rank::double precision + 1e-6) + extract(epoch FROM at) * ln(2) / 2592000
$$;

-- Its inverse for a rank of at most `rank`: the time before which a match of
-- that rank scores below score (search_run's windows: one word ranks at most
-- 0.1).
CREATE OR REPLACE FUNCTION search_score_since(score double precision, rank double precision)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_timestamp((score - ln(rank + 1e-6)) * 2592000 / ln(2))
$$;

-- Whether conversation c has a note (an annotation) on one of its messages.
CREATE OR REPLACE FUNCTION conversation_has_notes(conv uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM annotations a WHERE a.conversation_id = conv)
$$;

-- Whether conversation c passes a search's filters: archived (or null for
-- both), source, model (a slug), the viewer's tags (ntags asked for, any of
-- them or all), notes (with notes, without, or null for both).
CREATE OR REPLACE FUNCTION search_filter(c conversations, arch boolean, src text, model text,
                                         tag_ids uuid[], ntags int, tags_all boolean,
                                         notes boolean)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT (arch IS NULL OR c.archived = arch)
       AND (notes IS NULL OR conversation_has_notes(c.id) = notes)
       AND (src IS NULL OR c.source = src)
       AND (model IS NULL OR EXISTS (
                SELECT 1 FROM conversation_ai_models m JOIN ai_tools t ON t.id = m.tool_id
                 WHERE m.conversation_id = c.id AND t.slug = model))
       AND (ntags = 0 OR (SELECT count(*) FROM conversation_tags ct
                           WHERE ct.conversation_id = c.id AND ct.tag_id = ANY (tag_ids))
                         >= CASE WHEN tags_all THEN ntags ELSE 1 END)
$$;

-- A page of results. args (JSON): viewer, q (websearch_to_tsquery syntax:
-- "a phrase", -word, or), tags (a JSON array of tag ids; only the viewer's
-- count) with tags_all (all of them, else any), source, model (a model's
-- slug), from and to (timestamps: from <= the item's time < to), archived
-- (true, false, or null for both), has_notes (the same), limit, after_score
-- and after_key (the cursor, or null). Items: a message that matches (kind
-- "message"), a note that does (kind "annotation", at its message, with
-- annotation_id), or a conversation whose title or summary does (kind
-- "conversation"), best first; next is the cursor of the next page ("s",
-- score, key) or null.
CREATE OR REPLACE FUNCTION search_run(args json) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    viewer    uuid := (args->>'viewer')::uuid;
    q         text := args->>'q';
    tsq       tsquery := websearch_to_tsquery('simple', args->>'q');
    tags_arg  json := CASE json_typeof(args->'tags') WHEN 'array' THEN args->'tags' ELSE '[]' END;
    tag_ids   uuid[] := ARRAY(SELECT t.id FROM tags t
                               WHERE t.user_id = viewer
                                 AND t.id::text IN (SELECT json_array_elements_text(tags_arg)));
    ntags     int := (SELECT count(DISTINCT e) FROM json_array_elements_text(tags_arg) e);
    tags_all  boolean := coalesce((args->>'tags_all')::boolean, false);
    src       text := args->>'source';
    model     text := args->>'model';
    from_at   timestamptz := (args->>'from')::timestamptz;
    to_at     timestamptz := (args->>'to')::timestamptz;
    arch      boolean := (args->>'archived')::boolean;
    notes     boolean := (args->>'has_notes')::boolean;
    lim       int := (args->>'limit')::int;
    aft_score double precision := (args->>'after_score')::double precision;
    aft_key   uuid := (args->>'after_key')::uuid;
    has_words boolean := numnode(websearch_to_tsquery('simple', args->>'q')) > 0;
    -- No filter asked for: search_filter (a SQL function the planner cannot
    -- inline, called per conversation) is not called at all.
    unfiltered boolean := arch IS NULL AND src IS NULL AND model IS NULL AND ntags = 0
                          AND notes IS NULL;
    -- The viewer's own messages, the best lim found window by window (below).
    own_ids   uuid[] := '{}';
    own_score double precision[] := '{}';
    floor_at  timestamptz := coalesce(from_at, '-infinity');
    win_hi    timestamptz := coalesce(to_at, 'infinity');
    win_lo    timestamptz;
    cut       timestamptz;
BEGIN
    -- The viewer's own messages: the best lim exactly, without ranking every
    -- match when the query is one word. Messages' vectors carry no weights
    -- (every position weighs 0.1), so ts_rank gives one word at most 0.1 and
    -- a match's score is at most ln(0.1) plus its time's worth: once the
    -- lim-th best so far outscores that bound at the start of the window
    -- read, no older match can enter the page. So the last 30 days are read
    -- first; then, with lim found, back to the time before which none can
    -- outrank the lim-th; with fewer, all the rest (docs/architecture.md).
    -- Words that must all be there (or phrases) match few messages and rank
    -- by their distances up to 1, a bound that cuts little: ranked over all
    -- their matches at once.
    IF has_words THEN
        win_lo := CASE WHEN numnode(tsq) = 1
                       THEN greatest(floor_at, least(win_hi, now()) - interval '30 days')
                       ELSE floor_at END;
        LOOP
            -- Planned for each window's values (EXECUTE): a plan cached for
            -- any user and any words would read a rare word's window through
            -- (owner, created_at) or a common word's through its every match.
            EXECUTE $q$
            SELECT coalesce(array_agg(t.id ORDER BY t.score DESC, t.id DESC), '{}'),
                   coalesce(array_agg(t.score ORDER BY t.score DESC, t.id DESC), '{}')
              FROM (SELECT k.id, k.score
                      FROM (SELECT o.id, o.score FROM unnest($1::uuid[], $2::float8[]) AS o(id, score)
                            UNION ALL
                            SELECT m.id, search_score(ts_rank(m.search, $4), m.created_at)
                              FROM messages m JOIN conversations c ON c.id = m.conversation_id
                             WHERE m.owner_id = $3 AND m.search @@ $4
                               AND m.created_at >= $5 AND m.created_at < $6
                               AND c.deleted_at IS NULL
                               -- With tags, a message's chat must carry one of them:
                               -- as an array, so the window is read chat by chat
                               -- through messages_conversation (the heavy user's 30
                               -- days with a tag on 10% of the chats: 7 ms against
                               -- 75-430 through (owner, created_at)).
                               AND ($7 = 0 OR m.conversation_id = ANY (ARRAY(
                                        SELECT ct.conversation_id FROM conversation_tags ct
                                         WHERE ct.tag_id = ANY ($8))))
                               AND ($9 OR search_filter(c, $10, $11, $12, $8, $7, $13, $14))) k
                     WHERE $16::uuid IS NULL OR (k.score, k.id) < ($15, $16)
                     ORDER BY k.score DESC, k.id DESC LIMIT $17) t
            $q$ INTO own_ids, own_score
            USING own_ids, own_score, viewer, tsq, win_lo, win_hi, ntags, tag_ids, unfiltered,
                  arch, src, model, tags_all, notes, aft_score, aft_key, lim;
            EXIT WHEN win_lo <= floor_at;
            IF cardinality(own_ids) >= lim THEN
                cut := search_score_since(own_score[lim], 0.1) - interval '1 second';
                EXIT WHEN cut >= win_lo;
                win_hi := win_lo;
                win_lo := greatest(floor_at, cut);
            ELSE
                win_hi := win_lo;
                win_lo := floor_at;
            END IF;
        END LOOP;
    END IF;
    RETURN (
        WITH member AS MATERIALIZED (
            -- The conversations the viewer takes part in without owning them (few).
            SELECT c.* FROM conversation_participants p
              JOIN conversations c ON c.id = p.conversation_id
             WHERE p.user_id = viewer AND p.role = 'member' AND c.owner_id <> viewer
               AND c.deleted_at IS NULL AND conversation_member_sees(c.id, c.owner_id, viewer)
               AND search_filter(c, arch, src, model, tag_ids, ntags, tags_all, notes)),
        hits AS (
            -- The viewer's own messages: the best lim, found above.
            SELECT 'message' AS kind, m.conversation_id, m.id AS message_id, m.id AS key,
                   m.created_at AS at, ts_rank(m.search, tsq) AS rank, o.score
              FROM unnest(own_ids, own_score) AS o(id, score) JOIN messages m ON m.id = o.id
            UNION ALL
            -- Each conversation taken part in, through its own messages (OFFSET 0
            -- keeps the planner from searching every user's words instead).
            SELECT 'message', m.conversation_id, m.id, m.id, m.created_at, m.rank,
                   search_score(m.rank, m.created_at)
              FROM member c
             CROSS JOIN LATERAL (SELECT x.id, x.conversation_id, x.created_at,
                                        ts_rank(x.search, tsq) AS rank
                                   FROM messages x
                                  WHERE x.conversation_id = c.id AND x.search @@ tsq
                                    AND (from_at IS NULL OR x.created_at >= from_at)
                                    AND (to_at IS NULL OR x.created_at < to_at)
                                 OFFSET 0) m
             WHERE has_words
            UNION ALL
            -- Notes, by their own index (they are few), in the conversations
            -- the viewer owns or takes part in: the note is the key.
            SELECT 'annotation', a.conversation_id, a.message_id, a.id, a.created_at,
                   ts_rank(a.search, tsq), search_score(ts_rank(a.search, tsq), a.created_at)
              FROM annotations a JOIN conversations c ON c.id = a.conversation_id
             WHERE has_words AND a.search @@ tsq
               AND ((c.owner_id = viewer AND c.deleted_at IS NULL
                     AND (unfiltered
                          OR search_filter(c, arch, src, model, tag_ids, ntags, tags_all, notes)))
                    OR c.id IN (SELECT member.id FROM member))
               AND (from_at IS NULL OR a.created_at >= from_at)
               AND (to_at IS NULL OR a.created_at < to_at)
            UNION ALL
            -- Titles and summaries: by their words, or the title fuzzily.
            SELECT 'conversation', c.id, NULL, c.id, c.last_message_at, r.rank,
                   search_score(r.rank, c.last_message_at)
              FROM (SELECT o.* FROM conversations o
                     WHERE o.owner_id = viewer AND o.deleted_at IS NULL
                       AND ((has_words AND o.search @@ tsq) OR o.title % q)
                       AND (unfiltered
                            OR search_filter(o, arch, src, model, tag_ids, ntags, tags_all, notes))
                    UNION ALL
                    SELECT * FROM member o
                     WHERE (has_words AND o.search @@ tsq) OR o.title % q) c
             CROSS JOIN LATERAL (SELECT greatest(CASE WHEN has_words THEN ts_rank(c.search, tsq)
                                                 ELSE 0 END,
                                                 similarity(c.title, q))::real AS rank) r
             WHERE (from_at IS NULL OR c.last_message_at >= from_at)
               AND (to_at IS NULL OR c.last_message_at < to_at)),
        page AS (
            SELECT * FROM hits
             WHERE aft_key IS NULL OR (hits.score, hits.key) < (aft_score, aft_key)
             ORDER BY hits.score DESC, hits.key DESC LIMIT lim)
        SELECT json_build_object(
            'items', coalesce(json_agg(json_build_object(
                'kind', p.kind, 'conversation_id', p.conversation_id, 'message_id', p.message_id,
                'annotation_id', a.id,
                'title', c.title, 'at', p.at, 'rank', p.rank, 'score', p.score,
                'sender_type', m.sender_type,
                'snippet', CASE WHEN a.id IS NOT NULL THEN search_snippet(a.note, tsq)
                                WHEN p.message_id IS NOT NULL THEN search_snippet(m.content, tsq)
                                WHEN has_words AND c.summary IS NOT NULL
                                     AND to_tsvector('simple', c.summary) @@ tsq
                                     THEN search_snippet(c.summary, tsq)
                                ELSE search_snippet(c.title, tsq) END)
                ORDER BY p.score DESC, p.key DESC), '[]'::json),
            'next', CASE WHEN count(*) = lim THEN (
                SELECT encode(convert_to('s|' || l.score::text || '|' || l.key, 'UTF8'), 'hex')
                  FROM page l ORDER BY l.score, l.key LIMIT 1) END)
          FROM page p JOIN conversations c ON c.id = p.conversation_id
          LEFT JOIN messages m ON m.id = p.message_id
          LEFT JOIN annotations a ON p.kind = 'annotation' AND a.id = p.key);
END
$$;
