/* Unit tests for core/aic_cursor: the one keyset cursor format. */
#include "unit_helpers.h"

#include <string.h>

#include <apr_strings.h>

#include "core/aic_cursor.h"

#define UUID     "8b1c7c1e-1f0a-4a57-9d43-1b1f5b6c0a11"
#define UUID_HEX "38623163376331652d316630612d346135372d396434332d3162316635623663306131317c"

/* What PostgreSQL gives for encode(convert_to('p|' || id || '|' || 42, 'UTF8'), 'hex'). */
static void test_encode_matches_sql(void **state)
{
    const char *f[] = {UUID, "42"};

    assert_string_equal(aic_cursor_encode(*state, "p", f, 2), "707c" UUID_HEX "3432");
}

static void test_encode_utf8_and_bar_in_last_field(void **state)
{
    const char *f[] = {UUID, "Zo\xc3\xab | Co"};

    assert_string_equal(aic_cursor_encode(*state, "n", f, 2), "6e7c" UUID_HEX "5a6fc3ab207c20436f");
}

static void test_round_trip(void **state)
{
    apr_pool_t *p = *state;
    const char *in[] = {"a", "", "b|c||"};
    const char *out[3] = {NULL, NULL, NULL};
    const char *c = aic_cursor_encode(p, "kind", in, 3);

    assert_non_null(c);
    assert_int_equal(aic_cursor_decode(out, p, c, "kind", 3), APR_SUCCESS);
    assert_string_equal(out[0], "a");
    assert_string_equal(out[1], "");
    assert_string_equal(out[2], "b|c||");
}

static void test_decode_sql_cursor(void **state)
{
    const char *f[2] = {NULL, NULL};

    assert_int_equal(aic_cursor_decode(f, *state, "6e7c" UUID_HEX "5a6fc3ab207c20436f", "n", 2),
                     APR_SUCCESS);
    assert_string_equal(f[0], UUID);
    assert_string_equal(f[1], "Zo\xc3\xab | Co");
}

/* Fewer fields are refused; more end up in the last one, which may hold '|'. */
static void test_decode_field_count(void **state)
{
    apr_pool_t *p = *state;
    const char *f[3] = {NULL, NULL, NULL};
    const char *two = aic_cursor_encode(p, "v", (const char *[]){"x", "y"}, 2);

    assert_int_equal(aic_cursor_decode(f, p, two, "v", 3), APR_EINVAL);
    assert_null(f[0]);
    assert_int_equal(aic_cursor_decode(f, p, two, "v", 1), APR_SUCCESS);
    assert_string_equal(f[0], "x|y");
    /* "v" alone and "v|": no field and one empty field. */
    assert_int_equal(aic_cursor_decode(f, p, "76", "v", 1), APR_EINVAL);
    assert_int_equal(aic_cursor_decode(f, p, "767c", "v", 1), APR_SUCCESS);
    assert_string_equal(f[0], "");
}

static void test_decode_wrong_kind(void **state)
{
    apr_pool_t *p = *state;
    const char *f[2] = {NULL, NULL};
    const char *c = aic_cursor_encode(p, "p", (const char *[]){UUID, "42"}, 2);

    assert_int_equal(aic_cursor_decode(f, p, c, "n", 2), APR_EINVAL);
    /* A kind is matched whole, not as a prefix either way. */
    assert_int_equal(aic_cursor_decode(f, p, c, "pp", 2), APR_EINVAL);
    c = aic_cursor_encode(p, "pp", (const char *[]){UUID, "42"}, 2);
    assert_int_equal(aic_cursor_decode(f, p, c, "p", 2), APR_EINVAL);
    assert_int_equal(aic_cursor_decode(f, p, c, "", 2), APR_EINVAL);
    assert_int_equal(aic_cursor_decode(f, p, c, NULL, 2), APR_EINVAL);
    assert_int_equal(aic_cursor_decode(f, p, c, "p|p", 1), APR_EINVAL);
    assert_null(f[0]);
}

static void test_decode_not_hex(void **state)
{
    apr_pool_t *p = *state;
    const char *f[1] = {NULL};

    assert_int_equal(aic_cursor_decode(f, p, "767c41", "v", 1), APR_SUCCESS);
    assert_string_equal(f[0], "A");
    f[0] = NULL;
    /* One spelling: upper-case digits are refused. */
    assert_int_equal(aic_cursor_decode(f, p, "767C41", "v", 1), APR_EINVAL);
    assert_int_equal(aic_cursor_decode(f, p, "767c4", "v", 1), APR_EINVAL);
    assert_int_equal(aic_cursor_decode(f, p, "767c4g", "v", 1), APR_EINVAL);
    assert_int_equal(aic_cursor_decode(f, p, "767c 41", "v", 1), APR_EINVAL);
    assert_int_equal(aic_cursor_decode(f, p, "", "v", 1), APR_EINVAL);
    assert_int_equal(aic_cursor_decode(f, p, NULL, "v", 1), APR_EINVAL);
    assert_null(f[0]);
}

