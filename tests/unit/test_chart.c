/* Unit tests for core/aic_chart: server-side SVG bar charts with their text
 * alternative. */
#include "unit_helpers.h"

#include <string.h>

#include "core/aic_chart.h"

static int count(const char *s, const char *what)
{
    int n = 0;

    for (const char *at = strstr(s, what); at; at = strstr(at + 1, what)) {
        n++;
    }
    return n;
}

static void test_bars_and_text_alternative(void **state)
{
    apr_pool_t *p = *state;
    const aic_chart_bar bars[] = {{"2026-12-01", 10}, {"2026-12-02", 40}, {"2026-12-03", 0}};
    const char *svg = aic_chart_bars(p, "tok", "Tokens per day", "tokens", bars, 3);

    assert_non_null(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\""));
    assert_non_null(strstr(svg, "aria-labelledby=\"tok-title tok-desc\""));
    assert_non_null(strstr(svg, "<title id=\"tok-title\">Tokens per day</title>"));
    assert_non_null(strstr(svg, "<desc id=\"tok-desc\">3 bars from 2026-12-01 to 2026-12-03; "
                                "total 50 tokens; largest 40 tokens on 2026-12-02.</desc>"));
    assert_int_equal(count(svg, "<rect "), 3);
    assert_non_null(strstr(svg, "<title>2026-12-02: 40 tokens</title>"));
    /* The largest bar fills the plot (168 px high), the empty one has no height. */
    assert_non_null(strstr(svg, "height=\"168.0\""));
    assert_non_null(strstr(svg, "height=\"0.0\""));
    assert_string_equal(svg + strlen(svg) - 6, "</svg>");
}

static void test_text_is_escaped(void **state)
{
    apr_pool_t *p = *state;
    const aic_chart_bar bars[] = {{"<script>", 5}};
    const char *svg = aic_chart_bars(p, "x\"y", "A & B", "<u>", bars, 1);

    assert_null(strstr(svg, "<script>"));
    assert_null(strstr(svg, "<u>"));
    assert_non_null(strstr(svg, "&lt;script&gt;: 5 &lt;u&gt;"));
    assert_non_null(strstr(svg, "<title id=\"x&quot;y-title\">A &amp; B</title>"));
}

static void test_empty_and_negative(void **state)
{
    apr_pool_t *p = *state;
    const aic_chart_bar bars[] = {{"a", -7}};
    const char *empty = aic_chart_bars(p, "e", "Nothing", "calls", NULL, 0);
    const char *neg = aic_chart_bars(p, "n", "Negative", "calls", bars, 1);

    assert_non_null(strstr(empty, "<desc id=\"e-desc\">No data.</desc>"));
    assert_int_equal(count(empty, "<rect "), 0);
    assert_non_null(strstr(neg, "<title>a: 0 calls</title>"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_bars_and_text_alternative),
        POOL_TEST(test_text_is_escaped),
        POOL_TEST(test_empty_and_negative),
    };

    return cmocka_run_group_tests_name("aic_chart", tests, group_setup, group_teardown);
}
