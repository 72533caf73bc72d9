/*
 * test_service.c — the use-cases (service.h) and the authorization table
 * (authz.h) against a real SQLite store in a temporary directory, with a
 * real rate limiter and last-used buffer. The clock is injected through
 * lk_svc_config.now so expiry and throttling windows are tested without
 * sleeping.
 *
 * With LK_TEST_DATABASE_URL=postgresql://... set, every test runs against a
 * fresh PostgreSQL database created next to that one (and dropped after).
 *
 * The cast: alice and carol are members of org A; bob is in no org of
 * alice's (he has his own org B). Principals: alice's session, alice's
 * personal key, an org key of A, an org key of B, bob's session (a
 * non-member), and no credential.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "authz.h"
#include "password.h"
#include "service.h"
#include "service_scopes.h"
#include "timefmt.h"
#include "token.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S(x) x, sizeof(x) - 1
#define PW "correct horse battery"

static int64_t fake_now;
static int64_t clock_fn(void)
{
    return fake_now;
}

typedef struct fx {
    char dir[64], path[128];
    char url[512];      /* the store under test */
    char pg_admin[512]; /* LK_TEST_DATABASE_URL when testing PostgreSQL */
    char pg_db[32];     /* the per-test database, dropped in teardown */
    lk_store *st;
    lk_ratelimit *rl;
    lk_usage *usage;
    lk_svc_config cfg;
    lk_svc svc;
    lk_user alice, bob, carol;
    lk_principal s_alice, s_bob, s_carol, none;
    lk_org a, b;
} fx;

/* Run one statement on the PostgreSQL server behind f->pg_admin. */
static int pg_exec(const fx *f, const char *sql)
{
    PGconn *c = PQconnectdb(f->pg_admin);
    int ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PGresult *r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) fprintf(stderr, "pg: %s", PQerrorMessage(c));
        PQclear(r);
    }
    PQfinish(c);
    return ok ? 0 : -1;
}

/* f->url: a fresh SQLite file in a temp dir, or a fresh PostgreSQL
 * database on the server of LK_TEST_DATABASE_URL. */
static int fresh_store_url(fx *f)
{
    const char *pg = getenv("LK_TEST_DATABASE_URL");
    if (pg != NULL && strncmp(pg, "postgres", 8) == 0) {
        char sql[96];
        const char *slash = strrchr(pg, '/');
        if (slash == NULL || strlen(pg) >= sizeof(f->pg_admin)) return -1;
        snprintf(f->pg_admin, sizeof(f->pg_admin), "%s", pg);
        unsigned char rnd[6];
        randombytes_buf(rnd, sizeof(rnd));
        snprintf(f->pg_db, sizeof(f->pg_db), "lk_svc_%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
                 rnd[2], rnd[3], rnd[4], rnd[5]);
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s", f->pg_db);
        if (pg_exec(f, sql) != 0) return -1;
        snprintf(f->url, sizeof(f->url), "%.*s/%s", (int)(slash - pg), pg, f->pg_db);
        return 0;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/lk-svc-XXXXXX");
    if (mkdtemp(f->dir) == NULL) return -1;
    snprintf(f->path, sizeof(f->path), "%s/lk.db", f->dir);
    snprintf(f->url, sizeof(f->url), "sqlite:%s", f->path);
    return 0;
}

static void rm_db(fx *f)
{
    if (f->pg_db[0]) {
        char sql[96];
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->pg_db);
        (void)pg_exec(f, sql);
        return;
    }
    static const char *sfx[] = {"", "-wal", "-shm", "-journal"};
    char p[160];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, sfx[i]);
        unlink(p);
    }
    rmdir(f->dir);
}

/* Sign up and log in; *p becomes the session principal. */
static void person(fx *f, const char *email, const char *name, lk_user *u, lk_principal *p)
{
    char cookie[LK_SESSION_TOKEN_SIZE], csrf[LK_CSRF_SIZE];
    lk_user again;
    assert_int_equal(lk_svc_signup(&f->svc, email, strlen(email), S(PW), name, strlen(name), u),
                     LK_OK);
    assert_int_equal(lk_svc_login(&f->svc, email, strlen(email), S(PW), "127.0.0.1", &again,
                                  cookie, csrf),
                     LK_OK);
    assert_string_equal(again.id, u->id);
    assert_int_equal(lk_svc_auth_session(&f->svc, cookie, strlen(cookie), p), LK_OK);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    if (fresh_store_url(f) != 0) return -1;
    lk_err e;
    lk_err_clear(&e);
    if (lk_store_open(f->url, &f->st, &e) != LK_OK || f->st->ops->migrate(f->st) != LK_OK)
        return -1;
    f->rl = lk_ratelimit_new(1024);
    f->usage = lk_usage_new(64);
    lk_svc_config_init(&f->cfg);
    f->cfg.now = clock_fn;
    fake_now = lk_time_now();
    f->svc = (lk_svc){.st = f->st, .usage = f->usage, .rl = f->rl, .cfg = &f->cfg};
    person(f, "alice@example.com", "Alice", &f->alice, &f->s_alice);
    person(f, "bob@example.com", "Bob", &f->bob, &f->s_bob);
    person(f, "carol@example.com", "Carol", &f->carol, &f->s_carol);
    memset(&f->none, 0, sizeof(f->none));
    lk_member m;
    if (lk_svc_org_create(&f->svc, &f->s_alice, S("Org A"), &f->a) ||
        lk_svc_org_create(&f->svc, &f->s_bob, S("Org B"), &f->b) ||
        lk_svc_member_add(&f->svc, &f->s_alice, f->a.id, S("carol@example.com"), &m))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    lk_usage_free(f->usage);
    lk_ratelimit_free(f->rl);
    lk_store_close(f->st);
    rm_db(f);
    free(f);
    return 0;
}

/* Create a key (org_id NULL: personal) as p and authenticate with it. */
static void key_principal(fx *f, const lk_principal *p, const char *org_id, lk_key *k,
                          char tok[LK_TOKEN_SIZE], lk_principal *out)
{
    assert_int_equal(lk_svc_key_create(&f->svc, p, org_id, S("ci"), 0, k, tok), LK_OK);
    assert_int_equal(lk_svc_auth_bearer(&f->svc, tok, strlen(tok), "127.0.0.1", out), LK_OK);
}

static int count_cb(void *ctx, const void *rec)
{
    (void)rec;
    (*(int *)ctx)++;
    return 0;
}
static int org_count(void *c, const lk_org *o)
{
    return count_cb(c, o);
}
static int key_count(void *c, const lk_key *k)
{
    return count_cb(c, k);
}
static int prj_count(void *c, const lk_project *p)
{
    return count_cb(c, p);
}
static int mem_count(void *c, const lk_member *m)
{
    return count_cb(c, m);
}

static lk_list page_of(int limit)
{
    lk_list l;
    memset(&l, 0, sizeof(l));
    l.page.limit = limit;
    return l;
}

/* --- the authorization table -------------------------------------------- */

enum { P_SESSION, P_PKEY, P_OKEY_A, P_OKEY_B, P_NONMEMBER, P_NONE, P_N };
static const char *pname[P_N] = {"session",  "personal key", "org key A",
                                 "org key B", "non-member",   "none"};

#define OK LK_OK
#define E401 LK_EUNAUTHENTICATED
#define E403 LK_EFORBIDDEN
#define E404 LK_ENOT_FOUND

static void expect(int got, int want, const char *what, int who, const fx *f)
{
    if (got != want)
        fail_msg("%s as %s: got %s (%s), want %s", what, pname[who], lk_err_name(got),
                 f->svc.err.message, lk_err_name(want));
}

