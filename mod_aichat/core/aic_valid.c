#include "aic_valid.h"

#include <apr_strings.h>
#include <apr_lib.h>
#include <string.h>
#include <stdlib.h>

int aic_valid_utf8(const char *s, apr_size_t max_bytes)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t n = 0;

    while (u[n]) {
        unsigned char c = u[n];
        int extra;
        unsigned long cp;

        if (c < 0x80) {
            n++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            extra = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        for (int i = 1; i <= extra; i++) {
            if ((u[n + i] & 0xC0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (u[n + i] & 0x3F);
        }
        /* Overlong forms, surrogates and out-of-range code points are invalid. */
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
            (extra == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return 0;
        }
        n += (apr_size_t)extra + 1;
    }
    return n <= max_bytes;
}

apr_size_t aic_utf8_length(const char *s)
{
    apr_size_t count = 0;

    for (; *s; s++) {
        if ((*s & 0xC0) != 0x80) {
            count++;
        }
    }
    return count;
}

/* Trim ASCII white space at both ends into a pool copy. */
static char *trimmed(apr_pool_t *p, const char *in)
{
    const char *end = in + strlen(in);

    while (*in && apr_isspace(*in)) {
        in++;
    }
    while (end > in && apr_isspace(end[-1])) {
        end--;
    }
    return apr_pstrmemdup(p, in, (apr_size_t)(end - in));
}

const char *aic_valid_text(const char **out, apr_pool_t *p, const char *in, apr_size_t min_chars,
                           apr_size_t max_chars, int multiline)
{
    char *text;
    apr_size_t n;

    if (!in) {
        return "must be text without NUL characters";
    }
    text = trimmed(p, in);
    if (!aic_valid_utf8(text, (apr_size_t)-1)) {
        return "must be valid UTF-8 text";
    }
    n = aic_utf8_length(text);
    if (n < min_chars) {
        return min_chars == 1 ? "must not be empty" : "is too short";
    }
    if (n > max_chars) {
        return apr_psprintf(p, "must be at most %" APR_SIZE_T_FMT " characters", max_chars);
    }
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if ((*c < 0x20 && !(multiline && (*c == '\n' || *c == '\t' || *c == '\r'))) || *c == 0x7F) {
            return "must not contain control characters";
        }
    }
    *out = text;
    return NULL;
}

int aic_valid_slug(const char *s)
{
    apr_size_t n = s ? strlen(s) : 0;

    if (n < 1 || n > 63 || s[0] == '-') {
        return 0;
    }
    for (const char *c = s; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-')) {
            return 0;
        }
    }
    return 1;
}

const char *aic_valid_display_name(const char **out, apr_pool_t *p, const char *in)
{
    return aic_valid_text(out, p, in, 1, AIC_DISPLAY_NAME_MAX, 0);
}

const char *aic_valid_email(const char **out, apr_pool_t *p, const char *in)
{
    char *email, *at;
    apr_size_t len;

    if (!in) {
        return "must be text without NUL characters";
    }
    email = trimmed(p, in);
    at = strrchr(email, '@');
    len = strlen(email);

    if (len == 0 || len > AIC_EMAIL_MAX || !aic_valid_utf8(email, AIC_EMAIL_MAX)) {
        return "must be an e-mail address of at most 254 characters";
    }
    if (!at || at == email || strchr(email, '@') != at) {
        return "must be an e-mail address like name@example.com";
    }
    for (const char *c = email; *c; c++) {
        if (apr_isspace(*c) || apr_iscntrl(*c) || *c == '<' || *c == '>' || *c == '"' ||
            *c == ',' || *c == ';') {
            return "must be an e-mail address like name@example.com";
        }
    }
    {
        char *domain = at + 1;
        char *dot = strchr(domain, '.');

        if (!*domain || !dot || dot == domain || domain[strlen(domain) - 1] == '.' ||
            strstr(domain, "..") || at - email > 64) {
            return "must be an e-mail address like name@example.com";
        }
        for (char *c = domain; *c; c++) {
            *c = (char)apr_tolower(*c);
        }
    }
    *out = email;
    return NULL;
}

const char *aic_valid_role(const char *in)
{
    if (in && (!strcmp(in, "user") || !strcmp(in, "admin"))) {
        return NULL;
    }
    return "must be \"user\" or \"admin\"";
}

int aic_valid_uuid(const char *s)
{
    static const int groups[] = {8, 4, 4, 4, 12};

    if (!s) {
        return 0;
    }
    for (int g = 0; g < 5; g++) {
        for (int i = 0; i < groups[g]; i++, s++) {
            if (!apr_isxdigit(*s)) {
                return 0;
            }
        }
        if (g < 4 && *s++ != '-') {
            return 0;
        }
    }
    return *s == '\0';
}

