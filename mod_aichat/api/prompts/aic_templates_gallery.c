/* The gallery: everyone's live public templates (not those of deleted
 * users), searched by name and description, in one category or all, by use
 * or newest, a page at a time with a keyset cursor (core/aic_cursor). */
#include "prompts.h"

#include <http_protocol.h>
#include <apr_strings.h>

#include "core/aic_cursor.h"
#include "core/aic_valid.h"

#define GALLERY_PAGE     24
#define GALLERY_PAGE_MAX 100
#define QUERY_MAX        200

/* 1 when s is a count or a time in microseconds as a cursor holds it: 0,
 * or a decimal number of at most 18 digits without leading zeros. */
static int count_field(const char *s)
{
    return !strcmp(s, "0") || aic_valid_id_cursor(s);
}

/* GET /templates/gallery?q=&category=&sort=use|newest&limit=&after= */
int aic_template_gallery(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_table_t *q = aic_query_args(r);
    const char *text = apr_table_get(q, "q"), *category = apr_table_get(q, "category");
    const char *sort = apr_table_get(q, "sort"), *after = apr_table_get(q, "after");
    const char *kind, *fields[2] = {NULL, NULL}, *json = NULL;
    aic_json *args = aic_json_object(r->pool);
    int limit = aic_valid_limit(apr_table_get(q, "limit"), GALLERY_PAGE, GALLERY_PAGE_MAX);
    apr_status_t rv;

    if (sort && *sort && strcmp(sort, "use") && strcmp(sort, "newest")) {
        return aic_prompts_invalid(r, "sort", "sort must be use or newest.");
    }
    kind = sort && !strcmp(sort, "newest") ? "gn" : "gu";
    if (text && (strlen(text) > QUERY_MAX || !aic_valid_utf8(text, QUERY_MAX))) {
        return aic_prompts_invalid(r, "q", "q must be text of at most 200 bytes.");
    }
    if (category && (strlen(category) > QUERY_MAX || !aic_valid_utf8(category, QUERY_MAX))) {
        return aic_prompts_invalid(r, "category", "category must be a category's name.");
    }
    if (limit < 0) {
        return aic_prompts_invalid(r, "limit", "limit must be a number from 1 to 100.");
    }
    if (after && *after &&
        (aic_cursor_decode(fields, r->pool, after, kind, 2) != APR_SUCCESS ||
         !aic_valid_uuid(fields[0]) || !count_field(fields[1]))) {
        return aic_prompts_invalid(r, "after", "after must be the next cursor of this list.");
    }
    aic_json_set_str(args, "viewer", ctx->user->id);
    aic_json_set_str(args, "pattern", text && *text ? aic_like_contains(r->pool, text) : NULL);
    aic_json_set_str(args, "category", category && *category ? category : NULL);
    aic_json_set_str(args, "sort", kind + 1);
    aic_json_set_str(args, "after_id", fields[0]);
    aic_json_set_str(args, "after_value", fields[1]);
    aic_json_set_int(args, "limit", limit);
    rv = aic_db_value(&json, ctx->db, "template_gallery", AIC_ARGS(aic_json_dump(args, r->pool)));
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv == APR_NOTFOUND ? APR_EGENERAL : rv);
    }
    return aic_send_json_text(r, HTTP_OK, json);
}

/* GET /templates/gallery/categories: the gallery's categories with their counts, largest first. */
int aic_template_gallery_categories(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *json = NULL;
    apr_status_t rv = aic_db_value(&json, ctx->db, "template_categories", 0, NULL);

    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv == APR_NOTFOUND ? APR_EGENERAL : rv);
    }
    return aic_send_json_text(r, HTTP_OK, apr_pstrcat(r->pool, "{\"items\":", json, "}", NULL));
}
