/* test_audit.c — the audit trail: appends through real store jobs, the chain,
 * verification against each kind of tampering (done to the database file with
 * sqlite3, as an attacker would), rollback, concurrency, hostile input, the key
 * file, and the core's list and verify operations. */
#include "testutil.h"

#include "cli/cli.h"
#include "core/audit.h"

#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>

static const uint8_t test_key[AUDIT_KEY_BYTES] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                                  12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                                  23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

typedef struct {
    tu_env *env;
    char db[320];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->env = tu_env_new();
    snprintf(f->db, sizeof f->db, "%s/amparo.db", f->env->dir);
    audit_set_key(test_key);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_env_free(f->env);
    free(f);
    return 0;
}

/* ---- appending -------------------------------------------------------------------- */

typedef struct {
    principal p;
    const char *action, *type, *id;
    json_t *detail;
    int result;        /* what the job returns after its audit_tx (STORE_OK, or a failure) */
    bool no_principal; /* pass NULL as the principal */
} append_arg;

static int job_append(store_tx *tx, void *arg)
{
    append_arg *a = arg;
    int rc = audit_tx(tx, a->no_principal ? NULL : &a->p, a->action, a->type, a->id, a->detail);
    return rc != STORE_OK ? rc : a->result;
}

static principal user(const char *actor, const char *org, uint32_t roles)
{
    principal p = {.roles = roles};
    snprintf(p.actor, sizeof p.actor, "%s", actor);
    snprintf(p.org, sizeof p.org, "%s", org);
    snprintf(p.lang, sizeof p.lang, "en");
    snprintf(p.addr, sizeof p.addr, "192.0.2.7");
    return p;
}

/* Appends n entries (seq grows by n), each in its own job. */
static void append_n(fixture *f, int n)
{
    for (int i = 0; i < n; i++) {
        char uid[40];
        snprintf(uid, sizeof uid, "case-%03d", i);
        append_arg a = {
            .p = user(i % 2 ? "cw-a" : "coord-a", "org-a", ROLE_CASEWORKER),
            .action = i % 3 ? "case.read" : "case.update",
            .type = "case",
            .id = uid,
            .detail = json_pack("{s:[s,s], s:i}", "fields", "prs_Gender", "cas_Status", "n", i)};
        assert_int_equal(store_run(f->env->store, job_append, &a), STORE_OK);
        json_decref(a.detail);
    }
}

static int verify(fixture *f, audit_verify_result *r)
{
    return audit_verify(f->env->store, NULL, NULL, r);
}

static void expect_intact(fixture *f, int64_t entries)
{
    audit_verify_result r;
    int rc = verify(f, &r);
    if (rc != 0)
        fail_msg("trail not intact: %s", r.message);
    assert_int_equal(r.problem, AUDIT_INTACT);
    assert_int_equal(r.entries, entries);
    assert_int_equal(r.head_seq, entries);
    assert_int_equal(r.bad_seq, 0);
}

static void expect_bad(fixture *f, const audit_checkpoint *expect, audit_problem problem,
                       int64_t seq)
{
    audit_verify_result r;
    int rc = audit_verify(f->env->store, NULL, expect, &r);
    if (rc != 1 || r.problem != problem || r.bad_seq != seq)
        fail_msg("expected %s at %lld, got rc %d %s at %lld: %s", audit_problem_name(problem),
                 (long long)seq, rc, audit_problem_name(r.problem), (long long)r.bad_seq,
                 r.message);
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)seq);
    assert_non_null(strstr(r.message, num)); /* the message names the entry */
}

/* Runs SQL on the database file through its own connection, as someone with
 * the file would.  Returns sqlite3_exec's code. */
static int tamper_raw(fixture *f, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* Drops the append-only triggers first, then runs sql (which must succeed). */
static void tamper(fixture *f, const char *sql)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete; %s",
             sql);
    if (tamper_raw(f, buf) != SQLITE_OK)
        fail_msg("tampering failed: %s", sql);
}

/* The stored entry seq (release it). */
static void read_entry(fixture *f, int64_t seq, store_audit_entry *out)
{
    store_audit_entry *rows = NULL;
    int n = 0;
    store_audit_query q = {.ascending = true};
    assert_int_equal(store_audit_list(f->env->store, &q, &rows, &n, NULL), STORE_OK);
    bool found = false;
    for (int i = 0; i < n; i++) {
        if (rows[i].seq == seq && !found) {
            *out = rows[i];
            found = true;
        } else {
            store_audit_entry_release(&rows[i]);
        }
    }
    free(rows);
    if (!found)
        fail_msg("no entry %lld", (long long)seq);
}

/* Rewrites entry seq's hash (and every later entry's prev and hash) with key:
 * what a forger does after changing an entry. */
