-- 004: keep each model's API JSON with the row, so that listing the catalog
-- aggregates stored values instead of building them per row and request
-- (bench/catalog: the list query was six times the cost of its baseline).
-- Availability and the viewer's favourite flag still come at read time.

CREATE FUNCTION tool_static_json(t ai_tools) RETURNS jsonb
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

ALTER TABLE ai_tools ADD COLUMN api_json jsonb;

CREATE FUNCTION ai_tools_api_json() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.api_json := tool_static_json(NEW);
    RETURN NEW;
END
$$;
CREATE TRIGGER ai_tools_api_json BEFORE INSERT OR UPDATE ON ai_tools
    FOR EACH ROW EXECUTE FUNCTION ai_tools_api_json();

-- A renamed category renames itself inside its models' JSON.
CREATE FUNCTION categories_refresh_tools() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ai_tools SET api_json = NULL WHERE category_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER categories_refresh_tools AFTER UPDATE OF name ON categories
    FOR EACH ROW EXECUTE FUNCTION categories_refresh_tools();

UPDATE ai_tools SET api_json = NULL;
ALTER TABLE ai_tools ALTER COLUMN api_json SET NOT NULL;

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
