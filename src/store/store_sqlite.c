/* store_sqlite.c — the SQLite implementation of the storage interface.
 *
 * One writer connection, owned by a writer thread that runs queued jobs in
 * batches (group commit: one transaction and one WAL fsync per batch, a savepoint
 * per job).  A pool of read-only connections serves reads.  WAL mode with
 * synchronous=FULL: once COMMIT returns, the batch survives a crash or power loss.
 * Every statement is prepared with bound parameters; no SQL is built from input. */
#include "store/sqlite_int.h"
#include "util/log.h"

#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ==== statements ========================================================== */

#define CASE_COLS                                                                                  \
    "id, uid, reference, version, registered_on, coalesce(owner_org,''), created_at, "             \
    "updated_at, created_by, updated_by, doc, restricted_to"
#define CHILD_COLS                                                                                 \
    "id, uid, kind, version, created_at, updated_at, created_by, updated_by, doc, case_id"

static const char *const stmt_sql[S_COUNT_STMTS] = {
    [S_CASE_BY_UID] = "SELECT " CASE_COLS " FROM cases WHERE uid = ?1",
    [S_CASE_BY_REF] = "SELECT " CASE_COLS " FROM cases WHERE reference = ?1",
    [S_CASE_INSERT] = "INSERT INTO cases(uid, reference, version, registered_on, owner_org, "
                      "created_at, updated_at, created_by, updated_by, doc, terms) "
                      "VALUES (?1, ?2, ?3, ?4, nullif(?5,''), ?6, ?7, ?8, ?9, ?10, ?11)",
    [S_CASE_UPDATE] =
        "UPDATE cases SET version = ?1, registered_on = ?2, owner_org = nullif(?3,''), "
        "updated_at = ?4, updated_by = ?5, doc = ?6, terms = coalesce(?9, terms) "
        "WHERE id = ?7 AND version = ?8",
    [S_TERM_INSERT] = "INSERT OR IGNORE INTO case_terms(term_id, case_id) VALUES (?1, ?2)",
    /* the case's current terms are kept in cases.terms, so they are deleted by
     * primary key: case_terms needs no index on case_id.  cases.terms holds the
     * ids of the case's term_ids rows as a JSON array ([12,57,301]); rows
     * written before 3 Dec 2026 hold the terms themselves ({field: [values]}) */
    [S_TERM_DELETE] = "DELETE FROM case_terms WHERE case_id = ?1 AND term_id IN "
                      "(SELECT v.value FROM cases c, json_each(c.terms) AS v "
                      "WHERE c.id = ?1 AND json_type(c.terms) = 'array' "
                      "UNION ALL SELECT ti.id FROM cases c, json_each(c.terms) AS t, "
                      "json_each(t.value) AS v, term_ids ti "
                      "WHERE c.id = ?1 AND json_type(c.terms) = 'object' "
                      "AND ti.field = t.key AND ti.value = v.value)",
    [S_TERM_ID_GET] = "SELECT id FROM term_ids WHERE field = ?1 AND value = ?2",
    [S_TERM_ID_NEW] = "INSERT INTO term_ids(field, value) VALUES (?1, ?2)",
    [S_CHILDREN] =
        "SELECT " CHILD_COLS " FROM case_children WHERE case_id = ?1 ORDER BY kind, sort_key, id",
    [S_CHILD_GET] =
        "SELECT " CHILD_COLS " FROM case_children WHERE case_id = ?1 AND kind = ?2 AND uid = ?3",
    [S_CHILD_INSERT] = "INSERT INTO case_children(uid, case_id, kind, version, created_at, "
                       "updated_at, created_by, updated_by, doc, sort_key) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [S_CHILD_UPDATE] = "UPDATE case_children SET version = ?1, updated_at = ?2, updated_by = ?3, "
                       "doc = ?4, sort_key = ?7 WHERE id = ?5 AND version = ?6",
    [S_CHILD_DELETE] = "DELETE FROM case_children WHERE case_id = ?1 AND kind = ?2 AND uid = ?3",
    [S_HISTORY_ADD] = "INSERT INTO case_history(case_id, version, at, actor, action, target, "
                      "fields) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    /* fields: a JSON array, or the id of a field_lists row (bulk loads) */
    [S_HISTORY_LIST] = "SELECT h.version, h.at, h.actor, h.action, h.target, "
                       "coalesce(l.fields, h.fields) FROM case_history h "
                       "LEFT JOIN field_lists l ON substr(h.fields, 1, 1) <> '[' "
                       "AND l.id = CAST(h.fields AS INTEGER) WHERE h.case_id = ?1 ORDER BY h.id",
    [S_SEQ_NEXT] = "INSERT INTO sequences(name, value) VALUES (?1, 1) "
                   "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
    [S_ORG_PUT] = "INSERT INTO organisations(id, version, created_at, updated_at, doc) "
                  "VALUES (?1, 1, ?2, ?2, ?3) ON CONFLICT(id) DO UPDATE SET "
                  "version = organisations.version + 1, updated_at = excluded.updated_at, "
                  "doc = excluded.doc RETURNING version, created_at",
    [S_ORG_GET] =
        "SELECT id, version, created_at, updated_at, doc FROM organisations WHERE id = ?1",
    [S_ORG_LIST] = "SELECT id, version, created_at, updated_at, doc FROM organisations ORDER BY id",
    [S_COUNT] = "SELECT count(*) FROM cases",
    [S_SAVEPOINT] = "SAVEPOINT job",
    [S_RELEASE] = "RELEASE job",
    [S_ROLLBACK_TO] = "ROLLBACK TO job",
    [S_BEGIN_READ] = "BEGIN",
    [S_END_READ] = "COMMIT",
};

/* ==== migrations ========================================================== */

/* Each entry moves the schema one version up.  Never edit a released entry:
 * append a new one. */
