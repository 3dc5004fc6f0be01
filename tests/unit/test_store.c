/* test_store.c — the SQLite store: migrations, jobs and group commit, reads. */
#include "testutil.h"

#include "store/store.h"
#include "util/log.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

typedef struct {
    char dir[256];
    char path[300];
    store *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[512];
    if (!f)
        return -1;
    tu_tmpdir(f->dir);
    snprintf(f->path, sizeof f->path, "%s/amparo.db", f->dir);
    f->s = store_sqlite_open(f->path, err, sizeof err);
    if (!f->s) {
        fprintf(stderr, "store: %s\n", err);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->s);
    tu_rmdir(f->dir);
    free(f);
    return 0;
}

static void reopen(fixture *f)
{
    char err[512];
    store_close(f->s);
    f->s = store_sqlite_open(f->path, err, sizeof err);
    if (!f->s)
        fail_msg("reopen: %s", err);
}

/* ---- rows and jobs ------------------------------------------------------------------ */

static void fake_uid(char out[40], unsigned n)
{
    snprintf(out, 40, "%08x-0000-7000-8000-%012x", n, n * 7u);
}

/* A case row; doc (a new reference) is owned by the row. */
static void make_case(store_row *r, unsigned n, const char *ref, const char *regdate, json_t *doc)
{
    memset(r, 0, sizeof *r);
    fake_uid(r->uid, n);
    snprintf(r->reference, sizeof r->reference, "%s", ref);
    r->version = 1;
    snprintf(r->registered_on, sizeof r->registered_on, "%s", regdate);
    snprintf(r->created_at, sizeof r->created_at, "2026-06-15T10:00:%02u.000Z", n % 60);
    snprintf(r->updated_at, sizeof r->updated_at, "2026-06-15T11:00:%02u.000Z", (60 - n % 60) % 60);
    snprintf(r->created_by, sizeof r->created_by, "tester");
    snprintf(r->updated_by, sizeof r->updated_by, "tester");
    r->doc = doc ? doc : json_object();
}

typedef struct {
    store_row row;
    json_t *terms;
} insert_arg;

static int job_insert(store_tx *tx, void *arg)
{
    insert_arg *a = arg;
    return store_tx_case_insert(tx, &a->row, a->terms);
}

/* Inserts a case synchronously; returns the job's code.  Takes doc and terms. */
static int insert_case(store *s, unsigned n, const char *ref, const char *regdate,
                       const char *owner, json_t *doc, json_t *terms, int64_t *id)
{
    insert_arg a;
    make_case(&a.row, n, ref, regdate, doc);
    if (owner)
        snprintf(a.row.owner_org, sizeof a.row.owner_org, "%s", owner);
    a.terms = terms;
    int rc = store_run(s, job_insert, &a);
    if (id)
        *id = a.row.id;
    store_row_release(&a.row);
    json_decref(terms);
    return rc;
}

static int64_t count_cases(store *s)
{
    int64_t n = -1;
    assert_int_equal(store_count_cases(s, &n), STORE_OK);
    return n;
}

/* ---- sqlite helpers (looking at the file directly) --------------------------------- */

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* The first column of the first row of sql as text into out ("" when no row). */
static void raw_text(sqlite3 *db, const char *sql, char *out, size_t n)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* ---- migrations ---------------------------------------------------------------------- */

static void test_migrations(void **state)
{
    fixture *f = *state;
    char before[4096], after[4096], buf[256];
    store_close(f->s);
    f->s = NULL;

    sqlite3 *db = raw_open(f->path);
    static const char *const tables[] = {
        "cases",         "case_terms", "case_children",    "case_history",
        "organisations", "sequences",  "schema_migrations"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        char sql[200];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'", tables[i]);
        raw_text(db, sql, buf, sizeof buf);
        if (strcmp(buf, "1") != 0)
            fail_msg("table %s missing", tables[i]);
    }
    raw_text(db, "PRAGMA journal_mode", buf, sizeof buf);
    assert_string_equal(buf, "wal");
    raw_text(db, "SELECT count(*) = max(version) AND min(version) = 1 FROM schema_migrations", buf,
             sizeof buf);
    assert_string_equal(buf, "1");
    raw_text(db, "SELECT group_concat(version || '@' || applied_at, ';') FROM schema_migrations",
             before, sizeof before);
    assert_true(strlen(before) > 0);
    sqlite3_close(db);

    /* re-opening applies nothing new and keeps the data */
    reopen(f);
    assert_int_equal(insert_case(f->s, 1, "EC-2026-000001", "2026-06-15", NULL, NULL, NULL, NULL),
                     STORE_OK);
    reopen(f);
    assert_int_equal(count_cases(f->s), 1);
    store_close(f->s);
    f->s = NULL;
    db = raw_open(f->path);
    raw_text(db, "SELECT group_concat(version || '@' || applied_at, ';') FROM schema_migrations",
             after, sizeof after);
    assert_string_equal(before, after);

    /* a database from a newer program is refused */
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO schema_migrations(version, applied_at) "
                                  "VALUES (9999, 'x')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    char err[512] = "";
    assert_null(store_sqlite_open(f->path, err, sizeof err));
    assert_non_null(strstr(err, "newer"));
    db = raw_open(f->path);
    sqlite3_exec(db, "DELETE FROM schema_migrations WHERE version = 9999", NULL, NULL, NULL);
    sqlite3_close(db);
    reopen(f);
    assert_int_equal(count_cases(f->s), 1);
}