static void rechain_from(fixture *f, int64_t seq, const uint8_t *key)
{
    store_audit_entry *rows = NULL;
    int n = 0;
    store_audit_query q = {.ascending = true};
    assert_int_equal(store_audit_list(f->env->store, &q, &rows, &n, NULL), STORE_OK);
    char prev[65] = "";
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    sqlite3_exec(db, "DROP TRIGGER IF EXISTS audit_no_update; BEGIN", NULL, NULL, NULL);
    for (int i = 0; i < n; i++) {
        store_audit_entry *e = &rows[i];
        if (e->seq >= seq) {
            if (prev[0])
                memcpy(e->prev, prev, sizeof e->prev);
            audit_entry_hash(key, e, e->hash);
            char *sql = sqlite3_mprintf("UPDATE audit SET prev = %Q, hash = %Q WHERE seq = %lld",
                                        e->prev, e->hash, (long long)e->seq);
            assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
            sqlite3_free(sql);
        }
        memcpy(prev, e->hash, sizeof prev);
        store_audit_entry_release(e);
    }
    free(rows);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* ---- a good chain ------------------------------------------------------------------- */

static void test_chain_intact(void **state)
{
    fixture *f = *state;
    expect_intact(f, 0); /* empty is intact */
    assert_int_equal(audit_head_matches_key(f->env->store, NULL), 1);
    append_n(f, 20);
    expect_intact(f, 20);
    audit_checkpoint h;
    assert_int_equal(audit_head(f->env->store, &h), 0);
    assert_int_equal(h.seq, 20);
    audit_verify_result r;
    assert_int_equal(verify(f, &r), 0);
    assert_string_equal(h.hash, r.head_hash);
    assert_non_null(strstr(r.message, "audit trail intact: 20 entries"));
    /* the recorded head checks out, and so does an older one */
    assert_int_equal(audit_verify(f->env->store, NULL, &h, &r), 0);
    store_audit_entry e;
    read_entry(f, 1, &e);
    assert_string_equal(e.prev, "0000000000000000000000000000000000000000000000000000000000000000");
    assert_string_equal(e.actor, "coord-a");
    assert_string_equal(e.org, "org-a");
    assert_string_equal(e.addr, "192.0.2.7");
    assert_string_equal(e.action, "case.update");
    assert_string_equal(e.object_id, "case-000");
    assert_string_equal(e.detail, "{\"fields\":[\"prs_Gender\",\"cas_Status\"],\"n\":0}");
    audit_checkpoint old = {.seq = 1};
    memcpy(old.hash, e.hash, sizeof old.hash);
    store_audit_entry_release(&e);
    assert_int_equal(audit_verify(f->env->store, NULL, &old, &r), 0);
    /* every link: prev of n+1 is hash of n */
    for (int64_t s = 1; s < 20; s++) {
        store_audit_entry a, b;
        read_entry(f, s, &a);
        read_entry(f, s + 1, &b);
        assert_string_equal(b.prev, a.hash);
        assert_true(strcmp(a.at, b.at) <= 0);
        store_audit_entry_release(&a);
        store_audit_entry_release(&b);
    }
    /* the start-up check of the key against the head */
    assert_int_equal(audit_head_matches_key(f->env->store, NULL), 1);
    uint8_t wrong[AUDIT_KEY_BYTES];
    memset(wrong, 7, sizeof wrong);
    assert_int_equal(audit_head_matches_key(f->env->store, wrong), 0);
    /* another key does not verify it */
    uint8_t other[AUDIT_KEY_BYTES] = {0};
    assert_int_equal(audit_verify(f->env->store, other, NULL, &r), 1);
    assert_int_equal(r.problem, AUDIT_HASH_MISMATCH);
    assert_int_equal(r.bad_seq, 1);
}

static void test_triggers_refuse_changes(void **state)
{
    fixture *f = *state;
    append_n(f, 3);
    assert_int_not_equal(tamper_raw(f, "UPDATE audit SET actor = 'x' WHERE seq = 2"), SQLITE_OK);
    assert_int_not_equal(tamper_raw(f, "DELETE FROM audit WHERE seq = 3"), SQLITE_OK);
    assert_int_not_equal(tamper_raw(f, "DELETE FROM audit"), SQLITE_OK);
    expect_intact(f, 3);
}

/* ---- each kind of tampering ----------------------------------------------------------- */

static void test_changed_actor(void **state)
{
    fixture *f = *state;
    append_n(f, 20);
    tamper(f, "UPDATE audit SET actor = 'someone-else' WHERE seq = 7");
    expect_bad(f, NULL, AUDIT_HASH_MISMATCH, 7);
}

static void test_changed_detail(void **state)
{
    fixture *f = *state;
    append_n(f, 20);
    tamper(f, "UPDATE audit SET detail = '{\"fields\":[]}' WHERE seq = 5");
    expect_bad(f, NULL, AUDIT_HASH_MISMATCH, 5);
}

static void test_changed_timestamp(void **state)
{
    fixture *f = *state;
    append_n(f, 20);
    tamper(f, "UPDATE audit SET at = '2031-01-01T00:00:00.000Z' WHERE seq = 9");
    expect_bad(f, NULL, AUDIT_HASH_MISMATCH, 9);
}

static void test_changed_hash_only(void **state)
{
    fixture *f = *state;
    append_n(f, 10);
    tamper(f, "UPDATE audit SET hash = replace(hash, substr(hash, 1, 1), "
              "CASE substr(hash, 1, 1) WHEN 'a' THEN 'b' ELSE 'a' END) WHERE seq = 4");
    expect_bad(f, NULL, AUDIT_HASH_MISMATCH, 4);
}

static void test_removed_middle(void **state)
{
    fixture *f = *state;
    append_n(f, 20);
    tamper(f, "DELETE FROM audit WHERE seq = 10");
    expect_bad(f, NULL, AUDIT_SEQ_GAP, 10);
}

static void test_removed_first(void **state)
{
    fixture *f = *state;
    append_n(f, 20);
    tamper(f, "DELETE FROM audit WHERE seq = 1");
    expect_bad(f, NULL, AUDIT_SEQ_GAP, 1);
}

static void test_removed_and_renumbered(void **state)
{
    fixture *f = *state;
    append_n(f, 20);
    /* close the gap so the sequence looks dense */
    tamper(f, "DELETE FROM audit WHERE seq = 10; UPDATE audit SET seq = seq + 1000 WHERE seq > 10;"
              "UPDATE audit SET seq = seq - 1001 WHERE seq > 1000");
    expect_bad(f, NULL, AUDIT_HASH_MISMATCH, 10);
}

static void test_removed_first_renumbered(void **state)
{
    fixture *f = *state;
    append_n(f, 8);
    tamper(f, "DELETE FROM audit WHERE seq = 1; UPDATE audit SET seq = seq + 1000;"
              "UPDATE audit SET seq = seq - 1001; UPDATE audit SET prev = "
              "'0000000000000000000000000000000000000000000000000000000000000000' WHERE seq = 1");
    expect_bad(f, NULL, AUDIT_HASH_MISMATCH, 1);
}

static void test_inserted_middle(void **state)
{
    fixture *f = *state;
    append_n(f, 20);
    store_audit_entry e7;
    read_entry(f, 7, &e7);
    /* make room at 8, then insert an entry that links to 7 */
    char sql[1024];
    snprintf(sql, sizeof sql,
             "UPDATE audit SET seq = seq + 1000 WHERE seq >= 8;"
             "UPDATE audit SET seq = seq - 999 WHERE seq > 1000;"
             "INSERT INTO audit(seq, at, actor, org, addr, action, object_type, object_id, "
             "detail, prev, hash) VALUES (8, '%s', 'ghost', 'org-a', '', 'case.read', 'case', "
             "'x', '{}', '%s', '%s')",
             e7.at, e7.hash, e7.hash);
    store_audit_entry_release(&e7);
    tamper(f, sql);
    expect_bad(f, NULL, AUDIT_HASH_MISMATCH, 8);
}

static void test_inserted_at_end(void **state)
{
    fixture *f = *state;
    append_n(f, 5);
    store_audit_entry e5;
    read_entry(f, 5, &e5);
    /* a well-formed forged entry, hashed without the key (unkeyed) */
    store_audit_entry forged = {.seq = 6,
                                .actor = "ghost",
                                .org = "",
                                .addr = "",
                                .action = "case.read",
                                .object_type = "case",
                                .object_id = "x",
                                .detail = "{}"};
    snprintf(forged.at, sizeof forged.at, "%s", e5.at);
    memcpy(forged.prev, e5.hash, sizeof forged.prev);
    store_audit_entry_release(&e5);
    uint8_t guess[AUDIT_KEY_BYTES] = {0};
    audit_entry_hash(guess, &forged, forged.hash);
    char *sql = sqlite3_mprintf("INSERT INTO audit(seq, at, actor, org, addr, action, "
                                "object_type, object_id, detail, prev, hash) VALUES (6, %Q, "
                                "'ghost', '', '', 'case.read', 'case', 'x', '{}', %Q, %Q)",
                                forged.at, forged.prev, forged.hash);
    tamper(f, sql);
    sqlite3_free(sql);
    expect_bad(f, NULL, AUDIT_HASH_MISMATCH, 6);
}

static void test_swapped_seq(void **state)
{
    fixture *f = *state;
    append_n(f, 20);
    /* two entries exchange places: 12 becomes 13 and 13 becomes 12 */
    tamper(f, "UPDATE audit SET seq = 1012 WHERE seq = 12; UPDATE audit SET seq = 12 WHERE seq "
              "= 13; UPDATE audit SET seq = 13 WHERE seq = 1012");
    expect_bad(f, NULL, AUDIT_HASH_MISMATCH, 12);
}

static void test_swapped_contents(void **state)
{
    fixture *f = *state;
    append_n(f, 20);
    /* the rows keep their seq, prev and hash; what they say is exchanged */
    tamper(f, "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (4, 5);"
              "UPDATE audit SET actor = (SELECT actor FROM t WHERE seq = 5), detail = (SELECT "
              "detail FROM t WHERE seq = 5), object_id = (SELECT object_id FROM t WHERE seq = 5) "
              "WHERE seq = 4;"
              "UPDATE audit SET actor = (SELECT actor FROM t WHERE seq = 4), detail = (SELECT "
              "detail FROM t WHERE seq = 4), object_id = (SELECT object_id FROM t WHERE seq = 4) "
              "WHERE seq = 5;");
    expect_bad(f, NULL, AUDIT_HASH_MISMATCH, 4);
}

static void test_recomputed_without_key(void **state)
{
    fixture *f = *state;
    append_n(f, 20);
    /* change entry 6 and re-chain everything after it consistently, but with a
     * key the attacker guessed: the first rewritten entry is named */
    tamper(f, "UPDATE audit SET actor = 'nobody' WHERE seq = 6");
    uint8_t guess[AUDIT_KEY_BYTES];
    memset(guess, 0x5a, sizeof guess);
    rechain_from(f, 6, guess);
    expect_bad(f, NULL, AUDIT_HASH_MISMATCH, 6);
    /* the same rewrite with the real key passes: the key is what protects */
    rechain_from(f, 6, test_key);
    expect_intact(f, 20);
}

static void test_prev_link_broken(void **state)
{
    fixture *f = *state;
    append_n(f, 10);
    /* an entry re-hashed with the key but linked to the wrong predecessor */
    store_audit_entry e3;
    read_entry(f, 3, &e3);
    char *sql = sqlite3_mprintf("UPDATE audit SET prev = %Q WHERE seq = 8", e3.hash);
    store_audit_entry_release(&e3);
    tamper(f, sql);
    sqlite3_free(sql);
    store_audit_entry e8;
    read_entry(f, 8, &e8);
    char h[65];
    audit_entry_hash(test_key, &e8, h);
    store_audit_entry_release(&e8);
    sql = sqlite3_mprintf("UPDATE audit SET hash = %Q WHERE seq = 8", h);
    tamper(f, sql);
    sqlite3_free(sql);
    expect_bad(f, NULL, AUDIT_PREV_MISMATCH, 8);
}

static void test_time_order(void **state)
{
    fixture *f = *state;
    append_n(f, 15);
    /* even the key holder cannot make time run backwards unnoticed */
    tamper(f, "UPDATE audit SET at = '2001-01-01T00:00:00.000Z' WHERE seq = 12");
    rechain_from(f, 12, test_key);
    expect_bad(f, NULL, AUDIT_TIME_ORDER, 12);
}

static void test_truncation(void **state)
{
    fixture *f = *state;
    append_n(f, 20);
    audit_checkpoint head;
    assert_int_equal(audit_head(f->env->store, &head), 0);
    tamper(f, "DELETE FROM audit WHERE seq >= 19");
    /* without a recorded head, a shortened chain is consistent */
    expect_intact(f, 18);
    /* against the recorded head, it is not */
    expect_bad(f, &head, AUDIT_TRUNCATED, 19);
    /* a head with another hash at an existing seq */
    audit_checkpoint wrong = {.seq = 10};
    memset(wrong.hash, 'a', 64);
    wrong.hash[64] = '\0';
    expect_bad(f, &wrong, AUDIT_HEAD_MISMATCH, 10);
}

static void test_checkpoint_parse(void **state)
{
    (void)state;
    audit_checkpoint c;
    char good[100];
    snprintf(good, sizeof good, "42:%064d", 0);
    assert_int_equal(audit_checkpoint_parse(good, &c), 0);
    assert_int_equal(c.seq, 42);
    const char *bad[] = {"",
                         ":",
                         "42",
                         "0:0000000000000000000000000000000000000000000000000000000000000000",
                         "-1:0000000000000000000000000000000000000000000000000000000000000000",
                         "4x:0000000000000000000000000000000000000000000000000000000000000000",
                         "4:000000000000000000000000000000000000000000000000000000000000000",
                         "4:00000000000000000000000000000000000000000000000000000000000000000",
                         "4:000000000000000000000000000000000000000000000000000000000000000G",
                         "4:000000000000000000000000000000000000000000000000000000000000000A",
                         "99999999999999999999:0000000000000000000000000000000000000000000000000"
                         "000000000000000"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (audit_checkpoint_parse(bad[i], &c) == 0)
            fail_msg("accepted '%s'", bad[i]);
    }
    assert_int_equal(audit_checkpoint_parse(NULL, &c), -1);
}

/* ---- rollback, concurrency ------------------------------------------------------------- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int pending;
    int rcs[3];
} batch_wait;

typedef struct {
    append_arg a;
    batch_wait *w;
    int slot;
} queued;

static void queued_done(void *arg, int rc)
{
    queued *q = arg;
    pthread_mutex_lock(&q->w->mu);
    q->w->rcs[q->slot] = rc;
    q->w->pending--;
    pthread_cond_signal(&q->w->cv);
    pthread_mutex_unlock(&q->w->mu);
}

static int queued_job(store_tx *tx, void *arg)
{
    return job_append(tx, &((queued *)arg)->a);
}

static void test_rolled_back_job_leaves_no_entry(void **state)
{
    fixture *f = *state;
    append_n(f, 2);
    /* alone */
    append_arg fail = {.p = user("cw-a", "org-a", 0), .action = "case.update", .result = 42};
    assert_int_equal(store_run(f->env->store, job_append, &fail), 42);
    expect_intact(f, 2);
    /* queued together, likely in one batch: ok, failing, ok */
    batch_wait w = {.pending = 3};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    queued q[3];
    for (int i = 0; i < 3; i++) {
        q[i] = (queued){.a = {.p = user(i == 1 ? "doomed" : "cw-a", "org-a", 0),
                              .action = "case.update",
                              .result = i == 1 ? 7 : STORE_OK},
                        .w = &w,
                        .slot = i};
        assert_int_equal(store_submit(f->env->store, queued_job, queued_done, &q[i]), STORE_OK);
    }
    pthread_mutex_lock(&w.mu);
    while (w.pending)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    assert_int_equal(w.rcs[0], STORE_OK);
    assert_int_equal(w.rcs[1], 7);
    assert_int_equal(w.rcs[2], STORE_OK);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    expect_intact(f, 4);
    store_audit_query sq = {.actor = "doomed"};
    store_audit_entry *rows;
    int n;
    int64_t total;
    assert_int_equal(store_audit_list(f->env->store, &sq, &rows, &n, &total), STORE_OK);
    assert_int_equal(total, 0);
    free(rows);
    /* the chain goes on after the failure */
    append_n(f, 1);
    expect_intact(f, 5);
}

