/* test_report.c — the report engine: exact counts by dimensions, filters,
 * multi-valued dimensions (cases or mentions), the column cache in step with
 * writes, scope and disclosure control by role, record entities with measures,
 * and parameter errors. */
#include "core/disclosure.h"
#include "core/report.h"
#include "testutil.h"

#include <math.h>

static tu_env *env;
static principal admin;

static void mk_org(const char *id, const char *region)
{
    char body[256];
    snprintf(
        body, sizeof body,
        "{\"id\":\"%s\",\"org_Name\":\"Org %s\",\"org_Type\":\"NGO\",\"amp_OrgRegion\":\"%s\"}", id,
        id, region);
    json_t *b = tu_json(body), *out = NULL;
    amp_err err = {0};
    assert_int_equal(orgs_put(env->core, &admin, b, &out, &err), AMP_OK);
    json_decref(out);
    json_decref(b);
}

/* A case: gender, citizenship, exploitation list (JSON array text), registration
 * date, owner, whether consent covers statistics, and events (JSON array text). */
static char *mk_case(const char *gender, const char *cit, const char *exploit, const char *reg,
                     const char *owner, bool stats, const char *events, const char *extra)
{
    char body[2048];
    snprintf(body, sizeof body,
             "{\"prs_Gender\":\"%s\",\"prs_Citizenship\":[\"%s\"],"
             "\"vic_TraffickingStatus\":\"ActualVictimOfTrafficking\","
             "\"vic_TypeOfExploitation\":%s,\"amp_RegistrationDate\":\"%s\","
             "\"amp_OwnerOrganisation\":\"%s\",\"con_Consent\":true,"
             "\"amp_ConsentDate\":\"%s\",\"amp_ConsentScope\":[\"Registration\"%s],"
             "\"events\":%s%s%s}",
             gender, cit, exploit, reg, owner, reg, stats ? ",\"Statistics\"" : "",
             events ? events : "[]", extra ? "," : "", extra ? extra : "");
    json_t *b = tu_json(body), *out = NULL;
    amp_err err = {0};
    amp_code code = cases_create_sync(env->core, &admin, b, &out, &err);
    if (code != AMP_OK) {
        char *t = json_dumps(err.fields, 0);
        fail_msg("case refused: %s %s", err.message, t);
    }
    char *id = strdup(json_string_value(json_object_get(out, "id")));
    json_decref(out);
    json_decref(b);
    return id;
}

static json_t *crosstab(const principal *p, const char *const *kv, amp_code want)
{
    list_param ps[16];
    size_t n = 0;
    for (; kv[n * 2]; n++) {
        ps[n].name = kv[n * 2];
        ps[n].value = kv[n * 2 + 1];
    }
    json_t *out = NULL;
    amp_err err = {0};
    amp_code code = report_crosstab(env->core, p, ps, n, &out, &err);
    if (code != want)
        fail_msg("crosstab: code %d (%s), wanted %d", code, err.message, want);
    if (code != AMP_OK) {
        if (code == AMP_EINVALID)
            assert_true(json_array_size(err.fields) >= 1);
        amp_err_clear(&err);
        return NULL;
    }
    return out;
}

/* The count of the cell (or margin: NULL key) with the given keys; -1 when
 * absent, -2 when suppressed. */
static long long cell(const json_t *t, const char *k0, const char *k1)
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
            if (m0 && m1) {
                if (json_is_true(json_object_get(c, "suppressed")))
                    return -2;
                return (long long)json_integer_value(json_object_get(c, "count"));
            }
        }
    }
    return -1;
}

