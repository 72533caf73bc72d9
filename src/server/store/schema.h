/*
 * schema.h — the one description of every table the store keeps: its
 * columns (name, type, constraints) and, for each column, the field of the
 * record struct (store.h) it maps to. Both backends read rows, bind
 * inserts, build their SELECT column lists and INSERT statements from it,
 * so a record is described once, not once per backend:
 *
 *     store.h records ──► schema.c (tables of lk_col) ──► store_sqlite.c
 *                                                     └─► store_pg.c
 *
 * How to add a column to a table (e.g. access_keys.scopes):
 *   1. add the field to the record struct in store.h (lk_key.scopes);
 *   2. add one COL(...) line to the table in schema.c, with its
 *      constraints in neutral SQL ("NOT NULL DEFAULT 0");
 *   3. append a migration to each backend's list that adds the column
 *      (ALTER TABLE … ADD COLUMN, generated from the same lk_col by
 *      lk_schema_column_ddl, which maps the type per dialect). On SQLite,
 *      version 2 rebuilds every table from the description as it is now,
 *      so a v1 file comes out of it with the new column already: the
 *      migration adds what is missing only (store_sqlite.c's
 *      add_key_previous, version 3, is the example), and version 2 copies
 *      only the columns the old table has.
 *   Reads, inserts, dump and load (migrate-data) pick the column up from
 *   the description; no read_x/bind code changes in either backend.
 *
 * How to add a table (e.g. audit_events):
 *   1. the record struct in store.h (and an lk_record_kind if
 *      migrate-data copies it);
 *   2. an lk_table in schema.c (columns, table constraints, indexes) and
 *      its entry in lk_schema_tables;
 *   3. a migration per backend that creates it from the description
 *      (SQLite: lk_schema_table_ddl; PostgreSQL: a pg_migrations entry
 *      naming the table). SQLite's version-2 rebuild skips tables a v1
 *      file does not have;
 *   4. the ops in store.h and, in each backend, only the statements that
 *      are particular to it (WHERE clauses, locking): their column lists
 *      are written `{alias.table}` and expanded by lk_schema_sql.
 *
 * Invariants:
 *  - A table's row struct starts with its plain record (lk_user_row starts
 *    with lk_user): the columns whose field lies inside the first
 *    rec_size bytes are the record's ("record view"); all columns with a
 *    field are the row's ("row view", what dump/load carry).
 *  - Column order in the description is the order of every generated
 *    column list and of every generic read and bind: a statement written
 *    with `{t}` and read with lk_schema's order cannot disagree.
 *  - Strings are copied truncated to the field and NUL-terminated;
 *    LK_COL_OPT_TEXT is stored as NULL when empty and read back as "";
 *    LK_COL_OPT_HASH likewise when all zero.
 *  - No dialect lives here: types are mapped, placeholders chosen and
 *    SQL run by the backends.
 */
#ifndef LK_SCHEMA_H
#define LK_SCHEMA_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest statement text lk_schema_sql produces. */
#define LK_SCHEMA_SQL_MAX 2048

typedef enum lk_col_type {
    LK_COL_TEXT,     /* char[size] */
    LK_COL_OPT_TEXT, /* char[size]; "" is stored as NULL (optional reference) */
    LK_COL_I64,      /* int64_t */
    LK_COL_INT,      /* an int-sized enum (lk_key_type) */
    LK_COL_HASH,     /* uint8_t[LK_TOKEN_HASH_LEN], a BLOB / bytea */
    LK_COL_SEQ,      /* int64_t assigned by the database at insert, increasing */
    LK_COL_OPT_HASH, /* as LK_COL_HASH, but all zero is stored as NULL and NULL read back
                      * as zeros (an optional hash under a UNIQUE index: prev_hash) */
} lk_col_type;

typedef struct lk_col {
    const char *name; /* column name; for a joined column "alias.column" */
    lk_col_type type;
    size_t off;      /* the field in the table's row struct */
    size_t size;     /* its size; 0: the column has no field (DDL only) */
    const char *ddl; /* neutral constraints after the type; NULL: joined, not a column */
} lk_col;

typedef struct lk_table {
    const char *name;
    const lk_col *cols;
    int ncols;
    size_t rec_size;            /* the plain record at the row's start */
    size_t row_size;            /* the whole row struct */
    const char *constraints;    /* table constraints (CHECK …), or NULL */
    const char *const *indexes; /* "[UNIQUE ]name ON table (cols)[ WHERE …]", NULL-ended */
    /* Not one of the released v1 tables: created by its own later
     * migration (lk_schema_table_ddl), so SQLite's v2 rebuild of the v1
     * tables leaves it out. */
} lk_table;

typedef enum lk_view {
    LK_VIEW_RECORD, /* the plain record's fields (lk_user) */
    LK_VIEW_ROW,    /* every field of the row struct (lk_user_row) */
} lk_view;

/* Row structs of the tables whose columns are not all in the record. */
typedef struct lk_session_row {
    lk_session session;
    uint8_t hash[LK_TOKEN_HASH_LEN];
} lk_session_row;

/* The index that finds a session by its id. Partial, so rows copied from a
 * database that predates session ids (id '' until the account migration
 * gives each one) never collide; that migration creates it for them. */
#define LK_SCHEMA_SESSIONS_ID_INDEX "UNIQUE sessions_id ON sessions (id) WHERE id <> ''"

extern const lk_table lk_schema_users, lk_schema_sessions, lk_schema_orgs, lk_schema_members,
    lk_schema_projects, lk_schema_environments, lk_schema_billing, lk_schema_keys;
