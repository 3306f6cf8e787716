/* What the search capability's files share, and what saved searches
 * (api/tags/aic_organise_saved.c) take from it:
 *   aic_search.c        the route, the statement and GET /search
 *   aic_search_query.c  a search's parameters read and checked
 * The SQL is sql/functions/search.sql. */
#ifndef AIC_API_SEARCH_H
#define AIC_API_SEARCH_H

#include "api/aic_api.h"

/** The parameters a search takes besides its page (limit, after). */
#define AIC_SEARCH_PARAMS                                                                          \
    "q", "tags", "tags_mode", "source", "model", "from", "to", "archived", "has_notes"

/**
 * Read a search from params (AIC_SEARCH_PARAMS as strings): q (required,
 * 1..500 characters, no control characters), tags (ids separated by commas,
 * at most 20) and tags_mode (any or all), source and model (slugs), from and
 * to (a date YYYY-MM-DD or an RFC 3339 timestamp; a date `to` includes its
 * day), archived (true or false), has_notes (true or false, 1 or 0: the
 * conversations with notes, or without). *out receives search_run's
 * arguments (q, tags, tags_all, source, model, from, to as timestamps,
 * archived, has_notes).
 * Returns NULL when acceptable, else a message, with *field the parameter.
 */
const char *aic_search_query(aic_json **out, const char **field, apr_pool_t *p,
                             apr_table_t *params);

#endif
