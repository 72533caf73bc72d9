/*
 * service_account.c — account security (service.h, "account security"):
 * login with the session's origin and the per-user session cap, the
 * throttles in front of signup and login, password change, the sessions
 * list, revoking one session, and the purge of expired sessions.
 *
 * Throttles (ratelimit.h: one table per rule, a window over its limit is
 * never evicted). Keys: an email is its lower-cased form; a client is its
 * throttle key (lk_clientaddr_throttle_key: IPv4 address, or IPv6 /64, so
 * a /64 cannot mint 2^64 fresh budgets); the (email, client) pair joins
 * both with a byte no email holds. On a login or a password change:
 *   LOGIN_PAIR    (email, client)  the guesser at one address
 *   LOGIN_EMAIL   email, paced     many addresses at one account: slows
 *                                  them; refuses the owner for at most
 *                                  LK_RL_PACE_MAX after their burst
 *   LOGIN_CLIENT  client           one address spraying many accounts
 * are checked before any password work (a refused attempt costs no
 * argon2id) and counted when the password is wrong; a success forgets
 * the pair and the email. Signups are counted per client and overall
 * (SIGNUP_CLIENT, SIGNUP_GLOBAL) by lk_svc_signup_admit, which the HTTP
 * layer calls before it queues the argon2id work, so a flood cannot fill
 * the worker queue that logins share.
 *
 * Sessions: ids "ses_…", the client address and User-Agent (printable
 * ASCII, capped) at login, last_seen_at noted per request by the HTTP
 * layer's lk_usage buffer and written in batches. The store op that
 * creates a session keeps at most LK_SESSIONS_PER_USER_MAX (oldest end)
 * and drops the user's expired ones in the same transaction.
 *
 * Never: a password, a session token or a CSRF token in a message or a
 * log; every buffer that held one is wiped before return.
 */
#include "service.h"

#include "authz.h"
#include "clientaddr.h"
#include "password.h"
#include "timefmt.h"

#include <assert.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PAIR_SEP '\x1f' /* between email and client in a pair key */
#define PAIR_KEY_SIZE (LK_EMAIL_SIZE + 1 + LK_THROTTLE_KEY_SIZE)
#define SESSION_VALUE_BYTES 32
#define SESSION_NF "session not found"
#define US_PER_SEC INT64_C(1000000)
#define NS_PER_US 1000
/* Rows a sessions list asks the store for at most: a user has at most
 * LK_SESSIONS_PER_USER_MAX; a database from before the cap may hold more
 * until that user's next login. */
#define SESSION_LIST_ROWS_MAX (LK_LIST_MAX_LIMIT + 1)

/* --- helpers ----------------------------------------------------------------- */

static int limited(lk_svc *svc, int wait, const char *msg)
{
    assert(wait > 0);
    lk_err_set(&svc->err, LK_ERATE_LIMITED, msg);
    svc->err.retry_after = wait;
    return LK_ERATE_LIMITED;
}

void lk_svc_throttle_key(const char *client, char *out, size_t size)
{
    lk_addr a;
    char key[LK_THROTTLE_KEY_SIZE];
    assert(size > 0);
    out[0] = '\0';
    if (client == NULL || client[0] == '\0') return;
    if (lk_addr_parse(client, strlen(client), &a, NULL, NULL) == LK_OK) {
        lk_clientaddr_throttle_key(&a, key);
        snprintf(out, size, "%s", key);
    } else {
        snprintf(out, size, "%s", client);
    }
}

static void throttle_key(const char *client, char out[LK_THROTTLE_KEY_SIZE])
{
    lk_svc_throttle_key(client, out, LK_THROTTLE_KEY_SIZE);
}

/* The keys of one login attempt. email "" when it is not a valid email
 * (no account can have it: only the client rules apply). */
typedef struct login_keys {
    char email[LK_EMAIL_SIZE];
    char client[LK_THROTTLE_KEY_SIZE];
    char pair[PAIR_KEY_SIZE];
} login_keys;

