/*
 * sqlite_commit.c — the ceiling for key creation: how many single-row
 * INSERT + COMMIT transactions raw SQLite manages on this disk in WAL mode
 * with synchronous=FULL (what latchkeyd's SQLite backend promises: every
 * write that returns is durable).
 *
 *     sqlite_commit PATH [N]      N transactions (default 2000) into a fresh
 *                                 database at PATH; prints
 *                                 "RESULT <commits/s> <N> <seconds>"
 *
 * The row is shaped like an access key (a 32-byte hash with a unique index,
 * a few short text columns) so that the page writes per commit resemble the
 * real ones. PATH and its -wal/-shm files are removed first and afterwards.
 * bench/run.sh runs it on the same file system as the server's database.
 */
#include <sqlite3.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void remove_db(const char *path)
{
    char buf[4096];
    unlink(path);
    snprintf(buf, sizeof buf, "%s-wal", path);
    unlink(buf);
    snprintf(buf, sizeof buf, "%s-shm", path);
    unlink(buf);
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "sqlite_commit: %s: %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: sqlite_commit PATH [N]\n");
        return 2;
    }
    const char *path = argv[1];
    long n = argc == 3 ? strtol(argv[2], NULL, 10) : 2000;
    if (n < 1 || n > 10000000) {
        fprintf(stderr, "sqlite_commit: N must be 1..10000000\n");
        return 2;
    }
    int rc = 1;
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL, *begin = NULL, *commit = NULL;
    remove_db(path);
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "sqlite_commit: open %s: %s\n", path, sqlite3_errmsg(db));
        goto out;
    }
    if (exec(db, "PRAGMA journal_mode=WAL") || exec(db, "PRAGMA synchronous=FULL") ||
        exec(db, "CREATE TABLE k (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
                 "org_id TEXT NOT NULL, name TEXT NOT NULL, hash BLOB NOT NULL UNIQUE, "
                 "created_at INTEGER NOT NULL)") ||
        exec(db, "CREATE INDEX k_org ON k (org_id, seq)"))
        goto out;
    if (sqlite3_prepare_v2(db, "INSERT INTO k (id, org_id, name, hash, created_at) "
                               "VALUES (?, 'org_benchbenchbenchbench', 'a key', ?, ?)",
                           -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite_commit: prepare: %s\n", sqlite3_errmsg(db));
        goto out;
    }
    double t0 = now_secs();
    for (long i = 0; i < n; i++) {
        char id[32];
        uint8_t hash[32];
        snprintf(id, sizeof id, "key_%020ld", i);
        for (size_t j = 0; j < sizeof hash; j++) hash[j] = (uint8_t)((i * 2654435761u) >> (j % 24));
        memcpy(hash, &i, sizeof i);
        sqlite3_bind_text(ins, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(ins, 2, hash, sizeof hash, SQLITE_TRANSIENT);
        sqlite3_bind_int64(ins, 3, (sqlite3_int64)time(NULL));
        if (sqlite3_step(begin) != SQLITE_DONE || sqlite3_step(ins) != SQLITE_DONE ||
            sqlite3_step(commit) != SQLITE_DONE) {
            fprintf(stderr, "sqlite_commit: row %ld: %s\n", i, sqlite3_errmsg(db));
            goto out;
        }
        sqlite3_reset(begin);
        sqlite3_reset(ins);
        sqlite3_reset(commit);
    }
    double secs = now_secs() - t0;
    printf("RESULT %.0f %ld %.3f\n", (double)n / secs, n, secs);
    rc = 0;
out:
    sqlite3_finalize(ins);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    remove_db(path);
    return rc;
}
