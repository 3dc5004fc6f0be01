/* audit_text.c — the audit trail's rules for text: what is stored (made safe)
 * and what clients send (list filters, recorded heads).  Pure functions, no
 * store: the fuzz target fuzz/fuzz_audit_filters.c links only this file and
 * validate.c. */
#include "core/audit.h"
#include "core/validate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void audit_safe_text(const char *s, char *out, size_t n)
{
    utf8_sanitize(s ? s : "", out, n);
    for (char *q = out; *q; q++) {
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            *q = '?';
    }
}

static bool is_hex64(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
            return false;
    }
    return n == 64;
}

int audit_checkpoint_parse(const char *text, audit_checkpoint *out)
{
    if (!text)
        return -1;
    const char *colon = strchr(text, ':');
    if (!colon || colon == text || colon - text > 18)
        return -1;
    int64_t seq = 0;
    for (const char *q = text; q < colon; q++) {
        if (*q < '0' || *q > '9')
            return -1;
        seq = seq * 10 + (*q - '0');
    }
    if (seq < 1 || !is_hex64(colon + 1))
        return -1;
    out->seq = seq;
    memcpy(out->hash, colon + 1, 65);
    return 0;
}

/* Messages of the audit filters' own rules, en/es/fr/uk ({f}: the parameter). */
static const struct {
    const char *key, *text[4];
} messages[] = {
    {"text",
     {"{f} must be 1 to {d} characters without control characters",
      "{f} debe tener de 1 a {d} caracteres sin caracteres de control",
      "{f} doit compter de 1 à {d} caractères, sans caractère de contrôle",
      "{f} має містити від 1 до {d} символів без керівних символів"}},
    {"name",
     {"{f} must be 1 to {d} of: lower-case letters, digits, '.', '_', '-'",
      "{f} debe tener de 1 a {d} de: minúsculas, dígitos, '.', '_', '-'",
      "{f} doit compter de 1 à {d} de : minuscules, chiffres, '.', '_', '-'",
      "{f} має містити від 1 до {d} з: малих літер, цифр, '.', '_', '-'"}},
    {"timestamp",
     {"{f} must be a date YYYY-MM-DD or a UTC time YYYY-MM-DDTHH:MM[:SS[.mmm]]Z",
      "{f} debe ser una fecha AAAA-MM-DD o una hora UTC AAAA-MM-DDTHH:MM[:SS[.mmm]]Z",
      "{f} doit être une date AAAA-MM-JJ ou une heure UTC AAAA-MM-JJTHH:MM[:SS[.mmm]]Z",
      "{f} має бути датою РРРР-ММ-ДД або часом UTC РРРР-ММ-ДДTГГ:ХХ[:СС[.мс]]Z"}},
    {"order",
     {"{f} must be asc or desc", "{f} debe ser asc o desc", "{f} doit être asc ou desc",
      "{f} має бути asc або desc"}},
    {"checkpoint",
     {"{f} must be SEQ:HASH as printed by 'amparo audit head'",
      "{f} debe ser SEQ:HASH tal como lo muestra 'amparo audit head'",
      "{f} doit être SEQ:HASH tel qu'affiché par 'amparo audit head'",
      "{f} має бути SEQ:HASH, як виводить 'amparo audit head'"}},
};

static int lang_index(const char *lang)
{
    static const char *const langs[] = {"en", "es", "fr", "uk"};
    for (int i = 0; i < 4; i++) {
        if (lang && strcmp(lang, langs[i]) == 0)
            return i;
    }
    return 0;
}

