/* seal.c — identity members of record documents, encrypted at rest.  See seal.h. */
#include "core/seal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

static const char AD_PREFIX[] = "amparo-seal-v1";
static const char KEY_PATTERN[] = "\"" SEAL_MEMBER "\":"; /* "_sealed": */
#define KEY_PATTERN_LEN (sizeof KEY_PATTERN - 1)

bool seal_catalogue_identity(void *arg, const char *kind, const char *name)
{
    const cat_field *f = catalogue_field(arg, kind, name);
    return f && f->identity;
}

/* "amparo-seal-v1" 0x00 kind 0x00 uid, into a new buffer. */
static unsigned char *make_ad(const seal_aad *aad, size_t *len)
{
    size_t p = sizeof AD_PREFIX - 1, kl = strlen(aad->kind), ul = strlen(aad->uid);
    *len = p + 1 + kl + 1 + ul;
    unsigned char *ad = malloc(*len);
    if (!ad)
        return NULL;
    memcpy(ad, AD_PREFIX, p);
    ad[p++] = 0;
    memcpy(ad + p, aad->kind, kl);
    p += kl;
    ad[p++] = 0;
    memcpy(ad + p, aad->uid, ul);
    return ad;
}

static bool aad_ok(const seal_aad *aad, amp_err *err)
{
    if (!aad || !aad->kind || !aad->uid || !*aad->kind || !*aad->uid) {
        amp_err_set(err, AMP_EINTERNAL, "sealing needs the record's kind and uid");
        return false;
    }
    return true;
}

/* base64url(nonce || AEAD(plain)), a new string. */
static char *encrypt_text(const unsigned char *dek, const seal_aad *aad, const char *plain,
                          size_t plen, amp_err *err)
{
    size_t adlen;
    unsigned char *ad = make_ad(aad, &adlen);
    size_t blen = NONCE_BYTES + plen + TAG_BYTES;
    unsigned char *bin = malloc(blen);
    size_t b64len = sodium_base64_encoded_len(blen, B64_VARIANT);
    char *b64 = malloc(b64len);
    if (!ad || !bin || !b64) {
        free(ad);
        free(bin);
        free(b64);
        amp_err_set(err, AMP_EINTERNAL, "out of memory");
        return NULL;
    }
    randombytes_buf(bin, NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        bin + NONCE_BYTES, NULL, (const unsigned char *)plain, plen, ad, adlen, NULL, bin, dek);
    sodium_bin2base64(b64, b64len, bin, blen, B64_VARIANT);
    free(ad);
    free(bin);
    return b64;
}

/* Decrypts base64url text b64[n]; a new NUL-terminated plaintext (wipe and free)
 * with *plen, or NULL with err set. */
static char *decrypt_text(const unsigned char *dek, const seal_aad *aad, const char *b64, size_t n,
                          size_t *plen, amp_err *err)
{
    unsigned char *bin = malloc(n ? n : 1);
    size_t blen = 0;
    const char *end = NULL;
    if (!bin) {
        amp_err_set(err, AMP_EINTERNAL, "out of memory");
        return NULL;
    }
    if (sodium_base642bin(bin, n, b64, n, NULL, &blen, &end, B64_VARIANT) != 0 || end != b64 + n ||
        blen < NONCE_BYTES + TAG_BYTES) {
        free(bin);
        amp_err_set(err, AMP_EINTERNAL, "the sealed member of %.24s %.40s is malformed", aad->kind,
                    aad->uid);
        return NULL;
    }
    size_t adlen;
    unsigned char *ad = make_ad(aad, &adlen);
    char *plain = malloc(blen - NONCE_BYTES - TAG_BYTES + 1);
    unsigned long long got = 0;
    if (!ad || !plain) {
        free(ad);
        free(plain);
        free(bin);
        amp_err_set(err, AMP_EINTERNAL, "out of memory");
        return NULL;
    }
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)plain, &got, NULL,
                                                        bin + NONCE_BYTES, blen - NONCE_BYTES, ad,
                                                        adlen, bin, dek);
    free(ad);
    free(bin);
    if (rc != 0) {
        free(plain);
        amp_err_set(err, AMP_EINTERNAL,
                    "the sealed member of %.24s %.40s does not authenticate (wrong key, another "
                    "record's data, or tampered)",
                    aad->kind, aad->uid);
        return NULL;
    }
    plain[got] = '\0';
    *plen = (size_t)got;
    return plain;
}

