/*
 * timefmt.c — see timefmt.h. Calendar arithmetic is done by hand (days from
 * civil, Howard Hinnant's algorithm) so it needs no TZ and no locale.
 */
#include "timefmt.h"

#include <stdbool.h>
#include <time.h>

int64_t lk_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void lk_time_format(int64_t t, char out[LK_TIME_SIZE])
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    if (y < 0 || y > 9999) y = y < 0 ? 0 : 9999;
    unsigned yy = (unsigned)y;
    unsigned v[6] = {m, d, (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60),
                     (unsigned)(secs % 60), 0};
    static const char sep[5] = {'-', 'T', ':', ':', 'Z'};
    char *o = out;
    *o++ = (char)('0' + yy / 1000 % 10);
    *o++ = (char)('0' + yy / 100 % 10);
    *o++ = (char)('0' + yy / 10 % 10);
    *o++ = (char)('0' + yy % 10);
    *o++ = '-';
    for (int i = 0; i < 5; i++) {
        *o++ = (char)('0' + v[i] / 10 % 10);
        *o++ = (char)('0' + v[i] % 10);
        *o++ = sep[i];
    }
    *o = '\0';
}

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int lk_time_parse(const char *s, size_t len, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, se = 0;
    if (len < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        return -1;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1) return -1;
    if (d > mdays[mo - 1] + (mo == 2 && leap(y))) return -1;
    int64_t offset = 0;
    if (len > 10) {
        if (len < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2, &h) ||
            s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
            return -1;
        if (h > 23 || mi > 59 || se > 60) return -1;
        size_t i = 19;
        if (s[i] == '.') {
            i++;
            size_t start = i;
            while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 9) i++;
            if (i == start) return -1;
        }
        if (i < len && (s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
            offset = 0;
        } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
            int oh, om;
            if (!digits(s + i + 1, 2, &oh) || !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
                return -1;
            offset = (int64_t)(oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        } else {
            return -1;
        }
    }
    *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - offset;
    return 0;
}
