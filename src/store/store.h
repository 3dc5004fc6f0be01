/* store.h — the storage interface the domain core writes and reads through.
 *
 * One implementation per engine (store_sqlite.c now; PostgreSQL later) fills a
 * store_ops table.  The store knows rows, documents and indexes, not HTCDS: the
 * core decides what a case is and which terms it is filtered by.
 *
 * Writes are jobs.  A job is a function the store runs inside a transaction with
 * a store_tx handle; the SQLite store runs many queued jobs in one transaction
 * (each in its own savepoint, so one failing job rolls back alone) and one fsync:
 * group commit.  A job's done callback runs only once its writes are durable, or
 * with a failure code if they were not.  Reads run on their own connections and
 * see the last committed state.
 *
 * Thread-safety: every function may be called from any thread, except store_tx_*
 * which are valid only inside the job that received the tx. */
#ifndef AMPARO_STORE_H
#define AMPARO_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct store store;
typedef struct store_tx store_tx;

/* Return codes of store functions and jobs. */
enum {
    STORE_OK = 0,
    STORE_NOTFOUND = 1,
    STORE_CONFLICT = 2, /* expected version did not match */
    STORE_EXISTS = 3,   /* unique key already present */
    STORE_ERROR = 4     /* engine failure (logged) */
    /* jobs may return any other positive value of their own; it is passed to done */
};

/** A stored row: a case, a case's child record or an organisation. */
typedef struct {
    int64_t id;         /* internal row id; never shown to users */
    int64_t case_id;    /* children: the row id of their case */
    char uid[40];       /* stable public identifier (UUID) or organisation slug */
    char reference[40]; /* cases: "EC-2026-000154" */
    char kind[24];      /* children: "event", "comment", "support_plan", "perpetrator" */
    int64_t version;
    char created_at[32], updated_at[32];
    char created_by[72], updated_by[72];
    char registered_on[12];  /* cases: "YYYY-MM-DD" */
    char owner_org[72];      /* cases: owning organisation id, may be empty */
    char sort_key[48];       /* children: order within their kind (set by the core) */
    char restricted_to[512]; /* cases: ",user1,user2," when restricted to named users, or "" */
    json_t *doc;             /* owned */
    const char *doc_text;    /* writes: doc already serialised (borrowed), or NULL */
    char *raw;               /* raw reads: the stored document text (owned), doc NULL */
} store_row;

/** Releases the row's document and raw text (the struct itself is the caller's). */
void store_row_release(store_row *r);

/** Sort keys of case lists. */
typedef enum { SORT_REGISTERED, SORT_REFERENCE, SORT_CREATED, SORT_UPDATED } store_sort;

#define STORE_MAX_TERM_FILTERS 16
#define STORE_MAX_TERM_VALUES 32

/** A case list query.  Term filters are ANDed; values within one are ORed. */
typedef struct {
    struct {
        const char *field;
        const char *values[STORE_MAX_TERM_VALUES];
        int nvalues;
    } terms[STORE_MAX_TERM_FILTERS];
    int nterms;
    const char *registered_from, *registered_to; /* inclusive dates, or NULL */
    const char *reference_prefix;                /* or NULL */
    const char *owner_org;                       /* or NULL */
    const char *scope_org;  /* only cases owned by or shared with this organisation, or NULL */
    const char *scope_user; /* ",name,": hide cases restricted to other users, or NULL */
    store_sort sort;
    bool descending;
    int limit, offset;
} store_query;

/** A domain record that is not a case or one of its HTCDS children: referrals,
 *  assistance, shelter stays, hotline contacts, trainings, visits…  The store
 *  keeps the document and indexes the columns below; the core gives them meaning. */
typedef struct {
    int64_t id;        /* internal row id */
    char kind[32];     /* "referral", "assistance", "stay"… */
    char uid[40];      /* stable public identifier (UUID) */
    char case_uid[40]; /* the case it belongs to, or "" */
    char org[72];      /* owning organisation, or "" */
    char org2[72];     /* a second organisation (the receiver of a referral…), or "" */
    char status[32];   /* workflow status, or "" */
    char due[32];      /* a date or timestamp to filter and sort on (deadline…), or "" */
    int64_t version;   /* 1 on insert, +1 per update */
    char created_at[32], updated_at[32];
    char created_by[72], updated_by[72];
    json_t *doc; /* owned */
} store_record;

