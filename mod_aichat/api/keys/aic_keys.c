/* The keys' API: GET|POST /v1/keys, DELETE /v1/keys/{id}; for
 * administrators GET /v1/admin/keys, DELETE /v1/admin/keys/{id}, and the
 * same as the admin page /admin/keys (every key, with a Revoke form). A key
 * is made here from 256 random bits, answered once, and only its SHA-256
 * and its prefix are stored. The usage these keys make is aic_keys_pages.c's. */
#include "keys.h"
#include "httpd/aic_audit.h"
#include "httpd/aic_memo.h"
#include "httpd/aic_page.h"

#include <http_protocol.h>
#include <apr_encode.h>
#include <apr_strings.h>

#include "core/aic_cursor.h"
#include "core/aic_valid.h"

/* A page of keys: by default, and at most. */
#define LIST_PAGE 50
#define LIST_MAX  500
/* The kind of the keys list's cursors (core/aic_cursor.h). */
#define KEYS_CURSOR    "k"
#define NAME_MAX_CHARS 100

/* A fresh key, or NULL when APR has no randomness. */
static const char *new_key(apr_pool_t *p)
{
    unsigned char random[32];
    const char *text;

    if (apr_generate_random_bytes(random, sizeof(random)) != APR_SUCCESS) {
        return NULL;
    }
    text = apr_pencode_base64_binary(p, random, sizeof(random),
                                     APR_ENCODE_BASE64URL | APR_ENCODE_NOPADDING, NULL);
    return text ? apr_pstrcat(p, AIC_KEY_LEAD, text, NULL) : NULL;
}

/* A non-negative integer field that may be absent or null (*out stays NULL)
 * and, when min > 0, at least min. OK, or the 422 answered. */
static int int_field(const char **out, request_rec *r, const aic_json *body, const char *name,
                     apr_int64_t min)
{
    aic_json *v = aic_json_get(body, name);

    *out = NULL;
    if (!v || aic_json_typeof(v) == AIC_JSON_NULL) {
        return OK;
    }
    if (aic_json_typeof(v) != AIC_JSON_INT || aic_json_int(v) < min ||
        aic_json_int(v) > 2000000000) {
        aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                       apr_psprintf(r->pool,
                                    "%s must be an integer of at least %" APR_INT64_T_FMT
                                    ", or null.",
                                    name, min),
                       name);
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    *out = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, aic_json_int(v));
    return OK;
}

