/* catalogue.c — parse and index the field catalogue. */
#include "core/catalogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTITIES 16

typedef struct {
    const char *name;
    cat_field **fields;  /* catalogue order */
    cat_field **by_name; /* sorted by name, for bsearch */
    size_t n;
} entity_index;

struct catalogue {
    json_t *root;
    entity_index entities[MAX_ENTITIES];
    size_t nentities;
    cat_field *all; /* every field, one allocation */
    size_t nall;
    const char **countries; /* sorted */
    size_t ncountries;
    const char **languages; /* sorted; 639-1 and 639-2 codes together */
    size_t nlanguages;
};

static const char *const type_names[] = {
    [FT_TEXT] = "text",
    [FT_LONGTEXT] = "longtext",
    [FT_DATE] = "date",
    [FT_NUMBER] = "number",
    [FT_CHECKBOX] = "checkbox",
    [FT_PICKLIST] = "picklist",
    [FT_MULTISELECT] = "multiselect",
    [FT_COUNTRY] = "country",
    [FT_LANGUAGE] = "language",
    [FT_PHONE] = "phone",
    [FT_EMAIL] = "email",
    [FT_LOOKUP] = "lookup",
};

const char *field_type_name(field_type t)
{
    return type_names[t];
}

static int parse_type(const char *s, field_type *out)
{
    for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++) {
        if (strcmp(type_names[i], s) == 0) {
            *out = (field_type)i;
            return 0;
        }
    }
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_field_name(const void *a, const void *b)
{
    return strcmp((*(cat_field *const *)a)->name, (*(cat_field *const *)b)->name);
}

/* A borrowed array of strings from a JSON array of strings; NULL on a non-string. */
static const char **string_array(const json_t *arr, size_t *n)
{
    *n = json_array_size(arr);
    const char **out = calloc(*n ? *n : 1, sizeof *out);
    for (size_t i = 0; out && i < *n; i++) {
        out[i] = json_string_value(json_array_get(arr, i));
        if (!out[i]) {
            free(out);
            return NULL;
        }
    }
    return out;
}

static entity_index *entity_of_section(catalogue *c, const json_t *entities, const char *section)
{
    size_t i;
    json_t *e;
    json_array_foreach (entities, i, e) {
        size_t j;
        json_t *s;
        json_array_foreach (json_object_get(e, "sections"), j, s) {
            if (json_string_value(s) && strcmp(json_string_value(s), section) == 0)
                return &c->entities[i];
        }
    }
    return NULL;
}

