/*
 * schema.c — the tables of schema.h: every column of every table once,
 * with the struct field it maps to, and the generators both backends use
 * (column lists, INSERT statements, CREATE TABLE/INDEX). See schema.h for
 * how to add a column or a table.
 *
 * The constraints are written once in SQL both SQLite and PostgreSQL
 * accept (NOT NULL, UNIQUE, REFERENCES … ON DELETE CASCADE, CHECK,
 * DEFAULT, partial indexes); only the type names and the seq column differ
 * per dialect (lk_dialect), so both backends enforce the same rules.
 *
 * Pure: no I/O, no allocation, no SQL is run here.
 */
#include "schema.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(lk_key_type) == sizeof(int), "LK_COL_INT reads an int-sized enum");
/* --- scopes: access_keys.scopes is an LK_COL_INT; its default is "*" */
_Static_assert(sizeof(lk_scopes) == sizeof(int), "LK_COL_INT reads an int-sized mask");
#define LK_SCOPE_ALL_TEXT "8191"
_Static_assert(LK_SCOPE_ALL == 8191, "LK_SCOPE_ALL_TEXT is LK_SCOPE_ALL");

/* The columns version 3 adds (store backends' migrations). */
const lk_schema_added_col lk_schema_scopes_cols[] = {
    {&lk_schema_keys, "scopes"},
    {&lk_schema_keys, "allowed_cidrs"},
    {&lk_schema_keys, "created_by_key"},
    {&lk_schema_keys, "last_used_ip"},
    {&lk_schema_orgs, "access_key_max_lifetime_days"},
    {NULL, NULL},
};

#define FIELD_SIZE(T, f) sizeof(((T *)0)->f)
/* A column with a field of row struct T. */
#define COL(T, f, name, type, ddl)                                                                 \
    {                                                                                              \
        name, LK_COL_##type, offsetof(T, f), FIELD_SIZE(T, f), ddl                                 \
    }
/* The seq column, with (SEQ_OF) or without (SEQ_ONLY) a field. */
#define SEQ_OF(T) COL(T, seq, "seq", SEQ, "")
#define SEQ_ONLY                                                                                   \
    {                                                                                              \
        "seq", LK_COL_SEQ, 0, 0, ""                                                                \
    }
/* A column of another table filled by a JOIN (alias.column); not created. */
#define JOINED(T, f, src)                                                                          \
    {                                                                                              \
        src, LK_COL_TEXT, offsetof(T, f), FIELD_SIZE(T, f), NULL                                   \
    }

#define NCOLS(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define REF(t) " REFERENCES " t " (id) ON DELETE CASCADE"

/* -- users --------------------------------------------------------------- */

static const lk_col users_cols[] = {
    SEQ_ONLY,
    COL(lk_user_row, user.id, "id", TEXT, "NOT NULL UNIQUE"),
    COL(lk_user_row, user.email, "email", TEXT, "NOT NULL"),
    COL(lk_user_row, email_lower, "email_lower", TEXT, "NOT NULL"),
    COL(lk_user_row, user.name, "name", TEXT, "NOT NULL"),
    COL(lk_user_row, pwhash, "pwhash", TEXT, "NOT NULL"),
    COL(lk_user_row, user.created_at, "created_at", I64, "NOT NULL"),
};
static const char *const users_idx[] = {"UNIQUE users_email_lower ON users (email_lower)", NULL};
const lk_table lk_schema_users = {
    "users", users_cols, NCOLS(users_cols), sizeof(lk_user), sizeof(lk_user_row), NULL, users_idx,
};

/* -- sessions ------------------------------------------------------------ */

