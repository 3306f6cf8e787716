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

/* Per child process: handles kept between provider calls, so that a call
 * reuses an open connection to its provider (keep-alive), the DNS cache and
 * the buffers instead of building them all again. A transfer runs on an easy
 * handle inside its own multi handle, which holds those connections: the two
 * are kept as a pair. */
#define IDLE_MAX 16

typedef struct {
    CURL *easy;
    CURLM *multi;
} handle;

static apr_thread_mutex_t *idle_lock;
static handle idle[IDLE_MAX];
static int nidle;

static void handle_close(handle h)
{
    if (h.easy) {
        curl_easy_cleanup(h.easy);
    }
    if (h.multi) {
        curl_multi_cleanup(h.multi);
    }
}

static apr_status_t idle_cleanup(void *data)
{
    while (nidle > 0) {
        handle_close(idle[--nidle]);
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

/* An idle pair, the easy handle reset to defaults (connections and caches
 * kept), or a new one; 0 when none could be made. */
static int handle_take(handle *h)
{
    int found = 0;

    if (idle_lock) {
        apr_thread_mutex_lock(idle_lock);
        if (nidle > 0) {
            *h = idle[--nidle];
            found = 1;
        }
        apr_thread_mutex_unlock(idle_lock);
    }
    if (found) {
        curl_easy_reset(h->easy);
        return 1;
    }
    h->easy = curl_easy_init();
    h->multi = curl_multi_init();
    if (!h->easy || !h->multi) {
        handle_close(*h);
        h->easy = NULL;
        h->multi = NULL;
        return 0;
    }
    return 1;
}

/* Keep a pair whose call ended cleanly; close any other, or one too many. */
static void handle_give_back(handle h, int clean)
{
    if (h.easy && clean && idle_lock) {
        apr_thread_mutex_lock(idle_lock);
        if (nidle < IDLE_MAX) {
            idle[nidle++] = h;
            h.easy = NULL;
            h.multi = NULL;
        }
        apr_thread_mutex_unlock(idle_lock);
    }
    handle_close(h);
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
/* How long a step waits for the provider before it gives its caller control back. */
#define POLL_MS 1000

struct aic_curl_transfer {
    const aic_curl_call *call;
    aic_curl_result out;
    apr_pool_t *p;
    handle h;
    struct curl_slist *headers;
    char *error_buf;
    apr_status_t stopped; /* set when on_body stopped the transfer */
    int added;            /* the easy handle is in its multi handle */
    int delivered;        /* on_body had a piece of the body in this step */
    int ended;
    CURLcode rc; /* how it ended */
};

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    aic_curl_transfer *t = arg;
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
        t->out.retry_after = apr_pstrmemdup(t->p, v, vlen);
    }
    return len;
}

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
    aic_curl_transfer *t = arg;
    size_t len = size * n;
    long status = 0;

    if (!t->out.status) {
        curl_easy_getinfo(t->h.easy, CURLINFO_RESPONSE_CODE, &status);
        t->out.status = (int)status;
    }
    if (t->out.status < 200 || t->out.status > 299) {
        /* Keep an error body (capped) for the provider's message. */
        apr_size_t room = ERROR_BODY_MAX - t->out.error_len;
        apr_size_t take = len < room ? len : room;

        if (!t->error_buf) {
            t->error_buf = apr_palloc(t->p, ERROR_BODY_MAX + 1);
        }
        memcpy(t->error_buf + t->out.error_len, data, take);
        t->out.error_len += take;
        t->error_buf[t->out.error_len] = '\0';
        t->out.error_body = t->error_buf;
        return len;
    }
    t->delivered = 1;
    if ((t->stopped = t->call->on_body(t->call->ctx, data, len)) != APR_SUCCESS) {
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    return len;
}

apr_status_t aic_curl_start(aic_curl_transfer **x, apr_pool_t *p, const aic_curl_call *call)
{
    aic_curl_transfer *t = apr_pcalloc(p, sizeof(*t));
    CURL *h;

    *x = t;
    t->call = call;
    t->p = p;
    t->ended = 1; /* until the transfer is under way */
    t->out.rv = APR_ENOMEM;
    if (!handle_take(&t->h)) {
        return APR_ENOMEM;
    }
    h = t->h.easy;
    /* Without "Expect:", libcurl asks before sending a large body (over 1 MB:
     * a long context) and waits for the provider's 100 Continue, up to a
     * second when none comes: one round trip or a second lost per call. */
    if (!(t->headers = curl_slist_append(NULL, "Expect:"))) {
        return APR_ENOMEM;
    }
    for (int i = 0; i < call->headers->nelts; i++) {
        struct curl_slist *more =
            curl_slist_append(t->headers, APR_ARRAY_IDX(call->headers, i, const char *));

        if (!more) {
            return APR_ENOMEM;
        }
        t->headers = more;
    }
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_URL, call->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, call->body);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)call->connect_timeout);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)call->timeout);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    if (curl_multi_add_handle(t->h.multi, h) != CURLM_OK) {
        return APR_ENOMEM;
    }
    t->added = 1;
    t->ended = 0;
    t->out.rv = APR_SUCCESS;
    return APR_SUCCESS;
}

