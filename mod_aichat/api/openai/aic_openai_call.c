/* POST /chat/completions: one call of a catalog model (its slug is the
 * model), streamed as OpenAI's chunks or answered whole, whatever protocol
 * the model's provider speaks upstream. In phases, as a chat turn:
 *
 *   read     the request, checked (400 naming the param), the model (404 when
 *            the key may not use it; from the memo of the last second), the
 *            reservation's bound as a turn computes it (aic_chat_call_plan)
 *   limit    the key's requests and tokens per minute (429)
 *   reserve  the call's bound, from the credits this process holds for the
 *            key (aic_openai_lease.c), else from the database
 *            (api_call_reserve: the key and the model checked again (401,
 *            404), the user's credits and the key's monthly budget (402))
 *   call     the model as every call outside a turn asks it (aic_chat_call_ask:
 *            the provider layer, no database connection held, a client gone
 *            stops it), each piece of the answer streamed on as it comes. A
 *            stream's 200 goes out with its first piece: a provider that fails
 *            before it is answered with the status of the failure, as when not
 *            streamed (OpenAI's SDKs retry a 429 or 5xx on it); after it, the
 *            stream's last event is the error
 *   answer   the completion, or a stream's last chunks
 *   settle   api_calls_settle, by the process's writer (aic_batch), which
 *            settles every call that ended since its last round in one
 *            statement, keeping them while the database is away: the call's
 *            row, what it did not use back to the balance and the key's
 *            budget, the request's audit row. The client does not wait
 *
 * A call's prompt and answer are stored only for a key that keeps its calls
 * (as a conversation of source api, in the settlement's transaction). */
#include "openai.h"
#include "httpd/aic_audit.h"
#include "httpd/aic_batch.h"
#include "httpd/aic_curl.h"
#include "httpd/aic_memo.h"

#include <http_log.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "core/aic_ids.h"
#include "core/aic_provider.h"
#include "core/aic_turn_plan.h"
#include "core/aic_valid.h"

APLOG_USE_MODULE(aichat);

#define MAX_MESSAGES 1000
/* Stop sequences: as many as OpenAI takes, each at most this long. */
#define MAX_STOP       4
#define MAX_STOP_BYTES 1000
/* How often the settlements' writer runs (and gives back the credits the
 * process holds), or sooner when this many calls ended. */
#define SETTLE_EVERY apr_time_from_sec(1)
#define SETTLE_ROWS  64
/* The title a kept call's conversation takes from its last user message (code points). */
#define TITLE_CHARS 60

typedef struct {
    aic_ctx *ctx;
    const aic_api_key *key;
    aic_rate_user user;
    /* the request */
    const char *slug, *system;
    apr_array_header_t *messages; /* aic_chat_msg */
    int stream, include_usage, max_tokens;
    double temperature, top_p;
    apr_array_header_t *stop; /* const char *, or NULL */
    /* the call */
    aic_chat_call ask;
    const char *call_id, *completion_id;
    const char *lease; /* to give back with the settlement (no writer holds it) */
    apr_int64_t created;
    apr_bucket_brigade *out;
    apr_pool_t *chunk_pool; /* one chunk's JSON, cleared once it is sent */
    int started;            /* the stream's 200 and first chunk went out */
} call;

/* ---- read ---- */

/* 400 naming the param; returns DONE (the answer is sent). */
static int bad(request_rec *r, const char *param, const char *message)
{
    aic_send_error(r, HTTP_BAD_REQUEST, "invalid_request_error", message, param);
    return DONE;
}

/* A message's content: a string, or a list of text parts (joined once, so
 * that many small parts cost the length of the text, not its square). */
