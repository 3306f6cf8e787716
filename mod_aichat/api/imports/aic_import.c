/* What every format shares: the document reader (first pass: validate and
 * recognise; second pass: hand each item to its format), the tree builder,
 * titles, times and text limits (providers.md §5.0, §5.6). */
#include "import.h"

#include <apr_strings.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/aic_jstream.h"

const char *aic_import_source(aic_import_format f)
{
    switch (f) {
    case AIC_IMPORT_CHATGPT:
    case AIC_IMPORT_CHATGPT_FEEDBACK:
        return "chatgpt";
    case AIC_IMPORT_CLAUDE:
        return "claude";
    case AIC_IMPORT_GEMINI:
        return "gemini";
    case AIC_IMPORT_MISTRAL_CHAT:
    case AIC_IMPORT_MISTRAL_VARIANT:
        return "mistral";
    default:
        return NULL;
    }
}

void aic_import_count(aic_json *counts, const char *key, int n)
{
    aic_json *v = aic_json_get(counts, key);

    aic_json_set_int(counts, key, (v ? aic_json_int(v) : 0) + n);
}

const char *aic_import_str(const aic_json *obj, const char *key, apr_pool_t *p)
{
    return aic_json_str(aic_json_get(obj, key), p);
}

aic_import_conv *aic_import_conv_new(apr_pool_t *p, aic_import_format f)
{
    aic_import_conv *c = apr_pcalloc(p, sizeof(*c));

    c->format = f;
    c->msgs = apr_array_make(p, 16, sizeof(aic_import_msg));
    c->active = -1;
    c->skipped = aic_json_object(p);
    c->warnings = aic_json_object(p);
    return c;
}

aic_import_msg *aic_import_msg_add(aic_import_conv *c)
{
    aic_import_msg *m = apr_array_push(c->msgs);

    memset(m, 0, sizeof(*m));
    m->parent = -1;
    m->order = c->msgs->nelts - 1;
    return m;
}

void aic_import_source_add(aic_import_sources *s, apr_pool_t *p, const char *url)
{
    if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        return;
    }
    if (!s->list) {
        s->list = aic_json_array(p);
        s->seen = apr_hash_make(p);
    }
    if (!apr_hash_get(s->seen, url, APR_HASH_KEY_STRING)) {
        apr_hash_set(s->seen, url, APR_HASH_KEY_STRING, url);
        aic_json_push_str(s->list, url);
    }
}

void aic_import_msg_text(aic_import_conv *c, aic_import_msg *m, const char *text, apr_size_t len)
{
    if (len > AIC_IMPORT_MAX_TEXT) {
        apr_size_t cut = AIC_IMPORT_MAX_TEXT;

        /* The last complete character at or below the limit. */
        while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80) {
            cut--;
        }
        len = cut;
        m->truncated = 1;
        aic_import_count(c->warnings, "message_truncated", 1);
    }
    m->text = apr_pstrmemdup(c->msgs->pool, text, len);
}

