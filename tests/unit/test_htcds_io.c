/* test_htcds_io.c — HTCDS exchange: CSV and JSON round trips, XForm CSV/XML
 * submissions as KoboToolbox and ODK export them, every class of import error
 * (with line, column, field and rule), dry runs and all-or-nothing imports. */
#include "core/audit.h"
#include "core/htcds_io.h"
#include "testutil.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

static principal admin;
static char *sql_dump(tu_env *e, const char *sql);

static tu_env *fresh(void)
{
    tu_env *e = tu_env_new();
    admin = e->who;
    admin.internal = true;
    const char *orgs[] = {"org-a", "org-b"};
    for (int i = 0; i < 2; i++) {
        char body[200];
        snprintf(body, sizeof body, "{\"id\":\"%s\",\"org_Name\":\"%s\",\"org_Type\":\"NGO\"}",
                 orgs[i], orgs[i]);
        json_t *b = tu_json(body), *out = NULL;
        amp_err err = {0};
        assert_int_equal(orgs_put(e->core, &admin, b, &out, &err), AMP_OK);
        json_decref(out);
        json_decref(b);
    }
    return e;
}

static int64_t ncases(tu_env *e)
{
    int64_t n = -1;
    assert_int_equal(store_count_cases(e->store, &n), STORE_OK);
    return n;
}

static json_t *import(tu_env *e, htcds_format f, bool dry, const char *text, amp_code want)
{
    htcds_import_options o = {.format = f, .dry_run = dry};
    json_t *rep = NULL;
    amp_err err = {0};
    amp_code code = htcds_import(e->core, &admin, text, strlen(text), &o, &rep, &err);
    if (code != want) {
        char *t = rep ? json_dumps(rep, 0) : NULL;
        fail_msg("import: %d (%s) wanted %d: %s", code, err.message, want, t ? t : "");
    }
    amp_err_clear(&err);
    assert_non_null(rep);
    return rep;
}

/* True when the report lists an error on line/column/field/rule (column NULL: any). */
static bool has_error(const json_t *rep, long line, const char *column, const char *field,
                      const char *rule)
{
    size_t i;
    const json_t *e;
    json_array_foreach (json_object_get(rep, "errors"), i, e) {
        const char *c = json_string_value(json_object_get(e, "column"));
        if (json_integer_value(json_object_get(e, "line")) == line &&
            strcmp(json_string_value(json_object_get(e, "field")), field) == 0 &&
            strcmp(json_string_value(json_object_get(e, "rule")), rule) == 0 &&
            (!column || (c && strcmp(c, column) == 0)))
            return true;
    }
    char *t = json_dumps(rep, 0);
    fprintf(stderr, "no error %ld/%s/%s/%s in %s\n", line, column ? column : "*", field, rule, t);
    free(t);
    return false;
}

static char *export_text(tu_env *e, htcds_format f, bool identity)
{
    char *data = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&data, &len);
    json_t *summary = NULL;
    amp_err err = {0};
    assert_int_equal(htcds_export(e->core, &admin, f, identity, out, &summary, &err), AMP_OK);
    fclose(out);
    json_decref(summary);
    return data;
}

static const char *const seed_cases[] = {
    "{\"prs_FirstName\":\"Ana\",\"prs_Birthdate\":\"1990-02-03\",\"prs_Gender\":\"Feminine\","
    "\"prs_Citizenship\":[\"EC\",\"CO\"],\"vic_TraffickingStatus\":\"ActualVictimOfTrafficking\","
    "\"vic_TypeOfExploitation\":[\"ForcedLabour\",\"SexualExploitation\"],"
    "\"vic_ForcedLabourIndustry\":\"C_Manufacturing\",\"vic_AgeWhenTrafficked\":24,"
    "\"con_Consent\":true,\"amp_ConsentScope\":[\"Registration\",\"Statistics\"],"
    "\"amp_ConsentDate\":\"2025-01-02\",\"amp_RegistrationDate\":\"2025-01-02\","
    "\"amp_OwnerOrganisation\":\"org-a\",\"cas_Status\":\"Closed\","
    "\"cas_ReasonForCaseClosure\":\"Moved, \\\"safely\\\"\\nto family\","
    "\"events\":[{\"hte_Type\":\"Exploitation\",\"hte_Country\":\"PE\"}]}",
    "{\"prs_Gender\":\"Masculine\",\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\","
    "\"amp_RegistrationDate\":\"2024-11-30\",\"amp_OwnerOrganisation\":\"org-b\"}",
};

static void seed(tu_env *e)
{
    for (size_t i = 0; i < sizeof seed_cases / sizeof *seed_cases; i++) {
        json_t *b = tu_json(seed_cases[i]), *out = NULL;
        amp_err err = {0};
        assert_int_equal(cases_create_sync(e->core, &admin, b, &out, &err), AMP_OK);
        json_decref(out);
        json_decref(b);
    }
}

static void test_csv_round_trip(void **state)
{
    (void)state;
    tu_env *a = fresh(), *b = fresh();
    seed(a);
    char *first = export_text(a, HTCDS_CSV, true);
    assert_non_null(strstr(first, "EC;CO"));
    assert_non_null(strstr(first, "\"Moved, \"\"safely\"\"\nto family\""));
    json_t *rep = import(b, HTCDS_CSV, false, first, AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(rep, "imported")), 2);
    json_decref(rep);
    char *second = export_text(b, HTCDS_CSV, true);
    assert_string_equal(first, second);
    /* without identity fields: no name column at all */
    char *anon = export_text(a, HTCDS_CSV, false);
    assert_null(strstr(anon, "prs_FirstName"));
    assert_null(strstr(anon, "Ana"));
    free(first);
    free(second);
    free(anon);
    tu_env_free(a);
    tu_env_free(b);
}

static json_t *without_meta(const char *text)
{
    json_t *arr = tu_json(text);
    static const char *const keys[] = {"id",         "reference",  "version",    "created_at",
                                       "updated_at", "created_by", "updated_by", NULL};
    size_t i;
    json_t *rec;
    json_array_foreach (arr, i, rec) {
        for (int k = 0; keys[k]; k++)
            json_object_del(rec, keys[k]);
        const char *key;
        json_t *v;
        json_object_foreach (rec, key, v) {
            size_t j;
            json_t *ch;
            if (json_is_array(v) && core_child_kind(key))
                json_array_foreach (v, j, ch)
                    for (int k = 0; keys[k]; k++)
                        json_object_del(ch, keys[k]);
        }
    }
    return arr;
}

static void test_json_round_trip(void **state)
{
    (void)state;
    tu_env *a = fresh(), *b = fresh();
    seed(a);
    char *first = export_text(a, HTCDS_JSON, true);
    json_t *rep = import(b, HTCDS_JSON, false, first, AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(rep, "imported")), 2);
    json_decref(rep);
    char *second = export_text(b, HTCDS_JSON, true);
    json_t *x = without_meta(first), *y = without_meta(second);
    assert_true(json_equal(x, y));
    /* the event survived */
    assert_int_equal(json_array_size(json_object_get(json_array_get(y, 0), "events")), 1);
    json_decref(x);
    json_decref(y);
    free(first);
    free(second);
    tu_env_free(a);
    tu_env_free(b);
}

