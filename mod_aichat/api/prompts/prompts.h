/* What the prompts capability's files share (private to api/prompts/):
 *   aic_prompts.c           the route table and the helpers below
 *   aic_prompts_stmts.c     its statements
 *   aic_prompts_api.c       favourite prompts: a title and a text for any number of models
 *   aic_templates_api.c     templates: create, change (a new version each), versions,
 *                           delete and restore, copy, an administrator's unpublish
 *   aic_templates_use.c     a template filled with values: shown, counted, or sent
 *   aic_templates_gallery.c everyone's public templates
 * The {{variable}} syntax and the typed variables are core/aic_template.h;
 * the SQL functions are in sql/functions/prompts.sql. */
#ifndef AIC_API_PROMPTS_H
#define AIC_API_PROMPTS_H

#include "api/aic_api.h"
#include "httpd/aic_audit.h"

/** How many prompts, and templates, one user may keep. */
#define AIC_PROMPTS_MAX   500
#define AIC_TEMPLATES_MAX 500

/** Send a 422 invalid_field naming field; returns OK, for an endpoint to return. */
int aic_prompts_invalid(request_rec *r, const char *field, const char *message);
/** The same for a helper whose caller must stop: returns 422 (never OK). */
int aic_prompts_refused(request_rec *r, const char *field, const char *message);

/**
 * The text of body[key] checked as aic_valid_text does (min..max characters,
 * several lines when multiline) into *out: OK, or the 422 naming key already
 * sent and its status returned. An absent key leaves *out alone, and so
 * does null when nullable (else null is refused).
 */
int aic_prompts_text(const char **out, request_rec *r, const aic_json *body, const char *key,
                     apr_size_t min, apr_size_t max, int multiline, int nullable);

/**
 * Run a labelled statement returning one JSON object with a `code` (NULL
 * when it wrote what it was asked to): *res holds it. APR_SUCCESS, or the
 * aic_db error (for aic_send_failure).
 */
apr_status_t aic_prompts_call(aic_json **res, aic_ctx *ctx, const char *label,
                              const aic_json *args);

/* ---- aic_prompts_api.c ---- */

int aic_prompt_list(aic_ctx *ctx);
int aic_prompt_create(aic_ctx *ctx);
int aic_prompt_get(aic_ctx *ctx);
int aic_prompt_patch(aic_ctx *ctx);
int aic_prompt_delete(aic_ctx *ctx);

/* ---- aic_templates_api.c ---- */

int aic_template_list(aic_ctx *ctx);
int aic_template_create(aic_ctx *ctx);
int aic_template_get(aic_ctx *ctx);
int aic_template_patch(aic_ctx *ctx);
int aic_template_delete(aic_ctx *ctx);
int aic_template_undelete(aic_ctx *ctx);
int aic_template_versions(aic_ctx *ctx);
int aic_template_version_get(aic_ctx *ctx);
int aic_template_version_restore(aic_ctx *ctx);
int aic_template_copy(aic_ctx *ctx);
int aic_template_unpublish(aic_ctx *ctx);

/* ---- aic_templates_use.c ---- */

int aic_template_preview(aic_ctx *ctx);
int aic_template_use(aic_ctx *ctx);

/* ---- aic_templates_gallery.c ---- */

int aic_template_gallery(aic_ctx *ctx);
int aic_template_gallery_categories(aic_ctx *ctx);

#endif
