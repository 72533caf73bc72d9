/*
 * store_pg.c — the PostgreSQL backend of the store interface (store.h),
 * selected by a libpq URI (`postgresql://…` or `postgres://…`). Several
 * latchkeyd processes share one database: that is how latchkey runs on more
 * than one node (docs/deploy.md).
 *
 * Design:
 *  - One lk_store is one libpq connection (PGconn), used by one thread at a
 *    time. Every call is a blocking round trip; a statement timeout
 *    (statement_timeout, 5 s) on the server and connect_timeout /
 *    tcp_user_timeout / keepalives on the client bound how long a stuck
 *    database can hold a thread.
 *  - Every statement is a named prepared statement, prepared on first use
 *    on this connection (PQprepare once, then PQexecPrepared); the bitmap
 *    `prepared` records which. Token hashes travel as binary bytea
 *    parameters; everything else as text. Every multi-row write is a single
 *    SQL statement (data-modifying CTEs, ON DELETE CASCADE), so it is atomic
 *    without an explicit transaction and costs one round trip.
 *  - Lost connections: a call that finds the connection broken fails with
 *    LK_EUNAVAILABLE (503); the next call re-establishes it (PQreset) and
 *    re-prepares lazily. A statement that hits a connection found dead is
 *    retried once on a fresh connection if running it twice is harmless
 *    (reads; renames, billing_set and key_touch, which set a value); other
 *    writes (inserts, deletes) are not retried, since whether they
 *    committed is unknown. After a failed reconnect the next attempt waits
 *    PG_RECONNECT_BACKOFF_MS, so a database that is down costs each request
 *    an immediate 503, not a connect_timeout. A connection lost inside an
 *    explicit transaction (begin … commit, used by migrate-data) poisons
 *    the handle until rollback, so no later statement runs outside it.
 *  - Schema: versioned migrations (pg_migrations[]), each applied in one
 *    transaction holding pg_advisory_xact_lock(PG_MIGRATE_LOCK), with the
 *    applied versions in lk_schema_version: several processes starting at
 *    once apply each version exactly once. The schema mirrors the SQLite
 *    backend's: a per-table `seq` (identity) orders lists newest first and
 *    serves as the cursor; unique indexes on users.email_lower,
 *    keys.hash (bytea) and members (org_id, user_id); foreign keys with
 *    ON DELETE CASCADE do the deleting of an org's or project's contents.
 *  - SQLSTATE mapping: 23505 (unique) → LK_ECONFLICT; 23503 (foreign key)
 *    → LK_ENOT_FOUND (the parent row is gone); connection classes 08,
 *    57P01-3, 53, 57014 (timeout), 40001/40P01 → LK_EUNAVAILABLE; anything
 *    else → LK_EINTERNAL.
 *
 * Never: SQL outside this file; a parameter value (email, hash, name) in a
 * log line — logs carry the statement's name, the SQLSTATE and, except for
 * data exceptions (class 22, whose texts may quote a value), the primary
 * message; error DETAIL lines (which quote key values) are never read.
 */
#include "store.h"

#include <libpq-fe.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PG_MIGRATE_LOCK 0x6c6b736368656d61LL /* "lkschema" */
#define PG_RECONNECT_BACKOFF_MS 1000
#define PG_MAX_PARAMS 13 /* device_redeem: a key (11) + hash + now */
#define PG_DUMP_BATCH 500
#define PG_SEQ_MAX "9223372036854775807"

/* -- statements ---------------------------------------------------------- */

/* Columns selected for a key, in the order read_key() expects. */
#define KEY_COLS                                                                                   \
    "id, type, coalesce(org_id, ''), coalesce(user_id, ''), created_by, name, redacted, "          \
    "created_at, last_used_at, expires_at, seq"

/* X(NAME, retry, SQL): retry says running it twice leaves the same state
 * (see pg_run). Prepared as "lk_NAME". */
