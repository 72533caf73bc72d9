/*
 * service.h — latchkey's use-cases, one function each, independent of HTTP.
 *
 *     http handlers ──► service (this) ──► authz ──► store ──► backends
 *
 * A handler parses its request into plain C values (strings with lengths,
 * ids from the path, a page), calls one lk_svc_* function, and turns the
 * result (records from store.h) or the error (svc->err) into a response.
 * Nothing here includes an HTTP or JSON header.
 *
 * Invariants:
 *  - Every function that acts for a principal asks authz.c first; the
 *    "who may do what" table of the contract lives there and nowhere else.
 *  - Anything the caller may not know exists answers LK_ENOT_FOUND.
 *  - A token appears only in the out-buffer of a create call and is wiped
 *    there by the caller after it is written to the response. Passwords are
 *    wiped by the caller too. Neither is ever logged.
 *  - Input strings are (pointer, length) pairs and may contain anything;
 *    validation (validate.h) happens here, before any store call.
 *  - An lk_svc belongs to one thread: it holds that thread's store
 *    connection and its last-used buffer. The rate limiter is shared and
 *    thread-safe.
 *  - Returns 0 or a negative lk_err code; details on svc->err.
 */
#ifndef LK_SERVICE_H
#define LK_SERVICE_H

#include "cidr.h"
#include "err.h"
#include "principal.h"
#include "ratelimit.h"
#include "store.h"
#include "usage.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_SESSION_TOKEN_SIZE 48 /* cookie value: 43 base64url chars + NUL */
#define LK_SESSION_TTL (14 * 24 * 3600)
#define LK_CURSOR_SIZE 24

/* Throttles (see lk_svc_config_init for the defaults). A rule left all
 * zero in a config that was not initialised means "use the default"; to
 * switch a rule off set max_failures < 0.
 *  - Bearer: only failures are counted and only failures are refused (429
 *    instead of 401 once an address is past the limit); a valid token is
 *    never refused, so the hot path never takes the limiter's lock.
 *  - Login: checked before the password is verified, so a throttled
 *    (email, address) pair or address gets 429 even with the right
 *    password; the per-email rule is paced (ratelimit.h's LOGIN_EMAIL, see
 *    "account security" below) and never refuses for longer than a minute.
 *    A successful login forgets the email's and the pair's count; the
 *    address's count only expires (so one valid account cannot be used to
 *    reset an attacker's counter). login_per_email below is kept for
 *    configuration compatibility only: the limiter's LK_RL_LOGIN_EMAIL
 *    rule applies. */
#define LK_LOGIN_EMAIL_MAX_FAILURES 10  /* per email ... */
#define LK_LOGIN_EMAIL_WINDOW 900       /* ... in 15 minutes */
#define LK_LOGIN_CLIENT_MAX_FAILURES 50 /* per client address ... */
#define LK_LOGIN_CLIENT_WINDOW 900      /* ... in 15 minutes */
#define LK_BEARER_MAX_FAILURES 1000     /* bad bearer tokens per client ... */
#define LK_BEARER_WINDOW 60             /* ... per minute; latchkeyd's
                                         * --bearer-fail-limit sets the
                                         * count (benchmarks) */

typedef struct lk_svc_config {
    bool signup_open;
    /* Added by the service layer: */
    lk_ratelimit_rule login_per_email;  /* failed logins for one email */
    lk_ratelimit_rule login_per_client; /* failed logins from one address */
    lk_ratelimit_rule bearer_per_client; /* failed bearer auths from one address */
    int64_t (*now)(void);               /* clock; NULL = lk_time_now (tests inject one) */
    /* --- scopes: --trusted-proxies. Not used by the service itself: the
     * HTTP layer resolves the client address with it (clientaddr.h). */
    lk_cidr_list trusted_proxies;
    /* --- roles and invitations --- */
    const char *public_url; /* invitation links: <public_url>/invite/<token>; no trailing '/' */
    struct lk_mailer *mailer; /* emails invitation links; NULL = none (not owned) */
    /* --- device --- */
    int device_ttl; /* seconds a device sign-in lives; 0: LK_DEVICE_TTL (600) */
} lk_svc_config;

