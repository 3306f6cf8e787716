/* Unit tests for aic_utf8_clean: what an audit row's text becomes before
 * PostgreSQL sees it. */
#include "unit_helpers.h"

#include <string.h>

#include "core/aic_utf8.h"

#define R AIC_UTF8_REPLACEMENT

static void test_valid_text_is_kept(void **state)
{
    apr_pool_t *p = *state;
    const char *s = "Mozilla/5.0 (caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF)";

    /* Valid and short enough: the very same string. */
    assert_ptr_equal(aic_utf8_clean(p, s, 1024), s);
    assert_ptr_equal(aic_utf8_clean(p, "", 0), "");
    assert_null(aic_utf8_clean(p, NULL, 10));
}

static void test_ill_formed_becomes_replacement(void **state)
{
    apr_pool_t *p = *state;
    struct {
        const char *in, *want;
    } cases[] = {
        {"\xFF", R},
        {"a\xFF"
         "b",
         "a" R "b"},
        {"\x80\x80", R R},             /* lone continuation bytes */
        {"\xC0\xAF", R R},             /* overlong '/' */
        {"\xC1\xBF", R R},             /* overlong */
        {"\xE0\x80\xAF", R R R},       /* overlong, three bytes */
        {"\xED\xA0\x80", R R R},       /* a surrogate */
        {"\xF4\x90\x80\x80", R R R R}, /* above U+10FFFF */
        {"\xF5\x80", R R},             /* no such lead byte */
        {"\xE2\x82", R},               /* cut short: one maximal subpart */
        {"\xE2\x82x", R "x"},
        {"\xF0\x9F\x98", R},
        {"\xF0\x9F\x98\xC3\xA9", R "\xC3\xA9"},
        {"ok \xC3\xA9\xFE\xFF end", "ok \xC3\xA9" R R " end"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_string_equal(aic_utf8_clean(p, cases[i].in, 1024), cases[i].want);
    }
}

static void test_cut_at_a_character(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(aic_utf8_clean(p, "abcdef", 4), "abcd");
    /* é is two bytes: never half of it. */
    assert_string_equal(aic_utf8_clean(p, "abc\xC3\xA9", 4), "abc");
    assert_string_equal(aic_utf8_clean(p, "abc\xC3\xA9", 5), "abc\xC3\xA9");
    /* A replacement that does not fit is left out too. */
    assert_string_equal(aic_utf8_clean(p, "ab\xFF", 4), "ab");
    assert_string_equal(aic_utf8_clean(p, "ab\xFF", 5), "ab" R);
    assert_string_equal(aic_utf8_clean(p, "\xFF\xFF\xFF\xFF", 7), R R);
}

static void test_long_text_is_capped(void **state)
{
    apr_pool_t *p = *state;
    char big[5000];

    memset(big, '\xFF', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(strlen(aic_utf8_clean(p, big, 2048)), 2046); /* 682 replacements */
    memset(big, 'a', sizeof(big) - 1);
    assert_int_equal(strlen(aic_utf8_clean(p, big, 2048)), 2048);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_valid_text_is_kept),
        POOL_TEST(test_ill_formed_becomes_replacement),
        POOL_TEST(test_cut_at_a_character),
        POOL_TEST(test_long_text_is_capped),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
