/*
 * router.c — a segment-by-segment matcher over the route table (router.h;
 * the table itself is routes.c).
 *
 * ~40 routes, matched linearly: each comparison is a few short memcmp's, and
 * the first segment ("v1") is shared, so this costs well under a
 * microsecond and allocates nothing. A pattern can only fit a path with as
 * many '/' as it has (each segment consumes one '/' and the text up to the
 * next), so the number of '/' of each pattern is counted once (slashes[],
 * filled under pthread_once, which also checks the table's invariants) and
 * routes with another count are skipped without parsing their pattern:
 * most of the table, for most paths.
 */
#include "router.h"

#include <assert.h>
#include <pthread.h>
#include <ctype.h>
#include <string.h>

#define NROUTES lk_routes_count
#define LK_ROUTER_TABLE_MAX 64 /* slashes[] capacity; routes.c holds fewer */

static size_t slashes[LK_ROUTER_TABLE_MAX]; /* '/' in routes[i].pattern; read-only once filled */
static pthread_once_t slashes_once = PTHREAD_ONCE_INIT;

static size_t count_slashes(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == '/';
    return k;
}

/* Count each pattern's '/' and check the table's invariants: public
 * routes, and only they, perform no authorization operation. */
static void count_route_slashes(void)
{
    assert(NROUTES <= LK_ROUTER_TABLE_MAX);
    for (size_t i = 0; i < NROUTES; i++) {
        const lk_route *r = &lk_routes[i];
        assert(((r->flags & LK_ROUTE_PUBLIC) != 0) == (r->op == LK_ACT_NONE));
        /* scopes: a route needing a credential names exactly one scope */
        assert(((r->flags & LK_ROUTE_PUBLIC) != 0) == (r->scope == 0));
        assert(r->scope == 0 || lk_scope_name(r->scope) != NULL);
        assert(!((r->flags & LK_ROUTE_WRITE) && (r->flags & LK_ROUTE_PUBLIC)));
        slashes[i] = count_slashes(r->pattern, strlen(r->pattern));
    }
}

/* {param} names: the slot each fills and the ID prefix it holds; len is
 * the exact length of a token-shaped value (0: an ID, lk_id_valid). */
static const struct {
    const char *name, *prefix;
    lk_param slot;
    size_t len;
} param_map[] = {{"org_id", "org_", LK_PARAM_ORG, 0},
                 {"user_id", "usr_", LK_PARAM_USER, 0},
                 {"project_id", "prj_", LK_PARAM_PROJECT, 0},
                 {"environment_id", "env_", LK_PARAM_ENVIRONMENT, 0},
                 {"key_id", "key_", LK_PARAM_KEY, 0},
                 {"session_id", "ses_", LK_PARAM_SESSION, 0},
                 /* --- roles and invitations --- */
                 {"invitation_id", "inv_", LK_PARAM_INVITATION, 0},
                 {"invitation_token", "lki_", LK_PARAM_INVITE_TOKEN, LK_TOKEN_LEN}};

/* Is s[0..n) a well-formed value of param_map[k]? (A token's checksum is
 * the service's to check.) */
static bool param_valid(int k, const char *s, size_t n)
{
    if (param_map[k].len == 0) return lk_id_valid(param_map[k].prefix, s, n);
    if (n != param_map[k].len || memcmp(s, param_map[k].prefix, 4) != 0) return false;
    for (size_t i = 4; i < n; i++)
        if (!isalnum((unsigned char)s[i])) return false;
    return true;
}
#define NPARAM_NAMES (sizeof(param_map) / sizeof(param_map[0]))

