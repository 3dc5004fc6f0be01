/* clock.c — wall clock, monotonic clock and the test overrides of "today" and "now". */
#include "util/clock.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char fixed_today[11];
static atomic_int have_fixed = -1; /* -1: environment not read yet */

static atomic_llong fixed_now = 0; /* seconds since the epoch; 0: real time */
static atomic_int have_now = -1;   /* -1: environment not read yet */

void clock_set_today(const char *date)
{
    if (date && strlen(date) == 10) {
        memcpy(fixed_today, date, 11);
        have_fixed = 1;
    } else {
        have_fixed = 0;
    }
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int clock_parse(const char *t, int64_t *seconds)
{
    if (!t)
        return -1;
    size_t len = strlen(t);
    if (len < 10 || t[4] != '-' || t[7] != '-')
        return -1;
    int y = digits(t, 4), mo = digits(t + 5, 2), d = digits(t + 8, 2);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2200 || mo < 1 || mo > 12 || d < 1 ||
        d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
        return -1;
    int h = 0, mi = 0, s = 0;
    if (len > 10) {
        if (len < 20 || t[10] != 'T' || t[13] != ':' || t[16] != ':')
            return -1;
        h = digits(t + 11, 2), mi = digits(t + 14, 2), s = digits(t + 17, 2);
        if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59)
            return -1;
        const char *p = t + 19;
        if (*p == '.') {
            p++;
            size_t nd = strspn(p, "0123456789");
            if (nd < 1 || nd > 9)
                return -1;
            p += nd;
        }
        if (strcmp(p, "Z") != 0)
            return -1;
    }
    *seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return 0;
}

void clock_format(int64_t seconds, char out[32])
{
    time_t t = (time_t)seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.000Z", base);
}

int clock_set_now(const char *timestamp)
{
    if (!timestamp || !*timestamp) {
        fixed_now = 0;
        have_now = 0;
        return 0;
    }
    int64_t s;
    if (clock_parse(timestamp, &s) != 0)
        return -1;
    fixed_now = s;
    have_now = 1;
    return 0;
}

static bool now_fixed(int64_t *s)
{
    if (have_now < 0) {
        const char *env = getenv("AMPARO_NOW");
        if (!env || clock_set_now(env) != 0)
            have_now = 0;
    }
    if (have_now > 0) {
        *s = fixed_now;
        return true;
    }
    return false;
}

void clock_today(char out[11])
{
    if (have_fixed < 0)
        clock_set_today(getenv("AMPARO_TODAY"));
    if (have_fixed > 0) {
        memcpy(out, fixed_today, 11);
        return;
    }
    int64_t s;
    time_t t = now_fixed(&s) ? (time_t)s : time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

int64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_now(char out[32])
{
    int64_t s;
    if (now_fixed(&s)) {
        clock_format(s, out);
        return;
    }
    int64_t ms = clock_ms();
    /* the date and time to the second are formatted once a second per thread:
     * every audit append, history row and record stamp calls this */
    static _Thread_local int64_t base_sec = -1;
    static _Thread_local char base[24];
    int64_t sec = ms / 1000;
    if (sec != base_sec) {
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
        base_sec = sec;
    }
    size_t n = strlen(base);
    int frac = (int)(ms % 1000);
    memcpy(out, base, n);
    out[n] = '.';
    out[n + 1] = (char)('0' + frac / 100);
    out[n + 2] = (char)('0' + frac / 10 % 10);
    out[n + 3] = (char)('0' + frac % 10);
    out[n + 4] = 'Z';
    out[n + 5] = '\0';
}

int64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