/* ---- times ---- */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static apr_int64_t days_from_civil(apr_int64_t y, unsigned m, unsigned d)
{
    apr_int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (apr_int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

apr_int64_t aic_import_iso_time(const char *s)
{
    int y, mo, d, h, mi, sec, frac = 0, scale = 1000000;
    apr_int64_t t;
    const char *q;

    if (!s || strlen(s) < 19 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &sec) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60) {
        return 0;
    }
    q = s + 19;
    if (*q == '.') {
        q++;
        while (*q >= '0' && *q <= '9') {
            if (scale > 1) {
                scale /= 10;
                frac += (*q - '0') * scale;
            }
            q++;
        }
    }
    t = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi) * 60 + sec;
    if (*q == '+' || *q == '-') {
        int oh, om;

        if (!digits(q + 1, 2, &oh) || q[3] != ':' || !digits(q + 4, 2, &om)) {
            return 0;
        }
        t -= (*q == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    } else if (*q != 'Z' && *q != '\0') {
        return 0;
    }
    return t * 1000000 + frac;
}

apr_int64_t aic_import_epoch_time(const aic_json *v)
{
    aic_json_type t = aic_json_typeof(v);
    double d;

    if (t != AIC_JSON_INT && t != AIC_JSON_DOUBLE) {
        return 0;
    }
    d = aic_json_num(v);
    if (!isfinite(d) || d <= 0 || d > 1e11) {
        return 0;
    }
    return (apr_int64_t)(d * 1e6 + 0.5);
}

/* ---- the tree ---- */

typedef struct {
    apr_array_header_t *kids; /* int */
} node_kids;

apr_status_t aic_import_tree(aic_import_conv *c, apr_pool_t *p, apr_hash_t *skipped_parent,
                             const char *active_raw)
{
    int n = c->msgs->nelts, limit;
    aic_import_msg *in = (aic_import_msg *)c->msgs->elts;
    apr_hash_t *stored = apr_hash_make(p);
    int *color, *stack, *newidx, top = 0, active = -1;
    apr_array_header_t *out, *roots;
    node_kids *kids;

    if (n > AIC_IMPORT_MAX_NODES) {
        return APR_ENOSPC;
    }
    limit = n + (skipped_parent ? (int)apr_hash_count(skipped_parent) : 0) + 2;
    for (int i = 0; i < n; i++) {
        if (in[i].ext_id) {
            apr_hash_set(stored, in[i].ext_id, APR_HASH_KEY_STRING, &in[i]);
        }
    }
    /* Each stored node's nearest stored ancestor. */
    for (int i = 0; i < n; i++) {
        const char *pid = in[i].raw_parent;
        int steps = 0;

        in[i].parent = -1;
        while (pid && *pid) {
            aic_import_msg *pm = apr_hash_get(stored, pid, APR_HASH_KEY_STRING);
            const char *up;

            if (pm) {
                in[i].parent = (int)(pm - in);
                break;
            }
            up = skipped_parent ? apr_hash_get(skipped_parent, pid, APR_HASH_KEY_STRING) : NULL;
            if (!up) {
                aic_import_count(c->warnings, "orphan_node", 1);
                break;
            }
            if (++steps > limit) {
                return APR_EINVAL;
            }
            pid = up;
        }
    }
    /* Loops among stored nodes. */
    color = apr_pcalloc(p, sizeof(int) * (apr_size_t)(n + 1));
    for (int i = 0; i < n; i++) {
        int j = i;

        while (j >= 0 && color[j] == 0) {
            color[j] = 1;
            j = in[j].parent;
        }
        if (j >= 0 && color[j] == 1) {
            return APR_EINVAL;
        }
        for (j = i; j >= 0 && color[j] == 1; j = in[j].parent) {
            color[j] = 2;
        }
    }
    /* Children in document order; then parents first, depth first. */
    kids = apr_pcalloc(p, sizeof(node_kids) * (apr_size_t)(n + 1));
    roots = apr_array_make(p, 4, sizeof(int));
    for (int i = 0; i < n; i++) {
        apr_array_header_t **list = in[i].parent >= 0 ? &kids[in[i].parent].kids : &roots;

        if (!*list) {
            *list = apr_array_make(p, 2, sizeof(int));
        }
        APR_ARRAY_PUSH(*list, int) = i;
    }
    out = apr_array_make(c->msgs->pool, n ? n : 1, sizeof(aic_import_msg));
    newidx = apr_pcalloc(p, sizeof(int) * (apr_size_t)(n + 1));
    stack = apr_pcalloc(p, sizeof(int) * (apr_size_t)(n + 1));
    for (int r = roots->nelts - 1; r >= 0; r--) {
        stack[top++] = APR_ARRAY_IDX(roots, r, int);
    }
    while (top > 0) {
        int i = stack[--top];
        aic_import_msg *m = apr_array_push(out);

        *m = in[i];
        newidx[i] = out->nelts - 1;
        if (m->parent >= 0) {
            aic_import_msg *pm = &APR_ARRAY_IDX(out, newidx[m->parent], aic_import_msg);

            m->parent = newidx[m->parent];
            if (!m->time) {
                m->time = pm->time;
            }
        }
        if (!m->time) {
            m->time = c->created;
        }
        if (kids[i].kids) {
            for (int k = kids[i].kids->nelts - 1; k >= 0; k--) {
                stack[top++] = APR_ARRAY_IDX(kids[i].kids, k, int);
            }
        }
    }
    /* The active leaf: the source's node, or the nearest stored ancestor of it. */
    if (active_raw) {
        const char *pid = active_raw;
        int steps = 0;

        while (pid && *pid && steps++ <= limit) {
            aic_import_msg *pm = apr_hash_get(stored, pid, APR_HASH_KEY_STRING);

            if (pm) {
                active = newidx[pm - in];
                break;
            }
            pid = skipped_parent ? apr_hash_get(skipped_parent, pid, APR_HASH_KEY_STRING) : NULL;
        }
    }
    c->msgs = out;
    if (active < 0) {
        /* The newest leaf; a tie goes to the later one in the document. */
        aic_import_msg *o = (aic_import_msg *)out->elts;
        int *has_kid = apr_pcalloc(p, sizeof(int) * (apr_size_t)(out->nelts + 1));

        for (int i = 0; i < out->nelts; i++) {
            if (o[i].parent >= 0) {
                has_kid[o[i].parent] = 1;
            }
        }
        for (int i = 0; i < out->nelts; i++) {
            if (!has_kid[i] && (active < 0 || o[i].time > o[active].time ||
                                (o[i].time == o[active].time && o[i].order > o[active].order))) {
                active = i;
            }
        }
    }
    c->active = active;
    return APR_SUCCESS;
}

/* ---- titles ---- */

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' || ch == '\v';
}

