/* workdays.c — working-day calendars and deadline arithmetic (see workdays.h). */
#include "core/workdays.h"

#include "core/validate.h"
#include "util/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

int64_t workdays_day(const char *date)
{
    int64_t s;
    char d[11];
    if (!date || strlen(date) < 10)
        return -1;
    memcpy(d, date, 10);
    d[10] = '\0';
    if (clock_parse(d, &s) != 0)
        return -1;
    return s / 86400;
}

void workdays_format(int64_t day, char out[11])
{
    char ts[32];
    clock_format(day * 86400, ts);
    memcpy(out, ts, 10);
    out[10] = '\0';
}

int workdays_isoday(int64_t day)
{
    /* 1970-01-01 was a Thursday (4) */
    int64_t w = (day % 7 + 7) % 7; /* 0: Thursday */
    return (int)((w + 3) % 7) + 1;
}

static int64_t civil(int y, int m, int d)
{
    char s[11];
    snprintf(s, sizeof s, "%04d-%02d-%02d", y, m, d);
    return workdays_day(s);
}

static void ymd(int64_t day, int *y, int *m, int *d)
{
    char s[11];
    workdays_format(day, s);
    *y = atoi(s);
    *m = atoi(s + 5);
    *d = atoi(s + 8);
}

int64_t workdays_easter(int y)
{
    /* the anonymous Gregorian algorithm (Meeus/Jones/Butcher) */
    int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4, f = (b + 8) / 25;
    int g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30, i = c / 4, k = c % 4;
    int l = (32 + 2 * e + 2 * i - h - k) % 7, m = (a + 11 * h + 22 * l) / 451;
    int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
    return civil(y, month, day);
}

int64_t workdays_orthodox_easter(int y)
{
    /* Meeus' Julian algorithm, then the Julian-to-Gregorian shift of the century */
    int a = y % 4, b = y % 7, c = y % 19, d = (19 * c + 15) % 30, e = (2 * a + 4 * b - d + 34) % 7;
    int month = (d + e + 114) / 31, day = (d + e + 114) % 31 + 1;
    int shift = y / 100 - y / 400 - 2;
    return civil(y, month, day) + shift;
}

/* ---- validation ---- */

static void bad(amp_err *err, const char *lang, const char *prefix, const char *path,
                const char *rule, const char *msg)
{
    char field[256], text[600];
    snprintf(field, sizeof field, "%s%s", prefix ? prefix : "", path);
    if (msg)
        snprintf(text, sizeof text, "%s: %s", field, msg);
    else
        validate_render(lang, rule, field, "", text, sizeof text);
    amp_err_field(err, field, rule, text);
}

static bool is_country_key(const char *k)
{
    return strlen(k) == 2 && k[0] >= 'A' && k[0] <= 'Z' && k[1] >= 'A' && k[1] <= 'Z';
}

static bool valid_mmdd(const char *s)
{
    if (!s || strlen(s) != 5 || s[2] != '-')
        return false;
    int m = 0, d = 0;
    for (int i = 0; i < 5; i++) {
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return false;
    }
    m = (s[0] - '0') * 10 + (s[1] - '0');
    d = (s[3] - '0') * 10 + (s[4] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1];
}

static int check_list(const json_t *v, size_t max, amp_err *err, const char *lang,
                      const char *prefix, const char *path)
{
    if (!json_is_array(v)) {
        bad(err, lang, prefix, path, "type", "must be an array");
        return 1;
    }
    if (json_array_size(v) > max) {
        char text[64];
        snprintf(text, sizeof text, "has more than %d items", (int)max);
        bad(err, lang, prefix, path, "max_items", text);
        return 1;
    }
    return 0;
}

