/*
 * reply.c — request input and every response (see reply.h). The mapping
 * from lk_err to HTTP status and code lives in err.c's table; this file is
 * the only caller that turns it into a response.
 */
#include "reply.h"

#include "accesslog.h"
#include "observe.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#define ERROR_BODY_GUESS 160 /* initial size of an error body (it grows if needed) */
#define RETRY_AFTER_SIZE 16  /* an int in decimal, with its NUL */

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return status >= 500 ? "Internal Server Error" : "OK";
    }
}

/* Append the decimal digits of v (>= 0). */
static size_t put_uint(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}


void lk_reply_log(h2o_req_t *req, int status)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    int64_t us = 0;
    if (req->timestamps.request_begin_at.tv_sec != 0)
        us = ((int64_t)now.tv_sec - req->timestamps.request_begin_at.tv_sec) * 1000000 +
             (now.tv_usec - req->timestamps.request_begin_at.tv_usec);
    if (us < 0) us = 0;
    /* X-Request-Id, metrics; the whole line when the log format is JSON */
    if (lk_observe_reply(req, status, us)) return;
    const lk_obs *obs = lk_observe_find(req);
    /* method(16) path(200 + "{token}") status duration(<= 24) id(64): < 400 bytes */
    char line[400];
    size_t n = 0;
    h2o_iovec_t method = req->input.method, path = req->input.path;
    size_t mlen = method.len > LK_LOG_METHOD_MAX ? LK_LOG_METHOD_MAX : method.len;
    size_t plen = req->input.query_at != SIZE_MAX ? req->input.query_at : path.len;
    char cut[LK_LOG_PATH_MAX + sizeof(LK_LOG_REDACTED)]; /* capped, invitation token cut */
    plen = lk_accesslog_path(path.base, plen, cut);
    /* Bytes outside printable ASCII become '?': a request cannot forge log
     * lines. The query string is never logged (it could carry anything). */
    for (size_t i = 0; i < mlen; i++) {
        unsigned char c = (unsigned char)method.base[i];
        line[n++] = (c <= 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    line[n++] = ' ';
    for (size_t i = 0; i < plen; i++) {
        unsigned char c = (unsigned char)cut[i];
        line[n++] = (c <= 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    line[n++] = ' ';
    n += put_uint(line + n, (uint64_t)(status > 0 ? status : 0));
    line[n++] = ' ';
    n += put_uint(line + n, (uint64_t)(us / 1000));
    line[n++] = '.';
    line[n++] = (char)('0' + (us % 1000) / 100);
    line[n++] = (char)('0' + (us % 100) / 10);
    line[n++] = (char)('0' + us % 10);
    memcpy(line + n, "ms", 2);
    n += 2;
    if (obs != NULL) { /* the id is [A-Za-z0-9._-] (reqid.h) */
        line[n++] = ' ';
        memcpy(line + n, obs->id, obs->id_len);
        n += obs->id_len;
    }
    line[n++] = '\n';
    assert(n <= sizeof(line));
    lk_accesslog_add(line, n);
}

static void add_api_headers(h2o_req_t *req)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0,
                          NULL, H2O_STRLIT("nosniff"));
}

/* A stand-in request (lk_reply_capture): keep the reply instead of sending. */
static void capture(h2o_req_t *req, int status, const char *ctype, size_t ctype_len,
                    const char *body, size_t len)
{
    lk_reply_capture *c = H2O_STRUCT_FROM_MEMBER(lk_reply_capture, req, req);
    assert(!c->done); /* one reply per request */
    req->res.status = status;
    if (ctype != NULL)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype,
                       ctype_len);
    c->body = body;
    c->len = len;
    c->done = true;
}

static void send_body(h2o_req_t *req, int status, const char *ctype, size_t ctype_len,
                      const char *body, size_t len)
{
    static h2o_generator_t generator = {NULL, NULL};
    if (req->conn == NULL) {
        capture(req, status, ctype, ctype_len, body, len);
        return;
    }
    req->res.status = status;
    req->res.reason = reason(status);
    if (ctype != NULL)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype,
                       ctype_len);
    req->res.content_length = len;
    lk_reply_log(req, status);
    h2o_start_response(req, &generator);
    h2o_iovec_t buf = h2o_iovec_init(body, len);
    if (len == 0 || h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD")))
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    else
        h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
}

void lk_reply_json(h2o_req_t *req, int status, const lk_buf *b)
{
    add_api_headers(req);
    send_body(req, status, H2O_STRLIT("application/json"), b->p, b->len);
}

