/* core.h — the domain core: registering, reading, correcting and listing cases.
 *
 * The HTTP server and the CLI call these functions; these call the catalogue (for
 * rules) and the store (for rows).  Nothing here knows HTTP or SQL.
 *
 * Writes are asynchronous: a write function validates what it can at once and
 * returns an error, or queues the write and returns AMP_OK; its callback then runs
 * (on the store's writer thread) once the write is durable, with the resulting
 * record or an error.  The *_sync variants wait for that callback.
 *
 * Records as users see them: flat JSON objects holding catalogue fields
 * (prs_FirstName, vic_TypeOfExploitation…) plus server-set metadata: id (UUID),
 * reference (cases), version, created_at, updated_at, created_by, updated_by.
 * A case also carries arrays "events", "comments", "support_plans" and
 * "perpetrators" of its child records. */
#ifndef AMPARO_CORE_H
#define AMPARO_CORE_H

#include "core/authz.h"
#include "core/catalogue.h"
#include "core/result.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct core core;

/** Creates the core over a store and a catalogue (both borrowed; they must
 *  outlive it).  default_country: ISO code for amp_RegistrationCountry when a
 *  case gives none. */
core *core_new(store *s, const catalogue *cat, const char *default_country);
void core_free(core *c);
const catalogue *core_catalogue(const core *c);

typedef struct keyring keyring;
/** Seals identity data at rest under per-case keys from kr (borrowed; it must
 *  outlive the core).  Without a keyring documents are stored in clear: only
 *  the core's own unit tests run that way. */
void core_set_keyring(core *c, keyring *kr);
keyring *core_keyring(core *c);
store *core_store(core *c);

typedef struct read_journal read_journal;
/** Records reads through the journal j (borrowed; core/read_journal.h) instead
 *  of waiting for each read's commit: `amparo serve` sets one.  NULL: off. */
void core_set_read_journal(core *c, read_journal *j);
read_journal *core_read_journal(core *c);

/** Callback of an asynchronous write.  On success code is AMP_OK and result a new
 *  reference to the written record (the callee owns it) — or, when text is not
 *  NULL, text is the whole record as compact JSON (the callee owns it: free())
 *  and result only its "id", "reference" and "version" (case creation answers
 *  this way, without serialising the record twice).  On failure result and text
 *  are NULL and err describes the failure (cleared by the core after the call). */
typedef void (*core_done_fn)(void *arg, amp_code code, json_t *result, char *text, amp_err *err);

/* ---- child record kinds ---------------------------------------------------- */

typedef struct {
    const char *entity;     /* catalogue entity: "event" */
    const char *collection; /* array key in a case and URL segment: "events" */
} child_kind;

/** The kind whose collection name is `collection` ("events", "support_plans" or
 *  "support-plans"…), or NULL. */
const child_kind *core_child_kind(const char *collection);

/* ---- cases -------------------------------------------------------------------- */

/** Registers a case.  body: the case fields, optionally with child arrays. */
amp_code cases_create(core *c, const principal *p, const json_t *body, core_done_fn done, void *arg,
                      amp_err *err);

/** Applies a JSON merge patch (RFC 7396) to a case.  The version to check comes
 *  from if_match (>= 1; 0 when absent) or the body's "version" field; with neither
 *  the update is refused (AMP_ENEEDVER).  A stale if_match gives AMP_EPRECOND, a
 *  stale body version AMP_ECONFLICT; nothing changes. */
amp_code cases_update(core *c, const principal *p, const char *key, const json_t *patch,
                      int64_t if_match, core_done_fn done, void *arg, amp_err *err);

/** Reads a case (by id or reference) with its children: *out is a new object. */
amp_code cases_get(core *c, const principal *p, const char *key, json_t **out, amp_err *err);

/** The same record as cases_get, as compact JSON text built straight from the
 *  stored documents (the fast path for reads).  *out: malloc'd, NUL-terminated,
 *  *len bytes; *version: the case's version. */
amp_code cases_get_text(core *c, const principal *p, const char *key, char **out, size_t *len,
                        int64_t *version, amp_err *err);

/** cases_get_text for servers: the answer goes to done (with result
 *  {"version"} and text the record, as for writes) once the read's audit entry
 *  is durable, so no thread waits for the disk.  Returns AMP_OK when done will
 *  run, or an error (done will not run). */
amp_code cases_get_async(core *c, const principal *p, const char *key, core_done_fn done, void *arg,
                         amp_err *err);