static int keys_create(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    aic_json *body = NULL, *v, *args, *res, *models = NULL;
    const char *name = NULL, *err, *key, *budget, *rpm, *tpm, *when = NULL, *result = NULL;
    const char *future = NULL;
    apr_status_t rv;

    if (aic_read_json_object(&body, r) != OK ||
        aic_refuse_unknown_fields(r, body,
                                  (const char *const[]){"name", "expires_at", "models",
                                                        "monthly_budget", "rpm", "tpm",
                                                        "keep_conversations", NULL},
                                  "key") != OK) {
        return OK;
    }
    v = aic_json_get(body, "name");
    if (aic_json_typeof(v) != AIC_JSON_STRING ||
        (err = aic_valid_text(&name, r->pool, aic_json_str(v, r->pool), 1, NAME_MAX_CHARS, 0))) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "name must be a text of 1 to 100 characters.", "name");
    }
    v = aic_json_get(body, "models");
    if (v && aic_json_typeof(v) != AIC_JSON_NULL) {
        apr_size_t n = aic_json_len(v);
        int ok = aic_json_typeof(v) == AIC_JSON_ARRAY && n >= 1 && n <= 100;

        for (apr_size_t i = 0; ok && i < n; i++) {
            ok = aic_json_typeof(aic_json_at(v, i)) == AIC_JSON_STRING &&
                 aic_valid_slug(aic_json_str(aic_json_at(v, i), r->pool));
        }
        if (!ok) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "models must be a list of 1 to 100 model slugs, or null.",
                                  "models");
        }
        models = v;
    }
    if (int_field(&budget, r, body, "monthly_budget", 0) != OK ||
        int_field(&rpm, r, body, "rpm", 1) != OK || int_field(&tpm, r, body, "tpm", 1) != OK) {
        return OK;
    }
    v = aic_json_get(body, "expires_at");
    if (v && aic_json_typeof(v) != AIC_JSON_NULL) {
        when = aic_json_str(v, r->pool);
        if (aic_json_typeof(v) != AIC_JSON_STRING || !aic_valid_timestamp(when)) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "expires_at must be a date and time such as "
                                  "2026-12-31T18:00:00Z, or null.",
                                  "expires_at");
        }
        if ((rv = aic_db_value(&future, ctx->db, "keys_future", AIC_ARGS(when))) != APR_SUCCESS) {
            return aic_send_failure(r, rv);
        }
        if (strcmp(future, "1")) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "expires_at must be in the future.", "expires_at");
        }
    }
    v = aic_json_get(body, "keep_conversations");
    if (v && aic_json_typeof(v) != AIC_JSON_BOOL) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "keep_conversations must be true or false.", "keep_conversations");
    }
    if (!(key = new_key(r->pool))) {
        return aic_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                              "No key could be made.", NULL);
    }
    args = aic_json_object(r->pool);
    aic_json_set_str(args, "user_id", ctx->user->id);
    aic_json_set_str(args, "name", name);
    aic_json_set_str(args, "prefix", apr_pstrndup(r->pool, key, AIC_KEY_PREFIX_CHARS));
    aic_json_set_str(args, "hash", aic_keys_hash(r->pool, key));
    if (models) {
        aic_json_set(args, "models", aic_json_from(r->pool, aic_json_dump(models, r->pool)));
    }
    if (budget) {
        aic_json_set_int(args, "monthly_budget", apr_atoi64(budget));
    }
    if (rpm) {
        aic_json_set_int(args, "rpm", apr_atoi64(rpm));
    }
    if (tpm) {
        aic_json_set_int(args, "tpm", apr_atoi64(tpm));
    }
    aic_json_set_str(args, "expires_at", when);
    aic_json_set_bool(args, "keep_conversations", v && aic_json_bool(v));
    aic_json_set(args, "audit",
                 aic_audit_json(r, HTTP_CREATED, "create", "api_key", NULL, NULL, NULL));
    rv = aic_db_value(&result, ctx->db, "keys_create", AIC_ARGS(aic_json_dump(args, r->pool)));
    if (rv != APR_SUCCESS || !(res = aic_json_from(r->pool, result))) {
        return aic_send_failure(r, rv == APR_SUCCESS ? APR_EGENERAL : rv);
    }
    if (aic_json_get(res, "code")) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "unknown_model",
                              apr_psprintf(r->pool, "models: no model is called %s.",
                                           aic_json_str(aic_json_get(res, "model"), r->pool)),
                              "models");
    }
    aic_req_get(r)->audited = 1;
    res = aic_json_get(res, "key");
    /* The key's text, this once: it is stored nowhere. */
    aic_json_set_str(res, "key", key);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    return aic_send_json(r, HTTP_CREATED, res);
}

/* A page of keys (keys_list) of owner (NULL: everyone's) after the cursor
 * after (NULL or empty: the first page) into *json. APR_EINVAL for a cursor
 * that is not this list's, else APR_SUCCESS or an aic_db error. */
static apr_status_t list_page(const char **json, aic_ctx *ctx, const char *owner, const char *after,
                              int limit)
{
    request_rec *r = ctx->r;
    const char *cursor[2] = {NULL, NULL};

    if (after && *after &&
        (aic_cursor_decode(cursor, r->pool, after, KEYS_CURSOR, 2) != APR_SUCCESS ||
         !aic_valid_timestamp(cursor[0]) || !aic_valid_uuid(cursor[1]))) {
        return APR_EINVAL;
    }
    return aic_db_value(json, ctx->db, "keys_list",
                        AIC_ARGS(owner, cursor[0], cursor[1], apr_itoa(r->pool, limit)));
}

