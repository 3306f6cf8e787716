#include "aic_config.h"
#include "aic_authn_cache.h"

#include <http_log.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <stdlib.h>

#include "core/aic_provider.h"
#include "core/aic_valid.h"

APLOG_USE_MODULE(aichat);
extern module AP_MODULE_DECLARE_DATA aichat_module;

void *aic_config_create(apr_pool_t *p, server_rec *s)
{
    aic_server_conf *conf = apr_pcalloc(p, sizeof(*conf));

    conf->providers = NULL;
    conf->max_body = -1;
    conf->public_url = NULL;
    conf->default_credits = -1;
    conf->audit_reads = -1;
    conf->base_uri = NULL;
    conf->max_message_chars = -1;
    conf->max_context_messages = -1;
    conf->max_answer_bytes = -1;
    conf->api_user_rpm = conf->api_user_tpm = -1;
    conf->import_max_size = -1;
    conf->import_max_conversations = conf->import_time_limit = -1;
    return conf;
}

void *aic_config_merge(apr_pool_t *p, void *base_, void *add_)
{
    const aic_server_conf *base = base_, *add = add_;
    aic_server_conf *conf = apr_pcalloc(p, sizeof(*conf));

    conf->providers = add->providers ? add->providers : base->providers;
    conf->max_body = add->max_body >= 0 ? add->max_body : base->max_body;
    conf->public_url = add->public_url ? add->public_url : base->public_url;
    conf->default_credits =
        add->default_credits >= 0 ? add->default_credits : base->default_credits;
    conf->audit_reads = add->audit_reads >= 0 ? add->audit_reads : base->audit_reads;
    conf->base_uri = add->base_uri ? add->base_uri : base->base_uri;
    conf->max_message_chars =
        add->max_message_chars >= 0 ? add->max_message_chars : base->max_message_chars;
    conf->max_context_messages =
        add->max_context_messages >= 0 ? add->max_context_messages : base->max_context_messages;
    conf->max_answer_bytes =
        add->max_answer_bytes >= 0 ? add->max_answer_bytes : base->max_answer_bytes;
    conf->summary_model = add->summary_model ? add->summary_model : base->summary_model;
    conf->api_user_rpm = add->api_user_rpm >= 0 ? add->api_user_rpm : base->api_user_rpm;
    conf->api_user_tpm = add->api_user_tpm >= 0 ? add->api_user_tpm : base->api_user_tpm;
    conf->import_max_size =
        add->import_max_size >= 0 ? add->import_max_size : base->import_max_size;
    conf->import_dir = add->import_dir ? add->import_dir : base->import_dir;
    conf->import_max_conversations = add->import_max_conversations >= 0
                                         ? add->import_max_conversations
                                         : base->import_max_conversations;
    conf->import_time_limit =
        add->import_time_limit >= 0 ? add->import_time_limit : base->import_time_limit;
    if (add->share_secret_source != AIC_KEY_NONE) {
        conf->share_secret_source = add->share_secret_source;
        conf->share_secret_ref = add->share_secret_ref;
    } else {
        conf->share_secret_source = base->share_secret_source;
        conf->share_secret_ref = base->share_secret_ref;
    }
    return conf;
}

const aic_server_conf *aic_config_get(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &aichat_module);
}

const aic_provider_cfg *aic_config_provider(const aic_server_conf *conf, const char *name)
{
    for (int i = 0; conf->providers && i < conf->providers->nelts; i++) {
        const aic_provider_cfg *prov = APR_ARRAY_IDX(conf->providers, i, aic_provider_cfg *);

        if (!strcmp(prov->name, name)) {
            return prov;
        }
    }
    return NULL;
}

static aic_server_conf *conf_of(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &aichat_module);
}

