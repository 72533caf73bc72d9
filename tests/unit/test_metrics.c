/*
 * test_metrics.c — the per-thread counters (metrics.h) and the store
 * timing (store_metrics.h) against a real SQLite store: counts recorded
 * on several threads are summed by the render, histograms are cumulative
 * with _count equal to the +Inf bucket, a key created and deleted through
 * a wrapped store moves both key counters and the store histogram, a
 * failing store call counts as a store error, and label values are
 * escaped. (The text's syntax is checked with promtool by tests/ops.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "metrics.h"
#include "store.h"
#include "store_metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NROUTES 3
#define PER_THREAD 1000
#define NTHREADS 4

static const char *const methods[NROUTES] = {"GET", "POST", "GET"};
static const char *const patterns[NROUTES] = {"/v1/whoami", "/v1/things", "/v1/q\"uote\\"};

static void route_label(size_t i, const char **m, const char **p)
{
    *m = methods[i];
    *p = patterns[i];
}

/* The value of the sample line starting with `series ` in the text, or -1. */
static double sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ') return strtod(p + n + 1, NULL);
    }
    return -1;
}

static char *render(void)
{
    lk_metrics_text t = {0};
    assert_int_equal(lk_metrics_render(&t, route_label, "1.2.3"), 0);
    char *s = strndup(t.p, t.len);
    lk_metrics_text_release(&t);
    return s;
}

static void *record(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        lk_metrics_request(0, 200, 300); /* 0.0003 s: the 0.0005 bucket */
        lk_metrics_auth(LK_AUTHN_OK);
    }
    lk_metrics_request(1, 201, 3000000);
    lk_metrics_request(1, 299, 10); /* an unusual status: "other" */
    lk_metrics_auth(LK_AUTHN_INVALID);
    lk_metrics_connection(+1);
    return NULL;
}

static void test_sum_over_threads(void **state)
{
    (void)state;
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, record, NULL);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    lk_metrics_request(LK_METRICS_ROUTE_DASHBOARD, 304, 1);
    lk_metrics_request(LK_METRICS_ROUTE_UNMATCHED, 404, 1);
    lk_metrics_request(99, 404, 1); /* beyond the table: unmatched */
    char *s = render();
    assert_int_equal(sample(s, "latchkey_http_requests_total{method=\"GET\",route=\"/v1/whoami\","
                               "status=\"200\"}"),
                     NTHREADS * PER_THREAD);
    assert_int_equal(sample(s, "latchkey_http_requests_total{method=\"POST\",route=\"/v1/things\","
                               "status=\"201\"}"),
                     NTHREADS);
    assert_int_equal(sample(s, "latchkey_http_requests_total{method=\"POST\",route=\"/v1/things\","
                               "status=\"other\"}"),
                     NTHREADS);
    assert_int_equal(
        sample(s, "latchkey_http_requests_total{method=\"\",route=\"dashboard\",status=\"304\"}"),
        1);
    assert_int_equal(
        sample(s, "latchkey_http_requests_total{method=\"\",route=\"unmatched\",status=\"404\"}"),
        2);
    assert_int_equal(sample(s, "latchkey_auth_total{outcome=\"ok\"}"), NTHREADS * PER_THREAD);
    assert_int_equal(sample(s, "latchkey_auth_total{outcome=\"invalid\"}"), NTHREADS);
    assert_int_equal(sample(s, "latchkey_auth_total{outcome=\"revoked\"}"), 0);
    assert_int_equal(sample(s, "latchkey_open_connections"), NTHREADS);
    /* cumulative buckets, _count == +Inf */
    double total = NTHREADS * (PER_THREAD + 2) + 3;
    assert_int_equal(sample(s, "latchkey_http_request_duration_seconds_bucket{le=\"0.00025\"}"),
                     NTHREADS + 3);
    assert_int_equal(sample(s, "latchkey_http_request_duration_seconds_bucket{le=\"0.0005\"}"),
                     NTHREADS * (PER_THREAD + 1) + 3);
    assert_int_equal(sample(s, "latchkey_http_request_duration_seconds_bucket{le=\"2.5\"}"),
                     NTHREADS * (PER_THREAD + 1) + 3);
    assert_int_equal(sample(s, "latchkey_http_request_duration_seconds_bucket{le=\"5\"}"), total);
    assert_int_equal(sample(s, "latchkey_http_request_duration_seconds_bucket{le=\"+Inf\"}"),
                     total);
    assert_int_equal(sample(s, "latchkey_http_request_duration_seconds_count"), total);
    assert_non_null(strstr(s, "latchkey_build_info{version=\"1.2.3\"} 1\n"));
    /* an escaped label value (no pattern has one; the escaping is still ours) */
    lk_metrics_request(2, 200, 1);
    free(s);
    s = render();
    assert_non_null(strstr(s, "route=\"/v1/q\\\"uote\\\\\",status=\"200\"} 1\n"));
    free(s);
}

