/*
 * test_audit.c — the audit log's service side (service_audit.c) against a
 * real store: every existing action is recorded with its actor, target and
 * details; the two lists and their filters; the deleted-org rule; the
 * retention purge; origin cleaning; and the same-transaction promise under
 * an injected store failure between the change and its event (the store's
 * audit_insert replaced by one that fails: the change must not survive).
 *
 * SQLite in a temporary directory by default; with LK_TEST_DATABASE_URL
 * set (tests/run.sh does it for the pg backend), a fresh PostgreSQL
 * database next to that one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "service.h"
#include "service.h"
#include "timefmt.h"
#include "token.h"

#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S(x) x, sizeof(x) - 1
#define PW "correct horse battery"
#define MAX_SEEN 64
#define DAY 86400

static int64_t fake_now;
static int64_t clock_fn(void)
{
    return fake_now;
}

typedef struct fx {
    char dir[64], path[128], url[512], pg_admin[512], pg_db[32];
    lk_store *st;
    lk_store_ops faulty; /* a copy of the backend's ops with audit_insert failing */
    lk_svc_config cfg;
    lk_svc svc;
    lk_user alice, bob;
    lk_principal s_alice, s_bob;
    lk_org a;
} fx;

static int pg_exec(const char *admin, const char *sql)
{
    PGconn *c = PQconnectdb(admin);
    int ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PGresult *r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
    }
    PQfinish(c);
    return ok ? 0 : -1;
}

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
        snprintf(f->pg_db, sizeof(f->pg_db), "lk_aud_%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
                 rnd[2], rnd[3], rnd[4], rnd[5]);
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s", f->pg_db);
        if (pg_exec(f->pg_admin, sql) != 0) return -1;
        snprintf(f->url, sizeof(f->url), "%.*s/%s", (int)(slash - pg), pg, f->pg_db);
        return 0;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/lk-audit-XXXXXX");
    if (mkdtemp(f->dir) == NULL) return -1;
    snprintf(f->path, sizeof(f->path), "%s/lk.db", f->dir);
    snprintf(f->url, sizeof(f->url), "sqlite:%s", f->path);
    return 0;
}

static void person(fx *f, const char *email, const char *name, lk_user *u, lk_principal *p)
{
    char cookie[LK_SESSION_TOKEN_SIZE], csrf[LK_CSRF_SIZE];
    lk_user again;
    assert_int_equal(lk_svc_signup(&f->svc, email, strlen(email), S(PW), name, strlen(name), u),
                     LK_OK);
    assert_int_equal(lk_svc_login(&f->svc, email, strlen(email), S(PW), "127.0.0.1", &again,
                                  cookie, csrf),
                     LK_OK);
    assert_int_equal(lk_svc_auth_session(&f->svc, cookie, strlen(cookie), p), LK_OK);
}

static int fail_insert(lk_store *st, const lk_audit_event *ev)
{
    (void)ev;
    return lk_err_set(&st->err, LK_EINTERNAL, "injected failure");
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    if (f == NULL || fresh_store_url(f) != 0) return -1;
    lk_err e;
    if (lk_store_open(f->url, &f->st, &e) != LK_OK || f->st->ops->migrate(f->st) != LK_OK)
        return -1;
    f->faulty = *f->st->ops;
    f->faulty.audit_insert = fail_insert;
    lk_svc_config_init(&f->cfg);
    f->cfg.now = clock_fn;
    fake_now = lk_time_now();
    f->svc = (lk_svc){.st = f->st, .cfg = &f->cfg};
    lk_svc_set_origin(&f->svc, "203.0.113.7", S("test-agent/1.0"));
    person(f, "alice@example.com", "Alice", &f->alice, &f->s_alice);
    person(f, "bob@example.com", "Bob", &f->bob, &f->s_bob);
    if (lk_svc_org_create(&f->svc, &f->s_alice, S("Org A"), &f->a)) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    lk_store_close(f->st);
    if (f->pg_db[0]) {
        char sql[96];
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->pg_db);
        (void)pg_exec(f->pg_admin, sql);
    } else {
        static const char *sfx[] = {"", "-wal", "-shm", "-journal"};
        char p[160];
        for (size_t i = 0; i < 4; i++) {
            snprintf(p, sizeof(p), "%s%s", f->path, sfx[i]);
            unlink(p);
        }
        rmdir(f->dir);
    }
    free(f);
    return 0;
}