#define THREADS 8
#define PER_THREAD 40

typedef struct {
    core *core;
    int index;
    int failures;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    char name[32];
    snprintf(name, sizeof name, "worker-%d", w->index);
    principal p = user(name, "org-b", ROLE_CASEWORKER);
    for (int i = 0; i < PER_THREAD; i++) {
        amp_err err = {0};
        json_t *d = json_pack("{s:i}", "i", i);
        if (audit_log(w->core, &p, "case.read", "case", name, d, &err) != AMP_OK)
            w->failures++;
        json_decref(d);
        amp_err_clear(&err);
    }
    return NULL;
}

static void test_concurrent_audit_log(void **state)
{
    fixture *f = *state;
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.core = f->env->core, .index = i};
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    expect_intact(f, THREADS * PER_THREAD);
    for (int i = 0; i < THREADS; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%d", i);
        store_audit_query q = {.actor = name, .limit = 1};
        store_audit_entry *rows;
        int n;
        int64_t total;
        assert_int_equal(store_audit_list(f->env->store, &q, &rows, &n, &total), STORE_OK);
        assert_int_equal(total, PER_THREAD);
        for (int k = 0; k < n; k++)
            store_audit_entry_release(&rows[k]);
        free(rows);
    }
    /* durable: a reopened store has them all */
    char err[512];
    core_free(f->env->core);
    store_close(f->env->store);
    f->env->store = store_sqlite_open(f->db, err, sizeof err);
    assert_non_null(f->env->store);
    f->env->core = core_new(f->env->store, f->env->cat, "EC");
    expect_intact(f, THREADS * PER_THREAD);
}

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, ok;
} submit_wait;

