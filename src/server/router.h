/*
 * router.h — the API's route table and its matcher.
 *
 * A route is a method, a path pattern, a handler, flags and the
 * authorization operation it performs (authz.h's lk_action). The table
 * (routes.c) is the one list of endpoints and the one place that says,
 * per endpoint, what it needs, including the key scope (scope.h) the
 * dispatcher tests before the handler runs (exactly one scope for every
 * route that needs a credential, none for a public one: checked at first
 * use). `latchkeyd --print-routes` prints it and
 * tests/routes/run.py checks it against docs/openapi.yaml.
 *
 * Patterns are literal segments and `{param}` segments. A param's name
 * says which ID it holds and which named slot it fills ({org_id} →
 * LK_PARAM_ORG, "org_"; {user_id} → LK_PARAM_USER, "usr_"; {project_id}
 * → LK_PARAM_PROJECT, "prj_"; {environment_id} → LK_PARAM_ENVIRONMENT,
 * "env_"; {key_id} → LK_PARAM_KEY, "key_"; {session_id} →
 * LK_PARAM_SESSION, "ses_"). The matcher validates each
 * with lk_id_valid, so a malformed ID is a clean 404 and never reaches a
 * store; handlers fetch them by name (lk_route_param), never by position.
 *
 * Outcomes: FOUND (route + params copied into the match), NOT_FOUND (no
 * pattern fits, or an ID is malformed), METHOD (some pattern fits, not with
 * this method: `allow` lists the methods that would), BAD_PATH (empty or
 * not starting with '/', longer than LK_ROUTER_MAX_PATH, a NUL byte, a
 * "." or ".." segment, a malformed percent-escape ('%' not followed by two
 * hex digits), or an escape of NUL, '/', '.' or '\'). Other escapes are
 * well-formed but never decoded: no pattern holds a '%', so a path using
 * one is NOT_FOUND. HEAD matches GET routes.
 *
 * The table is static and read-only, shared by every thread. Matching
 * allocates nothing and takes no lock (one pthread_once at first use).
 */
#ifndef LK_ROUTER_H
#define LK_ROUTER_H

#include "authz.h"
#include "id.h"
#include "scope.h"
#include "token.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>

#define LK_ROUTER_MAX_PATH 1024
#define LK_ROUTER_ALLOW_SIZE 40
/* A path param's buffer: an ID (LK_ID_SIZE) or an invitation token. */
#define LK_ROUTE_PARAM_SIZE (LK_TOKEN_SIZE + 1)

typedef struct lk_req lk_req;

/* A handler returns 0 when it has replied, LK_HANDLER_DEFERRED when a
 * worker will reply later, or a negative lk_err code (the dispatcher then
 * replies with the error; details from r->err or r->svc->err). */
#define LK_HANDLER_DEFERRED 1
typedef int (*lk_handler_fn)(lk_req *r);

enum {
    LK_ROUTE_PUBLIC = 1u << 0, /* no credential needed (the handler may look at one) */
    LK_ROUTE_OWNER = 1u << 1,  /* authenticate a key together with its owner's row
                                * (one store read: whoami answers with it) */
    LK_ROUTE_WRITE = 1u << 2,  /* changes data: the handler runs on the writer
                                * thread in a group commit (writer.h); never
                                * public, never defers, never reads req->conn */
};

/* The named path parameters. */
typedef enum lk_param {
    LK_PARAM_ORG = 0,
    LK_PARAM_USER,
    LK_PARAM_PROJECT,
    LK_PARAM_ENVIRONMENT,
    LK_PARAM_KEY,
    LK_PARAM_SESSION, /* {session_id}, "ses_" (account) */
    LK_PARAM_INVITATION,   /* {invitation_id}: inv_… */
    LK_PARAM_INVITE_TOKEN, /* {invitation_token}: lki_… (a secret: never logged) */
    LK_PARAM_COUNT
} lk_param;

typedef struct lk_route {
    const char *method;
    const char *pattern;
    lk_handler_fn fn;
    unsigned flags;  /* LK_ROUTE_* */
    lk_action op;    /* what it does, for authz; LK_ACT_NONE iff LK_ROUTE_PUBLIC */
    lk_scopes scope; /* the one scope a key needs for it; 0 iff LK_ROUTE_PUBLIC */
} lk_route;

/* The table (routes.c): lk_routes[0 .. lk_routes_count - 1]. */
extern const lk_route lk_routes[];
extern const size_t lk_routes_count;

typedef enum lk_route_status {
    LK_ROUTE_FOUND = 0,
    LK_ROUTE_NOT_FOUND,
    LK_ROUTE_METHOD,
    LK_ROUTE_BAD_PATH,
} lk_route_status;

typedef struct lk_route_match {
    const lk_route *route;
    unsigned have;                                    /* bit (1 << lk_param) per param present */
    char params[LK_PARAM_COUNT][LK_ROUTE_PARAM_SIZE]; /* NUL-terminated, validated */
    char allow[LK_ROUTER_ALLOW_SIZE];                 /* for LK_ROUTE_METHOD: "GET, PATCH" */
} lk_route_match;

/* Match method + path (no query string). Writes only into *m. */
lk_route_status lk_router_match(const char *method, size_t mlen, const char *path, size_t plen,
                                lk_route_match *m);

/* The value of a path parameter of the matched route. Asking for one the
 * route's pattern does not hold is a programming error. Points into m. */
static inline const char *lk_route_param(const lk_route_match *m, lk_param p)
{
    assert(p < LK_PARAM_COUNT && (m->have & (1u << p)));
    return m->params[p];
}

/* Is this a path the API owns (under /v1/, /healthz, /readyz)? Others go
 * to the dashboard's static files. */
int lk_router_is_api(const char *path, size_t plen);

/* Print "METHOD PATTERN SCOPE" per route, one a line, SCOPE "-" for a
 * public route (for --print-routes). */
void lk_router_print(FILE *f);

#endif
