/*
 * test_usage.c — the per-thread last-used buffer (usage.h) against a real
 * SQLite store in a temporary directory: nothing is written until a flush,
 * a flush writes the latest use of every key, the store keeps the max, a
 * full table flushes early, deleted keys are skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store.h"
#include "token.h"
#include "cidr.h"
#include "usage.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fx {
    char dir[64];
    char path[128];
    lk_store *st;
    lk_user user;
} fx;

static void rm_db(fx *f)
{
    static const char *sfx[] = {"", "-wal", "-shm", "-journal"};
    char p[160];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, sfx[i]);
        unlink(p);
    }
    rmdir(f->dir);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/lk-usage-XXXXXX");
    if (mkdtemp(f->dir) == NULL) return -1;
    snprintf(f->path, sizeof(f->path), "%s/lk.db", f->dir);
    char url[160];
    snprintf(url, sizeof(url), "sqlite:%s", f->path);
    lk_err e;
    lk_err_clear(&e);
    if (lk_store_open(url, &f->st, &e) != LK_OK) return -1;
    if (f->st->ops->migrate(f->st) != LK_OK) return -1;
    lk_id_new("usr_", f->user.id);
    snprintf(f->user.email, sizeof(f->user.email), "u@example.com");
    snprintf(f->user.name, sizeof(f->user.name), "U");
    f->user.created_at = 1000;
    if (f->st->ops->user_create(f->st, &f->user, "u@example.com", "x") != LK_OK) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    lk_store_close(f->st);
    rm_db(f);
    free(f);
    return 0;
}

static void make_key(fx *f, lk_key *k)
{
    char tok[LK_TOKEN_SIZE];
    uint8_t h[LK_TOKEN_HASH_LEN];
    memset(k, 0, sizeof(*k));
    lk_id_new("key_", k->id);
    k->type = LK_KEY_PERSONAL;
    memcpy(k->user_id, f->user.id, LK_ID_SIZE);
    memcpy(k->created_by, f->user.id, LK_ID_SIZE);
    snprintf(k->name, sizeof(k->name), "k");
    assert_int_equal(lk_token_generate(LK_TOKEN_PERSONAL, tok), 0);
    lk_token_hash(tok, LK_TOKEN_LEN, h);
    lk_token_redact(tok, k->redacted);
    k->created_at = 1000;
    assert_int_equal(f->st->ops->key_create(f->st, k, h), LK_OK);
}

static int64_t last_used(fx *f, const char *id)
{
    lk_key k;
    assert_int_equal(f->st->ops->key_get(f->st, id, &k), LK_OK);
    return k.last_used_at;
}

static void flush_writes_latest(void **state)
{
    fx *f = *state;
    lk_key a, b;
    make_key(f, &a);
    make_key(f, &b);
    lk_usage *u = lk_usage_new(16);
    assert_non_null(u);
    lk_usage_note(u, f->st, a.id, 2000);
    lk_usage_note(u, f->st, a.id, 2500);
    lk_usage_note(u, f->st, a.id, 2100); /* older than the one noted: ignored */
    lk_usage_note(u, f->st, b.id, 3000);
    /* nothing is written before the flush */
    assert_int_equal(last_used(f, a.id), 0);
    assert_int_equal(last_used(f, b.id), 0);
    assert_int_equal(lk_usage_flush(u, f->st), LK_OK);
    assert_int_equal(last_used(f, a.id), 2500);
    assert_int_equal(last_used(f, b.id), 3000);
    /* an empty flush is fine */
    assert_int_equal(lk_usage_flush(u, f->st), LK_OK);
    lk_usage_free(u);
}

