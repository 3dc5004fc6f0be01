/* care_common.h — what the care and follow-up modules share: shelters, returns,
 * reintegration, proceedings, trainings and indicators.
 *
 * Each of those entities is a generic domain record (store_record) described
 * by a table of fields (care_field).  This file holds the machinery around such
 * tables: validation of bodies (unknown keys refused, types, picklists, dates,
 * bounds — one error per failing field, in the caller's language), the record
 * as users see it (server keys plus fields; identity fields only for roles
 * that may see them), asynchronous write jobs with a synchronous form, list
 * paging, reporting periods, date arithmetic, and the data files compiled into
 * the binary: the picklists (schema/care-picklists.json) and the reintegration
 * indicator frameworks (schema/reintegration-indicators.json). */
#ifndef AMPARO_CARE_COMMON_H
#define AMPARO_CARE_COMMON_H

#include "core/audit.h"
#include "core/core.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* ==== data files ============================================================= */

/** The picklists document {"picklists": {name: {"label", "values": [{name,
 *  label}]}}} (borrowed; loaded once, thread-safe). */
const json_t *care_picklists(void);

/** True when value is one of the picklist's value names. */
bool care_picklist_has(const char *list, const char *value);

/** The picklist value's entry {name, label, ...} or NULL (borrowed). */
const json_t *care_picklist_value(const char *list, const char *value);

/** The reintegration configuration (borrowed): thresholds and frameworks.  It
 *  is the embedded schema/reintegration-indicators.json unless
 *  care_config_load_file (or $AMPARO_CARE_CONFIG at first use) replaced it. */
const json_t *care_config(void);

/** Replaces the reintegration configuration with a file, after checking it
 *  (see care_config_check).  0, or -1 with a message in err (the current
 *  configuration is kept).  Call before serving requests. */
int care_config_load_file(const char *path, char *err, size_t errlen);

/** Checks a reintegration configuration document: numbers in range, every
 *  framework with dimensions, every dimension with indicators, codes unique and
 *  made of [a-z0-9_], positive weights, labels in en/es/fr/uk.  0, or -1 with a
 *  message naming the offending entry. */
int care_config_check(const json_t *cfg, char *err, size_t errlen);

/** A number of the configuration ("sustainable_threshold"…), or dflt. */
double care_config_number(const char *key, double dflt);

/* ==== messages =============================================================== */

/** Adds a field error of `rule` on `field` with the message in p's language.
 *  Rules: the catalogue's (required, type, picklist, date, min, max,
 *  max_length, unknown_field, read_only, country, lookup, duplicate,
 *  max_items, not_future) and the care rules (date_order, over_capacity,
 *  no_places, score_range, unknown_indicator, wrong_organisation, not_in_case,
 *  participant_totals, stage_order, currency, uid, one_per_case, period,
 *  unknown_measure, closed).  detail fills "{d}" in the message. */
void care_field_error(amp_err *err, const principal *p, const char *field, const char *rule,
                      const char *detail);

/** A whole-answer message in p's language into out[n]: over_capacity,
 *  already_discharged, not_admitted, not_waiting, already_admitted, erased,
 *  no_plan ("{d}" filled with detail). */
void care_message(const principal *p, const char *key, const char *detail, char *out, size_t n);

/** Sets AMP_EINVALID with "N fields are invalid" in p's language. */
amp_code care_invalid(amp_err *err, const principal *p);

/* ==== fields ================================================================= */

