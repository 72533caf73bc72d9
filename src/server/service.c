/*
 * service.c — latchkey's use-cases (service.h), between the HTTP handlers
 * and the store.
 *
 * Every function here follows the same order:
 *   1. authz: lk_authz_check() for the action (the contract's table);
 *   2. validation: ids from the path (a malformed id is a plain 404, no
 *      store call), names, emails, times (validate.h);
 *   3. store calls, translating LK_ENOT_FOUND into a message that names
 *      the thing ("organization not found", "access key not found").
 *
 * Secrets: session cookie values and tokens live only in caller buffers
 * and in local buffers that are wiped before return; only their SHA-256
 * hashes reach the store. Passwords go to password.c and nowhere else.
 * Nothing here logs.
 *
 * Lists: the store is asked for limit + 1 rows; at most `limit` reach the
 * caller's callback, and the extra row only tells that a next page exists
 * (l->next = seq of the last row handed out; the next page lists rows with
 * a smaller seq).
 */
#include "service.h"

#include "authz.h"
#include "password.h"
#include "timefmt.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* --- small helpers -------------------------------------------------------- */

void lk_svc_config_init(lk_svc_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->signup_open = true;
    cfg->login_per_email =
        (lk_ratelimit_rule){LK_LOGIN_EMAIL_MAX_FAILURES, LK_LOGIN_EMAIL_WINDOW};
    cfg->login_per_client =
        (lk_ratelimit_rule){LK_LOGIN_CLIENT_MAX_FAILURES, LK_LOGIN_CLIENT_WINDOW};
    cfg->bearer_per_client = (lk_ratelimit_rule){LK_BEARER_MAX_FAILURES, LK_BEARER_WINDOW};
    cfg->now = NULL;
}

static int64_t now_of(const lk_svc *svc)
{
    return svc->cfg && svc->cfg->now ? svc->cfg->now() : lk_time_now();
}

/* The configured rule, or the default when the config left it all zero. */
static lk_ratelimit_rule rule_of(const lk_ratelimit_rule *r, int max, int window)
{
    if (r == NULL || (r->max_failures == 0 && r->window_secs == 0))
        return (lk_ratelimit_rule){max, window};
    return *r;
}

/* Translate a store failure into svc->err. not_found names the missing
 * thing (NULL: keep the store's message). */
static int store_err(lk_svc *svc, int rc, const char *not_found)
{
    if (rc == LK_ENOT_FOUND && not_found) return lk_err_set(&svc->err, rc, not_found);
    lk_err_set(&svc->err, rc, svc->st->err.message[0] ? svc->st->err.message : NULL);
    return rc;
}

static bool id_ok(const char *prefix, const char *id)
{
    return id != NULL && lk_id_valid(prefix, id, strnlen(id, LK_ID_SIZE));
}

void lk_svc__clear(lk_svc *svc)
{
    lk_err_clear(&svc->err);
    lk_err_clear(&svc->st->err);
}

static void begin(lk_svc *svc)
{
    svc->expired_credential = false;
    lk_svc__clear(svc);
}

/* The person acting (a session's or a personal key's user), or NULL: whose
 * security log a personal event goes to. */
static const char *person_of(const lk_principal *p)
{
    return p && (p->kind == LK_PRINCIPAL_SESSION || p->kind == LK_PRINCIPAL_PERSONAL_KEY)
               ? p->user_id
               : NULL;
}

/* --- pagination ----------------------------------------------------------- */

#define LK__STR(x) #x
#define LK_STR(x) LK__STR(x)
#define LIMIT_MSG "must be an integer from 1 to " LK_STR(LK_LIST_MAX_LIMIT)
#define LIMIT_DIGITS_MAX 4 /* digits of LK_LIST_MAX_LIMIT */
_Static_assert(LK_LIST_MAX_LIMIT >= 1000 && LK_LIST_MAX_LIMIT < 10000, "LIMIT_DIGITS_MAX");

/* `limit` as 1..LK_LIST_MAX_LIMIT, or 0 when it is anything else. */
static int parse_limit(const char *s, size_t n)
{
    if (n == 0 || n > LIMIT_DIGITS_MAX) return 0;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v <= LK_LIST_MAX_LIMIT ? v : 0;
}

/* Cursor: the seq of the last row of the previous page, as 1..15 lowercase
 * hex digits without leading zeros (so it is canonical and < 2^60). */
int lk_svc_parse_page(const char *limit, size_t limit_len, const char *cursor, size_t cursor_len,
                      lk_list *out, lk_err *e)
{
    out->page.limit = LK_LIST_DEFAULT_LIMIT;
    out->page.before_seq = 0;
    out->next = 0;
    if (limit != NULL) {
        int v = parse_limit(limit, limit_len);
        if (v < 1) return lk_err_field(e, "limit", LIMIT_MSG);
        out->page.limit = v;
    }
    if (cursor != NULL) {
        int64_t v = 0;
        if (cursor_len == 0 || cursor_len > 15 || cursor[0] == '0')
            return lk_err_field(e, "cursor", "is not a valid cursor");
        for (size_t i = 0; i < cursor_len; i++) {
            char c = cursor[i];
            int d;
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (c >= 'a' && c <= 'f')
                d = c - 'a' + 10;
            else
                return lk_err_field(e, "cursor", "is not a valid cursor");
            v = v * 16 + d;
        }
        out->page.before_seq = v;
    }
    return LK_OK;
}

void lk_svc_format_cursor(int64_t next, char out[LK_CURSOR_SIZE])
{
    snprintf(out, LK_CURSOR_SIZE, "%" PRIx64, (uint64_t)next);
}

/* One pager per list call: forwards at most `limit` rows to the caller and
 * remembers whether the store had one more. */
typedef struct pager {
    int limit, n;
    bool more;
    int64_t last_seq;
    void *ctx;
    lk_row_cb cb;
} pager;

