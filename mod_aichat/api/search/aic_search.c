/* GET /search: PostgreSQL full-text search over the messages (every branch)
 * and the titles and summaries of the conversations the user owns or takes
 * part in, never deleted ones; titles also match fuzzily. Ranked by
 * relevance with recency, snippets escaped with the matches marked, keyset
 * pages (search_run in sql/functions/search.sql). Its files: search.h. */
#include "search.h"

#include <apr_strings.h>
#include <math.h>
#include <stdlib.h>

#include "core/aic_cursor.h"
#include "core/aic_valid.h"

#define PAGE     20
#define PAGE_MAX 100

static int search(aic_ctx *ctx);

static const aic_endpoint ep_search = {search, 0};

const aic_route aic_search_routes[] = {{"GET", "/v1/search", &ep_search}, {NULL, NULL, NULL}};

const aic_stmt aic_search_stmts[] = {
    /* A page of results (search_run: one JSON argument and result). */
    {"search_run", "SELECT search_run(%s::json)::text"},
    {NULL, NULL}};

/* 1 when s is a finite number as PostgreSQL prints a double precision. */
static int is_score(const char *s)
{
    char *end;
    double d;

    if (!*s || strlen(s) > 40 || strspn(s, "0123456789.eE+-") != strlen(s)) {
        return 0;
    }
    d = strtod(s, &end);
    return *end == '\0' && isfinite(d);
}

static int search(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_table_t *params = aic_query_args(r);
    const char *after = apr_table_get(params, "after"), *field, *err, *text = NULL;
    int limit = aic_valid_limit(apr_table_get(params, "limit"), PAGE, PAGE_MAX);
    aic_json *args = NULL;
    apr_status_t rv;

    if ((err = aic_search_query(&args, &field, r->pool, params))) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_pstrcat(r->pool, err, ".", NULL), field);
    }
    if (limit < 0) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field", "limit is not valid.",
                              "limit");
    }
    /* The cursor the statement issues: "s", the last item's score and key. */
    if (after && *after) {
        const char *fields[2];

        if (aic_cursor_decode(fields, r->pool, after, "s", 2) != APR_SUCCESS ||
            !is_score(fields[0]) || !aic_valid_uuid(fields[1])) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "after is not a cursor from this search.", "after");
        }
        aic_json_set_str(args, "after_score", fields[0]);
        aic_json_set_str(args, "after_key", fields[1]);
    }
    aic_json_set_str(args, "viewer", ctx->user->id);
    aic_json_set_int(args, "limit", limit);
    rv = aic_db_value(&text, ctx->db, "search_run", AIC_ARGS(aic_json_dump(args, r->pool)));
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, text);
}