/* How the easy handle's transfer ended, once the multi handle runs none. */
static CURLcode done_code(aic_curl_transfer *t)
{
    CURLMsg *msg;
    int left = 0;

    while ((msg = curl_multi_info_read(t->h.multi, &left))) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == t->h.easy) {
            return msg->data.result;
        }
    }
    return CURLE_FAILED_INIT;
}

apr_status_t aic_curl_step(aic_curl_transfer *t)
{
    int running = 0, waited = 0;

    t->delivered = 0;
    while (!t->ended) {
        if (curl_multi_perform(t->h.multi, &running) != CURLM_OK) {
            t->rc = CURLE_FAILED_INIT;
            t->ended = 1;
        } else if (!running) {
            t->rc = done_code(t);
            t->ended = 1;
        } else if (t->delivered || waited) {
            return APR_INCOMPLETE;
        } else if (curl_multi_poll(t->h.multi, NULL, 0, POLL_MS, NULL) != CURLM_OK) {
            t->rc = CURLE_FAILED_INIT;
            t->ended = 1;
        } else {
            waited = 1;
        }
    }
    return APR_SUCCESS;
}

void aic_curl_end(aic_curl_result *out, aic_curl_transfer *t)
{
    if (t->added && !t->ended) {
        t->out.rv = APR_ECONNABORTED; /* stopped by its caller */
    } else if (t->added) {
        switch (t->rc) {
        case CURLE_OK:
            t->out.rv = APR_SUCCESS;
            break;
        case CURLE_OPERATION_TIMEDOUT:
            t->out.rv = APR_TIMEUP;
            break;
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
            t->out.rv = APR_ECONNREFUSED;
            break;
        case CURLE_WRITE_ERROR:
            t->out.rv = t->stopped ? t->stopped : APR_EGENERAL;
            break;
        default:
            t->out.rv = APR_EGENERAL;
        }
    }
    if (t->added && !t->out.status) {
        long status = 0;

        curl_easy_getinfo(t->h.easy, CURLINFO_RESPONSE_CODE, &status);
        t->out.status = (int)status;
    }
    if (t->added) {
        curl_multi_remove_handle(t->h.multi, t->h.easy);
        t->added = 0;
    }
    /* The handle keeps a pointer to the header list until its next reset. */
    if (t->h.easy) {
        curl_easy_setopt(t->h.easy, CURLOPT_HTTPHEADER, NULL);
    }
    curl_slist_free_all(t->headers);
    t->headers = NULL;
    handle_give_back(t->h, t->out.rv == APR_SUCCESS);
    t->h.easy = NULL;
    t->h.multi = NULL;
    *out = t->out;
}

void aic_curl_post(aic_curl_result *out, apr_pool_t *p, const aic_curl_call *call)
{
    aic_curl_transfer *t = NULL;

    if (aic_curl_start(&t, p, call) == APR_SUCCESS) {
        while (aic_curl_step(t) == APR_INCOMPLETE) {
        }
    }
    aic_curl_end(out, t);
}
