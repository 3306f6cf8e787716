/* A multipart/form-data body (RFC 7578) read as a stream: the bytes of one
 * named part (the upload's "file") are handed on as they arrive, the other
 * parts skipped, and nothing is kept but a window of one read plus a
 * delimiter's length. Debian ships no multipart reader for httpd modules
 * (libapreq2 left it), hence this small boundary scanner.
 *
 * The body is read as if "\r\n" came first, so that the first boundary
 * line matches the same delimiter ("\r\n--" boundary) as the others. */
#include "import.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>

#define WINDOW       65536
#define HEADER_MAX   16384 /* one part's header block */
#define BOUNDARY_MAX 200   /* RFC 2046 says 70; browsers stay far below this */

typedef enum { M_BODY, M_AFTER, M_PAD, M_HEADERS, M_END } m_state;

struct aic_multipart {
    apr_pool_t *p;
    const char *field;
    aic_multipart_data_fn data;
    void *baton;
    char *delim; /* "\r\n--" boundary */
    apr_size_t dlen;
    char *win;
    apr_size_t have, pos;
    m_state state;
    int in_file;  /* the current part is the file part */
    int seen;     /* the file part began */
    int preamble; /* before the first boundary */
    const char *filename;
    const char *code, *message;
    apr_status_t error; /* from the data function */
};

static apr_status_t fail(aic_multipart *m, const char *message)
{
    m->code = "invalid_multipart";
    m->message = message;
    return APR_EINVAL;
}

/* A parameter's value (token or quoted string) after "name=" in s, or NULL. */
static const char *param(apr_pool_t *p, const char *s, const char *name)
{
    apr_size_t nlen = strlen(name);

    while ((s = strchr(s, ';')) != NULL) {
        const char *v;

        s++;
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        if (strncasecmp(s, name, nlen) != 0 || s[nlen] != '=') {
            continue;
        }
        v = s + nlen + 1;
        if (*v == '"') {
            char *out = apr_palloc(p, strlen(v)), *o = out;

            for (v++; *v && *v != '"'; v++) {
                if (*v == '\\' && v[1]) {
                    v++;
                }
                *o++ = *v;
            }
            *o = '\0';
            return out;
        }
        return apr_pstrndup(p, v, strcspn(v, "; \t"));
    }
    return NULL;
}

aic_multipart *aic_multipart_create(apr_pool_t *p, const char *content_type, const char *field,
                                    aic_multipart_data_fn data, void *baton)
{
    aic_multipart *m;
    const char *boundary;

    if (!content_type || strncasecmp(content_type, "multipart/form-data", 19) != 0) {
        return NULL;
    }
    boundary = param(p, content_type, "boundary");
    if (!boundary || !*boundary || strlen(boundary) > BOUNDARY_MAX) {
        return NULL;
    }
    m = apr_pcalloc(p, sizeof(*m));
    m->p = p;
    m->field = field;
    m->data = data;
    m->baton = baton;
    m->delim = apr_pstrcat(p, "\r\n--", boundary, NULL);
    m->dlen = strlen(m->delim);
    m->win = apr_palloc(p, WINDOW);
    memcpy(m->win, "\r\n", 2);
    m->have = 2;
    m->state = M_BODY;
    m->preamble = 1;
    return m;
}

/* A part's headers (the block without its last CRLF CRLF): is it the file? */
static apr_status_t part_headers(aic_multipart *m, const char *block, apr_size_t len)
{
    char *h = apr_pstrmemdup(m->p, block, len), *line, *last;
    const char *name = NULL, *filename = NULL;

    for (line = apr_strtok(h, "\r\n", &last); line; line = apr_strtok(NULL, "\r\n", &last)) {
        if (strncasecmp(line, "Content-Disposition:", 20) == 0) {
            name = param(m->p, line, "name");
            filename = param(m->p, line, "filename");
        }
    }
    m->in_file = !m->seen && name && strcmp(name, m->field) == 0;
    if (m->in_file) {
        m->seen = 1;
        m->filename = filename;
    }
    return APR_SUCCESS;
}

