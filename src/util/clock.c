/* clock.c — wall clock, monotonic clock and the test override of "today". */
#include "util/clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char fixed_today[11];
static atomic_int have_fixed = -1; /* -1: environment not read yet */

void clock_set_today(const char *date)
{
    if (date && strlen(date) == 10) {
        memcpy(fixed_today, date, 11);
        have_fixed = 1;
    } else {
        have_fixed = 0;
    }
}

void clock_today(char out[11])
{
    if (have_fixed < 0)
        clock_set_today(getenv("AMPARO_TODAY"));
    if (have_fixed > 0) {
        memcpy(out, fixed_today, 11);
        return;
    }
    time_t t = time(NULL);
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
    int64_t ms = clock_ms();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", base, (int)(ms % 1000));
}

int64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
