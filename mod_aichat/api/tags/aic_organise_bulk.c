/* POST /conversations/bulk {"ids": [...] | "filter": {...}, "action",
 * "tag_id"?}: one action on up to AIC_ORGANISE_BULK_MAX conversations named
 * by id, or on all those that match the conversation list's filter (up to
 * AIC_ORGANISE_BULK_MATCH_MAX), all or nothing, in one statement that also
 * writes one audit row per conversation (organise_bulk). Tag and untag apply
 * to what the user may see; archive, unarchive, delete, restore and export
 * to their own conversations (restore to their deleted ones). An id the user
 * may not act on makes the whole request 404, naming it; a filter acts on
 * those of its matches the action applies to. Export changes nothing: once
 * the statement has checked the conversations and written their audit rows,
 * the answer is the imports capability's ZIP of them
 * (aic_imports_export_send). Summarise queues a summary job over them (202
 * with the job; the history capability's worker makes the summaries, GET
 * /summary-jobs/{id} follows it).
 * GET /conversations/bulk/count?<the list's filter>: how many match. */
#include "organise.h"
#include "api/imports/imports.h"

#include <apr_strings.h>

#include "core/aic_valid.h"

static const char *const actions[] = {"tag",     "untag",  "archive",   "unarchive", "delete",
                                      "restore", "export", "summarise", NULL};

/* 422 for a filter's parameter (field filter.<name>), sent; returns its status. */
static int refuse_filter(request_rec *r, const char *code, const char *name, const char *message)
{
    aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, code, message,
                   apr_pstrcat(r->pool, "filter.", name, NULL));
    return HTTP_UNPROCESSABLE_ENTITY;
}

/* 422 for field, sent; returns its status. */
static int refuse(request_rec *r, const char *message, const char *field)
{
    aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field", message, field);
    return HTTP_UNPROCESSABLE_ENTITY;
}

/* The filter of a bulk action on all that match: an object of the
 * conversation list's parameters (AIC_CHAT_LIST_PARAMS) as GET
 * /conversations takes them, strings (a boolean, and tags as a list of ids,
 * are taken too), read by the list's own reader into *out. Returns OK, or
 * the status of the error it sent (*out NULL). */
static int read_filter(aic_json **out, request_rec *r, const aic_json *filter)
{
    static const char *const keys[] = {AIC_CHAT_LIST_PARAMS, NULL};
    apr_table_t *params = apr_table_make(r->pool, 8);
    const char *key, *err, *field;

    *out = NULL;
    if (aic_json_typeof(filter) != AIC_JSON_OBJECT) {
        return refuse(r, "filter must be an object of the conversation list's parameters.",
                      "filter");
    }
    if ((key = aic_json_unknown_key(filter, keys, r->pool))) {
        return refuse_filter(
            r, "unknown_field", key,
            apr_psprintf(r->pool, "'%s' is not a filter of the conversation list.", key));
    }
    for (int i = 0; keys[i]; i++) {
        const aic_json *v = aic_json_get(filter, keys[i]);
        const char *value = NULL;

        switch (aic_json_typeof(v)) {
        case AIC_JSON_NULL:
            continue;
        case AIC_JSON_STRING:
            value = aic_json_str(v, r->pool);
            break;
        case AIC_JSON_BOOL:
            value = aic_json_bool(v) ? "true" : "false";
            break;
        case AIC_JSON_ARRAY:
            if (!strcmp(keys[i], "tags")) {
                value = "";
                for (apr_size_t j = 0; value && j < aic_json_len(v); j++) {
                    value = aic_json_typeof(aic_json_at(v, j)) != AIC_JSON_STRING
                                ? NULL
                                : apr_pstrcat(r->pool, value, j ? "," : "",
                                              aic_json_str(aic_json_at(v, j), r->pool), NULL);
                }
            }
            break;
        default:
            break;
        }
        if (!value) {
            return refuse_filter(
                r, "invalid_field", keys[i],
                apr_psprintf(r->pool, "filter.%s must be a string%s.", keys[i],
                             !strcmp(keys[i], "tags") ? " or a list of tag ids" : ""));
        }
        apr_table_setn(params, keys[i], value);
    }
    if ((err = aic_chat_list_filter(out, &field, r->pool, params))) {
        *out = NULL;
        return refuse_filter(r, "invalid_field", field,
                             apr_pstrcat(r->pool, "filter.", err, ".", NULL));
    }
    return OK;
}