static int setup(void **state)
{
    (void)state;
    env = tu_env_new();
    admin = env->who;
    admin.internal = true;
    mk_org("org-a", "Pichincha");
    mk_org("org-b", "Guayas");
    const char *ev_pe =
        "[{\"hte_Type\":\"Recruitment\",\"hte_Country\":\"EC\"},"
        "{\"hte_Type\":\"Exploitation\",\"hte_Country\":\"PE\",\"hte_State\":\"Lima\"}]";
    const char *ev_ec = "[{\"hte_Type\":\"Exploitation\",\"hte_Country\":\"EC\"}]";
    /* 12 women EC 2024 forced labour in PE (cross-border), org-a */
    for (int i = 0; i < 12; i++)
        free(mk_case("Feminine", "EC", "[\"ForcedLabour\"]", "2024-03-10", "org-a", true, ev_pe,
                     NULL));
    /* 3 men EC 2024 forced labour + sexual exploitation, internal, org-b */
    for (int i = 0; i < 3; i++)
        free(mk_case("Masculine", "EC", "[\"ForcedLabour\",\"SexualExploitation\"]", "2024-08-01",
                     "org-b", true, ev_ec, NULL));
    /* 20 women CO 2025 sexual exploitation, org-a, with ages */
    for (int i = 0; i < 20; i++)
        free(mk_case("Feminine", "CO", "[\"SexualExploitation\"]", "2025-02-01", "org-a", true,
                     ev_pe,
                     i < 5 ? "\"vic_AgeWhenTrafficked\":16" : "\"vic_AgeWhenTrafficked\":25"));
    /* 4 cases without statistics consent */
    for (int i = 0; i < 4; i++)
        free(mk_case("Feminine", "CO", "[\"SexualExploitation\"]", "2025-02-01", "org-a", false,
                     ev_pe, NULL));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    reports_forget(env->core);
    tu_env_free(env);
    return 0;
}

static void test_counts_by_two_dims(void **state)
{
    (void)state;
    const char *kv[] = {"dims", "year,gender", NULL};
    json_t *t = crosstab(&admin, kv, AMP_OK);
    assert_int_equal(cell(t, "2024", "Feminine"), 12);
    assert_int_equal(cell(t, "2024", "Masculine"), 3); /* internal: no threshold */
    assert_int_equal(cell(t, "2025", "Feminine"), 24);
    assert_int_equal(cell(t, "2025", "Masculine"), -1); /* zero: absent */
    assert_int_equal(cell(t, "2024", NULL), 15);
    assert_int_equal(cell(t, NULL, "Feminine"), 36);
    assert_int_equal(cell(t, NULL, NULL), 39);
    assert_string_equal(json_string_value(json_object_get(t, "counts_what")), "cases");
    assert_false(json_is_true(json_object_get(json_object_get(t, "disclosure"), "applied")));
    /* categories carry labels in four languages */
    const json_t *g =
        json_array_get(json_object_get(json_object_get(t, "categories"), "gender"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(g, "label"), "es")),
                        "Femenino");
    json_decref(t);
}

static void test_multi_valued_cases_or_mentions(void **state)
{
    (void)state;
    const char *kv[] = {"dims", "exploitation", NULL};
    json_t *t = crosstab(&admin, kv, AMP_OK);
    assert_int_equal(cell(t, "ForcedLabour", NULL), 15);
    assert_int_equal(cell(t, "SexualExploitation", NULL), 27);
    assert_int_equal(cell(t, NULL, NULL), 39); /* cases: each once */
    assert_non_null(json_object_get(t, "counts_note"));
    json_decref(t);
    const char *kv2[] = {"dims", "exploitation", "count", "mentions", NULL};
    t = crosstab(&admin, kv2, AMP_OK);
    assert_string_equal(json_string_value(json_object_get(t, "counts_what")), "mentions");
    assert_int_equal(cell(t, NULL, NULL), 42); /* 15 + 27 mentions */
    json_decref(t);
}

static void test_filters_and_route(void **state)
{
    (void)state;
    const char *kv[] = {"dims",       "border", "gender",     "Feminine", "from",
                        "2024-01-01", "to",     "2024-12-31", NULL};
    json_t *t = crosstab(&admin, kv, AMP_OK);
    assert_int_equal(cell(t, "CrossBorder", NULL), 12);
    assert_int_equal(cell(t, "Internal", NULL), -1);
    json_decref(t);
    const char *kv2[] = {"dims", "country_of_exploitation,origin_country", NULL};
    t = crosstab(&admin, kv2, AMP_OK);
    assert_int_equal(cell(t, "PE", "EC"), 36);
    assert_int_equal(cell(t, "EC", "_none"), 3);
    json_decref(t);
    const char *kv3[] = {"dims", "province,org_region", NULL};
    t = crosstab(&admin, kv3, AMP_OK);
    assert_int_equal(cell(t, "Lima", "Pichincha"), 36);
    assert_int_equal(cell(t, "_none", "Guayas"), 3);
    json_decref(t);
}

