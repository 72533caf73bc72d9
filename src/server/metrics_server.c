/*
 * metrics_server.c — the metrics listener's thread (see metrics_server.h).
 *
 * Everything here is touched by the metrics thread only, except: start and
 * stop (main thread, before the thread exists / after it is told to stop)
 * and `stopping` (atomic). The rendered text is copied into the request's
 * pool; the malloc'd render buffer is released before the reply is sent.
 */
#include "metrics_server.h"

#include "metrics.h"
#include "router.h"

#include <errno.h>
#include <h2o.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef LK_VERSION
#define LK_VERSION "0.0.0"
#endif

#define HOST_MAX 256
#define PORT_DIGITS_MAX 5
#define PORT_MAX 65535
#define HOST_PORT_ANY 65535
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static struct {
    h2o_globalconf_t conf;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
    h2o_socket_t *listener;
    h2o_multithread_receiver_t wake;
    pthread_t tid;
    int fd;
    bool started;
    atomic_bool stopping;
    int nconns; /* metrics thread only */
} ms = {.fd = -1};

static void route_label(size_t i, const char **method, const char **pattern)
{
    *method = lk_routes[i].method;
    *pattern = lk_routes[i].pattern;
}

static void reply_plain(h2o_req_t *req, int status, const char *reason, const char *body,
                        size_t len)
{
    static h2o_generator_t generator = {NULL, NULL};
    req->res.status = status;
    req->res.reason = reason;
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT(CONTENT_TYPE));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    h2o_start_response(req, &generator);
    h2o_iovec_t buf = h2o_iovec_init(body, len);
    int head = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    h2o_send(req, head || len == 0 ? NULL : &buf, head || len == 0 ? 0 : 1, H2O_SEND_STATE_FINAL);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    if (!h2o_memis(req->path.base, plen, H2O_STRLIT("/metrics"))) {
        reply_plain(req, 404, "Not Found", H2O_STRLIT("not found; metrics are at /metrics\n"));
        return 0;
    }
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL,
                       H2O_STRLIT("GET, HEAD"));
        reply_plain(req, 405, "Method Not Allowed", H2O_STRLIT("method not allowed\n"));
        return 0;
    }
    lk_metrics_text t = {0};
    if (lk_metrics_render(&t, route_label, LK_VERSION) != 0) {
        lk_metrics_text_release(&t);
        reply_plain(req, 500, "Internal Server Error", H2O_STRLIT("cannot render metrics\n"));
        return 0;
    }
    char *body = h2o_mem_alloc_pool(&req->pool, t.len);
    memcpy(body, t.p, t.len);
    size_t len = t.len;
    lk_metrics_text_release(&t);
    reply_plain(req, 200, "OK", body, len);
    return 0;
}

static void on_conn_close(void *data)
{
    (void)data;
    ms.nconns--;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL) return;
    h2o_socket_t *sock;
    while ((sock = h2o_evloop_socket_accept(listener)) != NULL) {
        if (ms.nconns >= LK_METRICS_CONN_MAX) {
            h2o_socket_close(sock);
            continue;
        }
        ms.nconns++;
        sock->on_close.cb = on_conn_close;
        h2o_accept(&ms.accept, sock);
    }
}

/* A NULL message from lk_metrics_server_stop: the loop returns and sees
 * `stopping`. */
static void on_wake(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
    (void)rx;
    (void)messages;
}

static void *thread_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&ms.stopping))
        h2o_evloop_run(ms.ctx.loop, INT32_MAX);
    return NULL;
}

/* "HOST:PORT" or "[V6]:PORT" → a listening socket. -1 after a line on
 * stderr. */
static int bind_listen(const char *s)
{
    char host[HOST_MAX];
    const char *port, *sep = s[0] == '[' ? strchr(s, ']') : strrchr(s, ':');
    size_t hlen = sep == NULL ? 0 : (size_t)(sep - s) - (s[0] == '[');
    if (sep == NULL || hlen >= sizeof host || (s[0] == '[' && sep[1] != ':')) goto bad;
    memcpy(host, s + (s[0] == '['), hlen);
    host[hlen] = '\0';
    port = sep + (s[0] == '[' ? 2 : 1);
    if (port[0] == '\0' || strspn(port, "0123456789") != strlen(port) ||
        strlen(port) > PORT_DIGITS_MAX || atoi(port) > PORT_MAX)
        goto bad;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *res = NULL;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        fprintf(stderr, "latchkeyd: cannot resolve --metrics-listen %s: %s\n", s, gai_strerror(rc));
        return -1;
    }
    int one = 1, fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        fprintf(stderr, "latchkeyd: cannot listen on --metrics-listen %s: %s\n", s,
                strerror(errno));
        if (fd >= 0) close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
bad:
    fprintf(stderr, "latchkeyd: bad --metrics-listen address '%s' (expected ADDR:PORT)\n", s);
    return -1;
}

int lk_metrics_server_start(const char *listen_at)
{
    if (ms.started) return 0;
    ms.fd = bind_listen(listen_at);
    if (ms.fd < 0) return -1;
    h2o_config_init(&ms.conf);
    ms.conf.server_name = h2o_iovec_init(H2O_STRLIT("latchkey"));
    ms.conf.http1.req_timeout = LK_METRICS_REQ_TIMEOUT_MS;
    ms.conf.http1.upgrade_to_http2 = 0;
    h2o_hostconf_t *host =
        h2o_config_register_host(&ms.conf, h2o_iovec_init(H2O_STRLIT("default")), HOST_PORT_ANY);
    h2o_pathconf_t *pc = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(pc, sizeof(*handler));
    handler->on_req = on_req;
    h2o_context_init(&ms.ctx, h2o_evloop_create(), &ms.conf);
    ms.accept.ctx = &ms.ctx;
    ms.accept.hosts = ms.conf.hosts;
    h2o_multithread_register_receiver(ms.ctx.queue, &ms.wake, on_wake);
    ms.listener = h2o_evloop_socket_create(ms.ctx.loop, ms.fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_read_start(ms.listener, on_accept);
    atomic_init(&ms.stopping, false);
    h2o_multithread_create_thread(&ms.tid, NULL, thread_main, NULL);
    ms.started = true;
    fprintf(stderr, "latchkeyd: metrics on http://%s/metrics\n", listen_at);
    return 0;
}

void lk_metrics_server_stop(void)
{
    if (!ms.started) return;
    atomic_store(&ms.stopping, true);
    h2o_multithread_send_message(&ms.wake, NULL);
    pthread_join(ms.tid, NULL);
    ms.started = false;
    /* The loop, context and config are left to process exit, as the
     * server's are (h2o 2.2 cannot dispose a context with connections). */
}
