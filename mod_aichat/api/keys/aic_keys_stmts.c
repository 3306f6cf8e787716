/* The keys capability's statements, registered at configuration time: one
 * literal each; the functions are in sql/functions/keys.sql. */
#include "keys.h"

const aic_stmt aic_keys_stmts[] = {
    /* The key whose SHA-256 (hex) is the argument: id, prefix, user name, state,
     * models, rpm, tpm, keep, expires (keys_authenticate). */
    {"keys_authenticate",
     "SELECT id::text, prefix, username, state, models, rpm::text, tpm::text, keep::int::text,"
     " expires::text FROM keys_authenticate(%s)"},
    /* 1 when the timestamp is in the future. */
    {"keys_future", "SELECT (%s::timestamptz > now())::int"},
    /* One JSON argument (keys_create): the key, or code unknown_model. */
    {"keys_create", "SELECT keys_create(%s::json)::text"},
    /* One JSON argument (keys_revoke): the revoked key, or null. */
    {"keys_revoke", "SELECT keys_revoke(%s::json)::text"},
    /* A user's keys (their id), or every key (null), newest first: a JSON array. */
    {"keys_list", "SELECT keys_list(%s::uuid, %s, %s::uuid, %s::int)::text"},
    /* Usage of a user (their id) or of the site (null) over the last days. */
    {"keys_usage", "SELECT keys_usage(%s::uuid, %s::int)::text"},
    /* The same usage row by row for a CSV file, per day, model, key, user or
     * provider: a JSON array (keys_usage_rows). */
    {"keys_usage_rows", "SELECT keys_usage_rows(%s::uuid, %s::int, %s)::text"},
    {NULL, NULL}};
