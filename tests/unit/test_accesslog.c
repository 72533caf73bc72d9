/*
 * test_accesslog.c — the access log's formats (accesslog.h): the JSON line
 * parses (jansson) for every byte a path or method can hold, control bytes
 * and quotes are escaped, long fields are capped and the worst case fits
 * LK_LOG_LINE_MAX; invitation tokens are cut from paths (table).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "accesslog.h"

#include <jansson.h>
#include <string.h>

static lk_accesslog_entry entry(const char *method, size_t mlen, const char *path, size_t plen)
{
    return (lk_accesslog_entry){
        .unix_us = 1764480212123456, /* 2025-11-30T05:23:32.123Z */
        .request_id = "rid-1",
        .method = method,
        .method_len = mlen,
        .path = path,
        .path_len = plen,
        .route = "/v1/whoami",
        .status = 200,
        .duration_us = 1234,
        .client = "127.0.0.1",
        .principal = "org_key",
        .key_id = "key_abc",
    };
}

/* Parse the one line: exactly one '\n', at the end, and a JSON object. */
static json_t *parse_line(const char *line, size_t n)
{
    assert_true(n > 0 && n <= LK_LOG_LINE_MAX);
    assert_int_equal(line[n - 1], '\n');
    assert_null(memchr(line, '\n', n - 1));
    json_error_t je;
    json_t *j = json_loadb(line, n - 1, 0, &je);
    if (j == NULL) fail_msg("not JSON (%s): %.*s", je.text, (int)n, line);
    assert_true(json_is_object(j));
    return j;
}

static void test_fields(void **state)
{
    (void)state;
    char line[LK_LOG_LINE_MAX];
    lk_accesslog_entry e = entry("GET", 3, "/v1/whoami", 10);
    size_t n = lk_accesslog_json(&e, line, sizeof line);
    json_t *j = parse_line(line, n);
    assert_string_equal(json_string_value(json_object_get(j, "time")), "2025-11-30T05:23:32.123Z");
    assert_string_equal(json_string_value(json_object_get(j, "request_id")), "rid-1");
    assert_string_equal(json_string_value(json_object_get(j, "method")), "GET");
    assert_string_equal(json_string_value(json_object_get(j, "path")), "/v1/whoami");
    assert_string_equal(json_string_value(json_object_get(j, "route")), "/v1/whoami");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 200);
    assert_true(json_real_value(json_object_get(j, "duration_ms")) == 1.234);
    assert_string_equal(json_string_value(json_object_get(j, "client")), "127.0.0.1");
    assert_string_equal(json_string_value(json_object_get(j, "principal")), "org_key");
    assert_string_equal(json_string_value(json_object_get(j, "key_id")), "key_abc");
    assert_int_equal(json_object_size(j), 10);
    json_decref(j);
}

static void test_every_byte_escaped(void **state)
{
    (void)state;
    char path[256], line[LK_LOG_LINE_MAX];
    for (int i = 0; i < 256; i++)
        path[i] = (char)(i == 0 ? '/' : i);
    /* in chunks of the cap: every byte value goes through the escaper */
    for (size_t off = 0; off < sizeof path; off += LK_LOG_PATH_MAX) {
        size_t len = sizeof path - off < LK_LOG_PATH_MAX ? sizeof path - off : LK_LOG_PATH_MAX;
        lk_accesslog_entry e = entry(path + off, len > 16 ? 16 : len, path + off, len);
        size_t n = lk_accesslog_json(&e, line, sizeof line);
        for (size_t i = 0; i < n - 1; i++) /* no raw control byte, no raw non-ASCII */
            assert_true((unsigned char)line[i] >= 0x20 && (unsigned char)line[i] < 0x7f);
        json_t *j = parse_line(line, n);
        const char *p = json_string_value(json_object_get(j, "path"));
        assert_non_null(p);
        json_decref(j);
    }
    const char evil[] = "/\"},\"status\":999,\"x\":\"\n{\"forged\":1}\\";
    lk_accesslog_entry e = entry("GET", 3, evil, sizeof evil - 1);
    size_t n = lk_accesslog_json(&e, line, sizeof line);
    json_t *j = parse_line(line, n);
    assert_string_equal(json_string_value(json_object_get(j, "path")), evil);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 200);
    json_decref(j);
}

static void test_worst_case_fits(void **state)
{
    (void)state;
    char big[1024], line[LK_LOG_LINE_MAX];
    memset(big, 0x01, sizeof big);
    big[sizeof big - 1] = '\0';
    lk_accesslog_entry e = entry(big, sizeof big - 1, big, sizeof big - 1);
    e.request_id = e.route = e.client = e.principal = e.key_id = big;
    e.duration_us = INT64_MAX;
    size_t n = lk_accesslog_json(&e, line, sizeof line);
    json_t *j = parse_line(line, n);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "method"))), LK_LOG_METHOD_MAX);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "path"))), LK_LOG_PATH_MAX);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "route"))), LK_LOG_ROUTE_MAX);
    json_decref(j);
}

static void test_invitation_paths_cut(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"/v1/invitations/SECRET", "/v1/invitations/{token}"},
        {"/v1/invitations/SECRET/accept", "/v1/invitations/{token}/accept"},
        {"/invite/SECRET", "/invite/{token}"},
        {"/invite/SECRET/x/y", "/invite/{token}/x/y"},
        {"/v1/invitations/", "/v1/invitations/"},
        {"/v1/invitations", "/v1/invitations"},
        {"/v1/organizations/org_1/invitations", "/v1/organizations/org_1/invitations"},
        {"/v1/whoami", "/v1/whoami"},
        {"/inviteSECRET", "/inviteSECRET"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[LK_LOG_PATH_MAX + sizeof(LK_LOG_REDACTED)];
        size_t n = lk_accesslog_path(cases[i].in, strlen(cases[i].in), out);
        assert_int_equal(n, strlen(cases[i].out));
        assert_memory_equal(out, cases[i].out, n);
    }
    /* a token at the cap's edge is still cut, and the output fits */
    char longp[LK_LOG_PATH_MAX + 50], out[LK_LOG_PATH_MAX + sizeof(LK_LOG_REDACTED)];
    memcpy(longp, "/invite/", 8);
    memset(longp + 8, 'S', sizeof longp - 8);
    size_t n = lk_accesslog_path(longp, sizeof longp, out);
    assert_int_equal(n, strlen("/invite/{token}"));
    assert_null(memchr(out, 'S', n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_every_byte_escaped),
        cmocka_unit_test(test_worst_case_fits),
        cmocka_unit_test(test_invitation_paths_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
