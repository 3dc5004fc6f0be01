/* validate.h — check a record against the field catalogue.
 *
 * Validation reports every failing field, not just the first, each with the rule
 * it broke and a message in the caller's language (en, es, fr, uk).  It never
 * changes the document. */
#ifndef AMPARO_VALIDATE_H
#define AMPARO_VALIDATE_H

#include "core/catalogue.h"
#include "core/result.h"

#include <stdbool.h>

typedef struct {
    const char *today;     /* "YYYY-MM-DD": no date after it where not_future */
    const char *birthdate; /* the person's prs_Birthdate for not_before_birth, or NULL */
    const char *lang;      /* message language; NULL or unknown means English */
    const char *prefix;    /* field path prefix for child records: "events[2]." or NULL */
    /* Optional: true when a lookup target exists ("organisation", id). */
    bool (*lookup_exists)(void *arg, const char *target, const char *id);
    void *lookup_arg;
} validate_ctx;

/** Checks `doc`, a JSON object holding fields of `entity`, as a whole record:
 *  types, values, bounds, required and conditional fields.  Keys listed in
 *  `ignore` (a NULL-terminated list, may be NULL) are skipped; any other key the
 *  catalogue does not know is an error.  Null values count as absent.
 *  Appends one entry per failure to err->fields and returns how many. */
int validate_record(const catalogue *cat, const char *entity, const json_t *doc,
                    const validate_ctx *ctx, const char *const *ignore, amp_err *err);

/** True when s is a valid calendar date "YYYY-MM-DD" (years 1900–2200). */
bool validate_date(const char *s);

/** Whole years from birth to date (both "YYYY-MM-DD"), negative when date is
 *  before birth; -1 also when either is not a valid date (NULL allowed). */
int validate_years_between(const char *birth, const char *date);

/** True when s is an E.164 number: '+', then 8 to 15 digits, the first not 0. */
bool validate_e164(const char *s);

/** True when s looks like an e-mail address (local@domain.tld, no spaces). */
bool validate_email(const char *s);

/** True when s is a record identifier: 1–64 of [A-Za-z0-9._-]. */
bool validate_identifier(const char *s);

/** Number of Unicode code points in the UTF-8 string s. */
size_t utf8_length(const char *s);

/** Writes the message `key` (a rule name, or a "list.*" message) in `lang` into
 *  out[n], with the field name and the detail filled in. */
void validate_render(const char *lang, const char *key, const char *field, const char *detail,
                     char *out, size_t n);

/** A message template for `rule` in `lang` (falls back to English). Exposed for tests. */
const char *validate_message(const char *lang, const char *rule);

#endif
