-- Users: the user as the API shows it.
-- Applied by scripts/aichat-migrate after the migrations, on every run that
-- finds sql/functions/ changed, all files in one transaction in name order
-- (see sql/README.md). Each function is defined here only.

-- The user as the API shows it (never the password hash).
CREATE OR REPLACE FUNCTION user_json(u users) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', u.id, 'username', u.username,
        'display_name', coalesce(u.display_name, u.username),
        'email', u.email, 'role', u.role, 'token_credits', u.token_credits,
        'is_active', u.is_active, 'created_at', u.created_at,
        'last_login_at', u.last_login_at, 'deleted_at', u.deleted_at)
$$;
