/* Unit tests for core/aic_json: parsing, access, building, pool ownership. */
#include "unit_helpers.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "core/aic_json.h"

/* Parse s (NUL-terminated) or fail the test. */
static aic_json *parse_ok(apr_pool_t *p, const char *s)
{
    aic_json *v = (aic_json *)1;
    const char *err = "unset";

    assert_int_equal(aic_json_parse(&v, &err, p, s, strlen(s)), APR_SUCCESS);
    assert_null(err);
    return v;
}

/* Parse s and expect APR_EINVAL, a NULL result and a non-empty reason. */
static const char *parse_bad(apr_pool_t *p, const char *s, apr_size_t len)
{
    aic_json *v = (aic_json *)1;
    const char *err = NULL;

    assert_int_equal(aic_json_parse(&v, &err, p, s, len), APR_EINVAL);
    assert_null(v);
    assert_non_null(err);
    assert_true(strlen(err) > 0);
    return err;
}

static void test_parse_object(void **state)
{
    apr_pool_t *p = *state;
    aic_json *o = parse_ok(p, "{\"name\":\"Ann\",\"n\":42,\"ok\":true,\"d\":1.5,\"z\":null}");

    assert_int_equal(aic_json_typeof(o), AIC_JSON_OBJECT);
    assert_int_equal(aic_json_typeof(aic_json_get(o, "name")), AIC_JSON_STRING);
    assert_string_equal(aic_json_str(aic_json_get(o, "name"), p), "Ann");
    assert_int_equal(aic_json_typeof(aic_json_get(o, "n")), AIC_JSON_INT);
    assert_int_equal(aic_json_int(aic_json_get(o, "n")), 42);
    assert_int_equal(aic_json_typeof(aic_json_get(o, "ok")), AIC_JSON_BOOL);
    assert_true(aic_json_bool(aic_json_get(o, "ok")));
    assert_int_equal(aic_json_typeof(aic_json_get(o, "d")), AIC_JSON_DOUBLE);
    assert_int_equal(aic_json_typeof(aic_json_get(o, "z")), AIC_JSON_NULL);
}

static void test_parse_array(void **state)
{
    apr_pool_t *p = *state;
    aic_json *a = parse_ok(p, " [1, \"two\", [3], {\"four\": 4}, false] \n");

    assert_int_equal(aic_json_typeof(a), AIC_JSON_ARRAY);
    assert_int_equal(aic_json_len(a), 5);
    assert_int_equal(aic_json_int(aic_json_at(a, 0)), 1);
    assert_string_equal(aic_json_str(aic_json_at(a, 1), p), "two");
    assert_int_equal(aic_json_typeof(aic_json_at(a, 2)), AIC_JSON_ARRAY);
    assert_int_equal(aic_json_len(aic_json_at(a, 2)), 1);
    assert_int_equal(aic_json_int(aic_json_get(aic_json_at(a, 3), "four")), 4);
    assert_int_equal(aic_json_typeof(aic_json_at(a, 4)), AIC_JSON_BOOL);
    assert_false(aic_json_bool(aic_json_at(a, 4)));
    /* Past the end there is nothing. */
    assert_null(aic_json_at(a, 5));
    assert_null(aic_json_at(a, 1000));
}

static void test_parse_empty_containers(void **state)
{
    apr_pool_t *p = *state;
    aic_json *o = parse_ok(p, "{}");
    aic_json *a = parse_ok(p, "[]");

    assert_int_equal(aic_json_typeof(o), AIC_JSON_OBJECT);
    assert_int_equal(aic_json_keys(o, p)->nelts, 0);
    assert_int_equal(aic_json_typeof(a), AIC_JSON_ARRAY);
    assert_int_equal(aic_json_len(a), 0);
}

static void test_parse_uses_len_not_nul(void **state)
{
    apr_pool_t *p = *state;
    /* Only the first 7 bytes are the document: what follows must be ignored. */
    const char buf[] = "{\"a\":1}GARBAGE";
    aic_json *v = NULL;
    const char *err = NULL;

    assert_int_equal(aic_json_parse(&v, &err, p, buf, 7), APR_SUCCESS);
    assert_int_equal(aic_json_int(aic_json_get(v, "a")), 1);
    assert_string_equal(aic_json_dump(v, p), "{\"a\":1}");
    /* A document cut short by len is incomplete. */
    parse_bad(p, buf, 6);
}

