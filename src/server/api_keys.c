/*
 * api_keys.c — access keys: an org's (/v1/organizations/{org}/access-keys)
 * and the caller's personal ones (/v1/me/access-keys).
 *
 * The token exists in this file only between lk_svc_key_create and the
 * response that carries it; the stack copy is wiped right after. It is
 * never logged.
 */
#include "api.h"
#include "api_body.h"

#include "service_scopes.h"

#include "timefmt.h"

#include <sodium.h>
#include <string.h>

#define KEY_JSON_MAX 8192

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

/* --- scopes: list fields of a key body ----------------------------------- */

#define KEY_LIST_MAX 32 /* scopes and allowed_cidrs: LK_SCOPE_LIST_MAX, LK_CIDR_LIST_MAX */

/* Strings borrowed from a JSON array */
typedef struct str_list {
    const char *s[KEY_LIST_MAX];
    size_t len[KEY_LIST_MAX];
} str_list;

/* body[field]: absent → !out->present; else an array of at most
 * KEY_LIST_MAX strings (else 400 with field). Strings point into body. */
static int req_str_list(lk_req *r, json_t *body, const char *field, str_list *buf, lk_strv *out)
{
    json_t *v = json_object_get(body, field);
    *out = (lk_strv){.present = v != NULL, .n = 0, .s = buf->s, .len = buf->len};
    if (v == NULL) return 0;
    if (!json_is_array(v)) return lk_err_field(&r->err, field, "must be an array of strings");
    if (json_array_size(v) > KEY_LIST_MAX)
        return lk_err_field(&r->err, field, "at most 32 entries");
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e)) return lk_err_field(&r->err, field, "must be an array of strings");
        buf->s[i] = json_string_value(e);
        buf->len[i] = json_string_length(e);
    }
    out->n = json_array_size(v);
    return 0;
}

static int key_create(lk_req *r, const char *org_id)
{
    json_t *body;
    const char *exp;
    size_t en;
    lk_key_spec spec = {0};
    str_list scopes, cidrs;
    lk_key k;
    char token[LK_TOKEN_SIZE];
    int rc = lk_req_json(r, &body);
    if (rc != 0) return rc;
    rc = lk_req_str(r, body, "name", LK_FIELD_REQUIRED, &spec.name, &spec.name_len);
    if (rc == 0) rc = lk_req_str(r, body, "expires_at", LK_FIELD_NULLABLE, &exp, &en);
    if (rc == 0 && exp != NULL && lk_time_parse(exp, en, &spec.expires_at) != 0)
        rc = lk_err_field(&r->err, "expires_at", "expires_at must be an RFC 3339 time");
    if (rc == 0) rc = req_str_list(r, body, "scopes", &scopes, &spec.scopes);
    if (rc == 0) rc = req_str_list(r, body, "allowed_cidrs", &cidrs, &spec.cidrs);
    if (rc == 0) rc = lk_svc_key_create_spec(r->svc, &r->principal, org_id, &spec, &k, token);
    json_decref(body);
    if (rc != 0) return rc;
    /* 8 KiB holds the largest key record (a 100-character name escaped
     * at 6 bytes a byte, 32 CIDRs and every scope are < 3.5 KiB), so the
     * buffer never grows and leaves no stale copy of the token behind. */
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, KEY_JSON_MAX);
    lk_json_key(&b, &k, token);
    sodium_memzero(token, sizeof(token));
    lk_reply_json_secret(r->req, 201, &b);
    return 0;
}

/* PATCH: name and/or allowed_cidrs (scopes are fixed at creation). ctx:
 * the org's ID (NULL: a personal key) and the key's. */
typedef struct key_ref {
    const char *org_id, *key_id;
} key_ref;

static int key_update(lk_req *r, json_t *body, const void *ctx, void *out)
{
    const key_ref *ref = ctx;
    const char *name;
    size_t n;
    str_list cidrs;
    lk_strv cv;
    int rc = lk_req_str(r, body, "name", 0, &name, &n);
    if (rc == 0) rc = req_str_list(r, body, "allowed_cidrs", &cidrs, &cv);
    if (rc == 0 && json_object_get(body, "scopes") != NULL)
        rc = lk_err_field(&r->err, "scopes", "scopes cannot change after creation");
    if (rc != 0) return rc;
    return lk_svc_key_update(r->svc, &r->principal, ref->org_id, ref->key_id, name, n, &cv, out);
}

static void key_write(lk_buf *b, const void *k)
{
    lk_json_key(b, k, NULL);
}

static int key_rename(lk_req *r, const char *org_id, const char *key_id)
{
    static const lk_api_body_op op = {200, KEY_JSON_MAX, key_update, key_write};
    lk_key k;
    return lk_api_body_call(r, &op, &(key_ref){org_id, key_id}, &k);
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