static void authz_table(void **state)
{
    fx *f = *state;
    lk_principal pr[P_N];
    lk_key k;
    char tok[LK_TOKEN_SIZE];
    pr[P_SESSION] = f->s_alice;
    key_principal(f, &f->s_alice, NULL, &k, tok, &pr[P_PKEY]);
    key_principal(f, &f->s_alice, f->a.id, &k, tok, &pr[P_OKEY_A]);
    key_principal(f, &f->s_bob, f->b.id, &k, tok, &pr[P_OKEY_B]);
    pr[P_NONMEMBER] = f->s_bob;
    pr[P_NONE] = f->none;
    assert_int_equal(pr[P_PKEY].kind, LK_PRINCIPAL_PERSONAL_KEY);
    assert_int_equal(pr[P_OKEY_A].kind, LK_PRINCIPAL_ORG_KEY);

    /*                 session pkey okeyA okeyB nonmember none */
    const int self[P_N] = {OK, OK, E403, E403, OK, E401};
    const int create[P_N] = {OK, OK, E403, E403, OK, E401};
    const int rw[P_N] = {OK, OK, OK, E404, E404, E401};
    const int admin[P_N] = {OK, OK, E403, E404, E404, E401};
    const int keys[P_N] = {OK, OK, E403, E404, E404, E401};

    for (int i = 0; i < P_N; i++) {
        const lk_principal *p = &pr[i];
        lk_svc *svc = &f->svc;
        lk_user u;
        lk_org o;
        lk_project prj;
        lk_billing bill;
        lk_key nk;
        char nt[LK_TOKEN_SIZE];
        int n = 0;
        lk_list l = page_of(10);

        expect(lk_authz_check(svc, p, LK_ACT_SELF, NULL), self[i], "authz SELF", i, f);
        expect(lk_svc_me_get(svc, p, &u), self[i], "GET /v1/me", i, f);
        expect(lk_svc_me_rename(svc, p, S("New Name"), &u), self[i], "PATCH /v1/me", i, f);
        expect(lk_svc_key_list(svc, p, NULL, &l, key_count, &n), self[i], "list personal keys",
               i, f);
        expect(lk_svc_key_create(svc, p, NULL, S("x"), 0, &nk, nt), self[i],
               "create personal key", i, f);
        expect(lk_svc_org_create(svc, p, S("New org"), &o), create[i], "POST /v1/organizations",
               i, f);

        expect(lk_svc_org_get(svc, p, f->a.id, &o), rw[i], "GET org", i, f);
        expect(lk_svc_org_rename(svc, p, f->a.id, S("Org A"), &o), rw[i], "PATCH org", i, f);
        expect(lk_svc_member_list(svc, p, f->a.id, &l, mem_count, &n), rw[i], "list members", i,
               f);
        expect(lk_svc_project_create(svc, p, f->a.id, S("p"), &prj), rw[i], "create project", i,
               f);
        expect(lk_svc_project_list(svc, p, f->a.id, &l, prj_count, &n), rw[i], "list projects",
               i, f);
        expect(lk_svc_billing_get(svc, p, f->a.id, &bill), rw[i], "GET billing", i, f);
        expect(lk_svc_billing_update(svc, p, f->a.id, S("pro"), NULL, 0, &bill), rw[i],
               "PATCH billing", i, f);

        /* admin: adding an unknown email gets past authz to "no user" (404
         * with another message) only for those allowed */
        lk_member m;
        int rc = lk_svc_member_add(svc, p, f->a.id, S("nobody@example.com"), &m);
        if (admin[i] == OK) {
            expect(rc, E404, "add unknown member", i, f);
            assert_string_equal(svc->err.message, "no user with this email");
        } else {
            expect(rc, admin[i], "add member", i, f);
        }
        expect(lk_authz_check(svc, p, LK_ACT_ORG_ADMIN, f->a.id), admin[i], "authz ADMIN", i, f);

        expect(lk_svc_key_list(svc, p, f->a.id, &l, key_count, &n), keys[i], "list org keys", i,
               f);
        expect(lk_svc_key_create(svc, p, f->a.id, S("x"), 0, &nk, nt), keys[i],
               "create org key", i, f);
        if (rw[i] == E404) assert_string_equal(f->svc.err.message, "organization not found");
    }
}

