#include "aic_curl.h"

#include <curl/curl.h>

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
