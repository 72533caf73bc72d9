/*
 * store_sqlite.c — the SQLite backend of the store interface (store.h).
 *
 * One lk_store here is one sqlite3 connection plus its prepared statements.
 * Each statement is prepared once, the first time it is needed (so that
 * `migrate` can create the schema first), kept with SQLITE_PREPARE_PERSISTENT
 * and reused: sqlite3_reset() after every use, parameters re-bound every
 * time. Text and blob parameters are bound SQLITE_STATIC, so the hot path
 * (key_get_by_hash: one look-up in the UNIQUE index on access_keys.hash)
 * allocates nothing of its own.
 *
 * Durability and concurrency:
 *  - journal_mode=WAL and synchronous=FULL: a write that returned LK_OK is
 *    in the WAL and fsync'ed, so a SIGKILL (or power loss) cannot lose it.
 *    Do not weaken either pragma.
 *  - Several connections (threads, processes, nodes on one host) write the
 *    same file. Multi-statement writes start with BEGIN IMMEDIATE, so a
 *    writer takes the write lock up front and waits in busy_timeout instead
 *    of failing with SQLITE_BUSY when a read transaction tries to upgrade.
 *    Single-statement writes run in autocommit (atomic by themselves).
 *  - foreign_keys=ON, checked at open: org_delete and project_delete rely on
 *    ON DELETE CASCADE to remove members, projects, environments, billing
 *    and access keys in the same statement (one transaction).
 *
 * Schema: the tables are schema.c's description (schema.h), shared with
 * the PostgreSQL backend; statements here name their columns as {table}
 * and are expanded from it when prepared, and rows are read and bound by
 * one generic loop over the columns (read_cols, bind_cols). Versions live
 * in schema_migrations(version): 1 is the released hand-written text; 2
 * rebuilt every table from the description (the CHECKs PostgreSQL always
 * had, users.seq, billing.seq), keeping every row, hash and seq. Each
 * version is applied inside its own BEGIN IMMEDIATE transaction that first
 * checks whether the version is already recorded, so when several
 * processes start at once exactly one applies each version and the others
 * see it done. A file with a version newer than this build knows is
 * refused.
 *
 * Ordering: every listed table has `seq INTEGER PRIMARY KEY AUTOINCREMENT`,
 * so seq only grows (never reused, even after deletes). Lists run
 * `seq < before ORDER BY seq DESC LIMIT n` on an (owner, seq) index; a cursor
 * is a seq, which stays valid while rows are inserted between pages.
 *
 * Optional strings (LK_COL_OPT_TEXT: org_id / user_id of access keys) are
 * stored as NULL when empty and read back as "".
 *
 * Errors: unique/primary-key violation -> LK_ECONFLICT; no row, or a foreign
 * key that points nowhere -> LK_ENOT_FOUND; busy/locked after the timeout,
 * I/O, full disk, cannot open -> LK_EUNAVAILABLE; out of memory -> LK_ENOMEM;
 * the rest -> LK_EINTERNAL. st->err gets a message safe to show; the driver's
 * text (never parameters) goes to stderr for unexpected failures only.
 * Except while opening: then only the operator sees the error (latchkeyd's
 * start, migrate-data), as one line that the caller prints, so SQLite's own
 * text ("unable to open database file") goes into the message and nothing
 * is printed here.
 *
 * No SQL leaves this file. Nothing here ever sees a token, only its hash.
 */
#include "schema.h"
#include "store.h"
#include "keycache.h"

#include <sodium.h>
#include <sqlite3.h>

#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define LK_SQLITE_BUSY_TIMEOUT_MS 10000
#define LK_SQLITE_UMASK 077 /* files created: owner read/write only */

/* X(NAME, SQL): every statement this backend runs more than once. Column
 * lists and INSERTs are written {…} and expanded from schema.c's
 * description at prepare time (lk_schema_sql); what stays here is what is
 * particular to each statement: its WHERE, order and locking. */
#define LK_SQLITE_STMTS(X)                                                                         \
    X(PING, "PRAGMA schema_version") /* reads the file header under a shared lock */               \
    X(USER_INSERT, "INSERT INTO {users:insert}")                                                   \
    X(USER_GET, "SELECT {users} FROM users WHERE id = ?1")                                         \
    X(USER_GET_BY_EMAIL, "SELECT {users*} FROM users WHERE email_lower = ?1")                      \
    X(USER_RENAME, "UPDATE users SET name = ?2 WHERE id = ?1")                                     \
    X(SESSION_INSERT, "INSERT INTO {sessions:insert}")                                             \
    X(SESSION_GET, "SELECT {sessions} FROM sessions WHERE hash = ?1")                              \
    X(SESSION_DELETE, "DELETE FROM sessions WHERE hash = ?1")                                      \
    X(ORG_INSERT, "INSERT INTO {orgs:insert}")                                                     \
    X(ORG_GET, "SELECT {orgs} FROM orgs WHERE id = ?1")                                            \
    X(ORG_RENAME, "UPDATE orgs SET name = ?2 WHERE id = ?1")                                       \
    X(ORG_DELETE, "DELETE FROM orgs WHERE id = ?1")                                                \
    X(ORG_LIST_FOR_USER, "SELECT {o.orgs} FROM members m JOIN orgs o ON o.id = m.org_id "          \
                         "WHERE m.user_id = ?1 AND o.seq < ?2 ORDER BY o.seq DESC LIMIT ?3")       \
    X(MEMBER_CHECK, "SELECT 1 FROM members WHERE org_id = ?1 AND user_id = ?2")                    \
    X(MEMBER_INSERT, "INSERT INTO {members:insert}")                                               \
    X(MEMBER_DELETE, "DELETE FROM members WHERE org_id = ?1 AND user_id = ?2")                     \
    X(MEMBER_COUNT, "SELECT count(*) FROM members WHERE org_id = ?1")                              \
    X(MEMBER_STATE, "SELECT count(*), coalesce(max(user_id = ?2), 0), "                            \
                    "coalesce(sum(role = 'owner'), 0), "                                           \
                    "coalesce(max(user_id = ?2 AND role = 'owner'), 0) FROM members "              \
                    "WHERE org_id = ?1")                                                           \
    X(MEMBER_LIST, "SELECT {m.members} FROM members m JOIN users u ON u.id = m.user_id "           \
                   "WHERE m.org_id = ?1 AND m.seq < ?2 ORDER BY m.seq DESC LIMIT ?3")              \
    X(BILLING_INSERT, "INSERT INTO {billing:insert}")                                              \
    X(BILLING_UPSERT, "INSERT INTO {billing:insert} ON CONFLICT (org_id) DO UPDATE SET "           \
                      "plan = excluded.plan, billing_email = excluded.billing_email, "             \
                      "updated_at = excluded.updated_at")                                          \
    X(BILLING_GET, "SELECT {billing} FROM billing WHERE org_id = ?1")                              \
    X(BILLING_UPDATE, "UPDATE billing SET plan = ?2, billing_email = ?3, updated_at = ?4 "         \
                      "WHERE org_id = ?1")                                                         \
    X(KEY_INSERT, "INSERT INTO {access_keys:insert}")                                              \
    X(KEY_GET, "SELECT {access_keys} FROM access_keys WHERE id = ?1")                              \
    X(KEY_GET_BY_HASH, "SELECT {access_keys} FROM access_keys WHERE " KEY_BY_HASH)                 \
    X(KEY_GET_BY_HASH_OWNER, "SELECT {k.access_keys}, {u.users}, {o.orgs} FROM access_keys k "     \
                             "LEFT JOIN users u ON u.id = k.user_id "                              \
                             "LEFT JOIN orgs o ON o.id = k.org_id WHERE " KEY_BY_HASH_K)           \
    X(KEY_RENAME, "UPDATE access_keys SET name = ?2 WHERE id = ?1")                                \
    X(KEY_DELETE, "DELETE FROM access_keys WHERE id = ?1")                                         \
    X(KEY_LIST_ORG, "SELECT {access_keys} FROM access_keys WHERE org_id = ?1 AND seq < ?2 "        \
                    "AND (expires_at = 0 OR expires_at > ?4) ORDER BY seq DESC LIMIT ?3")          \
    X(KEY_LIST_USER, "SELECT {access_keys} FROM access_keys WHERE user_id = ?1 AND type = 2 "      \
                     "AND seq < ?2 "                                                               \
                     "AND (expires_at = 0 OR expires_at > ?4) ORDER BY seq DESC LIMIT ?3")         \
    X(KEY_TOUCH, "UPDATE access_keys SET last_used_at = ?2, "                                      \
                 "last_used_ip = coalesce(nullif(?3, ''), last_used_ip) "                          \
                 "WHERE id = ?1 AND last_used_at < ?2")                                            \
    X(IS_EMPTY, "SELECT EXISTS(SELECT 1 FROM users) OR EXISTS(SELECT 1 FROM orgs)")                \
    X(DUMP_USERS, "SELECT {users*} FROM users ORDER BY seq")                                       \
    X(DUMP_ORGS, "SELECT {orgs*} FROM orgs ORDER BY seq")                                          \
    X(DUMP_MEMBERS, "SELECT {m.members*} FROM members m JOIN users u ON u.id = m.user_id "         \
                    "ORDER BY m.seq")                                                              \
    X(DUMP_PROJECTS, "SELECT {projects*} FROM projects ORDER BY seq")                              \
    X(DUMP_ENVS, "SELECT {environments*} FROM environments ORDER BY seq")                          \
    X(DUMP_BILLING, "SELECT {billing*} FROM billing ORDER BY seq")                                 \
    X(DUMP_KEYS, "SELECT {access_keys*} FROM access_keys ORDER BY seq")                            \
    /* --- scopes --- */                                                                           \
    X(KEY_SET_CIDRS, "UPDATE access_keys SET allowed_cidrs = nullif(?2, '') WHERE id = ?1")        \
    X(ORG_SET_KEY_LIFETIME, "UPDATE orgs SET access_key_max_lifetime_days = ?2 WHERE id = ?1")     \
    /* --- account: sessions and passwords --- */                                                 \
    X(SESSION_TRIM, "DELETE FROM sessions WHERE user_id = ?1 AND (expires_at <= ?2 OR hash NOT IN "\
                    "(SELECT hash FROM sessions WHERE user_id = ?1 AND expires_at > ?2 "           \
                    "ORDER BY created_us DESC LIMIT ?3))")                                \
    X(SESSION_LIST, "SELECT {sessions} FROM sessions WHERE user_id = ?1 AND expires_at > ?2 "      \
                    "ORDER BY created_us DESC LIMIT ?3")                                  \
    X(SESSION_DELETE_ID, "DELETE FROM sessions WHERE user_id = ?1 AND id = ?2")                    \
    X(SESSION_DELETE_OTHERS, "DELETE FROM sessions WHERE user_id = ?1 AND id <> ?2")               \
    X(USER_SET_PWHASH, "UPDATE users SET pwhash = ?2 WHERE id = ?1")                               \
    X(SESSION_TOUCH, "UPDATE sessions SET last_seen_at = ?2 "                                      \
                     "WHERE id = ?1 AND id <> '' AND last_seen_at < ?2")                           \
    X(SESSION_PURGE, "DELETE FROM sessions WHERE expires_at <= ?1")                                \
    X(DATA_VERSION, "PRAGMA data_version") /* keycache.h */                                       \
    LK_SQLITE_STMTS_ROLES(X)                                                                       \
    ROTATE_STMTS(X)                                                                                \
    /* --- audit --- */                                                                            \
    X(AUDIT_INSERT, "INSERT INTO {audit_events:insert}")                                           \
    X(AUDIT_LIST_ORG, "SELECT {audit_events} FROM audit_events WHERE org_id = ?1 AND seq < ?2 "    \
                      "AND (?4 = '' OR action = ?4) "                                              \
                      "AND (?5 = '' OR actor_id = ?5 OR actor_user_id = ?5) "                      \
                      "ORDER BY seq DESC LIMIT ?3")                                                \
    X(AUDIT_LIST_USER, "SELECT {audit_events} FROM audit_events WHERE user_id = ?1 AND seq < ?2 "  \
                       "AND (?4 = '' OR action = ?4) "                                             \
                       "AND (?5 = '' OR actor_id = ?5 OR actor_user_id = ?5) "                     \
                       "ORDER BY seq DESC LIMIT ?3")                                               \
    X(DUMP_AUDIT, "SELECT {audit_events*} FROM audit_events ORDER BY seq")                         \
    X(AUDIT_PURGE, "DELETE FROM audit_events WHERE seq IN (SELECT seq FROM audit_events "          \
                   "WHERE created_at < ?1 ORDER BY seq LIMIT ?2)")