static void test_decode_not_text(void **state)
{
    apr_pool_t *p = *state;
    const char *f[1] = {NULL};

    /* A NUL byte, a broken sequence, an overlong '/', a surrogate. */
    assert_int_equal(aic_cursor_decode(f, p, "767c4100", "v", 1), APR_EINVAL);
    assert_int_equal(aic_cursor_decode(f, p, "767cc328", "v", 1), APR_EINVAL);
    assert_int_equal(aic_cursor_decode(f, p, "767cc0af", "v", 1), APR_EINVAL);
    assert_int_equal(aic_cursor_decode(f, p, "767ceda080", "v", 1), APR_EINVAL);
    assert_int_equal(aic_cursor_decode(f, p, "767cf09f9880", "v", 1), APR_SUCCESS);
    assert_string_equal(f[0], "\xf0\x9f\x98\x80");
}

static void test_length_cap(void **state)
{
    apr_pool_t *p = *state;
    char *last = apr_palloc(p, AIC_CURSOR_MAX_BYTES + 1);
    const char *f[1] = {NULL};
    const char *c;
    char *longer;

    /* "v|" and MAX_BYTES - 2 more bytes: exactly at the cap. */
    memset(last, 'a', AIC_CURSOR_MAX_BYTES - 2);
    last[AIC_CURSOR_MAX_BYTES - 2] = '\0';
    c = aic_cursor_encode(p, "v", (const char *[]){last}, 1);
    assert_non_null(c);
    assert_int_equal(strlen(c), 2 * AIC_CURSOR_MAX_BYTES);
    assert_int_equal(aic_cursor_decode(f, p, c, "v", 1), APR_SUCCESS);
    assert_string_equal(f[0], last);

    /* One byte more is refused both ways. */
    last[AIC_CURSOR_MAX_BYTES - 2] = 'a';
    last[AIC_CURSOR_MAX_BYTES - 1] = '\0';
    assert_null(aic_cursor_encode(p, "v", (const char *[]){last}, 1));
    longer = apr_pstrcat(p, c, "61", NULL);
    f[0] = NULL;
    assert_int_equal(aic_cursor_decode(f, p, longer, "v", 1), APR_EINVAL);
    assert_null(f[0]);
}

static void test_encode_refuses(void **state)
{
    apr_pool_t *p = *state;

    assert_null(aic_cursor_encode(p, "", (const char *[]){"x"}, 1));
    assert_null(aic_cursor_encode(p, NULL, (const char *[]){"x"}, 1));
    assert_null(aic_cursor_encode(p, "a|b", (const char *[]){"x"}, 1));
    assert_null(aic_cursor_encode(p, "v", (const char *[]){"x|y", "z"}, 2));
    assert_null(aic_cursor_encode(p, "v", (const char *[]){"x", NULL}, 2));
    assert_null(aic_cursor_encode(p, "v", (const char *[]){"x"}, 0));
    assert_null(aic_cursor_encode(p, "v", (const char *[]){"x"}, AIC_CURSOR_MAX_FIELDS + 1));
}

static void test_field_count_limits(void **state)
{
    apr_pool_t *p = *state;
    const char *in[AIC_CURSOR_MAX_FIELDS] = {"1", "2", "3", "4", "5", "6", "7", "8"};
    const char *out[AIC_CURSOR_MAX_FIELDS + 1] = {NULL};
    const char *c = aic_cursor_encode(p, "v", in, AIC_CURSOR_MAX_FIELDS);

    assert_non_null(c);
    assert_int_equal(aic_cursor_decode(out, p, c, "v", AIC_CURSOR_MAX_FIELDS), APR_SUCCESS);
    assert_string_equal(out[AIC_CURSOR_MAX_FIELDS - 1], "8");
    assert_int_equal(aic_cursor_decode(out, p, c, "v", 0), APR_EINVAL);
    assert_int_equal(aic_cursor_decode(out, p, c, "v", AIC_CURSOR_MAX_FIELDS + 1), APR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_encode_matches_sql), POOL_TEST(test_encode_utf8_and_bar_in_last_field),
        POOL_TEST(test_round_trip),         POOL_TEST(test_decode_sql_cursor),
        POOL_TEST(test_decode_field_count), POOL_TEST(test_decode_wrong_kind),
        POOL_TEST(test_decode_not_hex),     POOL_TEST(test_decode_not_text),
        POOL_TEST(test_length_cap),         POOL_TEST(test_encode_refuses),
        POOL_TEST(test_field_count_limits),
    };

    return cmocka_run_group_tests_name("aic_cursor", tests, group_setup, group_teardown);
}
