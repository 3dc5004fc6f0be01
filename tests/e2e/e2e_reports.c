/* e2e_reports.c — the statistics API against a real `amparo serve`: dimensions,
 * crosstabs as JSON, CSV and XLSX, parameter errors, standard packs, the
 * dashboard, the privacy ledger and the CTDC export; with authentication, what
 * each role may and may not see. */
#include "e2e_util.h"

static void add_cases(const char *owner, const char *gender, const char *cit, int n, bool stats)
{
    for (int i = 0; i < n; i++) {
        char body[1024];
        snprintf(body, sizeof body,
                 "{\"prs_Gender\":\"%s\",\"prs_Citizenship\":[\"%s\"],"
                 "\"vic_TraffickingStatus\":\"ActualVictimOfTrafficking\","
                 "\"vic_TypeOfExploitation\":[\"ForcedLabour\"],"
                 "\"amp_RegistrationDate\":\"2025-04-0%d\",\"amp_OwnerOrganisation\":\"%s\","
                 "\"con_Consent\":true,\"amp_ConsentDate\":\"2025-04-01\","
                 "\"amp_ConsentScope\":[\"Registration\"%s],"
                 "\"events\":[{\"hte_Type\":\"Exploitation\",\"hte_Country\":\"PE\"}]}",
                 gender, cit, 1 + i % 9, owner, stats ? ",\"Statistics\"" : "");
        create_case(body, NULL, NULL);
    }
}

static json_int_t count_of(const json_t *t, const char *arr, const char *k0, bool *suppressed)
{
    size_t i;
    const json_t *c;
    json_array_foreach (json_object_get(t, arr), i, c) {
        const json_t *key = json_array_get(json_object_get(c, "keys"), 0);
        if ((k0 && json_is_string(key) && strcmp(json_string_value(key), k0) == 0) ||
            (!k0 && json_is_null(key))) {
            if (suppressed)
                *suppressed = json_is_true(json_object_get(c, "suppressed"));
            return json_integer_value(json_object_get(c, "count"));
        }
    }
    return -1;
}

static void test_setup_world(void **state)
{
    (void)state;
    e2e_world_setup();
    e2e_as("cw-a");
    add_cases("org-a", "Feminine", "EC", 14, true);
    add_cases("org-a", "Masculine", "EC", 3, true);
    add_cases("org-a", "Feminine", "CO", 2, false);
    e2e_as("cw-b");
    add_cases("org-b", "Masculine", "VE", 11, true);
}

static void test_dimensions(void **state)
{
    (void)state;
    e2e_as("analyst");
    resp r;
    GET(&r, "/api/v1/reports/dimensions");
    EXPECT_STATUS(&r, 200);
    const json_t *ents = json_object_get(r.json, "entities");
    assert_true(json_array_size(ents) >= 5);
    const json_t *cases = json_array_get(ents, 0);
    assert_string_equal(jstr(cases, "name"), "cases");
    bool seen = false;
    size_t i;
    const json_t *d;
    json_array_foreach (json_object_get(cases, "dimensions"), i, d) {
        if (strcmp(jstr(d, "name"), "exploitation") == 0) {
            seen = true;
            assert_true(json_is_true(json_object_get(d, "multi")));
            assert_string_equal(jstr(json_object_get(d, "label"), "fr"), "Type d'exploitation");
        }
    }
    assert_true(seen);
    resp_free(&r);
}

static void test_crosstab_json(void **state)
{
    (void)state;
    e2e_as("cw-a");
    resp r;
    GET(&r, "/api/v1/reports/crosstab?dims=gender&citizenship=EC,CO");
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "counts_what"), "cases");
#ifdef E2E_HAVE_AUTH
    /* a caseworker of org-a: its own cases, internal figures */
    assert_int_equal(count_of(r.json, "cells", "Feminine", NULL), 16);
    assert_int_equal(count_of(r.json, "cells", "Masculine", NULL), 3);
#else
    assert_int_equal(count_of(r.json, "cells", "Feminine", NULL), 16);
    assert_int_equal(count_of(r.json, "totals", NULL, NULL), 19);
#endif
    resp_free(&r);
}

