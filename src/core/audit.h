/* audit.h — the tamper-evident audit trail.
 *
 * Every login, read of a case's identity data, create, update (field names, never
 * values), export, referral, permission change and admin action is an entry:
 * who, when, from which address, what.  Entries are append-only and hash-chained
 * (each commits to the one before), so `amparo audit verify` finds any changed,
 * removed, inserted or reordered entry.
 *
 * Two ways to record:
 *   - inside a write job (audit_tx): the entry commits in the same transaction as
 *     the data it records, so neither exists without the other;
 *   - on its own (audit_log): queued on the writer and durable before the call
 *     returns — a read's data is sent only after its audit entry is on disk.
 * `detail` is borrowed and must never hold identity values.
 *
 * The chain (docs/AUDIT.md): entry n holds seq n (1, 2, 3… dense), a UTC
 * timestamp that never goes backwards, the principal's actor, organisation and
 * address, the action, the object, the detail as compact JSON, prev = hash of
 * entry n-1 (64 '0' for the first) and
 *   hash_n = BLAKE2b-256 keyed with the audit key, over "amparo-audit-v1" then
 *            seq (8 bytes, big-endian) then each of at, actor, org, addr, action,
 *            object_type, object_id, detail, prev as (8-byte big-endian length,
 *            bytes).
 * The 32-byte audit key lives in the data directory (audit.key, mode 0600), not
 * in the database: whoever can write the database but not read the key cannot
 * forge a consistent chain.  Text fields are made safe before hashing (invalid
 * UTF-8 and control characters become '?', lengths are bounded), so what is
 * stored is exactly what was hashed. */
#ifndef AMPARO_AUDIT_H
#define AMPARO_AUDIT_H

#include "core/authz.h"
#include "core/core.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct core core;

#define AUDIT_KEY_BYTES 32
#define AUDIT_KEY_FILE "audit.key"

/* Bounds on what an entry stores, in bytes with the NUL (longer text is cut at a
 * character boundary); a detail over AUDIT_MAX_DETAIL is replaced by a note. */
#define AUDIT_MAX_ACTOR 72
#define AUDIT_MAX_ORG 72
#define AUDIT_MAX_ADDR 64
#define AUDIT_MAX_ACTION 64
#define AUDIT_MAX_OBJECT_TYPE 32
#define AUDIT_MAX_OBJECT_ID 128
#define AUDIT_MAX_DETAIL 8192

/** Appends an entry inside a write job.  action: "case.create", "login.failure"…;
 *  object_type/object_id: what it is about ("case", uid), may be NULL.  p may be
 *  NULL (actor "system").  Returns STORE_OK or STORE_ERROR (the job should then
 *  fail, so its data is rolled back with the missing entry). */
int audit_tx(store_tx *tx, const principal *p, const char *action, const char *object_type,
             const char *object_id, const json_t *detail);

/** Appends an entry and waits until it is durable.  AMP_OK or AMP_EINTERNAL. */
amp_code audit_log(core *c, const principal *p, const char *action, const char *object_type,
                   const char *object_id, const json_t *detail, amp_err *err);

/** Called once an audit_submit entry is durable (AMP_OK) or failed
 *  (AMP_EINTERNAL), on the store's completion thread (or, when the store
 *  refuses the job, on the thread that submitted it or ended its round). */
typedef void (*audit_done_fn)(void *arg, amp_code code);

/** audit_log without waiting: copies everything it needs (p, strings, detail)
 *  and queues the entry; done (may be NULL) runs after the commit.  For
 *  asynchronous handlers that answer from the callback (a read's data is sent
 *  only once done reports AMP_OK).  Returns AMP_OK (done will run) or
 *  AMP_EINTERNAL (it will not). */
amp_code audit_submit(core *c, const principal *p, const char *action, const char *object_type,
                      const char *object_id, const json_t *detail, audit_done_fn done, void *arg,
                      amp_err *err);

/** Opens a round on the calling thread: until audit_round_end, audit_submit
 *  keeps this thread's entries instead of queueing them for the writer thread.
 *  For a server thread that runs one round of ready requests at a time. */
void audit_round_begin(void);

/** Closes the round: hands its entries to the writer as one job (appended in
 *  order, in one commit with whatever else is queued); their callbacks run on
 *  the store's completion thread once that commit is durable, or here at once
 *  (AMP_EINTERNAL) if the store refuses the job.  Returns the number of
 *  entries (0: the round submitted nothing). */
size_t audit_round_end(core *c);

/* ---- reads: recorded through the read journal ----------------------------------- */

