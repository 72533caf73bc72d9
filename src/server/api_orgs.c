/*
 * api_orgs.c — organizations, members, projects, environments, billing.
 *
 * Path params come validated from the router, fetched by name
 * (lk_route_param: the org, the project, the member user, the
 * environment). Lists are written
 * straight into the response buffer from the store's row callback.
 */
#include "api.h"
#include "api_body.h"

#include "service_scopes.h"

#include <string.h>

#define ORG_ID(r) lk_route_param(&(r)->m, LK_PARAM_ORG)
#define PROJECT_ID(r) lk_route_param(&(r)->m, LK_PARAM_PROJECT)
#define USER_ID(r) lk_route_param(&(r)->m, LK_PARAM_USER)
#define ENV_ID(r) lk_route_param(&(r)->m, LK_PARAM_ENVIRONMENT)

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

/* A store row callback that writes the row into the list (ctx). */
#define LIST_ROW_CB(fn, type, write)                                                               \
    static int fn(void *ctx, const type *rec)                                                      \
    {                                                                                              \
        lk_json_list *l = ctx;                                                                     \
        lk_json_list_sep(l);                                                                       \
        write(l->b, rec);                                                                          \
        return 0;                                                                                  \
    }
LIST_ROW_CB(org_cb, lk_org, lk_json_org)
LIST_ROW_CB(member_cb, lk_member, lk_json_member)
LIST_ROW_CB(project_cb, lk_project, lk_json_project)
LIST_ROW_CB(env_cb, lk_env, lk_json_env)

/* Reply with one record, written by `write`. */
#define REPLY_ONE(r, status, write, rec)                                                           \
    do {                                                                                           \
        lk_buf b_;                                                                                 \
        lk_buf_init(&b_, &(r)->req->pool, 512);                                                    \
        write(&b_, (rec));                                                                         \
        lk_reply_json((r)->req, (status), &b_);                                                    \
        return 0;                                                                                  \
    } while (0)

/* --- named resources: organizations, projects, environments ------------------
 *
 * The three share one shape (list, create {name}, get, rename {name},
 * delete), so their handlers are one set of functions over a table of
 * per-resource adapters (each adapter reads its path params and calls its
 * lk_svc_* function). A record of any of the three fits `rec`. */
typedef union rec {
    lk_org org;
    lk_project project;
    lk_env env;
} rec;

typedef struct named {
    int (*list)(lk_req *r, list_out *o);
    int (*create)(lk_req *r, const char *name, size_t n, void *out); /* an lk_api_str_op call */
    int (*get)(lk_req *r, void *out);
    int (*rename)(lk_req *r, const char *name, size_t n, void *out);
    int (*del)(lk_req *r);
    void (*write)(lk_buf *b, const void *x);
} named;

static int org_list(lk_req *r, list_out *o)
{
    return lk_svc_org_list(r->svc, &r->principal, &o->page, org_cb, &o->l);
}
static int org_create(lk_req *r, const char *name, size_t n, void *out)
{
    return lk_svc_org_create(r->svc, &r->principal, name, n, out);
}
static int org_get(lk_req *r, void *out)
{
    return lk_svc_org_get(r->svc, &r->principal, ORG_ID(r), out);
}
static int org_rename(lk_req *r, const char *name, size_t n, void *out)
{
    return lk_svc_org_rename(r->svc, &r->principal, ORG_ID(r), name, n, out);
}
static int org_del(lk_req *r)
{
    return lk_svc_org_delete(r->svc, &r->principal, ORG_ID(r));
}
static void org_write(lk_buf *b, const void *x)
{
    lk_json_org(b, x);
}

static int project_list(lk_req *r, list_out *o)
{
    return lk_svc_project_list(r->svc, &r->principal, ORG_ID(r), &o->page, project_cb, &o->l);
}
static int project_create(lk_req *r, const char *name, size_t n, void *out)
{
    return lk_svc_project_create(r->svc, &r->principal, ORG_ID(r), name, n, out);
}
static int project_get(lk_req *r, void *out)
{
    return lk_svc_project_get(r->svc, &r->principal, ORG_ID(r), PROJECT_ID(r), out);
}
static int project_rename(lk_req *r, const char *name, size_t n, void *out)
{
    return lk_svc_project_rename(r->svc, &r->principal, ORG_ID(r), PROJECT_ID(r), name, n,
                                 out);
}
static int project_del(lk_req *r)
{
    return lk_svc_project_delete(r->svc, &r->principal, ORG_ID(r), PROJECT_ID(r));
}
static void project_write(lk_buf *b, const void *x)
{
    lk_json_project(b, x);
}

static int env_list(lk_req *r, list_out *o)
{
    return lk_svc_env_list(r->svc, &r->principal, ORG_ID(r), PROJECT_ID(r), &o->page, env_cb,
                           &o->l);
}
static int env_create(lk_req *r, const char *name, size_t n, void *out)
{
    return lk_svc_env_create(r->svc, &r->principal, ORG_ID(r), PROJECT_ID(r), name, n, out);
}
static int env_get(lk_req *r, void *out)
{
    return lk_svc_env_get(r->svc, &r->principal, ORG_ID(r), PROJECT_ID(r), ENV_ID(r), out);
}
static int env_rename(lk_req *r, const char *name, size_t n, void *out)
{
    return lk_svc_env_rename(r->svc, &r->principal, ORG_ID(r), PROJECT_ID(r), ENV_ID(r), name, n,
                             out);
}
static int env_del(lk_req *r)
{
    return lk_svc_env_delete(r->svc, &r->principal, ORG_ID(r), PROJECT_ID(r), ENV_ID(r));
}
static void env_write(lk_buf *b, const void *x)
{
    lk_json_env(b, x);
}

