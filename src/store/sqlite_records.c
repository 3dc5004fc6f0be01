/* sqlite_records.c — generic domain records and case access grants, SQLite.
 *
 * A record is a JSON document with a handful of indexed columns (kind, case,
 * organisations, status, due date); the core decides what each kind means. */
#include "store/sqlite_int.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_COLS                                                                                \
    "id, kind, uid, case_uid, org, org2, status, due, version, created_at, updated_at, "           \
    "created_by, updated_by, doc"

static const char sql_get[] = "SELECT " RECORD_COLS " FROM records WHERE kind = ?1 AND uid = ?2";
static const char sql_insert[] =
    "INSERT INTO records(kind, uid, case_uid, org, org2, status, due, version, created_at, "
    "updated_at, created_by, updated_by, doc) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?8, ?9, ?9, ?10)";
static const char sql_update[] =
    "UPDATE records SET case_uid = ?3, org = ?4, org2 = ?5, status = ?6, due = ?7, "
    "version = version + 1, updated_at = ?8, updated_by = ?9, doc = ?10 "
    "WHERE kind = ?1 AND uid = ?2 AND version = ?11";
static const char sql_exists[] = "SELECT version FROM records WHERE kind = ?1 AND uid = ?2";
static const char sql_delete[] = "DELETE FROM records WHERE kind = ?1 AND uid = ?2";
static const char sql_orgs[] =
    "SELECT org, via, at FROM case_access WHERE case_id = ?1 ORDER BY at, org";
static const char sql_grant[] = "INSERT INTO case_access(case_id, org, via, at) VALUES "
                                "(?1, ?2, ?3, ?4) ON CONFLICT(case_id, org) DO NOTHING";
static const char sql_revoke[] = "DELETE FROM case_access WHERE case_id = ?1 AND org = ?2";

void store_record_release(store_record *r)
{
    if (r) {
        json_decref(r->doc);
        r->doc = NULL;
    }
}

static void read_record(sqlite3_stmt *st, store_record *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    col_text(st, 1, r->kind, sizeof r->kind);
    col_text(st, 2, r->uid, sizeof r->uid);
    col_text(st, 3, r->case_uid, sizeof r->case_uid);
    col_text(st, 4, r->org, sizeof r->org);
    col_text(st, 5, r->org2, sizeof r->org2);
    col_text(st, 6, r->status, sizeof r->status);
    col_text(st, 7, r->due, sizeof r->due);
    r->version = sqlite3_column_int64(st, 8);
    col_text(st, 9, r->created_at, sizeof r->created_at);
    col_text(st, 10, r->updated_at, sizeof r->updated_at);
    col_text(st, 11, r->created_by, sizeof r->created_by);
    col_text(st, 12, r->updated_by, sizeof r->updated_by);
    r->doc = col_json(st, 13);
}

static int record_get_on(conn *c, const char *kind, const char *uid, store_record *out)
{
    sqlite3_stmt *st = sq_stmt(c, sql_get);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, uid, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_record(st, out);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERROR;
}

int sq_record_get(store *base, const char *kind, const char *uid, store_record *out)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = record_get_on(c, kind, uid, out);
    reader_release(s, c);
    return rc;
}

int sq_tx_record_get(store_tx *tx, const char *kind, const char *uid, store_record *out)
{
    return record_get_on(tx->c, kind, uid, out);
}

/* ---- lists: the WHERE clause is built from fixed fragments only; every value
 * is a bound parameter ---- */

#define MAX_STATUSES 8

typedef struct {
    char where[1024];
    const char *binds[24];
    int nbinds;
    char status_buf[256];
} record_where;

static void where_add(record_where *w, const char *fragment, const char *value)
{
    size_t o = strlen(w->where);
    snprintf(w->where + o, sizeof w->where - o, " AND %s", fragment);
    w->binds[w->nbinds++] = value;
}

