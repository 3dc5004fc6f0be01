/* test_standard_reports.c — the standard report packs: indicators as
 * `amparo indicator create` makes them, with their targets and actuals in
 * JSON, CSV and XLSX; record figures that leave out cases without statistics
 * consent; amounts never summed across currencies; one population per pack
 * (victims assisted = cases helped in the year) with consistent totals; shelter
 * occupancy labelled by shelter name; files that say what they count. */
#include "care_testutil.h"

#include "core/indicators.h"
#include "core/report.h"
#include "core/shelters.h"
#include "core/standard_reports.h"

#include <zlib.h>

static tu_env *env;

#define SHELTER_ID "0190a000-0000-7000-8000-00000000aaaa"
#define STAY_DOC                                                                                   \
    "{\"shelter\":\"" SHELTER_ID "\",\"admitted_on\":\"2026-02-01\",\"status\":\"Admitted\"}"

typedef struct {
    const char *kind, *uid, *case_uid, *org2, *doc;
} rec_job;

static int job_put(store_tx *tx, void *arg)
{
    const rec_job *j = arg;
    store_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.kind, sizeof r.kind, "%s", j->kind);
    snprintf(r.uid, sizeof r.uid, "%s", j->uid);
    snprintf(r.case_uid, sizeof r.case_uid, "%s", j->case_uid ? j->case_uid : "");
    snprintf(r.org, sizeof r.org, "org-a");
    snprintf(r.org2, sizeof r.org2, "%s", j->org2 ? j->org2 : "");
    snprintf(r.status, sizeof r.status, "%s", strcmp(j->kind, "stay") == 0 ? "Admitted" : "");
    snprintf(r.created_at, sizeof r.created_at, "2026-03-01T10:00:00.000Z");
    snprintf(r.updated_at, sizeof r.updated_at, "2026-03-01T10:00:00.000Z");
    snprintf(r.created_by, sizeof r.created_by, "t");
    snprintf(r.updated_by, sizeof r.updated_by, "t");
    r.doc = tu_json(j->doc);
    int rc = store_tx_record_put(tx, &r, 0);
    json_decref(r.doc);
    return rc;
}

static void put_record(const char *kind, const char *uid, const char *case_uid, const char *org2,
                       const char *doc)
{
    rec_job j = {kind, uid, case_uid, org2, doc};
    assert_int_equal(store_run(env->store, job_put, &j), STORE_OK);
}

/* A case registered on reg, whose consent covers statistics or not. */
static void mk_case(const char *status, const char *reg, bool stats, char id[40])
{
    char extra[600];
    snprintf(extra, sizeof extra,
             "\"amp_RegistrationDate\":\"%s\",\"prs_Citizenship\":[\"EC\"],"
             "\"con_Consent\":true,\"amp_ConsentDate\":\"%s\","
             "\"amp_ConsentScope\":[\"Registration\"%s],\"vic_TraffickingStatus\":\"%s\"",
             reg, reg, stats ? ",\"Statistics\"" : "", status);
    ct_case(env, "org-a", extra, id);
}

/* The world of these tests (2026, today 2026-06-15; threshold 3):
 *  - 12 victims registered in 2026 with statistics consent, each with one
 *    assistance record (6 in COP costing 1000, 6 in USD costing 10);
 *  - 3 victims registered in 2026 without it, each with assistance in USD
 *    costing 500, and a shelter stay;
 *  - 1 case found not to be a victim in 2026, 1 victim registered in 2025
 *    (both consenting, not assisted);
 *  - shelter "Casa Uno" with 4 stays of consenting cases;
 *  - the indicator victims_assisted_2026 (cases_assisted, target 10). */
