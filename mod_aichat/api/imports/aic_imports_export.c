/* Exports: one conversation as the product's JSON or as Markdown; the whole
 * library (or a selection) as a ZIP streamed while it is written: json/ and
 * markdown/ with a file per conversation, and a ChatGPT-format
 * conversations.json that ChatGPT-format importers (ours too) read. One
 * conversation is in memory at a time. */
#include "imports.h"
#include "httpd/aic_audit.h"

#include <http_protocol.h>
#include <apr_strings.h>

#include "core/aic_valid.h"
#include "core/aic_zip.h"

/* A file name safe in any header and file system: [A-Za-z0-9._-], at most 60. */
static const char *safe_name(apr_pool_t *p, const char *title, const char *id)
{
    char *out = apr_palloc(p, 61), *o = out;

    for (const char *s = title; *s && o < out + 40; s++) {
        char ch = *s;

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_') {
            *o++ = ch;
        } else if (o > out && o[-1] != '-') {
            *o++ = '-';
        }
    }
    while (o > out && o[-1] == '-') {
        o--;
    }
    *o = '\0';
    return apr_psprintf(p, "%s%s%.8s", out, *out ? "-" : "", id);
}

static int not_found(request_rec *r)
{
    return aic_send_error(r, HTTP_NOT_FOUND, "not_found", "No such conversation.", NULL);
}

int aic_imports_export_one(aic_ctx *ctx)
{
    request_rec *r = ctx->r;
    const char *id = apr_table_get(ctx->params, "id");
    const char *format = apr_table_get(aic_query_args(r), "format");
    const char *me = ctx->user->id;
    aic_rows rows;
    apr_status_t rv;
    int md;

    if (!format) {
        format = "json";
    }
    if (strcmp(format, "json") != 0 && strcmp(format, "markdown") != 0) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "format must be json or markdown.", "format");
    }
    if (!aic_valid_uuid(id)) {
        return not_found(r);
    }
    md = strcmp(format, "markdown") == 0;
    rv = aic_db_select(&rows, ctx->db, "imports_export_conv", AIC_ARGS(format, id, me, me));
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if (rows.nrows == 0) {
        return not_found(r);
    }
    apr_table_setn(r->headers_out, "Content-Disposition",
                   apr_psprintf(r->pool, "attachment; filename=\"%s.%s\"",
                                safe_name(r->pool, rows.cells[1], id), md ? "md" : "json"));
    if (!md) {
        return aic_send_json_text(r, HTTP_OK, rows.cells[0]);
    }
    ap_set_content_type(r, "text/markdown; charset=utf-8");
    apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
    ap_set_content_length(r, (apr_off_t)strlen(rows.cells[0]));
    ap_rputs(rows.cells[0], r);
    return OK;
}

/* The archive's bytes go out as they are made. */
typedef struct {
    request_rec *r;
    apr_bucket_brigade *bb;
} out;

static apr_status_t to_client(void *baton, const void *buf, apr_size_t len)
{
    out *o = baton;
    apr_status_t rv = ap_fwrite(o->r->output_filters, o->bb, buf, len);

    if (rv == APR_SUCCESS && o->r->connection->aborted) {
        rv = APR_ECONNABORTED;
    }
    return rv;
}

/* The ids asked for (validated) as an array literal; "" for all. OK or the error sent. */
static int selection(const char **list, request_rec *r)
{
    aic_json *body, *ids;
    const char *s = "";
    int rc;

    *list = "";
    if (!apr_table_get(r->headers_in, "Content-Type") && r->remaining == 0) {
        return OK;
    }
    if ((rc = aic_read_json_object(&body, r)) != OK) {
        return rc;
    }
    if (!aic_json_has(body, "conversation_ids")) {
        return OK;
    }
    ids = aic_json_get(body, "conversation_ids");
    if (aic_json_typeof(ids) != AIC_JSON_ARRAY || aic_json_len(ids) == 0 ||
        aic_json_len(ids) > 100000) {
        return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                              "conversation_ids must be a list of conversation ids.",
                              "conversation_ids"),
               HTTP_UNPROCESSABLE_ENTITY;
    }
    for (apr_size_t i = 0; i < aic_json_len(ids); i++) {
        const char *id = aic_json_cstr(aic_json_at(ids, i));

        if (!id || !aic_valid_uuid(id)) {
            return aic_send_error(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_field",
                                  "conversation_ids must be a list of conversation ids.",
                                  "conversation_ids"),
                   HTTP_UNPROCESSABLE_ENTITY;
        }
        s = apr_pstrcat(r->pool, s, *s ? "," : "", id, NULL);
    }
    *list = apr_pstrcat(r->pool, "{", s, "}", NULL);
    return OK;
}

