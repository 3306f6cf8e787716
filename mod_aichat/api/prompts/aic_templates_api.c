/* Templates: a name, description, category, content with {{variables}}, an
 * optional system prompt and preferred model, private or public. Every
 * change of what a version holds is a new version with a note; older
 * versions can be read and restored as the current one. Deleting is soft
 * (the owner restores); a copy of a public template is a private template
 * of one's own; an administrator can take a template out of the gallery. */
#include "prompts.h"

#include <http_protocol.h>
#include <apr_strings.h>

#include "core/aic_template.h"
#include "core/aic_valid.h"

#define TEMPLATE_NAME_MAX 200
#define DESCRIPTION_MAX   2000
#define CATEGORY_MAX      50
#define SYSTEM_MAX        20000
#define NOTE_MAX          500
#define DEFAULT_CATEGORY  "General"

static int not_found(request_rec *r)
{
    return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such template.", NULL);
}

/* base's string member key, or def. */
static const char *base_str(const aic_json *base, const char *key, const char *def, apr_pool_t *p)
{
    const char *s = aic_json_str(aic_json_get(base, key), p);

    return s ? s : def;
}

/*
 * body over base (the template's JSON, or NULL for a new one), every value
 * checked (core/aic_template for the content and the variables), into args
 * as template_save takes them. OK, or the 422 naming the field sent.
 */
