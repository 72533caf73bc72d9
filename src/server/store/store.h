/*
 * store.h — the storage interface: everything latchkey keeps, behind one
 * table of function pointers per backend (the shape of Redis's ae.c in front
 * of ae_epoll.c / ae_kqueue.c):
 *
 *     service.c, authz.c ──► lk_store (this file) ──► store_sqlite.c
 *                                                 └─► store_pg.c
 *
 * Rules every backend keeps:
 *  - No SQL leaves the backend files; callers see only these records and ops.
 *  - An lk_store is one connection. It is used by one thread at a time
 *    (latchkeyd opens one per event-loop thread and per worker thread).
 *  - Every write that returns LK_OK is durable (SQLite: WAL with
 *    synchronous=FULL; PostgreSQL: a committed transaction). Multi-row writes
 *    (org_create, org_delete, dump/load) are one transaction.
 *  - Return codes are lk_err codes (err.h): LK_OK, LK_ENOT_FOUND when a row
 *    addressed by id does not exist, LK_ECONFLICT for a unique violation
 *    (email taken, member already in), LK_EUNAVAILABLE when the database
 *    cannot be reached (the connection is re-established on the next call),
 *    LK_EINTERNAL otherwise. Details go to st->err.message in words safe to
 *    show a caller; raw driver text is logged to stderr without parameters.
 *  - Records use fixed-size buffers: no op allocates memory the caller must
 *    free. Strings are NUL-terminated UTF-8. Times are int64 Unix seconds;
 *    0 means "not set" (last_used_at, expires_at).
 *  - Lists run newest first (by seq, a per-table monotonically increasing
 *    number assigned at insert), call `cb` once per row, at most page->limit
 *    rows, only rows with seq < page->before_seq when before_seq > 0. If cb
 *    returns non-zero the iteration stops and that value is returned.
 *  - Only token hashes are stored; a backend never sees a token.
 */
#ifndef LK_STORE_H
#define LK_STORE_H

#include "cidr.h"
#include "err.h"
#include "id.h"
#include "scope.h"
#include "token.h"
#include "validate.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LK_PWHASH_SIZE 128 /* crypto_pwhash_STRBYTES */
#define LK_CSRF_SIZE 48    /* 43 base64url chars + NUL */
#define LK_PLAN_SIZE 16
#define LK_PLAN_DEFAULT "free" /* a new org's plan */
#define LK_SESSION_IP_SIZE 64  /* a client address as text ("2001:db8::1") */
#define LK_SESSION_UA_SIZE 256 /* a User-Agent as kept: 255 bytes at most */

/* st->err's message when member_remove_unless_last refuses. */
#define LK_STORE_LAST_MEMBER "the last member of an organization cannot be removed"
/* --- scopes --- allowed_cidrs as stored: canonical CIDRs joined by ",",
 * at most LK_CIDR_LIST_MAX of at most LK_CIDR_TEXT_SIZE - 1 bytes each. */
#define LK_KEY_CIDRS_SIZE (LK_CIDR_LIST_MAX * LK_CIDR_TEXT_SIZE)
#define LK_ROLE_SIZE 8 /* "owner" | "member" + NUL */
#define LK_ROLE_OWNER "owner"
#define LK_ROLE_MEMBER "member"

typedef struct lk_user {
    char id[LK_ID_SIZE];
    char email[LK_EMAIL_SIZE]; /* as given at signup */
    char name[LK_NAME_SIZE];
    int64_t created_at;
} lk_user;

typedef struct lk_session {
    char user_id[LK_ID_SIZE];
    char csrf[LK_CSRF_SIZE];
    int64_t created_at;
    int64_t expires_at;
    /* --- account: what the person sees of a session (GET /v1/me/sessions) --- */
    char id[LK_ID_SIZE];                   /* "ses_…"; the cookie's hash is the key */
    char ip[LK_SESSION_IP_SIZE];           /* client address at login */
    char user_agent[LK_SESSION_UA_SIZE];   /* capped, control bytes removed */
    int64_t last_seen_at;                  /* batched like keys' last_used_at */
    int64_t created_us; /* login order: microseconds, strictly increasing per
                         * process (created_at is whole seconds) */
} lk_session;

