/* Unit tests for core/aic_provider_cfg: the AIChatProvider directive. */
#include "unit_helpers.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_env.h>
#include <apr_file_io.h>

#include "core/aic_provider_cfg.h"

#define SECRET "sk-proj-THIS-IS-A-SECRET-0123456789abcdef"

/* Parse a NULL-terminated list of arguments; returns the message (NULL = ok). */
static const char *parse(aic_provider_cfg **out, apr_pool_t *p, ...)
{
    char *argv[16];
    int argc = 0;
    va_list ap;
    char *a;

    va_start(ap, p);
    while ((a = va_arg(ap, char *)) != NULL && argc < 16) {
        argv[argc++] = a;
    }
    va_end(ap);
    return aic_provider_parse(out, p, argc, argv);
}

/* Expect a refusal with a non-empty message; returns the message. */
static const char *parse_err(apr_pool_t *p, const char *msg)
{
    assert_non_null(msg);
    assert_true(strlen(msg) > 0);
    return msg;
}

static apr_status_t remove_file(void *path)
{
    apr_pool_t *p = NULL;

    if (apr_pool_create(&p, NULL) == APR_SUCCESS) {
        apr_file_remove(path, p);
        apr_pool_destroy(p);
    }
    return APR_SUCCESS;
}

/* A temporary file with the given content, removed with the pool; returns its path. */
static const char *temp_file(apr_pool_t *p, const char *content)
{
    const char *dir = NULL;
    char *path;
    apr_file_t *f = NULL;
    apr_size_t n = strlen(content);

    assert_int_equal(apr_temp_dir_get(&dir, p), APR_SUCCESS);
    path = apr_pstrcat(p, dir, "/aic-test-key-XXXXXX", NULL);
    assert_int_equal(
        apr_file_mktemp(&f, path,
                        APR_FOPEN_CREATE | APR_FOPEN_READ | APR_FOPEN_WRITE | APR_FOPEN_EXCL, p),
        APR_SUCCESS);
    apr_pool_cleanup_register(p, path, remove_file, apr_pool_cleanup_null);
    assert_int_equal(apr_file_write_full(f, content, n, NULL), APR_SUCCESS);
    assert_int_equal(apr_file_close(f), APR_SUCCESS);
    return path;
}

/* A config as parsed, with a key source set. */
static aic_provider_cfg *cfg_with_key(apr_pool_t *p, const char *keyarg)
{
    aic_provider_cfg *cfg = NULL;

    assert_null(parse(&cfg, p, "main", "openai", "https://api.openai.com/v1", keyarg, NULL));
    assert_non_null(cfg);
    return cfg;
}

/* ---- parsing -------------------------------------------------------- */

static void test_kinds(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = NULL;

    assert_null(parse(&cfg, p, "oa", "openai", "https://api.openai.com/v1", NULL));
    assert_int_equal(cfg->kind, AIC_PROVIDER_OPENAI);
    assert_null(parse(&cfg, p, "an", "anthropic", "https://api.anthropic.com", NULL));
    assert_int_equal(cfg->kind, AIC_PROVIDER_ANTHROPIC);
    assert_null(
        parse(&cfg, p, "ge", "gemini", "https://generativelanguage.googleapis.com/v1beta", NULL));
    assert_int_equal(cfg->kind, AIC_PROVIDER_GEMINI);
    assert_string_equal(cfg->name, "ge");
}

static void test_kind_names(void **state)
{
    assert_string_equal(aic_provider_kind_name(AIC_PROVIDER_OPENAI), "openai");
    assert_string_equal(aic_provider_kind_name(AIC_PROVIDER_ANTHROPIC), "anthropic");
    assert_string_equal(aic_provider_kind_name(AIC_PROVIDER_GEMINI), "gemini");
}

static void test_defaults(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = NULL;

    assert_null(parse(&cfg, p, "local", "openai", "http://127.0.0.1:11434/v1", NULL));
    assert_non_null(cfg);
    assert_string_equal(cfg->name, "local");
    assert_string_equal(cfg->base_url, "http://127.0.0.1:11434/v1");
    assert_int_equal(cfg->key_source, AIC_KEY_NONE);
    assert_null(cfg->key_ref);
    assert_null(cfg->key);
    assert_int_equal(cfg->timeout, AIC_PROVIDER_DEFAULT_TIMEOUT);
    assert_int_equal(cfg->connect_timeout, AIC_PROVIDER_DEFAULT_CONNECT_TIMEOUT);
}