static void build_where(const store_record_query *q, record_where *w)
{
    memset(w, 0, sizeof *w);
    snprintf(w->where, sizeof w->where, "kind = ?");
    w->binds[w->nbinds++] = q->kind;
    if (q->case_uid)
        where_add(w, "case_uid = ?", q->case_uid);
    if (q->org)
        where_add(w, "org = ?", q->org);
    if (q->org2)
        where_add(w, "org2 = ?", q->org2);
    if (q->org_any) {
        where_add(w, "(org = ? OR org2 = ?)", q->org_any);
        w->binds[w->nbinds++] = q->org_any; /* the second placeholder */
    }
    if (q->status && *q->status) {
        snprintf(w->status_buf, sizeof w->status_buf, "%s", q->status);
        size_t o = strlen(w->where);
        snprintf(w->where + o, sizeof w->where - o, " AND status IN (");
        int n = 0;
        char *save = NULL;
        for (char *tok = strtok_r(w->status_buf, ",", &save); tok && n < MAX_STATUSES;
             tok = strtok_r(NULL, ",", &save)) {
            o = strlen(w->where);
            snprintf(w->where + o, sizeof w->where - o, "%s?", n ? ", " : "");
            w->binds[w->nbinds++] = tok;
            n++;
        }
        o = strlen(w->where);
        snprintf(w->where + o, sizeof w->where - o, "%s)", n ? "" : "NULL");
    }
    if (q->due_before)
        where_add(w, "due <> '' AND due < ?", q->due_before);
    if (q->due_from)
        where_add(w, "due >= ?", q->due_from);
    if (q->due_to)
        where_add(w, "due <= ?", q->due_to);
}

static void bind_where(sqlite3_stmt *st, const record_where *w)
{
    for (int i = 0; i < w->nbinds; i++)
        sqlite3_bind_text(st, i + 1, w->binds[i], -1, SQLITE_STATIC);
}

/* The list on connection c (a reader, or the writer inside a job). */
static int record_list_on(conn *c, const store_record_query *q, store_record **rows, int *nrows,
                          int64_t *total)
{
    *rows = NULL;
    *nrows = 0;
    if (total)
        *total = 0;
    if (!q->kind)
        return STORE_ERROR;
    record_where w;
    build_where(q, &w);
    char sql[1400];
    snprintf(sql, sizeof sql, "SELECT " RECORD_COLS " FROM records WHERE %s ORDER BY %s %s, id %s",
             w.where, q->by_due ? "due" : "id", q->descending ? "DESC" : "ASC",
             q->descending ? "DESC" : "ASC");
    if (q->limit > 0) {
        size_t o = strlen(sql);
        snprintf(sql + o, sizeof sql - o, " LIMIT %d OFFSET %d", q->limit,
                 q->offset > 0 ? q->offset : 0);
    }
    int rc = STORE_ERROR;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("store: cannot prepare a record list: %s", sqlite3_errmsg(c->db));
        goto out;
    }
    bind_where(st, &w);
    int cap = 0, src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (*nrows == cap) {
            cap = cap ? cap * 2 : 16;
            store_record *grown = realloc(*rows, (size_t)cap * sizeof **rows);
            if (!grown) {
                src = SQLITE_NOMEM;
                break;
            }
            *rows = grown;
        }
        read_record(st, &(*rows)[(*nrows)++]);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (src != SQLITE_DONE)
        goto out;
    if (total) {
        if (q->limit <= 0) {
            *total = *nrows;
        } else {
            snprintf(sql, sizeof sql, "SELECT count(*) FROM records WHERE %s", w.where);
            if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
                goto out;
            bind_where(st, &w);
            if (sqlite3_step(st) != SQLITE_ROW)
                goto out;
            *total = sqlite3_column_int64(st, 0);
        }
    }
    rc = STORE_OK;
out:
    sqlite3_finalize(st);
    if (rc != STORE_OK) {
        for (int i = 0; i < *nrows; i++)
            store_record_release(&(*rows)[i]);
        free(*rows);
        *rows = NULL;
        *nrows = 0;
    }
    return rc;
}

int sq_record_list(store *base, const store_record_query *q, store_record **rows, int *nrows,
                   int64_t *total)
{
    sqlite_store *s = (sqlite_store *)base;
    *rows = NULL;
    *nrows = 0;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = record_list_on(c, q, rows, nrows, total);
    reader_release(s, c);
    return rc;
}

