/* Unit tests for core/aic_ids: random hex identifiers. */
#include "unit_helpers.h"

#include <string.h>

#include "core/aic_digest.h"
#include "core/aic_ids.h"

static void assert_lower_hex(const char *s, apr_size_t len)
{
    assert_non_null(s);
    assert_int_equal(strlen(s), len);
    assert_int_equal(strspn(s, "0123456789abcdef"), len);
}

static void test_length_and_alphabet(void **state)
{
    apr_pool_t *p = *state;

    assert_lower_hex(aic_random_hex(p, 16), 32);
    assert_lower_hex(aic_random_hex(p, 32), 64);
    assert_lower_hex(aic_random_hex(p, 1), 2);
}

static void test_zero_bytes(void **state)
{
    apr_pool_t *p = *state;
    const char *s = aic_random_hex(p, 0);

    assert_non_null(s);
    assert_string_equal(s, "");
}

static void test_two_calls_differ(void **state)
{
    apr_pool_t *p = *state;
    const char *a = aic_random_hex(p, 16);
    const char *b = aic_random_hex(p, 16);

    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_string_not_equal(a, b);
}

static void test_many_distinct(void **state)
{
    apr_pool_t *p = *state;
    const char *ids[64];

    for (int i = 0; i < 64; i++) {
        ids[i] = aic_random_hex(p, 16);
        assert_lower_hex(ids[i], 32);
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(ids[i], ids[j]);
        }
    }
}

static void test_all_digits_appear(void **state)
{
    apr_pool_t *p = *state;
    int seen[16] = {0};
    int distinct = 0;

    /* 4096 hex digits: each of the 16 is missing with probability ~1e-114. */
    for (int i = 0; i < 64; i++) {
        const char *s = aic_random_hex(p, 32);

        for (const char *c = s; *c; c++) {
            seen[(*c >= 'a') ? *c - 'a' + 10 : *c - '0'] = 1;
        }
    }
    for (int i = 0; i < 16; i++) {
        distinct += seen[i];
    }
    assert_int_equal(distinct, 16);
}

static void test_high_and_low_nibbles_independent(void **state)
{
    apr_pool_t *p = *state;
    int differ = 0;

    /* Catches an encoder that writes the same nibble twice per byte. */
    for (int i = 0; i < 16; i++) {
        const char *s = aic_random_hex(p, 32);

        for (int j = 0; j < 64; j += 2) {
            differ += s[j] != s[j + 1];
        }
    }
    assert_true(differ > 0);
}

static void test_hex_encode(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(aic_hex_encode(p, "", 0), "");
    assert_string_equal(aic_hex_encode(p, "A", 1), "41");
    assert_string_equal(aic_hex_encode(p, "\x00\x01\x7f\x80\xfe\xff", 6), "00017f80feff");
    /* len, not a NUL, bounds the input. */
    assert_string_equal(aic_hex_encode(p, "ab\0cd", 5), "6162006364");
    assert_string_equal(aic_hex_encode(p, "abcdef", 2), "6162");
}

static void test_hex_decode(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(aic_hex_decode(p, ""), "");
    assert_string_equal(aic_hex_decode(p, "41"), "A");
    assert_string_equal(aic_hex_decode(p, "68656c6c6f"), "hello");
    /* Upper case is accepted too. */
    assert_string_equal(aic_hex_decode(p, "C3A9"), "\xc3\xa9");
    assert_string_equal(aic_hex_decode(p, "c3A9"), "\xc3\xa9");
    assert_string_equal(aic_hex_decode(p, "7f80ff"), "\x7f\x80\xff");
}

static void test_hex_decode_invalid(void **state)
{
    apr_pool_t *p = *state;

    assert_null(aic_hex_decode(p, "4"));     /* odd length */
    assert_null(aic_hex_decode(p, "414"));   /* odd length */
    assert_null(aic_hex_decode(p, "4g"));    /* not hex */
    assert_null(aic_hex_decode(p, "g4"));    /* not hex */
    assert_null(aic_hex_decode(p, "41 42")); /* blank */
    assert_null(aic_hex_decode(p, "0x41"));  /* prefix */
    assert_null(aic_hex_decode(p, "-1"));    /* sign */
    /* A NUL byte would cut the result short: refused wherever it is. */
    assert_null(aic_hex_decode(p, "00"));
    assert_null(aic_hex_decode(p, "410042"));
    assert_null(aic_hex_decode(p, "4100"));
    /* But a zero nibble is fine. */
    assert_string_equal(aic_hex_decode(p, "0a10"), "\n\x10");
}

static void test_hex_round_trip(void **state)
{
    apr_pool_t *p = *state;
    char all[256];

    /* Every byte value but 0. */
    for (int i = 1; i < 256; i++) {
        all[i - 1] = (char)i;
    }
    all[255] = '\0';
    assert_memory_equal(aic_hex_decode(p, aic_hex_encode(p, all, 255)), all, 256);
    for (int i = 0; i < 16; i++) {
        const char *hex = aic_random_hex(p, 16);
        const char *raw = aic_hex_decode(p, hex);

        /* A random id may hold a zero byte, which decode refuses by design. */
        if (raw) {
            assert_string_equal(aic_hex_encode(p, raw, 16), hex);
        }
    }
}

static void test_sha256_known_vector(void **state)
{
    unsigned char out[AIC_SHA256_LEN];
    const void *parts[] = {"a", "", "bc"};
    const apr_size_t lens[] = {1, 0, 2};
    const char *hex;

    /* FIPS 180-2 example: SHA-256("abc"), fed in three parts. */
    assert_int_equal(aic_sha256(out, 3, parts, lens), APR_SUCCESS);
    hex = aic_hex_encode(*state, (const char *)out, sizeof(out));
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* A UUID as PostgreSQL's uuid type prints it: version 4, RFC 4122 variant. */
static void test_random_uuid(void **state)
{
    apr_pool_t *p = *state;
    const char *a = aic_random_uuid(p), *b = aic_random_uuid(p);

    assert_non_null(a);
    assert_int_equal(strlen(a), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            assert_int_equal(a[i], '-');
        } else {
            assert_non_null(strchr("0123456789abcdef", a[i]));
        }
    }
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_sha256_known_vector),
        POOL_TEST(test_length_and_alphabet),
        POOL_TEST(test_zero_bytes),
        POOL_TEST(test_two_calls_differ),
        POOL_TEST(test_many_distinct),
        POOL_TEST(test_all_digits_appear),
        POOL_TEST(test_high_and_low_nibbles_independent),
        POOL_TEST(test_hex_encode),
        POOL_TEST(test_hex_decode),
        POOL_TEST(test_hex_decode_invalid),
        POOL_TEST(test_hex_round_trip),
        POOL_TEST(test_random_uuid),
    };

    return cmocka_run_group_tests_name("aic_ids", tests, group_setup, group_teardown);
}