static const char *content_text(request_rec *r, const aic_json *v)
{
    apr_array_header_t *parts;

    if (aic_json_typeof(v) == AIC_JSON_STRING) {
        return aic_json_str(v, r->pool);
    }
    if (aic_json_typeof(v) != AIC_JSON_ARRAY) {
        return NULL;
    }
    parts = apr_array_make(r->pool, (int)aic_json_len(v), sizeof(const char *));
    for (apr_size_t i = 0; i < aic_json_len(v); i++) {
        aic_json *part = aic_json_at(v, i);
        const char *type = aic_json_str(aic_json_get(part, "type"), r->pool);

        if (!type || strcmp(type, "text") ||
            aic_json_typeof(aic_json_get(part, "text")) != AIC_JSON_STRING) {
            return NULL;
        }
        APR_ARRAY_PUSH(parts, const char *) = aic_json_str(aic_json_get(part, "text"), r->pool);
    }
    return apr_array_pstrcat(r->pool, parts, 0);
}

static int read_messages(call *c, const aic_json *list)
{
    request_rec *r = c->ctx->r;
    apr_size_t n = aic_json_len(list);
    apr_array_header_t *system; /* the system and developer messages, joined once */

    if (aic_json_typeof(list) != AIC_JSON_ARRAY || n < 1 || n > MAX_MESSAGES) {
        return bad(r, "messages", "messages must be a list of 1 to 1000 messages.");
    }
    c->messages = apr_array_make(r->pool, (int)n, sizeof(aic_chat_msg));
    system = apr_array_make(r->pool, 2, sizeof(const char *));
    for (apr_size_t i = 0; i < n; i++) {
        aic_json *m = aic_json_at(list, i);
        const char *role = aic_json_str(aic_json_get(m, "role"), r->pool);
        const char *param = apr_psprintf(r->pool, "messages[%" APR_SIZE_T_FMT "]", i);
        const char *text = content_text(r, aic_json_get(m, "content"));
        aic_chat_msg *msg;

        if (aic_json_typeof(m) != AIC_JSON_OBJECT || !role) {
            return bad(r, param, "Each message must be an object with a role and content.");
        }
        if (!text || !aic_valid_utf8(text, (apr_size_t)-1)) {
            return bad(r, apr_pstrcat(r->pool, param, ".content", NULL),
                       "content must be text (UTF-8, no NUL), or a list of text parts.");
        }
        if (!strcmp(role, "system") || !strcmp(role, "developer")) {
            if (system->nelts) {
                APR_ARRAY_PUSH(system, const char *) = "\n\n";
            }
            APR_ARRAY_PUSH(system, const char *) = text;
            continue;
        }
        if (strcmp(role, "user") && strcmp(role, "assistant")) {
            return bad(r, apr_pstrcat(r->pool, param, ".role", NULL),
                       "role must be system, developer, user or assistant.");
        }
        msg = apr_array_push(c->messages);
        msg->role = role;
        msg->content = text;
    }
    if (!c->messages->nelts) {
        return bad(r, "messages", "messages must hold at least one user message.");
    }
    c->system = system->nelts ? apr_array_pstrcat(r->pool, system, 0) : NULL;
    return OK;
}

/* An optional non-negative number field into *out; -1 when absent. */
static int number_field(double *out, request_rec *r, const aic_json *body, const char *name,
                        double max)
{
    aic_json *v = aic_json_get(body, name);
    aic_json_type t = aic_json_typeof(v);

    *out = -1;
    if (!v || t == AIC_JSON_NULL) {
        return OK;
    }
    if (t != AIC_JSON_INT && t != AIC_JSON_DOUBLE) {
        return bad(r, name, apr_psprintf(r->pool, "%s must be a number.", name));
    }
    *out = t == AIC_JSON_INT ? (double)aic_json_int(v) : strtod(aic_json_dump(v, r->pool), NULL);
    if (!(*out >= 0 && *out <= max)) {
        return bad(r, name, apr_psprintf(r->pool, "%s must be between 0 and %.0f.", name, max));
    }
    return OK;
}

