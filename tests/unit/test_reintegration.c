/* test_reintegration.c — plans, scored visits, the child framework, alerts,
 * trends and the sustainability outcomes at 6 and 12 months. */
#include "care_testutil.h"

#include "core/reintegration.h"

static int setup(void **state)
{
    tu_env *e = tu_env_new();
    ct_world(e);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    tu_env_free(*state);
    return 0;
}

static principal cw(void)
{
    return ct_user("cw-a", "org-a", ROLE_CASEWORKER);
}

static amp_code put_plan(tu_env *e, const char *case_id, const char *body, int64_t version,
                         json_t **out, amp_err *err)
{
    principal p = cw();
    json_t *b = tu_json(body), *o = NULL;
    amp_code code = CARE_SYNC(&o, err, reint_plan_put, e->core, &p, case_id, b, version);
    json_decref(b);
    if (out)
        *out = o;
    else
        json_decref(o);
    return code;
}

static amp_code visit(tu_env *e, const char *case_id, const char *body, json_t **out, amp_err *err)
{
    principal p = cw();
    json_t *b = tu_json(body), *o = NULL;
    amp_code code = CARE_SYNC(&o, err, reint_visit_create, e->core, &p, case_id, b);
    json_decref(b);
    if (out)
        *out = o;
    else
        json_decref(o);
    return code;
}

/* A visit scoring one indicator per adult dimension. */
static void adult_visit(tu_env *e, const char *case_id, const char *date, double eco, double soc,
                        double psy)
{
    char body[400];
    amp_err err = {0};
    snprintf(body, sizeof body,
             "{\"date\":\"%s\",\"type\":\"HomeVisit\",\"scores\":{\"eco_income_sources\":%g,"
             "\"soc_housing\":%g,\"psy_wellbeing\":%g},\"notes\":\"doing fine\"}",
             date, eco, soc, psy);
    CT_OK(visit(e, case_id, body, NULL, &err), err);
}

static void test_score_weights(void **state)
{
    (void)state;
    json_t *fw = tu_json("{\"dimensions\":[{\"code\":\"a\",\"weight\":2,\"indicators\":[{\"code\":"
                         "\"a1\",\"weight\":1},{\"code\":\"a2\",\"weight\":3}]},{\"code\":\"b\","
                         "\"weight\":1,\"indicators\":[{\"code\":\"b1\",\"weight\":1}]},{\"code\":"
                         "\"c\",\"weight\":5,\"indicators\":[{\"code\":\"c1\",\"weight\":1}]}]}");
    json_t *scores = tu_json("{\"a1\":1,\"a2\":0.2,\"b1\":0.9}"), *dims = NULL;
    /* a = (1*1 + 3*0.2)/4 = 0.4; composite = (2*0.4 + 1*0.9)/3 = 0.5667; c unscored */
    double comp = reint_score(fw, scores, &dims);
    assert_true(fabs(ct_n(dims, "a") - 0.4) < 1e-9);
    assert_true(fabs(ct_n(dims, "b") - 0.9) < 1e-9);
    assert_null(json_object_get(dims, "c"));
    assert_true(fabs(comp - 0.567) < 1e-9);
    json_decref(dims);
    json_decref(scores);
    scores = tu_json("{}");
    assert_true(reint_score(fw, scores, &dims) < 0);
    json_decref(dims);
    json_decref(scores);
    json_decref(fw);
}

