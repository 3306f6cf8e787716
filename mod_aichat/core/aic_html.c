#include "aic_html.h"

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