/* stop: a string or a list of up to MAX_STOP of them, none empty. */
static int read_stop(call *c, const aic_json *v)
{
    request_rec *r = c->ctx->r;
    int list = aic_json_typeof(v) == AIC_JSON_ARRAY;
    apr_size_t n = list ? aic_json_len(v) : 1;

    if (!v || aic_json_typeof(v) == AIC_JSON_NULL) {
        return OK;
    }
    if ((!list && aic_json_typeof(v) != AIC_JSON_STRING) || n > MAX_STOP) {
        return bad(r, "stop", "stop must be a string or a list of up to 4 strings.");
    }
    c->stop = apr_array_make(r->pool, (int)n, sizeof(const char *));
    for (apr_size_t i = 0; i < n; i++) {
        const char *s = aic_json_str(list ? aic_json_at(v, i) : v, r->pool);

        if (!s || !*s || strlen(s) > MAX_STOP_BYTES || !aic_valid_utf8(s, strlen(s))) {
            return bad(r, "stop",
                       "Each stop sequence must be UTF-8 text of 1 to 1000 bytes, without NUL.");
        }
        APR_ARRAY_PUSH(c->stop, const char *) = s;
    }
    return OK;
}

/* Fields that change the answer and that not every protocol upstream has:
 * refused, never silently dropped. Their neutral values pass. */
static int read_unsupported(request_rec *r, const aic_json *body)
{
    static const char *const penalties[] = {"presence_penalty", "frequency_penalty"};
    aic_json *v = aic_json_get(body, "response_format");
    const char *type = aic_json_cstr(aic_json_get(v, "type"));

    if (v && aic_json_typeof(v) != AIC_JSON_NULL && (!type || strcmp(type, "text"))) {
        return bad(r, "response_format", "Only response_format {\"type\": \"text\"} is supported.");
    }
    v = aic_json_get(body, "logprobs");
    if (v && aic_json_typeof(v) == AIC_JSON_BOOL && aic_json_bool(v)) {
        return bad(r, "logprobs", "Log probabilities are not supported.");
    }
    v = aic_json_get(body, "top_logprobs");
    if (v && aic_json_typeof(v) != AIC_JSON_NULL) {
        return bad(r, "top_logprobs", "Log probabilities are not supported.");
    }
    v = aic_json_get(body, "logit_bias");
    if (v && aic_json_typeof(v) != AIC_JSON_NULL &&
        (aic_json_typeof(v) != AIC_JSON_OBJECT || aic_json_keys(v, r->pool)->nelts)) {
        return bad(r, "logit_bias", "logit_bias is not supported.");
    }
    for (int i = 0; i < 2; i++) {
        aic_json_type t;

        v = aic_json_get(body, penalties[i]);
        t = aic_json_typeof(v);
        if (v && t != AIC_JSON_NULL &&
            ((t != AIC_JSON_INT && t != AIC_JSON_DOUBLE) || aic_json_num(v) != 0)) {
            return bad(r, penalties[i],
                       apr_pstrcat(r->pool, penalties[i], " is not supported (only 0).", NULL));
        }
    }
    return OK;
}

