/*
 * fuzz_http_stub.c — the http.c symbols the handlers reference
 * (lk_http_defer, lk_http_log), for harnesses that link the HTTP layer's
 * decoders without the server. lk_http_defer is never called by those
 * harnesses (aborts if it is); log lines are dropped.
 */
#include "http.h"

#include <stdlib.h>

int lk_http_defer(lk_req *r, lk_job *j)
{
    (void)r;
    (void)j;
    abort();
}

/* The access log: harnesses that reach lk_reply_log drop the line. */
void lk_http_log(h2o_req_t *req, const char *line, size_t n)
{
    (void)req;
    (void)line;
    (void)n;
}
