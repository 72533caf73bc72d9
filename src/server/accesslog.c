/*
 * accesslog.c — per-thread access-log buffers (see accesslog.h).
 *
 * Invariant: buf_len <= LK_LOG_BATCH for every thread's buffer.
 */
#include "accesslog.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

_Static_assert(LK_LOG_BATCH <= PIPE_BUF, "a batch must be written atomically");

static int log_fd = STDERR_FILENO; /* set before threads start; read-only after */
static _Thread_local size_t buf_len;
static _Thread_local char buf[LK_LOG_BATCH];

void lk_accesslog_set_fd(int fd)
{
    log_fd = fd;
}

void lk_accesslog_flush(void)
{
    size_t off = 0;
    while (log_fd >= 0 && off < buf_len) {
        ssize_t w = write(log_fd, buf + off, buf_len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break; /* nowhere to log: drop rather than block the loop */
        off += (size_t)w;
    }
    buf_len = 0;
}

void lk_accesslog_add(const char *line, size_t n)
{
    assert(buf_len <= sizeof(buf));
    if (n > sizeof(buf)) n = sizeof(buf);
    if (buf_len + n > sizeof(buf)) lk_accesslog_flush();
    memcpy(buf + buf_len, line, n);
    buf_len += n;
}
