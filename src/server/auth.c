/*
 * auth.c — credentials to a principal (see auth.h).
 */
#include "auth.h"

#include "clientaddr.h"
#include "metrics.h"
#include "pg_pipe.h"
#include "reply.h"
#include "service_scopes.h"
#include "store_metrics.h"
#include "timefmt.h"

#include <assert.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define BEARER "Bearer "
#define BEARER_LEN (sizeof(BEARER) - 1)

/* --- scopes: the client address ---------------------------------------------- */

/* The X-Forwarded-For lines of req, in the order received (at most max). */
static size_t xff_lines(h2o_req_t *req, const char *v[], size_t len[], size_t max)
{
    size_t n = 0;
    for (ssize_t i = -1; n < max;) {
        i = h2o_find_header(&req->headers, H2O_TOKEN_X_FORWARDED_FOR, i);
        if (i == -1) break;
        v[n] = req->headers.entries[i].value.base;
        len[n++] = req->headers.entries[i].value.len;
    }
    return n;
}

const lk_addr *lk_http_client(lk_req *r)
{
    if (r->client_resolved) return &r->client_addr;
    r->client_resolved = true;
    memset(&r->client_addr, 0, sizeof r->client_addr);
    struct sockaddr_storage ss;
    socklen_t n = r->req->conn->callbacks->get_peername(r->req->conn, (struct sockaddr *)&ss);
    lk_addr peer;
    if (n == 0 || lk_addr_from_sockaddr(&ss, &peer) != LK_OK) return &r->client_addr;
    const lk_cidr_list *trusted =
        r->svc != NULL && r->svc->cfg != NULL ? &r->svc->cfg->trusted_proxies : NULL;
    if (trusted == NULL || trusted->n == 0) {
        lk_addr_unmap(&peer, &r->client_addr); /* no header to look at */
        return &r->client_addr;
    }
    const char *v[LK_XFF_LINES_MAX];
    size_t len[LK_XFF_LINES_MAX];
    size_t lines = xff_lines(r->req, v, len, LK_XFF_LINES_MAX);
    lk_clientaddr_resolve(&peer, trusted, v, len, lines, &r->client_addr);
    return &r->client_addr;
}

void lk_http_client_key(lk_req *r, char out[LK_CLIENT_SIZE])
{
    _Static_assert(LK_THROTTLE_KEY_SIZE <= LK_CLIENT_SIZE, "a throttle key fits r->client");
    lk_clientaddr_throttle_key(lk_http_client(r), out);
}

/* The client's throttle key (lk_svc_client_fn). Only failed bearer
 * attempts need it as text, so it is asked for lazily. */
static void client_addr(void *ctx, char *out, size_t size)
{
    lk_req *r = ctx;
    lk_http_client_key(r, r->client);
    snprintf(out, size, "%s", r->client);
}

/* A key-authenticated request: the expiry header, then the route's scope,
 * the key's allowed_cidrs and its last_used_ip (lk_svc_key_admit). */
static int admit_key(lk_req *r)
{
    const lk_key *k = &r->principal.key;
    if (k->expires_at != 0) {
        char *v = h2o_mem_alloc_pool(&r->req->pool, LK_TIME_SIZE);
        lk_time_format(k->expires_at, v);
        h2o_add_header_by_str(&r->req->pool, &r->req->res.headers,
                              H2O_STRLIT(LK_KEY_EXPIRES_HEADER), 0, LK_KEY_EXPIRES_HEADER_CASED, v,
                              LK_TIME_SIZE - 1);
    }
    assert(r->m.route != NULL && r->m.route->scope != 0);
    return lk_svc_key_admit(r->svc, &r->principal, r->m.route->scope, lk_http_client(r));
}

static int is_write_method(h2o_iovec_t m)
{
    return !(h2o_memis(m.base, m.len, H2O_STRLIT("GET")) ||
             h2o_memis(m.base, m.len, H2O_STRLIT("HEAD")) ||
             h2o_memis(m.base, m.len, H2O_STRLIT("OPTIONS")));
}

/* --- audit --- */
void lk_http_set_origin(lk_req *r)
{
    lk_svc *svc = r->svc;
    if (!is_write_method(r->req->method)) {
        lk_svc_set_origin(svc, NULL, NULL, 0);
        return;
    }
    char ip[LK_CLIENT_SIZE];
    if (r->client[0] == '\0') client_addr(r, ip, sizeof ip);
    h2o_iovec_t ua = lk_req_header(r->req, H2O_TOKEN_USER_AGENT, NULL);
    lk_svc_set_origin(svc, r->client, ua.base, ua.len);
}

/* The token of r's Authorization header, trimmed: 0 (*tok, *len set), 1
 * when there is no Authorization header, or an error (on r->err). */
