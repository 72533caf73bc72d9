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

int lk_client_request(lk_client *c, const char *method, const char *path, json_t *body,
                      lk_client_resp *resp)
{
    int rc = LK_CLIENT_ENOMEM;
    struct curl_slist *hdrs = NULL;
    char *payload = NULL;
    char *auth = NULL;
    char *csrf = NULL;
    char url[LK_CLIENT_URL_MAX];
    rx r = {.retry_after = -1};
    CURL *h = c->curl;

    memset(resp, 0, sizeof *resp);
    resp->retry_after = -1;
    c->msg[0] = '\0';

    if ((size_t)snprintf(url, sizeof url, "%s%s", c->base, path) >= sizeof url) {
        set_msg(c, "request URL too long");
        return LK_CLIENT_EUSAGE;
    }

    curl_easy_reset(h); /* keeps the live connection */
    r.want_cookie = c->cookies;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, LK_CLIENT_CONNECT_TIMEOUT);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE, (long)LK_CLIENT_BODY_MAX);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "latchkey-cli/" LK_CLIENT_VERSION);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, lk_client_rx_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, lk_client_rx_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") == 0) curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);

    if (!(hdrs = curl_slist_append(hdrs, "Accept: application/json"))) goto out;
    if (body) {
        payload = json_dumps(body, JSON_COMPACT);
        if (!payload) goto out;
        if (!(hdrs = curl_slist_append(hdrs, "Content-Type: application/json"))) goto out;
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
    } else if (strcmp(method, "GET") != 0) {
        /* an empty body, and no "Expect:" or form Content-Type */
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
        if (!(hdrs = curl_slist_append(hdrs, "Content-Type:"))) goto out;
    }
    if (c->token) {
        size_t n = strlen(c->token) + sizeof "Authorization: Bearer ";
        if (!(auth = malloc(n))) goto out;
        snprintf(auth, n, "Authorization: Bearer %s", c->token);
        if (!(hdrs = curl_slist_append(hdrs, auth))) goto out;
    }
    if (c->csrf && strcmp(method, "GET") != 0) {
        size_t n = strlen(c->csrf) + sizeof "X-CSRF-Token: ";
        if (!(csrf = malloc(n))) goto out;
        snprintf(csrf, n, "X-CSRF-Token: %s", c->csrf);
        if (!(hdrs = curl_slist_append(hdrs, csrf))) goto out;
    }
    if (c->session) curl_easy_setopt(h, CURLOPT_COOKIE, c->session);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        if (r.body_too_large || cc == CURLE_FILESIZE_EXCEEDED) {
            set_msg(c, "the answer from %s is larger than %u bytes", c->base, LK_CLIENT_BODY_MAX);
            rc = LK_CLIENT_EPROTOCOL;
        } else if (r.headers_too_large) {
            set_msg(c, "the answer from %s has oversized headers", c->base);
            rc = LK_CLIENT_EPROTOCOL;
        } else if (cc == CURLE_OUT_OF_MEMORY || cc == CURLE_WRITE_ERROR) {
            set_msg(c, "out of memory");
            rc = LK_CLIENT_ENOMEM;
        } else if (cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT) {
            set_msg(c, "bad server URL %s: %s", c->base, curl_easy_strerror(cc));
            rc = LK_CLIENT_EUSAGE;
        } else {
            /* refused, DNS, timeout, TLS, reset: we could not talk to it */
            set_msg(c, "could not reach %s: %s", c->base, curl_easy_strerror(cc));
            rc = LK_CLIENT_EUNREACHABLE;
        }
        goto out;
    }

    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    if (r.cookie[0]) {
        /* an empty value is the server clearing the session */
        bool cleared = strcmp(r.cookie, "latchkey_session=") == 0;
        if (set_secret(&c->session, cleared ? NULL : r.cookie) != 0) goto out;
    }
    resp->retry_after = r.retry_after;
    if (!r.buf) {
        r.buf = calloc(1, 1);
        if (!r.buf) goto out;
    }
    resp->raw = r.buf;
    resp->raw_len = r.len;
    r.buf = NULL;
    if (resp->raw_len > 0) resp->json = json_loadb(resp->raw, resp->raw_len, 0, NULL);

    if (resp->status >= 200 && resp->status < 300) {
        if (resp->raw_len > 0 && !resp->json) {
            set_msg(c, "the answer from %s is not JSON (HTTP %ld)", c->base, resp->status);
            rc = LK_CLIENT_EPROTOCOL;
        } else {
            rc = LK_CLIENT_OK;
        }
    } else {
        lk_client_error_from_body(c, resp);
        rc = resp->status == 401 ? LK_CLIENT_EUNAUTH : LK_CLIENT_EREFUSED;
    }

out:
    if (rc == LK_CLIENT_ENOMEM && !c->msg[0]) set_msg(c, "out of memory");
    curl_slist_free_all(hdrs);
    if (auth) {
        sodium_memzero(auth, strlen(auth));
        free(auth);
    }
    if (csrf) {
        sodium_memzero(csrf, strlen(csrf));
        free(csrf);
    }
    if (payload) {
        sodium_memzero(payload, strlen(payload)); /* may hold a password */
        free(payload);
    }
    free(r.buf);
    sodium_memzero(r.cookie, sizeof r.cookie);
    return rc;
}
