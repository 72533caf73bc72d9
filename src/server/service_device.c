/*
 * service_device.c — the device sign-in's use-cases (service_device.h):
 * start, poll (token), lookup, approve / deny.
 *
 * Order in every function: authorization (lookup/decide: a session), the
 * guess throttle (lookup/decide: before the code is even parsed, so a
 * throttled address learns nothing), validation, store calls. Codes are
 * hashed at once; the plain codes live only in the caller's buffers and in
 * locals wiped before return. Nothing here logs.
 */
#include "service_device.h"

#include "authz.h"
#include "cidr.h"
#include "clientaddr.h"
#include "scope.h"
#include "timefmt.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* The user_code's hash input starts with this, so a user_code hash can
 * never equal a token's or a session's hash of the same bytes. */
#define USER_CODE_DOMAIN "latchkey-user-code:"
#define CODE_NF "unknown or expired code: check it against your terminal, or start again there"

/* --- small helpers -------------------------------------------------------- */

static int64_t now_of(const lk_svc *svc)
{
    return svc->cfg && svc->cfg->now ? svc->cfg->now() : lk_time_now();
}

static void begin(lk_svc *svc)
{
    lk_err_clear(&svc->err);
    lk_err_clear(&svc->st->err);
}

/* A store failure into svc->err, with the store's (safe) message. */
static int store_err(lk_svc *svc, int rc)
{
    return lk_err_set(&svc->err, rc, svc->st->err.message[0] ? svc->st->err.message : NULL);
}

static int64_t ttl_of(const lk_svc *svc)
{
    int t = svc->cfg ? svc->cfg->device_ttl : 0;
    return t > 0 ? t : LK_DEVICE_TTL;
}

/* The throttle key of a client address: IPv4 /32, IPv6 per /64
 * (clientaddr.h); text that is no address is its own key. */
static void guess_key(const char *client, char out[LK_THROTTLE_KEY_SIZE])
{
    lk_addr a;
    size_t n = strnlen(client, LK_SVC_CLIENT_MAX);
    if (lk_addr_parse(client, n, &a, "client", NULL) == LK_OK)
        lk_clientaddr_throttle_key(&a, out);
    else
        snprintf(out, LK_THROTTLE_KEY_SIZE, "%.*s", (int)n, client);
}

/* LK_ERATE_LIMITED (with retry_after) if this address guessed too often
 * (the ratelimit rule LK_RL_DEVICE_GUESS_CLIENT: 10 in 15 minutes). */
static int guess_check(lk_svc *svc, const char *client, int64_t now)
{
    if (svc->rl == NULL || client == NULL) return LK_OK;
    char k[LK_THROTTLE_KEY_SIZE];
    guess_key(client, k);
    int wait = lk_ratelimit_check(svc->rl, LK_RL_DEVICE_GUESS_CLIENT, k, NULL, now);
    if (wait <= 0) return LK_OK;
    lk_err_set(&svc->err, LK_ERATE_LIMITED, "too many wrong codes from this address; try later");
    svc->err.retry_after = wait;
    return LK_ERATE_LIMITED;
}

/* Count a wrong code against the address; the answer is a plain 404. */
static int guess_failed(lk_svc *svc, const char *client, int64_t now)
{
    if (svc->rl != NULL && client != NULL) {
        char k[LK_THROTTLE_KEY_SIZE];
        guess_key(client, k);
        lk_ratelimit_fail(svc->rl, LK_RL_DEVICE_GUESS_CLIENT, k, NULL, now);
    }
    return lk_err_set(&svc->err, LK_ENOT_FOUND, CODE_NF);
}

/* --- codes ------------------------------------------------------------------ */

int lk_device_user_code_canon(const char *in, size_t len, char out[LK_USER_CODE_LEN + 1])
{
    size_t n = 0;
    out[0] = '\0';
    if (in == NULL || len > LK_USER_CODE_INPUT_MAX) return -1;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '-' || c == ' ') continue;
        if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        if (c == '\0' || strchr(LK_USER_CODE_ALPHABET, c) == NULL || n == LK_USER_CODE_LEN) {
            out[0] = '\0';
            return -1;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return n == LK_USER_CODE_LEN ? 0 : -1;
}

