/*
 * seed.c — fill a latchkey database with many users, organizations and
 * access keys, fast, through the store interface (store.h) — no row is
 * written with SQL of its own, so what it writes is exactly what latchkeyd
 * reads. (The one statement it issues itself is a PRAGMA that gives its own
 * SQLite connection a bigger page cache; see seed_sqlite_conn.)
 *
 *   seed --database URL [--orgs N] [--keys K] [--projects P] [--sample S]
 *        [--batch B] [--cache-mib M] --out PREFIX
 *
 * Shape of the data (defaults: 10,000 orgs, 1,000,000 keys, 10 projects):
 *  - org i (0 <= i < N) has one member, user i, who owns it;
 *  - user i has one personal key; org i has K/N - 1 organization keys (the
 *    remainder of K/N goes to the first orgs), so the total is exactly K;
 *  - org 0 has P projects (for GET /v1/organizations/{org}/projects);
 *  - user 0 / org 0 are "the bench principal" the harness drives.
 *
 * How it is fast: one store connection; users, orgs, memberships, billing
 * rows and projects are written as lk_records with ops->load, keys with
 * ops->key_create (the same call the service uses), all inside explicit
 * transactions of B rows (ops->begin / ops->commit, default 50,000), so the
 * durability cost is one commit per batch, not per row; keys go in hash
 * order within a batch (flush_keys). Every user gets the same password
 * hash (computed once; argon2id per user would take minutes). libsodium is
 * switched to its user-space ChaCha20 generator (seeded from the kernel)
 * before sodium_init, so the ~56 random base62 digits per key (token + id)
 * are not one getrandom(2) system call each.
 *
 * Output (the tokens are secrets of a throw-away database; files are 0600):
 *  - PREFIX.env: shell assignments the harness sources — LK_ORG, LK_USER,
 *    LK_PERSONAL (user 0's personal key), LK_ORGKEY (an org key of org 0),
 *    LK_INVALID (well-formed, correct checksum, never stored), LK_PASSWORD,
 *    LK_EMAIL and the counts and seeding time;
 *  - PREFIX.tokens: S sample tokens, one per line, alternating the personal
 *    key of an org's user and one org key of that org, from orgs spread
 *    evenly over the whole range (for workloads that should not hit one key).
 * stdout ends with "RESULT <seconds> <users> <orgs> <keys>".
 *
 * Tokens live in one stack buffer that is wiped after each key; the sample
 * ones only ever go to PREFIX.tokens / PREFIX.env.
 */
#include "id.h"
#include "store.h"
#include "token.h"

#include <sodium.h>
#include <sodium/randombytes_internal_random.h>
#include <sqlite3.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define SEED_PASSWORD "bench-password-1"

typedef struct seed_opts {
    const char *database;
    const char *out;
    long orgs;
    long keys;
    long projects;
    long sample;
    long batch;
} seed_opts;

/* Transaction state: a commit every opts->batch writes. */
typedef struct seed_tx {
    lk_store *st;
    long batch;
    long in_tx; /* writes in the open transaction; -1 = none open */
} seed_tx;

/* SQLite page cache of this process's connections, in KiB (--cache-mib). */
static long seed_cache_kib = 256 * 1024;

/* Runs for every SQLite connection this process opens (registered with
 * sqlite3_auto_extension before the store opens its connection): a page
 * cache big enough for the random-order indexes of a million keys (the
 * default 2 MiB makes SQLite spill and re-read pages through the kernel all
 * the time). Durability settings are left alone: the rows still go through
 * the store, in WAL with synchronous=FULL. */
static int seed_sqlite_conn(sqlite3 *db, char **errmsg, const struct sqlite3_api_routines *api)
{
    (void)errmsg;
    (void)api;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%ld", seed_cache_kib);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    return SQLITE_OK;
}

