/* libFuzzer target: the cursor decoder (core/aic_cursor.c). The input is a
 * cursor; it is decoded as each list's kind with 1 to 3 fields. A cursor that
 * decodes must encode back to itself (one spelling per cursor). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "core/aic_cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const kinds[] = {"p", "n", "c", "v", "u"};
    const char *cursor;
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    cursor = apr_pstrmemdup(p, (const char *)data, size);
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        for (int n = 1; n <= 3; n++) {
            const char *fields[3] = {NULL, NULL, NULL};
            const char *again;

            if (aic_cursor_decode(fields, p, cursor, kinds[k], n) != APR_SUCCESS) {
                continue;
            }
            again = aic_cursor_encode(p, kinds[k], fields, n);
            if (!again || strcmp(again, cursor)) {
                abort();
            }
        }
    }
    apr_pool_destroy(p);
    return 0;
}
