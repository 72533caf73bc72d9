/*
 * http.c — the server (see http.h for the design).
 *
 * Threads never share a store connection, an lk_svc or an h2o context. What
 * they share: the h2o global configuration (read-only after start), the
 * rate limiter (has its own mutex), the job queue (srv->qmu) and the
 * `stopping` flag (atomic).
 *
 * Shutdown follows h2o's own server: close the listener, then
 * h2o_context_request_shutdown (from then on h2o's HTTP/1 answers every
 * newly parsed request with Connection: close; HTTP/2 gets GOAWAY). h2o 2.2
 * does nothing to idle HTTP/1 connections, so each loop keeps its accepted
 * sockets on a list and, while draining, half-closes the ones that are idle
 * (nothing buffered, nothing being written, nothing in the kernel's receive
 * queue): h2o then reads EOF and closes them itself. A connection whose
 * request has started arriving (headers or body still coming, handler or
 * job running, answer being written) is busy and is waited for, up to
 * LK_SHUTDOWN_WAIT_MS.
 */
#include "http.h"

#include "api.h"
#include "router.h"
#include "static.h"
#include "store.h"
#include "usage.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define LK_H2O_ENTITY_MAX (256 * 1024) /* h2o's own cap; ours (64 KiB) answers 413 in JSON */
#define LK_AUTH_HEADER_MAX 256
#define LK_CSRF_HEADER_MAX 128
#define LK_JOB_QUEUE_MAX 1024
#define LK_USAGE_CAPACITY 4096
#define LK_RATELIMIT_CAPACITY 65536
#define LK_SHUTDOWN_WAIT_MS 10000
#define LK_SHUTDOWN_QUIET_ROUNDS 3
/* Hostile clients (docs/security.md): open connections are capped (over the
 * cap a new connection is accepted and closed at once), and a request must
 * arrive whole — headers and body — within the request timeout, which is
 * also the keep-alive idle timeout. LATCHKEY_MAX_CONNECTIONS and
 * LATCHKEY_REQUEST_TIMEOUT_MS override the defaults (tests use short ones). */
#define LK_MAX_CONNECTIONS 10000
#define LK_REQUEST_TIMEOUT_MS 10000
#define LK_FD_RESERVE 64 /* descriptors kept for stores, listeners, logs */

typedef struct lk_server lk_server;

struct lk_loop {
    lk_server *srv;
    pthread_t tid;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
    int fd;
    h2o_socket_t *listener;
    lk_store *st;
    lk_usage *usage;
    lk_svc svc;
    h2o_multithread_receiver_t done_rx;
    h2o_timeout_t flush_timeout;
    h2o_timeout_entry_t flush_entry;
    size_t pending;    /* deferred jobs not yet back */
    size_t loglen;     /* bytes waiting in logbuf */
    char logbuf[LK_LOG_BATCH];
    h2o_linklist_t conns; /* lk_conn: this loop's accepted client sockets */
};

typedef struct lk_worker {
    lk_server *srv;
    pthread_t tid;
    lk_store *st;
    lk_svc svc;
} lk_worker;

struct lk_server {
    const lk_http_config *cfg;
    h2o_globalconf_t conf;
    lk_ratelimit *rl;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int nloops, nworkers;
    lk_loop *loops;
    lk_worker *workers;
    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    lk_job *qhead, *qtail;
    size_t qlen;
    int qstop;
    atomic_int stopping;
    atomic_int nconns; /* open client connections, all loops */
    SSL_CTX *ssl_ctx;  /* HTTPS when set (lk_http_config.tls_cert) */
    int max_conns;
};

/* One accepted client socket (owned by h2o); freed by its on_close. */
typedef struct lk_conn {
    h2o_linklist_t link; /* in lk_loop.conns */
    h2o_socket_t *sock;
    lk_server *srv;
    bool half_closed; /* shutdown(2) done while draining */
} lk_conn;

struct lk_job_anchor {
    lk_job *job; /* NULL once the job has come back */
};

/* --- listen address ------------------------------------------------------ */

