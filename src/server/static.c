/*
 * static.c — find the dashboard's embedded files by request path.
 *
 * The table lk_static_assets[] is generated at build time by
 * scripts/embed_assets.py from web/ (see meson.build) and is sorted by path,
 * so a lookup is a binary search over string constants: no file system, no
 * allocation, nothing to free, safe from any thread.
 *
 * Mapping rules, in order:
 *  - anything after '?' or '#' is ignored; a path must start with '/';
 *  - "/" is index.html;
 *  - an exact match of a generated path is that asset;
 *  - "/v1" and everything under "/v1/" is the API's, never the dashboard's;
 *  - a path whose last segment has no '.' is a route inside the single-page
 *    app ("/orgs/org_1/settings/access-keys") and gets index.html, so deep
 *    links and reloads work; a path with a dot ("/missing.js") is a missing
 *    file and gets NULL (the HTTP layer answers 404).
 *
 * Nothing here reads the path beyond `len` bytes, and paths longer than
 * LK_STATIC_PATH_MAX are refused without being looked at.
 */
#include "static.h"

#include <string.h>

#define LK_STATIC_PATH_MAX 2048

extern const lk_asset lk_static_assets[];
extern const size_t lk_static_asset_count;

/* strcmp over (p, n) against a NUL-terminated table path. */
static int compare_path(const char *p, size_t n, const char *asset_path)
{
    size_t alen = strlen(asset_path);
    size_t m = n < alen ? n : alen;
    int c = memcmp(p, asset_path, m);
    if (c != 0) return c;
    if (n == alen) return 0;
    return n < alen ? -1 : 1;
}

/* The asset whose path is exactly (p, n), or NULL. Borrowed, static. */
static const lk_asset *find_exact(const char *p, size_t n)
{
    size_t lo = 0, hi = lk_static_asset_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = compare_path(p, n, lk_static_assets[mid].path);
        if (c == 0) return &lk_static_assets[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const lk_asset *lk_static_find(const char *path, size_t len)
{
    if (path == NULL || len == 0 || len > LK_STATIC_PATH_MAX || path[0] != '/') return NULL;
    for (size_t i = 0; i < len; i++) {
        if (path[i] == '?' || path[i] == '#' || path[i] == '\0') {
            len = i;
            break;
        }
    }
    if (len == 1) return find_exact("/index.html", 11);

    const lk_asset *a = find_exact(path, len);
    if (a != NULL) return a;

    if (len >= 3 && memcmp(path, "/v1", 3) == 0 && (len == 3 || path[3] == '/')) return NULL;

    size_t last = len;
    while (last > 0 && path[last - 1] != '/')
        last--;
    if (memchr(path + last, '.', len - last) != NULL) return NULL;
    return find_exact("/index.html", 11);
}