/* --- collecting events --------------------------------------------------- */

typedef struct seen {
    int n;
    lk_audit_event ev[MAX_SEEN];
} seen;

static int collect(void *ctx, const lk_audit_event *ev)
{
    seen *s = ctx;
    if (s->n < MAX_SEEN) s->ev[s->n++] = *ev;
    return 0;
}

/* The org's events (action filter or NULL), newest first, into *s. */
static int org_events(fx *f, const char *org_id, const char *action, seen *s)
{
    lk_list l = {.page = {.limit = MAX_SEEN}};
    memset(s, 0, sizeof(*s));
    return lk_svc_audit_list_org(&f->svc, &f->s_alice, org_id, action,
                                 action ? strlen(action) : 0, NULL, 0, &l, collect, s);
}

static int my_events(fx *f, const lk_principal *p, seen *s)
{
    lk_list l = {.page = {.limit = MAX_SEEN}};
    memset(s, 0, sizeof(*s));
    return lk_svc_audit_list_me(&f->svc, p, NULL, 0, &l, collect, s);
}

static const lk_audit_event *newest(fx *f)
{
    static seen s;
    assert_int_equal(org_events(f, f->a.id, NULL, &s), LK_OK);
    assert_true(s.n > 0);
    return &s.ev[0];
}

/* --- every action, with actor, target and details ---------------------- */

static void check(const lk_audit_event *ev, const char *action, const char *target_type,
                  const char *target_id, const char *target_name, const char *details)
{
    assert_string_equal(ev->action, action);
    assert_string_equal(ev->target_type, target_type);
    if (target_id) assert_string_equal(ev->target_id, target_id);
    assert_string_equal(ev->target_name, target_name);
    if (details) assert_string_equal(ev->details, details);
    assert_string_equal(ev->ip, "203.0.113.7");
    assert_string_equal(ev->user_agent, "test-agent/1.0");
    assert_memory_equal(ev->id, "evt_", 4);
    assert_true(ev->created_at > 0);
}

