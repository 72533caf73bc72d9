/*
 * api_health.c — /healthz (the process answers) and /readyz (the store
 * answers). Neither needs a credential; neither reveals anything.
 */
#include "api.h"

int lk_api_healthz(lk_req *r)
{
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, 32);
    lk_buf_puts(&b, "{\"status\":\"ok\"}");
    lk_reply_json(r->req, 200, &b);
    return 0;
}

int lk_api_readyz(lk_req *r)
{
    int rc = lk_svc_ready(r->svc);
    if (rc != 0) return lk_err_set(&r->err, LK_EUNAVAILABLE, "database unavailable");
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, 32);
    lk_buf_puts(&b, "{\"status\":\"ready\"}");
    lk_reply_json(r->req, 200, &b);
    return 0;
}
