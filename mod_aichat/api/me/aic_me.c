/* GET /v1/health, GET /v1/me, PATCH /v1/me, GET /v1/me/credits (my credit ledger). */
#include "api/aic_api.h"
#include "httpd/aic_audit.h"
#include "httpd/aic_memo.h"

#include <http_protocol.h>
#include <apr_strings.h>

#include "core/aic_cursor.h"
#include "core/aic_valid.h"

/* A page of the ledger: by default, and at most. */
#define LEDGER_PAGE 20
#define LEDGER_MAX  100
/* The kind of the ledger's cursors (core/aic_cursor.h): "l|" and a row's id. */
#define LEDGER_CURSOR "l"

const aic_stmt aic_me_stmts[] = {
    /* The migrations' version and the digest of the functions aichat-migrate applied. */
    {"me_schema_version", "SELECT coalesce(max(version), 0)::text,"
                          " (SELECT digest FROM schema_functions) FROM schema_migrations"},
    /* The user with the JSON /me answers (extra[0]). */
    {"me_user",
     "SELECT " AIC_USER_COLUMNS ", user_json(u)::text FROM users u WHERE u.username = %s"},
    {"me_lock", "SELECT user_json(u)::text FROM users u WHERE u.id = %s::uuid FOR UPDATE"},
    {"me_update",
     "UPDATE users SET display_name = CASE WHEN %s::int = 1 THEN %s ELSE display_name END,"
     " email = CASE WHEN %s::int = 1 THEN %s ELSE email END, updated_at = now()"
     " WHERE id = %s::uuid RETURNING user_json(users)::text"},
    /* A page of the user's credit ledger after a row id (or null): JSON items
     * and next (credit_ledger_page in sql/functions/keys.sql). */
    {"me_credits", "SELECT credit_ledger_page(%s::uuid, %s::bigint, %s::int)::text"},
    {NULL, NULL}};

static int health(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *body = aic_json_object(r->pool);
    aic_db *db = NULL;
    aic_rows rows = {0};
    apr_status_t rv = aic_db_acquire(&db, r);

    if (rv == APR_SUCCESS) {
        rv = aic_db_select(&rows, db, "me_schema_version", 0, NULL);
    }
    aic_json_set_int(body, "schema_required", AIC_SCHEMA_REQUIRED);
    aic_json_set_str(body, "functions_required", AIC_FUNCTIONS_DIGEST);
    if (rv != APR_SUCCESS) {
        aic_json_set_str(body, "status", "unavailable");
        aic_json_set_str(body, "database", rv == AIC_DB_ESCHEMA ? "outdated" : "down");
        return aic_send_json(r, HTTP_SERVICE_UNAVAILABLE, body);
    }
    aic_json_set_str(body, "status", "ok");
    aic_json_set_str(body, "database", "up");
    aic_json_set_int(body, "schema_version", apr_atoi64(rows.cells[0]));
    aic_json_set_str(body, "functions", rows.cells[1]);
    return aic_send_json(r, HTTP_OK, body);
}

static int me_get(aic_ctx *ctx)
{
    return aic_send_json_text(ctx->r, HTTP_OK, ctx->user->extra[0]);
}

apr_status_t aic_user_update(const char **user_json, aic_ctx *ctx, const char *user_id,
                             const char *label, int nargs, const char *const *args,
                             const apr_array_header_t *fields)
{
    request_rec *r = ctx->r;
    const char *old_text = NULL, *new_text = NULL, *err = NULL;
    aic_json *old_user = NULL, *new_user = NULL, *old_values, *new_values;
    apr_status_t rv;

    *user_json = NULL;
    if ((rv = aic_db_begin(ctx->db)) != APR_SUCCESS) {
        return rv;
    }
    rv = aic_db_value(&old_text, ctx->db, "me_lock", AIC_ARGS(user_id));
    if (rv == APR_SUCCESS) {
        rv = aic_db_value(&new_text, ctx->db, label, nargs, args);
    }
    if (rv == APR_SUCCESS &&
        (aic_json_parse(&old_user, &err, r->pool, old_text, strlen(old_text)) != APR_SUCCESS ||
         aic_json_parse(&new_user, &err, r->pool, new_text, strlen(new_text)) != APR_SUCCESS)) {
        rv = APR_EGENERAL;
    }
    if (rv == APR_SUCCESS) {
        old_values = aic_json_object(r->pool);
        new_values = aic_json_object(r->pool);
        for (int i = 0; i < fields->nelts; i++) {
            const char *f = APR_ARRAY_IDX(fields, i, const char *);

            aic_json_set(old_values, f, aic_json_get(old_user, f));
            aic_json_set(new_values, f, aic_json_get(new_user, f));
        }
        rv = aic_audit_change(ctx->db, r, HTTP_OK, "update", "user", user_id,
                              aic_json_dump(old_values, r->pool),
                              aic_json_dump(new_values, r->pool));
    }
    if (rv != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        aic_req_get(r)->audited = 0;
        return rv;
    }
    if ((rv = aic_db_commit(ctx->db)) != APR_SUCCESS) {
        aic_req_get(r)->audited = 0;
        return rv;
    }
    aic_memo_note_change(AIC_CHANGES_USERS);
    *user_json = new_text;
    return APR_SUCCESS;
}

