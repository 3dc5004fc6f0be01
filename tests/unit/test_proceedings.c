/* test_proceedings.c — criminal proceedings: stages, verdicts, perpetrators
 * linked from the case, scope and figures. */
#include "care_testutil.h"

#include "core/proceedings.h"

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

/* A case of org-a with two perpetrators: ids into case_id, per[0], per[1]. */
static void case_with_perpetrators(tu_env *e, char case_id[40], char per[2][40])
{
    principal in = ct_internal();
    amp_err err = {0};
    json_t *body = tu_json(
        "{\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":\"ActualVictimOfTrafficking\","
        "\"amp_OwnerOrganisation\":\"org-a\",\"perpetrators\":[{\"prs_Gender\":\"Masculine\","
        "\"per_RoleInProcess\":[\"RecruiterOrIntermediary\"]},{\"prs_Gender\":\"Feminine\"}]}");
    json_t *out = NULL;
    CT_OK(cases_create_sync(e->core, &in, body, &out, &err), err);
    snprintf(case_id, 40, "%s", ct_s(out, "id"));
    json_t *pers = json_object_get(out, "perpetrators");
    assert_int_equal(json_array_size(pers), 2);
    for (int i = 0; i < 2; i++)
        snprintf(per[i], 40, "%s", ct_s(json_array_get(pers, (size_t)i), "id"));
    json_decref(body);
    json_decref(out);
}

static amp_code open_proceeding(tu_env *e, const principal *p, const char *body, json_t **out,
                                amp_err *err)
{
    json_t *b = tu_json(body), *o = NULL;
    amp_code code = CARE_SYNC(&o, err, proceedings_create, e->core, p, b);
    json_decref(b);
    if (out)
        *out = o;
    else
        json_decref(o);
    return code;
}