typedef struct lk_org {
    char id[LK_ID_SIZE];
    char name[LK_NAME_SIZE];
    int64_t created_at;
    int64_t seq;
    /* --- scopes --- */
    int64_t key_max_lifetime_days; /* access_key_max_lifetime_days; 0 = no limit */
} lk_org;

typedef struct lk_member {
    char org_id[LK_ID_SIZE];
    char user_id[LK_ID_SIZE];
    char email[LK_EMAIL_SIZE]; /* filled by member_list; ignored by load */
    char name[LK_NAME_SIZE];   /* filled by member_list; ignored by load */
    int64_t joined_at;
    char role[LK_ROLE_SIZE]; /* LK_ROLE_OWNER | LK_ROLE_MEMBER */
    int64_t seq;
} lk_member;

typedef struct lk_project {
    char id[LK_ID_SIZE];
    char org_id[LK_ID_SIZE];
    char name[LK_NAME_SIZE];
    int64_t created_at;
    int64_t seq;
} lk_project;

typedef struct lk_env {
    char id[LK_ID_SIZE];
    char project_id[LK_ID_SIZE];
    char name[LK_NAME_SIZE];
    int64_t created_at;
    int64_t seq;
} lk_env;

typedef struct lk_billing {
    char org_id[LK_ID_SIZE];
    char plan[LK_PLAN_SIZE]; /* "free" | "pro" | "enterprise" */
    char billing_email[LK_EMAIL_SIZE];
    int64_t updated_at;
} lk_billing;

typedef enum lk_key_type {
    LK_KEY_ORG = 1,      /* type "organization", token lko_ */
    LK_KEY_PERSONAL = 2, /* type "personal", token lkp_ */
} lk_key_type;

typedef struct lk_key {
    char id[LK_ID_SIZE];
    lk_key_type type;
    char org_id[LK_ID_SIZE];     /* org keys: the owning org; personal: "" */
    char user_id[LK_ID_SIZE];    /* personal keys: the owner; org keys: "" */
    char created_by[LK_ID_SIZE]; /* user who created it */
    char name[LK_NAME_SIZE];
    char redacted[LK_TOKEN_REDACTED_SIZE];
    int64_t created_at;
    int64_t last_used_at; /* 0 = never */
    int64_t expires_at;   /* 0 = never */
    int64_t seq;
    /* --- scopes --- */
    lk_scopes scopes;                      /* closed mask (scope.h); LK_SCOPE_ALL = "*" */
    char allowed_cidrs[LK_KEY_CIDRS_SIZE]; /* canonical "CIDR,CIDR"; "" = anywhere */
    char created_by_key[LK_ID_SIZE];       /* the minting key, or "" */
    char last_used_ip[LK_ADDR_TEXT_SIZE];  /* canonical address, or "" */
    /* After a rotation with a grace period: when the previous token stops
     * working (Unix seconds, judged by the database's clock); 0 = no
     * previous token. May be in the past until the purge clears it. */
    int64_t prev_expires_at;
} lk_key;

/* --- device --- a sign-in from the CLI through the browser (RFC 8628's
 * shape; service_device.h). Only hashes of both codes are kept. Rows are
 * short-lived: device_create deletes the expired ones. Not copied by
 * migrate-data (a pending sign-in does not outlive ten minutes). */
typedef enum lk_device_status {
    LK_DEVICE_PENDING = 0,  /* waiting for a person at /device */
    LK_DEVICE_APPROVED = 1, /* approved by user_id; the key is made on the next poll */
    LK_DEVICE_DENIED = 2,
    LK_DEVICE_USED = 3, /* the key was handed to the poller: never again */
} lk_device_status;

#define LK_DEVICE_ADDR_SIZE 64 /* the requesting client's address, as text */

typedef struct lk_device {
    uint8_t device_hash[LK_TOKEN_HASH_LEN]; /* SHA-256 of device_code */
    uint8_t user_hash[LK_TOKEN_HASH_LEN];   /* SHA-256 of the canonical user_code */
    char client_name[LK_NAME_SIZE];         /* what the CLI called itself */
    char client_addr[LK_DEVICE_ADDR_SIZE];  /* where the request came from */
    int64_t scopes;                         /* requested scopes, canonical mask (scope.h) */
    int64_t status;                         /* lk_device_status */
    char user_id[LK_ID_SIZE];               /* the approver (or denier), else "" */
    char key_id[LK_ID_SIZE];                /* USED: the key handed out, else "" */
    int64_t created_at;
    int64_t expires_at;
    int64_t last_poll_at; /* 0: never polled */
    int64_t interval;     /* seconds the poller must wait between polls */
} lk_device;
/* --- end device --- */

