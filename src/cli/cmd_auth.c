/*
 * cmd_auth.c — `latchkey login`, `logout` and `whoami` (spec: "The CLI").
 *
 * login: at a terminal only (else exit 3, pointing at LATCHKEY_TOKEN). By
 * default through the browser (cmd_device.c: the device flow, whose
 * approved request yields a personal key named "latchkey CLI on <host>").
 * With --password it signs in with email and password (a session cookie +
 * CSRF token held by the client, wiped on free), makes that key itself and
 * ends the session; the password is wiped from every buffer that held it,
 * jansson's copy included. Either way the key is stored with the URL in
 * the credentials file (cli_credentials.h) and the key of a previous login
 * to the same server is revoked.
 *
 * logout: revokes the stored key and removes the file; the file is kept
 * when the server could not be asked (so the key is not left live and
 * forgotten).
 */
#include "cli.h"
#include "cli_output.h"
#include "token.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EMAIL_MAX 300
#define HOST_MAX 256
#define KEYNAME_MAX 300
#define WHO_MAX 600
#define KEY_PATH "/v1/me/access-keys"

/* Overwrite a string jansson holds (a password) before it is freed. */
static void wipe_json_string(json_t *s)
{
    const char *v = json_string_value(s);
    if (v) sodium_memzero((char *)(uintptr_t)v, json_string_length(s));
}

/* A terminal, a URL, a place for the file and a client (keeping cookies
 * for the password sign-in). */
static int login_prepare(lk_cli_ctx *x)
{
    int rc;
    if (!isatty(STDIN_FILENO)) {
        lk_cli_errorf(x, "`latchkey login` is for a person at a terminal (it signs you in through "
                         "the browser). In scripts and CI, create an access key and set "
                         "LATCHKEY_TOKEN (or pass --token)");
        return LK_EXIT_UNAUTH;
    }
    if ((rc = lk_cli_resolve_url(x)) != 0) return rc;
    if (lk_cred_path(x->cred_path) != 0) {
        lk_cli_errorf(x, "cannot find a place for the credentials file: set HOME or "
                         "XDG_CONFIG_HOME");
        return LK_EXIT_FAIL;
    }
    if ((rc = lk_cli_make_client(x)) != 0) return rc;
    if (x->o.password) lk_client_enable_cookies(x->client);
    return 0;
}

/* Ask for email and password and open a session; who = "Name <email>". */
static int login_session(lk_cli_ctx *x, char email[EMAIL_MAX], char who[WHO_MAX])
{
    char password[LK_CLI_SECRET_MAX];
    lk_client_resp r;
    lk_cli_notef("Logging in to %s", x->url);
    if (lk_cli_prompt_line("Email: ", email, EMAIL_MAX, false) != 0 || !email[0]) {
        lk_cli_errorf(x, "no email given");
        return LK_EXIT_UNAUTH;
    }
    if (lk_cli_prompt_line("Password: ", password, sizeof password, true) != 0) {
        lk_cli_errorf(x, "no password given");
        return LK_EXIT_UNAUTH;
    }
    json_t *body = json_pack("{s:s,s:s}", "email", email, "password", password);
    sodium_memzero(password, sizeof password);
    if (!body) return LK_EXIT_FAIL;
    int rc = lk_cli_request(x, "POST", "/v1/auth/login", body, &r);
    wipe_json_string(json_object_get(body, "password"));
    json_decref(body);
    if (rc != 0) return rc;
    const char *csrf = lk_cli_jstr(r.json, "csrf_token");
    if (!csrf || lk_client_set_csrf(x->client, csrf) != 0) {
        lk_cli_errorf(x, "the server's login answer has no csrf_token");
        lk_client_resp_release(&r);
        return LK_EXIT_FAIL;
    }
    json_t *user = json_object_get(r.json, "user"); /* borrowed from r */
    const char *name = lk_cli_jstr(user, "name"), *mail = lk_cli_jstr(user, "email");
    snprintf(who, WHO_MAX, "%.200s <%.300s>", name ? name : "", mail ? mail : email);
    lk_client_resp_release(&r);
    return 0;
}

