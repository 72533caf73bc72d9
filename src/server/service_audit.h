/*
 * service_audit.h — the audit log, service side: recording an event in the
 * same transaction as the change it describes, and the two lists.
 *
 *     service.c (each change) ──► lk_audit_begin … store op … lk_audit_end
 *                                      └── store begin() … audit_insert, commit()
 *
 * The one mechanism: a change and its event are one store transaction.
 * A mutating use-case opens it with lk_audit_begin, runs its store op(s),
 * and closes it with lk_audit_end(svc, rc, &event): when rc is LK_OK the
 * event is inserted and the transaction committed; otherwise (the op
 * failed, or the event insert or the commit fails) everything is rolled
 * back. So no change exists without its event and no event without its
 * change, on both backends (store ops that open a transaction of their own
 * nest inside it: SQLite savepoints, PostgreSQL's in_tx).
 *
 *     int rc = lk_audit_begin(svc);
 *     if (rc == LK_OK) rc = svc->st->ops->project_rename(svc->st, org, id, n);
 *     rc = lk_audit_end(svc, rc, &(lk_audit){"project.renamed", p, org, NULL,
 *                       "project", id, n, .from = old.name, .to = n});
 *
 * Who and from where: the actor comes from the principal (a session is
 * "user", else the key type; none is "anonymous"); the client address and
 * User-Agent from svc->origin, which the HTTP layer sets per request
 * (lk_svc_set_origin: User-Agent capped to LK_AUDIT_UA_SIZE - 1 bytes,
 * control bytes and invalid UTF-8 removed). An event never holds a token,
 * a password, a hash or a cookie: only ids, names, emails and the details
 * the call site passes (names and values, never secrets).
 *
 * No API edits or deletes an event; lk_svc_audit_purge (the retention
 * timer, off the request path) deletes those older than the retention.
 */
#ifndef LK_SERVICE_AUDIT_H
#define LK_SERVICE_AUDIT_H

#include "service.h"

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
