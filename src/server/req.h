/*
 * req.h — one API request as the dispatcher (http.c) hands it to a
 * handler (api.h): h2o's request, the matched route with its named path
 * parameters, the loop thread's service handle, and the principal.
 *
 * Lives on the dispatcher's stack for the synchronous part of a request;
 * nothing in it is allocated, so building one costs no malloc. A handler
 * that defers (jobs.h) copies what its job needs: the lk_req is gone when
 * the worker runs.
 */
#ifndef LK_REQ_H
#define LK_REQ_H

#include "err.h"
#include "principal.h"
#include "router.h"
#include "service.h"

#include <h2o.h>
#include <stdbool.h>

#define LK_CLIENT_SIZE 64

struct lk_jobs_port;

struct lk_req {
    h2o_req_t *req;
    struct lk_jobs_port *jobs;   /* the loop's way to the workers (jobs.h) */
    lk_svc *svc;                 /* the loop thread's service handle */
    lk_route_match m;            /* route and validated, named path params */
    lk_principal principal;      /* filled unless the route is public */
    bool by_cookie;              /* authenticated by the session cookie */
    char client[LK_CLIENT_SIZE]; /* peer address, for rate limits */
    lk_err err;                  /* errors raised by the HTTP layer itself */
};

#endif