/* Fill cfg with the defaults: signup open, the limits above, real clock.
 * The service reads no environment: the caller (main.c) overrides fields. */
void lk_svc_config_init(lk_svc_config *cfg);

/* --- audit --- */
/* Where the request the service works for came from: set per request by
 * the HTTP layer (lk_svc_set_origin, the audit block below), read into audit
 * events. Cleaned text, never a secret. */
typedef struct lk_origin {
    char ip[LK_AUDIT_IP_SIZE];
    char user_agent[LK_AUDIT_UA_SIZE];
} lk_origin;

typedef struct lk_svc {
    lk_store *st;               /* this thread's connection, not owned */
    lk_usage *usage;            /* this thread's last-used buffer, not owned; may be NULL */
    lk_ratelimit *rl;           /* shared, thread-safe, not owned; may be NULL */
    const lk_svc_config *cfg;   /* not owned */
    lk_err err;                 /* details of the last failure */
    /* metrics: the last failed authentication presented a key or session
     * that exists but has expired (auth outcome "expired", not "invalid") */
    bool expired_credential;
    lk_origin origin;           /* the current request's client (audit) */
    char audit_id[LK_ID_SIZE];  /* the next event's id, drawn by lk_audit_begin
                                 * before the transaction holds any lock */
} lk_svc;

/* A list request and its continuation. The HTTP layer fills `page` with
 * lk_svc_parse_page(); after the call, `next` is 0 when there is nothing
 * more, else the value to format as next_cursor (lk_svc_format_cursor). */
typedef struct lk_list {
    lk_page page;
    int64_t next;
} lk_list;

typedef struct lk_whoami {
    lk_principal_kind kind;
    bool has_user, has_org, has_key;
    lk_user user;
    lk_org org;
    lk_key key;
} lk_whoami;

/* --- pagination helpers (pure) --------------------------------------- */
/* limit: NULL/absent = 100, else 1..1000; cursor: NULL = start, else an
 * opaque value from a previous next_cursor. LK_EVALIDATION with field
 * "limit" or "cursor" on bad input. */
int lk_svc_parse_page(const char *limit, size_t limit_len, const char *cursor, size_t cursor_len,
                      lk_list *out, lk_err *e);
void lk_svc_format_cursor(int64_t next, char out[LK_CURSOR_SIZE]);

/* --- authentication ----------------------------------------------------- */
/* Authorization: Bearer <token>. Well-formed, known, not expired, else
 * LK_EUNAUTHENTICATED (the same answer for unknown, deleted, expired and
 * malformed). Failed attempts are counted per client address; past the
 * limit LK_ERATE_LIMITED with err.retry_after. Notes last use (batched). */
int lk_svc_auth_bearer(lk_svc *svc, const char *token, size_t len, const char *client,
                       lk_principal *out);
/* The client address for lk_svc_auth_bearer_lazy: writes a NUL-terminated
 * string of at most size bytes into out ("" if unknown). */
typedef void (*lk_svc_client_fn)(void *ctx, char *out, size_t size);
#define LK_SVC_CLIENT_MAX 64
/* Flags for lk_svc_auth_bearer_lazy. LK_AUTH_OWNER: the request will need
 * the key's user or org (GET /v1/whoami): read it with the key, in one
 * statement (store key_get_by_hash_owner), into out->owner_*, and set
 * out->has_owner. */
#define LK_AUTH_OWNER 1u
/* lk_svc_auth_bearer, but the client address is asked for (client(ctx,
 * ...), at most once) only when the attempt fails and is to be counted:
 * formatting a peer address costs more than the rest of a failed check's
 * bookkeeping and a valid token never needs it. client may be NULL (no
 * throttling, like client == NULL above). */
int lk_svc_auth_bearer_lazy(lk_svc *svc, const char *token, size_t len, lk_svc_client_fn client,
                            void *ctx, unsigned flags, lk_principal *out);