/* The param_map entry of a {param} name, or -1 for an unknown name. */
static int param_find(const char *name, size_t n)
{
    for (size_t i = 0; i < NPARAM_NAMES; i++)
        if (strlen(param_map[i].name) == n && memcmp(param_map[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

enum shape { NO_FIT, FIT, FIT_BAD_ID };

/* Does path fit pattern? Params are copied into m when ids are valid.
 * Two passes: the shape first (literal segments, non-empty params), and
 * only for a path that fits, the ids — most routes share the {org_id}
 * prefix, and validating it for each of them before a later literal
 * segment fails cost ~8,000 instructions per request. */
static enum shape fit(const char *pat, const char *path, size_t plen, lk_route_match *m)
{
    size_t i = 0; /* position in path */
    const char *pp = pat;
    while (*pp) {
        if (*pp != '/' || i >= plen || path[i] != '/') return NO_FIT;
        pp++;
        i++;
        const char *pe = strchr(pp, '/');
        size_t pl = pe ? (size_t)(pe - pp) : strlen(pp);
        size_t s = i;
        while (i < plen && path[i] != '/')
            i++;
        size_t sl = i - s;
        if (pl >= 2 && pp[0] == '{') {
            if (sl == 0) return NO_FIT;
        } else if (pl != sl || memcmp(pp, path + s, sl) != 0) {
            return NO_FIT;
        }
        pp += pl;
    }
    if (i != plen) return NO_FIT;

    i = 0;
    unsigned have = 0;
    int bad_id = 0;
    while (*pat) {
        if (*pat != '/' || i >= plen || path[i] != '/') return NO_FIT;
        pat++;
        i++;
        const char *pe = strchr(pat, '/');
        size_t pl = pe ? (size_t)(pe - pat) : strlen(pat);
        size_t s = i;
        while (i < plen && path[i] != '/')
            i++;
        size_t sl = i - s;
        if (pl >= 2 && pat[0] == '{') {
            if (sl == 0) return NO_FIT;
            int k = param_find(pat + 1, pl - 2);
            if (k < 0) return NO_FIT;
            if (!param_valid(k, path + s, sl) || sl >= LK_ROUTE_PARAM_SIZE) {
                bad_id = 1;
            } else {
                char *slot = m->params[param_map[k].slot];
                memcpy(slot, path + s, sl);
                slot[sl] = '\0';
                have |= 1u << param_map[k].slot;
            }
        } else if (pl != sl || memcmp(pat, path + s, sl) != 0) {
            return NO_FIT;
        }
        pat += pl;
    }
    if (i != plen) return NO_FIT;
    m->have = have;
    return bad_id ? FIT_BAD_ID : FIT;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* NUL, malformed percent-escapes, "." / ".." segments (raw or encoded),
 * over-long: all refused before matching. */
static int path_ok(const char *path, size_t plen)
{
    if (plen == 0 || plen > LK_ROUTER_MAX_PATH || path[0] != '/') return 0;
    for (size_t i = 0; i < plen; i++) {
        char c = path[i];
        if (c == '\0') return 0;
        if (c == '%') {
            if (i + 2 >= plen) return 0;
            int hi = hexval(path[i + 1]), lo = hexval(path[i + 2]);
            if (hi < 0 || lo < 0) return 0;
            int v = hi * 16 + lo;
            if (v == 0 || v == '/' || v == '.' || v == '\\') return 0;
            i += 2;
        }
        if (c == '/') {
            size_t s = i + 1, e = s;
            while (e < plen && path[e] != '/')
                e++;
            if ((e - s == 1 && path[s] == '.') ||
                (e - s == 2 && path[s] == '.' && path[s + 1] == '.'))
                return 0;
        }
    }
    return 1;
}

int lk_router_is_api(const char *path, size_t plen)
{
    if (plen >= 3 && memcmp(path, "/v1", 3) == 0 && (plen == 3 || path[3] == '/')) return 1;
    if (plen == 8 && memcmp(path, "/healthz", 8) == 0) return 1;
    if (plen == 7 && memcmp(path, "/readyz", 7) == 0) return 1;
    return 0;
}

static void allow_add(lk_route_match *m, const char *method)
{
    if (strstr(m->allow, method) != NULL) return;
    size_t n = strlen(m->allow), k = strlen(method);
    if (n + k + 3 >= sizeof(m->allow)) return;
    if (n > 0) {
        memcpy(m->allow + n, ", ", 2);
        n += 2;
    }
    memcpy(m->allow + n, method, k + 1);
}

lk_route_status lk_router_match(const char *method, size_t mlen, const char *path, size_t plen,
                                lk_route_match *m)
{
    m->route = NULL;
    m->have = 0;
    m->allow[0] = '\0';
    if (!path_ok(path, plen)) return LK_ROUTE_BAD_PATH;
    if (mlen == 4 && memcmp(method, "HEAD", 4) == 0) {
        method = "GET";
        mlen = 3;
    }
    pthread_once(&slashes_once, count_route_slashes);
    size_t nslash = count_slashes(path, plen);
    int shape_fits = 0, bad_id = 0;
    for (size_t i = 0; i < NROUTES; i++) {
        const lk_route *r = &lk_routes[i];
        if (slashes[i] != nslash) continue; /* cannot fit: see the top of the file */
        enum shape s = fit(r->pattern, path, plen, m);
        if (s == NO_FIT) continue;
        if (s == FIT_BAD_ID) {
            bad_id = 1;
            continue;
        }
        shape_fits = 1;
        if (strlen(r->method) == mlen && memcmp(r->method, method, mlen) == 0) {
            m->route = r;
            return LK_ROUTE_FOUND;
        }
        allow_add(m, r->method);
        if (strcmp(r->method, "GET") == 0) allow_add(m, "HEAD");
    }
    if (shape_fits) return LK_ROUTE_METHOD;
    (void)bad_id; /* a malformed ID is simply not found */
    return LK_ROUTE_NOT_FOUND;
}

void lk_router_print(FILE *f)
{
    for (size_t i = 0; i < NROUTES; i++)
        fprintf(f, "%s %s %s\n", lk_routes[i].method, lk_routes[i].pattern,
                lk_routes[i].scope                            ? lk_scope_name(lk_routes[i].scope)
                : (lk_routes[i].flags & LK_ROUTE_PUBLIC) != 0 ? "-"
                                                              : "?"); /* "?": a bug */
}
