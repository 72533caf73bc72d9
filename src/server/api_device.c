/*
 * api_device.c — the device sign-in's endpoints (service_device.h):
 *
 *   POST /v1/auth/device            public   {client_name?, scopes?} → codes
 *   POST /v1/auth/device/token      public   {device_code} → {token, key} once
 *   GET  /v1/auth/device?user_code= session  what the /device page shows
 *   POST /v1/auth/device/approve    session + CSRF  {user_code} → 204
 *   POST /v1/auth/device/deny       session + CSRF  {user_code} → 204
 *
 * verification_uri is built from the request: https when it came over TLS,
 * and the Host header when it is a plain host[:port] (else the listening
 * address h2o saw) — the CLI reaches the server at exactly that address,
 * so that is where its person's browser must go.
 *
 * Secrets: the device_code and the token exist here only in the stack
 * buffers between the service call and the pool-wiped response body
 * (lk_reply_json_secret); both are wiped right after. Never logged (the
 * access log has no query string and no body).
 */
#include "api.h"
#include "scope.h"
#include "service_device.h"

#include <assert.h>
#include <netdb.h>
#include <sodium.h>
#include <string.h>

#define DEVICE_SCOPES_MAX LK_SCOPE_LIST_MAX /* names in one start request (32) */
#define DEVICE_HOST_MAX 255                 /* a Host header we copy into a URL */
#define DEVICE_PAGE "/device"               /* the dashboard page (web/js/views/device.js) */
#define DEVICE_BODY_SIZE 1024               /* the start answer: codes, two URLs, numbers */
#define DEVICE_TOKEN_BODY 4096              /* {token, key}: the key record is < 2.5 KiB */
#define DEVICE_INFO_SIZE 2048

/* --- helpers ---------------------------------------------------------------- */

/* The request's client address (the TCP peer) into r->client, once. */
static const char *client_of(lk_req *r)
{
    struct sockaddr_storage ss;
    char buf[NI_MAXHOST];
    if (r->client[0]) return r->client;
    socklen_t n = r->req->conn->callbacks->get_peername(r->req->conn, (struct sockaddr *)&ss);
    if (n == 0) return r->client;
    size_t len = h2o_socket_getnumerichost((struct sockaddr *)&ss, n, buf);
    if (len == SIZE_MAX || len >= sizeof r->client) return r->client;
    memcpy(r->client, buf, len);
    r->client[len] = '\0';
    return r->client;
}

static bool host_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == ':' || c == '[' || c == ']';
}

/* "http(s)://host[:port]" into b (no trailing slash). */
static void put_origin(lk_buf *b, h2o_req_t *req)
{
    h2o_iovec_t host = req->authority;
    bool ok = host.base != NULL && host.len > 0 && host.len <= DEVICE_HOST_MAX;
    for (size_t i = 0; ok && i < host.len; i++)
        ok = host_char_ok(host.base[i]);
    lk_buf_puts(b, req->scheme == &H2O_URL_SCHEME_HTTPS ? "https://" : "http://");
    if (ok)
        lk_buf_putn(b, host.base, host.len);
    else
        lk_buf_puts(b, "localhost");
}

/* The scopes array of the body: names and lengths pointing into body. */
static int body_scopes(lk_req *r, json_t *body, const char *names[DEVICE_SCOPES_MAX],
                       size_t lens[DEVICE_SCOPES_MAX], size_t *n, bool *has)
{
    json_t *a = json_object_get(body, "scopes");
    *n = 0;
    *has = false;
    if (a == NULL || json_is_null(a)) return 0;
    if (!json_is_array(a))
        return lk_err_field(&r->err, "scopes", "scopes must be a list of strings");
    if (json_array_size(a) == 0 || json_array_size(a) > DEVICE_SCOPES_MAX)
        return lk_err_field(&r->err, "scopes", "scopes must hold 1 to 32 names");
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_string(v))
            return lk_err_field(&r->err, "scopes", "scopes must be a list of strings");
        names[i] = json_string_value(v);
        lens[i] = json_string_length(v);
    }
    *n = json_array_size(a);
    *has = true;
    return 0;
}

/* A scope mask as the JSON list of its canonical names (["*"] for all). */
static void put_scopes(lk_buf *b, int64_t scopes)
{
    const char *names[LK_SCOPE_COUNT];
    size_t n = lk_scope_format((lk_scopes)scopes, names, LK_SCOPE_COUNT);
    assert(n <= LK_SCOPE_COUNT);
    lk_buf_putc(b, '[');
    for (size_t i = 0; i < n && i < LK_SCOPE_COUNT; i++) {
        if (i) lk_buf_putc(b, ',');
        lk_buf_put_str(b, names[i], strlen(names[i]));
    }
    lk_buf_putc(b, ']');
}

static void put_start(lk_buf *b, h2o_req_t *req, const lk_device_grant *g)
{
    lk_buf_puts(b, "{\"device_code\":");
    lk_buf_put_str(b, g->device_code, strlen(g->device_code));
    lk_buf_puts(b, ",\"user_code\":");
    lk_buf_put_str(b, g->user_code, strlen(g->user_code));
    lk_buf_puts(b, ",\"verification_uri\":\"");
    put_origin(b, req);
    lk_buf_puts(b, DEVICE_PAGE "\",\"verification_uri_complete\":\"");
    put_origin(b, req);
    lk_buf_puts(b, DEVICE_PAGE "?code=");
    lk_buf_puts(b, g->user_code); /* letters and '-': nothing to escape */
    lk_buf_puts(b, "\",\"expires_in\":");
    lk_buf_put_int(b, g->expires_in);
    lk_buf_puts(b, ",\"interval\":");
    lk_buf_put_int(b, g->interval);
    lk_buf_putc(b, '}');
}

