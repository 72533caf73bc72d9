/*
 * writer.h — the routes that change data (LK_ROUTE_WRITE) run on the
 * writer thread, so that the event loops never wait for a commit and
 * concurrent writes share one fsync (group commit; the SQLite backend).
 *
 *   loop:   http.c, after authentication: lk_writer_defer copies the
 *           request (a stand-in, reply.h's lk_reply_capture), the route
 *           match, the principal and the audit origin into a job
 *   writer: jobs.c (LK_JOBS_BATCH) runs the route's own handler against
 *           the stand-in with the writer's lk_svc, inside the batch's one
 *           transaction; the reply is captured, not sent
 *   loop:   once the batch has committed: the captured reply is sent; if
 *           the batch failed, 503 instead (nothing of it was kept)
 *
 * So a handler is written once and runs unchanged on either thread (on
 * the loop when there is no writer: PostgreSQL).
 *
 * Invariants: a write route's handler never defers and never reads
 * req->conn (the client address is resolved on the loop first); a 2xx for
 * a write leaves the loop only after the transaction holding that write
 * has committed (synchronous=FULL: it is on disk).
 */
#ifndef LK_WRITER_H
#define LK_WRITER_H

#include "jobs.h"
#include "req.h"

/* Hand r's route handler to the writer. LK_HANDLER_DEFERRED, or an lk_err
 * code (on r->err) after which the caller replies as usual. */
int lk_writer_defer(lk_req *r, lk_jobs *writer);

#endif
