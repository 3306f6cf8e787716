#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return apr_initialize() == APR_SUCCESS ? 0 : -1;
}

apr_status_t fuzz_feed(fuzz_feed_fn feed, void *parser, const uint8_t *data, size_t size, int split)
{
    apr_status_t rv = APR_SUCCESS;

    for (size_t at = 0, n = 1; at < size && rv == APR_SUCCESS; at += n, n = n % 7 + 1) {
        if (!split) {
            n = size;
        }
        n = n < size - at ? n : size - at;
        rv = feed(parser, (const char *)data + at, n);
    }
    return rv;
}
