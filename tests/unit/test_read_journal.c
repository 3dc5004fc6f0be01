/* test_read_journal.c — read entries answered before their commit: they join
 * the chain (in order, with the time of the read) on a settle and on their own
 * within the window; what a crashed process left is appended at the next
 * start, once, and a changed line is left out; a full file makes appends wait
 * for the swap, not fail; two processes on one data directory take a slot
 * each.  A crash is a child process that ends with _exit after its appends. */
#include "testutil.h"

#include "core/audit.h"
#include "core/read_journal.h"

#include <sys/stat.h>
#include <sys/wait.h>

static const uint8_t test_key[AUDIT_KEY_BYTES] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6,
                                                  7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2};

static int setup(void **state)
{
    audit_set_key(test_key);
    *state = tu_env_new();
    return 0;
}

static int teardown(void **state)
{
    tu_env_free(*state);
    return 0;
}

static principal reader(const char *actor)
{
    principal p = {.roles = ROLE_CASEWORKER};
    snprintf(p.actor, sizeof p.actor, "%s", actor);
    snprintf(p.org, sizeof p.org, "org-a");
    snprintf(p.lang, sizeof p.lang, "en");
    snprintf(p.addr, sizeof p.addr, "192.0.2.9");
    return p;
}

static read_journal *open_journal(tu_env *e, unsigned window_ms, size_t bytes)
{
    char err[512];
    read_journal_options o = {.window_ms = window_ms, .file_bytes = bytes};
    read_journal *j = read_journal_open(e->dir, e->store, &o, err, sizeof err);
    if (!j)
        fail_msg("read journal: %s", err);
    return j;
}

/* The trail as a list, oldest first. */
static store_audit_entry *entries(tu_env *e, int *n)
{
    store_audit_entry *rows = NULL;
    store_audit_query q = {.ascending = true, .limit = 100000};
    assert_int_equal(store_audit_list(e->store, &q, &rows, n, NULL), STORE_OK);
    return rows;
}

static void free_entries(store_audit_entry *rows, int n)
{
    for (int i = 0; i < n; i++)
        store_audit_entry_release(&rows[i]);
    free(rows);
}

static void expect_intact(tu_env *e, int64_t n)
{
    audit_verify_result r;
    if (audit_verify(e->store, NULL, NULL, &r) != 0)
        fail_msg("trail not intact: %s", r.message);
    assert_int_equal(r.entries, n);
}

static void append_reads(read_journal *j, const char *actor, int from, int n)
{
    principal p = reader(actor);
    for (int i = from; i < from + n; i++) {
        char id[32];
        snprintf(id, sizeof id, "case-%04d", i);
        json_t *d = json_pack("{s:b, s:i}", "identity", i % 2, "n", i);
        audit_fields f;
        assert_int_equal(audit_fields_prepare(&f, &p, "case.read", "case", id, d), 0);
        json_decref(d);
        assert_int_equal(read_journal_append(j, &f), 0);
        audit_fields_release(&f);
    }
}

/* ---- in a running process ---- */

static void test_reads_join_the_chain_in_order(void **state)
{
    tu_env *e = *state;
    read_journal *j = open_journal(e, 1000, 0); /* a long window: only settle commits */
    core_set_read_journal(e->core, j);
    principal p = reader("cw-a");
    amp_err err = {0};
    for (int i = 0; i < 30; i++) {
        char id[16];
        snprintf(id, sizeof id, "c-%02d", i);
        assert_int_equal(audit_read(e->core, &p, "case.read", "case", id, NULL, &err), AMP_OK);
    }
    assert_int_equal(
        audit_read_json(e->core, &p, "case.read", "case", "c-30", "{\"identity\":true}", &err),
        AMP_OK);
    assert_int_equal(audit_reads_settle(e->core, &err), AMP_OK);
    expect_intact(e, 31);
    int n;
    store_audit_entry *rows = entries(e, &n);
    assert_int_equal(n, 31);
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "c-%02d", i);
        assert_string_equal(rows[i].object_id, id);
        assert_string_equal(rows[i].actor, "cw-a");
        assert_string_equal(rows[i].addr, "192.0.2.9");
        assert_string_equal(rows[i].action, "case.read");
        if (i)
            assert_true(strcmp(rows[i - 1].at, rows[i].at) <= 0);
    }
    assert_string_equal(rows[30].detail, "{\"identity\":true}");
    assert_string_equal(rows[0].detail, "{}");
    free_entries(rows, n);
    read_journal_stats st;
    read_journal_stats_get(j, &st);
    assert_int_equal(st.entries, 31);
    assert_true(st.commits >= 1);
    /* a lone audit_log entry after them follows them in the chain */
    assert_int_equal(audit_log(e->core, &p, "case.update", "case", "c-00", NULL, &err), AMP_OK);
    expect_intact(e, 32);
    core_set_read_journal(e->core, NULL);
    read_journal_close(j);
}

