/*
 * test_cli.c — the CLI's offline pieces: the client's message scrubbing,
 * path escaping and exit-code table; terminal-safe output, tables and dates;
 * the credentials file (place, modes, refusals) on a real temporary folder.
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
