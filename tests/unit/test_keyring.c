/* test_keyring.c — master keys (files, permissions, environment, legacy), data
 * key wrapping, rotation while another connection reads, retire, shredding. */
#include "testutil.h"

#include "core/casekey.h"
#include "core/keyring.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

static const char CASE_A[] = "0190a1b2-0000-7000-8000-00000000000a";
static const char CASE_B[] = "0190a1b2-0000-7000-8000-00000000000b";

static void clear_env(void)
{
    unsetenv("AMPARO_KEY_DIR");
    unsetenv("AMPARO_MASTER_KEY");
    unsetenv("AMPARO_MASTER_KEY_GEN");
    unsetenv("AMPARO_INDEX_KEY");
}

static int setup(void **state)
{
    (void)state;
    clear_env();
    return sodium_init() < 0 ? -1 : 0;
}

static keyring *open_ok(const char *dir)
{
    amp_err err = {0};
    keyring *kr = keyring_open(dir, &err);
    if (!kr)
        fail_msg("keyring_open(%s): %s", dir, err.message);
    return kr;
}

/* Opening must fail with a message containing `needle`. */
static void open_fails(const char *dir, const char *needle)
{
    amp_err err = {0};
    keyring *kr = keyring_open(dir, &err);
    assert_null(kr);
    if (!strstr(err.message, needle))
        fail_msg("expected '%s' in: %s", needle, err.message);
    amp_err_clear(&err);
}

static void path_in(char *out, size_t n, const char *dir, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void write_bytes(const char *path, const unsigned char *b, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b, n), (ssize_t)n);
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_init_creates_keys(void **state)
{
    (void)state;
    char dir[256], p[400];
    tu_tmpdir(dir);
    amp_err err = {0};
    assert_int_equal(keyring_init_dir(dir, &err), 0);
    path_in(p, sizeof p, dir, "keys");
    assert_int_equal(mode_of(p), 0700);
    path_in(p, sizeof p, dir, "keys/master-1.key");
    assert_int_equal(mode_of(p), 0600);
    path_in(p, sizeof p, dir, "keys/index.key");
    assert_int_equal(mode_of(p), 0600);
    /* running it again changes nothing */
    unsigned char before[32], after[32];
    FILE *f = fopen(p, "rb");
    assert_int_equal(fread(before, 1, 32, f), 32);
    fclose(f);
    assert_int_equal(keyring_init_dir(dir, &err), 0);
    f = fopen(p, "rb");
    assert_int_equal(fread(after, 1, 32, f), 32);
    fclose(f);
    assert_memory_equal(before, after, 32);
    keyring *kr = open_ok(dir);
    assert_int_equal(keyring_current_gen(kr), 1);
    int gens[4];
    assert_int_equal(keyring_gens(kr, gens, 4), 1);
    /* the index key is the file's, and a key separate from the master key */
    assert_memory_equal(keyring_index_key(kr), before, 32);
    unsigned char master[32];
    path_in(p, sizeof p, dir, "keys/master-1.key");
    f = fopen(p, "rb");
    assert_int_equal(fread(master, 1, 32, f), 32);
    fclose(f);
    assert_memory_not_equal(master, before, 32);
    keyring_free(kr);
    tu_rmdir(dir);
}

