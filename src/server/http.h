/*
 * http.h — request dispatch: what latchkeyd does with each HTTP request.
 *
 * For every request, on the loop thread that received it:
 *   1. ambiguous body framing (two Content-Lengths, or one with
 *      Transfer-Encoding, ...) → 400 and close (request smuggling);
 *   2. a path outside the API → the dashboard's embedded files (static.h);
 *   3. route match (router.h): 404, 405 with Allow, or a route;
 *   4. unless the route is LK_ROUTE_PUBLIC, authentication (auth.h); on
 *      PostgreSQL a Bearer key's look-up is deferred to the loop's
 *      pipelined connection (pgwait.h) and step 5 runs when it answers;
 *   5. the handler (api.h), which replies, defers to a worker (jobs.h),
 *      or returns an lk_err code that reply.h turns into the error body;
 *      a route that changes data (LK_ROUTE_WRITE) has its handler run on
 *      the writer thread instead, when there is one (writer.h).
 *
 * The server (server.h) owns the threads and sockets; it gives each loop
 * an lk_http_ctx whose h2o context the loop runs, so dispatch finds the
 * loop's service handle and job port from the request without a lookup
 * or a lock.
 */
#ifndef LK_HTTP_H
#define LK_HTTP_H

#include "jobs.h"
#include "service.h"

#include <h2o.h>

/* One event loop's request-side state (embedded in the server's loop). */
typedef struct lk_http_ctx {
    h2o_context_t h2o; /* the loop's h2o context; dispatch finds this struct from it */
    lk_svc svc;        /* the loop's service handle (its own store connection) */
    lk_jobs_port jobs; /* the loop's way to the workers */
    lk_jobs *writer;   /* group commit for LK_ROUTE_WRITE (writer.h); NULL: run here */
    /* PostgreSQL: the loop's pipelined connection for key look-ups (pgwait.h), or NULL */
    struct lk_pgwait *pg;
} lk_http_ctx;

/* Register the dispatcher (and the JSON 413 fallback) on host. Every
 * context serving host must be the h2o member of an lk_http_ctx. */
void lk_http_install(h2o_hostconf_t *host);

#endif
