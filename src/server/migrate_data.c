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

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define MD_KINDS 8 /* lk_record_kind values are 1..7 */

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

int lk_migrate_data_main(int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    bool force = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--force") == 0) {
            force = true;
        } else if ((strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0) && i + 1 < argc) {
            if (a[2] == 'f')
                from = argv[++i];
            else
                to = argv[++i];
        } else if (strncmp(a, "--from=", 7) == 0) {
            from = a + 7;
        } else if (strncmp(a, "--to=", 5) == 0) {
            to = a + 5;
        } else {
            fprintf(stderr, "latchkeyd migrate-data: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (from == NULL || to == NULL || from[0] == '\0' || to[0] == '\0') {
        fprintf(stderr, "latchkeyd migrate-data: both --from and --to are required\n");
        usage(stderr);
        return 2;
    }
    if (strcmp(from, to) == 0) {
        fprintf(stderr, "latchkeyd migrate-data: --from and --to are the same database\n");
        return 2;
    }
    lk_err e;
    lk_err_clear(&e);
    if (lk_store_backend(from, &e) == NULL || lk_store_backend(to, &e) == NULL) {
        fprintf(stderr, "latchkeyd migrate-data: %s\n", lk_err_message(&e));
        return 2;
    }
    /* A mistyped SQLite source path must not silently become a new, empty
     * database. */
    struct stat sb;
    if (strncmp(from, "sqlite:", 7) == 0 && stat(from + 7, &sb) != 0) {
        fprintf(stderr, "latchkeyd migrate-data: source database file %s does not exist\n",
                from + 7);
        return 1;
    }

    int status = 1;
    lk_store *src = NULL, *dst = NULL;
    md_copy c;
    memset(&c, 0, sizeof(c));
    if (md_open("source", from, &src)) goto out;
    if (md_open("target", to, &dst)) goto out;

    bool empty = false;
    if (src->ops->is_empty(src, &empty)) {
        fprintf(stderr, "latchkeyd migrate-data: cannot read the source: %s\n",
                lk_err_message(&src->err));
        goto out;
    }
    if (empty) {
        fprintf(stderr, "latchkeyd migrate-data: the source database is empty; nothing to copy\n");
        goto out;
    }
    if (dst->ops->is_empty(dst, &empty)) {
        fprintf(stderr, "latchkeyd migrate-data: cannot read the target: %s\n",
                lk_err_message(&dst->err));
        goto out;
    }
    if (!empty && !force) {
        fprintf(stderr,
                "latchkeyd migrate-data: the target database is not empty (it has users or "
                "organizations); refusing to copy into it (use --force to add to it anyway)\n");
        goto out;
    }

    c.to = dst;
    if (dst->ops->begin(dst)) {
        fprintf(stderr, "latchkeyd migrate-data: cannot start a transaction on the target: %s\n",
                lk_err_message(&dst->err));
        goto out;
    }
    int rc = src->ops->dump(src, md_load, &c);
    if (rc) {
        if (c.failed_kind)
            fprintf(stderr,
                    "latchkeyd migrate-data: writing %s to the target failed: %s (%s); "
                    "nothing was copied\n",
                    kind_name(c.failed_kind), lk_err_message(&dst->err), lk_err_name(rc));
        else
            fprintf(stderr,
                    "latchkeyd migrate-data: reading the source failed: %s; "
                    "nothing was copied\n",
                    lk_err_message(&src->err));
        dst->ops->rollback(dst);
        goto out;
    }
    if (dst->ops->commit(dst)) {
        fprintf(stderr,
                "latchkeyd migrate-data: commit on the target failed: %s; "
                "nothing was copied\n",
                lk_err_message(&dst->err));
        goto out;
    }
    printf("migrate-data: copied from %s to %s:", src->ops->name, dst->ops->name);
    for (int k = LK_REC_USER; k <= LK_REC_KEY; k++)
        printf("%s %lld %s", k == LK_REC_USER ? "" : ",", c.count[k], kind_name(k));
    printf("\n");
    status = 0;
out:
    lk_store_close(dst);
    lk_store_close(src);
    return status;
}