/** Releases the record's document. */
void store_record_release(store_record *r);

/** A record list query: kind is required; every other filter is optional (NULL). */
typedef struct {
    const char *kind;
    const char *case_uid;
    const char *org, *org2;
    const char *org_any;           /* org = X or org2 = X */
    const char *status;            /* one status, or several separated by ',' */
    const char *due_before;        /* due < X (and due not empty) */
    const char *due_from, *due_to; /* inclusive */
    bool by_due;                   /* order by due, then id (default: by id) */
    bool descending;
    int limit; /* 0: no limit (scans) */
    int offset;
} store_record_query;

/** A user account. */
typedef struct {
    int64_t id;
    char username[64];
    char org[72];      /* organisation id, "" for none (system admins) */
    uint32_t roles;    /* ROLE_* mask (core/authz.h) */
    char pw_hash[160]; /* crypto_pwhash_str (argon2id) string */
    bool disabled;
    char lang[8];
    char display_name[128];
    char totp_secret[200]; /* the TOTP secret, sealed by the core; "" when not enrolled */
    bool totp_enabled;     /* enrolment confirmed */
    int64_t version;
    char created_at[32], updated_at[32], password_changed_at[32];
} store_user;

/** A login session or an API token; the token itself is never stored, only a hash. */
typedef struct {
    char token_hash[72]; /* hex */
    int64_t user_id;
    char kind[12];  /* "session" or "api" */
    char name[64];  /* API tokens: what it is for */
    uint32_t roles; /* the scope: a subset of the user's roles */
    char csrf[64];  /* sessions: the CSRF token */
    int64_t created_ms, last_seen_ms, expires_ms, idle_ms; /* idle_ms 0: no idle expiry */
    char addr[64];
    bool mfa_pending; /* password accepted, second factor still to enrol */
} store_session;

/** One entry of the audit trail (see core/audit.h for what it means and how
 *  the chain is built; the store only keeps and returns rows).  On reads every
 *  string is owned by the entry (release with store_audit_entry_release); on
 *  appends they are borrowed.  Text fields are never NULL on reads. */
typedef struct {
    int64_t seq;       /* 1, 2, 3… dense */
    char at[32];       /* UTC "YYYY-MM-DDTHH:MM:SS.mmmZ" */
    const char *actor; /* who */
    const char *org;   /* their organisation, or "" */
    const char *addr;  /* client address, or "" */
    const char *action;
    const char *object_type, *object_id; /* or "" */
    const char *detail;                  /* compact JSON text */
    char prev[65];                       /* hex hash of entry seq-1 (64 '0' for the first) */
    char hash[65];                       /* hex hash of this entry */
} store_audit_entry;

/** Frees the strings of an entry read from the store (not the struct). */
void store_audit_entry_release(store_audit_entry *e);

/** An audit list query: every filter optional (NULL or 0). */
typedef struct {
    const char *actor, *action, *object_type, *object_id, *org;
    const char *at_from, *at_to; /* inclusive bounds on `at`, same format */
    bool ascending;              /* oldest first (default: newest first) */
    int limit;                   /* 1..; 0: no limit */
    int offset;
} store_audit_query;

/** Called for each entry of a scan, in seq order; return non-zero to stop
 *  (the scan then returns that value).  The entry is valid during the call only. */
typedef int (*store_audit_scan_fn)(void *arg, const store_audit_entry *e);

/** What a verifying scan found wrong with the stored form of the trail beyond
 *  the chain: the lookup table audit_keys (bucket, k, seq), derived from the
 *  entries, which lists filtered by actor or object read; its high-water mark
 *  audit_keys_upto; and the type of the entries' columns, which filters compare. */
typedef enum {
    STORE_AUDIT_KEYS_OK = 0,
    STORE_AUDIT_KEYS_MISSING, /* entry seq (<= upto) has no row for key */
    STORE_AUDIT_KEYS_EXTRA,   /* a row (key, seq) that no entry gives, or beyond upto */
    STORE_AUDIT_KEYS_UPTO,    /* audit_keys_upto missing, not a number, or out of its range */
    STORE_AUDIT_FIELD_TYPE,   /* entry seq has a column that is not text (or holds a NUL) */
} store_audit_keys_problem;

