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
 * Schema versions live in schema_migrations(version). Each version is
 * applied inside its own BEGIN IMMEDIATE transaction that first checks
 * whether the version is already recorded, so when several processes start
 * at once exactly one applies each version and the others see it done.
 *
 * Ordering: every listed table has `seq INTEGER PRIMARY KEY AUTOINCREMENT`,
 * so seq only grows (never reused, even after deletes). Lists run
 * `seq < before ORDER BY seq DESC LIMIT n` on an (owner, seq) index; a cursor
 * is a seq, which stays valid while rows are inserted between pages.
 *
 * Optional strings (org_id / user_id of access keys) are stored as NULL when
 * empty and read back as "".
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
#include "store.h"

#include <sodium.h>
#include <sqlite3.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LK_SQLITE_BUSY_TIMEOUT_MS 10000

/* X(NAME, SQL): every statement this backend runs more than once. */
#define LK_SQLITE_STMTS(X)                                                                         \
    X(PING, "PRAGMA schema_version") /* reads the file header under a shared lock */               \
    X(USER_INSERT, "INSERT INTO users(id, email, email_lower, name, pwhash, created_at) "          \
                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6)")                                               \
    X(USER_GET, "SELECT id, email, name, created_at FROM users WHERE id = ?1")                     \
    X(USER_GET_BY_EMAIL, "SELECT id, email, name, created_at, pwhash FROM users "                  \
                         "WHERE email_lower = ?1")                                                 \
    X(USER_RENAME, "UPDATE users SET name = ?2 WHERE id = ?1")                                     \
    X(SESSION_INSERT, "INSERT INTO sessions(hash, user_id, csrf, created_at, expires_at) "         \
                      "VALUES(?1, ?2, ?3, ?4, ?5)")                                                \
    X(SESSION_GET, "SELECT user_id, csrf, created_at, expires_at FROM sessions WHERE hash = ?1")   \
    X(SESSION_DELETE, "DELETE FROM sessions WHERE hash = ?1")                                      \
    X(ORG_INSERT, "INSERT INTO orgs(id, name, created_at) VALUES(?1, ?2, ?3)")                     \
    X(ORG_GET, "SELECT id, name, created_at, seq FROM orgs WHERE id = ?1")                         \
    X(ORG_RENAME, "UPDATE orgs SET name = ?2 WHERE id = ?1")                                       \
    X(ORG_DELETE, "DELETE FROM orgs WHERE id = ?1")                                                \
    X(ORG_LIST_FOR_USER, "SELECT o.id, o.name, o.created_at, o.seq FROM members m "                \
                         "JOIN orgs o ON o.id = m.org_id "                                         \
                         "WHERE m.user_id = ?1 AND o.seq < ?2 ORDER BY o.seq DESC LIMIT ?3")       \
    X(MEMBER_CHECK, "SELECT 1 FROM members WHERE org_id = ?1 AND user_id = ?2")                    \
    X(MEMBER_INSERT, "INSERT INTO members(org_id, user_id, joined_at) VALUES(?1, ?2, ?3)")         \
    X(MEMBER_DELETE, "DELETE FROM members WHERE org_id = ?1 AND user_id = ?2")                     \
    X(MEMBER_COUNT, "SELECT count(*) FROM members WHERE org_id = ?1")                              \
    X(MEMBER_LIST, "SELECT m.org_id, m.user_id, u.email, u.name, m.joined_at, m.seq "              \
                   "FROM members m JOIN users u ON u.id = m.user_id "                              \
                   "WHERE m.org_id = ?1 AND m.seq < ?2 ORDER BY m.seq DESC LIMIT ?3")              \
    X(PROJECT_INSERT, "INSERT INTO projects(id, org_id, name, created_at) VALUES(?1, ?2, ?3, ?4)") \
    X(PROJECT_GET, "SELECT id, org_id, name, created_at, seq FROM projects "                       \
                   "WHERE org_id = ?1 AND id = ?2")                                                \
    X(PROJECT_RENAME, "UPDATE projects SET name = ?3 WHERE org_id = ?1 AND id = ?2")               \
    X(PROJECT_DELETE, "DELETE FROM projects WHERE org_id = ?1 AND id = ?2")                        \
    X(PROJECT_LIST, "SELECT id, org_id, name, created_at, seq FROM projects "                      \
                    "WHERE org_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3")                   \
    X(ENV_INSERT, "INSERT INTO environments(id, project_id, name, created_at) "                    \
                  "VALUES(?1, ?2, ?3, ?4)")                                                        \
    X(ENV_GET, "SELECT id, project_id, name, created_at, seq FROM environments "                   \
               "WHERE project_id = ?1 AND id = ?2")                                                \
    X(ENV_RENAME, "UPDATE environments SET name = ?3 WHERE project_id = ?1 AND id = ?2")           \
    X(ENV_DELETE, "DELETE FROM environments WHERE project_id = ?1 AND id = ?2")                    \
    X(ENV_LIST, "SELECT id, project_id, name, created_at, seq FROM environments "                  \
                "WHERE project_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3")                   \
    X(BILLING_INSERT, "INSERT INTO billing(org_id, plan, billing_email, updated_at) "              \
                      "VALUES(?1, ?2, ?3, ?4)")                                                    \
    X(BILLING_REPLACE, "INSERT OR REPLACE INTO billing(org_id, plan, billing_email, updated_at) "  \
                       "VALUES(?1, ?2, ?3, ?4)")                                                   \
    X(BILLING_GET, "SELECT org_id, plan, billing_email, updated_at FROM billing "                  \
                   "WHERE org_id = ?1")                                                            \
    X(BILLING_UPDATE, "UPDATE billing SET plan = ?2, billing_email = ?3, updated_at = ?4 "         \
                      "WHERE org_id = ?1")                                                         \
    X(KEY_INSERT, "INSERT INTO access_keys(id, type, org_id, user_id, created_by, name, hash, "    \
                  "redacted, created_at, last_used_at, expires_at) "                               \
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")                          \
    X(KEY_GET, "SELECT " KEY_COLS " FROM access_keys WHERE id = ?1")                               \
    X(KEY_GET_BY_HASH, "SELECT " KEY_COLS " FROM access_keys WHERE hash = ?1")                     \
    X(KEY_GET_BY_HASH_OWNER,                                                                       \
      "SELECT k.id, k.type, k.org_id, k.user_id, k.created_by, k.name, k.redacted, k.created_at, " \
      "k.last_used_at, k.expires_at, k.seq, u.id, u.email, u.name, u.created_at, "                 \
      "o.id, o.name, o.created_at, o.seq FROM access_keys k "                                      \
      "LEFT JOIN users u ON u.id = k.user_id LEFT JOIN orgs o ON o.id = k.org_id "                 \
      "WHERE k.hash = ?1")                                                                         \
    X(KEY_RENAME, "UPDATE access_keys SET name = ?2 WHERE id = ?1")                                \
    X(KEY_DELETE, "DELETE FROM access_keys WHERE id = ?1")                                         \
    X(KEY_LIST_ORG, "SELECT " KEY_COLS " FROM access_keys WHERE org_id = ?1 AND seq < ?2 "         \
                    "AND (expires_at = 0 OR expires_at > ?4) ORDER BY seq DESC LIMIT ?3")          \
    X(KEY_LIST_USER, "SELECT " KEY_COLS " FROM access_keys WHERE user_id = ?1 AND type = 2 "       \
                     "AND seq < ?2 "                                                               \
                     "AND (expires_at = 0 OR expires_at > ?4) ORDER BY seq DESC LIMIT ?3")         \
    X(KEY_TOUCH, "UPDATE access_keys SET last_used_at = ?2 WHERE id = ?1 AND last_used_at < ?2")   \
    X(IS_EMPTY, "SELECT EXISTS(SELECT 1 FROM users) OR EXISTS(SELECT 1 FROM orgs)")                \
    X(DUMP_USERS, "SELECT id, email, name, created_at, email_lower, pwhash FROM users "            \
                  "ORDER BY rowid")                                                                \
    X(DUMP_ORGS, "SELECT id, name, created_at, seq FROM orgs ORDER BY seq")                        \
    X(DUMP_MEMBERS, "SELECT m.org_id, m.user_id, u.email, u.name, m.joined_at, m.seq "             \
                    "FROM members m JOIN users u ON u.id = m.user_id ORDER BY m.seq")              \
    X(DUMP_PROJECTS, "SELECT id, org_id, name, created_at, seq FROM projects ORDER BY seq")        \
    X(DUMP_ENVS, "SELECT id, project_id, name, created_at, seq FROM environments ORDER BY seq")    \
    X(DUMP_BILLING, "SELECT org_id, plan, billing_email, updated_at FROM billing ORDER BY rowid")  \
    X(DUMP_KEYS, "SELECT " KEY_COLS ", hash FROM access_keys ORDER BY seq")

