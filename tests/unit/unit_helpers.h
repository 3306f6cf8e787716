/* Shared fixtures for the cmocka unit tests: APR is initialised once per
 * group and every test gets a fresh pool in *state. */
#ifndef AIC_UNIT_HELPERS_H
#define AIC_UNIT_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_pools.h>

static inline int group_setup(void **state)
{
    return apr_initialize() == APR_SUCCESS ? 0 : -1;
}

static inline int group_teardown(void **state)
{
    apr_terminate();
    return 0;
}

static inline int pool_setup(void **state)
{
    apr_pool_t *p = NULL;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return -1;
    }
    *state = p;
    return 0;
}

static inline int pool_teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

/* A test that receives a fresh pool. */
#define POOL_TEST(f) cmocka_unit_test_setup_teardown(f, pool_setup, pool_teardown)

#endif