/* --- start and poll (public) ---------------------------------------------------- */

int lk_api_device_start(lk_req *r)
{
    json_t *body;
    const char *name, *scopes[DEVICE_SCOPES_MAX];
    size_t name_n, lens[DEVICE_SCOPES_MAX], nscopes;
    bool has_scopes;
    lk_device_grant g;
    int rc = lk_req_json(r, &body);
    if (rc != 0) return rc;
    rc = lk_req_str(r, body, "client_name", LK_FIELD_NULLABLE, &name, &name_n);
    if (rc == 0) rc = body_scopes(r, body, scopes, lens, &nscopes, &has_scopes);
    if (rc == 0)
        rc = lk_svc_device_start(r->svc, name, name_n, scopes, lens, nscopes, has_scopes,
                                 client_of(r), &g);
    json_decref(body);
    if (rc != 0) return rc;
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, DEVICE_BODY_SIZE);
    put_start(&b, r->req, &g);
    sodium_memzero(&g, sizeof g);
    lk_reply_json_secret(r->req, 200, &b);
    return 0;
}

int lk_api_device_token(lk_req *r)
{
    json_t *body;
    const char *code;
    size_t n;
    lk_key k;
    char token[LK_TOKEN_SIZE];
    int rc = lk_req_json(r, &body);
    if (rc != 0) return rc;
    rc = lk_req_str(r, body, "device_code", LK_FIELD_REQUIRED, &code, &n);
    if (rc == 0) rc = lk_svc_device_token(r->svc, code, n, &k, token);
    if (code != NULL) sodium_memzero((void *)(uintptr_t)code, n); /* jansson's copy */
    json_decref(body);
    if (rc != 0) return rc;
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, DEVICE_TOKEN_BODY);
    lk_buf_puts(&b, "{\"token\":");
    lk_buf_put_str(&b, token, strlen(token));
    lk_buf_puts(&b, ",\"key\":");
    lk_json_key(&b, &k, NULL);
    lk_buf_putc(&b, '}');
    sodium_memzero(token, sizeof token);
    lk_reply_json_secret(r->req, 200, &b);
    return 0;
}

/* --- the person's side (session) ------------------------------------------------ */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* ?user_code=, percent- and '+'-decoded into out (at most
 * LK_USER_CODE_INPUT_MAX bytes; what does not fit is cut and then simply
 * fails to match). */
static int query_user_code(lk_req *r, char out[LK_USER_CODE_INPUT_MAX + 1], size_t *outn)
{
    static const char key[] = "user_code=";
    h2o_req_t *req = r->req;
    const char *v = NULL;
    size_t vn = 0, n = 0;
    if (req->query_at != SIZE_MAX) {
        const char *q = req->path.base + req->query_at + 1;
        size_t qn = req->path.len - req->query_at - 1;
        if (qn > LK_QUERY_MAX) return lk_err_field(&r->err, "query", "query string too long");
        for (size_t i = 0; i < qn;) {
            size_t s = i;
            while (i < qn && q[i] != '&')
                i++;
            if (i - s >= sizeof key - 1 && memcmp(q + s, key, sizeof key - 1) == 0) {
                v = q + s + sizeof key - 1;
                vn = i - s - (sizeof key - 1);
            }
            i++;
        }
    }
    if (v == NULL) return lk_err_field(&r->err, "user_code", "user_code is required");
    for (size_t i = 0; i < vn && n < LK_USER_CODE_INPUT_MAX; i++) {
        int hi, lo;
        if (v[i] == '%' && i + 2 < vn && (hi = hexval(v[i + 1])) >= 0 &&
            (lo = hexval(v[i + 2])) >= 0) {
            out[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[n++] = v[i] == '+' ? ' ' : v[i];
        }
    }
    out[n] = '\0';
    *outn = n;
    return 0;
}

int lk_api_device_lookup(lk_req *r)
{
    char code[LK_USER_CODE_INPUT_MAX + 1];
    size_t n = 0;
    lk_device_info d;
    int rc = query_user_code(r, code, &n);
    if (rc == 0) rc = lk_svc_device_lookup(r->svc, &r->principal, code, n, client_of(r), &d);
    if (rc != 0) return rc;
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, DEVICE_INFO_SIZE);
    lk_buf_puts(&b, "{\"user_code\":");
    lk_buf_put_str(&b, d.user_code, strlen(d.user_code));
    lk_buf_puts(&b, ",\"client_name\":");
    lk_buf_put_str(&b, d.client_name, strlen(d.client_name));
    lk_buf_puts(&b, ",\"client_address\":");
    lk_buf_put_str(&b, d.client_addr, strlen(d.client_addr));
    lk_buf_puts(&b, ",\"scopes\":");
    put_scopes(&b, d.scopes);
    lk_buf_puts(&b, ",\"created_at\":");
    lk_buf_put_time(&b, d.created_at);
    lk_buf_puts(&b, ",\"expires_at\":");
    lk_buf_put_time(&b, d.expires_at);
    lk_buf_putc(&b, '}');
    lk_reply_json(r->req, 200, &b);
    return 0;
}

static int decide(lk_req *r, bool approve)
{
    json_t *body;
    const char *code;
    size_t n;
    int rc = lk_req_json(r, &body);
    if (rc != 0) return rc;
    rc = lk_req_str(r, body, "user_code", LK_FIELD_REQUIRED, &code, &n);
    if (rc == 0) rc = lk_svc_device_decide(r->svc, &r->principal, code, n, client_of(r), approve);
    json_decref(body);
    if (rc != 0) return rc;
    lk_reply_empty(r->req, 204);
    return 0;
}

int lk_api_device_approve(lk_req *r)
{
    return decide(r, true);
}

int lk_api_device_deny(lk_req *r)
{
    return decide(r, false);
}