static void test_unknown_kind(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = NULL;
    const char *msg = parse_err(p, parse(&cfg, p, "x", "mistral", "https://x.example", NULL));

    assert_null(cfg);
    assert_non_null(strstr(msg, "mistral"));
    /* Kinds are case-sensitive. */
    parse_err(p, parse(&cfg, p, "x", "OpenAI", "https://x.example", NULL));
    parse_err(p, parse(&cfg, p, "x", "", "https://x.example", NULL));
    assert_null(cfg);
}

static void test_too_few_arguments(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = NULL;

    parse_err(p, parse(&cfg, p, NULL));
    parse_err(p, parse(&cfg, p, "main", NULL));
    parse_err(p, parse(&cfg, p, "main", "openai", NULL));
    assert_null(cfg);
}

static void test_bad_name(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = NULL;
    char long_name[66];

    parse_err(p, parse(&cfg, p, "", "openai", "https://x.example", NULL));
    parse_err(p, parse(&cfg, p, "has space", "openai", "https://x.example", NULL));
    parse_err(p, parse(&cfg, p, "a/b", "openai", "https://x.example", NULL));
    parse_err(p, parse(&cfg, p, "<x>", "openai", "https://x.example", NULL));
    memset(long_name, 'n', 65);
    long_name[65] = '\0';
    parse_err(p, parse(&cfg, p, long_name, "openai", "https://x.example", NULL));
    assert_null(cfg);
    long_name[64] = '\0';
    assert_null(parse(&cfg, p, long_name, "openai", "https://x.example", NULL));
    assert_null(parse(&cfg, p, "A-b_c.9", "openai", "https://x.example", NULL));
}

static void test_bad_url(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = NULL;
    const char *msg;

    msg = parse_err(p, parse(&cfg, p, "x", "openai", "ftp://x.example", NULL));
    assert_non_null(strstr(msg, "ftp://x.example"));
    parse_err(p, parse(&cfg, p, "x", "openai", "api.openai.com", NULL));
    parse_err(p, parse(&cfg, p, "x", "openai", "https://", NULL));
    parse_err(p, parse(&cfg, p, "x", "openai", "http://", NULL));
    parse_err(p, parse(&cfg, p, "x", "openai", "https:///v1", NULL));
    parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example/a b", NULL));
    parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example/\"", NULL));
    parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example/<", NULL));
    parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example\\", NULL));
    parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example\r\nX: y", NULL));
    parse_err(p, parse(&cfg, p, "x", "openai", "", NULL));
    assert_null(cfg);
}

static void test_url_trailing_slashes_removed(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = NULL;

    assert_null(parse(&cfg, p, "x", "openai", "https://api.openai.com/v1/", NULL));
    assert_string_equal(cfg->base_url, "https://api.openai.com/v1");
    assert_null(parse(&cfg, p, "x", "openai", "https://api.openai.com///", NULL));
    assert_string_equal(cfg->base_url, "https://api.openai.com");
}

static void test_key_env_and_file(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = NULL;

    assert_null(parse(&cfg, p, "x", "openai", "https://x.example", "key=env:OPENAI_API_KEY", NULL));
    assert_int_equal(cfg->key_source, AIC_KEY_ENV);
    assert_string_equal(cfg->key_ref, "OPENAI_API_KEY");
    assert_null(cfg->key);

    assert_null(parse(&cfg, p, "x", "anthropic", "https://x.example",
                      "key=file:/etc/aichat/anthropic.key", NULL));
    assert_int_equal(cfg->key_source, AIC_KEY_FILE);
    assert_string_equal(cfg->key_ref, "/etc/aichat/anthropic.key");
    assert_null(cfg->key);
}

static void test_key_empty_reference(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = NULL;

    parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example", "key=env:", NULL));
    parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example", "key=file:", NULL));
    parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example", "key=", NULL));
    assert_null(cfg);
}

static void test_bare_key_refused_and_not_echoed(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = NULL;
    const char *msg;

    msg = parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example", "key=" SECRET, NULL));
    assert_null(cfg);
    assert_null(strstr(msg, SECRET));
    /* Not even a prefix of it. */
    assert_null(strstr(msg, "sk-"));
    assert_null(strstr(msg, "SECRET"));
    /* Other sources spelled wrongly are refused the same way. */
    msg = parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example", "key=ENV:" SECRET, NULL));
    assert_null(strstr(msg, "SECRET"));
    msg =
        parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example", "key=vault:" SECRET, NULL));
    assert_null(strstr(msg, "SECRET"));
}

