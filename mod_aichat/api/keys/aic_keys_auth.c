/* AuthType aichat-key: requests that carry `Authorization: Bearer <key>` are
 * authenticated by the key's SHA-256 (a key is 256 random bits: no salt and
 * no slow hash are needed, so no bcrypt on this path), looked up in one
 * statement or taken from the memo of keys found in the last second.
 * r->user becomes the key's owner, so Require, the access log and the audit
 * row see a user as for any other Apache authentication; the key itself goes
 * nowhere but into the hash. A refusal is 401 with the reason in r->notes
 * (aichat-key-error), which the API's error document reads. */
#include "keys.h"

#include <http_core.h>
#include <http_log.h>
#include <http_request.h>
#include <mod_auth.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "core/aic_digest.h"
#include "httpd/aic_memo.h"

APLOG_USE_MODULE(aichat);

#define AUTH_TYPE "aichat-key"
#define USERDATA  "aichat-api-key"

int aic_keys_shaped(const char *key)
{
    apr_size_t lead = sizeof(AIC_KEY_LEAD) - 1;

    if (!key || strncmp(key, AIC_KEY_LEAD, lead) || strlen(key) != lead + AIC_KEY_RANDOM_CHARS) {
        return 0;
    }
    for (const char *c = key + lead; *c; c++) {
        if (!apr_isalnum(*c) && *c != '-' && *c != '_') {
            return 0;
        }
    }
    return 1;
}

const char *aic_keys_hash(apr_pool_t *p, const char *key)
{
    unsigned char sum[AIC_SHA256_LEN];
    const void *parts[] = {key};
    apr_size_t lens[] = {strlen(key)};
    char *hex = apr_palloc(p, 2 * AIC_SHA256_LEN + 1);

    if (aic_sha256(sum, 1, parts, lens) != APR_SUCCESS) {
        return NULL;
    }
    for (int i = 0; i < AIC_SHA256_LEN; i++) {
        apr_snprintf(hex + 2 * i, 3, "%02x", sum[i]);
    }
    return hex;
}

/* What the authentication needs of a key. */
typedef struct {
    const char *id, *prefix, *user, *state, *models;
    int rpm, tpm, keep;
    apr_time_t expires; /* 0: never */
} found_key;

/* The key whose hash is hash into *k, in one statement. APR_NOTFOUND for
 * no such key. */
static apr_status_t find(found_key *k, request_rec *r, const char *hash)
{
    aic_db *db = NULL;
    aic_rows rows;
    apr_status_t rv;

    if ((rv = aic_db_acquire(&db, r)) != APR_SUCCESS ||
        (rv = aic_db_select(&rows, db, "keys_authenticate", AIC_ARGS(hash))) != APR_SUCCESS) {
        return rv;
    }
    if (rows.nrows != 1) {
        return APR_NOTFOUND;
    }
    if (rows.ncols != 9) {
        return APR_EGENERAL;
    }
    k->id = rows.cells[0];
    k->prefix = rows.cells[1];
    k->user = rows.cells[2];
    k->state = rows.cells[3];
    k->models = rows.cells[4];
    k->rpm = atoi(rows.cells[5]);
    k->tpm = atoi(rows.cells[6]);
    k->keep = rows.cells[7][0] == '1';
    k->expires = rows.cells[8] ? (apr_time_t)apr_atoi64(rows.cells[8]) : 0;
    return APR_SUCCESS;
}

/* ---- keys found lately, per process ----
 * Every call looks its key up before anything else. An active key found in
 * the last second is taken from the memo instead, unless an account or a key
 * changed in this httpd since (AIC_CHANGES_USERS, raised when a key is
 * revoked): a key revoked here is refused at once, one revoked elsewhere
 * (another server) within a second; a key that expires is refused from its
 * expiry on. Refused and unknown keys are always read. */
static const aic_memo_conf found_conf = {.tag = "aichat_found_keys",
                                         .kind = AIC_CHANGES_USERS,
                                         .ttl = apr_time_from_sec(1),
                                         .max_entries = 4096,
                                         .max_bytes = 2 * 1024 * 1024};
static aic_memo *found;

void aic_keys_child_init(apr_pool_t *pchild)
{
    found = aic_memo_make(pchild, &found_conf);
}

/* Copy a key into p (the memo's pool or a request's). */
static found_key *key_dup(apr_pool_t *p, const found_key *k)
{
    found_key *c = apr_pmemdup(p, k, sizeof(*k));

    c->id = apr_pstrdup(p, k->id);
    c->prefix = apr_pstrdup(p, k->prefix);
    c->user = apr_pstrdup(p, k->user);
    c->state = apr_pstrdup(p, k->state);
    c->models = k->models ? apr_pstrdup(p, k->models) : NULL;
    return c;
}

