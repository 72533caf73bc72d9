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
 *
 * Two formats (--log-format): text, "METHOD PATH STATUS 1.234ms ID", and
 * JSON, one object a line (lk_accesslog_json, written by observe.c). In
 * both the path is cut before its query string and at LK_LOG_PATH_MAX
 * bytes, and an invitation link's token is replaced (lk_accesslog_path):
 * never a token, a cookie or a query string.
 */
#ifndef LK_ACCESSLOG_H
#define LK_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>

#define LK_LOG_BATCH 4096

/* Queue one line (ending in '\n') in this thread's buffer; flushes first
 * if it would not fit. */
void lk_accesslog_add(const char *line, size_t n);

/* Write this thread's buffered lines, if any. */
void lk_accesslog_flush(void);

/* Where batches go: STDERR_FILENO by default, -1 to drop every line (the
 * fuzz harnesses). Call before any thread logs. */
void lk_accesslog_set_fd(int fd);

/* --- formats (--log-format) ------------------------------------------------ */

#define LK_LOG_METHOD_MAX 16         /* bytes of a method logged */
#define LK_LOG_PATH_MAX 200          /* bytes of a path logged (before escaping) */
#define LK_LOG_ID_MAX 64             /* request id, client address, principal, key id */
#define LK_LOG_ROUTE_MAX 128         /* a route pattern */
#define LK_LOG_LINE_MAX LK_LOG_BATCH /* a JSON line fits, whatever the fields hold */
#define LK_LOG_REDACTED "{token}"

typedef enum lk_log_format {
    LK_LOG_TEXT = 0, /* METHOD PATH STATUS 1.234ms REQUEST-ID */
    LK_LOG_JSON,     /* one JSON object a line (lk_accesslog_json) */
} lk_log_format;

/* Pick the format; call before any thread logs (main.c). */
void lk_accesslog_set_format(lk_log_format f);
lk_log_format lk_accesslog_format(void);

/* The path as it may be logged: at most LK_LOG_PATH_MAX bytes of p[0..n)
 * (the caller has cut the query string), with the secret segment of an
 * invitation link replaced by LK_LOG_REDACTED: /v1/invitations/{token}…
 * and /invite/{token}…. out needs LK_LOG_PATH_MAX + sizeof(LK_LOG_REDACTED)
 * bytes; returns the length written (no NUL). */
size_t lk_accesslog_path(const char *p, size_t n, char *out);

/* One request as the JSON log sees it. Strings need not be NUL-terminated
 * where a length is given; the others are NUL-terminated and trusted to be
 * short (ids, route patterns, addresses). */
typedef struct lk_accesslog_entry {
    int64_t unix_us; /* wall-clock time of the reply */
    const char *request_id;
    const char *method;
    size_t method_len;
    const char *path; /* without the query string */
    size_t path_len;
    const char *route; /* the route pattern, "dashboard", "unmatched"; NULL: left out */
    int status;
    int64_t duration_us;
    const char *client;    /* peer address, "" if unknown */
    const char *principal; /* "none", "session", "personal_key", "org_key" */
    const char *key_id;    /* "" unless a key authenticated */
} lk_accesslog_entry;

/* Format e as one JSON object and a newline into out (cap >=
 * LK_LOG_LINE_MAX): {"time","request_id","method","path","route","status",
 * "duration_ms","client","principal","key_id"}. Strings are JSON-escaped
 * (", \, every byte below 0x20, DEL and every byte above it as \u00XX), so
 * any input gives one valid line. Returns the length. */
size_t lk_accesslog_json(const lk_accesslog_entry *e, char *out, size_t cap);

#endif