static const char *set_provider(cmd_parms *cmd, void *dconf, int argc, char *const argv[])
{
    aic_server_conf *conf = conf_of(cmd);
    aic_provider_cfg *prov = NULL;
    const char *err = aic_provider_parse(&prov, cmd->pool, argc, argv);

    if (err) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", err, NULL);
    }
    if (!conf->providers) {
        conf->providers = apr_array_make(cmd->pool, 4, sizeof(aic_provider_cfg *));
    }
    if (aic_config_provider(conf, prov->name)) {
        return apr_psprintf(cmd->pool, "%s: provider '%s' is defined twice", cmd->cmd->name,
                            prov->name);
    }
    APR_ARRAY_PUSH(conf->providers, aic_provider_cfg *) = prov;
    return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *dconf, const char *arg)
{
    char *end = NULL;
    apr_int64_t n = apr_strtoi64(arg, &end, 10);

    if (!*arg || *end || n < 1024 || n > 64 * 1024 * 1024) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' must be a number of bytes between 1024 and "
                            "67108864",
                            cmd->cmd->name, arg);
    }
    conf_of(cmd)->max_body = (apr_off_t)n;
    return NULL;
}

static const char *set_import_max(cmd_parms *cmd, void *dconf, const char *arg)
{
    char *end = NULL;
    apr_int64_t n = apr_strtoi64(arg, &end, 10);

    if (!*arg || *end || n < 1024) {
        return apr_psprintf(cmd->pool, "%s: '%s' must be a number of bytes, at least 1024",
                            cmd->cmd->name, arg);
    }
    conf_of(cmd)->import_max_size = (apr_off_t)n;
    return NULL;
}

/* AIChatImportMaxConversations (info 1) and AIChatImportTimeLimit (seconds). */
static const char *set_import_limit(cmd_parms *cmd, void *dconf, const char *arg)
{
    char *end = NULL;
    long n = strtol(arg, &end, 10);
    long most = cmd->info == (void *)1 ? 100000000 : 7 * 24 * 3600;

    if (!*arg || *end || n < 1 || n > most) {
        return apr_psprintf(cmd->pool, "%s: '%s' must be a whole number between 1 and %ld",
                            cmd->cmd->name, arg, most);
    }
    if (cmd->info == (void *)1) {
        conf_of(cmd)->import_max_conversations = (int)n;
    } else {
        conf_of(cmd)->import_time_limit = (int)n;
    }
    return NULL;
}

static const char *set_import_dir(cmd_parms *cmd, void *dconf, const char *arg)
{
    if (arg[0] != '/') {
        return apr_psprintf(cmd->pool, "%s: '%s' must be an absolute path", cmd->cmd->name, arg);
    }
    conf_of(cmd)->import_dir = arg;
    return NULL;
}

static const char *set_max_answer(cmd_parms *cmd, void *dconf, const char *arg)
{
    char *end = NULL;
    apr_int64_t n = apr_strtoi64(arg, &end, 10);

    if (!*arg || *end || n < 1024 || n > 1024 * 1024 * 1024) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' must be a number of bytes between 1024 and "
                            "1073741824",
                            cmd->cmd->name, arg);
    }
    conf_of(cmd)->max_answer_bytes = n;
    return NULL;
}

static const char *set_api_user_limit(cmd_parms *cmd, void *dconf, const char *rpm, const char *tpm)
{
    char *end = NULL;
    apr_int64_t r = apr_strtoi64(rpm, &end, 10), t = 0;

    if (!*rpm || *end || r < 0 || r > 1000000000 ||
        (tpm && ((t = apr_strtoi64(tpm, &end, 10)) < 0 || !*tpm || *end || t > 1000000000))) {
        return apr_psprintf(cmd->pool,
                            "%s: requests and tokens per minute must be whole numbers from 0 "
                            "(no limit) to 1000000000",
                            cmd->cmd->name);
    }
    conf_of(cmd)->api_user_rpm = (int)r;
    conf_of(cmd)->api_user_tpm = (int)t;
    return NULL;
}

