/*
 * cli_output.h — how the latchkey CLI shows things to a person: aligned
 * tables, readable local dates, and colour only where it belongs.
 *
 * Invariants:
 *  - Every cell is copied and made safe for a terminal on the way in:
 *    invalid UTF-8 bytes and control characters (C0, DEL, C1) become '?',
 *    so a name from the server can never move the cursor or change the
 *    terminal's state. Each cell is capped at LK_TABLE_CELL_MAX bytes.
 *  - Widths are display widths: the terminal columns a string takes, from
 *    mbrtowc + wcwidth under a UTF-8 LC_CTYPE (lk_output_locale), so a
 *    CJK character or most emoji count 2 and a combining mark 0. A byte
 *    that does not decode counts 1, so bad input misaligns by at most one
 *    column per byte and never crashes.
 *  - A column may have a width limit (lk_table_limit): a longer cell is cut
 *    at a character boundary and ends in "…" (U+2026, one column), never
 *    wider than the limit.
 *  - Colour (bold headers) only when the stream is a terminal, NO_COLOR is
 *    unset or empty and TERM is not "dumb" (lk_output_color).
 *  - Nothing here talks to the network or knows the API's JSON.
 */
#ifndef LK_CLI_OUTPUT_H
#define LK_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define LK_TABLE_COLS_MAX 12
#define LK_TABLE_CELL_MAX 512
#define LK_DATE_SIZE 32

#define LK_OUTPUT_ELLIPSIS "\xE2\x80\xA6" /* U+2026, one column wide */

typedef struct lk_table lk_table;

/* Set LC_CTYPE from the environment and, when that is not UTF-8, to
 * C.UTF-8, so widths are counted right. Call once at start. Returns true
 * when a UTF-8 LC_CTYPE is in force. */
bool lk_output_locale(void);

/* The display width of s (NUL-ended; see above). */
size_t lk_output_width(const char *s);

/* Copy s into out (size bytes) cut to at most max_cols display columns:
 * unchanged when it fits, else as many whole characters as fit in
 * max_cols - 1 followed by "…". max_cols 0 = no limit. Never splits a
 * character; out is always NUL-ended. Returns the width of out. */
size_t lk_output_fit(const char *s, size_t max_cols, char *out, size_t size);

/* A table with ncols columns and these headers (copied). NULL headers make
 * a headerless key/value table. The caller owns the result (lk_table_free);
 * NULL on out-of-memory or ncols out of range. */
lk_table *lk_table_new(size_t ncols, const char *const *headers);

/* Append one row of ncols cells (copied, sanitized; NULL shows as "-").
 * 0, or -1 on out-of-memory. */
int lk_table_add(lk_table *t, const char *const *cells);

/* Cut the cells of column col added from now on to max_cols display
 * columns (lk_output_fit); 0 = no limit. */
void lk_table_limit(lk_table *t, size_t col, size_t max_cols);

size_t lk_table_rows(const lk_table *t);

/* Print with columns padded to their widest cell (display width), two
 * spaces apart, the last column unpadded. */
void lk_table_print(const lk_table *t, FILE *f, bool color);

void lk_table_free(lk_table *t);

/* Should we colour output to f? */
bool lk_output_color(FILE *f);

/* Copy s into out (size bytes) made safe for a terminal (see above). */
void lk_output_sanitize(const char *s, char *out, size_t size);

/* An RFC 3339 time as a readable local date ("2026-11-24 12:06"); "-" for
 * NULL or empty, and the input unchanged (sanitized) if it does not parse. */
void lk_output_date(const char *rfc3339, char out[LK_DATE_SIZE]);

#endif