/* --- roles and invitations: statements --- */
#define LK_SQLITE_STMTS_ROLES(X)                                                                   \
    X(MEMBER_GET, "SELECT {m.members} FROM members m JOIN users u ON u.id = m.user_id "            \
                  "WHERE m.org_id = ?1 AND m.user_id = ?2")                                        \
    X(MEMBER_SET_ROLE, "UPDATE members SET role = ?3 WHERE org_id = ?1 AND user_id = ?2")          \
    X(INVITATION_INSERT, "INSERT INTO {invitations:insert}")                                       \
    X(INVITATION_GET_BY_HASH, "SELECT {invitations} FROM invitations WHERE hash = ?1")             \
    X(INVITATION_LIST, "SELECT {invitations} FROM invitations WHERE org_id = ?1 AND seq < ?2 "     \
                       "AND expires_at > ?4 ORDER BY seq DESC LIMIT ?3")                           \
    X(INVITATION_DELETE, "DELETE FROM invitations WHERE org_id = ?1 AND id = ?2")                  \
    X(INVITATION_TAKE, "DELETE FROM invitations WHERE hash = ?1 AND expires_at > ?2 "              \
                       "RETURNING org_id, role")
/* --- end roles and invitations: statements --- */

/* --- rotate: the database's clock, and a key by its current or live
 * previous hash: an OR of two UNIQUE-index probes (SQLite's multi-index
 * OR; EXPLAIN QUERY PLAN shows two SEARCHes and no SCAN). */
#define DB_NOW "unixepoch()"
#define KEY_BY_HASH "(hash = ?1 OR (prev_hash = ?1 AND prev_expires_at > " DB_NOW "))"
#define KEY_BY_HASH_K "(k.hash = ?1 OR (k.prev_hash = ?1 AND k.prev_expires_at > " DB_NOW "))"
#define ROTATE_STMTS(X)                                                                            \
    X(KEY_ROTATE, "UPDATE access_keys SET "                                                        \
                  "prev_hash = CASE WHEN ?4 > 0 THEN hash ELSE NULL END, "                         \
                  "prev_expires_at = CASE WHEN ?4 > 0 THEN " DB_NOW " + ?4 ELSE 0 END, "           \
                  "hash = ?2, redacted = ?3 WHERE id = ?1 RETURNING {access_keys}")                \
    X(KEY_REVOKE_CURRENT, "DELETE FROM access_keys WHERE hash = ?1 RETURNING {access_keys}")       \
    X(KEY_REVOKE_PREVIOUS,                                                                         \
      "UPDATE access_keys SET prev_hash = NULL, prev_expires_at = 0 "                              \
      "WHERE prev_hash = ?1 AND prev_expires_at > " DB_NOW " RETURNING {access_keys}")             \
    X(KEY_PURGE_PREVIOUS, "UPDATE access_keys SET prev_hash = NULL, prev_expires_at = 0 "          \
                          "WHERE prev_hash IS NOT NULL AND prev_expires_at <= " DB_NOW) \
    /* --- leak reports: the day's counts (schema.c's leaked_token_reports) */                    \
    X(LEAK_REPORT_COUNT, "INSERT INTO leaked_token_reports (day, reports, entries, revoked) "      \
                         "VALUES (?1, 1, ?2, ?3) ON CONFLICT (day) DO UPDATE SET "                 \
                         "reports = reports + 1, entries = entries + excluded.entries, "           \
                         "revoked = revoked + excluded.revoked")                                   \
    X(LEAK_REPORT_GET, "SELECT {leaked_token_reports} FROM leaked_token_reports WHERE day = ?1")
/* --- end rotate --- */

/* --- device --- sign-ins from the CLI (lk_device); states bound as ?5/?6. */
#define LK_SQLITE_DEVICE_STMTS(X)                                                                  \
    X(DEVICE_PURGE, "DELETE FROM device_requests WHERE expires_at <= ?1")                          \
    X(DEVICE_INSERT, "INSERT INTO {device_requests:insert}")                                       \
    X(DEVICE_GET, "SELECT {device_requests} FROM device_requests WHERE device_hash = ?1")          \
    X(DEVICE_GET_BY_USER, "SELECT {device_requests} FROM device_requests WHERE user_hash = ?1")    \
    X(DEVICE_POLL, "UPDATE device_requests SET last_poll_at = ?2, poll_interval = ?3 "             \
                   "WHERE device_hash = ?1")                                                       \
    X(DEVICE_DECIDE, "UPDATE device_requests SET status = ?2, user_id = ?3 "                       \
                     "WHERE user_hash = ?1 AND status = ?5 AND expires_at > ?4")                   \
    X(DEVICE_REDEEM, "UPDATE device_requests SET status = ?5, key_id = ?2 WHERE device_hash = ?1 " \
                     "AND status = ?6 AND expires_at > ?3 AND user_id = ?4")

enum {
#define LK__STMT_ENUM(name, sql) S_##name,
    LK_SQLITE_STMTS(LK__STMT_ENUM) LK_SQLITE_DEVICE_STMTS(LK__STMT_ENUM)
#undef LK__STMT_ENUM
        S__COUNT
};

static const char *const stmt_sql[S__COUNT] = {
#define LK__STMT_SQL(name, sql) [S_##name] = sql,
    LK_SQLITE_STMTS(LK__STMT_SQL) LK_SQLITE_DEVICE_STMTS(LK__STMT_SQL)
#undef LK__STMT_SQL
};

/* The statements of the child_* ops, X(OP, SQL), written once for every
 * named child (schema.h's lk_child: @T its table, @P its parent column).
 * Child k's statement OP is S_CHILD(k, C_OP). */
#define LK_SQLITE_CHILD_STMTS(X)                                                                   \
    X(INSERT, "INSERT INTO {@T:insert}")                                                           \
    X(GET, "SELECT {@T} FROM @T WHERE @P = ?1 AND id = ?2")                                        \
    X(RENAME, "UPDATE @T SET name = ?3 WHERE @P = ?1 AND id = ?2")                                 \
    X(DELETE, "DELETE FROM @T WHERE @P = ?1 AND id = ?2")                                          \
    X(LIST, "SELECT {@T} FROM @T WHERE @P = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3")

enum {
#define LK__CHILD_ENUM(op, sql) C_##op,
    LK_SQLITE_CHILD_STMTS(LK__CHILD_ENUM)
#undef LK__CHILD_ENUM
        C__COUNT
};

static const char *const child_sql[C__COUNT] = {
#define LK__CHILD_SQL(op, sql) [C_##op] = sql,
    LK_SQLITE_CHILD_STMTS(LK__CHILD_SQL)
#undef LK__CHILD_SQL
};

#define S_CHILD(k, op) (S__COUNT + (k) * C__COUNT + (op))
#define S__ALL S_CHILD(LK_CHILD_KINDS, 0)

/* Version 1 of the schema, as released: never edit. (Later versions are
 * generated from schema.c; see migrations[] below.) */
static const char schema_v1[] =
    "CREATE TABLE users ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  email TEXT NOT NULL,"
    "  email_lower TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  pwhash TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE sessions ("
    "  hash BLOB PRIMARY KEY NOT NULL,"
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  csrf TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL);"
    "CREATE INDEX sessions_by_user ON sessions(user_id);"
    "CREATE TABLE orgs ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE members ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  joined_at INTEGER NOT NULL,"
    "  UNIQUE(org_id, user_id));"
    "CREATE INDEX members_by_org ON members(org_id, seq);"
    "CREATE INDEX members_by_user ON members(user_id, seq);"
    "CREATE TABLE projects ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE,"
    "  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX projects_by_org ON projects(org_id, seq);"
    "CREATE TABLE environments ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE,"
    "  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX environments_by_project ON environments(project_id, seq);"
    "CREATE TABLE billing ("
    "  org_id TEXT PRIMARY KEY NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
    "  plan TEXT NOT NULL,"
    "  billing_email TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE access_keys ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE,"
    "  type INTEGER NOT NULL CHECK (type IN (1, 2)),"
    "  org_id TEXT REFERENCES orgs(id) ON DELETE CASCADE,"
    "  user_id TEXT REFERENCES users(id) ON DELETE CASCADE,"
    "  created_by TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  hash BLOB NOT NULL UNIQUE,"
    "  redacted TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  last_used_at INTEGER NOT NULL DEFAULT 0,"
    "  expires_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX access_keys_by_org ON access_keys(org_id, seq);"
    "CREATE INDEX access_keys_by_user ON access_keys(user_id, seq);";

typedef struct sqlite_store {
    lk_store base;
    sqlite3 *db;
    int tx_depth;          /* 0: autocommit; 1: inside begin() or an op's BEGIN; >1: savepoints */
    bool tx_gated;         /* begin() holds the write gate until commit/rollback */
    bool opening;          /* inside sqlite_open: errors carry SQLite's text and are not logged */
    int64_t busy_since_ns; /* when the current wait for a lock began (busy_wait) */
    sqlite3_stmt *stmt[S__ALL]; /* prepared on first use, finalized by close */
    lk_keycache kc;             /* token-hash look-ups while nothing changed */
} sqlite_store;

static sqlite_store *S(lk_store *st)
{
    return (sqlite_store *)st;
}

/* Map an SQLite result code to an lk_err code, with a safe message on
 * st->err. `what` names the operation for the message and the log (NULL:
 * only while opening, for a message that is SQLite's text alone). */
static int fail(sqlite_store *s, int rc, const char *what)
{
    int code;
    const char *msg;
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
            code = LK_ECONFLICT;
            msg = "already exists";
        } else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
            code = LK_ENOT_FOUND;
            msg = "a referenced record does not exist";
        } else {
            code = LK_EINTERNAL;
            msg = "database constraint violated";
        }
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = LK_EUNAVAILABLE;
        msg = "database is busy";
        break;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_READONLY:
        code = LK_EUNAVAILABLE;
        msg = "database is unavailable";
        break;
    case SQLITE_NOMEM:
        code = LK_ENOMEM;
        msg = NULL;
        break;
    default:
        code = LK_EINTERNAL;
        msg = "database error";
        break;
    }
    if (s->opening) {
        const char *why = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
        if (what == NULL) return lk_err_set(&s->base.err, code, why);
        return lk_err_setf(&s->base.err, code, "%s: %s", what, why);
    }
    if (code != LK_ECONFLICT && code != LK_ENOT_FOUND)
        fprintf(stderr, "latchkey: sqlite: %s: %s (%d)\n", what,
                s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), rc);
    return lk_err_setf(&s->base.err, code, "%s: %s", what, msg ? msg : lk_err_default_msg(code));
}

/* "<what> not found", without printf: an unknown token ends here on every
 * failed bearer attempt. */
static int not_found(sqlite_store *s, const char *what)
{
    char m[LK_ERR_MSG_MAX];
    size_t n = strnlen(what, sizeof(m) - sizeof(" not found"));
    memcpy(m, what, n);
    memcpy(m + n, " not found", sizeof(" not found"));
    return lk_err_set(&s->base.err, LK_ENOT_FOUND, m);
}

/* Statement id's SQL, expanded into sql[cap]; -1 if it does not expand. */
static int stmt_expand(int id, char *sql, size_t cap)
{
    if (id < S__COUNT) return lk_schema_sql(stmt_sql[id], '?', sql, cap);
    const lk_child *c = &lk_schema_children[(id - S__COUNT) / C__COUNT];
    return lk_schema_child_sql(child_sql[(id - S__COUNT) % C__COUNT], c, '?', sql, cap);
}

/* The cached statement `id`, prepared on first use. NULL (st->err set) if
 * preparing fails. Owned by s; callers sqlite3_reset() it when done. */
static sqlite3_stmt *stmt_get(sqlite_store *s, int id)
{
    assert(id >= 0 && id < S__ALL);
    if (s->stmt[id] == NULL) {
        char sql[LK_SCHEMA_SQL_MAX];
        if (stmt_expand(id, sql, sizeof sql) != 0) {
            assert(!"statement template does not expand");
            lk_err_set(&s->base.err, LK_EINTERNAL, "prepare: bad statement template");
            return NULL;
        }
        int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[id], NULL);
        if (rc != SQLITE_OK) {
            fail(s, rc, "prepare");
            sqlite3_finalize(s->stmt[id]);
            s->stmt[id] = NULL;
            return NULL;
        }
    }
    return s->stmt[id];
}

/* Run a statement without results (one-off SQL such as pragmas, BEGIN). */
static int exec(sqlite_store *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? LK_OK : fail(s, rc, what);
}

/* -- binding and reading helpers (text bound SQLITE_STATIC: the caller's
 * buffers outlive the step) ------------------------------------------------- */

