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
 *    without an explicit transaction and costs one round trip. The one
 *    rule that needs a lock (member_remove_unless_last) runs in a short
 *    transaction holding the org row's lock (SELECT … FOR UPDATE).
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
 *  - Schema: the tables are schema.c's description (schema.h), shared with
 *    the SQLite backend: statements name their columns as {table} and are
 *    expanded from it when prepared; rows are read and bound by one generic
 *    loop over the columns (read_cols, bind_cols). Versioned migrations
 *    (pg_migrations[]; version 1 was written by hand and is exactly the
 *    description, which test_store_pg checks), each applied in one
 *    transaction holding pg_advisory_xact_lock(PG_MIGRATE_LOCK), with the
 *    applied versions in lk_schema_version: several processes starting at
 *    once apply each version exactly once; a database with a newer version
 *    than this build knows is refused. A per-table `seq` (identity) orders
 *    lists newest first and serves as the cursor; foreign keys with ON
 *    DELETE CASCADE do the deleting of an org's or project's contents.
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
#include "schema.h"
#include "store.h"
#include "store_pg.h"

#include <libpq-fe.h>
#include <sodium.h>

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PG_MIGRATE_LOCK 0x6c6b736368656d61LL /* "lkschema" */
#define PG_RECONNECT_BACKOFF_MS 1000
#define PG_MAX_PARAMS 24 /* access_keys: 17 inserted columns, + seq on load */
#define PG_DUMP_BATCH 500
#define PG_SEQ_MAX "9223372036854775807"
#define PG_BYTEA_HEX "\\x" /* a bytea's text form starts so with bytea_output=hex */

/* -- statements ---------------------------------------------------------- */

/* X(NAME, retry, SQL): retry says running it twice leaves the same state
 * (see pg_run). Prepared as "lk_NAME". Column lists and INSERTs are written
 * {…} and expanded from schema.c's description when prepared
 * (lk_schema_sql); what stays here is each statement's own WHERE, order,
 * upsert and locking. */
#define PG_STATEMENTS(X)                                                                           \
    X(USER_CREATE, false, "INSERT INTO {users:insert}")                                            \
    X(USER_GET, true, "SELECT {users} FROM users WHERE id = $1")                                   \
    X(USER_GET_BY_EMAIL, true, "SELECT {users*} FROM users WHERE email_lower = $1")                \
    X(USER_RENAME, true, "UPDATE users SET name = $2 WHERE id = $1")                               \
    X(SESSION_CREATE, false, "INSERT INTO {sessions:insert}")                                      \
    X(SESSION_GET, true, "SELECT {sessions} FROM sessions WHERE hash = $1")                        \
    X(SESSION_DELETE, false, "DELETE FROM sessions WHERE hash = $1")                               \
    X(ORG_CREATE, false,                                                                           \
      "WITH o AS (INSERT INTO {orgs:insert} RETURNING id, created_at), "                           \
      "m AS (INSERT INTO members (org_id, user_id, joined_at) SELECT id, $5, created_at FROM o), " \
      "b AS (INSERT INTO billing (org_id, plan, billing_email, updated_at) "                       \
      "SELECT id, $6, $7, created_at FROM o) SELECT 1")                                            \
    X(ORG_CREATE_PLAIN, false, "INSERT INTO {orgs:insert}")                                        \
    X(ORG_GET, true, "SELECT {orgs} FROM orgs WHERE id = $1")                                      \
    X(ORG_RENAME, true, "UPDATE orgs SET name = $2 WHERE id = $1")                                 \
    X(ORG_DELETE, false, "DELETE FROM orgs WHERE id = $1")                                         \
    X(ORG_LIST_FOR_USER, true,                                                                     \
      "SELECT {o.orgs} FROM members m JOIN orgs o ON o.id = m.org_id "                             \
      "WHERE m.user_id = $1 AND o.seq < $2 ORDER BY o.seq DESC LIMIT $3")                          \
    X(MEMBER_CHECK, true, "SELECT 1 FROM members WHERE org_id = $1 AND user_id = $2")              \
    X(MEMBER_ADD, false, "INSERT INTO {members:insert}")                                           \
    X(MEMBER_REMOVE, false, "DELETE FROM members WHERE org_id = $1 AND user_id = $2")              \
    X(MEMBER_COUNT, true, "SELECT count(*) FROM members WHERE org_id = $1")                        \
    X(ORG_LOCK, true, "SELECT 1 FROM orgs WHERE id = $1 FOR UPDATE")                               \
    X(MEMBER_STATE, true,                                                                          \
      "SELECT count(*), coalesce(bool_or(user_id = $2), false), "                                  \
      "count(*) FILTER (WHERE role = 'owner'), "                                                   \
      "coalesce(bool_or(user_id = $2 AND role = 'owner'), false) FROM members WHERE org_id = $1")  \
    X(MEMBER_LIST, true,                                                                           \
      "SELECT {m.members} FROM members m JOIN users u ON u.id = m.user_id "                        \
      "WHERE m.org_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3")                           \
    X(BILLING_GET, true, "SELECT {billing} FROM billing WHERE org_id = $1")                        \
    X(BILLING_SET, true,                                                                           \
      "UPDATE billing SET plan = $2, billing_email = $3, updated_at = $4 WHERE org_id = $1")       \
    X(BILLING_UPSERT, false,                                                                       \
      "INSERT INTO {billing:insert} ON CONFLICT (org_id) DO UPDATE SET plan = excluded.plan, "     \
      "billing_email = excluded.billing_email, updated_at = excluded.updated_at")                  \
    X(KEY_CREATE, false, "INSERT INTO {access_keys:insert}")                                       \
    X(KEY_GET, true, "SELECT {access_keys} FROM access_keys WHERE id = $1")                        \
    X(KEY_GET_BY_HASH, true, "SELECT {access_keys} FROM access_keys WHERE " KEY_BY_HASH)           \
    X(KEY_GET_BY_HASH_OWNER, true,                                                                 \
      "SELECT {k.access_keys}, {u.users}, {o.orgs} FROM access_keys k "                            \
      "LEFT JOIN users u ON u.id = k.user_id "                                                     \
      "LEFT JOIN orgs o ON o.id = k.org_id WHERE " KEY_BY_HASH_K)                                  \
    X(KEY_RENAME, true, "UPDATE access_keys SET name = $2 WHERE id = $1")                          \
    X(KEY_DELETE, false, "DELETE FROM access_keys WHERE id = $1")                                  \
    X(KEY_LIST_ORG, true,                                                                          \
      "SELECT {access_keys} FROM access_keys WHERE org_id = $1 AND seq < $2 "                      \
      "AND NOT (expires_at > 0 AND expires_at <= $4) ORDER BY seq DESC LIMIT $3")                  \
    X(KEY_LIST_USER, true,                                                                         \
      "SELECT {access_keys} FROM access_keys WHERE user_id = $1 AND seq < $2 "                     \
      "AND NOT (expires_at > 0 AND expires_at <= $4) ORDER BY seq DESC LIMIT $3")                  \
    X(KEY_TOUCH, true,                                                                             \
      "UPDATE access_keys k SET last_used_at = t.at, "                                             \
      "last_used_ip = coalesce(nullif(t.ip, ''), k.last_used_ip) "                                 \
      "FROM (SELECT DISTINCT ON (id) id, at, ip "                                                  \
      "FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u (id, at, ip) "                       \
      "ORDER BY id, at DESC) t WHERE k.id = t.id AND k.last_used_at < t.at")                       \
    X(IS_EMPTY, true,                                                                              \
      "SELECT NOT EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM orgs)")               \
    X(DUMP_USERS, true, "SELECT seq, {users*} FROM users WHERE seq > $1 ORDER BY seq LIMIT $2")    \
    X(DUMP_ORGS, true, "SELECT seq, {orgs*} FROM orgs WHERE seq > $1 ORDER BY seq LIMIT $2")       \
    X(DUMP_MEMBERS, true,                                                                          \
      "SELECT m.seq, {m.members*} FROM members m JOIN users u ON u.id = m.user_id "                \
      "WHERE m.seq > $1 ORDER BY m.seq LIMIT $2")                                                  \
    X(DUMP_PROJECTS, true,                                                                         \
      "SELECT seq, {projects*} FROM projects WHERE seq > $1 ORDER BY seq LIMIT $2")                \
    X(DUMP_ENVS, true,                                                                             \
      "SELECT seq, {environments*} FROM environments WHERE seq > $1 ORDER BY seq LIMIT $2")        \
    X(DUMP_BILLING, true,                                                                          \
      "SELECT seq, {billing*} FROM billing WHERE seq > $1 ORDER BY seq LIMIT $2")                  \
    X(DUMP_KEYS, true,                                                                             \
      "SELECT seq, {access_keys*} FROM access_keys WHERE seq > $1 ORDER BY seq LIMIT $2")          \
    X(PING, true, "SELECT 1")                                                                      \
    /* --- scopes --- */                                                                           \
    X(KEY_SET_CIDRS, true, "UPDATE access_keys SET allowed_cidrs = nullif($2, '') WHERE id = $1")  \
    X(ORG_SET_KEY_LIFETIME, true,                                                                  \
      "UPDATE orgs SET access_key_max_lifetime_days = $2 WHERE id = $1")                           \
    /* --- account: sessions and passwords --- */                                                 \
    X(USER_LOCK, true, "SELECT 1 FROM users WHERE id = $1 FOR UPDATE")                             \
    X(SESSION_TRIM, false,                                                                         \
      "DELETE FROM sessions WHERE user_id = $1 AND (expires_at <= $2 OR hash NOT IN "              \
      "(SELECT hash FROM sessions WHERE user_id = $1 AND expires_at > $2 "                         \
      "ORDER BY created_us DESC LIMIT $3))")                                              \
    X(SESSION_LIST, true,                                                                          \
      "SELECT {sessions} FROM sessions WHERE user_id = $1 AND expires_at > $2 "                    \
      "ORDER BY created_us DESC LIMIT $3")                                                \
    X(SESSION_DELETE_ID, false, "DELETE FROM sessions WHERE user_id = $1 AND id = $2")             \
    X(USER_SET_PASSWORD, false,                                                                    \
      "WITH u AS (UPDATE users SET pwhash = $2 WHERE id = $1 RETURNING id), "                      \
      "d AS (DELETE FROM sessions WHERE user_id IN (SELECT id FROM u) AND id <> $3) "              \
      "SELECT count(*) FROM u")                                                                    \
    X(SESSION_TOUCH, true,                                                                         \
      "UPDATE sessions s SET last_seen_at = t.at "                                                 \
      "FROM (SELECT id, max(at) AS at "                                                            \
      "FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u (id, at, ip) "                       \
      "GROUP BY id) t WHERE s.id = t.id AND s.id <> '' AND s.last_seen_at < t.at")                 \
    X(SESSION_PURGE, false, "DELETE FROM sessions WHERE expires_at <= $1")                         \
    PG_STATEMENTS_ROLES(X)                                                                         \
    ROTATE_STATEMENTS(X)                                                                           \
    /* --- audit --- */                                                                            \
    X(AUDIT_INSERT, false, "INSERT INTO {audit_events:insert}")                                    \
    X(AUDIT_LIST_ORG, true,                                                                        \
      "SELECT {audit_events} FROM audit_events WHERE org_id = $1 AND seq < $2 "                    \
      "AND ($4 = '' OR action = $4) AND ($5 = '' OR actor_id = $5 OR actor_user_id = $5) "         \
      "ORDER BY seq DESC LIMIT $3")                                                                \
    X(AUDIT_LIST_USER, true,                                                                       \
      "SELECT {audit_events} FROM audit_events WHERE user_id = $1 AND seq < $2 "                   \
      "AND ($4 = '' OR action = $4) AND ($5 = '' OR actor_id = $5 OR actor_user_id = $5) "         \
      "ORDER BY seq DESC LIMIT $3")                                                                \
    X(DUMP_AUDIT, true,                                                                            \
      "SELECT seq, {audit_events*} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2")        \
    X(AUDIT_PURGE, false,                                                                          \
      "DELETE FROM audit_events WHERE seq IN (SELECT seq FROM audit_events "                       \
      "WHERE created_at < $1 ORDER BY seq LIMIT $2)")

