/* test_catalogue.c — loading and indexing the field catalogue. */
#include "testutil.h"

static const char *const entities[] = {"case",         "event",       "comment",
                                       "support_plan", "perpetrator", "organisation"};
#define NENTITIES (sizeof entities / sizeof *entities)

/* ---- the embedded catalogue ----------------------------------------------------- */

static void test_embedded_loads(void **state)
{
    (void)state;
    const json_t *root = catalogue_json(tu_cat);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "catalogue")), "amparo");
    assert_string_equal(json_string_value(json_object_get(root, "standard")), "HTCDS 2.0");
    assert_int_equal(json_array_size(json_object_get(root, "entities")), NENTITIES);
}

static void test_every_entity_has_fields(void **state)
{
    (void)state;
    size_t total = 0;
    for (size_t i = 0; i < NENTITIES; i++) {
        size_t n = 0;
        assert_true(catalogue_has_entity(tu_cat, entities[i]));
        const cat_field *const *fs = catalogue_fields(tu_cat, entities[i], &n);
        assert_non_null(fs);
        assert_true(n > 0);
        for (size_t k = 0; k < n; k++) {
            assert_string_equal(fs[k]->entity, entities[i]);
            assert_ptr_equal(catalogue_field(tu_cat, entities[i], fs[k]->name), fs[k]);
        }
        total += n;
    }
    /* every field of the file belongs to exactly one entity */
    assert_int_equal(total, json_array_size(json_object_get(catalogue_json(tu_cat), "fields")));
    size_t n = 99;
    assert_false(catalogue_has_entity(tu_cat, "victim")); /* a section, not an entity */
    assert_false(catalogue_has_entity(tu_cat, "person"));
    assert_false(catalogue_has_entity(tu_cat, ""));
    assert_null(catalogue_fields(tu_cat, "victim", &n));
    assert_int_equal(n, 0);
}

static void test_field_lookup(void **state)
{
    (void)state;
    const cat_field *g = catalogue_field(tu_cat, "case", "prs_Gender");
    const cat_field *pg = catalogue_field(tu_cat, "perpetrator", "prs_Gender");
    assert_non_null(g);
    assert_non_null(pg);
    assert_ptr_not_equal(g, pg);
    assert_string_equal(g->section, "person");
    assert_string_equal(pg->section, "perpetrator_person");
    assert_string_equal(g->entity, "case");
    assert_string_equal(pg->entity, "perpetrator");
    assert_null(catalogue_field(tu_cat, "event", "prs_Gender"));
    assert_null(catalogue_field(tu_cat, "organisation", "prs_Gender"));
    assert_null(catalogue_field(tu_cat, "nope", "prs_Gender"));
    assert_null(catalogue_field(tu_cat, "case", "prs_gender")); /* case-sensitive */
    assert_null(catalogue_field(tu_cat, "case", ""));
    /* first and last names in sort order are found (binary search bounds) */
    size_t n;
    const cat_field *const *fs = catalogue_fields(tu_cat, "case", &n);
    const char *lo = fs[0]->name, *hi = fs[0]->name;
    for (size_t i = 1; i < n; i++) {
        if (strcmp(fs[i]->name, lo) < 0)
            lo = fs[i]->name;
        if (strcmp(fs[i]->name, hi) > 0)
            hi = fs[i]->name;
    }
    assert_non_null(catalogue_field(tu_cat, "case", lo));
    assert_non_null(catalogue_field(tu_cat, "case", hi));
    assert_null(catalogue_field(tu_cat, "case", "zzz"));
    assert_null(catalogue_field(tu_cat, "case", "AAA"));
}

static void test_gender_values(void **state)
{
    (void)state;
    static const char *const want[] = {
        "Feminine",      "Masculine",          "TransgenderFeminine", "TransgenderMasculine",
        "NonConforming", "NonSpecifiedUnknown"};
    const char *const ents[] = {"case", "perpetrator"};
    for (int e = 0; e < 2; e++) {
        const cat_field *f = catalogue_field(tu_cat, ents[e], "prs_Gender");
        assert_non_null(f);
        assert_int_equal(f->type, FT_PICKLIST);
        assert_int_equal(f->nvalues, 6);
        for (size_t i = 0; i < 6; i++) {
            assert_string_equal(f->values[i], want[i]);
            assert_true(cat_field_has_value(f, want[i]));
        }
        assert_false(cat_field_has_value(f, "Female"));
        assert_false(cat_field_has_value(f, "feminine"));
        assert_false(cat_field_has_value(f, ""));
    }
}