/* The one case of e (a new reference). */
static json_t *only_case(tu_env *e)
{
    store_query q = {.limit = 10};
    store_row *rows = NULL;
    int n = 0;
    int64_t total = 0;
    assert_int_equal(store_case_list(e->store, &q, &rows, &n, &total), STORE_OK);
    assert_int_equal(n, 1);
    json_t *rec = NULL;
    amp_err err = {0};
    assert_int_equal(cases_get(e->core, &admin, rows[0].uid, &rec, &err), AMP_OK);
    for (int i = 0; i < n; i++)
        store_row_release(&rows[i]);
    free(rows);
    return rec;
}

/* A case whose identity fields the rules require: closed (a closure reason)
 * with a comment (its text). */
static const char closed_case[] =
    "{\"prs_FirstName\":\"Ana\",\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":"
    "\"ActualVictimOfTrafficking\",\"amp_RegistrationDate\":\"2025-01-02\","
    "\"amp_OwnerOrganisation\":\"org-a\",\"cas_Status\":\"Closed\","
    "\"cas_ReasonForCaseClosure\":\"Went home to her family in Quito\","
    "\"comments\":[{\"cco_CaseComment\":\"Called her sister on 3 May\"}]}";

static void test_round_trip_without_identity(void **state)
{
    (void)state;
    tu_env *a = fresh();
    json_t *b0 = tu_json(closed_case), *out = NULL;
    amp_err err = {0};
    assert_int_equal(cases_create_sync(a->core, &admin, b0, &out, &err), AMP_OK);
    json_decref(out);
    json_decref(b0);
    for (int format = 0; format < 2; format++) {
        htcds_format f = format ? HTCDS_JSON : HTCDS_CSV;
        char *first = export_text(a, f, false);
        assert_null(strstr(first, "Quito"));
        assert_null(strstr(first, "sister"));
        tu_env *b = fresh();
        /* the file says it holds no identity, and imports as it is */
        json_t *rep = import(b, f, false, first, AMP_OK);
        assert_true(json_is_true(json_object_get(rep, "identity_withheld")));
        assert_int_equal(json_integer_value(json_object_get(rep, "imported")), 1);
        json_decref(rep);
        json_t *rec = only_case(b);
        assert_string_equal(json_string_value(json_object_get(rec, "cas_Status")), "Closed");
        assert_string_equal(json_string_value(json_object_get(rec, "cas_ReasonForCaseClosure")),
                            "[withheld: exported without identity fields]");
        if (f == HTCDS_JSON) {
            json_t *cm = json_array_get(json_object_get(rec, "comments"), 0);
            assert_string_equal(json_string_value(json_object_get(cm, "cco_CaseComment")),
                                "[withheld: exported without identity fields]");
        }
        json_decref(rec);
        /* and exported again without identity it is the same file */
        char *second = export_text(b, f, false);
        if (f == HTCDS_CSV) {
            assert_string_equal(first, second);
        } else {
            json_t *x = tu_json(first), *y = tu_json(second);
            char *xt = json_dumps(json_object_get(x, "items"), 0);
            char *yt = json_dumps(json_object_get(y, "items"), 0);
            json_t *xi = without_meta(xt), *yi = without_meta(yt);
            free(xt);
            free(yt);
            assert_true(json_is_false(json_object_get(y, "identity")));
            assert_true(json_equal(xi, yi));
            json_decref(x);
            json_decref(y);
            json_decref(xi);
            json_decref(yi);
        }
        free(first);
        free(second);
        tu_env_free(b);
    }
    /* a file that holds identity fields is not excused: the rule still applies */
    tu_env *c = fresh();
    const char *named = "prs_FirstName,prs_Gender,vic_TraffickingStatus,cas_Status\n"
                        "Eva,Feminine,ActualVictimOfTrafficking,Closed\n";
    json_t *rep = import(c, HTCDS_CSV, true, named, AMP_EINVALID);
    assert_true(has_error(rep, 2, NULL, "cas_ReasonForCaseClosure", "required_if"));
    json_decref(rep);
    /* unless the caller says the file was exported without identity */
    htcds_import_options o = {.format = HTCDS_CSV, .dry_run = true, .identity_withheld = true};
    rep = NULL;
    assert_int_equal(htcds_import(c->core, &admin, named, strlen(named), &o, &rep, &err), AMP_OK);
    json_decref(rep);
    amp_err_clear(&err);
    tu_env_free(c);
    tu_env_free(a);
}

/* on_error: every error, in order, however few the report keeps. */
typedef struct {
    size_t n;
    long last_line;
    bool ordered;
} error_tally;

static void tally_error(void *arg, const json_t *e)
{
    error_tally *t = arg;
    long line = (long)json_integer_value(json_object_get(e, "line"));
    t->ordered = t->ordered && line >= t->last_line;
    t->last_line = line;
    t->n++;
}

static void test_every_error_is_reported(void **state)
{
    (void)state;
    tu_env *e = fresh();
    /* 3000 rows, each with two errors */
    size_t cap = 64 * 3100, len = 0;
    char *csv = malloc(cap);
    len += (size_t)snprintf(csv + len, cap - len, "prs_Gender,vic_TraffickingStatus\n");
    for (int i = 0; i < 3000; i++)
        len += (size_t)snprintf(csv + len, cap - len, "Purple,Nonsense%d\n", i);
    for (int threads = 1; threads <= 3; threads += 2) {
        error_tally t = {.ordered = true};
        htcds_import_options o = {.format = HTCDS_CSV,
                                  .dry_run = true,
                                  .max_errors = 5,
                                  .threads = threads,
                                  .on_error = tally_error,
                                  .on_error_arg = &t};
        json_t *rep = NULL;
        amp_err err = {0};
        assert_int_equal(htcds_import(e->core, &admin, csv, len, &o, &rep, &err), AMP_EINVALID);
        assert_int_equal(t.n, 6000);
        assert_true(t.ordered);
        assert_int_equal(t.last_line, 3001);
        assert_int_equal(json_integer_value(json_object_get(rep, "error_count")), 6000);
        assert_int_equal(json_array_size(json_object_get(rep, "errors")), 5); /* bounded */
        assert_true(json_is_true(json_object_get(rep, "truncated")));
        json_decref(rep);
        amp_err_clear(&err);
    }
    free(csv);
    tu_env_free(e);
}

/* The error of record `record` with field/rule, or NULL. */
static const json_t *record_error(const json_t *rep, long record, const char *field,
                                  const char *rule)
{
    size_t i;
    const json_t *e;
    json_array_foreach (json_object_get(rep, "errors"), i, e) {
        if (json_integer_value(json_object_get(e, "record")) == record &&
            strcmp(json_string_value(json_object_get(e, "field")), field) == 0 &&
            strcmp(json_string_value(json_object_get(e, "rule")), rule) == 0)
            return e;
    }
    return NULL;
}

