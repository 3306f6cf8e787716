#include "aic_template.h"
#include "aic_valid.h"

#include <apr_strings.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_TEXT, T_LONG_TEXT, T_NUMBER, T_CHOICE, T_BOOLEAN, T_NTYPES } var_type;

static const char *const type_names[T_NTYPES] = {"text", "long_text", "number", "choice",
                                                 "boolean"};

typedef struct {
    const char *name;
    var_type type;
    int required;
    const char *def;      /* the default as it is filled in, or NULL */
    aic_json *def_stored; /* the default as it is stored, or NULL */
    aic_json *options;    /* choice: the array given */
    int noptions;
    int has_min, has_max;
    double min, max;
    aic_json *min_json, *max_json;
    int used;
} tvar;

/* A piece of the content: text, or a variable (var >= 0). */
typedef struct {
    const char *text;
    apr_size_t len;
    int var;
    const char *name; /* while parsing */
} piece;

struct aic_template {
    apr_array_header_t *pieces;
    tvar *vars;
    int nvars;
};

static apr_status_t fail(aic_template_error *err, apr_pool_t *p, const char *code,
                         const char *field, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err->message = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    err->code = code;
    err->field = field;
    return APR_EINVAL;
}

/* ---- the syntax ---- */

static int name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

/* 1 when s is a valid variable name. */
static int valid_name(const char *s)
{
    apr_size_t n = strlen(s);

    if (n < 1 || n > AIC_TEMPLATE_NAME_MAX || !name_start(s[0])) {
        return 0;
    }
    for (apr_size_t i = 1; i < n; i++) {
        if (!name_char(s[i])) {
            return 0;
        }
    }
    return 1;
}

static void add_text(apr_array_header_t *pieces, const char *text, apr_size_t len)
{
    piece *pc;

    if (len == 0) {
        return;
    }
    pc = apr_array_push(pieces);
    pc->text = text;
    pc->len = len;
    pc->var = -1;
    pc->name = NULL;
}

/* The character (from 1) at byte offset i of s. */
static apr_size_t char_at(const char *s, apr_size_t i)
{
    apr_size_t n = 1;

    for (apr_size_t k = 0; k < i; k++) {
        n += ((unsigned char)s[k] & 0xC0) != 0x80;
    }
    return n;
}

static apr_status_t parse(apr_array_header_t *pieces, aic_template_error *err, apr_pool_t *p,
                          const char *s)
{
    apr_size_t i = 0, lit = 0, n = strlen(s);
    int places = 0;

    while (i < n) {
        apr_size_t j, name, len;
        piece *pc;

        if (s[i] == '\\' && s[i + 1] == '{' && s[i + 2] == '{') {
            add_text(pieces, s + lit, i - lit);
            add_text(pieces, "{{", 2);
            i += 3;
            lit = i;
            continue;
        }
        if (s[i] != '{' || s[i + 1] != '{') {
            i++;
            continue;
        }
        for (j = i + 2; s[j] == ' '; j++) {
        }
        name = j;
        while (name_char(s[j])) {
            j++;
        }
        len = j - name;
        while (s[j] == ' ') {
            j++;
        }
        if (s[j] != '}' || s[j + 1] != '}' || len == 0 || !name_start(s[name])) {
            return fail(err, p, "invalid_field", "content",
                        strstr(s + i + 2, "}}")
                            ? "content: the {{ at character %" APR_SIZE_T_FMT
                              " must hold a variable name (a letter or _, then letters, digits "
                              "or _), then }}; write \\{{ for a literal {{."
                            : "content: the {{ at character %" APR_SIZE_T_FMT
                              " is not closed by }}; write \\{{ for a literal {{.",
                        char_at(s, i));
        }
        if (len > AIC_TEMPLATE_NAME_MAX) {
            return fail(err, p, "invalid_field", "content",
                        "content: the variable name at character %" APR_SIZE_T_FMT
                        " is longer than %d characters.",
                        char_at(s, name), AIC_TEMPLATE_NAME_MAX);
        }
        if (++places > AIC_TEMPLATE_PLACES_MAX) {
            return fail(err, p, "invalid_field", "content",
                        "content may hold at most %d {{variables}}.", AIC_TEMPLATE_PLACES_MAX);
        }
        add_text(pieces, s + lit, i - lit);
        pc = apr_array_push(pieces);
        pc->text = NULL;
        pc->len = 0;
        pc->var = -1;
        pc->name = apr_pstrmemdup(p, s + name, len);
        i = j + 2;
        lit = i;
    }
    add_text(pieces, s + lit, n - lit);
    return APR_SUCCESS;
}

