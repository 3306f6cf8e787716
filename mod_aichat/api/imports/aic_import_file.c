/* An upload as a whole (providers.md §5.6): a bare JSON document or a ZIP
 * whose .json members are candidates, each read in two passes through a
 * fixed buffer: first validated and recognised, then imported. */
#include "import.h"

#include <apr_file_io.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "core/aic_zip.h"

#define BUF_SIZE 65536

static const aic_zip_limits zip_limits = {
    100000,                            /* entries */
    (apr_off_t)1024 * 1024 * 1024,     /* inflated bytes of one member */
    (apr_off_t)4 * 1024 * 1024 * 1024, /* in all */
    200,                               /* ratio */
};

#define FEEDBACK "message_feedback.json"

/* Members that are not conversations (read for nothing here; ChatGPT's
 * feedback is read after the conversations). */
static const char *const auxiliary[] = {FEEDBACK,
                                        "user.json",
                                        "users.json",
                                        "user_settings.json",
                                        "projects.json",
                                        "memories.json",
                                        "shared_conversations.json",
                                        "group_chats.json",
                                        "shopping.json",
                                        "sora.json",
                                        "model_comparisons.json",
                                        NULL};

static int is_feedback(const char *name)
{
    const char *base = strrchr(name, '/');

    return strcasecmp(base ? base + 1 : name, FEEDBACK) == 0;
}

static int candidate(const char *name)
{
    const char *base = strrchr(name, '/');
    apr_size_t len = strlen(name);

    base = base ? base + 1 : name;
    if (len < 5 || strcasecmp(name + len - 5, ".json") != 0) {
        return 0;
    }
    for (const char *const *a = auxiliary; *a; a++) {
        if (strcasecmp(base, *a) == 0) {
            return 0;
        }
    }
    return 1;
}

typedef struct {
    apr_file_t *f;
    aic_zip *z;
    apr_off_t read; /* of the file, when it is not a ZIP */
} source;

static apr_off_t bytes_read(source *src)
{
    return src->z ? aic_zip_bytes_read(src->z) : src->read;
}

