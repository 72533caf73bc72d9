/*
 * ratelimit.c — see ratelimit.h.
 *
 * Design: per rule, an open-addressed table of `capacity` slots (rounded up
 * to a power of two, at least PROBE), allocated once. A key string is
 * reduced to a 16-byte keyed digest, SipHash-2-4 with 128-bit output
 * (libsodium's crypto_shorthash_siphashx24; the key is random per table),
 * so keys of any length take fixed space and cannot be crafted to collide
 * or to land in a chosen neighbourhood. A key lives in one of PROBE
 * consecutive slots after its hash; look-ups scan all PROBE slots (no
 * tombstones needed).
 *
 * A slot is live while `end` is in the future: for a WINDOW rule `end` is
 * the end of the window, for a PACED rule it is the GCRA theoretical
 * arrival time (TAT: each event pushes it one pace later; the burst
 * tolerance is (max-1) paces, so a key is refused while TAT - now exceeds
 * it, and never for longer than one pace).
 *
 * Eviction (pick_slot): free or expired first; never a slot that refuses
 * now; else the fewest events ("pressure"), the oldest among equals.
 */
#include "ratelimit.h"

#include <assert.h>
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
    int count;     /* events counted (WINDOW), capped at the rule's max */
    int64_t start; /* first event */
    int64_t end;   /* window end (WINDOW) or TAT (PACED); live while > now */
} slot;

typedef struct table {
    pthread_mutex_t mu;
    size_t mask;
    uint8_t hkey[crypto_shorthash_siphashx24_KEYBYTES];
    slot *slots;
} table;

struct lk_ratelimit {
    lk_ratelimit_config cfg;
    table t[LK_RL_NRULES];
};

static const lk_ratelimit_rule default_rule[LK_RL_NRULES] = {
#define LK__RL_RULE(id, kind, max, window, cap) [LK_RL_##id] = {(max), (window), (kind)},
    LK_RL_RULES(LK__RL_RULE)
#undef LK__RL_RULE
};
static const unsigned default_cap[LK_RL_NRULES] = {
#define LK__RL_CAP(id, kind, max, window, cap) [LK_RL_##id] = (cap),
    LK_RL_RULES(LK__RL_CAP)
#undef LK__RL_CAP
};

void lk_ratelimit_config_init(lk_ratelimit_config *cfg)
{
    memcpy(cfg->rule, default_rule, sizeof(cfg->rule));
    memcpy(cfg->capacity, default_cap, sizeof(cfg->capacity));
}

static int table_init(table *t, unsigned capacity)
{
    size_t n = PROBE;
    while (n < capacity) n <<= 1;
    t->slots = calloc(n, sizeof(slot));
    if (t->slots == NULL) return -1;
    if (pthread_mutex_init(&t->mu, NULL) != 0) {
        free(t->slots);
        t->slots = NULL;
        return -1;
    }
    t->mask = n - 1;
    randombytes_buf(t->hkey, sizeof(t->hkey));
    return 0;
}

lk_ratelimit *lk_ratelimit_new_config(const lk_ratelimit_config *cfg)
{
    lk_ratelimit *rl = calloc(1, sizeof(*rl));
    if (rl == NULL) return NULL;
    rl->cfg = *cfg;
    for (int i = 0; i < LK_RL_NRULES; i++) {
        if (table_init(&rl->t[i], cfg->capacity[i]) != 0) {
            lk_ratelimit_free(rl);
            return NULL;
        }
    }
    return rl;
}

lk_ratelimit *lk_ratelimit_new(unsigned max_capacity)
{
    lk_ratelimit_config cfg;
    lk_ratelimit_config_init(&cfg);
    for (int i = 0; i < LK_RL_NRULES; i++)
        if (cfg.capacity[i] > max_capacity) cfg.capacity[i] = max_capacity;
    return lk_ratelimit_new_config(&cfg);
}

void lk_ratelimit_free(lk_ratelimit *rl)
{
    if (rl == NULL) return;
    for (int i = 0; i < LK_RL_NRULES; i++) {
        if (rl->t[i].slots == NULL) continue; /* a partial lk_ratelimit_new_config */
        pthread_mutex_destroy(&rl->t[i].mu);
        free(rl->t[i].slots);
    }
    free(rl);
}

