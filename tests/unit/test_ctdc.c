/* test_ctdc.c — the CTDC export: layout and codings against the CTDC files in
 * ../shared/data/ctdc/, consent, and an independent k-anonymity check that
 * reads the exported file with its own CSV parser and counts every
 * combination of quasi-identifier values. */
#include "core/ctdc.h"
#include "core/report.h"
#include "testutil.h"

static tu_env *env;
static principal admin;

/* ---- an independent reader of the exported file --------------------------- */

typedef struct {
    char ***rows; /* rows[i][j] */
    size_t nrows, ncols;
} table;

/* RFC 4180 with a given delimiter; every row must have the header's width. */
static void parse_file(const char *text, char delim, table *t)
{
    memset(t, 0, sizeof *t);
    size_t cap = 0;
    const char *p = text;
    while (*p) {
        char **row = NULL;
        size_t n = 0;
        for (;;) {
            char field[4096];
            size_t k = 0;
            if (*p == '"') {
                p++;
                while (*p && !(*p == '"' && p[1] != '"')) {
                    if (*p == '"')
                        p++;
                    if (k + 1 < sizeof field)
                        field[k++] = *p;
                    p++;
                }
                assert_true(*p == '"');
                p++;
            } else {
                while (*p && *p != delim && *p != '\r' && *p != '\n') {
                    if (k + 1 < sizeof field)
                        field[k++] = *p;
                    p++;
                }
            }
            field[k] = 0;
            row = realloc(row, (n + 1) * sizeof *row);
            row[n++] = strdup(field);
            if (*p == delim) {
                p++;
                continue;
            }
            if (*p == '\r')
                p++;
            if (*p == '\n')
                p++;
            break;
        }
        if (t->nrows == cap) {
            cap = cap ? cap * 2 : 64;
            t->rows = realloc(t->rows, cap * sizeof *t->rows);
        }
        if (t->nrows == 0)
            t->ncols = n;
        assert_int_equal(n, t->ncols);
        t->rows[t->nrows++] = row;
    }
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->nrows; i++) {
        for (size_t j = 0; j < t->ncols; j++)
            free(t->rows[i][j]);
        free(t->rows[i]);
    }
    free(t->rows);
}

static int col_of(const table *t, const char *name)
{
    for (size_t j = 0; j < t->ncols; j++)
        if (strcmp(t->rows[0][j], name) == 0)
            return (int)j;
    fail_msg("no column %s", name);
    return -1;
}

/* The smallest number of rows sharing one combination of the named columns. */
static size_t smallest_class(const table *t, const char *const *qi, size_t nq)
{
    int cols[CTDC_MAX_QI];
    for (size_t q = 0; q < nq; q++)
        cols[q] = col_of(t, qi[q]);
    size_t smallest = SIZE_MAX;
    for (size_t i = 1; i < t->nrows; i++) {
        size_t same = 0;
        for (size_t j = 1; j < t->nrows; j++) {
            bool eq = true;
            for (size_t q = 0; q < nq && eq; q++)
                eq = strcmp(t->rows[i][cols[q]], t->rows[j][cols[q]]) == 0;
            same += eq;
        }
        if (same < smallest)
            smallest = same;
    }
    return smallest;
}

static json_int_t summary_int(const json_t *summary, const char *object, const char *name)
{
    const json_t *o = object ? json_object_get(summary, object) : summary;
    const json_t *v = json_object_get(o, name);
    if (!json_is_integer(v))
        fail_msg("summary has no %s.%s", object ? object : "", name);
    return json_integer_value(v);
}

/* For a file whose source rows had every quasi-identifier: the blanks of each
 * one, the rows with some or all of them blank, as the summary states them. */
