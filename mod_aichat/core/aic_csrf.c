#include "aic_csrf.h"

#include <apr_strings.h>
#include <string.h>

int aic_csrf_unsafe_method(const char *method)
{
    return strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "OPTIONS");
}

/* Length of the authority (host[:port]) of an absolute http(s) URL, and its
 * start in *auth; 0 when url is not one. */
static apr_size_t authority(const char **auth, const char *url)
{
    const char *rest;

    if (!strncasecmp(url, "http://", 7)) {
        rest = url + 7;
    } else if (!strncasecmp(url, "https://", 8)) {
        rest = url + 8;
    } else {
        return 0;
    }
    *auth = rest;
    return strcspn(rest, "/?#");
}

static int same_authority(const char *url, const char *host)
{
    const char *auth;
    apr_size_t n = authority(&auth, url);

    return n > 0 && host && strlen(host) == n && !strncasecmp(auth, host, n);
}

static int same_origin(const char *url, const char *host, const char *public_url)
{
    const char *pub_auth;
    apr_size_t pub_n;

    if (same_authority(url, host)) {
        return 1;
    }
    pub_n = public_url ? authority(&pub_auth, public_url) : 0;
    if (pub_n > 0) {
        char buf[256];

        if (pub_n >= sizeof(buf)) {
            return 0;
        }
        memcpy(buf, pub_auth, pub_n);
        buf[pub_n] = '\0';
        return same_authority(url, buf);
    }
    return 0;
}

int aic_csrf_allowed(const char *origin, const char *referer, const char *host,
                     const char *public_url)
{
    if (origin) {
        /* "null" (sandboxed frames, data: URLs) and anything foreign are refused. */
        return same_origin(origin, host, public_url);
    }
    if (referer && *referer) {
        return same_origin(referer, host, public_url);
    }
    return 1;
}