static void test_age_groups(void **state)
{
    (void)state;
    const char *kv[] = {"dims", "majority_exploitation", "year", "2025", NULL};
    json_t *t = crosstab(&admin, kv, AMP_OK);
    assert_int_equal(cell(t, "Minor", NULL), 5);
    assert_int_equal(cell(t, "Adult", NULL), 15);
    assert_int_equal(cell(t, "_none", NULL), 4);
    json_decref(t);
    const char *kv2[] = {
        "dims", "age_group_exploitation", "measure", "mean:age_exploitation", "year", "2025", NULL};
    t = crosstab(&admin, kv2, AMP_OK);
    assert_int_equal(cell(t, "9--17", NULL), 5);
    assert_int_equal(cell(t, "24--26", NULL), 15);
    json_decref(t);
}

static void test_scanner_reads_past_escaped_text(void **state)
{
    (void)state;
    /* identity and free text with escaped quotes and backslashes before and
     * after the fields the cache reads */
    free(mk_case("TransgenderMasculine", "UA", "[\"Other\"]", "2023-07-07", "org-b", true, NULL,
                 "\"prs_FirstName\":\"a\\\"b\\\\\",\"prs_SecondName\":\"\\\\\\\"q\","
                 "\"cas_ReasonForCaseClosure\":\"x\\\\\\\\\",\"cas_Status\":\"Closed\""));
    const char *kv[] = {"dims", "gender,citizenship", "year", "2023", NULL};
    json_t *t = crosstab(&admin, kv, AMP_OK);
    assert_int_equal(cell(t, "TransgenderMasculine", "UA"), 1);
    json_decref(t);
    const char *kv2[] = {"dims", "case_status", "year", "2023", NULL};
    t = crosstab(&admin, kv2, AMP_OK);
    assert_int_equal(cell(t, "Closed", NULL), 1);
    json_decref(t);
}

static void test_withdrawn_consent_leaves_statistics(void **state)
{
    (void)state;
    principal an = {.actor = "analyst", .lang = "en", .org = "org-a", .roles = ROLE_ANALYST};
    const char *kv[] = {"dims", "citizenship", "year", "2022", "threshold", "10", NULL};
    /* 12 children from MD (statistics need no guardian consent, see consent.c);
     * 6 of them withdrew their consent */
    for (int i = 0; i < 12; i++)
        free(mk_case("Feminine", "MD", "[\"ChildLabour\"]", "2022-05-05", "org-a", true, NULL,
                     i < 6 ? "\"prs_Birthdate\":\"2012-01-01\",\"amp_ConsentWithdrawn\":true,"
                             "\"amp_ConsentWithdrawnDate\":\"2023-01-01\""
                           : "\"prs_Birthdate\":\"2012-01-01\""));
    /* and 10 adults */
    for (int i = 0; i < 10; i++)
        free(mk_case("Feminine", "MD", "[\"ChildLabour\"]", "2022-05-05", "org-a", true, NULL,
                     "\"prs_Birthdate\":\"1990-01-01\""));
    json_t *t = crosstab(&an, kv, AMP_OK);
    assert_int_equal(cell(t, "MD", NULL), 16);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "population"),
                                                        "excluded_without_statistics_consent")),
                     6);
    json_decref(t);
}

