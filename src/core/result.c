/* result.c — the amp_err helpers. */
#include "core/result.h"

#include <stdarg.h>
#include <stdio.h>

void amp_err_clear(amp_err *e)
{
    if (!e)
        return;
    json_decref(e->fields);
    e->fields = NULL;
    e->code = AMP_OK;
    e->message[0] = '\0';
}

amp_code amp_err_set(amp_err *e, amp_code code, const char *fmt, ...)
{
    if (!e)
        return code;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return code;
}

void amp_err_field(amp_err *e, const char *field, const char *rule, const char *message)
{
    if (!e->fields)
        e->fields = json_array();
    json_array_append_new(e->fields, json_pack("{s:s, s:s, s:s}", "field", field, "rule", rule,
                                               "message", message));
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
    case AMP_EINTERNAL: return "internal_error";
    }
    return "internal_error";
}
