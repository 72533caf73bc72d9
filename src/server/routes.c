/*
 * routes.c — the route table (router.h): every endpoint of the API, with
 * its handler (api.h), its flags and the authorization operation it
 * performs (authz.h). The one place a new endpoint is added; the
 * matcher (router.c) checks at first use that public routes, and only
 * they, name LK_ACT_NONE.
 *
 * The operation named here is the one the service checks for the route
 * (lk_authz_check in service.c); it is not checked twice per request.
 */
#include "api.h"
#include "router.h"

#define ORG "/v1/organizations/{org_id}"
#define PRJ ORG "/projects/{project_id}"
#define PUB LK_ROUTE_PUBLIC, LK_ACT_NONE
#define RW 0, LK_ACT_ORG_READ_WRITE

const lk_route lk_routes[] = {
    {"GET", "/healthz", lk_api_healthz, PUB},
    {"GET", "/readyz", lk_api_readyz, PUB},

    {"POST", "/v1/auth/signup", lk_api_signup, PUB},
    {"POST", "/v1/auth/login", lk_api_login, PUB},
    {"POST", "/v1/auth/logout", lk_api_logout, PUB},
    {"GET", "/v1/auth/session", lk_api_session, PUB},
    {"GET", "/v1/whoami", lk_api_whoami, LK_ROUTE_OWNER, LK_ACT_ANY},
    {"GET", "/v1/me", lk_api_me_get, 0, LK_ACT_SELF},
    {"PATCH", "/v1/me", lk_api_me_patch, 0, LK_ACT_SELF},
    {"GET", "/v1/me/access-keys", lk_api_mykey_list, 0, LK_ACT_SELF},
    {"POST", "/v1/me/access-keys", lk_api_mykey_create, 0, LK_ACT_SELF},
    {"PATCH", "/v1/me/access-keys/{key_id}", lk_api_mykey_patch, 0, LK_ACT_SELF},
    {"DELETE", "/v1/me/access-keys/{key_id}", lk_api_mykey_delete, 0, LK_ACT_SELF},

    {"GET", "/v1/organizations", lk_api_org_list, 0, LK_ACT_ANY},
    {"POST", "/v1/organizations", lk_api_org_create, 0, LK_ACT_ORG_CREATE},
    {"GET", ORG, lk_api_org_get, RW},
    {"PATCH", ORG, lk_api_org_patch, RW},
    {"DELETE", ORG, lk_api_org_delete, 0, LK_ACT_ORG_ADMIN},
    {"GET", ORG "/members", lk_api_member_list, RW},
    {"POST", ORG "/members", lk_api_member_add, 0, LK_ACT_ORG_ADMIN},
    {"DELETE", ORG "/members/{user_id}", lk_api_member_remove, 0, LK_ACT_ORG_ADMIN},
    {"GET", ORG "/projects", lk_api_project_list, RW},
    {"POST", ORG "/projects", lk_api_project_create, RW},
    {"GET", PRJ, lk_api_project_get, RW},
    {"PATCH", PRJ, lk_api_project_patch, RW},
    {"DELETE", PRJ, lk_api_project_delete, RW},
    {"GET", PRJ "/environments", lk_api_env_list, RW},
    {"POST", PRJ "/environments", lk_api_env_create, RW},
    {"GET", PRJ "/environments/{environment_id}", lk_api_env_get, RW},
    {"PATCH", PRJ "/environments/{environment_id}", lk_api_env_patch, RW},
    {"DELETE", PRJ "/environments/{environment_id}", lk_api_env_delete, RW},
    {"GET", ORG "/billing", lk_api_billing_get, RW},
    {"PATCH", ORG "/billing", lk_api_billing_patch, RW},
    {"GET", ORG "/access-keys", lk_api_orgkey_list, 0, LK_ACT_ORG_KEYS},
    {"POST", ORG "/access-keys", lk_api_orgkey_create, 0, LK_ACT_ORG_KEYS},
    {"PATCH", ORG "/access-keys/{key_id}", lk_api_orgkey_patch, 0, LK_ACT_ORG_KEYS},
    {"DELETE", ORG "/access-keys/{key_id}", lk_api_orgkey_delete, 0, LK_ACT_ORG_KEYS},

    /* --- audit --- (keys need the audit:read scope once scopes exist) */
    {"GET", ORG "/audit-events", lk_api_audit_org, RW},
    {"GET", "/v1/me/audit-events", lk_api_audit_me, 0, LK_ACT_SELF},
};

const size_t lk_routes_count = sizeof(lk_routes) / sizeof(lk_routes[0]);
