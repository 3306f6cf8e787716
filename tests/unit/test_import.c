/* Unit tests for the import parsers: every sample of the reference
 * (tests/unit/samples/imports) read whole and in random splits, with the
 * exact results of providers.md §8.2; the hostile files refused. */
#include "unit_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "api/imports/import.h"
#include "core/aic_zip.h"

#include <apr_file_io.h>

#define DIR SAMPLES_DIR "/imports/"

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *convs;   /* summary strings */
    apr_array_header_t *rejects; /* "id code" */
    apr_array_header_t *details; /* "ext_id|leaf|skipped|warnings|attachments|sources|times" */
    apr_array_header_t *msgs;    /* "ext_id parent=.. time=.." of every stored message */
    const char *message;         /* why the file was refused */
} seen;

/* A time in µs as ISO 8601 UTC with microseconds. */
static const char *iso(apr_pool_t *p, apr_int64_t us)
{
    apr_time_exp_t t;

    apr_time_exp_gmt(&t, (apr_time_t)us);
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", t.tm_year + 1900, t.tm_mon + 1,
                        t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, t.tm_usec);
}

/* A message's attachments: "id name +extracted" each (what is there), ", " between. */
static const char *attachments_of(apr_pool_t *p, const aic_json *list)
{
    const char *out = "";

    for (apr_size_t i = 0; i < aic_json_len(list); i++) {
        const aic_json *a = aic_json_at(list, i);
        const char *id = aic_json_cstr(aic_json_get(a, "id"));
        const char *name = aic_json_cstr(aic_json_get(a, "name"));
        const char *one = apr_pstrcat(
            p, id ? id : "", id && name ? " " : "", name ? name : "",
            aic_json_cstr(aic_json_get(a, "extracted_content")) ? " +extracted" : "", NULL);

        out = apr_pstrcat(p, out, i ? ", " : "", one, NULL);
    }
    return out;
}

/* A message's sources, " " between. */
static const char *sources_of(apr_pool_t *p, const aic_json *list)
{
    const char *out = "";

    for (apr_size_t i = 0; i < aic_json_len(list); i++) {
        out = apr_pstrcat(p, out, i ? " " : "", aic_json_cstr(aic_json_at(list, i)), NULL);
    }
    return out;
}

/* "ext_id|leaf ..|skipped {..}|warnings {..}|attachments ..|sources ..|times first..last"
 * of a conversation: the id of its active leaf; the messages that have attachments or
 * sources in stored order, each "user: .." or "assistant: ..", "; " between them ("-" for
 * none); the times of its earliest and latest messages. */
static void details_of(seen *s, const aic_import_conv *c, apr_pool_t *p)
{
    const aic_import_msg *m = (const aic_import_msg *)c->msgs->elts;
    const char *att = "", *src = "";
    apr_int64_t first = 0, last = 0;

    for (int i = 0; i < c->msgs->nelts; i++) {
        const char *role = m[i].assistant ? "assistant: " : "user: ";

        if (aic_json_len(m[i].attachments) > 0) {
            att = apr_pstrcat(p, att, *att ? "; " : "", role, attachments_of(p, m[i].attachments),
                              NULL);
        }
        if (aic_json_len(m[i].sources) > 0) {
            src = apr_pstrcat(p, src, *src ? "; " : "", role, sources_of(p, m[i].sources), NULL);
        }
        if (i == 0 || m[i].time < first) {
            first = m[i].time;
        }
        if (i == 0 || m[i].time > last) {
            last = m[i].time;
        }
        APR_ARRAY_PUSH(s->msgs, const char *) =
            apr_psprintf(s->p, "%s parent=%s time=%s", m[i].ext_id,
                         m[i].parent >= 0 ? m[m[i].parent].ext_id : "-", iso(p, m[i].time));
    }
    APR_ARRAY_PUSH(s->details, const char *) = apr_psprintf(
        s->p, "%s|leaf %s|skipped %s|warnings %s|attachments %s|sources %s|times %s..%s", c->ext_id,
        c->active >= 0 ? m[c->active].ext_id : "-", aic_json_dump(c->skipped, p),
        aic_json_dump(c->warnings, p), *att ? att : "-", *src ? src : "-", iso(p, first),
        iso(p, last));
}

/* "parent=.. time=.." of the stored message whose id starts with prefix (the first such):
 * its stored parent's id ("-" at the root) and its time. */
static const char *msg_of(const seen *s, const char *prefix)
{
    for (int i = 0; i < s->msgs->nelts; i++) {
        const char *t = APR_ARRAY_IDX(s->msgs, i, const char *);

        if (strncmp(t, prefix, strlen(prefix)) == 0) {
            return strchr(t, ' ') + 1;
        }
    }
    return "(no such message)";
}

/* "ext_id|title|stored|active|BP|models" of a conversation. */
static apr_status_t on_conv(void *baton, const aic_import_conv *c, apr_pool_t *p)
{
    seen *s = baton;
    aic_import_msg *m = (aic_import_msg *)c->msgs->elts;
    int n = c->msgs->nelts, active = 0, bp = 0;
    int *kids = apr_pcalloc(p, sizeof(int) * (apr_size_t)(n + 1)),
        *on = apr_pcalloc(p, sizeof(int) * (apr_size_t)n);
    const char *path = "", *off = "";

    for (int i = c->active; i >= 0; i = m[i].parent) {
        on[i] = 1;
        active++;
        if (m[i].assistant) {
            path = apr_pstrcat(p, m[i].model ? m[i].model : "null", *path ? ", " : "", path, NULL);
        }
    }
    for (int i = 0; i < n; i++) {
        kids[m[i].parent >= 0 ? m[i].parent : n]++;
        if (!on[i] && m[i].assistant) {
            off = apr_pstrcat(p, off, *off ? ", " : "", m[i].model ? m[i].model : "null", NULL);
        }
    }
    for (int i = 0; i <= n; i++) {
        bp += kids[i] >= 2;
    }
    APR_ARRAY_PUSH(s->convs, const char *) =
        apr_psprintf(s->p, "%s|%s|%d|%d|%d|%s%s%s", c->ext_id, c->title, n, active, bp, path,
                     *off ? " / " : "", off);
    details_of(s, c, p);
    return APR_SUCCESS;
}

static void on_reject(void *baton, const char *ext_id, const char *title, const char *code,
                      const char *message)
{
    seen *s = baton;

    APR_ARRAY_PUSH(s->rejects, const char *) = apr_psprintf(s->p, "%s %s", ext_id, code);
}