static int found_copy(void *out, apr_pool_t *p, const void *value)
{
    *(found_key *)out = *key_dup(p, value);
    return 1;
}

/* What a key takes in the memo. */
static apr_size_t key_size(const found_key *k)
{
    return sizeof(*k) + strlen(k->id) + strlen(k->prefix) + strlen(k->user) + strlen(k->state) +
           (k->models ? strlen(k->models) : 0) + 5;
}

static void *found_keep(apr_pool_t *pool, void *old, const void *in, apr_size_t *added)
{
    *added = key_size(in);
    return key_dup(pool, in);
}

/* The key whose hash is hash, from the memo or the database (find). */
static apr_status_t find_remembered(found_key *k, request_rec *r, const char *hash)
{
    aic_memo_stamp stamp;
    int remember = aic_memo_now(&stamp, found);
    apr_status_t rv;

    if (remember && aic_memo_get(found, hash, &stamp, found_copy, k, r->pool)) {
        if (k->expires && apr_time_now() >= k->expires) {
            k->state = "expired";
        }
        return APR_SUCCESS;
    }
    if ((rv = find(k, r, hash)) == APR_SUCCESS && remember && !strcmp(k->state, "active")) {
        aic_memo_put(found, hash, &stamp, key_size(k), found_keep, k);
    }
    return rv;
}

const aic_api_key *aic_keys_current(request_rec *r)
{
    void *key = NULL;

    apr_pool_userdata_get(&key, USERDATA, aic_original(r)->pool);
    return key;
}

void aic_keys_challenge(request_rec *r, const char *code)
{
    apr_table_setn(
        r->err_headers_out, "WWW-Authenticate",
        apr_psprintf(r->pool, "Bearer realm=\"%s\"%s",
                     ap_auth_name(r) ? ap_escape_quotes(r->pool, ap_auth_name(r)) : "mod_aichat",
                     strcmp(code, "missing_key") ? ", error=\"invalid_token\"" : ""));
}

/* Refuse r: 401 with the reason for the error document, and the challenge. */
static int refuse(request_rec *r, const char *code)
{
    apr_table_setn(r->notes, "aichat-key-error", code);
    aic_keys_challenge(r, code);
    return HTTP_UNAUTHORIZED;
}

static int check_key(request_rec *r)
{
    const char *type = ap_auth_type(r), *header, *key, *hash;
    aic_api_key *k;
    found_key f;
    apr_status_t rv;

    if (!type || strcasecmp(type, AUTH_TYPE)) {
        return DECLINED;
    }
    r->ap_auth_type = (char *)AUTH_TYPE;
    header = apr_table_get(r->headers_in, "Authorization");
    if (!header || strncasecmp(header, "Bearer ", 7)) {
        return refuse(r, "missing_key");
    }
    for (key = header + 7; *key == ' '; key++) {
    }
    if (!aic_keys_shaped(key)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_aichat: a bearer key of no key's shape");
        return refuse(r, "invalid_api_key");
    }
    if (!(hash = aic_keys_hash(r->pool, key))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((rv = find_remembered(&f, r, hash)) == APR_NOTFOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_aichat: an unknown API key (%.*s...)",
                      AIC_KEY_PREFIX_CHARS, key);
        return refuse(r, "invalid_api_key");
    }
    if (rv != APR_SUCCESS) {
        aic_req_mark_db_down(r);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (strcmp(f.state, "active")) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_aichat: API key %s is %s", f.prefix,
                      f.state);
        return refuse(r, !strcmp(f.state, "revoked") ? "revoked_api_key" : "expired_api_key");
    }
    k = apr_pcalloc(r->pool, sizeof(*k));
    k->id = f.id;
    k->prefix = f.prefix;
    k->models = f.models ? aic_json_from(r->pool, f.models) : NULL;
    k->rpm = f.rpm;
    k->tpm = f.tpm;
    k->keep = f.keep;
    apr_pool_userdata_setn(k, USERDATA, NULL, aic_original(r)->pool);
    r->user = apr_pstrdup(r->pool, f.user);
    /* The audit row names the key by id and prefix, never by its text. */
    aic_req_get(r)->notes = apr_psprintf(
        r->pool, "{\"api_key_id\":\"%s\",\"api_key_prefix\":\"%s\"}", k->id, k->prefix);
    return OK;
}

void aic_keys_register(apr_pool_t *p)
{
    (void)p;
    ap_hook_check_authn(check_key, NULL, NULL, APR_HOOK_MIDDLE, AP_AUTH_INTERNAL_PER_CONF);
}