static void every_org_action(void **state)
{
    fx *f = *state;
    lk_principal *p = &f->s_alice;
    const char *org = f->a.id;
    lk_org o;
    lk_project prj;
    lk_env env;
    lk_member m;
    lk_billing b;
    lk_key k;
    char tok[LK_TOKEN_SIZE];

    check(newest(f), LK_AUDIT_ORG_CREATED, "organization", org, "Org A", "{}");
    assert_string_equal(newest(f)->actor_type, "user");
    assert_string_equal(newest(f)->actor_id, f->alice.id);
    assert_string_equal(newest(f)->actor_name, "Alice");
    assert_int_equal(lk_svc_org_rename(&f->svc, p, org, S("Org \"A\""), &o), LK_OK);
    check(newest(f), LK_AUDIT_ORG_RENAMED, "organization", org, "Org \"A\"",
          "{\"from\":\"Org A\",\"to\":\"Org \\\"A\\\"\"}");
    assert_int_equal(lk_svc_member_add(&f->svc, p, org, S("bob@example.com"), &m), LK_OK);
    check(newest(f), LK_AUDIT_MEMBER_ADDED, "user", f->bob.id, "Bob", "{}");
    assert_int_equal(lk_svc_project_create(&f->svc, p, org, S("web"), &prj), LK_OK);
    check(newest(f), LK_AUDIT_PROJECT_CREATED, "project", prj.id, "web", "{}");
    assert_int_equal(lk_svc_project_rename(&f->svc, p, org, prj.id, S("site"), &prj), LK_OK);
    check(newest(f), LK_AUDIT_PROJECT_RENAMED, "project", prj.id, "site",
          "{\"from\":\"web\",\"to\":\"site\"}");
    assert_int_equal(lk_svc_env_create(&f->svc, p, org, prj.id, S("prod"), &env), LK_OK);
    check(newest(f), LK_AUDIT_ENV_CREATED, "environment", env.id, "prod", NULL);
    assert_non_null(strstr(newest(f)->details, prj.id));
    assert_int_equal(lk_svc_env_rename(&f->svc, p, org, prj.id, env.id, S("live"), &env), LK_OK);
    check(newest(f), LK_AUDIT_ENV_RENAMED, "environment", env.id, "live",
          "{\"from\":\"prod\",\"to\":\"live\"}");
    assert_int_equal(lk_svc_env_delete(&f->svc, p, org, prj.id, env.id), LK_OK);
    check(newest(f), LK_AUDIT_ENV_DELETED, "environment", env.id, "live", "{}");
    assert_int_equal(lk_svc_project_delete(&f->svc, p, org, prj.id), LK_OK);
    check(newest(f), LK_AUDIT_PROJECT_DELETED, "project", prj.id, "site", "{}");
    assert_int_equal(lk_svc_billing_update(&f->svc, p, org, S("pro"), NULL, 0, &b), LK_OK);
    check(newest(f), LK_AUDIT_BILLING_UPDATED, "billing", org, "pro", NULL);
    assert_non_null(strstr(newest(f)->details, "\"plan_from\":\"free\",\"plan_to\":\"pro\""));
    assert_int_equal(lk_svc_key_create(&f->svc, p, org, S("ci"), 0, &k, tok), LK_OK);
    assert_null(strstr(newest(f)->details, tok)); /* never the token */
    check(newest(f), LK_AUDIT_KEY_CREATED, "access_key", k.id, "ci", "{}");
    assert_int_equal(lk_svc_key_rename(&f->svc, p, org, k.id, S("ci-prod"), &k), LK_OK);
    check(newest(f), LK_AUDIT_KEY_RENAMED, "access_key", k.id, "ci-prod",
          "{\"from\":\"ci\",\"to\":\"ci-prod\"}");
    assert_int_equal(lk_svc_key_delete(&f->svc, p, org, k.id), LK_OK);
    check(newest(f), LK_AUDIT_KEY_DELETED, "access_key", k.id, "ci-prod", "{}");
    assert_int_equal(lk_svc_member_remove(&f->svc, p, org, f->bob.id), LK_OK);
    check(newest(f), LK_AUDIT_MEMBER_REMOVED, "user", f->bob.id, "Bob", "{}");
    seen s;
    assert_int_equal(org_events(f, org, NULL, &s), LK_OK);
    assert_int_equal(s.n, 14);
    for (int i = 1; i < s.n; i++)
        assert_true(s.ev[i - 1].seq > s.ev[i].seq); /* newest first */
}

/* Keys as actors: an org key is "organization_key", a personal key names
 * its owner in actor_user_id. */
static void key_actors(void **state)
{
    fx *f = *state;
    lk_key ok, pk, k;
    char tok[LK_TOKEN_SIZE], tok2[LK_TOKEN_SIZE];
    lk_principal okey, pkey;
    lk_project prj;
    assert_int_equal(lk_svc_key_create(&f->svc, &f->s_alice, f->a.id, S("deploy"), 0, &ok, tok),
                     LK_OK);
    assert_int_equal(lk_svc_auth_bearer(&f->svc, tok, strlen(tok), NULL, &okey), LK_OK);
    assert_int_equal(lk_svc_project_create(&f->svc, &okey, f->a.id, S("p1"), &prj), LK_OK);
    const lk_audit_event *ev = newest(f);
    assert_string_equal(ev->actor_type, "organization_key");
    assert_string_equal(ev->actor_id, ok.id);
    assert_string_equal(ev->actor_name, "deploy");
    assert_string_equal(ev->actor_user_id, "");
    assert_int_equal(lk_svc_key_create(&f->svc, &f->s_alice, NULL, S("laptop"), 0, &pk, tok2),
                     LK_OK);
    assert_int_equal(lk_svc_auth_bearer(&f->svc, tok2, strlen(tok2), NULL, &pkey), LK_OK);
    assert_int_equal(lk_svc_key_create(&f->svc, &pkey, f->a.id, S("made-by-pkey"), 0, &k, tok),
                     LK_OK);
    ev = newest(f);
    assert_string_equal(ev->actor_type, "personal_key");
    assert_string_equal(ev->actor_id, pk.id);
    assert_string_equal(ev->actor_user_id, f->alice.id);
    /* the actor filter: by person (session and personal key), by key */
    seen s;
    lk_list l = {.page = {.limit = MAX_SEEN}};
    memset(&s, 0, sizeof(s));
    assert_int_equal(lk_svc_audit_list_org(&f->svc, &f->s_alice, f->a.id, NULL, 0, ok.id,
                                           strlen(ok.id), &l, collect, &s),
                     LK_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.ev[0].action, LK_AUDIT_PROJECT_CREATED);
    memset(&s, 0, sizeof(s));
    assert_int_equal(lk_svc_audit_list_org(&f->svc, &f->s_alice, f->a.id, NULL, 0, f->alice.id,
                                           strlen(f->alice.id), &l, collect, &s),
                     LK_OK);
    assert_int_equal(s.n, 3); /* org created, deploy key created (session), key by pkey */
    /* the org key may read its org's log; not a personal log */
    memset(&s, 0, sizeof(s));
    assert_int_equal(lk_svc_audit_list_org(&f->svc, &okey, f->a.id, NULL, 0, NULL, 0, &l, collect,
                                           &s),
                     LK_OK);
    assert_int_equal(my_events(f, &okey, &s), LK_EFORBIDDEN);
}