const char *aic_valid_uuid_list(apr_array_header_t **out, apr_pool_t *p, const char *in, int max)
{
    char *list, *state, *item;

    *out = apr_array_make(p, 4, sizeof(const char *));
    if (!in || !*in) {
        return "must list at least one id";
    }
    list = apr_pstrdup(p, in);
    for (item = apr_strtok(list, ",", &state); item; item = apr_strtok(NULL, ",", &state)) {
        int seen = 0;

        if (!aic_valid_uuid(item)) {
            return "must be ids separated by commas";
        }
        for (char *c = item; *c; c++) {
            *c = (char)apr_tolower(*c);
        }
        for (int i = 0; i < (*out)->nelts; i++) {
            seen |= !strcmp(APR_ARRAY_IDX(*out, i, const char *), item);
        }
        if (!seen) {
            if ((*out)->nelts == max) {
                return apr_psprintf(p, "may list at most %d ids", max);
            }
            APR_ARRAY_PUSH(*out, const char *) = item;
        }
    }
    return (*out)->nelts ? NULL : "must list at least one id";
}

const char *aic_valid_color(const char **out, apr_pool_t *p, const char *in)
{
    char *c;

    if (!in || strlen(in) != 7 || in[0] != '#') {
        return "must be a colour #rrggbb";
    }
    c = apr_pstrdup(p, in);
    for (int i = 1; i < 7; i++) {
        if (!apr_isxdigit(c[i])) {
            return "must be a colour #rrggbb";
        }
        c[i] = (char)apr_tolower(c[i]);
    }
    *out = c;
    return NULL;
}

int aic_valid_date(const char *s)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d, leap;

    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') {
        return 0;
    }
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !apr_isdigit(s[i])) {
            return 0;
        }
    }
    y = atoi(s);
    m = atoi(s + 5);
    d = atoi(s + 8);
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || m < 1 || m > 12 || d < 1) {
        return 0;
    }
    return d <= days[m - 1] + (m == 2 && leap);
}

/* 1 when s[0..n) are digits forming a number in [lo, hi]. */
static int digits_in(const char *s, int n, int lo, int hi)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!apr_isdigit(s[i])) {
            return 0;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v >= lo && v <= hi;
}

int aic_valid_timestamp(const char *s)
{
    char date[11];
    const char *t;

    if (!s || strlen(s) < 20 || (s[10] != 'T' && s[10] != 't')) {
        return 0;
    }
    memcpy(date, s, 10);
    date[10] = '\0';
    t = s + 11;
    if (!aic_valid_date(date) || !digits_in(t, 2, 0, 23) || t[2] != ':' ||
        !digits_in(t + 3, 2, 0, 59) || t[5] != ':' || !digits_in(t + 6, 2, 0, 59)) {
        return 0;
    }
    t += 8;
    if (*t == '.') {
        apr_size_t n = strspn(t + 1, "0123456789");

        if (n == 0 || n > 9) {
            return 0;
        }
        t += 1 + n;
    }
    if ((*t == 'Z' || *t == 'z') && !t[1]) {
        return 1;
    }
    return (*t == '+' || *t == '-') && digits_in(t + 1, 2, 0, 23) && t[3] == ':' &&
           digits_in(t + 4, 2, 0, 59) && !t[6];
}

int aic_valid_flag(const char *s)
{
    if (s && (!strcmp(s, "true") || !strcmp(s, "1"))) {
        return 1;
    }
    if (s && (!strcmp(s, "false") || !strcmp(s, "0"))) {
        return 0;
    }
    return -1;
}

int aic_valid_limit(const char *s, int def, int max)
{
    int n = 0;

    if (!s || !*s) {
        return def;
    }
    for (const char *c = s; *c; c++) {
        if (!apr_isdigit(*c) || c - s > 6) {
            return -1;
        }
        n = n * 10 + (*c - '0');
    }
    return (n >= 1 && n <= max) ? n : -1;
}

int aic_valid_id_cursor(const char *s)
{
    apr_size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > 18 || s[0] == '0') {
        return 0;
    }
    for (const char *c = s; *c; c++) {
        if (!apr_isdigit(*c)) {
            return 0;
        }
    }
    return 1;
}

const char *aic_like_contains(apr_pool_t *p, const char *q)
{
    apr_size_t n = strlen(q);
    char *out = apr_palloc(p, 2 * n + 3), *o = out;

    *o++ = '%';
    for (const char *c = q; *c; c++) {
        if (*c == '%' || *c == '_' || *c == '\\') {
            *o++ = '\\';
        }
        *o++ = *c;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}
