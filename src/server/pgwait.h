/*
 * pgwait.h — one event loop's pipelined PostgreSQL connection
 * (store/pg_pipe.h) tied to that loop: its socket watched by the h2o
 * evloop, its batch flushed once per loop turn.
 *
 * Design: the pipe's socket is dup'ed and given to h2o as a socket with
 * H2O_SOCKET_FLAG_DONT_READ (h2o only says "readable"; libpq does the
 * reading, exactly like the loop's listening socket); the dup is closed
 * before libpq closes its own descriptor. lk_pgpipe_flush runs from a
 * zero-millisecond h2o timeout, linked by the first look-up of a loop
 * turn: h2o runs it after every socket event of that turn, so all the
 * look-ups the turn queued go out as one batch. A flush that could not
 * write everything retries after LK_PGWAIT_RETRY_MS.
 *
 * Only the loop's own thread touches it; server.c creates it for a
 * PostgreSQL database and frees it after the loop's drain. No SQL here.
 */
#ifndef LK_PGWAIT_H
#define LK_PGWAIT_H

#include "pg_pipe.h"

#include <h2o.h>

#define LK_PGWAIT_RETRY_MS 1

typedef struct lk_pgwait lk_pgwait;

/* A pipe to url watched by loop. NULL when out of memory. */
lk_pgwait *lk_pgwait_new(h2o_loop_t *loop, const char *url);

/* Answer its pending look-ups LK_EUNAVAILABLE, close, free. NULL: no-op. */
void lk_pgwait_free(lk_pgwait *w);

/* The pipe to queue look-ups on. */
lk_pgpipe *lk_pgwait_pipe(lk_pgwait *w);

#endif