static void test_parse_truncated(void **state)
{
    apr_pool_t *p = *state;

    parse_bad(p, "{\"a\":", 5);
    parse_bad(p, "{\"a\":1", 6);
    parse_bad(p, "[1, 2", 5);
    parse_bad(p, "{\"a\":\"unterminated", 18);
}

static void test_parse_trailing_garbage(void **state)
{
    apr_pool_t *p = *state;

    parse_bad(p, "{} x", 4);
    parse_bad(p, "[1] [2]", 7);
    parse_bad(p, "{\"a\":1}}", 8);
    /* An embedded NUL inside len is data too, not an end marker. */
    parse_bad(p, "{}\0x", 4);
    /* Trailing white space is fine. */
    parse_ok(p, "{} \t\r\n");
}

static void test_parse_empty_input(void **state)
{
    apr_pool_t *p = *state;

    parse_bad(p, "", 0);
    parse_bad(p, "   ", 3);
}

static void test_parse_malformed(void **state)
{
    apr_pool_t *p = *state;

    parse_bad(p, "{\"a\" 1}", 7);
    parse_bad(p, "{a}", 3);
    parse_bad(p, "[1 2]", 5);
    parse_bad(p, "}", 1);
    parse_bad(p, "nope", 4);
}

static void test_parse_top_level_scalars(void **state)
{
    apr_pool_t *p = *state;
    aic_json *v;

    v = parse_ok(p, "42");
    assert_int_equal(aic_json_typeof(v), AIC_JSON_INT);
    assert_int_equal(aic_json_int(v), 42);
    v = parse_ok(p, " -7 \n");
    assert_int_equal(aic_json_int(v), -7);
    assert_int_equal(aic_json_typeof(parse_ok(p, "-1.5")), AIC_JSON_DOUBLE);
    assert_int_equal(aic_json_typeof(parse_ok(p, "1e3")), AIC_JSON_DOUBLE);
    v = parse_ok(p, "true");
    assert_int_equal(aic_json_typeof(v), AIC_JSON_BOOL);
    assert_true(aic_json_bool(v));
    v = parse_ok(p, "false");
    assert_int_equal(aic_json_typeof(v), AIC_JSON_BOOL);
    assert_false(aic_json_bool(v));
    assert_int_equal(aic_json_typeof(parse_ok(p, "null")), AIC_JSON_NULL);
    assert_string_equal(aic_json_str(parse_ok(p, "\"s\""), p), "s");
    /* Cut short or run together, they are not JSON. */
    parse_bad(p, "tru", 3);
    parse_bad(p, "-", 1);
    parse_bad(p, "4 2", 3);
    parse_bad(p, "\"s", 2);
}

static void test_parse_strict(void **state)
{
    apr_pool_t *p = *state;

    /* Extensions json-c would otherwise accept are refused. */
    parse_bad(p, "[1,]", 4);
    parse_bad(p, "{\"a\":1,}", 8);
    parse_bad(p, "/*c*/{}", 7);
    parse_bad(p, "//c\n{}", 7);
    parse_bad(p, "[TRUE]", 6);
    parse_bad(p, "[01]", 4);
    parse_bad(p, "[.5]", 4);
    parse_bad(p, "[+1]", 4);
    parse_bad(p, "0x10", 4);
    parse_bad(p, "[\"\\x41\"]", 8);
}

static void test_parse_nul_byte(void **state)
{
    apr_pool_t *p = *state;

    parse_bad(p, "\0", 1);
    parse_bad(p, "{\"a\":1}\0", 8);
    parse_bad(p, "{\"a\":\"x\0y\"}", 11);
}