int workdays_validate(const json_t *cals, const char *prefix, const char *lang, amp_err *err)
{
    size_t before = json_array_size(err->fields);
    if (!json_is_object(cals)) {
        bad(err, lang, prefix, "", "type", "must be an object of calendars by country");
        return 1;
    }
    if (json_object_size(cals) > WORKDAYS_MAX_COUNTRIES)
        bad(err, lang, prefix, "", "max_items", "too many calendars");
    const char *key;
    json_t *cal;
    json_object_foreach ((json_t *)cals, key, cal) {
        char path[200];
        char safe[16];
        utf8_sanitize(key, safe, sizeof safe);
        if (strcmp(key, "default") != 0 && !is_country_key(key)) {
            snprintf(path, sizeof path, "%s", safe);
            bad(err, lang, prefix, path, "country",
                "calendars are keyed by ISO 3166-1 alpha-2 codes or \"default\"");
            continue;
        }
        if (!json_is_object(cal)) {
            bad(err, lang, prefix, safe, "type", "must be an object");
            continue;
        }
        const char *k;
        json_t *v;
        json_object_foreach (cal, k, v) {
            char ksafe[48];
            utf8_sanitize(k, ksafe, sizeof ksafe);
            snprintf(path, sizeof path, "%s.%s", safe, ksafe);
            size_t i;
            json_t *x;
            if (strcmp(k, "weekend") == 0) {
                if (check_list(v, 6, err, lang, prefix, path))
                    continue;
                unsigned seen = 0;
                json_array_foreach (v, i, x) {
                    json_int_t d = json_is_integer(x) ? json_integer_value(x) : 0;
                    if (d < 1 || d > 7 || (seen & (1u << d))) {
                        bad(err, lang, prefix, path, "weekday",
                            "weekend days are distinct ISO weekdays 1 (Monday) to 7 (Sunday)");
                        break;
                    }
                    seen |= 1u << d;
                }
            } else if (strcmp(k, "fixed") == 0) {
                if (check_list(v, WORKDAYS_MAX_FIXED, err, lang, prefix, path))
                    continue;
                json_array_foreach (v, i, x) {
                    if (!valid_mmdd(json_string_value(x))) {
                        bad(err, lang, prefix, path, "month_day",
                            "fixed holidays are written MM-DD, e.g. 12-25");
                        break;
                    }
                }
            } else if (strcmp(k, "easter") == 0 || strcmp(k, "orthodox_easter") == 0) {
                if (check_list(v, WORKDAYS_MAX_OFFSETS, err, lang, prefix, path))
                    continue;
                json_array_foreach (v, i, x) {
                    json_int_t o = json_is_integer(x) ? json_integer_value(x) : 1000;
                    if (o < -100 || o > 100) {
                        bad(err, lang, prefix, path, "offset",
                            "Easter offsets are whole numbers of days from -100 to 100");
                        break;
                    }
                }
            } else if (strcmp(k, "dates") == 0) {
                if (check_list(v, WORKDAYS_MAX_DATES, err, lang, prefix, path))
                    continue;
                json_array_foreach (v, i, x) {
                    const char *s = json_string_value(x);
                    if (!s || strlen(s) != 10 || !validate_date(s)) {
                        bad(err, lang, prefix, path, "date", "dates are written YYYY-MM-DD");
                        break;
                    }
                }
            } else {
                bad(err, lang, prefix, path, "unknown_field",
                    "not a calendar key (weekend, fixed, easter, orthodox_easter, dates)");
            }
        }
    }
    return (int)(json_array_size(err->fields) - before);
}

/* ---- loading ---- */

static int load_ints(const json_t *arr, int *out, int max)
{
    int n = 0;
    size_t i;
    json_t *x;
    json_array_foreach (arr, i, x) {
        if (n < max && json_is_integer(x))
            out[n++] = (int)json_integer_value(x);
    }
    return n;
}

