/*
 * test_store_pg.c — what only the PostgreSQL backend promises, against a
 * real server (the generic contract is test_store.c, run against PostgreSQL
 * by tests/run.sh):
 *
 *  - a connection the server drops (pg_terminate_backend) costs a read or
 *    an idempotent write (a rename) nothing (retried once on a fresh
 *    connection), an insert one LK_EUNAVAILABLE, and the next call succeeds;
 *  - a connection lost inside begin … commit poisons the handle until
 *    rollback (no later statement may run outside the transaction);
 *  - a statement blocked by a lock fails with LK_EUNAVAILABLE within the
 *    lock/statement timeout instead of hanging;
 *  - migrations are recorded once per version, and an unreachable server
 *    is LK_EUNAVAILABLE at open.
 *
 * Needs LK_TEST_DATABASE_URL=postgresql://… (tests/run.sh sets it to a
 * fresh database); without it every test is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "schema.h"
#include "store.h"
#include "test_db.h"

#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *g_url;

/* Without a PostgreSQL URL every test skips (cmocka counts it as skipped). */
#define NEED_PG()                                                                                  \
    do {                                                                                           \
        (void)state;                                                                               \
        if (g_url == NULL) skip();                                                                 \
    } while (0)

/* Terminate every other connection to this database (latchkeyd's are named
 * "latchkeyd"); returns how many. */