static void test_crosstab_files_are_controlled(void **state)
{
    (void)state;
    e2e_as("cw-a");
    resp r;
    GET(&r, "/api/v1/reports/crosstab?dims=gender&format=csv");
    EXPECT_STATUS(&r, 200);
    assert_true(starts_with(r.ctype, "text/csv"));
    assert_true(starts_with(r.body, "gender,count,flag\r\n"));
    assert_non_null(strstr(r.body, "\r\n# Figures count cases (people)"));
    /* a file is a publication: the 3 men of org-a are withheld, not 0 */
    assert_null(strstr(r.body, "Masculine,3,"));
    assert_null(strstr(r.body, "Masculine,0,"));
    resp_free(&r);
    GET(&r, "/api/v1/reports/crosstab?dims=year,gender&format=xlsx");
    EXPECT_STATUS(&r, 200);
    assert_true(starts_with(r.ctype, "application/vnd.openxmlformats"));
    assert_true(r.len > 1000 && r.body[0] == 'P' && r.body[1] == 'K');
    resp_free(&r);
}

/* Files in a language: lang= and labels=, checked like every parameter */
static void test_files_in_a_language(void **state)
{
    (void)state;
    e2e_as("coord-a");
    resp r;
    GET(&r, "/api/v1/reports/crosstab?dims=gender&format=csv&lang=fr&labels=labels");
    EXPECT_STATUS(&r, 200);
    assert_true(starts_with(r.body, "Genre,Nombre,Note\r\n"));
    assert_non_null(strstr(r.body, "Féminin,"));
    assert_null(strstr(r.body, "Feminine"));
    resp_free(&r);
    GET(&r, "/api/v1/reports/crosstab?dims=gender&format=csv&lang=es&labels=both");
    EXPECT_STATUS(&r, 200);
    assert_true(starts_with(r.body, "gender,Género,Número,Nota\r\n"));
    assert_non_null(strstr(r.body, "Feminine,Femenino,"));
    resp_free(&r);
    /* a pack in Ukrainian: titles and labels */
    GET(&r, "/api/v1/reports/standard/action-plan?year=2025&format=csv&lang=uk&labels=labels");
    EXPECT_STATUS(&r, 200);
    assert_true(starts_with(r.body, "# "));
    assert_non_null(strstr(r.body, "Стать"));
    resp_free(&r);
    GET(&r, "/api/v1/reports/crosstab?dims=gender&format=xlsx&lang=uk");
    EXPECT_STATUS(&r, 200);
    assert_true(r.len > 1000 && r.body[0] == 'P');
    resp_free(&r);
    GET(&r, "/api/v1/reports/crosstab?dims=gender&format=csv&lang=de");
    expect_field_error(&r, "lang", "enum");
    resp_free(&r);
    GET(&r, "/api/v1/reports/crosstab?dims=gender&format=csv&labels=names");
    expect_field_error(&r, "labels", "enum");
    resp_free(&r);
    GET(&r, "/api/v1/reports/crosstab?dims=gender&labels=labels");
    expect_field_error(&r, "labels", "requires_file_format");
    resp_free(&r);
    GET(&r, "/api/v1/reports/standard/action-plan?year=2025&format=csv&lang=xx");
    expect_field_error(&r, "lang", "enum");
    resp_free(&r);
}

static void test_crosstab_errors(void **state)
{
    (void)state;
    e2e_as("analyst");
    resp r;
    GET(&r, "/api/v1/reports/crosstab?dims=shoe_size");
    expect_field_error(&r, "dims", "enum");
    resp_free(&r);
    GET(&r, "/api/v1/reports/crosstab?dims=year&colour=red");
    expect_field_error(&r, "colour", "unknown_parameter");
    resp_free(&r);
    GET(&r, "/api/v1/reports/crosstab?dims=year&format=pdf");
    expect_error(&r, 422, "validation_failed"); /* as every report parameter error */
    expect_field_error(&r, "format", "enum");
    resp_free(&r);
    GET(&r, "/api/v1/reports/crosstab");
    expect_field_error(&r, "dims", "required");
    resp_free(&r);
    GET(&r, "/api/v1/reports/crosstab?dims=year,gender,citizenship,border,exploitation");
    expect_field_error(&r, "dims", "max_items");
    resp_free(&r);
    GET(&r, "/api/v1/reports/crosstab?dims=year&epsilon=abc");
    expect_field_error(&r, "epsilon", "range");
    resp_free(&r);
    /* a filter given twice would match nothing: one list of values instead */
    GET(&r, "/api/v1/reports/crosstab?dims=gender&year=2025&year=2026");
    expect_field_error(&r, "year", "unique");
    resp_free(&r);
    GET(&r, "/api/v1/reports/crosstab?dims=gender&from=2026-01-01&to=2025-12-31");
    expect_field_error(&r, "to", "range");
    resp_free(&r);
}