static void bind_text(sqlite3_stmt *q, int i, const char *v)
{
    sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
}

/* "" is stored as NULL (optional references). */
static void bind_opt_text(sqlite3_stmt *q, int i, const char *v)
{
    if (v == NULL || v[0] == '\0')
        sqlite3_bind_null(q, i);
    else
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
}

static void bind_hash(sqlite3_stmt *q, int i, const uint8_t hash[LK_TOKEN_HASH_LEN])
{
    sqlite3_bind_blob(q, i, hash, LK_TOKEN_HASH_LEN, SQLITE_STATIC);
}

/* Copy column col into out[size], truncating; NULL becomes "". */
static void col_text(sqlite3_stmt *q, int col, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    size_t n = t ? (size_t)sqlite3_column_bytes(q, col) : 0;
    if (n >= size) n = size - 1;
    if (n) memcpy(out, t, n);
    out[n] = '\0';
}

static int64_t before_of(const lk_page *pg)
{
    return (pg && pg->before_seq > 0) ? pg->before_seq : INT64_MAX;
}

static int limit_of(const lk_page *pg)
{
    return (pg && pg->limit > 0) ? pg->limit : 1;
}

/* Step a write statement once and reset it. With `must_change`, zero rows
 * changed is LK_ENOT_FOUND naming `what`. */
/* The write gate: single-statement writes of all connections in this
 * process take turns on one mutex before they ask SQLite for its write lock.
 * SQLite allows one writer at a time anyway; without the gate the others
 * poll for the lock in busy_wait() naps, with it they sleep on a futex and
 * wake the moment the writer before them has committed. Purely scheduling:
 * correctness still rests on SQLite's own locking (other processes are not
 * gated), and the wait is bounded, after which the write goes ahead ungated. */
static pthread_mutex_t write_gate = PTHREAD_MUTEX_INITIALIZER;

static bool gate_enter(void)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    return pthread_mutex_timedlock(&write_gate, &until) == 0;
}

static int tx_lost(sqlite_store *s);

static int run_write(sqlite_store *s, sqlite3_stmt *q, const char *what, bool must_change)
{
    int lost = tx_lost(s);
    if (lost != LK_OK) return lost;
    bool gated = s->tx_depth == 0 && gate_enter();
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (gated) pthread_mutex_unlock(&write_gate);
    if (rc != SQLITE_DONE) return fail(s, rc, what);
    if (must_change && sqlite3_changes(s->db) == 0) return not_found(s, what);
    return LK_OK;
}

/* Step a single-row read: LK_OK with the row current (caller reads columns,
 * then sqlite3_reset), LK_ENOT_FOUND (statement already reset), or an
 * error. */
static int run_row(sqlite_store *s, sqlite3_stmt *q, const char *what)
{
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) return LK_OK;
    sqlite3_reset(q);
    if (rc == SQLITE_DONE) return not_found(s, what);
    return fail(s, rc, what);
}

/* -- transactions ------------------------------------------------------------
 * tx_begin/tx_end nest: the outermost is BEGIN IMMEDIATE ... COMMIT/ROLLBACK,
 * inner ones (an op running inside begin()..commit()) are savepoints. */

/* Inside an open transaction that SQLite has already rolled back on its own
 * (SQLITE_FULL, SQLITE_IOERR, ...): a statement now would run, and commit,
 * on its own. Refused instead, so the caller's commit fails as a whole. */
static int tx_lost(sqlite_store *s)
{
    if (s->tx_depth == 0 || !sqlite3_get_autocommit(s->db)) return LK_OK;
    return lk_err_set(&s->base.err, LK_EUNAVAILABLE, "the transaction was rolled back");
}

static int tx_begin(sqlite_store *s)
{
    int lost = tx_lost(s);
    if (lost != LK_OK) return lost;
    int rc = exec(s, s->tx_depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT lk", "begin");
    if (rc == LK_OK) s->tx_depth++;
    return rc;
}

/* Commit if rc is LK_OK, else roll back; returns the first failure. */
static int tx_end(sqlite_store *s, int rc)
{
    assert(s->tx_depth >= 0);
    if (s->tx_depth == 0) return rc; /* tx_begin failed: nothing to end */
    s->tx_depth--;
    if (rc == LK_OK) {
        int c = exec(s, s->tx_depth == 0 ? "COMMIT" : "RELEASE lk", "commit");
        if (c == LK_OK) return LK_OK;
        rc = c;
    }
    lk_err saved = s->base.err;
    if (s->tx_depth == 0) {
        if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    } else {
        sqlite3_exec(s->db, "ROLLBACK TO lk; RELEASE lk", NULL, NULL, NULL);
    }
    s->base.err = saved;
    return rc;
}

/* -- lifecycle ------------------------------------------------------------ */

static void sqlite_close(lk_store *st)
{
    if (st == NULL) return;
    sqlite_store *s = S(st);
    for (int i = 0; i < S__ALL; i++)
        sqlite3_finalize(s->stmt[i]);
    lk_keycache_free(&s->kc);
    if (s->db) {
        if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(s->db);
    }
    free(s);
}

/* Run a pragma that returns one value and check it against `want`
 * (compared case-insensitively as text); want NULL skips the check. */
static int pragma_expect(sqlite_store *s, const char *sql, const char *want)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
    if (rc != SQLITE_OK) return fail(s, rc, sql);
    int ret = LK_OK;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(q, 0);
        if (want && (v == NULL || sqlite3_stricmp(v, want) != 0))
            ret = lk_err_setf(&s->base.err, LK_EINTERNAL, "%s returned %s, expected %s", sql,
                              v ? v : "NULL", want);
    } else if (rc != SQLITE_DONE) {
        ret = fail(s, rc, sql);
    }
    sqlite3_finalize(q);
    return ret;
}

/* Switch the file to WAL. When several connections open a fresh file at
 * once, the switch can fail with SQLITE_BUSY without going through the busy
 * handler (it needs an exclusive lock while others hold shared ones), so it
 * is retried here for up to the busy timeout. */
static int set_wal(sqlite_store *s)
{
    for (int waited = 0;; waited += 10) {
        sqlite3_stmt *q = NULL;
        const char *mode = NULL;
        int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &q, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(q);
            if (rc == SQLITE_ROW) mode = (const char *)sqlite3_column_text(q, 0);
        }
        bool ok = rc == SQLITE_ROW && mode && sqlite3_stricmp(mode, "wal") == 0;
        sqlite3_finalize(q);
        if (ok) return LK_OK;
        if (rc == SQLITE_ROW)
            return lk_err_set(&s->base.err, LK_EINTERNAL,
                              "cannot enable WAL (journal_mode is not wal)");
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            return fail(s, rc, "enabling WAL");
        if (waited >= LK_SQLITE_BUSY_TIMEOUT_MS) return fail(s, rc, "enabling WAL");
        sqlite3_sleep(10);
    }
}

/* Process-wide SQLite settings, applied once before the first connection
 * (sqlite3_config only works before sqlite3_initialize; if something in
 * the process initialised SQLite already it returns SQLITE_MISUSE and the
 * defaults stay, which is only slower). MEMSTATUS off: SQLite otherwise
 * takes one global mutex (shared by every connection, every thread) around
 * each of its allocations just to keep sqlite3_memory_used() statistics,
 * which latchkey never reads — a dozen lock/unlock pairs per request on the
 * hot path. */
static pthread_once_t config_once = PTHREAD_ONCE_INIT;

static void config_process(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Busy handler: wait for another connection's lock in short naps (50 µs,
 * then 200 µs, then 1 ms) instead of SQLite's default schedule (1, 2, 5,
 * 10 ... 100 ms), which keeps an event loop asleep for whole milliseconds
 * after the lock is free: with two loops creating keys it gave a p99 near
 * one second (docs/performance.md). Gives up after the busy timeout, and
 * the statement then fails with SQLITE_BUSY (LK_EUNAVAILABLE). */
static int busy_wait(void *arg, int count)
{
    sqlite_store *s = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    if (count == 0) s->busy_since_ns = ns;
    if (ns - s->busy_since_ns >= (int64_t)LK_SQLITE_BUSY_TIMEOUT_MS * 1000000) return 0;
    struct timespec nap = {0, count < 20 ? 50000 : count < 200 ? 200000 : 1000000};
    nanosleep(&nap, NULL);
    return 1;
}

