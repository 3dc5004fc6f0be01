/* keyring.c — master keys outside the database (files, environment) and the
 * blind-index key.  See keyring.h. */
#include "core/keyring.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int gen;
    unsigned char *key; /* sodium_malloc'd, KEYRING_KEY_BYTES */
    bool from_env;
    char file[PATH_MAX + 32]; /* the file it was read from, or "" */
} master_key;

struct keyring {
    char data_dir[PATH_MAX];
    char dir[PATH_MAX];
    pthread_rwlock_t lock; /* readers: wrap/unwrap; writer: rescans */
    master_key keys[KEYRING_MAX_GENS];
    int nkeys;
    unsigned char *index_key;
    _Atomic int64_t last_check_ms; /* CLOCK_MONOTONIC: the last look at the key files */
    struct dek_cache *cache;       /* data keys unwrapped lately; NULL when it could not be made */
};

static const char AD_PREFIX[] = "amparo-dek";

/* ==== the cache of unwrapped data keys (keyring.h) ============================== */

#define DEK_CACHE_SLOTS 8192
#define DEK_CACHE_TTL_MS 60000
#define DEK_UID_MAX 48

typedef struct {
    int gen;          /* 0: empty */
    int64_t until_ms; /* CLOCK_MONOTONIC ms after which the slot is not used */
    unsigned char wrapped[KEYRING_WRAPPED_BYTES];
    char uid[DEK_UID_MAX];
    unsigned char dek[KEYRING_KEY_BYTES];
} dek_slot;

/* One sodium_malloc'd block (guarded, mlock'd, wiped by sodium_free); the
 * slot of a wrapped key is chosen by its random nonce. */
struct dek_cache {
    pthread_mutex_t mu;
    keyring_cache_stats stats;
    dek_slot slot[DEK_CACHE_SLOTS];
};

static int64_t monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static struct dek_cache *cache_new(void)
{
    struct dek_cache *c = sodium_malloc(sizeof *c);
    if (!c)
        return NULL;
    sodium_memzero(c, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

static void cache_free(struct dek_cache *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    sodium_free(c); /* wipes every slot */
}

static dek_slot *slot_of(struct dek_cache *c, const unsigned char *wrapped)
{
    uint64_t h;
    memcpy(&h, wrapped, sizeof h); /* the first bytes of the random nonce */
    return &c->slot[h % DEK_CACHE_SLOTS];
}

/* True, with dek filled, when the very same wrapped key of the same case under
 * the same generation was unwrapped less than DEK_CACHE_TTL_MS ago. */
static bool cache_get(struct dek_cache *c, int gen, const char *case_uid,
                      const unsigned char *wrapped, unsigned char *dek)
{
    if (!c)
        return false;
    int64_t now = monotonic_ms();
    pthread_mutex_lock(&c->mu);
    dek_slot *sl = slot_of(c, wrapped);
    bool hit = sl->gen == gen && now < sl->until_ms &&
               memcmp(sl->wrapped, wrapped, KEYRING_WRAPPED_BYTES) == 0 &&
               strcmp(sl->uid, case_uid) == 0;
    if (hit)
        memcpy(dek, sl->dek, KEYRING_KEY_BYTES);
    else if (sl->gen && now >= sl->until_ms)
        sodium_memzero(sl, sizeof *sl); /* expired: gone from memory now */
    hit ? c->stats.hits++ : c->stats.misses++;
    pthread_mutex_unlock(&c->mu);
    return hit;
}

static void cache_put(struct dek_cache *c, int gen, const char *case_uid,
                      const unsigned char *wrapped, const unsigned char *dek)
{
    size_t ul = strlen(case_uid);
    if (!c || ul >= DEK_UID_MAX)
        return;
    pthread_mutex_lock(&c->mu);
    dek_slot *sl = slot_of(c, wrapped);
    sl->gen = gen;
    sl->until_ms = monotonic_ms() + DEK_CACHE_TTL_MS;
    memcpy(sl->wrapped, wrapped, KEYRING_WRAPPED_BYTES);
    memcpy(sl->uid, case_uid, ul + 1);
    memcpy(sl->dek, dek, KEYRING_KEY_BYTES);
    pthread_mutex_unlock(&c->mu);
}

/* Wipes the slots of one case (case_uid) or of every case (NULL). */
static void cache_wipe(struct dek_cache *c, const char *case_uid)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < DEK_CACHE_SLOTS; i++) {
        dek_slot *sl = &c->slot[i];
        if (sl->gen && (!case_uid || strcmp(sl->uid, case_uid) == 0))
            sodium_memzero(sl, sizeof *sl);
    }
    pthread_mutex_unlock(&c->mu);
}

