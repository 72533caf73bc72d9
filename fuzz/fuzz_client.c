/*
 * fuzz_client.c — libFuzzer harness for the CLI's response decoder
 * (src/cli/client.c): the header callback (line and total caps, Set-Cookie
 * latchkey_session capture, Retry-After), the body callback (4 MiB cap,
 * growth), the JSON parse of the answer, the error-body reader that builds
 * the message shown on a terminal (error_from_body: control characters
 * replaced, tokens scrubbed), and lk_client_scrub / lk_client_escape on
 * arbitrary strings.
 *
 * It links the real client.c (lkcli) and reaches the decoder through
 * src/cli/client_rx.h; the steps lk_client_request runs after
 * curl_easy_perform (status → result, json_loadb, error_from_body) are
 * called in the same order here. Input: a status line "NNN\n", header
 * lines (each passed to the callback as curl would, with its line end),
 * a blank line, then the body (fed to the body callback in chunks whose
 * sizes come from the status line's remaining bytes).
 */
#include "client.h"
#include "client_rx.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lk_client *fz_client;

static bool is_base62(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fz_client == NULL && lk_client_new("http://127.0.0.1:9", &fz_client) != 0) abort();
    lk_client *c = fz_client;
    lk_client_rx r = {.retry_after = -1, .want_cookie = true};
    lk_client_resp resp;
    memset(&resp, 0, sizeof resp);
    resp.retry_after = -1;

    size_t i = 0;
    long status = 200;
    /* status line */
    while (i < size && data[i] != '\n')
        i++;
    if (i >= 3) status = (data[0] % 6 + 1) * 100 + (data[1] % 10) * 10 + data[2] % 10;
    size_t chunk = i > 3 ? 1 + data[3] : 4096;
    if (i < size) i++;
    /* header lines */
    bool ok = true;
    while (i < size && ok) {
        size_t s = i;
        while (i < size && data[i] != '\n')
            i++;
        if (i < size) i++;
        char *line = malloc(i - s + 1);
        if (!line) return 0;
        memcpy(line, data + s, i - s);
        line[i - s] = '\0';
        bool blank = (i - s == 1) || (i - s == 2 && line[0] == '\r');
        if (lk_client_rx_header(line, 1, i - s, &r) != i - s) ok = false;
        free(line);
        if (blank) break;
    }
    /* body, in chunks (curl hands it over in pieces) */
    while (ok && i < size) {
        size_t n = size - i < chunk ? size - i : chunk;
        char *piece = malloc(n);
        if (!piece) break;
        memcpy(piece, data + i, n);
        if (lk_client_rx_body(piece, 1, n, &r) != n) ok = false;
        free(piece);
        i += n;
    }
    if (r.buf && r.buf[r.len] != '\0') abort();
    if (r.len > LK_CLIENT_BODY_MAX || r.header_bytes > LK_CLIENT_HEADERS_MAX) abort();
    if (r.cookie[0] && strncmp(r.cookie, "latchkey_session=", 17) != 0) abort();

    if (ok) {
        resp.status = status;
        resp.retry_after = r.retry_after;
        resp.raw = r.buf ? r.buf : calloc(1, 1);
        resp.raw_len = r.len;
        r.buf = NULL;
        if (resp.raw_len > 0) resp.json = json_loadb(resp.raw, resp.raw_len, 0, NULL);
        if (!(resp.status >= 200 && resp.status < 300)) {
            lk_client_error_from_body(c, &resp);
            const char *msg = lk_client_errmsg(c);
            for (const char *p = msg; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f) abort();
            /* no token survives into a message shown on a terminal: after
             * every "lko_"/"lkp_" comes a non-base62 byte ("…", "*", end),
             * or directly the next prefix (tokens pasted together) */
            for (const char *p = msg; (p = strstr(p, "lk")) != NULL; p++)
                if ((p[2] == 'o' || p[2] == 'p') && p[3] == '_' && is_base62((unsigned char)p[4]) &&
                    !(p[4] == 'l' && p[5] == 'k' && (p[6] == 'o' || p[6] == 'p') && p[7] == '_')) {
                    fprintf(stderr, "token-like text survived the scrub: \"%s\"\n", msg);
                    abort();
                }
        }
        (void)lk_client_exit_code(resp.status == 401 ? LK_CLIENT_EUNAUTH : LK_CLIENT_EREFUSED);
        lk_client_resp_release(&resp);
    }
    free(r.buf);

    /* scrub and escape on the raw bytes as a string */
    size_t n = size < 1024 ? size : 1024;
    char *s = malloc(n + 1);
    if (!s) return 0;
    memcpy(s, data, n);
    s[n] = '\0';
    lk_client_scrub(s);
    char esc[3 * 1024 + 1];
    (void)lk_client_escape(s, esc, sizeof esc);
    free(s);
    return 0;
}