static void login_keys_init(login_keys *k, const char *lower, const char *client)
{
    snprintf(k->email, sizeof k->email, "%s", lower ? lower : "");
    throttle_key(client, k->client);
    snprintf(k->pair, sizeof k->pair, "%s%c%s", k->email, PAIR_SEP, k->client);
}

/* 0 if the attempt may go on, else LK_ERATE_LIMITED with the longest wait. */
static int login_check(lk_svc *svc, const login_keys *k, int64_t now)
{
    if (svc->rl == NULL) return LK_OK;
    const lk_ratelimit_rule *client_rule = svc->cfg ? &svc->cfg->login_per_client : NULL;
    if (client_rule && client_rule->max_failures == 0 && client_rule->window_secs == 0)
        client_rule = NULL;
    int w = 0, x;
    if (k->email[0]) {
        if ((x = lk_ratelimit_check(svc->rl, LK_RL_LOGIN_EMAIL, k->email, NULL, now)) > w) w = x;
        if ((x = lk_ratelimit_check(svc->rl, LK_RL_LOGIN_PAIR, k->pair, NULL, now)) > w) w = x;
    }
    if (k->client[0] &&
        (x = lk_ratelimit_check(svc->rl, LK_RL_LOGIN_CLIENT, k->client, client_rule, now)) > w)
        w = x;
    return w > 0 ? limited(svc, w, "too many failed sign-in attempts; try again later") : LK_OK;
}

static void login_failed(lk_svc *svc, const login_keys *k, int64_t now)
{
    if (svc->rl == NULL) return;
    const lk_ratelimit_rule *client_rule = svc->cfg ? &svc->cfg->login_per_client : NULL;
    if (client_rule && client_rule->max_failures == 0 && client_rule->window_secs == 0)
        client_rule = NULL;
    if (k->email[0]) {
        lk_ratelimit_fail(svc->rl, LK_RL_LOGIN_EMAIL, k->email, NULL, now);
        lk_ratelimit_fail(svc->rl, LK_RL_LOGIN_PAIR, k->pair, NULL, now);
    }
    if (k->client[0]) lk_ratelimit_fail(svc->rl, LK_RL_LOGIN_CLIENT, k->client, client_rule, now);
}

static void login_succeeded(lk_svc *svc, const login_keys *k)
{
    if (svc->rl == NULL || !k->email[0]) return;
    lk_ratelimit_reset(svc->rl, LK_RL_LOGIN_EMAIL, k->email);
    lk_ratelimit_reset(svc->rl, LK_RL_LOGIN_PAIR, k->pair);
}

/* Does password match the stored hash of the account lower names? *out
 * gets the account (id "" when there is none; the caller clears it on a
 * mismatch, after noting the failure in the account's security log).
 * Unknown accounts cost a dummy verify, so the answer takes as long either
 * way. */
static int verify(lk_svc *svc, const char *lower, const char *password, size_t password_len,
                  lk_user *out, bool *match)
{
    char pwhash[LK_PWHASH_SIZE] = "";
    /* longer than the signup limit can never match; bound argon2's input */
    bool pw_ok = password != NULL && password_len <= LK_PASSWORD_MAX * 4;
    int rc = LK_ENOT_FOUND;
    *match = false;
    if (lower[0]) rc = svc->st->ops->user_get_by_email(svc->st, lower, out, pwhash);
    if (rc != LK_OK && rc != LK_ENOT_FOUND) {
        sodium_memzero(pwhash, sizeof pwhash);
        return lk_svc__store_err(svc, rc, NULL);
    }
    if (rc == LK_OK && pw_ok)
        *match = lk_password_verify(pwhash, password, password_len);
    else if (pw_ok)
        (void)lk_password_verify_dummy(password, password_len);
    sodium_memzero(pwhash, sizeof pwhash);
    if (rc != LK_OK) memset(out, 0, sizeof *out);
    return LK_OK;
}

