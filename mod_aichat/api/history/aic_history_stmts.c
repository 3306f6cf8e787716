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
    {NULL, NULL}};
