/* result.c — the amp_err helpers. */
#include "core/result.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void amp_err_clear(amp_err *e)
{
    if (!e)
        return;
    json_decref(e->fields);
    e->fields = NULL;
    e->code = AMP_OK;
    e->message[0] = '\0';
    e->name[0] = '\0';
    e->retry_after = 0;
}

amp_code amp_err_set(amp_err *e, amp_code code, const char *fmt, ...)
{
    if (!e)
        return code;
    e->code = code;
    char raw[sizeof e->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    utf8_sanitize(raw, e->message, sizeof e->message);
    return code;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms */
        if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    }
    return n;
}

size_t utf8_sanitize(const char *in, char *out, size_t n)
{
    const unsigned char *p = (const unsigned char *)(in ? in : "");
    size_t o = 0;
    if (n == 0)
        return 0;
    while (*p) {
        size_t len = utf8_seq(p);
        if (len == 0) {
            if (o + 1 >= n)
                break;
            out[o++] = '?';
            p++;
            continue;
        }
        if (o + len >= n)
            break; /* cut at a character boundary */
        memcpy(out + o, p, len);
        o += len;
        p += len;
    }
    out[o] = '\0';
    return o;
}

void amp_err_field(amp_err *e, const char *field, const char *rule, const char *message)
{
    char f[256], r[64], m[600];
    utf8_sanitize(field, f, sizeof f);
    utf8_sanitize(rule, r, sizeof r);
    utf8_sanitize(message, m, sizeof m);
    if (!e->fields)
        e->fields = json_array();
    json_t *entry = json_pack("{s:s, s:s, s:s}", "field", f, "rule", r, "message", m);
    if (!entry) /* only when out of memory: never lose the fact of a failure */
        entry = json_pack("{s:s, s:s, s:s}", "field", "?", "rule", "invalid", "message", "?");
    json_array_append_new(e->fields, entry);
}

const char *amp_code_name(amp_code code)
{
    switch (code) {
    case AMP_OK: return "ok";
    case AMP_EBADREQ: return "bad_request";
    case AMP_EINVALID: return "validation_failed";
    case AMP_ENOTFOUND: return "not_found";
    case AMP_ECONFLICT: return "version_conflict";
    case AMP_EPRECOND: return "precondition_failed";
    case AMP_ENEEDVER: return "precondition_required";
    case AMP_ETOOBIG: return "too_large";
    case AMP_EUNAUTH: return "unauthenticated";
    case AMP_EFORBIDDEN: return "forbidden";
    case AMP_ETHROTTLED: return "too_many_requests";
    case AMP_ESTATE: return "invalid_state";
    case AMP_EINTERNAL: return "internal_error";
    }
    return "internal_error";
}
