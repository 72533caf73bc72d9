/*
 * api_orgs.c — organizations, members, projects, environments, billing.
 *
 * Path params come validated from the router, fetched by name
 * (lk_route_param: the org, the project, the member user, the
 * environment). Lists are written
 * straight into the response buffer from the store's row callback.
 */
#include "api.h"

#include <string.h>

#define ORG_ID(r) lk_route_param(&(r)->m, LK_PARAM_ORG)
#define PROJECT_ID(r) lk_route_param(&(r)->m, LK_PARAM_PROJECT)
#define USER_ID(r) lk_route_param(&(r)->m, LK_PARAM_USER)
#define ENV_ID(r) lk_route_param(&(r)->m, LK_PARAM_ENVIRONMENT)

/* Parse a body holding a required {"name": string}. On success the caller
 * owns *body (json_decref); *name points into it. */
static int body_name(lk_req *r, json_t **body, const char **name, size_t *n)
{
    int rc = lk_req_json(r, body);
    if (rc != 0) return rc;
    rc = lk_req_str(r, *body, "name", LK_FIELD_REQUIRED, name, n);
    if (rc != 0) {
        json_decref(*body);
        *body = NULL;
    }
    return rc;
}

typedef struct list_out {
    lk_buf b;
    lk_json_list l;
    lk_list page;
} list_out;

static int list_begin(lk_req *r, list_out *o)
{
    int rc = lk_req_page(r, &o->page);
    if (rc != 0) return rc;
    lk_buf_init(&o->b, &r->req->pool, 2048);
    lk_json_list_begin(&o->l, &o->b);
    return 0;
}

static int list_end(lk_req *r, list_out *o)
{
    lk_json_list_end(&o->l, o->page.next);
    lk_reply_json(r->req, 200, &o->b);
    return 0;
}

static int org_cb(void *ctx, const lk_org *o)
{
    lk_json_list *l = ctx;
    lk_json_list_sep(l);
    lk_json_org(l->b, o);
    return 0;
}
static int member_cb(void *ctx, const lk_member *m)
{
    lk_json_list *l = ctx;
    lk_json_list_sep(l);
    lk_json_member(l->b, m);
    return 0;
}
static int project_cb(void *ctx, const lk_project *p)
{
    lk_json_list *l = ctx;
    lk_json_list_sep(l);
    lk_json_project(l->b, p);
    return 0;
}
static int env_cb(void *ctx, const lk_env *v)
{
    lk_json_list *l = ctx;
    lk_json_list_sep(l);
    lk_json_env(l->b, v);
    return 0;
}

/* Reply with one record, written by `write`. */
#define REPLY_ONE(r, status, write, rec)                                                           \
    do {                                                                                           \
        lk_buf b_;                                                                                 \
        lk_buf_init(&b_, &(r)->req->pool, 512);                                                    \
        write(&b_, (rec));                                                                         \
        lk_reply_json((r)->req, (status), &b_);                                                    \
        return 0;                                                                                  \
    } while (0)

/* --- organizations ---------------------------------------------------------- */

int lk_api_org_list(lk_req *r)
{
    list_out o;
    int rc = list_begin(r, &o);
    if (rc == 0) rc = lk_svc_org_list(r->svc, &r->principal, &o.page, org_cb, &o.l);
    return rc != 0 ? rc : list_end(r, &o);
}

int lk_api_org_create(lk_req *r)
{
    json_t *body;
    const char *name;
    size_t n;
    lk_org org;
    int rc = body_name(r, &body, &name, &n);
    if (rc != 0) return rc;
    rc = lk_svc_org_create(r->svc, &r->principal, name, n, &org);
    json_decref(body);
    if (rc != 0) return rc;
    REPLY_ONE(r, 201, lk_json_org, &org);
}

int lk_api_org_get(lk_req *r)
{
    lk_org org;
    int rc = lk_svc_org_get(r->svc, &r->principal, ORG_ID(r), &org);
    if (rc != 0) return rc;
    REPLY_ONE(r, 200, lk_json_org, &org);
}

int lk_api_org_patch(lk_req *r)
{
    json_t *body;
    const char *name;
    size_t n;
    lk_org org;
    int rc = body_name(r, &body, &name, &n);
    if (rc != 0) return rc;
    rc = lk_svc_org_rename(r->svc, &r->principal, ORG_ID(r), name, n, &org);
    json_decref(body);
    if (rc != 0) return rc;
    REPLY_ONE(r, 200, lk_json_org, &org);
}

int lk_api_org_delete(lk_req *r)
{
    int rc = lk_svc_org_delete(r->svc, &r->principal, ORG_ID(r));
    if (rc != 0) return rc;
    lk_reply_empty(r->req, 204);
    return 0;
}

/* --- members ------------------------------------------------------------------ */

int lk_api_member_list(lk_req *r)
{
    list_out o;
    int rc = list_begin(r, &o);
    if (rc == 0)
        rc = lk_svc_member_list(r->svc, &r->principal, ORG_ID(r), &o.page, member_cb, &o.l);
    return rc != 0 ? rc : list_end(r, &o);
}

int lk_api_member_add(lk_req *r)
{
    json_t *body;
    const char *email;
    size_t n;
    lk_member m;
    int rc = lk_req_json(r, &body);
    if (rc != 0) return rc;
    rc = lk_req_str(r, body, "email", LK_FIELD_REQUIRED, &email, &n);
    if (rc == 0) rc = lk_svc_member_add(r->svc, &r->principal, ORG_ID(r), email, n, &m);
    json_decref(body);
    if (rc != 0) return rc;
    REPLY_ONE(r, 201, lk_json_member, &m);
}

