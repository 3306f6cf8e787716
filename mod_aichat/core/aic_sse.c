#include "aic_sse.h"

#include <string.h>

#define BUF_MIN_CAP 256

/* A NUL-terminated byte buffer in the event pool, grown by doubling. */
typedef struct {
    char *s;
    apr_size_t len;
    apr_size_t cap;
} sse_buf;

struct aic_sse {
    apr_pool_t *ev_pool; /* the current event's buffers; cleared after dispatch */
    aic_sse_cb cb;
    void *ctx;
    apr_size_t max;
    sse_buf line;  /* the line being read, without its end */
    sse_buf data;  /* data values, each followed by LF */
    sse_buf event; /* the last event: value */
    sse_buf error; /* the last error: value */
    int has_error;
    int pending_cr; /* the last byte was a CR: a LF right after it ends nothing */
    int bom;        /* bytes of a leading BOM matched so far, -1 past the start */
    apr_status_t rv;
};

static const char BOM[] = "\xEF\xBB\xBF";

static void buf_append(sse_buf *b, apr_pool_t *p, const char *bytes, apr_size_t n)
{
    if (b->len + n + 1 > b->cap) {
        apr_size_t cap = b->cap ? b->cap : BUF_MIN_CAP;
        char *s;

        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        s = apr_palloc(p, cap);
        if (b->len) {
            memcpy(s, b->s, b->len);
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, bytes, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void buf_set(sse_buf *b, apr_pool_t *p, const char *bytes, apr_size_t n)
{
    b->len = 0;
    buf_append(b, p, bytes, n);
}

/* Forget the current event and everything allocated for it. */
static void reset_event(aic_sse *s)
{
    apr_pool_clear(s->ev_pool);
    memset(&s->line, 0, sizeof(s->line));
    memset(&s->data, 0, sizeof(s->data));
    memset(&s->event, 0, sizeof(s->event));
    memset(&s->error, 0, sizeof(s->error));
    s->has_error = 0;
}

static apr_status_t fail(aic_sse *s, apr_status_t rv)
{
    s->rv = rv;
    reset_event(s);
    return rv;
}

static apr_status_t line_append(aic_sse *s, const char *bytes, apr_size_t n)
{
    if (s->line.len + n + s->data.len > s->max) {
        return fail(s, APR_ENOSPC);
    }
    buf_append(&s->line, s->ev_pool, bytes, n);
    return APR_SUCCESS;
}

static apr_status_t dispatch(aic_sse *s)
{
    apr_status_t rv = APR_SUCCESS;

    /* Without data there is no event (spec), unless llama.cpp sent its error. */
    if (s->data.len || s->has_error) {
        aic_sse_event ev;

        if (s->data.len) {
            s->data.s[--s->data.len] = '\0'; /* the LF after the last value */
        }
        ev.event = s->event.len ? s->event.s : NULL;
        ev.data = s->data.len ? s->data.s : "";
        ev.data_len = s->data.len;
        ev.field_error = s->has_error ? (s->error.len ? s->error.s : "") : NULL;
        rv = s->cb(s->ctx, &ev);
    }
    if (rv != APR_SUCCESS) {
        return fail(s, rv);
    }
    reset_event(s);
    return APR_SUCCESS;
}

static int field_is(const char *name, apr_size_t len, const char *want)
{
    return len == strlen(want) && !memcmp(name, want, len);
}

/* One complete line in s->line. */
static apr_status_t process_line(aic_sse *s)
{
    const char *line = s->line.s;
    apr_size_t len = s->line.len;
    const char *colon, *value;
    apr_size_t name_len, value_len;

    if (len == 0) {
        return dispatch(s);
    }
    s->line.len = 0; /* the buffer is reused; line stays readable until the next append */
    if (line[0] == ':') {
        return APR_SUCCESS;
    }
    colon = memchr(line, ':', len);
    name_len = colon ? (apr_size_t)(colon - line) : len;
    value = colon ? colon + 1 : line + len;
    value_len = len - (apr_size_t)(value - line);
    if (value_len && *value == ' ') {
        value++;
        value_len--;
    }
    if (field_is(line, name_len, "data")) {
        buf_append(&s->data, s->ev_pool, value, value_len);
        buf_append(&s->data, s->ev_pool, "\n", 1);
    } else if (field_is(line, name_len, "event")) {
        buf_set(&s->event, s->ev_pool, value, value_len);
    } else if (field_is(line, name_len, "error")) {
        buf_set(&s->error, s->ev_pool, value, value_len);
        s->has_error = 1;
    }
    return APR_SUCCESS;
}

aic_sse *aic_sse_create(apr_pool_t *p, aic_sse_cb cb, void *ctx, apr_size_t max_event_bytes)
{
    aic_sse *s = apr_pcalloc(p, sizeof(*s));

    if (apr_pool_create(&s->ev_pool, p) != APR_SUCCESS) {
        return NULL;
    }
    s->cb = cb;
    s->ctx = ctx;
    s->max = max_event_bytes;
    return s;
}

apr_status_t aic_sse_feed(aic_sse *s, const char *data, apr_size_t len)
{
    apr_size_t i = 0;
    apr_status_t rv;

    if (s->rv != APR_SUCCESS) {
        return s->rv;
    }
    /* Drop one UTF-8 BOM at the very start, even when it comes split. */
    while (s->bom >= 0 && i < len) {
        if (data[i] == BOM[s->bom]) {
            i++;
            if (++s->bom == 3) {
                s->bom = -1;
            }
        } else {
            if (s->bom > 0 && (rv = line_append(s, BOM, (apr_size_t)s->bom)) != APR_SUCCESS) {
                return rv;
            }
            s->bom = -1;
        }
    }
    while (i < len) {
        apr_size_t j = i;

        if (s->pending_cr) {
            s->pending_cr = 0;
            if (data[i] == '\n') {
                i++;
                continue;
            }
        }
        while (j < len && data[j] != '\n' && data[j] != '\r') {
            j++;
        }
        if (j > i && (rv = line_append(s, data + i, j - i)) != APR_SUCCESS) {
            return rv;
        }
        if (j == len) {
            break;
        }
        s->pending_cr = data[j] == '\r';
        i = j + 1;
        if ((rv = process_line(s)) != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

apr_status_t aic_sse_flush(aic_sse *s)
{
    apr_status_t rv;

    if (s->rv != APR_SUCCESS) {
        return s->rv;
    }
    if (s->line.len && (rv = process_line(s)) != APR_SUCCESS) {
        return rv;
    }
    return dispatch(s);
}

apr_status_t aic_sse_end(aic_sse *s)
{
    int pending;

    if (s->rv != APR_SUCCESS) {
        return s->rv;
    }
    pending = s->data.len || s->has_error || (s->line.len && s->line.s[0] != ':');
    reset_event(s);
    s->pending_cr = 0;
    s->bom = 0;
    return pending ? APR_INCOMPLETE : APR_SUCCESS;
}
