/* The catalog's statements: the lists users read, the model list in memory,
 * favourites and administration (aic_catalog_stmts), and the admin pages'
 * (aic_admin_catalog_stmts). */
#include "catalog.h"

const aic_stmt aic_catalog_stmts[] = {
    {"catalog_categories",
     "SELECT json_build_object('items', coalesce(json_agg(category_json(c) ORDER BY c.name),"
     " '[]'::json))::text FROM categories c"},
    /* A page of the models from the database (catalog_tools_page: one JSON
     * argument), for a search or when the copy in memory cannot serve it. */
    {"catalog_tools", "SELECT catalog_tools_page(%s::json)::text"},
    /* GET /tools loads the user with the catalog version (is the copy in
     * memory current?) and the user's favourites: extra[0] and extra[1]. */
    {"catalog_user",
     "SELECT " AIC_USER_COLUMNS ", v.version::text, (SELECT string_agg(f.tool_id::text, ',')"
     " FROM user_favorite_tools f WHERE f.user_id = u.id) FROM users u CROSS JOIN"
     " catalog_version v WHERE u.username = %s"},
    /* Every active model with its JSON (not a favourite, then a favourite), its
     * cursor and place in each sort, and the version this is a snapshot of (a
     * row of NULLs but the version when there is no model). Parameters: the
     * provider lists, twice. */
    {"catalog_snapshot",
     "SELECT v.version::text, s.id::text, s.category_id::text, s.provider,"
     " tool_json(s.tool, %s::text[], %s::text[], false)::text,"
     " tool_json(s.tool, %s::text[], %s::text[], true)::text,"
     " encode(convert_to('p|' || s.id || '|' || s.popularity, 'UTF8'), 'hex'),"
     " encode(convert_to('n|' || s.id || '|' || s.name, 'UTF8'), 'hex'),"
     " encode(convert_to('c|' || s.id || '|'"
     " || (extract(epoch FROM s.created_at) * 1000000)::bigint, 'UTF8'), 'hex'),"
     " (s.by_popularity - 1)::text, (s.by_name - 1)::text, (s.by_newest - 1)::text"
     " FROM catalog_version v LEFT JOIN (SELECT t AS tool, t.id, t.category_id, t.provider,"
     " t.popularity, t.name, t.created_at,"
     " row_number() OVER (ORDER BY t.popularity DESC, t.id DESC) AS by_popularity,"
     " row_number() OVER (ORDER BY t.name, t.id) AS by_name,"
     " row_number() OVER (ORDER BY t.created_at DESC, t.id DESC) AS by_newest"
     " FROM ai_tools t WHERE t.is_active) s ON true"},
    {"catalog_tool",
     "SELECT tool_json(t, %s::text[], %s::text[], EXISTS (SELECT 1 FROM user_favorite_tools f"
     " WHERE f.tool_id = t.id AND f.user_id = %s::uuid))::text FROM ai_tools t"
     " WHERE t.slug = %s AND (t.is_active OR %s::boolean)"},
    {"catalog_tool_id", "SELECT id::text FROM ai_tools WHERE slug = %s AND is_active"},
    {"catalog_favorite_add",
     "INSERT INTO user_favorite_tools (user_id, tool_id) VALUES (%s::uuid, %s::uuid)"
     " ON CONFLICT DO NOTHING"},
    {"catalog_favorite_remove",
     "DELETE FROM user_favorite_tools WHERE user_id = %s::uuid AND tool_id = %s::uuid"},
    {"catalog_favorites",
     "SELECT json_build_object('items', coalesce(json_agg(tool_json(t, %s::text[], %s::text[],"
     " true) ORDER BY f.added_at DESC, t.id), '[]'::json))::text FROM user_favorite_tools f"
     " JOIN ai_tools t ON t.id = f.tool_id WHERE f.user_id = %s::uuid AND t.is_active"},
    {"catalog_admin_tools",
     "SELECT json_build_object('items', coalesce(json_agg(tool_json(t, %s::text[], %s::text[],"
     " false) ORDER BY t.name, t.id), '[]'::json))::text FROM ai_tools t"},
    {"catalog_tool_lock",
     "SELECT tool_json(t, %s::text[], %s::text[], false)::text, t.id::text FROM ai_tools t"
     " WHERE t.slug = %s FOR UPDATE"},
    {"catalog_category_exists", "SELECT 1 FROM categories WHERE id = %s::uuid FOR KEY SHARE"},
    {"catalog_slug_taken",
     "SELECT 1 FROM ai_tools WHERE slug = %s AND id IS DISTINCT FROM %s::uuid"},
    /* A model's fields as one JSON object of strings (tool_fields), then the
     * provider lists. */
    {"catalog_tool_insert",
     "INSERT INTO ai_tools (slug, name, display_name, avatar, provider, model_id, description,"
     " category_id, api_key_required, capabilities, default_settings, is_active)"
     " SELECT j->>'slug', j->>'name', j->>'display_name', j->>'avatar', j->>'provider',"
     " j->>'model_id', j->>'description', (j->>'category_id')::uuid,"
     " (j->>'api_key_required')::boolean, (j->>'capabilities')::jsonb,"
     " (j->>'default_settings')::jsonb, (j->>'is_active')::boolean"
     " FROM (SELECT %s::jsonb AS j) a ON CONFLICT (slug) DO NOTHING"
     " RETURNING tool_json(ai_tools, %s::text[], %s::text[], false)::text, id::text"},
    {"catalog_tool_update",
     "UPDATE ai_tools t SET slug = j->>'slug', name = j->>'name',"
     " display_name = j->>'display_name', avatar = j->>'avatar', provider = j->>'provider',"
     " model_id = j->>'model_id', description = j->>'description',"
     " category_id = (j->>'category_id')::uuid,"
     " api_key_required = (j->>'api_key_required')::boolean,"
     " capabilities = (j->>'capabilities')::jsonb,"
     " default_settings = (j->>'default_settings')::jsonb,"
     " is_active = (j->>'is_active')::boolean, updated_at = now()"
     " FROM (SELECT %s::jsonb AS j) a WHERE t.id = (j->>'id')::uuid"
     " RETURNING tool_json(t, %s::text[], %s::text[], false)::text"},
    {"catalog_tool_in_use",
     "SELECT count(*)::text FROM conversation_ai_models WHERE tool_id = %s::uuid"},
    {"catalog_tool_delete", "DELETE FROM ai_tools WHERE id = %s::uuid"},
    {"catalog_category_insert",
     "INSERT INTO categories (name, description, icon) VALUES (%s, %s, %s)"
     " ON CONFLICT (name) DO NOTHING RETURNING category_json(categories)::text, id::text"},
    {"catalog_category_lock",
     "SELECT category_json(c)::text, (SELECT count(*) FROM ai_tools t"
     " WHERE t.category_id = c.id)::text FROM categories c WHERE c.id = %s::uuid FOR UPDATE"},
    {"catalog_category_name_taken", "SELECT 1 FROM categories WHERE name = %s AND id <> %s::uuid"},
    {"catalog_category_update",
     "UPDATE categories SET name = %s, description = %s, icon = %s, updated_at = now()"
     " WHERE id = %s::uuid RETURNING category_json(categories)::text"},
    {"catalog_category_delete", "DELETE FROM categories WHERE id = %s::uuid"},
    {NULL, NULL}};

/* The admin pages' own: a model, active or not. */
const aic_stmt aic_admin_catalog_stmts[] = {
    {"admin_catalog_tool",
     "SELECT tool_json(t, %s::text[], %s::text[], false)::text FROM ai_tools t"
     " WHERE t.slug = %s"},
    {NULL, NULL}};
