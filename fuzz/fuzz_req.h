/*
 * fuzz_req.h — build a bare h2o_req_t from fuzz input for the harnesses that
 * drive reply.c / http.c code (request decoders, cookie and Authorization
 * parsing) without a socket.
 *
 * Input format shared by those harnesses: header lines "NAME: value\n"
 * (NAME is matched case-insensitively against the few headers latchkey
 * reads; other lines are added by name), then an empty line, then the body
 * (the request entity, verbatim, any bytes). Everything lives in the
 * request's pool and is released by fz_req_free.
 */
#ifndef LK_FUZZ_REQ_H
#define LK_FUZZ_REQ_H

#include <ctype.h>
#include <h2o.h>
#include <string.h>
#include <strings.h>

typedef struct fz_req {
    h2o_req_t req;
} fz_req;

static inline void fz_req_init(fz_req *f)
{
    memset(f, 0, sizeof(*f));
    h2o_mem_init_pool(&f->req.pool);
    f->req.query_at = SIZE_MAX;
    f->req.method = h2o_iovec_init(H2O_STRLIT("GET"));
    f->req.input.method = f->req.method;
    f->req.path = h2o_iovec_init(H2O_STRLIT("/"));
}

static inline void fz_req_free(fz_req *f)
{
    h2o_mem_clear_pool(&f->req.pool);
}

/* Copy [p, p+n) into the pool (h2o keeps pointers, never copies). */
static inline char *fz_dup(fz_req *f, const uint8_t *p, size_t n)
{
    char *d = h2o_mem_alloc_pool(&f->req.pool, n + 1);
    if (n) memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

/* Parse "NAME: value" lines up to a blank line into req.headers; returns
 * the offset of the body. */
static inline size_t fz_req_headers(fz_req *f, const uint8_t *data, size_t size)
{
    size_t i = 0;
    while (i < size) {
        size_t s = i;
        while (i < size && data[i] != '\n') i++;
        size_t e = i;
        if (i < size) i++; /* the '\n' */
        if (e == s) break; /* blank line: body follows */
        const uint8_t *colon = memchr(data + s, ':', e - s);
        if (colon == NULL) continue;
        size_t nl = (size_t)(colon - (data + s));
        size_t vs = nl + 1;
        while (s + vs < e && data[s + vs] == ' ') vs++;
        char *name = fz_dup(f, data + s, nl);
        for (size_t k = 0; k < nl; k++) name[k] = (char)tolower((unsigned char)name[k]);
        char *val = fz_dup(f, data + s + vs, e - s - vs);
        const h2o_token_t *tok = h2o_lookup_token(name, nl);
        if (tok != NULL)
            h2o_add_header(&f->req.pool, &f->req.headers, tok, NULL, val, e - s - vs);
        else
            h2o_add_header_by_str(&f->req.pool, &f->req.headers, name, nl, 0, NULL, val,
                                  e - s - vs);
    }
    return i;
}

#endif