/* --- audit --- */
extern const lk_table lk_schema_audit;
/* --- leak reports --- (not copied by migrate-data: counts only) */
extern const lk_table lk_schema_leak_reports;

/* Every table, in foreign-key order (parents first); NULL-ended. */
extern const lk_table *const lk_schema_tables[];

/* --- roles and invitations --- */
typedef struct lk_invitation_row {
    lk_invitation inv;
    uint8_t hash[LK_TOKEN_HASH_LEN]; /* of the lki_ token */
} lk_invitation_row;
extern const lk_table lk_schema_invitations;
/* The column schema version 3 adds to members (lk_schema_column_ddl). */
#define LK_SCHEMA_ROLE_COLUMN "role"
/* --- end roles and invitations --- */

/* --- device --- pending sign-ins from the CLI (lk_device; not copied by
 * migrate-data, so no lk_record_kind). */
extern const lk_table lk_schema_device;

/* --- named children (store.h's child_* ops): projects and environments
 * are one shape (id, parent, name, created_at, seq), so each backend
 * writes the statements of child_* once, for any child: in them `@T`
 * stands for the child's table and `@P` for its parent column. */
typedef struct lk_child {
    const lk_table *table;
    const char *parent_col; /* "org_id" | "project_id" */
    const char *what;       /* "project" | "environment": "<what> not found" */
    lk_record_kind kind;    /* its records in dump/load and in lk_row_sink */
} lk_child;

/* Indexed by lk_child_kind. */
extern const lk_child lk_schema_children[LK_CHILD_KINDS];

/* lk_schema_sql of tmpl with @T and @P replaced by c's table and parent
 * column. Returns 0, or -1 as lk_schema_sql (a bug: templates are
 * constants). */
int lk_schema_child_sql(const char *tmpl, const lk_child *c, char ph, char *out, size_t cap);

/* The table of a record kind (dump/load), or NULL. */
const lk_table *lk_schema_of_kind(lk_record_kind kind);

/* Does column c belong to view v of t (has a field inside the view)? */
static inline bool lk_col_in(const lk_table *t, const lk_col *c, lk_view v)
{
    return c->size > 0 && (v == LK_VIEW_ROW || c->off + c->size <= t->rec_size);
}

/* Is c one of t's own columns that an INSERT sets? */
static inline bool lk_col_inserted(const lk_col *c)
{
    return c->ddl != NULL && c->size > 0 && c->type != LK_COL_SEQ;
}

/* How many columns a `{t}` (record) or `{t*}` (row) list selects. */
int lk_schema_ncols(const lk_table *t, lk_view v);

/* Expand a statement template into out[cap]. In the template:
 *   {t} / {a.t}         the record view's columns of table t (alias a.)
 *   {t*} / {a.t*}       the row view's columns
 *   {t:insert}          "t (c1, c2, …) VALUES (P1, P2, …)", the inserted
 *                        columns, placeholders `ph`1, `ph`2 … ('?' or '$')
 * Tables are named as in SQL (access_keys). Returns 0, or -1 if the
 * template names an unknown table or out is too small (a bug: the
 * templates are constants). */
int lk_schema_sql(const char *tmpl, char ph, char *out, size_t cap);

/* A dialect's names for the column types and the seq column. */
typedef struct lk_dialect {
    const char *text, *i64, *i32, *blob;
    const char *seq; /* the whole seq column definition after the name */
} lk_dialect;

extern const lk_dialect lk_dialect_sqlite, lk_dialect_pg;

/* "CREATE TABLE t (…);CREATE INDEX …;" for table t in dialect d, into
 * out[cap]. Returns 0, or -1 if out is too small. */
int lk_schema_table_ddl(const lk_table *t, const lk_dialect *d, char *out, size_t cap);

/* "ALTER TABLE t ADD COLUMN c type constraints" for the column named
 * `column` of t in dialect d (a migration that adds a column), into
 * out[cap]. Returns 0, or -1 if t has no such column or out is too small. */
int lk_schema_column_ddl(const lk_table *t, const char *column, const lk_dialect *d, char *out,
                         size_t cap);

/* --- scopes: a column a migration adds, by table and name. */
typedef struct lk_schema_added_col {
    const lk_table *table;
    const char *column;
} lk_schema_added_col;
/* Version 3's columns (scoped keys, org key lifetime); NULL-ended. */
extern const lk_schema_added_col lk_schema_scopes_cols[];

/* Callbacks of every record kind behind one call (a list or dump loop in
 * a backend reads into a row buffer and hands it here). */
typedef struct lk_row_sink {
    lk_record_kind kind; /* which member of cb is set */
    lk_row_cb cb;
    void *ctx;
} lk_row_sink;

#define LK_SINK_RECORD ((lk_record_kind)0) /* kind of a sink whose cb is .record */
/* Kinds of the rows that are listed but not dumped (no lk_record_kind). */
#define LK_SINK_SESSION ((lk_record_kind)100)    /* cb.session, an lk_session */
#define LK_SINK_INVITATION ((lk_record_kind)101) /* cb.invitation, an lk_invitation */

int lk_row_sink_call(const lk_row_sink *s, const void *row);

/* The row key_create inserts: k with its hash, and the owner that does not
 * apply to k's type cleared (stored NULL; the CHECK on access_keys). */
void lk_key_row_of(const lk_key *k, const uint8_t hash[LK_TOKEN_HASH_LEN], lk_key_row *out);

#endif
