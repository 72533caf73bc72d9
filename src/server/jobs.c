/*
 * jobs.c — the job queue and its workers (see jobs.h).
 */
#include "jobs.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

struct lk_job_anchor {
    lk_job *job; /* NULL once the job has come back */
};

static void on_anchor_dispose(void *p)
{
    struct lk_job_anchor *a = p;
    if (a->job != NULL) {
        a->job->req = NULL; /* the client has gone */
        atomic_store(&a->job->cancelled, 1);
    }
}

int lk_jobs_defer(lk_req *r, lk_job *j)
{
    return lk_jobs_defer_to(r, r->jobs->q, j);
}

int lk_jobs_defer_to(lk_req *r, lk_jobs *q, lk_job *j)
{
    struct lk_job_anchor *a = h2o_mem_alloc_shared(&r->req->pool, sizeof(*a), on_anchor_dispose);
    a->job = j;
    j->req = r->req;
    j->anchor = a;
    j->port = r->jobs;
    j->next = NULL;
    j->batch_rc = LK_OK;
    atomic_init(&j->cancelled, 0);
    pthread_mutex_lock(&q->mu);
    assert(q->len <= LK_JOB_QUEUE_MAX);
    if (q->len >= LK_JOB_QUEUE_MAX) {
        pthread_mutex_unlock(&q->mu);
        a->job = NULL;
        return lk_err_set(&r->err, LK_EUNAVAILABLE, "server busy, try again");
    }
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    q->len++;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    r->jobs->pending++;
    return LK_HANDLER_DEFERRED;
}

/* On the loop thread: jobs coming back (a NULL message only wakes it). */
static void on_jobs_done(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
    lk_jobs_port *port = H2O_STRUCT_FROM_MEMBER(lk_jobs_port, rx, rx);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *msg =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&msg->link);
        lk_job *j = H2O_STRUCT_FROM_MEMBER(lk_job, msg, msg);
        assert(port->pending > 0);
        port->pending--;
        h2o_req_t *req = j->req;
        if (req != NULL) j->anchor->job = NULL;
        j->finish(j, req);
    }
}

void lk_jobs_port_init(lk_jobs_port *port, lk_jobs *q, h2o_multithread_queue_t *queue)
{
    port->q = q;
    port->pending = 0;
    h2o_multithread_register_receiver(queue, &port->rx, on_jobs_done);
}

/* The next job, or NULL once the queue is stopped and empty. */
static lk_job *take(lk_jobs *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->head == NULL && !q->stop)
        pthread_cond_wait(&q->cv, &q->mu);
    lk_job *j = q->head;
    if (j != NULL) {
        q->head = j->next;
        if (q->head == NULL) q->tail = NULL;
        assert(q->len > 0);
        q->len--;
    }
    pthread_mutex_unlock(&q->mu);
    return j;
}

static void *worker_main(void *arg)
{
    lk_worker *w = arg;
    lk_job *j;
    while ((j = take(w->q)) != NULL) {
        /* A job whose client has gone is not run: no argon2id for nobody. */
        if (!atomic_load(&j->cancelled)) {
            lk_err_clear(&w->svc.err);
            j->run(j, &w->svc);
        }
        h2o_multithread_send_message(&j->port->rx, &j->msg);
    }
    return NULL;
}

/* LK_JOBS_BATCH: up to max queued jobs into out (waiting for the first);
 * 0 once the queue is stopped and empty. */
static size_t take_batch(lk_jobs *q, lk_job **out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&q->mu);
    while (q->head == NULL && !q->stop)
        pthread_cond_wait(&q->cv, &q->mu);
    while (q->head != NULL && n < max) {
        lk_job *j = q->head;
        q->head = j->next;
        assert(q->len > 0);
        q->len--;
        out[n++] = j;
    }
    if (q->head == NULL) q->tail = NULL;
    pthread_mutex_unlock(&q->mu);
    return n;
}

/* One group commit: every job of the batch in one transaction. A job whose
 * client has gone is not run (nothing was acknowledged to anyone). If the
 * transaction cannot begin or commit, every job learns it (batch_rc) and
 * answers with that error instead of what it computed. */
static void run_batch(lk_worker *w, lk_job **batch, size_t n)
{
    lk_store *st = w->st;
    int rc = st->ops->begin(st);
    for (size_t i = 0; i < n && rc == LK_OK; i++) {
        if (atomic_load(&batch[i]->cancelled)) continue;
        lk_err_clear(&w->svc.err);
        batch[i]->run(batch[i], &w->svc);
    }
    if (rc == LK_OK) rc = st->ops->commit(st);
    if (rc != LK_OK)
        fprintf(stderr, "latchkeyd: writer: a batch of %zu write(s) was not saved: %s\n", n,
                lk_err_message(&st->err));
    for (size_t i = 0; i < n; i++)
        batch[i]->batch_rc = rc;
}

static void *writer_main(void *arg)
{
    lk_worker *w = arg;
    lk_job *batch[LK_WRITER_BATCH_MAX];
    size_t n;
    while ((n = take_batch(w->q, batch, LK_WRITER_BATCH_MAX)) > 0) {
        run_batch(w, batch, n);
        for (size_t i = 0; i < n; i++) /* only now: the batch is durable (or failed) */
            h2o_multithread_send_message(&batch[i]->port->rx, &batch[i]->msg);
    }
    return NULL;
}

int lk_jobs_init(lk_jobs *q, int mode, int nworkers, lk_store_open_fn open_store,
                 const void *store_ctx, const lk_svc_config *svc_cfg, lk_ratelimit *rl)
{
    assert(mode == LK_JOBS_BATCH ? nworkers == 1
                                 : nworkers >= LK_WORKERS_MIN && nworkers <= LK_WORKERS_MAX);
    q->mode = mode;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->nworkers = nworkers;
    q->workers = calloc((size_t)nworkers, sizeof(lk_worker));
    if (q->workers == NULL) {
        fprintf(stderr, "latchkeyd: out of memory\n");
        return -1;
    }
    for (int i = 0; i < nworkers; i++) {
        lk_worker *w = &q->workers[i];
        w->q = q;
        if (open_store(store_ctx, &w->st) != 0) return -1;
        w->svc = (lk_svc){.st = w->st, .usage = NULL, .rl = rl, .cfg = svc_cfg};
    }
    return 0;
}

void lk_jobs_start(lk_jobs *q)
{
    for (; q->started < q->nworkers; q->started++)
        h2o_multithread_create_thread(&q->workers[q->started].tid, NULL,
                                      q->mode == LK_JOBS_BATCH ? writer_main : worker_main,
                                      &q->workers[q->started]);
}

void lk_jobs_release(lk_jobs *q)
{
    if (q->workers == NULL) return;
    pthread_mutex_lock(&q->mu);
    q->stop = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    for (int i = 0; i < q->started; i++)
        pthread_join(q->workers[i].tid, NULL);
    for (int i = 0; i < q->nworkers; i++)
        lk_store_close(q->workers[i].st);
    free(q->workers);
    q->workers = NULL;
    q->started = 0;
}