static void test_get_and_has(void **state)
{
    apr_pool_t *p = *state;
    aic_json *o = parse_ok(p, "{\"present\":null,\"s\":\"x\"}");
    aic_json *a = parse_ok(p, "[1]");

    /* A null member is present, but has no value. */
    assert_true(aic_json_has(o, "present"));
    assert_null(aic_json_get(o, "present"));
    assert_int_equal(aic_json_typeof(aic_json_get(o, "present")), AIC_JSON_NULL);
    /* An absent member is neither. */
    assert_false(aic_json_has(o, "absent"));
    assert_null(aic_json_get(o, "absent"));
    assert_true(aic_json_has(o, "s"));
    /* Keys are case-sensitive. */
    assert_false(aic_json_has(o, "S"));
    /* Non-objects have no members. */
    assert_null(aic_json_get(a, "0"));
    assert_false(aic_json_has(a, "0"));
    assert_null(aic_json_get(NULL, "s"));
    assert_false(aic_json_has(NULL, "s"));
    assert_int_equal(aic_json_typeof(NULL), AIC_JSON_NULL);
}

static void test_str_only_for_strings(void **state)
{
    apr_pool_t *p = *state;
    aic_json *o = parse_ok(p, "{\"n\":1,\"b\":true,\"o\":{},\"a\":[],\"z\":null,\"e\":\"\"}");

    assert_null(aic_json_str(aic_json_get(o, "n"), p));
    assert_null(aic_json_str(aic_json_get(o, "b"), p));
    assert_null(aic_json_str(aic_json_get(o, "o"), p));
    assert_null(aic_json_str(aic_json_get(o, "a"), p));
    assert_null(aic_json_str(aic_json_get(o, "z"), p));
    assert_null(aic_json_str(NULL, p));
    assert_string_equal(aic_json_str(aic_json_get(o, "e"), p), "");
}

static void test_str_unicode_escapes(void **state)
{
    apr_pool_t *p = *state;
    aic_json *o = parse_ok(p, "{\"s\":\"caf\\u00e9 \\\"q\\\" \\n \\ud83d\\ude00\"}");

    assert_string_equal(aic_json_str(aic_json_get(o, "s"), p),
                        "caf\xc3\xa9 \"q\" \n \xf0\x9f\x98\x80");
}

static void test_str_embedded_nul(void **state)
{
    apr_pool_t *p = *state;
    aic_json *o = parse_ok(p, "{\"s\":\"ab\\u0000cd\",\"t\":\"\\u0000\"}");

    /* Still a string, but one a C string cannot hold: no value rather than "ab". */
    assert_int_equal(aic_json_typeof(aic_json_get(o, "s")), AIC_JSON_STRING);
    assert_null(aic_json_str(aic_json_get(o, "s"), p));
    assert_null(aic_json_str(aic_json_get(o, "t"), p));
}

static void test_str_copy_outlives_root_pool(void **state)
{
    apr_pool_t *a = *state;
    apr_pool_t *b = NULL;
    aic_json *root;
    const char *copy;

    assert_int_equal(apr_pool_create(&b, NULL), APR_SUCCESS);
    root = parse_ok(b, "{\"greeting\":\"hello, world\"}");
    copy = aic_json_str(aic_json_get(root, "greeting"), a);
    assert_non_null(copy);
    /* The copy is not the json-c buffer itself. */
    assert_ptr_not_equal(copy, aic_json_get(root, "greeting"));
    apr_pool_destroy(b);
    /* Pool A's copy is intact after the root's pool is gone (valgrind checks too). */
    assert_string_equal(copy, "hello, world");
}

static void test_int_range(void **state)
{
    apr_pool_t *p = *state;
    aic_json *o = parse_ok(p, "{\"big\":9007199254740993,\"neg\":-9223372036854775808}");

    assert_true(aic_json_int(aic_json_get(o, "big")) == APR_INT64_C(9007199254740993));
    assert_true(aic_json_int(aic_json_get(o, "neg")) == APR_INT64_MIN);
}

