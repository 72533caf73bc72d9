/*
 * test_cli.c — the CLI's offline pieces: the client's message scrubbing,
 * path escaping and exit-code table; terminal-safe output, tables and dates;
 * display widths and truncation of CJK, emoji, combining marks and invalid
 * bytes (libc's wcwidth under the UTF-8 locale lk_output_locale picks); the
 * credentials file (place, modes, refusals) on a real temporary folder.
 * Everything that talks to a server is tested black-box in tests/cli.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli_credentials.h"
#include "cli_output.h"
#include "client.h"
#include "token.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TOK "lkp_AbC1defGhijKLmnOPqrSTuvWXyz012341Ilz5N"

static void scrub_cuts_tokens(void **state)
{
    (void)state;
    char s[256];
    snprintf(s, sizeof s, "no key %s here, nor lko_Zz9 or lkx_abcdef", TOK);
    lk_client_scrub(s);
    assert_string_equal(s, "no key lkp_\xE2\x80\xA6 here, nor lko_*** or lkx_abcdef");
    snprintf(s, sizeof s, "%s%s", TOK, TOK);
    lk_client_scrub(s);
    assert_null(strstr(s, "AbC1"));
    snprintf(s, sizeof s, "plain lk_ text lko_ end");
    lk_client_scrub(s);
    assert_string_equal(s, "plain lk_ text lko_ end");
}

static void escape_segments(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(lk_client_escape("org_AbC-1.~x", out, sizeof out), 0);
    assert_string_equal(out, "org_AbC-1.~x");
    assert_int_equal(lk_client_escape("a b/c?d", out, sizeof out), 0);
    assert_string_equal(out, "a%20b%2Fc%3Fd");
    assert_int_equal(lk_client_escape("\xC3\xA9", out, sizeof out), 0);
    assert_string_equal(out, "%C3%A9");
    char tiny[4];
    assert_int_equal(lk_client_escape("abcd", tiny, sizeof tiny), LK_CLIENT_EUSAGE);
    assert_int_equal(lk_client_escape("a/", tiny, sizeof tiny), LK_CLIENT_EUSAGE);
}

static void exit_codes(void **state)
{
    (void)state;
    assert_int_equal(lk_client_exit_code(LK_CLIENT_OK), 0);
    assert_int_equal(lk_client_exit_code(LK_CLIENT_EREFUSED), 1);
    assert_int_equal(lk_client_exit_code(LK_CLIENT_EPROTOCOL), 1);
    assert_int_equal(lk_client_exit_code(LK_CLIENT_ENOMEM), 1);
    assert_int_equal(lk_client_exit_code(LK_CLIENT_EUSAGE), 2);
    assert_int_equal(lk_client_exit_code(LK_CLIENT_EUNAUTH), 3);
    assert_int_equal(lk_client_exit_code(LK_CLIENT_EUNREACHABLE), 4);
}

static void bad_urls(void **state)
{
    (void)state;
    lk_client *c = NULL;
    assert_int_equal(lk_client_new("ftp://x", &c), LK_CLIENT_EUSAGE);
    assert_int_equal(lk_client_new("file:///etc/passwd", &c), LK_CLIENT_EUSAGE);
    assert_int_equal(lk_client_new("http://a b", &c), LK_CLIENT_EUSAGE);
    assert_int_equal(lk_client_new("", &c), LK_CLIENT_EUSAGE);
    assert_null(c);
    assert_int_equal(lk_client_new("http://127.0.0.1:8080///", &c), 0);
    assert_string_equal(lk_client_base_url(c), "http://127.0.0.1:8080");
    lk_client_free(c);
}

static void sanitize_for_terminal(void **state)
{
    (void)state;
    char out[64];
    lk_output_sanitize("a\x1b[31mb\x07", out, sizeof out);
    assert_string_equal(out, "a?[31mb?");
    lk_output_sanitize("x\xFFy\xC0\xAFz", out, sizeof out); /* invalid, overlong */
    assert_string_equal(out, "x?y??z");
    lk_output_sanitize("c1\xC2\x9B!", out, sizeof out); /* C1 CSI */
    assert_string_equal(out, "c1?!");
    lk_output_sanitize("\xC3\xA9t\xC3\xA9 \xE2\x98\x83", out, sizeof out);
    assert_string_equal(out, "\xC3\xA9t\xC3\xA9 \xE2\x98\x83");
    char small[4];
    lk_output_sanitize("a\xE2\x98\x83", small, sizeof small); /* never half a character */
    assert_string_equal(small, "a");
}