static int bearer_of(lk_req *r, const char **tok, size_t *len)
{
    size_t na;
    h2o_iovec_t a = lk_req_header(r->req, H2O_TOKEN_AUTHORIZATION, &na);
    if (na > 1) return lk_err_set(&r->err, LK_EUNAUTHENTICATED, "duplicate Authorization header");
    if (na == 0) return 1;
    if (a.len > LK_AUTH_HEADER_MAX)
        return lk_err_set(&r->err, LK_EUNAUTHENTICATED, "Authorization header too long");
    if (a.len < BEARER_LEN || strncasecmp(a.base, BEARER, BEARER_LEN) != 0)
        return lk_err_set(&r->err, LK_EUNAUTHENTICATED, "expected Authorization: Bearer <token>");
    size_t s = BEARER_LEN, e = a.len;
    while (s < e && a.base[s] == ' ')
        s++;
    while (e > s && (a.base[e - 1] == ' ' || a.base[e - 1] == '\t'))
        e--;
    *tok = a.base + s;
    *len = e - s;
    return 0;
}

/* The session cookie, and for a write method its CSRF header. */
static int authenticate_cookie(lk_req *r)
{
    h2o_req_t *req = r->req;
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

/* Fill r->principal from the Bearer header or else the session cookie. */
int lk_http_authenticate(lk_req *r)
{
    assert(r->req != NULL && r->svc != NULL);
    const char *tok;
    size_t len;
    int rc = bearer_of(r, &tok, &len);
    if (rc == 1) return authenticate_cookie(r);
    if (rc != 0) return rc;
    /* GET /v1/whoami answers with the key's user or org: read it in the
     * same statement as the key (one store read per request, not two; see
     * docs/performance.md, "Optimisations applied"). */
    unsigned flags = r->m.route != NULL && (r->m.route->flags & LK_ROUTE_OWNER) ? LK_AUTH_OWNER : 0;
    rc = lk_svc_auth_bearer_lazy(r->svc, tok, len, client_addr, r, flags, &r->principal);
    return rc != 0 ? rc : admit_key(r);
}

/* --- PostgreSQL without blocking: the Bearer look-up on the loop's pipe --- */

/* A request waiting for its key (in its pool: freed with the request). */
typedef struct auth_wait {
    lk_req r; /* the dispatcher's lk_req: its stack frame is gone */
    lk_http_authed_fn then;
    void *then_ctx;
    lk_pgpipe *pipe;
    uint64_t ticket; /* the pipe's waiter; 0 once answered */
    lk_token_kind kind;
    uint64_t t0_us; /* queued at (metrics on) */
} auth_wait;

/* The request is going (client gone, or answered): forget its waiter. */
static void on_wait_dispose(void *p)
{
    auth_wait *w = p;
    if (w->ticket != 0) lk_pgpipe_cancel(w->pipe, w->ticket);
    w->ticket = 0;
}

/* The pipe answered: the rest of lk_http_authenticate, then the caller's
 * continuation (authz + handler). */
static void on_key(void *arg, int rc, const lk_pgpipe_row *row, const lk_err *e)
{
    auth_wait *w = arg;
    lk_req *r = &w->r;
    w->ticket = 0;
    if (lk_metrics_on()) lk_store_metrics_key_owner(lk_metrics_now_us() - w->t0_us, rc);
    if (rc == LK_OK) {
        r->principal.key = row->key;
        r->principal.owner_user = row->user;
        r->principal.owner_org = row->org;
        r->principal.has_owner = true;
    }
    rc = lk_svc_auth_bearer_found(r->svc, w->kind, rc, e, client_addr, r, &r->principal);
    if (rc == 0) rc = admit_key(r);
    w->then(r, w->then_ctx, rc);
}

int lk_http_authenticate_async(lk_req *r, lk_pgpipe *pipe, lk_http_authed_fn then, void *ctx)
{
    const char *tok;
    size_t len;
    lk_token_kind kind;
    uint8_t hash[LK_TOKEN_HASH_LEN];
    if (pipe == NULL || bearer_of(r, &tok, &len) != 0 || !lk_svc_bearer_hash(tok, len, &kind, hash))
        return lk_http_authenticate(r); /* no pipe, no Bearer, malformed: no look-up to wait for */
    auth_wait *w = h2o_mem_alloc_shared(&r->req->pool, sizeof *w, on_wait_dispose);
    w->r = *r;
    memset(&w->r.principal, 0, sizeof w->r.principal);
    w->then = then;
    w->then_ctx = ctx;
    w->pipe = pipe;
    w->kind = kind;
    w->ticket = 0;
    w->t0_us = lk_metrics_on() ? lk_metrics_now_us() : 0;
    if (lk_pgpipe_lookup(pipe, hash, on_key, w, &w->ticket) != LK_OK) {
        w->ticket = 0;
        return lk_http_authenticate(r); /* pipe down or full: the store's own path */
    }
    return LK_AUTH_DEFERRED;
}
