/*
 * ratelimit.c — see ratelimit.h.
 *
 * Design: an open-addressed table of `capacity` slots (rounded up to a power
 * of two), allocated once. A key string is reduced to a 16-byte keyed
 * digest, SipHash-2-4 with 128-bit output (libsodium's
 * crypto_shorthash_siphashx24; the key is random per table), so keys of any
 * length take fixed space and cannot be crafted to collide. (It was keyed
 * BLAKE2b; SipHash is the PRF made for exactly this, at ~300 instructions
 * against ~1,850 on every failed bearer attempt.) A key lives in one of
 * PROBE consecutive slots after its hash; look-ups scan all PROBE slots (no
 * tombstones needed), inserts take a free or expired slot there, else
 * recycle the slot whose window started first. So memory never grows and an
 * attacker spraying keys can only evict other windows, not exhaust memory.
 *
 * Each slot is a fixed window: it starts at the first failure, counts
 * failures, and ends window_secs later. check() blocks while a live window
 * holds >= max_failures failures.
 *
 * One mutex guards the table; callers are failure paths and logins only.
 */
#include "ratelimit.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PROBE 16
#define DIGEST 16

typedef struct slot {
    uint8_t digest[DIGEST];
    bool used;
    int count;
    int64_t start;
    int64_t end;
} slot;

struct lk_ratelimit {
    pthread_mutex_t mu;
    size_t mask;
    uint8_t hkey[crypto_shorthash_siphashx24_KEYBYTES];
    slot *slots;
};

lk_ratelimit *lk_ratelimit_new(unsigned capacity)
{
    size_t n = PROBE;
    while (n < capacity) n <<= 1;
    lk_ratelimit *rl = calloc(1, sizeof(*rl));
    if (rl == NULL) return NULL;
    rl->slots = calloc(n, sizeof(slot));
    if (rl->slots == NULL || pthread_mutex_init(&rl->mu, NULL) != 0) {
        free(rl->slots);
        free(rl);
        return NULL;
    }
    rl->mask = n - 1;
    randombytes_buf(rl->hkey, sizeof(rl->hkey));
    return rl;
}

void lk_ratelimit_free(lk_ratelimit *rl)
{
    if (rl == NULL) return;
    pthread_mutex_destroy(&rl->mu);
    free(rl->slots);
    free(rl);
}

static size_t digest_of(const lk_ratelimit *rl, const char *key, uint8_t d[DIGEST])
{
    _Static_assert(DIGEST == crypto_shorthash_siphashx24_BYTES, "digest size");
    crypto_shorthash_siphashx24(d, (const unsigned char *)key, strlen(key), rl->hkey);
    uint64_t h;
    memcpy(&h, d, sizeof(h));
    return (size_t)h & rl->mask;
}

/* The live slot for d, or NULL. Caller holds the mutex. */
static slot *find(lk_ratelimit *rl, size_t h, const uint8_t d[DIGEST], int64_t now)
{
    for (size_t i = 0; i < PROBE; i++) {
        slot *s = &rl->slots[(h + i) & rl->mask];
        if (s->used && memcmp(s->digest, d, DIGEST) == 0) {
            if (s->end <= now) {
                s->used = false; /* window over: forget it */
                return NULL;
            }
            return s;
        }
    }
    return NULL;
}

/* Seconds to wait for the digest d (0: may try). Caller holds the mutex. */
static int wait_locked(lk_ratelimit *rl, size_t h, const uint8_t d[DIGEST],
                       const lk_ratelimit_rule *rule, int64_t now)
{
    slot *s = find(rl, h, d, now);
    if (s == NULL || s->count < rule->max_failures) return 0;
    int64_t left = s->end - now;
    return left < 1 ? 1 : (left > rule->window_secs ? rule->window_secs : (int)left);
}

/* Count one failure for the digest d. Caller holds the mutex. */
static void fail_locked(lk_ratelimit *rl, size_t h, const uint8_t d[DIGEST],
                        const lk_ratelimit_rule *rule, int64_t now);

int lk_ratelimit_check(lk_ratelimit *rl, const char *key, const lk_ratelimit_rule *rule,
                       int64_t now)
{
    if (rl == NULL || rule == NULL || rule->max_failures <= 0 || rule->window_secs <= 0) return 0;
    uint8_t d[DIGEST];
    size_t h = digest_of(rl, key, d);
    pthread_mutex_lock(&rl->mu);
    int wait = wait_locked(rl, h, d, rule, now);
    pthread_mutex_unlock(&rl->mu);
    return wait;
}

void lk_ratelimit_fail(lk_ratelimit *rl, const char *key, const lk_ratelimit_rule *rule,
                       int64_t now)
{
    if (rl == NULL || rule == NULL || rule->max_failures <= 0 || rule->window_secs <= 0) return;
    uint8_t d[DIGEST];
    size_t h = digest_of(rl, key, d);
    pthread_mutex_lock(&rl->mu);
    fail_locked(rl, h, d, rule, now);
    pthread_mutex_unlock(&rl->mu);
}

int lk_ratelimit_check_fail(lk_ratelimit *rl, const char *key, const lk_ratelimit_rule *rule,
                            int64_t now)
{
    if (rl == NULL || rule == NULL || rule->max_failures <= 0 || rule->window_secs <= 0) return 0;
    uint8_t d[DIGEST];
    size_t h = digest_of(rl, key, d);
    pthread_mutex_lock(&rl->mu);
    int wait = wait_locked(rl, h, d, rule, now);
    if (wait == 0) fail_locked(rl, h, d, rule, now);
    pthread_mutex_unlock(&rl->mu);
    return wait;
}

static void fail_locked(lk_ratelimit *rl, size_t h, const uint8_t d[DIGEST],
                        const lk_ratelimit_rule *rule, int64_t now)
{
    slot *s = find(rl, h, d, now);
    if (s) {
        if (s->count < rule->max_failures) s->count++;
        return;
    }
    /* a free or expired slot in the neighbourhood, else the oldest window */
    slot *victim = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        slot *c = &rl->slots[(h + i) & rl->mask];
        if (!c->used || c->end <= now) {
            victim = c;
            break;
        }
        if (victim == NULL || c->start < victim->start) victim = c;
    }
    memcpy(victim->digest, d, DIGEST);
    victim->used = true;
    victim->count = 1;
    victim->start = now;
    victim->end = now + rule->window_secs;
}

void lk_ratelimit_reset(lk_ratelimit *rl, const char *key)
{
    if (rl == NULL) return;
    uint8_t d[DIGEST];
    size_t h = digest_of(rl, key, d);
    pthread_mutex_lock(&rl->mu);
    for (size_t i = 0; i < PROBE; i++) {
        slot *s = &rl->slots[(h + i) & rl->mask];
        if (s->used && memcmp(s->digest, d, DIGEST) == 0) s->used = false;
    }
    pthread_mutex_unlock(&rl->mu);
}
