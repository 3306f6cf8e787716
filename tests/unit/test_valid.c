/* Unit tests for core/aic_valid: validation of user-supplied values. */
#include "unit_helpers.h"

#include <string.h>
#include <apr_strings.h>

#include "core/aic_valid.h"

#define E_ACUTE "\xc3\xa9"         /* U+00E9, 2 bytes */
#define EURO    "\xe2\x82\xac"     /* U+20AC, 3 bytes */
#define GRIN    "\xf0\x9f\x98\x80" /* U+1F600, 4 bytes */

/* n copies of unit, concatenated. */
static char *repeat(apr_pool_t *p, const char *unit, int n)
{
    apr_size_t len = strlen(unit);
    char *s = apr_palloc(p, len * (apr_size_t)n + 1);

    for (int i = 0; i < n; i++) {
        memcpy(s + len * (apr_size_t)i, unit, len);
    }
    s[len * (apr_size_t)n] = '\0';
    return s;
}

/* Expect the display name to be accepted with the given normalised form. */
static void name_ok(apr_pool_t *p, const char *in, const char *want)
{
    const char *out = NULL;

    assert_null(aic_valid_display_name(&out, p, in));
    assert_non_null(out);
    assert_string_equal(out, want);
}

/* Expect the display name to be refused; returns the message. */
static const char *name_bad(apr_pool_t *p, const char *in)
{
    const char *out = NULL;
    const char *msg = aic_valid_display_name(&out, p, in);

    assert_non_null(msg);
    assert_null(out);
    return msg;
}

static void email_ok(apr_pool_t *p, const char *in, const char *want)
{
    const char *out = NULL;

    assert_null(aic_valid_email(&out, p, in));
    assert_non_null(out);
    assert_string_equal(out, want);
}

static void email_bad(apr_pool_t *p, const char *in)
{
    const char *out = NULL;

    assert_non_null(aic_valid_email(&out, p, in));
    assert_null(out);
}

/* ---- UTF-8 ---------------------------------------------------------- */

static void test_utf8_valid(void **state)
{
    assert_true(aic_valid_utf8("", 0));
    assert_true(aic_valid_utf8("plain ascii", 100));
    assert_true(aic_valid_utf8(E_ACUTE EURO GRIN, 100));
    /* The largest code point, U+10FFFF. */
    assert_true(aic_valid_utf8("\xf4\x8f\xbf\xbf", 4));
    /* Just around the surrogate block: U+D7FF and U+E000. */
    assert_true(aic_valid_utf8("\xed\x9f\xbf", 3));
    assert_true(aic_valid_utf8("\xee\x80\x80", 3));
}

static void test_utf8_max_bytes(void **state)
{
    assert_true(aic_valid_utf8("abc", 3));
    assert_false(aic_valid_utf8("abcd", 3));
    /* Bytes, not characters, are counted. */
    assert_true(aic_valid_utf8(GRIN, 4));
    assert_false(aic_valid_utf8(GRIN, 3));
}

static void test_utf8_invalid(void **state)
{
    assert_false(aic_valid_utf8("\xff", 10));
    assert_false(aic_valid_utf8("\xfe", 10));
    assert_false(aic_valid_utf8("a\x80", 10));            /* lone continuation byte */
    assert_false(aic_valid_utf8("\xc3", 10));             /* truncated 2-byte */
    assert_false(aic_valid_utf8("\xe2\x82", 10));         /* truncated 3-byte */
    assert_false(aic_valid_utf8("\xf0\x9f\x98", 10));     /* truncated 4-byte */
    assert_false(aic_valid_utf8("\xc3\x41", 10));         /* 'A' is no continuation byte */
    assert_false(aic_valid_utf8("\xc0\xaf", 10));         /* overlong '/' */
    assert_false(aic_valid_utf8("\xc1\xbf", 10));         /* overlong U+007F */
    assert_false(aic_valid_utf8("\xe0\x80\xaf", 10));     /* overlong 3-byte '/' */
    assert_false(aic_valid_utf8("\xe0\x9f\xbf", 10));     /* overlong U+07FF */
    assert_false(aic_valid_utf8("\xf0\x8f\xbf\xbf", 10)); /* overlong U+FFFF */
    assert_false(aic_valid_utf8("\xed\xa0\x80", 10));     /* U+D800 high surrogate */
    assert_false(aic_valid_utf8("\xed\xbf\xbf", 10));     /* U+DFFF low surrogate */
    assert_false(aic_valid_utf8("\xf4\x90\x80\x80", 10)); /* U+110000 */
    assert_false(aic_valid_utf8("\xf5\x80\x80\x80", 10));
    assert_false(aic_valid_utf8("\xf8\x88\x80\x80\x80", 10)); /* 5-byte form */
}

