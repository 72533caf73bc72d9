/*
 * cmd_device.c — `latchkey login` through the browser: the CLI's side of
 * the device authorization flow (spec: "Sign-in from the CLI through the
 * browser"; RFC 8628's shape).
 *
 *   POST /v1/auth/device {client_name, scopes?}
 *     → print the code and the URL on stderr, open the browser
 *       ($BROWSER, else xdg-open, else open; not with --no-browser)
 *   POST /v1/auth/device/token {device_code} every `interval` seconds, a
 *     spinner on stderr meanwhile (only when stderr is a terminal):
 *       authorization_pending → again; slow_down → interval + 5, again;
 *       access_denied, expired_token → exit 1 with a sentence; 200 → the key
 *
 * Invariants:
 *  - The device_code is a secret (it collects the key): it lives in one
 *    local buffer and in the JSON bodies, all wiped before they are freed,
 *    and is never printed. The token goes into the caller's lk_cred only.
 *  - Everything read from the server is capped and checked before use:
 *    codes by length and alphabet, URLs must be http(s) and printable (a
 *    URL goes to exec as one argv word, never to a shell), numbers are
 *    clamped, the wait is bounded by expires_in.
 *  - The browser runs detached (posix_spawnp, its output to /dev/null); a
 *    browser that cannot be started is not an error — the URL is printed.
 */
#include "cli.h"
#include "cli_output.h"
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define DEVICE_CODE_MAX 128 /* bytes of a device_code we accept */
#define USER_CODE_MAX 16    /* "BCDF-GHJK" */
#define VERIFY_URL_MAX 2048 /* a verification URL we print or open */
#define INTERVAL_MIN 1      /* seconds; the server says 5 */
#define INTERVAL_MAX 60
#define SLOW_DOWN_STEP 5    /* RFC 8628 3.5 */
#define EXPIRES_MAX 3600    /* we never wait longer than an hour */
#define UNREACHABLE_TRIES 3 /* consecutive transport failures before giving up */
#define SPIN_TICK_MS 100
#define BROWSER_CMD_MAX 512

typedef struct device_start {
    char device_code[DEVICE_CODE_MAX + 1];
    char user_code[USER_CODE_MAX + 1];
    char uri[VERIFY_URL_MAX + 1];
    char uri_complete[VERIFY_URL_MAX + 1];
    long expires_in, interval;
} device_start;

/* Overwrite a string jansson holds (a secret) before it is freed. */
static void wipe_jstr(json_t *s)
{
    const char *v = json_string_value(s);
    if (v) sodium_memzero((char *)(uintptr_t)v, json_string_length(s));
}

static bool printable_url(const char *u)
{
    if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) return false;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\'' || *p == '\\') return false;
    return true;
}

/* Copy a string member into out (cap bytes with the NUL) if it passes ok. */
static bool take_str(json_t *o, const char *k, char *out, size_t cap, bool (*ok)(const char *))
{
    const char *v = lk_cli_jstr(o, k);
    if (!v || strlen(v) >= cap || !*v || (ok && !ok(v))) return false;
    memcpy(out, v, strlen(v) + 1);
    return true;
}

static bool code_chars(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return false;
    return true;
}

static long clamp(json_t *v, long lo, long hi, long dflt)
{
    if (!json_is_integer(v)) return dflt;
    json_int_t n = json_integer_value(v);
    return n < lo ? lo : n > hi ? hi : (long)n;
}

/* The start request's body: client_name and the --scope list (checked
 * here, as keys create checks it). 0 and *out (owned by the caller), or
 * the exit status (a message printed). */
static int start_body(lk_cli_ctx *x, const char *client_name, json_t **out)
{
    json_t *b = json_pack("{s:s}", "client_name", client_name), *a = NULL;
    int rc = b ? 0 : LK_EXIT_FAIL;
    if (rc == 0 && x->o.nscope > 0) {
        a = json_array();
        rc = a ? lk_cli_scopes_json(x, a) : LK_EXIT_FAIL;
        if (rc == 0) {
            rc = json_object_set_new(b, "scopes", a) == 0 ? 0 : LK_EXIT_FAIL;
            a = NULL; /* released either way */
        }
    }
    json_decref(a);
    if (rc != 0) {
        if (rc == LK_EXIT_FAIL) lk_cli_errorf(x, "out of memory");
        json_decref(b);
        return rc;
    }
    *out = b;
    return 0;
}

