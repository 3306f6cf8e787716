/* Prompt templates: the {{variable}} syntax, typed variables, and filling a
 * template with values. No I/O; everything lives in the caller's pool.
 *
 * Syntax. `{{name}}` (spaces allowed inside the braces: `{{ name }}`) stands
 * for a variable; a name is a letter or `_` then letters, digits or `_`, at
 * most AIC_TEMPLATE_NAME_MAX bytes, and is case-sensitive. `\{{` is a literal
 * `{{` (the backslash is dropped); every other backslash and brace is text.
 * A `{{` that is not closed by `}}`, or holds anything but a name, is an
 * error naming its position (in characters, from 1). A variable may appear
 * any number of times; every name used must be declared, and every declared
 * variable used. Values are inserted as they are, in one pass: a value is
 * never read as template syntax.
 *
 * Variables (JSON, as the API takes them): [{"name", "type", "required",
 * "default", "options", "min", "max"}], type one of text (one line),
 * long_text, number (min and max optional), choice (options required) and
 * boolean (filled as "yes" or "no"). */
#ifndef AIC_TEMPLATE_H
#define AIC_TEMPLATE_H

#include <apr_pools.h>

#include "aic_json.h"

/** Limits: the content in characters, how many {{...}} it may hold, how
 * many variables a template declares, a name's bytes, a value's characters
 * by type, a choice's options and each option's characters. */
#define AIC_TEMPLATE_CONTENT_MAX   20000
#define AIC_TEMPLATE_PLACES_MAX    500
#define AIC_TEMPLATE_VARS_MAX      50
#define AIC_TEMPLATE_NAME_MAX      64
#define AIC_TEMPLATE_TEXT_MAX      1000
#define AIC_TEMPLATE_LONG_TEXT_MAX 20000
#define AIC_TEMPLATE_OPTIONS_MAX   50
#define AIC_TEMPLATE_OPTION_MAX    200

/** What is wrong: a stable code (invalid_field, missing_value, too_long),
 * the field it concerns ("content", "variables[2].options",
 * "values.topic") and a sentence for people. */
typedef struct {
    const char *code;
    const char *field;
    const char *message;
} aic_template_error;

typedef struct aic_template aic_template;

/**
 * Parse content and check the variables (a JSON array as the API takes
 * them; NULL is none) against it. APR_SUCCESS with *out set, or APR_EINVAL
 * with *err filled (and *out NULL).
 */
apr_status_t aic_template_compile(aic_template **out, aic_template_error *err, apr_pool_t *p,
                                  const char *content, const aic_json *variables);

/** The variables in their stored form: each with all its keys, defaults and
 * bounds normalised (a number's default is a JSON number), in p. */
aic_json *aic_template_variables(const aic_template *t, apr_pool_t *p);

/**
 * Fill t with values (a JSON object of name to string, number or boolean;
 * NULL is none): a value given for each variable, else its default, else
 * (when not required) nothing. The result is at most max_chars characters.
 * APR_SUCCESS with *out set, or APR_EINVAL with *err filled: a value of the
 * wrong type or out of bounds (invalid_field), a key that names no variable
 * (invalid_field), a required variable without a value (missing_value), a
 * result too long (too_long, field "values").
 */
apr_status_t aic_template_fill(const char **out, aic_template_error *err, apr_pool_t *p,
                               const aic_template *t, const aic_json *values, apr_size_t max_chars);

#endif
