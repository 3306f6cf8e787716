#include "aic_curl.h"

#include <curl/curl.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <string.h>
#include <strings.h>

static apr_status_t global_cleanup(void *data)
{
    curl_global_cleanup();
    return APR_SUCCESS;
}

apr_status_t aic_curl_global_init(apr_pool_t *pconf)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return APR_EGENERAL;
    }
    apr_pool_cleanup_register(pconf, NULL, global_cleanup, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

/* Per child process: easy handles kept between provider calls, so that a
 * call reuses a handle's open connection to its provider (keep-alive), its
 * DNS cache and its buffers instead of building them all again. */
#define IDLE_MAX 16

static apr_thread_mutex_t *idle_lock;
static CURL *idle[IDLE_MAX];
static int nidle;

static apr_status_t idle_cleanup(void *data)
{
    while (nidle > 0) {
        curl_easy_cleanup(idle[--nidle]);
    }
    idle_lock = NULL;
    return APR_SUCCESS;
}

void aic_curl_child_init(apr_pool_t *pchild)
{
    nidle = 0;
    if (apr_thread_mutex_create(&idle_lock, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS) {
        idle_lock = NULL;
        return;
    }
    apr_pool_cleanup_register(pchild, NULL, idle_cleanup, apr_pool_cleanup_null);
}

/* An idle handle reset to defaults (connections and caches kept), or a new one. */
static CURL *handle_take(void)
{
    CURL *h = NULL;

    if (idle_lock) {
        apr_thread_mutex_lock(idle_lock);
        if (nidle > 0) {
            h = idle[--nidle];
        }
        apr_thread_mutex_unlock(idle_lock);
    }
    if (h) {
        curl_easy_reset(h);
        return h;
    }
    return curl_easy_init();
}

/* Keep a handle whose call ended cleanly; close any other, or one too many. */
static void handle_give_back(CURL *h, int clean)
{
    if (h && clean && idle_lock) {
        apr_thread_mutex_lock(idle_lock);
        if (nidle < IDLE_MAX) {
            idle[nidle++] = h;
            h = NULL;
        }
        apr_thread_mutex_unlock(idle_lock);
    }
    if (h) {
        curl_easy_cleanup(h);
    }
}

/* Discard the body of a probe. */
static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
    return size * n;
}

int aic_curl_reachable(const char *url, int timeout_s)
{
    CURL *h = curl_easy_init();
    CURLcode rc;

    if (!h) {
        return 0;
    }
    /* No signals in a threaded server; only http(s); a HEAD request. */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)timeout_s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)timeout_s);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    return rc == CURLE_OK;
}

#define ERROR_BODY_MAX (64 * 1024)

typedef struct {
    const aic_curl_call *call;
    aic_curl_result *out;
    apr_pool_t *p;
    CURL *h;
    char *error_buf;
    apr_status_t stopped; /* set when a callback stopped the transfer */
} transfer;

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    transfer *t = arg;
    size_t len = size * n;

    if (len > 12 && !strncasecmp(data, "Retry-After:", 12)) {
        const char *v = data + 12;
        size_t vlen = len - 12;

        while (vlen && (*v == ' ' || *v == '\t')) {
            v++;
            vlen--;
        }
        while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ')) {
            vlen--;
        }
        t->out->retry_after = apr_pstrmemdup(t->p, v, vlen);
    }
    return len;
}

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
    transfer *t = arg;
    size_t len = size * n;
    long status = 0;

    if (!t->out->status) {
        curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
        t->out->status = (int)status;
    }
    if (t->out->status < 200 || t->out->status > 299) {
        /* Keep an error body (capped) for the provider's message. */
        apr_size_t room = ERROR_BODY_MAX - t->out->error_len;
        apr_size_t take = len < room ? len : room;

        if (!t->error_buf) {
            t->error_buf = apr_palloc(t->p, ERROR_BODY_MAX + 1);
        }
        memcpy(t->error_buf + t->out->error_len, data, take);
        t->out->error_len += take;
        t->error_buf[t->out->error_len] = '\0';
        t->out->error_body = t->error_buf;
        return len;
    }
    if ((t->stopped = t->call->on_body(t->call->ctx, data, len)) != APR_SUCCESS) {
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    transfer *t = arg;

    if (t->call->should_abort && t->call->should_abort(t->call->ctx)) {
        t->stopped = APR_ECONNABORTED;
        return 1;
    }
    return 0;
}

void aic_curl_post(aic_curl_result *out, apr_pool_t *p, const aic_curl_call *call)
{
    transfer t = {call, out, p, NULL, NULL, APR_SUCCESS};
    struct curl_slist *headers = NULL;
    CURLcode rc;

    memset(out, 0, sizeof(*out));
    if (!(t.h = handle_take())) {
        out->rv = APR_ENOMEM;
        return;
    }
    /* Without "Expect:", libcurl asks before sending a large body (over 1 MB:
     * a long context) and waits for the provider's 100 Continue, up to a
     * second when none comes: one round trip or a second lost per call. */
    if (!(headers = curl_slist_append(NULL, "Expect:"))) {
        out->rv = APR_ENOMEM;
        goto leave;
    }
    for (int i = 0; i < call->headers->nelts; i++) {
        struct curl_slist *more =
            curl_slist_append(headers, APR_ARRAY_IDX(call->headers, i, const char *));

        if (!more) {
            out->rv = APR_ENOMEM;
            goto leave;
        }
        headers = more;
    }
    curl_easy_setopt(t.h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(t.h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(t.h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(t.h, CURLOPT_URL, call->url);
    curl_easy_setopt(t.h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(t.h, CURLOPT_POSTFIELDS, call->body);
    curl_easy_setopt(t.h, CURLOPT_CONNECTTIMEOUT, (long)call->connect_timeout);
    curl_easy_setopt(t.h, CURLOPT_TIMEOUT, (long)call->timeout);
    curl_easy_setopt(t.h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(t.h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(t.h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(t.h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(t.h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(t.h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(t.h, CURLOPT_XFERINFODATA, &t);
    rc = curl_easy_perform(t.h);
    if (!out->status) {
        long status = 0;

        curl_easy_getinfo(t.h, CURLINFO_RESPONSE_CODE, &status);
        out->status = (int)status;
    }
    switch (rc) {
    case CURLE_OK:
        out->rv = APR_SUCCESS;
        break;
    case CURLE_OPERATION_TIMEDOUT:
        out->rv = APR_TIMEUP;
        break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        out->rv = APR_ECONNREFUSED;
        break;
    case CURLE_WRITE_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
        out->rv = t.stopped ? t.stopped : APR_EGENERAL;
        break;
    default:
        out->rv = APR_EGENERAL;
    }
leave:
    /* The handle keeps a pointer to the header list until its next reset. */
    curl_easy_setopt(t.h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    handle_give_back(t.h, out->rv == APR_SUCCESS);
}
