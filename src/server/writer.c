/*
 * writer.c — write routes on the writer thread (see writer.h).
 */
#include "writer.h"

#include "auth.h"
#include "reply.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>

typedef struct write_job {
    lk_job base; /* first: jobs.c hands back the lk_job */
    lk_reply_capture cap;
    lk_req r;         /* r.req = &cap.req; r.svc: the writer's, set by run */
    lk_origin origin; /* the audit origin the loop resolved */
} write_job;

/* Writer thread, inside the batch's transaction. */
static void write_run(lk_job *j, lk_svc *svc)
{
    write_job *w = (write_job *)j;
    w->r.svc = svc;
    svc->origin = w->origin;
    int rc = w->r.m.route->fn(&w->r);
    assert(rc != LK_HANDLER_DEFERRED); /* a write route never defers */
    if (rc < 0) lk_reply_fail(&w->r, rc);
}

static void write_free(write_job *w)
{
    lk_reply_capture_dispose(&w->cap);
    sodium_memzero(w, sizeof *w); /* the principal may hold a session's CSRF token */
    free(w);
}

/* Loop thread, after the batch ended. req is NULL if the client has gone. */
static void write_finish(lk_job *j, h2o_req_t *req)
{
    write_job *w = (write_job *)j;
    if (req != NULL) {
        if (j->batch_rc != LK_OK) {
            lk_err e;
            lk_err_set(&e, LK_EUNAVAILABLE, "the change was not saved; try again");
            lk_reply_error(req, LK_EUNAVAILABLE, &e);
        } else if (w->cap.done) {
            lk_reply_replay(&w->cap, req);
        } else { /* a handler that neither replied nor failed: a bug */
            lk_reply_error(req, LK_EINTERNAL, NULL);
        }
    }
    write_free(w);
}

int lk_writer_defer(lk_req *r, lk_jobs *writer)
{
    assert(r->m.route != NULL && (r->m.route->flags & LK_ROUTE_WRITE));
    write_job *w = calloc(1, sizeof *w);
    if (w == NULL) return lk_err_set(&r->err, LK_EUNAVAILABLE, "server busy, try again");
    (void)lk_http_client(r); /* the stand-in has no connection to ask */
    lk_reply_capture_init(&w->cap, r->req);
    w->r = *r;
    w->r.req = &w->cap.req;
    w->r.jobs = NULL;
    w->r.svc = NULL;
    w->origin = r->svc->origin;
    w->base.run = write_run;
    w->base.finish = write_finish;
    int rc = lk_jobs_defer_to(r, writer, &w->base);
    if (rc != LK_HANDLER_DEFERRED) write_free(w);
    return rc;
}
