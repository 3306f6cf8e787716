/* What the httpd files of the imports capability share (the part without
 * httpd, the parsers, is import.h): the upload (aic_imports_upload.c), the
 * jobs as the owner sees them (aic_imports_jobs.c), the worker thread that
 * runs them (aic_imports_worker.c), the exports (aic_imports_export.c) and
 * the statements (aic_imports_stmts.c). */
#ifndef AIC_API_IMPORTS_H
#define AIC_API_IMPORTS_H

#include "api/aic_api.h"
#include "import.h"

/** Uploads up to this size are checked (first pass) before the answer:
 * bad input is refused at once instead of in the job. */
#define AIC_IMPORT_CHECK_NOW (16 * 1024 * 1024)

/** POST /v1/imports */
int aic_imports_upload(aic_ctx *ctx);
/** GET /v1/imports */
int aic_imports_list(aic_ctx *ctx);
/** GET /v1/imports/{id} */
int aic_imports_get(aic_ctx *ctx);
/** GET /v1/imports/{id}/conversations */
int aic_imports_conversations(aic_ctx *ctx);
/** GET /v1/imports/{id}/events */
int aic_imports_events(aic_ctx *ctx);
/** DELETE /v1/imports/{id} */
int aic_imports_cancel(aic_ctx *ctx);
/** GET /v1/conversations/{id}/export */
int aic_imports_export_one(aic_ctx *ctx);
/** POST /v1/exports */
int aic_imports_export_zip(aic_ctx *ctx);
/**
 * Answer the ZIP of the user's live conversations among list (a uuid[]
 * literal, "{a,b}"; "" for all of them), streamed: json/, markdown/ and a
 * ChatGPT-format conversations.json. Writes the request's audit row
 * (export.create) unless the caller wrote it already (aic_req_get(r)->audited,
 * as the bulk export does: a row per conversation). Returns what the
 * endpoint returns.
 */
int aic_imports_export_send(aic_ctx *ctx, const char *list);

/** Wake this process's worker: a job is waiting. */
void aic_imports_wake(void);

#endif
