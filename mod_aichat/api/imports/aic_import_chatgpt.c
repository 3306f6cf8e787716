/* ChatGPT's data export: one conversation object of conversations*.json
 * (providers.md §5.1). The tree is built from each node's parent, never
 * from children lists (newer exports leave some out). */
#include "import.h"

#include <apr_strings.h>
#include <string.h>

/* The file id of an asset pointer: what follows "://". */
static const char *pointer_id(const char *ptr)
{
    const char *s = ptr ? strstr(ptr, "://") : NULL;

    return s ? s + 3 : ptr;
}

/* Add an attachment unless one with its id is there (then fill its gaps). */
static void attach(aic_json *list, apr_pool_t *p, const char *id, const char *name,
                   const char *mime, const aic_json *size, const char *kind)
{
    aic_json *a = NULL;

    for (apr_size_t i = 0; id && i < aic_json_len(list); i++) {
        const char *other = aic_json_cstr(aic_json_get(aic_json_at(list, i), "id"));

        if (other && strcmp(other, id) == 0) {
            a = aic_json_at(list, i);
        }
    }
    if (!a) {
        a = aic_json_object(p);
        aic_json_push(list, a);
        if (id) {
            aic_json_set_str(a, "id", id);
        }
    }
    if (name && !aic_json_get(a, "name")) {
        aic_json_set_str(a, "name", name);
    }
    if (mime && !aic_json_get(a, "mime_type")) {
        aic_json_set_str(a, "mime_type", mime);
    }
    if (size && aic_json_typeof(size) == AIC_JSON_INT && !aic_json_get(a, "size")) {
        aic_json_set_int(a, "size", aic_json_int(size));
    }
    if (kind && !aic_json_get(a, "kind")) {
        aic_json_set_str(a, "kind", kind);
    }
}

static int ends_with(const char *s, const char *tail)
{
    apr_size_t ls = s ? strlen(s) : 0, lt = strlen(tail);

    return ls >= lt && strcmp(s + ls - lt, tail) == 0;
}

/* The visible note that stands in the text for a part that has none:
 * "[image]", "[video]", "[file]", and "[audio]" unless the message carries
 * the audio's transcription (then that is its text, providers.md §8.2). */
static const char *part_note(const char *type, int transcribed)
{
    if (strstr(type, "audio")) {
        return transcribed ? NULL : "[audio]";
    }
    if (strstr(type, "image")) {
        return "[image]";
    }
    if (strstr(type, "video")) {
        return "[video]";
    }
    return "[file]";
}

/* The text and attachments of a stored node's content, with a note for
 * each non-text part and the parts themselves in m->parts; 0 when neither. */
