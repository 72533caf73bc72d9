/*
 * test_ratelimit.c — failure windows (ratelimit.h): the limit, the
 * Retry-After arithmetic, independence of keys, reset, window expiry,
 * disabled rules, a full table recycling windows without growing, and
 * concurrent use from several threads; then the per-rule tables (issue 13):
 * every default rule, the eviction attack (70k fresh keys must not reset a
 * victim's over-limit window), a full neighbourhood failing closed, the
 * paced per-email rule's one-minute bound, and IPv6 /64 keying. Time is
 * always passed in (an injected clock): nothing sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clientaddr.h"
#include "ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const lk_ratelimit_rule rule = {3, 60, LK_RL_WINDOW};
#define ID LK_RL_LOGIN_CLIENT /* the table the original tests use */

static void limit_and_retry_after(void **state)
{
    (void)state;
    lk_ratelimit *rl = lk_ratelimit_new(64);
    assert_non_null(rl);
    int64_t t = 1000;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(lk_ratelimit_check(rl, ID, "ip:1", &rule, t), 0);
        lk_ratelimit_fail(rl, ID, "ip:1", &rule, t);
    }
    /* three failures at t=1000: blocked until 1060 */
    assert_int_equal(lk_ratelimit_check(rl, ID, "ip:1", &rule, t), 60);
    assert_int_equal(lk_ratelimit_check(rl, ID, "ip:1", &rule, t + 20), 40);
    assert_int_equal(lk_ratelimit_check(rl, ID, "ip:1", &rule, t + 59), 1);
    /* the window is over */
    assert_int_equal(lk_ratelimit_check(rl, ID, "ip:1", &rule, t + 60), 0);
    lk_ratelimit_fail(rl, ID, "ip:1", &rule, t + 60);
    assert_int_equal(lk_ratelimit_check(rl, ID, "ip:1", &rule, t + 61), 0);
    lk_ratelimit_free(rl);
}

/* check_fail is check followed (only when 0) by fail: run both ways on
 * two tables side by side through windows opening, filling and ending. */
static void check_fail_is_check_then_fail(void **state)
{
    (void)state;
    lk_ratelimit *a = lk_ratelimit_new(64), *b = lk_ratelimit_new(64);
    assert_non_null(a);
    assert_non_null(b);
    static const char *keys[] = {"bearer:10.0.0.1", "bearer:10.0.0.2", "bearer:::1"};
    int refused = 0;
    for (int64_t t = 1000; t < 1400; t += 3) {
        for (int k = 0; k < 3; k++) {
            if ((t / 3 + k) % 4 == 0) continue; /* some keys skip some rounds */
            int wa = lk_ratelimit_check(a, ID, keys[k], &rule, t);
            if (wa == 0) lk_ratelimit_fail(a, ID, keys[k], &rule, t);
            int wb = lk_ratelimit_check_fail(b, ID, keys[k], &rule, t);
            assert_int_equal(wb, wa);
            refused += wb > 0;
            for (int j = 0; j < 3; j++)
                assert_int_equal(lk_ratelimit_check(b, ID, keys[j], &rule, t),
                                 lk_ratelimit_check(a, ID, keys[j], &rule, t));
        }
    }
    assert_true(refused > 0); /* the limit was reached along the way */
    /* a disabled rule never refuses, a NULL table neither */
    lk_ratelimit_rule off = {-1, 60};
    for (int i = 0; i < 10; i++) assert_int_equal(lk_ratelimit_check_fail(b, ID, "x", &off, 1), 0);
    assert_int_equal(lk_ratelimit_check_fail(NULL, ID, "x", &rule, 1), 0);
    lk_ratelimit_free(a);
    lk_ratelimit_free(b);
}

static void keys_are_independent(void **state)
{
    (void)state;
    lk_ratelimit *rl = lk_ratelimit_new(64);
    for (int i = 0; i < 5; i++) lk_ratelimit_fail(rl, ID, "ip:1", &rule, 10);
    assert_true(lk_ratelimit_check(rl, ID, "ip:1", &rule, 10) > 0);
    assert_int_equal(lk_ratelimit_check(rl, ID, "ip:2", &rule, 10), 0);
    assert_int_equal(lk_ratelimit_check(rl, ID, "email:ip:1", &rule, 10), 0);
    lk_ratelimit_free(rl);
}