static apr_status_t open_source(source *src, apr_pool_t *p, const char *path, int *zip)
{
    char head[4];
    apr_size_t n = sizeof(head);
    apr_status_t rv;
    apr_off_t zero = 0;

    memset(src, 0, sizeof(*src));
    rv = apr_file_open(&src->f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (apr_file_read_full(src->f, head, n, &n) != APR_SUCCESS) {
        n = 0;
    }
    *zip = aic_zip_sniff(head, n);
    apr_file_seek(src->f, APR_SET, &zero);
    if (*zip) {
        apr_file_close(src->f);
        src->f = NULL;
        return aic_zip_open(&src->z, p, path, &zip_limits);
    }
    return APR_SUCCESS;
}

/* Feed the current member (or the file) to d. */
static apr_status_t pump(aic_import_doc *d, source *src, char *buf, const char **code,
                         const char **message)
{
    apr_status_t rv = APR_SUCCESS;

    for (;;) {
        apr_size_t n = BUF_SIZE;

        if (src->z) {
            rv = aic_zip_read(src->z, buf, &n);
            if (rv != APR_SUCCESS) {
                aic_zip_error(src->z, code, message);
                return rv;
            }
            if (n == 0) {
                break;
            }
        } else {
            rv = apr_file_read(src->f, buf, &n);
            if (rv == APR_EOF || (rv == APR_SUCCESS && n == 0)) {
                break;
            }
            if (rv != APR_SUCCESS) {
                *code = "internal_error";
                *message = "the upload could not be read";
                return rv;
            }
            src->read += (apr_off_t)n;
        }
        if ((rv = aic_import_doc_feed(d, buf, n)) != APR_SUCCESS) {
            aic_import_doc_error(d, code, message);
            return rv;
        }
    }
    rv = aic_import_doc_finish(d);
    if (rv != APR_SUCCESS) {
        aic_import_doc_error(d, code, message);
    }
    return rv;
}

/* The reader's callbacks in between, so that each conversation is handed on
 * with the upload's bytes read so far. */
typedef struct {
    aic_import_conv_fn conv;
    aic_import_reject_fn reject;
    void *baton;
    source *src;
} counted;

static apr_status_t counted_conv(void *baton, const aic_import_conv *c, apr_pool_t *p)
{
    counted *t = baton;
    aic_import_conv at = *c;

    at.bytes_read = bytes_read(t->src);
    return t->conv(t->baton, &at, p);
}

static void counted_reject(void *baton, const char *ext_id, const char *title, const char *code,
                           const char *message)
{
    counted *t = baton;

    t->reject(t->baton, ext_id, title, code, message);
}

static apr_status_t no_conv(void *baton, const aic_import_conv *c, apr_pool_t *p)
{
    return APR_SUCCESS;
}

static void no_reject(void *baton, const char *ext_id, const char *title, const char *code,
                      const char *message)
{
}

#define LOOKED_FOR                                                                                 \
    "No chat export was found in the upload. Looked for: ChatGPT (conversations.json or "          \
    "conversations-NNN.json, alone or in the export ZIP), Claude (conversations.json with "        \
    "chat_messages), Gemini (Takeout My Activity > Gemini Apps as JSON, not HTML) and Mistral "    \
    "Le Chat (chat-<id>.json files or their ZIP)."

/* Name order, then archive order for equal names. */
static int by_name(const void *a, const void *b)
{
    const aic_import_member *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : x->entry - y->entry;
}

apr_status_t aic_import_file_scan(apr_array_header_t **members, const char **code,
                                  const char **message, apr_pool_t *p, const char *path,
                                  const char *upload_name)
{
    source src;
    int zip, entry = -1, found = 0, grok = 0;
    char *buf = apr_palloc(p, BUF_SIZE);
    apr_status_t rv;
    apr_pool_t *scratch;

    *members = apr_array_make(p, 4, sizeof(aic_import_member));
    *code = NULL;
    *message = NULL;
    if ((rv = open_source(&src, p, path, &zip)) != APR_SUCCESS) {
        if (src.z) {
            aic_zip_error(src.z, code, message);
        } else {
            *code = "internal_error";
            *message = "the upload could not be read";
        }
        return rv;
    }
    apr_pool_create(&scratch, p);
    for (;;) {
        aic_import_member *m;
        const char *name = upload_name ? upload_name : "upload.json";
        int regular = 1;
        aic_import_doc *d;

        if (src.z) {
            rv = aic_zip_next(src.z, &name, &regular);
            entry++;
            if (rv == APR_EOF) {
                break;
            }
            if (rv != APR_SUCCESS) {
                aic_zip_error(src.z, code, message);
                return rv;
            }
            if (!regular || (!candidate(name) && !is_feedback(name))) {
                continue;
            }
        }
        m = apr_array_push(*members);
        memset(m, 0, sizeof(*m));
        m->name = apr_pstrdup(p, name);
        m->entry = entry;
        d = aic_import_doc_create(scratch, m->name, AIC_IMPORT_UNKNOWN, no_conv, no_reject, NULL);
        rv = pump(d, &src, buf, &m->code, &m->message);
        if (rv >= AIC_ZIP_EINVALID && rv <= AIC_ZIP_ELIMIT) {
            /* A zip bomb or the upload's own limits: stop at once. */
            *code = m->code;
            *message = m->message;
            return rv;
        }
        if (rv == APR_SUCCESS && src.z && is_feedback(name)) {
            m->format = AIC_IMPORT_CHATGPT_FEEDBACK;
        } else if (rv == APR_SUCCESS) {
            m->format = aic_import_doc_format(d);
            m->count = aic_import_doc_count(d);
            if (m->format == AIC_IMPORT_GROK) {
                grok = 1;
                m->format = AIC_IMPORT_UNKNOWN;
                m->code = "unsupported_format";
                m->message = "a Grok export: not imported yet";
            } else if (m->format == AIC_IMPORT_UNKNOWN) {
                m->code = "unknown_format";
                m->message = "not a chat export this importer knows";
            } else {
                found = 1;
            }
        }
        m->code = m->code ? apr_pstrdup(p, m->code) : NULL;
        m->message = m->message ? apr_pstrdup(p, m->message) : NULL;
        apr_pool_clear(scratch);
        if (!src.z) {
            break;
        }
    }
    /* Read in name order, however the ZIP was packed: a split export's
     * conversations-000.json before -001.json, so the job lists its
     * conversations and errors, and a limit stops it, the same way for the
     * same files. */
    qsort((*members)->elts, (size_t)(*members)->nelts, sizeof(aic_import_member), by_name);
    if (!found) {
        aic_import_member *only =
            (*members)->nelts == 1 ? &APR_ARRAY_IDX(*members, 0, aic_import_member) : NULL;

        if (only && only->code && strcmp(only->code, "unknown_format") != 0 &&
            strcmp(only->code, "unsupported_format") != 0) {
            *code = only->code;
            *message = only->message;
        } else if (grok) {
            *code = "unsupported_format";
            *message = "This is a Grok export, which cannot be imported yet.";
        } else {
            *code = "unknown_format";
            *message = LOOKED_FOR;
        }
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* Read the members of one kind (feedback or not) from the start of the upload. */
static apr_status_t read_members(apr_pool_t *p, const char *path, const apr_array_header_t *members,
                                 int feedback_pass, aic_import_conv_fn conv,
                                 aic_import_reject_fn reject, aic_import_feedback_fn feedback,
                                 void *baton, aic_json *skipped)
{
    source src;
    counted tramp = {conv, reject, baton, &src};
    int zip, entry = -1;
    char *buf = apr_palloc(p, BUF_SIZE);
    apr_status_t rv;
    apr_pool_t *scratch, *opened;
    const char *code, *message;

    apr_pool_create(&opened, p);
    if ((rv = open_source(&src, opened, path, &zip)) != APR_SUCCESS) {
        return rv;
    }
    apr_pool_create(&scratch, p);
    for (int i = 0; i < members->nelts; i++) {
        const aic_import_member *m = &APR_ARRAY_IDX(members, i, aic_import_member);
        aic_import_doc *d;

        if (m->format == AIC_IMPORT_UNKNOWN ||
            (m->format == AIC_IMPORT_CHATGPT_FEEDBACK) != feedback_pass) {
            continue;
        }
        if (src.z && m->entry <= entry) {
            /* A member before the one read last (name order): the ZIP from the start. */
            apr_pool_clear(opened);
            if ((rv = open_source(&src, opened, path, &zip)) != APR_SUCCESS) {
                return rv;
            }
            entry = -1;
        }
        while (src.z && entry < m->entry) {
            const char *name;
            int regular;

            if ((rv = aic_zip_next(src.z, &name, &regular)) != APR_SUCCESS) {
                return rv;
            }
            entry++;
        }
        if (feedback_pass) {
            d = aic_import_doc_create(scratch, m->name, m->format, conv, reject, baton);
            aic_import_doc_on_feedback(d, feedback);
        } else {
            d = aic_import_doc_create(scratch, m->name, m->format, counted_conv, counted_reject,
                                      &tramp);
        }
        rv = pump(d, &src, buf, &code, &message);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        {
            aic_json *s = aic_import_doc_skipped(d);
            apr_array_header_t *keys = aic_json_keys(s, scratch);

            for (int k = 0; k < keys->nelts; k++) {
                const char *key = APR_ARRAY_IDX(keys, k, const char *);

                aic_import_count(skipped, key, (int)aic_json_int(aic_json_get(s, key)));
            }
        }
        apr_pool_clear(scratch);
    }
    return APR_SUCCESS;
}

apr_status_t aic_import_file_read(apr_pool_t *p, const char *path,
                                  const apr_array_header_t *members, aic_import_conv_fn conv,
                                  aic_import_reject_fn reject, aic_import_feedback_fn feedback,
                                  void *baton, aic_json *skipped)
{
    apr_status_t rv = read_members(p, path, members, 0, conv, reject, feedback, baton, skipped);

    for (int i = 0; rv == APR_SUCCESS && i < members->nelts; i++) {
        if (APR_ARRAY_IDX(members, i, aic_import_member).format == AIC_IMPORT_CHATGPT_FEEDBACK) {
            return read_members(p, path, members, 1, conv, reject, feedback, baton, skipped);
        }
    }
    return rv;
}

const char *aic_import_conv_json(const aic_import_conv *c, apr_pool_t *p)
{
    aic_json *o = aic_json_object(p), *msgs = aic_json_array(p);

    aic_json_set_str(o, "source", aic_import_source(c->format));
    aic_json_set_str(o, "external_id", c->ext_id);
    aic_json_set_str(o, "title", c->title);
    aic_json_set_int(o, "created", c->created);
    aic_json_set_int(o, "updated", c->updated ? c->updated : c->created);
    aic_json_set_int(o, "active", c->active);
    aic_json_set(o, "skipped", c->skipped);
    aic_json_set(o, "warnings", c->warnings);
    if (c->bytes_read > 0) {
        aic_json_set_int(o, "bytes_read", (apr_int64_t)c->bytes_read);
    }
    for (int i = 0; i < c->msgs->nelts; i++) {
        const aic_import_msg *m = &APR_ARRAY_IDX(c->msgs, i, aic_import_msg);
        aic_json *j = aic_json_object(p), *meta = aic_json_object(p);

        aic_json_set_str(j, "ext", m->ext_id ? m->ext_id : apr_itoa(p, i));
        aic_json_set_int(j, "parent", m->parent);
        aic_json_set_str(j, "role", m->assistant ? "assistant" : "user");
        aic_json_set_str(j, "text", m->text ? m->text : "");
        aic_json_set_int(j, "time", m->time);
        aic_json_set_str(j, "model", m->model);
        aic_json_set_bool(j, "html", m->html);
        if (m->model) {
            aic_json_set_str(meta, "model", m->model);
        }
        if (m->attachments) {
            aic_json_set(meta, "attachments", m->attachments);
        }
        if (m->sources) {
            aic_json_set(meta, "sources", m->sources);
        }
        if (m->parts) {
            aic_json_set(meta, "parts", m->parts);
        }
        if (m->truncated) {
            aic_json_set_bool(meta, "truncated", 1);
        }
        aic_json_set_str(meta, "source", aic_import_source(c->format));
        aic_json_set(j, "meta", meta);
        aic_json_push(msgs, j);
    }
    aic_json_set(o, "messages", msgs);
    return aic_json_dump(o, p);
}
