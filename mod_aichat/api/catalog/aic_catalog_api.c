/* The catalog's JSON endpoints: categories, models (ai_tools), favourites and
 * providers for users; their administration under /v1/admin (through the
 * service in aic_catalog_service.c). */
#include "catalog.h"
#include "httpd/aic_audit.h"

#include <http_protocol.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "core/aic_cursor.h"
#include "core/aic_valid.h"

#define TOOLS_PAGE     20
#define TOOLS_PAGE_MAX 100

static const char *user_id(aic_ctx *ctx)
{
    return ctx->user ? ctx->user->id : NULL;
}

static int send_db_text(request_rec *r, apr_status_t rv, const char *text, const char *missing)
{
    if (rv == APR_NOTFOUND) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", missing, NULL);
    }
    if (rv != APR_SUCCESS) {
        aic_result res = aic_catalog_db_failure(rv);
        return aic_send_result(r, &res);
    }
    return aic_send_json_text(r, HTTP_OK, text);
}

/* ---- reading ---- */

static int categories(aic_ctx *ctx)
{
    const char *text = NULL;
    apr_status_t rv = aic_db_value(&text, ctx->db, "catalog_categories", 0, NULL);

    return send_db_text(ctx->r, rv, text, NULL);
}

/* The sort orders, by the kind of their cursors: popularity, name, newest. */
typedef const char *sort_order;

static const sort_order sorts[] = {"p", "n", "c"};

/* Decode a cursor (kind, id, value) issued for the sort order; NULL when it
 * is one, else the offending field. */
static const char *read_cursor(const char **id, const char **value, apr_pool_t *p,
                               const char *after, const sort_order *order)
{
    const char *fields[2];

    if (aic_cursor_decode(fields, p, after, *order, 2) != APR_SUCCESS ||
        !aic_valid_uuid(fields[0])) {
        return "after";
    }
    *id = fields[0];
    *value = fields[1];
    if ((*order)[0] != 'n') {
        const char *c = *value + (**value == '-' && (*order)[0] == 'c');

        if (!*c || strlen(c) > 18) {
            return "after";
        }
        for (; *c; c++) {
            if (!apr_isdigit(*c)) {
                return "after";
            }
        }
    }
    return NULL;
}

static int tools(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_table_t *args;
    const char *sort, *category, *provider, *q, *favorites, *after, *bad = NULL;
    const char *cursor_id = NULL, *cursor_value = NULL, *text = NULL;
    aic_json *args_json;
    const sort_order *order = NULL;
    int limit, fav;
    apr_status_t rv;

    args = aic_query_args(r);
    sort = apr_table_get(args, "sort");
    category = apr_table_get(args, "category");
    provider = apr_table_get(args, "provider");
    q = apr_table_get(args, "q");
    favorites = apr_table_get(args, "favorites");
    after = apr_table_get(args, "after");
    limit = aic_valid_limit(apr_table_get(args, "limit"), TOOLS_PAGE, TOOLS_PAGE_MAX);

    if (!sort || !strcmp(sort, "popularity")) {
        order = &sorts[0];
    } else if (!strcmp(sort, "name")) {
        order = &sorts[1];
    } else if (!strcmp(sort, "newest")) {
        order = &sorts[2];
    } else {
        bad = "sort";
    }
    if (!bad && limit < 0) {
        bad = "limit";
    }
    if (!bad && category && *category && !aic_valid_uuid(category)) {
        bad = "category";
    }
    if (!bad && provider && (!*provider || !aic_valid_utf8(provider, 64))) {
        bad = "provider";
    }
    if (!bad && q && !aic_valid_utf8(q, 400)) {
        bad = "q";
    }
    if (!bad && favorites && strcmp(favorites, "true") && strcmp(favorites, "false") &&
        strcmp(favorites, "1") && strcmp(favorites, "0")) {
        bad = "favorites";
    }
    if (!bad && after && *after) {
        bad = read_cursor(&cursor_id, &cursor_value, r->pool, after, order);
    }
    if (bad) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_psprintf(r->pool, "'%s' is not valid here.", bad), bad);
    }
    category = (category && *category) ? category : NULL;
    q = (q && *q) ? q : NULL;
    fav = favorites && (!strcmp(favorites, "true") || !strcmp(favorites, "1"));
    after = (after && *after) ? after : NULL;
    /* Search needs the database's ILIKE and trigram indexes; the rest is served from memory. */
    if (!q) {
        aic_catalog_query query = {
            (int)(order - sorts), category, provider, fav, NULL, after, limit};

        rv = aic_catalog_snapshot_page(&text, ctx, &query);
        if (rv != APR_NOTFOUND) {
            return send_db_text(r, rv, text, NULL);
        }
    }
    args_json = aic_json_object(r->pool);
    aic_json_set_str(args_json, "sort", *order);
    aic_json_set_str(args_json, "user_id", user_id(ctx));
    aic_json_set_str(args_json, "category", category);
    aic_json_set_str(args_json, "provider", provider);
    aic_json_set_str(args_json, "pattern", q ? aic_like_contains(r->pool, q) : NULL);
    aic_json_set_bool(args_json, "favorites", fav);
    aic_json_set_str(args_json, "after_id", cursor_id);
    aic_json_set_str(args_json, "after_value", cursor_value);
    aic_json_set_int(args_json, "limit", limit);
    aic_json_set_str(args_json, "providers", ctx->conf->providers_sql);
    aic_json_set_str(args_json, "keyed", ctx->conf->keyed_sql);
    rv = aic_db_value(&text, ctx->db, "catalog_tools", AIC_ARGS(aic_json_dump(args_json, r->pool)));
    return send_db_text(r, rv, text, NULL);
}