#define KEY_COLS                                                                                   \
    "id, type, org_id, user_id, created_by, name, redacted, created_at, last_used_at, "            \
    "expires_at, seq"

enum {
#define LK__STMT_ENUM(name, sql) S_##name,
    LK_SQLITE_STMTS(LK__STMT_ENUM)
#undef LK__STMT_ENUM
        S__COUNT
};

static const char *const stmt_sql[S__COUNT] = {
#define LK__STMT_SQL(name, sql) [S_##name] = sql,
    LK_SQLITE_STMTS(LK__STMT_SQL)
#undef LK__STMT_SQL
};

/* One version of the schema, applied in one transaction. Append only. */
static const char *const migrations[] = {
    /* 1: the initial schema */
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
    "CREATE INDEX access_keys_by_user ON access_keys(user_id, seq);",
    /* 2 --- device --- sign-ins from the CLI waiting for the browser */
    "CREATE TABLE device_requests ("
    "  device_hash BLOB PRIMARY KEY NOT NULL,"
    "  user_hash BLOB NOT NULL UNIQUE,"
    "  client_name TEXT NOT NULL,"
    "  client_addr TEXT NOT NULL,"
    "  scopes INTEGER NOT NULL,"
    "  status INTEGER NOT NULL CHECK (status IN (0, 1, 2, 3)),"
    "  user_id TEXT REFERENCES users(id) ON DELETE CASCADE,"
    "  key_id TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  last_poll_at INTEGER NOT NULL DEFAULT 0,"
    "  poll_interval INTEGER NOT NULL);"
    "CREATE INDEX device_requests_by_expiry ON device_requests(expires_at);",
};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