static void test_utf8_length(void **state)
{
    assert_int_equal(aic_utf8_length(""), 0);
    assert_int_equal(aic_utf8_length("abc"), 3);
    assert_int_equal(aic_utf8_length(E_ACUTE), 1);
    assert_int_equal(aic_utf8_length("a" E_ACUTE EURO GRIN "z"), 5);
}

/* ---- display name --------------------------------------------------- */

static void test_display_name_trim(void **state)
{
    apr_pool_t *p = *state;

    name_ok(p, "Ann Lee", "Ann Lee");
    name_ok(p, "  Ann   Lee \t\r\n", "Ann   Lee");
    name_ok(p, "\tX", "X");
    name_ok(p, "Zo" E_ACUTE " " GRIN, "Zo" E_ACUTE " " GRIN);
}

static void test_display_name_empty(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(name_bad(p, ""), "must not be empty");
    assert_string_equal(name_bad(p, "   "), "must not be empty");
    assert_string_equal(name_bad(p, " \t\r\n "), "must not be empty");
}

static void test_display_name_length_ascii(void **state)
{
    apr_pool_t *p = *state;
    char *hundred = repeat(p, "a", 100);

    name_ok(p, hundred, hundred);
    /* Surrounding blanks do not count. */
    name_ok(p, apr_pstrcat(p, "  ", hundred, "  ", NULL), hundred);
    assert_non_null(strstr(name_bad(p, repeat(p, "a", 101)), "100"));
}

static void test_display_name_length_code_points(void **state)
{
    apr_pool_t *p = *state;
    char *two_byte = repeat(p, E_ACUTE, 100);
    char *three_byte = repeat(p, EURO, 100);
    char *four_byte = repeat(p, GRIN, 100);

    /* 100 characters are fine however many bytes they take. */
    name_ok(p, two_byte, two_byte);
    name_ok(p, three_byte, three_byte);
    name_ok(p, four_byte, four_byte);
    /* 101 are not. */
    assert_non_null(strstr(name_bad(p, repeat(p, E_ACUTE, 101)), "100"));
    assert_non_null(strstr(name_bad(p, repeat(p, EURO, 101)), "100"));
    name_bad(p, repeat(p, GRIN, 101));
    /* A mix: 99 ASCII + one 4-byte character is 100 characters. */
    name_ok(p, apr_pstrcat(p, repeat(p, "b", 99), GRIN, NULL),
            apr_pstrcat(p, repeat(p, "b", 99), GRIN, NULL));
    name_bad(p, apr_pstrcat(p, repeat(p, "b", 100), GRIN, NULL));
}

static void test_display_name_control_chars(void **state)
{
    apr_pool_t *p = *state;
    const char *ctl = "must not contain control characters";

    assert_string_equal(name_bad(p, "Ann\x01Lee"), ctl);
    assert_string_equal(name_bad(p, "Ann\tLee"), ctl);
    assert_string_equal(name_bad(p, "Ann\nLee"), ctl);
    assert_string_equal(name_bad(p, "Ann\x1b[31m"), ctl);
    assert_string_equal(name_bad(p, "Ann\x7f"), ctl);
}