static const lk_col sessions_cols[] = {
    COL(lk_session_row, hash, "hash", HASH, "PRIMARY KEY"),
    COL(lk_session_row, session.user_id, "user_id", TEXT, "NOT NULL" REF("users")),
    COL(lk_session_row, session.csrf, "csrf", TEXT, "NOT NULL"),
    COL(lk_session_row, session.created_at, "created_at", I64, "NOT NULL"),
    COL(lk_session_row, session.expires_at, "expires_at", I64, "NOT NULL"),
    /* --- account (sessions list) --- */
    COL(lk_session_row, session.id, "id", TEXT, "NOT NULL DEFAULT ''"),
    COL(lk_session_row, session.ip, "ip", TEXT, "NOT NULL DEFAULT ''"),
    COL(lk_session_row, session.user_agent, "user_agent", TEXT, "NOT NULL DEFAULT ''"),
    COL(lk_session_row, session.last_seen_at, "last_seen_at", I64, "NOT NULL DEFAULT 0"),
    COL(lk_session_row, session.created_us, "created_us", I64, "NOT NULL DEFAULT 0"),
};
static const char *const sessions_idx[] = {"sessions_user ON sessions (user_id)",
                                           LK_SCHEMA_SESSIONS_ID_INDEX, NULL};
const lk_table lk_schema_sessions = {
    "sessions", sessions_cols, NCOLS(sessions_cols), sizeof(lk_session), sizeof(lk_session_row),
    NULL,       sessions_idx,
};

/* -- organizations and members ------------------------------------------- */

static const lk_col orgs_cols[] = {
    SEQ_OF(lk_org),
    COL(lk_org, id, "id", TEXT, "NOT NULL UNIQUE"),
    COL(lk_org, name, "name", TEXT, "NOT NULL"),
    COL(lk_org, created_at, "created_at", I64, "NOT NULL"),
    /* --- scopes (version 3): 0 = no limit */
    COL(lk_org, key_max_lifetime_days, "access_key_max_lifetime_days", I64, "NOT NULL DEFAULT 0"),
};
static const char *const no_idx[] = {NULL};
const lk_table lk_schema_orgs = {
    "orgs", orgs_cols, NCOLS(orgs_cols), sizeof(lk_org), sizeof(lk_org), NULL, no_idx,
};

static const lk_col members_cols[] = {
    SEQ_OF(lk_member),
    COL(lk_member, org_id, "org_id", TEXT, "NOT NULL" REF("orgs")),
    COL(lk_member, user_id, "user_id", TEXT, "NOT NULL" REF("users")),
    COL(lk_member, joined_at, "joined_at", I64, "NOT NULL"),
    /* roles: a v1 member becomes an owner (the default); inserts say which */
    COL(lk_member, role, "role", TEXT,
        "NOT NULL DEFAULT 'owner' CHECK (role IN ('owner', 'member'))"),
    JOINED(lk_member, email, "u.email"),
    JOINED(lk_member, name, "u.name"),
};
static const char *const members_idx[] = {
    "UNIQUE members_org_user ON members (org_id, user_id)",
    "members_org_seq ON members (org_id, seq)",
    "members_user ON members (user_id)",
    NULL,
};
const lk_table lk_schema_members = {
    "members",         members_cols, NCOLS(members_cols), sizeof(lk_member),
    sizeof(lk_member), NULL,         members_idx,
};

/* -- projects and environments ------------------------------------------- */

static const lk_col projects_cols[] = {
    SEQ_OF(lk_project),
    COL(lk_project, id, "id", TEXT, "NOT NULL UNIQUE"),
    COL(lk_project, org_id, "org_id", TEXT, "NOT NULL" REF("orgs")),
    COL(lk_project, name, "name", TEXT, "NOT NULL"),
    COL(lk_project, created_at, "created_at", I64, "NOT NULL"),
};
static const char *const projects_idx[] = {"projects_org_seq ON projects (org_id, seq)", NULL};
const lk_table lk_schema_projects = {
    "projects",         projects_cols, NCOLS(projects_cols), sizeof(lk_project),
    sizeof(lk_project), NULL,          projects_idx,
};

static const lk_col environments_cols[] = {
    SEQ_OF(lk_env),
    COL(lk_env, id, "id", TEXT, "NOT NULL UNIQUE"),
    COL(lk_env, project_id, "project_id", TEXT, "NOT NULL" REF("projects")),
    COL(lk_env, name, "name", TEXT, "NOT NULL"),
    COL(lk_env, created_at, "created_at", I64, "NOT NULL"),
};
static const char *const environments_idx[] = {
    "environments_project_seq ON environments (project_id, seq)", NULL};