/* A page of keys: GET ?limit=&after= (the cursor a page gave as next). */
static int list(aic_ctx *ctx, const char *owner)
{
    request_rec *r = ctx->r;
    apr_table_t *args = aic_query_args(r);
    const char *json = NULL;
    int limit = aic_valid_limit(apr_table_get(args, "limit"), LIST_PAGE, LIST_MAX);
    apr_status_t rv;

    if (limit < 0) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              apr_psprintf(r->pool, "'limit' must be 1 to %d.", LIST_MAX), "limit");
    }
    rv = list_page(&json, ctx, owner, apr_table_get(args, "after"), limit);
    if (rv == APR_EINVAL) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "'after' is not a cursor of this list.", "after");
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, json);
}

/* Revoke the key id of owner (NULL: anyone's, an administrator's revocation)
 * with the request's audit row (status: what the request answers) into
 * *json (keys_revoke). APR_NOTFOUND when there is no such key (of owner's). */
static apr_status_t key_revoke_as(const char **json, aic_ctx *ctx, const char *id,
                                  const char *owner, int status)
{
    request_rec *r = ctx->r;
    aic_json *args = aic_json_object(r->pool);
    apr_status_t rv;

    *json = NULL;
    if (!aic_valid_uuid(id)) {
        return APR_NOTFOUND;
    }
    aic_json_set_str(args, "id", id);
    aic_json_set_str(args, "owner", owner);
    aic_json_set_str(args, "actor", ctx->user->id);
    aic_json_set(args, "audit", aic_audit_json(r, status, "revoke", "api_key", NULL, NULL, NULL));
    rv = aic_db_value(json, ctx->db, "keys_revoke", AIC_ARGS(aic_json_dump(args, r->pool)));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!*json) {
        return APR_NOTFOUND;
    }
    /* Every process of this httpd forgets the keys it found (aic_keys_auth.c). */
    aic_memo_note_change(AIC_CHANGES_USERS);
    aic_req_get(r)->audited = 1;
    return APR_SUCCESS;
}