static void test_one_line_json_names_the_record(void **state)
{
    (void)state;
    tu_env *e = fresh();
    const char *one = "[{\"prs_Gender\":\"Mujer\",\"vic_TraffickingStatus\":"
                      "\"ActualVictimOfTrafficking\",\"bogus\":1},{\"prs_Gender\":5}, 7, "
                      "{\"vic_AgeWhenTrafficked\":\"12\"}]";
    json_t *rep = import(e, HTCDS_JSON, true, one, AMP_EINVALID);
    const json_t *g = record_error(rep, 1, "prs_Gender", "picklist");
    assert_non_null(g);
    /* a short picklist lists its values */
    assert_non_null(strstr(json_string_value(json_object_get(g, "message")),
                           "allowed: Feminine, Masculine, TransgenderFeminine"));
    assert_non_null(record_error(rep, 1, "bogus", "unknown_field"));
    assert_non_null(record_error(rep, 2, "prs_Gender", "type"));
    assert_non_null(record_error(rep, 3, "", "object"));
    assert_non_null(record_error(rep, 4, "vic_AgeWhenTrafficked", "type"));
    json_decref(rep);
    /* a long one (countries) does not */
    rep = import(e, HTCDS_JSON, true,
                 "[{\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":\"Nope\","
                 "\"vic_ForcedLabourIndustry\":\"Z_Nothing\","
                 "\"vic_TypeOfExploitation\":[\"ForcedLabour\"]}]",
                 AMP_EINVALID);
    g = record_error(rep, 1, "vic_TraffickingStatus", "picklist");
    assert_non_null(g);
    assert_non_null(strstr(json_string_value(json_object_get(g, "message")), "allowed:"));
    g = record_error(rep, 1, "vic_ForcedLabourIndustry", "picklist");
    assert_non_null(g);
    assert_null(strstr(json_string_value(json_object_get(g, "message")), "allowed:"));
    json_decref(rep);
    tu_env_free(e);
}

static void test_csv_errors_by_line_column_field_rule(void **state)
{
    (void)state;
    tu_env *e = fresh();
    const char *csv =
        "prs_Gender,vic_TraffickingStatus,vic_AgeWhenTrafficked,amp_RegistrationDate,"
        "amp_OwnerOrganisation,cas_Status,cas_ReasonForCaseClosure,prs_ShoeSize\n"
        "Feminine,ActualVictimOfTrafficking,20,2025-01-01,org-a,Active,,42\n" /* 2 ok */
        "Purple,ActualVictimOfTrafficking,abc,2025-02-30,org-a,Active,,\n"    /* 3 */
        "Feminine,ActualVictimOfTrafficking,20,2025-01-01,nowhere,Closed,,\n" /* 4 */
        "Feminine,ActualVictimOfTrafficking\n"                                /* 5 */
        "Feminine,ActualVictimOfTrafficking,20,2025-01-01,org-a,Closed,\"line one\n"
        "line two\",\n"                                        /* 6-7 */
        "Masculine,NotAVictim,20,2025-01-01,org-a,Active,,\n"; /* 8 */
    json_t *rep = import(e, HTCDS_CSV, true, csv, AMP_EINVALID);
    assert_true(has_error(rep, 1, "prs_ShoeSize", "prs_ShoeSize", "unknown_field"));
    assert_true(has_error(rep, 3, "prs_Gender", "prs_Gender", "picklist"));
    assert_true(has_error(rep, 3, "vic_AgeWhenTrafficked", "vic_AgeWhenTrafficked", "type"));
    assert_true(has_error(rep, 3, "amp_RegistrationDate", "amp_RegistrationDate", "date"));
    assert_true(has_error(rep, 4, "amp_OwnerOrganisation", "amp_OwnerOrganisation", "lookup"));
    assert_true(
        has_error(rep, 4, "cas_ReasonForCaseClosure", "cas_ReasonForCaseClosure", "required_if"));
    assert_true(has_error(rep, 5, NULL, "", "column_count"));
    assert_true(has_error(rep, 8, "vic_TraffickingStatus", "vic_TraffickingStatus", "picklist"));
    /* the multi-line cell of line 6 is fine, and the line after it is counted right */
    assert_int_equal(json_integer_value(json_object_get(rep, "rows")), 6);
    assert_false(json_is_true(json_object_get(rep, "truncated")));
    assert_int_equal(ncases(e), 0);
    json_decref(rep);
    tu_env_free(e);
}

static void test_all_or_nothing_and_dry_run(void **state)
{
    (void)state;
    tu_env *e = fresh();
    const char *good = "prs_Gender,vic_TraffickingStatus\n"
                       "Feminine,ActualVictimOfTrafficking\n"
                       "Masculine,PossibleVictimOfTrafficking\n"
                       "Feminine,NotAVictimOfTrafficking\n";
    json_t *rep = import(e, HTCDS_CSV, true, good, AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(rep, "valid")), 3);
    assert_int_equal(json_integer_value(json_object_get(rep, "imported")), 0);
    assert_int_equal(ncases(e), 0);
    json_decref(rep);
    char bad[512];
    snprintf(bad, sizeof bad, "%sFeminine,Nonsense\n", good);
    rep = import(e, HTCDS_CSV, false, bad, AMP_EINVALID);
    assert_true(has_error(rep, 5, "vic_TraffickingStatus", "vic_TraffickingStatus", "picklist"));
    assert_int_equal(json_integer_value(json_object_get(rep, "imported")), 0);
    assert_int_equal(ncases(e), 0); /* the three good rows were not kept either */
    json_decref(rep);
    /* nor their history, field lists, data keys, terms or audit entries */
    static const char counts[] =
        "SELECT (SELECT count(*) FROM case_history), (SELECT count(*) FROM field_lists), "
        "(SELECT count(*) FROM case_keys), (SELECT count(*) FROM case_terms), "
        "(SELECT count(*) FROM audit WHERE action = 'case.create')";
    char *n = sql_dump(e, counts);
    assert_string_equal(n, "0|0|0|0|0\n");
    free(n);
    rep = import(e, HTCDS_CSV, false, good, AMP_OK);
    assert_int_equal(ncases(e), 3);
    json_decref(rep);
    n = sql_dump(e, counts);
    assert_string_equal(n, "3|1|3|9|3\n"); /* the three set the same fields: one list */
    free(n);
    tu_env_free(e);
}