const lk_table lk_schema_environments = {
    "environments", environments_cols, NCOLS(environments_cols), sizeof(lk_env), sizeof(lk_env),
    NULL,           environments_idx,
};

/* -- billing ------------------------------------------------------------- */

static const lk_col billing_cols[] = {
    SEQ_ONLY,
    COL(lk_billing, org_id, "org_id", TEXT, "NOT NULL UNIQUE" REF("orgs")),
    COL(lk_billing, plan, "plan", TEXT, "NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise'))"),
    COL(lk_billing, billing_email, "billing_email", TEXT, "NOT NULL"),
    COL(lk_billing, updated_at, "updated_at", I64, "NOT NULL"),
};
const lk_table lk_schema_billing = {
    "billing", billing_cols, NCOLS(billing_cols), sizeof(lk_billing), sizeof(lk_billing),
    NULL,      no_idx,
};

/* -- access keys --------------------------------------------------------- */

static const lk_col keys_cols[] = {
    COL(lk_key_row, key.seq, "seq", SEQ, ""),
    COL(lk_key_row, key.id, "id", TEXT, "NOT NULL UNIQUE"),
    COL(lk_key_row, key.type, "type", INT, "NOT NULL"),
    COL(lk_key_row, key.org_id, "org_id", OPT_TEXT, REF("orgs")),
    COL(lk_key_row, key.user_id, "user_id", OPT_TEXT, REF("users")),
    COL(lk_key_row, key.created_by, "created_by", TEXT, "NOT NULL"),
    COL(lk_key_row, key.name, "name", TEXT, "NOT NULL"),
    COL(lk_key_row, key.redacted, "redacted", TEXT, "NOT NULL"),
    COL(lk_key_row, hash, "hash", HASH, "NOT NULL"),
    COL(lk_key_row, key.created_at, "created_at", I64, "NOT NULL"),
    COL(lk_key_row, key.last_used_at, "last_used_at", I64, "NOT NULL DEFAULT 0"),
    COL(lk_key_row, key.expires_at, "expires_at", I64, "NOT NULL DEFAULT 0"),
    /* --- scopes (version 3): every v1 key holds every scope */
    COL(lk_key_row, key.scopes, "scopes", INT, "NOT NULL DEFAULT " LK_SCOPE_ALL_TEXT),
    COL(lk_key_row, key.allowed_cidrs, "allowed_cidrs", OPT_TEXT, ""),
    COL(lk_key_row, key.created_by_key, "created_by_key", OPT_TEXT, ""),
    COL(lk_key_row, key.last_used_ip, "last_used_ip", OPT_TEXT, ""),
    /* --- rotate: the previous token (store.h "rotate"); appended by a migration */
    COL(lk_key_row, prev_hash, "prev_hash", OPT_HASH, ""),
    COL(lk_key_row, key.prev_expires_at, "prev_expires_at", I64, "NOT NULL DEFAULT 0"),
};
static const char *const keys_idx[] = {
    "UNIQUE access_keys_hash ON access_keys (hash)",
    "UNIQUE access_keys_prev_hash ON access_keys (prev_hash)", /* --- rotate */
    "access_keys_prev_expiry ON access_keys (prev_expires_at) WHERE prev_hash IS NOT NULL",
    "access_keys_org_seq ON access_keys (org_id, seq) WHERE org_id IS NOT NULL",
    "access_keys_user_seq ON access_keys (user_id, seq) WHERE user_id IS NOT NULL",
    NULL,
};
const lk_table lk_schema_keys = {
    "access_keys",
    keys_cols,
    NCOLS(keys_cols),
    sizeof(lk_key),
    sizeof(lk_key_row),
    "CHECK ((type = 1 AND org_id IS NOT NULL AND user_id IS NULL)"
    " OR (type = 2 AND user_id IS NOT NULL AND org_id IS NULL))",
    keys_idx,
};