static int content_of(aic_import_conv *c, aic_import_msg *m, const aic_json *msg, apr_pool_t *p)
{
    const aic_json *content = aic_json_get(msg, "content");
    const char *type = aic_json_cstr(aic_json_get(content, "content_type"));
    aic_json *list = aic_json_array(p), *meta_att;
    struct iovec_s {
        const char *s;
        apr_size_t n;
    };
    apr_array_header_t *parts = apr_array_make(p, 4, sizeof(struct iovec_s));
    char *text, *t;
    apr_size_t len = 0;
    int transcribed = 0;

    if (strcmp(type, "code") == 0) {
        const char *lang = aic_json_cstr(aic_json_get(content, "language"));
        const char *code = aic_json_cstr(aic_json_get(content, "text"));

        if (!lang || strcmp(lang, "unknown") == 0) {
            lang = "";
        }
        text = apr_pstrcat(p, "```", lang, "\n", code ? code : "", "\n```", NULL);
        aic_import_msg_text(c, m, text, strlen(text));
        return 1;
    }
    for (apr_size_t i = 0; i < aic_json_len(aic_json_get(content, "parts")); i++) {
        const aic_json *part = aic_json_at(aic_json_get(content, "parts"), i);

        type = aic_json_cstr(aic_json_get(part, "content_type"));
        if (type && strcmp(type, "audio_transcription") == 0) {
            transcribed = 1;
        }
    }
    for (apr_size_t i = 0; i < aic_json_len(aic_json_get(content, "parts")); i++) {
        const aic_json *part = aic_json_at(aic_json_get(content, "parts"), i);
        const char *note = NULL;
        struct iovec_s *v;

        if (aic_json_typeof(part) == AIC_JSON_STRING) {
            v = apr_array_push(parts);
            v->s = aic_json_cstr(part);
            v->n = aic_json_strlen(part);
            continue;
        }
        if (aic_json_typeof(part) != AIC_JSON_OBJECT) {
            continue;
        }
        if (!m->parts) {
            m->parts = aic_json_array(p);
        }
        aic_json_push(m->parts, (aic_json *)part);
        type = aic_json_cstr(aic_json_get(part, "content_type"));
        if (type && strcmp(type, "audio_transcription") == 0 &&
            aic_json_cstr(aic_json_get(part, "text"))) {
            v = apr_array_push(parts);
            v->s = aic_json_cstr(aic_json_get(part, "text"));
            v->n = aic_json_strlen(aic_json_get(part, "text"));
        } else if (ends_with(type, "_asset_pointer")) {
            const aic_json *ptr = aic_json_get(part, "asset_pointer");

            if (!ptr) {
                ptr = aic_json_get(aic_json_get(part, "audio_asset_pointer"), "asset_pointer");
            }
            attach(list, p, pointer_id(aic_json_cstr(ptr)), NULL, NULL,
                   aic_json_get(part, "size_bytes"), type);
            note = part_note(type, transcribed);
        }
        if (note) {
            v = apr_array_push(parts);
            v->s = note;
            v->n = strlen(note);
        }
    }
    meta_att = aic_json_get(aic_json_get(msg, "metadata"), "attachments");
    for (apr_size_t i = 0; i < aic_json_len(meta_att); i++) {
        const aic_json *a = aic_json_at(meta_att, i);

        attach(list, p, aic_json_cstr(aic_json_get(a, "id")),
               aic_json_cstr(aic_json_get(a, "name")), aic_json_cstr(aic_json_get(a, "mime_type")),
               aic_json_get(a, "size"), NULL);
    }
    for (int i = 0; i < parts->nelts; i++) {
        len += APR_ARRAY_IDX(parts, i, struct iovec_s).n + 1;
    }
    t = text = apr_palloc(p, len + 1);
    for (int i = 0; i < parts->nelts; i++) {
        struct iovec_s *v = &APR_ARRAY_IDX(parts, i, struct iovec_s);

        if (i > 0) {
            *t++ = '\n';
        }
        memcpy(t, v->s, v->n);
        t += v->n;
    }
    *t = '\0';
    if (aic_json_len(list) > 0) {
        m->attachments = list;
    }
    /* Blank text counts as none. */
    for (t = text; *t == ' ' || *t == '\n' || *t == '\t' || *t == '\r'; t++) {
    }
    if (!*t && !m->attachments) {
        return 0;
    }
    aic_import_msg_text(c, m, text, strlen(text));
    return 1;
}

/* A text message our own export marked as HTML (an imported Gemini answer:
 * ChatGPT's format has no HTML content type). */
static int is_html(const aic_json *msg)
{
    const char *type = aic_json_cstr(aic_json_get(aic_json_get(msg, "content"), "content_type"));
    const char *mark =
        aic_json_cstr(aic_json_get(aic_json_get(msg, "metadata"), AIC_IMPORT_HTML_MARK));

    return type && strcmp(type, "text") == 0 && mark && strcmp(mark, "text/html") == 0;
}

/* The skip reason of a node's message (rules 2 to 7), NULL when it is stored. */
static const char *skip_reason(const aic_json *msg)
{
    const char *role = aic_json_cstr(aic_json_get(aic_json_get(msg, "author"), "role"));
    const aic_json *hidden =
        aic_json_get(aic_json_get(msg, "metadata"), "is_visually_hidden_from_conversation");
    const char *recipient = aic_json_cstr(aic_json_get(msg, "recipient"));
    const char *type = aic_json_cstr(aic_json_get(aic_json_get(msg, "content"), "content_type"));

    if (role && strcmp(role, "system") == 0) {
        return "system";
    }
    if (role && strcmp(role, "tool") == 0) {
        return "tool_message";
    }
    if (!role || (strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0)) {
        return "unknown_role";
    }
    if (aic_json_typeof(hidden) == AIC_JSON_BOOL && aic_json_bool(hidden)) {
        return "hidden";
    }
    if (recipient && strcmp(recipient, "all") != 0) {
        return "tool_call";
    }
    if (!type || (strcmp(type, "text") != 0 && strcmp(type, "multimodal_text") != 0 &&
                  strcmp(type, "code") != 0)) {
        return "non_text_content";
    }
    return NULL;
}

