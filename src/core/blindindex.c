/* blindindex.c — normalisation (ICU) and keyed hashing of searchable identity
 * values.  See blindindex.h. */
#include "core/blindindex.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>

/* Latin script first (Cyrillic and others transliterated), then accents off. */
static const char TRANSFORM[] = "Any-Latin; NFKD; [:Nonspacing Mark:] Remove; Latin-ASCII; NFC";

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t trans_mu = PTHREAD_MUTEX_INITIALIZER;
static UTransliterator *trans; /* not thread-safe: used under trans_mu */

static void trans_init(void)
{
    UChar id[sizeof TRANSFORM];
    UErrorCode st = U_ZERO_ERROR;
    u_uastrcpy(id, TRANSFORM);
    UParseError pe;
    trans = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, &pe, &st);
    if (U_FAILURE(st))
        trans = NULL;
}

/* Apostrophes and primes are dropped: "O'Brien" = "OBrien", and the Cyrillic
 * soft sign, transliterated to a prime, does not split "Коваль" = "Koval". */
static bool is_apostrophe(UChar c)
{
    return c == '\'' || c == '`' || c == 0x00B4 || c == 0x02B9 || c == 0x02BC || c == 0x2018 ||
           c == 0x2019;
}

/* ---- per-thread state of bulk workers ----
 * A worker of a bulk load (blind_thread_begin) has a transliterator of its own
 * (UTransliterator objects are not thread-safe, and sharing one under the mutex
 * would serialise the workers) and a memo of normalised values: names repeat a
 * lot in a large import, and normalisation is a pure function of its input, so
 * a remembered result is byte-for-byte what ICU would give again.  The memo is
 * wiped at blind_thread_end. */

#define MEMO_MAX 65536 /* entries; past it, values are normalised but not kept */

typedef struct {
    char *in;  /* input, NUL-terminated */
    char *out; /* its normal form */
    int len;
} memo_entry;

typedef struct {
    UTransliterator *trans;
    memo_entry *slots;
    size_t cap, n;
} blind_thread;

static _Thread_local blind_thread *tl;

static uint64_t memo_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static UTransliterator *open_transliterator(void)
{
    UChar id[sizeof TRANSFORM];
    UErrorCode st = U_ZERO_ERROR;
    u_uastrcpy(id, TRANSFORM);
    UParseError pe;
    UTransliterator *t = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, &pe, &st);
    if (U_FAILURE(st)) {
        if (t)
            utrans_close(t);
        return NULL;
    }
    return t;
}

int blind_thread_begin(void)
{
    if (tl)
        return 0;
    blind_thread *b = calloc(1, sizeof *b);
    if (!b)
        return -1;
    b->trans = open_transliterator();
    b->cap = 1024;
    b->slots = calloc(b->cap, sizeof *b->slots);
    if (!b->trans || !b->slots) {
        if (b->trans)
            utrans_close(b->trans);
        free(b->slots);
        free(b);
        return -1;
    }
    tl = b;
    return 0;
}

static void wipe_free(char *p)
{
    if (p) {
        sodium_memzero(p, strlen(p));
        free(p);
    }
}

void blind_thread_end(void)
{
    blind_thread *b = tl;
    if (!b)
        return;
    tl = NULL;
    for (size_t i = 0; i < b->cap; i++) {
        wipe_free(b->slots[i].in);
        wipe_free(b->slots[i].out);
    }
    free(b->slots);
    utrans_close(b->trans);
    free(b);
}

static const memo_entry *memo_get(const blind_thread *b, const char *in)
{
    for (size_t i = memo_hash(in) & (b->cap - 1);; i = (i + 1) & (b->cap - 1)) {
        if (!b->slots[i].in)
            return NULL;
        if (strcmp(b->slots[i].in, in) == 0)
            return &b->slots[i];
    }
}

