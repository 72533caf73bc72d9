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

/* One access-log line (accesslog.h: buffered, then stderr). */
void lk_reply_log(h2o_req_t *req, int status);

#endif