static int load_field(catalogue *c, const json_t *entities, json_t *jf, cat_field *f, char *err,
                      size_t errlen)
{
    const char *name = json_string_value(json_object_get(jf, "name"));
    const char *section = json_string_value(json_object_get(jf, "section"));
    const char *type = json_string_value(json_object_get(jf, "type"));
    if (!name || !section || !type) {
        snprintf(err, errlen, "field without name, section or type");
        return -1;
    }
    f->name = name;
    f->section = section;
    if (parse_type(type, &f->type) < 0) {
        snprintf(err, errlen, "field '%s': unknown type '%s'", name, type);
        return -1;
    }
    entity_index *ent = entity_of_section(c, entities, section);
    if (!ent) {
        snprintf(err, errlen, "field '%s': section '%s' belongs to no entity", name, section);
        return -1;
    }
    f->entity = ent->name;
    f->multiple = json_is_true(json_object_get(jf, "multiple"));
    f->required = json_is_true(json_object_get(jf, "required"));
    f->identity = json_is_true(json_object_get(jf, "identity"));
    f->integer = json_is_true(json_object_get(jf, "integer"));
    f->not_future = json_is_true(json_object_get(jf, "not_future"));
    f->not_before_birth = json_is_true(json_object_get(jf, "not_before_birth"));
    json_t *v;
    if ((v = json_object_get(jf, "min")) && json_is_number(v)) {
        f->has_min = true;
        f->min = json_number_value(v);
    }
    if ((v = json_object_get(jf, "max")) && json_is_number(v)) {
        f->has_max = true;
        f->max = json_number_value(v);
    }
    f->min_length = (int)json_integer_value(json_object_get(jf, "min_length"));
    f->max_length = (int)json_integer_value(json_object_get(jf, "max_length"));
    if (f->max_length <= 0)
        f->max_length = f->type == FT_LONGTEXT ? 10000 : 200;
    f->max_items = (int)json_integer_value(json_object_get(jf, "max_items"));
    f->default_value = json_object_get(jf, "default");
    f->filter = json_string_value(json_object_get(jf, "filter"));
    f->lookup_target = json_string_value(json_object_get(jf, "target"));

    if (f->type == FT_PICKLIST || f->type == FT_MULTISELECT) {
        json_t *values = json_object_get(jf, "values");
        if (!json_array_size(values)) {
            snprintf(err, errlen, "field '%s': a %s needs values", name, type);
            return -1;
        }
        f->nvalues = json_array_size(values);
        f->values = calloc(f->nvalues, sizeof *f->values);
        if (!f->values)
            return -1;
        size_t i;
        json_t *jv;
        json_array_foreach (values, i, jv) {
            f->values[i] = json_string_value(json_object_get(jv, "name"));
            if (!f->values[i]) {
                snprintf(err, errlen, "field '%s': value %zu has no name", name, i);
                return -1;
            }
        }
        if (f->max_items <= 0)
            f->max_items = (int)f->nvalues;
    }
    if (f->max_items <= 0)
        f->max_items = 300;

    const char *ckey = NULL;
    if (json_object_get(jf, "required_if")) {
        f->cond = COND_REQUIRED_IF;
        ckey = "required_if";
    } else if (json_object_get(jf, "applies_if")) {
        f->cond = COND_APPLIES_IF;
        ckey = "applies_if";
    }
    if (ckey) {
        json_t *cj = json_object_get(jf, ckey);
        f->cond_field = json_string_value(json_object_get(cj, "field"));
        f->cond_values = string_array(json_object_get(cj, "in"), &f->ncond_values);
        if (!f->cond_field || !f->cond_values) {
            snprintf(err, errlen, "field '%s': %s needs a field and an 'in' list", name, ckey);
            return -1;
        }
    }
    return 0;
}

static const char **load_codes(const json_t *list, bool with_alpha3, size_t *n)
{
    size_t cap = json_array_size(list) * (with_alpha3 ? 2 : 1);
    const char **out = calloc(cap ? cap : 1, sizeof *out);
    size_t k = 0;
    size_t i;
    json_t *e;
    if (!out)
        return NULL;
    json_array_foreach (list, i, e) {
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *a3 = with_alpha3 ? json_string_value(json_object_get(e, "alpha3")) : NULL;
        if (code)
            out[k++] = code;
        if (a3 && (!code || strcmp(a3, code) != 0))
            out[k++] = a3;
    }
    qsort(out, k, sizeof *out, cmp_str);
    *n = k;
    return out;
}

catalogue *catalogue_load(json_t *root, char *err, size_t errlen)
{
    catalogue *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->root = json_incref(root);
    json_t *entities = json_object_get(root, "entities");
    json_t *fields = json_object_get(root, "fields");
    if (!json_is_array(entities) || !json_is_array(fields)) {
        snprintf(err, errlen, "catalogue needs 'entities' and 'fields' arrays");
        goto fail;
    }
    if (json_array_size(entities) > MAX_ENTITIES) {
        snprintf(err, errlen, "too many entities");
        goto fail;
    }
    size_t i;
    json_t *e;
    json_array_foreach (entities, i, e) {
        c->entities[i].name = json_string_value(json_object_get(e, "name"));
        if (!c->entities[i].name) {
            snprintf(err, errlen, "entity %zu has no name", i);
            goto fail;
        }
    }
    c->nentities = json_array_size(entities);

    c->nall = json_array_size(fields);
    c->all = calloc(c->nall ? c->nall : 1, sizeof *c->all);
    if (!c->all)
        goto fail;
    json_array_foreach (fields, i, e) {
        if (load_field(c, entities, e, &c->all[i], err, errlen) < 0)
            goto fail;
    }
    for (size_t k = 0; k < c->nentities; k++) {
        entity_index *ei = &c->entities[k];
        ei->fields = calloc(c->nall ? c->nall : 1, sizeof *ei->fields);
        ei->by_name = calloc(c->nall ? c->nall : 1, sizeof *ei->by_name);
        if (!ei->fields || !ei->by_name)
            goto fail;
        for (size_t j = 0; j < c->nall; j++) {
            if (c->all[j].entity == ei->name)
                ei->fields[ei->n++] = &c->all[j];
        }
        memcpy(ei->by_name, ei->fields, ei->n * sizeof *ei->fields);
        qsort(ei->by_name, ei->n, sizeof *ei->by_name, cmp_field_name);
        for (size_t j = 1; j < ei->n; j++) {
            if (strcmp(ei->by_name[j - 1]->name, ei->by_name[j]->name) == 0) {
                snprintf(err, errlen, "entity '%s' has field '%s' twice", ei->name,
                         ei->by_name[j]->name);
                goto fail;
            }
        }
    }
    json_t *codelists = json_object_get(root, "codelists");
    c->countries = load_codes(json_object_get(codelists, "country"), false, &c->ncountries);
    c->languages = load_codes(json_object_get(codelists, "language"), true, &c->nlanguages);
    if (!c->countries || !c->languages)
        goto fail;
    return c;
fail:
    catalogue_free(c);
    return NULL;
}