/* A previous login from this machine to this server: revoke its key. */
static void revoke_previous(lk_cli_ctx *x)
{
    char msg[LK_CLI_CRED_MSG_MAX], stored[LK_CRED_URL_MAX], path[LK_CLI_PATH_MAX];
    lk_cred old = {0};
    lk_client_resp r = {0};
    if (lk_cred_load(x->cred_path, &old, msg, sizeof msg) == 0 && old.key_id[0]) {
        snprintf(stored, sizeof stored, "%s", old.url);
        lk_cli_strip_slashes(stored);
        if (strcmp(stored, x->url) == 0 &&
            lk_cli_build_path(x, path, sizeof path, KEY_PATH "/%s", old.key_id) == 0 &&
            lk_client_request(x->client, "DELETE", path, NULL, &r) == 0)
            lk_cli_notef("Revoked the key of the previous login (%s).", old.key_id);
        lk_client_resp_release(&r);
    }
    lk_cred_clear(&old);
}

/* "latchkey CLI on <host>": the name of this machine's key. */
static void key_name(char keyname[KEYNAME_MAX])
{
    char host[HOST_MAX];
    if (gethostname(host, sizeof host) != 0 || !host[0])
        snprintf(host, sizeof host, "this machine");
    host[sizeof host - 1] = '\0';
    snprintf(keyname, KEYNAME_MAX, "latchkey CLI on %.80s", host);
}

/* Make this machine's personal key and fill cred from it (the caller
 * clears cred). keyname receives the key's name. */
static int make_key(lk_cli_ctx *x, lk_cred *cred, char keyname[KEYNAME_MAX])
{
    lk_client_resp r;
    key_name(keyname);
    json_t *body = lk_cli_name_body(keyname);
    int rc = body ? lk_cli_request(x, "POST", KEY_PATH, body, &r) : LK_EXIT_FAIL;
    json_decref(body);
    if (rc != 0) return rc;
    const char *token = lk_cli_jstr(r.json, "token");
    const char *key_id = lk_cli_jstr(r.json, "id");
    if (!token || lk_token_parse(token, strlen(token), NULL) != LK_TOKEN_OK || !key_id ||
        strlen(key_id) >= sizeof cred->key_id) {
        lk_cli_errorf(x, "the server's answer holds no valid token");
        rc = LK_EXIT_FAIL;
    } else {
        snprintf(cred->url, sizeof cred->url, "%s", x->url);
        snprintf(cred->token, sizeof cred->token, "%s", token);
        snprintf(cred->key_id, sizeof cred->key_id, "%s", key_id);
    }
    lk_client_resp_release(&r);
    return rc;
}

/* Write the file; if that fails, delete the key rather than leave it. */
static int store_key(lk_cli_ctx *x, const lk_cred *cred)
{
    char msg[LK_CLI_CRED_MSG_MAX], path[LK_CLI_PATH_MAX];
    lk_client_resp r = {0};
    if (lk_cred_save(x->cred_path, cred, msg, sizeof msg) == 0) return 0;
    lk_cli_errorf(x, "%s", msg[0] ? msg : "cannot write the credentials file");
    if (lk_cli_build_path(x, path, sizeof path, KEY_PATH "/%s", cred->key_id) == 0)
        lk_client_request(x->client, "DELETE", path, NULL, &r);
    lk_client_resp_release(&r);
    return LK_EXIT_FAIL;
}

static void logged_in(lk_cli_ctx *x, const lk_cred *cred, const char *who, const char *keyname)
{
    char safe[WHO_MAX], safe_key[KEYNAME_MAX]; /* sanitizing never makes a string longer */
    char red[LK_TOKEN_REDACTED_SIZE];
    lk_token_redact(cred->token, red);
    lk_output_sanitize(who, safe, sizeof safe);
    lk_output_sanitize(keyname, safe_key, sizeof safe_key);
    lk_cli_notef("Logged in as %s. Stored the personal key '%s' (%s) in %s.", safe, safe_key, red,
                 x->cred_path);
    const char *env = getenv("LATCHKEY_TOKEN");
    if (env && *env)
        lk_cli_notef("Note: LATCHKEY_TOKEN is set; it takes precedence over this login.");
}

