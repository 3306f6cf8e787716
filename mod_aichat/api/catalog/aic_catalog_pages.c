/* Admin pages for the catalog: list, create, edit, deactivate and delete
 * models; create and delete categories. Forms post to the pages, which use
 * the same save/delete functions as the JSON API; validation errors are shown
 * next to their field. */
#include "catalog.h"
#include "httpd/aic_page.h"

#include <http_protocol.h>
#include <apr_strings.h>

static const char *base(aic_ctx *ctx)
{
    return apr_pstrcat(ctx->r->pool, ctx->conf->base_uri, "/admin/catalog", NULL);
}

static aic_json *load_json(aic_ctx *ctx, const char *label, int nargs, const char *const *args)
{
    const char *text = NULL, *err = NULL;
    aic_json *out = NULL;

    if (aic_db_value(&text, ctx->db, label, nargs, args) != APR_SUCCESS ||
        aic_json_parse(&out, &err, ctx->r->pool, text, strlen(text)) != APR_SUCCESS) {
        return NULL;
    }
    return out;
}

static const char *str(request_rec *r, const aic_json *obj, const char *key)
{
    return aic_json_str(aic_json_get(obj, key), r->pool);
}

/* ---- the list ---- */

static int page_catalog(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *tools = load_json(ctx, "catalog_admin_tools",
                                AIC_ARGS(ctx->conf->providers_sql, ctx->conf->keyed_sql));
    aic_json *cats = load_json(ctx, "catalog_categories", 0, NULL);
    aic_json *items, *citems;

    if (!tools || !cats) {
        return aic_page_error(r, HTTP_SERVICE_UNAVAILABLE, "The catalog cannot be read now.");
    }
    items = aic_json_get(tools, "items");
    citems = aic_json_get(cats, "items");
    aic_page_begin(r, HTTP_OK, "Catalog", "catalog");
    ap_rprintf(r, "<p><a class=\"button\" href=\"%s/new\">New model</a></p>", aic_e(r, base(ctx)));
    ap_rputs("<table><thead><tr><th>Model</th><th>Slug</th><th>Provider / model id</th>"
             "<th>Category</th><th>Popularity</th><th>Status</th><th>Availability</th>"
             "</tr></thead><tbody>",
             r);
    for (apr_size_t i = 0; i < aic_json_len(items); i++) {
        aic_json *t = aic_json_at(items, i);
        const char *slug = str(r, t, "slug");
        const char *reason = str(r, t, "unavailable_reason");

        ap_rprintf(r,
                   "<tr><td><a href=\"%s/tools/%s\">%s</a></td><td><code>%s</code></td>"
                   "<td>%s / <code>%s</code></td><td>%s</td><td>%" APR_INT64_T_FMT "</td>"
                   "<td>%s</td><td>%s</td></tr>",
                   aic_e(r, base(ctx)), aic_e(r, slug), aic_e(r, str(r, t, "display_name")),
                   aic_e(r, slug), aic_e(r, str(r, t, "provider")), aic_e(r, str(r, t, "model_id")),
                   aic_e(r, str(r, aic_json_get(t, "category"), "name")),
                   aic_json_int(aic_json_get(t, "popularity")),
                   aic_json_bool(aic_json_get(t, "is_active")) ? "active" : "inactive",
                   reason ? aic_e(r, reason) : "available");
    }
    ap_rputs("</tbody></table><h2>Categories</h2><table><thead><tr><th>Name</th>"
             "<th>Description</th><th>Active models</th><th></th></tr></thead><tbody>",
             r);
    for (apr_size_t i = 0; i < aic_json_len(citems); i++) {
        aic_json *c = aic_json_at(citems, i);

        ap_rprintf(r,
                   "<tr><td>%s</td><td>%s</td><td>%" APR_INT64_T_FMT "</td><td>"
                   "<form method=\"post\" action=\"%s/categories/%s\">"
                   "<input type=\"hidden\" name=\"action\" value=\"delete\">"
                   "<button type=\"submit\">Delete</button></form></td></tr>",
                   aic_e(r, str(r, c, "name")), aic_e(r, str(r, c, "description")),
                   aic_json_int(aic_json_get(c, "tool_count")), aic_e(r, base(ctx)),
                   aic_e(r, str(r, c, "id")));
    }
    ap_rprintf(r,
               "</tbody></table><form class=\"filters\" method=\"post\" action=\"%s/categories\">"
               "<label>Name <input name=\"name\" required maxlength=\"100\"></label>"
               "<label>Description <input name=\"description\" maxlength=\"2000\"></label>"
               "<button type=\"submit\">Add category</button></form>",
               aic_e(r, base(ctx)));
    return aic_page_end(r);
}

/* ---- the model form ---- */

