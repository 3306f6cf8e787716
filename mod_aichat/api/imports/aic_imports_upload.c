/* POST /imports: the body (the export file itself, or the "file" part of
 * multipart/form-data) is streamed to a file in AIChatImportDir, never held
 * in memory; a small upload is checked at once
 * (the parsers' first pass), so that bad input is refused before any job
 * exists; then the job row and its audit row commit together and the answer
 * is 202 with the job. The worker thread of any process takes it. */
#include "imports.h"
#include "httpd/aic_audit.h"

#include <http_core.h>
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

/* Where the upload's bytes go: the spool file. */
typedef struct {
    aic_ctx *ctx;
    apr_file_t *f;
    apr_off_t size;
    int status; /* the HTTP status of a failed write */
} sink;

static apr_status_t sink_write(void *baton, const char *buf, apr_size_t len)
{
    sink *k = baton;
    apr_status_t rv;

    k->size += (apr_off_t)len;
    if ((rv = apr_file_write_full(k->f, buf, len, NULL)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, k->ctx->r,
                      "mod_aichat: cannot write an upload file in %s", k->ctx->conf->import_dir);
        k->status = HTTP_SERVICE_UNAVAILABLE;
    }
    return rv;
}

/* The largest body taken: AIChatImportMaxSize, or httpd's LimitRequestBody
 * where that is lower (aichat.conf lifts it for the imports). */
static apr_off_t body_limit(aic_ctx *ctx)
{
    apr_off_t httpd = ap_get_limit_req_body(ctx->r);

    return httpd > 0 && httpd < ctx->conf->import_max_size ? httpd : ctx->conf->import_max_size;
}

/* 413 limit_exceeded for a body over the limit; the rest of it is not read
 * (httpd closes the connection after a 413). Returns what the endpoint returns. */
static int too_large(aic_ctx *ctx)
{
    request_rec *r = ctx->r;

    r->connection->keepalive = AP_CONN_CLOSE;
    return aic_send_error(
        r, HTTP_REQUEST_ENTITY_TOO_LARGE, "limit_exceeded",
        apr_psprintf(r->pool,
                     "The upload is larger than the import limit of %" APR_OFF_T_FMT " bytes.",
                     body_limit(ctx)),
        NULL);
}

/* The answer to a failed write of the spool file (k->status). */
static int sink_error(sink *k)
{
    return aic_send_error(k->ctx->r, HTTP_SERVICE_UNAVAILABLE, "storage_unavailable",
                          "The upload cannot be stored now; try again later.", NULL);
}

/* The body's length from its headers (ap_setup_client_block): OK, or an
 * error sent (a declared length over the limit: 413 limit_exceeded). */
static int body_setup(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    int rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);

    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE ||
        (rc == OK && r->remaining > ctx->conf->import_max_size)) {
        too_large(ctx);
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    if (rc != OK) {
        aic_send_error(r, HTTP_BAD_REQUEST, "bad_request",
                       "The upload's length or transfer encoding is not valid.", NULL);
        return HTTP_BAD_REQUEST;
    }
    return OK;
}

/* The body's bytes to the sink: as they come, or through the multipart
 * reader (mp) that hands on those of the file part; the whole body within
 * the import limit. OK, or an HTTP status after the error was sent. */
