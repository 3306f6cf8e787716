/* The turn's Server-Sent Events: the product's own names (start, delta,
 * done, error, end), whatever the provider spoke upstream. */
#include "aic_chat.h"

#include <http_protocol.h>
#include <apr_strings.h>

void aic_chat_events_begin(aic_chat_events *ev, request_rec *r)
{
    r->status = HTTP_OK;
    ap_set_content_type(r, "text/event-stream; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Accel-Buffering", "no");
    apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
}

/* Nothing of an event stays in the request pool: a stream of any length
 * holds one event's memory, not every event's. */
apr_status_t aic_chat_event(aic_chat_events *ev, request_rec *r, const char *name, aic_json *data)
{
    apr_status_t rv;

    if (ev->gone) {
        return APR_ECONNABORTED;
    }
    if (!ev->out) {
        ev->out = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    }
    rv = apr_brigade_printf(ev->out, NULL, NULL, "event: %s\ndata: %s\n\n", name,
                            aic_json_dump(data, ev->pool));
    APR_BRIGADE_INSERT_TAIL(ev->out, apr_bucket_flush_create(r->connection->bucket_alloc));
    if (rv == APR_SUCCESS) {
        rv = ap_pass_brigade(r->output_filters, ev->out);
    }
    apr_brigade_cleanup(ev->out);
    apr_pool_clear(ev->pool);
    if (rv != APR_SUCCESS || r->connection->aborted) {
        ev->gone = 1;
        return APR_ECONNABORTED;
    }
    return APR_SUCCESS;
}

void aic_chat_event_start(aic_chat_events *ev, request_rec *r, const aic_chat_model *m,
                          const char *answer_id, const char *parent_id, int first_responder,
                          aic_json *user_message)
{
    aic_json *data = aic_json_object(ev->pool);

    aic_json_set_str(data, "message_id", answer_id);
    aic_json_set_str(data, "parent_id", parent_id);
    aic_json_set_str(data, "model", m->slug);
    aic_json_set_str(data, "display_name", m->display_name);
    aic_json_set_bool(data, "is_first_responder", first_responder);
    if (user_message) {
        aic_json_set(data, "user_message", user_message);
    }
    aic_chat_event(ev, r, "start", data);
}

apr_status_t aic_chat_event_delta(aic_chat_events *ev, request_rec *r, const aic_chat_model *m,
                                  const char *answer_id, const char *text, apr_size_t len)
{
    aic_json *data = aic_json_object(ev->pool);

    aic_json_set_str(data, "message_id", answer_id);
    aic_json_set_str(data, "model", m->slug);
    aic_json_set_str(data, "text", apr_pstrmemdup(ev->pool, text, len));
    return aic_chat_event(ev, r, "delta", data);
}

void aic_chat_event_error(aic_chat_events *ev, request_rec *r, const aic_chat_model *m,
                          const char *answer_id, const char *code, const char *text,
                          aic_json *message)
{
    aic_json *data = aic_json_object(ev->pool), *err = aic_json_object(ev->pool);

    aic_json_set_str(data, "message_id", answer_id);
    aic_json_set_str(data, "model", m->slug);
    aic_json_set_str(err, "code", code);
    aic_json_set_str(err, "message", text);
    aic_json_set(data, "error", err);
    if (message) {
        aic_json_set(data, "message", message);
    }
    aic_chat_event(ev, r, "error", data);
}

void aic_chat_event_done(aic_chat_events *ev, request_rec *r, const aic_chat_model *m,
                         const char *answer_id, apr_int64_t prompt, apr_int64_t completion,
                         int estimated, aic_json *message)
{
    aic_json *data = aic_json_object(ev->pool), *usage = aic_json_object(ev->pool);

    aic_json_set_str(data, "message_id", answer_id);
    aic_json_set_str(data, "model", m->slug);
    aic_json_set_int(usage, "prompt_tokens", prompt);
    aic_json_set_int(usage, "completion_tokens", completion);
    aic_json_set_bool(usage, "estimated", estimated);
    aic_json_set(data, "usage", usage);
    aic_json_set(data, "message", message);
    aic_chat_event(ev, r, "done", data);
}

void aic_chat_event_end(aic_chat_events *ev, request_rec *r, const char *balance)
{
    aic_json *data = aic_json_object(ev->pool);

    /* null when the database could not say (it went away). */
    if (balance) {
        aic_json_set_int(data, "credits", apr_atoi64(balance));
    } else {
        aic_json_set_null(data, "credits");
    }
    aic_chat_event(ev, r, "end", data);
}