#define PG_STATEMENTS(X)                                                                           \
    X(USER_CREATE, false,                                                                          \
      "INSERT INTO users (id, email, email_lower, name, pwhash, created_at) "                      \
      "VALUES ($1, $2, $3, $4, $5, $6)")                                                           \
    X(USER_GET, true, "SELECT id, email, name, created_at FROM users WHERE id = $1")               \
    X(USER_GET_BY_EMAIL, true,                                                                     \
      "SELECT id, email, name, created_at, pwhash FROM users WHERE email_lower = $1")              \
    X(USER_RENAME, true, "UPDATE users SET name = $2 WHERE id = $1")                               \
    X(SESSION_CREATE, false,                                                                       \
      "INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at) "                        \
      "VALUES ($1, $2, $3, $4, $5)")                                                               \
    X(SESSION_GET, true,                                                                           \
      "SELECT user_id, csrf, created_at, expires_at FROM sessions WHERE hash = $1")                \
    X(SESSION_DELETE, false, "DELETE FROM sessions WHERE hash = $1")                               \
    X(ORG_CREATE, false,                                                                           \
      "WITH o AS (INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3) RETURNING id), "     \
      "m AS (INSERT INTO members (org_id, user_id, joined_at) SELECT id, $4, $3 FROM o), "         \
      "b AS (INSERT INTO billing (org_id, plan, billing_email, updated_at) "                       \
      "SELECT id, 'free', $5, $3 FROM o) SELECT 1")                                                \
    X(ORG_GET, true, "SELECT id, name, created_at, seq FROM orgs WHERE id = $1")                   \
    X(ORG_RENAME, true, "UPDATE orgs SET name = $2 WHERE id = $1")                                 \
    X(ORG_DELETE, false, "DELETE FROM orgs WHERE id = $1")                                         \
    X(ORG_LIST_FOR_USER, true,                                                                     \
      "SELECT o.id, o.name, o.created_at, o.seq FROM members m JOIN orgs o ON o.id = m.org_id "    \
      "WHERE m.user_id = $1 AND o.seq < $2 ORDER BY o.seq DESC LIMIT $3")                          \
    X(MEMBER_CHECK, true, "SELECT 1 FROM members WHERE org_id = $1 AND user_id = $2")              \
    X(MEMBER_ADD, false, "INSERT INTO members (org_id, user_id, joined_at) VALUES ($1, $2, $3)")   \
    X(MEMBER_REMOVE, false, "DELETE FROM members WHERE org_id = $1 AND user_id = $2")              \
    X(MEMBER_COUNT, true, "SELECT count(*) FROM members WHERE org_id = $1")                        \
    X(MEMBER_LIST, true,                                                                           \
      "SELECT m.org_id, m.user_id, u.email, u.name, m.joined_at, m.seq "                           \
      "FROM members m JOIN users u ON u.id = m.user_id "                                           \
      "WHERE m.org_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3")                           \
    X(PROJECT_CREATE, false,                                                                       \
      "INSERT INTO projects (id, org_id, name, created_at) VALUES ($1, $2, $3, $4)")               \
    X(PROJECT_GET, true,                                                                           \
      "SELECT id, org_id, name, created_at, seq FROM projects WHERE id = $2 AND org_id = $1")      \
    X(PROJECT_RENAME, true, "UPDATE projects SET name = $3 WHERE id = $2 AND org_id = $1")         \
    X(PROJECT_DELETE, false, "DELETE FROM projects WHERE id = $2 AND org_id = $1")                 \
    X(PROJECT_LIST, true,                                                                          \
      "SELECT id, org_id, name, created_at, seq FROM projects "                                    \
      "WHERE org_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3")                                 \
    X(ENV_CREATE, false,                                                                           \
      "INSERT INTO environments (id, project_id, name, created_at) VALUES ($1, $2, $3, $4)")       \
    X(ENV_GET, true,                                                                               \
      "SELECT id, project_id, name, created_at, seq FROM environments "                            \
      "WHERE id = $2 AND project_id = $1")                                                         \
    X(ENV_RENAME, true, "UPDATE environments SET name = $3 WHERE id = $2 AND project_id = $1")     \
    X(ENV_DELETE, false, "DELETE FROM environments WHERE id = $2 AND project_id = $1")             \
    X(ENV_LIST, true,                                                                              \
      "SELECT id, project_id, name, created_at, seq FROM environments "                            \
      "WHERE project_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3")                             \
    X(BILLING_GET, true,                                                                           \
      "SELECT org_id, plan, billing_email, updated_at FROM billing WHERE org_id = $1")             \
    X(BILLING_SET, true,                                                                           \
      "UPDATE billing SET plan = $2, billing_email = $3, updated_at = $4 WHERE org_id = $1")       \
    X(KEY_CREATE, false,                                                                           \
      "INSERT INTO access_keys (id, type, org_id, user_id, created_by, name, redacted, hash, "     \
      "created_at, last_used_at, expires_at) "                                                     \
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")                                     \
    X(KEY_GET, true, "SELECT " KEY_COLS " FROM access_keys WHERE id = $1")                         \
    X(KEY_GET_BY_HASH, true, "SELECT " KEY_COLS " FROM access_keys WHERE hash = $1")               \
    X(KEY_GET_BY_HASH_OWNER, true,                                                                 \
      "SELECT k.id, k.type, coalesce(k.org_id, ''), coalesce(k.user_id, ''), k.created_by, "       \
      "k.name, k.redacted, k.created_at, k.last_used_at, k.expires_at, k.seq, "                    \
      "u.id, u.email, u.name, u.created_at, o.id, o.name, o.created_at, o.seq "                    \
      "FROM access_keys k LEFT JOIN users u ON u.id = k.user_id "                                  \
      "LEFT JOIN orgs o ON o.id = k.org_id WHERE k.hash = $1")                                     \
    X(KEY_RENAME, true, "UPDATE access_keys SET name = $2 WHERE id = $1")                          \
    X(KEY_DELETE, false, "DELETE FROM access_keys WHERE id = $1")                                  \
    X(KEY_LIST_ORG, true,                                                                          \
      "SELECT " KEY_COLS " FROM access_keys WHERE org_id = $1 AND seq < $2 "                       \
      "AND NOT (expires_at > 0 AND expires_at <= $3) ORDER BY seq DESC LIMIT $4")                  \
    X(KEY_LIST_USER, true,                                                                         \
      "SELECT " KEY_COLS " FROM access_keys WHERE user_id = $1 AND seq < $2 "                      \
      "AND NOT (expires_at > 0 AND expires_at <= $3) ORDER BY seq DESC LIMIT $4")                  \
    X(KEY_TOUCH, true,                                                                             \
      "UPDATE access_keys k SET last_used_at = t.at "                                              \
      "FROM (SELECT id, max(at) AS at FROM unnest($1::text[], $2::bigint[]) AS u (id, at) "        \
      "GROUP BY id) t WHERE k.id = t.id AND k.last_used_at < t.at")                                \
    X(IS_EMPTY, true,                                                                              \
      "SELECT NOT EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM orgs)")               \
    X(DUMP_USERS, true,                                                                            \
      "SELECT seq, id, email, email_lower, name, pwhash, created_at FROM users "                   \
      "WHERE seq > $1 ORDER BY seq LIMIT $2")                                                      \
    X(DUMP_ORGS, true,                                                                             \
      "SELECT seq, id, name, created_at FROM orgs WHERE seq > $1 ORDER BY seq LIMIT $2")           \
    X(DUMP_MEMBERS, true,                                                                          \
      "SELECT seq, org_id, user_id, joined_at FROM members WHERE seq > $1 ORDER BY seq LIMIT $2")  \
    X(DUMP_PROJECTS, true,                                                                         \
      "SELECT seq, id, org_id, name, created_at FROM projects WHERE seq > $1 ORDER BY seq "        \
      "LIMIT $2")                                                                                  \
    X(DUMP_ENVS, true,                                                                             \
      "SELECT seq, id, project_id, name, created_at FROM environments WHERE seq > $1 "             \
      "ORDER BY seq LIMIT $2")                                                                     \
    X(DUMP_BILLING, true,                                                                          \
      "SELECT seq, org_id, plan, billing_email, updated_at FROM billing WHERE seq > $1 "           \
      "ORDER BY seq LIMIT $2")                                                                     \
    X(DUMP_KEYS, true,                                                                             \
      "SELECT " KEY_COLS ", encode(hash, 'hex') FROM access_keys WHERE seq > $1 "                  \
      "ORDER BY seq LIMIT $2")                                                                     \
    X(LOAD_USER, false,                                                                            \
      "INSERT INTO users (id, email, email_lower, name, pwhash, created_at) "                      \
      "VALUES ($1, $2, $3, $4, $5, $6)")                                                           \
    X(LOAD_ORG, false, "INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)")              \
    X(LOAD_MEMBER, false, "INSERT INTO members (org_id, user_id, joined_at) VALUES ($1, $2, $3)")  \
    X(LOAD_PROJECT, false,                                                                         \
      "INSERT INTO projects (id, org_id, name, created_at) VALUES ($1, $2, $3, $4)")               \
    X(LOAD_ENV, false,                                                                             \
      "INSERT INTO environments (id, project_id, name, created_at) VALUES ($1, $2, $3, $4)")       \
    X(LOAD_BILLING, false,                                                                         \
      "INSERT INTO billing (org_id, plan, billing_email, updated_at) VALUES ($1, $2, $3, $4) "     \
      "ON CONFLICT (org_id) DO UPDATE SET plan = excluded.plan, "                                  \
      "billing_email = excluded.billing_email, updated_at = excluded.updated_at")                  \
    X(LOAD_KEY, false,                                                                             \
      "INSERT INTO access_keys (id, type, org_id, user_id, created_by, name, redacted, hash, "     \
      "created_at, last_used_at, expires_at) "                                                     \
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")                                     \
    X(PING, true, "SELECT 1")

enum {
#define PG__ENUM(name, retry, sql) S_##name,
    PG_STATEMENTS(PG__ENUM)
#undef PG__ENUM
        S__COUNT
};

struct pg_stmt {
    const char *name; /* the prepared statement's name on the server */
    bool retry;       /* idempotent: safe to run again on a fresh connection */
    const char *sql;
};

static const struct pg_stmt pg_stmts[] = {
#define PG__ROW(name, retry, sql) {"lk_" #name, retry, sql},
    PG_STATEMENTS(PG__ROW)
#undef PG__ROW
};

_Static_assert(S__COUNT <= 64, "the prepared-statement bitmap holds 64");

/* -- schema -------------------------------------------------------------- */

/* Version n is pg_migrations[n - 1]. Append only; never edit a released one. */
static const char *const pg_migrations[] = {
    /* 1: the initial schema */
    "CREATE TABLE users ("
    " seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " id text NOT NULL UNIQUE,"
    " email text NOT NULL,"
    " email_lower text NOT NULL,"
    " name text NOT NULL,"
    " pwhash text NOT NULL,"
    " created_at bigint NOT NULL);"
    "CREATE UNIQUE INDEX users_email_lower ON users (email_lower);"

    "CREATE TABLE sessions ("
    " hash bytea PRIMARY KEY,"
    " user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    " csrf text NOT NULL,"
    " created_at bigint NOT NULL,"
    " expires_at bigint NOT NULL);"
    "CREATE INDEX sessions_user ON sessions (user_id);"

    "CREATE TABLE orgs ("
    " seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " id text NOT NULL UNIQUE,"
    " name text NOT NULL,"
    " created_at bigint NOT NULL);"

    "CREATE TABLE members ("
    " seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " org_id text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,"
    " user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    " joined_at bigint NOT NULL);"
    "CREATE UNIQUE INDEX members_org_user ON members (org_id, user_id);"
    "CREATE INDEX members_org_seq ON members (org_id, seq);"
    "CREATE INDEX members_user ON members (user_id);"

    "CREATE TABLE projects ("
    " seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " id text NOT NULL UNIQUE,"
    " org_id text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,"
    " name text NOT NULL,"
    " created_at bigint NOT NULL);"
    "CREATE INDEX projects_org_seq ON projects (org_id, seq);"

    "CREATE TABLE environments ("
    " seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " id text NOT NULL UNIQUE,"
    " project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,"
    " name text NOT NULL,"
    " created_at bigint NOT NULL);"
    "CREATE INDEX environments_project_seq ON environments (project_id, seq);"

    "CREATE TABLE billing ("
    " seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " org_id text NOT NULL UNIQUE REFERENCES orgs (id) ON DELETE CASCADE,"
    " plan text NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise')),"
    " billing_email text NOT NULL,"
    " updated_at bigint NOT NULL);"

    "CREATE TABLE access_keys ("
    " seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " id text NOT NULL UNIQUE,"
    " type smallint NOT NULL,"
    " org_id text REFERENCES orgs (id) ON DELETE CASCADE,"
    " user_id text REFERENCES users (id) ON DELETE CASCADE,"
    " created_by text NOT NULL,"
    " name text NOT NULL,"
    " redacted text NOT NULL,"
    " hash bytea NOT NULL,"
    " created_at bigint NOT NULL,"
    " last_used_at bigint NOT NULL DEFAULT 0,"
    " expires_at bigint NOT NULL DEFAULT 0,"
    " CHECK ((type = 1 AND org_id IS NOT NULL AND user_id IS NULL)"
    "     OR (type = 2 AND user_id IS NOT NULL AND org_id IS NULL)));"
    "CREATE UNIQUE INDEX access_keys_hash ON access_keys (hash);"
    "CREATE INDEX access_keys_org_seq ON access_keys (org_id, seq) WHERE org_id IS NOT NULL;"
    "CREATE INDEX access_keys_user_seq ON access_keys (user_id, seq) WHERE user_id IS NOT NULL;",
    /* 2 --- device --- sign-ins from the CLI waiting for the browser */
    "CREATE TABLE device_requests ("
    " device_hash bytea PRIMARY KEY,"
    " user_hash bytea NOT NULL UNIQUE,"
    " client_name text NOT NULL,"
    " client_addr text NOT NULL,"
    " scopes bigint NOT NULL,"
    " status smallint NOT NULL CHECK (status IN (0, 1, 2, 3)),"
    " user_id text REFERENCES users (id) ON DELETE CASCADE,"
    " key_id text,"
    " created_at bigint NOT NULL,"
    " expires_at bigint NOT NULL,"
    " last_poll_at bigint NOT NULL DEFAULT 0,"
    " poll_interval bigint NOT NULL);"
    "CREATE INDEX device_requests_expiry ON device_requests (expires_at);",
};