static void test_standard_reports(void **state)
{
    (void)state;
    e2e_as("coord-a");
    resp r;
    GET(&r, "/api/v1/reports/standard");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 3);
    resp_free(&r);
    GET(&r, "/api/v1/reports/standard/nrm-quarterly?year=2025");
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "year"), "2025");
    const json_t *t0 = json_array_get(json_object_get(r.json, "tables"), 0);
    assert_string_equal(jstr(t0, "name"), "identifications");
    assert_true(json_is_true(json_object_get(json_object_get(t0, "disclosure"), "applied")));
    resp_free(&r);
    GET(&r, "/api/v1/reports/standard/action-plan?year=2025&format=xlsx");
    EXPECT_STATUS(&r, 200);
    assert_true(r.len > 1000 && r.body[0] == 'P');
    resp_free(&r);
    GET(&r, "/api/v1/reports/standard/donor-results?year=2025&format=csv");
    EXPECT_STATUS(&r, 200);
    /* the indicators table comes first, as a list; every table says what it counts */
    assert_true(starts_with(r.body,
                            "# Indicators against targets\r\n"
                            "code,name,measure,target,actual,achieved_percent,met,flag\r\n"));
    assert_non_null(strstr(r.body, "# Figures count cases (people)"));
    assert_non_null(strstr(r.body, "\r\ntype,currency,count,sum,flag\r\n"));
    resp_free(&r);
    GET(&r, "/api/v1/reports/standard/action-plan?year=2025");
    EXPECT_STATUS(&r, 200);
    assert_non_null(jstr(r.json, "population"));
    bool occupancy = false;
    size_t i;
    const json_t *t;
    json_array_foreach (json_object_get(r.json, "tables"), i, t)
        occupancy = occupancy || strcmp(jstr(t, "name"), "shelter_occupancy") == 0;
    assert_true(occupancy);
    resp_free(&r);
    /* amounts are never added up across currencies */
    GET(&r, "/api/v1/reports/crosstab?entity=assistance&dims=year,quarter,month,type"
            "&measure=sum:cost");
    expect_field_error(&r, "dims", "currency_required");
    resp_free(&r);
    GET(&r, "/api/v1/reports/standard/nope");
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    GET(&r, "/api/v1/reports/standard/action-plan?year=20x5");
    expect_field_error(&r, "year", "pattern");
    resp_free(&r);
    GET(&r, "/api/v1/reports/standard/action-plan?month=3");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "month", "unknown_parameter");
    resp_free(&r);
}

