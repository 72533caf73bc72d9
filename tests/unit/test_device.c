/*
 * test_device.c — the device sign-in's use-cases (service_device.h)
 * against a real store (SQLite in a temporary directory) and a real rate
 * limiter, with the clock injected (lk_svc_config.now): expiry, the pace
 * (slow_down and its growth up to the cap), single use, approval by
 * another user, the guess throttle and its window, and the user_code's
 * accepted forms — table-driven, without sleeping.
 *
 * With LK_TEST_DATABASE_URL=postgresql://... set (tests/run.sh), every test
 * runs against a fresh PostgreSQL database created next to that one (and
 * dropped after), as test_service.c does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "service_device.h"
#include "timefmt.h"
#include "token.h"

#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1900000000 /* a fixed "now" */

static int64_t fake_now;
static int64_t clock_fn(void)
{
    return fake_now;
}

typedef struct fx {
    char dir[64], path[128], url[512];
    char pg_admin[512]; /* LK_TEST_DATABASE_URL when testing PostgreSQL */
    char pg_db[32];     /* the per-test database, dropped in teardown */
    lk_store *st;
    lk_ratelimit *rl;
    lk_svc_config cfg;
    lk_svc svc;
    lk_principal alice, bob, key;
} fx;

static void user(fx *f, const char *id, const char *email, lk_principal *p)
{
    lk_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.id, sizeof u.id, "%s", id);
    snprintf(u.email, sizeof u.email, "%s", email);
    snprintf(u.name, sizeof u.name, "%s", "Someone");
    u.created_at = T0;
    assert_int_equal(f->st->ops->user_create(f->st, &u, email, "$argon2id$x"), LK_OK);
    memset(p, 0, sizeof *p);
    p->kind = LK_PRINCIPAL_SESSION;
    memcpy(p->user_id, u.id, sizeof p->user_id);
}

/* Run one statement on the PostgreSQL server behind f->pg_admin. */
static int pg_exec(const fx *f, const char *sql)
{
    PGconn *c = PQconnectdb(f->pg_admin);
    int ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PGresult *r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
    }
    PQfinish(c);
    return ok ? 0 : -1;
}

/* f->url: a fresh SQLite file in a temp dir, or a fresh PostgreSQL
 * database on the server of LK_TEST_DATABASE_URL. */
static int fresh_store_url(fx *f)
{
    const char *pg = getenv("LK_TEST_DATABASE_URL");
    if (pg != NULL && strncmp(pg, "postgres", 8) == 0) {
        char sql[96];
        unsigned char rnd[6];
        const char *slash = strrchr(pg, '/');
        if (slash == NULL || strlen(pg) >= sizeof f->pg_admin) return -1;
        snprintf(f->pg_admin, sizeof f->pg_admin, "%s", pg);
        randombytes_buf(rnd, sizeof rnd);
        snprintf(f->pg_db, sizeof f->pg_db, "lk_dev_%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
                 rnd[2], rnd[3], rnd[4], rnd[5]);
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->pg_db);
        if (pg_exec(f, sql) != 0) return -1;
        snprintf(f->url, sizeof f->url, "%.*s/%s", (int)(slash - pg), pg, f->pg_db);
        return 0;
    }
    snprintf(f->dir, sizeof f->dir, "/tmp/lk-dev-XXXXXX");
    if (mkdtemp(f->dir) == NULL) return -1;
    snprintf(f->path, sizeof f->path, "%s/lk.db", f->dir);
    snprintf(f->url, sizeof f->url, "sqlite:%s", f->path);
    return 0;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    lk_err e;
    if (f == NULL || fresh_store_url(f) != 0) return -1;
    lk_err_clear(&e);
    if (lk_store_open(f->url, &f->st, &e) != LK_OK || f->st->ops->migrate(f->st) != LK_OK)
        return -1;
    f->rl = lk_ratelimit_new(1024);
    lk_svc_config_init(&f->cfg);
    f->cfg.now = clock_fn;
    f->svc = (lk_svc){.st = f->st, .rl = f->rl, .cfg = &f->cfg};
    fake_now = T0;
    user(f, "usr_AAAAAAAAAAAAAAAAAAAA", "alice@example.com", &f->alice);
    user(f, "usr_BBBBBBBBBBBBBBBBBBBB", "bob@example.com", &f->bob);
    f->key = f->alice;
    f->key.kind = LK_PRINCIPAL_PERSONAL_KEY;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    static const char *sfx[] = {"", "-wal", "-shm", "-journal"};
    char p[200];
    lk_store_close(f->st);
    lk_ratelimit_free(f->rl);
    if (f->pg_db[0]) {
        snprintf(p, sizeof p, "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->pg_db);
        (void)pg_exec(f, p);
        free(f);
        return 0;
    }
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, sfx[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void start(fx *f, lk_device_grant *g)
{
    assert_int_equal(lk_svc_device_start(&f->svc, "box", 3, NULL, NULL, 0, false, "10.0.0.1", g),
                     LK_OK);
}

static int poll(fx *f, const lk_device_grant *g, lk_key *k)
{
    char token[LK_TOKEN_SIZE];
    int rc = lk_svc_device_token(&f->svc, g->device_code, strlen(g->device_code), k, token);
    if (rc == LK_OK) assert_int_equal(lk_token_parse(token, strlen(token), NULL), LK_TOKEN_OK);
    return rc;
}

static int decide(fx *f, const lk_principal *p, const char *code, bool yes, const char *client)
{
    return lk_svc_device_decide(&f->svc, p, code, strlen(code), client, yes);
}

/* --- the user_code's forms (pure) --------------------------------------------- */

static void test_user_code_forms(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *want; /* NULL: refused */
    } cases[] = {
        {"BCDF-GHJK", "BCDFGHJK"},
        {"bcdf-ghjk", "BCDFGHJK"},
        {"BCDFGHJK", "BCDFGHJK"},
        {"bcdf ghjk", "BCDFGHJK"},
        {"b-c-d-f-g-h-j-k", "BCDFGHJK"},
        {" ZZZZ-XXXX ", "ZZZZXXXX"},
        {"BCDF-GHJ", NULL},
        {"BCDF-GHJKL", NULL},
        {"ABCD-EFGH", NULL},
        {"BCDF-GHJ0", NULL},
        {"", NULL},
        {"BCDF_GHJK", NULL},
        {"BCDF\tGHJK", NULL},
        {"ＢCDF-GHJK", NULL},
        {"BCDF-GHJ\xc3\xa9", NULL},
    };
    char out[LK_USER_CODE_LEN + 1];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = lk_device_user_code_canon(cases[i].in, strlen(cases[i].in), out);
        if (cases[i].want) {
            assert_int_equal(rc, 0);
            assert_string_equal(out, cases[i].want);
        } else {
            assert_int_equal(rc, -1);
        }
    }
    char nul[] = "BCDF\0GHJK";
    assert_int_equal(lk_device_user_code_canon(nul, sizeof nul - 1, out), -1);
    char big[LK_USER_CODE_INPUT_MAX + 2];
    memset(big, ' ', sizeof big);
    memcpy(big, "BCDFGHJK", 8);
    assert_int_equal(lk_device_user_code_canon(big, sizeof big, out), -1);
}