static int read_request(call *c)
{
    request_rec *r = c->ctx->r;
    aic_json *body = NULL, *v;
    double max_tokens = -1, other = -1;
    int rc;

    if (aic_read_json_object(&body, r) != OK) {
        return DONE;
    }
    v = aic_json_get(body, "model");
    if (aic_json_typeof(v) != AIC_JSON_STRING || !*(c->slug = aic_json_str(v, r->pool))) {
        return bad(r, "model", "model must name a model (see GET /models).");
    }
    if ((rc = read_messages(c, aic_json_get(body, "messages"))) != OK) {
        return rc;
    }
    v = aic_json_get(body, "stream");
    if (v && aic_json_typeof(v) != AIC_JSON_NULL && aic_json_typeof(v) != AIC_JSON_BOOL) {
        return bad(r, "stream", "stream must be true or false.");
    }
    c->stream = v && aic_json_typeof(v) == AIC_JSON_BOOL && aic_json_bool(v);
    v = aic_json_get(body, "stream_options");
    if (v && aic_json_typeof(v) != AIC_JSON_NULL) {
        aic_json *u = aic_json_get(v, "include_usage");

        if (aic_json_typeof(v) != AIC_JSON_OBJECT ||
            (u && aic_json_typeof(u) != AIC_JSON_BOOL && aic_json_typeof(u) != AIC_JSON_NULL)) {
            return bad(r, "stream_options", "stream_options must be {\"include_usage\": bool}.");
        }
        c->include_usage = u && aic_json_typeof(u) == AIC_JSON_BOOL && aic_json_bool(u);
    }
    if ((rc = number_field(&max_tokens, r, body, "max_completion_tokens", 1e9)) != OK ||
        (max_tokens < 0 && (rc = number_field(&max_tokens, r, body, "max_tokens", 1e9)) != OK) ||
        (rc = number_field(&c->temperature, r, body, "temperature", 2)) != OK ||
        (rc = number_field(&c->top_p, r, body, "top_p", 1)) != OK ||
        (rc = number_field(&other, r, body, "n", 1e9)) != OK ||
        (rc = read_stop(c, aic_json_get(body, "stop"))) != OK ||
        (rc = read_unsupported(r, body)) != OK) {
        return rc;
    }
    if (max_tokens == 0 || max_tokens != (double)(int)max_tokens) {
        return bad(r, "max_tokens", "max_tokens must be a whole number of at least 1.");
    }
    c->max_tokens = (int)max_tokens;
    if (other >= 0 && other != 1) {
        return bad(r, "n", "Only n = 1 is supported.");
    }
    if (aic_json_has(body, "tools") || aic_json_has(body, "functions")) {
        return bad(r, aic_json_has(body, "tools") ? "tools" : "functions",
                   "Tools and functions are not supported.");
    }
    return OK;
}

/* ---- models found lately, per process ----
 * A served model's row (openai_model) found in the last second is taken from
 * the memo instead of the database. A model an administrator changed is seen
 * within that second (the database checks it again when credits for a key
 * are taken: api_call_reserve). */
static const aic_memo_conf models_conf = {.tag = "aichat_openai_models",
                                          .kind = AIC_CHANGES_NONE,
                                          .ttl = apr_time_from_sec(1),
                                          .max_entries = 1024,
                                          .max_bytes = 1024 * 1024};
static aic_memo *models;

static int model_copy(void *out, apr_pool_t *p, const void *value)
{
    *(const char **)out = apr_pstrdup(p, value);
    return 1;
}

static void *model_keep(apr_pool_t *pool, void *old, const void *in, apr_size_t *added)
{
    *added = strlen(in) + 1;
    return apr_pstrdup(pool, in);
}

/* The model named by the request, if this API serves it (GET /models lists
 * it) and the key may use it. */
static int read_model(call *c)
{
    request_rec *r = c->ctx->r;
    const char *json = NULL,
               *memo_key = apr_pstrcat(r->pool, c->ctx->conf->providers_sql, "\n", c->slug, NULL);
    aic_memo_stamp stamp;
    int remember = aic_memo_now(&stamp, models);
    apr_status_t rv = APR_SUCCESS;

    if (!remember || !aic_memo_get(models, memo_key, &stamp, model_copy, &json, r->pool)) {
        rv = aic_db_value(&json, c->ctx->db, "openai_model",
                          AIC_ARGS(c->slug, c->ctx->conf->providers_sql));
        if (rv == APR_SUCCESS && remember) {
            aic_memo_put(models, memo_key, &stamp, strlen(json) + 1, model_keep, json);
        }
    }
    if (rv == APR_NOTFOUND ||
        (rv == APR_SUCCESS && !aic_openai_key_allows(c->key, c->slug, r->pool))) {
        aic_openai_model_not_found(r, c->slug);
        return DONE;
    }
    if (rv != APR_SUCCESS) {
        aic_send_failure(r, rv);
        return DONE;
    }
    c->ask.model_json = json;
    return OK;
}

/* ---- out: OpenAI's chunks ---- */

static aic_json *chunk_base(call *c, apr_pool_t *p)
{
    aic_json *o = aic_json_object(p);

    aic_json_set_str(o, "id", c->completion_id);
    aic_json_set_str(o, "object", "chat.completion.chunk");
    aic_json_set_int(o, "created", c->created);
    aic_json_set_str(o, "model", c->slug);
    aic_json_set_str(o, "system_fingerprint", NULL);
    return o;
}