/* ---- values ---- */

/* A number as it is filled in: whole numbers without a fraction. */
static const char *number_text(apr_pool_t *p, double d)
{
    if (d == floor(d) && fabs(d) < 1e15) {
        return apr_psprintf(p, "%.0f", d);
    }
    return apr_psprintf(p, "%.15g", d);
}

/* The number in v (a JSON number, or a string holding one). */
static int number_of(double *d, const aic_json *v, apr_pool_t *p)
{
    const char *s;
    char *end;

    switch (aic_json_typeof(v)) {
    case AIC_JSON_INT:
    case AIC_JSON_DOUBLE:
        *d = aic_json_double(v);
        return isfinite(*d);
    case AIC_JSON_STRING:
        s = aic_json_str(v, p);
        if (!s) {
            return 0;
        }
        while (*s == ' ') {
            s++;
        }
        if (!*s) {
            return 0;
        }
        *d = strtod(s, &end);
        while (*end == ' ') {
            end++;
        }
        return !*end && isfinite(*d);
    default:
        return 0;
    }
}

/* v (a value or default for var) as it is filled in, into *out; NULL when
 * fine, else what is wrong with it. */
static const char *value_text(const char **out, apr_pool_t *p, const tvar *var, const aic_json *v)
{
    const char *s, *problem;
    double d;

    switch (var->type) {
    case T_TEXT:
    case T_LONG_TEXT:
        if (aic_json_typeof(v) != AIC_JSON_STRING) {
            return "must be text";
        }
        s = aic_json_str(v, p);
        if (var->type == T_TEXT) {
            problem = aic_valid_text(out, p, s, 0, AIC_TEMPLATE_TEXT_MAX, 0);
            return problem && !strcmp(problem, "must not contain control characters")
                       ? "must be one line of text"
                       : problem;
        }
        return aic_valid_text(out, p, s, 0, AIC_TEMPLATE_LONG_TEXT_MAX, 1);
    case T_NUMBER:
        if (!number_of(&d, v, p)) {
            return "must be a number";
        }
        if (var->has_min && d < var->min) {
            return apr_pstrcat(p, "must be at least ", number_text(p, var->min), NULL);
        }
        if (var->has_max && d > var->max) {
            return apr_pstrcat(p, "must be at most ", number_text(p, var->max), NULL);
        }
        *out = aic_json_typeof(v) == AIC_JSON_INT
                   ? apr_psprintf(p, "%" APR_INT64_T_FMT, aic_json_int(v))
                   : number_text(p, d);
        return NULL;
    case T_CHOICE:
        s = aic_json_str(v, p);
        for (int i = 0; s && i < var->noptions; i++) {
            if (!strcmp(s, aic_json_str(aic_json_at(var->options, (apr_size_t)i), p))) {
                *out = s;
                return NULL;
            }
        }
        return "must be one of the options";
    default:
        if (aic_json_typeof(v) != AIC_JSON_BOOL) {
            return "must be true or false";
        }
        *out = aic_json_bool(v) ? "yes" : "no";
        return NULL;
    }
}

/* ---- the variables ---- */

static const char *const var_keys[] = {"name",    "type", "required", "default",
                                       "options", "min",  "max",      NULL};

