/*
 * cli_output.h — how the latchkey CLI shows things to a person: aligned
 * tables, readable local dates, and colour only where it belongs.
 *
 * Invariants:
 *  - Every cell is copied and made safe for a terminal on the way in:
 *    invalid UTF-8 bytes and control characters (C0, DEL, C1) become '?',
 *    so a name from the server can never move the cursor or change the
 *    terminal's state. Each cell is capped at LK_TABLE_CELL_MAX bytes.
 *  - Colour (bold headers) only when the stream is a terminal, NO_COLOR is
 *    unset or empty and TERM is not "dumb" (lk_output_color).
 *  - Nothing here talks to the network or knows the API's JSON.
 */
#ifndef LK_CLI_OUTPUT_H
#define LK_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define LK_TABLE_COLS_MAX 8
#define LK_TABLE_CELL_MAX 512
#define LK_DATE_SIZE 32

typedef struct lk_table lk_table;

/* A table with ncols columns and these headers (copied). NULL headers make
 * a headerless key/value table. The caller owns the result (lk_table_free);
 * NULL on out-of-memory or ncols out of range. */
lk_table *lk_table_new(size_t ncols, const char *const *headers);

/* Append one row of ncols cells (copied, sanitized; NULL shows as "-").
 * 0, or -1 on out-of-memory. */
int lk_table_add(lk_table *t, const char *const *cells);

size_t lk_table_rows(const lk_table *t);

/* Print with columns padded to their widest cell (in characters), two
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
