/* test_workdays.c — working-day calendars, Easter, deadlines and the
 * controllable clock. */
#include "testutil.h"

#include "core/workdays.h"

static int64_t day(const char *s)
{
    int64_t d = workdays_day(s);
    assert_true(d >= 0);
    return d;
}

static void fmt_is(int64_t d, const char *want)
{
    char out[11];
    workdays_format(d, out);
    assert_string_equal(out, want);
}

static void test_weekdays_and_easter(void **state)
{
    (void)state;
    assert_int_equal(workdays_isoday(day("2026-06-15")), 1); /* Monday */
    assert_int_equal(workdays_isoday(day("2026-06-14")), 7);
    assert_int_equal(workdays_isoday(day("1970-01-01")), 4);
    fmt_is(workdays_easter(2026), "2026-04-05");
    fmt_is(workdays_easter(2025), "2025-04-20");
    fmt_is(workdays_easter(2024), "2024-03-31");
    fmt_is(workdays_orthodox_easter(2026), "2026-04-12");
    fmt_is(workdays_orthodox_easter(2025), "2025-04-20");
    fmt_is(workdays_orthodox_easter(2024), "2024-05-05");
}

static void test_adding_working_days(void **state)
{
    (void)state;
    workdays_cal cal;
    workdays_cal_load(&cal, NULL, "EC"); /* Saturday and Sunday, no holidays */
    fmt_is(workdays_add(&cal, day("2026-06-12"), 1), "2026-06-15"); /* Fri + 1 → Mon */
    fmt_is(workdays_add(&cal, day("2026-06-12"), 5), "2026-06-19");
    fmt_is(workdays_add(&cal, day("2026-06-13"), 1), "2026-06-15"); /* Sat + 1 → Mon */
    fmt_is(workdays_add(&cal, day("2026-06-13"), 0), "2026-06-15");
    fmt_is(workdays_add(&cal, day("2026-06-15"), 0), "2026-06-15");
    assert_int_equal(workdays_between(&cal, day("2026-06-12"), day("2026-06-19")), 5);
    assert_int_equal(workdays_between(&cal, day("2026-06-19"), day("2026-06-12")), 0);
    /* the deadline keeps the time of day */
    int64_t start;
    assert_int_equal(clock_parse("2026-06-12T10:30:00Z", &start), 0);
    char ts[32];
    clock_format(workdays_deadline(&cal, start, 5), ts);
    assert_string_equal(ts, "2026-06-19T10:30:00.000Z");
}

static void test_holidays(void **state)
{
    (void)state;
    json_t *cals = tu_json("{\"default\": {\"weekend\": [6, 7]},"
                           " \"EC\": {\"fixed\": [\"12-25\"], \"easter\": [-2],"
                           "          \"dates\": [\"2026-06-16\"]},"
                           " \"AE\": {\"weekend\": [6, 7], \"fixed\": []},"
                           " \"IL\": {\"weekend\": [5, 6]},"
                           " \"UA\": {\"orthodox_easter\": [1]}}");
    amp_err err = {0};
    assert_int_equal(workdays_validate(cals, "calendars.", "en", &err), 0);
    workdays_cal ec, il, ua, other;
    workdays_cal_load(&ec, cals, "EC");
    workdays_cal_load(&il, cals, "IL");
    workdays_cal_load(&ua, cals, "UA");
    workdays_cal_load(&other, cals, "FR");
    assert_true(workdays_is_holiday(&ec, day("2026-12-25")));
    assert_true(workdays_is_holiday(&ec, day("2026-04-03"))); /* Good Friday */
    assert_false(workdays_is_workday(&ec, day("2026-06-16")));
    assert_true(workdays_is_workday(&ec, day("2026-06-17")));
    /* Mon 15 + 2 working days skips Tue 16 (a holiday) */
    fmt_is(workdays_add(&ec, day("2026-06-15"), 2), "2026-06-18");
    /* Christmas on a Friday in 2026: Thu 24 + 1 → Mon 28 */
    fmt_is(workdays_add(&ec, day("2026-12-24"), 1), "2026-12-28");
    /* a Friday–Saturday weekend */
    assert_false(workdays_is_workday(&il, day("2026-06-12")));
    assert_true(workdays_is_workday(&il, day("2026-06-14")));
    fmt_is(workdays_add(&il, day("2026-06-11"), 1), "2026-06-14");
    /* Orthodox Easter Monday */
    assert_true(workdays_is_holiday(&ua, day("2026-04-13")));
    assert_false(workdays_is_holiday(&ua, day("2026-04-06")));
    /* a country without a calendar gets the default weekend and no holidays */
    assert_true(workdays_is_workday(&other, day("2026-12-25")));
    json_decref(cals);
    amp_err_clear(&err);
}