static double now_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(lk_store *st, const char *what, int rc)
{
    fprintf(stderr, "seed: %s failed: %s (%s)\n", what, lk_err_name(rc),
            st ? lk_err_message(&st->err) : "");
    return rc;
}

/* Call before each write: commits the open transaction once it holds
 * tx->batch writes, and opens one if none is open. */
static int tx_step(seed_tx *tx)
{
    int rc;
    if (tx->in_tx >= tx->batch) {
        if ((rc = tx->st->ops->commit(tx->st)) != LK_OK) return fail(tx->st, "commit", rc);
        tx->in_tx = -1;
    }
    if (tx->in_tx < 0) {
        if ((rc = tx->st->ops->begin(tx->st)) != LK_OK) return fail(tx->st, "begin", rc);
        tx->in_tx = 0;
    }
    tx->in_tx++;
    return LK_OK;
}

static int tx_finish(seed_tx *tx)
{
    int rc = LK_OK;
    if (tx->in_tx >= 0 && (rc = tx->st->ops->commit(tx->st)) != LK_OK) fail(tx->st, "commit", rc);
    tx->in_tx = -1;
    return rc;
}

static int load(seed_tx *tx, const lk_record *r, const char *what)
{
    int rc = tx_step(tx);
    if (rc != LK_OK) return rc;
    if ((rc = tx->st->ops->load(tx->st, r)) != LK_OK) return fail(tx->st, what, rc);
    return LK_OK;
}

/* Keys wait here until a batch is full, then go to the store sorted by
 * hash: the UNIQUE index on the hash is the biggest random-order index, and
 * inserting a batch in its order touches each of its pages once per batch
 * instead of once per key (with SQLite's small default page cache that is
 * the difference between sweeping the index and thrashing it). */
typedef struct seed_pending {
    uint8_t hash[LK_TOKEN_HASH_LEN];
    lk_key k;
} seed_pending;

typedef struct seed_keys {
    seed_pending *v;
    long n, cap;
} seed_keys;

static int by_hash(const void *a, const void *b)
{
    return memcmp(((const seed_pending *)a)->hash, ((const seed_pending *)b)->hash,
                  LK_TOKEN_HASH_LEN);
}

static int flush_keys(seed_tx *tx, seed_keys *ks)
{
    qsort(ks->v, (size_t)ks->n, sizeof *ks->v, by_hash);
    for (long i = 0; i < ks->n; i++) {
        int rc = tx_step(tx);
        if (rc != LK_OK) return rc;
        if ((rc = tx->st->ops->key_create(tx->st, &ks->v[i].k, ks->v[i].hash)) != LK_OK)
            return fail(tx->st, "key_create", rc);
    }
    ks->n = 0;
    return LK_OK;
}

/* Make one key of `kind` for org/user and queue it (flushing a full
 * queue); if tok_out is non-NULL the token is copied there (the caller
 * wipes it), else it is wiped here. */
static int make_key(seed_tx *tx, seed_keys *ks, lk_token_kind kind, const char *org_id,
                    const char *user_id, long n, int64_t now, char *tok_out)
{
    char tok[LK_TOKEN_SIZE];
    int rc;
    if (ks->n == ks->cap && (rc = flush_keys(tx, ks)) != LK_OK) return rc;
    seed_pending *p = &ks->v[ks->n++];
    lk_key *k = &p->k;
    memset(p, 0, sizeof *p);
    if ((rc = lk_token_generate(kind, tok)) != LK_OK) return fail(NULL, "token", rc);
    lk_token_hash(tok, LK_TOKEN_LEN, p->hash);
    lk_token_redact(tok, k->redacted);
    lk_id_new("key_", k->id);
    k->type = kind == LK_TOKEN_ORG ? LK_KEY_ORG : LK_KEY_PERSONAL;
    if (kind == LK_TOKEN_ORG) snprintf(k->org_id, sizeof k->org_id, "%s", org_id);
    else snprintf(k->user_id, sizeof k->user_id, "%s", user_id);
    snprintf(k->created_by, sizeof k->created_by, "%s", user_id);
    k->scopes = LK_SCOPE_ALL; /* a v1-style key: every scope, anywhere */
    snprintf(k->name, sizeof k->name, "seed key %ld", n);
    k->created_at = now;
    if (tok_out) memcpy(tok_out, tok, LK_TOKEN_SIZE);
    sodium_memzero(tok, sizeof tok);
    return LK_OK;
}

