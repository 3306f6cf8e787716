/* What the files of the organise capability share (private to api/tags/):
 *   aic_organise.c        the capability's routes and statements, and the one way
 *                         its changes run (aic_organise_change)
 *   aic_organise_tags.c   tags (name, colour, count) and tagging a conversation
 *   aic_organise_bulk.c   one action on many conversations (named, or all that
 *                         match the list's filter), in one statement (export:
 *                         the imports capability's ZIP of them); how many match
 *   aic_organise_saved.c  saved searches (the sidebar's smart folders)
 * The SQL is sql/functions/organise.sql; the conversation list's filter is
 * the chat capability's (aic_chat_list_filter, chat_conversation_match). */
#ifndef AIC_API_ORGANISE_H
#define AIC_API_ORGANISE_H

#include "api/aic_api.h"

/** The most tags, and saved searches, one user may have. */
#define AIC_ORGANISE_MAX_TAGS  500
#define AIC_ORGANISE_MAX_SAVED 200
/** The most conversations one bulk request may name by id (and summarise). */
#define AIC_ORGANISE_BULK_MAX 1000
/** The most conversations a bulk request's filter may match: one statement
 * locks, changes and audits them all in one transaction, and its answer
 * lists their ids. A library is thousands of chats; above this, narrow the
 * filter. */
#define AIC_ORGANISE_BULK_MATCH_MAX 100000

/**
 * Run one of organise.sql's changes: label names a statement taking one JSON
 * argument; args gets the viewer and the request's audit row (status, action
 * and entity_type; the function adds the entity and what changed), and the
 * function writes that row with the change. The answer is status with the
 * result's member `key` (the whole result when key is NULL; no body for
 * 204), or the error the function gave (404 not_found, 409 name_taken or
 * too_many, 422 too_many_matches, 503 summary_unavailable; `what` names the
 * object in the message). Returns what the
 * endpoint returns.
 */
int aic_organise_change(aic_ctx *ctx, const char *label, aic_json *args, int status,
                        const char *action, const char *entity_type, const char *key,
                        const char *what);

/**
 * aic_organise_change without the answer: *out receives the function's
 * result when it succeeded (its audit rows written, the request marked
 * audited), else NULL, the error answered. Returns what the endpoint
 * returns when *out is NULL.
 */
int aic_organise_run(aic_json **out, aic_ctx *ctx, const char *label, aic_json *args, int status,
                     const char *action, const char *entity_type, const char *what);

/* ---- endpoints ---- */

int aic_organise_tags_list(aic_ctx *ctx);
int aic_organise_tag_create(aic_ctx *ctx);
int aic_organise_tag_update(aic_ctx *ctx);
int aic_organise_tag_delete(aic_ctx *ctx);
int aic_organise_tag_put(aic_ctx *ctx);
int aic_organise_tag_remove(aic_ctx *ctx);
int aic_organise_bulk(aic_ctx *ctx);
int aic_organise_bulk_count(aic_ctx *ctx);
int aic_organise_saved_list(aic_ctx *ctx);
int aic_organise_saved_create(aic_ctx *ctx);
int aic_organise_saved_update(aic_ctx *ctx);
int aic_organise_saved_delete(aic_ctx *ctx);

#endif
