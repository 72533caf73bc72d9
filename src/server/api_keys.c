/*
 * api_keys.c — access keys: an org's (/v1/organizations/{org}/access-keys)
 * and the caller's personal ones (/v1/me/access-keys).
 *
 * The token exists in this file only between lk_svc_key_create and the
 * response that carries it; the stack copy is wiped right after. It is
 * never logged.
 */
#include "api.h"

#include "timefmt.h"

#include <sodium.h>
#include <string.h>

static int key_cb(void *ctx, const lk_key *k)
{
    lk_json_list *l = ctx;
    lk_json_list_sep(l);
    lk_json_key(l->b, k, NULL);
    return 0;
}

static int key_list(lk_req *r, const char *org_id)
{
    lk_list page;
    int rc = lk_req_page(r, &page);
    if (rc != 0) return rc;
    lk_buf b;
    lk_json_list l;
    lk_buf_init(&b, &r->req->pool, 4096);
    lk_json_list_begin(&l, &b);
    rc = lk_svc_key_list(r->svc, &r->principal, org_id, &page, key_cb, &l);
    if (rc != 0) return rc;
    lk_json_list_end(&l, page.next);
    lk_reply_json(r->req, 200, &b);
    return 0;
}

static int key_create(lk_req *r, const char *org_id)
{
    json_t *body;
    const char *name, *exp;
    size_t n, en;
    int64_t expires_at = 0;
    lk_key k;
    char token[LK_TOKEN_SIZE];
    int rc = lk_req_json(r, &body);
    if (rc != 0) return rc;
    rc = lk_req_str(r, body, "name", LK_FIELD_REQUIRED, &name, &n);
    if (rc == 0) rc = lk_req_str(r, body, "expires_at", LK_FIELD_NULLABLE, &exp, &en);
    if (rc == 0 && exp != NULL && lk_time_parse(exp, en, &expires_at) != 0)
        rc = lk_err_field(&r->err, "expires_at", "expires_at must be an RFC 3339 time");
    if (rc == 0)
        rc = lk_svc_key_create(r->svc, &r->principal, org_id, name, n, expires_at, &k, token);
    json_decref(body);
    if (rc != 0) return rc;
    /* 4 KiB holds the largest key record (a 100-character name escaped
     * at 6 bytes a byte is < 2.5 KiB), so the buffer never grows and
     * leaves no stale copy of the token behind. */
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, 4096);
    lk_json_key(&b, &k, token);
    sodium_memzero(token, sizeof(token));
    lk_reply_json_secret(r->req, 201, &b);
    return 0;
}

static int key_rename(lk_req *r, const char *org_id, const char *key_id)
{
    json_t *body;
    const char *name;
    size_t n;
    lk_key k;
    int rc = lk_req_json(r, &body);
    if (rc != 0) return rc;
    rc = lk_req_str(r, body, "name", LK_FIELD_REQUIRED, &name, &n);
    if (rc == 0) rc = lk_svc_key_rename(r->svc, &r->principal, org_id, key_id, name, n, &k);
    json_decref(body);
    if (rc != 0) return rc;
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, 512);
    lk_json_key(&b, &k, NULL);
    lk_reply_json(r->req, 200, &b);
    return 0;
}

static int key_delete(lk_req *r, const char *org_id, const char *key_id)
{
    int rc = lk_svc_key_delete(r->svc, &r->principal, org_id, key_id);
    if (rc != 0) return rc;
    lk_reply_empty(r->req, 204);
    return 0;
}

int lk_api_orgkey_list(lk_req *r)
{
    return key_list(r, lk_route_param(&r->m, LK_PARAM_ORG));
}
int lk_api_orgkey_create(lk_req *r)
{
    return key_create(r, lk_route_param(&r->m, LK_PARAM_ORG));
}
int lk_api_orgkey_patch(lk_req *r)
{
    return key_rename(r, lk_route_param(&r->m, LK_PARAM_ORG), lk_route_param(&r->m, LK_PARAM_KEY));
}
int lk_api_orgkey_delete(lk_req *r)
{
    return key_delete(r, lk_route_param(&r->m, LK_PARAM_ORG), lk_route_param(&r->m, LK_PARAM_KEY));
}
int lk_api_mykey_list(lk_req *r)
{
    return key_list(r, NULL);
}
int lk_api_mykey_create(lk_req *r)
{
    return key_create(r, NULL);
}
int lk_api_mykey_patch(lk_req *r)
{
    return key_rename(r, NULL, lk_route_param(&r->m, LK_PARAM_KEY));
}
int lk_api_mykey_delete(lk_req *r)
{
    return key_delete(r, NULL, lk_route_param(&r->m, LK_PARAM_KEY));
}