static void test_timeouts(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = NULL;

    assert_null(parse(&cfg, p, "x", "openai", "https://x.example", "timeout=1",
                      "connect_timeout=3600", NULL));
    assert_int_equal(cfg->timeout, 1);
    assert_int_equal(cfg->connect_timeout, 3600);
    assert_null(parse(&cfg, p, "x", "openai", "https://x.example", "connect_timeout=5",
                      "timeout=3600", "key=env:K", NULL));
    assert_int_equal(cfg->timeout, 3600);
    assert_int_equal(cfg->connect_timeout, 5);
    assert_int_equal(cfg->key_source, AIC_KEY_ENV);
}

static void test_timeout_bounds(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad[] = {"0",   "3601", "-5",  "",
                                      "abc", "10s",  "1.5", "99999999999999999999"};
    aic_provider_cfg *cfg = NULL;

    for (apr_size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *msg;

        msg = parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example",
                                 apr_pstrcat(p, "timeout=", bad[i], NULL), NULL));
        assert_non_null(strstr(msg, "timeout"));
        assert_non_null(strstr(msg, apr_psprintf(p, "'%s'", bad[i])));
        msg = parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example",
                                 apr_pstrcat(p, "connect_timeout=", bad[i], NULL), NULL));
        assert_non_null(strstr(msg, "connect_timeout"));
        assert_null(cfg);
    }
}

static void test_unknown_option(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = NULL;
    const char *msg;

    msg = parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example", "retries=3", NULL));
    assert_non_null(strstr(msg, "retries"));
    parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example", "Timeout=5", NULL));
    parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example", "timeout", NULL));
    parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example", "", NULL));
    /* A good option before a bad one does not save it. */
    parse_err(p, parse(&cfg, p, "x", "openai", "https://x.example", "timeout=5", "bogus", NULL));
    assert_null(cfg);
}

/* ---- key resolution ------------------------------------------------- */

static void test_resolve_no_key(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = NULL;

    assert_null(parse(&cfg, p, "x", "openai", "http://127.0.0.1:1/v1", NULL));
    assert_null(aic_provider_resolve_key(cfg, p));
    assert_null(cfg->key);
}

static void test_resolve_env(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = cfg_with_key(p, "key=env:AIC_UNIT_TEST_KEY");

    assert_int_equal(apr_env_set("AIC_UNIT_TEST_KEY", SECRET, p), APR_SUCCESS);
    assert_null(aic_provider_resolve_key(cfg, p));
    assert_string_equal(cfg->key, SECRET);
    /* The key is a copy: changing the environment later does not change it. */
    assert_int_equal(apr_env_set("AIC_UNIT_TEST_KEY", "other", p), APR_SUCCESS);
    assert_string_equal(cfg->key, SECRET);
    assert_int_equal(apr_env_delete("AIC_UNIT_TEST_KEY", p), APR_SUCCESS);
}

static void test_resolve_env_missing(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = cfg_with_key(p, "key=env:AIC_UNIT_TEST_UNSET_VAR");
    const char *msg;

    apr_env_delete("AIC_UNIT_TEST_UNSET_VAR", p);
    cfg->key = "stale";
    msg = aic_provider_resolve_key(cfg, p);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "AIC_UNIT_TEST_UNSET_VAR"));
    assert_null(cfg->key);
}

static void test_resolve_env_empty(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = cfg_with_key(p, "key=env:AIC_UNIT_TEST_EMPTY");
    const char *msg;

    assert_int_equal(apr_env_set("AIC_UNIT_TEST_EMPTY", "", p), APR_SUCCESS);
    msg = aic_provider_resolve_key(cfg, p);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "AIC_UNIT_TEST_EMPTY"));
    assert_null(cfg->key);
    apr_env_delete("AIC_UNIT_TEST_EMPTY", p);
}

static void test_resolve_file_first_line(void **state)
{
    apr_pool_t *p = *state;
    const char *path = temp_file(p, SECRET "\nsecond line\n");
    aic_provider_cfg *cfg = cfg_with_key(p, apr_pstrcat(p, "key=file:", path, NULL));

    assert_string_equal(cfg->key_ref, path);
    assert_null(aic_provider_resolve_key(cfg, p));
    assert_string_equal(cfg->key, SECRET);
}

static void test_resolve_file_newline_variants(void **state)
{
    apr_pool_t *p = *state;
    static const char *const contents[] = {SECRET, SECRET "\n", SECRET "\r\n", SECRET "\r"};

    for (apr_size_t i = 0; i < sizeof(contents) / sizeof(contents[0]); i++) {
        const char *path = temp_file(p, contents[i]);
        aic_provider_cfg *cfg = cfg_with_key(p, apr_pstrcat(p, "key=file:", path, NULL));

        assert_null(aic_provider_resolve_key(cfg, p));
        assert_string_equal(cfg->key, SECRET);
    }
}

