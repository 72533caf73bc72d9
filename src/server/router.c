/*
 * router.c — the route table and a segment-by-segment matcher (router.h).
 *
 * ~40 routes, matched linearly: each comparison is a few short memcmp's, and
 * the first segment ("v1") is shared, so this costs well under a
 * microsecond and allocates nothing. A pattern can only fit a path with as
 * many '/' as it has (each segment consumes one '/' and the text up to the
 * next), so the number of '/' of each pattern is counted once (slashes[],
 * filled under pthread_once) and routes with another count are skipped
 * without parsing their pattern: most of the table, for most paths.
 */
#include "router.h"

#include "api.h"

#include <pthread.h>
#include <string.h>

#define ORG "/v1/organizations/{org_id}"
#define PRJ ORG "/projects/{project_id}"

static const lk_route routes[] = {
    {"GET", "/healthz", lk_api_healthz, LK_ROUTE_PUBLIC},
    {"GET", "/readyz", lk_api_readyz, LK_ROUTE_PUBLIC},

    {"POST", "/v1/auth/signup", lk_api_signup, LK_ROUTE_PUBLIC},
    {"POST", "/v1/auth/login", lk_api_login, LK_ROUTE_PUBLIC},
    {"POST", "/v1/auth/logout", lk_api_logout, LK_ROUTE_PUBLIC},
    {"GET", "/v1/auth/session", lk_api_session, LK_ROUTE_PUBLIC},
    {"GET", "/v1/whoami", lk_api_whoami, 0},
    {"GET", "/v1/me", lk_api_me_get, 0},
    {"PATCH", "/v1/me", lk_api_me_patch, 0},
    {"GET", "/v1/me/access-keys", lk_api_mykey_list, 0},
    {"POST", "/v1/me/access-keys", lk_api_mykey_create, 0},
    {"PATCH", "/v1/me/access-keys/{key_id}", lk_api_mykey_patch, 0},
    {"DELETE", "/v1/me/access-keys/{key_id}", lk_api_mykey_delete, 0},

    {"GET", "/v1/organizations", lk_api_org_list, 0},
    {"POST", "/v1/organizations", lk_api_org_create, 0},
    {"GET", ORG, lk_api_org_get, 0},
    {"PATCH", ORG, lk_api_org_patch, 0},
    {"DELETE", ORG, lk_api_org_delete, 0},
    {"GET", ORG "/members", lk_api_member_list, 0},
    {"POST", ORG "/members", lk_api_member_add, 0},
    {"DELETE", ORG "/members/{user_id}", lk_api_member_remove, 0},
    {"GET", ORG "/projects", lk_api_project_list, 0},
    {"POST", ORG "/projects", lk_api_project_create, 0},
    {"GET", PRJ, lk_api_project_get, 0},
    {"PATCH", PRJ, lk_api_project_patch, 0},
    {"DELETE", PRJ, lk_api_project_delete, 0},
    {"GET", PRJ "/environments", lk_api_env_list, 0},
    {"POST", PRJ "/environments", lk_api_env_create, 0},
    {"GET", PRJ "/environments/{environment_id}", lk_api_env_get, 0},
    {"PATCH", PRJ "/environments/{environment_id}", lk_api_env_patch, 0},
    {"DELETE", PRJ "/environments/{environment_id}", lk_api_env_delete, 0},
    {"GET", ORG "/billing", lk_api_billing_get, 0},
    {"PATCH", ORG "/billing", lk_api_billing_patch, 0},
    {"GET", ORG "/access-keys", lk_api_orgkey_list, 0},
    {"POST", ORG "/access-keys", lk_api_orgkey_create, 0},
    {"PATCH", ORG "/access-keys/{key_id}", lk_api_orgkey_patch, 0},
    {"DELETE", ORG "/access-keys/{key_id}", lk_api_orgkey_delete, 0},

    /* --- device --- sign-in from the CLI through the browser */
    {"POST", "/v1/auth/device", lk_api_device_start, LK_ROUTE_PUBLIC},
    {"POST", "/v1/auth/device/token", lk_api_device_token, LK_ROUTE_PUBLIC},
    {"GET", "/v1/auth/device", lk_api_device_lookup, 0},
    {"POST", "/v1/auth/device/approve", lk_api_device_approve, 0},
    {"POST", "/v1/auth/device/deny", lk_api_device_deny, 0},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static size_t slashes[NROUTES]; /* '/' in routes[i].pattern; read-only once filled */
static pthread_once_t slashes_once = PTHREAD_ONCE_INIT;

static size_t count_slashes(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == '/';
    return k;
}

static void count_route_slashes(void)
{
    for (size_t i = 0; i < NROUTES; i++)
        slashes[i] = count_slashes(routes[i].pattern, strlen(routes[i].pattern));
}

/* The ID prefix a {param} holds, or NULL for an unknown name. */
static const char *param_prefix(const char *name, size_t n)
{
    static const struct {
        const char *name, *prefix;
    } map[] = {{"org_id", "org_"},
               {"user_id", "usr_"},
               {"project_id", "prj_"},
               {"environment_id", "env_"},
               {"key_id", "key_"}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strlen(map[i].name) == n && memcmp(map[i].name, name, n) == 0) return map[i].prefix;
    return NULL;
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
    size_t np = 0;
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
            const char *prefix = param_prefix(pat + 1, pl - 2);
            if (prefix == NULL || np >= LK_ROUTE_MAX_PARAMS) return NO_FIT;
            if (!lk_id_valid(prefix, path + s, sl) || sl >= LK_ID_SIZE) {
                bad_id = 1;
            } else {
                memcpy(m->params[np], path + s, sl);
                m->params[np][sl] = '\0';
            }
            np++;
        } else if (pl != sl || memcmp(pat, path + s, sl) != 0) {
            return NO_FIT;
        }
        pat += pl;
    }
    if (i != plen) return NO_FIT;
    m->nparams = np;
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
    m->nparams = 0;
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
        const lk_route *r = &routes[i];
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
        fprintf(f, "%s %s\n", routes[i].method, routes[i].pattern);
}
