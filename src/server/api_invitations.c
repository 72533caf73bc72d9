/*
 * api_invitations.c — the handlers of "Roles and invitations": invitations
 * of an org (create, list, revoke), the invited person's preview and
 * accept, and a member's role (PATCH …/members/{user_id}).
 *
 * Each parses its input, calls one lk_svc_* function of
 * service_invitations.h and writes the result. The create response is the
 * only body that holds an invitation link: it is built in a buffer sized
 * up front and sent with lk_reply_json_secret (wiped when the request is
 * disposed); the service's copy of the link is wiped here.
 */
#include "api.h"
#include "api_body.h"
#include "service_invitations.h"

#include <sodium.h>
#include <string.h>

#define ORG_ID(r) lk_route_param(&(r)->m, LK_PARAM_ORG)
#define USER_ID(r) lk_route_param(&(r)->m, LK_PARAM_USER)
#define INV_ID(r) lk_route_param(&(r)->m, LK_PARAM_INVITATION)
#define INV_TOKEN(r) lk_route_param(&(r)->m, LK_PARAM_INVITE_TOKEN)
#define ONE_BODY_GUESS 1024 /* an invitation or member; the link adds its length */

static void put_field(lk_buf *b, const char *key, const char *v, bool first)
{
    if (!first) lk_buf_putc(b, ',');
    lk_buf_put_key(b, key);
    lk_buf_put_str(b, v, strlen(v));
}

/* {id, email, role, invited_by, created_at, expires_at[, url]} */
static void json_invitation(lk_buf *b, const lk_invitation *inv, const char *url)
{
    lk_buf_putc(b, '{');
    put_field(b, "id", inv->id, true);
    put_field(b, "organization_id", inv->org_id, false);
    put_field(b, "email", inv->email, false);
    put_field(b, "role", inv->role, false);
    put_field(b, "invited_by", inv->invited_by, false);
    lk_buf_put_lit(b, ",");
    lk_buf_put_key(b, "created_at");
    lk_buf_put_time(b, inv->created_at);
    lk_buf_put_lit(b, ",");
    lk_buf_put_key(b, "expires_at");
    lk_buf_put_time(b, inv->expires_at);
    if (url) put_field(b, "url", url, false);
    lk_buf_putc(b, '}');
}

static int invitation_cb(void *ctx, const lk_invitation *inv)
{
    lk_json_list *l = ctx;
    lk_json_list_sep(l);
    json_invitation(l->b, inv, NULL);
    return 0;
}

int lk_api_invitation_create(lk_req *r)
{
    json_t *body;
    const char *email = NULL, *role = NULL;
    size_t en = 0, rn = 0;
    lk_invitation inv;
    char url[LK_INVITE_URL_MAX];
    int rc = lk_req_json(r, &body);
    if (rc != 0) return rc;
    rc = lk_req_str(r, body, "email", LK_FIELD_REQUIRED, &email, &en);
    if (rc == 0) rc = lk_req_str(r, body, "role", LK_FIELD_NULLABLE, &role, &rn);
    if (rc == 0)
        rc = lk_svc_invitation_create(r->svc, &r->principal, ORG_ID(r), email, en, role, rn, &inv,
                                      url);
    json_decref(body);
    if (rc != 0) return rc;
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, ONE_BODY_GUESS + 2 * strlen(url));
    json_invitation(&b, &inv, url);
    sodium_memzero(url, sizeof url);
    lk_reply_json_secret(r->req, 201, &b);
    return 0;
}

int lk_api_invitation_list(lk_req *r)
{
    lk_buf b;
    lk_json_list l;
    lk_list page;
    int rc = lk_req_page(r, &page);
    if (rc != 0) return rc;
    lk_buf_init(&b, &r->req->pool, 2048);
    lk_json_list_begin(&l, &b);
    rc = lk_svc_invitation_list(r->svc, &r->principal, ORG_ID(r), &page, invitation_cb, &l);
    if (rc != 0) return rc;
    lk_json_list_end(&l, page.next);
    lk_reply_json(r->req, 200, &b);
    return 0;
}

int lk_api_invitation_revoke(lk_req *r)
{
    int rc = lk_svc_invitation_revoke(r->svc, &r->principal, ORG_ID(r), INV_ID(r));
    if (rc != 0) return rc;
    lk_reply_empty(r->req, 204);
    return 0;
}

/* {organization: {id, name}, email, role, invited_by, inviter: {id, name,
 * email} | null, expires_at} */
int lk_api_invitation_preview(lk_req *r)
{
    lk_invite_preview pv;
    const char *tok = INV_TOKEN(r);
    int rc = lk_svc_invitation_preview(r->svc, &r->principal, tok, strlen(tok), &pv);
    if (rc != 0) return rc;
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, ONE_BODY_GUESS * 2);
    lk_buf_put_lit(&b, "{");
    lk_buf_put_key(&b, "organization");
    lk_buf_putc(&b, '{');
    put_field(&b, "id", pv.org.id, true);
    put_field(&b, "name", pv.org.name, false);
    lk_buf_putc(&b, '}');
    put_field(&b, "email", pv.inv.email, false);
    put_field(&b, "role", pv.inv.role, false);
    put_field(&b, "invited_by", pv.inv.invited_by, false);
    lk_buf_put_lit(&b, ",");
    lk_buf_put_key(&b, "inviter");
    if (pv.inviter.id[0]) {
        lk_buf_putc(&b, '{');
        put_field(&b, "id", pv.inviter.id, true);
        put_field(&b, "name", pv.inviter.name, false);
        put_field(&b, "email", pv.inviter.email, false);
        lk_buf_putc(&b, '}');
    } else {
        lk_buf_put_lit(&b, "null");
    }
    lk_buf_put_lit(&b, ",");
    lk_buf_put_key(&b, "expires_at");
    lk_buf_put_time(&b, pv.inv.expires_at);
    lk_buf_putc(&b, '}');
    lk_reply_json(r->req, 200, &b);
    return 0;
}

static int accept_call(lk_req *r, const char *token, size_t n, void *out)
{
    return lk_svc_invitation_accept(r->svc, &r->principal, token, n, out);
}
static int set_role_call(lk_req *r, const char *role, size_t n, void *out)
{
    return lk_svc_member_set_role(r->svc, &r->principal, ORG_ID(r), USER_ID(r), role, n, out);
}
static void member_write(lk_buf *b, const void *m)
{
    lk_json_member(b, m);
}

int lk_api_invitation_accept(lk_req *r)
{
    static const lk_api_str_op op = {"token", 200, ONE_BODY_GUESS, accept_call, member_write};
    lk_member m;
    return lk_api_str_call(r, &op, &m);
}

int lk_api_member_patch(lk_req *r)
{
    static const lk_api_str_op op = {"role", 200, ONE_BODY_GUESS, set_role_call, member_write};
    lk_member m;
    return lk_api_str_call(r, &op, &m);
}
