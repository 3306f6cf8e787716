-- 001: users and the audit log.
-- Applied by scripts/aichat-migrate as the owner role, in one transaction,
-- with the psql variable app_role naming the role httpd connects as.
-- Migrations hold tables, indexes, grants and data changes; the functions
-- and the triggers that call them are in sql/functions/, which aichat-migrate
-- applies after the migrations (sql/README.md).

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username       text NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 255),
    email          text CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
    display_name   text CHECK (display_name IS NULL OR char_length(display_name) BETWEEN 1 AND 100),
    avatar_url     text,
    password_hash  text,          -- bcrypt, read by mod_authn_dbd; NULL for users of other auth modules
    role           text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    is_active      boolean NOT NULL DEFAULT true,
    token_credits  bigint NOT NULL DEFAULT 0 CHECK (token_credits >= 0),
    email_verified boolean NOT NULL DEFAULT false,
    last_login_at  timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
-- Admin search over username, display name and e-mail (ILIKE '%q%').
CREATE INDEX users_username_trgm ON users USING gin (username gin_trgm_ops);
CREATE INDEX users_display_name_trgm ON users USING gin (display_name gin_trgm_ops);
CREATE INDEX users_email_trgm ON users USING gin (email gin_trgm_ops);

-- One row per request the module handled; append-only for the application.
CREATE TABLE audit_logs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now(),
    user_id     uuid,           -- no foreign key: rows outlive what they describe
    username    text,
    method      text NOT NULL,
    uri         text NOT NULL,
    status      integer NOT NULL,
    ip_address  inet,
    user_agent  text,
    request_id  text NOT NULL,
    duration_ms integer,
    entity_type text,
    entity_id   text,
    action      text NOT NULL,
    old_values  jsonb,
    new_values  jsonb,
    metadata    jsonb
);
CREATE INDEX audit_logs_username ON audit_logs (username, id DESC);
CREATE INDEX audit_logs_action ON audit_logs (action, id DESC);
CREATE INDEX audit_logs_entity ON audit_logs (entity_type, entity_id, id DESC);
CREATE INDEX audit_logs_created ON audit_logs (created_at);
CREATE INDEX audit_logs_request ON audit_logs (request_id);

GRANT SELECT, INSERT, UPDATE ON users TO :"app_role";
GRANT SELECT, INSERT ON audit_logs TO :"app_role";
GRANT SELECT ON schema_migrations TO :"app_role";