#define PG_SCHEMA_VERSION ((int)(sizeof(pg_migrations) / sizeof(pg_migrations[0])))

/* -- the connection ------------------------------------------------------ */

typedef struct pg_store {
    lk_store base;
    PGconn *conn;
    uint64_t prepared;       /* bit i: pg_stmts[i] is prepared on conn */
    bool in_tx;              /* inside begin … commit/rollback */
    bool tx_lost;            /* the connection died inside a transaction */
    int64_t reconnect_after; /* monotonic ms; no reconnect attempt before */
} pg_store;

/* Parameters of one statement: text values point into caller memory or
 * into num[]; binary ones carry their length. */
typedef struct pg_params {
    int n;
    const char *v[PG_MAX_PARAMS];
    int len[PG_MAX_PARAMS];
    int fmt[PG_MAX_PARAMS];
    char num[PG_MAX_PARAMS][24];
} pg_params;

static void p_text(pg_params *p, const char *s)
{
    p->v[p->n] = s;
    p->len[p->n] = 0;
    p->fmt[p->n] = 0;
    p->n++;
}

/* "" becomes SQL NULL. */
static void p_opt(pg_params *p, const char *s)
{
    p_text(p, (s && s[0]) ? s : NULL);
}

static void p_i64(pg_params *p, int64_t v)
{
    snprintf(p->num[p->n], sizeof(p->num[p->n]), "%" PRId64, v);
    p_text(p, p->num[p->n]);
}

static void p_bin(pg_params *p, const void *b, size_t n)
{
    p->v[p->n] = b;
    p->len[p->n] = (int)n;
    p->fmt[p->n] = 1;
    p->n++;
}