static apr_status_t read_options(tvar *var, aic_template_error *err, apr_pool_t *p,
                                 const aic_json *o, const char *at)
{
    const char *field = apr_pstrcat(p, at, ".options", NULL);
    aic_json *opts = aic_json_get(o, "options");
    apr_size_t n = aic_json_len(opts);

    if (var->type != T_CHOICE) {
        if (aic_json_typeof(opts) != AIC_JSON_NULL) {
            return fail(err, p, "invalid_field", field, "%s: only a choice has options.", field);
        }
        return APR_SUCCESS;
    }
    if (aic_json_typeof(opts) != AIC_JSON_ARRAY || n < 1 || n > AIC_TEMPLATE_OPTIONS_MAX) {
        return fail(err, p, "invalid_field", field,
                    "%s must be a list of 1 to %d options for a choice.", field,
                    AIC_TEMPLATE_OPTIONS_MAX);
    }
    for (apr_size_t i = 0; i < n; i++) {
        const char *s = NULL, *problem;

        if (aic_json_typeof(aic_json_at(opts, i)) != AIC_JSON_STRING ||
            (problem = aic_valid_text(&s, p, aic_json_str(aic_json_at(opts, i), p), 1,
                                      AIC_TEMPLATE_OPTION_MAX, 0)) ||
            strcmp(s, aic_json_str(aic_json_at(opts, i), p))) {
            return fail(err, p, "invalid_field", field,
                        "%s: each option must be one line of 1 to %d characters, without "
                        "spaces at either end.",
                        field, AIC_TEMPLATE_OPTION_MAX);
        }
        for (apr_size_t k = 0; k < i; k++) {
            if (!strcmp(s, aic_json_str(aic_json_at(opts, k), p))) {
                return fail(err, p, "invalid_field", field, "%s: \"%s\" is given twice.", field, s);
            }
        }
    }
    var->options = opts;
    var->noptions = (int)n;
    return APR_SUCCESS;
}

static apr_status_t read_bound(int *has, double *d, aic_json **stored, aic_template_error *err,
                               apr_pool_t *p, const tvar *var, const aic_json *o, const char *key,
                               const char *at)
{
    aic_json *v = aic_json_get(o, key);
    const char *field = apr_pstrcat(p, at, ".", key, NULL);
    aic_json_type type = aic_json_typeof(v);

    *has = 0;
    if (type == AIC_JSON_NULL) {
        return APR_SUCCESS;
    }
    if (var->type != T_NUMBER) {
        return fail(err, p, "invalid_field", field, "%s: only a number has a %s.", field, key);
    }
    if ((type != AIC_JSON_INT && type != AIC_JSON_DOUBLE) || !isfinite(aic_json_double(v))) {
        return fail(err, p, "invalid_field", field, "%s must be a number.", field);
    }
    *has = 1;
    *d = aic_json_double(v);
    *stored = v;
    return APR_SUCCESS;
}

static apr_status_t read_var(tvar *var, aic_template_error *err, apr_pool_t *p, const aic_json *o,
                             int index)
{
    const char *at = apr_psprintf(p, "variables[%d]", index), *unknown, *type, *problem;
    aic_json *v;
    apr_status_t rv;

    memset(var, 0, sizeof(*var));
    if (aic_json_typeof(o) != AIC_JSON_OBJECT) {
        return fail(err, p, "invalid_field", at, "%s must be an object.", at);
    }
    if ((unknown = aic_json_unknown_key(o, var_keys, p))) {
        const char *field = apr_pstrcat(p, at, ".", unknown, NULL);

        return fail(err, p, "invalid_field", field, "%s is not a field of a variable.", field);
    }
    var->name = aic_json_str(aic_json_get(o, "name"), p);
    if (!var->name || !valid_name(var->name)) {
        const char *field = apr_pstrcat(p, at, ".name", NULL);

        return fail(err, p, "invalid_field", field,
                    "%s must be a letter or _, then letters, digits or _ (at most %d).", field,
                    AIC_TEMPLATE_NAME_MAX);
    }
    type = aic_json_str(aic_json_get(o, "type"), p);
    for (var->type = 0; type && var->type < T_NTYPES; var->type++) {
        if (!strcmp(type, type_names[var->type])) {
            break;
        }
    }
    if (!type || var->type == T_NTYPES) {
        const char *field = apr_pstrcat(p, at, ".type", NULL);

        return fail(err, p, "invalid_field", field,
                    "%s must be text, long_text, number, choice or boolean.", field);
    }
    v = aic_json_get(o, "required");
    if (aic_json_typeof(v) != AIC_JSON_NULL && aic_json_typeof(v) != AIC_JSON_BOOL) {
        const char *field = apr_pstrcat(p, at, ".required", NULL);

        return fail(err, p, "invalid_field", field, "%s must be true or false.", field);
    }
    var->required = aic_json_typeof(v) == AIC_JSON_BOOL && aic_json_bool(v);
    if ((rv = read_options(var, err, p, o, at)) != APR_SUCCESS ||
        (rv = read_bound(&var->has_min, &var->min, &var->min_json, err, p, var, o, "min", at)) !=
            APR_SUCCESS ||
        (rv = read_bound(&var->has_max, &var->max, &var->max_json, err, p, var, o, "max", at)) !=
            APR_SUCCESS) {
        return rv;
    }
    if (var->has_min && var->has_max && var->min > var->max) {
        const char *field = apr_pstrcat(p, at, ".max", NULL);

        return fail(err, p, "invalid_field", field, "%s must not be below min.", field);
    }
    v = aic_json_get(o, "default");
    if (aic_json_typeof(v) != AIC_JSON_NULL) {
        if ((problem = value_text(&var->def, p, var, v))) {
            const char *field = apr_pstrcat(p, at, ".default", NULL);

            return fail(err, p, "invalid_field", field, "%s %s.", field, problem);
        }
        var->def_stored = v;
    }
    return APR_SUCCESS;
}

