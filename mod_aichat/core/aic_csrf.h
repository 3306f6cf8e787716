/* Cross-site request refusal: browsers resend Basic credentials and cookies
 * on their own, so a state-changing request must come from our own origin.
 * Clients that send neither Origin nor Referer (curl, SDKs) are not browsers
 * acting for another site and pass. */
#ifndef AIC_CSRF_H
#define AIC_CSRF_H

/** 1 for methods that may change state (anything but GET, HEAD, OPTIONS). */
int aic_csrf_unsafe_method(const char *method);

/**
 * 1 when a request with these headers may change state.
 * origin/referer: the request headers (NULL when absent).
 * host: the Host header the request was sent to.
 * public_url: the configured public base URL (may be NULL). When set, it
 * alone names the site (scheme, host and port), whatever Host says: a
 * client chooses its Host header, and behind a proxy Host is not the site.
 */
int aic_csrf_allowed(const char *origin, const char *referer, const char *host,
                     const char *public_url);

/**
 * 1 when location is a path on this site that a browser follows as such: it
 * starts with one '/' (not "//" or "/\\", which browsers read as another
 * host), names no scheme, and holds no backslash or control character
 * (browsers drop tabs and newlines, and read '\\' as '/').
 */
int aic_csrf_same_site_path(const char *location);

#endif
