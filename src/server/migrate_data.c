/*
 * migrate_data.c — `latchkeyd migrate-data --from URL --to URL [--force]`:
 * copy a whole latchkey database from one store to another (SQLite to
 * PostgreSQL when a single node grows into several, or back).
 *
 * How: open both stores, bring both schemas up to date (migrate), refuse a
 * target that already holds users or organizations unless --force, then
 * stream the source's dump() into the target's load() inside one target
 * transaction (begin … commit; rollback on any failure, so a failed copy
 * leaves the target as it was). Everything goes through the store
 * interface, so any pair of backends works and no SQL lives here.
 *
 * What is copied is what store.h's lk_record carries: users with their
 * password hashes, orgs, members, projects, environments, billing, and
 * access keys with their token hashes — so people log in with the same
 * passwords and every token keeps working. Sessions are not copied: people
 * sign in again.
 *
 * --force only lifts the "target must be empty" check: rows are added to
 * what is there, and a row that collides (same id, same email) fails the
 * copy as a whole.
 *
 * Never prints a row's contents (hashes, emails): only counts.
 */
#include "migrate_data.h"

#include "store.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define MD_KINDS (LK_REC_AUDIT + 1) /* count[] is indexed by lk_record_kind, 1..LK_REC_AUDIT */

typedef struct md_copy {
    lk_store *to;
    long long count[MD_KINDS];
    int failed_kind; /* the kind whose load failed, 0 if none */
} md_copy;

static const char *kind_name(int kind)
{
    switch (kind) {
    case LK_REC_USER:
        return "users";
    case LK_REC_ORG:
        return "organizations";
    case LK_REC_MEMBER:
        return "memberships";
    case LK_REC_PROJECT:
        return "projects";
    case LK_REC_ENV:
        return "environments";
    case LK_REC_BILLING:
        return "billing records";
    case LK_REC_KEY:
        return "access keys";
    case LK_REC_AUDIT:
        return "audit events";
    default:
        return "records";
    }
}

static int md_load(void *ctx, const lk_record *r)
{
    md_copy *c = ctx;
    int rc = c->to->ops->load(c->to, r);
    if (rc) {
        c->failed_kind = (int)r->kind;
        return rc;
    }
    if ((int)r->kind > 0 && (int)r->kind < MD_KINDS) c->count[r->kind]++;
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: latchkeyd migrate-data --from URL --to URL [--force]\n"
          "\n"
          "Copy every user (with password hash), organization, membership, project,\n"
          "environment, billing record and access key (with token hash) from one\n"
          "database to another, in one transaction on the target. URLs are\n"
          "sqlite:PATH or postgresql://... (libpq URI). Both schemas are created or\n"
          "upgraded first. The target must hold no users and no organizations unless\n"
          "--force is given (then rows are added; any collision aborts the copy).\n"
          "Sessions are not copied. Stop every latchkeyd writing to the source first.\n",
          f);
}

/* Open url and bring its schema up to date. *out owned by the caller. */
static int md_open(const char *role, const char *url, lk_store **out)
{
    lk_err e;
    lk_err_clear(&e);
    *out = NULL;
    int rc = lk_store_open(url, out, &e);
    if (rc) {
        fprintf(stderr, "latchkeyd migrate-data: cannot open the %s database: %s\n", role,
                lk_err_message(&e));
        return rc;
    }
    rc = (*out)->ops->migrate(*out);
    if (rc) {
        fprintf(stderr, "latchkeyd migrate-data: cannot prepare the %s schema: %s\n", role,
                lk_err_message(&(*out)->err));
        lk_store_close(*out);
        *out = NULL;
    }
    return rc;
}

/* The parsed command line. */
typedef struct md_args {
    const char *from, *to; /* point into argv */
    bool force;
} md_args;

/* Parse argv with getopt_long. Returns -1 to go on, else the exit status
 * (0 after --help, 2 for a usage error, with the message printed). */
static int md_parse_args(int argc, char **argv, md_args *a)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"force", no_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    opterr = 0; /* our own message, one line, then the usage */
    optind = 0; /* glibc: restart scanning (main may have used getopt) */
    int c;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            a->from = optarg;
            break;
        case 't':
            a->to = optarg;
            break;
        case 'F':
            a->force = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "latchkeyd migrate-data: unknown or incomplete argument '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "latchkeyd migrate-data: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return -1;
}

/* The checks that need no database. Returns -1 to go on, else the exit
 * status (the message printed). */
