/*
 * latchkey.c — the `latchkey` command-line client (spec: "The CLI").
 *
 *     latchkey [--url URL] [--token TOKEN] [--json] COMMAND ...
 *
 * Design: one pass over argv collects every flag (before or after the
 * command, `--flag VALUE` or `--flag=VALUE`) and the positional words; the
 * command table below then names, per command, how many words it takes and
 * which flags it allows, so usage errors are found before anything else
 * happens and always print that command's usage line (exit 2).
 *
 * Where things come from, in order:
 *  - the URL: --url, LATCHKEY_URL, the URL stored with the credentials file
 *    (only when the token comes from that file), http://127.0.0.1:8080;
 *  - the token: --token, LATCHKEY_TOKEN, the credentials file written by
 *    `latchkey login` (cli_credentials.h). A token is checked offline before
 *    it is sent; a command that needs one and finds none exits 3.
 *
 * Output: a person gets aligned tables on stdout (cli_output.h) and every
 * remark on stderr; --json prints the API's answer byte for byte. Errors are
 * one line on stderr; exit statuses come from lk_client_exit_code alone.
 *
 * Never: print a token anywhere but the one stdout line of `keys create`;
 * prompt without a terminal; follow a redirect; read a credentials file that
 * others can read.
 */
#include "cli_credentials.h"
#include "cli_output.h"
#include "client.h"
#include "timefmt.h"
#include "token.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#define DEFAULT_URL "http://127.0.0.1:8080"
#define MAX_POS 8
#define PATH_MAX_LEN 1024
#define ESC_MAX 512
#define MAX_PAGES 1000
#define SECRET_MAX 1024

/* Flags a command may allow. */
enum {
    F_ORG = 1u << 0,
    F_PROJECT = 1u << 1,
    F_EXPIRES = 1u << 2,
    F_YES = 1u << 3,
    F_LIMIT = 1u << 4,
    F_CURSOR = 1u << 5,
};
#define F_LIST (F_LIMIT | F_CURSOR)

typedef struct opts {
    const char *url, *token, *org, *project, *expires, *limit, *cursor;
    bool json, yes, help, version;
    unsigned seen; /* F_* given on the command line */
    const char *pos[MAX_POS];
    int npos;
    const char *bad_flag;   /* first unknown flag, or NULL */
    const char *flag_noval; /* a value flag at the end of argv */
    bool too_many;
} opts;

typedef struct ctx ctx;

typedef struct command {
    const char *group; /* "keys", or the whole command for "login" etc. */
    const char *sub;   /* "create", or NULL */
    const char *usage; /* after "latchkey " */
    const char *help;  /* one line */
    int args_min, args_max;
    unsigned allowed, required;
    int (*run)(ctx *x);
} command;

struct ctx {
    opts o;
    const command *cmd;
    const char **args; /* the command's own words */
    int nargs;
    char url[LK_CRED_URL_MAX];
    bool url_explicit;
    const char *token_source; /* "--token", "LATCHKEY_TOKEN", the file path */
    char cred_path[LK_CRED_PATH_MAX];
    lk_cred cred;
    lk_client *client;
    bool err_color;
};

/* ---------------------------------------------------------------- output */