static void test_in_step_with_writes(void **state)
{
    (void)state;
    const char *kv[] = {"dims", "gender", NULL};
    json_t *t = crosstab(&admin, kv, AMP_OK);
    long long men = cell(t, "Masculine", NULL);
    json_decref(t);
    char *id =
        mk_case("Masculine", "PE", "[\"OrganRemoval\"]", "2025-05-05", "org-b", true, NULL, NULL);
    t = crosstab(&admin, kv, AMP_OK);
    assert_int_equal(cell(t, "Masculine", NULL), men + 1);
    json_decref(t);
    /* an update moves the case */
    json_t *patch = tu_json("{\"prs_Gender\":\"NonConforming\",\"version\":1}"), *out = NULL;
    amp_err err = {0};
    assert_int_equal(cases_update_sync(env->core, &admin, id, patch, 0, &out, &err), AMP_OK);
    json_decref(out);
    json_decref(patch);
    t = crosstab(&admin, kv, AMP_OK);
    assert_int_equal(cell(t, "Masculine", NULL), men);
    assert_int_equal(cell(t, "NonConforming", NULL), 1);
    json_decref(t);
    /* a new event changes the country of exploitation (a child write) */
    json_t *ev = tu_json("{\"hte_Type\":\"Exploitation\",\"hte_Country\":\"BR\"}");
    assert_int_equal(
        children_create_sync(env->core, &admin, id, core_child_kind("events"), ev, &out, &err),
        AMP_OK);
    json_decref(out);
    json_decref(ev);
    const char *kv2[] = {"dims", "country_of_exploitation", NULL};
    t = crosstab(&admin, kv2, AMP_OK);
    assert_int_equal(cell(t, "BR", NULL), 1);
    json_decref(t);
    free(id);
}

static void test_analyst_gets_controlled_figures(void **state)
{
    (void)state;
    principal an = {.actor = "analyst", .lang = "en", .org = "org-a", .roles = ROLE_ANALYST};
    const char *kv[] = {"dims", "year,gender", NULL};
    json_t *t = crosstab(&an, kv, AMP_OK);
    const json_t *d = json_object_get(t, "disclosure");
    assert_true(json_is_true(json_object_get(d, "applied")));
    assert_int_equal(json_integer_value(json_object_get(d, "threshold")), 10);
    /* 3 men in 2024: suppressed, never 0; the 12 women in 2024 then too (row) */
    assert_int_equal(cell(t, "2024", "Masculine"), -2);
    assert_int_equal(cell(t, "2024", "Feminine"), -2);
    /* consent: the 4 cases without statistics consent are left out */
    assert_int_equal(cell(t, "2025", "Feminine"), 20);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "population"),
                                                        "excluded_without_statistics_consent")),
                     4);
    json_decref(t);
    /* an analyst cannot lower the threshold */
    const char *kv2[] = {"dims", "gender", "threshold", "2", NULL};
    assert_null(crosstab(&an, kv2, AMP_EINVALID));
    /* but may raise it */
    const char *kv3[] = {"dims", "gender", "threshold", "25", NULL};
    t = crosstab(&an, kv3, AMP_OK);
    assert_int_equal(cell(t, NULL, NULL), 35);
    assert_int_equal(cell(t, "Masculine", NULL), -2);
    assert_int_equal(cell(t, "Feminine", NULL), -2); /* its complement */
    json_decref(t);
}

static void test_caseworker_sees_own_organisation(void **state)
{
    (void)state;
    principal cw = {.actor = "cw-b", .lang = "en", .org = "org-b", .roles = ROLE_CASEWORKER};
    const char *kv[] = {"dims", "gender", NULL};
    json_t *t = crosstab(&cw, kv, AMP_OK);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(t, "population"), "scope")),
        "organisation");
    assert_int_equal(cell(t, "Masculine", NULL), 3);
    assert_int_equal(cell(t, "Feminine", NULL), -1);
    json_decref(t);
    /* published: disclosure control and consent apply */
    const char *kv2[] = {"dims", "gender", "publish", "true", NULL};
    t = crosstab(&cw, kv2, AMP_OK);
    assert_true(json_is_true(json_object_get(json_object_get(t, "disclosure"), "applied")));
    json_decref(t);
    principal nobody = {.actor = "aud", .lang = "en", .roles = ROLE_AUDITOR};
    assert_null(crosstab(&nobody, kv, AMP_EFORBIDDEN));
}

typedef struct {
    const char *kind, *uid, *org, *doc;
} rec_job;

