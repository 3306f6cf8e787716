/* The turn: a user message (or a regeneration) and the answers of the
 * conversation's models, as named phases over one state (aic_chat_turn) and
 * one answer's (answer):
 *
 *   load     the thread up to the parent; each model's reservation: a bound of all it is sent
 *            and its max_tokens (the window check)
 *   reserve  one statement: credits, the user message, a group's rotation, ledger and audit rows
 *   call     per model: its answer row (a later one with the credits the turn's earlier
 *            answers add to its context), the request, the provider's stream, step by step,
 *            stopped when its client leaves or its text reaches AIChatMaxAnswerBytes
 *   record   the conversation and the first answer's row, once the answer's first text is out
 *   finish   per model: the answer, its settlement and the conversation, in one statement
 *   abandon  what the database failed is given back, now or by the writer once it answers
 *
 * The driver (aic_chat_turn_run) calls them in order and answers the
 * request. No phase runs inside a libcurl callback: a call moves step by
 * step (aic_curl_step) and the driver records between two steps, so that a
 * runner driven by events could resume the same phases at each step.
 * What needs no I/O is computed by core/aic_turn_plan. */
#include "aic_chat.h"
#include "httpd/aic_audit.h"
#include "httpd/aic_curl.h"

#include <http_log.h>
#include <apr_strings.h>

#include "core/aic_provider.h"
#include "core/aic_turn_plan.h"

APLOG_USE_MODULE(aichat);

#define DEFAULT_MAX_TOKENS 1024
/* The title an untitled conversation takes from its first message (code points). */
#define TITLE_CHARS 60
/* How often the writer tries turns the database could not give back. */
#define ABANDONED_EVERY apr_time_from_sec(1)
/* How often a call looks whether its client is still there. */
#define CLIENT_EVERY apr_time_from_sec(1)

/* One model's answer while it is called and finished. */
typedef struct {
    aic_chat_turn *t;
    const aic_chat_model *m;
    int index;          /* in answering order */
    const char *id;     /* the answer's row */
    const char *parent; /* what it answers */
    apr_pool_t *pool;   /* the call's: request, parser, upstream bytes */
    apr_int64_t prompt_estimate, limit;
    apr_time_t started;
    aic_provider_stream *parser;
    aic_curl_call call;
    aic_curl_transfer *transfer; /* NULL when no call was made */
    int text_out;                /* a delta reached the client */
    apr_size_t bytes, cap;       /* the answer's text so far, and AIChatMaxAnswerBytes */
    int capped;                  /* the text reached the cap: the call was stopped there */
    const aic_chat_result *out;  /* the provider's answer, or NULL */
    const char *code, *message;  /* the failure, or NULL */
} answer;

static int group(const aic_chat_turn *t)
{
    return t->models->nelts > 1;
}

static apr_int64_t char_limit(const aic_chat_turn *t)
{
    aic_json *v = aic_json_get(t->conv->settings, "character_limit");
    apr_int64_t set;

    if (aic_json_typeof(v) != AIC_JSON_INT) {
        return aic_turn_char_limit(NULL, group(t));
    }
    set = aic_json_int(v);
    return aic_turn_char_limit(&set, group(t));
}

/* The max_tokens a model is asked with: always one, so that its answer is bounded. */
static apr_int64_t max_tokens(const aic_chat_model *m)
{
    apr_int64_t n = aic_chat_json_int(m->defaults, "max_tokens", DEFAULT_MAX_TOKENS);

    return n > 0 ? n : DEFAULT_MAX_TOKENS;
}

/* What the index-th model to answer (m) is sent: its system prompt into
 * *system, and the thread as its context (returned; the estimate of its
 * tokens into *tokens). */
static apr_array_header_t *model_input(const char **system, apr_int64_t *tokens,
                                       const aic_chat_turn *t, const aic_chat_model *m, int index)
{
    request_rec *r = t->ctx->r;

    *system = aic_turn_system(r->pool, t->conv->system_prompt, group(t), m->display_name, index,
                              char_limit(t));
    return aic_turn_context(tokens, r->pool, t->thread, t->ctx->conf->max_context_messages, m->id);
}

