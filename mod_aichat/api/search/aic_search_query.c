/* A search's parameters, read and checked once for GET /search and for a
 * saved search. */
#include "search.h"

#include <apr_strings.h>
#include <apr_time.h>

#include "core/aic_valid.h"

#define Q_MAX_CHARS 500
#define TAGS_MAX    20

/* A date or a timestamp as a timestamp; a date is its day's start (UTC), or
 * with next_day the next day's start. NULL when s is neither. */
static const char *timestamp_of(apr_pool_t *p, const char *s, int next_day)
{
    apr_time_exp_t t = {0};
    apr_time_t at;

    if (aic_valid_timestamp(s)) {
        return s;
    }
    if (!aic_valid_date(s)) {
        return NULL;
    }
    if (!next_day) {
        return apr_pstrcat(p, s, "T00:00:00Z", NULL);
    }
    t.tm_year = atoi(s) - 1900;
    t.tm_mon = atoi(s + 5) - 1;
    t.tm_mday = atoi(s + 8);
    if (apr_time_exp_gmt_get(&at, &t) != APR_SUCCESS ||
        apr_time_exp_gmt(&t, at + apr_time_from_sec(86400)) != APR_SUCCESS) {
        return NULL;
    }
    return apr_psprintf(p, "%04d-%02d-%02dT00:00:00Z", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday);
}

const char *aic_search_query(aic_json **out, const char **field, apr_pool_t *p, apr_table_t *params)
{
    const char *q = apr_table_get(params, "q"), *v, *err;
    aic_json *args = aic_json_object(p);

    *field = "q";
    if (!q || !*q) {
        return "q is required: the words to search for";
    }
    if ((err = aic_valid_text(&q, p, q, 1, Q_MAX_CHARS, 0))) {
        return apr_pstrcat(p, "q ", err, NULL);
    }
    aic_json_set_str(args, "q", q);
    if ((v = apr_table_get(params, "tags")) && *v) {
        apr_array_header_t *ids;
        aic_json *list = aic_json_array(p);

        *field = "tags";
        if ((err = aic_valid_uuid_list(&ids, p, v, TAGS_MAX))) {
            return apr_pstrcat(p, "tags ", err, NULL);
        }
        for (int i = 0; i < ids->nelts; i++) {
            aic_json_push_str(list, APR_ARRAY_IDX(ids, i, const char *));
        }
        aic_json_set(args, "tags", list);
    }
    if ((v = apr_table_get(params, "tags_mode")) && *v) {
        *field = "tags_mode";
        if (strcmp(v, "any") && strcmp(v, "all")) {
            return "tags_mode must be any or all";
        }
        aic_json_set_bool(args, "tags_all", !strcmp(v, "all"));
    }
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "model" : "source";

        if ((v = apr_table_get(params, name)) && *v) {
            *field = name;
            if (!aic_valid_slug(v)) {
                return apr_pstrcat(p, name, " is not valid", NULL);
            }
            aic_json_set_str(args, name, v);
        }
    }
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "to" : "from", *at;

        if ((v = apr_table_get(params, name)) && *v) {
            *field = name;
            if (!(at = timestamp_of(p, v, i))) {
                return apr_pstrcat(p, name, " must be a date (YYYY-MM-DD) or a timestamp", NULL);
            }
            aic_json_set_str(args, name, at);
        }
    }
    if ((v = apr_table_get(params, "archived")) && *v) {
        *field = "archived";
        if (strcmp(v, "true") && strcmp(v, "false")) {
            return "archived must be true or false";
        }
        aic_json_set_bool(args, "archived", !strcmp(v, "true"));
    }
    if ((v = apr_table_get(params, "has_notes")) && *v) {
        *field = "has_notes";
        if (aic_valid_flag(v) < 0) {
            return "has_notes must be true or false (1 or 0)";
        }
        aic_json_set_bool(args, "has_notes", aic_valid_flag(v));
    }
    *field = NULL;
    *out = args;
    return NULL;
}
