/* casekey.h — per-case data keys (DEKs): created with a case, wrapped by the
 * keyring's current master key, stored in the store's case_keys table, unwrapped
 * on every read of the case's identity data, and destroyed on erasure
 * (crypto-shredding).  A case's children (events, comments, support plans,
 * perpetrators) are sealed under the same key with their own additional data
 * (see seal.h).
 *
 * A DEK is CASEKEY_BYTES random bytes.  Callers keep it in a local buffer for the
 * duration of one operation and wipe it (sodium_memzero) afterwards. */
#ifndef AMPARO_CASEKEY_H
#define AMPARO_CASEKEY_H

#include "core/keyring.h"
#include "core/result.h"
#include "store/store.h"

#include <stdbool.h>

#define CASEKEY_BYTES KEYRING_KEY_BYTES

/** Inside a write job: creates a new random DEK for case_uid, wraps it under
 *  the current generation and stores it (at: timestamp of creation).  dek
 *  receives the plain key for sealing the case's documents in the same job.
 *  AMP_OK, or an error code with err set (the job should then fail). */
amp_code casekey_create(store_tx *tx, keyring *kr, const char *case_uid, const char *at,
                        unsigned char dek[CASEKEY_BYTES], amp_err *err);

/** Inside a write job: wraps and stores a DEK made beforehand (the core seals a
 *  new case's documents outside the writer, then stores the key in the job).
 *  On failure dek is wiped.  AMP_OK or an error with err set. */
amp_code casekey_store(store_tx *tx, keyring *kr, const char *case_uid, const char *at,
                       unsigned char dek[CASEKEY_BYTES], amp_err *err);

/** Inside a write job: the case's DEK (updates re-seal with it).  AMP_ENOTFOUND
 *  when the case has none (never created, or erased); AMP_EINTERNAL when it does
 *  not unwrap (retired generation, tampered row). */
amp_code casekey_load_tx(store_tx *tx, keyring *kr, const char *case_uid,
                         unsigned char dek[CASEKEY_BYTES], amp_err *err);

/** The DEK of a wrapped key already read (store_case_get_raw's key_out); the
 *  same results as casekey_load (AMP_ENOTFOUND when k->len is 0). */
amp_code casekey_unwrap(keyring *kr, const store_case_key *k, unsigned char dek[CASEKEY_BYTES],
                        amp_err *err);

/** For reads: the case's DEK from the store's last committed state.  Same
 *  results as casekey_load_tx. */
amp_code casekey_load(store *s, keyring *kr, const char *case_uid, unsigned char dek[CASEKEY_BYTES],
                      amp_err *err);

/** Inside a write job: destroys the case's DEK (crypto-shredding): its wrapped
 *  copy is deleted with secure_delete on.  Every sealed member of the case and
 *  its children becomes unrecoverable once the transaction commits and — for
 *  the WAL and older backups — see docs/ENCRYPTION.md: call store_checkpoint
 *  after the job, and retire old master key generations.  AMP_OK (also when the
 *  case had no key: erasing twice is not an error), or AMP_EINTERNAL. */
amp_code case_key_shred(store_tx *tx, const char *case_uid, amp_err *err);

/** Progress of a rotation: called after each batch with the running total. */
typedef void (*casekey_progress_fn)(void *arg, long long done);

/** Re-wraps every case key held under a generation below `to_gen` under to_gen,
 *  in jobs of `batch` keys (another process may keep writing meanwhile).  Then
 *  waits `settle_ms` (longer than the keyring's one-second check for newer
 *  generations, so a running server that wrapped a key under the old generation
 *  just before noticing the new one is caught) and makes a last pass.
 *  *count receives the number re-wrapped.  AMP_OK, or an error with err set
 *  (keys already re-wrapped stay re-wrapped; running it again continues). */
amp_code casekey_rewrap_all(store *s, keyring *kr, int to_gen, int batch, int settle_ms,
                            casekey_progress_fn progress, void *arg, long long *count,
                            amp_err *err);

#endif
