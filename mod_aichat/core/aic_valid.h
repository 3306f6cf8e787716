/* Validation of user-supplied values. Each validator returns NULL when the
 * value is acceptable (writing the normalised form to *out) or a message
 * that says what is wrong. */
#ifndef AIC_VALID_H
#define AIC_VALID_H

#include <apr_pools.h>
#include <apr_tables.h>

#define AIC_DISPLAY_NAME_MAX 100
#define AIC_EMAIL_MAX        254

/** Display name: trimmed, 1..100 characters of valid UTF-8, no control characters. */
const char *aic_valid_display_name(const char **out, apr_pool_t *p, const char *in);
/**
 * Free text: trimmed, valid UTF-8, min_chars..max_chars code points, no control
 * characters (newlines and tabs allowed when multiline).
 */
const char *aic_valid_text(const char **out, apr_pool_t *p, const char *in, apr_size_t min_chars,
                           apr_size_t max_chars, int multiline);
/** A catalog slug: ^[a-z0-9][a-z0-9-]{0,62}$. */
int aic_valid_slug(const char *s);
/** An ILIKE pattern matching q literally anywhere (%, _ and \\ escaped). */
const char *aic_like_contains(apr_pool_t *p, const char *q);
/** E-mail address: local@domain, <= 254 bytes, domain with a dot, no spaces; lower-cased domain. */
const char *aic_valid_email(const char **out, apr_pool_t *p, const char *in);
/** Role: "user" or "admin". */
const char *aic_valid_role(const char *in);
/** 1 when s is a calendar date YYYY-MM-DD (years 1970..9999). */
int aic_valid_date(const char *s);
/** 1 when s is an RFC 3339 timestamp, e.g. 2026-12-01T10:00:00Z or
 * 2026-12-01T10:00:00.5+02:00 (the offset is required). */
int aic_valid_timestamp(const char *s);
/** Parse a page size: NULL/"" gives def; returns -1 unless 1 <= n <= max. */
int aic_valid_limit(const char *s, int def, int max);
/** A yes/no query parameter: 1 for "true" or "1", 0 for "false" or "0", -1 otherwise. */
int aic_valid_flag(const char *s);
/** 1 when s is a positive decimal integer of at most 18 digits (a keyset cursor id). */
int aic_valid_id_cursor(const char *s);
/** 1 when s is a canonical UUID (8-4-4-4-12 hex digits). */
int aic_valid_uuid(const char *s);
/**
 * A comma-separated list of 1..max canonical UUIDs ("a,b"): each into *out
 * (const char *, lower-cased, duplicates dropped). NULL when acceptable, else
 * what is wrong.
 */
const char *aic_valid_uuid_list(apr_array_header_t **out, apr_pool_t *p, const char *in, int max);
/** A colour #rrggbb (hex digits of either case), lower-cased into *out. NULL when acceptable. */
const char *aic_valid_color(const char **out, apr_pool_t *p, const char *in);
/** 1 when s is valid UTF-8 of at most max_bytes bytes. */
int aic_valid_utf8(const char *s, apr_size_t max_bytes);
/** Number of code points in valid UTF-8 s. */
apr_size_t aic_utf8_length(const char *s);

#endif