/* The credits m's answer needs when it is sent system and messages (aic_turn_reserve). */
static int model_reserve(apr_int64_t *reserve, const aic_chat_turn *t, const aic_chat_model *m,
                         const char *system, const apr_array_header_t *messages)
{
    return aic_turn_reserve(reserve, aic_turn_input_bound(system, messages),
                            t->content ? aic_tokens_estimate(t->content) : 0, max_tokens(m),
                            aic_chat_json_int(m->capabilities, "context_window", 0));
}

int aic_chat_error_status(const char *code)
{
    if (!strcmp(code, "insufficient_credits")) {
        return HTTP_PAYMENT_REQUIRED;
    }
    if (!strcmp(code, "provider_rate_limited")) {
        return HTTP_TOO_MANY_REQUESTS;
    }
    if (!strcmp(code, "provider_timeout")) {
        return HTTP_GATEWAY_TIME_OUT;
    }
    return HTTP_BAD_GATEWAY;
}

static void thread_add(aic_chat_turn *t, const char *type, const aic_chat_model *m,
                       const char *content, const char *status)
{
    aic_turn_item *it = apr_array_push(t->thread);

    it->type = type;
    it->tool_id = m ? m->id : NULL;
    it->tool = m ? m->display_name : NULL;
    it->content = content;
    it->status = status;
}

/* The turn failed at the index-th model (m, its answer answer_id when it
 * has one) for want of the database: no model answers after it, and the
 * client is told 503. */
static void database_failed(aic_chat_turn *t, int index, const aic_chat_model *m,
                            const char *answer_id)
{
    t->failed_at = index;
    t->failed_answer_id = answer_id;
    if (!t->error.code) {
        t->error.code = AIC_DB_UNAVAILABLE_CODE;
        t->error.message = AIC_DB_UNAVAILABLE_MESSAGE;
        t->error.status = HTTP_SERVICE_UNAVAILABLE;
    }
    if (t->stream && !t->events.gone && answer_id) {
        aic_chat_event_error(&t->events, t->ctx->r, m, answer_id, AIC_DB_UNAVAILABLE_CODE,
                             AIC_DB_UNAVAILABLE_MESSAGE, NULL);
    }
}

/* ---- load ---- */

/* The thread up to the parent (chat_context's JSON, read with the
 * conversation; NULL without a parent) and the user's new message, once per
 * turn: the answers are appended as they are stored, so that no model's
 * context is read from the database again. Then each model's reservation; a
 * message too long for a model's window names it in *too_long (APR_EINVAL). */
