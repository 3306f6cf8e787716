/* libFuzzer target: templates (core/aic_template.c). The input is the
 * content, then optionally a NUL and the variables (JSON), then a NUL and the
 * values (JSON). What compiles is filled; a filled prompt is never longer
 * than the limit it was given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "core/aic_template.h"
#include "core/aic_valid.h"

#define FILL_MAX 4000

/* The next NUL-separated part of data[*at..size) (copied into p), or NULL. */
static const char *part(apr_pool_t *p, const uint8_t *data, size_t size, size_t *at)
{
    const uint8_t *end;
    const char *out;

    if (*at > size) {
        return NULL;
    }
    end = memchr(data + *at, '\0', size - *at);
    out =
        apr_pstrmemdup(p, (const char *)data + *at, end ? (size_t)(end - data) - *at : size - *at);
    *at = end ? (size_t)(end - data) + 1 : size + 1;
    return out;
}

static aic_json *json(apr_pool_t *p, const char *text)
{
    aic_json *v = NULL;
    const char *err = NULL;

    return text && aic_json_parse(&v, &err, p, text, strlen(text)) == APR_SUCCESS ? v : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    size_t at = 0;
    const char *content, *out = NULL;
    aic_json *variables, *values;
    aic_template *t = NULL;
    aic_template_error err;

    apr_pool_create(&p, NULL);
    content = part(p, data, size, &at);
    variables = json(p, part(p, data, size, &at));
    values = json(p, part(p, data, size, &at));
    if (aic_template_compile(&t, &err, p, content, variables) == APR_SUCCESS) {
        aic_template_variables(t, p);
        if (aic_template_fill(&out, &err, p, t, values, FILL_MAX) == APR_SUCCESS &&
            aic_utf8_length(out) > FILL_MAX) {
            abort();
        }
    } else if (!err.code || !err.field || !err.message) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
