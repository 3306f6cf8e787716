/* Google Takeout, My Activity > Gemini Apps (providers.md §5.3): entries
 * newest first, no conversation id in shape A (each prompt is a
 * conversation), a titleUrl id in shape B (entries grouped). The turns of a
 * file are collected, then grouped and ordered by time. */
#include "import.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *conv;   /* the titleUrl id, or NULL */
    const char *time_s; /* as exported */
    apr_int64_t time;
    int order;
    const char *id; /* unique in the file */
    const char *prompt;
    apr_array_header_t *answers; /* const char * */
    aic_json *attachments;
} turn;

struct aic_import_gemini {
    apr_pool_t *pool;
    apr_array_header_t *turns; /* turn */
};

static const char *const headers[] = {"Gemini Apps", "Gemini", "Bard", NULL};

aic_import_gemini *aic_import_gemini_new(apr_pool_t *p)
{
    aic_import_gemini *g = apr_pcalloc(p, sizeof(*g));

    g->pool = p;
    g->turns = apr_array_make(p, 16, sizeof(turn));
    return g;
}

static int blank(const char *s)
{
    for (; s && *s; s++) {
        if (*s != ' ' && *s != '\n' && *s != '\t' && *s != '\r') {
            return 0;
        }
    }
    return 1;
}

/* The conversation id of .../app/c/<id> or .../app/<id>. */
static const char *conv_id(apr_pool_t *p, const char *url)
{
    const char *s = url ? strstr(url, "gemini.google.com/app/") : NULL;
    apr_size_t len;

    if (!s) {
        return NULL;
    }
    s += strlen("gemini.google.com/app/");
    if (strncmp(s, "c/", 2) == 0) {
        s += 2;
    }
    len = strcspn(s, "/?#");
    return len ? apr_pstrmemdup(p, s, len) : NULL;
}

static turn *new_turn(aic_import_gemini *g, const aic_json *entry, int order, int k)
{
    turn *t = apr_array_push(g->turns);
    apr_pool_t *p = g->pool;

    memset(t, 0, sizeof(*t));
    t->conv = conv_id(p, aic_json_cstr(aic_json_get(entry, "titleUrl")));
    t->time_s = aic_import_str(entry, "time", p);
    t->time = aic_import_iso_time(t->time_s);
    t->order = order;
    t->id = apr_psprintf(p, "%s#%d", t->time_s ? t->time_s : "", k);
    t->answers = apr_array_make(p, 2, sizeof(const char *));
    return t;
}

static void add_answer(turn *t, apr_pool_t *p, const char *text)
{
    if (!blank(text)) {
        APR_ARRAY_PUSH(t->answers, const char *) = apr_pstrdup(p, text);
    }
}

/* Attach the file name to the turn unless seen has it. */
static void attach(turn *t, apr_pool_t *p, apr_hash_t *seen, const char *name)
{
    aic_json *o;

    if (!name || apr_hash_get(seen, name, APR_HASH_KEY_STRING)) {
        return;
    }
    apr_hash_set(seen, name, APR_HASH_KEY_STRING, name);
    if (!t->attachments) {
        t->attachments = aic_json_array(p);
    }
    o = aic_json_object(p);
    aic_json_set_str(o, "name", name);
    aic_json_push(t->attachments, o);
}

/* The entry's image and attached files, each name once (the names seen
 * kept in a pool of their own: the turn lives as long as the file). */
static void attachments(turn *t, apr_pool_t *p, const aic_json *entry)
{
    const char *image = aic_json_cstr(aic_json_get(entry, "imageFile"));
    const aic_json *files = aic_json_get(entry, "attachedFiles");
    apr_pool_t *scratch;
    apr_hash_t *seen;

    if (!image && !aic_json_len(files)) {
        return;
    }
    apr_pool_create(&scratch, p);
    seen = apr_hash_make(scratch);
    attach(t, p, seen, image);
    for (apr_size_t i = 0; i < aic_json_len(files); i++) {
        attach(t, p, seen, aic_json_cstr(aic_json_at(files, i)));
    }
    apr_pool_destroy(scratch);
}

