/* Saved searches: a search's parameters (as GET /search takes them, checked
 * the same way) under a name, shown in the sidebar as a smart folder. */
#include "organise.h"
#include "api/search/search.h"

#include <apr_strings.h>

#include "core/aic_valid.h"

#define SAVED_NAME_MAX 100

int aic_organise_saved_list(aic_ctx *ctx)
{
    const char *text = NULL;
    apr_status_t rv =
        aic_db_value(&text, ctx->db, "organise_saved_searches", AIC_ARGS(ctx->user->id));

    if (rv != APR_SUCCESS) {
        return aic_send_failure(ctx->r, rv);
    }
    return aic_send_json_text(ctx->r, HTTP_OK, text);
}

/* The name and query of a saved search's body into args (those present;
 * both when creating). The query is an object of a search's parameters, each
 * a string; it is kept as given once checked. Returns OK, or the status of
 * the error it sent. */
static int read_saved(aic_json *args, aic_ctx *ctx, int creating)
{
    static const char *const keys[] = {AIC_SEARCH_PARAMS, NULL};
    request_rec *r = ctx->r;
    aic_json *body = NULL, *query, *checked, *kept;
    const char *name = NULL, *err, *field;
    apr_table_t *params;
    int rc;

    if ((rc = aic_read_json_object(&body, r)) != OK ||
        (rc = aic_refuse_unknown_fields(r, body, (const char *const[]){"name", "query", NULL},
                                        "saved search")) != OK) {
        return rc;
    }
    if ((creating || aic_json_has(body, "name")) &&
        (err = aic_valid_text(&name, r->pool, aic_json_str(aic_json_get(body, "name"), r->pool), 1,
                              SAVED_NAME_MAX, 0))) {
        aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                       apr_pstrcat(r->pool, "name ", err, ".", NULL), "name");
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    aic_json_set_str(args, "name", name);
    if (!creating && !aic_json_has(body, "query")) {
        return OK;
    }
    query = aic_json_get(body, "query");
    if (aic_json_typeof(query) != AIC_JSON_OBJECT) {
        aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                       "query must be an object of search parameters.", "query");
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    params = apr_table_make(r->pool, 8);
    kept = aic_json_object(r->pool);
    for (int i = 0; keys[i]; i++) {
        aic_json *v = aic_json_get(query, keys[i]);

        if (!aic_json_has(query, keys[i])) {
            continue;
        }
        if (aic_json_typeof(v) != AIC_JSON_STRING) {
            aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                           apr_psprintf(r->pool, "query.%s must be a string.", keys[i]), "query");
            return HTTP_UNPROCESSABLE_ENTITY;
        }
        apr_table_setn(params, keys[i], aic_json_str(v, r->pool));
        aic_json_set_str(kept, keys[i], aic_json_str(v, r->pool));
    }
    if (aic_refuse_unknown_fields(r, query, keys, "search") != OK) {
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    if ((err = aic_search_query(&checked, &field, r->pool, params))) {
        aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                       apr_psprintf(r->pool, "query: %s.", err), "query");
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    aic_json_set(args, "query", kept);
    return OK;
}

int aic_organise_saved_create(aic_ctx *ctx)
{
    aic_json *args = aic_json_object(ctx->r->pool);

    if (read_saved(args, ctx, 1) != OK) {
        return OK;
    }
    aic_json_set_int(args, "max", AIC_ORGANISE_MAX_SAVED);
    return aic_organise_change(ctx, "organise_saved_search_save", args, HTTP_CREATED, "create",
                               "saved_search", "saved_search", "saved search");
}

int aic_organise_saved_update(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id");
    aic_json *args = aic_json_object(ctx->r->pool);

    if (!aic_valid_uuid(id)) {
        return aic_send_error(ctx->r, HTTP_NOT_FOUND, "not_found", "No such saved search.", NULL);
    }
    if (read_saved(args, ctx, 0) != OK) {
        return OK;
    }
    aic_json_set_str(args, "id", id);
    return aic_organise_change(ctx, "organise_saved_search_save", args, HTTP_OK, "update",
                               "saved_search", "saved_search", "saved search");
}

int aic_organise_saved_delete(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id");
    aic_json *args = aic_json_object(ctx->r->pool);

    if (!aic_valid_uuid(id)) {
        return aic_send_error(ctx->r, HTTP_NOT_FOUND, "not_found", "No such saved search.", NULL);
    }
    aic_json_set_str(args, "id", id);
    return aic_organise_change(ctx, "organise_saved_search_delete", args, HTTP_NO_CONTENT, "delete",
                               "saved_search", NULL, "saved search");
}
