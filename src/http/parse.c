/* parse.c — bounded parsers for JSON bodies and query strings. */
#include "http/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deepest nesting of arrays and objects, counted outside strings; stops early
 * once max is exceeded. */
static int json_depth(const char *buf, size_t len, int max)
{
    int depth = 0, deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char ch = buf[i];
        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = false;
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '[' || ch == '{') {
            if (++depth > deepest && (deepest = depth) > max)
                return deepest;
        } else if (ch == ']' || ch == '}') {
            depth--;
        }
    }
    return deepest;
}

json_t *parse_json_body(const char *buf, size_t len, int max_depth, amp_err *err)
{
    char msg[256];
    if (!buf || len == 0) {
        amp_err_field(err, "body", "required", "the request body is empty; send a JSON object");
        amp_err_set(err, AMP_EBADREQ, "the request body is empty");
        return NULL;
    }
    if (json_depth(buf, len, max_depth) > max_depth) {
        snprintf(msg, sizeof msg, "JSON is nested deeper than %d levels", max_depth);
        amp_err_field(err, "body", "depth", msg);
        amp_err_set(err, AMP_EBADREQ, "%s", msg);
        return NULL;
    }
    json_error_t je;
    json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        snprintf(msg, sizeof msg, "malformed JSON at line %d, column %d: %s", je.line, je.column,
                 je.text);
        amp_err_field(err, "body", "json", msg);
        amp_err_set(err, AMP_EBADREQ, "%s", msg);
        return NULL;
    }
    return doc;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes src[0..n) into dst (NUL-terminated); -1 on a bad escape or a control
 * character. */
static int decode(const char *src, size_t n, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)src[i];
        if (ch == '+') {
            ch = ' ';
        } else if (ch == '%') {
            if (i + 2 >= n) /* fewer than two characters left */
                return -1;
            int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            ch = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if (ch < 0x20 || ch == 0x7f)
            return -1;
        dst[o++] = (char)ch;
    }
    dst[o] = '\0';
    return 0;
}

static int query_fail(amp_err *err, const char *field, const char *rule, const char *msg)
{
    amp_err_field(err, field, rule, msg);
    amp_err_set(err, AMP_EBADREQ, "%s", msg);
    return -1;
}

int parse_query(const char *qs, size_t len, query_params *out, amp_err *err)
{
    memset(out, 0, sizeof *out);
    if (len > PARSE_MAX_QUERY)
        return query_fail(err, "query", "max_length", "the query string is longer than 4096 bytes");
    if (len == 0)
        return 0;
    out->storage = malloc(len * 3 + 4);
    out->items = calloc(PARSE_MAX_PARAMS, sizeof *out->items);
    if (!out->storage || !out->items) {
        query_params_release(out);
        amp_err_set(err, AMP_EINTERNAL, "out of memory");
        return -1;
    }
    char *w = out->storage;
    size_t start = 0;
    while (start <= len) {
        size_t end = start;
        while (end < len && qs[end] != '&')
            end++;
        if (end > start) {
            if (out->n == PARSE_MAX_PARAMS) {
                query_params_release(out);
                return query_fail(err, "query", "max_items", "more than 64 query parameters");
            }
            size_t eq = start;
            while (eq < end && qs[eq] != '=')
                eq++;
            char *name = w;
            if (decode(qs + start, eq - start, name) < 0) {
                query_params_release(out);
                return query_fail(err, "query", "encoding",
                                  "a query parameter name is not properly percent-encoded");
            }
            w += strlen(name) + 1;
            char *value = w;
            size_t vstart = eq < end ? eq + 1 : end;
            if (decode(qs + vstart, end - vstart, value) < 0) {
                char msg[160];
                snprintf(msg, sizeof msg, "the value of '%.40s' is not properly percent-encoded",
                         name);
                query_params_release(out);
                return query_fail(err, "query", "encoding", msg);
            }
            w += strlen(value) + 1;
            out->items[out->n].name = name;
            out->items[out->n].value = value;
            out->n++;
        }
        start = end + 1;
    }
    return 0;
}

void query_params_release(query_params *q)
{
    free(q->items);
    free(q->storage);
    memset(q, 0, sizeof *q);
}