/* --- roles and invitations --- */
/* Pending invitations only: a used or revoked one is deleted. */
static const lk_col invitations_cols[] = {
    COL(lk_invitation_row, inv.seq, "seq", SEQ, ""),
    COL(lk_invitation_row, inv.id, "id", TEXT, "NOT NULL UNIQUE"),
    COL(lk_invitation_row, inv.org_id, "org_id", TEXT, "NOT NULL" REF("orgs")),
    COL(lk_invitation_row, inv.email, "email", TEXT, "NOT NULL"),
    COL(lk_invitation_row, inv.role, "role", TEXT, "NOT NULL CHECK (role IN ('owner', 'member'))"),
    COL(lk_invitation_row, inv.invited_by, "invited_by", TEXT, "NOT NULL" REF("users")),
    COL(lk_invitation_row, inv.created_at, "created_at", I64, "NOT NULL"),
    COL(lk_invitation_row, inv.expires_at, "expires_at", I64, "NOT NULL"),
    COL(lk_invitation_row, hash, "hash", HASH, "NOT NULL"),
};
static const char *const invitations_idx[] = {
    "UNIQUE invitations_hash ON invitations (hash)",
    "invitations_org_seq ON invitations (org_id, seq)",
    NULL,
};
const lk_table lk_schema_invitations = {
    "invitations",         invitations_cols,          NCOLS(invitations_cols),
    sizeof(lk_invitation), sizeof(lk_invitation_row), NULL,
    invitations_idx,
};
/* --- end roles and invitations --- */

/* -- device sign-ins (--- device ---) ------------------------------------ */

static const lk_col device_cols[] = {
    COL(lk_device, device_hash, "device_hash", HASH, "PRIMARY KEY"),
    COL(lk_device, user_hash, "user_hash", HASH, "NOT NULL"),
    COL(lk_device, client_name, "client_name", TEXT, "NOT NULL"),
    COL(lk_device, client_addr, "client_addr", TEXT, "NOT NULL"),
    COL(lk_device, scopes, "scopes", I64, "NOT NULL"),
    COL(lk_device, status, "status", I64, "NOT NULL CHECK (status IN (0, 1, 2, 3))"),
    COL(lk_device, user_id, "user_id", OPT_TEXT, REF("users")),
    COL(lk_device, key_id, "key_id", OPT_TEXT, ""),
    COL(lk_device, created_at, "created_at", I64, "NOT NULL"),
    COL(lk_device, expires_at, "expires_at", I64, "NOT NULL"),
    COL(lk_device, last_poll_at, "last_poll_at", I64, "NOT NULL DEFAULT 0"),
    COL(lk_device, interval, "poll_interval", I64, "NOT NULL"),
};
static const char *const device_idx[] = {
    "UNIQUE device_requests_user_hash ON device_requests (user_hash)",
    "device_requests_expiry ON device_requests (expires_at)",
    NULL,
};
const lk_table lk_schema_device = {
    "device_requests", device_cols, NCOLS(device_cols), sizeof(lk_device), sizeof(lk_device),
    NULL,              device_idx,
};

/* --- audit --- */
/* No REFERENCES on org_id / user_id: an org's organization.deleted event
 * must outlive the org (it stays in the deleter's security log). Lists run
 * by (org_id, seq) and (user_id, seq). No index on created_at (one less
 * write per change): the hourly purge walks seq upwards, where the oldest
 * events are, and stops after a batch. */