static void errorf(ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void errorf(ctx *x, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    lk_client_scrub(buf);
    if (x && x->err_color)
        fprintf(stderr, "latchkey: \033[31merror:\033[0m %s\n", buf);
    else
        fprintf(stderr, "latchkey: error: %s\n", buf);
}

static void notef(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void notef(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int usage_error(ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(ctx *x, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    lk_client_scrub(buf);
    fprintf(stderr, "latchkey: %s\n", buf);
    if (x && x->cmd)
        fprintf(stderr, "usage: latchkey %s\nRun 'latchkey %s%s%s --help' for more.\n",
                x->cmd->usage, x->cmd->group, x->cmd->sub ? " " : "",
                x->cmd->sub ? x->cmd->sub : "");
    else
        fprintf(stderr, "usage: latchkey [--url URL] [--token TOKEN] [--json] COMMAND ...\n"
                        "Run 'latchkey --help' for the list of commands.\n");
    return LK_EXIT_USAGE;
}

/* Report a failed request and return the exit status. */
static int request_failed(ctx *x, int rc)
{
    const char *m = lk_client_errmsg(x->client);
    if (rc == LK_CLIENT_EUNAUTH && x->token_source)
        errorf(x, "%s; the token from %s was not accepted", m, x->token_source);
    else
        errorf(x, "%s", m);
    return lk_client_exit_code(rc);
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Print the raw body of a response on stdout, ending with a newline. */
static void print_raw(const lk_client_resp *r)
{
    if (r->raw_len == 0) return;
    fwrite(r->raw, 1, r->raw_len, stdout);
    if (r->raw[r->raw_len - 1] != '\n') fputc('\n', stdout);
}

/* ------------------------------------------------------------- terminal */

static struct termios saved_tio;
static volatile sig_atomic_t echo_off;

static void restore_echo(int sig)
{
    if (echo_off) tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
    echo_off = 0;
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Prompt on stderr and read one line from stdin into out (size bytes),
 * without the newline; with echo off when secret. 0, or -1 on EOF/overflow.
 * The caller owns out and wipes it when it held a secret. */
static int prompt_line(const char *prompt, char *out, size_t size, bool secret)
{
    struct sigaction sa = {0}, old_int, old_term;
    int rc = -1;
    /* echo goes off before the prompt appears, and without flushing, so
     * nothing typed after the prompt is echoed or lost */
    if (secret && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
        struct termios t = saved_tio;
        sa.sa_handler = restore_echo;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        t.c_lflag |= ICANON;
        echo_off = 1;
        tcsetattr(STDIN_FILENO, TCSANOW, &t);
    }
    fputs(prompt, stderr);
    fflush(stderr);
    size_t n = 0;
    int ch;
    while ((ch = fgetc(stdin)) != EOF && ch != '\n') {
        if (n + 1 >= size) {
            n = size; /* too long: drain the line, then fail */
            continue;
        }
        out[n++] = (char)ch;
    }
    if (n < size && !(ch == EOF && n == 0)) {
        if (n > 0 && out[n - 1] == '\r') n--;
        out[n] = '\0';
        rc = 0;
    } else if (size > 0) {
        sodium_memzero(out, size);
    }
    if (echo_off) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
        echo_off = 0;
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        fputc('\n', stderr);
    }
    return rc;
}

/* ------------------------------------------------------- URL and token */

static void strip_slashes(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        s[--n] = '\0';
}

/* Set x->url from --url or LATCHKEY_URL (x->url_explicit) or the default. */
static int resolve_url(ctx *x)
{
    const char *u = x->o.url;
    if (!u || !*u) u = getenv("LATCHKEY_URL");
    x->url_explicit = u && *u;
    if (!x->url_explicit) u = DEFAULT_URL;
    if (strlen(u) >= sizeof x->url) return usage_error(x, "the URL is too long");
    snprintf(x->url, sizeof x->url, "%s", u);
    strip_slashes(x->url);
    return 0;
}

static int make_client(ctx *x)
{
    int rc = lk_client_new(x->url, &x->client);
    if (rc == LK_CLIENT_EUSAGE)
        return usage_error(x, "bad server URL '%s': it must start with http:// or https://",
                           x->url);
    if (rc != 0) {
        errorf(x, "out of memory");
        return LK_EXIT_FAIL;
    }
    return 0;
}

static int no_credential(ctx *x)
{
    errorf(x,
           "not logged in: no credential found. Pass --token TOKEN, set LATCHKEY_TOKEN, "
           "or run `latchkey login` (which stores one in %s)",
           x->cred_path[0] ? x->cred_path : "~/.config/latchkey/credentials");
    return LK_EXIT_UNAUTH;
}

/* Load the credentials file into x->cred. 0 or an exit status (reported). */
static int load_file(ctx *x)
{
    char msg[LK_CRED_PATH_MAX * 2 + 200];
    if (lk_cred_path(x->cred_path) != 0) {
        x->cred_path[0] = '\0';
        return no_credential(x);
    }
    int rc = lk_cred_load(x->cred_path, &x->cred, msg, sizeof msg);
    if (rc == LK_CRED_ENOENT) return no_credential(x);
    if (rc != 0) {
        errorf(x, "%s", msg);
        return LK_EXIT_UNAUTH;
    }
    return 0;
}

/* Load the credentials file and take the URL stored with it. An explicit
 * URL (--url, LATCHKEY_URL) that differs is refused: a stored token is never
 * sent to a server it was not made for. resolve_url must have run.
 * Returns 0 or an exit status (already reported). */
static int use_stored_credential(ctx *x)
{
    int rc = load_file(x);
    if (rc != 0) return rc;
    x->token_source = x->cred_path;
    char stored[LK_CRED_URL_MAX];
    snprintf(stored, sizeof stored, "%s", x->cred.url[0] ? x->cred.url : DEFAULT_URL);
    strip_slashes(stored);
    if (x->url_explicit && strcmp(stored, x->url) != 0) {
        errorf(x,
               "the stored credential is for %s, not %s. Run `latchkey --url %s login`, "
               "or pass --token / set LATCHKEY_TOKEN",
               stored, x->url, x->url);
        return LK_EXIT_UNAUTH;
    }
    snprintf(x->url, sizeof x->url, "%s", stored);
    return 0;
}

/* Find the credential (see the top of the file), then make the client.
 * Returns 0 or an exit status (already reported). */
static int connect_with_credential(ctx *x)
{
    const char *tok = NULL;
    int rc = resolve_url(x);
    if (rc != 0) return rc;
    if (x->o.token) {
        tok = x->o.token;
        x->token_source = "--token";
    } else if ((tok = getenv("LATCHKEY_TOKEN")) && *tok) {
        x->token_source = "LATCHKEY_TOKEN";
    } else {
        if ((rc = use_stored_credential(x)) != 0) return rc;
        tok = x->cred.token;
    }
    lk_token_status st = lk_token_parse(tok, strlen(tok), NULL);
    if (st != LK_TOKEN_OK) {
        errorf(x, "the token from %s is not a latchkey access key (%s)", x->token_source,
               lk_token_status_str(st));
        return LK_EXIT_UNAUTH;
    }
    if ((rc = make_client(x)) != 0) return rc;
    if (lk_client_set_token(x->client, tok) != 0) {
        errorf(x, "out of memory");
        return LK_EXIT_FAIL;
    }
    return 0;
}

/* ------------------------------------------------------------- requests */

/* path = fmt with each argument percent-escaped as one segment. */
static int build_path(ctx *x, char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t o = 0;
    int rc = 0;
    for (const char *p = fmt; *p && rc == 0; p++) {
        if (p[0] == '%' && p[1] == 's') {
            char esc[ESC_MAX];
            const char *v = va_arg(ap, const char *);
            if (lk_client_escape(v, esc, sizeof esc) != 0 || o + strlen(esc) >= size) {
                rc = -1;
                break;
            }
            memcpy(out + o, esc, strlen(esc));
            o += strlen(esc);
            p++;
        } else {
            if (o + 1 >= size) {
                rc = -1;
                break;
            }
            out[o++] = *p;
        }
    }
    va_end(ap);
    out[o < size ? o : size - 1] = '\0';
    if (rc != 0) return usage_error(x, "an argument is too long");
    return 0;
}

static int request(ctx *x, const char *method, const char *path, json_t *body, lk_client_resp *resp)
{
    int rc = lk_client_request(x->client, method, path, body, resp);
    if (rc != 0) {
        rc = request_failed(x, rc);
        lk_client_resp_release(resp);
    }
    return rc;
}

/* Append "limit=&cursor=" from the flags (and an explicit cursor) to path. */
static int page_path(ctx *x, char *out, size_t size, const char *path, const char *cursor)
{
    char esc[ESC_MAX];
    int n = snprintf(out, size, "%s", path);
    char sep = strchr(path, '?') ? '&' : '?';
    if (x->o.limit) {
        if (lk_client_escape(x->o.limit, esc, sizeof esc) != 0)
            return usage_error(x, "bad --limit");
        n += snprintf(out + n, size - (size_t)n, "%climit=%s", sep, esc);
        sep = '&';
    }
    if (cursor) {
        if (lk_client_escape(cursor, esc, sizeof esc) != 0)
            return usage_error(x, "the cursor is too long");
        n += snprintf(out + n, size - (size_t)n, "%ccursor=%s", sep, esc);
    }
    if ((size_t)n >= size) return usage_error(x, "an argument is too long");
    return 0;
}

/* GET a list. Without --cursor it follows next_cursor through every page
 * (at most MAX_PAGES); with it, one page. *items is a new array owned by
 * the caller. Returns 0 or an exit status (reported). */
static int fetch_all(ctx *x, const char *path, json_t **items)
{
    char full[PATH_MAX_LEN + ESC_MAX + 64];
    char cursor[ESC_MAX] = "";
    bool follow = x->o.cursor == NULL;
    int rc;
    *items = json_array();
    if (!*items) return LK_EXIT_FAIL;
    if (x->o.cursor) snprintf(cursor, sizeof cursor, "%s", x->o.cursor);
    for (int page = 0; page < MAX_PAGES; page++) {
        if ((rc = page_path(x, full, sizeof full, path, cursor[0] ? cursor : NULL)) != 0) break;
        lk_client_resp r;
        if ((rc = request(x, "GET", full, NULL, &r)) != 0) break;
        json_t *data = json_object_get(r.json, "data");
        if (!json_is_array(data)) {
            errorf(x, "unexpected answer from %s: no \"data\" list", lk_client_base_url(x->client));
            lk_client_resp_release(&r);
            rc = LK_EXIT_FAIL;
            break;
        }
        json_array_extend(*items, data);
        const char *next = jstr(r.json, "next_cursor");
        bool more =
            follow && next && *next && strlen(next) < sizeof cursor && strcmp(next, cursor) != 0;
        if (more) snprintf(cursor, sizeof cursor, "%s", next);
        lk_client_resp_release(&r);
        if (!more) return 0;
    }
    if (rc == 0) return 0; /* MAX_PAGES reached: show what we have */
    json_decref(*items);
    *items = NULL;
    return rc;
}

/* --json for a list: one page, printed as the API sent it. */
static int print_list_json(ctx *x, const char *path)
{
    char full[PATH_MAX_LEN + ESC_MAX + 64];
    int rc = page_path(x, full, sizeof full, path, x->o.cursor);
    if (rc != 0) return rc;
    lk_client_resp r;
    if ((rc = request(x, "GET", full, NULL, &r)) != 0) return rc;
    print_raw(&r);
    if (!json_is_null(json_object_get(r.json, "next_cursor")) &&
        json_object_get(r.json, "next_cursor"))
        notef("latchkey: more results: add --cursor %s",
              jstr(r.json, "next_cursor") ? jstr(r.json, "next_cursor") : "");
    lk_client_resp_release(&r);
    return 0;
}

/* Find the item of a list whose id (or name, when by_name is given)
 * equals value. *found is a new reference owned by the caller. */
static int find_item(ctx *x, const char *path, const char *id_field, const char *by_name,
                     const char *value, const char *what, json_t **found)
{
    json_t *items, *item, *match = NULL;
    size_t i;
    int n = 0;
    *found = NULL;
    int rc = fetch_all(x, path, &items);
    if (rc != 0) return rc;
    json_array_foreach(items, i, item)
    {
        const char *id = jstr(item, id_field);
        if (id && strcmp(id, value) == 0) {
            match = item;
            n = 1;
            break;
        }
    }
    if (!match && by_name) {
        json_array_foreach(items, i, item)
        {
            const char *name = jstr(item, by_name);
            bool fold = strcmp(by_name, "email") == 0; /* emails compare case-insensitively */
            if (name && (fold ? strcasecmp(name, value) == 0 : strcmp(name, value) == 0)) {
                if (!match) match = item;
                n++;
            }
        }
    }
    if (n == 1) {
        *found = json_incref(match);
        rc = 0;
    } else if (n == 0) {
        errorf(x, "%s '%s' not found (not_found)", what, value);
        rc = LK_EXIT_FAIL;
    } else {
        errorf(x, "%d %ss are named '%s'; use the ID instead", n, what, value);
        rc = LK_EXIT_FAIL;
    }
    json_decref(items);
    return rc;
}

/* An organization ID from --org, which may be an ID (org_…) or a name. */
static int resolve_org(ctx *x, char out[ESC_MAX])
{
    const char *v = x->o.org;
    if (strncmp(v, "org_", 4) == 0 || strlen(v) >= ESC_MAX) {
        snprintf(out, ESC_MAX, "%s", v);
        return 0;
    }
    json_t *org;
    int rc = find_item(x, "/v1/organizations", "id", "name", v, "organization", &org);
    if (rc != 0) return rc;
    snprintf(out, ESC_MAX, "%s", jstr(org, "id") ? jstr(org, "id") : "");
    json_decref(org);
    return 0;
}

/* --org resolved to an ID in org, and path set to that org's collection
 * `sub` ("members", "projects", "access-keys"). 0 or an exit status. */
static int org_collection(ctx *x, char org[ESC_MAX], char path[PATH_MAX_LEN], const char *sub)
{
    int rc = resolve_org(x, org);
    if (rc == 0) rc = build_path(x, path, PATH_MAX_LEN, "/v1/organizations/%s/%s", org, sub);
    return rc;
}

static int resolve_project(ctx *x, const char *org, char out[ESC_MAX])
{
    const char *v = x->o.project;
    if (strncmp(v, "prj_", 4) == 0 || strlen(v) >= ESC_MAX) {
        snprintf(out, ESC_MAX, "%s", v);
        return 0;
    }
    char path[PATH_MAX_LEN];
    int rc = build_path(x, path, sizeof path, "/v1/organizations/%s/projects", org);
    if (rc != 0) return rc;
    json_t *prj;
    if ((rc = find_item(x, path, "id", "name", v, "project", &prj)) != 0) return rc;
    snprintf(out, ESC_MAX, "%s", jstr(prj, "id") ? jstr(prj, "id") : "");
    json_decref(prj);
    return 0;
}

/* ---------------------------------------------------------------- tables */

typedef enum row_kind { K_ORG, K_PROJECT, K_ENV, K_MEMBER, K_KEY } row_kind;

static bool any_set(json_t *items, const char *field)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *v = jstr(it, field);
        if (v && *v) return true;
    }
    return false;
}

/* Print items (an array) as a table of their kind. */
static int print_table(row_kind k, json_t *items)
{
    const char *h[LK_TABLE_COLS_MAX];
    size_t n = 0;
    bool last_used = false, expires = false;
    switch (k) {
    case K_MEMBER:
        h[n++] = "USER ID";
        h[n++] = "EMAIL";
        h[n++] = "NAME";
        h[n++] = "JOINED";
        break;
    case K_KEY:
        last_used = any_set(items, "last_used_at");
        expires = any_set(items, "expires_at");
        h[n++] = "ID";
        h[n++] = "NAME";
        h[n++] = "KEY";
        h[n++] = "CREATED";
        if (last_used) h[n++] = "LAST USED";
        if (expires) h[n++] = "EXPIRES";
        break;
    default:
        h[n++] = "ID";
        h[n++] = "NAME";
        h[n++] = "CREATED";
    }
    lk_table *t = lk_table_new(n, h);
    if (!t) return LK_EXIT_FAIL;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *c[LK_TABLE_COLS_MAX];
        char d1[LK_DATE_SIZE], d2[LK_DATE_SIZE], d3[LK_DATE_SIZE];
        size_t m = 0;
        if (k == K_MEMBER) {
            lk_output_date(jstr(it, "joined_at"), d1);
            c[m++] = jstr(it, "user_id");
            c[m++] = jstr(it, "email");
            c[m++] = jstr(it, "name");
            c[m++] = d1;
        } else {
            lk_output_date(jstr(it, "created_at"), d1);
            c[m++] = jstr(it, "id");
            c[m++] = jstr(it, "name");
            if (k == K_KEY) c[m++] = jstr(it, "redacted");
            c[m++] = d1;
            if (last_used) {
                lk_output_date(jstr(it, "last_used_at"), d2);
                c[m++] = d2;
            }
            if (expires) {
                lk_output_date(jstr(it, "expires_at"), d3);
                c[m++] = d3;
            }
        }
        if (lk_table_add(t, c) != 0) {
            lk_table_free(t);
            return LK_EXIT_FAIL;
        }
    }
    lk_table_print(t, stdout, lk_output_color(stdout));
    lk_table_free(t);
    return 0;
}

/* A created/changed object: the raw JSON with --json; a one-row table on a
 * terminal; its ID alone otherwise (so `ID=$(latchkey orgs create x)`). */
static int print_one(ctx *x, row_kind k, const lk_client_resp *r)
{
    if (x->o.json) {
        print_raw(r);
        return 0;
    }
    if (!json_is_object(r->json)) return 0;
    if (isatty(STDOUT_FILENO)) {
        json_t *arr = json_array();
        if (!arr) return LK_EXIT_FAIL;
        json_array_append(arr, r->json);
        int rc = print_table(k, arr);
        json_decref(arr);
        return rc;
    }
    const char *id = jstr(r->json, k == K_MEMBER ? "user_id" : "id");
    if (id) {
        char safe[LK_TABLE_CELL_MAX];
        lk_output_sanitize(id, safe, sizeof safe);
        printf("%s\n", safe);
    }
    return 0;
}

static int list_cmd(ctx *x, row_kind k, const char *path)
{
    if (x->o.json) return print_list_json(x, path);
    json_t *items;
    int rc = fetch_all(x, path, &items);
    if (rc != 0) return rc;
    rc = print_table(k, items);
    json_decref(items);
    return rc;
}

static int create_cmd(ctx *x, row_kind k, const char *path, json_t *body)
{
    lk_client_resp r;
    int rc = request(x, "POST", path, body, &r);
    json_decref(body);
    if (rc != 0) return rc;
    rc = print_one(x, k, &r);
    lk_client_resp_release(&r);
    return rc;
}

static json_t *name_body(const char *name)
{
    return json_pack("{s:s}", "name", name);
}

/* ------------------------------------------------------------- commands */

static int cmd_whoami(ctx *x)
{
    lk_client_resp r;
    int rc = request(x, "GET", "/v1/whoami", NULL, &r);
    if (rc != 0) return rc;
    if (x->o.json) {
        print_raw(&r);
        lk_client_resp_release(&r);
        return 0;
    }
    lk_table *t = lk_table_new(2, NULL);
    if (!t) {
        lk_client_resp_release(&r);
        return LK_EXIT_FAIL;
    }
    char line[LK_TABLE_CELL_MAX];
    const char *principal = jstr(r.json, "principal");
    const char *row[2] = {"principal", principal};
    lk_table_add(t, row);
    json_t *u = json_object_get(r.json, "user");
    if (json_is_object(u)) {
        snprintf(line, sizeof line, "%s <%s> (%s)", jstr(u, "name") ? jstr(u, "name") : "",
                 jstr(u, "email") ? jstr(u, "email") : "", jstr(u, "id") ? jstr(u, "id") : "");
        const char *rr[2] = {"user", line};
        lk_table_add(t, rr);
    }
    json_t *o = json_object_get(r.json, "organization");
    if (json_is_object(o)) {
        snprintf(line, sizeof line, "%s (%s)", jstr(o, "name") ? jstr(o, "name") : "",
                 jstr(o, "id") ? jstr(o, "id") : "");
        const char *rr[2] = {"organization", line};
        lk_table_add(t, rr);
    }
    json_t *k = json_object_get(r.json, "key");
    if (json_is_object(k)) {
        snprintf(line, sizeof line, "%s (%s, %s)", jstr(k, "name") ? jstr(k, "name") : "",
                 jstr(k, "redacted") ? jstr(k, "redacted") : "",
                 jstr(k, "id") ? jstr(k, "id") : "");
        const char *rr[2] = {"key", line};
        lk_table_add(t, rr);
        char d[LK_DATE_SIZE];
        if (jstr(k, "expires_at")) {
            lk_output_date(jstr(k, "expires_at"), d);
            const char *re[2] = {"expires", d};
            lk_table_add(t, re);
        }
    }
    lk_table_print(t, stdout, false);
    lk_table_free(t);
    lk_client_resp_release(&r);
    return 0;
}

static int cmd_orgs_list(ctx *x)
{
    return list_cmd(x, K_ORG, "/v1/organizations");
}

static int cmd_orgs_create(ctx *x)
{
    return create_cmd(x, K_ORG, "/v1/organizations", name_body(x->args[0]));
}

static int cmd_members_list(ctx *x)
{
    char org[ESC_MAX], path[PATH_MAX_LEN];
    int rc = org_collection(x, org, path, "members");
    return rc ? rc : list_cmd(x, K_MEMBER, path);
}

static int cmd_members_add(ctx *x)
{
    char org[ESC_MAX], path[PATH_MAX_LEN];
    int rc = org_collection(x, org, path, "members");
    if (rc != 0) return rc;
    return create_cmd(x, K_MEMBER, path, json_pack("{s:s}", "email", x->args[0]));
}

static int cmd_members_remove(ctx *x)
{
    char org[ESC_MAX], path[PATH_MAX_LEN], user[ESC_MAX];
    int rc = org_collection(x, org, path, "members");
    if (rc != 0) return rc;
    snprintf(user, sizeof user, "%s", x->args[0]);
    if (strchr(x->args[0], '@')) { /* an email: find the member's ID */
        json_t *m;
        if ((rc = find_item(x, path, "user_id", "email", x->args[0], "member", &m)) != 0) return rc;
        snprintf(user, sizeof user, "%s", jstr(m, "user_id") ? jstr(m, "user_id") : "");
        json_decref(m);
    }
    if ((rc = build_path(x, path, sizeof path, "/v1/organizations/%s/members/%s", org, user)))
        return rc;
    lk_client_resp r;
    if ((rc = request(x, "DELETE", path, NULL, &r)) != 0) return rc;
    lk_client_resp_release(&r);
    if (!x->o.json) notef("Removed %s from the organization.", x->args[0]);
    return 0;
}

static int cmd_projects_list(ctx *x)
{
    char org[ESC_MAX], path[PATH_MAX_LEN];
    int rc = org_collection(x, org, path, "projects");
    return rc ? rc : list_cmd(x, K_PROJECT, path);
}

static int cmd_projects_create(ctx *x)
{
    char org[ESC_MAX], path[PATH_MAX_LEN];
    int rc = org_collection(x, org, path, "projects");
    return rc ? rc : create_cmd(x, K_PROJECT, path, name_body(x->args[0]));
}

static int cmd_projects_delete(ctx *x)
{
    char org[ESC_MAX], prj[ESC_MAX], path[PATH_MAX_LEN];
    int rc = resolve_org(x, org);
    x->o.project = x->args[0];
    if (rc == 0) rc = resolve_project(x, org, prj);
    if (rc == 0)
        rc = build_path(x, path, sizeof path, "/v1/organizations/%s/projects/%s", org, prj);
    if (rc != 0) return rc;
    lk_client_resp r;
    if ((rc = request(x, "DELETE", path, NULL, &r)) != 0) return rc;
    lk_client_resp_release(&r);
    if (!x->o.json) notef("Deleted project %s.", x->args[0]);
    return 0;
}

static int cmd_envs_list(ctx *x)
{
    char org[ESC_MAX], prj[ESC_MAX], path[PATH_MAX_LEN];
    int rc = resolve_org(x, org);
    if (rc == 0) rc = resolve_project(x, org, prj);
    if (rc == 0)
        rc = build_path(x, path, sizeof path, "/v1/organizations/%s/projects/%s/environments", org,
                        prj);
    return rc ? rc : list_cmd(x, K_ENV, path);
}

static int cmd_envs_create(ctx *x)
{
    char org[ESC_MAX], prj[ESC_MAX], path[PATH_MAX_LEN];
    int rc = resolve_org(x, org);
    if (rc == 0) rc = resolve_project(x, org, prj);
    if (rc == 0)
        rc = build_path(x, path, sizeof path, "/v1/organizations/%s/projects/%s/environments", org,
                        prj);
    return rc ? rc : create_cmd(x, K_ENV, path, name_body(x->args[0]));
}

/* The access-keys collection: personal, or the org's with --org. */
static int keys_path(ctx *x, char path[PATH_MAX_LEN])
{
    if (!x->o.org) {
        snprintf(path, PATH_MAX_LEN, "/v1/me/access-keys");
        return 0;
    }
    char org[ESC_MAX];
    int rc = org_collection(x, org, path, "access-keys");
    return rc;
}

static int cmd_keys_list(ctx *x)
{
    char path[PATH_MAX_LEN];
    int rc = keys_path(x, path);
    return rc ? rc : list_cmd(x, K_KEY, path);
}

static int cmd_keys_create(ctx *x)
{
    char path[PATH_MAX_LEN], when[LK_TIME_SIZE];
    int rc;
    json_t *body = name_body(x->args[0]);
    if (!body) return LK_EXIT_FAIL;
    if (x->o.expires) {
        int64_t t;
        if (lk_time_parse(x->o.expires, strlen(x->o.expires), &t) != 0) {
            json_decref(body);
            return usage_error(x,
                               "--expires wants a date: YYYY-MM-DD or RFC 3339 "
                               "(2026-12-31T23:59:59Z), not '%s'",
                               x->o.expires);
        }
        lk_time_format(t, when);
        json_object_set_new(body, "expires_at", json_string(when));
    }
    if ((rc = keys_path(x, path)) != 0) {
        json_decref(body);
        return rc;
    }
    lk_client_resp r;
    rc = request(x, "POST", path, body, &r);
    json_decref(body);
    if (rc != 0) return rc;
    const char *token = jstr(r.json, "token");
    if (x->o.json) {
        print_raw(&r);
    } else if (!token || lk_token_parse(token, strlen(token), NULL) != LK_TOKEN_OK) {
        errorf(x, "the server's answer holds no valid token");
        rc = LK_EXIT_FAIL;
    } else {
        char name[LK_TABLE_CELL_MAX], id[LK_TABLE_CELL_MAX];
        lk_output_sanitize(jstr(r.json, "name") ? jstr(r.json, "name") : "", name, sizeof name);
        lk_output_sanitize(jstr(r.json, "id") ? jstr(r.json, "id") : "", id, sizeof id);
        if (isatty(STDOUT_FILENO)) notef("Created key '%s' (%s). Its token:", name, id);
        printf("%s\n", token);
        fflush(stdout);
        notef("Store this token now: it will not be shown again.");
    }
    lk_client_resp_release(&r);
    return rc;
}

/* The key named by args[0] (its ID, or its exact name) in the collection. */
static int find_key(ctx *x, const char *path, json_t **key)
{
    return find_item(x, path, "id", "name", x->args[0], "key", key);
}

static int cmd_keys_rename(ctx *x)
{
    char path[PATH_MAX_LEN], one[PATH_MAX_LEN], id[ESC_MAX];
    int rc = keys_path(x, path);
    if (rc != 0) return rc;
    snprintf(id, sizeof id, "%s", x->args[0]);
    if (strncmp(x->args[0], "key_", 4) != 0) {
        json_t *k;
        if ((rc = find_key(x, path, &k)) != 0) return rc;
        snprintf(id, sizeof id, "%s", jstr(k, "id") ? jstr(k, "id") : "");
        json_decref(k);
    }
    char full[PATH_MAX_LEN * 2];
    if ((rc = build_path(x, one, sizeof one, "/%s", id)) != 0) return rc;
    snprintf(full, sizeof full, "%s%s", path, one);
    lk_client_resp r;
    json_t *body = name_body(x->args[1]);
    rc = request(x, "PATCH", full, body, &r);
    json_decref(body);
    if (rc != 0) return rc;
    rc = print_one(x, K_KEY, &r);
    lk_client_resp_release(&r);
    return rc;
}

static int cmd_keys_delete(ctx *x)
{
    char path[PATH_MAX_LEN], one[PATH_MAX_LEN], full[PATH_MAX_LEN * 2];
    char name[LK_TABLE_CELL_MAX], red[LK_TABLE_CELL_MAX];
    if (!x->o.yes && !isatty(STDIN_FILENO))
        return usage_error(x,
                           "refusing to delete key '%s' without confirmation: there is no "
                           "terminal to ask on; pass --yes",
                           x->args[0]);
    int rc = keys_path(x, path);
    if (rc != 0) return rc;
    json_t *k;
    if ((rc = find_key(x, path, &k)) != 0) return rc;
    lk_output_sanitize(jstr(k, "name") ? jstr(k, "name") : "", name, sizeof name);
    lk_output_sanitize(jstr(k, "redacted") ? jstr(k, "redacted") : "", red, sizeof red);
    rc = build_path(x, one, sizeof one, "/%s", jstr(k, "id") ? jstr(k, "id") : "");
    json_decref(k);
    if (rc != 0) return rc;
    snprintf(full, sizeof full, "%s%s", path, one);

    if (!x->o.yes) {
        char prompt[2 * LK_TABLE_CELL_MAX + 128], answer[16];
        snprintf(prompt, sizeof prompt,
                 "Delete key %s (%s)? This revokes it immediately and cannot be undone. [y/N] ",
                 name, red);
        if (prompt_line(prompt, answer, sizeof answer, false) != 0 ||
            !(strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0)) {
            notef("Not deleted.");
            return LK_EXIT_FAIL;
        }
    }
    lk_client_resp r;
    if ((rc = request(x, "DELETE", full, NULL, &r)) != 0) return rc;
    lk_client_resp_release(&r);
    if (!x->o.json) notef("Deleted key %s (%s).", name, red);
    return 0;
}

/* Read a token from stdin (`keys check -`): echo off on a terminal. */
static int read_token_stdin(char *out, size_t size)
{
    if (isatty(STDIN_FILENO)) return prompt_line("Token: ", out, size, true);
    size_t n = fread(out, 1, size - 1, stdin);
    out[n] = '\0';
    if (n == size - 1 && fgetc(stdin) != EOF) out[n - 1] = '!'; /* over-long: keep it invalid */
    return 0;
}

static int cmd_keys_check(ctx *x)
{
    char buf[SECRET_MAX];
    const char *s = x->args[0];
    if (strcmp(s, "-") == 0) {
        if (read_token_stdin(buf, sizeof buf) != 0) buf[0] = '\0';
        s = buf;
    }
    /* trim white space (a pasted token often brings a newline) */
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t len = strlen(s);
    while (len > 0 &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;

    lk_token_kind kind = 0;
    lk_token_status st = lk_token_parse(s, len, &kind);
    if (st != LK_TOKEN_OK) {
        if (len >= 4 && memcmp(s, "lko_", 4) == 0) kind = LK_TOKEN_ORG;
        if (len >= 4 && memcmp(s, "lkp_", 4) == 0) kind = LK_TOKEN_PERSONAL;
    }
    const char *kname = kind == LK_TOKEN_ORG        ? "organization"
                        : kind == LK_TOKEN_PERSONAL ? "personal"
                                                    : NULL;
    char red[LK_TOKEN_REDACTED_SIZE] = "";
    if (st == LK_TOKEN_OK) lk_token_redact(s, red);
    bool checksum_ok = st == LK_TOKEN_OK;

    if (x->o.json) {
        json_t *o = json_pack("{s:b,s:s?,s:b,s:s}", "valid", st == LK_TOKEN_OK, "kind", kname,
                              "checksum_ok", checksum_ok, "reason", lk_token_status_str(st));
        if (o && st == LK_TOKEN_OK) json_object_set_new(o, "redacted", json_string(red));
        char *d = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (d) printf("%s\n", d);
        free(d);
        json_decref(o);
    } else if (st == LK_TOKEN_OK) {
        printf("%s: a well-formed %s key; the checksum holds\n", red, kname);
    } else {
        printf("not a valid latchkey token%s: %s\n",
               kind == LK_TOKEN_ORG        ? " (looks like an organization key)"
               : kind == LK_TOKEN_PERSONAL ? " (looks like a personal key)"
                                           : "",
               lk_token_status_str(st));
    }
    sodium_memzero(buf, sizeof buf);
    return st == LK_TOKEN_OK ? LK_EXIT_OK : LK_EXIT_FAIL;
}

/* Overwrite a string jansson holds (a password) before it is freed. */
static void wipe_json_string(json_t *s)
{
    const char *v = json_string_value(s);
    if (v) sodium_memzero((char *)(uintptr_t)v, json_string_length(s));
}

static int cmd_login(ctx *x)
{
    char email[300], password[SECRET_MAX], host[256], keyname[300];
    char msg[LK_CRED_PATH_MAX + 300];
    lk_client_resp r = {0};
    lk_cred cred = {0}, old = {0};
    json_t *body = NULL;
    int rc;

    if (!isatty(STDIN_FILENO)) {
        errorf(x, "`latchkey login` needs a terminal to ask for your password. In scripts and "
                  "CI, create an access key and set LATCHKEY_TOKEN (or pass --token)");
        return LK_EXIT_UNAUTH;
    }
    if ((rc = resolve_url(x)) != 0) return rc;
    if (lk_cred_path(x->cred_path) != 0) {
        errorf(x, "cannot find a place for the credentials file: set HOME or XDG_CONFIG_HOME");
        return LK_EXIT_FAIL;
    }
    if ((rc = make_client(x)) != 0) return rc;
    lk_client_enable_cookies(x->client);

    notef("Logging in to %s", x->url);
    if (prompt_line("Email: ", email, sizeof email, false) != 0 || !email[0]) {
        errorf(x, "no email given");
        return LK_EXIT_UNAUTH;
    }
    if (prompt_line("Password: ", password, sizeof password, true) != 0) {
        errorf(x, "no password given");
        return LK_EXIT_UNAUTH;
    }
    body = json_pack("{s:s,s:s}", "email", email, "password", password);
    sodium_memzero(password, sizeof password);
    if (!body) return LK_EXIT_FAIL;
    rc = request(x, "POST", "/v1/auth/login", body, &r);
    wipe_json_string(json_object_get(body, "password"));
    json_decref(body);
    if (rc != 0) return rc;
    const char *csrf = jstr(r.json, "csrf_token");
    if (!csrf || lk_client_set_csrf(x->client, csrf) != 0) {
        errorf(x, "the server's login answer has no csrf_token");
        lk_client_resp_release(&r);
        return LK_EXIT_FAIL;
    }
    json_t *user = json_object_get(r.json, "user");
    char who[600];
    snprintf(who, sizeof who, "%.200s <%.300s>", jstr(user, "name") ? jstr(user, "name") : "",
             jstr(user, "email") ? jstr(user, "email") : email);
    user = NULL; /* borrowed from r */
    lk_client_resp_release(&r);

    /* A previous login from this machine to this server: revoke its key. */
    if (lk_cred_load(x->cred_path, &old, msg, sizeof msg) == 0 && old.key_id[0]) {
        char stored[LK_CRED_URL_MAX], path[PATH_MAX_LEN];
        snprintf(stored, sizeof stored, "%s", old.url);
        strip_slashes(stored);
        if (strcmp(stored, x->url) == 0 &&
            build_path(x, path, sizeof path, "/v1/me/access-keys/%s", old.key_id) == 0 &&
            lk_client_request(x->client, "DELETE", path, NULL, &r) == 0)
            notef("Revoked the key of the previous login (%s).", old.key_id);
        lk_client_resp_release(&r);
    }
    lk_cred_clear(&old);

    if (gethostname(host, sizeof host) != 0 || !host[0])
        snprintf(host, sizeof host, "this machine");
    host[sizeof host - 1] = '\0';
    snprintf(keyname, sizeof keyname, "latchkey CLI on %.80s", host);
    body = name_body(keyname);
    rc = body ? request(x, "POST", "/v1/me/access-keys", body, &r) : LK_EXIT_FAIL;
    json_decref(body);
    if (rc != 0) goto out;
    const char *token = jstr(r.json, "token");
    const char *key_id = jstr(r.json, "id");
    if (!token || lk_token_parse(token, strlen(token), NULL) != LK_TOKEN_OK || !key_id ||
        strlen(key_id) >= sizeof cred.key_id) {
        errorf(x, "the server's answer holds no valid token");
        rc = LK_EXIT_FAIL;
        goto out;
    }
    snprintf(cred.url, sizeof cred.url, "%s", x->url);
    snprintf(cred.token, sizeof cred.token, "%s", token);
    snprintf(cred.key_id, sizeof cred.key_id, "%s", key_id);
    snprintf(cred.email, sizeof cred.email, "%.250s", email);
    char red[LK_TOKEN_REDACTED_SIZE];
    lk_token_redact(token, red);
    lk_client_resp_release(&r);

    if (lk_cred_save(x->cred_path, &cred, msg, sizeof msg) != 0) {
        errorf(x, "%s", msg[0] ? msg : "cannot write the credentials file");
        char path[PATH_MAX_LEN];
        if (build_path(x, path, sizeof path, "/v1/me/access-keys/%s", cred.key_id) == 0)
            lk_client_request(x->client, "DELETE", path, NULL, &r); /* don't leave it behind */
        lk_client_resp_release(&r);
        rc = LK_EXIT_FAIL;
        goto out;
    }
    char safe[700];
    lk_output_sanitize(who, safe, sizeof safe);
    notef("Logged in as %s. Stored the personal key '%s' (%s) in %s.", safe, keyname, red,
          x->cred_path);
    const char *env = getenv("LATCHKEY_TOKEN");
    if (env && *env) notef("Note: LATCHKEY_TOKEN is set; it takes precedence over this login.");
    rc = 0;
out:
    /* the session was only needed to make the key: end it */
    (void)lk_client_request(x->client, "POST", "/v1/auth/logout", NULL, &r);
    lk_client_resp_release(&r);
    lk_cred_clear(&cred);
    return rc;
}

static int cmd_logout(ctx *x)
{
    char path[PATH_MAX_LEN];
    int rc;
    if ((rc = resolve_url(x)) != 0 || (rc = use_stored_credential(x)) != 0) return rc;
    if ((rc = make_client(x)) != 0) return rc;
    lk_client_set_token(x->client, x->cred.token);

    char key_id[ESC_MAX];
    snprintf(key_id, sizeof key_id, "%s", x->cred.key_id);
    lk_client_resp r;
    int res = 0;
    long status = 0;
    if (!key_id[0]) { /* an old file without key_id: ask who we are */
        res = lk_client_request(x->client, "GET", "/v1/whoami", NULL, &r);
        if (res == 0) {
            const char *id = jstr(json_object_get(r.json, "key"), "id");
            snprintf(key_id, sizeof key_id, "%s", id ? id : "");
        }
        lk_client_resp_release(&r);
    }
    if (res == 0 && key_id[0]) {
        if ((rc = build_path(x, path, sizeof path, "/v1/me/access-keys/%s", key_id)) != 0)
            return rc;
        res = lk_client_request(x->client, "DELETE", path, NULL, &r);
        status = r.status;
        lk_client_resp_release(&r);
    }
    /* 401 (the key is expired or revoked) and 404 (already deleted): the
     * server holds nothing for this file any more, so remove it anyway */
    if (res == LK_CLIENT_EUNREACHABLE ||
        (res != 0 && res != LK_CLIENT_EUNAUTH && !(res == LK_CLIENT_EREFUSED && status == 404))) {
        rc = request_failed(x, res);
        notef("The key was not revoked, so %s was kept. Try again, or delete the key in the "
              "dashboard and remove the file.",
              x->cred_path);
        return rc;
    }
    if (res != 0) notef("The stored key was already revoked or expired.");
    if (lk_cred_remove(x->cred_path) != 0) {
        errorf(x, "cannot remove %s: %s", x->cred_path, strerror(errno));
        return LK_EXIT_FAIL;
    }
    notef("Logged out: revoked the stored key and removed %s.", x->cred_path);
    return 0;
}

/* ------------------------------------------------------------ the table */

static const command commands[] = {
    {"login", NULL, "login", "sign in at a terminal; stores a personal key for this machine", 0, 0,
     0, 0, cmd_login},
    {"logout", NULL, "logout", "revoke the stored key and remove the credentials file", 0, 0, 0, 0,
     cmd_logout},
    {"whoami", NULL, "whoami", "show who the credential is", 0, 0, 0, 0, cmd_whoami},
    {"orgs", "list", "orgs list", "list your organizations", 0, 0, F_LIST, 0, cmd_orgs_list},
    {"orgs", "create", "orgs create NAME", "create an organization (you become a member)", 1, 1, 0,
     0, cmd_orgs_create},
    {"members", "list", "members list --org ORG", "list the members of an organization", 0, 0,
     F_ORG | F_LIST, F_ORG, cmd_members_list},
    {"members", "add", "members add EMAIL --org ORG", "add an existing user by email", 1, 1, F_ORG,
     F_ORG, cmd_members_add},
    {"members", "remove", "members remove USER --org ORG",
     "remove a member (USER is a user ID or an email)", 1, 1, F_ORG, F_ORG, cmd_members_remove},
    {"projects", "list", "projects list --org ORG", "list the projects of an organization", 0, 0,
     F_ORG | F_LIST, F_ORG, cmd_projects_list},
    {"projects", "create", "projects create NAME --org ORG", "create a project", 1, 1, F_ORG, F_ORG,
     cmd_projects_create},
    {"projects", "delete", "projects delete PRJ --org ORG", "delete a project", 1, 1, F_ORG, F_ORG,
     cmd_projects_delete},
    {"envs", "list", "envs list --org ORG --project PRJ", "list the environments of a project", 0,
     0, F_ORG | F_PROJECT | F_LIST, F_ORG | F_PROJECT, cmd_envs_list},
    {"envs", "create", "envs create NAME --org ORG --project PRJ", "create an environment", 1, 1,
     F_ORG | F_PROJECT, F_ORG | F_PROJECT, cmd_envs_create},
    {"keys", "list", "keys list [--org ORG]",
     "list your personal keys, or an organization's keys with --org", 0, 0, F_ORG | F_LIST, 0,
     cmd_keys_list},
    {"keys", "create", "keys create NAME [--org ORG] [--expires DATE]",
     "create a key and print its token (shown only this once)", 1, 1, F_ORG | F_EXPIRES, 0,
     cmd_keys_create},
    {"keys", "rename", "keys rename KEY NEW_NAME [--org ORG]", "rename a key", 2, 2, F_ORG, 0,
     cmd_keys_rename},
    {"keys", "delete", "keys delete KEY [--org ORG] [--yes]",
     "revoke a key at once (asks first on a terminal)", 1, 1, F_ORG | F_YES, 0, cmd_keys_delete},
    {"keys", "check", "keys check TOKEN|-",
     "offline: is it well-formed, which kind, does the checksum hold (- reads stdin)", 1, 1, 0, 0,
     cmd_keys_check},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const char global_help[] =
    "Global options (before or after the command):\n"
    "  --url URL      server (else LATCHKEY_URL, else the URL stored by login,\n"
    "                 else " DEFAULT_URL ")\n"
    "  --token TOKEN  access key (else LATCHKEY_TOKEN, else the credentials file)\n"
    "  --json         print the API's JSON unchanged\n"
    "  -h, --help     help; `latchkey COMMAND --help` for one command\n"
    "  --version      print the version\n";

static const char exit_help[] =
    "Exit status: 0 done, 1 the server refused or failed, 2 bad usage,\n"
    "3 not authenticated, 4 could not reach the server.\n";

static void print_command_help(const command *c)
{
    printf("usage: latchkey %s\n\n%c%s.\n", c->usage, toupper((unsigned char)c->help[0]),
           c->help + 1);
    if (c->allowed & F_ORG) printf("  --org ORG        organization ID (org_…) or exact name\n");
    if (c->allowed & F_PROJECT) printf("  --project PRJ    project ID (prj_…) or exact name\n");
    if (c->allowed & F_EXPIRES)
        printf("  --expires DATE   RFC 3339 time or YYYY-MM-DD (midnight UTC)\n");
    if (c->allowed & F_YES) printf("  --yes            do not ask; needed without a terminal\n");
    if (c->allowed & F_LIMIT)
        printf("  --limit N        page size; --cursor C starts at a page (one page only)\n");
    printf("\n%s\n%s", global_help, exit_help);
}

static void print_help(const char *group)
{
    if (!group)
        printf("latchkey — command-line client for the latchkey access-key service\n\n"
               "usage: latchkey [--url URL] [--token TOKEN] [--json] COMMAND ...\n\n"
               "Commands:\n");
    else
        printf("Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!group || strcmp(commands[i].group, group) == 0)
            printf("  %-46s %s\n", commands[i].usage, commands[i].help);
    printf("\n%s\n%s", global_help, exit_help);
    if (!group) printf("\nSee latchkey(1) for more.\n");
}

/* ----------------------------------------------------------------- main */

static const char **value_slot(opts *o, const char *name, unsigned *bit)
{
    static const struct {
        const char *name;
        size_t off;
        unsigned bit;
    } v[] = {
        {"url", offsetof(opts, url), 0},
        {"token", offsetof(opts, token), 0},
        {"org", offsetof(opts, org), F_ORG},
        {"project", offsetof(opts, project), F_PROJECT},
        {"expires", offsetof(opts, expires), F_EXPIRES},
        {"limit", offsetof(opts, limit), F_LIMIT},
        {"cursor", offsetof(opts, cursor), F_CURSOR},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (strcmp(name, v[i].name) == 0) {
            *bit = v[i].bit;
            return (const char **)(void *)((char *)o + v[i].off);
        }
    return NULL;
}

static void parse_args(int argc, char **argv, opts *o)
{
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
            if (o->npos < MAX_POS)
                o->pos[o->npos++] = a;
            else
                o->too_many = true;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = true;
            continue;
        }
        if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
            o->version = true;
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (strcmp(a, "--yes") == 0 || strcmp(a, "-y") == 0) {
            o->yes = true;
            o->seen |= F_YES;
            continue;
        }
        if (a[1] == '-') {
            char name[32];
            const char *eq = strchr(a + 2, '=');
            size_t nlen = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            unsigned bit = 0;
            const char **slot = NULL;
            if (nlen < sizeof name) {
                memcpy(name, a + 2, nlen);
                name[nlen] = '\0';
                slot = value_slot(o, name, &bit);
            }
            if (slot) {
                if (eq) {
                    *slot = eq + 1;
                } else if (i + 1 < argc) {
                    *slot = argv[++i];
                } else {
                    if (!o->flag_noval) o->flag_noval = a;
                    continue;
                }
                o->seen |= bit;
                continue;
            }
        }
        if (!o->bad_flag) o->bad_flag = a;
    }
}

static const char *flag_name(unsigned bit)
{
    switch (bit) {
    case F_ORG:
        return "--org";
    case F_PROJECT:
        return "--project";
    case F_EXPIRES:
        return "--expires";
    case F_YES:
        return "--yes";
    case F_LIMIT:
        return "--limit";
    default:
        return "--cursor";
    }
}

static bool is_group(const char *g)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (commands[i].sub && strcmp(commands[i].group, g) == 0) return true;
    return false;
}

static int run(int argc, char **argv, ctx *x)
{
    opts *o = &x->o;
    parse_args(argc, argv, o);
    x->err_color = lk_output_color(stderr);

    if (o->version) {
        printf("latchkey %s\n", LK_CLIENT_VERSION);
        return 0;
    }
    int first = 0;
    if (o->npos > 0 && strcmp(o->pos[0], "help") == 0) {
        o->help = true;
        first = 1;
    }
    if (o->npos <= first) {
        if (o->help) {
            print_help(NULL);
            return 0;
        }
        return usage_error(x, "no command given");
    }
    const char *group = o->pos[first];
    const char *sub = o->npos > first + 1 ? o->pos[first + 1] : NULL;
    if (is_group(group)) {
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (sub && strcmp(commands[i].group, group) == 0 && commands[i].sub &&
                strcmp(commands[i].sub, sub) == 0)
                x->cmd = &commands[i];
        if (!x->cmd) {
            if (o->help && !sub) {
                print_help(group);
                return 0;
            }
            fprintf(stderr, "latchkey: %s '%s%s%s'\n",
                    sub ? "unknown command" : "missing subcommand for", group, sub ? " " : "",
                    sub ? sub : "");
            for (size_t i = 0; i < NCOMMANDS; i++)
                if (strcmp(commands[i].group, group) == 0)
                    fprintf(stderr, "usage: latchkey %s\n", commands[i].usage);
            return LK_EXIT_USAGE;
        }
        x->args = o->pos + first + 2;
        x->nargs = o->npos - first - 2;
    } else {
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (!commands[i].sub && strcmp(commands[i].group, group) == 0) x->cmd = &commands[i];
        if (!x->cmd) return usage_error(x, "unknown command '%s'", group);
        x->args = o->pos + first + 1;
        x->nargs = o->npos - first - 1;
    }
    if (o->help) {
        print_command_help(x->cmd);
        return 0;
    }
    const command *c = x->cmd;
    if (o->bad_flag) return usage_error(x, "unknown option '%s'", o->bad_flag);
    if (o->flag_noval) return usage_error(x, "option '%s' needs a value", o->flag_noval);
    if (o->too_many || x->nargs > c->args_max) return usage_error(x, "too many arguments");
    if (x->nargs < c->args_min) return usage_error(x, "missing argument");
    unsigned extra = o->seen & ~c->allowed;
    if (extra) return usage_error(x, "option %s does not apply here", flag_name(extra & -extra));
    if (o->limit) {
        char *end;
        errno = 0;
        long n = strtol(o->limit, &end, 10);
        if (errno || end == o->limit || *end || n < 1 || n > 1000)
            return usage_error(x, "--limit wants a number from 1 to 1000");
    }
    unsigned missing = c->required & ~o->seen;
    if (missing) return usage_error(x, "%s is required", flag_name(missing & -missing));
    for (int i = 0; i < x->nargs; i++)
        if (!x->args[i][0]) return usage_error(x, "an argument is empty");

    if (c->run == cmd_keys_check || c->run == cmd_login || c->run == cmd_logout) return c->run(x);
    int rc = connect_with_credential(x);
    if (rc != 0) return rc;
    return c->run(x);
}

int main(int argc, char **argv)
{
    ctx x;
    memset(&x, 0, sizeof x);
    if (lk_token_init() != 0) {
        fprintf(stderr, "latchkey: error: cannot initialise libsodium\n");
        return LK_EXIT_FAIL;
    }
    int rc = run(argc, argv, &x);
    lk_client_free(x.client);
    lk_cred_clear(&x.cred);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (rc == 0) {
            fprintf(stderr, "latchkey: error: cannot write to stdout\n");
            rc = LK_EXIT_FAIL;
        }
    }
    return rc;
}