/* A User-Agent as kept: printable ASCII, anything else '?', capped. */
static void agent_copy(const char *ua, size_t len, char out[LK_SESSION_UA_SIZE])
{
    size_t n = 0;
    for (size_t i = 0; ua != NULL && i < len && n + 1 < LK_SESSION_UA_SIZE; i++) {
        unsigned char c = (unsigned char)ua[i];
        out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[n] = '\0';
}

/* Login order in microseconds: now (seconds, the service's clock) plus
 * the real clock's fraction, strictly increasing within this process (so
 * "the oldest session ends" holds for logins in the same second). */
static _Atomic int64_t last_login_us;

static int64_t login_us(int64_t now)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t us = now * US_PER_SEC + ts.tv_nsec / NS_PER_US;
    int64_t prev = atomic_load(&last_login_us);
    while (!atomic_compare_exchange_weak(&last_login_us, &prev, us > prev ? us : prev + 1))
        ;
    return us > prev ? us : prev + 1;
}

/* A new session for u into the store; session_token and csrf filled. */
static int session_open(lk_svc *svc, const lk_user *u, const lk_svc_origin *from, int64_t now,
                        char session_token[LK_SESSION_TOKEN_SIZE], char csrf[LK_CSRF_SIZE])
{
    lk_session s;
    uint8_t hash[LK_TOKEN_HASH_LEN], rnd[SESSION_VALUE_BYTES];
    memset(&s, 0, sizeof s);
    memcpy(s.user_id, u->id, sizeof s.user_id);
    lk_id_new("ses_", s.id);
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2base64(s.csrf, sizeof s.csrf, rnd, sizeof rnd,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2base64(session_token, LK_SESSION_TOKEN_SIZE, rnd, sizeof rnd,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(rnd, sizeof rnd);
    s.created_at = s.last_seen_at = now;
    s.created_us = login_us(now);
    s.expires_at = now + LK_SESSION_TTL;
    if (from && from->client) snprintf(s.ip, sizeof s.ip, "%s", from->client);
    if (from) agent_copy(from->user_agent, from->user_agent_len, s.user_agent);
    crypto_hash_sha256(hash, (const unsigned char *)session_token, strlen(session_token));
    lk_principal self = {.kind = LK_PRINCIPAL_SESSION};
    memcpy(self.user_id, u->id, sizeof self.user_id);
    int rc = lk_audit_begin(svc);
    if (rc == LK_OK) {
        rc = svc->st->ops->session_create_capped(svc->st, hash, &s, LK_SESSIONS_PER_USER_MAX, now);
        rc = lk_audit_end(svc, rc,
                          &(lk_audit){LK_AUDIT_USER_LOGGED_IN, &self, NULL, u->id, "user", u->id,
                                      u->name});
    }
    if (rc == LK_OK)
        memcpy(csrf, s.csrf, LK_CSRF_SIZE);
    else
        sodium_memzero(session_token, LK_SESSION_TOKEN_SIZE);
    sodium_memzero(&s, sizeof s);
    return rc == LK_OK ? LK_OK : lk_svc__store_err(svc, rc, "user not found");
}

/* --- login and signup --------------------------------------------------------- */

int lk_svc_login_from(lk_svc *svc, const char *email, size_t email_len, const char *password,
                      size_t password_len, const lk_svc_origin *from, lk_user *out,
                      char session_token[LK_SESSION_TOKEN_SIZE], char csrf[LK_CSRF_SIZE])
{
    lk_svc__clear(svc);
    memset(out, 0, sizeof *out);
    session_token[0] = '\0';
    csrf[0] = '\0';
    int64_t now = lk_svc__now(svc);
    char lower[LK_EMAIL_SIZE] = "";
    lk_err ignored;
    if (lk_validate_email(email, email_len, NULL, lower, "email", &ignored) != LK_OK)
        lower[0] = '\0';
    login_keys k;
    login_keys_init(&k, lower, from ? from->client : NULL);
    bool match;
    int rc = login_check(svc, &k, now);
    if (rc == LK_OK) rc = verify(svc, lower, password, password_len, out, &match);
    if (rc != LK_OK) return rc;
    if (!match) {
        if (lower[0] && out->id[0]) /* a known email: into its owner's security log */
            (void)lk_audit_record(svc, &(lk_audit){LK_AUDIT_USER_LOGIN_FAILED, NULL, NULL,
                                                   out->id, "user", out->id, out->name});
        memset(out, 0, sizeof *out);
        login_failed(svc, &k, now);
        return lk_err_set(&svc->err, LK_EUNAUTHENTICATED, "wrong email or password");
    }
    if ((rc = session_open(svc, out, from, now, session_token, csrf)) != LK_OK) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    login_succeeded(svc, &k);
    return LK_OK;
}

int lk_svc_login_admit(lk_svc *svc, const char *email, size_t email_len, const char *client)
{
    lk_err_clear(&svc->err);
    char lower[LK_EMAIL_SIZE] = "";
    lk_err ignored;
    if (lk_validate_email(email, email_len, NULL, lower, "email", &ignored) != LK_OK)
        lower[0] = '\0';
    login_keys k;
    login_keys_init(&k, lower, client);
    return login_check(svc, &k, lk_svc__now(svc));
}

int lk_svc_signup_admit(lk_svc *svc, const char *client)
{
    lk_err_clear(&svc->err);
    if (svc->rl == NULL) return LK_OK;
    char key[LK_THROTTLE_KEY_SIZE];
    int64_t now = lk_svc__now(svc);
    throttle_key(client, key);
    int w = key[0] ? lk_ratelimit_check_fail(svc->rl, LK_RL_SIGNUP_CLIENT, key, NULL, now) : 0;
    if (w > 0) return limited(svc, w, "too many sign-ups from this address; try again later");
    w = lk_ratelimit_check_fail(svc->rl, LK_RL_SIGNUP_GLOBAL, LK_RL_GLOBAL_KEY, NULL, now);
    if (w > 0) return limited(svc, w, "too many sign-ups right now; try again later");
    return LK_OK;
}

/* --- password ------------------------------------------------------------------ */

int lk_svc_password_change(lk_svc *svc, const lk_principal *p, const char *current,
                           size_t current_len, const char *next, size_t next_len,
                           const char *client)
{
    lk_svc__clear(svc);
    int rc = lk_authz_check(svc, p, LK_ACT_SELF, NULL);
    if (rc) return rc;
    if ((rc = lk_validate_password(next, next_len, &svc->err)) != LK_OK) {
        char why[LK_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", svc->err.message);
        return lk_err_field(&svc->err, "new_password", why);
    }
    lk_user u;
    char lower[LK_EMAIL_SIZE], pwhash[LK_PWHASH_SIZE];
    if ((rc = svc->st->ops->user_get(svc->st, p->user_id, &u)) != LK_OK)
        return lk_svc__store_err(svc, rc, "user not found");
    if ((rc = lk_validate_email(u.email, strlen(u.email), NULL, lower, "email", &svc->err)))
        return rc;
    int64_t now = lk_svc__now(svc);
    login_keys k;
    login_keys_init(&k, lower, client);
    bool match;
    if ((rc = login_check(svc, &k, now)) ||
        (rc = verify(svc, lower, current, current_len, &u, &match)))
        return rc;
    if (!match) {
        login_failed(svc, &k, now);
        return lk_err_field(&svc->err, "current_password", "current password is wrong");
    }
    if ((rc = lk_password_hash(next, next_len, pwhash)) != LK_OK)
        return lk_err_set(&svc->err, rc, NULL);
    const char *keep = p->kind == LK_PRINCIPAL_SESSION ? p->session.id : "";
    if ((rc = lk_audit_begin(svc)) == LK_OK) {
        rc = svc->st->ops->user_set_password(svc->st, p->user_id, pwhash, keep);
        if (rc != LK_OK) lk_svc__store_err(svc, rc, "user not found");
        rc = lk_audit_end(svc, rc,
                          &(lk_audit){LK_AUDIT_USER_PASSWORD_CHANGED, p, NULL, p->user_id,
                                      "user", p->user_id, u.name});
    }
    sodium_memzero(pwhash, sizeof pwhash);
    if (rc != LK_OK) return rc;
    login_succeeded(svc, &k);
    return LK_OK;
}

/* --- sessions ------------------------------------------------------------------- */

typedef struct session_pager {
    lk_session_cb cb;
    void *ctx;
    int64_t skip; /* rows before the page (the cursor) */
    int left;     /* rows of the page still to hand out */
    bool more;    /* the store had a row after the page */
} session_pager;

static int session_tramp(void *c, const lk_session *s)
{
    session_pager *pg = c;
    if (pg->skip > 0) {
        pg->skip--;
        return 0;
    }
    if (pg->left == 0) {
        pg->more = true;
        return 1; /* stop: this row only says there is a next page */
    }
    pg->left--;
    return pg->cb(pg->ctx, s);
}

int lk_svc_session_list(lk_svc *svc, const lk_principal *p, lk_list *l, lk_session_cb cb, void *ctx)
{
    lk_svc__clear(svc);
    int rc = lk_authz_check(svc, p, LK_ACT_SELF, NULL);
    if (rc) return rc;
    int64_t offset = l->page.before_seq;
    session_pager pg = {cb, ctx, offset, l->page.limit, false};
    l->next = 0;
    if (offset >= SESSION_LIST_ROWS_MAX) return LK_OK; /* past any list */
    int max = (int)offset + l->page.limit + 1;
    if (max > SESSION_LIST_ROWS_MAX) max = SESSION_LIST_ROWS_MAX;
    rc = svc->st->ops->session_list(svc->st, p->user_id, lk_svc__now(svc), max, session_tramp, &pg);
    if (rc < 0) return lk_svc__store_err(svc, rc, NULL);
    if (pg.more) l->next = offset + l->page.limit;
    return LK_OK;
}

bool lk_svc_session_is_current(const lk_principal *p, const lk_session *s)
{
    return p != NULL && p->kind == LK_PRINCIPAL_SESSION && p->session.id[0] != '\0' &&
           strcmp(p->session.id, s->id) == 0;
}

int lk_svc_session_revoke(lk_svc *svc, const lk_principal *p, const char *session_id)
{
    lk_svc__clear(svc);
    int rc = lk_authz_check(svc, p, LK_ACT_SELF, NULL);
    if (rc) return rc;
    if (session_id == NULL || !lk_id_valid("ses_", session_id, strnlen(session_id, LK_ID_SIZE)))
        return lk_err_set(&svc->err, LK_ENOT_FOUND, SESSION_NF);
    if ((rc = lk_audit_begin(svc)) != LK_OK) return rc;
    rc = svc->st->ops->session_delete_id(svc->st, p->user_id, session_id);
    if (rc != LK_OK) lk_svc__store_err(svc, rc, SESSION_NF);
    return lk_audit_end(svc, rc,
                        &(lk_audit){LK_AUDIT_USER_SESSION_REVOKED, p, NULL, p->user_id, "session",
                                    session_id, NULL});
}

int lk_svc_session_purge(lk_svc *svc)
{
    lk_svc__clear(svc);
    int64_t purged = 0;
    int rc = svc->st->ops->session_purge(svc->st, lk_svc__now(svc), &purged);
    return rc ? lk_svc__store_err(svc, rc, NULL) : LK_OK;
}