int aic_user_update_failed(request_rec *r, apr_status_t rv)
{
    if (rv == APR_NOTFOUND) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such user.", NULL);
    }
    if (rv == AIC_DB_EDOWN || rv == AIC_DB_ESCHEMA) {
        return aic_send_db_error(r, rv);
    }
    return aic_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                          "The change could not be saved.", NULL);
}

static int me_patch(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *body = NULL, *v;
    const char *display_name = NULL, *email = NULL, *err, *updated = NULL;
    int set_name = 0, set_email = 0;
    apr_status_t rv;
    apr_array_header_t *fields = apr_array_make(r->pool, 2, sizeof(const char *));
    int rc;

    if ((rc = aic_read_json_object(&body, r)) != OK) {
        return OK;
    }
    if (aic_refuse_unknown_fields(r, body, (const char *const[]){"display_name", "email", NULL},
                                  NULL) != OK) {
        return OK;
    }
    if (aic_json_has(body, "display_name")) {
        v = aic_json_get(body, "display_name");
        if (aic_json_typeof(v) != AIC_JSON_STRING) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "display_name must be a string.", "display_name");
        }
        if ((err = aic_valid_display_name(&display_name, r->pool, aic_json_str(v, r->pool)))) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  apr_pstrcat(r->pool, "display_name ", err, ".", NULL),
                                  "display_name");
        }
        set_name = 1;
        APR_ARRAY_PUSH(fields, const char *) = "display_name";
    }
    if (aic_json_has(body, "email")) {
        v = aic_json_get(body, "email");
        if (aic_json_typeof(v) == AIC_JSON_STRING) {
            if ((err = aic_valid_email(&email, r->pool, aic_json_str(v, r->pool)))) {
                return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                      apr_pstrcat(r->pool, "email ", err, ".", NULL), "email");
            }
        } else if (aic_json_typeof(v) != AIC_JSON_NULL) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "email must be a string or null.", "email");
        }
        set_email = 1;
        APR_ARRAY_PUSH(fields, const char *) = "email";
    }
    if (!set_name && !set_email) {
        return aic_send_json_text(r, HTTP_OK, ctx->user->extra[0]);
    }
    rv = aic_user_update(
        &updated, ctx, ctx->user->id, "me_update",
        AIC_ARGS(set_name ? "1" : "0", display_name, set_email ? "1" : "0", email, ctx->user->id),
        fields);
    if (rv != APR_SUCCESS) {
        return aic_user_update_failed(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, updated);
}

/* GET /v1/me/credits?limit=&after=: every change of my balance, newest
 * first, a page at a time (items, next). */
static int me_credits(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_table_t *args = aic_query_args(r);
    const char *after = apr_table_get(args, "after"), *id = NULL, *json = NULL;
    int limit = aic_valid_limit(apr_table_get(args, "limit"), LEDGER_PAGE, LEDGER_MAX);
    apr_status_t rv;

    if (after && *after &&
        (aic_cursor_decode(&id, r->pool, after, LEDGER_CURSOR, 1) != APR_SUCCESS ||
         !aic_valid_id_cursor(id))) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "'after' is not a cursor of this list.", "after");
    }
    if (limit < 0) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_psprintf(r->pool, "'limit' must be 1 to %d.", LEDGER_MAX),
                              "limit");
    }
    rv = aic_db_value(&json, ctx->db, "me_credits",
                      AIC_ARGS(ctx->user->id, id, apr_itoa(r->pool, limit)));
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, json);
}

static const aic_endpoint ep_health = {health, AIC_EP_PUBLIC | AIC_EP_OWN_DB};
static const aic_endpoint_user ep_me_get = {{me_get, AIC_EP_USER}, "me_user"};
static const aic_endpoint_user ep_me_patch = {{me_patch, AIC_EP_USER}, "me_user"};
static const aic_endpoint ep_me_credits = {me_credits, 0};

const aic_route aic_me_routes[] = {{"GET", "/v1/health", &ep_health},
                                   {"GET", "/v1/me", &ep_me_get.ep},
                                   {"PATCH", "/v1/me", &ep_me_patch.ep},
                                   {"GET", "/v1/me/credits", &ep_me_credits},
                                   {NULL, NULL, NULL}};