/* One last-used observation, flushed in batches (see usage.h). */
typedef struct lk_key_touch {
    char id[LK_ID_SIZE];
    int64_t at;
    /* --- scopes --- */
    char ip[LK_ADDR_TEXT_SIZE]; /* the client address of that use, or "" */
} lk_key_touch;

/* The API's `limit` is 1..LK_LIST_MAX_LIMIT (the service checks it); a
 * store page holds at most one row more (the service reads one extra row
 * to learn whether there is a next page); the backends assert it. */
#define LK_LIST_DEFAULT_LIMIT 100
#define LK_LIST_MAX_LIMIT 1000
#define LK_STORE_PAGE_MAX (LK_LIST_MAX_LIMIT + 1)
/* --- roles and invitations --- */
/* A pending invitation: a membership offered to whoever holds the link
 * (its token's hash is stored, never the token) and signs in with `email`.
 * Used or revoked invitations are deleted, so every stored row is pending
 * until expires_at. */
typedef struct lk_invitation {
    char id[LK_ID_SIZE]; /* inv_… */
    char org_id[LK_ID_SIZE];
    char email[LK_EMAIL_SIZE];   /* as given by the inviter */
    char role[LK_ROLE_SIZE];     /* the role the membership will have */
    char invited_by[LK_ID_SIZE]; /* the inviting user */
    int64_t created_at;
    int64_t expires_at;
    int64_t seq;
} lk_invitation;

typedef int (*lk_invitation_cb)(void *ctx, const lk_invitation *inv);

/* st->err's message when an op refuses to leave an org without an owner. */
#define LK_STORE_LAST_OWNER "the last owner of an organization cannot leave or be demoted"
/* --- end roles and invitations --- */

typedef struct lk_page {
    int64_t before_seq; /* 0: start at the newest */
    int limit;          /* rows to return at most, 1..LK_STORE_PAGE_MAX */
} lk_page;

/* --- audit --- */
/* One audit event (the contract's "Audit log"): written by the service in
 * the same transaction as the change it describes (service_audit.c), never
 * edited; only audit_purge deletes, by age. Text fields are plain UTF-8 the
 * service has already capped and cleaned; details is a JSON object's text
 * the service built ("{}" when there is nothing to say). org_id and
 * user_id carry no foreign key: an org's `organization.deleted` event
 * outlives the org. */
#define LK_AUDIT_ACTION_SIZE 48
#define LK_AUDIT_TYPE_SIZE 24
#define LK_AUDIT_IP_SIZE 64      /* a client address as text */
#define LK_AUDIT_UA_SIZE 256     /* User-Agent, capped to 255 bytes */
#define LK_AUDIT_DETAILS_SIZE 2048
#define LK_AUDIT_LABEL_SIZE (LK_EMAIL_SIZE > LK_NAME_SIZE ? LK_EMAIL_SIZE : LK_NAME_SIZE)

typedef struct lk_audit_event {
    char id[LK_ID_SIZE];                     /* evt_… */
    char action[LK_AUDIT_ACTION_SIZE];       /* "access_key.renamed" */
    char actor_type[LK_AUDIT_TYPE_SIZE];     /* user|personal_key|organization_key|anonymous */
    char actor_id[LK_ID_SIZE];               /* usr_… / key_… / "" */
    char actor_name[LK_AUDIT_LABEL_SIZE];
    char actor_user_id[LK_ID_SIZE];          /* the person behind it (user, personal key) */
    char target_type[LK_AUDIT_TYPE_SIZE];    /* organization|member|project|… */
    char target_id[LK_ID_SIZE];
    char target_name[LK_AUDIT_LABEL_SIZE];
    char org_id[LK_ID_SIZE];                 /* the org's log it belongs to, or "" */
    char user_id[LK_ID_SIZE];                /* the person's security log it is in, or "" */
    char ip[LK_AUDIT_IP_SIZE];
    char user_agent[LK_AUDIT_UA_SIZE];
    char details[LK_AUDIT_DETAILS_SIZE];     /* a JSON object */
    int64_t created_at;
    int64_t seq;
} lk_audit_event;

