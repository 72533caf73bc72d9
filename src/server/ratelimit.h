/*
 * ratelimit.h — throttles (failed authentication, signups, leak reports,
 * device-code guesses), shared by all threads.
 *
 * One fixed-size table per rule (lk_rl_id): a flood against one rule (say
 * bad Bearer tokens from fresh addresses) cannot touch another rule's
 * windows. Each table holds counters keyed by a string (an address's
 * throttle key, an email, "email client", "" for a global ceiling), reduced
 * to a keyed 16-byte digest. Memory is bounded: tables never grow.
 *
 * Two kinds of rule:
 *  - LK_RL_WINDOW: a fixed window that starts at the first counted event
 *    and lasts window_secs; while it holds max_failures events the key is
 *    refused until the window ends.
 *  - LK_RL_PACED: a burst of max_failures, then one event per window_secs
 *    (GCRA: a "theoretical arrival time" per key). A refusal never lasts
 *    longer than the pace, and the pace is capped at LK_RL_PACE_MAX (60 s):
 *    the per-email login cap that slows a guesser down but never locks the
 *    owner's right password out for more than a minute after a burst.
 *    (Against a guesser who spends every slot the moment it opens the owner
 *    competes for slots; the per-address rules bound each such guesser.)
 *
 * The guarantee a full table keeps: a window that is over its limit (one
 * that refuses now) is never evicted. A new key takes a free or expired
 * slot of its neighbourhood, else evicts the under-limit window with the
 * fewest events (oldest first among equals) — a flood of fresh keys, one
 * event each, evicts its own kind first. When every slot of the
 * neighbourhood refuses, the new key is itself refused (fail closed) until
 * the soonest of those windows ends: check answers that wait, and the event
 * is not counted. Making that happen for a given key needs about
 * capacity × max_failures events from as many distinct keys.
 *
 * Thread-safe (one mutex per table; only failure paths, logins, signups
 * and reports touch them; a valid Bearer token never does).
 */
#ifndef LK_RATELIMIT_H
#define LK_RATELIMIT_H

#include <stdint.h>

typedef struct lk_ratelimit lk_ratelimit;

typedef enum lk_ratelimit_kind { LK_RL_WINDOW = 0, LK_RL_PACED = 1 } lk_ratelimit_kind;

typedef struct lk_ratelimit_rule {
    int max_failures; /* per window (WINDOW) or burst (PACED); <= 0 disables the rule */
    int window_secs;  /* window length (WINDOW) or pace (PACED, capped at LK_RL_PACE_MAX) */
    lk_ratelimit_kind kind;
} lk_ratelimit_rule;

#define LK_RL_PACE_MAX 60 /* the longest a PACED rule ever refuses */

/* The rules: X(ID, kind, max, window_secs, capacity) — the defaults. */
#define LK_RL_SIGNUP_CLIENT_MAX 20 /* signups per client address ... */
#define LK_RL_SIGNUP_CLIENT_WINDOW 3600 /* ... an hour (--signup-limit) */
#define LK_RL_SIGNUP_GLOBAL_MAX 1000 /* signups from everyone ... */
#define LK_RL_SIGNUP_GLOBAL_WINDOW 3600 /* ... an hour (argon2 is costly) */
#define LK_RL_LOGIN_PAIR_MAX 10     /* failed logins per (email, address) ... */
#define LK_RL_LOGIN_PAIR_WINDOW 900 /* ... in 15 minutes */
#define LK_RL_LOGIN_EMAIL_BURST 20  /* failed logins per email, then ... */
#define LK_RL_LOGIN_EMAIL_PACE 30   /* ... one every 30 s (<= LK_RL_PACE_MAX) */
#define LK_RL_LOGIN_CLIENT_MAX 50   /* failed logins per address ... */
#define LK_RL_LOGIN_CLIENT_WINDOW 900 /* ... in 15 minutes */
#define LK_RL_BEARER_MAX 1000       /* failed Bearer auths per address ... */
#define LK_RL_BEARER_WINDOW 60      /* ... a minute */
#define LK_RL_LEAK_REPORT_MAX 60    /* leaked-token reports per address ... */
#define LK_RL_LEAK_REPORT_WINDOW 3600 /* ... an hour */
#define LK_RL_DEVICE_GUESS_MAX 10   /* wrong device user_codes per address ... */
#define LK_RL_DEVICE_GUESS_WINDOW 900 /* ... in 15 minutes */