static int read_template(aic_json *args, request_rec *r, const aic_json *body, const aic_json *base)
{
    const char *name = base_str(base, "name", NULL, r->pool);
    const char *description = base_str(base, "description", "", r->pool);
    const char *category = base_str(base, "category", DEFAULT_CATEGORY, r->pool);
    const char *content = base_str(base, "content", NULL, r->pool);
    const char *system = base_str(base, "system_prompt", NULL, r->pool);
    const char *model = base_str(base, "model", NULL, r->pool), *note = "";
    aic_json *variables = base ? aic_json_get(base, "variables") : NULL, *v;
    int is_public = base ? aic_json_bool(aic_json_get(base, "is_public")) : 0;
    aic_template *t = NULL;
    aic_template_error err;

    if (aic_refuse_unknown_fields(r, body,
                                  (const char *const[]){"name", "description", "category",
                                                        "content", "system_prompt", "model",
                                                        "is_public", "variables", "note", NULL},
                                  "template") != OK) {
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    if (!base && !aic_json_has(body, "name")) {
        return aic_prompts_refused(r, "name", "name is required.");
    }
    if (!base && !aic_json_has(body, "content")) {
        return aic_prompts_refused(r, "content", "content is required.");
    }
    if (aic_prompts_text(&name, r, body, "name", 1, TEMPLATE_NAME_MAX, 0, 0) != OK ||
        aic_prompts_text(&description, r, body, "description", 0, DESCRIPTION_MAX, 1, 0) != OK ||
        aic_prompts_text(&category, r, body, "category", 1, CATEGORY_MAX, 0, 0) != OK ||
        aic_prompts_text(&content, r, body, "content", 1, AIC_TEMPLATE_CONTENT_MAX, 1, 0) != OK ||
        aic_prompts_text(&note, r, body, "note", 0, NOTE_MAX, 0, 1) != OK) {
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    if (aic_json_has(body, "system_prompt")) {
        system = NULL;
        if (aic_prompts_text(&system, r, body, "system_prompt", 0, SYSTEM_MAX, 1, 1) != OK) {
            return HTTP_UNPROCESSABLE_ENTITY;
        }
        system = system && *system ? system : NULL;
    }
    if (aic_json_has(body, "model")) {
        v = aic_json_get(body, "model");
        model = aic_json_str(v, r->pool);
        if (aic_json_typeof(v) != AIC_JSON_NULL && !aic_valid_slug(model)) {
            return aic_prompts_refused(r, "model", "model must be a model's slug, or null.");
        }
    }
    if (aic_json_has(body, "is_public")) {
        v = aic_json_get(body, "is_public");
        if (aic_json_typeof(v) != AIC_JSON_BOOL) {
            return aic_prompts_refused(r, "is_public", "is_public must be true or false.");
        }
        is_public = aic_json_bool(v);
    }
    if (aic_json_has(body, "variables")) {
        variables = aic_json_get(body, "variables");
    }
    if (aic_template_compile(&t, &err, r->pool, content, variables) != APR_SUCCESS) {
        aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, err.code, err.message, err.field);
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    aic_json_set_str(args, "name", name);
    aic_json_set_str(args, "description", description);
    aic_json_set_str(args, "category", category);
    aic_json_set_str(args, "content", content);
    aic_json_set_str(args, "system_prompt", system);
    aic_json_set_str(args, "model", model);
    aic_json_set(args, "variables", aic_template_variables(t, r->pool));
    aic_json_set_bool(args, "is_public", is_public);
    aic_json_set_str(args, "note", note);
    return OK;
}

/* Run template_save with args inside the open transaction, then commit with
 * the audit row and answer status with the template. */
static int save(aic_ctx *ctx, aic_json *args, int status, const char *action)
{
    request_rec *r = ctx->r;
    aic_json *res = NULL, *saved;
    const char *code, *id;
    apr_status_t rv;

    aic_json_set_str(args, "viewer", ctx->user->id);
    aic_json_set_int(args, "max", AIC_TEMPLATES_MAX);
    if ((rv = aic_prompts_call(&res, ctx, "template_save", args)) != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return aic_send_failure(r, rv);
    }
    if ((code = aic_json_str(aic_json_get(res, "code"), r->pool))) {
        aic_db_rollback(ctx->db);
        if (!strcmp(code, "unknown_model")) {
            return aic_prompts_invalid(r, "model", "model: no model has this slug.");
        }
        if (!strcmp(code, "too_many")) {
            return aic_send_error(
                r, HTTP_CONFLICT, "too_many_templates",
                apr_psprintf(r->pool, "You may keep at most %d templates.", AIC_TEMPLATES_MAX),
                NULL);
        }
        return not_found(r);
    }
    saved = aic_json_get(res, "template");
    id = aic_json_str(aic_json_get(saved, "id"), r->pool);
    return aic_audit_commit_send(ctx->db, ctx->r, status, action, "template", id,
                                 aic_json_typeof(aic_json_get(res, "old")) == AIC_JSON_NULL
                                     ? NULL
                                     : aic_json_dump(aic_json_get(res, "old"), r->pool),
                                 aic_json_dump(saved, r->pool), aic_json_dump(saved, r->pool));
}

/* Lock the caller's live template id in a new transaction: OK with its JSON
 * in *base, or the error sent and its status (never OK) returned. */
static int lock_own(aic_json **base, aic_ctx *ctx, const char *id)
{
    const char *json = NULL;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        not_found(ctx->r);
        return HTTP_NOT_FOUND;
    }
    if ((rv = aic_db_begin(ctx->db)) == APR_SUCCESS) {
        rv = aic_db_value(&json, ctx->db, "template_lock", AIC_ARGS(id, ctx->user->id));
    }
    if (rv != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        if (rv == APR_NOTFOUND) {
            not_found(ctx->r);
            return HTTP_NOT_FOUND;
        }
        aic_send_failure(ctx->r, rv);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    *base = aic_json_from(ctx->r->pool, json);
    return OK;
}

int aic_template_create(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *body = NULL, *args = aic_json_object(r->pool);
    apr_status_t rv;

    if (aic_read_json_object(&body, r) != OK || read_template(args, r, body, NULL) != OK) {
        return OK;
    }
    if (!aic_json_str(aic_json_get(args, "note"), r->pool)[0]) {
        aic_json_set_str(args, "note", "Created");
    }
    if ((rv = aic_db_begin(ctx->db)) != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    return save(ctx, args, HTTP_CREATED, "create");
}

int aic_template_patch(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *body = NULL, *base = NULL, *args = aic_json_object(r->pool);

    if (aic_read_json_object(&body, r) != OK ||
        lock_own(&base, ctx, apr_table_get(ctx->params, "id")) != OK) {
        return OK;
    }
    if (read_template(args, r, body, base) != OK) {
        aic_db_rollback(ctx->db);
        return OK;
    }
    aic_json_set(args, "id", aic_json_get(base, "id"));
    return save(ctx, args, HTTP_OK, "update");
}

/* GET /templates[?deleted=true]: the caller's templates (or those deleted), newest change first. */
int aic_template_list(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *deleted = apr_table_get(aic_query_args(r), "deleted"), *json = NULL;
    apr_status_t rv;

    if (deleted && strcmp(deleted, "true") && strcmp(deleted, "false")) {
        return aic_prompts_invalid(r, "deleted", "deleted must be true or false.");
    }
    rv = aic_db_value(&json, ctx->db, "template_mine",
                      AIC_ARGS(ctx->user->id, deleted ? deleted : "false"));
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, apr_pstrcat(r->pool, "{\"items\":", json, "}", NULL));
}

int aic_template_get(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id"), *json = NULL, *me = ctx->user->id;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return not_found(ctx->r);
    }
    rv = aic_db_value(&json, ctx->db, "template_get", AIC_ARGS(me, id, me));
    if (rv != APR_SUCCESS) {
        return rv == APR_NOTFOUND ? not_found(ctx->r) : aic_send_failure(ctx->r, rv);
    }
    return aic_send_json_text(ctx->r, HTTP_OK, json);
}

/* DELETE (soft) and POST .../restore: label names the statement, action the audit's. */
static int set_deleted(aic_ctx *ctx, const char *label, const char *action)
{
    const char *id = apr_table_get(ctx->params, "id"), *json = NULL;
    int deleting = !strcmp(action, "delete");
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return not_found(ctx->r);
    }
    if ((rv = aic_db_begin(ctx->db)) == APR_SUCCESS) {
        rv = aic_db_value(&json, ctx->db, label, AIC_ARGS(id, ctx->user->id));
    }
    if (rv != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return rv == APR_NOTFOUND ? not_found(ctx->r) : aic_send_failure(ctx->r, rv);
    }
    return aic_audit_commit_send(ctx->db, ctx->r, deleting ? HTTP_NO_CONTENT : HTTP_OK, action,
                                 "template", id, NULL, json, deleting ? NULL : json);
}

