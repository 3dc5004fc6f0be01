/* fuzz_calendars.c — libFuzzer target for the working-day calendars of the
 * referral settings (src/core/workdays.c).
 *
 * Feeds raw bytes as a calendars document (the "calendars" key of PUT
 * /api/v1/referrals/settings).  Checks what workdays_validate promises: its
 * return value equals the number of field errors it added, each an object with
 * string field/rule/message that can be encoded as JSON; a document it accepts
 * loads into a calendar for every key, and deadline arithmetic on it ends,
 * moving forward to a working day. */
#include "core/workdays.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!doc)
        return 0;
    amp_err err = {0};
    int n = workdays_validate(doc, "calendars.", "en", &err);
    if (n < 0 || (size_t)n != json_array_size(err.fields))
        __builtin_trap();
    size_t i;
    json_t *f;
    json_array_foreach (err.fields, i, f) {
        if (!json_is_string(json_object_get(f, "field")) ||
            !json_is_string(json_object_get(f, "rule")) ||
            !json_is_string(json_object_get(f, "message")))
            __builtin_trap();
    }
    char *text = err.fields ? json_dumps(err.fields, JSON_COMPACT) : NULL;
    if (err.fields && !text)
        __builtin_trap();
    free(text);
    if (n == 0 && json_is_object(doc)) {
        const char *key;
        json_t *v;
        json_object_foreach (doc, key, v) {
            workdays_cal cal;
            workdays_cal_load(&cal, doc, key);
            int64_t start = workdays_day("2026-06-12");
            for (int k = 0; k < 3; k++) {
                int64_t d = workdays_add(&cal, start + k * 97, 5 + k);
                if (d < start + k * 97 || !workdays_is_workday(&cal, d))
                    __builtin_trap();
            }
        }
    }
    amp_err_clear(&err);
    json_decref(doc);
    return 0;
}
