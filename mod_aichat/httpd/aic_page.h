/* Server-rendered admin pages: the shared frame, navigation and error page.
 * Every dynamic value goes through aic_e(). */
#ifndef AIC_PAGE_H
#define AIC_PAGE_H

#include <httpd.h>

/** HTML-escaped s (also ' and "), in r's pool; NULL gives "". */
const char *aic_e(request_rec *r, const char *s);
/** Start a page: headers, head, the navigation with `active` (a nav key) marked. */
void aic_page_begin(request_rec *r, int status, const char *title, const char *active);
/** Close the page. Returns OK for the handler. */
int aic_page_end(request_rec *r);
/** A whole error page with status and message. Returns OK for the handler. */
int aic_page_error(request_rec *r, int status, const char *message);
/** 303 See Other to location (a path under the admin area). Returns OK. */
int aic_page_redirect(request_rec *r, const char *location);

/**
 * The fields of an application/x-www-form-urlencoded POST (at most 32, 64 KB).
 * Returns NULL (after sending an error page) when the body is not such a form.
 */
apr_table_t *aic_page_form(request_rec *r);

#endif
