/*
 * accesslog.c — per-thread access-log buffers (see accesslog.h).
 *
 * Invariant: buf_len <= LK_LOG_BATCH for every thread's buffer.
 */
#include "accesslog.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
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

/* --- formats ------------------------------------------------------------------ */

#define LK_LOG_TIME_SIZE 25 /* "2026-11-30T05:23:32.123Z" + NUL */
/* The longest line lk_accesslog_json can write: every capped string fully
 * escaped (6 bytes a byte), plus field names and punctuation. */
#define LK_LOG_JSON_WORST                                                                          \
    (256 + 6 * (4 * LK_LOG_ID_MAX + LK_LOG_METHOD_MAX + LK_LOG_PATH_MAX +                          \
                sizeof(LK_LOG_REDACTED) + LK_LOG_ROUTE_MAX))
_Static_assert(LK_LOG_JSON_WORST <= LK_LOG_LINE_MAX, "a JSON line always fits");

static lk_log_format log_format = LK_LOG_TEXT; /* set before threads start */

void lk_accesslog_set_format(lk_log_format f)
{
    log_format = f;
}

lk_log_format lk_accesslog_format(void)
{
    return log_format;
}

/* Paths whose next segment is a secret (an invitation token); anywhere
 * else (a mistyped path) a segment that starts "lki_" is one too. POST
 * /v1/invitations/accept names no secret and stays whole. */
static const char *const secret_prefixes[] = {"/v1/invitations/", "/invite/"};
#define TOKEN_SEGMENT "/lki_"

/* Where the secret segment of p[0..n) starts, or n if there is none. */
static size_t secret_at(const char *p, size_t n)
{
    for (size_t i = 0; i < sizeof(secret_prefixes) / sizeof(secret_prefixes[0]); i++) {
        size_t k = strlen(secret_prefixes[i]);
        if (n <= k || memcmp(p, secret_prefixes[i], k) != 0) continue;
        if (n - k == strlen("accept") && memcmp(p + k, "accept", n - k) == 0) return n;
        return k;
    }
    for (size_t i = 0; i + strlen(TOKEN_SEGMENT) <= n; i++)
        if (memcmp(p + i, TOKEN_SEGMENT, strlen(TOKEN_SEGMENT)) == 0) return i + 1;
    return n;
}

size_t lk_accesslog_path(const char *p, size_t n, char *out)
{
    if (n > LK_LOG_PATH_MAX) n = LK_LOG_PATH_MAX;
    size_t k = secret_at(p, n);
    if (k == n) {
        memcpy(out, p, n);
        return n;
    }
    const char *slash = memchr(p + k, '/', n - k);
    size_t rest = slash ? (size_t)(p + n - slash) : 0;
    memcpy(out, p, k);
    memcpy(out + k, LK_LOG_REDACTED, sizeof(LK_LOG_REDACTED) - 1);
    if (rest) memcpy(out + k + sizeof(LK_LOG_REDACTED) - 1, slash, rest);
    return k + sizeof(LK_LOG_REDACTED) - 1 + rest;
}

typedef struct jw {
    char *p;
    size_t len, cap;
} jw;

static void jw_raw(jw *w, const char *s, size_t n)
{
    assert(w->len + n <= w->cap);
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

/* Does byte c go into a JSON string as itself? */
static inline bool plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* The body of a JSON string (no quotes): at most max bytes of s[0..n),
 * runs of plain bytes copied at once, the rest escaped. */
static void jw_escaped(jw *w, const char *s, size_t n, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    if (n > max) n = max;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && plain((unsigned char)s[run]))
            run++;
        jw_raw(w, s + i, run - i);
        if (run == n) break;
        unsigned char c = (unsigned char)s[run];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            jw_raw(w, esc, sizeof esc);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            jw_raw(w, esc, sizeof esc);
        }
        i = run + 1;
    }
}

/* A string field: `lead` is the literal before the value (`,"path":"`,
 * field name and opening quote), then the escaped value and its quote. */
static void jw_field(jw *w, const char *lead, size_t lead_len, const char *v, size_t n, size_t max)
{
    jw_raw(w, lead, lead_len);
    jw_escaped(w, v, n, max);
    jw_raw(w, "\"", 1);
}
#define FIELD(w, name, v, n, max)                                                                  \
    jw_field((w), ",\"" name "\":\"", sizeof(name) + 4, (v), (n), (max))

static size_t put_dec(char *p, uint64_t v, int min_digits)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v || n < min_digits);
    for (int i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return (size_t)n;
}

/* "2026-11-30T05:23:32.123Z" (UTC, milliseconds) into out; returns 24. */
static size_t format_time(int64_t unix_us, char out[LK_LOG_TIME_SIZE])
{
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[20]; /* "YYYY-MM-DDTHH:MM:SS" */
    time_t sec = (time_t)(unix_us / 1000000);
    if (sec != cached_sec) {
        struct tm tm;
        gmtime_r(&sec, &tm);
        strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = sec;
    }
    memcpy(out, cached, 19);
    out[19] = '.';
    put_dec(out + 20, (uint64_t)(unix_us % 1000000) / 1000, 3);
    out[23] = 'Z';
    return 24;
}

size_t lk_accesslog_json(const lk_accesslog_entry *e, char *out, size_t cap)
{
    assert(cap >= LK_LOG_LINE_MAX);
    jw w = {.p = out, .len = 0, .cap = cap - 1}; /* room for the newline */
    char num[LK_LOG_TIME_SIZE + 24];
    size_t n = format_time(e->unix_us, num);
    jw_raw(&w, "{\"time\":\"", 9);
    jw_raw(&w, num, n);
    jw_raw(&w, "\"", 1);
    FIELD(&w, "request_id", e->request_id, strlen(e->request_id), LK_LOG_ID_MAX);
    FIELD(&w, "method", e->method, e->method_len, LK_LOG_METHOD_MAX);
    char path[LK_LOG_PATH_MAX + sizeof(LK_LOG_REDACTED)];
    n = lk_accesslog_path(e->path, e->path_len, path);
    FIELD(&w, "path", path, n, sizeof path);
    if (e->route != NULL) FIELD(&w, "route", e->route, strlen(e->route), LK_LOG_ROUTE_MAX);
    jw_raw(&w, ",\"status\":", 10);
    n = put_dec(num, (uint64_t)(e->status > 0 ? e->status : 0), 1);
    jw_raw(&w, num, n);
    int64_t us = e->duration_us > 0 ? e->duration_us : 0;
    jw_raw(&w, ",\"duration_ms\":", 15);
    n = put_dec(num, (uint64_t)us / 1000, 1);
    num[n++] = '.';
    n += put_dec(num + n, (uint64_t)us % 1000, 3);
    jw_raw(&w, num, n);
    FIELD(&w, "client", e->client, strlen(e->client), LK_LOG_ID_MAX);
    FIELD(&w, "principal", e->principal, strlen(e->principal), LK_LOG_ID_MAX);
    FIELD(&w, "key_id", e->key_id, strlen(e->key_id), LK_LOG_ID_MAX);
    jw_raw(&w, "}", 1);
    out[w.len++] = '\n';
    return w.len;
}