static int sqlite_open(const char *url, lk_store **out, lk_err *e)
{
    *out = NULL;
    pthread_once(&config_once, config_process);
    if (lk_store_url_is(url, LK_STORE_SQLITE_SCHEME)) url += strlen(LK_STORE_SQLITE_SCHEME);
    if (url[0] == '\0') return lk_err_set(e, LK_EINTERNAL, "sqlite: empty database path");

    sqlite_store *s = calloc(1, sizeof *s);
    if (s == NULL) return lk_err_set(e, LK_ENOMEM, NULL);
    s->base.ops = &lk_store_sqlite_ops;
    lk_err_clear(&s->base.err);
    s->opening = true;

    int ret;
    /* --- account: files this connection creates (the database, -wal,
     * -shm) are the owner's only. umask is per process: latchkeyd opens
     * every connection before it starts a thread, and creates no other
     * files, so nothing else is created under the narrowed mask. SQLite
     * gives -wal and -shm the database file's mode in any case. */
    mode_t mask = umask(LK_SQLITE_UMASK);
    int rc = sqlite3_open_v2(
        url, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        umask(mask);
        ret = fail(s, rc, NULL);
        goto out;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_handler(s->db, busy_wait, s);
    /* journal_mode=WAL is persistent in the file; the others per connection. */
    ret = set_wal(s); /* creates -wal and -shm */
    umask(mask);
    if (ret != LK_OK) goto out;
    if ((ret = exec(s, "PRAGMA synchronous=FULL", "PRAGMA synchronous=FULL")) != LK_OK) goto out;
    if ((ret = pragma_expect(s, "PRAGMA synchronous", "2")) != LK_OK) goto out;
    if ((ret = exec(s, "PRAGMA foreign_keys=ON", "PRAGMA foreign_keys=ON")) != LK_OK) goto out;
    if ((ret = pragma_expect(s, "PRAGMA foreign_keys", "1")) != LK_OK) goto out;
    ret = LK_OK;
    s->opening = false;
out:
    if (ret != LK_OK) {
        if (e) *e = s->base.err;
        sqlite_close(&s->base);
        return ret;
    }
    *out = &s->base;
    return LK_OK;
}

/* Run one-off SQL that returns no rows (a statement prepared by hand). */
static int exec_fmt(sqlite_store *s, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int exec_fmt(sqlite_store *s, const char *what, const char *fmt, ...)
{
    char sql[LK_SCHEMA_SQL_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    assert(n > 0 && (size_t)n < sizeof sql);
    if (n <= 0 || (size_t)n >= sizeof sql)
        return lk_err_set(&s->base.err, LK_EINTERNAL, "migrate: statement too long");
    return exec(s, sql, what);
}

/* The copy of one table's rows from <t>_v1 into the new <t>: its inserted
 * columns, and seq from the old rowid (which is the old seq where there
 * was one), so every cursor and every order survives. A column the old
 * table does not have (one a later version adds, already in schema.c's
 * description) takes its default. */
static bool schema_has(sqlite_store *s, const char *table, const char *column);
static int add_missing_columns(sqlite_store *s, const lk_table *t, const char *const *cols,
                               size_t n, const char *then, const char *what);

static int copy_rows(sqlite_store *s, const lk_table *t)
{
    char cols[LK_SCHEMA_SQL_MAX] = "", *p = cols, old[LK_NAME_SIZE];
    bool has_seq = false;
    snprintf(old, sizeof old, "%s_v1", t->name);
    for (int i = 0; i < t->ncols; i++) {
        has_seq |= t->cols[i].type == LK_COL_SEQ;
        if (!lk_col_inserted(&t->cols[i])) continue;
        /* A column a later version adds is not in the v1 table: it takes
         * its DEFAULT here, and that version finds it already there. */
        if (!schema_has(s, old, t->cols[i].name)) continue;
        p += snprintf(p, sizeof cols - (size_t)(p - cols), "%s%s", p == cols ? "" : ", ",
                      t->cols[i].name);
    }
    int ret =
        exec_fmt(s, "migrate: copy", "INSERT INTO %s (%s%s) SELECT %s%s FROM %s_v1 ORDER BY rowid",
                 t->name, has_seq ? "seq, " : "", cols, has_seq ? "rowid, " : "", cols, t->name);
    if (ret != LK_OK || !has_seq) return ret;
    /* AUTOINCREMENT never reuses a seq: carry the old high-water mark. */
    ret = exec_fmt(s, "migrate: sequence",
                   "INSERT INTO sqlite_sequence(name, seq) SELECT '%s', 0 WHERE NOT EXISTS "
                   "(SELECT 1 FROM sqlite_sequence WHERE name = '%s');"
                   "UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM sqlite_sequence "
                   "WHERE name IN ('%s', '%s_v1')) WHERE name = '%s'",
                   t->name, t->name, t->name, t->name, t->name);
    return ret;
}

/* Version 2: every table rebuilt from schema.c's description, so SQLite
 * has exactly the constraints PostgreSQL has (CHECKs on plan and on key
 * type/owner, users.seq and billing.seq, the same indexes). SQLite cannot
 * add a CHECK by ALTER: each table is renamed to <t>_v1, created anew and
 * refilled, then the old ones dropped, all in the caller's transaction with
 * foreign_keys off (so the drops cascade nothing) and a foreign_key_check
 * before commit. */
static int rebuild_tables(sqlite_store *s)
{
    char ddl[LK_SCHEMA_SQL_MAX];
    int ret = LK_OK;
    for (int i = 0; lk_schema_tables[i] && ret == LK_OK; i++) {
        const lk_table *t = lk_schema_tables[i];
        /* a table a later version adds is not in a v1 file: its own
         * migration creates it from the description */
        if (!schema_has(s, t->name, NULL)) continue;
        if (lk_schema_table_ddl(t, &lk_dialect_sqlite, ddl, sizeof ddl) != 0)
            return lk_err_set(&s->base.err, LK_EINTERNAL, "migrate: schema text too long");
        ret = exec_fmt(s, "migrate: rename", "ALTER TABLE %s RENAME TO %s_v1", t->name, t->name);
        if (ret == LK_OK) ret = exec(s, ddl, "migrate: create");
        if (ret == LK_OK) ret = copy_rows(s, t);
    }
    for (int i = 0; lk_schema_tables[i] && ret == LK_OK; i++) {
        char old[LK_SCHEMA_SQL_MAX];
        snprintf(old, sizeof old, "%s_v1", lk_schema_tables[i]->name);
        if (schema_has(s, old, NULL)) ret = exec_fmt(s, "migrate: drop", "DROP TABLE %s", old);
    }
    if (ret != LK_OK) return ret;
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &q, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc == SQLITE_ROW)
        return lk_err_set(&s->base.err, LK_EINTERNAL, "migrate: a foreign key points nowhere");
    return rc == SQLITE_DONE ? LK_OK : fail(s, rc, "migrate: foreign_key_check");
}

static int apply_v1(sqlite_store *s)
{
    return exec(s, schema_v1, "migrate");
}

/* --- scopes: version 3, the columns of lk_schema_scopes_cols, each added
 * from its description unless version 2 (which builds today's tables from
 * the description) already made it. */
static int add_scope_columns(sqlite_store *s)
{
    char ddl[LK_SCHEMA_SQL_MAX];
    int ret = LK_OK;
    for (const lk_schema_added_col *c = lk_schema_scopes_cols; c->table && ret == LK_OK; c++) {
        if (schema_has(s, c->table->name, c->column)) continue;
        if (lk_schema_column_ddl(c->table, c->column, &lk_dialect_sqlite, ddl, sizeof ddl) != 0)
            return lk_err_set(&s->base.err, LK_EINTERNAL, "migrate: no such column");
        ret = exec(s, ddl, "migrate: add column");
    }
    return ret;
}

/* --- account: the migration that gives sessions an id, an address, a
 * user agent and last_seen_at --- */

/* Each session column of the description the table lacks is added (a
 * database whose version 2 rebuild already created them has them all);
 * sessions from before get an id (20 hex digits are base62),
 * last_seen_at = created_at and created_us from created_at; then the id
 * index. */
static int apply_account(sqlite_store *s)
{
    static const char *const cols[] = {"id", "ip", "user_agent", "last_seen_at", "created_us"};
    return add_missing_columns(
        s, &lk_schema_sessions, cols, sizeof cols / sizeof cols[0],
        "UPDATE sessions SET id = 'ses_' || lower(hex(randomblob(10))) WHERE id = '';"
        "UPDATE sessions SET last_seen_at = created_at WHERE last_seen_at = 0;"
        "UPDATE sessions SET created_us = created_at * 1000000 WHERE created_us = 0;"
        "CREATE UNIQUE INDEX IF NOT EXISTS sessions_id ON sessions (id) WHERE id <> '';",
        "migrate: session ids");
}

/* --- roles and invitations: schema version 3 --- */
/* Does the table exist (column NULL), or does it have that column? */
static bool schema_has(sqlite_store *s, const char *table, const char *column)
{
    sqlite3_stmt *q = NULL;
    const char *sql = column ? "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2"
                             : "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1";
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) return false;
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    if (column) sqlite3_bind_text(q, 2, column, -1, SQLITE_STATIC);
    bool has = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    return has;
}

/* A migration that adds columns: each of t's columns in cols that the
 * table lacks is added from schema.c's description (a database whose
 * version-2 rebuild ran with this build has them already). */
/* Add those of t's columns cols[0..n) the table lacks (from schema.c's
 * description); then run `then` (NULL: nothing; `what` names it). */
static int add_missing_columns(sqlite_store *s, const lk_table *t, const char *const *cols,
                               size_t n, const char *then, const char *what)
{
    char ddl[LK_SCHEMA_SQL_MAX];
    int ret = LK_OK;
    for (size_t i = 0; i < n && ret == LK_OK; i++) {
        if (schema_has(s, t->name, cols[i])) continue;
        if (lk_schema_column_ddl(t, cols[i], &lk_dialect_sqlite, ddl, sizeof ddl) != 0)
            return lk_err_set(&s->base.err, LK_EINTERNAL, "migrate: no such column");
        ret = exec(s, ddl, "migrate: add column");
    }
    return ret == LK_OK && then ? exec(s, then, what) : ret;
}

/* Version 3: members.role (every existing member becomes an owner, the
 * column's default) and the invitations table. Version 2 rebuilds tables
 * from the current description, so on a v1 file it has made both already
 * (the role column by its DEFAULT): each step runs only if missing. */
static int apply_roles(sqlite_store *s)
{
    char ddl[LK_SCHEMA_SQL_MAX];
    int ret = LK_OK;
    if (!schema_has(s, "members", LK_SCHEMA_ROLE_COLUMN)) {
        if (lk_schema_column_ddl(&lk_schema_members, LK_SCHEMA_ROLE_COLUMN, &lk_dialect_sqlite, ddl,
                                 sizeof ddl) != 0)
            return lk_err_set(&s->base.err, LK_EINTERNAL, "migrate: schema text too long");
        ret = exec(s, ddl, "migrate: members.role");
    }
    if (ret == LK_OK && !schema_has(s, lk_schema_invitations.name, NULL)) {
        if (lk_schema_table_ddl(&lk_schema_invitations, &lk_dialect_sqlite, ddl, sizeof ddl) != 0)
            return lk_err_set(&s->base.err, LK_EINTERNAL, "migrate: schema text too long");
        ret = exec(s, ddl, "migrate: invitations");
    }
    return ret;
}
/* --- end roles and invitations: schema version 3 --- */

/* --- rotate --- version 3: a key's previous token (prev_hash, UNIQUE, and
 * prev_expires_at), from schema.c's description. Version 2 rebuilds every
 * table from the description as it is now, so on a database that came
 * through version 2 with this build the columns exist already: each step
 * is skipped when its result is there. */
static int add_key_previous(sqlite_store *s)
{
    static const char *const cols[] = {"prev_hash", "prev_expires_at"};
    return add_missing_columns(s, &lk_schema_keys, cols, sizeof cols / sizeof cols[0],
                               "CREATE UNIQUE INDEX IF NOT EXISTS access_keys_prev_hash "
                               "ON access_keys (prev_hash);"
                               "CREATE INDEX IF NOT EXISTS access_keys_prev_expiry "
                               "ON access_keys (prev_expires_at) WHERE prev_hash IS NOT NULL",
                               "migrate: index");
}

/* --- device --- version 7: the device_requests table, from schema.c. */
static int create_device_table(sqlite_store *s)
{
    char ddl[LK_SCHEMA_SQL_MAX];
    if (lk_schema_table_ddl(&lk_schema_device, &lk_dialect_sqlite, ddl, sizeof ddl) != 0)
        return lk_err_set(&s->base.err, LK_EINTERNAL, "migrate: schema text too long");
    return exec(s, ddl, "migrate: device_requests");
}

/* --- audit --- */
/* Version 8: the audit_events table, from schema.c's description. */
static int apply_audit(sqlite_store *s)
{
    char ddl[LK_SCHEMA_SQL_MAX];
    if (lk_schema_table_ddl(&lk_schema_audit, &lk_dialect_sqlite, ddl, sizeof ddl) != 0)
        return lk_err_set(&s->base.err, LK_EINTERNAL, "migrate: schema text too long");
    return exec(s, ddl, "migrate: audit_events");
}

/* --- leak reports --- version 9: leaked_token_reports, from schema.c. */
static int create_leak_reports(sqlite_store *s)
{
    char ddl[LK_SCHEMA_SQL_MAX];
    if (lk_schema_table_ddl(&lk_schema_leak_reports, &lk_dialect_sqlite, ddl, sizeof ddl) != 0)
        return lk_err_set(&s->base.err, LK_EINTERNAL, "migrate: schema text too long");
    return exec(s, ddl, "migrate: leaked_token_reports");
}

/* One version of the schema, applied in one transaction. Append only. */
static const struct {
    int (*apply)(sqlite_store *s);
    bool fk_off; /* rebuilds tables: foreign_keys off around the transaction */
} migrations[] = {
    {apply_v1, false},      /* 1: as released */
    {rebuild_tables, true}, /* 2: schema.c's constraints */
    {add_scope_columns, false}, /* 3: scopes */
    {apply_account, false},     /* 4: account (issue 13 B) */
    {apply_roles, false},       /* 5: roles and invitations */
    {add_key_previous, false},  /* 6: key rotation (previous token) */
    {create_device_table, false}, /* 7: device sign-ins from the CLI */
    {apply_audit, false},         /* 8: the audit log (audit_events) */
    {create_leak_reports, false}, /* 9: leaked-token report counts */
};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

/* A file migrated by a newer latchkeyd (a version this build does not know)
 * is refused rather than used with a schema this code was not written for. */
static int refuse_newer_schema(sqlite_store *s)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(s->db, "SELECT coalesce(max(version), 0) FROM schema_migrations",
                                -1, &q, NULL);
    if (rc != SQLITE_OK) return fail(s, rc, "migrate");
    rc = sqlite3_step(q);
    int64_t have = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW) return fail(s, rc, "migrate");
    if (have <= N_MIGRATIONS) return LK_OK;
    return lk_store_err_schema_newer(&s->base.err, (long long)have, N_MIGRATIONS);
}

/* Step `sql` with ?1 = v: SQLITE_ROW, SQLITE_DONE or an error code. */
static int step_version(sqlite_store *s, const char *sql, int v)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(q, 1, v);
        rc = sqlite3_step(q);
    }
    sqlite3_finalize(q);
    return rc;
}

/* Apply version v unless it is recorded already (maybe by another
 * process), in one BEGIN IMMEDIATE transaction. */
static int apply_version(sqlite_store *s, int v)
{
    assert(s->tx_depth == 0 && v >= 1 && v <= N_MIGRATIONS);
    int ret = tx_begin(s);
    if (ret != LK_OK) return ret;
    int rc = step_version(s, "SELECT 1 FROM schema_migrations WHERE version = ?1", v);
    if (rc == SQLITE_ROW) return tx_end(s, LK_OK);
    if (rc != SQLITE_DONE) return tx_end(s, fail(s, rc, "migrate"));
    if ((ret = migrations[v - 1].apply(s)) == LK_OK) {
        rc = step_version(s, "INSERT INTO schema_migrations(version) VALUES(?1)", v);
        if (rc != SQLITE_DONE) ret = fail(s, rc, "migrate");
    }
    return tx_end(s, ret);
}

static int sqlite_migrate(lk_store *st)
{
    sqlite_store *s = S(st);
    int ret = exec(s,
                   "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " version INTEGER PRIMARY KEY NOT NULL,"
                   " applied_at INTEGER NOT NULL DEFAULT (strftime('%s','now')))",
                   "migrate");
    if (ret != LK_OK) return ret;
    if ((ret = refuse_newer_schema(s)) != LK_OK) return ret;
    for (int v = 1; v <= N_MIGRATIONS && ret == LK_OK; v++) {
        /* a no-op inside a transaction: so it is set before BEGIN */
        if (migrations[v - 1].fk_off) ret = exec(s, "PRAGMA foreign_keys=OFF", "migrate");
        if (ret == LK_OK) ret = apply_version(s, v);
        if (migrations[v - 1].fk_off) {
            int on = exec(s, "PRAGMA foreign_keys=ON", "migrate");
            if (ret == LK_OK) ret = on;
            if (ret == LK_OK) ret = pragma_expect(s, "PRAGMA foreign_keys", "1");
        }
    }
    return ret;
}