static void test_open_failure(void **state)
{
    (void)state;
    char err[512] = "";
    assert_null(store_sqlite_open("/nonexistent-dir/x/amparo.db", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir/x/amparo.db"));
}

/* ---- insert and read ------------------------------------------------------------------- */

static void test_insert_and_get(void **state)
{
    fixture *f = *state;
    int64_t id = 0;
    json_t *doc = tu_json("{\"prs_FirstName\":\"Ana\",\"vic_TypeOfExploitation\":"
                          "[\"ForcedLabour\"]}");
    json_t *expect = json_deep_copy(doc);
    assert_int_equal(insert_case(f->s, 1, "EC-2026-000001", "2026-06-15", NULL, doc,
                                 tu_json("{\"status\":[\"Active\"]}"), &id),
                     STORE_OK);
    assert_true(id > 0);
    assert_int_equal(count_cases(f->s), 1);

    char uid[40];
    fake_uid(uid, 1);
    const char *keys[] = {uid, "EC-2026-000001"};
    for (int k = 0; k < 2; k++) {
        store_row r;
        json_t *children = NULL;
        assert_int_equal(store_case_get(f->s, keys[k], &r, &children), STORE_OK);
        assert_int_equal(r.id, id);
        assert_string_equal(r.uid, uid);
        assert_string_equal(r.reference, "EC-2026-000001");
        assert_int_equal(r.version, 1);
        assert_string_equal(r.registered_on, "2026-06-15");
        assert_string_equal(r.owner_org, "");
        assert_string_equal(r.created_at, "2026-06-15T10:00:01.000Z");
        assert_string_equal(r.updated_at, "2026-06-15T11:00:59.000Z");
        assert_string_equal(r.created_by, "tester");
        assert_string_equal(r.updated_by, "tester");
        assert_true(json_equal(r.doc, expect));
        assert_true(json_is_object(children));
        assert_int_equal(json_object_size(children), 0);
        json_decref(children);
        store_row_release(&r);
        assert_null(r.doc);
    }
    json_decref(expect);

    store_row r;
    char other[40];
    fake_uid(other, 2);
    assert_int_equal(store_case_get(f->s, other, &r, NULL), STORE_NOTFOUND);
    assert_int_equal(store_case_get(f->s, "EC-2026-000002", &r, NULL), STORE_NOTFOUND);
    assert_int_equal(store_case_get(f->s, "", &r, NULL), STORE_NOTFOUND);
}

static void test_duplicate_reference(void **state)
{
    fixture *f = *state;
    assert_int_equal(insert_case(f->s, 1, "EC-2026-000001", "2026-06-15", NULL, NULL, NULL, NULL),
                     STORE_OK);
    /* same reference, new uid */
    assert_int_equal(insert_case(f->s, 2, "EC-2026-000001", "2026-06-15", NULL, NULL, NULL, NULL),
                     STORE_EXISTS);
    /* same uid, new reference */
    assert_int_equal(insert_case(f->s, 1, "EC-2026-000002", "2026-06-15", NULL, NULL, NULL, NULL),
                     STORE_EXISTS);
    assert_int_equal(count_cases(f->s), 1);
}

/* ---- updates and versions ---------------------------------------------------------------- */

typedef struct {
    const char *key;
    int64_t expected;
    json_t *doc;   /* new document (borrowed) */
    json_t *terms; /* borrowed, may be NULL */
    int64_t new_version;
} update_arg;

static int job_update(store_tx *tx, void *arg)
{
    update_arg *a = arg;
    store_row r;
    int rc = store_tx_case_get(tx, a->key, &r);
    if (rc != STORE_OK)
        return rc;
    json_decref(r.doc);
    r.doc = json_incref(a->doc);
    r.version = a->expected + 1;
    snprintf(r.updated_by, sizeof r.updated_by, "editor");
    rc = store_tx_case_update(tx, &r, a->expected, a->terms);
    a->new_version = r.version;
    store_row_release(&r);
    return rc;
}

/* The references of a list query, comma-separated, and the total. */
static int64_t list_refs(store *s, const store_query *q, char *out, size_t n)
{
    store_row *rows = NULL;
    int nrows = -1;
    int64_t total = -1;
    assert_int_equal(store_case_list(s, q, &rows, &nrows, &total), STORE_OK);
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < nrows; i++) {
        o += (size_t)snprintf(out + o, n - o, "%s%s", i ? "," : "", rows[i].reference);
        store_row_release(&rows[i]);
    }
    free(rows);
    return total;
}

static store_query query_all(void)
{
    store_query q = {.sort = SORT_REFERENCE, .limit = 100};
    return q;
}

static void add_term(store_query *q, const char *field, const char *v1, const char *v2)
{
    q->terms[q->nterms].field = field;
    q->terms[q->nterms].values[0] = v1;
    q->terms[q->nterms].nvalues = 1;
    if (v2) {
        q->terms[q->nterms].values[1] = v2;
        q->terms[q->nterms].nvalues = 2;
    }
    q->nterms++;
}

/* A job that creates a new term and is then rolled back leaves no trace: a later
 * case with the same term is indexed under it and found by it (the store caches
 * term ids, and must not cache one that was rolled back). */
static int job_insert_then_fail(store_tx *tx, void *arg)
{
    insert_arg *a = arg;
    int rc = store_tx_case_insert(tx, &a->row, a->terms);
    return rc == STORE_OK ? 42 : rc;
}

static void test_term_of_rolled_back_job(void **state)
{
    fixture *f = *state;
    insert_arg a;
    make_case(&a.row, 900, "EC-2026-000900", "2026-01-01", NULL);
    a.terms = json_pack("{s:[s]}", "status", "BrandNewValue");
    assert_int_equal(store_run(f->s, job_insert_then_fail, &a), 42);
    store_row_release(&a.row);
    json_decref(a.terms);
    assert_int_equal(insert_case(f->s, 901, "EC-2026-000901", "2026-01-01", NULL, NULL,
                                 json_pack("{s:[s]}", "status", "BrandNewValue"), NULL),
                     STORE_OK);
    assert_int_equal(insert_case(f->s, 902, "EC-2026-000902", "2026-01-01", NULL, NULL,
                                 json_pack("{s:[s]}", "status", "BrandNewValue"), NULL),
                     STORE_OK);
    store_query q = query_all();
    add_term(&q, "status", "BrandNewValue", NULL);
    char refs[256];
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 2);
    assert_string_equal(refs, "EC-2026-000901,EC-2026-000902");
}

static void test_update_versions(void **state)
{
    fixture *f = *state;
    char refs[256];
    assert_int_equal(insert_case(f->s, 1, "EC-2026-000001", "2026-06-15", NULL,
                                 tu_json("{\"cas_Status\":\"Active\"}"),
                                 tu_json("{\"status\":[\"Active\"]}"), NULL),
                     STORE_OK);
    json_t *doc = tu_json("{\"cas_Status\":\"Closed\"}");
    json_t *terms = tu_json("{\"status\":[\"Closed\"]}");
    update_arg a = {.key = "EC-2026-000001", .expected = 2, .doc = doc, .terms = terms};
    /* stale expected version: conflict, nothing changes */
    assert_int_equal(store_run(f->s, job_update, &a), STORE_CONFLICT);
    store_row r;
    assert_int_equal(store_case_get(f->s, "EC-2026-000001", &r, NULL), STORE_OK);
    assert_int_equal(r.version, 1);
    assert_string_equal(json_string_value(json_object_get(r.doc, "cas_Status")), "Active");
    assert_string_equal(r.updated_by, "tester");
    store_row_release(&r);
    store_query q = query_all();
    add_term(&q, "status", "Active", NULL);
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 1);

    /* the right version: applied, terms replaced */
    a.expected = 1;
    assert_int_equal(store_run(f->s, job_update, &a), STORE_OK);
    assert_int_equal(a.new_version, 2);
    assert_int_equal(store_case_get(f->s, "EC-2026-000001", &r, NULL), STORE_OK);
    assert_int_equal(r.version, 2);
    assert_string_equal(json_string_value(json_object_get(r.doc, "cas_Status")), "Closed");
    assert_string_equal(r.updated_by, "editor");
    assert_string_equal(r.created_by, "tester");
    store_row_release(&r);
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 0);
    q.terms[0].values[0] = "Closed";
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 1);

    /* terms NULL keeps the indexed terms */
    a.expected = 2;
    a.terms = NULL;
    assert_int_equal(store_run(f->s, job_update, &a), STORE_OK);
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 1);
    json_decref(doc);
    json_decref(terms);
}

/* cases.terms holds the ids of the case's term rows ([12,57,…]); an update
 * deletes exactly those, and also the terms of a row written in the older form
 * ({field: [values]}).  60 terms: past the store's inline list and buffer. */
static void test_terms_column(void **state)
{
    fixture *f = *state;
    char got[4096], refs[256];
    json_t *terms = json_object(), *many = json_array();
    for (int i = 0; i < 60; i++)
        json_array_append_new(many, json_sprintf("v%02d", i));
    json_object_set_new(terms, "many", many);
    json_object_set_new(terms, "status", json_pack("[s]", "Active"));
    assert_int_equal(insert_case(f->s, 1, "EC-2026-000001", "2026-06-15", NULL,
                                 tu_json("{\"cas_Status\":\"Active\"}"), terms, NULL),
                     STORE_OK);
    sqlite3 *db = raw_open(f->path);
    raw_text(db,
             "SELECT json_type(terms) || ' ' || json_array_length(terms) || ' ' || "
             "(SELECT count(*) FROM case_terms WHERE case_id = 1) || ' ' || "
             "(SELECT count(*) FROM json_each(c.terms) j JOIN case_terms ct "
             "ON ct.term_id = j.value AND ct.case_id = 1) FROM cases c WHERE id = 1",
             got, sizeof got);
    assert_string_equal(got, "array 61 61 61");
    store_query q = query_all();
    add_term(&q, "many", "v59", NULL);
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 1);

    /* an update replaces all 61 */
    json_t *doc = tu_json("{\"cas_Status\":\"Closed\"}");
    json_t *closed = tu_json("{\"status\":[\"Closed\"]}");
    update_arg a = {.key = "EC-2026-000001", .expected = 1, .doc = doc, .terms = closed};
    assert_int_equal(store_run(f->s, job_update, &a), STORE_OK);
    raw_text(db,
             "SELECT group_concat(t.field || '=' || t.value) FROM case_terms ct "
             "JOIN term_ids t ON t.id = ct.term_id WHERE ct.case_id = 1",
             got, sizeof got);
    assert_string_equal(got, "status=Closed");
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 0);

    /* a row of the older form: its terms are found by field and value */
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE cases SET terms = '{\"status\":[\"Closed\"],"
                                  "\"x\":[\"gone\"]}' WHERE id = 1;"
                                  "INSERT INTO term_ids(field, value) VALUES ('x', 'gone');"
                                  "INSERT INTO case_terms SELECT id, 1 FROM term_ids "
                                  "WHERE field = 'x'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    json_t *active = tu_json("{\"status\":[\"Active\"]}");
    a = (update_arg){.key = "EC-2026-000001", .expected = 2, .doc = doc, .terms = active};
    assert_int_equal(store_run(f->s, job_update, &a), STORE_OK);
    raw_text(db,
             "SELECT group_concat(t.field || '=' || t.value) || ' ' || "
             "(SELECT json_type(terms) FROM cases WHERE id = 1) FROM case_terms ct "
             "JOIN term_ids t ON t.id = ct.term_id WHERE ct.case_id = 1",
             got, sizeof got);
    assert_string_equal(got, "status=Active array");
    sqlite3_close(db);
    json_decref(doc);
    json_decref(closed);
    json_decref(active);
}