/** The text of an entry before it joins the chain: made safe and bounded (the
 *  AUDIT_MAX_* sizes), the detail serialised.  at is "" (the entry takes the
 *  time it joins the chain) or the time it happened (the read journal). */
typedef struct {
    char at[32];
    char actor[AUDIT_MAX_ACTOR], org[AUDIT_MAX_ORG], addr[AUDIT_MAX_ADDR];
    char action[AUDIT_MAX_ACTION], object_type[AUDIT_MAX_OBJECT_TYPE];
    char object_id[AUDIT_MAX_OBJECT_ID];
    char *detail; /* malloc'd compact JSON */
} audit_fields;

/** Fills f as an entry for p (the same rules as every entry).  0, or -1 when
 *  out of memory.  Release with audit_fields_release. */
int audit_fields_prepare(audit_fields *f, const principal *p, const char *action,
                         const char *object_type, const char *object_id, const json_t *detail);
void audit_fields_release(audit_fields *f);

/** Appends entries, in order, after the head the job sees (a write job).
 *  STORE_OK or STORE_ERROR. */
int audit_tx_append_fields(store_tx *tx, const audit_fields *const *list, size_t n);

/** Records a read (of a case, a list, a referral…).  With a read journal on
 *  the core (core_set_read_journal: `amparo serve`), the entry is in the
 *  journal when this returns, so it survives a crash of the process, and joins
 *  the chain at the journal's next commit, a few milliseconds later
 *  (docs/AUDIT.md, "Reads: the read journal").  Without one (the CLI, or
 *  read_audit=durable in amparo.conf) it is audit_log: durable on return.
 *  AMP_OK, or AMP_EINTERNAL and the read must show nothing. */
amp_code audit_read(core *c, const principal *p, const char *action, const char *object_type,
                    const char *object_id, const json_t *detail, amp_err *err);

/** audit_read with the detail as text that is already compact JSON with sorted
 *  keys and ASCII only (what the trail stores), e.g. "{\"identity\":true}":
 *  for the hottest reads, which need not build and serialise a document. */
amp_code audit_read_json(core *c, const principal *p, const char *action, const char *object_type,
                         const char *object_id, const char *detail_json, amp_err *err);

/** Waits until every read recorded so far is in the chain (before listing or
 *  verifying the trail).  A no-op without a read journal.  AMP_OK or
 *  AMP_EINTERNAL. */
amp_code audit_reads_settle(core *c, amp_err *err);

/* ---- the key ---------------------------------------------------------------------- */

/** Loads DIR/audit.key into the process-wide audit key, creating the file
 *  (32 random bytes, mode 0600, fsynced) when it does not exist.  Refuses a key
 *  file that is not 32 bytes or that group or others may read or write.  Call
 *  once at start-up, before any entry is written (amparo serve, cli_env_open).
 *  Returns 0, or -1 with a message in err. */
int audit_load_key(const char *data_dir, char *err, size_t errlen);

/** Reads DIR/audit.key into key without creating it: 0, or -1 with err (also
 *  when the file is missing). */
int audit_read_key(const char *data_dir, uint8_t key[AUDIT_KEY_BYTES], char *err, size_t errlen);

/** Creates DIR/audit.key when missing (amparo init): 0 (created or already
 *  there) or -1 with err. */
int audit_create_key(const char *data_dir, char *err, size_t errlen);

/** Sets the process-wide key (tests, tools).  Until a key is set or loaded the
 *  process key is all zeros, which verification with the real key rejects. */
void audit_set_key(const uint8_t key[AUDIT_KEY_BYTES]);

/** True once audit_set_key or audit_load_key succeeded. */
bool audit_key_loaded(void);

/** Computes the chain hash of e (from its seq, fields and prev) as 64 hex digits
 *  plus NUL into out. */
void audit_entry_hash(const uint8_t key[AUDIT_KEY_BYTES], const store_audit_entry *e, char out[65]);

/** A MAC of text under the audit key (keyed BLAKE2b-128, "amparo-journal-v1"
 *  first) as 32 hex digits plus NUL: what the read journal puts on each line. */
void audit_text_mac(const char *text, size_t len, char out[33]);

/* ---- verification ------------------------------------------------------------------ */