static void test_stages_and_links(void **state)
{
    tu_env *e = *state;
    char cid[40], per[2][40], other_case[40], other_per[2][40];
    case_with_perpetrators(e, cid, per);
    case_with_perpetrators(e, other_case, other_per);
    principal cw = ct_user("cw-a", "org-a", ROLE_CASEWORKER);
    amp_err err = {0};
    json_t *out = NULL;
    char body[1500];
    /* a trial dated before the complaint; a perpetrator of another case */
    snprintf(
        body, sizeof body,
        "{\"case\":\"%s\",\"stages\":[{\"stage\":\"Complaint\",\"date\":\"2025-03-01\"},"
        "{\"stage\":\"Trial\",\"date\":\"2025-02-01\"}],\"perpetrators\":[{\"perpetrator\":"
        "\"%s\"},{\"perpetrator\":\"%s\"},{\"perpetrator\":\"%s\"}],\"verdict\":\"Conviction\","
        "\"sentence_months\":12,\"compensation_awarded\":100,\"compensation_paid\":200}",
        cid, per[0], per[0], other_per[0]);
    assert_int_equal(open_proceeding(e, &cw, body, NULL, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "stages[1].date", "stage_order"));
    assert_true(tu_has_field_error(&err, "perpetrators[1].perpetrator", "duplicate"));
    assert_true(tu_has_field_error(&err, "perpetrators[2].perpetrator", "not_in_case"));
    assert_true(tu_has_field_error(&err, "verdict_date", "required_when"));
    assert_true(tu_has_field_error(&err, "currency", "required_when"));
    assert_true(tu_has_field_error(&err, "compensation_paid", "max"));
    amp_err_clear(&err);
    assert_int_equal(open_proceeding(e, &cw, "{\"stages\":[]}", NULL, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "case", "required"));
    amp_err_clear(&err);
    snprintf(body, sizeof body,
             "{\"case\":\"%s\",\"stages\":[{\"stage\":\"Hearing\",\"date\":\"2030-01-01\"}],"
             "\"victim_roles\":[\"Witness\",\"Witness\"]}",
             cid);
    assert_int_equal(open_proceeding(e, &cw, body, NULL, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "stages[0].stage", "picklist"));
    assert_true(tu_has_field_error(&err, "stages[0].date", "not_future"));
    assert_true(tu_has_field_error(&err, "victim_roles[1]", "duplicate"));
    amp_err_clear(&err);
    snprintf(
        body, sizeof body,
        "{\"case\":\"%s\",\"file_number\":\"123-2025\",\"authority\":\"Fiscalía de Imbabura\","
        "\"offences\":[\"TraffickingInPersons\"],\"stages\":[{\"stage\":\"Investigation\","
        "\"date\":\"2025-04-01\"},{\"stage\":\"Complaint\",\"date\":\"2025-03-01\"}],"
        "\"victim_roles\":[\"Witness\",\"CivilParty\"],\"protection_measures\":"
        "[\"IdentityProtection\",\"RemoteTestimony\"],\"perpetrators\":[{\"perpetrator\":\"%s\","
        "\"standing\":\"Accused\"}]}",
        cid, per[0]);
    CT_OK(open_proceeding(e, &cw, body, &out, &err), err);
    /* stages are kept in order; the current stage and opening date are derived */
    assert_string_equal(ct_s(json_array_get(json_object_get(out, "stages"), 0), "stage"),
                        "Complaint");
    assert_string_equal(ct_s(out, "stage"), "Investigation");
    assert_string_equal(ct_s(out, "opened_on"), "2025-03-01");
    assert_string_equal(ct_s(out, "status"), "Open");
    char id[40];
    snprintf(id, sizeof id, "%s", ct_s(out, "id"));
    json_decref(out);
    /* a verdict: conviction with sentence and compensation, then closed */
    snprintf(
        body, sizeof body,
        "{\"stages\":[{\"stage\":\"Complaint\",\"date\":\"2025-03-01\"},{\"stage\":"
        "\"Investigation\",\"date\":\"2025-04-01\"},{\"stage\":\"Trial\",\"date\":"
        "\"2026-01-10\"},{\"stage\":\"Verdict\",\"date\":\"2026-02-01\"},{\"stage\":\"Closed\","
        "\"date\":\"2026-03-01\"}],\"verdict\":\"Conviction\",\"verdict_date\":\"2026-02-01\","
        "\"sentence_months\":96,\"compensation_awarded\":5000,\"compensation_paid\":1000,"
        "\"currency\":\"USD\",\"perpetrators\":[{\"perpetrator\":\"%s\",\"standing\":"
        "\"Convicted\",\"verdict\":\"Conviction\",\"sentence_months\":96},{\"perpetrator\":"
        "\"%s\",\"standing\":\"Acquitted\",\"verdict\":\"Acquittal\"}]}",
        per[0], per[1]);
    json_t *patch = tu_json(body);
    CT_OK(CARE_SYNC(&out, &err, proceedings_update, e->core, &cw, id, patch, 1), err);
    assert_string_equal(ct_s(out, "status"), "Closed");
    assert_string_equal(ct_s(out, "stage"), "Closed");
    json_decref(out);
    json_decref(patch);
    /* the case cannot be changed */
    patch = tu_json("{\"case\":\"x\"}");
    assert_int_equal(CARE_SYNC(&out, &err, proceedings_update, e->core, &cw, id, patch, 2),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "case", "read_only"));
    amp_err_clear(&err);
    json_decref(patch);
    /* scope: another organisation sees nothing, and no proof that it exists */
    principal other = ct_user("cw-c", "org-c", ROLE_CASEWORKER);
    assert_int_equal(proceedings_get(e->core, &other, id, &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    CT_OK(proceedings_list(e->core, &other, NULL, 0, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 0);
    json_decref(out);
    CT_OK(proceedings_list(e->core, &cw, NULL, 0, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 1);
    json_decref(out);
    list_param ps[16];
    size_t n = ct_params("status=Closed&verdict=Conviction", ps);
    CT_OK(proceedings_list(e->core, &cw, ps, n, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 1);
    json_decref(out);
    n = ct_params("stage=Appeal", ps);
    CT_OK(proceedings_list(e->core, &cw, ps, n, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 0);
    json_decref(out);
    CT_OK(proceedings_of_case(e->core, &cw, cid, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 1);
    assert_string_equal(ct_s(json_array_get(json_object_get(out, "items"), 0), "file_number"),
                        "123-2025");
    json_decref(out);
    /* a shelter worker may not read proceedings */
    principal sh = ct_user("shelter-a", "org-a", ROLE_SHELTER);
    assert_int_equal(proceedings_get(e->core, &sh, id, &out, &err), AMP_EFORBIDDEN);
    amp_err_clear(&err);
    /* figures */
    principal an = ct_user("analyst", "", ROLE_ANALYST);
    n = ct_params("period=2026", ps);
    CT_OK(proceedings_stats(e->core, &an, ps, n, &out, &err), err);
    assert_int_equal(ct_i(out, "opened"), 0); /* opened in 2025 */
    assert_int_equal(ct_i(out, "verdicts"), 1);
    assert_int_equal(ct_i(out, "convictions"), 1);
    assert_int_equal(ct_i(out, "perpetrators_convicted"), 1);
    assert_true(fabs(ct_n(json_object_get(json_object_get(out, "compensation"), "USD"), "awarded") -
                     5000) < 1e-9);
    json_decref(out);
    n = ct_params("period=2025", ps);
    CT_OK(proceedings_stats(e->core, &an, ps, n, &out, &err), err);
    assert_int_equal(ct_i(out, "opened"), 1);
    assert_int_equal(ct_i(json_object_get(out, "victim_roles"), "Witness"), 1);
    json_decref(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stages_and_links, setup, teardown),
    };
    return cmocka_run_group_tests_name("proceedings", tests, NULL, NULL);
}
