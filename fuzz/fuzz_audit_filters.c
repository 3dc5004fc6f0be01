/* fuzz_audit_filters.c — libFuzzer target for the audit trail's client-facing
 * parsers (src/core/audit_text.c): audit_filters_parse (GET /api/v1/audit and
 * `amparo audit list`), audit_verify_params_parse and audit_checkpoint_parse
 * (`expect_head`, `--expect-head`).
 *
 * Byte 0 picks the message language (& 3: en, es, fr, uk); the rest is a query
 * string, decoded by parse_query as the server does, then given to both
 * parameter parsers; the same bytes (as a C string) also go to
 * audit_checkpoint_parse.  Checks what the parsers promise: on success the
 * limit is 1..500, the offset >= 0, the time bounds are normalised
 * "YYYY-MM-DDTHH:MM:SS.mmmZ", the filters serialise; on failure AMP_EBADREQ
 * with at most one field error per parameter and messages that are valid
 * UTF-8 (the server must be able to encode its 400); a parsed checkpoint has
 * seq >= 1 and 64 lower-case hex digits.  audit_safe_text's output is valid
 * UTF-8 without control bytes.
 *
 * Build and run (as tests/fuzz-smoke.sh does for the other targets):
 *   clang -std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined \
 *     $(pkg-config --cflags jansson) fuzz/fuzz_audit_filters.c src/core/audit_text.c \
 *     src/http/parse.c src/core/validate.c src/core/catalogue.c src/core/result.c \
 *     build-fuzz/embed.o -o build-fuzz/fuzz_audit_filters $(pkg-config --libs jansson) -lm
 *   build-fuzz/fuzz_audit_filters -dict=fuzz/audit_filters.dict fuzz/corpus/audit_filters */
#include "core/audit.h"
#include "http/parse.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_bound(const char *b)
{
    if (!b)
        return;
    if (strlen(b) != 24 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' ||
        b[16] != ':' || b[19] != '.' || b[23] != 'Z')
        __builtin_trap();
}

static void check_errors(const amp_err *err, size_t nparams)
{
    if (err->code != AMP_EBADREQ && err->code != AMP_EINTERNAL)
        __builtin_trap();
#ifndef FUZZ_LENIENT_ERRORS
    if (err->code == AMP_EBADREQ &&
        (json_array_size(err->fields) == 0 || json_array_size(err->fields) > nparams))
        __builtin_trap();
    json_t *m = json_string(err->message);
    if (!m)
        __builtin_trap();
    json_decref(m);
    size_t i;
    json_t *f;
    json_array_foreach (err->fields, i, f) {
        if (!json_is_string(json_object_get(f, "field")) ||
            !json_is_string(json_object_get(f, "rule")) ||
            !json_is_string(json_object_get(f, "message")))
            __builtin_trap();
    }
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const langs[] = {"en", "es", "fr", "uk"};
    const char *lang = langs[size ? data[0] & 3 : 0];
    const uint8_t *qs = size ? data + 1 : data;
    size_t qn = size ? size - 1 : 0;
    char *buf = malloc(qn + 1);
    if (!buf)
        return 0;
    if (qn)
        memcpy(buf, qs, qn);
    buf[qn] = '\0';

    /* the raw text as a recorded head, and as text to store */
    audit_checkpoint cp;
    if (audit_checkpoint_parse(buf, &cp) == 0) {
        if (cp.seq < 1 || strlen(cp.hash) != 64 || strspn(cp.hash, "0123456789abcdef") != 64)
            __builtin_trap();
    }
    char safe[AUDIT_MAX_OBJECT_ID];
    audit_safe_text(buf, safe, sizeof safe);
    json_t *sj = json_string(safe);
    if (!sj)
        __builtin_trap();
    json_decref(sj);
    for (const unsigned char *p = (const unsigned char *)safe; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            __builtin_trap();
    }

    amp_err err = {0};
    query_params q;
    if (parse_query(buf, qn, &q, &err) == 0) {
        audit_filters f;
        amp_code code = audit_filters_parse(q.items, q.n, lang, &f, &err);
        if (code == AMP_OK) {
            if (err.fields || f.q.limit < 1 || f.q.limit > AUDIT_MAX_LIMIT || f.q.offset < 0)
                __builtin_trap();
            check_bound(f.q.at_from);
            check_bound(f.q.at_to);
            char *text = json_dumps(f.filters, JSON_COMPACT);
            if (!text)
                __builtin_trap();
            free(text);
            audit_filters_release(&f);
        } else {
            check_errors(&err, q.n);
        }
        amp_err_clear(&err);
        audit_checkpoint expect;
        bool have = false;
        code = audit_verify_params_parse(q.items, q.n, lang, &expect, &have, &err);
        if (code == AMP_OK) {
            if (err.fields)
                __builtin_trap();
            if (have && (expect.seq < 1 || strlen(expect.hash) != 64))
                __builtin_trap();
        } else {
            check_errors(&err, q.n);
            if (have)
                __builtin_trap();
        }
        query_params_release(&q);
    }
    amp_err_clear(&err);
    free(buf);
    return 0;
}
