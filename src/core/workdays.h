/* workdays.h — working-day calendars and deadline arithmetic.
 *
 * A calendar says which days of a country are not working days: its weekend
 * (ISO weekdays, Monday = 1 … Sunday = 7), yearly fixed-date holidays ("12-25"),
 * holidays that move with Easter (offsets in days from Western or Orthodox
 * Easter Sunday: Good Friday is -2) and one-off dates ("2026-11-03").
 *
 * Calendars are data: a JSON object of calendars by country code plus
 * "default" (used for the weekend when a country gives none, and for countries
 * without a calendar of their own):
 *   {"default": {"weekend": [6, 7]},
 *    "EC": {"fixed": ["01-01", "05-01"], "easter": [-48, -47, -2], "dates": ["2026-11-03"]}}
 * Days are counted as whole UTC days since 1970-01-01 ("day numbers"). */
#ifndef AMPARO_WORKDAYS_H
#define AMPARO_WORKDAYS_H

#include "core/result.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define WORKDAYS_MAX_FIXED 40
#define WORKDAYS_MAX_OFFSETS 12
#define WORKDAYS_MAX_DATES 200
#define WORKDAYS_MAX_COUNTRIES 250
#define WORKDAYS_MAX_ADD 3650 /* at most this many working days ahead */

/** One country's calendar.  Plain data: copy it freely, nothing to release. */
typedef struct {
    char country[3];
    unsigned weekend;              /* bit (1 << isoday) set for weekend days */
    int fixed[WORKDAYS_MAX_FIXED]; /* month * 100 + day */
    int nfixed;
    int easter[WORKDAYS_MAX_OFFSETS]; /* offsets from Western Easter Sunday */
    int neaster;
    int orthodox[WORKDAYS_MAX_OFFSETS]; /* offsets from Orthodox Easter Sunday */
    int northodox;
    int64_t dates[WORKDAYS_MAX_DATES]; /* one-off holidays, day numbers */
    int ndates;
} workdays_cal;

/** Checks a calendars document (see above): an object whose keys are "default"
 *  or ISO 3166-1 alpha-2 codes (two capital letters) and whose values hold only
 *  "weekend" (distinct integers 1–7, not all seven), "fixed" ("MM-DD" of a real
 *  day), "easter" and "orthodox_easter" (integers -100…100) and "dates"
 *  ("YYYY-MM-DD"), each within the bounds above.  Appends one field error per
 *  problem, paths prefixed with `prefix` ("calendars."); returns their number. */
int workdays_validate(const json_t *calendars, const char *prefix, const char *lang, amp_err *err);

/** Fills *cal with the calendar of `country` from a document that passed
 *  workdays_validate (NULL document: Saturday and Sunday, no holidays). */
void workdays_cal_load(workdays_cal *cal, const json_t *calendars, const char *country);

/** ISO weekday (1 = Monday … 7 = Sunday) of a day number. */
int workdays_isoday(int64_t day);

/** Day number of Western (Gregorian) and Orthodox (Julian computus, as a
 *  Gregorian date) Easter Sunday of year y (1900–2200). */
int64_t workdays_easter(int y);
int64_t workdays_orthodox_easter(int y);

/** True when the day is a holiday (not counting the weekend). */
bool workdays_is_holiday(const workdays_cal *cal, int64_t day);

/** True when the day is neither a weekend day nor a holiday. */
bool workdays_is_workday(const workdays_cal *cal, int64_t day);

/** The n-th working day after `day` (n >= 0; n = 0 gives `day` itself when it
 *  is a working day, else the next working day).  n is capped at WORKDAYS_MAX_ADD. */
int64_t workdays_add(const workdays_cal *cal, int64_t day, int n);

/** Working days in (from, to]: 0 when to <= from. */
int workdays_between(const workdays_cal *cal, int64_t from, int64_t to);

/** The deadline n working days after the instant `start` (seconds since the
 *  epoch): the same time of day on the n-th working day after start's day. */
int64_t workdays_deadline(const workdays_cal *cal, int64_t start, int n);

/** Day number of "YYYY-MM-DD" (or of a timestamp's date); -1 if invalid. */
int64_t workdays_day(const char *date);

/** Writes a day number as "YYYY-MM-DD" into out[11]. */
void workdays_format(int64_t day, char out[11]);

#endif