static int key_revoke(aic_ctx *ctx, const char *owner)
{
    request_rec *r = ctx->r;
    const char *json = NULL;
    apr_status_t rv = key_revoke_as(&json, ctx, apr_table_get(ctx->params, "id"), owner, HTTP_OK);

    if (rv == APR_NOTFOUND) {
        return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such key.", NULL);
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    return aic_send_json_text(r, HTTP_OK, json);
}

/* A key's member as escaped text, or `none` when it is null. */
static const char *cell(request_rec *r, const aic_json *obj, const char *member, const char *none)
{
    const char *s = aic_json_str(aic_json_get(obj, member), r->pool);

    return s ? aic_e(r, s) : none;
}

int aic_keys_admin_page(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *base = aic_e(r, apr_pstrcat(r->pool, ctx->conf->base_uri, "/admin", NULL));
    const char *json = NULL, *next;
    aic_json *page = NULL, *items;
    apr_status_t rv;

    rv = list_page(&json, ctx, NULL, apr_table_get(aic_query_args(r), "after"), LIST_MAX);
    if (rv == APR_EINVAL) {
        return aic_page_error(r, HTTP_UNPROCESSABLE_ENTITY, "after is not a cursor of this list.");
    }
    if (rv != APR_SUCCESS || !(page = aic_json_from(r->pool, json))) {
        return aic_page_error(r, HTTP_SERVICE_UNAVAILABLE, "Keys cannot be listed now.");
    }
    items = aic_json_get(page, "items");
    aic_page_begin(r, HTTP_OK, "API keys", "keys");
    ap_rputs("<p>Every user's keys for the OpenAI-compatible API, newest first. A revoked key "
             "stops working at once and stays listed.</p>",
             r);
    if (!aic_json_len(items)) {
        ap_rputs("<p>No keys.</p>", r);
        return aic_page_end(r);
    }
    ap_rputs("<table><thead><tr><th>Owner</th><th>Name</th><th>Prefix</th><th>Created</th>"
             "<th>Last used</th><th>Status</th><th>Actions</th></tr></thead><tbody>",
             r);
    for (apr_size_t i = 0; i < aic_json_len(items); i++) {
        aic_json *k = aic_json_at(items, i);
        const char *status = cell(r, k, "status", "");

        ap_rprintf(r,
                   "<tr><td>%s</td><td>%s</td><td><code>%s…</code></td><td>%s</td><td>%s</td>"
                   "<td>%s</td><td class=\"actions\">",
                   cell(r, aic_json_get(k, "user"), "username", "(deleted)"),
                   cell(r, k, "name", ""), cell(r, k, "prefix", ""), cell(r, k, "created_at", ""),
                   cell(r, k, "last_used_at", "never"), status);
        if (strcmp(status, "revoked")) {
            ap_rprintf(r,
                       "<form method=\"post\" action=\"%s/keys/%s/revoke\"><button "
                       "type=\"submit\">Revoke</button></form>",
                       base, cell(r, k, "id", ""));
        }
        ap_rputs("</td></tr>", r);
    }
    ap_rputs("</tbody></table>", r);
    if ((next = aic_json_str(aic_json_get(page, "next"), r->pool))) {
        ap_rprintf(r, "<p><a href=\"%s/keys?after=%s\">Older keys</a></p>", base, aic_e(r, next));
    }
    return aic_page_end(r);
}

int aic_keys_admin_page_revoke(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *json = NULL;
    apr_status_t rv =
        key_revoke_as(&json, ctx, apr_table_get(ctx->params, "id"), NULL, HTTP_SEE_OTHER);

    if (rv == APR_NOTFOUND) {
        return aic_page_error(r, HTTP_NOT_FOUND, "No such key.");
    }
    if (rv != APR_SUCCESS) {
        return aic_page_error(r, HTTP_SERVICE_UNAVAILABLE, "The key could not be revoked.");
    }
    return aic_page_redirect(r, apr_pstrcat(r->pool, ctx->conf->base_uri, "/admin/keys", NULL));
}

apr_status_t aic_keys_usage(const char **json, aic_ctx *ctx, const char *viewer, int days)
{
    return aic_db_value(json, ctx->db, "keys_usage",
                        AIC_ARGS(viewer, apr_itoa(ctx->r->pool, days)));
}

static int mine_list(aic_ctx *ctx)
{
    return list(ctx, ctx->user->id);
}

static int mine_revoke(aic_ctx *ctx)
{
    return key_revoke(ctx, ctx->user->id);
}

static int admin_list(aic_ctx *ctx)
{
    return list(ctx, NULL);
}

static int admin_revoke(aic_ctx *ctx)
{
    return key_revoke(ctx, NULL);
}

static const aic_endpoint ep_create = {keys_create, 0};
static const aic_endpoint ep_list = {mine_list, 0};
static const aic_endpoint ep_revoke = {mine_revoke, 0};
static const aic_endpoint ep_admin_list = {admin_list, AIC_EP_ADMIN};
static const aic_endpoint ep_admin_revoke = {admin_revoke, AIC_EP_ADMIN};

const aic_route aic_keys_routes[] = {{"GET", "/v1/keys", &ep_list},
                                     {"POST", "/v1/keys", &ep_create},
                                     {"DELETE", "/v1/keys/{id}", &ep_revoke},
                                     {"GET", "/v1/admin/keys", &ep_admin_list},
                                     {"DELETE", "/v1/admin/keys/{id}", &ep_admin_revoke},
                                     {NULL, NULL, NULL}};
