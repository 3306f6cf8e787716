#include "aic_provider_cfg.h"

#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_env.h>
#include <apr_lib.h>
#include <string.h>
#include <stdlib.h>

const char *aic_provider_kind_name(aic_provider_kind kind)
{
    switch (kind) {
    case AIC_PROVIDER_ANTHROPIC:
        return "anthropic";
    case AIC_PROVIDER_GEMINI:
        return "gemini";
    default:
        return "openai";
    }
}

static const char *parse_seconds(int *out, const char *value, const char *what, apr_pool_t *p)
{
    char *end = NULL;
    long n = strtol(value, &end, 10);

    if (!*value || *end || n < 1 || n > 3600) {
        return apr_psprintf(p, "%s must be a number of seconds between 1 and 3600, not '%s'", what,
                            value);
    }
    *out = (int)n;
    return NULL;
}

static int valid_name(const char *name)
{
    if (!*name || strlen(name) > 64) {
        return 0;
    }
    for (const char *c = name; *c; c++) {
        if (!apr_isalnum(*c) && *c != '-' && *c != '_' && *c != '.') {
            return 0;
        }
    }
    return 1;
}

const char *aic_provider_parse(aic_provider_cfg **out, apr_pool_t *p, int argc, char *const argv[])
{
    aic_provider_cfg *cfg;
    const char *url, *host;
    apr_size_t len;

    if (argc < 3) {
        return "needs NAME KIND BASE_URL [key=env:VAR|key=file:PATH] [timeout=SECONDS]";
    }
    cfg = apr_pcalloc(p, sizeof(*cfg));
    cfg->timeout = AIC_PROVIDER_DEFAULT_TIMEOUT;
    cfg->connect_timeout = AIC_PROVIDER_DEFAULT_CONNECT_TIMEOUT;
    if (!valid_name(argv[0])) {
        return apr_psprintf(p, "provider name '%s' must be 1-64 letters, digits, '-', '_' or '.'",
                            argv[0]);
    }
    cfg->name = apr_pstrdup(p, argv[0]);
    if (!strcmp(argv[1], "openai")) {
        cfg->kind = AIC_PROVIDER_OPENAI;
    } else if (!strcmp(argv[1], "anthropic")) {
        cfg->kind = AIC_PROVIDER_ANTHROPIC;
    } else if (!strcmp(argv[1], "gemini")) {
        cfg->kind = AIC_PROVIDER_GEMINI;
    } else {
        return apr_psprintf(p, "unknown provider kind '%s' (use openai, anthropic or gemini)",
                            argv[1]);
    }
    url = argv[2];
    if (!strncmp(url, "https://", 8)) {
        host = url + 8;
    } else if (!strncmp(url, "http://", 7)) {
        host = url + 7;
    } else {
        return apr_psprintf(p, "base URL '%s' must start with http:// or https://", url);
    }
    if (!*host || *host == '/' || strpbrk(url, " \t\r\n\"'<>\\")) {
        return apr_psprintf(p, "base URL '%s' has no host or contains invalid characters", url);
    }
    len = strlen(url);
    while (len > 0 && url[len - 1] == '/') {
        len--;
    }
    cfg->base_url = apr_pstrmemdup(p, url, len);

    for (int i = 3; i < argc; i++) {
        const char *arg = argv[i];
        const char *err = NULL;

        if (!strncmp(arg, "key=env:", 8) && arg[8]) {
            cfg->key_source = AIC_KEY_ENV;
            cfg->key_ref = apr_pstrdup(p, arg + 8);
        } else if (!strncmp(arg, "key=file:", 9) && arg[9]) {
            cfg->key_source = AIC_KEY_FILE;
            cfg->key_ref = apr_pstrdup(p, arg + 9);
        } else if (!strncmp(arg, "key=", 4)) {
            /* Never echo the value: it may be a key pasted by mistake. */
            return "key= must be key=env:VARIABLE or key=file:/path (keys are never written "
                   "in the configuration itself)";
        } else if (!strncmp(arg, "timeout=", 8)) {
            err = parse_seconds(&cfg->timeout, arg + 8, "timeout", p);
        } else if (!strncmp(arg, "connect_timeout=", 16)) {
            err = parse_seconds(&cfg->connect_timeout, arg + 16, "connect_timeout", p);
        } else {
            /* Name only an option-like word: a stray argument may be a pasted key. */
            apr_size_t n = strspn(arg, "abcdefghijklmnopqrstuvwxyz_");

            if (n > 0 && n <= 32 && arg[n] == '=') {
                return apr_psprintf(p,
                                    "unknown option '%.*s=' (expected key=, timeout= or "
                                    "connect_timeout=)",
                                    (int)n, arg);
            }
            return apr_psprintf(p,
                                "argument %d is not an option (expected key=, timeout= or "
                                "connect_timeout=; the argument is not repeated here)",
                                i + 1);
        }
        if (err) {
            return err;
        }
    }
    *out = cfg;
    return NULL;
}

const char *aic_key_read(const char **out, apr_pool_t *p, aic_key_source source, const char *ref)
{
    char *value = NULL;

    *out = NULL;
    if (source == AIC_KEY_ENV) {
        if (apr_env_get(&value, ref, p) != APR_SUCCESS || !*value) {
            return apr_psprintf(p, "environment variable %s is not set", ref);
        }
    } else if (source == AIC_KEY_FILE) {
        apr_file_t *f = NULL;
        char buf[4096];
        apr_size_t n = sizeof(buf) - 1;
        apr_status_t rv = apr_file_open(&f, ref, APR_FOPEN_READ, 0, p);

        if (rv == APR_SUCCESS) {
            rv = apr_file_read(f, buf, &n);
            apr_file_close(f);
        }
        if (rv != APR_SUCCESS) {
            return apr_psprintf(p, "key file %s cannot be read", ref);
        }
        buf[n] = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        if (!*buf) {
            return apr_psprintf(p, "key file %s is empty", ref);
        }
        value = apr_pstrdup(p, buf);
    }
    *out = value;
    return NULL;
}

const char *aic_provider_resolve_key(aic_provider_cfg *cfg, apr_pool_t *p)
{
    return aic_key_read(&cfg->key, p, cfg->key_source, cfg->key_ref);
}
