-- Personal API keys and the calls made with them (the OpenAI-compatible API);
-- usage of credits by everything that spends them (chat answers, summaries,
-- API calls), and a user's credit ledger a page at a time.
-- Applied by scripts/aichat-migrate after the migrations (see sql/README.md).
-- Each function is defined here only. A key's text never reaches the
-- database: the module hands over its SHA-256 (hex) and its visible prefix.

-- A key's state now: 'revoked', 'expired' or 'active'.
CREATE OR REPLACE FUNCTION key_state(k api_keys) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked'
                WHEN k.expires_at IS NOT NULL AND k.expires_at <= now() THEN 'expired'
                ELSE 'active' END
$$;

-- A key as its owner (and an administrator) sees it; with_user adds whose it is.
CREATE OR REPLACE FUNCTION key_json(k api_keys, with_user boolean) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    j jsonb;
BEGIN
    j := jsonb_build_object(
        'id', k.id, 'name', k.name, 'prefix', k.prefix, 'models', to_jsonb(k.models),
        'monthly_budget', k.monthly_budget,
        'budget_used', CASE WHEN k.budget_month = date_trunc('month', now())::date
                            THEN k.budget_used ELSE 0 END,
        'rpm', k.rpm, 'tpm', k.tpm, 'expires_at', k.expires_at,
        'keep_conversations', k.keep_conversations,
        'last_used_at', k.last_used_at, 'created_at', k.created_at, 'revoked_at', k.revoked_at,
        'status', key_state(k));
    IF with_user THEN
        j := j || jsonb_build_object(
            'user', (SELECT jsonb_build_object('id', u.id, 'username', u.username)
                     FROM users u WHERE u.id = k.user_id));
    END IF;
    RETURN j;
END
$$;

