/* Unit tests for core/aic_catalog: pages of the model list from a snapshot. */
#include "unit_helpers.h"

#include <string.h>

#include <apr_strings.h>

#include "core/aic_catalog.h"

#define CAT_A "aaaaaaaa-0000-0000-0000-000000000001"
#define CAT_B "bbbbbbbb-0000-0000-0000-000000000002"

/* Four models: "m0".."m3"; popularity order m0 m1 m2 m3, name order m3 m2
 * m1 m0, newest order m1 m3 m0 m2. */
static aic_catalog *four(apr_pool_t *p)
{
    static const int positions[4][AIC_CATALOG_SORTS] = {{0, 3, 2}, {1, 2, 0}, {2, 1, 3}, {3, 0, 1}};
    static const char *const categories[4] = {CAT_A, CAT_B, NULL, CAT_A};
    static const char *const providers[4] = {"openai", "openai", "google", "google"};
    aic_catalog_item items[4];
    aic_catalog *c = NULL;

    memset(items, 0, sizeof(items));
    for (int i = 0; i < 4; i++) {
        items[i].id = apr_psprintf(p, "00000000-0000-0000-0000-00000000000%d", i);
        items[i].category_id = categories[i];
        items[i].provider = providers[i];
        items[i].json[0] = apr_psprintf(p, "{\"m\": %d, \"favorite\": false}", i);
        items[i].json[1] = apr_psprintf(p, "{\"m\": %d, \"favorite\": true}", i);
        for (int s = 0; s < AIC_CATALOG_SORTS; s++) {
            items[i].cursor[s] = apr_psprintf(p, "%c%d", "pnc"[s], i);
            items[i].position[s] = positions[i][s];
        }
    }
    assert_int_equal(aic_catalog_make(&c, p, 7, items, 4), APR_SUCCESS);
    return c;
}

static const char *page(apr_pool_t *p, const aic_catalog *c, aic_catalog_query q)
{
    const char *json = NULL;

    assert_int_equal(aic_catalog_page(&json, c, &q, p), APR_SUCCESS);
    return json;
}

static void test_each_sort_order(void **state)
{
    apr_pool_t *p = *state;
    aic_catalog *c = four(p);

    assert_int_equal(aic_catalog_version(c), 7);
    assert_string_equal(page(p, c, (aic_catalog_query){0, NULL, NULL, 0, NULL, NULL, 10}),
                        "{\"items\" : [{\"m\": 0, \"favorite\": false}, {\"m\": 1, \"favorite\": "
                        "false}, {\"m\": 2, \"favorite\": false}, {\"m\": 3, \"favorite\": "
                        "false}], \"next\" : null}");
    assert_string_equal(page(p, c, (aic_catalog_query){1, NULL, NULL, 0, NULL, NULL, 2}),
                        "{\"items\" : [{\"m\": 3, \"favorite\": false}, {\"m\": 2, \"favorite\": "
                        "false}], \"next\" : \"n2\"}");
    assert_string_equal(page(p, c, (aic_catalog_query){2, NULL, NULL, 0, NULL, NULL, 1}),
                        "{\"items\" : [{\"m\": 1, \"favorite\": false}], \"next\" : \"c1\"}");
}

/* As the list statement: a full page names its last model even when nothing follows. */
static void test_full_page_has_next(void **state)
{
    apr_pool_t *p = *state;
    aic_catalog *c = four(p);

    assert_string_equal(page(p, c, (aic_catalog_query){2, NULL, NULL, 0, NULL, "c3", 2}),
                        "{\"items\" : [{\"m\": 0, \"favorite\": false}, {\"m\": 2, \"favorite\": "
                        "false}], \"next\" : \"c2\"}");
    assert_string_equal(page(p, c, (aic_catalog_query){2, NULL, NULL, 0, NULL, "c2", 2}),
                        "{\"items\" : [], \"next\" : null}");
}

static void test_after_a_cursor(void **state)
{
    apr_pool_t *p = *state;
    aic_catalog *c = four(p);
    const char *json = NULL;
    aic_catalog_query other_sort = {0, NULL, NULL, 0, NULL, "n1", 5};
    aic_catalog_query unknown = {0, NULL, NULL, 0, NULL, "p9", 5};

    assert_string_equal(page(p, c, (aic_catalog_query){0, NULL, NULL, 0, NULL, "p1", 5}),
                        "{\"items\" : [{\"m\": 2, \"favorite\": false}, {\"m\": 3, \"favorite\": "
                        "false}], \"next\" : null}");
    assert_int_equal(aic_catalog_page(&json, c, &other_sort, p), APR_NOTFOUND);
    assert_int_equal(aic_catalog_page(&json, c, &unknown, p), APR_NOTFOUND);
    assert_null(json);
}