typedef struct secret_body {
    size_t len;
    char data[];
} secret_body;

static void secret_body_dispose(void *p)
{
    secret_body *sb = p;
    sodium_memzero(sb->data, sb->len);
}

void lk_reply_json_secret(h2o_req_t *req, int status, lk_buf *b)
{
    if (req->conn == NULL) H2O_STRUCT_FROM_MEMBER(lk_reply_capture, req, req)->secret = true;
    secret_body *sb = h2o_mem_alloc_shared(&req->pool, sizeof(*sb) + b->len, secret_body_dispose);
    sb->len = b->len;
    memcpy(sb->data, b->p, b->len);
    sodium_memzero(b->p, b->len);
    add_api_headers(req);
    send_body(req, status, H2O_STRLIT("application/json"), sb->data, sb->len);
}

void lk_reply_empty(h2o_req_t *req, int status)
{
    add_api_headers(req);
    send_body(req, status, NULL, 0, NULL, 0);
}

void lk_reply_error(h2o_req_t *req, int code, const lk_err *e)
{
    if (code >= 0) code = LK_EINTERNAL;
    int status = lk_err_http_status(code);
    const char *msg = (e != NULL && e->code == code) ? lk_err_message(e) : lk_err_default_msg(code);
    lk_buf b;
    lk_buf_init(&b, &req->pool, ERROR_BODY_GUESS);
    lk_buf_puts(&b, "{\"error\":{\"code\":");
    const char *api = lk_err_api_code(code);
    lk_buf_put_str(&b, api, strlen(api));
    lk_buf_puts(&b, ",\"message\":");
    lk_buf_put_str(&b, msg, strnlen(msg, LK_ERR_MSG_MAX));
    if (code == LK_EVALIDATION && e != NULL && e->code == code && e->field[0] != '\0') {
        lk_buf_puts(&b, ",\"field\":");
        lk_buf_put_str(&b, e->field, strnlen(e->field, LK_ERR_FIELD_MAX));
    }
    if (code == LK_EFORBIDDEN && e != NULL && e->code == code && e->required_scope != NULL) {
        lk_buf_puts(&b, ",\"required_scope\":");
        lk_buf_put_str(&b, e->required_scope, strlen(e->required_scope));
    }
    lk_buf_puts(&b, "}}");
    if (status == 401)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                       H2O_STRLIT("Bearer"));
    if (status == 429) {
        int secs = (e != NULL && e->code == code && e->retry_after > 0) ? e->retry_after : 1;
        char *v = h2o_mem_alloc_pool(&req->pool, RETRY_AFTER_SIZE);
        int n = snprintf(v, RETRY_AFTER_SIZE, "%d", secs);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, v, (size_t)n);
    }
    lk_reply_json(req, status, &b);
}

void lk_reply_fail(lk_req *r, int code)
{
    const lk_err *e = NULL;
    if (r->err.code == code)
        e = &r->err;
    else if (r->svc != NULL && r->svc->err.code == code)
        e = &r->svc->err;
    lk_reply_error(r->req, code, e);
}

void lk_reply_method(h2o_req_t *req, const char *allow)
{
    size_t n = strlen(allow);
    char *v = h2o_mem_alloc_pool(&req->pool, n + 1);
    memcpy(v, allow, n + 1);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, v, n);
    lk_reply_error(req, LK_EMETHOD, NULL);
}

/* RFC 9110 13.1.2: If-None-Match is "*" or a list of entity tags, compared
 * weakly (a W/ prefix is ignored). etag is quoted, as sent in ETag. */
static bool etag_matches(h2o_req_t *req, const char *etag)
{
    size_t elen = strlen(etag);
    for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, i)) != -1;) {
        h2o_iovec_t v = req->headers.entries[i].value;
        size_t p = 0;
        while (p < v.len) {
            while (p < v.len && (v.base[p] == ' ' || v.base[p] == '\t' || v.base[p] == ','))
                p++;
            size_t s = p;
            while (p < v.len && v.base[p] != ',')
                p++;
            size_t e = p;
            while (e > s && (v.base[e - 1] == ' ' || v.base[e - 1] == '\t'))
                e--;
            if (e - s >= 2 && v.base[s] == 'W' && v.base[s + 1] == '/') s += 2;
            if ((e - s == 1 && v.base[s] == '*') ||
                (e - s == elen && memcmp(v.base + s, etag, elen) == 0))
                return true;
        }
    }
    return false;
}

