/* blindindex.h — exact-match search on encrypted names and ID numbers.
 *
 * A blind index value is a keyed hash of a normalised value: the store indexes
 * it like any filter term, and a search hashes the user's input the same way.
 * The index key (keyring_index_key) never leaves the process and is never
 * rotated (rotating it would mean re-indexing every case from decrypted data).
 *
 *   value = hex(first 16 bytes of BLAKE2b-256_key(group || 0x00 || normalised))
 *
 * Normalisation (ICU): transliteration to Latin (Cyrillic "Олена" -> "olena"),
 * compatibility decomposition (NFKD) with combining marks removed ("Lucía" ->
 * "lucia"), Latin-ASCII folding, case folding, whitespace collapsed to one space
 * and trimmed.
 *
 * Trade-offs (docs/ENCRYPTION.md): equal values give equal index values, so
 * someone holding the database sees which cases share a name token (not the
 * name); frequency analysis of common names is the known weakness.  The 128-bit
 * truncation can in principle give false positives, so a caller re-checks the
 * decrypted values of the matches it shows.
 *
 * Groups: "name" — one value per token of prs_FirstName, prs_MiddleName and
 * prs_SecondName ("Lucía María" indexes "lucia" and "maria"; tokens are split on
 * whitespace and hyphens); "idnumber" — prs_IdentityNumber with spaces, hyphens,
 * dots and slashes removed.
 *
 * Thread-safe (the ICU transliterator is shared under a mutex; a thread that
 * called blind_thread_begin uses its own, and a memo of normalised values). */
#ifndef AMPARO_BLINDINDEX_H
#define AMPARO_BLINDINDEX_H

#include <jansson.h>
#include <stddef.h>

#define BLIND_KEY_BYTES 32
#define BLIND_HASH_BYTES 16
#define BLIND_HEX_LEN (2 * BLIND_HASH_BYTES)
#define BLIND_MAX_INPUT 1024 /* bytes of UTF-8 input */

#define BLIND_GROUP_NAME "name"
#define BLIND_GROUP_IDNUMBER "idnumber"
#define BLIND_TERM_NAME "bi_name"         /* the filter-terms field of name values */
#define BLIND_TERM_IDNUMBER "bi_idnumber" /* …and of ID numbers */

/** Normalises UTF-8 text in into out[outlen] (NUL-terminated UTF-8).  Returns its
 *  length (0 for input that normalises to nothing), or -1 when in is not valid
 *  UTF-8, is longer than BLIND_MAX_INPUT, or out is too small. */
int blind_normalise(const char *in, char *out, size_t outlen);

/** The index value of one value of a group ("name": one token; "idnumber": a
 *  whole number) into out_hex[BLIND_HEX_LEN + 1].  The value is normalised here
 *  (for "idnumber" separators are also removed).  Returns 0, 1 when it normalises
 *  to nothing (no index value), or -1 on invalid input or an unknown group. */
int blind_index(const unsigned char key[BLIND_KEY_BYTES], const char *group, const char *value,
                char out_hex[BLIND_HEX_LEN + 1]);

/** Adds the blind index values of a case document (its fields in clear, before
 *  sealing) to a filter-terms object {field: [values]}: "bi_name" (each name token
 *  of prs_FirstName, prs_MiddleName, prs_SecondName) and "bi_idnumber".  Values
 *  are not repeated; fields that are absent or normalise to nothing add nothing.
 *  Returns the number of values added, or -1 when terms or doc is not an object
 *  or a value cannot be normalised (longer than BLIND_MAX_INPUT, ICU failing):
 *  the write should then fail rather than store a case its search cannot find. */
int blind_terms_for_case(const unsigned char key[BLIND_KEY_BYTES], const json_t *doc,
                         json_t *terms);

/** The values to search a group for: for "name" one value per token of the
 *  input ("Lucía Pérez" -> 2 values; a case must match all of them), for
 *  "idnumber" one value.  Writes up to max values into values[max][BLIND_HEX_LEN
 *  + 1] (repeated tokens once) and returns their number: 0 when the input
 *  normalises to nothing, -1 on invalid input, an unknown group, or more than
 *  max tokens. */
int blind_query_values(const unsigned char key[BLIND_KEY_BYTES], const char *group,
                       const char *input, char (*values)[BLIND_HEX_LEN + 1], int max);

/** Gives the calling thread a transliterator of its own and a memo of
 *  normalised values (bounded), for the workers of a bulk load: the results are
 *  the same as without, the workers just do not queue for the shared one.  0, or
 *  -1 when ICU or memory fails (the thread then uses the shared one).  Pair with
 *  blind_thread_end on the same thread. */
int blind_thread_begin(void);

/** Closes the calling thread's transliterator and wipes and frees its memo
 *  (it holds normalised names).  Does nothing when blind_thread_begin was not
 *  called. */
void blind_thread_end(void);

#endif