static const char *const migrations[] = {
    /* 1: cases, their children, indexed terms, history, organisations */
    "CREATE TABLE organisations("
    "  id TEXT PRIMARY KEY, version INTEGER NOT NULL, created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL, doc TEXT NOT NULL);"
    "CREATE TABLE sequences(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE cases("
    "  id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, reference TEXT NOT NULL UNIQUE,"
    "  version INTEGER NOT NULL CHECK (version > 0), registered_on TEXT NOT NULL,"
    "  owner_org TEXT REFERENCES organisations(id),"
    "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
    "  created_by TEXT NOT NULL, updated_by TEXT NOT NULL, doc TEXT NOT NULL,"
    "  terms TEXT NOT NULL DEFAULT '{}');"
    "CREATE INDEX cases_registered ON cases(registered_on, id);"
    "CREATE INDEX cases_updated ON cases(updated_at, id);"
    "CREATE INDEX cases_owner ON cases(owner_org);"
    /* filter terms: a dictionary of (field, value) pairs and, per case, the ids of
     * its pairs, so the per-case index holds small integer keys */
    "CREATE TABLE term_ids("
    "  id INTEGER PRIMARY KEY, field TEXT NOT NULL, value TEXT NOT NULL,"
    "  UNIQUE (field, value));"
    "CREATE TABLE case_terms("
    "  term_id INTEGER NOT NULL REFERENCES term_ids(id),"
    "  case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (term_id, case_id)) WITHOUT ROWID;"
    "CREATE TABLE case_children("
    "  id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE,"
    "  case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL, version INTEGER NOT NULL CHECK (version > 0),"
    "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
    "  created_by TEXT NOT NULL, updated_by TEXT NOT NULL, doc TEXT NOT NULL,"
    "  sort_key TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX case_children_case ON case_children(case_id, kind, sort_key, id);"
    "CREATE TABLE case_history("
    "  id INTEGER PRIMARY KEY,"
    "  case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,"
    "  version INTEGER NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,"
    "  action TEXT NOT NULL, target TEXT, fields TEXT NOT NULL);"
    "CREATE INDEX case_history_case ON case_history(case_id, id);",
    /* 2: generic domain records (referrals, assistance, stays…) and case access
     * granted to organisations other than the owner */
    "CREATE TABLE records("
    "  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, uid TEXT NOT NULL UNIQUE,"
    "  case_uid TEXT NOT NULL DEFAULT '', org TEXT NOT NULL DEFAULT '',"
    "  org2 TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT '',"
    "  due TEXT NOT NULL DEFAULT '', version INTEGER NOT NULL CHECK (version > 0),"
    "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
    "  created_by TEXT NOT NULL, updated_by TEXT NOT NULL, doc TEXT NOT NULL);"
    "CREATE INDEX records_kind_case ON records(kind, case_uid, id);"
    "CREATE INDEX records_kind_org ON records(kind, org, status, id);"
    "CREATE INDEX records_kind_org2 ON records(kind, org2, status, id);"
    "CREATE INDEX records_kind_due ON records(kind, due, id);"
    "CREATE TABLE case_access("
    "  case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,"
    "  org TEXT NOT NULL, via TEXT NOT NULL, at TEXT NOT NULL,"
    "  PRIMARY KEY (case_id, org)) WITHOUT ROWID;"
    "CREATE INDEX case_access_org ON case_access(org, case_id);",
    /* 3: accounts, sessions and API tokens; cases restricted to named users */
    "CREATE TABLE users("
    "  id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  org TEXT NOT NULL DEFAULT '', roles INTEGER NOT NULL, pw_hash TEXT NOT NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0, lang TEXT NOT NULL DEFAULT 'en',"
    "  display_name TEXT NOT NULL DEFAULT '', totp_secret TEXT NOT NULL DEFAULT '',"
    "  totp_enabled INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL,"
    "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, password_changed_at TEXT NOT NULL);"
    "CREATE INDEX users_org ON users(org, username);"
    "CREATE TABLE sessions("
    "  token_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE "
    "CASCADE,"
    "  kind TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', roles INTEGER NOT NULL,"
    "  csrf TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,"
    "  expires_ms INTEGER NOT NULL, idle_ms INTEGER NOT NULL, addr TEXT NOT NULL DEFAULT '',"
    "  mfa_pending INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE INDEX sessions_user ON sessions(user_id, kind);"
    "ALTER TABLE cases ADD COLUMN restricted_to TEXT NOT NULL DEFAULT '';",
    /* 4: audit trail (issue 3): append-only, hash-chained entries (core/audit.h).
     * The triggers stop accidental or SQL-level changes; tampering by someone
     * holding the file is caught by the chain (amparo audit verify). */
    "CREATE TABLE audit("
    "  seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,"
    "  org TEXT NOT NULL DEFAULT '', addr TEXT NOT NULL DEFAULT '',"
    "  action TEXT NOT NULL, object_type TEXT NOT NULL DEFAULT '',"
    "  object_id TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '{}',"
    "  prev TEXT NOT NULL, hash TEXT NOT NULL);"
    /* two indexes only: every audited read inserts a row, and each index costs
     * the writer a b-tree update; "who did what" and "who touched this case" are
     * the investigations that must be fast, other filters scan */
    "CREATE INDEX audit_actor ON audit(actor, seq);"
    "CREATE INDEX audit_object ON audit(object_id, object_type, seq);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
    "  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
    "  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;",
    /* 5: data keys (issue 3): each case's data key, wrapped by a master key
     * generation held outside the database (sqlite_keys.c; deletes there run with
     * secure_delete on, so a shredded key's bytes are zeroed) */
    "CREATE TABLE case_keys("
    "  case_uid TEXT PRIMARY KEY, gen INTEGER NOT NULL CHECK (gen > 0),"
    "  wrapped BLOB NOT NULL, created_at TEXT NOT NULL);"
    "CREATE INDEX case_keys_gen ON case_keys(gen);",
    /* 6: the audit trail's lookups by actor and by object move from two indexes
     * of the audit table, which every audited read updated at random places, to
     * one derived table written in sorted runs (sqlite_audit.c): `k` is 'a:' actor
     * or 'o:' object id, `bucket` is (seq - 1) / 2048, so each run of 2,048
     * entries is appended as one sorted block.  Entries after audit_keys_upto.seq
     * are not in it yet; lists scan that short tail.  Derived from the chain. */
    "DROP INDEX audit_actor;"
    "DROP INDEX audit_object;"
    "CREATE TABLE audit_keys(bucket INTEGER NOT NULL, k TEXT NOT NULL, seq INTEGER NOT NULL,"
    "  PRIMARY KEY (bucket, k, seq)) WITHOUT ROWID;"
    "INSERT INTO audit_keys SELECT (seq - 1) / 2048, 'a:' || actor, seq FROM audit"
    "  UNION ALL SELECT (seq - 1) / 2048, 'o:' || object_id, seq FROM audit"
    "  WHERE object_id <> '';"
    "CREATE TABLE audit_keys_upto(id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);"
    "INSERT INTO audit_keys_upto VALUES (1, (SELECT coalesce(max(seq), 0) FROM audit));",
    /* 7: lists of field names written once by a bulk load and named by its
     * history rows (case_history.fields holds the list's id instead of the list:
     * an import's cases share a few thousand lists) */
    "CREATE TABLE field_lists(id INTEGER PRIMARY KEY, fields TEXT NOT NULL);",
};

/* ==== connections ========================================================= */

#define MAX_BATCH 1024

