/* The history capability: a conversation's annotations (notes on a range of
 * a message's text), its versions (snapshots with a comment, compared and
 * restored as new conversations; one is taken before a branch is deleted)
 * and its AI summary. Every statement is one function of
 * sql/functions/history.sql taking one JSON argument and answering one JSON
 * object; a change writes its audit row in the same statement. Its files:
 * history.h. */
#include "history.h"
#include "httpd/aic_audit.h"

#include <apr_strings.h>

static const aic_endpoint ep_annotation_list = {aic_annotation_list, 0};
static const aic_endpoint ep_annotation_create = {aic_annotation_create, 0};
static const aic_endpoint ep_annotation_update = {aic_annotation_update, 0};
static const aic_endpoint ep_annotation_delete = {aic_annotation_delete, 0};
static const aic_endpoint ep_version_list = {aic_version_list, 0};
static const aic_endpoint ep_version_create = {aic_version_create, 0};
static const aic_endpoint ep_version_get = {aic_version_get, 0};
static const aic_endpoint ep_version_compare = {aic_version_compare, 0};
static const aic_endpoint ep_version_restore = {aic_version_restore, 0};
static const aic_endpoint ep_branch_delete = {aic_branch_delete, 0};
static const aic_endpoint ep_summary_create = {aic_summary_create, 0};
static const aic_endpoint ep_summary_job_get = {aic_summary_job_get, 0};
static const aic_endpoint ep_summary_job_list = {aic_summary_job_list, 0};
static const aic_endpoint ep_summary_job_cancel = {aic_summary_job_cancel, 0};

const aic_route aic_history_routes[] = {
    {"GET", "/v1/conversations/{id}/annotations", &ep_annotation_list},
    {"POST", "/v1/conversations/{id}/annotations", &ep_annotation_create},
    {"PATCH", "/v1/annotations/{id}", &ep_annotation_update},
    {"DELETE", "/v1/annotations/{id}", &ep_annotation_delete},
    {"GET", "/v1/conversations/{id}/versions", &ep_version_list},
    {"POST", "/v1/conversations/{id}/versions", &ep_version_create},
    {"GET", "/v1/versions/{id}", &ep_version_get},
    {"GET", "/v1/versions/{id}/diff", &ep_version_compare},
    {"POST", "/v1/versions/{id}/restore", &ep_version_restore},
    {"DELETE", "/v1/messages/{id}", &ep_branch_delete},
    {"POST", "/v1/conversations/{id}/summary", &ep_summary_create},
    {"GET", "/v1/summary-jobs", &ep_summary_job_list},
    {"GET", "/v1/summary-jobs/{id}", &ep_summary_job_get},
    {"DELETE", "/v1/summary-jobs/{id}", &ep_summary_job_cancel},
    {NULL, NULL, NULL}};

static int refusal_status(const char *code)
{
    static const struct {
        const char *code;
        int status;
    } map[] = {{"not_found", HTTP_NOT_FOUND},
               {"forbidden", HTTP_FORBIDDEN},
               {"invalid_field", HTTP_UNPROCESSABLE_ENTITY},
               {"conflict", HTTP_CONFLICT},
               {"summary_unavailable", HTTP_SERVICE_UNAVAILABLE}};

    for (apr_size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (!strcmp(map[i].code, code)) {
            return map[i].status;
        }
    }
    return HTTP_INTERNAL_SERVER_ERROR;
}

int aic_history_not_found(aic_ctx *ctx, const char *what)
{
    return aic_send_error(ctx->r, HTTP_NOT_FOUND, "not_found",
                          apr_pstrcat(ctx->r->pool, "No such ", what, ".", NULL), NULL);
}

int aic_history_refuse(aic_ctx *ctx, const aic_json *res, const char *code)
{
    request_rec *r = ctx->r;

    return aic_send_error(r, refusal_status(code), code,
                          aic_json_str(aic_json_get(res, "message"), r->pool),
                          aic_json_str(aic_json_get(res, "field"), r->pool));
}

int aic_history_answer(aic_ctx *ctx, const char *label, aic_json *args, int status,
                       const char *action, const char *entity)
{
    request_rec *r = ctx->r;
    const char *text = NULL, *code;
    aic_json *res, *body;
    apr_status_t rv;

    aic_json_set_str(args, "viewer", ctx->user->id);
    if (action) {
        aic_json_set(args, "audit", aic_audit_json(r, status, action, entity, NULL, NULL, NULL));
    }
    rv = aic_db_value(&text, ctx->db, label, AIC_ARGS(aic_json_dump(args, r->pool)));
    if (rv == APR_SUCCESS &&
        aic_json_typeof(res = aic_json_from(r->pool, text)) != AIC_JSON_OBJECT) {
        rv = APR_EGENERAL;
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if ((code = aic_json_str(aic_json_get(res, "code"), r->pool))) {
        return aic_history_refuse(ctx, res, code);
    }
    if (action) {
        aic_req_get(r)->audited = 1;
    }
    body = aic_json_get(res, "body");
    if (aic_json_typeof(body) == AIC_JSON_NULL) {
        r->status = HTTP_NO_CONTENT;
        apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
        return OK;
    }
    return aic_send_json(r, status, body);
}