/* ---- group commit: a failing job rolls back alone ----------------------------------------- */

#define BATCH_JOBS 60

typedef struct batch batch;

typedef struct {
    batch *b;
    int i;
    int64_t seq;
} batch_job;

struct batch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool gate_open, gate_entered;
    int done;
    int rc[BATCH_JOBS + 1];
    batch_job jobs[BATCH_JOBS + 1];
};

/* Job 0 holds the writer until the gate opens, so that the others queue up and
 * run together in the next batch. */
static int job_gate(store_tx *tx, void *arg)
{
    batch_job *j = arg;
    (void)tx;
    pthread_mutex_lock(&j->b->mu);
    j->b->gate_entered = true;
    pthread_cond_broadcast(&j->b->cv);
    while (!j->b->gate_open)
        pthread_cond_wait(&j->b->cv, &j->b->mu);
    pthread_mutex_unlock(&j->b->mu);
    return STORE_OK;
}

static int job_batch(store_tx *tx, void *arg)
{
    batch_job *j = arg;
    store_row r;
    char ref[40];
    int rc;
    if (j->i == 30 || j->i == 31) { /* sequences roll back with their job */
        rc = store_tx_next_sequence(tx, "roll", &j->seq);
        return rc != STORE_OK ? rc : j->i == 30 ? 44 : STORE_OK;
    }
    if (j->i == 10 || j->i == 11)
        snprintf(ref, sizeof ref, "DUP");
    else if (j->i == 20)
        snprintf(ref, sizeof ref, "B-%03d", 1); /* a reference job 1 already took */
    else
        snprintf(ref, sizeof ref, "B-%03d", j->i);
    make_case(&r, (unsigned)(1000 + j->i), ref, "2026-06-15", NULL);
    rc = store_tx_case_insert(tx, &r, NULL);
    store_row_release(&r);
    if (rc != STORE_OK)
        return rc;
    if (j->i == 10)
        return 43; /* inserted, then failed: must leave no trace */
    if (j->i % 7 == 3)
        return 42;
    return STORE_OK;
}

static void batch_done(void *arg, int rc)
{
    batch_job *j = arg;
    pthread_mutex_lock(&j->b->mu);
    j->b->rc[j->i] = rc;
    j->b->done++;
    pthread_cond_broadcast(&j->b->cv);
    pthread_mutex_unlock(&j->b->mu);
}

static void test_failing_job_rolls_back_alone(void **state)
{
    fixture *f = *state;
    batch *b = calloc(1, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    for (int i = 0; i <= BATCH_JOBS; i++) {
        b->jobs[i].b = b;
        b->jobs[i].i = i;
        b->rc[i] = -1;
    }
    assert_int_equal(store_submit(f->s, job_gate, batch_done, &b->jobs[0]), STORE_OK);
    pthread_mutex_lock(&b->mu);
    while (!b->gate_entered)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
    for (int i = 1; i <= BATCH_JOBS; i++)
        assert_int_equal(store_submit(f->s, job_batch, batch_done, &b->jobs[i]), STORE_OK);
    pthread_mutex_lock(&b->mu);
    b->gate_open = true;
    pthread_cond_broadcast(&b->cv);
    while (b->done < BATCH_JOBS + 1)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);

    int expected_cases = 0;
    for (int i = 1; i <= BATCH_JOBS; i++) {
        int want = STORE_OK;
        if (i == 30)
            want = 44;
        else if (i == 31)
            want = STORE_OK;
        else if (i == 10)
            want = 43;
        else if (i == 20)
            want = STORE_EXISTS;
        else if (i % 7 == 3)
            want = 42;
        if (b->rc[i] != want)
            fail_msg("job %d: rc %d, expected %d", i, b->rc[i], want);
        if (want == STORE_OK && i != 31)
            expected_cases++;
        if (i == 30 || i == 31 || i == 10 || i == 11 || i == 20)
            continue;
        char ref[40];
        store_row r;
        snprintf(ref, sizeof ref, "B-%03d", i);
        int got = store_case_get(f->s, ref, &r, NULL);
        assert_int_equal(got, want == STORE_OK ? STORE_OK : STORE_NOTFOUND);
        if (got == STORE_OK)
            store_row_release(&r);
    }
    assert_int_equal(b->rc[0], STORE_OK);
    assert_int_equal(count_cases(f->s), expected_cases);
    /* job 10's insert of DUP was undone, so job 11's insert of DUP stands */
    store_row r;
    char uid11[40];
    fake_uid(uid11, 1011);
    assert_int_equal(store_case_get(f->s, "DUP", &r, NULL), STORE_OK);
    assert_string_equal(r.uid, uid11);
    store_row_release(&r);
    /* job 30's sequence step was undone */
    assert_int_equal(b->jobs[31].seq, 1);

    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
}

/* ---- reads see committed state only -------------------------------------------------------- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool inserted, release;
} hold;

static int job_insert_and_hold(store_tx *tx, void *arg)
{
    hold *h = arg;
    store_row r;
    make_case(&r, 77, "HELD-1", "2026-06-15", NULL);
    int rc = store_tx_case_insert(tx, &r, NULL);
    store_row_release(&r);
    /* visible inside the transaction */
    store_row again;
    if (rc == STORE_OK && store_tx_case_get(tx, "HELD-1", &again) == STORE_OK)
        store_row_release(&again);
    else
        rc = 99;
    pthread_mutex_lock(&h->mu);
    h->inserted = true;
    pthread_cond_broadcast(&h->cv);
    while (!h->release)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

typedef struct {
    store *s;
    hold *h;
    int rc;
} runner;

static void *run_held(void *arg)
{
    runner *rn = arg;
    rn->rc = store_run(rn->s, job_insert_and_hold, rn->h);
    return NULL;
}

static void test_reads_see_committed_state(void **state)
{
    fixture *f = *state;
    hold h = {.inserted = false};
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cv, NULL);
    runner rn = {.s = f->s, .h = &h, .rc = -1};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_held, &rn), 0);
    pthread_mutex_lock(&h.mu);
    while (!h.inserted)
        pthread_cond_wait(&h.cv, &h.mu);
    pthread_mutex_unlock(&h.mu);
    store_row r;
    assert_int_equal(store_case_get(f->s, "HELD-1", &r, NULL), STORE_NOTFOUND);
    assert_int_equal(count_cases(f->s), 0);
    pthread_mutex_lock(&h.mu);
    h.release = true;
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.mu);
    pthread_join(t, NULL);
    assert_int_equal(rn.rc, STORE_OK);
    assert_int_equal(store_case_get(f->s, "HELD-1", &r, NULL), STORE_OK);
    store_row_release(&r);
    pthread_mutex_destroy(&h.mu);
    pthread_cond_destroy(&h.cv);
}

/* ---- sequences ------------------------------------------------------------------------------ */

typedef struct {
    int64_t v[5];
} seq_arg;

