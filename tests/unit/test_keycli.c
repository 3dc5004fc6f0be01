/* test_keycli.c — `amparo key status|rotate|retire` on a real data directory:
 * exit codes, files written and deleted, case keys re-wrapped, refusals. */
#include "testutil.h"

#include "cli/cli.h"
#include "core/casekey.h"
#include "core/keyring.h"

#include <sys/stat.h>

/* Runs `amparo key ARGS...` (NULL-terminated) and returns its exit code. */
static int run_key(const char *first, ...)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)"key";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 15; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    return cmd_key(argc, argv);
}

typedef struct {
    keyring *kr;
    int n;
    const char *prefix;
    int gen; /* > 0: put junk wrapped under this generation instead */
    amp_err err;
} keys_arg;

static int keys_job(store_tx *tx, void *arg)
{
    keys_arg *k = arg;
    unsigned char dek[32];
    char uid[40];
    for (int i = 0; i < k->n; i++) {
        snprintf(uid, sizeof uid, "%s-%04d", k->prefix, i);
        if (k->gen > 0) {
            unsigned char junk[KEYRING_WRAPPED_BYTES];
            randombytes_buf(junk, sizeof junk);
            if (store_tx_key_put(tx, uid, k->gen, junk, sizeof junk, "2026-06-15T00:00:00Z") !=
                STORE_OK)
                return 50;
        } else if (casekey_create(tx, k->kr, uid, "2026-06-15T00:00:00Z", dek, &k->err) != AMP_OK) {
            return 50;
        }
    }
    return STORE_OK;
}

static long long gen_count(store *s, const char *gen)
{
    json_t *c = NULL;
    assert_int_equal(store_key_counts(s, &c), STORE_OK);
    long long n = json_integer_value(json_object_get(c, gen));
    json_decref(c);
    return n;
}

static bool exists(const char *dir, const char *name)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static void test_key_commands(void **state)
{
    (void)state;
    unsetenv("AMPARO_KEY_DIR");
    unsetenv("AMPARO_MASTER_KEY");
    tu_env *e = tu_env_new();
    amp_err err = {0};
    assert_int_equal(keyring_init_dir(e->dir, &err), 0);
    keyring *kr = keyring_open(e->dir, &err);
    assert_non_null(kr);
    keys_arg k = {.kr = kr, .n = 30, .prefix = "keycase"};
    assert_int_equal(store_run(e->store, keys_job, &k), STORE_OK);
    keyring_free(kr);
    const char *d = e->dir;

    /* usage */
    assert_int_equal(run_key(NULL), EXIT_USAGE);
    assert_int_equal(run_key("bogus", NULL), EXIT_USAGE);
    assert_int_equal(run_key("--help", NULL), EXIT_OK);
    assert_int_equal(run_key("status", "--help", NULL), EXIT_OK);
    assert_int_equal(run_key("rotate", "--help", NULL), EXIT_OK);
    assert_int_equal(run_key("retire", "--help", NULL), EXIT_OK);
    assert_int_equal(run_key("status", "--data", d, "extra", NULL), EXIT_USAGE);
    assert_int_equal(run_key("rotate", "--data", d, "--batch", "0", NULL), EXIT_USAGE);
    assert_int_equal(run_key("rotate", "--data", d, "--batch", "x", NULL), EXIT_USAGE);
    assert_int_equal(run_key("retire", "--data", d, "--no-new-key", NULL), EXIT_USAGE);
    assert_int_equal(run_key("status", "--data", "/nonexistent/amparo", NULL), EXIT_FAIL);

    /* status, then nothing to retire with one generation */
    assert_int_equal(run_key("status", "--data", d, NULL), EXIT_OK);
    assert_int_equal(run_key("retire", "--data", d, NULL), EXIT_OK);
    assert_true(exists(d, "keys/master-1.key"));

    /* rotate: a new generation, every key re-wrapped (batches of 7) */
    assert_int_equal(run_key("rotate", "--data", d, "--batch", "7", NULL), EXIT_OK);
    assert_true(exists(d, "keys/master-2.key"));
    char p[400];
    snprintf(p, sizeof p, "%s/keys/master-2.key", d);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(gen_count(e->store, "1"), 0);
    assert_int_equal(gen_count(e->store, "2"), 30);
    /* retire: generation 1 goes */
    assert_int_equal(run_key("retire", "--data", d, NULL), EXIT_OK);
    assert_false(exists(d, "keys/master-1.key"));
    assert_true(exists(d, "keys/master-2.key"));
    kr = keyring_open(d, &err);
    assert_non_null(kr);
    unsigned char dek[32];
    assert_int_equal(casekey_load(e->store, kr, "keycase-0003", dek, &err), AMP_OK);
    keyring_free(kr);

    /* a corrupt key stops a rotation (exit 1) and retire refuses generation 2 */
    keys_arg bad = {.n = 1, .prefix = "broken", .gen = 2};
    assert_int_equal(store_run(e->store, keys_job, &bad), STORE_OK);
    assert_int_equal(run_key("rotate", "--data", d, NULL), EXIT_FAIL);
    assert_true(exists(d, "keys/master-3.key"));
    assert_int_equal(run_key("retire", "--data", d, NULL), EXIT_FAIL);
    assert_true(exists(d, "keys/master-2.key"));
    /* a key of a generation with no master key: status says MISSING, exit 1 */
    keys_arg orphan = {.n = 1, .prefix = "orphan", .gen = 9};
    assert_int_equal(store_run(e->store, keys_job, &orphan), STORE_OK);
    assert_int_equal(run_key("status", "--data", d, NULL), EXIT_FAIL);
    amp_err_clear(&err);
    tu_env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