static void wipe_free(char *p, size_t n)
{
    if (p) {
        sodium_memzero(p, n);
        free(p);
    }
}

/* ==== documents ================================================================== */

json_t *seal_canonical(const json_t *doc, const char *kind, seal_identity_fn is_identity, void *arg)
{
    if (!json_is_object(doc))
        return NULL;
    json_t *out = json_object(), *tail = json_object();
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)doc, key, v)
        json_object_set(is_identity(arg, kind, key) ? tail : out, key, v);
    json_object_update(out, tail);
    json_decref(tail);
    return out;
}

json_t *seal_doc(const unsigned char dek[SEAL_KEY_BYTES], const seal_aad *aad, const json_t *doc,
                 seal_identity_fn is_identity, void *arg, amp_err *err)
{
    if (!aad_ok(aad, err))
        return NULL;
    if (!json_is_object(doc)) {
        amp_err_set(err, AMP_EINTERNAL, "only an object can be sealed");
        return NULL;
    }
    if (json_object_get(doc, SEAL_MEMBER)) {
        amp_err_set(err, AMP_EINTERNAL, "the document already holds \"%s\"", SEAL_MEMBER);
        return NULL;
    }
    json_t *out = json_object(), *secret = json_object();
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)doc, key, v)
        json_object_set(is_identity(arg, aad->kind, key) ? secret : out, key, v);
    if (json_object_size(secret) > 0) {
        char *plain = json_dumps(secret, JSON_COMPACT);
        char *b64 = plain ? encrypt_text(dek, aad, plain, strlen(plain), err) : NULL;
        if (!plain)
            amp_err_set(err, AMP_EINTERNAL, "cannot serialise the identity members");
        if (plain)
            wipe_free(plain, strlen(plain));
        if (!b64) {
            json_decref(secret);
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, SEAL_MEMBER, json_string(b64));
        free(b64);
    }
    json_decref(secret);
    return out;
}

bool seal_is_sealed(const json_t *stored)
{
    return json_is_string(json_object_get(stored, SEAL_MEMBER));
}

json_t *strip_sealed(const json_t *stored)
{
    if (!json_is_object(stored))
        return NULL;
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)stored, key, v) {
        if (strcmp(key, SEAL_MEMBER) != 0)
            json_object_set(out, key, v);
    }
    return out;
}

json_t *open_doc(const unsigned char dek[SEAL_KEY_BYTES], const seal_aad *aad, const json_t *stored,
                 amp_err *err)
{
    if (!aad_ok(aad, err))
        return NULL;
    if (!json_is_object(stored)) {
        amp_err_set(err, AMP_EINTERNAL, "a stored document must be an object");
        return NULL;
    }
    json_t *sealed = json_object_get(stored, SEAL_MEMBER);
    if (!sealed)
        return json_deep_copy(stored);
    /* the sealed member must be the last one (the text path relies on it) */
    const char *key, *last = NULL;
    json_t *v;
    json_object_foreach ((json_t *)stored, key, v)
        last = key;
    if (!json_is_string(sealed) || strcmp(last, SEAL_MEMBER) != 0) {
        amp_err_set(err, AMP_EINTERNAL, "the sealed member of %.24s %.40s is malformed", aad->kind,
                    aad->uid);
        return NULL;
    }
    size_t plen = 0;
    char *plain =
        decrypt_text(dek, aad, json_string_value(sealed), json_string_length(sealed), &plen, err);
    if (!plain)
        return NULL;
    json_t *inner = json_loadb(plain, plen, JSON_REJECT_DUPLICATES, NULL);
    wipe_free(plain, plen);
    if (!json_is_object(inner)) {
        json_decref(inner);
        amp_err_set(err, AMP_EINTERNAL, "the sealed member of %.24s %.40s is not an object",
                    aad->kind, aad->uid);
        return NULL;
    }
    json_t *out = strip_sealed(stored);
    json_object_foreach (inner, key, v) {
        if (json_object_get(out, key)) {
            json_decref(inner);
            json_decref(out);
            amp_err_set(err, AMP_EINTERNAL,
                        "the sealed member of %.24s %.40s repeats a clear member", aad->kind,
                        aad->uid);
            return NULL;
        }
        json_object_set(out, key, v);
    }
    json_decref(inner);
    return out;
}