static void test_dashboard_and_ledger(void **state)
{
    (void)state;
    e2e_as("analyst");
    resp r;
    GET(&r, "/api/v1/reports/dashboard");
    EXPECT_STATUS(&r, 200);
    const json_t *f = json_object_get(r.json, "figures");
    assert_non_null(json_object_get(f, "cases_per_year"));
    assert_non_null(json_object_get(f, "routes"));
    assert_non_null(json_object_get(f, "shelter_occupancy"));
    resp_free(&r);
    /* an analyst cannot invent a dataset to get a fresh budget */
    GET(&r, "/api/v1/reports/crosstab?dims=citizenship&epsilon=1&dataset=e2e");
    expect_error(&r, 422, NULL);
    expect_field_error(&r, "dataset", "defined");
    resp_free(&r);
    GET(&r, "/api/v1/reports/crosstab?dims=citizenship&epsilon=1&dataset=e2e&budget=50");
    expect_field_error(&r, "budget", "forbidden");
    resp_free(&r);
    SEND(&r, "PUT", "/api/v1/reports/ledger/e2e", "{\"budget\": 50}", NULL);
    expect_error(&r, 403, "forbidden");
    resp_free(&r);
#ifdef E2E_HAVE_AUTH
    /* an administrator defines it with a budget of 1.5 */
    e2e_as("admin");
    SEND(&r, "PUT", "/api/v1/reports/ledger/e2e", "{\"budget\": \"many\"}", NULL);
    expect_field_error(&r, "budget", "required");
    resp_free(&r);
    SEND(&r, "PUT", "/api/v1/reports/ledger/e2e", "{\"budget\": 5000}", NULL);
    expect_field_error(&r, "budget", "range");
    resp_free(&r);
    SEND(&r, "PUT", "/api/v1/reports/ledger/e2e", "{\"budget\": 1.5}", NULL);
    EXPECT_STATUS(&r, 200);
    assert_true(json_number_value(json_object_get(r.json, "budget")) == 1.5);
    resp_free(&r);
    e2e_as("analyst");
    GET(&r, "/api/v1/reports/crosstab?dims=citizenship&epsilon=1&dataset=e2e");
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
    /* the administrator's budget is the one enforced */
    GET(&r, "/api/v1/reports/crosstab?dims=citizenship&epsilon=1&dataset=e2e");
    expect_error(&r, 409, NULL);
    resp_free(&r);
    GET(&r, "/api/v1/reports/ledger/e2e");
    EXPECT_STATUS(&r, 200);
    assert_true(json_number_value(json_object_get(r.json, "spent")) == 1.0);
    assert_true(json_number_value(json_object_get(r.json, "budget")) == 1.5);
    resp_free(&r);
#endif
    /* without a dataset: the entity's default one */
    GET(&r, "/api/v1/reports/crosstab?dims=citizenship&epsilon=1");
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
    GET(&r, "/api/v1/reports/ledger/cases");
    EXPECT_STATUS(&r, 200);
    assert_true(json_number_value(json_object_get(r.json, "budget")) == 10.0);
    resp_free(&r);
    GET(&r, "/api/v1/reports/ledger/bad%20name");
    expect_field_error(&r, "dataset", "pattern");
    resp_free(&r);
}

static void test_ctdc_export(void **state)
{
    (void)state;
    e2e_as("analyst");
    resp r;
    GET(&r, "/api/v1/exports/ctdc");
    EXPECT_STATUS(&r, 200);
    assert_true(starts_with(r.ctype, "text/csv"));
    assert_true(starts_with(r.body, "yearOfRegistration;Datasource;gender;ageBroad;"));
    /* 28 cases allow statistics; the 2 without consent are not exported */
    size_t lines = 0;
    for (size_t i = 0; i < r.len; i++)
        lines += r.body[i] == '\n';
    assert_true(lines <= 1 + 28);
    resp_free(&r);
    /* the summary of the same export, instead of the file */
    GET(&r, "/api/v1/exports/ctdc?summary=true");
    EXPECT_STATUS(&r, 200);
    assert_true(starts_with(r.ctype, "application/json"));
    assert_int_equal(json_integer_value(json_object_get(r.json, "k")), 11);
    assert_int_equal(json_integer_value(json_object_get(r.json, "rows")), (json_int_t)lines - 1);
    assert_non_null(json_object_get(r.json, "values_blanked"));
    assert_true(
        starts_with(json_string_value(json_object_get(r.json, "policy")), "minimum enforced"));
    resp_free(&r);
    /* a role without case access cannot weaken the anonymisation */
    GET(&r, "/api/v1/exports/ctdc?k=2");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "k", "min");
    resp_free(&r);
    GET(&r, "/api/v1/exports/ctdc?qi=gender");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "qi", "required");
    resp_free(&r);
    GET(&r, "/api/v1/exports/ctdc?k=1");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "k", "range");
    resp_free(&r);
    GET(&r, "/api/v1/exports/ctdc?summary=yes");
    expect_field_error(&r, "summary", "boolean");
    resp_free(&r);
    GET(&r, "/api/v1/exports/ctdc?shoe=1");
    expect_field_error(&r, "shoe", "unknown_parameter");
    resp_free(&r);
    GET(&r, "/api/v1/exports/ctdc?from_year=2026&to_year=2020");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "to_year", "range");
    resp_free(&r);
    GET(&r, "/api/v1/exports/ctdc?qi=gender,nothing");
    expect_field_error(&r, "qi", "enum");
    resp_free(&r);
    /* a coordinator (case access) may choose, and the summary says so */
    e2e_as("coord-a");
    GET(&r, "/api/v1/exports/ctdc?k=2&qi=gender&summary=true");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "k")), 2);
    assert_true(
        starts_with(json_string_value(json_object_get(r.json, "policy")), "caller's choice"));
    resp_free(&r);
}

