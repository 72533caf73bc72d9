/*
 * cli_resource.h — the server resources the CLI lists, creates and deletes,
 * each described once as data: its API path template, its kind (for
 * messages), how an argument names one (ID prefix, or a field to look it up
 * by) and its table columns (header, JSON field, how to show it, width
 * limit). Adding a resource or a column is one entry in cli_resource.c; the
 * generic list / create / delete here do the rest.
 *
 * Path templates: "{org}" is --org and "{project}" --project, each resolved
 * to an ID (an argument with the resource's ID prefix is taken as the ID,
 * anything else is looked up by exact name) and percent-escaped as one
 * segment. A resolved ID is kept in the ctx, so a name is looked up once.
 *
 * Output: a table for a person (cli_output.h, so every cell is made safe
 * for a terminal and fitted to its column's width limit); --json prints
 * the API's JSON byte for byte and never goes through the columns.
 */
#ifndef LK_CLI_RESOURCE_H
#define LK_CLI_RESOURCE_H

#include "cli.h"
#include "cli_output.h"

/* How a column shows its field (lk_res_column.flags). */
enum {
    COL_DATE = 1u << 0,   /* an RFC 3339 time, shown as a local date */
    COL_IF_ANY = 1u << 1, /* the column appears only if some row has the field */
    COL_LIST = 1u << 2,   /* an array of strings, shown joined by "," */
};

#define LK_RES_LIST_CELL_MAX 256 /* a COL_LIST cell before it is fitted to its column */

/* Display-width limits (terminal columns) of the free-text columns; IDs,
 * redacted keys and dates are never cut. */
#define LK_RES_NAME_WIDTH 40
#define LK_RES_EMAIL_WIDTH 48
#define LK_RES_SCOPES_WIDTH 48

typedef struct lk_res_column {
    const char *header; /* "LAST USED" */
    const char *field;  /* "last_used_at" */
    unsigned flags;     /* COL_* */
    size_t max_width;   /* in display columns; 0 = no limit */
} lk_res_column;

typedef struct lk_resource {
    const char *kind;                      /* "project", in messages: "project 'x' not found" */
    const char *path;                      /* "/v1/organizations/{org}/projects" */
    const char *path_no_org;               /* the path when --org is not given, or NULL */
    const char *id_field;                  /* "id", or "user_id" for members */
    const char *id_prefix;                 /* "prj_": an argument with it is an ID */
    const char *name_field;                /* the field an argument is looked up by */
    lk_res_column cols[LK_TABLE_COLS_MAX]; /* ended by a NULL header */
} lk_resource;

extern const lk_resource lk_res_orgs, lk_res_members, lk_res_projects, lk_res_envs, lk_res_keys;
extern const lk_resource lk_res_invitations; /* roles and invitations */
extern const lk_resource lk_res_audit; /* --- audit --- */

/* The collection's path into path (LK_CLI_PATH_MAX bytes), with --org and
 * --project resolved. 0 or an exit status (reported). */
int lk_res_path(lk_cli_ctx *x, const lk_resource *r, char *path);

/* The ID that value names in the collection at path: value itself when it
 * has the ID prefix (for a resource without one, members: unless it holds
 * an '@'), else the one item whose name field equals it. */
int lk_res_resolve(lk_cli_ctx *x, const lk_resource *r, const char *path, const char *value,
                   char id[LK_CLI_ESC_MAX]);

/* The item value names (by ID or name) in the collection at path. *item is
 * a new reference owned by the caller. */
int lk_res_find(lk_cli_ctx *x, const lk_resource *r, const char *path, const char *value,
                json_t **item);

/* path + "/" + the escaped id into out (LK_CLI_PATH_MAX bytes). */
int lk_res_item_path(lk_cli_ctx *x, const char *path, const char *id, char *out);

/* The path of the item value names (lk_res_path, lk_res_resolve,
 * lk_res_item_path) into one (LK_CLI_PATH_MAX bytes). */
int lk_res_one_path(lk_cli_ctx *x, const lk_resource *r, const char *value, char *one);

/* `<resource> list`: every page as a table, or one page as the API's JSON. */
int lk_res_list(lk_cli_ctx *x, const lk_resource *r);

/* POST body (stolen) to the collection and show what was created. */
int lk_res_create(lk_cli_ctx *x, const lk_resource *r, json_t *body);

/* PATCH body (stolen) to the item value names and show the result. */
int lk_res_patch(lk_cli_ctx *x, const lk_resource *r, const char *value, json_t *body);

/* Resolve value, DELETE it, say "Deleted <kind> <value>." on stderr. */
int lk_res_delete(lk_cli_ctx *x, const lk_resource *r, const char *value);

/* A created or changed object: the raw JSON with --json; a one-row table
 * on a terminal; its ID alone otherwise (so `ID=$(latchkey orgs create x)`). */
int lk_res_print_one(lk_cli_ctx *x, const lk_resource *r, const lk_client_resp *resp);

/* items (an array of objects) as the resource's table on stdout. */
int lk_res_print_table(const lk_resource *r, json_t *items);

#endif