void lk_reply_asset(h2o_req_t *req, const char *content_type, const char *etag,
                    const unsigned char *data, size_t len)
{
    h2o_headers_t *h = &req->res.headers;
    h2o_add_header_by_str(
        &req->pool, h, H2O_STRLIT("content-security-policy"), 1, NULL,
        H2O_STRLIT("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                   "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                   "form-action 'self'"));
    h2o_add_header_by_str(&req->pool, h, H2O_STRLIT("x-frame-options"), 1, NULL,
                          H2O_STRLIT("DENY"));
    h2o_add_header_by_str(&req->pool, h, H2O_STRLIT("referrer-policy"), 1, NULL,
                          H2O_STRLIT("no-referrer"));
    h2o_add_header_by_str(&req->pool, h, H2O_STRLIT("x-content-type-options"), 0, NULL,
                          H2O_STRLIT("nosniff"));
    h2o_add_header(&req->pool, h, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
    if (etag != NULL) {
        h2o_add_header(&req->pool, h, H2O_TOKEN_ETAG, NULL, etag, strlen(etag));
        if (etag_matches(req, etag)) {
            /* No body and no Content-Length (it would have to be the 200's:
             * RFC 9110 8.6); h2o knows a 304 ends after its headers. */
            static h2o_generator_t generator = {NULL, NULL};
            req->res.status = 304;
            req->res.reason = reason(304);
            req->res.content_length = SIZE_MAX;
            lk_reply_log(req, 304);
            h2o_start_response(req, &generator);
            h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
            return;
        }
    }
    send_body(req, 200, content_type, strlen(content_type), (const char *)data, len);
}

h2o_iovec_t lk_req_header(h2o_req_t *req, const h2o_token_t *tok, size_t *count)
{
    h2o_iovec_t v = {NULL, 0};
    size_t c = 0;
    ssize_t i = -1;
    while ((i = h2o_find_header(&req->headers, tok, i)) != -1) {
        if (c++ == 0) v = req->headers.entries[i].value;
    }
    if (count) *count = c;
    return v;
}

/* "application/json", any case, optionally followed by parameters. */
static int is_json_type(h2o_iovec_t v)
{
    static const char t[] = "application/json";
    size_t n = sizeof(t) - 1;
    if (v.len < n || strncasecmp(v.base, t, n) != 0) return 0;
    return v.len == n || v.base[n] == ';' || v.base[n] == ' ' || v.base[n] == '\t';
}

int lk_req_json(lk_req *r, json_t **out)
{
    h2o_req_t *req = r->req;
    *out = NULL;
    size_t len = req->entity.base ? req->entity.len : 0;
    if (len > LK_BODY_MAX) return lk_err_set(&r->err, LK_ETOO_LARGE, "request body exceeds 64 KiB");
    size_t nct;
    h2o_iovec_t ct = lk_req_header(req, H2O_TOKEN_CONTENT_TYPE, &nct);
    if (len == 0 && nct == 0)
        return lk_err_set(&r->err, LK_EINVALID_JSON, "a JSON request body is required");
    if (nct != 1 || !is_json_type(ct)) return lk_err_set(&r->err, LK_EMEDIA_TYPE, NULL);
    json_error_t je;
    json_t *j = json_loadb(len ? req->entity.base : "", len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) return lk_err_set(&r->err, LK_EINVALID_JSON, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return lk_err_set(&r->err, LK_EINVALID_JSON, "request body must be a JSON object");
    }
    *out = j;
    return 0;
}

int lk_req_json_str(lk_req *r, const char *field, json_t **body, const char **s, size_t *n)
{
    int rc = lk_req_json(r, body);
    if (rc != 0) {
        *body = NULL;
        return rc;
    }
    rc = lk_req_str(r, *body, field, LK_FIELD_REQUIRED, s, n);
    if (rc != 0) {
        json_decref(*body);
        *body = NULL;
    }
    return rc;
}

int lk_req_str(lk_req *r, json_t *obj, const char *field, unsigned flags, const char **s, size_t *n)
{
    *s = NULL;
    *n = 0;
    json_t *v = json_object_get(obj, field);
    if (v == NULL || (json_is_null(v) && (flags & LK_FIELD_NULLABLE))) {
        if (!(flags & LK_FIELD_REQUIRED)) return 0;
        char msg[96];
        snprintf(msg, sizeof(msg), "%s is required", field);
        return lk_err_field(&r->err, field, msg);
    }
    if (!json_is_string(v)) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%s must be a string", field);
        return lk_err_field(&r->err, field, msg);
    }
    *s = json_string_value(v);
    *n = json_string_length(v);
    return 0;
}

