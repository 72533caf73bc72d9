/*
 * jobs.h — deferred work: a queue and a pool of worker threads for the
 * slow calls (signup, login: argon2id), so they never stall an event loop.
 *
 *   loop thread: handler ── lk_jobs_defer ──► queue (mutex) ──► worker
 *   worker:      j->run(j, worker's own lk_svc)  ──► h2o_multithread message
 *   loop thread: lk_jobs_port's receiver ── j->finish(j, req or NULL)
 *
 * One lk_jobs per server; one lk_jobs_port per event loop (its receiver
 * and its count of jobs not yet back, which the drain waits for). Each
 * worker has its own store connection and lk_svc; the rate limiter is the
 * only thing they share with the loops.
 *
 * A deferred request may lose its client while a worker runs: the
 * request's pool owns a small anchor whose dispose callback detaches the
 * job, so the result is then dropped (and its secrets wiped by finish)
 * instead of written to a freed request. A job whose client has gone
 * before a worker takes it is not run at all.
 *
 * The same queue serves as the WRITER (group commit, lk_jobs_init with
 * LK_JOBS_BATCH): one thread takes everything queued (at most
 * LK_WRITER_BATCH_MAX jobs), opens one store transaction, runs each job in
 * it (their own transactions nest as savepoints), commits once, and only
 * then sends every job back to its loop with j->batch_rc = the commit's
 * result. While it waits for fsync, the next batch queues up: N writes
 * cost one commit, and the loops never block on the disk.
 *
 * Invariants: len <= LK_JOB_QUEUE_MAX; a job is on the queue, on a
 * worker, or in flight back to its loop, never two of these; a batch job
 * goes back only after the transaction it ran in has ended.
 */
#ifndef LK_JOBS_H
#define LK_JOBS_H

#include "req.h"
#include "service.h"

#include <h2o.h>
#include <pthread.h>
#include <stdatomic.h>

#define LK_JOB_QUEUE_MAX 1024
#define LK_WORKERS_MIN 2 /* workers: the loop count, clamped to MIN..MAX */
#define LK_WORKERS_MAX 8
#define LK_WRITER_BATCH_MAX 64 /* jobs in one group commit */

/* lk_jobs_init modes */
#define LK_JOBS_POOL 0  /* independent jobs on a pool of workers */
#define LK_JOBS_BATCH 1 /* one writer thread, one transaction per batch */

/* Opens one store connection for a thread: 0, or -1 after printing one
 * line on stderr. main.c provides it (it knows the database URL). */
typedef int (*lk_store_open_fn)(const void *ctx, lk_store **out);

typedef struct lk_job lk_job;
typedef struct lk_jobs lk_jobs;
struct lk_job_anchor;

/* The loop side of the queue (embed one per loop; lk_jobs_port_init). */
typedef struct lk_jobs_port {
    lk_jobs *q;                    /* not owned */
    h2o_multithread_receiver_t rx; /* jobs come back here */
    size_t pending;                /* deferred jobs not yet back (loop thread only) */
} lk_jobs_port;

struct lk_job {
    h2o_multithread_message_t msg; /* carries the job back to its loop */
    lk_job *next;                  /* queue link */
    /* On a worker thread, with the worker's own service handle. */
    void (*run)(lk_job *j, lk_svc *svc);
    /* On the loop thread. req is NULL when the client has gone. Must free
     * j (and wipe any secret in it). */
    void (*finish)(lk_job *j, h2o_req_t *req);
    /* LK_JOBS_BATCH: how the batch's transaction ended (LK_OK: committed,
     * durable; else nothing the job wrote was kept). Read by finish. */
    int batch_rc;
    /* set by lk_jobs_defer */
    atomic_int cancelled; /* the client went away before a worker took it */
    h2o_req_t *req;
    struct lk_job_anchor *anchor;
    lk_jobs_port *port;
};

typedef struct lk_worker {
    lk_jobs *q;
    pthread_t tid;
    lk_store *st;
    lk_svc svc;
} lk_worker;

struct lk_jobs {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    lk_job *head, *tail; /* under mu */
    size_t len;          /* under mu */
    int stop;            /* under mu */
    int nworkers, started;
    int mode; /* LK_JOBS_POOL | LK_JOBS_BATCH */
    lk_worker *workers;
};

/* Queue j (allocated zeroed by the caller) for a worker. On success the
 * queue owns j until it calls finish, and this returns LK_HANDLER_DEFERRED;
 * on failure (queue full: LK_EUNAVAILABLE on r->err) the caller still owns j. */
int lk_jobs_defer(lk_req *r, lk_job *j);
/* The same onto another queue q (the writer): j still comes back through
 * r's loop port. */
int lk_jobs_defer_to(lk_req *r, lk_jobs *q, lk_job *j);

/* Set q up for nworkers workers (LK_JOBS_POOL: LK_WORKERS_MIN..MAX;
 * LK_JOBS_BATCH: exactly 1), each with a store from open_store and an
 * lk_svc on svc_cfg and rl (both not owned, outliving q). No thread runs
 * yet. 0, or -1 (a line on stderr); lk_jobs_release either way. */
int lk_jobs_init(lk_jobs *q, int mode, int nworkers, lk_store_open_fn open_store,
                 const void *store_ctx, const lk_svc_config *svc_cfg, lk_ratelimit *rl);
/* Start the worker threads. */
void lk_jobs_start(lk_jobs *q);
/* Let the workers finish the queue, join them, close their stores, free
 * what init allocated. Safe on a zeroed or half-initialised q. */
void lk_jobs_release(lk_jobs *q);

/* Connect a loop to q: its receiver on the loop's h2o queue. */
void lk_jobs_port_init(lk_jobs_port *port, lk_jobs *q, h2o_multithread_queue_t *queue);

#endif
