/* clock.h — the one place Amparo reads the time, so tests can fix it.
 *
 * Setting AMPARO_TODAY=YYYY-MM-DD in the environment (or calling clock_set_today)
 * makes "today" that date for validation; timestamps keep the real time of day. */
#ifndef AMPARO_CLOCK_H
#define AMPARO_CLOCK_H

#include <stdint.h>

/** Fixes today's date ("YYYY-MM-DD"); NULL returns to the real date. */
void clock_set_today(const char *date);

/** Writes today's date (UTC, or the fixed one) as "YYYY-MM-DD" into out[11]. */
void clock_today(char out[11]);

/** Writes the current UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out[32]. */
void clock_now(char out[32]);

/** Milliseconds since the Unix epoch. */
int64_t clock_ms(void);

/** Monotonic microseconds, for measuring durations. */
int64_t clock_mono_us(void);

#endif