/* "HOST:PORT" or "[V6]:PORT" → sockaddr. 0 or -1 (message on stderr). */
static int parse_listen(const char *s, struct sockaddr_storage *out, socklen_t *outlen)
{
    char host[256];
    const char *port;
    if (s[0] == '[') {
        const char *e = strchr(s, ']');
        if (e == NULL || e[1] != ':' || (size_t)(e - s - 1) >= sizeof(host)) goto bad;
        memcpy(host, s + 1, (size_t)(e - s - 1));
        host[e - s - 1] = '\0';
        port = e + 2;
    } else {
        const char *c = strrchr(s, ':');
        if (c == NULL || (size_t)(c - s) >= sizeof(host)) goto bad;
        memcpy(host, s, (size_t)(c - s));
        host[c - s] = '\0';
        port = c + 1;
    }
    if (port[0] == '\0' || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
        atoi(port) > 65535)
        goto bad;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        fprintf(stderr, "latchkeyd: cannot resolve listen address %s: %s\n", s, gai_strerror(rc));
        return -1;
    }
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *outlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
bad:
    fprintf(stderr, "latchkeyd: bad listen address '%s' (expected ADDR:PORT)\n", s);
    return -1;
}

static int open_listener(lk_server *srv, int reuseport)
{
    int one = 1;
    int fd = socket(srv->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) ||
        bind(fd, (struct sockaddr *)&srv->addr, srv->addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* --- access log ------------------------------------------------------------ */

static void log_flush(lk_loop *lp)
{
    size_t off = 0;
    while (off < lp->loglen) {
        ssize_t w = write(STDERR_FILENO, lp->logbuf + off, lp->loglen - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break; /* nowhere to log: drop rather than block the loop */
        off += (size_t)w;
    }
    lp->loglen = 0;
}

void lk_http_log(h2o_req_t *req, const char *line, size_t n)
{
    lk_loop *lp = H2O_STRUCT_FROM_MEMBER(lk_loop, ctx, req->conn->ctx);
    if (n > sizeof(lp->logbuf)) n = sizeof(lp->logbuf);
    if (lp->loglen + n > sizeof(lp->logbuf)) log_flush(lp);
    memcpy(lp->logbuf + lp->loglen, line, n);
    lp->loglen += n;
}

/* --- request dispatch ------------------------------------------------------ */

/* The peer address of r's connection as text (lk_svc_client_fn). Only
 * failed bearer attempts need it, so it is asked for lazily. */
static void client_addr(void *ctx, char *out, size_t size)
{
    lk_req *r = ctx;
    struct sockaddr_storage ss;
    socklen_t n = r->req->conn->callbacks->get_peername(r->req->conn, (struct sockaddr *)&ss);
    r->client[0] = '\0';
    if (size > 0) out[0] = '\0';
    if (n == 0) return;
    if (ss.ss_family == AF_INET && size >= sizeof("255.255.255.255")) {
        /* dotted quad by hand: getnameinfo + sprintf cost ~1,700
         * instructions on every failed attempt */
        const unsigned char *q = (const unsigned char *)&((struct sockaddr_in *)&ss)->sin_addr;
        char *o = out;
        for (int i = 0; i < 4; i++) {
            unsigned v = q[i];
            if (v >= 100) *o++ = (char)('0' + v / 100);
            if (v >= 10) *o++ = (char)('0' + v / 10 % 10);
            *o++ = (char)('0' + v % 10);
            *o++ = i < 3 ? '.' : '\0';
        }
        memcpy(r->client, out, (size_t)(o - out));
        return;
    }
    char buf[NI_MAXHOST];
    size_t len = h2o_socket_getnumerichost((struct sockaddr *)&ss, n, buf);
    if (len == SIZE_MAX || len >= sizeof(r->client) || len >= size) return;
    memcpy(r->client, buf, len);
    r->client[len] = '\0';
    memcpy(out, buf, len);
    out[len] = '\0';
}

static int is_write_method(h2o_iovec_t m)
{
    return !(h2o_memis(m.base, m.len, H2O_STRLIT("GET")) ||
             h2o_memis(m.base, m.len, H2O_STRLIT("HEAD")) ||
             h2o_memis(m.base, m.len, H2O_STRLIT("OPTIONS")));
}

/* Fill r->principal from the Bearer header or else the session cookie. */
static int authenticate(lk_req *r)
{
    h2o_req_t *req = r->req;
    size_t na;
    h2o_iovec_t a = lk_req_header(req, H2O_TOKEN_AUTHORIZATION, &na);
    if (na > 1) return lk_err_set(&r->err, LK_EUNAUTHENTICATED, "duplicate Authorization header");
    if (na == 1) {
        if (a.len > LK_AUTH_HEADER_MAX)
            return lk_err_set(&r->err, LK_EUNAUTHENTICATED, "Authorization header too long");
        if (a.len < 7 || strncasecmp(a.base, "Bearer ", 7) != 0)
            return lk_err_set(&r->err, LK_EUNAUTHENTICATED,
                              "expected Authorization: Bearer <token>");
        size_t s = 7, e = a.len;
        while (s < e && a.base[s] == ' ')
            s++;
        while (e > s && (a.base[e - 1] == ' ' || a.base[e - 1] == '\t'))
            e--;
        /* GET /v1/whoami answers with the key's user or org: read it in
         * the same statement as the key (one store read per request, not
         * two; see docs/performance.md, "Optimisations applied"). */
        unsigned flags =
            r->m.route != NULL && r->m.route->fn == lk_api_whoami ? LK_AUTH_OWNER : 0;
        return lk_svc_auth_bearer_lazy(r->svc, a.base + s, e - s, client_addr, r, flags,
                                       &r->principal);
    }
    const char *cv;
    size_t cn;
    if (!lk_req_session_cookie(req, &cv, &cn))
        return lk_err_set(&r->err, LK_EUNAUTHENTICATED, NULL);
    int rc = lk_svc_auth_session(r->svc, cv, cn, &r->principal);
    if (rc != 0) return rc;
    r->by_cookie = true;
    if (is_write_method(req->method)) {
        ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-csrf-token"), -1);
        h2o_iovec_t c = i == -1 ? h2o_iovec_init(NULL, 0) : req->headers.entries[i].value;
        if (c.len > LK_CSRF_HEADER_MAX) c.len = 0;
        rc = lk_svc_check_csrf(r->svc, &r->principal, c.base ? c.base : "", c.len);
        if (rc != 0) return rc;
    }
    return 0;
}

static int serve_static(h2o_req_t *req, const char *path, size_t plen)
{
    const lk_asset *a = lk_static_find(path, plen);
    int get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
              h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    if (a == NULL) {
        lk_reply_error(req, LK_ENOT_FOUND, NULL);
    } else if (!get) {
        lk_reply_method(req, "GET, HEAD");
    } else {
        lk_reply_asset(req, a->content_type, a->etag, a->data, a->len);
    }
    return 0;
}

/* Two Content-Lengths, or Content-Length with Transfer-Encoding, or two
 * Transfer-Encodings: peers may disagree on where the body ends (request
 * smuggling; RFC 7230 3.3.3 says 400 and close). h2o 2.2 keeps neither
 * header in req->headers (it silently lets Transfer-Encoding win and the
 * first Content-Length win), so this reads the request's raw header block:
 * for HTTP/1 h2o keeps the request being handled at the start of the
 * socket's input buffer until the response is done. Only requests with a
 * body have either header; if the buffer does not start with this
 * request's method the check is skipped (never a false refusal). */
static int ambiguous_framing(h2o_req_t *req)
{
    if (req->entity.base == NULL || req->version >= 0x200 ||
        req->conn->callbacks->get_socket == NULL)
        return 0;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL || sock->input == NULL) return 0;
    const char *p = sock->input->bytes;
    size_t n = sock->input->size;
    h2o_iovec_t m = req->input.method;
    if (n <= m.len || memcmp(p, m.base, m.len) != 0 || p[m.len] != ' ') return 0;
    int ncl = 0, nte = 0;
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(p + i, '\n', n - i);
        if (nl == NULL) break;
        size_t ls = (size_t)(nl - p) + 1; /* start of the next line */
        if (ls >= n || p[ls] == '\r' || p[ls] == '\n') break; /* end of the header block */
        size_t rest = n - ls;
        if (rest > 15 && strncasecmp(p + ls, "content-length:", 15) == 0) ncl++;
        if (rest > 18 && strncasecmp(p + ls, "transfer-encoding:", 18) == 0) nte++;
        i = ls;
    }
    return ncl > 1 || nte > 1 || (ncl > 0 && nte > 0);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    lk_loop *lp = H2O_STRUCT_FROM_MEMBER(lk_loop, ctx, req->conn->ctx);
    if (ambiguous_framing(req)) {
        /* The API's 400 codes are invalid_json and validation_failed; the
         * body cannot be trusted, so: invalid_json, and close. */
        lk_err e;
        lk_err_set(&e, LK_EINVALID_JSON, "malformed HTTP request body framing");
        req->http1_is_persistent = 0;
        lk_reply_error(req, LK_EINVALID_JSON, &e);
        return 0;
    }
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    const char *path = req->path.base;
    if (!lk_router_is_api(path, plen)) return serve_static(req, path, plen);

    lk_req r;
    r.req = req;
    r.loop = lp;
    r.svc = &lp->svc;
    r.by_cookie = false;
    r.client[0] = '\0';
    lk_err_clear(&r.err);
    lk_err_clear(&lp->svc.err);
    r.principal.kind = LK_PRINCIPAL_NONE;

    switch (lk_router_match(req->method.base, req->method.len, path, plen, &r.m)) {
    case LK_ROUTE_FOUND:
        break;
    case LK_ROUTE_METHOD:
        lk_reply_method(req, r.m.allow);
        return 0;
    case LK_ROUTE_BAD_PATH:
        lk_reply_error(req, LK_ENOT_FOUND, NULL);
        return 0;
    case LK_ROUTE_NOT_FOUND:
    default:
        lk_reply_error(req, LK_ENOT_FOUND, NULL);
        return 0;
    }
    int rc = 0;
    if (!(r.m.route->flags & LK_ROUTE_PUBLIC)) rc = authenticate(&r);
    if (rc == 0) {
        rc = r.m.route->fn(&r);
        if (rc == LK_HANDLER_DEFERRED) return 0;
    }
    if (rc < 0) lk_reply_fail(&r, rc);
    return 0;
}

/* --- deferred jobs ----------------------------------------------------------- */

static void on_anchor_dispose(void *p)
{
    struct lk_job_anchor *a = p;
    if (a->job != NULL) {
        a->job->req = NULL; /* the client has gone */
        atomic_store(&a->job->cancelled, 1);
    }
}

int lk_http_defer(lk_req *r, lk_job *j)
{
    lk_server *srv = r->loop->srv;
    struct lk_job_anchor *a = h2o_mem_alloc_shared(&r->req->pool, sizeof(*a), on_anchor_dispose);
    a->job = j;
    j->req = r->req;
    j->anchor = a;
    j->loop = r->loop;
    j->next = NULL;
    atomic_init(&j->cancelled, 0);
    pthread_mutex_lock(&srv->qmu);
    if (srv->qlen >= LK_JOB_QUEUE_MAX) {
        pthread_mutex_unlock(&srv->qmu);
        a->job = NULL;
        return lk_err_set(&r->err, LK_EUNAVAILABLE, "server busy, try again");
    }
    if (srv->qtail)
        srv->qtail->next = j;
    else
        srv->qhead = j;
    srv->qtail = j;
    srv->qlen++;
    pthread_cond_signal(&srv->qcv);
    pthread_mutex_unlock(&srv->qmu);
    r->loop->pending++;
    return LK_HANDLER_DEFERRED;
}

static void on_jobs_done(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
    lk_loop *lp = H2O_STRUCT_FROM_MEMBER(lk_loop, done_rx, rx);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *msg =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&msg->link);
        lk_job *j = H2O_STRUCT_FROM_MEMBER(lk_job, msg, msg);
        lp->pending--;
        h2o_req_t *req = j->req;
        if (req != NULL) j->anchor->job = NULL;
        j->finish(j, req);
    }
}