static const lk_col audit_cols[] = {
    SEQ_OF(lk_audit_event),
    COL(lk_audit_event, id, "id", TEXT, "NOT NULL UNIQUE"),
    COL(lk_audit_event, action, "action", TEXT, "NOT NULL"),
    COL(lk_audit_event, actor_type, "actor_type", TEXT, "NOT NULL"),
    COL(lk_audit_event, actor_id, "actor_id", OPT_TEXT, ""),
    COL(lk_audit_event, actor_name, "actor_name", TEXT, "NOT NULL"),
    COL(lk_audit_event, actor_user_id, "actor_user_id", OPT_TEXT, ""),
    COL(lk_audit_event, target_type, "target_type", TEXT, "NOT NULL"),
    COL(lk_audit_event, target_id, "target_id", OPT_TEXT, ""),
    COL(lk_audit_event, target_name, "target_name", TEXT, "NOT NULL"),
    COL(lk_audit_event, org_id, "org_id", OPT_TEXT, ""),
    COL(lk_audit_event, user_id, "user_id", OPT_TEXT, ""),
    COL(lk_audit_event, ip, "ip", TEXT, "NOT NULL"),
    COL(lk_audit_event, user_agent, "user_agent", TEXT, "NOT NULL"),
    COL(lk_audit_event, details, "details", TEXT, "NOT NULL"),
    COL(lk_audit_event, created_at, "created_at", I64, "NOT NULL"),
};
static const char *const audit_idx[] = {
    "audit_events_org_seq ON audit_events (org_id, seq) WHERE org_id IS NOT NULL",
    "audit_events_user_seq ON audit_events (user_id, seq) WHERE user_id IS NOT NULL",
    NULL,
};
const lk_table lk_schema_audit = {
    "audit_events",         audit_cols, NCOLS(audit_cols), sizeof(lk_audit_event),
    sizeof(lk_audit_event), NULL,       audit_idx,
};

/* --- leak reports --- one row per UTC day (store.h's lk_leak_day), so
 * the table grows by a row a day and needs no purge. */
static const lk_col leak_cols[] = {
    COL(lk_leak_day, day, "day", I64, "PRIMARY KEY"),
    COL(lk_leak_day, reports, "reports", I64, "NOT NULL"),
    COL(lk_leak_day, entries, "entries", I64, "NOT NULL"),
    COL(lk_leak_day, revoked, "revoked", I64, "NOT NULL"),
};
static const char *const leak_idx[] = {NULL};
const lk_table lk_schema_leak_reports = {
    "leaked_token_reports", leak_cols, NCOLS(leak_cols), sizeof(lk_leak_day), sizeof(lk_leak_day),
    NULL,                   leak_idx,
};

const lk_child lk_schema_children[LK_CHILD_KINDS] = {
    [LK_CHILD_PROJECT] = {&lk_schema_projects, "org_id", "project", LK_REC_PROJECT},
    [LK_CHILD_ENV] = {&lk_schema_environments, "project_id", "environment", LK_REC_ENV},
};

const lk_table *const lk_schema_tables[] = {
    &lk_schema_users,       &lk_schema_sessions,
    &lk_schema_orgs,        &lk_schema_members,
    &lk_schema_projects,    &lk_schema_environments,
    &lk_schema_billing,     &lk_schema_keys,
    &lk_schema_invitations, &lk_schema_device,
    &lk_schema_audit,       &lk_schema_leak_reports,
    NULL,
};

const lk_table *lk_schema_of_kind(lk_record_kind kind)
{
    switch (kind) {
    case LK_REC_USER:
        return &lk_schema_users;
    case LK_REC_ORG:
        return &lk_schema_orgs;
    case LK_REC_MEMBER:
        return &lk_schema_members;
    case LK_REC_PROJECT:
        return &lk_schema_projects;
    case LK_REC_ENV:
        return &lk_schema_environments;
    case LK_REC_BILLING:
        return &lk_schema_billing;
    case LK_REC_KEY:
        return &lk_schema_keys;
    case LK_REC_AUDIT:
        return &lk_schema_audit;
    }
    return NULL;
}

int lk_schema_ncols(const lk_table *t, lk_view v)
{
    int n = 0;
    for (int i = 0; i < t->ncols; i++)
        n += lk_col_in(t, &t->cols[i], v);
    return n;
}

/* -- text generation ----------------------------------------------------- */

