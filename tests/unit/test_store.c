/*
 * test_store.c — the store interface (store.h), backend-generic.
 *
 * The database under test is $LK_TEST_DATABASE_URL when set (tests/run.sh
 * points it at a fresh PostgreSQL database), else a fresh SQLite file in a
 * mkdtemp directory. Everything except the tests named sqlite_* speaks only
 * through st->ops, so the same suite checks every backend; every test makes
 * its own users/orgs with random ids and emails and opens (and migrates) its
 * own connection, so tests can run alone and in any order.
 *
 * dump/load always loads into a fresh SQLite file (the migrate-data path
 * from whichever backend is under test).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "schema.h"
#include "store.h"
#include "token.h"

#include <ftw.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define T0 INT64_C(1700000000)

static char g_tmpdir[256];
static char g_url[1024];
static int g_file_counter;

/* -- helpers ------------------------------------------------------------------ */

static lk_store *open_url(const char *url)
{
    lk_store *st = NULL;
    lk_err e;
    lk_err_clear(&e);
    int rc = lk_store_open(url, &st, &e);
    if (rc != LK_OK) fprintf(stderr, "open %s: %s\n", url, lk_err_message(&e));
    assert_int_equal(rc, LK_OK);
    assert_non_null(st);
    rc = st->ops->migrate(st);
    if (rc != LK_OK) fprintf(stderr, "migrate: %s\n", lk_err_message(&st->err));
    assert_int_equal(rc, LK_OK);
    return st;
}

static lk_store *open_store(void)
{
    return open_url(g_url);
}

/* A URL for a new SQLite file in the temp dir. */
static void fresh_sqlite_url(char out[1024], const char *tag)
{
    snprintf(out, 1024, "sqlite:%s/%s-%d.db", g_tmpdir, tag, ++g_file_counter);
}

static void email_lower_of(const lk_user *u, char out[LK_EMAIL_SIZE])
{
    for (size_t i = 0; i <= strlen(u->email); i++)
        out[i] =
            (char)((u->email[i] >= 'A' && u->email[i] <= 'Z') ? u->email[i] + 32 : u->email[i]);
}

/* A user with a unique mixed-case email (email_lower is its lower case). */
static void new_user(lk_store *st, lk_user *u)
{
    char email_lower[LK_EMAIL_SIZE];
    memset(u, 0, sizeof *u);
    lk_id_new("usr_", u->id);
    snprintf(u->email, sizeof u->email, "User.%s@Example.Test", u->id + 4);
    snprintf(u->name, sizeof u->name, "User %s", u->id + 4);
    u->created_at = T0;
    email_lower_of(u, email_lower);
    assert_int_equal(st->ops->user_create(st, u, email_lower, "$argon2id$v=19$fake"), LK_OK);
}

static void new_org(lk_store *st, const char *creator, int64_t at, lk_org *o)
{
    memset(o, 0, sizeof *o);
    lk_id_new("org_", o->id);
    snprintf(o->name, sizeof o->name, "Org %s", o->id + 4);
    o->created_at = at;
    assert_int_equal(st->ops->org_create(st, o, creator, "billing@example.test"), LK_OK);
}

static void new_project(lk_store *st, const char *org_id, lk_project *p)
{
    memset(p, 0, sizeof *p);
    lk_id_new("prj_", p->id);
    snprintf(p->org_id, sizeof p->org_id, "%s", org_id);
    snprintf(p->name, sizeof p->name, "Project %s", p->id + 4);
    p->created_at = T0 + 5;
    assert_int_equal(st->ops->child_create(st, LK_CHILD_PROJECT, p), LK_OK);
}

static void new_env(lk_store *st, const char *project_id, lk_env *v)
{
    memset(v, 0, sizeof *v);
    lk_id_new("env_", v->id);
    snprintf(v->project_id, sizeof v->project_id, "%s", project_id);
    snprintf(v->name, sizeof v->name, "Env %s", v->id + 4);
    v->created_at = T0 + 6;
    assert_int_equal(st->ops->child_create(st, LK_CHILD_ENV, v), LK_OK);
}

/* An org key (org_id set) or personal key (org_id NULL, for user_id). */
static void new_key(lk_store *st, const char *org_id, const char *user_id, int64_t expires_at,
                    lk_key *k, uint8_t hash[LK_TOKEN_HASH_LEN])
{
    char tok[LK_TOKEN_SIZE];
    memset(k, 0, sizeof *k);
    lk_id_new("key_", k->id);
    k->type = org_id ? LK_KEY_ORG : LK_KEY_PERSONAL;
    assert_int_equal(lk_token_generate(org_id ? LK_TOKEN_ORG : LK_TOKEN_PERSONAL, tok), 0);
    lk_token_hash(tok, LK_TOKEN_LEN, hash);
    lk_token_redact(tok, k->redacted);
    if (org_id) snprintf(k->org_id, sizeof k->org_id, "%s", org_id);
    if (!org_id) snprintf(k->user_id, sizeof k->user_id, "%s", user_id);
    snprintf(k->created_by, sizeof k->created_by, "%s", user_id);
    snprintf(k->name, sizeof k->name, "Key %s", k->id + 4);
    k->created_at = T0 + 7;
    k->expires_at = expires_at;
    assert_int_equal(st->ops->key_create(st, k, hash), LK_OK);
}

static void assert_key_equal(const lk_key *a, const lk_key *b)
{
    assert_string_equal(a->id, b->id);
    assert_int_equal(a->type, b->type);
    assert_string_equal(a->org_id, b->org_id);
    assert_string_equal(a->user_id, b->user_id);
    assert_string_equal(a->created_by, b->created_by);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->redacted, b->redacted);
    assert_int_equal(a->created_at, b->created_at);
    assert_int_equal(a->last_used_at, b->last_used_at);
    assert_int_equal(a->expires_at, b->expires_at);
}

/* Collecting callbacks: ids and seqs of listed rows, in order. */
#define MAX_ROWS 256
typedef struct collect {
    int n;
    int stop_after; /* 0: never; else return 7 after this many rows */
    char ids[MAX_ROWS][LK_ID_SIZE];
    int64_t seqs[MAX_ROWS];
    lk_member members[8];
    lk_key keys[8];
} collect;

static int add_row(collect *c, const char *id, int64_t seq)
{
    assert_true(c->n < MAX_ROWS);
    snprintf(c->ids[c->n], LK_ID_SIZE, "%s", id);
    c->seqs[c->n] = seq;
    c->n++;
    return (c->stop_after && c->n >= c->stop_after) ? 7 : 0;
}

static int cb_org(void *ctx, const lk_org *o)
{
    return add_row(ctx, o->id, o->seq);
}

static int cb_member(void *ctx, const lk_member *m)
{
    collect *c = ctx;
    if (c->n < 8) c->members[c->n] = *m;
    return add_row(ctx, m->user_id, m->seq);
}

static int cb_project(void *ctx, const lk_project *p)
{
    return add_row(ctx, p->id, p->seq);
}

static int cb_env(void *ctx, const lk_env *v)
{
    return add_row(ctx, v->id, v->seq);
}

static int cb_key(void *ctx, const lk_key *k)
{
    collect *c = ctx;
    if (c->n < 8) c->keys[c->n] = *k;
    return add_row(ctx, k->id, k->seq);
}

static collect *collect_new(void)
{
    collect *c = calloc(1, sizeof *c);
    assert_non_null(c);
    return c;
}

static int find_id(const collect *c, const char *id)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->ids[i], id) == 0) return i;
    return -1;
}

/* -- migrations ------------------------------------------------------------- */

typedef struct migrate_arg {
    const char *url;
    int open_rc, migrate_rc, ping_rc;
} migrate_arg;

static void *migrate_thread(void *p)
{
    migrate_arg *a = p;
    lk_store *st = NULL;
    lk_err e;
    a->open_rc = lk_store_open(a->url, &st, &e);
    if (a->open_rc != LK_OK) return NULL;
    a->migrate_rc = st->ops->migrate(st);
    a->ping_rc = st->ops->ping(st);
    lk_store_close(st);
    return NULL;
}

