/*
 * cli_resource.c — the resource descriptions and the generic list /
 * create / delete over them (cli_resource.h). The descriptions come first:
 * to add a resource or a column, edit them and nothing else.
 */
#include "cli_resource.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PATH_VARS_MAX 2 /* {org} and {project} */

/* ------------------------------------------------------ the resources */

#define COL_ID                                                                                     \
    {                                                                                              \
        "ID", "id", 0, 0                                                                           \
    }
#define COL_NAME                                                                                   \
    {                                                                                              \
        "NAME", "name", 0, LK_RES_NAME_WIDTH                                                       \
    }
#define COL_CREATED                                                                                \
    {                                                                                              \
        "CREATED", "created_at", COL_DATE, 0                                                       \
    }

const lk_resource lk_res_orgs = {
    "organization",
    "/v1/organizations",
    NULL,
    "id",
    "org_",
    "name",
    {COL_ID, COL_NAME, COL_CREATED},
};

const lk_resource lk_res_members = {
    "member",
    "/v1/organizations/{org}/members",
    NULL,
    "user_id",
    NULL,
    "email",
    {{"USER ID", "user_id", 0, 0},
     {"EMAIL", "email", 0, LK_RES_EMAIL_WIDTH},
     COL_NAME,
     {"ROLE", "role", 0, 0},
     {"JOINED", "joined_at", COL_DATE, 0}},
};

/* --- roles and invitations --- */
const lk_resource lk_res_invitations = {
    "invitation",
    "/v1/organizations/{org}/invitations",
    NULL,
    "id",
    "inv_",
    "email",
    {{"ID", "id", 0, 0},
     {"EMAIL", "email", 0, LK_RES_EMAIL_WIDTH},
     {"ROLE", "role", 0, 0},
     {"INVITED BY", "invited_by", 0, 0},
     {"EXPIRES", "expires_at", COL_DATE, 0}},
};

const lk_resource lk_res_projects = {
    "project", "/v1/organizations/{org}/projects", NULL, "id", "prj_",
    "name",    {COL_ID, COL_NAME, COL_CREATED},
};

const lk_resource lk_res_envs = {
    "environment",
    "/v1/organizations/{org}/projects/{project}/environments",
    NULL,
    "id",
    "env_",
    "name",
    {COL_ID, COL_NAME, COL_CREATED},
};

/* spec: "keys list": ID, NAME, KEY (redacted), CREATED; the optional
 * columns appear when some key has the field */
const lk_resource lk_res_keys = {
    "key",
    "/v1/organizations/{org}/access-keys",
    "/v1/me/access-keys",
    "id",
    "key_",
    "name",
    {COL_ID,
     COL_NAME,
     {"KEY", "redacted", 0, 0},
     COL_CREATED,
     {"SCOPES", "scopes", COL_LIST, LK_RES_SCOPES_WIDTH},
     {"LAST USED", "last_used_at", COL_DATE | COL_IF_ANY, 0},
     {"LAST IP", "last_used_ip", COL_IF_ANY, 0},
     {"EXPIRES", "expires_at", COL_DATE | COL_IF_ANY, 0},
     /* --- rotate: the dashboard's "previous token valid until …" */
     {"PREVIOUS TOKEN UNTIL", "previous_token_expires_at", COL_DATE | COL_IF_ANY, 0}},
};

/* --- audit --- (cmd_audit.c flattens actor and target into the *_label
 * fields these columns show) */
const lk_resource lk_res_audit = {
    "audit event",
    "/v1/organizations/{org}/audit-events",
    "/v1/me/audit-events",
    "id",
    "evt_",
    "action",
    {{"TIME", "created_at", 0, 0},
     {"ACTION", "action", 0, 0},
     {"ACTOR", "actor_label", 0, LK_RES_NAME_WIDTH},
     {"TARGET", "target_label", 0, LK_RES_NAME_WIDTH},
     {"IP", "ip", COL_IF_ANY, 0}},
};

/* ---------------------------------------------------------------- paths */

/* The ID of --org (want_project false) or --project, cached in the ctx. */
static int resolve_flag(lk_cli_ctx *x, bool want_project, const char **id)
{
    char path[LK_CLI_PATH_MAX];
    const lk_resource *r = want_project ? &lk_res_projects : &lk_res_orgs;
    char *cache = want_project ? x->project_id : x->org_id;
    const char *value = want_project ? x->o.project : x->o.org;
    int rc = 0;
    assert(value); /* the command table requires the flag */
    if (!cache[0]) {
        if ((rc = lk_res_path(x, r, path)) == 0) rc = lk_res_resolve(x, r, path, value, cache);
    }
    *id = cache;
    return rc;
}

