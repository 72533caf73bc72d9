/*
 * http.c — request dispatch (see http.h): framing check, API or
 * dashboard, route match, authentication, handler, error reply.
 *
 * Runs on a loop thread for every request; builds the lk_req on the stack
 * and allocates nothing of its own (the handler's replies use the
 * request's pool).
 */
#include "http.h"

#include "auth.h"
#include "metrics.h"
#include "observe.h"
#include "pgwait.h"
#include "hygiene.h"
#include "reply.h"
#include "router.h"
#include "static.h"
#include "writer.h"

#include <assert.h>
#include <string.h>
#include <strings.h>

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
        size_t ls = (size_t)(nl - p) + 1;                     /* start of the next line */
        if (ls >= n || p[ls] == '\r' || p[ls] == '\n') break; /* end of the header block */
        size_t rest = n - ls;
        if (rest > 15 && strncasecmp(p + ls, "content-length:", 15) == 0) ncl++;
        if (rest > 18 && strncasecmp(p + ls, "transfer-encoding:", 18) == 0) nte++;
        i = ls;
    }
    return ncl > 1 || nte > 1 || (ncl > 0 && nte > 0);
}

/* Once authenticated (rc: its result; 0 for a public route): the record
 * for logs and metrics, then the handler or the error. Both the
 * synchronous path and auth.c's deferred one (lk_http_authed_fn) end here. */
static void after_auth(lk_req *r, void *obs, int rc)
{
    lk_http_ctx *hc = H2O_STRUCT_FROM_MEMBER(lk_http_ctx, h2o, r->req->conn->ctx);
    if (!(r->m.route->flags & LK_ROUTE_PUBLIC)) lk_observe_auth(obs, rc, &r->principal, r->svc);
    if (rc == 0) {
        lk_http_set_origin(r);
        if ((r->m.route->flags & LK_ROUTE_WRITE) && hc->writer != NULL)
            rc = lk_writer_defer(r, hc->writer);
        else
            rc = r->m.route->fn(r);
        if (rc == LK_HANDLER_DEFERRED) return;
    }
    if (rc < 0) lk_reply_fail(r, rc);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    lk_http_ctx *hc = H2O_STRUCT_FROM_MEMBER(lk_http_ctx, h2o, req->conn->ctx);
    lk_obs *obs = lk_observe_begin(req); /* X-Request-Id; route and principal for logs, metrics */
    lk_reply_hsts(req); /* every answer over TLS, errors included */
    if (ambiguous_framing(req)) {
        /* The API's 400 codes are invalid_json and validation_failed; the
         * body cannot be trusted, so: invalid_json, and close. */
        lk_err e;
        lk_err_set(&e, LK_EINVALID_JSON, "malformed HTTP request body framing");
        req->http1_is_persistent = 0;
        lk_reply_error(req, LK_EINVALID_JSON, &e);
        return 0;
    }
    const char *bad_head = lk_hygiene_check(req); /* Host, line folding */
    if (bad_head != NULL) {
        lk_err e;
        lk_err_set(&e, LK_EINVALID_JSON, bad_head);
        req->http1_is_persistent = 0;
        lk_reply_error(req, LK_EINVALID_JSON, &e);
        return 0;
    }
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    const char *path = req->path.base;
    if (!lk_router_is_api(path, plen)) {
        lk_observe_route(obs, LK_METRICS_ROUTE_DASHBOARD);
        return serve_static(req, path, plen);
    }

    lk_req r;
    r.req = req;
    r.jobs = &hc->jobs;
    r.svc = &hc->svc;
    r.by_cookie = false;
    r.client[0] = '\0';
    r.client_resolved = false; /* scopes: lk_http_client */
    lk_err_clear(&r.err);
    lk_err_clear(&hc->svc.err);
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
    assert(r.m.route != NULL);
    lk_observe_route(obs, (size_t)(r.m.route - lk_routes));
    int rc = 0;
    if (!(r.m.route->flags & LK_ROUTE_PUBLIC)) {
        /* PostgreSQL: a Bearer look-up goes out on the loop's pipe and
         * after_auth runs when it answers (auth.h) */
        lk_pgpipe *pipe = hc->pg ? lk_pgwait_pipe(hc->pg) : NULL;
        rc = lk_http_authenticate_async(&r, pipe, after_auth, obs);
        if (rc == LK_AUTH_DEFERRED) return 0;
    }
    after_auth(&r, obs, rc);
    return 0;
}

void lk_http_install(h2o_hostconf_t *host)
{
    h2o_pathconf_t *pc = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(pc, sizeof(*handler));
    handler->on_req = on_req;
    lk_reply_install_fallback(host);
}
