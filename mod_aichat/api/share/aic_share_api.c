/* Share links: the owner creates, changes, shows and revokes the one live
 * share of a conversation; lists their shares; any signed-in user continues a
 * shared conversation in a copy of their own. Administrators list and revoke
 * every live share. Tokens are derived from AIChatShareSecret and a stored
 * nonce (core/aic_share_token.h): the database never holds one. */
#include "share.h"
#include "httpd/aic_audit.h"
#include "httpd/aic_page.h"

#include <http_core.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "core/aic_share_token.h"
#include "core/aic_valid.h"

#define MAX_EXPIRES_IN (10LL * 366 * 24 * 3600) /* ten years, in seconds */

/* As aic_send_error, for helpers whose caller must stop: the error is sent and its
 * status (never OK) returned. */
static int refuse(request_rec *r, int status, const char *code, const char *message,
                  const char *field)
{
    aic_send_error(r, status, code, message, field);
    return status;
}

static int not_found(request_rec *r, const char *what)
{
    return aic_send_error(r, HTTP_NOT_FOUND, "not_found", what, NULL);
}

/* The base of links: AIChatPublicURL, or this request's own scheme and host. */
static const char *link_base(request_rec *r, const aic_server_conf *conf)
{
    return conf->public_url ? conf->public_url : ap_construct_url(r->pool, "", r);
}

/* A share as the owner sees it: share_json plus its token and URL (null
 * when the server has no secret to derive them with). */
static aic_json *with_link(request_rec *r, const aic_server_conf *conf, const char *json,
                           const char *nonce, int is_public)
{
    aic_json *share = aic_json_from(r->pool, json);
    const char *token = NULL;

    if (!share) {
        return NULL;
    }
    if (conf->share_secret) {
        token = aic_share_token(r->pool, conf->share_secret, strlen(conf->share_secret), nonce);
    }
    aic_json_set_str(share, "token", token);
    aic_json_set_str(share, "url",
                     token ? apr_pstrcat(r->pool, link_base(r, conf),
                                         is_public ? "/share/" : conf->base_uri,
                                         is_public ? "" : "/shared/", token, NULL)
                           : NULL);
    return share;
}

/* Lock the conversation for its owner: OK, or the error already sent and its
 * status returned. */
static int lock_owned(aic_ctx *ctx, const char *id)
{
    const char *me = ctx->user->id, *owner = NULL;
    apr_status_t rv;

    if (!aic_valid_uuid(id)) {
        return refuse(ctx->r, HTTP_NOT_FOUND, "not_found", "No such conversation.", NULL);
    }
    if ((rv = aic_db_begin(ctx->db)) == APR_SUCCESS) {
        rv = aic_db_value(&owner, ctx->db, "share_conv_owner", AIC_ARGS(me, id, me, me));
    }
    if (rv == APR_NOTFOUND) {
        aic_db_rollback(ctx->db);
        return refuse(ctx->r, HTTP_NOT_FOUND, "not_found", "No such conversation.", NULL);
    }
    if (rv != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        aic_send_failure(ctx->r, rv);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (strcmp(owner, "1")) {
        aic_db_rollback(ctx->db);
        return refuse(ctx->r, HTTP_FORBIDDEN, "forbidden",
                      "Only the owner may share the conversation.", NULL);
    }
    return OK;
}

/* The live share of a locked conversation. */
typedef struct {
    const char *json, *id, *nonce;
    int is_public;
} live_share;

static apr_status_t load_live(live_share *s, aic_ctx *ctx, const char *conversation)
{
    aic_rows rows;
    apr_status_t rv = aic_db_select(&rows, ctx->db, "share_live", AIC_ARGS(conversation));

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows.nrows == 0) {
        return APR_NOTFOUND;
    }
    s->json = rows.cells[0];
    s->id = rows.cells[1];
    s->nonce = rows.cells[2];
    s->is_public = rows.cells[3][0] == '1';
    return APR_SUCCESS;
}

