/* The only door to cmark-gfm: Markdown rendered on the server. */
#ifndef AIC_MARKDOWN_H
#define AIC_MARKDOWN_H

#include <apr_pools.h>

/** Register cmark-gfm's extensions. Once, before any thread exists (post_config). */
void aic_markdown_init(void);

/**
 * The largest Markdown text rendered as Markdown. Debian 12's cmark-gfm
 * (0.29.0.gfm.6) takes time growing with the square of the input, or worse,
 * on the inputs published with the fixes of 0.29.0.gfm.7 to .13 (and one of
 * them makes it abort the process at 80 KB): this size bounds that
 * cost. Longer text is rendered in pieces of whole blocks, each within it;
 * a single block longer than it is shown as it was written, escaped
 * (bench/markdown/pathological.c measures the inputs).
 */
#define AIC_MARKDOWN_MAX_BYTES (8 * 1024)

/**
 * The most '|' on one line of Markdown rendered as Markdown: the table
 * extension's cost grows with columns times rows (GHSA-w4qg-3vf7-m9x5), which
 * the size limit alone leaves at tens of seconds. Text with a longer line is
 * shown as written, escaped.
 */
#define AIC_MARKDOWN_MAX_PIPES 64

/**
 * GitHub-flavoured Markdown (tables, strikethrough, autolinks) as HTML, in p.
 * Raw HTML in the input is never passed through and links or images with
 * unsafe schemes (javascript:, vbscript:, file:, data: other than images)
 * lose their URL. Text over AIC_MARKDOWN_MAX_BYTES is split at blank lines
 * outside fenced code into pieces within it, each rendered on its own (a
 * link reference is then found only in its own piece). A piece over the
 * limit (one block), or with a line of more than AIC_MARKDOWN_MAX_PIPES
 * '|', is not parsed: it comes back escaped, as written, in
 * <pre class="plain">. NULL only when cmark-gfm fails.
 */
const char *aic_markdown_html(apr_pool_t *p, const char *md);

/**
 * The text a reader sees (for text not parsed, see above, the text as
 * written), whitespace collapsed to single spaces, cut at a
 * character boundary to at most max_bytes bytes (with "…" when cut). For
 * previews and descriptions; not HTML-escaped.
 */
const char *aic_markdown_text(apr_pool_t *p, const char *md, apr_size_t max_bytes);

#endif