static void *worker_main(void *arg)
{
    lk_worker *w = arg;
    lk_server *srv = w->srv;
    for (;;) {
        pthread_mutex_lock(&srv->qmu);
        while (srv->qhead == NULL && !srv->qstop)
            pthread_cond_wait(&srv->qcv, &srv->qmu);
        lk_job *j = srv->qhead;
        if (j == NULL) {
            pthread_mutex_unlock(&srv->qmu);
            break;
        }
        srv->qhead = j->next;
        if (srv->qhead == NULL) srv->qtail = NULL;
        srv->qlen--;
        pthread_mutex_unlock(&srv->qmu);
        /* A job whose client has gone is not run: no argon2id for nobody. */
        if (!atomic_load(&j->cancelled)) {
            lk_err_clear(&w->svc.err);
            j->run(j, &w->svc);
        }
        h2o_multithread_send_message(&j->loop->done_rx, &j->msg);
    }
    return NULL;
}

/* --- loops ------------------------------------------------------------------- */

static void on_conn_close(void *data)
{
    lk_conn *c = data;
    atomic_fetch_sub(&c->srv->nconns, 1);
    h2o_linklist_unlink(&c->link);
    free(c);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL) return;
    lk_loop *lp = listener->data;
    lk_server *srv = lp->srv;
    for (int i = 0; i < 16; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL) break;
        lk_conn *c = NULL;
        if (atomic_fetch_add(&srv->nconns, 1) >= srv->max_conns ||
            (c = malloc(sizeof *c)) == NULL) {
            atomic_fetch_sub(&srv->nconns, 1);
            h2o_socket_close(sock); /* over the cap: refuse, keep serving the others */
            continue;
        }
        *c = (lk_conn){.sock = sock, .srv = srv};
        h2o_linklist_insert(&lp->conns, &c->link);
        sock->on_close.cb = on_conn_close;
        sock->on_close.data = c;
        h2o_accept(&lp->accept, sock);
    }
}