/* true if this row is beyond the page (and records that there is more). */
static bool pager_take(pager *pg, int64_t seq)
{
    if (pg->n >= pg->limit) {
        pg->more = true;
        return false;
    }
    pg->n++;
    pg->last_seq = seq;
    return true;
}

static int org_tramp(void *c, const lk_org *o)
{
    pager *pg = c;
    return pager_take(pg, o->seq) ? pg->cb.org(pg->ctx, o) : 0;
}
static int member_tramp(void *c, const lk_member *m)
{
    pager *pg = c;
    return pager_take(pg, m->seq) ? pg->cb.member(pg->ctx, m) : 0;
}
static int project_tramp(void *c, const lk_project *p)
{
    pager *pg = c;
    return pager_take(pg, p->seq) ? pg->cb.project(pg->ctx, p) : 0;
}
static int env_tramp(void *c, const lk_env *v)
{
    pager *pg = c;
    return pager_take(pg, v->seq) ? pg->cb.env(pg->ctx, v) : 0;
}
static int key_tramp(void *c, const lk_key *k)
{
    pager *pg = c;
    return pager_take(pg, k->seq) ? pg->cb.key(pg->ctx, k) : 0;
}

/* The page to ask the store for: one row more than the caller wants. */
static lk_page pager_init(pager *pg, lk_list *l, void *ctx)
{
    memset(pg, 0, sizeof(*pg));
    int limit = l->page.limit;
    if (limit < 1) limit = LK_LIST_DEFAULT_LIMIT;
    if (limit > LK_LIST_MAX_LIMIT) limit = LK_LIST_MAX_LIMIT;
    pg->limit = limit;
    pg->ctx = ctx;
    l->next = 0;
    return (lk_page){.before_seq = l->page.before_seq, .limit = limit + 1};
}

/* After the store call: rc from the store or from the caller's callback. */
static int pager_done(lk_svc *svc, pager *pg, lk_list *l, int rc)
{
    if (rc != LK_OK) {
        if (svc->err.code == LK_OK) store_err(svc, rc, NULL);
        return rc;
    }
    l->next = pg->more ? pg->last_seq : 0;
    return LK_OK;
}

/* --- authentication ------------------------------------------------------ */

static int unauthenticated(lk_svc *svc)
{
    return lk_err_set(&svc->err, LK_EUNAUTHENTICATED, "invalid or expired credential");
}

static bool expired(int64_t expires_at, int64_t now)
{
    return expires_at > 0 && expires_at <= now;
}

/* lk_svc_auth_bearer with a ready address: hand it over as the callback. */
static void client_copy(void *ctx, char *out, size_t size)
{
    snprintf(out, size, "%s", (const char *)ctx);
}

int lk_svc_auth_bearer(lk_svc *svc, const char *token, size_t len, const char *client,
                       lk_principal *out)
{
    return lk_svc_auth_bearer_lazy(svc, token, len, client ? client_copy : NULL,
                                   (void *)(uintptr_t)client, 0, out);
}

/* A failed Bearer attempt: count it against the client address (429
 * while over the limit), else 401. */
static int bearer_failed(lk_svc *svc, lk_svc_client_fn client, void *ctx, int64_t now)
{
    if (svc->rl && client) {
        /* the client's throttle key (IPv6: its /64) in the Bearer table */
        char addr[LK_SVC_CLIENT_MAX], rk[LK_SVC_CLIENT_MAX];
        lk_ratelimit_rule r = rule_of(svc->cfg ? &svc->cfg->bearer_per_client : NULL,
                                      LK_BEARER_MAX_FAILURES, LK_BEARER_WINDOW);
        addr[0] = '\0';
        client(ctx, addr, sizeof(addr));
        addr[sizeof(addr) - 1] = '\0';
        lk_svc_throttle_key(addr, rk, sizeof(rk));
        /* refused (429) while over the limit, else counted (401) */
        int wait = lk_ratelimit_check_fail(svc->rl, LK_RL_BEARER_CLIENT, rk, &r, now);
        if (wait > 0) {
            lk_err_set(&svc->err, LK_ERATE_LIMITED,
                       "too many failed authentication attempts; try again later");
            svc->err.retry_after = wait;
            return LK_ERATE_LIMITED;
        }
    }
    return unauthenticated(svc);
}

bool lk_svc_bearer_hash(const char *token, size_t len, lk_token_kind *kind,
                        uint8_t hash[LK_TOKEN_HASH_LEN])
{
    if (token == NULL || lk_token_parse(token, len, kind) != LK_TOKEN_OK) return false;
    lk_token_hash(token, len, hash);
    return true;
}

int lk_svc_auth_bearer_lazy(lk_svc *svc, const char *token, size_t len, lk_svc_client_fn client,
                            void *ctx, unsigned flags, lk_principal *out)
{
    begin(svc);
    memset(out, 0, sizeof(*out));
    lk_token_kind kind = LK_TOKEN_PERSONAL;
    uint8_t hash[LK_TOKEN_HASH_LEN];
    if (!lk_svc_bearer_hash(token, len, &kind, hash))
        return lk_svc_auth_bearer_found(svc, kind, LK_EUNAUTHENTICATED, NULL, client, ctx, out);
    int rc;
    if (flags & LK_AUTH_OWNER) {
        rc = svc->st->ops->key_get_by_hash_owner(svc->st, hash, &out->key, &out->owner_user,
                                                 &out->owner_org);
        out->has_owner = rc == LK_OK;
    } else {
        rc = svc->st->ops->key_get_by_hash(svc->st, hash, &out->key);
    }
    return lk_svc_auth_bearer_found(svc, kind, rc, &svc->st->err, client, ctx, out);
}