int lk_req_page(lk_req *r, lk_list *l)
{
    h2o_req_t *req = r->req;
    const char *limit = NULL, *cursor = NULL;
    size_t limit_len = 0, cursor_len = 0;
    if (req->query_at != SIZE_MAX) {
        const char *q = req->path.base + req->query_at + 1;
        size_t qn = req->path.len - req->query_at - 1;
        if (qn > LK_QUERY_MAX) {
            return lk_err_field(&r->err, "query", "query string too long");
        }
        size_t i = 0;
        while (i < qn) {
            size_t s = i;
            while (i < qn && q[i] != '&')
                i++;
            const char *kv = q + s;
            size_t kvn = i - s;
            if (kvn >= 6 && memcmp(kv, "limit=", 6) == 0) {
                limit = kv + 6;
                limit_len = kvn - 6;
            } else if (kvn >= 7 && memcmp(kv, "cursor=", 7) == 0) {
                cursor = kv + 7;
                cursor_len = kvn - 7;
            }
            i++;
        }
    }
    lk_err_clear(&r->err);
    return lk_svc_parse_page(limit, limit_len, cursor, cursor_len, l, &r->err);
}

/* The latchkey_session value from the Cookie header(s), or 0. */
int lk_req_session_cookie(h2o_req_t *req, const char **v, size_t *vn)
{
    static const char name[] = "latchkey_session";
    const size_t nl = sizeof(name) - 1;
    ssize_t i = -1;
    while ((i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, i)) != -1) {
        h2o_iovec_t h = req->headers.entries[i].value;
        size_t p = 0;
        while (p < h.len) {
            while (p < h.len && (h.base[p] == ' ' || h.base[p] == ';'))
                p++;
            size_t s = p;
            while (p < h.len && h.base[p] != ';')
                p++;
            size_t e = p;
            while (e > s && h.base[e - 1] == ' ')
                e--;
            if (e - s > nl && memcmp(h.base + s, name, nl) == 0 && h.base[s + nl] == '=') {
                size_t n = e - s - nl - 1;
                if (n == 0 || n > LK_COOKIE_VALUE_MAX) return 0;
                *v = h.base + s + nl + 1;
                *vn = n;
                return 1;
            }
        }
    }
    return 0;
}

/* --- h2o's own error responses --------------------------------------------
 *
 * h2o answers a few requests itself before any handler runs — above all
 * 413 when Content-Length exceeds its max_request_entity_size, which it
 * decides without reading the body. Those responses are bound to the host's
 * fallback path; this filter, installed there, rewrites them into the API's
 * JSON error shape with the API's headers (and logs them). Responses from
 * our handler never pass through it (its path has no filters). */

typedef struct fallback_ostream {
    h2o_ostream_t super;
    h2o_iovec_t body;
    int sent;
} fallback_ostream;

static void fallback_do_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                             h2o_send_state_t state)
{
    fallback_ostream *o = (fallback_ostream *)self;
    (void)bufs;
    if (!o->sent && bufcnt > 0) {
        o->sent = 1;
        h2o_ostream_send_next(self, req, &o->body, 1, state);
    } else {
        h2o_ostream_send_next(self, req, NULL, 0, state);
    }
}

void lk_reply_hsts(h2o_req_t *req)
{
    if (req->scheme == &H2O_URL_SCHEME_HTTPS)
        h2o_add_header_by_str(&req->pool, &req->res.headers,
                              H2O_STRLIT("strict-transport-security"), 0, NULL,
                              H2O_STRLIT(LK_HSTS_VALUE));
}