-- Make a key. args (JSON): user_id, name, prefix, hash (hex SHA-256 of the
-- key), models (slugs, or null for every model), monthly_budget, rpm, tpm,
-- expires_at (each may be null), keep_conversations and audit (the
-- request's audit row). Returns
-- JSON: the key (key_json), or code 'unknown_model' with the slug that names
-- no model of the catalog (and nothing is written).
CREATE OR REPLACE FUNCTION keys_create(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    a record;
    k api_keys;
    missing text;
BEGIN
    SELECT * INTO a FROM json_to_record(args)
        AS x(user_id uuid, name text, prefix text, hash text, models text[],
             monthly_budget bigint, rpm integer, tpm integer, expires_at timestamptz,
             keep_conversations boolean);
    SELECT s INTO missing FROM unnest(a.models) s
     WHERE NOT EXISTS (SELECT 1 FROM ai_tools t WHERE t.slug = s) LIMIT 1;
    IF missing IS NOT NULL THEN
        RETURN json_build_object('code', 'unknown_model', 'model', missing);
    END IF;
    INSERT INTO api_keys (user_id, name, prefix, key_hash, models, monthly_budget, rpm, tpm,
                          expires_at, keep_conversations)
    VALUES (a.user_id, a.name, a.prefix, decode(a.hash, 'hex'), a.models, a.monthly_budget,
            a.rpm, a.tpm, a.expires_at, coalesce(a.keep_conversations, false))
    RETURNING * INTO k;
    PERFORM audit_insert(((args->'audit')::jsonb
                          || jsonb_build_object('entity_id', k.id,
                                                'new_values', key_json(k, false)))::json);
    RETURN json_build_object('key', key_json(k, false));
END
$$;

-- Revoke a key: args (JSON) id, owner (the user whose key it must be; null
-- for an administrator, who may revoke any), actor, audit. Returns the key
-- (key_json with its user), or null when there is no such key (of owner's).
-- A revoked key stays revoked (its first revocation's time).
CREATE OR REPLACE FUNCTION keys_revoke(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    a record;
    k api_keys;
BEGIN
    SELECT * INTO a FROM json_to_record(args) AS x(id uuid, owner uuid, actor uuid);
    UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()),
                        revoked_by = coalesce(revoked_by, a.actor)
     WHERE id = a.id AND (a.owner IS NULL OR user_id = a.owner)
    RETURNING * INTO k;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    PERFORM audit_insert(((args->'audit')::jsonb
                          || jsonb_build_object('entity_id', k.id,
                                                'new_values', key_json(k, false)))::json);
    RETURN key_json(k, true)::json;
END
$$;

-- A user's keys (owner), or every key (owner null, for administrators),
-- newest first: a page of at most lim after the key named by after_at (its
-- created_at, UTC, to the microsecond) and after_id, or the first page when
-- they are null. Returns JSON: items, and next (the cursor of the page's last
-- key, kind 'k', core/aic_cursor.h) when the page is full, else null.
CREATE OR REPLACE FUNCTION keys_list(owner uuid, after_at text, after_id uuid, lim integer)
    RETURNS json
LANGUAGE sql STABLE AS $$
    WITH page AS (
        SELECT k, row_number() OVER (ORDER BY k.created_at DESC, k.id DESC) AS n
          FROM api_keys k
         WHERE (owner IS NULL OR k.user_id = owner)
           AND (after_id IS NULL
                OR (k.created_at, k.id) < (after_at::timestamptz, after_id))
         ORDER BY k.created_at DESC, k.id DESC LIMIT lim)
    SELECT json_build_object(
        'items', coalesce((SELECT json_agg(key_json(p.k, owner IS NULL) ORDER BY p.n) FROM page p),
                          '[]'),
        'next', (SELECT encode(convert_to('k|' || to_char((p.k).created_at AT TIME ZONE 'UTC',
                                                           'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
                                          || '|' || (p.k).id, 'UTF8'), 'hex')
                   FROM page p WHERE p.n = lim))
$$;

-- What the authentication provider needs of the key whose SHA-256 is hash
-- (hex): its id, prefix, user name, state ('active', 'revoked', 'expired'),
-- models (JSON array or null), rpm and tpm (0: none), keep (its calls kept
-- as conversations), expires (microseconds since the epoch, or null). No row
-- for an unknown key. Records the key's use, to
-- the minute.
CREATE OR REPLACE FUNCTION keys_authenticate(hash text)
    RETURNS TABLE (id uuid, prefix text, username text, state text, models text, rpm integer,
                   tpm integer, keep boolean, expires bigint)
LANGUAGE plpgsql AS $$
DECLARE
    k api_keys;
BEGIN
    SELECT * INTO k FROM api_keys x WHERE x.key_hash = decode(hash, 'hex');
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF k.revoked_at IS NULL AND (k.last_used_at IS NULL
                                 OR k.last_used_at < now() - interval '1 minute') THEN
        UPDATE api_keys x SET last_used_at = now() WHERE x.id = k.id;
    END IF;
    RETURN QUERY
        SELECT k.id, k.prefix, u.username::text,
               key_state(k),
               array_to_json(k.models)::text, coalesce(k.rpm, 0), coalesce(k.tpm, 0),
               k.keep_conversations,
               (extract(epoch FROM k.expires_at) * 1e6)::bigint
          FROM users u WHERE u.id = k.user_id;
END
$$;

-- Take credits for a key's calls, as a chat turn reserves (credits_reserve,
-- as chat_turn_reserve): from the user's balance, never below zero, then
-- from the key's monthly budget, conditional too; a ledger row, and the
-- lease's row, which the process gives back (api_calls_settle) with what
-- its calls did not take. args (JSON): viewer, key, reserve (the call's
-- bound), want (what the process would hold for this key's next calls too),
-- model, provider. Up to want is taken, but never more than a 256th of the
-- balance or of what is left of the budget, so that the credits the
-- processes hold stay a small part of either. The module found the key
-- and the model a moment ago, maybe from its memo of the last second: both
-- are checked again here, so no lease is taken for a key revoked or expired,
-- or a model no longer served by that provider. Returns JSON: code
-- 'model_not_found', 'revoked_api_key', 'expired_api_key', 'invalid_api_key'
-- (the key is gone), 'insufficient_credits' or 'budget_exceeded' (nothing
-- written), else lease (its id), credits (what it holds) and balance. The
-- users row is locked before the key's, as when calls are settled.
CREATE OR REPLACE FUNCTION api_call_reserve(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    a record;
    balance bigint;
    month date := date_trunc('month', now())::date;
    held bigint;
    lease uuid;
BEGIN
    SELECT * INTO a FROM json_to_record(args)
        AS x(viewer uuid, key uuid, reserve bigint, want bigint, model text, provider text);
    IF NOT EXISTS (SELECT 1 FROM ai_tools t
                    WHERE t.slug = a.model AND t.is_active AND t.provider = a.provider) THEN
        RETURN json_build_object('code', 'model_not_found');
    END IF;
    -- Read without a lock: the updates below check again.
    SELECT greatest(a.reserve,
                    least(a.want, u.token_credits / 256,
                          coalesce((k.monthly_budget - CASE WHEN k.budget_month = month
                                                            THEN k.budget_used ELSE 0 END) / 256,
                                   a.want)))
      INTO held
      FROM users u, api_keys k WHERE u.id = a.viewer AND k.id = a.key;
    held := coalesce(held, a.reserve);
    balance := credits_reserve(a.viewer, held);
    IF balance IS NULL THEN
        RETURN json_build_object('code', 'insufficient_credits');
    END IF;
    UPDATE api_keys k
       SET budget_used = CASE WHEN k.budget_month = month THEN k.budget_used ELSE 0 END + held,
           budget_month = month, last_used_at = now()
     WHERE k.id = a.key AND k.user_id = a.viewer AND key_state(k) = 'active'
       AND (k.monthly_budget IS NULL
            OR CASE WHEN k.budget_month = month THEN k.budget_used ELSE 0 END + held
               <= k.monthly_budget);
    IF NOT FOUND THEN
        UPDATE users SET token_credits = token_credits + held WHERE id = a.viewer;
        RETURN json_build_object('code', coalesce((
            SELECT CASE key_state(k) WHEN 'active' THEN 'budget_exceeded'
                                     ELSE key_state(k) || '_api_key' END
              FROM api_keys k WHERE k.id = a.key AND k.user_id = a.viewer), 'invalid_api_key'));
    END IF;
    INSERT INTO api_key_leases (key_id, user_id, credits) VALUES (a.key, a.viewer, held)
    RETURNING id INTO lease;
    INSERT INTO credit_ledger (user_id, delta, balance_after, reason)
    VALUES (a.viewer, -held, balance, 'reserve');
    RETURN json_build_object('code', NULL, 'lease', lease, 'credits', held, 'balance', balance);
END
$$;

-- Settle what a process's writer collected (aic_batch): batch is a JSON
-- array of
--   calls     that ended: call (its id), viewer, key, model, provider,
--             stream, reserved (what it took of a lease), prompt_tokens,
--             completion_tokens, status ('complete', 'incomplete' or
--             'error'), error, started and at (microseconds since the epoch),
--             audit (the request's audit row, as audit_insert takes it; its
--             entity is the call) and keep when the key keeps its calls:
--             {system, messages: [{role, content}], answer, title}, stored as
--             a conversation of source 'api' (a failed call is not kept);
--   releases  of leases: leases (their ids), viewer, key, credits (what the
--             process's calls did not take of them).
-- A call is charged what it used, at most what it reserved (a failed call
-- nothing): the rest goes back to the user's balance and the key's budget
-- (of the month the call began in); the key's last use is the latest
-- call's start. A release gives back its credits, at most what its leases
-- held. Each user's credits are settled by chat_settle, as an answer's are,
-- once per reason: 'settle' (the calls answered) and 'release' (failed
-- calls and what the leases had left, when not zero). Written once: a call whose row
-- exists, or a lease given back already, is left alone, so a batch tried
-- again charges once. Each user's balance and each key are updated once, in
-- id order and last, so that two batches lock them alike and briefly.
-- Returns how many calls were settled now.
CREATE OR REPLACE FUNCTION api_calls_settle(batch json) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    items jsonb := batch::jsonb; -- parsed once
    fresh uuid[];
    backs jsonb;
    c record;
    s record;
    conv uuid;
    tool uuid;
    parent uuid;
    m record;
    n integer;
BEGIN
    WITH ins AS (
        INSERT INTO api_calls (id, key_id, user_id, model, provider, stream, reserved,
                               prompt_tokens, completion_tokens, credits, status, error,
                               created_at, finished_at)
        SELECT a.call, a.key, a.viewer, a.model, a.provider, a.stream, a.reserved,
               a.prompt_tokens, a.completion_tokens,
               CASE WHEN a.status = 'error' THEN 0
                    ELSE least(a.prompt_tokens::bigint + a.completion_tokens, a.reserved) END,
               a.status, a.error, to_timestamp(a.started / 1e6), to_timestamp(a.at / 1e6)
          FROM jsonb_array_elements(items) x,
               jsonb_to_record(x.value) AS a(call uuid, key uuid, viewer uuid, model text,
                                            provider text, stream boolean, reserved bigint,
                                            prompt_tokens integer, completion_tokens integer,
                                            status text, error text, started bigint, at bigint)
         WHERE a.call IS NOT NULL
           AND EXISTS (SELECT 1 FROM api_keys k WHERE k.id = a.key AND k.user_id = a.viewer)
        ON CONFLICT (id) DO NOTHING
        RETURNING id)
    SELECT coalesce(array_agg(id), '{}') INTO fresh FROM ins;
    n := cardinality(fresh);

    -- What goes back: each new call's unused credits, each release's.
    WITH released AS (
        DELETE FROM api_key_leases l
         WHERE l.id IN (SELECT e::uuid FROM jsonb_array_elements(items) x,
                                            jsonb_array_elements_text(x.value->'leases') e)
        RETURNING l.id, l.credits, l.created_at),
    rel AS (
        SELECT x.ord, (x.value->>'viewer')::uuid AS user_id, (x.value->>'key')::uuid AS key_id,
               least((x.value->>'credits')::bigint, sum(r.credits)) AS delta,
               date_trunc('month', min(r.created_at))::date AS month
          FROM jsonb_array_elements(items) WITH ORDINALITY x(value, ord)
          JOIN released r ON r.id::text IN (SELECT jsonb_array_elements_text(x.value->'leases'))
         GROUP BY x.ord, x.value->>'viewer', x.value->>'key', x.value->>'credits')
    SELECT coalesce(jsonb_agg(b ORDER BY b.ord), '[]') INTO backs FROM (
        SELECT x.ord, k.user_id, k.key_id, k.reserved - k.credits AS delta,
               CASE WHEN k.status = 'error' THEN 'release' ELSE 'settle' END AS reason,
               date_trunc('month', k.created_at)::date AS month, k.created_at AS used
          FROM jsonb_array_elements(items) WITH ORDINALITY x(value, ord)
          JOIN api_calls k ON k.id = (x.value->>'call')::uuid AND k.id = ANY (fresh)
        UNION ALL
        SELECT r.ord, r.user_id, r.key_id, r.delta, 'release', r.month, NULL
          FROM rel r WHERE r.delta > 0) b;

    -- The calls kept as conversations, and the requests' audit rows.
    FOR c IN SELECT a.*
               FROM jsonb_array_elements(items) x,
                    jsonb_to_record(x.value) AS a(call uuid, viewer uuid, model text, status text,
                                                 prompt_tokens integer, completion_tokens integer,
                                                 keep json)
              WHERE a.call = ANY (fresh) AND a.keep IS NOT NULL AND a.status <> 'error' LOOP
        SELECT t.id INTO tool FROM ai_tools t WHERE t.slug = c.model;
        CONTINUE WHEN tool IS NULL;
        INSERT INTO conversations (owner_id, title, source, system_prompt)
        VALUES (c.viewer, left(coalesce(c.keep->>'title', ''), 200), 'api',
                nullif(left(c.keep->>'system', 20000), ''))
        RETURNING id INTO conv;
        INSERT INTO conversation_ai_models (conversation_id, tool_id, position)
        VALUES (conv, tool, 0);
        parent := NULL;
        FOR m IN SELECT * FROM json_to_recordset(c.keep->'messages') AS x(role text, content text)
        LOOP
            INSERT INTO messages (conversation_id, parent_message_id, sender_type, sender_user_id,
                                  sender_tool_id, content, status, created_at)
            VALUES (conv, parent, CASE WHEN m.role = 'user' THEN 'user' ELSE 'ai' END,
                    CASE WHEN m.role = 'user' THEN c.viewer END,
                    CASE WHEN m.role = 'user' THEN NULL ELSE tool END, m.content, 'complete',
                    clock_timestamp())
            RETURNING id INTO parent;
        END LOOP;
        INSERT INTO messages (conversation_id, parent_message_id, sender_type, sender_tool_id,
                              content, status, prompt_tokens, completion_tokens, created_at)
        VALUES (conv, parent, 'ai', tool, coalesce(c.keep->>'answer', ''), c.status,
                c.prompt_tokens, c.completion_tokens, clock_timestamp())
        RETURNING id INTO parent;
        UPDATE conversations x
           SET total_messages = json_array_length(c.keep->'messages') + 1,
               active_leaf_id = parent, last_message_at = now()
         WHERE x.id = conv;
        UPDATE api_calls x SET conversation_id = conv WHERE x.id = c.call;
    END LOOP;
    PERFORM audit_insert(json_agg((x.value->'audit'
                                   || jsonb_build_object('entity_id', x.value->>'call'))::json))
       FROM jsonb_array_elements(items) x
      WHERE (x.value->>'call')::uuid = ANY (fresh) AND x.value->'audit' IS NOT NULL
     HAVING count(*) > 0;
    -- Last, so that the rows every call of a user or key shares stay locked
    -- for as short a time as can be. chat_settle gives back reserved - used:
    -- here what goes back in all.
    FOR s IN SELECT b.user_id, b.reason, sum(b.delta)::bigint AS total
               FROM jsonb_to_recordset(backs) AS b(user_id uuid, delta bigint, reason text)
              WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = b.user_id)
              GROUP BY b.user_id, b.reason ORDER BY b.user_id, b.reason DESC LOOP
        PERFORM chat_settle(s.user_id, s.total, 0::bigint, s.reason = 'release', NULL);
    END LOOP;
    FOR s IN SELECT b.key_id, b.month, sum(b.delta) AS total, max(b.used) AS used
               FROM jsonb_to_recordset(backs) AS b(key_id uuid, month date, delta bigint,
                                                   used timestamptz)
              GROUP BY b.key_id, b.month ORDER BY b.key_id, b.month LOOP
        UPDATE api_keys k
           SET budget_used = CASE WHEN k.budget_month = s.month
                                  THEN greatest(k.budget_used - s.total, 0)
                                  ELSE k.budget_used END,
               last_used_at = greatest(k.last_used_at, s.used)
         WHERE k.id = s.key_id;
    END LOOP;
    RETURN n;
END
$$;

-- Everything that spent credits from `since` on: one user's (viewer), or
-- the whole site's (viewer null); one row per
--   chat     answer of a turn, settled: its ledger row ('settle', or
--            'release' when it failed and was charged nothing; read once);
--            tokens from the answer, credits its tokens (what chat_settle
--            charges, a failed answer nothing); the model and provider its
--            model's. The user is the one charged (the ledger's), who may be
--            a participant of another's conversation.
--   summary  summary stored (summary_store's audit row, which alone keeps
--            what it used: its tokens, one figure, and credits); a failed one
--            was charged nothing and is not here.
--   api      call through the OpenAI-compatible API (api_calls, written
--            when the call is settled).
-- Columns: kind, user_id, key_id (an API call's), model (slug), provider,
-- failed, prompt_tokens and completion_tokens (0 for a summary, whose split
-- is not kept), tokens, credits, created_at. A chat answer's messages or model
-- deleted since, or a conversation deleted while being summarised, drop
-- out (the ledger still has their credits).
CREATE OR REPLACE FUNCTION usage_items(viewer uuid, since timestamptz)
    RETURNS TABLE (kind text, user_id uuid, key_id uuid, model text, provider text,
                   failed boolean, prompt_tokens bigint, completion_tokens bigint, tokens bigint,
                   credits bigint, created_at timestamptz)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    first_id bigint;
BEGIN
    -- The ledger has no index on time, but its ids grow with it: the span's
    -- rows come after the newest one an hour older than since (a margin for
    -- transactions that began before and wrote after), found from the newest
    -- back, the site's by the primary key, a user's by credit_ledger_user.
    -- Known before the query is planned, it lets the plan read only the span.
    IF viewer IS NULL THEN
        SELECT l.id INTO first_id FROM credit_ledger l
         WHERE l.created_at < since - interval '1 hour' ORDER BY l.id DESC LIMIT 1;
    ELSE
        SELECT l.id INTO first_id FROM credit_ledger l
         WHERE l.user_id = viewer AND l.created_at < since - interval '1 hour'
         ORDER BY l.id DESC LIMIT 1;
    END IF;
    first_id := coalesce(first_id, 0);
    -- Each branch of a UNION ALL is for one of viewer null or not, so that a
    -- plan made for any viewer keeps its index.
    RETURN QUERY
    WITH settled AS (
        SELECT l.id, l.user_id, l.reason, l.message_id, l.created_at
          FROM credit_ledger l
         WHERE viewer IS NULL AND l.id > first_id AND l.created_at >= since
           AND l.message_id IS NOT NULL AND l.reason IN ('settle', 'release')
        UNION ALL
        SELECT l.id, l.user_id, l.reason, l.message_id, l.created_at
          FROM credit_ledger l
         WHERE l.user_id = viewer AND l.id > first_id AND l.created_at >= since
           AND l.message_id IS NOT NULL AND l.reason IN ('settle', 'release'))
    SELECT 'chat'::text, s.user_id, NULL::uuid, coalesce(t.slug, '')::text,
           coalesce(t.provider, '')::text, s.reason = 'release',
           coalesce(m.prompt_tokens, 0)::bigint, coalesce(m.completion_tokens, 0)::bigint,
           coalesce(m.prompt_tokens, 0)::bigint + coalesce(m.completion_tokens, 0)::bigint,
           CASE WHEN s.reason = 'release' THEN 0::bigint
                ELSE coalesce(m.prompt_tokens, 0)::bigint + coalesce(m.completion_tokens, 0)::bigint
           END,
           s.created_at
      FROM settled s
      JOIN messages m ON m.id = s.message_id AND m.sender_type = 'ai'
      LEFT JOIN ai_tools t ON t.id = m.sender_tool_id
     -- A release names an answer that failed (chat_settle), or one being
     -- regenerated when that turn failed in the database (chat_turn_release):
     -- only the answer's first settlement counts.
     WHERE s.reason = 'settle'
        OR (m.status = 'error'
            AND NOT EXISTS (SELECT 1 FROM credit_ledger e
                             WHERE e.message_id = s.message_id AND e.id < s.id
                               AND e.reason IN ('settle', 'release')))
    UNION ALL
    SELECT 'summary'::text, a.user_id, NULL::uuid,
           coalesce(a.new_values->>'summary_model', '')::text, coalesce(t.provider, '')::text,
           false, 0::bigint, 0::bigint, (a.new_values->>'used')::bigint,
           (a.new_values->>'used')::bigint, a.created_at
      FROM audit_logs a
      LEFT JOIN ai_tools t ON t.slug = a.new_values->>'summary_model'
     WHERE a.action = 'summarise' AND a.entity_type = 'conversation' AND a.new_values ? 'used'
       AND a.created_at >= since AND (viewer IS NULL OR a.user_id = viewer)
    UNION ALL
    SELECT 'api'::text, x.user_id, x.key_id, x.model::text, x.provider::text, x.status = 'error',
           x.prompt_tokens::bigint, x.completion_tokens::bigint,
           x.prompt_tokens::bigint + x.completion_tokens::bigint, x.credits::bigint, x.created_at
      FROM api_calls x
     WHERE viewer IS NULL AND x.created_at >= since
    UNION ALL
    SELECT 'api'::text, x.user_id, x.key_id, x.model::text, x.provider::text, x.status = 'error',
           x.prompt_tokens::bigint, x.completion_tokens::bigint,
           x.prompt_tokens::bigint + x.completion_tokens::bigint, x.credits::bigint, x.created_at
      FROM api_calls x
     WHERE x.user_id = viewer AND x.created_at >= since;
END
$$;

-- Usage of the last `days` days (1 to 366): one user's (viewer), or the
-- whole site's (viewer null): everything that spent credits (usage_items:
-- chat answers, summaries, API calls; a "call" is one of those). Returns
-- JSON: since, totals (calls, errors, prompt_tokens, completion_tokens,
-- tokens, credits over the whole span; tokens include a summary's, whose
-- split into prompt and completion is not kept), kinds (chat, summary, api,
-- each with calls, errors, tokens, credits), days (tokens, credits and
-- calls per day, every day present), models, keys (API calls only, each
-- with its owner's username), users (top 20 by credits) and providers (with
-- their failed calls).
CREATE OR REPLACE FUNCTION keys_usage(viewer uuid, days integer) RETURNS json
LANGUAGE sql STABLE AS $$
    WITH span AS (SELECT date_trunc('day', now()) - make_interval(days => days - 1) AS since),
    c AS MATERIALIZED (SELECT i.* FROM span, usage_items(viewer, span.since) i)
    SELECT json_build_object(
        'since', (SELECT since FROM span),
        'totals', (SELECT json_build_object(
                          'calls', count(*), 'errors', count(*) FILTER (WHERE failed),
                          'prompt_tokens', coalesce(sum(prompt_tokens), 0),
                          'completion_tokens', coalesce(sum(completion_tokens), 0),
                          'tokens', coalesce(sum(tokens), 0),
                          'credits', coalesce(sum(credits), 0))
                     FROM c),
        'kinds', (SELECT json_agg(json_build_object(
                         'kind', k.kind, 'calls', coalesce(s.n, 0), 'errors', coalesce(s.e, 0),
                         'tokens', coalesce(s.t, 0), 'credits', coalesce(s.cr, 0)) ORDER BY k.o)
                    FROM (VALUES ('chat', 1), ('summary', 2), ('api', 3)) k(kind, o)
                    LEFT JOIN (SELECT kind, count(*) n, count(*) FILTER (WHERE failed) e,
                                      sum(tokens) t, sum(credits) cr
                                 FROM c GROUP BY kind) s ON s.kind = k.kind),
        'days', (SELECT coalesce(json_agg(json_build_object(
                        'day', to_char(d, 'YYYY-MM-DD'),
                        'prompt_tokens', coalesce(s.p, 0), 'completion_tokens', coalesce(s.c, 0),
                        'tokens', coalesce(s.t, 0), 'credits', coalesce(s.cr, 0),
                        'calls', coalesce(s.n, 0)) ORDER BY d), '[]')
                   FROM span, generate_series(span.since, date_trunc('day', now()),
                                              interval '1 day') d
                   LEFT JOIN (SELECT date_trunc('day', created_at) AS day,
                                     sum(prompt_tokens) AS p, sum(completion_tokens) AS c,
                                     sum(tokens) AS t, sum(credits) AS cr, count(*) AS n
                                FROM c GROUP BY 1) s ON s.day = d),
        'models', (SELECT coalesce(json_agg(json_build_object(
                          'model', model, 'calls', n, 'tokens', t, 'credits', cr)
                          ORDER BY cr DESC, model), '[]')
                     FROM (SELECT model, count(*) n, sum(tokens) t, sum(credits) cr
                             FROM c GROUP BY model) m),
        'keys', (SELECT coalesce(json_agg(json_build_object(
                        'id', k.id, 'name', k.name, 'prefix', k.prefix, 'username', u.username,
                        'calls', n, 'tokens', t, 'credits', cr) ORDER BY cr DESC, k.name), '[]')
                   FROM (SELECT key_id, count(*) n, sum(tokens) t, sum(credits) cr
                           FROM c WHERE key_id IS NOT NULL GROUP BY key_id) s
                   JOIN api_keys k ON k.id = s.key_id
                   JOIN users u ON u.id = k.user_id),
        'users', (SELECT coalesce(json_agg(json_build_object(
                         'id', u.id, 'username', u.username, 'calls', n, 'tokens', t,
                         'credits', cr) ORDER BY cr DESC, u.username), '[]')
                    FROM (SELECT user_id, count(*) n, sum(tokens) t, sum(credits) cr
                            FROM c GROUP BY user_id ORDER BY cr DESC LIMIT 20) s
                    JOIN users u ON u.id = s.user_id),
        'providers', (SELECT coalesce(json_agg(json_build_object(
                             'provider', provider, 'calls', n, 'errors', e, 'tokens', t,
                             'credits', cr) ORDER BY cr DESC, provider), '[]')
                        FROM (SELECT provider, count(*) n, count(*) FILTER (WHERE failed) e,
                                     sum(tokens) t, sum(credits) cr
                                FROM c GROUP BY provider) s))
$$;

-- Usage of the last `days` days (1 to 366) row by row, for the CSV files:
-- one user's (viewer) or the whole site's (viewer null), as usage_items
-- counts it, grouped per 'day' (every day present, oldest first), 'kind'
-- (chat, summary, api, each present), 'model', 'key' (API calls only),
-- 'user' or 'provider' (most credits first, then by name). Returns a JSON
-- array of rows: names (what names the row: [day], [kind], [model], [key
-- name, prefix, username], [username] or [provider]), calls, errors (failed
-- ones), prompt_tokens, completion_tokens, tokens (a summary's too, whose
-- split is not kept), credits; null for another `per`.
CREATE OR REPLACE FUNCTION keys_usage_rows(viewer uuid, days integer, per text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    since timestamptz := date_trunc('day', now()) - make_interval(days => days - 1);
BEGIN
    IF per IS NULL OR per NOT IN ('day', 'kind', 'model', 'key', 'user', 'provider') THEN
        RETURN NULL;
    END IF;
    RETURN (
        WITH s AS (
            SELECT CASE per WHEN 'day' THEN to_char(date_trunc('day', i.created_at), 'YYYY-MM-DD')
                            WHEN 'kind' THEN i.kind WHEN 'model' THEN i.model
                            WHEN 'provider' THEN i.provider WHEN 'key' THEN i.key_id::text
                            ELSE i.user_id::text END AS g,
                   count(*) AS n, count(*) FILTER (WHERE i.failed) AS e,
                   sum(i.prompt_tokens) AS p, sum(i.completion_tokens) AS ct,
                   sum(i.tokens) AS t, sum(i.credits) AS cr
              FROM usage_items(viewer, since) i
             WHERE per <> 'key' OR i.key_id IS NOT NULL
             GROUP BY 1),
        -- Every day, and every kind, has its row; the other groupings those used.
        g AS (
            SELECT to_char(d, 'YYYY-MM-DD') AS g, row_number() OVER (ORDER BY d) AS o
              FROM generate_series(since, date_trunc('day', now()), interval '1 day') d
             WHERE per = 'day'
            UNION ALL
            SELECT k.g, k.o FROM (VALUES ('chat', 1), ('summary', 2), ('api', 3)) k(g, o)
             WHERE per = 'kind'
            UNION ALL
            SELECT s.g, NULL FROM s WHERE per NOT IN ('day', 'kind'))
        SELECT coalesce(json_agg(json_build_object(
                   'names', CASE per WHEN 'key' THEN json_build_array(k.name, k.prefix,
                                                                       u.username)
                                     WHEN 'user' THEN json_build_array(u.username)
                                     ELSE json_build_array(g.g) END,
                   'calls', coalesce(s.n, 0), 'errors', coalesce(s.e, 0),
                   'prompt_tokens', coalesce(s.p, 0), 'completion_tokens', coalesce(s.ct, 0),
                   'tokens', coalesce(s.t, 0), 'credits', coalesce(s.cr, 0))
                   ORDER BY g.o, s.cr DESC, coalesce(k.name, u.username, g.g), g.g), '[]')
          FROM g
          LEFT JOIN s ON s.g = g.g
          LEFT JOIN api_keys k ON per = 'key' AND k.id::text = g.g
          LEFT JOIN users u ON u.id = CASE per WHEN 'key' THEN k.user_id
                                               WHEN 'user' THEN g.g::uuid END);
END
$$;

-- A page of a user's credit ledger (every change of their balance), newest
-- first: at most lim rows before the row whose id is after_id (the first
-- page when null). Each row: id, created_at, reason ('initial', 'grant',
-- 'reserve', 'settle', 'release'), delta, balance_after, note (what a
-- reservation outside a turn or a grant was for), message_id (the message
-- a turn's row names) and conversation_id (its conversation). Returns
-- JSON: items, and next (the cursor of the page's last row, kind 'l',
-- core/aic_cursor.h) when the page is full, else null.
CREATE OR REPLACE FUNCTION credit_ledger_page(viewer uuid, after_id bigint, lim integer)
    RETURNS json
LANGUAGE sql STABLE AS $$
    WITH page AS (
        SELECT l.*, row_number() OVER (ORDER BY l.id DESC) AS n
          FROM credit_ledger l
         WHERE l.user_id = viewer AND (after_id IS NULL OR l.id < after_id)
         ORDER BY l.id DESC LIMIT lim)
    SELECT json_build_object(
        'items', coalesce((SELECT json_agg(json_build_object(
                                   'id', p.id, 'created_at', p.created_at, 'reason', p.reason,
                                   'delta', p.delta, 'balance_after', p.balance_after,
                                   'note', p.note, 'message_id', p.message_id,
                                   'conversation_id', m.conversation_id) ORDER BY p.n)
                             FROM page p LEFT JOIN messages m ON m.id = p.message_id), '[]'),
        'next', (SELECT encode(convert_to('l|' || p.id, 'UTF8'), 'hex')
                   FROM page p WHERE p.n = lim))
$$;