static void field_error(request_rec *r, const aic_result *res, const char *field)
{
    if (res && res->field && !strcmp(res->field, field)) {
        ap_rprintf(r, "<p class=\"error\" id=\"%s-error\" role=\"alert\">%s</p>", field,
                   aic_e(r, res->message));
    }
}

static void text_input(request_rec *r, const aic_result *res, const char *label, const char *name,
                       const char *value, int required)
{
    int bad = res && res->field && !strcmp(res->field, name);

    ap_rprintf(
        r,
        "<div class=\"field\"><label for=\"f-%s\">%s</label><input id=\"f-%s\" "
        "name=\"%s\" value=\"%s\"%s%s>",
        name, label, name, name, aic_e(r, value), required ? " required" : "",
        bad ? apr_psprintf(r->pool, " aria-invalid=\"true\" aria-describedby=\"%s-error\"", name)
            : "");
    field_error(r, res, name);
    ap_rputs("</div>", r);
}

static void textarea(request_rec *r, const aic_result *res, const char *label, const char *name,
                     const char *value)
{
    ap_rprintf(r,
               "<div class=\"field\"><label for=\"f-%s\">%s</label><textarea id=\"f-%s\" "
               "name=\"%s\" rows=\"4\">%s</textarea>",
               name, label, name, name, aic_e(r, value));
    field_error(r, res, name);
    ap_rputs("</div>", r);
}

static void checkbox(request_rec *r, const char *label, const char *name, int checked)
{
    ap_rprintf(r,
               "<div class=\"field\"><label><input type=\"checkbox\" name=\"%s\" value=\"1\"%s> "
               "%s</label></div>",
               name, checked ? " checked" : "", label);
}

/* The form for a model. `values` holds strings for every field (as posted, or
 * from the stored model); res is the failed save to show, or NULL. */
static int render_form(aic_ctx *ctx, int status, const char *title, const char *action,
                       apr_table_t *values, const aic_result *res, int editing)
{
    request_rec *r = ctx->r;
    aic_json *cats = load_json(ctx, "catalog_categories", 0, NULL);
    aic_json *citems = aic_json_get(cats, "items");
    const char *category = apr_table_get(values, "category_id");
    const char *provider = apr_table_get(values, "provider");

    aic_page_begin(r, status, title, "catalog");
    if (res && !res->field) {
        ap_rprintf(r, "<p class=\"error\" role=\"alert\">%s</p>", aic_e(r, res->message));
    }
    ap_rprintf(r,
               "<form class=\"editor\" method=\"post\" action=\"%s\" novalidate>"
               "<input type=\"hidden\" name=\"action\" value=\"save\">",
               aic_e(r, action));
    text_input(r, res, "Slug", "slug", apr_table_get(values, "slug"), 1);
    text_input(r, res, "Name", "name", apr_table_get(values, "name"), 1);
    text_input(r, res, "Display name", "display_name", apr_table_get(values, "display_name"), 0);
    ap_rputs("<div class=\"field\"><label for=\"f-provider\">Provider</label>"
             "<select id=\"f-provider\" name=\"provider\">",
             r);
    for (int i = 0; i < ctx->conf->providers->nelts; i++) {
        const aic_provider_cfg *prov = APR_ARRAY_IDX(ctx->conf->providers, i, aic_provider_cfg *);

        ap_rprintf(r, "<option value=\"%s\"%s>%s (%s)</option>", aic_e(r, prov->name),
                   provider && !strcmp(provider, prov->name) ? " selected" : "",
                   aic_e(r, prov->name), aic_provider_kind_name(prov->kind));
    }
    if (provider && *provider && !aic_config_provider(ctx->conf, provider)) {
        ap_rprintf(r, "<option value=\"%s\" selected>%s (not configured)</option>",
                   aic_e(r, provider), aic_e(r, provider));
    }
    ap_rputs("</select>", r);
    field_error(r, res, "provider");
    ap_rputs("</div>", r);
    text_input(r, res, "Provider model id", "model_id", apr_table_get(values, "model_id"), 1);
    ap_rputs("<div class=\"field\"><label for=\"f-category_id\">Category</label>"
             "<select id=\"f-category_id\" name=\"category_id\"><option value=\"\">(none)</option>",
             r);
    for (apr_size_t i = 0; i < aic_json_len(citems); i++) {
        aic_json *c = aic_json_at(citems, i);
        const char *id = str(r, c, "id");

        ap_rprintf(r, "<option value=\"%s\"%s>%s</option>", aic_e(r, id),
                   category && !strcmp(category, id) ? " selected" : "",
                   aic_e(r, str(r, c, "name")));
    }
    ap_rputs("</select>", r);
    field_error(r, res, "category_id");
    ap_rputs("</div>", r);
    textarea(r, res, "Description", "description", apr_table_get(values, "description"));
    text_input(r, res, "Avatar URL", "avatar", apr_table_get(values, "avatar"), 0);
    textarea(r, res, "Capabilities (JSON object)", "capabilities",
             apr_table_get(values, "capabilities"));
    textarea(r, res, "Default settings (JSON object)", "default_settings",
             apr_table_get(values, "default_settings"));
    checkbox(r, "Needs the provider's API key", "api_key_required",
             apr_table_get(values, "api_key_required") != NULL);
    checkbox(r, "Active (listed in the catalog)", "is_active",
             apr_table_get(values, "is_active") != NULL);
    ap_rputs("<p><button type=\"submit\">Save</button></p></form>", r);
    if (editing) {
        ap_rprintf(r,
                   "<form method=\"post\" action=\"%s\"><input type=\"hidden\" name=\"action\" "
                   "value=\"delete\"><button type=\"submit\" class=\"danger\">Delete this model"
                   "</button></form>",
                   aic_e(r, action));
    }
    return aic_page_end(r);
}