static int read_body(sink *k, aic_multipart *mp)
{
    request_rec *r = k->ctx->r;
    char *buf = apr_palloc(r->pool, CHUNK);
    const char *code, *message;
    apr_off_t total = 0, max = k->ctx->conf->import_max_size;
    long n;
    int rc;

    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf, CHUNK)) > 0) {
            apr_status_t rv;

            if ((total += n) > max) {
                too_large(k->ctx);
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            rv =
                mp ? aic_multipart_feed(mp, buf, (apr_size_t)n) : sink_write(k, buf, (apr_size_t)n);
            if (rv != APR_SUCCESS && k->status) {
                sink_error(k);
                return k->status;
            }
            if (rv != APR_SUCCESS) {
                aic_multipart_error(mp, &code, &message);
                aic_send_error(r, HTTP_BAD_REQUEST, code, message, NULL);
                return HTTP_BAD_REQUEST;
            }
        }
        /* httpd answered already when its own input filter refused the body
         * (a chunked body over a lower LimitRequestBody). */
        if (n < 0 && r->status != HTTP_OK) {
            return r->status;
        }
        if (n < 0) {
            aic_send_error(r, HTTP_BAD_REQUEST, "bad_request",
                           "The upload could not be read to its end.", NULL);
            return HTTP_BAD_REQUEST;
        }
    }
    if (mp && aic_multipart_finish(mp) != APR_SUCCESS) {
        aic_multipart_error(mp, &code, &message);
        rc = strcmp(code, "missing_file") == 0 ? HTTP_UNPROCESSABLE_ENTITY : HTTP_BAD_REQUEST;
        aic_send_error(r, rc, code, message, NULL);
        return rc;
    }
    return OK;
}

/* Stream the upload into a new file; OK, or an HTTP status after the error
 * was sent. The body is the file itself, or multipart/form-data with a
 * "file" part (whose file name stands in for ?name=). */
static int spool(const char **path, const char **name, apr_off_t *size, aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *ctype = apr_table_get(r->headers_in, "Content-Type");
    char *tmpl = apr_pstrcat(r->pool, ctx->conf->import_dir, "/aichat-import-XXXXXX", NULL);
    sink k = {ctx, NULL, 0, 0};
    aic_multipart *mp = NULL;
    apr_status_t rv;
    int rc;

    *size = 0;
    if (ctype && strncasecmp(ctype, "multipart/", 10) == 0) {
        if (strncasecmp(ctype, "multipart/form-data", 19) != 0) {
            return aic_send_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                                  "Send the export file as the body, or as the \"file\" part of "
                                  "multipart/form-data.",
                                  NULL),
                   HTTP_UNSUPPORTED_MEDIA_TYPE;
        }
        if (!(mp = aic_multipart_create(r->pool, ctype, "file", sink_write, &k))) {
            return aic_send_error(r, HTTP_BAD_REQUEST, "invalid_multipart",
                                  "The multipart/form-data body names no usable boundary.", NULL),
                   HTTP_BAD_REQUEST;
        }
    }
    if ((rc = body_setup(ctx)) != OK) {
        return rc;
    }
    rv = apr_file_mktemp(&k.f, tmpl,
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
    rc = read_body(&k, mp);
    apr_file_close(k.f);
    if (rc == OK && k.size == 0) {
        aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "empty_upload",
                       "The upload is empty: send the export file as the body.", NULL);
        rc = HTTP_UNPROCESSABLE_ENTITY;
    }
    if (rc != OK) {
        apr_file_remove(*path, r->pool);
        return rc;
    }
    *size = k.size;
    if (!*name && mp && aic_multipart_filename(mp)) {
        const char *n = aic_multipart_filename(mp), *slash = strrchr(n, '/');

        n = slash ? slash + 1 : n;
        slash = strrchr(n, '\\');
        n = slash ? slash + 1 : n;
        *name = *n ? apr_pstrndup(r->pool, n, 255) : NULL;
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
    const char *path = NULL, *name = upload_name(r), *format = "", *total = "";
    const char *code, *message, *limits;
    apr_off_t size;
    aic_rows rows;
    apr_status_t rv;

    limits = apr_psprintf(r->pool, "{\"conversations\": %d, \"seconds\": %d}",
                          ctx->conf->import_max_conversations, ctx->conf->import_time_limit);
    if (spool(&path, &name, &size, ctx) != OK) {
        return OK; /* the error was sent */
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
                                    apr_off_t_toa(r->pool, size), format, total, limits));
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
