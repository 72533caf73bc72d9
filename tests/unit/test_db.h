/*
 * test_db.h — set-up the store test suites share (cmocka assertions inside):
 * open and migrate a store, and an administrator's libpq connection for
 * the PostgreSQL-only tests. Header-only: each suite is one executable.
 */
#ifndef LK_TEST_DB_H
#define LK_TEST_DB_H

#include "store.h"

#include <libpq-fe.h>

/* A migrated store on url; the caller closes it. */
static inline lk_store *test_open_store(const char *url)
{
    lk_store *st = NULL;
    lk_err e;
    lk_err_clear(&e);
    assert_int_equal(lk_store_open(url, &st, &e), LK_OK);
    assert_int_equal(st->ops->migrate(st), LK_OK);
    return st;
}

/* A plain libpq connection to url (PQfinish it). */
static inline PGconn *test_pg_admin(const char *url)
{
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    return c;
}

/* Run sql on c; fail the test unless it succeeds. */
static inline void test_pg_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType es = PQresultStatus(r);
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
}

#endif