static int conn_open(conn *c, const char *path, bool writer, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    int flags = SQLITE_OPEN_NOMUTEX |
                (writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
    if (sqlite3_open_v2(path, &c->db, flags, writer ? sq_walbuf_vfs() : NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database '%s': %s", path,
                 c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close(c->db);
        c->db = NULL;
        return -1;
    }
    sqlite3_busy_timeout(c->db, SQ_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(c->db, 1);
    const char *pragmas = writer ? "PRAGMA journal_mode = WAL;"
                                   "PRAGMA synchronous = FULL;"
                                   "PRAGMA journal_size_limit = 67108864;"
                                   "PRAGMA foreign_keys = ON;"
                                   "PRAGMA cache_size = -8000;"
                                   "PRAGMA temp_store = MEMORY;"
                                 /* a reader's cache is dropped whenever another
                                  * connection has committed (every audited read
                                  * commits), so a large one mostly holds pages it
                                  * will not use again: 500 KiB instead of 4 MB took
                                  * 10 MB off the server's peak under bench/rss.sh's
                                  * load with no loss of reads or creates/s */
                                 : "PRAGMA foreign_keys = ON;"
                                   "PRAGMA cache_size = -500;"
                                   "PRAGMA query_only = ON;";
    char *msg = NULL;
    if (sqlite3_exec(c->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot configure database '%s': %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(c->db);
        c->db = NULL;
        return -1;
    }
    return 0;
}

static void conn_close(conn *c)
{
    for (int i = 0; i < S_COUNT_STMTS; i++)
        sqlite3_finalize(c->stmts[i]);
    for (int i = 0; i < c->nextra; i++)
        sqlite3_finalize(c->extra[i].st);
    sqlite3_close(c->db);
    memset(c->stmts, 0, sizeof c->stmts);
    c->nextra = 0;
    c->db = NULL;
}

/* The cached statement `which`, reset and unbound; NULL (logged) on failure. */
static sqlite3_stmt *conn_stmt(conn *c, int which)
{
    sqlite3_stmt *st = c->stmts[which];
    if (!st) {
        if (sqlite3_prepare_v3(c->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
            SQLITE_OK) {
            log_error("store: cannot prepare statement %d: %s", which, sqlite3_errmsg(c->db));
            return NULL;
        }
        c->stmts[which] = st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

sqlite3_stmt *sq_stmt(conn *c, const char *sql)
{
    for (int i = 0; i < c->nextra; i++) {
        if (c->extra[i].sql == sql) {
            sqlite3_reset(c->extra[i].st);
            sqlite3_clear_bindings(c->extra[i].st);
            return c->extra[i].st;
        }
    }
    if (c->nextra == SQ_MAX_EXTRA) {
        log_error("store: too many cached statements (raise SQ_MAX_EXTRA)");
        return NULL;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        log_error("store: cannot prepare '%.60s': %s", sql, sqlite3_errmsg(c->db));
        return NULL;
    }
    c->extra[c->nextra].sql = sql;
    c->extra[c->nextra].st = st;
    c->nextra++;
    return st;
}

conn *reader_acquire(sqlite_store *s)
{
    pthread_mutex_lock(&s->rmu);
    conn *c = s->free_readers;
    if (c)
        s->free_readers = c->next;
    pthread_mutex_unlock(&s->rmu);
    if (c)
        return c;
    c = malloc(sizeof *c);
    char err[256];
    if (!c || conn_open(c, s->path, false, err, sizeof err) < 0) {
        log_error("store: %s", c ? err : "out of memory");
        free(c);
        return NULL;
    }
    return c;
}

void reader_release(sqlite_store *s, conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < S_COUNT_STMTS; i++) {
        if (c->stmts[i])
            sqlite3_reset(c->stmts[i]);
    }
    for (int i = 0; i < c->nextra; i++)
        sqlite3_reset(c->extra[i].st);
    pthread_mutex_lock(&s->rmu);
    c->next = s->free_readers;
    s->free_readers = c;
    pthread_mutex_unlock(&s->rmu);
}

int exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_error("store: '%s' failed: %s", sql, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return STORE_ERROR;
    }
    return STORE_OK;
}

static int migrate(conn *c, char *err, size_t errlen)
{
    if (exec_sql(c->db, "CREATE TABLE IF NOT EXISTS schema_migrations("
                        "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)") != STORE_OK) {
        snprintf(err, errlen, "cannot create the migrations table");
        return -1;
    }
    sqlite3_stmt *st;
    int current = 0;
    if (sqlite3_prepare_v2(c->db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1,
                           &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        current = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    int latest = (int)(sizeof migrations / sizeof *migrations);
    if (current > latest) {
        snprintf(err, errlen, "database schema version %d is newer than this program (%d)", current,
                 latest);
        return -1;
    }
    for (int v = current + 1; v <= latest; v++) {
        char sql[160];
        snprintf(sql, sizeof sql,
                 "INSERT INTO schema_migrations(version, applied_at) "
                 "VALUES (%d, strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ','now'))",
                 v);
        if (exec_sql(c->db, "BEGIN IMMEDIATE") != STORE_OK ||
            exec_sql(c->db, migrations[v - 1]) != STORE_OK || exec_sql(c->db, sql) != STORE_OK ||
            exec_sql(c->db, "COMMIT") != STORE_OK) {
            exec_sql(c->db, "ROLLBACK");
            snprintf(err, errlen, "migration %d failed", v);
            return -1;
        }
        log_info("store: applied migration %d", v);
    }
    return 0;
}

/* ==== row helpers ========================================================= */

void store_row_release(store_row *r)
{
    if (r) {
        json_decref(r->doc);
        free(r->raw);
        r->doc = NULL;
        r->raw = NULL;
    }
}

static char *col_raw(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return strdup(t ? t : "{}");
}

void col_text(sqlite3_stmt *st, int i, char *out, size_t n)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    size_t len = t ? (size_t)sqlite3_column_bytes(st, i) : 0;
    if (len >= n)
        len = n - 1;
    if (len)
        memcpy(out, t, len);
    out[len] = '\0';
}

json_t *col_json(sqlite3_stmt *st, int i)
{
    const void *p = sqlite3_column_blob(st, i);
    int n = sqlite3_column_bytes(st, i);
    json_t *doc = p ? json_loadb(p, (size_t)n, 0, NULL) : NULL;
    return doc ? doc : json_object();
}

static void read_case_row_mode(sqlite3_stmt *st, store_row *r, bool raw)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    col_text(st, 1, r->uid, sizeof r->uid);
    col_text(st, 2, r->reference, sizeof r->reference);
    r->version = sqlite3_column_int64(st, 3);
    col_text(st, 4, r->registered_on, sizeof r->registered_on);
    col_text(st, 5, r->owner_org, sizeof r->owner_org);
    col_text(st, 6, r->created_at, sizeof r->created_at);
    col_text(st, 7, r->updated_at, sizeof r->updated_at);
    col_text(st, 8, r->created_by, sizeof r->created_by);
    col_text(st, 9, r->updated_by, sizeof r->updated_by);
    if (raw)
        r->raw = col_raw(st, 10);
    else
        r->doc = col_json(st, 10);
    col_text(st, 11, r->restricted_to, sizeof r->restricted_to);
}

static void read_case_row(sqlite3_stmt *st, store_row *r)
{
    read_case_row_mode(st, r, false);
}

static void read_child_row_mode(sqlite3_stmt *st, store_row *r, bool raw)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    col_text(st, 1, r->uid, sizeof r->uid);
    col_text(st, 2, r->kind, sizeof r->kind);
    r->version = sqlite3_column_int64(st, 3);
    col_text(st, 4, r->created_at, sizeof r->created_at);
    col_text(st, 5, r->updated_at, sizeof r->updated_at);
    col_text(st, 6, r->created_by, sizeof r->created_by);
    col_text(st, 7, r->updated_by, sizeof r->updated_by);
    if (raw)
        r->raw = col_raw(st, 8);
    else
        r->doc = col_json(st, 8);
    r->case_id = sqlite3_column_int64(st, 9);
}

static void read_child_row(sqlite3_stmt *st, store_row *r)
{
    read_child_row_mode(st, r, false);
}

static json_t *child_row_json(const store_row *r)
{
    return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:O}", "id", r->uid, "version",
                     (json_int_t)r->version, "created_at", r->created_at, "updated_at",
                     r->updated_at, "created_by", r->created_by, "updated_by", r->updated_by, "doc",
                     r->doc);
}

/* Binds a JSON document as compact text; returns the malloc'd text to free. */
char *bind_doc(sqlite3_stmt *st, int i, const json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    if (text)
        sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
    return text;
}

/* Binds a row's document, using its ready text when it has one.  Returns what
 * to free(), or NULL (with *ok false on failure). */
static char *bind_row_doc(sqlite3_stmt *st, int i, const store_row *r, bool *ok)
{
    if (r->doc_text) {
        sqlite3_bind_text(st, i, r->doc_text, -1, SQLITE_STATIC);
        *ok = true;
        return NULL;
    }
    char *text = bind_doc(st, i, r->doc);
    *ok = text != NULL;
    return text;
}

static bool looks_like_uid(const char *key)
{
    return strlen(key) == 36 && key[8] == '-' && key[13] == '-';
}

static int case_lookup_mode(conn *c, const char *key, store_row *out, bool raw)
{
    sqlite3_stmt *st = conn_stmt(c, looks_like_uid(key) ? S_CASE_BY_UID : S_CASE_BY_REF);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_case_row_mode(st, out, raw);
        sqlite3_reset(st);
        return STORE_OK;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERROR;
}

int case_lookup(conn *c, const char *key, store_row *out)
{
    return case_lookup_mode(c, key, out, false);
}

static int children_of(conn *c, int64_t case_id, bool docs_only, json_t **out)
{
    sqlite3_stmt *st = conn_stmt(c, S_CHILDREN);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, case_id);
    json_t *obj = json_object();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_row r;
        read_child_row(st, &r);
        json_t *arr = json_object_get(obj, r.kind);
        if (!arr) {
            arr = json_array();
            json_object_set_new(obj, r.kind, arr);
        }
        json_array_append_new(arr, docs_only ? json_incref(r.doc) : child_row_json(&r));
        store_row_release(&r);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(obj);
        return STORE_ERROR;
    }
    *out = obj;
    return STORE_OK;
}

int step_done(sqlite3_stmt *st, sqlite3 *db)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return STORE_OK;
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return STORE_EXISTS;
    log_error("store: %s", sqlite3_errmsg(db));
    return STORE_ERROR;
}

/* ==== reads =============================================================== */

static int sq_case_get(store *base, const char *key, store_row *out, json_t **children)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = case_lookup(c, key, out);
    if (rc == STORE_OK && children) {
        rc = children_of(c, out->id, false, children);
        if (rc != STORE_OK)
            store_row_release(out);
    }
    reader_release(s, c);
    return rc;
}

/* The raw children of a case, in the store's order; STORE_OK or STORE_ERROR
 * (nothing left allocated). */
static int children_raw(conn *c, int64_t case_id, store_row **children, int *nchildren)
{
    sqlite3_stmt *st = conn_stmt(c, S_CHILDREN);
    if (!st)
        return STORE_ERROR;
    int cap = 0, step;
    sqlite3_bind_int64(st, 1, case_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*nchildren == cap) {
            cap = cap ? cap * 2 : 8;
            store_row *grown = realloc(*children, (size_t)cap * sizeof **children);
            if (!grown) {
                step = SQLITE_NOMEM;
                break;
            }
            *children = grown;
        }
        read_child_row_mode(st, &(*children)[(*nchildren)++], true);
    }
    sqlite3_reset(st);
    if (step == SQLITE_DONE)
        return STORE_OK;
    for (int i = 0; i < *nchildren; i++)
        store_row_release(&(*children)[i]);
    free(*children);
    *children = NULL;
    *nchildren = 0;
    return STORE_ERROR;
}

/* Wipes a copy of a wrapped key (not secret without the master key, but there
 * is no reason to leave copies around). */
static void wipe_key(store_case_key *k)
{
    explicit_bzero(k->wrapped, sizeof k->wrapped);
}

