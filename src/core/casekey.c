/* casekey.c — per-case data keys: create, load, shred, re-wrap.  See casekey.h. */
#include "core/casekey.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { JOB_UNWRAP_FAILED = 100 };

amp_code casekey_create(store_tx *tx, keyring *kr, const char *case_uid, const char *at,
                        unsigned char dek[CASEKEY_BYTES], amp_err *err)
{
    randombytes_buf(dek, CASEKEY_BYTES);
    return casekey_store(tx, kr, case_uid, at, dek, err);
}

amp_code casekey_store(store_tx *tx, keyring *kr, const char *case_uid, const char *at,
                       unsigned char dek[CASEKEY_BYTES], amp_err *err)
{
    unsigned char wrapped[KEYRING_WRAPPED_BYTES];
    int gen = 0;
    if (keyring_wrap(kr, case_uid, dek, wrapped, &gen, err) != 0) {
        sodium_memzero(dek, CASEKEY_BYTES);
        return err->code;
    }
    int rc = store_tx_key_put(tx, case_uid, gen, wrapped, sizeof wrapped, at);
    if (rc != STORE_OK) {
        sodium_memzero(dek, CASEKEY_BYTES);
        return amp_err_set(err, AMP_EINTERNAL, "cannot store the data key of case %.40s", case_uid);
    }
    return AMP_OK;
}

static amp_code unwrap_found(int rc, keyring *kr, const char *case_uid, int gen,
                             const unsigned char *wrapped, size_t len,
                             unsigned char dek[CASEKEY_BYTES], amp_err *err)
{
    if (rc == STORE_NOTFOUND) {
        sodium_memzero(dek, CASEKEY_BYTES);
        return amp_err_set(err, AMP_ENOTFOUND, "case %.40s has no data key (erased?)", case_uid);
    }
    if (rc != STORE_OK) {
        sodium_memzero(dek, CASEKEY_BYTES);
        return amp_err_set(err, AMP_EINTERNAL, "cannot read the data key of case %.40s", case_uid);
    }
    if (keyring_unwrap(kr, gen, case_uid, wrapped, len, dek, err) != 0)
        return err->code ? err->code : AMP_EINTERNAL;
    return AMP_OK;
}

amp_code casekey_load_tx(store_tx *tx, keyring *kr, const char *case_uid,
                         unsigned char dek[CASEKEY_BYTES], amp_err *err)
{
    unsigned char wrapped[STORE_WRAPPED_MAX];
    size_t len = sizeof wrapped;
    int gen = 0;
    int rc = store_tx_key_get(tx, case_uid, &gen, wrapped, &len);
    return unwrap_found(rc, kr, case_uid, gen, wrapped, len, dek, err);
}

amp_code casekey_load(store *s, keyring *kr, const char *case_uid, unsigned char dek[CASEKEY_BYTES],
                      amp_err *err)
{
    unsigned char wrapped[STORE_WRAPPED_MAX];
    size_t len = sizeof wrapped;
    int gen = 0;
    int rc = store_key_get(s, case_uid, &gen, wrapped, &len);
    return unwrap_found(rc, kr, case_uid, gen, wrapped, len, dek, err);
}

amp_code casekey_unwrap(keyring *kr, const store_case_key *k, unsigned char dek[CASEKEY_BYTES],
                        amp_err *err)
{
    return unwrap_found(k->len ? STORE_OK : STORE_NOTFOUND, kr, k->case_uid, k->gen, k->wrapped,
                        k->len, dek, err);
}

amp_code case_key_shred(store_tx *tx, const char *case_uid, amp_err *err)
{
    int rc = store_tx_key_delete(tx, case_uid);
    if (rc == STORE_OK || rc == STORE_NOTFOUND)
        return AMP_OK;
    return amp_err_set(err, AMP_EINTERNAL, "cannot delete the data key of case %.40s", case_uid);
}

/* ---- rotation ---------------------------------------------------------------- */

typedef struct {
    keyring *kr;
    int to_gen, batch;
    store_case_key *keys;
    int done; /* re-wrapped in this job */
    amp_err err;
} rewrap_job;

static int rewrap_batch(store_tx *tx, void *arg)
{
    rewrap_job *j = arg;
    j->done = 0;
    int n = 0;
    int rc = store_tx_keys_below(tx, j->to_gen, j->batch, j->keys, &n);
    if (rc != STORE_OK)
        return rc;
    unsigned char dek[CASEKEY_BYTES], wrapped[KEYRING_WRAPPED_BYTES];
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    for (int i = 0; i < n; i++) {
        store_case_key *k = &j->keys[i];
        if (keyring_unwrap(j->kr, k->gen, k->case_uid, k->wrapped, k->len, dek, &j->err) != 0 ||
            keyring_wrap_gen(j->kr, j->to_gen, k->case_uid, dek, wrapped, &j->err) != 0) {
            sodium_memzero(dek, sizeof dek);
            return JOB_UNWRAP_FAILED;
        }
        sodium_memzero(dek, sizeof dek);
        rc = store_tx_key_put(tx, k->case_uid, j->to_gen, wrapped, sizeof wrapped, now);
        if (rc != STORE_OK)
            return rc;
        j->done++;
    }
    sodium_memzero(j->keys, sizeof *j->keys * (size_t)n);
    return STORE_OK;
}

static amp_code rewrap_pass(store *s, rewrap_job *j, casekey_progress_fn progress, void *arg,
                            long long *count, amp_err *err)
{
    for (;;) {
        int rc = store_run(s, rewrap_batch, j);
        if (rc == JOB_UNWRAP_FAILED) {
            amp_err_set(err, AMP_EINTERNAL, "%s", j->err.message);
            amp_err_clear(&j->err);
            return AMP_EINTERNAL;
        }
        if (rc != STORE_OK)
            return amp_err_set(err, AMP_EINTERNAL, "a re-wrapping batch failed to commit");
        if (j->done == 0)
            return AMP_OK;
        *count += j->done;
        if (progress)
            progress(arg, *count);
    }
}

amp_code casekey_rewrap_all(store *s, keyring *kr, int to_gen, int batch, int settle_ms,
                            casekey_progress_fn progress, void *arg, long long *count, amp_err *err)
{
    *count = 0;
    if (batch < 1)
        batch = 1000;
    rewrap_job j = {.kr = kr, .to_gen = to_gen, .batch = batch};
    j.keys = calloc((size_t)batch, sizeof *j.keys);
    if (!j.keys)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    amp_code code = rewrap_pass(s, &j, progress, arg, count, err);
    if (code == AMP_OK && settle_ms > 0) {
        struct timespec ts = {settle_ms / 1000, (long)(settle_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        code = rewrap_pass(s, &j, progress, arg, count, err);
    }
    sodium_memzero(j.keys, sizeof *j.keys * (size_t)batch);
    free(j.keys);
    return code;
}