/* What a PUT asks for, validated. */
typedef struct {
    int is_public, indexable; /* -1: not given */
    const char *expires_mode; /* "in", "at", "never" or NULL: not given */
    const char *expires_in;   /* seconds, for "in" */
    const char *expires_at;   /* RFC 3339, for "at" */
    int update_snapshot;
} share_request;

static int read_bool(int *out, request_rec *r, const aic_json *body, const char *key)
{
    aic_json *v = aic_json_get(body, key);

    if (!aic_json_has(body, key)) {
        return OK;
    }
    if (aic_json_typeof(v) != AIC_JSON_BOOL) {
        return refuse(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                      apr_pstrcat(r->pool, key, " must be true or false.", NULL), key);
    }
    *out = aic_json_bool(v);
    return OK;
}

/* OK with req filled, or the 422 already sent (and its status returned). */
static int read_share_request(share_request *req, aic_ctx *ctx, const aic_json *body)
{
    request_rec *r = ctx->r;
    int in = aic_json_has(body, "expires_in"), at = aic_json_has(body, "expires_at");
    int rc = OK;

    req->is_public = req->indexable = -1;
    req->update_snapshot = 0;
    req->expires_mode = req->expires_in = req->expires_at = NULL;
    if ((rc = read_bool(&req->is_public, r, body, "is_public")) != OK ||
        (rc = read_bool(&req->indexable, r, body, "indexable")) != OK ||
        (rc = read_bool(&req->update_snapshot, r, body, "update_snapshot")) != OK) {
        return rc;
    }
    if (in && at) {
        return refuse(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                      "Give expires_in or expires_at, not both.", "expires_at");
    }
    if (in) {
        aic_json *v = aic_json_get(body, "expires_in");

        if (aic_json_typeof(v) == AIC_JSON_NULL) {
            req->expires_mode = "never";
        } else if (aic_json_typeof(v) != AIC_JSON_INT || aic_json_int(v) < 1 ||
                   aic_json_int(v) > MAX_EXPIRES_IN) {
            return refuse(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                          "expires_in must be a number of seconds from 1 to ten years, or null.",
                          "expires_in");
        } else {
            req->expires_mode = "in";
            req->expires_in = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, aic_json_int(v));
        }
    }
    if (at) {
        aic_json *v = aic_json_get(body, "expires_at");
        const char *when = aic_json_str(v, r->pool), *future = NULL;
        apr_status_t rv;

        if (aic_json_typeof(v) == AIC_JSON_NULL) {
            req->expires_mode = "never";
            return OK;
        }
        if (!aic_valid_timestamp(when)) {
            return refuse(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                          "expires_at must be a date and time such as 2026-12-31T18:00:00Z, or "
                          "null.",
                          "expires_at");
        }
        if ((rv = aic_db_value(&future, ctx->db, "share_future", AIC_ARGS(when))) != APR_SUCCESS) {
            aic_send_failure(r, rv);
            return HTTP_SERVICE_UNAVAILABLE;
        }
        if (strcmp(future, "1")) {
            return refuse(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                          "expires_at must be in the future.", "expires_at");
        }
        req->expires_mode = "at";
        req->expires_at = when;
    }
    return OK;
}

static int commit_and_send(aic_ctx *ctx, int status, const char *action, const char *id,
                           const char *old_json, const char *new_json, const aic_json *reply)
{
    return aic_audit_commit_send(ctx->db, ctx->r, status, action, "share", id, old_json, new_json,
                                 reply ? aic_json_dump(reply, ctx->r->pool) : NULL);
}

/* The version the share shows and whether it shows notes, when the PUT body
 * gives them (share_history_set, in the share's transaction): *json becomes
 * the share as it is then. OK, or the status of the error sent (after a
 * rollback). */