/* s with whitespace runs made one space, trimmed. */
static char *collapse(apr_pool_t *p, const char *s, apr_size_t len)
{
    char *out = apr_palloc(p, len + 1), *o = out;
    int space = 0;

    for (apr_size_t i = 0; i < len; i++) {
        if (is_space(s[i])) {
            space = (o != out);
            continue;
        }
        if (space) {
            *o++ = ' ';
            space = 0;
        }
        *o++ = s[i];
    }
    *o = '\0';
    return out;
}

/* s cut to max code points: the first max-1, trailing spaces dropped, then U+2026. */
static const char *limit_points(apr_pool_t *p, const char *s, int max)
{
    int points = 0;
    apr_size_t i, cut = 0;

    for (i = 0; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (points == max - 1) {
                cut = i;
            }
            points++;
        }
    }
    if (points <= max) {
        return s;
    }
    while (cut > 0 && s[cut - 1] == ' ') {
        cut--;
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, s, cut), "\xE2\x80\xA6", NULL);
}

void aic_import_title(aic_import_conv *c, apr_pool_t *p, const char *given)
{
    aic_import_msg *m = (aic_import_msg *)c->msgs->elts;
    const char *first = NULL;

    if (given) {
        char *t = collapse(p, given, strlen(given));

        if (*t) {
            c->title = limit_points(p, t, AIC_IMPORT_MAX_TITLE);
            return;
        }
    }
    /* The first user message on the active path, from the root. */
    for (int i = c->active; i >= 0; i = m[i].parent) {
        if (!m[i].assistant && m[i].text) {
            first = m[i].text;
        }
    }
    while (first && *first) {
        const char *nl = strchr(first, '\n');
        apr_size_t len = nl ? (apr_size_t)(nl - first) : strlen(first);
        char *line = collapse(p, first, len);

        if (*line) {
            c->title = limit_points(p, line, AIC_IMPORT_MAX_DERIVED);
            return;
        }
        first = nl ? nl + 1 : NULL;
    }
    c->title = "Untitled";
}

/* ---- recognising a document (providers.md §5.6) ---- */

