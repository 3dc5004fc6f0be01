/* test_walbuf.c — the writer's VFS (src/store/sqlite_walbuf.c): appended WAL
 * frames gathered into fewer writes, with the database exactly as SQLite's own
 * VFS would leave it, whether a transaction commits, spills pages to the WAL
 * and rewrites them, or rolls back; and the store's writer uses it with the
 * synchronous = FULL its safety rests on. */
#include "testutil.h"

#include "store/sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char dir[64], path[96];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/amparo-walbuf-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static sqlite3 *open_db(const char *path, const char *vfs, const char *pragmas)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, pragmas, NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static void text_of(sqlite3 *db, const char *sql, char *out, size_t n)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* 1 … n as a table (the library has no generate_series) */
#define SERIES(n)                                                                                  \
    "(WITH RECURSIVE g(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM g WHERE value < " #n    \
    ") SELECT value FROM g)"

static const char pragmas[] = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;";

/* A transaction of some 1,500 pages: far fewer writes reach the file, and a
 * connection of SQLite's own VFS reads what was committed. */
static void test_commit_coalesced(void **state)
{
    fixture *f = *state;
    assert_non_null(sq_walbuf_vfs());
    sqlite3 *w = open_db(f->path, sq_walbuf_vfs(), pragmas);
    exec_ok(w, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
    unsigned long long asked0, done0, asked, done;
    sq_walbuf_counts(&asked0, &done0);
    exec_ok(w, "BEGIN; INSERT INTO t(v) SELECT printf('%.3000c', char(97 + value % 26)) "
               "FROM " SERIES(2000) "; COMMIT");
    sq_walbuf_counts(&asked, &done);
    asked -= asked0;
    done -= done0;
    assert_true(asked > 2000); /* two a frame */
    assert_true(done * 10 < asked);
    sqlite3 *r = open_db(f->path, NULL, "PRAGMA query_only = ON");
    char got[128];
    text_of(r,
            "SELECT count(*) || ' ' || sum(length(v)) || ' ' || min(v = printf('%.3000c', "
            "char(97 + id % 26))) FROM t",
            got, sizeof got);
    assert_string_equal(got, "2000 6000000 1");
    text_of(r, "PRAGMA integrity_check", got, sizeof got);
    assert_string_equal(got, "ok");
    sqlite3_close(r);
    sqlite3_close(w);
}

/* With a cache of 20 pages the transaction spills to the WAL and rewrites frames
 * it wrote earlier (and reads them back for their checksums); a rolled-back one
 * leaves nothing; both read back identical from another connection. */
static void test_spill_rewrite_rollback(void **state)
{
    fixture *f = *state;
    sqlite3 *w = open_db(f->path, sq_walbuf_vfs(),
                         "PRAGMA journal_mode = WAL; "
                         "PRAGMA synchronous = FULL; "
                         "PRAGMA cache_size = 20;");
    exec_ok(w, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t(v)");
    exec_ok(w, "BEGIN; INSERT INTO t(v) SELECT printf('%.500c', char(97 + value % 26)) "
               "FROM " SERIES(3000) ";"
                                    "UPDATE t SET v = upper(v) WHERE id % 3 = 0;"
                                    "DELETE FROM t WHERE id % 7 = 0;"
                                    "INSERT INTO t(v) SELECT printf('%.800c', 'k') FROM " SERIES(
                                        500) ";"
                                             "COMMIT");
    exec_ok(w, "BEGIN; DELETE FROM t WHERE id < 2000;"
               "INSERT INTO t(v) SELECT 'gone' FROM " SERIES(3000) "; ROLLBACK");
    sqlite3 *r = open_db(f->path, NULL, "PRAGMA query_only = ON");
    char got[256], want[256];
    const char *digest = "SELECT count(*) || ' ' || sum(length(v)) || ' ' || "
                         "sum(v = upper(v)) || ' ' || sum(v = 'gone') FROM t";
    text_of(r, digest, got, sizeof got);
    /* 3000 - 428 deleted + 500; every third of the first 3000 that is left is
     * upper case */
    snprintf(want, sizeof want, "%d %d %d 0", 3000 - 428 + 500, (3000 - 428) * 500 + 500 * 800,
             1000 - 142);
    assert_string_equal(got, want);
    text_of(w, digest, got, sizeof got); /* the writer sees the same */
    assert_string_equal(got, want);
    text_of(r, "PRAGMA integrity_check", got, sizeof got);
    assert_string_equal(got, "ok");
    /* after a checkpoint the WAL starts again from its first frame; and at the
     * end, from the database file alone */
    exec_ok(w, "PRAGMA wal_checkpoint(TRUNCATE); INSERT INTO t(v) VALUES ('gone')");
    snprintf(want, sizeof want, "%d %d %d 1", 3000 - 428 + 500 + 1,
             (3000 - 428) * 500 + 500 * 800 + 4, 1000 - 142);
    text_of(r, digest, got, sizeof got);
    assert_string_equal(got, want);
    sqlite3_close(r);
    sqlite3_close(w);
    r = open_db(f->path, NULL, "PRAGMA query_only = ON");
    text_of(r, digest, got, sizeof got);
    assert_string_equal(got, want);
    sqlite3_close(r);
}

/* The store's writer: its commits go through the VFS, with synchronous = FULL. */
static int job_write(store_tx *tx, void *arg)
{
    char *out = arg;
    sqlite3 *db = tx->c->db;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA synchronous", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        return STORE_ERROR;
    snprintf(out, 16, "%d", sqlite3_column_int(st, 0));
    sqlite3_finalize(st);
    return sqlite3_exec(db, "INSERT INTO sequences(name, value) VALUES ('walbuf', 1)", NULL, NULL,
                        NULL) == SQLITE_OK
               ? STORE_OK
               : STORE_ERROR;
}

static void test_store_writer(void **state)
{
    fixture *f = *state;
    char err[256], sync[16] = "";
    store *s = store_sqlite_open(f->path, err, sizeof err);
    assert_non_null(s);
    unsigned long long asked0, done0, asked, done;
    sq_walbuf_counts(&asked0, &done0);
    assert_int_equal(store_run(s, job_write, sync), STORE_OK);
    sq_walbuf_counts(&asked, &done);
    assert_string_equal(sync, "2"); /* FULL */
    assert_true(asked > asked0);
    assert_true(done > done0);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_coalesced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spill_rewrite_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_writer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
