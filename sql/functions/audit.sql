-- The audit log: writing audit rows.
-- Applied by scripts/aichat-migrate after the migrations, on every run that
-- finds sql/functions/ changed, all files in one transaction in name order
-- (see sql/README.md). Each function is defined here only.

-- Write audit rows: rows is one row (a JSON object) or a JSON array of them,
-- each with named keys as the module builds them (aic_audit_json): user_id,
-- username (the user's id is looked up by it when user_id is absent), method,
-- uri, status, ip_address, user_agent, request_id, duration_ms, entity_type,
-- entity_id, action, old_values, new_values, metadata (JSON values), and at
-- (microseconds since the epoch) for a row written after its request: its
-- created_at, else the transaction's time. Returns how many rows it wrote.
CREATE OR REPLACE FUNCTION audit_insert(rows json) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    INSERT INTO audit_logs (created_at, user_id, username, method, uri, status, ip_address,
                            user_agent, request_id, duration_ms, entity_type, entity_id, action,
                            old_values, new_values, metadata)
    SELECT coalesce(to_timestamp(a.at / 1e6), now()),
           coalesce(a.user_id, (SELECT u.id FROM users u WHERE u.username = a.username)),
           a.username, a.method, a.uri, a.status, a.ip_address, a.user_agent, a.request_id,
           a.duration_ms, a.entity_type, a.entity_id, a.action, a.old_values, a.new_values,
           a.metadata
      FROM json_to_recordset(CASE json_typeof(rows) WHEN 'array' THEN rows
                                                    ELSE json_build_array(rows) END)
        AS a(at bigint, user_id uuid, username text, method text, uri text, status integer,
             ip_address inet, user_agent text, request_id text, duration_ms integer,
             entity_type text, entity_id text, action text, old_values jsonb, new_values jsonb,
             metadata jsonb);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