static void reset_forgets(void **state)
{
    (void)state;
    lk_ratelimit *rl = lk_ratelimit_new(64);
    for (int i = 0; i < 3; i++) lk_ratelimit_fail(rl, ID, "a@b", &rule, 10);
    assert_true(lk_ratelimit_check(rl, ID, "a@b", &rule, 10) > 0);
    lk_ratelimit_reset(rl, ID, "a@b");
    assert_int_equal(lk_ratelimit_check(rl, ID, "a@b", &rule, 10), 0);
    lk_ratelimit_reset(rl, ID, "never-seen"); /* harmless */
    lk_ratelimit_free(rl);
}

static void disabled_rule_and_null(void **state)
{
    (void)state;
    lk_ratelimit *rl = lk_ratelimit_new(8);
    lk_ratelimit_rule off = {0, 60};
    for (int i = 0; i < 100; i++) lk_ratelimit_fail(rl, ID, "k", &off, 10);
    assert_int_equal(lk_ratelimit_check(rl, ID, "k", &off, 10), 0);
    assert_int_equal(lk_ratelimit_check(NULL, ID, "k", &rule, 10), 0);
    lk_ratelimit_fail(NULL, ID, "k", &rule, 10);
    lk_ratelimit_free(NULL);
    lk_ratelimit_free(rl);
}

static void full_table_recycles(void **state)
{
    (void)state;
    /* A tiny table and thousands of keys: memory stays fixed and every key
     * that failed three times is refused — by its own window once an
     * expired slot is free to recycle, else (the 16 live windows all over
     * their limit) by failing closed. */
    lk_ratelimit *rl = lk_ratelimit_new(16);
    char k[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof(k), "ip:%d", i);
        for (int j = 0; j < 3; j++) lk_ratelimit_fail(rl, ID, k, &rule, 100 + i);
        assert_true(lk_ratelimit_check(rl, ID, k, &rule, 100 + i) > 0);
    }
    lk_ratelimit_free(rl);
}

/* Every default rule: its max events pass, the next is refused for at most
 * its window (a PACED rule: at most one pace, <= LK_RL_PACE_MAX). */
static void every_default_rule(void **state)
{
    (void)state;
    lk_ratelimit *rl = lk_ratelimit_new(65536);
    assert_non_null(rl);
    for (int id = 0; id < LK_RL_NRULES; id++) {
        const lk_ratelimit_rule *r = lk_ratelimit_rule_of(rl, (lk_rl_id)id);
        assert_true(r->max_failures > 0 && r->window_secs > 0);
        const char *key = id == LK_RL_SIGNUP_GLOBAL ? LK_RL_GLOBAL_KEY : "198.51.100.7";
        for (int i = 0; i < r->max_failures; i++)
            assert_int_equal(lk_ratelimit_check_fail(rl, (lk_rl_id)id, key, NULL, 5000), 0);
        int w = lk_ratelimit_check_fail(rl, (lk_rl_id)id, key, NULL, 5000);
        assert_true(w >= 1);
        if (r->kind == LK_RL_PACED) assert_true(w <= LK_RL_PACE_MAX);
        else assert_int_equal(w, r->window_secs);
        /* another key of the same table is not affected */
        assert_int_equal(lk_ratelimit_check(rl, (lk_rl_id)id, "198.51.100.8", NULL, 5000), 0);
    }
    /* the contract's defaults */
    assert_int_equal(lk_ratelimit_rule_of(rl, LK_RL_SIGNUP_CLIENT)->max_failures, 20);
    assert_int_equal(lk_ratelimit_rule_of(rl, LK_RL_SIGNUP_CLIENT)->window_secs, 3600);
    assert_true(lk_ratelimit_rule_of(rl, LK_RL_LOGIN_EMAIL)->window_secs <= LK_RL_PACE_MAX);
    lk_ratelimit_free(rl);
}

/* A rule of one table never sees another table's keys. */
static void tables_are_separate(void **state)
{
    (void)state;
    lk_ratelimit *rl = lk_ratelimit_new(1024);
    for (int i = 0; i < 3; i++) lk_ratelimit_fail(rl, LK_RL_LOGIN_PAIR, "k", &rule, 10);
    assert_true(lk_ratelimit_check(rl, LK_RL_LOGIN_PAIR, "k", &rule, 10) > 0);
    for (int id = 0; id < LK_RL_NRULES; id++)
        if (id != LK_RL_LOGIN_PAIR)
            assert_int_equal(lk_ratelimit_check(rl, (lk_rl_id)id, "k", &rule, 10), 0);
    lk_ratelimit_free(rl);
}