int lk_svc_auth_bearer_found(lk_svc *svc, lk_token_kind kind, int rc, const lk_err *looked_up,
                             lk_svc_client_fn client, void *ctx, lk_principal *out)
{
    svc->expired_credential = false;
    lk_err_clear(&svc->err);
    int64_t now = now_of(svc);
    if (rc != LK_EUNAUTHENTICATED) { /* a well-formed token: the store's answer */
        if (rc == LK_OK && !expired(out->key.expires_at, now) &&
            ((kind == LK_TOKEN_ORG && out->key.type == LK_KEY_ORG) ||
             (kind == LK_TOKEN_PERSONAL && out->key.type == LK_KEY_PERSONAL))) {
            if (out->key.type == LK_KEY_ORG) {
                out->kind = LK_PRINCIPAL_ORG_KEY;
                memcpy(out->org_id, out->key.org_id, sizeof(out->org_id));
            } else {
                out->kind = LK_PRINCIPAL_PERSONAL_KEY;
                memcpy(out->user_id, out->key.user_id, sizeof(out->user_id));
            }
            lk_usage_note(svc->usage, svc->st, out->key.id, now);
            return LK_OK;
        }
        if (rc != LK_OK && rc != LK_ENOT_FOUND) {
            memset(out, 0, sizeof(*out));
            return lk_err_set(&svc->err, rc,
                              looked_up && looked_up->message[0] ? looked_up->message : NULL);
        }
        svc->expired_credential = rc == LK_OK && expired(out->key.expires_at, now); /* metrics */
    }
    memset(out, 0, sizeof(*out));
    return bearer_failed(svc, client, ctx, now);
}

/* A session cookie value: exactly 43 base64url characters (32 bytes). */
#define SESSION_VALUE_LEN 43
_Static_assert(LK_SESSION_TOKEN_SIZE > SESSION_VALUE_LEN, "session buffer");
_Static_assert(LK_CSRF_SIZE > SESSION_VALUE_LEN, "csrf buffer");