/* --- leak reports (schema version 9) --- One row per UTC day of public
 * leaked-token reports (POST /v1/leaked-tokens): how many reports, how
 * many entries they held, how many of those ended a token. No token, no
 * hash, no address: a count is all a report leaves behind besides the
 * access_key.revoked_leaked events of what it revoked. */
#define LK_LEAK_DAY_SECS 86400
typedef struct lk_leak_day {
    int64_t day; /* unix time / LK_LEAK_DAY_SECS */
    int64_t reports, entries, revoked;
} lk_leak_day;

/* Which events an audit_list returns: an org's (org_id set) or a person's
 * security log (user_id set; exactly one of the two); action and actor
 * ("" or NULL: any) narrow it. actor matches actor_id or actor_user_id, so
 * a person's id finds what they did by session and by personal key. */
typedef struct lk_audit_filter {
    const char *org_id;
    const char *user_id;
    const char *action;
    const char *actor;
} lk_audit_filter;

typedef int (*lk_audit_cb)(void *ctx, const lk_audit_event *ev);

/* A whole row of any table, for migrate-data (dump from one store, load
 * into another). Hashes are carried so that existing tokens and passwords
 * keep working after a migration. */
typedef enum lk_record_kind {
    LK_REC_USER = 1,
    LK_REC_ORG,
    LK_REC_MEMBER,
    LK_REC_PROJECT,
    LK_REC_ENV,
    LK_REC_BILLING,
    LK_REC_KEY,
    LK_REC_AUDIT, /* --- audit --- (no foreign key: loaded last) */
} lk_record_kind;

/* A user with the columns its record leaves out. */
typedef struct lk_user_row {
    lk_user user; /* first: the record view (schema.h) */
    char email_lower[LK_EMAIL_SIZE];
    char pwhash[LK_PWHASH_SIZE];
} lk_user_row;

/* An access key with its token's hash. */
typedef struct lk_key_row {
    lk_key key; /* first: the record view (schema.h) */
    uint8_t hash[LK_TOKEN_HASH_LEN];
    /* --- rotate: the previous token's hash; all zero = none (NULL) */
    uint8_t prev_hash[LK_TOKEN_HASH_LEN];
} lk_key_row;

typedef struct lk_record {
    lk_record_kind kind;
    union {
        lk_user_row u;
        lk_org org;
        lk_member member;
        lk_project project;
        lk_env env;
        lk_billing billing;
        lk_key_row k;
        lk_audit_event audit; /* --- audit --- */
    } as;
} lk_record;

typedef int (*lk_org_cb)(void *ctx, const lk_org *o);
typedef int (*lk_member_cb)(void *ctx, const lk_member *m);
typedef int (*lk_project_cb)(void *ctx, const lk_project *p);
typedef int (*lk_env_cb)(void *ctx, const lk_env *v);
typedef int (*lk_key_cb)(void *ctx, const lk_key *k);
typedef int (*lk_record_cb)(void *ctx, const lk_record *r);
typedef int (*lk_session_cb)(void *ctx, const lk_session *s);

/* A row callback of any record kind (the caller knows which member is set). */
typedef union lk_row_cb {
    lk_org_cb org;
    lk_member_cb member;
    lk_project_cb project;
    lk_env_cb env;
    lk_key_cb key;
    lk_record_cb record; /* row is an lk_record (dump) */
    lk_session_cb session;       /* lists only (not dumped) */
    lk_invitation_cb invitation; /* lists only (not dumped) */
} lk_row_cb;


/* The named children (child_* ops): an index into schema.c's lk_schema_children. */
typedef enum lk_child_kind {
    LK_CHILD_PROJECT, /* lk_project, under an org */
    LK_CHILD_ENV,     /* lk_env, under a project */
    LK_CHILD_KINDS
} lk_child_kind;

typedef struct lk_store lk_store;

