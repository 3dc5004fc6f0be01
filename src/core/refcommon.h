/* refcommon.h — what the referral-mechanism modules share (directory, referrals,
 * assistance, lifecycle, hotline): their picklists and settings, records as
 * users see them, checking request bodies against a field table, write jobs,
 * and messages in the caller's language.
 *
 * Picklists and default settings are data (schema/referrals.json, compiled in);
 * an administrator's settings are a record (kind "settings", uid "referrals")
 * merged over the defaults.  Every function takes the core and a principal;
 * nothing here knows HTTP or SQL. */
#ifndef AMPARO_REFCOMMON_H
#define AMPARO_REFCOMMON_H

#include "core/core.h"
#include "core/workdays.h"

#include <stdbool.h>

/* ---- picklists -------------------------------------------------------------- */

/** The whole picklists document ({"picklists": {...}, "settings": {...}}),
 *  parsed once (borrowed; lives as long as the process). */
const json_t *rc_document(void);

/** The picklist `name` ("services"…): an array of {name, label}, or NULL. */
const json_t *rc_picklist(const char *name);

/** True when value is a code of picklist `name`.  The "indicators" list also
 *  accepts the codes of configured indicators (settings "indicators"). */
bool rc_picklist_has(core *c, const char *name, const char *value);

/** The label of a code in lang (falls back to English, then the code). */
const char *rc_label(const char *picklist, const char *value, const char *lang);

/* ---- settings ----------------------------------------------------------------- */

typedef struct {
    int standard_working_days;            /* answer deadline of a standard referral */
    int emergency_hours;                  /* answer deadline of an emergency referral */
    int initial_decision_working_days;    /* from registration to the initial decision */
    int reflection_period_days;           /* calendar days after a positive initial decision */
    int conclusive_decision_working_days; /* after the reflection period ends */
    json_t *calendars;                    /* owned: calendars by country (workdays.h) */
    json_t *indicators;                   /* owned: the indicator checklist [{name, label}] */
} rc_settings;

/** Reads the settings in force (stored ones over the defaults).  Release with
 *  rc_settings_release. */
void rc_settings_get(core *c, rc_settings *out);
void rc_settings_release(rc_settings *s);

/** The settings as JSON (a new object). */
json_t *rc_settings_json(const rc_settings *s);

/** GET/PUT of the settings.  Reading needs RES_LIFECYCLE read; replacing them
 *  needs ACT_ADMIN on RES_ORG (system administrators).  body: any of the keys of
 *  rc_settings_json (others are refused); absent keys keep their value. */
amp_code rc_settings_read(core *c, const principal *p, json_t **out, amp_err *err);
amp_code rc_settings_put(core *c, const principal *p, const json_t *body, int64_t if_match,
                         json_t **out, amp_err *err);

/** The calendar of `country` under the settings. */
void rc_calendar(const rc_settings *s, const char *country, workdays_cal *cal);

/* ---- organisations ---------------------------------------------------------------- */

/** Copies the organisation's amp_OrgCountry into out[3] ("" when none).
 *  Returns false when there is no such organisation. */
bool rc_org_country(core *c, const char *org, char out[3]);

/** The organisation's display name (a new string or NULL). */
char *rc_org_name(core *c, const char *org);

/* ---- records ---------------------------------------------------------------------- */

/** A record as users see it: id, version, created/updated at/by, then the doc's
 *  members (a new object). */
json_t *rc_record_json(const store_record *r);

/** Fills a new record's identity and timestamps (uid: a new UUID unless given). */
void rc_record_init(store_record *r, const char *kind, const char *uid, const principal *p,
                    const char *now);

/** A record uid derived from two texts (32 hex digits of a BLAKE2b hash), for
 *  records that must exist at most once per key: the directory entry of an
 *  organisation, the pending-referral marker of a case and receiver. */
void rc_key_uid(const char *a, const char *b, char out[40]);

/** Marks an update: updated_at/by. */
void rc_record_touch(store_record *r, const principal *p, const char *now);

/* ---- request bodies ---------------------------------------------------------------- */

typedef enum {
    RF_TEXT,      /* a short line (max chars); control characters refused */
    RF_LONGTEXT,  /* free text (max chars); newlines and tabs allowed */
    RF_CODE,      /* a code of picklist `list` */
    RF_CODES,     /* an array of distinct codes of picklist `list` (max items) */
    RF_DATE,      /* YYYY-MM-DD */
    RF_TIMESTAMP, /* YYYY-MM-DDTHH:MM:SS[.fff]Z */
    RF_INT,       /* a whole number in [min, max] */
    RF_NUMBER,    /* a number in [min, max] */
    RF_BOOL,
    RF_ORG,       /* an existing organisation's id */
    RF_COUNTRY,   /* ISO 3166-1 alpha-2 */
    RF_LANGUAGES, /* an array of ISO 639 codes */
    RF_LANGUAGE,  /* one ISO 639 code */
    RF_STRINGS,   /* an array of short texts (max items, each at most 200 chars) */
    RF_CURRENCY,  /* ISO 4217: three capital letters */
    RF_UUID,      /* a record identifier (UUID) */
    RF_EMAIL,
    RF_PHONE,
    RF_CHECKLIST, /* an object {code of `list`: true|false} */
} rc_field_kind;

typedef struct {
    const char *name;
    rc_field_kind kind;
    const char *list; /* picklist of RF_CODE / RF_CODES / RF_CHECKLIST */
    bool required;
    bool identity;   /* free text or contact data: shown only to roles that see identity */
    double min, max; /* RF_INT / RF_NUMBER bounds; text and list maxima (0: defaults) */
} rc_field;