static int sq_case_get_raw(store *base, const char *key, store_row *out, store_row **children,
                           int *nchildren, store_case_key *key_out)
{
    sqlite_store *s = (sqlite_store *)base;
    *children = NULL;
    *nchildren = 0;
    store_case_key wrapped = {0};
    bool by_uid = looks_like_uid(key);
    if (by_uid && sq_rowcache_get(s->rows, key, out, children, nchildren, &wrapped)) {
        if (key_out)
            *key_out = wrapped;
        wipe_key(&wrapped);
        return STORE_OK;
    }
    uint64_t gen = sq_rowcache_generation(s->rows); /* before the rows are read */
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    /* one read transaction for all statements: one snapshot, half the locking */
    sqlite3_stmt *tx = conn_stmt(c, S_BEGIN_READ);
    if (!tx || step_done(tx, c->db) != STORE_OK) {
        reader_release(s, c);
        return STORE_ERROR;
    }
    int rc = case_lookup_mode(c, key, out, true);
    bool have_row = rc == STORE_OK;
    if (rc == STORE_OK)
        rc = children_raw(c, out->id, children, nchildren);
    if (rc == STORE_OK) { /* the data key, from the same snapshot */
        snprintf(wrapped.case_uid, sizeof wrapped.case_uid, "%s", out->uid);
        wrapped.len = sizeof wrapped.wrapped;
        int krc = sq_key_get_on(c, out->uid, &wrapped.gen, wrapped.wrapped, &wrapped.len);
        if (krc == STORE_NOTFOUND)
            wrapped.len = 0;
        else if (krc != STORE_OK)
            rc = STORE_ERROR;
    }
    tx = conn_stmt(c, S_END_READ);
    if (tx)
        step_done(tx, c->db);
    reader_release(s, c);
    if (rc != STORE_OK) {
        if (*nchildren || *children) {
            for (int i = 0; i < *nchildren; i++)
                store_row_release(&(*children)[i]);
            free(*children);
            *children = NULL;
            *nchildren = 0;
        }
        if (have_row)
            store_row_release(out);
        return rc;
    }
    if (by_uid)
        sq_rowcache_put(s->rows, gen, out, *children, *nchildren, &wrapped);
    if (key_out)
        *key_out = wrapped;
    wipe_key(&wrapped);
    return STORE_OK;
}

static int sq_child_get(store *base, const char *case_key, const char *kind, const char *uid,
                        store_row *out)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    store_row cr;
    int rc = case_lookup(c, case_key, &cr);
    if (rc == STORE_OK) {
        store_row_release(&cr);
        sqlite3_stmt *st = conn_stmt(c, S_CHILD_GET);
        if (!st) {
            rc = STORE_ERROR;
        } else {
            sqlite3_bind_int64(st, 1, cr.id);
            sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, uid, -1, SQLITE_STATIC);
            int src = sqlite3_step(st);
            if (src == SQLITE_ROW)
                read_child_row(st, out);
            rc = src == SQLITE_ROW ? STORE_OK : src == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERROR;
            sqlite3_reset(st);
        }
    }
    reader_release(s, c);
    return rc;
}

static int sq_history(store *base, const char *case_key, json_t **out)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    store_row cr;
    int rc = case_lookup(c, case_key, &cr);
    if (rc == STORE_OK) {
        store_row_release(&cr);
        sqlite3_stmt *st = conn_stmt(c, S_HISTORY_LIST);
        json_t *arr = json_array();
        int src = SQLITE_ERROR;
        if (st) {
            sqlite3_bind_int64(st, 1, cr.id);
            while ((src = sqlite3_step(st)) == SQLITE_ROW) {
                const char *target = (const char *)sqlite3_column_text(st, 4);
                json_t *fields = json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);
                json_array_append_new(arr,
                                      json_pack("{s:I, s:s, s:s, s:s, s:s?, s:o}", "version",
                                                (json_int_t)sqlite3_column_int64(st, 0), "at",
                                                (const char *)sqlite3_column_text(st, 1), "actor",
                                                (const char *)sqlite3_column_text(st, 2), "action",
                                                (const char *)sqlite3_column_text(st, 3), "target",
                                                target, "fields", fields ? fields : json_array()));
            }
            sqlite3_reset(st);
        }
        if (src == SQLITE_DONE) {
            *out = arr;
        } else {
            json_decref(arr);
            rc = STORE_ERROR;
        }
    }
    reader_release(s, c);
    return rc;
}

/* Builds the WHERE clause of a list query from fixed fragments; every value is a
 * bound parameter.  Returns the number of parameters bound by bind_query. */
static void build_where(const store_query *q, char *sql, size_t n)
{
    size_t o = strlen(sql);
    o += (size_t)snprintf(sql + o, n - o, " WHERE 1");
    for (int i = 0; i < q->nterms; i++) {
        o += (size_t)snprintf(sql + o, n - o,
                              " AND c.id IN (SELECT case_id FROM case_terms WHERE term_id IN "
                              "(SELECT id FROM term_ids WHERE field = ? AND value IN (?");
        for (int k = 1; k < q->terms[i].nvalues; k++)
            o += (size_t)snprintf(sql + o, n - o, ", ?");
        o += (size_t)snprintf(sql + o, n - o, ")))");
    }
    if (q->registered_from)
        o += (size_t)snprintf(sql + o, n - o, " AND c.registered_on >= ?");
    if (q->registered_to)
        o += (size_t)snprintf(sql + o, n - o, " AND c.registered_on <= ?");
    if (q->reference_prefix)
        o += (size_t)snprintf(sql + o, n - o, " AND c.reference >= ? AND c.reference < ? || x'ff'");
    if (q->owner_org)
        o += (size_t)snprintf(sql + o, n - o, " AND c.owner_org = ?");
    if (q->scope_org)
        o += (size_t)snprintf(sql + o, n - o,
                              " AND (c.owner_org = ? OR c.id IN "
                              "(SELECT case_id FROM case_access WHERE org = ?))");
    if (q->scope_user)
        o += (size_t)snprintf(sql + o, n - o,
                              " AND (c.restricted_to = '' OR instr(c.restricted_to, ?) > 0)");
}

static int bind_query(sqlite3_stmt *st, const store_query *q)
{
    int p = 1;
    for (int i = 0; i < q->nterms; i++) {
        sqlite3_bind_text(st, p++, q->terms[i].field, -1, SQLITE_STATIC);
        for (int k = 0; k < q->terms[i].nvalues; k++)
            sqlite3_bind_text(st, p++, q->terms[i].values[k], -1, SQLITE_STATIC);
    }
    if (q->registered_from)
        sqlite3_bind_text(st, p++, q->registered_from, -1, SQLITE_STATIC);
    if (q->registered_to)
        sqlite3_bind_text(st, p++, q->registered_to, -1, SQLITE_STATIC);
    if (q->reference_prefix) {
        sqlite3_bind_text(st, p++, q->reference_prefix, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, p++, q->reference_prefix, -1, SQLITE_STATIC);
    }
    if (q->owner_org)
        sqlite3_bind_text(st, p++, q->owner_org, -1, SQLITE_STATIC);
    if (q->scope_org) {
        sqlite3_bind_text(st, p++, q->scope_org, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, p++, q->scope_org, -1, SQLITE_STATIC);
    }
    if (q->scope_user) /* ",name," so that one name never matches inside another */
        sqlite3_bind_text(st, p++, q->scope_user, -1, SQLITE_STATIC);
    return p;
}

static int sq_case_list(store *base, const store_query *q, store_row **rows, int *nrows,
                        int64_t *total)
{
    sqlite_store *s = (sqlite_store *)base;
    static const char *const order_col[] = {[SORT_REGISTERED] = "c.registered_on",
                                            [SORT_REFERENCE] = "c.reference",
                                            [SORT_CREATED] = "c.id", /* ids grow with creation */
                                            [SORT_UPDATED] = "c.updated_at"};
    if (q->nterms < 0 || q->nterms > STORE_MAX_TERM_FILTERS || q->limit < 0 || q->offset < 0 ||
        (unsigned)q->sort > SORT_UPDATED)
        return STORE_ERROR;
    for (int i = 0; i < q->nterms; i++) {
        if (q->terms[i].nvalues < 1 || q->terms[i].nvalues > STORE_MAX_TERM_VALUES)
            return STORE_ERROR;
    }
    char sql[8192];
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    sqlite3_stmt *st = NULL;
    *rows = NULL;
    *nrows = 0;

    snprintf(sql, sizeof sql, "SELECT count(*) FROM cases c");
    build_where(q, sql, sizeof sql);
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    bind_query(st, q);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto out;
    *total = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;

    snprintf(sql, sizeof sql,
             "SELECT c.id, c.uid, c.reference, c.version, c.registered_on, "
             "coalesce(c.owner_org,''), c.created_at, c.updated_at, c.created_by, c.updated_by, "
             "c.doc, c.restricted_to FROM cases c");
    build_where(q, sql, sizeof sql);
    size_t o = strlen(sql);
    snprintf(sql + o, sizeof sql - o, " ORDER BY %s %s, c.id %s LIMIT ? OFFSET ?",
             order_col[q->sort], q->descending ? "DESC" : "ASC", q->descending ? "DESC" : "ASC");
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    int p = bind_query(st, q);
    sqlite3_bind_int(st, p++, q->limit);
    sqlite3_bind_int(st, p, q->offset);
    *rows = calloc(q->limit ? (size_t)q->limit : 1, sizeof **rows);
    if (!*rows)
        goto out;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && *nrows < q->limit)
        read_case_row(st, &(*rows)[(*nrows)++]);
    rc = (step == SQLITE_DONE || step == SQLITE_ROW) ? STORE_OK : STORE_ERROR;