static void expect_summary_matches_file(const table *t, const json_t *summary,
                                        const char *const *qi, size_t nq)
{
    size_t touched = 0, all = 0;
    for (size_t q = 0; q < nq; q++) {
        int col = col_of(t, qi[q]);
        size_t blank = 0;
        for (size_t i = 1; i < t->nrows; i++)
            blank += t->rows[i][col][0] == 0;
        assert_int_equal(summary_int(summary, "values_blanked", qi[q]), (json_int_t)blank);
        assert_int_equal(summary_int(summary, "values_kept", qi[q]),
                         (json_int_t)(t->nrows - 1 - blank));
    }
    for (size_t i = 1; i < t->nrows; i++) {
        size_t blank = 0;
        for (size_t q = 0; q < nq; q++)
            blank += t->rows[i][col_of(t, qi[q])][0] == 0;
        touched += blank > 0;
        all += blank == nq;
    }
    assert_int_equal(summary_int(summary, NULL, "rows_with_values_blanked"), (json_int_t)touched);
    assert_int_equal(summary_int(summary, NULL, "rows_locally_suppressed"), (json_int_t)all);
    assert_int_equal(summary_int(summary, NULL, "rows"), (json_int_t)(t->nrows - 1));
}

/* ---- fixtures ---------------------------------------------------------------- */

static const char *const genders[] = {"Feminine", "Masculine", "TransgenderFeminine",
                                      "NonSpecifiedUnknown"};
static const char *const countries[] = {"EC", "CO", "PE", "VE", "UA", "MD", "BY"};
static const char *const exploits[] = {"[\"ForcedLabour\"]", "[\"SexualExploitation\"]",
                                       "[\"ForcedLabour\",\"SexualExploitation\"]",
                                       "[\"ForcedBegging\"]", "[\"Servitude\"]"};

static int setup(void **state)
{
    (void)state;
    env = tu_env_new();
    admin = env->who;
    admin.internal = true;
    assert_int_equal(store_bulk_begin(env->store), STORE_OK);
    uint32_t seed = 7;
    for (int i = 0; i < 600; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = seed >> 8;
        char body[2048], industry[96] = "";
        bool stats = i % 10 != 0; /* 60 cases without statistics consent */
        unsigned ex = (r >> 6) % 5;
        if (ex == 0 || ex == 2)
            snprintf(industry, sizeof industry, "\"vic_ForcedLabourIndustry\":\"%s\",",
                     (r >> 12) % 2 ? "C_Manufacturing" : "P_Education");
        snprintf(body, sizeof body,
                 "{\"prs_Gender\":\"%s\",\"prs_Citizenship\":[\"%s\"],"
                 "\"vic_TraffickingStatus\":\"ActualVictimOfTrafficking\","
                 "\"vic_TypeOfExploitation\":%s,\"vic_AgeWhenTrafficked\":%u,"
                 "\"vic_MethodsOfControl\":[\"DebtBondage\",\"ThreatensChildrenFamily\"],"
                 "%s\"vic_RelationshipToTrafficker\":\"%s\","
                 "\"prs_Birthdate\":\"%d-06-01\","
                 "\"amp_RegistrationDate\":\"%d-0%u-15\",\"con_Consent\":true,"
                 "\"amp_ConsentDate\":\"2020-01-01\",\"amp_ConsentScope\":[\"Registration\"%s],"
                 "\"events\":[{\"hte_Type\":\"Exploitation\",\"hte_Country\":\"%s\"}]}",
                 genders[r % 4 == 3 && i % 7 ? 0 : r % 4], countries[(r >> 3) % 7], exploits[ex],
                 14 + (r >> 9) % 40, industry, (r >> 13) % 2 ? "Familial" : "Acquainted",
                 2018 - 14 - (int)((r >> 9) % 40), 2019 + (int)((r >> 15) % 6), 1 + (r >> 18) % 9,
                 stats ? ",\"Statistics\"" : "", countries[(r >> 20) % 3]);
        json_t *b = tu_json(body);
        amp_err err = {0};
        amp_code code = cases_bulk_insert(env->core, &admin, b, &err);
        if (code != AMP_OK)
            fail_msg("case refused: %s %s", err.message, json_dumps(err.fields, 0));
        json_decref(b);
    }
    assert_int_equal(store_bulk_end(env->store, true), STORE_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    reports_forget(env->core);
    tu_env_free(env);
    return 0;
}

static char *run_export_in(tu_env *e, const principal *p, const ctdc_options *opt, json_t **summary,
                           amp_code want, amp_err *err_out);

static char *run_export(const principal *p, const ctdc_options *opt, json_t **summary,
                        amp_code want)
{
    return run_export_in(env, p, opt, summary, want, NULL);
}

/* Expects the export refused as invalid input, naming field and rule. */
static void expect_refused(const principal *p, const ctdc_options *opt, const char *field,
                           const char *rule)
{
    json_t *summary = NULL;
    amp_err err = {0};
    assert_null(run_export_in(env, p, opt, &summary, AMP_EINVALID, &err));
    assert_null(summary);
    const json_t *f0 = json_array_get(err.fields, 0);
    assert_non_null(f0);
    assert_string_equal(json_string_value(json_object_get(f0, "field")), field);
    assert_string_equal(json_string_value(json_object_get(f0, "rule")), rule);
    amp_err_clear(&err);
}

static char *run_export_in(tu_env *e, const principal *p, const ctdc_options *opt, json_t **summary,
                           amp_code want, amp_err *err_out)
{
    char *data = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&data, &len);
    amp_err err = {0};
    amp_code code = ctdc_export(e->core, p, opt, f, summary, &err);
    fclose(f);
    if (code != want)
        fail_msg("ctdc_export: %d (%s)", code, err.message);
    if (err_out)
        *err_out = err;
    else
        amp_err_clear(&err);
    if (code != AMP_OK) {
        free(data);
        return NULL;
    }
    return data;
}

