/* libFuzzer target: the HTML door (core/aic_html_clean.c). The input is HTML
 * as an import stores it. What comes out holds no markup but the allowlist:
 * every '<' starts a tag of the allowlist (an a with at most an http, https
 * or mailto href and its rel), every '>' ends one, no quote or '&' outside
 * escapes; tags nest within AIC_HTML_CLEAN_MAX_DEPTH and close in order.
 * Or it is the input escaped in one <pre class="plain">. The text variant
 * keeps to its size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "core/aic_html_clean.h"

#define TEXT_MAX 200
#define PLAIN    "<pre class=\"plain\">"
#define REL      "\" rel=\"nofollow noopener\">"

static const char *const containers[] = {
    "p",     "h1", "h2",  "h3",   "h4",  "h5",         "h6",  "strong", "b",  "em",    "i",
    "u",     "s",  "del", "code", "pre", "blockquote", "ul",  "ol",     "li", "table", "thead",
    "tbody", "tr", "th",  "td",   "a",   "sup",        "sub", "span",   "div"};

/* The length of the allowlisted name at s followed by '>', or 0. */
static size_t container(const char *s)
{
    for (size_t i = 0; i < sizeof(containers) / sizeof(*containers); i++) {
        size_t n = strlen(containers[i]);

        if (!strncmp(s, containers[i], n) && s[n] == '>') {
            return n;
        }
    }
    return 0;
}

static int scheme_ok(const char *href)
{
    static const char *const schemes[] = {"http:", "https:", "mailto:"};

    for (size_t i = 0; i < sizeof(schemes) / sizeof(*schemes); i++) {
        size_t k = 0;

        while (schemes[i][k] && apr_tolower((unsigned char)href[k]) == schemes[i][k]) {
            k++;
        }
        if (!schemes[i][k]) {
            return 1;
        }
    }
    return 0;
}

/* An '&' of the output starts one of the escapes aic_html_escape writes. */
static int escape_ok(const char *s)
{
    static const char *const escapes[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};

    for (size_t i = 0; i < sizeof(escapes) / sizeof(*escapes); i++) {
        if (!strncmp(s, escapes[i], strlen(escapes[i]))) {
            return 1;
        }
    }
    return 0;
}

/* 1 when out is markup of the allowlist only, well nested. */
static int allowlisted(const char *out)
{
    const char *stack[AIC_HTML_CLEAN_MAX_DEPTH];
    size_t lens[AIC_HTML_CLEAN_MAX_DEPTH];
    int depth = 0;

    for (const char *c = out; *c;) {
        size_t n;

        if (*c == '>' || *c == '"' || *c == '\'') {
            return 0;
        }
        if (*c == '&') {
            if (!escape_ok(c)) {
                return 0;
            }
            c++;
            continue;
        }
        if (*c != '<') {
            c++;
            continue;
        }
        c++;
        if (!strncmp(c, "br>", 3) || !strncmp(c, "hr>", 3)) {
            c += 3;
        } else if (!strncmp(c, "a href=\"", 8)) {
            const char *href = c + 8, *end = strchr(href, '"');

            if (!end || strncmp(end, REL, strlen(REL)) || !scheme_ok(href) ||
                memchr(href, '<', (size_t)(end - href)) ||
                memchr(href, '>', (size_t)(end - href)) || depth == AIC_HTML_CLEAN_MAX_DEPTH) {
                return 0;
            }
            stack[depth] = "a";
            lens[depth++] = 1;
            c = end + strlen(REL);
        } else if (*c == '/') {
            if (!depth || strncmp(c + 1, stack[depth - 1], lens[depth - 1]) ||
                c[1 + lens[depth - 1]] != '>') {
                return 0;
            }
            c += 2 + lens[--depth];
        } else if ((n = container(c))) {
            if (depth == AIC_HTML_CLEAN_MAX_DEPTH) {
                return 0;
            }
            stack[depth] = c;
            lens[depth++] = n;
            c += n + 1;
        } else {
            return 0;
        }
    }
    return depth == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    apr_pool_t *p;
    const char *out, *text;

    if (!ready) {
        aic_html_clean_init();
        ready = 1;
    }
    apr_pool_create(&p, NULL);
    out = aic_html_clean(p, (const char *)data, size);
    if (!strncmp(out, PLAIN, strlen(PLAIN))) {
        const char *body = out + strlen(PLAIN);
        size_t n = strlen(body);

        if (n < 6 || strcmp(body + n - 6, "</pre>") ||
            !allowlisted(apr_pstrmemdup(p, body, n - 6))) {
            abort();
        }
    } else if (!allowlisted(out)) {
        abort();
    }
    text = aic_html_text(p, (const char *)data, size, TEXT_MAX);
    if (strlen(text) > TEXT_MAX) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
