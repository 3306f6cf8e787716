/* Claude.ai's export: one conversation of conversations.json (providers.md
 * §5.2). Every edit and retry is in the one flat array; the newest leaf is
 * the active one (the export names none). */
#include "import.h"

#include <apr_strings.h>
#include <string.h>

#define CLAUDE_ROOT "00000000-0000-4000-8000-000000000000"

static int blank(const char *s)
{
    for (; s && *s; s++) {
        if (*s != ' ' && *s != '\n' && *s != '\t' && *s != '\r') {
            return 0;
        }
    }
    return 1;
}

/* Add the http(s) URL to sources unless it is there. */
static void add_source(aic_json **sources, apr_pool_t *p, const char *url)
{
    if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        return;
    }
    if (!*sources) {
        *sources = aic_json_array(p);
    }
    for (apr_size_t i = 0; i < aic_json_len(*sources); i++) {
        if (strcmp(aic_json_cstr(aic_json_at(*sources, i)), url) == 0) {
            return;
        }
    }
    aic_json_push_str(*sources, url);
}

/* Text: the non-blank text blocks joined by a blank line, else the text field. */
static const char *text_of(const aic_json *msg, aic_json **sources, apr_pool_t *p)
{
    const aic_json *content = aic_json_get(msg, "content");
    const char *text = NULL;

    for (apr_size_t i = 0; i < aic_json_len(content); i++) {
        const aic_json *b = aic_json_at(content, i);
        const char *type = aic_json_cstr(aic_json_get(b, "type"));
        const char *t = aic_json_cstr(aic_json_get(b, "text"));
        const aic_json *cites = aic_json_get(b, "citations");

        if (!type || strcmp(type, "text") != 0 || blank(t)) {
            continue;
        }
        text = text ? apr_pstrcat(p, text, "\n\n", t, NULL) : t;
        for (apr_size_t k = 0; k < aic_json_len(cites); k++) {
            add_source(
                sources, p,
                aic_json_cstr(aic_json_get(aic_json_get(aic_json_at(cites, k), "details"), "url")));
        }
    }
    if (blank(text)) {
        text = aic_json_cstr(aic_json_get(msg, "text"));
    }
    return blank(text) ? NULL : text;
}

static aic_json *attachments_of(const aic_json *msg, apr_pool_t *p)
{
    const aic_json *att = aic_json_get(msg, "attachments"), *files = aic_json_get(msg, "files");
    aic_json *list;

    if (aic_json_len(att) + aic_json_len(files) == 0) {
        return NULL;
    }
    list = aic_json_array(p);
    for (apr_size_t i = 0; i < aic_json_len(att); i++) {
        const aic_json *a = aic_json_at(att, i);
        aic_json *o = aic_json_object(p);

        aic_json_set_str(o, "name", aic_json_cstr(aic_json_get(a, "file_name")));
        aic_json_set_str(o, "mime_type", aic_json_cstr(aic_json_get(a, "file_type")));
        if (aic_json_typeof(aic_json_get(a, "file_size")) == AIC_JSON_INT) {
            aic_json_set_int(o, "size", aic_json_int(aic_json_get(a, "file_size")));
        }
        if (aic_json_cstr(aic_json_get(a, "extracted_content"))) {
            aic_json_set_str(o, "extracted_content",
                             aic_json_cstr(aic_json_get(a, "extracted_content")));
        }
        aic_json_push(list, o);
    }
    for (apr_size_t i = 0; i < aic_json_len(files); i++) {
        const aic_json *f = aic_json_at(files, i);
        aic_json *o = aic_json_object(p);

        aic_json_set_str(o, "id", aic_json_cstr(aic_json_get(f, "file_uuid")));
        aic_json_set_str(o, "name", aic_json_cstr(aic_json_get(f, "file_name")));
        aic_json_push(list, o);
    }
    return list;
}

/* The text of a message that has only attachments: a note per file,
 * "[file: name]", one a line. */
