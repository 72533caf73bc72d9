/*
 * store_metrics.h — timing every store call for the metrics (metrics.h):
 * latency per operation, failures, keys created and deleted.
 *
 * lk_store_metrics_wrap(st) points st at a copy of its backend's op table
 * in which each timed op (store_metrics.c's list) is a wrapper: read the
 * monotonic clock, call the backend's op with the same st, read the clock,
 * record into the calling thread's metrics slot. The connection itself is
 * untouched (the backend still casts st to its own struct; st->err is the
 * backend's), so an op added to store.h later and not yet in the list is
 * simply called untimed. key_create and key_delete returning LK_OK count
 * as a key created / deleted (this is the one place every key creation
 * and deletion passes, whichever API route caused it).
 *
 * Used only when metrics are on (--metrics-listen): without it no store is
 * wrapped and a call costs what it always did.
 */
#ifndef LK_STORE_METRICS_H
#define LK_STORE_METRICS_H

#include "store.h"

/* Time st's calls from now on. Call before st is used by another thread;
 * the first call registers the op names (lk_metrics_set_store_ops). */
void lk_store_metrics_wrap(lk_store *st);

/* Record a key_get_by_hash_owner made outside the op table: the pipelined
 * PostgreSQL look-up (auth.c, pg_pipe.h), from queued to answered. */
void lk_store_metrics_key_owner(uint64_t usec, int rc);

#endif
