/*
 * test_pg_pipe.c — the pipelined key look-up (store/pg_pipe.h) against a
 * real PostgreSQL, driven by a poll(2) loop standing in for h2o's:
 *
 *  - hundreds of look-ups in flight (several batches queued before any
 *    answer is read) are answered once each, in FIFO order, with the
 *    statement's row (key and owner) or LK_ENOT_FOUND;
 *  - a cancelled waiter is never called back;
 *  - a connection the server drops while look-ups wait (they are held by a
 *    table lock, then pg_terminate_backend) sends them once more on a
 *    fresh connection; dropped again, every waiter is answered
 *    LK_EUNAVAILABLE (in order), and the next look-up reconnects and
 *    succeeds;
 *  - one drop while look-ups wait costs them nothing (sent again);
 *  - an idle connection the server drops is noticed and costs nothing;
 *  - freeing the pipe answers its waiters LK_EUNAVAILABLE (shutdown);
 *  - an unreachable server is LK_EUNAVAILABLE at once, and not retried
 *    within the back-off.
 *
 * Needs LK_TEST_DATABASE_URL=postgresql://… (tests/run.sh sets it to a
 * fresh database); without it every test is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pg_pipe.h"
#include "store.h"
#include "test_db.h"

#include <libpq-fe.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NKEYS 40
#define NLOOKUPS 600 /* < LK_PGPIPE_MAX_WAITERS */
#define PUMP_MS 10000

static const char *g_url;

#define NEED_PG()                                                                                  \
    do {                                                                                           \
        (void)state;                                                                               \
        if (g_url == NULL) skip();                                                                 \
    } while (0)

/* --- the stand-in event loop --- */
typedef struct loop {
    int fd; /* watched, or -1 */
    bool flush;
    int watches, unwatches;
} loop;

static int io_watch(void *ctx, int fd)
{
    loop *l = ctx;
    l->fd = fd;
    l->watches++;
    return 0;
}
static void io_unwatch(void *ctx)
{
    loop *l = ctx;
    l->fd = -1;
    l->unwatches++;
}
static void io_flush_soon(void *ctx)
{
    ((loop *)ctx)->flush = true;
}

static lk_pgpipe *new_pipe(loop *l, const char *url)
{
    *l = (loop){.fd = -1};
    lk_pgpipe_io io = {
        .ctx = l, .watch = io_watch, .unwatch = io_unwatch, .flush_soon = io_flush_soon};
    lk_pgpipe *p = lk_pgpipe_new(url, &io);
    assert_non_null(p);
    return p;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One loop turn: the flush the pipe asked for, then wait for readability. */
static void turn(lk_pgpipe *p, loop *l, int wait_ms)
{
    if (l->flush) {
        l->flush = false;
        if (lk_pgpipe_flush(p) == 1) l->flush = true;
    }
    if (l->fd < 0) return;
    struct pollfd pf = {.fd = l->fd, .events = POLLIN};
    if (poll(&pf, 1, wait_ms) > 0) lk_pgpipe_readable(p);
}

/* Turns until nothing is pending (or PUMP_MS). */
static void pump(lk_pgpipe *p, loop *l)
{
    int64_t end = now_ms() + PUMP_MS;
    while (lk_pgpipe_pending(p) > 0 && now_ms() < end)
        turn(p, l, 50);
    assert_int_equal(lk_pgpipe_pending(p), 0);
}

/* --- answers --- */
typedef struct answer {
    int rc;
    int order; /* callback sequence number */
    char key_id[LK_ID_SIZE];
    char owner_id[LK_ID_SIZE];
    bool called;
} answer;

static int g_order;

static void on_answer(void *arg, int rc, const lk_pgpipe_row *row, const lk_err *e)
{
    answer *a = arg;
    assert_false(a->called); /* exactly once */
    a->called = true;
    a->rc = rc;
    a->order = g_order++;
    if (rc == LK_OK) {
        snprintf(a->key_id, sizeof a->key_id, "%s", row->key.id);
        snprintf(a->owner_id, sizeof a->owner_id, "%s", row->user.id);
    } else if (rc != LK_ENOT_FOUND) {
        assert_int_equal(e->code, rc);
    }
}

/* --- data --- */
static void new_user(lk_store *st, lk_user *u)
{
    memset(u, 0, sizeof(*u));
    lk_id_new("usr_", u->id);
    snprintf(u->email, sizeof(u->email), "%s@pipe.test", u->id);
    snprintf(u->name, sizeof(u->name), "pipe test");
    u->created_at = 1700000000;
    char lower[LK_EMAIL_SIZE];
    snprintf(lower, sizeof lower, "%s", u->email);
    for (char *c = lower; *c; c++)
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    assert_int_equal(st->ops->user_create(st, u, lower, "$argon2id$v=19$test"), LK_OK);
}

static void new_key(lk_store *st, const lk_user *u, lk_key *k, uint8_t hash[LK_TOKEN_HASH_LEN])
{
    memset(k, 0, sizeof(*k));
    lk_id_new("key_", k->id);
    k->type = LK_KEY_PERSONAL;
    snprintf(k->user_id, sizeof k->user_id, "%s", u->id);
    snprintf(k->created_by, sizeof k->created_by, "%s", u->id);
    snprintf(k->name, sizeof k->name, "k");
    snprintf(k->redacted, sizeof k->redacted, "lkp_abcd");
    k->created_at = 1700000000;
    randombytes_buf(hash, LK_TOKEN_HASH_LEN);
    assert_int_equal(st->ops->key_create(st, k, hash), LK_OK);
}

typedef struct fixture {
    lk_store *st;
    lk_user user;
    lk_key keys[NKEYS];
    uint8_t hashes[NKEYS][LK_TOKEN_HASH_LEN];
} fixture;

static fixture *make_fixture(void)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->st = test_open_store(g_url);
    new_user(f->st, &f->user);
    for (int i = 0; i < NKEYS; i++)
        new_key(f->st, &f->user, &f->keys[i], f->hashes[i]);
    return f;
}

