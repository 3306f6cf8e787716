/* The statements of prompts and templates, registered at configuration
 * time. Writes with many values take one JSON argument (the functions of
 * sql/functions/prompts.sql); the viewer decides what may be seen. */
#include "prompts.h"

const aic_stmt aic_prompts_stmts[] = {
    /* Favourite prompts. */
    {"prompt_save", "SELECT prompt_save(%s::json)::text"},
    {"prompt_list", "SELECT prompt_list(%s::json)::text"},
    {"prompt_get", "SELECT prompt_json(p)::text FROM favorite_prompts p"
                   " WHERE p.id = %s::uuid AND p.owner_id = %s::uuid"},
    {"prompt_delete", "DELETE FROM favorite_prompts p WHERE p.id = %s::uuid"
                      " AND p.owner_id = %s::uuid RETURNING prompt_json(p)::text"},

    /* Templates: viewer, then the template's id (and the viewer again). */
    {"template_save", "SELECT template_save(%s::json)::text"},
    {"template_mine",
     "SELECT coalesce(json_agg(template_json(t, t.owner_id) ORDER BY t.updated_at DESC,"
     " t.id DESC), '[]')::text FROM templates t WHERE t.owner_id = %s::uuid"
     " AND (t.deleted_at IS NOT NULL) = %s::boolean"},
    {"template_get", "SELECT template_json(t, %s::uuid)::text FROM templates t"
                     " WHERE t.id = %s::uuid AND template_visible(t, %s::uuid)"},
    /* The viewer's own live template, locked for a change. */
    {"template_lock", "SELECT template_json(t, t.owner_id)::text FROM templates t"
                      " WHERE t.id = %s::uuid AND t.owner_id = %s::uuid"
                      " AND t.deleted_at IS NULL FOR UPDATE"},
    {"template_delete", "UPDATE templates t SET deleted_at = now(), updated_at = now()"
                        " WHERE t.id = %s::uuid AND t.owner_id = %s::uuid"
                        " AND t.deleted_at IS NULL RETURNING template_json(t, t.owner_id)::text"},
    {"template_undelete",
     "UPDATE templates t SET deleted_at = NULL, updated_at = now()"
     " WHERE t.id = %s::uuid AND t.owner_id = %s::uuid"
     " AND t.deleted_at IS NOT NULL RETURNING template_json(t, t.owner_id)::text"},
    /* The owner's versions, newest first (at most 100), or no row for another's. */
    {"template_versions",
     "SELECT (SELECT coalesce(json_agg(template_version_json(v) ORDER BY v.version DESC),"
     " '[]') FROM (SELECT * FROM template_versions v WHERE v.template_id = t.id"
     " ORDER BY v.version DESC LIMIT 100) v)::text FROM templates t"
     " WHERE t.id = %s::uuid AND t.owner_id = %s::uuid"},
    {"template_version", "SELECT template_version_json(v)::text FROM template_versions v"
                         " JOIN templates t ON t.id = v.template_id WHERE t.id = %s::uuid"
                         " AND t.owner_id = %s::uuid AND v.version = %s::int"},
    /* A live template the viewer may use, with its current version's id:
     * viewer, id, viewer. */
    {"template_use_load",
     "SELECT template_json(t, %s::uuid)::text, v.id::text FROM templates t"
     " JOIN template_versions v ON v.template_id = t.id AND v.version = t.version"
     " WHERE t.id = %s::uuid AND t.deleted_at IS NULL AND template_visible(t, %s::uuid)"},
    {"template_used", "SELECT template_used(%s::uuid)::text"},
    {"template_gallery", "SELECT template_gallery(%s::json)::text"},
    {"template_categories",
     "SELECT coalesce(json_agg(json_build_object('name', c.category, 'count', c.n)"
     " ORDER BY c.n DESC, c.category), '[]')::text FROM (SELECT t.category, count(*) AS n"
     " FROM templates t WHERE t.is_public AND t.deleted_at IS NULL AND NOT EXISTS (SELECT 1"
     " FROM users u WHERE u.id = t.owner_id AND u.deleted_at IS NOT NULL)"
     " GROUP BY t.category) c"},
    /* An administrator takes a public template out of the gallery. */
    {"template_unpublish",
     "UPDATE templates t SET is_public = false, updated_at = now() WHERE t.id = %s::uuid"
     " AND t.is_public AND t.deleted_at IS NULL"
     " RETURNING template_json(t, %s::uuid)::text"},
    {NULL, NULL}};
