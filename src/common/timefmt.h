/*
 * timefmt.h — time as the API speaks it: int64 seconds since the Unix epoch
 * inside the program and the stores, RFC 3339 in UTC ("2026-11-24T11:06:21Z")
 * on the wire. 0 means "not set" (JSON null) for optional times.
 */
#ifndef LK_TIMEFMT_H
#define LK_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define LK_TIME_SIZE 21 /* "YYYY-MM-DDTHH:MM:SSZ" + NUL */

int64_t lk_time_now(void);

/* Format t (UTC) into out. */
void lk_time_format(int64_t t, char out[LK_TIME_SIZE]);

/* Parse RFC 3339: "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)"; also accepts a
 * bare date "YYYY-MM-DD" (midnight UTC). 0 on success, -1 if malformed. */
int lk_time_parse(const char *s, size_t len, int64_t *out);

#endif
