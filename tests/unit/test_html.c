/* Unit tests for core/aic_html: escaping for text and quoted attributes. */
#include "unit_helpers.h"

#include <string.h>

#include "core/aic_html.h"

static void test_each_special_char(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(aic_html_escape(p, "&"), "&amp;");
    assert_string_equal(aic_html_escape(p, "<"), "&lt;");
    assert_string_equal(aic_html_escape(p, ">"), "&gt;");
    assert_string_equal(aic_html_escape(p, "\""), "&quot;");
    assert_string_equal(aic_html_escape(p, "'"), "&#39;");
}

static void test_mixed(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(aic_html_escape(p, "<a href=\"x\" title='t'>Tom & Jerry</a>"),
                        "&lt;a href=&quot;x&quot; title=&#39;t&#39;&gt;Tom &amp; Jerry&lt;/a&gt;");
    assert_string_equal(aic_html_escape(p, "<script>alert(1)</script>"),
                        "&lt;script&gt;alert(1)&lt;/script&gt;");
    /* Every character escaped, back to back: the output buffer is sized exactly. */
    assert_string_equal(aic_html_escape(p, "&<>\"'&<>\"'"),
                        "&amp;&lt;&gt;&quot;&#39;&amp;&lt;&gt;&quot;&#39;");
}

static void test_specials_at_edges(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(aic_html_escape(p, "<x"), "&lt;x");
    assert_string_equal(aic_html_escape(p, "x>"), "x&gt;");
    assert_string_equal(aic_html_escape(p, "a & b"), "a &amp; b");
}

static void test_no_double_unescape(void **state)
{
    apr_pool_t *p = *state;

    /* Text that looks escaped is still text: its & is escaped again. */
    assert_string_equal(aic_html_escape(p, "&amp;"), "&amp;amp;");
    assert_string_equal(aic_html_escape(p, "&lt;b&gt;"), "&amp;lt;b&amp;gt;");
}

static void test_null_gives_empty(void **state)
{
    apr_pool_t *p = *state;
    const char *s = aic_html_escape(p, NULL);

    assert_non_null(s);
    assert_string_equal(s, "");
}

static void test_unchanged_returned_as_is(void **state)
{
    apr_pool_t *p = *state;
    const char *plain = "Hello, world; 100% fine = yes (ok) / no \\ `tick`";
    const char *empty = "";
    const char *utf8 = "Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80";

    assert_ptr_equal(aic_html_escape(p, plain), plain);
    assert_ptr_equal(aic_html_escape(p, empty), empty);
    assert_ptr_equal(aic_html_escape(p, utf8), utf8);
}

static void test_escaped_is_a_copy(void **state)
{
    apr_pool_t *p = *state;
    char in[] = "a<b";
    const char *out = aic_html_escape(p, in);

    assert_ptr_not_equal(out, in);
    in[1] = 'X';
    /* The input is untouched by escaping and the copy independent of it. */
    assert_string_equal(out, "a&lt;b");
}

static void test_utf8_kept(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(aic_html_escape(p, "caf\xc3\xa9 <b>\xe2\x82\xac</b>"),
                        "caf\xc3\xa9 &lt;b&gt;\xe2\x82\xac&lt;/b&gt;");
}

static void test_long_input(void **state)
{
    apr_pool_t *p = *state;
    char in[4001];
    const char *out;

    for (int i = 0; i < 4000; i++) {
        in[i] = (i % 2) ? '<' : 'a';
    }
    in[4000] = '\0';
    out = aic_html_escape(p, in);
    /* 2000 x "a" + 2000 x "&lt;" */
    assert_int_equal(strlen(out), 2000 + 2000 * 4);
    assert_memory_equal(out, "a&lt;a&lt;", 10);
    assert_string_equal(out + strlen(out) - 5, "a&lt;");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_each_special_char), POOL_TEST(test_mixed),
        POOL_TEST(test_specials_at_edges), POOL_TEST(test_no_double_unescape),
        POOL_TEST(test_null_gives_empty),  POOL_TEST(test_unchanged_returned_as_is),
        POOL_TEST(test_escaped_is_a_copy), POOL_TEST(test_utf8_kept),
        POOL_TEST(test_long_input),
    };

    return cmocka_run_group_tests_name("aic_html", tests, group_setup, group_teardown);
}
