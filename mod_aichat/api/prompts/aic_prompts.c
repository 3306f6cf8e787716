/* Prompts and templates: favourite prompts linked to any number of models,
 * templates with typed {{variables}}, versions, usage counts and a public
 * gallery. This file holds the route table and what the others share; the
 * files are listed in prompts.h. */
#include "prompts.h"

#include <http_protocol.h>
#include <apr_strings.h>

#include "core/aic_valid.h"

int aic_prompts_invalid(request_rec *r, const char *field, const char *message)
{
    return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field", message, field);
}

int aic_prompts_refused(request_rec *r, const char *field, const char *message)
{
    aic_prompts_invalid(r, field, message);
    return HTTP_UNPROCESSABLE_ENTITY;
}

int aic_prompts_text(const char **out, request_rec *r, const aic_json *body, const char *key,
                     apr_size_t min, apr_size_t max, int multiline, int nullable)
{
    aic_json *v = aic_json_get(body, key);
    const char *problem;

    if (!aic_json_has(body, key) || (nullable && aic_json_typeof(v) == AIC_JSON_NULL)) {
        return OK;
    }
    if (aic_json_typeof(v) != AIC_JSON_STRING) {
        return aic_prompts_refused(r, key, apr_pstrcat(r->pool, key, " must be text.", NULL));
    }
    if ((problem = aic_valid_text(out, r->pool, aic_json_str(v, r->pool), min, max, multiline))) {
        return aic_prompts_refused(r, key, apr_pstrcat(r->pool, key, " ", problem, ".", NULL));
    }
    return OK;
}

apr_status_t aic_prompts_call(aic_json **res, aic_ctx *ctx, const char *label, const aic_json *args)
{
    const char *text = NULL;
    apr_status_t rv =
        aic_db_value(&text, ctx->db, label, AIC_ARGS(aic_json_dump(args, ctx->r->pool)));

    *res = NULL;
    if (rv != APR_SUCCESS) {
        return rv == APR_NOTFOUND ? APR_EGENERAL : rv;
    }
    *res = aic_json_from(ctx->r->pool, text);
    return aic_json_typeof(*res) == AIC_JSON_OBJECT ? APR_SUCCESS : APR_EGENERAL;
}

static const aic_endpoint ep_prompt_list = {aic_prompt_list, 0};
static const aic_endpoint ep_prompt_create = {aic_prompt_create, 0};
static const aic_endpoint ep_prompt_get = {aic_prompt_get, 0};
static const aic_endpoint ep_prompt_patch = {aic_prompt_patch, 0};
static const aic_endpoint ep_prompt_delete = {aic_prompt_delete, 0};
static const aic_endpoint ep_template_list = {aic_template_list, 0};
static const aic_endpoint ep_template_create = {aic_template_create, 0};
static const aic_endpoint ep_gallery = {aic_template_gallery, 0};
static const aic_endpoint ep_gallery_categories = {aic_template_gallery_categories, 0};
static const aic_endpoint ep_template_get = {aic_template_get, 0};
static const aic_endpoint ep_template_patch = {aic_template_patch, 0};
static const aic_endpoint ep_template_delete = {aic_template_delete, 0};
static const aic_endpoint ep_template_undelete = {aic_template_undelete, 0};
static const aic_endpoint ep_versions = {aic_template_versions, 0};
static const aic_endpoint ep_version_get = {aic_template_version_get, 0};
static const aic_endpoint ep_version_restore = {aic_template_version_restore, 0};
static const aic_endpoint ep_copy = {aic_template_copy, 0};
static const aic_endpoint ep_preview = {aic_template_preview, 0};
static const aic_endpoint ep_use = {aic_template_use, 0};
static const aic_endpoint ep_unpublish = {aic_template_unpublish, AIC_EP_ADMIN};

/* Literal segments before {id}: the first pattern that matches wins. */
const aic_route aic_prompts_routes[] = {
    {"GET", "/v1/prompts", &ep_prompt_list},
    {"POST", "/v1/prompts", &ep_prompt_create},
    {"GET", "/v1/prompts/{id}", &ep_prompt_get},
    {"PATCH", "/v1/prompts/{id}", &ep_prompt_patch},
    {"DELETE", "/v1/prompts/{id}", &ep_prompt_delete},
    {"GET", "/v1/templates", &ep_template_list},
    {"POST", "/v1/templates", &ep_template_create},
    {"GET", "/v1/templates/gallery", &ep_gallery},
    {"GET", "/v1/templates/gallery/categories", &ep_gallery_categories},
    {"GET", "/v1/templates/{id}", &ep_template_get},
    {"PATCH", "/v1/templates/{id}", &ep_template_patch},
    {"DELETE", "/v1/templates/{id}", &ep_template_delete},
    {"POST", "/v1/templates/{id}/restore", &ep_template_undelete},
    {"GET", "/v1/templates/{id}/versions", &ep_versions},
    {"GET", "/v1/templates/{id}/versions/{version}", &ep_version_get},
    {"POST", "/v1/templates/{id}/versions/{version}/restore", &ep_version_restore},
    {"POST", "/v1/templates/{id}/copy", &ep_copy},
    {"POST", "/v1/templates/{id}/preview", &ep_preview},
    {"POST", "/v1/templates/{id}/use", &ep_use},
    {"POST", "/v1/admin/templates/{id}/unpublish", &ep_unpublish},
    {NULL, NULL, NULL}};