static void test_calendar_validation(void **state)
{
    (void)state;
    static const struct {
        const char *doc, *field, *rule;
    } bad[] = {
        {"[]", "calendars.", "type"},
        {"{\"ec\": {}}", "calendars.ec", "country"},
        {"{\"EC\": {\"weekend\": [1,2,3,4,5,6,7]}}", "calendars.EC.weekend", "max_items"},
        {"{\"EC\": {\"weekend\": [0]}}", "calendars.EC.weekend", "weekday"},
        {"{\"EC\": {\"weekend\": [6, 6]}}", "calendars.EC.weekend", "weekday"},
        {"{\"EC\": {\"fixed\": [\"02-30\"]}}", "calendars.EC.fixed", "month_day"},
        {"{\"EC\": {\"easter\": [500]}}", "calendars.EC.easter", "offset"},
        {"{\"EC\": {\"dates\": [\"2026-13-01\"]}}", "calendars.EC.dates", "date"},
        {"{\"EC\": {\"holidays\": []}}", "calendars.EC.holidays", "unknown_field"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *doc = tu_json(bad[i].doc);
        amp_err err = {0};
        assert_true(workdays_validate(doc, "calendars.", "en", &err) >= 1);
        if (!tu_has_field_error(&err, bad[i].field, bad[i].rule))
            fail_msg("%s: no %s error on %s", bad[i].doc, bad[i].rule, bad[i].field);
        amp_err_clear(&err);
        json_decref(doc);
    }
}

static void test_controllable_clock(void **state)
{
    (void)state;
    char now[32], today[11];
    assert_int_equal(clock_set_now("2026-03-01T08:15:00Z"), 0);
    clock_now(now);
    assert_string_equal(now, "2026-03-01T08:15:00.000Z");
    clock_set_today(NULL);
    clock_today(today);
    assert_string_equal(today, "2026-03-01"); /* today follows the fixed time */
    clock_set_today("2026-06-15");
    clock_today(today);
    assert_string_equal(today, "2026-06-15"); /* AMPARO_TODAY still wins */
    assert_int_equal(clock_set_now("2026-02-30T00:00:00Z"), -1);
    assert_int_equal(clock_set_now("2026-03-01 08:15"), -1);
    clock_now(now);
    assert_string_equal(now, "2026-03-01T08:15:00.000Z"); /* unchanged */
    assert_int_equal(clock_set_now(NULL), 0);
    clock_now(now);
    assert_string_not_equal(now, "2026-03-01T08:15:00.000Z");
    /* the real clock: 2026-…T…:…:….mmmZ, within a second of clock_ms, twice in a
     * row (the second from the once-a-second cache) */
    for (int i = 0; i < 2; i++) {
        int64_t before = clock_ms() / 1000;
        clock_now(now);
        int64_t after = clock_ms() / 1000;
        assert_int_equal(strlen(now), 24);
        assert_int_equal(now[19], '.');
        assert_int_equal(now[23], 'Z');
        for (int k = 20; k < 23; k++)
            assert_true(now[k] >= '0' && now[k] <= '9');
        char whole[32];
        snprintf(whole, sizeof whole, "%.19sZ", now);
        int64_t secs;
        assert_int_equal(clock_parse(whole, &secs), 0);
        assert_true(secs >= before && secs <= after);
    }
    int64_t s;
    assert_int_equal(clock_parse("2026-06-15T00:00:00.123Z", &s), 0);
    assert_int_equal(s % 86400, 0);
    assert_int_equal(clock_parse("2026-06-15T24:00:00Z", &s), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weekdays_and_easter),
        cmocka_unit_test(test_adding_working_days),
        cmocka_unit_test(test_holidays),
        cmocka_unit_test(test_calendar_validation),
        cmocka_unit_test(test_controllable_clock),
    };
    return cmocka_run_group_tests_name("workdays", tests, NULL, NULL);
}
