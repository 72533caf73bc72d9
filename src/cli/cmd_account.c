/*
 * cmd_account.c — the person's own account (spec: "CLI additions"):
 * `latchkey sessions list`, `sessions revoke ID` and `password`.
 *
 *  - sessions list: GET /v1/me/sessions as a table (ID, the "this"
 *    marker, address, device, created, last seen) or, with --json, the
 *    API's JSON byte for byte. A session is a browser (or `latchkey
 *    login`'s short one); an access key is not a session, so the marker
 *    is only ever set when the credential itself is a session.
 *  - sessions revoke ID: DELETE /v1/me/sessions/ID; that browser is signed
 *    out at once.
 *  - password: asks for the current password and the new one twice, on a
 *    terminal only, with echo off (lk_cli_prompt_line), and sends PATCH
 *    /v1/me/password. Every other session of the account ends; access
 *    keys are not touched. Without a terminal it refuses (exit 2) rather
 *    than read a password from a pipe or an argument.
 *
 * Passwords live in fixed buffers that are wiped on every path, and in
 * jansson's copy, which is wiped before it is freed. Nothing here prints
 * a password or a token.
 */
#include "cli.h"
#include "cli_resource.h"

#include <assert.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SESSIONS_PATH "/v1/me/sessions"
#define PASSWORD_PATH "/v1/me/password"
#define SESSION_PREFIX "ses_"
#define UA_WIDTH 48       /* display width of the DEVICE column */
#define THIS_FIELD "this" /* the synthetic field of the THIS column */
#define THIS_MARK "*"

/* The sessions table. THIS_FIELD is filled from the boolean `current`. */
static const lk_resource res_sessions = {
    "session",
    SESSIONS_PATH,
    SESSIONS_PATH,
    "id",
    SESSION_PREFIX,
    NULL,
    {{"ID", "id", 0, 0},
     {"THIS", THIS_FIELD, 0, 0},
     {"ADDRESS", "ip", 0, 0},
     {"DEVICE", "user_agent", 0, UA_WIDTH},
     {"CREATED", "created_at", COL_DATE, 0},
     {"LAST SEEN", "last_seen_at", COL_DATE, 0}},
};

int lk_cmd_sessions_list(lk_cli_ctx *x)
{
    if (x->o.json) return lk_cli_print_list_json(x, SESSIONS_PATH);
    json_t *items, *it;
    size_t i;
    int rc = lk_cli_fetch_all(x, SESSIONS_PATH, &items);
    if (rc != 0) return rc;
    json_array_foreach(items, i, it)
    {
        bool cur = json_is_true(json_object_get(it, "current"));
        if (json_is_object(it))
            json_object_set_new(it, THIS_FIELD, json_string(cur ? THIS_MARK : ""));
    }
    if (json_array_size(items) == 0)
        lk_cli_notef("No sessions: nobody is signed in to this account in a browser.");
    else
        rc = lk_res_print_table(&res_sessions, items);
    json_decref(items);
    return rc;
}

int lk_cmd_sessions_revoke(lk_cli_ctx *x)
{
    char one[LK_CLI_PATH_MAX];
    assert(x->nargs == 1);
    const char *id = x->args[0];
    if (strncmp(id, SESSION_PREFIX, strlen(SESSION_PREFIX)) != 0)
        return lk_cli_usage_error(x, "a session ID starts with '%s' (see `latchkey sessions list`)",
                                  SESSION_PREFIX);
    int rc = lk_res_item_path(x, SESSIONS_PATH, id, one);
    if (rc != 0) return rc;
    lk_client_resp r;
    if ((rc = lk_cli_request(x, "DELETE", one, NULL, &r)) != 0) return rc;
    lk_client_resp_release(&r);
    if (!x->o.json) lk_cli_notef("Signed out session %s.", id);
    return 0;
}

/* Overwrite a string jansson holds (a password) before it is freed. */
static void wipe_json_string(json_t *s)
{
    const char *v = json_string_value(s);
    if (v) sodium_memzero((char *)(uintptr_t)v, json_string_length(s));
}

/* The three prompts; 0, or an exit status (reported). */
static int ask_passwords(lk_cli_ctx *x, char cur[LK_CLI_SECRET_MAX], char next[LK_CLI_SECRET_MAX])
{
    char again[LK_CLI_SECRET_MAX];
    int rc = 0;
    if (lk_cli_prompt_line("Current password: ", cur, LK_CLI_SECRET_MAX, true) != 0 || !cur[0]) {
        lk_cli_errorf(x, "no current password given");
        return LK_EXIT_FAIL;
    }
    if (lk_cli_prompt_line("New password: ", next, LK_CLI_SECRET_MAX, true) != 0 || !next[0]) {
        lk_cli_errorf(x, "no new password given");
        return LK_EXIT_FAIL;
    }
    if (lk_cli_prompt_line("Repeat the new password: ", again, sizeof again, true) != 0 ||
        strcmp(again, next) != 0) {
        lk_cli_errorf(x, "the new passwords do not match; nothing was changed");
        rc = LK_EXIT_FAIL;
    }
    sodium_memzero(again, sizeof again);
    return rc;
}

int lk_cmd_password(lk_cli_ctx *x)
{
    char cur[LK_CLI_SECRET_MAX] = "", next[LK_CLI_SECRET_MAX] = "";
    json_t *body = NULL;
    lk_client_resp r;
    int rc;
    if (!isatty(STDIN_FILENO)) {
        lk_cli_errorf(x, "`latchkey password` needs a terminal to ask for the passwords; it "
                         "never reads them from a pipe or an argument. Use the dashboard's "
                         "Account page instead");
        return LK_EXIT_USAGE;
    }
    if ((rc = ask_passwords(x, cur, next)) != 0) goto out;
    body = json_pack("{s:s,s:s}", "current_password", cur, "new_password", next);
    sodium_memzero(cur, sizeof cur);
    sodium_memzero(next, sizeof next);
    if (!body) {
        rc = LK_EXIT_FAIL;
        goto out;
    }
    rc = lk_cli_request(x, "PATCH", PASSWORD_PATH, body, &r);
    wipe_json_string(json_object_get(body, "current_password"));
    wipe_json_string(json_object_get(body, "new_password"));
    if (rc != 0) goto out;
    lk_client_resp_release(&r);
    lk_cli_notef("Password changed. Every browser session of this account was signed out; "
                 "access keys keep working.");
out:
    json_decref(body);
    sodium_memzero(cur, sizeof cur);
    sodium_memzero(next, sizeof next);
    return rc;
}