static apr_status_t read_vars(aic_template *t, aic_template_error *err, apr_pool_t *p,
                              const aic_json *list)
{
    apr_status_t rv;

    t->nvars = 0;
    if (aic_json_typeof(list) == AIC_JSON_NULL) {
        return APR_SUCCESS;
    }
    if (aic_json_typeof(list) != AIC_JSON_ARRAY) {
        return fail(err, p, "invalid_field", "variables", "variables must be a list.");
    }
    if (aic_json_len(list) > AIC_TEMPLATE_VARS_MAX) {
        return fail(err, p, "invalid_field", "variables",
                    "variables may hold at most %d variables.", AIC_TEMPLATE_VARS_MAX);
    }
    t->vars = apr_pcalloc(p, sizeof(tvar) * (aic_json_len(list) + 1));
    for (apr_size_t i = 0; i < aic_json_len(list); i++) {
        tvar *var = &t->vars[i];

        if ((rv = read_var(var, err, p, aic_json_at(list, i), (int)i)) != APR_SUCCESS) {
            return rv;
        }
        for (apr_size_t k = 0; k < i; k++) {
            if (!strcmp(t->vars[k].name, var->name)) {
                const char *field = apr_psprintf(p, "variables[%d].name", (int)i);

                return fail(err, p, "invalid_field", field, "%s: %s is declared twice.", field,
                            var->name);
            }
        }
        t->nvars++;
    }
    return APR_SUCCESS;
}

apr_status_t aic_template_compile(aic_template **out, aic_template_error *err, apr_pool_t *p,
                                  const char *content, const aic_json *variables)
{
    aic_template *t = apr_pcalloc(p, sizeof(*t));
    apr_status_t rv;

    *out = NULL;
    if (!content || !aic_valid_utf8(content, (apr_size_t)-1)) {
        return fail(err, p, "invalid_field", "content", "content must be text.");
    }
    if (aic_utf8_length(content) > AIC_TEMPLATE_CONTENT_MAX) {
        return fail(err, p, "invalid_field", "content", "content must be at most %d characters.",
                    AIC_TEMPLATE_CONTENT_MAX);
    }
    t->pieces = apr_array_make(p, 16, sizeof(piece));
    if ((rv = parse(t->pieces, err, p, content)) != APR_SUCCESS ||
        (rv = read_vars(t, err, p, variables)) != APR_SUCCESS) {
        return rv;
    }
    for (int i = 0; i < t->pieces->nelts; i++) {
        piece *pc = &APR_ARRAY_IDX(t->pieces, i, piece);

        if (!pc->name) {
            continue;
        }
        for (int k = 0; k < t->nvars; k++) {
            if (!strcmp(t->vars[k].name, pc->name)) {
                pc->var = k;
                t->vars[k].used = 1;
                break;
            }
        }
        if (pc->var < 0) {
            return fail(err, p, "invalid_field", "content",
                        "content uses {{%s}}, which is not among the variables.", pc->name);
        }
    }
    for (int k = 0; k < t->nvars; k++) {
        if (!t->vars[k].used) {
            const char *field = apr_psprintf(p, "variables[%d].name", k);

            return fail(err, p, "invalid_field", field, "%s: content does not use {{%s}}.", field,
                        t->vars[k].name);
        }
    }
    *out = t;
    return APR_SUCCESS;
}

