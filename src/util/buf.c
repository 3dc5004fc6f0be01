/* buf.c — growable byte buffer. */
#include "util/buf.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf *b)
{
    memset(b, 0, sizeof *b);
}

void buf_release(buf *b)
{
    free(b->data);
    buf_init(b);
}

static bool grow(buf *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void buf_add(buf *b, const char *s, size_t n)
{
    if (!grow(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_adds(buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_addc(buf *b, char c)
{
    buf_add(b, &c, 1);
}

void buf_add_json_string(buf *b, const char *s)
{
    buf_addc(b, '"');
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *esc = NULL;
        char tmp[8];
        switch (*p) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (*p < 0x20) {
                snprintf(tmp, sizeof tmp, "\\u%04x", *p);
                esc = tmp;
            }
        }
        if (esc) {
            buf_add(b, run, (size_t)((const char *)p - run));
            buf_adds(b, esc);
            run = (const char *)p + 1;
        }
    }
    buf_adds(b, run);
    buf_addc(b, '"');
}

/* A string as jansson dumps it without flags: '"' '\\' and the control
 * characters escaped (\b \f \n \r \t, others \u00XX in upper case), every
 * other byte as is (jansson's strings hold valid UTF-8). */
void buf_add_json_str(buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    buf_addc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_add(b, s + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 0};
        size_t k = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            k = 6;
        }
        buf_add(b, esc, k);
    }
    buf_add(b, s + run, n - run);
    buf_addc(b, '"');
}

void buf_add_json(buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING: buf_add_json_str(b, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: buf_add_int(b, (long long)json_integer_value(v)); break;
    case JSON_TRUE: buf_add(b, "true", 4); break;
    case JSON_FALSE: buf_add(b, "false", 5); break;
    case JSON_NULL: buf_add(b, "null", 4); break;
    case JSON_ARRAY: {
        buf_addc(b, '[');
        size_t i;
        const json_t *e;
        json_array_foreach (v, i, e) {
            if (i)
                buf_addc(b, ',');
            buf_add_json(b, e);
        }
        buf_addc(b, ']');
        break;
    }
    case JSON_OBJECT: {
        buf_addc(b, '{');
        bool first = true;
        const char *key;
        const json_t *m;
        json_object_foreach ((json_t *)v, key, m) {
            if (!first)
                buf_addc(b, ',');
            first = false;
            buf_add_json_str(b, key, strlen(key));
            buf_addc(b, ':');
            buf_add_json(b, m);
        }
        buf_addc(b, '}');
        break;
    }
    default: { /* reals: jansson's own formatting */
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (t)
            buf_adds(b, t);
        else
            b->oom = true;
        free(t);
    }
    }
}

void buf_add_int(buf *b, long long v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", v);
    buf_add(b, tmp, (size_t)n);
}

char *buf_detach(buf *b, size_t *len)
{
    if (b->oom) {
        buf_release(b);
        return NULL;
    }
    if (!b->data)
        buf_add(b, "", 0);
    char *d = b->data;
    if (len)
        *len = b->len;
    buf_init(b);
    return d;
}