/* A positive integer from the environment, else def. */
static long env_long(const char *name, long def, long max)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0') return def;
    char *end;
    long n = strtol(v, &end, 10);
    return (*end == '\0' && n > 0 && n <= max) ? n : def;
}

/* Raise the descriptor limit to the hard limit and cap the connection
 * count below it, so accept() never fails for want of descriptors (h2o
 * would retry it in a busy loop). */
static int connection_cap(void)
{
    long cap = env_long("LATCHKEY_MAX_CONNECTIONS", LK_MAX_CONNECTIONS, 1000000);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            (void)setrlimit(RLIMIT_NOFILE, &rl);
            (void)getrlimit(RLIMIT_NOFILE, &rl);
        }
        if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur - LK_FD_RESERVE < cap)
            cap = (long)rl.rlim_cur - LK_FD_RESERVE;
    }
    return cap < 1 ? 1 : (int)cap;
}

static void on_flush(h2o_timeout_entry_t *entry)
{
    lk_loop *lp = H2O_STRUCT_FROM_MEMBER(lk_loop, flush_entry, entry);
    if (lk_usage_flush(lp->usage, lp->st) != 0)
        fprintf(stderr, "latchkeyd: usage flush failed: %s\n", lk_err_message(&lp->st->err));
    h2o_timeout_link(lp->ctx.loop, &lp->flush_timeout, &lp->flush_entry);
}