static void test_plan_and_visit_refusals(void **state)
{
    tu_env *e = *state;
    char cid[40];
    ct_case(e, "org-a", "\"prs_Birthdate\":\"1990-01-01\"", cid);
    amp_err err = {0};
    json_t *out = NULL;
    /* no plan yet */
    assert_int_equal(
        visit(e, cid, "{\"date\":\"2026-01-01\",\"scores\":{\"soc_housing\":0.5}}", NULL, &err),
        AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "plan", "required"));
    amp_err_clear(&err);
    principal p = cw();
    assert_int_equal(reint_plan_get(e->core, &p, cid, &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    assert_int_equal(put_plan(e, cid,
                              "{\"start_date\":\"2025-06-01\",\"planned_end_date\":\"2025-01-01\","
                              "\"visit_interval_days\":3,\"framework\":\"elderly\"}",
                              0, NULL, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "planned_end_date", "date_order"));
    assert_true(tu_has_field_error(&err, "visit_interval_days", "min"));
    assert_true(tu_has_field_error(&err, "framework", "picklist"));
    amp_err_clear(&err);
    CT_OK(put_plan(e, cid, "{\"start_date\":\"2025-06-01\",\"services\":[\"IncomeGeneration\"]}", 0,
                   &out, &err),
          err);
    assert_string_equal(ct_s(out, "framework"), "adult");
    assert_string_equal(ct_s(out, "status"), "Active");
    assert_string_equal(ct_s(out, "responsible_org"), "org-a");
    json_decref(out);
    /* replacing needs the version */
    assert_int_equal(put_plan(e, cid, "{\"start_date\":\"2025-06-01\"}", 0, NULL, &err),
                     AMP_ENEEDVER);
    amp_err_clear(&err);
    assert_int_equal(put_plan(e, cid, "{\"start_date\":\"2025-06-01\"}", 7, NULL, &err),
                     AMP_EPRECOND);
    amp_err_clear(&err);
    CT_OK(put_plan(e, cid, "{\"start_date\":\"2025-06-01\",\"visit_interval_days\":90}", 1, &out,
                   &err),
          err);
    assert_int_equal(ct_i(out, "version"), 2);
    json_decref(out);
    /* scores: unknown indicator, out of range, nothing scored, before the plan */
    assert_int_equal(visit(e, cid,
                           "{\"date\":\"2026-01-01\",\"scores\":{\"eco_foo\":0.5,\"soc_housing\":"
                           "1.5,\"psy_wellbeing\":\"high\",\"chi_enrolled\":1}}",
                           NULL, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "scores.eco_foo", "unknown_indicator"));
    assert_true(tu_has_field_error(&err, "scores.soc_housing", "score_range"));
    assert_true(tu_has_field_error(&err, "scores.psy_wellbeing", "score_range"));
    /* a child indicator is not one of the adult framework */
    assert_true(tu_has_field_error(&err, "scores.chi_enrolled", "unknown_indicator"));
    amp_err_clear(&err);
    assert_int_equal(visit(e, cid, "{\"date\":\"2026-01-01\",\"scores\":{}}", NULL, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "scores", "required"));
    amp_err_clear(&err);
    assert_int_equal(
        visit(e, cid, "{\"date\":\"2025-05-01\",\"scores\":{\"soc_housing\":0.5}}", NULL, &err),
        AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "date", "date_order"));
    amp_err_clear(&err);
    assert_int_equal(
        visit(e, cid, "{\"date\":\"2026-07-01\",\"scores\":{\"soc_housing\":0.5}}", NULL, &err),
        AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "date", "not_future"));
    amp_err_clear(&err);
    /* roles and scope */
    principal hot = ct_user("hotline-a", "org-a", ROLE_HOTLINE),
              other = ct_user("cw-c", "org-c", ROLE_CASEWORKER);
    assert_int_equal(reint_plan_get(e->core, &hot, cid, &out, &err), AMP_EFORBIDDEN);
    amp_err_clear(&err);
    assert_int_equal(reint_plan_get(e->core, &other, cid, &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
}

static void test_visits_trend_alerts(void **state)
{
    tu_env *e = *state;
    char adult[40], child[40];
    ct_case(e, "org-a", "\"prs_Birthdate\":\"1990-01-01\"", adult);
    ct_case(e, "org-a", "\"prs_Birthdate\":\"2014-01-01\"", child);
    amp_err err = {0};
    json_t *out = NULL;
    CT_OK(
        put_plan(e, adult, "{\"start_date\":\"2025-06-01\",\"goals\":\"a bakery\"}", 0, NULL, &err),
        err);
    CT_OK(put_plan(e, child, "{\"start_date\":\"2026-01-01\"}", 0, &out, &err), err);
    assert_string_equal(ct_s(out, "framework"), "child");
    json_decref(out);
    adult_visit(e, adult, "2025-09-01", 0.5, 0.5, 0.5);
    adult_visit(e, adult, "2025-12-01", 0.8, 0.8, 0.8);
    json_t *v3 = NULL;
    CT_OK(visit(e, adult,
                "{\"date\":\"2026-06-01\",\"scores\":{\"eco_income_sources\":0.2,\"eco_debt\":0.2,"
                "\"soc_housing\":0.6,\"psy_wellbeing\":0.7}}",
                &v3, &err),
          err);
    assert_true(fabs(ct_n(json_object_get(v3, "dimension_scores"), "economic") - 0.2) < 1e-9);
    assert_true(fabs(ct_n(v3, "composite") - 0.5) < 1e-9);
    assert_false(json_is_true(json_object_get(v3, "sustainable")));
    assert_string_equal(ct_s(v3, "next_visit_due"), "2026-08-30");
    principal p = cw();
    CT_OK(reint_trend(e->core, &p, adult, &out, &err), err);
    json_t *items = json_object_get(out, "items");
    assert_int_equal(json_array_size(items), 3);
    assert_true(fabs(ct_n(json_array_get(items, 1), "change") - 0.3) < 1e-9);
    assert_true(fabs(ct_n(json_array_get(items, 2), "change") + 0.3) < 1e-9);
    assert_true(fabs(ct_n(out, "change_since_first")) < 1e-9);
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(out, "by_dimension"), "economic")), 3);
    json_decref(out);
    /* the plan: next visit and its alerts */
    CT_OK(reint_plan_get(e->core, &p, adult, &out, &err), err);
    assert_string_equal(ct_s(out, "next_visit_due"), "2026-08-30");
    assert_int_equal(ct_i(out, "visits"), 3);
    assert_string_equal(ct_s(out, "goals"), "a bakery");
    json_decref(out);
    /* the child: safety low, and overdue (no visit 90 days after the start) */
    CT_OK(reint_plan_get(e->core, &p, child, &out, &err), err);
    assert_string_equal(ct_s(out, "next_visit_due"), "2026-04-01");
    json_decref(out);
    list_param ps[16];
    size_t n = ct_params("", ps);
    CT_OK(reint_alerts(e->core, &p, ps, n, &out, &err), err);
    items = json_object_get(out, "items");
    int overdue = 0, drop = 0, below = 0;
    size_t i;
    json_t *a;
    json_array_foreach (items, i, a) {
        const char *kind = ct_s(a, "kind");
        if (strcmp(kind, "visit_overdue") == 0) {
            overdue++;
            assert_string_equal(ct_s(a, "case"), child);
            assert_string_equal(ct_s(a, "severity"), "high");
            assert_int_equal(ct_i(a, "days_overdue"), 75);
        } else if (strcmp(kind, "score_drop") == 0) {
            drop++;
            assert_string_equal(ct_s(a, "case"), adult);
        } else if (strcmp(kind, "score_below") == 0) {
            below++;
            assert_string_equal(ct_s(a, "dimension"), "economic");
        }
    }
    assert_int_equal(overdue, 1);
    /* composite 0.8 -> 0.5 and economic 0.8 -> 0.2; social 0.8 -> 0.6 is within 0.2 */
    assert_int_equal(drop, 2);
    assert_int_equal(below, 1);
    /* high severity first */
    assert_string_equal(ct_s(json_array_get(items, 0), "severity"), "high");
    json_decref(out);
    /* a child visit: safety below its own threshold (0.5) is a high alert */
    CT_OK(visit(e, child,
                "{\"date\":\"2026-06-10\",\"scores\":{\"chi_safe_home\":0.4,\"chi_enrolled\":1,"
                "\"chi_care\":0.9,\"chi_physical_health\":0.9,\"chi_bia_placement\":1}}",
                NULL, &err),
          err);
    n = ct_params("framework=child&kind=score_below", ps);
    CT_OK(reint_alerts(e->core, &p, ps, n, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 1);
    a = json_array_get(json_object_get(out, "items"), 0);
    assert_string_equal(ct_s(a, "dimension"), "safety");
    assert_string_equal(ct_s(a, "severity"), "high");
    json_decref(out);
    /* another organisation sees no alerts of these cases */
    principal other = ct_user("cw-c", "org-c", ROLE_CASEWORKER);
    CT_OK(reint_alerts(e->core, &other, ps, 0, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 0);
    json_decref(out);
    n = ct_params("kind=sadness", ps);
    assert_int_equal(reint_alerts(e->core, &p, ps, n, &out, &err), AMP_EBADREQ);
    amp_err_clear(&err);
    /* correcting a visit recomputes its scores */
    json_t *patch = tu_json("{\"scores\":{\"eco_income_sources\":0.8,\"eco_debt\":null}}");
    char vid[40];
    snprintf(vid, sizeof vid, "%s", ct_s(v3, "id"));
    CT_OK(CARE_SYNC(&out, &err, reint_visit_update, e->core, &p, adult, vid, patch, 1), err);
    assert_true(fabs(ct_n(json_object_get(out, "dimension_scores"), "economic") - 0.8) < 1e-9);
    assert_null(json_object_get(json_object_get(out, "scores"), "eco_debt"));
    assert_true(fabs(ct_n(out, "composite") - 0.7) < 1e-9);
    json_decref(out);
    json_decref(patch);
    json_decref(v3);
}

static void test_outcomes(void **state)
{
    tu_env *e = *state;
    char a1[40], a2[40], ch[40];
    ct_case(e, "org-a", "\"prs_Birthdate\":\"1990-01-01\"", a1);
    ct_case(e, "org-a", "\"prs_Birthdate\":\"1985-01-01\"", a2);
    ct_case(e, "org-a", "\"prs_Birthdate\":\"2014-01-01\"", ch);
    amp_err err = {0};
    CT_OK(put_plan(e, a1, "{\"start_date\":\"2025-06-01\"}", 0, NULL, &err), err);
    CT_OK(put_plan(e, a2, "{\"start_date\":\"2025-10-01\"}", 0, NULL, &err), err);
    CT_OK(put_plan(e, ch, "{\"start_date\":\"2026-01-01\"}", 0, NULL, &err), err);
    adult_visit(e, a1, "2025-09-01", 0.5, 0.5, 0.5);
    adult_visit(e, a1, "2025-12-01", 0.8, 0.8, 0.8);
    adult_visit(e, a1, "2026-06-01", 0.2, 0.6, 0.7);
    adult_visit(e, a2, "2026-04-05", 0.7, 0.7, 0.7);
    principal an = ct_user("analyst", "", ROLE_ANALYST);
    json_t *out = NULL;
    list_param ps[16];
    CT_OK(reint_outcomes(e->core, &an, ps, 0, &out, &err), err);
    assert_int_equal(ct_i(out, "plans"), 3);
    json_t *m6 = json_array_get(json_object_get(out, "items"), 0),
           *m12 = json_array_get(json_object_get(out, "items"), 1);
    assert_int_equal(ct_i(m6, "months"), 6);
    assert_int_equal(ct_i(m6, "plans_due"), 2);
    assert_int_equal(ct_i(m6, "measured"), 2);
    assert_int_equal(ct_i(m6, "sustainable"), 2);
    assert_true(fabs(ct_n(m6, "share") - 1.0) < 1e-9);
    assert_int_equal(ct_i(m12, "months"), 12);
    assert_int_equal(ct_i(m12, "plans_due"), 1);
    assert_int_equal(ct_i(m12, "sustainable"), 0);
    assert_true(fabs(ct_n(m12, "share")) < 1e-9);
    json_decref(out);
    size_t n = ct_params("threshold=0.75", ps);
    CT_OK(reint_outcomes(e->core, &an, ps, n, &out, &err), err);
    m6 = json_array_get(json_object_get(out, "items"), 0);
    assert_int_equal(ct_i(m6, "sustainable"), 1);
    assert_true(fabs(ct_n(m6, "share") - 0.5) < 1e-9);
    json_decref(out);
    n = ct_params("framework=child", ps);
    CT_OK(reint_outcomes(e->core, &an, ps, n, &out, &err), err);
    assert_int_equal(ct_i(out, "plans"), 1);
    assert_int_equal(ct_i(json_array_get(json_object_get(out, "items"), 0), "plans_due"), 0);
    json_decref(out);
    n = ct_params("threshold=2", ps);
    assert_int_equal(reint_outcomes(e->core, &an, ps, n, &out, &err), AMP_EBADREQ);
    assert_true(tu_has_field_error(&err, "threshold", "score_range"));
    amp_err_clear(&err);
    /* case-level records stay closed to analysts */
    assert_int_equal(reint_trend(e->core, &an, a1, &out, &err), AMP_EFORBIDDEN);
    amp_err_clear(&err);
}

static void test_config(void **state)
{
    (void)state;
    char msg[300];
    assert_int_equal(care_config_check(care_config(), msg, sizeof msg), 0);
    json_t *bad = json_deep_copy(care_config());
    json_object_set_new(bad, "sustainable_threshold", json_real(1.5));
    assert_int_equal(care_config_check(bad, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "sustainable_threshold"));
    json_decref(bad);
    bad = json_deep_copy(care_config());
    json_t *dims =
        json_object_get(json_object_get(json_object_get(bad, "frameworks"), "adult"), "dimensions");
    json_t *ind = json_array_get(json_object_get(json_array_get(dims, 0), "indicators"), 0);
    json_object_set_new(ind, "code", json_string("soc_housing")); /* used twice now */
    assert_int_equal(care_config_check(bad, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "twice"));
    json_decref(bad);
    /* loading a file replaces the configuration; a bad one is refused */
    char dir[256], path[300];
    tu_tmpdir(dir);
    snprintf(path, sizeof path, "%s/bad.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"frameworks\": 3}", f);
    fclose(f);
    assert_int_equal(care_config_load_file(path, msg, sizeof msg), -1);
    assert_true(fabs(care_config_number("sustainable_threshold", 0) - 0.66) < 1e-9);
    json_t *good = json_deep_copy(care_config());
    json_object_set_new(good, "sustainable_threshold", json_real(0.7));
    snprintf(path, sizeof path, "%s/good.json", dir);
    assert_int_equal(json_dump_file(good, path, 0), 0);
    assert_int_equal(care_config_load_file(path, msg, sizeof msg), 0);
    assert_true(fabs(care_config_number("sustainable_threshold", 0) - 0.7) < 1e-9);
    json_decref(good);
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_score_weights),
        cmocka_unit_test_setup_teardown(test_plan_and_visit_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visits_trend_alerts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outcomes, setup, teardown),
        cmocka_unit_test(test_config), /* last: it replaces the configuration */
    };
    return cmocka_run_group_tests_name("reintegration", tests, NULL, NULL);
}