/* --password: today's email and password prompt. */
static int login_password(lk_cli_ctx *x)
{
    char email[EMAIL_MAX], who[WHO_MAX], keyname[KEYNAME_MAX];
    lk_cred cred = {0};
    lk_client_resp r = {0};
    int rc = login_session(x, email, who);
    if (rc != 0) return rc;
    revoke_previous(x);
    if ((rc = make_key(x, &cred, keyname)) != 0) goto out;
    snprintf(cred.email, sizeof cred.email, "%.250s", email);
    if ((rc = store_key(x, &cred)) != 0) goto out;
    logged_in(x, &cred, who, keyname);
out:
    /* the session was only needed to make the key: end it */
    (void)lk_client_request(x->client, "POST", "/v1/auth/logout", NULL, &r);
    lk_client_resp_release(&r);
    lk_cred_clear(&cred);
    return rc;
}

/* Who the new key's user is ("Name <email>"), and their email into cred. */
static void key_owner(lk_cli_ctx *x, lk_cred *cred, char who[WHO_MAX])
{
    lk_client_resp r = {0};
    snprintf(who, WHO_MAX, "the approving user");
    if (lk_client_request(x->client, "GET", "/v1/whoami", NULL, &r) == 0) {
        json_t *u = json_object_get(r.json, "user"); /* borrowed from r */
        const char *name = lk_cli_jstr(u, "name"), *mail = lk_cli_jstr(u, "email");
        if (mail) {
            snprintf(who, WHO_MAX, "%.200s <%.300s>", name ? name : "", mail);
            snprintf(cred->email, sizeof cred->email, "%.250s", mail);
        }
    }
    lk_client_resp_release(&r);
}

/* The default: through the browser (cmd_device.c). */
static int login_browser(lk_cli_ctx *x)
{
    char who[WHO_MAX], keyname[KEYNAME_MAX], client_name[KEYNAME_MAX];
    lk_cred cred = {0};
    key_name(client_name);
    int rc = lk_cli_device_login(x, client_name, &cred, keyname, sizeof keyname);
    if (rc != 0) goto out;
    if (lk_client_set_token(x->client, cred.token) != 0) {
        lk_cli_errorf(x, "out of memory");
        rc = LK_EXIT_FAIL;
        goto out;
    }
    key_owner(x, &cred, who);
    revoke_previous(x);
    if ((rc = store_key(x, &cred)) != 0) goto out;
    logged_in(x, &cred, who, keyname);
out:
    lk_cred_clear(&cred);
    return rc;
}

int lk_cmd_login(lk_cli_ctx *x)
{
    int rc = login_prepare(x);
    if (rc != 0) return rc;
    return x->o.password ? login_password(x) : login_browser(x);
}

/* The ID of the stored key; an old file without one: ask who we are. */
static int stored_key_id(lk_cli_ctx *x, char key_id[LK_CLI_ESC_MAX])
{
    lk_client_resp r;
    snprintf(key_id, LK_CLI_ESC_MAX, "%s", x->cred.key_id);
    if (key_id[0]) return 0;
    int res = lk_client_request(x->client, "GET", "/v1/whoami", NULL, &r);
    if (res == 0) {
        const char *id = lk_cli_jstr(json_object_get(r.json, "key"), "id");
        snprintf(key_id, LK_CLI_ESC_MAX, "%s", id ? id : "");
    }
    lk_client_resp_release(&r);
    return res;
}