/* --- lists: filters, pages, who may read -------------------------------- */

static void list_filters_and_pages(void **state)
{
    fx *f = *state;
    lk_project prj;
    char name[16];
    for (int i = 0; i < 5; i++) {
        int n = snprintf(name, sizeof name, "p%d", i);
        assert_int_equal(lk_svc_project_create(&f->svc, &f->s_alice, f->a.id, name, (size_t)n,
                                               &prj),
                         LK_OK);
    }
    seen s;
    assert_int_equal(org_events(f, f->a.id, LK_AUDIT_PROJECT_CREATED, &s), LK_OK);
    assert_int_equal(s.n, 5);
    assert_string_equal(s.ev[0].target_name, "p4");
    /* pages of two, newest first, no overlap */
    lk_list l = {.page = {.limit = 2}};
    int total = 0;
    int64_t last = INT64_MAX;
    do {
        memset(&s, 0, sizeof(s));
        assert_int_equal(lk_svc_audit_list_org(&f->svc, &f->s_alice, f->a.id, S("project.created"),
                                               NULL, 0, &l, collect, &s),
                         LK_OK);
        for (int i = 0; i < s.n; i++) {
            assert_true(s.ev[i].seq < last);
            last = s.ev[i].seq;
        }
        total += s.n;
        l.page.before_seq = l.next;
    } while (l.next != 0);
    assert_int_equal(total, 5);
    /* bad filters are 400 with the field named; a non-member gets 404 */
    l = (lk_list){.page = {.limit = 10}};
    assert_int_equal(lk_svc_audit_list_org(&f->svc, &f->s_alice, f->a.id, S("DROP TABLE"), NULL,
                                           0, &l, collect, &s),
                     LK_EVALIDATION);
    assert_string_equal(f->svc.err.field, "action");
    assert_int_equal(lk_svc_audit_list_org(&f->svc, &f->s_alice, f->a.id, NULL, 0, S("usr_x"), &l,
                                           collect, &s),
                     LK_EVALIDATION);
    assert_string_equal(f->svc.err.field, "actor");
    assert_int_equal(lk_svc_audit_list_org(&f->svc, &f->s_bob, f->a.id, NULL, 0, NULL, 0, &l,
                                           collect, &s),
                     LK_ENOT_FOUND);
}

/* --- a person's security log ---------------------------------------------- */

