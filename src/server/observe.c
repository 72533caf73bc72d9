/*
 * observe.c — the per-request record (see observe.h).
 *
 * Invariant: at most one record per request (lk_observe_begin is called
 * once, by the dispatcher; lk_observe_reply attaches one only when none
 * exists), and o->id always satisfies lk_reqid_valid.
 */
#include "observe.h"

#include "accesslog.h"
#include "metrics.h"
#include "router.h"

#include <assert.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#define REQID_HEADER "x-request-id"
#define US_PER_S 1000000

/* The record rides on a prefilter that only hands the response on. */
typedef struct obs_filter {
    h2o_req_prefilter_t super;
    lk_obs obs;
} obs_filter;

static void pass_on(h2o_req_prefilter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    h2o_setup_next_prefilter(self, req, slot);
}

lk_obs *lk_observe_find(h2o_req_t *req)
{
    for (h2o_req_prefilter_t *f = req->prefilters; f != NULL; f = f->next)
        if (f->on_setup_ostream == pass_on) return &((obs_filter *)f)->obs;
    return NULL;
}

/* The first X-Request-Id if it is sane, else a new one, into o. */
static void pick_id(h2o_req_t *req, lk_obs *o)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT(REQID_HEADER), -1);
    if (i != -1) {
        h2o_iovec_t v = req->headers.entries[i].value;
        if (lk_reqid_valid(v.base, v.len)) {
            memcpy(o->id, v.base, v.len);
            o->id[v.len] = '\0';
            o->id_len = v.len;
            return;
        }
    }
    o->id_len = lk_reqid_generate(o->id);
}

static lk_obs *attach(h2o_req_t *req)
{
    obs_filter *f = (obs_filter *)h2o_add_prefilter(req, sizeof(*f));
    f->super.on_setup_ostream = pass_on;
    lk_obs *o = &f->obs;
    o->route = LK_METRICS_ROUTE_UNMATCHED;
    o->principal = LK_PRINCIPAL_NONE;
    o->key_id[0] = '\0';
    o->authn = -1;
    pick_id(req, o);
    /* the id lives in the pool with the record: no copy for the header */
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT(REQID_HEADER), 0, NULL, o->id,
                          o->id_len);
    return o;
}

lk_obs *lk_observe_begin(h2o_req_t *req)
{
    assert(lk_observe_find(req) == NULL);
    return attach(req);
}

void lk_observe_route(lk_obs *o, size_t route)
{
    o->route = route;
}

void lk_observe_auth(lk_obs *o, int rc, const lk_principal *p, lk_svc *svc)
{
    /* consume the flag: a later rejection by the HTTP layer alone (no
     * service call) must not see this request's value */
    bool expired = svc != NULL && svc->expired_credential;
    if (svc != NULL) svc->expired_credential = false;
    if (rc == 0) {
        o->authn = LK_AUTHN_OK;
        o->principal = p->kind;
        if (p->kind == LK_PRINCIPAL_PERSONAL_KEY || p->kind == LK_PRINCIPAL_ORG_KEY)
            memcpy(o->key_id, p->key.id, sizeof(o->key_id));
        return;
    }
    switch (rc) {
    case LK_EUNAUTHENTICATED:
        o->authn = expired ? LK_AUTHN_EXPIRED : LK_AUTHN_INVALID;
        break;
    case LK_EFORBIDDEN:
        o->authn = LK_AUTHN_FORBIDDEN; /* a session write without its CSRF token */
        break;
    case LK_ERATE_LIMITED:
        o->authn = LK_AUTHN_THROTTLED;
        break;
    default:
        o->authn = -1; /* the store failed: no verdict on the credential */
        break;
    }
}

static const char *principal_name(lk_principal_kind k)
{
    switch (k) {
    case LK_PRINCIPAL_SESSION:
        return "session";
    case LK_PRINCIPAL_PERSONAL_KEY:
        return "personal_key";
    case LK_PRINCIPAL_ORG_KEY:
        return "org_key";
    case LK_PRINCIPAL_NONE:
    default:
        return "none";
    }
}

/* The TCP peer as text into out ("" if unknown). h2o caches the peer
 * address per connection; inet_ntop formats it without getnameinfo's
 * cost (a few hundred instructions, not thousands). */
static void peer_text(h2o_req_t *req, char out[INET6_ADDRSTRLEN])
{
    struct sockaddr_storage ss;
    out[0] = '\0';
    if (req->conn == NULL || req->conn->callbacks->get_peername == NULL) return;
    socklen_t n = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    const void *a = NULL;
    if (n != 0 && ss.ss_family == AF_INET) a = &((struct sockaddr_in *)&ss)->sin_addr;
    if (n != 0 && ss.ss_family == AF_INET6) a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
    if (a == NULL || inet_ntop(ss.ss_family, a, out, INET6_ADDRSTRLEN) == NULL) out[0] = '\0';
}

static void write_json(h2o_req_t *req, const lk_obs *o, int status, int64_t us)
{
    char client[INET6_ADDRSTRLEN];
    peer_text(req, client);
    struct timeval now;
    gettimeofday(&now, NULL);
    size_t plen = req->input.query_at != SIZE_MAX ? req->input.query_at : req->input.path.len;
    const char *route = o->route < lk_routes_count               ? lk_routes[o->route].pattern
                        : o->route == LK_METRICS_ROUTE_DASHBOARD ? "dashboard"
                                                                 : "unmatched";
    lk_accesslog_entry e = {
        .unix_us = (int64_t)now.tv_sec * US_PER_S + now.tv_usec,
        .request_id = o->id,
        .method = req->input.method.base,
        .method_len = req->input.method.len,
        .path = req->input.path.base,
        .path_len = plen,
        .route = route,
        .status = status,
        .duration_us = us,
        .client = client,
        .principal = principal_name(o->principal),
        .key_id = o->key_id,
    };
    char line[LK_LOG_LINE_MAX];
    size_t n = lk_accesslog_json(&e, line, sizeof line);
    lk_accesslog_add(line, n);
}

bool lk_observe_reply(h2o_req_t *req, int status, int64_t us)
{
    lk_obs *o = lk_observe_find(req);
    if (o == NULL) {
        o = attach(req); /* h2o answered before the dispatcher ran */
    }
    if (lk_metrics_on()) {
        lk_metrics_request(o->route, status, us > 0 ? (uint64_t)us : 0);
        if (o->authn >= 0)
            lk_metrics_auth(o->authn == LK_AUTHN_OK && status == 403 ? LK_AUTHN_FORBIDDEN
                                                                     : (lk_authn)o->authn);
    }
    if (lk_accesslog_format() != LK_LOG_JSON) return false;
    write_json(req, o, status, us);
    return true;
}