static void test_roles(void **state)
{
    (void)state;
#ifdef E2E_HAVE_AUTH
    resp r;
    {
        /* the analyst sees every organisation, controlled: the 3 men of org-a and
         * 11 of org-b give 14; small cells are withheld */
        e2e_as("analyst");
        GET(&r, "/api/v1/reports/crosstab?dims=citizenship");
        EXPECT_STATUS(&r, 200);
        bool sup = false;
        assert_int_equal(count_of(r.json, "cells", "VE", &sup), 11);
        assert_true(
            json_is_true(json_object_get(json_object_get(r.json, "disclosure"), "applied")));
        resp_free(&r);
        GET(&r, "/api/v1/reports/crosstab?dims=gender&threshold=1");
        expect_field_error(&r, "threshold", "min");
        resp_free(&r);
        /* a caseworker of org-b sees only org-b */
        e2e_as("cw-b");
        GET(&r, "/api/v1/reports/crosstab?dims=citizenship");
        EXPECT_STATUS(&r, 200);
        assert_int_equal(count_of(r.json, "cells", "EC", NULL), -1);
        assert_int_equal(count_of(r.json, "cells", "VE", NULL), 11);
        resp_free(&r);
        /* the same query as a file: the same organisation's figures, controlled
         * (the JSON above is internal); scope=all publishes every organisation's */
        GET(&r, "/api/v1/reports/crosstab?dims=citizenship&format=csv");
        EXPECT_STATUS(&r, 200);
        assert_non_null(strstr(r.body, "VE,11,"));
        assert_null(strstr(r.body, "EC,"));
        resp_free(&r);
        GET(&r, "/api/v1/reports/crosstab?dims=citizenship&format=csv&scope=all");
        EXPECT_STATUS(&r, 200);
        assert_non_null(strstr(r.body, "EC,17,"));
        resp_free(&r);
        GET(&r, "/api/v1/reports/crosstab?dims=citizenship&scope=all");
        expect_field_error(&r, "scope", "requires_publish");
        resp_free(&r);
        GET(&r, "/api/v1/reports/crosstab?dims=citizenship&scope=all&publish=true");
        EXPECT_STATUS(&r, 200);
        assert_int_equal(count_of(r.json, "cells", "EC", NULL), 17);
        assert_string_equal(jstr(json_object_get(r.json, "population"), "scope"), "all");
        resp_free(&r);
        GET(&r, "/api/v1/reports/crosstab?dims=citizenship&scope=everyone");
        expect_field_error(&r, "scope", "enum");
        resp_free(&r);
        /* caseworkers may not export the CTDC dataset; auditors see no figures */
        GET(&r, "/api/v1/exports/ctdc");
        expect_error(&r, 403, "forbidden");
        resp_free(&r);
        e2e_as("auditor");
        GET(&r, "/api/v1/reports/crosstab?dims=gender");
        expect_error(&r, 403, "forbidden");
        resp_free(&r);
    }
#endif
    (void)state;
}

/* ==== the command line: import, export, report (exit codes, files) ================ */

