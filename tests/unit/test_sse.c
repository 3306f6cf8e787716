/* Unit tests for core/aic_sse: the incremental Server-Sent Events parser. */
#include "unit_helpers.h"

#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_file_io.h>

#include "core/aic_sse.h"

#ifndef SAMPLES_DIR
#define SAMPLES_DIR "tests/unit/samples"
#endif

/* An event as received, copied into the test pool. */
typedef struct {
    const char *event;
    const char *data;
    apr_size_t data_len;
    const char *error;
} got_event;

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *events; /* got_event */
    int stop_after;             /* > 0: fail with APR_EGENERAL on that event */
} collector;

static apr_status_t collect(void *ctx, const aic_sse_event *ev)
{
    collector *c = ctx;
    got_event *g = apr_array_push(c->events);

    g->event = ev->event ? apr_pstrdup(c->p, ev->event) : NULL;
    g->data = apr_pstrmemdup(c->p, ev->data, ev->data_len);
    g->data_len = ev->data_len;
    g->error = ev->field_error ? apr_pstrdup(c->p, ev->field_error) : NULL;
    assert_int_equal(strlen(ev->data), ev->data_len);
    if (c->stop_after > 0 && c->events->nelts == c->stop_after) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static collector *new_collector(apr_pool_t *p)
{
    collector *c = apr_pcalloc(p, sizeof(*c));

    c->p = p;
    c->events = apr_array_make(p, 8, sizeof(got_event));
    return c;
}

static got_event *ev_at(collector *c, int i)
{
    assert_true(i < c->events->nelts);
    return &APR_ARRAY_IDX(c->events, i, got_event);
}

/* Feed text in pieces of chunk bytes (0 = all at once); returns the first failure. */
static apr_status_t feed_chunks(aic_sse *s, const char *text, apr_size_t len, apr_size_t chunk)
{
    apr_size_t off = 0;

    if (chunk == 0) {
        return aic_sse_feed(s, text, len);
    }
    while (off < len) {
        apr_size_t n = len - off < chunk ? len - off : chunk;
        apr_status_t rv = aic_sse_feed(s, text + off, n);

        if (rv != APR_SUCCESS) {
            return rv;
        }
        off += n;
    }
    return APR_SUCCESS;
}

/* A fixed-seed generator, the same on every platform. */
static apr_uint32_t next_rand(apr_uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7FFF;
}

/* Feed text in random pieces of 1..64 bytes. */
static apr_status_t feed_random(aic_sse *s, const char *text, apr_size_t len, apr_uint32_t seed)
{
    apr_size_t off = 0;

    while (off < len) {
        apr_size_t n = 1 + next_rand(&seed) % 64;
        apr_status_t rv;

        if (n > len - off) {
            n = len - off;
        }
        if ((rv = aic_sse_feed(s, text + off, n)) != APR_SUCCESS) {
            return rv;
        }
        off += n;
    }
    return APR_SUCCESS;
}

/* Parse text whole and byte by byte; both must give the same events, which
 * are returned (from the byte-by-byte run). */
static collector *parse_both(apr_pool_t *p, const char *text, apr_size_t max)
{
    collector *whole = new_collector(p), *bytes = new_collector(p);
    aic_sse *s1 = aic_sse_create(p, collect, whole, max);
    aic_sse *s2 = aic_sse_create(p, collect, bytes, max);
    apr_size_t len = strlen(text);

    assert_int_equal(feed_chunks(s1, text, len, 0), APR_SUCCESS);
    assert_int_equal(feed_chunks(s2, text, len, 1), APR_SUCCESS);
    assert_int_equal(whole->events->nelts, bytes->events->nelts);
    for (int i = 0; i < whole->events->nelts; i++) {
        got_event *a = ev_at(whole, i), *b = ev_at(bytes, i);

        assert_string_equal(a->data, b->data);
        assert_true((a->event == NULL) == (b->event == NULL));
        if (a->event) {
            assert_string_equal(a->event, b->event);
        }
        assert_true((a->error == NULL) == (b->error == NULL));
    }
    return bytes;
}

static void test_basic_lf(void **state)
{
    collector *c = parse_both(*state, "data: hello\n\ndata: world\n\n", 1024);

    assert_int_equal(c->events->nelts, 2);
    assert_string_equal(ev_at(c, 0)->data, "hello");
    assert_int_equal(ev_at(c, 0)->data_len, 5);
    assert_null(ev_at(c, 0)->event);
    assert_null(ev_at(c, 0)->error);
    assert_string_equal(ev_at(c, 1)->data, "world");
}

static void test_crlf(void **state)
{
    collector *c = parse_both(*state, "event: a\r\ndata: x\r\n\r\ndata: y\r\n\r\n", 1024);

    assert_int_equal(c->events->nelts, 2);
    assert_string_equal(ev_at(c, 0)->event, "a");
    assert_string_equal(ev_at(c, 0)->data, "x");
    assert_null(ev_at(c, 1)->event);
    assert_string_equal(ev_at(c, 1)->data, "y");
}

static void test_crlf_split_across_feeds(void **state)
{
    apr_pool_t *p = *state;
    collector *c = new_collector(p);
    aic_sse *s = aic_sse_create(p, collect, c, 1024);

    /* Each CR ends one feed and its LF starts the next: if the LF counted as
     * a line of its own, "a" would be dispatched alone. */
    assert_int_equal(aic_sse_feed(s, "data: a\r", 8), APR_SUCCESS);
    assert_int_equal(aic_sse_feed(s, "\ndata: b\r", 9), APR_SUCCESS);
    assert_int_equal(c->events->nelts, 0);
    assert_int_equal(aic_sse_feed(s, "\n\r", 2), APR_SUCCESS);
    assert_int_equal(c->events->nelts, 1);
    assert_int_equal(aic_sse_feed(s, "\n", 1), APR_SUCCESS);
    assert_int_equal(c->events->nelts, 1);
    assert_string_equal(ev_at(c, 0)->data, "a\nb");
    assert_int_equal(aic_sse_end(s), APR_SUCCESS);
}

static void test_lone_cr(void **state)
{
    collector *c = parse_both(*state, "data: a\rdata: b\r\rdata: c\r\r", 1024);

    assert_int_equal(c->events->nelts, 2);
    assert_string_equal(ev_at(c, 0)->data, "a\nb");
    assert_string_equal(ev_at(c, 1)->data, "c");
}

static void test_mixed_line_ends(void **state)
{
    collector *c = parse_both(*state, "data: a\ndata: b\r\ndata: c\r\n\rdata: d\n\r\n", 1024);

    assert_int_equal(c->events->nelts, 2);
    assert_string_equal(ev_at(c, 0)->data, "a\nb\nc");
    assert_string_equal(ev_at(c, 1)->data, "d");
}

static void test_comments(void **state)
{
    collector *c = parse_both(
        *state, ": keep-alive\n\n: OPENROUTER PROCESSING\n\ndata: x\n: inside\ndata: y\n\n:\n\n",
        1024);

    assert_int_equal(c->events->nelts, 1);
    assert_string_equal(ev_at(c, 0)->data, "x\ny");
}

static void test_multiline_and_spaces(void **state)
{
    /* One leading space is dropped, no more; an empty data line adds an empty line. */
    collector *c = parse_both(*state, "data: a\ndata:\ndata:  b\ndata:c \n\n", 1024);

    assert_int_equal(c->events->nelts, 1);
    assert_string_equal(ev_at(c, 0)->data, "a\n\n b\nc ");
}

static void test_no_space_and_no_colon(void **state)
{
    collector *c = parse_both(*state, "data:x\n\ndata\n\nevent:name\ndata:{}\n\n", 1024);

    assert_int_equal(c->events->nelts, 3);
    assert_string_equal(ev_at(c, 0)->data, "x");
    /* "data" alone is the field with an empty value: an event with empty data. */
    assert_string_equal(ev_at(c, 1)->data, "");
    assert_int_equal(ev_at(c, 1)->data_len, 0);
    assert_string_equal(ev_at(c, 2)->event, "name");
    assert_string_equal(ev_at(c, 2)->data, "{}");
}

static void test_value_keeps_colons(void **state)
{
    collector *c = parse_both(*state, "data: {\"a\":\"b:c\"}\n\n", 1024);

    assert_int_equal(c->events->nelts, 1);
    assert_string_equal(ev_at(c, 0)->data, "{\"a\":\"b:c\"}");
}

static void test_ignored_fields(void **state)
{
    collector *c = parse_both(*state,
                              "id: 7\nretry: 100\nfoo: bar\nDATA: no\nevent: ping\ndata: {}\n\n"
                              "event: lonely\n\nid: 8\n\n",
                              1024);

    /* An event: without data is dropped, and so are id/retry-only blocks. */
    assert_int_equal(c->events->nelts, 1);
    assert_string_equal(ev_at(c, 0)->event, "ping");
    assert_string_equal(ev_at(c, 0)->data, "{}");
}

static void test_event_resets_between_events(void **state)
{
    collector *c =
        parse_both(*state, "event: one\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\n", 1024);

    assert_int_equal(c->events->nelts, 3);
    assert_string_equal(ev_at(c, 0)->event, "one");
    assert_null(ev_at(c, 1)->event);
    /* An empty event name means the default type. */
    assert_null(ev_at(c, 2)->event);
}

static void test_error_field(void **state)
{
    collector *c =
        parse_both(*state, "error: {\"code\":500,\"message\":\"boom\"}\n\ndata: after\n\n", 1024);

    assert_int_equal(c->events->nelts, 2);
    assert_string_equal(ev_at(c, 0)->error, "{\"code\":500,\"message\":\"boom\"}");
    assert_string_equal(ev_at(c, 0)->data, "");
    assert_null(ev_at(c, 1)->error);
}

static void test_bom(void **state)
{
    collector *c = parse_both(*state,
                              "\xEF\xBB\xBF"
                              "data: a\n\n",
                              1024);

    assert_int_equal(c->events->nelts, 1);
    assert_string_equal(ev_at(c, 0)->data, "a");
    /* Only one BOM is dropped: a second one makes the field name unknown. */
    c = parse_both(*state,
                   "\xEF\xBB\xBF\xEF\xBB\xBF"
                   "data: a\n\n",
                   1024);
    assert_int_equal(c->events->nelts, 0);
    /* A partial BOM is data, not dropped. */
    c = parse_both(*state,
                   "\xEF\xBB"
                   "data: a\n\ndata: b\n\n",
                   1024);
    assert_int_equal(c->events->nelts, 1);
    assert_string_equal(ev_at(c, 0)->data, "b");
}

static void test_oversize(void **state)
{
    apr_pool_t *p = *state;
    collector *c = new_collector(p);
    aic_sse *s = aic_sse_create(p, collect, c, 64);
    char big[200];

    /* Many small events pass: the limit is per event. */
    for (int i = 0; i < 100; i++) {
        assert_int_equal(aic_sse_feed(s, "data: 0123456789012345678901234567890123\n\n", 42),
                         APR_SUCCESS);
    }
    assert_int_equal(c->events->nelts, 100);
    /* An event over the limit split over several lines. */
    assert_int_equal(aic_sse_feed(s, "data: 0123456789012345678901234567890123\n", 41),
                     APR_SUCCESS);
    assert_int_equal(aic_sse_feed(s, "data: 0123456789012345678901234567890123\n", 41), APR_ENOSPC);
    /* The parser stays stopped. */
    assert_int_equal(aic_sse_feed(s, "\n\ndata: x\n\n", 11), APR_ENOSPC);
    assert_int_equal(aic_sse_end(s), APR_ENOSPC);
    assert_int_equal(c->events->nelts, 100);

    /* One long line, fed byte by byte. */
    c = new_collector(p);
    s = aic_sse_create(p, collect, c, 64);
    memset(big, 'x', sizeof(big));
    memcpy(big, "data: ", 6);
    assert_int_equal(feed_chunks(s, big, sizeof(big), 1), APR_ENOSPC);
    assert_int_equal(c->events->nelts, 0);
}

static void test_callback_stops(void **state)
{
    apr_pool_t *p = *state;
    collector *c = new_collector(p);
    aic_sse *s = aic_sse_create(p, collect, c, 1024);
    const char *text = "data: 1\n\ndata: 2\n\ndata: 3\n\n";

    c->stop_after = 1;
    assert_int_equal(aic_sse_feed(s, text, strlen(text)), APR_EGENERAL);
    assert_int_equal(c->events->nelts, 1);
    assert_int_equal(aic_sse_feed(s, text, strlen(text)), APR_EGENERAL);
    assert_int_equal(c->events->nelts, 1);
}

static void test_end(void **state)
{
    apr_pool_t *p = *state;
    collector *c = new_collector(p);
    aic_sse *s = aic_sse_create(p, collect, c, 1024);

    /* A complete stream. */
    assert_int_equal(aic_sse_feed(s, "data: 1\n\n", 9), APR_SUCCESS);
    assert_int_equal(aic_sse_end(s), APR_SUCCESS);
    /* Data without its blank line is discarded and reported. */
    assert_int_equal(aic_sse_feed(s, "data: 2\n", 8), APR_SUCCESS);
    assert_int_equal(aic_sse_end(s), APR_INCOMPLETE);
    /* So is a partial line. */
    assert_int_equal(aic_sse_feed(s, "data: 3", 7), APR_SUCCESS);
    assert_int_equal(aic_sse_end(s), APR_INCOMPLETE);
    /* A comment pending is nothing. */
    assert_int_equal(aic_sse_feed(s, ": keep", 6), APR_SUCCESS);
    assert_int_equal(aic_sse_end(s), APR_SUCCESS);
    assert_int_equal(c->events->nelts, 1);
    /* Nothing of a discarded event leaks into the next stream. */
    assert_int_equal(aic_sse_feed(s, "data: 4\n", 8), APR_SUCCESS);
    assert_int_equal(aic_sse_end(s), APR_INCOMPLETE);
    assert_int_equal(aic_sse_feed(s, "data: 5\n\n", 9), APR_SUCCESS);
    assert_int_equal(c->events->nelts, 2);
    assert_string_equal(ev_at(c, 1)->data, "5");
}

static void test_flush(void **state)
{
    apr_pool_t *p = *state;
    collector *c = new_collector(p);
    aic_sse *s = aic_sse_create(p, collect, c, 1024);

    /* Gemini may close without the final blank line, even mid-line. */
    assert_int_equal(aic_sse_feed(s, "data: a\r\n\r\ndata: b\r\ndata: c", 27), APR_SUCCESS);
    assert_int_equal(c->events->nelts, 1);
    assert_int_equal(aic_sse_flush(s), APR_SUCCESS);
    assert_int_equal(c->events->nelts, 2);
    assert_string_equal(ev_at(c, 1)->data, "b\nc");
    assert_int_equal(aic_sse_end(s), APR_SUCCESS);
    /* Flushing with nothing pending dispatches nothing. */
    assert_int_equal(aic_sse_flush(s), APR_SUCCESS);
    assert_int_equal(c->events->nelts, 2);
}

/* The bytes of a sample file, NUL-terminated, from the test pool. */
static const char *load_sample(apr_pool_t *p, const char *name, apr_size_t *len)
{
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    char *buf;

    assert_int_equal(apr_file_open(&f, apr_pstrcat(p, SAMPLES_DIR, "/", name, NULL),
                                   APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, p),
                     APR_SUCCESS);
    assert_int_equal(apr_file_info_get(&fi, APR_FINFO_SIZE, f), APR_SUCCESS);
    *len = (apr_size_t)fi.size;
    buf = apr_palloc(p, *len + 1);
    assert_int_equal(apr_file_read_full(f, buf, *len, NULL), APR_SUCCESS);
    buf[*len] = '\0';
    apr_file_close(f);
    return buf;
}

/* A sample parsed whole, byte by byte and in random splits gives the same events. */
static void check_sample(apr_pool_t *p, const char *name, int count, const char *first_event,
                         const char *last_prefix)
{
    apr_size_t len;
    const char *text = load_sample(p, name, &len);
    collector *whole = new_collector(p);
    aic_sse *s = aic_sse_create(p, collect, whole, 1 << 20);

    assert_int_equal(feed_chunks(s, text, len, 0), APR_SUCCESS);
    assert_int_equal(aic_sse_end(s), APR_SUCCESS);
    assert_int_equal(whole->events->nelts, count);
    if (first_event) {
        assert_string_equal(ev_at(whole, 0)->event, first_event);
    } else {
        assert_null(ev_at(whole, 0)->event);
    }
    assert_memory_equal(ev_at(whole, count - 1)->data, last_prefix, strlen(last_prefix));
    for (int run = 0; run < 21; run++) {
        collector *c = new_collector(p);

        s = aic_sse_create(p, collect, c, 1 << 20);
        if (run == 0) {
            assert_int_equal(feed_chunks(s, text, len, 1), APR_SUCCESS);
        } else {
            assert_int_equal(feed_random(s, text, len, (apr_uint32_t)run * 7919u), APR_SUCCESS);
        }
        assert_int_equal(aic_sse_end(s), APR_SUCCESS);
        assert_int_equal(c->events->nelts, count);
        for (int i = 0; i < count; i++) {
            assert_string_equal(ev_at(c, i)->data, ev_at(whole, i)->data);
            /* CR never leaks into data. */
            assert_null(strchr(ev_at(c, i)->data, '\r'));
        }
    }
}

static void test_samples(void **state)
{
    apr_pool_t *p = *state;

    check_sample(p, "openai-stream.txt", 8, NULL, "[DONE]");
    check_sample(p, "anthropic-stream.txt", 9, "message_start", "{\"type\":\"message_stop\"}");
    check_sample(p, "gemini-stream.txt", 3, NULL, "{\"candidates\"");
}

/* The process's virtual size in pages (Linux; 0 elsewhere): APR pools take
 * their memory with mmap, which malloc statistics do not see. */
static size_t vm_pages(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;

    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) {
            pages = 0;
        }
        fclose(f);
    }
    return pages;
}