/* lk_svc_auth_bearer_lazy in two halves, for a look-up that answers
 * later (auth.c's pipelined PostgreSQL path, store/pg_pipe.h):
 * lk_svc_bearer_hash is the offline half (false: malformed, no look-up
 * needed); lk_svc_auth_bearer_found the rest, once the look-up of the key
 * by hash (with its owner) answered rc with out->key (and out->owner_*)
 * filled: expiry, key type against the token's kind, usage note, or the
 * failed-attempt throttle. rc LK_EUNAUTHENTICATED means "malformed, not
 * looked up". looked_up: the handle holding the look-up's error message
 * (or NULL). Same returns as lk_svc_auth_bearer_lazy. */
bool lk_svc_bearer_hash(const char *token, size_t len, lk_token_kind *kind,
                        uint8_t hash[LK_TOKEN_HASH_LEN]);
int lk_svc_auth_bearer_found(lk_svc *svc, lk_token_kind kind, int rc, const lk_err *looked_up,
                             lk_svc_client_fn client, void *ctx, lk_principal *out);
/* The latchkey_session cookie value. LK_EUNAUTHENTICATED unless live. */
int lk_svc_auth_session(lk_svc *svc, const char *cookie, size_t len, lk_principal *out);
/* For cookie-authenticated writes: constant-time compare of X-CSRF-Token
 * with the session's; LK_EFORBIDDEN if missing or different. A principal
 * that is not a session (bearer keys carry no ambient cookie) passes. */
int lk_svc_check_csrf(lk_svc *svc, const lk_principal *p, const char *hdr, size_t len);

/* --- account (signup and login are slow: argon2id; call them off the
 *     event loop) ----------------------------------------------------------- */
int lk_svc_signup(lk_svc *svc, const char *email, size_t email_len, const char *password,
                  size_t password_len, const char *name, size_t name_len, lk_user *out);
/* On success: *out the user, session_token the new cookie value (caller
 * wipes it after use), csrf the session's CSRF token. Wrong pair:
 * LK_EUNAUTHENTICATED; throttled per email and per client: LK_ERATE_LIMITED. */
int lk_svc_login(lk_svc *svc, const char *email, size_t email_len, const char *password,
                 size_t password_len, const char *client, lk_user *out,
                 char session_token[LK_SESSION_TOKEN_SIZE], char csrf[LK_CSRF_SIZE]);
/* Deletes the session behind this cookie value (no error if none). */
int lk_svc_logout(lk_svc *svc, const char *cookie, size_t len);

int lk_svc_whoami(lk_svc *svc, const lk_principal *p, lk_whoami *out);
int lk_svc_me_get(lk_svc *svc, const lk_principal *p, lk_user *out);
int lk_svc_me_rename(lk_svc *svc, const lk_principal *p, const char *name, size_t len,
                     lk_user *out);

/* --- organizations -------------------------------------------------------- */
int lk_svc_org_list(lk_svc *svc, const lk_principal *p, lk_list *l, lk_org_cb cb, void *ctx);
int lk_svc_org_create(lk_svc *svc, const lk_principal *p, const char *name, size_t len,
                      lk_org *out);
int lk_svc_org_get(lk_svc *svc, const lk_principal *p, const char *org_id, lk_org *out);
int lk_svc_org_rename(lk_svc *svc, const lk_principal *p, const char *org_id, const char *name,
                      size_t len, lk_org *out);
int lk_svc_org_delete(lk_svc *svc, const lk_principal *p, const char *org_id);

int lk_svc_member_list(lk_svc *svc, const lk_principal *p, const char *org_id, lk_list *l,
                       lk_member_cb cb, void *ctx);
/* Adds the existing user with this email: LK_ENOT_FOUND if none,
 * LK_ECONFLICT if already in. *out gets the new membership. */
int lk_svc_member_add(lk_svc *svc, const lk_principal *p, const char *org_id, const char *email,
                      size_t email_len, lk_member *out);
int lk_svc_member_remove(lk_svc *svc, const lk_principal *p, const char *org_id,
                         const char *user_id);

/* --- projects and environments ------------------------------------------- */
int lk_svc_project_list(lk_svc *svc, const lk_principal *p, const char *org_id, lk_list *l,
                        lk_project_cb cb, void *ctx);