int lk_res_path(lk_cli_ctx *x, const lk_resource *r, char *path)
{
    static const char org_var[] = "{org}", prj_var[] = "{project}";
    const char *t = r->path_no_org && !x->o.org ? r->path_no_org : r->path;
    char fmt[LK_CLI_PATH_MAX];
    const char *arg[PATH_VARS_MAX];
    size_t o = 0;
    int n = 0, rc;
    for (const char *p = t; *p; p++) {
        assert(o + 3 < sizeof fmt); /* templates are short literals */
        bool is_org = strncmp(p, org_var, sizeof org_var - 1) == 0;
        bool is_prj = strncmp(p, prj_var, sizeof prj_var - 1) == 0;
        if (!is_org && !is_prj) {
            fmt[o++] = *p;
            continue;
        }
        assert(n < PATH_VARS_MAX);
        if ((rc = resolve_flag(x, is_prj, &arg[n++])) != 0) return rc;
        fmt[o++] = '%';
        fmt[o++] = 's';
        p += (is_org ? sizeof org_var : sizeof prj_var) - 2;
    }
    fmt[o] = '\0';
    return lk_cli_build_path(x, path, LK_CLI_PATH_MAX, fmt, n > 0 ? arg[0] : "",
                             n > 1 ? arg[1] : "");
}

int lk_res_find(lk_cli_ctx *x, const lk_resource *r, const char *path, const char *value,
                json_t **item)
{
    return lk_cli_find_item(x, path, r->id_field, r->name_field, value, r->kind, item);
}

int lk_res_resolve(lk_cli_ctx *x, const lk_resource *r, const char *path, const char *value,
                   char id[LK_CLI_ESC_MAX])
{
    bool is_id = r->id_prefix ? strncmp(value, r->id_prefix, strlen(r->id_prefix)) == 0
                              : strchr(value, '@') == NULL;
    if (is_id || strlen(value) >= LK_CLI_ESC_MAX) {
        snprintf(id, LK_CLI_ESC_MAX, "%s", value);
        return 0;
    }
    json_t *item;
    int rc = lk_res_find(x, r, path, value, &item);
    if (rc != 0) return rc;
    const char *v = lk_cli_jstr(item, r->id_field);
    snprintf(id, LK_CLI_ESC_MAX, "%s", v ? v : "");
    json_decref(item);
    return 0;
}

int lk_res_item_path(lk_cli_ctx *x, const char *path, const char *id, char *out)
{
    char one[LK_CLI_PATH_MAX];
    int rc = lk_cli_build_path(x, one, sizeof one, "/%s", id);
    if (rc != 0) return rc;
    if ((size_t)snprintf(out, LK_CLI_PATH_MAX, "%s%s", path, one) >= LK_CLI_PATH_MAX)
        return lk_cli_usage_error(x, "an argument is too long");
    return 0;
}

int lk_res_one_path(lk_cli_ctx *x, const lk_resource *r, const char *value, char *one)
{
    char path[LK_CLI_PATH_MAX], id[LK_CLI_ESC_MAX];
    int rc = lk_res_path(x, r, path);
    if (rc == 0) rc = lk_res_resolve(x, r, path, value, id);
    return rc != 0 ? rc : lk_res_item_path(x, path, id, one);
}

/* --------------------------------------------------------------- tables */

static bool any_set(json_t *items, const char *field)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *v = lk_cli_jstr(it, field);
        if (v && *v) return true;
    }
    return false;
}

/* The columns shown for these items: indexes into r->cols. */
static size_t shown_columns(const lk_resource *r, json_t *items, size_t idx[LK_TABLE_COLS_MAX])
{
    size_t n = 0;
    for (size_t c = 0; c < LK_TABLE_COLS_MAX && r->cols[c].header; c++)
        if (!(r->cols[c].flags & COL_IF_ANY) || any_set(items, r->cols[c].field)) idx[n++] = c;
    return n;
}

/* A COL_LIST cell: the strings of array v joined by ","; "…" once full. */
static const char *join_list(json_t *v, char out[LK_RES_LIST_CELL_MAX])
{
    size_t at = 0, i;
    json_t *e;
    out[0] = '\0';
    json_array_foreach(v, i, e)
    {
        const char *s = json_string_value(e);
        size_t n = s ? strlen(s) : 0;
        if (at + n + 2 >= LK_RES_LIST_CELL_MAX) {
            snprintf(out + at, LK_RES_LIST_CELL_MAX - at, "…");
            break;
        }
        if (at > 0) out[at++] = ',';
        memcpy(out + at, s ? s : "", n);
        at += n;
        out[at] = '\0';
    }
    return out;
}