const lk_ratelimit_rule *lk_ratelimit_rule_of(const lk_ratelimit *rl, lk_rl_id id)
{
    assert(id >= 0 && id < LK_RL_NRULES);
    return &rl->cfg.rule[id];
}

/* --- one slot under one rule ---------------------------------------------- */

static int64_t pace_of(const lk_ratelimit_rule *r)
{
    return r->window_secs > LK_RL_PACE_MAX ? LK_RL_PACE_MAX : r->window_secs;
}

/* PACED: how far TAT may run ahead of now and still accept an event. */
static int64_t tolerance_of(const lk_ratelimit_rule *r)
{
    return (int64_t)(r->max_failures - 1) * pace_of(r);
}

static bool live(const slot *s, int64_t now)
{
    return s->used && s->end > now;
}

/* Seconds s refuses for at now (0: accepts). */
static int wait_of(const slot *s, const lk_ratelimit_rule *r, int64_t now)
{
    if (!live(s, now)) return 0;
    int64_t left, cap;
    if (r->kind == LK_RL_PACED) {
        left = s->end - tolerance_of(r) - now;
        cap = pace_of(r);
    } else {
        left = s->count >= r->max_failures ? s->end - now : 0;
        cap = r->window_secs;
    }
    if (left <= 0) return 0;
    return left > cap ? (int)cap : (int)left;
}

/* How many events s holds now (the eviction order: fewest first). */
static int64_t pressure_of(const slot *s, const lk_ratelimit_rule *r, int64_t now)
{
    if (r->kind != LK_RL_PACED) return s->count;
    int64_t p = pace_of(r);
    return (s->end - now + p - 1) / p;
}

/* --- a table, under its mutex --------------------------------------------- */

static size_t digest_of(const table *t, const char *key, uint8_t d[DIGEST])
{
    _Static_assert(DIGEST == crypto_shorthash_siphashx24_BYTES, "digest size");
    crypto_shorthash_siphashx24(d, (const unsigned char *)key, strlen(key), t->hkey);
    uint64_t h;
    memcpy(&h, d, sizeof(h));
    return (size_t)h & t->mask;
}

/* The live slot for d, or NULL (an expired one is freed on the way). */
static slot *find(table *t, size_t h, const uint8_t d[DIGEST], int64_t now)
{
    for (size_t i = 0; i < PROBE; i++) {
        slot *s = &t->slots[(h + i) & t->mask];
        if (s->used && memcmp(s->digest, d, DIGEST) == 0) {
            if (!live(s, now)) {
                s->used = false; /* over: forget it */
                return NULL;
            }
            return s;
        }
    }
    return NULL;
}

/* A slot for a new key, or NULL when every slot of the neighbourhood
 * refuses now (then *wait is the soonest any of them accepts again). */
static slot *pick_slot(table *t, size_t h, const lk_ratelimit_rule *r, int64_t now, int *wait)
{
    slot *victim = NULL;
    int64_t vp = 0;
    *wait = 0;
    for (size_t i = 0; i < PROBE; i++) {
        slot *c = &t->slots[(h + i) & t->mask];
        if (!live(c, now)) {
            *wait = 0;
            return c;
        }
        int w = wait_of(c, r, now);
        if (w > 0) { /* over its limit: never evicted */
            if (*wait == 0 || w < *wait) *wait = w;
            continue;
        }
        int64_t p = pressure_of(c, r, now);
        if (victim == NULL || p < vp || (p == vp && c->start < victim->start)) {
            victim = c;
            vp = p;
        }
    }
    if (victim != NULL) *wait = 0;
    return victim;
}

static int check_locked(table *t, size_t h, const uint8_t d[DIGEST], const lk_ratelimit_rule *r,
                        int64_t now)
{
    slot *s = find(t, h, d, now);
    if (s != NULL) return wait_of(s, r, now);
    int wait;
    (void)pick_slot(t, h, r, now, &wait); /* fail closed when there is no room */
    return wait;
}

