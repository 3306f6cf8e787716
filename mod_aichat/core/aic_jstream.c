#include "aic_jstream.h"

#include <apr_strings.h>
#include <string.h>
#include <yajl/yajl_parse.h>

struct aic_jstream {
    apr_pool_t *pool, *item_pool;
    yajl_handle h;
    aic_json_builder *b;
    aic_jstream_item_fn fn;
    void *baton;
    int max_depth;
    apr_size_t max_string;
    int depth;       /* containers open in the document */
    int items_array; /* the array under a top-level key is open */
    int building;    /* an item is being built */
    aic_jstream_top top;
    char *topkey;
    apr_status_t stop; /* why a callback stopped the parser */
    const char *code, *message;
    apr_off_t offset, fed;
    int bom_seen;
    unsigned char tail[3]; /* the last bytes of the pieces before, for an error's place */
    apr_size_t tail_len;
};

static int fail(aic_jstream *js, const char *code, const char *message)
{
    js->stop = AIC_JSTREAM_EBAD;
    js->code = code;
    js->message = message;
    return 0;
}

static int deliver(aic_jstream *js, int member)
{
    aic_json *item = aic_json_builder_take(js->b, js->item_pool);
    apr_status_t rv;

    js->building = 0;
    rv = js->fn(js->baton, js->top == AIC_JSTREAM_ARRAY ? NULL : js->topkey, member, item,
                js->item_pool);
    apr_pool_clear(js->item_pool);
    if (rv != APR_SUCCESS) {
        js->stop = rv;
        return 0;
    }
    return 1;
}

/* Where a value that starts now belongs: 0 inside an item or at the top,
 * 1 an item (element), 2 a top-level member's value. */
static int starts_item(const aic_jstream *js)
{
    if (js->building || js->depth == 0) {
        return 0;
    }
    if (js->depth == 1) {
        return js->top == AIC_JSTREAM_ARRAY ? 1 : 2;
    }
    return (js->depth == 2 && js->items_array) ? 1 : 0;
}

static int scalar_done(aic_jstream *js, apr_status_t rv, int where)
{
    if (rv != APR_SUCCESS) {
        return fail(js, "limit_exceeded", "out of memory");
    }
    if (where) {
        return deliver(js, where == 2);
    }
    return 1;
}

static int scalar_begin(aic_jstream *js, int *where)
{
    *where = starts_item(js);
    if (js->depth == 0) {
        js->top = AIC_JSTREAM_SCALAR;
        return 0;
    }
    if (*where) {
        js->building = 1;
    }
    return js->building;
}

static int on_null(void *ctx)
{
    aic_jstream *js = ctx;
    int where;

    if (!scalar_begin(js, &where)) {
        return 1;
    }
    return scalar_done(js, aic_json_builder_null(js->b), where);
}

static int on_bool(void *ctx, int v)
{
    aic_jstream *js = ctx;
    int where;

    if (!scalar_begin(js, &where)) {
        return 1;
    }
    return scalar_done(js, aic_json_builder_bool(js->b, v), where);
}

static int on_int(void *ctx, long long v)
{
    aic_jstream *js = ctx;
    int where;

    if (!scalar_begin(js, &where)) {
        return 1;
    }
    return scalar_done(js, aic_json_builder_int(js->b, v), where);
}

static int on_double(void *ctx, double v)
{
    aic_jstream *js = ctx;
    int where;

    if (!scalar_begin(js, &where)) {
        return 1;
    }
    return scalar_done(js, aic_json_builder_double(js->b, v), where);
}

/* YAJL decodes an escaped lone surrogate ("\udc00") to its three bytes,
 * which are not UTF-8, and "\u0000" to a NUL, which no C string or
 * PostgreSQL text holds: each becomes U+FFFD (a copy in the item's pool). */
static const unsigned char *clean(aic_jstream *js, const unsigned char *s, size_t *len)
{
    size_t n = *len, o = 0;
    unsigned char *out;

    if (!memchr(s, 0, n) && !memchr(s, 0xED, n)) {
        return s;
    }
    out = apr_palloc(js->item_pool, 3 * n + 1); /* a NUL (1 byte) becomes 3 */
    for (size_t i = 0; i < n; i++) {
        if (s[i] == 0 || (s[i] == 0xED && i + 2 < n && s[i + 1] >= 0xA0)) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += s[i] ? 2 : 0;
        } else {
            out[o++] = s[i];
        }
    }
    *len = o;
    return out;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    aic_jstream *js = ctx;
    int where;

    if (len > js->max_string) {
        return fail(js, "limit_exceeded", "a JSON string is longer than the limit");
    }
    s = clean(js, s, &len);
    if (!scalar_begin(js, &where)) {
        return 1;
    }
    return scalar_done(js, aic_json_builder_string(js->b, (const char *)s, len), where);
}