static int sqlite_ping(lk_store *st)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_PING);
    if (q == NULL) return s->base.err.code;
    int ret = run_row(s, q, "ping");
    if (ret == LK_OK) sqlite3_reset(q);
    return ret;
}

/* -- rows: read and bind by the schema description ------------------------- */

/* Read view v of table t from result columns `col`… into row (a struct of
 * t's row type, or its record). Returns the column after the last read. */
static int read_cols(sqlite3_stmt *q, int col, const lk_table *t, lk_view v, void *row)
{
    char *base = row;
    for (int i = 0; i < t->ncols; i++) {
        const lk_col *c = &t->cols[i];
        if (!lk_col_in(t, c, v)) continue;
        char *f = base + c->off;
        switch (c->type) {
        case LK_COL_TEXT:
        case LK_COL_OPT_TEXT:
            col_text(q, col, f, c->size);
            break;
        case LK_COL_I64:
        case LK_COL_SEQ: {
            int64_t x = sqlite3_column_int64(q, col);
            memcpy(f, &x, sizeof x);
            break;
        }
        case LK_COL_INT: {
            int x = sqlite3_column_int(q, col);
            memcpy(f, &x, sizeof x);
            break;
        }
        case LK_COL_HASH:
        case LK_COL_OPT_HASH: {
            const void *h = sqlite3_column_blob(q, col);
            if (h && (size_t)sqlite3_column_bytes(q, col) == c->size)
                memcpy(f, h, c->size);
            else if (c->type == LK_COL_OPT_HASH)
                memset(f, 0, c->size); /* NULL: none */
            break;
        }
        }
        col++;
    }
    return col;
}

/* Bind the inserted columns of t from row as ?1, ?2 … ({t:insert}). */
static void bind_cols(sqlite3_stmt *q, const lk_table *t, const void *row)
{
    const char *base = row;
    int p = 1;
    for (int i = 0; i < t->ncols; i++) {
        const lk_col *c = &t->cols[i];
        if (!lk_col_inserted(c)) continue;
        const char *f = base + c->off;
        int64_t x = 0;
        switch (c->type) {
        case LK_COL_TEXT:
            bind_text(q, p, f);
            break;
        case LK_COL_OPT_TEXT:
            bind_opt_text(q, p, f);
            break;
        case LK_COL_I64:
        case LK_COL_SEQ:
            memcpy(&x, f, sizeof x);
            sqlite3_bind_int64(q, p, x);
            break;
        case LK_COL_INT: {
            int v;
            memcpy(&v, f, sizeof v);
            sqlite3_bind_int(q, p, v);
            break;
        }
        case LK_COL_HASH:
            sqlite3_bind_blob(q, p, f, (int)c->size, SQLITE_STATIC);
            break;
        case LK_COL_OPT_HASH:
            if (sodium_is_zero((const unsigned char *)f, c->size))
                sqlite3_bind_null(q, p);
            else
                sqlite3_bind_blob(q, p, f, (int)c->size, SQLITE_STATIC);
            break;
        }
        p++;
    }
}

/* Insert row into t with statement id ({t:insert}). */
static int insert_row(sqlite_store *s, int id, const lk_table *t, const void *row, const char *what)
{
    sqlite3_stmt *q = stmt_get(s, id);
    if (q == NULL) return s->base.err.code;
    bind_cols(q, t, row);
    return run_write(s, q, what, false);
}

/* The look-up keys of a get/write: text ids, or a token hash. */
typedef struct lookup {
    const char *a, *b, *c; /* ?1, ?2, ?3 (NULL: unused) */
    const uint8_t *hash;   /* ?1 instead of a */
} lookup;

static sqlite3_stmt *stmt_bound(sqlite_store *s, int id, const lookup *k)
{
    sqlite3_stmt *q = stmt_get(s, id);
    if (q == NULL) return NULL;
    if (k->hash) bind_hash(q, 1, k->hash);
    if (k->a) bind_text(q, 1, k->a);
    if (k->b) bind_text(q, 2, k->b);
    if (k->c) bind_text(q, 3, k->c);
    return q;
}

/* One row of statement id into out (view v of t). */
static int get_row(sqlite_store *s, int id, const lookup *k, const lk_table *t, lk_view v,
                   void *out, const char *what)
{
    sqlite3_stmt *q = stmt_bound(s, id, k);
    if (q == NULL) return s->base.err.code;
    int ret = run_row(s, q, what);
    if (ret != LK_OK) return ret;
    read_cols(q, 0, t, v, out);
    sqlite3_reset(q);
    return LK_OK;
}

/* A write addressed by keys; LK_ENOT_FOUND naming `what` if no row. */
static int write_by(sqlite_store *s, int id, const lookup *k, const char *what)
{
    sqlite3_stmt *q = stmt_bound(s, id, k);
    if (q == NULL) return s->base.err.code;
    return run_write(s, q, what, true);
}

/* Step a bound statement, reading view v of t into a record of `kind` for
 * each row and handing it to sink (the record itself for a dump sink, else
 * its member). The statement is reset on every exit. */
static int list_rows(sqlite_store *s, sqlite3_stmt *q, const lk_table *t, lk_view v,
                     lk_record_kind kind, const lk_row_sink *sink)
{
    lk_record row;
    assert(t->row_size <= sizeof row.as);
    int rc, ret = LK_OK;
    row.kind = kind;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        memset(&row.as, 0, t->row_size); /* the table's record, not the whole union */
        read_cols(q, 0, t, v, &row.as);
        const void *arg = sink->kind == LK_SINK_RECORD ? (const void *)&row : &row.as;
        if ((ret = lk_row_sink_call(sink, arg)) != 0) break;
    }
    sqlite3_reset(q);
    if (ret == LK_OK && rc != SQLITE_DONE) ret = fail(s, rc, t->name);
    sodium_memzero(&row.as, t->row_size); /* may have held a password or token hash */
    return ret;
}

/* A list: ?1 owner, ?2 before, ?3 limit (?4 now for keys and invitations). */
static int list_page(sqlite_store *s, int id, const char *owner, const lk_page *pg,
                     const int64_t *now, const lk_table *t, const lk_row_sink *sink)
{
    sqlite3_stmt *q = stmt_get(s, id);
    if (q == NULL) return s->base.err.code;
    assert(pg == NULL || (pg->limit >= 1 && pg->limit <= LK_STORE_PAGE_MAX));
    bind_text(q, 1, owner);
    sqlite3_bind_int64(q, 2, before_of(pg));
    sqlite3_bind_int(q, 3, limit_of(pg));
    if (now) sqlite3_bind_int64(q, 4, *now);
    return list_rows(s, q, t, LK_VIEW_RECORD, sink->kind, sink);
}

/* -- users and sessions ---------------------------------------------------- */

static int sqlite_user_create(lk_store *st, const lk_user *u, const char *email_lower,
                              const char *pwhash)
{
    sqlite_store *s = S(st);
    lk_user_row *row = calloc(1, sizeof *row);
    if (row == NULL) return lk_err_set(&s->base.err, LK_ENOMEM, NULL);
    row->user = *u;
    snprintf(row->email_lower, sizeof row->email_lower, "%s", email_lower);
    snprintf(row->pwhash, sizeof row->pwhash, "%s", pwhash);
    int ret = insert_row(s, S_USER_INSERT, &lk_schema_users, row, "user");
    if (ret == LK_ECONFLICT) lk_err_set(&s->base.err, LK_ECONFLICT, "email is already registered");
    sodium_memzero(row, sizeof *row);
    free(row);
    return ret;
}

static int sqlite_user_get(lk_store *st, const char *id, lk_user *out)
{
    return get_row(S(st), S_USER_GET, &(lookup){.a = id}, &lk_schema_users, LK_VIEW_RECORD, out,
                   "user");
}

static int sqlite_user_get_by_email(lk_store *st, const char *email_lower, lk_user *out,
                                    char *pwhash)
{
    sqlite_store *s = S(st);
    lk_user_row *row = calloc(1, sizeof *row);
    if (row == NULL) return lk_err_set(&s->base.err, LK_ENOMEM, NULL);
    int ret = get_row(s, S_USER_GET_BY_EMAIL, &(lookup){.a = email_lower}, &lk_schema_users,
                      LK_VIEW_ROW, row, "user");
    if (ret == LK_OK) {
        *out = row->user;
        if (pwhash) memcpy(pwhash, row->pwhash, LK_PWHASH_SIZE);
    }
    sodium_memzero(row, sizeof *row);
    free(row);
    return ret;
}

static int sqlite_user_rename(lk_store *st, const char *id, const char *name)
{
    return write_by(S(st), S_USER_RENAME, &(lookup){.a = id, .b = name}, "user");
}

static int sqlite_session_create(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                                 const lk_session *ses)
{
    lk_session_row row = {.session = *ses};
    memcpy(row.hash, hash, LK_TOKEN_HASH_LEN);
    return insert_row(S(st), S_SESSION_INSERT, &lk_schema_sessions, &row, "session");
}

static int sqlite_session_get(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_session *out)
{
    return get_row(S(st), S_SESSION_GET, &(lookup){.hash = hash}, &lk_schema_sessions,
                   LK_VIEW_RECORD, out, "session");
}

static int sqlite_session_delete(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN])
{
    return write_by(S(st), S_SESSION_DELETE, &(lookup){.hash = hash}, "session");
}

/* -- organizations and members --------------------------------------------- */

static int insert_member(sqlite_store *s, const lk_member *m)
{
    int ret = insert_row(s, S_MEMBER_INSERT, &lk_schema_members, m, "member");
    if (ret == LK_ECONFLICT) lk_err_set(&s->base.err, LK_ECONFLICT, "already a member");
    return ret;
}

static int sqlite_org_create(lk_store *st, const lk_org *o, const char *creator_id,
                             const char *billing_email)
{
    sqlite_store *s = S(st);
    int ret = tx_begin(s);
    if (ret != LK_OK) return ret;
    lk_billing b = {.updated_at = o->created_at};
    snprintf(b.org_id, sizeof b.org_id, "%s", o->id);
    snprintf(b.plan, sizeof b.plan, "%s", LK_PLAN_DEFAULT);
    snprintf(b.billing_email, sizeof b.billing_email, "%s", billing_email ? billing_email : "");
    lk_member m = {.joined_at = o->created_at, .role = LK_ROLE_OWNER};
    snprintf(m.org_id, sizeof m.org_id, "%s", o->id);
    snprintf(m.user_id, sizeof m.user_id, "%s", creator_id);
    if ((ret = insert_row(s, S_ORG_INSERT, &lk_schema_orgs, o, "organization")) != LK_OK) goto out;
    if ((ret = insert_member(s, &m)) != LK_OK) goto out;
    ret = insert_row(s, S_BILLING_INSERT, &lk_schema_billing, &b, "billing");
out:
    return tx_end(s, ret);
}

static int sqlite_org_get(lk_store *st, const char *id, lk_org *out)
{
    return get_row(S(st), S_ORG_GET, &(lookup){.a = id}, &lk_schema_orgs, LK_VIEW_RECORD, out,
                   "organization");
}

static int sqlite_org_rename(lk_store *st, const char *id, const char *name)
{
    return write_by(S(st), S_ORG_RENAME, &(lookup){.a = id, .b = name}, "organization");
}

/* One DELETE: members, projects (and through them environments), billing
 * and access keys go with it by ON DELETE CASCADE, atomically. */
static int sqlite_org_delete(lk_store *st, const char *id)
{
    return write_by(S(st), S_ORG_DELETE, &(lookup){.a = id}, "organization");
}

static int sqlite_org_list_for_user(lk_store *st, const char *user_id, const lk_page *pg,
                                    lk_org_cb cb, void *ctx)
{
    lk_row_sink sink = {.kind = LK_REC_ORG, .cb.org = cb, .ctx = ctx};
    return list_page(S(st), S_ORG_LIST_FOR_USER, user_id, pg, NULL, &lk_schema_orgs, &sink);
}

