/*
 * test_reqid.c — request ids (reqid.h): which incoming ids are kept
 * (table), and generated ids: valid, the documented length, unique within
 * a thread and across threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reqid.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void test_valid_table(void **state)
{
    (void)state;
    char max[LK_REQID_MAX + 2];
    memset(max, 'a', sizeof max);
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"abc", true},       {"0f8fad5b-d9cb-469f-a165-70867728950e", true},
        {"req_1.2-3", true}, {"A", true},
        {"", false},         {"has space", false},
        {"quote\"", false},  {"new\nline", false},
        {"tab\t", false},    {"semi;colon", false},
        {"slash/", false},   {"caf\xc3\xa9", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(lk_reqid_valid(cases[i].s, strlen(cases[i].s)), cases[i].ok);
    assert_true(lk_reqid_valid(max, LK_REQID_MAX));
    assert_false(lk_reqid_valid(max, LK_REQID_MAX + 1));
    assert_false(lk_reqid_valid("nul\0x", 5)); /* an embedded NUL */
    assert_false(lk_reqid_valid(NULL, 0));
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

#define N_IDS 20000

static void test_generated_unique(void **state)
{
    (void)state;
    char(*ids)[LK_REQID_SIZE] = calloc(N_IDS, LK_REQID_SIZE);
    assert_non_null(ids);
    for (size_t i = 0; i < N_IDS; i++) {
        assert_int_equal(lk_reqid_generate(ids[i]), LK_REQID_GEN_LEN);
        assert_int_equal(strlen(ids[i]), LK_REQID_GEN_LEN);
        assert_true(lk_reqid_valid(ids[i], LK_REQID_GEN_LEN));
    }
    qsort(ids, N_IDS, LK_REQID_SIZE, cmp_id);
    for (size_t i = 1; i < N_IDS; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
    free(ids);
}

static void *gen_one(void *out)
{
    lk_reqid_generate(out);
    return NULL;
}

static void test_threads_differ(void **state)
{
    (void)state;
    char a[LK_REQID_SIZE], b[LK_REQID_SIZE];
    pthread_t t1, t2;
    pthread_create(&t1, NULL, gen_one, a);
    pthread_join(t1, NULL);
    pthread_create(&t2, NULL, gen_one, b);
    pthread_join(t2, NULL);
    /* both threads' first id: same counter, different random prefixes */
    assert_memory_equal(a + LK_REQID_PREFIX_LEN, b + LK_REQID_PREFIX_LEN, LK_REQID_COUNTER_LEN);
    assert_memory_not_equal(a, b, LK_REQID_PREFIX_LEN);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_table),
        cmocka_unit_test(test_generated_unique),
        cmocka_unit_test(test_threads_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
