/* libFuzzer target: the ZIP reader of imports (core/aic_zip.h) with small
 * limits. The input is written to a file, as an upload is stored, and read as
 * the import reads it: each member's name, then its inflated bytes. Every
 * member handed on has a safe name, and no more is inflated than the limits
 * allow. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>

#include "core/aic_zip.h"

static const aic_zip_limits limits = {
    64,      /* entries */
    1 << 20, /* inflated bytes of one member */
    4 << 20, /* in all */
    50,      /* ratio */
};

static char path[] = "/tmp/fuzz_zip.XXXXXX";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char buf[65536];
    apr_pool_t *p;
    aic_zip *z;
    const char *name;
    int regular;
    apr_off_t total = 0;

    if (fd < 0 && (fd = mkstemp(path)) < 0) {
        abort();
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) {
        abort();
    }
    apr_pool_create(&p, NULL);
    if (aic_zip_open(&z, p, path, &limits) == APR_SUCCESS) {
        while (aic_zip_next(z, &name, &regular) == APR_SUCCESS) {
            if (!name || name[0] == '/' || strstr(name, "..") == name) {
                abort();
            }
            for (;;) {
                apr_size_t n = sizeof(buf);

                if (aic_zip_read(z, buf, &n) != APR_SUCCESS || n == 0) {
                    break;
                }
                total += (apr_off_t)n;
                if (total > limits.max_total) {
                    abort();
                }
            }
        }
    }
    apr_pool_destroy(p);
    return 0;
}
