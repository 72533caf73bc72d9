/*
 * cmd_keys.c — `latchkey keys list|create|rename|delete|check|rotate` (spec: "The
 * CLI"). Keys are personal (/v1/me/access-keys) or, with --org, the
 * organization's; lk_res_keys (cli_resource.c) describes both and the table.
 * KEY is a key ID (key_…) or an exact name.
 *
 * Secrets: `keys create` prints the token on stdout once, alone on its line,
 * and nowhere else; `keys check` reads a token offline and wipes its copy.
 */
#include "cli.h"
#include "cli_output.h"
#include "cidr.h"
#include "cli_resource.h"
#include "scope.h"
#include "timefmt.h"
#include "token.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define ANSWER_MAX 16   /* the y/N answer to the delete prompt */
#define PROMPT_TEXT 128 /* the delete prompt's own words */

int lk_cmd_keys_list(lk_cli_ctx *x)
{
    return lk_res_list(x, &lk_res_keys);
}

/* --- scopes: --scope, --read-only, --allow-cidr ------------------------- */

/* Split each value at ',' and hand every item to add(); an empty item is a
 * usage error. */
typedef int (*item_fn)(lk_cli_ctx *x, const char *item, size_t len, json_t *arr);

static int each_item(lk_cli_ctx *x, const char *const *vals, int n, item_fn add, json_t *arr)
{
    for (int i = 0; i < n; i++) {
        const char *p = vals[i];
        for (;;) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            if (len == 0) return lk_cli_usage_error(x, "an empty value in '%s'", vals[i]);
            int rc = add(x, p, len, arr);
            if (rc != 0) return rc;
            if (!c) break;
            p = c + 1;
        }
    }
    return 0;
}

/* One --scope name: known (scope.h) or "*", else a usage error. */
static int add_scope(lk_cli_ctx *x, const char *s, size_t len, json_t *arr)
{
    if (!(len == 1 && s[0] == '*') && lk_scope_from_name(s, len) == 0)
        return lk_cli_usage_error(x, "unknown scope '%.*s' (see latchkey keys create --help)",
                                  (int)(len > LK_SCOPE_NAME_MAX ? LK_SCOPE_NAME_MAX : len), s);
    return json_array_append_new(arr, json_stringn(s, len)) == 0 ? 0 : LK_EXIT_FAIL;
}

int lk_cli_scopes_json(lk_cli_ctx *x, json_t *arr)
{
    return each_item(x, x->o.scope, x->o.nscope, add_scope, arr);
}

/* One --allow-cidr range, checked before sending; a range with host bits
 * set is sent as written and the note says what the server will keep. */
static int add_cidr(lk_cli_ctx *x, const char *s, size_t len, json_t *arr)
{
    lk_cidr c;
    bool normalised = false;
    lk_err e;
    lk_err_clear(&e);
    if (lk_cidr_parse(s, len, &c, &normalised, "allow-cidr", &e) != LK_OK)
        return lk_cli_usage_error(x, "--allow-cidr: %s", lk_err_message(&e));
    if (normalised) {
        char t[LK_CIDR_TEXT_SIZE];
        lk_cidr_format(&c, t);
        lk_cli_notef("note: %.*s has host bits set; it is kept as %s", (int)len, s, t);
    }
    return json_array_append_new(arr, json_stringn(s, len)) == 0 ? 0 : LK_EXIT_FAIL;
}