static void test_field_attributes(void **state)
{
    (void)state;
    const cat_field *f = catalogue_field(tu_cat, "case", "vic_TypeOfExploitation");
    assert_int_equal(f->type, FT_MULTISELECT);
    assert_int_equal(f->nvalues, 11);
    assert_int_equal(f->max_items, 11);
    assert_string_equal(f->filter, "exploitation");

    f = catalogue_field(tu_cat, "case", "prs_Citizenship");
    assert_int_equal(f->type, FT_COUNTRY);
    assert_true(f->multiple);
    f = catalogue_field(tu_cat, "case", "prs_MailingCountry");
    assert_int_equal(f->type, FT_COUNTRY);
    assert_false(f->multiple);

    f = catalogue_field(tu_cat, "case", "vic_TraffickingStatus");
    assert_true(f->required);
    assert_int_equal(f->nvalues, 3);

    f = catalogue_field(tu_cat, "case", "cas_Status");
    assert_non_null(f->default_value);
    assert_string_equal(json_string_value(f->default_value), "Active");
    assert_false(f->required);

    f = catalogue_field(tu_cat, "case", "vic_ForcedLabourIndustry");
    assert_int_equal(f->cond, COND_APPLIES_IF);
    assert_string_equal(f->cond_field, "vic_TypeOfExploitation");
    assert_int_equal(f->ncond_values, 1);
    assert_string_equal(f->cond_values[0], "ForcedLabour");

    f = catalogue_field(tu_cat, "case", "cas_ReasonForCaseClosure");
    assert_int_equal(f->type, FT_LONGTEXT);
    assert_int_equal(f->cond, COND_REQUIRED_IF);
    assert_string_equal(f->cond_field, "cas_Status");
    assert_int_equal(f->ncond_values, 2);
    assert_string_equal(f->cond_values[0], "Closed");
    assert_string_equal(f->cond_values[1], "ClosedReferred");
    assert_int_equal(f->max_length, 10000);
    assert_true(f->identity);

    f = catalogue_field(tu_cat, "event", "hte_Date");
    assert_int_equal(f->type, FT_DATE);
    assert_true(f->not_future);
    assert_true(f->not_before_birth);

    f = catalogue_field(tu_cat, "case", "vic_AgeWhenTrafficked");
    assert_int_equal(f->type, FT_NUMBER);
    assert_true(f->integer);
    assert_true(f->has_min && f->has_max);
    assert_true(f->min == 0.0 && f->max == 120.0);

    f = catalogue_field(tu_cat, "case", "prs_MailingLatitude");
    assert_false(f->integer);
    assert_true(f->min == -90.0 && f->max == 90.0);

    f = catalogue_field(tu_cat, "case", "prs_FirstName");
    assert_int_equal(f->type, FT_TEXT);
    assert_int_equal(f->max_length, 100);
    assert_true(f->identity);

    f = catalogue_field(tu_cat, "case", "amp_OwnerOrganisation");
    assert_int_equal(f->type, FT_LOOKUP);
    assert_string_equal(f->lookup_target, "organisation");
    f = catalogue_field(tu_cat, "case", "cas_CaseOwner");
    assert_string_equal(f->lookup_target, "user");

    assert_int_equal(catalogue_field(tu_cat, "case", "prs_Deceased")->type, FT_CHECKBOX);
    assert_int_equal(catalogue_field(tu_cat, "case", "prs_PrimaryLanguage")->type, FT_LANGUAGE);
    assert_int_equal(catalogue_field(tu_cat, "case", "prs_MobilePhone")->type, FT_PHONE);
    assert_int_equal(catalogue_field(tu_cat, "case", "prs_Email")->type, FT_EMAIL);
    assert_int_equal(catalogue_field(tu_cat, "case", "prs_Email")->max_length, 254);
    assert_true(catalogue_field(tu_cat, "comment", "cco_CaseComment")->required);
    assert_true(catalogue_field(tu_cat, "organisation", "org_Name")->required);
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(field_type_name(FT_TEXT), "text");
    assert_string_equal(field_type_name(FT_LONGTEXT), "longtext");
    assert_string_equal(field_type_name(FT_DATE), "date");
    assert_string_equal(field_type_name(FT_NUMBER), "number");
    assert_string_equal(field_type_name(FT_CHECKBOX), "checkbox");
    assert_string_equal(field_type_name(FT_PICKLIST), "picklist");
    assert_string_equal(field_type_name(FT_MULTISELECT), "multiselect");
    assert_string_equal(field_type_name(FT_COUNTRY), "country");
    assert_string_equal(field_type_name(FT_LANGUAGE), "language");
    assert_string_equal(field_type_name(FT_PHONE), "phone");
    assert_string_equal(field_type_name(FT_EMAIL), "email");
    assert_string_equal(field_type_name(FT_LOOKUP), "lookup");
}