static void test_layout_matches_ctdc(void **state)
{
    (void)state;
    /* the header of the CTDC layout file, minus its leading terms-of-use column */
    FILE *f = fopen("../shared/data/ctdc/global_k_anon_dataset_layout.csv", "r");
    if (!f)
        skip();
    char line[8192];
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    char *save = NULL;
    char *tok = strtok_r(line, ";\r\n", &save); /* terms of use */
    int i = 0;
    for (tok = strtok_r(NULL, ";\r\n", &save); tok; tok = strtok_r(NULL, ";\r\n", &save), i++) {
        assert_true(i < CTDC_NVARS);
        assert_string_equal(ctdc_variables[i], tok);
    }
    assert_int_equal(i, CTDC_NVARS);
}

static void test_export_is_k_anonymous(void **state)
{
    (void)state;
    ctdc_options opt = {0};
    json_t *summary = NULL;
    char *data = run_export(&admin, &opt, &summary, AMP_OK);
    table t;
    parse_file(data, ';', &t);
    assert_int_equal(t.ncols, CTDC_NVARS);
    for (int i = 0; i < CTDC_NVARS; i++)
        assert_string_equal(t.rows[0][i], ctdc_variables[i]);
    size_t nq = 0;
    while (ctdc_default_qi[nq])
        nq++;
    size_t rows = t.nrows - 1;
    assert_int_equal(json_integer_value(json_object_get(summary, "rows")), (json_int_t)rows);
    assert_int_equal(json_integer_value(json_object_get(summary, "rows_excluded_without_consent")),
                     60);
    assert_int_equal(rows + (size_t)json_integer_value(json_object_get(summary, "rows_dropped")),
                     540);
    size_t k = smallest_class(&t, ctdc_default_qi, nq);
    assert_true(k >= CTDC_DEFAULT_K);
    assert_int_equal(json_integer_value(json_object_get(summary, "smallest_class")), (json_int_t)k);
    /* every case of the fixture has all eight quasi-identifiers, so each blank in
     * them is the anonymisation's: the summary must count exactly those */
    expect_summary_matches_file(&t, summary, ctdc_default_qi, nq);
    /* utility: 540 rows over eight quasi-identifiers leave at most 49 classes of
     * 11, yet local suppression keeps values of every variable and about half of
     * all of them (the former method blanked whole variables instead) */
    json_int_t kept_all = 0;
    for (size_t q = 0; q < nq; q++) {
        json_int_t kept = summary_int(summary, "values_kept", ctdc_default_qi[q]);
        if (kept * 10 < (json_int_t)rows)
            fail_msg("%s kept in %lld of %zu rows", ctdc_default_qi[q], (long long)kept, rows);
        kept_all += kept;
    }
    assert_true(kept_all * 10 >= (json_int_t)(rows * nq) * 4);
    for (size_t q = 0; q < nq; q++)
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(summary, "generalised"), ctdc_default_qi[q])),
                            "none");
    /* codings */
    int g = col_of(&t, "gender"), a = col_of(&t, "ageBroad"), ds = col_of(&t, "Datasource"),
        fl = col_of(&t, "isForcedLabour"), mc = col_of(&t, "meansOfControlConcatenated"),
        th = col_of(&t, "meansOfControlThreats"), uc = col_of(&t, "meansOfControlUsesChildren"),
        rr = col_of(&t, "RecruiterRelationship"),
        rm = col_of(&t, "meansOfControlRestrictsMovement"),
        ip = col_of(&t, "recruiterRelationIntimatePartner"), ab = col_of(&t, "isAbduction");
    static const char *const ok_gender[] = {"Female", "Male", "Transgender/NonConforming",
                                            "Unknown", ""};
    static const char *const ok_age[] = {"0--8",   "9--17",  "18--20", "21--23", "24--26",
                                         "27--29", "30--38", "39--47", "48+",    ""};
    for (size_t i = 1; i < t.nrows; i++) {
        bool okg = false, oka = false;
        for (int j = 0; j < 5; j++)
            okg = okg || strcmp(t.rows[i][g], ok_gender[j]) == 0;
        for (int j = 0; j < 10; j++)
            oka = oka || strcmp(t.rows[i][a], ok_age[j]) == 0;
        assert_true(okg);
        assert_true(oka);
        assert_string_equal(t.rows[i][ds], "Case Management");
        assert_true(strcmp(t.rows[i][fl], "0") == 0 || strcmp(t.rows[i][fl], "1") == 0);
        assert_string_equal(t.rows[i][mc],
                            "Debt bondage; Threats to individual or others; Restricts access "
                            "to/manipulates children");
        assert_string_equal(t.rows[i][th], "1");
        assert_string_equal(t.rows[i][uc], "1");
        assert_true(strcmp(t.rows[i][rr], "Family/Relative") == 0 ||
                    strcmp(t.rows[i][rr], "Friend/Acquaintance") == 0);
        /* HTCDS cannot record these: unknown (blank), as isAbduction, never 0 */
        assert_string_equal(t.rows[i][rm], "");
        assert_string_equal(t.rows[i][ip], "");
        assert_string_equal(t.rows[i][ab], "");
    }
    table_free(&t);
    free(data);
    json_decref(summary);
}

