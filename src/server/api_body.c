/*
 * api_body.c — one-string-field handlers (see api_body.h).
 */
#include "api_body.h"

#include <jansson.h>

int lk_api_str_call(lk_req *r, const lk_api_str_op *op, void *out)
{
    json_t *body;
    const char *s;
    size_t n;
    int rc = lk_req_json_str(r, op->field, &body, &s, &n);
    if (rc != 0) return rc;
    rc = op->call(r, s, n, out);
    json_decref(body);
    if (rc != 0) return rc;
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, op->guess);
    op->write(&b, out);
    lk_reply_json(r->req, op->status, &b);
    return 0;
}