out:
    if (rc != STORE_OK) {
        log_error("store: list query failed: %s", sqlite3_errmsg(c->db));
        for (int i = 0; i < *nrows; i++)
            store_row_release(&(*rows)[i]);
        free(*rows);
        *rows = NULL;
        *nrows = 0;
    }
    sqlite3_finalize(st);
    reader_release(s, c);
    return rc;
}

static void read_org_row(sqlite3_stmt *st, store_row *r)
{
    memset(r, 0, sizeof *r);
    col_text(st, 0, r->uid, sizeof r->uid);
    r->version = sqlite3_column_int64(st, 1);
    col_text(st, 2, r->created_at, sizeof r->created_at);
    col_text(st, 3, r->updated_at, sizeof r->updated_at);
    r->doc = col_json(st, 4);
}

static int sq_org_get(store *base, const char *id, store_row *out)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    sqlite3_stmt *st = conn_stmt(c, S_ORG_GET);
    if (st) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        int src = sqlite3_step(st);
        if (src == SQLITE_ROW)
            read_org_row(st, out);
        rc = src == SQLITE_ROW ? STORE_OK : src == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERROR;
        sqlite3_reset(st);
    }
    reader_release(s, c);
    return rc;
}

static int sq_org_list(store *base, store_row **rows, int *nrows)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR, cap = 0, src;
    *rows = NULL;
    *nrows = 0;
    sqlite3_stmt *st = conn_stmt(c, S_ORG_LIST);
    if (st) {
        while ((src = sqlite3_step(st)) == SQLITE_ROW) {
            if (*nrows == cap) {
                cap = cap ? cap * 2 : 16;
                store_row *grown = realloc(*rows, (size_t)cap * sizeof **rows);
                if (!grown)
                    break;
                *rows = grown;
            }
            read_org_row(st, &(*rows)[(*nrows)++]);
        }
        rc = src == SQLITE_DONE ? STORE_OK : STORE_ERROR;
        sqlite3_reset(st);
    }
    reader_release(s, c);
    return rc;
}

static int sq_count_cases(store *base, int64_t *n)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    sqlite3_stmt *st = conn_stmt(c, S_COUNT);
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        *n = sqlite3_column_int64(st, 0);
        rc = STORE_OK;
    }
    if (st)
        sqlite3_reset(st);
    reader_release(s, c);
    return rc;
}

/* ==== writes inside a job ================================================= */

const store_ops *store_tx_ops(store_tx *tx)
{
    return tx->s->base.ops;
}

static int tx_case_get(store_tx *tx, const char *key, store_row *out)
{
    return case_lookup(tx->c, key, out);
}

static uint64_t hash_str(const char *k)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ull;
    return h;
}

static void term_cache_clear(term_cache *tc)
{
    for (size_t i = 0; i < tc->cap; i++)
        free(tc->keys[i]);
    free(tc->keys);
    free(tc->ids);
    memset(tc, 0, sizeof *tc);
}

static bool term_cache_get(const term_cache *tc, const char *key, int64_t *id)
{
    if (!tc->cap)
        return false;
    for (size_t i = hash_str(key) & (tc->cap - 1);; i = (i + 1) & (tc->cap - 1)) {
        if (!tc->keys[i])
            return false;
        if (strcmp(tc->keys[i], key) == 0) {
            *id = tc->ids[i];
            return true;
        }
    }
}

/* Adds key → id (at most half full: lookups always end); a failed allocation
 * only means a later cache miss. */
static void term_cache_put(term_cache *tc, const char *key, int64_t id)
{
    if ((tc->n + 1) * 2 > tc->cap) {
        term_cache bigger = {0};
        bigger.cap = tc->cap ? tc->cap * 2 : 256;
        bigger.keys = calloc(bigger.cap, sizeof *bigger.keys);
        bigger.ids = calloc(bigger.cap, sizeof *bigger.ids);
        if (!bigger.keys || !bigger.ids) {
            free(bigger.keys);
            free(bigger.ids);
            return;
        }
        for (size_t i = 0; i < tc->cap; i++) {
            if (!tc->keys[i])
                continue;
            size_t k = hash_str(tc->keys[i]) & (bigger.cap - 1);
            while (bigger.keys[k])
                k = (k + 1) & (bigger.cap - 1);
            bigger.keys[k] = tc->keys[i];
            bigger.ids[k] = tc->ids[i];
        }
        bigger.n = tc->n;
        free(tc->keys);
        free(tc->ids);
        *tc = bigger;
    }
    char *copy = strdup(key);
    if (!copy)
        return;
    size_t k = hash_str(key) & (tc->cap - 1);
    while (tc->keys[k])
        k = (k + 1) & (tc->cap - 1);
    tc->keys[k] = copy;
    tc->ids[k] = id;
    tc->n++;
}

/* The id of the term (field, value), creating it if new. */
static int term_id(store_tx *tx, const char *field, const char *value, int64_t *id)
{
    char key[512];
    size_t fl = strlen(field), vl = strlen(value);
    if (fl + 1 + vl >= sizeof key)
        return STORE_ERROR;
    memcpy(key, field, fl);
    key[fl] = '\x1f';
    memcpy(key + fl + 1, value, vl + 1);
    if (term_cache_get(&tx->s->terms, key, id))
        return STORE_OK;
    sqlite3_stmt *st = conn_stmt(tx->c, S_TERM_ID_GET);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, field, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        term_cache_put(&tx->s->terms, key, *id);
        return STORE_OK;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return STORE_ERROR;
    /* new: not cached until read back, so a rolled-back job leaves no stale id */
    st = conn_stmt(tx->c, S_TERM_ID_NEW);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, field, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    rc = step_done(st, tx->c->db);
    if (rc == STORE_OK)
        *id = sqlite3_last_insert_rowid(tx->c->db);
    return rc;
}

/* S_TERM_INSERT for 1..TERMS_PER_STMT rows at once: one statement step per
 * case instead of one per term.  The texts are built once; sq_stmt caches a
 * statement per text address. */
#define TERMS_PER_STMT 16
static char terms_sql[TERMS_PER_STMT][64 + TERMS_PER_STMT * 8];
static pthread_once_t terms_sql_once = PTHREAD_ONCE_INIT;

static void terms_sql_init(void)
{
    for (int n = 1; n <= TERMS_PER_STMT; n++) {
        char *p = terms_sql[n - 1];
        p += sprintf(p, "INSERT OR IGNORE INTO case_terms(term_id, case_id) VALUES ");
        for (int i = 0; i < n; i++)
            p += sprintf(p, "%s(?,?)", i ? "," : "");
    }
}

static int insert_term_ids(store_tx *tx, int64_t case_id, const int64_t *ids, int n)
{
    if (n == 0)
        return STORE_OK;
    sqlite3_stmt *st = n == 1 ? conn_stmt(tx->c, S_TERM_INSERT) : sq_stmt(tx->c, terms_sql[n - 1]);
    if (!st)
        return STORE_ERROR;
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 2 * i + 1, ids[i]);
        sqlite3_bind_int64(st, 2 * i + 2, case_id);
    }
    return step_done(st, tx->c->db);
}

/* Keeps a (term, case) row of a bulk load for flush_pending_terms. */
static int pend_term(sqlite_store *s, int64_t term, int64_t case_id)
{
    if (s->npending == s->cappending) {
        size_t cap = s->cappending ? s->cappending * 2 : 4096;
        struct term_pair *g = realloc(s->pending, cap * sizeof *g);
        if (!g)
            return STORE_ERROR;
        s->pending = g;
        s->cappending = cap;
    }
    s->pending[s->npending++] = (struct term_pair){term, case_id};
    return STORE_OK;
}

static int cmp_term_pair(const void *a, const void *b)
{
    const struct term_pair *x = a, *y = b;
    if (x->term != y->term)
        return x->term < y->term ? -1 : 1;
    return x->case_id < y->case_id ? -1 : x->case_id > y->case_id;
}

static bool term_pairs_sorted(const struct term_pair *p, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (cmp_term_pair(&p[i - 1], &p[i]) > 0)
            return false;
    return true;
}

/* Sorts the pending rows by term, then case.  A load appends them case after
 * case, so a stable sort on the term alone leaves each term's cases in order:
 * an LSD radix sort, 11 bits a pass over the span of the term ids, linear where
 * qsort spent a tenth of the serial end of a 100,000-case import.  Anything it
 * leaves out of order (an update within the load) goes through qsort. */