static void test_configured_quasi_identifiers(void **state)
{
    (void)state;
    const char *qi[] = {"gender", "citizenship", "isForcedLabour"};
    ctdc_options opt = {.k = 20, .qi = "gender,citizenship,isForcedLabour", .delimiter = ','};
    json_t *summary = NULL;
    char *data = run_export(&admin, &opt, &summary, AMP_OK);
    table t;
    parse_file(data, ',', &t);
    assert_true(smallest_class(&t, qi, 3) >= 20);
    assert_int_equal(json_array_size(json_object_get(summary, "quasi_identifiers")), 3);
    assert_non_null(json_object_get(json_object_get(summary, "generalised"), "citizenship"));
    table_free(&t);
    free(data);
    json_decref(summary);
    /* a year range */
    ctdc_options yr = {.year_from = "2020", .year_to = "2020"};
    data = run_export(&admin, &yr, &summary, AMP_OK);
    parse_file(data, ';', &t);
    assert_true(t.nrows - 1 < 200);
    table_free(&t);
    free(data);
    json_decref(summary);
}

static void test_bad_options_and_roles(void **state)
{
    (void)state;
    json_t *summary = NULL;
    ctdc_options bad = {.qi = "gender,shoeSize"};
    assert_null(run_export(&admin, &bad, &summary, AMP_EINVALID));
    ctdc_options dup = {.qi = "gender,gender"};
    assert_null(run_export(&admin, &dup, &summary, AMP_EINVALID));
    ctdc_options k1 = {.k = 1};
    assert_null(run_export(&admin, &k1, &summary, AMP_EINVALID));
    ctdc_options opt = {0};
    principal cw = {.actor = "cw", .lang = "en", .org = "o", .roles = ROLE_CASEWORKER};
    assert_null(run_export(&cw, &opt, &summary, AMP_EFORBIDDEN));
    principal an = {.actor = "an", .lang = "en", .org = "o", .roles = ROLE_ANALYST};
    char *data = run_export(&an, &opt, &summary, AMP_OK);
    assert_non_null(data);
    free(data);
    json_decref(summary);
}