static const char *set_public_url(cmd_parms *cmd, void *dconf, const char *arg)
{
    apr_size_t len = strlen(arg);

    if ((strncmp(arg, "https://", 8) && strncmp(arg, "http://", 7)) ||
        strpbrk(arg, " \t\"'<>\\?#")) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' must be an absolute http(s) URL such as "
                            "https://chat.example.com",
                            cmd->cmd->name, arg);
    }
    while (len > 0 && arg[len - 1] == '/') {
        len--;
    }
    conf_of(cmd)->public_url = apr_pstrmemdup(cmd->pool, arg, len);
    return NULL;
}

static const char *set_share_secret(cmd_parms *cmd, void *dconf, const char *arg)
{
    aic_server_conf *conf = conf_of(cmd);

    if (!strncmp(arg, "env:", 4) && arg[4]) {
        conf->share_secret_source = AIC_KEY_ENV;
        conf->share_secret_ref = arg + 4;
    } else if (!strncmp(arg, "file:", 5) && arg[5]) {
        conf->share_secret_source = AIC_KEY_FILE;
        conf->share_secret_ref = arg + 5;
    } else {
        /* Never echo the value: it may be a secret pasted by mistake. */
        return apr_psprintf(cmd->pool, "%s must be env:VARIABLE or file:/path", cmd->cmd->name);
    }
    return NULL;
}

static const char *set_credits(cmd_parms *cmd, void *dconf, const char *arg)
{
    char *end = NULL;
    apr_int64_t n = apr_strtoi64(arg, &end, 10);

    if (!*arg || *end || n < 0 || n > APR_INT64_C(1000000000000)) {
        return apr_psprintf(cmd->pool, "%s: '%s' must be a whole number of tokens >= 0",
                            cmd->cmd->name, arg);
    }
    conf_of(cmd)->default_credits = n;
    return NULL;
}

static const char *set_count(cmd_parms *cmd, void *dconf, const char *arg)
{
    char *end = NULL;
    long n = strtol(arg, &end, 10);
    aic_server_conf *conf = conf_of(cmd);

    if (!*arg || *end || n < 1 || n > 1000000) {
        return apr_psprintf(cmd->pool, "%s: '%s' must be a whole number between 1 and 1000000",
                            cmd->cmd->name, arg);
    }
    if (cmd->info == (void *)1) {
        conf->max_message_chars = (int)n;
    } else {
        conf->max_context_messages = (int)n;
    }
    return NULL;
}

static const char *set_audit_reads(cmd_parms *cmd, void *dconf, int flag)
{
    conf_of(cmd)->audit_reads = flag;
    return NULL;
}

static const char *set_base_uri(cmd_parms *cmd, void *dconf, const char *arg)
{
    apr_size_t len = strlen(arg);

    if (arg[0] != '/' || strpbrk(arg, " \t\"'<>\\?#%")) {
        return apr_psprintf(cmd->pool, "%s: '%s' must be a path starting with '/'", cmd->cmd->name,
                            arg);
    }
    while (len > 0 && arg[len - 1] == '/') {
        len--;
    }
    conf_of(cmd)->base_uri = apr_pstrmemdup(cmd->pool, arg, len);
    return NULL;
}

static const char *set_summary_model(cmd_parms *cmd, void *dconf, const char *arg)
{
    if (!aic_valid_slug(arg)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a catalog slug", cmd->cmd->name, arg);
    }
    conf_of(cmd)->summary_model = arg;
    return NULL;
}

