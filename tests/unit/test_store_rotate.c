/*
 * test_store_rotate.c — the store's key-lifecycle ops (store.h, "rotate"):
 * key_rotate, the look-up by a current or live previous hash, key_revoke_token,
 * key_purge_previous and the leak-report counts, through st->ops only, so the same tests check
 * every backend: $LK_TEST_DATABASE_URL when set (tests/run.sh points it at a
 * fresh PostgreSQL database), else a fresh SQLite file.
 *
 * The grace period is judged by the database's clock, so the tests that
 * wait for one to end sleep a little over a second (grace 1 s).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store.h"
#include "test_db.h"
#include "token.h"

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define T0 INT64_C(1700000000)
#define GRACE_WAIT_US 2100000 /* a 1 s grace has surely ended (whole seconds) */

static char g_tmpdir[256];
static char g_url[1024];

static void new_user(lk_store *st, lk_user *u)
{
    char lower[LK_EMAIL_SIZE];
    memset(u, 0, sizeof *u);
    lk_id_new("usr_", u->id);
    snprintf(u->email, sizeof u->email, "rot.%s@example.test", u->id + 4);
    snprintf(lower, sizeof lower, "%s", u->email);
    for (char *c = lower; *c; c++)
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c + 32);
    snprintf(u->name, sizeof u->name, "Rotator");
    u->created_at = T0;
    assert_int_equal(st->ops->user_create(st, u, lower, "$argon2id$v=19$fake"), LK_OK);
}

/* A token and its hash. */
static void new_token(lk_token_kind kind, char tok[LK_TOKEN_SIZE], uint8_t h[LK_TOKEN_HASH_LEN])
{
    assert_int_equal(lk_token_generate(kind, tok), 0);
    lk_token_hash(tok, LK_TOKEN_LEN, h);
}

/* A personal key of a fresh user, with its token's hash. */
static void new_pkey(lk_store *st, lk_key *k, uint8_t h[LK_TOKEN_HASH_LEN])
{
    lk_user u;
    char tok[LK_TOKEN_SIZE];
    new_user(st, &u);
    memset(k, 0, sizeof *k);
    lk_id_new("key_", k->id);
    k->type = LK_KEY_PERSONAL;
    new_token(LK_TOKEN_PERSONAL, tok, h);
    lk_token_redact(tok, k->redacted);
    snprintf(k->user_id, sizeof k->user_id, "%s", u.id);
    snprintf(k->created_by, sizeof k->created_by, "%s", u.id);
    snprintf(k->name, sizeof k->name, "rotating");
    k->created_at = T0;
    assert_int_equal(st->ops->key_create(st, k, h), LK_OK);
}

static int found(lk_store *st, const uint8_t h[LK_TOKEN_HASH_LEN], const char *id)
{
    lk_key got;
    lk_user u;
    lk_org o;
    int rc = st->ops->key_get_by_hash(st, h, &got);
    int rc2 = st->ops->key_get_by_hash_owner(st, h, &got, &u, &o);
    assert_int_equal(rc, rc2); /* both look-ups agree */
    if (rc == LK_OK) assert_string_equal(got.id, id);
    return rc == LK_OK;
}

