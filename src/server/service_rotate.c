/*
 * service_rotate.c — the key lifecycle use-cases of service.h's "rotate"
 * block: rotating a key's token with a grace period, and the public
 * leaked-token report that revokes whatever it is given.
 *
 *     api_rotate.c ──► this file ──► authz (via lk_svc__key_find) ──► store
 *
 * Rotation: a key keeps its id, name, type, owner and expiry and gets a new
 * token; the old token's hash becomes the key's one previous hash until
 * now + grace (the store's clock decides, so every process sharing the
 * store ends it at the same moment); grace 0 keeps none. Rotating again
 * replaces the previous hash, so an earlier previous token ends at once;
 * deleting the key ends both (one row).
 *
 * Leaked-token reports (no oracle): the answer is the same 202 for live,
 * dead and bogus tokens, and so is the work — every entry up to
 * LK_LEAK_TOKEN_MAX bytes is hashed and goes through the same store call
 * (key_revoke_token: the same statements whether or not a row matches),
 * all in one transaction, whatever its format, and every report ends with
 * the same write: leak_report_count adds it to the day's counts (no token,
 * hash or address stored). So every report commits a write — one fsync
 * on SQLite, one WAL flush on PostgreSQL — and an all-bogus report is no
 * longer a read-only transaction that commits for free. What a live token
 * adds is its row's delete and its audit event in that same commit; the
 * answer's fixed floor (api_rotate.c) hides that (measured in
 * docs/security.md). Reports are throttled per client
 * address before any work is done.
 *
 * Invariants: a token exists only in the caller's buffer (rotate) or the
 * request body (reports); local hashes are wiped; nothing here logs a
 * token, and source/url reach only the audit hook, cut and stripped of
 * control characters.
 */
#include "service.h"

#include "timefmt.h"
#include "validate.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char *KEY_NF = "access key not found";
#define GRACE_TEXT_SIZE 24 /* an int64 in decimal */

/* --- rotation ------------------------------------------------------------- */

int lk_svc_key_rotate(lk_svc *svc, const lk_principal *p, const char *org_id, const char *key_id,
                      int64_t grace_secs, lk_key *out, char token[LK_TOKEN_SIZE])
{
    lk_key k;
    uint8_t hash[LK_TOKEN_HASH_LEN];
    char redacted[LK_TOKEN_REDACTED_SIZE];
    token[0] = '\0';
    memset(out, 0, sizeof(*out));
    int rc = lk_svc__key_find(svc, p, org_id, key_id, &k);
    if (rc) return rc;
    if (grace_secs < 0 || grace_secs > LK_ROTATE_GRACE_MAX)
        return lk_err_field(&svc->err, "grace_period_seconds",
                            "must be an integer from 0 to 604800 (7 days)");

    rc = lk_token_generate(k.type == LK_KEY_ORG ? LK_TOKEN_ORG : LK_TOKEN_PERSONAL, token);
    if (rc != LK_OK) return lk_err_set(&svc->err, rc, NULL);
    lk_token_hash(token, LK_TOKEN_LEN, hash);
    lk_token_redact(token, redacted);
    char grace[GRACE_TEXT_SIZE], details[LK_AUDIT_DETAILS_SIZE];
    snprintf(grace, sizeof grace, "%lld", (long long)grace_secs);
    const char *kv[] = {"grace_period_seconds", grace};
    lk_audit_details(details, kv, 1);
    if ((rc = lk_audit_begin(svc)) == LK_OK) {
        rc = svc->st->ops->key_rotate(svc->st, k.id, hash, redacted, grace_secs, out);
        if (rc != LK_OK) lk_svc__store_err(svc, rc, KEY_NF);
        rc = lk_audit_end(svc, rc,
                          &(lk_audit){LK_AUDIT_KEY_ROTATED, p, k.org_id[0] ? k.org_id : NULL,
                                      k.org_id[0] ? NULL : k.user_id, "access_key", k.id, k.name,
                                      .details = details});
    }
    sodium_memzero(hash, sizeof(hash));
    if (rc != LK_OK) {
        sodium_memzero(token, LK_TOKEN_SIZE);
        memset(out, 0, sizeof(*out));
        return rc;
    }
    /* Housekeeping on the way: expired previous hashes of any key. A
     * failure here does not undo the rotation. */
    (void)svc->st->ops->key_purge_previous(svc->st, NULL);
    return LK_OK;
}

int lk_svc_purge_previous(lk_svc *svc)
{
    lk_svc__begin(svc);
    int rc = svc->st->ops->key_purge_previous(svc->st, NULL);
    return rc ? lk_svc__store_err(svc, rc, NULL) : LK_OK;
}

/* --- leaked-token reports --------------------------------------------------- */

