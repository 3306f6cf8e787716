/* libFuzzer target: the import parsers (api/imports/import.h). The input is
 * a JSON document of an export: read as a stream in pieces of varying size,
 * recognised (first pass), then read as its format (second pass). Built once
 * more per format with FUZZ_FORMAT set (fuzz_import_chatgpt, …): the input is
 * then read as that format whatever it looks like, so that mutations far from
 * the format's shape still reach its parser. Every conversation handed on
 * must be a tree whose parents come first and whose active leaf is one of
 * its messages. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>

#include "api/imports/import.h"

static apr_status_t check(void *baton, const aic_import_conv *c, apr_pool_t *p)
{
    if (c->msgs->nelts == 0 || c->active < 0 || c->active >= c->msgs->nelts || !c->title) {
        abort();
    }
    for (int i = 0; i < c->msgs->nelts; i++) {
        const aic_import_msg *m = &APR_ARRAY_IDX(c->msgs, i, aic_import_msg);

        if (m->parent >= i || !m->text || strlen(m->text) > AIC_IMPORT_MAX_TEXT) {
            abort();
        }
    }
    return APR_SUCCESS;
}

static void reject(void *baton, const char *ext_id, const char *title, const char *code,
                   const char *message)
{
}

static void feed(aic_import_doc *d, const uint8_t *data, size_t size)
{
    size_t at = 0, step = 1;

    while (at < size) {
        size_t n = step < size - at ? step : size - at;

        if (aic_import_doc_feed(d, (const char *)data + at, n) != APR_SUCCESS) {
            return;
        }
        at += n;
        step = step * 3 + 1;
    }
    aic_import_doc_finish(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    aic_import_doc *d;
    aic_import_format f;

    apr_pool_create(&p, NULL);
#ifdef FUZZ_FORMAT
    f = FUZZ_FORMAT;
#else
    d = aic_import_doc_create(p, "chat-fuzz.json", AIC_IMPORT_UNKNOWN, check, reject, NULL);
    feed(d, data, size);
    f = aic_import_doc_format(d);
#endif
    if (f != AIC_IMPORT_UNKNOWN && f != AIC_IMPORT_GROK) {
        d = aic_import_doc_create(p, "chat-fuzz.json", f, check, reject, NULL);
        feed(d, data, size);
    }
    apr_pool_destroy(p);
    return 0;
}