static void rotate_keeps_previous_for_grace(void **state)
{
    (void)state;
    lk_store *st = test_open_store(g_url);
    lk_key k, out;
    uint8_t h0[LK_TOKEN_HASH_LEN], h1[LK_TOKEN_HASH_LEN];
    char tok[LK_TOKEN_SIZE], red[LK_TOKEN_REDACTED_SIZE];
    new_pkey(st, &k, h0);
    new_token(LK_TOKEN_PERSONAL, tok, h1);
    lk_token_redact(tok, red);
    int64_t before = (int64_t)time(NULL);
    assert_int_equal(st->ops->key_rotate(st, k.id, h1, red, 3600, &out), LK_OK);
    assert_string_equal(out.id, k.id);
    assert_string_equal(out.name, k.name);
    assert_string_equal(out.redacted, red);
    assert_true(out.prev_expires_at >= before + 3600 - 2 && out.prev_expires_at <= before + 3602);
    assert_true(found(st, h0, k.id));
    assert_true(found(st, h1, k.id));
    /* rotating again ends the earlier previous hash at once */
    uint8_t h2[LK_TOKEN_HASH_LEN];
    new_token(LK_TOKEN_PERSONAL, tok, h2);
    lk_token_redact(tok, red);
    assert_int_equal(st->ops->key_rotate(st, k.id, h2, red, 60, &out), LK_OK);
    assert_false(found(st, h0, k.id));
    assert_true(found(st, h1, k.id));
    assert_true(found(st, h2, k.id));
    /* grace 0: no previous at all */
    uint8_t h3[LK_TOKEN_HASH_LEN];
    new_token(LK_TOKEN_PERSONAL, tok, h3);
    lk_token_redact(tok, red);
    assert_int_equal(st->ops->key_rotate(st, k.id, h3, red, 0, &out), LK_OK);
    assert_int_equal(out.prev_expires_at, 0);
    assert_false(found(st, h1, k.id));
    assert_false(found(st, h2, k.id));
    assert_true(found(st, h3, k.id));
    /* unknown id */
    lk_key none;
    char id[LK_ID_SIZE];
    lk_id_new("key_", id);
    assert_int_equal(st->ops->key_rotate(st, id, h0, red, 60, &none), LK_ENOT_FOUND);
    lk_store_close(st);
}

static void grace_ends_and_purge_clears(void **state)
{
    (void)state;
    lk_store *st = test_open_store(g_url);
    lk_key k, out;
    uint8_t h0[LK_TOKEN_HASH_LEN], h1[LK_TOKEN_HASH_LEN];
    char tok[LK_TOKEN_SIZE], red[LK_TOKEN_REDACTED_SIZE];
    new_pkey(st, &k, h0);
    new_token(LK_TOKEN_PERSONAL, tok, h1);
    lk_token_redact(tok, red);
    assert_int_equal(st->ops->key_rotate(st, k.id, h1, red, 1, &out), LK_OK);
    usleep(GRACE_WAIT_US);
    assert_false(found(st, h0, k.id));
    assert_true(found(st, h1, k.id));
    int64_t n = 0;
    assert_int_equal(st->ops->key_purge_previous(st, &n), LK_OK);
    assert_true(n >= 1);
    assert_int_equal(st->ops->key_get(st, k.id, &out), LK_OK);
    assert_int_equal(out.prev_expires_at, 0);
    /* a live previous hash is not purged */
    uint8_t h2[LK_TOKEN_HASH_LEN];
    new_token(LK_TOKEN_PERSONAL, tok, h2);
    lk_token_redact(tok, red);
    assert_int_equal(st->ops->key_rotate(st, k.id, h2, red, 3600, &out), LK_OK);
    assert_int_equal(st->ops->key_purge_previous(st, NULL), LK_OK);
    assert_true(found(st, h1, k.id));
    lk_store_close(st);
}

static void revoke_current_previous_and_nothing(void **state)
{
    (void)state;
    lk_store *st = test_open_store(g_url);
    lk_key k, out, got;
    bool prev = true;
    uint8_t h0[LK_TOKEN_HASH_LEN], h1[LK_TOKEN_HASH_LEN], hx[LK_TOKEN_HASH_LEN];
    char tok[LK_TOKEN_SIZE], red[LK_TOKEN_REDACTED_SIZE];
    new_pkey(st, &k, h0);
    new_token(LK_TOKEN_PERSONAL, tok, h1);
    lk_token_redact(tok, red);
    assert_int_equal(st->ops->key_rotate(st, k.id, h1, red, 3600, &out), LK_OK);
    /* the previous token: ended, the key stays with its current token */
    assert_int_equal(st->ops->key_revoke_token(st, h0, &got, &prev), LK_OK);
    assert_true(prev);
    assert_string_equal(got.id, k.id);
    assert_false(found(st, h0, k.id));
    assert_true(found(st, h1, k.id));
    assert_int_equal(st->ops->key_revoke_token(st, h0, &got, &prev), LK_ENOT_FOUND);
    /* the current token: the key is gone */
    assert_int_equal(st->ops->key_revoke_token(st, h1, &got, &prev), LK_OK);
    assert_false(prev);
    assert_string_equal(got.id, k.id);
    assert_int_equal(st->ops->key_get(st, k.id, &got), LK_ENOT_FOUND);
    /* a hash nobody has */
    new_token(LK_TOKEN_ORG, tok, hx);
    assert_int_equal(st->ops->key_revoke_token(st, hx, &got, &prev), LK_ENOT_FOUND);
    /* inside a caller's transaction too (the report runs them all in one) */
    new_pkey(st, &k, h0);
    assert_int_equal(st->ops->begin(st), LK_OK);
    assert_int_equal(st->ops->key_revoke_token(st, hx, &got, &prev), LK_ENOT_FOUND);
    assert_int_equal(st->ops->key_revoke_token(st, h0, &got, &prev), LK_OK);
    assert_int_equal(st->ops->commit(st), LK_OK);
    assert_false(found(st, h0, k.id));
    lk_store_close(st);
}

