/*
 * observe.h — what latchkeyd notes about each request for the operator:
 * its id (X-Request-Id, reqid.h), the route it matched, who made it and
 * how authentication went; and, at the reply, the metrics (metrics.h) and
 * the JSON access-log line (accesslog.h).
 *
 *   http.c  on_req:        lk_observe_begin → lk_observe_route → lk_observe_auth
 *   reply.c lk_reply_log:  lk_observe_reply (every response goes through it,
 *                          a deferred one from a worker's result too)
 *
 * The record lives in the request's h2o memory pool, attached as a
 * pass-through prefilter (h2o's per-request hook list; ours only passes
 * the response on), so it is found from the h2o_req_t alone — for a reply
 * written later by a job as well — with no table and no lock. It holds no
 * secret: a principal's kind and key id, never a token, cookie, CSRF token
 * or query string.
 *
 * X-Request-Id is added to the response at lk_observe_begin (so every
 * handler's reply carries it); a response for a request that never reached
 * the dispatcher (h2o's own 413) gets one at lk_observe_reply.
 */
#ifndef LK_OBSERVE_H
#define LK_OBSERVE_H

#include "principal.h"
#include "reqid.h"
#include "service.h"

#include <h2o.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct lk_obs {
    char id[LK_REQID_SIZE]; /* the request id, NUL-terminated, [A-Za-z0-9._-] */
    size_t id_len;
    size_t route;                /* index into lk_routes, or LK_METRICS_ROUTE_* */
    lk_principal_kind principal; /* LK_PRINCIPAL_NONE until authenticated */
    char key_id[LK_ID_SIZE];     /* the key's id for a key principal, else "" */
    int authn;                   /* lk_authn, or -1 when no credential was needed */
} lk_obs;

/* Attach a record to req (pool memory, freed with the request), take a
 * sane incoming X-Request-Id or generate one, and add it to the response
 * headers. The route starts as LK_METRICS_ROUTE_UNMATCHED. Never NULL. */
lk_obs *lk_observe_begin(h2o_req_t *req);

/* The record attached to req, or NULL. */
lk_obs *lk_observe_find(h2o_req_t *req);

/* The API route the request matched (lk_routes index), or
 * LK_METRICS_ROUTE_DASHBOARD for the embedded files. */
void lk_observe_route(lk_obs *o, size_t route);

/* Authentication's result: rc from lk_http_authenticate, the principal it
 * filled and the loop's service handle, whose expired_credential flag it
 * reads and clears. */
void lk_observe_auth(lk_obs *o, int rc, const lk_principal *p, lk_svc *svc);

/* The reply: status, microseconds since the request began. Adds
 * X-Request-Id if no record exists yet, counts the metrics, and writes the
 * JSON access-log line when the log format is JSON. Returns true if it
 * wrote the line (the caller then writes no text line). Call before the
 * response headers are sent. */
bool lk_observe_reply(h2o_req_t *req, int status, int64_t us);

#endif