static void memo_put(blind_thread *b, const char *in, const char *out, int len)
{
    if (b->n >= MEMO_MAX)
        return;
    if ((b->n + 1) * 2 > b->cap) { /* at most half full: lookups always end */
        size_t cap = b->cap * 2;
        memo_entry *g = calloc(cap, sizeof *g);
        if (!g)
            return;
        for (size_t i = 0; i < b->cap; i++) {
            if (!b->slots[i].in)
                continue;
            size_t k = memo_hash(b->slots[i].in) & (cap - 1);
            while (g[k].in)
                k = (k + 1) & (cap - 1);
            g[k] = b->slots[i];
        }
        free(b->slots);
        b->slots = g;
        b->cap = cap;
    }
    char *ci = strdup(in), *co = strdup(out);
    if (!ci || !co) {
        free(ci);
        free(co);
        return;
    }
    size_t k = memo_hash(in) & (b->cap - 1);
    while (b->slots[k].in)
        k = (k + 1) & (b->cap - 1);
    b->slots[k] = (memo_entry){ci, co, len};
    b->n++;
}

static int normalise_icu(UTransliterator *own, const char *in, size_t inlen, char *out,
                         size_t outlen)
{
    /* UTF-16 working buffer: transliteration may lengthen the text */
    int32_t cap = (int32_t)inlen * 4 + 64;
    UChar *u = malloc(sizeof *u * (size_t)cap), *f = malloc(sizeof *f * (size_t)cap);
    int rc = -1;
    if (!u || !f)
        goto out;
    UErrorCode st = U_ZERO_ERROR;
    int32_t ulen = 0;
    u_strFromUTF8(u, cap, &ulen, in, (int32_t)inlen, &st);
    if (U_FAILURE(st))
        goto out; /* invalid UTF-8 */
    int32_t limit = ulen;
    if (own) {
        utrans_transUChars(own, u, &ulen, cap, 0, &limit, &st);
    } else {
        pthread_mutex_lock(&trans_mu);
        utrans_transUChars(trans, u, &ulen, cap, 0, &limit, &st);
        pthread_mutex_unlock(&trans_mu);
    }
    if (U_FAILURE(st))
        goto out;
    int32_t flen = u_strFoldCase(f, cap, u, ulen, U_FOLD_CASE_DEFAULT, &st);
    if (U_FAILURE(st))
        goto out;
    /* whitespace runs -> one space; controls dropped; trimmed */
    int32_t o = 0;
    bool space = false;
    for (int32_t i = 0; i < flen; i++) {
        UChar c = f[i];
        if (u_isUWhiteSpace(c)) {
            space = o > 0;
            continue;
        }
        if (u_iscntrl(c) || c == 0x200B || c == 0xFEFF || is_apostrophe(c))
            continue;
        if (space)
            u[o++] = ' ';
        space = false;
        u[o++] = c;
    }
    int32_t olen = 0;
    u_strToUTF8(out, (int32_t)outlen, &olen, u, o, &st);
    if (U_FAILURE(st) || st == U_STRING_NOT_TERMINATED_WARNING || (size_t)olen >= outlen)
        goto out;
    rc = olen;
out:
    if (u)
        sodium_memzero(u, sizeof *u * (size_t)cap);
    if (f)
        sodium_memzero(f, sizeof *f * (size_t)cap);
    free(u);
    free(f);
    return rc;
}

/* The same result for pure ASCII input without going through ICU: there the
 * transform (Any-Latin, NFKD, marks removed, Latin-ASCII, NFC) changes nothing
 * and case folding only lowers A-Z, so what remains is the loop of
 * normalise_icu over bytes (ICU's white space in ASCII is TAB..CR and SPACE, its
 * controls the other C0 codes and DEL).  -2 when in is not pure ASCII. */