static FILE *open_secret(const char *prefix, const char *suffix)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s", prefix, suffix);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) fprintf(stderr, "seed: %s: %s\n", path, strerror(errno));
    return f;
}

static long arg_long(const char *s, long lo, long hi, const char *name)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "seed: %s must be %ld..%ld\n", name, lo, hi);
        exit(2);
    }
    return v;
}

static void usage(void)
{
    fprintf(stderr, "usage: seed --database URL --out PREFIX [--orgs N] [--keys K] "
                    "[--projects P] [--sample S] [--batch B] [--cache-mib M]\n");
    exit(2);
}

static void parse_args(int argc, char **argv, seed_opts *o)
{
    *o = (seed_opts){.orgs = 10000, .keys = 1000000, .projects = 10, .sample = 1000,
                     .batch = 50000};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        if (strcmp(a, "--database") == 0) o->database = v;
        else if (strcmp(a, "--out") == 0) o->out = v;
        else if (strcmp(a, "--orgs") == 0) o->orgs = arg_long(v, 1, 10000000, a);
        else if (strcmp(a, "--keys") == 0) o->keys = arg_long(v, 1, 100000000, a);
        else if (strcmp(a, "--projects") == 0) o->projects = arg_long(v, 0, 100000, a);
        else if (strcmp(a, "--sample") == 0) o->sample = arg_long(v, 0, 1000000, a);
        else if (strcmp(a, "--batch") == 0) o->batch = arg_long(v, 1, 10000000, a);
        else if (strcmp(a, "--cache-mib") == 0) seed_cache_kib = arg_long(v, 0, 65536, a) * 1024;
        else usage();
    }
    if (o->database == NULL || o->out == NULL) usage();
    if (o->keys < o->orgs) {
        fprintf(stderr, "seed: --keys must be at least --orgs (one personal key per user)\n");
        exit(2);
    }
}

/* User i, org i, their membership and billing row (and org 0's projects). */
static int load_org(seed_tx *tx, lk_record *r, const seed_opts *o, long i, const char *uid,
                    const char *oid, const char *pwhash, int64_t now)
{
    char email[LK_EMAIL_SIZE];
    snprintf(email, sizeof email, "bench-%ld@example.com", i);

    memset(r, 0, sizeof *r);
    r->kind = LK_REC_USER;
    snprintf(r->as.u.user.id, sizeof r->as.u.user.id, "%s", uid);
    snprintf(r->as.u.user.email, sizeof r->as.u.user.email, "%s", email);
    snprintf(r->as.u.user.name, sizeof r->as.u.user.name, "Bench User %ld", i);
    r->as.u.user.created_at = now;
    snprintf(r->as.u.email_lower, sizeof r->as.u.email_lower, "%s", email);
    memcpy(r->as.u.pwhash, pwhash, LK_PWHASH_SIZE);
    if (load(tx, r, "load user") != LK_OK) return -1;

    memset(r, 0, sizeof *r);
    r->kind = LK_REC_ORG;
    snprintf(r->as.org.id, sizeof r->as.org.id, "%s", oid);
    snprintf(r->as.org.name, sizeof r->as.org.name, "Bench Org %ld", i);
    r->as.org.created_at = now;
    r->as.org.seq = i + 1;
    if (load(tx, r, "load org") != LK_OK) return -1;

    memset(r, 0, sizeof *r);
    r->kind = LK_REC_MEMBER;
    snprintf(r->as.member.org_id, sizeof r->as.member.org_id, "%s", oid);
    snprintf(r->as.member.user_id, sizeof r->as.member.user_id, "%s", uid);
    r->as.member.joined_at = now;
    snprintf(r->as.member.role, sizeof r->as.member.role, "%s", LK_ROLE_OWNER);
    r->as.member.seq = i + 1;
    if (load(tx, r, "load member") != LK_OK) return -1;

    memset(r, 0, sizeof *r);
    r->kind = LK_REC_BILLING;
    snprintf(r->as.billing.org_id, sizeof r->as.billing.org_id, "%s", oid);
    snprintf(r->as.billing.plan, sizeof r->as.billing.plan, "free");
    snprintf(r->as.billing.billing_email, sizeof r->as.billing.billing_email, "%s", email);
    r->as.billing.updated_at = now;
    if (load(tx, r, "load billing") != LK_OK) return -1;

    for (long p = 0; i == 0 && p < o->projects; p++) {
        memset(r, 0, sizeof *r);
        r->kind = LK_REC_PROJECT;
        lk_id_new("prj_", r->as.project.id);
        snprintf(r->as.project.org_id, sizeof r->as.project.org_id, "%s", oid);
        snprintf(r->as.project.name, sizeof r->as.project.name, "Bench Project %ld", p);
        r->as.project.created_at = now;
        r->as.project.seq = p + 1;
        if (load(tx, r, "load project") != LK_OK) return -1;
    }
    return 0;
}