void keyring_forget(keyring *kr, const char *case_uid)
{
    if (kr && case_uid)
        cache_wipe(kr->cache, case_uid);
}

void keyring_cache_stats_get(keyring *kr, keyring_cache_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!kr->cache)
        return;
    pthread_mutex_lock(&kr->cache->mu);
    *out = kr->cache->stats;
    size_t used = 0;
    for (size_t i = 0; i < DEK_CACHE_SLOTS; i++)
        used += kr->cache->slot[i].gen != 0;
    out->held = (long long)used;
    pthread_mutex_unlock(&kr->cache->mu);
}

/* ==== loading ============================================================== */

static unsigned char *secure_key(void)
{
    unsigned char *k = sodium_malloc(KEYRING_KEY_BYTES);
    return k; /* sodium_malloc locks the pages (mlock) and guards them */
}

/* Reads a 32-byte key file, refusing group/other permissions. */
static int read_key_file(const char *path, unsigned char *key, amp_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        amp_err_set(err, AMP_EINTERNAL, "cannot open key file '%s': %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        amp_err_set(err, AMP_EINTERNAL, "key file '%s' is not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & 077) {
        amp_err_set(err, AMP_EINTERNAL,
                    "key file '%s' is accessible by group or others (mode %04o); "
                    "run: chmod 600 '%s'",
                    path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return -1;
    }
    if (st.st_size != KEYRING_KEY_BYTES) {
        amp_err_set(err, AMP_EINTERNAL, "key file '%s' has %lld bytes; a key has %d", path,
                    (long long)st.st_size, KEYRING_KEY_BYTES);
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < KEYRING_KEY_BYTES) {
        ssize_t n = read(fd, key + got, KEYRING_KEY_BYTES - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != KEYRING_KEY_BYTES) {
        sodium_memzero(key, KEYRING_KEY_BYTES);
        amp_err_set(err, AMP_EINTERNAL, "cannot read key file '%s'", path);
        return -1;
    }
    return 0;
}

/* Parses 64 hex digits from an environment variable into key. */
static int hex_key(const char *var, const char *hex, unsigned char *key, amp_err *err)
{
    size_t bin_len = 0;
    const char *end = NULL;
    if (strlen(hex) != 2 * KEYRING_KEY_BYTES ||
        sodium_hex2bin(key, KEYRING_KEY_BYTES, hex, strlen(hex), NULL, &bin_len, &end) != 0 ||
        bin_len != KEYRING_KEY_BYTES || (end && *end)) {
        sodium_memzero(key, KEYRING_KEY_BYTES);
        amp_err_set(err, AMP_EINTERNAL, "%s must be %d hexadecimal digits", var,
                    2 * KEYRING_KEY_BYTES);
        return -1;
    }
    return 0;
}

/* "master-12.key" -> 12; 0 for any other name. */
static int gen_of_name(const char *name)
{
    if (strncmp(name, "master-", 7) != 0)
        return 0;
    const char *p = name + 7;
    if (*p < '1' || *p > '9')
        return 0;
    long g = 0;
    while (*p >= '0' && *p <= '9' && g < 1000000)
        g = g * 10 + (*p++ - '0');
    return strcmp(p, ".key") == 0 && g <= 1000000 ? (int)g : 0;
}

static master_key *find_key(keyring *kr, int gen)
{
    for (int i = 0; i < kr->nkeys; i++) {
        if (kr->keys[i].gen == gen)
            return &kr->keys[i];
    }
    return NULL;
}

static void sort_keys(keyring *kr)
{
    for (int i = 1; i < kr->nkeys; i++) {
        for (int j = i; j > 0 && kr->keys[j - 1].gen > kr->keys[j].gen; j--) {
            master_key t = kr->keys[j - 1];
            kr->keys[j - 1] = kr->keys[j];
            kr->keys[j] = t;
        }
    }
}

/* Adds (or checks against an already loaded) key of generation gen. */
static int add_key(keyring *kr, int gen, const unsigned char *key, bool from_env, const char *what,
                   amp_err *err)

{
    master_key *have = find_key(kr, gen);
    if (have) {
        if (sodium_memcmp(have->key, key, KEYRING_KEY_BYTES) != 0) {
            amp_err_set(err, AMP_EINTERNAL,
                        "two different keys claim generation %d (%s and an earlier source); "
                        "remove one",
                        gen, what);
            return -1;
        }
        return 0;
    }
    if (kr->nkeys == KEYRING_MAX_GENS) {
        amp_err_set(err, AMP_EINTERNAL, "more than %d key generations; retire old ones",
                    KEYRING_MAX_GENS);
        return -1;
    }
    unsigned char *k = secure_key();
    if (!k) {
        amp_err_set(err, AMP_EINTERNAL, "cannot allocate locked memory for a key");
        return -1;
    }
    memcpy(k, key, KEYRING_KEY_BYTES);
    master_key *mk = &kr->keys[kr->nkeys++];
    memset(mk, 0, sizeof *mk);
    mk->gen = gen;
    mk->key = k;
    mk->from_env = from_env;
    if (!from_env)
        snprintf(mk->file, sizeof mk->file, "%s", what);
    return 0;
}

/* Loads every source into kr (which holds no file keys yet).  Caller holds the
 * write lock or owns kr alone. */
static int load_sources(keyring *kr, amp_err *err)
{
    unsigned char *tmp = secure_key();
    if (!tmp) {
        amp_err_set(err, AMP_EINTERNAL, "cannot allocate locked memory for a key");
        return -1;
    }
    int rc = 0;
    const char *env = getenv("AMPARO_MASTER_KEY");
    if (env && *env) {
        const char *genv = getenv("AMPARO_MASTER_KEY_GEN");
        int gen = genv && *genv ? atoi(genv) : 1;
        if (gen < 1) {
            amp_err_set(err, AMP_EINTERNAL, "AMPARO_MASTER_KEY_GEN must be a number >= 1");
            rc = -1;
        } else if (!find_key(kr, gen)) {
            rc = hex_key("AMPARO_MASTER_KEY", env, tmp, err);
            if (rc == 0)
                rc = add_key(kr, gen, tmp, true, "AMPARO_MASTER_KEY", err);
        }
    }
    char path[PATH_MAX + 300];
    DIR *d = rc == 0 ? opendir(kr->dir) : NULL;
    if (d) {
        struct dirent *de;
        while (rc == 0 && (de = readdir(d)) != NULL) {
            int gen = gen_of_name(de->d_name);
            if (!gen)
                continue;
            snprintf(path, sizeof path, "%s/%s", kr->dir, de->d_name);
            rc = read_key_file(path, tmp, err);
            if (rc == 0)
                rc = add_key(kr, gen, tmp, false, path, err);
        }
        closedir(d);
    } else if (rc == 0 && errno != ENOENT) {
        amp_err_set(err, AMP_EINTERNAL, "cannot read the key directory '%s': %s", kr->dir,
                    strerror(errno));
        rc = -1;
    }
    snprintf(path, sizeof path, "%s/master.key", kr->data_dir);
    struct stat st;
    if (rc == 0 && stat(path, &st) == 0) {
        rc = read_key_file(path, tmp, err);
        if (rc == 0)
            rc = add_key(kr, 1, tmp, false, path, err);
    }
    sodium_free(tmp);
    sort_keys(kr);
    return rc;
}

static void drop_keys(keyring *kr)
{
    for (int i = 0; i < kr->nkeys; i++)
        sodium_free(kr->keys[i].key); /* sodium_free wipes before releasing */
    kr->nkeys = 0;
}

static void key_dir_of(const char *data_dir, char *out, size_t n)
{
    const char *env = getenv("AMPARO_KEY_DIR");
    if (env && *env)
        snprintf(out, n, "%s", env);
    else
        snprintf(out, n, "%s/keys", data_dir);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int keyring_write_key_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? 1 : -1;
    unsigned char key[KEYRING_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    ssize_t n = write(fd, key, sizeof key);
    sodium_memzero(key, sizeof key);
    int saved = errno;
    int rc = (n == (ssize_t)sizeof key && fchmod(fd, 0600) == 0 && fsync(fd) == 0) ? 0 : -1;
    if (rc != 0)
        saved = errno ? errno : saved;
    close(fd);
    if (rc != 0) {
        unlink(path);
        errno = saved;
        return -1;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        fsync_dir(*dir ? dir : "/");
    }
    return 0;
}

static int make_key_dir(const char *dir, amp_err *err)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        amp_err_set(err, AMP_EINTERNAL, "cannot create the key directory '%s': %s", dir,
                    strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        amp_err_set(err, AMP_EINTERNAL, "'%s' is not a directory", dir);
        return -1;
    }
    if (st.st_mode & 022) {
        amp_err_set(err, AMP_EINTERNAL,
                    "the key directory '%s' is writable by group or others (mode %04o); "
                    "run: chmod 700 '%s'",
                    dir, (unsigned)(st.st_mode & 07777), dir);
        return -1;
    }
    return 0;
}

static int load_index_key(keyring *kr, amp_err *err)
{
    kr->index_key = secure_key();
    if (!kr->index_key) {
        amp_err_set(err, AMP_EINTERNAL, "cannot allocate locked memory for a key");
        return -1;
    }
    const char *env = getenv("AMPARO_INDEX_KEY");
    if (env && *env)
        return hex_key("AMPARO_INDEX_KEY", env, kr->index_key, err);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/index.key", kr->dir);
    if (access(path, F_OK) != 0) {
        if (make_key_dir(kr->dir, err) != 0)
            return -1;
        if (keyring_write_key_file(path) < 0) {
            amp_err_set(err, AMP_EINTERNAL, "cannot create the index key '%s': %s", path,
                        strerror(errno));
            return -1;
        }
    }
    return read_key_file(path, kr->index_key, err);
}

keyring *keyring_open(const char *data_dir, amp_err *err)
{
    if (sodium_init() < 0) {
        amp_err_set(err, AMP_EINTERNAL, "cannot initialise libsodium");
        return NULL;
    }
    keyring *kr = calloc(1, sizeof *kr);
    if (!kr) {
        amp_err_set(err, AMP_EINTERNAL, "out of memory");
        return NULL;
    }
    snprintf(kr->data_dir, sizeof kr->data_dir, "%s", data_dir);
    key_dir_of(data_dir, kr->dir, sizeof kr->dir);
    pthread_rwlock_init(&kr->lock, NULL);
    atomic_init(&kr->last_check_ms, monotonic_ms());
    struct stat st;
    if (stat(kr->dir, &st) == 0 && (st.st_mode & 022)) {
        amp_err_set(err, AMP_EINTERNAL,
                    "the key directory '%s' is writable by group or others (mode %04o); "
                    "run: chmod 700 '%s'",
                    kr->dir, (unsigned)(st.st_mode & 07777), kr->dir);
        keyring_free(kr);
        return NULL;
    }
    if (load_sources(kr, err) != 0) {
        keyring_free(kr);
        return NULL;
    }
    if (kr->nkeys == 0) {
        amp_err_set(err, AMP_EINTERNAL,
                    "no master key: expected %s/master-1.key (created by 'amparo init'), "
                    "%s/master.key or AMPARO_MASTER_KEY",
                    kr->dir, kr->data_dir);
        keyring_free(kr);
        return NULL;
    }
    if (load_index_key(kr, err) != 0) {
        keyring_free(kr);
        return NULL;
    }
    kr->cache = cache_new(); /* without it (no memory), every read unwraps */
    return kr;
}

void keyring_free(keyring *kr)
{
    if (!kr)
        return;
    drop_keys(kr);
    sodium_free(kr->index_key);
    cache_free(kr->cache);
    pthread_rwlock_destroy(&kr->lock);
    sodium_memzero(kr, sizeof *kr);
    free(kr);
}

const char *keyring_dir(const keyring *kr)
{
    return kr->dir;
}

const unsigned char *keyring_index_key(const keyring *kr)
{
    return kr->index_key;
}

int keyring_rescan(keyring *kr, amp_err *err)
{
    /* Reload from scratch into a fresh table, so retired files disappear; keep the
     * old table if the scan fails (a half-written file, a permission slip). */
    keyring *fresh = calloc(1, sizeof *fresh);
    if (!fresh) {
        amp_err_set(err, AMP_EINTERNAL, "out of memory");
        return -1;
    }
    memcpy(fresh->dir, kr->dir, sizeof fresh->dir);
    memcpy(fresh->data_dir, kr->data_dir, sizeof fresh->data_dir);
    pthread_rwlock_wrlock(&kr->lock);
    int rc = load_sources(fresh, err);
    if (rc == 0 && fresh->nkeys == 0) {
        amp_err_set(err, AMP_EINTERNAL, "no master key left in '%s'", kr->dir);
        rc = -1;
    }
    if (rc == 0) {
        drop_keys(kr);
        memcpy(kr->keys, fresh->keys, sizeof kr->keys);
        kr->nkeys = fresh->nkeys;
        /* a retired generation's data keys leave memory with it */
        cache_wipe(kr->cache, NULL);
    } else {
        drop_keys(fresh);
    }
    pthread_rwlock_unlock(&kr->lock);
    free(fresh);
    return rc;
}

/* True when the key files on disk are not the ones loaded: a new generation
 * (rotation in another process) or a removed one (retire). */
static bool disk_differs(keyring *kr)
{
    DIR *d = opendir(kr->dir);
    bool differs = false;
    pthread_rwlock_rdlock(&kr->lock);
    if (d) {
        struct dirent *de;
        while (!differs && (de = readdir(d)) != NULL) {
            int gen = gen_of_name(de->d_name);
            differs = gen && !find_key(kr, gen);
        }
        closedir(d);
    }
    for (int i = 0; i < kr->nkeys && !differs; i++)
        differs = kr->keys[i].file[0] && access(kr->keys[i].file, F_OK) != 0;
    pthread_rwlock_unlock(&kr->lock);
    return differs;
}

static int current_locked(const keyring *kr)
{
    return kr->nkeys ? kr->keys[kr->nkeys - 1].gen : 0;
}

/* At most once a second: a change of the key files triggers a rescan. */
static void maybe_refresh(keyring *kr)
{
    int64_t now = monotonic_ms(), last = atomic_load(&kr->last_check_ms);
    /* one thread wins the check that is due; the others go on */
    bool due = now - last >= 1000 && atomic_compare_exchange_strong(&kr->last_check_ms, &last, now);
    if (due && disk_differs(kr)) {
        amp_err e = {0};
        keyring_rescan(kr, &e); /* on failure the old keys stay in use */
        amp_err_clear(&e);
    }
}

int keyring_current_gen(keyring *kr)
{
    maybe_refresh(kr);
    pthread_rwlock_rdlock(&kr->lock);
    int g = current_locked(kr);
    pthread_rwlock_unlock(&kr->lock);
    return g;
}

int keyring_gens(keyring *kr, int *gens, int max)
{
    pthread_rwlock_rdlock(&kr->lock);
    int n = 0;
    for (int i = 0; i < kr->nkeys && n < max; i++)
        gens[n++] = kr->keys[i].gen;
    pthread_rwlock_unlock(&kr->lock);
    return n;
}

/* ==== wrapping ================================================================ */

/* "amparo-dek" || gen (4 bytes big-endian) || case uid */
static size_t make_ad(unsigned char *ad, size_t cap, int gen, const char *case_uid)
{
    size_t ul = strlen(case_uid), p = sizeof AD_PREFIX - 1;
    if (p + 4 + ul > cap)
        return 0;
    memcpy(ad, AD_PREFIX, p);
    ad[p++] = (unsigned char)((unsigned)gen >> 24);
    ad[p++] = (unsigned char)((unsigned)gen >> 16);
    ad[p++] = (unsigned char)((unsigned)gen >> 8);
    ad[p++] = (unsigned char)gen;
    memcpy(ad + p, case_uid, ul);
    return p + ul;
}

static int wrap_locked(keyring *kr, int gen, const char *case_uid, const unsigned char *dek,
                       unsigned char *out, amp_err *err)
{
    master_key *mk = find_key(kr, gen);
    if (!mk) {
        amp_err_set(err, AMP_EINTERNAL, "master key generation %d is not loaded", gen);
        return -1;
    }
    unsigned char ad[160];
    size_t adlen = make_ad(ad, sizeof ad, gen, case_uid);
    if (!adlen) {
        amp_err_set(err, AMP_EINTERNAL, "case uid too long to wrap a key for");
        return -1;
    }
    unsigned char *nonce = out;
    randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                               NULL, dek, KEYRING_KEY_BYTES, ad, adlen, NULL, nonce,
                                               mk->key);
    return 0;
}

int keyring_wrap(keyring *kr, const char *case_uid, const unsigned char dek[KEYRING_KEY_BYTES],
                 unsigned char out[KEYRING_WRAPPED_BYTES], int *gen, amp_err *err)
{
    maybe_refresh(kr);
    pthread_rwlock_rdlock(&kr->lock);
    *gen = current_locked(kr);
    int rc = wrap_locked(kr, *gen, case_uid, dek, out, err);
    pthread_rwlock_unlock(&kr->lock);
    return rc;
}

int keyring_wrap_gen(keyring *kr, int gen, const char *case_uid,
                     const unsigned char dek[KEYRING_KEY_BYTES],
                     unsigned char out[KEYRING_WRAPPED_BYTES], amp_err *err)
{
    pthread_rwlock_rdlock(&kr->lock);
    int rc = wrap_locked(kr, gen, case_uid, dek, out, err);
    pthread_rwlock_unlock(&kr->lock);
    return rc;
}

/* 1: not loaded, 0: unwrapped, -1: refused (err set). */
static int unwrap_once(keyring *kr, int gen, const char *case_uid, const unsigned char *wrapped,
                       unsigned char *dek, amp_err *err)
{
    pthread_rwlock_rdlock(&kr->lock);
    master_key *mk = find_key(kr, gen);
    int rc = 1;
    if (mk) {
        unsigned char ad[160];
        size_t adlen = make_ad(ad, sizeof ad, gen, case_uid);
        unsigned long long dlen = 0;
        if (!adlen ||
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                dek, &dlen, NULL, wrapped + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                KEYRING_WRAPPED_BYTES - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, ad, adlen,
                wrapped, mk->key) != 0 ||
            dlen != KEYRING_KEY_BYTES) {
            sodium_memzero(dek, KEYRING_KEY_BYTES);
            amp_err_set(err, AMP_EINTERNAL,
                        "the data key of case %.40s does not authenticate under master key "
                        "generation %d (wrong key, wrong case or tampered)",
                        case_uid, gen);
            rc = -1;
        } else {
            /* under the lock a rescan takes to wipe the cache: a generation
             * retired meanwhile cannot leave a key behind */
            cache_put(kr->cache, gen, case_uid, wrapped, dek);
            rc = 0;
        }
    }
    pthread_rwlock_unlock(&kr->lock);
    return rc;
}

