/* The only door to libcurl: the module's HTTP client for providers. */
#ifndef AIC_CURL_H
#define AIC_CURL_H

#include <httpd.h>

/** Global libcurl initialisation; call in post_config, before any thread exists. */
apr_status_t aic_curl_global_init(apr_pool_t *pconf);

/** Per child process: the mutex of the idle handles kept between calls. */
void aic_curl_child_init(apr_pool_t *pchild);

/**
 * 1 when an HTTP server answers at url (any status counts: it is reachable),
 * 0 on a connection error or after timeout_s seconds.
 */
int aic_curl_reachable(const char *url, int timeout_s);

/** Receives the body of a successful (2xx) upstream response as it arrives;
 * anything but APR_SUCCESS stops the transfer. */
typedef apr_status_t (*aic_curl_body_fn)(void *ctx, const char *data, apr_size_t len);

typedef struct {
    const char *url;
    const apr_array_header_t *headers; /**< "Name: value" strings */
    const char *body;                  /**< POST body (JSON) */
    int connect_timeout;               /**< seconds */
    int timeout;                       /**< seconds for the whole call */
    aic_curl_body_fn on_body;
    void *ctx;
} aic_curl_call;

typedef struct {
    apr_status_t rv;         /**< APR_SUCCESS, APR_TIMEUP, APR_ECONNREFUSED, APR_ECONNABORTED
                                  (stopped by its caller), on_body's status when it stopped
                                  the transfer, or APR_EGENERAL */
    int status;              /**< HTTP status, 0 when none arrived */
    const char *retry_after; /**< the Retry-After header, or NULL */
    const char *error_body;  /**< the body of a non-2xx answer (at most 64 KB) */
    apr_size_t error_len;
} aic_curl_result;

/**
 * POST call->body to call->url. A 2xx body goes to on_body as it arrives;
 * another status's body is kept in out->error_body. Allocates from p (give
 * each call its own sub-pool). The whole transfer in one call: aic_curl_start,
 * aic_curl_step until it ends, aic_curl_end.
 */
void aic_curl_post(aic_curl_result *out, apr_pool_t *p, const aic_curl_call *call);

/** A transfer run step by step, so that its caller gets control back
 * between the pieces of a body and while it waits for one (to store
 * something once the first text is out, or to see whether its own client
 * is still there) and never has to do it inside a callback. */
typedef struct aic_curl_transfer aic_curl_transfer;

/**
 * Begin the POST of call (as aic_curl_post) into *x, allocated from p; no
 * byte moves before the first aic_curl_step. call must outlive the
 * transfer. APR_ENOMEM when no handle could be had (end it all the same).
 */
apr_status_t aic_curl_start(aic_curl_transfer **x, apr_pool_t *p, const aic_curl_call *call);

/**
 * Move the transfer on until on_body has been given at least one piece of
 * the body, about a second passed without one, or the transfer ended.
 * Returns APR_INCOMPLETE while it goes on, APR_SUCCESS once it ended (for
 * whatever reason: aic_curl_end tells).
 */
apr_status_t aic_curl_step(aic_curl_transfer *x);

/**
 * The transfer's result into *out; stops it when it has not ended (out->rv
 * APR_ECONNABORTED) and gives its handle back. Call it once per
 * aic_curl_start, whatever it returned.
 */
void aic_curl_end(aic_curl_result *out, aic_curl_transfer *x);

#endif