typedef enum {
    AUDIT_INTACT = 0,
    AUDIT_HASH_MISMATCH, /* the entry's fields do not give its hash (changed, forged) */
    AUDIT_SEQ_GAP,       /* an entry is missing: seq is not the previous + 1 */
    AUDIT_PREV_MISMATCH, /* prev is not the hash of the entry before (reordered, inserted) */
    AUDIT_TIME_ORDER,    /* the timestamp is earlier than the previous entry's */
    AUDIT_HEAD_MISMATCH, /* the entry at the expected head has another hash */
    AUDIT_TRUNCATED,     /* the trail ends before the expected head */
    AUDIT_READ_ERROR,    /* the database could not be read */
    /* the chain verifies, but what filtered lists read does not match it: */
    AUDIT_FIELD_TYPE,    /* an entry's column is not plain text (a blob, NULL, a NUL byte) */
    AUDIT_INDEX_MISSING, /* an entry has no row in the lookup table audit_keys for its key */
    AUDIT_INDEX_EXTRA,   /* audit_keys has a row that no entry gives */
    AUDIT_INDEX_UPTO     /* audit_keys_upto is missing, not a number, or out of its range */
} audit_problem;

/** A recorded head, "SEQ:HASH", to check truncation against. */
typedef struct {
    int64_t seq;
    char hash[65];
} audit_checkpoint;

typedef struct {
    audit_problem problem;
    int64_t entries;                /* entries read (all of them when intact) */
    int64_t head_seq;               /* the last entry that checked out (0: none) */
    char head_hash[65];             /* its hash ("" when none) */
    int64_t bad_seq;                /* the first bad entry (0 when intact) */
    char key[STORE_AUDIT_KEY_TEXT]; /* AUDIT_INDEX_*: the key concerned ("a:" actor or
                                       "o:" object id, made safe), or "" */
    int64_t index_rows;             /* rows of audit_keys compared */
    char message[480];              /* what is wrong, in English, naming bad_seq */
} audit_verify_result;

/** Walks the whole trail in seq order and checks every link (seq dense from 1,
 *  prev, hash under key, timestamps not decreasing) and, when expect is not
 *  NULL, that the entry expect->seq exists with expect->hash.  Stops at the first
 *  problem.  When the chain verifies, it checks in the same pass and snapshot
 *  what lists filtered by actor or object rely on (store_audit_scan_checked):
 *  each entry's columns are text, and the lookup table audit_keys holds exactly
 *  the entries' keys (AUDIT_FIELD_TYPE, then AUDIT_INDEX_UPTO, then
 *  AUDIT_INDEX_MISSING or AUDIT_INDEX_EXTRA at the lowest seq).  key NULL: the
 *  process key.  Returns 0 intact, 1 tampered, -1 when the store could not be
 *  read (out->problem AUDIT_READ_ERROR). */
int audit_verify(store *s, const uint8_t *key, const audit_checkpoint *expect,
                 audit_verify_result *out);

/** "intact", "hash_mismatch", "sequence_gap", "prev_mismatch", "time_order",
 *  "head_mismatch", "truncated", "read_error", "field_type", "index_missing",
 *  "index_extra", "index_upto". */
const char *audit_problem_name(audit_problem p);

/** True for the problems audit_repair_index mends (AUDIT_INDEX_*): the chain
 *  verifies and only the derived lookup table is wrong. */
bool audit_problem_is_index(audit_problem p);

/** The result as JSON: {"intact", "entries", "head": {"seq","hash"} | null,
 *  and when tampered "problem", "seq", "message"}.  A new object. */
json_t *audit_verify_json(const audit_verify_result *r);

/** Parses "SEQ:HASH" (seq ≥ 1, 64 lower-case hex digits): 0, or -1. */
int audit_checkpoint_parse(const char *text, audit_checkpoint *out);

/** The newest entry's seq and hash (0 and "" when the trail is empty): 0, or -1. */
int audit_head(store *s, audit_checkpoint *out);

/** Checks the newest entry alone against key (NULL: the process key), a cheap
 *  start-up test that the key in use is the trail's: 1 when it verifies or the
 *  trail is empty, 0 when it does not (another key, or a changed head), -1 on a
 *  read error.  Not a verification: audit_verify walks the whole chain. */
int audit_head_matches_key(store *s, const uint8_t *key);

/* ---- the core's audit functions (HTTP and CLI) ---------------------------------------- */

#define AUDIT_DEFAULT_LIMIT 50
#define AUDIT_MAX_LIMIT 500

/** Audit list filters parsed from list parameters.  q's strings point into the
 *  parameters (keep them alive) and into from/to (do not copy the struct while
 *  q is in use). */
