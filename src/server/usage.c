/*
 * usage.c — see usage.h.
 *
 * Design: per thread, a dense array of (key id, latest use) pairs, which is
 * exactly what store->key_touch takes, plus an open-addressed index from id
 * to array position (linear probing, twice the capacity, power of two) so
 * noting a use is O(1) on the request path. Both are allocated once in
 * lk_usage_new and never grow. A flush hands the array to the store in one
 * transaction and empties the table.
 *
 * Invariants: n <= cap; every item has exactly one index entry; an item's
 * `at` only moves forward (max of the observations), matching key_touch's
 * max semantics in the store. Not thread-safe: one lk_usage per thread.
 */
#include "usage.h"

#include "cidr.h"
#include "store.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct lk_usage {
    unsigned cap;      /* items the table holds before it flushes early */
    unsigned n;        /* items in use */
    size_t mask;       /* index size - 1 */
    lk_key_touch *items;
    uint32_t *index;   /* position + 1 in items, 0 = empty */
    lk_addr *addrs;    /* --- scopes --- addrs[i]: items[i].ip, parsed (family 0: none) */
};

lk_usage *lk_usage_new(unsigned capacity)
{
    if (capacity == 0) capacity = 1;
    size_t isz = 4;
    while (isz < (size_t)capacity * 2) isz <<= 1;
    lk_usage *u = calloc(1, sizeof(*u));
    if (u == NULL) return NULL;
    u->items = calloc(capacity, sizeof(*u->items));
    u->index = calloc(isz, sizeof(*u->index));
    u->addrs = calloc(capacity, sizeof(*u->addrs));
    if (u->items == NULL || u->index == NULL || u->addrs == NULL) {
        lk_usage_free(u);
        return NULL;
    }
    u->cap = capacity;
    u->mask = isz - 1;
    return u;
}

void lk_usage_free(lk_usage *u)
{
    if (u == NULL) return;
    free(u->items);
    free(u->index);
    free(u->addrs);
    free(u);
}

/* FNV-1a over the id: ids are random, any mixing will do. */
static size_t hash_id(const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

static void clear(lk_usage *u)
{
    memset(u->index, 0, (u->mask + 1) * sizeof(*u->index));
    u->n = 0;
}

/* --- account: sessions' last_seen_at rides in the same table. An id
 * starting "ses_" is a session; the rest are keys. A flush moves the
 * sessions to the end (order inside a batch does not matter: each id is
 * there once) and writes each kind with its own store op. */
#define SESSION_PREFIX "ses_"

static bool is_session(const lk_key_touch *t)
{
    return strncmp(t->id, SESSION_PREFIX, sizeof(SESSION_PREFIX) - 1) == 0;
}

/* Sessions last; returns the number of keys before them. */
static unsigned partition(lk_usage *u)
{
    unsigned k = 0;
    for (unsigned i = 0; i < u->n; i++) {
        if (is_session(&u->items[i])) continue;
        if (i != k) {
            lk_key_touch t = u->items[k];
            u->items[k] = u->items[i];
            u->items[i] = t;
        }
        k++;
    }
    return k;
}

/* The index again after items moved (a failed flush keeps its batch). */
static void reindex(lk_usage *u)
{
    memset(u->index, 0, (u->mask + 1) * sizeof(*u->index));
    for (unsigned p = 0; p < u->n; p++) {
        size_t i = hash_id(u->items[p].id) & u->mask;
        while (u->index[i] != 0) i = (i + 1) & u->mask;
        u->index[i] = p + 1;
    }
}

int lk_usage_flush(lk_usage *u, lk_store *st)
{
    if (u == NULL || u->n == 0) return LK_OK;
    unsigned keys = partition(u);
    int rc = keys ? st->ops->key_touch(st, u->items, keys) : LK_OK;
    if (rc == LK_OK && keys < u->n)
        rc = st->ops->session_touch(st, u->items + keys, u->n - keys);
    if (rc == LK_OK)
        clear(u);
    else
        reindex(u);
    return rc;
}

void lk_usage_note(lk_usage *u, lk_store *st, const char *key_id, int64_t at)
{
    if (u == NULL || key_id == NULL) return;
    size_t len = strlen(key_id);
    if (len >= LK_ID_SIZE) return;
    size_t i = hash_id(key_id) & u->mask;
    for (;;) {
        uint32_t pos = u->index[i];
        if (pos == 0) break;
        lk_key_touch *t = &u->items[pos - 1];
        if (strcmp(t->id, key_id) == 0) {
            if (at > t->at) t->at = at;
            return;
        }
        i = (i + 1) & u->mask;
    }
    if (u->n == u->cap) {
        /* Full: write the batch now. If the store is down the batch is
         * dropped rather than grown: last_used_at is advisory. */
        if (st == NULL || lk_usage_flush(u, st) != LK_OK) clear(u);
        i = hash_id(key_id) & u->mask;
        while (u->index[i] != 0) i = (i + 1) & u->mask;
    }
    lk_key_touch *t = &u->items[u->n];
    memcpy(t->id, key_id, len + 1);
    t->at = at;
    t->ip[0] = '\0';
    memset(&u->addrs[u->n], 0, sizeof(u->addrs[u->n]));
    u->n++;
    u->index[i] = u->n;
}

/* --- scopes --- */

void lk_usage_note_ip(lk_usage *u, const char *key_id, const lk_addr *ip)
{
    if (u == NULL || key_id == NULL || ip == NULL || ip->family == 0) return;
    size_t i = hash_id(key_id) & u->mask;
    for (uint32_t pos; (pos = u->index[i]) != 0; i = (i + 1) & u->mask) {
        if (strcmp(u->items[pos - 1].id, key_id) != 0) continue;
        /* the same client as last time (the common case): nothing to format */
        if (lk_addr_equal(&u->addrs[pos - 1], ip)) return;
        u->addrs[pos - 1] = *ip;
        lk_addr_format(ip, u->items[pos - 1].ip);
        return;
    }
}
