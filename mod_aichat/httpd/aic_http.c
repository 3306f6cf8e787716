#include "aic_http.h"
#include "aic_config.h"
#include "aic_db.h"

#include <http_core.h>
#include <http_protocol.h>
#include <http_log.h>
#include <http_config.h>
#include <util_filter.h>
#include <apr_strings.h>

#include "core/aic_cursor.h"
#include "core/aic_ids.h"
#include "core/aic_valid.h"

APLOG_USE_MODULE(aichat);
extern module AP_MODULE_DECLARE_DATA aichat_module;

int aic_client_gone(request_rec *r)
{
    conn_rec *c = r->connection;
    apr_bucket_brigade *bb;
    apr_status_t rv = APR_SUCCESS;

    if (c->aborted) {
        return 1;
    }
    if (c->master) {
        return 0;
    }
    bb = apr_brigade_create(r->pool, c->bucket_alloc);
    /* The core input filter reads a closed connection as nothing once, then
     * as its end (APR_EOF); one that merely has nothing to read stays quiet. */
    for (int i = 0; i < 2 && rv == APR_SUCCESS && APR_BRIGADE_EMPTY(bb); i++) {
        rv = ap_get_brigade(c->input_filters, bb, AP_MODE_SPECULATIVE, APR_NONBLOCK_READ, 1);
    }
    apr_brigade_destroy(bb);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EAGAIN(rv)) {
        c->aborted = 1;
        return 1;
    }
    return 0;
}

request_rec *aic_original(request_rec *r)
{
    while (r->prev) {
        r = r->prev;
    }
    while (r->main) {
        r = r->main;
    }
    return r;
}

const char *aic_location_handler(request_rec *r)
{
    core_dir_config *d = ap_get_core_module_config(r->per_dir_config);
    const char *err = NULL, *name;

    if (!d || !d->expr_handler) {
        return r->handler;
    }
    name = ap_expr_str_exec(r, d->expr_handler, &err);
    return err ? NULL : name;
}

int aic_location_is_ours(request_rec *r)
{
    const char *h = aic_location_handler(r);

    return h && !strncmp(h, "aichat-", 7);
}

aic_req *aic_req_get(request_rec *r)
{
    request_rec *orig = aic_original(r);
    aic_req *req = ap_get_module_config(orig->request_config, &aichat_module);

    if (!req) {
        req = apr_pcalloc(orig->pool, sizeof(*req));
        ap_set_module_config(orig->request_config, &aichat_module, req);
    }
    return req;
}

void aic_req_mark_db_down(request_rec *r)
{
    aic_req_get(r)->db_down = 1;
}

const char *aic_request_id(request_rec *r)
{
    aic_req *req = aic_req_get(r);

    if (!req->request_id) {
        request_rec *orig = aic_original(r);
        const char *unique = apr_table_get(orig->subprocess_env, "UNIQUE_ID");

        req->request_id = unique ? unique : aic_random_hex(orig->pool, 12);
        if (!req->request_id) {
            req->request_id = apr_psprintf(orig->pool, "%" APR_TIME_T_FMT, orig->request_time);
        }
    }
    return req->request_id;
}

void aic_retry_later(request_rec *r, int status)
{
    if (status == HTTP_SERVICE_UNAVAILABLE && !apr_table_get(r->err_headers_out, "Retry-After")) {
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
    }
}

int aic_send_json_text(request_rec *r, int status, const char *json)
{
    aic_retry_later(r, status);
    r->status = status;
    ap_set_content_type(r, "application/json; charset=utf-8");
    apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    if (!r->header_only) {
        /* Body, newline and end in one brigade: a Content-Length and one write,
         * where ap_rputs sent a body over 8 KB in chunks, in two writes. */
        apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);

        APR_BRIGADE_INSERT_TAIL(
            bb, apr_bucket_pool_create(json, strlen(json), r->pool, r->connection->bucket_alloc));
        APR_BRIGADE_INSERT_TAIL(bb,
                                apr_bucket_immortal_create("\n", 1, r->connection->bucket_alloc));
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
        ap_pass_brigade(r->output_filters, bb);
    }
    return OK;
}

int aic_send_json(request_rec *r, int status, const aic_json *body)
{
    return aic_send_json_text(r, status, aic_json_dump(body, r->pool));
}

