/* The only door to libarchive: a ZIP read member by member from a file, with
 * the limits a hostile archive needs (providers.md §5.7): entries, inflated
 * bytes per member and in all, and the inflated/compressed ratio, all
 * counted on the bytes actually inflated (never the sizes the headers
 * claim). Unsafe names, symlinks and encrypted members are refused. */
#ifndef AIC_ZIP_H
#define AIC_ZIP_H

#include <apr_pools.h>

typedef struct aic_zip aic_zip;

typedef struct {
    int max_entries;
    apr_off_t max_member; /* inflated bytes of one member */
    apr_off_t max_total;  /* inflated bytes of the members read, in all */
    int max_ratio;        /* inflated : compressed, checked past 1 MiB inflated */
} aic_zip_limits;

/** Errors; aic_zip_error gives the code (the product's error code) and a message. */
#define AIC_ZIP_EINVALID   (APR_OS_START_USERERR + 311) /* invalid_zip */
#define AIC_ZIP_EUNSAFE    (APR_OS_START_USERERR + 312) /* unsafe_path */
#define AIC_ZIP_EENCRYPTED (APR_OS_START_USERERR + 313) /* encrypted_zip */
#define AIC_ZIP_ELIMIT     (APR_OS_START_USERERR + 314) /* limit_exceeded */

/** 1 when the file's first bytes are a ZIP's local header or end record. */
int aic_zip_sniff(const char *head, apr_size_t len);

/** Open the ZIP at path; the handle is released with p. */
apr_status_t aic_zip_open(aic_zip **z, apr_pool_t *p, const char *path, const aic_zip_limits *lim);
/**
 * The next member: *name (in the zip's pool until the next call), *regular 0
 * for folders. APR_EOF after the last; AIC_ZIP_E* on a bad member or archive.
 */
apr_status_t aic_zip_next(aic_zip *z, const char **name, int *regular);
/** Inflate up to *len bytes of the current member into buf; *len 0 at its end. */
apr_status_t aic_zip_read(aic_zip *z, char *buf, apr_size_t *len);
/** How many bytes of the ZIP file have been read so far. */
apr_off_t aic_zip_bytes_read(aic_zip *z);
/** The error's code and message. */
void aic_zip_error(const aic_zip *z, const char **code, const char **message);

/* ---- writing: a ZIP streamed out through a function ---- */

typedef struct aic_zip_out aic_zip_out;
/** Where the archive's bytes go; APR_SUCCESS or an error that stops it. */
typedef apr_status_t (*aic_zip_write_fn)(void *baton, const void *buf, apr_size_t len);

/** A ZIP written through fn as members are added (released with p). */
apr_status_t aic_zip_out_open(aic_zip_out **z, apr_pool_t *p, aic_zip_write_fn fn, void *baton);
/** Begin a member (deflated, its size unknown: a data descriptor follows it). */
apr_status_t aic_zip_out_member(aic_zip_out *z, const char *name, apr_time_t mtime);
/** Bytes of the current member. */
apr_status_t aic_zip_out_write(aic_zip_out *z, const char *buf, apr_size_t len);
/** The central directory: the archive is complete. */
apr_status_t aic_zip_out_close(aic_zip_out *z);

#endif