static void test_roles_cannot_weaken_anonymisation(void **state)
{
    (void)state;
    principal an = {.actor = "an", .lang = "en", .org = "o", .roles = ROLE_ANALYST};
    principal co = {.actor = "co", .lang = "en", .org = "o", .roles = ROLE_COORDINATOR};
    ctdc_options low = {.k = 5};
    expect_refused(&an, &low, "k", "min");
    ctdc_options fewer = {.qi = "yearOfRegistration,gender"};
    expect_refused(&an, &fewer, "qi", "required");
    /* more quasi-identifiers than the default, and a larger k, are allowed */
    char more[512] = "";
    for (int i = 0; ctdc_default_qi[i]; i++)
        snprintf(more + strlen(more), sizeof more - strlen(more), "%s,", ctdc_default_qi[i]);
    strcat(more, "isForcedLabour");
    ctdc_options stricter = {.k = 15, .qi = more};
    json_t *summary = NULL;
    char *data = run_export(&an, &stricter, &summary, AMP_OK);
    assert_int_equal(summary_int(summary, NULL, "k"), 15);
    assert_int_equal(json_array_size(json_object_get(summary, "quasi_identifiers")), 9);
    assert_true(strncmp(json_string_value(json_object_get(summary, "policy")), "minimum enforced",
                        16) == 0);
    free(data);
    json_decref(summary);
    /* a role with case access chooses freely, and the summary says so */
    ctdc_options free_choice = {.k = 2, .qi = "gender"};
    data = run_export(&co, &free_choice, &summary, AMP_OK);
    assert_int_equal(summary_int(summary, NULL, "k"), 2);
    assert_non_null(
        strstr(json_string_value(json_object_get(summary, "policy")), "below the minimum"));
    free(data);
    json_decref(summary);
    /* the minimum is a setting; it is also the default k */
    setenv("AMPARO_CTDC_MIN_K", "20", 1);
    ctdc_options k15 = {.k = 15};
    expect_refused(&an, &k15, "k", "min");
    ctdc_options none = {0};
    data = run_export(&an, &none, &summary, AMP_OK);
    assert_int_equal(summary_int(summary, NULL, "k"), 20);
    assert_int_equal(summary_int(summary, NULL, "k_minimum"), 20);
    table t;
    parse_file(data, ';', &t);
    size_t nq = 0;
    while (ctdc_default_qi[nq])
        nq++;
    assert_true(smallest_class(&t, ctdc_default_qi, nq) >= 20);
    table_free(&t);
    free(data);
    json_decref(summary);
    unsetenv("AMPARO_CTDC_MIN_K");
}

/* A crafted file where k = 5 on gender x citizenship holds everywhere but in
 * the 3 + 3 Peruvian rows and 1 + 1 Ukrainian rows: blanking gender in the six
 * Peruvian rows only is enough for them (the former method blanked a whole
 * variable), and the two Ukrainian rows can join nothing, so they are left out
 * within a 5 % budget. */