static void test_keys(void **state)
{
    apr_pool_t *p = *state;
    aic_json *o = parse_ok(p, "{\"b\":1,\"a\":2,\"c\":null}");
    apr_array_header_t *keys = aic_json_keys(o, p);

    assert_int_equal(keys->nelts, 3);
    /* In document order. */
    assert_string_equal(APR_ARRAY_IDX(keys, 0, const char *), "b");
    assert_string_equal(APR_ARRAY_IDX(keys, 1, const char *), "a");
    assert_string_equal(APR_ARRAY_IDX(keys, 2, const char *), "c");
    /* Non-objects have no keys, but still give an array. */
    assert_int_equal(aic_json_keys(parse_ok(p, "[1,2]"), p)->nelts, 0);
    assert_int_equal(aic_json_keys(NULL, p)->nelts, 0);
}

static void test_len_of_non_array(void **state)
{
    apr_pool_t *p = *state;

    assert_int_equal(aic_json_len(parse_ok(p, "{\"a\":1}")), 0);
    assert_int_equal(aic_json_len(NULL), 0);
}

static void test_build_and_dump(void **state)
{
    apr_pool_t *p = *state;
    aic_json *o = aic_json_object(p);

    assert_int_equal(aic_json_typeof(o), AIC_JSON_OBJECT);
    assert_string_equal(aic_json_dump(o, p), "{}");
    aic_json_set_str(o, "s", "a/b \"q\" \\ <x>");
    aic_json_set_int(o, "i", -7);
    aic_json_set_bool(o, "t", 1);
    aic_json_set_bool(o, "f", 0);
    aic_json_set_null(o, "n");
    aic_json_set_str(o, "ns", NULL);
    /* Slashes are not escaped; quotes and backslashes are. */
    assert_string_equal(aic_json_dump(o, p),
                        "{\"s\":\"a/b \\\"q\\\" \\\\ <x>\",\"i\":-7,\"t\":true,"
                        "\"f\":false,\"n\":null,\"ns\":null}");
    assert_true(aic_json_has(o, "ns"));
    assert_null(aic_json_get(o, "ns"));
}

static apr_status_t collect(void *baton, const char *json, apr_size_t n)
{
    apr_pool_t *p = ((void **)baton)[0];
    const char **out = ((void **)baton)[1];

    *out = apr_pstrcat(p, *out, apr_pstrmemdup(p, json, n), NULL);
    return APR_SUCCESS;
}

static void test_quote(void **state)
{
    apr_pool_t *p = *state;
    const char *out = "";
    void *baton[] = {p, &out};
    const char in[] = "a/b \"q\" \\ \b\f\n\r\t\x01\x1f\x7f \xc3\xa9";

    /* Escaped as PostgreSQL's to_json escapes: named escapes, \u00XX for the
     * other control characters; slashes, DEL and UTF-8 left as they are. */
    assert_int_equal(aic_json_quote(in, sizeof(in) - 1, collect, baton), APR_SUCCESS);
    assert_string_equal(out, "\"a/b \\\"q\\\" \\\\ \\b\\f\\n\\r\\t\\u0001\\u001f\x7f \xc3\xa9\"");
    out = "";
    assert_int_equal(aic_json_quote("", 0, collect, baton), APR_SUCCESS);
    assert_string_equal(out, "\"\"");
}

static void test_push_str_and_from(void **state)
{
    apr_pool_t *p = *state;
    aic_json *a = aic_json_array(p), *back;

    aic_json_push_str(a, "x\"y");
    aic_json_push_str(a, NULL);
    assert_string_equal(aic_json_dump(a, p), "[\"x\\\"y\",null]");
    back = aic_json_from(p, aic_json_dump(a, p));
    assert_int_equal(aic_json_len(back), 2);
    assert_string_equal(aic_json_str(aic_json_at(back, 0), p), "x\"y");
    assert_int_equal(aic_json_typeof(aic_json_at(back, 1)), AIC_JSON_NULL);
    assert_null(aic_json_from(p, NULL));
    assert_null(aic_json_from(p, "[1,"));
}

static void test_set_replaces(void **state)
{
    apr_pool_t *p = *state;
    aic_json *o = aic_json_object(p);

    aic_json_set_int(o, "a", 1);
    aic_json_set_int(o, "a", 2);
    aic_json_set_str(o, "a", "three");
    assert_string_equal(aic_json_dump(o, p), "{\"a\":\"three\"}");
    assert_int_equal(aic_json_keys(o, p)->nelts, 1);
}