/* The stored model as form values. */
static apr_table_t *values_from_tool(request_rec *r, const aic_json *t)
{
    apr_table_t *v = apr_table_make(r->pool, 16);
    static const char *const texts[] = {"slug",     "name",        "display_name", "provider",
                                        "model_id", "description", "avatar"};

    for (apr_size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        const char *s = str(r, t, texts[i]);

        if (s) {
            apr_table_setn(v, texts[i], s);
        }
    }
    if (str(r, aic_json_get(t, "category"), "id")) {
        apr_table_setn(v, "category_id", str(r, aic_json_get(t, "category"), "id"));
    }
    apr_table_setn(v, "capabilities", aic_json_dump(aic_json_get(t, "capabilities"), r->pool));
    apr_table_setn(v, "default_settings",
                   aic_json_dump(aic_json_get(t, "default_settings"), r->pool));
    if (aic_json_bool(aic_json_get(t, "api_key_required"))) {
        apr_table_setn(v, "api_key_required", "1");
    }
    if (aic_json_bool(aic_json_get(t, "is_active"))) {
        apr_table_setn(v, "is_active", "1");
    }
    return v;
}

/* The posted form as the JSON input of aic_catalog_tool_save; a JSON field
 * that does not parse is reported in *bad. */
static aic_json *input_from_form(aic_result *bad, request_rec *r, apr_table_t *form)
{
    aic_json *in = aic_json_object(r->pool);
    static const char *const texts[] = {"slug", "name", "provider", "model_id", "description"};
    static const char *const objects[] = {"capabilities", "default_settings"};
    const char *v;

    bad->status = HTTP_OK;
    for (apr_size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        aic_json_set_str(in, texts[i], (v = apr_table_get(form, texts[i])) ? v : "");
    }
    /* Empty optional fields mean "none". */
    v = apr_table_get(form, "display_name");
    aic_json_set_str(in, "display_name", v && *v ? v : apr_table_get(form, "name"));
    v = apr_table_get(form, "avatar");
    aic_json_set_str(in, "avatar", v && *v ? v : NULL);
    v = apr_table_get(form, "category_id");
    aic_json_set_str(in, "category_id", v && *v ? v : NULL);
    aic_json_set_bool(in, "api_key_required", apr_table_get(form, "api_key_required") != NULL);
    aic_json_set_bool(in, "is_active", apr_table_get(form, "is_active") != NULL);
    for (apr_size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
        const char *text = apr_table_get(form, objects[i]), *err = NULL;
        aic_json *obj = NULL;

        if (!text || !*text) {
            text = "{}";
        }
        if (aic_json_parse(&obj, &err, r->pool, text, strlen(text)) != APR_SUCCESS ||
            aic_json_typeof(obj) != AIC_JSON_OBJECT) {
            bad->status = HTTP_UNPROCESSABLE_ENTITY;
            bad->code = "invalid_field";
            bad->field = objects[i];
            bad->message = apr_psprintf(r->pool,
                                        "%s must be a JSON object such as "
                                        "{\"context_window\": 128000}.",
                                        objects[i]);
            bad->json = NULL;
            return NULL;
        }
        aic_json_set(in, objects[i], obj);
    }
    return in;
}

static int page_new(aic_ctx *ctx)
{
    apr_table_t *values = apr_table_make(ctx->r->pool, 4);

    apr_table_setn(values, "api_key_required", "1");
    apr_table_setn(values, "is_active", "1");
    apr_table_setn(values, "capabilities", "{\"context_window\": 8192, \"streaming\": true}");
    apr_table_setn(values, "default_settings", "{\"temperature\": 0.7}");
    return render_form(ctx, HTTP_OK, "New model",
                       apr_pstrcat(ctx->r->pool, base(ctx), "/new", NULL), values, NULL, 0);
}