/* The attack of issue 13: ~70k cheap failures from fresh addresses, in the
 * Bearer table and in the victim's own table, must not reset the victim's
 * over-limit login window. */
static void eviction_attack(void **state)
{
    (void)state;
    lk_ratelimit *rl = lk_ratelimit_new(65536);
    const lk_ratelimit_rule *lr = lk_ratelimit_rule_of(rl, LK_RL_LOGIN_CLIENT);
    const char *victim = "203.0.113.9";
    for (int i = 0; i < lr->max_failures; i++)
        lk_ratelimit_fail(rl, LK_RL_LOGIN_CLIENT, victim, NULL, 1000);
    int before = lk_ratelimit_check(rl, LK_RL_LOGIN_CLIENT, victim, NULL, 1000);
    assert_int_equal(before, lr->window_secs);
    char k[64];
    for (int i = 0; i < 70000; i++) {
        snprintf(k, sizeof(k), "2001:db8:%x:%x::/64", i >> 16, i & 0xffff);
        (void)lk_ratelimit_check_fail(rl, LK_RL_BEARER_CLIENT, k, NULL, 1001);
        lk_ratelimit_fail(rl, LK_RL_LOGIN_CLIENT, k, NULL, 1001);
    }
    assert_int_equal(lk_ratelimit_check(rl, LK_RL_LOGIN_CLIENT, victim, NULL, 1002),
                     lr->window_secs - 2);
    lk_ratelimit_free(rl);
}

/* The smallest table is one neighbourhood: 16 over-limit windows fill it.
 * A new key is then refused (not counted) until the soonest window ends;
 * none of the 16 is evicted meanwhile. */
static void full_neighbourhood_fails_closed(void **state)
{
    (void)state;
    lk_ratelimit *rl = lk_ratelimit_new(16);
    char k[32];
    for (int i = 0; i < 16; i++) {
        snprintf(k, sizeof(k), "ip:%d", i);
        for (int j = 0; j < 3; j++) lk_ratelimit_fail(rl, ID, k, &rule, 100 + i);
    }
    /* the oldest window (ip:0) ends at 160 */
    assert_int_equal(lk_ratelimit_check(rl, ID, "newcomer", &rule, 120), 40);
    for (int i = 0; i < 1000; i++)
        assert_true(lk_ratelimit_check_fail(rl, ID, "newcomer", &rule, 120) > 0);
    lk_ratelimit_fail(rl, ID, "newcomer", &rule, 120);
    for (int i = 0; i < 16; i++) {
        snprintf(k, sizeof(k), "ip:%d", i);
        assert_int_equal(lk_ratelimit_check(rl, ID, k, &rule, 121), 100 + i + 60 - 121);
    }
    /* once ip:0's window is over, the newcomer gets its slot */
    assert_int_equal(lk_ratelimit_check(rl, ID, "newcomer", &rule, 160), 0);
    assert_int_equal(lk_ratelimit_check_fail(rl, ID, "newcomer", &rule, 160), 0);
    assert_int_equal(lk_ratelimit_check(rl, ID, "ip:1", &rule, 160), 1);
    lk_ratelimit_free(rl);
}

/* Under the limit, the fewest events go first: a flood of one-event keys
 * evicts its own kind, not a window with more events. */
static void eviction_prefers_fewest_events(void **state)
{
    (void)state;
    lk_ratelimit *rl = lk_ratelimit_new(16);
    lk_ratelimit_fail(rl, ID, "victim", &rule, 100);
    lk_ratelimit_fail(rl, ID, "victim", &rule, 100); /* 2 of 3 */
    char k[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof(k), "ip:%d", i);
        assert_int_equal(lk_ratelimit_check_fail(rl, ID, k, &rule, 101 + i % 50), 0);
    }
    lk_ratelimit_fail(rl, ID, "victim", &rule, 151);
    assert_int_equal(lk_ratelimit_check(rl, ID, "victim", &rule, 151), 9); /* ends at 160 */
    lk_ratelimit_free(rl);
}

static const lk_ratelimit_rule paced = {3, 20, LK_RL_PACED};