static char *slurp(apr_pool_t *p, const char *path, apr_size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = apr_palloc(p, (apr_size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (apr_size_t)n;
    return buf;
}

/* Feed buf in pieces of 1..split bytes (split 0: whole). */
static apr_status_t feed(aic_import_doc *d, const char *buf, apr_size_t len, unsigned split)
{
    apr_size_t at = 0;
    apr_status_t rv = APR_SUCCESS;

    while (at < len && rv == APR_SUCCESS) {
        apr_size_t n = split ? 1 + (apr_size_t)rand() % split : len;

        if (n > len - at) {
            n = len - at;
        }
        rv = aic_import_doc_feed(d, buf + at, n);
        at += n;
    }
    return rv == APR_SUCCESS ? aic_import_doc_finish(d) : rv;
}

/* Both passes over the file at path (named file); returns the format, fills s. */
static aic_import_format run_path(seen *s, const char *path, const char *file, unsigned split,
                                  const char **code)
{
    apr_size_t len;
    const char *buf = slurp(s->p, path, &len);
    aic_import_doc *d =
        aic_import_doc_create(s->p, file, AIC_IMPORT_UNKNOWN, on_conv, on_reject, s);
    aic_import_format f;

    *code = NULL;
    if (feed(d, buf, len, split) != APR_SUCCESS) {
        aic_import_doc_error(d, code, &s->message);
        return AIC_IMPORT_UNKNOWN;
    }
    f = aic_import_doc_format(d);
    if (f == AIC_IMPORT_UNKNOWN) {
        return f;
    }
    d = aic_import_doc_create(s->p, file, f, on_conv, on_reject, s);
    assert_int_equal(feed(d, buf, len, split), APR_SUCCESS);
    s->rejects->nelts += 0;
    APR_ARRAY_PUSH(s->rejects, const char *) =
        apr_psprintf(s->p, "skipped %s", aic_json_dump(aic_import_doc_skipped(d), s->p));
    return f;
}

/* Both passes over a sample file. */
static aic_import_format run(seen *s, const char *file, unsigned split, const char **code)
{
    return run_path(s, apr_pstrcat(s->p, DIR, file, NULL), file, split, code);
}

static seen *fresh(apr_pool_t *p)
{
    seen *s = apr_pcalloc(p, sizeof(*s));

    s->p = p;
    s->convs = apr_array_make(p, 8, sizeof(const char *));
    s->rejects = apr_array_make(p, 8, sizeof(const char *));
    s->details = apr_array_make(p, 8, sizeof(const char *));
    s->msgs = apr_array_make(p, 16, sizeof(const char *));
    return s;
}

/* The sample file read whole and in random splits: its conversations (convs),
 * their details (details, or NULL not to look) and the document's skips; the
 * last reading is returned. */
static seen *expect(apr_pool_t *p, const char *file, aic_import_format format,
                    const char *const *convs, const char *const *details, const char *skipped)
{
    seen *s = NULL;

    for (unsigned split = 0; split <= 64; split += 16) {
        const char *code;
        int n = 0;

        s = fresh(p);
        srand(split + 1);
        assert_int_equal(run(s, file, split, &code), format);
        for (; convs[n]; n++) {
            assert_true(n < s->convs->nelts);
            assert_string_equal(APR_ARRAY_IDX(s->convs, n, const char *), convs[n]);
        }
        assert_int_equal(s->convs->nelts, n);
        for (n = 0; details && details[n]; n++) {
            assert_true(n < s->details->nelts);
            assert_string_equal(APR_ARRAY_IDX(s->details, n, const char *), details[n]);
        }
        assert_true(!details || s->details->nelts == n);
        assert_string_equal(APR_ARRAY_IDX(s->rejects, s->rejects->nelts - 1, const char *),
                            skipped);
    }
    return s;
}

static void test_chatgpt_single_file(void **state)
{
    static const char *const convs[] = {
        "666835e0-4a1f-800c-9d3e-5b7a8c9d0e1f|Sourdough starter feeding schedule|4|4|0|gpt-4o, "
        "gpt-4o",
        "6891b0a9-77c4-8331-a2e5-3f9d0c1b2a34|SSE line endings|5|4|1|gpt-4o, gpt-4o / gpt-4o",
        NULL};
    static const char *const details[] = {
        "666835e0-4a1f-800c-9d3e-5b7a8c9d0e1f|leaf 9a8b7c6d-5e4f-4321-b0a9-f8e7d6c5b4a3|skipped "
        "{\"system\":1,\"hidden\":1}|warnings {}|attachments -|sources -|times "
        "2024-06-10T10:00:00.412000Z..2024-06-10T10:01:33.552200Z",
        "6891b0a9-77c4-8331-a2e5-3f9d0c1b2a34|leaf 3c4d5e6f-7a8b-4c9d-9e0f-1a2b3c4d5e6f|skipped "
        "{\"system\":1,\"empty\":1}|warnings {}|attachments -|sources -|times "
        "2025-08-05T07:50:01.550000Z..2025-08-05T07:51:42.250733Z",
        NULL};
    seen *s = expect(*state, "chatgpt-conversations.json", AIC_IMPORT_CHATGPT, convs, details,
                     "skipped {}");

    /* The first prompt has two answers; the placeholder is skipped and the final
     * answer hangs under the 2nd user prompt. */
    assert_string_equal(msg_of(s, "e1d2c3b4-"), "parent=5c4b3a29-1807-4f6e-9d5c-4b3a29180706 "
                                                "time=2025-08-05T07:50:02.310442Z");
    assert_string_equal(msg_of(s, "f0e1d2c3-"), "parent=5c4b3a29-1807-4f6e-9d5c-4b3a29180706 "
                                                "time=2025-08-05T07:50:40.871209Z");
    assert_string_equal(msg_of(s, "3c4d5e6f-"), "parent=1a2b3c4d-5e6f-4a7b-9c8d-7e6f5a4b3c2d "
                                                "time=2025-08-05T07:51:42.250733Z");
    /* Under the UUID root, the hidden context and the system node: at the root. */
    assert_string_equal(msg_of(s, "aaa2f1e0-"), "parent=- time=2024-06-10T10:00:00.412000Z");
}

static void test_chatgpt_split_export(void **state)
{
    static const char *const c0[] = {"67224c01-5d1c-800a-9f6e-2b7c4d1e8a30|Kyoto in 3 days: "
                                     "itinerary|6|4|1|gpt-4o, gpt-4o / gpt-4o",
                                     "67d3ff41-0b8e-8003-a41c-6e2f9d7b5c18|Regex for ISO-8601 "
                                     "dates|5|4|1|gpt-4o, gpt-4o / gpt-4o-mini",
                                     NULL};
    static const char *const d0[] = {
        "67224c01-5d1c-800a-9f6e-2b7c4d1e8a30|leaf c4a9e2d7-8f1b-4a3c-b6e5-0d7f2c9a8e14|skipped "
        "{\"system\":1,\"hidden\":1}|warnings {}|attachments -|sources -|times "
        "2024-10-31T10:40:01.841207Z..2024-10-31T10:43:25.273590Z",
        "67d3ff41-0b8e-8003-a41c-6e2f9d7b5c18|leaf 5a7c9e1b-3d5f-4a7c-8e9b-1d3f5a7c9e08|skipped "
        "{\"system\":1,\"empty\":1}|warnings {}|attachments -|sources -|times "
        "2025-03-14T09:20:01.337211Z..2025-03-14T09:21:51.482610Z",
        NULL};
    static const char *const c1[] = {
        "6851a2c7-3e9f-8001-b7d4-0c5e8a2f6b91|Est-ce que ma mie est sous-ferment\xC3\xA9"
        "e ?|4|4|0|gpt-4o, gpt-4o",
        "68c1b9e5-7a2d-8004-9f3b-1d6e0a8c4b27|Monthly average from a CSV|2|2|0|o3",
        "697f1a20-4c3b-8002-8e5d-7a9c1e3b5d60|"
        "\xE5\x8F\x96\xE5\xBC\x95\xE5\x85\x88\xE3\x81\xB8\xE3\x81\xAE\xE3\x81\x8A\xE7\xA4\xBC\xE3"
        "\x83\xA1\xE3\x83\xBC\xE3\x83\xAB|4|4|0|gpt-5, gpt-5-t-mini",
        NULL};
    /* The photo (its id also in metadata.attachments: once), the voice turn, the spoken
     * answer: 3 attachments. */
    static const char *const d1[] = {
        "6851a2c7-3e9f-8001-b7d4-0c5e8a2f6b91|leaf 6a8c0e2f-4b6d-4a9e-8c1a-3e5f7b9d1c62|skipped "
        "{\"system\":1}|warnings {}|attachments user: file_00000000a1b2c3d4e5f60718293a4b5c "
        "mie.jpg; user: file_00000000c4d5e6f7a8b9c0d1e2f3a4b5; assistant: "
        "file_00000000e6f7a8b9c0d1e2f3a4b5c6d7|sources -|times "
        "2025-06-14T14:48:08.204518Z..2025-06-14T14:49:26.901230Z",
        "68c1b9e5-7a2d-8004-9f3b-1d6e0a8c4b27|leaf 7f37e9b1-3d5f-4a7c-99e1-b3d5f7a9c1e4|skipped "
        "{\"system\":1,\"non_text_content\":2,\"tool_call\":1,\"tool_message\":1}|warnings "
        "{}|attachments -|sources -|times 2025-09-10T18:48:41.093384Z..2025-09-10T18:48:54.662310Z",
        "697f1a20-4c3b-8002-8e5d-7a9c1e3b5d60|leaf 05c7e9b1-d3f5-4a7c-a9e1-b3d5f7a9c1e3|skipped "
        "{\"system\":1}|warnings {}|attachments -|sources -|times "
        "2026-02-02T06:42:43.781204Z..2026-02-02T06:44:06.990120Z",
        NULL};
    seen *s = expect(*state, "chatgpt-export/conversations-000.json", AIC_IMPORT_CHATGPT, c0, d0,
                     "skipped {\"not_a_conversation\":1}");

    /* Kyoto: the edited prompt's two user children under the first answer; the
     * off-path answer without a create_time takes its prompt's (1730371342.110374). */
    assert_string_equal(msg_of(s, "aaa24d8e-"), "parent=7f3c2e9d-6b1a-4c8e-9d2f-4a7b0e5c1d86 "
                                                "time=2024-10-31T10:42:22.110374Z");
    assert_string_equal(msg_of(s, "aaa29c1f-"), "parent=7f3c2e9d-6b1a-4c8e-9d2f-4a7b0e5c1d86 "
                                                "time=2024-10-31T10:43:18.503962Z");
    assert_string_equal(msg_of(s, "1e8b5c3f-"), "parent=aaa24d8e-9f1c-4b7a-a3e6-8c2d5f0b1e97 "
                                                "time=2024-10-31T10:42:22.110374Z");
    /* Regex: the regenerated answer lists no children, yet its child names it as
     * parent; the last answer hangs over the skipped placeholder. */
    assert_string_equal(msg_of(s, "b8e2d4f6-"), "parent=a61c0f2e-8d4b-4f7e-9a3c-5e1b7d9f2c40 "
                                                "time=2025-03-14T09:20:03.902144Z");
    assert_string_equal(msg_of(s, "c0e2a4f6-"), "parent=3d5f7b9e-2c4a-4b6d-a8e0-1f3b5d7c9e62 "
                                                "time=2025-03-14T09:21:50.052877Z");
    assert_string_equal(msg_of(s, "5a7c9e1b-"), "parent=c0e2a4f6-9b1d-4c3e-b5f7-2a4c6e8b0d35 "
                                                "time=2025-03-14T09:21:51.482610Z");
    s = expect(*state, "chatgpt-export/conversations-001.json", AIC_IMPORT_CHATGPT, c1, d1,
               "skipped {}");
    /* Monthly average: the answer hangs directly under the prompt. */
    assert_string_equal(msg_of(s, "7f37e9b1-"), "parent=d5f7b9c1-3e5a-4d7f-a9b1-c3e5f7a9b1d4 "
                                                "time=2025-09-10T18:48:54.662310Z");
}

/* What the feedback records hand on: "feedback <records>" per batch. */
static apr_status_t on_feedback(void *baton, aic_json *records, apr_pool_t *p)
{
    seen *s = baton;

    APR_ARRAY_PUSH(s->rejects, const char *) =
        apr_pstrcat(s->p, "feedback ", aic_json_dump(records, s->p), NULL);
    return APR_SUCCESS;
}

static void test_chatgpt_feedback(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t len;
    const char *buf = slurp(p, DIR "chatgpt-export/message_feedback.json", &len);

    /* 1 record: thumbsUp (+1), "Exactly what I needed." on the regenerated answer. */
    for (unsigned split = 0; split <= 64; split += 16) {
        seen *s = fresh(p);
        aic_import_doc *d = aic_import_doc_create(
            p, "message_feedback.json", AIC_IMPORT_CHATGPT_FEEDBACK, on_conv, on_reject, s);

        srand(split + 1);
        aic_import_doc_on_feedback(d, on_feedback);
        assert_int_equal(feed(d, buf, len, split), APR_SUCCESS);
        assert_int_equal(s->convs->nelts, 0);
        assert_int_equal(s->rejects->nelts, 1);
        assert_string_equal(APR_ARRAY_IDX(s->rejects, 0, const char *),
                            "feedback [{\"conversation\":\"67d3ff41-0b8e-8003-a41c-6e2f9d7b5c18\","
                            "\"message\":\"3d5f7b9e-2c4a-4b6d-a8e0-1f3b5d7c9e62\",\"rating\":1,"
                            "\"comment\":\"Exactly what I needed.\",\"time\":1741944521226104}]");
        assert_string_equal(aic_json_dump(aic_import_doc_skipped(d), p), "{}");
    }
}

static void test_claude(void **state)
{
    static const char *const one[] = {
        "3b1f9c6e-2d4a-4e8b-9f0c-7a6b5c4d3e2f|Index for a created_at range query|4|4|0|null, null",
        NULL};
    static const char *const one_d[] = {
        "3b1f9c6e-2d4a-4e8b-9f0c-7a6b5c4d3e2f|leaf 01970e2b-7a8b-7c9d-9e0f-1a2b3c4d5e6f|skipped "
        "{}|warnings {}|attachments user: schema.sql +extracted|sources -|times "
        "2025-05-14T09:12:04.118203Z..2025-05-14T09:15:47.903214Z",
        NULL};
    static const char *const three[] = {
        "3b1f9c6e-2d4a-4e8b-9f0c-7a6b5c4d3e2f|Loop over files with spaces in bash|4|4|0|null, null",
        "8e2d4c6a-1f3b-4d5e-9a7c-0b2d4f6a8c1e|K\xC3\xBCndigungsschreiben f\xC3\xBCrs "
        "Fitnessstudio|8|6|1|null, null, null / null",
        "c5a7e9b1-d3f5-4a7c-9e1b-3d5f7a9c1e3b|Here's my nginx config. Why does /api return "
        "404?|4|4|0|null, null",
        NULL};
    static const char *const three_d[] = {
        "3b1f9c6e-2d4a-4e8b-9f0c-7a6b5c4d3e2f|leaf 019a6f11-8c9d-7e0f-9a1b-2c3d4e5f6a7b|skipped "
        "{}|warnings {}|attachments -|sources -|times "
        "2025-11-03T16:20:04.118902Z..2025-11-03T16:21:47.903214Z",
        "8e2d4c6a-1f3b-4d5e-9a7c-0b2d4f6a8c1e|leaf 019ad8e9-4c5d-7e6f-9a7b-8c9d0e1f2a08|skipped "
        "{}|warnings {}|attachments -|sources -|times "
        "2025-12-01T10:01:12.004417Z..2025-12-01T10:09:57.633918Z",
        "c5a7e9b1-d3f5-4a7c-9e1b-3d5f7a9c1e3b|leaf 019bdc2d-7b8c-7d9e-9f0a-1b2c3d4e5f40|skipped "
        "{}|warnings {}|attachments user: nginx.conf +extracted, "
        "5e7a9c1b-3d5f-4b7d-9f1b-3d5f7a9c1b3d 404-screenshot.png|sources assistant: "
        "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_pass|times "
        "2026-01-20T14:02:11.482915Z..2026-01-20T14:05:42.880391Z",
        NULL};
    seen *s;

    expect(*state, "claude-conversations.json", AIC_IMPORT_CLAUDE, one, one_d, "skipped {}");
    s = expect(*state, "claude-export/conversations.json", AIC_IMPORT_CLAUDE, three, three_d,
               "skipped {}");
    /* The edited prompt: two human messages under the first answer; the 1st
     * branch's answer (10:04:09) is off the path. */
    assert_string_equal(msg_of(s, "019ad8e4-4e5f-"), "parent=019ad8e1-2c3d-7e4f-9a5b-6c7d8e9f0a02 "
                                                     "time=2025-12-01T10:04:02.513908Z");
    assert_string_equal(msg_of(s, "019ad8e4-6a7b-"), "parent=019ad8e4-4e5f-7a6b-8c7d-8e9f0a1b2c03 "
                                                     "time=2025-12-01T10:04:09.990315Z");
    assert_string_equal(msg_of(s, "019ad8e6-8c9d-"), "parent=019ad8e1-2c3d-7e4f-9a5b-6c7d8e9f0a02 "
                                                     "time=2025-12-01T10:06:27.640091Z");
    /* A prompt and its answer share created_at: ordered by the parent link. */
    assert_string_equal(msg_of(s, "019bdc2a-1b2c-"), "parent=- time=2026-01-20T14:02:11.482915Z");
    assert_string_equal(msg_of(s, "019bdc2a-3d4e-"), "parent=019bdc2a-1b2c-7d3e-8f4a-5b6c7d8e9f10 "
                                                     "time=2026-01-20T14:02:11.482915Z");
}

static void test_gemini(void **state)
{
    static const char *const a[] = {
        "2026-03-05T19:40:52.604Z|Compare TCP and UDP in a table|2|2|0|null",
        "2026-03-03T21:07:33.950Z|\xC3\x89"
        "cris un ha\xC3\xAF"
        "ku sur la pluie d'automne \xC3\xA0 Paris|3|2|1|null / null",
        "2026-02-27T12:30:45.321Z|How do I reverse a list in Python? Show two ways.|2|2|0|null",
        "2026-02-20T09:01:12.004Z|What is the total on this receipt?|2|2|0|null",
        "2026-02-11T16:20:00.500Z|I need a polite but firm message to my landlord explaining that "
        "the heating in\xE2\x80\xA6|2|2|0|null",
        NULL};
    /* Every message at its entry's time; the 2nd draft active; the receipt on the prompt. */
    static const char *const a_d[] = {
        "2026-03-05T19:40:52.604Z|leaf 2026-03-05T19:40:52.604Z#0a0|skipped {}|warnings "
        "{}|attachments -|sources -|times 2026-03-05T19:40:52.604000Z..2026-03-05T19:40:52.604000Z",
        "2026-03-03T21:07:33.950Z|leaf 2026-03-03T21:07:33.950Z#0a1|skipped {}|warnings "
        "{}|attachments -|sources -|times 2026-03-03T21:07:33.950000Z..2026-03-03T21:07:33.950000Z",
        "2026-02-27T12:30:45.321Z|leaf 2026-02-27T12:30:45.321Z#0a0|skipped {}|warnings "
        "{}|attachments -|sources -|times 2026-02-27T12:30:45.321000Z..2026-02-27T12:30:45.321000Z",
        "2026-02-20T09:01:12.004Z|leaf 2026-02-20T09:01:12.004Z#0a0|skipped {}|warnings "
        "{}|attachments user: receipt-5d0c1e6a7b2f9a31.jpg|sources -|times "
        "2026-02-20T09:01:12.004000Z..2026-02-20T09:01:12.004000Z",
        "2026-02-11T16:20:00.500Z|leaf 2026-02-11T16:20:00.500Z#0a0|skipped {}|warnings "
        "{}|attachments -|sources -|times 2026-02-11T16:20:00.500000Z..2026-02-11T16:20:00.500000Z",
        NULL};
    static const char *const b[] = {
        "5f2e9a7b31d04c68|Hazme un plan de entrenamiento de 4 semanas para correr 10 "
        "km|7|6|1|null, null, null / null",
        "a81c0e44d2b7f913|Explain ROW_NUMBER vs RANK in SQL|4|4|0|null, null", NULL};
    static const char *const b_d[] = {
        "5f2e9a7b31d04c68|leaf 2026-04-10T08:02:44.915Z#0a0|skipped {}|warnings {}|attachments "
        "-|sources -|times 2026-04-10T07:30:12.410000Z..2026-04-10T08:02:44.915000Z",
        "a81c0e44d2b7f913|leaf 2026-04-10T07:52:18Z#0a0|skipped {}|warnings {}|attachments "
        "-|sources -|times 2026-04-10T07:35:50.000000Z..2026-04-10T07:52:18.000000Z",
        NULL};
    seen *s;

    s = expect(*state, "gemini-takeout/MyActivity-a.json", AIC_IMPORT_GEMINI, a, a_d,
               "skipped {\"not_a_prompt\":3}");
    /* Two drafts: sibling answers under the prompt. */
    assert_string_equal(msg_of(s, "2026-03-03T21:07:33.950Z#0a0"),
                        "parent=2026-03-03T21:07:33.950Z#0p time=2026-03-03T21:07:33.950000Z");
    assert_string_equal(msg_of(s, "2026-03-03T21:07:33.950Z#0a1"),
                        "parent=2026-03-03T21:07:33.950Z#0p time=2026-03-03T21:07:33.950000Z");
    s = expect(*state, "gemini-takeout/MyActivity-b.json", AIC_IMPORT_GEMINI, b, b_d,
               "skipped {\"not_a_prompt\":1}");
    /* Turns at 07:30, 07:41 (two drafts), 08:02: the 3rd prompt under the 2nd draft;
     * the details turns at 07:35:50 and 07:52:18. */
    assert_string_equal(msg_of(s, "2026-04-10T07:30:12.410Z#0p"),
                        "parent=- time=2026-04-10T07:30:12.410000Z");
    assert_string_equal(msg_of(s, "2026-04-10T07:41:03.007Z#0p"),
                        "parent=2026-04-10T07:30:12.410Z#0a0 time=2026-04-10T07:41:03.007000Z");
    assert_string_equal(msg_of(s, "2026-04-10T07:41:03.007Z#0a1"),
                        "parent=2026-04-10T07:41:03.007Z#0p time=2026-04-10T07:41:03.007000Z");
    assert_string_equal(msg_of(s, "2026-04-10T08:02:44.915Z#0p"),
                        "parent=2026-04-10T07:41:03.007Z#0a1 time=2026-04-10T08:02:44.915000Z");
    assert_string_equal(msg_of(s, "2026-04-10T07:35:50Z#0p"),
                        "parent=- time=2026-04-10T07:35:50.000000Z");
    assert_string_equal(msg_of(s, "2026-04-10T07:52:18Z#0p"),
                        "parent=2026-04-10T07:35:50Z#0a0 time=2026-04-10T07:52:18.000000Z");
}

static void test_mistral(void **state)
{
    static const char *const c1[] = {
        "6f0a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b|Donne-moi une recette de p\xC3\xA2te \xC3\xA0 "
        "cr\xC3\xAApes pour 4 personnes.|4|4|0|null, null",
        NULL};
    static const char *const d1[] = {
        "6f0a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b|leaf 3|skipped {}|warnings {}|attachments -|sources "
        "-|times 2026-01-18T18:02:11.512000Z..2026-01-18T18:05:43.611000Z",
        NULL};
    static const char *const c2[] = {
        "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d|Which HTTP methods are safe and which are idempotent "
        "according to RFC 9110?|4|4|0|null, null",
        NULL};
    /* references: 2 on the 1st answer, 1 on the 2nd. */
    static const char *const d2[] = {
        "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d|leaf 3|skipped {}|warnings {}|attachments -|sources "
        "assistant: https://www.rfc-editor.org/rfc/rfc9110#section-9.2.1 "
        "https://www.rfc-editor.org/rfc/rfc9110#section-9.2.2; assistant: "
        "https://www.rfc-editor.org/rfc/rfc9110#section-9.3.7|times "
        "2026-02-02T11:47:03.218000Z..2026-02-02T11:49:18.562000Z",
        NULL};
    static const char *const v[] = {
        "d3f1a5c7-e9b1-4d3f-a5c7-e9b1d3f5a7c9|Id\xC3\xA9"
        "es de noms pour une boulangerie|2|2|0|mistral-medium-2505",
        "f5a7c9e1-b3d5-4f7a-9c1e-3b5d7f9a1c3e|Regex pour un code postal fran\xC3\xA7"
        "ais|4|4|0|mistral-small-2503, mistral-small-2503",
        NULL};
    static const char *const vd[] = {
        "d3f1a5c7-e9b1-4d3f-a5c7-e9b1d3f5a7c9|leaf 1|skipped {}|warnings {}|attachments -|sources "
        "-|times 2026-03-09T08:12:40.100000Z..2026-03-09T08:12:43.870000Z",
        "f5a7c9e1-b3d5-4f7a-9c1e-3b5d7f9a1c3e|leaf 3|skipped {}|warnings {}|attachments -|sources "
        "-|times 2026-03-11T17:30:02.640000Z..2026-03-11T17:31:23.955000Z",
        NULL};

    expect(*state, "mistral-export/chat-6f0a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b.json",
           AIC_IMPORT_MISTRAL_CHAT, c1, d1, "skipped {}");
    expect(*state, "mistral-export/chat-9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d.json",
           AIC_IMPORT_MISTRAL_CHAT, c2, d2, "skipped {}");
    expect(*state, "mistral-export/variant-combined.json", AIC_IMPORT_MISTRAL_VARIANT, v, vd,
           "skipped {\"not_a_conversation\":3}");
}

static void test_broken_trees(void **state)
{
    static const char *const cycle[] = {
        "68e0a1b2-c3d4-8005-9e6f-7a8b9c0d1e2f|Fine conversation|2|2|0|gpt-4o", NULL};
    static const char *const cycle_d[] = {
        "68e0a1b2-c3d4-8005-9e6f-7a8b9c0d1e2f|leaf 6c3d4e5f-7a8b-4c9d-8e0f-1a2b3c4d5e6f|skipped "
        "{\"system\":1}|warnings {}|attachments -|sources -|times "
        "2025-10-03T14:00:03.500000Z..2025-10-03T14:00:06.750000Z",
        NULL};
    static const char *const orphan[] = {
        "68e2c3d4-e5f6-8007-b081-9c0d1e2f3a41|Welsh greetings|4|2|1|gpt-4o / gpt-4o", NULL};
    /* The orphan's branch is the active one (current_node "Nos da."). */
    static const char *const orphan_d[] = {
        "68e2c3d4-e5f6-8007-b081-9c0d1e2f3a41|leaf 5e6f7a8b-4444-4c9d-8e3f-4a5b6c7d8e9f|skipped "
        "{\"system\":1}|warnings {\"orphan_node\":1}|attachments -|sources -|times "
        "2025-10-05T21:33:21.100000Z..2025-10-05T21:34:02.600000Z",
        NULL};
    seen *s = fresh(*state);
    const char *code;

    expect(*state, "broken/chatgpt-cycle.json", AIC_IMPORT_CHATGPT, cycle, cycle_d, "skipped {}");
    run(s, "broken/chatgpt-cycle.json", 0, &code);
    assert_string_equal(APR_ARRAY_IDX(s->rejects, 0, const char *),
                        "68e1b2c3-d4e5-8006-af70-8b9c0d1e2f30 tree_cycle");
    s = expect(*state, "broken/chatgpt-missing-parent.json", AIC_IMPORT_CHATGPT, orphan, orphan_d,
               "skipped {}");
    /* "Translate…" and the orphan "And 'good night'?" are top-level siblings. */
    assert_string_equal(msg_of(s, "2b3c4d5e-"), "parent=- time=2025-10-05T21:33:21.100000Z");
    assert_string_equal(msg_of(s, "4d5e6f7a-"), "parent=- time=2025-10-05T21:34:00.200000Z");
}

static void test_broken_files(void **state)
{
    seen *s = fresh(*state);
    const char *code;

    assert_int_equal(run(s, "broken/truncated.json", 0, &code), AIC_IMPORT_UNKNOWN);
    assert_string_equal(code, "invalid_json");
    assert_int_equal(run(s, "broken/invalid-utf8.json", 7, &code), AIC_IMPORT_UNKNOWN);
    assert_string_equal(code, "invalid_utf8");
    assert_int_equal(run(s, "broken/not-a-format.json", 0, &code), AIC_IMPORT_UNKNOWN);
    assert_null(code);
    assert_int_equal(s->convs->nelts, 0);
}

/* invalid-utf8.json: refused invalid_utf8 at the first bad byte, offset 380 (§8.2: the
 * C3 of C3 28), the same however the file is split. */
static void test_invalid_utf8_offset(void **state)
{
    const char *first = NULL, *code;

    for (unsigned split = 0; split <= 64; split += 8) {
        seen *s = fresh(*state);

        srand(split + 1);
        assert_int_equal(run(s, "broken/invalid-utf8.json", split, &code), AIC_IMPORT_UNKNOWN);
        assert_string_equal(code, "invalid_utf8");
        assert_non_null(s->message);
        first = first ? first : s->message;
        assert_string_equal(s->message, first);
    }
    assert_string_equal(first, "invalid UTF-8 at byte 380");
}

/* "role bytes chars [truncated]" of each message's text, besides on_conv. */
static apr_status_t text_sizes(void *baton, const aic_import_conv *c, apr_pool_t *p)
{
    seen *s = baton;

    for (int i = 0; i < c->msgs->nelts; i++) {
        const aic_import_msg *m = &APR_ARRAY_IDX(c->msgs, i, aic_import_msg);
        apr_size_t chars = 0;

        for (const char *t = m->text; *t; t++) {
            chars += ((unsigned char)*t & 0xC0) != 0x80;
        }
        APR_ARRAY_PUSH(s->rejects, const char *) =
            apr_psprintf(s->p, "%s %" APR_SIZE_T_FMT " %" APR_SIZE_T_FMT "%s",
                         m->assistant ? "assistant" : "user", strlen(m->text), chars,
                         m->truncated ? " truncated" : "");
    }
    return on_conv(baton, c, p);
}

/* make-huge.sh's huge-message.json (written to a temporary folder): the 2,097,202-byte
 * user message stored as its first 1,048,575 bytes (643,863 characters), flagged. */
static void test_huge_message(void **state)
{
    apr_pool_t *p = *state;
    char dir[] = "/tmp/aichat-huge-XXXXXX";
    const char *path, *buf;
    apr_size_t len;

    assert_non_null(mkdtemp(dir));
    path = apr_pstrcat(p, dir, "/huge-message.json", NULL);
    assert_int_equal(system(apr_pstrcat(p, "sh " DIR "broken/make-huge.sh ", path, NULL)), 0);
    buf = slurp(p, path, &len);
    apr_file_remove(path, p);
    apr_dir_remove(dir, p);
    assert_int_equal(len, 2097202 + 1397); /* the message and the JSON around it */
    /* Whole, and in pieces of up to the upload reader's 64 KiB (smaller pieces make
     * YAJL scan the buffered string again each time: 4 KiB pieces take seconds). */
    for (unsigned split = 0; split <= 65536; split += 65536) {
        seen *s = fresh(p);
        aic_import_doc *d = aic_import_doc_create(p, "huge-message.json", AIC_IMPORT_CHATGPT,
                                                  text_sizes, on_reject, s);

        srand(split + 1);
        assert_int_equal(feed(d, buf, len, split), APR_SUCCESS);
        assert_int_equal(s->convs->nelts, 1);
        assert_string_equal(APR_ARRAY_IDX(s->convs, 0, const char *),
                            "68e3d4e5-f6a7-8008-c192-0d1e2f3a4b52|Huge message|2|2|0|gpt-4o");
        assert_int_equal(s->rejects->nelts, 2);
        assert_string_equal(APR_ARRAY_IDX(s->rejects, 0, const char *),
                            "user 1048575 643863 truncated");
        assert_string_equal(APR_ARRAY_IDX(s->rejects, 1, const char *), "assistant 28 28");
        assert_true(strstr(APR_ARRAY_IDX(s->details, 0, const char *),
                           "|warnings {\"message_truncated\":1}|") != NULL);
    }
}

static void test_limits(void **state)
{
    apr_pool_t *p = *state;
    seen *s = fresh(p);
    aic_import_doc *d =
        aic_import_doc_create(p, "deep.json", AIC_IMPORT_UNKNOWN, on_conv, on_reject, s);
    char deep[200];
    const char *code, *msg;

    memset(deep, '[', sizeof(deep));
    assert_int_not_equal(aic_import_doc_feed(d, deep, sizeof(deep)), APR_SUCCESS);
    aic_import_doc_error(d, &code, &msg);
    assert_string_equal(code, "limit_exceeded");
}

typedef struct {
    apr_pool_t *p;
    const char *text;
} first_seen;

static apr_status_t first_text(void *baton, const aic_import_conv *c, apr_pool_t *p)
{
    first_seen *f = baton;

    f->text = apr_pstrdup(f->p, APR_ARRAY_IDX(c->msgs, 0, aic_import_msg).text);
    return APR_SUCCESS;
}

static void test_escapes_postgresql_refuses(void **state)
{
    apr_pool_t *p = *state;
    const char *doc = "[{\"uuid\":\"x\",\"chat_messages\":[{\"uuid\":\"m\",\"sender\":\"human\","
                      "\"text\":\"b \\udc00 \\u0000 z\"}]}]";
    first_seen f = {p, NULL};
    aic_import_doc *d =
        aic_import_doc_create(p, "x.json", AIC_IMPORT_CLAUDE, first_text, on_reject, &f);

    assert_int_equal(aic_import_doc_feed(d, doc, strlen(doc)), APR_SUCCESS);
    assert_int_equal(aic_import_doc_finish(d), APR_SUCCESS);
    assert_string_equal(f.text, "b \xEF\xBF\xBD \xEF\xBF\xBD z");
}

static void test_title_and_times(void **state)
{
    apr_pool_t *p = *state;
    aic_import_conv *c = aic_import_conv_new(p, AIC_IMPORT_CHATGPT);
    aic_import_msg *m = aic_import_msg_add(c);
    char big[AIC_IMPORT_MAX_TEXT + 8];

    assert_int_equal(aic_import_iso_time("1970-01-01T00:00:01.5Z"), 1500000);
    assert_int_equal(aic_import_iso_time("2026-01-20T14:02:11.482915Z"), 1768917731482915LL);
    assert_int_equal(aic_import_iso_time("2026-01-20T15:02:11+01:00"), 1768917731000000LL);
    assert_int_equal(aic_import_iso_time("yesterday"), 0);
    m->ext_id = "a";
    m->text = "\n  \n  Hello \t  world  \nsecond";
    aic_import_tree(c, p, NULL, NULL);
    aic_import_title(c, p, "  \t ");
    assert_string_equal(c->title, "Hello world");
    aic_import_title(c, p, " A\n\nB ");
    assert_string_equal(c->title, "A B");
    /* Cut at a character boundary: U+00FC straddles the limit. */
    memset(big, 'a', sizeof(big));
    big[AIC_IMPORT_MAX_TEXT - 1] = '\xC3';
    big[AIC_IMPORT_MAX_TEXT] = '\xBC';
    aic_import_msg_text(c, m, big, sizeof(big));
    assert_int_equal(strlen(m->text), AIC_IMPORT_MAX_TEXT - 1);
    assert_true(m->truncated);
}

static apr_status_t to_file(void *baton, const void *buf, apr_size_t len)
{
    return apr_file_write_full(baton, buf, len, NULL);
}

/* A ZIP written by the door's writer: name, content pairs ending with NULL. */
static const char *make_zip(apr_pool_t *p, const char *const *files)
{
    char *path = apr_pstrdup(p, "/tmp/aichat-unit-XXXXXX");
    apr_file_t *f;
    aic_zip_out *z;

    assert_int_equal(
        apr_file_mktemp(&f, path,
                        APR_FOPEN_CREATE | APR_FOPEN_WRITE | APR_FOPEN_EXCL | APR_FOPEN_BINARY, p),
        APR_SUCCESS);
    assert_int_equal(aic_zip_out_open(&z, p, to_file, f), APR_SUCCESS);
    for (; *files; files += 2) {
        assert_int_equal(aic_zip_out_member(z, files[0], apr_time_now()), APR_SUCCESS);
        assert_int_equal(aic_zip_out_write(z, files[1], strlen(files[1])), APR_SUCCESS);
    }
    assert_int_equal(aic_zip_out_close(z), APR_SUCCESS);
    apr_file_close(f);
    return path;
}

static void test_zip_uploads(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t len;
    const char *claude = slurp(p, DIR "claude-conversations.json", &len), *code, *msg;
    const char *ok[] = {
        "data/conversations.json", claude, "users.json", "[]", "notes.txt", "x", NULL};
    const char *evil[] = {"../conversations.json", claude, NULL};
    const char *nothing[] = {"Takeout/My Activity/Search/MyActivity.json",
                             "[{\"header\":\"Search\"}]", NULL};
    char *bomb = apr_palloc(p, 8 * 1024 * 1024 + 3);
    const char *bombs[] = {"conversations.json", bomb, NULL};
    apr_array_header_t *members;
    const char *path;

    path = make_zip(p, ok);
    assert_int_equal(aic_import_file_scan(&members, &code, &msg, p, path, NULL), APR_SUCCESS);
    assert_int_equal(members->nelts, 1); /* users.json and notes.txt are no candidates */
    assert_int_equal(APR_ARRAY_IDX(members, 0, aic_import_member).format, AIC_IMPORT_CLAUDE);
    assert_int_equal(APR_ARRAY_IDX(members, 0, aic_import_member).count, 1);
    apr_file_remove(path, p);

    path = make_zip(p, evil);
    assert_int_not_equal(aic_import_file_scan(&members, &code, &msg, p, path, NULL), APR_SUCCESS);
    assert_string_equal(code, "unsafe_path");
    apr_file_remove(path, p);

    path = make_zip(p, nothing);
    assert_int_not_equal(aic_import_file_scan(&members, &code, &msg, p, path, NULL), APR_SUCCESS);
    assert_string_equal(code, "unknown_format");
    apr_file_remove(path, p);

    /* 8 MiB of spaces deflate about 1000 : 1: refused once past 1 MiB at over 200 : 1. */
    memset(bomb, ' ', 8 * 1024 * 1024 + 2);
    bomb[0] = '[';
    bomb[8 * 1024 * 1024 + 1] = ']';
    bomb[8 * 1024 * 1024 + 2] = '\0';
    path = make_zip(p, bombs);
    assert_int_not_equal(aic_import_file_scan(&members, &code, &msg, p, path, NULL), APR_SUCCESS);
    assert_string_equal(code, "limit_exceeded");
    apr_file_remove(path, p);
}

/* The ZIP door's own limits, each refused with its code: entries, the bytes
 * one member inflates to, those of all members read, an encrypted member. */
static void test_zip_limits(void **state)
{
    apr_pool_t *p = *state;
    const aic_zip_limits lim = {2, 100, 150, 200};
    char x100[101], x120[121], buf[64];
    const char *three[] = {"a.json", "[]", "b.json", "[]", "c.json", "[]", NULL};
    const char *big[] = {"a.json", x120, NULL};
    const char *pair[] = {"a.json", x100, "b.json", x100, NULL};
    const char *name, *code, *msg, *path;
    int regular;
    apr_size_t n;
    apr_status_t rv;
    aic_zip *z;

    memset(x100, 'x', 100);
    x100[100] = '\0';
    memset(x120, 'x', 120);
    x120[120] = '\0';

    path = make_zip(p, three);
    assert_int_equal(aic_zip_open(&z, p, path, &lim), APR_SUCCESS);
    assert_int_equal(aic_zip_next(z, &name, &regular), APR_SUCCESS);
    assert_int_equal(aic_zip_next(z, &name, &regular), APR_SUCCESS);
    assert_int_equal(aic_zip_next(z, &name, &regular), AIC_ZIP_ELIMIT);
    aic_zip_error(z, &code, &msg);
    assert_string_equal(code, "limit_exceeded");
    apr_file_remove(path, p);

    path = make_zip(p, big);
    assert_int_equal(aic_zip_open(&z, p, path, &lim), APR_SUCCESS);
    assert_int_equal(aic_zip_next(z, &name, &regular), APR_SUCCESS);
    do {
        n = sizeof(buf);
        rv = aic_zip_read(z, buf, &n);
    } while (rv == APR_SUCCESS && n > 0);
    assert_int_equal(rv, AIC_ZIP_ELIMIT);
    apr_file_remove(path, p);

    path = make_zip(p, pair);
    assert_int_equal(aic_zip_open(&z, p, path, &lim), APR_SUCCESS);
    rv = APR_SUCCESS;
    for (int m = 0; m < 2 && rv == APR_SUCCESS; m++) {
        assert_int_equal(aic_zip_next(z, &name, &regular), APR_SUCCESS);
        do {
            n = sizeof(buf);
            rv = aic_zip_read(z, buf, &n);
        } while (rv == APR_SUCCESS && n > 0);
    }
    assert_int_equal(rv, AIC_ZIP_ELIMIT); /* each member under 100, both over 150 */
    aic_zip_error(z, &code, &msg);
    assert_string_equal(code, "limit_exceeded");
    apr_file_remove(path, p);

    assert_int_equal(aic_zip_open(&z, p, DIR "broken/encrypted.zip", &lim), APR_SUCCESS);
    assert_int_equal(aic_zip_next(z, &name, &regular), AIC_ZIP_EENCRYPTED);
    aic_zip_error(z, &code, &msg);
    assert_string_equal(code, "encrypted_zip");
}

/* An upload (a bare file named name, or a ZIP) through both passes of
 * aic_import_file_*: conversations and details in s, then feedback batches and
 * "skipped {..}" of the upload in s->rejects. */
static void upload(seen *s, const char *path, const char *name)
{
    apr_array_header_t *members;
    const char *code, *msg;
    aic_json *skipped = aic_json_object(s->p);

    assert_int_equal(aic_import_file_scan(&members, &code, &msg, s->p, path, name), APR_SUCCESS);
    assert_int_equal(
        aic_import_file_read(s->p, path, members, on_conv, on_reject, on_feedback, s, skipped),
        APR_SUCCESS);
    APR_ARRAY_PUSH(s->rejects, const char *) =
        apr_psprintf(s->p, "skipped %s", aic_json_dump(skipped, s->p));
}

/* The strings of b appended to a. */
static void append(apr_array_header_t *a, const apr_array_header_t *b)
{
    for (int i = 0; i < b->nelts; i++) {
        APR_ARRAY_PUSH(a, const char *) = APR_ARRAY_IDX(b, i, const char *);
    }
}

static void same_strings(const apr_array_header_t *got, const apr_array_header_t *want)
{
    for (int i = 0; i < want->nelts; i++) {
        assert_true(i < got->nelts);
        assert_string_equal(APR_ARRAY_IDX(got, i, const char *),
                            APR_ARRAY_IDX(want, i, const char *));
    }
    assert_int_equal(got->nelts, want->nelts);
}

/* Each sample folder zipped as the root of the archive (the Gemini file where a
 * Takeout puts it) gives what its files give read one by one (checked against
 * §8.2 above), in name order, with the upload's skips and ChatGPT's feedback;
 * each file uploaded bare gives what it gives alone. */
static void test_samples_uploaded(void **state)
{
    static const struct {
        const char *files[4]; /* samples, in the order they are read */
        const char *members[4];
        const char *skipped, *feedback;
    } zips[] = {
        {{"chatgpt-export/conversations-000.json", "chatgpt-export/conversations-001.json",
          "chatgpt-export/message_feedback.json", NULL},
         {"conversations-000.json", "conversations-001.json", "message_feedback.json", NULL},
         "skipped {\"not_a_conversation\":1}",
         "feedback [{\"conversation\":\"67d3ff41-0b8e-8003-a41c-6e2f9d7b5c18\",\"message\":"
         "\"3d5f7b9e-2c4a-4b6d-a8e0-1f3b5d7c9e62\",\"rating\":1,\"comment\":\"Exactly what I "
         "needed.\",\"time\":1741944521226104}]"},
        {{"claude-export/conversations.json", NULL},
         {"conversations.json", NULL},
         "skipped {}",
         NULL},
        {{"gemini-takeout/MyActivity-a.json", NULL},
         {"Takeout/My Activity/Gemini Apps/MyActivity.json", NULL},
         "skipped {\"not_a_prompt\":3}",
         NULL},
        {{"gemini-takeout/MyActivity-b.json", NULL},
         {"Takeout/My Activity/Gemini Apps/MyActivity.json", NULL},
         "skipped {\"not_a_prompt\":1}",
         NULL},
        {{"mistral-export/chat-6f0a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b.json",
          "mistral-export/chat-9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d.json",
          "mistral-export/variant-combined.json", NULL},
         {"chat-6f0a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b.json",
          "chat-9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d.json", "variant-combined.json", NULL},
         "skipped {\"not_a_conversation\":3}",
         NULL},
    };
    apr_pool_t *p = *state;

    for (size_t z = 0; z < sizeof(zips) / sizeof(zips[0]); z++) {
        seen *want = fresh(p), *got = fresh(p);
        const char *pairs[9] = {NULL};
        const char *path;
        int n = 0;

        for (int f = 0; zips[z].files[f]; f++) {
            const char *sample = apr_pstrcat(p, DIR, zips[z].files[f], NULL);
            const char *base = strrchr(zips[z].files[f], '/') + 1;
            seen *one = fresh(p), *bare = fresh(p);
            const char *code;
            apr_size_t len;

            pairs[n++] = zips[z].members[f];
            pairs[n++] = slurp(p, sample, &len);
            if (strcmp(base, "message_feedback.json") == 0) {
                continue; /* read only beside conversations */
            }
            assert_int_not_equal(run(one, zips[z].files[f], 0, &code), AIC_IMPORT_UNKNOWN);
            append(want->convs, one->convs);
            append(want->details, one->details);
            /* Bare, under its own name: what the file gives alone. */
            upload(bare, sample, base);
            same_strings(bare->convs, one->convs);
            same_strings(bare->details, one->details);
            assert_string_equal(
                APR_ARRAY_IDX(bare->rejects, bare->rejects->nelts - 1, const char *),
                APR_ARRAY_IDX(one->rejects, one->rejects->nelts - 1, const char *));
        }
        path = make_zip(p, pairs);
        upload(got, path, "export.zip");
        apr_file_remove(path, p);
        same_strings(got->convs, want->convs);
        same_strings(got->details, want->details);
        assert_int_equal(got->rejects->nelts, zips[z].feedback ? 2 : 1);
        if (zips[z].feedback) {
            assert_string_equal(APR_ARRAY_IDX(got->rejects, 0, const char *), zips[z].feedback);
        }
        assert_string_equal(APR_ARRAY_IDX(got->rejects, got->rejects->nelts - 1, const char *),
                            zips[z].skipped);
    }
}

/* What the multipart reader handed on. */
typedef struct {
    char *buf;
    apr_size_t len;
} got;

static apr_status_t on_data(void *baton, const char *buf, apr_size_t len)
{
    got *g = baton;

    memcpy(g->buf + g->len, buf, len);
    g->len += len;
    return APR_SUCCESS;
}

/* Read body with content type ctype in pieces of 1..split bytes (0: whole);
 * APR_SUCCESS and the file part in g, or an error and *code. */
static apr_status_t read_form(apr_pool_t *p, const char *ctype, const char *body, unsigned split,
                              got *g, const char **code, const char **name)
{
    aic_multipart *m = aic_multipart_create(p, ctype, "file", on_data, g);
    apr_size_t len = strlen(body), at = 0;
    apr_status_t rv = APR_SUCCESS;
    const char *msg;

    *code = "no_reader";
    if (!m) {
        return APR_EINVAL;
    }
    g->buf = apr_palloc(p, len + 1);
    g->len = 0;
    while (at < len && rv == APR_SUCCESS) {
        apr_size_t n = split ? 1 + (apr_size_t)rand() % split : len;

        n = n > len - at ? len - at : n;
        rv = aic_multipart_feed(m, body + at, n);
        at += n;
    }
    if (rv == APR_SUCCESS) {
        rv = aic_multipart_finish(m);
    }
    aic_multipart_error(m, code, &msg);
    *name = aic_multipart_filename(m);
    return rv;
}

static void test_multipart(void **state)
{
    apr_pool_t *p = *state;
    /* The file holds near-delimiters: CRLF, "--", "-bound", "\r\n--boun" and "\r\n--bounc". */
    const char *file = "[\r\n--\r\n-bound\r\n--boun\r\n--bounc\r\n]\r\n";
    const char *body = apr_pstrcat(
        p, "preamble\r\n--bound\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n",
        "--bound  \r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\\\x\\\\a.zip\"",
        "\r\nContent-Type: application/zip\r\n\r\n", file,
        "\r\n--bound\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b\"\r\n\r\n",
        "second\r\n--bound--\r\nepilogue", NULL);
    const char *code, *name;
    got g;

    for (unsigned split = 0; split <= 40; split += 5) {
        assert_int_equal(
            read_form(p, "multipart/form-data; boundary=bound", body, split, &g, &code, &name),
            APR_SUCCESS);
        assert_int_equal(g.len, strlen(file));
        assert_memory_equal(g.buf, file, g.len);
        assert_string_equal(name, "C:\\x\\a.zip");
    }
    /* A quoted boundary; the first boundary line at the very start; an empty file. */
    assert_int_equal(read_form(p, "Multipart/Form-Data; charset=utf-8; boundary=\"a b\"",
                               "--a b\r\nContent-Disposition: form-data; name=file\r\n\r\n"
                               "\r\n--a b--",
                               3, &g, &code, &name),
                     APR_SUCCESS);
    assert_int_equal(g.len, 0);
    assert_null(name);
    /* No boundary, or not form-data: no reader. */
    assert_int_not_equal(read_form(p, "multipart/form-data", "x", 0, &g, &code, &name),
                         APR_SUCCESS);
    assert_string_equal(code, "no_reader");
    assert_int_not_equal(read_form(p, "application/zip", "x", 0, &g, &code, &name), APR_SUCCESS);
    /* No file part; truncated; a malformed boundary line; endless headers. */
    assert_int_not_equal(read_form(p, "multipart/form-data; boundary=b",
                                   "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n"
                                   "--b--\r\n",
                                   7, &g, &code, &name),
                         APR_SUCCESS);
    assert_string_equal(code, "missing_file");
    assert_int_not_equal(
        read_form(p, "multipart/form-data; boundary=b",
                  "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n[1,", 7, &g, &code,
                  &name),
        APR_SUCCESS);
    assert_string_equal(code, "invalid_multipart");
    assert_int_not_equal(read_form(p, "multipart/form-data; boundary=b", "--bxyz\r\n\r\n1\r\n--b--",
                                   0, &g, &code, &name),
                         APR_SUCCESS);
    assert_string_equal(code, "invalid_multipart");
    {
        char *endless = apr_palloc(p, 40000);

        memset(endless, 'h', 39999);
        memcpy(endless, "--b\r\n", 5);
        endless[39999] = '\0';
        assert_int_not_equal(
            read_form(p, "multipart/form-data; boundary=b", endless, 0, &g, &code, &name),
            APR_SUCCESS);
        assert_string_equal(code, "invalid_multipart");
    }
}

/* The texts of the messages that carry non-text parts, "text|n parts" each. */
static apr_status_t part_texts(void *baton, const aic_import_conv *c, apr_pool_t *p)
{
    seen *s = baton;

    for (int i = 0; i < c->msgs->nelts; i++) {
        const aic_import_msg *m = &APR_ARRAY_IDX(c->msgs, i, aic_import_msg);

        if (m->parts) {
            APR_ARRAY_PUSH(s->convs, const char *) =
                apr_psprintf(s->p, "%s|%d", m->text, (int)aic_json_len(m->parts));
        }
    }
    return APR_SUCCESS;
}

static void test_non_text_parts(void **state)
{
    apr_pool_t *p = *state;
    seen *s = fresh(p);
    apr_size_t len;
    const char *buf = slurp(p, DIR "chatgpt-export/conversations-001.json", &len);
    const char *only =
        "[{\"id\":\"x\",\"mapping\":{\"a\":{\"id\":\"a\",\"parent\":null,\"message\":"
        "{\"author\":{\"role\":\"user\"},\"content\":{\"content_type\":"
        "\"multimodal_text\",\"parts\":[{\"content_type\":\"image_asset_pointer\","
        "\"asset_pointer\":\"file-service://file-1\"},{\"content_type\":"
        "\"audio_asset_pointer\",\"asset_pointer\":\"sediment://file_2\"}]}}}}}]";
    aic_import_doc *d =
        aic_import_doc_create(p, "c.json", AIC_IMPORT_CHATGPT, part_texts, on_reject, s);

    assert_int_equal(feed(d, buf, len, 0), APR_SUCCESS);
    /* §8.2: the voice turns' text is their transcription; the photo gets its note. */
    assert_int_equal(s->convs->nelts, 3);
    assert_string_equal(APR_ARRAY_IDX(s->convs, 0, const char *),
                        "[image]\nVoici une photo de la mie de mon pain au levain. "
                        "Est-ce qu'elle est sous-fermentée ?|1");
    assert_string_equal(APR_ARRAY_IDX(s->convs, 1, const char *),
                        "Et si je la mets au frigo pour la nuit, ça change quoi ?|2");
    assert_string_equal(
        APR_ARRAY_IDX(s->convs, 2, const char *),
        "Une fermentation lente au frigo, entre 4 et 6 °C, donne une mie plus "
        "aérée et un goût plus acidulé. Sortez la pâte une heure avant de cuire.|2");
    /* Parts without text of their own: one note each. */
    s = fresh(p);
    d = aic_import_doc_create(p, "c.json", AIC_IMPORT_CHATGPT, part_texts, on_reject, s);
    assert_int_equal(feed(d, only, strlen(only), 0), APR_SUCCESS);
    assert_int_equal(s->convs->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(s->convs, 0, const char *), "[image]\n[audio]|2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chatgpt_single_file, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_chatgpt_split_export, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_claude, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_gemini, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_mistral, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_chatgpt_feedback, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_broken_trees, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_broken_files, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_offset, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_limits, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_title_and_times, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_zip_uploads, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_zip_limits, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_samples_uploaded, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_huge_message, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_multipart, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_non_text_parts, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_escapes_postgresql_refuses, pool_setup, pool_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