static int terminate_all(PGconn *c)
{
    PGresult *r = PQexec(c, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                            "AND application_name = 'latchkeyd'");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    int n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    /* terminate is asynchronous: wait until they are gone */
    for (int i = 0; i < 200; i++) {
        r = PQexec(c, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND pid <> pg_backend_pid() AND application_name = 'latchkeyd'");
        int left = atoi(PQgetvalue(r, 0, 0));
        PQclear(r);
        if (left == 0) break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return n;
}

static void new_user(lk_store *st, lk_user *u)
{
    memset(u, 0, sizeof(*u));
    lk_id_new("usr_", u->id);
    snprintf(u->email, sizeof(u->email), "%s@pg.test", u->id);
    snprintf(u->name, sizeof(u->name), "PG test");
    u->created_at = 1700000000;
    char lower[LK_EMAIL_SIZE];
    snprintf(lower, sizeof(lower), "%s", u->email);
    for (char *c = lower; *c; c++)
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    assert_int_equal(st->ops->user_create(st, u, lower, "$argon2id$v=19$test"), LK_OK);
}

static void new_key(lk_store *st, const lk_user *u, lk_key *k, uint8_t hash[LK_TOKEN_HASH_LEN])
{
    memset(k, 0, sizeof(*k));
    lk_id_new("key_", k->id);
    k->type = LK_KEY_PERSONAL;
    snprintf(k->user_id, sizeof(k->user_id), "%s", u->id);
    snprintf(k->created_by, sizeof(k->created_by), "%s", u->id);
    snprintf(k->name, sizeof(k->name), "k");
    snprintf(k->redacted, sizeof(k->redacted), "lkp_abcd");
    k->created_at = 1700000000;
    randombytes_buf(hash, LK_TOKEN_HASH_LEN);
    assert_int_equal(st->ops->key_create(st, k, hash), LK_OK);
}

static void dropped_connection_read_retried(void **state)
{
    NEED_PG();
    lk_store *st = test_open_store(g_url);
    PGconn *adm = test_pg_admin(g_url);
    lk_user u;
    lk_key k, got;
    uint8_t h[LK_TOKEN_HASH_LEN];
    new_user(st, &u);
    new_key(st, &u, &k, h);
    for (int i = 0; i < 5; i++) {
        assert_true(terminate_all(adm) >= 1);
        /* the hot path survives: a read is retried on a new connection */
        assert_int_equal(st->ops->key_get_by_hash(st, h, &got), LK_OK);
        assert_string_equal(got.id, k.id);
        assert_int_equal(st->ops->ping(st), LK_OK);
    }
    PQfinish(adm);
    lk_store_close(st);
}

static void dropped_connection_insert_fails_once_rename_retried(void **state)
{
    NEED_PG();
    lk_store *st = test_open_store(g_url);
    PGconn *adm = test_pg_admin(g_url);
    lk_user u;
    lk_key k, got;
    uint8_t h[LK_TOKEN_HASH_LEN];
    new_user(st, &u);
    new_key(st, &u, &k, h);
    lk_org o = {0};
    lk_id_new("org_", o.id);
    snprintf(o.name, sizeof(o.name), "dropped");
    o.created_at = 1;
    assert_int_equal(st->ops->org_create(st, &o, u.id, u.email), LK_OK);
    for (int i = 0; i < 5; i++) {
        assert_true(terminate_all(adm) >= 1);
        /* an insert is not retried (whether it committed is unknown) */
        lk_project p = {0};
        lk_id_new("prj_", p.id);
        snprintf(p.org_id, sizeof(p.org_id), "%s", o.id);
        snprintf(p.name, sizeof(p.name), "p%d", i);
        p.created_at = 1;
        assert_int_equal(st->ops->child_create(st, LK_CHILD_PROJECT, &p), LK_EUNAVAILABLE);
        assert_int_equal(st->err.code, LK_EUNAVAILABLE);
        lk_project got_p;
        assert_int_equal(st->ops->child_get(st, LK_CHILD_PROJECT, o.id, p.id, &got_p),
                         LK_ENOT_FOUND);
        assert_int_equal(st->ops->child_create(st, LK_CHILD_PROJECT, &p), LK_OK);
        assert_int_equal(st->ops->child_get(st, LK_CHILD_PROJECT, o.id, p.id, &got_p), LK_OK);
        /* a rename is idempotent: retried, so it just works */
        assert_true(terminate_all(adm) >= 1);
        assert_int_equal(st->ops->key_rename(st, k.id, p.name), LK_OK);
        assert_int_equal(st->ops->key_get(st, k.id, &got), LK_OK);
        assert_string_equal(got.name, p.name);
    }
    PQfinish(adm);
    lk_store_close(st);
}

static void dropped_connection_inside_transaction(void **state)
{
    NEED_PG();
    lk_store *st = test_open_store(g_url);
    PGconn *adm = test_pg_admin(g_url);
    lk_user u;
    new_user(st, &u);
    assert_int_equal(st->ops->begin(st), LK_OK);
    lk_record r;
    memset(&r, 0, sizeof(r));
    r.kind = LK_REC_ORG;
    lk_id_new("org_", r.as.org.id);
    snprintf(r.as.org.name, sizeof(r.as.org.name), "in tx");
    r.as.org.created_at = 1;
    assert_int_equal(st->ops->load(st, &r), LK_OK);
    assert_true(terminate_all(adm) >= 1);
    /* every call fails until rollback: nothing may run outside the tx */
    lk_record r2 = r;
    lk_id_new("org_", r2.as.org.id);
    assert_int_equal(st->ops->load(st, &r2), LK_EUNAVAILABLE);
    assert_int_equal(st->ops->load(st, &r2), LK_EUNAVAILABLE);
    lk_user got;
    assert_int_equal(st->ops->user_get(st, u.id, &got), LK_EUNAVAILABLE);
    assert_int_not_equal(st->ops->commit(st), LK_OK);
    assert_int_equal(st->ops->rollback(st), LK_OK);
    /* after rollback the handle works again, and nothing of the tx landed */
    lk_org o;
    assert_int_equal(st->ops->org_get(st, r.as.org.id, &o), LK_ENOT_FOUND);
    assert_int_equal(st->ops->org_get(st, r2.as.org.id, &o), LK_ENOT_FOUND);
    assert_int_equal(st->ops->user_get(st, u.id, &got), LK_OK);
    PQfinish(adm);
    lk_store_close(st);
}

static void blocked_statement_times_out(void **state)
{
    NEED_PG();
    lk_store *st = test_open_store(g_url);
    lk_user u;
    lk_key k;
    uint8_t h[LK_TOKEN_HASH_LEN];
    new_user(st, &u);
    new_key(st, &u, &k, h);
    PGconn *adm = test_pg_admin(g_url);
    test_pg_exec(adm, "BEGIN");
    test_pg_exec(adm, "LOCK TABLE access_keys IN ACCESS EXCLUSIVE MODE");
    time_t t0 = time(NULL);
    lk_key got;
    assert_int_equal(st->ops->key_get_by_hash(st, h, &got), LK_EUNAVAILABLE);
    time_t waited = time(NULL) - t0;
    assert_true(waited >= 3 && waited <= 20);
    test_pg_exec(adm, "ROLLBACK");
    assert_int_equal(st->ops->key_get_by_hash(st, h, &got), LK_OK);
    PQfinish(adm);
    lk_store_close(st);
}

static void migrations_recorded_once(void **state)
{
    NEED_PG();
    lk_store *a = test_open_store(g_url), *b = test_open_store(g_url);
    assert_int_equal(a->ops->migrate(a), LK_OK);
    assert_int_equal(b->ops->migrate(b), LK_OK);
    PGconn *adm = test_pg_admin(g_url);
    PGresult *r = PQexec(adm, "SELECT count(*) = count(DISTINCT version) AND count(*) > 0, "
                              "min(version) = 1 AND max(version) = count(*) "
                              "FROM lk_schema_version");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    assert_string_equal(PQgetvalue(r, 0, 1), "t");
    PQclear(r);
    PQfinish(adm);
    lk_store_close(a);
    lk_store_close(b);
}

/* The database's tables have exactly the columns of schema.c, in its
 * order (test_store.c checks the same for SQLite). */
static void schema_is_the_description(void **state)
{
    NEED_PG();
    lk_store_close(test_open_store(g_url));
    PGconn *c = test_pg_admin(g_url);
    for (int t = 0; lk_schema_tables[t]; t++) {
        const lk_table *tb = lk_schema_tables[t];
        const char *params[1] = {tb->name};
        PGresult *r = PQexecParams(c,
                                   "SELECT column_name FROM information_schema.columns "
                                   "WHERE table_schema = current_schema() AND table_name = $1 "
                                   "ORDER BY ordinal_position",
                                   1, NULL, params, NULL, NULL, 0);
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        int row = 0;
        for (int i = 0; i < tb->ncols; i++) {
            if (tb->cols[i].ddl == NULL) continue; /* joined from another table */
            assert_true(row < PQntuples(r));
            assert_string_equal(PQgetvalue(r, row, 0), tb->cols[i].name);
            row++;
        }
        assert_int_equal(row, PQntuples(r));
        PQclear(r);
    }
    PQfinish(c);
}

/* A database migrated by a newer build is refused at migrate. */
static void refuses_newer_schema(void **state)
{
    NEED_PG();
    lk_store *st = test_open_store(g_url);
    PGconn *c = test_pg_admin(g_url);
    test_pg_exec(c, "INSERT INTO lk_schema_version (version) VALUES (999)");
    int rc = st->ops->migrate(st);
    char msg[LK_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", lk_err_message(&st->err));
    test_pg_exec(c, "DELETE FROM lk_schema_version WHERE version = 999");
    PQfinish(c);
    assert_int_equal(rc, LK_EINTERNAL);
    assert_non_null(strstr(msg, "newer"));
    assert_int_equal(st->ops->migrate(st), LK_OK); /* and fine again without it */
    lk_store_close(st);
}

static void unreachable_server_is_unavailable(void **state)
{
    NEED_PG();
    lk_store *st = NULL;
    lk_err e;
    lk_err_clear(&e);
    /* port 1 on loopback: nothing listens there */
    assert_int_equal(
        lk_store_open("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", &st, &e),
        LK_EUNAVAILABLE);
    assert_null(st);
    assert_int_equal(e.code, LK_EUNAVAILABLE);
}

int main(void)
{
    const char *u = getenv("LK_TEST_DATABASE_URL");
    if (u && (strncmp(u, "postgresql://", 13) == 0 || strncmp(u, "postgres://", 11) == 0))
        g_url = u;
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dropped_connection_read_retried),
        cmocka_unit_test(dropped_connection_insert_fails_once_rename_retried),
        cmocka_unit_test(dropped_connection_inside_transaction),
        cmocka_unit_test(blocked_statement_times_out),
        cmocka_unit_test(migrations_recorded_once),
        cmocka_unit_test(schema_is_the_description),
        cmocka_unit_test(refuses_newer_schema),
        cmocka_unit_test(unreachable_server_is_unavailable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
