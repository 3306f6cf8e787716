#include "aic_markdown.h"
#include "aic_html.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <string.h>

#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>

static const char *const extensions[] = {"table", "strikethrough", "autolink", "tagfilter"};

void aic_markdown_init(void)
{
    cmark_gfm_core_extensions_ensure_registered();
}

/* Parse md with the extensions; the caller frees the parser and the tree. */
static cmark_node *parse(cmark_parser **parser, const char *md)
{
    *parser = cmark_parser_new(CMARK_OPT_VALIDATE_UTF8);
    if (!*parser) {
        return NULL;
    }
    for (apr_size_t i = 0; i < sizeof(extensions) / sizeof(*extensions); i++) {
        cmark_syntax_extension *ext = cmark_find_syntax_extension(extensions[i]);

        if (ext) {
            cmark_parser_attach_syntax_extension(*parser, ext);
        }
    }
    cmark_parser_feed(*parser, md ? md : "", md ? strlen(md) : 0);
    return cmark_parser_finish(*parser);
}

/* Copy text cmark allocated into p and free it. */
static const char *take(apr_pool_t *p, char *text)
{
    const char *copy;

    if (!text) {
        return NULL;
    }
    copy = apr_pstrdup(p, text);
    cmark_get_default_mem_allocator()->free(text);
    return copy;
}

/* 1 when md is not to be given to cmark-gfm: too long, or a line with too
 * many table cells (AIC_MARKDOWN_MAX_BYTES, AIC_MARKDOWN_MAX_PIPES). */
static int too_long(const char *md)
{
    int pipes = 0;

    if (!md || strnlen(md, AIC_MARKDOWN_MAX_BYTES + 1) > AIC_MARKDOWN_MAX_BYTES) {
        return md != NULL;
    }
    for (; *md; md++) {
        pipes = *md == '\n' ? 0 : pipes + (*md == '|');
        if (pipes > AIC_MARKDOWN_MAX_PIPES) {
            return 1;
        }
    }
    return 0;
}

/* md (within the limits) as HTML, or md escaped, as written, when not. */
static const char *render(apr_pool_t *p, const char *md)
{
    cmark_parser *parser = NULL;
    cmark_node *doc;
    const char *html = NULL;

    if (too_long(md)) {
        return apr_pstrcat(p, "<pre class=\"plain\">", aic_html_escape(p, md), "</pre>\n", NULL);
    }
    doc = parse(&parser, md);
    if (doc) {
        /* Without CMARK_OPT_UNSAFE, raw HTML and dangerous URLs are dropped. */
        html = take(p, cmark_render_html(doc, CMARK_OPT_DEFAULT,
                                         cmark_parser_get_syntax_extensions(parser)));
        cmark_node_free(doc);
    }
    if (parser) {
        cmark_parser_free(parser);
    }
    return html;
}

/* The fence character when line opens or closes a fenced code block (up to
 * three spaces, then three or more ` or ~), else 0. */
static char fence(const char *line)
{
    int indent = 0, n = 0;

    while (*line == ' ' && indent < 4) {
        line++, indent++;
    }
    while (indent < 4 && (*line == '`' || *line == '~') && line[n] == *line) {
        n++;
    }
    return n >= 3 ? *line : 0;
}

/* 1 when the line at line (up to its newline) holds only spaces and tabs. */
static int blank(const char *line)
{
    line += strspn(line, " \t");
    return *line == '\n' || *line == '\0';
}

const char *aic_markdown_html(apr_pool_t *p, const char *md)
{
    apr_array_header_t *out;
    const char *piece, *block, *line;
    char open = 0;

    if (!md || strnlen(md, AIC_MARKDOWN_MAX_BYTES + 1) <= AIC_MARKDOWN_MAX_BYTES) {
        return render(p, md);
    }
    /* Longer text is rendered in pieces of whole blocks (split at blank lines
     * outside fenced code), each within the limit, so that the cost grows
     * with the length rather than its square. A block longer than the limit
     * is shown escaped, as written. */
    out = apr_array_make(p, 8, sizeof(const char *));
    piece = block = line = md;
    while (*line) {
        const char *next = strchr(line, '\n');
        char f = fence(line);

        next = next ? next + 1 : line + strlen(line);
        if (open ? f == open : f != 0) {
            open = open ? 0 : f;
        }
        if (!open && blank(line)) {
            if (next - piece > AIC_MARKDOWN_MAX_BYTES && block > piece) {
                APR_ARRAY_PUSH(out, const char *) =
                    render(p, apr_pstrmemdup(p, piece, (apr_size_t)(block - piece)));
                piece = block;
            }
            block = next;
        }
        line = next;
    }
    if (line - piece > AIC_MARKDOWN_MAX_BYTES && block > piece) {
        APR_ARRAY_PUSH(out, const char *) =
            render(p, apr_pstrmemdup(p, piece, (apr_size_t)(block - piece)));
        piece = block;
    }
    APR_ARRAY_PUSH(out, const char *) = render(p, piece);
    for (int i = 0; i < out->nelts; i++) {
        if (!APR_ARRAY_IDX(out, i, const char *)) {
            return NULL;
        }
    }
    return apr_array_pstrcat(p, out, 0);
}

const char *aic_markdown_text(apr_pool_t *p, const char *md, apr_size_t max_bytes)
{
    cmark_parser *parser = NULL;
    cmark_node *doc = too_long(md) ? NULL : parse(&parser, md);
    const char *text = too_long(md) ? md : NULL;

    if (doc) {
        text = take(p, cmark_render_plaintext(doc, CMARK_OPT_DEFAULT, 0));
        cmark_node_free(doc);
    }
    if (parser) {
        cmark_parser_free(parser);
    }
    if (!text) {
        return "";
    }
    return aic_text_line(p, text, max_bytes);
}
