-- Personal API keys and the calls made with them (the OpenAI-compatible API).
-- Applied by scripts/aichat-migrate after the migrations (see sql/README.md).
-- Each function is defined here only. A key's text never reaches the
-- database: the module hands over its SHA-256 (hex) and its visible prefix.

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
        'status', CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked'
                       WHEN k.expires_at IS NOT NULL AND k.expires_at <= now() THEN 'expired'
                       ELSE 'active' END);
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
-- as conversations). No row for an unknown key. Records the key's use, to
-- the minute.
CREATE OR REPLACE FUNCTION keys_authenticate(hash text)
    RETURNS TABLE (id uuid, prefix text, username text, state text, models text, rpm integer,
                   tpm integer, keep boolean)
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
               CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked'
                    WHEN k.expires_at IS NOT NULL AND k.expires_at <= now() THEN 'expired'
                    ELSE 'active' END,
               array_to_json(k.models)::text, coalesce(k.rpm, 0), coalesce(k.tpm, 0),
               k.keep_conversations
          FROM users u WHERE u.id = k.user_id;
END
$$;

-- Reserve a call's credits as a chat turn does (credits_reserve, as
-- chat_turn_reserve): the user's balance, never below zero, then the
-- key's monthly budget, conditional too; a ledger row, the call's row and
-- the request's audit row. args (JSON): viewer, key, reserve, model,
-- provider, stream, audit. Returns JSON: code 'insufficient_credits' or
-- 'budget_exceeded' (nothing written), else call (its id) and balance. The
-- users row is locked before the key's, as when the call is settled.
CREATE OR REPLACE FUNCTION api_call_reserve(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    a record;
    balance bigint;
    month date := date_trunc('month', now())::date;
    call uuid;
BEGIN
    SELECT * INTO a FROM json_to_record(args)
        AS x(viewer uuid, key uuid, reserve bigint, model text, provider text, stream boolean);
    balance := credits_reserve(a.viewer, a.reserve);
    IF balance IS NULL THEN
        RETURN json_build_object('code', 'insufficient_credits');
    END IF;
    UPDATE api_keys k
       SET budget_used = CASE WHEN k.budget_month = month THEN k.budget_used ELSE 0 END
                         + a.reserve,
           budget_month = month, last_used_at = now()
     WHERE k.id = a.key
       AND (k.monthly_budget IS NULL
            OR CASE WHEN k.budget_month = month THEN k.budget_used ELSE 0 END + a.reserve
               <= k.monthly_budget);
    IF NOT FOUND THEN
        UPDATE users SET token_credits = token_credits + a.reserve WHERE id = a.viewer;
        RETURN json_build_object('code', 'budget_exceeded');
    END IF;
    INSERT INTO api_calls (key_id, user_id, model, provider, stream, reserved)
    VALUES (a.key, a.viewer, a.model, a.provider, a.stream, a.reserve)
    RETURNING id INTO call;
    INSERT INTO credit_ledger (user_id, delta, balance_after, reason)
    VALUES (a.viewer, -a.reserve, balance, 'reserve');
    PERFORM audit_insert(((args->'audit')::jsonb
                          || jsonb_build_object('entity_id', call))::json);
    RETURN json_build_object('code', NULL, 'call', call, 'balance', balance);
END
$$;

-- Settle a call as a chat answer is settled (chat_settle: what was used, at
-- most what was reserved; a failed call is charged nothing), give the key's
-- budget back what was not used, and finish the call's row. args (JSON):
-- call, viewer, reserved, prompt_tokens, completion_tokens, status
-- ('complete', 'incomplete' or 'error'), error, and keep when the key keeps
-- its calls: {system, messages: [{role, content}], answer, title}, stored
-- as a conversation of source 'api' (a failed call is not kept). Returns
-- JSON: balance, credits (what the call cost) and conversation (its id, or
-- null); all null when the call was settled already (or does not exist).
CREATE OR REPLACE FUNCTION api_call_settle(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    a record;
    c api_calls;
    used bigint;
    balance bigint;
    conv uuid;
    tool uuid;
    parent uuid;
    m record;
    n integer := 0;
BEGIN
    SELECT * INTO a FROM json_to_record(args)
        AS x(call uuid, viewer uuid, reserved bigint, prompt_tokens integer,
             completion_tokens integer, status text, error text, keep json);
    used := CASE WHEN a.status = 'error' THEN 0
                 ELSE least(a.prompt_tokens::bigint + a.completion_tokens, a.reserved) END;
    UPDATE api_calls x
       SET prompt_tokens = a.prompt_tokens, completion_tokens = a.completion_tokens,
           credits = used, status = a.status, error = a.error, finished_at = now()
     WHERE x.id = a.call AND x.status = 'pending'
    RETURNING * INTO c;
    IF NOT FOUND THEN
        -- Settled already (a settlement tried again), or no such call.
        RETURN json_build_object('balance', NULL, 'credits', NULL, 'conversation', NULL);
    END IF;
    balance := chat_settle(a.viewer, a.reserved, used, a.status = 'error', NULL);
    UPDATE api_keys k SET budget_used = greatest(k.budget_used - (a.reserved - used), 0)
     WHERE k.id = c.key_id AND k.budget_month = date_trunc('month', c.created_at)::date;
    SELECT t.id INTO tool FROM ai_tools t WHERE t.slug = c.model;
    IF a.keep IS NOT NULL AND a.status <> 'error' AND tool IS NOT NULL THEN
        INSERT INTO conversations (owner_id, title, source, system_prompt)
        VALUES (a.viewer, left(coalesce(a.keep->>'title', ''), 200), 'api',
                nullif(left(a.keep->>'system', 20000), ''))
        RETURNING id INTO conv;
        INSERT INTO conversation_ai_models (conversation_id, tool_id, position)
        VALUES (conv, tool, 0);
        FOR m IN SELECT * FROM json_to_recordset(a.keep->'messages') AS x(role text, content text)
        LOOP
            INSERT INTO messages (conversation_id, parent_message_id, sender_type, sender_user_id,
                                  sender_tool_id, content, status, created_at)
            VALUES (conv, parent, CASE WHEN m.role = 'user' THEN 'user' ELSE 'ai' END,
                    CASE WHEN m.role = 'user' THEN a.viewer END,
                    CASE WHEN m.role = 'user' THEN NULL ELSE tool END, m.content, 'complete',
                    clock_timestamp())
            RETURNING id INTO parent;
            n := n + 1;
        END LOOP;
        INSERT INTO messages (conversation_id, parent_message_id, sender_type, sender_tool_id,
                              content, status, prompt_tokens, completion_tokens, created_at)
        VALUES (conv, parent, 'ai', tool, coalesce(a.keep->>'answer', ''), a.status,
                a.prompt_tokens, a.completion_tokens, clock_timestamp())
        RETURNING id INTO parent;
        UPDATE conversations x SET total_messages = n + 1, active_leaf_id = parent,
                                   last_message_at = now()
         WHERE x.id = conv;
        UPDATE api_calls x SET conversation_id = conv WHERE x.id = a.call;
    END IF;
    RETURN json_build_object('balance', balance, 'credits', used, 'conversation', conv);
END
$$;

-- Settle each call of batch (a JSON array of api_call_settle's arguments):
-- a call's settlement as it ends, or, when the database did not answer
-- then, the settlements a process's writer kept for it (aic_batch). A call
-- settled already is left alone, so a settlement tried again charges once.
-- Returns how many calls were settled now.
CREATE OR REPLACE FUNCTION api_calls_settle(batch json) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    row json;
    n integer := 0;
BEGIN
    FOR row IN SELECT * FROM json_array_elements(batch) LOOP
        IF api_call_settle(row)->>'credits' IS NOT NULL THEN
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END
$$;

-- Usage of the last `days` days (1 to 366): one user's (viewer), or the
-- whole site's (viewer null). Returns JSON: since, totals (calls, errors,
-- prompt_tokens, completion_tokens, tokens, credits over the whole span),
-- days (tokens, credits and calls per day, every day present), models,
-- keys, users (top 20 by credits) and providers (with their failed calls).
CREATE OR REPLACE FUNCTION keys_usage(viewer uuid, days integer) RETURNS json
LANGUAGE sql STABLE AS $$
    WITH span AS (SELECT date_trunc('day', now()) - make_interval(days => days - 1) AS since),
    c AS (SELECT x.* FROM api_calls x, span
           WHERE x.created_at >= span.since AND (viewer IS NULL OR x.user_id = viewer))
    SELECT json_build_object(
        'since', (SELECT since FROM span),
        'totals', (SELECT json_build_object(
                          'calls', count(*), 'errors', count(*) FILTER (WHERE status = 'error'),
                          'prompt_tokens', coalesce(sum(prompt_tokens), 0),
                          'completion_tokens', coalesce(sum(completion_tokens), 0),
                          'tokens', coalesce(sum(prompt_tokens + completion_tokens), 0),
                          'credits', coalesce(sum(credits), 0))
                     FROM c),
        'days', (SELECT coalesce(json_agg(json_build_object(
                        'day', to_char(d, 'YYYY-MM-DD'),
                        'prompt_tokens', coalesce(s.p, 0), 'completion_tokens', coalesce(s.c, 0),
                        'credits', coalesce(s.cr, 0), 'calls', coalesce(s.n, 0)) ORDER BY d), '[]')
                   FROM span, generate_series(span.since, date_trunc('day', now()),
                                              interval '1 day') d
                   LEFT JOIN (SELECT date_trunc('day', created_at) AS day,
                                     sum(prompt_tokens) AS p, sum(completion_tokens) AS c,
                                     sum(credits) AS cr, count(*) AS n
                                FROM c GROUP BY 1) s ON s.day = d),
        'models', (SELECT coalesce(json_agg(json_build_object(
                          'model', model, 'calls', n, 'tokens', t, 'credits', cr)
                          ORDER BY cr DESC, model), '[]')
                     FROM (SELECT model, count(*) n, sum(prompt_tokens + completion_tokens) t,
                                  sum(credits) cr FROM c GROUP BY model) m),
        'keys', (SELECT coalesce(json_agg(json_build_object(
                        'id', k.id, 'name', k.name, 'prefix', k.prefix, 'calls', n, 'tokens', t,
                        'credits', cr) ORDER BY cr DESC, k.name), '[]')
                   FROM (SELECT key_id, count(*) n, sum(prompt_tokens + completion_tokens) t,
                                sum(credits) cr FROM c GROUP BY key_id) s
                   JOIN api_keys k ON k.id = s.key_id),
        'users', (SELECT coalesce(json_agg(json_build_object(
                         'id', u.id, 'username', u.username, 'calls', n, 'tokens', t,
                         'credits', cr) ORDER BY cr DESC, u.username), '[]')
                    FROM (SELECT user_id, count(*) n, sum(prompt_tokens + completion_tokens) t,
                                 sum(credits) cr FROM c GROUP BY user_id
                           ORDER BY cr DESC LIMIT 20) s
                    JOIN users u ON u.id = s.user_id),
        'providers', (SELECT coalesce(json_agg(json_build_object(
                             'provider', provider, 'calls', n, 'errors', e, 'tokens', t,
                             'credits', cr) ORDER BY cr DESC, provider), '[]')
                        FROM (SELECT provider, count(*) n,
                                     count(*) FILTER (WHERE status = 'error') e,
                                     sum(prompt_tokens + completion_tokens) t, sum(credits) cr
                                FROM c GROUP BY provider) s))
$$;

-- Usage of the last `days` days (1 to 366) row by row, for the CSV files:
-- one user's calls (viewer) or the whole site's (viewer null), grouped per
-- 'day' (every day present, oldest first), 'model', 'key', 'user' or
-- 'provider' (most credits first, then by name). Returns a JSON array of
-- rows: names (what names the row: [day], [model], [key name, prefix,
-- username], [username] or [provider]), calls, errors (failed calls),
-- prompt_tokens, completion_tokens, credits; null for another `per`.
CREATE OR REPLACE FUNCTION keys_usage_rows(viewer uuid, days integer, per text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    since timestamptz := date_trunc('day', now()) - make_interval(days => days - 1);
BEGIN
    IF per = 'day' THEN
        RETURN (SELECT coalesce(json_agg(json_build_object(
                           'names', json_build_array(to_char(d, 'YYYY-MM-DD')),
                           'calls', coalesce(s.n, 0), 'errors', coalesce(s.e, 0),
                           'prompt_tokens', coalesce(s.p, 0),
                           'completion_tokens', coalesce(s.ct, 0),
                           'credits', coalesce(s.cr, 0)) ORDER BY d), '[]')
                  FROM generate_series(since, date_trunc('day', now()), interval '1 day') d
                  LEFT JOIN (SELECT date_trunc('day', x.created_at) AS day, count(*) AS n,
                                    count(*) FILTER (WHERE x.status = 'error') AS e,
                                    sum(x.prompt_tokens) AS p, sum(x.completion_tokens) AS ct,
                                    sum(x.credits) AS cr
                               FROM api_calls x
                              WHERE x.created_at >= since
                                AND (viewer IS NULL OR x.user_id = viewer)
                              GROUP BY 1) s ON s.day = d);
    END IF;
    IF per IS NULL OR per NOT IN ('model', 'key', 'user', 'provider') THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT coalesce(json_agg(json_build_object(
                       'names', CASE per WHEN 'key' THEN json_build_array(k.name, k.prefix,
                                                                           u.username)
                                         WHEN 'user' THEN json_build_array(u.username)
                                         ELSE json_build_array(s.g) END,
                       'calls', s.n, 'errors', s.e, 'prompt_tokens', s.p,
                       'completion_tokens', s.ct, 'credits', s.cr)
                       ORDER BY s.cr DESC, coalesce(k.name, u.username, s.g), s.g), '[]')
              FROM (SELECT CASE per WHEN 'model' THEN x.model WHEN 'provider' THEN x.provider
                                    WHEN 'key' THEN x.key_id::text
                                    ELSE x.user_id::text END AS g,
                           count(*) AS n, count(*) FILTER (WHERE x.status = 'error') AS e,
                           sum(x.prompt_tokens) AS p, sum(x.completion_tokens) AS ct,
                           sum(x.credits) AS cr
                      FROM api_calls x
                     WHERE x.created_at >= since AND (viewer IS NULL OR x.user_id = viewer)
                     GROUP BY 1) s
              LEFT JOIN api_keys k ON per = 'key' AND k.id::text = s.g
              LEFT JOIN users u ON u.id = CASE per WHEN 'key' THEN k.user_id
                                                   WHEN 'user' THEN s.g::uuid END);
END
$$;