static bool session_value_ok(const char *s, size_t len)
{
    if (s == NULL || len != SESSION_VALUE_LEN) return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

int lk_svc_auth_session(lk_svc *svc, const char *cookie, size_t len, lk_principal *out)
{
    begin(svc);
    memset(out, 0, sizeof(*out));
    if (!session_value_ok(cookie, len)) return unauthenticated(svc);
    uint8_t hash[LK_TOKEN_HASH_LEN];
    crypto_hash_sha256(hash, (const unsigned char *)cookie, len);
    int rc = svc->st->ops->session_get(svc->st, hash, &out->session);
    if (rc == LK_ENOT_FOUND) return unauthenticated(svc);
    if (rc != LK_OK) return store_err(svc, rc, NULL);
    if (out->session.expires_at <= now_of(svc)) {
        svc->expired_credential = true; /* metrics */
        (void)svc->st->ops->session_delete(svc->st, hash);
        memset(out, 0, sizeof(*out));
        return unauthenticated(svc);
    }
    out->kind = LK_PRINCIPAL_SESSION;
    memcpy(out->user_id, out->session.user_id, sizeof(out->user_id));
    if (out->session.id[0]) lk_usage_note(svc->usage, svc->st, out->session.id, now_of(svc));
    return LK_OK;
}

int lk_svc_check_csrf(lk_svc *svc, const lk_principal *p, const char *hdr, size_t len)
{
    lk_err_clear(&svc->err);
    if (p == NULL || p->kind != LK_PRINCIPAL_SESSION) return LK_OK; /* bearer: no cookie, no CSRF */
    size_t want = strnlen(p->session.csrf, sizeof(p->session.csrf));
    if (hdr == NULL || want == 0 || len != want ||
        sodium_memcmp(hdr, p->session.csrf, want) != 0)
        return lk_err_set(&svc->err, LK_EFORBIDDEN, "missing or invalid X-CSRF-Token header");
    return LK_OK;
}

/* --- account -------------------------------------------------------------- */

int lk_svc_signup(lk_svc *svc, const char *email, size_t email_len, const char *password,
                  size_t password_len, const char *name, size_t name_len, lk_user *out)
{
    begin(svc);
    if (svc->cfg && !svc->cfg->signup_open)
        return lk_err_set(&svc->err, LK_EFORBIDDEN, "signup is closed");
    char lower[LK_EMAIL_SIZE];
    char pwhash[LK_PWHASH_SIZE];
    int rc;
    memset(out, 0, sizeof(*out));
    if ((rc = lk_validate_email(email, email_len, out->email, lower, "email", &svc->err)) ||
        (rc = lk_validate_password(password, password_len, &svc->err)) ||
        (rc = lk_validate_name(name, name_len, out->name, "name", &svc->err)))
        return rc;
    /* Cheap check first, so a taken email does not cost an argon2 hash. */
    lk_user existing;
    rc = svc->st->ops->user_get_by_email(svc->st, lower, &existing, NULL);
    if (rc == LK_OK) return lk_err_set(&svc->err, LK_ECONFLICT, "email is already registered");
    if (rc != LK_ENOT_FOUND) return store_err(svc, rc, NULL);
    if ((rc = lk_password_hash(password, password_len, pwhash)) != LK_OK)
        return lk_err_set(&svc->err, rc, NULL);
    lk_id_new("usr_", out->id);
    out->created_at = now_of(svc);
    lk_principal self = {.kind = LK_PRINCIPAL_SESSION};
    memcpy(self.user_id, out->id, sizeof(self.user_id));
    if ((rc = lk_audit_begin(svc)) == LK_OK) {
        rc = svc->st->ops->user_create(svc->st, out, lower, pwhash);
        rc = lk_audit_end(svc, rc,
                          &(lk_audit){LK_AUDIT_USER_SIGNED_UP, &self, NULL, out->id, "user",
                                      out->id, out->name});
    }
    sodium_memzero(pwhash, sizeof(pwhash));
    if (rc == LK_ECONFLICT) return lk_err_set(&svc->err, rc, "email is already registered");
    if (rc != LK_OK) return store_err(svc, rc, NULL);
    return LK_OK;
}


int lk_svc_login(lk_svc *svc, const char *email, size_t email_len, const char *password,
                 size_t password_len, const char *client, lk_user *out,
                 char session_token[LK_SESSION_TOKEN_SIZE], char csrf[LK_CSRF_SIZE])
{
    /* the throttles, the session's origin and the cap: service_account.c */
    lk_svc_origin from = {.client = client};
    return lk_svc_login_from(svc, email, email_len, password, password_len, &from, out,
                             session_token, csrf);
}

int lk_svc_logout(lk_svc *svc, const char *cookie, size_t len)
{
    begin(svc);
    if (!session_value_ok(cookie, len)) return LK_OK;
    uint8_t hash[LK_TOKEN_HASH_LEN];
    crypto_hash_sha256(hash, (const unsigned char *)cookie, len);
    int rc = svc->st->ops->session_delete(svc->st, hash);
    if (rc != LK_OK && rc != LK_ENOT_FOUND) return store_err(svc, rc, NULL);
    return LK_OK;
}

int lk_svc_whoami(lk_svc *svc, const lk_principal *p, lk_whoami *out)
{
    begin(svc);
    memset(out, 0, sizeof(*out));
    if (p == NULL || p->kind == LK_PRINCIPAL_NONE)
        return lk_err_set(&svc->err, LK_EUNAUTHENTICATED, "authentication required");
    int rc;
    out->kind = p->kind;
    /* A key authenticated with LK_AUTH_OWNER brought its owner along (same
     * statement, same snapshot as the key); an owner row that was gone then
     * reads as id "" and answers exactly as a failed look-up here would. */
    if (p->has_owner && p->kind == LK_PRINCIPAL_ORG_KEY) {
        if (p->owner_org.id[0] == '\0') return unauthenticated(svc);
        out->org = p->owner_org;
        out->has_org = true;
    } else if (p->has_owner && p->kind == LK_PRINCIPAL_PERSONAL_KEY) {
        if (p->owner_user.id[0] == '\0') return unauthenticated(svc);
        out->user = p->owner_user;
        out->has_user = true;
    } else if (p->kind == LK_PRINCIPAL_ORG_KEY) {
        rc = svc->st->ops->org_get(svc->st, p->org_id, &out->org);
        if (rc == LK_ENOT_FOUND) return unauthenticated(svc);
        if (rc != LK_OK) return store_err(svc, rc, NULL);
        out->has_org = true;
    } else {
        rc = svc->st->ops->user_get(svc->st, p->user_id, &out->user);
        if (rc == LK_ENOT_FOUND) return unauthenticated(svc);
        if (rc != LK_OK) return store_err(svc, rc, NULL);
        out->has_user = true;
    }
    if (p->kind != LK_PRINCIPAL_SESSION) {
        out->key = p->key;
        out->has_key = true;
    }
    return LK_OK;
}

int lk_svc_me_get(lk_svc *svc, const lk_principal *p, lk_user *out)
{
    begin(svc);
    int rc = lk_authz_check(svc, p, LK_ACT_SELF, NULL);
    if (rc) return rc;
    rc = svc->st->ops->user_get(svc->st, p->user_id, out);
    return rc ? store_err(svc, rc, "user not found") : LK_OK;
}

int lk_svc_me_rename(lk_svc *svc, const lk_principal *p, const char *name, size_t len,
                     lk_user *out)
{
    begin(svc);
    char n[LK_NAME_SIZE];
    int rc = lk_authz_check(svc, p, LK_ACT_SELF, NULL);
    if (rc || (rc = lk_validate_name(name, len, n, "name", &svc->err))) return rc;
    lk_user old;
    if ((rc = lk_audit_begin(svc)) != LK_OK) return rc;
    if ((rc = svc->st->ops->user_get(svc->st, p->user_id, &old)) == LK_OK)
        rc = svc->st->ops->user_rename(svc->st, p->user_id, n);
    rc = lk_audit_end(svc, rc,
                      &(lk_audit){LK_AUDIT_USER_RENAMED, p, NULL, p->user_id, "user", p->user_id,
                                  n, .from = old.name, .to = n});
    if (rc != LK_OK) return store_err(svc, rc, "user not found");
    rc = svc->st->ops->user_get(svc->st, p->user_id, out);
    return rc ? store_err(svc, rc, "user not found") : LK_OK;
}

/* --- organizations -------------------------------------------------------- */

static const char *ORG_NF = "organization not found";
static const char *LAST_MEMBER =
    "an organization must keep at least one member; delete the organization instead";

int lk_svc_org_list(lk_svc *svc, const lk_principal *p, lk_list *l, lk_org_cb cb, void *ctx)
{
    begin(svc);
    if (p == NULL || p->kind == LK_PRINCIPAL_NONE)
        return lk_err_set(&svc->err, LK_EUNAUTHENTICATED, "authentication required");
    pager pg;
    lk_page page = pager_init(&pg, l, ctx);
    pg.cb.org = cb;
    if (p->kind == LK_PRINCIPAL_ORG_KEY) {
        /* An org key sees its own org only: a list of one. */
        lk_org o;
        int rc = svc->st->ops->org_get(svc->st, p->org_id, &o);
        if (rc == LK_ENOT_FOUND) return LK_OK;
        if (rc != LK_OK) return store_err(svc, rc, NULL);
        if (page.before_seq == 0 || o.seq < page.before_seq) {
            rc = cb(ctx, &o);
            if (rc) return rc;
        }
        return LK_OK;
    }
    int rc = svc->st->ops->org_list_for_user(svc->st, p->user_id, &page, org_tramp, &pg);
    return pager_done(svc, &pg, l, rc);
}

int lk_svc_org_create(lk_svc *svc, const lk_principal *p, const char *name, size_t len,
                      lk_org *out)
{
    begin(svc);
    lk_user creator;
    int rc = lk_authz_check(svc, p, LK_ACT_ORG_CREATE, NULL);
    memset(out, 0, sizeof(*out));
    if (rc || (rc = lk_validate_name(name, len, out->name, "name", &svc->err))) return rc;
    if ((rc = svc->st->ops->user_get(svc->st, p->user_id, &creator)) != LK_OK)
        return store_err(svc, rc, "user not found");
    lk_id_new("org_", out->id);
    out->created_at = now_of(svc);
    if ((rc = lk_audit_begin(svc)) != LK_OK) return rc;
    rc = svc->st->ops->org_create(svc->st, out, p->user_id, creator.email);
    rc = lk_audit_end(svc, rc,
                      &(lk_audit){LK_AUDIT_ORG_CREATED, p, out->id, NULL, "organization", out->id,
                                  out->name});
    if (rc != LK_OK) return store_err(svc, rc, NULL);
    rc = svc->st->ops->org_get(svc->st, out->id, out);
    return rc ? store_err(svc, rc, ORG_NF) : LK_OK;
}

int lk_svc_org_get(lk_svc *svc, const lk_principal *p, const char *org_id, lk_org *out)
{
    begin(svc);
    int rc = lk_authz_check(svc, p, LK_ACT_ORG_READ_WRITE, org_id);
    if (rc) return rc;
    rc = svc->st->ops->org_get(svc->st, org_id, out);
    return rc ? store_err(svc, rc, ORG_NF) : LK_OK;
}

int lk_svc_org_rename(lk_svc *svc, const lk_principal *p, const char *org_id, const char *name,
                      size_t len, lk_org *out)
{
    begin(svc);
    char n[LK_NAME_SIZE];
    int rc = lk_authz_check(svc, p, LK_ACT_ORG_READ_WRITE, org_id);
    if (rc || (rc = lk_validate_name(name, len, n, "name", &svc->err))) return rc;
    lk_org old;
    if ((rc = lk_audit_begin(svc)) != LK_OK) return rc;
    if ((rc = svc->st->ops->org_get(svc->st, org_id, &old)) == LK_OK)
        rc = svc->st->ops->org_rename(svc->st, org_id, n);
    rc = lk_audit_end(svc, rc,
                      &(lk_audit){LK_AUDIT_ORG_RENAMED, p, org_id, NULL, "organization", org_id,
                                  n, .from = old.name, .to = n});
    if (rc != LK_OK) return store_err(svc, rc, ORG_NF);
    rc = svc->st->ops->org_get(svc->st, org_id, out);
    return rc ? store_err(svc, rc, ORG_NF) : LK_OK;
}

int lk_svc_org_delete(lk_svc *svc, const lk_principal *p, const char *org_id)
{
    begin(svc);
    int rc = lk_authz_check(svc, p, LK_ACT_ORG_OWNER, org_id); /* roles: owners only */
    if (rc) return rc;
    /* The event keeps org_id (no foreign key) and goes to the deleter's
     * own log too: it outlives the org. */
    lk_org o;
    if ((rc = lk_audit_begin(svc)) != LK_OK) return rc;
    if ((rc = svc->st->ops->org_get(svc->st, org_id, &o)) == LK_OK)
        rc = svc->st->ops->org_delete(svc->st, org_id);
    rc = lk_audit_end(svc, rc,
                      &(lk_audit){LK_AUDIT_ORG_DELETED, p, org_id, person_of(p), "organization",
                                  org_id, o.name});
    return rc ? store_err(svc, rc, ORG_NF) : LK_OK;
}

/* --- members -------------------------------------------------------------- */

int lk_svc_member_list(lk_svc *svc, const lk_principal *p, const char *org_id, lk_list *l,
                       lk_member_cb cb, void *ctx)
{
    begin(svc);
    int rc = lk_authz_check(svc, p, LK_ACT_ORG_READ_WRITE, org_id);
    if (rc) return rc;
    pager pg;
    lk_page page = pager_init(&pg, l, ctx);
    pg.cb.member = cb;
    rc = svc->st->ops->member_list(svc->st, org_id, &page, member_tramp, &pg);
    return pager_done(svc, &pg, l, rc);
}

int lk_svc_member_add(lk_svc *svc, const lk_principal *p, const char *org_id, const char *email,
                      size_t email_len, lk_member *out)
{
    begin(svc);
    char lower[LK_EMAIL_SIZE];
    lk_user u;
    int rc = lk_authz_check(svc, p, LK_ACT_ORG_OWNER, org_id); /* roles: owners only */
    memset(out, 0, sizeof(*out));
    if (rc || (rc = lk_validate_email(email, email_len, NULL, lower, "email", &svc->err)))
        return rc;
    rc = svc->st->ops->user_get_by_email(svc->st, lower, &u, NULL);
    if (rc) return store_err(svc, rc, "no user with this email");
    int64_t now = now_of(svc);
    if ((rc = lk_audit_begin(svc)) != LK_OK) return rc;
    rc = svc->st->ops->member_add(svc->st, org_id, u.id, now);
    rc = lk_audit_end(svc, rc,
                      &(lk_audit){LK_AUDIT_MEMBER_ADDED, p, org_id, NULL, "user", u.id, u.name});
    if (rc == LK_ECONFLICT)
        return lk_err_set(&svc->err, rc, "this user is already a member of the organization");
    if (rc) return store_err(svc, rc, ORG_NF);
    memcpy(out->org_id, org_id, strnlen(org_id, LK_ID_SIZE - 1));
    memcpy(out->user_id, u.id, sizeof(out->user_id));
    memcpy(out->email, u.email, sizeof(out->email));
    memcpy(out->name, u.name, sizeof(out->name));
    out->joined_at = now;
    snprintf(out->role, sizeof(out->role), "%s", LK_ROLE_MEMBER);
    return LK_OK;
}

int lk_svc_member_remove(lk_svc *svc, const lk_principal *p, const char *org_id,
                         const char *user_id)
{
    begin(svc);
    static const char *nf = "member not found";
    /* roles: anyone may leave; removing someone else is an owner's */
    bool self = p && p->kind != LK_PRINCIPAL_ORG_KEY && user_id &&
                strcmp(user_id, p->user_id) == 0;
    int rc = lk_authz_check(svc, p, self ? LK_ACT_ORG_ADMIN : LK_ACT_ORG_OWNER, org_id);
    if (rc) return rc;
    if (!id_ok("usr_", user_id)) return lk_err_set(&svc->err, LK_ENOT_FOUND, nf);
    /* One atomic store operation: the count and the delete cannot
     * interleave with a concurrent removal (store.h). */
    lk_user u = {{0}};
    if ((rc = lk_audit_begin(svc)) != LK_OK) return rc;
    rc = svc->st->ops->user_get(svc->st, user_id, &u);
    if (rc == LK_OK) rc = svc->st->ops->member_remove_unless_last(svc->st, org_id, user_id);
    bool last_owner = rc == LK_ECONFLICT && strcmp(svc->st->err.message, LK_STORE_LAST_OWNER) == 0;
    rc = lk_audit_end(svc, rc,
                      &(lk_audit){LK_AUDIT_MEMBER_REMOVED, p, org_id, NULL, "user", user_id,
                                  u.name});
    if (rc == LK_ECONFLICT)
        return lk_err_set(&svc->err, rc, last_owner ? LK_STORE_LAST_OWNER : LAST_MEMBER);
    if (rc != LK_OK) return store_err(svc, rc, nf);
    return LK_OK;
}

/* --- projects and environments --------------------------------------------
 * Both are named children (store.h's child_* ops): the rename, delete and
 * get below serve both, told apart by a child_desc. */

typedef struct child_desc {
    lk_child_kind kind;
    const char *prefix;      /* of its ids: "prj_" */
    const char *nf;          /* "project not found" */
    const char *target_type; /* its audit events' target: "project" */
    const char *renamed, *deleted;
} child_desc;

static const child_desc PROJECT = {LK_CHILD_PROJECT, "prj_", "project not found", "project",
                                   LK_AUDIT_PROJECT_RENAMED, LK_AUDIT_PROJECT_DELETED};
static const child_desc ENV = {LK_CHILD_ENV, "env_", "environment not found", "environment",
                               LK_AUDIT_ENV_RENAMED, LK_AUDIT_ENV_DELETED};

/* Ids as the store ops see them: the org (for audit), the parent, the child. */
typedef struct child_ref {
    const char *org_id, *parent_id, *id;
} child_ref;

/* Authz for the org; then, for an environment, the project must belong to it. */
static int child_scope(lk_svc *svc, const lk_principal *p, const child_desc *d,
                       const child_ref *r)
{
    int rc = lk_authz_check(svc, p, LK_ACT_ORG_READ_WRITE, r->org_id);
    if (rc || d->kind == LK_CHILD_PROJECT) return rc;
    if (!id_ok(PROJECT.prefix, r->parent_id))
        return lk_err_set(&svc->err, LK_ENOT_FOUND, PROJECT.nf);
    lk_project prj;
    rc = svc->st->ops->child_get(svc->st, LK_CHILD_PROJECT, r->org_id, r->parent_id, &prj);
    return rc ? store_err(svc, rc, PROJECT.nf) : LK_OK;
}

static int child_list(lk_svc *svc, const lk_principal *p, const child_desc *d,
                      const child_ref *r, lk_list *l, lk_row_cb cb, void *ctx)
{
    begin(svc);
    int rc = child_scope(svc, p, d, r);
    if (rc) return rc;
    pager pg;
    lk_page page = pager_init(&pg, l, ctx);
    pg.cb = cb;
    lk_row_cb tramp = d->kind == LK_CHILD_ENV ? (lk_row_cb){.env = env_tramp}
                                              : (lk_row_cb){.project = project_tramp};
    rc = svc->st->ops->child_list(svc->st, d->kind, r->parent_id, &page, tramp, &pg);
    return pager_done(svc, &pg, l, rc);
}

/* The store's insert of the new child `out` with its audit event ev, then
 * the row as stored into out. `parent_nf` is the message when the parent
 * is gone. */
static int child_insert(lk_svc *svc, const child_desc *d, const child_ref *r, void *out,
                        const lk_audit *ev, const char *parent_nf)
{
    int rc = lk_audit_begin(svc);
    if (rc != LK_OK) return rc;
    rc = svc->st->ops->child_create(svc->st, d->kind, out);
    rc = lk_audit_end(svc, rc, ev);
    if (rc != LK_OK) return store_err(svc, rc, parent_nf);
    rc = svc->st->ops->child_get(svc->st, d->kind, r->parent_id, r->id, out);
    return rc ? store_err(svc, rc, d->nf) : LK_OK;
}

static int child_get(lk_svc *svc, const lk_principal *p, const child_desc *d, const child_ref *r,
                     void *out)
{
    begin(svc);
    int rc = child_scope(svc, p, d, r);
    if (rc) return rc;
    if (!id_ok(d->prefix, r->id)) return lk_err_set(&svc->err, LK_ENOT_FOUND, d->nf);
    rc = svc->st->ops->child_get(svc->st, d->kind, r->parent_id, r->id, out);
    return rc ? store_err(svc, rc, d->nf) : LK_OK;
}

/* Rename (name != NULL) or delete, audited with the old name. */
static int child_change(lk_svc *svc, const lk_principal *p, const child_desc *d,
                        const child_ref *r, const char *name, size_t len, void *out)
{
    begin(svc);
    char n[LK_NAME_SIZE];
    int rc = child_scope(svc, p, d, r);
    if (rc) return rc;
    if (!id_ok(d->prefix, r->id)) return lk_err_set(&svc->err, LK_ENOT_FOUND, d->nf);
    if (name && (rc = lk_validate_name(name, len, n, "name", &svc->err))) return rc;
    lk_project old = {0}; /* or an lk_env (the same fields): the record as it was */
    _Static_assert(sizeof(lk_env) == sizeof(lk_project), "one buffer for either child");
    if ((rc = lk_audit_begin(svc)) != LK_OK) return rc;
    if ((rc = svc->st->ops->child_get(svc->st, d->kind, r->parent_id, r->id, &old)) == LK_OK)
        rc = name ? svc->st->ops->child_rename(svc->st, d->kind, r->parent_id, r->id, n)
                  : svc->st->ops->child_delete(svc->st, d->kind, r->parent_id, r->id);
    lk_audit ev = {name ? d->renamed : d->deleted, p, r->org_id, NULL, d->target_type, r->id,
                   name ? n : old.name};
    if (name) {
        ev.from = old.name;
        ev.to = n;
    }
    rc = lk_audit_end(svc, rc, &ev);
    if (rc != LK_OK || !name) return rc ? store_err(svc, rc, d->nf) : LK_OK;
    rc = svc->st->ops->child_get(svc->st, d->kind, r->parent_id, r->id, out);
    return rc ? store_err(svc, rc, d->nf) : LK_OK;
}

int lk_svc_project_list(lk_svc *svc, const lk_principal *p, const char *org_id, lk_list *l,
                        lk_project_cb cb, void *ctx)
{
    return child_list(svc, p, &PROJECT, &(child_ref){org_id, org_id, NULL}, l,
                      (lk_row_cb){.project = cb}, ctx);
}

int lk_svc_project_create(lk_svc *svc, const lk_principal *p, const char *org_id,
                          const char *name, size_t len, lk_project *out)
{
    begin(svc);
    int rc = lk_authz_check(svc, p, LK_ACT_ORG_READ_WRITE, org_id);
    memset(out, 0, sizeof(*out));
    if (rc || (rc = lk_validate_name(name, len, out->name, "name", &svc->err))) return rc;
    lk_id_new(PROJECT.prefix, out->id);
    memcpy(out->org_id, org_id, strnlen(org_id, LK_ID_SIZE - 1));
    out->created_at = now_of(svc);
    lk_audit ev = {LK_AUDIT_PROJECT_CREATED, p, org_id, NULL, "project", out->id, out->name};
    return child_insert(svc, &PROJECT, &(child_ref){org_id, org_id, out->id}, out, &ev,
                        ORG_NF);
}

int lk_svc_project_get(lk_svc *svc, const lk_principal *p, const char *org_id,
                       const char *project_id, lk_project *out)
{
    return child_get(svc, p, &PROJECT, &(child_ref){org_id, org_id, project_id}, out);
}

int lk_svc_project_rename(lk_svc *svc, const lk_principal *p, const char *org_id,
                          const char *project_id, const char *name, size_t len, lk_project *out)
{
    return child_change(svc, p, &PROJECT, &(child_ref){org_id, org_id, project_id}, name, len,
                        out);
}

int lk_svc_project_delete(lk_svc *svc, const lk_principal *p, const char *org_id,
                          const char *project_id)
{
    return child_change(svc, p, &PROJECT, &(child_ref){org_id, org_id, project_id}, NULL, 0,
                        NULL);
}

int lk_svc_env_list(lk_svc *svc, const lk_principal *p, const char *org_id,
                    const char *project_id, lk_list *l, lk_env_cb cb, void *ctx)
{
    return child_list(svc, p, &ENV, &(child_ref){org_id, project_id, NULL}, l,
                      (lk_row_cb){.env = cb}, ctx);
}

int lk_svc_env_create(lk_svc *svc, const lk_principal *p, const char *org_id,
                      const char *project_id, const char *name, size_t len, lk_env *out)
{
    begin(svc);
    const child_ref r = {org_id, project_id, out->id};
    int rc = child_scope(svc, p, &ENV, &r);
    memset(out, 0, sizeof(*out));
    if (rc || (rc = lk_validate_name(name, len, out->name, "name", &svc->err))) return rc;
    lk_id_new(ENV.prefix, out->id);
    memcpy(out->project_id, project_id, strnlen(project_id, LK_ID_SIZE - 1));
    out->created_at = now_of(svc);
    const char *kv[] = {"project_id", project_id};
    char details[LK_AUDIT_DETAILS_SIZE];
    lk_audit_details(details, kv, 1);
    lk_audit ev = {LK_AUDIT_ENV_CREATED, p, org_id, NULL, "environment", out->id, out->name,
                   .details = details};
    return child_insert(svc, &ENV, &r, out, &ev, PROJECT.nf);
}

int lk_svc_env_get(lk_svc *svc, const lk_principal *p, const char *org_id,
                   const char *project_id, const char *env_id, lk_env *out)
{
    return child_get(svc, p, &ENV, &(child_ref){org_id, project_id, env_id}, out);
}

int lk_svc_env_rename(lk_svc *svc, const lk_principal *p, const char *org_id,
                      const char *project_id, const char *env_id, const char *name, size_t len,
                      lk_env *out)
{
    return child_change(svc, p, &ENV, &(child_ref){org_id, project_id, env_id}, name, len, out);
}

int lk_svc_env_delete(lk_svc *svc, const lk_principal *p, const char *org_id,
                      const char *project_id, const char *env_id)
{
    return child_change(svc, p, &ENV, &(child_ref){org_id, project_id, env_id}, NULL, 0, NULL);
}

/* --- billing -------------------------------------------------------------- */

int lk_svc_billing_get(lk_svc *svc, const lk_principal *p, const char *org_id, lk_billing *out)
{
    begin(svc);
    int rc = lk_authz_check(svc, p, LK_ACT_ORG_READ_WRITE, org_id);
    if (rc) return rc;
    rc = svc->st->ops->billing_get(svc->st, org_id, out);
    return rc ? store_err(svc, rc, ORG_NF) : LK_OK;
}

int lk_svc_billing_update(lk_svc *svc, const lk_principal *p, const char *org_id,
                          const char *plan, size_t plan_len, const char *billing_email,
                          size_t email_len, lk_billing *out)
{
    begin(svc);
    static const char *plans[] = {"free", "pro", "enterprise"};
    const char *new_plan = NULL;
    char email[LK_EMAIL_SIZE];
    int rc = lk_authz_check(svc, p, LK_ACT_ORG_OWNER_WRITE, org_id);
    if (rc) return rc;
    if (plan != NULL) {
        for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++)
            if (plan_len == strlen(plans[i]) && memcmp(plan, plans[i], plan_len) == 0)
                new_plan = plans[i];
        if (new_plan == NULL)
            return lk_err_field(&svc->err, "plan", "must be one of free, pro, enterprise");
    }
    if (billing_email != NULL &&
        (rc = lk_validate_email(billing_email, email_len, email, NULL, "billing_email",
                                &svc->err)))
        return rc;
    if ((rc = lk_audit_begin(svc)) != LK_OK) return rc;
    lk_billing old = {{0}};
    if ((rc = svc->st->ops->billing_get(svc->st, org_id, out)) == LK_OK) {
        old = *out;
        if (new_plan) snprintf(out->plan, sizeof(out->plan), "%s", new_plan);
        if (billing_email) memcpy(out->billing_email, email, sizeof(out->billing_email));
        out->updated_at = now_of(svc);
        rc = svc->st->ops->billing_set(svc->st, out);
    }
    const char *kv[] = {"plan_from", old.plan, "plan_to", out->plan,
                        "billing_email_from", old.billing_email, "billing_email_to",
                        out->billing_email};
    char details[LK_AUDIT_DETAILS_SIZE];
    lk_audit_details(details, kv, 4);
    rc = lk_audit_end(svc, rc,
                      &(lk_audit){LK_AUDIT_BILLING_UPDATED, p, org_id, NULL, "billing", org_id,
                                  out->plan, .details = details});
    return rc ? store_err(svc, rc, ORG_NF) : LK_OK;
}

