#include "aic_html.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>

const char *aic_html_escape(apr_pool_t *p, const char *s)
{
    apr_size_t extra = 0, len;
    char *out, *o;

    if (!s) {
        return "";
    }
    for (len = 0; s[len]; len++) {
        switch (s[len]) {
        case '&':
            extra += 4;
            break;
        case '<':
        case '>':
            extra += 3;
            break;
        case '"':
        case '\'':
            extra += 5;
            break;
        }
    }
    if (!extra) {
        return s;
    }
    o = out = apr_palloc(p, len + extra + 1);
    for (const char *c = s; *c; c++) {
        const char *rep = NULL;

        switch (*c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        }
        if (rep) {
            apr_size_t n = strlen(rep);

            memcpy(o, rep, n);
            o += n;
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
    return out;
}

const char *aic_text_line(apr_pool_t *p, const char *text, apr_size_t max_bytes)
{
    char *out, *w;
    int space = 0;

    out = w = apr_palloc(p, strlen(text) + 1);
    for (const char *c = text; *c; c++) {
        if (apr_isspace(*c)) {
            space = w > out;
            continue;
        }
        if (space) {
            *w++ = ' ';
            space = 0;
        }
        *w++ = *c;
    }
    *w = '\0';
    if ((apr_size_t)(w - out) <= max_bytes) {
        return out;
    }
    /* Cut at a character boundary, leaving room for the ellipsis (3 bytes). */
    w = out + (max_bytes > 3 ? max_bytes - 3 : 0);
    while (w > out && ((unsigned char)*w & 0xC0) == 0x80) {
        w--;
    }
    *w = '\0';
    return apr_pstrcat(p, out, "\xE2\x80\xA6", NULL);
}