static void test_resolve_file_missing(void **state)
{
    apr_pool_t *p = *state;
    const char *path = "/nonexistent/aic-unit-test/provider.key";
    aic_provider_cfg *cfg = cfg_with_key(p, apr_pstrcat(p, "key=file:", path, NULL));
    const char *msg = aic_provider_resolve_key(cfg, p);

    assert_non_null(msg);
    assert_non_null(strstr(msg, path));
    assert_null(cfg->key);
}

static void test_resolve_file_is_directory(void **state)
{
    apr_pool_t *p = *state;
    const char *dir = NULL;
    aic_provider_cfg *cfg;
    const char *msg;

    assert_int_equal(apr_temp_dir_get(&dir, p), APR_SUCCESS);
    cfg = cfg_with_key(p, apr_pstrcat(p, "key=file:", dir, NULL));
    msg = aic_provider_resolve_key(cfg, p);
    assert_non_null(msg);
    assert_non_null(strstr(msg, dir));
    assert_null(cfg->key);
}

static void test_resolve_file_empty(void **state)
{
    apr_pool_t *p = *state;
    static const char *const contents[] = {"", "\n", "\r\n"};

    for (apr_size_t i = 0; i < sizeof(contents) / sizeof(contents[0]); i++) {
        const char *path = temp_file(p, contents[i]);
        aic_provider_cfg *cfg = cfg_with_key(p, apr_pstrcat(p, "key=file:", path, NULL));
        const char *msg = aic_provider_resolve_key(cfg, p);

        assert_non_null(msg);
        assert_non_null(strstr(msg, path));
        assert_null(cfg->key);
    }
}

static void test_resolve_file_error_never_shows_key(void **state)
{
    apr_pool_t *p = *state;
    /* The first line is empty; the key on the second line must not leak. */
    const char *path = temp_file(p, "\n" SECRET "\n");
    aic_provider_cfg *cfg = cfg_with_key(p, apr_pstrcat(p, "key=file:", path, NULL));
    const char *msg = aic_provider_resolve_key(cfg, p);

    assert_non_null(msg);
    assert_non_null(strstr(msg, path));
    assert_null(strstr(msg, "SECRET"));
    assert_null(cfg->key);
}

static void test_stray_key_not_echoed(void **state)
{
    apr_pool_t *p = *state;
    aic_provider_cfg *cfg = NULL;
    char *a1[] = {"x", "openai", "https://x.example", "sk-proj-SECRET0123456789"};
    char *a2[] = {"x", "openai", "https://x.example", "api_key=sk-proj-SECRET0123456789"};
    const char *msg = aic_provider_parse(&cfg, p, 4, a1);

    assert_non_null(msg);
    assert_null(strstr(msg, "SECRET"));
    msg = aic_provider_parse(&cfg, p, 4, a2);
    assert_non_null(msg);
    assert_null(strstr(msg, "SECRET"));
    assert_non_null(strstr(msg, "api_key="));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_stray_key_not_echoed),
        POOL_TEST(test_kinds),
        POOL_TEST(test_kind_names),
        POOL_TEST(test_defaults),
        POOL_TEST(test_unknown_kind),
        POOL_TEST(test_too_few_arguments),
        POOL_TEST(test_bad_name),
        POOL_TEST(test_bad_url),
        POOL_TEST(test_url_trailing_slashes_removed),
        POOL_TEST(test_key_env_and_file),
        POOL_TEST(test_key_empty_reference),
        POOL_TEST(test_bare_key_refused_and_not_echoed),
        POOL_TEST(test_timeouts),
        POOL_TEST(test_timeout_bounds),
        POOL_TEST(test_unknown_option),
        POOL_TEST(test_resolve_no_key),
        POOL_TEST(test_resolve_env),
        POOL_TEST(test_resolve_env_missing),
        POOL_TEST(test_resolve_env_empty),
        POOL_TEST(test_resolve_file_first_line),
        POOL_TEST(test_resolve_file_newline_variants),
        POOL_TEST(test_resolve_file_missing),
        POOL_TEST(test_resolve_file_is_directory),
        POOL_TEST(test_resolve_file_empty),
        POOL_TEST(test_resolve_file_error_never_shows_key),
    };

    return cmocka_run_group_tests_name("aic_provider_cfg", tests, group_setup, group_teardown);
}
