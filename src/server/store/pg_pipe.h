/*
 * pg_pipe.h — a second, non-blocking PostgreSQL connection per event loop
 * for the hot-path look-up: an access key by its token hash, with its
 * owner (store_pg.c's key_get_by_hash_owner, borrowed through store_pg.h:
 * the same statement, settings and decoder). The loop never waits on it:
 * a look-up is queued and answered later, through a callback, when the
 * connection's socket becomes readable.
 *
 * Design:
 *  - libpq's pipeline mode (PQenterPipelineMode) on a non-blocking
 *    connection (PQsetnonblocking). lk_pgpipe_lookup queues
 *    PQsendQueryPrepared into libpq's output buffer; lk_pgpipe_flush
 *    (called by the owner once per loop turn, when io.flush_soon asked for
 *    it) ends the batch with one PQpipelineSync and writes it: every
 *    look-up queued during one turn of the loop shares one write and one
 *    round trip, and batches follow each other without waiting.
 *  - Waiters are answered in FIFO order: a ring of entries (the PREPARE
 *    of a new connection, each query, each SYNC) mirrors libpq's command
 *    queue; lk_pgpipe_readable reads (PQconsumeInput) and matches every
 *    complete result (PQgetResult until PQisBusy) to the entry at the head.
 *  - The pipe knows nothing about the event loop: its owner watches the
 *    socket (io.watch / io.unwatch) and calls lk_pgpipe_readable and
 *    lk_pgpipe_flush. No HTTP type, no h2o header here.
 *  - Connection loss (read or write error, EOF, a FATAL result such as
 *    pg_terminate_backend's): the connection is closed, and every waiter
 *    still pending is sent once more on a fresh connection (a read: as
 *    store_pg.c retries reads once); a waiter that was already sent again,
 *    or when the reconnect fails, is answered LK_EUNAVAILABLE (its request
 *    answers 503 once). Reconnects are blocking connects, as store_pg.c's
 *    PQreset; after a failed one no new attempt for LK_PGPIPE_BACKOFF_MS.
 *    An idle connection that the server drops is noticed by the watch and
 *    closed at once; the next look-up reconnects.
 *  - A waiter whose request has gone is cancelled by its ticket: its
 *    result is read and dropped; the callback is never called.
 *
 * Invariants: head <= tail, tail - head <= LK_PGPIPE_RING; each query
 * entry's callback is called exactly once (or never, if cancelled);
 * callbacks run on the owner's thread from lk_pgpipe_readable or
 * lk_pgpipe_free, never from lk_pgpipe_lookup. Never logs a token or a
 * hash. One thread uses a pipe.
 */
#ifndef LK_PG_PIPE_H
#define LK_PG_PIPE_H

#include "store.h"

#include <stdint.h>

#define LK_PGPIPE_MAX_WAITERS 1024 /* look-ups in flight per pipe */
#define LK_PGPIPE_BACKOFF_MS 1000  /* after a failed connect, no new attempt before */

typedef struct lk_pgpipe lk_pgpipe;

/* A look-up's answer: the key with its owner (user or org, zero when none). */
typedef struct lk_pgpipe_row {
    lk_key key;
    lk_user user;
    lk_org org;
} lk_pgpipe_row;

/* rc LK_OK (row filled), LK_ENOT_FOUND, LK_EUNAVAILABLE or LK_EINTERNAL
 * (e: a message safe to show). row and e are valid during the call only. */
typedef void (*lk_pgpipe_cb)(void *arg, int rc, const lk_pgpipe_row *row, const lk_err *e);

/* How the pipe asks its owner's event loop for attention. */
typedef struct lk_pgpipe_io {
    void *ctx;
    /* connected: call lk_pgpipe_readable whenever fd is readable; 0, or -1 (cannot) */
    int (*watch)(void *ctx, int fd);
    void (*unwatch)(void *ctx);    /* the watched connection is about to close */
    void (*flush_soon)(void *ctx); /* call lk_pgpipe_flush before the loop sleeps */
} lk_pgpipe_io;

/* A pipe for url (a postgresql:// URL); connects on first use. url and io
 * are copied. NULL when out of memory. */
lk_pgpipe *lk_pgpipe_new(const char *url, const lk_pgpipe_io *io);

/* Answer every pending waiter LK_EUNAVAILABLE, close, free. NULL is a no-op. */
void lk_pgpipe_free(lk_pgpipe *p);

/* Queue the look-up of hash. LK_OK: cb(arg, …) is called later, exactly
 * once, unless lk_pgpipe_cancel(*ticket) comes first. LK_EUNAVAILABLE (no
 * connection: connect failed or backing off) or LK_ENOMEM (LK_PGPIPE_MAX_WAITERS
 * pending): cb is never called; the caller may look up synchronously. */
int lk_pgpipe_lookup(lk_pgpipe *p, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_pgpipe_cb cb,
                     void *arg, uint64_t *ticket);

/* Forget the waiter of ticket (its callback will not be called). A ticket
 * already answered is ignored. */
void lk_pgpipe_cancel(lk_pgpipe *p, uint64_t ticket);

/* End the current batch (PQpipelineSync) and write what is buffered.
 * 0: all written; 1: the socket is full, call again soon. */
int lk_pgpipe_flush(lk_pgpipe *p);

/* The socket is readable: read, answer every waiter whose result is
 * complete, notice a lost connection. */
void lk_pgpipe_readable(lk_pgpipe *p);

/* Waiters not yet answered (cancelled ones included). */
size_t lk_pgpipe_pending(const lk_pgpipe *p);

/* Connections made so far (a test sees the reconnect). */
uint64_t lk_pgpipe_connects(const lk_pgpipe *p);

#endif