/* before_seq 0 means "from the newest": compare with the largest bigint. */
static void p_before(pg_params *p, const lk_page *pg)
{
    if (pg->before_seq > 0)
        p_i64(p, pg->before_seq);
    else
        p_text(p, PG_SEQ_MAX);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pg_notice_ignore(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Is the error one that says "the database is not there right now"? */
static bool sqlstate_unavailable(const char *ss)
{
    if (ss == NULL) return true; /* no SQLSTATE: libpq's own (connection) error */
    return strncmp(ss, "08", 2) == 0 || strncmp(ss, "53", 2) == 0 || strcmp(ss, "57P01") == 0 ||
           strcmp(ss, "57P02") == 0 || strcmp(ss, "57P03") == 0 || strcmp(ss, "57014") == 0 ||
           strcmp(ss, "40001") == 0 || strcmp(ss, "40P01") == 0 || strcmp(ss, "55P03") == 0;
}

/* One log line for a failed statement: its name, SQLSTATE and (unless a
 * data exception, whose text can quote a value) the primary message. */
static void pg_log(const char *what, const PGresult *res, PGconn *conn)
{
    const char *ss = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (msg == NULL && conn) msg = PQerrorMessage(conn);
    if (ss && strncmp(ss, "22", 2) == 0) msg = "(data exception)";
    /* the first line only: libpq's connection errors go on with advice */
    char line[300];
    snprintf(line, sizeof(line), "%s", msg ? msg : "");
    line[strcspn(line, "\r\n")] = '\0';
    fprintf(stderr, "latchkeyd: postgresql: %s failed: SQLSTATE %s: %s\n", what, ss ? ss : "-",
            line);
}

/* Make sure there is a working connection: reconnect a broken one (at most
 * once per backoff period). */
static int pg_ensure(pg_store *s)
{
    if (s->tx_lost)
        return lk_err_set(&s->base.err, LK_EUNAVAILABLE,
                          "database connection lost during a transaction");
    if (PQstatus(s->conn) == CONNECTION_OK) return LK_OK;
    int64_t now = now_ms();
    if (now < s->reconnect_after)
        return lk_err_set(&s->base.err, LK_EUNAVAILABLE, "database unavailable");
    s->prepared = 0;
    PQreset(s->conn);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        pg_log("reconnect", NULL, s->conn);
        s->reconnect_after = now_ms() + PG_RECONNECT_BACKOFF_MS;
        return lk_err_set(&s->base.err, LK_EUNAVAILABLE, "database unavailable");
    }
    s->reconnect_after = 0;
    return LK_OK;
}

/* Map a failed result (or NULL) to an lk_err code, logging the unexpected. */
static int pg_fail(pg_store *s, const char *what, PGresult *res)
{
    const char *ss = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    bool lost = PQstatus(s->conn) != CONNECTION_OK;
    if (lost && s->in_tx) {
        s->tx_lost = true;
        s->in_tx = false;
    }
    if (!lost && ss && strcmp(ss, "23505") == 0)
        return lk_err_set(&s->base.err, LK_ECONFLICT, "already exists");
    if (!lost && ss && strcmp(ss, "23503") == 0)
        return lk_err_set(&s->base.err, LK_ENOT_FOUND, "not found");
    pg_log(what, res, s->conn);
    if (lost || sqlstate_unavailable(ss))
        return lk_err_set(&s->base.err, LK_EUNAVAILABLE, "database unavailable");
    return lk_err_set(&s->base.err, LK_EINTERNAL, "database error");
}

/* Run prepared statement `id` with params p. On LK_OK *out holds the result
 * (owned by the caller: PQclear). */
static int pg_run(pg_store *s, int id, const pg_params *p, PGresult **out)
{
    const struct pg_stmt *st = &pg_stmts[id];
    *out = NULL;
    lk_err_clear(&s->base.err);
    for (int attempt = 0;; attempt++) {
        int rc = pg_ensure(s);
        if (rc) return rc;
        PGresult *res;
        if (!(s->prepared & (UINT64_C(1) << id))) {
            res = PQprepare(s->conn, st->name, st->sql, 0, NULL);
            if (PQresultStatus(res) != PGRES_COMMAND_OK) goto failed;
            PQclear(res);
            s->prepared |= UINT64_C(1) << id;
        }
        res = PQexecPrepared(s->conn, st->name, p ? p->n : 0, p ? p->v : NULL, p ? p->len : NULL,
                             p ? p->fmt : NULL, 0);
        ExecStatusType es = PQresultStatus(res);
        if (es == PGRES_TUPLES_OK || es == PGRES_COMMAND_OK) {
            *out = res;
            return LK_OK;
        }
    failed:
        if (PQstatus(s->conn) != CONNECTION_OK && st->retry && !s->in_tx && attempt == 0) {
            /* A read, or a write that leaves the same state when run twice
             * (set a name, raise last_used_at): try once more on a fresh
             * connection. */
            pg_log(st->name, res, s->conn);
            PQclear(res);
            continue;
        }
        rc = pg_fail(s, st->name, res);
        PQclear(res);
        return rc;
    }
}

/* A statement that returns no rows; LK_ENOT_FOUND if it touched none and
 * `need_row`. */
static int pg_cmd(pg_store *s, int id, const pg_params *p, bool need_row)
{
    PGresult *res;
    int rc = pg_run(s, id, p, &res);
    if (rc) return rc;
    if (need_row && strcmp(PQcmdTuples(res), "0") == 0)
        rc = lk_err_set(&s->base.err, LK_ENOT_FOUND, "not found");
    PQclear(res);
    return rc;
}

/* A plain (unprepared) command on the connection, for transactions and
 * migrations. */
static int pg_simple(pg_store *s, const char *what, const char *sql)
{
    PGresult *res = PQexec(s->conn, sql);
    ExecStatusType es = PQresultStatus(res);
    if (es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK) {
        PQclear(res);
        return LK_OK;
    }
    int rc = pg_fail(s, what, res);
    PQclear(res);
    return rc;
}

/* -- reading columns ----------------------------------------------------- */

static void col_str(const PGresult *r, int row, int col, char *dst, size_t cap)
{
    const char *v = PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
    snprintf(dst, cap, "%s", v);
}

static int64_t col_i64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

#define COL_STR(r, row, col, field) col_str(r, row, col, field, sizeof(field))

static void read_user(const PGresult *r, int i, lk_user *u)
{
    COL_STR(r, i, 0, u->id);
    COL_STR(r, i, 1, u->email);
    COL_STR(r, i, 2, u->name);
    u->created_at = col_i64(r, i, 3);
}

static void read_org(const PGresult *r, int i, lk_org *o)
{
    COL_STR(r, i, 0, o->id);
    COL_STR(r, i, 1, o->name);
    o->created_at = col_i64(r, i, 2);
    o->seq = col_i64(r, i, 3);
}

static void read_project(const PGresult *r, int i, lk_project *p)
{
    COL_STR(r, i, 0, p->id);
    COL_STR(r, i, 1, p->org_id);
    COL_STR(r, i, 2, p->name);
    p->created_at = col_i64(r, i, 3);
    p->seq = col_i64(r, i, 4);
}

static void read_env(const PGresult *r, int i, lk_env *v)
{
    COL_STR(r, i, 0, v->id);
    COL_STR(r, i, 1, v->project_id);
    COL_STR(r, i, 2, v->name);
    v->created_at = col_i64(r, i, 3);
    v->seq = col_i64(r, i, 4);
}

/* KEY_COLS order. */
static void read_key(const PGresult *r, int i, lk_key *k)
{
    memset(k, 0, sizeof(*k));
    COL_STR(r, i, 0, k->id);
    k->type = (lk_key_type)col_i64(r, i, 1);
    COL_STR(r, i, 2, k->org_id);
    COL_STR(r, i, 3, k->user_id);
    COL_STR(r, i, 4, k->created_by);
    COL_STR(r, i, 5, k->name);
    COL_STR(r, i, 6, k->redacted);
    k->created_at = col_i64(r, i, 7);
    k->last_used_at = col_i64(r, i, 8);
    k->expires_at = col_i64(r, i, 9);
    k->seq = col_i64(r, i, 10);
}

/* Run a single-row look-up; LK_ENOT_FOUND when there is no row. *out is the
 * result to read row 0 from (caller PQclears). */
static int pg_one(pg_store *s, int id, const pg_params *p, const char *what, PGresult **out)
{
    int rc = pg_run(s, id, p, out);
    if (rc) return rc;
    if (PQntuples(*out) < 1) {
        PQclear(*out);
        *out = NULL;
        return lk_err_setf(&s->base.err, LK_ENOT_FOUND, "%s not found", what);
    }
    return LK_OK;
}

/* -- lifecycle ----------------------------------------------------------- */

static int pg_open(const char *url, lk_store **out, lk_err *e)
{
    *out = NULL;
    pg_store *s = calloc(1, sizeof(*s));
    if (s == NULL) return lk_err_set(e, LK_ENOMEM, NULL);
    s->base.ops = &lk_store_pg_ops;
    lk_err_clear(&s->base.err);
    /* Defaults first: whatever the URL says wins (libpq keeps the last value
     * of a repeated keyword, and the URL is expanded in place of dbname). */
    const char *const keys[] = {"connect_timeout",  "options",
                                "application_name", "keepalives",
                                "keepalives_idle",  "keepalives_interval",
                                "keepalives_count", "tcp_user_timeout",
                                "dbname",           NULL};
    const char *const vals[] = {"5",         "-c statement_timeout=5000 -c lock_timeout=5000",
                                "latchkeyd", "1",
                                "10",        "5",
                                "3",         "15000",
                                url,         NULL};
    s->conn = PQconnectdbParams(keys, vals, 1);
    if (s->conn == NULL) {
        free(s);
        return lk_err_set(e, LK_ENOMEM, NULL);
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        /* Only the operator sees an open error (latchkeyd's start, migrate-
         * data), as one line: so libpq's reason goes into the message, not
         * into a log line of its own. It names host, port, user and the
         * reason; libpq never repeats a password. */
        char why[LK_ERR_MSG_MAX];
        snprintf(why, sizeof(why), "%s", PQerrorMessage(s->conn));
        why[strcspn(why, "\r\n")] = '\0';
        PQfinish(s->conn);
        free(s);
        return lk_err_setf(e, LK_EUNAVAILABLE, "cannot connect to PostgreSQL: %s", why);
    }
    PQsetNoticeProcessor(s->conn, pg_notice_ignore, NULL);
    PQsetErrorVerbosity(s->conn, PQERRORS_TERSE);
    *out = &s->base;
    return LK_OK;
}

static void pg_close(lk_store *st)
{
    pg_store *s = (pg_store *)st;
    if (s == NULL) return;
    PQfinish(s->conn);
    free(s);
}

static int pg_migrate(lk_store *st)
{
    pg_store *s = (pg_store *)st;
    lk_err_clear(&st->err);
    int rc = pg_ensure(s);
    if (rc) return rc;
    /* The lock waits for another process's migration, which may take
     * longer than a request's timeout. */
    char lock[160];
    snprintf(lock, sizeof(lock),
             "BEGIN; SET LOCAL statement_timeout = '120s'; SET LOCAL lock_timeout = '120s';"
             " SELECT pg_advisory_xact_lock(%lld)",
             (long long)PG_MIGRATE_LOCK);
    rc = pg_simple(s, "migrate: lock", lock);
    if (rc) goto fail;
    rc = pg_simple(s, "migrate: version table",
                   "CREATE TABLE IF NOT EXISTS lk_schema_version ("
                   " version integer PRIMARY KEY,"
                   " applied_at timestamptz NOT NULL DEFAULT now())");
    if (rc) goto fail;
    PGresult *res = PQexec(s->conn, "SELECT coalesce(max(version), 0) FROM lk_schema_version");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        rc = pg_fail(s, "migrate: read version", res);
        PQclear(res);
        goto fail;
    }
    int have = (int)col_i64(res, 0, 0);
    PQclear(res);
    if (have > PG_SCHEMA_VERSION) {
        fprintf(stderr,
                "latchkeyd: postgresql: the database has schema version %d, this build knows "
                "up to %d\n",
                have, PG_SCHEMA_VERSION);
        rc = lk_err_set(&st->err, LK_EINTERNAL, "database schema is newer than this latchkeyd");
        goto fail;
    }
    for (int v = have + 1; v <= PG_SCHEMA_VERSION; v++) {
        rc = pg_simple(s, "migrate: apply", pg_migrations[v - 1]);
        if (rc) goto fail;
        char ins[80];
        snprintf(ins, sizeof(ins), "INSERT INTO lk_schema_version (version) VALUES (%d)", v);
        rc = pg_simple(s, "migrate: record version", ins);
        if (rc) goto fail;
    }
    rc = pg_simple(s, "migrate: commit", "COMMIT");
    if (rc) goto fail;
    return LK_OK;
fail:
    if (PQstatus(s->conn) == CONNECTION_OK) {
        PGresult *r = PQexec(s->conn, "ROLLBACK");
        PQclear(r);
    }
    return rc;
}

static int pg_ping(lk_store *st)
{
    PGresult *res;
    int rc = pg_run((pg_store *)st, S_PING, NULL, &res);
    PQclear(res);
    return rc;
}

/* -- users and sessions -------------------------------------------------- */

static int pg_user_create(lk_store *st, const lk_user *u, const char *email_lower,
                          const char *pwhash)
{
    pg_params p = {0};
    p_text(&p, u->id);
    p_text(&p, u->email);
    p_text(&p, email_lower);
    p_text(&p, u->name);
    p_text(&p, pwhash);
    p_i64(&p, u->created_at);
    int rc = pg_cmd((pg_store *)st, S_USER_CREATE, &p, false);
    if (rc == LK_ECONFLICT) lk_err_set(&st->err, rc, "email is already registered");
    return rc;
}

static int pg_user_get(lk_store *st, const char *id, lk_user *out)
{
    pg_params p = {0};
    p_text(&p, id);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_USER_GET, &p, "user", &r);
    if (rc) return rc;
    read_user(r, 0, out);
    PQclear(r);
    return LK_OK;
}

static int pg_user_get_by_email(lk_store *st, const char *email_lower, lk_user *out, char *pwhash)
{
    pg_params p = {0};
    p_text(&p, email_lower);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_USER_GET_BY_EMAIL, &p, "user", &r);
    if (rc) return rc;
    read_user(r, 0, out);
    if (pwhash) col_str(r, 0, 4, pwhash, LK_PWHASH_SIZE);
    PQclear(r);
    return LK_OK;
}

