/* The catalog's changes: create, update and delete models and categories,
 * each in one transaction with its audit row. Shared by the JSON API
 * (aic_catalog_api.c) and the admin pages (aic_catalog_pages.c). */
#include "catalog.h"
#include "httpd/aic_audit.h"

#include <http_protocol.h>
#include <apr_strings.h>

#include "core/aic_valid.h"

/* ---- results ---- */

static const aic_result ok_result = {HTTP_OK, NULL, NULL, NULL, NULL};

static aic_result invalid(const char *field, const char *message)
{
    aic_result res = {HTTP_UNPROCESSABLE_ENTITY, "invalid_field", field, message, NULL};
    return res;
}

aic_result aic_catalog_db_failure(apr_status_t rv)
{
    aic_result res = {HTTP_SERVICE_UNAVAILABLE, AIC_DB_UNAVAILABLE_CODE, NULL,
                      AIC_DB_UNAVAILABLE_MESSAGE, NULL};

    if (rv != AIC_DB_EDOWN && rv != AIC_DB_ESCHEMA) {
        res.status = HTTP_INTERNAL_SERVER_ERROR;
        res.code = "internal_error";
        res.message = "The change could not be saved.";
    }
    return res;
}

/* A change that failed: undo it (and its audit row) and say why. */
static aic_result give_up(aic_ctx *ctx, apr_status_t rv)
{
    aic_db_rollback(ctx->db);
    aic_req_get(ctx->r)->audited = 0;
    return aic_catalog_db_failure(rv);
}

/* A change made so far (rv): write its audit row and commit, answering
 * status with new_text; or give up. */
static aic_result commit_change(aic_ctx *ctx, apr_status_t rv, int status, const char *action,
                                const char *entity_type, const char *id, const char *old_text,
                                const char *new_text)
{
    if (rv == APR_SUCCESS) {
        rv = aic_audit_change(ctx->db, ctx->r, status, action, entity_type, id, old_text, new_text);
    }
    if (rv == APR_SUCCESS && (rv = aic_db_commit(ctx->db)) == APR_SUCCESS) {
        aic_result done = {status, NULL, NULL, NULL, new_text};
        return done;
    }
    return give_up(ctx, rv);
}

static aic_result not_found(const char *what)
{
    aic_result res = {HTTP_NOT_FOUND, "not_found", NULL, what, NULL};
    return res;
}

int aic_send_result(request_rec *r, const aic_result *res)
{
    if (res->status >= 400) {
        return aic_send_error(r, res->status, res->code, res->message, res->field);
    }
    if (res->status == HTTP_NO_CONTENT) {
        r->status = HTTP_NO_CONTENT;
        apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
        return OK;
    }
    return aic_send_json_text(r, res->status, res->json);
}

/* ---- administration: tools ---- */

typedef struct {
    const char *slug, *name, *display_name, *avatar, *provider, *model_id, *description;
    const char *category_id, *api_key_required, *capabilities, *default_settings, *is_active;
} tool_fields;

static const char *const tool_keys[] = {"slug",
                                        "name",
                                        "display_name",
                                        "avatar",
                                        "provider",
                                        "model_id",
                                        "description",
                                        "category_id",
                                        "api_key_required",
                                        "capabilities",
                                        "default_settings",
                                        "is_active",
                                        NULL};

/* The current values of a tool (from tool_json) as fields. */
static void fields_from_tool(tool_fields *f, const aic_json *t, apr_pool_t *p)
{
    f->slug = aic_json_str(aic_json_get(t, "slug"), p);
    f->name = aic_json_str(aic_json_get(t, "name"), p);
    f->display_name = aic_json_str(aic_json_get(t, "display_name"), p);
    f->avatar = aic_json_str(aic_json_get(t, "avatar"), p);
    f->provider = aic_json_str(aic_json_get(t, "provider"), p);
    f->model_id = aic_json_str(aic_json_get(t, "model_id"), p);
    f->description = aic_json_str(aic_json_get(t, "description"), p);
    f->category_id = aic_json_str(aic_json_get(aic_json_get(t, "category"), "id"), p);
    f->api_key_required = aic_json_bool(aic_json_get(t, "api_key_required")) ? "true" : "false";
    f->capabilities = aic_json_dump(aic_json_get(t, "capabilities"), p);
    f->default_settings = aic_json_dump(aic_json_get(t, "default_settings"), p);
    f->is_active = aic_json_bool(aic_json_get(t, "is_active")) ? "true" : "false";
}

