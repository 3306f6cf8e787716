/* Unit tests for core/aic_route: pattern matching and method dispatch. */
#include "unit_helpers.h"

#include <apr_tables.h>

#include "core/aic_route.h"

/* Distinct addresses standing in for endpoints. */
static const int ep_me_get, ep_me_patch, ep_users, ep_user_get, ep_user_patch, ep_user_me,
    ep_messages, ep_post_only, ep_me_get_again, ep_me_patch_again;

static const aic_route routes_def[] = {
    {"GET", "/v1/me", &ep_me_get},
    {"PATCH", "/v1/me", &ep_me_patch},
    {"GET", "/v1/users", &ep_users},
    /* A literal before a placeholder at the same place: the first match wins. */
    {"GET", "/v1/users/me", &ep_user_me},
    {"GET", "/v1/users/{id}", &ep_user_get},
    {"PATCH", "/v1/users/{id}", &ep_user_patch},
    {"GET", "/v1/conversations/{cid}/messages/{mid}", &ep_messages},
    {"POST", "/v1/post-only", &ep_post_only},
    /* Duplicates: the Allow list must still name each method once. */
    {"GET", "/v1/me", &ep_me_get_again},
    {"PATCH", "/v1/me", &ep_me_patch_again},
};

static apr_array_header_t *make_routes(apr_pool_t *p)
{
    apr_size_t n = sizeof(routes_def) / sizeof(routes_def[0]);
    apr_array_header_t *a = apr_array_make(p, (int)n, sizeof(const aic_route *));

    for (apr_size_t i = 0; i < n; i++) {
        APR_ARRAY_PUSH(a, const aic_route *) = &routes_def[i];
    }
    return a;
}

static int nparams(apr_table_t *t)
{
    return apr_table_elts(t)->nelts;
}

/* ---- aic_route_match ------------------------------------------------ */

static void test_match_literal(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *t = apr_table_make(p, 4);

    assert_true(aic_route_match(t, "/v1/me", "/v1/me"));
    assert_true(aic_route_match(t, "/v1/admin/users", "/v1/admin/users"));
    assert_int_equal(nparams(t), 0);
    assert_false(aic_route_match(t, "/v1/me", "/v1/mex"));
    assert_false(aic_route_match(t, "/v1/me", "/v1/m"));
    assert_false(aic_route_match(t, "/v1/me", "/v1"));
    assert_false(aic_route_match(t, "/v1/me", "/v1/me/more"));
    assert_false(aic_route_match(t, "/v1/me", "/v2/me"));
    assert_false(aic_route_match(t, "/v1/me", "/V1/ME"));
    assert_false(aic_route_match(t, "/v1/me", "v1/me"));
    assert_false(aic_route_match(t, "/v1/me", ""));
    assert_false(aic_route_match(t, "/v1/me", "/"));
}

static void test_match_trailing_slash_and_double_slash(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *t = apr_table_make(p, 4);

    assert_false(aic_route_match(t, "/v1/me", "/v1/me/"));
    assert_false(aic_route_match(t, "/v1/me", "/v1//me"));
    assert_false(aic_route_match(t, "/v1/me", "//v1/me"));
    assert_false(aic_route_match(t, "/v1/users/{id}", "/v1/users/"));
    assert_false(aic_route_match(t, "/v1/users/{id}", "/v1/users//"));
    assert_false(aic_route_match(t, "/v1/users/{id}", "/v1/users/7/"));
    assert_false(aic_route_match(t, "/v1/a/{x}/b", "/v1/a//b"));
    assert_int_equal(nparams(t), 0);
}

static void test_match_param(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *t = apr_table_make(p, 4);

    assert_true(aic_route_match(t, "/v1/users/{id}", "/v1/users/42"));
    assert_int_equal(nparams(t), 1);
    assert_string_equal(apr_table_get(t, "id"), "42");
    /* A placeholder takes exactly one segment. */
    assert_false(aic_route_match(t, "/v1/users/{id}", "/v1/users"));
    assert_false(aic_route_match(t, "/v1/users/{id}", "/v1/users/42/x"));
}

static void test_match_param_value_is_raw_segment(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *t = apr_table_make(p, 4);

    assert_true(aic_route_match(t, "/s/{token}", "/s/a.b-c_d%20e"));
    assert_string_equal(apr_table_get(t, "token"), "a.b-c_d%20e");
}

