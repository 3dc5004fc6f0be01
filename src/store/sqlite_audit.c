/* sqlite_audit.c — the audit trail's rows, SQLite.
 *
 * The store keeps entries exactly as the core builds them (seq, prev and hash
 * included) and never computes the chain: it holds no key.  The table is
 * append-only (triggers refuse UPDATE and DELETE: see the "audit trail" migration). */
#include "store/sqlite_int.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_COLS "seq, at, actor, org, addr, action, object_type, object_id, detail, prev, hash"

static const char sql_head[] = "SELECT " AUDIT_COLS " FROM audit ORDER BY seq DESC LIMIT 1";
static const char sql_append[] =
    "INSERT INTO audit(seq, at, actor, org, addr, action, object_type, object_id, detail, prev, "
    "hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char sql_scan[] = "SELECT " AUDIT_COLS " FROM audit ORDER BY seq";

/* The lookup table audit_keys (migration 6) holds (bucket, key, seq) for the
 * keys 'a:' actor and 'o:' object id, bucket = (seq - 1) / AUDIT_KEYS_BUCKET.  The
 * transaction that appends an entry whose seq is a multiple of the bucket size
 * adds the entries not yet in it: a sorted block at the end of the table, a few
 * dozen pages, instead of two index updates at random places for every entry
 * (which an audited read would pay, and which rewrite index pages in the WAL at
 * every commit).  A lookup seeks each bucket (a few hundred per million entries)
 * and scans the tail not yet in the table. */
#define AUDIT_KEYS_BUCKET 2048
#define STR_(x) #x
#define STR(x) STR_(x)
static const char sql_keys_catch_up[] =
    "INSERT OR IGNORE INTO audit_keys(bucket, k, seq) SELECT (seq - 1) / " STR(
        AUDIT_KEYS_BUCKET) ", k, seq FROM ("
                           "  SELECT 'a:' || actor AS k, seq FROM audit"
                           "    WHERE seq > (SELECT seq FROM audit_keys_upto)"
                           "  UNION ALL SELECT 'o:' || object_id, seq FROM audit"
                           "    WHERE seq > (SELECT seq FROM audit_keys_upto) AND object_id <> '')"
                           " ORDER BY 1, 2, 3";
static const char sql_keys_upto[] =
    "UPDATE audit_keys_upto SET seq = (SELECT coalesce(max(seq), 0) FROM audit)";
/* the entries whose key is ?: those in the table, bucket by bucket, and the tail */
#define KEYED_SEQS                                                                                 \
    "seq IN (WITH RECURSIVE b(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM b WHERE n < "            \
    "(SELECT (seq - 1) / " STR(AUDIT_KEYS_BUCKET) " FROM audit_keys_upto)) "                       \
                                                  "SELECT x.seq FROM b CROSS JOIN audit_keys x "   \
                                                  "ON x.bucket = b.n AND x.k = ? "                 \
                                                  "UNION ALL SELECT seq FROM audit WHERE seq > "   \
                                                  "(SELECT seq FROM audit_keys_upto))"

void store_audit_entry_release(store_audit_entry *e)
{
    if (!e)
        return;
    const char **fields[] = {&e->actor,       &e->org,       &e->addr,  &e->action,
                             &e->object_type, &e->object_id, &e->detail};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        free((void *)*fields[i]);
        *fields[i] = NULL;
    }
}

/* A copy of text column i ("" for NULL); NULL when out of memory. */
static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    size_t n = t ? (size_t)sqlite3_column_bytes(st, i) : 0;
    char *out = malloc(n + 1);
    if (out) {
        if (n)
            memcpy(out, t, n);
        out[n] = '\0';
    }
    return out;
}

