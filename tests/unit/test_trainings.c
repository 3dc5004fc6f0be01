/* test_trainings.c — trainings and awareness events, their figures ("61
 * officials trained", "35 participants in Ibarra"), and indicators whose
 * actuals come from the records ("65 assisted against a target of 45"). */
#include "care_testutil.h"

#include "core/indicators.h"
#include "core/report.h"
#include "core/reintegration.h"
#include "core/shelters.h"
#include "core/trainings.h"
#include "util/uuid.h"

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

static amp_code create_event(tu_env *e, const principal *p, const char *body, json_t **out,
                             amp_err *err)
{
    json_t *b = tu_json(body), *o = NULL;
    amp_code code = CARE_SYNC(&o, err, trainings_create, e->core, p, b);
    json_decref(b);
    if (out)
        *out = o;
    else
        json_decref(o);
    return code;
}

static void three_events(tu_env *e, char first_id[40])
{
    principal cw = ct_user("cw-a", "org-a", ROLE_CASEWORKER);
    amp_err err = {0};
    json_t *out = NULL;
    CT_OK(create_event(e, &cw,
                       "{\"type\":\"Workshop\",\"title\":\"Identificación de víctimas\","
                       "\"start_date\":\"2026-03-10\",\"end_date\":\"2026-03-11\",\"country\":"
                       "\"EC\",\"province\":\"Imbabura\",\"city\":\"Ibarra\",\"audiences\":"
                       "[\"Police\",\"SocialWorkers\"],\"topics\":[\"Identification\"],"
                       "\"participants\":35,\"participants_by_sex\":{\"Female\":20,\"Male\":15},"
                       "\"participants_by_org_type\":{\"NGO\":10,\"LawEnforcement\":15,"
                       "\"Government\":10},\"named_participants\":[{\"name\":\"Ana Pérez\","
                       "\"organisation\":\"org-b\",\"org_type\":\"NGO\",\"sex\":\"Female\"}]}",
                       &out, &err),
          err);
    assert_int_equal(ct_i(out, "officials"), 25);
    assert_string_equal(ct_s(out, "organiser_org"), "org-a");
    snprintf(first_id, 40, "%s", ct_s(out, "id"));
    json_decref(out);
    CT_OK(create_event(e, &cw,
                       "{\"type\":\"Training\",\"title\":\"Procedimiento penal\",\"start_date\":"
                       "\"2026-05-04\",\"city\":\"Quito\",\"province\":\"Pichincha\","
                       "\"participants_by_org_type\":{\"LawEnforcement\":20,\"Prosecution\":10,"
                       "\"Judiciary\":6,\"NGO\":4},\"topics\":[\"CriminalProcedure\"]}",
                       &out, &err),
          err);
    assert_int_equal(ct_i(out, "participants"), 40); /* from the counts */
    assert_int_equal(ct_i(out, "officials"), 36);
    json_decref(out);
    CT_OK(
        create_event(e, &cw,
                     "{\"type\":\"Campaign\",\"title\":\"Trata no\",\"start_date\":\"2026-06-01\","
                     "\"city\":\"Ibarra\",\"participants\":500,\"participants_by_org_type\":"
                     "{\"Government\":50,\"Community\":450},\"audiences\":[\"CommunityMembers\"]}",
                     NULL, &err),
        err);
}