static int tool(aic_ctx *ctx)
{
    const char *text = NULL;
    apr_status_t rv =
        aic_db_value(&text, ctx->db, "catalog_tool",
                     AIC_ARGS(ctx->conf->providers_sql, ctx->conf->keyed_sql, user_id(ctx),
                              apr_table_get(ctx->params, "slug"),
                              aic_user_has_role(ctx->user, "admin") ? "true" : "false"));

    /* Administrators also see inactive models; for everyone else they are gone. */
    return send_db_text(ctx->r, rv, text, "No such model.");
}

static int favorites(aic_ctx *ctx)
{
    const char *text = NULL;
    apr_status_t rv =
        aic_db_value(&text, ctx->db, "catalog_favorites",
                     AIC_ARGS(ctx->conf->providers_sql, ctx->conf->keyed_sql, user_id(ctx)));

    return send_db_text(ctx->r, rv, text, NULL);
}

/* PUT/DELETE /tools/{slug}/favorite: idempotent; a real change is audited. */
static int favorite_set(aic_ctx *ctx, int on)
{
    request_rec *r = ctx->r;
    const char *slug = apr_table_get(ctx->params, "slug"), *tool_id = NULL;
    int changed = 0;
    apr_status_t rv;

    if ((rv = aic_db_begin(ctx->db)) == APR_SUCCESS) {
        rv = aic_db_value(&tool_id, ctx->db, "catalog_tool_id", AIC_ARGS(slug));
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_exec(&changed, ctx->db, on ? "catalog_favorite_add" : "catalog_favorite_remove",
                         AIC_ARGS(ctx->user->id, tool_id));
    }
    if (rv == APR_SUCCESS && changed) {
        const char *value = apr_psprintf(r->pool, "{\"tool\":\"%s\"}", slug);

        rv = aic_audit_change(ctx->db, r, HTTP_OK, on ? "create" : "delete", "favorite", tool_id,
                              on ? NULL : value, on ? value : NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_commit(ctx->db);
    } else {
        aic_db_rollback(ctx->db);
    }
    if (rv != APR_SUCCESS) {
        aic_req_get(r)->audited = 0;
        return send_db_text(r, rv, NULL, "No such model.");
    }
    return aic_send_json_text(r, HTTP_OK, on ? "{\"favorite\":true}" : "{\"favorite\":false}");
}

static int favorite_put(aic_ctx *ctx)
{
    return favorite_set(ctx, 1);
}

static int favorite_delete(aic_ctx *ctx)
{
    return favorite_set(ctx, 0);
}
/* ---- providers: configured upstreams and whether they answer ---- */

static int providers(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *body = aic_json_object(r->pool), *items = aic_json_array(r->pool);
    int admin = aic_user_has_role(ctx->user, "admin");

    for (int i = 0; i < ctx->conf->providers->nelts; i++) {
        const aic_provider_cfg *prov = APR_ARRAY_IDX(ctx->conf->providers, i, aic_provider_cfg *);
        aic_json *item = aic_json_object(r->pool);
        const char *host = strstr(prov->base_url, "://") + 3;

        aic_json_set_str(item, "name", prov->name);
        aic_json_set_str(item, "kind", aic_provider_kind_name(prov->kind));
        /* Where the upstreams live is the administrators' business. */
        if (admin) {
            aic_json_set_str(item, "host", apr_pstrmemdup(r->pool, host, strcspn(host, "/")));
        }
        aic_json_set_bool(item, "key_present", prov->key != NULL);
        aic_json_set_bool(item, "reachable", aic_catalog_reachable(prov));
        aic_json_push(items, item);
    }
    aic_json_set(body, "items", items);
    return aic_send_json(r, HTTP_OK, body);
}
/* ---- administration endpoints (JSON) ---- */

static int admin_tools(aic_ctx *ctx)
{
    const char *text = NULL;
    apr_status_t rv = aic_db_value(&text, ctx->db, "catalog_admin_tools",
                                   AIC_ARGS(ctx->conf->providers_sql, ctx->conf->keyed_sql));

    return send_db_text(ctx->r, rv, text, NULL);
}

typedef aic_result (*save_fn)(aic_ctx *ctx, const char *key, const aic_json *in);

/* Create (no path parameter) or update (the object named by `param`) from the body. */
static int save_from_body(aic_ctx *ctx, save_fn save, const char *param)
{
    aic_json *body = NULL;
    aic_result res;

    if (aic_read_json_object(&body, ctx->r) != OK) {
        return OK;
    }
    res = save(ctx, param ? apr_table_get(ctx->params, param) : NULL, body);
    return aic_send_result(ctx->r, &res);
}

static int admin_tool_create(aic_ctx *ctx)
{
    return save_from_body(ctx, aic_catalog_tool_save, NULL);
}

static int admin_tool_update(aic_ctx *ctx)
{
    return save_from_body(ctx, aic_catalog_tool_save, "slug");
}

static int admin_tool_delete(aic_ctx *ctx)
{
    aic_result res = aic_catalog_tool_delete(ctx, apr_table_get(ctx->params, "slug"));

    return aic_send_result(ctx->r, &res);
}

static int admin_category_create(aic_ctx *ctx)
{
    return save_from_body(ctx, aic_catalog_category_save, NULL);
}

static int admin_category_update(aic_ctx *ctx)
{
    return save_from_body(ctx, aic_catalog_category_save, "id");
}

static int admin_category_delete(aic_ctx *ctx)
{
    aic_result res = aic_catalog_category_delete(ctx, apr_table_get(ctx->params, "id"));

    return aic_send_result(ctx->r, &res);
}

static const aic_endpoint ep_categories = {categories, 0};
static const aic_endpoint_user ep_tools = {{tools, AIC_EP_USER}, "catalog_user"};
static const aic_endpoint ep_tool = {tool, 0};
static const aic_endpoint ep_favorite_put = {favorite_put, 0};
static const aic_endpoint ep_favorite_delete = {favorite_delete, 0};
static const aic_endpoint ep_favorites = {favorites, 0};
static const aic_endpoint ep_providers = {providers, 0};
static const aic_endpoint ep_admin_tools = {admin_tools, AIC_EP_ADMIN};
static const aic_endpoint ep_admin_tool_create = {admin_tool_create, AIC_EP_ADMIN};
static const aic_endpoint ep_admin_tool_update = {admin_tool_update, AIC_EP_ADMIN};
static const aic_endpoint ep_admin_tool_delete = {admin_tool_delete, AIC_EP_ADMIN};
static const aic_endpoint ep_admin_category_create = {admin_category_create, AIC_EP_ADMIN};
static const aic_endpoint ep_admin_category_update = {admin_category_update, AIC_EP_ADMIN};
static const aic_endpoint ep_admin_category_delete = {admin_category_delete, AIC_EP_ADMIN};

const aic_route aic_catalog_routes[] = {
    {"GET", "/v1/categories", &ep_categories},
    {"GET", "/v1/tools", &ep_tools.ep},
    {"GET", "/v1/tools/{slug}", &ep_tool},
    {"PUT", "/v1/tools/{slug}/favorite", &ep_favorite_put},
    {"DELETE", "/v1/tools/{slug}/favorite", &ep_favorite_delete},
    {"GET", "/v1/me/favorites", &ep_favorites},
    {"GET", "/v1/providers", &ep_providers},
    {"GET", "/v1/admin/tools", &ep_admin_tools},
    {"POST", "/v1/admin/tools", &ep_admin_tool_create},
    {"PATCH", "/v1/admin/tools/{slug}", &ep_admin_tool_update},
    {"DELETE", "/v1/admin/tools/{slug}", &ep_admin_tool_delete},
    {"POST", "/v1/admin/categories", &ep_admin_category_create},
    {"PATCH", "/v1/admin/categories/{id}", &ep_admin_category_update},
    {"DELETE", "/v1/admin/categories/{id}", &ep_admin_category_delete},
    {NULL, NULL, NULL}};

void aic_catalog_child_init(apr_pool_t *pchild, server_rec *s)
{
    aic_catalog_snapshot_child_init(pchild, s);
}

int aic_catalog_post_config(apr_pool_t *pconf, server_rec *s)
{
    return aic_catalog_probe_post_config(pconf, s);
}