/* --- roles and invitations: statements --- */
#define PG_STATEMENTS_ROLES(X)                                                                     \
    X(MEMBER_GET, true,                                                                            \
      "SELECT {m.members} FROM members m JOIN users u ON u.id = m.user_id "                        \
      "WHERE m.org_id = $1 AND m.user_id = $2")                                                    \
    X(MEMBER_SET_ROLE, true, "UPDATE members SET role = $3 WHERE org_id = $1 AND user_id = $2")    \
    X(INVITATION_CREATE, false, "INSERT INTO {invitations:insert}")                                \
    X(INVITATION_GET_BY_HASH, true, "SELECT {invitations} FROM invitations WHERE hash = $1")       \
    X(INVITATION_LIST, true,                                                                       \
      "SELECT {invitations} FROM invitations WHERE org_id = $1 AND seq < $2 AND expires_at > $4 "  \
      "ORDER BY seq DESC LIMIT $3")                                                                \
    X(INVITATION_DELETE, false, "DELETE FROM invitations WHERE org_id = $1 AND id = $2")           \
    X(INVITATION_ACCEPT, false,                                                                    \
      "WITH t AS (DELETE FROM invitations WHERE hash = $1 AND expires_at > $3 "                    \
      "RETURNING org_id, role) INSERT INTO members (org_id, user_id, joined_at, role) "            \
      "SELECT org_id, $2, $3, role FROM t RETURNING org_id, role")
/* --- end roles and invitations: statements --- */

/* --- rotate: the database's clock (whole seconds, like SQLite's
 * unixepoch()), and a key by its current or live previous hash: a
 * BitmapOr of the two UNIQUE indexes (EXPLAIN shows no Seq Scan). */
#define DB_NOW "floor(extract(epoch FROM clock_timestamp()))::bigint"
#define KEY_BY_HASH "(hash = $1 OR (prev_hash = $1 AND prev_expires_at > " DB_NOW "))"
#define KEY_BY_HASH_K "(k.hash = $1 OR (k.prev_hash = $1 AND k.prev_expires_at > " DB_NOW "))"
#define ROTATE_STATEMENTS(X)                                                                       \
    X(KEY_ROTATE, false,                                                                           \
      "UPDATE access_keys SET prev_hash = CASE WHEN $4::bigint > 0 THEN hash ELSE NULL END, "      \
      "prev_expires_at = CASE WHEN $4::bigint > 0 THEN " DB_NOW " + $4::bigint ELSE 0 END, "       \
      "hash = $2, redacted = $3 WHERE id = $1 RETURNING {access_keys}")                            \
    X(KEY_REVOKE_TOKEN, false,                                                                     \
      "WITH cur AS (DELETE FROM access_keys WHERE hash = $1 RETURNING {access_keys}, false), "     \
      "prv AS (UPDATE access_keys SET prev_hash = NULL, prev_expires_at = 0 "                      \
      "WHERE prev_hash = $1 AND prev_expires_at > " DB_NOW " RETURNING {access_keys}, true) "      \
      "SELECT * FROM cur UNION ALL SELECT * FROM prv")                                             \
    X(KEY_PURGE_PREVIOUS, true,                                                                    \
      "UPDATE access_keys SET prev_hash = NULL, prev_expires_at = 0 "                              \
      "WHERE prev_hash IS NOT NULL AND prev_expires_at <= " DB_NOW) \
    /* --- leak reports: the day's counts (schema.c's leaked_token_reports) */                    \
    X(LEAK_REPORT_COUNT, false,                                                                    \
      "INSERT INTO leaked_token_reports AS t (day, reports, entries, revoked) "                    \
      "VALUES ($1, 1, $2, $3) ON CONFLICT (day) DO UPDATE SET reports = t.reports + 1, "          \
      "entries = t.entries + excluded.entries, revoked = t.revoked + excluded.revoked")            \
    X(LEAK_REPORT_GET, true,                                                                       \
      "SELECT {leaked_token_reports} FROM leaked_token_reports WHERE day = $1")
/* --- end rotate --- */

/* The statements of the child_* ops, X(OP, retry, SQL) as above, written
 * once for every named child (schema.h's lk_child: @T its table, @P its
 * parent column). Child k's statement OP is S_CHILD(k, C_OP), prepared as
 * "lk_<table>_<OP>". */
#define PG_CHILD_STATEMENTS(X)                                                                     \
    X(CREATE, false, "INSERT INTO {@T:insert}")                                                    \
    X(GET, true, "SELECT {@T} FROM @T WHERE id = $2 AND @P = $1")                                  \
    X(RENAME, true, "UPDATE @T SET name = $3 WHERE id = $2 AND @P = $1")                           \
    X(DELETE, false, "DELETE FROM @T WHERE id = $2 AND @P = $1")                                   \
    X(LIST, true, "SELECT {@T} FROM @T WHERE @P = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3")

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

enum {
#define PG__CENUM(op, retry, sql) C_##op,
    PG_CHILD_STATEMENTS(PG__CENUM)
#undef PG__CENUM
        C__COUNT
};

static const struct pg_stmt pg_child_stmts[C__COUNT] = {
#define PG__CROW(op, retry, sql) {#op, retry, sql},
    PG_CHILD_STATEMENTS(PG__CROW)
#undef PG__CROW
};

#define S_CHILD(k, op) (S__COUNT + (k) * C__COUNT + (op))
#define S__ALL S_CHILD(LK_CHILD_KINDS, 0)
#define PG_STMT_NAME_MAX 64

/* Statement id's name (a constant, or written into buf[PG_STMT_NAME_MAX]
 * for a child's statement), its retry flag, and its expanded SQL (into
 * sql[cap], when sql is not NULL; *bad set if the template does not expand,
 * a bug: they are constants). */
static const char *stmt_of(int id, char *buf, bool *retry, char *sql, size_t cap, bool *bad)
{
    assert(id >= 0 && id < S__ALL);
    if (id < S__COUNT) {
        *retry = pg_stmts[id].retry;
        if (sql) *bad = lk_schema_sql(pg_stmts[id].sql, '$', sql, cap) != 0;
        return pg_stmts[id].name;
    }
    const lk_child *c = &lk_schema_children[(id - S__COUNT) / C__COUNT];
    const struct pg_stmt *t = &pg_child_stmts[(id - S__COUNT) % C__COUNT];
    snprintf(buf, PG_STMT_NAME_MAX, "lk_%s_%s", c->table->name, t->name);
    *retry = t->retry;
    if (sql) *bad = lk_schema_child_sql(t->sql, c, '$', sql, cap) != 0;
    return buf;
}

/* -- schema -------------------------------------------------------------- */

/* Version n is pg_migrations[n - 1]: its SQL, or (sql NULL) the CREATE
 * TABLE/INDEX of a table of schema.c (lk_schema_table_ddl). Append only;
 * never edit a released one. */
