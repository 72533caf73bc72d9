/*
 * cli_output.c — see cli_output.h. Display widths come from libc (mbrtowc,
 * wcwidth) under the UTF-8 LC_CTYPE lk_output_locale sets; where libc
 * cannot decode a character (no UTF-8 locale at all) a valid UTF-8
 * sequence counts one column and an invalid byte one column.
 */
#include "cli_output.h"

#include "timefmt.h"

#include <assert.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdint.h>
#include <strings.h>
#include <wchar.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TABLE_ROWS_FIRST 16 /* rows allocated at first; doubled as needed */

struct lk_table {
    size_t ncols;
    bool has_header;
    char **cells;                    /* rows * ncols, row 0 the header if has_header */
    size_t limit[LK_TABLE_COLS_MAX]; /* display-width limit per column, 0 = none */
    size_t rows, cap;
};

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid
 * (overlong, surrogate, beyond U+10FFFF, bad continuation). */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    return n;
}

void lk_output_sanitize(const char *s, char *out, size_t size)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    if (size == 0) return;
    while (*p) {
        size_t n = utf8_seq(p);
        bool control = (n == 1 && (*p < 0x20 || *p == 0x7f)) ||  /* C0, DEL */
                       (n == 2 && p[0] == 0xC2 && p[1] <= 0x9F); /* C1: U+0080..U+009F */
        if (n == 0 || control) {
            if (o + 1 >= size) break;
            out[o++] = '?';
            p += n ? n : 1;
            continue;
        }
        if (o + n >= size) break;
        memcpy(out + o, p, n);
        o += n;
        p += n;
    }
    out[o] = '\0';
}

static bool utf8_codeset(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
}

bool lk_output_locale(void)
{
    if (setlocale(LC_CTYPE, "") && utf8_codeset()) return true;
    return setlocale(LC_CTYPE, "C.UTF-8") && utf8_codeset();
}

/* The display width of the character at s (not at its NUL); *len gets
 * its length in bytes (at least 1). */
static size_t char_width(const char *s, size_t *len)
{
    mbstate_t st;
    wchar_t wc;
    memset(&st, 0, sizeof st);
    size_t n = mbrtowc(&wc, s, strnlen(s, MB_LEN_MAX), &st);
    if (n == 0 || n == (size_t)-1 || n == (size_t)-2) {
        size_t seq = utf8_seq((const unsigned char *)s); /* no UTF-8 locale: 1 per character */
        *len = seq ? seq : 1;
        return 1;
    }
    *len = n;
    int w = wcwidth(wc);
    return w < 0 ? 1 : (size_t)w; /* unprintable: shown as something one wide */
}

size_t lk_output_width(const char *s)
{
    size_t w = 0, len;
    for (const char *p = s; *p; p += len)
        w += char_width(p, &len);
    return w;
}

size_t lk_output_fit(const char *s, size_t max_cols, char *out, size_t size)
{
    static const char ell[] = LK_OUTPUT_ELLIPSIS;
    assert(size > 0);
    bool cut = max_cols > 0 && lk_output_width(s) > max_cols;
    size_t room = cut ? max_cols - 1 : SIZE_MAX; /* columns for s itself */
    size_t tail = cut ? sizeof ell : 1;          /* bytes kept back: "…" and NUL */
    size_t w = 0, o = 0, len;
    for (const char *p = s; *p; p += len) {
        size_t cw = char_width(p, &len);
        if (w + cw > room || o + len + tail > size) break;
        memcpy(out + o, p, len);
        o += len;
        w += cw;
    }
    if (cut && o + sizeof ell <= size) {
        memcpy(out + o, ell, sizeof ell - 1);
        o += sizeof ell - 1;
        w++;
    }
    out[o] = '\0';
    return w;
}

lk_table *lk_table_new(size_t ncols, const char *const *headers)
{
    if (ncols == 0 || ncols > LK_TABLE_COLS_MAX) return NULL;
    lk_table *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->ncols = ncols;
    if (headers) {
        if (lk_table_add(t, headers) != 0) {
            lk_table_free(t);
            return NULL;
        }
        t->has_header = true;
    }
    return t;
}

int lk_table_add(lk_table *t, const char *const *cells)
{
    if (t->rows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : TABLE_ROWS_FIRST;
        char **nc = realloc(t->cells, cap * t->ncols * sizeof *nc);
        if (!nc) return -1;
        t->cells = nc;
        t->cap = cap;
    }
    char **row = t->cells + t->rows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        char buf[LK_TABLE_CELL_MAX], fit[LK_TABLE_CELL_MAX];
        lk_output_sanitize(cells[i] ? cells[i] : "-", buf, sizeof buf);
        lk_output_fit(buf, t->limit[i], fit, sizeof fit);
        row[i] = strdup(fit);
        if (!row[i]) {
            while (i-- > 0)
                free(row[i]);
            return -1;
        }
    }
    t->rows++;
    return 0;
}

void lk_table_limit(lk_table *t, size_t col, size_t max_cols)
{
    assert(col < t->ncols);
    t->limit[col] = max_cols;
}

size_t lk_table_rows(const lk_table *t)
{
    return t->rows - (t->has_header ? 1 : 0);
}

void lk_table_print(const lk_table *t, FILE *f, bool color)
{
    size_t w[LK_TABLE_COLS_MAX] = {0};
    for (size_t r = 0; r < t->rows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t cw = lk_output_width(t->cells[r * t->ncols + c]);
            if (cw > w[c]) w[c] = cw;
        }
    for (size_t r = 0; r < t->rows; r++) {
        bool bold = color && t->has_header && r == 0;
        if (bold) fputs("\033[1m", f);
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            fputs(cell, f);
            if (c + 1 < t->ncols) {
                for (size_t pad = lk_output_width(cell); pad < w[c] + 2; pad++)
                    fputc(' ', f);
            }
        }
        if (bold) fputs("\033[0m", f);
        fputc('\n', f);
    }
}

void lk_table_free(lk_table *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->rows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

bool lk_output_color(FILE *f)
{
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc) return false;
    const char *term = getenv("TERM");
    if (term && strcmp(term, "dumb") == 0) return false;
    return isatty(fileno(f)) == 1;
}

void lk_output_date(const char *rfc3339, char out[LK_DATE_SIZE])
{
    int64_t t;
    if (!rfc3339 || !*rfc3339) {
        snprintf(out, LK_DATE_SIZE, "-");
        return;
    }
    if (lk_time_parse(rfc3339, strlen(rfc3339), &t) != 0) {
        lk_output_sanitize(rfc3339, out, LK_DATE_SIZE);
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm) || strftime(out, LK_DATE_SIZE, "%Y-%m-%d %H:%M", &tm) == 0)
        lk_output_sanitize(rfc3339, out, LK_DATE_SIZE);
}