static void test_wrap_unwrap(void **state)
{
    (void)state;
    char dir[256];
    tu_tmpdir(dir);
    amp_err err = {0};
    assert_int_equal(keyring_init_dir(dir, &err), 0);
    keyring *kr = open_ok(dir);
    unsigned char dek[32], back[32], w[KEYRING_WRAPPED_BYTES], w2[KEYRING_WRAPPED_BYTES];
    randombytes_buf(dek, sizeof dek);
    int gen = 0;
    assert_int_equal(keyring_wrap(kr, CASE_A, dek, w, &gen, &err), 0);
    assert_int_equal(gen, 1);
    assert_int_equal(keyring_unwrap(kr, 1, CASE_A, w, sizeof w, back, &err), 0);
    assert_memory_equal(dek, back, 32);
    /* random nonce: two wraps of the same key differ */
    assert_int_equal(keyring_wrap(kr, CASE_A, dek, w2, &gen, &err), 0);
    assert_memory_not_equal(w, w2, sizeof w);
    /* the wrapped form does not contain the key */
    assert_null(memmem(w, sizeof w, dek, 8));

    /* another case's AD */
    assert_int_equal(keyring_unwrap(kr, 1, CASE_B, w, sizeof w, back, &err), -1);
    assert_non_null(strstr(err.message, "does not authenticate"));
    unsigned char zero[32] = {0};
    assert_memory_equal(back, zero, 32); /* never a wrong key returned */
    /* another generation number in the AD (and not loaded) */
    assert_int_equal(keyring_unwrap(kr, 2, CASE_A, w, sizeof w, back, &err), -1);
    assert_non_null(strstr(err.message, "generation 2 is not available"));
    /* each byte tampered: nonce, ciphertext, tag */
    for (size_t i = 0; i < sizeof w; i += 7) {
        unsigned char t[KEYRING_WRAPPED_BYTES];
        memcpy(t, w, sizeof t);
        t[i] ^= 0x01;
        assert_int_equal(keyring_unwrap(kr, 1, CASE_A, t, sizeof t, back, &err), -1);
    }
    /* wrong length */
    assert_int_equal(keyring_unwrap(kr, 1, CASE_A, w, sizeof w - 1, back, &err), -1);
    assert_non_null(strstr(err.message, "wrong length"));
    assert_int_equal(keyring_unwrap(kr, 0, CASE_A, w, sizeof w, back, &err), -1);

    /* another installation's master key */
    char dir2[256];
    tu_tmpdir(dir2);
    assert_int_equal(keyring_init_dir(dir2, &err), 0);
    keyring *other = open_ok(dir2);
    assert_int_equal(keyring_unwrap(other, 1, CASE_A, w, sizeof w, back, &err), -1);
    assert_non_null(strstr(err.message, "does not authenticate"));
    keyring_free(other);
    keyring_free(kr);
    amp_err_clear(&err);
    tu_rmdir(dir);
    tu_rmdir(dir2);
}

static void test_permissions(void **state)
{
    (void)state;
    char dir[256], p[400], k[400];
    tu_tmpdir(dir);
    amp_err err = {0};
    assert_int_equal(keyring_init_dir(dir, &err), 0);
    path_in(p, sizeof p, dir, "keys/master-1.key");
    assert_int_equal(chmod(p, 0640), 0);
    open_fails(dir, "accessible by group or others (mode 0640)");
    assert_int_equal(chmod(p, 0604), 0);
    open_fails(dir, "chmod 600");
    assert_int_equal(chmod(p, 0600), 0);
    path_in(k, sizeof k, dir, "keys/index.key");
    assert_int_equal(chmod(k, 0644), 0);
    open_fails(dir, "index.key");
    assert_int_equal(chmod(k, 0600), 0);
    path_in(p, sizeof p, dir, "keys");
    assert_int_equal(chmod(p, 0777), 0);
    open_fails(dir, "writable by group or others");
    assert_int_equal(chmod(p, 0700), 0);
    /* wrong size */
    path_in(p, sizeof p, dir, "keys/master-2.key");
    unsigned char b[31] = {1};
    write_bytes(p, b, sizeof b, 0600);
    open_fails(dir, "has 31 bytes");
    unlink(p);
    /* no key at all */
    path_in(p, sizeof p, dir, "keys/master-1.key");
    unlink(p);
    open_fails(dir, "no master key");
    tu_rmdir(dir);
}