static int pg_user_rename(lk_store *st, const char *id, const char *name)
{
    pg_params p = {0};
    p_text(&p, id);
    p_text(&p, name);
    return pg_cmd((pg_store *)st, S_USER_RENAME, &p, true);
}

static int pg_session_create(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                             const lk_session *se)
{
    pg_params p = {0};
    p_bin(&p, hash, LK_TOKEN_HASH_LEN);
    p_text(&p, se->user_id);
    p_text(&p, se->csrf);
    p_i64(&p, se->created_at);
    p_i64(&p, se->expires_at);
    return pg_cmd((pg_store *)st, S_SESSION_CREATE, &p, false);
}

static int pg_session_get(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_session *out)
{
    pg_params p = {0};
    p_bin(&p, hash, LK_TOKEN_HASH_LEN);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_SESSION_GET, &p, "session", &r);
    if (rc) return rc;
    COL_STR(r, 0, 0, out->user_id);
    COL_STR(r, 0, 1, out->csrf);
    out->created_at = col_i64(r, 0, 2);
    out->expires_at = col_i64(r, 0, 3);
    PQclear(r);
    return LK_OK;
}

static int pg_session_delete(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN])
{
    pg_params p = {0};
    p_bin(&p, hash, LK_TOKEN_HASH_LEN);
    return pg_cmd((pg_store *)st, S_SESSION_DELETE, &p, true);
}

/* -- organizations and members ------------------------------------------- */

static int pg_org_create(lk_store *st, const lk_org *o, const char *creator_id,
                         const char *billing_email)
{
    pg_params p = {0};
    p_text(&p, o->id);
    p_text(&p, o->name);
    p_i64(&p, o->created_at);
    p_text(&p, creator_id);
    p_text(&p, billing_email);
    return pg_cmd((pg_store *)st, S_ORG_CREATE, &p, false);
}

static int pg_org_get(lk_store *st, const char *id, lk_org *out)
{
    pg_params p = {0};
    p_text(&p, id);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_ORG_GET, &p, "organization", &r);
    if (rc) return rc;
    read_org(r, 0, out);
    PQclear(r);
    return LK_OK;
}

static int pg_org_rename(lk_store *st, const char *id, const char *name)
{
    pg_params p = {0};
    p_text(&p, id);
    p_text(&p, name);
    return pg_cmd((pg_store *)st, S_ORG_RENAME, &p, true);
}

static int pg_org_delete(lk_store *st, const char *id)
{
    pg_params p = {0};
    p_text(&p, id);
    return pg_cmd((pg_store *)st, S_ORG_DELETE, &p, true);
}

static int pg_org_list_for_user(lk_store *st, const char *user_id, const lk_page *pg, lk_org_cb cb,
                                void *ctx)
{
    pg_params p = {0};
    p_text(&p, user_id);
    p_before(&p, pg);
    p_i64(&p, pg->limit);
    PGresult *r;
    int rc = pg_run((pg_store *)st, S_ORG_LIST_FOR_USER, &p, &r);
    if (rc) return rc;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        lk_org o;
        read_org(r, i, &o);
        rc = cb(ctx, &o);
    }
    PQclear(r);
    return rc;
}

static int pg_member_check(lk_store *st, const char *org_id, const char *user_id)
{
    pg_params p = {0};
    p_text(&p, org_id);
    p_text(&p, user_id);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_MEMBER_CHECK, &p, "member", &r);
    PQclear(r);
    return rc;
}

static int pg_member_add(lk_store *st, const char *org_id, const char *user_id, int64_t joined_at)
{
    pg_params p = {0};
    p_text(&p, org_id);
    p_text(&p, user_id);
    p_i64(&p, joined_at);
    int rc = pg_cmd((pg_store *)st, S_MEMBER_ADD, &p, false);
    if (rc == LK_ECONFLICT) lk_err_set(&st->err, rc, "already a member");
    return rc;
}

static int pg_member_remove(lk_store *st, const char *org_id, const char *user_id)
{
    pg_params p = {0};
    p_text(&p, org_id);
    p_text(&p, user_id);
    return pg_cmd((pg_store *)st, S_MEMBER_REMOVE, &p, true);
}

static int pg_member_count(lk_store *st, const char *org_id, int64_t *out)
{
    pg_params p = {0};
    p_text(&p, org_id);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_MEMBER_COUNT, &p, "organization", &r);
    if (rc) return rc;
    *out = col_i64(r, 0, 0);
    PQclear(r);
    return LK_OK;
}

static int pg_member_list(lk_store *st, const char *org_id, const lk_page *pg, lk_member_cb cb,
                          void *ctx)
{
    pg_params p = {0};
    p_text(&p, org_id);
    p_before(&p, pg);
    p_i64(&p, pg->limit);
    PGresult *r;
    int rc = pg_run((pg_store *)st, S_MEMBER_LIST, &p, &r);
    if (rc) return rc;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        lk_member m;
        COL_STR(r, i, 0, m.org_id);
        COL_STR(r, i, 1, m.user_id);
        COL_STR(r, i, 2, m.email);
        COL_STR(r, i, 3, m.name);
        m.joined_at = col_i64(r, i, 4);
        m.seq = col_i64(r, i, 5);
        rc = cb(ctx, &m);
    }
    PQclear(r);
    return rc;
}

/* -- projects and environments ------------------------------------------- */

static int pg_project_create(lk_store *st, const lk_project *pr)
{
    pg_params p = {0};
    p_text(&p, pr->id);
    p_text(&p, pr->org_id);
    p_text(&p, pr->name);
    p_i64(&p, pr->created_at);
    return pg_cmd((pg_store *)st, S_PROJECT_CREATE, &p, false);
}

static int pg_project_get(lk_store *st, const char *org_id, const char *id, lk_project *out)
{
    pg_params p = {0};
    p_text(&p, org_id);
    p_text(&p, id);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_PROJECT_GET, &p, "project", &r);
    if (rc) return rc;
    read_project(r, 0, out);
    PQclear(r);
    return LK_OK;
}

static int pg_project_rename(lk_store *st, const char *org_id, const char *id, const char *name)
{
    pg_params p = {0};
    p_text(&p, org_id);
    p_text(&p, id);
    p_text(&p, name);
    return pg_cmd((pg_store *)st, S_PROJECT_RENAME, &p, true);
}

static int pg_project_delete(lk_store *st, const char *org_id, const char *id)
{
    pg_params p = {0};
    p_text(&p, org_id);
    p_text(&p, id);
    return pg_cmd((pg_store *)st, S_PROJECT_DELETE, &p, true);
}

static int pg_project_list(lk_store *st, const char *org_id, const lk_page *pg, lk_project_cb cb,
                           void *ctx)
{
    pg_params p = {0};
    p_text(&p, org_id);
    p_before(&p, pg);
    p_i64(&p, pg->limit);
    PGresult *r;
    int rc = pg_run((pg_store *)st, S_PROJECT_LIST, &p, &r);
    if (rc) return rc;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        lk_project pr;
        read_project(r, i, &pr);
        rc = cb(ctx, &pr);
    }
    PQclear(r);
    return rc;
}

static int pg_env_create(lk_store *st, const lk_env *v)
{
    pg_params p = {0};
    p_text(&p, v->id);
    p_text(&p, v->project_id);
    p_text(&p, v->name);
    p_i64(&p, v->created_at);
    return pg_cmd((pg_store *)st, S_ENV_CREATE, &p, false);
}

static int pg_env_get(lk_store *st, const char *project_id, const char *id, lk_env *out)
{
    pg_params p = {0};
    p_text(&p, project_id);
    p_text(&p, id);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_ENV_GET, &p, "environment", &r);
    if (rc) return rc;
    read_env(r, 0, out);
    PQclear(r);
    return LK_OK;
}

static int pg_env_rename(lk_store *st, const char *project_id, const char *id, const char *name)
{
    pg_params p = {0};
    p_text(&p, project_id);
    p_text(&p, id);
    p_text(&p, name);
    return pg_cmd((pg_store *)st, S_ENV_RENAME, &p, true);
}

static int pg_env_delete(lk_store *st, const char *project_id, const char *id)
{
    pg_params p = {0};
    p_text(&p, project_id);
    p_text(&p, id);
    return pg_cmd((pg_store *)st, S_ENV_DELETE, &p, true);
}

static int pg_env_list(lk_store *st, const char *project_id, const lk_page *pg, lk_env_cb cb,
                       void *ctx)
{
    pg_params p = {0};
    p_text(&p, project_id);
    p_before(&p, pg);
    p_i64(&p, pg->limit);
    PGresult *r;
    int rc = pg_run((pg_store *)st, S_ENV_LIST, &p, &r);
    if (rc) return rc;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        lk_env v;
        read_env(r, i, &v);
        rc = cb(ctx, &v);
    }
    PQclear(r);
    return rc;
}

