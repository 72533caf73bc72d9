/*
 * metrics.c — per-thread counters and the Prometheus text (see metrics.h).
 *
 * Invariants: a slot is written only by the thread whose `mine` points to
 * it; reg[0 .. nreg) only grows (under reg_mu) and its slots are never
 * freed; every cell is an _Atomic uint64_t so that the scrape's relaxed
 * loads race with nothing (C11 data-race freedom, TSan-clean), while the
 * writer's load + store of its own cell compiles to plain moves.
 * Histogram buckets are stored per bucket (not cumulative) with the last
 * cell as +Inf; the scrape accumulates them and takes _count from them, so
 * _count always equals the +Inf bucket.
 */
#include "metrics.h"

#include "err.h"

#include <assert.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_LINE 64
#define ROUTE_SLOTS (LK_METRICS_ROUTES_MAX + 2) /* + dashboard, unmatched */
#define TEXT_INITIAL 16384
#define US_PER_S 1000000u

typedef _Atomic uint64_t counter;

/* The statuses latchkeyd answers with; anything else counts as "other". */
static const int statuses[] = {200, 201, 204, 304, 400, 401, 403, 404,
                               405, 409, 413, 415, 429, 500, 503};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))
#define STATUS_SLOTS (NSTATUS + 1)

/* Histogram upper bounds in microseconds (Prometheus `le`, in seconds). */
static const uint64_t req_bounds[] = {250,   500,    1000,   2500,   5000,    10000,   25000,
                                      50000, 100000, 250000, 500000, 1000000, 2500000, 5000000};
static const uint64_t store_bounds[] = {50,    100,   250,   500,    1000,   2500,   5000,
                                        10000, 25000, 50000, 100000, 250000, 1000000};
#define REQ_NB (sizeof(req_bounds) / sizeof(req_bounds[0]))
#define STORE_NB (sizeof(store_bounds) / sizeof(store_bounds[0]))

static const char *const authn_names[LK_AUTHN_COUNT] = {
    "ok", "invalid", "expired", "revoked", "forbidden", "throttled",
};

/* One thread's counters. Aligned to a cache line and allocated on its
 * own, so no two threads' cells share a line. */
typedef struct slot {
    alignas(CACHE_LINE) counter req[ROUTE_SLOTS][STATUS_SLOTS];
    counter req_bucket[REQ_NB + 1];
    counter req_sum_us;
    counter auth[LK_AUTHN_COUNT];
    counter keys_created, keys_deleted;
    counter store_bucket[LK_METRICS_STORE_OPS_MAX][STORE_NB + 1];
    counter store_sum_us[LK_METRICS_STORE_OPS_MAX];
    counter store_err[LK_METRICS_STORE_OPS_MAX];
    _Atomic int64_t conns;
} slot;

bool lk_metrics_enabled;
static size_t nroutes;
static const char *const *store_names;
static size_t nstore;

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static slot *reg[LK_METRICS_THREADS_MAX]; /* under reg_mu */
static size_t nreg;                       /* under reg_mu */

static _Thread_local slot *mine;
static _Thread_local bool no_slot; /* allocation failed or too many threads: drop */

void lk_metrics_enable(size_t n)
{
    assert(n <= LK_METRICS_ROUTES_MAX);
    nroutes = n <= LK_METRICS_ROUTES_MAX ? n : LK_METRICS_ROUTES_MAX; /* the rest: unmatched */
    lk_metrics_enabled = true;
}

void lk_metrics_set_store_ops(const char *const *names, size_t n)
{
    assert(n <= LK_METRICS_STORE_OPS_MAX);
    store_names = names;
    nstore = n;
}

/* The calling thread's slot (registered at its first use), or NULL. */
static slot *my_slot(void)
{
    if (mine != NULL || no_slot) return mine;
    slot *s = aligned_alloc(alignof(slot), sizeof(slot));
    if (s != NULL) memset(s, 0, sizeof(*s));
    pthread_mutex_lock(&reg_mu);
    if (s != NULL && nreg < LK_METRICS_THREADS_MAX) {
        reg[nreg++] = s;
        mine = s;
    }
    pthread_mutex_unlock(&reg_mu);
    if (mine == NULL) {
        free(s);
        no_slot = true;
    }
    return mine;
}