static int sqlite_member_check(lk_store *st, const char *org_id, const char *user_id)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_bound(s, S_MEMBER_CHECK, &(lookup){.a = org_id, .b = user_id});
    if (q == NULL) return s->base.err.code;
    int ret = run_row(s, q, "member");
    if (ret == LK_OK) sqlite3_reset(q);
    return ret;
}

static int sqlite_member_add(lk_store *st, const char *org_id, const char *user_id,
                             int64_t joined_at)
{
    lk_member m = {.joined_at = joined_at, .role = LK_ROLE_MEMBER};
    snprintf(m.org_id, sizeof m.org_id, "%s", org_id);
    snprintf(m.user_id, sizeof m.user_id, "%s", user_id);
    return insert_member(S(st), &m);
}

static int sqlite_member_remove(lk_store *st, const char *org_id, const char *user_id)
{
    return write_by(S(st), S_MEMBER_DELETE, &(lookup){.a = org_id, .b = user_id}, "member");
}

/* The org's membership as the last-member and last-owner rules need it;
 * LK_ENOT_FOUND if user_id is not a member. Run inside tx_begin (BEGIN
 * IMMEDIATE, or a savepoint inside the caller's begin(), which holds the
 * write lock already): no other connection writes between this count and
 * the caller's write, so two removals cannot both see "2". */
typedef struct member_state {
    int64_t members, owners;
    bool is_member, is_owner; /* of user_id */
} member_state;

static int member_state_get(sqlite_store *s, const char *org_id, const char *user_id,
                            member_state *out)
{
    sqlite3_stmt *q = stmt_bound(s, S_MEMBER_STATE, &(lookup){.a = org_id, .b = user_id});
    if (q == NULL) return s->base.err.code;
    int ret = run_row(s, q, "member");
    if (ret != LK_OK) return ret;
    out->members = sqlite3_column_int64(q, 0);
    out->is_member = sqlite3_column_int(q, 1) != 0;
    out->owners = sqlite3_column_int64(q, 2);
    out->is_owner = sqlite3_column_int(q, 3) != 0;
    sqlite3_reset(q);
    return out->is_member ? LK_OK : not_found(s, "member");
}

/* Count and delete in one write transaction (member_state_get). */
static int sqlite_member_remove_unless_last(lk_store *st, const char *org_id, const char *user_id)
{
    sqlite_store *s = S(st);
    int ret = tx_begin(s);
    if (ret != LK_OK) return ret;
    member_state m;
    if ((ret = member_state_get(s, org_id, user_id, &m)) != LK_OK) goto out;
    if (m.members <= 1)
        ret = lk_err_set(&s->base.err, LK_ECONFLICT, LK_STORE_LAST_MEMBER);
    else if (m.is_owner && m.owners <= 1)
        ret = lk_err_set(&s->base.err, LK_ECONFLICT, LK_STORE_LAST_OWNER);
    else
        ret = sqlite_member_remove(st, org_id, user_id);
out:
    return tx_end(s, ret);
}

static int sqlite_member_count(lk_store *st, const char *org_id, int64_t *out)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_bound(s, S_MEMBER_COUNT, &(lookup){.a = org_id});
    if (q == NULL) return s->base.err.code;
    int ret = run_row(s, q, "member count");
    if (ret != LK_OK) return ret;
    *out = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return LK_OK;
}

static int sqlite_member_list(lk_store *st, const char *org_id, const lk_page *pg, lk_member_cb cb,
                              void *ctx)
{
    lk_row_sink sink = {.kind = LK_REC_MEMBER, .cb.member = cb, .ctx = ctx};
    return list_page(S(st), S_MEMBER_LIST, org_id, pg, NULL, &lk_schema_members, &sink);
}

/* -- projects and environments: named children (schema.h's lk_child) ------ */

static int sqlite_child_create(lk_store *st, lk_child_kind kind, const void *row)
{
    assert(kind < LK_CHILD_KINDS);
    const lk_child *c = &lk_schema_children[kind];
    return insert_row(S(st), S_CHILD(kind, C_INSERT), c->table, row, c->what);
}

static int sqlite_child_get(lk_store *st, lk_child_kind kind, const char *parent_id,
                            const char *id, void *out)
{
    assert(kind < LK_CHILD_KINDS);
    const lk_child *c = &lk_schema_children[kind];
    return get_row(S(st), S_CHILD(kind, C_GET), &(lookup){.a = parent_id, .b = id}, c->table,
                   LK_VIEW_RECORD, out, c->what);
}

static int sqlite_child_rename(lk_store *st, lk_child_kind kind, const char *parent_id,
                               const char *id, const char *name)
{
    assert(kind < LK_CHILD_KINDS);
    return write_by(S(st), S_CHILD(kind, C_RENAME), &(lookup){.a = parent_id, .b = id, .c = name},
                    lk_schema_children[kind].what);
}

static int sqlite_child_delete(lk_store *st, lk_child_kind kind, const char *parent_id,
                               const char *id)
{
    assert(kind < LK_CHILD_KINDS);
    return write_by(S(st), S_CHILD(kind, C_DELETE), &(lookup){.a = parent_id, .b = id},
                    lk_schema_children[kind].what);
}

static int sqlite_child_list(lk_store *st, lk_child_kind kind, const char *parent_id,
                             const lk_page *pg, lk_row_cb cb, void *ctx)
{
    assert(kind < LK_CHILD_KINDS);
    const lk_child *c = &lk_schema_children[kind];
    lk_row_sink sink = {.kind = c->kind, .cb = cb, .ctx = ctx};
    return list_page(S(st), S_CHILD(kind, C_LIST), parent_id, pg, NULL, c->table, &sink);
}

static int sqlite_billing_get(lk_store *st, const char *org_id, lk_billing *out)
{
    return get_row(S(st), S_BILLING_GET, &(lookup){.a = org_id}, &lk_schema_billing, LK_VIEW_RECORD,
                   out, "billing");
}

static int sqlite_billing_set(lk_store *st, const lk_billing *b)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_bound(s, S_BILLING_UPDATE,
                                 &(lookup){.a = b->org_id, .b = b->plan, .c = b->billing_email});
    if (q == NULL) return s->base.err.code;
    sqlite3_bind_int64(q, 4, b->updated_at);
    return run_write(s, q, "billing", true);
}

/* -- access keys ------------------------------------------------------------ */

static int sqlite_key_create(lk_store *st, const lk_key *k, const uint8_t hash[LK_TOKEN_HASH_LEN])
{
    lk_key_row row;
    lk_key_row_of(k, hash, &row);
    return insert_row(S(st), S_KEY_INSERT, &lk_schema_keys, &row, "access key");
}

static int sqlite_key_get(lk_store *st, const char *id, lk_key *out)
{
    return get_row(S(st), S_KEY_GET, &(lookup){.a = id}, &lk_schema_keys, LK_VIEW_RECORD, out,
                   "access key");
}

/* The hot path: one probe of the UNIQUE index on hash, no allocation here. */
/* The key cache, synced with the database's state (keycache.h), or NULL
 * inside a transaction (the writer's batch: read the database itself). */
static lk_keycache *key_cache(sqlite_store *s)
{
    if (s->tx_depth != 0) return NULL;
    sqlite3_stmt *q = stmt_get(s, S_DATA_VERSION);
    if (q == NULL) return NULL;
    int rc = sqlite3_step(q);
    int64_t dv = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if (rc != SQLITE_ROW) return NULL;
    lk_keycache_sync(&s->kc, dv, sqlite3_total_changes64(s->db));
    return &s->kc;
}

/* A cached answer for hash (need_owner: with the owner rows), or NULL. */
static const lk_keycache_entry *key_cached(sqlite_store *s, lk_keycache *kc, const uint8_t *hash,
                                           bool need_owner)
{
    if (kc == NULL) return NULL;
    const lk_keycache_entry *e = lk_keycache_find(kc, hash, need_owner, (int64_t)time(NULL));
    if (e != NULL && e->rc != LK_OK) not_found(s, "access key");
    return e;
}

static int sqlite_key_get_by_hash(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_key *out)
{
    sqlite_store *s = S(st);
    lk_keycache *kc = key_cache(s);
    const lk_keycache_entry *e = key_cached(s, kc, hash, false);
    if (e != NULL) {
        if (e->rc == LK_OK) *out = e->key;
        return e->rc;
    }
    int rc = get_row(s, S_KEY_GET_BY_HASH, &(lookup){.hash = hash}, &lk_schema_keys,
                     LK_VIEW_RECORD, out, "access key");
    if (kc != NULL && (rc == LK_OK || rc == LK_ENOT_FOUND))
        lk_keycache_put(kc, hash, rc, out, NULL, NULL);
    return rc;
}

/* The key's columns, then the user's and the org's, NULL when the LEFT
 * JOIN found nothing. */
static int key_owner_read(sqlite_store *s, const uint8_t *hash, lk_key *key, lk_user *user,
                          lk_org *org)
{
    sqlite3_stmt *q = stmt_bound(s, S_KEY_GET_BY_HASH_OWNER, &(lookup){.hash = hash});
    if (q == NULL) return s->base.err.code;
    int ret = run_row(s, q, "access key");
    if (ret != LK_OK) return ret;
    memset(user, 0, sizeof *user);
    memset(org, 0, sizeof *org);
    int col = read_cols(q, 0, &lk_schema_keys, LK_VIEW_RECORD, key);
    if (sqlite3_column_type(q, col) != SQLITE_NULL)
        read_cols(q, col, &lk_schema_users, LK_VIEW_RECORD, user);
    col += lk_schema_ncols(&lk_schema_users, LK_VIEW_RECORD);
    if (sqlite3_column_type(q, col) != SQLITE_NULL)
        read_cols(q, col, &lk_schema_orgs, LK_VIEW_RECORD, org);
    sqlite3_reset(q);
    return LK_OK;
}

static int sqlite_key_get_by_hash_owner(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                                        lk_key *key, lk_user *user, lk_org *org)
{
    sqlite_store *s = S(st);
    lk_keycache *kc = key_cache(s);
    const lk_keycache_entry *e = key_cached(s, kc, hash, true);
    if (e != NULL) {
        if (e->rc == LK_OK) {
            *key = e->key;
            *user = e->user;
            *org = e->org;
        }
        return e->rc;
    }
    int rc = key_owner_read(s, hash, key, user, org);
    if (kc != NULL && rc == LK_OK) lk_keycache_put(kc, hash, rc, key, user, org);
    if (kc != NULL && rc == LK_ENOT_FOUND) lk_keycache_put(kc, hash, rc, NULL, NULL, NULL);
    return rc;
}

static int sqlite_key_rename(lk_store *st, const char *id, const char *name)
{
    return write_by(S(st), S_KEY_RENAME, &(lookup){.a = id, .b = name}, "access key");
}

static int sqlite_key_delete(lk_store *st, const char *id)
{
    return write_by(S(st), S_KEY_DELETE, &(lookup){.a = id}, "access key");
}

static int sqlite_key_list_org(lk_store *st, const char *org_id, int64_t now, const lk_page *pg,
                               lk_key_cb cb, void *ctx)
{
    lk_row_sink sink = {.kind = LK_REC_KEY, .cb.key = cb, .ctx = ctx};
    return list_page(S(st), S_KEY_LIST_ORG, org_id, pg, &now, &lk_schema_keys, &sink);
}

static int sqlite_key_list_user(lk_store *st, const char *user_id, int64_t now, const lk_page *pg,
                                lk_key_cb cb, void *ctx)
{
    lk_row_sink sink = {.kind = LK_REC_KEY, .cb.key = cb, .ctx = ctx};
    return list_page(S(st), S_KEY_LIST_USER, user_id, pg, &now, &lk_schema_keys, &sink);
}

/* Statement id (?1 id, ?2 at, ?3 ip when with_ip) for each item, in one
 * transaction: the batched last-used writes of keys and sessions. */
static int touch_rows(sqlite_store *s, int id, const lk_key_touch *items, size_t n,
                      const char *what, bool with_ip)
{
    if (n == 0) return LK_OK;
    sqlite3_stmt *q = stmt_get(s, id);
    if (q == NULL) return s->base.err.code;
    int ret = tx_begin(s);
    if (ret != LK_OK) return ret;
    for (size_t i = 0; i < n && ret == LK_OK; i++) {
        bind_text(q, 1, items[i].id);
        sqlite3_bind_int64(q, 2, items[i].at);
        if (with_ip) bind_text(q, 3, items[i].ip); /* --- scopes: last_used_ip ("" keeps it) */
        ret = run_write(s, q, what, false);
    }
    return tx_end(s, ret);
}

static int sqlite_key_touch(lk_store *st, const lk_key_touch *items, size_t n)
{
    return touch_rows(S(st), S_KEY_TOUCH, items, n, "access key", true);
}