int aic_template_delete(aic_ctx *ctx)
{
    return set_deleted(ctx, "template_delete", "delete");
}

int aic_template_undelete(aic_ctx *ctx)
{
    return set_deleted(ctx, "template_undelete", "restore");
}

int aic_template_versions(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id"), *json = NULL;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return not_found(r);
    }
    rv = aic_db_value(&json, ctx->db, "template_versions", AIC_ARGS(id, ctx->user->id));
    if (rv != APR_SUCCESS) {
        return rv == APR_NOTFOUND ? not_found(r) : aic_send_failure(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, apr_pstrcat(r->pool, "{\"items\":", json, "}", NULL));
}

/* The version named by the route ({version}, from 1), or NULL. */
static const char *version_param(aic_ctx *ctx)
{
    const char *v = apr_table_get(ctx->params, "version");
    apr_size_t n = v ? strlen(v) : 0;

    if (n < 1 || n > 9 || v[0] == '0') {
        return NULL;
    }
    for (apr_size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return NULL;
        }
    }
    return v;
}

/* The caller's template id at version: APR_SUCCESS with its JSON, APR_NOTFOUND, or a db error. */
static apr_status_t load_version(const char **json, aic_ctx *ctx, const char *id)
{
    const char *version = version_param(ctx);

    if (!aic_valid_uuid(id) || !version) {
        return APR_NOTFOUND;
    }
    return aic_db_value(json, ctx->db, "template_version", AIC_ARGS(id, ctx->user->id, version));
}

int aic_template_version_get(aic_ctx *ctx)
{
    const char *json = NULL;
    apr_status_t rv = load_version(&json, ctx, apr_table_get(ctx->params, "id"));

    if (rv == APR_NOTFOUND) {
        return aic_send_error(ctx->r, HTTP_NOT_FOUND, "not_found", "No such version.", NULL);
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(ctx->r, rv);
    }
    return aic_send_json_text(ctx->r, HTTP_OK, json);
}

/* A body that may be absent: OK with *body (NULL when none), or the error sent. */
static int optional_body(aic_json **body, request_rec *r, const char *const *allowed,
                         const char *what)
{
    const char *length = apr_table_get(r->headers_in, "Content-Length");

    *body = NULL;
    if ((!length || apr_atoi64(length) <= 0) &&
        !apr_table_get(r->headers_in, "Transfer-Encoding")) {
        return OK;
    }
    if (aic_read_json_object(body, r) != OK) {
        return HTTP_BAD_REQUEST;
    }
    return aic_refuse_unknown_fields(r, *body, allowed, what);
}

