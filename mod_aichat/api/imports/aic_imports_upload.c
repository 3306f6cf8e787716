/* POST /imports: the body (the export file itself) is streamed to a file in
 * AIChatImportDir, never held in memory; a small upload is checked at once
 * (the parsers' first pass), so that bad input is refused before any job
 * exists; then the job row and its audit row commit together and the answer
 * is 202 with the job. The worker thread of any process takes it. */
#include "imports.h"
#include "httpd/aic_audit.h"

#include <http_protocol.h>
#include <http_log.h>
#include <apr_file_io.h>
#include <apr_strings.h>

APLOG_USE_MODULE(aichat);

#define CHUNK 65536

/* The file name a client gave (?name=), reduced to its last segment. */
static const char *upload_name(request_rec *r)
{
    const char *name = apr_table_get(aic_query_args(r), "name"), *slash;

    if (!name || !*name) {
        return NULL;
    }
    slash = strrchr(name, '/');
    name = slash ? slash + 1 : name;
    return apr_pstrndup(r->pool, name, 255);
}

/* Stream the body into a new file; OK, or an HTTP status after the error was sent. */
static int spool(apr_file_t **out, const char **path, apr_off_t *size, aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *ctype = apr_table_get(r->headers_in, "Content-Type");
    char *tmpl = apr_pstrcat(r->pool, ctx->conf->import_dir, "/aichat-import-XXXXXX", NULL);
    char *buf;
    apr_status_t rv;
    long n;
    int rc;

    *size = 0;
    if (ctype && strncasecmp(ctype, "multipart/", 10) == 0) {
        return aic_send_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                              "Send the export file itself as the request body.", NULL),
               HTTP_UNSUPPORTED_MEDIA_TYPE;
    }
    if (r->remaining > ctx->conf->import_max_size) {
        return aic_send_error(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "limit_exceeded",
                              "The upload is larger than the import limit.", NULL),
               HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    rv = apr_file_mktemp(out, tmpl,
                         APR_FOPEN_CREATE | APR_FOPEN_READ | APR_FOPEN_WRITE | APR_FOPEN_EXCL |
                             APR_FOPEN_BINARY,
                         r->pool);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "mod_aichat: cannot create an upload file in %s (AIChatImportDir)",
                      ctx->conf->import_dir);
        return aic_send_error(r, HTTP_SERVICE_UNAVAILABLE, "storage_unavailable",
                              "The upload cannot be stored now; try again later.", NULL),
               HTTP_SERVICE_UNAVAILABLE;
    }
    *path = tmpl;
    buf = apr_palloc(r->pool, CHUNK);
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf, CHUNK)) > 0) {
            apr_size_t len = (apr_size_t)n;

            *size += n;
            if (*size > ctx->conf->import_max_size) {
                apr_file_close(*out);
                apr_file_remove(*path, r->pool);
                return aic_send_error(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "limit_exceeded",
                                      "The upload is larger than the import limit.", NULL),
                       HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            if ((rv = apr_file_write_full(*out, buf, len, NULL)) != APR_SUCCESS) {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                              "mod_aichat: cannot write an upload file in %s",
                              ctx->conf->import_dir);
                apr_file_close(*out);
                apr_file_remove(*path, r->pool);
                return aic_send_error(r, HTTP_SERVICE_UNAVAILABLE, "storage_unavailable",
                                      "The upload cannot be stored now; try again later.", NULL),
                       HTTP_SERVICE_UNAVAILABLE;
            }
        }
        if (n < 0) {
            apr_file_close(*out);
            apr_file_remove(*path, r->pool);
            return aic_send_error(r, HTTP_BAD_REQUEST, "bad_request",
                                  "The upload could not be read to its end.", NULL),
                   HTTP_BAD_REQUEST;
        }
    }
    apr_file_close(*out);
    if (*size == 0) {
        apr_file_remove(*path, r->pool);
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "empty_upload",
                              "The upload is empty: send the export file as the body.", NULL),
               HTTP_UNPROCESSABLE_ENTITY;
    }
    return OK;
}

/* The status of an upload refused by the first pass. */
static int refused_status(const char *code)
{
    return strcmp(code, "limit_exceeded") == 0 ? HTTP_REQUEST_ENTITY_TOO_LARGE
                                               : HTTP_UNPROCESSABLE_ENTITY;
}

int aic_imports_upload(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    apr_file_t *f = NULL;
    const char *path = NULL, *name = upload_name(r), *format = "", *total = "";
    const char *code, *message;
    apr_off_t size;
    aic_rows rows;
    apr_status_t rv;
    int rc;

    if ((rc = spool(&f, &path, &size, ctx)) != OK) {
        return rc;
    }
    if (size <= AIC_IMPORT_CHECK_NOW) {
        apr_array_header_t *members;
        int count = 0;

        if (aic_import_file_scan(&members, &code, &message, r->pool, path, name) != APR_SUCCESS) {
            apr_file_remove(path, r->pool);
            return aic_send_error(r, refused_status(code), code, message, NULL);
        }
        for (int i = 0; i < members->nelts; i++) {
            const aic_import_member *m = &APR_ARRAY_IDX(members, i, aic_import_member);

            if (m->format != AIC_IMPORT_UNKNOWN) {
                format = aic_import_source(m->format);
                count += m->count;
            }
        }
        total = apr_itoa(r->pool, count);
    }
    rv = aic_db_begin(ctx->db);
    if (rv == APR_SUCCESS) {
        rv = aic_db_select(&rows, ctx->db, "imports_create",
                           AIC_ARGS(ctx->user->id, name ? name : "", path,
                                    apr_off_t_toa(r->pool, size), format, total));
    }
    if (rv == APR_SUCCESS && rows.nrows == 1) {
        rv = aic_audit_change(ctx->db, r, HTTP_ACCEPTED, "import.create", "import_job",
                              rows.cells[1], NULL, rows.cells[0]);
    }
    if (rv == APR_SUCCESS) {
        rv = aic_db_commit(ctx->db);
    } else {
        aic_db_rollback(ctx->db);
    }
    if (rv != APR_SUCCESS) {
        apr_file_remove(path, r->pool);
        return aic_send_failure(r, rv);
    }
    aic_imports_wake();
    apr_table_setn(
        r->headers_out, "Location",
        apr_pstrcat(r->pool, ctx->conf->base_uri, "/api/v1/imports/", rows.cells[1], NULL));
    return aic_send_json_text(r, HTTP_ACCEPTED, rows.cells[0]);
}
