/* Tags: a user's own labels with a colour, listed with how many
 * conversations carry them; put on and taken off a conversation its user may
 * see (own or taken part in). Another user's tag is 404. */
#include "organise.h"

#include <apr_strings.h>

#include "core/aic_valid.h"

#define TAG_NAME_MAX  50
#define DEFAULT_COLOR "#64748b"

int aic_organise_tags_list(aic_ctx *ctx)
{
    const char *text = NULL;
    apr_status_t rv = aic_db_value(&text, ctx->db, "organise_tags", AIC_ARGS(ctx->user->id));

    if (rv != APR_SUCCESS) {
        return aic_send_failure(ctx->r, rv);
    }
    return aic_send_json_text(ctx->r, HTTP_OK, text);
}

/* The name and colour of a tag's body into args (those present; both when
 * creating). Returns OK, or the status of the error it sent. */
static int read_tag(aic_json *args, aic_ctx *ctx, int creating)
{
    request_rec *r = ctx->r;
    aic_json *body = NULL;
    const char *name = NULL, *color = DEFAULT_COLOR, *err;
    int rc;

    if ((rc = aic_read_json_object(&body, r)) != OK) {
        return rc;
    }
    if ((rc = aic_refuse_unknown_fields(r, body, (const char *const[]){"name", "color", NULL},
                                        "tag")) != OK) {
        return rc;
    }
    if ((creating || aic_json_has(body, "name")) &&
        (err = aic_valid_text(&name, r->pool, aic_json_str(aic_json_get(body, "name"), r->pool), 1,
                              TAG_NAME_MAX, 0))) {
        aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                       apr_pstrcat(r->pool, "name ", err, ".", NULL), "name");
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    if (aic_json_has(body, "color") &&
        (err = aic_valid_color(&color, r->pool,
                               aic_json_str(aic_json_get(body, "color"), r->pool)))) {
        aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                       apr_pstrcat(r->pool, "color ", err, ".", NULL), "color");
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    aic_json_set_str(args, "name", name);
    aic_json_set_str(args, "color", creating || aic_json_has(body, "color") ? color : NULL);
    return OK;
}

int aic_organise_tag_create(aic_ctx *ctx)
{
    aic_json *args = aic_json_object(ctx->r->pool);

    if (read_tag(args, ctx, 1) != OK) {
        return OK;
    }
    aic_json_set_int(args, "max", AIC_ORGANISE_MAX_TAGS);
    return aic_organise_change(ctx, "organise_tag_save", args, HTTP_CREATED, "create", "tag", "tag",
                               "tag");
}

int aic_organise_tag_update(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id");
    aic_json *args = aic_json_object(ctx->r->pool);

    if (!aic_valid_uuid(id)) {
        return aic_send_error(ctx->r, HTTP_NOT_FOUND, "not_found", "No such tag.", NULL);
    }
    if (read_tag(args, ctx, 0) != OK) {
        return OK;
    }
    aic_json_set_str(args, "id", id);
    return aic_organise_change(ctx, "organise_tag_save", args, HTTP_OK, "update", "tag", "tag",
                               "tag");
}

int aic_organise_tag_delete(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id");
    aic_json *args = aic_json_object(ctx->r->pool);

    if (!aic_valid_uuid(id)) {
        return aic_send_error(ctx->r, HTTP_NOT_FOUND, "not_found", "No such tag.", NULL);
    }
    aic_json_set_str(args, "id", id);
    return aic_organise_change(ctx, "organise_tag_delete", args, HTTP_NO_CONTENT, "delete", "tag",
                               NULL, "tag");
}

/* PUT or DELETE /conversations/{id}/tags/{tag_id}: answers the viewer's
 * tags on the conversation. */
static int tag_conversation(aic_ctx *ctx, int on)
{
    const char *id = apr_table_get(ctx->params, "id");
    const char *tag = apr_table_get(ctx->params, "tag_id");
    aic_json *args = aic_json_object(ctx->r->pool);

    if (!aic_valid_uuid(id) || !aic_valid_uuid(tag)) {
        return aic_send_error(ctx->r, HTTP_NOT_FOUND, "not_found", "No such conversation or tag.",
                              NULL);
    }
    aic_json_set_str(args, "conversation", id);
    aic_json_set_str(args, "tag", tag);
    aic_json_set_bool(args, "on", on);
    return aic_organise_change(ctx, "organise_tag_conversation", args, HTTP_OK,
                               on ? "tag" : "untag", "conversation", NULL, "conversation or tag");
}

int aic_organise_tag_put(aic_ctx *ctx)
{
    return tag_conversation(ctx, 1);
}

int aic_organise_tag_remove(aic_ctx *ctx)
{
    return tag_conversation(ctx, 0);
}