/* --- the flow ----------------------------------------------------------------- */

static void test_start_codes(void **state)
{
    fx *f = *state;
    lk_device_grant g;
    start(f, &g);
    assert_int_equal(strlen(g.device_code), LK_DEVICE_CODE_LEN);
    assert_int_equal(strlen(g.user_code), 9);
    assert_int_equal(g.user_code[4], '-');
    for (int i = 0; i < 9; i++)
        if (i != 4) assert_non_null(strchr(LK_USER_CODE_ALPHABET, g.user_code[i]));
    assert_int_equal(g.expires_in, LK_DEVICE_TTL);
    assert_int_equal(g.interval, LK_DEVICE_INTERVAL);
    static const struct {
        const char *name;
        size_t len;
    } bad[] = {{"", 0}, {" \t", 2}, {"a\x01", 2}, {"a\nb", 3}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(lk_svc_device_start(&f->svc, bad[i].name, bad[i].len, NULL, NULL, 0, false,
                                             "10.0.0.1", &g),
                         LK_EVALIDATION);
        assert_string_equal(f->svc.err.field, "client_name");
    }
}

static void test_pace_and_slow_down(void **state)
{
    fx *f = *state;
    lk_device_grant g;
    lk_key k;
    start(f, &g);
    assert_int_equal(poll(f, &g, &k), LK_EAUTH_PENDING); /* the first poll: never too fast */
    fake_now += LK_DEVICE_INTERVAL - 1;
    assert_int_equal(poll(f, &g, &k), LK_ESLOW_DOWN); /* interval 5 → 10 */
    fake_now += 9;
    assert_int_equal(poll(f, &g, &k), LK_ESLOW_DOWN); /* 10 → 15 */
    fake_now += 15;
    assert_int_equal(poll(f, &g, &k), LK_EAUTH_PENDING);
    /* it grows up to the cap and no further */
    for (int i = 0; i < 20; i++)
        assert_int_equal(poll(f, &g, &k), LK_ESLOW_DOWN);
    fake_now += LK_DEVICE_INTERVAL_MAX - 1;
    assert_int_equal(poll(f, &g, &k), LK_ESLOW_DOWN);
    fake_now += LK_DEVICE_INTERVAL_MAX;
    assert_int_equal(poll(f, &g, &k), LK_EAUTH_PENDING);
}