static void test_null_input(void **state)
{
    apr_pool_t *p = *state;
    const char *out = NULL;

    /* A missing value (e.g. a string holding NUL upstream) is refused, not a crash. */
    assert_non_null(aic_valid_display_name(&out, p, NULL));
    assert_non_null(aic_valid_email(&out, p, NULL));
    assert_null(out);
}

static void test_display_name_invalid_utf8(void **state)
{
    apr_pool_t *p = *state;
    const char *bad = "must be valid UTF-8 text";

    assert_string_equal(name_bad(p, "Ann\xff"), bad);
    assert_string_equal(name_bad(p, "Ann\xc3"), bad);
    assert_string_equal(name_bad(p, "\xc0\xaf"), bad);         /* overlong */
    assert_string_equal(name_bad(p, "\xe0\x80\xaf"), bad);     /* overlong */
    assert_string_equal(name_bad(p, "x\xed\xa0\x80y"), bad);   /* surrogate */
    assert_string_equal(name_bad(p, "\xf4\x90\x80\x80"), bad); /* > U+10FFFF */
}

/* ---- e-mail --------------------------------------------------------- */

static void test_email_valid(void **state)
{
    apr_pool_t *p = *state;

    email_ok(p, "a@b.c", "a@b.c");
    email_ok(p, "ann.lee+tag@example.com", "ann.lee+tag@example.com");
    email_ok(p, "  ann@example.com\n", "ann@example.com");
    email_ok(p, "ann@mail.example.co.uk", "ann@mail.example.co.uk");
}

static void test_email_domain_lowercased(void **state)
{
    apr_pool_t *p = *state;

    /* The domain is case-insensitive; the local part is kept as given. */
    email_ok(p, "Ann.Lee@Example.COM", "Ann.Lee@example.com");
    email_ok(p, "X@MAIL.EXAMPLE.ORG", "X@mail.example.org");
}

static void test_email_at_sign(void **state)
{
    apr_pool_t *p = *state;

    email_bad(p, "ann.example.com");
    email_bad(p, "ann@@example.com");
    email_bad(p, "ann@lee@example.com");
    email_bad(p, "@example.com");
    email_bad(p, "ann@");
    email_bad(p, "@");
}

static void test_email_domain(void **state)
{
    apr_pool_t *p = *state;

    email_bad(p, "ann@localhost");
    email_bad(p, "ann@.example.com");
    email_bad(p, "ann@example.com.");
    email_bad(p, "ann@example..com");
    email_bad(p, "ann@.");
}

static void test_email_spaces_and_specials(void **state)
{
    apr_pool_t *p = *state;

    email_bad(p, "ann lee@example.com");
    email_bad(p, "ann@exa mple.com");
    email_bad(p, "ann\t@example.com");
    email_bad(p, "ann\x01@example.com");
    email_bad(p, "<ann@example.com>");
    email_bad(p, "\"ann\"@example.com");
    email_bad(p, "ann@example.com, bob@example.com");
    email_bad(p, "ann@example.com;bob@example.com");
    email_bad(p, "ann\xff@example.com");
}

static void test_email_empty(void **state)
{
    apr_pool_t *p = *state;

    email_bad(p, "");
    email_bad(p, "   ");
}

static void test_email_length(void **state)
{
    apr_pool_t *p = *state;
    /* 64 + 1 + 185 + 4 = 254 bytes. */
    char *at254 = apr_pstrcat(p, repeat(p, "a", 64), "@", repeat(p, "b", 185), ".com", NULL);
    char *at255 = apr_pstrcat(p, repeat(p, "a", 64), "@", repeat(p, "b", 186), ".com", NULL);

    assert_int_equal(strlen(at254), 254);
    assert_int_equal(strlen(at255), 255);
    email_ok(p, at254, at254);
    email_bad(p, at255);
    /* Surrounding blanks do not count towards the limit. */
    email_ok(p, apr_pstrcat(p, "   ", at254, "   ", NULL), at254);
}