static void org_key_answers(void **state)
{
    /* What exactly each denial says, and that an org key of A reaches A's
     * projects and environments but another org's are 404. */
    fx *f = *state;
    lk_key k;
    char tok[LK_TOKEN_SIZE];
    lk_principal oa;
    key_principal(f, &f->s_alice, f->a.id, &k, tok, &oa);
    lk_project pa, pb;
    lk_env env;
    assert_int_equal(lk_svc_project_create(&f->svc, &oa, f->a.id, S("api"), &pa), LK_OK);
    assert_string_equal(pa.org_id, f->a.id);
    assert_int_equal(lk_svc_env_create(&f->svc, &oa, f->a.id, pa.id, S("prod"), &env), LK_OK);
    assert_string_equal(env.project_id, pa.id);
    assert_int_equal(lk_svc_project_create(&f->svc, &f->s_bob, f->b.id, S("b"), &pb), LK_OK);
    /* B's project addressed through A: not found */
    assert_int_equal(lk_svc_project_get(&f->svc, &oa, f->a.id, pb.id, &pa), E404);
    assert_string_equal(f->svc.err.message, "project not found");
    assert_int_equal(lk_svc_env_create(&f->svc, &oa, f->a.id, pb.id, S("x"), &env), E404);
    /* env of A's project addressed through B's project: not found */
    lk_project pa2;
    assert_int_equal(lk_svc_project_create(&f->svc, &oa, f->a.id, S("api2"), &pa2), LK_OK);
    assert_int_equal(lk_svc_env_get(&f->svc, &oa, f->a.id, pa2.id, env.id, &env), E404);
    assert_string_equal(f->svc.err.message, "environment not found");
    /* malformed ids are plain 404s */
    assert_int_equal(lk_svc_org_get(&f->svc, &oa, "org_'; DROP TABLE", NULL), E404);
    assert_int_equal(lk_svc_project_get(&f->svc, &oa, f->a.id, "nope", &pa), E404);
    /* whoami */
    lk_whoami w;
    assert_int_equal(lk_svc_whoami(&f->svc, &oa, &w), LK_OK);
    assert_int_equal(w.kind, LK_PRINCIPAL_ORG_KEY);
    assert_true(w.has_org && w.has_key && !w.has_user);
    assert_string_equal(w.org.id, f->a.id);
    assert_string_equal(w.key.id, k.id);
    /* org list: an org key sees only its own org */
    int n = 0;
    lk_list l = page_of(100);
    assert_int_equal(lk_svc_org_list(&f->svc, &oa, &l, org_count, &n), LK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(l.next, 0);
    /* delete org: 403 for the org key, with a message */
    assert_int_equal(lk_svc_org_delete(&f->svc, &oa, f->a.id), E403);
    assert_true(f->svc.err.message[0] != '\0');
}

static void whoami_kinds(void **state)
{
    fx *f = *state;
    lk_whoami w;
    lk_key k;
    char tok[LK_TOKEN_SIZE];
    lk_principal pk;
    assert_int_equal(lk_svc_whoami(&f->svc, &f->s_alice, &w), LK_OK);
    assert_int_equal(w.kind, LK_PRINCIPAL_SESSION);
    assert_true(w.has_user && !w.has_key && !w.has_org);
    assert_string_equal(w.user.email, "alice@example.com");
    key_principal(f, &f->s_alice, NULL, &k, tok, &pk);
    assert_int_equal(lk_svc_whoami(&f->svc, &pk, &w), LK_OK);
    assert_int_equal(w.kind, LK_PRINCIPAL_PERSONAL_KEY);
    assert_true(w.has_user && w.has_key && !w.has_org);
    assert_string_equal(w.user.id, f->alice.id);
    assert_string_equal(w.key.id, k.id);
    assert_int_equal(lk_svc_whoami(&f->svc, &f->none, &w), E401);
}

/* Authenticating with LK_AUTH_OWNER reads the key's user or org with the
 * key; whoami then answers from it exactly as it does from two reads. */
static void whoami_owner_in_auth(void **state)
{
    fx *f = *state;
    lk_key kp, ko;
    char tp[LK_TOKEN_SIZE], to[LK_TOKEN_SIZE];
    lk_principal two, one;
    lk_whoami w2, w1;
    for (int kind = 0; kind < 2; kind++) {
        const char *org = kind ? f->a.id : NULL;
        char *tok = kind ? to : tp;
        key_principal(f, &f->s_alice, org, kind ? &ko : &kp, tok, &two);
        assert_false(two.has_owner);
        assert_int_equal(lk_svc_auth_bearer_lazy(&f->svc, tok, strlen(tok), NULL, NULL,
                                                 LK_AUTH_OWNER, &one),
                         LK_OK);
        assert_true(one.has_owner);
        assert_int_equal(one.kind, two.kind);
        assert_string_equal(one.key.id, two.key.id);
        assert_int_equal(lk_svc_whoami(&f->svc, &two, &w2), LK_OK);
        assert_int_equal(lk_svc_whoami(&f->svc, &one, &w1), LK_OK);
        assert_int_equal(w1.kind, w2.kind);
        assert_int_equal(w1.has_user, w2.has_user);
        assert_int_equal(w1.has_org, w2.has_org);
        assert_int_equal(w1.has_key, w2.has_key);
        assert_string_equal(w1.user.id, w2.user.id);
        assert_string_equal(w1.user.email, w2.user.email);
        assert_string_equal(w1.user.name, w2.user.name);
        assert_int_equal(w1.user.created_at, w2.user.created_at);
        assert_string_equal(w1.org.id, w2.org.id);
        assert_string_equal(w1.org.name, w2.org.name);
        assert_int_equal(w1.org.created_at, w2.org.created_at);
        assert_string_equal(w1.key.id, w2.key.id);
        assert_string_equal(w1.key.name, w2.key.name);
        assert_string_equal(kind ? w1.org.id : w1.user.id, kind ? f->a.id : f->alice.id);
    }
    /* revoked: refused at once, owner or not */
    assert_int_equal(lk_svc_key_delete(&f->svc, &f->s_alice, NULL, kp.id), LK_OK);
    assert_int_equal(lk_svc_auth_bearer_lazy(&f->svc, tp, strlen(tp), NULL, NULL, LK_AUTH_OWNER,
                                             &one),
                     E401);
    assert_false(one.has_owner);
    assert_int_equal(one.kind, LK_PRINCIPAL_NONE);
    /* the org key still works */
    assert_int_equal(lk_svc_auth_bearer_lazy(&f->svc, to, strlen(to), NULL, NULL, LK_AUTH_OWNER,
                                             &one),
                     LK_OK);
}

/* --- keys ------------------------------------------------------------------ */

static void key_lifecycle_and_revocation(void **state)
{
    fx *f = *state;
    lk_key k, k2;
    char tok[LK_TOKEN_SIZE];
    lk_principal p;
    assert_int_equal(lk_svc_key_create(&f->svc, &f->s_alice, NULL, S("  laptop "), 0, &k, tok),
                     LK_OK);
    assert_int_equal(strlen(tok), LK_TOKEN_LEN);
    assert_memory_equal(tok, "lkp_", 4);
    assert_int_equal(lk_token_parse(tok, strlen(tok), NULL), LK_TOKEN_OK);
    assert_string_equal(k.name, "laptop");
    assert_int_equal(k.type, LK_KEY_PERSONAL);
    assert_string_equal(k.user_id, f->alice.id);
    assert_string_equal(k.created_by, f->alice.id);
    char red[LK_TOKEN_REDACTED_SIZE];
    lk_token_redact(tok, red);
    assert_string_equal(k.redacted, red);
    assert_null(strstr(k.redacted, tok + 8)); /* the record never holds the token */

    assert_int_equal(lk_svc_auth_bearer(&f->svc, tok, strlen(tok), "10.0.0.1", &p), LK_OK);
    assert_int_equal(p.kind, LK_PRINCIPAL_PERSONAL_KEY);
    assert_string_equal(p.user_id, f->alice.id);
    assert_string_equal(p.key.id, k.id);

    /* rename changes the name only */
    assert_int_equal(lk_svc_key_rename(&f->svc, &f->s_alice, NULL, k.id, S("desk"), &k2), LK_OK);
    assert_string_equal(k2.name, "desk");
    assert_string_equal(k2.redacted, k.redacted);
    assert_int_equal(k2.created_at, k.created_at);
    assert_int_equal(lk_svc_key_rename(&f->svc, &f->s_alice, NULL, k.id, S(" "), &k2),
                     LK_EVALIDATION);
    assert_string_equal(f->svc.err.field, "name");
    assert_int_equal(lk_svc_auth_bearer(&f->svc, tok, strlen(tok), "10.0.0.1", &p), LK_OK);

    /* delete: the very next authentication fails */
    assert_int_equal(lk_svc_key_delete(&f->svc, &f->s_alice, NULL, k.id), LK_OK);
    assert_int_equal(lk_svc_auth_bearer(&f->svc, tok, strlen(tok), "10.0.0.1", &p), E401);
    assert_int_equal(p.kind, LK_PRINCIPAL_NONE);
    assert_int_equal(lk_svc_key_delete(&f->svc, &f->s_alice, NULL, k.id), E404);
    assert_string_equal(f->svc.err.message, "access key not found");
    assert_int_equal(lk_svc_key_rename(&f->svc, &f->s_alice, NULL, k.id, S("x"), &k2), E404);

    /* a personal key may manage its user's keys, including itself */
    lk_principal pk;
    key_principal(f, &f->s_alice, NULL, &k, tok, &pk);
    assert_int_equal(lk_svc_key_delete(&f->svc, &pk, NULL, k.id), LK_OK);
    assert_int_equal(lk_svc_auth_bearer(&f->svc, tok, strlen(tok), "10.0.0.1", &p), E401);
}

static void keys_of_others_are_not_found(void **state)
{
    fx *f = *state;
    lk_key ka, kb, korg, out;
    char tok[LK_TOKEN_SIZE];
    assert_int_equal(lk_svc_key_create(&f->svc, &f->s_alice, NULL, S("a"), 0, &ka, tok), 0);
    assert_int_equal(lk_svc_key_create(&f->svc, &f->s_bob, NULL, S("b"), 0, &kb, tok), 0);
    assert_int_equal(lk_svc_key_create(&f->svc, &f->s_alice, f->a.id, S("o"), 0, &korg, tok), 0);
    assert_memory_equal(tok, "lko_", 4);
    assert_string_equal(korg.org_id, f->a.id);
    assert_int_equal(korg.type, LK_KEY_ORG);
    /* bob cannot see alice's personal key, nor A's org key via his org */
    assert_int_equal(lk_svc_key_rename(&f->svc, &f->s_bob, NULL, ka.id, S("x"), &out), E404);
    assert_int_equal(lk_svc_key_delete(&f->svc, &f->s_bob, NULL, ka.id), E404);
    assert_int_equal(lk_svc_key_delete(&f->svc, &f->s_bob, f->b.id, korg.id), E404);
    /* an org key through the personal path and vice versa */
    assert_int_equal(lk_svc_key_delete(&f->svc, &f->s_alice, NULL, korg.id), E404);
    assert_int_equal(lk_svc_key_delete(&f->svc, &f->s_alice, f->a.id, ka.id), E404);
    /* a member who did not create the org key may still manage it */
    assert_int_equal(lk_svc_key_rename(&f->svc, &f->s_carol, f->a.id, korg.id, S("r"), &out),
                     LK_OK);
    assert_string_equal(out.name, "r");
    /* lists: alice sees her one personal key, A has one org key */
    int n = 0;
    lk_list l = page_of(100);
    assert_int_equal(lk_svc_key_list(&f->svc, &f->s_alice, NULL, &l, key_count, &n), LK_OK);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(lk_svc_key_list(&f->svc, &f->s_carol, f->a.id, &l, key_count, &n), LK_OK);
    assert_int_equal(n, 1);
    /* all still alive */
    assert_int_equal(lk_svc_key_delete(&f->svc, &f->s_bob, NULL, kb.id), LK_OK);
    assert_int_equal(lk_svc_key_delete(&f->svc, &f->s_alice, NULL, ka.id), LK_OK);
}

static void expiry(void **state)
{
    fx *f = *state;
    lk_key k, out;
    char tok[LK_TOKEN_SIZE];
    lk_principal p;
    int64_t t0 = fake_now;
    assert_int_equal(lk_svc_key_create(&f->svc, &f->s_alice, NULL, S("x"), t0, &k, tok),
                     LK_EVALIDATION);
    assert_string_equal(f->svc.err.field, "expires_at");
    assert_int_equal(lk_svc_key_create(&f->svc, &f->s_alice, NULL, S("x"), t0 - 5, &k, tok),
                     LK_EVALIDATION);
    assert_int_equal(lk_svc_key_create(&f->svc, &f->s_alice, NULL, S("x"), t0 + 100, &k, tok),
                     LK_OK);
    assert_int_equal(k.expires_at, t0 + 100);
    fake_now = t0 + 99;
    assert_int_equal(lk_svc_auth_bearer(&f->svc, tok, strlen(tok), "10.0.0.1", &p), LK_OK);
    fake_now = t0 + 100;
    assert_int_equal(lk_svc_auth_bearer(&f->svc, tok, strlen(tok), "10.0.0.1", &p), E401);
    /* an expired key is treated as deleted */
    int n = 0;
    lk_list l = page_of(100);
    assert_int_equal(lk_svc_key_list(&f->svc, &f->s_alice, NULL, &l, key_count, &n), LK_OK);
    assert_int_equal(n, 0);
    assert_int_equal(lk_svc_key_rename(&f->svc, &f->s_alice, NULL, k.id, S("y"), &out), E404);
    assert_int_equal(lk_svc_key_delete(&f->svc, &f->s_alice, NULL, k.id), E404);
}

static void membership_removal_cuts_personal_keys(void **state)
{
    fx *f = *state;
    lk_key kp, ko;
    char tp[LK_TOKEN_SIZE], to[LK_TOKEN_SIZE];
    lk_principal pp, po;
    lk_org o;
    /* carol has a personal key and made an org key of A */
    key_principal(f, &f->s_carol, NULL, &kp, tp, &pp);
    key_principal(f, &f->s_carol, f->a.id, &ko, to, &po);
    assert_string_equal(ko.created_by, f->carol.id);
    assert_int_equal(lk_svc_org_get(&f->svc, &pp, f->a.id, &o), LK_OK);

    /* alice removes carol */
    assert_int_equal(lk_svc_member_remove(&f->svc, &f->s_alice, f->a.id, f->carol.id), LK_OK);
    /* the very next request with carol's personal key (re-authenticated, as
     * the HTTP layer does per request) no longer reaches A */
    assert_int_equal(lk_svc_auth_bearer(&f->svc, tp, strlen(tp), "10.0.0.3", &pp), LK_OK);
    assert_int_equal(lk_svc_org_get(&f->svc, &pp, f->a.id, &o), E404);
    assert_int_equal(lk_svc_org_get(&f->svc, &f->s_carol, f->a.id, &o), E404);
    int n = 0;
    lk_list l = page_of(100);
    assert_int_equal(lk_svc_org_list(&f->svc, &pp, &l, org_count, &n), LK_OK);
    assert_int_equal(n, 0);
    /* but the key itself still works for /v1/me */
    lk_user u;
    assert_int_equal(lk_svc_me_get(&f->svc, &pp, &u), LK_OK);

    /* the org key carol created is the org's: it outlives her membership */
    assert_int_equal(lk_svc_auth_bearer(&f->svc, to, strlen(to), "10.0.0.3", &po), LK_OK);
    assert_int_equal(lk_svc_org_get(&f->svc, &po, f->a.id, &o), LK_OK);
    lk_project prj;
    assert_int_equal(lk_svc_project_create(&f->svc, &po, f->a.id, S("still"), &prj), LK_OK);
    /* and members still see and manage it */
    assert_int_equal(lk_svc_key_rename(&f->svc, &f->s_alice, f->a.id, ko.id, S("kept"), &ko),
                     LK_OK);
}

static void org_delete_revokes_keys(void **state)
{
    fx *f = *state;
    lk_org c, o;
    lk_key k, pk;
    char tok[LK_TOKEN_SIZE], ptok[LK_TOKEN_SIZE];
    lk_principal p, pp;
    assert_int_equal(lk_svc_org_create(&f->svc, &f->s_alice, S("Org C"), &c), LK_OK);
    key_principal(f, &f->s_alice, c.id, &k, tok, &p);
    key_principal(f, &f->s_alice, NULL, &pk, ptok, &pp);
    assert_int_equal(lk_svc_org_delete(&f->svc, &f->s_bob, c.id), E404);
    assert_int_equal(lk_svc_org_delete(&f->svc, &p, c.id), E403);
    assert_int_equal(lk_svc_org_delete(&f->svc, &pp, c.id), LK_OK); /* personal key: a member */
    assert_int_equal(lk_svc_auth_bearer(&f->svc, tok, strlen(tok), "10.0.0.1", &p), E401);
    assert_int_equal(lk_svc_org_get(&f->svc, &f->s_alice, c.id, &o), E404);
    assert_int_equal(lk_svc_org_delete(&f->svc, &f->s_alice, c.id), E404);
    /* the personal key is the user's: untouched */
    assert_int_equal(lk_svc_auth_bearer(&f->svc, ptok, strlen(ptok), "10.0.0.1", &pp), LK_OK);
}

static void last_used_is_batched(void **state)
{
    fx *f = *state;
    lk_key k, got;
    char tok[LK_TOKEN_SIZE];
    lk_principal p;
    assert_int_equal(lk_svc_key_create(&f->svc, &f->s_alice, NULL, S("x"), 0, &k, tok), LK_OK);
    assert_int_equal(k.last_used_at, 0);
    fake_now += 10;
    assert_int_equal(lk_svc_auth_bearer(&f->svc, tok, strlen(tok), "10.0.0.1", &p), LK_OK);
    assert_int_equal(f->st->ops->key_get(f->st, k.id, &got), LK_OK);
    assert_int_equal(got.last_used_at, 0); /* no write per request */
    assert_int_equal(lk_usage_flush(f->usage, f->st), LK_OK);
    assert_int_equal(f->st->ops->key_get(f->st, k.id, &got), LK_OK);
    assert_int_equal(got.last_used_at, fake_now);
}

/* --- pagination ------------------------------------------------------------ */

typedef struct collect {
    int n;
    char ids[16][LK_ID_SIZE];
} collect;

static int prj_collect(void *c, const lk_project *p)
{
    collect *cl = c;
    if (cl->n < 16) memcpy(cl->ids[cl->n], p->id, LK_ID_SIZE);
    cl->n++;
    return 0;
}

static void parse_page_rules(void **state)
{
    (void)state;
    lk_list l;
    lk_err e;
    lk_err_clear(&e);
    assert_int_equal(lk_svc_parse_page(NULL, 0, NULL, 0, &l, &e), LK_OK);
    assert_int_equal(l.page.limit, 100);
    assert_int_equal(l.page.before_seq, 0);
    assert_int_equal(lk_svc_parse_page(S("1000"), NULL, 0, &l, &e), LK_OK);
    assert_int_equal(l.page.limit, 1000);
    assert_int_equal(lk_svc_parse_page(S("1"), NULL, 0, &l, &e), LK_OK);
    static const char *bad_limits[] = {"", "0", "1001", "-1", "abc", "1e3", "10 ", "99999", "+5"};
    for (size_t i = 0; i < sizeof(bad_limits) / sizeof(bad_limits[0]); i++) {
        lk_err_clear(&e);
        assert_int_equal(
            lk_svc_parse_page(bad_limits[i], strlen(bad_limits[i]), NULL, 0, &l, &e),
            LK_EVALIDATION);
        assert_string_equal(e.field, "limit");
    }
    char cur[LK_CURSOR_SIZE];
    lk_svc_format_cursor(123456789, cur);
    assert_int_equal(lk_svc_parse_page(NULL, 0, cur, strlen(cur), &l, &e), LK_OK);
    assert_int_equal(l.page.before_seq, 123456789);
    static const char *bad_cursors[] = {"", "0", "00a", "xyz", "ABC", "-1", "1234567890abcdef",
                                        "12 "};
    for (size_t i = 0; i < sizeof(bad_cursors) / sizeof(bad_cursors[0]); i++) {
        lk_err_clear(&e);
        assert_int_equal(
            lk_svc_parse_page(NULL, 0, bad_cursors[i], strlen(bad_cursors[i]), &l, &e),
            LK_EVALIDATION);
        assert_string_equal(e.field, "cursor");
    }
}

static void pagination(void **state)
{
    fx *f = *state;
    lk_project p[5];
    char name[8];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        assert_int_equal(lk_svc_project_create(&f->svc, &f->s_alice, f->a.id, name,
                                               strlen(name), &p[i]),
                         LK_OK);
    }
    collect all;
    memset(&all, 0, sizeof(all));
    lk_list l;
    lk_err e;
    char cur[LK_CURSOR_SIZE];
    assert_int_equal(lk_svc_parse_page(S("2"), NULL, 0, &l, &e), LK_OK);
    int pages = 0;
    for (;;) {
        int before = all.n;
        assert_int_equal(lk_svc_project_list(&f->svc, &f->s_alice, f->a.id, &l, prj_collect, &all),
                         LK_OK);
        assert_true(all.n - before <= 2);
        pages++;
        if (l.next == 0) break;
        lk_svc_format_cursor(l.next, cur);
        assert_int_equal(lk_svc_parse_page(S("2"), cur, strlen(cur), &l, &e), LK_OK);
    }
    assert_int_equal(pages, 3);
    assert_int_equal(all.n, 5);
    for (int i = 0; i < 5; i++) assert_string_equal(all.ids[i], p[4 - i].id); /* newest first */

    /* exactly `limit` rows: no next page */
    memset(&all, 0, sizeof(all));
    assert_int_equal(lk_svc_parse_page(S("5"), NULL, 0, &l, &e), LK_OK);
    assert_int_equal(lk_svc_project_list(&f->svc, &f->s_alice, f->a.id, &l, prj_collect, &all),
                     LK_OK);
    assert_int_equal(all.n, 5);
    assert_int_equal(l.next, 0);
    /* one fewer: a next page with the last one */
    memset(&all, 0, sizeof(all));
    assert_int_equal(lk_svc_parse_page(S("4"), NULL, 0, &l, &e), LK_OK);
    assert_int_equal(lk_svc_project_list(&f->svc, &f->s_alice, f->a.id, &l, prj_collect, &all),
                     LK_OK);
    assert_int_equal(all.n, 4);
    assert_true(l.next != 0);
    lk_svc_format_cursor(l.next, cur);
    assert_int_equal(lk_svc_parse_page(S("4"), cur, strlen(cur), &l, &e), LK_OK);
    memset(&all, 0, sizeof(all));
    assert_int_equal(lk_svc_project_list(&f->svc, &f->s_alice, f->a.id, &l, prj_collect, &all),
                     LK_OK);
    assert_int_equal(all.n, 1);
    assert_string_equal(all.ids[0], p[0].id);
    assert_int_equal(l.next, 0);
}

