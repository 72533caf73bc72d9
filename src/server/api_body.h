/*
 * api_body.h — the shape most write handlers share: parse the JSON body,
 * read its fields and call one lk_svc_* function, release the body, answer
 * with one record. A handler describes its call (an lk_api_body_op: a
 * `run` that reads its fields and path params and calls the service, the
 * status, the record's JSON writer) and lk_api_body_call does the rest.
 * The commonest case, a body of one required string field (a name, an
 * email, a role, an invitation token), is an lk_api_str_op.
 *
 * Invariants: the fields' text lives in the parsed body and is used only
 * while the body is held; the body is released on every path; errors are
 * returned as lk_err codes for reply.c, as every handler does.
 */
#ifndef LK_API_BODY_H
#define LK_API_BODY_H

#include "reply.h"

#include <jansson.h>
#include <stddef.h>

typedef struct lk_api_body_op {
    int status;   /* on success: 200, 201 */
    size_t guess; /* the answer buffer's first size (it grows as needed) */
    /* Reads body's fields (and path params), calls its lk_svc_* function
     * and fills out; an lk_err code. ctx is lk_api_body_call's. */
    int (*run)(lk_req *r, json_t *body, const void *ctx, void *out);
    void (*write)(lk_buf *b, const void *out); /* out as JSON */
} lk_api_body_op;

/* Run op for request r; out is storage for the op's record. */
int lk_api_body_call(lk_req *r, const lk_api_body_op *op, const void *ctx, void *out);

typedef struct lk_api_str_op {
    const char *field; /* the body's string field, required */
    int status;
    size_t guess;
    /* Reads its path params, calls its lk_svc_* function with the field's
     * text (s, n) and fills out; an lk_err code. */
    int (*call)(lk_req *r, const char *s, size_t n, void *out);
    void (*write)(lk_buf *b, const void *out);
} lk_api_str_op;

/* lk_api_body_call for a body of one required string field. */
int lk_api_str_call(lk_req *r, const lk_api_str_op *op, void *out);

#endif
