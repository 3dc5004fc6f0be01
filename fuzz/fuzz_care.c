/* fuzz_care.c — libFuzzer target for the input side of the care modules
 * (src/core/care_fields.c).
 *
 * Byte 0 picks what the rest of the input is fed to (bits 0-1) and how
 * (bit 2: a partial document, as for a PATCH; bits 3-4: the language):
 *   0  care_period_parse on the bytes as text: on success from <= to, both
 *      valid dates, and the label is the input;
 *   1  care_validate_with on a JSON document against a table holding every
 *      field type (nested objects included): the return value equals the
 *      number of field errors added, each a {field, rule, message} of valid
 *      UTF-8 text (the server must be able to encode its 422 answer);
 *   2  care_config_check on a JSON document (a replacement indicators file),
 *      and care_merge of the document onto the built-in configuration;
 *   3  parse_query, then care_params_check and care_period_from_params on the
 *      parameters: a failure is AMP_EBADREQ with at least one field error. */
#include "core/care_common.h"
#include "core/validate.h"
#include "http/parse.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const care_field sub_fields[] = {
    {"stage", CF_PICK, CF_REQ, "proceeding_stages", 0, 0, NULL},
    {"date", CF_DATE, CF_REQ | CF_NOFUTURE, NULL, 0, 0, NULL},
    {"n", CF_INT, 0, NULL, 1, 5, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const care_field fields[] = {
    {"s", CF_STRING, CF_REQ, NULL, 0, 20, NULL},
    {"t", CF_TEXT, CF_IDENTITY, NULL, 0, 0, NULL},
    {"d", CF_DATE, CF_NOFUTURE, NULL, 0, 0, NULL},
    {"i", CF_INT, 0, NULL, 0, 10, NULL},
    {"x", CF_NUMBER, 0, NULL, -1, 1, NULL},
    {"b", CF_BOOL, 0, NULL, 0, 0, NULL},
    {"p", CF_PICK, 0, "place_kinds", 0, 0, NULL},
    {"m", CF_MULTI, 0, "audiences", 0, 4, NULL},
    {"c", CF_COUNTRY, 0, NULL, 0, 0, NULL},
    {"o", CF_ORG, 0, NULL, 0, 0, NULL},
    {"os", CF_ORGS, 0, NULL, 0, 3, NULL},
    {"u", CF_UID, 0, NULL, 0, 0, NULL},
    {"cur", CF_CURRENCY, 0, NULL, 0, 0, NULL},
    {"k", CF_COUNTS, 0, "place_kinds", 0, 0, NULL},
    {"a", CF_AMOUNTS, 0, "participant_org_types", 0, 0, NULL},
    {"l", CF_OBJECTS, 0, NULL, 0, 4, sub_fields},
    {"lab", CF_LABEL, 0, NULL, 0, 0, NULL},
    {"obj", CF_OBJECT, 0, NULL, 0, 8, NULL},
    {"srv", CF_INT, CF_SERVER, NULL, 0, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static catalogue *cat;

static bool org_known(void *arg, const char *id)
{
    (void)arg;
    return strcmp(id, "org-a") == 0 || strcmp(id, "org-b") == 0;
}

/* Every field error is an object of three strings. */
static size_t check_fields(const amp_err *err)
{
    size_t i;
    json_t *f;
    json_array_foreach (err->fields, i, f) {
        if (!json_is_object(f) || !json_is_string(json_object_get(f, "field")) ||
            !json_is_string(json_object_get(f, "rule")) ||
            !json_is_string(json_object_get(f, "message")))
            __builtin_trap();
    }
    return json_array_size(err->fields);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!cat) {
        char e[256];
        cat = catalogue_load_embedded(e, sizeof e);
        if (!cat)
            __builtin_trap();
    }
    static const char *const langs[] = {"en", "es", "fr", "uk"};
    principal p = {.actor = "fuzz"};
    snprintf(p.lang, sizeof p.lang, "%s", langs[(data[0] >> 3) & 3]);
    bool partial = data[0] & 4;
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    amp_err err = {0};
    switch (data[0] & 3) {
    case 0: {
        care_period per;
        if (care_period_parse(text, &per) == 0) {
            if (!validate_date(per.from) || !validate_date(per.to) ||
                strcmp(per.from, per.to) > 0 || strcmp(per.label, text) != 0)
                __builtin_trap();
            if (care_days(per.to) < care_days(per.from))
                __builtin_trap();
        }
        break;
    }
    case 1: {
        json_t *doc = json_loadb(text, size - 1, JSON_REJECT_DUPLICATES, NULL);
        if (!doc)
            break;
        care_lookup lk = {cat, org_known, NULL};
        int n = care_validate_with(&lk, &p, fields, doc, partial, NULL, partial ? "x." : NULL,
                                   "2026-06-15", &err);
        if ((size_t)n != check_fields(&err))
            __builtin_trap();
        if (!json_is_object(doc) && n == 0)
            __builtin_trap();
        json_t *shown = care_filter(fields, doc, true);
        if (json_is_object(doc) && json_object_get(shown, "t"))
            __builtin_trap(); /* identity never shown to those who may not see it */
        json_decref(shown);
        json_decref(doc);
        break;
    }
    case 2: {
        json_t *doc = json_loadb(text, size - 1, JSON_REJECT_DUPLICATES, NULL);
        if (!doc)
            break;
        char msg[300];
        if (care_config_check(doc, msg, sizeof msg) != 0 && !msg[0])
            __builtin_trap();
        json_t *merged = care_merge(care_config(), doc);
        if (!json_is_object(merged))
            __builtin_trap();
        json_decref(merged);
        json_decref(doc);
        break;
    }
    default: {
        query_params q;
        if (parse_query(text, strlen(text), &q, &err) < 0)
            break;
        static const char *const known[] = {"from", "to", "period", "kind", NULL};
        static const char *const dates[] = {"from", "to", NULL};
        int limit = 0, offset = 0;
        amp_code code = care_params_check(&p, q.items, q.n, known, dates, &limit, &offset, &err);
        if (code != AMP_OK && (code != AMP_EBADREQ || check_fields(&err) == 0))
            __builtin_trap();
        if (code == AMP_OK) {
            if (limit < 1 || limit > CASES_MAX_LIMIT || offset < 0)
                __builtin_trap();
            care_period per;
            code = care_period_from_params(&p, q.items, q.n, "2026-06-15", &per, &err);
            if (code == AMP_OK && strcmp(per.from, per.to) > 0)
                __builtin_trap();
            if (code != AMP_OK && check_fields(&err) == 0)
                __builtin_trap();
        }
        query_params_release(&q);
        break;
    }
    }
    amp_err_clear(&err);
    free(text);
    return 0;
}
