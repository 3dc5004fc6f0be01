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

#define AD_MAX 192

/* "amparo-seal-v1" 0x00 kind 0x00 uid into ad[AD_MAX]; 0 when too long. */
static size_t make_ad(const seal_aad *aad, unsigned char ad[AD_MAX])
{
    size_t p = sizeof AD_PREFIX - 1, kl = strlen(aad->kind), ul = strlen(aad->uid);
    if (p + 1 + kl + 1 + ul > AD_MAX)
        return 0;
    memcpy(ad, AD_PREFIX, p);
    ad[p++] = 0;
    memcpy(ad + p, aad->kind, kl);
    p += kl;
    ad[p++] = 0;
    memcpy(ad + p, aad->uid, ul);
    return p + ul;
}

/* base64url without padding.  The ciphertext is not secret, so plain table
 * look-ups (not constant time) are fine, and much faster than sodium's. */
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64_encoded_len(size_t n)
{
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

static void b64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t i = 0, o = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = B64[(v >> 6) & 63];
        out[o++] = B64[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = B64[(v >> 6) & 63];
    }
    out[o] = '\0';
}

/* 1 + the 6-bit value of each base64url character; 0 for every other byte. */
static const unsigned char B64_VALUE1[256] = {
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,  ['H'] = 8,
    ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64,
};

/* The 6-bit value of a base64url character, or -1. */
static int b64_value(unsigned char c)
{
    return (int)B64_VALUE1[c] - 1;
}

/* Decodes strictly (no padding, no stray characters, unused bits zero, so one
 * ciphertext has one text).  Returns the length, or -1. */
static long b64_decode(const char *in, size_t n, unsigned char *out)
{
    if (n % 4 == 1)
        return -1;
    size_t o = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
        int a = b64_value((unsigned char)in[i]), b = b64_value((unsigned char)in[i + 1]),
            c = b64_value((unsigned char)in[i + 2]), d = b64_value((unsigned char)in[i + 3]);
        if ((a | b | c | d) < 0)
            return -1;
        unsigned v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6 | (unsigned)d;
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
    }
    size_t rest = n - i;
    if (rest) {
        int a = b64_value((unsigned char)in[i]), b = b64_value((unsigned char)in[i + 1]);
        int c = rest == 3 ? b64_value((unsigned char)in[i + 2]) : 0;
        if ((a | b | c) < 0)
            return -1;
        unsigned v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6;
        out[o++] = (unsigned char)(v >> 16);
        if (rest == 3)
            out[o++] = (unsigned char)(v >> 8);
        if ((rest == 2 && (v & 0xffff)) || (rest == 3 && (v & 0xff)))
            return -1; /* unused bits set */
    }
    return (long)o;
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
    unsigned char ad[AD_MAX];
    size_t adlen = make_ad(aad, ad);
    if (!adlen) {
        amp_err_set(err, AMP_EINTERNAL, "a record kind or uid too long to seal");
        return NULL;
    }
    size_t blen = NONCE_BYTES + plen + TAG_BYTES;
    unsigned char *bin = malloc(blen);
    char *b64 = malloc(b64_encoded_len(blen) + 1);
    if (!bin || !b64) {
        free(bin);
        free(b64);
        amp_err_set(err, AMP_EINTERNAL, "out of memory");
        return NULL;
    }
    randombytes_buf(bin, NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        bin + NONCE_BYTES, NULL, (const unsigned char *)plain, plen, ad, adlen, NULL, bin, dek);
    b64_encode(bin, blen, b64);
    free(bin);
    return b64;
}

#define STACK_MAX 4096

/* Decrypts base64url text b64[n] into buffer (stack_buf when it fits, else a
 * new allocation returned in *heap); the plaintext is at *plain, *plen bytes,
 * NUL-terminated.  0, or -1 with err set. */
