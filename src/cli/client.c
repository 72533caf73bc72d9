/*
 * client.c — see client.h for the contract and invariants.
 *
 * One easy handle per client, reused for every request so the connection is
 * kept alive. Response bytes go into a growable buffer that refuses to pass
 * LK_CLIENT_BODY_MAX (the write callback returns 0, which makes curl stop
 * with CURLE_WRITE_ERROR; we remember why). Header bytes are counted by the
 * header callback against LK_CLIENT_HEADERS_MAX the same way.
 */
#include "client.h"
#include "client_rx.h"

#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct lk_client {
    CURL *curl;
    char *base;    /* base URL, no trailing '/' */
    char *token;   /* bearer token or NULL; wiped on free */
    char *csrf;    /* X-CSRF-Token or NULL; wiped on free */
    bool cookies;  /* keep the session cookie (login only) */
    char *session; /* "latchkey_session=..." from Set-Cookie, or NULL; wiped */
    long timeout;
    char msg[LK_CLIENT_MSG_MAX];
};

/* What the callbacks fill while one request runs. */
typedef lk_client_rx rx; /* client_rx.h */

static bool curl_ready;

static void set_msg(lk_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_msg(lk_client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    lk_client_scrub(c->msg);
}

static bool is_base62(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

/* Does a token prefix ("lko_"/"lkp_") start at p? */
static bool at_prefix(const char *p)
{
    return p[0] == 'l' && p[1] == 'k' && (p[2] == 'o' || p[2] == 'p') && p[3] == '_';
}

void lk_client_scrub(char *s)
{
    static const char ell[] = "\xE2\x80\xA6"; /* … */
    char *p = s;
    while ((p = strstr(p, "lk")) != NULL) {
        if (at_prefix(p) && is_base62((unsigned char)p[4])) {
            /* the run ends at a non-base62 byte or where the next token
             * starts (two tokens pasted together) */
            char *end = p + 4;
            while (is_base62((unsigned char)*end) && !at_prefix(end))
                end++;
            /* keep "lkX_", write "…", drop the rest of the run */
            if (end > p + 7) {
                memcpy(p + 4, ell, 3); /* only now: a shorter run may end the string */
                memmove(p + 7, end, strlen(end) + 1);
            } else {
                /* a run of 1-3 characters: replacing it would grow the string;
                 * overwrite it with '*' instead */
                memset(p + 4, '*', (size_t)(end - (p + 4)));
                p = end;
                continue;
            }
            p += 7;
        } else {
            p += 2;
        }
    }
}

int lk_client_escape(const char *s, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = is_base62(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~';
        size_t need = plain ? 1 : 3;
        if (o + need >= size) return LK_CLIENT_EUSAGE;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    if (o >= size) return LK_CLIENT_EUSAGE;
    out[o] = '\0';
    return 0;
}

size_t lk_client_rx_body(char *data, size_t size, size_t n, void *ud)
{
    rx *r = ud;
    size_t len = size * n;
    if (len > LK_CLIENT_BODY_MAX - r->len) {
        r->body_too_large = true;
        return 0;
    }
    if (r->len + len + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + len + 1)
            cap *= 2;
        if (cap > LK_CLIENT_BODY_MAX + 1) cap = LK_CLIENT_BODY_MAX + 1;
        char *nb = realloc(r->buf, cap);
        if (!nb) return 0;
        r->buf = nb;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, len);
    r->len += len;
    r->buf[r->len] = '\0';
    return len;
}

size_t lk_client_rx_header(char *data, size_t size, size_t n, void *ud)
{
    rx *r = ud;
    size_t len = size * n;
    if (len > LK_CLIENT_HEADER_LINE_MAX || len > LK_CLIENT_HEADERS_MAX - r->header_bytes) {
        r->headers_too_large = true;
        return 0;
    }
    r->header_bytes += len;
    static const char sc[] = "set-cookie:";
    static const char name[] = "latchkey_session=";
    if (r->want_cookie && len > sizeof sc - 1 && strncasecmp(data, sc, sizeof sc - 1) == 0) {
        size_t i = sizeof sc - 1;
        while (i < len && data[i] == ' ')
            i++;
        if (len - i > sizeof name - 1 && memcmp(data + i, name, sizeof name - 1) == 0) {
            size_t end = i;
            while (end < len && data[end] != ';' && data[end] != '\r' && data[end] != '\n')
                end++;
            if (end - i < sizeof r->cookie) {
                memcpy(r->cookie, data + i, end - i);
                r->cookie[end - i] = '\0';
            }
        }
    }
    static const char ra[] = "retry-after:";
    if (len > sizeof ra - 1 && strncasecmp(data, ra, sizeof ra - 1) == 0) {
        long v = 0;
        size_t i = sizeof ra - 1;
        while (i < len && data[i] == ' ')
            i++;
        bool any = false;
        while (i < len && data[i] >= '0' && data[i] <= '9' && v < 1000000) {
            v = v * 10 + (data[i] - '0');
            i++;
            any = true;
        }
        if (any) r->retry_after = v;
    }
    return len;
}

int lk_client_new(const char *base_url, lk_client **out)
{
    *out = NULL;
    size_t blen = strlen(base_url);
    if (blen == 0 || blen > LK_CLIENT_URL_MAX / 2) return LK_CLIENT_EUSAGE;
    if (strncasecmp(base_url, "http://", 7) != 0 && strncasecmp(base_url, "https://", 8) != 0)
        return LK_CLIENT_EUSAGE;
    for (size_t i = 0; i < blen; i++)
        if ((unsigned char)base_url[i] <= ' ' || base_url[i] == 0x7f) return LK_CLIENT_EUSAGE;

    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return LK_CLIENT_ENOMEM;
        curl_ready = true;
    }
    lk_client *c = calloc(1, sizeof *c);
    if (!c) return LK_CLIENT_ENOMEM;
    c->base = strdup(base_url);
    c->curl = curl_easy_init();
    if (!c->base || !c->curl) {
        lk_client_free(c);
        return LK_CLIENT_ENOMEM;
    }
    while (blen > 0 && c->base[blen - 1] == '/')
        c->base[--blen] = '\0';

    c->timeout = LK_CLIENT_TIMEOUT;
    const char *t = getenv("LATCHKEY_TIMEOUT");
    if (t && *t) {
        char *end;
        errno = 0;
        long v = strtol(t, &end, 10);
        if (errno == 0 && *end == '\0' && v > 0 && v <= 3600) c->timeout = v;
    }
    *out = c;
    return 0;
}

static void free_secret(char **p)
{
    if (*p) {
        sodium_memzero(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

void lk_client_free(lk_client *c)
{
    if (!c) return;
    if (c->curl) curl_easy_cleanup(c->curl); /* also drops the cookie jar */
    free_secret(&c->token);
    free_secret(&c->csrf);
    free_secret(&c->session);
    free(c->base);
    free(c);
}

static int set_secret(char **slot, const char *v)
{
    free_secret(slot);
    if (!v) return 0;
    *slot = strdup(v);
    return *slot ? 0 : LK_CLIENT_ENOMEM;
}

int lk_client_set_token(lk_client *c, const char *token)
{
    return set_secret(&c->token, token);
}

int lk_client_set_csrf(lk_client *c, const char *csrf)
{
    return set_secret(&c->csrf, csrf);
}

void lk_client_enable_cookies(lk_client *c)
{
    c->cookies = true;
}

const char *lk_client_base_url(const lk_client *c)
{
    return c->base;
}

const char *lk_client_errmsg(const lk_client *c)
{
    return c->msg;
}

void lk_client_resp_release(lk_client_resp *resp)
{
    if (!resp) return;
    if (resp->raw) {
        /* a create-key answer carries a token: wipe before freeing */
        sodium_memzero(resp->raw, resp->raw_len);
        free(resp->raw);
    }
    json_decref(resp->json);
    memset(resp, 0, sizeof *resp);
    resp->retry_after = -1;
}

int lk_client_exit_code(int result)
{
    switch (result) {
    case LK_CLIENT_OK:
        return LK_EXIT_OK;
    case LK_CLIENT_EUNAUTH:
        return LK_EXIT_UNAUTH;
    case LK_CLIENT_EUNREACHABLE:
        return LK_EXIT_UNREACHABLE;
    case LK_CLIENT_EUSAGE:
        return LK_EXIT_USAGE;
    default:
        return LK_EXIT_FAIL;
    }
}

/* Build "message (code)" from an API error body, or a generic line. */
void lk_client_error_from_body(lk_client *c, const lk_client_resp *resp)
{
    json_t *err = resp->json ? json_object_get(resp->json, "error") : NULL;
    const char *code = json_string_value(json_object_get(err, "code"));
    const char *message = json_string_value(json_object_get(err, "message"));
    const char *field = json_string_value(json_object_get(err, "field"));
    if (code && message) {
        char extra[64] = "";
        if (field) snprintf(extra, sizeof extra, ", field %.40s", field);
        if (resp->status == 429 && resp->retry_after >= 0)
            snprintf(extra + strlen(extra), sizeof extra - strlen(extra), ", retry after %lds",
                     resp->retry_after);
        set_msg(c, "%.300s (%.60s%s)", message, code, extra);
    } else {
        set_msg(c, "the server answered HTTP %ld", resp->status);
    }
    /* the server's text is shown on a terminal: no control characters */
    for (char *p = c->msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
}

/* The heap copies a request's headers need; wiped and freed by
 * release_out. payload may hold a password, auth and csrf hold secrets. */
typedef struct req_out {
    struct curl_slist *hdrs;
    char *payload, *auth, *csrf;
} req_out;

static void wipe_free(char *s)
{
    if (!s) return;
    sodium_memzero(s, strlen(s));
    free(s);
}

static void release_out(req_out *q)
{
    curl_slist_free_all(q->hdrs);
    wipe_free(q->auth);
    wipe_free(q->csrf);
    wipe_free(q->payload);
    memset(q, 0, sizeof *q);
}

/* prefix + value appended to the list; *copy (owned by q) keeps the line. */
static int add_secret_header(req_out *q, char **copy, const char *prefix, const char *value)
{
    size_t n = strlen(prefix) + strlen(value) + 1;
    if (!(*copy = malloc(n))) return -1;
    snprintf(*copy, n, "%s%s", prefix, value);
    struct curl_slist *l = curl_slist_append(q->hdrs, *copy);
    if (!l) return -1;
    q->hdrs = l;
    return 0;
}

static int add_header(req_out *q, const char *line)
{
    struct curl_slist *l = curl_slist_append(q->hdrs, line);
    if (!l) return -1;
    q->hdrs = l;
    return 0;
}

/* Everything curl should know before it sends: URL, limits, callbacks. */
static void set_options(lk_client *c, const char *url, const char *method, rx *r)
{
    CURL *h = c->curl;
    curl_easy_reset(h); /* keeps the live connection */
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, LK_CLIENT_CONNECT_TIMEOUT);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE, (long)LK_CLIENT_BODY_MAX);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "latchkey-cli/" LK_CLIENT_VERSION);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, lk_client_rx_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, lk_client_rx_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") == 0) curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (c->session) curl_easy_setopt(h, CURLOPT_COOKIE, c->session);
}

/* The body and the headers (credential included) into q and curl.
 * 0, or -1 on out-of-memory. */
static int set_body_and_headers(lk_client *c, const char *method, json_t *body, req_out *q)
{
    CURL *h = c->curl;
    bool is_get = strcmp(method, "GET") == 0;
    if (add_header(q, "Accept: application/json") != 0) return -1;
    if (body) {
        if (!(q->payload = json_dumps(body, JSON_COMPACT))) return -1;
        if (add_header(q, "Content-Type: application/json") != 0) return -1;
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->payload);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(q->payload));
    } else if (!is_get) {
        /* an empty body, and no "Expect:" or form Content-Type */
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
        if (add_header(q, "Content-Type:") != 0) return -1;
    }
    if (c->token && add_secret_header(q, &q->auth, "Authorization: Bearer ", c->token) != 0)
        return -1;
    if (c->csrf && !is_get && add_secret_header(q, &q->csrf, "X-CSRF-Token: ", c->csrf) != 0)
        return -1;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, q->hdrs);
    return 0;
}

