/*
 * authz.h — "who may do what", the table of the contract, in one function.
 *
 *   action                     session / personal key   org key of org   else
 *   LK_ACT_NONE (public)       yes                      yes              yes
 *   LK_ACT_ANY (whoami, orgs)  yes                      yes              401
 *   LK_ACT_SELF (/v1/me…)      own only                 403              401
 *   LK_ACT_ORG_CREATE          yes                      403              401
 *   LK_ACT_ORG_READ_WRITE      member: yes              yes              404
 *   LK_ACT_ORG_ADMIN           member: yes              403              404
 *   (members add/remove, org delete)
 *   LK_ACT_ORG_KEYS            member: yes              403              404
 *
 * "member" is checked in the store at the moment of the request, so removing
 * a user from an org takes effect on their very next request, personal keys
 * included. An org key for another org gets 404, as does a non-member: the
 * caller may not learn that the org exists.
 *
 * Layering: authz sits below the service and knows nothing of it (no
 * service.h here): it is given the store connection to ask and the error
 * handle to fill. The service calls it through lk_authz_check(svc, …).
 * The HTTP route table (router.h) names each route's lk_action, so every
 * endpoint states its operation in one place (LK_ACT_NONE: public).
 */
#ifndef LK_AUTHZ_H
#define LK_AUTHZ_H

#include "err.h"
#include "principal.h"
#include "store.h"

typedef enum lk_action {
    LK_ACT_NONE = 0, /* public: no principal needed */
    LK_ACT_ANY,      /* any authenticated principal (whoami, logout) */
    LK_ACT_SELF,
    LK_ACT_ORG_CREATE,
    LK_ACT_ORG_READ_WRITE,
    LK_ACT_ORG_ADMIN,
    LK_ACT_ORG_KEYS,
} lk_action;

/* 0 if allowed; else LK_EUNAUTHENTICATED, LK_EFORBIDDEN or LK_ENOT_FOUND
 * (with a message on *err). st answers the membership question (this
 * thread's connection). org_id is required for the LK_ACT_ORG_* actions
 * other than LK_ACT_ORG_CREATE, and ignored otherwise. LK_ACT_NONE allows
 * everyone; LK_ACT_ANY any principal. */
int lk_authz_decide(lk_store *st, lk_err *err, const lk_principal *p, lk_action action,
                    const char *org_id);

/* The service's spelling: svc is an lk_svc * (service.h), which authz
 * need not know. */
#define lk_authz_check(svc, p, action, org_id)                                                     \
    lk_authz_decide((svc)->st, &(svc)->err, (p), (action), (org_id))

#endif