static void on_submitted(void *arg, amp_code code)
{
    submit_wait *w = arg;
    pthread_mutex_lock(&w->mu);
    w->done++;
    if (code == AMP_OK)
        w->ok++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void test_submit_without_waiting(void **state)
{
    fixture *f = *state;
    submit_wait w = {.done = 0};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    for (int i = 0; i < 300; i++) {
        /* everything the entry needs is copied: these die before the job runs */
        principal p = user("async", "org-c", ROLE_CASEWORKER);
        char id[16];
        snprintf(id, sizeof id, "obj-%d", i);
        json_t *d = json_pack("{s:i}", "i", i);
        amp_err err = {0};
        assert_int_equal(
            audit_submit(f->env->core, &p, "case.read", "case", id, d, on_submitted, &w, &err),
            AMP_OK);
        json_decref(d);
        memset(&p, 0xee, sizeof p);
        memset(id, 0xee, sizeof id);
    }
    pthread_mutex_lock(&w.mu);
    while (w.done < 300)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    assert_int_equal(w.ok, 300);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    expect_intact(f, 300);
    store_audit_entry e;
    read_entry(f, 300, &e);
    assert_string_equal(e.actor, "async");
    assert_string_equal(e.org, "org-c");
    assert_string_equal(e.object_id, "obj-299"); /* submitted in order, appended in order */
    assert_string_equal(e.detail, "{\"i\":299}");
    store_audit_entry_release(&e);
    /* without a callback */
    amp_err err = {0};
    principal p = user("async", "org-c", 0);
    assert_int_equal(audit_submit(f->env->core, &p, "x", NULL, NULL, NULL, NULL, NULL, &err),
                     AMP_OK);
    /* a synchronous call after it is ordered after it */
    assert_int_equal(audit_log(f->env->core, &p, "y", NULL, NULL, NULL, &err), AMP_OK);
    expect_intact(f, 302);
}

/* A round keeps its thread's entries until it ends, then appends them in one
 * commit and calls back once they are durable; outside a round nothing waits. */
static void test_round(void **state)
{
    fixture *f = *state;
    submit_wait w = {.done = 0};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    amp_err err = {0};
    principal p = user("rounds", "org-c", ROLE_CASEWORKER);
    assert_int_equal(audit_round_end(f->env->core), 0); /* an empty round: nothing to do */
    audit_round_begin();
    for (int i = 0; i < 40; i++) {
        char id[16];
        snprintf(id, sizeof id, "r-%d", i);
        assert_int_equal(
            audit_submit(f->env->core, &p, "case.read", "case", id, NULL, on_submitted, &w, &err),
            AMP_OK);
    }
    /* kept by the round: not written, not called back */
    usleep(20000);
    pthread_mutex_lock(&w.mu);
    assert_int_equal(w.done, 0);
    pthread_mutex_unlock(&w.mu);
    expect_intact(f, 0);
    /* a synchronous entry does not wait for the round */
    assert_int_equal(audit_log(f->env->core, &p, "sync", NULL, NULL, NULL, &err), AMP_OK);
    expect_intact(f, 1);
    assert_int_equal(audit_round_end(f->env->core), 40);
    pthread_mutex_lock(&w.mu);
    while (w.done < 40)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    assert_int_equal(w.ok, 40);
    expect_intact(f, 41);
    store_audit_entry e;
    read_entry(f, 2, &e);
    assert_string_equal(e.object_id, "r-0"); /* in the order submitted */
    store_audit_entry_release(&e);
    read_entry(f, 41, &e);
    assert_string_equal(e.object_id, "r-39");
    assert_string_equal(e.actor, "rounds");
    store_audit_entry_release(&e);
    /* the round is closed: the next entry takes the writer's queue again */
    assert_int_equal(
        audit_submit(f->env->core, &p, "case.read", "case", "after", NULL, on_submitted, &w, &err),
        AMP_OK);
    pthread_mutex_lock(&w.mu);
    while (w.done < 41)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    expect_intact(f, 42);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
}

/* ---- hostile input ---------------------------------------------------------------------- */

static bool clean_utf8(const char *s)
{
    char buf[4096];
    utf8_sanitize(s, buf, sizeof buf);
    if (strcmp(buf, s) != 0)
        return false;
    for (const char *q = s; *q; q++) {
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            return false;
    }
    return true;
}

static void test_hostile_strings(void **state)
{
    fixture *f = *state;
    uint32_t seed = 12345;
    for (int i = 0; i < 200; i++) {
        append_arg a = {.action = "login.failure", .type = "user"};
        char actor[72], id[200], junk[64];
        for (size_t k = 0; k < sizeof actor - 1; k++) {
            seed = seed * 1103515245u + 12345u;
            actor[k] = (char)(1 + (seed >> 16) % 255); /* any byte but NUL */
        }
        actor[(size_t)(i % 71) + 1] = '\0';
        for (size_t k = 0; k < sizeof id - 1; k++) {
            seed = seed * 1103515245u + 12345u;
            id[k] = (char)(1 + (seed >> 16) % 255);
        }
        id[sizeof id - 1] = '\0';
        for (size_t k = 0; k < sizeof junk; k++) {
            seed = seed * 1103515245u + 12345u;
            junk[k] = (char)((seed >> 16) & 0xff);
        }
        memset(&a.p, 0, sizeof a.p);
        memcpy(a.p.actor, actor, sizeof actor);
        memcpy(a.p.addr, "\x01\n\"'; DROP TABLE audit; --", 27);
        a.id = id;
        /* control characters and quotes in valid JSON strings, and a string that
         * is not UTF-8 at all (jansson can be given one without checks) */
        a.detail = json_pack("{s:s, s:o, s:[s]}", "note", "line\nbreak\t\"quoted\"\x01\x7f", "raw",
                             json_stringn_nocheck(junk, sizeof junk), "list", "\\u0000");
        if (i % 5 == 0)
            json_object_del(a.detail, "raw");
        assert_int_equal(store_run(f->env->store, job_append, &a), STORE_OK);
        json_decref(a.detail);
    }
    /* a detail that is not an object, and none at all */
    append_arg scalar = {.p = user("x", "", 0), .action = "odd", .detail = json_integer(3)};
    assert_int_equal(store_run(f->env->store, job_append, &scalar), STORE_OK);
    json_decref(scalar.detail);
    append_arg none = {.p = user("", "", 0), .action = NULL};
    assert_int_equal(store_run(f->env->store, job_append, &none), STORE_OK);
    assert_int_equal(
        store_run(f->env->store, job_append, &(append_arg){.action = "sys", .no_principal = true}),
        STORE_OK);
    expect_intact(f, 203);

    /* what is stored is clean text and JSON; the list answer serialises */
    store_audit_entry *rows;
    int n;
    store_audit_query q = {.ascending = true};
    assert_int_equal(store_audit_list(f->env->store, &q, &rows, &n, NULL), STORE_OK);
    assert_int_equal(n, 203);
    for (int i = 0; i < n; i++) {
        assert_true(clean_utf8(rows[i].actor));
        assert_true(clean_utf8(rows[i].addr));
        assert_true(clean_utf8(rows[i].object_id));
        assert_true(strlen(rows[i].object_id) < 128);
        json_t *d = json_loads(rows[i].detail, 0, NULL);
        if (!json_is_object(d))
            fail_msg("entry %lld detail is not a JSON object: %s", (long long)rows[i].seq,
                     rows[i].detail);
        json_decref(d);
        store_audit_entry_release(&rows[i]);
    }
    free(rows);
    store_audit_entry e;
    read_entry(f, 201, &e);
    assert_string_equal(e.detail, "{\"value\":3}");
    store_audit_entry_release(&e);
    read_entry(f, 202, &e);
    assert_string_equal(e.actor, "unknown");
    assert_string_equal(e.action, "unknown");
    store_audit_entry_release(&e);
    read_entry(f, 203, &e);
    assert_string_equal(e.actor, "system");
    store_audit_entry_release(&e);

    principal aud = user("auditor", "org-a", ROLE_AUDITOR);
    list_param all[] = {{"limit", "500"}};
    json_t *out = NULL;
    amp_err err = {0};
    assert_int_equal(audit_query(f->env->core, &aud, all, 1, &out, &err), AMP_OK);
    char *text = json_dumps(out, JSON_COMPACT);
    assert_non_null(text);
    json_t *back = json_loads(text, 0, NULL);
    assert_non_null(back);
    assert_int_equal(json_array_size(json_object_get(back, "items")), 204); /* + the read */
    json_decref(back);
    free(text);
    json_decref(out);
    expect_intact(f, 204);
}

/* ---- the key file ------------------------------------------------------------------------ */

static void test_key_file(void **state)
{
    fixture *f = *state;
    char dir[300], path[340], err[512];
    snprintf(dir, sizeof dir, "%s/keys-test", f->env->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof path, "%s/audit.key", dir);
    uint8_t k1[AUDIT_KEY_BYTES], k2[AUDIT_KEY_BYTES];
    assert_int_equal(audit_read_key(dir, k1, err, sizeof err), -1); /* missing */
    assert_non_null(strstr(err, "audit.key"));
    assert_int_equal(audit_load_key(dir, err, sizeof err), 0); /* created */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, AUDIT_KEY_BYTES);
    assert_true(audit_key_loaded());
    assert_int_equal(audit_read_key(dir, k1, err, sizeof err), 0);
    assert_int_equal(audit_create_key(dir, err, sizeof err), 0); /* kept */
    assert_int_equal(audit_read_key(dir, k2, err, sizeof err), 0);
    assert_memory_equal(k1, k2, sizeof k1);
    /* entries now chain under the loaded key */
    append_n(f, 3);
    audit_verify_result r;
    assert_int_equal(audit_verify(f->env->store, k1, NULL, &r), 0);
    assert_int_equal(audit_verify(f->env->store, test_key, NULL, &r), 1);
    /* readable by others: refused */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(audit_read_key(dir, k2, err, sizeof err), -1);
    assert_non_null(strstr(err, "chmod 600"));
    assert_int_equal(audit_load_key(dir, err, sizeof err), -1);
    /* wrong size: refused */
    assert_int_equal(chmod(path, 0600), 0);
    FILE *fp = fopen(path, "ab");
    assert_non_null(fp);
    fputc('x', fp);
    fclose(fp);
    assert_int_equal(audit_read_key(dir, k2, err, sizeof err), -1);
    assert_non_null(strstr(err, "32 bytes"));
    audit_set_key(test_key);
}

/* ---- the core operations ------------------------------------------------------------------ */

static json_t *query(fixture *f, const principal *p, const list_param *params, size_t n,
                     amp_code want)
{
    json_t *out = NULL;
    amp_err err = {0};
    amp_code code = audit_query(f->env->core, p, params, n, &out, &err);
    if (code != want)
        fail_msg("audit_query: expected %d, got %d: %s", want, code, err.message);
    amp_err_clear(&err);
    return out;
}

static void test_query_filters_and_paging(void **state)
{
    fixture *f = *state;
    append_n(f, 12); /* cw-a: odd i (6), coord-a: even i (6); case.update every 3rd */
    principal aud = user("auditor", "", ROLE_AUDITOR);
    list_param by_actor[] = {{"actor", "cw-a"}};
    json_t *out = query(f, &aud, by_actor, 1, AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 6);
    json_t *items = json_object_get(out, "items");
    assert_int_equal(json_array_size(items), 6);
    /* newest first */
    assert_true(json_integer_value(json_object_get(json_array_get(items, 0), "seq")) >
                json_integer_value(json_object_get(json_array_get(items, 1), "seq")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "actor")),
                        "cw-a");
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "addr")),
                        "192.0.2.7");
    assert_true(json_is_array(
        json_object_get(json_object_get(json_array_get(items, 0), "detail"), "fields")));
    json_decref(out);

    list_param combo[] = {{"action", "case.update"}, {"object_type", "case"}, {"org", "org-a"}};
    out = query(f, &aud, combo, 3, AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 4); /* i=0,3,6,9 */
    json_decref(out);

    list_param obj[] = {{"object_id", "case-005"}};
    out = query(f, &aud, obj, 1, AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(out, "items"), 0), "object_id")),
                        "case-005");
    json_decref(out);

    /* paging, oldest first (stable as the trail grows) */
    list_param page[] = {
        {"action", "case.read"}, {"order", "asc"}, {"limit", "3"}, {"offset", "3"}};
    out = query(f, &aud, page, 4, AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 8);
    assert_int_equal(json_integer_value(json_object_get(out, "limit")), 3);
    assert_int_equal(json_integer_value(json_object_get(out, "offset")), 3);
    items = json_object_get(out, "items");
    assert_int_equal(json_array_size(items), 3);
    /* case.read entries are i = 1,2,4,5,7,8,10,11 → seq i+1; the 4th is seq 6 */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "seq")), 6);
    json_decref(out);

    /* time bounds: everything is today; nothing in 2020 */
    char today[11];
    clock_today(today);
    list_param future[] = {{"to", "2020-01-01"}};
    out = query(f, &aud, future, 1, AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 0);
    json_decref(out);
    list_param since[] = {{"from", "2020-01-01T00:00Z"}, {"actor", "coord-a"}};
    out = query(f, &aud, since, 2, AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 6);
    json_decref(out);

    /* every read was itself recorded, with its filters */
    list_param reads[] = {{"action", "audit.read"}, {"limit", "1"}};
    out = query(f, &aud, reads, 2, AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 7);
    json_t *last = json_array_get(json_object_get(out, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(last, "actor")), "auditor");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(last, "detail"), "filters"), "action")),
                        "audit.read");
    json_decref(out);
    expect_intact(f, 12 + 7);
}

