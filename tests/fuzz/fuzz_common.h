/* What the libFuzzer targets share: APR set up once before the first input
 * (fuzz_common.c defines libFuzzer's LLVMFuzzerInitialize), and feeding a
 * parser its input in one piece or in pieces. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <apr_general.h>

/** A parser's feed function, as aic_sse_feed and aic_provider_stream_feed. */
typedef apr_status_t (*fuzz_feed_fn)(void *parser, const char *data, apr_size_t len);

/**
 * Feed data to parser in one piece, or (split) in pieces of 1 to 7 bytes,
 * until a feed fails; the last feed's status.
 */
apr_status_t fuzz_feed(fuzz_feed_fn feed, void *parser, const uint8_t *data, size_t size,
                       int split);

#endif