static apr_status_t load(const aic_chat_model **too_long, aic_chat_turn *t, const char *context)
{
    request_rec *r = t->ctx->r;
    aic_json *path = NULL;

    t->thread = apr_array_make(r->pool, 16, sizeof(aic_turn_item));
    if (context && !(path = aic_json_from(r->pool, context))) {
        return APR_EGENERAL;
    }
    for (apr_size_t i = 0; i < aic_json_len(path); i++) {
        aic_json *item = aic_json_at(path, i);
        aic_turn_item *it = apr_array_push(t->thread);

        it->type = aic_json_str(aic_json_get(item, "sender_type"), r->pool);
        it->tool_id = aic_json_str(aic_json_get(item, "tool_id"), r->pool);
        it->tool = aic_json_str(aic_json_get(item, "tool"), r->pool);
        it->content = aic_json_str(aic_json_get(item, "content"), r->pool);
        it->status = aic_json_str(aic_json_get(item, "status"), r->pool);
    }
    if (t->content) {
        thread_add(t, "user", NULL, t->content, "complete");
    }
    t->reserved = apr_pcalloc(r->pool, sizeof(apr_int64_t) * (apr_size_t)t->models->nelts);
    for (int i = 0; i < t->models->nelts; i++) {
        const aic_chat_model *m = &APR_ARRAY_IDX(t->models, i, aic_chat_model);
        const char *system;
        apr_int64_t tokens;
        /* The answering order is chosen as the turn is reserved: in a group,
         * each model is reserved for the longer instructions of a later one. */
        const apr_array_header_t *msgs = model_input(&system, &tokens, t, m, group(t) ? 1 : 0);

        if (model_reserve(&t->reserved[i], t, m, system, msgs) != 0) {
            *too_long = m;
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

/* ---- reserve ---- */

/* Put the models (and their reservations) in answering order, the first
 * responder chat_turn_reserve chose (first) first. */
static void order_models(aic_chat_turn *t, int first)
{
    int n = t->models->nelts, *order = apr_palloc(t->ctx->r->pool, sizeof(int) * (apr_size_t)n);
    apr_array_header_t *models = apr_array_copy(t->ctx->r->pool, t->models);
    apr_int64_t *reserved = apr_pmemdup(t->ctx->r->pool, t->reserved, sizeof(*reserved) * n);

    aic_turn_order(order, n, first);
    for (int i = 0; i < n; i++) {
        APR_ARRAY_IDX(t->models, i, aic_chat_model) =
            APR_ARRAY_IDX(models, order[i], aic_chat_model);
        t->reserved[i] = reserved[order[i]];
    }
}

/* One statement: the reservation of *total credits, the user message, a
 * group's rotation, the ledger row and the request's audit row commit
 * together, or nothing does. APR_ENOSPC when the balance is too low. The
 * rest of the turn's beginning is recorded with the first answer. */
static apr_status_t reserve(apr_int64_t *total, aic_chat_turn *t)
{
    aic_ctx *ctx = t->ctx;
    request_rec *r = ctx->r;
    const char *new_values;
    const char **slugs = apr_palloc(r->pool, sizeof(char *) * (apr_size_t)t->models->nelts);
    aic_json *args = aic_json_object(r->pool), *res;
    aic_rows rows;
    apr_status_t rv;
    int first = -1;

    *total = 0;
    for (int i = 0; i < t->models->nelts; i++) {
        slugs[i] = APR_ARRAY_IDX(t->models, i, aic_chat_model).slug;
        *total += t->reserved[i];
    }
    if (group(t)) {
        first = aic_turn_fixed_first(
            slugs, t->models->nelts,
            aic_json_str(aic_json_get(t->conv->settings, "first_responder"), r->pool));
    }
    aic_json_set_str(args, "viewer", ctx->user->id);
    aic_json_set_str(args, "conv", t->conv->id);
    aic_json_set_str(args, "parent", t->parent_id);
    aic_json_set_str(args, "content", t->content);
    aic_json_set_int(args, "reserve", *total);
    aic_json_set_str(args, "regenerated", t->regenerated);
    aic_json_set_str(args, "template_version", t->template_version);
    aic_json_set_bool(args, "is_group", group(t));
    aic_json_set_int(args, "ntools", t->models->nelts);
    if (first >= 0) {
        aic_json_set_int(args, "fixed", first);
    } else {
        aic_json_set_null(args, "fixed");
    }
    new_values =
        apr_psprintf(r->pool,
                     "{\"conversation_id\":\"%s\",\"parent_id\":%s%s%s,\"length\":%" APR_SIZE_T_FMT
                     ",\"reserved_credits\":%" APR_INT64_T_FMT "}",
                     t->conv->id, t->parent_id ? "\"" : "", t->parent_id ? t->parent_id : "null",
                     t->parent_id ? "\"" : "", t->content ? strlen(t->content) : 0, *total);
    aic_json_set(args, "audit",
                 aic_audit_json(r, t->stream ? HTTP_OK : HTTP_CREATED,
                                t->content ? "create" : "regenerate", "message", NULL, NULL,
                                new_values));
    rv = aic_db_select(&rows, ctx->db, "chat_turn_reserve", AIC_ARGS(aic_json_dump(args, r->pool)));
    if (rv == APR_SUCCESS &&
        (rows.nrows != 1 ||
         aic_json_typeof(res = aic_json_from(r->pool, rows.cells[0])) != AIC_JSON_OBJECT)) {
        rv = APR_EGENERAL;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (aic_json_str(aic_json_get(res, "code"), r->pool)) {
        return APR_ENOSPC;
    }
    aic_req_get(r)->audited = 1;
    if (t->content) {
        t->user_message_id = aic_json_str(aic_json_get(res, "user_message_id"), r->pool);
        t->user_message = aic_json_get(res, "user_message");
        t->title = aic_turn_cut(r->pool, t->content, TITLE_CHARS);
    }
    t->first_answer_id = aic_json_str(aic_json_get(res, "answer_id"), r->pool);
    order_models(t, (int)aic_chat_json_int(res, "first_index", 0));
    return APR_SUCCESS;
}

/* ---- record ---- */

/* What chat_turn_record and chat_answer_complete take to record the turn's
 * beginning with a's row, but the answer's id. */
static void record_args(aic_json *args, const aic_chat_turn *t, const answer *a)
{
    aic_json_set_str(args, "conv", t->conv->id);
    aic_json_set_str(args, "user_message", t->user_message_id);
    aic_json_set_str(args, "title", t->title);
    aic_json_set_str(args, "parent", t->parent_id);
    aic_json_set_str(args, "tool", a->m->id);
    aic_json_set_bool(args, "is_group", group(t));
}

/* The rest of the turn's beginning (chat_turn_record): the conversation and
 * the first answer's row (a's). Run once the first answer's first text has
 * reached the client; a first answer with no text streamed by the time it
 * is finished is recorded by finish instead. */
static apr_status_t record(aic_chat_turn *t, const answer *a)
{
    aic_ctx *ctx = t->ctx;
    aic_json *args = aic_json_object(ctx->r->pool);
    aic_rows rows;
    apr_status_t rv;

    record_args(args, t, a);
    aic_json_set_str(args, "answer", t->first_answer_id);
    rv = aic_db_select(&rows, ctx->db, "chat_turn_record",
                       AIC_ARGS(aic_json_dump(args, ctx->r->pool)));
    /* No database connection is held while the provider answers. */
    aic_db_release(ctx->db);
    if (rv == APR_SUCCESS && rows.nrows != 1) {
        rv = APR_EGENERAL;
    }
    t->recorded = rv == APR_SUCCESS;
    return rv;
}

/* ---- call ---- */

/* The stream parser's text: a delta event. Text past AIChatMaxAnswerBytes is
 * dropped and stops the call (APR_EOF). Nothing but the client is written
 * here (it runs inside curl's write callback). */
static apr_status_t on_delta(void *arg, const char *text, apr_size_t len)
{
    answer *a = arg;
    apr_status_t rv = APR_SUCCESS;

    if (len > a->cap - a->bytes) {
        len = aic_turn_fit_bytes(text, len, a->cap - a->bytes);
        a->capped = 1;
    }
    a->bytes += len;
    if (a->t->stream && len) {
        rv = aic_chat_event_delta(&a->t->events, a->t->ctx->r, a->m, a->id, text, len);
        a->text_out = a->text_out || rv == APR_SUCCESS;
    }
    if (rv == APR_SUCCESS && a->capped) {
        rv = APR_EOF;
    }
    return rv;
}

static apr_status_t on_body(void *arg, const char *data, apr_size_t len)
{
    answer *a = arg;

    return aic_provider_stream_feed(a->parser, data, len);
}

/* A later answer's row (chat_answer_begin), with the credits its request
 * (req) needs beyond what the turn reserved for it: the turn's earlier
 * answers are part of its context. Without them, a->code says so and the
 * model is not asked. APR_EGENERAL when the database failed. */
static apr_status_t begin(answer *a, const aic_chat_request *req)
{
    aic_chat_turn *t = a->t;
    request_rec *r = t->ctx->r;
    aic_json *args = aic_json_object(r->pool), *res;
    apr_int64_t need = 0, more;
    const char *result = NULL;

    if (model_reserve(&need, t, a->m, req->system, req->messages) != 0) {
        need = 0; /* the window check passed as the turn was loaded */
    }
    more = need > t->reserved[a->index] ? need - t->reserved[a->index] : 0;
    aic_json_set_str(args, "conv", t->conv->id);
    aic_json_set_str(args, "parent", a->parent);
    aic_json_set_str(args, "tool", a->m->id);
    aic_json_set_str(args, "viewer", t->ctx->user->id);
    aic_json_set_int(args, "more", more);
    if (aic_db_value(&result, t->ctx->db, "chat_answer_begin",
                     AIC_ARGS(aic_json_dump(args, r->pool))) != APR_SUCCESS ||
        !(res = aic_json_from(r->pool, result)) ||
        !(a->id = aic_json_str(aic_json_get(res, "answer"), r->pool))) {
        return APR_EGENERAL;
    }
    if (aic_json_str(aic_json_get(res, "code"), r->pool)) {
        a->code = "insufficient_credits";
        a->message = "There are not enough credits left for this model's answer.";
    } else {
        t->reserved[a->index] += more;
    }
    return APR_SUCCESS;
}

/* Begin a's call: the request (system prompt, group instructions, the
 * thread), its row (the first answer's id was chosen by reserve, its row
 * comes with record; a later one's is written now, with the credits it needs
 * beyond its reservation), its start event and the transfer. A failure of
 * the database ends the turn (APR_EGENERAL); a provider that cannot be asked
 * leaves a->code set and no transfer. */
static apr_status_t call_start(answer *a)
{
    aic_chat_turn *t = a->t;
    aic_ctx *ctx = t->ctx;
    request_rec *r = ctx->r;
    const aic_provider_cfg *prov = aic_config_provider(ctx->conf, a->m->provider);
    aic_chat_request req;
    aic_http_call http;
    apr_int64_t context_tokens = 0;

    a->limit = char_limit(t);
    a->cap = (apr_size_t)ctx->conf->max_answer_bytes;
    memset(&req, 0, sizeof(req));
    req.kind = prov ? prov->kind : AIC_PROVIDER_OPENAI;
    req.base_url = prov ? prov->base_url : "";
    req.key = prov ? prov->key : NULL;
    req.model = a->m->model_id;
    req.messages = model_input(&req.system, &context_tokens, t, a->m, a->index);
    req.temperature = -1;
    req.max_tokens = (int)max_tokens(a->m);
    req.stream = 1;
    /* Charged when the provider gives no usage: what was sent, as estimated. */
    a->prompt_estimate = aic_tokens_estimate(req.system) + context_tokens;
    if (a->index == 0) {
        a->id = t->first_answer_id;
    } else if (begin(a, &req) != APR_SUCCESS) {
        database_failed(t, a->index, a->m, NULL);
        return APR_EGENERAL;
    }
    if (t->stream) {
        aic_chat_event_start(&t->events, r, a->m, a->id, a->parent, group(t) && a->index == 0,
                             a->index == 0 ? t->user_message : NULL);
    }
    a->started = apr_time_now();
    apr_pool_create(&a->pool, r->pool);
    if (a->code) {
        return APR_SUCCESS;
    }
    if (!prov) {
        a->code = "provider_unavailable";
        a->message = "The model's provider is not configured on this server.";
        return APR_SUCCESS;
    }
    if (aic_provider_build(&http, a->pool, &req) != APR_SUCCESS) {
        a->code = "provider_bad_request";
        a->message = "The request for the provider could not be built.";
        return APR_SUCCESS;
    }
    a->parser = aic_provider_stream_create(a->pool, prov->kind, on_delta, a);
    a->call.url = http.url;
    a->call.headers = http.headers;
    a->call.body = http.body;
    a->call.connect_timeout = prov->connect_timeout;
    a->call.timeout = prov->timeout;
    a->call.on_body = on_body;
    a->call.ctx = a;
    /* No database connection is held while the provider answers. */
    aic_db_release(ctx->db);
    aic_curl_start(&a->transfer, a->pool, &a->call);
    return APR_SUCCESS;
}

/* End a's call (stopping it when the driver stopped early) and read its
 * outcome into a->out, a->code and a->message. */
static void call_end(answer *a)
{
    aic_chat_turn *t = a->t;
    request_rec *r = t->ctx->r;
    const aic_provider_cfg *prov = aic_config_provider(t->ctx->conf, a->m->provider);
    aic_chat_result *parsed;
    aic_curl_result res;

    if (!a->transfer) {
        return;
    }
    aic_curl_end(&res, a->transfer);
    a->out = aic_provider_stream_result(a->parser);
    if (res.status && (res.status < 200 || res.status > 299)) {
        parsed = apr_palloc(a->pool, sizeof(*parsed));
        aic_provider_parse_response(parsed, a->pool, prov->kind, res.status, res.error_body,
                                    res.error_len);
        a->out = parsed;
        a->code = parsed->error_code ? parsed->error_code : "provider_error";
        a->message = parsed->error_message;
        t->error.retry_after = apr_pstrdup(r->pool, res.retry_after);
    } else if (a->out->error_code) {
        a->code = a->out->error_code;
        a->message = a->out->error_message;
    } else if (res.rv == APR_TIMEUP) {
        a->code = "provider_timeout";
        a->message = "The provider did not answer in time.";
    } else if (res.rv == APR_ECONNREFUSED) {
        a->code = "provider_unreachable";
        a->message = "The provider cannot be reached.";
    } else if (t->events.gone || r->connection->aborted) {
        t->events.gone = 1;
    } else if (a->capped) {
        a->message = apr_psprintf(r->pool,
                                  "The answer was stopped at this server's limit of "
                                  "%" APR_SIZE_T_FMT " bytes.",
                                  a->cap);
    } else if (res.rv != APR_SUCCESS || !a->out->complete) {
        a->code = "provider_incomplete";
        a->message = "The provider's answer was cut off.";
    }
}

/* ---- finish ---- */

/* The answer, its settlement (under the row lock: what was used, at most
 * what was reserved) and the conversation, all or nothing
 * (chat_answer_finish); a first answer not yet recorded is recorded in the
 * same statement (chat_answer_complete, whose first arguments are finish's).
 * Then its done or error event. Returns the parent of the next answer: this
 * one when it has text. A failure of the database ends the turn (NULL). */
static const char *finish(answer *a)
{
    aic_chat_turn *t = a->t;
    aic_ctx *ctx = t->ctx;
    request_rec *r = ctx->r;
    const char *status, *text, *message = a->message ? a->message : a->code;
    apr_int64_t prompt, completion;
    int estimated = 0, complete = a->index == 0 && !t->recorded;
    const char *result = NULL;
    aic_json *args, *res, *stored = NULL;
    apr_status_t rv;

    text = a->out && a->out->text ? a->out->text : "";
    if (a->capped) {
        text = apr_pstrmemdup(r->pool, text, a->bytes);
    }
    if (a->limit > 0) {
        text = aic_turn_cut(r->pool, text, a->limit);
    }
    prompt = a->out && a->out->prompt_tokens >= 0 ? a->out->prompt_tokens : -1;
    completion = a->out && a->out->completion_tokens >= 0 ? a->out->completion_tokens : -1;
    if (prompt < 0 || completion < 0) {
        estimated = 1;
        prompt = prompt < 0 ? a->prompt_estimate : prompt;
        completion = completion < 0 ? aic_tokens_estimate(text) : completion;
    }
    status = t->events.gone || a->capped ? "incomplete" : a->code ? "error" : "complete";
    /* A failed call is not charged (its reservation is released); one the
     * client interrupted or the cap stopped is charged what it used. */
    if (!strcmp(status, "error")) {
        prompt = completion = 0;
    } else if (prompt + completion > t->reserved[a->index]) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "mod_aichat: %s used %" APR_INT64_T_FMT " tokens for answer %s, more than "
                      "the %" APR_INT64_T_FMT " reserved; charged what was reserved",
                      a->m->slug, prompt + completion, a->id, t->reserved[a->index]);
    }
    args = aic_json_object(r->pool);
    aic_json_set_str(args, "answer", a->id);
    aic_json_set_str(args, "content", text);
    aic_json_set_str(args, "status", status);
    aic_json_set_str(args, "error", message);
    aic_json_set_int(args, "prompt_tokens", prompt);
    aic_json_set_int(args, "completion_tokens", completion);
    aic_json_set_bool(args, "estimated", estimated);
    aic_json_set_int(args, "response_ms", apr_time_as_msec(apr_time_now() - a->started));
    aic_json_set_str(args, "viewer", ctx->user->id);
    aic_json_set_int(args, "reserved", t->reserved[a->index]);
    if (complete) {
        record_args(args, t, a);
    }
    rv = aic_db_value(&result, ctx->db, complete ? "chat_answer_complete" : "chat_answer_finish",
                      AIC_ARGS(aic_json_dump(args, r->pool)));
    if (rv != APR_SUCCESS || !(res = aic_json_from(r->pool, result)) ||
        aic_json_typeof(stored = aic_json_get(res, "answer")) != AIC_JSON_OBJECT) {
        database_failed(t, a->index, a->m, a->id);
        return NULL;
    }
    t->balance = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, aic_chat_json_int(res, "balance", 0));
    if (a->code && !t->error.code) {
        t->error.code = a->code;
        t->error.message = apr_pstrdup(r->pool, message);
        t->error.status = aic_chat_error_status(a->code);
    }
    if (t->stream && !t->events.gone && a->code) {
        aic_chat_event_error(&t->events, r, a->m, a->id, a->code, message, stored);
    } else if (t->stream && !t->events.gone) {
        aic_chat_event_done(&t->events, r, a->m, a->id, prompt, completion, estimated, stored);
    }
    aic_json_push(t->answers, stored);
    if (!*text) {
        return a->parent;
    }
    /* What outlives the call is copied out of its pool. */
    thread_add(t, "ai", a->m, apr_pstrdup(r->pool, text), status);
    return a->id;
}

/* ---- abandon ---- */

/* This process's turns the database failed and that could not be given back
 * then, on their way to it (aic_batch; NULL when its writer could not start). */
static aic_batch *abandoned;

void aic_chat_child_init(apr_pool_t *pchild, server_rec *s)
{
    abandoned = aic_batch_start(pchild, s, "chat_turns_abandon", ABANDONED_EVERY, 1);
}

/* Put in order a turn the database failed (chat_turns_abandon): give back
 * what the models from the failed one reserved, end the failed answer's row
 * as an error and make the user message part of the visible thread. When
 * the database does not answer, the writer does it once it does. */
static void abandon(aic_chat_turn *t)
{
    aic_ctx *ctx = t->ctx;
    request_rec *r = ctx->r;
    apr_int64_t unsettled = 0;
    const char *row, *balance = NULL;
    aic_json *o = aic_json_object(r->pool);

    for (int i = t->failed_at; i < t->models->nelts; i++) {
        unsettled += t->reserved[i];
    }
    aic_json_set_str(o, "turn", t->first_answer_id);
    aic_json_set_str(o, "viewer", ctx->user->id);
    aic_json_set_int(o, "released", unsettled);
    aic_json_set_str(o, "message", t->user_message_id ? t->user_message_id : t->regenerated);
    aic_json_set_str(o, "conv", t->conv->id);
    aic_json_set_str(o, "user_message", t->user_message_id);
    aic_json_set_str(o, "title", t->title);
    aic_json_set_bool(o, "counted", t->recorded || t->failed_at > 0);
    aic_json_set_str(o, "answer", t->failed_answer_id);
    row = aic_json_dump(o, r->pool);
    if (aic_db_value(&balance, ctx->db, "chat_turns_abandon",
                     AIC_ARGS(apr_pstrcat(r->pool, "[", row, "]", NULL))) == APR_SUCCESS) {
        t->balance = balance;
    } else if (aic_batch_add(abandoned, row)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "mod_aichat: %" APR_INT64_T_FMT " credits reserved by %s are given back "
                      "once the database answers",
                      unsettled, ctx->user->username);
    } else {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "mod_aichat: %" APR_INT64_T_FMT " credits reserved by %s stay reserved",
                      unsettled, ctx->user->username);
    }
}

