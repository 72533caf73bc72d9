/*
 * fuzz_auth.c — libFuzzer harness for credential parsing as latchkeyd does
 * it: the Authorization header (auth.c's lk_http_authenticate: duplicates,
 * length cap, "Bearer" scheme, whitespace trimming, then the token check,
 * the store lookup and the per-address throttle) and the Cookie header
 * (lk_req_session_cookie, then the session lookup and the X-CSRF-Token
 * check for writes).
 *
 * It links the real HTTP layer (lkhttp) and calls the public
 * lk_http_authenticate (auth.h). Below it sits a real service on a
 * real SQLite file (a temporary directory, removed at exit) holding one
 * user with a live session and a personal key, so valid credentials reach
 * the success paths too: in the input, the byte pairs \x01T, \x01C and
 * \x01X are replaced by that key's token, the session cookie value and
 * the session's CSRF token. Input format: fuzz_req.h's header lines; the
 * method comes from a "method:" pseudo-header (default GET) and the path
 * from "path:" (default /v1/whoami); a method + path that matches no
 * route is skipped (authentication only ever runs after a match).
 */
#include "auth.h"
#include "fuzz_req.h"
#include "reply.h"
#include "router.h"
#include "service.h"
#include "store.h"
#include "token.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static lk_svc fz_svc;
static lk_svc_config fz_cfg;
static char fz_token[LK_TOKEN_SIZE];
static char fz_cookie[LK_SESSION_TOKEN_SIZE];
static char fz_csrf[LK_CSRF_SIZE];
static char fz_dir[64];
static uint8_t fz_peer = 1; /* last octet of 127.0.0.x for the current input */

static socklen_t fz_peername(h2o_conn_t *conn, struct sockaddr *sa)
{
    (void)conn;
    struct sockaddr_in *in = (struct sockaddr_in *)sa;
    memset(in, 0, sizeof(*in));
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(0x7f000000u | fz_peer);
    return sizeof(*in);
}

static const h2o_conn_callbacks_t fz_callbacks = {.get_peername = fz_peername};

static void fz_cleanup(void)
{
    char p[128];
    lk_store_close(fz_svc.st);
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s/fuzz.db%s", fz_dir, sfx[i]);
        unlink(p);
    }
    rmdir(fz_dir);
}

static void die(const char *what)
{
    fprintf(stderr, "fuzz_auth: setup failed: %s: %s\n", what, lk_err_message(&fz_svc.err));
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (lk_token_init() != 0) abort();
    snprintf(fz_dir, sizeof(fz_dir), "/tmp/lk-fuzz-auth-XXXXXX");
    if (mkdtemp(fz_dir) == NULL) abort();
    char url[128];
    snprintf(url, sizeof(url), "sqlite:%s/fuzz.db", fz_dir);
    lk_err e;
    lk_err_clear(&e);
    lk_store *st = NULL;
    if (lk_store_open(url, &st, &e) != 0 || st->ops->migrate(st) != 0) abort();
    atexit(fz_cleanup);
    lk_svc_config_init(&fz_cfg);
    fz_svc = (lk_svc){.st = st, .usage = NULL, .rl = lk_ratelimit_new(4096), .cfg = &fz_cfg};
    lk_user u;
    static const char em[] = "fuzz@example.com", pw[] = "fuzz password 1";
    if (lk_svc_signup(&fz_svc, em, strlen(em), pw, strlen(pw), "Fuzz", 4, &u) != 0) die("signup");
    if (lk_svc_login(&fz_svc, em, strlen(em), pw, strlen(pw), "127.0.0.1", &u, fz_cookie,
                     fz_csrf) != 0)
        die("login");
    lk_principal p;
    if (lk_svc_auth_session(&fz_svc, fz_cookie, strlen(fz_cookie), &p) != 0) die("session");
    lk_key k;
    if (lk_svc_key_create(&fz_svc, &p, NULL, "fuzz", 4, 0, &k, fz_token) != 0) die("key");
    return 0;
}

/* data with \x01T/\x01C/\x01X expanded, in the pool. */
static uint8_t *expand(fz_req *f, const uint8_t *data, size_t size, size_t *outn)
{
    size_t cap = size * (LK_SESSION_TOKEN_SIZE) + 1, o = 0;
    uint8_t *out = h2o_mem_alloc_pool(&f->req.pool, cap);
    for (size_t i = 0; i < size; i++) {
        const char *sub = NULL;
        if (data[i] == 0x01 && i + 1 < size) {
            if (data[i + 1] == 'T')
                sub = fz_token;
            else if (data[i + 1] == 'C')
                sub = fz_cookie;
            else if (data[i + 1] == 'X')
                sub = fz_csrf;
        }
        if (sub) {
            size_t n = strlen(sub);
            memcpy(out + o, sub, n);
            o += n;
            i++;
        } else {
            out[o++] = data[i];
        }
    }
    *outn = o;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    fz_req f;
    fz_req_init(&f);
    h2o_conn_t conn;
    memset(&conn, 0, sizeof(conn));
    conn.callbacks = &fz_callbacks;
    f.req.conn = &conn;
    fz_peer = size > 0 ? (uint8_t)(1 + data[0] % 8) : 1;
    size_t n;
    uint8_t *in = expand(&f, data, size, &n);
    fz_req_headers(&f, in, n);
    ssize_t mi = h2o_find_header_by_str(&f.req.headers, H2O_STRLIT("method"), -1);
    if (mi != -1) f.req.method = f.req.headers.entries[mi].value;

    const char *cv;
    size_t cn;
    if (lk_req_session_cookie(&f.req, &cv, &cn)) {
        if (cn == 0 || cn > LK_COOKIE_VALUE_MAX) abort();
    }

    lk_req r;
    memset(&r, 0, sizeof(r));
    r.req = &f.req;
    r.svc = &fz_svc;
    /* authentication runs after a route matched (it may look at which):
     * the route comes from a "path:" pseudo-header, default /v1/whoami */
    ssize_t pi = h2o_find_header_by_str(&f.req.headers, H2O_STRLIT("path"), -1);
    h2o_iovec_t path =
        pi != -1 ? f.req.headers.entries[pi].value : h2o_iovec_init(H2O_STRLIT("/v1/whoami"));
    if (lk_router_match(f.req.method.base, f.req.method.len, path.base, path.len, &r.m) !=
        LK_ROUTE_FOUND) {
        fz_req_free(&f);
        return 0;
    }
    lk_err_clear(&r.err);
    lk_err_clear(&fz_svc.err);
    int rc = lk_http_authenticate(&r);
    if (rc == 0) {
        if (r.principal.kind == LK_PRINCIPAL_NONE) abort();
    } else if (rc != LK_EUNAUTHENTICATED && rc != LK_EFORBIDDEN && rc != LK_ERATE_LIMITED) {
        fprintf(stderr, "unexpected lk_http_authenticate() result %d\n", rc);
        abort();
    }
    sodium_memzero(&r.principal, sizeof(r.principal));
    fz_req_free(&f);
    return 0;
}