const command_rec aic_directives[] = {
    AP_INIT_TAKE12("AIChatAuthnCache", aic_authn_cache_directive, NULL, RSRC_CONF,
                   "PROVIDER [SECONDS]: remember for SECONDS (default 300) that PROVIDER "
                   "accepted a password; use with AuthBasicProvider/AuthFormProvider aichat-cache"),
    AP_INIT_TAKE_ARGV("AIChatProvider", set_provider, NULL, RSRC_CONF,
                      "NAME openai|anthropic|gemini BASE_URL [key=env:VAR|key=file:PATH] "
                      "[timeout=SECONDS] [connect_timeout=SECONDS]"),
    AP_INIT_TAKE1("AIChatMaxBodySize", set_max_body, NULL, RSRC_CONF,
                  "largest accepted request body in bytes (default 1048576)"),
    AP_INIT_TAKE1("AIChatPublicURL", set_public_url, NULL, RSRC_CONF,
                  "public base URL of the site, used in share links"),
    AP_INIT_TAKE1("AIChatShareSecret", set_share_secret, NULL, RSRC_CONF,
                  "env:VAR or file:PATH holding the secret share-link tokens are derived "
                  "with (e.g. openssl rand -base64 32); without it no link can be created"),
    AP_INIT_TAKE1("AIChatDefaultCredits", set_credits, NULL, RSRC_CONF,
                  "token credits given to a new user (default 1000)"),
    AP_INIT_TAKE1("AIChatMaxMessageLength", set_count, (void *)1, RSRC_CONF,
                  "longest user message in characters (default 32000)"),
    AP_INIT_TAKE1("AIChatMaxContextMessages", set_count, (void *)2, RSRC_CONF,
                  "most messages sent to a model as context; older ones are left out "
                  "(default 40)"),
    AP_INIT_TAKE1("AIChatMaxAnswerBytes", set_max_answer, NULL, RSRC_CONF,
                  "longest answer text kept from a model, in bytes; a longer one is stopped "
                  "there and stored as incomplete (default 4194304)"),
    AP_INIT_TAKE12("AIChatAPIUserLimit", set_api_user_limit, NULL, RSRC_CONF,
                   "requests [and tokens] per minute each user may make through the "
                   "OpenAI-compatible API, all their keys together (default 0: no limit)"),
    AP_INIT_FLAG("AIChatAuditReads", set_audit_reads, NULL, RSRC_CONF,
                 "write audit rows for successful reads too (default On)"),
    AP_INIT_TAKE1("AIChatBaseURI", set_base_uri, NULL, RSRC_CONF,
                  "where the chat lives: API at BASE/api, admin at BASE/admin (default /chat)"),
    AP_INIT_TAKE1("AIChatSummaryModel", set_summary_model, NULL, RSRC_CONF,
                  "the catalog slug of the model that writes conversation summaries "
                  "(default: none, no summaries)"),
    AP_INIT_TAKE1("AIChatImportMaxSize", set_import_max, NULL, RSRC_CONF,
                  "largest accepted import upload in bytes (default 2147483648); "
                  "LimitRequestBody bounds it too"),
    AP_INIT_TAKE1("AIChatImportDir", set_import_dir, NULL, RSRC_CONF,
                  "folder where uploads wait for their import job, writable by httpd's User and "
                  "shared by every node (default the system's temporary folder)"),
    AP_INIT_TAKE1("AIChatImportMaxConversations", set_import_limit, (void *)1, RSRC_CONF,
                  "most conversations one import upload may add; the job fails past them, what "
                  "it wrote stays (default 1000000)"),
    AP_INIT_TAKE1("AIChatImportTimeLimit", set_import_limit, (void *)2, RSRC_CONF,
                  "seconds an import job may run; it fails then, what it wrote stays "
                  "(default 1800)"),
    {NULL}};

/* Provider names are [A-Za-z0-9._-] (checked by the directive), so they
 * need no quoting inside an array literal. */
static void derive_provider_lists(aic_server_conf *conf, apr_pool_t *p)
{
    const char *all = "", *keyed = "";

    for (int i = 0; i < conf->providers->nelts; i++) {
        const aic_provider_cfg *prov = APR_ARRAY_IDX(conf->providers, i, aic_provider_cfg *);

        all = apr_pstrcat(p, all, *all ? "," : "", prov->name, NULL);
        if (prov->key) {
            keyed = apr_pstrcat(p, keyed, *keyed ? "," : "", prov->name, NULL);
        }
    }
    conf->providers_sql = apr_pstrcat(p, "{", all, "}", NULL);
    conf->keyed_sql = apr_pstrcat(p, "{", keyed, "}", NULL);
}