/* ---- the driver ---- */

/* One model's answer: call (recording the turn between two steps once the
 * first text is out), then finish. Returns the next answer's parent, or
 * NULL once the database failed. */
static const char *run_answer(aic_chat_turn *t, int index, const char *parent)
{
    answer a;
    const char *next;
    apr_status_t recorded = APR_SUCCESS;
    apr_time_t checked = apr_time_now();

    memset(&a, 0, sizeof(a));
    a.t = t;
    a.m = &APR_ARRAY_IDX(t->models, index, aic_chat_model);
    a.index = index;
    a.parent = parent;
    if (call_start(&a) != APR_SUCCESS) {
        return NULL;
    }
    /* After each step, the last one too: a first answer whose text is out is
     * recorded then. Between steps, a client that left stops the call. */
    for (int more = a.transfer != NULL; more;) {
        more = aic_curl_step(a.transfer) == APR_INCOMPLETE;
        if (index == 0 && a.text_out && !t->recorded && (recorded = record(t, &a)) != APR_SUCCESS) {
            break;
        }
        if (more && apr_time_now() - checked >= CLIENT_EVERY) {
            checked = apr_time_now();
            if (aic_client_gone(t->ctx->r)) {
                t->events.gone = 1;
                break;
            }
        }
    }
    call_end(&a);
    next = recorded == APR_SUCCESS ? finish(&a) : NULL;
    if (recorded != APR_SUCCESS) {
        /* The first answer could not be recorded: there is nothing to finish. */
        database_failed(t, index, a.m, a.id);
    }
    apr_pool_destroy(a.pool);
    return next;
}