typedef struct {
    store_audit_query q;
    char from[32], to[32]; /* normalised bounds "YYYY-MM-DDTHH:MM:SS.mmmZ" */
    json_t *filters;       /* the filters given, {name: value} (owned) */
} audit_filters;

/** Parses the parameters audit_query takes (see there) with messages in lang.
 *  AMP_OK (release out with audit_filters_release), or AMP_EBADREQ with one
 *  field error per bad parameter (out then needs no release). */
amp_code audit_filters_parse(const list_param *params, size_t nparams, const char *lang,
                             audit_filters *out, amp_err *err);
void audit_filters_release(audit_filters *f);

/** Parses audit_check's parameters (expect_head): AMP_OK (*have_expect tells
 *  whether *expect was filled) or AMP_EBADREQ naming each bad parameter. */
amp_code audit_verify_params_parse(const list_param *params, size_t nparams, const char *lang,
                                   audit_checkpoint *expect, bool *have_expect, amp_err *err);

/** Copies s (NULL: "") into out[n] as valid UTF-8 without control characters:
 *  each invalid or control byte becomes '?'; cut at a character boundary. */
void audit_safe_text(const char *s, char *out, size_t n);

/** Lists entries.  Parameters: actor, action, object_type, object_id, org,
 *  from, to (YYYY-MM-DD, or a UTC time YYYY-MM-DDTHH:MM[:SS[.mmm]]Z; inclusive),
 *  order (desc, the default: newest first; asc), limit (1–500, default 50),
 *  offset.  Requires ACT_READ on RES_AUDIT; the read is itself recorded
 *  ("audit.read", durable before the answer; a refusal is recorded as
 *  "audit.denied").  *out: {"items": [entry…], "total", "limit", "offset"},
 *  each entry {"seq","at","actor","org","addr","action","object_type",
 *  "object_id","detail","prev","hash"} (absent values null).  Bad parameters:
 *  AMP_EBADREQ naming each. */
amp_code audit_query(core *c, const principal *p, const list_param *params, size_t nparams,
                     json_t **out, amp_err *err);

/** Verifies the trail (audit_verify with the process key) for a principal
 *  allowed ACT_READ on RES_AUDIT; parameter expect_head=SEQ:HASH is optional.
 *  Recorded as "audit.verify" (after the walk, with its outcome).  *out: the
 *  result of audit_verify_json (a tampered trail is AMP_OK with intact false). */
amp_code audit_check(core *c, const principal *p, const list_param *params, size_t nparams,
                     json_t **out, amp_err *err);

typedef struct {
    int64_t removed, added; /* rows of audit_keys */
} audit_repair_result;

/** Rebuilds the lookup table audit_keys from the entries (rows no entry gives
 *  removed, missing rows added, audit_keys_upto set to the last entry) in one
 *  write job, recorded in the same transaction as "audit.index_repair" with
 *  what found says was wrong (problem, seq; may be NULL) and the counts.
 *  Requires ACT_ADMIN on RES_AUDIT, which no role has: the local operator
 *  (internal principal, `amparo audit verify --repair-index`) only; a refusal
 *  is recorded as "audit.denied".  Run it after audit_verify found only an
 *  AUDIT_INDEX_* problem: a table rebuilt from entries that do not verify
 *  proves nothing.  AMP_OK, AMP_EFORBIDDEN or AMP_EINTERNAL. */
amp_code audit_repair_index(core *c, const principal *p, const audit_verify_result *found,
                            audit_repair_result *out, amp_err *err);

/* ---- bulk loads -------------------------------------------------------------------- */

/** The chain head kept in memory by one bulk transaction (imports), so its
 *  entries need not read the head back for every row.  Zero-initialise; valid
 *  only inside the one transaction it was used in. */
typedef struct {
    bool loaded;
    int64_t seq;
    char prev[65];
    char last_at[32];
} audit_chain;

/** The detail text an entry stores for `detail` (compact, sorted keys, ASCII;
 *  "{}" for NULL; oversized detail replaced by a note).  New malloc'd text, NULL
 *  when out of memory.  Thread-safe: bulk loads serialise details on their
 *  worker threads. */
char *audit_detail_text(const json_t *detail);

/** audit_tx for a bulk transaction: the head comes from *chain (read from the
 *  store on first use) and *chain moves on with the entry.  detail_text is
 *  text made by audit_detail_text (or the same form).  The same entry, hash
 *  and chain as audit_tx; STORE_OK or STORE_ERROR. */
int audit_tx_chain(store_tx *tx, audit_chain *chain, const principal *p, const char *action,
                   const char *object_type, const char *object_id, const char *detail_text);

#endif
