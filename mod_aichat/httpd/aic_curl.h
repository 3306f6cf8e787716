/* The only door to libcurl: the module's HTTP client for providers. */
#ifndef AIC_CURL_H
#define AIC_CURL_H

#include <httpd.h>

/** Global libcurl initialisation; call in post_config, before any thread exists. */
apr_status_t aic_curl_global_init(apr_pool_t *pconf);

/**
 * 1 when an HTTP server answers at url (any status counts: it is reachable),
 * 0 on a connection error or after timeout_s seconds.
 */
int aic_curl_reachable(const char *url, int timeout_s);

#endif
