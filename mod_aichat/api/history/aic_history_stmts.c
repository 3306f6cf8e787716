/* The history capability's statements: each calls one function of
 * sql/functions/history.sql with one JSON argument (named keys) and reads
 * its one JSON answer (aic_history_answer). */
#include "history.h"

const aic_stmt aic_history_stmts[] = {
    {"history_annotation_list", "SELECT annotation_list(%s::json)::text"},
    {"history_annotation_create", "SELECT annotation_create(%s::json)::text"},
    {"history_annotation_update", "SELECT annotation_update(%s::json)::text"},
    {"history_annotation_delete", "SELECT annotation_delete(%s::json)::text"},
    {"history_version_list", "SELECT version_list(%s::json)::text"},
    {"history_version_create", "SELECT version_create(%s::json)::text"},
    {"history_version_get", "SELECT version_get(%s::json)::text"},
    {"history_version_compare", "SELECT version_compare(%s::json)::text"},
    {"history_version_restore", "SELECT version_restore(%s::json)::text"},
    {"history_branch_delete", "SELECT branch_delete(%s::json)::text"},
    /* What a summary is made of, then the summary stored and its call settled. */
    {"history_summary_source", "SELECT summary_source(%s::json)::text"},
    {"history_summary_store", "SELECT summary_store(%s::json)::text"},
    /* Summary jobs: the viewer's (a page, one, cancel one); the worker's take,
     * next, step, requeue. */
    {"history_summary_job_list", "SELECT summary_job_list(%s::json)::text"},
    {"history_summary_job_get", "SELECT summary_job_get(%s::json)::text"},
    {"history_summary_job_cancel", "SELECT summary_job_cancel(%s::json)::text"},
    {"history_summary_job_take",
     "SELECT id::text, owner_id::text, username, model FROM summary_job_take(%s)"},
    {"history_summary_job_next", "SELECT summary_job_next(%s::uuid, %s)::text"},
    {"history_summary_job_step", "SELECT summary_job_step(%s::json)::text"},
    {"history_summary_job_requeue", "SELECT summary_job_requeue(%s::uuid, %s)::text"},
    {NULL, NULL}};
