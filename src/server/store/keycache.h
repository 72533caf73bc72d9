/*
 * keycache.h — an exact cache of token-hash look-ups for one SQLite
 * connection (store_sqlite.c): the hot path of every key-authenticated
 * request without a query, while nothing has changed.
 *
 * Exact, not "fresh enough": the backend serves an entry only while the
 * database is provably unchanged since the entry was read. Before every
 * look-up it reads SQLite's PRAGMA data_version (which moves whenever any
 * OTHER connection — another loop, the writer, another process — commits)
 * and the connection's own sqlite3_total_changes64 (its own writes), and
 * hands both to lk_keycache_sync: if either differs from what the cache
 * last saw, the generation moves on and every entry is stale at once. So a
 * deleted, rotated or re-scoped key is refused on the very next request,
 * exactly as without the cache (the multinode suite checks it across two
 * processes). The one answer that changes with time alone — a previous
 * token's grace period, judged by the database's clock — is re-checked on
 * every hit: an entry whose row has prev_expires_at is served only before
 * that second.
 *
 * Direct-mapped: LK_KEYCACHE_SLOTS slots indexed by the hash's first bytes
 * (SHA-256: uniform), a collision replaces; negative answers ("no such
 * key") are kept too. The slots are allocated at the first put (a
 * connection that never authenticates a key costs nothing). One owner, one
 * thread, no locks.
 */
#ifndef LK_KEYCACHE_H
#define LK_KEYCACHE_H

#include "store.h"

#include <stdbool.h>
#include <stdint.h>

#define LK_KEYCACHE_SLOTS 256 /* power of two */

typedef struct lk_keycache_entry {
    uint8_t hash[LK_TOKEN_HASH_LEN];
    uint64_t gen;   /* valid iff == the cache's gen */
    int rc;         /* LK_OK or LK_ENOT_FOUND */
    bool has_owner; /* user and org were read too (key_get_by_hash_owner) */
    lk_key key;
    lk_user user;
    lk_org org;
} lk_keycache_entry;

typedef struct lk_keycache {
    uint64_t gen;          /* 0: nothing seen yet */
    int64_t data_version;  /* the database state gen stands for */
    int64_t changes;
    lk_keycache_entry *slots; /* LK_KEYCACHE_SLOTS, or NULL */
} lk_keycache;

/* The database is now at (data_version, changes): if that is not the
 * state the cache describes, every entry becomes stale. */
void lk_keycache_sync(lk_keycache *c, int64_t data_version, int64_t changes);
/* The live entry for hash, or NULL. need_owner: only an entry that has the
 * owner rows. now: Unix seconds, for a previous token's grace period. */
const lk_keycache_entry *lk_keycache_find(const lk_keycache *c, const uint8_t *hash,
                                          bool need_owner, int64_t now);
/* Remember an answer read in the current generation. key, user, org may
 * be NULL (rc != LK_OK; or no owner rows: user and org both NULL). */
void lk_keycache_put(lk_keycache *c, const uint8_t *hash, int rc, const lk_key *key,
                     const lk_user *user, const lk_org *org);
/* Free the slots; c may be reused (empty). */
void lk_keycache_free(lk_keycache *c);

#endif