#define LK_RL_RULES(X)                                                                             \
    X(BEARER_CLIENT, LK_RL_WINDOW, LK_RL_BEARER_MAX, LK_RL_BEARER_WINDOW, 65536)                   \
    X(LOGIN_EMAIL, LK_RL_PACED, LK_RL_LOGIN_EMAIL_BURST, LK_RL_LOGIN_EMAIL_PACE, 16384)            \
    X(LOGIN_CLIENT, LK_RL_WINDOW, LK_RL_LOGIN_CLIENT_MAX, LK_RL_LOGIN_CLIENT_WINDOW, 16384)        \
    X(LOGIN_PAIR, LK_RL_WINDOW, LK_RL_LOGIN_PAIR_MAX, LK_RL_LOGIN_PAIR_WINDOW, 16384)              \
    X(SIGNUP_CLIENT, LK_RL_WINDOW, LK_RL_SIGNUP_CLIENT_MAX, LK_RL_SIGNUP_CLIENT_WINDOW, 16384)     \
    X(SIGNUP_GLOBAL, LK_RL_WINDOW, LK_RL_SIGNUP_GLOBAL_MAX, LK_RL_SIGNUP_GLOBAL_WINDOW, 16)        \
    X(LEAK_REPORT_CLIENT, LK_RL_WINDOW, LK_RL_LEAK_REPORT_MAX, LK_RL_LEAK_REPORT_WINDOW, 16384)    \
    X(DEVICE_GUESS_CLIENT, LK_RL_WINDOW, LK_RL_DEVICE_GUESS_MAX, LK_RL_DEVICE_GUESS_WINDOW, 16384)

typedef enum lk_rl_id {
#define LK__RL_ENUM(id, kind, max, window, cap) LK_RL_##id,
    LK_RL_RULES(LK__RL_ENUM)
#undef LK__RL_ENUM
    LK_RL_NRULES
} lk_rl_id;

/* The key of the global signup ceiling (one window for everyone). */
#define LK_RL_GLOBAL_KEY ""

typedef struct lk_ratelimit_config {
    lk_ratelimit_rule rule[LK_RL_NRULES]; /* used when a call passes rule NULL */
    unsigned capacity[LK_RL_NRULES];      /* slots per table (rounded up to a power of 2) */
} lk_ratelimit_config;

/* The defaults of LK_RL_RULES. */
void lk_ratelimit_config_init(lk_ratelimit_config *cfg);

/* Owned by the caller: release with lk_ratelimit_free. NULL on OOM.
 * lk_ratelimit_new: the default rules, each table at most max_capacity
 * slots (latchkeyd passes 65536; tests pass small tables).
 * lk_ratelimit_new_config: exactly cfg (copied). */
lk_ratelimit *lk_ratelimit_new(unsigned max_capacity);
lk_ratelimit *lk_ratelimit_new_config(const lk_ratelimit_config *cfg);
void lk_ratelimit_free(lk_ratelimit *rl);

/* The rule a table uses when a call passes NULL (for callers to show). */
const lk_ratelimit_rule *lk_ratelimit_rule_of(const lk_ratelimit *rl, lk_rl_id id);

/* In all calls below: rule NULL = the table's configured rule; a table is
 * meant for one rule, so callers pass the same rule to the same id. */

/* 0 if the key may try now, else seconds to wait (>= 1). */
int lk_ratelimit_check(lk_ratelimit *rl, lk_rl_id id, const char *key,
                       const lk_ratelimit_rule *rule, int64_t now);
/* Count one event (a failure) for key. */
void lk_ratelimit_fail(lk_ratelimit *rl, lk_rl_id id, const char *key,
                       const lk_ratelimit_rule *rule, int64_t now);
/* check, then — only if the key may try (0) — count: what a failed bearer
 * attempt, a signup or a report does, with one digest and one hold of the
 * lock. Returns what check returned. */
int lk_ratelimit_check_fail(lk_ratelimit *rl, lk_rl_id id, const char *key,
                            const lk_ratelimit_rule *rule, int64_t now);
/* Forget key (after a successful login). */
void lk_ratelimit_reset(lk_ratelimit *rl, lk_rl_id id, const char *key);

#endif