static void security_log(void **state)
{
    fx *f = *state;
    char cookie[LK_SESSION_TOKEN_SIZE], csrf[LK_CSRF_SIZE];
    lk_user u;
    lk_key k;
    char tok[LK_TOKEN_SIZE];
    /* a failed sign-in for alice's email: anonymous actor, in her log only */
    lk_svc_set_origin(&f->svc, "198.51.100.9", S("curl/8"));
    assert_int_equal(lk_svc_login(&f->svc, S("ALICE@example.com"), S("wrong password"),
                                  "198.51.100.9", &u, cookie, csrf),
                     LK_EUNAUTHENTICATED);
    assert_int_equal(lk_svc_login(&f->svc, S("nobody@example.com"), S("wrong password"),
                                  "198.51.100.9", &u, cookie, csrf),
                     LK_EUNAUTHENTICATED);
    assert_int_equal(lk_svc_key_create(&f->svc, &f->s_alice, NULL, S("laptop"), 0, &k, tok),
                     LK_OK);
    seen s;
    assert_int_equal(my_events(f, &f->s_alice, &s), LK_OK);
    assert_int_equal(s.n, 4); /* signed up, logged in, login failed, key created */
    assert_string_equal(s.ev[0].action, LK_AUDIT_KEY_CREATED);
    assert_string_equal(s.ev[1].action, LK_AUDIT_USER_LOGIN_FAILED);
    assert_string_equal(s.ev[1].actor_type, "anonymous");
    assert_string_equal(s.ev[1].target_id, f->alice.id);
    assert_string_equal(s.ev[1].ip, "198.51.100.9");
    assert_string_equal(s.ev[2].action, LK_AUDIT_USER_LOGGED_IN);
    assert_string_equal(s.ev[3].action, LK_AUDIT_USER_SIGNED_UP);
    assert_int_equal(my_events(f, &f->s_bob, &s), LK_OK);
    assert_int_equal(s.n, 2);
    /* org events are not personal ones */
    for (int i = 0; i < s.n; i++) assert_string_not_equal(s.ev[i].action, LK_AUDIT_ORG_CREATED);
}

/* An org's deletion stays in the deleter's own log; its log is gone with it. */
static void deleted_org_event_survives(void **state)
{
    fx *f = *state;
    assert_int_equal(lk_svc_org_delete(&f->svc, &f->s_alice, f->a.id), LK_OK);
    seen s;
    assert_int_equal(org_events(f, f->a.id, NULL, &s), LK_ENOT_FOUND);
    assert_int_equal(my_events(f, &f->s_alice, &s), LK_OK);
    assert_string_equal(s.ev[0].action, LK_AUDIT_ORG_DELETED);
    assert_string_equal(s.ev[0].org_id, f->a.id);
    assert_string_equal(s.ev[0].target_name, "Org A");
    assert_string_equal(s.ev[0].actor_id, f->alice.id);
}

/* --- the same transaction: an injected failure between the two writes ---- */

static int64_t count_events(fx *f)
{
    seen s;
    assert_int_equal(org_events(f, f->a.id, NULL, &s), LK_OK);
    return s.n;
}

static void injected_failure_keeps_neither(void **state)
{
    fx *f = *state;
    const lk_store_ops *real = f->st->ops;
    lk_project prj, got;
    lk_key k;
    lk_org o;
    char tok[LK_TOKEN_SIZE];
    assert_int_equal(lk_svc_project_create(&f->svc, &f->s_alice, f->a.id, S("keep"), &prj), LK_OK);
    assert_int_equal(lk_svc_key_create(&f->svc, &f->s_alice, f->a.id, S("ci"), 0, &k, tok), LK_OK);
    int64_t before = count_events(f);

    f->st->ops = &f->faulty; /* every audit_insert fails from here */
    lk_project nprj;
    lk_key nk;
    assert_int_not_equal(lk_svc_project_create(&f->svc, &f->s_alice, f->a.id, S("new"), &nprj),
                         LK_OK);
    assert_int_not_equal(lk_svc_project_rename(&f->svc, &f->s_alice, f->a.id, prj.id, S("moved"),
                                               &got),
                         LK_OK);
    assert_int_not_equal(lk_svc_project_delete(&f->svc, &f->s_alice, f->a.id, prj.id), LK_OK);
    assert_int_not_equal(lk_svc_key_create(&f->svc, &f->s_alice, f->a.id, S("x"), 0, &nk, tok),
                         LK_OK);
    assert_int_not_equal(lk_svc_key_delete(&f->svc, &f->s_alice, f->a.id, k.id), LK_OK);
    assert_int_not_equal(lk_svc_org_rename(&f->svc, &f->s_alice, f->a.id, S("Renamed"), &o),
                         LK_OK);
    assert_int_not_equal(lk_svc_org_delete(&f->svc, &f->s_alice, f->a.id), LK_OK);
    f->st->ops = real;

    /* nothing of any of those changes is there, and no event either */
    assert_int_equal(lk_svc_project_get(&f->svc, &f->s_alice, f->a.id, prj.id, &got), LK_OK);
    assert_string_equal(got.name, "keep");
    assert_int_equal(lk_svc_project_get(&f->svc, &f->s_alice, f->a.id, nprj.id, &got),
                     LK_ENOT_FOUND);
    assert_int_equal(lk_svc_org_get(&f->svc, &f->s_alice, f->a.id, &o), LK_OK);
    assert_string_equal(o.name, "Org A");
    lk_principal kp;
    assert_int_equal(lk_svc_auth_bearer(&f->svc, tok, strlen(tok), NULL, &kp),
                     LK_EUNAUTHENTICATED); /* the failed create's token never existed */
    assert_int_equal(f->st->ops->key_get(f->st, k.id, &nk), LK_OK); /* not deleted */
    assert_int_equal(count_events(f), before);
    /* and the connection is healthy afterwards */
    assert_int_equal(lk_svc_project_rename(&f->svc, &f->s_alice, f->a.id, prj.id, S("moved"),
                                           &got),
                     LK_OK);
    assert_int_equal(count_events(f), before + 1);
}