typedef enum {
    CF_STRING,   /* one line of text (max: characters; default 200) */
    CF_TEXT,     /* free text (max: characters; default 4000) */
    CF_DATE,     /* YYYY-MM-DD */
    CF_INT,      /* whole number in [min, max] */
    CF_NUMBER,   /* number in [min, max] */
    CF_BOOL,     /* true / false */
    CF_PICK,     /* one value of picklist `list` */
    CF_MULTI,    /* array of distinct values of picklist `list` (max items) */
    CF_COUNTRY,  /* ISO 3166-1 alpha-2 code */
    CF_ORG,      /* an organisation id that exists */
    CF_ORGS,     /* array of distinct organisation ids that exist */
    CF_UID,      /* a record identifier (UUID) */
    CF_CURRENCY, /* ISO 4217 code: three capital letters */
    CF_COUNTS,   /* object {value of picklist `list`: whole number >= 0} */
    CF_AMOUNTS,  /* object {value of picklist `list`: number >= 0} */
    CF_OBJECTS,  /* array of objects described by `sub` (max items) */
    CF_LABEL,    /* text, or {"en","es","fr","uk"} texts */
    CF_OBJECT,   /* any object (at most max keys; default 128): its entity checks it */
} care_ftype;

enum {
    CF_REQ = 1u << 0,      /* required */
    CF_IDENTITY = 1u << 1, /* identity-level: only for roles allowed RES_CASE_IDENTITY */
    CF_SERVER = 1u << 2,   /* set by the server: refused in bodies, shown in records */
    CF_NOFUTURE = 1u << 3, /* dates: not after today */
};

typedef struct care_field {
    const char *name;
    care_ftype type;
    unsigned flags;
    const char *list; /* CF_PICK, CF_MULTI, CF_COUNTS, CF_AMOUNTS */
    double min, max;  /* numbers: bounds (both 0: none); text: max length; arrays: max items */
    const struct care_field *sub; /* CF_OBJECTS: the element's fields, ending with {NULL} */
} care_field;

/** What validation looks things up in: the catalogue (countries) and whether
 *  an organisation exists.  Either may be NULL (then anything passes). */
typedef struct {
    const catalogue *cat;
    bool (*org_exists)(void *arg, const char *id);
    void *arg;
} care_lookup;

/** care_validate with explicit look-ups (care_fields.c; no store needed). */
int care_validate_with(const care_lookup *lk, const principal *p, const care_field *fields,
                       const json_t *doc, bool partial, const char *const *ignore,
                       const char *prefix, const char *today, amp_err *err);

/** Validates `doc` against `fields` (a table ending with {NULL}): every key
 *  must be a field that is not CF_SERVER (keys in `ignore`, NULL-terminated, are
 *  skipped), every value of the right type, and — unless `partial` — every
 *  CF_REQ field present.  Null values count as absent.  One field error per
 *  failure, prefixed with `prefix` (may be NULL).  Returns the number added. */
int care_validate(core *c, const principal *p, const care_field *fields, const json_t *doc,
                  bool partial, const char *const *ignore, const char *prefix, const char *today,
                  amp_err *err);

/** Copies doc without nulls and without CF_IDENTITY fields when hide_identity. */
json_t *care_filter(const care_field *fields, const json_t *doc, bool hide_identity);

/** A copy of doc without the CF_SERVER fields. */
json_t *care_strip_server(const care_field *fields, const json_t *doc);

/* ==== records ================================================================ */

/** The record as users see it: {"id", "version", "created_at", "updated_at",
 *  "created_by", "updated_by", ...fields}; identity fields of `fields` left
 *  out unless p may see identity.  A new object. */
json_t *care_record_json(const principal *p, const care_field *fields, const store_record *r);

/** Reads a record of `kind` by uid: AMP_OK (release *out), or AMP_ENOTFOUND
 *  ("no <what> '<uid>'") / AMP_EINTERNAL. */
amp_code care_get(core *c, const char *kind, const char *what, const char *uid, store_record *out,
                  amp_err *err);

/** All records matching q (limit ignored: scans): a new array of store_record
 *  in *rows (free with care_rows_free).  AMP_OK or AMP_EINTERNAL. */
amp_code care_scan(core *c, const store_record_query *q, store_record **rows, int *n, amp_err *err);
void care_rows_free(store_record *rows, int n);

/** True when p may see the case `case_uid` (internal, the owner's organisation,
 *  or shared with p's organisation). */
bool care_case_visible(core *c, const principal *p, const char *case_uid);

/** Records a read of a case's records in the audit trail (durable before the
 *  data is sent): action "visit.list"…, about the case.  AMP_OK or
 *  AMP_EINTERNAL. */