static int job_sequences(store_tx *tx, void *arg)
{
    seq_arg *a = arg;
    static const char *const names[] = {"EC-2026", "EC-2026", "UA-2026", "EC-2026", "EC-2025"};
    for (int i = 0; i < 5; i++) {
        int rc = store_tx_next_sequence(tx, names[i], &a->v[i]);
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

static void test_sequences(void **state)
{
    fixture *f = *state;
    seq_arg a = {{0}};
    assert_int_equal(store_run(f->s, job_sequences, &a), STORE_OK);
    assert_int_equal(a.v[0], 1);
    assert_int_equal(a.v[1], 2);
    assert_int_equal(a.v[2], 1);
    assert_int_equal(a.v[3], 3);
    assert_int_equal(a.v[4], 1);
    assert_int_equal(store_run(f->s, job_sequences, &a), STORE_OK);
    assert_int_equal(a.v[0], 4);
    assert_int_equal(a.v[1], 5);
    assert_int_equal(a.v[2], 2);
    assert_int_equal(a.v[3], 6);
    assert_int_equal(a.v[4], 2);
    /* durable across a re-open */
    reopen(f);
    assert_int_equal(store_run(f->s, job_sequences, &a), STORE_OK);
    assert_int_equal(a.v[0], 7);
    assert_int_equal(a.v[2], 3);
}

/* ---- case lists ----------------------------------------------------------------------------- */

static void seed_list(fixture *f)
{
    assert_int_equal(insert_case(f->s, 1, "EC-2026-000001", "2026-01-10", NULL, NULL,
                                 tu_json("{\"status\":[\"Active\"],\"gender\":[\"Feminine\"],"
                                         "\"exploitation\":[\"SexualExploitation\"]}"),
                                 NULL),
                     STORE_OK);
    assert_int_equal(insert_case(f->s, 2, "EC-2026-000002", "2026-03-05", NULL, NULL,
                                 tu_json("{\"status\":[\"FollowUp\"],\"gender\":[\"Masculine\"],"
                                         "\"exploitation\":[\"ForcedLabour\"]}"),
                                 NULL),
                     STORE_OK);
    assert_int_equal(insert_case(f->s, 3, "EC-2025-000001", "2025-12-31", NULL, NULL,
                                 tu_json("{\"status\":[\"Closed\"],\"gender\":[\"Feminine\"],"
                                         "\"exploitation\":[\"ForcedLabour\","
                                         "\"SexualExploitation\"]}"),
                                 NULL),
                     STORE_OK);
    assert_int_equal(insert_case(f->s, 4, "UA-2026-000001", "2026-06-15", NULL, NULL,
                                 tu_json("{\"status\":[\"Active\"],"
                                         "\"gender\":[\"NonConforming\"]}"),
                                 NULL),
                     STORE_OK);
    assert_int_equal(insert_case(f->s, 5, "EC-2026-000003", "2026-01-10", "org-a", NULL,
                                 tu_json("{\"status\":[\"Active\"],\"gender\":[\"Feminine\"],"
                                         "\"exploitation\":[\"ForcedLabour\"]}"),
                                 NULL),
                     STORE_OK);
}

typedef struct {
    store_row row;
} org_arg;

static int job_org(store_tx *tx, void *arg)
{
    return store_tx_org_put(tx, &((org_arg *)arg)->row);
}

static int put_org(store *s, const char *id, int64_t version, const char *at, json_t *doc)
{
    org_arg a;
    memset(&a, 0, sizeof a);
    snprintf(a.row.uid, sizeof a.row.uid, "%s", id);
    a.row.version = version;
    snprintf(a.row.created_at, sizeof a.row.created_at, "%s", at);
    snprintf(a.row.updated_at, sizeof a.row.updated_at, "%s", at);
    a.row.doc = doc;
    int rc = store_run(s, job_org, &a);
    store_row_release(&a.row);
    return rc;
}

static void test_case_list(void **state)
{
    fixture *f = *state;
    char refs[512];
    assert_int_equal(
        put_org(f->s, "org-a", 1, "2026-06-15T09:00:00.000Z", tu_json("{\"org_Name\":\"A\"}")),
        STORE_OK);
    seed_list(f);

    store_query q = query_all();
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 5);
    assert_string_equal(refs, "EC-2025-000001,EC-2026-000001,EC-2026-000002,EC-2026-000003,"
                              "UA-2026-000001");

    /* one term */
    add_term(&q, "status", "Active", NULL);
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 3);
    assert_string_equal(refs, "EC-2026-000001,EC-2026-000003,UA-2026-000001");
    /* OR within a term */
    q = query_all();
    add_term(&q, "status", "Active", "Closed");
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 4);
    assert_string_equal(refs, "EC-2025-000001,EC-2026-000001,EC-2026-000003,UA-2026-000001");
    /* AND across terms */
    add_term(&q, "gender", "Feminine", NULL);
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 3);
    assert_string_equal(refs, "EC-2025-000001,EC-2026-000001,EC-2026-000003");
    add_term(&q, "exploitation", "ForcedLabour", NULL);
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 2);
    assert_string_equal(refs, "EC-2025-000001,EC-2026-000003");
    /* a multi-valued term matches once */
    q = query_all();
    add_term(&q, "exploitation", "ForcedLabour", "SexualExploitation");
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 4);
    assert_string_equal(refs, "EC-2025-000001,EC-2026-000001,EC-2026-000002,EC-2026-000003");
    /* a value of another term does not match */
    q = query_all();
    add_term(&q, "gender", "Active", NULL);
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 0);
    assert_string_equal(refs, "");

    /* dates, inclusive */
    q = query_all();
    q.registered_from = "2026-01-10";
    q.registered_to = "2026-03-05";
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 3);
    assert_string_equal(refs, "EC-2026-000001,EC-2026-000002,EC-2026-000003");
    q.registered_to = NULL;
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 4);
    q.registered_from = NULL;
    q.registered_to = "2025-12-31";
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 1);
    assert_string_equal(refs, "EC-2025-000001");

    /* reference prefixes */
    static const struct {
        const char *prefix;
        int64_t n;
    } prefixes[] = {{"EC-2026", 3},
                    {"EC-2025", 1},
                    {"EC", 4},
                    {"UA-2026-000001", 1},
                    {"EC-2026-000001", 1},
                    {"EC-2026-00000", 3},
                    {"ZZ", 0},
                    {"EC-2027", 0},
                    {"E", 4}};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        q = query_all();
        q.reference_prefix = prefixes[i].prefix;
        int64_t total = list_refs(f->s, &q, refs, sizeof refs);
        if (total != prefixes[i].n)
            fail_msg("prefix %s: %lld matches (%s), expected %lld", prefixes[i].prefix,
                     (long long)total, refs, (long long)prefixes[i].n);
    }

    /* owner */
    q = query_all();
    q.owner_org = "org-a";
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 1);
    assert_string_equal(refs, "EC-2026-000003");

    /* sorts; ties on the sort key are broken by insertion order */
    q = query_all();
    q.sort = SORT_REGISTERED;
    list_refs(f->s, &q, refs, sizeof refs);
    assert_string_equal(refs, "EC-2025-000001,EC-2026-000001,EC-2026-000003,EC-2026-000002,"
                              "UA-2026-000001");
    q.descending = true;
    list_refs(f->s, &q, refs, sizeof refs);
    assert_string_equal(refs, "UA-2026-000001,EC-2026-000002,EC-2026-000003,EC-2026-000001,"
                              "EC-2025-000001");
    q.sort = SORT_CREATED; /* created_at grows with n */
    q.descending = false;
    list_refs(f->s, &q, refs, sizeof refs);
    assert_string_equal(refs, "EC-2026-000001,EC-2026-000002,EC-2025-000001,UA-2026-000001,"
                              "EC-2026-000003");
    q.sort = SORT_UPDATED; /* updated_at shrinks with n */
    list_refs(f->s, &q, refs, sizeof refs);
    assert_string_equal(refs, "EC-2026-000003,UA-2026-000001,EC-2025-000001,EC-2026-000002,"
                              "EC-2026-000001");
    q.sort = SORT_REFERENCE;
    q.descending = true;
    list_refs(f->s, &q, refs, sizeof refs);
    assert_string_equal(refs, "UA-2026-000001,EC-2026-000003,EC-2026-000002,EC-2026-000001,"
                              "EC-2025-000001");

    /* paging: total counts every match */
    q.limit = 2;
    q.offset = 1;
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 5);
    assert_string_equal(refs, "EC-2026-000003,EC-2026-000002");
    q.offset = 4;
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 5);
    assert_string_equal(refs, "EC-2025-000001");
    q.offset = 10;
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 5);
    assert_string_equal(refs, "");
    /* paging with a filter */
    q = query_all();
    add_term(&q, "status", "Active", NULL);
    q.limit = 1;
    q.offset = 1;
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 3);
    assert_string_equal(refs, "EC-2026-000003");

    /* list rows carry their documents */
    store_row *rows = NULL;
    int nrows = 0;
    int64_t total = 0;
    q = query_all();
    q.owner_org = "org-a";
    assert_int_equal(store_case_list(f->s, &q, &rows, &nrows, &total), STORE_OK);
    assert_int_equal(nrows, 1);
    assert_string_equal(rows[0].owner_org, "org-a");
    assert_string_equal(rows[0].registered_on, "2026-01-10");
    assert_true(json_is_object(rows[0].doc));
    store_row_release(&rows[0]);
    free(rows);

    /* malformed queries are refused, not run */
    q = query_all();
    q.limit = -1;
    assert_int_equal(store_case_list(f->s, &q, &rows, &nrows, &total), STORE_ERROR);
    q = query_all();
    q.sort = (store_sort)42;
    assert_int_equal(store_case_list(f->s, &q, &rows, &nrows, &total), STORE_ERROR);
    q = query_all();
    add_term(&q, "status", "Active", NULL);
    q.terms[0].nvalues = 0; /* a term without values would leave a placeholder unbound */
    assert_int_equal(store_case_list(f->s, &q, &rows, &nrows, &total), STORE_ERROR);
}