/* POST /v1/auth/device and check its answer into *s. */
static int device_begin(lk_cli_ctx *x, const char *client_name, device_start *s)
{
    lk_client_resp r;
    json_t *body = NULL;
    int rc = start_body(x, client_name, &body);
    if (rc != 0) return rc;
    rc = lk_cli_request(x, "POST", "/v1/auth/device", body, &r);
    json_decref(body);
    if (rc == LK_EXIT_FAIL)
        lk_cli_notef("(A latchkey server older than 1.1 cannot sign in through the browser: use "
                     "`latchkey login --password`.)");
    if (rc != 0) return rc;
    bool ok = take_str(r.json, "device_code", s->device_code, sizeof s->device_code, code_chars) &&
              take_str(r.json, "user_code", s->user_code, sizeof s->user_code, code_chars) &&
              take_str(r.json, "verification_uri", s->uri, sizeof s->uri, printable_url);
    if (ok && !take_str(r.json, "verification_uri_complete", s->uri_complete,
                        sizeof s->uri_complete, printable_url))
        memcpy(s->uri_complete, s->uri, sizeof s->uri);
    s->expires_in = clamp(json_object_get(r.json, "expires_in"), 1, EXPIRES_MAX, 600);
    s->interval = clamp(json_object_get(r.json, "interval"), INTERVAL_MIN, INTERVAL_MAX, 5);
    wipe_jstr(json_object_get(r.json, "device_code"));
    if (r.raw) sodium_memzero(r.raw, r.raw_len);
    lk_client_resp_release(&r);
    if (!ok) {
        sodium_memzero(s, sizeof *s);
        lk_cli_errorf(x,
                      "the server's answer to the sign-in request is not usable (is %s a "
                      "latchkey server of version 1.1 or later? Else use --password)",
                      x->url);
        return LK_EXIT_FAIL;
    }
    return 0;
}

/* --- the browser ------------------------------------------------------------ */

/* Start prog with url as its one argument, detached; true if it started. */
static bool spawn_browser(const char *prog, const char *url, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    char *argv[] = {(char *)(uintptr_t)prog, (char *)(uintptr_t)url, NULL};
    if (posix_spawn_file_actions_init(&fa) != 0) return false;
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0;
}

/* $BROWSER (its first ':'-separated entry), else xdg-open, else open. */
static pid_t open_browser(const char *url)
{
    char cmd[BROWSER_CMD_MAX];
    pid_t pid = 0;
    const char *env = getenv("BROWSER");
    if (env && *env) {
        size_t n = strcspn(env, ":");
        if (n > 0 && n < sizeof cmd) {
            memcpy(cmd, env, n);
            cmd[n] = '\0';
            if (spawn_browser(cmd, url, &pid)) return pid;
        }
    }
    if (spawn_browser("xdg-open", url, &pid)) return pid;
    if (spawn_browser("open", url, &pid)) return pid;
    return 0;
}

static void tell_person(lk_cli_ctx *x, const device_start *s)
{
    lk_cli_notef("To sign in to %s, approve this code in your browser:\n\n    %s\n", x->url,
                 s->user_code);
    lk_cli_notef("Open %s and check that it shows the same code.", s->uri_complete);
    if (x->o.no_browser) return;
    pid_t pid = open_browser(s->uri_complete);
    if (pid > 0)
        lk_cli_notef("Opened it in your browser.");
    else
        lk_cli_notef("Could not open a browser (set BROWSER, or open the address yourself).");
}

/* --- polling ------------------------------------------------------------------ */

/* Wait secs, turning a spinner on stderr when it is a terminal. */
static void wait_spinning(long secs, const char *code, bool spin)
{
    static const char frames[] = "-\\|/";
    static unsigned frame;
    long ticks = secs * 1000 / SPIN_TICK_MS;
    struct timespec t = {0, SPIN_TICK_MS * 1000000L};
    for (long i = 0; i < ticks; i++) {
        if (spin && i % 2 == 0)
            fprintf(stderr, "\r%c Waiting for the approval of %s in the browser... ",
                    frames[frame++ % 4], code);
        nanosleep(&t, NULL);
        while (waitpid(-1, NULL, WNOHANG) > 0) /* reap the browser launcher */
            ;
    }
}

static void clear_spinner(bool spin)
{
    if (spin) fputs("\r\033[K", stderr);
}

/* The approved answer {token, key} into cred; 0 or an exit status. */
static int take_key(lk_cli_ctx *x, json_t *ans, lk_cred *cred, char *keyname, size_t keyname_size)
{
    const char *tok = lk_cli_jstr(ans, "token");
    json_t *key = json_object_get(ans, "key");
    const char *id = lk_cli_jstr(key, "id"), *name = lk_cli_jstr(key, "name");
    if (!tok || lk_token_parse(tok, strlen(tok), NULL) != LK_TOKEN_OK || !id ||
        strlen(id) >= sizeof cred->key_id) {
        lk_cli_errorf(x, "the server's answer holds no valid token");
        return LK_EXIT_FAIL;
    }
    snprintf(cred->url, sizeof cred->url, "%s", x->url);
    snprintf(cred->token, sizeof cred->token, "%s", tok);
    snprintf(cred->key_id, sizeof cred->key_id, "%s", id);
    snprintf(keyname, keyname_size, "%s", name ? name : "");
    return 0;
}

