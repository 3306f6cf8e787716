/* HTML escaping for server-rendered pages. */
#ifndef AIC_HTML_H
#define AIC_HTML_H

#include <apr_pools.h>

/** s with & < > " ' escaped, safe in text and in quoted attributes; NULL gives "". */
const char *aic_html_escape(apr_pool_t *p, const char *s);

#endif
