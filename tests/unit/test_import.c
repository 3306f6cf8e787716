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
} seen;

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

/* Both passes over one file; returns the format, fills s. */
static aic_import_format run(seen *s, const char *file, unsigned split, const char **code)
{
    apr_size_t len;
    const char *buf = slurp(s->p, apr_pstrcat(s->p, DIR, file, NULL), &len), *msg;
    aic_import_doc *d =
        aic_import_doc_create(s->p, file, AIC_IMPORT_UNKNOWN, on_conv, on_reject, s);
    aic_import_format f;

    *code = NULL;
    if (feed(d, buf, len, split) != APR_SUCCESS) {
        aic_import_doc_error(d, code, &msg);
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

static seen *fresh(apr_pool_t *p)
{
    seen *s = apr_pcalloc(p, sizeof(*s));

    s->p = p;
    s->convs = apr_array_make(p, 8, sizeof(const char *));
    s->rejects = apr_array_make(p, 8, sizeof(const char *));
    return s;
}

static void expect(apr_pool_t *p, const char *file, aic_import_format format,
                   const char *const *convs, const char *skipped)
{
    for (unsigned split = 0; split <= 64; split += 16) {
        seen *s = fresh(p);
        const char *code;
        int n = 0;

        srand(split + 1);
        assert_int_equal(run(s, file, split, &code), format);
        for (; convs[n]; n++) {
            assert_true(n < s->convs->nelts);
            assert_string_equal(APR_ARRAY_IDX(s->convs, n, const char *), convs[n]);
        }
        assert_int_equal(s->convs->nelts, n);
        assert_string_equal(APR_ARRAY_IDX(s->rejects, s->rejects->nelts - 1, const char *),
                            skipped);
    }
}

static void test_chatgpt_single_file(void **state)
{
    static const char *const convs[] = {
        "666835e0-4a1f-800c-9d3e-5b7a8c9d0e1f|Sourdough starter feeding schedule|4|4|0|gpt-4o, "
        "gpt-4o",
        "6891b0a9-77c4-8331-a2e5-3f9d0c1b2a34|SSE line endings|5|4|1|gpt-4o, gpt-4o / gpt-4o",
        NULL};

    expect(*state, "chatgpt-conversations.json", AIC_IMPORT_CHATGPT, convs, "skipped {}");
}

static void test_chatgpt_split_export(void **state)
{
    static const char *const c0[] = {"67224c01-5d1c-800a-9f6e-2b7c4d1e8a30|Kyoto in 3 days: "
                                     "itinerary|6|4|1|gpt-4o, gpt-4o / gpt-4o",
                                     "67d3ff41-0b8e-8003-a41c-6e2f9d7b5c18|Regex for ISO-8601 "
                                     "dates|5|4|1|gpt-4o, gpt-4o / gpt-4o-mini",
                                     NULL};
    static const char *const c1[] = {
        "6851a2c7-3e9f-8001-b7d4-0c5e8a2f6b91|Est-ce que ma mie est sous-ferment\xC3\xA9"
        "e ?|4|4|0|gpt-4o, gpt-4o",
        "68c1b9e5-7a2d-8004-9f3b-1d6e0a8c4b27|Monthly average from a CSV|2|2|0|o3",
        "697f1a20-4c3b-8002-8e5d-7a9c1e3b5d60|"
        "\xE5\x8F\x96\xE5\xBC\x95\xE5\x85\x88\xE3\x81\xB8\xE3\x81\xAE\xE3\x81\x8A\xE7\xA4\xBC\xE3"
        "\x83\xA1\xE3\x83\xBC\xE3\x83\xAB|4|4|0|gpt-5, gpt-5-t-mini",
        NULL};

    expect(*state, "chatgpt-export/conversations-000.json", AIC_IMPORT_CHATGPT, c0,
           "skipped {\"not_a_conversation\":1}");
    expect(*state, "chatgpt-export/conversations-001.json", AIC_IMPORT_CHATGPT, c1, "skipped {}");
}

static void test_claude(void **state)
{
    static const char *const one[] = {
        "3b1f9c6e-2d4a-4e8b-9f0c-7a6b5c4d3e2f|Index for a created_at range query|4|4|0|null, null",
        NULL};
    static const char *const three[] = {
        "3b1f9c6e-2d4a-4e8b-9f0c-7a6b5c4d3e2f|Loop over files with spaces in bash|4|4|0|null, null",
        "8e2d4c6a-1f3b-4d5e-9a7c-0b2d4f6a8c1e|K\xC3\xBCndigungsschreiben f\xC3\xBCrs "
        "Fitnessstudio|8|6|1|null, null, null / null",
        "c5a7e9b1-d3f5-4a7c-9e1b-3d5f7a9c1e3b|Here's my nginx config. Why does /api return "
        "404?|4|4|0|null, null",
        NULL};

    expect(*state, "claude-conversations.json", AIC_IMPORT_CLAUDE, one, "skipped {}");
    expect(*state, "claude-export/conversations.json", AIC_IMPORT_CLAUDE, three, "skipped {}");
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
    static const char *const b[] = {
        "5f2e9a7b31d04c68|Hazme un plan de entrenamiento de 4 semanas para correr 10 "
        "km|7|6|1|null, null, null / null",
        "a81c0e44d2b7f913|Explain ROW_NUMBER vs RANK in SQL|4|4|0|null, null", NULL};

    expect(*state, "gemini-takeout/MyActivity-a.json", AIC_IMPORT_GEMINI, a,
           "skipped {\"not_a_prompt\":3}");
    expect(*state, "gemini-takeout/MyActivity-b.json", AIC_IMPORT_GEMINI, b,
           "skipped {\"not_a_prompt\":1}");
}

static void test_mistral(void **state)
{
    static const char *const c1[] = {
        "6f0a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b|Donne-moi une recette de p\xC3\xA2te \xC3\xA0 "
        "cr\xC3\xAApes pour 4 personnes.|4|4|0|null, null",
        NULL};
    static const char *const c2[] = {
        "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d|Which HTTP methods are safe and which are idempotent "
        "according to RFC 9110?|4|4|0|null, null",
        NULL};
    static const char *const v[] = {
        "d3f1a5c7-e9b1-4d3f-a5c7-e9b1d3f5a7c9|Id\xC3\xA9"
        "es de noms pour une boulangerie|2|2|0|mistral-medium-2505",
        "f5a7c9e1-b3d5-4f7a-9c1e-3b5d7f9a1c3e|Regex pour un code postal fran\xC3\xA7"
        "ais|4|4|0|mistral-small-2503, mistral-small-2503",
        NULL};

    expect(*state, "mistral-export/chat-6f0a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b.json",
           AIC_IMPORT_MISTRAL_CHAT, c1, "skipped {}");
    expect(*state, "mistral-export/chat-9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d.json",
           AIC_IMPORT_MISTRAL_CHAT, c2, "skipped {}");
    expect(*state, "mistral-export/variant-combined.json", AIC_IMPORT_MISTRAL_VARIANT, v,
           "skipped {\"not_a_conversation\":3}");
}

static void test_broken_trees(void **state)
{
    static const char *const cycle[] = {
        "68e0a1b2-c3d4-8005-9e6f-7a8b9c0d1e2f|Fine conversation|2|2|0|gpt-4o", NULL};
    static const char *const orphan[] = {
        "68e2c3d4-e5f6-8007-b081-9c0d1e2f3a41|Welsh greetings|4|2|1|gpt-4o / gpt-4o", NULL};
    seen *s = fresh(*state);
    const char *code;

    expect(*state, "broken/chatgpt-cycle.json", AIC_IMPORT_CHATGPT, cycle, "skipped {}");
    run(s, "broken/chatgpt-cycle.json", 0, &code);
    assert_string_equal(APR_ARRAY_IDX(s->rejects, 0, const char *),
                        "68e1b2c3-d4e5-8006-af70-8b9c0d1e2f30 tree_cycle");
    expect(*state, "broken/chatgpt-missing-parent.json", AIC_IMPORT_CHATGPT, orphan, "skipped {}");
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
        cmocka_unit_test_setup_teardown(test_broken_trees, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_broken_files, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_limits, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_title_and_times, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_zip_uploads, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_zip_limits, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_multipart, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_non_text_parts, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_escapes_postgresql_refuses, pool_setup, pool_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
