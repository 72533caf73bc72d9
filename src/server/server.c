/*
 * server.c — the server's life (see server.h): prepare, open, start, wait,
 * drain, stop.
 *
 * Threads never share a store connection, an lk_svc or an h2o context. What
 * they share: the h2o global configuration (read-only after start), the
 * rate limiter (has its own mutex), the job queues (jobs.h: the workers
 * and, on SQLite, the writer thread of writer.h) and the
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
 *
 * Invariants: nconns counts the lk_conn's alive on all loops and stays
 * <= max_conns; started_loops <= nloops.
 */
#include "server.h"

#include "accesslog.h"
#include "http.h"
#include "metrics.h"
#include "metrics_server.h"
#include "pgwait.h"
#include "router.h"
#include "store.h"
#include "timefmt.h"
#include "usage.h"

#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define LK_H2O_ENTITY_MAX (256 * 1024) /* h2o's own cap; ours (64 KiB) answers 413 in JSON */
#define LK_USAGE_CAPACITY 4096
#define LK_SHUTDOWN_WAIT_MS 10000
#define LK_SHUTDOWN_QUIET_ROUNDS 3
#define LK_DRAIN_ROUND_MS 10   /* one draining round's event-loop wait */
#define LK_ACCEPT_BATCH 16     /* connections accepted per wake-up */
#define LK_FD_RESERVE 64       /* descriptors kept for stores, listeners, logs */
#define LK_LISTEN_HOST_MAX 256 /* the host part of --listen */
#define LK_PORT_DIGITS_MAX 5
#define LK_PORT_MAX 65535
#define LK_HOST_PORT_ANY 65535 /* h2o's "any port" for the default host */

typedef struct lk_loop {
    lk_server *srv;
    pthread_t tid;
    lk_http_ctx http; /* h2o context, service handle, job port */
    h2o_accept_ctx_t accept;
    int fd;
    h2o_socket_t *listener;
    lk_store *st;
    lk_usage *usage;
    h2o_timeout_t flush_timeout;
    h2o_timeout_entry_t flush_entry;
    h2o_linklist_t conns; /* lk_conn: this loop's accepted client sockets */
} lk_loop;

struct lk_server {
    const lk_server_config *cfg;
    h2o_globalconf_t conf;
    lk_ratelimit *rl;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    sigset_t sigs; /* SIGTERM, SIGINT: blocked, sigwait'ed */
    int nloops, started_loops;
    lk_loop *loops;
    lk_jobs jobs;
    lk_jobs writer; /* cfg->group_commit: the writer thread (writer.h) */
    atomic_int stopping;
    sem_t ready; /* posted by each loop once its h2o side exists */
    atomic_int nconns; /* open client connections, all loops */
    SSL_CTX *ssl_ctx;  /* HTTPS when set (lk_server_config.tls_cert) */
    int max_conns;
};

/* One accepted client socket (owned by h2o); freed by its on_close. */
typedef struct lk_conn {
    h2o_linklist_t link; /* in lk_loop.conns */
    h2o_socket_t *sock;
    lk_server *srv;
    bool half_closed; /* shutdown(2) done while draining */
} lk_conn;

/* --- listen address ------------------------------------------------------ */

/* "HOST:PORT" or "[V6]:PORT" → sockaddr. 0 or -1 (message on stderr). */
static int parse_listen(const char *s, struct sockaddr_storage *out, socklen_t *outlen)
{
    char host[LK_LISTEN_HOST_MAX];
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
    if (port[0] == '\0' || strspn(port, "0123456789") != strlen(port) ||
        strlen(port) > LK_PORT_DIGITS_MAX || atoi(port) > LK_PORT_MAX)
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

/* --- loops ------------------------------------------------------------------- */

static void on_conn_close(void *data)
{
    lk_conn *c = data;
    atomic_fetch_sub(&c->srv->nconns, 1);
    lk_metrics_connection(-1);
    h2o_linklist_unlink(&c->link);
    free(c);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL) return;
    lk_loop *lp = listener->data;
    lk_server *srv = lp->srv;
    for (int i = 0; i < LK_ACCEPT_BATCH; i++) {
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
        lk_metrics_connection(+1);
        h2o_linklist_insert(&lp->conns, &c->link);
        sock->on_close.cb = on_conn_close;
        sock->on_close.data = c;
        h2o_accept(&lp->accept, sock);
    }
}

/* Raise the descriptor limit to the hard limit and cap the connection
 * count below it, so accept() never fails for want of descriptors (h2o
 * would retry it in a busy loop). */