/* GCRA arithmetic: a burst of 3, then one every 20 s; idle time refills. */
static void paced_burst_then_pace(void **state)
{
    (void)state;
    lk_ratelimit *rl = lk_ratelimit_new(64);
    for (int i = 0; i < 3; i++)
        assert_int_equal(lk_ratelimit_check_fail(rl, LK_RL_LOGIN_EMAIL, "a@b", &paced, 0), 0);
    assert_int_equal(lk_ratelimit_check(rl, LK_RL_LOGIN_EMAIL, "a@b", &paced, 0), 20);
    assert_int_equal(lk_ratelimit_check(rl, LK_RL_LOGIN_EMAIL, "a@b", &paced, 15), 5);
    assert_int_equal(lk_ratelimit_check_fail(rl, LK_RL_LOGIN_EMAIL, "a@b", &paced, 20), 0);
    assert_int_equal(lk_ratelimit_check(rl, LK_RL_LOGIN_EMAIL, "a@b", &paced, 20), 20);
    /* refused attempts are not counted: hammering does not push it later */
    for (int i = 0; i < 100; i++) lk_ratelimit_fail(rl, LK_RL_LOGIN_EMAIL, "a@b", &paced, 30);
    assert_int_equal(lk_ratelimit_check(rl, LK_RL_LOGIN_EMAIL, "a@b", &paced, 30), 10);
    /* after 80 s idle (TAT 80) the whole burst is back */
    for (int i = 0; i < 3; i++)
        assert_int_equal(lk_ratelimit_check_fail(rl, LK_RL_LOGIN_EMAIL, "a@b", &paced, 80), 0);
    assert_true(lk_ratelimit_check(rl, LK_RL_LOGIN_EMAIL, "a@b", &paced, 80) > 0);
    lk_ratelimit_free(rl);
}

/* Issue 13's lockout test, on the default per-email rule: after a stranger's
 * burst of 10,000 wrong guesses (some before, most refused), the owner can
 * try within a minute, whatever second they come back at; and no single
 * refusal ever asks for more than LK_RL_PACE_MAX, even with a rule that
 * asks for an hour. */
static void paced_lockout_is_under_a_minute(void **state)
{
    (void)state;
    lk_ratelimit *rl = lk_ratelimit_new(64);
    const char *email = "login-email:owner@example.com";
    for (int64_t t = 1000; t < 1100; t++)
        for (int i = 0; i < 100; i++) (void)lk_ratelimit_check_fail(rl, LK_RL_LOGIN_EMAIL, email, NULL, t);
    int64_t burst_end = 1099;
    int w = lk_ratelimit_check(rl, LK_RL_LOGIN_EMAIL, email, NULL, burst_end);
    assert_true(w >= 1 && w <= LK_RL_PACE_MAX);
    /* the owner comes back at any second in the next minute: waits <= 60 s */
    for (int64_t t = burst_end; t <= burst_end + LK_RL_PACE_MAX; t++) {
        int wt = lk_ratelimit_check(rl, LK_RL_LOGIN_EMAIL, email, NULL, t);
        assert_true(wt <= LK_RL_PACE_MAX);
        assert_true(t + wt <= burst_end + LK_RL_PACE_MAX);
    }
    assert_int_equal(lk_ratelimit_check(rl, LK_RL_LOGIN_EMAIL, email, NULL, burst_end + 60), 0);
    /* a paced rule configured with an hour is capped at a minute */
    lk_ratelimit_rule hour = {1, 3600, LK_RL_PACED};
    lk_ratelimit_fail(rl, LK_RL_LOGIN_EMAIL, "x", &hour, 0);
    assert_int_equal(lk_ratelimit_check(rl, LK_RL_LOGIN_EMAIL, "x", &hour, 0), LK_RL_PACE_MAX);
    assert_int_equal(lk_ratelimit_check(rl, LK_RL_LOGIN_EMAIL, "x", &hour, 60), 0);
    lk_ratelimit_free(rl);
}

static void throttle_key_of(const char *text, char out[LK_THROTTLE_KEY_SIZE])
{
    lk_addr a;
    assert_int_equal(lk_addr_parse(text, strlen(text), &a, NULL, NULL), 0);
    lk_clientaddr_throttle_key(&a, out);
}

/* IPv6 clients are counted per /64: 20 signups spread over 20 addresses of
 * one /64 exhaust it; another /64 and an IPv4 client are untouched; an
 * IPv4-mapped address counts as its IPv4 address. */