typedef struct lk_store_ops {
    const char *name; /* "sqlite", "postgresql" */

    /* -- lifecycle ------------------------------------------------------ */
    /* Open one connection for `url` (the part the backend understands).
     * On success *out is owned by the caller; release with close. */
    int (*open)(const char *url, lk_store **out, lk_err *e);
    void (*close)(lk_store *st);
    /* Create or upgrade the schema; safe to run from several processes at
     * once (exactly one applies each version). */
    int (*migrate)(lk_store *st);
    /* A cheap round trip: LK_OK if the database answers. */
    int (*ping)(lk_store *st);

    /* -- users and sessions -------------------------------------------- */
    /* LK_ECONFLICT if email_lower is taken. */
    int (*user_create)(lk_store *st, const lk_user *u, const char *email_lower, const char *pwhash);
    int (*user_get)(lk_store *st, const char *id, lk_user *out);
    /* pwhash (LK_PWHASH_SIZE) may be NULL. */
    int (*user_get_by_email)(lk_store *st, const char *email_lower, lk_user *out, char *pwhash);
    int (*user_rename)(lk_store *st, const char *id, const char *name);

    int (*session_create)(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN], const lk_session *s);
    int (*session_get)(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_session *out);
    int (*session_delete)(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN]);

    /* -- organizations and members -------------------------------------- */
    /* Inserts the org (o->seq ignored), makes creator_id a member at
     * o->created_at, and creates its billing row (plan "free",
     * billing_email = billing_email), all in one transaction. */
    int (*org_create)(lk_store *st, const lk_org *o, const char *creator_id,
                      const char *billing_email);
    int (*org_get)(lk_store *st, const char *id, lk_org *out);
    int (*org_rename)(lk_store *st, const char *id, const char *name);
    /* Deletes the org with its members, projects, environments, billing and
     * access keys, in one transaction. */
    int (*org_delete)(lk_store *st, const char *id);
    /* The orgs user_id is a member of, newest org first. */
    int (*org_list_for_user)(lk_store *st, const char *user_id, const lk_page *pg, lk_org_cb cb,
                             void *ctx);

    /* LK_OK if user_id is a member of org_id, else LK_ENOT_FOUND. */
    int (*member_check)(lk_store *st, const char *org_id, const char *user_id);
    /* LK_ECONFLICT if already a member. */
    int (*member_add)(lk_store *st, const char *org_id, const char *user_id, int64_t joined_at);
    int (*member_remove)(lk_store *st, const char *org_id, const char *user_id);
    /* member_remove, unless user_id is the org's last member: one atomic
     * decision (the count and the delete cannot interleave with another
     * removal from the same org). LK_ENOT_FOUND if user_id is not a member,
     * LK_ECONFLICT if it is the last one. Rules of the same shape ("the
     * last owner" once members have roles) belong here, not above the
     * store. */
    int (*member_remove_unless_last)(lk_store *st, const char *org_id, const char *user_id);
    int (*member_count)(lk_store *st, const char *org_id, int64_t *out);
    /* Newest membership first; fills email and name from users. */
    int (*member_list)(lk_store *st, const char *org_id, const lk_page *pg, lk_member_cb cb,
                       void *ctx);

    /* -- projects and environments: named children ------------------------
     * Both are a name under a parent (a project under an org, an
     * environment under a project) with the same columns and rules, so one
     * set of ops serves both; `kind` says which (schema.h's lk_child
     * describes each). row/out is an lk_project for LK_CHILD_PROJECT
     * (parent_id: its org) and an lk_env for LK_CHILD_ENV (parent_id: its
     * project). get/rename/delete are scoped: LK_ENOT_FOUND ("project not
     * found", "environment not found") unless the row belongs to
     * parent_id. Deleting a project deletes its environments too. */
    int (*child_create)(lk_store *st, lk_child_kind kind, const void *row);
    int (*child_get)(lk_store *st, lk_child_kind kind, const char *parent_id, const char *id,
                     void *out);
    int (*child_rename)(lk_store *st, lk_child_kind kind, const char *parent_id, const char *id,
                        const char *name);
    int (*child_delete)(lk_store *st, lk_child_kind kind, const char *parent_id, const char *id);
    /* cb.project or cb.env, as kind says. */
    int (*child_list)(lk_store *st, lk_child_kind kind, const char *parent_id, const lk_page *pg,
                      lk_row_cb cb, void *ctx);

    int (*billing_get)(lk_store *st, const char *org_id, lk_billing *out);
    int (*billing_set)(lk_store *st, const lk_billing *b);

    /* -- access keys ---------------------------------------------------- */
    /* Inserts k (k->seq ignored) with the token's hash. LK_ECONFLICT on a
     * hash collision (never in practice). */
    int (*key_create)(lk_store *st, const lk_key *k, const uint8_t hash[LK_TOKEN_HASH_LEN]);
    int (*key_get)(lk_store *st, const char *id, lk_key *out);
    /* The hot path: one indexed look-up by token hash. Returns the row even
     * if expired (the caller decides). */
    int (*key_get_by_hash)(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_key *out);
    /* key_get_by_hash plus the key's owner, read by the same statement (one
     * snapshot; one round trip): for a personal key its user into *user,
     * for an org key its org into *org. The record that does not apply,
     * and an owner row that no longer exists, come back zeroed (id ""). For
     * requests that need the owner anyway (GET /v1/whoami): one read
     * instead of two. LK_ENOT_FOUND if no key has this hash. */
    int (*key_get_by_hash_owner)(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_key *key,
                                 lk_user *user, lk_org *org);
    int (*key_rename)(lk_store *st, const char *id, const char *name);
    int (*key_delete)(lk_store *st, const char *id);
    /* Keys of an org / personal keys of a user, newest first, leaving out
     * keys with 0 < expires_at <= now. */
    int (*key_list_org)(lk_store *st, const char *org_id, int64_t now, const lk_page *pg,
                        lk_key_cb cb, void *ctx);
    int (*key_list_user)(lk_store *st, const char *user_id, int64_t now, const lk_page *pg,
                         lk_key_cb cb, void *ctx);
    /* last_used_at = max(last_used_at, at) for each item, and last_used_ip
     * = ip where ip is not "" and at >= last_used_at; ids that no longer
     * exist are skipped. One transaction. */
    int (*key_touch)(lk_store *st, const lk_key_touch *items, size_t n);

    /* --- scopes --------------------------------------------------------- */
    /* allowed_cidrs = cidrs (canonical text, "" = anywhere). */
    int (*key_set_cidrs)(lk_store *st, const char *id, const char *cidrs);
    /* access_key_max_lifetime_days = days (0 stored as NULL: no limit). */
    int (*org_set_key_lifetime)(lk_store *st, const char *id, int64_t days);

    /* --- device --- (lk_device above) */
    /* Delete rows with expires_at <= now, then insert d. LK_ECONFLICT if a
     * live row has the same user_hash (the caller draws another code). */
    int (*device_create)(lk_store *st, const lk_device *d, int64_t now);
    int (*device_get)(lk_store *st, const uint8_t device_hash[LK_TOKEN_HASH_LEN], lk_device *out);
    int (*device_get_by_user)(lk_store *st, const uint8_t user_hash[LK_TOKEN_HASH_LEN],
                              lk_device *out);
    /* Note a poll: last_poll_at and interval. */
    int (*device_poll)(lk_store *st, const uint8_t device_hash[LK_TOKEN_HASH_LEN],
                       int64_t last_poll_at, int64_t interval);
    /* PENDING → status (APPROVED or DENIED) by user_id, only while
     * expires_at > now: else LK_ENOT_FOUND (a second decision, a race with
     * another approver, an expired code). */
    int (*device_decide)(lk_store *st, const uint8_t user_hash[LK_TOKEN_HASH_LEN], int64_t status,
                         const char *user_id, int64_t now);
    /* In one transaction: APPROVED → USED with key_id = k->id, only while
     * expires_at > now and the approver is k->user_id, and insert the key k
     * with its token hash. LK_ENOT_FOUND if the row is not (any more) in
     * that state: two pollers racing get the key once. */
    int (*device_redeem)(lk_store *st, const uint8_t device_hash[LK_TOKEN_HASH_LEN], int64_t now,
                         const lk_key *k, const uint8_t key_hash[LK_TOKEN_HASH_LEN]);
    /* --- end device --- */

    /* -- bulk copy (latchkeyd migrate-data) ------------------------------ */
    /* LK_OK and *empty = true if there are no users and no orgs. */
    int (*is_empty)(lk_store *st, bool *empty);
    /* Every row, in an order that satisfies foreign keys on load: users,
     * orgs, members, projects, environments, billing, keys, audit events. */
    int (*dump)(lk_store *st, lk_record_cb cb, void *ctx);
    /* begin..commit/rollback: one transaction. SQLite nests them: inside an
     * open transaction they are a savepoint (the writer's group commit,
     * jobs.h, runs every job's transaction inside its batch's); PostgreSQL,
     * which has no writer, refuses a second begin. */
    int (*begin)(lk_store *st);
    int (*commit)(lk_store *st);
    int (*rollback)(lk_store *st);
    /* Insert one record exactly as given (ids, times, hashes); a billing row
     * replaces the one org_create made. */
    int (*load)(lk_store *st, const lk_record *r);

    /* --- account: sessions and passwords ------------------------------- */
    /* session_create with the per-user cap, in one transaction: the user's
     * expired sessions (expires_at <= now) are deleted and, of its live
     * ones, only the newest max - 1 (by created_us) are kept before s is
     * inserted, so the
     * user never has more than max (two logins at once cannot both see
     * room: SQLite BEGIN IMMEDIATE, PostgreSQL the user row FOR UPDATE).
     * LK_ENOT_FOUND if the user no longer exists. */
    int (*session_create_capped)(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                                 const lk_session *s, int max, int64_t now);
    /* The user's live sessions (expires_at > now), newest first (by
     * created_us), at most max rows. */
    int (*session_list)(lk_store *st, const char *user_id, int64_t now, int max, lk_session_cb cb,
                        void *ctx);
    /* Delete the user's session with this id; LK_ENOT_FOUND if it has none. */
    int (*session_delete_id)(lk_store *st, const char *user_id, const char *id);
    /* Set the user's password hash and delete every session of the user but
     * keep_id ("" deletes them all), in one transaction. */
    int (*user_set_password)(lk_store *st, const char *user_id, const char *pwhash,
                             const char *keep_id);
    /* last_seen_at = max(last_seen_at, at) per session id (lk_key_touch
     * items carrying "ses_" ids); ids that no longer exist are skipped. */
    int (*session_touch)(lk_store *st, const lk_key_touch *items, size_t n);
    /* Delete every session with expires_at <= now; *purged gets the count. */
    int (*session_purge)(lk_store *st, int64_t now, int64_t *purged);

    /* --- roles and invitations --- */
    /* One membership (with the user's email and name, as member_list
     * fills them); LK_ENOT_FOUND if user_id is not a member of org_id. */
    int (*member_get)(lk_store *st, const char *org_id, const char *user_id, lk_member *out);
    /* Set a member's role, unless that would leave the org without an owner
     * (LK_ECONFLICT, LK_STORE_LAST_OWNER): one atomic operation (SQLite:
     * BEGIN IMMEDIATE; PostgreSQL: the org row FOR UPDATE). LK_ENOT_FOUND
     * if user_id is not a member. */
    int (*member_set_role)(lk_store *st, const char *org_id, const char *user_id, const char *role);
    /* Insert a pending invitation with its token's hash (inv->seq ignored). */
    int (*invitation_create)(lk_store *st, const lk_invitation *inv,
                             const uint8_t hash[LK_TOKEN_HASH_LEN]);
    /* The invitation with this hash, expired or not; LK_ENOT_FOUND. */
    int (*invitation_get_by_hash)(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                                  lk_invitation *out);
    /* Pending invitations of an org (expires_at > now), newest first. */
    int (*invitation_list)(lk_store *st, const char *org_id, int64_t now, const lk_page *pg,
                           lk_invitation_cb cb, void *ctx);
    /* Revoke (delete) one; LK_ENOT_FOUND unless it belongs to org_id. */
    int (*invitation_delete)(lk_store *st, const char *org_id, const char *id);
    /* Use the invitation with this hash, once: in one transaction delete it
     * (only if expires_at > now) and make user_id a member of its org with
     * its role at `now`. LK_ENOT_FOUND if there is no such live invitation
     * (unknown, used, revoked, expired), LK_ECONFLICT if user_id is already
     * a member (nothing changes then). *out gets the membership (org_id,
     * user_id, role, joined_at). */
    int (*invitation_accept)(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN],
                             const char *user_id, int64_t now, lk_member *out);
    /* --- end roles and invitations --- */

    /* --- rotate: key rotation and leaked-token revocation --------------- */
    /* A key has at most one previous token hash (prev_hash, UNIQUE index)
     * with its end (prev_expires_at). key_get_by_hash and
     * key_get_by_hash_owner find a key by its current hash, or by its
     * previous hash while prev_expires_at is later than the database's
     * clock — one indexed statement either way. "Now" for the grace period
     * is the database's clock, so every process sharing the store agrees on
     * the moment a previous token ends.
     *
     * key_rotate: the key's hash becomes new_hash and its redacted preview
     * `redacted`; with grace_secs > 0 the old hash becomes the previous one
     * until now + grace_secs, with 0 there is none. Either way an earlier
     * previous hash is dropped at once. *out: the key as stored afterwards.
     * LK_ENOT_FOUND if no key has this id. */
    int (*key_rotate)(lk_store *st, const char *id, const uint8_t new_hash[LK_TOKEN_HASH_LEN],
                      const char *redacted, int64_t grace_secs, lk_key *out);
    /* Ends the token with this hash, whatever it is: a key's current token
     * deletes the key (as key_delete); a live previous token is cleared
     * (the key and its current token stay). *out: the key as it was,
     * *was_previous: which one matched. LK_ENOT_FOUND if neither. Every
     * call runs the same statements whether or not anything matches. */
    int (*key_revoke_token)(lk_store *st, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_key *out,
                            bool *was_previous);
    /* Clears every previous hash whose end has passed; *n: how many (may
     * be NULL). */
    int (*key_purge_previous)(lk_store *st, int64_t *n);
    /* --- leak reports --- */
    /* Count one report on the day of `now` (lk_leak_day): an upsert that
     * adds 1, entries and revoked to that day's row. Every report runs it
     * once, inside its begin() … commit(), whatever it held, so every
     * report commits a write (one WAL fsync on SQLite, one WAL flush on
     * PostgreSQL) and none is a read-only transaction that skips it. */
    int (*leak_report_count)(lk_store *st, int64_t now, int64_t entries, int64_t revoked);
    /* The row of `day` (unix time / LK_LEAK_DAY_SECS); LK_ENOT_FOUND. */
    int (*leak_report_get)(lk_store *st, int64_t day, lk_leak_day *out);
    /* --- audit --- */
    /* Insert ev (ev->seq ignored). Called inside the caller's begin() …
     * commit() with the change it records (service_audit.c). */
    int (*audit_insert)(lk_store *st, const lk_audit_event *ev);
    /* Events of f's org or person, newest first (page as for every list). */
    int (*audit_list)(lk_store *st, const lk_audit_filter *f, const lk_page *pg, lk_audit_cb cb,
                      void *ctx);
    /* Delete at most max_rows events with created_at < before, oldest
     * first; *deleted gets how many (the retention timer calls it until it
     * deletes fewer than max_rows). */
    int (*audit_purge)(lk_store *st, int64_t before, int max_rows, int64_t *deleted);
} lk_store_ops;

