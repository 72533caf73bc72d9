/*
 * paced.c — an open-loop load generator: requests at a fixed rate, latency
 * measured from when each request was DUE (not when a connection was free),
 * so a server that stalls is charged for every request that waited behind
 * the stall (no "coordinated omission", the flaw of closed-loop tools such
 * as wrk, which simply send less while the server is slow).
 *
 *   paced PORT RATE SECONDS CONNS METHOD PATH TOKEN [BODY]
 *
 * Request k is due at start + k / RATE. It goes out on any idle one of
 * CONNS keep-alive connections to 127.0.0.1:PORT; if none is idle it waits
 * (and its wait counts). Prints one line:
 *
 *   RESULT <achieved req/s> <p50 us> <p99 us> <requests> <non-2xx> <errors>
 *
 * bench/run.sh runs it for "whoami p99 at 50% load while 200 creates/s run
 * in the background" (two instances at once). One thread, epoll; answers
 * must carry Content-Length (latchkeyd's do). Only ever connects to
 * 127.0.0.1; a connection that fails is counted and reopened.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONNS_MAX 256
#define REQ_MAX 4096        /* one request's bytes */
#define RESP_MAX (64 * 1024) /* one answer's bytes (bench answers are small) */
#define RATE_MAX 1000000
#define SECONDS_MAX 600

typedef struct conn {
    int fd;
    int busy;      /* a request is out */
    double due;    /* when it was due (seconds, monotonic) */
    size_t got;    /* bytes of the answer so far */
    char buf[RESP_MAX];
} conn;

static conn conns[CONNS_MAX];
static char req[REQ_MAX];
static size_t req_len;
static double *lat; /* seconds, one per completed request */
static size_t nlat, non2xx, errors;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_conn(int ep, int port, conn *c)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    c->fd = fd;
    c->busy = 0;
    c->got = 0;
    return 0;
}

/* The whole answer is in c->buf: its length, or 0 if more is to come. */
static size_t answer_len(const conn *c)
{
    const char *end = memmem(c->buf, c->got, "\r\n\r\n", 4);
    if (end == NULL) return 0;
    size_t head = (size_t)(end - c->buf) + 4, body = 0;
    for (const char *p = c->buf; p < end; p++) {
        if ((p == c->buf || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0) {
            body = strtoul(p + 15, NULL, 10);
            break;
        }
    }
    return c->got >= head + body ? head + body : 0;
}

/* Read what arrived on c; record the answer when it is complete. */
static void on_readable(int ep, int port, conn *c, double t)
{
    ssize_t n = read(c->fd, c->buf + c->got, sizeof c->buf - c->got);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN) return;
        errors++;
        close(c->fd);
        if (open_conn(ep, port, c) != 0) c->fd = -1;
        return;
    }
    c->got += (size_t)n;
    if (answer_len(c) == 0 && c->got < sizeof c->buf) return;
    int status = c->got > 12 ? atoi(c->buf + 9) : 0;
    if (status < 200 || status > 299) non2xx++;
    lat[nlat++] = t - c->due;
    c->busy = 0;
    c->got = 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double p)
{
    if (nlat == 0) return 0;
    size_t i = (size_t)(p * (double)(nlat - 1) + 0.5);
    return lat[i];
}

static void build_request(int argc, char **argv)
{
    const char *body = argc > 8 ? argv[8] : NULL;
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n", argv[5], argv[6]);
    if (strcmp(argv[7], "-") != 0)
        n += snprintf(req + n, sizeof req - (size_t)n, "Authorization: Bearer %s\r\n", argv[7]);
    if (body != NULL)
        n += snprintf(req + n, sizeof req - (size_t)n,
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                      strlen(body), body);
    else
        n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
    if (n <= 0 || (size_t)n >= sizeof req) {
        fprintf(stderr, "paced: request too long\n");
        exit(2);
    }
    req_len = (size_t)n;
}

/* Send every request that is due on an idle connection. */
static void send_due(double *next, double step, double t, int nconns)
{
    for (int i = 0; i < nconns && *next <= t; i++) {
        conn *c = &conns[i];
        if (c->fd < 0 || c->busy) continue;
        if (write(c->fd, req, req_len) != (ssize_t)req_len) {
            errors++;
            continue;
        }
        c->busy = 1;
        c->due = *next;
        *next += step;
    }
}

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: paced PORT RATE SECONDS CONNS METHOD PATH TOKEN [BODY]\n");
        return 2;
    }
    int port = atoi(argv[1]), rate = atoi(argv[2]), secs = atoi(argv[3]), nconns = atoi(argv[4]);
    if (port <= 0 || rate <= 0 || rate > RATE_MAX || secs <= 0 || secs > SECONDS_MAX ||
        nconns <= 0 || nconns > CONNS_MAX) {
        fprintf(stderr, "paced: bad arguments\n");
        return 2;
    }
    build_request(argc, argv);
    lat = malloc(sizeof(double) * (size_t)rate * (size_t)secs + sizeof(double));
    int ep = epoll_create1(0);
    for (int i = 0; i < nconns; i++)
        if (open_conn(ep, port, &conns[i]) != 0) {
            fprintf(stderr, "paced: cannot connect to 127.0.0.1:%d\n", port);
            return 1;
        }
    double start = now_s(), end = start + secs, step = 1.0 / rate, next = start;
    struct epoll_event evs[CONNS_MAX];
    for (double t = start; t < end; t = now_s()) {
        send_due(&next, step, t, nconns);
        double wait = next - now_s();
        struct timespec to = {0, wait > 0 ? (long)(wait * 1e9) : 0};
        if (to.tv_nsec > 999999999) to.tv_nsec = 999999999;
        int n = epoll_pwait2(ep, evs, CONNS_MAX, &to, NULL);
        double tr = now_s();
        for (int i = 0; i < n; i++)
            if (nlat < (size_t)rate * (size_t)secs) on_readable(ep, port, evs[i].data.ptr, tr);
    }
    double took = now_s() - start;
    qsort(lat, nlat, sizeof *lat, cmp_double);
    printf("RESULT %.0f %.0f %.0f %zu %zu %zu\n", (double)nlat / took, pct(0.50) * 1e6,
           pct(0.99) * 1e6, nlat, non2xx, errors);
    return 0;
}
