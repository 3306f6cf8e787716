/* One cursor format for every keyset-paginated list.
 *
 * A cursor names the last row of a page in one sort order. It is the
 * lower-case hex of the UTF-8 text "kind|field1|...|fieldN": kind says which
 * list and sort issued it (so a cursor of one list is refused by another),
 * the fields are that row's sort key, the last field usually the one that
 * may hold anything (a name, a username). Only the last field may contain
 * '|'; kind and the other fields may not. The client treats it as opaque.
 *
 * SQL makes the same text, so a statement can issue the next cursor itself:
 *   encode(convert_to('n|' || id || '|' || name, 'UTF8'), 'hex')
 * aic_cursor_encode gives the same bytes for the same kind and fields, and
 * since only lower-case hex is accepted, a cursor has one spelling: two
 * cursors name the same row exactly when their strings are equal.
 *
 * The decoder checks the form only (hex, UTF-8, kind, field count, length);
 * each caller still validates its fields (a uuid, a number) before use. */
#ifndef AIC_CURSOR_H
#define AIC_CURSOR_H

#include <apr_errno.h>
#include <apr_pools.h>

/** The longest cursor text accepted, in bytes before hex encoding (so at most
 * twice as many hex digits). Longer input is refused before it is decoded. */
#define AIC_CURSOR_MAX_BYTES 4096

/** The most fields a cursor may carry after its kind. */
#define AIC_CURSOR_MAX_FIELDS 8

/**
 * The cursor for kind and fields[0..nfields-1], allocated in p.
 * Returns NULL when kind is empty or holds '|', when nfields is not within
 * 1..AIC_CURSOR_MAX_FIELDS, when a field other than the last holds '|' or a
 * field is NULL, or when the text would exceed AIC_CURSOR_MAX_BYTES.
 */
const char *aic_cursor_encode(apr_pool_t *p, const char *kind, const char *const *fields,
                              int nfields);

/**
 * Decode cursor, which must have been issued with kind and nfields fields.
 * On success fields[0..nfields-1] point to NUL-terminated copies in p (a field
 * may be empty) and APR_SUCCESS is returned. APR_EINVAL when cursor is NULL,
 * empty, longer than 2 * AIC_CURSOR_MAX_BYTES, not lower-case hex, decodes to a
 * NUL byte or to text that is not UTF-8, has another kind, or has fewer than
 * nfields fields; fields is then left untouched. nfields must be within
 * 1..AIC_CURSOR_MAX_FIELDS.
 */
apr_status_t aic_cursor_decode(const char **fields, apr_pool_t *p, const char *cursor,
                               const char *kind, int nfields);

#endif
