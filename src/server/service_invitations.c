/*
 * service_invitations.c — roles and invitations (service_invitations.h).
 *
 * Every function: clear the error handles, ask authz (owner-only steps ask
 * for LK_ACT_ORG_OWNER), validate, then one store operation — the atomic
 * ones (accept = use once + join; set role unless last owner) live in the
 * store, not here. Tokens and links are wiped before returning except the
 * one link handed to the caller of lk_svc_invitation_create.
 */
#include "service_invitations.h"

#include "authz.h"
#include "mailer.h"
#include "timefmt.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char *INV_NF = "invitation not found";
static const char *MEMBER_NF = "member not found";
static const char *ORG_NF = "organization not found";

static void copy_id(char dst[LK_ID_SIZE], const char *src)
{
    memset(dst, 0, LK_ID_SIZE);
    memcpy(dst, src, strnlen(src, LK_ID_SIZE - 1));
}

/* --- tokens ---------------------------------------------------------------- */

/* An access-key token with the lki_ prefix: the checksum covers only the
 * random part, so the format (and lk_token_parse's checks) carry over. */
static int invite_token_new(char out[LK_TOKEN_SIZE])
{
    int rc = lk_token_generate(LK_TOKEN_ORG, out);
    if (rc == LK_OK) memcpy(out, LK_INVITE_PREFIX, LK_TOKEN_PREFIX_LEN);
    return rc;
}

bool lk_invite_token_ok(const char *s, size_t len)
{
    char probe[LK_TOKEN_SIZE];
    if (s == NULL || len != LK_TOKEN_LEN || memcmp(s, LK_INVITE_PREFIX, LK_TOKEN_PREFIX_LEN) != 0)
        return false;
    memcpy(probe, "lko_", LK_TOKEN_PREFIX_LEN);
    memcpy(probe + LK_TOKEN_PREFIX_LEN, s + LK_TOKEN_PREFIX_LEN, len - LK_TOKEN_PREFIX_LEN);
    probe[len] = '\0';
    bool ok = lk_token_parse(probe, len, NULL) == LK_TOKEN_OK;
    sodium_memzero(probe, sizeof probe);
    return ok;
}

/* role[LK_ROLE_SIZE] from the request; NULL means dflt (NULL: required). */
static int role_parse(lk_svc *svc, const char *s, size_t len, const char *dflt, char *role)
{
    if (s == NULL && dflt != NULL) {
        snprintf(role, LK_ROLE_SIZE, "%s", dflt);
        return LK_OK;
    }
    if (s != NULL && len == strlen(LK_ROLE_OWNER) && memcmp(s, LK_ROLE_OWNER, len) == 0)
        snprintf(role, LK_ROLE_SIZE, "%s", LK_ROLE_OWNER);
    else if (s != NULL && len == strlen(LK_ROLE_MEMBER) && memcmp(s, LK_ROLE_MEMBER, len) == 0)
        snprintf(role, LK_ROLE_SIZE, "%s", LK_ROLE_MEMBER);
    else
        return lk_err_field(&svc->err, "role", "must be \"owner\" or \"member\"");
    return LK_OK;
}

/* --- the email ------------------------------------------------------------- */

/* Queue the invitation email (no-op without a mailer). Failures are the
 * mailer's to log; the API call does not fail for them. */
static void invite_mail(lk_svc *svc, const lk_invitation *inv, const char *org_name,
                        const lk_user *inviter, const char *url)
{
    if (svc->cfg == NULL || svc->cfg->mailer == NULL) return;
    char subject[LK_MAILER_SUBJECT_MAX], body[LK_MAILER_BODY_MAX], until[LK_TIME_SIZE];
    lk_time_format(inv->expires_at, until);
    int s = snprintf(subject, sizeof subject, "Join %s on latchkey", org_name);
    int n =
        s < 0 || (size_t)s >= sizeof subject
            ? -1
            : snprintf(body, sizeof body,
                       "%s (%s) invited you to join the organization \"%s\" on latchkey as %s.\n"
                       "\n"
                       "Open this link to accept or decline:\n"
                       "\n"
                       "%s\n"
                       "\n"
                       "The link works once, only for an account with the email address %s,\n"
                       "until %s. If you did not expect this invitation, ignore this email.\n",
                       inviter->name, inviter->email, org_name, inv->role, url, inv->email, until);
    if (n > 0 && (size_t)n < sizeof body)
        (void)lk_mailer_send(svc->cfg->mailer, inv->email, subject, body);
    sodium_memzero(body, sizeof body);
}