static int decrypt_into(const unsigned char *dek, const seal_aad *aad, const char *b64, size_t n,
                        unsigned char *stack_buf, unsigned char **heap, const char **plain,
                        size_t *plen, amp_err *err)
{
    *heap = NULL;
    size_t cap = n / 4 * 3 + 3;
    unsigned char *bin = cap <= STACK_MAX ? stack_buf : (*heap = malloc(cap));
    if (!bin) {
        amp_err_set(err, AMP_EINTERNAL, "out of memory");
        return -1;
    }
    long blen = b64_decode(b64, n, bin);
    unsigned char ad[AD_MAX];
    size_t adlen = make_ad(aad, ad);
    if (blen < (long)(NONCE_BYTES + TAG_BYTES) || !adlen) {
        amp_err_set(err, AMP_EINTERNAL, "the sealed member of %.24s %.40s is malformed", aad->kind,
                    aad->uid);
        return -1;
    }
    unsigned long long got = 0;
    /* in place: the plaintext overwrites the ciphertext */
    unsigned char *m = bin + NONCE_BYTES;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(m, &got, NULL, m, (size_t)blen - NONCE_BYTES, ad,
                                                   adlen, bin, dek) != 0) {
        amp_err_set(err, AMP_EINTERNAL,
                    "the sealed member of %.24s %.40s does not authenticate (wrong key, another "
                    "record's data, or tampered)",
                    aad->kind, aad->uid);
        return -1;
    }
    m[got] = '\0'; /* room: the tag's 16 bytes follow */
    *plain = (const char *)m;
    *plen = (size_t)got;
    return 0;
}

static void release_plain(unsigned char *stack_buf, unsigned char *heap, size_t n)
{
    sodium_memzero(heap ? heap : stack_buf, n);
    free(heap);
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

char *seal_doc_text(const unsigned char dek[SEAL_KEY_BYTES], const seal_aad *aad, const json_t *doc,
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
    buf out, plain;
    buf_init(&out);
    buf_init(&plain);
    buf_addc(&out, '{');
    buf_addc(&plain, '{');
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)doc, key, v) {
        buf *t = is_identity(arg, aad->kind, key) ? &plain : &out;
        if (t->len > 1)
            buf_addc(t, ',');
        buf_add_json_str(t, key, strlen(key));
        buf_addc(t, ':');
        buf_add_json(t, v);
    }
    if (plain.len > 1) {
        buf_addc(&plain, '}');
        char *b64 = plain.oom ? NULL : encrypt_text(dek, aad, plain.data, plain.len, err);
        if (plain.oom)
            amp_err_set(err, AMP_EINTERNAL, "cannot serialise the identity members");
        sodium_memzero(plain.data, plain.cap);
        if (!b64) {
            buf_release(&plain);
            buf_release(&out);
            return NULL;
        }
        if (out.len > 1)
            buf_addc(&out, ',');
        buf_adds(&out, "\"" SEAL_MEMBER "\":\"");
        buf_adds(&out, b64); /* base64url: nothing to escape */
        buf_addc(&out, '"');
        free(b64);
    }
    if (plain.data)
        sodium_memzero(plain.data, plain.cap);
    buf_release(&plain);
    buf_addc(&out, '}');
    char *text = buf_detach(&out, NULL);
    if (!text)
        amp_err_set(err, AMP_EINTERNAL, "out of memory");
    return text;
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
    size_t plen = 0, n = json_string_length(sealed);
    unsigned char stack_buf[STACK_MAX], *heap = NULL;
    const char *plain = NULL;
    if (decrypt_into(dek, aad, json_string_value(sealed), n, stack_buf, &heap, &plain, &plen,
                     err) != 0) {
        free(heap);
        return NULL;
    }
    json_t *inner = json_loadb(plain, plen, JSON_REJECT_DUPLICATES, NULL);
    release_plain(stack_buf, heap, n / 4 * 3 + 3);
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

/* The members of a stored object text: [*body, *body + *blen) without braces;
 * the sealed value [*b64, +*b64len) when the last member is "_sealed", else
 * *b64 NULL.  -1 with err set when the text is not an object or "_sealed"
 * appears elsewhere.
 *
 * Why a search from the end is exact on jansson's compact output: inside a JSON
 * string every '"' is escaped, so `:"` and `,"`/`{"` followed by `_sealed":`
 * can only be the key and the opening quote of a real member.  base64url has no
 * quote or backslash, so the value's opening quote is the last '"' before the
 * closing one (memrchr: no per-byte test); its characters are checked when it is
 * decoded. */
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
        size_t end = i - 1;
        const char *q = memrchr(raw, '"', end);
        size_t j = q ? (size_t)(q - raw) + 1 : 0;
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
    const char *plain = NULL;
    size_t plen = 0;
    unsigned char stack_buf[STACK_MAX], *heap = NULL;
    if (b64) {
        if (decrypt_into(dek, aad, b64, b64len, stack_buf, &heap, &plain, &plen, err) != 0) {
            free(heap);
            return -1;
        }
        if (plen < 2 || plain[0] != '{' || plain[plen - 1] != '}') {
            release_plain(stack_buf, heap, b64len / 4 * 3 + 3);
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
    if (plain)
        release_plain(stack_buf, heap, b64len / 4 * 3 + 3);
    return 0;
}