int aic_config_post(apr_pool_t *pconf, server_rec *s)
{
    apr_array_header_t *keys = apr_array_make(pconf, 8, sizeof(const char *));

    for (server_rec *sp = s; sp; sp = sp->next) {
        aic_server_conf *conf = ap_get_module_config(sp->module_config, &aichat_module);

        if (conf->max_body < 0) {
            conf->max_body = AIC_DEFAULT_MAX_BODY;
        }
        if (conf->default_credits < 0) {
            conf->default_credits = AIC_DEFAULT_CREDITS;
        }
        if (conf->audit_reads < 0) {
            conf->audit_reads = 1;
        }
        if (!conf->base_uri) {
            conf->base_uri = "/chat";
        }
        if (conf->max_message_chars < 0) {
            conf->max_message_chars = 32000;
        }
        if (conf->max_context_messages < 0) {
            conf->max_context_messages = 40;
        }
        if (conf->max_answer_bytes < 0) {
            conf->max_answer_bytes = AIC_DEFAULT_MAX_ANSWER;
        }
        if (conf->api_user_rpm < 0) {
            conf->api_user_rpm = conf->api_user_tpm = 0;
        }
        if (conf->import_max_size < 0) {
            conf->import_max_size = AIC_DEFAULT_IMPORT_MAX;
        }
        if (conf->import_max_conversations < 0) {
            conf->import_max_conversations = AIC_DEFAULT_IMPORT_CONVERSATIONS;
        }
        if (conf->import_time_limit < 0) {
            conf->import_time_limit = AIC_DEFAULT_IMPORT_SECONDS;
        }
        if (!conf->import_dir && apr_temp_dir_get(&conf->import_dir, pconf) != APR_SUCCESS) {
            conf->import_dir = "/tmp";
        }
        if (!conf->providers) {
            conf->providers = apr_array_make(pconf, 1, sizeof(aic_provider_cfg *));
        }
        if (conf->share_secret_source != AIC_KEY_NONE) {
            const char *err = aic_key_read(&conf->share_secret, pconf, conf->share_secret_source,
                                           conf->share_secret_ref);

            if (!err && strlen(conf->share_secret) < 16) {
                err = "the secret is shorter than 16 characters";
                conf->share_secret = NULL;
            }
            if (err) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sp,
                             "mod_aichat: AIChatShareSecret: %s; share links cannot be created "
                             "or shown until it is present",
                             err);
            }
        }
        /* Keys of the main server's providers are resolved once; vhosts share them. */
        if (sp != s && conf->providers == ((aic_server_conf *)ap_get_module_config(s->module_config,
                                                                                   &aichat_module))
                                              ->providers) {
            continue;
        }
        for (int i = 0; i < conf->providers->nelts; i++) {
            aic_provider_cfg *prov = APR_ARRAY_IDX(conf->providers, i, aic_provider_cfg *);
            const char *err = aic_provider_resolve_key(prov, pconf);

            if (err) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sp,
                             "mod_aichat: AIChatProvider %s: %s; its models are unavailable "
                             "until the key is present",
                             prov->name, err);
            }
        }
    }
    for (server_rec *sp = s; sp; sp = sp->next) {
        aic_server_conf *conf = ap_get_module_config(sp->module_config, &aichat_module);

        derive_provider_lists(conf, pconf);
        for (int i = 0; i < conf->providers->nelts; i++) {
            const aic_provider_cfg *prov = APR_ARRAY_IDX(conf->providers, i, aic_provider_cfg *);

            if (prov->key && *prov->key) {
                APR_ARRAY_PUSH(keys, const char *) = prov->key;
            }
        }
    }
    APR_ARRAY_PUSH(keys, const char *) = NULL;
    aic_provider_redact_keys((const char *const *)keys->elts);
    return OK;
}