typedef struct sqlite_store {
    lk_store base;
    sqlite3 *db;
    int tx_depth; /* 0: autocommit; 1: inside begin() or an op's BEGIN; >1: savepoints */
    bool opening; /* inside sqlite_open: errors carry SQLite's text and are not logged */
    int64_t busy_since_ns; /* when the current wait for a lock began (busy_wait) */
    sqlite3_stmt *stmt[S__COUNT]; /* prepared on first use, finalized by close */
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

/* The cached statement `id`, prepared on first use. NULL (st->err set) if
 * preparing fails. Owned by s; callers sqlite3_reset() it when done. */
static sqlite3_stmt *stmt_get(sqlite_store *s, int id)
{
    if (s->stmt[id] == NULL) {
        int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->stmt[id], NULL);
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

static int run_write(sqlite_store *s, sqlite3_stmt *q, const char *what, bool must_change)
{
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

static int tx_begin(sqlite_store *s)
{
    int rc = exec(s, s->tx_depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT lk", "begin");
    if (rc == LK_OK) s->tx_depth++;
    return rc;
}

/* Commit if rc is LK_OK, else roll back; returns the first failure. */
static int tx_end(sqlite_store *s, int rc)
{
    if (s->tx_depth <= 0) return rc;
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
    for (int i = 0; i < S__COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
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
    if (strncmp(url, "sqlite:", 7) == 0) url += 7;
    if (url[0] == '\0') return lk_err_set(e, LK_EINTERNAL, "sqlite: empty database path");

    sqlite_store *s = calloc(1, sizeof *s);
    if (s == NULL) return lk_err_set(e, LK_ENOMEM, NULL);
    s->base.ops = &lk_store_sqlite_ops;
    lk_err_clear(&s->base.err);
    s->opening = true;

    int ret;
    int rc = sqlite3_open_v2(
        url, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        ret = fail(s, rc, NULL);
        goto out;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_handler(s->db, busy_wait, s);
    /* journal_mode=WAL is persistent in the file; the others per connection. */
    if ((ret = set_wal(s)) != LK_OK) goto out;
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

static int sqlite_migrate(lk_store *st)
{
    sqlite_store *s = S(st);
    int ret = exec(s,
                   "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " version INTEGER PRIMARY KEY NOT NULL,"
                   " applied_at INTEGER NOT NULL DEFAULT (strftime('%s','now')))",
                   "migrate");
    if (ret != LK_OK) return ret;
    for (int v = 1; v <= N_MIGRATIONS; v++) {
        sqlite3_stmt *q = NULL;
        if ((ret = tx_begin(s)) != LK_OK) return ret;
        int rc = sqlite3_prepare_v2(s->db, "SELECT 1 FROM schema_migrations WHERE version = ?1", -1,
                                    &q, NULL);
        if (rc != SQLITE_OK) {
            ret = fail(s, rc, "migrate");
            goto next;
        }
        sqlite3_bind_int(q, 1, v);
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
        q = NULL;
        if (rc == SQLITE_ROW) goto next; /* applied already (maybe by another process) */
        if (rc != SQLITE_DONE) {
            ret = fail(s, rc, "migrate");
            goto next;
        }
        if ((ret = exec(s, migrations[v - 1], "migrate")) != LK_OK) goto next;
        rc = sqlite3_prepare_v2(s->db, "INSERT INTO schema_migrations(version) VALUES(?1)", -1, &q,
                                NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int(q, 1, v);
            rc = sqlite3_step(q);
            sqlite3_finalize(q);
            if (rc != SQLITE_DONE) ret = fail(s, rc, "migrate");
        } else {
            ret = fail(s, rc, "migrate");
        }
    next:
        if ((ret = tx_end(s, ret)) != LK_OK) return ret;
    }
    return LK_OK;
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

/* -- users and sessions ---------------------------------------------------- */

static int sqlite_user_create(lk_store *st, const lk_user *u, const char *email_lower,
                              const char *pwhash)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_USER_INSERT);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, u->id);
    bind_text(q, 2, u->email);
    bind_text(q, 3, email_lower);
    bind_text(q, 4, u->name);
    bind_text(q, 5, pwhash);
    sqlite3_bind_int64(q, 6, u->created_at);
    int ret = run_write(s, q, "user", false);
    if (ret == LK_ECONFLICT) lk_err_set(&s->base.err, LK_ECONFLICT, "email is already registered");
    return ret;
}

static void read_user(sqlite3_stmt *q, lk_user *out)
{
    col_text(q, 0, out->id, sizeof out->id);
    col_text(q, 1, out->email, sizeof out->email);
    col_text(q, 2, out->name, sizeof out->name);
    out->created_at = sqlite3_column_int64(q, 3);
}

static int sqlite_user_get(lk_store *st, const char *id, lk_user *out)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_USER_GET);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, id);
    int ret = run_row(s, q, "user");
    if (ret != LK_OK) return ret;
    read_user(q, out);
    sqlite3_reset(q);
    return LK_OK;
}

static int sqlite_user_get_by_email(lk_store *st, const char *email_lower, lk_user *out,
                                    char *pwhash)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_USER_GET_BY_EMAIL);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, email_lower);
    int ret = run_row(s, q, "user");
    if (ret != LK_OK) return ret;
    read_user(q, out);
    if (pwhash) col_text(q, 4, pwhash, LK_PWHASH_SIZE);
    sqlite3_reset(q);
    return LK_OK;
}

static int sqlite_user_rename(lk_store *st, const char *id, const char *name)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_USER_RENAME);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, id);
    bind_text(q, 2, name);
    return run_write(s, q, "user", true);
}

static int sqlite_session_create(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                                 const lk_session *ses)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_SESSION_INSERT);
    if (q == NULL) return s->base.err.code;
    bind_hash(q, 1, hash);
    bind_text(q, 2, ses->user_id);
    bind_text(q, 3, ses->csrf);
    sqlite3_bind_int64(q, 4, ses->created_at);
    sqlite3_bind_int64(q, 5, ses->expires_at);
    return run_write(s, q, "session", false);
}

static int sqlite_session_get(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_session *out)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_SESSION_GET);
    if (q == NULL) return s->base.err.code;
    bind_hash(q, 1, hash);
    int ret = run_row(s, q, "session");
    if (ret != LK_OK) return ret;
    col_text(q, 0, out->user_id, sizeof out->user_id);
    col_text(q, 1, out->csrf, sizeof out->csrf);
    out->created_at = sqlite3_column_int64(q, 2);
    out->expires_at = sqlite3_column_int64(q, 3);
    sqlite3_reset(q);
    return LK_OK;
}

static int sqlite_session_delete(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN])
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_SESSION_DELETE);
    if (q == NULL) return s->base.err.code;
    bind_hash(q, 1, hash);
    return run_write(s, q, "session", true);
}

/* -- organizations and members --------------------------------------------- */

static int insert_org(sqlite_store *s, const lk_org *o)
{
    sqlite3_stmt *q = stmt_get(s, S_ORG_INSERT);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, o->id);
    bind_text(q, 2, o->name);
    sqlite3_bind_int64(q, 3, o->created_at);
    return run_write(s, q, "organization", false);
}

static int insert_member(sqlite_store *s, const char *org_id, const char *user_id,
                         int64_t joined_at)
{
    sqlite3_stmt *q = stmt_get(s, S_MEMBER_INSERT);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, org_id);
    bind_text(q, 2, user_id);
    sqlite3_bind_int64(q, 3, joined_at);
    int ret = run_write(s, q, "member", false);
    if (ret == LK_ECONFLICT) lk_err_set(&s->base.err, LK_ECONFLICT, "already a member");
    return ret;
}