static void test_legacy_and_env(void **state)
{
    (void)state;
    char dir[256], p[400];
    tu_tmpdir(dir);
    amp_err err = {0};
    unsigned char key[32], dek[32], back[32], w[KEYRING_WRAPPED_BYTES];
    randombytes_buf(key, sizeof key);
    randombytes_buf(dek, sizeof dek);
    /* a data directory from before issue 3: master.key at the top */
    path_in(p, sizeof p, dir, "master.key");
    write_bytes(p, key, 32, 0600);
    assert_int_equal(keyring_init_dir(dir, &err), 0); /* adds index.key only */
    path_in(p, sizeof p, dir, "keys/master-1.key");
    assert_int_not_equal(access(p, F_OK), 0);
    keyring *kr = open_ok(dir);
    assert_int_equal(keyring_current_gen(kr), 1);
    int gen;
    assert_int_equal(keyring_wrap(kr, CASE_A, dek, w, &gen, &err), 0);
    keyring_free(kr);

    /* the same key as AMPARO_MASTER_KEY, no files at all */
    char hex[65], empty[256];
    sodium_bin2hex(hex, sizeof hex, key, 32);
    tu_tmpdir(empty);
    setenv("AMPARO_MASTER_KEY", hex, 1);
    kr = open_ok(empty);
    assert_int_equal(keyring_unwrap(kr, 1, CASE_A, w, sizeof w, back, &err), 0);
    assert_memory_equal(dek, back, 32);
    keyring_free(kr);
    /* the environment and a file disagreeing on generation 1 */
    assert_int_equal(keyring_init_dir(empty, &err), 0); /* env set: no master-1.key */
    path_in(p, sizeof p, empty, "keys/master-1.key");
    assert_int_not_equal(access(p, F_OK), 0);
    unsigned char other[32];
    randombytes_buf(other, 32);
    write_bytes(p, other, 32, 0600);
    open_fails(empty, "two different keys claim generation 1");
    setenv("AMPARO_MASTER_KEY", "abcd", 1);
    open_fails(empty, "AMPARO_MASTER_KEY must be 64 hexadecimal digits");
    setenv("AMPARO_MASTER_KEY", hex, 1);
    setenv("AMPARO_MASTER_KEY_GEN", "7", 1);
    kr = open_ok(empty); /* env gen 7 + file gen 1 */
    assert_int_equal(keyring_current_gen(kr), 7);
    int gens[8];
    assert_int_equal(keyring_gens(kr, gens, 8), 2);
    assert_int_equal(keyring_remove_generation(kr, 7, &err), -1);
    keyring_free(kr);
    clear_env();
    /* AMPARO_KEY_DIR: a mounted secret elsewhere */
    setenv("AMPARO_KEY_DIR", dir, 1); /* holds no master-N, but dir/master.key is legacy */
    char data[256];
    tu_tmpdir(data);
    open_fails(data, "no master key");
    clear_env();
    tu_rmdir(data);
    tu_rmdir(dir);
    tu_rmdir(empty);
}

/* ---- data keys in the store, rotation, retire ----------------------------------- */

typedef struct {
    keyring *kr;
    const char *prefix;
    int n;
    amp_err err;
} make_keys;

static void uid_of(char out[40], const char *prefix, int i)
{
    snprintf(out, 40, "%s-%012d", prefix, i);
}

static int make_keys_job(store_tx *tx, void *arg)
{
    make_keys *m = arg;
    unsigned char dek[32];
    char uid[40];
    for (int i = 0; i < m->n; i++) {
        uid_of(uid, m->prefix, i);
        if (casekey_create(tx, m->kr, uid, "2026-06-15T00:00:00Z", dek, &m->err) != AMP_OK)
            return 50;
    }
    return STORE_OK;
}

typedef struct {
    store *s;
    keyring *kr;
    const char *prefix;
    int n;
    atomic_int stop;
    long reads, failures;
    char last_error[256];
} reader_arg;

static void *reader_main(void *p)
{
    reader_arg *r = p;
    char uid[40];
    unsigned char dek[32];
    unsigned i = 0;
    while (!atomic_load(&r->stop)) {
        uid_of(uid, r->prefix, (int)(i++ % (unsigned)r->n));
        amp_err err = {0};
        if (casekey_load(r->s, r->kr, uid, dek, &err) != AMP_OK) {
            r->failures++;
            snprintf(r->last_error, sizeof r->last_error, "%s", err.message);
        }
        amp_err_clear(&err);
        r->reads++;
    }
    return NULL;
}

static long long count_of(store *s, const char *gen)
{
    json_t *c = NULL;
    assert_int_equal(store_key_counts(s, &c), STORE_OK);
    long long n = json_integer_value(json_object_get(c, gen));
    json_decref(c);
    return n;
}

static void progress(void *arg, long long done)
{
    long long *calls = arg;
    (*calls)++;
    (void)done;
}