/* "scopes" and "allowed_cidrs" of the create body from the flags. */
static int add_scope_fields(lk_cli_ctx *x, json_t *body)
{
    const lk_cli_opts *o = &x->o;
    int rc = 0;
    if (o->read_only && o->nscope > 0)
        return lk_cli_usage_error(x, "--read-only and --scope do not go together");
    json_t *scopes = json_array(), *cidrs = json_array();
    if (!scopes || !cidrs) rc = LK_EXIT_FAIL;
    if (rc == 0 && o->read_only) {
        const char *names[LK_SCOPE_COUNT];
        size_t n = lk_scope_format(lk_scope_read_only(o->org ? LK_SCOPE_FOR_ORG_KEY : 0), names,
                                   LK_SCOPE_COUNT);
        for (size_t i = 0; i < n && i < LK_SCOPE_COUNT; i++)
            json_array_append_new(scopes, json_string(names[i]));
    }
    if (rc == 0) rc = each_item(x, o->scope, o->nscope, add_scope, scopes);
    if (rc == 0) rc = each_item(x, o->cidr, o->ncidr, add_cidr, cidrs);
    if (rc == 0 && json_array_size(scopes) > 0) json_object_set(body, "scopes", scopes);
    if (rc == 0 && json_array_size(cidrs) > 0) json_object_set(body, "allowed_cidrs", cidrs);
    json_decref(scopes);
    json_decref(cidrs);
    return rc;
}

/* {"name": NAME, "expires_at": --expires, "scopes": …, "allowed_cidrs": …};
 * a new reference, or NULL with *rc set (bad input is a usage error). */
static json_t *create_body(lk_cli_ctx *x, int *rc)
{
    char when[LK_TIME_SIZE];
    int64_t t;
    json_t *body = lk_cli_name_body(x->args[0]);
    *rc = body ? 0 : LK_EXIT_FAIL;
    if (body && (*rc = add_scope_fields(x, body)) != 0) {
        json_decref(body);
        return NULL;
    }
    if (!body || !x->o.expires) return body;
    if (lk_time_parse(x->o.expires, strlen(x->o.expires), &t) != 0) {
        json_decref(body);
        *rc = lk_cli_usage_error(x,
                                 "--expires wants a date: YYYY-MM-DD or RFC 3339 "
                                 "(2026-12-31T23:59:59Z), not '%s'",
                                 x->o.expires);
        return NULL;
    }
    lk_time_format(t, when);
    json_object_set_new(body, "expires_at", json_string(when));
    return body;
}

/* A created or rotated key: its token alone on stdout (so TOKEN=$(…)
 * works), "<done> '<name>' (<id>). <its>:" and the warning on stderr; or
 * the API's JSON. */
static int show_token(lk_cli_ctx *x, const lk_client_resp *r, const char *done, const char *its)
{
    const char *token = lk_cli_jstr(r->json, "token");
    if (x->o.json) {
        lk_cli_print_raw(r);
        return 0;
    }
    if (!token || lk_token_parse(token, strlen(token), NULL) != LK_TOKEN_OK) {
        lk_cli_errorf(x, "the server's answer holds no valid token");
        return LK_EXIT_FAIL;
    }
    char name[LK_TABLE_CELL_MAX], id[LK_TABLE_CELL_MAX];
    const char *n = lk_cli_jstr(r->json, "name"), *i = lk_cli_jstr(r->json, "id");
    lk_output_sanitize(n ? n : "", name, sizeof name);
    lk_output_sanitize(i ? i : "", id, sizeof id);
    if (isatty(STDOUT_FILENO)) lk_cli_notef("%s '%s' (%s). %s:", done, name, id, its);
    printf("%s\n", token);
    fflush(stdout);
    lk_cli_notef("Store this token now: it will not be shown again.");
    return 0;
}

int lk_cmd_keys_create(lk_cli_ctx *x)
{
    char path[LK_CLI_PATH_MAX];
    int rc;
    assert(x->nargs == 1);
    json_t *body = create_body(x, &rc);
    if (!body) return rc;
    if ((rc = lk_res_path(x, &lk_res_keys, path)) != 0) goto out;
    lk_client_resp r;
    if ((rc = lk_cli_request(x, "POST", path, body, &r)) != 0) goto out;
    rc = show_token(x, &r, "Created key", "Its token");
    lk_client_resp_release(&r);
out:
    json_decref(body);
    return rc;
}