static void test_no_deprecated_fields(void **state)
{
    (void)state;
    static const char *const gone[] = {"vic_AgreementToManagePersonalData", "vic_Vulnerabilities",
                                       "vic_DetailsOfVulnerabilities"};
    for (size_t g = 0; g < 3; g++) {
        for (size_t i = 0; i < NENTITIES; i++)
            assert_null(catalogue_field(tu_cat, entities[i], gone[g]));
        size_t k;
        json_t *f;
        json_array_foreach (json_object_get(catalogue_json(tu_cat), "fields"), k, f)
            assert_string_not_equal(json_string_value(json_object_get(f, "name")), gone[g]);
    }
}

/* The entity of a section according to the catalogue document. */
static const char *entity_of_section(const json_t *root, const char *section)
{
    size_t i, j;
    json_t *e, *s;
    json_array_foreach (json_object_get(root, "entities"), i, e) {
        json_array_foreach (json_object_get(e, "sections"), j, s) {
            if (strcmp(json_string_value(s), section) == 0)
                return json_string_value(json_object_get(e, "name"));
        }
    }
    return NULL;
}

static void test_every_file_field_loadable(void **state)
{
    (void)state;
    const json_t *root = catalogue_json(tu_cat);
    size_t i;
    json_t *jf;
    size_t nfields = json_array_size(json_object_get(root, "fields"));
    assert_true(nfields > 80);
    json_array_foreach (json_object_get(root, "fields"), i, jf) {
        const char *name = json_string_value(json_object_get(jf, "name"));
        const char *section = json_string_value(json_object_get(jf, "section"));
        const char *type = json_string_value(json_object_get(jf, "type"));
        const char *entity = entity_of_section(root, section);
        if (!entity)
            fail_msg("field %s: section %s has no entity", name, section);
        const cat_field *f = catalogue_field(tu_cat, entity, name);
        if (!f)
            fail_msg("field %s of section %s not found in entity %s", name, section, entity);
        assert_string_equal(f->section, section);
        assert_string_equal(field_type_name(f->type), type);
        /* picklists carry every value of the file, in order */
        json_t *values = json_object_get(jf, "values");
        assert_int_equal(f->nvalues, json_array_size(values));
        for (size_t k = 0; k < f->nvalues; k++)
            assert_string_equal(f->values[k], json_string_value(json_object_get(
                                                  json_array_get(values, k), "name")));
        /* amp_ fields are extensions, others are not */
        assert_int_equal(strncmp(name, "amp_", 4) == 0,
                         json_is_true(json_object_get(jf, "extension")));
    }
}

static void test_embedded_matches_file(void **state)
{
    (void)state;
    char err[512];
    /* tests run from the repository root */
    if (access("schema/catalogue.json", R_OK) != 0)
        skip();
    catalogue *fc = catalogue_load_file("schema/catalogue.json", err, sizeof err);
    assert_non_null(fc);
    assert_true(json_equal(catalogue_json(fc), catalogue_json(tu_cat)));
    catalogue_free(fc);
}

