/* keyring.h — the master keys that wrap the per-case data keys, held outside the
 * database, and the blind-index key.
 *
 * Where keys live (see docs/ENCRYPTION.md):
 *   - the key directory: $AMPARO_KEY_DIR if set, else <data dir>/keys (mode 0700);
 *   - master-<N>.key in it: 32 random bytes, mode 0600, generation N >= 1; the
 *     highest N is the current generation, the one new data keys are wrapped under;
 *   - <data dir>/master.key (written by `amparo init` before issue 3): generation 1;
 *   - $AMPARO_MASTER_KEY (64 hex digits): one generation held in the environment,
 *     generation $AMPARO_MASTER_KEY_GEN (default 1);
 *   - index.key in the key directory: 32 bytes, 0600, never rotated, created when
 *     missing (or $AMPARO_INDEX_KEY, 64 hex digits).
 * A key file readable or writable by group or others is refused.
 *
 * Wrapping: XChaCha20-Poly1305-IETF, a random 24-byte nonce, additional data
 * "amparo-dek" || generation (4 bytes, big-endian) || case uid, so a wrapped key
 * is bound to its case and generation.  Wrapped form: nonce || ciphertext || tag.
 *
 * Key material lives in sodium_malloc'd (guarded, mlock'd) memory and is wiped on
 * release.  A keyring is safe to share between threads. */
#ifndef AMPARO_KEYRING_H
#define AMPARO_KEYRING_H

#include "core/result.h"

#include <stdbool.h>
#include <stddef.h>

#define KEYRING_KEY_BYTES 32
#define KEYRING_WRAPPED_BYTES (24 + KEYRING_KEY_BYTES + 16) /* 72 */
#define KEYRING_MAX_GENS 64

typedef struct keyring keyring;

/** Opens the keyring of a data directory (see above for the sources).  Creates
 *  the index key when missing.  NULL on failure, with err naming the file and the
 *  problem (missing key, wrong size, permissions too open, conflicting sources).
 *  The caller frees the result with keyring_free. */
keyring *keyring_open(const char *data_dir, amp_err *err);

/** Wipes and releases every key.  NULL is allowed. */
void keyring_free(keyring *kr);

/** The key directory in use (borrowed; valid until keyring_free). */
const char *keyring_dir(const keyring *kr);

/** The current (highest) generation.  Checks for a newer key file on disk at
 *  most once a second, so a running server picks up `amparo key rotate`. */
int keyring_current_gen(keyring *kr);

/** The generations loaded, ascending, into gens[max]; returns their number. */
int keyring_gens(keyring *kr, int *gens, int max);

/** Wraps the data key dek of case `case_uid` under the current generation:
 *  out receives KEYRING_WRAPPED_BYTES, *gen the generation used.  0, or -1 with
 *  err set. */
int keyring_wrap(keyring *kr, const char *case_uid, const unsigned char dek[KEYRING_KEY_BYTES],
                 unsigned char out[KEYRING_WRAPPED_BYTES], int *gen, amp_err *err);

/** Wraps under a given generation (rotation); fails if it is not loaded. */
int keyring_wrap_gen(keyring *kr, int gen, const char *case_uid,
                     const unsigned char dek[KEYRING_KEY_BYTES],
                     unsigned char out[KEYRING_WRAPPED_BYTES], amp_err *err);

/** Unwraps a data key wrapped under generation gen for case `case_uid`.  An
 *  unknown generation makes it rescan the key directory once (another process
 *  may have rotated); like keyring_wrap it also looks for added or removed key
 *  files at most once a second, so a retired generation is forgotten.  0, or -1 with err set:
 * unknown or retired generation, wrong length, or a wrapped key that does not authenticate (wrong
 * key, wrong case, tampered) — never a wrong key silently returned.  dek is zeroed on failure. */
int keyring_unwrap(keyring *kr, int gen, const char *case_uid, const unsigned char *wrapped,
                   size_t len, unsigned char dek[KEYRING_KEY_BYTES], amp_err *err);

/** Data keys unwrapped lately are kept for up to 60 s (the same wrapped bytes,
 *  case and generation give the key without another AEAD opening), in
 *  sodium_malloc'd memory like the master keys that could unwrap them anyway.
 *  A rescan that loads a changed set of key files (rotation, retirement) wipes
 *  them all; keyring_forget wipes one case's (its erasure).  The counters: */
typedef struct {
    long long hits, misses, held;
} keyring_cache_stats;
void keyring_cache_stats_get(keyring *kr, keyring_cache_stats *out);

/** Wipes the cached data key of case_uid (called once its key is destroyed). */
void keyring_forget(keyring *kr, const char *case_uid);

/** Rescans the key directory now: loads new generations and drops those whose
 *  file is gone (retired).  Keys from the environment stay.  0, or -1 with err. */
int keyring_rescan(keyring *kr, amp_err *err);

/** Writes master-(N+1).key (0600, fsync'd, never overwriting) in the key
 *  directory and loads it; *gen receives N+1.  Fails when the current key comes
 *  from the environment only and no key directory can hold the new one. */
int keyring_add_generation(keyring *kr, int *gen, amp_err *err);

/** Deletes the key file(s) of generation gen (overwritten with zeros, then
 *  unlinked; the legacy master.key for generation 1) and forgets the key.  The
 *  current generation cannot be removed.  The caller checks first that no data
 *  key is wrapped under gen.  0, or -1 with err. */
int keyring_remove_generation(keyring *kr, int gen, amp_err *err);

/** The blind-index key (borrowed; valid until keyring_free). */
const unsigned char *keyring_index_key(const keyring *kr);

/** Writes a new key file (32 random bytes, mode 0600, O_EXCL, fsync'd file and
 *  directory).  Returns 0, 1 when the file already exists (left untouched), or
 *  -1 with errno set.  Used by `amparo init` and keyring_add_generation. */
int keyring_write_key_file(const char *path);

/** Creates the key directory of data_dir (mode 0700; $AMPARO_KEY_DIR if set)
 *  with master-1.key and index.key when missing.  Does not touch a legacy
 *  master.key.  0, or -1 with err. */
int keyring_init_dir(const char *data_dir, amp_err *err);

#endif
