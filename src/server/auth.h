/*
 * auth.h — who is calling: the request's credential turned into a
 * principal, as the dispatcher does it for every non-public route.
 *
 * The Authorization header wins over the session cookie. Bearer: at most
 * one Authorization header, at most LK_AUTH_HEADER_MAX bytes, scheme
 * "Bearer" (any case), the token trimmed of spaces and tabs, then
 * lk_svc_auth_bearer_lazy (offline token check, one store read, the
 * per-address throttle; the peer address is only formatted for a failed
 * attempt). Cookie: lk_req_session_cookie, lk_svc_auth_session, and for
 * a write method (not GET/HEAD/OPTIONS) the X-CSRF-Token header (at most
 * LK_CSRF_HEADER_MAX bytes) via lk_svc_check_csrf.
 *
 * A key-authenticated request then passes lk_svc_key_admit (the route's
 * scope, the key's allowed_cidrs against lk_http_client, last_used_ip),
 * and its response carries Latchkey-Key-Expires-At when the key expires.
 *
 * Never logs or copies a credential: header values are only looked at in
 * place.
 */
#ifndef LK_AUTH_H
#define LK_AUTH_H

#include "pg_pipe.h"
#include "req.h"

#define LK_AUTH_HEADER_MAX 256
#define LK_CSRF_HEADER_MAX 128

/* Fill r->principal (and r->by_cookie). r->m must hold the matched route
 * (its LK_ROUTE_OWNER flag asks for the key's owner row too). 0, or
 * LK_EUNAUTHENTICATED / LK_EFORBIDDEN / LK_ERATE_LIMITED / a store error,
 * with details on r->err or r->svc->err. */
int lk_http_authenticate(lk_req *r);

/* --- PostgreSQL without blocking ------------------------------------------
 * lk_http_authenticate, but a Bearer token's look-up goes to pipe (the
 * loop's pipelined connection, pg_pipe.h) and the loop is not blocked:
 * returns LK_AUTH_DEFERRED, and when the key arrives the same checks as
 * lk_http_authenticate run (expiry, kind, failed-attempt throttle, usage
 * note, lk_svc_key_admit) and then(r', ctx, rc) is called on the loop
 * thread, with r' a copy of *r kept in the request's pool. If the request
 * is disposed first (client gone), then is never called. Without a pipe,
 * without a Bearer header, with a malformed token, or when the pipe
 * cannot take the look-up (down, full), it is lk_http_authenticate (the
 * store's blocking path) and returns its result; then is not called. */
#define LK_AUTH_DEFERRED 2
typedef void (*lk_http_authed_fn)(lk_req *r, void *ctx, int rc);
int lk_http_authenticate_async(lk_req *r, lk_pgpipe *pipe, lk_http_authed_fn then, void *ctx);

/* --- scopes ---------------------------------------------------------------
 * The client address of r (clientaddr.h): the TCP peer, or behind a
 * --trusted-proxies peer the address X-Forwarded-For names; unmapped.
 * Resolved once per request and kept on r; family 0 if the peer is
 * unknown. At most LK_XFF_LINES_MAX header lines are read. */
#define LK_XFF_LINES_MAX 16
#define LK_KEY_EXPIRES_HEADER "latchkey-key-expires-at"
#define LK_KEY_EXPIRES_HEADER_CASED "Latchkey-Key-Expires-At" /* HTTP/1.1 spelling */
const lk_addr *lk_http_client(lk_req *r);
/* Its throttle key (per address; IPv6 per /64) into out, as the
 * login and failed-Bearer throttles count it. */
void lk_http_client_key(lk_req *r, char out[LK_CLIENT_SIZE]);

/* --- audit --- */
/* Tell the service where this request comes from (svc->origin: the client
 * address and the User-Agent, read into audit events) for a write method;
 * clear it for a read, which records nothing. */
void lk_http_set_origin(lk_req *r);

#endif
