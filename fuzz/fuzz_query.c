/* fuzz_query.c — libFuzzer target for parse_query (src/http/parse.c).
 *
 * Feeds raw bytes as a query string (without the '?') and checks what the
 * parser promises: at most PARSE_MAX_PARAMS parameters, every name and value a
 * NUL-terminated string without control characters, and on failure
 * AMP_EBADREQ (or AMP_EINTERNAL) with the parameters released and, unless
 * built with -DFUZZ_LENIENT_ERRORS, a field error and a message that are valid
 * UTF-8 (the server must be able to encode its 400 reply). */
#include "http/parse.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A clean string: NUL-terminated within the decoded storage, no control bytes. */
static void check_string(const char *s, const query_params *q, size_t cap)
{
    if (!s || s < q->storage || s >= q->storage + cap)
        __builtin_trap();
    size_t room = (size_t)(q->storage + cap - s);
    const char *nul = memchr(s, '\0', room);
    if (!nul)
        __builtin_trap();
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Copy into an exact-size heap buffer with no terminator, so ASan catches
     * any read past `size`. */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);

    amp_err err = {0};
    query_params q;
    int rc = parse_query(buf, size, &q, &err);
    if (rc == 0) {
        if (err.code != AMP_OK || err.fields)
            __builtin_trap();
        if (q.n > PARSE_MAX_PARAMS)
            __builtin_trap();
        if (q.n > 0 && (!q.items || !q.storage))
            __builtin_trap();
        /* Decoded text is never longer than the input; parse.c allocates 3x+4. */
        size_t cap = size * 3 + 4;
        for (size_t i = 0; i < q.n; i++) {
            check_string(q.items[i].name, &q, cap);
            check_string(q.items[i].value, &q, cap);
        }
        /* Names decode from non-empty pieces, so empty input gives no params. */
        if (size == 0 && q.n != 0)
            __builtin_trap();
    } else {
        if (rc != -1 || (err.code != AMP_EBADREQ && err.code != AMP_EINTERNAL))
            __builtin_trap();
        if (q.items || q.storage || q.n)
            __builtin_trap();
#ifndef FUZZ_LENIENT_ERRORS
        if (err.code == AMP_EBADREQ && json_array_size(err.fields) == 0)
            __builtin_trap();
        json_t *m = json_string(err.message);
        if (!m)
            __builtin_trap();
        json_decref(m);
#endif
    }
    query_params_release(&q);
    if (q.items || q.storage || q.n)
        __builtin_trap();
    amp_err_clear(&err);
    free(buf);
    return 0;
}