/* Fills e from the current row; STORE_OK or STORE_ERROR (out of memory). */
static int read_entry(sqlite3_stmt *st, store_audit_entry *e)
{
    memset(e, 0, sizeof *e);
    e->seq = sqlite3_column_int64(st, 0);
    col_text(st, 1, e->at, sizeof e->at);
    e->actor = col_dup(st, 2);
    e->org = col_dup(st, 3);
    e->addr = col_dup(st, 4);
    e->action = col_dup(st, 5);
    e->object_type = col_dup(st, 6);
    e->object_id = col_dup(st, 7);
    e->detail = col_dup(st, 8);
    col_text(st, 9, e->prev, sizeof e->prev);
    col_text(st, 10, e->hash, sizeof e->hash);
    if (!e->actor || !e->org || !e->addr || !e->action || !e->object_type || !e->object_id ||
        !e->detail) {
        store_audit_entry_release(e);
        return STORE_ERROR;
    }
    return STORE_OK;
}

static int head_on(conn *c, store_audit_entry *out)
{
    sqlite3_stmt *st = sq_stmt(c, sql_head);
    if (!st)
        return STORE_ERROR;
    int rc = sqlite3_step(st);
    int ret = rc == SQLITE_ROW    ? read_entry(st, out)
              : rc == SQLITE_DONE ? STORE_NOTFOUND
                                  : STORE_ERROR;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        log_error("store: audit head: %s", sqlite3_errmsg(c->db));
    sqlite3_reset(st);
    return ret;
}

int sq_tx_audit_head(store_tx *tx, store_audit_entry *out)
{
    return head_on(tx->c, out);
}

int sq_audit_head(store *base, store_audit_entry *out)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = head_on(c, out);
    reader_release(s, c);
    return rc;
}

static void bind_str(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

int sq_tx_audit_append(store_tx *tx, const store_audit_entry *e)
{
    sqlite3_stmt *st = sq_stmt(tx->c, sql_append);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, e->seq);
    bind_str(st, 2, e->at);
    bind_str(st, 3, e->actor);
    bind_str(st, 4, e->org);
    bind_str(st, 5, e->addr);
    bind_str(st, 6, e->action);
    bind_str(st, 7, e->object_type);
    bind_str(st, 8, e->object_id);
    bind_str(st, 9, e->detail && *e->detail ? e->detail : "{}");
    bind_str(st, 10, e->prev);
    bind_str(st, 11, e->hash);
    int rc = step_done(st, tx->c->db);
    sqlite3_reset(st);
    if (rc == STORE_OK && e->seq % AUDIT_KEYS_BUCKET == 0)
        rc = sq_tx_audit_keys_catch_up(tx);
    return rc;
}

int sq_tx_audit_keys_catch_up(store_tx *tx)
{
    sqlite3_stmt *st = sq_stmt(tx->c, sql_keys_catch_up);
    int rc = st ? step_done(st, tx->c->db) : STORE_ERROR;
    if (st)
        sqlite3_reset(st);
    st = rc == STORE_OK ? sq_stmt(tx->c, sql_keys_upto) : NULL;
    if (st) {
        rc = step_done(st, tx->c->db);
        sqlite3_reset(st);
    }
    return st ? rc : STORE_ERROR;
}

/* ---- lists: WHERE built from fixed fragments; every value bound ---- */

#define AUDIT_KEY_TEXT 512
typedef struct {
    char where[768];
    const char *binds[9];
    int nbinds;
} audit_where;

static void where_add(audit_where *w, const char *fragment, const char *value)
{
    if (!value)
        return;
    size_t o = strlen(w->where);
    snprintf(w->where + o, sizeof w->where - o, "%s%s", w->nbinds ? " AND " : " WHERE ", fragment);
    w->binds[w->nbinds++] = value;
}

static void bind_where(sqlite3_stmt *st, const audit_where *w)
{
    for (int i = 0; i < w->nbinds; i++)
        sqlite3_bind_text(st, i + 1, w->binds[i], -1, SQLITE_STATIC);
}

