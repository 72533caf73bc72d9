/*
 * retention.h — the audit log's retention timer: one thread, with its own
 * store connection, that deletes audit events older than
 * --audit-retention-days (lk_svc_audit_purge) at start and then every
 * interval. It runs beside the server, never on an event loop or a
 * request's path, and shares nothing with them but the database.
 *
 *   main ── lk_retention_start ── lk_server_run … ── lk_retention_stop
 *   retention thread: open store ─ purge ─ wait(interval or stop) ─ purge …
 *
 * A failed purge (database down) is retried at the next interval; it is
 * reported on stderr as one line without parameters.
 */
#ifndef LK_RETENTION_H
#define LK_RETENTION_H

#include "jobs.h"
#include "service.h"

#define LK_RETENTION_INTERVAL_SECS 3600 /* default: hourly */

typedef struct lk_retention lk_retention;

/* Start the thread. days <= 0: nothing is ever purged and no thread starts
 * (returns NULL, which lk_retention_stop accepts). cfg, open_store's ctx
 * must outlive the thread. Returns the running timer (owned by the caller:
 * lk_retention_stop), or NULL when off or on failure (a line on stderr). */
lk_retention *lk_retention_start(lk_store_open_fn open_store, const void *store_ctx,
                                 const lk_svc_config *cfg, int days, int interval_secs);

/* Wake the thread, wait for it, close its store, free r. NULL is a no-op. */
void lk_retention_stop(lk_retention *r);

#endif