/* Whether a connection has a request in progress: bytes of it buffered
 * (h2o keeps an HTTP/1 request in the socket's input until its answer is
 * sent) or still in the kernel, an answer being written, or HTTP/2 (whose
 * streams h2o ends itself after GOAWAY). */
static bool conn_busy(lk_conn *c)
{
    h2o_socket_t *sock = c->sock;
    if ((sock->input != NULL && sock->input->size > 0) || h2o_socket_is_writing(sock)) return true;
    if (sock->ssl != NULL) {
        h2o_iovec_t proto = h2o_socket_ssl_get_selected_protocol(sock);
        if (proto.len >= 2 && memcmp(proto.base, "h2", 2) == 0) return true;
    }
    char b;
    return recv(h2o_socket_get_fd(sock), &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* One draining round: half-close the idle connections (h2o sees EOF and
 * closes them), count the busy ones. */
static size_t drain_conns(lk_loop *lp)
{
    size_t busy = 0;
    for (h2o_linklist_t *n = lp->conns.next; n != &lp->conns; n = n->next) {
        lk_conn *c = H2O_STRUCT_FROM_MEMBER(lk_conn, link, n);
        if (conn_busy(c)) {
            busy++;
        } else if (!c->half_closed) {
            (void)shutdown(h2o_socket_get_fd(c->sock), SHUT_RDWR);
            c->half_closed = true;
        }
    }
    return busy;
}

static void *loop_main(void *arg)
{
    lk_loop *lp = arg;
    lk_server *srv = lp->srv;
    h2o_loop_t *loop = lp->ctx.loop;
    while (!atomic_load(&srv->stopping)) {
        h2o_evloop_run(loop, INT32_MAX);
        if (lp->loglen) log_flush(lp);
    }

    /* Stop accepting; connections already accepted keep being served. */
    h2o_socket_read_stop(lp->listener);
    h2o_socket_close(lp->listener);
    lp->listener = NULL;
    h2o_context_request_shutdown(&lp->ctx);
    /* Drain: close idle connections, finish what is in flight (requests
     * arriving, read or sitting in a connection's buffer, deferred jobs,
     * answers being written) until nothing has been busy for
     * LK_SHUTDOWN_QUIET_ROUNDS rounds, or the deadline. */
    uint64_t deadline = h2o_now(loop) + LK_SHUTDOWN_WAIT_MS;
    int quiet = 0;
    while (quiet < LK_SHUTDOWN_QUIET_ROUNDS && h2o_now(loop) < deadline) {
        size_t busy = drain_conns(lp);
        h2o_evloop_run(loop, 10);
        if (lp->loglen) log_flush(lp);
        quiet = lp->pending > 0 || busy > 0 ? 0 : quiet + 1;
    }
    if (lk_usage_flush(lp->usage, lp->st) != 0)
        fprintf(stderr, "latchkeyd: usage flush failed: %s\n", lk_err_message(&lp->st->err));
    return NULL;
}

/* --- TLS ---------------------------------------------------------------------- */

/* With --tls-cert/--tls-key: one SSL_CTX for every loop, TLS 1.2 or newer,
 * ALPN offering h2 and http/1.1 (h2o then speaks HTTP/2 or HTTP/1.1). The
 * context lives until the process exits (h2o's accept contexts point at
 * it). 0, or -1 with one line on stderr (OpenSSL's reason, never key
 * material). */
static int setup_tls(lk_server *srv)
{
    const char *cert = srv->cfg->tls_cert, *key = srv->cfg->tls_key;
    if (cert == NULL) return 0;
    const char *what = "cannot create a TLS context", *file = "";
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) goto fail;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    what = "cannot load the certificate";
    file = cert;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) goto fail;
    what = "cannot load the private key";
    file = key;
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) goto fail;
    what = "the private key does not match the certificate";
    if (SSL_CTX_check_private_key(ctx) != 1) goto fail;
    h2o_ssl_register_alpn_protocols(ctx, h2o_alpn_protocols);
    srv->ssl_ctx = ctx;
    return 0;