/* ==== text ======================================================================= */

static bool is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* The members of a stored object text: [*body, *body + *blen) without braces;
 * the sealed value [*b64, +*b64len) when the last member is "_sealed", else
 * *b64 NULL.  -1 with err set when the text is not an object or "_sealed"
 * appears elsewhere.
 *
 * Why a search from the end is exact on jansson's compact output: inside a JSON
 * string every '"' is escaped, so `:"` and `,"`/`{"` followed by `_sealed":`
 * can only be the key and the opening quote of a real member; base64url has no
 * quote or backslash. */
static int split_text(const char *raw, const char **body, size_t *blen, const char **b64,
                      size_t *b64len, amp_err *err)
{
    size_t n = strlen(raw);
    *b64 = NULL;
    *b64len = 0;
    if (n < 2 || raw[0] != '{' || raw[n - 1] != '}') {
        amp_err_set(err, AMP_EINTERNAL, "a stored document is not a JSON object");
        return -1;
    }
    *body = raw + 1;
    *blen = n - 2;
    size_t i = n - 1; /* at '}' */
    if (i >= 1 && raw[i - 1] == '"') {
        size_t end = i - 1, j = end;
        while (j > 0 && is_b64url(raw[j - 1]))
            j--;
        /* raw[j-1] must be the opening quote, preceded by "_sealed": and , or { */
        if (j >= 1 + KEY_PATTERN_LEN + 1 && raw[j - 1] == '"' &&
            memcmp(raw + j - 1 - KEY_PATTERN_LEN, KEY_PATTERN, KEY_PATTERN_LEN) == 0) {
            size_t start = j - 1 - KEY_PATTERN_LEN; /* the key's opening quote */
            char before = raw[start - 1];
            if (before == ',' || before == '{') {
                *b64 = raw + j;
                *b64len = end - j;
                *blen = before == '{' ? 0 : start - 1 - 1;
            }
        }
    }
    /* no other "_sealed" member in what stays */
    const char *p = *body, *stop = *body + *blen;
    while ((p = memmem(p, (size_t)(stop - p), KEY_PATTERN, KEY_PATTERN_LEN)) != NULL) {
        if (p > raw && (p[-1] == ',' || p[-1] == '{')) {
            amp_err_set(err, AMP_EINTERNAL, "a stored document holds \"%s\" out of place",
                        SEAL_MEMBER);
            return -1;
        }
        p++;
    }
    return 0;
}

int seal_strip_text(const char *raw, buf *out, amp_err *err)
{
    const char *body, *b64;
    size_t blen, b64len;
    if (split_text(raw, &body, &blen, &b64, &b64len, err) != 0)
        return -1;
    if (blen) {
        buf_addc(out, ',');
        buf_add(out, body, blen);
    }
    return 0;
}

int seal_open_text(const unsigned char dek[SEAL_KEY_BYTES], const seal_aad *aad, const char *raw,
                   buf *out, amp_err *err)
{
    if (!aad_ok(aad, err))
        return -1;
    const char *body, *b64;
    size_t blen, b64len;
    if (split_text(raw, &body, &blen, &b64, &b64len, err) != 0)
        return -1;
    char *plain = NULL;
    size_t plen = 0;
    if (b64) {
        plain = decrypt_text(dek, aad, b64, b64len, &plen, err);
        if (!plain)
            return -1;
        if (plen < 2 || plain[0] != '{' || plain[plen - 1] != '}') {
            wipe_free(plain, plen);
            amp_err_set(err, AMP_EINTERNAL, "the sealed member of %.24s %.40s is not an object",
                        aad->kind, aad->uid);
            return -1;
        }
    }
    if (blen) {
        buf_addc(out, ',');
        buf_add(out, body, blen);
    }
    if (plain && plen > 2) {
        buf_addc(out, ',');
        buf_add(out, plain + 1, plen - 2);
    }
    wipe_free(plain, plen);
    return 0;
}
