/*
 * authz.c — the contract's "who may do what" table (authz.h), and nothing
 * else. Every lk_svc_* function that acts for a principal calls
 * lk_authz_check() before it touches the data.
 *
 * Decisions, in order:
 *   0. NONE (public)                      → allowed
 *   1. no principal                       → 401 (LK_EUNAUTHENTICATED)
 *   2. ANY                                → allowed
 *      SELF / ORG_CREATE: org key         → 403; anyone else → allowed
 *   3. ORG_*: a malformed org id          → 404 (no store call)
 *      org key: another org               → 404 (may not learn it exists)
 *               this org, READ_WRITE      → allowed
 *               this org, ADMIN / KEYS    → 403
 *      session / personal key: member_check in the store *now*; not a
 *               member (or no such org)   → 404; else allowed.
 *
 * Membership is never cached: removing a user from an org cuts off their
 * session and personal keys on the very next request. An org key carries
 * no user: it is the org's and outlives its creator's membership (its
 * existence, checked at authentication, is the org's consent).
 */
#include "authz.h"

#include <assert.h>
#include <string.h>

static const char *org_nf = "organization not found";

int lk_authz_decide(lk_store *st, lk_err *err, const lk_principal *p, lk_action action,
                    const char *org_id)
{
    assert(st != NULL && err != NULL);
    if (action == LK_ACT_NONE) return LK_OK;
    if (p == NULL || p->kind == LK_PRINCIPAL_NONE)
        return lk_err_set(err, LK_EUNAUTHENTICATED, "authentication required");

    switch (action) {
    case LK_ACT_ANY:
        return LK_OK;
    case LK_ACT_SELF:
    case LK_ACT_ORG_CREATE:
        if (p->kind == LK_PRINCIPAL_ORG_KEY)
            return lk_err_set(err, LK_EFORBIDDEN,
                              action == LK_ACT_SELF
                                  ? "an organization key has no user; use a personal key or a "
                                    "session"
                                  : "an organization key may not create organizations");
        return LK_OK;
    case LK_ACT_ORG_READ_WRITE:
    case LK_ACT_ORG_ADMIN:
    case LK_ACT_ORG_KEYS:
        break;
    default:
        return lk_err_set(err, LK_EINTERNAL, NULL);
    }

    if (org_id == NULL || !lk_id_valid("org_", org_id, strlen(org_id)))
        return lk_err_set(err, LK_ENOT_FOUND, org_nf);

    if (p->kind == LK_PRINCIPAL_ORG_KEY) {
        if (strcmp(p->org_id, org_id) != 0) return lk_err_set(err, LK_ENOT_FOUND, org_nf);
        if (action != LK_ACT_ORG_READ_WRITE)
            return lk_err_set(err, LK_EFORBIDDEN,
                              action == LK_ACT_ORG_KEYS
                                  ? "an organization key may not manage access keys"
                                  : "an organization key may not manage members or delete the "
                                    "organization");
        return LK_OK;
    }

    int rc = st->ops->member_check(st, org_id, p->user_id);
    if (rc == LK_ENOT_FOUND) return lk_err_set(err, LK_ENOT_FOUND, org_nf);
    if (rc != LK_OK) {
        lk_err_set(err, rc, st->err.message[0] ? st->err.message : NULL);
        return rc;
    }
    return LK_OK;
}
