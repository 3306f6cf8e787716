/* HTML escaping for server-rendered pages. */
#ifndef AIC_HTML_H
#define AIC_HTML_H

#include <apr_pools.h>

/** s with & < > " ' escaped, safe in text and in quoted attributes; NULL gives "". */
const char *aic_html_escape(apr_pool_t *p, const char *s);

/** text on one line (each run of white space one space, none at either end),
 * cut at a character boundary to at most max_bytes with "…" when longer. */
const char *aic_text_line(apr_pool_t *p, const char *text, apr_size_t max_bytes);

#endif