static const struct pg_migration {
    const char *sql;                /* run as it is, or NULL: */
    const lk_table *create;         /* create this table of schema.c, or NULL: */
    const lk_schema_added_col *add; /* add these columns of schema.c */
} pg_migrations[] = {
    /* 1: the initial schema */
    {"CREATE TABLE users ("
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
    "CREATE INDEX access_keys_user_seq ON access_keys (user_id, seq) WHERE user_id IS NOT NULL;"},
    /* 2: SQLite's table rebuild (its constraints now match these); nothing here */
    {"SELECT 1"},
    /* 3: scopes — the columns of lk_schema_scopes_cols, from the description */
    {NULL, NULL, lk_schema_scopes_cols},
    /* 4: account (issue 13 B) — sessions get an id, an address, a user
     * agent, last_seen_at and created_us (schema.c's columns); existing
     * sessions an id of 20 hex digits (base62), last_seen_at = created_at
     * and created_us from created_at. */
    {"ALTER TABLE sessions ADD COLUMN id text NOT NULL DEFAULT '';"
    "ALTER TABLE sessions ADD COLUMN ip text NOT NULL DEFAULT '';"
    "ALTER TABLE sessions ADD COLUMN user_agent text NOT NULL DEFAULT '';"
    "ALTER TABLE sessions ADD COLUMN last_seen_at bigint NOT NULL DEFAULT 0;"
    "ALTER TABLE sessions ADD COLUMN created_us bigint NOT NULL DEFAULT 0;"
    "UPDATE sessions SET id = 'ses_' || substr(md5(random()::text || encode(hash, 'hex')), 1, 20),"
    " last_seen_at = created_at, created_us = created_at * 1000000;"
    "CREATE UNIQUE INDEX sessions_id ON sessions (id) WHERE id <> '';"},
    /* 5: roles and invitations — every existing member becomes an owner
     * (the column's default); schema.c's members.role and invitations. */
    {"ALTER TABLE members ADD COLUMN role text NOT NULL DEFAULT 'owner'"
    " CHECK (role IN ('owner', 'member'));"
    "CREATE TABLE invitations ("
    " seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " id text NOT NULL UNIQUE,"
    " org_id text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,"
    " email text NOT NULL,"
    " role text NOT NULL CHECK (role IN ('owner', 'member')),"
    " invited_by text NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    " created_at bigint NOT NULL,"
    " expires_at bigint NOT NULL,"
    " hash bytea NOT NULL);"
    "CREATE UNIQUE INDEX invitations_hash ON invitations (hash);"
    "CREATE INDEX invitations_org_seq ON invitations (org_id, seq);"},
    /* 6: rotate: a key's previous token (schema.c's prev_hash, prev_expires_at) */
    {"ALTER TABLE access_keys ADD COLUMN prev_hash bytea;"
    "ALTER TABLE access_keys ADD COLUMN prev_expires_at bigint NOT NULL DEFAULT 0;"
    "CREATE UNIQUE INDEX access_keys_prev_hash ON access_keys (prev_hash);"
    "CREATE INDEX access_keys_prev_expiry ON access_keys (prev_expires_at) "
    "WHERE prev_hash IS NOT NULL;"},
    /* 7: device sign-ins from the CLI: schema.c's device_requests */
    {NULL, &lk_schema_device},
    /* 8: the audit log: schema.c's audit_events */
    {NULL, &lk_schema_audit},
    /* 9: leaked-token report counts: schema.c's leaked_token_reports */
    {NULL, &lk_schema_leak_reports},
};

#define PG_SCHEMA_VERSION ((int)(sizeof(pg_migrations) / sizeof(pg_migrations[0])))

/* -- the connection ------------------------------------------------------ */

typedef struct pg_store {
    lk_store base;
    PGconn *conn;
    bool prepared[S__ALL]; /* [i]: statement i (stmt_of) is prepared on conn */
    bool in_tx;              /* inside begin … commit/rollback */
    bool tx_lost;            /* the connection died inside a transaction */
    int64_t reconnect_after; /* monotonic ms; no reconnect attempt before */
} pg_store;

/* Parameters of one statement: text values point into caller memory or
 * into num[]; binary ones carry their length. n < PG_MAX_PARAMS before
 * each append (asserted). */
typedef struct pg_params {
    int n;
    const char *v[PG_MAX_PARAMS];
    int len[PG_MAX_PARAMS];
    int fmt[PG_MAX_PARAMS];
    char num[PG_MAX_PARAMS][24];
} pg_params;

static void p_text(pg_params *p, const char *s)
{
    assert(p->n < PG_MAX_PARAMS);
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
    assert(p->n < PG_MAX_PARAMS);
    snprintf(p->num[p->n], sizeof(p->num[p->n]), "%" PRId64, v);
    p_text(p, p->num[p->n]);
}

static void p_bin(pg_params *p, const void *b, size_t n)
{
    assert(p->n < PG_MAX_PARAMS);
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
    memset(s->prepared, 0, sizeof s->prepared);
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
    char buf[PG_STMT_NAME_MAX];
    bool retry, bad = false;
    const char *name = stmt_of(id, buf, &retry, NULL, 0, &bad);
    *out = NULL;
    lk_err_clear(&s->base.err);
    for (int attempt = 0;; attempt++) {
        int rc = pg_ensure(s);
        if (rc) return rc;
        PGresult *res;
        if (!s->prepared[id]) {
            char sql[LK_SCHEMA_SQL_MAX];
            (void)stmt_of(id, buf, &retry, sql, sizeof sql, &bad);
            if (bad) {
                assert(!"statement template does not expand");
                return lk_err_set(&s->base.err, LK_EINTERNAL, "prepare: bad statement template");
            }
            res = PQprepare(s->conn, name, sql, 0, NULL);
            if (PQresultStatus(res) != PGRES_COMMAND_OK) goto failed;
            PQclear(res);
            s->prepared[id] = true;
        }
        res = PQexecPrepared(s->conn, name, p ? p->n : 0, p ? p->v : NULL, p ? p->len : NULL,
                             p ? p->fmt : NULL, 0);
        ExecStatusType es = PQresultStatus(res);
        if (es == PGRES_TUPLES_OK || es == PGRES_COMMAND_OK) {
            *out = res;
            return LK_OK;
        }
    failed:
        if (PQstatus(s->conn) != CONNECTION_OK && retry && !s->in_tx && attempt == 0) {
            /* A read, or a write that leaves the same state when run twice
             * (set a name, raise last_used_at): try once more on a fresh
             * connection. */
            pg_log(name, res, s->conn);
            PQclear(res);
            continue;
        }
        rc = pg_fail(s, name, res);
        PQclear(res);
        return rc;
    }
}

/* A statement that returns no rows; LK_ENOT_FOUND ("<what> not found") if
 * it touched none and `what` is not NULL. */