/* Hand on bytes of the current part. */
static apr_status_t emit(aic_multipart *m, const char *buf, apr_size_t len)
{
    if (!m->in_file || m->preamble || len == 0) {
        return APR_SUCCESS;
    }
    return m->error = m->data(m->baton, buf, len);
}

/* The first place of needle in hay, or NULL. */
static const char *find(const char *hay, apr_size_t hlen, const char *needle, apr_size_t nlen)
{
    const char *end = hay + hlen, *s = hay;

    while (hlen >= nlen && (s = memchr(s, needle[0], (apr_size_t)(end - s) - nlen + 1))) {
        if (memcmp(s, needle, nlen) == 0) {
            return s;
        }
        s++;
        if ((apr_size_t)(end - s) < nlen) {
            break;
        }
    }
    return NULL;
}

/* Work through the window as far as it goes. */
static apr_status_t run(aic_multipart *m)
{
    apr_status_t rv;

    for (;;) {
        const char *w = m->win + m->pos, *hit;
        apr_size_t n = m->have - m->pos;

        switch (m->state) {
        case M_BODY:
            if ((hit = find(w, n, m->delim, m->dlen)) != NULL) {
                if ((rv = emit(m, w, (apr_size_t)(hit - w))) != APR_SUCCESS) {
                    return rv;
                }
                m->pos += (apr_size_t)(hit - w) + m->dlen;
                m->in_file = 0;
                m->preamble = 0;
                m->state = M_AFTER;
                continue;
            }
            if (n >= m->dlen) {
                if ((rv = emit(m, w, n - (m->dlen - 1))) != APR_SUCCESS) {
                    return rv;
                }
                m->pos += n - (m->dlen - 1);
            }
            break;
        case M_AFTER:
            if (n < 2) {
                break;
            }
            if (w[0] == '-' && w[1] == '-') {
                m->state = M_END;
                continue;
            }
            m->state = M_PAD;
            continue;
        case M_PAD:
            while (n > 0 && (*w == ' ' || *w == '\t')) {
                w++, n--, m->pos++;
            }
            if (n < 2) {
                break;
            }
            if (w[0] != '\r' || w[1] != '\n') {
                return fail(m, "A boundary line of the multipart body is malformed.");
            }
            m->pos += 2;
            m->state = M_HEADERS;
            continue;
        case M_HEADERS:
            if (n >= 2 && w[0] == '\r' && w[1] == '\n') {
                hit = w - 2; /* no header at all */
            } else if ((hit = find(w, n, "\r\n\r\n", 4)) == NULL) {
                if (n > HEADER_MAX) {
                    return fail(m, "A part's headers in the multipart body are too long.");
                }
                break;
            }
            if ((rv = part_headers(m, w, hit > w ? (apr_size_t)(hit - w) : 0)) != APR_SUCCESS) {
                return rv;
            }
            m->pos += (apr_size_t)(hit - w) + 4;
            m->state = M_BODY;
            continue;
        case M_END:
            m->pos = m->have; /* the epilogue is ignored */
            break;
        }
        break;
    }
    memmove(m->win, m->win + m->pos, m->have - m->pos);
    m->have -= m->pos;
    m->pos = 0;
    return APR_SUCCESS;
}

apr_status_t aic_multipart_feed(aic_multipart *m, const char *buf, apr_size_t len)
{
    while (len > 0) {
        apr_size_t n = WINDOW - m->have;
        apr_status_t rv;

        n = n < len ? n : len;
        memcpy(m->win + m->have, buf, n);
        m->have += n;
        buf += n;
        len -= n;
        if ((rv = run(m)) != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

apr_status_t aic_multipart_finish(aic_multipart *m)
{
    if (m->state != M_END) {
        return fail(m, "The multipart body ends before its closing boundary.");
    }
    if (!m->seen) {
        m->code = "missing_file";
        m->message =
            apr_psprintf(m->p, "The form has no \"%s\" part with the export file.", m->field);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

void aic_multipart_error(const aic_multipart *m, const char **code, const char **message)
{
    *code = m->code;
    *message = m->message;
}

const char *aic_multipart_filename(const aic_multipart *m)
{
    return m->filename;
}