/* --- leak reports --- every report counts on its UTC day; a rolled-back
 * report leaves no count. */
static void leak_report_counts_per_day(void **state)
{
    (void)state;
    lk_store *st = test_open_store(g_url);
    lk_leak_day d;
    const int64_t day = T0 / LK_LEAK_DAY_SECS;
    assert_int_equal(st->ops->leak_report_get(st, day, &d), LK_ENOT_FOUND);
    assert_int_equal(st->ops->begin(st), LK_OK);
    assert_int_equal(st->ops->leak_report_count(st, T0, 100, 0), LK_OK);
    assert_int_equal(st->ops->commit(st), LK_OK);
    assert_int_equal(st->ops->leak_report_count(st, T0 + 60, 3, 2), LK_OK);
    assert_int_equal(st->ops->begin(st), LK_OK);
    assert_int_equal(st->ops->leak_report_count(st, T0 + 120, 50, 50), LK_OK);
    assert_int_equal(st->ops->rollback(st), LK_OK);
    assert_int_equal(st->ops->leak_report_get(st, day, &d), LK_OK);
    assert_int_equal(d.day, day);
    assert_int_equal(d.reports, 2);
    assert_int_equal(d.entries, 103);
    assert_int_equal(d.revoked, 2);
    /* the next day has a row of its own */
    assert_int_equal(st->ops->leak_report_count(st, T0 + LK_LEAK_DAY_SECS, 1, 1), LK_OK);
    assert_int_equal(st->ops->leak_report_get(st, day + 1, &d), LK_OK);
    assert_int_equal(d.reports, 1);
    assert_int_equal(st->ops->leak_report_get(st, day, &d), LK_OK);
    assert_int_equal(d.reports, 2);
    lk_store_close(st);
}

static void delete_ends_both(void **state)
{
    (void)state;
    lk_store *st = test_open_store(g_url);
    lk_key k, out;
    uint8_t h0[LK_TOKEN_HASH_LEN], h1[LK_TOKEN_HASH_LEN];
    char tok[LK_TOKEN_SIZE], red[LK_TOKEN_REDACTED_SIZE];
    new_pkey(st, &k, h0);
    new_token(LK_TOKEN_PERSONAL, tok, h1);
    lk_token_redact(tok, red);
    assert_int_equal(st->ops->key_rotate(st, k.id, h1, red, 3600, &out), LK_OK);
    assert_int_equal(st->ops->key_delete(st, k.id), LK_OK);
    assert_false(found(st, h0, k.id));
    assert_false(found(st, h1, k.id));
    lk_store_close(st);
}

/* dump/load (migrate-data): the previous hash and its end travel with the
 * key, so a previous token in its grace period works in the copy too. */
typedef struct copy_ctx {
    lk_store *dst;
    int failed;
} copy_ctx;

static int copy_record(void *ctx, const lk_record *r)
{
    copy_ctx *c = ctx;
    if (c->dst->ops->load(c->dst, r) != LK_OK) c->failed++;
    return 0;
}

