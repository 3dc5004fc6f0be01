/* clock.h — the one place Amparo reads the time, so tests can fix it.
 *
 * Setting AMPARO_TODAY=YYYY-MM-DD in the environment (or calling clock_set_today)
 * makes "today" that date for validation; timestamps keep the real time of day.
 * Setting AMPARO_NOW=YYYY-MM-DDTHH:MM:SSZ (or calling clock_set_now) fixes the
 * current time itself, for deadline tests: clock_now answers it, and "today"
 * becomes its date unless AMPARO_TODAY (or clock_set_today) says otherwise. */
#ifndef AMPARO_CLOCK_H
#define AMPARO_CLOCK_H

#include <stdint.h>

/** Fixes today's date ("YYYY-MM-DD"); NULL returns to the real date. */
void clock_set_today(const char *date);

/** Writes today's date (UTC, or the fixed one) as "YYYY-MM-DD" into out[11]. */
void clock_today(char out[11]);

/** Writes the current UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out[32]. */
void clock_now(char out[32]);

/** Fixes the current time ("YYYY-MM-DDTHH:MM:SSZ", fractions of a second
 *  allowed); NULL returns to the real time.  Returns 0, or -1 when the text is
 *  not such a timestamp (nothing changes then). */
int clock_set_now(const char *timestamp);

/** Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" (or a date "YYYY-MM-DD", read as
 *  midnight) into seconds since the Unix epoch.  Returns 0, or -1 when the
 *  text is not a valid UTC timestamp of the years 1900–2200. */
int clock_parse(const char *text, int64_t *seconds);

/** Formats seconds since the epoch as "YYYY-MM-DDTHH:MM:SS.000Z" into out[32]. */
void clock_format(int64_t seconds, char out[32]);

/** Milliseconds since the Unix epoch (the real clock, even when the time is fixed). */
int64_t clock_ms(void);

/** Monotonic microseconds, for measuring durations. */
int64_t clock_mono_us(void);

#endif