/* Runs `amparo ARGS...` (a NULL-terminated list); its exit code, -1 on a signal. */
static int tool_v(const char *first, ...)
{
    char *argv[16] = {(char *)srv.bin};
    int n = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 15; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    int st = run_tool(argv);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
#define tool(...) tool_v(__VA_ARGS__, (const char *)NULL)

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_cli_exchange(void **state)
{
    (void)state;
    char dir[400], good[420], bad[420], out[420], ctdc[420], xt[420];
    snprintf(dir, sizeof dir, "%s/cli-data", srv.root);
    snprintf(good, sizeof good, "%s/good.csv", srv.root);
    snprintf(bad, sizeof bad, "%s/bad.csv", srv.root);
    snprintf(out, sizeof out, "%s/out.csv", srv.root);
    snprintf(ctdc, sizeof ctdc, "%s/ctdc.csv", srv.root);
    snprintf(xt, sizeof xt, "%s/xt.csv", srv.root);
    assert_int_equal(tool("init", "--data", dir, "--country", "EC"), 0);
    write_text(good, "prs_Gender,vic_TraffickingStatus,con_Consent,amp_ConsentScope\n"
                     "Feminine,ActualVictimOfTrafficking,true,Registration;Statistics\n"
                     "Masculine,PossibleVictimOfTrafficking,true,Registration;Statistics\n");
    write_text(bad, "prs_Gender,vic_TraffickingStatus\nFeminine,ActualVictimOfTrafficking\n"
                    "Green,ActualVictimOfTrafficking\n");
    /* usage, not found, invalid input */
    assert_int_equal(tool("import", "htcds", "--data", dir), 2);
    assert_int_equal(tool("import", "htcds", "--data", dir, "/nonexistent.csv"), 3);
    assert_int_equal(tool("import", "htcds", "--data", dir, "--format", "pdf", good), 2);
    assert_int_equal(tool("import", "htcds", "--data", dir, bad), 4);
    assert_int_equal(tool("import", "htcds", "--data", dir, "--dry-run", good), 0);
    assert_int_equal(tool("import", "htcds", "--data", dir, good), 0);
    assert_int_equal(tool("export", "htcds", "--data", dir, "--out", out), 0);
    char *text = read_text(out);
    assert_non_null(text);
    size_t lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 3); /* header + the two good rows: nothing of the bad file */
    free(text);
    assert_int_equal(tool("export", "ctdc", "--data", dir, "--out", ctdc, "--k", "2"), 0);
    text = read_text(ctdc);
    assert_non_null(text);
    assert_true(starts_with(text, "yearOfRegistration;Datasource;"));
    free(text);
    assert_int_equal(tool("export", "ctdc", "--data", dir, "--k", "1"), 2);
    /* years written YYYY, the first not after the last */
    assert_int_equal(
        tool("export", "ctdc", "--data", dir, "--from-year", "2026", "--to-year", "2020"), 4);
    assert_int_equal(tool("export", "ctdc", "--data", dir, "--from-year", "20x6"), 4);
    assert_int_equal(
        tool("report", "crosstab", "--data", dir, "dims=gender", "--format", "csv", "--out", xt),
        0);
    text = read_text(xt);
    assert_non_null(text);
    /* a file is a publication: the one woman is withheld, not shown */
    assert_non_null(strstr(text, "Feminine,,suppressed"));
    free(text);
    /* … unless the administrator asks for an internal file */
    assert_int_equal(tool("report", "crosstab", "--data", dir, "dims=gender", "publish=false",
                          "--format", "csv", "--out", xt),
                     0);
    text = read_text(xt);
    assert_non_null(text);
    assert_non_null(strstr(text, "Feminine,1,"));
    free(text);
    assert_int_equal(tool("report", "crosstab", "--data", dir, "dims=gender", "--format", "csv",
                          "--lang", "es", "--labels=both", "publish=false", "--out", xt),
                     0);
    text = read_text(xt);
    assert_non_null(text);
    assert_true(starts_with(text, "gender,Género,Número,Nota\r\n"));
    assert_non_null(strstr(text, "Feminine,Femenino,1,"));
    free(text);
    assert_int_equal(tool("report", "crosstab", "--data", dir, "dims=gender", "--lang", "de"), 2);
    assert_int_equal(tool("report", "crosstab", "--data", dir, "dims=gender", "--labels", "x"), 2);
    assert_int_equal(tool("report", "crosstab", "--data", dir, "dims=nothing"), 4);
    assert_int_equal(tool("report", "crosstab", "--data", dir, "dims"), 2); /* not NAME=VALUE */
    assert_int_equal(tool("report", "--data", dir, "crosstab", "dims=gender"), 0);
    assert_int_equal(tool("report", "--data", dir), 2);
    assert_int_equal(tool("report"), 2);
    assert_int_equal(tool("report", "--help"), 0);
    assert_int_equal(tool("export", "--help"), 0);
    assert_int_equal(tool("import", "--help"), 0);
}