static int write_billing(sqlite_store *s, int id, const lk_billing *b)
{
    sqlite3_stmt *q = stmt_get(s, id);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, b->org_id);
    bind_text(q, 2, b->plan);
    bind_text(q, 3, b->billing_email);
    sqlite3_bind_int64(q, 4, b->updated_at);
    return run_write(s, q, "billing", id == S_BILLING_UPDATE);
}

static int sqlite_org_create(lk_store *st, const lk_org *o, const char *creator_id,
                             const char *billing_email)
{
    sqlite_store *s = S(st);
    int ret = tx_begin(s);
    if (ret != LK_OK) return ret;
    lk_billing b = {0};
    snprintf(b.org_id, sizeof b.org_id, "%s", o->id);
    snprintf(b.plan, sizeof b.plan, "%s", "free");
    snprintf(b.billing_email, sizeof b.billing_email, "%s", billing_email ? billing_email : "");
    b.updated_at = o->created_at;
    if ((ret = insert_org(s, o)) != LK_OK) goto out;
    if ((ret = insert_member(s, o->id, creator_id, o->created_at)) != LK_OK) goto out;
    ret = write_billing(s, S_BILLING_INSERT, &b);
out:
    return tx_end(s, ret);
}

static void read_org(sqlite3_stmt *q, lk_org *out)
{
    col_text(q, 0, out->id, sizeof out->id);
    col_text(q, 1, out->name, sizeof out->name);
    out->created_at = sqlite3_column_int64(q, 2);
    out->seq = sqlite3_column_int64(q, 3);
}

static int sqlite_org_get(lk_store *st, const char *id, lk_org *out)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_ORG_GET);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, id);
    int ret = run_row(s, q, "organization");
    if (ret != LK_OK) return ret;
    read_org(q, out);
    sqlite3_reset(q);
    return LK_OK;
}

static int sqlite_org_rename(lk_store *st, const char *id, const char *name)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_ORG_RENAME);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, id);
    bind_text(q, 2, name);
    return run_write(s, q, "organization", true);
}

/* One DELETE: members, projects (and through them environments), billing
 * and access keys go with it by ON DELETE CASCADE, atomically. */
static int sqlite_org_delete(lk_store *st, const char *id)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_ORG_DELETE);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, id);
    return run_write(s, q, "organization", true);
}

/* Bind the common paging parameters (?2 before, ?3 limit) of a list
 * statement whose owner id is ?1. */
static void bind_page(sqlite3_stmt *q, const char *owner, const lk_page *pg)
{
    bind_text(q, 1, owner);
    sqlite3_bind_int64(q, 2, before_of(pg));
    sqlite3_bind_int(q, 3, limit_of(pg));
}

/* Step a bound list statement, calling read(row) then cb for each row. The
 * statement is reset on every exit. */
#define LIST_LOOP(s, q, what, T, read_fn, cb, ctx)                                                 \
    do {                                                                                           \
        int rc_;                                                                                   \
        while ((rc_ = sqlite3_step(q)) == SQLITE_ROW) {                                            \
            T row_ = {0};                                                                          \
            read_fn(q, &row_);                                                                     \
            int r_ = (cb)((ctx), &row_);                                                           \
            if (r_ != 0) {                                                                         \
                sqlite3_reset(q);                                                                  \
                return r_;                                                                         \
            }                                                                                      \
        }                                                                                          \
        sqlite3_reset(q);                                                                          \
        if (rc_ != SQLITE_DONE) return fail((s), rc_, (what));                                     \
        return LK_OK;                                                                              \
    } while (0)

static int sqlite_org_list_for_user(lk_store *st, const char *user_id, const lk_page *pg,
                                    lk_org_cb cb, void *ctx)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_ORG_LIST_FOR_USER);
    if (q == NULL) return s->base.err.code;
    bind_page(q, user_id, pg);
    LIST_LOOP(s, q, "organizations", lk_org, read_org, cb, ctx);
}

static int sqlite_member_check(lk_store *st, const char *org_id, const char *user_id)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_MEMBER_CHECK);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, org_id);
    bind_text(q, 2, user_id);
    int ret = run_row(s, q, "member");
    if (ret == LK_OK) sqlite3_reset(q);
    return ret;
}

static int sqlite_member_add(lk_store *st, const char *org_id, const char *user_id,
                             int64_t joined_at)
{
    return insert_member(S(st), org_id, user_id, joined_at);
}

static int sqlite_member_remove(lk_store *st, const char *org_id, const char *user_id)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_MEMBER_DELETE);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, org_id);
    bind_text(q, 2, user_id);
    return run_write(s, q, "member", true);
}

static int sqlite_member_count(lk_store *st, const char *org_id, int64_t *out)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_MEMBER_COUNT);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, org_id);
    int ret = run_row(s, q, "member count");
    if (ret != LK_OK) return ret;
    *out = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return LK_OK;
}

static void read_member(sqlite3_stmt *q, lk_member *out)
{
    col_text(q, 0, out->org_id, sizeof out->org_id);
    col_text(q, 1, out->user_id, sizeof out->user_id);
    col_text(q, 2, out->email, sizeof out->email);
    col_text(q, 3, out->name, sizeof out->name);
    out->joined_at = sqlite3_column_int64(q, 4);
    out->seq = sqlite3_column_int64(q, 5);
}

static int sqlite_member_list(lk_store *st, const char *org_id, const lk_page *pg, lk_member_cb cb,
                              void *ctx)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_MEMBER_LIST);
    if (q == NULL) return s->base.err.code;
    bind_page(q, org_id, pg);
    LIST_LOOP(s, q, "members", lk_member, read_member, cb, ctx);
}

/* -- projects and environments ---------------------------------------------- */

static int sqlite_project_create(lk_store *st, const lk_project *p)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_PROJECT_INSERT);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, p->id);
    bind_text(q, 2, p->org_id);
    bind_text(q, 3, p->name);
    sqlite3_bind_int64(q, 4, p->created_at);
    return run_write(s, q, "project", false);
}