static void test_dump_control_and_unicode(void **state)
{
    apr_pool_t *p = *state;
    aic_json *a = aic_json_array(p);
    aic_json *s = parse_ok(p, "\"line\\nbreak\\u0001\"");

    aic_json_push(a, s);
    assert_string_equal(aic_json_dump(a, p), "[\"line\\nbreak\\u0001\"]");
    /* The dump round-trips. */
    assert_string_equal(aic_json_str(aic_json_at(parse_ok(p, aic_json_dump(a, p)), 0), p),
                        "line\nbreak\x01");
}

static void test_dump_null(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(aic_json_dump(NULL, p), "null");
}

static void test_dump_copy_belongs_to_pool(void **state)
{
    apr_pool_t *a = *state;
    apr_pool_t *b = NULL;
    const char *text;

    assert_int_equal(apr_pool_create(&b, NULL), APR_SUCCESS);
    text = aic_json_dump(parse_ok(b, "{\"k\":[1,2,3]}"), a);
    apr_pool_destroy(b);
    assert_string_equal(text, "{\"k\":[1,2,3]}");
}

static void test_set_shares_with_other_pool(void **state)
{
    apr_pool_t *parent_pool = *state;
    apr_pool_t *src_pool = NULL;
    aic_json *parent = aic_json_object(parent_pool);
    aic_json *child;

    assert_int_equal(apr_pool_create(&src_pool, NULL), APR_SUCCESS);
    child = aic_json_object(src_pool);
    aic_json_set_str(child, "x", "y");
    aic_json_set(parent, "child", child);
    /* Shared, not copied: a later change to the child shows in the parent. */
    aic_json_set_int(child, "n", 1);
    assert_string_equal(aic_json_dump(parent, parent_pool), "{\"child\":{\"x\":\"y\",\"n\":1}}");
    /* The source pool releases its reference; the parent's keeps the value alive. */
    apr_pool_destroy(src_pool);
    assert_string_equal(aic_json_dump(parent, parent_pool), "{\"child\":{\"x\":\"y\",\"n\":1}}");
}

static void test_set_parent_pool_dies_first(void **state)
{
    apr_pool_t *child_pool = *state;
    apr_pool_t *parent_pool = NULL;
    aic_json *child = aic_json_array(child_pool);

    assert_int_equal(apr_pool_create(&parent_pool, NULL), APR_SUCCESS);
    aic_json_push(child, parse_ok(child_pool, "\"kept\""));
    aic_json_set(aic_json_object(parent_pool), "c", child);
    apr_pool_destroy(parent_pool);
    /* The child's own pool still owns a live value. */
    assert_string_equal(aic_json_dump(child, child_pool), "[\"kept\"]");
}

static void test_push_shares_with_other_pool(void **state)
{
    apr_pool_t *p = *state;
    apr_pool_t *src_pool = NULL;
    aic_json *arr = aic_json_array(p);

    assert_int_equal(apr_pool_create(&src_pool, NULL), APR_SUCCESS);
    aic_json_push(arr, parse_ok(src_pool, "{\"id\":1}"));
    aic_json_push(arr, parse_ok(src_pool, "[true]"));
    aic_json_push(arr, NULL);
    apr_pool_destroy(src_pool);
    assert_int_equal(aic_json_len(arr), 3);
    assert_string_equal(aic_json_dump(arr, p), "[{\"id\":1},[true],null]");
}

static void test_set_borrowed_child_outlives_root(void **state)
{
    apr_pool_t *p = *state;
    apr_pool_t *src_pool = NULL;
    aic_json *out = aic_json_object(p);
    aic_json *root;

    assert_int_equal(apr_pool_create(&src_pool, NULL), APR_SUCCESS);
    root = parse_ok(src_pool, "{\"inner\":{\"deep\":[1,{\"k\":\"v\"}]},\"other\":0}");
    /* A borrowed member of a parsed document, set into another object. */
    aic_json_set(out, "moved", aic_json_get(root, "inner"));
    apr_pool_destroy(src_pool);
    assert_string_equal(aic_json_dump(out, p), "{\"moved\":{\"deep\":[1,{\"k\":\"v\"}]}}");
}