/* --- create, list, revoke -------------------------------------------------- */

/* LK_ECONFLICT if the user with this (lower-cased) email is in org_id. */
static int not_yet_member(lk_svc *svc, const char *org_id, const char *lower)
{
    lk_user u;
    int rc = svc->st->ops->user_get_by_email(svc->st, lower, &u, NULL);
    if (rc == LK_ENOT_FOUND) return LK_OK;
    if (rc != LK_OK) return lk_svc__store_err(svc, rc, NULL);
    rc = svc->st->ops->member_check(svc->st, org_id, u.id);
    if (rc == LK_OK) return lk_err_set(&svc->err, LK_ECONFLICT, "this email is already a member's");
    return rc == LK_ENOT_FOUND ? LK_OK : lk_svc__store_err(svc, rc, NULL);
}

/* The link for token into url[LK_INVITE_URL_MAX]. */
static int invite_url(lk_svc *svc, const char *token, char *url)
{
    const char *base = svc->cfg && svc->cfg->public_url ? svc->cfg->public_url : "";
    int n = snprintf(url, LK_INVITE_URL_MAX, "%s/invite/%s", base, token);
    return n > 0 && n < LK_INVITE_URL_MAX ? LK_OK : lk_err_set(&svc->err, LK_EINTERNAL, NULL);
}

int lk_svc_invitation_create(lk_svc *svc, const lk_principal *p, const char *org_id,
                             const char *email, size_t email_len, const char *role, size_t role_len,
                             lk_invitation *out, char *url)
{
    lk_svc__clear(svc);
    char lower[LK_EMAIL_SIZE], token[LK_TOKEN_SIZE] = "";
    uint8_t hash[LK_TOKEN_HASH_LEN];
    lk_org org;
    lk_user inviter;
    memset(out, 0, sizeof *out);
    url[0] = '\0';
    int rc = lk_authz_check(svc, p, LK_ACT_ORG_ADMIN, org_id);
    if (rc || (rc = lk_validate_email(email, email_len, out->email, lower, "email", &svc->err)) ||
        (rc = role_parse(svc, role, role_len, LK_ROLE_MEMBER, out->role)))
        return rc;
    if (strcmp(out->role, LK_ROLE_OWNER) == 0 &&
        (rc = lk_authz_check(svc, p, LK_ACT_ORG_OWNER, org_id)))
        return rc;
    if ((rc = not_yet_member(svc, org_id, lower))) return rc;
    if ((rc = svc->st->ops->org_get(svc->st, org_id, &org)) != LK_OK)
        return lk_svc__store_err(svc, rc, ORG_NF);
    if ((rc = svc->st->ops->user_get(svc->st, p->user_id, &inviter)) != LK_OK)
        return lk_svc__store_err(svc, rc, "user not found");
    lk_id_new("inv_", out->id);
    copy_id(out->org_id, org_id);
    copy_id(out->invited_by, p->user_id);
    out->created_at = lk_svc__now(svc);
    out->expires_at = out->created_at + LK_INVITE_TTL;
    if ((rc = invite_token_new(token)) != LK_OK) return lk_err_set(&svc->err, rc, NULL);
    lk_token_hash(token, LK_TOKEN_LEN, hash);
    if ((rc = lk_audit_begin(svc)) != LK_OK) goto out;
    if ((rc = svc->st->ops->invitation_create(svc->st, out, hash)) != LK_OK)
        lk_svc__store_err(svc, rc, ORG_NF);
    const char *kv[] = {"email", out->email, "role", out->role};
    char details[LK_AUDIT_DETAILS_SIZE];
    lk_audit_details(details, kv, 2);
    rc = lk_audit_end(svc, rc,
                      &(lk_audit){LK_AUDIT_MEMBER_INVITED, p, org_id, NULL, "invitation", out->id,
                                  out->email, .details = details});
    if (rc != LK_OK) goto out;
    if ((rc = invite_url(svc, token, url)) != LK_OK) goto out;
    invite_mail(svc, out, org.name, &inviter, url);
out:
    sodium_memzero(token, sizeof token);
    sodium_memzero(hash, sizeof hash);
    return rc;
}