static void read_project(sqlite3_stmt *q, lk_project *out)
{
    col_text(q, 0, out->id, sizeof out->id);
    col_text(q, 1, out->org_id, sizeof out->org_id);
    col_text(q, 2, out->name, sizeof out->name);
    out->created_at = sqlite3_column_int64(q, 3);
    out->seq = sqlite3_column_int64(q, 4);
}

static int sqlite_project_get(lk_store *st, const char *org_id, const char *id, lk_project *out)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_PROJECT_GET);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, org_id);
    bind_text(q, 2, id);
    int ret = run_row(s, q, "project");
    if (ret != LK_OK) return ret;
    read_project(q, out);
    sqlite3_reset(q);
    return LK_OK;
}

/* Scoped rename/delete: ?1 owner, ?2 id, ?3 new name (renames). */
static int scoped_write(sqlite_store *s, int id, const char *owner, const char *row_id,
                        const char *name, const char *what)
{
    sqlite3_stmt *q = stmt_get(s, id);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, owner);
    bind_text(q, 2, row_id);
    if (name) bind_text(q, 3, name);
    return run_write(s, q, what, true);
}

static int sqlite_project_rename(lk_store *st, const char *org_id, const char *id, const char *name)
{
    return scoped_write(S(st), S_PROJECT_RENAME, org_id, id, name, "project");
}

static int sqlite_project_delete(lk_store *st, const char *org_id, const char *id)
{
    return scoped_write(S(st), S_PROJECT_DELETE, org_id, id, NULL, "project");
}

static int sqlite_project_list(lk_store *st, const char *org_id, const lk_page *pg,
                               lk_project_cb cb, void *ctx)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_PROJECT_LIST);
    if (q == NULL) return s->base.err.code;
    bind_page(q, org_id, pg);
    LIST_LOOP(s, q, "projects", lk_project, read_project, cb, ctx);
}

static int sqlite_env_create(lk_store *st, const lk_env *v)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_ENV_INSERT);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, v->id);
    bind_text(q, 2, v->project_id);
    bind_text(q, 3, v->name);
    sqlite3_bind_int64(q, 4, v->created_at);
    return run_write(s, q, "environment", false);
}

static void read_env(sqlite3_stmt *q, lk_env *out)
{
    col_text(q, 0, out->id, sizeof out->id);
    col_text(q, 1, out->project_id, sizeof out->project_id);
    col_text(q, 2, out->name, sizeof out->name);
    out->created_at = sqlite3_column_int64(q, 3);
    out->seq = sqlite3_column_int64(q, 4);
}

static int sqlite_env_get(lk_store *st, const char *project_id, const char *id, lk_env *out)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_ENV_GET);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, project_id);
    bind_text(q, 2, id);
    int ret = run_row(s, q, "environment");
    if (ret != LK_OK) return ret;
    read_env(q, out);
    sqlite3_reset(q);
    return LK_OK;
}

static int sqlite_env_rename(lk_store *st, const char *project_id, const char *id, const char *name)
{
    return scoped_write(S(st), S_ENV_RENAME, project_id, id, name, "environment");
}

static int sqlite_env_delete(lk_store *st, const char *project_id, const char *id)
{
    return scoped_write(S(st), S_ENV_DELETE, project_id, id, NULL, "environment");
}

static int sqlite_env_list(lk_store *st, const char *project_id, const lk_page *pg, lk_env_cb cb,
                           void *ctx)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_ENV_LIST);
    if (q == NULL) return s->base.err.code;
    bind_page(q, project_id, pg);
    LIST_LOOP(s, q, "environments", lk_env, read_env, cb, ctx);
}

static void read_billing(sqlite3_stmt *q, lk_billing *out)
{
    col_text(q, 0, out->org_id, sizeof out->org_id);
    col_text(q, 1, out->plan, sizeof out->plan);
    col_text(q, 2, out->billing_email, sizeof out->billing_email);
    out->updated_at = sqlite3_column_int64(q, 3);
}

static int sqlite_billing_get(lk_store *st, const char *org_id, lk_billing *out)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_BILLING_GET);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, org_id);
    int ret = run_row(s, q, "billing");
    if (ret != LK_OK) return ret;
    read_billing(q, out);
    sqlite3_reset(q);
    return LK_OK;
}

static int sqlite_billing_set(lk_store *st, const lk_billing *b)
{
    return write_billing(S(st), S_BILLING_UPDATE, b);
}

/* -- access keys ------------------------------------------------------------ */

static int insert_key(sqlite_store *s, const lk_key *k, const uint8_t hash[LK_TOKEN_HASH_LEN])
{
    sqlite3_stmt *q = stmt_get(s, S_KEY_INSERT);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, k->id);
    sqlite3_bind_int(q, 2, (int)k->type);
    bind_opt_text(q, 3, k->org_id);
    bind_opt_text(q, 4, k->user_id);
    bind_text(q, 5, k->created_by);
    bind_text(q, 6, k->name);
    bind_hash(q, 7, hash);
    bind_text(q, 8, k->redacted);
    sqlite3_bind_int64(q, 9, k->created_at);
    sqlite3_bind_int64(q, 10, k->last_used_at);
    sqlite3_bind_int64(q, 11, k->expires_at);
    return run_write(s, q, "access key", false);
}

static int sqlite_key_create(lk_store *st, const lk_key *k, const uint8_t hash[LK_TOKEN_HASH_LEN])
{
    return insert_key(S(st), k, hash);
}

static void read_key(sqlite3_stmt *q, lk_key *out)
{
    col_text(q, 0, out->id, sizeof out->id);
    out->type = (lk_key_type)sqlite3_column_int(q, 1);
    col_text(q, 2, out->org_id, sizeof out->org_id);
    col_text(q, 3, out->user_id, sizeof out->user_id);
    col_text(q, 4, out->created_by, sizeof out->created_by);
    col_text(q, 5, out->name, sizeof out->name);
    col_text(q, 6, out->redacted, sizeof out->redacted);
    out->created_at = sqlite3_column_int64(q, 7);
    out->last_used_at = sqlite3_column_int64(q, 8);
    out->expires_at = sqlite3_column_int64(q, 9);
    out->seq = sqlite3_column_int64(q, 10);
}