static void table_aligns_by_characters(void **state)
{
    (void)state;
    const char *h[] = {"ID", "NAME", "CREATED"};
    lk_table *t = lk_table_new(3, h);
    assert_non_null(t);
    const char *r1[] = {"org_1", "\xC3\xA9t\xC3\xA9", "today"};
    const char *r2[] = {"org_22", "x", NULL};
    assert_int_equal(lk_table_add(t, r1), 0);
    assert_int_equal(lk_table_add(t, r2), 0);
    assert_int_equal(lk_table_rows(t), 2);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lk_table_print(t, f, false);
    fclose(f);
    assert_string_equal(buf, "ID      NAME  CREATED\n"
                             "org_1   \xC3\xA9t\xC3\xA9   today\n"
                             "org_22  x     -\n");
    free(buf);
    f = open_memstream(&buf, &len);
    lk_table_print(t, f, true);
    fclose(f);
    assert_true(strncmp(buf, "\033[1mID", 6) == 0);
    free(buf);
    lk_table_free(t);
}

static void dates_in_local_time(void **state)
{
    (void)state;
    char out[LK_DATE_SIZE];
    setenv("TZ", "UTC", 1);
    tzset();
    lk_output_date("2026-11-24T11:06:21Z", out);
    assert_string_equal(out, "2026-11-24 11:06");
    setenv("TZ", "Asia/Kolkata", 1);
    tzset();
    lk_output_date("2026-11-24T23:06:21Z", out);
    assert_string_equal(out, "2026-11-25 04:36");
    lk_output_date(NULL, out);
    assert_string_equal(out, "-");
    lk_output_date("yesterday\x1b", out);
    assert_string_equal(out, "yesterday?");
}

/* A fresh temporary folder used as XDG_CONFIG_HOME. */
static char tmpdir[256];

static int make_tmp(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lk-test-cli-XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    setenv("XDG_CONFIG_HOME", tmpdir, 1);
    return 0;
}