static void sort_term_pairs(struct term_pair *p, size_t n)
{
    enum { BITS = 11, BUCKETS = 1 << BITS };
    if (n < 2)
        return;
    int64_t lo = p[0].term, hi = p[0].term;
    for (size_t i = 1; i < n; i++) {
        lo = p[i].term < lo ? p[i].term : lo;
        hi = p[i].term > hi ? p[i].term : hi;
    }
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    struct term_pair *tmp =
        n >= 4096 && span < (UINT64_C(1) << 44) ? malloc(n * sizeof *tmp) : NULL;
    if (tmp) {
        struct term_pair *from = p, *to = tmp;
        for (unsigned shift = 0; shift == 0 || (span >> shift) != 0; shift += BITS) {
            size_t count[BUCKETS] = {0};
            for (size_t i = 0; i < n; i++)
                count[((uint64_t)from[i].term - (uint64_t)lo) >> shift & (BUCKETS - 1)]++;
            for (size_t b = 0, sum = 0; b < BUCKETS; b++) {
                size_t c = count[b];
                count[b] = sum;
                sum += c;
            }
            for (size_t i = 0; i < n; i++)
                to[count[((uint64_t)from[i].term - (uint64_t)lo) >> shift & (BUCKETS - 1)]++] =
                    from[i];
            struct term_pair *t = from;
            from = to;
            to = t;
        }
        if (from != p)
            memcpy(p, from, n * sizeof *p);
        free(tmp);
    }
    if (!term_pairs_sorted(p, n))
        qsort(p, n, sizeof *p, cmp_term_pair);
}

/* Writes the bulk load's pending case_terms rows in key order. */
static int flush_pending_terms(store_tx *tx)
{
    sqlite_store *s = tx->s;
    pthread_once(&terms_sql_once, terms_sql_init);
    sort_term_pairs(s->pending, s->npending);
    int rc = STORE_OK;
    for (size_t i = 0; i < s->npending && rc == STORE_OK;) {
        int n = s->npending - i < TERMS_PER_STMT ? (int)(s->npending - i) : TERMS_PER_STMT;
        sqlite3_stmt *st =
            n == 1 ? conn_stmt(tx->c, S_TERM_INSERT) : sq_stmt(tx->c, terms_sql[n - 1]);
        if (!st)
            return STORE_ERROR;
        for (int k = 0; k < n; k++) {
            sqlite3_bind_int64(st, 2 * k + 1, s->pending[i + k].term);
            sqlite3_bind_int64(st, 2 * k + 2, s->pending[i + k].case_id);
        }
        rc = step_done(st, tx->c->db);
        i += (size_t)n;
    }
    s->npending = 0;
    return rc;
}

/* A case's term ids, in the order of its terms object. */
typedef struct {
    int64_t *ids;
    size_t n, cap;
    int64_t small[32];
} term_list;

static void term_list_free(term_list *l)
{
    if (l->ids != l->small)
        free(l->ids);
}

/* The ids of the terms {field: [values]} (string values only), created if new. */
static int collect_terms(store_tx *tx, const json_t *terms, term_list *out)
{
    *out = (term_list){.cap = sizeof out->small / sizeof *out->small};
    out->ids = out->small;
    const char *field;
    json_t *values;
    json_object_foreach ((json_t *)terms, field, values) {
        size_t i;
        json_t *v;
        json_array_foreach (values, i, v) {
            if (!json_is_string(v))
                continue;
            if (out->n == out->cap) {
                size_t cap = out->cap * 2;
                int64_t *g = malloc(cap * sizeof *g);
                if (!g)
                    return STORE_ERROR;
                memcpy(g, out->ids, out->n * sizeof *g);
                term_list_free(out);
                out->ids = g;
                out->cap = cap;
            }
            int rc = term_id(tx, field, json_string_value(v), &out->ids[out->n]);
            if (rc != STORE_OK)
                return rc;
            out->n++;
        }
    }
    return STORE_OK;
}

/* cases.terms for term ids l: "[id,id,…]", into out (at least 24 bytes a term
 * plus 3); returns out. */
static char *term_list_text(const term_list *l, char *out)
{
    char *p = out;
    *p++ = '[';
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            *p++ = ',';
        /* term ids are positive rowids: digits written backwards, then turned */
        unsigned long long v = l->ids[i] > 0 ? (unsigned long long)l->ids[i] : 0;
        char *first = p;
        do {
            *p++ = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        for (char *a = first, *b = p - 1; a < b; a++, b--) {
            char t = *a;
            *a = *b;
            *b = t;
        }
    }
    *p++ = ']';
    *p = 0;
    return out;
}

/* Indexes case_id under the term ids l: kept for flush_pending_terms during a
 * bulk load, else inserted TERMS_PER_STMT rows a statement. */
static int index_terms(store_tx *tx, int64_t case_id, const term_list *l)
{
    pthread_once(&terms_sql_once, terms_sql_init);
    if (tx->s->bulk && tx == &tx->s->wtx) {
        for (size_t i = 0; i < l->n; i++) {
            int rc = pend_term(tx->s, l->ids[i], case_id);
            if (rc != STORE_OK)
                return rc;
        }
        return STORE_OK;
    }
    for (size_t i = 0; i < l->n; i += TERMS_PER_STMT) {
        size_t n = l->n - i < TERMS_PER_STMT ? l->n - i : TERMS_PER_STMT;
        int rc = insert_term_ids(tx, case_id, l->ids + i, (int)n);
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

/* The text of term ids l for cases.terms: in buf when it fits, else allocated
 * into *own (NULL when out of memory). */
static const char *terms_column(const term_list *l, char *buf, size_t buflen, char **own)
{
    *own = NULL;
    size_t need = l->n * 24 + 3;
    if (need <= buflen)
        return term_list_text(l, buf);
    *own = malloc(need);
    return *own ? term_list_text(l, *own) : NULL;
}

static int tx_case_insert(store_tx *tx, store_row *r, const json_t *terms)
{
    term_list l;
    int rc = collect_terms(tx, terms, &l);
    char buf[1024], *own = NULL;
    const char *terms_text = rc == STORE_OK ? terms_column(&l, buf, sizeof buf, &own) : NULL;
    sqlite3_stmt *st = terms_text ? conn_stmt(tx->c, S_CASE_INSERT) : NULL;
    if (!st) {
        term_list_free(&l);
        return STORE_ERROR;
    }
    sqlite3_bind_text(st, 1, r->uid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->reference, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, r->version);
    sqlite3_bind_text(st, 4, r->registered_on, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->owner_org, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->created_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->updated_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, r->created_by, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, r->updated_by, -1, SQLITE_STATIC);
    bool ok;
    char *text = bind_row_doc(st, 10, r, &ok);
    sqlite3_bind_text(st, 11, terms_text, -1, SQLITE_STATIC);
    rc = ok ? step_done(st, tx->c->db) : STORE_ERROR;
    free(text);
    if (rc == STORE_OK) {
        r->id = sqlite3_last_insert_rowid(tx->c->db);
        rc = index_terms(tx, r->id, &l);
    }
    free(own);
    term_list_free(&l);
    return rc;
}

static int tx_case_update(store_tx *tx, store_row *r, int64_t expected, const json_t *terms)
{
    term_list l = {.ids = NULL};
    char buf[1024], *own = NULL;
    const char *terms_text = NULL;
    int rc = STORE_OK;
    if (tx->s->bulk && tx->s->npending && (rc = flush_pending_terms(tx)) != STORE_OK)
        return rc; /* the old terms must be in the table to be deleted */
    if (terms) {
        /* drop the old terms first, found through the row's copy of them; a
         * version conflict below rolls this back with the job */
        sqlite3_stmt *del = conn_stmt(tx->c, S_TERM_DELETE);
        if (!del)
            return STORE_ERROR;
        sqlite3_bind_int64(del, 1, r->id);
        if ((rc = step_done(del, tx->c->db)) != STORE_OK)
            return rc;
        rc = collect_terms(tx, terms, &l);
        terms_text = rc == STORE_OK ? terms_column(&l, buf, sizeof buf, &own) : NULL;
        if (!terms_text) {
            term_list_free(&l);
            return STORE_ERROR;
        }
    }
    sqlite3_stmt *st = conn_stmt(tx->c, S_CASE_UPDATE);
    if (st) {
        sqlite3_bind_int64(st, 1, r->version);
        sqlite3_bind_text(st, 2, r->registered_on, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, r->owner_org, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->updated_at, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->updated_by, -1, SQLITE_STATIC);
        char *text = bind_doc(st, 6, r->doc);
        sqlite3_bind_int64(st, 7, r->id);
        sqlite3_bind_int64(st, 8, expected);
        if (terms_text)
            sqlite3_bind_text(st, 9, terms_text, -1, SQLITE_STATIC);
        rc = text ? step_done(st, tx->c->db) : STORE_ERROR;
        free(text);
    } else {
        rc = STORE_ERROR;
    }
    if (rc == STORE_OK && sqlite3_changes(tx->c->db) == 0)
        rc = STORE_CONFLICT;
    if (rc == STORE_OK && terms)
        rc = index_terms(tx, r->id, &l);
    free(own);
    if (terms)
        term_list_free(&l);
    return rc;
}

static int tx_children(store_tx *tx, int64_t case_id, json_t **out)
{
    return children_of(tx->c, case_id, false, out);
}

static int tx_child_get(store_tx *tx, int64_t case_id, const char *kind, const char *uid,
                        store_row *out)
{
    sqlite3_stmt *st = conn_stmt(tx->c, S_CHILD_GET);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, uid, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_child_row(st, out);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERROR;
}

static int tx_child_insert(store_tx *tx, store_row *r)
{
    sqlite3_stmt *st = conn_stmt(tx->c, S_CHILD_INSERT);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, r->uid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, r->case_id);
    sqlite3_bind_text(st, 3, r->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, r->version);
    sqlite3_bind_text(st, 5, r->created_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->updated_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->created_by, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, r->updated_by, -1, SQLITE_STATIC);
    bool ok;
    char *text = bind_row_doc(st, 9, r, &ok);
    sqlite3_bind_text(st, 10, r->sort_key, -1, SQLITE_STATIC);
    int rc = ok ? step_done(st, tx->c->db) : STORE_ERROR;
    free(text);
    if (rc == STORE_OK)
        r->id = sqlite3_last_insert_rowid(tx->c->db);
    return rc;
}

static int tx_child_update(store_tx *tx, store_row *r, int64_t expected)
{
    sqlite3_stmt *st = conn_stmt(tx->c, S_CHILD_UPDATE);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, r->version);
    sqlite3_bind_text(st, 2, r->updated_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->updated_by, -1, SQLITE_STATIC);
    char *text = bind_doc(st, 4, r->doc);
    sqlite3_bind_int64(st, 5, r->id);
    sqlite3_bind_int64(st, 6, expected);
    sqlite3_bind_text(st, 7, r->sort_key, -1, SQLITE_STATIC);
    int rc = text ? step_done(st, tx->c->db) : STORE_ERROR;
    free(text);
    if (rc == STORE_OK && sqlite3_changes(tx->c->db) == 0)
        rc = STORE_CONFLICT;
    return rc;
}