static int normalise_ascii(const char *in, size_t inlen, char *out, size_t outlen)
{
    for (size_t i = 0; i < inlen; i++) {
        if ((unsigned char)in[i] >= 0x80)
            return -2;
    }
    size_t o = 0;
    bool space = false;
    for (size_t i = 0; i < inlen; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == ' ' || (c >= '\t' && c <= '\r')) {
            space = o > 0;
            continue;
        }
        if (c < 0x20 || c == 0x7f || c == '\'' || c == '`')
            continue;
        if (space) {
            if (o + 1 >= outlen)
                return -1;
            out[o++] = ' ';
        }
        space = false;
        if (o + 1 >= outlen)
            return -1;
        out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    out[o] = 0;
    return (int)o;
}

/* blind_normalise; *exact says whether out holds nothing past the result and
 * its NUL (the ASCII path and the memo write just that; ICU may use more), so a
 * caller wiping out knows how much to wipe. */
static int normalise_tracked(const char *in, char *out, size_t outlen, bool *exact)
{
    *exact = false;
    size_t inlen = strlen(in);
    if (inlen > BLIND_MAX_INPUT || outlen == 0)
        return -1;
    int fast = normalise_ascii(in, inlen, out, outlen);
    if (fast != -2) {
        *exact = fast >= 0;
        return fast;
    }
    blind_thread *b = tl;
    if (b) {
        const memo_entry *m = memo_get(b, in);
        if (m) {
            if ((size_t)m->len >= outlen)
                return -1;
            memcpy(out, m->out, (size_t)m->len + 1);
            *exact = true;
            return m->len;
        }
        int n = normalise_icu(b->trans, in, inlen, out, outlen);
        if (n >= 0)
            memo_put(b, in, out, n);
        return n;
    }
    pthread_once(&once, trans_init);
    if (!trans)
        return -1;
    return normalise_icu(NULL, in, inlen, out, outlen);
}

int blind_normalise(const char *in, char *out, size_t outlen)
{
    bool exact;
    return normalise_tracked(in, out, outlen, &exact);
}

static void hash_value(const unsigned char *key, const char *group, const char *norm, size_t n,
                       char out_hex[BLIND_HEX_LEN + 1])
{
    crypto_generichash_state st;
    unsigned char h[32];
    crypto_generichash_init(&st, key, BLIND_KEY_BYTES, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)group, strlen(group));
    crypto_generichash_update(&st, (const unsigned char *)"", 1); /* the 0x00 separator */
    crypto_generichash_update(&st, (const unsigned char *)norm, n);
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(out_hex, BLIND_HEX_LEN + 1, h, BLIND_HASH_BYTES);
    sodium_memzero(h, sizeof h);
}

static bool is_id_separator(char c)
{
    return c == ' ' || c == '-' || c == '.' || c == '/';
}

/* 0 ok, 1 empty, -1 invalid: the normalised form of value for group.  *dirty:
 * how many bytes of norm may hold something of value (to be wiped). */
static int group_normalise(const char *group, const char *value, char *norm, size_t cap, int *len,
                           size_t *dirty)
{
    *dirty = cap;
    bool id = strcmp(group, BLIND_GROUP_IDNUMBER) == 0;
    if (!id && strcmp(group, BLIND_GROUP_NAME) != 0)
        return -1;
    bool exact;
    int n = normalise_tracked(value, norm, cap, &exact);
    if (n < 0)
        return -1;
    if (exact)
        *dirty = (size_t)n + 1; /* compaction below only shortens it */
    if (id) {
        int o = 0;
        for (int i = 0; i < n; i++) {
            if (!is_id_separator(norm[i]))
                norm[o++] = norm[i];
        }
        norm[o] = '\0';
        n = o;
    }
    *len = n;
    return n == 0 ? 1 : 0;
}

int blind_index(const unsigned char key[BLIND_KEY_BYTES], const char *group, const char *value,
                char out_hex[BLIND_HEX_LEN + 1])
{
    char norm[BLIND_MAX_INPUT * 4 + 64];
    int n = 0;
    size_t dirty;
    int rc = group_normalise(group, value, norm, sizeof norm, &n, &dirty);
    if (rc == 0)
        hash_value(key, group, norm, (size_t)n, out_hex);
    sodium_memzero(norm, dirty);
    return rc;
}

