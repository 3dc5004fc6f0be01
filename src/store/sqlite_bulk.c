/* sqlite_bulk.c — what bulk loads (imports) do differently: reading and setting
 * a reference sequence once per load instead of once per case, history rows
 * whose JSON was serialised beforehand, and the checkpoint after a load's
 * commit taken off the committing thread. */
#include "store/sqlite_int.h"
#include "util/log.h"

#define WAL_AUTOCHECKPOINT 1000 /* frames: SQLite's default */

static const char sql_seq_get[] = "SELECT value FROM sequences WHERE name = ?1";
/* the same row as store_sqlite.c's S_HISTORY_ADD */
static const char sql_history[] = "INSERT INTO case_history(case_id, version, at, actor, action, "
                                  "target, fields) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char sql_field_list[] = "INSERT INTO field_lists(fields) VALUES (?1)";
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

int sq_tx_field_list_add(store_tx *tx, const char *fields_text, int64_t *id)
{
    sqlite3_stmt *st = sq_stmt(tx->c, sql_field_list);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, fields_text, -1, SQLITE_STATIC);
    int rc = step_done(st, tx->c->db);
    if (rc == STORE_OK)
        *id = sqlite3_last_insert_rowid(tx->c->db);
    return rc;
}

/* ---- the checkpoint after a bulk load ----
 * A load of 100,000 cases leaves some 100,000 pages in the WAL; SQLite's
 * automatic checkpoint would copy them into the database on the thread that
 * committed, before the load can report its success.  The commit is durable
 * once the WAL is synced (synchronous = FULL), so the copy runs on a thread of
 * its own, with its own connection, while the writer goes on. */

static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    sqlite_store *s = arg;
    if (frames >= WAL_AUTOCHECKPOINT && !s->ckpt_busy)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

void sq_bulk_wal_hook(sqlite_store *s)
{
    sqlite3_wal_hook(s->writer.db, wal_hook, s);
}

static void *checkpoint_main(void *arg)
{
    sqlite_store *s = arg;
    sqlite3 *db = NULL;
    int frames = 0, copied = 0;
    int rc = sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 10000);
        /* a connection that has read nothing has not opened the WAL yet, and
         * its checkpoint would do nothing */
        rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
    if (rc == SQLITE_OK)
        log_info("store: checkpoint after a bulk load: %d of %d WAL frames in the database", copied,
                 frames);
    else if (rc != SQLITE_BUSY) /* busy: another checkpoint runs */
        log_error("store: checkpoint after a bulk load: %s",
                  db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    s->ckpt_busy = 0;
    return NULL;
}

void sq_bulk_checkpoint_join(sqlite_store *s)
{
    if (s->ckpt_started)
        pthread_join(s->ckpt_thread, NULL);
    s->ckpt_started = false;
}

void sq_bulk_checkpoint_defer(sqlite_store *s)
{
    sq_bulk_checkpoint_join(s);
    s->ckpt_busy = 1;
}

void sq_bulk_checkpoint_after(sqlite_store *s, bool committed)
{
    if (committed && pthread_create(&s->ckpt_thread, NULL, checkpoint_main, s) == 0) {
        s->ckpt_started = true;
        return;
    }
    s->ckpt_busy = 0;
    if (committed) /* no thread: here, then */
        sqlite3_wal_checkpoint_v2(s->writer.db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}
