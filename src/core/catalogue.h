/* catalogue.h — the field catalogue, loaded from data (schema/catalogue.json).
 *
 * The catalogue says which fields each entity (case, event, comment, support_plan,
 * perpetrator, organisation) has, their types and rules.  It is immutable once
 * loaded and safe to share between threads.  See docs/CATALOGUE.md for the format. */
#ifndef AMPARO_CATALOGUE_H
#define AMPARO_CATALOGUE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    FT_TEXT,
    FT_LONGTEXT,
    FT_DATE,
    FT_NUMBER,
    FT_CHECKBOX,
    FT_PICKLIST,
    FT_MULTISELECT,
    FT_COUNTRY,
    FT_LANGUAGE,
    FT_PHONE,
    FT_EMAIL,
    FT_LOOKUP
} field_type;

typedef enum { COND_NONE, COND_REQUIRED_IF, COND_APPLIES_IF } cond_kind;

typedef struct cat_field {
    const char *name;    /* "vic_TypeOfExploitation" */
    const char *section; /* "victim" */
    const char *entity;  /* "case" */
    field_type type;
    bool multiple; /* country/language: an array of codes */
    bool required, identity, integer, not_future, not_before_birth;
    bool has_min, has_max;
    double min, max;
    int min_length, max_length, max_items;
    const char **values; /* picklist / multiselect value names */
    size_t nvalues;
    cond_kind cond;
    const char *cond_field;
    const char **cond_values;
    size_t ncond_values;
    const json_t *default_value; /* borrowed from the catalogue document, or NULL */
    const char *filter;          /* list filter name, or NULL */
    const char *lookup_target;   /* "organisation", "user", "person" */
} cat_field;

typedef struct catalogue catalogue;

/** Parses a catalogue document.  Takes a new reference to `root`.  On error returns
 *  NULL and writes a message naming the offending entry into err. */
catalogue *catalogue_load(json_t *root, char *err, size_t errlen);

/** Loads the catalogue compiled into the binary. */
catalogue *catalogue_load_embedded(char *err, size_t errlen);

/** Loads a catalogue file. */
catalogue *catalogue_load_file(const char *path, char *err, size_t errlen);

void catalogue_free(catalogue *c);

/** The whole document, as served at GET /api/v1/schema (borrowed). */
const json_t *catalogue_json(const catalogue *c);

/** True when `entity` is one of the catalogue's entities. */
bool catalogue_has_entity(const catalogue *c, const char *entity);

/** The field `name` of `entity`, or NULL. */
const cat_field *catalogue_field(const catalogue *c, const char *entity, const char *name);

/** The fields of `entity` in catalogue order; *n receives their number. */
const cat_field *const *catalogue_fields(const catalogue *c, const char *entity, size_t *n);

/** The field of `entity` read by list filter `filter`, or NULL. */
const cat_field *catalogue_filter_field(const catalogue *c, const char *entity, const char *filter);

/** True when code is an ISO 3166-1 alpha-2 code of the country codelist. */
bool catalogue_is_country(const catalogue *c, const char *code);

/** True when code is an ISO 639-1 or ISO 639-2 code of the language codelist. */
bool catalogue_is_language(const catalogue *c, const char *code);

/** True when value is one of the field's picklist values. */
bool cat_field_has_value(const cat_field *f, const char *value);

/** The catalogue name of a type: "text", "multiselect"… */
const char *field_type_name(field_type t);

#endif