/* --- access keys ---------------------------------------------------------- */

static const char *KEY_NF = "access key not found";

/* Authz for a key operation: personal keys of the caller, or org keys. */
static int key_scope(lk_svc *svc, const lk_principal *p, const char *org_id)
{
    return lk_authz_check(svc, p, org_id ? LK_ACT_ORG_KEYS : LK_ACT_SELF, org_id);
}

/* Load a key the caller may manage: it belongs to the scope and is live.
 * Anything else is "not found", exactly like an unknown id. */
static int key_load(lk_svc *svc, const lk_principal *p, const char *org_id, const char *key_id,
                    lk_key *out)
{
    if (!id_ok("key_", key_id)) return lk_err_set(&svc->err, LK_ENOT_FOUND, KEY_NF);
    int rc = svc->st->ops->key_get(svc->st, key_id, out);
    if (rc) return store_err(svc, rc, KEY_NF);
    bool mine = org_id ? (out->type == LK_KEY_ORG && strcmp(out->org_id, org_id) == 0)
                       : (out->type == LK_KEY_PERSONAL && strcmp(out->user_id, p->user_id) == 0);
    if (!mine || expired(out->expires_at, now_of(svc))) {
        memset(out, 0, sizeof(*out));
        return lk_err_set(&svc->err, LK_ENOT_FOUND, KEY_NF);
    }
    return LK_OK;
}

