/*
 * ratelimit.h — throttles for failed authentication, shared by all threads.
 *
 * A fixed-size table of counters keyed by a string (an email, a client
 * address, prefixed by the kind of limit). Each counter counts failures in
 * a window; past the limit, lk_ratelimit_check answers how many seconds
 * remain until the window ends. Memory is bounded: the table never grows;
 * when it is full the oldest window is recycled.
 *
 * Thread-safe (one mutex; only failure paths and login touch it).
 */
#ifndef LK_RATELIMIT_H
#define LK_RATELIMIT_H

#include <stdint.h>

typedef struct lk_ratelimit lk_ratelimit;

typedef struct lk_ratelimit_rule {
    int max_failures; /* allowed in one window; <= 0 disables the rule */
    int window_secs;
} lk_ratelimit_rule;

/* Owned by the caller: release with lk_ratelimit_free. NULL on OOM. */
lk_ratelimit *lk_ratelimit_new(unsigned capacity);
void lk_ratelimit_free(lk_ratelimit *rl);

/* 0 if the key may try now, else seconds to wait (>= 1). */
int lk_ratelimit_check(lk_ratelimit *rl, const char *key, const lk_ratelimit_rule *rule,
                       int64_t now);
/* Count one failure for key. */
void lk_ratelimit_fail(lk_ratelimit *rl, const char *key, const lk_ratelimit_rule *rule,
                       int64_t now);
/* check, then — only if the key may try (0) — fail: what a failed bearer
 * attempt does, with one digest of the key and one hold of the lock
 * instead of two each (and no other thread's failure in between).
 * Returns what check returned. */
int lk_ratelimit_check_fail(lk_ratelimit *rl, const char *key, const lk_ratelimit_rule *rule,
                            int64_t now);
/* Forget key (after a successful login). */
void lk_ratelimit_reset(lk_ratelimit *rl, const char *key);

#endif