static int stop_cb(void *c, const lk_project *p)
{
    (void)p;
    (*(int *)c)++;
    return LK_ENOMEM;
}

static void callback_error_stops(void **state)
{
    fx *f = *state;
    lk_project p;
    for (int i = 0; i < 3; i++)
        assert_int_equal(lk_svc_project_create(&f->svc, &f->s_alice, f->a.id, S("p"), &p), LK_OK);
    int n = 0;
    lk_list l = page_of(10);
    assert_int_equal(lk_svc_project_list(&f->svc, &f->s_alice, f->a.id, &l, stop_cb, &n),
                     LK_ENOMEM);
    assert_int_equal(n, 1);
}

/* --- organizations and members --------------------------------------------- */

static void orgs_and_members(void **state)
{
    fx *f = *state;
    lk_billing b;
    lk_member m;
    lk_org o;
    /* create: creator is a member; billing starts free with creator's email */
    assert_int_equal(lk_svc_billing_get(&f->svc, &f->s_alice, f->a.id, &b), LK_OK);
    assert_string_equal(b.plan, "free");
    assert_string_equal(b.billing_email, "alice@example.com");
    assert_int_equal(lk_svc_org_create(&f->svc, &f->s_alice, S(""), &o), LK_EVALIDATION);
    assert_string_equal(f->svc.err.field, "name");
    /* billing update */
    assert_int_equal(lk_svc_billing_update(&f->svc, &f->s_alice, f->a.id, S("gold"), NULL, 0, &b),
                     LK_EVALIDATION);
    assert_string_equal(f->svc.err.field, "plan");
    assert_int_equal(lk_svc_billing_update(&f->svc, &f->s_alice, f->a.id, NULL, 0, S("nope"), &b),
                     LK_EVALIDATION);
    assert_string_equal(f->svc.err.field, "billing_email");
    fake_now += 5;
    assert_int_equal(lk_svc_billing_update(&f->svc, &f->s_alice, f->a.id, S("enterprise"),
                                           S("Billing@Example.com"), &b),
                     LK_OK);
    assert_string_equal(b.plan, "enterprise");
    assert_string_equal(b.billing_email, "Billing@Example.com");
    assert_int_equal(b.updated_at, fake_now);
    assert_int_equal(lk_svc_billing_update(&f->svc, &f->s_alice, f->a.id, S("pro"), NULL, 0, &b),
                     LK_OK);
    assert_int_equal(lk_svc_billing_get(&f->svc, &f->s_carol, f->a.id, &b), LK_OK);
    assert_string_equal(b.plan, "pro");
    assert_string_equal(b.billing_email, "Billing@Example.com");

    /* members: add by email (case-insensitive), 404 unknown, 409 already in */
    assert_int_equal(lk_svc_member_add(&f->svc, &f->s_alice, f->a.id, S("BOB@example.COM"), &m),
                     LK_OK);
    assert_string_equal(m.user_id, f->bob.id);
    assert_string_equal(m.email, "bob@example.com");
    assert_int_equal(lk_svc_member_add(&f->svc, &f->s_alice, f->a.id, S("bob@example.com"), &m),
                     LK_ECONFLICT);
    assert_int_equal(lk_svc_member_add(&f->svc, &f->s_alice, f->a.id, S("zed@example.com"), &m),
                     E404);
    assert_int_equal(lk_svc_member_add(&f->svc, &f->s_alice, f->a.id, S("not-an-email"), &m),
                     LK_EVALIDATION);
    assert_string_equal(f->svc.err.field, "email");
    int n = 0;
    lk_list l = page_of(100);
    assert_int_equal(lk_svc_member_list(&f->svc, &f->s_bob, f->a.id, &l, mem_count, &n), LK_OK);
    assert_int_equal(n, 3);
    /* bob now sees A in his list, with B */
    n = 0;
    assert_int_equal(lk_svc_org_list(&f->svc, &f->s_bob, &l, org_count, &n), LK_OK);
    assert_int_equal(n, 2);

    /* roles: only an owner removes another member; unknown member 404 */
    assert_int_equal(lk_svc_member_remove(&f->svc, &f->s_bob, f->a.id, f->carol.id), E403);
    assert_int_equal(lk_svc_member_remove(&f->svc, &f->s_alice, f->a.id, f->carol.id), LK_OK);
    assert_int_equal(lk_svc_member_remove(&f->svc, &f->s_alice, f->a.id, f->carol.id), E404);
    assert_string_equal(f->svc.err.message, "member not found");
    assert_int_equal(lk_svc_member_remove(&f->svc, &f->s_alice, f->a.id, "usr_x"), E404);
    /* leaving: bob removes himself */
    assert_int_equal(lk_svc_member_remove(&f->svc, &f->s_bob, f->a.id, f->bob.id), LK_OK);
    assert_int_equal(lk_svc_org_get(&f->svc, &f->s_bob, f->a.id, &o), E404);
    /* the last member cannot leave */
    assert_int_equal(lk_svc_member_remove(&f->svc, &f->s_alice, f->a.id, f->alice.id),
                     LK_ECONFLICT);
    assert_string_equal(f->svc.err.message, "an organization must keep at least one member; "
                                             "delete the organization instead");
    assert_int_equal(lk_svc_org_get(&f->svc, &f->s_alice, f->a.id, &o), LK_OK);
}


