/* e2e_audit.c — the audit trail end to end: GET /api/v1/audit (filters, paging,
 * refusals), GET /api/v1/audit/verify, `amparo audit verify|head|list` against
 * the live data directory, and tampering with the database file while the
 * server runs.  Other modules add entries of their own (logins, case reads), so
 * the assertions filter on the entries these tests make. */
#include "e2e_util.h"

#include <pthread.h>
#include <sqlite3.h>

static void world(void **state)
{
    (void)state;
    e2e_world_setup();
    e2e_as("auditor");
}

/* Runs `amparo audit ARGS… --data <data>`; returns the exit code (-1: no exit). */
static int audit_cli(const char *sub, const char *arg1, const char *arg2)
{
    char *argv[8] = {(char *)srv.bin, "audit", (char *)sub, "--data", srv.data, NULL, NULL, NULL};
    argv[5] = (char *)arg1;
    argv[6] = arg1 ? (char *)arg2 : NULL;
    int st = run_tool(argv);
    return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
static bool is_timestamp_like(const char *s)
{
    return s && strlen(s) == 24 && s[4] == '-' && s[10] == 'T' && s[19] == '.' && s[23] == 'Z';
}

static json_int_t seq_of(const json_t *item)
{
    return jint(item, "seq");
}

static void test_list_shape(void **state)
{
    (void)state;
    e2e_as("auditor");
    resp r;
    GET(&r, "/api/v1/audit");
    EXPECT_STATUS(&r, 200);
    assert_non_null(r.json);
    assert_int_equal(jint(r.json, "limit"), 50);
    assert_int_equal(jint(r.json, "offset"), 0);
    assert_true(jint(r.json, "total") >= 1);
    json_t *items = json_object_get(r.json, "items");
    assert_true(json_array_size(items) >= 1);
    /* newest first: the first entry is this very read, recorded before the answer */
    json_t *e = json_array_get(items, 0);
    assert_string_equal(jstr(e, "action"), "audit.read");
    assert_string_equal(jstr(e, "object_type"), "audit");
    assert_true(json_is_null(json_object_get(e, "object_id")));
    assert_non_null(jstr(e, "actor"));
    assert_true(is_timestamp_like(jstr(e, "at")));
    assert_int_equal(strlen(jstr(e, "hash")), 64);
    assert_int_equal(strlen(jstr(e, "prev")), 64);
    assert_true(json_is_object(json_object_get(e, "detail")));
    assert_true(json_is_object(json_object_get(json_object_get(e, "detail"), "filters")));
    assert_true(seq_of(e) >= jint(r.json, "total")); /* seq is dense from 1 */
    /* each entry links to the one before it */
    for (size_t i = 0; i + 1 < json_array_size(items); i++) {
        json_t *a = json_array_get(items, i), *b = json_array_get(items, i + 1);
        assert_int_equal(seq_of(a), seq_of(b) + 1);
        assert_string_equal(jstr(a, "prev"), jstr(b, "hash"));
    }
    resp_free(&r);
}

static void test_filters_and_paging(void **state)
{
    (void)state;
    e2e_as("auditor");
    /* five reads with a marker filter each: their entries carry it */
    for (int i = 0; i < 5; i++) {
        resp r;
        GET(&r, pf("/api/v1/audit?object_id=marker-%d&limit=1", i));
        EXPECT_STATUS(&r, 200);
        assert_int_equal(jint(r.json, "total"), 0); /* nothing is about that object */
        resp_free(&r);
    }
    resp r;
    GET(&r, "/api/v1/audit?action=audit.read&object_type=audit&order=asc&limit=2&offset=1");
    EXPECT_STATUS(&r, 200);
    json_int_t total = jint(r.json, "total");
    assert_true(total >= 7); /* the list above, these five, this one */
    assert_int_equal(jint(r.json, "limit"), 2);
    assert_int_equal(jint(r.json, "offset"), 1);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_true(seq_of(json_array_get(items, 0)) < seq_of(json_array_get(items, 1)));
    json_int_t second = seq_of(json_array_get(items, 0));
    resp_free(&r);
    /* oldest-first pages are stable while the trail grows */
    GET(&r, "/api/v1/audit?action=audit.read&order=asc&limit=1&offset=1");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(seq_of(json_array_get(json_object_get(r.json, "items"), 0)), second);
    resp_free(&r);
    /* the reads recorded their filters */
    GET(&r, "/api/v1/audit?action=audit.read&limit=50");
    EXPECT_STATUS(&r, 200);
    int markers = 0;
    size_t i;
    json_t *e;
    json_array_foreach (json_object_get(r.json, "items"), i, e) {
        const char *oid =
            jstr(json_object_get(json_object_get(e, "detail"), "filters"), "object_id");
        if (oid && starts_with(oid, "marker-"))
            markers++;
    }
    assert_int_equal(markers, 5);
    resp_free(&r);
    /* time bounds */
    GET(&r, "/api/v1/audit?to=2000-01-01");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    resp_free(&r);
    GET(&r, "/api/v1/audit?from=2000-01-01T00:00Z&action=audit.read&limit=500");
    EXPECT_STATUS(&r, 200);
    assert_true(jint(r.json, "total") >= total);
    resp_free(&r);
    /* an actor filter returns only that actor */
    GET(&r, "/api/v1/audit?limit=1");
    EXPECT_STATUS(&r, 200);
    char actor[80];
    snprintf(actor, sizeof actor, "%s",
             jstr(json_array_get(json_object_get(r.json, "items"), 0), "actor"));
    resp_free(&r);
    GET(&r, pf("/api/v1/audit?actor=%s&limit=500", actor));
    EXPECT_STATUS(&r, 200);
    json_array_foreach (json_object_get(r.json, "items"), i, e)
        assert_string_equal(jstr(e, "actor"), actor);
    resp_free(&r);
    GET(&r, "/api/v1/audit?actor=nobody-at-all");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 0);
    resp_free(&r);
}