/* Single-writer increment: no read-modify-write instruction. */
static inline void bump(counter *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline uint64_t get(counter *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static size_t bucket_of(const uint64_t *bounds, size_t nb, uint64_t us)
{
    size_t i = 0;
    while (i < nb && us > bounds[i])
        i++;
    return i; /* nb: +Inf */
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i < NSTATUS; i++)
        if (statuses[i] == status) return i;
    return NSTATUS;
}

void lk_metrics_request(size_t route, int status, uint64_t usec)
{
    slot *s;
    if (!lk_metrics_enabled || (s = my_slot()) == NULL) return;
    if (route >= nroutes && route != LK_METRICS_ROUTE_DASHBOARD) route = LK_METRICS_ROUTE_UNMATCHED;
    bump(&s->req[route][status_slot(status)], 1);
    bump(&s->req_bucket[bucket_of(req_bounds, REQ_NB, usec)], 1);
    bump(&s->req_sum_us, usec);
}

void lk_metrics_auth(lk_authn outcome)
{
    slot *s;
    if (!lk_metrics_enabled || (s = my_slot()) == NULL) return;
    assert(outcome < LK_AUTHN_COUNT);
    bump(&s->auth[outcome], 1);
}

void lk_metrics_store(size_t op, uint64_t usec, int rc)
{
    slot *s;
    if (!lk_metrics_enabled || op >= nstore || (s = my_slot()) == NULL) return;
    bump(&s->store_bucket[op][bucket_of(store_bounds, STORE_NB, usec)], 1);
    bump(&s->store_sum_us[op], usec);
    /* not found and conflict are answers; these are failures of the store */
    if (rc == LK_EUNAVAILABLE || rc == LK_EINTERNAL || rc == LK_ENOMEM) bump(&s->store_err[op], 1);
}

void lk_metrics_key_created(void)
{
    slot *s;
    if (lk_metrics_enabled && (s = my_slot()) != NULL) bump(&s->keys_created, 1);
}

void lk_metrics_key_deleted(void)
{
    slot *s;
    if (lk_metrics_enabled && (s = my_slot()) != NULL) bump(&s->keys_deleted, 1);
}

void lk_metrics_connection(int delta)
{
    slot *s;
    if (!lk_metrics_enabled || (s = my_slot()) == NULL) return;
    atomic_store_explicit(&s->conns, atomic_load_explicit(&s->conns, memory_order_relaxed) + delta,
                          memory_order_relaxed);
}

uint64_t lk_metrics_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * US_PER_S + (uint64_t)ts.tv_nsec / 1000u;
}

/* --- the scrape ---------------------------------------------------------------- */

void lk_metrics_text_release(lk_metrics_text *t)
{
    free(t->p);
    *t = (lk_metrics_text){0};
}

static bool text_reserve(lk_metrics_text *t, size_t more)
{
    if (t->failed) return false;
    if (t->len + more + 1 <= t->cap) return true;
    size_t cap = t->cap ? t->cap : TEXT_INITIAL;
    while (cap < t->len + more + 1)
        cap *= 2;
    if (cap > LK_METRICS_TEXT_MAX) cap = LK_METRICS_TEXT_MAX;
    char *p = cap >= t->len + more + 1 ? realloc(t->p, cap) : NULL;
    if (p == NULL) {
        t->failed = true;
        return false;
    }
    t->p = p;
    t->cap = cap;
    return true;
}