static void test_match_two_params(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *t = apr_table_make(p, 4);

    assert_true(aic_route_match(t, "/v1/conversations/{cid}/messages/{mid}",
                                "/v1/conversations/abc/messages/9"));
    assert_int_equal(nparams(t), 2);
    assert_string_equal(apr_table_get(t, "cid"), "abc");
    assert_string_equal(apr_table_get(t, "mid"), "9");
}

static void test_match_failure_leaves_params_alone(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *t = apr_table_make(p, 4);

    apr_table_set(t, "keep", "me");
    /* The placeholder matches before a later literal fails. */
    assert_false(aic_route_match(t, "/a/{x}/b", "/a/1/c"));
    assert_false(aic_route_match(t, "/a/{x}/b", "/a/1/b/"));
    assert_int_equal(nparams(t), 1);
    assert_null(apr_table_get(t, "x"));
    assert_string_equal(apr_table_get(t, "keep"), "me");
}

static void test_match_param_copied_into_params_pool(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *t = apr_table_make(p, 4);
    char path[] = "/v1/users/77";

    assert_true(aic_route_match(t, "/v1/users/{id}", path));
    /* The value is a copy, not a pointer into the path. */
    path[10] = 'X';
    assert_string_equal(apr_table_get(t, "id"), "77");
}

static void test_match_root(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *t = apr_table_make(p, 4);

    /* The admin overview lives at "/". */
    assert_true(aic_route_match(t, "/", "/"));
    assert_false(aic_route_match(t, "/", "//"));
    assert_false(aic_route_match(t, "/", "/users"));
    assert_false(aic_route_match(t, "/", ""));
    assert_false(aic_route_match(t, "/users", "/"));
    assert_false(aic_route_match(t, "/{id}", "/"));
    assert_int_equal(nparams(t), 0);
}

static void test_find_root(void **state)
{
    apr_pool_t *p = *state;
    static const aic_route overview = {"GET", "/", NULL};
    static const aic_route users = {"GET", "/users", NULL};
    static const aic_route user_post = {"POST", "/users/{id}", NULL};
    apr_array_header_t *routes = apr_array_make(p, 3, sizeof(const aic_route *));
    apr_table_t *params = apr_table_make(p, 4);
    const aic_route *found = NULL;
    const char *allow = NULL;

    APR_ARRAY_PUSH(routes, const aic_route *) = &overview;
    APR_ARRAY_PUSH(routes, const aic_route *) = &users;
    APR_ARRAY_PUSH(routes, const aic_route *) = &user_post;
    assert_int_equal(aic_route_find(&found, params, &allow, p, routes, "GET", "/"),
                     AIC_ROUTE_FOUND);
    assert_ptr_equal(found, &overview);
    assert_int_equal(aic_route_find(&found, params, &allow, p, routes, "HEAD", "/"),
                     AIC_ROUTE_FOUND);
    assert_ptr_equal(found, &overview);
    assert_int_equal(aic_route_find(&found, params, &allow, p, routes, "POST", "/"),
                     AIC_ROUTE_NO_METHOD);
    assert_string_equal(allow, "GET");
    assert_int_equal(aic_route_find(&found, params, &allow, p, routes, "GET", "/users/"),
                     AIC_ROUTE_NO_PATH);
    assert_int_equal(aic_route_find(&found, params, &allow, p, routes, "GET", "/users/3"),
                     AIC_ROUTE_NO_METHOD);
    assert_string_equal(allow, "POST");
}

static void test_match_literal_braces_not_param(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *t = apr_table_make(p, 4);

    /* Only a whole "{name}" segment is a placeholder. */
    assert_false(aic_route_match(t, "/a/x{id}", "/a/x7"));
    assert_true(aic_route_match(t, "/a/x{id}", "/a/x{id}"));
    assert_false(aic_route_match(t, "/a/{id", "/a/7"));
    assert_int_equal(nparams(t), 0);
}

/* ---- aic_route_find ------------------------------------------------- */

static void test_find_literal(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *params = apr_table_make(p, 4);
    const aic_route *found = NULL;
    const char *allow = "unset";

    assert_int_equal(aic_route_find(&found, params, &allow, p, make_routes(p), "GET", "/v1/me"),
                     AIC_ROUTE_FOUND);
    assert_non_null(found);
    assert_ptr_equal(found->target, &ep_me_get);
    assert_null(allow);
    assert_int_equal(nparams(params), 0);

    assert_int_equal(aic_route_find(&found, params, &allow, p, make_routes(p), "PATCH", "/v1/me"),
                     AIC_ROUTE_FOUND);
    assert_ptr_equal(found->target, &ep_me_patch);
}