/* The audit hook: one call per revoked key, inside the report's
 * transaction. The reporter is anonymous (its address is the origin). */
int lk_svc_on_key_revoked_leaked(lk_svc *svc, const lk_key *k, bool previous, const char *source,
                                 const char *url)
{
    char details[LK_AUDIT_DETAILS_SIZE];
    const char *kv[] = {"source", source, "url", url, "token", previous ? "previous" : "current"};
    lk_audit_details(details, kv, 3);
    bool org = k->org_id[0] != '\0';
    return lk_audit_insert(svc, &(lk_audit){LK_AUDIT_KEY_REVOKED_LEAKED, NULL,
                                            org ? k->org_id : NULL, org ? NULL : k->user_id,
                                            "access_key", k->id, k->name, .details = details});
}

/* The length of the UTF-8 sequence that starts with lead byte c (the input
 * is valid UTF-8: jansson checked it); 1 for anything unexpected. */
static size_t utf8_len(unsigned char c)
{
    return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

/* Copy whole characters of s into out (at most cap-1 bytes, so a cut never
 * splits a character), leaving out control characters: C0, DEL and C1
 * (U+0080..U+009F, which some terminals take as escapes). "" for NULL. */
static void clean_copy(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    assert(cap > 0);
    for (size_t i = 0; s != NULL && i < len;) {
        const unsigned char *c = (const unsigned char *)s + i;
        size_t n = utf8_len(c[0]);
        if (n > len - i) break;
        i += n;
        if (c[0] < 0x20 || c[0] == 0x7f || (c[0] == 0xC2 && c[1] < 0xA0)) continue;
        if (o + n >= cap) break;
        memcpy(out + o, c, n);
        o += n;
    }
    out[o] = '\0';
}

static int leak_throttle(lk_svc *svc, const char *client, int64_t now)
{
    if (svc->rl == NULL || client == NULL) return LK_OK;
    /* ratelimit.h's LEAK_REPORT_CLIENT rule: 60 reports an hour per
     * address, generous for a scanner (100 tokens each), small for a flood */
    int wait = lk_ratelimit_check_fail(svc->rl, LK_RL_LEAK_REPORT_CLIENT, client, NULL, now);
    if (wait <= 0) return LK_OK;
    lk_err_set(&svc->err, LK_ERATE_LIMITED, "too many reports from this address; try again later");
    svc->err.retry_after = wait;
    return LK_ERATE_LIMITED;
}

/* Hash and revoke one entry; the hook for what was found (counted in
 * *revoked). */
static int revoke_one(lk_svc *svc, const char *tok, size_t len, const char *source, const char *url,
                      int64_t *revoked)
{
    uint8_t hash[LK_TOKEN_HASH_LEN];
    lk_key k;
    bool previous = false;
    lk_token_hash(tok, len, hash);
    int rc = svc->st->ops->key_revoke_token(svc->st, hash, &k, &previous);
    sodium_memzero(hash, sizeof(hash));
    if (rc == LK_OK) {
        (*revoked)++;
        rc = lk_svc_on_key_revoked_leaked(svc, &k, previous, source, url);
    }
    return rc == LK_ENOT_FOUND ? LK_OK : rc;
}

int lk_svc_report_leaked(lk_svc *svc, const lk_leak_report *r, const char *client)
{
    lk_svc__begin(svc);
    char source[LK_LEAK_SOURCE_MAX + 1], url[LK_LEAK_URL_MAX + 1];
    int64_t now = lk_svc__now(svc);
    int rc = leak_throttle(svc, client, now);
    if (rc) return rc;
    if (r->n < 1 || r->n > LK_LEAK_MAX_TOKENS)
        return lk_err_field(&svc->err, "tokens", "must hold 1 to 100 tokens");
    clean_copy(r->source, r->source_len, source, sizeof(source));
    clean_copy(r->url, r->url_len, url, sizeof(url));

    int64_t revoked = 0;
    if ((rc = svc->st->ops->begin(svc->st)) != LK_OK) return lk_svc__store_err(svc, rc, NULL);
    for (size_t i = 0; i < r->n && rc == LK_OK; i++) {
        if (r->lens[i] > LK_LEAK_TOKEN_MAX) continue; /* cannot be a token */
        rc = revoke_one(svc, r->tokens[i], r->lens[i], source, url, &revoked);
    }
    /* the write every report makes, whatever it held: see the top */
    if (rc == LK_OK)
        rc = svc->st->ops->leak_report_count(svc->st, now, (int64_t)r->n, revoked);
    if (rc == LK_OK) rc = svc->st->ops->commit(svc->st);
    if (rc != LK_OK) {
        lk_svc__store_err(svc, rc, NULL);
        (void)svc->st->ops->rollback(svc->st);
    }
    return rc;
}