/* Everything main() writes, and where the sample tokens go. */
typedef struct seed_run {
    seed_tx tx;
    seed_keys ks;
    lk_record *r;
    FILE *env, *toks;
    char pwhash[LK_PWHASH_SIZE];
    char org0[LK_ID_SIZE], user0[LK_ID_SIZE];
    long nkeys;
} seed_run;

/* The user's personal key, then this org's share of org keys. Sample
 * tokens go to PREFIX.tokens (and org 0's to PREFIX.env). */
static int load_keys(seed_run *sr, long i, long mine, bool sampled, const char *uid,
                     const char *oid, int64_t now)
{
    char tok[LK_TOKEN_SIZE];
    for (long k = 0; k < mine; k++) {
        bool keep = (i == 0 && k <= 1) || (sampled && k <= 1);
        lk_token_kind kind = k == 0 ? LK_TOKEN_PERSONAL : LK_TOKEN_ORG;
        if (make_key(&sr->tx, &sr->ks, kind, oid, uid, sr->nkeys, now, keep ? tok : NULL) !=
            LK_OK)
            return -1;
        sr->nkeys++;
        if (!keep) continue;
        if (i == 0) fprintf(sr->env, "%s=%s\n", k == 0 ? "LK_PERSONAL" : "LK_ORGKEY", tok);
        if (sampled) fprintf(sr->toks, "%s\n", tok);
        sodium_memzero(tok, sizeof tok);
    }
    return 0;
}

static int seed_all(seed_run *sr, const seed_opts *o, int64_t now)
{
    long per_org = o->keys / o->orgs, extra = o->keys % o->orgs;
    long sample_every = o->sample > 0 ? (o->orgs * 2 + o->sample - 1) / o->sample : 0;
    if (sample_every < 1) sample_every = 1;
    for (long i = 0; i < o->orgs; i++) {
        char uid[LK_ID_SIZE], oid[LK_ID_SIZE];
        lk_id_new("usr_", uid);
        lk_id_new("org_", oid);
        if (load_org(&sr->tx, sr->r, o, i, uid, oid, sr->pwhash, now) != 0) return -1;
        if (i == 0) {
            snprintf(sr->org0, sizeof sr->org0, "%s", oid);
            snprintf(sr->user0, sizeof sr->user0, "%s", uid);
        }
        bool sampled = o->sample > 0 && i % sample_every == 0;
        if (load_keys(sr, i, per_org + (i < extra ? 1 : 0), sampled, uid, oid, now) != 0)
            return -1;
    }
    if (flush_keys(&sr->tx, &sr->ks) != LK_OK || tx_finish(&sr->tx) != LK_OK) return -1;
    return 0;
}