static void load_one(workdays_cal *cal, const json_t *c, bool with_holidays)
{
    const json_t *wk = json_object_get(c, "weekend");
    if (json_is_array(wk)) {
        cal->weekend = 0;
        size_t i;
        json_t *x;
        json_array_foreach (wk, i, x) {
            json_int_t d = json_integer_value(x);
            if (d >= 1 && d <= 7)
                cal->weekend |= 1u << d;
        }
    }
    if (!with_holidays)
        return;
    size_t i;
    json_t *x;
    json_array_foreach (json_object_get(c, "fixed"), i, x) {
        const char *s = json_string_value(x);
        if (cal->nfixed < WORKDAYS_MAX_FIXED && valid_mmdd(s))
            cal->fixed[cal->nfixed++] = atoi(s) * 100 + atoi(s + 3);
    }
    cal->neaster = load_ints(json_object_get(c, "easter"), cal->easter, WORKDAYS_MAX_OFFSETS);
    cal->northodox =
        load_ints(json_object_get(c, "orthodox_easter"), cal->orthodox, WORKDAYS_MAX_OFFSETS);
    json_array_foreach (json_object_get(c, "dates"), i, x) {
        int64_t d = workdays_day(json_string_value(x));
        if (d >= 0 && cal->ndates < WORKDAYS_MAX_DATES)
            cal->dates[cal->ndates++] = d;
    }
}

void workdays_cal_load(workdays_cal *cal, const json_t *cals, const char *country)
{
    memset(cal, 0, sizeof *cal);
    snprintf(cal->country, sizeof cal->country, "%s", country ? country : "");
    cal->weekend = (1u << 6) | (1u << 7);
    const json_t *def = json_object_get(cals, "default");
    const json_t *own = country && *country ? json_object_get(cals, country) : NULL;
    if (json_is_object(def))
        load_one(cal, def, !own);
    if (json_is_object(own))
        load_one(cal, own, true);
}

bool workdays_is_holiday(const workdays_cal *cal, int64_t day)
{
    int y, m, d;
    ymd(day, &y, &m, &d);
    for (int i = 0; i < cal->nfixed; i++) {
        if (cal->fixed[i] == m * 100 + d)
            return true;
    }
    if (cal->neaster) {
        int64_t e = workdays_easter(y);
        for (int i = 0; i < cal->neaster; i++) {
            if (e + cal->easter[i] == day)
                return true;
        }
    }
    if (cal->northodox) {
        int64_t e = workdays_orthodox_easter(y);
        for (int i = 0; i < cal->northodox; i++) {
            if (e + cal->orthodox[i] == day)
                return true;
        }
    }
    for (int i = 0; i < cal->ndates; i++) {
        if (cal->dates[i] == day)
            return true;
    }
    return false;
}

bool workdays_is_workday(const workdays_cal *cal, int64_t day)
{
    if (cal->weekend & (1u << workdays_isoday(day)))
        return false;
    return !workdays_is_holiday(cal, day);
}

int64_t workdays_add(const workdays_cal *cal, int64_t day, int n)
{
    if (n < 0)
        n = 0;
    if (n > WORKDAYS_MAX_ADD)
        n = WORKDAYS_MAX_ADD;
    int64_t d = day;
    /* a calendar where every day is a holiday cannot be built (the weekend has at
     * most six days and holidays are bounded), so these loops end */
    if (n == 0) {
        for (int guard = 0; !workdays_is_workday(cal, d) && guard < 4000; guard++)
            d++;
        return d;
    }
    for (int counted = 0, guard = 0; counted < n && guard < 40000; guard++) {
        d++;
        if (workdays_is_workday(cal, d))
            counted++;
    }
    return d;
}

int workdays_between(const workdays_cal *cal, int64_t from, int64_t to)
{
    int n = 0;
    for (int64_t d = from + 1; d <= to && n < 100000; d++)
        n += workdays_is_workday(cal, d);
    return n;
}

int64_t workdays_deadline(const workdays_cal *cal, int64_t start, int n)
{
    int64_t day = start >= 0 ? start / 86400 : (start - 86399) / 86400;
    int64_t tod = start - day * 86400;
    return workdays_add(cal, day, n) * 86400 + tod;
}