static void test_bad_filters(void **state)
{
    (void)state;
    e2e_as("auditor");
    resp r;
    GET(&r, "/api/v1/audit?limit=501&offset=-2&from=yesterday&to=2026-02-30&order=up&colour=red"
            "&action=Case%20Read&org=a%20b");
    expect_error(&r, 400, NULL);
    expect_field_error(&r, "limit", "max");
    expect_field_error(&r, "offset", "min");
    expect_field_error(&r, "from", "date");
    expect_field_error(&r, "to", "date");
    expect_field_error(&r, "order", "picklist");
    expect_field_error(&r, "colour", "unknown_parameter");
    expect_field_error(&r, "action", "format");
    expect_field_error(&r, "org", "lookup");
    assert_int_equal(error_field_count(&r), 8);
    resp_free(&r);
    GET(&r, "/api/v1/audit?limit=0");
    expect_error(&r, 400, NULL);
    expect_field_error(&r, "limit", "max");
    resp_free(&r);
    GET(&r, "/api/v1/audit?actor=%zz");
    expect_error(&r, 400, NULL);
    resp_free(&r);
    GET(&r, "/api/v1/audit/verify?expect_head=12&deep=yes");
    expect_error(&r, 400, NULL);
    expect_field_error(&r, "expect_head", "format");
    expect_field_error(&r, "deep", "unknown_parameter");
    resp_free(&r);
    /* other methods are not allowed */
    SEND(&r, "POST", "/api/v1/audit", "{}", NULL);
    expect_error(&r, 405, NULL);
    resp_free(&r);
    SEND(&r, "DELETE", "/api/v1/audit", NULL, NULL);
    expect_error(&r, 405, NULL);
    resp_free(&r);
}

#ifdef E2E_HAVE_AUTH
static void test_refusals(void **state)
{
    (void)state;
    const char *refused[] = {"admin",     "orgadmin-a", "coord-a", "cw-a",
                             "hotline-a", "shelter-b",  "analyst"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        e2e_as(refused[i]);
        resp r;
        GET(&r, "/api/v1/audit");
        if (r.status != 403)
            fail_msg("%s: GET /api/v1/audit answered %ld", refused[i], r.status);
        expect_error(&r, 403, NULL);
        resp_free(&r);
        GET(&r, "/api/v1/audit/verify");
        expect_error(&r, 403, NULL);
        resp_free(&r);
    }
    /* the refusals are on the record, under each user's name */
    e2e_as("auditor");
    resp r;
    GET(&r, "/api/v1/audit?action=audit.denied&actor=analyst");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 2);
    resp_free(&r);
    GET(&r, "/api/v1/audit?limit=1");
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(json_array_get(json_object_get(r.json, "items"), 0), "actor"),
                        "auditor");
    resp_free(&r);
}
#endif