static int md_check_args(const md_args *a)
{
    if (a->from == NULL || a->to == NULL || a->from[0] == '\0' || a->to[0] == '\0') {
        fprintf(stderr, "latchkeyd migrate-data: both --from and --to are required\n");
        usage(stderr);
        return 2;
    }
    if (strcmp(a->from, a->to) == 0) {
        fprintf(stderr, "latchkeyd migrate-data: --from and --to are the same database\n");
        return 2;
    }
    lk_err e;
    lk_err_clear(&e);
    if (lk_store_backend(a->from, &e) == NULL || lk_store_backend(a->to, &e) == NULL) {
        fprintf(stderr, "latchkeyd migrate-data: %s\n", lk_err_message(&e));
        return 2;
    }
    /* A mistyped SQLite source path must not silently become a new, empty
     * database. */
    struct stat sb;
    if (lk_store_url_is(a->from, LK_STORE_SQLITE_SCHEME) &&
        stat(a->from + strlen(LK_STORE_SQLITE_SCHEME), &sb) != 0) {
        fprintf(stderr, "latchkeyd migrate-data: source database file %s does not exist\n",
                a->from + strlen(LK_STORE_SQLITE_SCHEME));
        return 1;
    }
    return -1;
}

/* LK_OK if the source has rows and the target may receive them. */
static int md_check_stores(lk_store *src, lk_store *dst, bool force)
{
    bool empty = false;
    if (src->ops->is_empty(src, &empty)) {
        fprintf(stderr, "latchkeyd migrate-data: cannot read the source: %s\n",
                lk_err_message(&src->err));
        return LK_EINTERNAL;
    }
    if (empty) {
        fprintf(stderr, "latchkeyd migrate-data: the source database is empty; nothing to copy\n");
        return LK_EINTERNAL;
    }
    if (dst->ops->is_empty(dst, &empty)) {
        fprintf(stderr, "latchkeyd migrate-data: cannot read the target: %s\n",
                lk_err_message(&dst->err));
        return LK_EINTERNAL;
    }
    if (!empty && !force) {
        fprintf(stderr,
                "latchkeyd migrate-data: the target database is not empty (it has users or "
                "organizations); refusing to copy into it (use --force to add to it anyway)\n");
        return LK_EINTERNAL;
    }
    return LK_OK;
}

/* dump(src) into load(dst) in one target transaction; on failure the
 * target is rolled back and the reason printed. */
static int md_copy_all(lk_store *src, lk_store *dst, md_copy *c)
{
    c->to = dst;
    if (dst->ops->begin(dst)) {
        fprintf(stderr, "latchkeyd migrate-data: cannot start a transaction on the target: %s\n",
                lk_err_message(&dst->err));
        return LK_EINTERNAL;
    }
    int rc = src->ops->dump(src, md_load, c);
    if (rc) {
        if (c->failed_kind)
            fprintf(stderr,
                    "latchkeyd migrate-data: writing %s to the target failed: %s (%s); "
                    "nothing was copied\n",
                    kind_name(c->failed_kind), lk_err_message(&dst->err), lk_err_name(rc));
        else
            fprintf(stderr,
                    "latchkeyd migrate-data: reading the source failed: %s; "
                    "nothing was copied\n",
                    lk_err_message(&src->err));
        dst->ops->rollback(dst);
        return rc;
    }
    if ((rc = dst->ops->commit(dst)) != LK_OK)
        fprintf(stderr,
                "latchkeyd migrate-data: commit on the target failed: %s; "
                "nothing was copied\n",
                lk_err_message(&dst->err));
    return rc;
}

int lk_migrate_data_main(int argc, char **argv)
{
    md_args a;
    int status = md_parse_args(argc, argv, &a);
    if (status < 0) status = md_check_args(&a);
    if (status >= 0) return status;

    status = 1;
    lk_store *src = NULL, *dst = NULL;
    md_copy c;
    memset(&c, 0, sizeof(c));
    if (md_open("source", a.from, &src)) goto out;
    if (md_open("target", a.to, &dst)) goto out;
    if (md_check_stores(src, dst, a.force) != LK_OK) goto out;
    if (md_copy_all(src, dst, &c) != LK_OK) goto out;
    printf("migrate-data: copied from %s to %s:", src->ops->name, dst->ops->name);
    for (int k = LK_REC_USER; k <= LK_REC_AUDIT; k++)
        printf("%s %lld %s", k == LK_REC_USER ? "" : ",", c.count[k], kind_name(k));
    printf("\n");
    status = 0;
out:
    lk_store_close(dst);
    lk_store_close(src);
    return status;
}