static int on_key(void *ctx, const unsigned char *s, size_t len)
{
    aic_jstream *js = ctx;

    if (len > js->max_string) {
        return fail(js, "limit_exceeded", "a JSON key is longer than the limit");
    }
    s = clean(js, s, &len);
    if (js->building) {
        return aic_json_builder_key(js->b, (const char *)s, len) == APR_SUCCESS
                   ? 1
                   : fail(js, "limit_exceeded", "out of memory");
    }
    if (js->depth == 1) {
        js->topkey = apr_pstrmemdup(js->pool, (const char *)s, len);
    }
    return 1;
}

static int on_begin(aic_jstream *js, int array)
{
    int where = starts_item(js);

    if (js->depth + 1 > js->max_depth) {
        return fail(js, "limit_exceeded", "JSON nested deeper than the limit");
    }
    if (js->depth == 0) {
        js->top = array ? AIC_JSTREAM_ARRAY : AIC_JSTREAM_OBJECT;
        js->depth = 1;
        return 1;
    }
    if (where == 2 && array) {
        js->items_array = 1; /* its elements are the items */
        js->depth++;
        return 1;
    }
    if (where) {
        js->building = where;
    }
    js->depth++;
    if (js->building && aic_json_builder_begin(js->b, array) != APR_SUCCESS) {
        return fail(js, "limit_exceeded", "JSON nested deeper than the limit");
    }
    return 1;
}

static int on_end(aic_jstream *js)
{
    js->depth--;
    if (js->building) {
        int member = js->building == 2;

        if (aic_json_builder_end(js->b) != APR_SUCCESS) {
            return fail(js, "invalid_json", "unbalanced JSON");
        }
        if (aic_json_builder_depth(js->b) == 0) {
            return deliver(js, member);
        }
        return 1;
    }
    if (js->depth == 1 && js->items_array) {
        js->items_array = 0;
    }
    return 1;
}

static int on_start_map(void *ctx)
{
    return on_begin(ctx, 0);
}

static int on_start_array(void *ctx)
{
    return on_begin(ctx, 1);
}

static int on_end_container(void *ctx)
{
    return on_end(ctx);
}

static const yajl_callbacks callbacks = {
    on_null, on_bool,          on_int,         on_double,       NULL, on_string, on_start_map,
    on_key,  on_end_container, on_start_array, on_end_container};

static apr_status_t jstream_release(void *data)
{
    aic_jstream *js = data;

    if (js->h) {
        yajl_free(js->h);
        js->h = NULL;
    }
    return APR_SUCCESS;
}

aic_jstream *aic_jstream_create(apr_pool_t *p, int max_depth, apr_size_t max_string,
                                aic_jstream_item_fn fn, void *baton)
{
    aic_jstream *js = apr_pcalloc(p, sizeof(*js));

    js->pool = p;
    apr_pool_create(&js->item_pool, p);
    js->b = aic_json_builder_create(p);
    js->fn = fn;
    js->baton = baton;
    js->max_depth = max_depth;
    js->max_string = max_string;
    js->h = yajl_alloc(&callbacks, NULL, js);
    if (js->h) {
        apr_pool_cleanup_register(p, js, jstream_release, apr_pool_cleanup_null);
    }
    return js;
}

/* How far before the last byte YAJL read (at index last of buf, the bytes
 * before buf in js->tail) the invalid UTF-8 sequence it refused begins: YAJL
 * reads the byte that breaks a sequence before it refuses it. The sequence
 * began at the lead byte (0xC0 and up) of the three bytes before when its
 * length reaches the breaking byte; else the breaking byte itself is the bad
 * one (a stray or impossible byte): 0. */
static apr_size_t bad_utf8_back(const aic_jstream *js, const unsigned char *buf, apr_size_t last)
{
    for (apr_size_t back = 1; back <= 3; back++) {
        unsigned char c;

        if (back <= last) {
            c = buf[last - back];
        } else if (back - last <= js->tail_len) {
            c = js->tail[js->tail_len - (back - last)];
        } else {
            break;
        }
        if (c < 0x80) {
            break;
        }
        if (c >= 0xC0) {
            apr_size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;

            return back < n ? back : 0;
        }
    }
    return 0;
}