/* Renders one of the messages above, replacing {f} and {d}. */
static void render(const char *lang, const char *key, const char *field, const char *detail,
                   char *out, size_t n)
{
    const char *tpl = key;
    for (size_t i = 0; i < sizeof messages / sizeof *messages; i++) {
        if (strcmp(messages[i].key, key) == 0)
            tpl = messages[i].text[lang_index(lang)];
    }
    size_t o = 0;
    for (const char *s = tpl; *s && o + 1 < n;) {
        const char *sub = strncmp(s, "{f}", 3) == 0   ? field
                          : strncmp(s, "{d}", 3) == 0 ? detail
                                                      : NULL;
        if (sub) {
            o += (size_t)snprintf(out + o, n - o, "%s", sub);
            if (o >= n)
                o = n - 1;
            s += 3;
        } else {
            out[o++] = *s++;
        }
    }
    out[o] = '\0';
}

static void fail_own(amp_err *err, const char *lang, const char *field, const char *rule,
                     const char *key, const char *detail)
{
    char msg[300];
    render(lang, key, field, detail, msg, sizeof msg);
    amp_err_field(err, field, rule, msg);
}

static void fail_list(amp_err *err, const char *lang, const char *field, const char *rule,
                      const char *key, const char *detail)
{
    char msg[300];
    validate_render(lang, key, field, detail, msg, sizeof msg);
    amp_err_field(err, field, rule, msg);
}

static bool text_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n >= max)
        return false;
    char buf[AUDIT_MAX_OBJECT_ID + 8];
    audit_safe_text(s, buf, sizeof buf);
    return strcmp(buf, s) == 0; /* valid UTF-8, no control characters */
}

static bool name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n >= max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
              ch == '-'))
            return false;
    }
    return true;
}

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

/* Normalises a from/to bound to the stored form "YYYY-MM-DDTHH:MM:SS.mmmZ":
 * a date stands for its first (from) or last (to) millisecond. */
static bool parse_bound(const char *s, bool upper, char out[32])
{
    size_t n = strlen(s);
    char date[11];
    if (n < 10)
        return false;
    memcpy(date, s, 10);
    date[10] = '\0';
    if (!validate_date(date))
        return false;
    if (n == 10) {
        snprintf(out, 32, "%sT%s", date, upper ? "23:59:59.999Z" : "00:00:00.000Z");
        return true;
    }
    /* THH:MM, then optional :SS and .mmm, then Z */
    const char *t = s + 10;
    if (strlen(t) < 7 || t[0] != 'T' || !digits(t + 1, 2) || t[3] != ':' || !digits(t + 4, 2))
        return false;
    int hh = (t[1] - '0') * 10 + (t[2] - '0'), mm = (t[4] - '0') * 10 + (t[5] - '0');
    int ss = upper ? 59 : 0, ms = upper ? 999 : 0;
    const char *q = t + 6;
    if (*q == ':') {
        if (!digits(q + 1, 2))
            return false;
        ss = (q[1] - '0') * 10 + (q[2] - '0');
        ms = upper ? 999 : 0;
        q += 3;
        if (*q == '.') {
            if (!digits(q + 1, 3))
                return false;
            ms = (q[1] - '0') * 100 + (q[2] - '0') * 10 + (q[3] - '0');
            q += 4;
        }
    }
    if (strcmp(q, "Z") != 0 || hh > 23 || mm > 59 || ss > 59)
        return false;
    snprintf(out, 32, "%.10sT%02u:%02u:%02u.%03uZ", date, (unsigned)hh % 100u, (unsigned)mm % 100u,
             (unsigned)ss % 100u, (unsigned)ms % 1000u);
    return true;
}

static bool parse_int(const char *s, long min, long max, long *out)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < min || v > max)
        return false;
    *out = v;
    return true;
}

void audit_filters_release(audit_filters *f)
{
    if (f) {
        json_decref(f->filters);
        f->filters = NULL;
    }
}

