/*
 * test_static.c — the dashboard's embedded files: lookup by path, the
 * deep-link fallback to index.html, what must never map to the dashboard
 * (/v1/..., missing files), and that the shipped HTML obeys the CSP the
 * server sends (no inline script, no inline style).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "static.h"

#include <string.h>

extern const lk_asset lk_static_assets[];
extern const size_t lk_static_asset_count;

static const lk_asset *find(const char *p)
{
    return lk_static_find(p, strlen(p));
}

static void root_is_index(void **state)
{
    (void)state;
    const lk_asset *a = find("/");
    assert_non_null(a);
    assert_string_equal(a->path, "/index.html");
    assert_string_equal(a->content_type, "text/html; charset=utf-8");
    assert_true(a->len > 100);
    assert_non_null(strstr((const char *)a->data, "<!doctype html>"));
    assert_ptr_equal(find("/index.html"), a);
    assert_ptr_equal(find("/?next=/x"), a);
}

static void exact_assets_and_types(void **state)
{
    (void)state;
    const lk_asset *js = find("/js/app.js");
    assert_non_null(js);
    assert_string_equal(js->path, "/js/app.js");
    assert_string_equal(js->content_type, "text/javascript; charset=utf-8");
    const lk_asset *css = find("/app.css?v=1");
    assert_non_null(css);
    assert_string_equal(css->content_type, "text/css; charset=utf-8");
    const lk_asset *svg = find("/favicon.svg");
    assert_non_null(svg);
    assert_string_equal(svg->content_type, "image/svg+xml");
}

static void deep_links_get_index(void **state)
{
    (void)state;
    const lk_asset *index = find("/");
    assert_ptr_equal(find("/login"), index);
    assert_ptr_equal(find("/orgs/org_abc/settings/access-keys"), index);
    assert_ptr_equal(find("/orgs/org_abc/settings/members/"), index);
    assert_ptr_equal(find("/js"), index); /* a directory name is a route, not a file */
}

static void never_served(void **state)
{
    (void)state;
    assert_null(find("/missing.js"));
    assert_null(find("/js/nope.js"));
    assert_null(find("/favicon.ico"));
    assert_null(find("/v1"));
    assert_null(find("/v1/"));
    assert_null(find("/v1/organizations"));
    assert_null(find("/v1/unknown-route"));
    assert_null(find(""));
    assert_null(find("index.html"));
    assert_null(lk_static_find(NULL, 0));
    /* Only `len` bytes count: "/index.html" cut to "/index" is a route. */
    assert_ptr_equal(lk_static_find("/index.html", 6), find("/"));
    /* A NUL inside the path ends it rather than being compared past. */
    assert_ptr_equal(lk_static_find("/app.css\0zzz", 12), find("/app.css"));
    static char longpath[4096];
    memset(longpath, 'a', sizeof longpath);
    longpath[0] = '/';
    assert_null(lk_static_find(longpath, sizeof longpath));
}

static void table_sorted_and_terminated(void **state)
{
    (void)state;
    assert_true(lk_static_asset_count >= 5);
    for (size_t i = 0; i < lk_static_asset_count; i++) {
        const lk_asset *a = &lk_static_assets[i];
        assert_int_equal(a->data[a->len], 0);
        assert_non_null(a->etag);
        assert_int_equal(strlen(a->etag), 18);
        assert_true(a->etag[0] == '"' && a->etag[17] == '"');
        for (size_t j = 0; j < i; j++) /* different bytes, different tags */
            if (lk_static_assets[j].len != a->len ||
                memcmp(lk_static_assets[j].data, a->data, a->len) != 0)
                assert_string_not_equal(lk_static_assets[j].etag, a->etag);
        assert_ptr_equal(find(a->path), a);
        if (i > 0) assert_true(strcmp(lk_static_assets[i - 1].path, a->path) < 0);
    }
}

/* The server's CSP has no 'unsafe-inline': inline code would be dead. */
static void html_obeys_csp(void **state)
{
    (void)state;
    for (size_t i = 0; i < lk_static_asset_count; i++) {
        const lk_asset *a = &lk_static_assets[i];
        if (strstr(a->path, ".html") == NULL) continue;
        const char *html = (const char *)a->data;
        assert_null(strstr(html, "style="));
        assert_null(strstr(html, "<style"));
        assert_null(strstr(html, "javascript:"));
        assert_null(strstr(html, " onclick="));
        assert_null(strstr(html, " onload="));
        for (const char *s = strstr(html, "<script"); s; s = strstr(s + 1, "<script")) {
            const char *end = strchr(s, '>');
            assert_non_null(end);
            const char *src = strstr(s, " src=");
            assert_true(src != NULL && src < end);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(root_is_index),
        cmocka_unit_test(exact_assets_and_types),
        cmocka_unit_test(deep_links_get_index),
        cmocka_unit_test(never_served),
        cmocka_unit_test(table_sorted_and_terminated),
        cmocka_unit_test(html_obeys_csp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