static void test_file_level_errors(void **state)
{
    (void)state;
    tu_env *e = fresh();
    json_t *rep = import(e, HTCDS_CSV, true, "", AMP_EBADREQ);
    assert_true(has_error(rep, 1, NULL, "", "header_required"));
    json_decref(rep);
    /* a header alone, or an empty list, is not a successful import of nothing */
    rep = import(e, HTCDS_CSV, false, "prs_Gender,vic_TraffickingStatus\n", AMP_EINVALID);
    assert_true(has_error(rep, 0, NULL, "", "no_records"));
    json_decref(rep);
    rep = import(e, HTCDS_JSON, true, "[]", AMP_EINVALID);
    assert_true(has_error(rep, 0, NULL, "", "no_records"));
    json_decref(rep);
    rep = import(e, HTCDS_CSV, true, "prs_Gender,prs_Gender\nFeminine,Feminine\n", AMP_EINVALID);
    assert_true(has_error(rep, 1, "prs_Gender", "prs_Gender", "duplicate_column"));
    json_decref(rep);
    rep = import(e, HTCDS_CSV, true, "prs_Gender\n\"Feminine\n", AMP_EBADREQ);
    assert_true(has_error(rep, 2, NULL, "", "csv_syntax"));
    json_decref(rep);
    /* a cell that is not UTF-8 is an error of its own, never a dropped value */
    rep = import(e, HTCDS_CSV, true, "prs_Gender,vic_TraffickingStatus\nFem\xffinine,x\n",
                 AMP_EINVALID);
    assert_true(has_error(rep, 2, "prs_Gender", "prs_Gender", "utf8"));
    json_decref(rep);
    rep = import(e, HTCDS_CSV, true, "prs_\xf4Gender\nFeminine\n", AMP_EINVALID);
    assert_true(has_error(rep, 1, "prs_?Gender", "prs_?Gender", "unknown_field"));
    json_decref(rep);
    rep = import(e, HTCDS_JSON, true, "[{\"prs_Gender\":\"Feminine\"},\n  {oops}]", AMP_EBADREQ);
    assert_true(has_error(rep, 2, NULL, "", "json_syntax"));
    json_decref(rep);
    rep = import(e, HTCDS_JSON, true, "{\"prs_Gender\":\"Feminine\"}", AMP_EBADREQ);
    assert_true(has_error(rep, 1, NULL, "", "array_required"));
    json_decref(rep);
    rep = import(e, HTCDS_JSON, true,
                 "[\n {\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":"
                 "\"ActualVictimOfTrafficking\"},\n 7,\n {\"prs_Gender\":\"Blue\"}\n]",
                 AMP_EINVALID);
    assert_true(has_error(rep, 3, NULL, "", "object"));
    assert_true(has_error(rep, 4, "prs_Gender", "prs_Gender", "picklist"));
    json_decref(rep);
    rep = import(e, HTCDS_XFORM_XML, true, "<data><prs_Gender>Feminine</prs_Gender>", AMP_EBADREQ);
    assert_int_equal(json_integer_value(json_object_get(rep, "error_count")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(rep, "errors"), 0), "rule")),
                        "xml_syntax");
    json_decref(rep);
    assert_int_equal(ncases(e), 0);
    tu_env_free(e);
}

static void test_xform_names(void **state)
{
    (void)state;
    tu_env *e = fresh();
    const catalogue *cat = core_catalogue(e->core);
    assert_string_equal(htcds_xform_field(cat, "prs_First_Name"), "prs_FirstName");
    assert_string_equal(htcds_xform_field(cat, "prs_Second_Name"), "prs_SecondName");
    assert_string_equal(htcds_xform_field(cat, "vic_Methods_of_Control"), "vic_MethodsOfControl");
    assert_string_equal(htcds_xform_field(cat, "group_person/prs_Gender"), "prs_Gender");
    assert_null(htcds_xform_field(cat, "meta/instanceID"));
    assert_null(htcds_xform_field(cat, "_submission_time"));
    assert_null(htcds_xform_field(cat, "start"));
    assert_null(htcds_xform_field(cat, "prs_Nickname"));
    tu_env_free(e);
}

static void test_xform_csv_kobo_export(void **state)
{
    (void)state;
    tu_env *e = fresh();
    /* KoboToolbox's semicolon export: metadata columns, group paths, select_multiple as a
     * space-separated column and as one column per option */
    const char *csv =
        "start;end;con_Consent;group_p/prs_First_Name;prs_Gender;prs_Citizenship;"
        "vic_TraffickingStatus;vic_Methods_of_Control;vic_TypeOfExploitation/ForcedLabour;"
        "vic_TypeOfExploitation/SexualExploitation;_id;_uuid;meta/instanceID;__version__\n"
        "2025-03-01T10:00:00.000-05:00;2025-03-01T10:20:00.000-05:00;TRUE;Rosa;Feminine;EC;"
        "ActualVictimOfTrafficking;DebtBondage FalsePromises;1;0;17;ab-cd;uuid:ab-cd;v1\n";
    json_t *rep = import(e, HTCDS_XFORM_CSV, false, csv, AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(rep, "imported")), 1);
    json_decref(rep);
    store_query q = {.limit = 10};
    store_row *rows = NULL;
    int n = 0;
    int64_t total = 0;
    assert_int_equal(store_case_list(e->store, &q, &rows, &n, &total), STORE_OK);
    assert_int_equal(n, 1);
    json_t *rec = NULL;
    amp_err err = {0};
    assert_int_equal(cases_get(e->core, &admin, rows[0].uid, &rec, &err), AMP_OK);
    assert_string_equal(json_string_value(json_object_get(rec, "prs_FirstName")), "Rosa");
    assert_true(json_is_true(json_object_get(rec, "con_Consent")));
    json_t *want = tu_json("[\"DebtBondage\",\"FalsePromises\"]");
    assert_true(json_equal(json_object_get(rec, "vic_MethodsOfControl"), want));
    json_decref(want);
    want = tu_json("[\"ForcedLabour\"]");
    assert_true(json_equal(json_object_get(rec, "vic_TypeOfExploitation"), want));
    json_decref(want);
    want = tu_json("[\"EC\"]");
    assert_true(json_equal(json_object_get(rec, "prs_Citizenship"), want));
    json_decref(want);
    json_decref(rec);
    for (int i = 0; i < n; i++)
        store_row_release(&rows[i]);
    free(rows);
    /* an unknown column and a bad option cell */
    const char *bad = "prs_Gender,prs_Nickname,vic_TypeOfExploitation/ForcedLabour\n"
                      "Feminine,Ro,maybe\n";
    rep = import(e, HTCDS_XFORM_CSV, true, bad, AMP_EINVALID);
    assert_true(has_error(rep, 1, "prs_Nickname", "prs_Nickname", "unknown_field"));
    assert_true(has_error(rep, 2, "vic_TypeOfExploitation/ForcedLabour", "vic_TypeOfExploitation",
                          "boolean"));
    json_decref(rep);
    tu_env_free(e);
}

static json_t *import_org(tu_env *e, htcds_format f, bool dry, const char *text, const char *org,
                          amp_code want)
{
    htcds_import_options o = {.format = f, .dry_run = dry, .owner_org = org};
    json_t *rep = NULL;
    amp_err err = {0};
    amp_code code = htcds_import(e->core, &admin, text, strlen(text), &o, &rep, &err);
    if (code != want)
        fail_msg("import: %d (%s) wanted %d", code, err.message, want);
    amp_err_clear(&err);
    return rep;
}

