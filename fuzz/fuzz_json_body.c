/* fuzz_json_body.c — libFuzzer target for parse_json_body (src/http/parse.c).
 *
 * Feeds raw bytes as a request body.  The parser must never crash, and must
 * either return a document (and leave err untouched) or return NULL with
 * err->code AMP_EBADREQ and at least one well-formed field error, with a
 * message the server can encode as JSON (valid UTF-8).  Build with
 * -DFUZZ_LENIENT_ERRORS to check only memory safety and the return contract. */
#include "http/parse.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    amp_err err = {0};
    json_t *doc = parse_json_body((const char *)data, size, PARSE_MAX_DEPTH, &err);
    if (doc) {
        if (err.code != AMP_OK || err.fields)
            __builtin_trap();
        /* Round trip: what was accepted must serialise. */
        char *s = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s)
            __builtin_trap();
        free(s);
        json_decref(doc);
    } else {
        if (err.code != AMP_EBADREQ)
            __builtin_trap();
#ifndef FUZZ_LENIENT_ERRORS
        /* The reply carries err.message and err.fields: both must be there and
         * encodable, or the client gets a 500 instead of a 400. */
        if (!json_is_array(err.fields) || json_array_size(err.fields) == 0)
            __builtin_trap();
        json_t *m = json_string(err.message);
        if (!m)
            __builtin_trap();
        json_decref(m);
#endif
        size_t i;
        json_t *e;
        json_array_foreach (err.fields, i, e) {
            if (!json_is_string(json_object_get(e, "field")) ||
                !json_is_string(json_object_get(e, "rule")) ||
                !json_is_string(json_object_get(e, "message")))
                __builtin_trap();
        }
    }
    amp_err_clear(&err);
    return 0;
}