amp_code care_audit_read(core *c, const principal *p, const char *action, const char *case_uid,
                         int records, amp_err *err);

/** Checks that p's organisation is `org` (internal principals, and records of
 *  no organisation, pass):
 *  AMP_OK, or AMP_EFORBIDDEN naming `what` with a wrong_organisation field error. */
amp_code care_require_org(const principal *p, const char *org, const char *what, amp_err *err);

/** Calls fn for every case registered in [from, to] (inclusive dates; NULL:
 *  open), owned by `owner` when not NULL, in pages of 500.  The row is
 *  borrowed for the call; its doc holds the fields in clear (never show them).
 *  AMP_OK or AMP_EINTERNAL. */
amp_code care_cases_scan(core *c, const char *from, const char *to, const char *owner,
                         void (*fn)(const store_row *row, void *arg), void *arg, amp_err *err);

/** The case's fields in clear (a new reference), or NULL when there is no such
 *  case.  For the core's own figures: never show them. */
json_t *care_case_doc(core *c, const char *case_uid);

/** Builds a page {"items": [...], "total": N, "limit": L, "offset": O} from an
 *  array of items (stolen). */
json_t *care_page(json_t *items, int limit, int offset);

/* ==== list parameters ========================================================= */

/** The value of parameter `name`, or NULL. */
const char *care_param(const list_param *params, size_t n, const char *name);

/** Checks that every parameter is one of `known` (NULL-terminated), that limit
 *  (1–500, default 50) and offset (>= 0) are whole numbers, and that date
 *  parameters listed in `dates` are dates.  Fills *limit and *offset.  AMP_OK or
 *  AMP_EBADREQ naming each bad parameter. */
amp_code care_params_check(const principal *p, const list_param *params, size_t n,
                           const char *const *known, const char *const *dates, int *limit,
                           int *offset, amp_err *err);

/* ==== periods and dates ======================================================== */

/** A reporting period: inclusive dates. */
typedef struct {
    char from[11], to[11];
    char label[32]; /* as given: "2026", "2026-Q2", "2026-H1", "2026-05", "from..to" */
} care_period;

/** Parses "2026", "2026-Q1".."Q4", "2026-H1"/"H2", "2026-05", "2026-05-03"
 *  (one day) or "2026-01-01..2026-06-30".  0, or -1 when s is none of these. */
int care_period_parse(const char *s, care_period *out);

/** The period from the parameters: `period`, or `from`/`to` (either may be
 *  absent: from 1900-01-01, to today).  AMP_OK or AMP_EBADREQ. */
amp_code care_period_from_params(const principal *p, const list_param *params, size_t n,
                                 const char *today, care_period *out, amp_err *err);

/** Days since 1970-01-01 of a valid date; INT32_MIN when s is not a date. */
int32_t care_days(const char *date);

/** Writes the date `days` after 1970-01-01 into out[11]. */
void care_date(int32_t days, char out[11]);

/** Adds months to a date (clamping the day to the month's end) into out[11]. */
void care_add_months(const char *date, int months, char out[11]);

/** Age in whole years on `on` of a person born on `birth`; -1 if unknown. */
int care_age_on(const char *birth, const char *on);

/** True when the case document is a child's on `on`: by prs_Birthdate, else by
 *  vic_AgeWhenTrafficked < 18. */
bool care_is_minor(const json_t *case_doc, const char *on);

/** Sorts doubles in place and returns the median (0 when n is 0). */
double care_median(double *v, size_t n);

/* ==== writes ================================================================== */

typedef struct care_op care_op;

/** A write job: runs inside the store transaction.  Returns STORE_OK after
 *  setting op->result, or care_op_fail(op, code) after filling op->err. */
typedef int (*care_job_fn)(store_tx *tx, care_op *op);

