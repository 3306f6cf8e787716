/* Unit tests for core/aic_template: the {{variable}} syntax, typed
 * variables, filling and its limits. */
#include "unit_helpers.h"

#include <string.h>

#include <apr_strings.h>

#include "core/aic_template.h"

static aic_json *json(apr_pool_t *p, const char *text)
{
    aic_json *v = NULL;
    const char *err = NULL;

    assert_int_equal(aic_json_parse(&v, &err, p, text, strlen(text)), APR_SUCCESS);
    return v;
}

/* Compile content with variables (JSON text), which must succeed. */
static aic_template *compiled(apr_pool_t *p, const char *content, const char *variables)
{
    aic_template *t = NULL;
    aic_template_error err = {NULL, NULL, NULL};

    if (aic_template_compile(&t, &err, p, content, variables ? json(p, variables) : NULL) !=
        APR_SUCCESS) {
        fail_msg("compile failed: %s (%s)", err.message, err.field);
    }
    return t;
}

/* Compile, which must fail: the error's field (its message goes to *message). */
static const char *compile_error(apr_pool_t *p, const char *content, const char *variables,
                                 const char **message)
{
    aic_template *t = NULL;
    aic_template_error err = {NULL, NULL, NULL};

    assert_int_equal(
        aic_template_compile(&t, &err, p, content, variables ? json(p, variables) : NULL),
        APR_EINVAL);
    assert_null(t);
    assert_string_equal(err.code, "invalid_field");
    if (message) {
        *message = err.message;
    }
    return err.field;
}

static const char *filled(apr_pool_t *p, const aic_template *t, const char *values)
{
    const char *out = NULL;
    aic_template_error err = {NULL, NULL, NULL};

    if (aic_template_fill(&out, &err, p, t, values ? json(p, values) : NULL, 100000) !=
        APR_SUCCESS) {
        fail_msg("fill failed: %s (%s)", err.message, err.field);
    }
    return out;
}

static aic_template_error fill_error(apr_pool_t *p, const aic_template *t, const char *values)
{
    const char *out = NULL;
    aic_template_error err = {NULL, NULL, NULL};

    assert_int_equal(aic_template_fill(&out, &err, p, t, values ? json(p, values) : NULL, 100000),
                     APR_EINVAL);
    assert_null(out);
    return err;
}

#define TEXT_VAR(name) "{\"name\":\"" name "\",\"type\":\"text\"}"

static void test_plain_text(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(filled(p, compiled(p, "no variables { } }} here", NULL), NULL),
                        "no variables { } }} here");
    assert_string_equal(filled(p, compiled(p, "", "[]"), "{}"), "");
}

static void test_variables_filled(void **state)
{
    apr_pool_t *p = *state;
    aic_template *t = compiled(p, "Write about {{topic}} in {{ lang }}.",
                               "[" TEXT_VAR("topic") "," TEXT_VAR("lang") "]");

    assert_string_equal(filled(p, t, "{\"topic\":\"owls\",\"lang\":\"French\"}"),
                        "Write about owls in French.");
}

/* A repeated variable is filled everywhere it appears. */
static void test_repeated_variable(void **state)
{
    apr_pool_t *p = *state;
    aic_template *t = compiled(p, "{{x}}-{{x}}-{{ x }}", "[" TEXT_VAR("x") "]");

    assert_string_equal(filled(p, t, "{\"x\":\"ab\"}"), "ab-ab-ab");
}

/* \{{ is a literal {{, and the text after it is not a variable. */
static void test_escaped_braces(void **state)
{
    apr_pool_t *p = *state;
    aic_template *t = compiled(p, "\\{{literal}} and {{v}} and \\{{", "[" TEXT_VAR("v") "]");

    assert_string_equal(filled(p, t, "{\"v\":\"V\"}"), "{{literal}} and V and {{");
    /* A backslash elsewhere stays. */
    t = compiled(p, "a\\b \\{ \\", NULL);
    assert_string_equal(filled(p, t, NULL), "a\\b \\{ \\");
}