static int setup(void **state)
{
    (void)state;
    setenv("AMPARO_REPORT_THRESHOLD", "3", 1);
    env = tu_env_new();
    ct_world(env);
    put_record("shelter", SHELTER_ID, NULL, NULL,
               "{\"name\":\"Casa Uno\",\"capacity\":{\"Bed\":10},\"opened_on\":\"2020-01-01\"}");
    char id[40], uid[48];
    for (int i = 0; i < 15; i++) {
        bool stats = i < 12;
        mk_case("ActualVictimOfTrafficking", "2026-02-10", stats, id);
        char doc[200];
        snprintf(doc, sizeof doc,
                 "{\"type\":\"Medical\",\"start_date\":\"2026-03-01\",\"cost\":%s,"
                 "\"currency\":\"%s\"}",
                 stats ? (i < 6 ? "1000" : "10") : "500", stats && i < 6 ? "COP" : "USD");
        snprintf(uid, sizeof uid, "0190a000-0000-7000-8000-0000000001%02d", i);
        put_record("assistance", uid, id, NULL, doc);
        if (i >= 8) { /* stays: 4 consenting cases and the 3 without consent */
            snprintf(uid, sizeof uid, "0190a000-0000-7000-8000-0000000002%02d", i);
            put_record("stay", uid, id, SHELTER_ID, STAY_DOC);
        }
    }
    mk_case("NotAVictimOfTrafficking", "2026-04-01", true, id);
    mk_case("ActualVictimOfTrafficking", "2025-05-01", true, id);
    principal in = ct_internal();
    amp_err err = {0};
    json_t *b = tu_json("{\"code\":\"victims_assisted_2026\",\"name\":\"Victims assisted\","
                        "\"measure\":\"cases_assisted\","
                        "\"targets\":[{\"period\":\"2025\",\"target\":99},"
                        "{\"period\":\"2026\",\"target\":10}]}"),
           *out = NULL;
    CT_OK(CARE_SYNC(&out, &err, indicators_create, env->core, &in, b), err);
    json_decref(b);
    json_decref(out);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    reports_forget(env->core);
    tu_env_free(env);
    unsetenv("AMPARO_REPORT_THRESHOLD");
    return 0;
}

static json_t *pack(const char *name)
{
    principal in = ct_internal();
    amp_err err = {0};
    json_t *out = NULL;
    CT_OK(standard_report_run(env->core, &in, name, "2026", &out, &err), err);
    return out;
}

static const json_t *table(const json_t *p, const char *name)
{
    size_t i;
    const json_t *t;
    json_array_foreach (json_object_get(p, "tables"), i, t) {
        if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0)
            return t;
    }
    fail_msg("no table %s", name);
    return NULL;
}

/* The cell whose keys are k (NULL: a margin), from cells or totals; NULL if absent. */
static const json_t *find_cell(const json_t *t, const char *k0, const char *k1)
{
    const char *arrays[] = {"cells", "totals"};
    for (int a = 0; a < 2; a++) {
        size_t i;
        const json_t *c;
        json_array_foreach (json_object_get(t, arrays[a]), i, c) {
            const json_t *keys = json_object_get(c, "keys");
            const json_t *x0 = json_array_get(keys, 0), *x1 = json_array_get(keys, 1);
            bool m0 = k0 ? json_is_string(x0) && strcmp(json_string_value(x0), k0) == 0
                         : json_is_null(x0);
            bool m1 = json_array_size(keys) < 2 ||
                      (k1 ? json_is_string(x1) && strcmp(json_string_value(x1), k1) == 0
                          : json_is_null(x1));
            if (m0 && m1)
                return c;
        }
    }
    return NULL;
}

/* The grand total of a crosstab. */
static json_int_t grand_total(const json_t *t)
{
    const json_t *tot = json_object_get(t, "totals");
    return json_integer_value(
        json_object_get(json_array_get(tot, json_array_size(tot) - 1), "count"));
}

static json_int_t excluded(const json_t *t)
{
    return json_integer_value(
        json_object_get(json_object_get(t, "population"), "excluded_without_statistics_consent"));
}

