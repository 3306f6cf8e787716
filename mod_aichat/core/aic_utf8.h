/* Text that PostgreSQL accepts: valid UTF-8 of a bounded length. Neither APR
 * nor json-c repairs UTF-8 (json-c's JSON_TOKENER_VALIDATE_UTF8 only refuses
 * a whole document), so this is a small scanner of the well-formed sequences
 * of Unicode's table 3-7. */
#ifndef AIC_UTF8_H
#define AIC_UTF8_H

#include <apr_pools.h>

/** U+FFFD, what an ill-formed sequence becomes. */
#define AIC_UTF8_REPLACEMENT "\xEF\xBF\xBD"

/**
 * s as valid UTF-8 of at most max bytes: each maximal ill-formed subsequence
 * becomes one U+FFFD (as Unicode recommends), and the text is cut after the
 * last whole character that fits. Returns s itself when it already is such
 * text, else a copy in p; NULL for NULL. A C string holds no NUL byte, so
 * the result holds none either.
 */
const char *aic_utf8_clean(apr_pool_t *p, const char *s, apr_size_t max);

#endif