static void test_cli_import_errors_and_round_trip(void **state)
{
    (void)state;
    char dir[400], bad[420], errs[420], csv[420], js[420], kobo[420];
    snprintf(dir, sizeof dir, "%s/cli-rt", srv.root);
    snprintf(bad, sizeof bad, "%s/bad30.csv", srv.root);
    snprintf(errs, sizeof errs, "%s/errors.json", srv.root);
    snprintf(csv, sizeof csv, "%s/rt.csv", srv.root);
    snprintf(js, sizeof js, "%s/rt.json", srv.root);
    snprintf(kobo, sizeof kobo, "%s/kobo.csv", srv.root);
    assert_int_equal(tool("init", "--data", dir, "--country", "EC"), 0);
    assert_int_equal(tool("demo", "--data", dir, "--cases", "300", "--seed", "5"), 0);
    /* the default export (no identity) imports again, closed cases included */
    assert_int_equal(tool("export", "htcds", "--data", dir, "--out", csv), 0);
    assert_int_equal(tool("export", "htcds", "--data", dir, "--format", "json", "--out", js), 0);
    char *text = read_text(csv);
    assert_non_null(strstr(text, ",Closed,"));
    free(text);
    assert_int_equal(tool("import", "htcds", "--data", dir, "--dry-run", csv), 0);
    assert_int_equal(tool("import", "htcds", "--data", dir, "--dry-run", js), 0);
    /* every error in the --errors file, however few are printed */
    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fputs("prs_Gender,vic_TraffickingStatus\n", f);
    for (int i = 0; i < 1500; i++)
        fputs("Green,ActualVictimOfTrafficking\n", f);
    fclose(f);
    assert_int_equal(tool("import", "htcds", "--data", dir, "--dry-run", "--errors", errs,
                          "--max-errors", "3", bad),
                     4);
    json_error_t je;
    json_t *rep = json_load_file(errs, 0, &je);
    assert_non_null(rep);
    assert_int_equal(json_integer_value(json_object_get(rep, "error_count")), 1500);
    assert_int_equal(json_array_size(json_object_get(rep, "errors")), 1500);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(rep, "errors"), 1499), "line")),
                     1501);
    assert_false(json_is_true(json_object_get(rep, "truncated")));
    json_decref(rep);
    assert_int_equal(tool("import", "htcds", "--data", dir, "--max-errors", "x", bad), 2);
    /* XForm submissions need an owner organisation, and an existing one */
    write_text(kobo, "start;prs_Gender;vic_TraffickingStatus\n"
                     "2025-03-01T10:00:00.000-05:00;Feminine;ActualVictimOfTrafficking\n");
    assert_int_equal(tool("import", "htcds", "--data", dir, "--format", "xform-csv", kobo), 2);
    assert_int_equal(tool("import", "htcds", "--data", dir, "--format", "xform-csv", "--org",
                          "no-such-org", kobo),
                     4);
    assert_int_equal(tool("import", "htcds", "--data", dir, "--format", "xform-csv", "--org",
                          "ec-fundacion-alas", kobo),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setup_world),
        cmocka_unit_test(test_dimensions),
        cmocka_unit_test(test_crosstab_json),
        cmocka_unit_test(test_crosstab_files_are_controlled),
        cmocka_unit_test(test_files_in_a_language),
        cmocka_unit_test(test_crosstab_errors),
        cmocka_unit_test(test_standard_reports),
        cmocka_unit_test(test_dashboard_and_ledger),
        cmocka_unit_test(test_ctdc_export),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_cli_exchange),
        cmocka_unit_test(test_cli_import_errors_and_round_trip),
    };
    return cmocka_run_group_tests_name("e2e_reports", tests, group_setup, group_teardown);
}