static void test_xform_submission_date_and_owner(void **state)
{
    (void)state;
    /* today before start before end before _submission_time; the age at
     * registration is the age on that day (born 2010-03-05: 14 on 2025-03-01,
     * 15 from 2025-03-05) */
    static const struct {
        const char *header, *row, *date;
        int age;
    } cases[] = {
        {"today;start;end;_submission_time",
         "2025-03-01;2025-03-06T10:00:00.000-05:00;"
         "2025-03-07T10:00:00.000-05:00;2025-03-08T15:21:00",
         "2025-03-01", 14},
        {"_submission_time;start", "2025-03-08T15:21:00;2025-03-06T23:50:00.000-05:00",
         "2025-03-06", 15},
        {"_submission_time;end", "2025-03-04T15:21:00;garbage", "2025-03-04", 14},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tu_env *e = fresh();
        char csv[600];
        snprintf(csv, sizeof csv,
                 "%s;prs_Birthdate;prs_Gender;vic_TraffickingStatus\n%s;2010-03-05;Feminine;"
                 "ActualVictimOfTrafficking\n",
                 cases[i].header, cases[i].row);
        json_t *rep = import_org(e, HTCDS_XFORM_CSV, false, csv, "org-b", AMP_OK);
        json_decref(rep);
        json_t *rec = only_case(e);
        assert_string_equal(json_string_value(json_object_get(rec, "amp_RegistrationDate")),
                            cases[i].date);
        assert_int_equal(json_integer_value(json_object_get(rec, "amp_AgeAtRegistration")),
                         cases[i].age);
        assert_string_equal(json_string_value(json_object_get(rec, "amp_OwnerOrganisation")),
                            "org-b");
        json_decref(rec);
        tu_env_free(e);
    }
    /* XML: the same, and a file's own owner wins over --org */
    tu_env *e = fresh();
    const char *xml = "<data id=\"htcds_xlsform\"><start>2024-12-31T22:00:00.000-05:00</start>"
                      "<prs_Gender>Feminine</prs_Gender><vic_TraffickingStatus>"
                      "ActualVictimOfTrafficking</vic_TraffickingStatus></data>";
    json_t *rep = import_org(e, HTCDS_XFORM_XML, false, xml, "org-a", AMP_OK);
    json_decref(rep);
    json_t *rec = only_case(e);
    assert_string_equal(json_string_value(json_object_get(rec, "amp_RegistrationDate")),
                        "2024-12-31");
    assert_string_equal(json_string_value(json_object_get(rec, "amp_OwnerOrganisation")), "org-a");
    json_decref(rec);
    const char *own = "prs_Gender,vic_TraffickingStatus,amp_OwnerOrganisation\n"
                      "Feminine,ActualVictimOfTrafficking,org-b\n";
    rep = import_org(e, HTCDS_CSV, true, own, "org-a", AMP_OK);
    json_decref(rep);
    /* an organisation that does not exist is refused before anything is read */
    rep = import_org(e, HTCDS_XFORM_XML, true, xml, "org-zz", AMP_EINVALID);
    assert_null(rep);
    assert_int_equal(ncases(e), 1);
    tu_env_free(e);
}

static void test_xform_select_multiple_and_template_names(void **state)
{
    (void)state;
    tu_env *e = fresh();
    /* the XLSForm lets several industries be ticked; the catalogue holds one */
    const char *one = "prs_Gender;vic_TraffickingStatus;vic_TypeOfExploitation;"
                      "vic_ForcedLabourIndustry\n"
                      "Feminine;ActualVictimOfTrafficking;ForcedLabour ChildLabour;"
                      "C_Manufacturing \n";
    json_t *rep = import_org(e, HTCDS_XFORM_CSV, false, one, "org-a", AMP_OK);
    json_decref(rep);
    json_t *rec = only_case(e);
    assert_string_equal(json_string_value(json_object_get(rec, "vic_ForcedLabourIndustry")),
                        "C_Manufacturing");
    json_decref(rec);
    const char *two = "prs_Gender;vic_TraffickingStatus;vic_TypeOfExploitation;"
                      "vic_ForcedLabourIndustry;prs_Nickname\n"
                      "Purple;ActualVictimOfTrafficking;ForcedLabour;"
                      "C_Manufacturing F_Construction;x\n";
    rep = import_org(e, HTCDS_XFORM_CSV, true, two, "org-a", AMP_EINVALID);
    assert_true(
        has_error(rep, 2, "vic_ForcedLabourIndustry", "vic_ForcedLabourIndustry", "single_value"));
    assert_true(has_error(rep, 2, "prs_Gender", "prs_Gender", "picklist")); /* still checked */
    assert_int_equal(json_integer_value(json_object_get(rep, "valid")), 0);
    json_decref(rep);
    /* KoboToolbox's one column per option, for a single-value field too */
    const char *split = "prs_Gender;vic_TraffickingStatus;vic_TypeOfExploitation;"
                        "vic_ForcedLabourIndustry/C_Manufacturing;"
                        "vic_ForcedLabourIndustry/F_Construction\n"
                        "Feminine;ActualVictimOfTrafficking;ForcedLabour;0;1\n"
                        "Feminine;ActualVictimOfTrafficking;ForcedLabour;1;1\n";
    rep = import_org(e, HTCDS_XFORM_CSV, true, split, "org-a", AMP_EINVALID);
    assert_int_equal(json_integer_value(json_object_get(rep, "error_count")), 1);
    assert_true(has_error(rep, 3, "vic_ForcedLabourIndustry/F_Construction",
                          "vic_ForcedLabourIndustry", "single_value"));
    assert_int_equal(json_integer_value(json_object_get(rep, "valid")), 1);
    json_decref(rep);
    /* XML likewise */
    const char *xml = "<data id=\"f\"><prs_Gender>Feminine</prs_Gender><vic_TraffickingStatus>"
                      "ActualVictimOfTrafficking</vic_TraffickingStatus><vic_TypeOfExploitation>"
                      "ForcedLabour</vic_TypeOfExploitation><vic_ForcedLabourIndustry>"
                      "C_Manufacturing F_Construction</vic_ForcedLabourIndustry></data>";
    rep = import_org(e, HTCDS_XFORM_XML, true, xml, "org-a", AMP_EINVALID);
    assert_true(
        has_error(rep, 1, "vic_ForcedLabourIndustry", "vic_ForcedLabourIndustry", "single_value"));
    json_decref(rep);
    /* the official Excel template misspells one header */
    const char *excel = "prs_Gender,vic_TraffickingStatus,vic_TraffickinStatusDecisionMakingOrg\n"
                        "Masculine,ActualVictimOfTrafficking,Police\n";
    rep = import(e, HTCDS_CSV, false, excel, AMP_OK);
    json_decref(rep);
    assert_int_equal(ncases(e), 2);
    const catalogue *cat = core_catalogue(e->core);
    assert_string_equal(htcds_xform_field(cat, "vic_TraffickinStatusDecisionMakingOrg"),
                        "vic_TraffickingStatusDecisionMakingOrg");
    const char *bad = "prs_Gender,vic_TraffickingStatus,vic_TraffickinStatusDecisionMakingOrg\n"
                      "Masculine,ActualVictimOfTrafficking,Sheriff\n";
    rep = import(e, HTCDS_CSV, true, bad, AMP_EINVALID);
    assert_true(has_error(rep, 2, "vic_TraffickinStatusDecisionMakingOrg",
                          "vic_TraffickingStatusDecisionMakingOrg", "picklist"));
    json_decref(rep);
    tu_env_free(e);
}