/* Many entries in one job: actor i % 5, object i % 37. */
typedef struct {
    int from, n;
} many_arg;

static int job_append_many(store_tx *tx, void *arg)
{
    many_arg *a = arg;
    for (int i = a->from; i < a->from + a->n; i++) {
        char actor[16], uid[40];
        snprintf(actor, sizeof actor, "user-%d", i % 5);
        snprintf(uid, sizeof uid, "case-%02d", i % 37);
        principal p = user(actor, "org-a", ROLE_CASEWORKER);
        int rc = audit_tx(tx, &p, "case.read", "case", uid, NULL);
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

/* Checks a list by actor or object against the numbering of job_append_many
 * (entry seq = i + 1), paging through all of it, newest first. */
static void expect_lookup(fixture *f, const char *actor, const char *object, int mod, int want,
                          int total_entries)
{
    int64_t expected = 0;
    for (int i = 0; i < total_entries; i++)
        expected += i % mod == want;
    store_audit_query q = {.actor = actor, .object_id = object, .limit = 200};
    int64_t seen = 0, last = INT64_MAX;
    for (q.offset = 0;; q.offset += q.limit) {
        store_audit_entry *rows = NULL;
        int nrows = 0;
        int64_t total = 0;
        assert_int_equal(store_audit_list(f->env->store, &q, &rows, &nrows, &total), STORE_OK);
        assert_int_equal(total, expected);
        for (int k = 0; k < nrows; k++) {
            assert_true(rows[k].seq < last); /* newest first, no repeats */
            last = rows[k].seq;
            assert_int_equal((rows[k].seq - 1) % mod, want);
            store_audit_entry_release(&rows[k]);
        }
        free(rows);
        seen += nrows;
        if (nrows < q.limit)
            break;
    }
    assert_int_equal(seen, expected);
}

/* Lookups by actor and object read the lookup table, filled 2,048 entries at a
 * time, and the tail not in it yet: both parts, and the seam, are found. */
static void test_lookups_across_batches(void **state)
{
    fixture *f = *state;
    many_arg a = {0, 5000}; /* two batches in the table (to 4,096), 904 in the tail */
    assert_int_equal(store_run(f->env->store, job_append_many, &a), STORE_OK);
    expect_lookup(f, "user-3", NULL, 5, 3, 5000);
    expect_lookup(f, NULL, "case-07", 37, 7, 5000);
    expect_lookup(f, "user-0", NULL, 5, 0, 5000);
    many_arg b = {5000, 1200}; /* the tail crosses 6,144 and is added */
    assert_int_equal(store_run(f->env->store, job_append_many, &b), STORE_OK);
    expect_lookup(f, NULL, "case-07", 37, 7, 6200);
    expect_lookup(f, NULL, "case-36", 37, 36, 6200);
    expect_lookup(f, "user-4", NULL, 5, 4, 6200);
    store_audit_query none = {.object_id = "no-such-case", .limit = 10};
    store_audit_entry *rows = NULL;
    int nrows = -1;
    int64_t total = -1;
    assert_int_equal(store_audit_list(f->env->store, &none, &rows, &nrows, &total), STORE_OK);
    assert_int_equal(nrows, 0);
    assert_int_equal(total, 0);
    free(rows);
    expect_intact(f, 6200);
}

/* ---- the lookup table audit_keys under verification ----------------------------------
 * 5,000 entries (job_append_many: entry seq = i + 1, actor user-(i % 5), object
 * case-(i % 37)): buckets 0 and 1 are in the table (audit_keys_upto 4,096),
 * 904 entries in the tail.  Each kind of change to the table, made with the
 * file as an attacker would, is named with its entry and key. */

#define KEYED_ENTRIES 5000

static void fill_keyed(fixture *f)
{
    many_arg a = {0, KEYED_ENTRIES};
    assert_int_equal(store_run(f->env->store, job_append_many, &a), STORE_OK);
}

/* verify finds problem at seq (naming it and, when key is given, the key). */
static void expect_index_bad(fixture *f, audit_problem problem, int64_t seq, const char *key,
                             const char *phrase)
{
    expect_bad(f, NULL, problem, seq);
    audit_verify_result r;
    assert_int_equal(verify(f, &r), 1);
    /* the chain itself checks out to its end */
    assert_int_equal(r.head_seq, r.entries);
    if (key) {
        assert_string_equal(r.key, key);
        assert_non_null(strstr(r.message, key));
    }
    if (phrase && !strstr(r.message, phrase))
        fail_msg("'%s' not in: %s", phrase, r.message);
}

/* How many entries a list by actor (or object) shows. */
static int64_t listed(fixture *f, const char *actor, const char *object)
{
    store_audit_query q = {.actor = actor, .object_id = object, .limit = 1};
    store_audit_entry *rows = NULL;
    int n = 0;
    int64_t total = -1;
    assert_int_equal(store_audit_list(f->env->store, &q, &rows, &n, &total), STORE_OK);
    for (int i = 0; i < n; i++)
        store_audit_entry_release(&rows[i]);
    free(rows);
    return total;
}

/* The repair, as the local operator; checks its counts. */
static void repair(fixture *f, int64_t removed, int64_t added)
{
    audit_verify_result found;
    verify(f, &found);
    principal op = {.actor = "cli", .lang = "en", .internal = true};
    audit_repair_result got;
    amp_err err = {0};
    assert_int_equal(audit_repair_index(f->env->core, &op, &found, &got, &err), AMP_OK);
    if (got.removed != removed || got.added != added)
        fail_msg("repair removed %lld, added %lld (expected %lld, %lld)", (long long)got.removed,
                 (long long)got.added, (long long)removed, (long long)added);
}

static void test_index_intact(void **state)
{
    fixture *f = *state;
    fill_keyed(f);
    audit_verify_result r;
    assert_int_equal(verify(f, &r), 0);
    assert_int_equal(r.index_rows, 2 * 4096); /* an actor and an object each */
    assert_non_null(strstr(r.message, "lookup table audit_keys matches (8192 rows)"));
    /* an entry without an object has one row only; still intact across the seam */
    many_arg more = {KEYED_ENTRIES, 2000}; /* crosses 6,144 */
    assert_int_equal(store_run(f->env->store, job_append_many, &more), STORE_OK);
    append_arg a = {.p = user("loner", "", 0), .action = "login.success"};
    assert_int_equal(store_run(f->env->store, job_append, &a), STORE_OK);
    assert_int_equal(verify(f, &r), 0);
    assert_int_equal(r.index_rows, 2 * 6144);
}

/* Entries appended many at a time (as the read journal commits them), in jobs
 * of sizes that end inside, at and across the store's 16-entry statements and
 * the 2,048-entry buckets of audit_keys: the chain, the lookups and the lookup
 * table are what single appends give (numbering of job_append_many). */
typedef struct {
    int from, n;
} fields_arg;

static int job_append_fields(store_tx *tx, void *arg)
{
    fields_arg *a = arg;
    audit_fields *f = calloc((size_t)a->n, sizeof *f);
    const audit_fields **list = calloc((size_t)a->n, sizeof *list);
    int rc = f && list ? STORE_OK : STORE_ERROR;
    for (int i = 0; rc == STORE_OK && i < a->n; i++) {
        char actor[16], uid[40];
        snprintf(actor, sizeof actor, "user-%d", (a->from + i) % 5);
        snprintf(uid, sizeof uid, "case-%02d", (a->from + i) % 37);
        principal p = user(actor, "org-a", ROLE_CASEWORKER);
        if (audit_fields_prepare(&f[i], &p, "case.read", "case", uid, NULL) != 0)
            rc = STORE_ERROR;
        list[i] = &f[i];
    }
    if (rc == STORE_OK)
        rc = audit_tx_append_fields(tx, list, (size_t)a->n);
    for (int i = 0; f && i < a->n; i++)
        audit_fields_release(&f[i]);
    free(f);
    free(list);
    return rc;
}

static void test_appended_many_at_a_time(void **state)
{
    fixture *f = *state;
    static const int sizes[] = {1, 15, 16, 17, 31, 2000, 100, 16, 2047, 1, 16, 4000, 33};
    int from = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        fields_arg a = {from, sizes[i]};
        assert_int_equal(store_run(f->env->store, job_append_fields, &a), STORE_OK);
        from += sizes[i];
    }
    assert_int_equal(from, 8293);
    audit_verify_result r;
    if (verify(f, &r) != 0)
        fail_msg("%s", r.message);
    assert_int_equal(r.entries, 8293);
    assert_int_equal(r.index_rows, 2 * 8192);
    expect_lookup(f, "user-3", NULL, 5, 3, 8293);
    expect_lookup(f, NULL, "case-11", 37, 11, 8293);
    /* each entry's seq, chain link and fields, in order */
    store_audit_query q = {.ascending = true, .limit = 10000};
    store_audit_entry *rows = NULL;
    int n = 0;
    assert_int_equal(store_audit_list(f->env->store, &q, &rows, &n, NULL), STORE_OK);
    assert_int_equal(n, 8293);
    for (int i = 0; i < n; i++) {
        char uid[40];
        snprintf(uid, sizeof uid, "case-%02d", i % 37);
        assert_int_equal(rows[i].seq, i + 1);
        assert_string_equal(rows[i].object_id, uid);
        if (i)
            assert_string_equal(rows[i].prev, rows[i - 1].hash);
    }
    for (int i = 0; i < n; i++)
        store_audit_entry_release(&rows[i]);
    free(rows);
}

static int job_many_then_fail(store_tx *tx, void *arg)
{
    int rc = job_append_many(tx, arg);
    return rc == STORE_OK ? 77 : rc;
}

/* The catch-up inserts the keys its writer noted as it appended, unless a
 * rollback or another process's entries broke the run; either way the table
 * ends up matching the trail. */
static void test_index_catch_up_breaks(void **state)
{
    fixture *f = *state;
    char err[256];
    many_arg a = {0, 2000};
    assert_int_equal(store_run(f->env->store, job_append_many, &a), STORE_OK);
    /* seqs 2001..2020 appended with other objects, then rolled back; another
     * process (as the CLI does) then appends its own 2001..2020 */
    many_arg doomed = {2007, 20};
    assert_int_equal(store_run(f->env->store, job_many_then_fail, &doomed), 77);
    store *other = store_sqlite_open(f->db, err, sizeof err);
    assert_non_null(other);
    many_arg b = {2000, 20};
    assert_int_equal(store_run(other, job_append_many, &b), STORE_OK);
    store_close(other);
    many_arg c = {2020, 100}; /* this writer goes on from 2,021, crossing 2,048 */
    assert_int_equal(store_run(f->env->store, job_append_many, &c), STORE_OK);
    audit_verify_result r;
    if (verify(f, &r) != 0)
        fail_msg("%s", r.message);
    assert_int_equal(r.index_rows, 2 * 2048);
    expect_lookup(f, NULL, "case-07", 37, 7, 2120);
    /* the other process appends more; this writer's run jumps from 2,120 to 4,041 */
    other = store_sqlite_open(f->db, err, sizeof err);
    assert_non_null(other);
    many_arg d = {2120, 1920};
    assert_int_equal(store_run(other, job_append_many, &d), STORE_OK);
    store_close(other);
    many_arg e = {4040, 100};
    assert_int_equal(store_run(f->env->store, job_append_many, &e), STORE_OK);
    if (verify(f, &r) != 0)
        fail_msg("%s", r.message);
    assert_int_equal(r.index_rows, 2 * 4096);
    expect_lookup(f, "user-2", NULL, 5, 2, 4140);
    expect_lookup(f, NULL, "case-36", 37, 36, 4140);
    expect_intact(f, 4140);
}

static void test_index_row_deleted(void **state)
{
    fixture *f = *state;
    fill_keyed(f);
    int64_t by_user3 = listed(f, "user-3", NULL);
    assert_int_equal(by_user3, 1000);
    /* entry 2,049 (i 2,048: user-3, case-13) vanishes from lists by its actor */
    tamper(f, "DELETE FROM audit_keys WHERE k = 'a:user-3' AND seq = 2049");
    assert_int_equal(listed(f, "user-3", NULL), by_user3 - 1);
    expect_index_bad(f, AUDIT_INDEX_MISSING, 2049, "a:user-3", "has no row 'a:user-3'");
    /* several rows: the lowest entry is named */
    tamper(f, "DELETE FROM audit_keys WHERE k = 'o:case-36' AND seq IN (37, 74, 3000)");
    expect_index_bad(f, AUDIT_INDEX_MISSING, 37, "o:case-36", NULL);
    /* the repair puts them back and is itself recorded */
    repair(f, 0, 3);
    assert_int_equal(listed(f, "user-3", NULL), by_user3);
    assert_int_equal(listed(f, NULL, "case-36"), 135);
    expect_intact(f, KEYED_ENTRIES + 1);
    store_audit_entry last;
    read_entry(f, KEYED_ENTRIES + 1, &last);
    assert_string_equal(last.action, "audit.index_repair");
    assert_string_equal(last.actor, "cli");
    assert_string_equal(last.detail,
                        "{\"added\":3,\"problem\":\"index_missing\",\"removed\":0,\"seq\":37}");
    store_audit_entry_release(&last);
}

static void test_index_row_added(void **state)
{
    fixture *f = *state;
    fill_keyed(f);
    /* entry 3 is user-2's: a row claims it for user-1 */
    tamper(f, "INSERT INTO audit_keys VALUES (0, 'a:user-1', 3)");
    expect_index_bad(f, AUDIT_INDEX_EXTRA, 3, "a:user-1", "the entry does not give");
    assert_int_equal(listed(f, "user-1", NULL), 1000); /* the list checks the actor too */
    repair(f, 1, 0);
    assert_int_equal(listed(f, "user-1", NULL), 1000);
    expect_intact(f, KEYED_ENTRIES + 1);
    /* a row for a key no entry has, in the last bucket */
    tamper(f, "INSERT INTO audit_keys VALUES (1, 'a:mallory', 4000)");
    expect_index_bad(f, AUDIT_INDEX_EXTRA, 4000, "a:mallory", NULL);
    tamper(f, "DELETE FROM audit_keys WHERE k = 'a:mallory'");
    /* a row in the tail, beyond audit_keys_upto */
    tamper(f, "INSERT INTO audit_keys VALUES (2, 'a:user-0', 4501)");
    expect_index_bad(f, AUDIT_INDEX_EXTRA, 4501, "a:user-0", "beyond audit_keys_upto (4096)");
    tamper(f, "DELETE FROM audit_keys WHERE seq = 4501");
    /* a row that names no entry */
    tamper(f, "INSERT INTO audit_keys VALUES (-1, 'a:user-0', -7)");
    expect_index_bad(f, AUDIT_INDEX_EXTRA, -7, "a:user-0", "names no entry");
    tamper(f, "DELETE FROM audit_keys WHERE seq = -7");
    /* a row whose columns are not of their type */
    tamper(f, "INSERT INTO audit_keys VALUES ('x', 'a:user-1', 2)");
    expect_index_bad(f, AUDIT_INDEX_EXTRA, 2, "a:user-1", "malformed");
    tamper(f, "DELETE FROM audit_keys WHERE bucket = 'x'");
    tamper(f, "INSERT INTO audit_keys VALUES (0, CAST('a:user-1' AS BLOB), 2)");
    expect_index_bad(f, AUDIT_INDEX_EXTRA, 2, "a:user-1", "malformed");
    repair(f, 1, 0);
    expect_intact(f, KEYED_ENTRIES + 2);
}

static void test_index_row_changed(void **state)
{
    fixture *f = *state;
    fill_keyed(f);
    /* seq: entry 8 (case-07)'s row moved to entry 10 */
    tamper(f, "UPDATE audit_keys SET seq = 10 WHERE k = 'o:case-07' AND seq = 8");
    expect_index_bad(f, AUDIT_INDEX_MISSING, 8, "o:case-07", NULL);
    tamper(f, "UPDATE audit_keys SET seq = 8 WHERE k = 'o:case-07' AND seq = 10");
    expect_intact(f, KEYED_ENTRIES);
    /* seq, to an entry in another bucket */
    tamper(f, "UPDATE audit_keys SET seq = 3000 WHERE k = 'a:user-0' AND seq = 1");
    expect_index_bad(f, AUDIT_INDEX_MISSING, 1, "a:user-0", NULL);
    tamper(f, "UPDATE audit_keys SET seq = 1 WHERE k = 'a:user-0' AND seq = 3000");
    /* k: entry 3's actor row names someone else (the missing row is named first) */
    tamper(f, "UPDATE audit_keys SET k = 'a:someone' WHERE k = 'a:user-2' AND seq = 3");
    expect_index_bad(f, AUDIT_INDEX_MISSING, 3, "a:user-2", NULL);
    tamper(f, "UPDATE audit_keys SET k = 'a:user-2' WHERE k = 'a:someone'");
    /* k with a NUL byte: looks the same in C, differs in SQL */
    tamper(f, "UPDATE audit_keys SET k = 'a:user-2' || char(0) WHERE k = 'a:user-2' AND seq = 8");
    expect_index_bad(f, AUDIT_INDEX_MISSING, 8, "a:user-2", NULL);
    tamper(f, "UPDATE audit_keys SET k = 'a:user-2' WHERE seq = 8 AND k LIKE 'a:%'");
    /* k made longer: 'a:user-2x' sorts right after entry 2,048's 'a:user-2', the
     * last of bucket 0 (a comparison of the common bytes alone would pass it) */
    tamper(f, "UPDATE audit_keys SET k = 'a:user-2x' WHERE k = 'a:user-2' AND seq = 2048");
    assert_int_equal(listed(f, "user-2", NULL), 999);
    expect_index_bad(f, AUDIT_INDEX_MISSING, 2048, "a:user-2", NULL);
    tamper(f, "UPDATE audit_keys SET k = 'a:user-2' WHERE k = 'a:user-2x'");
    /* bucket: the lookup no longer finds the row */
    tamper(f, "UPDATE audit_keys SET bucket = 1 WHERE k = 'a:user-4' AND seq = 5");
    assert_int_equal(listed(f, "user-4", NULL), 1000); /* still found, in the wrong bucket */
    expect_index_bad(f, AUDIT_INDEX_MISSING, 5, "a:user-4", NULL);
    tamper(f, "UPDATE audit_keys SET bucket = 99 WHERE k = 'a:user-4' AND seq = 5");
    assert_int_equal(listed(f, "user-4", NULL), 999); /* a bucket the lookup never reads */
    expect_index_bad(f, AUDIT_INDEX_MISSING, 5, "a:user-4", NULL);
    repair(f, 1, 1);
    assert_int_equal(listed(f, "user-4", NULL), 1000);
    expect_intact(f, KEYED_ENTRIES + 1);
}

static void test_index_upto_changed(void **state)
{
    fixture *f = *state;
    fill_keyed(f);
    /* up, within the trail: entries 4,097… claimed but without rows */
    tamper(f, "UPDATE audit_keys_upto SET seq = 4500");
    assert_int_equal(listed(f, "user-1", NULL), 1000 - 81); /* 4,097..4,500 hidden */
    expect_index_bad(f, AUDIT_INDEX_MISSING, 4097, "a:user-1", NULL);
    /* up, beyond the last entry: everything appended later would be hidden */
    tamper(f, "UPDATE audit_keys_upto SET seq = 6000");
    expect_index_bad(f, AUDIT_INDEX_UPTO, 6000, NULL, "is 6000, beyond the last entry (5000)");
    /* down, behind the catch-up that entry 4,096 made */
    tamper(f, "UPDATE audit_keys_upto SET seq = 4000");
    expect_index_bad(f, AUDIT_INDEX_UPTO, 4096, NULL, "is 4000, behind the catch-up");
    tamper(f, "UPDATE audit_keys_upto SET seq = 0");
    expect_index_bad(f, AUDIT_INDEX_UPTO, 4096, NULL, "is 0, behind");
    /* gone, or not a number */
    audit_verify_result r;
    tamper(f, "UPDATE audit_keys_upto SET seq = 'x'");
    assert_int_equal(verify(f, &r), 1);
    assert_int_equal(r.problem, AUDIT_INDEX_UPTO);
    assert_non_null(strstr(r.message, "audit_keys_upto"));
    assert_non_null(strstr(r.message, "is not a number"));
    tamper(f, "DELETE FROM audit_keys_upto");
    assert_int_equal(verify(f, &r), 1);
    assert_int_equal(r.problem, AUDIT_INDEX_UPTO);
    assert_non_null(strstr(r.message, "is missing"));
    assert_int_equal(listed(f, "user-1", NULL), 410); /* bucket 0 only */
    repair(f, 0, 0);
    assert_int_equal(listed(f, "user-1", NULL), 1000);
    expect_intact(f, KEYED_ENTRIES + 1);
    /* the repair leaves audit_keys_upto where the catch-ups would: 4,096 */
    tamper(f, "UPDATE audit_keys_upto SET seq = 4095");
    expect_index_bad(f, AUDIT_INDEX_UPTO, 4096, NULL, "is 4095, behind");
}

/* Removing the newest entries leaves a chain that verifies; when they were in
 * the lookup table already, its rows and audit_keys_upto give it away. */
static void test_index_shows_truncation(void **state)
{
    fixture *f = *state;
    fill_keyed(f);
    tamper(f, "DELETE FROM audit WHERE seq > 4000");
    expect_index_bad(f, AUDIT_INDEX_UPTO, 4096, NULL, "beyond the last entry (4000)");
    tamper(f, "UPDATE audit_keys_upto SET seq = 4000");
    expect_index_bad(f, AUDIT_INDEX_EXTRA, 4001, NULL, "entries may have been removed");
}

/* A text column stored as a blob, or with a NUL byte inside, hashes the same
 * (the chain reads the bytes up to the first NUL) but filters compare it
 * unequal. */
static void test_field_type(void **state)
{
    fixture *f = *state;
    fill_keyed(f);
    tamper(f, "UPDATE audit SET actor = CAST(actor AS BLOB) WHERE seq = 7");
    assert_int_equal(listed(f, "user-1", NULL), 999);
    expect_index_bad(f, AUDIT_FIELD_TYPE, 7, NULL, "stores its actor as a blob");
    tamper(f, "UPDATE audit SET actor = CAST(actor AS TEXT) WHERE seq = 7");
    expect_intact(f, KEYED_ENTRIES);
    tamper(f, "UPDATE audit SET object_id = object_id || char(0) || 'x' WHERE seq = 9");
    expect_index_bad(f, AUDIT_FIELD_TYPE, 9, NULL, "NUL byte inside its object_id");
    tamper(f, "UPDATE audit SET org = CAST(org AS BLOB) WHERE seq = 4");
    expect_index_bad(f, AUDIT_FIELD_TYPE, 4, NULL, "stores its org as a blob");
    /* columns no list filters on are not compared */
    tamper(f, "UPDATE audit SET org = CAST(org AS TEXT) WHERE seq = 4");
    tamper(f, "UPDATE audit SET object_id = 'case-08' WHERE seq = 9");
    tamper(f, "UPDATE audit SET detail = CAST(detail AS BLOB) WHERE seq = 4");
    expect_intact(f, KEYED_ENTRIES);
}

/* The JSON of GET /api/v1/audit/verify names the key; the repair is refused
 * to every role (the local operator only) and the refusal recorded. */
static void test_index_check_and_refusal(void **state)
{
    fixture *f = *state;
    fill_keyed(f);
    tamper(f, "DELETE FROM audit_keys WHERE k = 'o:case-00' AND seq = 38");
    principal aud = user("auditor", "", ROLE_AUDITOR);
    json_t *out = NULL;
    amp_err err = {0};
    assert_int_equal(audit_check(f->env->core, &aud, NULL, 0, &out, &err), AMP_OK);
    assert_true(json_is_false(json_object_get(out, "intact")));
    assert_string_equal(json_string_value(json_object_get(out, "problem")), "index_missing");
    assert_int_equal(json_integer_value(json_object_get(out, "seq")), 38);
    assert_string_equal(json_string_value(json_object_get(out, "key")), "o:case-00");
    json_decref(out);
    const uint32_t roles[] = {ROLE_AUDITOR, ROLE_SYSADMIN, ROLE_ORGADMIN};
    for (size_t i = 0; i < 3; i++) {
        principal p = user("someone", "org-a", roles[i]);
        audit_repair_result got;
        assert_int_equal(audit_repair_index(f->env->core, &p, NULL, &got, &err), AMP_EFORBIDDEN);
        amp_err_clear(&err);
    }
    assert_int_equal(listed(f, NULL, "case-00"), 136 - 1);
    store_audit_query q = {.action = "audit.denied"};
    store_audit_entry *rows;
    int n;
    int64_t total;
    assert_int_equal(store_audit_list(f->env->store, &q, &rows, &n, &total), STORE_OK);
    assert_int_equal(total, 3);
    for (int i = 0; i < n; i++)
        store_audit_entry_release(&rows[i]);
    free(rows);
}

/* ---- amparo audit verify [--repair-index] ------------------------------------------- */

/* Runs `amparo audit verify --data DIR ARGS...` (NULL-terminated), its standard
 * output into out[n]; returns the exit code. */
static int run_verify(fixture *f, char *out, size_t n, const char *first, ...)
{
    char *argv[12] = {(char *)"audit", (char *)"verify", (char *)"--data", f->env->dir};
    int argc = 4;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 11; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    char path[300];
    snprintf(path, sizeof path, "%s/verify.out", f->env->dir);
    fflush(stdout);
    int saved = dup(1);
    FILE *fp = fopen(path, "w+");
    assert_non_null(fp);
    dup2(fileno(fp), 1);
    int rc = cmd_audit(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    rewind(fp);
    size_t got = fread(out, 1, n - 1, fp);
    out[got] = '\0';
    fclose(fp);
    return rc;
}

static void write_key_file(fixture *f)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s", f->env->dir, AUDIT_KEY_FILE);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(test_key, 1, sizeof test_key, fp), sizeof test_key);
    fclose(fp);
    chmod(path, 0600);
}

static void test_cli_verify_and_repair(void **state)
{
    fixture *f = *state;
    write_key_file(f);
    fill_keyed(f);
    char out[4096];
    assert_int_equal(run_verify(f, out, sizeof out, "--help", NULL), EXIT_OK);
    assert_non_null(strstr(out, "--repair-index"));
    assert_non_null(strstr(out, "index_missing"));
    assert_int_equal(run_verify(f, out, sizeof out, NULL), EXIT_OK);
    assert_non_null(strstr(out, "lookup table audit_keys matches"));
    /* nothing to repair: nothing written */
    assert_int_equal(run_verify(f, out, sizeof out, "--repair-index", NULL), EXIT_OK);
    assert_non_null(strstr(out, "nothing to repair"));
    expect_intact(f, KEYED_ENTRIES);

    tamper(f, "DELETE FROM audit_keys WHERE k = 'a:user-3' AND seq = 2049");
    assert_int_equal(run_verify(f, out, sizeof out, NULL), EXIT_FAIL);
    assert_non_null(strstr(out, "NOT intact: index_missing: entry 2049 has no row 'a:user-3'"));
    assert_non_null(strstr(out, "the hash chain checks out: entries 1 to 5000"));
    assert_non_null(strstr(out, "--repair-index"));
    assert_int_equal(run_verify(f, out, sizeof out, "--json", NULL), EXIT_FAIL);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "problem")), "index_missing");
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 2049);
    assert_string_equal(json_string_value(json_object_get(j, "key")), "a:user-3");
    json_decref(j);
    /* the repair: found, rebuilt, verified again */
    assert_int_equal(run_verify(f, out, sizeof out, "--repair-index", NULL), EXIT_OK);
    assert_non_null(strstr(out, "index_missing: entry 2049"));
    assert_non_null(strstr(out, "1 added"));
    assert_non_null(strstr(out, "audit trail intact: 5001 entries"));
    assert_int_equal(listed(f, "user-3", NULL), 1000);
    store_audit_entry last;
    read_entry(f, KEYED_ENTRIES + 1, &last);
    assert_string_equal(last.action, "audit.index_repair");
    store_audit_entry_release(&last);
    /* --json reports the repair */
    tamper(f, "INSERT INTO audit_keys VALUES (0, 'a:mallory', 12)");
    assert_int_equal(run_verify(f, out, sizeof out, "--repair-index", "--json", NULL), EXIT_OK);
    j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_true(json_is_true(json_object_get(j, "intact")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "repaired"), "removed")),
                     1);
    json_decref(j);
    expect_intact(f, KEYED_ENTRIES + 2);

    /* a chain that does not verify is not repaired */
    tamper(f, "DELETE FROM audit_keys WHERE k = 'a:user-0' AND seq = 6");
    tamper(f, "UPDATE audit SET org = 'org-b' WHERE seq = 100");
    assert_int_equal(run_verify(f, out, sizeof out, "--repair-index", NULL), EXIT_FAIL);
    assert_non_null(strstr(out, "hash_mismatch"));
    assert_non_null(strstr(out, "not repairing"));
    assert_int_equal(listed(f, "user-0", NULL), 999);
    /* nor one whose entries are not plain text (the table is not what is wrong) */
    tamper(f, "UPDATE audit SET org = 'org-a' WHERE seq = 100");
    tamper(f, "UPDATE audit SET actor = CAST(actor AS BLOB) WHERE seq = 7");
    assert_int_equal(run_verify(f, out, sizeof out, "--repair-index", NULL), EXIT_FAIL);
    assert_non_null(strstr(out, "field_type: entry 7 stores its actor as a blob"));
    assert_non_null(strstr(out, "not repairing"));
    assert_int_equal(listed(f, "user-0", NULL), 999);
    tamper(f, "UPDATE audit SET actor = CAST(actor AS TEXT) WHERE seq = 7");
    assert_int_equal(run_verify(f, out, sizeof out, "--repair-index", NULL), EXIT_OK);
    assert_int_equal(listed(f, "user-0", NULL), 1000);
}