static void fallback_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    /* 413: Content-Length over h2o's cap; 400: a request h2o could not
     * frame (Content-Length: -1, a broken chunked body, ...) */
    int code = req->res.status == 413 ? LK_ETOO_LARGE
               : req->res.status == 400 ? LK_EINVALID_JSON
                                        : 0;
    if (code != 0) {
        lk_buf b;
        lk_buf_init(&b, &req->pool, 128);
        lk_buf_puts(&b, "{\"error\":{\"code\":\"");
        lk_buf_puts(&b, lk_err_api_code(code));
        lk_buf_puts(&b, code == LK_ETOO_LARGE
                            ? "\",\"message\":\"request body exceeds 64 KiB\"}}"
                            : "\",\"message\":\"malformed HTTP request framing\"}}");
        req->res.headers = (h2o_headers_t){NULL, 0, 0};
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                       H2O_STRLIT("application/json"));
        add_api_headers(req);
        lk_reply_hsts(req);
        req->res.content_length = b.len;
        lk_reply_log(req, req->res.status);
        fallback_ostream *o = (fallback_ostream *)h2o_add_ostream(req, sizeof(*o), slot);
        o->super.do_send = fallback_do_send;
        o->body = h2o_iovec_init(b.p, b.len);
        o->sent = 0;
        slot = &o->super.next;
    }
    h2o_setup_next_ostream(req, slot);
}

void lk_reply_install_fallback(h2o_hostconf_t *host)
{
    h2o_filter_t *f = h2o_create_filter(&host->fallback_path, sizeof(*f));
    f->on_setup_ostream = fallback_setup_ostream;
}

/* --- a reply made off the loop (reply.h) ---------------------------------- */

static h2o_iovec_t dup_iov(h2o_mem_pool_t *pool, h2o_iovec_t v)
{
    return v.base != NULL ? h2o_strdup(pool, v.base, v.len) : v;
}

/* Append a copy of h (name and value in pool) to hs. */
static void copy_header(h2o_mem_pool_t *pool, h2o_headers_t *hs, const h2o_header_t *h)
{
    h2o_iovec_t v = h2o_strdup(pool, h->value.base, h->value.len);
    if (h2o_iovec_is_token(h->name)) {
        h2o_add_header(pool, hs, H2O_STRUCT_FROM_MEMBER(h2o_token_t, buf, h->name), NULL, v.base,
                       v.len);
    } else {
        h2o_iovec_t n = h2o_strdup(pool, h->name->base, h->name->len);
        h2o_add_header_by_str(pool, hs, n.base, n.len, 0, NULL, v.base, v.len);
    }
}

void lk_reply_capture_init(lk_reply_capture *c, h2o_req_t *from)
{
    memset(c, 0, sizeof *c);
    h2o_req_t *req = &c->req;
    h2o_mem_init_pool(&req->pool);
    req->method = dup_iov(&req->pool, from->method);
    req->path = dup_iov(&req->pool, from->path);
    req->query_at = from->query_at;
    req->input.method = dup_iov(&req->pool, from->input.method);
    req->input.path = dup_iov(&req->pool, from->input.path);
    req->input.query_at = from->input.query_at;
    req->version = from->version;
    req->timestamps = from->timestamps;
    for (size_t i = 0; i != from->headers.size; i++)
        copy_header(&req->pool, &req->headers, &from->headers.entries[i]);
    if (from->entity.base != NULL) {
        size_t n = from->entity.len > LK_BODY_MAX + 1 ? LK_BODY_MAX + 1 : from->entity.len;
        req->entity = h2o_strdup(&req->pool, from->entity.base, n); /* > MAX still means 413 */
    }
}

void lk_reply_replay(lk_reply_capture *c, h2o_req_t *to)
{
    assert(c->done);
    const h2o_headers_t *hs = &c->req.res.headers;
    for (size_t i = 0; i != hs->size; i++)
        copy_header(&to->pool, &to->res.headers, &hs->entries[i]);
    if (c->secret) {
        secret_body *sb =
            h2o_mem_alloc_shared(&to->pool, sizeof(*sb) + c->len, secret_body_dispose);
        sb->len = c->len;
        memcpy(sb->data, c->body, c->len);
        send_body(to, c->req.res.status, NULL, 0, sb->data, sb->len);
    } else {
        char *b = c->len != 0 ? h2o_mem_alloc_pool(&to->pool, c->len) : NULL;
        if (b != NULL) memcpy(b, c->body, c->len);
        send_body(to, c->req.res.status, NULL, 0, b, c->len);
    }
}

void lk_reply_capture_dispose(lk_reply_capture *c)
{
    h2o_req_t *req = &c->req;
    for (size_t i = 0; i != req->headers.size; i++) /* Authorization, Cookie: secrets */
        sodium_memzero(req->headers.entries[i].value.base, req->headers.entries[i].value.len);
    if (req->entity.base != NULL) /* may hold a password */
        sodium_memzero(req->entity.base, req->entity.len);
    h2o_mem_clear_pool(&req->pool); /* a secret body wipes itself (secret_body_dispose) */
}
