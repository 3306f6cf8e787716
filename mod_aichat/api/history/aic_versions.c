/* Versions: snapshots of a conversation (title, system prompt, settings,
 * models, tags, the messages of its visible thread) with a comment, taken on
 * demand or before a branch is deleted; listed, viewed, compared message by
 * message, and restored as a new conversation of the one who asks (never
 * over the old one). Everyone who takes part in a conversation may take,
 * read and restore its versions; its owner alone deletes a branch. */
#include "history.h"

#include <apr_strings.h>

#include "core/aic_valid.h"

#define COMMENT_MAX       500
#define VERSIONS_PAGE     20
#define VERSIONS_PAGE_MAX 100

/* GET /conversations/{id}/versions?limit=&after=: a page, newest first. */
int aic_version_list(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_table_t *q = aic_query_args(r);
    const char *conv = apr_table_get(ctx->params, "id"), *after = apr_table_get(q, "after");
    int limit = aic_valid_limit(apr_table_get(q, "limit"), VERSIONS_PAGE, VERSIONS_PAGE_MAX);
    aic_json *args = aic_json_object(r->pool);

    if (!aic_valid_uuid(conv)) {
        return aic_history_not_found(ctx, "conversation");
    }
    if (limit < 0) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_psprintf(r->pool, "limit must be 1 to %d.", VERSIONS_PAGE_MAX),
                              "limit");
    }
    /* The cursor the statement issues: "cv", the last version's id and its
     * creation. */
    if (aic_list_after(r, args, after, "cv") != OK) {
        return OK;
    }
    aic_json_set_str(args, "conv", conv);
    aic_json_set_int(args, "limit", limit);
    return aic_history_answer(ctx, "history_version_list", args, HTTP_OK, NULL, NULL);
}

int aic_version_create(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *conv = apr_table_get(ctx->params, "id"), *comment = "", *err;
    aic_json *body = NULL, *args = aic_json_object(r->pool);

    if (aic_read_json_object(&body, r) != OK) {
        return OK;
    }
    if (aic_refuse_unknown_fields(r, body, (const char *const[]){"comment", NULL}, "version") !=
        OK) {
        return OK;
    }
    if (!aic_valid_uuid(conv)) {
        return aic_history_not_found(ctx, "conversation");
    }
    if (aic_json_has(body, "comment") &&
        (err =
             aic_valid_text(&comment, r->pool, aic_json_str(aic_json_get(body, "comment"), r->pool),
                            0, COMMENT_MAX, 1))) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_pstrcat(r->pool, "comment ", err, ".", NULL), "comment");
    }
    aic_json_set_str(args, "conv", conv);
    aic_json_set_str(args, "comment", comment);
    return aic_history_answer(ctx, "history_version_create", args, HTTP_CREATED, "create",
                              "version");
}

int aic_version_get(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id");
    aic_json *args = aic_json_object(ctx->r->pool);

    if (!aic_valid_uuid(id)) {
        return aic_history_not_found(ctx, "version");
    }
    aic_json_set_str(args, "id", id);
    return aic_history_answer(ctx, "history_version_get", args, HTTP_OK, NULL, NULL);
}

/* GET /versions/{id}/diff?with={other}: from this version to the other. */
int aic_version_compare(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id");
    const char *other = apr_table_get(aic_query_args(ctx->r), "with");
    aic_json *args = aic_json_object(ctx->r->pool);

    if (!aic_valid_uuid(id)) {
        return aic_history_not_found(ctx, "version");
    }
    if (!aic_valid_uuid(other)) {
        return aic_send_error(ctx->r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "with must be a version of the same conversation.", "with");
    }
    aic_json_set_str(args, "id", id);
    aic_json_set_str(args, "other", other);
    return aic_history_answer(ctx, "history_version_compare", args, HTTP_OK, NULL, NULL);
}

int aic_version_restore(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id");
    aic_json *args = aic_json_object(ctx->r->pool);

    if (!aic_valid_uuid(id)) {
        return aic_history_not_found(ctx, "version");
    }
    aic_json_set_str(args, "id", id);
    return aic_history_answer(ctx, "history_version_restore", args, HTTP_CREATED, "restore",
                              "conversation");
}

/* DELETE /messages/{id}: the message and everything below it, after a
 * version of the path through it. */
int aic_branch_delete(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id");
    aic_json *args = aic_json_object(ctx->r->pool);

    if (!aic_valid_uuid(id)) {
        return aic_history_not_found(ctx, "message");
    }
    aic_json_set_str(args, "id", id);
    return aic_history_answer(ctx, "history_branch_delete", args, HTTP_OK, "delete_branch",
                              "message");
}
