/*
 * retention.c — the audit retention timer (retention.h).
 *
 * Invariants: the thread is the only user of its store connection and of
 * its lk_svc; `stop` is read and written under `mu`; the thread ends
 * within one purge batch of lk_retention_stop.
 */
#include "retention.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct lk_retention {
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled by lk_retention_stop */
    bool stop;         /* under mu */
    int days, interval_secs;
    lk_store *st; /* the thread's own connection */
    lk_svc svc;
};

/* Wait up to interval_secs for stop; true if stopping. */
static bool wait_or_stop(lk_retention *r)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += r->interval_secs;
    pthread_mutex_lock(&r->mu);
    while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0) {
    }
    bool stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    return stop;
}

static void *run(void *arg)
{
    lk_retention *r = arg;
    do {
        int64_t n = 0;
        if (lk_svc_audit_purge(&r->svc, r->days, &n) != LK_OK)
            fprintf(stderr, "latchkeyd: audit retention: %s (retrying later)\n",
                    lk_err_message(&r->svc.err));
    } while (!wait_or_stop(r));
    return NULL;
}

lk_retention *lk_retention_start(lk_store_open_fn open_store, const void *store_ctx,
                                 const lk_svc_config *cfg, int days, int interval_secs)
{
    if (days <= 0) return NULL;
    lk_retention *r = calloc(1, sizeof *r);
    if (r == NULL) {
        fprintf(stderr, "latchkeyd: audit retention: out of memory\n");
        return NULL;
    }
    r->days = days;
    r->interval_secs = interval_secs > 0 ? interval_secs : LK_RETENTION_INTERVAL_SECS;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (open_store(store_ctx, &r->st) != 0) goto fail;
    r->svc = (lk_svc){.st = r->st, .cfg = cfg};
    if (pthread_create(&r->tid, NULL, run, r) != 0) {
        fprintf(stderr, "latchkeyd: audit retention: cannot start its thread\n");
        goto fail;
    }
    return r;
fail:
    lk_store_close(r->st);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
    return NULL;
}

void lk_retention_stop(lk_retention *r)
{
    if (r == NULL) return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->tid, NULL);
    lk_store_close(r->st);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
