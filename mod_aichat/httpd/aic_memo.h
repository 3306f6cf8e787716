/* The per-process memo: what a process remembers of the database between
 * requests, and the change counters shared by the processes of this httpd
 * that tell it when to forget.
 *
 * A memo is a table of entries by string key in one pool of the child, under
 * one mutex, bounded in entries and bytes: a full memo starts over (the hot
 * entries come back first). An entry is either stamped (read from the
 * database at a time, while a change counter stood at a value; it serves
 * while the counter has not moved and for at most the memo's TTL) or lasting
 * (its key or its value names what it is a copy of, so it cannot be stale;
 * it serves until the memo starts over). Values are copied in and out under
 * the lock by the caller's functions, so no request holds memory of the memo. */
#ifndef AIC_MEMO_H
#define AIC_MEMO_H

#include <httpd.h>
#include <apr_pools.h>
#include <apr_time.h>

/** What a change counter counts. */
typedef enum {
    /** No counter: a memo whose stamped entries end with their TTL only. */
    AIC_CHANGES_NONE = -1,
    /** Transactions, and statements run outside one by a request whose
     * method may change state: raised by the database door (aic_db). */
    AIC_CHANGES_ANY,
    /** Changes to an account (role, is_active, profile) or its API keys (a
     * revocation): raised by whoever commits one (aic_memo_note_change). */
    AIC_CHANGES_USERS,
    AIC_CHANGES_KINDS
} aic_changes;

/** Make the counters (post_config, before any child): in shared memory when
 * the platform has it, else per process (and stamped entries are not kept). */
int aic_memo_post_config(apr_pool_t *pconf, server_rec *s);

/** Count a committed change of a kind (not AIC_CHANGES_NONE). */
void aic_memo_note_change(aic_changes kind);

/** When an entry was read: the counter before the read, and the time. */
typedef struct {
    apr_uint32_t changes;
    apr_time_t at;
} aic_memo_stamp;

/** What a memo remembers and for how long. */
typedef struct {
    const char *tag;         /**< its pool's tag */
    aic_changes kind;        /**< the counter that ends its stamped entries */
    apr_interval_time_t ttl; /**< how long a stamped entry serves at most */
    unsigned max_entries;    /**< entries before it starts over */
    apr_size_t max_bytes;    /**< bytes (as put says) before it starts over */
    apr_size_t max_entry;    /**< the largest entry kept; 0: max_bytes / 16 */
} aic_memo_conf;

typedef struct aic_memo aic_memo;

/**
 * Copy the value kept under a key out (into out and p), under the memo's
 * lock. Returns nonzero when it took the value, 0 when the value does not
 * answer (another version of what out asks for).
 */
typedef int (*aic_memo_copy_fn)(void *out, apr_pool_t *p, const void *value);

/**
 * Copy in into the memo's pool, under its lock: old is the value kept under
 * the same key so far (NULL when none), which may be updated in place and
 * returned. The pool gives nothing back before the memo starts over, so an
 * update allocates only what changed, and *added says how many bytes it
 * allocated (counted against max_bytes). Returns the value to keep.
 */
typedef void *(*aic_memo_keep_fn)(apr_pool_t *pool, void *old, const void *in, apr_size_t *added);

/** A memo for this child (child_init), or NULL when it cannot have one: every
 * function below takes NULL and then remembers nothing. conf must outlive it. */
aic_memo *aic_memo_make(apr_pool_t *pchild, const aic_memo_conf *conf);

/**
 * Stamp a read about to be made for m. Returns 0 when what it reads must not
 * be kept (no memo, or a counter this process cannot share with the others).
 */
int aic_memo_now(aic_memo_stamp *stamp, const aic_memo *m);

/**
 * The entry under key, copied out by copy: a stamped entry when now is a
 * stamp of the same counter value within the TTL of its own; a lasting
 * entry whatever now is (NULL too). Returns copy's answer, 0 when no entry
 * serves.
 */
int aic_memo_get(aic_memo *m, const char *key, const aic_memo_stamp *now, aic_memo_copy_fn copy,
                 void *out, apr_pool_t *p);

/**
 * Keep in under key, copied by keep: stamped with stamp, or lasting when
 * stamp is NULL. len is the most keep may add to the memo's bytes; an entry
 * larger than max_entry is not kept.
 */
void aic_memo_put(aic_memo *m, const char *key, const aic_memo_stamp *stamp, apr_size_t len,
                  aic_memo_keep_fn keep, const void *in);

#endif