catalogue *catalogue_load_file(const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "cannot read catalogue '%s': %s (line %d)", path, je.text, je.line);
        return NULL;
    }
    catalogue *c = catalogue_load(root, err, errlen);
    json_decref(root);
    return c;
}

extern const char amparo_catalogue_json[], amparo_catalogue_json_end[];

catalogue *catalogue_load_embedded(char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(amparo_catalogue_json,
                              (size_t)(amparo_catalogue_json_end - amparo_catalogue_json),
                              JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "embedded catalogue is not JSON: %s (line %d)", je.text, je.line);
        return NULL;
    }
    catalogue *c = catalogue_load(root, err, errlen);
    json_decref(root);
    return c;
}

void catalogue_free(catalogue *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nall; i++) {
        free(c->all[i].values);
        free(c->all[i].cond_values);
    }
    for (size_t k = 0; k < c->nentities; k++) {
        free(c->entities[k].fields);
        free(c->entities[k].by_name);
    }
    free(c->all);
    free(c->countries);
    free(c->languages);
    json_decref(c->root);
    free(c);
}

const json_t *catalogue_json(const catalogue *c)
{
    return c->root;
}

static const entity_index *find_entity(const catalogue *c, const char *entity)
{
    for (size_t k = 0; k < c->nentities; k++) {
        if (strcmp(c->entities[k].name, entity) == 0)
            return &c->entities[k];
    }
    return NULL;
}

bool catalogue_has_entity(const catalogue *c, const char *entity)
{
    return find_entity(c, entity) != NULL;
}

const cat_field *catalogue_field(const catalogue *c, const char *entity, const char *name)
{
    const entity_index *ei = find_entity(c, entity);
    if (!ei)
        return NULL;
    size_t lo = 0, hi = ei->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = strcmp(name, ei->by_name[mid]->name);
        if (r == 0)
            return ei->by_name[mid];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const cat_field *const *catalogue_fields(const catalogue *c, const char *entity, size_t *n)
{
    const entity_index *ei = find_entity(c, entity);
    *n = ei ? ei->n : 0;
    return ei ? (const cat_field *const *)ei->fields : NULL;
}

const cat_field *catalogue_filter_field(const catalogue *c, const char *entity, const char *filter)
{
    size_t n;
    const cat_field *const *fs = catalogue_fields(c, entity, &n);
    for (size_t i = 0; i < n; i++) {
        if (fs[i]->filter && strcmp(fs[i]->filter, filter) == 0)
            return fs[i];
    }
    return NULL;
}

static bool in_sorted(const char **list, size_t n, const char *code)
{
    return code && bsearch(&code, list, n, sizeof *list, cmp_str) != NULL;
}

bool catalogue_is_country(const catalogue *c, const char *code)
{
    return in_sorted(c->countries, c->ncountries, code);
}

bool catalogue_is_language(const catalogue *c, const char *code)
{
    return in_sorted(c->languages, c->nlanguages, code);
}

bool cat_field_has_value(const cat_field *f, const char *value)
{
    for (size_t i = 0; i < f->nvalues; i++) {
        if (strcmp(f->values[i], value) == 0)
            return true;
    }
    return false;
}