int lk_svc_project_create(lk_svc *svc, const lk_principal *p, const char *org_id,
                          const char *name, size_t len, lk_project *out);
int lk_svc_project_get(lk_svc *svc, const lk_principal *p, const char *org_id,
                       const char *project_id, lk_project *out);
int lk_svc_project_rename(lk_svc *svc, const lk_principal *p, const char *org_id,
                          const char *project_id, const char *name, size_t len, lk_project *out);
int lk_svc_project_delete(lk_svc *svc, const lk_principal *p, const char *org_id,
                          const char *project_id);

int lk_svc_env_list(lk_svc *svc, const lk_principal *p, const char *org_id,
                    const char *project_id, lk_list *l, lk_env_cb cb, void *ctx);
int lk_svc_env_create(lk_svc *svc, const lk_principal *p, const char *org_id,
                      const char *project_id, const char *name, size_t len, lk_env *out);
int lk_svc_env_get(lk_svc *svc, const lk_principal *p, const char *org_id,
                   const char *project_id, const char *env_id, lk_env *out);
int lk_svc_env_rename(lk_svc *svc, const lk_principal *p, const char *org_id,
                      const char *project_id, const char *env_id, const char *name, size_t len,
                      lk_env *out);
int lk_svc_env_delete(lk_svc *svc, const lk_principal *p, const char *org_id,
                      const char *project_id, const char *env_id);

/* --- billing ------------------------------------------------------------- */
int lk_svc_billing_get(lk_svc *svc, const lk_principal *p, const char *org_id, lk_billing *out);
/* plan / billing_email: NULL leaves the field unchanged. */
int lk_svc_billing_update(lk_svc *svc, const lk_principal *p, const char *org_id,
                          const char *plan, size_t plan_len, const char *billing_email,
                          size_t email_len, lk_billing *out);

/* --- access keys --------------------------------------------------------- */
/* org_id NULL: the caller's personal keys (/v1/me/access-keys); else the
 * org's keys. expires_at 0 = never; else must be in the future
 * (LK_EVALIDATION field "expires_at"). On create, token gets the new token
 * (the caller wipes it after writing the response). */
int lk_svc_key_list(lk_svc *svc, const lk_principal *p, const char *org_id, lk_list *l,
                    lk_key_cb cb, void *ctx);
int lk_svc_key_create(lk_svc *svc, const lk_principal *p, const char *org_id, const char *name,
                      size_t len, int64_t expires_at, lk_key *out, char token[LK_TOKEN_SIZE]);
int lk_svc_key_rename(lk_svc *svc, const lk_principal *p, const char *org_id,
                      const char *key_id, const char *name, size_t len, lk_key *out);
int lk_svc_key_delete(lk_svc *svc, const lk_principal *p, const char *org_id,
                      const char *key_id);

/* --- scopes: internals of service.c that service_scopes.c shares (not
 * for handlers): the key-operation authz check and the load of a key the
 * caller may manage. lk_svc_key_create itself lives in service_scopes.c. */
int lk_svc__key_authz(lk_svc *svc, const lk_principal *p, const char *org_id);
int lk_svc__key_load(lk_svc *svc, const lk_principal *p, const char *org_id, const char *key_id,
                     lk_key *out);

/* Health: LK_OK if the store answers (readyz). */
int lk_svc_ready(lk_svc *svc);

/* --- account security (service_account.c) ------------------------------
 * Throttles (ratelimit.h's tables; the rules come from the limiter's
 * configuration, set by main.c): signups per client and overall, failed
 * logins per (email, client), per email (paced: never refuses the right
 * password for longer than LK_RL_PACE_MAX) and per client. A client is
 * counted by its throttle key: the IPv4 address, or the IPv6 /64. A
 * wrong current password in a password change counts as a failed login.
 * Sessions: at most LK_SESSIONS_PER_USER_MAX per user (a login ends the
 * oldest, atomically in the store); expired ones are deleted at each login
 * of their user and, for everyone, by lk_svc_session_purge (the HTTP
 * layer's timer, every LK_SESSION_PURGE_SECS). */
#define LK_SESSIONS_PER_USER_MAX 50
#define LK_SESSION_PURGE_SECS 3600