static void test_query_bad_parameters(void **state)
{
    fixture *f = *state;
    principal aud = user("auditor", "", ROLE_AUDITOR);
    snprintf(aud.lang, sizeof aud.lang, "fr");
    list_param bad[] = {{"limit", "501"},       {"offset", "-1"},        {"from", "yesterday"},
                        {"to", "2026-13-01"},   {"action", "Case Read"}, {"org", "no spaces"},
                        {"order", "sideways"},  {"colour", "blue"},      {"actor", ""},
                        {"object_type", "CASE"}};
    json_t *out = NULL;
    amp_err err = {0};
    assert_int_equal(audit_query(f->env->core, &aud, bad, 10, &out, &err), AMP_EBADREQ);
    assert_null(out);
    assert_true(tu_has_field_error(&err, "limit", "max"));
    assert_true(tu_has_field_error(&err, "offset", "min"));
    assert_true(tu_has_field_error(&err, "from", "date"));
    assert_true(tu_has_field_error(&err, "to", "date"));
    assert_true(tu_has_field_error(&err, "action", "format"));
    assert_true(tu_has_field_error(&err, "org", "lookup"));
    assert_true(tu_has_field_error(&err, "order", "picklist"));
    assert_true(tu_has_field_error(&err, "colour", "unknown_parameter"));
    assert_true(tu_has_field_error(&err, "actor", "text"));
    assert_true(tu_has_field_error(&err, "object_type", "format"));
    /* messages in the caller's language */
    const char *msg = json_string_value(json_object_get(json_array_get(err.fields, 2), "message"));
    assert_non_null(strstr(msg, "doit être une date"));
    amp_err_clear(&err);
    /* nothing was recorded for a refused query */
    expect_intact(f, 0);
    const char *good_times[] = {"2026-06-15", "2026-06-15T10:00Z", "2026-06-15T10:00:05Z",
                                "2026-06-15T10:00:05.123Z"};
    for (size_t i = 0; i < 4; i++) {
        list_param p[] = {{"from", good_times[i]}, {"to", good_times[i]}};
        json_decref(query(f, &aud, p, 2, AMP_OK));
    }
    const char *bad_times[] = {
        "2026-06-15T",       "2026-06-15T25:00Z",       "2026-06-15T10:00",
        "2026-06-15 10:00Z", "2026-06-15T10:00:05.12Z", "2026-06-15T10:00:05+02:00"};
    for (size_t i = 0; i < 6; i++) {
        list_param p[] = {{"from", bad_times[i]}};
        json_decref(query(f, &aud, p, 1, AMP_EBADREQ));
    }
}