/* Write data: TEXT and flush; once the client is gone (the connection
 * marked aborted, as a failed write marks it), nothing more. */
static apr_status_t send_data(call *c, const char *text)
{
    request_rec *r = c->ctx->r;
    apr_status_t rv;

    if (r->connection->aborted) {
        return APR_ECONNABORTED;
    }
    if (!c->out) {
        c->out = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    }
    rv = apr_brigade_printf(c->out, NULL, NULL, "data: %s\n\n", text);
    APR_BRIGADE_INSERT_TAIL(c->out, apr_bucket_flush_create(r->connection->bucket_alloc));
    if (rv == APR_SUCCESS) {
        rv = ap_pass_brigade(r->output_filters, c->out);
    }
    apr_brigade_cleanup(c->out);
    apr_pool_clear(c->chunk_pool);
    if (rv != APR_SUCCESS || r->connection->aborted) {
        r->connection->aborted = 1;
        return APR_ECONNABORTED;
    }
    return APR_SUCCESS;
}

/* A chunk with one choice: delta (role and/or content) and finish_reason. */
static apr_status_t send_chunk(call *c, const char *role, const char *text, apr_size_t len,
                               const char *finish)
{
    apr_pool_t *p = c->chunk_pool;
    aic_json *o = chunk_base(c, p), *choices = aic_json_array(p), *choice = aic_json_object(p),
             *delta = aic_json_object(p);

    if (role) {
        aic_json_set_str(delta, "role", role);
    }
    if (text) {
        aic_json_set_str(delta, "content", apr_pstrmemdup(p, text, len));
    }
    aic_json_set_int(choice, "index", 0);
    aic_json_set(choice, "delta", delta);
    aic_json_set(choice, "logprobs", NULL);
    aic_json_set_str(choice, "finish_reason", finish);
    aic_json_push(choices, choice);
    aic_json_set(o, "choices", choices);
    if (c->include_usage) {
        aic_json_set(o, "usage", NULL);
    }
    return send_data(c, aic_json_dump(o, p));
}

/* The stream's headers and its first chunk (the role). */
static apr_status_t stream_begin(call *c)
{
    request_rec *r = c->ctx->r;

    c->started = 1;
    r->status = HTTP_OK;
    ap_set_content_type(r, "text/event-stream; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Accel-Buffering", "no");
    apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
    return send_chunk(c, "assistant", "", 0, NULL);
}

/* The last event of a stream that failed after it started: the error as
 * the status would have said it. */
static void stream_error(call *c)
{
    send_data(c, aic_json_dump(aic_openai_error_body(c->chunk_pool, c->ask.status, c->ask.code,
                                                     c->ask.message, NULL),
                               c->chunk_pool));
}

/* ---- call ---- */

/* A piece of the answer, streamed on (the first one starts the stream). */
static apr_status_t on_text(void *arg, const char *text, apr_size_t len)
{
    call *c = arg;
    apr_status_t rv;

    if (!c->started && (rv = stream_begin(c)) != APR_SUCCESS) {
        return rv;
    }
    return send_chunk(c, NULL, text, len, NULL);
}

/* OpenAI's finish_reason for the provider's. */
static const char *finish_reason(const aic_chat_call *ask)
{
    const char *f = ask->finish_reason;

    if (ask->capped || (f && (strstr(f, "length") || strstr(f, "max") || strstr(f, "MAX")))) {
        return "length";
    }
    return "stop";
}

/* ---- reserve, settle ---- */

/* This process's settlements on their way to the database: its writer
 * settles every call that ended since its last round in one statement (at
 * once when it is idle), and keeps them while the database is away. NULL
 * when the writer could not start: a call then settles itself. */
static aic_batch *settlements;