static const char *file_notes(const aic_json *list, apr_pool_t *p)
{
    const char *text = NULL;

    for (apr_size_t i = 0; i < aic_json_len(list); i++) {
        const char *name = aic_json_cstr(aic_json_get(aic_json_at(list, i), "name"));
        const char *note = apr_pstrcat(p, "[file: ", name ? name : "?", "]", NULL);

        text = text ? apr_pstrcat(p, text, "\n", note, NULL) : note;
    }
    return text;
}

apr_status_t aic_import_claude(aic_import_conv **out, const char **reason, const char **message,
                               const aic_json *item, apr_pool_t *p)
{
    const aic_json *msgs = aic_json_get(item, "chat_messages");
    apr_hash_t *skipped_parent = apr_hash_make(p);
    aic_import_conv *c;
    const char *previous = NULL; /* older exports: linear */
    int linked = 0;

    *out = NULL;
    *reason = NULL;
    *message = NULL;
    if (aic_json_len(msgs) > AIC_IMPORT_MAX_NODES) {
        *reason = "limit_exceeded";
        *message = "more messages in the conversation than the limit (100000)";
        return APR_ENOSPC;
    }
    for (apr_size_t i = 0; i < aic_json_len(msgs); i++) {
        if (aic_json_has(aic_json_at(msgs, i), "parent_message_uuid")) {
            linked = 1;
        }
    }
    c = aic_import_conv_new(p, AIC_IMPORT_CLAUDE);
    c->ext_id = aic_import_str(item, "uuid", p);
    c->created = aic_import_iso_time(aic_json_cstr(aic_json_get(item, "created_at")));
    c->updated = aic_import_iso_time(aic_json_cstr(aic_json_get(item, "updated_at")));
    if (!c->updated) {
        c->updated = c->created;
    }
    for (apr_size_t i = 0; i < aic_json_len(msgs); i++) {
        const aic_json *msg = aic_json_at(msgs, i);
        const char *uuid = aic_import_str(msg, "uuid", p);
        const char *sender = aic_json_cstr(aic_json_get(msg, "sender"));
        const char *parent = linked ? aic_import_str(msg, "parent_message_uuid", p) : previous;
        const char *why = NULL;
        aic_import_msg *m;
        aic_json *sources = NULL;
        const char *text;

        if (!uuid) {
            uuid = apr_psprintf(p, "#%" APR_SIZE_T_FMT, i);
        }
        if (parent && strcmp(parent, CLAUDE_ROOT) == 0) {
            parent = NULL;
        }
        if (!sender || (strcmp(sender, "human") != 0 && strcmp(sender, "assistant") != 0)) {
            why = "unknown_sender";
        } else {
            text = text_of(msg, &sources, p);
            m = aic_import_msg_add(c);
            m->attachments = attachments_of(msg, p);
            if (!text && !m->attachments) {
                c->msgs->nelts--;
                why = "empty";
            } else {
                m->ext_id = uuid;
                m->raw_parent = parent;
                m->assistant = strcmp(sender, "assistant") == 0;
                m->time = aic_import_iso_time(aic_json_cstr(aic_json_get(msg, "created_at")));
                m->sources = sources;
                m->order = (int)i;
                text = text ? text : file_notes(m->attachments, p);
                aic_import_msg_text(c, m, text ? text : "", text ? strlen(text) : 0);
            }
        }
        if (why) {
            aic_import_count(c->skipped, why, 1);
            apr_hash_set(skipped_parent, uuid, APR_HASH_KEY_STRING, parent ? parent : "");
        }
        previous = uuid;
    }
    if (c->msgs->nelts == 0) {
        *reason = "empty_conversation";
        return APR_SUCCESS;
    }
    if (aic_import_tree(c, p, skipped_parent, NULL) != APR_SUCCESS) {
        *reason = "tree_cycle";
        *message = "the messages' parent links loop";
        return APR_EINVAL;
    }
    aic_import_title(c, p, aic_json_cstr(aic_json_get(item, "name")));
    *out = c;
    return APR_SUCCESS;
}