static void test_query_refused_for_non_auditors(void **state)
{
    fixture *f = *state;
    append_n(f, 2);
    const uint32_t others[] = {ROLE_SYSADMIN, ROLE_ORGADMIN, ROLE_COORDINATOR, ROLE_CASEWORKER,
                               ROLE_HOTLINE,  ROLE_SHELTER,  ROLE_ANALYST,     0};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        principal p = user("nosy", "org-a", others[i]);
        json_t *out = NULL;
        amp_err err = {0};
        assert_int_equal(audit_query(f->env->core, &p, NULL, 0, &out, &err), AMP_EFORBIDDEN);
        assert_null(out);
        amp_err_clear(&err);
        assert_int_equal(audit_check(f->env->core, &p, NULL, 0, &out, &err), AMP_EFORBIDDEN);
        assert_null(out);
        amp_err_clear(&err);
    }
    /* each refusal is recorded */
    store_audit_query q = {.action = "audit.denied"};
    store_audit_entry *rows;
    int n;
    int64_t total;
    assert_int_equal(store_audit_list(f->env->store, &q, &rows, &n, &total), STORE_OK);
    assert_int_equal(total, 16);
    assert_string_equal(rows[0].actor, "nosy");
    for (int i = 0; i < n; i++)
        store_audit_entry_release(&rows[i]);
    free(rows);
    /* the internal principal (CLI) may */
    principal cli = {.actor = "cli", .lang = "en", .internal = true};
    json_decref(query(f, &cli, NULL, 0, AMP_OK));
}