typedef struct inv_pager {
    lk_invitation_cb cb;
    void *ctx;
    int limit, n;
    int64_t last_seq;
    bool more;
} inv_pager;

static int inv_tramp(void *c, const lk_invitation *inv)
{
    inv_pager *pg = c;
    if (pg->n >= pg->limit) {
        pg->more = true;
        return 0;
    }
    pg->n++;
    pg->last_seq = inv->seq;
    return pg->cb(pg->ctx, inv);
}

int lk_svc_invitation_list(lk_svc *svc, const lk_principal *p, const char *org_id, lk_list *l,
                           lk_invitation_cb cb, void *ctx)
{
    lk_svc__clear(svc);
    int rc = lk_authz_check(svc, p, LK_ACT_ORG_READ_WRITE, org_id);
    if (rc) return rc;
    int limit = l->page.limit;
    if (limit < 1) limit = LK_LIST_DEFAULT_LIMIT;
    if (limit > LK_LIST_MAX_LIMIT) limit = LK_LIST_MAX_LIMIT;
    inv_pager pg = {.cb = cb, .ctx = ctx, .limit = limit};
    lk_page page = {.before_seq = l->page.before_seq, .limit = limit + 1};
    l->next = 0;
    rc = svc->st->ops->invitation_list(svc->st, org_id, lk_svc__now(svc), &page, inv_tramp, &pg);
    if (rc != LK_OK) return svc->err.code == LK_OK ? lk_svc__store_err(svc, rc, NULL) : rc;
    l->next = pg.more ? pg.last_seq : 0;
    return LK_OK;
}

int lk_svc_invitation_revoke(lk_svc *svc, const lk_principal *p, const char *org_id,
                             const char *inv_id)
{
    lk_svc__clear(svc);
    int rc = lk_authz_check(svc, p, LK_ACT_ORG_ADMIN, org_id);
    if (rc) return rc;
    if (inv_id == NULL || !lk_id_valid("inv_", inv_id, strnlen(inv_id, LK_ID_SIZE)))
        return lk_err_set(&svc->err, LK_ENOT_FOUND, INV_NF);
    if ((rc = lk_audit_begin(svc)) != LK_OK) return rc;
    rc = svc->st->ops->invitation_delete(svc->st, org_id, inv_id);
    if (rc != LK_OK) lk_svc__store_err(svc, rc, INV_NF);
    return lk_audit_end(svc, rc,
                        &(lk_audit){LK_AUDIT_INVITATION_REVOKED, p, org_id, NULL, "invitation",
                                    inv_id, NULL});
}

/* --- preview and accept ---------------------------------------------------- */

/* The live invitation behind token into *inv; LK_ENOT_FOUND otherwise. */
static int invite_find(lk_svc *svc, const char *token, size_t len, lk_invitation *inv)
{
    uint8_t hash[LK_TOKEN_HASH_LEN];
    if (!lk_invite_token_ok(token, len)) return lk_err_set(&svc->err, LK_ENOT_FOUND, INV_NF);
    lk_token_hash(token, len, hash);
    int rc = svc->st->ops->invitation_get_by_hash(svc->st, hash, inv);
    sodium_memzero(hash, sizeof hash);
    if (rc != LK_OK) return lk_svc__store_err(svc, rc, INV_NF);
    if (inv->expires_at <= lk_svc__now(svc)) return lk_err_set(&svc->err, LK_ENOT_FOUND, INV_NF);
    return LK_OK;
}

int lk_svc_invitation_preview(lk_svc *svc, const lk_principal *p, const char *token, size_t len,
                              lk_invite_preview *out)
{
    lk_svc__clear(svc);
    memset(out, 0, sizeof *out);
    int rc = lk_authz_check(svc, p, LK_ACT_SELF, NULL);
    if (rc || (rc = invite_find(svc, token, len, &out->inv))) return rc;
    if ((rc = svc->st->ops->org_get(svc->st, out->inv.org_id, &out->org)) != LK_OK)
        return lk_svc__store_err(svc, rc, INV_NF);
    rc = svc->st->ops->user_get(svc->st, out->inv.invited_by, &out->inviter);
    if (rc == LK_ENOT_FOUND)
        memset(&out->inviter, 0, sizeof out->inviter);
    else if (rc != LK_OK)
        return lk_svc__store_err(svc, rc, NULL);
    return LK_OK;
}