static int job_put(store_tx *tx, void *arg)
{
    const rec_job *j = arg;
    store_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.kind, sizeof r.kind, "%s", j->kind);
    snprintf(r.uid, sizeof r.uid, "%s", j->uid);
    snprintf(r.org, sizeof r.org, "%s", j->org);
    snprintf(r.created_at, sizeof r.created_at, "2025-03-01T10:00:00.000Z");
    snprintf(r.updated_at, sizeof r.updated_at, "2025-03-01T10:00:00.000Z");
    snprintf(r.created_by, sizeof r.created_by, "t");
    snprintf(r.updated_by, sizeof r.updated_by, "t");
    r.doc = tu_json(j->doc);
    int rc = store_tx_record_put(tx, &r, 0);
    json_decref(r.doc);
    return rc;
}

static void test_record_entity_with_measure(void **state)
{
    (void)state;
    for (int i = 0; i < 6; i++) {
        char uid[40], doc[256];
        snprintf(uid, sizeof uid, "stay-%d", i);
        snprintf(doc, sizeof doc,
                 "{\"shelter\":\"%s\",\"admitted_on\":\"2025-01-%02d\",\"discharged_on\":"
                 "\"2025-01-%02d\"}",
                 i < 4 ? "casa-a" : "casa-b", 1 + i, 11 + 2 * i);
        rec_job j = {"stay", uid, "org-a", doc};
        assert_int_equal(store_run(env->store, job_put, &j), STORE_OK);
    }
    const char *kv[] = {"entity", "stays", "dims", "shelter", "measure", "mean:length_of_stay_days",
                        NULL};
    json_t *t = crosstab(&admin, kv, AMP_OK);
    assert_int_equal(cell(t, "casa-a", NULL), 4);
    assert_int_equal(cell(t, "casa-b", NULL), 2);
    /* lengths: 10+i for i in 0..3 -> mean 11.5; i=4,5 -> 14, 15 -> 14.5 */
    size_t i;
    const json_t *c;
    bool seen = false;
    json_array_foreach (json_object_get(t, "cells"), i, c) {
        const char *k = json_string_value(json_array_get(json_object_get(c, "keys"), 0));
        if (k && strcmp(k, "casa-a") == 0) {
            assert_true(json_real_value(json_object_get(c, "mean")) == 11.5);
            seen = true;
        }
    }
    assert_true(seen);
    json_decref(t);
    /* a filter on a record dimension */
    const char *kv2[] = {"entity", "stays", "dims", "year", "shelter", "casa-b", NULL};
    t = crosstab(&admin, kv2, AMP_OK);
    assert_int_equal(cell(t, "2025", NULL), 2);
    json_decref(t);
}

static void test_parameter_errors(void **state)
{
    (void)state;
    const char *a[] = {"dims", "nope", NULL};
    assert_null(crosstab(&admin, a, AMP_EINVALID));
    const char *b[] = {"dims", "year,gender,citizenship,border,exploitation", NULL};
    assert_null(crosstab(&admin, b, AMP_EINVALID));
    const char *c[] = {"dims", "year", "colour", "red", NULL};
    assert_null(crosstab(&admin, c, AMP_EINVALID));
    const char *d[] = {"dims", "year", "from", "2024-13-01", NULL};
    assert_null(crosstab(&admin, d, AMP_EINVALID));
    const char *e[] = {NULL};
    assert_null(crosstab(&admin, e, AMP_EINVALID));
    const char *f[] = {"entity", "planets", "dims", "year", NULL};
    assert_null(crosstab(&admin, f, AMP_EINVALID));
    const char *g[] = {"dims", "year,year", NULL};
    assert_null(crosstab(&admin, g, AMP_EINVALID));
    const char *h[] = {"dims", "year", "measure", "mean:height", NULL};
    assert_null(crosstab(&admin, h, AMP_EINVALID));
    const char *i[] = {"dims", "year", "epsilon", "-1", NULL};
    assert_null(crosstab(&admin, i, AMP_EINVALID));
    /* filter values: a picklist value or a country code that cannot exist is an error;
     * a valid code without cases simply matches nothing */
    list_param ps[2] = {{"dims", "year"}, {"gender", "Femenine"}};
    json_t *out = NULL;
    amp_err err = {0};
    assert_int_equal(report_crosstab(env->core, &admin, ps, 2, &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "gender", "picklist"));
    amp_err_clear(&err);
    list_param pc[2] = {{"dims", "year"}, {"citizenship", "EC,QQ"}};
    assert_int_equal(report_crosstab(env->core, &admin, pc, 2, &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "citizenship", "country"));
    amp_err_clear(&err);
    const char *j[] = {"dims", "year", "citizenship", "NZ", NULL};
    json_t *t = crosstab(&admin, j, AMP_OK);
    assert_int_equal(json_array_size(json_object_get(t, "cells")), 0);
    json_decref(t);
}

