/* The only door to cmark-gfm: Markdown rendered on the server. */
#ifndef AIC_MARKDOWN_H
#define AIC_MARKDOWN_H

#include <apr_pools.h>

/** Register cmark-gfm's extensions. Once, before any thread exists (post_config). */
void aic_markdown_init(void);

/**
 * GitHub-flavoured Markdown (tables, strikethrough, autolinks) as HTML, in p.
 * Raw HTML in the input is never passed through and links or images with
 * unsafe schemes (javascript:, vbscript:, file:, data: other than images)
 * lose their URL. NULL only when cmark-gfm fails.
 */
const char *aic_markdown_html(apr_pool_t *p, const char *md);

/**
 * The text a reader sees, whitespace collapsed to single spaces, cut at a
 * character boundary to at most max_bytes bytes (with "…" when cut). For
 * previews and descriptions; not HTML-escaped.
 */
const char *aic_markdown_text(apr_pool_t *p, const char *md, apr_size_t max_bytes);

#endif
