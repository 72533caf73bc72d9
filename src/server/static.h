/*
 * static.h — the dashboard's files (HTML, CSS, JavaScript modules), embedded
 * into latchkeyd at build time from web/ so the binary serves them with no
 * files beside it and no build step at run time.
 *
 * The HTTP layer asks lk_static_find() for any GET/HEAD outside /v1/ and
 * serves the asset with its content type and the dashboard's security
 * headers (CSP, X-Frame-Options, Referrer-Policy). Unknown paths that look
 * like app routes (no dot in the last segment) get index.html, so deep links
 * into the single-page dashboard work.
 */
#ifndef LK_STATIC_H
#define LK_STATIC_H

#include <stddef.h>

typedef struct lk_asset {
    const char *path;         /* "/index.html", "/app.js", ... */
    const char *content_type; /* "text/html; charset=utf-8", ... */
    const unsigned char *data;
    size_t len;
    const char *etag; /* strong validator, quoted: "\"<16 hex of SHA-256>\"" (build time) */
} lk_asset;

/* The asset for this request path (without query), or NULL. "/" maps to
 * index.html. Static storage; never freed. */
const lk_asset *lk_static_find(const char *path, size_t len);

#endif