/* ---- children -------------------------------------------------------------------------------- */

typedef struct {
    int64_t case_id;
    const char *kind;
    unsigned n;
    json_t *doc; /* borrowed */
    int64_t expected;
    store_row got;
    json_t *children;
} child_arg;

static void make_child(store_row *r, const child_arg *a)
{
    memset(r, 0, sizeof *r);
    fake_uid(r->uid, a->n);
    r->case_id = a->case_id;
    snprintf(r->kind, sizeof r->kind, "%s", a->kind);
    r->version = 1;
    snprintf(r->created_at, sizeof r->created_at, "2026-06-15T12:00:00.000Z");
    snprintf(r->updated_at, sizeof r->updated_at, "2026-06-15T12:00:00.000Z");
    snprintf(r->created_by, sizeof r->created_by, "tester");
    snprintf(r->updated_by, sizeof r->updated_by, "tester");
    r->doc = json_incref(a->doc);
}

static int job_child_insert(store_tx *tx, void *arg)
{
    child_arg *a = arg;
    store_row r;
    make_child(&r, a);
    int rc = store_tx_child_insert(tx, &r);
    store_row_release(&r);
    return rc;
}

static int job_child_update(store_tx *tx, void *arg)
{
    child_arg *a = arg;
    char uid[40];
    store_row r;
    fake_uid(uid, a->n);
    int rc = store_tx_child_get(tx, a->case_id, a->kind, uid, &r);
    if (rc != STORE_OK)
        return rc;
    json_decref(r.doc);
    r.doc = json_incref(a->doc);
    r.version = a->expected + 1;
    snprintf(r.updated_by, sizeof r.updated_by, "editor");
    rc = store_tx_child_update(tx, &r, a->expected);
    store_row_release(&r);
    return rc;
}

static int job_child_delete(store_tx *tx, void *arg)
{
    child_arg *a = arg;
    char uid[40];
    fake_uid(uid, a->n);
    return store_tx_child_delete(tx, a->case_id, a->kind, uid);
}

static int job_children(store_tx *tx, void *arg)
{
    child_arg *a = arg;
    return store_tx_children(tx, a->case_id, &a->children);
}

