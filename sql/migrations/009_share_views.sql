-- 009: share views are written in batches. Each httpd process collects the
-- views of its share pages (the view and its audit row) and a writer thread
-- hands them over a few times a second in one statement, so that a share
-- page costs no database round trip while its answer is in the process's
-- cache (bench/share). The batch adds each share's views to view_count
-- directly: one row update per share and batch, so views no longer wait for
-- each other on a hot share's row, and share_views is not needed.

-- Views still waiting in share_views are counted before it goes.
UPDATE shared_chats s SET view_count = s.view_count + v.views,
       last_viewed_at = greatest(s.last_viewed_at, v.last)
  FROM (SELECT share_id, count(*) AS views, max(viewed_at) AS last
          FROM share_views GROUP BY share_id) v
 WHERE s.id = v.share_id;
DROP TABLE share_views;

CREATE OR REPLACE FUNCTION share_json(s shared_chats) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', s.id, 'conversation_id', s.conversation_id,
        'title', (SELECT c.title FROM conversations c WHERE c.id = s.conversation_id),
        'owner', (SELECT u.username FROM users u WHERE u.id = s.created_by),
        'is_public', s.is_public, 'indexable', s.indexable,
        'created_at', s.created_at, 'updated_at', s.updated_at,
        'expires_at', s.expires_at,
        'expired', s.expires_at IS NOT NULL AND s.expires_at <= now(),
        'revoked_at', s.revoked_at,
        'snapshot_message_id', s.snapshot_message_id,
        'message_count', (SELECT count(*) FROM share_thread(s.snapshot_message_id)),
        'view_count', s.view_count,
        'last_viewed_at', s.last_viewed_at)
$$;

-- A batch of views: a JSON array of [share id, time of the view in
-- microseconds since the epoch, then the 16 values of its audit row in
-- AIC_AUDIT_INSERT_SQL's order]. Counts every view and writes its audit row
-- (with the time of the view); returns how many views it recorded.
CREATE FUNCTION share_views_record(batch json) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    UPDATE shared_chats s SET view_count = s.view_count + v.views,
           last_viewed_at = greatest(s.last_viewed_at, v.last)
      FROM (SELECT (e->>0)::uuid AS share_id, count(*) AS views,
                   max(to_timestamp((e->>1)::double precision / 1e6)) AS last
              FROM json_array_elements(batch) e GROUP BY 1) v
     WHERE s.id = v.share_id;
    INSERT INTO audit_logs (created_at, user_id, username, method, uri, status, ip_address,
                            user_agent, request_id, duration_ms, entity_type, entity_id, action,
                            old_values, new_values, metadata)
    SELECT to_timestamp((e->>1)::double precision / 1e6),
           coalesce((e->>2)::uuid, (SELECT u.id FROM users u WHERE u.username = e->>3)),
           e->>4, e->>5, e->>6, (e->>7)::integer, (e->>8)::inet, e->>9, e->>10,
           (e->>11)::integer, e->>12, e->>13, e->>14, (e->>15)::jsonb, (e->>16)::jsonb,
           (e->>17)::jsonb
      FROM json_array_elements(batch) e;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