static int pg_cmd(pg_store *s, int id, const pg_params *p, const char *what)
{
    PGresult *res;
    int rc = pg_run(s, id, p, &res);
    if (rc) return rc;
    if (what && strcmp(PQcmdTuples(res), "0") == 0)
        rc = lk_err_setf(&s->base.err, LK_ENOT_FOUND, "%s not found", what);
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

static bool hex_decode(const char *hex, uint8_t *out, size_t n);

/* Read view v of table t from columns `col`… of row i into out (a struct
 * of t's row type, or its record). Returns the column after the last. */
static int read_cols(const PGresult *r, int i, int col, const lk_table *t, lk_view v, void *out)
{
    char *base = out;
    for (int c = 0; c < t->ncols; c++) {
        const lk_col *k = &t->cols[c];
        if (!lk_col_in(t, k, v)) continue;
        char *f = base + k->off;
        switch (k->type) {
        case LK_COL_TEXT:
        case LK_COL_OPT_TEXT:
            col_str(r, i, col, f, k->size);
            break;
        case LK_COL_I64:
        case LK_COL_SEQ: {
            int64_t x = col_i64(r, i, col);
            memcpy(f, &x, sizeof x);
            break;
        }
        case LK_COL_INT: {
            int x = (int)col_i64(r, i, col);
            memcpy(f, &x, sizeof x);
            break;
        }
        case LK_COL_HASH:
        case LK_COL_OPT_HASH: {
            /* text result of a bytea: "\x" and hex (bytea_output=hex, set at connect) */
            const char *h = PQgetvalue(r, i, col);
            size_t pre = strlen(PG_BYTEA_HEX);
            if (k->type == LK_COL_OPT_HASH && PQgetisnull(r, i, col))
                memset(f, 0, k->size); /* NULL: none */
            else if (strncmp(h, PG_BYTEA_HEX, pre) == 0)
                (void)hex_decode(h + pre, (uint8_t *)f, k->size);
            break;
        }
        }
        col++;
    }
    return col;
}

/* Append the inserted columns of t from row ({t:insert} order). The
 * parameters point into row: it must outlive the statement. */
static void bind_cols(pg_params *p, const lk_table *t, const void *row)
{
    const char *base = row;
    for (int c = 0; c < t->ncols; c++) {
        const lk_col *k = &t->cols[c];
        if (!lk_col_inserted(k)) continue;
        const char *f = base + k->off;
        int64_t x = 0;
        int v = 0;
        switch (k->type) {
        case LK_COL_TEXT:
            p_text(p, f);
            break;
        case LK_COL_OPT_TEXT:
            p_opt(p, f);
            break;
        case LK_COL_I64:
        case LK_COL_SEQ:
            memcpy(&x, f, sizeof x);
            p_i64(p, x);
            break;
        case LK_COL_INT:
            memcpy(&v, f, sizeof v);
            p_i64(p, v);
            break;
        case LK_COL_HASH:
            p_bin(p, f, k->size);
            break;
        case LK_COL_OPT_HASH:
            if (sodium_is_zero((const unsigned char *)f, k->size))
                p_text(p, NULL); /* none: NULL */
            else
                p_bin(p, f, k->size);
            break;
        }
    }
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

PGconn *lk_store_pg_connect(const char *url)
{
    /* Defaults first: whatever the URL says wins (libpq keeps the last value
     * of a repeated keyword, and the URL is expanded in place of dbname). */
    const char *const keys[] = {"connect_timeout",  "options",
                                "application_name", "keepalives",
                                "keepalives_idle",  "keepalives_interval",
                                "keepalives_count", "tcp_user_timeout",
                                "dbname",           NULL};
    const char *const vals[] = {
        "5",         "-c statement_timeout=5000 -c lock_timeout=5000 -c bytea_output=hex",
        "latchkeyd", "1",
        "10",        "5",
        "3",         "15000",
        url,         NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (c == NULL) return NULL;
    PQsetNoticeProcessor(c, pg_notice_ignore, NULL);
    PQsetErrorVerbosity(c, PQERRORS_TERSE);
    return c;
}

static int pg_open(const char *url, lk_store **out, lk_err *e)
{
    *out = NULL;
    pg_store *s = calloc(1, sizeof(*s));
    if (s == NULL) return lk_err_set(e, LK_ENOMEM, NULL);
    s->base.ops = &lk_store_pg_ops;
    lk_err_clear(&s->base.err);
    s->conn = lk_store_pg_connect(url);
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

/* --- scopes: a migration that adds described columns (schema.h). */
static int pg_add_columns(pg_store *s, const lk_schema_added_col *cols)
{
    char ddl[LK_SCHEMA_SQL_MAX];
    for (const lk_schema_added_col *c = cols; c->table; c++) {
        if (lk_schema_column_ddl(c->table, c->column, &lk_dialect_pg, ddl, sizeof ddl) != 0)
            return lk_err_set(&s->base.err, LK_EINTERNAL, "migrate: no such column");
        int rc = pg_simple(s, "migrate: add column", ddl);
        if (rc) return rc;
    }
    return LK_OK;
}

/* One version's SQL, or its table generated from schema.c. */
static int apply_migration(pg_store *s, const struct pg_migration *m)
{
    if (m->sql != NULL) return pg_simple(s, "migrate: apply", m->sql);
    if (m->add != NULL) return pg_add_columns(s, m->add);
    char ddl[LK_SCHEMA_SQL_MAX];
    if (lk_schema_table_ddl(m->create, &lk_dialect_pg, ddl, sizeof ddl) != 0)
        return lk_err_set(&s->base.err, LK_EINTERNAL, "migrate: schema text too long");
    return pg_simple(s, "migrate: create", ddl);
}

/* --- audit --- */

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
        rc = lk_store_err_schema_newer(&st->err, have, PG_SCHEMA_VERSION);
        goto fail;
    }
    for (int v = have + 1; v <= PG_SCHEMA_VERSION; v++) {
        rc = apply_migration(s, &pg_migrations[v - 1]);
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

/* -- generic get / list / write ------------------------------------------- */

/* Text look-up keys as $1, $2, $3 (NULL: unused). */
static pg_params keys3(const char *a, const char *b, const char *c)
{
    pg_params p = {0};
    if (a) p_text(&p, a);
    if (b) p_text(&p, b);
    if (c) p_text(&p, c);
    return p;
}

static pg_params hash_key(const uint8_t hash[LK_TOKEN_HASH_LEN])
{
    pg_params p = {0};
    p_bin(&p, hash, LK_TOKEN_HASH_LEN);
    return p;
}

/* One row of statement id into out (view v of t); LK_ENOT_FOUND naming
 * `what` if there is none. */
static int get_row(lk_store *st, int id, const pg_params *p, const lk_table *t, lk_view v,
                   void *out, const char *what)
{
    PGresult *r;
    int rc = pg_one((pg_store *)st, id, p, what, &r);
    if (rc) return rc;
    read_cols(r, 0, 0, t, v, out);
    PQclear(r);
    return LK_OK;
}

/* Insert row into t with statement id ({t:insert}). */
static int insert_row(lk_store *st, int id, const lk_table *t, const void *row)
{
    pg_params p = {0};
    bind_cols(&p, t, row);
    return pg_cmd((pg_store *)st, id, &p, NULL);
}

/* Hand each row of r (view v of t, from column `col`) to sink as a record
 * of `kind`. *last_seq gets column 0 of the last row handed (dump cursor). */
static int sink_rows(const PGresult *r, int col, const lk_table *t, lk_view v, lk_record_kind kind,
                     const lk_row_sink *sink, int64_t *last_seq)
{
    lk_record row;
    assert(t->row_size <= sizeof row.as);
    int rc = 0;
    row.kind = kind;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        memset(&row.as, 0, t->row_size); /* the table's record, not the whole union */
        read_cols(r, i, col, t, v, &row.as);
        if (last_seq) *last_seq = col_i64(r, i, 0);
        rc = lk_row_sink_call(sink, sink->kind == LK_SINK_RECORD ? (const void *)&row : &row.as);
    }
    sodium_memzero(&row.as, t->row_size); /* may have held a password or token hash */
    return rc;
}

/* A list: $1 owner, $2 before, $3 limit ($4 now for keys and invitations). */
static int list_page(lk_store *st, int id, const char *owner, const lk_page *pg, const int64_t *now,
                     const lk_table *t, const lk_row_sink *sink)
{
    assert(pg->limit >= 1 && pg->limit <= LK_STORE_PAGE_MAX);
    pg_params p = {0};
    p_text(&p, owner);
    p_before(&p, pg);
    p_i64(&p, pg->limit);
    if (now) p_i64(&p, *now);
    PGresult *r;
    int rc = pg_run((pg_store *)st, id, &p, &r);
    if (rc) return rc;
    rc = sink_rows(r, 0, t, LK_VIEW_RECORD, sink->kind, sink, NULL);
    PQclear(r);
    return rc;
}

/* -- users and sessions -------------------------------------------------- */

static int pg_user_create(lk_store *st, const lk_user *u, const char *email_lower,
                          const char *pwhash)
{
    lk_user_row *row = calloc(1, sizeof *row);
    if (row == NULL) return lk_err_set(&st->err, LK_ENOMEM, NULL);
    row->user = *u;
    snprintf(row->email_lower, sizeof row->email_lower, "%s", email_lower);
    snprintf(row->pwhash, sizeof row->pwhash, "%s", pwhash);
    int rc = insert_row(st, S_USER_CREATE, &lk_schema_users, row);
    if (rc == LK_ECONFLICT) lk_err_set(&st->err, rc, "email is already registered");
    memset(row, 0, sizeof *row);
    free(row);
    return rc;
}

static int pg_user_get(lk_store *st, const char *id, lk_user *out)
{
    pg_params p = keys3(id, NULL, NULL);
    return get_row(st, S_USER_GET, &p, &lk_schema_users, LK_VIEW_RECORD, out, "user");
}

static int pg_user_get_by_email(lk_store *st, const char *email_lower, lk_user *out, char *pwhash)
{
    lk_user_row *row = calloc(1, sizeof *row);
    if (row == NULL) return lk_err_set(&st->err, LK_ENOMEM, NULL);
    pg_params p = keys3(email_lower, NULL, NULL);
    int rc = get_row(st, S_USER_GET_BY_EMAIL, &p, &lk_schema_users, LK_VIEW_ROW, row, "user");
    if (rc == LK_OK) {
        *out = row->user;
        if (pwhash) memcpy(pwhash, row->pwhash, LK_PWHASH_SIZE);
    }
    memset(row, 0, sizeof *row);
    free(row);
    return rc;
}

static int pg_user_rename(lk_store *st, const char *id, const char *name)
{
    pg_params p = keys3(id, name, NULL);
    return pg_cmd((pg_store *)st, S_USER_RENAME, &p, "user");
}

static int pg_session_create(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                             const lk_session *se)
{
    lk_session_row row = {.session = *se};
    memcpy(row.hash, hash, LK_TOKEN_HASH_LEN);
    return insert_row(st, S_SESSION_CREATE, &lk_schema_sessions, &row);
}

static int pg_session_get(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_session *out)
{
    pg_params p = hash_key(hash);
    return get_row(st, S_SESSION_GET, &p, &lk_schema_sessions, LK_VIEW_RECORD, out, "session");
}

static int pg_session_delete(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN])
{
    pg_params p = hash_key(hash);
    return pg_cmd((pg_store *)st, S_SESSION_DELETE, &p, "session");
}

/* -- organizations and members ------------------------------------------- */

/* One statement (data-modifying CTEs): the org, its creator's membership
 * and its billing row, atomically, in one round trip. */
#define ORG_INSERT_COLS 4

static int pg_org_create(lk_store *st, const lk_org *o, const char *creator_id,
                         const char *billing_email)
{
    pg_params p = {0};
    bind_cols(&p, &lk_schema_orgs, o);
    /* ORG_CREATE numbers the creator $5: after the orgs' inserted columns
     * (id, name, created_at, access_key_max_lifetime_days) */
    assert(p.n == ORG_INSERT_COLS);
    p_text(&p, creator_id);
    p_text(&p, LK_PLAN_DEFAULT);
    p_text(&p, billing_email ? billing_email : "");
    return pg_cmd((pg_store *)st, S_ORG_CREATE, &p, NULL);
}

static int pg_org_get(lk_store *st, const char *id, lk_org *out)
{
    pg_params p = keys3(id, NULL, NULL);
    return get_row(st, S_ORG_GET, &p, &lk_schema_orgs, LK_VIEW_RECORD, out, "organization");
}

static int pg_org_rename(lk_store *st, const char *id, const char *name)
{
    pg_params p = keys3(id, name, NULL);
    return pg_cmd((pg_store *)st, S_ORG_RENAME, &p, "organization");
}

static int pg_org_delete(lk_store *st, const char *id)
{
    pg_params p = keys3(id, NULL, NULL);
    return pg_cmd((pg_store *)st, S_ORG_DELETE, &p, "organization");
}

static int pg_org_list_for_user(lk_store *st, const char *user_id, const lk_page *pg, lk_org_cb cb,
                                void *ctx)
{
    lk_row_sink sink = {.kind = LK_REC_ORG, .cb.org = cb, .ctx = ctx};
    return list_page(st, S_ORG_LIST_FOR_USER, user_id, pg, NULL, &lk_schema_orgs, &sink);
}

static int pg_member_check(lk_store *st, const char *org_id, const char *user_id)
{
    pg_params p = keys3(org_id, user_id, NULL);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_MEMBER_CHECK, &p, "member", &r);
    PQclear(r);
    return rc;
}

static int pg_member_add(lk_store *st, const char *org_id, const char *user_id, int64_t joined_at)
{
    lk_member m = {.joined_at = joined_at, .role = LK_ROLE_MEMBER};
    snprintf(m.org_id, sizeof m.org_id, "%s", org_id);
    snprintf(m.user_id, sizeof m.user_id, "%s", user_id);
    int rc = insert_row(st, S_MEMBER_ADD, &lk_schema_members, &m);
    if (rc == LK_ECONFLICT) lk_err_set(&st->err, rc, "already a member");
    return rc;
}

static int pg_member_remove(lk_store *st, const char *org_id, const char *user_id)
{
    pg_params p = keys3(org_id, user_id, NULL);
    return pg_cmd((pg_store *)st, S_MEMBER_REMOVE, &p, "member");
}

static int pg_begin(lk_store *st);
static int pg_commit(lk_store *st);
static int pg_rollback(lk_store *st);

/* An op that must be atomic: its own transaction unless the caller's
 * begin() has one open (*own says which; op_tx_end ends only its own). */
static int op_tx_begin(lk_store *st, bool *own)
{
    *own = !((pg_store *)st)->in_tx;
    return *own ? pg_begin(st) : LK_OK;
}

/* Commit the op's own transaction if rc is LK_OK, else roll it back
 * keeping rc's message. Returns the op's result. */
static int op_tx_end(lk_store *st, bool own, int rc)
{
    if (own && rc == LK_OK) return pg_commit(st);
    if (own) {
        lk_err saved = st->err;
        (void)pg_rollback(st);
        st->err = saved;
    }
    return rc;
}

/* The org's membership as the last-member and last-owner rules need it,
 * read under the org row's lock (SELECT … FOR UPDATE, held to the end of
 * the transaction); LK_ENOT_FOUND if user_id is not a member. */
typedef struct member_state {
    int64_t members, owners;
    bool is_member, is_owner; /* of user_id */
} member_state;

static int member_state_locked(pg_store *s, const char *org_id, const char *user_id,
                               member_state *out)
{
    pg_params p = keys3(org_id, NULL, NULL);
    PGresult *r = NULL;
    int rc = pg_one(s, S_ORG_LOCK, &p, "member", &r);
    if (rc != LK_OK) return rc;
    PQclear(r);
    p_text(&p, user_id);
    if ((rc = pg_one(s, S_MEMBER_STATE, &p, "member", &r)) != LK_OK) return rc;
    out->members = col_i64(r, 0, 0);
    out->is_member = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
    out->owners = col_i64(r, 0, 2);
    out->is_owner = strcmp(PQgetvalue(r, 0, 3), "t") == 0;
    PQclear(r);
    return out->is_member ? LK_OK : lk_err_set(&s->base.err, LK_ENOT_FOUND, "member not found");
}

/* Count and delete under the org row's lock (SELECT … FOR UPDATE), held to
 * the end of the transaction: a second removal from the same org waits for
 * it, and since READ COMMITTED takes a new snapshot per statement, then
 * counts what the first one left. Runs in a transaction of its own unless
 * the caller's begin() has one open. */
static int pg_member_remove_unless_last(lk_store *st, const char *org_id, const char *user_id)
{
    bool own_tx;
    int rc = op_tx_begin(st, &own_tx);
    if (rc) return rc;
    member_state m;
    if ((rc = member_state_locked((pg_store *)st, org_id, user_id, &m)) != LK_OK) goto out;
    if (m.members <= 1)
        rc = lk_err_set(&st->err, LK_ECONFLICT, LK_STORE_LAST_MEMBER);
    else if (m.is_owner && m.owners <= 1)
        rc = lk_err_set(&st->err, LK_ECONFLICT, LK_STORE_LAST_OWNER);
    else {
        pg_params p = keys3(org_id, user_id, NULL);
        rc = pg_cmd((pg_store *)st, S_MEMBER_REMOVE, &p, "member");
    }
out:
    return op_tx_end(st, own_tx, rc);
}

static int pg_member_count(lk_store *st, const char *org_id, int64_t *out)
{
    pg_params p = keys3(org_id, NULL, NULL);
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
    lk_row_sink sink = {.kind = LK_REC_MEMBER, .cb.member = cb, .ctx = ctx};
    return list_page(st, S_MEMBER_LIST, org_id, pg, NULL, &lk_schema_members, &sink);
}

/* -- projects and environments: named children (schema.h's lk_child) ---- */

static int pg_child_create(lk_store *st, lk_child_kind kind, const void *row)
{
    assert(kind < LK_CHILD_KINDS);
    return insert_row(st, S_CHILD(kind, C_CREATE), lk_schema_children[kind].table, row);
}

static int pg_child_get(lk_store *st, lk_child_kind kind, const char *parent_id, const char *id,
                        void *out)
{
    assert(kind < LK_CHILD_KINDS);
    const lk_child *c = &lk_schema_children[kind];
    pg_params p = keys3(parent_id, id, NULL);
    return get_row(st, S_CHILD(kind, C_GET), &p, c->table, LK_VIEW_RECORD, out, c->what);
}

static int pg_child_rename(lk_store *st, lk_child_kind kind, const char *parent_id, const char *id,
                           const char *name)
{
    assert(kind < LK_CHILD_KINDS);
    pg_params p = keys3(parent_id, id, name);
    return pg_cmd((pg_store *)st, S_CHILD(kind, C_RENAME), &p, lk_schema_children[kind].what);
}

static int pg_child_delete(lk_store *st, lk_child_kind kind, const char *parent_id, const char *id)
{
    assert(kind < LK_CHILD_KINDS);
    pg_params p = keys3(parent_id, id, NULL);
    return pg_cmd((pg_store *)st, S_CHILD(kind, C_DELETE), &p, lk_schema_children[kind].what);
}

static int pg_child_list(lk_store *st, lk_child_kind kind, const char *parent_id, const lk_page *pg,
                         lk_row_cb cb, void *ctx)
{
    assert(kind < LK_CHILD_KINDS);
    const lk_child *c = &lk_schema_children[kind];
    lk_row_sink sink = {.kind = c->kind, .cb = cb, .ctx = ctx};
    return list_page(st, S_CHILD(kind, C_LIST), parent_id, pg, NULL, c->table, &sink);
}

static int pg_billing_get(lk_store *st, const char *org_id, lk_billing *out)
{
    pg_params p = keys3(org_id, NULL, NULL);
    return get_row(st, S_BILLING_GET, &p, &lk_schema_billing, LK_VIEW_RECORD, out, "billing");
}

static int pg_billing_set(lk_store *st, const lk_billing *b)
{
    pg_params p = keys3(b->org_id, b->plan, b->billing_email);
    p_i64(&p, b->updated_at);
    return pg_cmd((pg_store *)st, S_BILLING_SET, &p, "billing");
}

/* --- rotate ------------------------------------------------------------- */

static int pg_key_rotate(lk_store *st, const char *id, const uint8_t new_hash[LK_TOKEN_HASH_LEN],
                         const char *redacted, int64_t grace_secs, lk_key *out)
{
    pg_params p = {0};
    p_text(&p, id);
    p_bin(&p, new_hash, LK_TOKEN_HASH_LEN);
    p_text(&p, redacted);
    p_i64(&p, grace_secs);
    memset(out, 0, sizeof *out);
    return get_row(st, S_KEY_ROTATE, &p, &lk_schema_keys, LK_VIEW_RECORD, out, "access key");
}

/* One statement: the DELETE of a current token and the UPDATE of a live
 * previous one as two data-modifying CTEs; the column after the key says
 * which matched. */
static int pg_key_revoke_token(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_key *out,
                               bool *was_previous)
{
    pg_params p = hash_key(hash);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_KEY_REVOKE_TOKEN, &p, "access key", &r);
    if (rc) return rc;
    memset(out, 0, sizeof *out);
    int col = read_cols(r, 0, 0, &lk_schema_keys, LK_VIEW_RECORD, out);
    *was_previous = strcmp(PQgetvalue(r, 0, col), "t") == 0;
    PQclear(r);
    return LK_OK;
}

