/* mod_aichat: an AI chat platform inside Apache httpd.
 * This file holds the module record, its hooks and its directive table only. */
#include <httpd.h>
#include <http_config.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_log.h>

#include "httpd/aic_audit.h"
#include "httpd/aic_auth.h"
#include "httpd/aic_authn_cache.h"
#include "httpd/aic_config.h"
#include "httpd/aic_curl.h"
#include "httpd/aic_db.h"
#include "httpd/aic_handler.h"
#include "httpd/aic_memo.h"
#include "httpd/aic_worker.h"
#include "api/aic_api.h"

static int aichat_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    aic_db_reset();
    aic_handler_reset(pconf);
    aic_worker_pre_config(pconf);
    aic_db_register(aic_auth_stmts);
    aic_db_register(aic_audit_stmts);
    aic_db_register(aic_me_stmts);
    aic_db_register(aic_admin_stmts);
    aic_db_register(aic_catalog_stmts);
    aic_db_register(aic_admin_catalog_stmts);
    aic_db_register(aic_chat_stmts);
    aic_db_register(aic_share_stmts);
    aic_db_register(aic_share_page_stmts);
    aic_db_register(aic_prompts_stmts);
    aic_db_register(aic_history_stmts);
    aic_db_register(aic_organise_stmts);
    aic_db_register(aic_search_stmts);
    aic_db_register(aic_keys_stmts);
    aic_db_register(aic_openai_stmts);
    aic_db_register(aic_imports_stmts);
    aic_handler_routes(AIC_ROUTER_API, aic_me_routes);
    aic_handler_routes(AIC_ROUTER_API, aic_admin_api_routes);
    aic_handler_routes(AIC_ROUTER_API, aic_catalog_routes);
    aic_handler_routes(AIC_ROUTER_API, aic_chat_routes);
    aic_handler_routes(AIC_ROUTER_API, aic_share_routes);
    aic_handler_routes(AIC_ROUTER_API, aic_prompts_routes);
    aic_handler_routes(AIC_ROUTER_API, aic_history_routes);
    aic_handler_routes(AIC_ROUTER_API, aic_organise_routes);
    aic_handler_routes(AIC_ROUTER_API, aic_search_routes);
    aic_handler_routes(AIC_ROUTER_API, aic_keys_routes);
    aic_handler_routes(AIC_ROUTER_API, aic_keys_usage_routes);
    aic_handler_routes(AIC_ROUTER_API, aic_imports_routes);
    aic_handler_routes(AIC_ROUTER_ADMIN, aic_admin_page_routes);
    aic_handler_routes(AIC_ROUTER_ADMIN, aic_catalog_page_routes);
    aic_handler_routes(AIC_ROUTER_ADMIN, aic_share_page_routes);
    aic_handler_routes(AIC_ROUTER_ADMIN, aic_keys_page_routes);
    return OK;
}

static int aichat_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    int rc;

    if ((rc = aic_db_post_config(pconf, s)) != OK || (rc = aic_memo_post_config(pconf, s)) != OK ||
        (rc = aic_config_post(pconf, s)) != OK ||
        (rc = aic_authn_cache_post_config(pconf, s)) != OK ||
        (rc = aic_catalog_post_config(pconf, s)) != OK ||
        (rc = aic_keys_post_config(pconf, s)) != OK ||
        (rc = aic_worker_post_config(pconf, s)) != OK) {
        return rc;
    }
    /* Before any thread exists: libcurl's global init is not thread-safe. */
    if (aic_curl_global_init(pconf) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "mod_aichat: curl_global_init failed");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    aic_share_post_config(pconf);
    return OK;
}

static void aichat_child_init(apr_pool_t *pchild, server_rec *s)
{
    aic_catalog_child_init(pchild, s);
    aic_authn_cache_child_init(pchild);
    aic_auth_child_init(pchild);
    aic_keys_child_init(pchild);
    aic_audit_child_init(pchild, s);
    aic_share_child_init(pchild, s);
    aic_chat_child_init(pchild, s);
    aic_openai_child_init(pchild, s);
    aic_worker_child_init(pchild, s);
    aic_imports_child_init(pchild, s);
    aic_summary_jobs_child_init(pchild, s);
    aic_curl_child_init(pchild);
}

static void aichat_register_hooks(apr_pool_t *p)
{
    static const char *const after_dbd[] = {"mod_dbd.c", NULL};

    ap_hook_pre_config(aichat_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(aichat_post_config, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(aichat_child_init, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_header_parser(aic_db_header_parser, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(aic_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(aic_share_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(aic_openai_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(aic_audit_log_transaction, NULL, NULL, APR_HOOK_MIDDLE);
    aic_auth_register(p);
    aic_signin_register();
    aic_authn_cache_register(p);
    aic_keys_register(p);
}

AP_DECLARE_MODULE(aichat) = {STANDARD20_MODULE_STUFF,
                             NULL,                  /* per-directory config */
                             NULL,                  /* merge per-directory */
                             aic_config_create,     /* per-server config */
                             aic_config_merge,      /* merge per-server */
                             aic_directives,        /* directives */
                             aichat_register_hooks, /* hooks */
                             AP_MODULE_FLAG_NONE};