static void test_filters(void **state)
{
    (void)state;
    static const struct {
        const char *filter, *field;
    } want[] = {{"status", "cas_Status"},
                {"trafficking_status", "vic_TraffickingStatus"},
                {"exploitation", "vic_TypeOfExploitation"},
                {"gender", "prs_Gender"},
                {"citizenship", "prs_Citizenship"},
                {"registered", "amp_RegistrationDate"}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const cat_field *f = catalogue_filter_field(tu_cat, "case", want[i].filter);
        if (!f)
            fail_msg("filter %s does not resolve", want[i].filter);
        assert_string_equal(f->name, want[i].field);
        assert_string_equal(f->filter, want[i].filter);
    }
    assert_null(catalogue_filter_field(tu_cat, "case", "colour"));
    assert_null(catalogue_filter_field(tu_cat, "case", "country_of_exploitation")); /* derived */
    assert_null(catalogue_filter_field(tu_cat, "perpetrator", "gender"));
    assert_null(catalogue_filter_field(tu_cat, "nope", "gender"));
}

static void test_countries(void **state)
{
    (void)state;
    const json_t *countries =
        json_object_get(json_object_get(catalogue_json(tu_cat), "codelists"), "country");
    assert_int_equal(json_array_size(countries), 249);
    assert_true(catalogue_is_country(tu_cat, "EC"));
    assert_true(catalogue_is_country(tu_cat, "UA"));
    assert_true(catalogue_is_country(tu_cat, "MD"));
    assert_true(catalogue_is_country(tu_cat, "CO"));
    assert_true(catalogue_is_country(tu_cat, "AD")); /* first */
    assert_true(catalogue_is_country(tu_cat, "ZW")); /* last */
    assert_false(catalogue_is_country(tu_cat, "XX"));
    assert_false(catalogue_is_country(tu_cat, "ec"));
    assert_false(catalogue_is_country(tu_cat, "ECU"));
    assert_false(catalogue_is_country(tu_cat, "E"));
    assert_false(catalogue_is_country(tu_cat, ""));
    assert_false(catalogue_is_country(tu_cat, NULL));
    /* every listed code is known */
    size_t i;
    json_t *c;
    json_array_foreach (countries, i, c)
        assert_true(catalogue_is_country(tu_cat, json_string_value(json_object_get(c, "code"))));
}

static void test_languages(void **state)
{
    (void)state;
    assert_true(catalogue_is_language(tu_cat, "es"));
    assert_true(catalogue_is_language(tu_cat, "spa"));
    assert_true(catalogue_is_language(tu_cat, "uk"));
    assert_true(catalogue_is_language(tu_cat, "ukr"));
    assert_true(catalogue_is_language(tu_cat, "fr"));
    assert_true(catalogue_is_language(tu_cat, "fra"));
    assert_true(catalogue_is_language(tu_cat, "qu") || catalogue_is_language(tu_cat, "que"));
    assert_false(catalogue_is_language(tu_cat, "xx"));
    assert_false(catalogue_is_language(tu_cat, "ES"));
    assert_false(catalogue_is_language(tu_cat, "spanish"));
    assert_false(catalogue_is_language(tu_cat, ""));
    assert_false(catalogue_is_language(tu_cat, NULL));
    size_t i;
    json_t *l;
    json_array_foreach (
        json_object_get(json_object_get(catalogue_json(tu_cat), "codelists"), "language"), i, l) {
        assert_true(catalogue_is_language(tu_cat, json_string_value(json_object_get(l, "code"))));
        assert_true(catalogue_is_language(tu_cat, json_string_value(json_object_get(l, "alpha3"))));
    }
}

/* ---- catalogue_load on hand-written documents ------------------------------------ */

#define CAT_HEAD                                                                                   \
    "{\"entities\":[{\"name\":\"case\",\"sections\":[\"person\",\"victim\"]},"                     \
    "{\"name\":\"event\",\"sections\":[\"event\"]}],\"fields\":["
#define CAT_TAIL "],\"codelists\":{\"country\":[{\"code\":\"EC\"}],\"language\":[]}}"
#define F_OK1                                                                                      \
    "{\"name\":\"prs_Gender\",\"section\":\"person\",\"type\":\"picklist\","                       \
    "\"values\":[{\"name\":\"Feminine\"},{\"name\":\"Masculine\"}]}"