int keyring_unwrap(keyring *kr, int gen, const char *case_uid, const unsigned char *wrapped,
                   size_t len, unsigned char dek[KEYRING_KEY_BYTES], amp_err *err)
{
    sodium_memzero(dek, KEYRING_KEY_BYTES);
    if (len != KEYRING_WRAPPED_BYTES) {
        amp_err_set(err, AMP_EINTERNAL, "the data key of case %.40s has a wrong length (%zu)",
                    case_uid, len);
        return -1;
    }
    if (gen < 1) {
        amp_err_set(err, AMP_EINTERNAL, "invalid master key generation %d", gen);
        return -1;
    }
    maybe_refresh(kr); /* a retired generation leaves memory within a second */
    if (cache_get(kr->cache, gen, case_uid, wrapped, dek))
        return 0;
    int rc = unwrap_once(kr, gen, case_uid, wrapped, dek, err);
    if (rc == 1) {
        amp_err e = {0};
        if (keyring_rescan(kr, &e) == 0)
            rc = unwrap_once(kr, gen, case_uid, wrapped, dek, err);
        amp_err_clear(&e);
    }
    if (rc == 1) {
        amp_err_set(err, AMP_EINTERNAL,
                    "master key generation %d is not available (retired, or the key "
                    "directory '%s' is incomplete)",
                    gen, kr->dir);
        rc = -1;
    }
    return rc;
}