static int is_str(const aic_json *obj, const char *key, const char *const *values)
{
    const char *s = aic_json_typeof(aic_json_get(obj, key)) == AIC_JSON_STRING
                        ? aic_json_cstr(aic_json_get(obj, key))
                        : NULL;

    for (; s && *values; values++) {
        if (strcmp(s, *values) == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *const roles[] = {"user", "assistant", "system", NULL};
static const char *const gemini_headers[] = {"Gemini Apps", "Gemini", "Bard", NULL};

static int has_type(const aic_json *obj, const char *key, aic_json_type t)
{
    return aic_json_typeof(aic_json_get(obj, key)) == t;
}

/* An element of a {conversations:[...]} wrapper. */
static int sniff_wrapped(aic_import_format *f, const aic_json *item)
{
    if (has_type(item, "mapping", AIC_JSON_OBJECT)) {
        *f = AIC_IMPORT_CHATGPT;
    } else if (has_type(item, "messages", AIC_JSON_ARRAY)) {
        *f = AIC_IMPORT_MISTRAL_VARIANT;
    } else if (aic_json_has(item, "conversation") && aic_json_has(item, "responses")) {
        *f = AIC_IMPORT_GROK;
    } else {
        return 0;
    }
    return 1;
}

int aic_import_sniff(aic_import_format *f, const char *key, int member, const aic_json *item)
{
    if (aic_json_typeof(item) != AIC_JSON_OBJECT) {
        return 0;
    }
    if (!key) {
        if (has_type(item, "mapping", AIC_JSON_OBJECT)) {
            *f = AIC_IMPORT_CHATGPT;
        } else if (aic_json_has(item, "uuid") && has_type(item, "chat_messages", AIC_JSON_ARRAY)) {
            *f = AIC_IMPORT_CLAUDE;
        } else if (is_str(item, "header", gemini_headers) && aic_json_has(item, "time")) {
            *f = AIC_IMPORT_GEMINI;
        } else if (is_str(item, "role", roles) &&
                   (aic_json_has(item, "content") || aic_json_has(item, "contentChunks"))) {
            *f = AIC_IMPORT_MISTRAL_CHAT;
        } else {
            return 0;
        }
        return 1;
    }
    if (member) {
        return 0;
    }
    if (strcmp(key, "conversations") == 0) {
        return sniff_wrapped(f, item);
    }
    if (strcmp(key, "messages") == 0 && aic_json_has(item, "role")) {
        *f = AIC_IMPORT_MISTRAL_CHAT;
        return 1;
    }
    return 0;
}

/* ---- the document reader ---- */

struct aic_import_doc {
    apr_pool_t *pool;
    const char *name;
    aic_import_format format;
    int first_pass;
    aic_jstream *js;
    aic_import_conv_fn conv;
    aic_import_reject_fn reject;
    void *baton;
    int count, order;
    aic_json *skipped;
    const char *code, *message;
    /* a Mistral chat: its messages, id, title, model, created_at */
    aic_json *mistral_msgs;
    const char *m_id, *m_title, *m_model, *m_created;
    aic_import_gemini *gemini;
    /* ChatGPT feedback: records waiting to be handed on */
    aic_import_feedback_fn feedback;
    apr_pool_t *fbp; /* the batch's pool */
    aic_json *records;
};

#define FEEDBACK_BATCH 500

/* One record of message_feedback.json (providers.md §5.1) as
 * aic_import_feedback_fn takes it, or NULL when it names no message or
 * rating. */
static aic_json *feedback_record(const aic_json *item, apr_pool_t *p)
{
    const char *conv = aic_json_cstr(aic_json_get(item, "conversation_id"));
    const char *msg = aic_json_cstr(aic_json_get(item, "message_id"));
    const char *rating = aic_json_cstr(aic_json_get(item, "rating"));
    const char *content = aic_json_cstr(aic_json_get(item, "content"));
    apr_int64_t time = aic_import_iso_time(aic_json_cstr(aic_json_get(item, "create_time")));
    aic_json *r, *parsed = NULL;
    const char *comment = NULL, *err;

    msg = msg ? msg : aic_json_cstr(aic_json_get(item, "id"));
    if (!conv || !msg || !rating ||
        (strcmp(rating, "thumbsUp") != 0 && strcmp(rating, "thumbsDown") != 0)) {
        return NULL;
    }
    r = aic_json_object(p);
    aic_json_set_str(r, "conversation", conv);
    aic_json_set_str(r, "message", msg);
    aic_json_set_int(r, "rating", strcmp(rating, "thumbsUp") == 0 ? 1 : -1);
    /* content is JSON in a string: {"tags": [...], "text": "..."} */
    if (content && aic_json_parse(&parsed, &err, p, content, strlen(content)) == APR_SUCCESS) {
        comment = aic_json_cstr(aic_json_get(parsed, "text"));
    }
    if (comment && *comment) {
        aic_json_set_str(r, "comment", comment);
    }
    if (time) {
        aic_json_set_int(r, "time", time);
    }
    return r;
}

static apr_status_t feedback_flush(aic_import_doc *d)
{
    apr_status_t rv = APR_SUCCESS;

    if (aic_json_len(d->records) > 0 && d->feedback) {
        rv = d->feedback(d->baton, d->records, d->fbp);
    }
    apr_pool_clear(d->fbp);
    d->records = aic_json_array(d->fbp);
    return rv;
}

/* The conversation id of a Mistral chat file: the uuid of chat-<uuid>.json,
 * else the file's name without .json. */
static const char *mistral_file_id(apr_pool_t *p, const char *name)
{
    const char *base = name ? strrchr(name, '/') : NULL;
    apr_size_t len;

    base = base ? base + 1 : (name ? name : "chat.json");
    len = strlen(base);
    if (len > 5 && strcasecmp(base + len - 5, ".json") == 0) {
        len -= 5;
    }
    if (len > 5 && strncmp(base, "chat-", 5) == 0) {
        base += 5;
        len -= 5;
    }
    return apr_pstrmemdup(p, base, len);
}

static apr_status_t hand_on(aic_import_doc *d, apr_status_t rv, aic_import_conv *c,
                            const char *reason, const char *message, const char *ext_id,
                            const char *title, apr_pool_t *p)
{
    if (rv != APR_SUCCESS) {
        d->reject(d->baton, ext_id, title, reason ? reason : "invalid_conversation", message);
        return APR_SUCCESS;
    }
    if (!c) {
        aic_import_count(d->skipped, reason, 1);
        return APR_SUCCESS;
    }
    return d->conv(d->baton, c, p);
}

static apr_status_t on_item(void *baton, const char *key, int member, aic_json *item, apr_pool_t *p)
{
    aic_import_doc *d = baton;
    aic_import_conv *c = NULL;
    const char *reason = NULL, *message = NULL;
    apr_status_t rv = APR_SUCCESS;
    int order = d->order++;

    if (d->first_pass) {
        aic_import_format f = AIC_IMPORT_UNKNOWN;

        if (d->format == AIC_IMPORT_UNKNOWN) {
            if (aic_import_sniff(&f, key, member, item)) {
                d->format = f;
            }
        } else if (!aic_import_sniff(&f, key, member, item) || f != d->format) {
            return APR_SUCCESS;
        }
        if (d->format != AIC_IMPORT_UNKNOWN && d->format != AIC_IMPORT_MISTRAL_CHAT) {
            d->count++;
        } else if (d->format == AIC_IMPORT_MISTRAL_CHAT) {
            d->count = 1;
        }
        return APR_SUCCESS;
    }
    switch (d->format) {
    case AIC_IMPORT_CHATGPT:
        if (key && strcmp(key, "conversations") != 0) {
            return APR_SUCCESS;
        }
        if (member) {
            return APR_SUCCESS;
        }
        rv = aic_import_chatgpt(&c, &reason, &message, item, p);
        return hand_on(d, rv, c, reason, message,
                       aic_json_cstr(aic_json_get(item, "conversation_id"))
                           ? aic_json_cstr(aic_json_get(item, "conversation_id"))
                           : aic_json_cstr(aic_json_get(item, "id")),
                       aic_json_cstr(aic_json_get(item, "title")), p);
    case AIC_IMPORT_CLAUDE:
        if (key) {
            return APR_SUCCESS;
        }
        rv = aic_import_claude(&c, &reason, &message, item, p);
        return hand_on(d, rv, c, reason, message, aic_json_cstr(aic_json_get(item, "uuid")),
                       aic_json_cstr(aic_json_get(item, "name")), p);
    case AIC_IMPORT_MISTRAL_VARIANT:
        if (!key || member) {
            return APR_SUCCESS;
        }
        if (strcmp(key, "conversations") != 0) {
            aic_import_count(d->skipped, "not_a_conversation", 1);
            return APR_SUCCESS;
        }
        rv = aic_import_mistral(&c, &reason, &message, aic_json_get(item, "messages"),
                                aic_import_str(item, "id", p), aic_import_str(item, "title", p),
                                aic_import_str(item, "model", p),
                                aic_import_str(item, "created_at", p), p);
        return hand_on(d, rv, c, reason, message, aic_json_cstr(aic_json_get(item, "id")),
                       aic_json_cstr(aic_json_get(item, "title")), p);
    case AIC_IMPORT_MISTRAL_CHAT:
        if (key && member) {
            const char *s = aic_json_cstr(item);

            s = s ? apr_pstrdup(d->pool, s) : NULL;
            if (strcmp(key, "id") == 0) {
                d->m_id = s;
            } else if (strcmp(key, "title") == 0) {
                d->m_title = s;
            } else if (strcmp(key, "model") == 0) {
                d->m_model = s;
            } else if (strcmp(key, "created_at") == 0) {
                d->m_created = s;
            }
            return APR_SUCCESS;
        }
        if (key && strcmp(key, "messages") != 0) {
            return APR_SUCCESS;
        }
        if (aic_json_len(d->mistral_msgs) >= AIC_IMPORT_MAX_NODES) {
            d->code = "limit_exceeded";
            d->message = "more messages in one conversation than the limit";
            return APR_ENOSPC;
        }
        /* Kept until the end of the file: the file is the conversation. */
        aic_json_push(d->mistral_msgs, item);
        return APR_SUCCESS;
    case AIC_IMPORT_CHATGPT_FEEDBACK: {
        aic_json *r = key ? NULL : feedback_record(item, d->fbp);

        if (!key && !r) {
            aic_import_count(d->skipped, "feedback_unlinked", 1);
        }
        if (r) {
            aic_json_push(d->records, r);
        }
        return aic_json_len(d->records) >= FEEDBACK_BATCH ? feedback_flush(d) : APR_SUCCESS;
    }
    case AIC_IMPORT_GEMINI:
        if (key) {
            return APR_SUCCESS;
        }
        reason = aic_import_gemini_entry(d->gemini, item, order);
        if (reason) {
            aic_import_count(d->skipped, reason, 1);
        }
        return APR_SUCCESS;
    default:
        return APR_SUCCESS;
    }
}

aic_import_doc *aic_import_doc_create(apr_pool_t *p, const char *name, aic_import_format format,
                                      aic_import_conv_fn conv, aic_import_reject_fn reject,
                                      void *baton)
{
    aic_import_doc *d = apr_pcalloc(p, sizeof(*d));

    d->pool = p;
    d->name = name;
    d->format = format;
    d->first_pass = format == AIC_IMPORT_UNKNOWN;
    d->conv = conv;
    d->reject = reject;
    d->baton = baton;
    d->skipped = aic_json_object(p);
    d->mistral_msgs = aic_json_array(p);
    apr_pool_create(&d->fbp, p);
    d->records = aic_json_array(d->fbp);
    if (format == AIC_IMPORT_GEMINI) {
        d->gemini = aic_import_gemini_new(p);
    }
    d->js = aic_jstream_create(p, AIC_IMPORT_MAX_DEPTH, AIC_IMPORT_MAX_STRING, on_item, d);
    return d;
}

static apr_status_t doc_status(aic_import_doc *d, apr_status_t rv)
{
    if (rv == AIC_JSTREAM_EBAD) {
        apr_off_t off;

        aic_jstream_error(d->js, &d->code, &d->message, &off);
    }
    return rv;
}

apr_status_t aic_import_doc_feed(aic_import_doc *d, const char *buf, apr_size_t len)
{
    return doc_status(d, aic_jstream_feed(d->js, buf, len));
}

apr_status_t aic_import_doc_finish(aic_import_doc *d)
{
    apr_status_t rv = doc_status(d, aic_jstream_finish(d->js));
    apr_pool_t *p;

    if (rv != APR_SUCCESS || d->first_pass) {
        return rv;
    }
    apr_pool_create(&p, d->pool);
    if (d->format == AIC_IMPORT_MISTRAL_CHAT) {
        aic_import_conv *c = NULL;
        const char *reason = NULL, *message = NULL;
        const char *id = d->m_id ? d->m_id : mistral_file_id(p, d->name);

        rv = aic_import_mistral(&c, &reason, &message, d->mistral_msgs, id, d->m_title, d->m_model,
                                d->m_created, p);
        rv = hand_on(d, rv, c, reason, message, id, d->m_title, p);
    } else if (d->format == AIC_IMPORT_GEMINI) {
        rv = aic_import_gemini_finish(d->gemini, d->conv, d->baton);
    } else if (d->format == AIC_IMPORT_CHATGPT_FEEDBACK) {
        rv = feedback_flush(d);
    }
    apr_pool_destroy(p);
    return rv;
}

void aic_import_doc_on_feedback(aic_import_doc *d, aic_import_feedback_fn feedback)
{
    d->feedback = feedback;
}

void aic_import_doc_error(const aic_import_doc *d, const char **code, const char **message)
{
    *code = d->code ? d->code : "invalid_json";
    *message = d->message ? d->message : "the file could not be read";
}

aic_import_format aic_import_doc_format(const aic_import_doc *d)
{
    return d->format;
}

int aic_import_doc_count(const aic_import_doc *d)
{
    return d->count;
}

aic_json *aic_import_doc_skipped(const aic_import_doc *d)
{
    return d->skipped;
}
