/* fuzz_seal.c — libFuzzer target for the sealing of identity members
 * (src/core/seal.c): open_doc and the text fast path (seal_open_text,
 * seal_strip_text) on arbitrary stored text, and seal/open round trips.
 *
 * Input layout: byte 0 picks the mode (% 3), byte 1 a position and byte 2 a
 * value for mode 2; the rest is text.  Identity fields are the embedded
 * catalogue's; the kind is "case" or, for an odd byte 1, "perpetrator".
 *   mode 0: the text as a stored document.  Beyond "no crash": when the text is
 *           jansson's own compact dump of an object and both paths succeed, the
 *           text path (braces added) equals open_doc + dump byte for byte (and
 *           likewise for stripping).
 *   mode 1: the text as a document to seal.  Sealing a JSON object without
 *           "_sealed" succeeds; opening gives back an equal document; the text
 *           paths succeed (unless a nested object also holds a "_sealed" key)
 *           and equal the JSON paths.
 *   mode 2: as mode 1, then one byte of the stored text replaced: no crash, and
 *           the equality of mode 0 wherever both paths succeed. */
#include "core/catalogue.h"
#include "core/seal.h"
#include "util/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static catalogue *cat;
static const unsigned char dek[SEAL_KEY_BYTES] = {
    0x41, 0x6d, 0x70, 0x61, 0x72, 0x6f, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x6b, 0x65, 0x79, 0x01,
    0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11};
static const char uid[] = "0190a1b2-0000-7000-8000-00000000f022";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char msg[256];
    cat = catalogue_load_embedded(msg, sizeof msg);
    if (!cat) {
        fprintf(stderr, "fuzz_seal: cannot load the embedded catalogue: %s\n", msg);
        abort();
    }
    return 0;
}

/* The text path's result as a whole object: "{" + members without the leading
 * comma + "}". */
static char *wrap_members(buf *b)
{
    char *m = buf_detach(b, NULL);
    const char *inner = m ? m : "";
    if (*inner == ',')
        inner++;
    size_t n = strlen(inner);
    char *out = malloc(n + 3);
    if (!out)
        abort();
    out[0] = '{';
    memcpy(out + 1, inner, n);
    out[n + 1] = '}';
    out[n + 2] = '\0';
    free(m);
    return out;
}

static void check_same(const char *what, const char *text, const char *want)
{
    if (strcmp(text, want) != 0) {
        fprintf(stderr, "fuzz_seal: %s differs\n text: %s\n json: %s\n", what, text, want);
        abort();
    }
}

/* Opens stored text both ways; when `require` the text paths must succeed. */
static void open_both(const char *raw, const seal_aad *aad, bool require)
{
    amp_err err = {0};
    buf b;
    buf_init(&b);
    int trc = seal_open_text(dek, aad, raw, &b, &err);
    char *text_open = trc == 0 ? wrap_members(&b) : NULL;
    buf_release(&b);
    buf_init(&b);
    int src = seal_strip_text(raw, &b, &err);
    char *text_strip = src == 0 ? wrap_members(&b) : NULL;
    buf_release(&b);
    if (require && (trc != 0 || src != 0)) {
        fprintf(stderr, "fuzz_seal: text path refused a sealed document: %s\n", err.message);
        abort();
    }

    json_t *parsed = json_loads(raw, JSON_REJECT_DUPLICATES, NULL);
    char *canon = parsed ? json_dumps(parsed, JSON_COMPACT) : NULL;
    bool canonical = json_is_object(parsed) && canon && strcmp(canon, raw) == 0;
    if (canonical) {
        json_t *opened = open_doc(dek, aad, parsed, &err);
        if (opened && text_open) {
            char *want = json_dumps(opened, JSON_COMPACT);
            check_same("seal_open_text vs open_doc", text_open, want);
            free(want);
        }
        if (require && !opened) {
            fprintf(stderr, "fuzz_seal: open_doc refused a sealed document: %s\n", err.message);
            abort();
        }
        json_decref(opened);
        json_t *stripped = strip_sealed(parsed);
        if (stripped && text_strip) {
            char *want = json_dumps(stripped, JSON_COMPACT);
            check_same("seal_strip_text vs strip_sealed", text_strip, want);
            free(want);
        }
        json_decref(stripped);
    } else if (json_is_object(parsed)) {
        json_decref(open_doc(dek, aad, parsed, &err)); /* no crash */
    }
    free(canon);
    json_decref(parsed);
    free(text_open);
    free(text_strip);
    amp_err_clear(&err);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    int mode = data[0] % 3;
    seal_aad aad = {data[1] & 1 ? "perpetrator" : "case", uid};
    char *text = malloc(size - 3 + 1);
    if (!text)
        abort();
    memcpy(text, data + 3, size - 3);
    text[size - 3] = '\0';

    if (mode == 0) {
        open_both(text, &aad, false);
        free(text);
        return 0;
    }
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return 0;
    }
    amp_err err = {0};
    json_t *sealed = seal_doc(dek, &aad, doc, seal_catalogue_identity, cat, &err);
    if (!sealed) {
        if (!json_object_get(doc, SEAL_MEMBER)) {
            fprintf(stderr, "fuzz_seal: seal_doc refused an object: %s\n", err.message);
            abort();
        }
        amp_err_clear(&err);
        json_decref(doc);
        return 0;
    }
    json_t *back = open_doc(dek, &aad, sealed, &err);
    if (!back || !json_equal(back, doc)) {
        fprintf(stderr, "fuzz_seal: open_doc(seal_doc(doc)) != doc (%s)\n", err.message);
        abort();
    }
    json_decref(back);
    char *raw = json_dumps(sealed, JSON_COMPACT);
    if (!raw)
        abort();
    if (mode == 1) {
        /* nested objects holding "_sealed" are refused by the text path */
        open_both(raw, &aad,
                  count(raw, "\"" SEAL_MEMBER "\":") == (seal_is_sealed(sealed) ? 1 : 0));
    } else {
        size_t n = strlen(raw);
        raw[data[1] % n] = (char)(data[2] ? data[2] : 1);
        open_both(raw, &aad, false);
    }
    free(raw);
    json_decref(sealed);
    json_decref(doc);
    return 0;
}