void aic_openai_child_init(apr_pool_t *pchild, server_rec *s)
{
    models = aic_memo_make(pchild, &models_conf);
    settlements = aic_batch_start(pchild, s, "openai_settle", SETTLE_EVERY, SETTLE_ROWS);
    aic_openai_lease_init(pchild, s, settlements);
}

/* The call's credits (aic_openai_lease_take) and its id. */
static apr_status_t reserve(const char **code, call *c)
{
    request_rec *r = c->ctx->r;
    apr_status_t rv;

    *code = NULL;
    if (!(c->call_id = aic_random_uuid(r->pool))) {
        return APR_EGENERAL;
    }
    if ((rv = aic_openai_lease_take(code, &c->lease, c->ctx, c->key, c->slug, c->ask.provider,
                                    c->ask.reserved)) != APR_SUCCESS) {
        return rv;
    }
    /* The request's audit row goes with the settlement. */
    aic_req_get(r)->audited = 1;
    return APR_SUCCESS;
}

/* The reservation's refusal (code from api_call_reserve). */
static int refused(call *c, const char *code)
{
    request_rec *r = c->ctx->r;

    if (!strcmp(code, "model_not_found")) {
        return aic_openai_model_not_found(r, c->slug);
    }
    if (!strcmp(code, "budget_exceeded")) {
        return aic_send_error(r, HTTP_PAYMENT_REQUIRED, code,
                              apr_psprintf(r->pool,
                                           "This call needs about %" APR_INT64_T_FMT
                                           " credits, more than is left of this key's monthly "
                                           "budget.",
                                           c->ask.reserved),
                              NULL);
    }
    if (!strcmp(code, "insufficient_credits")) {
        return aic_send_error(r, HTTP_PAYMENT_REQUIRED, code,
                              apr_psprintf(r->pool,
                                           "This call needs about %" APR_INT64_T_FMT
                                           " credits; your balance is lower.",
                                           c->ask.reserved),
                              NULL);
    }
    /* The key was revoked, expired or deleted since it was found. */
    aic_keys_challenge(r, code);
    return aic_openai_key_refused(r, code);
}

/* What a key that keeps its calls stores: the request's messages and the
 * answer, titled by the last user message. */
static aic_json *keep_json(call *c, const char *answer)
{
    request_rec *r = c->ctx->r;
    aic_json *keep = aic_json_object(r->pool), *list = aic_json_array(r->pool);
    const char *title = "";

    for (int i = 0; i < c->messages->nelts; i++) {
        const aic_chat_msg *m = &APR_ARRAY_IDX(c->messages, i, aic_chat_msg);
        aic_json *o = aic_json_object(r->pool);

        aic_json_set_str(o, "role", m->role);
        aic_json_set_str(o, "content", m->content);
        aic_json_push(list, o);
        title = strcmp(m->role, "user") ? title : m->content;
    }
    aic_json_set_str(keep, "system", c->system);
    aic_json_set(keep, "messages", list);
    aic_json_set_str(keep, "answer", answer);
    aic_json_set_str(keep, "title", aic_turn_cut(r->pool, title, TITLE_CHARS));
    return keep;
}

/* Settle the call (and keep it, for a key that keeps its calls) through the
 * writer; the tokens it did not use go back to the buckets. Until the
 * settlement is written the reservation stays, so the user is never charged
 * more than it bounded. */