/** Checks body (a JSON object) against the NULL-name-terminated field table.
 *  Unknown keys, wrong types and values, and — when `whole` — missing required
 *  fields are each one field error (rules as in validate.h, messages in the
 *  principal's language).  Keys in `allow` (NULL-terminated, may be NULL) are
 *  skipped.  null values count as absent.  Returns the number of errors added. */
int rc_check(core *c, const principal *p, const rc_field *fields, const json_t *body, bool whole,
             const char *const *allow, amp_err *err);

/** Finishes a failed check: AMP_EINVALID with a message in the caller's language
 *  (or AMP_EBADREQ when the body is not an object). */
amp_code rc_invalid(const principal *p, amp_err *err);

/** Deletes from doc every field the table marks as identity (for callers who do
 *  not see identity data). */
void rc_strip_identity(const rc_field *fields, json_t *doc);

/** AMP_EFORBIDDEN (one field error "forbidden" per field) when body writes a
 *  field the table marks as identity (free text, contact data) and p's roles
 *  may not do `a` on RES_CASE_IDENTITY — the rule the case API applies. */
amp_code rc_identity_write(const principal *p, const rc_field *fields, const json_t *body,
                           authz_action a, amp_err *err);

/** Applies a JSON merge patch (top-level keys; null deletes) to a copy of doc. */
json_t *rc_merge(const json_t *doc, const json_t *patch);

/** The version to check for an update: If-Match (>0) or the body's "version";
 *  AMP_ENEEDVER when neither is given.  *version receives it, *from_header says
 *  which one (a stale If-Match answers 412, a stale body version 409). */
amp_code rc_take_version(const json_t *body, int64_t if_match, int64_t *version, bool *from_header,
                         amp_err *err);

/** Parses a list's limit and offset parameters (limit 1–500, default 50). */
amp_code rc_paging(const principal *p, const char *limit, const char *offset, int *lim, int *off,
                   amp_err *err);

/** The value of list parameter `name`, or NULL; *unknown receives the first
 *  parameter not in `known` (NULL-terminated). */
const char *rc_param(const list_param *params, size_t n, const char *name);
const char *rc_unknown_param(const list_param *params, size_t n, const char *const *known);

/** Refuses an unknown list parameter (AMP_EINVALID, rule "list.unknown"). */
amp_code rc_unknown_param_error(const principal *p, const char *name, amp_err *err);

/* ---- messages ---------------------------------------------------------------------- */

/** A message of the referral modules in lang (en, es, fr, uk; English otherwise):
 *  keys are listed in refcommon.c.  "%s" in it is filled by the caller. */
const char *rc_msg(const char *lang, const char *key);

/** Sets err to code with the message `key` in p's language, "%s" filled with arg. */
amp_code rc_fail(amp_err *err, const principal *p, amp_code code, const char *key, const char *arg);

/* ---- write jobs ---------------------------------------------------------------------- */

typedef struct rc_job rc_job;
/** The body of a write job: runs inside the store transaction; returns STORE_OK
 *  or rc_job_fail(...) (the job's writes are then rolled back). */
typedef int (*rc_apply_fn)(rc_job *j, store_tx *tx);

struct rc_job {
    core *c;
    const principal *p;
    rc_apply_fn apply;
    void *ctx;      /* the operation's own data */
    char now[32];   /* the time of the write */
    char today[11]; /* its date */
    amp_code code;  /* AMP_OK, or why the job failed */
    amp_err *err;   /* the caller's error */
    json_t *result; /* set by apply: the answer (owned) */
};

/** Applies a merge patch to the case inside the job (cases_tx_patch, as the
 *  system: the job has checked who may act), so that the case's HTCDS fields
 *  commit with the record that decides them.  STORE_OK, or the job's failure
 *  carrying the case's error.  When `derived` (fields that follow other records,
 *  like a referral's), a case that cannot take them (erased, or failing
 *  validation for reasons of its own: logged) is left as it is and the job goes on. */
int rc_job_case_patch(rc_job *j, store_tx *tx, const char *case_uid, const json_t *patch,
                      bool derived);

/** Prepares a job (now and today from the clock). */
void rc_job_init(rc_job *j, core *c, const principal *p, rc_apply_fn apply, void *ctx,
                 amp_err *err);

/** Runs the job and waits until its writes are durable.  AMP_OK with j->result
 *  set (the caller owns it), or the job's failure. */
amp_code rc_job_run(rc_job *j);

/** Inside apply: records a failure (message key and argument as rc_fail) and
 *  returns the value apply must return. */
int rc_job_fail(rc_job *j, amp_code code, const char *key, const char *arg);

/** Inside apply: a store failure (not found, conflict, error) as a job failure. */
int rc_job_store_fail(rc_job *j, int rc, const char *what);

/** Inside apply: checks the record's version against the one the caller gave
 *  (0: no check). */
int rc_job_check_version(rc_job *j, int64_t current, int64_t wanted, bool from_header);

/* ---- the case behind a record ------------------------------------------------------------ */

/** A summary of a case without identity, for organisations that may not open
 *  it yet: reference, gender, age group, child, citizenship, trafficking status,
 *  exploitation types, case status (a new object). */
json_t *rc_case_summary(const store_row *row, const char *today);

/** The CTDC-style age group ("0--8", "9--17", "18--20"…"48+") of a case, or NULL. */
const char *rc_age_group(const json_t *case_doc, const char *today);

/** True when p acts for organisation org (internal principals act for any). */
bool rc_is_org(const principal *p, const char *org);

/** True when p is a coordinator (sees referrals and figures across organisations). */
bool rc_is_coordinator(const principal *p);

#endif
