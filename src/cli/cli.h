/*
 * cli.h — what the pieces of the `latchkey` command-line client share
 * (spec: "The CLI"). Internal to src/cli; nothing outside includes it.
 *
 * Design: main.c turns argv into an `opts` with getopt_long, picks the
 * command from its table (the table's flags say what each command allows,
 * needs and whether it wants a credential), checks the usage and then
 * calls the command's `run` with a `ctx`. Each command group lives in its
 * own cmd_<group>.c; list/create/delete of a server resource go through
 * the resource descriptions of cli_resource.h.
 *
 * The shared helpers here (cli_session.c, cli_request.c):
 *  - report: errorf / notef / usage_error / request_failed print on stderr
 *    and return the exit status (LK_EXIT_*), every message scrubbed of
 *    anything that looks like a token;
 *  - session: where the URL and the token come from (the top of main.c)
 *    and making the client;
 *  - request: path building (every argument percent-escaped), pages, and
 *    looking an item up by ID or name.
 * Every helper returning int returns 0 or an exit status it has already
 * reported.
 *
 * Never: print a token anywhere but the one stdout line of `keys create`;
 * prompt without a terminal; follow a redirect; read a credentials file
 * that others can read.
 */
#ifndef LK_CLI_H
#define LK_CLI_H

#include "cli_credentials.h"
#include "client.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define LK_CLI_DEFAULT_URL "http://127.0.0.1:8080"
#define LK_CLI_MAX_POS 8       /* positional words kept from argv */
#define LK_CLI_PATH_MAX 1024   /* an API path we build */
#define LK_CLI_ESC_MAX 512     /* one escaped path segment, or an ID */
#define LK_CLI_SECRET_MAX 1024 /* a password or a pasted token */
/* a message about the credentials file: up to two paths and the text */
#define LK_CLI_CRED_MSG_MAX (LK_CRED_PATH_MAX * 2 + 200)
#define LK_CLI_LIMIT_MIN 1 /* --limit range (spec: list pages) */
#define LK_CLI_LIMIT_MAX 1000
#define LK_CLI_EXPIRY_WARN_DAYS 7 /* warn when the key in use expires sooner */
#define LK_CLI_SECS_PER_DAY 86400
#define LK_CLI_LIST_OPT_MAX 32 /* --scope / --allow-cidr values (the API's maximum) */

/* Flags of an option a command may allow (command.allowed/required). */
enum {
    F_ORG = 1u << 0,
    F_PROJECT = 1u << 1,
    F_EXPIRES = 1u << 2,
    F_YES = 1u << 3,
    F_LIMIT = 1u << 4,
    F_CURSOR = 1u << 5,
    F_SCOPE = 1u << 6,      /* --scope S (repeatable, or S,S) */
    F_READ_ONLY = 1u << 7,  /* --read-only */
    F_ALLOW_CIDR = 1u << 8, /* --allow-cidr CIDR (repeatable, or C,C) */
    F_ROLE = 1u << 9,       /* --role owner|member (members invite) */
    F_GRACE = 1u << 10,     /* keys rotate --grace */
    F_PASSWORD = 1u << 11,  /* login --password: email and password prompt */
    F_NO_BROWSER = 1u << 12, /* login --no-browser: only print the URL */
    F_ACTION = 1u << 13,     /* audit --action A */
};
#define F_LIST (F_LIMIT | F_CURSOR)

/* Flags of a command (command.flags). */
enum {
    CMD_NO_CREDENTIAL = 1u << 0, /* run finds its own credential, or needs none */
};

typedef struct lk_cli_opts {
    const char *url, *token, *org, *project, *expires, *limit, *cursor;
    const char *role; /* --role */
    const char *grace; /* --- rotate: --grace DURATION */
    const char *action; /* --- audit --- */
    bool json, yes, help, version;
    unsigned seen; /* F_* given on the command line */
    const char *pos[LK_CLI_MAX_POS];
    int npos;
    const char *bad_flag;   /* first unknown option as given, or NULL */
    const char *flag_noval; /* a value option at the end of argv */
    bool too_many;          /* more than LK_CLI_MAX_POS positional words */
    /* keys create, login: the values of --scope and --allow-cidr as given */
    const char *scope[LK_CLI_LIST_OPT_MAX];
    int nscope;
    const char *cidr[LK_CLI_LIST_OPT_MAX];
    int ncidr;
    bool read_only;
    bool list_too_long; /* more than LK_CLI_LIST_OPT_MAX of either */
    /* login: --password, --no-browser (its --scope values are scope[]) */
    bool password, no_browser;
} lk_cli_opts;

typedef struct lk_cli_ctx lk_cli_ctx;

typedef struct lk_cli_command {
    const char *group; /* "keys", or the whole command for "login" etc. */
    const char *sub;   /* "create", or NULL */
    const char *usage; /* after "latchkey " */
    const char *help;  /* one line */
    int args_min, args_max;
    unsigned allowed, required; /* F_* */
    unsigned flags;             /* CMD_* */
    int (*run)(lk_cli_ctx *x);
} lk_cli_command;

