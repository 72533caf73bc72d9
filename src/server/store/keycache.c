/*
 * keycache.c — the exact token-hash cache of one SQLite connection (see
 * keycache.h).
 */
#include "keycache.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

_Static_assert((LK_KEYCACHE_SLOTS & (LK_KEYCACHE_SLOTS - 1)) == 0, "slots: a power of two");

static size_t slot_of(const uint8_t *hash)
{
    uint32_t v;
    memcpy(&v, hash, sizeof v);
    return v & (LK_KEYCACHE_SLOTS - 1);
}

void lk_keycache_sync(lk_keycache *c, int64_t data_version, int64_t changes)
{
    if (c->gen != 0 && c->data_version == data_version && c->changes == changes) return;
    c->gen++; /* every entry of the old state is stale from now on */
    c->data_version = data_version;
    c->changes = changes;
}

const lk_keycache_entry *lk_keycache_find(const lk_keycache *c, const uint8_t *hash,
                                          bool need_owner, int64_t now)
{
    if (c->slots == NULL || c->gen == 0) return NULL;
    const lk_keycache_entry *e = &c->slots[slot_of(hash)];
    if (e->gen != c->gen || memcmp(e->hash, hash, LK_TOKEN_HASH_LEN) != 0) return NULL;
    if (need_owner && e->rc == LK_OK && !e->has_owner) return NULL;
    /* A previous token works until prev_expires_at by the database's clock:
     * past it, ask the database again (whichever hash matched). */
    if (e->rc == LK_OK && e->key.prev_expires_at != 0 && now >= e->key.prev_expires_at) return NULL;
    return e;
}

void lk_keycache_put(lk_keycache *c, const uint8_t *hash, int rc, const lk_key *key,
                     const lk_user *user, const lk_org *org)
{
    assert(rc == LK_OK || rc == LK_ENOT_FOUND);
    assert(rc != LK_OK || key != NULL);
    if (c->gen == 0) return; /* no state seen: nothing to vouch for */
    if (c->slots == NULL) {
        c->slots = calloc(LK_KEYCACHE_SLOTS, sizeof *c->slots);
        if (c->slots == NULL) return; /* a cache is optional */
    }
    lk_keycache_entry *e = &c->slots[slot_of(hash)];
    if (e->gen == c->gen && e->has_owner && user == NULL &&
        memcmp(e->hash, hash, LK_TOKEN_HASH_LEN) == 0)
        return; /* the same answer with more in it is there already */
    memcpy(e->hash, hash, LK_TOKEN_HASH_LEN);
    e->gen = c->gen;
    e->rc = rc;
    e->has_owner = user != NULL && org != NULL;
    if (rc == LK_OK) e->key = *key;
    if (e->has_owner) {
        e->user = *user;
        e->org = *org;
    }
}

void lk_keycache_free(lk_keycache *c)
{
    free(c->slots);
    memset(c, 0, sizeof *c);
}