/* args for template_save with what a version or a template's JSON (from) holds. */
static void args_from(aic_json *args, const aic_json *from, int is_public, const char *note)
{
    static const char *const keys[] = {"name",          "description", "category", "content",
                                       "system_prompt", "model",       "variables"};

    for (int i = 0; i < (int)(sizeof(keys) / sizeof(keys[0])); i++) {
        aic_json_set(args, keys[i], aic_json_get(from, keys[i]));
    }
    aic_json_set_bool(args, "is_public", is_public);
    aic_json_set_str(args, "note", note);
}

/* POST /templates/{id}/versions/{version}/restore {"note"?}: that version
 * becomes the current one, as a new version. */
int aic_template_version_restore(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id"), *json = NULL, *note = NULL;
    aic_json *body = NULL, *base = NULL, *version, *args = aic_json_object(r->pool);
    apr_status_t rv;

    if (optional_body(&body, r, (const char *const[]){"note", NULL}, "restore") != OK ||
        aic_prompts_text(&note, r, body, "note", 0, NOTE_MAX, 0, 1) != OK ||
        lock_own(&base, ctx, id) != OK) {
        return OK;
    }
    if ((rv = load_version(&json, ctx, id)) != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return rv == APR_NOTFOUND
                   ? aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such version.", NULL)
                   : aic_send_failure(r, rv);
    }
    version = aic_json_from(r->pool, json);
    args_from(args, version, aic_json_bool(aic_json_get(base, "is_public")),
              note && *note ? note
                            : apr_psprintf(r->pool, "Restored version %" APR_INT64_T_FMT,
                                           aic_json_int(aic_json_get(version, "version"))));
    aic_json_set(args, "id", aic_json_get(base, "id"));
    return save(ctx, args, HTTP_OK, "restore_version");
}

/* POST /templates/{id}/copy: a private copy of a template one may see. */
int aic_template_copy(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id"), *me = ctx->user->id, *owner;
    aic_json *body = NULL, *source, *args = aic_json_object(r->pool);
    aic_rows rows;
    apr_status_t rv;

    if (optional_body(&body, r, (const char *const[]){NULL}, "copy") != OK) {
        return OK;
    }
    if (!aic_valid_uuid(id)) {
        return not_found(r);
    }
    if ((rv = aic_db_begin(ctx->db)) == APR_SUCCESS) {
        rv = aic_db_select(&rows, ctx->db, "template_use_load", AIC_ARGS(me, id, me));
    }
    if (rv != APR_SUCCESS || rows.nrows == 0) {
        aic_db_rollback(ctx->db);
        return rv == APR_SUCCESS ? not_found(r) : aic_send_failure(r, rv);
    }
    source = aic_json_from(r->pool, rows.cells[0]);
    owner = aic_json_str(aic_json_get(aic_json_get(source, "owner"), "username"), r->pool);
    args_from(args, source, 0,
              apr_psprintf(r->pool, "Copied from %s's version %" APR_INT64_T_FMT,
                           owner ? owner : "someone",
                           aic_json_int(aic_json_get(source, "version"))));
    aic_json_set_str(args, "copied_from", id);
    return save(ctx, args, HTTP_CREATED, "copy");
}

/* POST /admin/templates/{id}/unpublish: out of the gallery (the owner may publish it again). */
int aic_template_unpublish(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id"), *json = NULL;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return not_found(ctx->r);
    }
    if ((rv = aic_db_begin(ctx->db)) == APR_SUCCESS) {
        rv = aic_db_value(&json, ctx->db, "template_unpublish", AIC_ARGS(id, ctx->user->id));
    }
    if (rv != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return rv == APR_NOTFOUND ? aic_send_error(ctx->r, HTTP_NOT_FOUND, "not_found",
                                                   "No public template with this id.", NULL)
                                  : aic_send_failure(ctx->r, rv);
    }
    return aic_audit_commit_send(ctx->db, ctx->r, HTTP_OK, "unpublish", "template", id,
                                 "{\"is_public\":true}", "{\"is_public\":false}", json);
}