static void test_rotation_while_reading(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    amp_err err = {0};
    assert_int_equal(keyring_init_dir(e->dir, &err), 0);
    keyring *kr = open_ok(e->dir);
    make_keys m = {.kr = kr, .prefix = "case", .n = 2500};
    assert_int_equal(store_run(e->store, make_keys_job, &m), STORE_OK);
    assert_int_equal(count_of(e->store, "1"), 2500);
    /* a copy of one wrapped key as an old backup would hold it */
    int old_gen = 0;
    unsigned char backup[STORE_WRAPPED_MAX], dek_before[32], dek_after[32];
    size_t blen = sizeof backup;
    assert_int_equal(store_key_get(e->store, "case-000000000042", &old_gen, backup, &blen),
                     STORE_OK);
    assert_int_equal(casekey_load(e->store, kr, "case-000000000042", dek_before, &err), AMP_OK);

    /* "the server": its own store (connections) and keyring on the same files */
    char path[300], serr[256];
    snprintf(path, sizeof path, "%s/amparo.db", e->dir);
    store *server = store_sqlite_open(path, serr, sizeof serr);
    assert_non_null(server);
    keyring *skr = open_ok(e->dir);
    reader_arg r = {.s = server, .kr = skr, .prefix = "case", .n = 2500};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, reader_main, &r), 0);

    int gen = 0;
    assert_int_equal(keyring_add_generation(kr, &gen, &err), 0);
    assert_int_equal(gen, 2);
    long long done = 0, calls = 0;
    assert_int_equal(casekey_rewrap_all(e->store, kr, 2, 1000, 0, progress, &calls, &done, &err),
                     AMP_OK);
    assert_int_equal(done, 2500);
    assert_int_equal(calls, 3); /* 1000 + 1000 + 500 */
    atomic_store(&r.stop, 1);
    pthread_join(th, NULL);
    if (r.failures)
        fail_msg("%ld of %ld reads failed during rotation: %s", r.failures, r.reads, r.last_error);
    assert_true(r.reads > 0);
    assert_int_equal(count_of(e->store, "1"), 0);
    assert_int_equal(count_of(e->store, "2"), 2500);
    /* the same data key, re-wrapped */
    assert_int_equal(casekey_load(server, skr, "case-000000000042", dek_after, &err), AMP_OK);
    assert_memory_equal(dek_before, dek_after, 32);
    /* the server wraps new keys under generation 2 once it noticed (<= 1 s) */
    struct timespec ts = {1, 100000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(keyring_current_gen(skr), 2);

    /* until retire, the backup's old key still opens */
    unsigned char back[32];
    assert_int_equal(keyring_unwrap(skr, 1, "case-000000000042", backup, blen, back, &err), 0);
    /* retire generation 1 (no key uses it any more) */
    assert_int_equal(keyring_remove_generation(kr, 2, &err), -1); /* current */
    assert_int_equal(keyring_remove_generation(kr, 1, &err), 0);
    char p[400];
    path_in(p, sizeof p, e->dir, "keys/master-1.key");
    assert_int_not_equal(access(p, F_OK), 0);
    /* a fresh process cannot open the backup's key any more, cleanly */
    keyring *fresh = open_ok(e->dir);
    assert_int_equal(keyring_unwrap(fresh, 1, "case-000000000042", backup, blen, back, &err), -1);
    assert_non_null(strstr(err.message, "generation 1 is not available"));
    /* and the running server forgets it within a second of its next unwrap */
    nanosleep(&ts, NULL);
    assert_int_equal(casekey_load(server, skr, "case-000000000042", dek_after, &err), AMP_OK);
    assert_int_equal(keyring_unwrap(skr, 1, "case-000000000042", backup, blen, back, &err), -1);
    /* the live keys still open */
    assert_int_equal(casekey_load(e->store, fresh, "case-000000000042", dek_after, &err), AMP_OK);
    assert_memory_equal(dek_before, dek_after, 32);
    amp_err_clear(&err);
    keyring_free(fresh);
    keyring_free(skr);
    store_close(server);
    keyring_free(kr);
    tu_env_free(e);
}

/* A rotation finds keys another process wrapped under the old generation after
 * its first pass, before noticing the new generation (the settle pass). */
typedef struct {
    store *s;
    keyring *stale;
    amp_err err;
    int rc;
} late_arg;

static int late_writer_job(store_tx *tx, void *arg)
{
    late_arg *l = arg;
    unsigned char dek[32];
    return casekey_create(tx, l->stale, "late-case", "2026-06-15T00:00:00Z", dek, &l->err) == AMP_OK
               ? STORE_OK
               : 50;
}

static void *late_writer(void *p)
{
    late_arg *l = p;
    struct timespec ts = {0, 300000000L};
    nanosleep(&ts, NULL);
    l->rc = store_run(l->s, late_writer_job, l);
    return NULL;
}