static int page_create(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_table_t *form = aic_page_form(r);
    aic_result res;
    aic_json *in;

    if (!form) {
        return OK;
    }
    if ((in = input_from_form(&res, r, form))) {
        res = aic_catalog_tool_save(ctx, NULL, in);
    }
    if (res.status >= 400) {
        return render_form(ctx, res.status, "New model",
                           apr_pstrcat(r->pool, base(ctx), "/new", NULL), form, &res, 0);
    }
    return aic_page_redirect(r, base(ctx));
}

static int page_edit(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *slug = apr_table_get(ctx->params, "slug");
    aic_json *t = load_json(ctx, "admin_catalog_tool",
                            AIC_ARGS(ctx->conf->providers_sql, ctx->conf->keyed_sql, slug));

    if (!t) {
        return aic_page_error(r, HTTP_NOT_FOUND, "No such model.");
    }
    return render_form(ctx, HTTP_OK, apr_pstrcat(r->pool, "Edit ", str(r, t, "display_name"), NULL),
                       apr_pstrcat(r->pool, base(ctx), "/tools/", slug, NULL),
                       values_from_tool(r, t), NULL, 1);
}

static int page_update(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *slug = apr_table_get(ctx->params, "slug"), *action;
    apr_table_t *form = aic_page_form(r);
    aic_result res;
    aic_json *in;

    if (!form) {
        return OK;
    }
    action = apr_table_get(form, "action");
    if (action && !strcmp(action, "delete")) {
        res = aic_catalog_tool_delete(ctx, slug);
    } else if (action && !strcmp(action, "save")) {
        if ((in = input_from_form(&res, r, form))) {
            res = aic_catalog_tool_save(ctx, slug, in);
        }
    } else {
        return aic_page_error(r, HTTP_UNPROCESSABLE_ENTITY, "Unknown action.");
    }
    if (res.status == HTTP_NOT_FOUND) {
        return aic_page_error(r, HTTP_NOT_FOUND, "No such model.");
    }
    if (res.status >= 400) {
        return render_form(ctx, res.status, "Edit model",
                           apr_pstrcat(r->pool, base(ctx), "/tools/", slug, NULL), form, &res, 1);
    }
    return aic_page_redirect(r, base(ctx));
}

/* ---- categories ---- */

static int page_category_create(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_table_t *form = aic_page_form(r);
    aic_json *in = aic_json_object(r->pool);
    const char *v;
    aic_result res;

    if (!form) {
        return OK;
    }
    aic_json_set_str(in, "name", (v = apr_table_get(form, "name")) ? v : "");
    aic_json_set_str(in, "description", (v = apr_table_get(form, "description")) ? v : "");
    res = aic_catalog_category_save(ctx, NULL, in);
    if (res.status >= 400) {
        return aic_page_error(r, res.status, res.message);
    }
    return aic_page_redirect(r, base(ctx));
}

static int page_category_post(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_table_t *form = aic_page_form(r);
    const char *action;
    aic_result res;

    if (!form) {
        return OK;
    }
    action = apr_table_get(form, "action");
    if (!action || strcmp(action, "delete")) {
        return aic_page_error(r, HTTP_UNPROCESSABLE_ENTITY, "Unknown action.");
    }
    res = aic_catalog_category_delete(ctx, apr_table_get(ctx->params, "id"));
    if (res.status >= 400) {
        return aic_page_error(r, res.status, res.message);
    }
    return aic_page_redirect(r, base(ctx));
}

static const aic_endpoint ep_catalog = {page_catalog, AIC_EP_ADMIN};
static const aic_endpoint ep_new = {page_new, AIC_EP_ADMIN};
static const aic_endpoint ep_create = {page_create, AIC_EP_ADMIN};
static const aic_endpoint ep_edit = {page_edit, AIC_EP_ADMIN};
static const aic_endpoint ep_update = {page_update, AIC_EP_ADMIN};
static const aic_endpoint ep_category_create = {page_category_create, AIC_EP_ADMIN};
static const aic_endpoint ep_category_post = {page_category_post, AIC_EP_ADMIN};

const aic_route aic_catalog_page_routes[] = {
    {"GET", "/catalog", &ep_catalog},
    {"GET", "/catalog/new", &ep_new},
    {"POST", "/catalog/new", &ep_create},
    {"GET", "/catalog/tools/{slug}", &ep_edit},
    {"POST", "/catalog/tools/{slug}", &ep_update},
    {"POST", "/catalog/categories", &ep_category_create},
    {"POST", "/catalog/categories/{id}", &ep_category_post},
    {NULL, NULL, NULL}};