struct care_op {
    core *c;
    principal p;
    char today[11];
    char now[32];
    char uid[40];         /* the record the job is about */
    char key[72];         /* a case id or reference, when bound to one */
    char case_uid[40];    /* the case's uid once read */
    json_t *body;         /* owned */
    json_t *extra;        /* owned: job-specific data */
    const void *ent;      /* the entity description, for generic jobs (borrowed) */
    int64_t if_match;     /* If-Match (> 0) or 0 */
    int64_t body_version; /* "version" of the body or 0 */
    store_row case_row;   /* the case, when bound (released with the op) */
    care_job_fn job;
    amp_code code;
    amp_err err;
    json_t *result; /* owned until the callback */
    core_done_fn done;
    void *arg;
};

/** A new write op for p (today and now filled).  NULL when out of memory. */
care_op *care_op_new(core *c, const principal *p, care_job_fn job, core_done_fn done, void *arg);

/** Frees an op that was never submitted. */
void care_op_free(care_op *op);

/** Queues the op's job; its callback runs once the write is durable (or
 *  failed).  Takes ownership of op.  AMP_OK or AMP_EINTERNAL. */
amp_code care_op_submit(care_op *op, amp_err *err);

/** Records a failure of the job: returns the job's return value. */
int care_op_fail(care_op *op, amp_code code);

/** Maps a store code to a failure of the job (not found / conflict / storage). */
int care_op_store_fail(care_op *op, int rc, const char *what);

/** Takes the version to check from if_match or the body's "version" (removed
 *  from op->body): AMP_OK, or AMP_ENEEDVER / AMP_EINVALID. */
amp_code care_op_take_version(care_op *op, amp_err *err);

/** Checks the version against the record's current one inside the job:
 *  STORE_OK or the job's failure (AMP_EPRECOND for If-Match, else AMP_ECONFLICT). */
int care_op_check_version(care_op *op, int64_t current, const char *what);

/** Fills a new record's server keys (uid: a new UUID, kind, created/updated). */
void care_record_init(care_op *op, store_record *r, const char *kind);

/** Marks a record updated (updated_at/by). */
void care_record_touch(care_op *op, store_record *r);

/** Applies a merge patch (keys of `patch` other than "version"; null deletes)
 *  to a copy of doc: a new object. */
json_t *care_merge(const json_t *doc, const json_t *patch);

/* ---- records bound to a case (returns, proceedings, plans, visits) ---- */

/** What a case-bound entity is: its kind, its fields and its own checks. */
typedef struct care_entity {
    const char *kind;   /* record kind: "return" */
    const char *what;   /* in messages and audit actions: "return" -> "return.create" */
    authz_resource res; /* its row in the matrix */
    const care_field *fields;
    /* Cross-field checks on the whole document inside the job (op->case_row is
     * the case; before is the stored document on updates, else NULL): adds field
     * errors to op->err.  May be NULL. */
    void (*check)(care_op *op, const json_t *doc, const json_t *before);
    /* Sets server fields of doc and the record's columns (status, due, org2).
     * May be NULL. */
    void (*derive)(care_op *op, json_t *doc, store_record *r);
    /* Records owned by an organisation rather than a case (trainings,
     * indicators): the field naming the owner ("organiser_org"), or NULL. */
    const char *org_field;
} care_entity;

/** Creates a record of `ent` for the case (cases_access with ACT_UPDATE, then
 *  create on ent->res); the record's org is p's organisation (the case owner's
 *  for internal principals).  Asynchronous; the result is the record. */
amp_code care_case_create(core *c, const principal *p, const care_entity *ent, const char *case_key,
                          const json_t *body, core_done_fn done, void *arg, amp_err *err);

/** Applies a merge patch to a record of `ent` of the case. */
amp_code care_case_update(core *c, const principal *p, const care_entity *ent, const char *case_key,
                          const char *id, const json_t *patch, int64_t if_match, core_done_fn done,
                          void *arg, amp_err *err);

/** Reads a record of `ent` of the case (404 when it belongs to another case). */
amp_code care_case_get(core *c, const principal *p, const care_entity *ent, const char *case_key,
                       const char *id, json_t **out, amp_err *err);