int aic_imports_export_zip(aic_ctx *ctx)
{
    const char *list;
    int rc;

    if ((rc = selection(&list, ctx->r)) != OK) {
        return rc;
    }
    return aic_imports_export_send(ctx, list);
}

int aic_imports_export_send(aic_ctx *ctx, const char *list)
{
    request_rec *r = ctx->r;
    const char *me = ctx->user->id;
    aic_rows ids;
    aic_zip_out *z;
    out o = {r, NULL};
    apr_pool_t *each;
    apr_status_t rv;

    rv = aic_db_select(&ids, ctx->db, "imports_export_ids",
                       AIC_ARGS(me, list, list[0] ? list : "{}"));
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    if (aic_req_get(r)->audited) {
        rv = APR_SUCCESS;
    } else if ((rv = aic_db_begin(ctx->db)) == APR_SUCCESS &&
               (rv = aic_audit_change(
                    ctx->db, r, HTTP_OK, "export.create", "conversation", NULL, NULL,
                    apr_psprintf(r->pool, "{\"conversations\":%d}", ids.nrows))) == APR_SUCCESS) {
        rv = aic_db_commit(ctx->db);
    } else {
        aic_db_rollback(ctx->db);
    }
    if (rv != APR_SUCCESS) {
        return aic_send_failure(r, rv);
    }
    r->status = HTTP_OK;
    ap_set_content_type(r, "application/zip");
    apr_table_setn(r->headers_out, "X-Request-Id", aic_request_id(r));
    apr_table_setn(r->headers_out, "Content-Disposition",
                   "attachment; filename=\"aichat-export.zip\"");
    o.bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_pool_create(&each, r->pool);
    if (aic_zip_out_open(&z, r->pool, to_client, &o) != APR_SUCCESS) {
        return OK;
    }
    /* json/ and markdown/, a file per conversation; then conversations.json. */
    for (int pass = 0; pass < 3; pass++) {
        static const char *const formats[] = {"json", "markdown", "chatgpt"};

        if (pass == 2 &&
            (aic_zip_out_member(z, "conversations.json", apr_time_now()) != APR_SUCCESS ||
             aic_zip_out_write(z, "[", 1) != APR_SUCCESS)) {
            return OK;
        }
        for (int i = 0; i < ids.nrows; i++) {
            const char *id = ids.cells[i];
            apr_pool_t *was = aic_db_pool_swap(ctx->db, each);
            aic_rows one;

            rv = aic_db_select(&one, ctx->db, "imports_export_conv",
                               AIC_ARGS(formats[pass], id, me, me));
            aic_db_pool_swap(ctx->db, was);
            if (rv != APR_SUCCESS || one.nrows == 0) {
                apr_pool_clear(each);
                continue;
            }
            if (pass < 2) {
                const char *name =
                    apr_psprintf(each, "%s/%s.%s", pass ? "markdown" : "json",
                                 safe_name(each, one.cells[1], id), pass ? "md" : "json");

                rv = aic_zip_out_member(z, name, apr_time_now());
            } else {
                rv = i ? aic_zip_out_write(z, ",", 1) : APR_SUCCESS;
            }
            if (rv == APR_SUCCESS) {
                rv = aic_zip_out_write(z, one.cells[0], strlen(one.cells[0]));
            }
            apr_pool_clear(each);
            if (rv != APR_SUCCESS) {
                return OK;
            }
        }
    }
    if (aic_zip_out_write(z, "]", 1) == APR_SUCCESS && aic_zip_out_close(z) == APR_SUCCESS) {
        ap_fflush(r->output_filters, o.bb);
    }
    return OK;
}
