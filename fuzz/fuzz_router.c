/*
 * fuzz_router.c — libFuzzer harness for the route matcher and the path
 * checks (router.c) and the list query parser (lk_req_page in reply.c,
 * then lk_svc_parse_page). Input: the method, a '\n', then the request
 * target (path with an optional ?query), any bytes including NUL.
 * Checks: a FOUND route's params are valid IDs of the right kind, NUL-ended.
 */
#include "fuzz_req.h"
#include "id.h"
#include "reply.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size < 32 ? size : 32);
    size_t ml = nl ? (size_t)(nl - data) : 0;
    size_t ts = nl ? ml + 1 : 0;
    fz_req f;
    fz_req_init(&f);
    char *method = fz_dup(&f, data, ml);
    char *target = fz_dup(&f, data + ts, size - ts);
    size_t tl = size - ts;
    f.req.method = h2o_iovec_init(method, ml);
    f.req.path = h2o_iovec_init(target, tl);
    const char *q = memchr(target, '?', tl);
    f.req.query_at = q ? (size_t)(q - target) : SIZE_MAX;
    size_t plen = q ? (size_t)(q - target) : tl;

    (void)lk_router_is_api(target, plen);
    lk_route_match m;
    lk_route_status st = lk_router_match(method, ml, target, plen, &m);
    if (st == LK_ROUTE_FOUND) {
        if (m.route == NULL || m.nparams > LK_ROUTE_MAX_PARAMS) abort();
        for (size_t i = 0; i < m.nparams; i++) {
            size_t n = strnlen(m.params[i], LK_ID_SIZE);
            if (n == LK_ID_SIZE || n < 4) abort();
            if (memchr(target, m.params[i][0], plen) == NULL) abort();
        }
    } else if (st == LK_ROUTE_METHOD) {
        if (strnlen(m.allow, LK_ROUTER_ALLOW_SIZE) == LK_ROUTER_ALLOW_SIZE || m.allow[0] == '\0')
            abort();
    }
    lk_req r;
    memset(&r, 0, sizeof(r));
    r.req = &f.req;
    lk_list l;
    (void)lk_req_page(&r, &l);
    fz_req_free(&f);
    return 0;
}
