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
 *
 * A report's 202 leaves at a fixed time, not when its work ends: every
 * report commits the same write (service_rotate.c), but a live token still
 * costs its row's delete and its audit event (35-50 µs together, measured), so
 * the answer is held until LK_LEAK_ANSWER_FLOOR_MS after the event loop
 * woke up for the request — an h2o timeout entry, so the loop serves
 * others meanwhile. h2o links an entry at the loop's cached time of this
 * iteration (h2o_now, taken before any handler ran), so the answer goes
 * out at that time + the floor however long the work took, as long as it
 * took less (measured in docs/security.md). Errors (400, 429, 503) answer
 * at once: none depends on what the tokens were. While the server shuts
 * down the answer is not held (the drain would close the idle-looking
 * connection under it). A client that leaves first disposes the request,
 * which unlinks the entry.
 */
#include "api.h"
#include "auth.h"

#include <assert.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

/* 4 KiB holds the largest key record with its token (see api_keys.c). */
#define KEY_WITH_TOKEN_BUF 4096
#define RECEIVED_BUF 64
/* Well above the work of the largest report: 100 live tokens took a median
 * of 5.8 ms on SQLite and 7-11 ms on PostgreSQL on the shared, loaded
 * 2-core test machine (LeakTiming with the floor off), so a tail ten
 * times the median is still covered. */
#define LK_LEAK_ANSWER_FLOOR_MS 150

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

/* A held 202: the entry on this thread's floor timeout, the body in the
 * request's pool. */
typedef struct held_answer {
    h2o_timeout_entry_t entry;
    h2o_req_t *req;
    lk_buf body;
} held_answer;

/* One floor timeout per event loop (a loop is one thread), set up on the
 * first report that loop serves. Never disposed: like the loops' h2o
 * contexts (server.c's stop), it is left to process exit — no loop runs
 * again once its thread has ended. */
static _Thread_local h2o_timeout_t floor_timeout;
static _Thread_local h2o_loop_t *floor_loop;

static void on_floor(h2o_timeout_entry_t *e)
{
    held_answer *a = H2O_STRUCT_FROM_MEMBER(held_answer, entry, e);
    lk_reply_json(a->req, 202, &a->body);
}

static void on_held_dispose(void *p)
{
    held_answer *a = p;
    if (h2o_timeout_is_linked(&a->entry)) h2o_timeout_unlink(&a->entry);
}

/* Answer 202 with b at the floor (see the top), or now while shutting down. */
static void reply_at_floor(h2o_req_t *req, const lk_buf *b)
{
    h2o_context_t *ctx = req->conn->ctx;
    if (ctx->shutdown_requested) {
        lk_reply_json(req, 202, b);
        return;
    }
    if (floor_loop == NULL) {
        h2o_timeout_init(ctx->loop, &floor_timeout, LK_LEAK_ANSWER_FLOOR_MS);
        floor_loop = ctx->loop;
    }
    assert(floor_loop == ctx->loop); /* one loop per thread */
    held_answer *a = h2o_mem_alloc_shared(&req->pool, sizeof(*a), on_held_dispose);
    memset(&a->entry, 0, sizeof a->entry);
    a->entry.cb = on_floor;
    a->req = req;
    a->body = *b;
    h2o_timeout_link(ctx->loop, &floor_timeout, &a->entry);
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
    reply_at_floor(r->req, &b);
    return 0;
}