/* Two members leave at the same time, each on its own connection: the
 * org never ends up empty (count, remove and recount share a transaction). */
typedef struct leaver {
    fx *f;
    lk_store *st;
    lk_principal p;
    const char *org_id;
    pthread_barrier_t *bar;
    int rc;
} leaver;

static void *leave(void *arg)
{
    leaver *lv = arg;
    lk_svc svc = {.st = lv->st, .rl = lv->f->rl, .cfg = &lv->f->cfg};
    pthread_barrier_wait(lv->bar);
    lv->rc = lk_svc_member_remove(&svc, &lv->p, lv->org_id, lv->p.user_id);
    return NULL;
}

static void last_member_rule_concurrent(void **state)
{
    fx *f = *state;
    lk_store *st1, *st2;
    lk_err e;
    assert_int_equal(lk_store_open(f->url, &st1, &e), LK_OK);
    assert_int_equal(lk_store_open(f->url, &st2, &e), LK_OK);
    for (int round = 0; round < 20; round++) {
        lk_org o;
        lk_member m;
        assert_int_equal(lk_svc_org_create(&f->svc, &f->s_alice, S("race"), &o), LK_OK);
        assert_int_equal(lk_svc_member_add(&f->svc, &f->s_alice, o.id, S("bob@example.com"), &m),
                         LK_OK);
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, 2);
        leaver a = {f, st1, f->s_alice, o.id, &bar, 0}, b = {f, st2, f->s_bob, o.id, &bar, 0};
        pthread_t ta, tb;
        pthread_create(&ta, NULL, leave, &a);
        pthread_create(&tb, NULL, leave, &b);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&bar);
        int64_t n = -1;
        assert_int_equal(f->st->ops->member_count(f->st, o.id, &n), LK_OK);
        assert_int_equal(n, 1);
        assert_true((a.rc == LK_OK) != (b.rc == LK_OK));
        assert_true(a.rc == LK_ECONFLICT || b.rc == LK_ECONFLICT);
    }
    lk_store_close(st1);
    lk_store_close(st2);
}

/* --- accounts, sessions, throttling ---------------------------------------- */

static void signup_rules(void **state)
{
    fx *f = *state;
    lk_user u;
    assert_int_equal(lk_svc_signup(&f->svc, S("ALICE@Example.com"), S(PW), S("A2"), &u),
                     LK_ECONFLICT);
    assert_int_equal(lk_svc_signup(&f->svc, S("dave@example.com"), S("short"), S("D"), &u),
                     LK_EVALIDATION);
    assert_string_equal(f->svc.err.field, "password");
    assert_int_equal(lk_svc_signup(&f->svc, S("dave"), S(PW), S("D"), &u), LK_EVALIDATION);
    assert_string_equal(f->svc.err.field, "email");
    assert_int_equal(lk_svc_signup(&f->svc, S("dave@example.com"), S(PW), S(" \t"), &u),
                     LK_EVALIDATION);
    assert_string_equal(f->svc.err.field, "name");
    f->cfg.signup_open = false;
    assert_int_equal(lk_svc_signup(&f->svc, S("dave@example.com"), S(PW), S("Dave"), &u),
                     E403);
    assert_string_equal(f->svc.err.message, "signup is closed");
    f->cfg.signup_open = true;
    assert_int_equal(lk_svc_signup(&f->svc, S("Dave@Example.com"), S(PW), S(" Dave "), &u),
                     LK_OK);
    assert_string_equal(u.email, "Dave@Example.com");
    assert_string_equal(u.name, "Dave");
    assert_memory_equal(u.id, "usr_", 4);
    /* login is case-insensitive on the email */
    char cookie[LK_SESSION_TOKEN_SIZE], csrf[LK_CSRF_SIZE];
    lk_user again;
    assert_int_equal(lk_svc_login(&f->svc, S("dave@EXAMPLE.com"), S(PW), "1.2.3.4", &again,
                                  cookie, csrf),
                     LK_OK);
    assert_string_equal(again.id, u.id);
}

static void sessions_and_csrf(void **state)
{
    fx *f = *state;
    char cookie[LK_SESSION_TOKEN_SIZE], csrf[LK_CSRF_SIZE];
    lk_user u;
    lk_principal p;
    assert_int_equal(
        lk_svc_login(&f->svc, S("alice@example.com"), S(PW), "1.2.3.4", &u, cookie, csrf),
        LK_OK);
    assert_int_equal(strlen(cookie), 43);
    assert_int_equal(strlen(csrf), 43);
    assert_int_equal(lk_svc_auth_session(&f->svc, cookie, strlen(cookie), &p), LK_OK);
    assert_int_equal(p.kind, LK_PRINCIPAL_SESSION);
    assert_string_equal(p.user_id, f->alice.id);
    assert_string_equal(p.session.csrf, csrf);

    assert_int_equal(lk_svc_check_csrf(&f->svc, &p, csrf, strlen(csrf)), LK_OK);
    assert_int_equal(lk_svc_check_csrf(&f->svc, &p, NULL, 0), E403);
    assert_int_equal(lk_svc_check_csrf(&f->svc, &p, csrf, strlen(csrf) - 1), E403);
    char wrong[LK_CSRF_SIZE];
    memcpy(wrong, csrf, sizeof(wrong));
    wrong[10] = wrong[10] == 'A' ? 'B' : 'A';
    assert_int_equal(lk_svc_check_csrf(&f->svc, &p, wrong, strlen(wrong)), E403);
    /* another session's csrf token does not fit this one */
    assert_int_equal(lk_svc_check_csrf(&f->svc, &f->s_alice, csrf, strlen(csrf)), E403);

    /* malformed cookies */
    assert_int_equal(lk_svc_auth_session(&f->svc, cookie, strlen(cookie) - 1, &p), E401);
    assert_int_equal(lk_svc_auth_session(&f->svc, "", 0, &p), E401);
    char bad[64];
    memcpy(bad, cookie, 44);
    bad[3] = '.';
    assert_int_equal(lk_svc_auth_session(&f->svc, bad, 43, &p), E401);

    /* logout ends it; logging out twice is fine */
    assert_int_equal(lk_svc_logout(&f->svc, cookie, strlen(cookie)), LK_OK);
    assert_int_equal(lk_svc_auth_session(&f->svc, cookie, strlen(cookie), &p), E401);
    assert_int_equal(lk_svc_logout(&f->svc, cookie, strlen(cookie)), LK_OK);
    assert_int_equal(lk_svc_logout(&f->svc, "junk", 4), LK_OK);

    /* sessions expire after LK_SESSION_TTL */
    assert_int_equal(
        lk_svc_login(&f->svc, S("alice@example.com"), S(PW), "1.2.3.4", &u, cookie, csrf),
        LK_OK);
    fake_now += LK_SESSION_TTL - 1;
    assert_int_equal(lk_svc_auth_session(&f->svc, cookie, strlen(cookie), &p), LK_OK);
    fake_now += 1;
    assert_int_equal(lk_svc_auth_session(&f->svc, cookie, strlen(cookie), &p), E401);
}