static void ipv6_counted_per_64(void **state)
{
    (void)state;
    lk_ratelimit *rl = lk_ratelimit_new(1024);
    char k[LK_THROTTLE_KEY_SIZE], t[64];
    for (int i = 0; i < LK_RL_SIGNUP_CLIENT_MAX; i++) {
        snprintf(t, sizeof(t), "2001:db8:1:2:%x::%x", i * 7, i + 1);
        throttle_key_of(t, k);
        assert_string_equal(k, "2001:db8:1:2::/64");
        assert_int_equal(lk_ratelimit_check_fail(rl, LK_RL_SIGNUP_CLIENT, k, NULL, 50), 0);
    }
    throttle_key_of("2001:db8:1:2:ffff:ffff:ffff:ffff", k);
    assert_int_equal(lk_ratelimit_check_fail(rl, LK_RL_SIGNUP_CLIENT, k, NULL, 51), 3599);
    throttle_key_of("2001:db8:1:3::1", k);
    assert_int_equal(lk_ratelimit_check_fail(rl, LK_RL_SIGNUP_CLIENT, k, NULL, 51), 0);
    for (int i = 0; i < LK_RL_SIGNUP_CLIENT_MAX - 1; i++) {
        throttle_key_of(i % 2 ? "::ffff:192.0.2.1" : "192.0.2.1", k);
        assert_string_equal(k, "192.0.2.1");
        assert_int_equal(lk_ratelimit_check_fail(rl, LK_RL_SIGNUP_CLIENT, k, NULL, 52), 0);
    }
    throttle_key_of("192.0.2.2", k);
    assert_int_equal(lk_ratelimit_check_fail(rl, LK_RL_SIGNUP_CLIENT, k, NULL, 52), 0);
    lk_ratelimit_free(rl);
}

/* lk_ratelimit_new_config: a custom rule and capacity are used as given. */
static void custom_config(void **state)
{
    (void)state;
    lk_ratelimit_config cfg;
    lk_ratelimit_config_init(&cfg);
    cfg.rule[LK_RL_SIGNUP_GLOBAL] = (lk_ratelimit_rule){2, 10, LK_RL_WINDOW};
    cfg.capacity[LK_RL_SIGNUP_GLOBAL] = 1;
    lk_ratelimit *rl = lk_ratelimit_new_config(&cfg);
    assert_non_null(rl);
    assert_int_equal(lk_ratelimit_check_fail(rl, LK_RL_SIGNUP_GLOBAL, LK_RL_GLOBAL_KEY, NULL, 0), 0);
    assert_int_equal(lk_ratelimit_check_fail(rl, LK_RL_SIGNUP_GLOBAL, LK_RL_GLOBAL_KEY, NULL, 1), 0);
    assert_int_equal(lk_ratelimit_check_fail(rl, LK_RL_SIGNUP_GLOBAL, LK_RL_GLOBAL_KEY, NULL, 2), 8);
    assert_int_equal(lk_ratelimit_check(rl, LK_RL_SIGNUP_GLOBAL, LK_RL_GLOBAL_KEY, NULL, 10), 0);
    lk_ratelimit_free(rl);
}

static lk_ratelimit *shared;

static void *hammer(void *arg)
{
    (void)arg;
    lk_ratelimit_rule big = {1000000, 3600};
    for (int i = 0; i < 10000; i++) lk_ratelimit_fail(shared, ID, "shared", &big, 5);
    return NULL;
}

static void threads_count_every_failure(void **state)
{
    (void)state;
    shared = lk_ratelimit_new(64);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, hammer, NULL);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    /* 40000 failures were counted: a limit of 40000 blocks, 40001 does not */
    lk_ratelimit_rule at = {40000, 3600}, above = {40001, 3600};
    assert_true(lk_ratelimit_check(shared, ID, "shared", &at, 5) > 0);
    assert_int_equal(lk_ratelimit_check(shared, ID, "shared", &above, 5), 0);
    lk_ratelimit_free(shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(limit_and_retry_after),  cmocka_unit_test(check_fail_is_check_then_fail),
        cmocka_unit_test(keys_are_independent),
        cmocka_unit_test(reset_forgets),          cmocka_unit_test(disabled_rule_and_null),
        cmocka_unit_test(full_table_recycles),    cmocka_unit_test(threads_count_every_failure),
        cmocka_unit_test(every_default_rule),     cmocka_unit_test(tables_are_separate),
        cmocka_unit_test(eviction_attack),        cmocka_unit_test(full_neighbourhood_fails_closed),
        cmocka_unit_test(eviction_prefers_fewest_events),
        cmocka_unit_test(paced_burst_then_pace),  cmocka_unit_test(paced_lockout_is_under_a_minute),
        cmocka_unit_test(ipv6_counted_per_64),    cmocka_unit_test(custom_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