static void write_env(seed_run *sr, const seed_opts *o, double secs)
{
    char tok[LK_TOKEN_SIZE];
    /* Well-formed, checksum correct, never stored. */
    lk_token_generate(LK_TOKEN_PERSONAL, tok);
    fprintf(sr->env, "LK_INVALID=%s\n", tok);
    sodium_memzero(tok, sizeof tok);
    fprintf(sr->env, "LK_ORG=%s\nLK_USER=%s\nLK_EMAIL=bench-0@example.com\nLK_PASSWORD=%s\n",
            sr->org0, sr->user0, SEED_PASSWORD);
    fprintf(sr->env, "LK_SEED_USERS=%ld\nLK_SEED_ORGS=%ld\nLK_SEED_KEYS=%ld\nLK_SEED_SECS=%.2f\n",
            o->orgs, o->orgs, sr->nkeys, secs);
    printf("seeded %ld users, %ld orgs, %ld keys in %.2f s (%.0f keys/s)\n", o->orgs, o->orgs,
           sr->nkeys, secs, (double)sr->nkeys / secs);
    printf("RESULT %.2f %ld %ld %ld\n", secs, o->orgs, o->orgs, sr->nkeys);
}

static lk_store *open_store(const seed_opts *o)
{
    lk_store *st = NULL;
    lk_err e;
    lk_err_clear(&e);
    if (lk_store_open(o->database, &st, &e) != LK_OK) {
        fprintf(stderr, "seed: cannot open %s: %s\n", o->database, lk_err_message(&e));
        return NULL;
    }
    int err = st->ops->migrate(st);
    if (err != LK_OK) {
        fail(st, "migrate", err);
        lk_store_close(st);
        return NULL;
    }
    return st;
}

int main(int argc, char **argv)
{
    seed_opts o;
    parse_args(argc, argv, &o);

    randombytes_set_implementation(&randombytes_internal_implementation);
    if (seed_cache_kib > 0) sqlite3_auto_extension((void (*)(void))seed_sqlite_conn);
    if (lk_token_init() != 0) {
        fprintf(stderr, "seed: sodium_init failed\n");
        return 1;
    }

    int rc = 1;
    lk_store *st = NULL;
    seed_run sr = {.tx = {.batch = o.batch, .in_tx = -1}};
    sr.r = calloc(1, sizeof *sr.r);
    sr.ks = (seed_keys){.v = calloc((size_t)o.batch, sizeof(seed_pending)), .cap = o.batch};
    if (sr.r == NULL || sr.ks.v == NULL) goto out;

    if (crypto_pwhash_str(sr.pwhash, SEED_PASSWORD, strlen(SEED_PASSWORD),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        fprintf(stderr, "seed: crypto_pwhash_str failed\n");
        goto out;
    }
    if ((st = open_store(&o)) == NULL) goto out;
    if ((sr.env = open_secret(o.out, ".env")) == NULL ||
        (sr.toks = open_secret(o.out, ".tokens")) == NULL)
        goto out;

    double t0 = now_secs();
    sr.tx.st = st;
    if (seed_all(&sr, &o, (int64_t)time(NULL)) != 0) goto out;
    write_env(&sr, &o, now_secs() - t0);
    rc = 0;
out:
    if (sr.tx.in_tx >= 0) st->ops->rollback(st);
    if (sr.env && fclose(sr.env) != 0) rc = 1;
    if (sr.toks && fclose(sr.toks) != 0) rc = 1;
    lk_store_close(st);
    sodium_memzero(sr.pwhash, sizeof sr.pwhash);
    free(sr.r);
    free(sr.ks.v);
    return rc;
}