#define STORE_AUDIT_KEY_TEXT 192
typedef struct {
    store_audit_keys_problem problem; /* the first one found */
    bool complete;                    /* every entry was compared (the scan was not stopped) */
    int64_t seq;                      /* the entry, the row's seq, or upto (see problem) */
    char key[STORE_AUDIT_KEY_TEXT];   /* the key as stored ('a:' actor or 'o:' object id),
                                         cut, NUL bytes as '?'; any other bytes as found */
    char what[160];                   /* what is wrong, in English, without the key */
    int64_t upto;                     /* audit_keys_upto as read (-1: none) */
    int64_t rows;                     /* rows of audit_keys read */
} store_audit_keys_check;
/** A case's wrapped data key (see core/casekey.h). */
#define STORE_WRAPPED_MAX 128
typedef struct store_case_key {
    char case_uid[40];
    int gen; /* master key generation that wraps it */
    unsigned char wrapped[STORE_WRAPPED_MAX];
    size_t len;
} store_case_key;

typedef int (*store_job_fn)(store_tx *tx, void *arg);
typedef void (*store_done_fn)(void *arg, int rc);

typedef struct store_ops {
    const char *engine;
    void (*close)(store *s);
    int (*submit)(store *s, store_job_fn job, store_done_fn done, void *arg);
    int (*case_get)(store *s, const char *key, store_row *out, json_t **children);
    int (*case_get_raw)(store *s, const char *key, store_row *out, store_row **children,
                        int *nchildren, store_case_key *key_out);
    int (*case_list)(store *s, const store_query *q, store_row **rows, int *nrows, int64_t *total);
    int (*child_get)(store *s, const char *case_key, const char *kind, const char *uid,
                     store_row *out);
    int (*history)(store *s, const char *case_key, json_t **out);
    int (*org_get)(store *s, const char *id, store_row *out);
    int (*org_list)(store *s, store_row **rows, int *nrows);
    int (*count_cases)(store *s, int64_t *n);
    int (*bulk_begin)(store *s);
    int (*bulk_end)(store *s, bool commit);
    store_tx *(*bulk_tx)(store *s);

    /* inside a job */
    int (*tx_case_get)(store_tx *tx, const char *key, store_row *out);
    int (*tx_case_insert)(store_tx *tx, store_row *r, const json_t *terms);
    int (*tx_case_update)(store_tx *tx, store_row *r, int64_t expected_version,
                          const json_t *terms);
    int (*tx_children)(store_tx *tx, int64_t case_id, json_t **out);
    int (*tx_child_get)(store_tx *tx, int64_t case_id, const char *kind, const char *uid,
                        store_row *out);
    int (*tx_child_insert)(store_tx *tx, store_row *r);
    int (*tx_child_update)(store_tx *tx, store_row *r, int64_t expected_version);
    int (*tx_child_delete)(store_tx *tx, int64_t case_id, const char *kind, const char *uid);
    int (*tx_history_add)(store_tx *tx, int64_t case_id, int64_t version, const char *at,
                          const char *actor, const char *action, const char *target,
                          const json_t *fields);
    int (*tx_next_sequence)(store_tx *tx, const char *name, int64_t *value);
    int (*tx_org_put)(store_tx *tx, store_row *r);

    /* generic domain records (sqlite_records.c) */
    int (*record_get)(store *s, const char *kind, const char *uid, store_record *out);
    int (*record_list)(store *s, const store_record_query *q, store_record **rows, int *nrows,
                       int64_t *total);
    int (*tx_record_get)(store_tx *tx, const char *kind, const char *uid, store_record *out);
    int (*tx_record_put)(store_tx *tx, store_record *r, int64_t expected_version);
    int (*tx_record_delete)(store_tx *tx, const char *kind, const char *uid);
    /* organisations given access to a case besides its owner (accepted referrals) */
    int (*case_orgs)(store *s, int64_t case_id, json_t **out);
    int (*tx_case_grant)(store_tx *tx, int64_t case_id, const char *org, const char *via,
                         const char *at);
    int (*tx_case_revoke)(store_tx *tx, int64_t case_id, const char *org);

    /* accounts and sessions (sqlite_security.c) */
    int (*user_get)(store *s, const char *username, int64_t id, store_user *out);
    int (*user_list)(store *s, const char *org, store_user **rows, int *nrows);
    int (*user_count)(store *s, int64_t *n);
    int (*tx_user_put)(store_tx *tx, store_user *u, int64_t expected_version);
    int (*session_get)(store *s, const char *token_hash, store_session *out);
    int (*session_list)(store *s, int64_t user_id, const char *kind, store_session **rows,
                        int *nrows);
    int (*tx_session_put)(store_tx *tx, const store_session *ss);
    int (*tx_session_delete)(store_tx *tx, const char *token_hash, int64_t user_id,
                             const char *kind);
    int (*tx_session_touch)(store_tx *tx, const char *token_hash, int64_t last_seen_ms);
    int (*tx_case_restrict)(store_tx *tx, int64_t case_id, const char *users);
    /* the audit trail (sqlite_audit.c) */
    int (*tx_audit_head)(store_tx *tx, store_audit_entry *out);
    int (*tx_audit_append)(store_tx *tx, const store_audit_entry *e);
    int (*audit_head)(store *s, store_audit_entry *out);
    int (*audit_list)(store *s, const store_audit_query *q, store_audit_entry **rows, int *nrows,
                      int64_t *total);
    int (*audit_scan)(store *s, store_audit_scan_fn fn, void *arg);

    /* per-case data keys, wrapped by a master key generation (sqlite_keys.c) */
    int (*key_get)(store *s, const char *case_uid, int *gen, unsigned char *wrapped, size_t *len);
    int (*key_counts)(store *s, json_t **out);
    int (*checkpoint)(store *s);
    int (*tx_key_get)(store_tx *tx, const char *case_uid, int *gen, unsigned char *wrapped,
                      size_t *len);
    int (*tx_key_put)(store_tx *tx, const char *case_uid, int gen, const unsigned char *wrapped,
                      size_t len, const char *at);
    int (*tx_key_delete)(store_tx *tx, const char *case_uid);
    int (*tx_keys_below)(store_tx *tx, int gen_below, int limit, store_case_key *out, int *n);

    int (*tx_record_list)(store_tx *tx, const store_record_query *q, store_record **rows,
                          int *nrows, int64_t *total);
    /* bulk loads (sqlite_bulk.c) */
    int (*tx_sequence_get)(store_tx *tx, const char *name, int64_t *value);
    int (*tx_sequence_set)(store_tx *tx, const char *name, int64_t value);
    int (*tx_history_add_text)(store_tx *tx, int64_t case_id, int64_t version, const char *at,
                               const char *actor, const char *action, const char *target,
                               const char *fields_text);
    /* the audit trail's lookup table checked and rebuilt (sqlite_audit.c) */
    int (*audit_scan_checked)(store *s, store_audit_scan_fn fn, void *arg,
                              store_audit_keys_check *check);
    int (*tx_audit_keys_rebuild)(store_tx *tx, int64_t *removed, int64_t *added);
    int (*tx_field_list_add)(store_tx *tx, const char *fields_text, int64_t *id);
    int (*tx_audit_append_n)(store_tx *tx, const store_audit_entry *e, size_t n);
} store_ops;