static void test_filters_and_favorites(void **state)
{
    apr_pool_t *p = *state;
    aic_catalog *c = four(p);
    const char *favs = "00000000-0000-0000-0000-000000000003,00000000-0000-0000-0000-000000000000";

    /* A category in upper case names the same category, as uuid comparison does. */
    assert_string_equal(
        page(p, c,
             (aic_catalog_query){0, "AAAAAAAA-0000-0000-0000-000000000001", NULL, 0, favs, NULL,
                                 10}),
        "{\"items\" : [{\"m\": 0, \"favorite\": true}, {\"m\": 3, \"favorite\": true}], "
        "\"next\" : null}");
    assert_string_equal(page(p, c, (aic_catalog_query){0, NULL, "google", 0, favs, NULL, 10}),
                        "{\"items\" : [{\"m\": 2, \"favorite\": false}, {\"m\": 3, \"favorite\": "
                        "true}], \"next\" : null}");
    assert_string_equal(page(p, c, (aic_catalog_query){1, NULL, NULL, 1, favs, NULL, 1}),
                        "{\"items\" : [{\"m\": 3, \"favorite\": true}], \"next\" : \"n3\"}");
    assert_string_equal(page(p, c, (aic_catalog_query){1, NULL, NULL, 1, NULL, NULL, 1}),
                        "{\"items\" : [], \"next\" : null}");
    assert_string_equal(page(p, c, (aic_catalog_query){0, CAT_B, "google", 0, NULL, NULL, 10}),
                        "{\"items\" : [], \"next\" : null}");
}

static void test_empty_catalog(void **state)
{
    apr_pool_t *p = *state;
    aic_catalog *c = NULL;

    assert_int_equal(aic_catalog_make(&c, p, 1, NULL, 0), APR_SUCCESS);
    assert_string_equal(page(p, c, (aic_catalog_query){0, NULL, NULL, 0, NULL, NULL, 20}),
                        "{\"items\" : [], \"next\" : null}");
}

static void test_inconsistent_positions(void **state)
{
    apr_pool_t *p = *state;
    aic_catalog *c = NULL;
    aic_catalog_item items[2] = {
        {"id0", NULL, "openai", {"{}", "{}"}, {"p0", "n0", "c0"}, {0, 0, 0}},
        {"id1", NULL, "openai", {"{}", "{}"}, {"p1", "n1", "c1"}, {1, 0, 1}},
    };

    assert_int_equal(aic_catalog_make(&c, p, 1, items, 2), APR_EINVAL);
    items[1].position[1] = 2;
    assert_int_equal(aic_catalog_make(&c, p, 1, items, 2), APR_EINVAL);
    items[1].position[1] = 1;
    items[1].json[1] = NULL;
    assert_int_equal(aic_catalog_make(&c, p, 1, items, 2), APR_EINVAL);
    items[1].json[1] = "{}";
    assert_int_equal(aic_catalog_make(&c, p, 1, items, 2), APR_SUCCESS);
}

/* The snapshot owns copies: the caller's strings may go away. */
static void test_copies_its_input(void **state)
{
    apr_pool_t *p = *state, *scratch = NULL;
    aic_catalog *c = NULL;
    aic_catalog_item item = {NULL, NULL, NULL, {NULL, NULL}, {NULL, NULL, NULL}, {0, 0, 0}};

    assert_int_equal(apr_pool_create(&scratch, p), APR_SUCCESS);
    item.id = apr_pstrdup(scratch, "id");
    item.provider = apr_pstrdup(scratch, "openai");
    item.json[0] = apr_pstrdup(scratch, "{\"f\": false}");
    item.json[1] = apr_pstrdup(scratch, "{\"f\": true}");
    item.cursor[0] = apr_pstrdup(scratch, "p0");
    item.cursor[1] = apr_pstrdup(scratch, "n0");
    item.cursor[2] = apr_pstrdup(scratch, "c0");
    assert_int_equal(aic_catalog_make(&c, p, 3, &item, 1), APR_SUCCESS);
    apr_pool_destroy(scratch);
    assert_string_equal(page(p, c, (aic_catalog_query){0, NULL, NULL, 0, NULL, NULL, 1}),
                        "{\"items\" : [{\"f\": false}], \"next\" : \"p0\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_each_sort_order),  POOL_TEST(test_full_page_has_next),
        POOL_TEST(test_after_a_cursor),   POOL_TEST(test_filters_and_favorites),
        POOL_TEST(test_empty_catalog),    POOL_TEST(test_inconsistent_positions),
        POOL_TEST(test_copies_its_input),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
