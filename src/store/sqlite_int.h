/* sqlite_int.h — internals of the SQLite store shared by its files
 * (store_sqlite.c: cases, children, the writer; sqlite_records.c: generic domain
 * records; sqlite_security.c: users, sessions, audit, keys).  Not for use outside
 * src/store. */
#ifndef AMPARO_SQLITE_INT_H
#define AMPARO_SQLITE_INT_H

#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>

/* The statements of store_sqlite.c, prepared once per connection. */
enum {
    S_CASE_BY_UID,
    S_CASE_BY_REF,
    S_CASE_INSERT,
    S_CASE_UPDATE,
    S_TERM_INSERT,
    S_TERM_DELETE,
    S_TERM_ID_GET,
    S_TERM_ID_NEW,
    S_CHILDREN,
    S_CHILD_GET,
    S_CHILD_INSERT,
    S_CHILD_UPDATE,
    S_CHILD_DELETE,
    S_HISTORY_ADD,
    S_HISTORY_LIST,
    S_SEQ_NEXT,
    S_ORG_PUT,
    S_ORG_GET,
    S_ORG_LIST,
    S_COUNT,
    S_SAVEPOINT,
    S_RELEASE,
    S_ROLLBACK_TO,
    S_BEGIN_READ,
    S_END_READ,
    S_COUNT_STMTS
};

#define SQ_MAX_EXTRA 96

/* sqlite_walbuf.c: the name of the VFS the writer opens its database with
 * (its WAL's appended frames gathered into large writes), or NULL where it
 * could not be registered; and, for tests, the WAL writes asked for and made. */
const char *sq_walbuf_vfs(void);
void sq_walbuf_counts(unsigned long long *asked, unsigned long long *done);

typedef struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[S_COUNT_STMTS];
    struct { /* statements of the other store files, keyed by their SQL text's address */
        const char *sql;
        sqlite3_stmt *st;
    } extra[SQ_MAX_EXTRA];
    int nextra;
    bool secure_delete; /* PRAGMA secure_delete was turned on (it stays on) */
    struct conn *next;  /* free list of the reader pool */
} conn;

typedef struct job {
    store_job_fn fn;
    store_done_fn done;
    void *arg;
    int rc;
    struct job *next;
} job;

/* (field, value) → term id, for ids read back from term_ids.  Ids never change
 * once committed; the cache is emptied when a commit fails, since it may hold
 * ids read inside the failed transaction. */
typedef struct {
    char **keys; /* "field\x1fvalue", or NULL */
    int64_t *ids;
    size_t cap, n;
} term_cache;

typedef struct sqlite_store sqlite_store;

/* How long a connection waits for another's lock (sqlite3_busy_timeout). */
#define SQ_BUSY_TIMEOUT_MS 10000

/* ---- the case cache (sqlite_rowcache.c) ---- */
typedef struct sq_rowcache sq_rowcache;
/** The cache of the database at db_path, with its shared generation file
 *  (db_path-rowgen); NULL (logged) when the file cannot be mapped: reads then go
 *  to SQLite every time. */
sq_rowcache *sq_rowcache_open(const char *db_path);
void sq_rowcache_close(sq_rowcache *rc);
/** Moves the shared generation on, and makes it even again if a process
 *  stopped mid-write left it odd (when the write lock can be had at once):
 *  called once at open, on the writer connection, before any write. */
void sq_rowcache_settle(sq_rowcache *rc, sqlite3 *writer);
/** The generation to tag rows with: read it before reading them. */
uint64_t sq_rowcache_generation(sq_rowcache *rc);
/** After the writer's transaction committed or rolled back: if it changed case
 *  data, every entry, in every process, is stale from now on.  Clears *touched. */
void sq_rowcache_write_ended(sq_rowcache *rc);
/** A copy of the case with this uid, its children and wrapped key, if cached
 *  and current: true, with the caller owning the copies as from store_case_get_raw. */
bool sq_rowcache_get(sq_rowcache *rc, const char *uid, store_row *row, store_row **children,
                     int *nchildren, store_case_key *key);
/** Caches copies of rows read at generation gen (ignored if it has moved on). */
void sq_rowcache_put(sq_rowcache *rc, uint64_t gen, const store_row *row, const store_row *children,
                     int nchildren, const store_case_key *key);
/** Watches the writer: its first change in a transaction to a table other than
 *  the audit trail's, sessions or users sets *touched and makes the generation
 *  odd until sq_rowcache_write_ended. */
