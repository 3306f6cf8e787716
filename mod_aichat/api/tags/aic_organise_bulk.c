/* POST /conversations/bulk {"ids": [...], "action", "tag_id"?}: one action
 * on up to AIC_ORGANISE_BULK_MAX conversations, all or nothing, in one
 * statement that also writes one audit row per conversation
 * (organise_bulk). Tag and untag apply to what the user may see; archive,
 * unarchive, delete, restore and export to their own conversations (restore
 * to their deleted ones). An id the user may not act on makes the whole
 * request 404, naming it. Export changes nothing: once the statement has
 * checked the ids and written their audit rows, the answer is the imports
 * capability's ZIP of them (aic_imports_export_send). Summarise queues a
 * summary job over them (202 with the job; the history capability's
 * worker makes the summaries, GET /summary-jobs/{id} follows it). */
#include "organise.h"
#include "api/imports/imports.h"

#include <apr_strings.h>

#include "core/aic_valid.h"

static const char *const actions[] = {"tag",     "untag",  "archive",   "unarchive", "delete",
                                      "restore", "export", "summarise", NULL};

int aic_organise_bulk(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *body = NULL, *ids, *list, *args, *res;
    const char *action, *tag = NULL;
    apr_array_header_t *chosen;
    int known = 0, rc;

    if (aic_read_json_object(&body, r) != OK ||
        aic_refuse_unknown_fields(r, body, (const char *const[]){"ids", "action", "tag_id", NULL},
                                  "bulk action") != OK) {
        return OK;
    }
    action = aic_json_str(aic_json_get(body, "action"), r->pool);
    for (int i = 0; action && actions[i]; i++) {
        known |= !strcmp(action, actions[i]);
    }
    if (!known) {
        return aic_send_error(
            r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
            "action must be tag, untag, archive, unarchive, delete, restore, export or summarise.",
            "action");
    }
    ids = aic_json_get(body, "ids");
    if (aic_json_typeof(ids) != AIC_JSON_ARRAY || aic_json_len(ids) < 1 ||
        aic_json_len(ids) > AIC_ORGANISE_BULK_MAX) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_psprintf(r->pool,
                                           "ids must be a list of 1 to %d conversation ids.",
                                           AIC_ORGANISE_BULK_MAX),
                              "ids");
    }
    list = aic_json_array(r->pool);
    chosen = apr_array_make(r->pool, (int)aic_json_len(ids), sizeof(const char *));
    for (apr_size_t i = 0; i < aic_json_len(ids); i++) {
        const char *id = aic_json_str(aic_json_at(ids, i), r->pool);

        if (aic_json_typeof(aic_json_at(ids, i)) != AIC_JSON_STRING || !aic_valid_uuid(id)) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "ids must be a list of conversation ids.", "ids");
        }
        aic_json_push_str(list, id);
        APR_ARRAY_PUSH(chosen, const char *) = id;
    }
    if (!strcmp(action, "tag") || !strcmp(action, "untag")) {
        tag = aic_json_str(aic_json_get(body, "tag_id"), r->pool);
        if (!aic_valid_uuid(tag)) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "tag_id must name one of your tags.", "tag_id");
        }
    } else if (aic_json_has(body, "tag_id")) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "tag_id goes only with tag and untag.", "tag_id");
    }
    args = aic_json_object(r->pool);
    aic_json_set(args, "ids", list);
    aic_json_set_str(args, "action", action);
    aic_json_set_str(args, "tag", tag);
    if (!strcmp(action, "summarise")) {
        if (!ctx->conf->summary_model) {
            return aic_send_error(r, HTTP_SERVICE_UNAVAILABLE, "summary_unavailable",
                                  "This server has no summary model (AIChatSummaryModel).", NULL);
        }
        aic_json_set_str(args, "model", ctx->conf->summary_model);
        rc = aic_organise_run(&res, ctx, "organise_bulk", args, HTTP_ACCEPTED, action,
                              "conversation", "conversation");
        if (!res) {
            return rc;
        }
        aic_summary_jobs_wake();
        return aic_send_json(r, HTTP_ACCEPTED, aic_json_get(res, "job"));
    }
    if (strcmp(action, "export") != 0) {
        return aic_organise_change(ctx, "organise_bulk", args, HTTP_OK, action, "conversation",
                                   NULL, "conversation");
    }
    rc = aic_organise_run(&res, ctx, "organise_bulk", args, HTTP_OK, action, "conversation",
                          "conversation");
    if (!res) {
        return rc;
    }
    return aic_imports_export_send(
        ctx, apr_pstrcat(r->pool, "{", apr_array_pstrcat(r->pool, chosen, ','), "}", NULL));
}