static const char *openai_error_type(int status)
{
    switch (status) {
    case HTTP_UNAUTHORIZED:
        return "authentication_error";
    case HTTP_PAYMENT_REQUIRED:
        return "insufficient_quota";
    case HTTP_FORBIDDEN:
        return "permission_error";
    case HTTP_TOO_MANY_REQUESTS:
        return "rate_limit_error";
    default:
        return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

aic_json *aic_openai_error_body(apr_pool_t *p, int status, const char *code, const char *message,
                                const char *field)
{
    aic_json *body = aic_json_object(p), *err = aic_json_object(p);

    aic_json_set_str(err, "message", message);
    aic_json_set_str(err, "type", openai_error_type(status));
    aic_json_set_str(err, "param", field);
    aic_json_set_str(err, "code", code);
    aic_json_set(body, "error", err);
    return body;
}

int aic_send_error(request_rec *r, int status, const char *code, const char *message,
                   const char *field)
{
    if (!aic_req_get(r)->openai) {
        return aic_send_json_text(r, status, aic_json_error_body(r->pool, code, message, field));
    }
    return aic_send_json(r, status, aic_openai_error_body(r->pool, status, code, message, field));
}

int aic_send_db_error(request_rec *r, apr_status_t rv)
{
    if (rv == AIC_DB_ESCHEMA) {
        return aic_send_error(r, HTTP_SERVICE_UNAVAILABLE, "schema_outdated",
                              "The database schema is older than this module needs; an "
                              "administrator must run the migrations.",
                              NULL);
    }
    return aic_send_error(r, HTTP_SERVICE_UNAVAILABLE, AIC_DB_UNAVAILABLE_CODE,
                          AIC_DB_UNAVAILABLE_MESSAGE, NULL);
}

int aic_send_failure(request_rec *r, apr_status_t rv)
{
    if (rv == AIC_DB_EDOWN || rv == AIC_DB_ESCHEMA) {
        return aic_send_db_error(r, rv);
    }
    return aic_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                          "The request could not be completed.", NULL);
}

/* Send an error and hand its status back to the caller. */
static int refuse(request_rec *r, int status, const char *code, const char *message)
{
    aic_send_error(r, status, code, message, NULL);
    return status;
}

/* application/json, optionally with parameters such as charset. */
static int is_json_type(const char *ct)
{
    apr_size_t n = sizeof("application/json") - 1;

    if (!ct || strncasecmp(ct, "application/json", n)) {
        return 0;
    }
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

int aic_read_json_object(aic_json **out, request_rec *r)
{
    const aic_server_conf *conf = aic_config_get(r->server);
    apr_off_t limit = conf->max_body;
    char *buf;
    apr_off_t len = 0;
    const char *err = NULL;
    int rc;

    *out = NULL;
    if (!is_json_type(apr_table_get(r->headers_in, "Content-Type"))) {
        return refuse(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                      "The request body must be application/json.");
    }
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return refuse(r, HTTP_BAD_REQUEST, "bad_request", "The request body is invalid.");
    }
    if (r->remaining > limit) {
        goto too_large;
    }
    buf = apr_palloc(r->pool, (apr_size_t)limit + 1);
    if (ap_should_client_block(r)) {
        long n;

        while ((n = ap_get_client_block(r, buf + len, (apr_size_t)(limit + 1 - len))) > 0) {
            len += n;
            if (len > limit) {
                goto too_large;
            }
        }
        if (n < 0) {
            return refuse(r, HTTP_BAD_REQUEST, "bad_request",
                          "The request body could not be read.");
        }
    }
    if (aic_json_parse(out, &err, r->pool, buf, (apr_size_t)len) != APR_SUCCESS) {
        return refuse(r, HTTP_BAD_REQUEST, "malformed_json",
                      apr_pstrcat(r->pool, "The request body is not valid JSON: ", err, NULL));
    }
    if (aic_json_typeof(*out) != AIC_JSON_OBJECT) {
        *out = NULL;
        return refuse(r, HTTP_BAD_REQUEST, "invalid_body",
                      "The request body must be a JSON object.");
    }
    return OK;

too_large:
    /* Keep-alive would need the rest of the body read; close instead. */
    r->connection->keepalive = AP_CONN_CLOSE;
    return refuse(
        r, HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
        apr_psprintf(r->pool, "The request body exceeds %" APR_OFF_T_FMT " bytes.", limit));
}

apr_table_t *aic_query_args(request_rec *r)
{
    apr_table_t *args = apr_table_make(r->pool, 8);
    char *copy, *pair, *state = NULL;

    if (!r->args) {
        return args;
    }
    copy = apr_pstrdup(r->pool, r->args);
    for (char *c = copy; *c; c++) {
        if (*c == '+') {
            *c = ' ';
        }
    }
    for (pair = apr_strtok(copy, "&", &state); pair; pair = apr_strtok(NULL, "&", &state)) {
        char *value = strchr(pair, '=');

        if (value) {
            *value++ = '\0';
        } else {
            value = pair + strlen(pair);
        }
        if (ap_unescape_url(pair) == OK && ap_unescape_url(value) == OK) {
            apr_table_add(args, pair, value);
        }
    }
    return args;
}

int aic_refuse_unknown_fields(request_rec *r, const aic_json *body, const char *const *allowed,
                              const char *what)
{
    const char *key = aic_json_unknown_key(body, allowed, r->pool);

    if (!key) {
        return OK;
    }
    aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "unknown_field",
                   what ? apr_psprintf(r->pool, "'%s' is not a field of a %s.", key, what)
                        : apr_psprintf(r->pool, "'%s' cannot be changed here.", key),
                   key);
    return HTTP_UNPROCESSABLE_ENTITY;
}

int aic_list_after(request_rec *r, aic_json *args, const char *after, const char *kind)
{
    const char *fields[2];

    if (!after || !*after) {
        return OK;
    }
    if (aic_cursor_decode(fields, r->pool, after, kind, 2) != APR_SUCCESS ||
        !aic_valid_uuid(fields[0]) || !aic_valid_id_cursor(fields[1])) {
        aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                       "after is not a cursor from this list.", "after");
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    aic_json_set_str(args, "after_id", fields[0]);
    aic_json_set_str(args, "after_ts", fields[1]);
    return OK;
}