void sq_rowcache_watch(sq_rowcache *rc, sqlite3 *writer, bool *touched);

struct store_tx {
    sqlite_store *s;
    conn *c;
};

struct sqlite_store {
    store base;
    char *path;
    conn writer;
    store_tx wtx;
    pthread_t thread;
    pthread_mutex_t mu; /* guards the queue */
    pthread_cond_t cv;  /* on CLOCK_MONOTONIC */
    job *head, *tail;
    bool stopping, started;
    pthread_mutex_t wlock; /* held while a batch or a bulk load uses the writer */
    pthread_mutex_t rmu;   /* guards the reader pool */
    conn *free_readers;
    /* during a bulk load, case_terms rows are kept here and written sorted by
     * key just before the commit (appends instead of scattered inserts) */
    bool bulk;
    struct term_pair {
        int64_t term, case_id;
    } * pending;
    size_t npending, cappending;
    int64_t bulk_first_case; /* id of the first case a bulk load inserts */
    term_cache terms;        /* term ids seen in the database; used under wlock */
    sq_rowcache *rows;       /* recently read cases (NULL: none) */
    /* the lookup keys of the audit entries this writer appended since the last
     * catch-up of audit_keys, a run of consecutive seqs (sqlite_audit.c); any
     * rollback empties it (used under wlock) */
    struct sq_audit_note *notes;
    size_t nnotes, capnotes;
    bool touched; /* the writer's transaction changed case data (under wlock) */

    /* completion: callbacks and frees run here, so the writer goes straight on
     * to the next batch */
    pthread_t completer;
    pthread_mutex_t dmu;
    pthread_cond_t dcv;
    job *done_head, *done_tail;
    bool done_stopping, completer_started;

    /* the checkpoint after a bulk load's commit, on its own thread and
     * connection (sqlite_bulk.c); while it runs, the writer's commits do not
     * checkpoint */
    pthread_t ckpt_thread;
    bool ckpt_started;     /* ckpt_thread is to be joined (under wlock or at close) */
    _Atomic int ckpt_busy; /* 1 from a bulk commit until its checkpoint ended */
};

/** A reader connection from the pool (opened on demand); NULL (logged) on failure. */
conn *reader_acquire(sqlite_store *s);
/** Returns a reader to the pool, its statements reset. */
void reader_release(sqlite_store *s, conn *c);
/** Runs SQL without parameters; STORE_OK or STORE_ERROR (logged). */
int exec_sql(sqlite3 *db, const char *sql);
/** The connection's cached statement for sql (a string with static storage:
 *  its address is the key), reset and unbound; NULL (logged) on failure. */
sqlite3_stmt *sq_stmt(conn *c, const char *sql);
/** Copies text column i into out[n] ('' for NULL). */
void col_text(sqlite3_stmt *st, int i, char *out, size_t n);
/** Column i parsed as JSON (an empty object when NULL or invalid). */
json_t *col_json(sqlite3_stmt *st, int i);
/** Binds doc as compact JSON text; returns the text to free() after the step. */
char *bind_doc(sqlite3_stmt *st, int i, const json_t *doc);
/** Steps a statement expected to finish; STORE_OK, STORE_EXISTS or STORE_ERROR. */
int step_done(sqlite3_stmt *st, sqlite3 *db);
/** Looks a case up by uid or reference. */
int case_lookup(conn *c, const char *key, store_row *out);

/* sqlite_records.c */
int sq_record_get(store *base, const char *kind, const char *uid, store_record *out);
int sq_tx_record_list(store_tx *tx, const store_record_query *q, store_record **rows, int *nrows,
                      int64_t *total);
int sq_record_list(store *base, const store_record_query *q, store_record **rows, int *nrows,
                   int64_t *total);
int sq_tx_record_get(store_tx *tx, const char *kind, const char *uid, store_record *out);
int sq_tx_record_put(store_tx *tx, store_record *r, int64_t expected_version);
int sq_tx_record_delete(store_tx *tx, const char *kind, const char *uid);
int sq_case_orgs(store *base, int64_t case_id, json_t **out);
int sq_tx_case_grant(store_tx *tx, int64_t case_id, const char *org, const char *via,
                     const char *at);
int sq_tx_case_revoke(store_tx *tx, int64_t case_id, const char *org);

