/* Mistral Le Chat: a chat-<uuid>.json file (an array of messages), the
 * single-chat object, or one conversation of the combined variant
 * (providers.md §5.4). Messages are linear: each under the previous one. */
#include "import.h"

#include <apr_strings.h>
#include <string.h>

static int blank(const char *s)
{
    for (; s && *s; s++) {
        if (*s != ' ' && *s != '\n' && *s != '\t' && *s != '\r') {
            return 0;
        }
    }
    return 1;
}

/* The contentChunks' text, concatenated (they are stream pieces). */
static const char *chunks_text(const aic_json *msg, apr_pool_t *p)
{
    const aic_json *chunks = aic_json_get(msg, "contentChunks");
    apr_array_header_t *texts = apr_array_make(p, (int)aic_json_len(chunks), sizeof(const char *));

    for (apr_size_t i = 0; i < aic_json_len(chunks); i++) {
        const aic_json *ch = aic_json_at(chunks, i);
        const char *type = aic_json_cstr(aic_json_get(ch, "type"));
        const char *t = aic_json_cstr(aic_json_get(ch, "text"));

        if (t && (!type || strcmp(type, "text") == 0)) {
            APR_ARRAY_PUSH(texts, const char *) = t;
        }
    }
    return apr_array_pstrcat(p, texts, 0); /* joined once, however many chunks */
}

static aic_json *sources_of(const aic_json *msg, apr_pool_t *p)
{
    const aic_json *refs = aic_json_get(msg, "references");
    aic_import_sources sources = {NULL, NULL};

    for (apr_size_t i = 0; i < aic_json_len(refs); i++) {
        aic_import_source_add(&sources, p,
                              aic_json_cstr(aic_json_get(aic_json_at(refs, i), "url")));
    }
    return sources.list;
}

apr_status_t aic_import_mistral(aic_import_conv **out, const char **reason, const char **message,
                                const aic_json *messages, const char *ext_id, const char *title,
                                const char *model, const char *created_at, apr_pool_t *p)
{
    aic_import_conv *c = aic_import_conv_new(p, AIC_IMPORT_MISTRAL_CHAT);
    const char *previous = NULL;

    *out = NULL;
    *reason = NULL;
    *message = NULL;
    c->ext_id = ext_id;
    c->created = aic_import_iso_time(created_at);
    for (apr_size_t i = 0; i < aic_json_len(messages); i++) {
        const aic_json *msg = aic_json_at(messages, i);
        const char *role = aic_json_cstr(aic_json_get(msg, "role"));
        const char *text, *t;
        aic_import_msg *m;

        if (aic_json_typeof(msg) != AIC_JSON_OBJECT) {
            aic_import_count(c->skipped, "not_a_message", 1);
            continue;
        }
        if (!role || (strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0)) {
            aic_import_count(c->skipped,
                             role && strcmp(role, "system") == 0 ? "system" : "unknown_role", 1);
            continue;
        }
        text = chunks_text(msg, p);
        if (blank(text)) {
            text = aic_json_cstr(aic_json_get(msg, "content"));
        }
        if (blank(text)) {
            aic_import_count(c->skipped, "empty", 1);
            continue;
        }
        m = aic_import_msg_add(c);
        m->ext_id = apr_psprintf(p, "%" APR_SIZE_T_FMT, i);
        m->raw_parent = previous;
        m->assistant = strcmp(role, "assistant") == 0;
        t = aic_json_cstr(aic_json_get(msg, "timestamp"));
        m->time = aic_import_iso_time(t ? t : aic_json_cstr(aic_json_get(msg, "created_at")));
        if (m->assistant) {
            const char *own = aic_json_cstr(aic_json_get(msg, "model"));

            m->model = own ? apr_pstrdup(p, own) : model;
        }
        m->sources = sources_of(msg, p);
        aic_import_msg_text(c, m, text, strlen(text));
        previous = m->ext_id;
    }
    if (c->msgs->nelts == 0) {
        *reason = "empty_conversation";
        return APR_SUCCESS;
    }
    if (!c->created) {
        c->created = APR_ARRAY_IDX(c->msgs, 0, aic_import_msg).time;
    }
    aic_import_tree(c, p, NULL, NULL);
    /* The last message is the active leaf. */
    c->active = c->msgs->nelts - 1;
    c->updated = APR_ARRAY_IDX(c->msgs, c->active, aic_import_msg).time;
    if (!c->updated) {
        c->updated = c->created;
    }
    aic_import_title(c, p, title);
    *out = c;
    return APR_SUCCESS;
}