/* The fields (and the model's id, for an update) as the JSON argument of
 * catalog_tool_insert and catalog_tool_update: each a string or null. */
static const char *fields_json(const tool_fields *f, const char *id, apr_pool_t *p)
{
    const char *const values[] = {f->slug,
                                  f->name,
                                  f->display_name,
                                  f->avatar,
                                  f->provider,
                                  f->model_id,
                                  f->description,
                                  f->category_id,
                                  f->api_key_required,
                                  f->capabilities,
                                  f->default_settings,
                                  f->is_active};
    aic_json *out = aic_json_object(p);

    for (int i = 0; tool_keys[i]; i++) {
        aic_json_set_str(out, tool_keys[i], values[i]);
    }
    aic_json_set_str(out, "id", id);
    return aic_json_dump(out, p);
}

static aic_result text_field(const char **out, const aic_json *in, const char *key, apr_pool_t *p,
                             apr_size_t min, apr_size_t max, int multiline, int nullable)
{
    aic_json *v = aic_json_get(in, key);
    const char *err;

    if (!aic_json_has(in, key)) {
        return ok_result;
    }
    if (nullable && aic_json_typeof(v) == AIC_JSON_NULL) {
        *out = NULL;
        return ok_result;
    }
    if (aic_json_typeof(v) != AIC_JSON_STRING) {
        return invalid(key,
                       apr_psprintf(p, "%s must be a string%s.", key, nullable ? " or null" : ""));
    }
    if ((err = aic_valid_text(out, p, aic_json_str(v, p), min, max, multiline))) {
        return invalid(key, apr_pstrcat(p, key, " ", err, ".", NULL));
    }
    return ok_result;
}

static aic_result bool_field(const char **out, const aic_json *in, const char *key, apr_pool_t *p)
{
    aic_json *v = aic_json_get(in, key);

    if (!aic_json_has(in, key)) {
        return ok_result;
    }
    if (aic_json_typeof(v) != AIC_JSON_BOOL) {
        return invalid(key, apr_psprintf(p, "%s must be true or false.", key));
    }
    *out = aic_json_bool(v) ? "true" : "false";
    return ok_result;
}

static aic_result object_field(const char **out, const aic_json *in, const char *key, apr_pool_t *p)
{
    aic_json *v = aic_json_get(in, key);

    if (!aic_json_has(in, key)) {
        return ok_result;
    }
    if (aic_json_typeof(v) != AIC_JSON_OBJECT) {
        return invalid(key, apr_psprintf(p, "%s must be a JSON object.", key));
    }
    *out = aic_json_dump(v, p);
    if (strlen(*out) > 16384) {
        return invalid(key, apr_psprintf(p, "%s is too large.", key));
    }
    return ok_result;
}