static void free_fixture(fixture *f)
{
    lk_store_close(f->st);
    free(f);
}

/* --- the admin connection --- */
/* Terminate latchkeyd's connections to this database; how many. */
static int terminate_all(PGconn *c)
{
    test_pg_exec(c, "SELECT pg_stat_clear_snapshot()");
    PGresult *r = PQexec(c, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                            "AND application_name = 'latchkeyd'");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    int n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

/* Whether some latchkeyd backend waits for a lock. */
static bool someone_waits(PGconn *c)
{
    /* the statistics are a snapshot per transaction: c holds the lock in one */
    test_pg_exec(c, "SELECT pg_stat_clear_snapshot()");
    PGresult *r = PQexec(c, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                            "current_database() AND application_name = 'latchkeyd' "
                            "AND wait_event_type = 'Lock'");
    bool w = PQresultStatus(r) == PGRES_TUPLES_OK && atoi(PQgetvalue(r, 0, 0)) > 0;
    PQclear(r);
    return w;
}

/* --- tests --- */

/* Several batches queued before any answer is read, known and unknown
 * hashes interleaved: each answered once, in order, with its own row. */
static void many_lookups_in_flight(void **state)
{
    NEED_PG();
    fixture *f = make_fixture();
    loop l;
    lk_pgpipe *p = new_pipe(&l, g_url);
    static answer ans[NLOOKUPS];
    memset(ans, 0, sizeof ans);
    g_order = 0;
    uint8_t unknown[LK_TOKEN_HASH_LEN];
    randombytes_buf(unknown, sizeof unknown);
    for (int i = 0; i < NLOOKUPS; i++) {
        uint64_t t;
        const uint8_t *h = i % 7 == 3 ? unknown : f->hashes[i % NKEYS];
        assert_int_equal(lk_pgpipe_lookup(p, h, on_answer, &ans[i], &t), LK_OK);
        if (i % 100 == 99) { /* end a batch, write it, read nothing yet */
            assert_true(l.flush);
            l.flush = false;
            assert_int_equal(lk_pgpipe_flush(p), 0);
        }
    }
    assert_int_equal(lk_pgpipe_pending(p), NLOOKUPS);
    pump(p, &l);
    for (int i = 0; i < NLOOKUPS; i++) {
        assert_true(ans[i].called);
        assert_int_equal(ans[i].order, i); /* FIFO */
        if (i % 7 == 3) {
            assert_int_equal(ans[i].rc, LK_ENOT_FOUND);
        } else {
            assert_int_equal(ans[i].rc, LK_OK);
            assert_string_equal(ans[i].key_id, f->keys[i % NKEYS].id);
            assert_string_equal(ans[i].owner_id, f->user.id); /* the owner came along */
        }
    }
    assert_int_equal(lk_pgpipe_connects(p), 1); /* one connection for all of them */
    lk_pgpipe_free(p);
    free_fixture(f);
}

static void cancelled_waiter_is_not_called(void **state)
{
    NEED_PG();
    fixture *f = make_fixture();
    loop l;
    lk_pgpipe *p = new_pipe(&l, g_url);
    answer a[3] = {0};
    uint64_t t[3];
    g_order = 0;
    for (int i = 0; i < 3; i++)
        assert_int_equal(lk_pgpipe_lookup(p, f->hashes[i], on_answer, &a[i], &t[i]), LK_OK);
    lk_pgpipe_cancel(p, t[1]);
    pump(p, &l);
    assert_true(a[0].called && a[2].called);
    assert_false(a[1].called);
    assert_int_equal(a[2].rc, LK_OK);
    lk_pgpipe_cancel(p, t[0]); /* answered already: ignored */
    lk_pgpipe_free(p);
    free_fixture(f);
}

/* Turns until a latchkeyd backend waits for the lock. */
static void until_waiting(lk_pgpipe *p, loop *l, PGconn *adm)
{
    for (int i = 0; i < 200 && !someone_waits(adm); i++)
        turn(p, l, 10); /* the batch goes out and blocks on the lock */
    assert_true(someone_waits(adm));
}

/* Look-ups held by a lock when the server drops the connection: sent
 * once more, then, dropped again, answered LK_EUNAVAILABLE. */
static void dropped_connection_fails_waiters_then_reconnects(void **state)
{
    NEED_PG();
    fixture *f = make_fixture();
    loop l;
    lk_pgpipe *p = new_pipe(&l, g_url);
    answer warm = {0};
    uint64_t t;
    assert_int_equal(lk_pgpipe_lookup(p, f->hashes[0], on_answer, &warm, &t), LK_OK);
    pump(p, &l);
    assert_int_equal(warm.rc, LK_OK);

    PGconn *adm = test_pg_admin(g_url);
    test_pg_exec(adm, "BEGIN");
    test_pg_exec(adm, "LOCK TABLE access_keys IN ACCESS EXCLUSIVE MODE");
    enum { N = 20 };
    answer a[N] = {0};
    g_order = 0;
    for (int i = 0; i < N; i++)
        assert_int_equal(lk_pgpipe_lookup(p, f->hashes[i], on_answer, &a[i], &t), LK_OK);
    until_waiting(p, &l, adm);
    assert_true(terminate_all(adm) > 0);
    for (int i = 0; i < 200 && lk_pgpipe_connects(p) < 2; i++)
        turn(p, &l, 10);
    assert_int_equal(lk_pgpipe_connects(p), 2); /* sent again on a fresh connection */
    assert_int_equal(lk_pgpipe_pending(p), N);
    until_waiting(p, &l, adm); /* and held by the lock again */
    assert_true(terminate_all(adm) > 0);
    pump(p, &l);
    test_pg_exec(adm, "ROLLBACK");
    PQfinish(adm);
    for (int i = 0; i < N; i++) {
        assert_true(a[i].called);
        assert_int_equal(a[i].rc, LK_EUNAVAILABLE);
        assert_int_equal(a[i].order, i);
    }
    assert_int_equal(l.fd, -1); /* closed and unwatched */
    assert_int_equal(lk_pgpipe_connects(p), 2);
    answer after = {0};
    assert_int_equal(lk_pgpipe_lookup(p, f->hashes[1], on_answer, &after, &t), LK_OK);
    pump(p, &l);
    assert_int_equal(after.rc, LK_OK);
    assert_string_equal(after.key_id, f->keys[1].id);
    assert_int_equal(lk_pgpipe_connects(p), 3);
    lk_pgpipe_free(p);
    free_fixture(f);
}

/* One drop while look-ups wait costs them nothing: sent again, answered. */
static void dropped_connection_once_is_retried(void **state)
{
    NEED_PG();
    fixture *f = make_fixture();
    loop l;
    lk_pgpipe *p = new_pipe(&l, g_url);
    PGconn *adm = test_pg_admin(g_url);
    test_pg_exec(adm, "BEGIN");
    test_pg_exec(adm, "LOCK TABLE access_keys IN ACCESS EXCLUSIVE MODE");
    enum { N = 10 };
    answer a[N] = {0};
    uint64_t t;
    g_order = 0;
    for (int i = 0; i < N; i++)
        assert_int_equal(lk_pgpipe_lookup(p, f->hashes[i], on_answer, &a[i], &t), LK_OK);
    until_waiting(p, &l, adm);
    assert_true(terminate_all(adm) > 0);
    for (int i = 0; i < 200 && lk_pgpipe_connects(p) < 2; i++)
        turn(p, &l, 10);
    test_pg_exec(adm, "ROLLBACK");
    PQfinish(adm);
    pump(p, &l);
    for (int i = 0; i < N; i++) {
        assert_int_equal(a[i].rc, LK_OK);
        assert_string_equal(a[i].key_id, f->keys[i].id);
        assert_int_equal(a[i].order, i);
    }
    assert_int_equal(lk_pgpipe_connects(p), 2);
    lk_pgpipe_free(p);
    free_fixture(f);
}

/* An idle connection dropped by the server is noticed by the watch. */
static void dropped_idle_connection_costs_nothing(void **state)
{
    NEED_PG();
    fixture *f = make_fixture();
    loop l;
    lk_pgpipe *p = new_pipe(&l, g_url);
    answer a = {0}, b = {0};
    uint64_t t;
    assert_int_equal(lk_pgpipe_lookup(p, f->hashes[0], on_answer, &a, &t), LK_OK);
    pump(p, &l);
    PGconn *adm = test_pg_admin(g_url);
    assert_true(terminate_all(adm) > 0);
    PQfinish(adm);
    for (int i = 0; i < 200 && l.fd >= 0; i++)
        turn(p, &l, 10);
    assert_int_equal(l.fd, -1);
    assert_int_equal(lk_pgpipe_lookup(p, f->hashes[0], on_answer, &b, &t), LK_OK);
    pump(p, &l);
    assert_int_equal(b.rc, LK_OK);
    assert_int_equal(lk_pgpipe_connects(p), 2);
    lk_pgpipe_free(p);
    free_fixture(f);
}

static void free_answers_waiters(void **state)
{
    NEED_PG();
    fixture *f = make_fixture();
    loop l;
    lk_pgpipe *p = new_pipe(&l, g_url);
    answer a[5] = {0};
    uint64_t t;
    g_order = 0;
    for (int i = 0; i < 5; i++)
        assert_int_equal(lk_pgpipe_lookup(p, f->hashes[i], on_answer, &a[i], &t), LK_OK);
    lk_pgpipe_free(p);
    for (int i = 0; i < 5; i++) {
        assert_true(a[i].called);
        assert_int_equal(a[i].rc, LK_EUNAVAILABLE);
    }
    assert_int_equal(l.unwatches, 1);
    free_fixture(f);
}

static void unreachable_server_is_unavailable_at_once(void **state)
{
    (void)state;
    loop l;
    /* a port nothing listens on (connect refused at once) */
    lk_pgpipe *p = new_pipe(&l, "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2");
    uint8_t h[LK_TOKEN_HASH_LEN] = {0};
    answer a = {0};
    uint64_t t;
    assert_int_equal(lk_pgpipe_lookup(p, h, on_answer, &a, &t), LK_EUNAVAILABLE);
    int64_t t0 = now_ms();
    assert_int_equal(lk_pgpipe_lookup(p, h, on_answer, &a, &t), LK_EUNAVAILABLE);
    assert_true(now_ms() - t0 < 100); /* backing off: no second connect */
    assert_false(a.called);
    assert_int_equal(lk_pgpipe_connects(p), 0);
    assert_int_equal(l.watches, 0);
    lk_pgpipe_free(p);
}

int main(void)
{
    const char *u = getenv("LK_TEST_DATABASE_URL");
    if (u && (strncmp(u, "postgresql://", 13) == 0 || strncmp(u, "postgres://", 11) == 0))
        g_url = u;
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(many_lookups_in_flight),
        cmocka_unit_test(cancelled_waiter_is_not_called),
        cmocka_unit_test(dropped_connection_fails_waiters_then_reconnects),
        cmocka_unit_test(dropped_connection_once_is_retried),
        cmocka_unit_test(dropped_idle_connection_costs_nothing),
        cmocka_unit_test(free_answers_waiters),
        cmocka_unit_test(unreachable_server_is_unavailable_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