static void test_email_local_part_length(void **state)
{
    apr_pool_t *p = *state;
    char *local64 = apr_pstrcat(p, repeat(p, "x", 64), "@example.com", NULL);

    email_ok(p, local64, local64);
    email_bad(p, apr_pstrcat(p, repeat(p, "x", 65), "@example.com", NULL));
}

/* ---- role, uuid ----------------------------------------------------- */

static void test_role(void **state)
{
    assert_null(aic_valid_role("user"));
    assert_null(aic_valid_role("admin"));
    assert_non_null(aic_valid_role("Admin"));
    assert_non_null(aic_valid_role("USER"));
    assert_non_null(aic_valid_role("root"));
    assert_non_null(aic_valid_role("admin "));
    assert_non_null(aic_valid_role("admins"));
    assert_non_null(aic_valid_role(""));
    assert_non_null(aic_valid_role(NULL));
}

static void test_uuid(void **state)
{
    assert_true(aic_valid_uuid("550e8400-e29b-41d4-a716-446655440000"));
    assert_true(aic_valid_uuid("550E8400-E29B-41D4-A716-446655440000"));
    assert_true(aic_valid_uuid("00000000-0000-0000-0000-000000000000"));
    assert_false(aic_valid_uuid("550e8400e29b41d4a716446655440000"));
    assert_false(aic_valid_uuid("550e8400-e29b-41d4-a716-44665544000"));   /* short */
    assert_false(aic_valid_uuid("550e8400-e29b-41d4-a716-4466554400000")); /* long */
    assert_false(aic_valid_uuid("550e8400-e29b-41d4-a716-44665544000g"));  /* not hex */
    assert_false(aic_valid_uuid("550e840-0e29b-41d4-a716-446655440000"));  /* misplaced - */
    assert_false(aic_valid_uuid("{550e8400-e29b-41d4-a716-446655440000}"));
    assert_false(aic_valid_uuid(" 550e8400-e29b-41d4-a716-446655440000"));
    assert_false(aic_valid_uuid("550e8400-e29b-41d4-a716-446655440000 "));
    assert_false(aic_valid_uuid("550e8400_e29b_41d4_a716_446655440000"));
    assert_false(aic_valid_uuid(""));
    assert_false(aic_valid_uuid(NULL));
}

/* ---- uuid lists and colours -------------------------------------------- */

static void test_uuid_list(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *ids;
    const char *a = "550e8400-e29b-41d4-a716-446655440000";
    const char *b = "00000000-0000-0000-0000-00000000000A";

    assert_null(aic_valid_uuid_list(&ids, p, apr_pstrcat(p, a, ",", b, ",", a, NULL), 5));
    assert_int_equal(ids->nelts, 2); /* the repeated one once */
    assert_string_equal(APR_ARRAY_IDX(ids, 0, const char *), a);
    assert_string_equal(APR_ARRAY_IDX(ids, 1, const char *),
                        "00000000-0000-0000-0000-00000000000a");
    assert_non_null(aic_valid_uuid_list(&ids, p, apr_pstrcat(p, a, ",", b, NULL), 1));
    assert_non_null(aic_valid_uuid_list(&ids, p, apr_pstrcat(p, a, ",x", NULL), 5));
    assert_non_null(aic_valid_uuid_list(&ids, p, "", 5));
    assert_non_null(aic_valid_uuid_list(&ids, p, ",", 5));
    assert_non_null(aic_valid_uuid_list(&ids, p, NULL, 5));
}