static void test_find_param(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *params = apr_table_make(p, 4);
    const aic_route *found = NULL;
    const char *allow = NULL;

    assert_int_equal(
        aic_route_find(&found, params, &allow, p, make_routes(p), "PATCH", "/v1/users/12"),
        AIC_ROUTE_FOUND);
    assert_ptr_equal(found->target, &ep_user_patch);
    assert_string_equal(apr_table_get(params, "id"), "12");

    params = apr_table_make(p, 4);
    assert_int_equal(aic_route_find(&found, params, &allow, p, make_routes(p), "GET",
                                    "/v1/conversations/c1/messages/m2"),
                     AIC_ROUTE_FOUND);
    assert_ptr_equal(found->target, &ep_messages);
    assert_string_equal(apr_table_get(params, "cid"), "c1");
    assert_string_equal(apr_table_get(params, "mid"), "m2");
}

static void test_find_first_match_wins(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *params = apr_table_make(p, 4);
    const aic_route *found = NULL;
    const char *allow = NULL;

    assert_int_equal(
        aic_route_find(&found, params, &allow, p, make_routes(p), "GET", "/v1/users/me"),
        AIC_ROUTE_FOUND);
    assert_ptr_equal(found->target, &ep_user_me);
    assert_null(apr_table_get(params, "id"));
    /* PATCH has no literal route, so it falls to the placeholder. */
    assert_int_equal(
        aic_route_find(&found, params, &allow, p, make_routes(p), "PATCH", "/v1/users/me"),
        AIC_ROUTE_FOUND);
    assert_ptr_equal(found->target, &ep_user_patch);
    assert_string_equal(apr_table_get(params, "id"), "me");
}

static void test_find_head_uses_get(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *params = apr_table_make(p, 4);
    const aic_route *found = NULL;
    const char *allow = NULL;

    assert_int_equal(aic_route_find(&found, params, &allow, p, make_routes(p), "HEAD", "/v1/me"),
                     AIC_ROUTE_FOUND);
    assert_ptr_equal(found->target, &ep_me_get);
    assert_int_equal(
        aic_route_find(&found, params, &allow, p, make_routes(p), "HEAD", "/v1/users/5"),
        AIC_ROUTE_FOUND);
    assert_ptr_equal(found->target, &ep_user_get);
    assert_string_equal(apr_table_get(params, "id"), "5");
}

static void test_find_head_on_post_only(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *params = apr_table_make(p, 4);
    const aic_route *found = NULL;
    const char *allow = NULL;

    /* HEAD stands in for GET only: it does not reach a POST route. */
    assert_int_equal(
        aic_route_find(&found, params, &allow, p, make_routes(p), "HEAD", "/v1/post-only"),
        AIC_ROUTE_NO_METHOD);
    assert_null(found);
    assert_string_equal(allow, "POST");
    /* And GET does not reach a HEAD-less POST either. */
    assert_int_equal(
        aic_route_find(&found, params, &allow, p, make_routes(p), "GET", "/v1/post-only"),
        AIC_ROUTE_NO_METHOD);
    assert_string_equal(allow, "POST");
}

static void test_find_404(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *params = apr_table_make(p, 4);
    const aic_route *found = (const aic_route *)&routes_def[0];
    const char *allow = "unset";

    assert_int_equal(aic_route_find(&found, params, &allow, p, make_routes(p), "GET", "/v1/nope"),
                     AIC_ROUTE_NO_PATH);
    assert_null(found);
    assert_null(allow);
    /* A trailing slash or an empty segment is a different, unknown path. */
    assert_int_equal(aic_route_find(&found, params, &allow, p, make_routes(p), "GET", "/v1/me/"),
                     AIC_ROUTE_NO_PATH);
    assert_int_equal(aic_route_find(&found, params, &allow, p, make_routes(p), "GET", "/v1//me"),
                     AIC_ROUTE_NO_PATH);
    assert_int_equal(
        aic_route_find(&found, params, &allow, p, make_routes(p), "DELETE", "/v1/users/"),
        AIC_ROUTE_NO_PATH);
    assert_null(allow);
    assert_int_equal(nparams(params), 0);
}

