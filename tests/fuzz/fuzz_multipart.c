/* libFuzzer target: the multipart/form-data reader of the import upload
 * (api/imports/aic_import_multipart.c). The input is a body whose boundary
 * is "xyz", read in pieces of varying size; the file part handed on can
 * never be longer than the body, and never comes in empty pieces. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>

#include "api/imports/import.h"

typedef struct {
    size_t size, got;
} seen;

static apr_status_t on_data(void *baton, const char *buf, apr_size_t len)
{
    seen *s = baton;

    s->got += len;
    if (len == 0 || s->got > s->size) {
        abort();
    }
    return APR_SUCCESS;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    seen s = {size, 0};
    aic_multipart *m;
    size_t at = 0, step = 1;
    apr_status_t rv = APR_SUCCESS;

    apr_pool_create(&p, NULL);
    m = aic_multipart_create(p, "multipart/form-data; boundary=xyz", "file", on_data, &s);
    while (at < size && rv == APR_SUCCESS) {
        size_t n = step < size - at ? step : size - at;

        rv = aic_multipart_feed(m, (const char *)data + at, n);
        at += n;
        step = step * 3 + 1;
    }
    if (rv == APR_SUCCESS) {
        aic_multipart_finish(m);
    }
    apr_pool_destroy(p);
    return 0;
}
