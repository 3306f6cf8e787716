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

/* Text: the non-blank text blocks joined by a blank line (once, however
 * many), else the text field. */
static const char *text_of(const aic_json *msg, aic_import_sources *sources, apr_pool_t *p)
{
    const aic_json *content = aic_json_get(msg, "content");
    apr_array_header_t *texts = apr_array_make(p, (int)aic_json_len(content), sizeof(const char *));
    const char *text;

    for (apr_size_t i = 0; i < aic_json_len(content); i++) {
        const aic_json *b = aic_json_at(content, i);
        const char *type = aic_json_cstr(aic_json_get(b, "type"));
        const char *t = aic_json_cstr(aic_json_get(b, "text"));
        const aic_json *cites = aic_json_get(b, "citations");

        if (!type || strcmp(type, "text") != 0 || blank(t)) {
            continue;
        }
        if (texts->nelts) {
            APR_ARRAY_PUSH(texts, const char *) = "\n\n";
        }
        APR_ARRAY_PUSH(texts, const char *) = t;
        for (apr_size_t k = 0; k < aic_json_len(cites); k++) {
            aic_import_source_add(
                sources, p,
                aic_json_cstr(aic_json_get(aic_json_get(aic_json_at(cites, k), "details"), "url")));
        }
    }
    text = texts->nelts ? apr_array_pstrcat(p, texts, 0) : aic_json_cstr(aic_json_get(msg, "text"));
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
    apr_array_header_t *notes = apr_array_make(p, (int)aic_json_len(list), sizeof(const char *));

    for (apr_size_t i = 0; i < aic_json_len(list); i++) {
        const char *name = aic_json_cstr(aic_json_get(aic_json_at(list, i), "name"));

        APR_ARRAY_PUSH(notes, const char *) =
            apr_pstrcat(p, "[file: ", name ? name : "?", "]", NULL);
    }
    return notes->nelts ? apr_array_pstrcat(p, notes, '\n') : NULL;
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
        aic_import_sources sources = {NULL, NULL};
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
                m->sources = sources.list;
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
