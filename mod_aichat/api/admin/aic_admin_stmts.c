/* The statements of administration: users, the audit log, the overview. */
#include "admin.h"

const aic_stmt aic_admin_stmts[] = {
    {"admin_users",
     "SELECT coalesce(json_agg(user_json(u) ORDER BY u.username), '[]')::text, count(*)::text"
     " FROM (SELECT * FROM users WHERE (%s = '' OR username ILIKE %s"
     " OR coalesce(display_name, '') ILIKE %s OR coalesce(email, '') ILIKE %s)"
     " AND username > %s ORDER BY username LIMIT %s::int) u"},
    {"admin_user_update",
     "UPDATE users SET is_active = coalesce(%s::boolean, is_active), role = coalesce(%s, role),"
     " updated_at = now() WHERE id = %s::uuid RETURNING user_json(users)::text"},
    /* The filters as one JSON object, each null when not given: user, action,
     * entity, from and to (dates), before (an id); then the page size. */
    {"admin_audit",
     "SELECT coalesce(json_agg(json_build_object('id', a.id, 'created_at', a.created_at,"
     " 'username', a.username, 'method', a.method, 'uri', a.uri, 'status', a.status,"
     " 'ip_address', host(a.ip_address), 'user_agent', a.user_agent, 'request_id',"
     " a.request_id, 'duration_ms', a.duration_ms, 'entity_type', a.entity_type, 'entity_id',"
     " a.entity_id, 'action', a.action, 'old_values', a.old_values, 'new_values',"
     " a.new_values, 'metadata', a.metadata) ORDER BY a.id DESC), '[]')::text,"
     " count(*)::text, min(a.id)::text"
     " FROM (SELECT l.* FROM audit_logs l, (SELECT %s::json AS j) f"
     " WHERE (f.j->>'user' IS NULL OR l.username = f.j->>'user')"
     " AND (f.j->>'action' IS NULL OR l.action = f.j->>'action')"
     " AND (f.j->>'entity' IS NULL OR l.entity_type = f.j->>'entity')"
     " AND (f.j->>'from' IS NULL OR l.created_at >= (f.j->>'from')::date)"
     " AND (f.j->>'to' IS NULL OR l.created_at < (f.j->>'to')::date + 1)"
     " AND (f.j->>'before' IS NULL OR l.id < (f.j->>'before')::bigint)"
     " ORDER BY l.id DESC LIMIT %s::int) a"},
    /* An administrator's soft delete of an account, and its restoration. */
    {"admin_user_delete",
     "UPDATE users SET deleted_at = coalesce(deleted_at, now()), updated_at = now()"
     " WHERE id = %s::uuid RETURNING user_json(users)::text"},
    {"admin_user_restore", "UPDATE users SET deleted_at = NULL, updated_at = now()"
                           " WHERE id = %s::uuid RETURNING user_json(users)::text"},
    {"admin_user_credit",
     "WITH u AS (UPDATE users SET token_credits = token_credits + %s::bigint, updated_at = now()"
     " WHERE id = %s::uuid RETURNING *), l AS (INSERT INTO credit_ledger (user_id, delta,"
     " balance_after, reason, granted_by, note) SELECT id, %s::bigint, token_credits, 'grant',"
     " %s::uuid, %s FROM u) SELECT user_json(ROW(u.*)::users)::text FROM u"},
    {"admin_overview",
     "SELECT json_build_object('users', count(*), 'active', count(*) FILTER (WHERE is_active"
     " AND deleted_at IS NULL),"
     " 'admins', count(*) FILTER (WHERE role = 'admin'), 'audit_24h', (SELECT count(*) FROM"
     " audit_logs WHERE created_at > now() - interval '1 day'))::text FROM users"},
    {NULL, NULL}};
