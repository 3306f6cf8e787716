/* What the files of the administration capability share: page sizes, the
 * list envelope, the admin area's base, and the endpoints the route tables
 * (aic_admin.c) point at. */
#ifndef AIC_API_ADMIN_H
#define AIC_API_ADMIN_H

#include "api/aic_api.h"

#define AIC_ADMIN_PAGE     50
#define AIC_ADMIN_PAGE_MAX 100

/** Send {"items", "next"} (or the failure rv). */
int aic_admin_send_list(request_rec *r, apr_status_t rv, aic_json *items, const char *next);

/** The admin area's base URI. */
const char *aic_admin_base(aic_ctx *ctx);

/* ---- aic_admin_users.c ---- */

/** GET /v1/admin/users */
int aic_admin_api_users(aic_ctx *ctx);
/** PATCH /v1/admin/users/{id} */
int aic_admin_api_user_patch(aic_ctx *ctx);
/** DELETE /v1/admin/users/{id}: a soft delete */
int aic_admin_api_user_delete(aic_ctx *ctx);
/** POST /v1/admin/users/{id}/restore */
int aic_admin_api_user_restore(aic_ctx *ctx);
/** POST /v1/admin/users/{id}/credits */
int aic_admin_api_user_credits(aic_ctx *ctx);
/** The users page. */
int aic_admin_page_users(aic_ctx *ctx);
/** The users page's forms. */
int aic_admin_page_user_post(aic_ctx *ctx);

/* ---- aic_admin_audit.c ---- */

/** GET /v1/admin/audit */
int aic_admin_api_audit(aic_ctx *ctx);
/** The audit page. */
int aic_admin_page_audit(aic_ctx *ctx);

#endif