const char *aic_import_gemini_entry(aic_import_gemini *g, const aic_json *entry, int order)
{
    apr_pool_t *p = g->pool;
    const aic_json *details = aic_json_get(entry, "details");
    const aic_json *inter = aic_json_get(entry, "userInteractions");
    const char *title = aic_json_cstr(aic_json_get(entry, "title"));
    const char *header = aic_json_cstr(aic_json_get(entry, "header"));
    const char *request = NULL;
    const char *const *h;
    turn *t;

    if (aic_json_typeof(entry) != AIC_JSON_OBJECT) {
        return "not_an_entry";
    }
    for (h = headers; header && *h && strcmp(*h, header) != 0; h++) {
    }
    if (!header || !*h) {
        return "not_gemini";
    }
    for (apr_size_t i = 0; i < aic_json_len(details); i++) {
        const char *name = aic_json_cstr(aic_json_get(aic_json_at(details, i), "name"));

        if (name && strcmp(name, "Request") == 0 && !request) {
            request = aic_json_cstr(aic_json_get(aic_json_at(details, i), "value"));
            request = request ? request : "";
        }
    }
    if (request) {
        if (blank(request)) {
            return "empty";
        }
        t = new_turn(g, entry, order, 0);
        t->prompt = apr_pstrdup(p, request);
        for (apr_size_t i = 0; i < aic_json_len(details); i++) {
            const aic_json *d = aic_json_at(details, i);
            const char *name = aic_json_cstr(aic_json_get(d, "name"));

            if (name && strcmp(name, "Response") == 0) {
                add_answer(t, p, aic_json_cstr(aic_json_get(d, "value")));
            }
        }
    } else if (aic_json_len(inter) > 0) {
        for (apr_size_t i = 0; i < aic_json_len(inter); i++) {
            const aic_json *u = aic_json_get(aic_json_at(inter, i), "userInteraction");
            const char *req = aic_json_cstr(aic_json_get(u, "request"));

            if (blank(req)) {
                continue;
            }
            t = new_turn(g, entry, order, (int)i);
            t->prompt = apr_pstrdup(p, req);
            add_answer(t, p, aic_json_cstr(aic_json_get(u, "response")));
        }
        return NULL;
    } else if (title && strncmp(title, "Prompted ", 9) == 0) {
        const aic_json *items = aic_json_get(entry, "safeHtmlItem");

        if (blank(title + 9)) {
            return "empty";
        }
        t = new_turn(g, entry, order, 0);
        t->prompt = apr_pstrdup(p, title + 9);
        for (apr_size_t i = 0; i < aic_json_len(items); i++) {
            add_answer(t, p, aic_json_cstr(aic_json_get(aic_json_at(items, i), "html")));
        }
    } else {
        return "not_a_prompt";
    }
    attachments(t, p, entry);
    return NULL;
}

/* Oldest first; a tie: the entry later in the file is the older. */
static int by_time(const void *a, const void *b)
{
    const turn *x = *(turn *const *)a, *y = *(turn *const *)b;

    if (x->time != y->time) {
        return x->time < y->time ? -1 : 1;
    }
    return x->order > y->order ? -1 : (x->order < y->order);
}

static apr_status_t emit(apr_array_header_t *turns, aic_import_conv_fn fn, void *baton,
                         apr_pool_t *p)
{
    aic_import_conv *c = aic_import_conv_new(p, AIC_IMPORT_GEMINI);
    const char *last = NULL;
    turn **ts = (turn **)turns->elts;
    apr_hash_t *ids = apr_hash_make(p);

    qsort(ts, (size_t)turns->nelts, sizeof(turn *), by_time);
    c->ext_id = ts[0]->conv ? ts[0]->conv : ts[0]->time_s;
    c->created = ts[0]->time;
    c->updated = ts[turns->nelts - 1]->time;
    for (int i = 0; i < turns->nelts; i++) {
        turn *t = ts[i];
        aic_import_msg *m = aic_import_msg_add(c);
        const char *base = t->id, *prompt_id;

        /* Two turns at the same time: the later one's ids get a suffix. */
        for (int n = 2; apr_hash_get(ids, base, APR_HASH_KEY_STRING); n++) {
            base = apr_psprintf(p, "%s~%d", t->id, n);
        }
        apr_hash_set(ids, base, APR_HASH_KEY_STRING, base);
        prompt_id = apr_pstrcat(p, base, "p", NULL);

        m->ext_id = prompt_id;
        m->raw_parent = last;
        m->time = t->time;
        m->attachments = t->attachments;
        aic_import_msg_text(c, m, t->prompt, strlen(t->prompt));
        last = prompt_id;
        for (int k = 0; k < t->answers->nelts; k++) {
            const char *a = APR_ARRAY_IDX(t->answers, k, const char *);

            m = aic_import_msg_add(c);
            m->ext_id = apr_psprintf(p, "%sa%d", base, k);
            m->raw_parent = prompt_id;
            m->assistant = 1;
            m->html = 1;
            m->time = t->time;
            aic_import_msg_text(c, m, a, strlen(a));
            last = m->ext_id;
        }
    }
    if (aic_import_tree(c, p, NULL, last) != APR_SUCCESS) {
        return APR_SUCCESS; /* cannot happen: every id is unique and parents come first */
    }
    aic_import_title(c, p, NULL);
    return fn(baton, c, p);
}

apr_status_t aic_import_gemini_finish(aic_import_gemini *g, aic_import_conv_fn conv, void *baton)
{
    apr_hash_t *groups = apr_hash_make(g->pool);
    apr_array_header_t *keys = apr_array_make(g->pool, 8, sizeof(const char *));
    apr_status_t rv = APR_SUCCESS;

    for (int i = 0; i < g->turns->nelts; i++) {
        turn *t = &APR_ARRAY_IDX(g->turns, i, turn);
        const char *key = t->conv ? t->conv : apr_pstrcat(g->pool, "\n", t->id, NULL);
        apr_array_header_t *list = apr_hash_get(groups, key, APR_HASH_KEY_STRING);

        if (!list) {
            list = apr_array_make(g->pool, 4, sizeof(turn *));
            apr_hash_set(groups, key, APR_HASH_KEY_STRING, list);
            APR_ARRAY_PUSH(keys, const char *) = key;
        }
        APR_ARRAY_PUSH(list, turn *) = t;
    }
    for (int i = 0; i < keys->nelts && rv == APR_SUCCESS; i++) {
        apr_pool_t *p;

        apr_pool_create(&p, g->pool);
        rv = emit(apr_hash_get(groups, APR_ARRAY_IDX(keys, i, const char *), APR_HASH_KEY_STRING),
                  conv, baton, p);
        apr_pool_destroy(p);
    }
    return rv;
}