static void dump_load_keeps_previous(void **state)
{
    (void)state;
    lk_store *src = test_open_store(g_url);
    lk_key k, out;
    uint8_t h0[LK_TOKEN_HASH_LEN], h1[LK_TOKEN_HASH_LEN];
    char tok[LK_TOKEN_SIZE], red[LK_TOKEN_REDACTED_SIZE];
    new_pkey(src, &k, h0);
    new_token(LK_TOKEN_PERSONAL, tok, h1);
    lk_token_redact(tok, red);
    assert_int_equal(src->ops->key_rotate(src, k.id, h1, red, 3600, &out), LK_OK);
    char saved[1024], path[700];
    snprintf(saved, sizeof saved, "%s", g_url);
    snprintf(path, sizeof path, "sqlite:%s/copy-%s.db", g_tmpdir, k.id);
    snprintf(g_url, sizeof g_url, "%s", path);
    lk_store *dst = test_open_store(g_url);
    snprintf(g_url, sizeof g_url, "%s", saved);
    copy_ctx c = {dst, 0};
    assert_int_equal(dst->ops->begin(dst), LK_OK);
    assert_int_equal(src->ops->dump(src, copy_record, &c), LK_OK);
    assert_int_equal(c.failed, 0);
    assert_int_equal(dst->ops->commit(dst), LK_OK);
    assert_true(found(dst, h0, k.id));
    assert_true(found(dst, h1, k.id));
    assert_int_equal(dst->ops->key_get(dst, k.id, &out), LK_OK);
    assert_true(out.prev_expires_at > 0);
    lk_store_close(dst);
    lk_store_close(src);
}

/* SQLite, a file at version 2 (what a build before rotation wrote): version
 * 3 adds the columns and indexes, and the keys already there keep working. */
static void sqlite_v2_file_gains_previous_columns(void **state)
{
    (void)state;
    char path[600], url[700];
    snprintf(path, sizeof path, "%s/v2.db", g_tmpdir);
    snprintf(url, sizeof url, "sqlite:%s", path);
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", g_url);
    snprintf(g_url, sizeof g_url, "%s", url);
    lk_store *st = test_open_store(g_url);
    lk_key k, out;
    uint8_t h0[LK_TOKEN_HASH_LEN];
    new_pkey(st, &k, h0);
    lk_store_close(st);
    /* back to before version 6: no previous-token columns, indexes or version 6 */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP INDEX access_keys_prev_hash;"
                                  "DROP INDEX access_keys_prev_expiry;"
                                  "ALTER TABLE access_keys DROP COLUMN prev_hash;"
                                  "ALTER TABLE access_keys DROP COLUMN prev_expires_at;"
                                  "DELETE FROM schema_migrations WHERE version = 6;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    st = test_open_store(g_url); /* migrates to 6 */
    assert_true(found(st, h0, k.id));
    char tok[LK_TOKEN_SIZE], red[LK_TOKEN_REDACTED_SIZE];
    uint8_t h1[LK_TOKEN_HASH_LEN];
    new_token(LK_TOKEN_PERSONAL, tok, h1);
    lk_token_redact(tok, red);
    assert_int_equal(st->ops->key_rotate(st, k.id, h1, red, 3600, &out), LK_OK);
    assert_true(found(st, h0, k.id));
    assert_true(found(st, h1, k.id));
    lk_store_close(st);
    snprintf(g_url, sizeof g_url, "%s", saved);
}

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
    snprintf(g_tmpdir, sizeof g_tmpdir, "%s/lk-test-rotate-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(g_tmpdir) == NULL) return -1;
    const char *env = getenv("LK_TEST_DATABASE_URL");
    if (env && env[0])
        snprintf(g_url, sizeof g_url, "%s", env);
    else
        snprintf(g_url, sizeof g_url, "sqlite:%s/store.db", g_tmpdir);
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
        cmocka_unit_test(rotate_keeps_previous_for_grace),
        cmocka_unit_test(grace_ends_and_purge_clears),
        cmocka_unit_test(revoke_current_previous_and_nothing),
        cmocka_unit_test(delete_ends_both),
        cmocka_unit_test(leak_report_counts_per_day),
        cmocka_unit_test(dump_load_keeps_previous),
        cmocka_unit_test(sqlite_v2_file_gains_previous_columns),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