int sq_tx_record_list(store_tx *tx, const store_record_query *q, store_record **rows, int *nrows,
                      int64_t *total)
{
    return record_list_on(tx->c, q, rows, nrows, total);
}

int sq_tx_record_put(store_tx *tx, store_record *r, int64_t expected_version)
{
    conn *c = tx->c;
    sqlite3_stmt *st = sq_stmt(c, expected_version > 0 ? sql_update : sql_insert);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, r->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->uid, -1, SQLITE_STATIC);
    if (expected_version > 0) {
        sqlite3_bind_text(st, 3, r->case_uid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->org, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->org2, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, r->status, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, r->due, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, r->updated_at, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, r->updated_by, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 11, expected_version);
    } else {
        sqlite3_bind_text(st, 3, r->case_uid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->org, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->org2, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, r->status, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, r->due, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, r->created_at[0] ? r->created_at : r->updated_at, -1,
                          SQLITE_STATIC);
        sqlite3_bind_text(st, 9, r->created_by[0] ? r->created_by : r->updated_by, -1,
                          SQLITE_STATIC);
    }
    char *text = bind_doc(st, 10, r->doc);
    if (!text)
        return STORE_ERROR;
    int rc = step_done(st, c->db);
    free(text);
    if (rc != STORE_OK)
        return rc;
    if (expected_version > 0) {
        if (sqlite3_changes(c->db) == 0) {
            sqlite3_stmt *ex = sq_stmt(c, sql_exists);
            if (!ex)
                return STORE_ERROR;
            sqlite3_bind_text(ex, 1, r->kind, -1, SQLITE_STATIC);
            sqlite3_bind_text(ex, 2, r->uid, -1, SQLITE_STATIC);
            int e = sqlite3_step(ex);
            sqlite3_reset(ex);
            return e == SQLITE_ROW    ? STORE_CONFLICT
                   : e == SQLITE_DONE ? STORE_NOTFOUND
                                      : STORE_ERROR;
        }
        r->version = expected_version + 1;
    } else {
        r->id = sqlite3_last_insert_rowid(c->db);
        r->version = 1;
        if (!r->created_at[0])
            snprintf(r->created_at, sizeof r->created_at, "%s", r->updated_at);
        if (!r->created_by[0])
            snprintf(r->created_by, sizeof r->created_by, "%s", r->updated_by);
    }
    return STORE_OK;
}

int sq_tx_record_delete(store_tx *tx, const char *kind, const char *uid)
{
    sqlite3_stmt *st = sq_stmt(tx->c, sql_delete);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, uid, -1, SQLITE_STATIC);
    int rc = step_done(st, tx->c->db);
    if (rc == STORE_OK && sqlite3_changes(tx->c->db) == 0)
        rc = STORE_NOTFOUND;
    return rc;
}

int sq_case_orgs(store *base, int64_t case_id, json_t **out)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    sqlite3_stmt *st = sq_stmt(c, sql_orgs);
    if (st) {
        sqlite3_bind_int64(st, 1, case_id);
        json_t *arr = json_array();
        int src;
        while ((src = sqlite3_step(st)) == SQLITE_ROW) {
            char org[72], via[72], at[32];
            col_text(st, 0, org, sizeof org);
            col_text(st, 1, via, sizeof via);
            col_text(st, 2, at, sizeof at);
            json_array_append_new(arr,
                                  json_pack("{s:s, s:s, s:s}", "org", org, "via", via, "at", at));
        }
        sqlite3_reset(st);
        if (src == SQLITE_DONE) {
            *out = arr;
            rc = STORE_OK;
        } else {
            json_decref(arr);
        }
    }
    reader_release(s, c);
    return rc;
}

int sq_tx_case_grant(store_tx *tx, int64_t case_id, const char *org, const char *via,
                     const char *at)
{
    sqlite3_stmt *st = sq_stmt(tx->c, sql_grant);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, via, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, at, -1, SQLITE_STATIC);
    return step_done(st, tx->c->db);
}

int sq_tx_case_revoke(store_tx *tx, int64_t case_id, const char *org)
{
    sqlite3_stmt *st = sq_stmt(tx->c, sql_revoke);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
    return step_done(st, tx->c->db);
}
