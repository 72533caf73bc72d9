/*
 * http.h — latchkeyd's server: sockets, event loops, worker threads,
 * request dispatch, shutdown.
 *
 * Shape:
 *
 *   main thread ── migrate schema once ── open everything ── sigwait(TERM/INT)
 *   loop thread × N: one h2o evloop, its own SO_REUSEPORT listen socket,
 *                    its own lk_store connection + lk_svc + lk_usage; a timer
 *                    flushes lk_usage every LK_USAGE_FLUSH_SECS
 *   worker × M:      its own lk_store + lk_svc; runs the slow calls (signup,
 *                    login: argon2id) so they never stall a loop, and hands
 *                    the result back to the loop with h2o_multithread_*
 *
 * Every request is dispatched on its loop thread: path checks and route
 * match (router.h), authentication (Bearer header wins over the session
 * cookie; cookie-authenticated POST/PATCH/DELETE need X-CSRF-Token), then
 * the handler (api.h). Paths outside the API go to the dashboard's
 * embedded files (static.h).
 *
 * A deferred request may lose its client while a worker runs: the request's
 * pool owns a small anchor whose dispose callback detaches the job, so the
 * result is then dropped (and its secrets wiped) instead of written to a
 * freed request.
 *
 * Shutdown (SIGTERM/SIGINT): every loop closes its listen socket, closes
 * its idle keep-alive connections, finishes the requests in flight (those
 * still arriving, running, deferred, or being written; bounded by
 * LK_SHUTDOWN_WAIT_MS), flushes usage; then workers stop, stores close,
 * exit status 0.
 */
#ifndef LK_HTTP_H
#define LK_HTTP_H

#include "reply.h"
#include "service.h"

#include <h2o.h>
#include <stdatomic.h>

typedef struct lk_http_config {
    const char *listen;       /* "ADDR:PORT" ("[::1]:8080" for IPv6) */
    const char *database_url; /* lk_store_open's URL */
    int threads;              /* event loops, >= 1 */
    const char *tls_cert;     /* PEM certificate chain, or NULL: plain HTTP */
    const char *tls_key;      /* PEM private key (set with tls_cert) */
    lk_svc_config svc;
} lk_http_config;

/* Run until SIGTERM/SIGINT. Returns the process exit status; on a start-up
 * failure prints one line to stderr and returns non-zero. */
int lk_http_run(const lk_http_config *cfg);

/* Queue one access-log line (ending in '\n') for stderr. Lines are
 * buffered per loop thread and written whole, in batches of at most
 * LK_LOG_BATCH bytes (<= PIPE_BUF, so lines from different threads never
 * interleave), after each event-loop iteration. Loop threads only. */
#define LK_LOG_BATCH 4096
void lk_http_log(h2o_req_t *req, const char *line, size_t n);

/* --- deferred work ------------------------------------------------------ */
typedef struct lk_job lk_job;
struct lk_job_anchor;
struct lk_job {
    h2o_multithread_message_t msg; /* carries the job back to its loop */
    lk_job *next;                  /* worker queue link */
    /* On a worker thread, with the worker's own service handle. */
    void (*run)(lk_job *j, lk_svc *svc);
    /* On the loop thread. req is NULL when the client has gone. Must free
     * j (and wipe any secret in it). */
    void (*finish)(lk_job *j, h2o_req_t *req);
    /* set by lk_http_defer */
    atomic_int cancelled; /* the client went away before a worker took it */
    h2o_req_t *req;
    struct lk_job_anchor *anchor;
    lk_loop *loop;
};

/* Queue j (allocated zeroed by the caller) for a worker. On success the
 * queue owns j until it calls finish, and this returns LK_HANDLER_DEFERRED;
 * on failure (queue full: LK_EUNAVAILABLE on r->err) the caller still owns j. */
int lk_http_defer(lk_req *r, lk_job *j);

#endif