/* --- scopes ------------------------------------------------------------------ */

static int sqlite_key_set_cidrs(lk_store *st, const char *id, const char *cidrs)
{
    return write_by(S(st), S_KEY_SET_CIDRS, &(lookup){.a = id, .b = cidrs}, "access key");
}

static int sqlite_org_set_key_lifetime(lk_store *st, const char *id, int64_t days)
{
    sqlite_store *s = S(st);
    lk_err_clear(&st->err);
    sqlite3_stmt *q = stmt_get(s, S_ORG_SET_KEY_LIFETIME);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, days);
    return run_write(s, q, "organization", true);
}

/* --- account: sessions and passwords ------------------------------------- */

static int sqlite_session_create_capped(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                                        const lk_session *ses, int max, int64_t now)
{
    sqlite_store *s = S(st);
    assert(max >= 1);
    lk_session_row row = {.session = *ses};
    memcpy(row.hash, hash, LK_TOKEN_HASH_LEN);
    sqlite3_stmt *q = stmt_get(s, S_SESSION_TRIM);
    if (q == NULL) return s->base.err.code;
    int ret = tx_begin(s);
    if (ret != LK_OK) return ret;
    bind_text(q, 1, ses->user_id);
    sqlite3_bind_int64(q, 2, now);
    sqlite3_bind_int(q, 3, max - 1);
    ret = run_write(s, q, "session", false);
    if (ret == LK_OK) ret = insert_row(s, S_SESSION_INSERT, &lk_schema_sessions, &row, "session");
    sodium_memzero(&row, sizeof row);
    return tx_end(s, ret);
}

static int sqlite_session_list(lk_store *st, const char *user_id, int64_t now, int max,
                               lk_session_cb cb, void *ctx)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_bound(s, S_SESSION_LIST, &(lookup){.a = user_id});
    if (q == NULL) return s->base.err.code;
    sqlite3_bind_int64(q, 2, now);
    sqlite3_bind_int(q, 3, max);
    lk_row_sink sink = {.kind = LK_SINK_SESSION, .cb.session = cb, .ctx = ctx};
    return list_rows(s, q, &lk_schema_sessions, LK_VIEW_RECORD, sink.kind, &sink);
}

static int sqlite_session_delete_id(lk_store *st, const char *user_id, const char *id)
{
    return write_by(S(st), S_SESSION_DELETE_ID, &(lookup){.a = user_id, .b = id}, "session");
}

static int sqlite_user_set_password(lk_store *st, const char *user_id, const char *pwhash,
                                    const char *keep_id)
{
    sqlite_store *s = S(st);
    int ret = tx_begin(s);
    if (ret != LK_OK) return ret;
    ret = write_by(s, S_USER_SET_PWHASH, &(lookup){.a = user_id, .b = pwhash}, "user");
    sqlite3_stmt *q = ret == LK_OK ? stmt_bound(s, S_SESSION_DELETE_OTHERS,
                                                &(lookup){.a = user_id, .b = keep_id})
                                   : NULL;
    if (ret == LK_OK) ret = q ? run_write(s, q, "session", false) : s->base.err.code;
    return tx_end(s, ret);
}

static int sqlite_session_touch(lk_store *st, const lk_key_touch *items, size_t n)
{
    return touch_rows(S(st), S_SESSION_TOUCH, items, n, "session", false);
}

static int sqlite_session_purge(lk_store *st, int64_t now, int64_t *purged)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_SESSION_PURGE);
    *purged = 0;
    if (q == NULL) return s->base.err.code;
    sqlite3_bind_int64(q, 1, now);
    int ret = run_write(s, q, "session", false);
    if (ret == LK_OK) *purged = sqlite3_changes(s->db);
    return ret;
}

/* --- rotate ---------------------------------------------------------------- */

static int sqlite_key_rotate(lk_store *st, const char *id,
                             const uint8_t new_hash[LK_TOKEN_HASH_LEN], const char *redacted,
                             int64_t grace_secs, lk_key *out)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_KEY_ROTATE);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, id);
    bind_hash(q, 2, new_hash);
    bind_text(q, 3, redacted);
    sqlite3_bind_int64(q, 4, grace_secs);
    /* RETURNING: the whole UPDATE happens at the first step */
    int ret = run_row(s, q, "access key");
    if (ret != LK_OK) return ret;
    read_cols(q, 0, &lk_schema_keys, LK_VIEW_RECORD, out);
    sqlite3_reset(q);
    return LK_OK;
}

/* Both statements run for every hash, inside one transaction (a savepoint
 * inside the caller's begin()). */
static int sqlite_key_revoke_token(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_key *out,
                                   bool *was_previous)
{
    sqlite_store *s = S(st);
    lk_key cur = {0}, prev = {0};
    const lk_table *t = &lk_schema_keys;
    int ret = tx_begin(s);
    if (ret != LK_OK) return ret;
    int rc1 = get_row(s, S_KEY_REVOKE_CURRENT, &(lookup){.hash = hash}, t, LK_VIEW_RECORD, &cur,
                      "access key");
    int rc2 = rc1 == LK_OK || rc1 == LK_ENOT_FOUND
                  ? get_row(s, S_KEY_REVOKE_PREVIOUS, &(lookup){.hash = hash}, t, LK_VIEW_RECORD,
                            &prev, "access key")
                  : rc1;
    ret = rc2 == LK_OK || rc2 == LK_ENOT_FOUND ? LK_OK : rc2;
    if ((ret = tx_end(s, ret)) != LK_OK) return ret;
    *was_previous = rc1 != LK_OK && rc2 == LK_OK;
    *out = *was_previous ? prev : cur;
    if (rc1 == LK_OK || rc2 == LK_OK) return LK_OK;
    return lk_err_set(&s->base.err, LK_ENOT_FOUND, "access key not found");
}

static int sqlite_key_purge_previous(lk_store *st, int64_t *n)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_KEY_PURGE_PREVIOUS);
    if (q == NULL) return s->base.err.code;
    int ret = run_write(s, q, "access keys", false);
    if (n) *n = ret == LK_OK ? sqlite3_changes(s->db) : 0;
    return ret;
}

/* --- leak reports --- */

static int sqlite_leak_report_count(lk_store *st, int64_t now, int64_t entries, int64_t revoked)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_LEAK_REPORT_COUNT);
    if (q == NULL) return s->base.err.code;
    sqlite3_bind_int64(q, 1, now / LK_LEAK_DAY_SECS);
    sqlite3_bind_int64(q, 2, entries);
    sqlite3_bind_int64(q, 3, revoked);
    return run_write(s, q, "leak report", true);
}

static int sqlite_leak_report_get(lk_store *st, int64_t day, lk_leak_day *out)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_LEAK_REPORT_GET);
    if (q == NULL) return s->base.err.code;
    sqlite3_bind_int64(q, 1, day);
    int ret = run_row(s, q, "leak report day");
    if (ret != LK_OK) return ret;
    read_cols(q, 0, &lk_schema_leak_reports, LK_VIEW_RECORD, out);
    sqlite3_reset(q);
    return LK_OK;
}

/* --- end rotate ------------------------------------------------------------ */

/* -- bulk copy ---------------------------------------------------------------- */

static int sqlite_is_empty(lk_store *st, bool *empty)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_IS_EMPTY);
    if (q == NULL) return s->base.err.code;
    int ret = run_row(s, q, "is_empty");
    if (ret != LK_OK) return ret;
    *empty = sqlite3_column_int(q, 0) == 0;
    sqlite3_reset(q);
    return LK_OK;
}

/* Per record kind: the dump and the load statement. In foreign-key order. */
static const struct {
    lk_record_kind kind;
    int dump, load;
} kind_stmts[] = {
    {LK_REC_USER, S_DUMP_USERS, S_USER_INSERT},
    {LK_REC_ORG, S_DUMP_ORGS, S_ORG_INSERT},
    {LK_REC_MEMBER, S_DUMP_MEMBERS, S_MEMBER_INSERT},
    {LK_REC_PROJECT, S_DUMP_PROJECTS, S_CHILD(LK_CHILD_PROJECT, C_INSERT)},
    {LK_REC_ENV, S_DUMP_ENVS, S_CHILD(LK_CHILD_ENV, C_INSERT)},
    {LK_REC_BILLING, S_DUMP_BILLING, S_BILLING_UPSERT},
    {LK_REC_KEY, S_DUMP_KEYS, S_KEY_INSERT},
    {LK_REC_AUDIT, S_DUMP_AUDIT, S_AUDIT_INSERT}, /* --- audit --- */
};
#define N_KINDS ((int)(sizeof kind_stmts / sizeof kind_stmts[0]))

/* Every row in foreign-key order, from one read snapshot. */
static int sqlite_dump(lk_store *st, lk_record_cb cb, void *ctx)
{
    sqlite_store *s = S(st);
    bool own_tx = s->tx_depth == 0;
    if (own_tx) {
        int rc = exec(s, "BEGIN", "dump");
        if (rc != LK_OK) return rc;
    }
    lk_row_sink sink = {.kind = LK_SINK_RECORD, .cb.record = cb, .ctx = ctx};
    int ret = LK_OK;
    for (int i = 0; i < N_KINDS && ret == LK_OK; i++) {
        sqlite3_stmt *q = stmt_get(s, kind_stmts[i].dump);
        if (q == NULL) {
            ret = s->base.err.code;
            break;
        }
        const lk_table *t = lk_schema_of_kind(kind_stmts[i].kind);
        ret = list_rows(s, q, t, LK_VIEW_ROW, kind_stmts[i].kind, &sink);
    }
    if (own_tx) sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL); /* read-only: nothing to lose */
    return ret;
}

/* --- audit --- */

static int sqlite_audit_insert(lk_store *st, const lk_audit_event *ev)
{
    return insert_row(S(st), S_AUDIT_INSERT, &lk_schema_audit, ev, "audit event");
}

static int sqlite_audit_list(lk_store *st, const lk_audit_filter *f, const lk_page *pg,
                             lk_audit_cb cb, void *ctx)
{
    sqlite_store *s = S(st);
    bool by_org = f->org_id && f->org_id[0];
    assert(by_org != (f->user_id && f->user_id[0]));
    assert(pg->limit >= 1 && pg->limit <= LK_STORE_PAGE_MAX);
    sqlite3_stmt *q = stmt_get(s, by_org ? S_AUDIT_LIST_ORG : S_AUDIT_LIST_USER);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, by_org ? f->org_id : f->user_id);
    sqlite3_bind_int64(q, 2, before_of(pg));
    sqlite3_bind_int(q, 3, limit_of(pg));
    bind_text(q, 4, f->action ? f->action : "");
    bind_text(q, 5, f->actor ? f->actor : "");
    lk_audit_event *ev = malloc(sizeof *ev);
    if (ev == NULL) {
        sqlite3_reset(q);
        return lk_err_set(&s->base.err, LK_ENOMEM, NULL);
    }
    int rc, ret = LK_OK;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        memset(ev, 0, sizeof *ev);
        read_cols(q, 0, &lk_schema_audit, LK_VIEW_RECORD, ev);
        if ((ret = cb(ctx, ev)) != 0) break;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (ret == LK_OK && rc != SQLITE_DONE) ret = fail(s, rc, "audit events");
    free(ev);
    return ret;
}

static int sqlite_audit_purge(lk_store *st, int64_t before, int max_rows, int64_t *deleted)
{
    sqlite_store *s = S(st);
    *deleted = 0;
    sqlite3_stmt *q = stmt_get(s, S_AUDIT_PURGE);
    if (q == NULL) return s->base.err.code;
    sqlite3_bind_int64(q, 1, before);
    sqlite3_bind_int(q, 2, max_rows);
    int ret = run_write(s, q, "audit events", false);
    if (ret == LK_OK) *deleted = sqlite3_changes(s->db);
    return ret;
}

/* begin() … commit()/rollback() take the write gate (run_write) for the
 * whole transaction: a change and its audit event are one write, and the
 * other connections of this process wait on the gate's futex instead of
 * polling for SQLite's lock. */
static int sqlite_begin(lk_store *st)
{
    sqlite_store *s = S(st);
    if (s->tx_depth != 0) return tx_begin(s); /* nested: a savepoint (the writer's batch) */
    s->tx_gated = gate_enter();
    int rc = tx_begin(s);
    if (rc != LK_OK && s->tx_gated) {
        s->tx_gated = false;
        pthread_mutex_unlock(&write_gate);
    }
    return rc;
}

static void gate_leave(sqlite_store *s)
{
    if (!s->tx_gated) return;
    s->tx_gated = false;
    pthread_mutex_unlock(&write_gate);
}