/* Where a login comes from: the client address (text, may be NULL) and
 * its User-Agent (any bytes; kept capped, printable ASCII only). */
typedef struct lk_svc_origin {
    const char *client;
    const char *user_agent;
    size_t user_agent_len;
} lk_svc_origin;

/* lk_svc_login, with the session's address and user agent recorded. */
int lk_svc_login_from(lk_svc *svc, const char *email, size_t email_len, const char *password,
                      size_t password_len, const lk_svc_origin *from, lk_user *out,
                      char session_token[LK_SESSION_TOKEN_SIZE], char csrf[LK_CSRF_SIZE]);
/* Would a login attempt for email from client be refused by the throttles
 * right now? LK_OK, or LK_ERATE_LIMITED (err.retry_after). Counts nothing;
 * cheap (no store, no hashing): the HTTP layer asks before it queues the
 * argon2id work, so refused attempts never take a worker queue slot
 * (lk_svc_login checks again). */
int lk_svc_login_admit(lk_svc *svc, const char *email, size_t email_len, const char *client);
/* Count a signup attempt from client before any work is queued for it:
 * LK_OK, or LK_ERATE_LIMITED (err.retry_after) past the per-client or the
 * global rule. Cheap: no store, no hashing. */
int lk_svc_signup_admit(lk_svc *svc, const char *client);
/* PATCH /v1/me/password (slow: argon2id twice; call it off the loop).
 * Wrong current password: LK_EVALIDATION, field "current_password" (and
 * counted as a failed login); a new password that breaks the signup rules:
 * LK_EVALIDATION, field "new_password". On success every session of the
 * user but the caller's own (a session principal) ends. */
int lk_svc_password_change(lk_svc *svc, const lk_principal *p, const char *current,
                           size_t current_len, const char *next, size_t next_len,
                           const char *client);
/* GET /v1/me/sessions: the caller's live sessions, newest first, as a list
 * page (the cursor is an offset; a user has at most 50). */
int lk_svc_session_list(lk_svc *svc, const lk_principal *p, lk_list *l, lk_session_cb cb,
                        void *ctx);
/* Is s the session p is authenticated by? */
bool lk_svc_session_is_current(const lk_principal *p, const lk_session *s);
/* DELETE /v1/me/sessions/{id}: ends it at once; LK_ENOT_FOUND if the caller
 * has no such session. */
int lk_svc_session_revoke(lk_svc *svc, const lk_principal *p, const char *session_id);
/* The key a client address (text) is throttled under: the IPv4 address,
 * or the IPv6 /64 ("2001:db8:1:2::/64"); text that is not an address is
 * its own key. NUL-terminated, cut to size. */
void lk_svc_throttle_key(const char *client, char *out, size_t size);
/* Delete every expired session (all users). LK_OK or a store error. */
int lk_svc_session_purge(lk_svc *svc);

/* --- rotate: key rotation and leaked-token reports (service_rotate.c) --- */
#define LK_ROTATE_GRACE_MAX (7 * 24 * 3600) /* grace_period_seconds: 0 .. 7 days */
#define LK_LEAK_MAX_TOKENS 100              /* tokens in one report */
#define LK_LEAK_TOKEN_MAX 256               /* a longer entry is ignored */
#define LK_LEAK_SOURCE_MAX 100              /* bytes of `source` kept */
#define LK_LEAK_URL_MAX 2048                /* bytes of `url` kept */

/* A new token for the key (same id, name, type, expiry). grace_secs
 * (0..LK_ROTATE_GRACE_MAX, else LK_EVALIDATION with field
 * "grace_period_seconds"): how long the old token keeps working; an
 * earlier previous token ends at once. Authorization and 404s as for
 * rename/delete. On success token holds the new token (the caller wipes
 * it) and *out the key with prev_expires_at. Expired previous hashes of
 * every key are purged on the way (see key_purge_previous). */
int lk_svc_key_rotate(lk_svc *svc, const lk_principal *p, const char *org_id, const char *key_id,
                      int64_t grace_secs, lk_key *out, char token[LK_TOKEN_SIZE]);

