/*
 * cli_session.c — how the CLI talks to a person on stderr and how it finds
 * its server and credential (cli.h). Where things come from, in order:
 *  - the URL: --url, LATCHKEY_URL, the URL stored with the credentials file
 *    (only when the token comes from that file), LK_CLI_DEFAULT_URL;
 *  - the token: --token, LATCHKEY_TOKEN, the credentials file written by
 *    `latchkey login` (cli_credentials.h). A token is checked offline before
 *    it is sent; a command that needs one and finds none exits 3.
 * A stored token is never sent to a server it was not made for. Every
 * message is scrubbed of token-like strings (lk_client_scrub) before it is
 * printed.
 */
#include "cli.h"
#include "cli_output.h"
#include "token.h"

#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define ERR_MSG_MAX 1024
#define USAGE_MSG_MAX 512

/* Format into buf and scrub anything token-shaped out of it. */
static void format_scrubbed(char *buf, size_t size, const char *fmt, va_list ap)
{
    vsnprintf(buf, size, fmt, ap);
    lk_client_scrub(buf);
}

static void verror(const lk_cli_ctx *x, const char *fmt, va_list ap)
{
    char buf[ERR_MSG_MAX];
    format_scrubbed(buf, sizeof buf, fmt, ap);
    if (x && x->err_color)
        fprintf(stderr, "latchkey: \033[31merror:\033[0m %s\n", buf);
    else
        fprintf(stderr, "latchkey: error: %s\n", buf);
}

void lk_cli_errorf(lk_cli_ctx *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(x, fmt, ap);
    va_end(ap);
}

void lk_cli_notef(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void vusage(const lk_cli_ctx *x, const char *fmt, va_list ap)
{
    char buf[USAGE_MSG_MAX];
    format_scrubbed(buf, sizeof buf, fmt, ap);
    fprintf(stderr, "latchkey: %s\n", buf);
    if (x && x->cmd)
        fprintf(stderr, "usage: latchkey %s\nRun 'latchkey %s%s%s --help' for more.\n",
                x->cmd->usage, x->cmd->group, x->cmd->sub ? " " : "",
                x->cmd->sub ? x->cmd->sub : "");
    else
        fprintf(stderr, "usage: latchkey [--url URL] [--token TOKEN] [--json] COMMAND ...\n"
                        "Run 'latchkey --help' for the list of commands.\n");
}

int lk_cli_usage_error(lk_cli_ctx *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vusage(x, fmt, ap);
    va_end(ap);
    return LK_EXIT_USAGE;
}

/* Report a failed request and return the exit status. */
int lk_cli_request_failed(lk_cli_ctx *x, int rc)
{
    const char *m = lk_client_errmsg(x->client);
    if (rc == LK_CLIENT_EUNAUTH && x->token_source)
        lk_cli_errorf(x, "%s; the token from %s was not accepted", m, x->token_source);
    else
        lk_cli_errorf(x, "%s", m);
    return lk_client_exit_code(rc);
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
int lk_cli_prompt_line(const char *prompt, char *out, size_t size, bool secret)
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

void lk_cli_strip_slashes(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        s[--n] = '\0';
}

/* Set x->url from --url or LATCHKEY_URL (x->url_explicit) or the default. */
int lk_cli_resolve_url(lk_cli_ctx *x)
{
    const char *u = x->o.url;
    if (!u || !*u) u = getenv("LATCHKEY_URL");
    x->url_explicit = u && *u;
    if (!x->url_explicit) u = LK_CLI_DEFAULT_URL;
    if (strlen(u) >= sizeof x->url) return lk_cli_usage_error(x, "the URL is too long");
    snprintf(x->url, sizeof x->url, "%s", u);
    lk_cli_strip_slashes(x->url);
    return 0;
}

int lk_cli_make_client(lk_cli_ctx *x)
{
    int rc = lk_client_new(x->url, &x->client);
    if (rc == LK_CLIENT_EUSAGE)
        return lk_cli_usage_error(x, "bad server URL '%s': it must start with http:// or https://",
                                  x->url);
    if (rc != 0) {
        lk_cli_errorf(x, "out of memory");
        return LK_EXIT_FAIL;
    }
    return 0;
}

static int no_credential(lk_cli_ctx *x)
{
    lk_cli_errorf(x,
                  "not logged in: no credential found. Pass --token TOKEN, set LATCHKEY_TOKEN, "
                  "or run `latchkey login` (which stores one in %s)",
                  x->cred_path[0] ? x->cred_path : "~/.config/latchkey/credentials");
    return LK_EXIT_UNAUTH;
}

/* Load the credentials file into x->cred. 0 or an exit status (reported). */
static int load_file(lk_cli_ctx *x)
{
    char msg[LK_CLI_CRED_MSG_MAX];
    if (lk_cred_path(x->cred_path) != 0) {
        x->cred_path[0] = '\0';
        return no_credential(x);
    }
    int rc = lk_cred_load(x->cred_path, &x->cred, msg, sizeof msg);
    if (rc == LK_CRED_ENOENT) return no_credential(x);
    if (rc != 0) {
        lk_cli_errorf(x, "%s", msg);
        return LK_EXIT_UNAUTH;
    }
    return 0;
}

/* Load the credentials file and take the URL stored with it. An explicit
 * URL (--url, LATCHKEY_URL) that differs is refused: a stored token is never
 * sent to a server it was not made for. resolve_url must have run.
 * Returns 0 or an exit status (already reported). */
int lk_cli_use_stored_credential(lk_cli_ctx *x)
{
    int rc = load_file(x);
    if (rc != 0) return rc;
    x->token_source = x->cred_path;
    char stored[LK_CRED_URL_MAX];
    snprintf(stored, sizeof stored, "%s", x->cred.url[0] ? x->cred.url : LK_CLI_DEFAULT_URL);
    lk_cli_strip_slashes(stored);
    if (x->url_explicit && strcmp(stored, x->url) != 0) {
        lk_cli_errorf(x,
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
int lk_cli_connect(lk_cli_ctx *x)
{
    const char *tok = NULL;
    int rc = lk_cli_resolve_url(x);
    if (rc != 0) return rc;
    if (x->o.token) {
        tok = x->o.token;
        x->token_source = "--token";
    } else if ((tok = getenv("LATCHKEY_TOKEN")) && *tok) {
        x->token_source = "LATCHKEY_TOKEN";
    } else {
        if ((rc = lk_cli_use_stored_credential(x)) != 0) return rc;
        tok = x->cred.token;
    }
    lk_token_status st = lk_token_parse(tok, strlen(tok), NULL);
    if (st != LK_TOKEN_OK) {
        lk_cli_errorf(x, "the token from %s is not a latchkey access key (%s)", x->token_source,
                      lk_token_status_str(st));
        return LK_EXIT_UNAUTH;
    }
    if ((rc = lk_cli_make_client(x)) != 0) return rc;
    if (lk_client_set_token(x->client, tok) != 0) {
        lk_cli_errorf(x, "out of memory");
        return LK_EXIT_FAIL;
    }
    return 0;
}