static int connection_cap(int wanted)
{
    long cap = wanted;
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

/* --- account: expired sessions are purged by whichever loop's flush
 * first finds the purge due (once per LK_SESSION_PURGE_SECS over all
 * loops; the first soon after start). */
static _Atomic int64_t next_session_purge;

static void purge_sessions_if_due(lk_loop *lp)
{
    int64_t now = lk_time_now(), due = atomic_load(&next_session_purge);
    if (now < due ||
        !atomic_compare_exchange_strong(&next_session_purge, &due, now + LK_SESSION_PURGE_SECS))
        return;
    if (lk_svc_session_purge(&lp->http.svc) != 0)
        fprintf(stderr, "latchkeyd: session purge failed: %s\n",
                lk_err_message(&lp->http.svc.err));
}

static void on_flush(h2o_timeout_entry_t *entry)
{
    lk_loop *lp = H2O_STRUCT_FROM_MEMBER(lk_loop, flush_entry, entry);
    if (lk_usage_flush(lp->usage, lp->st) != 0)
        fprintf(stderr, "latchkeyd: usage flush failed: %s\n", lk_err_message(&lp->st->err));
    purge_sessions_if_due(lp);
    h2o_timeout_link(lp->http.h2o.loop, &lp->flush_timeout, &lp->flush_entry);
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

/* Key look-ups waiting on the loop's pipelined PostgreSQL connection. */
static size_t pg_pending(lk_loop *lp)
{
    return lp->http.pg != NULL ? lk_pgpipe_pending(lk_pgwait_pipe(lp->http.pg)) : 0;
}

/* One loop's shutdown, on its thread: stop accepting (connections already
 * accepted keep being served), drain, flush usage. */
static void loop_drain(lk_loop *lp)
{
    h2o_loop_t *loop = lp->http.h2o.loop;
    assert(lp->listener != NULL);
    h2o_socket_read_stop(lp->listener);
    h2o_socket_close(lp->listener);
    lp->listener = NULL;
    h2o_context_request_shutdown(&lp->http.h2o);
    /* Drain: close idle connections, finish what is in flight (requests
     * arriving, read or sitting in a connection's buffer, deferred jobs,
     * answers being written) until nothing has been busy for
     * LK_SHUTDOWN_QUIET_ROUNDS rounds, or the deadline. */
    uint64_t deadline = h2o_now(loop) + LK_SHUTDOWN_WAIT_MS;
    int quiet = 0;
    while (quiet < LK_SHUTDOWN_QUIET_ROUNDS && h2o_now(loop) < deadline) {
        size_t busy = drain_conns(lp);
        h2o_evloop_run(loop, LK_DRAIN_ROUND_MS);
        lk_accesslog_flush();
        quiet = lp->http.jobs.pending > 0 || busy > 0 || pg_pending(lp) > 0 ? 0 : quiet + 1;
    }
    /* Key look-ups still waiting past the deadline answer 503, here on the
     * loop's thread. */
    lk_pgwait_free(lp->http.pg);
    lp->http.pg = NULL;
    if (lk_usage_flush(lp->usage, lp->st) != 0)
        fprintf(stderr, "latchkeyd: usage flush failed: %s\n", lk_err_message(&lp->st->err));
}

static void loop_setup(lk_loop *lp);

static void *loop_main(void *arg)
{
    lk_loop *lp = arg;
    lk_server *srv = lp->srv;
    loop_setup(lp);
    sem_post(&srv->ready); /* start() waits: stop() may wake this loop from now on */
    h2o_loop_t *loop = lp->http.h2o.loop;
    while (!atomic_load(&srv->stopping)) {
        h2o_evloop_run(loop, INT32_MAX);
        lk_accesslog_flush();
    }
    loop_drain(lp);
    return NULL;
}

#define LK_TLS12_CIPHERS                                                                           \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define LK_TLS_GROUPS "X25519:P-256:P-384"

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
    /* --- account: Mozilla "intermediate" — TLS 1.2 offers only ECDHE with
     * AEAD (no static RSA, no CBC, no DHE), in this order; TLS 1.3 keeps
     * OpenSSL's defaults (all AEAD with forward secrecy). */
    if (SSL_CTX_set_cipher_list(ctx, LK_TLS12_CIPHERS) != 1 ||
        SSL_CTX_set1_groups_list(ctx, LK_TLS_GROUPS) != 1) {
        what = "cannot set the TLS cipher list";
        goto fail;
    }
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

lk_server *lk_server_prepare(const lk_server_config *cfg)
{
    /* Static: h2o objects point into it until the process exits. */
    static lk_server the_server;
    lk_server *srv = &the_server;
    assert(srv->cfg == NULL); /* once per process */
    assert(cfg->open_store != NULL && cfg->max_connections >= 1);
    srv->cfg = cfg;
    atomic_init(&srv->stopping, 0);
    sem_init(&srv->ready, 0, 0);
    atomic_init(&srv->nconns, 0);
    srv->nloops = cfg->threads > 0 ? cfg->threads : 1;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&srv->sigs);
    sigaddset(&srv->sigs, SIGINT);
    sigaddset(&srv->sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &srv->sigs, NULL); /* threads inherit: only sigwait sees them */

    if (parse_listen(cfg->listen, &srv->addr, &srv->addrlen) != 0) return NULL;
    if (setup_tls(srv) != 0) return NULL;
    return srv;
}

/* The h2o global configuration every loop shares (read-only once loops run). */
static void setup_h2o(lk_server *srv)
{
    h2o_config_init(&srv->conf);
    srv->conf.server_name = h2o_iovec_init(H2O_STRLIT("latchkey"));
    srv->conf.max_request_entity_size = LK_H2O_ENTITY_MAX;
    srv->conf.http1.upgrade_to_http2 = 0;
    srv->conf.http1.req_timeout = srv->cfg->request_timeout_ms;
    srv->conf.http2.idle_timeout = srv->conf.http1.req_timeout;
    srv->conf.handshake_timeout = srv->conf.http1.req_timeout; /* a TLS hello that never ends */
    srv->max_conns = connection_cap(srv->cfg->max_connections);
    h2o_hostconf_t *host = h2o_config_register_host(
        &srv->conf, h2o_iovec_init(H2O_STRLIT("default")), LK_HOST_PORT_ANY);
    lk_http_install(host);
}

/* One loop's store, usage buffer, listen socket, h2o context and timers.
 * 0, or -1 after a line on stderr. */
static int open_loop(lk_server *srv, lk_loop *lp)
{
    const lk_server_config *cfg = srv->cfg;
    lp->srv = srv;
    lp->fd = -1;
    h2o_linklist_init_anchor(&lp->conns);
    if (cfg->open_store(cfg->store_ctx, &lp->st) != 0) return -1;
    lp->usage = lk_usage_new(LK_USAGE_CAPACITY);
    if (lp->usage == NULL) {
        fprintf(stderr, "latchkeyd: out of memory\n");
        return -1;
    }
    lp->http.svc = (lk_svc){.st = lp->st, .usage = lp->usage, .rl = srv->rl, .cfg = &cfg->svc};
    lp->fd = open_listener(srv, 1);
    if (lp->fd < 0) {
        fprintf(stderr, "latchkeyd: cannot listen on %s: %s\n", cfg->listen, strerror(errno));
        return -1;
    }
    return 0;
}

/* The loop's h2o side, created ON the loop's own thread (loop_main): h2o
 * 2.2's allocators are thread-local, and a socket keeps the allocator of
 * the thread that created it — the context's cross-thread message queue
 * (jobs and writer replies come back through it) and the listener must
 * belong to the thread that reads them, or two loops share the main
 * thread's free lists without a lock (a use-after-free under load, seen
 * as h2o_mem_alloc_recycle's assertion). */
static void loop_setup(lk_loop *lp)
{
    lk_server *srv = lp->srv;
    const lk_server_config *cfg = srv->cfg;
    h2o_context_init(&lp->http.h2o, h2o_evloop_create(), &srv->conf);
    lp->accept.ctx = &lp->http.h2o;
    lp->accept.hosts = srv->conf.hosts;
    lp->accept.ssl_ctx = srv->ssl_ctx;
    lp->listener = h2o_evloop_socket_create(lp->http.h2o.loop, lp->fd, H2O_SOCKET_FLAG_DONT_READ);
    lp->listener->data = lp;
    h2o_socket_read_start(lp->listener, on_accept);
    lk_jobs_port_init(&lp->http.jobs, &srv->jobs, lp->http.h2o.queue);
    lp->http.writer = cfg->group_commit ? &srv->writer : NULL;
    const char *url = cfg->database_url;
    if (url != NULL && (lk_store_url_is(url, LK_STORE_PG_SCHEME) ||
                        lk_store_url_is(url, LK_STORE_PG_SCHEME_SHORT))) {
        lp->http.pg = lk_pgwait_new(lp->http.h2o.loop, url); /* connects on first use */
        if (lp->http.pg == NULL) /* then look-ups block, as on SQLite */
            fprintf(stderr, "latchkeyd: out of memory: PostgreSQL look-ups will block\n");
    }
    h2o_timeout_init(lp->http.h2o.loop, &lp->flush_timeout, LK_USAGE_FLUSH_SECS * 1000);
    lp->flush_entry.cb = on_flush;
    h2o_timeout_link(lp->http.h2o.loop, &lp->flush_timeout, &lp->flush_entry);
}

/* Everything the threads need, before any starts. 0, or -1 after a line
 * on stderr (stop() releases what was opened). */
static int open_all(lk_server *srv)
{
    /* Probe without SO_REUSEPORT so a port held by anyone (another
     * latchkeyd included) is reported instead of silently shared. */
    int probe = open_listener(srv, 0);
    if (probe < 0) {
        fprintf(stderr, "latchkeyd: cannot listen on %s: %s\n", srv->cfg->listen, strerror(errno));
        return -1;
    }
    close(probe);
    lk_accesslog_set_format(srv->cfg->log_format);
    if (srv->cfg->metrics_listen != NULL) { /* before any store opens: they get timed */
        lk_metrics_enable(lk_routes_count);
        if (lk_metrics_server_start(srv->cfg->metrics_listen) != 0) return -1;
    }
    srv->rl = lk_ratelimit_new_config(&srv->cfg->rl);
    srv->loops = calloc((size_t)srv->nloops, sizeof(lk_loop));
    if (srv->rl == NULL || srv->loops == NULL) {
        fprintf(stderr, "latchkeyd: out of memory\n");
        return -1;
    }
    setup_h2o(srv);
    for (int i = 0; i < srv->nloops; i++)
        srv->loops[i].fd = -1;
    for (int i = 0; i < srv->nloops; i++)
        if (open_loop(srv, &srv->loops[i]) != 0) return -1;
    int nworkers = srv->nloops < LK_WORKERS_MIN
                       ? LK_WORKERS_MIN
                       : (srv->nloops > LK_WORKERS_MAX ? LK_WORKERS_MAX : srv->nloops);
    if (srv->cfg->group_commit &&
        lk_jobs_init(&srv->writer, LK_JOBS_BATCH, 1, srv->cfg->open_store, srv->cfg->store_ctx,
                     &srv->cfg->svc, srv->rl) != 0)
        return -1;
    return lk_jobs_init(&srv->jobs, LK_JOBS_POOL, nworkers, srv->cfg->open_store,
                        srv->cfg->store_ctx, &srv->cfg->svc, srv->rl);
}

static void start(lk_server *srv)
{
    lk_jobs_start(&srv->jobs);
    lk_jobs_start(&srv->writer);
    /* The sockets are bound and listening already (open_all): say so before
     * the first request can be answered, so the line precedes any answer. */
    fprintf(stderr, "latchkeyd: listening on %s%s (%d loops, %d workers%s)\n", srv->cfg->listen,
            srv->ssl_ctx ? " with TLS" : "", srv->nloops, srv->jobs.nworkers,
            srv->cfg->group_commit ? ", 1 writer" : "");
    for (; srv->started_loops < srv->nloops; srv->started_loops++) {
        h2o_multithread_create_thread(&srv->loops[srv->started_loops].tid, NULL, loop_main,
                                      &srv->loops[srv->started_loops]);
        while (sem_wait(&srv->ready) != 0) { /* its h2o context exists (loop_setup) */
        }
    }
}

/* Until SIGTERM or SIGINT. */
static void wait_for_signal(lk_server *srv)
{
    int sig = 0;
    while (sigwait(&srv->sigs, &sig) != 0) {
    }
    fprintf(stderr, "latchkeyd: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
}

/* Drain and join the loops, stop the workers, close the stores. Safe after
 * a start-up failure at any point. */
static void stop(lk_server *srv)
{
    atomic_store(&srv->stopping, 1);
    for (int i = 0; i < srv->started_loops; i++)
        h2o_multithread_send_message(&srv->loops[i].http.jobs.rx, NULL); /* wake it */
    for (int i = 0; i < srv->started_loops; i++)
        pthread_join(srv->loops[i].tid, NULL);
    lk_jobs_release(&srv->jobs);
    lk_jobs_release(&srv->writer);
    lk_metrics_server_stop();
    if (srv->loops)
        for (int i = 0; i < srv->nloops; i++) {
            lk_loop *lp = &srv->loops[i];
            if (i >= srv->started_loops && lp->fd >= 0) close(lp->fd);
            lk_usage_free(lp->usage);
            lk_store_close(lp->st);
        }
    lk_ratelimit_free(srv->rl);
    srv->rl = NULL;
    /* The loops' h2o contexts (inside srv->loops) and the global config are
     * left to process exit: h2o 2.2 cannot dispose a context that still has
     * idle keep-alive connections attached. */
}

int lk_server_run(lk_server *srv)
{
    int status = 1;
    if (open_all(srv) == 0) {
        start(srv);
        wait_for_signal(srv);
        status = 0;
    }
    stop(srv);
    if (status == 0) fprintf(stderr, "latchkeyd: stopped\n");
    return status;
}