static int pg_billing_get(lk_store *st, const char *org_id, lk_billing *out)
{
    pg_params p = {0};
    p_text(&p, org_id);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_BILLING_GET, &p, "billing", &r);
    if (rc) return rc;
    COL_STR(r, 0, 0, out->org_id);
    COL_STR(r, 0, 1, out->plan);
    COL_STR(r, 0, 2, out->billing_email);
    out->updated_at = col_i64(r, 0, 3);
    PQclear(r);
    return LK_OK;
}

static int pg_billing_set(lk_store *st, const lk_billing *b)
{
    pg_params p = {0};
    p_text(&p, b->org_id);
    p_text(&p, b->plan);
    p_text(&p, b->billing_email);
    p_i64(&p, b->updated_at);
    return pg_cmd((pg_store *)st, S_BILLING_SET, &p, true);
}

/* -- access keys --------------------------------------------------------- */

static void key_params(pg_params *p, const lk_key *k, const uint8_t hash[LK_TOKEN_HASH_LEN])
{
    p_text(p, k->id);
    p_i64(p, (int64_t)k->type);
    p_opt(p, k->type == LK_KEY_ORG ? k->org_id : "");
    p_opt(p, k->type == LK_KEY_PERSONAL ? k->user_id : "");
    p_text(p, k->created_by);
    p_text(p, k->name);
    p_text(p, k->redacted);
    p_bin(p, hash, LK_TOKEN_HASH_LEN);
    p_i64(p, k->created_at);
    p_i64(p, k->last_used_at);
    p_i64(p, k->expires_at);
}

static int pg_key_create(lk_store *st, const lk_key *k, const uint8_t hash[LK_TOKEN_HASH_LEN])
{
    pg_params p = {0};
    key_params(&p, k, hash);
    return pg_cmd((pg_store *)st, S_KEY_CREATE, &p, false);
}

static int pg_key_get(lk_store *st, const char *id, lk_key *out)
{
    pg_params p = {0};
    p_text(&p, id);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_KEY_GET, &p, "access key", &r);
    if (rc) return rc;
    read_key(r, 0, out);
    PQclear(r);
    return LK_OK;
}

static int pg_key_get_by_hash(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_key *out)
{
    pg_params p = {0};
    p_bin(&p, hash, LK_TOKEN_HASH_LEN);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_KEY_GET_BY_HASH, &p, "access key", &r);
    if (rc) return rc;
    read_key(r, 0, out);
    PQclear(r);
    return LK_OK;
}

/* Columns 0-10 are read_key's (KEY_COLS order); then the user (11-14) and
 * the org (15-18), NULL when the LEFT JOIN found nothing. */
static int pg_key_get_by_hash_owner(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                                    lk_key *key, lk_user *user, lk_org *org)
{
    pg_params p = {0};
    p_bin(&p, hash, LK_TOKEN_HASH_LEN);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_KEY_GET_BY_HASH_OWNER, &p, "access key", &r);
    if (rc) return rc;
    read_key(r, 0, key);
    memset(user, 0, sizeof *user);
    memset(org, 0, sizeof *org);
    if (!PQgetisnull(r, 0, 11)) {
        COL_STR(r, 0, 11, user->id);
        COL_STR(r, 0, 12, user->email);
        COL_STR(r, 0, 13, user->name);
        user->created_at = col_i64(r, 0, 14);
    }
    if (!PQgetisnull(r, 0, 15)) {
        COL_STR(r, 0, 15, org->id);
        COL_STR(r, 0, 16, org->name);
        org->created_at = col_i64(r, 0, 17);
        org->seq = col_i64(r, 0, 18);
    }
    PQclear(r);
    return LK_OK;
}

static int pg_key_rename(lk_store *st, const char *id, const char *name)
{
    pg_params p = {0};
    p_text(&p, id);
    p_text(&p, name);
    return pg_cmd((pg_store *)st, S_KEY_RENAME, &p, true);
}

static int pg_key_delete(lk_store *st, const char *id)
{
    pg_params p = {0};
    p_text(&p, id);
    return pg_cmd((pg_store *)st, S_KEY_DELETE, &p, true);
}

static int key_list(lk_store *st, int stmt, const char *owner, int64_t now, const lk_page *pg,
                    lk_key_cb cb, void *ctx)
{
    pg_params p = {0};
    p_text(&p, owner);
    p_before(&p, pg);
    p_i64(&p, now);
    p_i64(&p, pg->limit);
    PGresult *r;
    int rc = pg_run((pg_store *)st, stmt, &p, &r);
    if (rc) return rc;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        lk_key k;
        read_key(r, i, &k);
        rc = cb(ctx, &k);
    }
    PQclear(r);
    return rc;
}

static int pg_key_list_org(lk_store *st, const char *org_id, int64_t now, const lk_page *pg,
                           lk_key_cb cb, void *ctx)
{
    return key_list(st, S_KEY_LIST_ORG, org_id, now, pg, cb, ctx);
}

static int pg_key_list_user(lk_store *st, const char *user_id, int64_t now, const lk_page *pg,
                            lk_key_cb cb, void *ctx)
{
    return key_list(st, S_KEY_LIST_USER, user_id, now, pg, cb, ctx);
}

/* One statement for the whole batch: the ids and times go as two array
 * literals ("{"key_a","key_b"}", "{1,2}"). Ids are [A-Za-z0-9_], but each
 * element is quoted and escaped anyway. */
static int pg_key_touch(lk_store *st, const lk_key_touch *items, size_t n)
{
    lk_err_clear(&st->err);
    if (n == 0) return LK_OK;
    size_t idcap = n * (2 * LK_ID_SIZE + 3) + 3, atcap = n * 22 + 3;
    char *ids = malloc(idcap), *ats = malloc(atcap);
    int rc = LK_OK;
    if (ids == NULL || ats == NULL) {
        rc = lk_err_set(&st->err, LK_ENOMEM, NULL);
        goto out;
    }
    size_t il = 0, al = 0;
    ids[il++] = '{';
    ats[al++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i) {
            ids[il++] = ',';
            ats[al++] = ',';
        }
        ids[il++] = '"';
        for (const char *c = items[i].id; *c && c < items[i].id + LK_ID_SIZE; c++) {
            if (*c == '"' || *c == '\\') ids[il++] = '\\';
            ids[il++] = *c;
        }
        ids[il++] = '"';
        al += (size_t)snprintf(ats + al, atcap - al, "%" PRId64, items[i].at);
    }
    ids[il++] = '}';
    ids[il] = '\0';
    ats[al++] = '}';
    ats[al] = '\0';
    pg_params p = {0};
    p_text(&p, ids);
    p_text(&p, ats);
    rc = pg_cmd((pg_store *)st, S_KEY_TOUCH, &p, false);
out:
    free(ids);
    free(ats);
    return rc;
}

/* -- bulk copy ----------------------------------------------------------- */

static int pg_is_empty(lk_store *st, bool *empty)
{
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_IS_EMPTY, NULL, "row", &r);
    if (rc) return rc;
    *empty = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return LK_OK;
}