static void test_window_commits_without_a_settle(void **state)
{
    tu_env *e = *state;
    read_journal *j = open_journal(e, 20, 0);
    append_reads(j, "cw-b", 0, 5);
    int n = 0;
    for (int tries = 0; tries < 200 && n < 5; tries++) {
        usleep(10000);
        store_audit_entry *rows = entries(e, &n);
        free_entries(rows, n);
    }
    assert_int_equal(n, 5);
    read_journal_close(j);
    expect_intact(e, 5);
}

static void test_close_commits_what_is_left(void **state)
{
    tu_env *e = *state;
    read_journal *j = open_journal(e, 1000, 0);
    append_reads(j, "cw-c", 0, 12);
    read_journal_close(j); /* no settle */
    expect_intact(e, 12);
    j = open_journal(e, 1000, 0); /* nothing left over: nothing appended twice */
    read_journal_stats st;
    read_journal_stats_get(j, &st);
    assert_int_equal(st.recovered, 0);
    read_journal_close(j);
    expect_intact(e, 12);
}

static void test_a_full_file_waits_for_the_swap(void **state)
{
    tu_env *e = *state;
    /* the smallest files (64 KiB) and a long window: ~1,000 lines of ~250 bytes
     * fill a file several times over, so appends must wait for swaps */
    read_journal *j = open_journal(e, 1000, 1);
    append_reads(j, "cw-a", 0, 1000);
    assert_int_equal(read_journal_settle(j), 0);
    read_journal_stats st;
    read_journal_stats_get(j, &st);
    assert_true(st.commits >= 3);
    assert_int_equal(st.entries, 1000);
    read_journal_close(j);
    expect_intact(e, 1000);
}

/* ---- a crash, and the next start ---- */

typedef enum { CRASH_PLAIN, CRASH_AFTER_COMMIT } crash_kind;

/* The crashing process (this program run again with --crash-child, so that
 * it starts with no threads): opens the store and journal of dir, appends n
 * reads (after `committed` more that are committed first) and dies without
 * closing.  CRASH_AFTER_COMMIT: keeps a copy of file .0 holding the committed
 * lines and puts it back before dying, as if the clearing had not reached the
 * disk. */
static int crash_child_main(const char *dir, int committed, int n, crash_kind kind)
{
    if (sodium_init() < 0)
        return 2;
    audit_set_key(test_key);
    char path[400], err[512];
    snprintf(path, sizeof path, "%s/amparo.db", dir);
    store *s = store_sqlite_open(path, err, sizeof err);
    read_journal_options o = {.window_ms = 1000};
    read_journal *j = s ? read_journal_open(dir, s, &o, err, sizeof err) : NULL;
    if (!j)
        return 3;
    if (committed) {
        append_reads(j, "early", 0, committed);
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "cp '%s/read-journal.0.0' '%s/saved'", dir, dir);
        if (kind == CRASH_AFTER_COMMIT && system(cmd) != 0)
            return 4;
        if (read_journal_settle(j) != 0)
            return 5;
        snprintf(cmd, sizeof cmd, "cp '%s/saved' '%s/read-journal.0.0'", dir, dir);
        if (kind == CRASH_AFTER_COMMIT && system(cmd) != 0)
            return 6;
    }
    append_reads(j, "late", committed, n);
    _exit(0); /* no close, no commit: the lines are only in the files */
}