static void test_xml_reports_every_error_of_a_record(void **state)
{
    (void)state;
    tu_env *e = fresh();
    const char *xml =
        "<data id=\"f\">\n<prs_Gender>Mujer</prs_Gender>\n<vic_Unknown>x</vic_Unknown>\n"
        "<vic_AgeWhenTrafficked>abc</vic_AgeWhenTrafficked>\n</data>";
    json_t *rep = import_org(e, HTCDS_XFORM_XML, true, xml, "org-a", AMP_EINVALID);
    assert_true(has_error(rep, 3, "vic_Unknown", "vic_Unknown", "unknown_field"));
    assert_true(has_error(rep, 1, "prs_Gender", "prs_Gender", "picklist"));
    assert_true(has_error(rep, 1, "vic_AgeWhenTrafficked", "vic_AgeWhenTrafficked", "type"));
    assert_true(has_error(rep, 1, "vic_TraffickingStatus", "vic_TraffickingStatus", "required"));
    assert_int_equal(json_integer_value(json_object_get(rep, "error_count")), 4);
    assert_int_equal(json_integer_value(json_object_get(rep, "valid")), 0);
    json_decref(rep);
    tu_env_free(e);
}

static void test_xform_xml_odk_instances(void **state)
{
    (void)state;
    tu_env *e = fresh();
    const char *one =
        "<?xml version=\"1.0\"?>\n"
        "<data id=\"htcds_xlsform\" version=\"v1\">\n"
        "  <start>2025-03-01T10:00:00</start>\n"
        "  <con_Consent>TRUE</con_Consent>\n"
        "  <prs_First_Name>Lucia</prs_First_Name>\n"
        "  <prs_Gender>Feminine</prs_Gender>\n"
        "  <vic_TraffickingStatus>PossibleVictimOfTrafficking</vic_TraffickingStatus>\n"
        "  <vic_Methods_of_Control>PhysicalThreats WithholdsDocuments</vic_Methods_of_Control>\n"
        "  <meta><instanceID>uuid:1</instanceID></meta>\n"
        "</data>\n";
    json_t *rep = import(e, HTCDS_XFORM_XML, false, one, AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(rep, "imported")), 1);
    json_decref(rep);
    const char *many =
        "<submissions>\n"
        " <data id=\"htcds_xlsform\"><grp><prs_Gender>Masculine</prs_Gender></grp>"
        "<vic_TraffickingStatus>ActualVictimOfTrafficking</vic_TraffickingStatus></data>\n"
        " <data id=\"htcds_xlsform\">\n"
        "  <prs_Gender>Robot</prs_Gender>\n"
        "  <prs_Nickname>x</prs_Nickname>\n"
        " </data>\n"
        "</submissions>\n";
    rep = import(e, HTCDS_XFORM_XML, false, many, AMP_EINVALID);
    assert_true(has_error(rep, 5, "prs_Nickname", "prs_Nickname", "unknown_field"));
    json_decref(rep);
    assert_int_equal(ncases(e), 1); /* nothing from the second file */
    /* entities are not expanded, and no network is used */
    const char *xxe = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM "
                      "\"file:///etc/passwd\">]><data id=\"f\"><prs_Gender>&x;</prs_Gender>"
                      "<vic_TraffickingStatus>ActualVictimOfTrafficking</vic_TraffickingStatus>"
                      "</data>";
    rep = import(e, HTCDS_XFORM_XML, false, xxe, AMP_OK);
    json_decref(rep);
    assert_int_equal(ncases(e), 2);
    store_query q = {.limit = 10};
    store_row *rows = NULL;
    int n = 0;
    int64_t total = 0;
    assert_int_equal(store_case_list(e->store, &q, &rows, &n, &total), STORE_OK);
    for (int i = 0; i < n; i++) {
        char *t = json_dumps(rows[i].doc, 0);
        assert_null(strstr(t, "root:")); /* the external entity was not read */
        free(t);
        store_row_release(&rows[i]);
    }
    free(rows);
    tu_env_free(e);
}

static void test_import_needs_create_rights(void **state)
{
    (void)state;
    tu_env *e = fresh();
    principal an = {.actor = "an", .lang = "en", .org = "org-a", .roles = ROLE_ANALYST};
    htcds_import_options o = {.format = HTCDS_CSV};
    json_t *rep = NULL;
    amp_err err = {0};
    const char *csv = "prs_Gender\nFeminine\n";
    assert_int_equal(htcds_import(e->core, &an, csv, strlen(csv), &o, &rep, &err), AMP_EFORBIDDEN);
    assert_null(rep);
    amp_err_clear(&err);
    char *data = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&data, &len);
    json_t *summary = NULL;
    assert_int_equal(htcds_export(e->core, &an, HTCDS_CSV, true, f, &summary, &err),
                     AMP_EFORBIDDEN);
    fclose(f);
    free(data);
    amp_err_clear(&err);
    /* a caseworker imports into their own organisation only */
    principal cw = {.actor = "cw", .lang = "en", .org = "org-a", .roles = ROLE_CASEWORKER};
    const char *other = "prs_Gender,vic_TraffickingStatus,amp_OwnerOrganisation\n"
                        "Feminine,ActualVictimOfTrafficking,org-b\n";
    assert_int_equal(htcds_import(e->core, &cw, other, strlen(other), &o, &rep, &err),
                     AMP_EINVALID);
    assert_true(has_error(rep, 2, "amp_OwnerOrganisation", "amp_OwnerOrganisation", "owner_org"));
    json_decref(rep);
    amp_err_clear(&err);
    tu_env_free(e);
}

/* ---- worker threads: the same cases, references, audit entries and errors ---- */

static json_t *import_threads(tu_env *e, bool dry, const char *text, int threads, amp_code want)
{
    htcds_import_options o = {.format = HTCDS_CSV, .dry_run = dry, .threads = threads};
    json_t *rep = NULL;
    amp_err err = {0};
    amp_code code = htcds_import(e->core, &admin, text, strlen(text), &o, &rep, &err);
    if (code != want)
        fail_msg("import (%d threads): %d (%s) wanted %d", threads, code, err.message, want);
    amp_err_clear(&err);
    assert_non_null(rep);
    return rep;
}

/* The rows of a query on e's database as text ("a|b\n" per row). */
static char *sql_dump(tu_env *e, const char *sql)
{
    char path[300];
    snprintf(path, sizeof path, "%s/amparo.db", e->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const unsigned char *t = sqlite3_column_text(st, i);
            fprintf(f, "%s%s", i ? "|" : "", t ? (const char *)t : "NULL");
        }
        fputc('\n', f);
    }
    fclose(f);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/* Everything about the cases that does not depend on the data directory's keys,
 * the clock or random identifiers. */
