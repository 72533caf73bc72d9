/*
 * audit_scale.c — the audit log's scale figure (bench/run.sh, issue 14's
 * budget): a year of events for one org doing 1,000 key operations a day
 * (365,000 rows, plus another org's events interleaved, one per ten), then the
 * first page of GET /v1/organizations/{org}/audit-events timed in process
 * through the service (authz + the store's list, no HTTP), unfiltered and
 * filtered by action. Budget: the unfiltered first page under 5 ms on
 * SQLite.
 *
 *   audit_scale --database URL [--events N] [--runs R] [--out PREFIX]
 *
 * Writes PREFIX.env (mode 0600: the org, a personal key of its member, for
 * run.sh's end-to-end timing through latchkeyd) and prints one line per
 * figure. Seeding goes through the store API (ops->audit_insert in
 * transactions of SEED_BATCH rows), the timing through lk_svc_audit_list_org.
 */
#include "service.h"
#include "timefmt.h"
#include "token.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define SEED_BATCH 10000
#define NOISE_EVERY 10 /* one event of another org per ten of the org's */
#define YEAR_SECS (365 * 86400)
#define PAGE 100
#define DEFAULT_EVENTS 365000
#define DEFAULT_RUNS 200
#define MS_PER_SEC 1e3

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * MS_PER_SEC + ts.tv_nsec / 1e6;
}

static int die(const char *what, const lk_err *e)
{
    fprintf(stderr, "audit_scale: %s: %s\n", what, e ? lk_err_message(e) : "failed");
    return 1;
}

static const char *const actions[] = {"access_key.created", "access_key.renamed",
                                      "access_key.deleted", "project.created"};

/* One event of org (or of the noise org) at time t. */
static void event_at(lk_audit_event *ev, const char *org, const char *user, int64_t t, long i)
{
    memset(ev, 0, sizeof *ev);
    lk_id_new("evt_", ev->id);
    snprintf(ev->action, sizeof ev->action, "%s", actions[i % 4]);
    snprintf(ev->actor_type, sizeof ev->actor_type, "user");
    snprintf(ev->actor_id, sizeof ev->actor_id, "%s", user);
    snprintf(ev->actor_user_id, sizeof ev->actor_user_id, "%s", user);
    snprintf(ev->actor_name, sizeof ev->actor_name, "Bench User");
    snprintf(ev->target_type, sizeof ev->target_type, "access_key");
    lk_id_new("key_", ev->target_id);
    snprintf(ev->target_name, sizeof ev->target_name, "ci-%ld", i);
    snprintf(ev->org_id, sizeof ev->org_id, "%s", org);
    snprintf(ev->ip, sizeof ev->ip, "203.0.113.7");
    snprintf(ev->user_agent, sizeof ev->user_agent, "latchkey-cli/1.1 (bench)");
    snprintf(ev->details, sizeof ev->details, "{\"from\":\"ci-%ld\",\"to\":\"ci-%ld-prod\"}", i, i);
    ev->created_at = t;
}

static int seed(lk_store *st, const char *org, const char *noise_org, const char *user, long n)
{
    lk_audit_event *ev = malloc(sizeof *ev);
    int64_t start = lk_time_now() - YEAR_SECS;
    long total = n + n / NOISE_EVERY;
    int rc = ev ? LK_OK : LK_ENOMEM;
    for (long i = 0; i < total && rc == LK_OK;) {
        rc = st->ops->begin(st);
        for (long b = 0; b < SEED_BATCH && i < total && rc == LK_OK; b++, i++) {
            int64_t t = start + (int64_t)((double)i * YEAR_SECS / (double)total);
            bool noise = i % (NOISE_EVERY + 1) == NOISE_EVERY;
            event_at(ev, noise ? noise_org : org, user, t, i);
            rc = st->ops->audit_insert(st, ev);
        }
        rc = rc == LK_OK ? st->ops->commit(st) : (st->ops->rollback(st), rc);
    }
    free(ev);
    return rc;
}