/* An append-only buffer that remembers overflow instead of failing each
 * call (the caller checks once). */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool over;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->over || n >= b->cap - b->len) {
        b->over = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(sbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static const lk_table *table_named(const char *name, size_t n)
{
    for (int i = 0; lk_schema_tables[i]; i++)
        if (strlen(lk_schema_tables[i]->name) == n &&
            memcmp(lk_schema_tables[i]->name, name, n) == 0)
            return lk_schema_tables[i];
    return NULL;
}

static void put_select_list(sbuf *b, const lk_table *t, const char *alias, size_t alias_len,
                            lk_view v)
{
    bool first = true;
    for (int i = 0; i < t->ncols; i++) {
        const lk_col *c = &t->cols[i];
        if (!lk_col_in(t, c, v)) continue;
        if (!first) puts_(b, ", ");
        first = false;
        if (c->ddl != NULL && alias_len > 0) put(b, alias, alias_len + 1); /* "a." */
        puts_(b, c->name);
    }
}

static void put_insert(sbuf *b, const lk_table *t, char ph)
{
    puts_(b, t->name);
    puts_(b, " (");
    int n = 0;
    for (int i = 0; i < t->ncols; i++) {
        if (!lk_col_inserted(&t->cols[i])) continue;
        if (n++) puts_(b, ", ");
        puts_(b, t->cols[i].name);
    }
    puts_(b, ") VALUES (");
    for (int i = 1; i <= n; i++) {
        char p[16];
        int len = snprintf(p, sizeof p, "%s%c%d", i > 1 ? ", " : "", ph, i);
        put(b, p, (size_t)len);
    }
    puts_(b, ")");
}

/* One {…} of a template, without the braces. */
static int expand_one(sbuf *b, const char *s, size_t n, char ph)
{
    const char *dot = memchr(s, '.', n);
    const char *alias = dot ? s : NULL;
    size_t alias_len = dot ? (size_t)(dot - s) : 0;
    const char *name = dot ? dot + 1 : s;
    size_t name_len = n - (size_t)(name - s);
    static const char insert_suffix[] = ":insert";
    size_t ins = sizeof insert_suffix - 1;
    if (name_len > ins && memcmp(name + name_len - ins, insert_suffix, ins) == 0) {
        const lk_table *t = table_named(name, name_len - ins);
        if (t == NULL || alias) return -1;
        put_insert(b, t, ph);
        return 0;
    }
    lk_view v = LK_VIEW_RECORD;
    if (name_len > 0 && name[name_len - 1] == '*') {
        v = LK_VIEW_ROW;
        name_len--;
    }
    const lk_table *t = table_named(name, name_len);
    if (t == NULL) return -1;
    put_select_list(b, t, alias, alias_len, v);
    return 0;
}

int lk_schema_sql(const char *tmpl, char ph, char *out, size_t cap)
{
    assert(cap > 0);
    sbuf b = {out, 0, cap, false};
    out[0] = '\0';
    for (const char *s = tmpl; *s;) {
        const char *open = strchr(s, '{');
        if (open == NULL) {
            puts_(&b, s);
            break;
        }
        put(&b, s, (size_t)(open - s));
        const char *close = strchr(open, '}');
        if (close == NULL || expand_one(&b, open + 1, (size_t)(close - open - 1), ph) != 0)
            return -1;
        s = close + 1;
    }
    return b.over ? -1 : 0;
}

int lk_schema_child_sql(const char *tmpl, const lk_child *c, char ph, char *out, size_t cap)
{
    char named[LK_SCHEMA_SQL_MAX];
    sbuf b = {named, 0, sizeof named, false};
    named[0] = '\0';
    for (const char *s = tmpl; *s; s++) {
        if (s[0] == '@' && (s[1] == 'T' || s[1] == 'P')) {
            puts_(&b, *++s == 'T' ? c->table->name : c->parent_col);
            continue;
        }
        put(&b, s, 1);
    }
    return b.over ? -1 : lk_schema_sql(named, ph, out, cap);
}

/* -- DDL ------------------------------------------------------------------ */

const lk_dialect lk_dialect_sqlite = {
    "TEXT", "INTEGER", "INTEGER", "BLOB", "INTEGER PRIMARY KEY AUTOINCREMENT",
};
const lk_dialect lk_dialect_pg = {
    "text", "bigint", "smallint", "bytea", "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
};

static const char *type_name(const lk_dialect *d, lk_col_type type)
{
    switch (type) {
    case LK_COL_TEXT:
    case LK_COL_OPT_TEXT:
        return d->text;
    case LK_COL_I64:
        return d->i64;
    case LK_COL_INT:
        return d->i32;
    case LK_COL_HASH:
    case LK_COL_OPT_HASH:
        return d->blob;
    case LK_COL_SEQ:
        return d->seq;
    }
    return d->text;
}

/* "name type constraints" of column c. */
static void put_column_def(sbuf *b, const lk_col *c, const lk_dialect *d)
{
    puts_(b, c->name);
    puts_(b, " ");
    puts_(b, type_name(d, c->type));
    if (c->ddl[0]) puts_(b, " ");
    puts_(b, c->ddl);
}

int lk_schema_column_ddl(const lk_table *t, const char *column, const lk_dialect *d, char *out,
                         size_t cap)
{
    assert(cap > 0);
    sbuf b = {out, 0, cap, false};
    out[0] = '\0';
    for (int i = 0; i < t->ncols; i++) {
        const lk_col *c = &t->cols[i];
        if (c->ddl == NULL || strcmp(c->name, column) != 0) continue;
        puts_(&b, "ALTER TABLE ");
        puts_(&b, t->name);
        puts_(&b, " ADD COLUMN ");
        put_column_def(&b, c, d);
        return b.over ? -1 : 0;
    }
    return -1;
}

int lk_schema_table_ddl(const lk_table *t, const lk_dialect *d, char *out, size_t cap)
{
    assert(cap > 0);
    sbuf b = {out, 0, cap, false};
    out[0] = '\0';
    puts_(&b, "CREATE TABLE ");
    puts_(&b, t->name);
    puts_(&b, " (");
    bool first = true;
    for (int i = 0; i < t->ncols; i++) {
        const lk_col *c = &t->cols[i];
        if (c->ddl == NULL) continue; /* joined from another table */
        if (!first) puts_(&b, ", ");
        first = false;
        put_column_def(&b, c, d);
    }
    if (t->constraints) {
        puts_(&b, ", ");
        puts_(&b, t->constraints);
    }
    puts_(&b, ");");
    for (int i = 0; t->indexes[i]; i++) {
        const char *ix = t->indexes[i];
        static const char unique[] = "UNIQUE ";
        bool is_unique = strncmp(ix, unique, strlen(unique)) == 0;
        puts_(&b, is_unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
        puts_(&b, is_unique ? ix + strlen(unique) : ix);
        puts_(&b, ";");
    }
    return b.over ? -1 : 0;
}

/* -- row sinks ------------------------------------------------------------ */

int lk_row_sink_call(const lk_row_sink *s, const void *row)
{
    switch (s->kind) {
    case LK_REC_ORG:
        return s->cb.org(s->ctx, row);
    case LK_REC_MEMBER:
        return s->cb.member(s->ctx, row);
    case LK_REC_PROJECT:
        return s->cb.project(s->ctx, row);
    case LK_REC_ENV:
        return s->cb.env(s->ctx, row);
    case LK_REC_KEY:
        return s->cb.key(s->ctx, row);
    case LK_REC_USER:
    case LK_REC_BILLING:
    case LK_REC_AUDIT: /* listed through audit_list, dumped as records */
        break;
    }
    if (s->kind == LK_SINK_RECORD) return s->cb.record(s->ctx, row);
    if (s->kind == LK_SINK_SESSION) return s->cb.session(s->ctx, row);
    if (s->kind == LK_SINK_INVITATION) return s->cb.invitation(s->ctx, row);
    assert(!"lk_row_sink: no callback for this kind");
    return LK_EINTERNAL;
}

void lk_key_row_of(const lk_key *k, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_key_row *out)
{
    memset(out, 0, sizeof *out); /* --- rotate: no previous hash (prev_hash NULL) */
    out->key = *k;
    memcpy(out->hash, hash, LK_TOKEN_HASH_LEN);
    if (k->type != LK_KEY_ORG) out->key.org_id[0] = '\0';
    if (k->type != LK_KEY_PERSONAL) out->key.user_id[0] = '\0';
}