static void test_check(void **state)
{
    fixture *f = *state;
    append_n(f, 5);
    principal aud = user("auditor", "", ROLE_AUDITOR);
    json_t *out = NULL;
    amp_err err = {0};
    assert_int_equal(audit_check(f->env->core, &aud, NULL, 0, &out, &err), AMP_OK);
    assert_true(json_is_true(json_object_get(out, "intact")));
    assert_int_equal(json_integer_value(json_object_get(out, "entries")), 5);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "head"), "seq")), 5);
    char expect[100];
    snprintf(expect, sizeof expect, "5:%s",
             json_string_value(json_object_get(json_object_get(out, "head"), "hash")));
    json_decref(out);
    /* recorded with its outcome, after the walk */
    expect_intact(f, 6);
    tamper(f, "DELETE FROM audit WHERE seq >= 5");
    list_param p[] = {{"expect_head", expect}};
    assert_int_equal(audit_check(f->env->core, &aud, p, 1, &out, &err), AMP_OK);
    assert_true(json_is_false(json_object_get(out, "intact")));
    assert_string_equal(json_string_value(json_object_get(out, "problem")), "truncated");
    assert_int_equal(json_integer_value(json_object_get(out, "seq")), 5);
    json_decref(out);
    list_param bad[] = {{"expect_head", "5:nothex"}, {"deep", "1"}};
    assert_int_equal(audit_check(f->env->core, &aud, bad, 2, &out, &err), AMP_EBADREQ);
    assert_true(tu_has_field_error(&err, "expect_head", "format"));
    assert_true(tu_has_field_error(&err, "deep", "unknown_parameter"));
    amp_err_clear(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain_intact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_triggers_refuse_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_actor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_detail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_timestamp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_hash_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_and_renumbered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_first_renumbered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inserted_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inserted_at_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swapped_seq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swapped_contents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recomputed_without_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prev_link_broken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
        cmocka_unit_test(test_checkpoint_parse),
        cmocka_unit_test_setup_teardown(test_rolled_back_job_leaves_no_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_audit_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_submit_without_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_filters_and_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookups_across_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_intact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_catch_up_breaks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_appended_many_at_a_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_row_deleted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_row_added, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_row_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_upto_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_shows_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_field_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_check_and_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_verify_and_repair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_bad_parameters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_refused_for_non_auditors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check, setup, teardown),
    };
    return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
