/*
 * service_invitations.h — roles and invitations (the contract's "Roles and
 * invitations"), use-cases next to service.h's and written the same way:
 * authorization first (authz.h's table: LK_ACT_ORG_OWNER for what only an
 * owner may do), validation, then one store operation.
 *
 * Invitation links hold a secret token `lki_` + 32 base62 random + 6 base62
 * CRC32 (the access-key format, another prefix): only its SHA-256 is
 * stored; the link is returned once, by lk_svc_invitation_create, and
 * emailed when a mailer is configured. A link is bound to the invited email
 * (compared case-insensitively) and works once, for 7 days.
 *
 * Decisions where the contract is silent (docs/architecture.md):
 *  - accept when already a member: 409 conflict, the invitation stays;
 *  - accept/preview of an unknown, used, revoked or expired link: 404;
 *  - accept with another email: 403, the invitation stays usable by the
 *    invited person;
 *  - several pending invitations for one email may exist; each link works
 *    until used, revoked or expired; any member may revoke one.
 */
#ifndef LK_SERVICE_INVITATIONS_H
#define LK_SERVICE_INVITATIONS_H

#include "service.h"

#define LK_INVITE_TTL (7 * 24 * 3600)
#define LK_INVITE_PREFIX "lki_"
#define LK_INVITE_URL_MAX 640 /* public URL (<= LK_PUBLIC_URL_MAX) + "/invite/" + token */
#define LK_PUBLIC_URL_MAX 512

/* What GET /v1/invitations/{token} shows the invited person. */
typedef struct lk_invite_preview {
    lk_invitation inv;
    lk_org org;
    lk_user inviter; /* id "" if the inviter no longer exists */
} lk_invite_preview;

/* Is s (len bytes) a well-formed invitation token (prefix, length,
 * alphabet, checksum)? Reads at most len bytes. */
bool lk_invite_token_ok(const char *s, size_t len);

/* role: NULL = "member"; "owner" needs an owner. LK_ECONFLICT if the email
 * is already a member's. On success *out is the invitation and url (owned
 * by the caller, LK_INVITE_URL_MAX) holds the link with its secret: the
 * caller writes it once and wipes it (sodium_memzero). */
int lk_svc_invitation_create(lk_svc *svc, const lk_principal *p, const char *org_id,
                             const char *email, size_t email_len, const char *role, size_t role_len,
                             lk_invitation *out, char *url);
int lk_svc_invitation_list(lk_svc *svc, const lk_principal *p, const char *org_id, lk_list *l,
                           lk_invitation_cb cb, void *ctx);
int lk_svc_invitation_revoke(lk_svc *svc, const lk_principal *p, const char *org_id,
                             const char *inv_id);
/* Signed in (session or personal key): the live invitation behind token. */
int lk_svc_invitation_preview(lk_svc *svc, const lk_principal *p, const char *token, size_t len,
                              lk_invite_preview *out);
/* Signed in, with the invited email: join; *out is the new membership. */
int lk_svc_invitation_accept(lk_svc *svc, const lk_principal *p, const char *token, size_t len,
                             lk_member *out);

/* PATCH …/members/{usr} {role}: owners only; the last owner cannot be
 * demoted (LK_ECONFLICT). *out is the member afterwards. */
int lk_svc_member_set_role(lk_svc *svc, const lk_principal *p, const char *org_id,
                           const char *user_id, const char *role, size_t role_len, lk_member *out);

#endif