/** A list parameter: name=value from a query string or the CLI. */
typedef struct {
    const char *name;
    const char *value;
} list_param;

#define CASES_DEFAULT_LIMIT 50
#define CASES_MAX_LIMIT 500

/** Lists cases.  Parameters: status, trafficking_status, exploitation, gender,
 *  citizenship, country_of_exploitation (repeatable or comma-separated: any of),
 *  registered_from, registered_to, reference (prefix), owner, sort (registered,
 *  reference, created, updated; "-" prefix for descending), limit (1–500),
 *  offset.  *out: {"items": [...], "total": N, "limit": L, "offset": O}. */
amp_code cases_list(core *c, const principal *p, const list_param *params, size_t nparams,
                    json_t **out, amp_err *err);

/** The change history of a case: *out = {"items": [...]}. */
amp_code cases_history(core *c, const principal *p, const char *key, json_t **out, amp_err *err);

/* ---- access to a case: the one check every case-bound feature makes --------------- */

/** Checks that p may do `a` on the case `key` (id or reference) and reads it.
 *  Returns AMP_EFORBIDDEN when p's roles do not allow `a` on cases at all (this
 *  says nothing about the case); AMP_ENOTFOUND when there is no such case *or*
 *  it is outside p's scope — not the owner's organisation, not shared with p's
 *  organisation (an accepted referral), or restricted to other users — so a
 *  refusal never confirms that a case exists.  On AMP_OK, when out is not NULL,
 *  *out holds the case row; out->doc is the case's fields in clear (decrypted),
 *  for the core's own checks (consent, age): never send it to a caller as it
 *  is.  Release it with store_row_release. */
amp_code cases_access(core *c, const principal *p, const char *key, authz_action a, store_row *out,
                      amp_err *err);

/** Replaces a fetched case row's stored document by its clear form (identity
 *  members decrypted with the case's key), for the core's own checks.
 *  AMP_OK, or AMP_EINTERNAL when it does not decrypt. */
amp_code cases_open_row(core *c, store_row *row, amp_err *err);

/** True when the case row is in p's scope (see cases_access). */
bool cases_in_scope(core *c, const principal *p, const store_row *row);

/* ---- field-level rules (access.c) ---- */

/** True when the catalogue marks entity.name as identity data or free text. */
bool policy_is_identity(core *c, const char *entity, const char *name);
/** Removes the identity members of an entity's record. */
void policy_strip_identity(core *c, const char *entity, json_t *obj);
/** Removes identity fields from a full case record (and its children) when p may
 *  not see them, marking it "identity_hidden": true. */
void policy_redact_case(core *c, const principal *p, json_t *record);
/** AMP_EFORBIDDEN (naming each field) when fields hold identity members and p may
 *  not do `a` on RES_CASE_IDENTITY. */
amp_code policy_identity_write(core *c, const principal *p, const char *entity,
                               const json_t *fields, authz_action a, amp_err *err);
/** Records a refused access to a case in the audit trail. */
void policy_audit_denied(core *c, const principal *p, const char *key, authz_action a);

/** Restricts a case to named users ({"users": [...]}; the caller is always
 *  included) or, with users NULL, lifts the restriction. */
amp_code cases_restrict(core *c, const principal *p, const char *key, const json_t *users,
                        json_t **out, amp_err *err);

/** Erases a case (system admins): identity fields and free text of the case and
 *  its children are destroyed; what is not identifying stays for statistics when
 *  the consent allows it, otherwise only the registration facts stay.  The case
 *  can no longer change.  *out: {"id","reference","erased_at","statistics_kept"}. */
amp_code cases_erase(core *c, const principal *p, const char *key, json_t **out, amp_err *err);

/* ---- children of a case ------------------------------------------------------- */

amp_code children_create(core *c, const principal *p, const char *case_key, const child_kind *kind,
                         const json_t *body, core_done_fn done, void *arg, amp_err *err);
amp_code children_update(core *c, const principal *p, const char *case_key, const child_kind *kind,
                         const char *uid, const json_t *patch, int64_t if_match, core_done_fn done,
                         void *arg, amp_err *err);
amp_code children_delete(core *c, const principal *p, const char *case_key, const child_kind *kind,
                         const char *uid, int64_t if_match, core_done_fn done, void *arg,
                         amp_err *err);
amp_code children_get(core *c, const principal *p, const char *case_key, const child_kind *kind,
                      const char *uid, json_t **out, amp_err *err);
