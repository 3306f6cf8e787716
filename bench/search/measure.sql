-- bench/search: p50 and p95 of search_run (the module's one statement for
-- GET /search) for the heavy user, six query shapes, against the ILIKE
-- '%…%' scan a peer runs over the same messages for the same question, the
-- two alternated in one session. Times are taken around each statement
-- inside PostgreSQL (server-side: no client, no network).
\set ON_ERROR_STOP on
\set QUIET on
\pset footer off

CREATE FUNCTION pg_temp.ms(stmt text) RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    EXECUTE stmt;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;

CREATE FUNCTION pg_temp.pct(xs double precision[], p double precision) RETURNS double precision
LANGUAGE sql AS $$
    SELECT percentile_disc(p) WITHIN GROUP (ORDER BY x) FROM unnest(xs) x
$$;

-- shape, search_run's arguments (besides viewer and limit), the ILIKE scan's
-- extra condition and patterns.
CREATE TEMP TABLE shapes (n int, shape text, args jsonb, likes text[], extra text);
INSERT INTO shapes
SELECT * FROM (VALUES
    (1, 'one common word (data)', '{"q": "data"}'::jsonb, ARRAY['%data%'], ''),
    (2, 'two words (server error)', '{"q": "server error"}', ARRAY['%server%', '%error%'], ''),
    (3, 'a phrase ("error message")', '{"q": "\"error message\""}', ARRAY['%error message%'], ''),
    (4, 'a rare word (xw31337)', '{"q": "xw31337"}', ARRAY['%xw31337%'], ''),
    (5, 'common word, tag filter', '{"q": "data", "tag": true}', ARRAY['%data%'],
        ' AND EXISTS (SELECT 1 FROM conversation_tags ct WHERE ct.conversation_id = c.id'
        || ' AND ct.tag_id = %L)'),
    (6, 'common word, last 30 days', '{"q": "data", "recent": true}', ARRAY['%data%'],
        ' AND m.created_at >= now() - interval ''30 days''')) v;

CREATE TEMP TABLE runs (n int, kind text, ms double precision);

DO $$
DECLARE
    heavy uuid := (SELECT id FROM users WHERE username = 'bench_search_0000');
    tag   uuid := (SELECT id FROM tags WHERE user_id = heavy AND name = 'bench');
    s     shapes;
    args  jsonb;
    scan  text;
    iters int := coalesce(current_setting('bench.iterations', true), '20')::int;
BEGIN
    FOR s IN SELECT * FROM shapes ORDER BY n LOOP
        args := (s.args - 'tag' - 'recent') || jsonb_build_object('viewer', heavy, 'limit', 20);
        IF s.args ? 'tag' THEN
            args := args || jsonb_build_object('tags', jsonb_build_array(tag));
        END IF;
        IF s.args ? 'recent' THEN
            args := args || jsonb_build_object('from', now() - interval '30 days');
        END IF;
        scan := format('SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id'
                       ' WHERE c.owner_id = %L AND c.deleted_at IS NULL', heavy)
             || (SELECT string_agg(format(' AND m.content ILIKE %L', l), '') FROM unnest(s.likes) l)
             || format(s.extra, tag)
             || ' ORDER BY m.created_at DESC LIMIT 20';
        -- One warm-up of each, then alternated.
        PERFORM pg_temp.ms(format('SELECT search_run(%L::json)', args));
        PERFORM pg_temp.ms(scan);
        FOR i IN 1..iters LOOP
            INSERT INTO runs VALUES (s.n, 'search', pg_temp.ms(format('SELECT search_run(%L::json)', args)));
            INSERT INTO runs VALUES (s.n, 'ilike', pg_temp.ms(scan));
        END LOOP;
    END LOOP;
END
$$;

SELECT s.shape,
       round(pg_temp.pct(array_agg(r.ms) FILTER (WHERE r.kind = 'search'), 0.5)::numeric, 1) AS "search p50 ms",
       round(pg_temp.pct(array_agg(r.ms) FILTER (WHERE r.kind = 'search'), 0.95)::numeric, 1) AS "search p95 ms",
       round(pg_temp.pct(array_agg(r.ms) FILTER (WHERE r.kind = 'ilike'), 0.5)::numeric, 1) AS "ILIKE p50 ms",
       round(pg_temp.pct(array_agg(r.ms) FILTER (WHERE r.kind = 'ilike'), 0.95)::numeric, 1) AS "ILIKE p95 ms",
       round((pg_temp.pct(array_agg(r.ms) FILTER (WHERE r.kind = 'ilike'), 0.95)
              / pg_temp.pct(array_agg(r.ms) FILTER (WHERE r.kind = 'search'), 0.95))::numeric, 1)
           AS "ratio at p95"
  FROM runs r JOIN shapes s USING (n) GROUP BY s.n, s.shape ORDER BY s.n;