static void test_color(void **state)
{
    apr_pool_t *p = *state;
    const char *out = NULL;

    assert_null(aic_valid_color(&out, p, "#A0b1C2"));
    assert_string_equal(out, "#a0b1c2");
    assert_non_null(aic_valid_color(&out, p, "a0b1c2"));
    assert_non_null(aic_valid_color(&out, p, "#a0b1c"));
    assert_non_null(aic_valid_color(&out, p, "#a0b1c2d"));
    assert_non_null(aic_valid_color(&out, p, "#g0b1c2"));
    assert_non_null(aic_valid_color(&out, p, "red"));
    assert_non_null(aic_valid_color(&out, p, NULL));
}

/* ---- date ----------------------------------------------------------- */

static void test_date_valid(void **state)
{
    assert_true(aic_valid_date("2026-01-01"));
    assert_true(aic_valid_date("2026-12-31"));
    assert_true(aic_valid_date("2026-04-30"));
    assert_true(aic_valid_date("1970-01-01"));
    assert_true(aic_valid_date("9999-12-31"));
}

static void test_date_leap_years(void **state)
{
    assert_true(aic_valid_date("2024-02-29"));
    assert_false(aic_valid_date("2026-02-29"));
    assert_true(aic_valid_date("2026-02-28"));
    assert_true(aic_valid_date("2000-02-29"));  /* divisible by 400 */
    assert_false(aic_valid_date("2100-02-29")); /* divisible by 100 only */
    assert_false(aic_valid_date("2024-02-30"));
}

static void test_date_out_of_range(void **state)
{
    assert_false(aic_valid_date("1969-12-31"));
    assert_false(aic_valid_date("0000-01-01"));
    assert_false(aic_valid_date("2026-00-10"));
    assert_false(aic_valid_date("2026-13-01"));
    assert_false(aic_valid_date("2026-01-00"));
    assert_false(aic_valid_date("2026-01-32"));
    assert_false(aic_valid_date("2026-04-31"));
    assert_false(aic_valid_date("2026-06-31"));
    assert_false(aic_valid_date("2026-09-31"));
    assert_false(aic_valid_date("2026-11-31"));
}

static void test_date_bad_format(void **state)
{
    assert_false(aic_valid_date("2026-1-01"));
    assert_false(aic_valid_date("2026-01-1"));
    assert_false(aic_valid_date("26-01-01"));
    assert_false(aic_valid_date("2026/01/01"));
    assert_false(aic_valid_date("20260101"));
    assert_false(aic_valid_date("2026-01-01T00:00:00Z"));
    assert_false(aic_valid_date("2026-01-01 "));
    assert_false(aic_valid_date(" 2026-01-01"));
    assert_false(aic_valid_date("+026-01-01"));
    assert_false(aic_valid_date("2026-+1-01"));
    assert_false(aic_valid_date("2026-01- 1"));
    assert_false(aic_valid_date("abcd-ef-gh"));
    assert_false(aic_valid_date(""));
    assert_false(aic_valid_date(NULL));
}

/* ---- flag ---------------------------------------------------------- */

static void test_flag(void **state)
{
    assert_int_equal(aic_valid_flag("true"), 1);
    assert_int_equal(aic_valid_flag("1"), 1);
    assert_int_equal(aic_valid_flag("false"), 0);
    assert_int_equal(aic_valid_flag("0"), 0);
    assert_int_equal(aic_valid_flag("yes"), -1);
    assert_int_equal(aic_valid_flag("TRUE"), -1);
    assert_int_equal(aic_valid_flag("10"), -1);
    assert_int_equal(aic_valid_flag(""), -1);
    assert_int_equal(aic_valid_flag(NULL), -1);
}

/* ---- limit, id cursor ----------------------------------------------- */