static void user_code_hash(const char canon[LK_USER_CODE_LEN + 1], uint8_t out[LK_TOKEN_HASH_LEN])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)USER_CODE_DOMAIN,
                              sizeof USER_CODE_DOMAIN - 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)canon, LK_USER_CODE_LEN);
    crypto_hash_sha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

/* "BCDF-GHJK" from 8 canonical letters. */
static void user_code_show(const char canon[LK_USER_CODE_LEN + 1], char out[LK_USER_CODE_SIZE])
{
    memcpy(out, canon, 4);
    out[4] = '-';
    memcpy(out + 5, canon + 4, 4);
    out[9] = '\0';
}

/* A fresh pair of codes and their hashes into d and g. */
static void draw_codes(lk_device *d, lk_device_grant *g)
{
    unsigned char rnd[LK_DEVICE_CODE_BYTES];
    char canon[LK_USER_CODE_LEN + 1];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2base64(g->device_code, sizeof g->device_code, rnd, sizeof rnd,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(rnd, sizeof rnd);
    crypto_hash_sha256(d->device_hash, (const unsigned char *)g->device_code, LK_DEVICE_CODE_LEN);
    for (size_t i = 0; i < LK_USER_CODE_LEN; i++)
        canon[i] = LK_USER_CODE_ALPHABET[randombytes_uniform(LK_USER_CODE_ALPHABET_LEN)];
    canon[LK_USER_CODE_LEN] = '\0';
    user_code_hash(canon, d->user_hash);
    user_code_show(canon, g->user_code);
    sodium_memzero(canon, sizeof canon);
}

/* The device_code's hash; -1 if it cannot be one (wrong length or alphabet). */
static int device_code_hash(const char *code, size_t len, uint8_t out[LK_TOKEN_HASH_LEN])
{
    if (code == NULL || len != LK_DEVICE_CODE_LEN) return -1;
    for (size_t i = 0; i < len; i++) {
        char c = code[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok) return -1;
    }
    crypto_hash_sha256(out, (const unsigned char *)code, len);
    return 0;
}

/* --- scopes ------------------------------------------------------------------ */

/* The requested scopes as the canonical (closed) mask kept with the
 * request: every scope when none were asked for. */
static int scopes_of(lk_svc *svc, const char *const names[], const size_t lens[], size_t n,
                     bool has, int64_t *out)
{
    lk_scopes mask = LK_SCOPE_ALL;
    *out = 0;
    if (has) {
        int rc = lk_scope_parse_list(names, lens, n, 0, &mask, &svc->err);
        if (rc != LK_OK) return rc;
    }
    *out = (int64_t)mask;
    return LK_OK;
}

/* --- start ------------------------------------------------------------------- */

int lk_svc_device_start(lk_svc *svc, const char *client_name, size_t name_len,
                        const char *const scopes[], const size_t scope_lens[], size_t nscopes,
                        bool has_scopes, const char *client, lk_device_grant *out)
{
    begin(svc);
    lk_device d;
    int64_t now = now_of(svc);
    int rc;
    memset(&d, 0, sizeof d);
    memset(out, 0, sizeof *out);
    if (client_name == NULL) {
        client_name = LK_DEVICE_CLIENT_DEFAULT;
        name_len = strlen(client_name);
    }
    if ((rc = lk_validate_name(client_name, name_len, d.client_name, "client_name", &svc->err)))
        return rc;
    if ((rc = scopes_of(svc, scopes, scope_lens, nscopes, has_scopes, &d.scopes))) return rc;
    snprintf(d.client_addr, sizeof d.client_addr, "%s", client && *client ? client : "unknown");
    d.status = LK_DEVICE_PENDING;
    d.created_at = now;
    d.expires_at = now + ttl_of(svc);
    d.interval = LK_DEVICE_INTERVAL;
    rc = LK_ECONFLICT;
    for (int i = 0; i < LK_DEVICE_CREATE_TRIES && rc == LK_ECONFLICT; i++) {
        sodium_memzero(out, sizeof *out);
        draw_codes(&d, out);
        rc = svc->st->ops->device_create(svc->st, &d, now);
    }
    if (rc != LK_OK) {
        sodium_memzero(out, sizeof *out);
        return store_err(svc, rc);
    }
    out->expires_in = d.expires_at - now;
    out->interval = d.interval;
    return LK_OK;
}

/* --- poll ------------------------------------------------------------------- */

/* Mint the approver's key and mark the request used, in one store call. */
static int redeem(lk_svc *svc, const lk_device *d, int64_t now, lk_key *key,
                  char token[LK_TOKEN_SIZE])
{
    uint8_t hash[LK_TOKEN_HASH_LEN];
    memset(key, 0, sizeof *key);
    key->type = LK_KEY_PERSONAL;
    memcpy(key->user_id, d->user_id, sizeof key->user_id);
    memcpy(key->created_by, d->user_id, sizeof key->created_by);
    memcpy(key->name, d->client_name, sizeof key->name);
    lk_id_new("key_", key->id);
    key->created_at = now;
    key->scopes = d->scopes; /* what the CLI asked for (closed mask; all by default) */
    int rc = lk_token_generate(LK_TOKEN_PERSONAL, token);
    if (rc != LK_OK) return lk_err_set(&svc->err, rc, NULL);
    lk_token_hash(token, LK_TOKEN_LEN, hash);
    lk_token_redact(token, key->redacted);
    /* access_key.created in the approver's security log, in the redeem's
     * transaction; the actor is the approver (the poll itself is anonymous) */
    lk_principal approver = {.kind = LK_PRINCIPAL_SESSION};
    memcpy(approver.user_id, d->user_id, sizeof approver.user_id);
    const char *kv[] = {"via", "device_sign_in"};
    char details[LK_AUDIT_DETAILS_SIZE];
    lk_audit_details(details, kv, 1);
    if ((rc = lk_audit_begin(svc)) == LK_OK) {
        rc = svc->st->ops->device_redeem(svc->st, d->device_hash, now, key, hash);
        rc = lk_audit_end(svc, rc,
                          &(lk_audit){LK_AUDIT_KEY_CREATED, &approver, NULL, d->user_id,
                                      "access_key", key->id, key->name, .details = details});
    }
    sodium_memzero(hash, sizeof hash);
    if (rc != LK_OK) {
        sodium_memzero(token, LK_TOKEN_SIZE);
        if (rc == LK_ENOT_FOUND) return lk_err_set(&svc->err, LK_EEXPIRED_TOKEN, NULL);
        return store_err(svc, rc);
    }
    lk_key stored;
    if (svc->st->ops->key_get(svc->st, key->id, &stored) == LK_OK) *key = stored;
    return LK_OK;
}

/* The answer for a request that is not to be redeemed now. */
static int poll_state(lk_svc *svc, const lk_device *d, int64_t now)
{
    if (d->last_poll_at > 0 && now - d->last_poll_at < d->interval) {
        int64_t iv = d->interval + LK_DEVICE_SLOW_DOWN;
        if (iv > LK_DEVICE_INTERVAL_MAX) iv = LK_DEVICE_INTERVAL_MAX;
        int rc = svc->st->ops->device_poll(svc->st, d->device_hash, now, iv);
        if (rc != LK_OK) return store_err(svc, rc);
        return lk_err_setf(&svc->err, LK_ESLOW_DOWN,
                           "polling too fast: wait %lld seconds between polls", (long long)iv);
    }
    int rc = svc->st->ops->device_poll(svc->st, d->device_hash, now, d->interval);
    if (rc != LK_OK) return store_err(svc, rc);
    if (d->status == LK_DEVICE_DENIED) return lk_err_set(&svc->err, LK_EACCESS_DENIED, NULL);
    if (d->status == LK_DEVICE_PENDING) return lk_err_set(&svc->err, LK_EAUTH_PENDING, NULL);
    return LK_OK; /* approved */
}

int lk_svc_device_token(lk_svc *svc, const char *device_code, size_t len, lk_key *key,
                        char token[LK_TOKEN_SIZE])
{
    begin(svc);
    lk_device d;
    uint8_t hash[LK_TOKEN_HASH_LEN];
    int64_t now = now_of(svc);
    memset(key, 0, sizeof *key);
    token[0] = '\0';
    if (device_code_hash(device_code, len, hash) != 0)
        return lk_err_set(&svc->err, LK_EEXPIRED_TOKEN, NULL);
    int rc = svc->st->ops->device_get(svc->st, hash, &d);
    sodium_memzero(hash, sizeof hash);
    if (rc == LK_ENOT_FOUND || (rc == LK_OK && (d.status == LK_DEVICE_USED || now >= d.expires_at)))
        return lk_err_set(&svc->err, LK_EEXPIRED_TOKEN, NULL);
    if (rc != LK_OK) return store_err(svc, rc);
    if ((rc = poll_state(svc, &d, now)) != LK_OK) return rc;
    assert(d.status == LK_DEVICE_APPROVED);
    return redeem(svc, &d, now, key, token);
}

/* --- lookup, approve, deny ---------------------------------------------------- */

/* A session's pending request for this user_code into *d (throttled). */
static int find_pending(lk_svc *svc, const lk_principal *p, const char *code, size_t len,
                        const char *client, int64_t now, lk_device *d, char show[LK_USER_CODE_SIZE])
{
    char canon[LK_USER_CODE_LEN + 1];
    uint8_t hash[LK_TOKEN_HASH_LEN];
    int rc = lk_authz_check(svc, p, LK_ACT_DEVICE_DECIDE, NULL);
    if (rc != LK_OK) return rc;
    rc = guess_check(svc, client, now);
    if (rc != LK_OK) return rc;
    if (lk_device_user_code_canon(code, len, canon) != 0) return guess_failed(svc, client, now);
    user_code_hash(canon, hash);
    user_code_show(canon, show);
    sodium_memzero(canon, sizeof canon);
    rc = svc->st->ops->device_get_by_user(svc->st, hash, d);
    sodium_memzero(hash, sizeof hash);
    if (rc == LK_ENOT_FOUND ||
        (rc == LK_OK && (d->status != LK_DEVICE_PENDING || now >= d->expires_at)))
        return guess_failed(svc, client, now);
    return rc == LK_OK ? LK_OK : store_err(svc, rc);
}

int lk_svc_device_lookup(lk_svc *svc, const lk_principal *p, const char *user_code, size_t len,
                         const char *client, lk_device_info *out)
{
    begin(svc);
    lk_device d;
    memset(out, 0, sizeof *out);
    int rc = find_pending(svc, p, user_code, len, client, now_of(svc), &d, out->user_code);
    if (rc != LK_OK) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    memcpy(out->client_name, d.client_name, sizeof out->client_name);
    memcpy(out->client_addr, d.client_addr, sizeof out->client_addr);
    out->scopes = d.scopes;
    out->created_at = d.created_at;
    out->expires_at = d.expires_at;
    return LK_OK;
}

int lk_svc_device_decide(lk_svc *svc, const lk_principal *p, const char *user_code, size_t len,
                         const char *client, bool approve)
{
    begin(svc);
    lk_device d;
    char show[LK_USER_CODE_SIZE];
    int64_t now = now_of(svc);
    int rc = find_pending(svc, p, user_code, len, client, now, &d, show);
    if (rc != LK_OK) return rc;
    rc = svc->st->ops->device_decide(
        svc->st, d.user_hash, approve ? LK_DEVICE_APPROVED : LK_DEVICE_DENIED, p->user_id, now);
    if (rc == LK_ENOT_FOUND) return lk_err_set(&svc->err, LK_ENOT_FOUND, CODE_NF);
    return rc == LK_OK ? LK_OK : store_err(svc, rc);
}