/* Several connections migrate the same (possibly fresh) database at once. */
static void concurrent_migrate_on(const char *url)
{
    enum { N = 8 };
    pthread_t th[N];
    migrate_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (migrate_arg){.url = url, .open_rc = 1, .migrate_rc = 1, .ping_rc = 1};
        assert_int_equal(pthread_create(&th[i], NULL, migrate_thread, &args[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        assert_int_equal(args[i].open_rc, LK_OK);
        assert_int_equal(args[i].migrate_rc, LK_OK);
        assert_int_equal(args[i].ping_rc, LK_OK);
    }
    /* and the schema works afterwards */
    lk_store *st = open_url(url);
    lk_user u;
    new_user(st, &u);
    lk_store_close(st);
}

static void migrate_concurrent(void **state)
{
    (void)state;
    concurrent_migrate_on(g_url);
}

static void migrate_twice_idempotent(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u;
    new_user(st, &u);
    assert_int_equal(st->ops->migrate(st), LK_OK);
    assert_int_equal(st->ops->migrate(st), LK_OK);
    lk_user got;
    assert_int_equal(st->ops->user_get(st, u.id, &got), LK_OK); /* data kept */
    assert_int_equal(st->ops->ping(st), LK_OK);
    lk_store_close(st);
}

/* -- users and sessions ------------------------------------------------------ */

static void user_roundtrip(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u, got;
    char lower[LK_EMAIL_SIZE], pw[LK_PWHASH_SIZE];
    new_user(st, &u);
    email_lower_of(&u, lower);

    memset(&got, 0, sizeof got);
    assert_int_equal(st->ops->user_get(st, u.id, &got), LK_OK);
    assert_string_equal(got.id, u.id);
    assert_string_equal(got.email, u.email); /* as given, not lowered */
    assert_string_equal(got.name, u.name);
    assert_int_equal(got.created_at, u.created_at);

    memset(&got, 0, sizeof got);
    assert_int_equal(st->ops->user_get_by_email(st, lower, &got, pw), LK_OK);
    assert_string_equal(got.id, u.id);
    assert_string_equal(pw, "$argon2id$v=19$fake");
    assert_int_equal(st->ops->user_get_by_email(st, lower, &got, NULL), LK_OK);
    /* lookup is by email_lower: the mixed-case form is not a key */
    assert_int_equal(st->ops->user_get_by_email(st, u.email, &got, NULL), LK_ENOT_FOUND);

    assert_int_equal(st->ops->user_rename(st, u.id, "Renamed Ünïcode"), LK_OK);
    assert_int_equal(st->ops->user_get(st, u.id, &got), LK_OK);
    assert_string_equal(got.name, "Renamed Ünïcode");

    char missing[LK_ID_SIZE];
    lk_id_new("usr_", missing);
    assert_int_equal(st->ops->user_get(st, missing, &got), LK_ENOT_FOUND);
    assert_true(st->err.message[0] != '\0');
    assert_int_equal(st->ops->user_rename(st, missing, "x"), LK_ENOT_FOUND);
    assert_int_equal(st->ops->user_get_by_email(st, "nobody-here@example.test", &got, NULL),
                     LK_ENOT_FOUND);
    lk_store_close(st);
}

static void user_email_conflict(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u, v;
    char lower[LK_EMAIL_SIZE];
    new_user(st, &u);
    email_lower_of(&u, lower);

    memset(&v, 0, sizeof v);
    lk_id_new("usr_", v.id);
    /* same address in other letter case: same email_lower */
    for (size_t i = 0; i <= strlen(u.email); i++)
        v.email[i] =
            (char)((u.email[i] >= 'a' && u.email[i] <= 'z') ? u.email[i] - 32 : u.email[i]);
    snprintf(v.name, sizeof v.name, "Other");
    v.created_at = T0;
    assert_int_equal(st->ops->user_create(st, &v, lower, "h"), LK_ECONFLICT);
    assert_true(st->err.message[0] != '\0');
    assert_null(strstr(st->err.message, "INSERT"));
    lk_user got;
    assert_int_equal(st->ops->user_get(st, v.id, &got), LK_ENOT_FOUND);
    /* the connection is still usable after the failure */
    assert_int_equal(st->ops->user_get_by_email(st, lower, &got, NULL), LK_OK);
    assert_string_equal(got.id, u.id);
    lk_store_close(st);
}

static void session_roundtrip(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u;
    new_user(st, &u);
    uint8_t h[LK_TOKEN_HASH_LEN];
    randombytes_buf(h, sizeof h);
    lk_session s = {0}, got;
    snprintf(s.user_id, sizeof s.user_id, "%s", u.id);
    snprintf(s.csrf, sizeof s.csrf, "csrf-%.24s", u.id + 4);
    s.created_at = T0;
    s.expires_at = T0 + 3600;
    assert_int_equal(st->ops->session_create(st, h, &s), LK_OK);
    assert_int_equal(st->ops->session_create(st, h, &s), LK_ECONFLICT);
    memset(&got, 0, sizeof got);
    assert_int_equal(st->ops->session_get(st, h, &got), LK_OK);
    assert_string_equal(got.user_id, u.id);
    assert_string_equal(got.csrf, s.csrf);
    assert_int_equal(got.created_at, T0);
    assert_int_equal(got.expires_at, T0 + 3600);

    uint8_t other[LK_TOKEN_HASH_LEN];
    memcpy(other, h, sizeof other);
    other[31] ^= 1;
    assert_int_equal(st->ops->session_get(st, other, &got), LK_ENOT_FOUND);

    assert_int_equal(st->ops->session_delete(st, h), LK_OK);
    assert_int_equal(st->ops->session_get(st, h, &got), LK_ENOT_FOUND);
    assert_int_equal(st->ops->session_delete(st, h), LK_ENOT_FOUND);
    lk_store_close(st);
}

/* -- organizations and members ------------------------------------------------ */

static void org_roundtrip(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u, stranger;
    new_user(st, &u);
    new_user(st, &stranger);
    lk_org o, got;
    new_org(st, u.id, T0 + 1, &o);

    memset(&got, 0, sizeof got);
    assert_int_equal(st->ops->org_get(st, o.id, &got), LK_OK);
    assert_string_equal(got.id, o.id);
    assert_string_equal(got.name, o.name);
    assert_int_equal(got.created_at, T0 + 1);
    assert_true(got.seq > 0);

    /* creator is a member since created_at; billing row is "free" */
    assert_int_equal(st->ops->member_check(st, o.id, u.id), LK_OK);
    assert_int_equal(st->ops->member_check(st, o.id, stranger.id), LK_ENOT_FOUND);
    int64_t n = -1;
    assert_int_equal(st->ops->member_count(st, o.id, &n), LK_OK);
    assert_int_equal(n, 1);
    collect *c = collect_new();
    assert_int_equal(st->ops->member_list(st, o.id, &(lk_page){0, 10}, cb_member, c), LK_OK);
    assert_int_equal(c->n, 1);
    assert_int_equal(c->members[0].joined_at, T0 + 1);
    lk_billing b;
    memset(&b, 0, sizeof b);
    assert_int_equal(st->ops->billing_get(st, o.id, &b), LK_OK);
    assert_string_equal(b.org_id, o.id);
    assert_string_equal(b.plan, "free");
    assert_string_equal(b.billing_email, "billing@example.test");

    assert_int_equal(st->ops->org_rename(st, o.id, "New name"), LK_OK);
    assert_int_equal(st->ops->org_get(st, o.id, &got), LK_OK);
    assert_string_equal(got.name, "New name");

    char missing[LK_ID_SIZE];
    lk_id_new("org_", missing);
    assert_int_equal(st->ops->org_get(st, missing, &got), LK_ENOT_FOUND);
    assert_int_equal(st->ops->org_rename(st, missing, "x"), LK_ENOT_FOUND);
    assert_int_equal(st->ops->org_delete(st, missing), LK_ENOT_FOUND);
    assert_int_equal(st->ops->billing_get(st, missing, &b), LK_ENOT_FOUND);
    /* a reference to a row that does not exist is LK_ENOT_FOUND */
    char nouser[LK_ID_SIZE];
    lk_id_new("usr_", nouser);
    assert_int_equal(st->ops->member_add(st, o.id, nouser, T0), LK_ENOT_FOUND);
    assert_int_equal(st->ops->member_add(st, missing, u.id, T0), LK_ENOT_FOUND);
    lk_project orphan = {0};
    lk_id_new("prj_", orphan.id);
    snprintf(orphan.org_id, sizeof orphan.org_id, "%s", missing);
    snprintf(orphan.name, sizeof orphan.name, "orphan");
    assert_int_equal(st->ops->child_create(st, LK_CHILD_PROJECT, &orphan), LK_ENOT_FOUND);
    lk_org lonely = {0};
    lk_id_new("org_", lonely.id);
    snprintf(lonely.name, sizeof lonely.name, "lonely");
    assert_int_equal(st->ops->org_create(st, &lonely, nouser, "x@example.test"), LK_ENOT_FOUND);
    assert_int_equal(st->ops->org_get(st, lonely.id, &got), LK_ENOT_FOUND); /* rolled back */
    /* a second org with the same id is a conflict and leaves nothing behind */
    lk_org dup = o;
    assert_int_equal(st->ops->org_create(st, &dup, stranger.id, "x@example.test"), LK_ECONFLICT);
    assert_int_equal(st->ops->member_check(st, o.id, stranger.id), LK_ENOT_FOUND);
    assert_int_equal(st->ops->member_count(st, o.id, &n), LK_OK);
    assert_int_equal(n, 1);
    free(c);
    lk_store_close(st);
}

static void member_ops(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user a, b, c3;
    new_user(st, &a);
    new_user(st, &b);
    new_user(st, &c3);
    lk_org o;
    new_org(st, a.id, T0, &o);
    assert_int_equal(st->ops->member_add(st, o.id, b.id, T0 + 10), LK_OK);
    assert_int_equal(st->ops->member_add(st, o.id, b.id, T0 + 11), LK_ECONFLICT);
    assert_int_equal(st->ops->member_add(st, o.id, a.id, T0 + 11), LK_ECONFLICT);
    assert_int_equal(st->ops->member_add(st, o.id, c3.id, T0 + 12), LK_OK);
    int64_t n = 0;
    assert_int_equal(st->ops->member_count(st, o.id, &n), LK_OK);
    assert_int_equal(n, 3);

    collect *c = collect_new();
    assert_int_equal(st->ops->member_list(st, o.id, &(lk_page){0, 10}, cb_member, c), LK_OK);
    assert_int_equal(c->n, 3);
    assert_string_equal(c->ids[0], c3.id); /* newest membership first */
    assert_string_equal(c->ids[1], b.id);
    assert_string_equal(c->ids[2], a.id);
    assert_true(c->seqs[0] > c->seqs[1] && c->seqs[1] > c->seqs[2]);
    assert_string_equal(c->members[1].email, b.email); /* filled from users */
    assert_string_equal(c->members[1].name, b.name);
    assert_string_equal(c->members[1].org_id, o.id);
    assert_int_equal(c->members[1].joined_at, T0 + 10);

    assert_int_equal(st->ops->member_remove(st, o.id, b.id), LK_OK);
    assert_int_equal(st->ops->member_remove(st, o.id, b.id), LK_ENOT_FOUND);
    assert_int_equal(st->ops->member_check(st, o.id, b.id), LK_ENOT_FOUND);
    assert_int_equal(st->ops->member_count(st, o.id, &n), LK_OK);
    assert_int_equal(n, 2);
    /* re-adding after removal works */
    assert_int_equal(st->ops->member_add(st, o.id, b.id, T0 + 20), LK_OK);
    assert_int_equal(st->ops->member_check(st, o.id, b.id), LK_OK);
    free(c);
    lk_store_close(st);
}

static void org_list_for_user_pages(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u, other;
    new_user(st, &u);
    new_user(st, &other);
    lk_org o[5], foreign;
    for (int i = 0; i < 5; i++)
        new_org(st, u.id, T0 + i, &o[i]);
    new_org(st, other.id, T0, &foreign); /* not u's */

    collect *c = collect_new();
    assert_int_equal(st->ops->org_list_for_user(st, u.id, &(lk_page){0, 100}, cb_org, c), LK_OK);
    assert_int_equal(c->n, 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(c->ids[i], o[4 - i].id);
    assert_int_equal(find_id(c, foreign.id), -1);

    memset(c, 0, sizeof *c);
    assert_int_equal(st->ops->org_list_for_user(st, u.id, &(lk_page){0, 2}, cb_org, c), LK_OK);
    assert_int_equal(c->n, 2);
    int64_t cursor = c->seqs[1];
    memset(c, 0, sizeof *c);
    assert_int_equal(st->ops->org_list_for_user(st, u.id, &(lk_page){cursor, 2}, cb_org, c), LK_OK);
    assert_int_equal(c->n, 2);
    assert_string_equal(c->ids[0], o[2].id);
    assert_string_equal(c->ids[1], o[1].id);

    /* joined later to an older org: still ordered by the org */
    assert_int_equal(st->ops->member_add(st, foreign.id, u.id, T0 + 100), LK_OK);
    memset(c, 0, sizeof *c);
    assert_int_equal(st->ops->org_list_for_user(st, u.id, &(lk_page){0, 100}, cb_org, c), LK_OK);
    assert_int_equal(c->n, 6);
    assert_string_equal(c->ids[0], foreign.id); /* created after o[4] */

    lk_user nobody;
    new_user(st, &nobody);
    memset(c, 0, sizeof *c);
    assert_int_equal(st->ops->org_list_for_user(st, nobody.id, &(lk_page){0, 10}, cb_org, c),
                     LK_OK);
    assert_int_equal(c->n, 0);
    free(c);
    lk_store_close(st);
}

/* -- projects, environments, billing ---------------------------------------- */

static void project_env_scoped(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u;
    new_user(st, &u);
    lk_org o, o2;
    new_org(st, u.id, T0, &o);
    new_org(st, u.id, T0, &o2);
    lk_project p, p2, got;
    new_project(st, o.id, &p);
    new_project(st, o2.id, &p2);

    memset(&got, 0, sizeof got);
    assert_int_equal(st->ops->child_get(st, LK_CHILD_PROJECT, o.id, p.id, &got), LK_OK);
    assert_string_equal(got.id, p.id);
    assert_string_equal(got.org_id, o.id);
    assert_string_equal(got.name, p.name);
    assert_int_equal(got.created_at, p.created_at);
    assert_true(got.seq > 0);
    /* another org's project is not found through this org */
    assert_int_equal(st->ops->child_get(st, LK_CHILD_PROJECT, o.id, p2.id, &got), LK_ENOT_FOUND);
    assert_int_equal(st->ops->child_rename(st, LK_CHILD_PROJECT, o.id, p2.id, "hijack"),
                     LK_ENOT_FOUND);
    assert_int_equal(st->ops->child_delete(st, LK_CHILD_PROJECT, o.id, p2.id), LK_ENOT_FOUND);
    assert_int_equal(st->ops->child_get(st, LK_CHILD_PROJECT, o2.id, p2.id, &got), LK_OK);
    assert_string_equal(got.name, p2.name);
    assert_int_equal(st->ops->child_rename(st, LK_CHILD_PROJECT, o.id, p.id, "Renamed"), LK_OK);
    assert_int_equal(st->ops->child_get(st, LK_CHILD_PROJECT, o.id, p.id, &got), LK_OK);
    assert_string_equal(got.name, "Renamed");
    lk_project dup = p;
    assert_int_equal(st->ops->child_create(st, LK_CHILD_PROJECT, &dup), LK_ECONFLICT);

    lk_env v, v2, vg;
    new_env(st, p.id, &v);
    new_env(st, p2.id, &v2);
    memset(&vg, 0, sizeof vg);
    assert_int_equal(st->ops->child_get(st, LK_CHILD_ENV, p.id, v.id, &vg), LK_OK);
    assert_string_equal(vg.id, v.id);
    assert_string_equal(vg.project_id, p.id);
    assert_string_equal(vg.name, v.name);
    assert_int_equal(vg.created_at, v.created_at);
    assert_int_equal(st->ops->child_get(st, LK_CHILD_ENV, p.id, v2.id, &vg), LK_ENOT_FOUND);
    assert_int_equal(st->ops->child_rename(st, LK_CHILD_ENV, p.id, v2.id, "x"), LK_ENOT_FOUND);
    assert_int_equal(st->ops->child_delete(st, LK_CHILD_ENV, p.id, v2.id), LK_ENOT_FOUND);
    assert_int_equal(st->ops->child_rename(st, LK_CHILD_ENV, p.id, v.id, "staging"), LK_OK);
    assert_int_equal(st->ops->child_get(st, LK_CHILD_ENV, p.id, v.id, &vg), LK_OK);
    assert_string_equal(vg.name, "staging");

    collect *c = collect_new();
    lk_env v3;
    new_env(st, p.id, &v3);
    assert_int_equal(st->ops->child_list(st, LK_CHILD_ENV, p.id, &(lk_page){0, 10},
                                         (lk_row_cb){.env = cb_env}, c),
                     LK_OK);
    assert_int_equal(c->n, 2);
    assert_string_equal(c->ids[0], v3.id);
    assert_string_equal(c->ids[1], v.id);
    memset(c, 0, sizeof *c);
    assert_int_equal(st->ops->child_list(st, LK_CHILD_PROJECT, o.id, &(lk_page){0, 10},
                                         (lk_row_cb){.project = cb_project}, c),
                     LK_OK);
    assert_int_equal(c->n, 1);
    assert_string_equal(c->ids[0], p.id);

    assert_int_equal(st->ops->child_delete(st, LK_CHILD_ENV, p.id, v3.id), LK_OK);
    assert_int_equal(st->ops->child_get(st, LK_CHILD_ENV, p.id, v3.id, &vg), LK_ENOT_FOUND);
    assert_int_equal(st->ops->child_delete(st, LK_CHILD_ENV, p.id, v3.id), LK_ENOT_FOUND);

    /* deleting a project deletes its environments */
    assert_int_equal(st->ops->child_delete(st, LK_CHILD_PROJECT, o.id, p.id), LK_OK);
    assert_int_equal(st->ops->child_get(st, LK_CHILD_PROJECT, o.id, p.id, &got), LK_ENOT_FOUND);
    assert_int_equal(st->ops->child_get(st, LK_CHILD_ENV, p.id, v.id, &vg), LK_ENOT_FOUND);
    memset(c, 0, sizeof *c);
    assert_int_equal(st->ops->child_list(st, LK_CHILD_ENV, p.id, &(lk_page){0, 10},
                                         (lk_row_cb){.env = cb_env}, c),
                     LK_OK);
    assert_int_equal(c->n, 0);
    /* the other org's project and env are untouched */
    assert_int_equal(st->ops->child_get(st, LK_CHILD_ENV, p2.id, v2.id, &vg), LK_OK);
    free(c);
    lk_store_close(st);
}

static void billing_set_get(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u;
    new_user(st, &u);
    lk_org o;
    new_org(st, u.id, T0, &o);
    lk_billing b = {0}, got;
    snprintf(b.org_id, sizeof b.org_id, "%s", o.id);
    snprintf(b.plan, sizeof b.plan, "pro");
    snprintf(b.billing_email, sizeof b.billing_email, "finance@example.test");
    b.updated_at = T0 + 50;
    assert_int_equal(st->ops->billing_set(st, &b), LK_OK);
    memset(&got, 0, sizeof got);
    assert_int_equal(st->ops->billing_get(st, o.id, &got), LK_OK);
    assert_string_equal(got.plan, "pro");
    assert_string_equal(got.billing_email, "finance@example.test");
    assert_int_equal(got.updated_at, T0 + 50);
    lk_id_new("org_", b.org_id);
    assert_int_equal(st->ops->billing_set(st, &b), LK_ENOT_FOUND);
    lk_store_close(st);
}

/* -- access keys -------------------------------------------------------------- */

static void key_roundtrip(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u;
    new_user(st, &u);
    lk_org o;
    new_org(st, u.id, T0, &o);
    lk_key ko, kp, got;
    uint8_t ho[LK_TOKEN_HASH_LEN], hp[LK_TOKEN_HASH_LEN];
    new_key(st, o.id, u.id, 0, &ko, ho);
    new_key(st, NULL, u.id, T0 + 99999, &kp, hp);

    memset(&got, 0, sizeof got);
    assert_int_equal(st->ops->key_get(st, ko.id, &got), LK_OK);
    assert_key_equal(&got, &ko);
    assert_true(got.seq > 0);
    assert_string_equal(got.user_id, ""); /* org key: no owner user */
    memset(&got, 0, sizeof got);
    assert_int_equal(st->ops->key_get_by_hash(st, ho, &got), LK_OK);
    assert_key_equal(&got, &ko);
    memset(&got, 0, sizeof got);
    assert_int_equal(st->ops->key_get_by_hash(st, hp, &got), LK_OK);
    assert_key_equal(&got, &kp);
    assert_string_equal(got.org_id, ""); /* personal key: no org */
    assert_int_equal(got.type, LK_KEY_PERSONAL);

    /* a hash collision (or a reused id) is a conflict */
    lk_key again = ko;
    lk_id_new("key_", again.id);
    assert_int_equal(st->ops->key_create(st, &again, ho), LK_ECONFLICT);
    uint8_t hx[LK_TOKEN_HASH_LEN];
    randombytes_buf(hx, sizeof hx);
    assert_int_equal(st->ops->key_create(st, &ko, hx), LK_ECONFLICT);
    assert_int_equal(st->ops->key_get_by_hash(st, hx, &got), LK_ENOT_FOUND);

    assert_int_equal(st->ops->key_rename(st, ko.id, "ci deploy"), LK_OK);
    assert_int_equal(st->ops->key_get(st, ko.id, &got), LK_OK);
    assert_string_equal(got.name, "ci deploy");

    assert_int_equal(st->ops->key_delete(st, ko.id), LK_OK);
    assert_int_equal(st->ops->key_get(st, ko.id, &got), LK_ENOT_FOUND);
    assert_int_equal(st->ops->key_get_by_hash(st, ho, &got), LK_ENOT_FOUND);
    assert_int_equal(st->ops->key_delete(st, ko.id), LK_ENOT_FOUND);
    assert_int_equal(st->ops->key_rename(st, ko.id, "x"), LK_ENOT_FOUND);
    assert_int_equal(st->ops->key_get_by_hash(st, hp, &got), LK_OK);
    lk_store_close(st);
}

/* key_get_by_hash_owner: the key as key_get_by_hash reads it, plus its
 * user (personal key) or org (org key) from the same statement. */
static void key_owner_lookup(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u;
    new_user(st, &u);
    lk_org o;
    new_org(st, u.id, T0, &o);
    lk_key ko, kp, got, plain;
    lk_user gu;
    lk_org go;
    uint8_t ho[LK_TOKEN_HASH_LEN], hp[LK_TOKEN_HASH_LEN];
    new_key(st, o.id, u.id, 0, &ko, ho);
    new_key(st, NULL, u.id, T0 + 99999, &kp, hp);

    memset(&got, 0x55, sizeof got);
    memset(&gu, 0x55, sizeof gu);
    memset(&go, 0x55, sizeof go);
    assert_int_equal(st->ops->key_get_by_hash_owner(st, hp, &got, &gu, &go), LK_OK);
    assert_int_equal(st->ops->key_get_by_hash(st, hp, &plain), LK_OK);
    assert_key_equal(&got, &kp);
    assert_key_equal(&got, &plain);
    assert_int_equal(got.seq, plain.seq);
    assert_string_equal(gu.id, u.id);
    assert_string_equal(gu.email, u.email);
    assert_string_equal(gu.name, u.name);
    assert_int_equal(gu.created_at, u.created_at);
    assert_string_equal(go.id, ""); /* personal key: no org */
    assert_string_equal(go.name, "");

    memset(&gu, 0x55, sizeof gu);
    memset(&go, 0x55, sizeof go);
    assert_int_equal(st->ops->key_get_by_hash_owner(st, ho, &got, &gu, &go), LK_OK);
    assert_int_equal(st->ops->key_get_by_hash(st, ho, &plain), LK_OK);
    assert_key_equal(&got, &ko);
    assert_key_equal(&got, &plain);
    lk_org og;
    assert_int_equal(st->ops->org_get(st, o.id, &og), LK_OK);
    assert_string_equal(go.id, og.id);
    assert_string_equal(go.name, og.name);
    assert_int_equal(go.created_at, og.created_at);
    assert_int_equal(go.seq, og.seq);
    assert_string_equal(gu.id, ""); /* org key: no user */

    /* what the owner looks like now, not at key creation */
    assert_int_equal(st->ops->user_rename(st, u.id, "Renamed"), LK_OK);
    assert_int_equal(st->ops->org_rename(st, o.id, "Org Renamed"), LK_OK);
    assert_int_equal(st->ops->key_get_by_hash_owner(st, hp, &got, &gu, &go), LK_OK);
    assert_string_equal(gu.name, "Renamed");
    assert_int_equal(st->ops->key_get_by_hash_owner(st, ho, &got, &gu, &go), LK_OK);
    assert_string_equal(go.name, "Org Renamed");

    /* unknown and deleted keys are not found, at once */
    uint8_t hx[LK_TOKEN_HASH_LEN];
    randombytes_buf(hx, sizeof hx);
    assert_int_equal(st->ops->key_get_by_hash_owner(st, hx, &got, &gu, &go), LK_ENOT_FOUND);
    assert_int_equal(st->ops->key_delete(st, kp.id), LK_OK);
    assert_int_equal(st->ops->key_get_by_hash_owner(st, hp, &got, &gu, &go), LK_ENOT_FOUND);
    assert_int_equal(st->ops->org_delete(st, o.id), LK_OK);
    assert_int_equal(st->ops->key_get_by_hash_owner(st, ho, &got, &gu, &go), LK_ENOT_FOUND);
    lk_store_close(st);
}

static void key_lists_skip_expired(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u, v;
    new_user(st, &u);
    new_user(st, &v);
    lk_org o;
    new_org(st, u.id, T0, &o);
    const int64_t now = T0 + 1000;
    lk_key never, future, past, atnow, pers, pers_exp, other_user;
    uint8_t h[7][LK_TOKEN_HASH_LEN];
    new_key(st, o.id, u.id, 0, &never, h[0]);
    new_key(st, o.id, u.id, now + 1, &future, h[1]);
    new_key(st, o.id, u.id, now - 1, &past, h[2]);
    new_key(st, o.id, u.id, now, &atnow, h[3]); /* expires_at <= now: expired */
    new_key(st, NULL, u.id, 0, &pers, h[4]);
    new_key(st, NULL, u.id, now - 500, &pers_exp, h[5]);
    new_key(st, NULL, v.id, 0, &other_user, h[6]);

    collect *c = collect_new();
    assert_int_equal(st->ops->key_list_org(st, o.id, now, &(lk_page){0, 100}, cb_key, c), LK_OK);
    assert_int_equal(c->n, 2);
    assert_string_equal(c->ids[0], future.id);
    assert_string_equal(c->ids[1], never.id);
    assert_key_equal(&c->keys[0], &future);

    memset(c, 0, sizeof *c);
    assert_int_equal(st->ops->key_list_user(st, u.id, now, &(lk_page){0, 100}, cb_key, c), LK_OK);
    assert_int_equal(c->n, 1); /* only u's own unexpired personal key; no org keys */
    assert_string_equal(c->ids[0], pers.id);

    /* earlier "now": the past key was not yet expired */
    memset(c, 0, sizeof *c);
    assert_int_equal(st->ops->key_list_org(st, o.id, now - 2, &(lk_page){0, 100}, cb_key, c),
                     LK_OK);
    assert_int_equal(c->n, 4);

    /* expired keys are still returned by hash (the caller decides) */
    lk_key got;
    assert_int_equal(st->ops->key_get_by_hash(st, h[2], &got), LK_OK);
    assert_key_equal(&got, &past);
    assert_int_equal(st->ops->key_get_by_hash(st, h[5], &got), LK_OK);
    assert_key_equal(&got, &pers_exp);
    assert_int_equal(st->ops->key_get(st, atnow.id, &got), LK_OK);
    free(c);
    lk_store_close(st);
}

static void key_touch_max(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u;
    new_user(st, &u);
    lk_org o;
    new_org(st, u.id, T0, &o);
    lk_key a, b, got;
    uint8_t ha[LK_TOKEN_HASH_LEN], hb[LK_TOKEN_HASH_LEN];
    new_key(st, o.id, u.id, 0, &a, ha);
    new_key(st, NULL, u.id, 0, &b, hb);
    assert_int_equal(st->ops->key_get(st, a.id, &got), LK_OK);
    assert_int_equal(got.last_used_at, 0);

    lk_key_touch t[4];
    memset(t, 0, sizeof t);
    snprintf(t[0].id, sizeof t[0].id, "%s", a.id);
    t[0].at = T0 + 100;
    lk_id_new("key_", t[1].id); /* gone / never existed: skipped */
    t[1].at = T0 + 500;
    snprintf(t[2].id, sizeof t[2].id, "%s", b.id);
    t[2].at = T0 + 300;
    snprintf(t[3].id, sizeof t[3].id, "%s", b.id);
    t[3].at = T0 + 200; /* older observation later in the batch */
    assert_int_equal(st->ops->key_touch(st, t, 4), LK_OK);
    assert_int_equal(st->ops->key_get(st, a.id, &got), LK_OK);
    assert_int_equal(got.last_used_at, T0 + 100);
    assert_int_equal(st->ops->key_get(st, b.id, &got), LK_OK);
    assert_int_equal(got.last_used_at, T0 + 300);

    /* an older batch never moves it back */
    t[0].at = T0 + 50;
    assert_int_equal(st->ops->key_touch(st, t, 1), LK_OK);
    assert_int_equal(st->ops->key_get_by_hash(st, ha, &got), LK_OK);
    assert_int_equal(got.last_used_at, T0 + 100);
    t[0].at = T0 + 150;
    assert_int_equal(st->ops->key_touch(st, t, 1), LK_OK);
    assert_int_equal(st->ops->key_get_by_hash(st, ha, &got), LK_OK);
    assert_int_equal(got.last_used_at, T0 + 150);
    assert_int_equal(st->ops->key_touch(st, t, 0), LK_OK);
    lk_store_close(st);
}

/* -- pagination --------------------------------------------------------------- */

static void pagination_stable(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u;
    new_user(st, &u);
    lk_org o;
    new_org(st, u.id, T0, &o);
    enum { N = 25 };
    lk_project p[N];
    for (int i = 0; i < N; i++)
        new_project(st, o.id, &p[i]);

    collect *all = collect_new(), *c = collect_new();
    int64_t cursor = 0;
    int pages = 0;
    for (;;) {
        memset(c, 0, sizeof *c);
        assert_int_equal(st->ops->child_list(st, LK_CHILD_PROJECT, o.id, &(lk_page){cursor, 10},
                                             (lk_row_cb){.project = cb_project}, c),
                         LK_OK);
        assert_true(c->n <= 10);
        for (int i = 0; i < c->n; i++)
            add_row(all, c->ids[i], c->seqs[i]);
        pages++;
        if (c->n < 10) break;
        cursor = c->seqs[c->n - 1];
        /* rows inserted between pages are newer than the cursor: never seen */
        lk_project extra;
        new_project(st, o.id, &extra);
    }
    assert_int_equal(pages, 3);
    assert_int_equal(all->n, N);
    for (int i = 0; i < N; i++) {
        assert_string_equal(all->ids[i], p[N - 1 - i].id); /* newest first, no gap, no dup */
        if (i) assert_true(all->seqs[i] < all->seqs[i - 1]);
    }

    /* a callback that returns non-zero stops the iteration with its value */
    memset(c, 0, sizeof *c);
    c->stop_after = 3;
    assert_int_equal(st->ops->child_list(st, LK_CHILD_PROJECT, o.id, &(lk_page){0, 100},
                                         (lk_row_cb){.project = cb_project}, c),
                     7);
    assert_int_equal(c->n, 3);
    /* and the connection is fine afterwards (statement reset) */
    memset(c, 0, sizeof *c);
    assert_int_equal(st->ops->child_list(st, LK_CHILD_PROJECT, o.id, &(lk_page){0, 1},
                                         (lk_row_cb){.project = cb_project}, c),
                     LK_OK);
    assert_int_equal(c->n, 1);

    /* same for keys, members */
    lk_key k[3];
    uint8_t h[LK_TOKEN_HASH_LEN];
    for (int i = 0; i < 3; i++)
        new_key(st, o.id, u.id, 0, &k[i], h);
    memset(c, 0, sizeof *c);
    assert_int_equal(st->ops->key_list_org(st, o.id, T0, &(lk_page){0, 2}, cb_key, c), LK_OK);
    assert_int_equal(c->n, 2);
    assert_string_equal(c->ids[0], k[2].id);
    cursor = c->seqs[1];
    memset(c, 0, sizeof *c);
    assert_int_equal(st->ops->key_list_org(st, o.id, T0, &(lk_page){cursor, 2}, cb_key, c), LK_OK);
    assert_int_equal(c->n, 1);
    assert_string_equal(c->ids[0], k[0].id);
    free(all);
    free(c);
    lk_store_close(st);
}

/* -- org delete cascade ------------------------------------------------------- */

static void org_delete_cascades(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u, m;
    new_user(st, &u);
    new_user(st, &m);
    lk_org o, keep;
    new_org(st, u.id, T0, &o);
    new_org(st, u.id, T0, &keep);
    assert_int_equal(st->ops->member_add(st, o.id, m.id, T0 + 1), LK_OK);
    lk_project p, pk;
    new_project(st, o.id, &p);
    new_project(st, keep.id, &pk);
    lk_env v;
    new_env(st, p.id, &v);
    lk_key k1, k2, pers, kk;
    uint8_t h1[LK_TOKEN_HASH_LEN], h2[LK_TOKEN_HASH_LEN], hp[LK_TOKEN_HASH_LEN],
        hk[LK_TOKEN_HASH_LEN];
    new_key(st, o.id, u.id, 0, &k1, h1);
    new_key(st, o.id, m.id, T0 - 1, &k2, h2);
    new_key(st, NULL, m.id, 0, &pers, hp);
    new_key(st, keep.id, u.id, 0, &kk, hk);

    assert_int_equal(st->ops->org_delete(st, o.id), LK_OK);

    lk_org og;
    lk_project pg;
    lk_env vg;
    lk_key kg;
    lk_billing bg;
    assert_int_equal(st->ops->org_get(st, o.id, &og), LK_ENOT_FOUND);
    assert_int_equal(st->ops->key_get_by_hash(st, h1, &kg), LK_ENOT_FOUND);
    assert_int_equal(st->ops->key_get_by_hash(st, h2, &kg), LK_ENOT_FOUND);
    assert_int_equal(st->ops->key_get(st, k1.id, &kg), LK_ENOT_FOUND);
    assert_int_equal(st->ops->child_get(st, LK_CHILD_PROJECT, o.id, p.id, &pg), LK_ENOT_FOUND);
    assert_int_equal(st->ops->child_get(st, LK_CHILD_ENV, p.id, v.id, &vg), LK_ENOT_FOUND);
    assert_int_equal(st->ops->member_check(st, o.id, u.id), LK_ENOT_FOUND);
    assert_int_equal(st->ops->member_check(st, o.id, m.id), LK_ENOT_FOUND);
    assert_int_equal(st->ops->billing_get(st, o.id, &bg), LK_ENOT_FOUND);
    int64_t n = -1;
    assert_int_equal(st->ops->member_count(st, o.id, &n), LK_OK);
    assert_int_equal(n, 0);
    collect *c = collect_new();
    assert_int_equal(st->ops->org_list_for_user(st, m.id, &(lk_page){0, 10}, cb_org, c), LK_OK);
    assert_int_equal(c->n, 0);
    memset(c, 0, sizeof *c);
    assert_int_equal(st->ops->org_list_for_user(st, u.id, &(lk_page){0, 10}, cb_org, c), LK_OK);
    assert_int_equal(c->n, 1);
    assert_string_equal(c->ids[0], keep.id);
    memset(c, 0, sizeof *c);
    assert_int_equal(st->ops->key_list_org(st, o.id, T0, &(lk_page){0, 10}, cb_key, c), LK_OK);
    assert_int_equal(c->n, 0);
    memset(c, 0, sizeof *c);
    assert_int_equal(st->ops->child_list(st, LK_CHILD_PROJECT, o.id, &(lk_page){0, 10},
                                         (lk_row_cb){.project = cb_project}, c),
                     LK_OK);
    assert_int_equal(c->n, 0);

    /* the users, personal keys and the other org are untouched */
    lk_user ug;
    assert_int_equal(st->ops->user_get(st, m.id, &ug), LK_OK);
    assert_int_equal(st->ops->key_get_by_hash(st, hp, &kg), LK_OK);
    assert_int_equal(st->ops->key_get_by_hash(st, hk, &kg), LK_OK);
    assert_int_equal(st->ops->child_get(st, LK_CHILD_PROJECT, keep.id, pk.id, &pg), LK_OK);
    assert_int_equal(st->ops->billing_get(st, keep.id, &bg), LK_OK);
    assert_int_equal(st->ops->member_check(st, keep.id, u.id), LK_OK);
    assert_int_equal(st->ops->org_delete(st, o.id), LK_ENOT_FOUND);
    free(c);
    lk_store_close(st);
}

/* -- durability and several connections -------------------------------------- */

static void survives_reopen(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u;
    new_user(st, &u);
    lk_org o;
    new_org(st, u.id, T0, &o);
    lk_project p;
    new_project(st, o.id, &p);
    lk_key k;
    uint8_t h[LK_TOKEN_HASH_LEN];
    new_key(st, o.id, u.id, 0, &k, h);
    lk_key_touch t = {.at = T0 + 42};
    snprintf(t.id, sizeof t.id, "%s", k.id);
    assert_int_equal(st->ops->key_touch(st, &t, 1), LK_OK);
    lk_store_close(st);

    st = open_store();
    lk_user ug;
    lk_org og;
    lk_project pg;
    lk_key kg;
    assert_int_equal(st->ops->user_get(st, u.id, &ug), LK_OK);
    assert_string_equal(ug.email, u.email);
    assert_int_equal(st->ops->org_get(st, o.id, &og), LK_OK);
    assert_int_equal(st->ops->member_check(st, o.id, u.id), LK_OK);
    assert_int_equal(st->ops->child_get(st, LK_CHILD_PROJECT, o.id, p.id, &pg), LK_OK);
    assert_int_equal(st->ops->key_get_by_hash(st, h, &kg), LK_OK);
    assert_int_equal(kg.last_used_at, T0 + 42);
    lk_store_close(st);
}

static void two_connections_see_each_other(void **state)
{
    (void)state;
    lk_store *a = open_store(), *b = open_store();
    lk_user u;
    new_user(a, &u);
    lk_org o;
    new_org(a, u.id, T0, &o);
    lk_key k, got;
    uint8_t h[LK_TOKEN_HASH_LEN];
    /* b looks the key up first (prepares its statement, reads a snapshot) */
    uint8_t none[LK_TOKEN_HASH_LEN];
    randombytes_buf(none, sizeof none);
    assert_int_equal(b->ops->key_get_by_hash(b, none, &got), LK_ENOT_FOUND);
    new_key(a, o.id, u.id, 0, &k, h);
    assert_int_equal(b->ops->key_get_by_hash(b, h, &got), LK_OK);
    assert_key_equal(&got, &k);
    assert_int_equal(a->ops->key_get_by_hash(a, h, &got), LK_OK);
    /* delete in one, look up in the other: gone at once */
    assert_int_equal(b->ops->key_delete(b, k.id), LK_OK);
    assert_int_equal(a->ops->key_get_by_hash(a, h, &got), LK_ENOT_FOUND);
    /* an org deleted in b is gone for a, with its keys */
    lk_key k2;
    new_key(a, o.id, u.id, 0, &k2, h);
    assert_int_equal(b->ops->key_get_by_hash(b, h, &got), LK_OK);
    assert_int_equal(b->ops->org_delete(b, o.id), LK_OK);
    assert_int_equal(a->ops->key_get_by_hash(a, h, &got), LK_ENOT_FOUND);
    assert_int_equal(a->ops->member_check(a, o.id, u.id), LK_ENOT_FOUND);
    /* a rename in a is seen by b */
    assert_int_equal(a->ops->user_rename(a, u.id, "From A"), LK_OK);
    lk_user ug;
    assert_int_equal(b->ops->user_get(b, u.id, &ug), LK_OK);
    assert_string_equal(ug.name, "From A");
    lk_store_close(a);
    lk_store_close(b);
}

/* A writer killed with SIGKILL at an arbitrary point has lost nothing it
 * acknowledged: the child reports each user id only after user_create
 * returned LK_OK; every reported id must be there after reopening. */
static void sigkill_keeps_acknowledged_writes(void **state)
{
    (void)state;
    enum { WANT = 40, MAX = 5000 };
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        lk_store *st = NULL;
        lk_err e;
        if (lk_store_open(g_url, &st, &e) != LK_OK || st->ops->migrate(st) != LK_OK) _exit(2);
        for (int i = 0; i < MAX; i++) {
            lk_user u = {0};
            char lower[LK_EMAIL_SIZE];
            lk_id_new("usr_", u.id);
            snprintf(u.email, sizeof u.email, "kill.%.24s@example.test", u.id + 4);
            snprintf(u.name, sizeof u.name, "k");
            email_lower_of(&u, lower);
            if (st->ops->user_create(st, &u, lower, "h") != LK_OK) _exit(3);
            char line[LK_ID_SIZE + 1];
            snprintf(line, sizeof line, "%-24.24s\n", u.id);
            if (write(fds[1], line, 25) != 25) _exit(4);
        }
        _exit(0);
    }
    close(fds[1]);
    char(*ids)[LK_ID_SIZE] = calloc(MAX, LK_ID_SIZE);
    assert_non_null(ids);
    int n = 0;
    char line[25];
    size_t got = 0;
    bool killed = false;
    for (;;) {
        ssize_t r = read(fds[0], line + got, sizeof line - got);
        if (r <= 0) break;
        got += (size_t)r;
        if (got < sizeof line) continue;
        got = 0;
        memcpy(ids[n], line, 24);
        ids[n][24] = '\0';
        if (++n == WANT && !killed) {
            kill(pid, SIGKILL); /* mid-stream: the child is in its next write */
            killed = true;
        }
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(fds[0]);
    assert_true(killed);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_true(n >= WANT);

    lk_store *st = open_store();
    for (int i = 0; i < n; i++) {
        lk_user u;
        assert_int_equal(st->ops->user_get(st, ids[i], &u), LK_OK);
    }
    /* and the file is consistent: new writes work */
    lk_user v;
    new_user(st, &v);
    free(ids);
    lk_store_close(st);
}

/* Writers on separate connections at once: multi-row transactions queue
 * instead of failing (BEGIN IMMEDIATE / busy timeout on SQLite). */
typedef struct writer_arg {
    char user_id[LK_ID_SIZE];
    char key_id[LK_ID_SIZE];
    int rc;
    int done;
} writer_arg;

static void *writer_thread(void *p)
{
    writer_arg *w = p;
    lk_store *st = NULL;
    lk_err e;
    w->rc = lk_store_open(g_url, &st, &e);
    if (w->rc != LK_OK) return NULL;
    for (int i = 0; i < 30 && w->rc == LK_OK; i++) {
        lk_org o = {0};
        lk_id_new("org_", o.id);
        snprintf(o.name, sizeof o.name, "w%d", i);
        o.created_at = T0 + i;
        w->rc = st->ops->org_create(st, &o, w->user_id, "w@example.test");
        if (w->rc != LK_OK) break;
        lk_key_touch t = {.at = T0 + i};
        snprintf(t.id, sizeof t.id, "%s", w->key_id);
        w->rc = st->ops->key_touch(st, &t, 1);
        if (w->rc != LK_OK) break;
        if (i % 3 == 0) w->rc = st->ops->org_delete(st, o.id);
        if (w->rc == LK_OK) w->done++;
    }
    if (w->rc != LK_OK) fprintf(stderr, "writer: %s\n", lk_err_message(&st->err));
    lk_store_close(st);
    return NULL;
}

static void concurrent_writers(void **state)
{
    (void)state;
    enum { N = 4 };
    lk_store *st = open_store();
    lk_user u;
    new_user(st, &u);
    lk_org o;
    new_org(st, u.id, T0, &o);
    lk_key k;
    uint8_t h[LK_TOKEN_HASH_LEN];
    new_key(st, o.id, u.id, 0, &k, h);
    writer_arg w[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        memset(&w[i], 0, sizeof w[i]);
        snprintf(w[i].user_id, sizeof w[i].user_id, "%s", u.id);
        snprintf(w[i].key_id, sizeof w[i].key_id, "%s", k.id);
        assert_int_equal(pthread_create(&th[i], NULL, writer_thread, &w[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        assert_int_equal(w[i].rc, LK_OK);
        assert_int_equal(w[i].done, 30);
    }
    collect *c = collect_new();
    assert_int_equal(st->ops->org_list_for_user(st, u.id, &(lk_page){0, 200}, cb_org, c), LK_OK);
    assert_int_equal(c->n, 1 + N * 20); /* 30 created, 10 deleted, per writer */
    lk_key got;
    assert_int_equal(st->ops->key_get(st, k.id, &got), LK_OK);
    assert_int_equal(got.last_used_at, T0 + 29);
    free(c);
    lk_store_close(st);
}

/* Both backends enforce the same constraints (schema.c) and word a
 * missing row alike. */
static void same_constraints_both_backends(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u;
    new_user(st, &u);
    lk_org o;
    new_org(st, u.id, T0, &o);
    lk_billing b = {.updated_at = T0};
    memcpy(b.org_id, o.id, sizeof b.org_id);
    snprintf(b.plan, sizeof b.plan, "gold");
    assert_int_equal(st->ops->billing_set(st, &b), LK_EINTERNAL); /* CHECK (plan IN …) */
    snprintf(b.plan, sizeof b.plan, "pro");
    assert_int_equal(st->ops->billing_set(st, &b), LK_OK);

    lk_record *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->kind = LK_REC_KEY;
    lk_key *k = &r->as.k.key;
    lk_id_new("key_", k->id);
    k->type = LK_KEY_ORG; /* an org key without its org, owned by a user */
    memcpy(k->user_id, u.id, sizeof k->user_id);
    memcpy(k->created_by, u.id, sizeof k->created_by);
    snprintf(k->name, sizeof k->name, "bad");
    snprintf(k->redacted, sizeof k->redacted, "lko_...");
    randombytes_buf(r->as.k.hash, sizeof r->as.k.hash);
    assert_int_equal(st->ops->load(st, r), LK_EINTERNAL); /* CHECK on type/owner */
    k->type = LK_KEY_PERSONAL; /* a personal key that also names an org */
    memcpy(k->org_id, o.id, sizeof k->org_id);
    assert_int_equal(st->ops->load(st, r), LK_EINTERNAL);
    memset(k->org_id, 0, sizeof k->org_id);
    assert_int_equal(st->ops->load(st, r), LK_OK);
    free(r);

    assert_int_equal(st->ops->member_remove(st, o.id, "usr_nosuch"), LK_ENOT_FOUND);
    assert_string_equal(lk_err_message(&st->err), "member not found");
    assert_int_equal(st->ops->key_delete(st, "key_nosuch"), LK_ENOT_FOUND);
    assert_string_equal(lk_err_message(&st->err), "access key not found");
    assert_int_equal(st->ops->org_rename(st, "org_nosuch", "x"), LK_ENOT_FOUND);
    assert_string_equal(lk_err_message(&st->err), "organization not found");
    lk_store_close(st);
}

/* The generators of schema.c: column lists per view, INSERTs per dialect,
 * DDL with the same constraints in both dialects. */
static void schema_text(void **state)
{
    (void)state;
    char sql[LK_SCHEMA_SQL_MAX];
    assert_int_equal(
        lk_schema_sql("SELECT {k.access_keys} FROM access_keys k", '?', sql, sizeof sql), 0);
    assert_non_null(strstr(sql, "SELECT k.seq, k.id, k.type,"));
    assert_null(strstr(sql, "hash")); /* not in the record */
    assert_int_equal(lk_schema_sql("{access_keys*}", '?', sql, sizeof sql), 0);
    assert_non_null(strstr(sql, "hash"));
    assert_int_equal(lk_schema_sql("SELECT {m.members}", '$', sql, sizeof sql), 0);
    assert_string_equal(sql,
                        "SELECT m.seq, m.org_id, m.user_id, m.joined_at, m.role, u.email, u.name");
    assert_int_equal(lk_schema_sql("INSERT INTO {orgs:insert}", '$', sql, sizeof sql), 0);
    assert_string_equal(sql,
                        "INSERT INTO orgs (id, name, created_at, access_key_max_lifetime_days) "
                        "VALUES ($1, $2, $3, $4)");
    assert_int_equal(lk_schema_sql("{nosuch}", '?', sql, sizeof sql), -1);
    assert_int_equal(lk_schema_sql("{orgs", '?', sql, sizeof sql), -1);
    assert_int_equal(lk_schema_sql("{orgs}", '?', sql, 8), -1); /* too small */
    assert_int_equal(lk_schema_ncols(&lk_schema_users, LK_VIEW_RECORD), 4);
    char lite[LK_SCHEMA_SQL_MAX], pg[LK_SCHEMA_SQL_MAX];
    for (int i = 0; lk_schema_tables[i]; i++) {
        assert_int_equal(
            lk_schema_table_ddl(lk_schema_tables[i], &lk_dialect_sqlite, lite, sizeof lite), 0);
        assert_int_equal(lk_schema_table_ddl(lk_schema_tables[i], &lk_dialect_pg, pg, sizeof pg),
                         0);
        assert_int_equal(strstr(lite, "CHECK") != NULL, strstr(pg, "CHECK") != NULL);
    }
    assert_int_equal(lk_schema_table_ddl(&lk_schema_billing, &lk_dialect_sqlite, lite, sizeof lite),
                     0);
    assert_non_null(strstr(lite, "CHECK (plan IN ('free', 'pro', 'enterprise'))"));
    assert_non_null(strstr(lite, "seq INTEGER PRIMARY KEY AUTOINCREMENT"));
    assert_int_equal(
        lk_schema_column_ddl(&lk_schema_keys, "last_used_at", &lk_dialect_pg, pg, sizeof pg), 0);
    assert_string_equal(pg, "ALTER TABLE access_keys ADD COLUMN last_used_at bigint NOT NULL "
                            "DEFAULT 0");
    assert_int_equal(lk_schema_column_ddl(&lk_schema_keys, "nosuch", &lk_dialect_pg, pg, sizeof pg),
                     -1);
    /* scopes (version 3): every v1 key gets "*" */
    assert_int_equal(
        lk_schema_column_ddl(&lk_schema_keys, "scopes", &lk_dialect_sqlite, lite, sizeof lite), 0);
    assert_string_equal(lite,
                        "ALTER TABLE access_keys ADD COLUMN scopes INTEGER NOT NULL DEFAULT 8191");
}

/* member_remove_unless_last: the rule, and its atomicity under a race. */
static void member_remove_unless_last_rule(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user a, b, stranger;
    new_user(st, &a);
    new_user(st, &b);
    new_user(st, &stranger);
    lk_org o;
    new_org(st, a.id, T0, &o);
    assert_int_equal(st->ops->member_add(st, o.id, b.id, T0 + 1), LK_OK);
    assert_int_equal(st->ops->member_remove_unless_last(st, o.id, stranger.id), LK_ENOT_FOUND);
    assert_int_equal(st->ops->member_remove_unless_last(st, "org_nosuch", a.id), LK_ENOT_FOUND);
    assert_int_equal(st->ops->member_remove_unless_last(st, o.id, b.id), LK_OK);
    assert_int_equal(st->ops->member_check(st, o.id, b.id), LK_ENOT_FOUND);
    assert_int_equal(st->ops->member_remove_unless_last(st, o.id, a.id), LK_ECONFLICT);
    assert_string_equal(lk_err_message(&st->err), LK_STORE_LAST_MEMBER);
    assert_int_equal(st->ops->member_check(st, o.id, a.id), LK_OK);
    /* inside the caller's transaction too (a savepoint / no nested BEGIN) */
    assert_int_equal(st->ops->begin(st), LK_OK);
    assert_int_equal(st->ops->member_remove_unless_last(st, o.id, a.id), LK_ECONFLICT);
    assert_int_equal(st->ops->member_add(st, o.id, b.id, T0 + 2), LK_OK);
    /* roles: a is the last owner while b is a plain member */
    assert_int_equal(st->ops->member_remove_unless_last(st, o.id, a.id), LK_ECONFLICT);
    assert_string_equal(lk_err_message(&st->err), LK_STORE_LAST_OWNER);
    assert_int_equal(st->ops->member_set_role(st, o.id, b.id, LK_ROLE_OWNER), LK_OK);
    assert_int_equal(st->ops->member_remove_unless_last(st, o.id, a.id), LK_OK);
    assert_int_equal(st->ops->commit(st), LK_OK);
    assert_int_equal(st->ops->member_check(st, o.id, b.id), LK_OK);
    assert_int_equal(st->ops->member_check(st, o.id, a.id), LK_ENOT_FOUND);
    lk_store_close(st);
}

enum { RACERS = 4, RACE_ROUNDS = 5 };

typedef struct racer {
    pthread_barrier_t *go;
    char org_id[LK_ID_SIZE];
    char user_id[LK_ID_SIZE];
    int rc;
} racer;

static void *racer_thread(void *arg)
{
    racer *r = arg;
    lk_store *st = NULL;
    lk_err e;
    lk_err_clear(&e);
    r->rc = -1;
    if (lk_store_open(g_url, &st, &e) != LK_OK) {
        pthread_barrier_wait(r->go);
        return NULL;
    }
    pthread_barrier_wait(r->go);
    r->rc = st->ops->member_remove_unless_last(st, r->org_id, r->user_id);
    lk_store_close(st);
    return NULL;
}

/* Every member of an org removes itself at the same moment, on its own
 * connection: exactly one must be refused, and one member must remain. */
static void member_remove_last_race(void **state)
{
    (void)state;
    lk_store *st = open_store();
    for (int round = 0; round < RACE_ROUNDS; round++) {
        lk_user u[RACERS];
        for (int i = 0; i < RACERS; i++)
            new_user(st, &u[i]);
        lk_org o;
        new_org(st, u[0].id, T0, &o);
        for (int i = 1; i < RACERS; i++)
            assert_int_equal(st->ops->member_add(st, o.id, u[i].id, T0 + i), LK_OK);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, RACERS);
        racer r[RACERS];
        pthread_t th[RACERS];
        for (int i = 0; i < RACERS; i++) {
            memset(&r[i], 0, sizeof r[i]);
            r[i].go = &go;
            memcpy(r[i].org_id, o.id, sizeof r[i].org_id);
            memcpy(r[i].user_id, u[i].id, sizeof r[i].user_id);
            assert_int_equal(pthread_create(&th[i], NULL, racer_thread, &r[i]), 0);
        }
        int ok = 0, refused = 0;
        for (int i = 0; i < RACERS; i++) {
            pthread_join(th[i], NULL);
            ok += r[i].rc == LK_OK;
            refused += r[i].rc == LK_ECONFLICT;
        }
        pthread_barrier_destroy(&go);
        assert_int_equal(ok, RACERS - 1);
        assert_int_equal(refused, 1);
        int64_t n = 0;
        assert_int_equal(st->ops->member_count(st, o.id, &n), LK_OK);
        assert_int_equal(n, 1);
    }
    lk_store_close(st);
}

/* --- roles and invitations ------------------------------------------------------ */

static void new_invitation(lk_store *st, const char *org, const char *by, int64_t exp,
                           lk_invitation *inv, uint8_t hash[LK_TOKEN_HASH_LEN])
{
    memset(inv, 0, sizeof *inv);
    lk_id_new("inv_", inv->id);
    snprintf(inv->org_id, sizeof inv->org_id, "%s", org);
    snprintf(inv->email, sizeof inv->email, "Invitee.%s@Example.Test", inv->id + 4);
    snprintf(inv->role, sizeof inv->role, "%s", LK_ROLE_MEMBER);
    snprintf(inv->invited_by, sizeof inv->invited_by, "%s", by);
    inv->created_at = T0;
    inv->expires_at = exp;
    randombytes_buf(hash, LK_TOKEN_HASH_LEN);
    assert_int_equal(st->ops->invitation_create(st, inv, hash), LK_OK);
}

static int count_inv(void *ctx, const lk_invitation *inv)
{
    (void)inv;
    (*(int *)ctx)++;
    return 0;
}

/* The creator is an owner, an added user a member; the last owner can be
 * neither demoted nor removed; set_role needs a member. */
static void roles_last_owner_rule(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user a, b, stranger;
    lk_org o;
    lk_member m;
    new_user(st, &a);
    new_user(st, &b);
    new_user(st, &stranger);
    new_org(st, a.id, T0, &o);
    assert_int_equal(st->ops->member_add(st, o.id, b.id, T0 + 1), LK_OK);
    assert_int_equal(st->ops->member_get(st, o.id, a.id, &m), LK_OK);
    assert_string_equal(m.role, LK_ROLE_OWNER);
    assert_string_equal(m.email, a.email);
    assert_int_equal(st->ops->member_get(st, o.id, b.id, &m), LK_OK);
    assert_string_equal(m.role, LK_ROLE_MEMBER);
    assert_int_equal(st->ops->member_get(st, o.id, stranger.id, &m), LK_ENOT_FOUND);
    assert_int_equal(st->ops->member_set_role(st, o.id, a.id, LK_ROLE_MEMBER), LK_ECONFLICT);
    assert_string_equal(lk_err_message(&st->err), LK_STORE_LAST_OWNER);
    assert_int_equal(st->ops->member_remove_unless_last(st, o.id, a.id), LK_ECONFLICT);
    assert_string_equal(lk_err_message(&st->err), LK_STORE_LAST_OWNER);
    assert_int_equal(st->ops->member_set_role(st, o.id, a.id, LK_ROLE_OWNER), LK_OK);
    assert_int_equal(st->ops->member_set_role(st, o.id, stranger.id, LK_ROLE_OWNER), LK_ENOT_FOUND);
    assert_int_equal(st->ops->member_set_role(st, o.id, b.id, LK_ROLE_OWNER), LK_OK);
    assert_int_equal(st->ops->member_set_role(st, o.id, a.id, LK_ROLE_MEMBER), LK_OK);
    assert_int_equal(st->ops->member_remove_unless_last(st, o.id, a.id), LK_OK);
    assert_int_equal(st->ops->member_get(st, o.id, b.id, &m), LK_OK);
    assert_string_equal(m.role, LK_ROLE_OWNER);
    lk_store_close(st);
}

/* An invitation is used once, only while live; a conflict leaves it. */
static void invitation_accept_once(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user a, c;
    lk_org o;
    lk_member m;
    lk_invitation inv, got;
    uint8_t h1[LK_TOKEN_HASH_LEN], h2[LK_TOKEN_HASH_LEN], h3[LK_TOKEN_HASH_LEN];
    new_user(st, &a);
    new_user(st, &c);
    new_org(st, a.id, T0, &o);
    new_invitation(st, o.id, a.id, T0 + 100, &inv, h1);
    assert_int_equal(st->ops->invitation_get_by_hash(st, h1, &got), LK_OK);
    assert_string_equal(got.id, inv.id);
    assert_string_equal(got.email, inv.email);
    assert_true(got.seq > 0);
    int n = 0;
    lk_page pg = {.limit = 10};
    assert_int_equal(st->ops->invitation_list(st, o.id, T0 + 99, &pg, count_inv, &n), LK_OK);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(st->ops->invitation_list(st, o.id, T0 + 100, &pg, count_inv, &n), LK_OK);
    assert_int_equal(n, 0); /* expired ones are not listed */
    /* expired: not accepted */
    assert_int_equal(st->ops->invitation_accept(st, h1, c.id, T0 + 100, &m), LK_ENOT_FOUND);
    assert_int_equal(st->ops->invitation_accept(st, h1, c.id, T0 + 5, &m), LK_OK);
    assert_string_equal(m.org_id, o.id);
    assert_string_equal(m.role, LK_ROLE_MEMBER);
    assert_int_equal(st->ops->member_check(st, o.id, c.id), LK_OK);
    assert_int_equal(st->ops->invitation_accept(st, h1, c.id, T0 + 6, &m), LK_ENOT_FOUND);
    assert_int_equal(st->ops->invitation_get_by_hash(st, h1, &got), LK_ENOT_FOUND);
    /* already a member: 409, and the invitation is still there */
    new_invitation(st, o.id, a.id, T0 + 100, &inv, h2);
    assert_int_equal(st->ops->invitation_accept(st, h2, c.id, T0 + 7, &m), LK_ECONFLICT);
    assert_int_equal(st->ops->invitation_get_by_hash(st, h2, &got), LK_OK);
    /* revoke: only within its org */
    assert_int_equal(st->ops->invitation_delete(st, "org_nosuch", inv.id), LK_ENOT_FOUND);
    assert_int_equal(st->ops->invitation_delete(st, o.id, inv.id), LK_OK);
    assert_int_equal(st->ops->invitation_delete(st, o.id, inv.id), LK_ENOT_FOUND);
    assert_int_equal(st->ops->invitation_accept(st, h2, a.id, T0 + 8, &m), LK_ENOT_FOUND);
    /* deleting the org takes its invitations along */
    new_invitation(st, o.id, a.id, T0 + 100, &inv, h3);
    assert_int_equal(st->ops->org_delete(st, o.id), LK_OK);
    assert_int_equal(st->ops->invitation_get_by_hash(st, h3, &got), LK_ENOT_FOUND);
    lk_store_close(st);
}

typedef struct role_racer {
    pthread_barrier_t *go;
    char org_id[LK_ID_SIZE];
    char user_id[LK_ID_SIZE];
    int rc;
} role_racer;

static void *demote_thread(void *arg)
{
    role_racer *r = arg;
    lk_store *st = NULL;
    lk_err e;
    lk_err_clear(&e);
    r->rc = -1;
    if (lk_store_open(g_url, &st, &e) != LK_OK) {
        pthread_barrier_wait(r->go);
        return NULL;
    }
    pthread_barrier_wait(r->go);
    r->rc = st->ops->member_set_role(st, r->org_id, r->user_id, LK_ROLE_MEMBER);
    lk_store_close(st);
    return NULL;
}

/* Every owner is demoted at the same moment, each on its own connection:
 * exactly one demotion is refused, and one owner remains. */
static void roles_demote_race(void **state)
{
    (void)state;
    lk_store *st = open_store();
    for (int round = 0; round < RACE_ROUNDS; round++) {
        lk_user u[RACERS];
        lk_org o;
        for (int i = 0; i < RACERS; i++)
            new_user(st, &u[i]);
        new_org(st, u[0].id, T0, &o);
        for (int i = 1; i < RACERS; i++) {
            assert_int_equal(st->ops->member_add(st, o.id, u[i].id, T0 + i), LK_OK);
            assert_int_equal(st->ops->member_set_role(st, o.id, u[i].id, LK_ROLE_OWNER), LK_OK);
        }
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, RACERS);
        role_racer r[RACERS];
        pthread_t th[RACERS];
        for (int i = 0; i < RACERS; i++) {
            memset(&r[i], 0, sizeof r[i]);
            r[i].go = &go;
            memcpy(r[i].org_id, o.id, sizeof r[i].org_id);
            memcpy(r[i].user_id, u[i].id, sizeof r[i].user_id);
            assert_int_equal(pthread_create(&th[i], NULL, demote_thread, &r[i]), 0);
        }
        int ok = 0, refused = 0, owners = 0;
        for (int i = 0; i < RACERS; i++) {
            pthread_join(th[i], NULL);
            ok += r[i].rc == LK_OK;
            refused += r[i].rc == LK_ECONFLICT;
        }
        pthread_barrier_destroy(&go);
        assert_int_equal(ok, RACERS - 1);
        assert_int_equal(refused, 1);
        for (int i = 0; i < RACERS; i++) {
            lk_member m;
            assert_int_equal(st->ops->member_get(st, o.id, u[i].id, &m), LK_OK);
            owners += strcmp(m.role, LK_ROLE_OWNER) == 0;
        }
        assert_int_equal(owners, 1);
    }
    lk_store_close(st);
}
/* --- end roles and invitations --------------------------------------------------- */

/* A database migrated by a newer build (a schema version this binary does
 * not know) is refused at migrate, with a message that says so. */
static void sqlite_refuses_newer_schema(void **state)
{
    (void)state;
    char url[1024];
    fresh_sqlite_url(url, "newer");
    lk_store *st = open_url(url);
    lk_store_close(st);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(url + strlen("sqlite:"), &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "INSERT INTO schema_migrations(version) VALUES(999)", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    lk_err e;
    lk_err_clear(&e);
    assert_int_equal(lk_store_open(url, &st, &e), LK_OK);
    assert_int_equal(st->ops->migrate(st), LK_EINTERNAL);
    assert_non_null(strstr(lk_err_message(&st->err), "newer"));
    lk_store_close(st);
}

/* -- dump / load ---------------------------------------------------------------- */

typedef struct recs {
    size_t n, cap;
    lk_record *r;
} recs;

static int cb_record(void *ctx, const lk_record *r)
{
    recs *rs = ctx;
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 256;
        rs->r = realloc(rs->r, rs->cap * sizeof *rs->r);
        assert_non_null(rs->r);
    }
    rs->r[rs->n++] = *r;
    return 0;
}

static int cb_load(void *ctx, const lk_record *r)
{
    lk_store *dst = ctx;
    return dst->ops->load(dst, r);
}

/* Field-by-field (records are not memcmp-able: padding, unused bytes);
 * seq is a property of the store, not of the row, and is not compared. */
static void assert_record_equal(const lk_record *a, const lk_record *b)
{
    assert_int_equal(a->kind, b->kind);
    switch (a->kind) {
    case LK_REC_USER:
        assert_string_equal(a->as.u.user.id, b->as.u.user.id);
        assert_string_equal(a->as.u.user.email, b->as.u.user.email);
        assert_string_equal(a->as.u.user.name, b->as.u.user.name);
        assert_int_equal(a->as.u.user.created_at, b->as.u.user.created_at);
        assert_string_equal(a->as.u.email_lower, b->as.u.email_lower);
        assert_string_equal(a->as.u.pwhash, b->as.u.pwhash);
        break;
    case LK_REC_ORG:
        assert_string_equal(a->as.org.id, b->as.org.id);
        assert_string_equal(a->as.org.name, b->as.org.name);
        assert_int_equal(a->as.org.created_at, b->as.org.created_at);
        break;
    case LK_REC_MEMBER:
        assert_string_equal(a->as.member.org_id, b->as.member.org_id);
        assert_string_equal(a->as.member.user_id, b->as.member.user_id);
        assert_int_equal(a->as.member.joined_at, b->as.member.joined_at);
        break;
    case LK_REC_PROJECT:
        assert_string_equal(a->as.project.id, b->as.project.id);
        assert_string_equal(a->as.project.org_id, b->as.project.org_id);
        assert_string_equal(a->as.project.name, b->as.project.name);
        assert_int_equal(a->as.project.created_at, b->as.project.created_at);
        break;
    case LK_REC_ENV:
        assert_string_equal(a->as.env.id, b->as.env.id);
        assert_string_equal(a->as.env.project_id, b->as.env.project_id);
        assert_string_equal(a->as.env.name, b->as.env.name);
        assert_int_equal(a->as.env.created_at, b->as.env.created_at);
        break;
    case LK_REC_BILLING:
        assert_string_equal(a->as.billing.org_id, b->as.billing.org_id);
        assert_string_equal(a->as.billing.plan, b->as.billing.plan);
        assert_string_equal(a->as.billing.billing_email, b->as.billing.billing_email);
        assert_int_equal(a->as.billing.updated_at, b->as.billing.updated_at);
        break;
    case LK_REC_KEY:
        assert_key_equal(&a->as.k.key, &b->as.k.key);
        assert_memory_equal(a->as.k.hash, b->as.k.hash, LK_TOKEN_HASH_LEN);
        break;
    default:
        fail_msg("unknown record kind %d", (int)a->kind);
    }
}

static int kind_rank(lk_record_kind k)
{
    return (int)k; /* the enum is declared in FK order */
}

static void dump_load_roundtrip(void **state)
{
    (void)state;
    lk_store *src = open_store();
    /* make sure every kind is present, with details worth carrying */
    lk_user u, m;
    new_user(src, &u);
    new_user(src, &m);
    lk_org o;
    new_org(src, u.id, T0 + 3, &o);
    assert_int_equal(src->ops->member_add(src, o.id, m.id, T0 + 4), LK_OK);
    lk_billing b = {0};
    snprintf(b.org_id, sizeof b.org_id, "%s", o.id);
    snprintf(b.plan, sizeof b.plan, "enterprise");
    snprintf(b.billing_email, sizeof b.billing_email, "ap@example.test");
    b.updated_at = T0 + 9;
    assert_int_equal(src->ops->billing_set(src, &b), LK_OK);
    lk_project p;
    new_project(src, o.id, &p);
    lk_env v;
    new_env(src, p.id, &v);
    lk_key k1, k2;
    uint8_t h1[LK_TOKEN_HASH_LEN], h2[LK_TOKEN_HASH_LEN];
    new_key(src, o.id, u.id, T0 + 5000, &k1, h1);
    new_key(src, NULL, m.id, 0, &k2, h2);
    lk_key_touch t = {.at = T0 + 77};
    snprintf(t.id, sizeof t.id, "%s", k1.id);
    assert_int_equal(src->ops->key_touch(src, &t, 1), LK_OK);

    recs a = {0}, c = {0};
    assert_int_equal(src->ops->dump(src, cb_record, &a), LK_OK);
    assert_true(a.n >= 9);
    for (size_t i = 1; i < a.n; i++) /* FK-safe order */
        assert_true(kind_rank(a.r[i - 1].kind) <= kind_rank(a.r[i].kind));

    char url[1024];
    fresh_sqlite_url(url, "load");
    lk_store *dst = open_url(url);
    bool empty = false;
    assert_int_equal(dst->ops->is_empty(dst, &empty), LK_OK);
    assert_true(empty);
    assert_int_equal(dst->ops->begin(dst), LK_OK);
    assert_int_equal(src->ops->dump(src, cb_load, dst), LK_OK);
    assert_int_equal(dst->ops->commit(dst), LK_OK);
    assert_int_equal(dst->ops->is_empty(dst, &empty), LK_OK);
    assert_false(empty);

    assert_int_equal(dst->ops->dump(dst, cb_record, &c), LK_OK);
    assert_int_equal(c.n, a.n);
    for (size_t i = 0; i < a.n; i++)
        assert_record_equal(&a.r[i], &c.r[i]);

    /* tokens and passwords keep working in the copy */
    lk_key got;
    assert_int_equal(dst->ops->key_get_by_hash(dst, h1, &got), LK_OK);
    assert_int_equal(got.last_used_at, T0 + 77);
    k1.last_used_at = T0 + 77;
    assert_key_equal(&got, &k1);
    lk_billing bg;
    assert_int_equal(dst->ops->billing_get(dst, o.id, &bg), LK_OK);
    assert_string_equal(bg.plan, "enterprise");
    char lower[LK_EMAIL_SIZE], pw[LK_PWHASH_SIZE];
    email_lower_of(&m, lower);
    lk_user ug;
    assert_int_equal(dst->ops->user_get_by_email(dst, lower, &ug, pw), LK_OK);
    assert_string_equal(ug.id, m.id);
    assert_string_equal(pw, "$argon2id$v=19$fake");
    /* list order carried over: newest first in the copy too */
    collect *cl = collect_new();
    assert_int_equal(dst->ops->member_list(dst, o.id, &(lk_page){0, 10}, cb_member, cl), LK_OK);
    assert_int_equal(cl->n, 2);
    assert_string_equal(cl->ids[0], m.id);
    assert_string_equal(cl->ids[1], u.id);
    free(cl);

    free(a.r);
    free(c.r);
    lk_store_close(dst);
    lk_store_close(src);
}

static void load_billing_replaces_and_rollback(void **state)
{
    (void)state;
    char url[1024];
    fresh_sqlite_url(url, "load2");
    lk_store *st = open_url(url);
    bool empty = false;
    assert_int_equal(st->ops->is_empty(st, &empty), LK_OK);
    assert_true(empty);
    lk_user u;
    new_user(st, &u);
    lk_org o;
    new_org(st, u.id, T0, &o);
    lk_record r;
    memset(&r, 0, sizeof r);
    r.kind = LK_REC_BILLING;
    snprintf(r.as.billing.org_id, sizeof r.as.billing.org_id, "%s", o.id);
    snprintf(r.as.billing.plan, sizeof r.as.billing.plan, "pro");
    snprintf(r.as.billing.billing_email, sizeof r.as.billing.billing_email, "b@example.test");
    r.as.billing.updated_at = T0 + 1;
    assert_int_equal(st->ops->load(st, &r), LK_OK);
    lk_billing bg;
    assert_int_equal(st->ops->billing_get(st, o.id, &bg), LK_OK);
    assert_string_equal(bg.plan, "pro");
    assert_string_equal(bg.billing_email, "b@example.test");

    /* rollback discards every load since begin */
    memset(&r, 0, sizeof r);
    r.kind = LK_REC_USER;
    lk_id_new("usr_", r.as.u.user.id);
    snprintf(r.as.u.user.email, sizeof r.as.u.user.email, "Roll@Back.test");
    snprintf(r.as.u.email_lower, sizeof r.as.u.email_lower, "roll@back.test");
    snprintf(r.as.u.user.name, sizeof r.as.u.user.name, "R");
    snprintf(r.as.u.pwhash, sizeof r.as.u.pwhash, "h");
    assert_int_equal(st->ops->begin(st), LK_OK);
    assert_int_equal(st->ops->load(st, &r), LK_OK);
    /* an op that is itself a transaction works inside begin()..rollback() */
    lk_org o2;
    new_org(st, u.id, T0, &o2);
    assert_int_equal(st->ops->load(st, &r), LK_ECONFLICT); /* still inside the transaction */
    assert_int_equal(st->ops->rollback(st), LK_OK);
    lk_user ug;
    lk_org og;
    assert_int_equal(st->ops->user_get(st, r.as.u.user.id, &ug), LK_ENOT_FOUND);
    assert_int_equal(st->ops->org_get(st, o2.id, &og), LK_ENOT_FOUND);
    assert_int_equal(st->ops->user_get(st, u.id, &ug), LK_OK);
    lk_store_close(st);
}

static void is_empty_generic(void **state)
{
    (void)state;
    lk_store *st = open_store();
    lk_user u;
    new_user(st, &u);
    bool empty = true;
    assert_int_equal(st->ops->is_empty(st, &empty), LK_OK);
    assert_false(empty);
    lk_store_close(st);
}

/* -- SQLite specifics ------------------------------------------------------------ */

static sqlite3 *raw_open(const char *url)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(url + 7, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* The SQLite file's tables have exactly the columns of schema.c, in its
 * order (test_store_pg.c checks the same for PostgreSQL). */
static void sqlite_schema_is_the_description(void **state)
{
    (void)state;
    char url[1024];
    fresh_sqlite_url(url, "schema");
    lk_store_close(open_url(url));
    sqlite3 *db = raw_open(url);
    for (int t = 0; lk_schema_tables[t]; t++) {
        const lk_table *tb = lk_schema_tables[t];
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT name FROM pragma_table_info('%s') ORDER BY cid",
                 tb->name);
        sqlite3_stmt *q = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
        for (int c = 0; c < tb->ncols; c++) {
            if (tb->cols[c].ddl == NULL) continue; /* joined from another table */
            assert_int_equal(sqlite3_step(q), SQLITE_ROW);
            assert_string_equal((const char *)sqlite3_column_text(q, 0), tb->cols[c].name);
        }
        assert_int_equal(sqlite3_step(q), SQLITE_DONE);
        sqlite3_finalize(q);
    }
    sqlite3_close(db);
}

static void sqlite_fresh_concurrent_migrate(void **state)
{
    (void)state;
    char url[1024];
    /* the race on a brand-new file is short: run it on several files */
    for (int round = 0; round < 10; round++) {
        fresh_sqlite_url(url, "race");
        concurrent_migrate_on(url);
    }
    sqlite3 *db = raw_open(url);
    /* exactly one row per version: nobody applied a version twice */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_migrations"),
                     raw_int(db, "SELECT count(DISTINCT version) FROM schema_migrations"));
    assert_int_equal(raw_int(db, "SELECT min(version) FROM schema_migrations"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_migrations"),
                     raw_int(db, "SELECT max(version) FROM schema_migrations"));
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    /* the hot look-up uses the hash index, not a scan */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "EXPLAIN QUERY PLAN SELECT id FROM access_keys "
                                        "WHERE hash = x'00'",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    const char *plan = (const char *)sqlite3_column_text(q, 3);
    assert_non_null(strstr(plan, "USING INDEX"));
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void sqlite_open_errors(void **state)
{
    (void)state;
    lk_store *st = NULL;
    lk_err e;
    lk_err_clear(&e);
    char url[1024];
    snprintf(url, sizeof url, "sqlite:%s/no/such/dir/x.db", g_tmpdir);
    assert_int_equal(lk_store_open(url, &st, &e), LK_EUNAVAILABLE);
    assert_null(st);
    assert_true(e.message[0] != '\0');
    lk_err_clear(&e);
    assert_int_not_equal(lk_store_open("sqlite:", &st, &e), LK_OK);
    assert_null(st);
    lk_err_clear(&e);
    assert_int_not_equal(lk_store_open("mysql://x", &st, &e), LK_OK);
    assert_true(e.message[0] != '\0');
    assert_null(lk_store_backend("nope:", &e));
    assert_ptr_equal(lk_store_backend("sqlite:x.db", &e), &lk_store_sqlite_ops);
}

/* -- main --------------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int group_setup(void **state)
{
    (void)state;
    if (lk_token_init() != 0) return -1;
    snprintf(g_tmpdir, sizeof g_tmpdir, "%s/lk-test-store-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(g_tmpdir) == NULL) return -1;
    const char *env = getenv("LK_TEST_DATABASE_URL");
    if (env && env[0]) {
        snprintf(g_url, sizeof g_url, "%s", env);
    } else {
        snprintf(g_url, sizeof g_url, "sqlite:%s/store.db", g_tmpdir);
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (g_tmpdir[0]) nftw(g_tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(migrate_concurrent),
        cmocka_unit_test(migrate_twice_idempotent),
        cmocka_unit_test(user_roundtrip),
        cmocka_unit_test(user_email_conflict),
        cmocka_unit_test(session_roundtrip),
        cmocka_unit_test(org_roundtrip),
        cmocka_unit_test(member_ops),
        cmocka_unit_test(org_list_for_user_pages),
        cmocka_unit_test(project_env_scoped),
        cmocka_unit_test(billing_set_get),
        cmocka_unit_test(key_roundtrip),
        cmocka_unit_test(key_owner_lookup),
        cmocka_unit_test(key_lists_skip_expired),
        cmocka_unit_test(key_touch_max),
        cmocka_unit_test(pagination_stable),
        cmocka_unit_test(org_delete_cascades),
        cmocka_unit_test(survives_reopen),
        cmocka_unit_test(two_connections_see_each_other),
        cmocka_unit_test(concurrent_writers),
        cmocka_unit_test(same_constraints_both_backends),
        cmocka_unit_test(schema_text),
        cmocka_unit_test(member_remove_unless_last_rule),
        cmocka_unit_test(member_remove_last_race),
        cmocka_unit_test(roles_last_owner_rule),
        cmocka_unit_test(invitation_accept_once),
        cmocka_unit_test(roles_demote_race),
        cmocka_unit_test(sigkill_keeps_acknowledged_writes),
        cmocka_unit_test(is_empty_generic),
        cmocka_unit_test(dump_load_roundtrip),
        cmocka_unit_test(load_billing_replaces_and_rollback),
        cmocka_unit_test(sqlite_fresh_concurrent_migrate),
        cmocka_unit_test(sqlite_open_errors),
        cmocka_unit_test(sqlite_refuses_newer_schema),
        cmocka_unit_test(sqlite_schema_is_the_description),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