/* Values are inserted as they are: never read as template syntax. */
static void test_values_not_syntax(void **state)
{
    apr_pool_t *p = *state;
    aic_template *t = compiled(p, "[{{a}}|{{b}}]", "[" TEXT_VAR("a") "," TEXT_VAR("b") "]");

    assert_string_equal(filled(p, t, "{\"a\":\"{{b}}\",\"b\":\"\\\\{{a}}\"}"), "[{{b}}|\\{{a}}]");
}

static void test_syntax_errors(void **state)
{
    apr_pool_t *p = *state;
    const char *message = NULL;

    assert_string_equal(compile_error(p, "abc {{topic", NULL, &message), "content");
    assert_non_null(strstr(message, "character 5"));
    assert_non_null(strstr(message, "not closed"));
    assert_string_equal(compile_error(p, "é{{ }}", NULL, &message), "content");
    assert_non_null(strstr(message, "character 2"));
    assert_non_null(strstr(message, "variable name"));
    assert_string_equal(compile_error(p, "{{a b}}", NULL, NULL), "content");
    assert_string_equal(compile_error(p, "{{1a}}", NULL, NULL), "content");
    assert_string_equal(compile_error(p, "{{a-b}}", NULL, NULL), "content");
    assert_string_equal(compile_error(p, "{{{a}}}", "[" TEXT_VAR("a") "]", NULL), "content");
    assert_string_equal(compile_error(p, "{{a}", "[" TEXT_VAR("a") "]", NULL), "content");
}

static void test_unknown_and_unused_variables(void **state)
{
    apr_pool_t *p = *state;
    const char *message = NULL;

    assert_string_equal(compile_error(p, "{{a}} {{b}}", "[" TEXT_VAR("a") "]", &message),
                        "content");
    assert_non_null(strstr(message, "{{b}}"));
    assert_string_equal(
        compile_error(p, "{{a}}", "[" TEXT_VAR("a") "," TEXT_VAR("unused") "]", &message),
        "variables[1].name");
    assert_non_null(strstr(message, "unused"));
    assert_string_equal(
        compile_error(p, "{{a}}", "[" TEXT_VAR("a") "," TEXT_VAR("a") "]", &message),
        "variables[1].name");
    assert_non_null(strstr(message, "twice"));
}

static void test_variable_definitions(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(compile_error(p, "{{a}}", "{}", NULL), "variables");
    assert_string_equal(compile_error(p, "{{a}}", "[1]", NULL), "variables[0]");
    assert_string_equal(compile_error(p, "{{a}}", "[{\"name\":\"a\",\"type\":\"date\"}]", NULL),
                        "variables[0].type");
    assert_string_equal(compile_error(p, "{{a}}", "[{\"name\":\"a\"}]", NULL), "variables[0].type");
    assert_string_equal(
        compile_error(p, "{{a}}", "[{\"name\":\"a\",\"type\":\"text\",\"colour\":1}]", NULL),
        "variables[0].colour");
    assert_string_equal(compile_error(p, "{{a}}",
                                      "[{\"name\":\"a\",\"type\":\"text\",\"required\":\"yes\"}]",
                                      NULL),
                        "variables[0].required");
    assert_string_equal(compile_error(p, "{{a}}", "[{\"name\":\"a\",\"type\":\"choice\"}]", NULL),
                        "variables[0].options");
    assert_string_equal(
        compile_error(p, "{{a}}",
                      "[{\"name\":\"a\",\"type\":\"choice\",\"options\":[\"x\",\"x\"]}]", NULL),
        "variables[0].options");
    assert_string_equal(
        compile_error(p, "{{a}}", "[{\"name\":\"a\",\"type\":\"text\",\"options\":[\"x\"]}]", NULL),
        "variables[0].options");
    assert_string_equal(
        compile_error(p, "{{a}}", "[{\"name\":\"a\",\"type\":\"text\",\"min\":1}]", NULL),
        "variables[0].min");
    assert_string_equal(compile_error(p, "{{a}}",
                                      "[{\"name\":\"a\",\"type\":\"number\",\"min\":5,\"max\":1}]",
                                      NULL),
                        "variables[0].max");
    assert_string_equal(
        compile_error(p, "{{a}}",
                      "[{\"name\":\"a\",\"type\":\"number\",\"max\":10,\"default\":11}]", NULL),
        "variables[0].default");
    assert_string_equal(
        compile_error(
            p, "{{a}}",
            "[{\"name\":\"a\",\"type\":\"choice\",\"options\":[\"x\"],\"default\":\"y\"}]", NULL),
        "variables[0].default");
    assert_string_equal(compile_error(p, "{{a}}",
                                      "[{\"name\":\"a\",\"type\":\"boolean\",\"default\":\"yes\"}]",
                                      NULL),
                        "variables[0].default");
    assert_string_equal(compile_error(p, "{{a}}",
                                      "[{\"name\":\"a\",\"type\":\"text\",\"default\":\"x\\ny\"}]",
                                      NULL),
                        "variables[0].default");
}