static void test_indicators_against_targets(void **state)
{
    (void)state;
    json_t *p = pack("donor-results");
    const json_t *ind = table(p, "indicators");
    assert_int_equal(json_array_size(json_object_get(ind, "items")), 1);
    const json_t *it = json_array_get(json_object_get(ind, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(it, "code")), "victims_assisted_2026");
    assert_string_equal(json_string_value(json_object_get(it, "measure")), "cases_assisted");
    assert_int_equal(json_integer_value(json_object_get(it, "target")),
                     10); /* 2026's, not 2025's */
    /* the same actual as the indicator module computes for the year */
    double want = 0;
    amp_err err = {0};
    CT_OK(indicators_measure(env->core, "cases_assisted", NULL, "2026-01-01", "2026-12-31", &want,
                             &err),
          err);
    assert_true(want == 15);
    assert_true(json_number_value(json_object_get(it, "actual")) == want);
    assert_true(json_number_value(json_object_get(it, "achieved_percent")) == 150.0);
    assert_true(json_is_true(json_object_get(it, "met")));
    json_decref(p);
}

/* Assistance, stays and referrals of cases without statistics consent are
 * left out of published figures, and the answer says how many. */
static void test_records_of_non_consenting_cases_left_out(void **state)
{
    (void)state;
    principal analyst = ct_user("an", "org-a", ROLE_ANALYST);
    list_param ps[] = {{"entity", "assistance"}, {"dims", "type"}};
    json_t *t = NULL;
    amp_err err = {0};
    CT_OK(report_crosstab(env->core, &analyst, ps, 2, &t, &err), err);
    assert_int_equal(grand_total(t), 12);
    assert_int_equal(excluded(t), 3);
    json_decref(t);
    list_param st[] = {{"entity", "stays"}, {"dims", "shelter"}, {"publish", "true"}};
    principal in = ct_internal();
    CT_OK(report_crosstab(env->core, &in, st, 3, &t, &err), err);
    assert_int_equal(grand_total(t), 4);
    assert_int_equal(excluded(t), 3);
    /* the shelter is named, not shown by its id */
    const json_t *cat =
        json_array_get(json_object_get(json_object_get(t, "categories"), "shelter"), 0);
    assert_string_equal(json_string_value(json_object_get(cat, "code")), SHELTER_ID);
    assert_string_equal(json_string_value(json_object_get(json_object_get(cat, "label"), "en")),
                        "Casa Uno");
    json_decref(t);
    /* uncontrolled internal figures still count every record */
    list_param all[] = {{"entity", "assistance"}, {"dims", "type"}};
    CT_OK(report_crosstab(env->core, &in, all, 2, &t, &err), err);
    assert_int_equal(grand_total(t), 15);
    assert_null(
        json_object_get(json_object_get(t, "population"), "excluded_without_statistics_consent"));
    json_decref(t);
}

static void test_cost_per_currency(void **state)
{
    (void)state;
    principal in = ct_internal();
    amp_err err = {0};
    json_t *t = NULL;
    /* not split by currency: the currency dimension is added */
    list_param ps[] = {
        {"entity", "assistance"}, {"dims", "type"}, {"measure", "sum:cost"}, {"publish", "true"}};
    CT_OK(report_crosstab(env->core, &in, ps, 4, &t, &err), err);
    assert_int_equal(json_array_size(json_object_get(t, "dims")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(t, "dims"), 1)),
                        "currency");
    assert_true(json_number_value(json_object_get(find_cell(t, "Medical", "COP"), "sum")) == 6000);
    /* 6 × 10 USD: the 3 × 500 USD of non-consenting cases are left out */
    assert_true(json_number_value(json_object_get(find_cell(t, "Medical", "USD"), "sum")) == 60);
    /* over both currencies: the count, no sum */
    const json_t *mixed = find_cell(t, "Medical", NULL);
    assert_int_equal(json_integer_value(json_object_get(mixed, "count")), 12);
    assert_true(json_is_null(json_object_get(mixed, "sum")));
    assert_true(json_is_null(json_object_get(find_cell(t, NULL, NULL), "sum")));
    assert_non_null(json_object_get(t, "measure_note"));
    json_decref(t);
    /* one currency by a filter: no split needed */
    list_param one[] = {{"entity", "assistance"},
                        {"dims", "type"},
                        {"measure", "mean:cost"},
                        {"currency", "USD"},
                        {"publish", "true"}};
    CT_OK(report_crosstab(env->core, &in, one, 5, &t, &err), err);
    assert_int_equal(json_array_size(json_object_get(t, "dims")), 1);
    assert_true(json_number_value(json_object_get(find_cell(t, "Medical", NULL), "mean")) == 10);
    json_decref(t);
    /* four dimensions already: refused, naming the field and the rule */
    list_param four[] = {
        {"entity", "assistance"}, {"dims", "year,quarter,month,type"}, {"measure", "sum:cost"}};
    assert_int_equal(report_crosstab(env->core, &in, four, 3, &t, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "dims", "currency_required"));
    amp_err_clear(&err);
    /* assisted_from/assisted_to select cases: refused on a record entity */
    list_param wrong[] = {
        {"entity", "assistance"}, {"dims", "type"}, {"assisted_from", "2026-01-01"}};
    assert_int_equal(report_crosstab(env->core, &in, wrong, 3, &t, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "assisted_from", "cases_only"));
    amp_err_clear(&err);
    /* the donor pack's table is by type and currency */
    json_t *p = pack("donor-results");
    const json_t *at = table(p, "assistance_by_type");
    assert_true(json_number_value(json_object_get(find_cell(at, "Medical", "USD"), "sum")) == 60);
    assert_true(json_is_null(json_object_get(find_cell(at, NULL, NULL), "sum")));
    json_decref(p);
}

