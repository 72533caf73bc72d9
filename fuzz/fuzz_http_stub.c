/*
 * fuzz_http_stub.c — the one http.c symbol the handlers reference
 * (lk_http_defer), for harnesses that link the HTTP layer's decoders
 * without the server. Never called by those harnesses; aborts if it is.
 */
#include "http.h"

#include <stdlib.h>

int lk_http_defer(lk_req *r, lk_job *j)
{
    (void)r;
    (void)j;
    abort();
}
