#include "aic_zip.h"

#include <apr_strings.h>
#include <archive.h>
#include <archive_entry.h>
#include <string.h>

#define RATIO_FROM (1024 * 1024)

struct aic_zip {
    apr_pool_t *pool;
    struct archive *a;
    aic_zip_limits lim;
    int entries;
    apr_off_t member_in, member_raw0, total;
    const char *code, *message;
};

static apr_status_t zip_release(void *data)
{
    aic_zip *z = data;

    if (z->a) {
        archive_read_free(z->a);
        z->a = NULL;
    }
    return APR_SUCCESS;
}

int aic_zip_sniff(const char *head, apr_size_t len)
{
    return len >= 4 && (memcmp(head, "PK\3\4", 4) == 0 || memcmp(head, "PK\5\6", 4) == 0);
}

static apr_status_t fail(aic_zip *z, apr_status_t rv, const char *code, const char *message)
{
    z->code = code;
    z->message = message;
    return rv;
}

apr_status_t aic_zip_open(aic_zip **out, apr_pool_t *p, const char *path, const aic_zip_limits *lim)
{
    aic_zip *z = apr_pcalloc(p, sizeof(*z));

    *out = z;
    z->pool = p;
    z->lim = *lim;
    z->a = archive_read_new();
    if (!z->a) {
        return fail(z, APR_ENOMEM, "internal_error", "out of memory");
    }
    apr_pool_cleanup_register(p, z, zip_release, apr_pool_cleanup_null);
    archive_read_support_format_zip(z->a);
    /* Small reads, so that the compressed bytes behind the inflated ones are
     * known closely enough for the ratio. */
    if (archive_read_open_filename(z->a, path, 16384) != ARCHIVE_OK) {
        return fail(z, AIC_ZIP_EINVALID, "invalid_zip",
                    apr_pstrcat(p, "not a readable ZIP: ", archive_error_string(z->a), NULL));
    }
    return APR_SUCCESS;
}