static int pg_key_purge_previous(lk_store *st, int64_t *n)
{
    PGresult *res;
    int rc = pg_run((pg_store *)st, S_KEY_PURGE_PREVIOUS, NULL, &res);
    if (rc) return rc;
    if (n) *n = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return LK_OK;
}

/* --- leak reports --- */

static int pg_leak_report_count(lk_store *st, int64_t now, int64_t entries, int64_t revoked)
{
    pg_params p = {0};
    PGresult *r;
    p_i64(&p, now / LK_LEAK_DAY_SECS);
    p_i64(&p, entries);
    p_i64(&p, revoked);
    int rc = pg_run((pg_store *)st, S_LEAK_REPORT_COUNT, &p, &r);
    if (rc == LK_OK) PQclear(r);
    return rc;
}

static int pg_leak_report_get(lk_store *st, int64_t day, lk_leak_day *out)
{
    pg_params p = {0};
    p_i64(&p, day);
    memset(out, 0, sizeof *out);
    return get_row(st, S_LEAK_REPORT_GET, &p, &lk_schema_leak_reports, LK_VIEW_RECORD, out,
                   "leak report day");
}

/* --- end rotate --------------------------------------------------------- */

/* -- access keys --------------------------------------------------------- */

static int pg_key_create(lk_store *st, const lk_key *k, const uint8_t hash[LK_TOKEN_HASH_LEN])
{
    lk_key_row row;
    lk_key_row_of(k, hash, &row);
    return insert_row(st, S_KEY_CREATE, &lk_schema_keys, &row);
}