static void test_events_and_figures(void **state)
{
    tu_env *e = *state;
    char id[40];
    three_events(e, id);
    principal an = ct_user("analyst", "", ROLE_ANALYST),
              cw = ct_user("cw-a", "org-a", ROLE_CASEWORKER);
    amp_err err = {0};
    json_t *out = NULL;
    list_param ps[16];
    size_t n = ct_params("period=2026", ps);
    CT_OK(trainings_stats(e->core, &an, ps, n, &out, &err), err);
    assert_int_equal(ct_i(out, "events"), 3);
    assert_int_equal(ct_i(out, "officials_trained"), 61);
    assert_int_equal(ct_i(out, "participants"), 575);
    assert_int_equal(ct_i(out, "people_trained"), 75);
    assert_int_equal(ct_i(json_object_get(out, "participants_by_city"), "Ibarra"), 535);
    assert_int_equal(ct_i(json_object_get(out, "participants_by_sex"), "Female"), 20);
    json_decref(out);
    n = ct_params("city=ibarra&type=Workshop", ps);
    CT_OK(trainings_stats(e->core, &an, ps, n, &out, &err), err);
    assert_int_equal(ct_i(out, "participants"), 35);
    json_decref(out);
    n = ct_params("from=2026-04-01&to=2026-12-31&audience=CommunityMembers", ps);
    CT_OK(trainings_list(e->core, &an, ps, n, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 1);
    json_decref(out);
    /* named participants only for roles that see identity */
    CT_OK(trainings_get(e->core, &an, id, &out, &err), err);
    assert_null(json_object_get(out, "named_participants"));
    assert_int_equal(ct_i(out, "participants"), 35);
    json_decref(out);
    CT_OK(trainings_get(e->core, &cw, id, &out, &err), err);
    assert_string_equal(ct_s(json_array_get(json_object_get(out, "named_participants"), 0), "name"),
                        "Ana Pérez");
    json_decref(out);
    n = ct_params("type=Picnic", ps);
    assert_int_equal(trainings_list(e->core, &an, ps, n, &out, &err), AMP_EBADREQ);
    assert_true(tu_has_field_error(&err, "type", "picklist"));
    amp_err_clear(&err);
}

/* The cell of a one-dimension crosstab whose key is k (NULL if absent). */
static const json_t *cell_of(const json_t *t, const char *k)
{
    size_t i;
    const json_t *c;
    json_array_foreach (json_object_get(t, "cells"), i, c) {
        const char *key = json_string_value(json_array_get(json_object_get(c, "keys"), 0));
        if (key && strcmp(key, k) == 0)
            return c;
    }
    return NULL;
}

/* The report engine reads trainings by the fields they are stored with
 * (start_date, audiences, topics): figures by audience and year. */
static void test_trainings_in_reports(void **state)
{
    tu_env *e = *state;
    char first[40];
    three_events(e, first);
    principal sys = {.internal = true};
    amp_err err = {0};
    list_param by_audience[] = {
        {"entity", "trainings"}, {"dims", "audience"}, {"measure", "sum:participants"}};
    json_t *t = NULL;
    CT_OK(report_crosstab(e->core, &sys, by_audience, 3, &t, &err), err);
    const json_t *police = cell_of(t, "Police"), *community = cell_of(t, "CommunityMembers");
    assert_non_null(police);
    assert_non_null(community);
    assert_int_equal(json_integer_value(json_object_get(police, "count")), 1);
    assert_true(json_real_value(json_object_get(police, "sum")) == 35.0);
    assert_true(json_real_value(json_object_get(community, "sum")) == 500.0);
    json_decref(t);
    list_param by_year[] = {{"entity", "trainings"}, {"dims", "year"}, {"topic", "Identification"}};
    CT_OK(report_crosstab(e->core, &sys, by_year, 3, &t, &err), err);
    const json_t *y = cell_of(t, "2026");
    assert_non_null(y);
    assert_int_equal(json_integer_value(json_object_get(y, "count")), 1);
    json_decref(t);
}

static void test_event_refusals(void **state)
{
    tu_env *e = *state;
    char id[40];
    three_events(e, id);
    principal cw = ct_user("cw-a", "org-a", ROLE_CASEWORKER),
              an = ct_user("analyst", "", ROLE_ANALYST),
              other = ct_user("coord-c", "org-c", ROLE_COORDINATOR);
    amp_err err = {0};
    json_t *out = NULL;
    assert_int_equal(create_event(e, &cw,
                                  "{\"type\":\"Workshop\",\"title\":\"x\",\"start_date\":"
                                  "\"2026-03-10\",\"end_date\":\"2026-03-01\",\"participants\":35,"
                                  "\"participants_by_sex\":{\"Female\":20,\"Male\":10},"
                                  "\"participants_by_org_type\":{\"Aliens\":3},\"organiser_org\":"
                                  "\"org-c\"}",
                                  NULL, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "participants_by_org_type.Aliens", "picklist"));
    assert_true(tu_has_field_error(&err, "organiser_org", "wrong_organisation"));
    amp_err_clear(&err);
    assert_int_equal(create_event(e, &cw,
                                  "{\"type\":\"Workshop\",\"title\":\"x\",\"start_date\":"
                                  "\"2026-03-10\",\"end_date\":\"2026-03-01\",\"participants\":1,"
                                  "\"participants_by_sex\":{\"Female\":20,\"Male\":10},"
                                  "\"named_participants\":[{\"name\":\"A\"},{\"name\":\"B\"}]}",
                                  NULL, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "end_date", "date_order"));
    assert_true(tu_has_field_error(&err, "participants_by_sex", "participant_totals"));
    assert_true(tu_has_field_error(&err, "named_participants", "max_items"));
    amp_err_clear(&err);
    assert_int_equal(create_event(e, &an,
                                  "{\"type\":\"Workshop\",\"title\":\"x\",\"start_date\":"
                                  "\"2026-03-10\"}",
                                  NULL, &err),
                     AMP_EFORBIDDEN);
    amp_err_clear(&err);
    json_t *patch = tu_json("{\"title\":\"changed\"}");
    assert_int_equal(CARE_SYNC(&out, &err, trainings_update, e->core, &other, id, patch, 1),
                     AMP_EFORBIDDEN);
    assert_true(tu_has_field_error(&err, "training", "wrong_organisation"));
    amp_err_clear(&err);
    CT_OK(CARE_SYNC(&out, &err, trainings_update, e->core, &cw, id, patch, 1), err);
    assert_string_equal(ct_s(out, "title"), "changed");
    assert_int_equal(ct_i(out, "officials"), 25);
    json_decref(out);
    json_decref(patch);
    /* a change that breaks the totals is refused */
    patch = tu_json("{\"participants\":36}");
    assert_int_equal(CARE_SYNC(&out, &err, trainings_update, e->core, &cw, id, patch, 2),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "participants_by_sex", "participant_totals"));
    amp_err_clear(&err);
    json_decref(patch);
    /* caseworkers may not delete events; the organiser's coordinator may */
    assert_int_equal(CARE_SYNC(&out, &err, trainings_delete, e->core, &cw, id, 2), AMP_EFORBIDDEN);
    amp_err_clear(&err);
    principal co = ct_user("coord-a", "org-a", ROLE_COORDINATOR);
    assert_int_equal(CARE_SYNC(&out, &err, trainings_delete, e->core, &co, id, 1), AMP_EPRECOND);
    amp_err_clear(&err);
    CT_OK(CARE_SYNC(&out, &err, trainings_delete, e->core, &co, id, 2), err);
    json_decref(out);
    assert_int_equal(trainings_get(e->core, &cw, id, &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
}

typedef struct {
    const char *case_uid, *date;
} assist_arg;

/* An assistance record as the referral module writes it. */
static int assist_job(store_tx *tx, void *arg)
{
    assist_arg *a = arg;
    store_record r = {0};
    snprintf(r.kind, sizeof r.kind, "assistance");
    uuid_v7(r.uid);
    snprintf(r.case_uid, sizeof r.case_uid, "%s", a->case_uid);
    snprintf(r.org, sizeof r.org, "org-a");
    r.doc = json_pack("{s:s, s:s}", "type", "Medical", "start_date", a->date);
    int rc = store_tx_record_put(tx, &r, 0);
    store_record_release(&r);
    return rc;
}

static amp_code create_indicator(tu_env *e, const principal *p, const char *body, json_t **out,
                                 amp_err *err)
{
    json_t *b = tu_json(body), *o = NULL;
    amp_code code = CARE_SYNC(&o, err, indicators_create, e->core, p, b);
    json_decref(b);
    if (out)
        *out = o;
    else
        json_decref(o);
    return code;
}

static void test_indicators(void **state)
{
    tu_env *e = *state;
    char id[40];
    three_events(e, id);
    principal co = ct_user("coord-a", "org-a", ROLE_COORDINATOR);
    amp_err err = {0};
    json_t *out = NULL;
    /* refusals */
    assert_int_equal(
        create_indicator(e, &co,
                         "{\"code\":\"1.1\",\"name\":{\"en\":\"x\",\"xx\":\"y\"},"
                         "\"measure\":\"happiness\",\"targets\":[{\"period\":\"2026-Q7\","
                         "\"target\":3},{\"period\":\"2026\",\"target\":-1}]}",
                         NULL, &err),
        AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "measure", "picklist"));
    assert_true(tu_has_field_error(&err, "name.xx", "unknown_field"));
    assert_true(tu_has_field_error(&err, "targets[1].target", "min"));
    amp_err_clear(&err);
    assert_int_equal(create_indicator(e, &co,
                                      "{\"code\":\"1.1\",\"name\":\"x\",\"measure\":\"returns\","
                                      "\"targets\":[{\"period\":\"2026-Q7\",\"target\":3},"
                                      "{\"period\":\"2026\",\"target\":1},{\"period\":\"2026\","
                                      "\"target\":2}],\"filter_city\":\"Ibarra\"}",
                                      NULL, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "targets[0].period", "period"));
    assert_true(tu_has_field_error(&err, "targets[2].period", "duplicate"));
    assert_true(tu_has_field_error(&err, "filter_city", "applies_if"));
    amp_err_clear(&err);
    principal an = ct_user("analyst", "", ROLE_ANALYST),
              cw = ct_user("cw-a", "org-a", ROLE_CASEWORKER);
    assert_int_equal(create_indicator(e, &cw,
                                      "{\"code\":\"1\",\"name\":\"x\",\"measure\":\"returns\"}",
                                      NULL, &err),
                     AMP_EFORBIDDEN);
    amp_err_clear(&err);
    /* officials trained: 61 against a target of 45 */
    CT_OK(
        create_indicator(e, &co,
                         "{\"code\":\"2.1\",\"name\":{\"en\":\"Officials trained\",\"es\":"
                         "\"Funcionarios capacitados\"},\"measure\":\"officials_trained\","
                         "\"programme\":\"PNT\",\"baseline\":10,\"targets\":[{\"period\":\"2026\","
                         "\"target\":45},{\"period\":\"2026-H1\",\"target\":70}]}",
                         &out, &err),
        err);
    char ind[40];
    snprintf(ind, sizeof ind, "%s", ct_s(out, "id"));
    assert_string_equal(ct_s(out, "status"), "Active");
    json_decref(out);
    CT_OK(indicators_actuals(e->core, &an, ind, NULL, 0, &out, &err), err);
    json_t *y = json_array_get(json_object_get(out, "items"), 0),
           *h1 = json_array_get(json_object_get(out, "items"), 1);
    assert_true(fabs(ct_n(y, "actual") - 61) < 1e-9);
    assert_true(fabs(ct_n(y, "target") - 45) < 1e-9);
    assert_true(fabs(ct_n(y, "difference") - 16) < 1e-9);
    assert_true(json_is_true(json_object_get(y, "met")));
    assert_true(fabs(ct_n(h1, "actual") - 61) < 1e-9);
    assert_false(json_is_true(json_object_get(h1, "met")));
    json_decref(out);
    /* events in Ibarra */
    CT_OK(create_indicator(e, &co,
                           "{\"code\":\"2.2\",\"name\":\"Participants in Ibarra\",\"measure\":"
                           "\"participants\",\"filter_city\":\"Ibarra\",\"filter_event_types\":"
                           "[\"Workshop\",\"Training\"],\"targets\":[{\"period\":\"2026-Q1\","
                           "\"target\":30}]}",
                           &out, &err),
          err);
    char ibarra[40];
    snprintf(ibarra, sizeof ibarra, "%s", ct_s(out, "id"));
    json_decref(out);
    list_param ps[16];
    size_t n = ct_params("period=2026-Q1", ps);
    CT_OK(indicators_actuals(e->core, &an, ibarra, ps, n, &out, &err), err);
    assert_true(fabs(ct_n(json_array_get(json_object_get(out, "items"), 0), "actual") - 35) < 1e-9);
    json_decref(out);
    /* victims assisted: assistance records, stays, visits; one case counted once */
    char c1[40], c2[40], c3[40];
    ct_case(e, "org-a", "", c1);
    ct_case(e, "org-a", "", c2);
    ct_case(e, "org-a", "", c3);
    assist_arg a1 = {c1, "2026-02-01"}, a1b = {c1, "2026-03-01"}, a3 = {c3, "2025-02-01"};
    assert_int_equal(store_run(e->store, assist_job, &a1), STORE_OK);
    assert_int_equal(store_run(e->store, assist_job, &a1b), STORE_OK);
    assert_int_equal(store_run(e->store, assist_job, &a3), STORE_OK);
    json_t *plan = tu_json("{\"start_date\":\"2026-01-01\"}");
    CT_OK(CARE_SYNC(&out, &err, reint_plan_put, e->core, &cw, c2, plan, 0), err);
    json_decref(out);
    json_decref(plan);
    json_t *v = tu_json("{\"date\":\"2026-04-01\",\"scores\":{\"soc_housing\":0.9}}");
    CT_OK(CARE_SYNC(&out, &err, reint_visit_create, e->core, &cw, c2, v), err);
    json_decref(out);
    json_decref(v);
    CT_OK(create_indicator(e, &co,
                           "{\"code\":\"1.1\",\"name\":\"Victims assisted\",\"measure\":"
                           "\"cases_assisted\",\"targets\":[{\"period\":\"2026\",\"target\":1}]}",
                           NULL, &err),
          err);
    CT_OK(create_indicator(e, &co,
                           "{\"code\":\"3.1\",\"name\":\"Sustainable\",\"measure\":"
                           "\"sustainable_reintegrations\",\"targets\":[{\"period\":\"2026\","
                           "\"target\":5}],\"programme\":\"PNT\"}",
                           NULL, &err),
          err);
    n = ct_params("period=2026", ps);
    CT_OK(indicators_report(e->core, &an, ps, n, &out, &err), err);
    assert_int_equal(json_array_size(json_object_get(out, "items")), 4);
    assert_int_equal(ct_i(out, "with_target"), 3); /* the Ibarra one has no 2026 target */
    assert_int_equal(ct_i(out, "met"), 2);
    size_t i;
    json_t *it;
    json_array_foreach (json_object_get(out, "items"), i, it) {
        if (strcmp(ct_s(it, "code"), "1.1") == 0)
            assert_true(fabs(ct_n(it, "actual") - 2) < 1e-9);
        if (strcmp(ct_s(it, "code"), "3.1") == 0)
            assert_true(fabs(ct_n(it, "actual") - 1) < 1e-9);
    }
    json_decref(out);
    n = ct_params("period=2026&programme=pnt", ps);
    CT_OK(indicators_report(e->core, &an, ps, n, &out, &err), err);
    assert_int_equal(json_array_size(json_object_get(out, "items")), 2);
    json_decref(out);
    assert_int_equal(indicators_report(e->core, &an, NULL, 0, &out, &err), AMP_EBADREQ);
    assert_true(tu_has_field_error(&err, "period", "required"));
    amp_err_clear(&err);
    /* another organisation's coordinator may not change it */
    principal other = ct_user("coord-c", "org-c", ROLE_COORDINATOR);
    json_t *patch = tu_json("{\"status\":\"Archived\"}");
    assert_int_equal(CARE_SYNC(&out, &err, indicators_update, e->core, &other, ind, patch, 1),
                     AMP_EFORBIDDEN);
    amp_err_clear(&err);
    CT_OK(CARE_SYNC(&out, &err, indicators_update, e->core, &co, ind, patch, 1), err);
    json_decref(out);
    json_decref(patch);
    n = ct_params("status=Archived", ps);
    CT_OK(indicators_list(e->core, &an, ps, n, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 1);
    json_decref(out);
    /* the measure itself */
    double value = -1;
    CT_OK(
        indicators_measure(e->core, "events_held", NULL, "2026-01-01", "2026-12-31", &value, &err),
        err);
    assert_true(fabs(value - 3) < 1e-9);
    assert_int_equal(
        indicators_measure(e->core, "nonsense", NULL, "2026-01-01", "2026-12-31", &value, &err),
        AMP_EINVALID);
    amp_err_clear(&err);
}

static void test_shelters_supported(void **state)
{
    tu_env *e = *state;
    principal sb = ct_user("shelter-b", "org-b", ROLE_SHELTER);
    amp_err err = {0};
    json_t *out = NULL;
    json_t *b = tu_json("{\"name\":\"A\",\"capacity\":{\"Women\":3},\"opened_on\":\"2020-01-01\","
                        "\"supported_by\":[\"org-a\"]}");
    CT_OK(CARE_SYNC(&out, &err, shelters_create, e->core, &sb, b), err);
    json_decref(out);
    json_decref(b);
    b = tu_json("{\"name\":\"B\",\"capacity\":{\"Men\":3},\"opened_on\":\"2020-01-01\","
                "\"closed_on\":\"2025-06-30\"}");
    CT_OK(CARE_SYNC(&out, &err, shelters_create, e->core, &sb, b), err);
    json_decref(out);
    json_decref(b);
    double v = 0;
    CT_OK(indicators_measure(e->core, "shelters_supported", NULL, "2026-01-01", "2026-12-31", &v,
                             &err),
          err);
    assert_true(fabs(v - 1) < 1e-9);
    CT_OK(indicators_measure(e->core, "shelters_supported", NULL, "2025-01-01", "2025-12-31", &v,
                             &err),
          err);
    assert_true(fabs(v - 2) < 1e-9);
    json_t *f = tu_json("{\"filter_org\":\"org-a\"}");
    CT_OK(
        indicators_measure(e->core, "shelters_supported", f, "2025-01-01", "2025-12-31", &v, &err),
        err);
    assert_true(fabs(v - 1) < 1e-9);
    json_decref(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_events_and_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trainings_in_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indicators, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shelters_supported, setup, teardown),
    };
    return cmocka_run_group_tests_name("trainings and indicators", tests, NULL, NULL);
}
