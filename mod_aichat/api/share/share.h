/* What the files of the sharing capability share. */
#ifndef AIC_API_SHARE_H
#define AIC_API_SHARE_H

#include "api/aic_api.h"

#include <apr_time.h>

/* A live share as found by its token. */
typedef struct {
    const char *id, *snapshot, *title, *tools, *version;
    int is_public, indexable;
    apr_time_t expires, mtime;           /* expires 0: never */
    const char *shared_on, *expires_on;  /* dates for people; expires_on "" = never */
    const char *created_at, *expires_at; /* ISO for JSON; expires_at "" = never */
    const char *version_id;              /* "": the conversation up to snapshot */
    int show_annotations;                /* the page shows the messages' notes */
} aic_share;

/* ---- aic_share_render.c ---- */

/** The security headers of every answer of the share handler. */
void aic_share_security_headers(request_rec *r);
/** The share's body with the messages share_messages read: its JSON variant
 * (page 0: the whole thread) or page `page` of `pages` (token is the link's
 * own, for "Continue" and the links between pages). */
const char *aic_share_body(request_rec *r, const aic_share *s, const aic_rows *msgs, int page,
                           int pages, const char *token);
/** Answer 404 (unknown, revoked, malformed) or 410 (expired), as JSON or as a page. */
int aic_share_gone(request_rec *r, int status, int json);
/** Answer 404 for a page a live share does not have, with a link to its first. */
int aic_share_no_page(request_rec *r, const char *token);

/* ---- aic_share_page.c ---- */

/** GET /v1/shares/{token}: a share's content (the page's JSON variant) for a signed-in user. */
int aic_share_api_content(aic_ctx *ctx);

/* ---- aic_share_admin.c ---- */

/** GET /v1/admin/shares */
int aic_share_admin_api_list(aic_ctx *ctx);
/** DELETE /v1/admin/shares/{id} */
int aic_share_admin_api_revoke(aic_ctx *ctx);
/** The admin page of live shares. */
int aic_share_admin_page(aic_ctx *ctx);
/** POST /shares/{id}/revoke from the admin page. */
int aic_share_admin_page_revoke(aic_ctx *ctx);

#endif