static int pg_key_get(lk_store *st, const char *id, lk_key *out)
{
    pg_params p = keys3(id, NULL, NULL);
    return get_row(st, S_KEY_GET, &p, &lk_schema_keys, LK_VIEW_RECORD, out, "access key");
}

/* The hot path: one prepared, indexed statement (access_keys_hash). */
static int pg_key_get_by_hash(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_key *out)
{
    pg_params p = hash_key(hash);
    return get_row(st, S_KEY_GET_BY_HASH, &p, &lk_schema_keys, LK_VIEW_RECORD, out, "access key");
}

/* The key's columns, then the user's and the org's, NULL when the LEFT
 * JOIN found nothing. */
static int pg_key_get_by_hash_owner(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                                    lk_key *key, lk_user *user, lk_org *org)
{
    pg_params p = hash_key(hash);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_KEY_GET_BY_HASH_OWNER, &p, "access key", &r);
    if (rc) return rc;
    rc = lk_store_pg_key_owner_read(r, key, user, org);
    PQclear(r);
    return rc;
}

/* --- store_pg.h: the pipelined look-up (pg_pipe.c) borrows these --- */

int lk_store_pg_key_owner_read(const PGresult *r, lk_key *key, lk_user *user, lk_org *org)
{
    memset(key, 0, sizeof *key);
    memset(user, 0, sizeof *user);
    memset(org, 0, sizeof *org);
    if (PQntuples(r) < 1) return LK_ENOT_FOUND;
    int col = read_cols(r, 0, 0, &lk_schema_keys, LK_VIEW_RECORD, key);
    if (!PQgetisnull(r, 0, col)) read_cols(r, 0, col, &lk_schema_users, LK_VIEW_RECORD, user);
    col += lk_schema_ncols(&lk_schema_users, LK_VIEW_RECORD);
    if (!PQgetisnull(r, 0, col)) read_cols(r, 0, col, &lk_schema_orgs, LK_VIEW_RECORD, org);
    return LK_OK;
}

int lk_store_pg_key_owner_stmt(const char **name, char *sql, size_t cap)
{
    const struct pg_stmt *st = &pg_stmts[S_KEY_GET_BY_HASH_OWNER];
    *name = st->name;
    return lk_schema_sql(st->sql, '$', sql, cap) == 0 ? 0 : -1;
}

int lk_store_pg_result_err(PGconn *conn, const PGresult *res, const char *what)
{
    const char *ss = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    pg_log(what, res, conn);
    return PQstatus(conn) != CONNECTION_OK || sqlstate_unavailable(ss) ? LK_EUNAVAILABLE
                                                                       : LK_EINTERNAL;
}

static int pg_key_rename(lk_store *st, const char *id, const char *name)
{
    pg_params p = keys3(id, name, NULL);
    return pg_cmd((pg_store *)st, S_KEY_RENAME, &p, "access key");
}

static int pg_key_delete(lk_store *st, const char *id)
{
    pg_params p = keys3(id, NULL, NULL);
    return pg_cmd((pg_store *)st, S_KEY_DELETE, &p, "access key");
}

static int pg_key_list_org(lk_store *st, const char *org_id, int64_t now, const lk_page *pg,
                           lk_key_cb cb, void *ctx)
{
    lk_row_sink sink = {.kind = LK_REC_KEY, .cb.key = cb, .ctx = ctx};
    return list_page(st, S_KEY_LIST_ORG, org_id, pg, &now, &lk_schema_keys, &sink);
}

static int pg_key_list_user(lk_store *st, const char *user_id, int64_t now, const lk_page *pg,
                            lk_key_cb cb, void *ctx)
{
    lk_row_sink sink = {.kind = LK_REC_KEY, .cb.key = cb, .ctx = ctx};
    return list_page(st, S_KEY_LIST_USER, user_id, pg, &now, &lk_schema_keys, &sink);
}

/* One statement for the whole batch: the ids and times go as two array
 * literals ("{"key_a","key_b"}", "{1,2}"). Ids are [A-Za-z0-9_], but each
 * element is quoted and escaped anyway. */
/* One text[] literal element: "…" with " and \\ escaped. */
static size_t put_array_text(char *o, const char *v, size_t max)
{
    size_t k = 0;
    o[k++] = '"';
    for (const char *c = v; *c && c < v + max; c++) {
        if (*c == '"' || *c == '\\') o[k++] = '\\';
        o[k++] = *c;
    }
    o[k++] = '"';
    return k;
}

static int pg_touch(lk_store *st, int id, const lk_key_touch *items, size_t n);

static int pg_key_touch(lk_store *st, const lk_key_touch *items, size_t n)
{
    return pg_touch(st, S_KEY_TOUCH, items, n);
}

/* Statement id (KEY_TOUCH, SESSION_TOUCH) with the items as two arrays. */
static int pg_touch(lk_store *st, int id, const lk_key_touch *items, size_t n)
{
    lk_err_clear(&st->err);
    if (n == 0) return LK_OK;
    size_t idcap = n * (2 * LK_ID_SIZE + 3) + 3, atcap = n * 22 + 3;
    size_t ipcap = n * (2 * LK_ADDR_TEXT_SIZE + 3) + 3; /* scopes: last_used_ip */
    char *ids = malloc(idcap), *ats = malloc(atcap), *ips = malloc(ipcap);
    int rc = LK_OK;
    if (ids == NULL || ats == NULL || ips == NULL) {
        rc = lk_err_set(&st->err, LK_ENOMEM, NULL);
        goto out;
    }
    size_t il = 0, al = 0, pl = 0;
    ids[il++] = '{';
    ats[al++] = '{';
    ips[pl++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i) {
            ids[il++] = ',';
            ats[al++] = ',';
            ips[pl++] = ',';
        }
        il += put_array_text(ids + il, items[i].id, LK_ID_SIZE);
        pl += put_array_text(ips + pl, items[i].ip, LK_ADDR_TEXT_SIZE);
        al += (size_t)snprintf(ats + al, atcap - al, "%" PRId64, items[i].at);
    }
    ids[il++] = '}';
    ids[il] = '\0';
    ats[al++] = '}';
    ats[al] = '\0';
    ips[pl++] = '}';
    ips[pl] = '\0';
    pg_params p = {0};
    p_text(&p, ids);
    p_text(&p, ats);
    p_text(&p, ips);
    rc = pg_cmd((pg_store *)st, id, &p, NULL);
out:
    free(ids);
    free(ats);
    free(ips);
    return rc;
}

/* --- scopes ---------------------------------------------------------------- */

static int pg_key_set_cidrs(lk_store *st, const char *id, const char *cidrs)
{
    pg_params p = keys3(id, cidrs, NULL);
    return pg_cmd((pg_store *)st, S_KEY_SET_CIDRS, &p, "access key");
}

static int pg_org_set_key_lifetime(lk_store *st, const char *id, int64_t days)
{
    pg_params p = keys3(id, NULL, NULL);
    p_i64(&p, days);
    return pg_cmd((pg_store *)st, S_ORG_SET_KEY_LIFETIME, &p, "organization");
}

/* --- account: sessions and passwords ----------------------------------- */

/* In one transaction holding the user row's lock (so two logins of one
 * user are serialised): trim to max - 1 live sessions, insert. */
static int pg_session_create_capped(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                                    const lk_session *se, int max, int64_t now)
{
    pg_store *s = (pg_store *)st;
    assert(max >= 1);
    bool own_tx;
    int rc = op_tx_begin(st, &own_tx);
    if (rc) return rc;
    lk_session_row row = {.session = *se};
    memcpy(row.hash, hash, LK_TOKEN_HASH_LEN);
    pg_params p = keys3(se->user_id, NULL, NULL);
    PGresult *r = NULL;
    if ((rc = pg_one(s, S_USER_LOCK, &p, "user", &r)) != LK_OK) goto out;
    PQclear(r);
    p_i64(&p, now);
    p_i64(&p, max - 1);
    if ((rc = pg_cmd(s, S_SESSION_TRIM, &p, NULL)) != LK_OK) goto out;
    rc = insert_row(st, S_SESSION_CREATE, &lk_schema_sessions, &row);
out:
    memset(&row, 0, sizeof row);
    return op_tx_end(st, own_tx, rc);
}