static const char *const content_queries[] = {
    "SELECT reference, version, registered_on, owner_org, created_by FROM cases ORDER BY id",
    /* filter terms in clear; blind index values are keyed per data directory, so
     * only their number per case can agree */
    "SELECT c.reference, t.field, t.value FROM case_terms ct JOIN term_ids t ON t.id = ct.term_id "
    "JOIN cases c ON c.id = ct.case_id WHERE t.field NOT LIKE 'bi\\_%' ESCAPE '\\' ORDER BY 1, 2, "
    "3",
    "SELECT c.reference, t.field, count(*) FROM case_terms ct JOIN term_ids t ON t.id = ct.term_id "
    "JOIN cases c ON c.id = ct.case_id WHERE t.field LIKE 'bi\\_%' ESCAPE '\\' GROUP BY 1, 2 "
    "ORDER BY 1, 2",
    "SELECT c.reference, j.key FROM cases c, json_each(c.doc) j ORDER BY c.id, j.key",
    /* a bulk load's history rows name a list of field names written once */
    "SELECT c.reference, h.version, h.actor, h.action, coalesce(l.fields, h.fields) "
    "FROM case_history h JOIN cases c ON c.id = h.case_id LEFT JOIN field_lists l "
    "ON substr(h.fields, 1, 1) <> '[' AND l.id = CAST(h.fields AS INTEGER) ORDER BY h.id",
    "SELECT a.action, a.actor, a.object_type, a.object_id = c.uid, a.detail FROM audit a "
    "JOIN cases c ON c.uid = a.object_id WHERE a.action = 'case.create' ORDER BY a.seq",
    "SELECT count(*) FROM case_keys k JOIN cases c ON c.uid = k.case_uid",
    "SELECT name, value FROM sequences ORDER BY name",
};

/* Every case's history as the store reads it (less the times), one case a line. */
static char *histories(tu_env *e)
{
    char *refs = sql_dump(e, "SELECT reference FROM cases ORDER BY id");
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    for (char *ref = strtok(refs, "\n"); ref; ref = strtok(NULL, "\n")) {
        json_t *items = NULL;
        assert_int_equal(store_history(e->store, ref, &items), STORE_OK);
        size_t i;
        json_t *it;
        json_array_foreach (items, i, it) {
            assert_true(json_is_array(json_object_get(it, "fields")));
            json_object_del(it, "at");
        }
        char *t = json_dumps(items, JSON_COMPACT | JSON_SORT_KEYS);
        fprintf(f, "%s %s\n", ref, t);
        free(t);
        json_decref(items);
    }
    fclose(f);
    free(refs);
    return out;
}

static void assert_same_content(tu_env *a, tu_env *b)
{
    char *ha = histories(a), *hb = histories(b);
    assert_string_equal(ha, hb);
    free(ha);
    free(hb);
    for (size_t i = 0; i < sizeof content_queries / sizeof *content_queries; i++) {
        char *x = sql_dump(a, content_queries[i]), *y = sql_dump(b, content_queries[i]);
        if (strcmp(x, y) != 0) {
            size_t k = 0, line = 0;
            while (x[k] == y[k])
                k++;
            while (k && x[k - 1] != '\n')
                k--;
            for (size_t j = 0; j < k; j++)
                line += x[j] == '\n';
            fail_msg("%s: row %zu differs\n--- a:\n%.600s\n--- b:\n%.600s", content_queries[i],
                     line + 1, x + k, y + k);
        }
        free(x);
        free(y);
    }
    char *x = export_text(a, HTCDS_CSV, true), *y = export_text(b, HTCDS_CSV, true);
    assert_string_equal(x, y);
    free(x);
    free(y);
    audit_verify_result r;
    assert_int_equal(audit_verify(a->store, NULL, NULL, &r), 0);
    assert_int_equal(r.problem, AUDIT_INTACT);
    assert_int_equal(audit_verify(b->store, NULL, NULL, &r), 0);
    assert_int_equal(r.problem, AUDIT_INTACT);
}

/* n case bodies: names that repeat (the normalisation memo), Cyrillic and
 * accented ones (ICU), several registration years and countries (several
 * reference sequences), two owners. */
static json_t *case_body(int i)
{
    static const char *const first[] = {"Lucía", "Олена",  "María José", "O'Brien",
                                        "Ana",   "Nguyễn", "Ioana",      "Fatoumata"};
    static const char *const last[] = {"Pérez", "Коваль", "Díaz-Silva", "Smith", "Öztürk"};
    static const char *const countries[] = {"EC", "PE", "CO"};
    char date[24], idnum[32];
    snprintf(date, sizeof date, "%d-%02d-%02d", 2023 + i % 3, 1 + i % 12, 1 + i % 28);
    snprintf(idnum, sizeof idnum, "ID-%05d.%d", i * 7, i % 10);
    json_t *b = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "prs_FirstName", first[i % 8], "prs_SecondName",
        last[(i / 3) % 5], "prs_Gender", i % 2 ? "Feminine" : "Masculine", "vic_TraffickingStatus",
        i % 3 ? "ActualVictimOfTrafficking" : "PossibleVictimOfTrafficking", "amp_RegistrationDate",
        date, "amp_RegistrationCountry", countries[i % 3], "amp_OwnerOrganisation",
        i % 4 ? "org-a" : "org-b", "prs_IdentityNumber", idnum);
    if (i % 5 == 0)
        json_object_set_new(b, "prs_Birthdate", json_string("1999-04-05"));
    return b;
}

static void test_threads_give_the_api_s_cases(void **state)
{
    (void)state;
    enum { N = 2600 }; /* more records than the pipeline holds at once */
    tu_env *api = fresh(), *one = fresh(), *many = fresh();
    for (int i = 0; i < N; i++) {
        json_t *b = case_body(i), *out = NULL;
        amp_err err = {0};
        if (cases_create_sync(api->core, &admin, b, &out, &err) != AMP_OK)
            fail_msg("case %d: %s", i, err.message);
        json_decref(out);
        json_decref(b);
    }
    char *csv = export_text(api, HTCDS_CSV, true);
    json_t *r1 = import_threads(one, false, csv, 1, AMP_OK);
    json_t *r4 = import_threads(many, false, csv, 4, AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(r1, "imported")), N);
    assert_int_equal(json_integer_value(json_object_get(r4, "imported")), N);
    assert_true(json_equal(r1, r4));
    assert_same_content(api, one);
    assert_same_content(one, many);
    /* the sequences were written back: the next case continues them */
    json_t *b = case_body(0), *out = NULL;
    amp_err err = {0};
    assert_int_equal(cases_create_sync(many->core, &admin, b, &out, &err), AMP_OK);
    char want[32];
    snprintf(want, sizeof want, "EC-2023-%06d", N / 3 + (N % 3 > 0) + 1);
    assert_string_equal(json_string_value(json_object_get(out, "reference")), want);
    json_decref(out);
    json_decref(b);
    /* a dry run numbers nothing */
    json_t *rd = import_threads(one, true, csv, 4, AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(rd, "valid")), N);
    char *seq = sql_dump(one, "SELECT value FROM sequences WHERE name = 'EC-2023'");
    snprintf(want, sizeof want, "%d\n", N / 3 + (N % 3 > 0));
    assert_string_equal(seq, want);
    free(seq);
    json_decref(rd);
    json_decref(r1);
    json_decref(r4);
    free(csv);
    tu_env_free(api);
    tu_env_free(one);
    tu_env_free(many);
}