static void test_find_405_allow_no_duplicates(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *params = apr_table_make(p, 4);
    const aic_route *found = NULL;
    const char *allow = NULL;

    /* GET and PATCH /v1/me are each listed twice among the routes. */
    assert_int_equal(aic_route_find(&found, params, &allow, p, make_routes(p), "DELETE", "/v1/me"),
                     AIC_ROUTE_NO_METHOD);
    assert_null(found);
    assert_string_equal(allow, "GET, PATCH");
    assert_int_equal(aic_route_find(&found, params, &allow, p, make_routes(p), "POST", "/v1/me"),
                     AIC_ROUTE_NO_METHOD);
    assert_string_equal(allow, "GET, PATCH");
}

static void test_find_405_across_patterns(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *params = apr_table_make(p, 4);
    const aic_route *found = NULL;
    const char *allow = NULL;

    /* /v1/users/me matches the literal GET and the placeholder GET + PATCH. */
    assert_int_equal(
        aic_route_find(&found, params, &allow, p, make_routes(p), "DELETE", "/v1/users/me"),
        AIC_ROUTE_NO_METHOD);
    assert_string_equal(allow, "GET, PATCH");
    /* No parameters leak out of a failed lookup. */
    assert_int_equal(nparams(params), 0);
}

static void test_find_method_case_and_prefix(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *params = apr_table_make(p, 4);
    const aic_route *found = NULL;
    const char *allow = NULL;

    /* Methods are case-sensitive and compared whole. */
    assert_int_equal(aic_route_find(&found, params, &allow, p, make_routes(p), "get", "/v1/me"),
                     AIC_ROUTE_NO_METHOD);
    assert_int_equal(aic_route_find(&found, params, &allow, p, make_routes(p), "GE", "/v1/me"),
                     AIC_ROUTE_NO_METHOD);
    assert_int_equal(aic_route_find(&found, params, &allow, p, make_routes(p), "GETX", "/v1/me"),
                     AIC_ROUTE_NO_METHOD);
    assert_string_equal(allow, "GET, PATCH");
}

static void test_find_allow_prefix_names_kept(void **state)
{
    apr_pool_t *p = *state;
    static const aic_route a = {"POSTX", "/x", NULL};
    static const aic_route b = {"POST", "/x", NULL};
    static const aic_route c = {"POSTX", "/x", NULL};
    static const aic_route d = {"POS", "/x", NULL};
    apr_array_header_t *routes = apr_array_make(p, 4, sizeof(const aic_route *));
    apr_table_t *params = apr_table_make(p, 4);
    const aic_route *found = NULL;
    const char *allow = NULL;

    APR_ARRAY_PUSH(routes, const aic_route *) = &a;
    APR_ARRAY_PUSH(routes, const aic_route *) = &b;
    APR_ARRAY_PUSH(routes, const aic_route *) = &c;
    APR_ARRAY_PUSH(routes, const aic_route *) = &d;
    /* A name that is a prefix of a listed one is still a different method. */
    assert_int_equal(aic_route_find(&found, params, &allow, p, routes, "GET", "/x"),
                     AIC_ROUTE_NO_METHOD);
    assert_string_equal(allow, "POSTX, POST, POS");
}

static void test_find_no_routes(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *routes = apr_array_make(p, 1, sizeof(const aic_route *));
    apr_table_t *params = apr_table_make(p, 4);
    const aic_route *found = NULL;
    const char *allow = NULL;

    assert_int_equal(aic_route_find(&found, params, &allow, p, routes, "GET", "/v1/me"),
                     AIC_ROUTE_NO_PATH);
    assert_null(found);
    assert_null(allow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_match_literal),
        POOL_TEST(test_match_trailing_slash_and_double_slash),
        POOL_TEST(test_match_param),
        POOL_TEST(test_match_param_value_is_raw_segment),
        POOL_TEST(test_match_two_params),
        POOL_TEST(test_match_failure_leaves_params_alone),
        POOL_TEST(test_match_param_copied_into_params_pool),
        POOL_TEST(test_match_root),
        POOL_TEST(test_match_literal_braces_not_param),
        POOL_TEST(test_find_literal),
        POOL_TEST(test_find_param),
        POOL_TEST(test_find_first_match_wins),
        POOL_TEST(test_find_head_uses_get),
        POOL_TEST(test_find_head_on_post_only),
        POOL_TEST(test_find_404),
        POOL_TEST(test_find_405_allow_no_duplicates),
        POOL_TEST(test_find_405_across_patterns),
        POOL_TEST(test_find_method_case_and_prefix),
        POOL_TEST(test_find_allow_prefix_names_kept),
        POOL_TEST(test_find_no_routes),
        POOL_TEST(test_find_root),
    };

    return cmocka_run_group_tests_name("aic_route", tests, group_setup, group_teardown);
}