int lk_cmd_keys_rename(lk_cli_ctx *x)
{
    assert(x->nargs == 2);
    return lk_res_patch(x, &lk_res_keys, x->args[0], lk_cli_name_body(x->args[1]));
}

/* Ask on the terminal; true only for y/yes. */
static bool confirm_delete(const char *name, const char *red)
{
    char prompt[2 * LK_TABLE_CELL_MAX + PROMPT_TEXT], answer[ANSWER_MAX];
    snprintf(prompt, sizeof prompt,
             "Delete key %s (%s)? This revokes it immediately and cannot be undone. [y/N] ", name,
             red);
    return lk_cli_prompt_line(prompt, answer, sizeof answer, false) == 0 &&
           (strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0);
}

int lk_cmd_keys_delete(lk_cli_ctx *x)
{
    char path[LK_CLI_PATH_MAX], one[LK_CLI_PATH_MAX];
    char name[LK_TABLE_CELL_MAX], red[LK_TABLE_CELL_MAX];
    assert(x->nargs == 1);
    if (!x->o.yes && !isatty(STDIN_FILENO))
        return lk_cli_usage_error(x,
                                  "refusing to delete key '%s' without confirmation: there is no "
                                  "terminal to ask on; pass --yes",
                                  x->args[0]);
    int rc = lk_res_path(x, &lk_res_keys, path);
    if (rc != 0) return rc;
    json_t *k;
    if ((rc = lk_res_find(x, &lk_res_keys, path, x->args[0], &k)) != 0) return rc;
    const char *kn = lk_cli_jstr(k, "name"), *kr = lk_cli_jstr(k, "redacted");
    const char *kid = lk_cli_jstr(k, "id");
    lk_output_sanitize(kn ? kn : "", name, sizeof name);
    lk_output_sanitize(kr ? kr : "", red, sizeof red);
    rc = lk_res_item_path(x, path, kid ? kid : "", one);
    json_decref(k);
    if (rc != 0) return rc;
    if (!x->o.yes && !confirm_delete(name, red)) {
        lk_cli_notef("Not deleted.");
        return LK_EXIT_FAIL;
    }
    lk_client_resp r;
    if ((rc = lk_cli_request(x, "DELETE", one, NULL, &r)) != 0) return rc;
    lk_client_resp_release(&r);
    if (!x->o.json) lk_cli_notef("Deleted key %s (%s).", name, red);
    return 0;
}

/* ------------------------------------------------------------ keys check */

