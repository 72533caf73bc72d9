/*
 * router.h — the API's route table and its matcher.
 *
 * A route is a method, a path pattern and a handler. Patterns are literal
 * segments and `{param}` segments; a param's name says which ID it holds
 * ({org_id} → "org_", {user_id} → "usr_", {project_id} → "prj_",
 * {environment_id} → "env_", {key_id} → "key_"), and the matcher validates
 * it with lk_id_valid, so a malformed ID is a clean 404 and never reaches
 * a store.
 *
 * Outcomes: FOUND (route + params copied into the match), NOT_FOUND (no
 * pattern fits, or an ID is malformed), METHOD (some pattern fits, not with
 * this method: `allow` lists the methods that would), BAD_PATH (NUL byte,
 * a malformed or any percent-escape, a "." or ".." segment, or longer than
 * LK_ROUTER_MAX_PATH). HEAD matches GET routes.
 *
 * The table is static and read-only, shared by every thread. It is the one
 * list of endpoints: `latchkeyd --print-routes` prints it and
 * tests/routes/run.py checks it against docs/openapi.yaml.
 */
#ifndef LK_ROUTER_H
#define LK_ROUTER_H

#include "id.h"

#include <stddef.h>
#include <stdio.h>

#define LK_ROUTE_MAX_PARAMS 3
#define LK_ROUTER_MAX_PATH 1024
#define LK_ROUTER_ALLOW_SIZE 40

typedef struct lk_req lk_req;

/* A handler returns 0 when it has replied, LK_HANDLER_DEFERRED when a
 * worker will reply later, or a negative lk_err code (the dispatcher then
 * replies with the error; details from r->err or r->svc->err). */
#define LK_HANDLER_DEFERRED 1
typedef int (*lk_handler_fn)(lk_req *r);

enum {
    LK_ROUTE_PUBLIC = 1, /* no credential needed (the handler may look at one) */
};

typedef struct lk_route {
    const char *method;
    const char *pattern;
    lk_handler_fn fn;
    unsigned flags;
} lk_route;

typedef enum lk_route_status {
    LK_ROUTE_FOUND = 0,
    LK_ROUTE_NOT_FOUND,
    LK_ROUTE_METHOD,
    LK_ROUTE_BAD_PATH,
} lk_route_status;

typedef struct lk_route_match {
    const lk_route *route;
    size_t nparams;
    char params[LK_ROUTE_MAX_PARAMS][LK_ID_SIZE]; /* NUL-terminated, validated */
    char allow[LK_ROUTER_ALLOW_SIZE];             /* for LK_ROUTE_METHOD: "GET, PATCH" */
} lk_route_match;

/* Match method + path (no query string). Writes only into *m. */
lk_route_status lk_router_match(const char *method, size_t mlen, const char *path, size_t plen,
                                lk_route_match *m);

/* Is this a path the API owns (under /v1/, /healthz, /readyz)? Others go
 * to the dashboard's static files. */
int lk_router_is_api(const char *path, size_t plen);

/* Print "METHOD PATTERN" per route, one a line (for --print-routes). */
void lk_router_print(FILE *f);

#endif