/* --- scopes: last_used_ip travels with last_used_at in the same batch. */
static void flush_writes_last_used_ip(void **state)
{
    fx *f = *state;
    lk_key a, b, got;
    lk_addr v4, v6;
    make_key(f, &a);
    make_key(f, &b);
    assert_int_equal(lk_addr_parse("203.0.113.7", 11, &v4, "ip", NULL), LK_OK);
    assert_int_equal(lk_addr_parse("2001:DB8::1", 11, &v6, "ip", NULL), LK_OK);
    lk_usage *u = lk_usage_new(16);
    assert_non_null(u);
    lk_usage_note(u, f->st, a.id, 2000);
    lk_usage_note_ip(u, a.id, &v4);
    lk_usage_note(u, f->st, a.id, 2500);
    lk_usage_note_ip(u, a.id, &v6); /* the newest use's address wins, canonical */
    lk_usage_note(u, f->st, b.id, 3000); /* no address noted */
    lk_usage_note_ip(u, "key_notnoted", &v4); /* not in the table: ignored */
    assert_int_equal(lk_usage_flush(u, f->st), LK_OK);
    assert_int_equal(f->st->ops->key_get(f->st, a.id, &got), LK_OK);
    assert_string_equal(got.last_used_ip, "2001:db8::1");
    assert_int_equal(f->st->ops->key_get(f->st, b.id, &got), LK_OK);
    assert_string_equal(got.last_used_ip, "");
    /* a later use without an address keeps the one stored */
    lk_usage_note(u, f->st, a.id, 2600);
    assert_int_equal(lk_usage_flush(u, f->st), LK_OK);
    assert_int_equal(f->st->ops->key_get(f->st, a.id, &got), LK_OK);
    assert_int_equal(got.last_used_at, 2600);
    assert_string_equal(got.last_used_ip, "2001:db8::1");
    /* the same address twice, then another: the newest is written */
    lk_usage_note(u, f->st, a.id, 2700);
    lk_usage_note_ip(u, a.id, &v4);
    lk_usage_note_ip(u, a.id, &v4);
    assert_int_equal(lk_usage_flush(u, f->st), LK_OK);
    assert_int_equal(f->st->ops->key_get(f->st, a.id, &got), LK_OK);
    assert_string_equal(got.last_used_ip, "203.0.113.7");
    lk_usage_free(u);
}

static void store_keeps_max(void **state)
{
    fx *f = *state;
    lk_key a;
    make_key(f, &a);
    lk_usage *u = lk_usage_new(16);
    lk_usage_note(u, f->st, a.id, 5000);
    assert_int_equal(lk_usage_flush(u, f->st), LK_OK);
    /* another thread's buffer flushes an older observation later */
    lk_usage_note(u, f->st, a.id, 4000);
    assert_int_equal(lk_usage_flush(u, f->st), LK_OK);
    assert_int_equal(last_used(f, a.id), 5000);
    lk_usage_note(u, f->st, a.id, 6000);
    assert_int_equal(lk_usage_flush(u, f->st), LK_OK);
    assert_int_equal(last_used(f, a.id), 6000);
    lk_usage_free(u);
}

static void full_table_flushes_early(void **state)
{
    fx *f = *state;
    lk_key k[5];
    for (int i = 0; i < 5; i++) make_key(f, &k[i]);
    lk_usage *u = lk_usage_new(2);
    lk_usage_note(u, f->st, k[0].id, 100);
    lk_usage_note(u, f->st, k[1].id, 101);
    assert_int_equal(last_used(f, k[0].id), 0);
    lk_usage_note(u, f->st, k[1].id, 150); /* already in: no flush */
    assert_int_equal(last_used(f, k[1].id), 0);
    lk_usage_note(u, f->st, k[2].id, 102); /* full: the first two are written */
    assert_int_equal(last_used(f, k[0].id), 100);
    assert_int_equal(last_used(f, k[1].id), 150);
    assert_int_equal(last_used(f, k[2].id), 0);
    lk_usage_note(u, f->st, k[3].id, 103);
    lk_usage_note(u, f->st, k[4].id, 104);
    assert_int_equal(last_used(f, k[2].id), 102);
    assert_int_equal(last_used(f, k[3].id), 103);
    assert_int_equal(lk_usage_flush(u, f->st), LK_OK);
    assert_int_equal(last_used(f, k[4].id), 104);
    lk_usage_free(u);
}