/** Every store starts with this header. */
struct store {
    const store_ops *ops;
};

/* ---- engines ------------------------------------------------------------ */

/** Opens (creating if needed) the SQLite database at path, applies pending
 *  migrations, and starts the writer thread.  NULL on failure, with err set. */
store *store_sqlite_open(const char *path, char *err, size_t errlen);

/* ---- calls (thin wrappers over ops, so callers never see the engine) ----- */

static inline void store_close(store *s)
{
    if (s)
        s->ops->close(s);
}

/** Queues a write job; `done` (may be NULL) runs on the writer thread after the
 *  commit.  Returns STORE_OK or STORE_ERROR if the store is shutting down. */
static inline int store_submit(store *s, store_job_fn job, store_done_fn done, void *arg)
{
    return s->ops->submit(s, job, done, arg);
}

/** Runs a write job and waits until it is durable; returns the job's code, or
 *  STORE_ERROR if the commit failed. */
int store_run(store *s, store_job_fn job, void *arg);

/** Reads a case by uid or reference.  *children (if children is not NULL) receives
 *  an object {"event": [...], "comment": [...], ...} of child rows as JSON objects
 *  {"id", "version", "created_at", …, "doc"}. */
static inline int store_case_get(store *s, const char *key, store_row *out, json_t **children)
{
    return s->ops->case_get(s, key, out, children);
}

/** Reads a case and its children without parsing their documents: each row's
 *  `raw` holds the stored JSON text.  *children (free each with store_row_release,
 *  then free()) come ordered by kind, then sort_key, then creation.  When key_out
 *  is not NULL it receives the case's wrapped data key from the same snapshot
 *  (key_out->len 0: the case has none). */