static void test_children(void **state)
{
    fixture *f = *state;
    int64_t case1, case2;
    char uid_ev[40], uid_cm[40], case1_uid[40];
    assert_int_equal(insert_case(f->s, 1, "EC-2026-000001", "2026-06-15", NULL, NULL, NULL, &case1),
                     STORE_OK);
    assert_int_equal(insert_case(f->s, 2, "EC-2026-000002", "2026-06-15", NULL, NULL, NULL, &case2),
                     STORE_OK);
    fake_uid(case1_uid, 1);
    json_t *ev = tu_json("{\"hte_Type\":\"Exploitation\",\"hte_Country\":\"EC\"}");
    json_t *cm = tu_json("{\"cco_CaseComment\":\"First contact\"}");
    child_arg a = {.case_id = case1, .kind = "event", .n = 101, .doc = ev};
    assert_int_equal(store_run(f->s, job_child_insert, &a), STORE_OK);
    child_arg b = {.case_id = case1, .kind = "comment", .n = 102, .doc = cm};
    assert_int_equal(store_run(f->s, job_child_insert, &b), STORE_OK);
    fake_uid(uid_ev, 101);
    fake_uid(uid_cm, 102);

    /* a child uid is unique */
    child_arg dup = {.case_id = case2, .kind = "event", .n = 101, .doc = ev};
    assert_int_equal(store_run(f->s, job_child_insert, &dup), STORE_EXISTS);

    /* read by the case's reference or uid */
    store_row r;
    assert_int_equal(store_child_get(f->s, "EC-2026-000001", "event", uid_ev, &r), STORE_OK);
    assert_string_equal(r.uid, uid_ev);
    assert_string_equal(r.kind, "event");
    assert_int_equal(r.version, 1);
    assert_int_equal(r.case_id, case1);
    assert_true(json_equal(r.doc, ev));
    store_row_release(&r);
    assert_int_equal(store_child_get(f->s, case1_uid, "comment", uid_cm, &r), STORE_OK);
    assert_true(json_equal(r.doc, cm));
    store_row_release(&r);
    /* wrong kind, wrong case, unknown case */
    assert_int_equal(store_child_get(f->s, "EC-2026-000001", "comment", uid_ev, &r),
                     STORE_NOTFOUND);
    assert_int_equal(store_child_get(f->s, "EC-2026-000002", "event", uid_ev, &r), STORE_NOTFOUND);
    assert_int_equal(store_child_get(f->s, "EC-2026-000009", "event", uid_ev, &r), STORE_NOTFOUND);

    /* the case read lists its children by kind */
    json_t *children = NULL;
    assert_int_equal(store_case_get(f->s, "EC-2026-000001", &r, &children), STORE_OK);
    store_row_release(&r);
    assert_int_equal(json_object_size(children), 2);
    json_t *evs = json_object_get(children, "event");
    assert_int_equal(json_array_size(evs), 1);
    json_t *e0 = json_array_get(evs, 0);
    assert_string_equal(json_string_value(json_object_get(e0, "id")), uid_ev);
    assert_int_equal(json_integer_value(json_object_get(e0, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(e0, "created_by")), "tester");
    assert_true(json_equal(json_object_get(e0, "doc"), ev));
    assert_int_equal(json_array_size(json_object_get(children, "comment")), 1);
    json_decref(children);
    /* and the same inside a job */
    assert_int_equal(store_run(f->s, job_children, &a), STORE_OK);
    assert_int_equal(json_array_size(json_object_get(a.children, "event")), 1);
    assert_int_equal(json_array_size(json_object_get(a.children, "comment")), 1);
    json_decref(a.children);
    a.children = NULL;

    /* update: stale version conflicts and changes nothing */
    json_t *ev2 = tu_json("{\"hte_Type\":\"Exploitation\",\"hte_Country\":\"PE\"}");
    a.doc = ev2;
    a.expected = 2;
    assert_int_equal(store_run(f->s, job_child_update, &a), STORE_CONFLICT);
    assert_int_equal(store_child_get(f->s, "EC-2026-000001", "event", uid_ev, &r), STORE_OK);
    assert_int_equal(r.version, 1);
    assert_true(json_equal(r.doc, ev));
    store_row_release(&r);
    a.expected = 1;
    assert_int_equal(store_run(f->s, job_child_update, &a), STORE_OK);
    assert_int_equal(store_child_get(f->s, "EC-2026-000001", "event", uid_ev, &r), STORE_OK);
    assert_int_equal(r.version, 2);
    assert_true(json_equal(r.doc, ev2));
    assert_string_equal(r.updated_by, "editor");
    store_row_release(&r);
    /* updating a child of another case finds nothing */
    child_arg wrong = {.case_id = case2, .kind = "event", .n = 101, .doc = ev, .expected = 2};
    assert_int_equal(store_run(f->s, job_child_update, &wrong), STORE_NOTFOUND);

    /* delete */
    assert_int_equal(store_run(f->s, job_child_delete, &wrong), STORE_NOTFOUND);
    assert_int_equal(store_run(f->s, job_child_delete, &a), STORE_OK);
    assert_int_equal(store_child_get(f->s, "EC-2026-000001", "event", uid_ev, &r), STORE_NOTFOUND);
    assert_int_equal(store_run(f->s, job_child_delete, &a), STORE_NOTFOUND);
    assert_int_equal(store_child_get(f->s, "EC-2026-000001", "comment", uid_cm, &r), STORE_OK);
    store_row_release(&r);
    assert_int_equal(store_case_get(f->s, "EC-2026-000001", &r, &children), STORE_OK);
    store_row_release(&r);
    assert_null(json_object_get(children, "event"));
    json_decref(children);

    json_decref(ev);
    json_decref(ev2);
    json_decref(cm);
}

/* ---- history -----------------------------------------------------------------------------------
 */

typedef struct {
    int64_t case_id;
} hist_arg;

/* ---- jobs queued when the store closes ---------------------------------------------------- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, rc;
} done_wait;

static void count_done(void *arg, int rc)
{
    done_wait *w = arg;
    pthread_mutex_lock(&w->mu);
    w->done++;
    w->rc = rc;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static int job_nothing(store_tx *tx, void *arg)
{
    (void)tx, (void)arg;
    return STORE_OK;
}

/* Jobs still queued when the store closes run (and report) before it is gone. */
static void test_jobs_queued_at_close(void **state)
{
    fixture *f = *state;
    done_wait w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    for (int i = 0; i < 50; i++)
        assert_int_equal(store_submit(f->s, job_nothing, count_done, &w), STORE_OK);
    store_close(f->s); /* stops the writer, which runs what is queued first */
    f->s = NULL;
    assert_int_equal(w.done, 50);
    assert_int_equal(w.rc, STORE_OK);
    reopen(f);
}

/* ---- the case cache (sqlite_rowcache.c) ------------------------------------------------ */

typedef struct {
    const char *uid;
    unsigned char byte; /* 0: delete the key */
} key_arg;

static int job_key(store_tx *tx, void *arg)
{
    key_arg *a = arg;
    unsigned char wrapped[48];
    memset(wrapped, a->byte, sizeof wrapped);
    return a->byte
               ? store_tx_key_put(tx, a->uid, 1, wrapped, sizeof wrapped, "2026-06-15T00:00:00Z")
               : store_tx_key_delete(tx, a->uid);
}

static int job_audit_only(store_tx *tx, void *arg)
{
    (void)arg;
    store_audit_entry head, e = {.actor = "reader",
                                 .org = "org-a",
                                 .addr = "",
                                 .action = "case.read",
                                 .object_type = "case",
                                 .object_id = "x",
                                 .detail = "{}"};
    int rc = store_tx_audit_head(tx, &head);
    e.seq = rc == STORE_OK ? head.seq + 1 : 1;
    if (rc == STORE_OK)
        store_audit_entry_release(&head);
    snprintf(e.at, sizeof e.at, "2026-06-15T00:00:00.000Z");
    memset(e.prev, '0', 64);
    memset(e.hash, 'a', 64);
    return store_tx_audit_append(tx, &e);
}

/* Reads the case with uid through s: version, number of children, key length. */
static void read_raw(store *s, const char *uid, int64_t *version, int *nchildren, size_t *keylen,
                     char *raw, size_t rawlen)
{
    store_row r;
    store_row *ch = NULL;
    int n = 0;
    store_case_key k;
    assert_int_equal(store_case_get_raw(s, uid, &r, &ch, &n, &k), STORE_OK);
    assert_string_equal(r.uid, uid);
    *version = r.version;
    *nchildren = n;
    *keylen = k.len;
    snprintf(raw, rawlen, "%s", r.raw);
    for (int i = 0; i < n; i++)
        store_row_release(&ch[i]);
    free(ch);
    store_row_release(&r);
}

static uint64_t rowgen(fixture *f)
{
    char path[320];
    snprintf(path, sizeof path, "%s-rowgen", f->path);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    uint64_t g = 0;
    assert_int_equal(fread(&g, sizeof g, 1, fp), 1);
    fclose(fp);
    return g;
}

/* A case "Active" (uid from fake_uid 1) with a data key, as the cache tests start. */
static void add_keyed_case(fixture *f, char uid[40], int64_t *id)
{
    fake_uid(uid, 1);
    assert_int_equal(insert_case(f->s, 1, "EC-2026-000001", "2026-06-15", NULL,
                                 json_pack("{s:s}", "cas_Status", "Active"), NULL, id),
                     STORE_OK);
    key_arg ka = {uid, 0xAA};
    assert_int_equal(store_run(f->s, job_key, &ka), STORE_OK);
}

/* Repeated reads may come from memory; every committed change to a case, its
 * children or its key, by this store or by another process's, is seen at once. */
static void test_case_cache_follows_writes(void **state)
{
    fixture *f = *state;
    int64_t id, version;
    int n;
    size_t keylen;
    char uid[40], raw[512];
    add_keyed_case(f, uid, &id);
    for (int i = 0; i < 3; i++) { /* the second and third reads are cached */
        read_raw(f->s, uid, &version, &n, &keylen, raw, sizeof raw);
        assert_int_equal(version, 1);
        assert_int_equal(keylen, 48);
        assert_non_null(strstr(raw, "Active"));
    }
    /* audit entries alone leave the cache valid */
    uint64_t g = rowgen(f);
    assert_int_equal(store_run(f->s, job_audit_only, NULL), STORE_OK);
    assert_int_equal(rowgen(f), g);

    /* a change made through this store */
    json_t *doc = json_pack("{s:s}", "cas_Status", "Closed");
    update_arg ua = {.key = uid, .expected = 1, .doc = doc};
    assert_int_equal(store_run(f->s, job_update, &ua), STORE_OK);
    assert_true(rowgen(f) > g);
    read_raw(f->s, uid, &version, &n, &keylen, raw, sizeof raw);
    assert_int_equal(version, 2);
    assert_non_null(strstr(raw, "Closed"));
    json_decref(doc);

    /* changes made by another process (a second store on the same file) */
    char err[512];
    store *other = store_sqlite_open(f->path, err, sizeof err);
    assert_non_null(other);
    read_raw(f->s, uid, &version, &n, &keylen, raw, sizeof raw); /* cached again */
    doc = json_pack("{s:s}", "cas_Status", "Reopened");
    update_arg ub = {.key = uid, .expected = 2, .doc = doc};
    assert_int_equal(store_run(other, job_update, &ub), STORE_OK);
    read_raw(f->s, uid, &version, &n, &keylen, raw, sizeof raw);
    assert_int_equal(version, 3);
    assert_non_null(strstr(raw, "Reopened"));
    json_decref(doc);

    json_t *cdoc = json_pack("{s:s}", "hte_Type", "Exploitation");
    child_arg ca = {.case_id = id, .kind = "event", .n = 9, .doc = cdoc};
    assert_int_equal(store_run(other, job_child_insert, &ca), STORE_OK);
    read_raw(f->s, uid, &version, &n, &keylen, raw, sizeof raw);
    assert_int_equal(n, 1);
    json_decref(cdoc);

    key_arg shred = {uid, 0}; /* crypto-shredding elsewhere: the key is gone here too */
    assert_int_equal(store_run(other, job_key, &shred), STORE_OK);
    read_raw(f->s, uid, &version, &n, &keylen, raw, sizeof raw);
    assert_int_equal(keylen, 0);
    store_close(other);
}

static void set_rowgen(fixture *f, uint64_t g)
{
    char path[320];
    snprintf(path, sizeof path, "%s-rowgen", f->path);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fwrite(&g, sizeof g, 1, fp), 1);
    fclose(fp);
}

/* Changes a case's document behind the store's back (no hook, no generation). */
static void edit_behind(fixture *f, const char *uid, const char *doc)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db, "UPDATE cases SET doc = ?1 WHERE uid = ?2", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, doc, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, uid, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

typedef struct {
    fixture *f;
    update_arg u;
    uint64_t gen_inside;
} odd_arg;

static int job_update_and_look(store_tx *tx, void *arg)
{
    odd_arg *a = arg;
    int rc = job_update(tx, &a->u);
    a->gen_inside = rowgen(a->f);
    return rc;
}

/* While a transaction that changes case data is under way the generation is
 * odd and the cache is neither used nor filled; a writer stopped in the middle
 * leaves it odd, so every cache stays off (reads stay correct) until a store
 * opens, takes the write lock and makes it even again. */