static int apply_history(const char **json, aic_ctx *ctx, const char *share_id, const char *conv,
                         const aic_json *body)
{
    request_rec *r = ctx->r;
    aic_json *args = aic_json_object(r->pool), *v = aic_json_get(body, "version_id"), *res;
    const char *text = NULL, *code;
    int show = -1;
    apr_status_t rv;

    if (!aic_json_has(body, "version_id") && !aic_json_has(body, "show_annotations")) {
        return OK;
    }
    if (aic_json_has(body, "version_id") && aic_json_typeof(v) != AIC_JSON_NULL &&
        !aic_valid_uuid(aic_json_str(v, r->pool))) {
        aic_db_rollback(ctx->db);
        return refuse(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                      "version_id must be a version of this conversation, or null.", "version_id");
    }
    if (read_bool(&show, r, body, "show_annotations") != OK) {
        aic_db_rollback(ctx->db);
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    aic_json_set_str(args, "share", share_id);
    aic_json_set_str(args, "conv", conv);
    if (aic_json_has(body, "version_id")) {
        aic_json_set_str(args, "version_id", aic_json_str(v, r->pool));
    }
    if (show >= 0) {
        aic_json_set_bool(args, "show_annotations", show);
    }
    rv = aic_db_value(&text, ctx->db, "share_history_set", AIC_ARGS(aic_json_dump(args, r->pool)));
    if (rv == APR_SUCCESS &&
        aic_json_typeof(res = aic_json_from(r->pool, text)) != AIC_JSON_OBJECT) {
        rv = APR_EGENERAL;
    }
    if (rv != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        aic_send_failure(r, rv);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if ((code = aic_json_str(aic_json_get(res, "code"), r->pool))) {
        aic_db_rollback(ctx->db);
        return refuse(r, HTTP_UNPROCESSABLE_ENTITY, code,
                      aic_json_str(aic_json_get(res, "message"), r->pool), "version_id");
    }
    *json = aic_json_dump(aic_json_get(res, "body"), r->pool);
    return OK;
}

/* PUT /conversations/{id}/share: create the live share, or change it. */
static int share_put(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id"), *snapshot = NULL, *json = NULL;
    aic_json *body = NULL;
    share_request req;
    live_share old = {NULL, NULL, NULL, 0};
    apr_status_t rv;
    int rc;

    if (aic_read_json_object(&body, r) != OK) {
        return OK;
    }
    if (aic_refuse_unknown_fields(r, body,
                                  (const char *const[]){"is_public", "indexable", "expires_in",
                                                        "expires_at", "update_snapshot",
                                                        "version_id", "show_annotations", NULL},
                                  "share") != OK) {
        return OK;
    }
    if (!ctx->conf->share_secret) {
        return aic_send_error(r, HTTP_SERVICE_UNAVAILABLE, "sharing_unavailable",
                              "Sharing is not set up on this server (AIChatShareSecret).", NULL);
    }
    if ((rc = read_share_request(&req, ctx, body)) != OK || (rc = lock_owned(ctx, id)) != OK) {
        return OK;
    }
    rv = load_live(&old, ctx, id);
    if (rv == APR_NOTFOUND || (rv == APR_SUCCESS && req.update_snapshot)) {
        rv = aic_db_value(&snapshot, ctx->db, "share_snapshot", AIC_ARGS(id));
        if (rv == APR_SUCCESS && !snapshot) {
            aic_db_rollback(ctx->db);
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "nothing_to_share",
                                  "The conversation has no message to share yet.", NULL);
        }
        if (rv == APR_SUCCESS && !old.json) {
            const char *nonce = aic_share_nonce(r->pool), *share_id = NULL;
            const char *token = nonce ? aic_share_token(r->pool, ctx->conf->share_secret,
                                                        strlen(ctx->conf->share_secret), nonce)
                                      : NULL;
            aic_json *row = aic_json_object(r->pool);
            aic_rows rows;

            if (!token) {
                aic_db_rollback(ctx->db);
                return aic_send_failure(r, APR_EGENERAL);
            }
            aic_json_set_str(row, "conversation_id", id);
            aic_json_set_str(row, "token_hash", aic_share_token_hash(r->pool, token));
            aic_json_set_str(row, "token_nonce", nonce);
            aic_json_set_bool(row, "is_public", req.is_public != 0);
            aic_json_set_bool(row, "indexable", req.indexable == 1);
            aic_json_set_str(row, "created_by", ctx->user->id);
            aic_json_set_str(row, "expires_mode", req.expires_mode);
            aic_json_set_str(row, "expires_in", req.expires_in);
            aic_json_set_str(row, "expires_at", req.expires_at);
            aic_json_set_str(row, "snapshot_message_id", snapshot);
            rv = aic_db_select(&rows, ctx->db, "share_insert",
                               AIC_ARGS(aic_json_dump(row, r->pool)));
            if (rv != APR_SUCCESS) {
                aic_db_rollback(ctx->db);
                return aic_send_failure(r, rv);
            }
            json = rows.cells[0];
            share_id = rows.cells[1];
            if (apply_history(&json, ctx, share_id, id, body) != OK) {
                return OK;
            }
            return commit_and_send(ctx, HTTP_CREATED, "create", share_id, NULL, json,
                                   with_link(r, ctx->conf, json, nonce, req.is_public != 0));
        }
    }
    if (rv == APR_SUCCESS) {
        int is_public = req.is_public >= 0 ? req.is_public : old.is_public;
        aic_json *prev = aic_json_from(r->pool, old.json);
        int indexable =
            req.indexable >= 0 ? req.indexable : aic_json_bool(aic_json_get(prev, "indexable"));

        rv = aic_db_value(&json, ctx->db, "share_update",
                          AIC_ARGS(is_public ? "true" : "false", indexable ? "true" : "false",
                                   req.expires_mode, req.expires_in, req.expires_at, snapshot,
                                   old.id));
        if (rv == APR_SUCCESS) {
            if (apply_history(&json, ctx, old.id, id, body) != OK) {
                return OK;
            }
            return commit_and_send(ctx, HTTP_OK, "update", old.id, old.json, json,
                                   with_link(r, ctx->conf, json, old.nonce, is_public));
        }
    }
    aic_db_rollback(ctx->db);
    return aic_send_failure(r, rv);
}

/* GET /conversations/{id}/share */
static int share_get(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id");
    live_share s;
    apr_status_t rv;

    if (lock_owned(ctx, id) != OK) {
        return OK;
    }
    rv = load_live(&s, ctx, id);
    aic_db_rollback(ctx->db);
    if (rv == APR_NOTFOUND) {
        return not_found(ctx->r, "This conversation is not shared.");
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(ctx->r, rv);
    }
    return aic_send_json(ctx->r, HTTP_OK,
                         with_link(ctx->r, ctx->conf, s.json, s.nonce, s.is_public));
}

/* DELETE /conversations/{id}/share: the link stops working at once. */
static int share_delete(aic_ctx *ctx)
{
    const char *id = apr_table_get(ctx->params, "id"), *json = NULL;
    live_share s;
    apr_status_t rv;

    if (lock_owned(ctx, id) != OK) {
        return OK;
    }
    rv = load_live(&s, ctx, id);
    if (rv == APR_NOTFOUND) {
        aic_db_rollback(ctx->db);
        return not_found(ctx->r, "This conversation is not shared.");
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_value(&json, ctx->db, "share_revoke", AIC_ARGS(s.id));
    }
    if (rv != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return aic_send_failure(ctx->r, rv);
    }
    return commit_and_send(ctx, HTTP_NO_CONTENT, "revoke", s.id, s.json, json, NULL);
}

/* GET /shares: the caller's live shares, newest first. */
static int shares_mine(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *out = aic_json_object(r->pool), *items = aic_json_array(r->pool);
    aic_rows rows;
    apr_status_t rv = aic_db_select(&rows, ctx->db, "share_mine", AIC_ARGS(ctx->user->id));

    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    for (int i = 0; i < rows.nrows; i++) {
        const char **c = rows.cells + i * rows.ncols;
        aic_json *share = with_link(r, ctx->conf, c[0], c[1], c[2][0] == '1');

        if (share) {
            aic_json_push(items, share);
        }
    }
    aic_json_set(out, "items", items);
    return aic_send_json(r, HTTP_OK, out);
}

/* POST /shares/{token}/fork: continue a shared conversation in a copy. */
static int share_fork(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *token = apr_table_get(ctx->params, "token"), *hash, *conv_id = NULL;
    const char *conv_json = NULL;
    aic_json *record;
    aic_rows rows;
    apr_status_t rv;

    if (r->remaining > 0 || apr_table_get(r->headers_in, "Content-Type")) {
        aic_json *body = NULL;

        if (aic_read_json_object(&body, r) != OK ||
            aic_refuse_unknown_fields(r, body, (const char *const[]){NULL}, "fork") != OK) {
            return OK;
        }
    }
    if (!aic_share_token_valid(token) || !(hash = aic_share_token_hash(r->pool, token))) {
        return not_found(r, "This link does not exist.");
    }
    if ((rv = aic_db_begin(ctx->db)) == APR_SUCCESS) {
        rv = aic_db_select(&rows, ctx->db, "share_by_token", AIC_ARGS(hash));
    }
    if (rv == APR_SUCCESS && rows.nrows == 0) {
        aic_db_rollback(ctx->db);
        return not_found(r, "This link does not exist.");
    }
    if (rv == APR_SUCCESS && rows.cells[1][0] == '1') {
        aic_db_rollback(ctx->db);
        return aic_send_error(r, HTTP_GONE, "share_expired", "This link has expired.", NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_value(&conv_id, ctx->db, "share_fork", AIC_ARGS(rows.cells[0], ctx->user->id));
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_value(&conv_json, ctx->db, "chat_conv_json", AIC_ARGS(ctx->user->id, conv_id));
    }
    if (rv != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        return aic_send_failure(r, rv);
    }
    record = aic_json_object(r->pool);
    aic_json_set_str(record, "share_id", rows.cells[0]);
    aic_json_set(record, "conversation", aic_json_from(r->pool, conv_json));
    rv = aic_audit_change(ctx->db, r, HTTP_CREATED, "fork", "conversation", conv_id, NULL,
                          aic_json_dump(record, r->pool));
    if (rv != APR_SUCCESS || (rv = aic_db_commit(ctx->db)) != APR_SUCCESS) {
        aic_db_rollback(ctx->db);
        aic_req_get(r)->audited = 0;
        return aic_send_failure(r, rv);
    }
    return aic_send_json_text(r, HTTP_CREATED, conv_json);
}

static const aic_endpoint ep_put = {share_put, 0};
static const aic_endpoint ep_get = {share_get, 0};
static const aic_endpoint ep_delete = {share_delete, 0};
static const aic_endpoint ep_mine = {shares_mine, 0};
static const aic_endpoint ep_content = {aic_share_api_content, 0};
static const aic_endpoint ep_fork = {share_fork, 0};
static const aic_endpoint ep_admin_list = {aic_share_admin_api_list, AIC_EP_ADMIN};
static const aic_endpoint ep_admin_revoke = {aic_share_admin_api_revoke, AIC_EP_ADMIN};
static const aic_endpoint ep_page = {aic_share_admin_page, AIC_EP_ADMIN};
static const aic_endpoint ep_page_revoke = {aic_share_admin_page_revoke, AIC_EP_ADMIN};

const aic_route aic_share_routes[] = {{"PUT", "/v1/conversations/{id}/share", &ep_put},
                                      {"GET", "/v1/conversations/{id}/share", &ep_get},
                                      {"DELETE", "/v1/conversations/{id}/share", &ep_delete},
                                      {"GET", "/v1/shares", &ep_mine},
                                      {"GET", "/v1/shares/{token}", &ep_content},
                                      {"POST", "/v1/shares/{token}/fork", &ep_fork},
                                      {"GET", "/v1/admin/shares", &ep_admin_list},
                                      {"DELETE", "/v1/admin/shares/{id}", &ep_admin_revoke},
                                      {NULL, NULL, NULL}};

const aic_route aic_share_page_routes[] = {{"GET", "/shares", &ep_page},
                                           {"POST", "/shares/{id}/revoke", &ep_page_revoke},
                                           {NULL, NULL, NULL}};