static void test_local_suppression_keeps_values(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    principal root = e->who;
    static const struct {
        const char *gender, *country;
        int n;
    } groups[] = {{"Feminine", "EC", 20},  {"Masculine", "EC", 20}, {"Feminine", "CO", 20},
                  {"Masculine", "CO", 20}, {"Feminine", "PE", 3},   {"Masculine", "PE", 3},
                  {"Feminine", "UA", 1},   {"Masculine", "UA", 1}};
    assert_int_equal(store_bulk_begin(e->store), STORE_OK);
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) {
        for (int i = 0; i < groups[g].n; i++) {
            char body[1024];
            snprintf(body, sizeof body,
                     "{\"prs_Gender\":\"%s\",\"prs_Citizenship\":[\"%s\"],"
                     "\"vic_TraffickingStatus\":\"ActualVictimOfTrafficking\","
                     "\"amp_RegistrationDate\":\"2022-03-15\",\"con_Consent\":true,"
                     "\"amp_ConsentDate\":\"2020-01-01\","
                     "\"amp_ConsentScope\":[\"Registration\",\"Statistics\"]}",
                     groups[g].gender, groups[g].country);
            json_t *b = tu_json(body);
            amp_err err = {0};
            if (cases_bulk_insert(e->core, &root, b, &err) != AMP_OK)
                fail_msg("case refused: %s", err.message);
            json_decref(b);
        }
    }
    assert_int_equal(store_bulk_end(e->store, true), STORE_OK);
    const char *qi[] = {"gender", "citizenship"};
    ctdc_options opt = {.k = 5, .qi = "gender,citizenship", .max_suppress = 0.05};
    json_t *summary = NULL;
    char *data = run_export_in(e, &root, &opt, &summary, AMP_OK, NULL);
    table t;
    parse_file(data, ';', &t);
    assert_int_equal(t.nrows - 1, 86);
    assert_true(smallest_class(&t, qi, 2) >= 5);
    int g = col_of(&t, "gender"), c = col_of(&t, "citizenship");
    size_t gender_blank = 0;
    for (size_t i = 1; i < t.nrows; i++) {
        assert_true(t.rows[i][c][0] != 0); /* citizenship kept in every row */
        assert_string_not_equal(t.rows[i][c], "UA");
        bool pe = strcmp(t.rows[i][c], "PE") == 0;
        assert_int_equal(t.rows[i][g][0] == 0, pe); /* gender blanked in PE rows only */
        gender_blank += pe;
    }
    assert_int_equal(gender_blank, 6);
    expect_summary_matches_file(&t, summary, qi, 2);
    assert_int_equal(summary_int(summary, "values_blanked", "gender"), 6);
    assert_int_equal(summary_int(summary, "values_blanked", "citizenship"), 0);
    assert_int_equal(summary_int(summary, NULL, "rows_dropped"), 2);
    assert_int_equal(summary_int(summary, NULL, "rows_locally_suppressed"), 0);
    assert_int_equal(summary_int(summary, NULL, "smallest_class"), 6);
    for (int q = 0; q < 2; q++)
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(summary, "generalised"), qi[q])),
            "none");
    table_free(&t);
    free(data);
    json_decref(summary);
    /* with no budget for leaving rows out, the two rows cannot be dropped: a
     * variable is generalised instead, and k still holds */
    ctdc_options strict = {.k = 5, .qi = "gender,citizenship", .max_suppress = 0.001};
    data = run_export_in(e, &root, &strict, &summary, AMP_OK, NULL);
    parse_file(data, ';', &t);
    assert_true(smallest_class(&t, qi, 2) >= 5);
    assert_int_equal(t.nrows - 1 + (size_t)summary_int(summary, NULL, "rows_dropped"), 88);
    assert_int_equal(summary_int(summary, NULL, "rows_dropped"), 0);
    expect_summary_matches_file(&t, summary, qi, 2);
    table_free(&t);
    free(data);
    json_decref(summary);
    reports_forget(e->core);
    tu_env_free(e);
}

/* The summary alone: the same figures, no line written. */
static void test_summary_only(void **state)
{
    (void)state;
    ctdc_options opt = {0};
    json_t *full = NULL, *only = NULL;
    char *data = run_export(&admin, &opt, &full, AMP_OK);
    ctdc_options so = {.summary_only = true};
    char *none = run_export(&admin, &so, &only, AMP_OK);
    assert_int_equal(strlen(none), 0);
    assert_true(json_equal(full, only));
    free(data);
    free(none);
    json_decref(full);
    json_decref(only);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_matches_ctdc),
        cmocka_unit_test(test_export_is_k_anonymous),
        cmocka_unit_test(test_configured_quasi_identifiers),
        cmocka_unit_test(test_bad_options_and_roles),
        cmocka_unit_test(test_roles_cannot_weaken_anonymisation),
        cmocka_unit_test(test_local_suppression_keeps_values),
        cmocka_unit_test(test_summary_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