/* A failed transfer: why, as a result code with its message. */
static int transport_error(lk_client *c, CURLcode cc, const rx *r)
{
    if (r->body_too_large || cc == CURLE_FILESIZE_EXCEEDED) {
        set_msg(c, "the answer from %s is larger than %u bytes", c->base, LK_CLIENT_BODY_MAX);
        return LK_CLIENT_EPROTOCOL;
    }
    if (r->headers_too_large) {
        set_msg(c, "the answer from %s has oversized headers", c->base);
        return LK_CLIENT_EPROTOCOL;
    }
    if (cc == CURLE_OUT_OF_MEMORY || cc == CURLE_WRITE_ERROR) {
        set_msg(c, "out of memory");
        return LK_CLIENT_ENOMEM;
    }
    if (cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT) {
        set_msg(c, "bad server URL %s: %s", c->base, curl_easy_strerror(cc));
        return LK_CLIENT_EUSAGE;
    }
    /* refused, DNS, timeout, TLS, reset: we could not talk to it */
    set_msg(c, "could not reach %s: %s", c->base, curl_easy_strerror(cc));
    return LK_CLIENT_EUNREACHABLE;
}

/* The answer into resp (which takes r's buffer), sorted into a result. */
static int take_answer(lk_client *c, rx *r, lk_client_resp *resp)
{
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (r->cookie[0]) {
        /* an empty value is the server clearing the session */
        bool cleared = strcmp(r->cookie, "latchkey_session=") == 0;
        if (set_secret(&c->session, cleared ? NULL : r->cookie) != 0) return LK_CLIENT_ENOMEM;
    }
    resp->retry_after = r->retry_after;
    if (!r->buf && !(r->buf = calloc(1, 1))) return LK_CLIENT_ENOMEM;
    resp->raw = r->buf;
    resp->raw_len = r->len;
    r->buf = NULL;
    if (resp->raw_len > 0) resp->json = json_loadb(resp->raw, resp->raw_len, 0, NULL);
    if (resp->status < 200 || resp->status >= 300) {
        lk_client_error_from_body(c, resp);
        return resp->status == 401 ? LK_CLIENT_EUNAUTH : LK_CLIENT_EREFUSED;
    }
    if (resp->raw_len > 0 && !resp->json) {
        set_msg(c, "the answer from %s is not JSON (HTTP %ld)", c->base, resp->status);
        return LK_CLIENT_EPROTOCOL;
    }
    return LK_CLIENT_OK;
}

int lk_client_request(lk_client *c, const char *method, const char *path, json_t *body,
                      lk_client_resp *resp)
{
    int rc = LK_CLIENT_ENOMEM;
    char url[LK_CLIENT_URL_MAX];
    rx r = {.retry_after = -1, .want_cookie = c->cookies};
    req_out q = {0};
    assert(path[0] == '/');
    memset(resp, 0, sizeof *resp);
    resp->retry_after = -1;
    c->msg[0] = '\0';
    if ((size_t)snprintf(url, sizeof url, "%s%s", c->base, path) >= sizeof url) {
        set_msg(c, "request URL too long");
        return LK_CLIENT_EUSAGE;
    }
    set_options(c, url, method, &r);
    if (set_body_and_headers(c, method, body, &q) != 0) goto out;
    CURLcode cc = curl_easy_perform(c->curl);
    rc = cc == CURLE_OK ? take_answer(c, &r, resp) : transport_error(c, cc, &r);
out:
    if (rc == LK_CLIENT_ENOMEM && !c->msg[0]) set_msg(c, "out of memory");
    release_out(&q);
    free(r.buf);
    sodium_memzero(r.cookie, sizeof r.cookie);
    return rc;
}