/* sqlite_security.c */
int sq_user_get(store *base, const char *username, int64_t id, store_user *out);
int sq_user_list(store *base, const char *org, store_user **rows, int *nrows);
int sq_user_count(store *base, int64_t *n);
int sq_tx_user_put(store_tx *tx, store_user *u, int64_t expected_version);
int sq_session_get(store *base, const char *token_hash, store_session *out);
int sq_session_list(store *base, int64_t user_id, const char *kind, store_session **rows,
                    int *nrows);
int sq_tx_session_put(store_tx *tx, const store_session *ss);
int sq_tx_session_delete(store_tx *tx, const char *token_hash, int64_t user_id, const char *kind);
int sq_tx_session_touch(store_tx *tx, const char *token_hash, int64_t last_seen_ms);
int sq_tx_case_restrict(store_tx *tx, int64_t case_id, const char *users);

/* sqlite_audit.c */
int sq_tx_audit_head(store_tx *tx, store_audit_entry *out);
int sq_tx_audit_append(store_tx *tx, const store_audit_entry *e);
int sq_tx_audit_append_n(store_tx *tx, const store_audit_entry *e, size_t n);
/** A case's wrapped data key on connection c: STORE_OK, STORE_NOTFOUND or
 *  STORE_ERROR; *len is the room in wrapped on entry, the key's length after. */
int sq_key_get_on(conn *c, const char *case_uid, int *gen, unsigned char *wrapped, size_t *len);
/** Adds the entries after audit_keys_upto to the lookup table audit_keys
 *  (sq_tx_audit_append does it every few thousand entries). */
int sq_tx_audit_keys_catch_up(store_tx *tx);
/** Forgets the keys noted for the next catch-up (after a rollback: the entries
 *  they describe are gone, and their seqs will be used again). */
void sq_audit_notes_clear(sqlite_store *s);
/** Releases the notes (at close). */
void sq_audit_notes_free(sqlite_store *s);
int sq_audit_head(store *base, store_audit_entry *out);
int sq_audit_list(store *base, const store_audit_query *q, store_audit_entry **rows, int *nrows,
                  int64_t *total);
int sq_audit_scan(store *base, store_audit_scan_fn fn, void *arg);
int sq_audit_scan_checked(store *base, store_audit_scan_fn fn, void *arg,
                          store_audit_keys_check *check);
int sq_tx_audit_keys_rebuild(store_tx *tx, int64_t *removed, int64_t *added);

/* sqlite_keys.c */
int sq_key_get(store *base, const char *case_uid, int *gen, unsigned char *wrapped, size_t *len);
int sq_key_counts(store *base, json_t **out);
int sq_checkpoint(store *base);
int sq_tx_key_get(store_tx *tx, const char *case_uid, int *gen, unsigned char *wrapped,
                  size_t *len);
int sq_tx_key_put(store_tx *tx, const char *case_uid, int gen, const unsigned char *wrapped,
                  size_t len, const char *at);
int sq_tx_key_delete(store_tx *tx, const char *case_uid);
int sq_tx_keys_below(store_tx *tx, int gen_below, int limit, store_case_key *out, int *n);

/* sqlite_bulk.c */
int sq_tx_sequence_get(store_tx *tx, const char *name, int64_t *value);
int sq_tx_sequence_set(store_tx *tx, const char *name, int64_t value);
/** Replaces the writer's automatic checkpoint by the same one (PASSIVE after a
 *  commit that leaves 1,000 frames or more in the WAL) that stands aside while a
 *  bulk load commits or its checkpoint runs. */
void sq_bulk_wal_hook(sqlite_store *s);
/** Before a bulk load's commit: no automatic checkpoint until
 *  sq_bulk_checkpoint_after.  Joins an earlier load's checkpoint.  Under wlock. */
void sq_bulk_checkpoint_defer(sqlite_store *s);
/** After a bulk load's COMMIT or ROLLBACK (under wlock): when committed, the
 *  WAL is copied into the database on a thread of its own (durability came from
 *  the WAL's sync at the commit); on a rollback, or when no thread starts, the
 *  automatic checkpoint is back at once. */
void sq_bulk_checkpoint_after(sqlite_store *s, bool committed);
/** Waits for a bulk load's checkpoint (at close). */
void sq_bulk_checkpoint_join(sqlite_store *s);
int sq_tx_field_list_add(store_tx *tx, const char *fields_text, int64_t *id);
int sq_tx_history_add_text(store_tx *tx, int64_t case_id, int64_t version, const char *at,
                           const char *actor, const char *action, const char *target,
                           const char *fields_text);

#endif
