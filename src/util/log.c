/* log.c — timestamped lines on stderr. */
#include "util/log.h"
#include "util/clock.h"

#include <stdarg.h>
#include <stdio.h>

static int quiet;

void log_set_quiet(int q)
{
    quiet = q;
}

static void emit(const char *level, const char *fmt, va_list ap)
{
    char ts[32], msg[1024];
    clock_now(ts);
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "%s %s %s\n", ts, level, msg);
}

void log_info(const char *fmt, ...)
{
    if (quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    emit("info", fmt, ap);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit("error", fmt, ap);
    va_end(ap);
}