static void login_uniform_and_throttled(void **state)
{
    fx *f = *state;
    char cookie[LK_SESSION_TOKEN_SIZE], csrf[LK_CSRF_SIZE];
    lk_user u;
    char msg[LK_ERR_MSG_MAX];
    f->cfg.login_per_client = (lk_ratelimit_rule){LK_RL_LOGIN_PAIR_MAX + 2, 900};

    /* wrong password and unknown email: the same answer */
    assert_int_equal(lk_svc_login(&f->svc, S("alice@example.com"), S("wrong password"), "9.9.9.1",
                                  &u, cookie, csrf),
                     E401);
    snprintf(msg, sizeof(msg), "%s", f->svc.err.message);
    assert_int_equal(u.id[0], '\0');
    assert_int_equal(cookie[0], '\0');
    assert_int_equal(lk_svc_login(&f->svc, S("ghost@example.com"), S(PW), "9.9.9.2", &u, cookie,
                                  csrf),
                     E401);
    assert_string_equal(f->svc.err.message, msg);
    assert_int_equal(lk_svc_login(&f->svc, S("garbage"), S(PW), "9.9.9.2", &u, cookie, csrf),
                     E401);

    /* success forgets alice's failures */
    assert_int_equal(lk_svc_login(&f->svc, S("alice@example.com"), S("wrong"), "9.9.9.1", &u,
                                  cookie, csrf),
                     E401);
    assert_int_equal(
        lk_svc_login(&f->svc, S("alice@example.com"), S(PW), "9.9.9.1", &u, cookie, csrf), LK_OK);
    /* per (email, address): LK_RL_LOGIN_PAIR_MAX failures, then even the
     * right password waits there — but not from another address */
    for (int i = 0; i < LK_RL_LOGIN_PAIR_MAX; i++)
        assert_int_equal(lk_svc_login(&f->svc, S("Alice@example.com"), S("wrong"), "9.9.9.3", &u,
                                      cookie, csrf),
                         E401);
    assert_int_equal(
        lk_svc_login(&f->svc, S("alice@example.com"), S(PW), "9.9.9.3", &u, cookie, csrf),
        LK_ERATE_LIMITED);
    assert_true(f->svc.err.retry_after > 0 && f->svc.err.retry_after <= LK_RL_LOGIN_PAIR_WINDOW);
    /* the HTTP layer's check before queueing says the same, and counts nothing */
    assert_int_equal(lk_svc_login_admit(&f->svc, S("alice@example.com"), "9.9.9.3"),
                     LK_ERATE_LIMITED);
    assert_true(f->svc.err.retry_after > 0);
    assert_int_equal(lk_svc_login_admit(&f->svc, S("alice@example.com"), "9.9.9.5"), LK_OK);
    assert_int_equal(lk_svc_login_admit(&f->svc, S("alice@example.com"), "9.9.9.5"), LK_OK);
    assert_int_equal(
        lk_svc_login(&f->svc, S("alice@example.com"), S(PW), "9.9.9.5", &u, cookie, csrf), LK_OK);
    /* per email, from many addresses (a stranger's burst): then one
     * attempt per pace, and the owner's right password waits at most
     * LK_RL_PACE_MAX — never locked out */
    char from[32];
    for (int i = 0; i < LK_RL_LOGIN_EMAIL_BURST; i++) {
        snprintf(from, sizeof from, "9.8.%d.1", i);
        assert_int_equal(lk_svc_login(&f->svc, S("alice@example.com"), S("wrong"), from, &u,
                                      cookie, csrf),
                         E401);
    }
    assert_int_equal(
        lk_svc_login(&f->svc, S("alice@example.com"), S(PW), "9.9.9.6", &u, cookie, csrf),
        LK_ERATE_LIMITED);
    int wait = f->svc.err.retry_after;
    assert_true(wait > 0 && wait <= LK_RL_PACE_MAX);
    /* other accounts are unaffected */
    assert_int_equal(
        lk_svc_login(&f->svc, S("bob@example.com"), S(PW), "9.9.9.6", &u, cookie, csrf), LK_OK);
    fake_now += wait;
    assert_int_equal(
        lk_svc_login(&f->svc, S("alice@example.com"), S(PW), "9.9.9.6", &u, cookie, csrf), LK_OK);

    /* per client: failures from one address across many emails */
    char em[64];
    for (int i = 0; i < LK_RL_LOGIN_PAIR_MAX + 2; i++) {
        snprintf(em, sizeof(em), "nobody%d@example.com", i);
        assert_int_equal(
            lk_svc_login(&f->svc, em, strlen(em), S(PW), "6.6.6.6", &u, cookie, csrf), E401);
    }
    assert_int_equal(
        lk_svc_login(&f->svc, S("carol@example.com"), S(PW), "6.6.6.6", &u, cookie, csrf),
        LK_ERATE_LIMITED);
    assert_int_equal(
        lk_svc_login(&f->svc, S("carol@example.com"), S(PW), "6.6.6.7", &u, cookie, csrf), LK_OK);
}

static void bearer_failures_throttled(void **state)
{
    fx *f = *state;
    lk_key k;
    char tok[LK_TOKEN_SIZE], fake[LK_TOKEN_SIZE];
    lk_principal p;
    f->cfg.bearer_per_client = (lk_ratelimit_rule){3, 60};
    assert_int_equal(lk_svc_key_create(&f->svc, &f->s_alice, NULL, S("x"), 0, &k, tok), LK_OK);
    assert_int_equal(lk_token_generate(LK_TOKEN_PERSONAL, fake), 0); /* well-formed, unknown */

    /* malformed, unknown, wrong prefix: all the same 401 */
    assert_int_equal(lk_svc_auth_bearer(&f->svc, S("hello"), "10.9.9.9", &p), E401);
    char msg[LK_ERR_MSG_MAX];
    snprintf(msg, sizeof(msg), "%s", f->svc.err.message);
    assert_int_equal(lk_svc_auth_bearer(&f->svc, fake, strlen(fake), "10.9.9.9", &p), E401);
    assert_string_equal(f->svc.err.message, msg);
    char swapped[LK_TOKEN_SIZE];
    memcpy(swapped, tok, sizeof(swapped));
    swapped[2] = 'o'; /* lkp_ -> lko_: checksum still holds, hash does not */
    assert_int_equal(lk_svc_auth_bearer(&f->svc, swapped, strlen(swapped), "10.9.9.9", &p), E401);
    assert_string_equal(f->svc.err.message, msg);
    /* past the limit: 429 with Retry-After, for this address */
    assert_int_equal(lk_svc_auth_bearer(&f->svc, fake, strlen(fake), "10.9.9.9", &p),
                     LK_ERATE_LIMITED);
    assert_true(f->svc.err.retry_after >= 1 && f->svc.err.retry_after <= 60);
    /* a valid key from another address is unaffected, and so is a first
     * failure from another address */
    assert_int_equal(lk_svc_auth_bearer(&f->svc, tok, strlen(tok), "10.1.1.1", &p), LK_OK);
    assert_int_equal(lk_svc_auth_bearer(&f->svc, fake, strlen(fake), "10.1.1.1", &p), E401);
    fake_now += 60;
    assert_int_equal(lk_svc_auth_bearer(&f->svc, fake, strlen(fake), "10.9.9.9", &p), E401);
}


static void bearer_default_rule_and_env(void **state)
{
    /* main() set LATCHKEY_BEARER_FAIL_LIMIT=50 before anything ran: the
     * service ignores it (latchkeyd's main.c reads it into the config). A
     * config that was never initialised (rules all zero) gets the default
     * rule. */
    fx *f = *state;
    lk_svc_config plain;
    memset(&plain, 0, sizeof(plain));
    plain.signup_open = true;
    plain.now = clock_fn;
    lk_svc svc = {.st = f->st, .usage = f->usage, .rl = f->rl, .cfg = &plain};
    lk_principal p;
    for (int i = 0; i < LK_BEARER_MAX_FAILURES; i++)
        assert_int_equal(lk_svc_auth_bearer(&svc, S("lkp_nope"), "10.50.0.1", &p), E401);
    assert_int_equal(lk_svc_auth_bearer(&svc, S("lkp_nope"), "10.50.0.1", &p), LK_ERATE_LIMITED);
    assert_int_equal(svc.err.retry_after, LK_BEARER_WINDOW);
    lk_svc_config c;
    lk_svc_config_init(&c);
    assert_int_equal(c.bearer_per_client.max_failures, LK_BEARER_MAX_FAILURES);
    assert_int_equal(c.bearer_per_client.window_secs, LK_BEARER_WINDOW);
    assert_int_equal(c.login_per_email.max_failures, LK_LOGIN_EMAIL_MAX_FAILURES);
    assert_true(c.signup_open);
    /* a rule switched off never answers 429 */
    plain.bearer_per_client = (lk_ratelimit_rule){-1, 0};
    for (int i = 0; i < 100; i++)
        assert_int_equal(lk_svc_auth_bearer(&svc, S("lkp_nope"), "10.50.0.2", &p), E401);
}