/* The response once the answers are done: the end event, or the JSON. */
static int respond(aic_chat_turn *t)
{
    request_rec *r = t->ctx->r;
    aic_json *body;

    if (t->stream) {
        if (!t->events.gone) {
            aic_chat_event_end(&t->events, r, t->balance);
        }
        return OK;
    }
    if (t->error.code && (!group(t) || t->failed_at >= 0)) {
        if (t->error.retry_after) {
            apr_table_setn(r->err_headers_out, "Retry-After", t->error.retry_after);
        }
        return aic_send_error(r, t->error.status, t->error.code, t->error.message, NULL);
    }
    body = aic_json_object(r->pool);
    if (t->user_message) {
        aic_json_set(body, "user_message", t->user_message);
    }
    aic_json_set(body, "answers", t->answers);
    aic_json_set_int(body, "credits", t->balance ? apr_atoi64(t->balance) : 0);
    return aic_send_json(r, HTTP_CREATED, body);
}

int aic_chat_turn_run(aic_chat_turn *t, const char *context)
{
    request_rec *r = t->ctx->r;
    const aic_chat_model *too_long = NULL;
    const char *parent;
    apr_int64_t total = 0;
    apr_status_t rv;

    t->failed_at = -1;
    t->answers = aic_json_array(r->pool);
    if (apr_pool_create(&t->events.pool, r->pool) != APR_SUCCESS) {
        return aic_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                              "The request could not be completed.", NULL);
    }
    if ((rv = load(&too_long, t, context)) == APR_EINVAL) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "context_too_long",
                              apr_psprintf(r->pool,
                                           "The message is too long for %s's context window.",
                                           too_long->display_name),
                              "content");
    }
    if (rv == APR_SUCCESS) {
        rv = reserve(&total, t);
    }
    if (rv == APR_ENOSPC) {
        return aic_send_error(r, HTTP_PAYMENT_REQUIRED, "insufficient_credits",
                              apr_psprintf(r->pool,
                                           "This needs about %" APR_INT64_T_FMT
                                           " credits; your balance is lower.",
                                           total),
                              NULL);
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if (t->stream) {
        aic_chat_events_begin(&t->events, r);
    }
    parent = t->user_message_id ? t->user_message_id : t->parent_id;
    for (int i = 0; i < t->models->nelts && !t->events.gone && t->failed_at < 0; i++) {
        parent = run_answer(t, i, parent);
    }
    if (t->failed_at >= 0) {
        abandon(t);
    }
    return respond(t);
}
