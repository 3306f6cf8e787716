/* Request helpers: per-request state, request ids, JSON and error output,
 * JSON body input with size and media-type limits. */
#ifndef AIC_HTTP_H
#define AIC_HTTP_H

#include <httpd.h>

#include "core/aic_json.h"

typedef struct aic_user aic_user;
typedef struct aic_db aic_db;

/** What the module knows about one request (kept on the original request). */
typedef struct {
    const char *request_id;
    aic_user *user;    /**< loaded by the handler or the authz provider */
    aic_db *db;        /**< acquired at most once per request */
    int audited;       /**< its audit row was written with a change */
    int db_down;       /**< the database was unreachable */
    const char *notes; /**< JSON metadata for the audit row, or NULL */
    int openai;        /**< errors in OpenAI's format (the OpenAI-compatible API) */
} aic_req;

/** The module's state for r (created on first use; shared with internal redirects). */
aic_req *aic_req_get(request_rec *r);
/** Note that the database was unreachable while serving r. */
void aic_req_mark_db_down(request_rec *r);
/** The request id, also sent as X-Request-Id. */
const char *aic_request_id(request_rec *r);

/** Send body with status; returns OK for the handler to return. */
int aic_send_json(request_rec *r, int status, const aic_json *body);
/** Send already-serialised JSON text. */
int aic_send_json_text(request_rec *r, int status, const char *json);
/** Before a response with status: a 503 says when to come back (Retry-After:
 * 5, unless one is set already). Every JSON answer and page goes through it. */
void aic_retry_later(request_rec *r, int status);
/** Send the error envelope; field may be NULL. A request marked openai gets
 * OpenAI's instead: {"error":{"message","type","param","code"}}, the type
 * following the status. */
int aic_send_error(request_rec *r, int status, const char *code, const char *message,
                   const char *field);
/**
 * The `after` of a list whose statement issues cursors (core/aic_cursor) of
 * kind naming a row by its id and a time in microseconds since the epoch:
 * set into args as after_id and after_ts. OK when it is one (or absent or
 * empty: the first page); else 422 invalid_field `after`, sent, and its status.
 */
int aic_list_after(request_rec *r, aic_json *args, const char *after, const char *kind);
/** OpenAI's error body, {"error":{"message","type","param","code"}}, the type
 * following the status ("rate_limit_error" for 429, ...), as aic_send_error
 * sends it for a request marked openai (and a stream's last event carries it). */
aic_json *aic_openai_error_body(apr_pool_t *p, int status, const char *code, const char *message,
                                const char *field);
/** The error a client gets when the database cannot answer (503). */
#define AIC_DB_UNAVAILABLE_CODE    "database_unavailable"
#define AIC_DB_UNAVAILABLE_MESSAGE "The database is unavailable; try again shortly."

/** 503 database_unavailable (or schema_outdated) with Retry-After, from an aic_db status. */
int aic_send_db_error(request_rec *r, apr_status_t rv);
/** For a failed aic_db call: 503 as aic_send_db_error when the database is
 * unavailable or too old, else 500 internal_error. */
int aic_send_failure(request_rec *r, apr_status_t rv);

/**
 * Read a JSON object body. Returns OK with *out set, or an HTTP status after
 * having sent the error (413 too large, 415 not application/json, 400
 * malformed or not an object).
 */
int aic_read_json_object(aic_json **out, request_rec *r);

/** The query string as a table, decoded as HTML forms encode it ('+' is a
 * space); pairs that do not decode are skipped. */
apr_table_t *aic_query_args(request_rec *r);

/**
 * OK when body has only allowed keys (NULL-terminated); otherwise sends 422
 * unknown_field naming the first other key ("not a field of a WHAT", or
 * "cannot be changed here" when what is NULL) and returns its status.
 */
int aic_refuse_unknown_fields(request_rec *r, const aic_json *body, const char *const *allowed,
                              const char *what);

/**
 * 1 when r's client has gone: its connection was aborted, or (HTTP/1.x) a
 * read that does not wait finds the connection closed or reset. Reads
 * nothing away (data the client sent next stays for httpd) and marks the
 * connection aborted when it finds it gone. An HTTP/2 stream is known gone
 * only once httpd marked it aborted. A client that closed only its sending
 * half counts as gone.
 */
int aic_client_gone(request_rec *r);

/** The original request (before internal redirects). */
request_rec *aic_original(request_rec *r);

/** The name SetHandler gave r's location, or NULL. */
const char *aic_location_handler(request_rec *r);
/** 1 when SetHandler gave r's location one of the module's handlers. */
int aic_location_is_ours(request_rec *r);

#endif