static void settle(call *c, apr_int64_t prompt, apr_int64_t completion, const char *status,
                   const char *error, const char *answer)
{
    request_rec *r = c->ctx->r;
    aic_json *args = aic_json_object(r->pool), *audit;
    const char *result = NULL, *row, *new_values;
    apr_int64_t used = !strcmp(status, "error") ? 0 : prompt + completion;
    apr_time_t now = apr_time_now();

    aic_json_set_str(args, "call", c->call_id);
    aic_json_set_str(args, "viewer", c->ctx->user->id);
    aic_json_set_str(args, "key", c->key->id);
    aic_json_set_str(args, "model", c->slug);
    aic_json_set_str(args, "provider", c->ask.provider);
    aic_json_set_bool(args, "stream", c->stream);
    aic_json_set_int(args, "reserved", c->ask.reserved);
    aic_json_set_int(args, "prompt_tokens", prompt);
    aic_json_set_int(args, "completion_tokens", completion);
    aic_json_set_str(args, "status", status);
    aic_json_set_str(args, "error", error);
    if (c->key->keep) {
        aic_json_set(args, "keep", keep_json(c, answer));
    }
    /* The request's audit row, with the status the client got, stamped now
     * for a settlement the writer makes later. */
    new_values = apr_psprintf(
        r->pool,
        "{\"model\":\"%s\",\"stream\":%s,\"reserved_credits\":%" APR_INT64_T_FMT
        ",\"api_key_id\":\"%s\",\"api_key_prefix\":\"%s\"}",
        c->slug, c->stream ? "true" : "false", c->ask.reserved, c->key->id, c->key->prefix);
    audit = aic_audit_json(r, r->status, "create", "api_call", NULL, NULL, new_values);
    aic_json_set_int(audit, "at", now);
    aic_json_set(args, "audit", audit);
    aic_json_set_int(args, "started", r->request_time);
    aic_json_set_int(args, "at", now);
    row = aic_json_dump(args, r->pool);
    if (c->lease) {
        apr_array_header_t *lease = apr_array_make(r->pool, 1, sizeof(const char *));

        APR_ARRAY_PUSH(lease, const char *) = c->lease;
        row = apr_pstrcat(r->pool, row, ",",
                          aic_openai_lease_release(r->pool, c->ctx->user->id, c->key->id, lease, 0),
                          NULL);
    }
    if ((c->lease || !aic_batch_add(settlements, row)) &&
        aic_db_value(&result, c->ctx->db, "openai_settle",
                     AIC_ARGS(apr_pstrcat(r->pool, "[", row, "]", NULL))) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "mod_aichat: API call %s could not be settled; %" APR_INT64_T_FMT
                      " credits stay reserved",
                      c->call_id, c->ask.reserved);
    }
    if (used < c->ask.reserved) {
        aic_keys_rate_give(&c->user, c->key, c->ask.reserved - used);
    }
}

/* ---- the endpoint ---- */

/* Answer the call as it ended (the failure's status when nothing was sent
 * yet; a stream's last chunks; the completion). */
static void respond(call *c, apr_int64_t prompt, apr_int64_t completion)
{
    request_rec *r = c->ctx->r;

    if (c->ask.code && !c->started) {
        /* Nothing was sent yet, streamed or not: the failure's status. */
        if (c->ask.retry_after) {
            apr_table_setn(r->err_headers_out, "Retry-After", c->ask.retry_after);
        }
        aic_send_error(r, c->ask.status, c->ask.code, c->ask.message, NULL);
        return;
    }
    if (c->stream) {
        if (c->ask.code) {
            stream_error(c);
        } else {
            if (!c->started) {
                stream_begin(c);
            }
            send_chunk(c, NULL, NULL, 0, finish_reason(&c->ask));
            if (c->include_usage) {
                aic_json *o = chunk_base(c, c->chunk_pool), *u = aic_json_object(c->chunk_pool);

                aic_json_set(o, "choices", aic_json_array(c->chunk_pool));
                aic_json_set_int(u, "prompt_tokens", prompt);
                aic_json_set_int(u, "completion_tokens", completion);
                aic_json_set_int(u, "total_tokens", prompt + completion);
                aic_json_set(o, "usage", u);
                send_data(c, aic_json_dump(o, c->chunk_pool));
            }
        }
        send_data(c, "[DONE]");
        return;
    }
    aic_json *o = aic_json_object(r->pool), *choices = aic_json_array(r->pool),
             *choice = aic_json_object(r->pool), *msg = aic_json_object(r->pool),
             *u = aic_json_object(r->pool);

    aic_json_set_str(o, "id", c->completion_id);
    aic_json_set_str(o, "object", "chat.completion");
    aic_json_set_int(o, "created", c->created);
    aic_json_set_str(o, "model", c->slug);
    aic_json_set_str(msg, "role", "assistant");
    aic_json_set_str(msg, "content", c->ask.text);
    aic_json_set_str(msg, "refusal", NULL);
    aic_json_set_int(choice, "index", 0);
    aic_json_set(choice, "message", msg);
    aic_json_set(choice, "logprobs", NULL);
    aic_json_set_str(choice, "finish_reason", finish_reason(&c->ask));
    aic_json_push(choices, choice);
    aic_json_set(o, "choices", choices);
    aic_json_set_int(u, "prompt_tokens", prompt);
    aic_json_set_int(u, "completion_tokens", completion);
    aic_json_set_int(u, "total_tokens", prompt + completion);
    aic_json_set(o, "usage", u);
    aic_json_set_str(o, "system_fingerprint", NULL);
    aic_send_json(r, HTTP_OK, o);
}

