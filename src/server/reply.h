/*
 * reply.h — reading a request's input, and every way to answer it (the
 * request itself is req.h).
 *
 * This is the ONLY place that turns an lk_err into HTTP: the status and
 * `code` come from err.h's table, the body has the contract's shape
 * {"error":{"code","message","field"?}}, 401 adds `WWW-Authenticate:
 * Bearer`, 429 adds `Retry-After`. It also reads request bodies (64 KiB cap
 * → 413, Content-Type application/json → else 415, jansson → else 400
 * invalid_json, typed field access → 400 validation_failed with the field)
 * and the list query (?limit=, ?cursor=).
 *
 * Every reply goes through one function that adds the API's headers
 * (Content-Type, X-Content-Type-Options: nosniff, Cache-Control: no-store)
 * and writes the access-log line: method, path without query, status,
 * duration. Never a header value, a body, a token, a cookie or a password.
 *
 * Memory: response bodies and header values live in the h2o request pool;
 * nothing here mallocs per request except jansson's parse of a body, which
 * the caller releases with json_decref.
 */
#ifndef LK_REPLY_H
#define LK_REPLY_H

#include "json_out.h"
#include "req.h"
#include "service.h"

#include <h2o.h>
#include <jansson.h>
#include <stdbool.h>

#define LK_BODY_MAX (64 * 1024)
#define LK_QUERY_MAX 2048
/* --- input ------------------------------------------------------------- */

/* Parse the body as a JSON object. On success *out is owned by the caller
 * (json_decref). Errors (on r->err): LK_ETOO_LARGE, LK_EMEDIA_TYPE,
 * LK_EINVALID_JSON. */
int lk_req_json(lk_req *r, json_t **out);

/* A string field of obj. flags: LK_FIELD_REQUIRED (absent → LK_EVALIDATION
 * "is required"), LK_FIELD_NULLABLE (null is taken as absent; without it,
 * null is a wrong type). Absent: *s = NULL. Not a string: LK_EVALIDATION
 * with the field. *s points into obj (valid while obj lives). */
#define LK_FIELD_REQUIRED 1u
#define LK_FIELD_NULLABLE 2u
int lk_req_str(lk_req *r, json_t *obj, const char *field, unsigned flags, const char **s,
               size_t *n);

/* The body as a JSON object holding one required string `field` (the
 * common shape {"name": …} / {"email": …}). On success the caller owns
 * *body (json_decref) and *s points into it; on failure *body is NULL. */
int lk_req_json_str(lk_req *r, const char *field, json_t **body, const char **s, size_t *n);

/* ?limit= and ?cursor= into l (via lk_svc_parse_page). */
int lk_req_page(lk_req *r, lk_list *l);

/* The first value of a request header, or {NULL, 0}; *count (if non-NULL)
 * gets how many times it occurs. */
h2o_iovec_t lk_req_header(h2o_req_t *req, const h2o_token_t *tok, size_t *count);

/* The latchkey_session cookie's value (pointing into the request's
 * headers), or 0 if absent, empty or longer than LK_COOKIE_VALUE_MAX. */
#define LK_COOKIE_VALUE_MAX 128
int lk_req_session_cookie(h2o_req_t *req, const char **v, size_t *vn);

/* --- output ------------------------------------------------------------ */

/* Send b as the JSON body with this status. */
void lk_reply_json(h2o_req_t *req, int status, const lk_buf *b);
/* The same for a body holding a secret (a new key's token): the body is
 * moved into a pool block that is wiped when the request is disposed, and
 * b is wiped now. b must not have grown (no stale copies): size it up front. */
void lk_reply_json_secret(h2o_req_t *req, int status, lk_buf *b);
/* A status with no body (204). */
void lk_reply_empty(h2o_req_t *req, int status);
/* The error response for code; details from e if e->code == code, else the
 * table's default message. */
void lk_reply_error(h2o_req_t *req, int code, const lk_err *e);
/* 405 with Allow. */
void lk_reply_method(h2o_req_t *req, const char *allow);
/* A dashboard asset with its type and the dashboard's security headers,
 * Cache-Control: no-cache and, if etag (quoted) is not NULL, ETag; a
 * request whose If-None-Match matches etag gets 304 without a body. */
void lk_reply_asset(h2o_req_t *req, const char *content_type, const char *etag,
                    const unsigned char *data, size_t len);

/* Error reply picking the details: r->err if it holds code, else
 * r->svc->err if it does, else the default message. */
void lk_reply_fail(lk_req *r, int code);

/* Rewrite h2o's own 413 (Content-Length over its hard cap, answered before
 * any handler runs) into the API's JSON error shape. Call once at start-up
 * for the host. */
void lk_reply_install_fallback(h2o_hostconf_t *host);

/* --- account: transport. Over TLS, adds Strict-Transport-Security
 * (LK_HSTS_VALUE) to req's response headers; over plain HTTP nothing
 * (RFC 6797 7.2: never over plain HTTP). */
#define LK_HSTS_VALUE "max-age=63072000"
void lk_reply_hsts(h2o_req_t *req);

/* One access-log line (accesslog.h: buffered, then stderr). */
void lk_reply_log(h2o_req_t *req, int status);

/* --- roles and invitations: secrets in paths --- */

/* --- a reply made off the loop (the writer thread, writer.h) ------------- */
/* A stand-in request: a handler runs against cap->req on another thread just
 * as it would on the loop; every reply function above sees req->conn ==
 * NULL and, instead of sending, keeps status, headers and body in cap (in
 * cap->req's own pool). Back on the loop, lk_reply_replay sends them on the
 * real request, where the access log and metrics see them as usual. The
 * stand-in carries copies of the method, path, headers and body (at most
 * LK_BODY_MAX + 1 bytes: enough for lk_req_json's 413); it has no
 * connection, so the client address must be resolved before (auth.h). */
typedef struct lk_reply_capture {
    h2o_req_t req;    /* first member; conn == NULL marks a stand-in */
    bool done;        /* a reply was captured */
    bool secret;      /* the body holds a token (lk_reply_json_secret) */
    const char *body; /* in req.pool */
    size_t len;
} lk_reply_capture;

/* Loop thread: make c a stand-in for `from`. Release with _dispose. */
void lk_reply_capture_init(lk_reply_capture *c, h2o_req_t *from);
/* Loop thread: send what was captured (c->done) on `to`. */
void lk_reply_replay(lk_reply_capture *c, h2o_req_t *to);
/* Wipe the copies (headers, body, a secret reply) and free c's pool. */
void lk_reply_capture_dispose(lk_reply_capture *c);

#endif
