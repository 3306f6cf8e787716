/* The statements of sharing: the owner's links and the administration
 * (aic_share_stmts), the page behind a link (aic_share_page_stmts). */
#include "share.h"

const aic_stmt aic_share_stmts[] = {
    /* The conversation, when the viewer (the first argument, three times) may
     * see it: whether they own it. */
    {"share_conv_owner", "SELECT (c.owner_id = %s::uuid)::int FROM conversations c"
                         " WHERE c.id = %s::uuid AND c.deleted_at IS NULL"
                         " AND (c.owner_id = %s::uuid OR conversation_member_sees(c.id, "
                         "c.owner_id, %s::uuid)) FOR UPDATE"},
    {"share_live", "SELECT share_json(s)::text, s.id::text, s.token_nonce, s.is_public::int"
                   " FROM shared_chats s WHERE s.conversation_id = %s::uuid"
                   " AND s.revoked_at IS NULL FOR UPDATE"},
    {"share_snapshot", "SELECT share_snapshot(%s::uuid)::text"},
    /* The version it shows and whether it shows notes (share_history_set: one JSON argument). */
    {"share_history_set", "SELECT share_history_set(%s::json)::text"},
    {"share_future", "SELECT (%s::timestamptz > now())::int"},
    /* One JSON argument: conversation_id, token_hash, token_nonce, is_public,
     * indexable, created_by, expires_mode ('in', 'at' or 'never'), expires_in
     * (seconds), expires_at, snapshot_message_id. */
    {"share_insert",
     "INSERT INTO shared_chats (conversation_id, token_hash, token_nonce, is_public, indexable,"
     " created_by, expires_at, snapshot_message_id)"
     " SELECT (j->>'conversation_id')::uuid, j->>'token_hash', j->>'token_nonce',"
     " (j->>'is_public')::boolean, (j->>'indexable')::boolean, (j->>'created_by')::uuid,"
     " CASE j->>'expires_mode' WHEN 'in' THEN now() + (j->>'expires_in')::bigint"
     " * interval '1 second' WHEN 'at' THEN (j->>'expires_at')::timestamptz END,"
     " (j->>'snapshot_message_id')::uuid FROM (SELECT %s::json AS j) a"
     " RETURNING share_json(shared_chats)::text, id::text"},
    /* is_public, indexable, the expiry (mode, seconds, timestamp; any other
     * mode keeps it), a new snapshot or NULL, the share. */
    {"share_update",
     "UPDATE shared_chats SET is_public = %s::boolean, indexable = %s::boolean,"
     " expires_at = CASE %s WHEN 'in' THEN now() + %s::bigint * interval '1 second'"
     " WHEN 'at' THEN %s::timestamptz WHEN 'never' THEN NULL ELSE expires_at END,"
     " snapshot_message_id = coalesce(%s::uuid, snapshot_message_id), updated_at = now()"
     " WHERE id = %s::uuid RETURNING share_json(shared_chats)::text"},
    {"share_revoke", "UPDATE shared_chats SET revoked_at = now(), updated_at = now()"
                     " WHERE id = %s::uuid RETURNING share_json(shared_chats)::text"},
    {"share_mine", "SELECT share_json(s)::text, s.token_nonce, s.is_public::int FROM shared_chats s"
                   " WHERE s.created_by = %s::uuid AND s.revoked_at IS NULL"
                   " ORDER BY s.created_at DESC, s.id DESC LIMIT 200"},
    {"share_by_token",
     "SELECT s.id::text, (s.expires_at IS NOT NULL AND s.expires_at <= now())::int"
     " FROM shared_chats s JOIN conversations c ON c.id = s.conversation_id"
     " WHERE s.token_hash = %s AND s.revoked_at IS NULL AND c.deleted_at IS NULL"
     " AND NOT EXISTS (SELECT 1 FROM users o WHERE o.id = c.owner_id"
     " AND o.deleted_at IS NOT NULL) FOR SHARE OF s"},
    {"share_fork", "SELECT share_fork(%s::uuid, %s::uuid)::text"},
    {"share_admin_list", "SELECT share_json(s)::text FROM shared_chats s WHERE s.revoked_at IS NULL"
                         " ORDER BY s.created_at DESC, s.id DESC LIMIT 100"},
    {"share_admin_lock", "SELECT share_json(s)::text FROM shared_chats s WHERE s.id = %s::uuid"
                         " AND s.revoked_at IS NULL FOR UPDATE"},
    {NULL, NULL}};

