/*
 * authz.h — "who may do what", the table of the contract, in one function.
 *
 *   action                     session / personal key   org key of org   else
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
 */
#ifndef LK_AUTHZ_H
#define LK_AUTHZ_H

#include "service.h"

typedef enum lk_action {
    LK_ACT_SELF = 1,
    LK_ACT_ORG_CREATE,
    LK_ACT_ORG_READ_WRITE,
    LK_ACT_ORG_ADMIN,
    LK_ACT_ORG_KEYS,
} lk_action;

/* 0 if allowed; else LK_EUNAUTHENTICATED, LK_EFORBIDDEN or LK_ENOT_FOUND
 * (with a message on svc->err). org_id is required for the LK_ACT_ORG_*
 * actions other than LK_ACT_ORG_CREATE, and ignored otherwise. */
int lk_authz_check(lk_svc *svc, const lk_principal *p, lk_action action, const char *org_id);

#endif