/* One leaked-token report, as the handler parsed it: n (1..100) entries;
 * entries longer than LK_LEAK_TOKEN_MAX are ignored. source/url may be
 * NULL; they are cut and stripped of control characters here. */
typedef struct lk_leak_report {
    const char *const *tokens;
    const size_t *lens;
    size_t n;
    const char *source;
    size_t source_len;
    const char *url;
    size_t url_len;
} lk_leak_report;

/* Public: revoke every token of the report that is a key's current token
 * (the key is deleted) or a live previous token (its grace ends). The
 * same store work runs for every entry, found or not, in one transaction;
 * the answer never says what was found. Throttled per client address
 * (LK_ERATE_LIMITED with retry_after). */
int lk_svc_report_leaked(lk_svc *svc, const lk_leak_report *r, const char *client);

/* Called once per key revoked by a report, inside its transaction: records
 * access_key.revoked_leaked there (anonymous actor; details source, url,
 * which token; never the token). A failure rolls the report back. */
int lk_svc_on_key_revoked_leaked(lk_svc *svc, const lk_key *k, bool previous,
                                 const char *source, const char *url);

/* Clears expired previous token hashes (housekeeping). */
int lk_svc_purge_previous(lk_svc *svc);

/* Internal to the service (service.c's helpers, for service_rotate.c,
 * service_account.c and service_invitations.c):
 * begin clears the error handles; now is the configured clock; store_err
 * copies a store failure to svc->err (not_found: the 404's words); key_find
 * is authz + the key as rename/delete see it (404 for what the caller may
 * not know). */
void lk_svc__begin(lk_svc *svc);
int64_t lk_svc__now(const lk_svc *svc);
/* begin without touching expired_credential: for the use-cases of
 * service_account.c and service_invitations.c. */
void lk_svc__clear(lk_svc *svc);
int lk_svc__store_err(lk_svc *svc, int rc, const char *not_found);
int lk_svc__key_find(lk_svc *svc, const lk_principal *p, const char *org_id, const char *key_id,
                     lk_key *out);

/* --- audit --- (service_audit.c: the design is at its top)
 * A change and its audit event are one store transaction:
 *     int rc = lk_audit_begin(svc);
 *     if (rc == LK_OK) rc = svc->st->ops->project_rename(svc->st, org, id, n);
 *     rc = lk_audit_end(svc, rc, &(lk_audit){LK_AUDIT_PROJECT_RENAMED, p, org, NULL,
 *                       "project", id, n, .from = old.name, .to = n});
 */
/* The actions, as the contract spells them. */
#define LK_AUDIT_ORG_CREATED "organization.created"
#define LK_AUDIT_ORG_RENAMED "organization.renamed"
#define LK_AUDIT_ORG_DELETED "organization.deleted"
#define LK_AUDIT_MEMBER_ADDED "member.added"
#define LK_AUDIT_MEMBER_INVITED "member.invited"
#define LK_AUDIT_MEMBER_JOINED "member.joined"
#define LK_AUDIT_MEMBER_REMOVED "member.removed"
#define LK_AUDIT_MEMBER_ROLE_CHANGED "member.role_changed"
#define LK_AUDIT_INVITATION_REVOKED "invitation.revoked"
#define LK_AUDIT_PROJECT_CREATED "project.created"
#define LK_AUDIT_PROJECT_RENAMED "project.renamed"
#define LK_AUDIT_PROJECT_DELETED "project.deleted"
#define LK_AUDIT_ENV_CREATED "environment.created"
#define LK_AUDIT_ENV_RENAMED "environment.renamed"
#define LK_AUDIT_ENV_DELETED "environment.deleted"
#define LK_AUDIT_BILLING_UPDATED "billing.updated"
#define LK_AUDIT_KEY_CREATED "access_key.created"
#define LK_AUDIT_KEY_RENAMED "access_key.renamed"
#define LK_AUDIT_KEY_CIDRS_CHANGED "access_key.allowed_cidrs_changed" /* an addition */
#define LK_AUDIT_KEY_ROTATED "access_key.rotated"
#define LK_AUDIT_KEY_DELETED "access_key.deleted"
#define LK_AUDIT_KEY_REVOKED_LEAKED "access_key.revoked_leaked"
#define LK_AUDIT_USER_SIGNED_UP "user.signed_up"
#define LK_AUDIT_USER_RENAMED "user.renamed"
#define LK_AUDIT_USER_LOGGED_IN "user.logged_in"
#define LK_AUDIT_USER_LOGIN_FAILED "user.login_failed"
#define LK_AUDIT_USER_PASSWORD_CHANGED "user.password_changed"
#define LK_AUDIT_USER_SESSION_REVOKED "user.session_revoked"