const aic_stmt aic_share_page_stmts[] = {
    /* A live share by token hash, with what the page needs and its version:
     * everything shown that can change (title, models, share settings) is in
     * it. The models are [{slug, display_name}] in their order. */
    {"share_open",
     "SELECT s.id::text, s.is_public::int, s.indexable::int,"
     " coalesce((extract(epoch FROM s.expires_at) * 1000000)::bigint, 0)::text,"
     " s.snapshot_message_id::text, coalesce(x.version_title, c.title), x.tools,"
     " md5(concat_ws('|', s.id, s.updated_at, c.title, x.tools, x.notes)),"
     " extract(epoch FROM greatest(s.updated_at, c.updated_at))::bigint::text,"
     " to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),"
     " coalesce(to_char(s.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"'), ''),"
     " to_json(s.created_at)#>>'{}', coalesce(to_json(s.expires_at)#>>'{}', ''),"
     " coalesce(s.version_id::text, ''), s.show_annotations::int"
     " FROM shared_chats s JOIN conversations c ON c.id = s.conversation_id"
     " CROSS JOIN LATERAL (SELECT (SELECT coalesce(json_agg(json_build_object('slug', t.slug,"
     " 'display_name', t.display_name) ORDER BY m.position), '[]'::json)::text"
     " FROM conversation_ai_models m JOIN ai_tools t ON t.id = m.tool_id"
     " WHERE m.conversation_id = c.id) AS tools,"
     /* A version's title; the notes shown, so that a changed note makes a new page. */
     " (SELECT v.snapshot->>'title' FROM conversation_versions v WHERE v.id = s.version_id)"
     " AS version_title, CASE WHEN s.show_annotations THEN (SELECT count(*) || '/'"
     " || max(a.updated_at) FROM annotations a WHERE a.conversation_id = c.id) END AS notes) x"
     " WHERE s.token_hash = %s AND s.revoked_at IS NULL AND c.deleted_at IS NULL"
     " AND NOT EXISTS (SELECT 1 FROM users o WHERE o.id = c.owner_id"
     " AND o.deleted_at IS NOT NULL)"},
    /* The size in bytes of each message shown (up to the snapshot message, or
     * a version's), in order: what the page of a long thread is cut by. */
    {"share_message_sizes", "SELECT coalesce(octet_length((t.msg).content), 0)::text"
                            " FROM share_thread(%s::uuid) t ORDER BY t.depth DESC"},
    {"share_version_message_sizes",
     "SELECT coalesce(octet_length(e.m->>'content'), 0)::text FROM conversation_versions v"
     " CROSS JOIN LATERAL jsonb_array_elements(v.snapshot->'messages') WITH ORDINALITY e(m, i)"
     " WHERE v.id = %s::uuid AND e.m->>'status' IN ('complete', 'incomplete') ORDER BY e.i"},
    /* The messages shown from the lo-th to the hi-th (from 1) and the first
     * of all (for the page's description), in order: with their notes (JSON,
     * NULL when none) when notes is true, their content type, and whether
     * they are on the page (1) or there only as the first (0); up to the
     * snapshot message, or a version's. An answer's sender is its
     * model's name, or the model an import named when the catalog has none
     * of that id. */
    {"share_messages",
     "SELECT (t.msg).sender_type, CASE (t.msg).sender_type WHEN 'ai' THEN"
     " coalesce(message_sender(t.msg)->>'display_name', 'Assistant') END,"
     " (t.msg).content, to_json((t.msg).created_at)#>>'{}',"
     " CASE WHEN a.notes THEN share_annotations((t.msg).id)::text END, (t.msg).content_type,"
     " (t.n >= a.lo)::int"
     " FROM (SELECT %s::boolean AS notes, %s::uuid AS snapshot, %s::int AS lo,"
     " %s::int AS hi) a CROSS JOIN LATERAL (SELECT s.msg, row_number() OVER"
     " (ORDER BY s.depth DESC) AS n FROM share_thread(a.snapshot) s) t"
     " WHERE t.n = 1 OR t.n BETWEEN a.lo AND a.hi ORDER BY t.n"},
    {"share_version_messages",
     "SELECT e.m->>'sender_type', CASE e.m->>'sender_type' WHEN 'ai' THEN"
     " coalesce(e.m->'sender'->>'display_name', 'Assistant') END, e.m->>'content',"
     " e.m->>'created_at', CASE WHEN a.notes THEN share_annotations((e.m->>'id')::uuid)::text"
     " END, coalesce(e.m->>'content_type', 'text/markdown'), (e.n >= a.lo)::int"
     " FROM (SELECT %s::boolean AS notes, %s::uuid AS version, %s::int AS lo,"
     " %s::int AS hi) a CROSS JOIN LATERAL (SELECT x.m, row_number() OVER (ORDER BY x.i) AS n"
     " FROM conversation_versions v CROSS JOIN LATERAL"
     " jsonb_array_elements(v.snapshot->'messages') WITH ORDINALITY x(m, i)"
     " WHERE v.id = a.version AND x.m->>'status' IN ('complete', 'incomplete')) e"
     " WHERE e.n = 1 OR e.n BETWEEN a.lo AND a.hi ORDER BY e.n"},
    /* A batch of views (aic_batch): counted and audited in one statement. */
    {"share_views_record", "SELECT share_views_record(%s::json)::text"},
    {NULL, NULL}};