/* Overlay the members of `in` on f, checking each. */
static aic_result apply_tool_input(tool_fields *f, aic_ctx *ctx, const aic_json *in)
{
    apr_pool_t *p = ctx->r->pool;
    const char *unknown_key;
    aic_result res;

    if ((unknown_key = aic_json_unknown_key(in, tool_keys, p))) {
        aic_result unknown = {HTTP_UNPROCESSABLE_ENTITY, "unknown_field", unknown_key,
                              apr_psprintf(p, "'%s' is not a field of a model.", unknown_key),
                              NULL};
        return unknown;
    }
    if (aic_json_has(in, "slug")) {
        const char *slug = aic_json_str(aic_json_get(in, "slug"), p);

        if (!aic_valid_slug(slug)) {
            return invalid("slug", "slug must be 1-63 lower-case letters, digits and '-', "
                                   "starting with a letter or digit.");
        }
        f->slug = slug;
    }
#define CHECK(x)                                                                                   \
    if ((res = (x)).status != HTTP_OK)                                                             \
    return res
    CHECK(text_field(&f->name, in, "name", p, 1, 200, 0, 0));
    CHECK(text_field(&f->display_name, in, "display_name", p, 1, 200, 0, 0));
    CHECK(text_field(&f->avatar, in, "avatar", p, 1, 2048, 0, 1));
    CHECK(text_field(&f->provider, in, "provider", p, 1, 64, 0, 0));
    CHECK(text_field(&f->model_id, in, "model_id", p, 1, 200, 0, 0));
    CHECK(text_field(&f->description, in, "description", p, 0, 10000, 1, 0));
    CHECK(bool_field(&f->api_key_required, in, "api_key_required", p));
    CHECK(bool_field(&f->is_active, in, "is_active", p));
    CHECK(object_field(&f->capabilities, in, "capabilities", p));
    CHECK(object_field(&f->default_settings, in, "default_settings", p));
#undef CHECK
    if (aic_json_has(in, "category_id")) {
        aic_json *v = aic_json_get(in, "category_id");

        if (aic_json_typeof(v) == AIC_JSON_NULL) {
            f->category_id = NULL;
        } else if (!aic_valid_uuid(aic_json_str(v, p))) {
            return invalid("category_id", "category_id must be the id of a category or null.");
        } else {
            f->category_id = aic_json_str(v, p);
        }
    }
    if (!f->slug) {
        return invalid("slug", "slug is required.");
    }
    if (!f->name) {
        return invalid("name", "name is required.");
    }
    if (!f->provider) {
        return invalid("provider", "provider is required.");
    }
    if (!f->model_id) {
        return invalid("model_id", "model_id is required.");
    }
    if (!aic_config_provider(ctx->conf, f->provider)) {
        return invalid("provider", apr_psprintf(p,
                                                "provider '%s' is not configured on this "
                                                "server (AIChatProvider).",
                                                f->provider));
    }
    if (aic_json_has(in, "avatar") && f->avatar && strncmp(f->avatar, "https://", 8) &&
        strncmp(f->avatar, "http://", 7) && f->avatar[0] != '/') {
        return invalid("avatar", "avatar must be an http(s) URL or a path on this site.");
    }
    if (!f->display_name) {
        f->display_name = f->name;
    }
    return ok_result;
}

aic_result aic_catalog_tool_save(aic_ctx *ctx, const char *slug, const aic_json *in)
{
    request_rec *r = ctx->r;
    apr_pool_t *p = r->pool;
    tool_fields f = {NULL, NULL, NULL, NULL, NULL, NULL, "", NULL, "true", "{}", "{}", "true"};
    const char *old_text = NULL, *id = NULL, *taken = NULL, *new_text = NULL;
    aic_json *old = NULL;
    aic_result res;
    aic_rows rows;
    apr_status_t rv;

    if ((rv = aic_db_begin(ctx->db)) != APR_SUCCESS) {
        return aic_catalog_db_failure(rv);
    }
    if (slug) {
        const char *err = NULL;

        rv = aic_db_select(&rows, ctx->db, "catalog_tool_lock",
                           AIC_ARGS(ctx->conf->providers_sql, ctx->conf->keyed_sql, slug));
        if (rv == APR_SUCCESS && rows.nrows == 0) {
            aic_db_rollback(ctx->db);
            return not_found("No such model.");
        }
        if (rv != APR_SUCCESS) {
            return give_up(ctx, rv);
        }
        old_text = rows.cells[0];
        id = rows.cells[1];
        if (aic_json_parse(&old, &err, p, old_text, strlen(old_text)) != APR_SUCCESS) {
            rv = APR_EGENERAL;
            return give_up(ctx, rv);
        }
        fields_from_tool(&f, old, p);
        if (apr_is_empty_array(aic_json_keys(in, p))) {
            aic_result same = {HTTP_OK, NULL, NULL, NULL, old_text};

            aic_db_rollback(ctx->db);
            return same;
        }
    }
    if ((res = apply_tool_input(&f, ctx, in)).status != HTTP_OK) {
        aic_db_rollback(ctx->db);
        return res;
    }
    if (f.category_id) {
        const char *one = NULL;

        rv = aic_db_value(&one, ctx->db, "catalog_category_exists", AIC_ARGS(f.category_id));
        if (rv == APR_NOTFOUND) {
            aic_db_rollback(ctx->db);
            return invalid("category_id", "category_id does not name a category.");
        }
        if (rv != APR_SUCCESS) {
            return give_up(ctx, rv);
        }
    }
    rv = aic_db_value(&taken, ctx->db, "catalog_slug_taken", AIC_ARGS(f.slug, id));
    if (rv == APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return invalid("slug",
                       apr_psprintf(p, "slug '%s' is already used by another model.", f.slug));
    }
    if (rv != APR_NOTFOUND) {
        return give_up(ctx, rv);
    }
    if (!slug) {
        rv = aic_db_select(
            &rows, ctx->db, "catalog_tool_insert",
            AIC_ARGS(fields_json(&f, NULL, p), ctx->conf->providers_sql, ctx->conf->keyed_sql));
        if (rv == APR_SUCCESS && rows.nrows == 0) {
            /* A concurrent create took the slug between the check and here. */
            aic_db_rollback(ctx->db);
            return invalid("slug", "slug is already used by another model.");
        }
        if (rv == APR_SUCCESS) {
            new_text = rows.cells[0];
            id = rows.cells[1];
        }
    } else {
        rv = aic_db_value(
            &new_text, ctx->db, "catalog_tool_update",
            AIC_ARGS(fields_json(&f, id, p), ctx->conf->providers_sql, ctx->conf->keyed_sql));
    }
    return commit_change(ctx, rv, slug ? HTTP_OK : HTTP_CREATED, slug ? "update" : "create",
                         "ai_tool", id, old_text, new_text);
}

