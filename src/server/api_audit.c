/*
 * api_audit.c — the audit log's two read endpoints (the contract's "Audit
 * log"): GET /v1/organizations/{org}/audit-events?limit&cursor&action&actor
 * and GET /v1/me/audit-events?limit&cursor&action. There is no endpoint
 * that edits or deletes an event.
 *
 * The handlers read the query (limit and cursor through lk_req_page;
 * action and actor here, raw: a valid value never needs percent-decoding,
 * so an escaped one fails the service's validation as a 400), call one
 * lk_svc_audit_list_* and write each event straight into the response
 * (write_event: one fixed shape, like json_out.c's records). `details` is
 * a JSON object text the service built; it is copied as it is.
 */
#include "api.h"
#include "service.h"

#include <string.h>

#define ORG_ID(r) lk_route_param(&(r)->m, LK_PARAM_ORG)
#define LIST_INITIAL_CAP 4096

/* The raw value of ?name= in r's query (first occurrence), or NULL. */
static const char *query_value(lk_req *r, const char *name, size_t *len)
{
    h2o_req_t *req = r->req;
    size_t nl = strlen(name);
    *len = 0;
    if (req->query_at == SIZE_MAX) return NULL;
    const char *q = req->path.base + req->query_at + 1;
    size_t qn = req->path.len - req->query_at - 1;
    if (qn > LK_QUERY_MAX) return NULL; /* lk_req_page refuses it first */
    for (size_t i = 0; i < qn;) {
        size_t s = i;
        while (i < qn && q[i] != '&')
            i++;
        if (i - s > nl && memcmp(q + s, name, nl) == 0 && q[s + nl] == '=') {
            *len = i - s - nl - 1;
            return q + s + nl + 1;
        }
        i++;
    }
    return NULL;
}

static void put_opt(lk_buf *b, const char *key, const char *v)
{
    lk_buf_put_key(b, key);
    if (v[0] == '\0')
        lk_buf_put_lit(b, "null");
    else
        lk_buf_put_str(b, v, strlen(v));
}

static void put_text(lk_buf *b, const char *key, const char *v)
{
    lk_buf_put_key(b, key);
    lk_buf_put_str(b, v, strlen(v));
}

static void write_event(lk_buf *b, const lk_audit_event *ev)
{
    put_text(b, "id", ev->id);
    lk_buf_putc(b, ',');
    put_text(b, "action", ev->action);
    lk_buf_put_lit(b, ",\"actor\":{");
    put_text(b, "type", ev->actor_type);
    lk_buf_putc(b, ',');
    put_opt(b, "id", ev->actor_id);
    lk_buf_putc(b, ',');
    put_opt(b, "name", ev->actor_name);
    lk_buf_putc(b, ',');
    put_opt(b, "user_id", ev->actor_user_id);
    lk_buf_put_lit(b, "},\"target\":{");
    put_text(b, "type", ev->target_type);
    lk_buf_putc(b, ',');
    put_opt(b, "id", ev->target_id);
    lk_buf_putc(b, ',');
    put_opt(b, "name", ev->target_name);
    lk_buf_put_lit(b, "},");
    put_opt(b, "organization_id", ev->org_id);
    lk_buf_putc(b, ',');
    put_opt(b, "ip", ev->ip);
    lk_buf_putc(b, ',');
    put_opt(b, "user_agent", ev->user_agent);
    lk_buf_putc(b, ',');
    lk_buf_put_key(b, "created_at");
    lk_buf_put_time(b, ev->created_at);
    lk_buf_putc(b, ',');
    lk_buf_put_key(b, "details");
    if (ev->details[0] == '{')
        lk_buf_puts(b, ev->details);
    else
        lk_buf_put_lit(b, "{}");
}

static int event_cb(void *ctx, const lk_audit_event *ev)
{
    lk_json_list *l = ctx;
    lk_json_list_sep(l);
    lk_buf_putc(l->b, '{');
    write_event(l->b, ev);
    lk_buf_putc(l->b, '}');
    return 0;
}

/* One list: org_id NULL for the caller's own security log. */
static int audit_list(lk_req *r, const char *org_id)
{
    lk_list page;
    lk_buf b;
    lk_json_list l;
    int rc = lk_req_page(r, &page);
    if (rc != 0) return rc;
    size_t an = 0, pn = 0;
    const char *action = query_value(r, "action", &an);
    const char *actor = query_value(r, "actor", &pn);
    lk_buf_init(&b, &r->req->pool, LIST_INITIAL_CAP);
    lk_json_list_begin(&l, &b);
    if (org_id)
        rc = lk_svc_audit_list_org(r->svc, &r->principal, org_id, action, an, actor, pn, &page,
                                   event_cb, &l);
    else
        rc = lk_svc_audit_list_me(r->svc, &r->principal, action, an, &page, event_cb, &l);
    if (rc != 0) return rc;
    lk_json_list_end(&l, page.next);
    lk_reply_json(r->req, 200, &b);
    return 0;
}

int lk_api_audit_org(lk_req *r)
{
    return audit_list(r, ORG_ID(r));
}

int lk_api_audit_me(lk_req *r)
{
    return audit_list(r, NULL);
}