int lk_api_member_remove(lk_req *r)
{
    int rc = lk_svc_member_remove(r->svc, &r->principal, ORG_ID(r), USER_ID(r));
    if (rc != 0) return rc;
    lk_reply_empty(r->req, 204);
    return 0;
}

/* --- projects --------------------------------------------------------------------- */

int lk_api_project_list(lk_req *r)
{
    list_out o;
    int rc = list_begin(r, &o);
    if (rc == 0)
        rc = lk_svc_project_list(r->svc, &r->principal, ORG_ID(r), &o.page, project_cb, &o.l);
    return rc != 0 ? rc : list_end(r, &o);
}

int lk_api_project_create(lk_req *r)
{
    json_t *body;
    const char *name;
    size_t n;
    lk_project p;
    int rc = body_name(r, &body, &name, &n);
    if (rc != 0) return rc;
    rc = lk_svc_project_create(r->svc, &r->principal, ORG_ID(r), name, n, &p);
    json_decref(body);
    if (rc != 0) return rc;
    REPLY_ONE(r, 201, lk_json_project, &p);
}

int lk_api_project_get(lk_req *r)
{
    lk_project p;
    int rc = lk_svc_project_get(r->svc, &r->principal, ORG_ID(r), PROJECT_ID(r), &p);
    if (rc != 0) return rc;
    REPLY_ONE(r, 200, lk_json_project, &p);
}

int lk_api_project_patch(lk_req *r)
{
    json_t *body;
    const char *name;
    size_t n;
    lk_project p;
    int rc = body_name(r, &body, &name, &n);
    if (rc != 0) return rc;
    rc = lk_svc_project_rename(r->svc, &r->principal, ORG_ID(r), PROJECT_ID(r), name, n, &p);
    json_decref(body);
    if (rc != 0) return rc;
    REPLY_ONE(r, 200, lk_json_project, &p);
}

int lk_api_project_delete(lk_req *r)
{
    int rc = lk_svc_project_delete(r->svc, &r->principal, ORG_ID(r), PROJECT_ID(r));
    if (rc != 0) return rc;
    lk_reply_empty(r->req, 204);
    return 0;
}

/* --- environments ---------------------------------------------------------------- */

int lk_api_env_list(lk_req *r)
{
    list_out o;
    int rc = list_begin(r, &o);
    if (rc == 0)
        rc = lk_svc_env_list(r->svc, &r->principal, ORG_ID(r), PROJECT_ID(r), &o.page, env_cb, &o.l);
    return rc != 0 ? rc : list_end(r, &o);
}

int lk_api_env_create(lk_req *r)
{
    json_t *body;
    const char *name;
    size_t n;
    lk_env v;
    int rc = body_name(r, &body, &name, &n);
    if (rc != 0) return rc;
    rc = lk_svc_env_create(r->svc, &r->principal, ORG_ID(r), PROJECT_ID(r), name, n, &v);
    json_decref(body);
    if (rc != 0) return rc;
    REPLY_ONE(r, 201, lk_json_env, &v);
}

int lk_api_env_get(lk_req *r)
{
    lk_env v;
    int rc = lk_svc_env_get(r->svc, &r->principal, ORG_ID(r), PROJECT_ID(r), ENV_ID(r), &v);
    if (rc != 0) return rc;
    REPLY_ONE(r, 200, lk_json_env, &v);
}

int lk_api_env_patch(lk_req *r)
{
    json_t *body;
    const char *name;
    size_t n;
    lk_env v;
    int rc = body_name(r, &body, &name, &n);
    if (rc != 0) return rc;
    rc = lk_svc_env_rename(r->svc, &r->principal, ORG_ID(r), PROJECT_ID(r), ENV_ID(r), name, n, &v);
    json_decref(body);
    if (rc != 0) return rc;
    REPLY_ONE(r, 200, lk_json_env, &v);
}

int lk_api_env_delete(lk_req *r)
{
    int rc = lk_svc_env_delete(r->svc, &r->principal, ORG_ID(r), PROJECT_ID(r), ENV_ID(r));
    if (rc != 0) return rc;
    lk_reply_empty(r->req, 204);
    return 0;
}

/* --- billing ------------------------------------------------------------------------ */

int lk_api_billing_get(lk_req *r)
{
    lk_billing bl;
    int rc = lk_svc_billing_get(r->svc, &r->principal, ORG_ID(r), &bl);
    if (rc != 0) return rc;
    REPLY_ONE(r, 200, lk_json_billing, &bl);
}

int lk_api_billing_patch(lk_req *r)
{
    json_t *body;
    const char *plan, *email;
    size_t pn, en;
    lk_billing bl;
    int rc = lk_req_json(r, &body);
    if (rc != 0) return rc;
    rc = lk_req_str(r, body, "plan", 0, &plan, &pn);
    if (rc == 0) rc = lk_req_str(r, body, "billing_email", 0, &email, &en);
    if (rc == 0)
        rc = lk_svc_billing_update(r->svc, &r->principal, ORG_ID(r), plan, pn, email, en, &bl);
    json_decref(body);
    if (rc != 0) return rc;
    REPLY_ONE(r, 200, lk_json_billing, &bl);
}
