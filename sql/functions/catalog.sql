-- The catalog: categories and models (ai_tools) as the API shows them, the
-- JSON kept with each model's row, and the catalog's version number.
-- Applied by scripts/aichat-migrate after the migrations, on every run that
-- finds sql/functions/ changed, all files in one transaction in name order
-- (see sql/README.md). Each function is defined here only.

-- A category as the API shows it, with the number of its active models.
CREATE OR REPLACE FUNCTION category_json(c categories) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', c.id, 'name', c.name, 'description', c.description, 'icon', c.icon,
        'tool_count', (SELECT count(*) FROM ai_tools t WHERE t.category_id = c.id AND t.is_active),
        'created_at', c.created_at, 'updated_at', c.updated_at)
$$;

-- The part of a model's API JSON that depends on its row (and its category's
-- name) only: kept in ai_tools.api_json by the trigger below, so that listing
-- the catalog aggregates stored values instead of building them per row and
-- request.
CREATE OR REPLACE FUNCTION tool_static_json(t ai_tools) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', t.id, 'slug', t.slug, 'name', t.name, 'display_name', t.display_name,
        'avatar', t.avatar, 'provider', t.provider, 'model_id', t.model_id,
        'description', t.description,
        'category', (SELECT jsonb_build_object('id', c.id, 'name', c.name)
                     FROM categories c WHERE c.id = t.category_id),
        'popularity', t.popularity, 'api_key_required', t.api_key_required,
        'capabilities', t.capabilities, 'default_settings', t.default_settings,
        'is_active', t.is_active, 'created_at', t.created_at, 'updated_at', t.updated_at)
$$;

-- A tool as the API shows it: its stored JSON, with what comes at read time.
-- `configured` and `keyed` name the providers the server configures and those
-- with a key: availability depends on the running configuration, not on the
-- database.
CREATE OR REPLACE FUNCTION tool_json(t ai_tools, configured text[], keyed text[], favorite boolean)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT t.api_json || jsonb_build_object(
        'available', t.provider = ANY (configured)
                     AND (NOT t.api_key_required OR t.provider = ANY (keyed)),
        'unavailable_reason', CASE
            WHEN NOT t.provider = ANY (configured)
                THEN format('provider %s is not configured on this server', t.provider)
            WHEN t.api_key_required AND NOT t.provider = ANY (keyed)
                THEN format('provider %s has no API key configured', t.provider)
        END,
        'favorite', favorite)
$$;

CREATE OR REPLACE FUNCTION ai_tools_api_json() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.api_json := tool_static_json(NEW);
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER ai_tools_api_json BEFORE INSERT OR UPDATE ON ai_tools
    FOR EACH ROW EXECUTE FUNCTION ai_tools_api_json();

-- A renamed category renames itself inside its models' JSON.
CREATE OR REPLACE FUNCTION categories_refresh_tools() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ai_tools SET api_json = NULL WHERE category_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER categories_refresh_tools AFTER UPDATE OF name ON categories
    FOR EACH ROW EXECUTE FUNCTION categories_refresh_tools();

-- Raise catalog_version at commit time, once per transaction, for every
-- committed change to models or categories (through the API, the admin pages,
-- psql or a script): each httpd process keeps the catalog in memory and learns
-- with one cheap read whether its copy is still current. A transaction holds
-- the row lock only while it commits, after every other lock it takes, so two
-- transactions can never wait for each other through it.
-- SECURITY DEFINER: the application role reads the version but cannot set it.
CREATE OR REPLACE FUNCTION catalog_version_raise() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE catalog_version SET version = version + 1, raised_by = pg_current_xact_id()
     WHERE raised_by IS DISTINCT FROM pg_current_xact_id();
    RETURN NULL;
END
$$;
-- Constraint triggers (deferred to commit) have no OR REPLACE.
DROP TRIGGER IF EXISTS ai_tools_catalog_version ON ai_tools;
CREATE CONSTRAINT TRIGGER ai_tools_catalog_version AFTER INSERT OR UPDATE OR DELETE ON ai_tools
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_version_raise();
DROP TRIGGER IF EXISTS categories_catalog_version ON categories;
CREATE CONSTRAINT TRIGGER categories_catalog_version AFTER INSERT OR UPDATE OR DELETE ON categories
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_version_raise();
-- TRUNCATE takes an exclusive lock anyway; constraint triggers cannot see it.
CREATE OR REPLACE TRIGGER ai_tools_catalog_version_truncate AFTER TRUNCATE ON ai_tools
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_version_raise();
CREATE OR REPLACE TRIGGER categories_catalog_version_truncate AFTER TRUNCATE ON categories
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_version_raise();