static void crash_child(const char *dir, int committed, int n, crash_kind kind)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char a[16], b[16], k[16];
        snprintf(a, sizeof a, "%d", committed);
        snprintf(b, sizeof b, "%d", n);
        snprintf(k, sizeof k, "%d", (int)kind);
        execl("/proc/self/exe", "test_read_journal", "--crash-child", dir, a, b, k, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_a_crash_loses_nothing(void **state)
{
    tu_env *e = *state;
    crash_child(e->dir, 0, 40, CRASH_PLAIN);
    expect_intact(e, 0); /* the child never committed */
    read_journal *j = open_journal(e, 1000, 0);
    read_journal_stats st;
    read_journal_stats_get(j, &st);
    assert_int_equal(st.recovered, 40);
    assert_int_equal(st.rejected, 0);
    expect_intact(e, 40);
    int n;
    store_audit_entry *rows = entries(e, &n);
    assert_string_equal(rows[0].object_id, "case-0000");
    assert_string_equal(rows[39].object_id, "case-0039");
    assert_string_equal(rows[39].actor, "late");
    free_entries(rows, n);
    /* new reads continue the chain after the recovered ones */
    append_reads(j, "next", 100, 3);
    assert_int_equal(read_journal_settle(j), 0);
    read_journal_close(j);
    expect_intact(e, 43);
}

static void test_committed_lines_are_not_appended_twice(void **state)
{
    tu_env *e = *state;
    crash_child(e->dir, 10, 4, CRASH_AFTER_COMMIT);
    expect_intact(e, 10);
    read_journal *j = open_journal(e, 1000, 0);
    read_journal_stats st;
    read_journal_stats_get(j, &st);
    assert_int_equal(st.recovered, 4); /* the 10 committed lines are skipped */
    read_journal_close(j);
    expect_intact(e, 14);
}

static void test_a_changed_line_is_left_out(void **state)
{
    tu_env *e = *state;
    crash_child(e->dir, 0, 3, CRASH_PLAIN);
    char path[400];
    snprintf(path, sizeof path, "%s/read-journal.0.0", e->dir);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    char buf[4096] = {0};
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    char *second = strstr(buf, "case-0001");
    assert_non_null(second);
    assert_true((size_t)(second - buf) < got);
    second[5] = '9'; /* someone who cannot read audit.key rewrites which case was read */
    fseek(f, 0, SEEK_SET);
    assert_int_equal(fwrite(buf, 1, got, f), got);
    fclose(f);
    read_journal *j = open_journal(e, 1000, 0);
    read_journal_stats st;
    read_journal_stats_get(j, &st);
    assert_int_equal(st.recovered, 2);
    assert_int_equal(st.rejected, 1);
    read_journal_close(j);
    int n;
    store_audit_entry *rows = entries(e, &n);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].object_id, "case-0000");
    assert_string_equal(rows[1].object_id, "case-0002");
    free_entries(rows, n);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0077, 0); /* owner only */
}

static void test_two_servers_take_a_slot_each(void **state)
{
    tu_env *e = *state;
    read_journal *a = open_journal(e, 1000, 0);
    read_journal *b = open_journal(e, 1000, 0); /* the first slot is locked: the next */
    char path[400];
    snprintf(path, sizeof path, "%s/read-journal.1.0", e->dir);
    assert_int_equal(access(path, F_OK), 0);
    append_reads(a, "slot0", 0, 5);
    append_reads(b, "slot1", 0, 7);
    assert_int_equal(read_journal_settle(a), 0);
    assert_int_equal(read_journal_settle(b), 0);
    read_journal_close(b);
    read_journal_close(a);
    expect_intact(e, 12);
    /* a second server that crashed (slot 1, as slot 0 is held here) is
     * recovered by the next start of the first */
    a = open_journal(e, 1000, 0);
    crash_child(e->dir, 0, 2, CRASH_PLAIN);
    expect_intact(e, 12);
    read_journal_close(a);
    a = open_journal(e, 1000, 0);
    read_journal_stats st;
    read_journal_stats_get(a, &st);
    assert_int_equal(st.recovered, 2);
    read_journal_close(a);
    expect_intact(e, 14);
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "--crash-child") == 0)
        return crash_child_main(argv[2], atoi(argv[3]), atoi(argv[4]), (crash_kind)atoi(argv[5]));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_join_the_chain_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_commits_without_a_settle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_commits_what_is_left, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_full_file_waits_for_the_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_crash_loses_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_committed_lines_are_not_appended_twice, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_changed_line_is_left_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_servers_take_a_slot_each, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