static void fail_locked(table *t, size_t h, const uint8_t d[DIGEST], const lk_ratelimit_rule *r,
                        int64_t now)
{
    slot *s = find(t, h, d, now);
    if (s != NULL) {
        if (wait_of(s, r, now) > 0) return; /* refused events are not counted */
        if (r->kind == LK_RL_PACED) s->end = (s->end > now ? s->end : now) + pace_of(r);
        else if (s->count < r->max_failures) s->count++;
        return;
    }
    int wait;
    s = pick_slot(t, h, r, now, &wait);
    if (s == NULL) return; /* no room: check refuses this key meanwhile */
    memcpy(s->digest, d, DIGEST);
    s->used = true;
    s->count = 1;
    s->start = now;
    s->end = now + (r->kind == LK_RL_PACED ? pace_of(r) : r->window_secs);
}

/* --- the API -------------------------------------------------------------- */

/* The rule in force, or NULL when disabled (or rl NULL). */
static const lk_ratelimit_rule *rule_in_force(const lk_ratelimit *rl, lk_rl_id id,
                                              const lk_ratelimit_rule *rule)
{
    if (rl == NULL) return NULL;
    assert(id >= 0 && id < LK_RL_NRULES);
    const lk_ratelimit_rule *r = rule ? rule : &rl->cfg.rule[id];
    if (r->max_failures <= 0 || r->window_secs <= 0) return NULL;
    return r;
}

/* What check and fail operate on: the rule in force, its table, the key's
 * digest and home bucket. NULL rule: the rule is off (nothing to do). */
typedef struct lookup {
    const lk_ratelimit_rule *rule;
    table *t;
    size_t h;
    uint8_t d[DIGEST];
} lookup;

static bool lookup_of(lk_ratelimit *rl, lk_rl_id id, const char *key,
                      const lk_ratelimit_rule *rule, lookup *l)
{
    l->rule = rule_in_force(rl, id, rule);
    if (l->rule == NULL) return false;
    l->t = &rl->t[id];
    l->h = digest_of(l->t, key, l->d);
    return true;
}

/* The three entry points differ only in what they do under the table's lock. */
enum { DO_CHECK = 1, DO_FAIL = 2 };

static int locked_op(lk_ratelimit *rl, lk_rl_id id, const char *key,
                     const lk_ratelimit_rule *rule, int64_t now, unsigned what)
{
    lookup l;
    if (!lookup_of(rl, id, key, rule, &l)) return 0;
    int wait = 0;
    pthread_mutex_lock(&l.t->mu);
    if (what & DO_CHECK) wait = check_locked(l.t, l.h, l.d, l.rule, now);
    if ((what & DO_FAIL) && wait == 0) fail_locked(l.t, l.h, l.d, l.rule, now);
    pthread_mutex_unlock(&l.t->mu);
    return wait;
}

int lk_ratelimit_check(lk_ratelimit *rl, lk_rl_id id, const char *key,
                       const lk_ratelimit_rule *rule, int64_t now)
{
    return locked_op(rl, id, key, rule, now, DO_CHECK);
}

void lk_ratelimit_fail(lk_ratelimit *rl, lk_rl_id id, const char *key,
                       const lk_ratelimit_rule *rule, int64_t now)
{
    (void)locked_op(rl, id, key, rule, now, DO_FAIL);
}

int lk_ratelimit_check_fail(lk_ratelimit *rl, lk_rl_id id, const char *key,
                            const lk_ratelimit_rule *rule, int64_t now)
{
    return locked_op(rl, id, key, rule, now, DO_CHECK | DO_FAIL);
}

void lk_ratelimit_reset(lk_ratelimit *rl, lk_rl_id id, const char *key)
{
    if (rl == NULL) return;
    assert(id >= 0 && id < LK_RL_NRULES);
    table *t = &rl->t[id];
    uint8_t d[DIGEST];
    size_t h = digest_of(t, key, d);
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < PROBE; i++) {
        slot *s = &t->slots[(h + i) & t->mask];
        if (s->used && memcmp(s->digest, d, DIGEST) == 0) s->used = false;
    }
    pthread_mutex_unlock(&t->mu);
}
