/*
 * metrics.h — latchkeyd's Prometheus metrics: counters, gauges and
 * histograms kept per thread and summed when scraped.
 *
 * Recording (the request path): every thread that records — event loops,
 * workers — gets its own slot on its first call: a cache-line-aligned
 * block of counters that only that thread ever writes. An increment is a
 * relaxed atomic load, an add and a relaxed atomic store (a plain load/add/
 * store on x86 and arm64): no lock, no read-modify-write instruction, no
 * cache line shared with another thread. Reading (the scrape, on the
 * metrics listener's thread, metrics_server.h) loads every slot with
 * relaxed atomic loads and sums. A value read mid-update is the old or the
 * new one, never torn; every counter only grows, so every summed series is
 * monotonic. Slots are never freed: a thread's counts outlive it.
 *
 * Off by default: lk_metrics_enable() (main.c, with --metrics-listen) runs
 * before any thread starts; while off, every recording call returns at
 * once (one predictable branch on a read-only global) and callers skip
 * reading clocks (lk_metrics_on()).
 *
 * What is recorded (names as exported):
 *   latchkey_http_requests_total{method,route,status}   route = the route's
 *       pattern ("/v1/organizations/{org_id}"), "dashboard" for the embedded
 *       files, "unmatched" for 404/405/bad paths and h2o's own 413
 *   latchkey_http_request_duration_seconds (histogram)
 *   latchkey_auth_total{outcome}  ok | invalid | expired | revoked |
 *       forbidden | throttled — one per request that needed a credential
 *   latchkey_keys_created_total, latchkey_keys_deleted_total
 *   latchkey_store_call_duration_seconds{op} (histogram)
 *   latchkey_store_errors_total{op}  store calls that failed with
 *       LK_EUNAVAILABLE / LK_EINTERNAL / LK_ENOMEM (not found and conflict
 *       are answers, not errors)
 *   latchkey_open_connections (gauge), latchkey_build_info{version}
 *
 * Never records a token, a path or anything a client chose: every label
 * value comes from a fixed table (routes, store ops, outcomes, statuses).
 */
#ifndef LK_METRICS_H
#define LK_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_METRICS_ROUTES_MAX 160      /* routes in the table, at most */
#define LK_METRICS_STORE_OPS_MAX 64    /* timed store operations, at most */
#define LK_METRICS_THREADS_MAX 1024    /* recording threads, at most */
#define LK_METRICS_TEXT_MAX (4u << 20) /* a scrape's text, at most 4 MiB */

/* Route slots beyond the table's routes. */
#define LK_METRICS_ROUTE_DASHBOARD LK_METRICS_ROUTES_MAX
#define LK_METRICS_ROUTE_UNMATCHED (LK_METRICS_ROUTES_MAX + 1)

typedef enum lk_authn {
    LK_AUTHN_OK = 0,
    LK_AUTHN_INVALID,   /* no, malformed or unknown credential */
    LK_AUTHN_EXPIRED,   /* a known key or session past its expiry */
    LK_AUTHN_REVOKED,   /* a credential that was revoked (a rotated key's old token) */
    LK_AUTHN_FORBIDDEN, /* authenticated, then refused (CSRF, authorization): 403 */
    LK_AUTHN_THROTTLED, /* too many failed attempts from this address: 429 */
    LK_AUTHN_COUNT
} lk_authn;

extern bool lk_metrics_enabled; /* set once by lk_metrics_enable, read-only after */

static inline bool lk_metrics_on(void)
{
    return lk_metrics_enabled;
}

/* Turn recording on for a route table of nroutes entries
 * (<= LK_METRICS_ROUTES_MAX). Call once, before any thread records. */
void lk_metrics_enable(size_t nroutes);

/* Store op labels: names[i] for op i (< LK_METRICS_STORE_OPS_MAX); the
 * array must outlive the process (store_metrics.c's table). Call before
 * threads start. */
void lk_metrics_set_store_ops(const char *const *names, size_t n);

/* --- recording (calling thread's slot) ------------------------------------ */

/* One response: route index (or LK_METRICS_ROUTE_*), HTTP status, time
 * from the request's first byte to the reply, in microseconds. */
void lk_metrics_request(size_t route, int status, uint64_t usec);
void lk_metrics_auth(lk_authn outcome);
/* One store call: op index, duration, its lk_err return code. */
void lk_metrics_store(size_t op, uint64_t usec, int rc);
void lk_metrics_key_created(void);
void lk_metrics_key_deleted(void);
/* A client connection opened (+1) or closed (-1) on this thread. */
void lk_metrics_connection(int delta);

/* Microseconds on the monotonic clock (for the durations above). */
uint64_t lk_metrics_now_us(void);

/* --- the scrape -------------------------------------------------------------- */

/* A growing text buffer, capped at LK_METRICS_TEXT_MAX. Owns p: release
 * with lk_metrics_text_release. */
typedef struct lk_metrics_text {
    char *p;
    size_t len, cap;
    bool failed; /* out of memory or over the cap: the text is incomplete */
} lk_metrics_text;

void lk_metrics_text_release(lk_metrics_text *t);

/* The labels of route slot i < nroutes (the route table's strings, which
 * outlive the process). */
typedef void (*lk_metrics_route_fn)(size_t i, const char **method, const char **pattern);

/* Every metric in the Prometheus text exposition format (version 0.0.4),
 * summed over all threads, appended to out. 0, or -1 if out->failed. */
int lk_metrics_render(lk_metrics_text *out, lk_metrics_route_fn route, const char *version);

#endif