static void deleted_keys_are_skipped(void **state)
{
    fx *f = *state;
    lk_key a, b;
    make_key(f, &a);
    make_key(f, &b);
    lk_usage *u = lk_usage_new(8);
    lk_usage_note(u, f->st, a.id, 700);
    lk_usage_note(u, f->st, b.id, 800);
    assert_int_equal(f->st->ops->key_delete(f->st, a.id), LK_OK);
    assert_int_equal(lk_usage_flush(u, f->st), LK_OK);
    assert_int_equal(last_used(f, b.id), 800);
    lk_key gone;
    assert_int_equal(f->st->ops->key_get(f->st, a.id, &gone), LK_ENOT_FOUND);
    lk_usage_free(u);
}

static void many_keys_hash_index(void **state)
{
    /* 300 keys through a 64-slot buffer: every key ends with its own time. */
    fx *f = *state;
    enum { N = 300 };
    lk_key *k = calloc(N, sizeof(*k));
    for (int i = 0; i < N; i++) make_key(f, &k[i]);
    lk_usage *u = lk_usage_new(64);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < N; i++) lk_usage_note(u, f->st, k[i].id, 10000 + i * 10 + round);
    assert_int_equal(lk_usage_flush(u, f->st), LK_OK);
    for (int i = 0; i < N; i++) assert_int_equal(last_used(f, k[i].id), 10000 + i * 10 + 2);
    lk_usage_free(u);
    free(k);
}

/* --- account: sessions' last_seen_at rides in the same buffer --- */

static void make_session(fx *f, lk_session *s, uint8_t h[LK_TOKEN_HASH_LEN])
{
    memset(s, 0, sizeof(*s));
    memcpy(s->user_id, f->user.id, LK_ID_SIZE);
    lk_id_new("ses_", s->id);
    snprintf(s->csrf, sizeof(s->csrf), "c");
    s->created_at = s->last_seen_at = 1000;
    s->expires_at = 9000000000;
    randombytes_buf(h, LK_TOKEN_HASH_LEN);
    assert_int_equal(f->st->ops->session_create_capped(f->st, h, s, 50, 1000), LK_OK);
}

static void sessions_and_keys_in_one_buffer(void **state)
{
    fx *f = *state;
    lk_key a, b;
    lk_session s1, s2, got;
    uint8_t h1[LK_TOKEN_HASH_LEN], h2[LK_TOKEN_HASH_LEN];
    make_key(f, &a);
    make_session(f, &s1, h1);
    make_key(f, &b);
    make_session(f, &s2, h2);
    lk_usage *u = lk_usage_new(16);
    lk_usage_note(u, f->st, s1.id, 2000);
    lk_usage_note(u, f->st, a.id, 2100);
    lk_usage_note(u, f->st, s2.id, 2200);
    lk_usage_note(u, f->st, b.id, 2300);
    lk_usage_note(u, f->st, s1.id, 2400); /* the index still finds s1 */
    assert_int_equal(lk_usage_flush(u, f->st), LK_OK);
    assert_int_equal(last_used(f, a.id), 2100);
    assert_int_equal(last_used(f, b.id), 2300);
    assert_int_equal(f->st->ops->session_get(f->st, h1, &got), LK_OK);
    assert_int_equal(got.last_seen_at, 2400);
    assert_int_equal(f->st->ops->session_get(f->st, h2, &got), LK_OK);
    assert_int_equal(got.last_seen_at, 2200);
    /* after a flush the buffer is empty and usable again */
    lk_usage_note(u, f->st, s2.id, 1500); /* older: the store keeps the max */
    assert_int_equal(lk_usage_flush(u, f->st), LK_OK);
    assert_int_equal(f->st->ops->session_get(f->st, h2, &got), LK_OK);
    assert_int_equal(got.last_seen_at, 2200);
    lk_usage_free(u);
}

int main(void)
{
    if (lk_token_init() != 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(flush_writes_latest, setup, teardown),
        cmocka_unit_test_setup_teardown(store_keeps_max, setup, teardown),
        cmocka_unit_test_setup_teardown(flush_writes_last_used_ip, setup, teardown),
        cmocka_unit_test_setup_teardown(full_table_flushes_early, setup, teardown),
        cmocka_unit_test_setup_teardown(deleted_keys_are_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(many_keys_hash_index, setup, teardown),
        cmocka_unit_test_setup_teardown(sessions_and_keys_in_one_buffer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