static void test_dp_release_spends_budget(void **state)
{
    (void)state;
    principal an = {.actor = "analyst", .lang = "en", .org = "org-a", .roles = ROLE_ANALYST};
    /* no dataset: the entity's default dataset, default budget 10 */
    const char *kv[] = {"dims", "gender", "epsilon", "4", NULL};
    json_t *t = crosstab(&an, kv, AMP_OK);
    const json_t *dc = json_object_get(t, "disclosure");
    assert_string_equal(json_string_value(json_object_get(json_object_get(dc, "dp"), "mechanism")),
                        "laplace");
    assert_string_equal(json_string_value(json_object_get(dc, "dataset")), "cases");
    json_decref(t);
    t = crosstab(&an, kv, AMP_OK);
    json_decref(t);
    /* a third release of 4 would exceed it */
    assert_null(crosstab(&an, kv, AMP_ESTATE));
    /* inventing a dataset does not give a fresh budget */
    const char *mine[] = {"dims", "gender", "epsilon", "4", "dataset", "mine1", NULL};
    list_param ps[4] = {{"dims", "gender"}, {"epsilon", "4"}, {"dataset", "mine1"}};
    json_t *out = NULL;
    amp_err err = {0};
    assert_int_equal(report_crosstab(env->core, &an, ps, 3, &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "dataset", "defined"));
    amp_err_clear(&err);
    /* nor does borrowing another entity's default dataset */
    ps[2].value = "stays";
    assert_int_equal(report_crosstab(env->core, &an, ps, 3, &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "dataset", "entity"));
    amp_err_clear(&err);
    /* nor can an analyst set a budget */
    ps[3] = (list_param){"budget", "100"};
    assert_int_equal(report_crosstab(env->core, &an, ps, 4, &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "budget", "forbidden"));
    amp_err_clear(&err);
    /* the administrator defines "mine1" with a budget of 1 (and spends 0.5) */
    const char *def[] = {"dims",  "gender", "epsilon", "0.5", "dataset",
                         "mine1", "budget", "1",       NULL};
    json_decref(crosstab(&admin, def, AMP_OK));
    /* the stored budget holds for the analyst, and is not overwritten */
    assert_null(crosstab(&an, mine, AMP_ESTATE));
    json_t *l = NULL;
    assert_int_equal(disclosure_ledger_get(env->core, &an, "mine1", &l, &err), AMP_OK);
    assert_true(json_number_value(json_object_get(l, "budget")) == 1.0);
    assert_true(json_number_value(json_object_get(l, "spent")) == 0.5);
    json_decref(l);
}

/* The sensitivity an answer states is the one its noise used: the spread of
 * the released total over many releases matches Laplace noise of scale
 * sensitivity / epsilon. */