/* Keep the last bytes fed, for bad_utf8_back. */
static void keep_tail(aic_jstream *js, const unsigned char *buf, apr_size_t len)
{
    if (len >= sizeof(js->tail)) {
        memcpy(js->tail, buf + len - sizeof(js->tail), sizeof(js->tail));
        js->tail_len = sizeof(js->tail);
        return;
    }
    if (js->tail_len + len > sizeof(js->tail)) {
        apr_size_t drop = js->tail_len + len - sizeof(js->tail);

        memmove(js->tail, js->tail + drop, js->tail_len - drop);
        js->tail_len -= drop;
    }
    memcpy(js->tail + js->tail_len, buf, len);
    js->tail_len += len;
}

/* Turn YAJL's verdict into ours; its error text names UTF-8 for bad bytes.
 * buf is the piece YAJL was given (NULL at the end). */
static apr_status_t verdict(aic_jstream *js, yajl_status st, apr_off_t base,
                            const unsigned char *buf)
{
    unsigned char *e;

    if (st == yajl_status_ok) {
        return APR_SUCCESS;
    }
    if (js->code || js->stop != APR_SUCCESS) {
        if (js->code && !js->offset) {
            js->offset = base + (apr_off_t)yajl_get_bytes_consumed(js->h);
        }
        return js->stop != APR_SUCCESS ? js->stop : AIC_JSTREAM_EBAD;
    }
    e = yajl_get_error(js->h, 0, NULL, 0);
    js->offset = base + (apr_off_t)yajl_get_bytes_consumed(js->h);
    if (e && strstr((const char *)e, "UTF8")) {
        if (buf && yajl_get_bytes_consumed(js->h) > 0) {
            apr_size_t last = yajl_get_bytes_consumed(js->h) - 1;

            js->offset = base + (apr_off_t)last - (apr_off_t)bad_utf8_back(js, buf, last);
        }
        js->code = "invalid_utf8";
        js->message = apr_psprintf(js->pool, "invalid UTF-8 at byte %" APR_OFF_T_FMT, js->offset);
    } else {
        js->code = "invalid_json";
        js->message =
            apr_psprintf(js->pool, "%s at byte %" APR_OFF_T_FMT,
                         e ? apr_pstrdup(js->pool, (const char *)e) : "parse error", js->offset);
    }
    if (e) {
        yajl_free_error(js->h, e);
    }
    return AIC_JSTREAM_EBAD;
}

apr_status_t aic_jstream_feed(aic_jstream *js, const char *buf, apr_size_t len)
{
    apr_off_t base = js->fed;
    apr_status_t rv;

    if (!js->h) {
        return APR_ENOMEM;
    }
    if (js->code || js->stop != APR_SUCCESS) {
        return js->stop != APR_SUCCESS ? js->stop : AIC_JSTREAM_EBAD;
    }
    js->fed += (apr_off_t)len;
    /* One leading byte order mark (fed whole in the first piece). */
    if (!js->bom_seen) {
        js->bom_seen = 1;
        if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
            buf += 3;
            len -= 3;
            base += 3;
        }
    }
    rv = verdict(js, yajl_parse(js->h, (const unsigned char *)buf, len), base,
                 (const unsigned char *)buf);
    keep_tail(js, (const unsigned char *)buf, len);
    return rv;
}

apr_status_t aic_jstream_finish(aic_jstream *js)
{
    if (!js->h) {
        return APR_ENOMEM;
    }
    if (js->code || js->stop != APR_SUCCESS) {
        return js->stop != APR_SUCCESS ? js->stop : AIC_JSTREAM_EBAD;
    }
    if (verdict(js, yajl_complete_parse(js->h), js->fed, NULL) != APR_SUCCESS) {
        if (js->code && strcmp(js->code, "invalid_json") == 0) {
            js->offset = js->fed;
            js->message =
                apr_psprintf(js->pool, "the JSON ends early (at byte %" APR_OFF_T_FMT ")", js->fed);
        }
        return js->stop != APR_SUCCESS ? js->stop : AIC_JSTREAM_EBAD;
    }
    if (js->top == AIC_JSTREAM_NONE) {
        js->code = "invalid_json";
        js->message = "the file is empty";
        return AIC_JSTREAM_EBAD;
    }
    return APR_SUCCESS;
}

void aic_jstream_error(const aic_jstream *js, const char **code, const char **message,
                       apr_off_t *offset)
{
    *code = js->code ? js->code : "invalid_json";
    *message = js->message ? js->message : "the JSON could not be read";
    *offset = js->offset;
}

aic_jstream_top aic_jstream_top_level(const aic_jstream *js)
{
    return js->top;
}

apr_off_t aic_jstream_bytes(const aic_jstream *js)
{
    return js->fed;
}