static int pg_session_list(lk_store *st, const char *user_id, int64_t now, int max,
                           lk_session_cb cb, void *ctx)
{
    pg_params p = keys3(user_id, NULL, NULL);
    p_i64(&p, now);
    p_i64(&p, max);
    PGresult *r;
    int rc = pg_run((pg_store *)st, S_SESSION_LIST, &p, &r);
    if (rc) return rc;
    lk_row_sink sink = {.kind = LK_SINK_SESSION, .cb.session = cb, .ctx = ctx};
    rc = sink_rows(r, 0, &lk_schema_sessions, LK_VIEW_RECORD, sink.kind, &sink, NULL);
    PQclear(r);
    return rc;
}

static int pg_session_delete_id(lk_store *st, const char *user_id, const char *id)
{
    pg_params p = keys3(user_id, id, NULL);
    return pg_cmd((pg_store *)st, S_SESSION_DELETE_ID, &p, "session");
}

static int pg_user_set_password(lk_store *st, const char *user_id, const char *pwhash,
                                const char *keep_id)
{
    pg_params p = keys3(user_id, pwhash, keep_id);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_USER_SET_PASSWORD, &p, "user", &r);
    if (rc) return rc;
    if (col_i64(r, 0, 0) == 0) rc = lk_err_set(&st->err, LK_ENOT_FOUND, "user not found");
    PQclear(r);
    return rc;
}

static int pg_session_touch(lk_store *st, const lk_key_touch *items, size_t n)
{
    return pg_touch(st, S_SESSION_TOUCH, items, n);
}