static int sqlite_commit(lk_store *st)
{
    sqlite_store *s = S(st);
    if (s->tx_depth < 1)
        return lk_err_set(&s->base.err, LK_EINTERNAL, "commit: no transaction is open");
    if (s->tx_depth > 1) return tx_end(s, LK_OK); /* RELEASE the savepoint */
    int rc = tx_end(s, LK_OK);
    gate_leave(s);
    return rc;
}

static int sqlite_rollback(lk_store *st)
{
    sqlite_store *s = S(st);
    if (s->tx_depth < 1)
        return lk_err_set(&s->base.err, LK_EINTERNAL, "rollback: no transaction is open");
    if (s->tx_depth > 1) { /* back to the savepoint; the outer transaction goes on */
        s->tx_depth--;
        return sqlite3_exec(s->db, "ROLLBACK TO lk; RELEASE lk", NULL, NULL, NULL) == SQLITE_OK
                   ? LK_OK
                   : fail(s, sqlite3_errcode(s->db), "rollback");
    }
    s->tx_depth = 0;
    int rc = sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    gate_leave(s);
    /* A failed statement may already have ended the transaction. */
    if (rc != SQLITE_OK && !sqlite3_get_autocommit(s->db)) return fail(s, rc, "rollback");
    return LK_OK;
}

/* Insert one record exactly as dumped (seq is assigned anew, in dump
 * order); a billing row replaces the one org_create made. */
static int sqlite_load(lk_store *st, const lk_record *r)
{
    sqlite_store *s = S(st);
    for (int i = 0; i < N_KINDS; i++) {
        if (kind_stmts[i].kind != r->kind) continue;
        const lk_table *t = lk_schema_of_kind(r->kind);
        int ret = insert_row(s, kind_stmts[i].load, t, &r->as, t->name);
        if (ret == LK_ECONFLICT && r->kind == LK_REC_MEMBER)
            lk_err_set(&s->base.err, LK_ECONFLICT, "already a member");
        return ret;
    }
    return lk_err_set(&s->base.err, LK_EINTERNAL, "load: unknown record kind");
}

/* --- roles and invitations ------------------------------------------------ */

static int sqlite_member_get(lk_store *st, const char *org_id, const char *user_id, lk_member *out)
{
    return get_row(S(st), S_MEMBER_GET, &(lookup){.a = org_id, .b = user_id}, &lk_schema_members,
                   LK_VIEW_RECORD, out, "member");
}

/* As member_remove_unless_last: the owner count and the update in one
 * write transaction. */
static int sqlite_member_set_role(lk_store *st, const char *org_id, const char *user_id,
                                  const char *role)
{
    sqlite_store *s = S(st);
    int ret = tx_begin(s);
    if (ret != LK_OK) return ret;
    member_state m;
    if ((ret = member_state_get(s, org_id, user_id, &m)) != LK_OK) goto out;
    if (m.is_owner && strcmp(role, LK_ROLE_OWNER) != 0 && m.owners <= 1)
        ret = lk_err_set(&s->base.err, LK_ECONFLICT, LK_STORE_LAST_OWNER);
    else
        ret = write_by(s, S_MEMBER_SET_ROLE, &(lookup){.a = org_id, .b = user_id, .c = role},
                       "member");
out:
    return tx_end(s, ret);
}

static int sqlite_invitation_create(lk_store *st, const lk_invitation *inv,
                                    const uint8_t hash[LK_TOKEN_HASH_LEN])
{
    lk_invitation_row row = {.inv = *inv};
    memcpy(row.hash, hash, LK_TOKEN_HASH_LEN);
    int ret = insert_row(S(st), S_INVITATION_INSERT, &lk_schema_invitations, &row, "invitation");
    sodium_memzero(row.hash, sizeof row.hash);
    return ret;
}

static int sqlite_invitation_get_by_hash(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                                         lk_invitation *out)
{
    return get_row(S(st), S_INVITATION_GET_BY_HASH, &(lookup){.hash = hash}, &lk_schema_invitations,
                   LK_VIEW_RECORD, out, "invitation");
}

static int sqlite_invitation_list(lk_store *st, const char *org_id, int64_t now, const lk_page *pg,
                                  lk_invitation_cb cb, void *ctx)
{
    lk_row_sink sink = {.kind = LK_SINK_INVITATION, .cb.invitation = cb, .ctx = ctx};
    return list_page(S(st), S_INVITATION_LIST, org_id, pg, &now, &lk_schema_invitations, &sink);
}

static int sqlite_invitation_delete(lk_store *st, const char *org_id, const char *id)
{
    return write_by(S(st), S_INVITATION_DELETE, &(lookup){.a = org_id, .b = id}, "invitation");
}

/* One transaction: take (delete) the live invitation, insert the
 * membership; a conflict rolls the delete back. */
static int sqlite_invitation_accept(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                                    const char *user_id, int64_t now, lk_member *out)
{
    sqlite_store *s = S(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *q = stmt_get(s, S_INVITATION_TAKE);
    if (q == NULL) return s->base.err.code;
    int ret = tx_begin(s);
    if (ret != LK_OK) return ret;
    bind_hash(q, 1, hash);
    sqlite3_bind_int64(q, 2, now);
    if ((ret = run_row(s, q, "invitation")) != LK_OK) goto out;
    col_text(q, 0, out->org_id, sizeof out->org_id);
    col_text(q, 1, out->role, sizeof out->role);
    while (sqlite3_step(q) == SQLITE_ROW) {
    }
    sqlite3_reset(q);
    snprintf(out->user_id, sizeof out->user_id, "%s", user_id);
    out->joined_at = now;
    ret = insert_member(s, out);
out:
    return tx_end(s, ret);
}
/* --- end roles and invitations --------------------------------------------- */

/* --- device --- sign-ins from the CLI (store.h: lk_device) ---------------- */

static int sqlite_device_create(lk_store *st, const lk_device *d, int64_t now)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_DEVICE_PURGE);
    if (q == NULL) return s->base.err.code;
    sqlite3_bind_int64(q, 1, now);
    int ret = run_write(s, q, "sign-in request", false);
    if (ret != LK_OK) return ret;
    return insert_row(s, S_DEVICE_INSERT, &lk_schema_device, d, "sign-in request");
}

static int sqlite_device_get(lk_store *st, const uint8_t device_hash[LK_TOKEN_HASH_LEN],
                             lk_device *out)
{
    return get_row(S(st), S_DEVICE_GET, &(lookup){.hash = device_hash}, &lk_schema_device,
                   LK_VIEW_RECORD, out, "sign-in request");
}

static int sqlite_device_get_by_user(lk_store *st, const uint8_t user_hash[LK_TOKEN_HASH_LEN],
                                     lk_device *out)
{
    return get_row(S(st), S_DEVICE_GET_BY_USER, &(lookup){.hash = user_hash}, &lk_schema_device,
                   LK_VIEW_RECORD, out, "sign-in request");
}

static int sqlite_device_poll(lk_store *st, const uint8_t device_hash[LK_TOKEN_HASH_LEN],
                              int64_t last_poll_at, int64_t interval)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_bound(s, S_DEVICE_POLL, &(lookup){.hash = device_hash});
    if (q == NULL) return s->base.err.code;
    sqlite3_bind_int64(q, 2, last_poll_at);
    sqlite3_bind_int64(q, 3, interval);
    return run_write(s, q, "sign-in request", true);
}

static int sqlite_device_decide(lk_store *st, const uint8_t user_hash[LK_TOKEN_HASH_LEN],
                                int64_t status, const char *user_id, int64_t now)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_bound(s, S_DEVICE_DECIDE, &(lookup){.hash = user_hash});
    if (q == NULL) return s->base.err.code;
    sqlite3_bind_int64(q, 2, status);
    bind_text(q, 3, user_id);
    sqlite3_bind_int64(q, 4, now);
    sqlite3_bind_int64(q, 5, LK_DEVICE_PENDING);
    return run_write(s, q, "sign-in request", true);
}

/* APPROVED → USED and the key's insert, in one BEGIN IMMEDIATE transaction. */
static int sqlite_device_redeem(lk_store *st, const uint8_t device_hash[LK_TOKEN_HASH_LEN],
                                int64_t now, const lk_key *k,
                                const uint8_t key_hash[LK_TOKEN_HASH_LEN])
{
    sqlite_store *s = S(st);
    int ret = tx_begin(s);
    if (ret != LK_OK) return ret;
    sqlite3_stmt *q = stmt_bound(s, S_DEVICE_REDEEM, &(lookup){.hash = device_hash});
    if (q == NULL) return tx_end(s, s->base.err.code);
    bind_text(q, 2, k->id);
    sqlite3_bind_int64(q, 3, now);
    bind_text(q, 4, k->user_id);
    sqlite3_bind_int64(q, 5, LK_DEVICE_USED);
    sqlite3_bind_int64(q, 6, LK_DEVICE_APPROVED);
    ret = run_write(s, q, "sign-in request", true);
    if (ret == LK_OK) {
        lk_key_row row;
        lk_key_row_of(k, key_hash, &row);
        ret = insert_row(s, S_KEY_INSERT, &lk_schema_keys, &row, "access key");
        sodium_memzero(&row, sizeof row);
    }
    return tx_end(s, ret);
}
/* --- end device --- */

const lk_store_ops lk_store_sqlite_ops = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .migrate = sqlite_migrate,
    .ping = sqlite_ping,
    .user_create = sqlite_user_create,
    .user_get = sqlite_user_get,
    .user_get_by_email = sqlite_user_get_by_email,
    .user_rename = sqlite_user_rename,
    .session_create = sqlite_session_create,
    .session_get = sqlite_session_get,
    .session_delete = sqlite_session_delete,
    .org_create = sqlite_org_create,
    .org_get = sqlite_org_get,
    .org_rename = sqlite_org_rename,
    .org_delete = sqlite_org_delete,
    .org_list_for_user = sqlite_org_list_for_user,
    .member_check = sqlite_member_check,
    .member_add = sqlite_member_add,
    .member_remove = sqlite_member_remove,
    .member_remove_unless_last = sqlite_member_remove_unless_last,
    .member_count = sqlite_member_count,
    .member_list = sqlite_member_list,
    .child_create = sqlite_child_create,
    .child_get = sqlite_child_get,
    .child_rename = sqlite_child_rename,
    .child_delete = sqlite_child_delete,
    .child_list = sqlite_child_list,
    .billing_get = sqlite_billing_get,
    .billing_set = sqlite_billing_set,
    .key_create = sqlite_key_create,
    .key_get = sqlite_key_get,
    .key_get_by_hash = sqlite_key_get_by_hash,
    .key_get_by_hash_owner = sqlite_key_get_by_hash_owner,
    .key_rename = sqlite_key_rename,
    .key_delete = sqlite_key_delete,
    .key_list_org = sqlite_key_list_org,
    .key_list_user = sqlite_key_list_user,
    .key_touch = sqlite_key_touch,
    .key_set_cidrs = sqlite_key_set_cidrs,               /* scopes */
    .org_set_key_lifetime = sqlite_org_set_key_lifetime, /* scopes */
    .is_empty = sqlite_is_empty,
    .dump = sqlite_dump,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .load = sqlite_load,
    /* --- account --- */
    .session_create_capped = sqlite_session_create_capped,
    .session_list = sqlite_session_list,
    .session_delete_id = sqlite_session_delete_id,
    .user_set_password = sqlite_user_set_password,
    .session_touch = sqlite_session_touch,
    .session_purge = sqlite_session_purge,
    /* --- roles and invitations --- */
    .member_get = sqlite_member_get,
    .member_set_role = sqlite_member_set_role,
    .invitation_create = sqlite_invitation_create,
    .invitation_get_by_hash = sqlite_invitation_get_by_hash,
    .invitation_list = sqlite_invitation_list,
    .invitation_delete = sqlite_invitation_delete,
    .invitation_accept = sqlite_invitation_accept,
    /* --- rotate --- */
    .key_rotate = sqlite_key_rotate,
    .key_revoke_token = sqlite_key_revoke_token,
    .key_purge_previous = sqlite_key_purge_previous,
    .leak_report_count = sqlite_leak_report_count,
    .leak_report_get = sqlite_leak_report_get,
    /* --- device --- */
    .device_create = sqlite_device_create,
    .device_get = sqlite_device_get,
    .device_get_by_user = sqlite_device_get_by_user,
    .device_poll = sqlite_device_poll,
    .device_decide = sqlite_device_decide,
    .device_redeem = sqlite_device_redeem,
    /* --- audit --- */
    .audit_insert = sqlite_audit_insert,
    .audit_list = sqlite_audit_list,
    .audit_purge = sqlite_audit_purge,
};