static void test_verify_and_cli(void **state)
{
    (void)state;
    e2e_as("auditor");
    resp r;
    GET(&r, "/api/v1/audit/verify");
    EXPECT_STATUS(&r, 200);
    assert_true(json_is_true(json_object_get(r.json, "intact")));
    json_int_t entries = jint(r.json, "entries");
    assert_true(entries >= 10);
    json_t *head = json_object_get(r.json, "head");
    assert_int_equal(jint(head, "seq"), entries);
    char expect[100];
    snprintf(expect, sizeof expect, "%lld:%s", (long long)jint(head, "seq"), jstr(head, "hash"));
    resp_free(&r);
    GET(&r, pf("/api/v1/audit/verify?expect_head=%s", expect));
    EXPECT_STATUS(&r, 200);
    assert_true(json_is_true(json_object_get(r.json, "intact")));
    resp_free(&r);
    /* the verification was recorded */
    GET(&r, "/api/v1/audit?action=audit.verify&limit=1");
    EXPECT_STATUS(&r, 200);
    assert_true(jint(r.json, "total") >= 2);
    assert_true(json_is_true(json_object_get(
        json_object_get(json_array_get(json_object_get(r.json, "items"), 0), "detail"), "intact")));
    resp_free(&r);
    /* the command line agrees, on the live data directory */
    assert_int_equal(audit_cli("verify", NULL, NULL), 0);
    assert_int_equal(audit_cli("verify", "--expect-head", expect), 0);
    assert_int_equal(audit_cli("head", NULL, NULL), 0);
    assert_int_equal(audit_cli("list", "--action", "audit.verify"), 0);
    assert_int_equal(audit_cli("list", "--limit", "900"), 4);
    assert_int_equal(audit_cli("verify", "--expect-head", "nonsense"), 4);
    assert_int_equal(audit_cli("verify", "--bogus", NULL), 2);
    assert_int_equal(audit_cli("verify", "--help", NULL), 0);
}

/* Last: breaks the chain on purpose. */
static void test_tampering_is_detected(void **state)
{
    (void)state;
    e2e_as("auditor");
    char path[400];
    snprintf(path, sizeof path, "%s/amparo.db", srv.data);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    /* the triggers stop a careless UPDATE */
    assert_int_not_equal(
        sqlite3_exec(db, "UPDATE audit SET actor = 'x' WHERE seq = 3", NULL, NULL, NULL),
        SQLITE_OK);
    /* an attacker drops them and rewrites entry 3 */
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TRIGGER audit_no_update; UPDATE audit SET actor = "
                                  "'someone-else' WHERE seq = 3",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    resp r;
    GET(&r, "/api/v1/audit/verify");
    EXPECT_STATUS(&r, 200);
    assert_true(json_is_false(json_object_get(r.json, "intact")));
    assert_string_equal(jstr(r.json, "problem"), "hash_mismatch");
    assert_int_equal(jint(r.json, "seq"), 3);
    assert_non_null(strstr(jstr(r.json, "message"), "entry 3"));
    assert_int_equal(jint(json_object_get(r.json, "head"), "seq"), 2);
    resp_free(&r);
    assert_int_equal(audit_cli("verify", NULL, NULL), 1);
    /* the server goes on recording */
    GET(&r, "/api/v1/audit?limit=1");
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
}

/* Reads from many connections at once (spread over the server's threads, each
 * answering in rounds): every answer is 200 with the case, and every read has
 * its entry, in the trail as soon as its answer has come. */
#define READERS 8
#define READS_EACH 25

typedef struct {
    const char *path;
    pthread_barrier_t *barrier;
    int ok;
    long bad_status;
} reader;

static void *reader_main(void *arg)
{
    reader *rd = arg;
    CURL *h = curl_easy_init();
    pthread_barrier_wait(rd->barrier);
    for (int i = 0; h && i < READS_EACH; i++) {
        resp r;
        http_do(h, &r, "GET", rd->path, NULL, 0, NULL);
        if (r.status == 200 && r.json && jstr(r.json, "prs_FirstName") &&
            strcmp(jstr(r.json, "prs_FirstName"), "Concurrent") == 0)
            rd->ok++;
        else
            rd->bad_status = r.status;
        resp_free(&r);
    }
    if (h)
        curl_easy_cleanup(h);
    return NULL;
}