/* Each type: its values, how they are filled in, its defaults. */
static void test_types(void **state)
{
    apr_pool_t *p = *state;
    aic_template *t =
        compiled(p, "{{n}}|{{c}}|{{b}}|{{l}}",
                 "[{\"name\":\"n\",\"type\":\"number\",\"min\":0,\"max\":10.5,\"default\":2},"
                 "{\"name\":\"c\",\"type\":\"choice\",\"options\":[\"short\",\"long\"],\"default\":"
                 "\"long\"},"
                 "{\"name\":\"b\",\"type\":\"boolean\",\"default\":false},"
                 "{\"name\":\"l\",\"type\":\"long_text\"}]");
    aic_template_error err;

    assert_string_equal(filled(p, t, NULL), "2|long|no|");
    assert_string_equal(filled(p, t, "{\"n\":7.25,\"c\":\"short\",\"b\":true,\"l\":\"a\\nb\"}"),
                        "7.25|short|yes|a\nb");
    assert_string_equal(filled(p, t, "{\"n\":\" 3 \"}"), "3|long|no|");
    assert_string_equal(filled(p, t, "{\"n\":null}"), "2|long|no|");
    err = fill_error(p, t, "{\"n\":11}");
    assert_string_equal(err.field, "values.n");
    assert_string_equal(err.code, "invalid_field");
    assert_non_null(strstr(err.message, "at most 10.5"));
    assert_string_equal(fill_error(p, t, "{\"n\":-1}").field, "values.n");
    assert_string_equal(fill_error(p, t, "{\"n\":\"12abc\"}").field, "values.n");
    assert_string_equal(fill_error(p, t, "{\"n\":true}").field, "values.n");
    assert_string_equal(fill_error(p, t, "{\"c\":\"medium\"}").field, "values.c");
    assert_string_equal(fill_error(p, t, "{\"b\":\"yes\"}").field, "values.b");
    assert_string_equal(fill_error(p, t, "{\"l\":5}").field, "values.l");
}

/* A required variable without a value is named (missing_value). */
static void test_required(void **state)
{
    apr_pool_t *p = *state;
    aic_template *t = compiled(p, "{{topic}} {{tone}}",
                               "[{\"name\":\"topic\",\"type\":\"text\",\"required\":true},"
                               "{\"name\":\"tone\",\"type\":\"text\",\"required\":true,"
                               "\"default\":\"calm\"}]");
    aic_template_error err = fill_error(p, t, "{}");

    assert_string_equal(err.code, "missing_value");
    assert_string_equal(err.field, "values.topic");
    assert_non_null(strstr(err.message, "topic"));
    assert_string_equal(fill_error(p, t, "{\"topic\":\"   \"}").field, "values.topic");
    assert_string_equal(filled(p, t, "{\"topic\":\"rain\"}"), "rain calm");
    err = fill_error(p, t, "{\"topic\":\"rain\",\"tone\":\"\"}");
    assert_string_equal(err.field, "values.tone");
}

static void test_values_shape(void **state)
{
    apr_pool_t *p = *state;
    aic_template *t = compiled(p, "{{a}}", "[" TEXT_VAR("a") "]");
    aic_template_error err = fill_error(p, t, "{\"a\":\"x\",\"b\":\"y\"}");

    assert_string_equal(err.field, "values.b");
    assert_string_equal(fill_error(p, t, "[\"x\"]").field, "values");
    assert_string_equal(fill_error(p, t, "{\"a\":\"one\\ntwo\"}").field, "values.a");
    /* A variable that is not required and has no value is filled with nothing. */
    assert_string_equal(filled(p, t, NULL), "");
}

