/* seal.h — encrypting the identity members of a record document at rest.
 *
 * A sealed document keeps its non-identity members in clear, in their order, and
 * carries every identity member (names, birth date, documents, contacts,
 * addresses, free text: the catalogue's "identity": true fields) in one member
 * written LAST:
 *
 *     {"prs_Gender":"Feminine", …, "_sealed":"<base64url(nonce || ciphertext)>"}
 *
 * The plaintext is the compact JSON object of the identity members, in their
 * order in the document.  Cipher: XChaCha20-Poly1305-IETF under the case's data
 * key (casekey.h), a random 24-byte nonce per seal, additional data
 * "amparo-seal-v1" 0x00 kind 0x00 uid — so a sealed member cannot be moved to
 * another record, kind or case (each case has its own key).  The record version
 * is not bound: an update re-seals with a fresh nonce.
 *
 * Opening puts the identity members back after the clear ones: opened =
 * clear members (stored order) followed by identity members (sealed order).
 * seal_canonical gives that order for a document that was never sealed.
 *
 * A document without identity members is stored as is (no "_sealed").  Every
 * function is thread-safe and allocates; none keeps the key. */
#ifndef AMPARO_SEAL_H
#define AMPARO_SEAL_H

#include "core/catalogue.h"
#include "core/result.h"
#include "util/buf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define SEAL_KEY_BYTES 32
#define SEAL_MEMBER "_sealed"

/** What binds a sealed member to its record. */
typedef struct {
    const char *kind; /* catalogue entity: "case", "event", "comment", "support_plan"… */
    const char *uid;  /* the record's uid */
} seal_aad;

/** True when member `name` of a `kind` document is identity data (sealed). */
typedef bool (*seal_identity_fn)(void *arg, const char *kind, const char *name);

/** The catalogue's answer: arg is a const catalogue *; true for a field of
 *  `kind` flagged "identity": true.  Unknown names are not identity (validation
 *  refuses them before they are stored). */
bool seal_catalogue_identity(void *arg, const char *kind, const char *name);

/** A new sealed copy of doc (an object; doc is not changed): identity members
 *  (is_identity(arg, aad->kind, name)) moved into "_sealed", placed last.  NULL on
 *  failure with err set (doc not an object, doc already holding "_sealed"). */
json_t *seal_doc(const unsigned char dek[SEAL_KEY_BYTES], const seal_aad *aad, const json_t *doc,
                 seal_identity_fn is_identity, void *arg, amp_err *err);

/** seal_doc's result as compact JSON text (what json_dumps(seal_doc(…),
 *  JSON_COMPACT) gives), written directly: no intermediate documents.  New
 *  malloc'd text, or NULL with err set. */
char *seal_doc_text(const unsigned char dek[SEAL_KEY_BYTES], const seal_aad *aad, const json_t *doc,
                    seal_identity_fn is_identity, void *arg, amp_err *err);

/** A new opened copy of a stored document: "_sealed" replaced by the members it
 *  holds.  A document without "_sealed" is copied.  NULL with err set (code
 *  AMP_EINTERNAL) when the member does not authenticate — wrong key, another
 *  record's ciphertext, tampering — or is malformed or not last. */
json_t *open_doc(const unsigned char dek[SEAL_KEY_BYTES], const seal_aad *aad, const json_t *stored,
                 amp_err *err);

/** A new copy of a stored document without "_sealed": what a reader without
 *  RES_CASE_IDENTITY sees.  NULL only when stored is not an object. */
json_t *strip_sealed(const json_t *stored);

/** A new copy of doc in the order opening gives: members for which is_identity
 *  is false first, then the identity members, each group in doc order.  For
 *  answers built from a document before it is stored (the 201 of a create), so
 *  they match later reads byte for byte. */
json_t *seal_canonical(const json_t *doc, const char *kind, seal_identity_fn is_identity,
                       void *arg);

/** True when the stored document carries a sealed member. */
bool seal_is_sealed(const json_t *stored);

/* ---- the text fast path ----------------------------------------------------------
 * Stored documents are compact JSON text written by jansson (json_dumps with
 * JSON_COMPACT) from seal_doc's output.  These append the members of such a text
 * as add_members_text in cases.c does: ",m1,m2,…" (one leading comma, nothing for
 * an empty object), without parsing the document.  The result, wrapped in
 * braces, is byte for byte json_dumps(open_doc(parse(raw)), JSON_COMPACT)
 * (resp. strip_sealed). */

/** Appends the members of raw with "_sealed" replaced by its decrypted members.
 *  0, or -1 with err set (nothing appended) when the text is not an object, the
 *  sealed member is not last, or it does not authenticate. */
int seal_open_text(const unsigned char dek[SEAL_KEY_BYTES], const seal_aad *aad, const char *raw,
                   buf *out, amp_err *err);

/** Appends the members of raw without "_sealed".  0, or -1 with err set when the
 *  text is not an object or carries a "_sealed" member that is not last. */
int seal_strip_text(const char *raw, buf *out, amp_err *err);

#endif
