/*
 * auth.c — credentials to a principal (see auth.h).
 */
#include "auth.h"

#include "reply.h"

#include <assert.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define BEARER "Bearer "
#define BEARER_LEN (sizeof(BEARER) - 1)

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

/* Fill r->principal from the Bearer header or else the session cookie. */
int lk_http_authenticate(lk_req *r)
{
    assert(r->req != NULL && r->svc != NULL);
    h2o_req_t *req = r->req;
    size_t na;
    h2o_iovec_t a = lk_req_header(req, H2O_TOKEN_AUTHORIZATION, &na);
    if (na > 1) return lk_err_set(&r->err, LK_EUNAUTHENTICATED, "duplicate Authorization header");
    if (na == 1) {
        if (a.len > LK_AUTH_HEADER_MAX)
            return lk_err_set(&r->err, LK_EUNAUTHENTICATED, "Authorization header too long");
        if (a.len < BEARER_LEN || strncasecmp(a.base, BEARER, BEARER_LEN) != 0)
            return lk_err_set(&r->err, LK_EUNAUTHENTICATED,
                              "expected Authorization: Bearer <token>");
        size_t s = BEARER_LEN, e = a.len;
        while (s < e && a.base[s] == ' ')
            s++;
        while (e > s && (a.base[e - 1] == ' ' || a.base[e - 1] == '\t'))
            e--;
        /* GET /v1/whoami answers with the key's user or org: read it in
         * the same statement as the key (one store read per request, not
         * two; see docs/performance.md, "Optimisations applied"). */
        unsigned flags =
            r->m.route != NULL && (r->m.route->flags & LK_ROUTE_OWNER) ? LK_AUTH_OWNER : 0;
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