static void test_same_value_twice(void **state)
{
    apr_pool_t *p = *state;
    apr_pool_t *src_pool = NULL;
    aic_json *o = aic_json_object(p);
    aic_json *shared;

    assert_int_equal(apr_pool_create(&src_pool, NULL), APR_SUCCESS);
    shared = parse_ok(src_pool, "[1]");
    aic_json_set(o, "a", shared);
    aic_json_set(o, "b", shared);
    /* Replacing one use must not free the value still used by the other. */
    aic_json_set_null(o, "a");
    apr_pool_destroy(src_pool);
    assert_string_equal(aic_json_dump(o, p), "{\"a\":null,\"b\":[1]}");
}

static void test_error_body(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(aic_json_error_body(p, "x", "y", NULL),
                        "{\"error\":{\"code\":\"x\",\"message\":\"y\"}}");
    assert_string_equal(aic_json_error_body(p, "invalid", "must not be empty", "display_name"),
                        "{\"error\":{\"code\":\"invalid\",\"message\":\"must not be empty\","
                        "\"field\":\"display_name\"}}");
}

static void test_error_body_escapes(void **state)
{
    apr_pool_t *p = *state;
    const char *body = aic_json_error_body(p, "bad", "say \"hi\"\n</script>", NULL);
    aic_json *v = parse_ok(p, body);

    assert_string_equal(
        body, "{\"error\":{\"code\":\"bad\",\"message\":\"say \\\"hi\\\"\\n</script>\"}}");
    assert_string_equal(aic_json_str(aic_json_get(aic_json_get(v, "error"), "message"), p),
                        "say \"hi\"\n</script>");
}

static void test_json_nonfinite_and_utf8(void **state)
{
    apr_pool_t *p = *state;
    aic_json *v;
    const char *err;
    static const char *const bad[] = {"NaN", "[NaN]", "{\"a\":{\"b\":[Infinity]}}", "-Infinity",
                                      "{\"a\":\"\xff\"}"};

    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(aic_json_parse(&v, &err, p, bad[i], strlen(bad[i])), APR_EINVAL);
        assert_non_null(err);
    }
    assert_int_equal(aic_json_parse(&v, &err, p, "[1.5,{\"x\":2e3}]", 15), APR_SUCCESS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_json_nonfinite_and_utf8),
        POOL_TEST(test_parse_object),
        POOL_TEST(test_parse_array),
        POOL_TEST(test_parse_empty_containers),
        POOL_TEST(test_parse_uses_len_not_nul),
        POOL_TEST(test_parse_truncated),
        POOL_TEST(test_parse_trailing_garbage),
        POOL_TEST(test_parse_empty_input),
        POOL_TEST(test_parse_malformed),
        POOL_TEST(test_parse_top_level_scalars),
        POOL_TEST(test_parse_strict),
        POOL_TEST(test_parse_nul_byte),
        POOL_TEST(test_get_and_has),
        POOL_TEST(test_str_only_for_strings),
        POOL_TEST(test_str_unicode_escapes),
        POOL_TEST(test_str_embedded_nul),
        POOL_TEST(test_str_copy_outlives_root_pool),
        POOL_TEST(test_int_range),
        POOL_TEST(test_keys),
        POOL_TEST(test_len_of_non_array),
        POOL_TEST(test_build_and_dump),
        POOL_TEST(test_quote),
        POOL_TEST(test_push_str_and_from),
        POOL_TEST(test_set_replaces),
        POOL_TEST(test_dump_control_and_unicode),
        POOL_TEST(test_dump_null),
        POOL_TEST(test_dump_copy_belongs_to_pool),
        POOL_TEST(test_set_shares_with_other_pool),
        POOL_TEST(test_set_parent_pool_dies_first),
        POOL_TEST(test_push_shares_with_other_pool),
        POOL_TEST(test_set_borrowed_child_outlives_root),
        POOL_TEST(test_same_value_twice),
        POOL_TEST(test_error_body),
        POOL_TEST(test_error_body_escapes),
    };

    return cmocka_run_group_tests_name("aic_json", tests, group_setup, group_teardown);
}