__attribute__((format(printf, 2, 3))) static void put(lk_metrics_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !text_reserve(t, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* A label value, escaped as the exposition format wants (\\, \", \n). */
static void put_label(lk_metrics_text *t, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            put(t, "\\%c", *v);
        else if (*v == '\n')
            put(t, "\\n");
        else
            put(t, "%c", *v);
    }
}

static void put_head(lk_metrics_text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Microseconds as decimal seconds without trailing zeros ("0.00025", "1"). */
static void put_seconds(lk_metrics_text *t, uint64_t us)
{
    uint64_t frac = us % US_PER_S;
    if (frac == 0) {
        put(t, "%llu", (unsigned long long)(us / US_PER_S));
        return;
    }
    char f[8];
    snprintf(f, sizeof f, "%06llu", (unsigned long long)frac);
    size_t n = strlen(f);
    while (n > 0 && f[n - 1] == '0')
        n--;
    put(t, "%llu.%.*s", (unsigned long long)(us / US_PER_S), (int)n, f);
}

/* The _bucket/_sum/_count lines of one histogram series. sel: the label
 * pair to put first ("" for none, else e.g. `op="key_get"`). cells: NB+1
 * summed per-bucket counts. */
static void put_histogram(lk_metrics_text *t, const char *name, const char *sel,
                          const uint64_t *bounds, size_t nb, const uint64_t *cells, uint64_t sum_us)
{
    uint64_t cum = 0;
    for (size_t i = 0; i <= nb; i++) {
        cum += cells[i];
        put(t, "%s_bucket{%s%sle=\"", name, sel, sel[0] ? "," : "");
        if (i < nb)
            put_seconds(t, bounds[i]);
        else
            put(t, "+Inf");
        put(t, "\"} %llu\n", (unsigned long long)cum);
    }
    const char *lb = sel[0] ? "{" : "", *rb = sel[0] ? "}" : "";
    put(t, "%s_sum%s%s%s %llu.%06llu\n", name, lb, sel, rb, (unsigned long long)(sum_us / US_PER_S),
        (unsigned long long)(sum_us % US_PER_S));
    put(t, "%s_count%s%s%s %llu\n", name, lb, sel, rb, (unsigned long long)cum);
}

/* reg snapshot: the slots registered so far (they never go away). */
static size_t snapshot(slot **out)
{
    pthread_mutex_lock(&reg_mu);
    size_t n = nreg;
    memcpy(out, reg, n * sizeof(*out));
    pthread_mutex_unlock(&reg_mu);
    return n;
}

static uint64_t sum_cell(slot *const *sl, size_t n, size_t offset)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v += get((counter *)((char *)sl[i] + offset));
    return v;
}

/* The byte offset of a cell (member may index with variables, which
 * offsetof does not allow in ISO C). */
static const slot layout;
#define SUM(sl, n, member)                                                                         \
    sum_cell((sl), (n), (size_t)((uintptr_t)&layout.member - (uintptr_t)&layout))

static void render_requests(lk_metrics_text *t, slot *const *sl, size_t n,
                            lk_metrics_route_fn route)
{
    const char *name = "latchkey_http_requests_total";
    put_head(t, name, "counter", "HTTP responses by route pattern, method and status.");
    for (size_t r = 0; r < ROUTE_SLOTS; r++) {
        if (r >= nroutes && r < LK_METRICS_ROUTES_MAX) continue;
        for (size_t st = 0; st < STATUS_SLOTS; st++) {
            uint64_t v = SUM(sl, n, req[r][st]);
            if (v == 0) continue;
            const char *method = "", *pattern;
            if (r < nroutes && route != NULL) {
                route(r, &method, &pattern);
            } else {
                pattern = r == LK_METRICS_ROUTE_DASHBOARD ? "dashboard" : "unmatched";
            }
            put(t, "%s{method=\"", name);
            put_label(t, method);
            put(t, "\",route=\"");
            put_label(t, pattern);
            if (st < NSTATUS)
                put(t, "\",status=\"%d\"} %llu\n", statuses[st], (unsigned long long)v);
            else
                put(t, "\",status=\"other\"} %llu\n", (unsigned long long)v);
        }
    }
    uint64_t cells[REQ_NB + 1];
    for (size_t b = 0; b <= REQ_NB; b++)
        cells[b] = SUM(sl, n, req_bucket[b]);
    name = "latchkey_http_request_duration_seconds";
    put_head(t, name, "histogram", "Time from a request's first byte to its response.");
    put_histogram(t, name, "", req_bounds, REQ_NB, cells, SUM(sl, n, req_sum_us));
}

static void render_store(lk_metrics_text *t, slot *const *sl, size_t n)
{
    const char *name = "latchkey_store_call_duration_seconds";
    put_head(t, name, "histogram", "Duration of store (database) calls by operation.");
    for (size_t op = 0; op < nstore; op++) {
        uint64_t cells[STORE_NB + 1], total = 0;
        for (size_t b = 0; b <= STORE_NB; b++)
            total += cells[b] = SUM(sl, n, store_bucket[op][b]);
        if (total == 0) continue;
        char sel[96];
        snprintf(sel, sizeof sel, "op=\"%s\"", store_names[op]); /* names: [a-z_] */
        put_histogram(t, name, sel, store_bounds, STORE_NB, cells, SUM(sl, n, store_sum_us[op]));
    }
    name = "latchkey_store_errors_total";
    put_head(t, name, "counter", "Store calls that failed (database unavailable or internal).");
    for (size_t op = 0; op < nstore; op++) {
        uint64_t v = SUM(sl, n, store_err[op]);
        if (v != 0) put(t, "%s{op=\"%s\"} %llu\n", name, store_names[op], (unsigned long long)v);
    }
}

int lk_metrics_render(lk_metrics_text *t, lk_metrics_route_fn route, const char *version)
{
    static slot *sl[LK_METRICS_THREADS_MAX]; /* only the scrape thread renders */
    size_t n = snapshot(sl);
    put_head(t, "latchkey_build_info", "gauge", "Build information; always 1.");
    put(t, "latchkey_build_info{version=\"");
    put_label(t, version);
    put(t, "\"} 1\n");
    render_requests(t, sl, n, route);
    put_head(t, "latchkey_auth_total", "counter",
             "Authentication outcomes of requests that need a credential.");
    for (size_t a = 0; a < LK_AUTHN_COUNT; a++)
        put(t, "latchkey_auth_total{outcome=\"%s\"} %llu\n", authn_names[a],
            (unsigned long long)SUM(sl, n, auth[a]));
    put_head(t, "latchkey_keys_created_total", "counter", "Access keys created.");
    put(t, "latchkey_keys_created_total %llu\n", (unsigned long long)SUM(sl, n, keys_created));
    put_head(t, "latchkey_keys_deleted_total", "counter", "Access keys deleted.");
    put(t, "latchkey_keys_deleted_total %llu\n", (unsigned long long)SUM(sl, n, keys_deleted));
    render_store(t, sl, n);
    int64_t conns = 0;
    for (size_t i = 0; i < n; i++)
        conns += atomic_load_explicit(&sl[i]->conns, memory_order_relaxed);
    put_head(t, "latchkey_open_connections", "gauge", "Open client connections.");
    put(t, "latchkey_open_connections %lld\n", (long long)(conns < 0 ? 0 : conns));
    return t->failed ? -1 : 0;
}