/* The donor pack counts the cases helped in the year; the action plan counts
 * victims (actual or presumed) registered in the year: within each pack the
 * case tables agree. */
static void test_pack_populations_consistent(void **state)
{
    (void)state;
    json_t *d = pack("donor-results");
    assert_non_null(json_string_value(json_object_get(d, "population")));
    const json_t *va = table(d, "victims_assisted"), *fv = table(d, "foreign_victims");
    assert_int_equal(grand_total(va), 12);
    assert_int_equal(grand_total(fv), 12);
    /* with those left out for consent, the indicator's actual */
    const json_t *it = json_array_get(json_object_get(table(d, "indicators"), "items"), 0);
    assert_true((double)(grand_total(va) + excluded(va)) ==
                json_number_value(json_object_get(it, "actual")));
    json_decref(d);
    json_t *a = pack("action-plan");
    static const char *const victims[] = {"victims_by_year_sex", "victims_by_age_sex",
                                          "victims_by_nationality", "victims_by_exploitation",
                                          "victims_by_route"};
    for (size_t i = 0; i < sizeof victims / sizeof *victims;
         i++) /* not the 2025 case, not the non-victim */
        assert_int_equal(grand_total(table(a, victims[i])), 12);
    assert_int_equal(grand_total(table(a, "victims_assisted")), 12);
    assert_int_equal(grand_total(table(a, "status_decisions")), 13);
    const json_t *occ = table(a, "shelter_occupancy");
    const json_t *row = json_array_get(json_object_get(occ, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(row, "shelter")), "Casa Uno");
    assert_int_equal(json_integer_value(json_object_get(row, "stays")), 4);
    json_t *sd = tu_json(STAY_DOC);
    int nights = shelters_stay_nights(sd, "2026-01-01", "2026-12-31", TEST_TODAY);
    json_decref(sd);
    assert_true(nights > 100);
    assert_int_equal(json_integer_value(json_object_get(row, "bed_nights")), 4 * nights);
    assert_int_equal(excluded(occ), 3);
    json_decref(a);
}

/* ---- files ---- */