struct lk_cli_ctx {
    lk_cli_opts o;
    const lk_cli_command *cmd;
    const char **args; /* the command's own words */
    int nargs;
    char url[LK_CRED_URL_MAX];
    bool url_explicit;        /* from --url or LATCHKEY_URL */
    const char *token_source; /* "--token", "LATCHKEY_TOKEN", the file path */
    char cred_path[LK_CRED_PATH_MAX];
    lk_cred cred;
    lk_client *client;               /* owned; freed by main */
    char org_id[LK_CLI_ESC_MAX];     /* --org resolved to an ID, or "" */
    char project_id[LK_CLI_ESC_MAX]; /* --project resolved to an ID, or "" */
    bool err_color;
    bool expiry_warned; /* the key-expiry warning was printed this run */
};

/* ---- report (cli_session.c) */
void lk_cli_errorf(lk_cli_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lk_cli_notef(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int lk_cli_usage_error(lk_cli_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lk_cli_request_failed(lk_cli_ctx *x, int rc);
/* Prompt on stderr and read one line from stdin into out (size bytes),
 * without the newline; echo off when secret. 0, or -1 on EOF/overflow (out
 * wiped). The caller owns out and wipes it when it held a secret. */
int lk_cli_prompt_line(const char *prompt, char *out, size_t size, bool secret);

/* ---- session (cli_session.c) */
void lk_cli_strip_slashes(char *s);
int lk_cli_resolve_url(lk_cli_ctx *x);
int lk_cli_make_client(lk_cli_ctx *x);
int lk_cli_use_stored_credential(lk_cli_ctx *x);
int lk_cli_connect(lk_cli_ctx *x);

/* ---- request (cli_request.c) */
/* A string member of a JSON object, or NULL. Borrowed from o. */
const char *lk_cli_jstr(json_t *o, const char *k);
/* Print the raw body of a response on stdout, ending with a newline. */
void lk_cli_print_raw(const lk_client_resp *r);
/* out = fmt with each %s argument percent-escaped as one segment. */
int lk_cli_build_path(lk_cli_ctx *x, char *out, size_t size, const char *fmt, ...);
/* Send a request; on failure it is reported and resp is released. */
int lk_cli_request(lk_cli_ctx *x, const char *method, const char *path, json_t *body,
                   lk_client_resp *resp);
/* GET a list, following next_cursor unless --cursor was given. *items is
 * a new array owned by the caller. */
int lk_cli_fetch_all(lk_cli_ctx *x, const char *path, json_t **items);
/* --json for a list: one page, printed as the API sent it. */
int lk_cli_print_list_json(lk_cli_ctx *x, const char *path);
/* The item of the list at path whose id_field (else, when by_name is
 * given, whose by_name field) equals value. *found is a new reference
 * owned by the caller. `what` names the kind in messages. */
int lk_cli_find_item(lk_cli_ctx *x, const char *path, const char *id_field, const char *by_name,
                     const char *value, const char *what, json_t **found);
/* {"name": name}; a new reference owned by the caller, NULL on OOM. */
json_t *lk_cli_name_body(const char *name);

/* ---- the commands (cmd_*.c); main.c's table points at these */
int lk_cmd_login(lk_cli_ctx *x);
/* --- device --- the browser sign-in (cmd_device.c): on 0, cred holds the
 * URL, token and key ID of the approved key and keyname its name (the
 * caller clears cred); else an exit status, reported. */
int lk_cli_device_login(lk_cli_ctx *x, const char *client_name, lk_cred *cred, char *keyname,
                        size_t keyname_size);
int lk_cmd_logout(lk_cli_ctx *x);
int lk_cmd_whoami(lk_cli_ctx *x);
int lk_cmd_orgs_list(lk_cli_ctx *x);
int lk_cmd_orgs_create(lk_cli_ctx *x);
int lk_cmd_members_list(lk_cli_ctx *x);
int lk_cmd_members_add(lk_cli_ctx *x);
int lk_cmd_members_remove(lk_cli_ctx *x);
/* roles and invitations (cmd_members.c, cmd_invitations.c) */
int lk_cmd_members_invite(lk_cli_ctx *x);
int lk_cmd_members_role(lk_cli_ctx *x);
int lk_cmd_invitations_list(lk_cli_ctx *x);
int lk_cmd_invitations_revoke(lk_cli_ctx *x);
int lk_cmd_invitations_accept(lk_cli_ctx *x);
int lk_cmd_projects_list(lk_cli_ctx *x);
int lk_cmd_projects_create(lk_cli_ctx *x);
int lk_cmd_projects_delete(lk_cli_ctx *x);
int lk_cmd_envs_list(lk_cli_ctx *x);
int lk_cmd_envs_create(lk_cli_ctx *x);
int lk_cmd_keys_list(lk_cli_ctx *x);
int lk_cmd_keys_create(lk_cli_ctx *x);
int lk_cmd_keys_rename(lk_cli_ctx *x);
int lk_cmd_keys_delete(lk_cli_ctx *x);
int lk_cmd_keys_check(lk_cli_ctx *x);
/* cmd_account.c */
int lk_cmd_sessions_list(lk_cli_ctx *x);
int lk_cmd_sessions_revoke(lk_cli_ctx *x);
int lk_cmd_password(lk_cli_ctx *x);
int lk_cmd_keys_rotate(lk_cli_ctx *x); /* --- rotate */

/* The --scope values (each may be S,S) into arr as names, checked against
 * scope.h: 0, or a usage error's exit status. (cmd_keys.c; login uses it.) */
int lk_cli_scopes_json(lk_cli_ctx *x, json_t *arr);
int lk_cmd_audit(lk_cli_ctx *x); /* --- audit --- (cmd_audit.c) */

#endif