/* --- retention ----------------------------------------------------------- */

static void retention_purges_old_events(void **state)
{
    fx *f = *state;
    lk_project prj;
    int64_t now = fake_now;
    fake_now = now - 400 * DAY;
    assert_int_equal(lk_svc_project_create(&f->svc, &f->s_alice, f->a.id, S("old"), &prj), LK_OK);
    fake_now = now - 10 * DAY;
    assert_int_equal(lk_svc_project_create(&f->svc, &f->s_alice, f->a.id, S("new"), &prj), LK_OK);
    fake_now = now;
    int64_t before = count_events(f), deleted = -1;
    assert_int_equal(lk_svc_audit_purge(&f->svc, 0, &deleted), LK_OK); /* 0: keep all */
    assert_int_equal(deleted, 0);
    assert_int_equal(lk_svc_audit_purge(&f->svc, LK_AUDIT_RETENTION_DAYS_DEFAULT, &deleted),
                     LK_OK);
    assert_int_equal(deleted, 1);
    assert_int_equal(count_events(f), before - 1);
    assert_int_equal(lk_svc_audit_purge(&f->svc, 5, &deleted), LK_OK);
    assert_int_equal(deleted, 1);
}

/* --- origin and details cleaning ----------------------------------------- */

static void origin_is_capped_and_cleaned(void **state)
{
    fx *f = *state;
    static const char head[] = "evil\r\nX-Injected: 1\x7f\x01\xff\xc3\xa9";
    char ua[1000];
    memset(ua, 'a', sizeof ua);
    memcpy(ua, head, sizeof head - 1);
    lk_svc_set_origin(&f->svc, "2001:db8::1", ua, sizeof ua);
    lk_project prj;
    assert_int_equal(lk_svc_project_create(&f->svc, &f->s_alice, f->a.id, S("ua"), &prj), LK_OK);
    const lk_audit_event *ev = newest(f);
    assert_string_equal(ev->ip, "2001:db8::1");
    assert_int_equal(strlen(ev->user_agent), LK_AUDIT_UA_SIZE - 1);
    assert_memory_equal(ev->user_agent, "evilX-Injected: 1\xc3\xa9" "aaa", 22);
    for (const char *c = ev->user_agent; *c; c++) assert_true((unsigned char)*c >= 0x20);
    /* details keep valid JSON whatever the values hold */
    char d[LK_AUDIT_DETAILS_SIZE];
    const char *kv[] = {"a", "q\"b\\s\x01", "none", NULL, "c", "x"};
    lk_audit_details(d, kv, 3);
    assert_string_equal(d, "{\"a\":\"q\\\"b\\\\s\",\"c\":\"x\"}");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    if (lk_token_init() != 0) return 1;
    const struct CMUnitTest tests[] = {
        T(every_org_action),
        T(key_actors),
        T(list_filters_and_pages),
        T(security_log),
        T(deleted_org_event_survives),
        T(injected_failure_keeps_neither),
        T(retention_purges_old_events),
        T(origin_is_capped_and_cleaned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