/* The text of member `name` of a zip archive (malloc'd), from its central directory. */
static char *zip_member(const unsigned char *z, size_t n, const char *name)
{
    size_t eocd = n >= 22 ? n - 22 : 0;
    while (eocd > 0 && memcmp(z + eocd, "PK\5\6", 4) != 0)
        eocd--;
#define U16(p) ((unsigned)(p)[0] | (unsigned)(p)[1] << 8)
#define U32(p) ((size_t)U16(p) | (size_t)U16((p) + 2) << 16)
    size_t entries = U16(z + eocd + 10), cd = U32(z + eocd + 16);
    for (size_t e = 0; e < entries; e++) {
        const unsigned char *h = z + cd;
        size_t method = U16(h + 10), csize = U32(h + 20), usize = U32(h + 24);
        size_t nlen = U16(h + 28), xlen = U16(h + 30), clen = U16(h + 32), off = U32(h + 42);
        if (nlen == strlen(name) && memcmp(h + 46, name, nlen) == 0) {
            const unsigned char *l = z + off;
            const unsigned char *data = l + 30 + U16(l + 26) + U16(l + 28);
            char *out = calloc(usize + 1, 1);
            if (method == 0) {
                memcpy(out, data, usize);
                return out;
            }
            z_stream s = {0};
            inflateInit2(&s, -MAX_WBITS);
            s.next_in = (unsigned char *)data;
            s.avail_in = (uInt)csize;
            s.next_out = (unsigned char *)out;
            s.avail_out = (uInt)usize;
            inflate(&s, Z_FINISH);
            inflateEnd(&s);
            return out;
        }
        cd += 46 + nlen + xlen + clen;
    }
#undef U16
#undef U32
    return NULL;
}

static json_t *file_tables(json_t *p)
{
    return json_incref(json_object_get(p, "tables"));
}

static void test_files_carry_indicators_and_notes(void **state)
{
    (void)state;
    json_t *p = pack("donor-results");
    json_t *tables = file_tables(p);
    size_t n = 0;
    char *csv = report_render_csv_pack(tables, NULL, &n);
    assert_non_null(csv);
    /* the indicators table first, with target, actual, achievement */
    assert_true(strncmp(csv, "# Indicators against targets\r\n", 30) == 0);
    assert_non_null(strstr(csv, "code,name,measure,target,actual,achieved_percent,met,flag\r\n"));
    assert_non_null(
        strstr(csv, "victims_assisted_2026,Victims assisted,cases_assisted,10,15,150,yes,"));
    /* what the figures count, in words */
    assert_non_null(strstr(csv, "# Figures count cases (people)"));
    assert_non_null(strstr(csv, "# Figures count records of assistance"));
    assert_non_null(strstr(csv, "3 left out because their consent does not allow statistics"));
    free(csv);
    unsigned char *x = report_render_xlsx(tables, NULL, &n);
    assert_non_null(x);
    char *wb = zip_member(x, n, "xl/workbook.xml");
    assert_non_null(wb);
    assert_non_null(strstr(wb, "name=\"1 indicators\""));
    assert_non_null(strstr(wb, "name=\"Notes\""));
    free(wb);
    char *strings = zip_member(x, n, "xl/sharedStrings.xml");
    assert_non_null(strings);
    assert_non_null(strstr(strings, "victims_assisted_2026"));
    assert_non_null(strstr(strings, "achieved_percent"));
    assert_non_null(strstr(strings, "Figures count cases (people)"));
    assert_null(strstr(strings, "{&quot;applied&quot;")); /* notes in words, not JSON */
    assert_null(strstr(strings, "{\"applied\""));
    free(strings);
    /* the indicator's row: its target, actual and achievement are numbers */
    char *sheet = zip_member(x, n, "xl/worksheets/sheet1.xml");
    assert_non_null(sheet);
    assert_non_null(strstr(sheet, "<v>10</v>"));
    assert_non_null(strstr(sheet, "<v>15</v>"));
    assert_non_null(strstr(sheet, "<v>150</v>"));
    free(sheet);
    free(x);
    json_decref(tables);
    json_decref(p);
}

/* A multi-valued dimension: the file says whether it counts cases or mentions. */
static void test_files_say_cases_or_mentions(void **state)
{
    (void)state;
    principal in = ct_internal();
    amp_err err = {0};
    json_t *t = NULL;
    list_param cases[] = {{"dims", "citizenship"}, {"publish", "true"}};
    CT_OK(report_crosstab(env->core, &in, cases, 2, &t, &err), err);
    size_t n = 0;
    char *csv = report_render_csv(t, NULL, &n);
    assert_true(strncmp(csv, "citizenship,count,flag\r\n", 24) == 0);
    assert_non_null(strstr(csv, "# Figures count cases (people): a case with several values"));
    free(csv);
    json_decref(t);
    list_param mentions[] = {{"dims", "citizenship"}, {"count", "mentions"}, {"publish", "true"}};
    CT_OK(report_crosstab(env->core, &in, mentions, 3, &t, &err), err);
    csv = report_render_csv(t, NULL, &n);
    assert_non_null(strstr(csv, "# Figures count mentions"));
    free(csv);
    json_decref(t);
}

