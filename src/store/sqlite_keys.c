/* sqlite_keys.c — per-case wrapped data keys (table case_keys), SQLite.
 *
 * The table holds only wrapped keys (nonce || ciphertext || tag under a master
 * key the database never sees).  Deleting a key is the crypto-shredding step of
 * an erasure, so every write here first turns PRAGMA secure_delete on for the
 * writer connection: SQLite then overwrites freed cells and pages with zeros
 * instead of leaving the old bytes in the file.  The zeroed page reaches the WAL
 * first; the old frames holding the key stay in the WAL file until a checkpoint
 * with truncation (store_checkpoint, which `amparo case erase` calls). */
#include "store/sqlite_int.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sql_secure[] = "PRAGMA secure_delete = ON";
static const char sql_get[] = "SELECT gen, wrapped FROM case_keys WHERE case_uid = ?1";
static const char sql_put[] = "INSERT INTO case_keys(case_uid, gen, wrapped, created_at) "
                              "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(case_uid) DO UPDATE SET "
                              "gen = excluded.gen, wrapped = excluded.wrapped";
static const char sql_delete[] = "DELETE FROM case_keys WHERE case_uid = ?1";
static const char sql_below[] =
    "SELECT case_uid, gen, wrapped FROM case_keys WHERE gen < ?1 ORDER BY case_uid LIMIT ?2";
static const char sql_counts[] = "SELECT gen, count(*) FROM case_keys GROUP BY gen ORDER BY gen";

int sq_key_get_on(conn *c, const char *case_uid, int *gen, unsigned char *wrapped, size_t *len)
{
    sqlite3_stmt *st = sq_stmt(c, sql_get);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, case_uid, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int out = rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERROR;
    if (rc == SQLITE_ROW) {
        const void *b = sqlite3_column_blob(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if (n > *len) {
            log_error("store: wrapped key of %.40s too long (%zu bytes)", case_uid, n);
            out = STORE_ERROR;
        } else {
            *gen = sqlite3_column_int(st, 0);
            if (n)
                memcpy(wrapped, b, n);
            *len = n;
        }
    } else if (rc != SQLITE_DONE) {
        log_error("store: %s", sqlite3_errmsg(c->db));
    }
    sqlite3_reset(st);
    return out;
}

int sq_key_get(store *base, const char *case_uid, int *gen, unsigned char *wrapped, size_t *len)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = sq_key_get_on(c, case_uid, gen, wrapped, len);
    reader_release(s, c);
    return rc;
}

int sq_key_counts(store *base, json_t **out)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = sq_stmt(c, sql_counts);
    int rc = STORE_ERROR;
    if (st) {
        json_t *o = json_object();
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            char g[16];
            snprintf(g, sizeof g, "%d", sqlite3_column_int(st, 0));
            json_object_set_new(o, g, json_integer(sqlite3_column_int64(st, 1)));
        }
        sqlite3_reset(st);
        if (step == SQLITE_DONE) {
            *out = o;
            rc = STORE_OK;
        } else {
            json_decref(o);
            log_error("store: %s", sqlite3_errmsg(c->db));
        }
    }
    reader_release(s, c);
    return rc;
}

int sq_checkpoint(store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    pthread_mutex_lock(&s->wlock);
    int busy = -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->writer.db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        busy = sqlite3_column_int(st, 0);
    else
        log_error("store: checkpoint failed: %s", sqlite3_errmsg(s->writer.db));
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    return busy == 0 ? STORE_OK : busy == 1 ? STORE_CONFLICT : STORE_ERROR;
}

int sq_tx_key_get(store_tx *tx, const char *case_uid, int *gen, unsigned char *wrapped, size_t *len)
{
    return sq_key_get_on(tx->c, case_uid, gen, wrapped, len);
}

/* Turns secure_delete on for this (writer) connection; it stays on. */
static int secure_on(conn *c)
{
    if (c->secure_delete) /* a pragma statement is re-prepared at every run: once is enough */
        return STORE_OK;
    sqlite3_stmt *st = sq_stmt(c, sql_secure);
    if (!st)
        return STORE_ERROR;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("store: cannot turn secure_delete on: %s", sqlite3_errmsg(c->db));
        return STORE_ERROR;
    }
    c->secure_delete = true;
    return STORE_OK;
}

int sq_tx_key_put(store_tx *tx, const char *case_uid, int gen, const unsigned char *wrapped,
                  size_t len, const char *at)
{
    if (gen < 1 || len == 0 || len > STORE_WRAPPED_MAX)
        return STORE_ERROR;
    if (secure_on(tx->c) != STORE_OK)
        return STORE_ERROR;
    sqlite3_stmt *st = sq_stmt(tx->c, sql_put);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, case_uid, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, gen);
    sqlite3_bind_blob(st, 3, wrapped, (int)len, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, at, -1, SQLITE_STATIC);
    return step_done(st, tx->c->db);
}

int sq_tx_key_delete(store_tx *tx, const char *case_uid)
{
    if (secure_on(tx->c) != STORE_OK)
        return STORE_ERROR;
    sqlite3_stmt *st = sq_stmt(tx->c, sql_delete);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, case_uid, -1, SQLITE_STATIC);
    int rc = step_done(st, tx->c->db);
    if (rc == STORE_OK && sqlite3_changes(tx->c->db) == 0)
        rc = STORE_NOTFOUND;
    return rc;
}

int sq_tx_keys_below(store_tx *tx, int gen_below, int limit, store_case_key *out, int *n)
{
    *n = 0;
    sqlite3_stmt *st = sq_stmt(tx->c, sql_below);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int(st, 1, gen_below);
    sqlite3_bind_int(st, 2, limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < limit) {
        store_case_key *k = &out[*n];
        memset(k, 0, sizeof *k);
        col_text(st, 0, k->case_uid, sizeof k->case_uid);
        k->gen = sqlite3_column_int(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 2);
        if (len > sizeof k->wrapped)
            len = 0; /* refused by the caller's unwrap as a wrong length */
        if (len)
            memcpy(k->wrapped, sqlite3_column_blob(st, 2), len);
        k->len = len;
        (*n)++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        log_error("store: %s", sqlite3_errmsg(tx->c->db));
        return STORE_ERROR;
    }
    return STORE_OK;
}
