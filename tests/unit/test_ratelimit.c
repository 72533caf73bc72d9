/*
 * test_ratelimit.c — failure windows (ratelimit.h): the limit, the
 * Retry-After arithmetic, independence of keys, reset, window expiry,
 * disabled rules, a full table recycling windows without growing, and
 * concurrent use from several threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ratelimit.h"

#include <pthread.h>
#include <stdio.h>

static const lk_ratelimit_rule rule = {3, 60};

static void limit_and_retry_after(void **state)
{
    (void)state;
    lk_ratelimit *rl = lk_ratelimit_new(64);
    assert_non_null(rl);
    int64_t t = 1000;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(lk_ratelimit_check(rl, "ip:1", &rule, t), 0);
        lk_ratelimit_fail(rl, "ip:1", &rule, t);
    }
    /* three failures at t=1000: blocked until 1060 */
    assert_int_equal(lk_ratelimit_check(rl, "ip:1", &rule, t), 60);
    assert_int_equal(lk_ratelimit_check(rl, "ip:1", &rule, t + 20), 40);
    assert_int_equal(lk_ratelimit_check(rl, "ip:1", &rule, t + 59), 1);
    /* the window is over */
    assert_int_equal(lk_ratelimit_check(rl, "ip:1", &rule, t + 60), 0);
    lk_ratelimit_fail(rl, "ip:1", &rule, t + 60);
    assert_int_equal(lk_ratelimit_check(rl, "ip:1", &rule, t + 61), 0);
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
            int wa = lk_ratelimit_check(a, keys[k], &rule, t);
            if (wa == 0) lk_ratelimit_fail(a, keys[k], &rule, t);
            int wb = lk_ratelimit_check_fail(b, keys[k], &rule, t);
            assert_int_equal(wb, wa);
            refused += wb > 0;
            for (int j = 0; j < 3; j++)
                assert_int_equal(lk_ratelimit_check(b, keys[j], &rule, t),
                                 lk_ratelimit_check(a, keys[j], &rule, t));
        }
    }
    assert_true(refused > 0); /* the limit was reached along the way */
    /* a disabled rule never refuses, a NULL table neither */
    lk_ratelimit_rule off = {-1, 60};
    for (int i = 0; i < 10; i++) assert_int_equal(lk_ratelimit_check_fail(b, "x", &off, 1), 0);
    assert_int_equal(lk_ratelimit_check_fail(NULL, "x", &rule, 1), 0);
    lk_ratelimit_free(a);
    lk_ratelimit_free(b);
}

static void keys_are_independent(void **state)
{
    (void)state;
    lk_ratelimit *rl = lk_ratelimit_new(64);
    for (int i = 0; i < 5; i++) lk_ratelimit_fail(rl, "ip:1", &rule, 10);
    assert_true(lk_ratelimit_check(rl, "ip:1", &rule, 10) > 0);
    assert_int_equal(lk_ratelimit_check(rl, "ip:2", &rule, 10), 0);
    assert_int_equal(lk_ratelimit_check(rl, "email:ip:1", &rule, 10), 0);
    lk_ratelimit_free(rl);
}

static void reset_forgets(void **state)
{
    (void)state;
    lk_ratelimit *rl = lk_ratelimit_new(64);
    for (int i = 0; i < 3; i++) lk_ratelimit_fail(rl, "a@b", &rule, 10);
    assert_true(lk_ratelimit_check(rl, "a@b", &rule, 10) > 0);
    lk_ratelimit_reset(rl, "a@b");
    assert_int_equal(lk_ratelimit_check(rl, "a@b", &rule, 10), 0);
    lk_ratelimit_reset(rl, "never-seen"); /* harmless */
    lk_ratelimit_free(rl);
}

static void disabled_rule_and_null(void **state)
{
    (void)state;
    lk_ratelimit *rl = lk_ratelimit_new(8);
    lk_ratelimit_rule off = {0, 60};
    for (int i = 0; i < 100; i++) lk_ratelimit_fail(rl, "k", &off, 10);
    assert_int_equal(lk_ratelimit_check(rl, "k", &off, 10), 0);
    assert_int_equal(lk_ratelimit_check(NULL, "k", &rule, 10), 0);
    lk_ratelimit_fail(NULL, "k", &rule, 10);
    lk_ratelimit_free(NULL);
    lk_ratelimit_free(rl);
}

static void full_table_recycles(void **state)
{
    (void)state;
    /* A tiny table and thousands of keys: memory stays fixed, the newest
     * key's window is always there (the oldest ones are recycled). */
    lk_ratelimit *rl = lk_ratelimit_new(16);
    char k[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof(k), "ip:%d", i);
        for (int j = 0; j < 3; j++) lk_ratelimit_fail(rl, k, &rule, 100 + i);
        assert_true(lk_ratelimit_check(rl, k, &rule, 100 + i) > 0);
    }
    lk_ratelimit_free(rl);
}

static lk_ratelimit *shared;

static void *hammer(void *arg)
{
    (void)arg;
    lk_ratelimit_rule big = {1000000, 3600};
    for (int i = 0; i < 10000; i++) lk_ratelimit_fail(shared, "shared", &big, 5);
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
    assert_true(lk_ratelimit_check(shared, "shared", &at, 5) > 0);
    assert_int_equal(lk_ratelimit_check(shared, "shared", &above, 5), 0);
    lk_ratelimit_free(shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(limit_and_retry_after),  cmocka_unit_test(check_fail_is_check_then_fail),
        cmocka_unit_test(keys_are_independent),
        cmocka_unit_test(reset_forgets),          cmocka_unit_test(disabled_rule_and_null),
        cmocka_unit_test(full_table_recycles),    cmocka_unit_test(threads_count_every_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