/* Read a token from stdin (`keys check -`): echo off on a terminal. */
static int read_token_stdin(char *out, size_t size)
{
    assert(size > 1);
    if (isatty(STDIN_FILENO)) return lk_cli_prompt_line("Token: ", out, size, true);
    size_t n = fread(out, 1, size - 1, stdin);
    out[n] = '\0';
    if (n == size - 1 && fgetc(stdin) != EOF) out[n - 1] = '!'; /* over-long: keep it invalid */
    return 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The kind a token is or looks like (by its prefix), or 0. */
static lk_token_kind token_kind(const char *s, size_t len, lk_token_status st, lk_token_kind kind)
{
    if (st == LK_TOKEN_OK) return kind;
    if (len >= LK_TOKEN_PREFIX_LEN && memcmp(s, "lko_", LK_TOKEN_PREFIX_LEN) == 0)
        return LK_TOKEN_ORG;
    if (len >= LK_TOKEN_PREFIX_LEN && memcmp(s, "lkp_", LK_TOKEN_PREFIX_LEN) == 0)
        return LK_TOKEN_PERSONAL;
    return 0;
}

static void print_check(lk_cli_ctx *x, const char *s, lk_token_status st, lk_token_kind kind)
{
    const char *kname = kind == LK_TOKEN_ORG        ? "organization"
                        : kind == LK_TOKEN_PERSONAL ? "personal"
                                                    : NULL;
    char red[LK_TOKEN_REDACTED_SIZE] = "";
    if (st == LK_TOKEN_OK) lk_token_redact(s, red);
    if (x->o.json) {
        json_t *o = json_pack("{s:b,s:s?,s:b,s:s}", "valid", st == LK_TOKEN_OK, "kind", kname,
                              "checksum_ok", st == LK_TOKEN_OK, "reason", lk_token_status_str(st));
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
}

int lk_cmd_keys_check(lk_cli_ctx *x)
{
    char buf[LK_CLI_SECRET_MAX] = "";
    const char *s = x->args[0];
    assert(x->nargs == 1);
    if (strcmp(s, "-") == 0) {
        if (read_token_stdin(buf, sizeof buf) != 0) buf[0] = '\0';
        s = buf;
    }
    /* trim white space (a pasted token often brings a newline) */
    while (is_blank(*s))
        s++;
    size_t len = strlen(s);
    while (len > 0 && is_blank(s[len - 1]))
        len--;
    lk_token_kind kind = 0;
    lk_token_status st = lk_token_parse(s, len, &kind);
    print_check(x, s, st, token_kind(s, len, st, kind));
    sodium_memzero(buf, sizeof buf);
    return st == LK_TOKEN_OK ? LK_EXIT_OK : LK_EXIT_FAIL;
}

/* --- rotate: keys rotate KEY [--org ORG] [--grace DURATION] ------------- */

#define GRACE_MAX_SECS (7 * 24 * 3600) /* the server's limit (spec) */
#define GRACE_DIGITS_MAX 7             /* 604800 is the longest sensible count */

/* --grace: a whole number with an optional unit s, m, h or d ("0", "90s",
 * "30m", "1h", "7d"); 0 .. 7 days. -1 for anything else. */
static int64_t grace_parse(const char *s)
{
    int64_t v = 0, unit = 1;
    size_t i = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        if (i >= GRACE_DIGITS_MAX) return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (i == 0) return -1;
    switch (s[i]) {
    case '\0':
        break;
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 24 * 3600;
        break;
    default:
        return -1;
    }
    if (s[i] != '\0' && s[i + 1] != '\0') return -1;
    v *= unit;
    return v <= GRACE_MAX_SECS ? v : -1;
}

/* The rotated key as show_token, then until when the previous token works. */
static int show_rotated(lk_cli_ctx *x, const lk_client_resp *r)
{
    int rc = show_token(x, r, "Rotated key", "Its new token");
    if (rc != 0 || x->o.json) return rc;
    char until[LK_TABLE_CELL_MAX];
    const char *u = lk_cli_jstr(r->json, "previous_token_expires_at");
    lk_output_sanitize(u ? u : "", until, sizeof until);
    if (u)
        lk_cli_notef("The previous token keeps working until %s.", until);
    else
        lk_cli_notef("The previous token no longer works.");
    return 0;
}

int lk_cmd_keys_rotate(lk_cli_ctx *x)
{
    char one[LK_CLI_PATH_MAX], action[LK_CLI_PATH_MAX + sizeof("/rotate")];
    assert(x->nargs == 1);
    int64_t grace = x->o.grace ? grace_parse(x->o.grace) : 0;
    if (grace < 0)
        return lk_cli_usage_error(x,
                                  "--grace wants a duration from 0 to 7d: 0, 90s, 30m, 1h, "
                                  "24h or 7d, not '%s'",
                                  x->o.grace);
    int rc = lk_res_one_path(x, &lk_res_keys, x->args[0], one);
    if (rc != 0) return rc;
    snprintf(action, sizeof action, "%s/rotate", one);
    json_t *body = json_pack("{s:I}", "grace_period_seconds", (json_int_t)grace);
    if (!body) return LK_EXIT_FAIL;
    lk_client_resp r;
    rc = lk_cli_request(x, "POST", action, body, &r);
    json_decref(body);
    if (rc != 0) return rc;
    rc = show_rotated(x, &r);
    lk_client_resp_release(&r);
    return rc;
}