static void password_hashing(void **state)
{
    (void)state;
    char h[LK_PWHASH_SIZE];
    assert_int_equal(lk_password_hash(S("hunter2hunter2"), h), LK_OK);
    assert_memory_equal(h, "$argon2id$", 10);
    assert_non_null(strstr(h, "m=19456,t=2"));
    assert_true(lk_password_verify(h, S("hunter2hunter2")));
    assert_false(lk_password_verify(h, S("hunter2hunter3")));
    assert_false(lk_password_verify(h, "hunter2hunter2", 13));
    assert_false(lk_password_verify_dummy(S("hunter2hunter2")));
    char h2[LK_PWHASH_SIZE];
    assert_int_equal(lk_password_hash(S("hunter2hunter2"), h2), LK_OK);
    assert_string_not_equal(h, h2); /* salted */
}

static void ready(void **state)
{
    fx *f = *state;
    assert_int_equal(lk_svc_ready(&f->svc), LK_OK);
}

/* --- account security (service_account.c) ----------------------------------- */

/* Signups counted per throttle key: a flood from one IPv4 address and one
 * from many addresses of one IPv6 /64 are each refused past the limit,
 * while another /64, another address and every login keep working. */
static void account_signup_flood_ipv4_and_v6_64(void **state)
{
    fx *f = *state;
    char email[64], cookie[LK_SESSION_TOKEN_SIZE], csrf[LK_CSRF_SIZE], who[64];
    lk_user u;
    for (int i = 0; i < LK_RL_SIGNUP_CLIENT_MAX; i++)
        assert_int_equal(lk_svc_signup_admit(&f->svc, "203.0.113.7"), LK_OK);
    assert_int_equal(lk_svc_signup_admit(&f->svc, "203.0.113.7"), LK_ERATE_LIMITED);
    assert_true(f->svc.err.retry_after > 0 &&
                f->svc.err.retry_after <= LK_RL_SIGNUP_CLIENT_WINDOW);
    assert_int_equal(lk_svc_signup_admit(&f->svc, "203.0.113.8"), LK_OK);
    /* fresh addresses of one /64 share one budget */
    for (int i = 0; i < LK_RL_SIGNUP_CLIENT_MAX; i++) {
        snprintf(who, sizeof who, "2001:db8:1:2:%x::%x", i, i + 1);
        assert_int_equal(lk_svc_signup_admit(&f->svc, who), LK_OK);
    }
    for (int i = 0; i < 100; i++) {
        snprintf(who, sizeof who, "2001:db8:1:2:ffff:%x::1", i);
        assert_int_equal(lk_svc_signup_admit(&f->svc, who), LK_ERATE_LIMITED);
    }
    assert_int_equal(lk_svc_signup_admit(&f->svc, "2001:db8:1:3::1"), LK_OK);
    /* logins answer, from the flooding /64 too */
    assert_int_equal(lk_svc_login(&f->svc, S("bob@example.com"), S(PW), "2001:db8:1:2::99", &u,
                                  cookie, csrf),
                     LK_OK);
    snprintf(email, sizeof email, "new@example.com");
    assert_int_equal(lk_svc_signup(&f->svc, email, strlen(email), S(PW), S("New"), &u), LK_OK);
    char key[LK_SESSION_IP_SIZE];
    lk_svc_throttle_key("2001:db8:1:2:3:4:5:6", key, sizeof key);
    assert_string_equal(key, "2001:db8:1:2::/64");
    lk_svc_throttle_key("::ffff:198.51.100.4", key, sizeof key);
    assert_string_equal(key, "198.51.100.4");
}

typedef struct seen {
    int n;
    lk_session s[LK_SESSIONS_PER_USER_MAX + 8];
} seen;

static int collect_session(void *ctx, const lk_session *s)
{
    seen *v = ctx;
    if (v->n < (int)(sizeof v->s / sizeof v->s[0])) v->s[v->n++] = *s;
    return 0;
}

static void list_sessions(fx *f, const lk_principal *p, seen *out)
{
    lk_list l;
    memset(out, 0, sizeof *out);
    assert_int_equal(lk_svc_parse_page(NULL, 0, NULL, 0, &l, &f->svc.err), LK_OK);
    assert_int_equal(lk_svc_session_list(&f->svc, p, &l, collect_session, out), LK_OK);
    assert_int_equal(l.next, 0);
}

static void account_sessions_cap_list_revoke(void **state)
{
    fx *f = *state;
    char cookie[LK_SESSION_TOKEN_SIZE], csrf[LK_CSRF_SIZE];
    char first[LK_SESSION_TOKEN_SIZE] = "";
    lk_user u;
    lk_principal p;
    lk_svc_origin from = {"192.0.2.1", "Agent\x01/1", 8};
    for (int i = 0; i < LK_SESSIONS_PER_USER_MAX + 3; i++) {
        assert_int_equal(lk_svc_login_from(&f->svc, S("carol@example.com"), S(PW), &from, &u,
                                           cookie, csrf),
                         LK_OK);
        if (i == 0) memcpy(first, cookie, sizeof first);
    }
    assert_int_equal(lk_svc_auth_session(&f->svc, cookie, strlen(cookie), &p), LK_OK);
    seen v;
    list_sessions(f, &p, &v);
    assert_int_equal(v.n, LK_SESSIONS_PER_USER_MAX);
    assert_true(lk_svc_session_is_current(&p, &v.s[0])); /* newest first */
    assert_false(lk_svc_session_is_current(&p, &v.s[1]));
    assert_string_equal(v.s[0].ip, "192.0.2.1");
    assert_string_equal(v.s[0].user_agent, "Agent?/1");
    assert_true(lk_id_valid("ses_", v.s[0].id, strlen(v.s[0].id)));
    /* the oldest ended (carol's setup session and the first three here) */
    lk_principal old;
    assert_int_equal(lk_svc_auth_session(&f->svc, first, strlen(first), &old), E401);
    /* revoke: only one's own, at once */
    assert_int_equal(lk_svc_session_revoke(&f->svc, &f->s_alice, v.s[1].id), LK_ENOT_FOUND);
    assert_int_equal(lk_svc_session_revoke(&f->svc, &p, "ses_nonsense"), LK_ENOT_FOUND);
    assert_int_equal(lk_svc_session_revoke(&f->svc, &p, v.s[0].id), LK_OK);
    assert_int_equal(lk_svc_auth_session(&f->svc, cookie, strlen(cookie), &p), E401);
    assert_int_equal(lk_svc_session_revoke(&f->svc, &f->s_carol, v.s[0].id), LK_ENOT_FOUND);
}

static void account_password_change(void **state)
{
    fx *f = *state;
    char cookie[LK_SESSION_TOKEN_SIZE], csrf[LK_CSRF_SIZE];
    lk_user u;
    lk_principal other;
    lk_key k;
    char tok[LK_TOKEN_SIZE];
    lk_principal pk, ok;
    key_principal(f, &f->s_alice, NULL, &k, tok, &pk);
    key_principal(f, &f->s_alice, f->a.id, &k, tok, &ok);
    assert_int_equal(lk_svc_login(&f->svc, S("alice@example.com"), S(PW), "192.0.2.9", &u, cookie,
                                  csrf),
                     LK_OK);
    assert_int_equal(lk_svc_auth_session(&f->svc, cookie, strlen(cookie), &other), LK_OK);
    assert_int_equal(lk_svc_password_change(&f->svc, &f->s_alice, S("nope nope"),
                                            S("a new passphrase"), "192.0.2.9"),
                     LK_EVALIDATION);
    assert_string_equal(f->svc.err.field, "current_password");
    assert_int_equal(lk_svc_password_change(&f->svc, &f->s_alice, S(PW), S("short"), "192.0.2.9"),
                     LK_EVALIDATION);
    assert_string_equal(f->svc.err.field, "new_password");
    assert_int_equal(lk_svc_password_change(&f->svc, &ok, S(PW), S("a new passphrase"), "x"),
                     LK_EFORBIDDEN);
    assert_int_equal(lk_svc_password_change(&f->svc, &f->s_alice, S(PW), S("a new passphrase"),
                                            "192.0.2.9"),
                     LK_OK);
    /* this session stays, the other ends; the old password no longer works */
    lk_principal again;
    assert_int_equal(lk_svc_auth_session(&f->svc, cookie, strlen(cookie), &again), E401);
    seen v;
    list_sessions(f, &f->s_alice, &v);
    assert_int_equal(v.n, 1);
    assert_true(lk_svc_session_is_current(&f->s_alice, &v.s[0]));
    assert_int_equal(lk_svc_login(&f->svc, S("alice@example.com"), S(PW), "192.0.2.9", &u, cookie,
                                  csrf),
                     E401);
    assert_int_equal(lk_svc_login(&f->svc, S("alice@example.com"), S("a new passphrase"),
                                  "192.0.2.9", &u, cookie, csrf),
                     LK_OK);
    /* by a personal key: every session ends */
    assert_int_equal(lk_svc_password_change(&f->svc, &pk, S("a new passphrase"), S(PW), "x"),
                     LK_OK);
    list_sessions(f, &pk, &v);
    assert_int_equal(v.n, 0);
}