static void test_settle_pass(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    amp_err err = {0};
    assert_int_equal(keyring_init_dir(e->dir, &err), 0);
    keyring *kr = open_ok(e->dir), *stale = open_ok(e->dir);
    make_keys m = {.kr = kr, .prefix = "c", .n = 10};
    assert_int_equal(store_run(e->store, make_keys_job, &m), STORE_OK);
    int gen;
    assert_int_equal(keyring_add_generation(kr, &gen, &err), 0);
    /* `stale` has not looked at the directory since: it still wraps under 1 */
    late_arg l = {.s = e->store, .stale = stale};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, late_writer, &l), 0);
    long long done = 0;
    assert_int_equal(casekey_rewrap_all(e->store, kr, gen, 4, 900, NULL, NULL, &done, &err),
                     AMP_OK);
    pthread_join(th, NULL);
    assert_int_equal(l.rc, STORE_OK);
    assert_int_equal(done, 11);
    assert_int_equal(count_of(e->store, "1"), 0);
    assert_int_equal(count_of(e->store, "2"), 11);
    keyring_free(stale);
    keyring_free(kr);
    tu_env_free(e);
}

/* A corrupt wrapped key stops the rotation with its case named. */
static int corrupt_job(store_tx *tx, void *arg)
{
    unsigned char junk[KEYRING_WRAPPED_BYTES];
    randombytes_buf(junk, sizeof junk);
    (void)arg;
    return store_tx_key_put(tx, "corrupt-case", 1, junk, sizeof junk, "2026-06-15T00:00:00Z");
}