static int remove_tmp(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void credentials_round_trip_and_modes(void **state)
{
    (void)state;
    char path[LK_CRED_PATH_MAX], msg[LK_CRED_PATH_MAX + 200], want[LK_CRED_PATH_MAX];
    assert_int_equal(lk_cred_path(path), 0);
    snprintf(want, sizeof want, "%s/latchkey/credentials", tmpdir);
    assert_string_equal(path, want);

    lk_cred in = {0}, out;
    assert_int_equal(lk_cred_load(path, &out, msg, sizeof msg), LK_CRED_ENOENT);
    snprintf(in.url, sizeof in.url, "http://127.0.0.1:8080");
    snprintf(in.token, sizeof in.token, "%s", TOK);
    snprintf(in.key_id, sizeof in.key_id, "key_abc");
    snprintf(in.email, sizeof in.email, "a@example.com");
    assert_int_equal(lk_cred_save(path, &in, msg, sizeof msg), 0);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    char dir[LK_CRED_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/latchkey", tmpdir);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);

    assert_int_equal(lk_cred_load(path, &out, msg, sizeof msg), 0);
    assert_string_equal(out.url, in.url);
    assert_string_equal(out.token, TOK);
    assert_string_equal(out.key_id, "key_abc");
    assert_string_equal(out.email, "a@example.com");
    lk_cred_clear(&out);
    assert_int_equal(out.token[0], 0);

    /* others may read it: refused, with the fix in the message */
    chmod(path, 0640);
    assert_int_equal(lk_cred_load(path, &out, msg, sizeof msg), LK_CRED_EINSECURE);
    assert_non_null(strstr(msg, "chmod 600"));
    assert_null(strstr(msg, TOK));
    chmod(path, 0600);

    /* a symlink is not followed */
    char link[LK_CRED_PATH_MAX + 8];
    snprintf(link, sizeof link, "%s.lnk", path);
    assert_int_equal(symlink(path, link), 0);
    assert_int_not_equal(lk_cred_load(link, &out, msg, sizeof msg), 0);
    unlink(link);

    /* a file without a valid token */
    FILE *f = fopen(path, "w");
    fputs("url=http://x\ntoken=lkp_short\n", f);
    fclose(f);
    chmod(path, 0600);
    assert_int_equal(lk_cred_load(path, &out, msg, sizeof msg), LK_CRED_EINVALID);
    assert_non_null(strstr(msg, "latchkey login"));

    assert_int_equal(lk_cred_remove(path), 0);
    assert_int_equal(lk_cred_remove(path), 0); /* already gone is fine */
}

static void relative_xdg_falls_back_to_home(void **state)
{
    (void)state;
    char path[LK_CRED_PATH_MAX];
    setenv("XDG_CONFIG_HOME", "relative/dir", 1);
    setenv("HOME", "/home/someone", 1);
    assert_int_equal(lk_cred_path(path), 0);
    assert_string_equal(path, "/home/someone/.config/latchkey/credentials");
    unsetenv("XDG_CONFIG_HOME");
    assert_int_equal(lk_cred_path(path), 0);
    assert_string_equal(path, "/home/someone/.config/latchkey/credentials");
}

/* ---- display width and truncation (issue 17): libc's wcwidth under a
 * UTF-8 LC_CTYPE, whatever locale the environment names */

#define JA "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"             /* 日本語, 3 x 2 columns */
#define TE "\xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83\x88" /* テキスト, 4 x 2 */
#define GRIN "\xF0\x9F\x98\x80"                               /* U+1F600, 2 columns */
#define E_ACUTE "e\xCC\x81"                                   /* e + U+0301 (0 columns) */
#define ELL "\xE2\x80\xA6"

static int utf8_locale(void **state)
{
    (void)state;
    setenv("LC_ALL", "C", 1); /* not UTF-8: lk_output_locale must fall back */
    bool ok = lk_output_locale();
    unsetenv("LC_ALL");
    return ok ? 0 : -1;
}

static void width_counts_columns(void **state)
{
    (void)state;
    assert_int_equal(lk_output_width(""), 0);
    assert_int_equal(lk_output_width("abc"), 3);
    assert_int_equal(lk_output_width(JA), 6);
    assert_int_equal(lk_output_width(JA TE), 14);
    assert_int_equal(lk_output_width(GRIN), 2);
    assert_int_equal(lk_output_width(GRIN "x"), 3);
    assert_int_equal(lk_output_width(E_ACUTE), 1);
    assert_int_equal(lk_output_width(E_ACUTE E_ACUTE "\xC3\xA9"), 3);
    /* invalid bytes: one column each, never a crash */
    assert_int_equal(lk_output_width("\xFF\xFE"), 2);
    assert_int_equal(lk_output_width("a\xE3\x81"), 3); /* a cut-off sequence */
    assert_int_equal(lk_output_width("\xC0\xAF"
                                     "b"),
                     3); /* overlong */
}

static void fit_cuts_by_width(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(lk_output_fit("abc", 3, out, sizeof out), 3);
    assert_string_equal(out, "abc");
    assert_int_equal(lk_output_fit(JA TE, 0, out, sizeof out), 14); /* no limit */
    assert_string_equal(out, JA TE);
    assert_int_equal(lk_output_fit("abcdef", 4, out, sizeof out), 4);
    assert_string_equal(out, "abc" ELL);
    assert_int_equal(lk_output_fit(JA TE, 7, out, sizeof out), 7);
    assert_string_equal(out, JA ELL);
    /* a wide character that would overhang the limit is left out whole */
    assert_int_equal(lk_output_fit(JA TE, 6, out, sizeof out), 5);
    assert_string_equal(out, "\xE6\x97\xA5\xE6\x9C\xAC" ELL);
    assert_int_equal(lk_output_fit(GRIN GRIN GRIN, 4, out, sizeof out), 3);
    assert_string_equal(out, GRIN ELL);
    /* combining marks stay with their letter */
    assert_int_equal(lk_output_fit(E_ACUTE E_ACUTE E_ACUTE, 2, out, sizeof out), 2);
    assert_string_equal(out, E_ACUTE ELL);
    assert_int_equal(lk_output_fit(E_ACUTE E_ACUTE E_ACUTE, 3, out, sizeof out), 3);
    assert_string_equal(out, E_ACUTE E_ACUTE E_ACUTE);
    assert_int_equal(lk_output_fit("abc", 1, out, sizeof out), 1);
    assert_string_equal(out, ELL);
    /* invalid bytes are cut like one-column characters */
    assert_int_equal(lk_output_fit("\xFF\xFF\xFF\xFF", 3, out, sizeof out), 3);
    assert_string_equal(out, "\xFF\xFF" ELL);
    /* a small buffer never gets half a character */
    char small[5];
    lk_output_fit(JA, 0, small, sizeof small);
    assert_string_equal(small, "\xE6\x97\xA5");
    lk_output_fit(JA TE, 5, small, sizeof small);
    assert_string_equal(small, ELL);
}

/* The display column where each line's third cell starts. */
static size_t third_column(const char *line)
{
    char buf[256];
    const char *p = line;
    for (int spaces = 0; *p && spaces < 2; p++) /* two gaps of two or more spaces */
        if (p[0] != ' ' && p[1] == ' ' && p[2] == ' ') {
            spaces++;
            p += 2;
            while (p[1] == ' ')
                p++;
        }
    snprintf(buf, sizeof buf, "%.*s", (int)(p - line), line);
    return lk_output_width(buf);
}

static void table_aligns_wide_names(void **state)
{
    (void)state;
    const char *h[] = {"ID", "NAME", "CREATED"};
    const char *rows[][3] = {
        {"k1", JA, "d1"},
        {"k2", GRIN " ok", "d2"},
        {"k3", E_ACUTE "t" E_ACUTE, "d3"},
        {"k4",
         "bad\xFF"
         "byte",
         "d4"},
        {"k5", JA TE JA TE, "d5"},
    };
    lk_table *t = lk_table_new(3, h);
    assert_non_null(t);
    lk_table_limit(t, 1, 10);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_int_equal(lk_table_add(t, rows[i]), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lk_table_print(t, f, false);
    fclose(f);
    assert_non_null(strstr(buf, "bad?byte")); /* sanitized, then measured */
    /* cut to 10 columns: 日本語テ is 8, キ would make 10 and leave no room for … */
    assert_non_null(strstr(buf, JA "\xE3\x83\x86" ELL "  "));
    size_t want = 0, lines = 0;
    for (char *line = buf, *nl; *line; line = nl + 1, lines++) {
        nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        size_t col = third_column(line);
        if (!want) want = col;
        assert_int_equal(col, want);
    }
    assert_int_equal(lines, 6);
    assert_int_equal(want, 4 + 9 + 2); /* "k1  " + the widest name + the gap */
    free(buf);
    lk_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scrub_cuts_tokens),
        cmocka_unit_test(escape_segments),
        cmocka_unit_test(exit_codes),
        cmocka_unit_test(bad_urls),
        cmocka_unit_test(sanitize_for_terminal),
        cmocka_unit_test(table_aligns_by_characters),
        cmocka_unit_test(dates_in_local_time),
        cmocka_unit_test_setup_teardown(credentials_round_trip_and_modes, make_tmp, remove_tmp),
        cmocka_unit_test(relative_xdg_falls_back_to_home),
        cmocka_unit_test_setup(width_counts_columns, utf8_locale),
        cmocka_unit_test_setup(fit_cuts_by_width, utf8_locale),
        cmocka_unit_test_setup(table_aligns_wide_names, utf8_locale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
