/* Organise: tags with colours, tagging, bulk actions on conversations and
 * saved searches. Its files: organise.h. */
#include "organise.h"
#include "httpd/aic_audit.h"

#include <apr_strings.h>

static const aic_endpoint ep_tags_list = {aic_organise_tags_list, 0};
static const aic_endpoint ep_tag_create = {aic_organise_tag_create, 0};
static const aic_endpoint ep_tag_update = {aic_organise_tag_update, 0};
static const aic_endpoint ep_tag_delete = {aic_organise_tag_delete, 0};
static const aic_endpoint ep_tag_put = {aic_organise_tag_put, 0};
static const aic_endpoint ep_tag_remove = {aic_organise_tag_remove, 0};
static const aic_endpoint ep_bulk = {aic_organise_bulk, 0};
static const aic_endpoint ep_bulk_count = {aic_organise_bulk_count, 0};
static const aic_endpoint ep_saved_list = {aic_organise_saved_list, 0};
static const aic_endpoint ep_saved_create = {aic_organise_saved_create, 0};
static const aic_endpoint ep_saved_update = {aic_organise_saved_update, 0};
static const aic_endpoint ep_saved_delete = {aic_organise_saved_delete, 0};

const aic_route aic_organise_routes[] = {
    {"GET", "/v1/tags", &ep_tags_list},
    {"POST", "/v1/tags", &ep_tag_create},
    {"PATCH", "/v1/tags/{id}", &ep_tag_update},
    {"DELETE", "/v1/tags/{id}", &ep_tag_delete},
    {"PUT", "/v1/conversations/{id}/tags/{tag_id}", &ep_tag_put},
    {"DELETE", "/v1/conversations/{id}/tags/{tag_id}", &ep_tag_remove},
    {"POST", "/v1/conversations/bulk", &ep_bulk},
    {"GET", "/v1/conversations/bulk/count", &ep_bulk_count},
    {"GET", "/v1/saved-searches", &ep_saved_list},
    {"POST", "/v1/saved-searches", &ep_saved_create},
    {"PATCH", "/v1/saved-searches/{id}", &ep_saved_update},
    {"DELETE", "/v1/saved-searches/{id}", &ep_saved_delete},
    {NULL, NULL, NULL}};

/* Each change is one statement: a function of sql/functions/organise.sql
 * taking one JSON argument (with the request's audit row) and answering one. */
const aic_stmt aic_organise_stmts[] = {
    {"organise_tags", "SELECT organise_tags(%s::uuid)::text"},
    {"organise_tag_save", "SELECT organise_tag_save(%s::json)::text"},
    {"organise_tag_delete", "SELECT organise_tag_delete(%s::json)::text"},
    {"organise_tag_conversation", "SELECT organise_tag_conversation(%s::json)::text"},
    {"organise_bulk", "SELECT organise_bulk(%s::json)::text"},
    {"organise_bulk_count", "SELECT organise_bulk_count(%s::json)::text"},
    {"organise_saved_searches", "SELECT organise_saved_searches(%s::uuid)::text"},
    {"organise_saved_search_save", "SELECT organise_saved_search_save(%s::json)::text"},
    {"organise_saved_search_delete", "SELECT organise_saved_search_delete(%s::json)::text"},
    {NULL, NULL}};

int aic_organise_change(aic_ctx *ctx, const char *label, aic_json *args, int status,
                        const char *action, const char *entity_type, const char *key,
                        const char *what)
{
    request_rec *r = ctx->r;
    aic_json *res;
    int rc = aic_organise_run(&res, ctx, label, args, status, action, entity_type, what);

    if (!res) {
        return rc;
    }
    if (status == HTTP_NO_CONTENT) {
        r->status = HTTP_NO_CONTENT;
        apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
        return OK;
    }
    return key ? aic_send_json(r, status, aic_json_get(res, key)) : aic_send_json(r, status, res);
}

int aic_organise_run(aic_json **out, aic_ctx *ctx, const char *label, aic_json *args, int status,
                     const char *action, const char *entity_type, const char *what)
{
    request_rec *r = ctx->r;
    const char *text = NULL, *code;
    aic_json *res;
    apr_status_t rv;

    *out = NULL;
    aic_json_set_str(args, "viewer", ctx->user->id);
    aic_json_set(args, "audit", aic_audit_json(r, status, action, entity_type, NULL, NULL, NULL));
    rv = aic_db_value(&text, ctx->db, label, AIC_ARGS(aic_json_dump(args, r->pool)));
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    res = aic_json_from(r->pool, text);
    if ((code = aic_json_str(aic_json_get(res, "error"), r->pool))) {
        if (!strcmp(code, "name_taken")) {
            return aic_send_error(
                r, HTTP_CONFLICT, "name_taken",
                apr_psprintf(r->pool, "You already have a %s of this name.", what), "name");
        }
        if (!strcmp(code, "too_many")) {
            return aic_send_error(r, HTTP_CONFLICT, "too_many",
                                  apr_psprintf(r->pool,
                                               "You have as many of each %s as one may "
                                               "have; delete one first.",
                                               what),
                                  NULL);
        }
        if (!strcmp(code, "summary_unavailable")) {
            return aic_send_error(r, HTTP_SERVICE_UNAVAILABLE, code,
                                  "The summary model is not available now.", NULL);
        }
        if (!strcmp(code, "too_many_matches")) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, code,
                                  apr_psprintf(r->pool,
                                               "More than %d %ss match the filter; one request "
                                               "acts on at most that many: narrow the filter.",
                                               (int)aic_json_int(aic_json_get(res, "max")), what),
                                  "filter");
        }
        if (!strcmp(code, "tag_not_found")) {
            return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such tag.", "tag_id");
        }
        if (aic_json_typeof(aic_json_get(res, "ids")) == AIC_JSON_ARRAY &&
            aic_json_len(aic_json_get(res, "ids")) > 0) {
            aic_json *ids = aic_json_get(res, "ids");

            return aic_send_error(r, HTTP_NOT_FOUND, "not_found",
                                  apr_psprintf(r->pool, "No such %s: %s (%d of the ids).", what,
                                               aic_json_str(aic_json_at(ids, 0), r->pool),
                                               (int)aic_json_len(ids)),
                                  "ids");
        }
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found",
                              apr_psprintf(r->pool, "No such %s.", what), NULL);
    }
    aic_req_get(r)->audited = 1;
    *out = res;
    return OK;
}
