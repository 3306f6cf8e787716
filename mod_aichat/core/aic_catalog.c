#include "aic_catalog.h"

#include <string.h>

#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>

struct aic_catalog {
    apr_int64_t version;
    int n;
    aic_catalog_item *items;
    int *order[AIC_CATALOG_SORTS]; /* order[sort][position] = index into items */
    apr_hash_t *cursors;           /* cursor -> place (a cursor names its sort) */
};

typedef struct {
    int sort;
    int position;
} place;

static const char *copy(apr_pool_t *p, const char *s)
{
    return s ? apr_pstrdup(p, s) : NULL;
}

apr_status_t aic_catalog_make(aic_catalog **out, apr_pool_t *p, apr_int64_t version,
                              const aic_catalog_item *items, int n)
{
    aic_catalog *c = apr_pcalloc(p, sizeof(*c));

    *out = NULL;
    if (n < 0) {
        return APR_EINVAL;
    }
    c->version = version;
    c->n = n;
    c->items = apr_pcalloc(p, sizeof(*c->items) * (apr_size_t)(n + 1));
    c->cursors = apr_hash_make(p);
    for (int s = 0; s < AIC_CATALOG_SORTS; s++) {
        c->order[s] = apr_palloc(p, sizeof(int) * (apr_size_t)(n + 1));
        for (int i = 0; i < n; i++) {
            c->order[s][i] = -1;
        }
    }
    for (int i = 0; i < n; i++) {
        const aic_catalog_item *in = &items[i];
        aic_catalog_item *it = &c->items[i];

        if (!in->id || !in->provider || !in->json[0] || !in->json[1]) {
            return APR_EINVAL;
        }
        it->id = copy(p, in->id);
        it->category_id = copy(p, in->category_id);
        it->provider = copy(p, in->provider);
        it->json[0] = copy(p, in->json[0]);
        it->json[1] = copy(p, in->json[1]);
        for (int s = 0; s < AIC_CATALOG_SORTS; s++) {
            int pos = in->position[s];
            place *pl;

            if (!in->cursor[s] || pos < 0 || pos >= n || c->order[s][pos] != -1) {
                return APR_EINVAL;
            }
            c->order[s][pos] = i;
            it->cursor[s] = copy(p, in->cursor[s]);
            it->position[s] = pos;
            pl = apr_palloc(p, sizeof(*pl));
            pl->sort = s;
            pl->position = pos;
            apr_hash_set(c->cursors, it->cursor[s], APR_HASH_KEY_STRING, pl);
        }
    }
    *out = c;
    return APR_SUCCESS;
}

apr_int64_t aic_catalog_version(const aic_catalog *c)
{
    return c->version;
}

/* The favourite ids as a set (ids are what the database printed: lower case). */
static apr_hash_t *favorite_set(apr_pool_t *p, const char *list)
{
    apr_hash_t *set = apr_hash_make(p);
    char *state = NULL;

    if (list) {
        for (char *id = apr_strtok(apr_pstrdup(p, list), ",", &state); id;
             id = apr_strtok(NULL, ",", &state)) {
            apr_hash_set(set, id, APR_HASH_KEY_STRING, id);
        }
    }
    return set;
}

/* Append s at o; returns the new end. */
static char *put(char *o, const char *s)
{
    apr_size_t n = strlen(s);

    memcpy(o, s, n);
    return o + n;
}

static const char *lower(apr_pool_t *p, const char *s)
{
    char *out = apr_pstrdup(p, s);

    for (char *c = out; *c; c++) {
        *c = (char)apr_tolower(*c);
    }
    return out;
}

apr_status_t aic_catalog_page(const char **json, const aic_catalog *c, const aic_catalog_query *q,
                              apr_pool_t *p)
{
    static const char head[] = "{\"items\" : [", sep[] = ", ", tail[] = "], \"next\" : ";
    const char **parts;
    const aic_catalog_item *last = NULL;
    const char *category = q->category ? lower(p, q->category) : NULL;
    apr_hash_t *favorites = favorite_set(p, q->favorites);
    apr_size_t len, count = 0;
    int start = 0;
    char *out, *o;

    *json = NULL;
    if (q->sort < 0 || q->sort >= AIC_CATALOG_SORTS || q->limit < 0) {
        return APR_EINVAL;
    }
    if (q->after) {
        const place *pl = apr_hash_get(c->cursors, q->after, APR_HASH_KEY_STRING);

        if (!pl || pl->sort != q->sort) {
            return APR_NOTFOUND;
        }
        start = pl->position + 1;
    }
    parts = apr_palloc(p, sizeof(char *) * (apr_size_t)(q->limit + 1));
    for (int pos = start; pos < c->n && count < (apr_size_t)q->limit; pos++) {
        const aic_catalog_item *it = &c->items[c->order[q->sort][pos]];
        int favorite = apr_hash_get(favorites, it->id, APR_HASH_KEY_STRING) != NULL;

        if ((category && (!it->category_id || strcmp(it->category_id, category))) ||
            (q->provider && strcmp(it->provider, q->provider)) ||
            (q->favorites_only && !favorite)) {
            continue;
        }
        parts[count++] = it->json[favorite];
        last = it;
    }
    /* As the statement does: a full page has a next cursor, even if nothing follows. */
    if (count != (apr_size_t)q->limit) {
        last = NULL;
    }
    len = sizeof(head) + sizeof(tail) + (last ? strlen(last->cursor[q->sort]) + 2 : 4) + 1;
    for (apr_size_t i = 0; i < count; i++) {
        len += strlen(parts[i]) + sizeof(sep);
    }
    o = out = apr_palloc(p, len);
    o = put(o, head);
    for (apr_size_t i = 0; i < count; i++) {
        o = put(put(o, i ? sep : ""), parts[i]);
    }
    o = put(o, tail);
    o = last ? put(put(put(o, "\""), last->cursor[q->sort]), "\"") : put(o, "null");
    o = put(o, "}");
    *o = '\0';
    *json = out;
    return APR_SUCCESS;
}