/* The retention default (--audit-retention-days) and the purge's batch. */
#define LK_AUDIT_RETENTION_DAYS_DEFAULT 365
#define LK_AUDIT_PURGE_BATCH 5000

/* What one event says; strings are borrowed for the call. NULL = "". */
typedef struct lk_audit {
    const char *action;        /* LK_AUDIT_* */
    const lk_principal *actor; /* NULL or LK_PRINCIPAL_NONE: anonymous */
    const char *org_id;        /* the org's log it belongs to */
    const char *user_id;       /* the person's security log it belongs to */
    const char *target_type;   /* "organization", "member", "project", … */
    const char *target_id;
    const char *target_name;
    const char *from, *to;     /* details {"from": …, "to": …} (renames, roles) */
    const char *details;       /* else a JSON object text (lk_audit_details) */
} lk_audit;

/* Open the transaction a change and its event share. LK_OK, or the store's
 * failure (on svc->err). */
int lk_audit_begin(lk_svc *svc);

/* Close it. rc is the change's result: LK_OK → insert the event a
 * describes and commit; anything else → roll back. Returns rc if it was
 * not LK_OK, else the insert's or the commit's failure (then nothing of
 * the change is kept), else LK_OK. On failure svc->err is set. */
int lk_audit_end(lk_svc *svc, int rc, const lk_audit *a);

/* Record an event that goes with no change (a failed sign-in): one insert,
 * its own transaction. */
int lk_audit_record(lk_svc *svc, const lk_audit *a);

/* Insert an event inside a transaction the caller already opened with the
 * store's begin() (a use-case that revokes several things in one
 * transaction, e.g. a leaked-token report); the caller commits or rolls
 * back both. LK_OK or the insert's failure (on svc->st->err). */
int lk_audit_insert(lk_svc *svc, const lk_audit *a);

/* The origin of the request the service is working for; the HTTP layer
 * sets it before each call (ip: the client address; ua: the raw
 * User-Agent header, cleaned here). NULL clears. */
void lk_svc_set_origin(lk_svc *svc, const char *ip, const char *ua, size_t ua_len);

/* Build a JSON object text from n key/value string pairs (kv[2i] the key,
 * kv[2i+1] its value; a NULL value is left out) into out. Values are
 * capped and cleaned like the User-Agent. */
void lk_audit_details(char out[LK_AUDIT_DETAILS_SIZE], const char *const *kv, int n);

/* GET /v1/organizations/{org}/audit-events: the org's events, newest
 * first. action / actor (NULL: any) filter: action is a dotted name
 * ("access_key.created"), actor a usr_ or key_ id; else LK_EVALIDATION
 * with field "action" / "actor". Members, and the org's keys. */
int lk_svc_audit_list_org(lk_svc *svc, const lk_principal *p, const char *org_id,
                          const char *action, size_t action_len, const char *actor,
                          size_t actor_len, lk_list *l, lk_audit_cb cb, void *ctx);

/* GET /v1/me/audit-events: the caller's own security events (sign-ins,
 * failed sign-ins for their email, their personal keys, organizations they
 * deleted). A person only (session or personal key). */
int lk_svc_audit_list_me(lk_svc *svc, const lk_principal *p, const char *action,
                         size_t action_len, lk_list *l, lk_audit_cb cb, void *ctx);

/* The retention: delete events created before now - days, in batches of
 * LK_AUDIT_PURGE_BATCH; *deleted gets the total. days <= 0: keep all. */
int lk_svc_audit_purge(lk_svc *svc, int days, int64_t *deleted);

#endif