static inline int store_case_get_raw(store *s, const char *key, store_row *out,
                                     store_row **children, int *nchildren, store_case_key *key_out)
{
    return s->ops->case_get_raw(s, key, out, children, nchildren, key_out);
}

/** Lists cases; *rows (free each with store_row_release, then free()) */
static inline int store_case_list(store *s, const store_query *q, store_row **rows, int *nrows,
                                  int64_t *total)
{
    return s->ops->case_list(s, q, rows, nrows, total);
}

static inline int store_child_get(store *s, const char *case_key, const char *kind, const char *uid,
                                  store_row *out)
{
    return s->ops->child_get(s, case_key, kind, uid, out);
}

/** The change history of a case: a new array of {version, at, actor, action, target, fields}. */
static inline int store_history(store *s, const char *case_key, json_t **out)
{
    return s->ops->history(s, case_key, out);
}

static inline int store_org_get(store *s, const char *id, store_row *out)
{
    return s->ops->org_get(s, id, out);
}

static inline int store_org_list(store *s, store_row **rows, int *nrows)
{
    return s->ops->org_list(s, rows, nrows);
}

static inline int store_count_cases(store *s, int64_t *n)
{
    return s->ops->count_cases(s, n);
}

/** Bulk loading (demo data, imports): one long transaction on the writer's
 *  connection, outside the job queue.  Between bulk_begin and bulk_end no job runs. */
static inline int store_bulk_begin(store *s)
{
    return s->ops->bulk_begin(s);
}
static inline int store_bulk_end(store *s, bool commit)
{
    return s->ops->bulk_end(s, commit);
}
static inline store_tx *store_bulk_tx(store *s)
{
    return s->ops->bulk_tx(s);
}

/* ---- inside a job --------------------------------------------------------- */
/* A tx handle knows its store; these dispatch through it. */
const store_ops *store_tx_ops(store_tx *tx);

static inline int store_tx_case_get(store_tx *tx, const char *key, store_row *out)
{
    return store_tx_ops(tx)->tx_case_get(tx, key, out);
}
/** Inserts a case row; fills r->id.  terms: object {filter: [values]} to index. */
static inline int store_tx_case_insert(store_tx *tx, store_row *r, const json_t *terms)
{
    return store_tx_ops(tx)->tx_case_insert(tx, r, terms);
}
/** Replaces a case row whose version is expected_version (else STORE_CONFLICT);
 *  terms replaces the case's indexed terms when not NULL. */
static inline int store_tx_case_update(store_tx *tx, store_row *r, int64_t expected_version,
                                       const json_t *terms)
{
    return store_tx_ops(tx)->tx_case_update(tx, r, expected_version, terms);
}
/** The case's children as an object {kind: [{"id", "version", …, "doc"}]}, each
 *  kind's rows ordered by sort_key, then creation. */
static inline int store_tx_children(store_tx *tx, int64_t case_id, json_t **out)
{
    return store_tx_ops(tx)->tx_children(tx, case_id, out);
}
static inline int store_tx_child_get(store_tx *tx, int64_t case_id, const char *kind,
                                     const char *uid, store_row *out)
{
    return store_tx_ops(tx)->tx_child_get(tx, case_id, kind, uid, out);
}
static inline int store_tx_child_insert(store_tx *tx, store_row *r)
{
    return store_tx_ops(tx)->tx_child_insert(tx, r);
}
static inline int store_tx_child_update(store_tx *tx, store_row *r, int64_t expected_version)
{
    return store_tx_ops(tx)->tx_child_update(tx, r, expected_version);
}
static inline int store_tx_child_delete(store_tx *tx, int64_t case_id, const char *kind,
                                        const char *uid)
{
    return store_tx_ops(tx)->tx_child_delete(tx, case_id, kind, uid);
}
static inline int store_tx_history_add(store_tx *tx, int64_t case_id, int64_t version,
                                       const char *at, const char *actor, const char *action,
                                       const char *target, const json_t *fields)
{
    return store_tx_ops(tx)->tx_history_add(tx, case_id, version, at, actor, action, target,
                                            fields);
}
/** Increments the named counter and returns its new value (first value: 1). */
static inline int store_tx_next_sequence(store_tx *tx, const char *name, int64_t *value)
{
    return store_tx_ops(tx)->tx_next_sequence(tx, name, value);
}
/** Inserts or replaces an organisation (uid = its id, doc, updated_at); fills
 *  r->version (1, or the previous version + 1) and r->created_at. */