static void test_approve_single_use_and_owner(void **state)
{
    fx *f = *state;
    lk_device_grant g;
    lk_device_info info;
    lk_key k;
    start(f, &g);
    assert_int_equal(lk_svc_device_lookup(&f->svc, &f->alice, g.user_code, strlen(g.user_code),
                                          "10.0.0.9", &info),
                     LK_OK);
    assert_string_equal(info.client_name, "box");
    assert_string_equal(info.client_addr, "10.0.0.1");
    assert_int_equal(info.created_at, T0);
    assert_int_equal(info.expires_at, T0 + LK_DEVICE_TTL);
    /* bob approves the request alice looked at: the key is bob's */
    assert_int_equal(decide(f, &f->bob, g.user_code, true, "10.0.0.8"), LK_OK);
    assert_int_equal(decide(f, &f->alice, g.user_code, true, "10.0.0.9"), LK_ENOT_FOUND);
    assert_int_equal(poll(f, &g, &k), LK_OK);
    assert_int_equal(k.type, LK_KEY_PERSONAL);
    assert_string_equal(k.user_id, f->bob.user_id);
    assert_string_equal(k.created_by, f->bob.user_id);
    assert_string_equal(k.name, "box");
    for (int i = 0; i < 3; i++) {
        fake_now += LK_DEVICE_INTERVAL;
        assert_int_equal(poll(f, &g, &k), LK_EEXPIRED_TOKEN);
    }
}

static void test_deny(void **state)
{
    fx *f = *state;
    lk_device_grant g;
    lk_key k;
    start(f, &g);
    assert_int_equal(decide(f, &f->alice, g.user_code, false, "10.0.0.9"), LK_OK);
    assert_int_equal(poll(f, &g, &k), LK_EACCESS_DENIED);
    assert_int_equal(decide(f, &f->alice, g.user_code, true, "10.0.0.9"), LK_ENOT_FOUND);
    fake_now += LK_DEVICE_INTERVAL;
    assert_int_equal(poll(f, &g, &k), LK_EACCESS_DENIED);
}

static void test_expiry(void **state)
{
    fx *f = *state;
    lk_device_grant g, h;
    lk_key k;
    start(f, &g);
    start(f, &h);
    assert_int_equal(decide(f, &f->alice, h.user_code, true, "10.0.0.9"), LK_OK);
    fake_now = T0 + LK_DEVICE_TTL - 1;
    assert_int_equal(poll(f, &g, &k), LK_EAUTH_PENDING);
    fake_now = T0 + LK_DEVICE_TTL;
    assert_int_equal(poll(f, &g, &k), LK_EEXPIRED_TOKEN);
    assert_int_equal(poll(f, &h, &k), LK_EEXPIRED_TOKEN); /* approved, collected too late */
    assert_int_equal(decide(f, &f->alice, g.user_code, true, "10.0.0.9"), LK_ENOT_FOUND);
    /* a shorter TTL (--device-code-ttl) */
    f->cfg.device_ttl = 2;
    start(f, &g);
    assert_int_equal(g.expires_in, 2);
    fake_now += 2;
    assert_int_equal(poll(f, &g, &k), LK_EEXPIRED_TOKEN);
}

static void test_only_sessions_decide(void **state)
{
    fx *f = *state;
    lk_device_grant g;
    lk_key k;
    lk_principal none;
    memset(&none, 0, sizeof none);
    start(f, &g);
    assert_int_equal(decide(f, &f->key, g.user_code, true, "10.0.0.9"), LK_EFORBIDDEN);
    assert_int_equal(decide(f, &none, g.user_code, true, "10.0.0.9"), LK_EUNAUTHENTICATED);
    assert_int_equal(poll(f, &g, &k), LK_EAUTH_PENDING);
}

static void test_guess_throttle(void **state)
{
    fx *f = *state;
    lk_device_grant g;
    start(f, &g);
    const char *wrong = strcmp(g.user_code, "BBBB-BBBB") ? "BBBB-BBBB" : "CCCC-CCCC";
    static const char *const junk[] = {"x", "", "AAAA-AAAA"}; /* malformed counts too */
    for (int i = 0; i < 3; i++)
        assert_int_equal(decide(f, &f->alice, junk[i], true, "10.9.9.9"), LK_ENOT_FOUND);
    for (int i = 3; i < 10; i++)
        assert_int_equal(decide(f, &f->alice, wrong, true, "10.9.9.9"), LK_ENOT_FOUND);
    assert_int_equal(decide(f, &f->alice, wrong, true, "10.9.9.9"), LK_ERATE_LIMITED);
    assert_true(f->svc.err.retry_after >= 1);
    /* the right code gets the same answer from that address */
    assert_int_equal(decide(f, &f->alice, g.user_code, true, "10.9.9.9"), LK_ERATE_LIMITED);
    /* ... until its window has passed */
    fake_now += 15 * 60;
    assert_int_equal(decide(f, &f->alice, wrong, true, "10.9.9.9"), LK_ENOT_FOUND);
    /* other addresses were never affected; the code is expired by now */
    assert_int_equal(decide(f, &f->alice, g.user_code, true, "10.1.1.1"), LK_ENOT_FOUND);
}

int main(void)
{
    if (lk_token_init() != 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_code_forms),
        cmocka_unit_test_setup_teardown(test_start_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pace_and_slow_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approve_single_use_and_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deny, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_sessions_decide, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guess_throttle, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
