/* parse.h — the parsers that see raw client bytes: JSON bodies and query strings.
 * Both are bounded, never crash on any input, and report failures as amp_err
 * field errors naming the rule.  Each has a libFuzzer target under fuzz/. */
#ifndef AMPARO_PARSE_H
#define AMPARO_PARSE_H

#include "core/core.h"
#include "core/result.h"

#include <jansson.h>
#include <stddef.h>

#define PARSE_MAX_DEPTH 32   /* JSON nesting */
#define PARSE_MAX_QUERY 4096 /* bytes of a query string */
#define PARSE_MAX_PARAMS 64  /* parameters in a query string */

/** Parses a JSON body.  Refuses (NULL, err->code AMP_EBADREQ, a field error on
 *  "body") empty bodies, invalid JSON (the message gives line and column),
 *  duplicate keys, NUL characters, and nesting deeper than max_depth. */
json_t *parse_json_body(const char *buf, size_t len, int max_depth, amp_err *err);

/** Query parameters, decoded.  Owns its strings. */
typedef struct {
    list_param *items;
    size_t n;
    char *storage;
} query_params;

/** Parses "a=1&b=x%20y" (without the '?').  '+' is a space; percent escapes must
 *  be two hex digits and must not decode to control characters.  Empty pieces
 *  ("a=1&&b=2") are skipped.  Returns 0, or -1 with err set (AMP_EBADREQ). */
int parse_query(const char *qs, size_t len, query_params *out, amp_err *err);

void query_params_release(query_params *q);

#endif