aic_json *aic_template_variables(const aic_template *t, apr_pool_t *p)
{
    aic_json *list = aic_json_array(p);

    for (int k = 0; k < t->nvars; k++) {
        const tvar *var = &t->vars[k];
        aic_json *o = aic_json_object(p);

        aic_json_set_str(o, "name", var->name);
        aic_json_set_str(o, "type", type_names[var->type]);
        aic_json_set_bool(o, "required", var->required);
        if (!var->def_stored) {
            aic_json_set_null(o, "default");
        } else if (var->type == T_NUMBER && aic_json_typeof(var->def_stored) == AIC_JSON_STRING) {
            aic_json_set_double(o, "default", strtod(var->def, NULL));
        } else if (var->type == T_TEXT || var->type == T_LONG_TEXT) {
            aic_json_set_str(o, "default", var->def);
        } else {
            aic_json_set(o, "default", var->def_stored);
        }
        if (var->options) {
            aic_json_set(o, "options", var->options);
        } else {
            aic_json_set_null(o, "options");
        }
        if (var->has_min) {
            aic_json_set(o, "min", var->min_json);
        } else {
            aic_json_set_null(o, "min");
        }
        if (var->has_max) {
            aic_json_set(o, "max", var->max_json);
        } else {
            aic_json_set_null(o, "max");
        }
        aic_json_push(list, o);
    }
    return list;
}

apr_status_t aic_template_fill(const char **out, aic_template_error *err, apr_pool_t *p,
                               const aic_template *t, const aic_json *values, apr_size_t max_chars)
{
    const char **texts = apr_pcalloc(p, sizeof(char *) * ((apr_size_t)t->nvars + 1));
    apr_array_header_t *keys;
    apr_size_t bytes = 0;
    char *buf, *w;

    *out = NULL;
    if (aic_json_typeof(values) != AIC_JSON_NULL && aic_json_typeof(values) != AIC_JSON_OBJECT) {
        return fail(err, p, "invalid_field", "values",
                    "values must be an object of variable names and values.");
    }
    keys = aic_json_keys(values, p);
    for (int i = 0; keys && i < keys->nelts; i++) {
        const char *key = APR_ARRAY_IDX(keys, i, const char *);
        int k;

        for (k = 0; k < t->nvars && strcmp(t->vars[k].name, key); k++) {
        }
        if (k == t->nvars) {
            const char *field = apr_pstrcat(p, "values.", key, NULL);

            return fail(err, p, "invalid_field", field,
                        "%s: this template has no variable of that name.", field);
        }
    }
    for (int k = 0; k < t->nvars; k++) {
        const tvar *var = &t->vars[k];
        aic_json *v = aic_json_get(values, var->name);
        const char *field = apr_pstrcat(p, "values.", var->name, NULL), *problem;

        texts[k] = var->def;
        if (aic_json_typeof(v) != AIC_JSON_NULL && (problem = value_text(&texts[k], p, var, v))) {
            return fail(err, p, "invalid_field", field, "%s %s.", var->name, problem);
        }
        if (var->required && (!texts[k] || !*texts[k])) {
            return fail(err, p, "missing_value", field, "%s is required.", var->name);
        }
        texts[k] = texts[k] ? texts[k] : "";
    }
    for (int i = 0; i < t->pieces->nelts; i++) {
        const piece *pc = &APR_ARRAY_IDX(t->pieces, i, piece);

        bytes += pc->var >= 0 ? strlen(texts[pc->var]) : pc->len;
    }
    w = buf = apr_palloc(p, bytes + 1);
    for (int i = 0; i < t->pieces->nelts; i++) {
        const piece *pc = &APR_ARRAY_IDX(t->pieces, i, piece);
        const char *s = pc->var >= 0 ? texts[pc->var] : pc->text;
        apr_size_t n = pc->var >= 0 ? strlen(s) : pc->len;

        memcpy(w, s, n);
        w += n;
    }
    *w = '\0';
    if (aic_utf8_length(buf) > max_chars) {
        return fail(err, p, "too_long", "values",
                    "The filled template would be longer than %" APR_SIZE_T_FMT " characters.",
                    max_chars);
    }
    *out = buf;
    return APR_SUCCESS;
}
