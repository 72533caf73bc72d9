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

#include "req.h"

#define LK_AUTH_HEADER_MAX 256
#define LK_CSRF_HEADER_MAX 128

/* Fill r->principal (and r->by_cookie). r->m must hold the matched route
 * (its LK_ROUTE_OWNER flag asks for the key's owner row too). 0, or
 * LK_EUNAUTHENTICATED / LK_EFORBIDDEN / LK_ERATE_LIMITED / a store error,
 * with details on r->err or r->svc->err. */
int lk_http_authenticate(lk_req *r);

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