/* ==== generations ============================================================= */

int keyring_add_generation(keyring *kr, int *gen, amp_err *err)
{
    if (keyring_rescan(kr, err) != 0)
        return -1;
    if (make_key_dir(kr->dir, err) != 0)
        return -1;
    pthread_rwlock_rdlock(&kr->lock);
    int next = current_locked(kr) + 1;
    pthread_rwlock_unlock(&kr->lock);
    char path[PATH_MAX + 32];
    for (;; next++) { /* another process may have just written the next one */
        snprintf(path, sizeof path, "%s/master-%d.key", kr->dir, next);
        int w = keyring_write_key_file(path);
        if (w == 0)
            break;
        if (w < 0) {
            amp_err_set(err, AMP_EINTERNAL, "cannot write '%s': %s", path, strerror(errno));
            return -1;
        }
    }
    if (keyring_rescan(kr, err) != 0)
        return -1;
    *gen = next;
    return 0;
}

/* Overwrites a key file with zeros (best effort: journaling and flash may keep
 * the old blocks), then unlinks it. */
static int destroy_file(const char *path, amp_err *err)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        unsigned char zero[KEYRING_KEY_BYTES] = {0};
        ssize_t n = write(fd, zero, sizeof zero);
        (void)n;
        fsync(fd);
        close(fd);
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        amp_err_set(err, AMP_EINTERNAL, "cannot delete '%s': %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int keyring_remove_generation(keyring *kr, int gen, amp_err *err)
{
    if (keyring_rescan(kr, err) != 0)
        return -1;
    pthread_rwlock_rdlock(&kr->lock);
    int cur = current_locked(kr);
    master_key *mk = find_key(kr, gen);
    bool env = mk && mk->from_env;
    pthread_rwlock_unlock(&kr->lock);
    if (gen == cur) {
        amp_err_set(err, AMP_ESTATE, "generation %d is the current master key", gen);
        return -1;
    }
    if (!mk) {
        amp_err_set(err, AMP_ENOTFOUND, "no master key of generation %d", gen);
        return -1;
    }
    if (env) {
        amp_err_set(err, AMP_ESTATE,
                    "generation %d comes from AMPARO_MASTER_KEY; remove it from the "
                    "environment (and the secret store) instead",
                    gen);
        return -1;
    }
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/master-%d.key", kr->dir, gen);
    if (destroy_file(path, err) != 0)
        return -1;
    if (gen == 1) {
        snprintf(path, sizeof path, "%s/master.key", kr->data_dir);
        if (destroy_file(path, err) != 0)
            return -1;
    }
    fsync_dir(kr->dir);
    fsync_dir(kr->data_dir);
    return keyring_rescan(kr, err);
}

int keyring_init_dir(const char *data_dir, amp_err *err)
{
    char dir[PATH_MAX], path[PATH_MAX + 32];
    key_dir_of(data_dir, dir, sizeof dir);
    if (make_key_dir(dir, err) != 0)
        return -1;
    /* a data directory from before issue 3 already has generation 1 */
    snprintf(path, sizeof path, "%s/master.key", data_dir);
    bool legacy = access(path, F_OK) == 0;
    bool any = false;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while (!any && (de = readdir(d)) != NULL)
            any = gen_of_name(de->d_name) > 0;
        closedir(d);
    }
    const char *env = getenv("AMPARO_MASTER_KEY");
    if (!legacy && !any && !(env && *env)) {
        snprintf(path, sizeof path, "%s/master-1.key", dir);
        if (keyring_write_key_file(path) < 0) {
            amp_err_set(err, AMP_EINTERNAL, "cannot write '%s': %s", path, strerror(errno));
            return -1;
        }
    }
    const char *ienv = getenv("AMPARO_INDEX_KEY");
    if (!(ienv && *ienv)) {
        snprintf(path, sizeof path, "%s/index.key", dir);
        if (keyring_write_key_file(path) < 0) {
            amp_err_set(err, AMP_EINTERNAL, "cannot write '%s': %s", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}
