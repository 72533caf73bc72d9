/*
 * accesslog.h — the access log: one line per API response, buffered per
 * thread and written to stderr in whole batches.
 *
 * Lines come from reply.c (lk_reply_log: method, path without query,
 * status, duration — never a header value, a body, a token or a cookie).
 * Each thread keeps its own buffer (thread-local: the request path takes
 * no lock and allocates nothing); the event loop calls
 * lk_accesslog_flush() after each iteration. A batch is at most
 * LK_LOG_BATCH bytes (<= PIPE_BUF), written with one write(2), so lines
 * from different threads never interleave. A line longer than a batch is
 * cut to LK_LOG_BATCH bytes. If stderr cannot take a batch it is dropped
 * rather than blocking the loop.
 */
#ifndef LK_ACCESSLOG_H
#define LK_ACCESSLOG_H

#include <stddef.h>

#define LK_LOG_BATCH 4096

/* Queue one line (ending in '\n') in this thread's buffer; flushes first
 * if it would not fit. */
void lk_accesslog_add(const char *line, size_t n);

/* Write this thread's buffered lines, if any. */
void lk_accesslog_flush(void);

/* Where batches go: STDERR_FILENO by default, -1 to drop every line (the
 * fuzz harnesses). Call before any thread logs. */
void lk_accesslog_set_fd(int fd);

#endif