/* What a refused poll means: 0 to poll again (maybe slower), else an exit
 * status (reported), or -1 when the server could not be reached. */
static int poll_refused(lk_cli_ctx *x, device_start *s, int rc, const lk_client_resp *r)
{
    const char *code = lk_cli_jstr(json_object_get(r->json, "error"), "code");
    bool is400 = r->status == 400 && code != NULL;
    if (is400 && strcmp(code, "authorization_pending") == 0) return 0;
    if (is400 && strcmp(code, "slow_down") == 0) {
        s->interval += SLOW_DOWN_STEP;
        if (s->interval > INTERVAL_MAX) s->interval = INTERVAL_MAX;
        return 0;
    }
    if (is400 && strcmp(code, "access_denied") == 0) {
        lk_cli_errorf(x, "the sign-in was denied in the browser; nothing was stored");
        return LK_EXIT_FAIL;
    }
    if (is400 && strcmp(code, "expired_token") == 0) {
        lk_cli_errorf(x, "the code expired before it was approved; run `latchkey login` again");
        return LK_EXIT_FAIL;
    }
    if (r->status == 429) {
        if (r->retry_after > s->interval && r->retry_after <= INTERVAL_MAX)
            s->interval = r->retry_after;
        return 0;
    }
    return rc == LK_CLIENT_EUNREACHABLE ? -1 : lk_cli_request_failed(x, rc);
}

/* One poll. 0 and *done: the key is in cred; 0 and !*done: poll again
 * (after s->interval, maybe raised); -1: unreachable; else an exit status,
 * reported. */
static int poll_once(lk_cli_ctx *x, device_start *s, lk_cred *cred, char *keyname,
                     size_t keyname_size, bool *done)
{
    lk_client_resp r = {0};
    json_t *body = json_pack("{s:s}", "device_code", s->device_code);
    *done = false;
    if (!body) return lk_cli_request_failed(x, LK_CLIENT_ENOMEM);
    int rc = lk_client_request(x->client, "POST", "/v1/auth/device/token", body, &r);
    wipe_jstr(json_object_get(body, "device_code"));
    json_decref(body);
    int out;
    if (rc == 0) {
        out = take_key(x, r.json, cred, keyname, keyname_size);
        *done = out == 0;
        wipe_jstr(json_object_get(r.json, "token"));
    } else {
        out = poll_refused(x, s, rc, &r);
    }
    if (r.raw) sodium_memzero(r.raw, r.raw_len);
    lk_client_resp_release(&r);
    return out;
}

/* Poll until approved, denied, expired, or the server is gone. */
static int device_wait(lk_cli_ctx *x, device_start *s, lk_cred *cred, char *keyname,
                       size_t keyname_size)
{
    bool spin = isatty(STDERR_FILENO), done = false;
    time_t deadline = time(NULL) + s->expires_in + INTERVAL_MAX;
    int unreachable = 0, rc = 0;
    while (!done && rc == 0) {
        wait_spinning(s->interval, s->user_code, spin);
        if (time(NULL) > deadline) {
            clear_spinner(spin);
            lk_cli_errorf(x, "the code expired before it was approved; run `latchkey login` "
                             "again");
            return LK_EXIT_FAIL;
        }
        rc = poll_once(x, s, cred, keyname, keyname_size, &done);
        if (rc == -1) { /* unreachable: the server may be restarting */
            rc = ++unreachable < UNREACHABLE_TRIES ? 0 : LK_EXIT_UNREACHABLE;
            if (rc) {
                clear_spinner(spin);
                lk_cli_errorf(x, "%s", lk_client_errmsg(x->client));
            }
        } else {
            unreachable = 0;
        }
    }
    clear_spinner(spin);
    return rc;
}

int lk_cli_device_login(lk_cli_ctx *x, const char *client_name, lk_cred *cred, char *keyname,
                        size_t keyname_size)
{
    device_start s;
    memset(&s, 0, sizeof s);
    int rc = device_begin(x, client_name, &s);
    if (rc == 0) {
        tell_person(x, &s);
        rc = device_wait(x, &s, cred, keyname, keyname_size);
    }
    sodium_memzero(&s, sizeof s);
    return rc;
}