/* Loads CAT_HEAD fields CAT_TAIL; returns the catalogue or NULL with err. */
static catalogue *load_fields(const char *fields, char *err, size_t errlen)
{
    char text[4096];
    snprintf(text, sizeof text, CAT_HEAD "%s" CAT_TAIL, fields);
    json_t *root = tu_json(text);
    err[0] = '\0';
    catalogue *c = catalogue_load(root, err, errlen);
    json_decref(root);
    return c;
}

static void expect_rejected(const char *fields, const char *const *needles)
{
    char err[512];
    catalogue *c = load_fields(fields, err, sizeof err);
    if (c) {
        catalogue_free(c);
        fail_msg("catalogue with fields %s was accepted", fields);
    }
    for (; *needles; needles++) {
        if (!strstr(err, *needles))
            fail_msg("message '%s' does not mention '%s'", err, *needles);
    }
}

static void test_load_minimal(void **state)
{
    (void)state;
    char err[512];
    catalogue *c =
        load_fields(F_OK1 ",{\"name\":\"prs_Gender\",\"section\":\"event\",\"type\":\"text\"},"
                          "{\"name\":\"note\",\"section\":\"victim\",\"type\":\"longtext\"},"
                          "{\"name\":\"tags\",\"section\":\"victim\",\"type\":\"multiselect\","
                          "\"values\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}]}",
                    err, sizeof err);
    if (!c)
        fail_msg("minimal catalogue refused: %s", err);
    size_t n;
    catalogue_fields(c, "case", &n);
    assert_int_equal(n, 3);
    catalogue_fields(c, "event", &n);
    assert_int_equal(n, 1);
    /* the same name in two entities is allowed */
    assert_int_equal(catalogue_field(c, "case", "prs_Gender")->type, FT_PICKLIST);
    assert_int_equal(catalogue_field(c, "event", "prs_Gender")->type, FT_TEXT);
    /* defaults: text 200, longtext 10000, multiselect max_items = number of values */
    assert_int_equal(catalogue_field(c, "event", "prs_Gender")->max_length, 200);
    assert_int_equal(catalogue_field(c, "case", "note")->max_length, 10000);
    assert_int_equal(catalogue_field(c, "case", "tags")->max_items, 3);
    assert_true(catalogue_is_country(c, "EC"));
    assert_false(catalogue_is_country(c, "UA"));
    catalogue_free(c);
}