amp_code children_list(core *c, const principal *p, const char *case_key, const child_kind *kind,
                       json_t **out, amp_err *err);

/* ---- organisations -------------------------------------------------------------- */

/** Creates or replaces an organisation.  body: org_ fields plus "id" (a slug of
 *  [A-Za-z0-9._-], 1–64).  Synchronous. */
amp_code orgs_put(core *c, const principal *p, const json_t *body, json_t **out, amp_err *err);
amp_code orgs_list(core *c, const principal *p, json_t **out, amp_err *err);

/** The system's state for the system administrator (status.c): engine, version,
 *  number of cases and of audit entries.  *out is a new reference. */
amp_code core_status(core *c, const principal *p, json_t **out, amp_err *err);

/* ---- synchronous variants (CLI, tests) ------------------------------------------- */

amp_code cases_create_sync(core *c, const principal *p, const json_t *body, json_t **out,
                           amp_err *err);
amp_code cases_update_sync(core *c, const principal *p, const char *key, const json_t *patch,
                           int64_t if_match, json_t **out, amp_err *err);

/** Applies a merge patch to a case inside the caller's write job (validated,
 *  sealed, with its history row and audit entry, as cases_update does, but with
 *  no version check and no access check: the caller has made them).  For fields
 *  that follow other records (a referral's HTCDS fields), so that both commit
 *  together.  Nothing changes when the patch changes nothing. */
amp_code cases_tx_patch(store_tx *tx, core *c, const principal *p, const char *case_uid,
                        const json_t *patch, amp_err *err);
amp_code children_create_sync(core *c, const principal *p, const char *case_key,
                              const child_kind *kind, const json_t *body, json_t **out,
                              amp_err *err);

/* ---- bulk loading ------------------------------------------------------------------ */

/** Loads many cases in one transaction (demo data, imports): validate every one
 *  as cases_create does, then insert.  Call between store_bulk_begin and
 *  store_bulk_end.  Returns AMP_OK or the first case's error. */
amp_code cases_bulk_insert(core *c, const principal *p, const json_t *body, amp_err *err);

/* A bulk load prepared on worker threads and inserted in order by one thread
 * (imports): the same checks, defaults, sealing, terms, blind indexes, history
 * and audit entries as cases_create, with the per-row database round trips
 * replaced by per-load state.  Between store_bulk_begin and store_bulk_end:
 *   b = cases_bulk_open(c, p);
 *   on any threads: cases_bulk_prepare(b, body, &bc, &err);
 *   on one thread, in reference order: cases_bulk_add(b, bc, &err), then
 *   cases_bulk_case_free(bc) (on any thread);
 *   cases_bulk_close(b, commit, &err);   then store_bulk_end(s, commit)
 * Do not mix with cases_bulk_insert or other writes in the same transaction
 * (the load numbers references in memory). */
typedef struct cases_bulk cases_bulk;
typedef struct cases_bulk_case cases_bulk_case;

/** A new bulk load for principal p (copied).  NULL when out of memory. */
cases_bulk *cases_bulk_open(core *c, const principal *p);

/** Checks and prepares one case body as cases_create would.  The body is the
 *  caller's reference, but it is used up: its members may be moved into the
 *  case and changed, so only json_decref it afterwards.  Thread-safe: any number
 *  of threads may prepare at once.  AMP_OK with *out a new prepared case (for
 *  cases_bulk_add or cases_bulk_case_free), or the error (fields named in err)
 *  and *out NULL. */
amp_code cases_bulk_prepare(cases_bulk *b, json_t *body, cases_bulk_case **out, amp_err *err);

/** Numbers and inserts a prepared case (borrowed: free it afterwards with
 *  cases_bulk_case_free, on any thread) into the bulk transaction.  One thread
 *  at a time; references follow the order of calls.  AMP_OK or AMP_EINTERNAL. */
amp_code cases_bulk_add(cases_bulk *b, cases_bulk_case *bc, amp_err *err);

/** Frees a prepared case, added or not (NULL is fine). */
void cases_bulk_case_free(cases_bulk_case *bc);

/** Ends the load and frees b (NULL is fine): with write_back, first saves the
 *  reference sequences it counted in memory (call it before a commit).  AMP_OK
 *  or AMP_EINTERNAL. */
amp_code cases_bulk_close(cases_bulk *b, bool write_back, amp_err *err);

#endif