/* Calls emit for each value of input in group: name tokens, or the whole ID. */
typedef int (*emit_fn)(void *arg, const char *hex);

static int each_value(const unsigned char *key, const char *group, const char *input, emit_fn emit,
                      void *arg)
{
    char norm[BLIND_MAX_INPUT * 4 + 64], hex[BLIND_HEX_LEN + 1];
    int n = 0;
    size_t dirty;
    int rc = group_normalise(group, input, norm, sizeof norm, &n, &dirty);
    if (rc != 0) {
        sodium_memzero(norm, dirty);
        return rc < 0 ? -1 : 0;
    }
    int count = 0;
    if (strcmp(group, BLIND_GROUP_IDNUMBER) == 0) {
        hash_value(key, group, norm, (size_t)n, hex);
        count = emit(arg, hex) < 0 ? -1 : 1;
    } else {
        for (int i = 0; i < n && count >= 0;) {
            while (i < n && (norm[i] == ' ' || norm[i] == '-'))
                i++;
            int start = i;
            while (i < n && norm[i] != ' ' && norm[i] != '-')
                i++;
            if (i > start) {
                hash_value(key, group, norm + start, (size_t)(i - start), hex);
                int e = emit(arg, hex);
                count = e < 0 ? -1 : count + e;
            }
        }
    }
    sodium_memzero(norm, dirty);
    return count;
}

static int emit_term(void *arg, const char *hex)
{
    json_t *arr = arg;
    size_t i;
    json_t *v;
    json_array_foreach (arr, i, v) {
        if (strcmp(json_string_value(v), hex) == 0)
            return 0;
    }
    json_array_append_new(arr, json_string(hex));
    return 1;
}

static int add_group(const unsigned char *key, const json_t *doc, const char *const *fields,
                     const char *group, const char *term, json_t *terms)
{
    json_t *arr = json_object_get(terms, term);
    bool created = false;
    if (!arr) {
        arr = json_array();
        created = true;
    }
    int added = 0;
    for (const char *const *f = fields; *f && added >= 0; f++) {
        const char *v = json_string_value(json_object_get(doc, *f));
        if (v) {
            int n = each_value(key, group, v, emit_term, arr);
            added = n < 0 ? -1 : added + n;
        }
    }
    if (created && json_array_size(arr) > 0)
        json_object_set_new(terms, term, arr);
    else if (created)
        json_decref(arr);
    return added;
}

int blind_terms_for_case(const unsigned char key[BLIND_KEY_BYTES], const json_t *doc, json_t *terms)
{
    static const char *const names[] = {"prs_FirstName", "prs_MiddleName", "prs_SecondName", NULL};
    static const char *const ids[] = {"prs_IdentityNumber", NULL};
    if (!json_is_object(terms) || !json_is_object(doc))
        return -1;
    int a = add_group(key, doc, names, BLIND_GROUP_NAME, BLIND_TERM_NAME, terms);
    int b = a < 0 ? -1 : add_group(key, doc, ids, BLIND_GROUP_IDNUMBER, BLIND_TERM_IDNUMBER, terms);
    return a < 0 || b < 0 ? -1 : a + b;
}

typedef struct {
    char (*values)[BLIND_HEX_LEN + 1];
    int n, max;
} query_acc;

static int emit_query(void *arg, const char *hex)
{
    query_acc *q = arg;
    for (int i = 0; i < q->n; i++) {
        if (strcmp(q->values[i], hex) == 0)
            return 0;
    }
    if (q->n == q->max)
        return -1;
    memcpy(q->values[q->n++], hex, BLIND_HEX_LEN + 1);
    return 1;
}

int blind_query_values(const unsigned char key[BLIND_KEY_BYTES], const char *group,
                       const char *input, char (*values)[BLIND_HEX_LEN + 1], int max)
{
    query_acc q = {.values = values, .max = max};
    int rc = each_value(key, group, input, emit_query, &q);
    return rc < 0 ? -1 : q.n;
}