/* Records by a characteristic of their case (the entity has no such dimension
 * of its own): assistance by the person's gender and age group, and filtered
 * by it; the dimensions list says which come from the case.  Last: it adds a
 * case and a record to the world. */
static void test_records_by_case_dimensions(void **state)
{
    (void)state;
    char id[40];
    ct_case(env, "org-a",
            "\"prs_Gender\":\"Masculine\",\"prs_Birthdate\":\"2010-01-01\","
            "\"amp_RegistrationDate\":\"2026-02-10\"",
            id);
    put_record("assistance", "0190a000-0000-7000-8000-000000000300", id, NULL,
               "{\"type\":\"LegalAid\",\"start_date\":\"2026-03-01\"}");
    principal in = ct_internal();
    amp_err err = {0};
    json_t *t = NULL;
    list_param ps[] = {{"entity", "assistance"}, {"dims", "type,gender"}};
    CT_OK(report_crosstab(env->core, &in, ps, 2, &t, &err), err);
    assert_int_equal(
        json_integer_value(json_object_get(find_cell(t, "Medical", "Feminine"), "count")), 15);
    assert_int_equal(
        json_integer_value(json_object_get(find_cell(t, "LegalAid", "Masculine"), "count")), 1);
    assert_null(find_cell(t, "Medical", "Masculine"));
    json_decref(t);
    /* a filter on the case's gender */
    list_param fs[] = {{"entity", "assistance"}, {"dims", "type"}, {"gender", "Masculine"}};
    CT_OK(report_crosstab(env->core, &in, fs, 3, &t, &err), err);
    assert_int_equal(grand_total(t), 1);
    assert_non_null(find_cell(t, "LegalAid", NULL));
    json_decref(t);
    /* age groups in their natural order: the boy was 16, the others have no birth date */
    list_param as[] = {{"entity", "assistance"}, {"dims", "age_group"}};
    CT_OK(report_crosstab(env->core, &in, as, 2, &t, &err), err);
    assert_int_equal(json_integer_value(json_object_get(find_cell(t, "9--17", NULL), "count")), 1);
    assert_int_equal(json_integer_value(json_object_get(find_cell(t, "_none", NULL), "count")), 15);
    const json_t *cats = json_array_get(json_object_get(t, "categories"), 0);
    if (json_is_array(cats) && json_array_size(cats) > 2) {
        assert_string_equal(json_string_value(json_array_get(cats, 0)), "0--8");
        assert_string_equal(json_string_value(json_array_get(cats, 1)), "9--17");
    }
    json_decref(t);
    /* a record entity's own dimension wins; an unknown name is still an error */
    list_param bad[] = {{"entity", "assistance"}, {"dims", "shoe_size"}};
    assert_int_equal(report_crosstab(env->core, &in, bad, 2, &t, &err), AMP_EINVALID);
    amp_err_clear(&err);
    json_t *d = reports_dimensions(env->core);
    bool of_case = false;
    size_t i, k;
    json_t *ent, *dim;
    json_array_foreach (json_object_get(d, "entities"), i, ent) {
        if (strcmp(json_string_value(json_object_get(ent, "name")), "assistance") != 0)
            continue;
        json_array_foreach (json_object_get(ent, "dimensions"), k, dim) {
            if (strcmp(json_string_value(json_object_get(dim, "name")), "gender") == 0)
                of_case = json_is_true(json_object_get(dim, "of_case"));
        }
    }
    json_decref(d);
    assert_true(of_case);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_indicators_against_targets),
        cmocka_unit_test(test_records_of_non_consenting_cases_left_out),
        cmocka_unit_test(test_cost_per_currency),
        cmocka_unit_test(test_pack_populations_consistent),
        cmocka_unit_test(test_files_carry_indicators_and_notes),
        cmocka_unit_test(test_files_say_cases_or_mentions),
        cmocka_unit_test(test_records_by_case_dimensions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