aic_result aic_catalog_tool_delete(aic_ctx *ctx, const char *slug)
{
    aic_rows rows;
    apr_status_t rv;

    if ((rv = aic_db_begin(ctx->db)) != APR_SUCCESS) {
        return aic_catalog_db_failure(rv);
    }
    rv = aic_db_select(&rows, ctx->db, "catalog_tool_lock",
                       AIC_ARGS(ctx->conf->providers_sql, ctx->conf->keyed_sql, slug));
    if (rv == APR_SUCCESS && rows.nrows == 0) {
        aic_db_rollback(ctx->db);
        return not_found("No such model.");
    }
    if (rv == APR_SUCCESS) {
        const char *uses = NULL;

        rv = aic_db_value(&uses, ctx->db, "catalog_tool_in_use", AIC_ARGS(rows.cells[1]));
        if (rv == APR_SUCCESS && strcmp(uses, "0")) {
            /* Conversations keep their models: deactivating hides it instead. */
            aic_result busy = {HTTP_CONFLICT, "tool_in_use", NULL,
                               apr_psprintf(ctx->r->pool,
                                            "%s conversation(s) use this model; "
                                            "deactivate it instead.",
                                            uses),
                               NULL};
            aic_db_rollback(ctx->db);
            return busy;
        }
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_exec(NULL, ctx->db, "catalog_tool_delete", AIC_ARGS(rows.cells[1]));
    }
    return commit_change(ctx, rv, HTTP_NO_CONTENT, "delete", "ai_tool", rows.cells[1],
                         rows.cells[0], NULL);
}

/* ---- administration: categories ---- */