static void test_dp_states_the_sensitivity_it_used(void **state)
{
    (void)state;
    const char *def[] = {"dims", "gender", "epsilon", "1", "dataset",
                         "sens", "budget", "1000",    NULL};
    json_decref(crosstab(&admin, def, AMP_OK)); /* defines "sens" */
    const char *kv[] = {"dims", "gender", "epsilon", "1", "dataset", "sens", NULL};
    const char *plain[] = {"dims", "gender", NULL};
    json_t *truth = crosstab(&admin, plain, AMP_OK);
    long long total = cell(truth, NULL, NULL);
    json_decref(truth);
    assert_true(total > 30);
    const int n = 600;
    double sum = 0, sq = 0, stated = 0;
    for (int i = 0; i < n; i++) {
        json_t *t = crosstab(&admin, kv, AMP_OK);
        const json_t *dp = json_object_get(json_object_get(t, "disclosure"), "dp");
        stated = json_number_value(json_object_get(dp, "sensitivity"));
        double x = (double)(cell(t, NULL, NULL) - total);
        sum += x;
        sq += x * x;
        json_decref(t);
    }
    /* gender is single-valued: a case reaches its cell and the total */
    assert_true(stated == 2.0);
    double mean = sum / n, var = sq / n - mean * mean, b = stated / 1.0;
    double expect = 2 * b * b + 1.0 / 12; /* Laplace, then rounding to an integer */
    print_message("stated sensitivity %.1f: variance %.2f, expected %.2f\n", stated, var, expect);
    assert_true(fabs(var - expect) < 0.4 * expect); /* about 4 standard errors */
}

static void test_renderers(void **state)
{
    (void)state;
    const char *kv[] = {"dims", "year,gender", "publish", "true", NULL};
    json_t *t = crosstab(&admin, kv, AMP_OK);
    size_t n = 0;
    char *csv = report_render_csv(t, NULL, &n);
    assert_non_null(csv);
    assert_true(strncmp(csv, "year,gender,count,flag\r\n", 24) == 0);
    assert_non_null(strstr(csv, "2024,Masculine,,suppressed"));
    assert_non_null(strstr(csv, "Total,Total,"));
    free(csv);
    json_t *arr = json_pack("[O]", t);
    unsigned char *x = report_render_xlsx(arr, NULL, &n);
    assert_non_null(x);
    assert_true(n > 1000 && x[0] == 'P' && x[1] == 'K'); /* a zip */
    free(x);
    report_render_opts es = {REPORT_LABELS, "es"};
    x = report_render_xlsx(arr, &es, &n);
    assert_non_null(x);
    assert_true(n > 1000 && x[0] == 'P' && x[1] == 'K');
    free(x);
    json_decref(arr);
    /* codes asked explicitly: the same bytes as without options */
    report_render_opts codes = {REPORT_CODES, "fr"};
    char *a = report_render_csv(t, NULL, &n), *b = report_render_csv(t, &codes, &n);
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_decref(t);
}

/* Files in a language: dimension labels as headings, category labels, the
 * words of the file translated; "both" puts a code and a label column side by
 * side. */
static void test_labelled_files(void **state)
{
    (void)state;
    const char *kv[] = {"dims", "year,gender", "publish", "true", NULL};
    json_t *t = crosstab(&admin, kv, AMP_OK);
    size_t n = 0;
    report_render_opts es = {REPORT_LABELS, "es"};
    char *csv = report_render_csv(t, &es, &n);
    assert_non_null(csv);
    assert_true(strncmp(csv, "Año de registro,Género,Número,Nota\r\n",
                        strlen("Año de registro,Género,Número,Nota\r\n")) == 0);
    assert_non_null(strstr(csv, "2024,Masculino,,suprimido"));
    assert_null(strstr(csv, "Masculine"));
    assert_non_null(strstr(csv, "Total,Total,"));
    free(csv);
    report_render_opts uk_both = {REPORT_BOTH, "uk"};
    csv = report_render_csv(t, &uk_both, &n);
    assert_true(strncmp(csv, "year,Рік реєстрації,gender,Стать,Кількість,Примітка\r\n",
                        strlen("year,Рік реєстрації,gender,Стать,Кількість,Примітка\r\n")) == 0);
    assert_non_null(strstr(csv, "2024,2024,Masculine,Чоловічий,,приховано"));
    assert_non_null(strstr(csv, "Усього,Усього,Усього,Усього,"));
    free(csv);
    /* an unknown language falls back to English labels */
    report_render_opts xx = {REPORT_LABELS, "xx"};
    csv = report_render_csv(t, &xx, &n);
    assert_true(strncmp(csv, "Year of registration,Gender,Number,Note\r\n", 40) == 0);
    free(csv);
    /* a pack: each table with its title, in the language */
    json_t *arr = json_pack("[O]", t);
    json_object_set_new(json_array_get(arr, 0), "title", json_string("Víctimas por año"));
    csv = report_render_csv_pack(arr, &es, &n);
    assert_true(strncmp(csv, "# Víctimas por año\r\nAño de registro,",
                        strlen("# Víctimas por año\r\nAño de registro,")) == 0);
    free(csv);
    json_decref(arr);
    json_decref(t);
    report_naming nm;
    assert_true(report_naming_parse("both", &nm) && nm == REPORT_BOTH);
    assert_false(report_naming_parse("Labels", &nm));
    assert_false(report_naming_parse(NULL, &nm));
}