/* The common head of every backend's connection struct: a backend defines
 * `struct x { lk_store base; ... }` and casts. */
struct lk_store {
    const lk_store_ops *ops;
    lk_err err; /* details of the last failure on this connection */
};

/* Backends. */
extern const lk_store_ops lk_store_sqlite_ops;
extern const lk_store_ops lk_store_pg_ops;

/* The --database URL schemes. */
#define LK_STORE_SQLITE_SCHEME "sqlite:"
#define LK_STORE_PG_SCHEME "postgresql://"
#define LK_STORE_PG_SCHEME_SHORT "postgres://"

/* Does url start with scheme? */
static inline bool lk_store_url_is(const char *url, const char *scheme)
{
    return strncmp(url, scheme, strlen(scheme)) == 0;
}

/* Pick the backend for a --database URL: "sqlite:PATH" or
 * "postgresql://..." / "postgres://...". NULL (and a message on e) if none. */
const lk_store_ops *lk_store_backend(const char *url, lk_err *e);

/* lk_store_backend + open. *out is owned by the caller (lk_store_close). */
int lk_store_open(const char *url, lk_store **out, lk_err *e);
void lk_store_close(lk_store *st);

/* The newer-schema guard's error, worded once for every backend: the
 * database records schema version `have`, this build knows up to `known`.
 * Returns LK_EINTERNAL. */
int lk_store_err_schema_newer(lk_err *e, long long have, int known);

#endif
