#include "aic_html_clean.h"
#include "aic_html.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <limits.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

/* Read leniently (what is broken is repaired), with nothing from outside:
 * no network, no error output, UTF-8 whatever a <meta> in the text says, no
 * made-up doctype.
 * Blank text is kept: HTML_PARSE_NOBLANKS would drop the space between two
 * inline elements ("<b>a</b> <i>b</i>"). */
#define PARSE_OPTIONS                                                                              \
    (HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |           \
     HTML_PARSE_NODEFDTD | HTML_PARSE_IGNORE_ENC | HTML_PARSE_COMPACT)

/* What becomes of an element. */
typedef enum {
    UNWRAP, /* its tags dropped, its content kept */
    KEEP,   /* written with its content */
    EMPTY,  /* written, a void element (no content, no end tag) */
    DROP    /* dropped with its content */
} fate;

static const char *const kept[] = {
    "p",     "h1", "h2",  "h3",   "h4",  "h5",         "h6",  "strong", "b",  "em",    "i",
    "u",     "s",  "del", "code", "pre", "blockquote", "ul",  "ol",     "li", "table", "thead",
    "tbody", "tr", "th",  "td",   "a",   "sup",        "sub", "span",   "div"};
static const char *const empty[] = {"br", "hr"};
/* Code, styles, embedded documents and form values: nothing in them is text
 * for a reader (and a raw-text element must never be written back). Not
 * embed: it has no content, but libxml2 2.9 reads what follows it as its
 * content, so it is only unwrapped (as every element not named here). */
static const char *const dropped[] = {"script",  "style",   "iframe",   "object",   "template",
                                      "svg",     "math",    "noscript", "textarea", "select",
                                      "head",    "title",   "applet",   "frame",    "frameset",
                                      "noembed", "noframes"};
/* Inline elements: no word break around them in the text of aic_html_text. */
static const char *const inline_elements[] = {
    "a",    "b",    "code", "del",  "em", "i",     "s",   "span", "strong", "sub",  "sup",  "u",
    "abbr", "font", "kbd",  "mark", "q",  "small", "big", "tt",   "var",    "samp", "cite", "time"};

#define COUNT(a) (sizeof(a) / sizeof(*(a)))

static int in(const char *name, const char *const *list, apr_size_t n)
{
    for (apr_size_t i = 0; i < n; i++) {
        if (!strcmp(name, list[i])) {
            return 1;
        }
    }
    return 0;
}

/* libxml2's HTML parser gives element names in lower case. */
static fate fate_of(const xmlNode *n)
{
    const char *name = (const char *)n->name;

    if (!name) {
        return UNWRAP;
    }
    if (in(name, kept, COUNT(kept))) {
        return KEEP;
    }
    if (in(name, empty, COUNT(empty))) {
        return EMPTY;
    }
    return in(name, dropped, COUNT(dropped)) ? DROP : UNWRAP;
}

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *out; /* the pieces written, in p */
    int text;                /* the text only, a space where a block starts or ends */
} writer;

static void put(writer *w, const char *s)
{
    APR_ARRAY_PUSH(w->out, const char *) = s;
}

/* Text of the document (libxml2's memory): copied into the pool, escaped. */
static void put_text(writer *w, const xmlChar *content)
{
    const char *s = (const char *)content, *escaped;

    if (!s || !*s) {
        return;
    }
    escaped = w->text ? s : aic_html_escape(w->p, s);
    put(w, escaped == s ? apr_pstrdup(w->p, s) : escaped);
}

/* 1 when s starts with prefix (lower case), ignoring the case of s. */
static int starts_with(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        if (apr_tolower((unsigned char)*s) != *prefix) {
            return 0;
        }
    }
    return 1;
}

/* The href of an a, escaped, when its scheme is http, https or mailto; else
 * NULL. Leading spaces and controls are dropped, as browsers drop them; any
 * other character before the scheme (a tab inside "java\tscript:" included)
 * makes it no scheme of the three. */
static const char *safe_href(apr_pool_t *p, xmlNode *n)
{
    static const char *const schemes[] = {"http:", "https:", "mailto:"};
    xmlChar *value = xmlGetNoNsProp(n, BAD_CAST "href");
    const char *href = (const char *)value, *out = NULL;

    if (!value) {
        return NULL;
    }
    while (*href && (unsigned char)*href <= 0x20) {
        href++;
    }
    for (apr_size_t i = 0; i < COUNT(schemes); i++) {
        if (starts_with(href, schemes[i])) {
            out = aic_html_escape(p, apr_pstrdup(p, href));
            break;
        }
    }
    xmlFree(value);
    return out;
}