static inline int store_tx_org_put(store_tx *tx, store_row *r)
{
    return store_tx_ops(tx)->tx_org_put(tx, r);
}

/* ---- generic domain records ------------------------------------------------ */

/** Reads one record of a kind by uid: STORE_OK, STORE_NOTFOUND or STORE_ERROR. */
static inline int store_record_get(store *s, const char *kind, const char *uid, store_record *out)
{
    return s->ops->record_get(s, kind, uid, out);
}
/** Lists records: *rows (release each with store_record_release, then free());
 *  *total counts every match, ignoring limit and offset (total may be NULL). */
static inline int store_record_list(store *s, const store_record_query *q, store_record **rows,
                                    int *nrows, int64_t *total)
{
    return s->ops->record_list(s, q, rows, nrows, total);
}
static inline int store_tx_record_get(store_tx *tx, const char *kind, const char *uid,
                                      store_record *out)
{
    return store_tx_ops(tx)->tx_record_get(tx, kind, uid, out);
}
/** Inserts (expected_version 0: fills id and version 1; uid must be new, else
 *  STORE_EXISTS) or replaces the record whose version is expected_version (else
 *  STORE_CONFLICT; sets r->version to expected + 1).  created_at/by are kept
 *  from the insert. */
static inline int store_tx_record_put(store_tx *tx, store_record *r, int64_t expected_version)
{
    return store_tx_ops(tx)->tx_record_put(tx, r, expected_version);
}
/** store_record_list inside a write job: sees the job's own writes. */
static inline int store_tx_record_list(store_tx *tx, const store_record_query *q,
                                       store_record **rows, int *nrows, int64_t *total)
{
    return store_tx_ops(tx)->tx_record_list(tx, q, rows, nrows, total);
}
static inline int store_tx_record_delete(store_tx *tx, const char *kind, const char *uid)
{
    return store_tx_ops(tx)->tx_record_delete(tx, kind, uid);
}

/* ---- accounts and sessions ------------------------------------------------------ */

/** A user by name (id 0) or by id (username NULL). */
static inline int store_user_get(store *s, const char *username, int64_t id, store_user *out)
{
    return s->ops->user_get(s, username, id, out);
}
/** Users of an organisation (org NULL: all), by username; *rows to free(). */
static inline int store_user_list(store *s, const char *org, store_user **rows, int *nrows)
{
    return s->ops->user_list(s, org, rows, nrows);
}
static inline int store_user_count(store *s, int64_t *n)
{
    return s->ops->user_count(s, n);
}
/** Inserts (expected_version 0; fills id, version 1; STORE_EXISTS for a taken
 *  name) or updates the user whose version is expected_version (STORE_CONFLICT). */
static inline int store_tx_user_put(store_tx *tx, store_user *u, int64_t expected_version)
{
    return store_tx_ops(tx)->tx_user_put(tx, u, expected_version);
}
static inline int store_session_get(store *s, const char *token_hash, store_session *out)
{
    return s->ops->session_get(s, token_hash, out);
}
/** A user's sessions or tokens (kind NULL: both); *rows to free(). */
static inline int store_session_list(store *s, int64_t user_id, const char *kind,
                                     store_session **rows, int *nrows)
{
    return s->ops->session_list(s, user_id, kind, rows, nrows);
}
/** Inserts or replaces a session by token hash. */
static inline int store_tx_session_put(store_tx *tx, const store_session *ss)
{
    return store_tx_ops(tx)->tx_session_put(tx, ss);
}
/** Deletes one session (token_hash) or, with token_hash NULL, every session of
 *  user_id of the kind (NULL: all kinds). */
static inline int store_tx_session_delete(store_tx *tx, const char *token_hash, int64_t user_id,
                                          const char *kind)
{
    return store_tx_ops(tx)->tx_session_delete(tx, token_hash, user_id, kind);
}
static inline int store_tx_session_touch(store_tx *tx, const char *token_hash, int64_t last_seen_ms)
{
    return store_tx_ops(tx)->tx_session_touch(tx, token_hash, last_seen_ms);
}
/** Sets a case's restriction (",u1,u2," or "" to lift it). */
static inline int store_tx_case_restrict(store_tx *tx, int64_t case_id, const char *users)
{
    return store_tx_ops(tx)->tx_case_restrict(tx, case_id, users);
}

