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

-- A page of the models a user may pick from, when the copy in memory cannot
-- serve it (a search, or no snapshot): JSON with the items and the cursor of
-- the next page (core/aic_cursor; its kind is the sort's). args (JSON): sort
-- ('p' popularity, 'n' name, 'c' newest), user_id, category, provider,
-- pattern (an ILIKE pattern matched against name, display name, slug and
-- description, or null), favorites, after_id and after_value (the cursor, or
-- null), limit, providers and keyed (as tool_json's).
CREATE OR REPLACE FUNCTION catalog_tools_page(args json) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    sort text := args->>'sort';
    viewer uuid := (args->>'user_id')::uuid;
    category uuid := (args->>'category')::uuid;
    prov text := args->>'provider';
    pattern text := args->>'pattern';
    favorites boolean := (args->>'favorites')::boolean;
    after_id uuid := (args->>'after_id')::uuid;
    after_value text := args->>'after_value';
    lim int := (args->>'limit')::int;
    configured text[] := (args->>'providers')::text[];
    keyed text[] := (args->>'keyed')::text[];
BEGIN
    RETURN (
        WITH page AS (
            SELECT t AS tool, t.id, t.popularity, t.name, t.created_at,
                   (f.user_id IS NOT NULL) AS fav,
                   row_number() OVER (ORDER BY
                       CASE WHEN sort = 'p' THEN t.popularity END DESC,
                       CASE WHEN sort = 'n' THEN t.name END,
                       CASE WHEN sort = 'c' THEN t.created_at END DESC,
                       CASE WHEN sort = 'n' THEN t.id END,
                       t.id DESC) AS place
              FROM ai_tools t LEFT JOIN user_favorite_tools f
                ON f.tool_id = t.id AND f.user_id = viewer
             WHERE t.is_active AND (category IS NULL OR t.category_id = category)
               AND (prov IS NULL OR t.provider = prov)
               AND (pattern IS NULL OR t.name ILIKE pattern OR t.display_name ILIKE pattern
                    OR t.slug ILIKE pattern OR t.description ILIKE pattern)
               AND (NOT favorites OR f.user_id IS NOT NULL)
               AND (after_id IS NULL
                    OR (sort = 'p' AND (t.popularity, t.id) < (after_value::bigint, after_id))
                    OR (sort = 'n' AND (t.name, t.id) > (after_value, after_id))
                    OR (sort = 'c' AND (t.created_at, t.id) < (timestamptz 'epoch'
                        + after_value::bigint * interval '1 microsecond', after_id)))
             ORDER BY place LIMIT lim)
        SELECT json_build_object(
                   'items', coalesce(json_agg(tool_json(p.tool, configured, keyed, p.fav)
                                              ORDER BY p.place), '[]'::json),
                   'next', CASE WHEN count(*) = lim THEN (
                       SELECT encode(convert_to(sort || '|' || l.id || '|' || CASE sort
                                  WHEN 'p' THEN l.popularity::text
                                  WHEN 'n' THEN l.name
                                  ELSE ((extract(epoch FROM l.created_at) * 1000000)::bigint)::text
                                  END, 'UTF8'), 'hex')
                         FROM page l ORDER BY l.place DESC LIMIT 1) END)
          FROM page p);
END
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