static int pg_session_purge(lk_store *st, int64_t now, int64_t *purged)
{
    pg_params p = {0};
    p_i64(&p, now);
    PGresult *r;
    *purged = 0;
    int rc = pg_run((pg_store *)st, S_SESSION_PURGE, &p, &r);
    if (rc) return rc;
    *purged = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return LK_OK;
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

/* Per record kind: the dump and the load statement. In foreign-key order. */
static const struct {
    lk_record_kind kind;
    int dump, load;
} kind_stmts[] = {
    {LK_REC_USER, S_DUMP_USERS, S_USER_CREATE},
    {LK_REC_ORG, S_DUMP_ORGS, S_ORG_CREATE_PLAIN},
    {LK_REC_MEMBER, S_DUMP_MEMBERS, S_MEMBER_ADD},
    {LK_REC_PROJECT, S_DUMP_PROJECTS, S_CHILD(LK_CHILD_PROJECT, C_CREATE)},
    {LK_REC_ENV, S_DUMP_ENVS, S_CHILD(LK_CHILD_ENV, C_CREATE)},
    {LK_REC_BILLING, S_DUMP_BILLING, S_BILLING_UPSERT},
    {LK_REC_KEY, S_DUMP_KEYS, S_KEY_CREATE},
    {LK_REC_AUDIT, S_DUMP_AUDIT, S_AUDIT_INSERT}, /* --- audit --- */
};
#define N_KINDS ((int)(sizeof kind_stmts / sizeof kind_stmts[0]))

/* Every row of one table, in batches (keyset on seq, column 0). */
static int dump_table(pg_store *s, int k, const lk_row_sink *sink)
{
    const lk_table *t = lk_schema_of_kind(kind_stmts[k].kind);
    int64_t after = 0;
    for (;;) {
        pg_params p = {0};
        p_i64(&p, after);
        p_i64(&p, PG_DUMP_BATCH);
        PGresult *res;
        int rc = pg_run(s, kind_stmts[k].dump, &p, &res);
        if (rc) return rc;
        int n = PQntuples(res);
        rc = sink_rows(res, 1, t, LK_VIEW_ROW, kind_stmts[k].kind, sink, &after);
        PQclear(res);
        if (rc || n < PG_DUMP_BATCH) return rc;
    }
}

/* Every row, inside one REPEATABLE READ snapshot so the copy is
 * consistent even if the source is in use. */
static int pg_dump(lk_store *st, lk_record_cb cb, void *ctx)
{
    pg_store *s = (pg_store *)st;
    lk_err_clear(&st->err);
    bool own_tx = !s->in_tx;
    int rc = pg_ensure(s);
    if (rc) return rc;
    if (own_tx) {
        rc = pg_simple(s, "dump: begin", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        if (rc) return rc;
        s->in_tx = true;
    }
    lk_row_sink sink = {.kind = LK_SINK_RECORD, .cb.record = cb, .ctx = ctx};
    for (int k = 0; k < N_KINDS && rc == 0; k++)
        rc = dump_table(s, k, &sink);
    if (own_tx && s->in_tx) {
        int crc = pg_simple(s, "dump: end", rc ? "ROLLBACK" : "COMMIT");
        s->in_tx = false;
        if (rc == 0) rc = crc;
    } else if (own_tx) {
        s->tx_lost = false; /* our own snapshot transaction: nothing to undo */
    }
    return rc;
}

/* --- audit --- */

static int pg_audit_insert(lk_store *st, const lk_audit_event *ev)
{
    return insert_row(st, S_AUDIT_INSERT, &lk_schema_audit, ev);
}

static int pg_audit_list(lk_store *st, const lk_audit_filter *f, const lk_page *pg,
                         lk_audit_cb cb, void *ctx)
{
    bool by_org = f->org_id && f->org_id[0];
    assert(by_org != (f->user_id && f->user_id[0]));
    assert(pg->limit >= 1 && pg->limit <= LK_STORE_PAGE_MAX);
    pg_params p = {0};
    p_text(&p, by_org ? f->org_id : f->user_id);
    p_before(&p, pg);
    p_i64(&p, pg->limit);
    p_text(&p, f->action ? f->action : "");
    p_text(&p, f->actor ? f->actor : "");
    PGresult *r;
    int rc = pg_run((pg_store *)st, by_org ? S_AUDIT_LIST_ORG : S_AUDIT_LIST_USER, &p, &r);
    if (rc) return rc;
    lk_audit_event *ev = malloc(sizeof *ev);
    if (ev == NULL) rc = lk_err_set(&st->err, LK_ENOMEM, NULL);
    for (int i = 0; ev && i < PQntuples(r) && rc == 0; i++) {
        memset(ev, 0, sizeof *ev);
        read_cols(r, i, 0, &lk_schema_audit, LK_VIEW_RECORD, ev);
        rc = cb(ctx, ev);
    }
    free(ev);
    PQclear(r);
    return rc;
}

static int pg_audit_purge(lk_store *st, int64_t before, int max_rows, int64_t *deleted)
{
    pg_params p = {0};
    p_i64(&p, before);
    p_i64(&p, max_rows);
    PGresult *r;
    *deleted = 0;
    int rc = pg_run((pg_store *)st, S_AUDIT_PURGE, &p, &r);
    if (rc) return rc;
    *deleted = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return LK_OK;
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
 * seq). A billing row replaces the one org_create made. */
static int pg_load(lk_store *st, const lk_record *r)
{
    for (int k = 0; k < N_KINDS; k++)
        if (kind_stmts[k].kind == r->kind)
            return insert_row(st, kind_stmts[k].load, lk_schema_of_kind(r->kind), &r->as);
    return lk_err_set(&st->err, LK_EINTERNAL, "unknown record kind");
}

/* --- roles and invitations ------------------------------------------------ */

static int pg_member_get(lk_store *st, const char *org_id, const char *user_id, lk_member *out)
{
    pg_params p = keys3(org_id, user_id, NULL);
    return get_row(st, S_MEMBER_GET, &p, &lk_schema_members, LK_VIEW_RECORD, out, "member");
}

/* As pg_member_remove_unless_last: the org row FOR UPDATE, then count the
 * owners and update, in one transaction (its own unless begin() has one). */
static int pg_member_set_role(lk_store *st, const char *org_id, const char *user_id,
                              const char *role)
{
    bool own_tx;
    int rc = op_tx_begin(st, &own_tx);
    if (rc) return rc;
    member_state m;
    if ((rc = member_state_locked((pg_store *)st, org_id, user_id, &m)) != LK_OK) goto out;
    if (m.is_owner && strcmp(role, LK_ROLE_OWNER) != 0 && m.owners <= 1) {
        rc = lk_err_set(&st->err, LK_ECONFLICT, LK_STORE_LAST_OWNER);
    } else {
        pg_params p = keys3(org_id, user_id, role);
        rc = pg_cmd((pg_store *)st, S_MEMBER_SET_ROLE, &p, "member");
    }
out:
    return op_tx_end(st, own_tx, rc);
}

static int pg_invitation_create(lk_store *st, const lk_invitation *inv,
                                const uint8_t hash[LK_TOKEN_HASH_LEN])
{
    lk_invitation_row row = {.inv = *inv};
    memcpy(row.hash, hash, LK_TOKEN_HASH_LEN);
    int rc = insert_row(st, S_INVITATION_CREATE, &lk_schema_invitations, &row);
    memset(row.hash, 0, sizeof row.hash);
    return rc;
}

static int pg_invitation_get_by_hash(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                                     lk_invitation *out)
{
    pg_params p = hash_key(hash);
    return get_row(st, S_INVITATION_GET_BY_HASH, &p, &lk_schema_invitations, LK_VIEW_RECORD, out,
                   "invitation");
}

static int pg_invitation_list(lk_store *st, const char *org_id, int64_t now, const lk_page *pg,
                              lk_invitation_cb cb, void *ctx)
{
    lk_row_sink sink = {.kind = LK_SINK_INVITATION, .cb.invitation = cb, .ctx = ctx};
    return list_page(st, S_INVITATION_LIST, org_id, pg, &now, &lk_schema_invitations, &sink);
}

static int pg_invitation_delete(lk_store *st, const char *org_id, const char *id)
{
    pg_params p = keys3(org_id, id, NULL);
    return pg_cmd((pg_store *)st, S_INVITATION_DELETE, &p, "invitation");
}

/* One statement: the DELETE … RETURNING feeds the INSERT; a unique
 * violation (already a member) fails both. */
static int pg_invitation_accept(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                                const char *user_id, int64_t now, lk_member *out)
{
    memset(out, 0, sizeof *out);
    pg_params p = hash_key(hash);
    p_text(&p, user_id);
    p_i64(&p, now);
    PGresult *r;
    int rc = pg_one((pg_store *)st, S_INVITATION_ACCEPT, &p, "invitation", &r);
    if (rc == LK_ECONFLICT) lk_err_set(&st->err, rc, "already a member");
    if (rc) return rc;
    col_str(r, 0, 0, out->org_id, sizeof out->org_id);
    col_str(r, 0, 1, out->role, sizeof out->role);
    PQclear(r);
    snprintf(out->user_id, sizeof out->user_id, "%s", user_id);
    out->joined_at = now;
    return LK_OK;
}
/* --- end roles and invitations --------------------------------------------- */

/* --- device --- sign-ins from the CLI (store.h: lk_device). A few calls
 * per sign-in: they run unprepared, leaving the prepared-statement bitmap
 * to the request path. Column lists come from schema.c ({device_requests}). */

#define DEVICE_PURGE "DELETE FROM device_requests WHERE expires_at <= $1"
#define DEVICE_INSERT "INSERT INTO {device_requests:insert}"
#define DEVICE_GET "SELECT {device_requests} FROM device_requests WHERE device_hash = $1"
#define DEVICE_GET_BY_USER "SELECT {device_requests} FROM device_requests WHERE user_hash = $1"
#define DEVICE_POLL                                                                                \
    "UPDATE device_requests SET last_poll_at = $2, poll_interval = $3 WHERE device_hash = $1"
#define DEVICE_DECIDE                                                                              \
    "UPDATE device_requests SET status = $2, user_id = $3 "                                        \
    "WHERE user_hash = $1 AND status = $5 AND expires_at > $4"
#define DEVICE_REDEEM                                                                              \
    "UPDATE device_requests SET status = $5, key_id = $2 WHERE device_hash = $1 "                  \
    "AND status = $6 AND expires_at > $3 AND user_id = $4"
#define DEVICE_WHAT "sign-in request"

/* Expand tmpl and run it with p. On LK_OK *out holds the result (the
 * caller PQclears it); a write that touched no row is LK_ENOT_FOUND when
 * need_row. */
static int dev_exec(pg_store *s, const char *tmpl, const pg_params *p, bool need_row,
                    PGresult **out)
{
    char sql[LK_SCHEMA_SQL_MAX];
    *out = NULL;
    lk_err_clear(&s->base.err);
    if (lk_schema_sql(tmpl, '$', sql, sizeof sql) != 0) {
        assert(!"statement template does not expand");
        return lk_err_set(&s->base.err, LK_EINTERNAL, "bad statement template");
    }
    int rc = pg_ensure(s);
    if (rc) return rc;
    PGresult *res = PQexecParams(s->conn, sql, p->n, NULL, p->v, p->len, p->fmt, 0);
    ExecStatusType es = PQresultStatus(res);
    if (es != PGRES_TUPLES_OK && es != PGRES_COMMAND_OK) {
        rc = pg_fail(s, DEVICE_WHAT, res);
        PQclear(res);
        return rc;
    }
    if (need_row && strcmp(PQcmdTuples(res), "0") == 0) {
        PQclear(res);
        return lk_err_set(&s->base.err, LK_ENOT_FOUND, DEVICE_WHAT " not found");
    }
    *out = res;
    return LK_OK;
}

static int dev_cmd(pg_store *s, const char *tmpl, const pg_params *p, bool need_row)
{
    PGresult *res;
    int rc = dev_exec(s, tmpl, p, need_row, &res);
    PQclear(res);
    return rc;
}

static int pg_device_create(lk_store *st, const lk_device *d, int64_t now)
{
    pg_store *s = (pg_store *)st;
    pg_params p = {0};
    p_i64(&p, now);
    int rc = dev_cmd(s, DEVICE_PURGE, &p, false);
    if (rc) return rc;
    memset(&p, 0, sizeof p);
    bind_cols(&p, &lk_schema_device, d);
    return dev_cmd(s, DEVICE_INSERT, &p, false);
}

static int dev_get(pg_store *s, const char *tmpl, const uint8_t hash[LK_TOKEN_HASH_LEN],
                   lk_device *out)
{
    pg_params p = hash_key(hash);
    PGresult *r;
    int rc = dev_exec(s, tmpl, &p, false, &r);
    if (rc) return rc;
    if (PQntuples(r) < 1)
        rc = lk_err_set(&s->base.err, LK_ENOT_FOUND, DEVICE_WHAT " not found");
    else
        read_cols(r, 0, 0, &lk_schema_device, LK_VIEW_RECORD, out);
    PQclear(r);
    return rc;
}

static int pg_device_get(lk_store *st, const uint8_t device_hash[LK_TOKEN_HASH_LEN],
                         lk_device *out)
{
    return dev_get((pg_store *)st, DEVICE_GET, device_hash, out);
}

static int pg_device_get_by_user(lk_store *st, const uint8_t user_hash[LK_TOKEN_HASH_LEN],
                                 lk_device *out)
{
    return dev_get((pg_store *)st, DEVICE_GET_BY_USER, user_hash, out);
}

static int pg_device_poll(lk_store *st, const uint8_t device_hash[LK_TOKEN_HASH_LEN],
                          int64_t last_poll_at, int64_t interval)
{
    pg_params p = hash_key(device_hash);
    p_i64(&p, last_poll_at);
    p_i64(&p, interval);
    return dev_cmd((pg_store *)st, DEVICE_POLL, &p, true);
}

static int pg_device_decide(lk_store *st, const uint8_t user_hash[LK_TOKEN_HASH_LEN],
                            int64_t status, const char *user_id, int64_t now)
{
    pg_params p = hash_key(user_hash);
    p_i64(&p, status);
    p_text(&p, user_id);
    p_i64(&p, now);
    p_i64(&p, LK_DEVICE_PENDING);
    return dev_cmd((pg_store *)st, DEVICE_DECIDE, &p, true);
}

/* APPROVED → USED and the key's insert, in one transaction (the UPDATE's
 * row lock makes a racing redeem wait, then find the row USED). */
static int pg_device_redeem(lk_store *st, const uint8_t device_hash[LK_TOKEN_HASH_LEN],
                            int64_t now, const lk_key *k, const uint8_t key_hash[LK_TOKEN_HASH_LEN])
{
    bool own_tx;
    int rc = op_tx_begin(st, &own_tx);
    if (rc) return rc;
    pg_params p = hash_key(device_hash);
    p_text(&p, k->id);
    p_i64(&p, now);
    p_text(&p, k->user_id);
    p_i64(&p, LK_DEVICE_USED);
    p_i64(&p, LK_DEVICE_APPROVED);
    rc = dev_cmd((pg_store *)st, DEVICE_REDEEM, &p, true);
    if (rc == LK_OK) rc = pg_key_create(st, k, key_hash);
    return op_tx_end(st, own_tx, rc);
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
    .member_remove_unless_last = pg_member_remove_unless_last,
    .member_count = pg_member_count,
    .member_list = pg_member_list,
    .child_create = pg_child_create,
    .child_get = pg_child_get,
    .child_rename = pg_child_rename,
    .child_delete = pg_child_delete,
    .child_list = pg_child_list,
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
    .key_set_cidrs = pg_key_set_cidrs,               /* scopes */
    .org_set_key_lifetime = pg_org_set_key_lifetime, /* scopes */
    .is_empty = pg_is_empty,
    .dump = pg_dump,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .load = pg_load,
    /* --- account --- */
    .session_create_capped = pg_session_create_capped,
    .session_list = pg_session_list,
    .session_delete_id = pg_session_delete_id,
    .user_set_password = pg_user_set_password,
    .session_touch = pg_session_touch,
    .session_purge = pg_session_purge,
    /* --- roles and invitations --- */
    .member_get = pg_member_get,
    .member_set_role = pg_member_set_role,
    .invitation_create = pg_invitation_create,
    .invitation_get_by_hash = pg_invitation_get_by_hash,
    .invitation_list = pg_invitation_list,
    .invitation_delete = pg_invitation_delete,
    .invitation_accept = pg_invitation_accept,
    /* --- rotate --- */
    .key_rotate = pg_key_rotate,
    .key_revoke_token = pg_key_revoke_token,
    .key_purge_previous = pg_key_purge_previous,
    .leak_report_count = pg_leak_report_count,
    .leak_report_get = pg_leak_report_get,
    /* --- device --- */
    .device_create = pg_device_create,
    .device_get = pg_device_get,
    .device_get_by_user = pg_device_get_by_user,
    .device_poll = pg_device_poll,
    .device_decide = pg_device_decide,
    .device_redeem = pg_device_redeem,
    /* --- audit --- */
    .audit_insert = pg_audit_insert,
    .audit_list = pg_audit_list,
    .audit_purge = pg_audit_purge,
};