static void test_rotation_reports_corrupt_key(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    amp_err err = {0};
    assert_int_equal(keyring_init_dir(e->dir, &err), 0);
    keyring *kr = open_ok(e->dir);
    assert_int_equal(store_run(e->store, corrupt_job, NULL), STORE_OK);
    int gen;
    assert_int_equal(keyring_add_generation(kr, &gen, &err), 0);
    long long done = 0;
    assert_int_equal(casekey_rewrap_all(e->store, kr, gen, 10, 0, NULL, NULL, &done, &err),
                     AMP_EINTERNAL);
    assert_non_null(strstr(err.message, "corrupt-case"));
    unsigned char dek[32];
    assert_int_equal(casekey_load(e->store, kr, "corrupt-case", dek, &err), AMP_EINTERNAL);
    assert_int_equal(casekey_load(e->store, kr, "no-such-case", dek, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    keyring_free(kr);
    tu_env_free(e);
}

/* ---- shredding ---------------------------------------------------------------- */

static bool file_has(const char *path, const void *needle, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(len > 0 ? (size_t)len : 1);
    size_t got = fread(b, 1, (size_t)(len > 0 ? len : 0), f);
    fclose(f);
    bool found = memmem(b, got, needle, n) != NULL;
    free(b);
    return found;
}

typedef struct {
    const char *uid;
    amp_err err;
} shred_arg;

/* The cache of unwrapped data keys: the same bytes give the same key without
 * another opening; other bytes, another case, a retired generation or an
 * erasure never get a cached key. */
static void test_dek_cache(void **state)
{
    (void)state;
    char dir[256];
    tu_tmpdir(dir);
    amp_err err = {0};
    assert_int_equal(keyring_init_dir(dir, &err), 0);
    keyring *kr = open_ok(dir);
    unsigned char dek[32], back[32], w[KEYRING_WRAPPED_BYTES], zero[32] = {0};
    randombytes_buf(dek, sizeof dek);
    int gen = 0;
    assert_int_equal(keyring_wrap(kr, CASE_A, dek, w, &gen, &err), 0);
    keyring_cache_stats st;
    keyring_cache_stats_get(kr, &st);
    assert_int_equal(st.hits, 0);
    assert_int_equal(st.held, 0);
    assert_int_equal(keyring_unwrap(kr, 1, CASE_A, w, sizeof w, back, &err), 0);
    assert_int_equal(keyring_unwrap(kr, 1, CASE_A, w, sizeof w, back, &err), 0);
    assert_memory_equal(dek, back, 32);
    keyring_cache_stats_get(kr, &st);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.held, 1);
    /* cached, yet another case's AD or a changed byte still fails */
    assert_int_equal(keyring_unwrap(kr, 1, CASE_B, w, sizeof w, back, &err), -1);
    assert_memory_equal(back, zero, 32);
    for (size_t i = 0; i < sizeof w; i += 5) {
        unsigned char t[KEYRING_WRAPPED_BYTES];
        memcpy(t, w, sizeof t);
        t[i] ^= 0x20;
        assert_int_equal(keyring_unwrap(kr, 1, CASE_A, t, sizeof t, back, &err), -1);
        assert_memory_equal(back, zero, 32);
    }
    /* erasure: forgotten, the next read opens the wrapped key again */
    keyring_forget(kr, CASE_B);
    keyring_cache_stats_get(kr, &st);
    assert_int_equal(st.held, 1);
    keyring_forget(kr, CASE_A);
    keyring_cache_stats_get(kr, &st);
    assert_int_equal(st.held, 0);
    long long misses = st.misses;
    assert_int_equal(keyring_unwrap(kr, 1, CASE_A, w, sizeof w, back, &err), 0);
    keyring_cache_stats_get(kr, &st);
    assert_int_equal(st.misses, misses + 1);

    /* retirement: a key cached under generation 1 is refused once 1 is gone */
    int g2 = 0;
    assert_int_equal(keyring_add_generation(kr, &g2, &err), 0);
    assert_int_equal(g2, 2);
    keyring_cache_stats_get(kr, &st);
    assert_int_equal(st.held, 0); /* a changed set of keys wipes the cache */
    assert_int_equal(keyring_unwrap(kr, 1, CASE_A, w, sizeof w, back, &err), 0);
    keyring_cache_stats_get(kr, &st);
    assert_int_equal(st.held, 1);
    assert_int_equal(keyring_remove_generation(kr, 1, &err), 0);
    assert_int_equal(keyring_unwrap(kr, 1, CASE_A, w, sizeof w, back, &err), -1);
    assert_non_null(strstr(err.message, "generation 1 is not available"));
    assert_memory_equal(back, zero, 32);
    keyring_free(kr);
    amp_err_clear(&err);
    tu_rmdir(dir);
}

static int shred_job(store_tx *tx, void *arg)
{
    shred_arg *a = arg;
    return case_key_shred(tx, a->uid, &a->err) == AMP_OK ? STORE_OK : 50;
}

static void test_shred(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    amp_err err = {0};
    assert_int_equal(keyring_init_dir(e->dir, &err), 0);
    keyring *kr = open_ok(e->dir);
    make_keys m = {.kr = kr, .prefix = "shred", .n = 50};
    assert_int_equal(store_run(e->store, make_keys_job, &m), STORE_OK);
    int gen;
    unsigned char w[STORE_WRAPPED_MAX];
    size_t len = sizeof w;
    assert_int_equal(store_key_get(e->store, "shred-000000000007", &gen, w, &len), STORE_OK);
    char db[300], wal[310];
    snprintf(db, sizeof db, "%s/amparo.db", e->dir);
    snprintf(wal, sizeof wal, "%s-wal", db);
    assert_int_equal(store_checkpoint(e->store), STORE_OK);
    /* control: the wrapped bytes are in the file before the shred */
    assert_true(file_has(db, w, len));

    shred_arg a = {.uid = "shred-000000000007"};
    assert_int_equal(store_run(e->store, shred_job, &a), STORE_OK);
    /* erasing twice is not an error */
    assert_int_equal(store_run(e->store, shred_job, &a), STORE_OK);
    unsigned char dek[32];
    assert_int_equal(casekey_load(e->store, kr, "shred-000000000007", dek, &err), AMP_ENOTFOUND);
    assert_int_equal(store_checkpoint(e->store), STORE_OK);
    assert_false(file_has(db, w, len));
    assert_false(file_has(wal, w, len));
    /* the neighbours are intact */
    assert_int_equal(casekey_load(e->store, kr, "shred-000000000008", dek, &err), AMP_OK);
    assert_int_equal(count_of(e->store, "1"), 49);
    keyring_free(kr);
    tu_env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_creates_keys),
        cmocka_unit_test(test_wrap_unwrap),
        cmocka_unit_test(test_permissions),
        cmocka_unit_test(test_legacy_and_env),
        cmocka_unit_test(test_rotation_while_reading),
        cmocka_unit_test(test_settle_pass),
        cmocka_unit_test(test_rotation_reports_corrupt_key),
        cmocka_unit_test(test_shred),
        cmocka_unit_test(test_dek_cache),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