static void start(writer *w, xmlNode *n, fate f, int depth)
{
    const char *name = (const char *)n->name, *href;

    if (w->text) {
        if (!in(name, inline_elements, COUNT(inline_elements))) {
            put(w, " ");
        }
        return;
    }
    if ((f != KEEP && f != EMPTY) || depth > AIC_HTML_CLEAN_MAX_DEPTH) {
        return;
    }
    if (!strcmp(name, "a") && (href = safe_href(w->p, n))) {
        put(w, apr_pstrcat(w->p, "<a href=\"", href, "\" rel=\"nofollow noopener\">", NULL));
        return;
    }
    put(w, apr_pstrcat(w->p, "<", name, ">", NULL));
}

/* The end of n, once its content is written. */
static void end(writer *w, xmlNode *n, int depth)
{
    fate f;

    if (n->type != XML_ELEMENT_NODE || (f = fate_of(n)) == DROP) {
        return;
    }
    if (w->text) {
        if (!in((const char *)n->name, inline_elements, COUNT(inline_elements))) {
            put(w, " ");
        }
        return;
    }
    if (f == KEEP && depth <= AIC_HTML_CLEAN_MAX_DEPTH) {
        put(w, apr_pstrcat(w->p, "</", (const char *)n->name, ">", NULL));
    }
}

/* Write n's start (or its text); 1 when its content is to be written. */
static int visit(writer *w, xmlNode *n, int depth)
{
    fate f;

    switch (n->type) {
    case XML_ELEMENT_NODE:
        if ((f = fate_of(n)) == DROP) {
            return 0;
        }
        start(w, n, f, depth);
        return f != EMPTY;
    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE:
        put_text(w, n->content);
        return 0;
    default: /* comments, processing instructions, the doctype */
        return 0;
    }
}

/* The document in order, without recursion: the tree may be as deep as the
 * input is long. */
static void walk(writer *w, xmlDoc *doc)
{
    xmlNode *n = doc->children;
    int depth = 1;

    while (n) {
        if (visit(w, n, depth) && n->children) {
            n = n->children;
            depth++;
            continue;
        }
        end(w, n, depth);
        while (!n->next) {
            n = n->parent;
            depth--;
            if (!n || n == (xmlNode *)doc) {
                return;
            }
            end(w, n, depth);
        }
        n = n->next;
    }
}

void aic_html_clean_init(void)
{
    xmlInitParser();
}

/* html's first len bytes written again (text only: as text); NULL when
 * libxml2 cannot parse them, or stopped before their end (out of memory, or
 * elements nested deeper than it reads: 256, its xmlParserMaxDepth). */
static const char *rewrite(apr_pool_t *p, const char *html, apr_size_t len, int text)
{
    writer w = {p, apr_array_make(p, 64, sizeof(const char *)), text};
    htmlParserCtxtPtr ctxt = len > INT_MAX ? NULL : htmlNewParserCtxt();
    htmlDocPtr doc;
    const char *out = NULL;

    if (!ctxt) {
        return NULL;
    }
    doc = htmlCtxtReadMemory(ctxt, html, (int)len, NULL, "UTF-8", PARSE_OPTIONS);
    /* A parser that stopped early has disabled itself (xmlHaltParser). */
    if (doc && !ctxt->disableSAX) {
        walk(&w, doc);
        out = apr_array_pstrcat(p, w.out, 0);
    }
    xmlFreeDoc(doc);
    htmlFreeParserCtxt(ctxt);
    return out;
}

const char *aic_html_clean(apr_pool_t *p, const char *html, apr_size_t len)
{
    const char *out;

    if (!html || !len) {
        return "";
    }
    if (!(out = rewrite(p, html, len, 0))) {
        out = apr_pstrcat(p, "<pre class=\"plain\">",
                          aic_html_escape(p, apr_pstrmemdup(p, html, len)), "</pre>", NULL);
    }
    return out;
}

const char *aic_html_text(apr_pool_t *p, const char *html, apr_size_t len, apr_size_t max_bytes)
{
    const char *text = html && len ? rewrite(p, html, len, 1) : "";

    if (!text) {
        text = apr_pstrmemdup(p, html, len);
    }
    return aic_text_line(p, text, max_bytes);
}