/* ---- case access beyond the owner ------------------------------------------- */

/** The organisations granted access to a case: a new array of {org, via, at}. */
static inline int store_case_orgs(store *s, int64_t case_id, json_t **out)
{
    return s->ops->case_orgs(s, case_id, out);
}
/** Grants org access to the case (via: what granted it, e.g. a referral uid). */
static inline int store_tx_case_grant(store_tx *tx, int64_t case_id, const char *org,
                                      const char *via, const char *at)
{
    return store_tx_ops(tx)->tx_case_grant(tx, case_id, org, via, at);
}
static inline int store_tx_case_revoke(store_tx *tx, int64_t case_id, const char *org)
{
    return store_tx_ops(tx)->tx_case_revoke(tx, case_id, org);
}

/* ---- the audit trail ----------------------------------------------------------- */

/** The newest entry as the job sees it (its own appends included): STORE_OK,
 *  STORE_NOTFOUND when the trail is empty, or STORE_ERROR.  Release *out. */
static inline int store_tx_audit_head(store_tx *tx, store_audit_entry *out)
{
    return store_tx_ops(tx)->tx_audit_head(tx, out);
}
/** Appends an entry exactly as given (seq, at, prev and hash already set by the
 *  caller): STORE_OK, STORE_EXISTS if e->seq is taken, or STORE_ERROR. */
static inline int store_tx_audit_append(store_tx *tx, const store_audit_entry *e)
{
    return store_tx_ops(tx)->tx_audit_append(tx, e);
}
/** Appends n consecutive entries e[0..n) as given, in order: the same as n calls
 *  of store_tx_audit_append, in fewer statements.  STORE_OK, or the first
 *  failure (the job should then fail: some of the entries may be in). */
static inline int store_tx_audit_append_n(store_tx *tx, const store_audit_entry *e, size_t n)
{
    return store_tx_ops(tx)->tx_audit_append_n(tx, e, n);
}
/** The newest committed entry: STORE_OK, STORE_NOTFOUND (empty) or STORE_ERROR. */
static inline int store_audit_head(store *s, store_audit_entry *out)
{
    return s->ops->audit_head(s, out);
}
/** Lists entries by seq (newest first unless q->ascending): *rows (release each
 *  with store_audit_entry_release, then free()); *total counts every match
 *  (may be NULL). */
static inline int store_audit_list(store *s, const store_audit_query *q, store_audit_entry **rows,
                                   int *nrows, int64_t *total)
{
    return s->ops->audit_list(s, q, rows, nrows, total);
}
/** Calls fn for every committed entry in seq order, inside one read transaction
 *  (a consistent snapshot).  Returns STORE_OK, STORE_ERROR, or fn's non-zero value. */
static inline int store_audit_scan(store *s, store_audit_scan_fn fn, void *arg)
{
    return s->ops->audit_scan(s, fn, arg);
}

/** store_audit_scan that also checks, in the same snapshot and the same ordered
 *  pass, what filtered lists rely on: every entry up to audit_keys_upto has
 *  exactly its rows in audit_keys ('a:' actor, and 'o:' object id when it has
 *  one, in bucket (seq - 1) / 2048), there is no other row, audit_keys_upto is
 *  a number between the last catch-up and the last entry, and the columns
 *  lists filter on (at, actor, org, action, object_type, object_id) are text
 *  without NUL bytes.  *check gets one problem:
 *  the first entry whose columns are not text, else audit_keys_upto, else the
 *  row difference with the lowest seq; or STORE_AUDIT_KEYS_OK.  It is complete
 *  only when fn never stopped the scan.  Memory: one bucket of keys.  Returns
 *  as store_audit_scan. */
static inline int store_audit_scan_checked(store *s, store_audit_scan_fn fn, void *arg,
                                           store_audit_keys_check *check)
{
    return s->ops->audit_scan_checked(s, fn, arg, check);
}
/** Rebuilds audit_keys from the entries inside the job: removes every row no
 *  entry gives, adds the missing ones, and sets audit_keys_upto to the last
 *  entry.  *removed and *added count the rows.  STORE_OK or STORE_ERROR. */