amp_code audit_filters_parse(const list_param *params, size_t nparams, const char *lang,
                             audit_filters *out, amp_err *err)
{
    memset(out, 0, sizeof *out);
    store_audit_query *q = &out->q;
    q->limit = AUDIT_DEFAULT_LIMIT;
    out->filters = json_object();
    if (!out->filters)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    for (size_t i = 0; i < nparams; i++) {
        const char *name = params[i].name ? params[i].name : "";
        const char *value = params[i].value ? params[i].value : "";
        long n;
        bool used = true;
        if (strcmp(name, "actor") == 0) {
            if (!text_ok(value, AUDIT_MAX_ACTOR))
                fail_own(err, lang, name, "text", "text", "71");
            else
                q->actor = value;
        } else if (strcmp(name, "action") == 0) {
            if (!name_ok(value, AUDIT_MAX_ACTION))
                fail_own(err, lang, name, "format", "name", "63");
            else
                q->action = value;
        } else if (strcmp(name, "object_type") == 0) {
            if (!name_ok(value, AUDIT_MAX_OBJECT_TYPE))
                fail_own(err, lang, name, "format", "name", "31");
            else
                q->object_type = value;
        } else if (strcmp(name, "object_id") == 0) {
            if (!text_ok(value, AUDIT_MAX_OBJECT_ID))
                fail_own(err, lang, name, "text", "text", "127");
            else
                q->object_id = value;
        } else if (strcmp(name, "org") == 0) {
            if (!validate_identifier(value))
                fail_list(err, lang, name, "lookup", "list.owner", NULL);
            else
                q->org = value;
        } else if (strcmp(name, "from") == 0) {
            if (!parse_bound(value, false, out->from))
                fail_own(err, lang, name, "date", "timestamp", NULL);
            else
                q->at_from = out->from;
        } else if (strcmp(name, "to") == 0) {
            if (!parse_bound(value, true, out->to))
                fail_own(err, lang, name, "date", "timestamp", NULL);
            else
                q->at_to = out->to;
        } else if (strcmp(name, "order") == 0) {
            if (strcmp(value, "asc") != 0 && strcmp(value, "desc") != 0)
                fail_own(err, lang, name, "picklist", "order", NULL);
            else
                q->ascending = value[0] == 'a';
            used = false;
        } else if (strcmp(name, "limit") == 0) {
            if (!parse_int(value, 1, AUDIT_MAX_LIMIT, &n))
                fail_list(err, lang, name, "max", "list.limit", "500");
            else
                q->limit = (int)n;
            used = false;
        } else if (strcmp(name, "offset") == 0) {
            if (!parse_int(value, 0, 100000000, &n))
                fail_list(err, lang, name, "min", "list.offset", NULL);
            else
                q->offset = (int)n;
            used = false;
        } else {
            char shown[64];
            audit_safe_text(name, shown, sizeof shown);
            fail_list(err, lang, shown, "unknown_parameter", "list.unknown", NULL);
            used = false;
        }
        if (used && !json_array_size(err->fields))
            json_object_set_new(out->filters, name, json_string(value));
    }
    if (json_array_size(err->fields)) {
        audit_filters_release(out);
        char msg[120];
        validate_render(lang, "list.invalid", NULL, NULL, msg, sizeof msg);
        return amp_err_set(err, AMP_EBADREQ, "%s", msg);
    }
    return AMP_OK;
}

amp_code audit_verify_params_parse(const list_param *params, size_t nparams, const char *lang,
                                   audit_checkpoint *expect, bool *have_expect, amp_err *err)
{
    *have_expect = false;
    for (size_t i = 0; i < nparams; i++) {
        const char *name = params[i].name ? params[i].name : "";
        if (strcmp(name, "expect_head") == 0) {
            if (audit_checkpoint_parse(params[i].value, expect) != 0)
                fail_own(err, lang, name, "format", "checkpoint", NULL);
            else
                *have_expect = true;
        } else {
            char shown[64];
            audit_safe_text(name, shown, sizeof shown);
            fail_list(err, lang, shown, "unknown_parameter", "list.unknown", NULL);
        }
    }
    if (json_array_size(err->fields)) {
        *have_expect = false;
        char msg[120];
        validate_render(lang, "list.invalid", NULL, NULL, msg, sizeof msg);
        return amp_err_set(err, AMP_EBADREQ, "%s", msg);
    }
    return AMP_OK;
}