static void test_load_takes_reference(void **state)
{
    (void)state;
    char err[512], text[1024];
    snprintf(text, sizeof text, CAT_HEAD "%s" CAT_TAIL, F_OK1);
    json_t *root = tu_json(text);
    catalogue *c = catalogue_load(root, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(root->refcount, 2);
    json_decref(root);
    /* still usable: field names point into the document */
    assert_ptr_equal(catalogue_json(c), root);
    assert_string_equal(catalogue_field(c, "case", "prs_Gender")->name, "prs_Gender");
    catalogue_free(c);
}

static void test_load_rejects_unknown_type(void **state)
{
    (void)state;
    const char *const needles[] = {"unknown type", "prs_Age", "years", NULL};
    expect_rejected(F_OK1 ",{\"name\":\"prs_Age\",\"section\":\"person\",\"type\":\"years\"}",
                    needles);
}

static void test_load_rejects_picklist_without_values(void **state)
{
    (void)state;
    const char *const n1[] = {"prs_Marital", "needs values", NULL};
    expect_rejected(
        F_OK1 ",{\"name\":\"prs_Marital\",\"section\":\"person\",\"type\":\"picklist\"}", n1);
    expect_rejected(F_OK1 ",{\"name\":\"prs_Marital\",\"section\":\"person\",\"type\":\"picklist\","
                          "\"values\":[]}",
                    n1);
    const char *const n2[] = {"vic_Tags", "multiselect", NULL};
    expect_rejected(F_OK1 ",{\"name\":\"vic_Tags\",\"section\":\"victim\","
                          "\"type\":\"multiselect\"}",
                    n2);
    const char *const n3[] = {"prs_Marital", "no name", NULL};
    expect_rejected(F_OK1 ",{\"name\":\"prs_Marital\",\"section\":\"person\",\"type\":\"picklist\","
                          "\"values\":[{\"name\":\"Single\"},{\"label\":{}}]}",
                    n3);
}

static void test_load_rejects_section_without_entity(void **state)
{
    (void)state;
    const char *const needles[] = {"org_Name", "organisation", "no entity", NULL};
    expect_rejected(F_OK1 ",{\"name\":\"org_Name\",\"section\":\"organisation\",\"type\":\"text\"}",
                    needles);
}

static void test_load_rejects_duplicate_field(void **state)
{
    (void)state;
    /* the same name in two sections of one entity */
    const char *const needles[] = {"case", "prs_Gender", "twice", NULL};
    expect_rejected(F_OK1 ",{\"name\":\"prs_Gender\",\"section\":\"victim\",\"type\":\"text\"}",
                    needles);
    /* or twice in one section */
    expect_rejected(F_OK1 "," F_OK1, needles);
}

static void test_load_rejects_other_malformations(void **state)
{
    (void)state;
    const char *const n1[] = {"name, section or type", NULL};
    expect_rejected(F_OK1 ",{\"name\":\"x\",\"section\":\"person\"}", n1);
    expect_rejected("{\"section\":\"person\",\"type\":\"text\"}", n1);
    const char *const n2[] = {"vic_Industry", "applies_if", NULL};
    expect_rejected(F_OK1 ",{\"name\":\"vic_Industry\",\"section\":\"victim\",\"type\":\"text\","
                          "\"applies_if\":{\"in\":[\"a\"]}}",
                    n2);
    const char *const n3[] = {"x", "required_if", NULL};
    expect_rejected(F_OK1 ",{\"name\":\"x\",\"section\":\"victim\",\"type\":\"text\","
                          "\"required_if\":{\"field\":\"prs_Gender\",\"in\":[1]}}",
                    n3);

    char err[256];
    json_t *root = tu_json("{\"entities\":[]}");
    assert_null(catalogue_load(root, err, sizeof err));
    assert_non_null(strstr(err, "'entities' and 'fields'"));
    json_decref(root);
    root = tu_json("{\"entities\":[{\"sections\":[\"a\"]}],\"fields\":[]}");
    assert_null(catalogue_load(root, err, sizeof err));
    assert_non_null(strstr(err, "entity 0 has no name"));
    json_decref(root);
}

static void test_load_file_errors(void **state)
{
    (void)state;
    char err[512], dir[256], path[300];
    assert_null(catalogue_load_file("/nonexistent/catalogue.json", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/catalogue.json"));

    tu_tmpdir(dir);
    snprintf(path, sizeof path, "%s/cat.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    /* duplicate keys are refused */
    fputs("{\"entities\":[],\n\"fields\":[],\n\"fields\":[]}", f);
    fclose(f);
    assert_null(catalogue_load_file(path, err, sizeof err));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "line 3"));
    /* a valid file loads */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(CAT_HEAD F_OK1 CAT_TAIL, f);
    fclose(f);
    catalogue *c = catalogue_load_file(path, err, sizeof err);
    assert_non_null(c);
    assert_non_null(catalogue_field(c, "case", "prs_Gender"));
    catalogue_free(c);
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_loads),
        cmocka_unit_test(test_every_entity_has_fields),
        cmocka_unit_test(test_field_lookup),
        cmocka_unit_test(test_gender_values),
        cmocka_unit_test(test_field_attributes),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_no_deprecated_fields),
        cmocka_unit_test(test_every_file_field_loadable),
        cmocka_unit_test(test_embedded_matches_file),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_countries),
        cmocka_unit_test(test_languages),
        cmocka_unit_test(test_load_minimal),
        cmocka_unit_test(test_load_takes_reference),
        cmocka_unit_test(test_load_rejects_unknown_type),
        cmocka_unit_test(test_load_rejects_picklist_without_values),
        cmocka_unit_test(test_load_rejects_section_without_entity),
        cmocka_unit_test(test_load_rejects_duplicate_field),
        cmocka_unit_test(test_load_rejects_other_malformations),
        cmocka_unit_test(test_load_file_errors),
    };
    return cmocka_run_group_tests(tests, tu_catalogue_setup, tu_catalogue_teardown);
}
