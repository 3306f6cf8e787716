/* libFuzzer target: the JSON door (core/aic_json.c). The input is parsed as
 * a request body would be; a value is walked with the accessors the handlers
 * use, dumped, and the dump must parse again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "core/aic_json.h"

static const char *const allowed[] = {"title", "model", "content", NULL};

static void walk(apr_pool_t *p, const aic_json *v, int depth)
{
    apr_array_header_t *keys;

    if (depth > 32) {
        return;
    }
    switch (aic_json_typeof(v)) {
    case AIC_JSON_OBJECT:
        keys = aic_json_keys(v, p);
        aic_json_unknown_key(v, allowed, p);
        for (int i = 0; i < keys->nelts; i++) {
            const char *key = APR_ARRAY_IDX(keys, i, const char *);

            if (!aic_json_has(v, key)) {
                abort();
            }
            walk(p, aic_json_get(v, key), depth + 1);
        }
        break;
    case AIC_JSON_ARRAY:
        for (apr_size_t i = 0; i < aic_json_len(v); i++) {
            walk(p, aic_json_at(v, i), depth + 1);
        }
        break;
    case AIC_JSON_STRING:
        aic_json_str(v, p);
        break;
    case AIC_JSON_INT:
        aic_json_int(v);
        break;
    case AIC_JSON_BOOL:
        aic_json_bool(v);
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aic_json *v = NULL, *again = NULL;
    const char *err = NULL, *dump;
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    if (aic_json_parse(&v, &err, p, (const char *)data, size) == APR_SUCCESS) {
        walk(p, v, 0);
        dump = aic_json_dump(v, p);
        if (!dump || aic_json_parse(&again, &err, p, dump, strlen(dump)) != APR_SUCCESS) {
            abort();
        }
    } else if (!err) {
        abort();
    }
    aic_json_from(p, apr_pstrmemdup(p, (const char *)data, size));
    apr_pool_destroy(p);
    return 0;
}