static void test_case_cache_after_a_stopped_writer(void **state)
{
    fixture *f = *state;
    int64_t id, version;
    int n;
    size_t keylen;
    char uid[40], raw[512];
    add_keyed_case(f, uid, &id);
    uint64_t g = rowgen(f);
    assert_int_equal(g % 2, 0);
    json_t *doc = json_pack("{s:s}", "cas_Status", "FollowUp");
    odd_arg oa = {.f = f, .u = {.key = uid, .expected = 1, .doc = doc}};
    assert_int_equal(store_run(f->s, job_update_and_look, &oa), STORE_OK);
    assert_int_equal(oa.gen_inside % 2, 1);
    assert_int_equal(rowgen(f), oa.gen_inside + 1);
    json_decref(doc);
    for (int i = 0; i < 2; i++) /* cached */
        read_raw(f->s, uid, &version, &n, &keylen, raw, sizeof raw);
    /* a writer stopped after its change, before the second increment */
    set_rowgen(f, rowgen(f) + 1);
    edit_behind(f, uid, "{\"cas_Status\":\"Closed\"}");
    read_raw(f->s, uid, &version, &n, &keylen, raw, sizeof raw);
    assert_non_null(strstr(raw, "Closed")); /* not the cached "FollowUp" */
    edit_behind(f, uid, "{\"cas_Status\":\"Active\"}");
    read_raw(f->s, uid, &version, &n, &keylen, raw, sizeof raw);
    assert_non_null(strstr(raw, "Active")); /* nor was the last read cached */
    uint64_t odd = rowgen(f);
    assert_int_equal(odd % 2, 1);
    /* the next store to open settles it; caching resumes */
    char err[512];
    store *other = store_sqlite_open(f->path, err, sizeof err);
    assert_non_null(other);
    assert_int_equal(rowgen(f) % 2, 0);
    assert_true(rowgen(f) > odd);
    store_close(other);
    read_raw(f->s, uid, &version, &n, &keylen, raw, sizeof raw);
    read_raw(f->s, uid, &version, &n, &keylen, raw, sizeof raw);
    edit_behind(f, uid, "{\"cas_Status\":\"Closed\"}"); /* behind the cache's back */
    read_raw(f->s, uid, &version, &n, &keylen, raw, sizeof raw);
    assert_non_null(strstr(raw, "Active")); /* from memory again */
}

static int job_history(store_tx *tx, void *arg)
{
    hist_arg *a = arg;
    json_t *f1 = tu_json("[\"prs_FirstName\",\"cas_Status\"]");
    json_t *f2 = tu_json("[\"hte_Country\"]");
    int rc = store_tx_history_add(tx, a->case_id, 1, "2026-06-15T10:00:00.000Z", "ana", "create",
                                  NULL, f1);
    if (rc == STORE_OK)
        rc = store_tx_history_add(tx, a->case_id, 1, "2026-06-15T10:05:00.000Z", "luis",
                                  "event.create", "0195-event", f2);
    json_decref(f1);
    json_decref(f2);
    return rc;
}

static void test_history(void **state)
{
    fixture *f = *state;
    hist_arg a;
    json_t *h = NULL;
    assert_int_equal(
        insert_case(f->s, 1, "EC-2026-000001", "2026-06-15", NULL, NULL, NULL, &a.case_id),
        STORE_OK);
    assert_int_equal(store_history(f->s, "EC-2026-000001", &h), STORE_OK);
    assert_int_equal(json_array_size(h), 0);
    json_decref(h);
    assert_int_equal(store_run(f->s, job_history, &a), STORE_OK);
    char uid[40];
    fake_uid(uid, 1);
    assert_int_equal(store_history(f->s, uid, &h), STORE_OK);
    assert_int_equal(json_array_size(h), 2);
    json_t *want =
        tu_json("[{\"version\":1,\"at\":\"2026-06-15T10:00:00.000Z\",\"actor\":\"ana\",\"action\":"
                "\"create\",\"target\":null,\"fields\":[\"prs_FirstName\",\"cas_Status\"]},"
                "{\"version\":1,\"at\":\"2026-06-15T10:05:00.000Z\",\"actor\":\"luis\",\"action\":"
                "\"event.create\",\"target\":\"0195-event\",\"fields\":[\"hte_Country\"]}]");
    if (!json_equal(h, want)) {
        char *d = json_dumps(h, JSON_COMPACT);
        print_error("history: %s\n", d);
        free(d);
        fail();
    }
    json_decref(want);
    json_decref(h);
    h = NULL;
    assert_int_equal(store_history(f->s, "EC-2026-000009", &h), STORE_NOTFOUND);
    assert_null(h);
}

/* ---- organisations ------------------------------------------------------------------------------
 */