int lk_cmd_logout(lk_cli_ctx *x)
{
    char path[LK_CLI_PATH_MAX], key_id[LK_CLI_ESC_MAX];
    int rc;
    if ((rc = lk_cli_resolve_url(x)) != 0 || (rc = lk_cli_use_stored_credential(x)) != 0) return rc;
    if ((rc = lk_cli_make_client(x)) != 0) return rc;
    lk_client_set_token(x->client, x->cred.token);
    long status = 0;
    int res = stored_key_id(x, key_id);
    if (res == 0 && key_id[0]) {
        if ((rc = lk_cli_build_path(x, path, sizeof path, KEY_PATH "/%s", key_id)) != 0) return rc;
        lk_client_resp r;
        res = lk_client_request(x->client, "DELETE", path, NULL, &r);
        status = r.status;
        lk_client_resp_release(&r);
    }
    /* 401 (the key is expired or revoked) and 404 (already deleted): the
     * server holds nothing for this file any more, so remove it anyway */
    if (res == LK_CLIENT_EUNREACHABLE ||
        (res != 0 && res != LK_CLIENT_EUNAUTH && !(res == LK_CLIENT_EREFUSED && status == 404))) {
        rc = lk_cli_request_failed(x, res);
        lk_cli_notef("The key was not revoked, so %s was kept. Try again, or delete the key in "
                     "the dashboard and remove the file.",
                     x->cred_path);
        return rc;
    }
    if (res != 0) lk_cli_notef("The stored key was already revoked or expired.");
    if (lk_cred_remove(x->cred_path) != 0) {
        lk_cli_errorf(x, "cannot remove %s: %s", x->cred_path, strerror(errno));
        return LK_EXIT_FAIL;
    }
    lk_cli_notef("Logged out: revoked the stored key and removed %s.", x->cred_path);
    return 0;
}

/* ------------------------------------------------------------------ whoami */

static const char *or_empty(json_t *o, const char *k)
{
    const char *v = lk_cli_jstr(o, k);
    return v ? v : "";
}

static void add_pair(lk_table *t, const char *key, const char *value)
{
    const char *row[2] = {key, value};
    (void)lk_table_add(t, row); /* out of memory: the line is left out */
}

/* The rows of `whoami`: principal, user, organization, key, expires. */
static void whoami_rows(lk_table *t, json_t *w)
{
    char line[LK_TABLE_CELL_MAX];
    add_pair(t, "principal", lk_cli_jstr(w, "principal"));
    json_t *u = json_object_get(w, "user");
    if (json_is_object(u)) {
        snprintf(line, sizeof line, "%s <%s> (%s)", or_empty(u, "name"), or_empty(u, "email"),
                 or_empty(u, "id"));
        add_pair(t, "user", line);
    }
    json_t *o = json_object_get(w, "organization");
    if (json_is_object(o)) {
        snprintf(line, sizeof line, "%s (%s)", or_empty(o, "name"), or_empty(o, "id"));
        add_pair(t, "organization", line);
    }
    json_t *k = json_object_get(w, "key");
    if (json_is_object(k)) {
        snprintf(line, sizeof line, "%s (%s, %s)", or_empty(k, "name"), or_empty(k, "redacted"),
                 or_empty(k, "id"));
        add_pair(t, "key", line);
        if (lk_cli_jstr(k, "expires_at")) {
            char d[LK_DATE_SIZE];
            lk_output_date(lk_cli_jstr(k, "expires_at"), d);
            add_pair(t, "expires", d);
        }
    }
}

int lk_cmd_whoami(lk_cli_ctx *x)
{
    lk_client_resp r;
    int rc = lk_cli_request(x, "GET", "/v1/whoami", NULL, &r);
    if (rc != 0) return rc;
    if (x->o.json) {
        lk_cli_print_raw(&r);
        goto out;
    }
    lk_table *t = lk_table_new(2, NULL);
    if (!t) {
        rc = LK_EXIT_FAIL;
        goto out;
    }
    whoami_rows(t, r.json);
    lk_table_print(t, stdout, false);
    lk_table_free(t);
out:
    lk_client_resp_release(&r);
    return rc;
}