static int count_cb(void *ctx, const lk_audit_event *ev)
{
    (void)ev;
    (*(int *)ctx)++;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Time R first pages; prints median, p99 and max. */
static int time_pages(lk_svc *svc, const lk_principal *p, const char *org, const char *action,
                      int runs, const char *label)
{
    double *ms = calloc((size_t)runs, sizeof *ms);
    if (ms == NULL) return 1;
    int rows = 0;
    for (int r = 0; r < runs; r++) {
        lk_list l = {.page = {.limit = PAGE}};
        rows = 0;
        double t0 = now_ms();
        int rc = lk_svc_audit_list_org(svc, p, org, action, action ? strlen(action) : 0, NULL, 0,
                                       &l, count_cb, &rows);
        ms[r] = now_ms() - t0;
        if (rc != LK_OK) {
            free(ms);
            return die("list", &svc->err);
        }
    }
    qsort(ms, (size_t)runs, sizeof *ms, cmp_double);
    printf("audit_scale: first page (%d rows) %s: median %.3f ms, p99 %.3f ms, max %.3f ms\n",
           rows, label, ms[runs / 2], ms[runs * 99 / 100], ms[runs - 1]);
    free(ms);
    return 0;
}

static int write_env(const char *prefix, const char *org, const char *token)
{
    char path[512];
    snprintf(path, sizeof path, "%s.env", prefix);
    FILE *f = fopen(path, "w");
    if (f == NULL) return 1;
    chmod(path, 0600);
    fprintf(f, "LK_AUDIT_ORG=%s\nLK_AUDIT_TOKEN=%s\n", org, token);
    return fclose(f) == 0 ? 0 : 1;
}

/* A member with an org and a personal key (the token for run.sh). */
static int setup(lk_svc *svc, lk_principal *p, lk_org *org, lk_org *noise, char *token)
{
    lk_user u;
    lk_key k;
    if (lk_svc_signup(svc, "bench@example.com", 17, "bench password", 14, "Bench User", 10, &u))
        return die("signup", &svc->err);
    *p = (lk_principal){.kind = LK_PRINCIPAL_SESSION};
    memcpy(p->user_id, u.id, sizeof p->user_id);
    if (lk_svc_org_create(svc, p, "audit bench", 11, org) ||
        lk_svc_org_create(svc, p, "noise", 5, noise) ||
        lk_svc_key_create(svc, p, NULL, "bench", 5, 0, &k, token))
        return die("set-up", &svc->err);
    return 0;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *out = NULL;
    long events = DEFAULT_EVENTS;
    int runs = DEFAULT_RUNS, c;
    static const struct option opts[] = {{"database", required_argument, NULL, 'd'},
                                         {"events", required_argument, NULL, 'n'},
                                         {"runs", required_argument, NULL, 'r'},
                                         {"out", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') url = optarg;
        else if (c == 'n') events = strtol(optarg, NULL, 10);
        else if (c == 'r') runs = (int)strtol(optarg, NULL, 10);
        else if (c == 'o') out = optarg;
        else return fprintf(stderr, "usage: audit_scale --database URL [--events N] "
                                    "[--runs R] [--out PREFIX]\n"), 2;
    }
    if (url == NULL || events < 1 || runs < 1 || lk_token_init() != 0) return 2;
    lk_err e;
    lk_store *st;
    if (lk_store_open(url, &st, &e) != LK_OK) return die("open", &e);
    if (st->ops->migrate(st) != LK_OK) return die("migrate", &st->err);
    lk_svc_config cfg;
    lk_svc_config_init(&cfg);
    lk_svc svc = {.st = st, .cfg = &cfg};
    lk_principal p;
    lk_org org, noise;
    char token[LK_TOKEN_SIZE];
    if (setup(&svc, &p, &org, &noise, token)) return 1;
    double t0 = now_ms();
    if (seed(st, org.id, noise.id, p.user_id, events) != LK_OK) return die("seed", &st->err);
    printf("audit_scale: %ld events of the org (+%ld of another) seeded in %.1f s\n", events,
           events / NOISE_EVERY, (now_ms() - t0) / MS_PER_SEC);
    int rc = time_pages(&svc, &p, org.id, NULL, runs, "unfiltered");
    if (rc == 0) rc = time_pages(&svc, &p, org.id, "access_key.deleted", runs, "action filter");
    if (rc == 0 && out) rc = write_env(out, org.id, token);
    sodium_memzero(token, sizeof token);
    lk_store_close(st);
    return rc;
}