static int tx_child_delete(store_tx *tx, int64_t case_id, const char *kind, const char *uid)
{
    sqlite3_stmt *st = conn_stmt(tx->c, S_CHILD_DELETE);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, uid, -1, SQLITE_STATIC);
    int rc = step_done(st, tx->c->db);
    if (rc == STORE_OK && sqlite3_changes(tx->c->db) == 0)
        rc = STORE_NOTFOUND;
    return rc;
}

static int tx_history_add(store_tx *tx, int64_t case_id, int64_t version, const char *at,
                          const char *actor, const char *action, const char *target,
                          const json_t *fields)
{
    sqlite3_stmt *st = conn_stmt(tx->c, S_HISTORY_ADD);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_int64(st, 2, version);
    sqlite3_bind_text(st, 3, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, action, -1, SQLITE_STATIC);
    if (target)
        sqlite3_bind_text(st, 6, target, -1, SQLITE_STATIC);
    char *text = bind_doc(st, 7, fields);
    int rc = text ? step_done(st, tx->c->db) : STORE_ERROR;
    free(text);
    return rc;
}

static int tx_next_sequence(store_tx *tx, const char *name, int64_t *value)
{
    sqlite3_stmt *st = conn_stmt(tx->c, S_SEQ_NEXT);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *value = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? STORE_OK : STORE_ERROR;
}

static int tx_org_put(store_tx *tx, store_row *r)
{
    sqlite3_stmt *st = conn_stmt(tx->c, S_ORG_PUT);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, r->uid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->updated_at, -1, SQLITE_STATIC);
    bool ok;
    char *text = bind_row_doc(st, 3, r, &ok);
    int rc = ok ? sqlite3_step(st) : SQLITE_ERROR;
    if (rc == SQLITE_ROW) {
        r->version = sqlite3_column_int64(st, 0);
        col_text(st, 1, r->created_at, sizeof r->created_at);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(st);
    free(text);
    if (rc != SQLITE_DONE)
        log_error("store: %s", sqlite3_errmsg(tx->c->db));
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

/* ==== the writer: group commit ============================================ */

/* Runs one of the cached savepoint statements; STORE_OK or STORE_ERROR. */
static int savepoint(conn *c, int which)
{
    sqlite3_stmt *st = conn_stmt(c, which);
    return st ? step_done(st, c->db) : STORE_ERROR;
}

static void run_batch(sqlite_store *s, job *batch)
{
    sqlite3 *db = s->writer.db;
    bool ok = exec_sql(db, "BEGIN IMMEDIATE") == STORE_OK;
    for (job *j = batch; j; j = j->next) {
        if (!ok) {
            j->rc = STORE_ERROR;
            continue;
        }
        if (savepoint(&s->writer, S_SAVEPOINT) != STORE_OK) {
            j->rc = STORE_ERROR;
            continue;
        }
        j->rc = j->fn(&s->wtx, j->arg);
        if (j->rc != STORE_OK) {
            savepoint(&s->writer, S_ROLLBACK_TO);
            sq_audit_notes_clear(s);
        }
        savepoint(&s->writer, S_RELEASE);
    }
    if (ok && exec_sql(db, "COMMIT") != STORE_OK) {
        exec_sql(db, "ROLLBACK");
        term_cache_clear(&s->terms);
        sq_audit_notes_clear(s);
        for (job *j = batch; j; j = j->next) {
            if (j->rc == STORE_OK)
                j->rc = STORE_ERROR;
        }
    }
    sq_rowcache_write_ended(s->rows); /* after the commit: see sqlite_rowcache.c */
}

static void *writer_main(void *arg)
{
    sqlite_store *s = arg;
    pthread_setname_np(pthread_self(), "amparo-writer");
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        if (!s->head) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        job *batch = s->head, *last = s->head;
        int n = 1;
        while (last->next && n < MAX_BATCH) {
            last = last->next;
            n++;
        }
        s->head = last->next;
        if (!s->head)
            s->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&s->mu);

        pthread_mutex_lock(&s->wlock);
        run_batch(s, batch);
        pthread_mutex_unlock(&s->wlock);

        pthread_mutex_lock(&s->dmu);
        if (s->done_tail)
            s->done_tail->next = batch;
        else
            s->done_head = batch;
        s->done_tail = last;
        pthread_cond_signal(&s->dcv);
        pthread_mutex_unlock(&s->dmu);
    }
    return NULL;
}

/* Runs the done callbacks of committed batches, in commit order. */
static void *completer_main(void *arg)
{
    sqlite_store *s = arg;
    pthread_setname_np(pthread_self(), "amparo-done");
    for (;;) {
        pthread_mutex_lock(&s->dmu);
        while (!s->done_head && !s->done_stopping)
            pthread_cond_wait(&s->dcv, &s->dmu);
        job *list = s->done_head;
        s->done_head = s->done_tail = NULL;
        pthread_mutex_unlock(&s->dmu);
        if (!list)
            break;
        while (list) {
            job *next = list->next;
            if (list->done)
                list->done(list->arg, list->rc);
            free(list);
            list = next;
        }
    }
    return NULL;
}

static int sq_submit(store *base, store_job_fn fn, store_done_fn done, void *arg)
{
    sqlite_store *s = (sqlite_store *)base;
    job *j = calloc(1, sizeof *j);
    if (!j)
        return STORE_ERROR;
    j->fn = fn;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        free(j);
        return STORE_ERROR;
    }
    if (s->tail)
        s->tail->next = j;
    else
        s->head = j;
    s->tail = j;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return STORE_OK;
}

static int sq_bulk_begin(store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    pthread_mutex_lock(&s->wlock);
    /* bulk loads touch many index pages: a larger cache for their duration, so
     * fewer pages are spilled to the WAL and written again before the commit (an
     * eighth of the physical memory, 64 MiB to 1 GiB; pages are allocated only
     * as the load needs them) */
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    long long kib = pages > 0 && psize > 0 ? (long long)pages * psize / 8 / 1024 : 0;
    kib = kib < 65536 ? 65536 : kib > 1048576 ? 1048576 : kib;
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size = -%lld", kib);
    exec_sql(s->writer.db, pragma);
    /* foreign keys are checked once for the whole load (bulk_references_ok)
     * instead of by a parent lookup per inserted row; this pragma only takes
     * effect outside a transaction */
    exec_sql(s->writer.db, "PRAGMA foreign_keys = OFF");
    if (exec_sql(s->writer.db, "BEGIN IMMEDIATE") != STORE_OK) {
        pthread_mutex_unlock(&s->wlock);
        return STORE_ERROR;
    }
    s->bulk = true;
    s->npending = 0;
    s->bulk_first_case = 1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->writer.db, "SELECT coalesce(max(id), 0) + 1 FROM cases", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        s->bulk_first_case = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return STORE_OK;
}

/* The references a bulk load's rows hold, checked at once before its commit
 * (foreign_keys is off during the load).  Of the references of the rows a load
 * inserts — case_terms (term_id, case_id), case_children and case_history
 * (case_id), cases (owner_org) — all but the owner organisation are the ids the
 * same transaction just read or inserted; the owner comes from the input, so it
 * is checked here for every new case.  STORE_OK or STORE_CONFLICT. */