static void test_concurrent_reads_each_audited(void **state)
{
    (void)state;
    e2e_as("cw-a");
    resp r;
    SEND(&r, "POST", "/api/v1/cases",
         "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","
         " \"prs_FirstName\": \"Concurrent\"}",
         NULL);
    EXPECT_STATUS(&r, 201);
    char uid[64], path[128];
    snprintf(uid, sizeof uid, "%s", jstr(r.json, "id"));
    resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/cases/%s", uid);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, READERS);
    reader rd[READERS];
    pthread_t th[READERS];
    for (int t = 0; t < READERS; t++) {
        rd[t] = (reader){.path = path, .barrier = &barrier};
        assert_int_equal(pthread_create(&th[t], NULL, reader_main, &rd[t]), 0);
    }
    int ok = 0;
    long bad = 0;
    for (int t = 0; t < READERS; t++) {
        pthread_join(th[t], NULL);
        ok += rd[t].ok;
        if (rd[t].bad_status)
            bad = rd[t].bad_status;
    }
    pthread_barrier_destroy(&barrier);
    if (ok != READERS * READS_EACH)
        fail_msg("%d of %d concurrent reads answered the case (last other status %ld)", ok,
                 READERS * READS_EACH, bad);
    e2e_as("auditor");
    GET(&r, pf("/api/v1/audit?object_id=%s&action=case.read&limit=1", uid));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), READERS * READS_EACH);
    json_t *e = json_array_get(json_object_get(r.json, "items"), 0);
    assert_string_equal(jstr(e, "actor"), "cw-a");
    assert_true(json_is_true(json_object_get(json_object_get(e, "detail"), "identity")));
    resp_free(&r);
    GET(&r, "/api/v1/audit/verify");
    EXPECT_STATUS(&r, 200);
    assert_true(json_is_true(json_object_get(r.json, "intact")));
    resp_free(&r);
}

static void test_sigterm(void **state)
{
    (void)state;
    int st = server_terminate();
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        dump_log("SIGTERM");
        fail_msg("amparo serve did not exit cleanly on SIGTERM");
    }
}

/* The entries of case.read for uid committed in the database file right now,
 * counted through a connection of its own (not through the server). */
static long committed_reads(const char *uid)
{
    char path[400];
    snprintf(path, sizeof path, "%s/amparo.db", srv.data);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM audit WHERE action = 'case.read' "
                                        "AND object_id = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, uid, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Appends a line to the data directory's amparo.conf. */
static void conf_append(const char *line)
{
    char path[400];
    snprintf(path, sizeof path, "%s/amparo.conf", srv.data);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    assert_true(fputs(line, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* read_audit=durable: every read is answered only once the commit holding its
 * entry is in the file, so a reader of the file sees it at once; a value other
 * than journal or durable stops the server from starting. */
static void test_durable_reads(void **state)
{
    (void)state;
    conf_append("read_audit=sometimes\n");
    char *argv[] = {(char *)srv.bin, "serve", "--data", srv.data, "--listen", "127.0.0.1:0", NULL};
    int st = run_tool(argv);
    assert_true(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) != 0);
    /* the last line wins, spaces do not count; a misspelt key is named */
    conf_append(" read_audit = durable \nread_audti=journal\n");
    if (server_launch() != 0)
        fail_msg("amparo serve did not start with read_audit=durable");
    assert_true(log_has("unknown setting 'read_audti'"));
    e2e_as("cw-a");
    resp r;
    SEND(&r, "POST", "/api/v1/cases",
         "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","
         " \"prs_FirstName\": \"Durable\"}",
         NULL);
    EXPECT_STATUS(&r, 201);
    char uid[64];
    snprintf(uid, sizeof uid, "%s", jstr(r.json, "id"));
    resp_free(&r);
    for (long i = 1; i <= 10; i++) {
        GET(&r, pf("/api/v1/cases/%s", uid));
        EXPECT_STATUS(&r, 200);
        assert_string_equal(jstr(r.json, "prs_FirstName"), "Durable");
        resp_free(&r);
        assert_int_equal(committed_reads(uid), i);
    }
    e2e_as("auditor");
    GET(&r, pf("/api/v1/audit?object_id=%s&action=case.read&limit=1", uid));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 10);
    resp_free(&r);
    int term = server_terminate();
    if (term < 0 || !WIFEXITED(term) || WEXITSTATUS(term) != 0) {
        dump_log("SIGTERM (durable)");
        fail_msg("amparo serve did not exit cleanly on SIGTERM");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(world),
        cmocka_unit_test(test_list_shape),
        cmocka_unit_test(test_filters_and_paging),
        cmocka_unit_test(test_bad_filters),
#ifdef E2E_HAVE_AUTH
        cmocka_unit_test(test_refusals),
#endif
        cmocka_unit_test(test_verify_and_cli),
        cmocka_unit_test(test_concurrent_reads_each_audited),
        cmocka_unit_test(test_tampering_is_detected),
        cmocka_unit_test(test_sigterm),
        cmocka_unit_test(test_durable_reads),
    };
    return cmocka_run_group_tests_name("e2e_audit", tests, group_setup, group_teardown);
}