int lk_svc_key_list(lk_svc *svc, const lk_principal *p, const char *org_id, lk_list *l,
                    lk_key_cb cb, void *ctx)
{
    begin(svc);
    int rc = key_scope(svc, p, org_id);
    if (rc) return rc;
    pager pg;
    lk_page page = pager_init(&pg, l, ctx);
    pg.cb.key = cb;
    int64_t now = now_of(svc);
    if (org_id)
        rc = svc->st->ops->key_list_org(svc->st, org_id, now, &page, key_tramp, &pg);
    else
        rc = svc->st->ops->key_list_user(svc->st, p->user_id, now, &page, key_tramp, &pg);
    return pager_done(svc, &pg, l, rc);
}

int lk_svc_key_delete(lk_svc *svc, const lk_principal *p, const char *org_id,
                      const char *key_id)
{
    begin(svc);
    lk_key k;
    int rc = key_scope(svc, p, org_id);
    if (rc || (rc = key_load(svc, p, org_id, key_id, &k))) return rc;
    if ((rc = lk_audit_begin(svc)) != LK_OK) return rc;
    rc = svc->st->ops->key_delete(svc->st, key_id);
    rc = lk_audit_end(svc, rc,
                      &(lk_audit){LK_AUDIT_KEY_DELETED, p, org_id, org_id ? NULL : p->user_id,
                                  "access_key", key_id, k.name});
    return rc ? store_err(svc, rc, KEY_NF) : LK_OK;
}