static int sqlite_key_get(lk_store *st, const char *id, lk_key *out)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_KEY_GET);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, id);
    int ret = run_row(s, q, "access key");
    if (ret != LK_OK) return ret;
    read_key(q, out);
    sqlite3_reset(q);
    return LK_OK;
}

/* The hot path: one probe of the UNIQUE index on hash, no allocation here. */
static int sqlite_key_get_by_hash(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_key *out)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_KEY_GET_BY_HASH);
    if (q == NULL) return s->base.err.code;
    bind_hash(q, 1, hash);
    int ret = run_row(s, q, "access key");
    if (ret != LK_OK) return ret;
    read_key(q, out);
    sqlite3_reset(q);
    return LK_OK;
}

/* Columns 0-10 are read_key's; then the user (11-14) and the org (15-18),
 * NULL when the LEFT JOIN found nothing. */
static int sqlite_key_get_by_hash_owner(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                                        lk_key *key, lk_user *user, lk_org *org)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_KEY_GET_BY_HASH_OWNER);
    if (q == NULL) return s->base.err.code;
    bind_hash(q, 1, hash);
    int ret = run_row(s, q, "access key");
    if (ret != LK_OK) return ret;
    read_key(q, key);
    memset(user, 0, sizeof *user);
    memset(org, 0, sizeof *org);
    if (sqlite3_column_type(q, 11) != SQLITE_NULL) {
        col_text(q, 11, user->id, sizeof user->id);
        col_text(q, 12, user->email, sizeof user->email);
        col_text(q, 13, user->name, sizeof user->name);
        user->created_at = sqlite3_column_int64(q, 14);
    }
    if (sqlite3_column_type(q, 15) != SQLITE_NULL) {
        col_text(q, 15, org->id, sizeof org->id);
        col_text(q, 16, org->name, sizeof org->name);
        org->created_at = sqlite3_column_int64(q, 17);
        org->seq = sqlite3_column_int64(q, 18);
    }
    sqlite3_reset(q);
    return LK_OK;
}

static int sqlite_key_rename(lk_store *st, const char *id, const char *name)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_KEY_RENAME);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, id);
    bind_text(q, 2, name);
    return run_write(s, q, "access key", true);
}

static int sqlite_key_delete(lk_store *st, const char *id)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt_get(s, S_KEY_DELETE);
    if (q == NULL) return s->base.err.code;
    bind_text(q, 1, id);
    return run_write(s, q, "access key", true);
}

static int key_list(sqlite_store *s, int id, const char *owner, int64_t now, const lk_page *pg,
                    lk_key_cb cb, void *ctx)
{
    sqlite3_stmt *q = stmt_get(s, id);
    if (q == NULL) return s->base.err.code;
    bind_page(q, owner, pg);
    sqlite3_bind_int64(q, 4, now);
    LIST_LOOP(s, q, "access keys", lk_key, read_key, cb, ctx);
}

static int sqlite_key_list_org(lk_store *st, const char *org_id, int64_t now, const lk_page *pg,
                               lk_key_cb cb, void *ctx)
{
    return key_list(S(st), S_KEY_LIST_ORG, org_id, now, pg, cb, ctx);
}

static int sqlite_key_list_user(lk_store *st, const char *user_id, int64_t now, const lk_page *pg,
                                lk_key_cb cb, void *ctx)
{
    return key_list(S(st), S_KEY_LIST_USER, user_id, now, pg, cb, ctx);
}

static int sqlite_key_touch(lk_store *st, const lk_key_touch *items, size_t n)
{
    sqlite_store *s = S(st);
    if (n == 0) return LK_OK;
    sqlite3_stmt *q = stmt_get(s, S_KEY_TOUCH);
    if (q == NULL) return s->base.err.code;
    int ret = tx_begin(s);
    if (ret != LK_OK) return ret;
    for (size_t i = 0; i < n && ret == LK_OK; i++) {
        bind_text(q, 1, items[i].id);
        sqlite3_bind_int64(q, 2, items[i].at);
        ret = run_write(s, q, "access key", false);
    }
    return tx_end(s, ret);
}

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

static void read_rec_user(sqlite3_stmt *q, lk_record *r)
{
    r->kind = LK_REC_USER;
    read_user(q, &r->as.u.user);
    col_text(q, 4, r->as.u.email_lower, sizeof r->as.u.email_lower);
    col_text(q, 5, r->as.u.pwhash, sizeof r->as.u.pwhash);
}

static void read_rec_org(sqlite3_stmt *q, lk_record *r)
{
    r->kind = LK_REC_ORG;
    read_org(q, &r->as.org);
}

static void read_rec_member(sqlite3_stmt *q, lk_record *r)
{
    r->kind = LK_REC_MEMBER;
    read_member(q, &r->as.member);
}

static void read_rec_project(sqlite3_stmt *q, lk_record *r)
{
    r->kind = LK_REC_PROJECT;
    read_project(q, &r->as.project);
}

static void read_rec_env(sqlite3_stmt *q, lk_record *r)
{
    r->kind = LK_REC_ENV;
    read_env(q, &r->as.env);
}

static void read_rec_billing(sqlite3_stmt *q, lk_record *r)
{
    r->kind = LK_REC_BILLING;
    read_billing(q, &r->as.billing);
}

static void read_rec_key(sqlite3_stmt *q, lk_record *r)
{
    r->kind = LK_REC_KEY;
    read_key(q, &r->as.k.key);
    const void *h = sqlite3_column_blob(q, 11);
    if (h && sqlite3_column_bytes(q, 11) == LK_TOKEN_HASH_LEN)
        memcpy(r->as.k.hash, h, LK_TOKEN_HASH_LEN);
}