/* Absolute, a drive letter, or a ".." segment. */
static int unsafe(const char *name)
{
    const char *s = name;

    if (name[0] == '/' || name[0] == '\\' ||
        (((name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z') && name[1] == ':')) {
        return 1;
    }
    while (*s) {
        apr_size_t n = strcspn(s, "/\\");

        if (n == 2 && s[0] == '.' && s[1] == '.') {
            return 1;
        }
        s += n;
        if (*s) {
            s++;
        }
    }
    return 0;
}

apr_status_t aic_zip_next(aic_zip *z, const char **name, int *regular)
{
    struct archive_entry *e;
    int r;

    if (z->code) {
        return AIC_ZIP_EINVALID;
    }
    r = archive_read_next_header(z->a, &e);
    if (r == ARCHIVE_EOF) {
        return APR_EOF;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        return fail(z, AIC_ZIP_EINVALID, "invalid_zip",
                    apr_pstrcat(z->pool, "not a readable ZIP: ", archive_error_string(z->a), NULL));
    }
    if (++z->entries > z->lim.max_entries) {
        return fail(z, AIC_ZIP_ELIMIT, "limit_exceeded",
                    apr_psprintf(z->pool, "the ZIP has more than %d entries", z->lim.max_entries));
    }
    *name = archive_entry_pathname(e);
    if (!*name || unsafe(*name) || archive_entry_filetype(e) == AE_IFLNK) {
        return fail(z, AIC_ZIP_EUNSAFE, "unsafe_path",
                    apr_psprintf(z->pool, "the ZIP member \"%s\" has an unsafe name or is a link",
                                 *name ? *name : ""));
    }
    if (archive_entry_is_encrypted(e)) {
        return fail(z, AIC_ZIP_EENCRYPTED, "encrypted_zip",
                    apr_psprintf(z->pool, "the ZIP member \"%s\" is encrypted", *name));
    }
    *regular = archive_entry_filetype(e) == AE_IFREG;
    z->member_in = 0;
    z->member_raw0 = archive_filter_bytes(z->a, -1);
    return APR_SUCCESS;
}

apr_status_t aic_zip_read(aic_zip *z, char *buf, apr_size_t *len)
{
    la_ssize_t n = archive_read_data(z->a, buf, *len);
    apr_off_t raw;

    if (n < 0) {
        *len = 0;
        return fail(z, AIC_ZIP_EINVALID, "invalid_zip",
                    apr_pstrcat(z->pool, "a ZIP member could not be inflated: ",
                                archive_error_string(z->a), NULL));
    }
    *len = (apr_size_t)n;
    z->member_in += n;
    z->total += n;
    if (z->member_in > z->lim.max_member) {
        return fail(z, AIC_ZIP_ELIMIT, "limit_exceeded",
                    "a ZIP member inflates to more than the limit for one member");
    }
    if (z->total > z->lim.max_total) {
        return fail(z, AIC_ZIP_ELIMIT, "limit_exceeded",
                    "the ZIP's members inflate to more than the limit in all");
    }
    raw = archive_filter_bytes(z->a, -1) - z->member_raw0;
    if (z->member_in > RATIO_FROM &&
        z->member_in > (apr_off_t)z->lim.max_ratio * (raw > 0 ? raw : 1)) {
        return fail(z, AIC_ZIP_ELIMIT, "limit_exceeded",
                    apr_psprintf(z->pool,
                                 "a ZIP member inflates more than %d times its size (a zip bomb?)",
                                 z->lim.max_ratio));
    }
    return APR_SUCCESS;
}

apr_off_t aic_zip_bytes_read(aic_zip *z)
{
    return (apr_off_t)archive_filter_bytes(z->a, -1);
}

void aic_zip_error(const aic_zip *z, const char **code, const char **message)
{
    *code = z->code ? z->code : "invalid_zip";
    *message = z->message ? z->message : "the ZIP could not be read";
}

/* ---- writing ---- */

struct aic_zip_out {
    struct archive *a;
    struct archive_entry *e;
    aic_zip_write_fn fn;
    void *baton;
    apr_status_t failed;
};

static la_ssize_t out_write(struct archive *a, void *data, const void *buf, size_t len)
{
    aic_zip_out *z = data;

    z->failed = z->fn(z->baton, buf, len);
    if (z->failed != APR_SUCCESS) {
        archive_set_error(a, EIO, "the client went away");
        return -1;
    }
    return (la_ssize_t)len;
}

static apr_status_t out_release(void *data)
{
    aic_zip_out *z = data;

    if (z->e) {
        archive_entry_free(z->e);
    }
    if (z->a) {
        archive_write_free(z->a);
    }
    return APR_SUCCESS;
}

apr_status_t aic_zip_out_open(aic_zip_out **out, apr_pool_t *p, aic_zip_write_fn fn, void *baton)
{
    aic_zip_out *z = apr_pcalloc(p, sizeof(*z));

    *out = z;
    z->fn = fn;
    z->baton = baton;
    z->a = archive_write_new();
    z->e = archive_entry_new();
    apr_pool_cleanup_register(p, z, out_release, apr_pool_cleanup_null);
    if (!z->a || !z->e || archive_write_set_format_zip(z->a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(z->a, 1) != ARCHIVE_OK ||
        archive_write_open(z->a, z, NULL, out_write, NULL) != ARCHIVE_OK) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t aic_zip_out_member(aic_zip_out *z, const char *name, apr_time_t mtime)
{
    archive_entry_clear(z->e);
    archive_entry_set_pathname(z->e, name);
    archive_entry_set_filetype(z->e, AE_IFREG);
    archive_entry_set_perm(z->e, 0644);
    archive_entry_set_mtime(z->e, (time_t)apr_time_sec(mtime), 0);
    if (archive_write_header(z->a, z->e) != ARCHIVE_OK) {
        return z->failed != APR_SUCCESS ? z->failed : APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t aic_zip_out_write(aic_zip_out *z, const char *buf, apr_size_t len)
{
    if (len && archive_write_data(z->a, buf, len) < 0) {
        return z->failed != APR_SUCCESS ? z->failed : APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t aic_zip_out_close(aic_zip_out *z)
{
    if (archive_write_close(z->a) != ARCHIVE_OK) {
        return z->failed != APR_SUCCESS ? z->failed : APR_EGENERAL;
    }
    return APR_SUCCESS;
}