static void test_limit(void **state)
{
    assert_int_equal(aic_valid_limit(NULL, 50, 200), 50);
    assert_int_equal(aic_valid_limit("", 50, 200), 50);
    assert_int_equal(aic_valid_limit("1", 50, 200), 1);
    assert_int_equal(aic_valid_limit("20", 50, 200), 20);
    assert_int_equal(aic_valid_limit("200", 50, 200), 200);
    assert_int_equal(aic_valid_limit("007", 50, 200), 7);
    assert_int_equal(aic_valid_limit("201", 50, 200), -1);
    assert_int_equal(aic_valid_limit("0", 50, 200), -1);
    assert_int_equal(aic_valid_limit("-1", 50, 200), -1);
    assert_int_equal(aic_valid_limit("+5", 50, 200), -1);
    assert_int_equal(aic_valid_limit(" 5", 50, 200), -1);
    assert_int_equal(aic_valid_limit("5 ", 50, 200), -1);
    assert_int_equal(aic_valid_limit("1e2", 50, 200), -1);
    assert_int_equal(aic_valid_limit("abc", 50, 200), -1);
    assert_int_equal(aic_valid_limit("0x10", 50, 200), -1);
    /* Huge values are refused, not wrapped around into range. */
    assert_int_equal(aic_valid_limit("4294967297", 50, 200), -1);
    assert_int_equal(aic_valid_limit("99999999999999999999999", 50, 200), -1);
}

static void test_id_cursor(void **state)
{
    assert_true(aic_valid_id_cursor("1"));
    assert_true(aic_valid_id_cursor("1234567890"));
    assert_true(aic_valid_id_cursor("999999999999999999"));   /* 18 digits */
    assert_false(aic_valid_id_cursor("1000000000000000000")); /* 19 digits */
    assert_false(aic_valid_id_cursor("0"));
    assert_false(aic_valid_id_cursor("01"));
    assert_false(aic_valid_id_cursor("-1"));
    assert_false(aic_valid_id_cursor("+1"));
    assert_false(aic_valid_id_cursor("12a"));
    assert_false(aic_valid_id_cursor("1 "));
    assert_false(aic_valid_id_cursor("1.5"));
    assert_false(aic_valid_id_cursor(""));
    assert_false(aic_valid_id_cursor(NULL));
}

static void test_name_101_four_byte(void **state)
{
    apr_pool_t *p = *state;
    const char *out = NULL, *msg;
    char *s = apr_pstrdup(p, "");

    for (int i = 0; i < 101; i++) {
        s = apr_pstrcat(p, s, "\xf0\x9f\x98\x80", NULL);
    }
    msg = aic_valid_display_name(&out, p, s);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "100"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_name_101_four_byte),
        POOL_TEST(test_utf8_valid),
        POOL_TEST(test_utf8_max_bytes),
        POOL_TEST(test_utf8_invalid),
        POOL_TEST(test_utf8_length),
        POOL_TEST(test_display_name_trim),
        POOL_TEST(test_display_name_empty),
        POOL_TEST(test_display_name_length_ascii),
        POOL_TEST(test_display_name_length_code_points),
        POOL_TEST(test_display_name_control_chars),
        POOL_TEST(test_display_name_invalid_utf8),
        POOL_TEST(test_null_input),
        POOL_TEST(test_email_valid),
        POOL_TEST(test_email_domain_lowercased),
        POOL_TEST(test_email_at_sign),
        POOL_TEST(test_email_domain),
        POOL_TEST(test_email_spaces_and_specials),
        POOL_TEST(test_email_empty),
        POOL_TEST(test_email_length),
        POOL_TEST(test_email_local_part_length),
        POOL_TEST(test_role),
        POOL_TEST(test_uuid),
        POOL_TEST(test_uuid_list),
        POOL_TEST(test_color),
        POOL_TEST(test_date_valid),
        POOL_TEST(test_date_leap_years),
        POOL_TEST(test_date_out_of_range),
        POOL_TEST(test_date_bad_format),
        POOL_TEST(test_flag),
        POOL_TEST(test_limit),
        POOL_TEST(test_id_cursor),
    };

    return cmocka_run_group_tests_name("aic_valid", tests, group_setup, group_teardown);
}
