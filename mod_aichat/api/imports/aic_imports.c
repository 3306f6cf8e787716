/* The imports capability: chat exports of other services in (a job per
 * upload, worked by any process's worker thread), the library out (JSON,
 * Markdown, a ChatGPT-format conversations.json). Its files: imports.h. */
#include "imports.h"

static const aic_endpoint ep_upload = {aic_imports_upload, 0};
static const aic_endpoint ep_list = {aic_imports_list, 0};
static const aic_endpoint ep_get = {aic_imports_get, 0};
static const aic_endpoint ep_conversations = {aic_imports_conversations, 0};
static const aic_endpoint ep_events = {aic_imports_events, 0};
static const aic_endpoint ep_cancel = {aic_imports_cancel, 0};
static const aic_endpoint ep_export_one = {aic_imports_export_one, 0};
static const aic_endpoint ep_export_zip = {aic_imports_export_zip, 0};

const aic_route aic_imports_routes[] = {
    {"POST", "/v1/imports", &ep_upload},
    {"GET", "/v1/imports", &ep_list},
    {"GET", "/v1/imports/{id}", &ep_get},
    {"GET", "/v1/imports/{id}/conversations", &ep_conversations},
    {"GET", "/v1/imports/{id}/events", &ep_events},
    {"DELETE", "/v1/imports/{id}", &ep_cancel},
    {"GET", "/v1/conversations/{id}/export", &ep_export_one},
    {"POST", "/v1/exports", &ep_export_zip},
    {NULL, NULL, NULL}};