static int dump_table(sqlite_store *s, int id, void (*read_fn)(sqlite3_stmt *, lk_record *),
                      lk_record_cb cb, void *ctx)
{
    sqlite3_stmt *q = stmt_get(s, id);
    if (q == NULL) return s->base.err.code;
    lk_record *r = malloc(sizeof *r); /* large (names are 401 bytes): keep off the stack */
    if (r == NULL) return lk_err_set(&s->base.err, LK_ENOMEM, NULL);
    int rc, ret = LK_OK;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        memset(r, 0, sizeof *r);
        read_fn(q, r);
        if ((ret = cb(ctx, r)) != 0) break;
    }
    sqlite3_reset(q);
    if (ret == LK_OK && rc != SQLITE_DONE) ret = fail(s, rc, "dump");
    sodium_memzero(r, sizeof *r); /* held a password hash */
    free(r);
    return ret;
}

/* Every row in foreign-key order, from one read snapshot. */
static int sqlite_dump(lk_store *st, lk_record_cb cb, void *ctx)
{
    sqlite_store *s = S(st);
    bool own_tx = s->tx_depth == 0;
    if (own_tx) {
        int rc = exec(s, "BEGIN", "dump");
        if (rc != LK_OK) return rc;
    }
    int ret = dump_table(s, S_DUMP_USERS, read_rec_user, cb, ctx);
    if (ret == LK_OK) ret = dump_table(s, S_DUMP_ORGS, read_rec_org, cb, ctx);
    if (ret == LK_OK) ret = dump_table(s, S_DUMP_MEMBERS, read_rec_member, cb, ctx);
    if (ret == LK_OK) ret = dump_table(s, S_DUMP_PROJECTS, read_rec_project, cb, ctx);
    if (ret == LK_OK) ret = dump_table(s, S_DUMP_ENVS, read_rec_env, cb, ctx);
    if (ret == LK_OK) ret = dump_table(s, S_DUMP_BILLING, read_rec_billing, cb, ctx);
    if (ret == LK_OK) ret = dump_table(s, S_DUMP_KEYS, read_rec_key, cb, ctx);
    if (own_tx) sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL); /* read-only: nothing to lose */
    return ret;
}

static int sqlite_begin(lk_store *st)
{
    sqlite_store *s = S(st);
    if (s->tx_depth != 0)
        return lk_err_set(&s->base.err, LK_EINTERNAL, "begin: a transaction is already open");
    return tx_begin(s);
}

static int sqlite_commit(lk_store *st)
{
    sqlite_store *s = S(st);
    if (s->tx_depth != 1)
        return lk_err_set(&s->base.err, LK_EINTERNAL, "commit: no transaction is open");
    return tx_end(s, LK_OK);
}

static int sqlite_rollback(lk_store *st)
{
    sqlite_store *s = S(st);
    if (s->tx_depth != 1)
        return lk_err_set(&s->base.err, LK_EINTERNAL, "rollback: no transaction is open");
    s->tx_depth = 0;
    int rc = sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    /* A failed statement may already have ended the transaction. */
    if (rc != SQLITE_OK && !sqlite3_get_autocommit(s->db)) return fail(s, rc, "rollback");
    return LK_OK;
}

static int sqlite_load(lk_store *st, const lk_record *r)
{
    sqlite_store *s = S(st);
    switch (r->kind) {
    case LK_REC_USER: {
        sqlite3_stmt *q = stmt_get(s, S_USER_INSERT);
        if (q == NULL) return s->base.err.code;
        const lk_user *u = &r->as.u.user;
        bind_text(q, 1, u->id);
        bind_text(q, 2, u->email);
        bind_text(q, 3, r->as.u.email_lower);
        bind_text(q, 4, u->name);
        bind_text(q, 5, r->as.u.pwhash);
        sqlite3_bind_int64(q, 6, u->created_at);
        return run_write(s, q, "user", false);
    }
    case LK_REC_ORG:
        return insert_org(s, &r->as.org);
    case LK_REC_MEMBER:
        return insert_member(s, r->as.member.org_id, r->as.member.user_id, r->as.member.joined_at);
    case LK_REC_PROJECT:
        return sqlite_project_create(st, &r->as.project);
    case LK_REC_ENV:
        return sqlite_env_create(st, &r->as.env);
    case LK_REC_BILLING:
        return write_billing(s, S_BILLING_REPLACE, &r->as.billing);
    case LK_REC_KEY:
        return insert_key(s, &r->as.k.key, r->as.k.hash);
    }
    return lk_err_set(&s->base.err, LK_EINTERNAL, "load: unknown record kind");
}

/* --- device --- sign-ins from the CLI (store.h: lk_device). Rare calls (a
 * few per sign-in), so their statements are prepared per call. */

#define DEVICE_COLS                                                                                \
    "device_hash, user_hash, client_name, client_addr, scopes, status, user_id, key_id, "          \
    "created_at, expires_at, last_poll_at, poll_interval"

static sqlite3_stmt *dev_prepare(sqlite_store *s, const char *sql)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
    if (rc != SQLITE_OK) {
        fail(s, rc, "prepare");
        sqlite3_finalize(q);
        return NULL;
    }
    return q;
}

/* Step a write once and finalize it; must_change: none changed → not found. */
static int dev_write(sqlite_store *s, sqlite3_stmt *q, bool must_change)
{
    int rc = run_write(s, q, "sign-in request", must_change);
    sqlite3_finalize(q);
    return rc;
}

static void dev_read(sqlite3_stmt *q, lk_device *d)
{
    memset(d, 0, sizeof *d);
    if (sqlite3_column_bytes(q, 0) == LK_TOKEN_HASH_LEN)
        memcpy(d->device_hash, sqlite3_column_blob(q, 0), LK_TOKEN_HASH_LEN);
    if (sqlite3_column_bytes(q, 1) == LK_TOKEN_HASH_LEN)
        memcpy(d->user_hash, sqlite3_column_blob(q, 1), LK_TOKEN_HASH_LEN);
    col_text(q, 2, d->client_name, sizeof d->client_name);
    col_text(q, 3, d->client_addr, sizeof d->client_addr);
    d->scopes = sqlite3_column_int64(q, 4);
    d->status = sqlite3_column_int64(q, 5);
    col_text(q, 6, d->user_id, sizeof d->user_id);
    col_text(q, 7, d->key_id, sizeof d->key_id);
    d->created_at = sqlite3_column_int64(q, 8);
    d->expires_at = sqlite3_column_int64(q, 9);
    d->last_poll_at = sqlite3_column_int64(q, 10);
    d->interval = sqlite3_column_int64(q, 11);
}

