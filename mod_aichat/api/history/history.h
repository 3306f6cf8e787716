/* What the files of the history capability share: a conversation's
 * annotations, versions and summary.
 *   aic_history.c        the routes, and the one way its endpoints run a statement and answer
 *   aic_history_stmts.c  its statements (each a function of sql/functions/history.sql)
 *   aic_annotations.c    notes on a range of a message's text
 *   aic_versions.c       snapshots: take, list, view, compare, restore; deleting a branch
 *                        (after a snapshot of it)
 *   aic_summaries.c      the AI summary of a conversation, made by AIChatSummaryModel
 *   aic_summary_jobs.c   "Summarise these": summary jobs, worked by a thread per process */
#ifndef AIC_API_HISTORY_H
#define AIC_API_HISTORY_H

#include "api/aic_api.h"

/**
 * Run the function behind label with args (a JSON object; the viewer is
 * added here and, for a change (action not NULL), the request's audit row
 * for entity, which the function writes with the change) and answer what
 * it returns: its body with status (204 when it has none), or its refusal
 * (not_found 404, forbidden 403, invalid_field 422, conflict 409,
 * summary_unavailable 503). Returns what the endpoint returns.
 */
int aic_history_answer(aic_ctx *ctx, const char *label, aic_json *args, int status,
                       const char *action, const char *entity);

/** Answer the refusal res (a history function's answer) carries: its code,
 * message and field. */
int aic_history_refuse(aic_ctx *ctx, const aic_json *res, const char *code);

/** Answer 404 for an id in the path that is no UUID (so no statement runs). */
int aic_history_not_found(aic_ctx *ctx, const char *what);

/* ---- endpoints ---- */

int aic_annotation_list(aic_ctx *ctx);
int aic_annotation_create(aic_ctx *ctx);
int aic_annotation_update(aic_ctx *ctx);
int aic_annotation_delete(aic_ctx *ctx);

int aic_version_list(aic_ctx *ctx);
int aic_version_create(aic_ctx *ctx);
int aic_version_get(aic_ctx *ctx);
int aic_version_compare(aic_ctx *ctx);
int aic_version_restore(aic_ctx *ctx);
int aic_branch_delete(aic_ctx *ctx);

int aic_summary_create(aic_ctx *ctx);
int aic_summary_job_get(aic_ctx *ctx);
int aic_summary_job_list(aic_ctx *ctx);
int aic_summary_job_cancel(aic_ctx *ctx);

/** The call that summarises conversation conv from src (what
 * history_summary_source gives: title, thread, model), kept in p. */
void aic_summary_call(aic_chat_call *call, apr_pool_t *p, server_rec *s, const aic_json *src,
                      const char *conv);

#endif