/** The case's records of `ent`, oldest first, as a page of all of them. */
amp_code care_case_list(core *c, const principal *p, const care_entity *ent, const char *case_key,
                        json_t **out, amp_err *err);

/* ---- records owned by an organisation (trainings, indicators) ---- */

/** Creates a record of `ent` (create on ent->res).  The owner (doc field
 *  ent->org_field, and the record's org) defaults to p's organisation; only
 *  internal principals may name another. */
amp_code care_org_create(core *c, const principal *p, const care_entity *ent, const json_t *body,
                         core_done_fn done, void *arg, amp_err *err);

/** Applies a merge patch (update on ent->res, p of the owner organisation). */
amp_code care_org_update(core *c, const principal *p, const care_entity *ent, const char *id,
                         const json_t *patch, int64_t if_match, core_done_fn done, void *arg,
                         amp_err *err);

/** Deletes a record (delete on ent->res, p of the owner organisation). */
amp_code care_org_delete(core *c, const principal *p, const care_entity *ent, const char *id,
                         int64_t if_match, core_done_fn done, void *arg, amp_err *err);

/* ---- sealing: identity-level fields of case-bound records at rest ---- */

/** Inside a job: opens r->doc in place when it is sealed (the case's data
 *  key; a case without key, erased, leaves only its clear members).  AMP_OK or
 *  an error with err set. */
int care_tx_open(store_tx *tx, core *c, store_record *r, amp_err *err);

/** Inside a job: stores r (store_tx_record_put with expected) with the
 *  CF_IDENTITY members of `fields` sealed under the case's data key (in clear
 *  when the core does not seal or the case has no key); r->doc stays clear.
 *  Returns the store's code. */
int care_tx_put(store_tx *tx, core *c, store_record *r, const care_field *fields, int64_t expected,
                amp_err *err);

/** For reads: opens sealed rows in place for a principal who may see identity
 *  (one key load per run of rows of the same case), strips their sealed member
 *  for the others. */
void care_open_rows(core *c, const principal *p, store_record *rows, int n);

/** Opens a case row's document in place (its identity members, sealed at
 *  rest, are needed by the core's own checks: a child's age, consent): for
 *  those checks only, never to show.  Without a key (erased) the clear members
 *  remain. */
void care_case_open(core *c, store_row *row);

/** cases_access, then the case's document opened (care_case_open). */
amp_code care_case_access(core *c, const principal *p, const char *key, authz_action a,
                          store_row *out, amp_err *err);

/* ---- the case-bound kinds and erasure ---- */

/** The field tables of the records bound to a case (their identity-level
 *  fields are what erasure removes). */
extern const care_field care_stay_fields[], care_return_fields[], care_plan_fields[],
    care_visit_fields[], care_proceeding_fields[];

/** Erases the care records of a case inside a write job (to be called from
 *  the case erasure job, in the same transaction): with keep_facts, every
 *  identity-level field (notes, family contacts, file numbers…) is removed from
 *  the case's stays, returns, plan, visits and proceedings; without, the
 *  returns, plan, visits and proceedings are deleted and the stays (the
 *  shelter's facts) stripped.  Audited as "care.erase".  Returns STORE_OK or the store's failure.
 */
int care_erase_case_tx(store_tx *tx, core *c, const principal *p, const char *case_uid,
                       bool keep_facts);

/** True when the case document was erased (its identity destroyed): its care
 *  records can no longer change. */
bool care_case_erased(const json_t *case_doc);

/* ---- waiting for a write (CLI, tests, the few synchronous HTTP handlers) ---- */

typedef struct care_wait care_wait;
/** A waiter to pass as (care_wait_done, w) to an asynchronous write. */
care_wait *care_wait_new(void);
void care_wait_done(void *arg, amp_code code, json_t *result, char *text, amp_err *err);
/** Waits for the callback when code (the call's return) is AMP_OK, then frees
 *  w.  Returns the final code; *out (may be NULL) receives the result; err the
 *  failure. */
amp_code care_wait_end(care_wait *w, amp_code code, json_t **out, amp_err *err);

#endif