static void test_limits(void **state)
{
    apr_pool_t *p = *state;
    char *content = apr_palloc(p, AIC_TEMPLATE_CONTENT_MAX + 2);
    apr_array_header_t *vars = apr_array_make(p, 64, sizeof(const char *));
    const char *places = "", *list, *out = NULL, *big, *message = NULL;
    aic_template *t;
    aic_template_error err;

    memset(content, 'a', AIC_TEMPLATE_CONTENT_MAX + 1);
    content[AIC_TEMPLATE_CONTENT_MAX + 1] = '\0';
    assert_string_equal(compile_error(p, content, NULL, NULL), "content");
    content[AIC_TEMPLATE_CONTENT_MAX] = '\0';
    compiled(p, content, NULL);

    for (int i = 0; i <= AIC_TEMPLATE_VARS_MAX; i++) {
        APR_ARRAY_PUSH(vars, const char *) =
            apr_psprintf(p, "{\"name\":\"v%d\",\"type\":\"text\"}", i);
        places = apr_psprintf(p, "%s{{v%d}}", places, i);
    }
    list = apr_pstrcat(p, "[", apr_array_pstrcat(p, vars, ','), "]", NULL);
    assert_string_equal(compile_error(p, places, list, NULL), "variables");

    places = "";
    for (int i = 0; i <= AIC_TEMPLATE_PLACES_MAX; i++) {
        places = apr_pstrcat(p, places, "{{v}}", NULL);
    }
    assert_string_equal(compile_error(p, places, "[" TEXT_VAR("v") "]", NULL), "content");

    /* A name of 64 characters is fine, 65 is not. */
    big = apr_psprintf(p, "a%063d", 0);
    compiled(p, apr_pstrcat(p, "{{", big, "}}", NULL),
             apr_pstrcat(p, "[{\"name\":\"", big, "\",\"type\":\"text\"}]", NULL));
    assert_string_equal(compile_error(p, apr_pstrcat(p, "{{", big, "0}}", NULL), NULL, &message),
                        "content");
    assert_non_null(strstr(message, "longer than 64"));

    /* The filled result is bounded by the caller's limit. */
    t = compiled(p, "{{a}}{{a}}", "[{\"name\":\"a\",\"type\":\"long_text\"}]");
    assert_int_equal(aic_template_fill(&out, &err, p, t, json(p, "{\"a\":\"12345\"}"), 9),
                     APR_EINVAL);
    assert_string_equal(err.code, "too_long");
    assert_string_equal(err.field, "values");
    assert_int_equal(aic_template_fill(&out, &err, p, t, json(p, "{\"a\":\"12345\"}"), 10),
                     APR_SUCCESS);
    assert_string_equal(out, "1234512345");
}

/* The stored form holds every key, normalised. */
static void test_stored_variables(void **state)
{
    apr_pool_t *p = *state;
    aic_template *t =
        compiled(p, "{{a}}{{n}}",
                 "[{\"name\":\"a\",\"type\":\"text\",\"default\":\"  hi \"},"
                 "{\"name\":\"n\",\"type\":\"number\",\"default\":\"4\",\"required\":false}]");

    assert_string_equal(aic_json_dump(aic_template_variables(t, p), p),
                        "[{\"name\":\"a\",\"type\":\"text\",\"required\":false,\"default\":\"hi\","
                        "\"options\":null,\"min\":null,\"max\":null},"
                        "{\"name\":\"n\",\"type\":\"number\",\"required\":false,\"default\":4.0,"
                        "\"options\":null,\"min\":null,\"max\":null}]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_plain_text),
        POOL_TEST(test_variables_filled),
        POOL_TEST(test_repeated_variable),
        POOL_TEST(test_escaped_braces),
        POOL_TEST(test_values_not_syntax),
        POOL_TEST(test_syntax_errors),
        POOL_TEST(test_unknown_and_unused_variables),
        POOL_TEST(test_variable_definitions),
        POOL_TEST(test_types),
        POOL_TEST(test_required),
        POOL_TEST(test_values_shape),
        POOL_TEST(test_limits),
        POOL_TEST(test_stored_variables),
    };

    return cmocka_run_group_tests_name("aic_template", tests, group_setup, group_teardown);
}
