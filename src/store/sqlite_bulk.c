/* sqlite_bulk.c — statements used by bulk loads (imports): reading and setting
 * a reference sequence once per load instead of once per case, and history rows
 * whose JSON was serialised beforehand. */
#include "store/sqlite_int.h"

static const char sql_seq_get[] = "SELECT value FROM sequences WHERE name = ?1";
/* the same row as store_sqlite.c's S_HISTORY_ADD */
static const char sql_history[] = "INSERT INTO case_history(case_id, version, at, actor, action, "
                                  "target, fields) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char sql_seq_set[] = "INSERT INTO sequences(name, value) VALUES (?1, ?2) "
                                  "ON CONFLICT(name) DO UPDATE SET value = excluded.value";

int sq_tx_sequence_get(store_tx *tx, const char *name, int64_t *value)
{
    sqlite3_stmt *st = sq_stmt(tx->c, sql_seq_get);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *value = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

int sq_tx_sequence_set(store_tx *tx, const char *name, int64_t value)
{
    sqlite3_stmt *st = sq_stmt(tx->c, sql_seq_set);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, value);
    return step_done(st, tx->c->db);
}

int sq_tx_history_add_text(store_tx *tx, int64_t case_id, int64_t version, const char *at,
                           const char *actor, const char *action, const char *target,
                           const char *fields_text)
{
    sqlite3_stmt *st = sq_stmt(tx->c, sql_history);
    if (!st || !fields_text)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_int64(st, 2, version);
    sqlite3_bind_text(st, 3, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, action, -1, SQLITE_STATIC);
    if (target)
        sqlite3_bind_text(st, 6, target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, fields_text, -1, SQLITE_STATIC);
    return step_done(st, tx->c->db);
}
