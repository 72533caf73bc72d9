/*
 * api.h — the HTTP handlers, one per route (routes.c's table names them).
 *
 * Each handler reads its input from the request (path params already
 * validated by the router and fetched by name with lk_route_param, the
 * principal already authenticated unless the route is public), calls one lk_svc_* function and writes the result with
 * json_out.h and reply.h. Handlers never map errors to HTTP themselves:
 * they return the lk_err code and reply.c does it.
 *
 * Files: api_auth.c (signup, login, logout, session, whoami, me),
 * api_orgs.c (orgs, members, projects, environments, billing),
 * api_keys.c (org and personal access keys), api_health.c.
 */
#ifndef LK_API_H
#define LK_API_H

#include "reply.h"
#include "req.h"

int lk_api_healthz(lk_req *r);
int lk_api_readyz(lk_req *r);

int lk_api_signup(lk_req *r);
int lk_api_login(lk_req *r);
int lk_api_logout(lk_req *r);
int lk_api_session(lk_req *r);
int lk_api_whoami(lk_req *r);
int lk_api_me_get(lk_req *r);
int lk_api_me_patch(lk_req *r);

int lk_api_org_list(lk_req *r);
int lk_api_org_create(lk_req *r);
int lk_api_org_get(lk_req *r);
int lk_api_org_patch(lk_req *r);
int lk_api_org_delete(lk_req *r);
int lk_api_member_list(lk_req *r);
int lk_api_member_add(lk_req *r);
int lk_api_member_remove(lk_req *r);
int lk_api_project_list(lk_req *r);
int lk_api_project_create(lk_req *r);
int lk_api_project_get(lk_req *r);
int lk_api_project_patch(lk_req *r);
int lk_api_project_delete(lk_req *r);
int lk_api_env_list(lk_req *r);
int lk_api_env_create(lk_req *r);
int lk_api_env_get(lk_req *r);
int lk_api_env_patch(lk_req *r);
int lk_api_env_delete(lk_req *r);
int lk_api_billing_get(lk_req *r);
int lk_api_billing_patch(lk_req *r);

int lk_api_orgkey_list(lk_req *r);
int lk_api_orgkey_create(lk_req *r);
int lk_api_orgkey_patch(lk_req *r);
int lk_api_orgkey_delete(lk_req *r);
int lk_api_mykey_list(lk_req *r);
int lk_api_mykey_create(lk_req *r);
int lk_api_mykey_patch(lk_req *r);
int lk_api_mykey_delete(lk_req *r);

/* --- account (api_account.c) --- */
int lk_api_me_password(lk_req *r);
int lk_api_me_sessions(lk_req *r);
int lk_api_me_session_delete(lk_req *r);

/* --- roles and invitations (api_invitations.c) --- */
int lk_api_member_patch(lk_req *r);
int lk_api_invitation_create(lk_req *r);
int lk_api_invitation_list(lk_req *r);
int lk_api_invitation_revoke(lk_req *r);
int lk_api_invitation_preview(lk_req *r);
int lk_api_invitation_accept(lk_req *r);

/* --- rotate (api_rotate.c) --- */
int lk_api_orgkey_rotate(lk_req *r);
int lk_api_mykey_rotate(lk_req *r);
int lk_api_leaked_tokens(lk_req *r);

/* --- device --- sign-in from the CLI through the browser (api_device.c) */
int lk_api_device_start(lk_req *r);
int lk_api_device_token(lk_req *r);
int lk_api_device_lookup(lk_req *r);
int lk_api_device_approve(lk_req *r);
int lk_api_device_deny(lk_req *r);

/* --- audit --- (api_audit.c) */
int lk_api_audit_org(lk_req *r);
int lk_api_audit_me(lk_req *r);

#endif