apr_status_t aic_import_chatgpt(aic_import_conv **out, const char **reason, const char **message,
                                const aic_json *item, apr_pool_t *p)
{
    const aic_json *mapping = aic_json_get(item, "mapping");
    const char *default_model = aic_import_str(item, "default_model_slug", p);
    const char *id = aic_import_str(item, "conversation_id", p);
    apr_array_header_t *keys;
    apr_hash_t *skipped_parent = apr_hash_make(p);
    aic_import_conv *c;
    const aic_json *cur;

    *out = NULL;
    *reason = NULL;
    *message = NULL;
    if (aic_json_typeof(mapping) != AIC_JSON_OBJECT) {
        *reason = "not_a_conversation";
        return APR_SUCCESS;
    }
    c = aic_import_conv_new(p, AIC_IMPORT_CHATGPT);
    c->ext_id = id ? id : aic_import_str(item, "id", p);
    c->created = aic_import_epoch_time(aic_json_get(item, "create_time"));
    c->updated = aic_import_epoch_time(aic_json_get(item, "update_time"));
    if (!c->updated) {
        c->updated = c->created;
    }
    keys = aic_json_keys(mapping, p);
    if (keys->nelts > AIC_IMPORT_MAX_NODES) {
        *reason = "limit_exceeded";
        *message = "more nodes in the conversation than the limit (100000)";
        return APR_ENOSPC;
    }
    for (int i = 0; i < keys->nelts; i++) {
        const char *key = APR_ARRAY_IDX(keys, i, const char *);
        const aic_json *node = aic_json_get(mapping, key);
        const aic_json *msg = aic_json_get(node, "message");
        const char *node_id = aic_json_cstr(aic_json_get(node, "id"));
        const char *parent = aic_import_str(node, "parent", p);
        const char *why;
        aic_import_msg *m;

        node_id = node_id ? apr_pstrdup(p, node_id) : key;
        why = aic_json_typeof(msg) == AIC_JSON_OBJECT ? skip_reason(msg) : "";
        if (!why) {
            m = aic_import_msg_add(c);
            m->ext_id = node_id;
            m->raw_parent = parent;
            m->assistant = strcmp(aic_json_cstr(aic_json_get(aic_json_get(msg, "author"), "role")),
                                  "assistant") == 0;
            m->time = aic_import_epoch_time(aic_json_get(msg, "create_time"));
            m->html = is_html(msg);
            if (!content_of(c, m, msg, p)) {
                c->msgs->nelts--;
                why = "empty";
            } else if (m->assistant) {
                const aic_json *meta = aic_json_get(msg, "metadata");
                const char *model = aic_import_str(meta, "model_slug", p);

                if (!model) {
                    model = aic_import_str(meta, "default_model_slug", p);
                }
                m->model = model ? model : default_model;
            }
        }
        if (why) {
            if (*why) {
                aic_import_count(c->skipped, why, 1);
            }
            apr_hash_set(skipped_parent, node_id, APR_HASH_KEY_STRING, parent ? parent : "");
        }
    }
    if (c->msgs->nelts == 0) {
        *reason = "empty_conversation";
        return APR_SUCCESS;
    }
    cur = aic_json_get(item, "current_node");
    if (aic_import_tree(c, p, skipped_parent, aic_json_cstr(cur)) != APR_SUCCESS) {
        *reason = "tree_cycle";
        *message = "the messages' parent links loop";
        return APR_EINVAL;
    }
    aic_import_title(c, p, aic_json_cstr(aic_json_get(item, "title")));
    *out = c;
    return APR_SUCCESS;
}