fail:;
    char reason[160] = "";
    unsigned long e = ERR_peek_last_error();
    if (e != 0) ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    fprintf(stderr, "latchkeyd: TLS: %s%s%s%s%s\n", what, file[0] ? " " : "", file,
            reason[0] ? ": " : "", reason);
    SSL_CTX_free(ctx);
    return -1;
}

/* --- start and stop ------------------------------------------------------------ */

/* The database URL as it may be printed: for scheme://user:password@host/db
 * the password and the query string (which may hold password=...) are left
 * out. Writes into out (always NUL-terminated, truncated to n). */
static void safe_db_url(const char *url, char *out, size_t n)
{
    const char *auth = strstr(url, "://");
    if (auth == NULL) {
        snprintf(out, n, "%s", url);
        return;
    }
    auth += 3;
    size_t alen = strcspn(auth, "/?");
    const char *at = NULL;
    for (const char *p = auth; p < auth + alen; p++)
        if (*p == '@') at = p;
    size_t ulen = 0; /* user name part of the userinfo, without ":password" */
    if (at != NULL) ulen = strcspn(auth, ":@");
    const char *host = at ? at + 1 : auth;
    snprintf(out, n, "%.*s%.*s%s%.*s", (int)(auth - url), url, (int)ulen, auth, at ? "@" : "",
             (int)strcspn(host, "?"), host);
}

