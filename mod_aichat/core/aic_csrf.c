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

/* The length of the scheme of an absolute http(s) URL ("http" or "https"),
 * 0 when url is not one. */
static apr_size_t scheme(const char *url)
{
    return !strncasecmp(url, "http://", 7) ? 4 : !strncasecmp(url, "https://", 8) ? 5 : 0;
}

/* The authority of url without the default port of its scheme, into buf. */
static const char *site_authority(char *buf, apr_size_t size, const char *url)
{
    const char *auth;
    apr_size_t n = authority(&auth, url), s = scheme(url);
    const char *port = s == 5 ? ":443" : ":80";

    if (n == 0 || n >= size) {
        return NULL;
    }
    if (n > strlen(port) && !strncmp(auth + n - strlen(port), port, strlen(port))) {
        n -= strlen(port);
    }
    memcpy(buf, auth, n);
    buf[n] = '\0';
    return buf;
}

/* url and the public URL name the same origin: scheme, host and port. */
static int public_origin(const char *url, const char *public_url)
{
    char mine[256], theirs[256];
    const char *a = site_authority(mine, sizeof(mine), public_url),
               *b = site_authority(theirs, sizeof(theirs), url);

    return a && b && scheme(url) == scheme(public_url) && !strcasecmp(a, b);
}

static int same_origin(const char *url, const char *host, const char *public_url)
{
    if (public_url && *public_url) {
        return public_origin(url, public_url);
    }
    return same_authority(url, host);
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

int aic_csrf_same_site_path(const char *location)
{
    if (!location || location[0] != '/' || location[1] == '/' || location[1] == '\\') {
        return 0;
    }
    for (const unsigned char *c = (const unsigned char *)location; *c; c++) {
        if (*c < 0x20 || *c == 0x7F || *c == '\\') {
            return 0;
        }
    }
    return 1;
}