static int bulk_references_ok(sqlite_store *s)
{
    static const char sql[] =
        "SELECT count(*) FROM cases c WHERE c.id >= ?1 AND c.owner_org IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM organisations o WHERE o.id = c.owner_org)";
    sqlite3_stmt *st = NULL;
    int rc = STORE_ERROR;
    if (sqlite3_prepare_v2(s->writer.db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, s->bulk_first_case);
        if (sqlite3_step(st) == SQLITE_ROW)
            rc = sqlite3_column_int64(st, 0) == 0 ? STORE_OK : STORE_CONFLICT;
    }
    sqlite3_finalize(st);
    if (rc != STORE_OK)
        log_error("store: a bulk load names an organisation that does not exist");
    return rc;
}

static int sq_bulk_end(store *base, bool commit)
{
    sqlite_store *s = (sqlite_store *)base;
    int rc = STORE_OK;
    if (commit && s->npending)
        rc = flush_pending_terms(&s->wtx);
    if (commit && rc == STORE_OK)
        rc = bulk_references_ok(s);
    s->bulk = false;
    s->npending = 0;
    free(s->pending);
    s->pending = NULL;
    s->cappending = 0;
    if (rc != STORE_OK)
        commit = false;
    sq_bulk_checkpoint_defer(s);
    int rc2 = exec_sql(s->writer.db, commit ? "COMMIT" : "ROLLBACK");
    rc = rc != STORE_OK ? rc : rc2;
    if (rc != STORE_OK && commit)
        exec_sql(s->writer.db, "ROLLBACK");
    sq_bulk_checkpoint_after(s, commit && rc == STORE_OK);
    if (rc != STORE_OK || !commit) {
        term_cache_clear(&s->terms);
        sq_audit_notes_clear(s);
    }
    sq_rowcache_write_ended(s->rows); /* after the commit: see sqlite_rowcache.c */
    exec_sql(s->writer.db, "PRAGMA foreign_keys = ON");
    exec_sql(s->writer.db, "PRAGMA cache_size = -8000");
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static store_tx *sq_bulk_tx(store *base)
{
    return &((sqlite_store *)base)->wtx;
}

static void sq_close(store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    if (s->completer_started) { /* after the writer: every batch gets its callbacks */
        pthread_mutex_lock(&s->dmu);
        s->done_stopping = true;
        pthread_cond_signal(&s->dcv);
        pthread_mutex_unlock(&s->dmu);
        pthread_join(s->completer, NULL);
    }
    while (s->free_readers) {
        conn *c = s->free_readers;
        s->free_readers = c->next;
        conn_close(c);
        free(c);
    }
    sq_bulk_checkpoint_join(s); /* before the last connection closes */
    if (s->writer.db) {
        sqlite3_exec(s->writer.db, "PRAGMA optimize", NULL, NULL, NULL);
        conn_close(&s->writer);
    }
    term_cache_clear(&s->terms);
    sq_audit_notes_free(s);
    sq_rowcache_close(s->rows);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->wlock);
    pthread_mutex_destroy(&s->rmu);
    pthread_mutex_destroy(&s->dmu);
    pthread_cond_destroy(&s->cv);
    pthread_cond_destroy(&s->dcv);
    free(s->path);
    free(s);
}

static const store_ops sqlite_ops = {
    .engine = "sqlite",
    .close = sq_close,
    .submit = sq_submit,
    .case_get = sq_case_get,
    .case_get_raw = sq_case_get_raw,
    .case_list = sq_case_list,
    .child_get = sq_child_get,
    .history = sq_history,
    .org_get = sq_org_get,
    .org_list = sq_org_list,
    .count_cases = sq_count_cases,
    .bulk_begin = sq_bulk_begin,
    .bulk_end = sq_bulk_end,
    .bulk_tx = sq_bulk_tx,
    .tx_case_get = tx_case_get,
    .tx_case_insert = tx_case_insert,
    .tx_case_update = tx_case_update,
    .tx_children = tx_children,
    .tx_child_get = tx_child_get,
    .tx_child_insert = tx_child_insert,
    .tx_child_update = tx_child_update,
    .tx_child_delete = tx_child_delete,
    .tx_history_add = tx_history_add,
    .tx_next_sequence = tx_next_sequence,
    .tx_org_put = tx_org_put,
    .record_get = sq_record_get,
    .record_list = sq_record_list,
    .tx_record_get = sq_tx_record_get,
    .tx_record_put = sq_tx_record_put,
    .tx_record_delete = sq_tx_record_delete,
    .case_orgs = sq_case_orgs,
    .tx_case_grant = sq_tx_case_grant,
    .tx_case_revoke = sq_tx_case_revoke,
    .user_get = sq_user_get,
    .user_list = sq_user_list,
    .user_count = sq_user_count,
    .tx_user_put = sq_tx_user_put,
    .session_get = sq_session_get,
    .session_list = sq_session_list,
    .tx_session_put = sq_tx_session_put,
    .tx_session_delete = sq_tx_session_delete,
    .tx_session_touch = sq_tx_session_touch,
    .tx_case_restrict = sq_tx_case_restrict,
    .tx_audit_head = sq_tx_audit_head,
    .tx_audit_append = sq_tx_audit_append,
    .audit_head = sq_audit_head,
    .audit_list = sq_audit_list,
    .audit_scan = sq_audit_scan,
    .key_get = sq_key_get,
    .key_counts = sq_key_counts,
    .checkpoint = sq_checkpoint,
    .tx_key_get = sq_tx_key_get,
    .tx_key_put = sq_tx_key_put,
    .tx_key_delete = sq_tx_key_delete,
    .tx_keys_below = sq_tx_keys_below,
    .tx_record_list = sq_tx_record_list,
    .tx_sequence_get = sq_tx_sequence_get,
    .tx_sequence_set = sq_tx_sequence_set,
    .tx_history_add_text = sq_tx_history_add_text,
    .audit_scan_checked = sq_audit_scan_checked,
    .tx_audit_keys_rebuild = sq_tx_audit_keys_rebuild,
    .tx_field_list_add = sq_tx_field_list_add,
    .tx_audit_append_n = sq_tx_audit_append_n,
};

store *store_sqlite_open(const char *path, char *err, size_t errlen)
{
    sqlite_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.ops = &sqlite_ops;
    s->path = strdup(path);
    s->wtx.s = s;
    s->wtx.c = &s->writer;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->wlock, NULL);
    pthread_mutex_init(&s->rmu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->dmu, NULL);
    pthread_cond_init(&s->dcv, NULL);
    if (!s->path || conn_open(&s->writer, path, true, err, errlen) < 0 ||
        migrate(&s->writer, err, errlen) < 0)
        goto fail;
    sq_bulk_wal_hook(s);
    s->rows = sq_rowcache_open(path);
    sq_rowcache_settle(s->rows, s->writer.db);
    sq_rowcache_watch(s->rows, s->writer.db, &s->touched);
    if (pthread_create(&s->completer, NULL, completer_main, s) != 0) {
        snprintf(err, errlen, "cannot start the completion thread");
        goto fail;
    }
    s->completer_started = true;
    if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
        snprintf(err, errlen, "cannot start the writer thread");
        goto fail;
    }
    s->started = true;
    return &s->base;
fail:
    sq_close(&s->base);
    return NULL;
}

/* ==== engine-independent helpers ========================================= */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool finished;
    int rc;
} waiter;

static void waiter_done(void *arg, int rc)
{
    waiter *w = arg;
    pthread_mutex_lock(&w->mu);
    w->rc = rc;
    w->finished = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

typedef struct {
    store_job_fn fn;
    void *arg;
    waiter w;
} sync_job;

static int sync_trampoline(store_tx *tx, void *arg)
{
    sync_job *sj = arg;
    return sj->fn(tx, sj->arg);
}

static void sync_done(void *arg, int rc)
{
    waiter_done(&((sync_job *)arg)->w, rc);
}

int store_run(store *s, store_job_fn fn, void *arg)
{
    sync_job sj = {.fn = fn, .arg = arg};
    pthread_mutex_init(&sj.w.mu, NULL);
    pthread_cond_init(&sj.w.cv, NULL);
    int rc = store_submit(s, sync_trampoline, sync_done, &sj);
    if (rc == STORE_OK) {
        pthread_mutex_lock(&sj.w.mu);
        while (!sj.w.finished)
            pthread_cond_wait(&sj.w.cv, &sj.w.mu);
        pthread_mutex_unlock(&sj.w.mu);
        rc = sj.w.rc;
    }
    pthread_mutex_destroy(&sj.w.mu);
    pthread_cond_destroy(&sj.w.cv);
    return rc;
}
