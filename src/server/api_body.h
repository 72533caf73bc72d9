/*
 * api_body.h — the shape many handlers share: the request body is one
 * string field (a name, an email, a role, an invitation token) and the
 * answer is one record. A handler describes its call with an lk_api_str_op
 * (the field, the status, an adapter that reads its path params and calls
 * its lk_svc_* function, the record's JSON writer) and lk_api_str_call
 * does the rest: parse the body, read the field, call, release the body,
 * reply.
 *
 * Invariants: the field's text lives in the parsed body and is handed to
 * `call` only while the body is held; the body is released on every path;
 * errors are returned as lk_err codes for reply.c, as every handler does.
 */
#ifndef LK_API_BODY_H
#define LK_API_BODY_H

#include "reply.h"

#include <stddef.h>

typedef struct lk_api_str_op {
    const char *field; /* the body's string field, required */
    int status;        /* on success: 200, 201 */
    size_t guess;      /* the answer buffer's first size (it grows as needed) */
    /* Reads its path params, calls its lk_svc_* function with the field's
     * text (s, n) and fills out; an lk_err code. */
    int (*call)(lk_req *r, const char *s, size_t n, void *out);
    void (*write)(lk_buf *b, const void *out); /* out as JSON */
} lk_api_str_op;

/* Run op for request r; out is storage for the op's record. */
int lk_api_str_call(lk_req *r, const lk_api_str_op *op, void *out);

#endif