static int open_store(lk_server *srv, lk_store **st)
{
    lk_err e;
    lk_err_clear(&e);
    if (lk_store_open(srv->cfg->database_url, st, &e) != 0) {
        char url[256];
        safe_db_url(srv->cfg->database_url, url, sizeof url);
        fprintf(stderr, "latchkeyd: cannot open database %s: %s\n", url, lk_err_message(&e));
        return -1;
    }
    return 0;
}

static int migrate_schema(lk_server *srv)
{
    lk_store *st = NULL;
    if (open_store(srv, &st) != 0) return -1;
    int rc = st->ops->migrate(st);
    if (rc == 0) rc = st->ops->ping(st);
    if (rc != 0) fprintf(stderr, "latchkeyd: database not usable: %s\n", lk_err_message(&st->err));
    lk_store_close(st);
    return rc == 0 ? 0 : -1;
}

int lk_http_run(const lk_http_config *cfg)
{
    /* Static: h2o objects point into it until the process exits. */
    static lk_server the_server;
    int status = 1, started_loops = 0, started_workers = 0;
    lk_server *srv = &the_server;
    srv->cfg = cfg;
    atomic_init(&srv->stopping, 0);
    pthread_mutex_init(&srv->qmu, NULL);
    pthread_cond_init(&srv->qcv, NULL);
    srv->nloops = cfg->threads > 0 ? cfg->threads : 1;
    srv->nworkers = srv->nloops < 2 ? 2 : (srv->nloops > 8 ? 8 : srv->nloops);

    signal(SIGPIPE, SIG_IGN);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* threads inherit: only sigwait sees them */

    if (parse_listen(cfg->listen, &srv->addr, &srv->addrlen) != 0) goto out;
    if (setup_tls(srv) != 0) goto out;
    if (migrate_schema(srv) != 0) goto out;

    /* Probe without SO_REUSEPORT so a port held by anyone (another
     * latchkeyd included) is reported instead of silently shared. */
    int probe = open_listener(srv, 0);
    if (probe < 0) {
        fprintf(stderr, "latchkeyd: cannot listen on %s: %s\n", cfg->listen, strerror(errno));
        goto out;
    }
    close(probe);

    srv->rl = lk_ratelimit_new(LK_RATELIMIT_CAPACITY);
    srv->loops = calloc((size_t)srv->nloops, sizeof(lk_loop));
    srv->workers = calloc((size_t)srv->nworkers, sizeof(lk_worker));
    if (srv->rl == NULL || srv->loops == NULL || srv->workers == NULL) {
        fprintf(stderr, "latchkeyd: out of memory\n");
        goto out;
    }

    h2o_config_init(&srv->conf);
    srv->conf.server_name = h2o_iovec_init(H2O_STRLIT("latchkey"));
    srv->conf.max_request_entity_size = LK_H2O_ENTITY_MAX;
    srv->conf.http1.upgrade_to_http2 = 0;
    srv->conf.http1.req_timeout =
        (uint64_t)env_long("LATCHKEY_REQUEST_TIMEOUT_MS", LK_REQUEST_TIMEOUT_MS, 3600000);
    srv->conf.http2.idle_timeout = srv->conf.http1.req_timeout;
    srv->conf.handshake_timeout = srv->conf.http1.req_timeout; /* a TLS hello that never ends */
    srv->max_conns = connection_cap();
    atomic_init(&srv->nconns, 0);
    h2o_hostconf_t *host =
        h2o_config_register_host(&srv->conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pc = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(pc, sizeof(*handler));
    handler->on_req = on_req;
    lk_reply_install_fallback(host);

    for (int i = 0; i < srv->nloops; i++) {
        lk_loop *lp = &srv->loops[i];
        lp->srv = srv;
        lp->fd = -1;
        h2o_linklist_init_anchor(&lp->conns);
        if (open_store(srv, &lp->st) != 0) goto out;
        lp->usage = lk_usage_new(LK_USAGE_CAPACITY);
        if (lp->usage == NULL) goto out;
        lp->svc = (lk_svc){.st = lp->st, .usage = lp->usage, .rl = srv->rl, .cfg = &cfg->svc};
        lp->fd = open_listener(srv, 1);
        if (lp->fd < 0) {
            fprintf(stderr, "latchkeyd: cannot listen on %s: %s\n", cfg->listen, strerror(errno));
            goto out;
        }
        h2o_context_init(&lp->ctx, h2o_evloop_create(), &srv->conf);
        lp->accept.ctx = &lp->ctx;
        lp->accept.hosts = srv->conf.hosts;
        lp->accept.ssl_ctx = srv->ssl_ctx;
        lp->listener = h2o_evloop_socket_create(lp->ctx.loop, lp->fd, H2O_SOCKET_FLAG_DONT_READ);
        lp->listener->data = lp;
        h2o_socket_read_start(lp->listener, on_accept);
        h2o_multithread_register_receiver(lp->ctx.queue, &lp->done_rx, on_jobs_done);
        h2o_timeout_init(lp->ctx.loop, &lp->flush_timeout, LK_USAGE_FLUSH_SECS * 1000);
        lp->flush_entry.cb = on_flush;
        h2o_timeout_link(lp->ctx.loop, &lp->flush_timeout, &lp->flush_entry);
    }
    for (int i = 0; i < srv->nworkers; i++) {
        lk_worker *w = &srv->workers[i];
        w->srv = srv;
        if (open_store(srv, &w->st) != 0) goto out;
        w->svc = (lk_svc){.st = w->st, .usage = NULL, .rl = srv->rl, .cfg = &cfg->svc};
    }
    for (; started_workers < srv->nworkers; started_workers++)
        h2o_multithread_create_thread(&srv->workers[started_workers].tid, NULL, worker_main,
                                      &srv->workers[started_workers]);
    for (; started_loops < srv->nloops; started_loops++)
        h2o_multithread_create_thread(&srv->loops[started_loops].tid, NULL, loop_main,
                                      &srv->loops[started_loops]);
    fprintf(stderr, "latchkeyd: listening on %s%s (%d loops, %d workers)\n", cfg->listen,
            srv->ssl_ctx ? " with TLS" : "", srv->nloops, srv->nworkers);

    int sig = 0;
    while (sigwait(&sigs, &sig) != 0) {
    }
    fprintf(stderr, "latchkeyd: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    status = 0;

out:
    atomic_store(&srv->stopping, 1);
    for (int i = 0; i < started_loops; i++)
        h2o_multithread_send_message(&srv->loops[i].done_rx, NULL); /* wake it */
    for (int i = 0; i < started_loops; i++)
        pthread_join(srv->loops[i].tid, NULL);
    pthread_mutex_lock(&srv->qmu);
    srv->qstop = 1;
    pthread_cond_broadcast(&srv->qcv);
    pthread_mutex_unlock(&srv->qmu);
    for (int i = 0; i < started_workers; i++)
        pthread_join(srv->workers[i].tid, NULL);
    if (srv->workers)
        for (int i = 0; i < srv->nworkers; i++)
            lk_store_close(srv->workers[i].st);
    if (srv->loops)
        for (int i = 0; i < srv->nloops; i++) {
            lk_loop *lp = &srv->loops[i];
            if (i >= started_loops && lp->fd >= 0) close(lp->fd);
            lk_usage_free(lp->usage);
            lk_store_close(lp->st);
        }
    lk_ratelimit_free(srv->rl);
    srv->rl = NULL;
    /* The loops' h2o contexts (inside srv->loops) and the global config are
     * left to process exit: h2o 2.2 cannot dispose a context that still has
     * idle keep-alive connections attached. */
    if (status == 0) fprintf(stderr, "latchkeyd: stopped\n");
    return status;
}