int aic_openai_completions(aic_ctx *ctx, const aic_api_key *key)
{
    request_rec *r = ctx->r;
    call c;
    aic_rate rate;
    const char *code, *message, *text, *status;
    apr_int64_t prompt, completion;
    apr_status_t rv;
    int rc;

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    c.key = key;
    c.temperature = -1;
    if ((rc = read_request(&c)) != OK || (rc = read_model(&c)) != OK) {
        return OK;
    }
    c.ask.system = c.system;
    c.ask.messages = c.messages;
    c.ask.pool = r->pool;
    c.ask.s = r->server;
    c.ask.max_tokens = c.max_tokens;
    c.ask.temperature = c.temperature >= 0 ? &c.temperature : NULL;
    c.ask.top_p = c.top_p >= 0 ? &c.top_p : NULL;
    c.ask.stop = c.stop;
    c.ask.client = r;
    c.ask.on_text = c.stream ? on_text : NULL;
    c.ask.arg = &c;
    /* The reservation, as a turn computes it: a bound of all that is sent and max_tokens. */
    if (aic_chat_call_plan(&c.ask, ctx) != APR_SUCCESS) {
        if (!strcmp(c.ask.code, "context_too_long")) {
            return aic_send_error(r, HTTP_BAD_REQUEST, "context_length_exceeded",
                                  apr_psprintf(r->pool,
                                               "The messages and max_tokens do not fit in %s's "
                                               "context window.",
                                               c.slug),
                                  "messages");
        }
        return aic_send_error(r, c.ask.status, c.ask.code, c.ask.message, NULL);
    }
    c.user.id = ctx->user->id;
    c.user.rpm = ctx->conf->api_user_rpm;
    c.user.tpm = ctx->conf->api_user_tpm;
    c.user.pool = r->pool;
    if (!aic_keys_rate_take(&rate, &c.user, key, c.ask.reserved)) {
        aic_keys_rate_headers(r, &rate);
        return aic_send_error(r, HTTP_TOO_MANY_REQUESTS, "rate_limit_exceeded",
                              apr_psprintf(r->pool,
                                           "Rate limit reached for this key; try again in %d s.",
                                           rate.retry_after),
                              NULL);
    }
    aic_keys_rate_headers(r, &rate);
    if ((rv = reserve(&code, &c)) != APR_SUCCESS) {
        aic_keys_rate_give(&c.user, key, c.ask.reserved);
        return rv == APR_ENOSPC ? refused(&c, code) : aic_send_failure(r, rv);
    }
    c.completion_id = apr_pstrcat(r->pool, "chatcmpl-", c.call_id, NULL);
    c.created = apr_time_sec(r->request_time);
    apr_pool_create(&c.chunk_pool, r->pool);
    aic_chat_call_ask(&c.ask, ctx);
    code = c.ask.code;
    message = c.ask.message;
    text = c.ask.text;
    prompt = code ? 0 : c.ask.prompt_tokens;
    completion = code ? 0 : c.ask.completion_tokens;
    status = code ? "error" : c.ask.gone || c.ask.capped ? "incomplete" : "complete";
    respond(&c, prompt, completion);
    settle(&c, prompt, completion, status, code ? message : NULL, text);
    return OK;
}
