/*
 * pgwait.c — a loop's pipelined PostgreSQL connection (see pgwait.h).
 */
#include "pgwait.h"

#include <assert.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

struct lk_pgwait {
    h2o_loop_t *loop;
    lk_pgpipe *pipe;
    h2o_socket_t *sock; /* the dup of the pipe's socket, or NULL */
    h2o_timeout_t zero, retry;
    h2o_timeout_entry_t flush_entry;
};

static void on_readable(h2o_socket_t *sock, const char *err)
{
    lk_pgwait *w = sock->data;
    (void)err; /* libpq reads, and sees the error itself */
    lk_pgpipe_readable(w->pipe);
}

static void on_flush(h2o_timeout_entry_t *entry)
{
    lk_pgwait *w = H2O_STRUCT_FROM_MEMBER(lk_pgwait, flush_entry, entry);
    if (lk_pgpipe_flush(w->pipe) == 1) h2o_timeout_link(w->loop, &w->retry, &w->flush_entry);
}

static int io_watch(void *ctx, int fd)
{
    lk_pgwait *w = ctx;
    assert(w->sock == NULL);
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) return -1;
    w->sock = h2o_evloop_socket_create(w->loop, dup_fd, H2O_SOCKET_FLAG_DONT_READ);
    w->sock->data = w;
    h2o_socket_read_start(w->sock, on_readable);
    return 0;
}

static void io_unwatch(void *ctx)
{
    lk_pgwait *w = ctx;
    if (w->sock == NULL) return;
    h2o_socket_read_stop(w->sock);
    h2o_socket_close(w->sock);
    w->sock = NULL;
}

static void io_flush_soon(void *ctx)
{
    lk_pgwait *w = ctx;
    if (!h2o_timeout_is_linked(&w->flush_entry))
        h2o_timeout_link(w->loop, &w->zero, &w->flush_entry);
}

lk_pgwait *lk_pgwait_new(h2o_loop_t *loop, const char *url)
{
    lk_pgwait *w = calloc(1, sizeof *w);
    if (w == NULL) return NULL;
    w->loop = loop;
    lk_pgpipe_io io = {
        .ctx = w, .watch = io_watch, .unwatch = io_unwatch, .flush_soon = io_flush_soon};
    w->pipe = lk_pgpipe_new(url, &io);
    if (w->pipe == NULL) {
        free(w);
        return NULL;
    }
    h2o_timeout_init(loop, &w->zero, 0);
    h2o_timeout_init(loop, &w->retry, LK_PGWAIT_RETRY_MS);
    w->flush_entry.cb = on_flush;
    return w;
}

void lk_pgwait_free(lk_pgwait *w)
{
    if (w == NULL) return;
    lk_pgpipe_free(w->pipe); /* unwatches */
    if (h2o_timeout_is_linked(&w->flush_entry)) h2o_timeout_unlink(&w->flush_entry);
    h2o_timeout_dispose(w->loop, &w->zero);
    h2o_timeout_dispose(w->loop, &w->retry);
    free(w);
}

lk_pgpipe *lk_pgwait_pipe(lk_pgwait *w)
{
    return w->pipe;
}