static void test_orgs(void **state)
{
    fixture *f = *state;
    store_row r;
    assert_int_equal(put_org(f->s, "org-b", 1, "2026-06-01T00:00:00.000Z",
                             tu_json("{\"org_Name\":\"B\",\"org_Type\":\"NGO\"}")),
                     STORE_OK);
    assert_int_equal(
        put_org(f->s, "org-a", 1, "2026-06-02T00:00:00.000Z", tu_json("{\"org_Name\":\"A\"}")),
        STORE_OK);
    assert_int_equal(store_org_get(f->s, "org-b", &r), STORE_OK);
    assert_string_equal(r.uid, "org-b");
    assert_int_equal(r.version, 1);
    assert_string_equal(json_string_value(json_object_get(r.doc, "org_Type")), "NGO");
    store_row_release(&r);
    assert_int_equal(store_org_get(f->s, "org-c", &r), STORE_NOTFOUND);

    /* replacing keeps the creation time and takes the new version and document */
    assert_int_equal(
        put_org(f->s, "org-b", 2, "2026-06-10T00:00:00.000Z", tu_json("{\"org_Name\":\"B2\"}")),
        STORE_OK);
    assert_int_equal(store_org_get(f->s, "org-b", &r), STORE_OK);
    assert_int_equal(r.version, 2);
    assert_string_equal(r.created_at, "2026-06-01T00:00:00.000Z");
    assert_string_equal(r.updated_at, "2026-06-10T00:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(r.doc, "org_Name")), "B2");
    assert_null(json_object_get(r.doc, "org_Type"));
    store_row_release(&r);

    store_row *rows = NULL;
    int n = 0;
    assert_int_equal(store_org_list(f->s, &rows, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].uid, "org-a");
    assert_string_equal(rows[1].uid, "org-b");
    assert_int_equal(rows[1].version, 2);
    for (int i = 0; i < n; i++)
        store_row_release(&rows[i]);
    free(rows);

    /* many organisations (the list grows its array) */
    for (int i = 0; i < 40; i++) {
        char id[32];
        snprintf(id, sizeof id, "org-x%02d", i);
        assert_int_equal(put_org(f->s, id, 1, "2026-06-15T00:00:00.000Z", json_object()), STORE_OK);
    }
    assert_int_equal(store_org_list(f->s, &rows, &n), STORE_OK);
    assert_int_equal(n, 42);
    assert_string_equal(rows[41].uid, "org-x39");
    for (int i = 0; i < n; i++)
        store_row_release(&rows[i]);
    free(rows);

    /* a case's owner must be an existing organisation */
    assert_int_not_equal(
        insert_case(f->s, 1, "EC-2026-000001", "2026-06-15", "no-such-org", NULL, NULL, NULL),
        STORE_OK);
    assert_int_equal(count_cases(f->s), 0);
    assert_int_equal(
        insert_case(f->s, 1, "EC-2026-000001", "2026-06-15", "org-a", NULL, NULL, NULL), STORE_OK);
}

/* ---- bulk loading
 * ----------------------------------------------------------------------------------- */

static void test_bulk(void **state)
{
    fixture *f = *state;
    insert_arg a;
    assert_int_equal(store_bulk_begin(f->s), STORE_OK);
    for (unsigned i = 0; i < 3; i++) {
        char ref[32];
        snprintf(ref, sizeof ref, "BULK-%u", i);
        make_case(&a.row, i + 1, ref, "2026-06-15", NULL);
        assert_int_equal(store_tx_case_insert(store_bulk_tx(f->s), &a.row, NULL), STORE_OK);
        store_row_release(&a.row);
    }
    assert_int_equal(store_bulk_end(f->s, false), STORE_OK);
    assert_int_equal(count_cases(f->s), 0);

    assert_int_equal(store_bulk_begin(f->s), STORE_OK);
    make_case(&a.row, 9, "BULK-9", "2026-06-15", NULL);
    assert_int_equal(store_tx_case_insert(store_bulk_tx(f->s), &a.row, NULL), STORE_OK);
    store_row_release(&a.row);
    assert_int_equal(store_bulk_end(f->s, true), STORE_OK);
    assert_int_equal(count_cases(f->s), 1);
    /* jobs run again afterwards */
    assert_int_equal(insert_case(f->s, 10, "AFTER-1", "2026-06-15", NULL, NULL, NULL, NULL),
                     STORE_OK);
    assert_int_equal(count_cases(f->s), 2);

    /* foreign keys are checked for the whole load at its commit: a case naming
     * an organisation that does not exist stops the commit */
    assert_int_equal(store_bulk_begin(f->s), STORE_OK);
    make_case(&a.row, 11, "BULK-11", "2026-06-15", NULL);
    snprintf(a.row.owner_org, sizeof a.row.owner_org, "no-such-org");
    assert_int_equal(store_tx_case_insert(store_bulk_tx(f->s), &a.row, NULL), STORE_OK);
    store_row_release(&a.row);
    assert_int_not_equal(store_bulk_end(f->s, true), STORE_OK);
    assert_int_equal(count_cases(f->s), 2);
    /* … and are enforced again row by row afterwards */
    assert_int_not_equal(
        insert_case(f->s, 12, "AFTER-2", "2026-06-15", "no-such-org", NULL, NULL, NULL), STORE_OK);
    /* terms of a bulk load are written at its commit, and searchable */
    assert_int_equal(store_bulk_begin(f->s), STORE_OK);
    for (unsigned i = 0; i < 40; i++) {
        char ref[32];
        snprintf(ref, sizeof ref, "BULKT-%u", i);
        make_case(&a.row, 20 + i, ref, "2026-06-15", NULL);
        json_t *terms = json_pack("{s:[s,s]}", "gender", i % 2 ? "Feminine" : "Masculine", "x");
        assert_int_equal(store_tx_case_insert(store_bulk_tx(f->s), &a.row, terms), STORE_OK);
        json_decref(terms);
        store_row_release(&a.row);
    }
    assert_int_equal(store_bulk_end(f->s, true), STORE_OK);
    assert_int_equal(count_cases(f->s), 42);
    store_query q = {.limit = 100, .nterms = 1};
    q.terms[0].field = "gender";
    q.terms[0].values[0] = "Feminine";
    q.terms[0].nvalues = 1;
    store_row *rows = NULL;
    int nrows = 0;
    int64_t total = 0;
    assert_int_equal(store_case_list(f->s, &q, &rows, &nrows, &total), STORE_OK);
    assert_int_equal(total, 20);
    for (int i = 0; i < nrows; i++)
        store_row_release(&rows[i]);
    free(rows);
}

/* A load's (term, case) rows are sorted before they are written: enough of them
 * for the radix sort (4,096 or more) over a span of term ids that takes it two
 * passes, every case with its own term and a shared one. */
static void test_bulk_terms_sorted(void **state)
{
    fixture *f = *state;
    enum { N = 3000 };
    insert_arg a;
    assert_int_equal(store_bulk_begin(f->s), STORE_OK);
    for (unsigned i = 0; i < N; i++) {
        char ref[32], own[16];
        snprintf(ref, sizeof ref, "SORT-%u", i);
        snprintf(own, sizeof own, "v%u", (i * 7919u) % N); /* ids not in case order */
        make_case(&a.row, 100 + i, ref, "2026-06-15", NULL);
        json_t *terms = json_pack("{s:[s], s:[s]}", "own", own, "shared", i % 3 ? "b" : "a");
        assert_int_equal(store_tx_case_insert(store_bulk_tx(f->s), &a.row, terms), STORE_OK);
        json_decref(terms);
        store_row_release(&a.row);
    }
    assert_int_equal(store_bulk_end(f->s, true), STORE_OK);
    sqlite3 *db = raw_open(f->path);
    char got[256];
    raw_text(db,
             "SELECT count(*) || ' ' || count(DISTINCT case_id) || ' ' || "
             "(SELECT max(id) - min(id) > 2048 FROM term_ids) FROM case_terms",
             got, sizeof got);
    assert_string_equal(got, "6000 3000 1");
    /* each case holds exactly its own value */
    raw_text(db,
             "SELECT count(*) FROM cases c JOIN case_terms ct ON ct.case_id = c.id "
             "JOIN term_ids t ON t.id = ct.term_id AND t.field = 'own' "
             "WHERE t.value = 'v' || ((CAST(substr(c.reference, 6) AS INTEGER) * 7919) % 3000)",
             got, sizeof got);
    assert_string_equal(got, "3000");
    sqlite3_close(db);
    store_query q = query_all();
    add_term(&q, "shared", "a", NULL);
    char refs[2048]; /* a page of 100 references */
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), N / 3);
}

/* ---- many concurrent submitters
 * -------------------------------------------------------------------- */

#define THREADS 8
#define PER_THREAD 200

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, failed;
} tally;

typedef struct {
    tally *t;
    int thread, i;
} conc_job;

static int job_conc(store_tx *tx, void *arg)
{
    conc_job *j = arg;
    store_row r;
    char ref[40];
    snprintf(ref, sizeof ref, "T%d-%04d", j->thread, j->i);
    make_case(&r, (unsigned)(j->thread * 10000 + j->i + 1), ref, "2026-06-15",
              json_pack("{s:i}", "n", j->i));
    json_t *terms = json_pack("{s:[s]}", "thread", ref + 1);
    int rc = store_tx_case_insert(tx, &r, terms);
    json_decref(terms);
    store_row_release(&r);
    return rc;
}

static void conc_done(void *arg, int rc)
{
    conc_job *j = arg;
    tally *t = j->t;
    pthread_mutex_lock(&t->mu);
    t->done++;
    if (rc != STORE_OK)
        t->failed++;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

typedef struct {
    store *s;
    conc_job *jobs; /* PER_THREAD of them */
    int submit_errors;
} submitter;

static void *submit_all(void *arg)
{
    submitter *sb = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        if (store_submit(sb->s, job_conc, conc_done, &sb->jobs[i]) != STORE_OK)
            sb->submit_errors++;
    }
    return NULL;
}

static void test_concurrent_submitters(void **state)
{
    fixture *f = *state;
    tally t = {.done = 0};
    pthread_mutex_init(&t.mu, NULL);
    pthread_cond_init(&t.cv, NULL);
    conc_job *jobs = calloc(THREADS * PER_THREAD, sizeof *jobs);
    submitter sb[THREADS];
    pthread_t th[THREADS];
    for (int k = 0; k < THREADS; k++) {
        for (int i = 0; i < PER_THREAD; i++) {
            conc_job *j = &jobs[k * PER_THREAD + i];
            j->t = &t;
            j->thread = k;
            j->i = i;
        }
        sb[k].s = f->s;
        sb[k].jobs = &jobs[k * PER_THREAD];
        sb[k].submit_errors = 0;
        assert_int_equal(pthread_create(&th[k], NULL, submit_all, &sb[k]), 0);
    }
    for (int k = 0; k < THREADS; k++) {
        pthread_join(th[k], NULL);
        assert_int_equal(sb[k].submit_errors, 0);
    }
    pthread_mutex_lock(&t.mu);
    while (t.done < THREADS * PER_THREAD)
        pthread_cond_wait(&t.cv, &t.mu);
    pthread_mutex_unlock(&t.mu);
    assert_int_equal(t.failed, 0);
    assert_int_equal(count_cases(f->s), THREADS * PER_THREAD);

    /* durable: still there after closing and re-opening */
    reopen(f);
    assert_int_equal(count_cases(f->s), THREADS * PER_THREAD);
    store_row r;
    assert_int_equal(store_case_get(f->s, "T7-0199", &r, NULL), STORE_OK);
    assert_int_equal(json_integer_value(json_object_get(r.doc, "n")), 199);
    store_row_release(&r);
    char refs[64];
    store_query q = query_all();
    add_term(&q, "thread", "3-0042", NULL);
    assert_int_equal(list_refs(f->s, &q, refs, sizeof refs), 1);
    assert_string_equal(refs, "T3-0042");

    free(jobs);
    pthread_mutex_destroy(&t.mu);
    pthread_cond_destroy(&t.cv);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
        cmocka_unit_test(test_open_failure),
        cmocka_unit_test_setup_teardown(test_insert_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terms_column, setup, teardown),
        cmocka_unit_test_setup_teardown(test_term_of_rolled_back_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_job_rolls_back_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_see_committed_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequences, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_children, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_cache_follows_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_cache_after_a_stopped_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs_queued_at_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orgs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_terms_sorted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_submitters, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
