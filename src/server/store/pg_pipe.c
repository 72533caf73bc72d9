/*
 * pg_pipe.c — the pipelined key look-up (see pg_pipe.h).
 */
#include "pg_pipe.h"

#include "schema.h"
#include "store_pg.h"

#include <libpq-fe.h>

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Entries: LK_PGPIPE_MAX_WAITERS queries, their SYNCs (at most one each)
 * and a connection's PREPARE; a power of two. */
#define PIPE_RING 4096
#define PIPE_MASK (PIPE_RING - 1)
_Static_assert(2 * LK_PGPIPE_MAX_WAITERS + 2 <= PIPE_RING, "the ring holds every entry");
#define PIPE_URL_MAX 1024

enum pipe_kind { E_PREPARE, E_QUERY, E_SYNC };

typedef struct pipe_entry {
    enum pipe_kind kind;
    bool answered;   /* its result came (callback called or cancelled); its NULL is next */
    bool retried;    /* already sent again after a lost connection */
    lk_pgpipe_cb cb; /* NULL: cancelled, or not a query */
    void *arg;
    uint64_t id; /* the waiter's ticket (kept when it is sent again) */
    uint8_t hash[LK_TOKEN_HASH_LEN];
} pipe_entry;

struct lk_pgpipe {
    PGconn *conn; /* NULL: not connected */
    lk_pgpipe_io io;
    uint64_t head, tail;     /* ring positions: [head, tail) are pending */
    size_t waiters;          /* query entries in [head, tail) */
    size_t unsynced;         /* queries sent since the last SYNC */
    int64_t reconnect_after; /* monotonic ms */
    uint64_t connects;
    uint64_t last_id; /* tickets handed out */
    const char *stmt_name;
    char sql[LK_SCHEMA_SQL_MAX];
    char url[PIPE_URL_MAX];
    lk_pgpipe_row row; /* the answer being delivered */
    pipe_entry ring[PIPE_RING];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pipe_entry *push(lk_pgpipe *p, enum pipe_kind kind)
{
    assert(p->tail - p->head < PIPE_RING);
    pipe_entry *e = &p->ring[p->tail++ & PIPE_MASK];
    *e = (pipe_entry){.kind = kind};
    if (kind == E_QUERY) p->waiters++;
    return e;
}

static void pop(lk_pgpipe *p)
{
    assert(p->head < p->tail);
    if (p->ring[p->head & PIPE_MASK].kind == E_QUERY) p->waiters--;
    p->head++;
}

/* Answer e once (unless cancelled or answered). */
static void answer(lk_pgpipe *p, pipe_entry *e, int rc, const lk_pgpipe_row *row, const char *msg)
{
    if (e->answered) return;
    e->answered = true;
    lk_pgpipe_cb cb = e->cb;
    e->cb = NULL;
    if (cb == NULL) return;
    lk_err err;
    lk_err_clear(&err);
    if (rc != LK_OK && rc != LK_ENOT_FOUND) lk_err_set(&err, rc, msg);
    cb(e->arg, rc, row, &err);
}

static int pipe_connect(lk_pgpipe *p);
static int send_query(lk_pgpipe *p, const pipe_entry *w);

/* Whether some waiter queued before position end could be sent again. */
static bool any_retry(const lk_pgpipe *p, uint64_t end)
{
    for (uint64_t i = p->head; i < end; i++) {
        const pipe_entry *e = &p->ring[i & PIPE_MASK];
        if (e->kind == E_QUERY && !e->answered && !e->retried && e->cb != NULL) return true;
    }
    return false;
}

/* The connection is gone (or being closed): stop watching, close. Every
 * waiter queued on it is sent once more on a fresh connection if `retry`
 * (a read: running it twice is harmless, as store_pg.c retries reads) and
 * it was not sent again already and the reconnect works; else answered
 * LK_EUNAVAILABLE. A callback may queue a new look-up (at positions past
 * `end`, on the new connection). */
static void lose(lk_pgpipe *p, bool retry)
{
    if (p->conn == NULL) return;
    p->io.unwatch(p->io.ctx);
    PQfinish(p->conn);
    p->conn = NULL;
    p->unsynced = 0;
    uint64_t end = p->tail;
    bool again = retry && any_retry(p, end) && pipe_connect(p) == LK_OK;
    while (p->head < end) {
        pipe_entry w = p->ring[p->head & PIPE_MASK];
        pop(p);
        if (w.kind != E_QUERY || w.answered || w.cb == NULL) continue;
        if (again && !w.retried && p->conn != NULL && send_query(p, &w) == LK_OK) continue;
        answer(p, &w, LK_EUNAVAILABLE, NULL, "database unavailable");
    }
}

/* Connect, enter pipeline mode, queue the PREPARE, watch the socket. */
static int pipe_connect(lk_pgpipe *p)
{
    if (mono_ms() < p->reconnect_after) return LK_EUNAVAILABLE;
    PGconn *c = lk_store_pg_connect(p->url);
    if (c == NULL) return LK_ENOMEM;
    if (PQstatus(c) != CONNECTION_OK || PQsetnonblocking(c, 1) != 0 ||
        PQenterPipelineMode(c) != 1 || PQsendPrepare(c, p->stmt_name, p->sql, 1, NULL) != 1) {
        (void)lk_store_pg_result_err(c, NULL, "pipeline connect");
        PQfinish(c);
        p->reconnect_after = mono_ms() + LK_PGPIPE_BACKOFF_MS;
        return LK_EUNAVAILABLE;
    }
    if (p->io.watch(p->io.ctx, PQsocket(c)) != 0) {
        PQfinish(c);
        return LK_EUNAVAILABLE;
    }
    p->conn = c;
    p->reconnect_after = 0;
    p->connects++;
    push(p, E_PREPARE);
    p->unsynced++;
    return LK_OK;
}

lk_pgpipe *lk_pgpipe_new(const char *url, const lk_pgpipe_io *io)
{
    assert(io != NULL && io->watch && io->unwatch && io->flush_soon);
    if (strlen(url) >= PIPE_URL_MAX) return NULL;
    lk_pgpipe *p = calloc(1, sizeof *p);
    if (p == NULL) return NULL;
    p->io = *io;
    snprintf(p->url, sizeof p->url, "%s", url);
    if (lk_store_pg_key_owner_stmt(&p->stmt_name, p->sql, sizeof p->sql) != 0) {
        assert(!"key_get_by_hash_owner does not expand");
        free(p);
        return NULL;
    }
    return p;
}

void lk_pgpipe_free(lk_pgpipe *p)
{
    if (p == NULL) return;
    lose(p, false);
    free(p);
}

/* Queue w's statement and its ring entry (a copy of w, marked retried if
 * it was queued before). LK_OK, or LK_EUNAVAILABLE (libpq refused it). */
static int send_query(lk_pgpipe *p, const pipe_entry *w)
{
    const char *v[1] = {(const char *)w->hash};
    const int len[1] = {LK_TOKEN_HASH_LEN}, fmt[1] = {1};
    if (PQsendQueryPrepared(p->conn, p->stmt_name, 1, v, len, fmt, 0) != 1) {
        (void)lk_store_pg_result_err(p->conn, NULL, p->stmt_name);
        return LK_EUNAVAILABLE;
    }
    p->unsynced++;
    p->io.flush_soon(p->io.ctx); /* the owner links its flush once per loop turn */
    pipe_entry *e = push(p, E_QUERY);
    bool again = w->id != 0;
    *e = *w;
    e->kind = E_QUERY;
    e->answered = false;
    e->retried = again;
    return LK_OK;
}

int lk_pgpipe_lookup(lk_pgpipe *p, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_pgpipe_cb cb,
                     void *arg, uint64_t *ticket)
{
    assert(cb != NULL);
    if (p->waiters >= LK_PGPIPE_MAX_WAITERS) return LK_ENOMEM;
    if (p->conn == NULL) {
        int rc = pipe_connect(p);
        if (rc != LK_OK) return rc;
    }
    pipe_entry w = {.kind = E_QUERY, .cb = cb, .arg = arg};
    memcpy(w.hash, hash, LK_TOKEN_HASH_LEN);
    if (send_query(p, &w) != LK_OK) {
        lose(p, true);
        return LK_EUNAVAILABLE;
    }
    p->ring[(p->tail - 1) & PIPE_MASK].id = *ticket = ++p->last_id;
    return LK_OK;
}

void lk_pgpipe_cancel(lk_pgpipe *p, uint64_t ticket)
{
    /* rare (a client gone mid-look-up): a scan of at most the ring */
    for (uint64_t i = p->head; ticket != 0 && i < p->tail; i++) {
        pipe_entry *e = &p->ring[i & PIPE_MASK];
        if (e->kind == E_QUERY && e->id == ticket) e->cb = NULL;
    }
}

int lk_pgpipe_flush(lk_pgpipe *p)
{
    if (p->conn == NULL) return 0;
    if (p->unsynced > 0) {
        if (PQpipelineSync(p->conn) != 1) goto lost;
        push(p, E_SYNC);
        p->unsynced = 0;
    }
    int rc = PQflush(p->conn);
    if (rc < 0) goto lost;
    return rc;
lost:
    (void)lk_store_pg_result_err(p->conn, NULL, "pipeline flush");
    lose(p, true);
    return 0;
}

/* The result r (not NULL) for the head entry e. false: the connection is
 * lost (the caller closes it). */
static bool take_result(lk_pgpipe *p, pipe_entry *e, PGresult *r)
{
    ExecStatusType es = PQresultStatus(r);
    if (e->kind == E_PREPARE) {
        e->answered = true;
        if (es == PGRES_COMMAND_OK) return true;
        (void)lk_store_pg_result_err(p->conn, r, "pipeline prepare");
        return false; /* a connection without the statement is of no use */
    }
    if (es == PGRES_TUPLES_OK) {
        int rc = lk_store_pg_key_owner_read(r, &p->row.key, &p->row.user, &p->row.org);
        answer(p, e, rc, &p->row, NULL);
        return true;
    }
    if (es == PGRES_PIPELINE_ABORTED) { /* an earlier statement of its batch failed */
        answer(p, e, LK_EUNAVAILABLE, NULL, "database unavailable");
        return true;
    }
    int rc = lk_store_pg_result_err(p->conn, r, p->stmt_name);
    /* FATAL: the server ends the session (e.g. pg_terminate_backend); the
     * waiter is left to lose(), which may send it again */
    const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (PQstatus(p->conn) != CONNECTION_OK || (sev != NULL && strcmp(sev, "FATAL") == 0))
        return false;
    answer(p, e, rc, NULL, rc == LK_EUNAVAILABLE ? "database unavailable" : "database error");
    return true;
}

/* Every complete result, matched to the head of the ring. false: lost. */
static bool drain_results(lk_pgpipe *p)
{
    while (p->conn != NULL && p->head < p->tail && !PQisBusy(p->conn)) {
        pipe_entry *e = &p->ring[p->head & PIPE_MASK];
        PGresult *r = PQgetResult(p->conn);
        if (e->kind == E_SYNC) {
            bool sync = r != NULL && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
            PQclear(r);
            if (!sync) return false; /* out of step with libpq: start afresh */
            pop(p);
            continue;
        }
        if (r == NULL) { /* the end of e's results */
            if (!e->answered) return false;
            pop(p);
            continue;
        }
        bool ok = e->answered || take_result(p, e, r);
        PQclear(r);
        if (!ok) return false;
    }
    return true;
}

void lk_pgpipe_readable(lk_pgpipe *p)
{
    if (p->conn == NULL) return;
    if (PQconsumeInput(p->conn) != 1 || !drain_results(p) ||
        (p->conn != NULL && PQstatus(p->conn) != CONNECTION_OK)) {
        if (p->conn != NULL && p->head < p->tail)
            (void)lk_store_pg_result_err(p->conn, NULL, "pipeline read");
        lose(p, true);
        return;
    }
    if (p->conn != NULL && PQflush(p->conn) == 1) p->io.flush_soon(p->io.ctx);
}

size_t lk_pgpipe_pending(const lk_pgpipe *p)
{
    return p->waiters;
}

uint64_t lk_pgpipe_connects(const lk_pgpipe *p)
{
    return p->connects;
}
