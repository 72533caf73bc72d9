/*
 * routes.c — the route table (router.h): every endpoint of the API, with
 * its handler (api.h), its flags and the authorization operation it
 * performs (authz.h), and the scope an access key needs for it (scope.h;
 * docs/scopes.md). The one place a new endpoint is added; the matcher
 * (router.c) checks at first use that public routes, and only they, name
 * LK_ACT_NONE and no scope, and that every other route names exactly one.
 *
 * The operation named here is the one the service checks for the route
 * (lk_authz_check in service.c); it is not checked twice per request.
 */
#include "api.h"
#include "router.h"

#define ORG "/v1/organizations/{org_id}"
#define PRJ ORG "/projects/{project_id}"
#define PUB LK_ROUTE_PUBLIC, LK_ACT_NONE, 0
#define RW 0, LK_ACT_ORG_READ_WRITE
/* W: a write, run on the writer thread in a group commit (writer.h) */
#define W LK_ROUTE_WRITE
#define WRW W, LK_ACT_ORG_READ_WRITE
/* scopes (scope.h): the one a key needs for the route */
#define S(name) LK_SCOPE_##name
#define DEV 0, LK_ACT_DEVICE_DECIDE /* --- device --- */

const lk_route lk_routes[] = {
    {"GET", "/healthz", lk_api_healthz, PUB},
    {"GET", "/readyz", lk_api_readyz, PUB},

    {"POST", "/v1/auth/signup", lk_api_signup, PUB},
    {"POST", "/v1/auth/login", lk_api_login, PUB},
    {"POST", "/v1/auth/logout", lk_api_logout, PUB},
    {"GET", "/v1/auth/session", lk_api_session, PUB},
    {"GET", "/v1/whoami", lk_api_whoami, LK_ROUTE_OWNER, LK_ACT_ANY, S(ORG_READ)},
    {"GET", "/v1/me", lk_api_me_get, 0, LK_ACT_SELF, S(USER_READ)},
    {"PATCH", "/v1/me", lk_api_me_patch, W, LK_ACT_SELF, S(USER_WRITE)},
    {"GET", "/v1/me/access-keys", lk_api_mykey_list, 0, LK_ACT_SELF, S(KEYS_READ)},
    {"POST", "/v1/me/access-keys", lk_api_mykey_create, W, LK_ACT_SELF, S(KEYS_WRITE)},
    {"PATCH", "/v1/me/access-keys/{key_id}", lk_api_mykey_patch, W, LK_ACT_SELF, S(KEYS_WRITE)},
    {"DELETE", "/v1/me/access-keys/{key_id}", lk_api_mykey_delete, W, LK_ACT_SELF, S(KEYS_WRITE)},
    /* --- account (api_account.c) --- */
    {"PATCH", "/v1/me/password", lk_api_me_password, 0, LK_ACT_SELF, S(USER_WRITE)},
    {"GET", "/v1/me/sessions", lk_api_me_sessions, 0, LK_ACT_SELF, S(USER_READ)},
    {"DELETE", "/v1/me/sessions/{session_id}", lk_api_me_session_delete, W, LK_ACT_SELF,
     S(USER_WRITE)},

    {"GET", "/v1/organizations", lk_api_org_list, 0, LK_ACT_ANY, S(ORG_READ)},
    {"POST", "/v1/organizations", lk_api_org_create, W, LK_ACT_ORG_CREATE, S(ORG_WRITE)},
    {"GET", ORG, lk_api_org_get, RW, S(ORG_READ)},
    {"PATCH", ORG, lk_api_org_patch, WRW, S(ORG_WRITE)},
    {"DELETE", ORG, lk_api_org_delete, W, LK_ACT_ORG_OWNER, S(ORG_WRITE)},
    {"GET", ORG "/members", lk_api_member_list, RW, S(MEMBERS_READ)},
    {"POST", ORG "/members", lk_api_member_add, W, LK_ACT_ORG_OWNER, S(MEMBERS_WRITE)},
    {"DELETE", ORG "/members/{user_id}", lk_api_member_remove, W, LK_ACT_ORG_ADMIN, S(MEMBERS_WRITE)},
    {"GET", ORG "/projects", lk_api_project_list, RW, S(PROJECTS_READ)},
    {"POST", ORG "/projects", lk_api_project_create, WRW, S(PROJECTS_WRITE)},
    {"GET", PRJ, lk_api_project_get, RW, S(PROJECTS_READ)},
    {"PATCH", PRJ, lk_api_project_patch, WRW, S(PROJECTS_WRITE)},
    {"DELETE", PRJ, lk_api_project_delete, WRW, S(PROJECTS_WRITE)},
    {"GET", PRJ "/environments", lk_api_env_list, RW, S(PROJECTS_READ)},
    {"POST", PRJ "/environments", lk_api_env_create, WRW, S(PROJECTS_WRITE)},
    {"GET", PRJ "/environments/{environment_id}", lk_api_env_get, RW, S(PROJECTS_READ)},
    {"PATCH", PRJ "/environments/{environment_id}", lk_api_env_patch, WRW, S(PROJECTS_WRITE)},
    {"DELETE", PRJ "/environments/{environment_id}", lk_api_env_delete, WRW, S(PROJECTS_WRITE)},
    {"GET", ORG "/billing", lk_api_billing_get, RW, S(BILLING_READ)},
    {"PATCH", ORG "/billing", lk_api_billing_patch, W, LK_ACT_ORG_OWNER_WRITE, S(BILLING_WRITE)},
    {"GET", ORG "/access-keys", lk_api_orgkey_list, 0, LK_ACT_ORG_KEYS, S(KEYS_READ)},
    {"POST", ORG "/access-keys", lk_api_orgkey_create, W, LK_ACT_ORG_KEYS, S(KEYS_WRITE)},
    {"PATCH", ORG "/access-keys/{key_id}", lk_api_orgkey_patch, W, LK_ACT_ORG_KEYS, S(KEYS_WRITE)},
    {"DELETE", ORG "/access-keys/{key_id}", lk_api_orgkey_delete, W, LK_ACT_ORG_KEYS,
     S(KEYS_WRITE)},

    /* --- roles and invitations (removing another member is an owner's:
     * the service picks LK_ACT_ORG_OWNER unless the caller leaves) --- */
    {"PATCH", ORG "/members/{user_id}", lk_api_member_patch, W, LK_ACT_ORG_OWNER, S(MEMBERS_WRITE)},
    {"GET", ORG "/invitations", lk_api_invitation_list, RW, S(MEMBERS_READ)},
    {"POST", ORG "/invitations", lk_api_invitation_create, W, LK_ACT_ORG_ADMIN, S(MEMBERS_WRITE)},
    {"DELETE", ORG "/invitations/{invitation_id}", lk_api_invitation_revoke, W, LK_ACT_ORG_ADMIN,
     S(MEMBERS_WRITE)},
    {"GET", "/v1/invitations/{invitation_token}", lk_api_invitation_preview, 0, LK_ACT_SELF,
     S(USER_READ)},
    {"POST", "/v1/invitations/accept", lk_api_invitation_accept, W, LK_ACT_SELF, S(USER_WRITE)},

    /* --- rotate (api_rotate.c) --- */
    {"POST", ORG "/access-keys/{key_id}/rotate", lk_api_orgkey_rotate, W, LK_ACT_ORG_KEYS,
     S(KEYS_WRITE)},
    {"POST", "/v1/me/access-keys/{key_id}/rotate", lk_api_mykey_rotate, W, LK_ACT_SELF,
     S(KEYS_WRITE)},
    {"POST", "/v1/leaked-tokens", lk_api_leaked_tokens, PUB},

    /* --- device --- sign-in from the CLI through the browser (api_device.c) */
    {"POST", "/v1/auth/device", lk_api_device_start, PUB},
    {"POST", "/v1/auth/device/token", lk_api_device_token, PUB},
    {"GET", "/v1/auth/device", lk_api_device_lookup, DEV, S(USER_READ)},
    {"POST", "/v1/auth/device/approve", lk_api_device_approve, DEV, S(USER_WRITE)},
    {"POST", "/v1/auth/device/deny", lk_api_device_deny, DEV, S(USER_WRITE)},

    /* --- audit --- */
    {"GET", ORG "/audit-events", lk_api_audit_org, RW, S(AUDIT_READ)},
    {"GET", "/v1/me/audit-events", lk_api_audit_me, 0, LK_ACT_SELF, S(USER_READ)},
};

const size_t lk_routes_count = sizeof(lk_routes) / sizeof(lk_routes[0]);
