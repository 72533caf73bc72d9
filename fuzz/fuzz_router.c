/*
 * fuzz_router.c — libFuzzer harness for the route matcher and the path
 * checks (router.c: named params, the route table's invariants) and the list query parser
 * (lk_req_page in reply.c, then lk_svc_parse_page). Input: the method, a '\n', then the request
 * target (path with an optional ?query), any bytes including NUL.
 * Checks: a FOUND route's named params are exactly its pattern's, each a
 * NUL-ended ID found in the path; public routes, and only they, name no
 * authorization operation.
 */
#include "fuzz_req.h"
#include "id.h"
#include "reply.h"

#include <stdlib.h>
#include <string.h>

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
        if (m.route == NULL || (m.have >> LK_PARAM_COUNT) != 0) abort();
        /* the route's public flag and its authz operation agree */
        if (((m.route->flags & LK_ROUTE_PUBLIC) != 0) != (m.route->op == LK_ACT_NONE)) abort();
        /* one named param per '{' in the pattern, each a substring of the path */
        size_t braces = 0, got = 0;
        for (const char *p = m.route->pattern; *p; p++)
            braces += *p == '{';
        for (int k = 0; k < LK_PARAM_COUNT; k++) {
            if (!(m.have & (1u << k))) continue;
            got++;
            const char *v = lk_route_param(&m, (lk_param)k);
            size_t n = strnlen(v, LK_ID_SIZE);
            if (n == LK_ID_SIZE || n < 4) abort();
            if (memmem(target, plen, v, n) == NULL) abort();
        }
        if (got != braces) abort();
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
