/* test_conf.c — amparo.conf: spaces around keys and values, comments, blank and
 * malformed lines, the last line winning, and the settings readers that use it. */
#include "testutil.h"

#include "core/accounts.h"
#include "util/conf.h"

static void write_conf(const char *dir, const char *text)
{
    char path[300];
    snprintf(path, sizeof path, "%s/amparo.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

typedef struct {
    int n;
    int lines[16];
    char keys[16][64];
} seen;

static void collect(void *arg, int line, const char *key, const char *value)
{
    (void)value;
    seen *s = arg;
    if (s->n < 16) {
        s->lines[s->n] = line;
        snprintf(s->keys[s->n], sizeof s->keys[s->n], "%s", key);
        s->n++;
    }
}

static void test_parse(void **state)
{
    (void)state;
    char dir[256];
    tu_tmpdir(dir);
    char out[64];
    /* no file: nothing set, nothing malformed */
    seen s = {0};
    assert_int_equal(conf_each(dir, collect, &s), 0);
    assert_int_equal(s.n, 0);
    assert_false(conf_get(dir, "country", out, sizeof out));
    char big[1500];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char text[3000];
    snprintf(text, sizeof text,
             "# Amparo data directory settings\n"
             "country=EC\r\n"
             "\n"
             "   \t\n"
             "  pwhash =  moderate \t\n"
             "this line has no equals sign\n"
             "= no key\n"
             "read_audit=journal\n"
             "read_audit = durable\n"
             "empty=\n"
             "%s=too long\n"
             "last=one\n",
             big);
    write_conf(dir, text);
    memset(&s, 0, sizeof s);
    assert_int_equal(conf_each(dir, collect, &s), 3); /* no '=', no key, overlong */
    assert_int_equal(s.n, 6);
    assert_string_equal(s.keys[0], "country");
    assert_int_equal(s.lines[0], 2);
    assert_string_equal(s.keys[1], "pwhash");
    assert_int_equal(s.lines[1], 5);
    assert_string_equal(s.keys[5], "last");
    assert_int_equal(s.lines[5], 12); /* the overlong line counts as one */
    assert_true(conf_get(dir, "country", out, sizeof out));
    assert_string_equal(out, "EC");
    assert_true(conf_get(dir, "pwhash", out, sizeof out));
    assert_string_equal(out, "moderate");
    assert_true(conf_get(dir, "read_audit", out, sizeof out));
    assert_string_equal(out, "durable"); /* the last line wins */
    assert_true(conf_get(dir, "empty", out, sizeof out));
    assert_string_equal(out, "");
    assert_false(conf_get(dir, "no", out, sizeof out));
    char small[4];
    assert_true(conf_get(dir, "pwhash", small, sizeof small));
    assert_string_equal(small, "mod"); /* cut to fit */
    /* lines that just fill the reader's buffer are whole lines, with or without
     * their newline at the end of the file */
    static char edge[3000], value[1100];
    memset(value, 'v', 1021);
    value[1021] = '\0'; /* "k=" + 1,021 characters: 1,023 */
    snprintf(edge, sizeof edge, "k=%s\nlast=%s", value, value);
    write_conf(dir, edge);
    memset(&s, 0, sizeof s);
    assert_int_equal(conf_each(dir, collect, &s), 1); /* "last=" + 1,021 is too long */
    assert_int_equal(s.n, 1);
    snprintf(edge, sizeof edge, "k=%s\nk=%s", value, value);
    write_conf(dir, edge);
    char got[1100];
    memset(&s, 0, sizeof s);
    assert_int_equal(conf_each(dir, collect, &s), 0);
    assert_int_equal(s.n, 2);
    assert_true(conf_get(dir, "k", got, sizeof got));
    assert_int_equal(strlen(got), 1021);
    tu_rmdir(dir);
}

static void test_known_keys(void **state)
{
    (void)state;
    assert_true(conf_key_known("country"));
    assert_true(conf_key_known("mfa_required_roles"));
    assert_true(conf_key_known("read_audit_window_ms"));
    assert_true(conf_key_known("retention_closed_days"));
    assert_false(conf_key_known("mfa_requried_roles"));
    assert_false(conf_key_known(""));
}

/* The account settings read the same file the same way: a second factor
 * required with spaces around '=' is required. */
static void test_account_settings(void **state)
{
    (void)state;
    char dir[256], err[256] = "";
    tu_tmpdir(dir);
    write_conf(dir, "pwhash = min\n  mfa_required_roles = sysadmin, auditor\n"
                    "session_idle_minutes = 7\nlogin_max_failures\t=\t3\n");
    accounts_settings as;
    assert_int_equal(accounts_settings_load(&as, dir, err, sizeof err), 0);
    assert_int_equal(as.pwhash, PWHASH_MIN);
    assert_int_equal(as.session_idle_ms, 7 * 60000LL);
    assert_int_equal(as.max_failures_account, 3);
    assert_true(as.mfa_required_roles & ROLE_SYSADMIN);
    assert_true(as.mfa_required_roles & ROLE_AUDITOR);
    assert_false(as.mfa_required_roles & ROLE_CASEWORKER);
    write_conf(dir, "mfa_required_roles = sysadmin,wizard\n");
    assert_int_equal(accounts_settings_load(&as, dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 1"));
    assert_non_null(strstr(err, "wizard"));
    /* a value out of range or not a number stops, naming the line and the rule;
     * the first bad line is the one named */
    static const char *const bad[][2] = {
        {"# c\nsession_idle_minutes = 0\n",
         "line 2: session_idle_minutes must be a whole number from 1"},
        {"session_max_hours=12h\n", "session_max_hours must be a whole number"},
        {"login_max_failures=-3\n", "login_max_failures must be"},
        {"login_window_minutes=99999999999999999999\n", "login_window_minutes must be"},
        {"session_idle_seconds=\n", "session_idle_seconds must be"},
        {"pwhash=fast\npwhash=worse\n",
         "line 1: pwhash must be interactive, moderate or min, not 'fast'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_conf(dir, bad[i][0]);
        err[0] = '\0';
        assert_int_equal(accounts_settings_load(&as, dir, err, sizeof err), -1);
        if (!strstr(err, bad[i][1]))
            fail_msg("'%s' not in: %s", bad[i][1], err);
    }
    write_conf(dir, "pwhash=interactive\nlogin_max_failures_address=1000000\n");
    assert_int_equal(accounts_settings_load(&as, dir, err, sizeof err), 0);
    assert_int_equal(as.pwhash, PWHASH_INTERACTIVE);
    assert_int_equal(as.max_failures_addr, 1000000);
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_known_keys),
        cmocka_unit_test(test_account_settings),
    };
    return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
