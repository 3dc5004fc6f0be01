/* fuzz_validate.c — libFuzzer target for validate_record (src/core/validate.c)
 * against the embedded field catalogue (schema/catalogue.json via src/embed.S).
 *
 * Input layout: byte 0 picks the entity, byte 1 the context (language, child
 * prefix, ignore list, lookup callback); the rest is a JSON document, loaded as
 * the server does (JSON_REJECT_DUPLICATES).  Invariants, beyond "no crash":
 *   - every entry of err.fields is an object with string field, rule, message;
 *   - the return value is the number of entries appended;
 *   - a non-object document gives exactly one "object" error;
 *   - every unknown key gives exactly one "unknown_field" error;
 *   - a catalogue field holding a value of the wrong JSON type, or a picklist
 *     string outside its values, gives at least one error on that field.
 * The last two catch errors that are silently dropped (a record that should be
 * refused but validates clean); -DFUZZ_LENIENT_ERRORS turns them off. */
#include "core/catalogue.h"
#include "core/validate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static catalogue *cat;

static const char *const entities[] = {"case",         "event",       "comment",
                                       "support_plan", "perpetrator", "organisation"};
static const char *const langs[] = {"en", "es", "fr", "uk"};
static const char *const org_ignore[] = {"id", NULL};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char msg[256];
    cat = catalogue_load_embedded(msg, sizeof msg);
    if (!cat) {
        fprintf(stderr, "fuzz_validate: cannot load the embedded catalogue: %s\n", msg);
        abort();
    }
    return 0;
}

/* A lookup callback that accepts identifiers by a cheap hash, so both answers occur. */
static bool lookup_some(void *arg, const char *target, const char *id)
{
    (void)arg;
    if (!target || !id)
        __builtin_trap();
    return (strlen(id) + strlen(target)) % 3 != 0;
}

static void check_entry_shape(const json_t *e)
{
    if (!json_is_object(e) || !json_is_string(json_object_get(e, "field")) ||
        !json_is_string(json_object_get(e, "rule")) ||
        !json_is_string(json_object_get(e, "message")))
        __builtin_trap();
}

/* Entries appended after `before` whose field is `path` (and rule, if given). */
static size_t count_errors(const json_t *fields, size_t before, const char *path, const char *rule)
{
    size_t n = 0;
    for (size_t i = before; i < json_array_size(fields); i++) {
        const json_t *e = json_array_get(fields, i);
        if (path && strcmp(json_string_value(json_object_get(e, "field")), path) != 0)
            continue;
        if (rule && strcmp(json_string_value(json_object_get(e, "rule")), rule) != 0)
            continue;
        n++;
    }
    return n;
}

/* True when the value has the JSON type the field demands (ignoring its content). */
static bool type_ok(const cat_field *f, const json_t *v)
{
    switch (f->type) {
    case FT_NUMBER: return json_is_number(v);
    case FT_CHECKBOX: return json_is_boolean(v);
    case FT_MULTISELECT: return json_is_array(v);
    case FT_COUNTRY:
    case FT_LANGUAGE: return f->multiple ? json_is_array(v) : json_is_string(v);
    default: return json_is_string(v);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const char *entity = entities[data[0] % 6];
    uint8_t sel = data[1];

    json_error_t je;
    json_t *doc = json_loadb((const char *)data + 2, size - 2, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return 0;

    validate_ctx ctx = {0};
    ctx.today = "2026-06-15";
    ctx.birthdate = json_string_value(json_object_get(doc, "prs_Birthdate"));
    ctx.lang = langs[sel & 3];
    ctx.prefix = (sel & 4) ? "events[0]." : NULL;
    if (sel & 8)
        ctx.lookup_exists = lookup_some;
    const char *const *ignore = (sel & 16) ? org_ignore : NULL;

    amp_err err = {0};
    /* Sometimes start with an error already present, as cases.c does when it
     * validates children after the case. */
    if (sel & 32)
        amp_err_field(&err, "x", "type", "pre-existing");
    size_t before = json_array_size(err.fields);

    int n = validate_record(cat, entity, doc, &ctx, ignore, &err);

    size_t after = json_array_size(err.fields);
    if (n < 0 || (size_t)n != after - before)
        __builtin_trap();
    if (err.fields && !json_is_array(err.fields))
        __builtin_trap();
    size_t i;
    json_t *e;
    json_array_foreach (err.fields, i, e)
        check_entry_shape(e);

#ifndef FUZZ_LENIENT_ERRORS
    char path[512];
    const char *prefix = ctx.prefix ? ctx.prefix : "";
    if (!json_is_object(doc)) {
        if (n != 1 || count_errors(err.fields, before, NULL, "object") != 1)
            __builtin_trap();
    } else {
        size_t unknown = 0;
        const char *key;
        json_t *v;
        json_object_foreach (doc, key, v) {
            bool skip = false;
            for (const char *const *ig = ignore; ig && *ig; ig++)
                skip = skip || strcmp(key, *ig) == 0;
            if (skip)
                continue;
            const cat_field *f = catalogue_field(cat, entity, key);
            if (!f) {
                unknown++;
                continue;
            }
            if (json_is_null(v))
                continue;
            bool bad = !type_ok(f, v);
            if (!bad && f->type == FT_PICKLIST)
                bad = !cat_field_has_value(f, json_string_value(v));
            if (!bad && f->type == FT_MULTISELECT) {
                size_t j;
                json_t *x;
                json_array_foreach (v, j, x) {
                    if (!json_is_string(x) || !cat_field_has_value(f, json_string_value(x)))
                        bad = true;
                }
            }
            snprintf(path, sizeof path, "%s%s", prefix, key);
            if (bad && count_errors(err.fields, before, path, NULL) == 0)
                __builtin_trap(); /* an invalid value validated clean */
        }
        if (count_errors(err.fields, before, NULL, "unknown_field") != unknown)
            __builtin_trap(); /* an unknown key was not reported (or reported twice) */
    }
#endif

    amp_err_clear(&err);
    json_decref(doc);
    return 0;
}
