/* The only door to libxml2: HTML written elsewhere (an imported Gemini
 * answer) made safe for a server-rendered page. The text is parsed by
 * libxml2's HTML parser, which repairs what is broken, and written again
 * from the tree with an allowlist, as mod_proxy_html rewrites HTML: nothing
 * of the input reaches the output unparsed. */
#ifndef AIC_HTML_CLEAN_H
#define AIC_HTML_CLEAN_H

#include <apr_pools.h>

/**
 * Initialise libxml2. Once, before any thread exists (post_config, or a
 * test's setup): parsing documents is then safe from any thread. Never
 * undone (other modules in the process may use libxml2 too).
 */
void aic_html_clean_init(void);

/**
 * The deepest element written as markup: an element nested deeper keeps its
 * text but loses its tags, so the output nests at most this deep.
 */
#define AIC_HTML_CLEAN_MAX_DEPTH 256

/**
 * The first len bytes of html (UTF-8; a <meta charset> in it is ignored)
 * rewritten, in p:
 * - kept, without any attribute: p br hr h1-h6 strong b em i u s del code
 *   pre blockquote ul ol li table thead tbody tr th td a sup sub span div;
 *   an a keeps its href when its scheme is http, https or mailto (with
 *   rel="nofollow noopener");
 * - dropped with everything in them: script style iframe object template
 *   svg math noscript textarea select head title (and the like: applet
 *   frame frameset noembed noframes); embed, img and the other elements
 *   without content are dropped too;
 * - any other element loses its tags and keeps its content;
 * - comments, processing instructions and doctypes are dropped;
 * - text is written escaped (entities decoded by the parser, then escaped
 *   again).
 * Invalid or truncated HTML is repaired as the parser reads it. Never NULL:
 * "" for empty input; the text as written, escaped, in <pre class="plain">
 * when libxml2 cannot read it to its end (out of memory, or elements nested
 * deeper than 256, where libxml2 stops). The cost grows with the length.
 */
const char *aic_html_clean(apr_pool_t *p, const char *html, apr_size_t len);

/**
 * The text a reader of aic_html_clean's output sees, whitespace collapsed
 * to single spaces, cut at a character boundary to at most max_bytes bytes
 * (with "…" when cut). For previews and descriptions; not HTML-escaped.
 */
const char *aic_html_text(apr_pool_t *p, const char *html, apr_size_t len, apr_size_t max_bytes);

#endif