/* A stream fed for minutes must not keep what it dispatched: after a warm-up,
 * thousands more events leave the heap where it was. */
static void test_long_stream(void **state)
{
    apr_pool_t *p = *state;
    collector *c = new_collector(p);
    aic_sse *s = aic_sse_create(p, collect, c, 4096);
    apr_pool_t *copies = NULL;
    char event[2000];
    size_t before;

    memset(event, 'z', sizeof(event));
    memcpy(event, "data: ", 6);
    event[1000] = '\n';
    memcpy(event + 1001, "data: ", 6);
    event[sizeof(event) - 2] = '\n';
    event[sizeof(event) - 1] = '\n';
    /* The collector copies each event into a pool of its own, cleared each time. */
    assert_int_equal(apr_pool_create(&copies, p), APR_SUCCESS);
    c->p = copies;
    c->events = apr_array_make(p, 1, sizeof(got_event));
    for (int i = 0; i < 10; i++) {
        assert_int_equal(feed_chunks(s, event, sizeof(event), 100), APR_SUCCESS);
        c->events->nelts = 0;
        apr_pool_clear(copies);
    }
    before = vm_pages();
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(feed_chunks(s, event, sizeof(event), 100), APR_SUCCESS);
        assert_int_equal(c->events->nelts, 1);
        c->events->nelts = 0;
        apr_pool_clear(copies);
    }
    /* Keeping each event would take about 25 MB. */
    assert_true(vm_pages() <= before + 256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_basic_lf),
        POOL_TEST(test_crlf),
        POOL_TEST(test_crlf_split_across_feeds),
        POOL_TEST(test_lone_cr),
        POOL_TEST(test_mixed_line_ends),
        POOL_TEST(test_comments),
        POOL_TEST(test_multiline_and_spaces),
        POOL_TEST(test_no_space_and_no_colon),
        POOL_TEST(test_value_keeps_colons),
        POOL_TEST(test_ignored_fields),
        POOL_TEST(test_event_resets_between_events),
        POOL_TEST(test_error_field),
        POOL_TEST(test_bom),
        POOL_TEST(test_oversize),
        POOL_TEST(test_callback_stops),
        POOL_TEST(test_end),
        POOL_TEST(test_flush),
        POOL_TEST(test_samples),
        POOL_TEST(test_long_stream),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