/* Record entities label their categories from the referral and care picklists,
 * organisations by their names, fixed categories in four languages. */
static void test_record_categories_labelled(void **state)
{
    (void)state;
    const char *docs[] = {
        "{\"type\":\"Medical\",\"start_date\":\"2025-02-01\",\"outcome\":\"Achieved\"}",
        "{\"type\":\"Shelter\",\"start_date\":\"2025-02-03\",\"outcome\":\"NotAchieved\"}"};
    for (int i = 0; i < 2; i++) {
        char uid[40];
        snprintf(uid, sizeof uid, "assist-%d", i);
        rec_job j = {"assistance", uid, "org-a", docs[i]};
        assert_int_equal(store_run(env->store, job_put, &j), STORE_OK);
    }
    const char *kv[] = {"entity", "assistance", "dims", "type,outcome", NULL};
    json_t *t = crosstab(&admin, kv, AMP_OK);
    const json_t *cats = json_object_get(t, "categories");
    size_t i;
    const json_t *c;
    int seen = 0;
    json_array_foreach (json_object_get(cats, "type"), i, c) {
        const char *code = json_string_value(json_object_get(c, "code"));
        const char *es = json_string_value(json_object_get(json_object_get(c, "label"), "es"));
        if (strcmp(code, "Medical") == 0)
            seen += strcmp(es, "Atención médica") == 0;
        if (strcmp(code, "Shelter") == 0)
            seen += strcmp(es, "Alojamiento") == 0;
    }
    json_array_foreach (json_object_get(cats, "outcome"), i, c) {
        const char *fr = json_string_value(json_object_get(json_object_get(c, "label"), "fr"));
        seen += fr && strcmp(fr, json_string_value(json_object_get(c, "code"))) != 0;
    }
    assert_int_equal(seen, 4);
    const json_t *dl = json_array_get(json_object_get(t, "dimension_labels"), 0);
    assert_string_equal(json_string_value(json_object_get(dl, "es")), "Tipo de asistencia");
    json_decref(t);
    /* organisations by name */
    const char *kv2[] = {"entity", "assistance", "dims", "organisation", NULL};
    t = crosstab(&admin, kv2, AMP_OK);
    c = json_array_get(json_object_get(json_object_get(t, "categories"), "organisation"), 0);
    assert_string_equal(json_string_value(json_object_get(c, "code")), "org-a");
    assert_string_not_equal(json_string_value(json_object_get(json_object_get(c, "label"), "en")),
                            "org-a");
    json_decref(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_by_two_dims),
        cmocka_unit_test(test_multi_valued_cases_or_mentions),
        cmocka_unit_test(test_filters_and_route),
        cmocka_unit_test(test_age_groups),
        cmocka_unit_test(test_analyst_gets_controlled_figures),
        cmocka_unit_test(test_caseworker_sees_own_organisation),
        cmocka_unit_test(test_record_entity_with_measure),
        cmocka_unit_test(test_parameter_errors),
        cmocka_unit_test(test_dp_release_spends_budget),
        cmocka_unit_test(test_dp_states_the_sensitivity_it_used),
        cmocka_unit_test(test_renderers),
        cmocka_unit_test(test_labelled_files),
        cmocka_unit_test(test_record_categories_labelled),
        cmocka_unit_test(test_scanner_reads_past_escaped_text),
        cmocka_unit_test(test_withdrawn_consent_leaves_statistics),
        cmocka_unit_test(test_in_step_with_writes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