aic_result aic_catalog_category_save(aic_ctx *ctx, const char *id, const aic_json *in)
{
    request_rec *r = ctx->r;
    apr_pool_t *p = r->pool;
    const char *name = NULL, *description = "", *icon = NULL, *old_text = NULL, *new_text = NULL;
    const char *taken = NULL, *err = NULL, *unknown_key;
    apr_array_header_t *keys = aic_json_keys(in, p);
    aic_rows rows;
    aic_result res;
    apr_status_t rv;

    if ((unknown_key = aic_json_unknown_key(
             in, (const char *const[]){"name", "description", "icon", NULL}, p))) {
        aic_result unknown = {HTTP_UNPROCESSABLE_ENTITY, "unknown_field", unknown_key,
                              apr_psprintf(p, "'%s' is not a field of a category.", unknown_key),
                              NULL};
        return unknown;
    }
    if (id && !aic_valid_uuid(id)) {
        return not_found("No such category.");
    }
    if ((rv = aic_db_begin(ctx->db)) != APR_SUCCESS) {
        return aic_catalog_db_failure(rv);
    }
    if (id) {
        aic_json *old = NULL;

        rv = aic_db_select(&rows, ctx->db, "catalog_category_lock", AIC_ARGS(id));
        if (rv == APR_SUCCESS && rows.nrows == 0) {
            aic_db_rollback(ctx->db);
            return not_found("No such category.");
        }
        if (rv != APR_SUCCESS) {
            return give_up(ctx, rv);
        }
        old_text = rows.cells[0];
        if (aic_json_parse(&old, &err, p, old_text, strlen(old_text)) != APR_SUCCESS) {
            rv = APR_EGENERAL;
            return give_up(ctx, rv);
        }
        name = aic_json_str(aic_json_get(old, "name"), p);
        description = aic_json_str(aic_json_get(old, "description"), p);
        icon = aic_json_str(aic_json_get(old, "icon"), p);
        if (apr_is_empty_array(keys)) {
            aic_result same = {HTTP_OK, NULL, NULL, NULL, old_text};

            aic_db_rollback(ctx->db);
            return same;
        }
    }
    if ((res = text_field(&name, in, "name", p, 1, 100, 0, 0)).status != HTTP_OK ||
        (res = text_field(&description, in, "description", p, 0, 2000, 1, 0)).status != HTTP_OK ||
        (res = text_field(&icon, in, "icon", p, 1, 64, 0, 1)).status != HTTP_OK) {
        aic_db_rollback(ctx->db);
        return res;
    }
    if (!name) {
        aic_db_rollback(ctx->db);
        return invalid("name", "name is required.");
    }
    if (id) {
        rv = aic_db_value(&taken, ctx->db, "catalog_category_name_taken", AIC_ARGS(name, id));
        if (rv == APR_SUCCESS) {
            aic_db_rollback(ctx->db);
            return invalid("name", "Another category has this name.");
        }
        if (rv == APR_NOTFOUND) {
            rv = aic_db_value(&new_text, ctx->db, "catalog_category_update",
                              AIC_ARGS(name, description, icon, id));
        }
    } else {
        rv = aic_db_select(&rows, ctx->db, "catalog_category_insert",
                           AIC_ARGS(name, description, icon));
        if (rv == APR_SUCCESS && rows.nrows == 0) {
            aic_db_rollback(ctx->db);
            return invalid("name", "Another category has this name.");
        }
        if (rv == APR_SUCCESS) {
            new_text = rows.cells[0];
            id = rows.cells[1];
        }
    }
    return commit_change(ctx, rv, old_text ? HTTP_OK : HTTP_CREATED, old_text ? "update" : "create",
                         "category", id, old_text, new_text);
}

aic_result aic_catalog_category_delete(aic_ctx *ctx, const char *id)
{
    aic_rows rows;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return not_found("No such category.");
    }
    if ((rv = aic_db_begin(ctx->db)) != APR_SUCCESS) {
        return aic_catalog_db_failure(rv);
    }
    /* FOR UPDATE: a tool cannot be added to it until this commits. */
    rv = aic_db_select(&rows, ctx->db, "catalog_category_lock", AIC_ARGS(id));
    if (rv == APR_SUCCESS && rows.nrows == 0) {
        aic_db_rollback(ctx->db);
        return not_found("No such category.");
    }
    if (rv == APR_SUCCESS && strcmp(rows.cells[1], "0")) {
        aic_result busy = {HTTP_CONFLICT, "category_not_empty", NULL,
                           apr_psprintf(ctx->r->pool,
                                        "The category still holds %s model(s); "
                                        "move or delete them first.",
                                        rows.cells[1]),
                           NULL};
        aic_db_rollback(ctx->db);
        return busy;
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_exec(NULL, ctx->db, "catalog_category_delete", AIC_ARGS(id));
    }
    return commit_change(ctx, rv, HTTP_NO_CONTENT, "delete", "category", id, rows.cells[0], NULL);
}
