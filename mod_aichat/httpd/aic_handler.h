/* The handlers (aichat-api, aichat-admin, aichat-share) and what endpoints
 * see: one router per handler maps method + path to an endpoint. */
#ifndef AIC_HANDLER_H
#define AIC_HANDLER_H

#include <httpd.h>

#include "aic_auth.h"
#include "aic_config.h"
#include "aic_db.h"
#include "aic_http.h"
#include "core/aic_route.h"

typedef struct {
    request_rec *r;
    const aic_server_conf *conf;
    aic_db *db;          /**< NULL for AIC_EP_OWN_DB endpoints */
    aic_user *user;      /**< NULL for AIC_EP_PUBLIC endpoints */
    apr_table_t *params; /**< {name} values from the route pattern */
} aic_ctx;

typedef int (*aic_endpoint_fn)(aic_ctx *ctx);

/** Endpoint flags. */
#define AIC_EP_PUBLIC 0x1 /**< no signed-in user needed */
#define AIC_EP_ADMIN  0x2 /**< administrators only (checked again after Apache's Require) */
#define AIC_EP_OWN_DB 0x4 /**< acquires the database itself (health) */
#define AIC_EP_USER   0x8 /**< an aic_endpoint_user: loads the user with its own statement */

typedef struct {
    aic_endpoint_fn fn;
    unsigned flags;
} aic_endpoint;

/**
 * An endpoint that needs more than the user and reads it in the same round
 * trip: user_stmt names a statement as aic_user_current_with describes (the
 * extra columns reach the endpoint as ctx->user->extra). Routes point at
 * `ep`, whose flags include AIC_EP_USER.
 */
typedef struct {
    aic_endpoint ep;
    const char *user_stmt;
} aic_endpoint_user;

/** Which router a route table belongs to. */
typedef enum { AIC_ROUTER_API, AIC_ROUTER_ADMIN } aic_router_kind;

/** Reset the routers (pre_config). */
void aic_handler_reset(apr_pool_t *pconf);
/** Add a route table ending with {NULL} to a router (config time). */
void aic_handler_routes(aic_router_kind kind, const aic_route *table);
/** The content handler of aichat-api and aichat-admin (aichat-share is the sharing capability's).
 */
int aic_handler(request_rec *r);

#endif