static int sqlite_device_create(lk_store *st, const lk_device *d, int64_t now)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = dev_prepare(s, "DELETE FROM device_requests WHERE expires_at <= ?1");
    if (q == NULL) return s->base.err.code;
    sqlite3_bind_int64(q, 1, now);
    int rc = dev_write(s, q, false);
    if (rc != LK_OK) return rc;
    q = dev_prepare(s, "INSERT INTO device_requests(" DEVICE_COLS ") "
                       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    if (q == NULL) return s->base.err.code;
    bind_hash(q, 1, d->device_hash);
    bind_hash(q, 2, d->user_hash);
    bind_text(q, 3, d->client_name);
    bind_text(q, 4, d->client_addr);
    sqlite3_bind_int64(q, 5, d->scopes);
    sqlite3_bind_int64(q, 6, d->status);
    bind_opt_text(q, 7, d->user_id);
    bind_opt_text(q, 8, d->key_id);
    sqlite3_bind_int64(q, 9, d->created_at);
    sqlite3_bind_int64(q, 10, d->expires_at);
    sqlite3_bind_int64(q, 11, d->last_poll_at);
    sqlite3_bind_int64(q, 12, d->interval);
    return dev_write(s, q, false);
}

static int dev_get(sqlite_store *s, const char *sql, const uint8_t hash[LK_TOKEN_HASH_LEN],
                   lk_device *out)
{
    sqlite3_stmt *q = dev_prepare(s, sql);
    if (q == NULL) return s->base.err.code;
    bind_hash(q, 1, hash);
    int rc = run_row(s, q, "sign-in request");
    if (rc == LK_OK) dev_read(q, out);
    sqlite3_finalize(q);
    return rc;
}

static int sqlite_device_get(lk_store *st, const uint8_t device_hash[LK_TOKEN_HASH_LEN],
                             lk_device *out)
{
    return dev_get(S(st), "SELECT " DEVICE_COLS " FROM device_requests WHERE device_hash = ?1",
                   device_hash, out);
}

static int sqlite_device_get_by_user(lk_store *st, const uint8_t user_hash[LK_TOKEN_HASH_LEN],
                                     lk_device *out)
{
    return dev_get(S(st), "SELECT " DEVICE_COLS " FROM device_requests WHERE user_hash = ?1",
                   user_hash, out);
}

static int sqlite_device_poll(lk_store *st, const uint8_t device_hash[LK_TOKEN_HASH_LEN],
                              int64_t last_poll_at, int64_t interval)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = dev_prepare(s, "UPDATE device_requests SET last_poll_at = ?2, "
                                     "poll_interval = ?3 WHERE device_hash = ?1");
    if (q == NULL) return s->base.err.code;
    bind_hash(q, 1, device_hash);
    sqlite3_bind_int64(q, 2, last_poll_at);
    sqlite3_bind_int64(q, 3, interval);
    return dev_write(s, q, true);
}

static int sqlite_device_decide(lk_store *st, const uint8_t user_hash[LK_TOKEN_HASH_LEN],
                                int64_t status, const char *user_id, int64_t now)
{
    sqlite_store *s = S(st);
    sqlite3_stmt *q = dev_prepare(s, "UPDATE device_requests SET status = ?2, user_id = ?3 "
                                     "WHERE user_hash = ?1 AND status = 0 AND expires_at > ?4");
    if (q == NULL) return s->base.err.code;
    bind_hash(q, 1, user_hash);
    sqlite3_bind_int64(q, 2, status);
    bind_text(q, 3, user_id);
    sqlite3_bind_int64(q, 4, now);
    return dev_write(s, q, true);
}

static int sqlite_device_redeem(lk_store *st, const uint8_t device_hash[LK_TOKEN_HASH_LEN],
                                int64_t now, const lk_key *k,
                                const uint8_t key_hash[LK_TOKEN_HASH_LEN])
{
    sqlite_store *s = S(st);
    int rc = tx_begin(s);
    if (rc != LK_OK) return rc;
    sqlite3_stmt *q = dev_prepare(s, "UPDATE device_requests SET status = 3, key_id = ?2 "
                                     "WHERE device_hash = ?1 AND status = 1 AND expires_at > ?3 "
                                     "AND user_id = ?4");
    if (q == NULL) return tx_end(s, s->base.err.code);
    bind_hash(q, 1, device_hash);
    bind_text(q, 2, k->id);
    sqlite3_bind_int64(q, 3, now);
    bind_text(q, 4, k->user_id);
    rc = dev_write(s, q, true);
    if (rc == LK_OK) rc = insert_key(s, k, key_hash);
    return tx_end(s, rc);
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
    .member_count = sqlite_member_count,
    .member_list = sqlite_member_list,
    .project_create = sqlite_project_create,
    .project_get = sqlite_project_get,
    .project_rename = sqlite_project_rename,
    .project_delete = sqlite_project_delete,
    .project_list = sqlite_project_list,
    .env_create = sqlite_env_create,
    .env_get = sqlite_env_get,
    .env_rename = sqlite_env_rename,
    .env_delete = sqlite_env_delete,
    .env_list = sqlite_env_list,
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
    .is_empty = sqlite_is_empty,
    .dump = sqlite_dump,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .load = sqlite_load,
    /* --- device --- */
    .device_create = sqlite_device_create,
    .device_get = sqlite_device_get,
    .device_get_by_user = sqlite_device_get_by_user,
    .device_poll = sqlite_device_poll,
    .device_decide = sqlite_device_decide,
    .device_redeem = sqlite_device_redeem,
};
