/*
 * api_rotate.c — the key lifecycle endpoints (service_rotate.c):
 *
 *   POST /v1/organizations/{org}/access-keys/{key}/rotate   200 key + token
 *   POST /v1/me/access-keys/{key}/rotate                     200 key + token
 *   POST /v1/leaked-tokens (public)                          202 {received}
 *
 * Bodies: rotate {grace_period_seconds?} — a JSON integer (a float, a
 * string or null is 400 validation_failed with the field), range checked
 * by the service; reports {tokens: [string, …], source?, url?}.
 *
 * The new token lives on this stack from lk_svc_key_rotate until the
 * response is written and is wiped then; tokens of a report are read in
 * place from the parsed body (jansson's memory, freed with it) and never
 * copied or logged.
 */
#include "api.h"
#include "auth.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

/* 4 KiB holds the largest key record with its token (see api_keys.c). */
#define KEY_WITH_TOKEN_BUF 4096
#define RECEIVED_BUF 64

/* grace_period_seconds: absent = 0; else a JSON integer. */
static int grace_of(lk_req *r, json_t *body, int64_t *out)
{
    json_t *v = json_object_get(body, "grace_period_seconds");
    *out = 0;
    if (v == NULL) return 0;
    if (!json_is_integer(v))
        return lk_err_field(&r->err, "grace_period_seconds",
                            "must be an integer from 0 to 604800 (7 days)");
    *out = (int64_t)json_integer_value(v);
    return 0;
}

static int key_rotate(lk_req *r, const char *org_id, const char *key_id)
{
    json_t *body;
    int64_t grace = 0;
    lk_key k;
    char token[LK_TOKEN_SIZE];
    int rc = lk_req_json(r, &body);
    if (rc != 0) return rc;
    rc = grace_of(r, body, &grace);
    json_decref(body);
    if (rc != 0) return rc;
    rc = lk_svc_key_rotate(r->svc, &r->principal, org_id, key_id, grace, &k, token);
    if (rc != 0) return rc;
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, KEY_WITH_TOKEN_BUF);
    lk_json_key(&b, &k, token);
    sodium_memzero(token, sizeof(token));
    lk_reply_json_secret(r->req, 200, &b);
    return 0;
}

int lk_api_orgkey_rotate(lk_req *r)
{
    return key_rotate(r, lk_route_param(&r->m, LK_PARAM_ORG), lk_route_param(&r->m, LK_PARAM_KEY));
}

int lk_api_mykey_rotate(lk_req *r)
{
    return key_rotate(r, NULL, lk_route_param(&r->m, LK_PARAM_KEY));
}

/* tokens: an array of 1..100 strings (checked here for type and count; the
 * service checks the count again). Pointers go into the caller's arrays. */
static int tokens_of(lk_req *r, json_t *body, const char **toks, size_t *lens, size_t *n)
{
    json_t *a = json_object_get(body, "tokens");
    *n = 0;
    if (a == NULL) return lk_err_field(&r->err, "tokens", "is required");
    if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > LK_LEAK_MAX_TOKENS)
        return lk_err_field(&r->err, "tokens", "must be an array of 1 to 100 strings");
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *t = json_array_get(a, i);
        if (!json_is_string(t))
            return lk_err_field(&r->err, "tokens", "must be an array of 1 to 100 strings");
        toks[i] = json_string_value(t);
        lens[i] = json_string_length(t);
    }
    *n = json_array_size(a);
    return 0;
}

int lk_api_leaked_tokens(lk_req *r)
{
    json_t *body;
    const char *toks[LK_LEAK_MAX_TOKENS];
    size_t lens[LK_LEAK_MAX_TOKENS];
    lk_leak_report rep = {.tokens = toks, .lens = lens};
    char client[LK_CLIENT_SIZE];
    int rc = lk_req_json(r, &body);
    if (rc != 0) return rc;
    rc = tokens_of(r, body, toks, lens, &rep.n);
    if (rc == 0)
        rc = lk_req_str(r, body, "source", LK_FIELD_NULLABLE, &rep.source, &rep.source_len);
    if (rc == 0) rc = lk_req_str(r, body, "url", LK_FIELD_NULLABLE, &rep.url, &rep.url_len);
    if (rc == 0) {
        lk_http_client_key(r, client); /* behind --trusted-proxies; IPv6 per /64 */
        rc = lk_svc_report_leaked(r->svc, &rep, client);
    }
    size_t received = rep.n;
    json_decref(body);
    if (rc != 0) return rc;
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, RECEIVED_BUF);
    lk_buf_putn(&b, "{\"received\":", 12);
    lk_buf_put_int(&b, (int64_t)received);
    lk_buf_putc(&b, '}');
    lk_reply_json(r->req, 202, &b);
    return 0;
}