static inline int store_tx_audit_keys_rebuild(store_tx *tx, int64_t *removed, int64_t *added)
{
    return store_tx_ops(tx)->tx_audit_keys_rebuild(tx, removed, added);
}

/* ---- per-case data keys ------------------------------------------------------ */
/* The core's casekey.h is the usual entry point; these are its storage.  A
 * wrapped key is at most STORE_WRAPPED_MAX bytes. */

/** Reads the wrapped data key of a case: *gen, wrapped[*len] (on entry *len is
 *  the capacity of wrapped).  STORE_OK, STORE_NOTFOUND or STORE_ERROR. */
static inline int store_key_get(store *s, const char *case_uid, int *gen, unsigned char *wrapped,
                                size_t *len)
{
    return s->ops->key_get(s, case_uid, gen, wrapped, len);
}
/** How many data keys each master key generation wraps: a new object
 *  {"1": 120, "2": 4}. */
static inline int store_key_counts(store *s, json_t **out)
{
    return s->ops->key_counts(s, out);
}
/** Copies every committed page into the database file and truncates the WAL to
 *  zero bytes (PRAGMA wal_checkpoint(TRUNCATE)), so deleted key bytes do not stay
 *  in old WAL frames.  Call it after an erasure.  STORE_OK, or STORE_CONFLICT when
 *  a reader kept part of the WAL alive (retry later), or STORE_ERROR. */
static inline int store_checkpoint(store *s)
{
    return s->ops->checkpoint(s);
}
static inline int store_tx_key_get(store_tx *tx, const char *case_uid, int *gen,
                                   unsigned char *wrapped, size_t *len)
{
    return store_tx_ops(tx)->tx_key_get(tx, case_uid, gen, wrapped, len);
}
/** Inserts or replaces the case's wrapped key (at: creation timestamp, kept on
 *  replacement). */
static inline int store_tx_key_put(store_tx *tx, const char *case_uid, int gen,
                                   const unsigned char *wrapped, size_t len, const char *at)
{
    return store_tx_ops(tx)->tx_key_put(tx, case_uid, gen, wrapped, len, at);
}
/** Deletes the case's wrapped key with secure_delete on, so its page is zeroed
 *  (crypto-shredding).  STORE_OK, STORE_NOTFOUND or STORE_ERROR. */
static inline int store_tx_key_delete(store_tx *tx, const char *case_uid)
{
    return store_tx_ops(tx)->tx_key_delete(tx, case_uid);
}
/** Up to `limit` keys wrapped under a generation below gen_below, into out[limit];
 *  *n receives their number (0: none left).  For rotation. */
static inline int store_tx_keys_below(store_tx *tx, int gen_below, int limit, store_case_key *out,
                                      int *n)
{
    return store_tx_ops(tx)->tx_keys_below(tx, gen_below, limit, out, n);
}

/* ---- bulk loads ------------------------------------------------------------------ */
/* A bulk load numbers its cases in memory and writes each sequence once. */

/** The last value handed out by sequence `name` (0 when it was never used).
 *  STORE_OK or STORE_ERROR. */
static inline int store_tx_sequence_get(store_tx *tx, const char *name, int64_t *value)
{
    return store_tx_ops(tx)->tx_sequence_get(tx, name, value);
}
/** Sets the last value handed out by sequence `name` (creating it), so the next
 *  store_tx_next_sequence gives value + 1.  STORE_OK or STORE_ERROR. */
static inline int store_tx_sequence_set(store_tx *tx, const char *name, int64_t value)
{
    return store_tx_ops(tx)->tx_sequence_set(tx, name, value);
}
/** store_tx_history_add with the field names already as compact JSON text
 *  (serialised on a bulk load's worker thread), or as the decimal id of a list
 *  written by store_tx_field_list_add; history reads give the list either way. */
static inline int store_tx_history_add_text(store_tx *tx, int64_t case_id, int64_t version,
                                            const char *at, const char *actor, const char *action,
                                            const char *target, const char *fields_text)
{
    return store_tx_ops(tx)->tx_history_add_text(tx, case_id, version, at, actor, action, target,
                                                 fields_text);
}
/** Writes a list of field names (compact JSON array text) for history rows to
 *  name by its id (*id).  STORE_OK or STORE_ERROR. */
static inline int store_tx_field_list_add(store_tx *tx, const char *fields_text, int64_t *id)
{
    return store_tx_ops(tx)->tx_field_list_add(tx, fields_text, id);
}

#endif