int lk_svc_invitation_accept(lk_svc *svc, const lk_principal *p, const char *token, size_t len,
                             lk_member *out)
{
    lk_svc__clear(svc);
    char mine[LK_EMAIL_SIZE], invited[LK_EMAIL_SIZE], scratch[LK_EMAIL_SIZE];
    uint8_t hash[LK_TOKEN_HASH_LEN];
    lk_invitation inv;
    lk_user me;
    memset(out, 0, sizeof *out);
    int rc = lk_authz_check(svc, p, LK_ACT_SELF, NULL);
    if (rc || (rc = invite_find(svc, token, len, &inv))) return rc;
    if ((rc = svc->st->ops->user_get(svc->st, p->user_id, &me)) != LK_OK)
        return lk_svc__store_err(svc, rc, "user not found");
    if (lk_validate_email(me.email, strlen(me.email), scratch, mine, "email", &svc->err) ||
        lk_validate_email(inv.email, strlen(inv.email), scratch, invited, "email", &svc->err))
        return lk_err_set(&svc->err, LK_EINTERNAL, NULL);
    if (strcmp(mine, invited) != 0)
        return lk_err_set(&svc->err, LK_EFORBIDDEN,
                          "this invitation is for another email address; sign in as the "
                          "invited person");
    if ((rc = lk_audit_begin(svc)) != LK_OK) return rc;
    lk_token_hash(token, len, hash);
    rc = svc->st->ops->invitation_accept(svc->st, hash, p->user_id, lk_svc__now(svc), out);
    sodium_memzero(hash, sizeof hash);
    if (rc == LK_ECONFLICT)
        lk_err_set(&svc->err, rc, "you are already a member of this organization");
    else if (rc != LK_OK)
        lk_svc__store_err(svc, rc, INV_NF);
    const char *kv[] = {"role", out->role, "invitation_id", inv.id};
    char details[LK_AUDIT_DETAILS_SIZE];
    lk_audit_details(details, kv, 2);
    rc = lk_audit_end(svc, rc,
                      &(lk_audit){LK_AUDIT_MEMBER_JOINED, p, inv.org_id, NULL, "user", me.id,
                                  me.name, .details = details});
    if (rc != LK_OK) return rc;
    memcpy(out->email, me.email, sizeof out->email);
    memcpy(out->name, me.name, sizeof out->name);
    return LK_OK;
}

/* --- roles ----------------------------------------------------------------- */

int lk_svc_member_set_role(lk_svc *svc, const lk_principal *p, const char *org_id,
                           const char *user_id, const char *role, size_t role_len, lk_member *out)
{
    lk_svc__clear(svc);
    char r[LK_ROLE_SIZE];
    memset(out, 0, sizeof *out);
    int rc = lk_authz_check(svc, p, LK_ACT_ORG_OWNER, org_id);
    if (rc) return rc;
    if (user_id == NULL || !lk_id_valid("usr_", user_id, strnlen(user_id, LK_ID_SIZE)))
        return lk_err_set(&svc->err, LK_ENOT_FOUND, MEMBER_NF);
    if ((rc = role_parse(svc, role, role_len, NULL, r))) return rc;
    lk_member before;
    if ((rc = svc->st->ops->member_get(svc->st, org_id, user_id, &before)) != LK_OK)
        return lk_svc__store_err(svc, rc, MEMBER_NF);
    if ((rc = lk_audit_begin(svc)) != LK_OK) return rc;
    rc = svc->st->ops->member_set_role(svc->st, org_id, user_id, r);
    if (rc == LK_ECONFLICT)
        lk_err_set(&svc->err, rc, LK_STORE_LAST_OWNER);
    else if (rc != LK_OK)
        lk_svc__store_err(svc, rc, MEMBER_NF);
    rc = lk_audit_end(svc, rc,
                      &(lk_audit){LK_AUDIT_MEMBER_ROLE_CHANGED, p, org_id, NULL, "user", user_id,
                                  NULL, .from = before.role, .to = r});
    if (rc != LK_OK) return rc;
    rc = svc->st->ops->member_get(svc->st, org_id, user_id, out);
    return rc ? lk_svc__store_err(svc, rc, MEMBER_NF) : LK_OK;
}