static void test_threads_report_errors_in_line_order(void **state)
{
    (void)state;
    tu_env *one = fresh(), *many = fresh();
    char *csv = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&csv, &len);
    fputs("prs_FirstName,prs_Gender,vic_TraffickingStatus,amp_RegistrationDate,"
          "amp_OwnerOrganisation,vic_AgeWhenTrafficked\n",
          f);
    for (int i = 0; i < 3000; i++) {
        if (i % 101 == 7)
            fputs("Ana,Feminine\n", f); /* column count */
        else if (i % 97 == 3)
            fputs("An\xff,Feminine,ActualVictimOfTrafficking,2024-01-01,org-a,20\n", f);
        else if (i % 89 == 5)
            fputs("Ana,Purple,ActualVictimOfTrafficking,2024-13-01,nowhere,abc\n", f);
        else if (i % 500 == 0)
            fputs("\n", f); /* blank lines are skipped, and counted as lines */
        else
            fprintf(f, "Олена %d,Feminine,ActualVictimOfTrafficking,2024-01-%02d,org-a,%d\n", i,
                    1 + i % 28, 18 + i % 30);
    }
    fclose(f);
    for (int dry = 0; dry < 2; dry++) {
        json_t *r1 = import_threads(one, dry, csv, 1, AMP_EINVALID);
        json_t *r4 = import_threads(many, dry, csv, 4, AMP_EINVALID);
        if (!json_equal(r1, r4)) {
            char *a = json_dumps(r1, 0), *b = json_dumps(r4, 0);
            fail_msg("single:\n%.3000s\nthreads:\n%.3000s", a, b);
        }
        json_int_t last = 0;
        size_t i;
        const json_t *e;
        json_array_foreach (json_object_get(r4, "errors"), i, e) {
            json_int_t line = json_integer_value(json_object_get(e, "line"));
            assert_true(line >= last);
            last = line;
        }
        assert_true(json_integer_value(json_object_get(r4, "error_count")) > 100);
        assert_true(has_error(r4, 9, NULL, "", "column_count"));
        assert_true(has_error(r4, 5, "prs_FirstName", "prs_FirstName", "utf8"));
        assert_true(has_error(r4, 7, "prs_Gender", "prs_Gender", "picklist"));
        assert_true(has_error(r4, 7, "amp_OwnerOrganisation", "amp_OwnerOrganisation", "lookup"));
        json_decref(r1);
        json_decref(r4);
    }
    assert_int_equal(ncases(one), 0);
    assert_int_equal(ncases(many), 0);
    free(csv);
    tu_env_free(one);
    tu_env_free(many);
}

/* A committed load's checkpoint runs on a thread of its own: writes go on
 * meanwhile, a second load waits for it, and everything is in the database file
 * once the store is closed. */
static void test_checkpoint_after_a_load(void **state)
{
    (void)state;
    enum { N = 1500, ROW = 80 };
    tu_env *e = fresh();
    static const char header[] = "prs_FirstName,prs_Gender,vic_TraffickingStatus,"
                                 "amp_RegistrationDate,amp_OwnerOrganisation\n";
    char *csv = malloc(sizeof header + (size_t)N * ROW);
    assert_non_null(csv);
    size_t len = strlen(strcpy(csv, header));
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(csv + len, ROW,
                                "Ana %d,Feminine,ActualVictimOfTrafficking,2024-02-%02d,org-a\n", i,
                                1 + i % 28);
    /* the store logs what each load's checkpoint copied: stderr into a file */
    char logpath[300];
    snprintf(logpath, sizeof logpath, "%s/log.txt", e->dir);
    fflush(stderr);
    int saved = dup(STDERR_FILENO), logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && logfd >= 0);
    dup2(logfd, STDERR_FILENO);
    json_t *rep = import_threads(e, false, csv, 2, AMP_OK);
    json_decref(rep);
    /* a write while the checkpoint may still run */
    json_t *b = case_body(1), *out = NULL;
    amp_err err = {0};
    assert_int_equal(cases_create_sync(e->core, &admin, b, &out, &err), AMP_OK);
    json_decref(out);
    json_decref(b);
    rep = import_threads(e, false, csv, 2, AMP_OK); /* waits for the first checkpoint */
    json_decref(rep);
    assert_int_equal(ncases(e), 2 * N + 1);
    core_free(e->core);
    store_close(e->store);
    e->core = NULL;
    e->store = NULL;
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(logfd);
    /* each load's checkpoint copied its pages, on its own thread */
    FILE *lf = fopen(logpath, "r");
    assert_non_null(lf);
    char line[512];
    int checkpoints = 0;
    while (fgets(line, sizeof line, lf)) {
        const char *m = strstr(line, "store: checkpoint after a bulk load: ");
        int copied = 0, frames = 0;
        if (m && sscanf(m + 37, "%d of %d", &copied, &frames) == 2) {
            assert_true(copied >= 500); /* the load's pages (some 700) */
            assert_true(copied <= frames);
            checkpoints++;
        }
    }
    fclose(lf);
    assert_int_equal(checkpoints, 2);
    char path[300];
    snprintf(path, sizeof path, "%s/amparo.db-wal", e->dir);
    FILE *wal = fopen(path, "rb");
    if (wal) { /* the last connection's close checkpoints and removes the WAL */
        fseek(wal, 0, SEEK_END);
        assert_int_equal(ftell(wal), 0);
        fclose(wal);
    }
    char *n = sql_dump(e, "SELECT count(*) FROM cases");
    char want[32];
    snprintf(want, sizeof want, "%d\n", 2 * N + 1);
    assert_string_equal(n, want);
    free(n);
    n = sql_dump(e, "PRAGMA integrity_check");
    assert_string_equal(n, "ok\n");
    free(n);
    free(csv);
    tu_env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_round_trip),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_round_trip_without_identity),
        cmocka_unit_test(test_every_error_is_reported),
        cmocka_unit_test(test_one_line_json_names_the_record),
        cmocka_unit_test(test_csv_errors_by_line_column_field_rule),
        cmocka_unit_test(test_all_or_nothing_and_dry_run),
        cmocka_unit_test(test_file_level_errors),
        cmocka_unit_test(test_xform_names),
        cmocka_unit_test(test_xform_csv_kobo_export),
        cmocka_unit_test(test_xform_submission_date_and_owner),
        cmocka_unit_test(test_xform_select_multiple_and_template_names),
        cmocka_unit_test(test_xml_reports_every_error_of_a_record),
        cmocka_unit_test(test_xform_xml_odk_instances),
        cmocka_unit_test(test_import_needs_create_rights),
        cmocka_unit_test(test_threads_give_the_api_s_cases),
        cmocka_unit_test(test_threads_report_errors_in_line_order),
        cmocka_unit_test(test_checkpoint_after_a_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