int sq_audit_list(store *base, const store_audit_query *q, store_audit_entry **rows, int *nrows,
                  int64_t *total)
{
    sqlite_store *s = (sqlite_store *)base;
    *rows = NULL;
    *nrows = 0;
    if (total)
        *total = 0;
    audit_where w = {0};
    /* the most selective key first: its lookup bounds the rows read */
    char key[AUDIT_KEY_TEXT];
    if (q->object_id || q->actor) {
        snprintf(key, sizeof key, "%s%s",
                 q->object_id ? "o:" : "a:", q->object_id ? q->object_id : q->actor);
        where_add(&w, KEYED_SEQS, key);
    }
    where_add(&w, "actor = ?", q->actor);
    where_add(&w, "action = ?", q->action);
    where_add(&w, "object_type = ?", q->object_type);
    where_add(&w, "object_id = ?", q->object_id);
    where_add(&w, "org = ?", q->org);
    where_add(&w, "at >= ?", q->at_from);
    where_add(&w, "at <= ?", q->at_to);
    char sql[1200];
    snprintf(sql, sizeof sql, "SELECT " AUDIT_COLS " FROM audit%s ORDER BY seq %s", w.where,
             q->ascending ? "ASC" : "DESC");
    if (q->limit > 0) {
        size_t o = strlen(sql);
        snprintf(sql + o, sizeof sql - o, " LIMIT %d OFFSET %d", q->limit,
                 q->offset > 0 ? q->offset : 0);
    }
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    sqlite3_stmt *st = NULL;
    bool in_tx = exec_sql(c->db, "BEGIN") == STORE_OK; /* list and count: one snapshot */
    if (!in_tx)
        goto out;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("store: cannot prepare an audit list: %s", sqlite3_errmsg(c->db));
        goto out;
    }
    bind_where(st, &w);
    int cap = 0, src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (*nrows == cap) {
            cap = cap ? cap * 2 : 16;
            store_audit_entry *grown = realloc(*rows, (size_t)cap * sizeof **rows);
            if (!grown) {
                src = SQLITE_NOMEM;
                break;
            }
            *rows = grown;
        }
        if (read_entry(st, &(*rows)[*nrows]) != STORE_OK) {
            src = SQLITE_NOMEM;
            break;
        }
        (*nrows)++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (src != SQLITE_DONE)
        goto out;
    if (total) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM audit%s", w.where);
        if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
            goto out;
        bind_where(st, &w);
        if (sqlite3_step(st) != SQLITE_ROW)
            goto out;
        *total = sqlite3_column_int64(st, 0);
    }
    rc = STORE_OK;
out:
    sqlite3_finalize(st);
    if (in_tx)
        exec_sql(c->db, "COMMIT");
    reader_release(s, c);
    if (rc != STORE_OK) {
        for (int i = 0; i < *nrows; i++)
            store_audit_entry_release(&(*rows)[i]);
        free(*rows);
        *rows = NULL;
        *nrows = 0;
    }
    return rc;
}

int sq_audit_scan(store *base, store_audit_scan_fn fn, void *arg)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    if (exec_sql(c->db, "BEGIN") != STORE_OK) {
        reader_release(s, c);
        return STORE_ERROR;
    }
    int rc = STORE_ERROR;
    sqlite3_stmt *st = sq_stmt(c, sql_scan);
    if (st) {
        int src = SQLITE_DONE;
        rc = STORE_OK;
        while (rc == STORE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
            store_audit_entry e;
            if (read_entry(st, &e) != STORE_OK) {
                rc = STORE_ERROR;
                break;
            }
            rc = fn(arg, &e);
            store_audit_entry_release(&e);
        }
        if (rc == STORE_OK && src != SQLITE_DONE) {
            log_error("store: audit scan: %s", sqlite3_errmsg(c->db));
            rc = STORE_ERROR;
        }
        sqlite3_reset(st);
    }
    exec_sql(c->db, "COMMIT");
    reader_release(s, c);
    return rc;
}