/* --- scopes: the key helpers service_scopes.c shares --------------------- */

int lk_svc__key_authz(lk_svc *svc, const lk_principal *p, const char *org_id)
{
    return key_scope(svc, p, org_id);
}

int lk_svc__key_load(lk_svc *svc, const lk_principal *p, const char *org_id, const char *key_id,
                     lk_key *out)
{
    return key_load(svc, p, org_id, key_id, out);
}

int lk_svc_ready(lk_svc *svc)
{
    begin(svc);
    int rc = svc->st->ops->ping(svc->st);
    return rc ? store_err(svc, rc, NULL) : LK_OK;
}

/* --- rotate: the helpers service_rotate.c shares with this file --- */

void lk_svc__begin(lk_svc *svc)
{
    begin(svc);
}

int64_t lk_svc__now(const lk_svc *svc)
{
    return now_of(svc);
}

int lk_svc__store_err(lk_svc *svc, int rc, const char *not_found)
{
    return store_err(svc, rc, not_found);
}

int lk_svc__key_find(lk_svc *svc, const lk_principal *p, const char *org_id, const char *key_id,
                     lk_key *out)
{
    begin(svc);
    int rc = key_scope(svc, p, org_id);
    return rc ? rc : key_load(svc, p, org_id, key_id, out);
}