static bool hex_decode(const char *hex, uint8_t *out, size_t n)
{
    if (strlen(hex) != 2 * n) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char c = hex[2 * i + (size_t)j];
            unsigned d;
            if (c >= '0' && c <= '9')
                d = (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                d = (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                d = (unsigned)(c - 'A' + 10);
            else
                return false;
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    return true;
}

/* Fill r from row i of a DUMP_* result of `kind` (column 0 is seq). */
static int dump_row(pg_store *s, lk_record_kind kind, const PGresult *res, int i, lk_record *r)
{
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    switch (kind) {
    case LK_REC_USER:
        COL_STR(res, i, 1, r->as.u.user.id);
        COL_STR(res, i, 2, r->as.u.user.email);
        COL_STR(res, i, 3, r->as.u.email_lower);
        COL_STR(res, i, 4, r->as.u.user.name);
        COL_STR(res, i, 5, r->as.u.pwhash);
        r->as.u.user.created_at = col_i64(res, i, 6);
        break;
    case LK_REC_ORG:
        r->as.org.seq = col_i64(res, i, 0);
        COL_STR(res, i, 1, r->as.org.id);
        COL_STR(res, i, 2, r->as.org.name);
        r->as.org.created_at = col_i64(res, i, 3);
        break;
    case LK_REC_MEMBER:
        r->as.member.seq = col_i64(res, i, 0);
        COL_STR(res, i, 1, r->as.member.org_id);
        COL_STR(res, i, 2, r->as.member.user_id);
        r->as.member.joined_at = col_i64(res, i, 3);
        break;
    case LK_REC_PROJECT:
        r->as.project.seq = col_i64(res, i, 0);
        COL_STR(res, i, 1, r->as.project.id);
        COL_STR(res, i, 2, r->as.project.org_id);
        COL_STR(res, i, 3, r->as.project.name);
        r->as.project.created_at = col_i64(res, i, 4);
        break;
    case LK_REC_ENV:
        r->as.env.seq = col_i64(res, i, 0);
        COL_STR(res, i, 1, r->as.env.id);
        COL_STR(res, i, 2, r->as.env.project_id);
        COL_STR(res, i, 3, r->as.env.name);
        r->as.env.created_at = col_i64(res, i, 4);
        break;
    case LK_REC_BILLING:
        COL_STR(res, i, 1, r->as.billing.org_id);
        COL_STR(res, i, 2, r->as.billing.plan);
        COL_STR(res, i, 3, r->as.billing.billing_email);
        r->as.billing.updated_at = col_i64(res, i, 4);
        break;
    case LK_REC_KEY:
        read_key(res, i, &r->as.k.key);
        if (!hex_decode(PQgetvalue(res, i, 11), r->as.k.hash, LK_TOKEN_HASH_LEN))
            return lk_err_set(&s->base.err, LK_EINTERNAL, "malformed key hash in the database");
        break;
    }
    return LK_OK;
}

/* The seq column of row i (the keyset cursor of the dump). KEY_COLS has
 * seq at 10; every other DUMP_* statement at 0. */
static int64_t dump_seq(lk_record_kind kind, const PGresult *res, int i)
{
    return col_i64(res, i, kind == LK_REC_KEY ? 10 : 0);
}

/* Every row, in batches (keyset on seq), inside one REPEATABLE READ
 * snapshot so the copy is consistent even if the source is in use. */
static int pg_dump(lk_store *st, lk_record_cb cb, void *ctx)
{
    pg_store *s = (pg_store *)st;
    static const struct {
        lk_record_kind kind;
        int stmt;
    } order[] = {
        {LK_REC_USER, S_DUMP_USERS},     {LK_REC_ORG, S_DUMP_ORGS},
        {LK_REC_MEMBER, S_DUMP_MEMBERS}, {LK_REC_PROJECT, S_DUMP_PROJECTS},
        {LK_REC_ENV, S_DUMP_ENVS},       {LK_REC_BILLING, S_DUMP_BILLING},
        {LK_REC_KEY, S_DUMP_KEYS},
    };
    lk_err_clear(&st->err);
    bool own_tx = !s->in_tx;
    int rc = pg_ensure(s);
    if (rc) return rc;
    if (own_tx) {
        rc = pg_simple(s, "dump: begin", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        if (rc) return rc;
        s->in_tx = true;
    }
    lk_record *rec = malloc(sizeof(*rec));
    if (rec == NULL) {
        rc = lk_err_set(&st->err, LK_ENOMEM, NULL);
        goto out;
    }
    for (size_t t = 0; t < sizeof(order) / sizeof(order[0]) && rc == 0; t++) {
        int64_t after = 0;
        for (;;) {
            pg_params p = {0};
            p_i64(&p, after);
            p_i64(&p, PG_DUMP_BATCH);
            PGresult *res;
            rc = pg_run(s, order[t].stmt, &p, &res);
            if (rc) break;
            int n = PQntuples(res);
            for (int i = 0; i < n && rc == 0; i++) {
                rc = dump_row(s, order[t].kind, res, i, rec);
                if (rc == 0) rc = cb(ctx, rec);
                after = dump_seq(order[t].kind, res, i);
            }
            PQclear(res);
            if (rc || n < PG_DUMP_BATCH) break;
        }
    }
out:
    if (rec) {
        /* it held password and token hashes */
        memset(rec, 0, sizeof(*rec));
        free(rec);
    }
    if (own_tx && s->in_tx) {
        int crc = pg_simple(s, "dump: end", rc ? "ROLLBACK" : "COMMIT");
        s->in_tx = false;
        if (rc == 0) rc = crc;
    } else if (own_tx) {
        s->tx_lost = false; /* our own snapshot transaction: nothing to undo */
    }
    return rc;
}

static int pg_begin(lk_store *st)
{
    pg_store *s = (pg_store *)st;
    lk_err_clear(&st->err);
    if (s->in_tx) return lk_err_set(&st->err, LK_EINTERNAL, "transaction already open");
    int rc = pg_ensure(s);
    if (rc) return rc;
    rc = pg_simple(s, "begin", "BEGIN");
    if (rc) return rc;
    s->in_tx = true;
    return LK_OK;
}

static int pg_commit(lk_store *st)
{
    pg_store *s = (pg_store *)st;
    lk_err_clear(&st->err);
    if (s->tx_lost) return pg_ensure(s);
    if (!s->in_tx) return lk_err_set(&st->err, LK_EINTERNAL, "no transaction open");
    int rc = LK_OK;
    PGresult *res = PQexec(s->conn, "COMMIT");
    s->in_tx = false;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = pg_fail(s, "commit", res);
    } else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        /* COMMIT of a failed transaction answers ROLLBACK */
        rc = lk_err_set(&st->err, LK_EINTERNAL, "transaction was rolled back");
    }
    PQclear(res);
    return rc;
}

static int pg_rollback(lk_store *st)
{
    pg_store *s = (pg_store *)st;
    lk_err_clear(&st->err);
    if (s->tx_lost) {
        s->tx_lost = false; /* the server already threw it away */
        return LK_OK;
    }
    if (!s->in_tx) return LK_OK;
    s->in_tx = false;
    if (PQstatus(s->conn) != CONNECTION_OK) return LK_OK;
    return pg_simple(s, "rollback", "ROLLBACK");
}

/* Rows keep their ids, times and hashes; seq is assigned anew, and since
 * dump() runs in seq order the copied rows keep their relative order (and
 * a --force copy into a database with rows of its own cannot collide on
 * seq). */
static int pg_load(lk_store *st, const lk_record *r)
{
    pg_store *s = (pg_store *)st;
    pg_params p = {0};
    int stmt;
    switch (r->kind) {
    case LK_REC_USER:
        stmt = S_LOAD_USER;
        p_text(&p, r->as.u.user.id);
        p_text(&p, r->as.u.user.email);
        p_text(&p, r->as.u.email_lower);
        p_text(&p, r->as.u.user.name);
        p_text(&p, r->as.u.pwhash);
        p_i64(&p, r->as.u.user.created_at);
        break;
    case LK_REC_ORG:
        stmt = S_LOAD_ORG;
        p_text(&p, r->as.org.id);
        p_text(&p, r->as.org.name);
        p_i64(&p, r->as.org.created_at);
        break;
    case LK_REC_MEMBER:
        stmt = S_LOAD_MEMBER;
        p_text(&p, r->as.member.org_id);
        p_text(&p, r->as.member.user_id);
        p_i64(&p, r->as.member.joined_at);
        break;
    case LK_REC_PROJECT:
        stmt = S_LOAD_PROJECT;
        p_text(&p, r->as.project.id);
        p_text(&p, r->as.project.org_id);
        p_text(&p, r->as.project.name);
        p_i64(&p, r->as.project.created_at);
        break;
    case LK_REC_ENV:
        stmt = S_LOAD_ENV;
        p_text(&p, r->as.env.id);
        p_text(&p, r->as.env.project_id);
        p_text(&p, r->as.env.name);
        p_i64(&p, r->as.env.created_at);
        break;
    case LK_REC_BILLING:
        stmt = S_LOAD_BILLING;
        p_text(&p, r->as.billing.org_id);
        p_text(&p, r->as.billing.plan);
        p_text(&p, r->as.billing.billing_email);
        p_i64(&p, r->as.billing.updated_at);
        break;
    case LK_REC_KEY:
        stmt = S_LOAD_KEY;
        key_params(&p, &r->as.k.key, r->as.k.hash);
        break;
    default:
        return lk_err_set(&st->err, LK_EINTERNAL, "unknown record kind");
    }
    return pg_cmd(s, stmt, &p, false);
}

/* --- device --- sign-ins from the CLI (store.h: lk_device). A few calls
 * per sign-in, so they run unprepared (PQexecParams) and leave the
 * prepared-statement bitmap to the hot path. */

#define DEVICE_COLS                                                                                \
    "device_hash, user_hash, client_name, client_addr, scopes, status, user_id, key_id, "          \
    "created_at, expires_at, last_poll_at, poll_interval"

/* Run sql with p; on LK_OK *out holds the result (the caller PQclears). */
static int dev_exec(pg_store *s, const char *sql, const pg_params *p, PGresult **out)
{
    *out = NULL;
    lk_err_clear(&s->base.err);
    int rc = pg_ensure(s);
    if (rc) return rc;
    PGresult *res = PQexecParams(s->conn, sql, p->n, NULL, p->v, p->len, p->fmt, 0);
    ExecStatusType es = PQresultStatus(res);
    if (es == PGRES_TUPLES_OK || es == PGRES_COMMAND_OK) {
        *out = res;
        return LK_OK;
    }
    rc = pg_fail(s, "device", res);
    PQclear(res);
    return rc;
}

/* A write; need_row: touching none is LK_ENOT_FOUND. */
static int dev_cmd(pg_store *s, const char *sql, const pg_params *p, bool need_row)
{
    PGresult *res;
    int rc = dev_exec(s, sql, p, &res);
    if (rc) return rc;
    if (need_row && strcmp(PQcmdTuples(res), "0") == 0)
        rc = lk_err_set(&s->base.err, LK_ENOT_FOUND, "sign-in request not found");
    PQclear(res);
    return rc;
}

static void dev_hash_col(const PGresult *r, int col, uint8_t out[LK_TOKEN_HASH_LEN])
{
    /* text format: bytea is "\x" + hex */
    const char *v = PQgetvalue(r, 0, col);
    if (v[0] == '\\' && v[1] == 'x') (void)hex_decode(v + 2, out, LK_TOKEN_HASH_LEN);
}

static void dev_read(const PGresult *r, lk_device *d)
{
    memset(d, 0, sizeof *d);
    dev_hash_col(r, 0, d->device_hash);
    dev_hash_col(r, 1, d->user_hash);
    COL_STR(r, 0, 2, d->client_name);
    COL_STR(r, 0, 3, d->client_addr);
    d->scopes = col_i64(r, 0, 4);
    d->status = col_i64(r, 0, 5);
    COL_STR(r, 0, 6, d->user_id);
    COL_STR(r, 0, 7, d->key_id);
    d->created_at = col_i64(r, 0, 8);
    d->expires_at = col_i64(r, 0, 9);
    d->last_poll_at = col_i64(r, 0, 10);
    d->interval = col_i64(r, 0, 11);
}

static int pg_device_create(lk_store *st, const lk_device *d, int64_t now)
{
    pg_store *s = (pg_store *)st;
    pg_params p = {0};
    p_i64(&p, now);
    int rc = dev_cmd(s, "DELETE FROM device_requests WHERE expires_at <= $1", &p, false);
    if (rc) return rc;
    memset(&p, 0, sizeof p);
    p_bin(&p, d->device_hash, LK_TOKEN_HASH_LEN);
    p_bin(&p, d->user_hash, LK_TOKEN_HASH_LEN);
    p_text(&p, d->client_name);
    p_text(&p, d->client_addr);
    p_i64(&p, d->scopes);
    p_i64(&p, d->status);
    p_opt(&p, d->user_id);
    p_opt(&p, d->key_id);
    p_i64(&p, d->created_at);
    p_i64(&p, d->expires_at);
    p_i64(&p, d->last_poll_at);
    p_i64(&p, d->interval);
    return dev_cmd(s, "INSERT INTO device_requests (" DEVICE_COLS ") "
                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                   &p, false);
}

static int dev_get(pg_store *s, const char *sql, const uint8_t hash[LK_TOKEN_HASH_LEN],
                   lk_device *out)
{
    pg_params p = {0};
    PGresult *res;
    p_bin(&p, hash, LK_TOKEN_HASH_LEN);
    int rc = dev_exec(s, sql, &p, &res);
    if (rc) return rc;
    if (PQntuples(res) < 1)
        rc = lk_err_set(&s->base.err, LK_ENOT_FOUND, "sign-in request not found");
    else
        dev_read(res, out);
    PQclear(res);
    return rc;
}

static int pg_device_get(lk_store *st, const uint8_t device_hash[LK_TOKEN_HASH_LEN],
                         lk_device *out)
{
    return dev_get((pg_store *)st,
                   "SELECT " DEVICE_COLS " FROM device_requests WHERE device_hash = $1",
                   device_hash, out);
}

static int pg_device_get_by_user(lk_store *st, const uint8_t user_hash[LK_TOKEN_HASH_LEN],
                                 lk_device *out)
{
    return dev_get((pg_store *)st, "SELECT " DEVICE_COLS " FROM device_requests WHERE user_hash = $1",
                   user_hash, out);
}

static int pg_device_poll(lk_store *st, const uint8_t device_hash[LK_TOKEN_HASH_LEN],
                          int64_t last_poll_at, int64_t interval)
{
    pg_params p = {0};
    p_bin(&p, device_hash, LK_TOKEN_HASH_LEN);
    p_i64(&p, last_poll_at);
    p_i64(&p, interval);
    return dev_cmd((pg_store *)st,
                   "UPDATE device_requests SET last_poll_at = $2, poll_interval = $3 "
                   "WHERE device_hash = $1",
                   &p, true);
}

static int pg_device_decide(lk_store *st, const uint8_t user_hash[LK_TOKEN_HASH_LEN],
                            int64_t status, const char *user_id, int64_t now)
{
    pg_params p = {0};
    p_bin(&p, user_hash, LK_TOKEN_HASH_LEN);
    p_i64(&p, status);
    p_text(&p, user_id);
    p_i64(&p, now);
    return dev_cmd((pg_store *)st,
                   "UPDATE device_requests SET status = $2, user_id = $3 "
                   "WHERE user_hash = $1 AND status = 0 AND expires_at > $4",
                   &p, true);
}

/* One statement: the USED transition and the key's insert happen together
 * or not at all (no row in state APPROVED → nothing inserted). */
static int pg_device_redeem(lk_store *st, const uint8_t device_hash[LK_TOKEN_HASH_LEN],
                            int64_t now, const lk_key *k, const uint8_t key_hash[LK_TOKEN_HASH_LEN])
{
    pg_params p = {0};
    key_params(&p, k, key_hash); /* $1 … $11 */
    p_bin(&p, device_hash, LK_TOKEN_HASH_LEN);
    p_i64(&p, now);
    return dev_cmd((pg_store *)st,
                   "WITH d AS (UPDATE device_requests SET status = 3, key_id = $1 "
                   "WHERE device_hash = $12 AND status = 1 AND expires_at > $13 "
                   "AND user_id = $4 RETURNING 1) "
                   "INSERT INTO access_keys (id, type, org_id, user_id, created_by, name, "
                   "redacted, hash, created_at, last_used_at, expires_at) "
                   "SELECT $1::text, $2::smallint, $3::text, $4::text, $5::text, $6::text, "
                   "$7::text, $8::bytea, $9::bigint, $10::bigint, $11::bigint FROM d",
                   &p, true);
}
/* --- end device --- */

const lk_store_ops lk_store_pg_ops = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .migrate = pg_migrate,
    .ping = pg_ping,
    .user_create = pg_user_create,
    .user_get = pg_user_get,
    .user_get_by_email = pg_user_get_by_email,
    .user_rename = pg_user_rename,
    .session_create = pg_session_create,
    .session_get = pg_session_get,
    .session_delete = pg_session_delete,
    .org_create = pg_org_create,
    .org_get = pg_org_get,
    .org_rename = pg_org_rename,
    .org_delete = pg_org_delete,
    .org_list_for_user = pg_org_list_for_user,
    .member_check = pg_member_check,
    .member_add = pg_member_add,
    .member_remove = pg_member_remove,
    .member_count = pg_member_count,
    .member_list = pg_member_list,
    .project_create = pg_project_create,
    .project_get = pg_project_get,
    .project_rename = pg_project_rename,
    .project_delete = pg_project_delete,
    .project_list = pg_project_list,
    .env_create = pg_env_create,
    .env_get = pg_env_get,
    .env_rename = pg_env_rename,
    .env_delete = pg_env_delete,
    .env_list = pg_env_list,
    .billing_get = pg_billing_get,
    .billing_set = pg_billing_set,
    .key_create = pg_key_create,
    .key_get = pg_key_get,
    .key_get_by_hash = pg_key_get_by_hash,
    .key_get_by_hash_owner = pg_key_get_by_hash_owner,
    .key_rename = pg_key_rename,
    .key_delete = pg_key_delete,
    .key_list_org = pg_key_list_org,
    .key_list_user = pg_key_list_user,
    .key_touch = pg_key_touch,
    .is_empty = pg_is_empty,
    .dump = pg_dump,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .load = pg_load,
    /* --- device --- */
    .device_create = pg_device_create,
    .device_get = pg_device_get,
    .device_get_by_user = pg_device_get_by_user,
    .device_poll = pg_device_poll,
    .device_decide = pg_device_decide,
    .device_redeem = pg_device_redeem,
};