/* The ids of a bulk request as a JSON array into *out. Returns OK, or the
 * status of the error it sent (*out NULL). */
static int read_ids(aic_json **out, request_rec *r, const aic_json *ids)
{
    *out = NULL;
    if (aic_json_typeof(ids) != AIC_JSON_ARRAY || aic_json_len(ids) < 1 ||
        aic_json_len(ids) > AIC_ORGANISE_BULK_MAX) {
        return refuse(r,
                      apr_psprintf(r->pool,
                                   "ids must be a list of 1 to %d conversation ids, "
                                   "or give a filter instead.",
                                   AIC_ORGANISE_BULK_MAX),
                      "ids");
    }
    *out = aic_json_array(r->pool);
    for (apr_size_t i = 0; i < aic_json_len(ids); i++) {
        const char *id = aic_json_str(aic_json_at(ids, i), r->pool);

        if (aic_json_typeof(aic_json_at(ids, i)) != AIC_JSON_STRING || !aic_valid_uuid(id)) {
            *out = NULL;
            return refuse(r, "ids must be a list of conversation ids.", "ids");
        }
        aic_json_push_str(*out, id);
    }
    return OK;
}

int aic_organise_bulk(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *body = NULL, *list = NULL, *filter = NULL, *args, *res, *done;
    const char *action, *tag = NULL;
    apr_array_header_t *chosen;
    int known = 0, rc;

    if (aic_read_json_object(&body, r) != OK ||
        aic_refuse_unknown_fields(r, body,
                                  (const char *const[]){"ids", "filter", "action", "tag_id", NULL},
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
    if (aic_json_has(body, "filter")) {
        if (aic_json_has(body, "ids")) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "Give ids or a filter, not both.", "filter");
        }
        if (read_filter(&filter, r, aic_json_get(body, "filter")) != OK) {
            return OK;
        }
        /* A deleted chat can only be restored, and restore acts on deleted
         * chats only: the list of deleted chats (deleted=true). */
        if (aic_json_bool(aic_json_get(filter, "deleted")) != !strcmp(action, "restore")) {
            refuse_filter(
                r, "invalid_field", "deleted",
                !strcmp(action, "restore")
                    ? "restore acts on deleted chats: filter.deleted must be true."
                    : "Deleted chats can only be restored: filter.deleted must be false.");
            return OK;
        }
    } else if (read_ids(&list, r, aic_json_get(body, "ids")) != OK) {
        return OK;
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
    if (filter) {
        aic_json_set(args, "filter", filter);
        /* A summary job is paid chat by chat and lists its chats: no more
         * than the ids form names. */
        aic_json_set_int(args, "max",
                         !strcmp(action, "summarise") ? AIC_ORGANISE_BULK_MAX
                                                      : AIC_ORGANISE_BULK_MATCH_MAX);
    } else {
        aic_json_set(args, "ids", list);
    }
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
        if (aic_json_typeof(aic_json_get(res, "job")) != AIC_JSON_OBJECT) {
            /* No chat of the filter's to summarise: nothing queued (the
             * statement audited the request as 200). */
            return aic_send_json(r, HTTP_OK, res);
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
    /* The ZIP of the conversations checked, as a uuid[] literal ("{}" when
     * a filter matched none: an empty ZIP). */
    done = aic_json_get(res, "ids");
    chosen = apr_array_make(r->pool, (int)aic_json_len(done) + 1, sizeof(const char *));
    for (apr_size_t i = 0; i < aic_json_len(done); i++) {
        APR_ARRAY_PUSH(chosen, const char *) = aic_json_str(aic_json_at(done, i), r->pool);
    }
    return aic_imports_export_send(
        ctx, apr_pstrcat(r->pool, "{", apr_array_pstrcat(r->pool, chosen, ','), "}", NULL));
}

int aic_organise_bulk_count(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *filter;
    const char *text = NULL, *err, *field;
    apr_status_t rv;

    if ((err = aic_chat_list_filter(&filter, &field, r->pool, aic_query_args(r)))) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_pstrcat(r->pool, err, ".", NULL), field);
    }
    aic_json_set_str(filter, "viewer", ctx->user->id);
    rv = aic_db_value(&text, ctx->db, "organise_bulk_count",
                      AIC_ARGS(aic_json_dump(filter, r->pool)));
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, text);
}