static void test_store_wrapped(void **state)
{
    (void)state;
    char dir[] = "/tmp/lk-metrics-XXXXXX", url[128], path[96];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/lk.db", dir);
    snprintf(url, sizeof url, "sqlite:%s", path);
    lk_store *st = NULL;
    lk_err e;
    lk_err_clear(&e);
    assert_int_equal(lk_store_open(url, &st, &e), LK_OK);
    assert_int_equal(st->ops->migrate(st), LK_OK);
    const lk_store_ops *real = st->ops;
    lk_store_metrics_wrap(st);
    assert_ptr_not_equal(st->ops, real);
    assert_string_equal(st->ops->name, real->name);
    lk_user u = {.created_at = 1};
    lk_id_new("usr_", u.id);
    snprintf(u.email, sizeof u.email, "m@example.com");
    snprintf(u.name, sizeof u.name, "M");
    assert_int_equal(st->ops->user_create(st, &u, "m@example.com", "x"), LK_OK);
    lk_key k = {.type = LK_KEY_PERSONAL, .created_at = 1};
    lk_id_new("key_", k.id);
    memcpy(k.user_id, u.id, sizeof k.user_id);
    memcpy(k.created_by, u.id, sizeof k.created_by);
    snprintf(k.name, sizeof k.name, "k");
    snprintf(k.redacted, sizeof k.redacted, "lkp_...abcd");
    uint8_t hash[LK_TOKEN_HASH_LEN] = {1, 2, 3};
    assert_int_equal(st->ops->key_create(st, &k, hash), LK_OK);
    lk_key got;
    assert_int_equal(st->ops->key_get_by_hash(st, hash, &got), LK_OK);
    assert_string_equal(got.id, k.id);
    assert_int_equal(st->ops->key_delete(st, k.id), LK_OK);
    assert_int_equal(st->ops->key_delete(st, k.id), LK_ENOT_FOUND); /* not an error, not a delete */
    lk_store_metrics_wrap(st); /* twice: still one level of wrapping */
    char *s = render();
    assert_int_equal(sample(s, "latchkey_keys_created_total"), 1);
    assert_int_equal(sample(s, "latchkey_keys_deleted_total"), 1);
    assert_int_equal(sample(s, "latchkey_store_call_duration_seconds_count{op=\"key_create\"}"), 1);
    assert_int_equal(sample(s, "latchkey_store_call_duration_seconds_count{op=\"key_delete\"}"), 2);
    assert_int_equal(sample(s, "latchkey_store_errors_total{op=\"key_delete\"}"), -1);
    free(s);
    /* failures of the store itself count as errors (op 0 is ping) */
    lk_metrics_store(0, 10, LK_EUNAVAILABLE);
    lk_metrics_store(0, 10, LK_EINTERNAL);
    lk_metrics_store(0, 10, LK_ENOT_FOUND);
    s = render();
    assert_int_equal(sample(s, "latchkey_store_errors_total{op=\"ping\"}"), 2);
    assert_int_equal(sample(s, "latchkey_store_call_duration_seconds_count{op=\"ping\"}"), 3);
    free(s);
    lk_store_close(st);
    static const char *sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        unlink(p);
    }
    rmdir(dir);
}

int main(void)
{
    lk_metrics_enable(NROUTES);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sum_over_threads),
        cmocka_unit_test(test_store_wrapped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
