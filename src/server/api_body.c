/*
 * api_body.c — body-in, record-out handlers (see api_body.h).
 */
#include "api_body.h"

int lk_api_body_call(lk_req *r, const lk_api_body_op *op, const void *ctx, void *out)
{
    json_t *body;
    int rc = lk_req_json(r, &body);
    if (rc != 0) return rc;
    rc = op->run(r, body, ctx, out);
    json_decref(body);
    if (rc != 0) return rc;
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, op->guess);
    op->write(&b, out);
    lk_reply_json(r->req, op->status, &b);
    return 0;
}

static int str_run(lk_req *r, json_t *body, const void *ctx, void *out)
{
    const lk_api_str_op *op = ctx;
    const char *s;
    size_t n;
    int rc = lk_req_str(r, body, op->field, LK_FIELD_REQUIRED, &s, &n);
    return rc != 0 ? rc : op->call(r, s, n, out);
}

int lk_api_str_call(lk_req *r, const lk_api_str_op *op, void *out)
{
    const lk_api_body_op b = {op->status, op->guess, str_run, op->write};
    return lk_api_body_call(r, &b, op, out);
}