static const named ORG = {org_list, org_create, org_get, org_rename, org_del, org_write};
static const named PROJECT = {project_list, project_create, project_get,
                              project_rename, project_del, project_write};
static const named ENV = {env_list, env_create, env_get, env_rename, env_del, env_write};

static int named_list(lk_req *r, const named *k)
{
    list_out o;
    int rc = list_begin(r, &o);
    if (rc == 0) rc = k->list(r, &o);
    return rc != 0 ? rc : list_end(r, &o);
}

/* create (201) or rename (200): both take a body {"name": string}. */
static int named_write(lk_req *r, const named *k, bool create)
{
    rec x;
    const lk_api_str_op op = {"name", create ? 201 : 200, 512, create ? k->create : k->rename,
                              k->write};
    return lk_api_str_call(r, &op, &x);
}

static int named_get(lk_req *r, const named *k)
{
    rec x;
    int rc = k->get(r, &x);
    if (rc != 0) return rc;
    REPLY_ONE(r, 200, k->write, &x);
}

static int reply_204(lk_req *r)
{
    lk_reply_empty(r->req, 204);
    return 0;
}

static int named_delete(lk_req *r, const named *k)
{
    int rc = k->del(r);
    return rc != 0 ? rc : reply_204(r);
}


/* --- scopes: PATCH takes name and/or access_key_max_lifetime_days ------------ */

#define LIFETIME_FIELD "access_key_max_lifetime_days"

/* body's access_key_max_lifetime_days: absent → *has = false; null → 0;
 * an integer → itself if 1..LK_KEY_LIFETIME_DAYS_MAX, else -1 (which the
 * service refuses). Anything else → 400. */
static int body_lifetime(lk_req *r, json_t *body, bool *has, int64_t *days)
{
    json_t *v = json_object_get(body, LIFETIME_FIELD);
    *has = v != NULL;
    *days = 0;
    if (v == NULL || json_is_null(v)) return 0;
    if (!json_is_integer(v))
        return lk_err_field(&r->err, LIFETIME_FIELD, LIFETIME_FIELD " must be an integer or null");
    json_int_t d = json_integer_value(v);
    *days = d >= 1 && d <= LK_KEY_LIFETIME_DAYS_MAX ? (int64_t)d : -1;
    return 0;
}

static int org_update(lk_req *r, json_t *body, const void *ctx, void *out)
{
    const char *name;
    size_t n;
    bool has_days;
    int64_t days;
    int rc = lk_req_str(r, body, "name", 0, &name, &n);
    if (rc == 0) rc = body_lifetime(r, body, &has_days, &days);
    if (rc == 0 && name == NULL && !has_days) rc = lk_err_field(&r->err, "name", "name is required");
    if (rc != 0) return rc;
    return lk_svc_org_update(r->svc, &r->principal, ORG_ID(r), name, n, has_days ? &days : NULL,
                             out);
}

static int org_patch(lk_req *r)
{
    static const lk_api_body_op op = {200, 512, org_update, org_write};
    lk_org org;
    return lk_api_body_call(r, &op, NULL, &org);
}

int lk_api_org_list(lk_req *r) { return named_list(r, &ORG); }
int lk_api_org_create(lk_req *r) { return named_write(r, &ORG, true); }
int lk_api_org_get(lk_req *r) { return named_get(r, &ORG); }
int lk_api_org_patch(lk_req *r) { return org_patch(r); } /* scopes: name and/or lifetime */
int lk_api_org_delete(lk_req *r) { return named_delete(r, &ORG); }

int lk_api_project_list(lk_req *r) { return named_list(r, &PROJECT); }
int lk_api_project_create(lk_req *r) { return named_write(r, &PROJECT, true); }
int lk_api_project_get(lk_req *r) { return named_get(r, &PROJECT); }
int lk_api_project_patch(lk_req *r) { return named_write(r, &PROJECT, false); }
int lk_api_project_delete(lk_req *r) { return named_delete(r, &PROJECT); }

int lk_api_env_list(lk_req *r) { return named_list(r, &ENV); }
int lk_api_env_create(lk_req *r) { return named_write(r, &ENV, true); }
int lk_api_env_get(lk_req *r) { return named_get(r, &ENV); }
int lk_api_env_patch(lk_req *r) { return named_write(r, &ENV, false); }
int lk_api_env_delete(lk_req *r) { return named_delete(r, &ENV); }

/* --- members ------------------------------------------------------------------ */

int lk_api_member_list(lk_req *r)
{
    list_out o;
    int rc = list_begin(r, &o);
    if (rc == 0)
        rc = lk_svc_member_list(r->svc, &r->principal, ORG_ID(r), &o.page, member_cb, &o.l);
    return rc != 0 ? rc : list_end(r, &o);
}

static int member_add(lk_req *r, const char *email, size_t n, void *out)
{
    return lk_svc_member_add(r->svc, &r->principal, ORG_ID(r), email, n, out);
}
static void member_write(lk_buf *b, const void *m)
{
    lk_json_member(b, m);
}

int lk_api_member_add(lk_req *r)
{
    static const lk_api_str_op op = {"email", 201, 512, member_add, member_write};
    lk_member m;
    return lk_api_str_call(r, &op, &m);
}

int lk_api_member_remove(lk_req *r)
{
    int rc = lk_svc_member_remove(r->svc, &r->principal, ORG_ID(r), USER_ID(r));
    return rc != 0 ? rc : reply_204(r);
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