static int add_row(lk_table *t, const lk_resource *r, const size_t *idx, size_t n, json_t *it)
{
    const char *cell[LK_TABLE_COLS_MAX];
    char date[LK_TABLE_COLS_MAX][LK_DATE_SIZE];
    char list[LK_RES_LIST_CELL_MAX];
    for (size_t i = 0; i < n; i++) {
        const lk_res_column *col = &r->cols[idx[i]];
        cell[i] = lk_cli_jstr(it, col->field);
        if (col->flags & COL_LIST) cell[i] = join_list(json_object_get(it, col->field), list);
        if (col->flags & COL_DATE) {
            lk_output_date(cell[i], date[i]);
            cell[i] = date[i];
        }
    }
    return lk_table_add(t, cell);
}

int lk_res_print_table(const lk_resource *r, json_t *items)
{
    size_t idx[LK_TABLE_COLS_MAX];
    const char *head[LK_TABLE_COLS_MAX];
    size_t n = shown_columns(r, items, idx);
    assert(n > 0);
    for (size_t i = 0; i < n; i++)
        head[i] = r->cols[idx[i]].header;
    lk_table *t = lk_table_new(n, head);
    if (!t) return LK_EXIT_FAIL;
    for (size_t i = 0; i < n; i++)
        lk_table_limit(t, i, r->cols[idx[i]].max_width);
    int rc = 0;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        if (add_row(t, r, idx, n, it) != 0) {
            rc = LK_EXIT_FAIL;
            goto out;
        }
    }
    lk_table_print(t, stdout, lk_output_color(stdout));
out:
    lk_table_free(t);
    return rc;
}

int lk_res_print_one(lk_cli_ctx *x, const lk_resource *r, const lk_client_resp *resp)
{
    if (x->o.json) {
        lk_cli_print_raw(resp);
        return 0;
    }
    if (!json_is_object(resp->json)) return 0;
    if (isatty(STDOUT_FILENO)) {
        json_t *arr = json_array();
        if (!arr) return LK_EXIT_FAIL;
        json_array_append(arr, resp->json);
        int rc = lk_res_print_table(r, arr);
        json_decref(arr);
        return rc;
    }
    const char *id = lk_cli_jstr(resp->json, r->id_field);
    if (id) {
        char safe[LK_TABLE_CELL_MAX];
        lk_output_sanitize(id, safe, sizeof safe);
        printf("%s\n", safe);
    }
    return 0;
}

/* ------------------------------------------------------------- commands */

int lk_res_list(lk_cli_ctx *x, const lk_resource *r)
{
    char path[LK_CLI_PATH_MAX];
    int rc = lk_res_path(x, r, path);
    if (rc != 0) return rc;
    if (x->o.json) return lk_cli_print_list_json(x, path);
    json_t *items;
    if ((rc = lk_cli_fetch_all(x, path, &items)) != 0) return rc;
    rc = lk_res_print_table(r, items);
    json_decref(items);
    return rc;
}

int lk_res_create(lk_cli_ctx *x, const lk_resource *r, json_t *body)
{
    char path[LK_CLI_PATH_MAX];
    lk_client_resp resp;
    int rc = body ? lk_res_path(x, r, path) : LK_EXIT_FAIL;
    if (rc == 0) rc = lk_cli_request(x, "POST", path, body, &resp);
    json_decref(body);
    if (rc != 0) return rc;
    rc = lk_res_print_one(x, r, &resp);
    lk_client_resp_release(&resp);
    return rc;
}

int lk_res_patch(lk_cli_ctx *x, const lk_resource *r, const char *value, json_t *body)
{
    char one[LK_CLI_PATH_MAX];
    lk_client_resp resp;
    int rc = body ? lk_res_one_path(x, r, value, one) : LK_EXIT_FAIL;
    if (rc == 0) rc = lk_cli_request(x, "PATCH", one, body, &resp);
    json_decref(body);
    if (rc != 0) return rc;
    rc = lk_res_print_one(x, r, &resp);
    lk_client_resp_release(&resp);
    return rc;
}

int lk_res_delete(lk_cli_ctx *x, const lk_resource *r, const char *value)
{
    char one[LK_CLI_PATH_MAX];
    int rc = lk_res_one_path(x, r, value, one);
    if (rc != 0) return rc;
    lk_client_resp resp;
    if ((rc = lk_cli_request(x, "DELETE", one, NULL, &resp)) != 0) return rc;
    lk_client_resp_release(&resp);
    if (!x->o.json) lk_cli_notef("Deleted %s %s.", r->kind, value);
    return 0;
}