static void account_purge_expired(void **state)
{
    fx *f = *state;
    char cookie[LK_SESSION_TOKEN_SIZE], csrf[LK_CSRF_SIZE];
    lk_user u;
    lk_principal p;
    assert_int_equal(lk_svc_login(&f->svc, S("bob@example.com"), S(PW), "192.0.2.3", &u, cookie,
                                  csrf),
                     LK_OK);
    fake_now += LK_SESSION_TTL + 1;
    assert_int_equal(lk_svc_session_purge(&f->svc), LK_OK);
    seen v;
    list_sessions(f, &f->s_alice, &v); /* (an expired principal still names its user) */
    assert_int_equal(v.n, 0);
    assert_int_equal(lk_svc_auth_session(&f->svc, cookie, strlen(cookie), &p), E401);
}

/* --- scopes (service_scopes.h) ------------------------------------------------ */

/* A key from spec (names NULL-ended) as p, authenticated. */
static int scoped_key(fx *f, const lk_principal *p, const char *org_id, const char *const *scopes,
                      int64_t expires_at, lk_key *k, lk_principal *out)
{
    char tok[LK_TOKEN_SIZE];
    size_t n = 0;
    while (scopes && scopes[n])
        n++;
    lk_key_spec spec = {.name = "ci", .name_len = 2, .expires_at = expires_at};
    spec.scopes = (lk_strv){.present = scopes != NULL, .n = n, .s = scopes, .len = NULL};
    int rc = lk_svc_key_create_spec(&f->svc, p, org_id, &spec, k, tok);
    if (rc == LK_OK && out)
        assert_int_equal(lk_svc_auth_bearer(&f->svc, tok, strlen(tok), "127.0.0.1", out), LK_OK);
    sodium_memzero(tok, sizeof tok);
    return rc;
}

static void minting_limits(void **state)
{
    fx *f = *state;
    lk_key k, child;
    lk_principal minter;
    const char *held[] = {"keys:write", "projects:read", NULL};
    assert_int_equal(scoped_key(f, &f->s_alice, NULL, held, fake_now + 86400, &k, &minter), LK_OK);
    const char *ok[] = {"projects:read", NULL};
    assert_int_equal(scoped_key(f, &minter, f->a.id, ok, fake_now + 3600, &child, NULL), LK_OK);
    assert_string_equal(child.created_by_key, k.id);
    assert_string_equal(child.created_by, f->alice.id);
    const char *more[] = {"projects:write", NULL};
    assert_int_equal(scoped_key(f, &minter, f->a.id, more, fake_now + 3600, &child, NULL),
                     LK_EFORBIDDEN);
    assert_string_equal(f->svc.err.required_scope, "projects:write");
    /* no later than the minter, and an expiring minter never mints "never" */
    assert_int_equal(scoped_key(f, &minter, f->a.id, ok, fake_now + 2 * 86400, &child, NULL),
                     LK_EFORBIDDEN);
    assert_int_equal(scoped_key(f, &minter, f->a.id, ok, 0, &child, NULL), LK_EFORBIDDEN);
    /* "*" is more than it holds; a session mints anything */
    assert_int_equal(scoped_key(f, &minter, NULL, NULL, fake_now + 60, &child, NULL), LK_EFORBIDDEN);
    assert_int_equal(scoped_key(f, &f->s_alice, NULL, NULL, 0, &child, NULL), LK_OK);
    assert_int_equal(child.scopes, LK_SCOPE_ALL);
    assert_string_equal(child.created_by_key, "");
    /* an org key asking for user:* is a 400 */
    const char *user[] = {"user:read", NULL};
    assert_int_equal(scoped_key(f, &f->s_alice, f->a.id, user, 0, &child, NULL), LK_EVALIDATION);
    assert_string_equal(f->svc.err.field, "scopes");
}

static void admission(void **state)
{
    fx *f = *state;
    lk_key k;
    lk_principal p;
    lk_addr in, out;
    assert_int_equal(lk_addr_parse("10.1.2.3", 8, &in, "ip", NULL), LK_OK);
    assert_int_equal(lk_addr_parse("::ffff:192.0.2.1", 16, &out, "ip", NULL), LK_OK);
    const char *ro[] = {"projects:read", NULL};
    assert_int_equal(scoped_key(f, &f->s_alice, f->a.id, ro, 0, &k, &p), LK_OK);
    assert_int_equal(lk_svc_key_admit(&f->svc, &p, LK_SCOPE_PROJECTS_READ, &in), LK_OK);
    assert_int_equal(lk_svc_key_admit(&f->svc, &p, LK_SCOPE_ORG_READ, &in), LK_OK);
    assert_int_equal(lk_svc_key_admit(&f->svc, &p, LK_SCOPE_PROJECTS_WRITE, &in), LK_EFORBIDDEN);
    assert_string_equal(f->svc.err.required_scope, "projects:write");
    /* allowed_cidrs: set by PATCH (normalised), checked before the scope */
    const char *cidrs[] = {"10.9.9.9/8"};
    size_t lens[] = {10};
    lk_strv cv = {.present = true, .n = 1, .s = cidrs, .len = lens};
    lk_key upd;
    assert_int_equal(lk_svc_key_update(&f->svc, &f->s_alice, f->a.id, k.id, NULL, 0, &cv, &upd),
                     LK_OK);
    assert_string_equal(upd.allowed_cidrs, "10.0.0.0/8");
    p.key = upd;
    assert_int_equal(lk_svc_key_admit(&f->svc, &p, LK_SCOPE_PROJECTS_READ, &in), LK_OK);
    assert_int_equal(lk_svc_key_admit(&f->svc, &p, LK_SCOPE_PROJECTS_WRITE, &out), LK_EFORBIDDEN);
    assert_null(f->svc.err.required_scope); /* outside: nothing said about scopes */
    assert_int_equal(lk_svc_key_admit(&f->svc, &p, LK_SCOPE_PROJECTS_READ, NULL), LK_EFORBIDDEN);
    /* sessions are not scoped */
    assert_int_equal(lk_svc_key_admit(&f->svc, &f->s_alice, LK_SCOPE_BILLING_WRITE, &out), LK_OK);
}

static void key_lifetime(void **state)
{
    fx *f = *state;
    lk_org o;
    lk_key k;
    int64_t days = 30, bad = 0, none = 0;
    assert_int_equal(lk_svc_org_update(&f->svc, &f->s_alice, f->a.id, NULL, 0, &bad, &o), LK_OK);
    bad = -1;
    assert_int_equal(lk_svc_org_update(&f->svc, &f->s_alice, f->a.id, NULL, 0, &bad, &o),
                     LK_EVALIDATION);
    assert_int_equal(lk_svc_org_update(&f->svc, &f->s_alice, f->a.id, NULL, 0, &days, &o), LK_OK);
    assert_int_equal(o.key_max_lifetime_days, 30);
    assert_int_equal(scoped_key(f, &f->s_alice, f->a.id, NULL, 0, &k, NULL), LK_EVALIDATION);
    assert_string_equal(f->svc.err.field, "expires_at");
    assert_int_equal(scoped_key(f, &f->s_alice, f->a.id, NULL, fake_now + 31 * 86400, &k, NULL),
                     LK_EVALIDATION);
    assert_int_equal(scoped_key(f, &f->s_alice, f->a.id, NULL, fake_now + 29 * 86400, &k, NULL),
                     LK_OK);
    assert_int_equal(scoped_key(f, &f->s_alice, NULL, NULL, 0, &k, NULL), LK_OK); /* personal */
    assert_int_equal(lk_svc_org_update(&f->svc, &f->s_alice, f->a.id, NULL, 0, &none, &o), LK_OK);
    assert_int_equal(o.key_max_lifetime_days, 0);
    assert_int_equal(scoped_key(f, &f->s_alice, f->a.id, NULL, 0, &k, NULL), LK_OK);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    setenv("LATCHKEY_BEARER_FAIL_LIMIT", "50", 1);
    if (lk_token_init() != 0) return 1;
    const struct CMUnitTest tests[] = {
        T(authz_table),
        T(org_key_answers),
        T(whoami_kinds),
        T(whoami_owner_in_auth),
        T(key_lifecycle_and_revocation),
        T(keys_of_others_are_not_found),
        T(expiry),
        T(membership_removal_cuts_personal_keys),
        T(org_delete_revokes_keys),
        T(last_used_is_batched),
        cmocka_unit_test(parse_page_rules),
        T(pagination),
        T(callback_error_stops),
        T(orgs_and_members),
        T(last_member_rule_concurrent),
        T(signup_rules),
        T(sessions_and_csrf),
        T(login_uniform_and_throttled),
        T(bearer_failures_throttled),
        T(bearer_default_rule_and_env),
        cmocka_unit_test(password_hashing),
        T(ready),
        T(account_signup_flood_ipv4_and_v6_64),
        T(account_sessions_cap_list_revoke),
        T(account_password_change),
        T(account_purge_expired),
        T(minting_limits),
        T(admission),
        T(key_lifetime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
