/* test_returns.c — voluntary return and family reunification: validation,
 * cross-border consent, scope, and the figures straight from the records. */
#include "care_testutil.h"

#include "core/referrals.h"
#include "core/returns.h"

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

#define CONSENT                                                                                    \
    "\"con_Consent\":true,\"amp_ConsentScope\":[\"Registration\",\"Referral\","                    \
    "\"CrossBorder\"],\"amp_ConsentDate\":\"2026-03-01\""

static amp_code create_return(tu_env *e, const principal *p, const char *case_id, const char *body,
                              json_t **out, amp_err *err)
{
    json_t *b = tu_json(body), *o = NULL;
    amp_code code = CARE_SYNC(&o, err, returns_create, e->core, p, case_id, b);
    json_decref(b);
    if (out)
        *out = o;
    else
        json_decref(o);
    return code;
}

static void test_validation(void **state)
{
    tu_env *e = *state;
    char cid[40];
    ct_case(e, "org-a", "\"prs_Citizenship\":[\"CO\"]", cid);
    principal cw = ct_user("cw-a", "org-a", ROLE_CASEWORKER);
    amp_err err = {0};
    assert_int_equal(create_return(e, &cw, cid,
                                   "{\"type\":\"Flight\",\"destination_country\":\"ZZ\","
                                   "\"departure_date\":\"2026-05-10\",\"arrival_date\":"
                                   "\"2026-05-01\",\"colour\":1}",
                                   NULL, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "type", "picklist"));
    assert_true(tu_has_field_error(&err, "destination_country", "country"));
    assert_true(tu_has_field_error(&err, "colour", "unknown_field"));
    amp_err_clear(&err);
    /* cross-field rules are checked once the fields are valid */
    assert_int_equal(create_return(e, &cw, cid,
                                   "{\"type\":\"FamilyReunification\",\"destination_country\":"
                                   "\"CO\",\"departure_date\":\"2026-05-10\",\"arrival_date\":"
                                   "\"2026-05-01\",\"reunification_date\":\"2026-05-12\","
                                   "\"status\":\"Completed\"}",
                                   NULL, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "arrival_date", "date_order"));
    assert_true(tu_has_field_error(&err, "reunified_with", "required_when"));
    amp_err_clear(&err);
    assert_int_equal(create_return(e, &cw, cid,
                                   "{\"type\":\"VoluntaryReturn\",\"destination_country\":\"CO\","
                                   "\"status\":\"Completed\",\"reunification_date\":\"2026-05-01\","
                                   "\"reunified_with\":[\"Mother\"]}",
                                   NULL, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "departure_date", "required_when"));
    assert_true(tu_has_field_error(&err, "reunification_date", "applies_if"));
    amp_err_clear(&err);
    /* a completed return cannot lie in the future */
    assert_int_equal(create_return(e, &cw, cid,
                                   "{\"type\":\"VoluntaryReturn\",\"destination_country\":\"CO\","
                                   "\"status\":\"Completed\",\"departure_date\":\"2026-07-01\"}",
                                   NULL, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "departure_date", "not_future"));
    amp_err_clear(&err);
}

static void test_cross_border_consent_and_scope(void **state)
{
    tu_env *e = *state;
    char minor[40], adult[40];
    ct_case(
        e, "org-a",
        "\"prs_Citizenship\":[\"PE\"],\"prs_Birthdate\":\"2012-04-01\",\"con_Consent\":true,"
        "\"amp_ConsentScope\":[\"Registration\",\"Referral\"],\"amp_ConsentDate\":\"2026-03-01\"",
        minor);
    ct_case(e, "org-a", "\"prs_Citizenship\":[\"EC\"]," CONSENT, adult);
    principal cw = ct_user("cw-a", "org-a", ROLE_CASEWORKER);
    amp_err err = {0};
    json_t *out = NULL;
    const char *to_peru = "{\"type\":\"ReturnAndReunification\",\"destination_country\":\"PE\","
                          "\"destination_city\":\"Tumbes\",\"receiving_org\":\"org-pe\","
                          "\"family_contact\":\"aunt, +51 999\"}";
    /* the child's consent lacks CrossBorder and a guardian's consent */
    assert_int_equal(create_return(e, &cw, minor, to_peru, NULL, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "amp_ConsentScope", "consent_scope"));
    assert_true(tu_has_field_error(&err, "amp_GuardianConsent", "guardian_consent_required"));
    amp_err_clear(&err);
    /* a receiving organisation in the same country needs no cross-border consent */
    CT_OK(create_return(e, &cw, minor,
                        "{\"type\":\"FamilyReunification\",\"destination_country\":\"EC\","
                        "\"receiving_org\":\"org-c\"}",
                        &out, &err),
          err);
    assert_true(json_is_true(json_object_get(out, "minor")));
    assert_false(json_is_true(json_object_get(out, "cross_border")));
    assert_string_equal(ct_s(out, "status"), "Planned");
    json_decref(out);
    /* with consent it goes through */
    CT_OK(create_return(e, &cw, adult, to_peru, &out, &err), err);
    assert_true(json_is_true(json_object_get(out, "cross_border")));
    assert_string_equal(ct_s(out, "departure_country"), "EC"); /* the registering country */
    assert_string_equal(ct_s(out, "family_contact"), "aunt, +51 999");
    char rid[40];
    snprintf(rid, sizeof rid, "%s", ct_s(out, "id"));
    json_decref(out);
    /* at rest, identity-level fields are sealed under the case's key */
    store_record raw;
    assert_int_equal(store_record_get(e->store, "return", rid, &raw), STORE_OK);
    assert_null(json_object_get(raw.doc, "family_contact"));
    assert_true(json_is_string(json_object_get(raw.doc, "_sealed")));
    assert_string_equal(json_string_value(json_object_get(raw.doc, "destination_city")), "Tumbes");
    char *text = json_dumps(raw.doc, 0);
    assert_null(strstr(text, "+51 999"));
    free(text);
    store_record_release(&raw);
    CT_OK(returns_get(e->core, &cw, adult, rid, &out, &err), err);
    assert_string_equal(ct_s(out, "family_contact"), "aunt, +51 999");
    assert_null(json_object_get(out, "_sealed"));
    json_decref(out);
    /* the cross-border referral that hands the person over is linked, and must go
     * to the receiving organisation */
    char ref[400], refid[40];
    snprintf(ref, sizeof ref,
             "{\"case\":\"%s\",\"to_org\":\"org-pe\",\"services\":[\"Psychosocial\"],"
             "\"urgency\":\"Standard\",\"reason\":\"MigrationOrChangeOfLocation\"}",
             adult);
    json_t *rb = tu_json(ref);
    CT_OK(referrals_send(e->core, &cw, rb, &out, &err), err);
    json_decref(rb);
    snprintf(refid, sizeof refid, "%s", ct_s(out, "id"));
    json_decref(out);
    char body[600];
    snprintf(body, sizeof body,
             "{\"type\":\"VoluntaryReturn\",\"destination_country\":\"PE\","
             "\"receiving_org\":\"org-pe\",\"receiving_referral\":\"%s\"}",
             refid);
    CT_OK(create_return(e, &cw, adult, body, NULL, &err), err);
    snprintf(body, sizeof body,
             "{\"type\":\"VoluntaryReturn\",\"destination_country\":\"PE\","
             "\"receiving_org\":\"org-c\",\"receiving_referral\":\"%s\"}",
             refid);
    assert_int_equal(create_return(e, &cw, adult, body, NULL, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "receiving_referral", "wrong_organisation"));
    amp_err_clear(&err);
    snprintf(body, sizeof body,
             "{\"type\":\"VoluntaryReturn\",\"destination_country\":\"PE\","
             "\"receiving_referral\":\"%s\"}",
             refid);
    assert_int_equal(create_return(e, &cw, minor, body, NULL, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "receiving_referral", "not_in_case"));
    amp_err_clear(&err);
    /* another organisation does not see the case, nor its returns */
    principal other = ct_user("cw-c", "org-c", ROLE_CASEWORKER);
    assert_int_equal(returns_list(e->core, &other, adult, &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    assert_int_equal(returns_get(e->core, &other, adult, rid, &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    /* a hotline operator may not read returns at all */
    principal hot = ct_user("hotline-a", "org-a", ROLE_HOTLINE);
    assert_int_equal(returns_list(e->core, &hot, adult, &out, &err), AMP_EFORBIDDEN);
    amp_err_clear(&err);
    /* a shelter worker may read but not record */
    principal sh = ct_user("shelter-a", "org-a", ROLE_SHELTER);
    CT_OK(returns_list(e->core, &sh, adult, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 2);
    json_decref(out);
    assert_int_equal(create_return(e, &sh, adult, to_peru, NULL, &err), AMP_EFORBIDDEN);
    amp_err_clear(&err);
    /* the record belongs to its case */
    assert_int_equal(returns_get(e->core, &cw, minor, rid, &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    /* updates: version required, then completed; completed stays completed */
    json_t *patch =
        tu_json("{\"status\":\"Completed\",\"departure_date\":\"2026-06-01\","
                "\"reunification_date\":\"2026-06-02\",\"reunified_with\":[\"Mother\"]}");
    assert_int_equal(CARE_SYNC(&out, &err, returns_update, e->core, &cw, adult, rid, patch, 0),
                     AMP_ENEEDVER);
    amp_err_clear(&err);
    CT_OK(CARE_SYNC(&out, &err, returns_update, e->core, &cw, adult, rid, patch, 1), err);
    assert_int_equal(ct_i(out, "version"), 2);
    json_decref(out);
    json_decref(patch);
    patch = tu_json("{\"status\":\"Planned\"}");
    assert_int_equal(CARE_SYNC(&out, &err, returns_update, e->core, &cw, adult, rid, patch, 2),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "status", "closed"));
    amp_err_clear(&err);
    json_decref(patch);
}

static void test_figures(void **state)
{
    tu_env *e = *state;
    /* victims registered in 2026: three foreign (CO, PE, PE+CO), three Ecuadorian (one
     * of them also Colombian); one registered in 2025 */
    char c[7][40];
    ct_case(
        e, "org-a",
        "\"prs_Citizenship\":[\"CO\"],\"amp_RegistrationDate\":\"2026-01-10\",\"prs_Birthdate\":"
        "\"2011-01-01\"," CONSENT ",\"amp_GuardianConsent\":true",
        c[0]);
    ct_case(e, "org-a",
            "\"prs_Citizenship\":[\"PE\"],\"amp_RegistrationDate\":\"2026-02-10\"," CONSENT, c[1]);
    ct_case(e, "org-a",
            "\"prs_Citizenship\":[\"PE\",\"CO\"],\"amp_RegistrationDate\":\"2026-03-10\",\"prs_"
            "Birthdate\":\"2010-06-01\"," CONSENT ",\"amp_GuardianConsent\":true",
            c[2]);
    ct_case(e, "org-a", "\"prs_Citizenship\":[\"EC\"],\"amp_RegistrationDate\":\"2026-04-10\"",
            c[3]);
    ct_case(e, "org-a",
            "\"prs_Citizenship\":[\"EC\",\"CO\"],\"amp_RegistrationDate\":\"2026-05-10\","
            "\"vic_AgeWhenTrafficked\":15",
            c[4]);
    ct_case(e, "org-a", "\"prs_Citizenship\":[\"VE\"],\"amp_RegistrationDate\":\"2025-05-10\"",
            c[5]);
    /* identified as a child (17), an adult (18) when reunited in Colombia */
    ct_case(
        e, "org-a",
        "\"prs_Citizenship\":[\"EC\"],\"amp_RegistrationDate\":\"2026-03-01\",\"prs_Birthdate\":"
        "\"2008-04-01\"," CONSENT ",\"amp_GuardianConsent\":true",
        c[6]);
    principal cw = ct_user("cw-a", "org-a", ROLE_CASEWORKER);
    amp_err err = {0};
    CT_OK(create_return(e, &cw, c[6],
                        "{\"type\":\"FamilyReunification\",\"status\":\"Completed\","
                        "\"destination_country\":\"CO\",\"reunification_date\":\"2026-05-01\","
                        "\"reunified_with\":[\"Mother\"]}",
                        NULL, &err),
          err);
    /* the minor from CO: returned and reunited with parents in Colombia */
    CT_OK(create_return(e, &cw, c[0],
                        "{\"type\":\"ReturnAndReunification\",\"status\":\"Completed\","
                        "\"destination_country\":\"CO\",\"departure_date\":\"2026-03-01\","
                        "\"reunification_date\":\"2026-03-02\",\"reunified_with\":[\"Parents\"]}",
                        NULL, &err),
          err);
    /* the adult from PE: returned home */
    CT_OK(create_return(e, &cw, c[1],
                        "{\"type\":\"VoluntaryReturn\",\"status\":\"Completed\","
                        "\"destination_country\":\"PE\",\"departure_date\":\"2026-04-01\"}",
                        NULL, &err),
          err);
    /* the second minor: reunited abroad; a second record for the same person counts once */
    CT_OK(create_return(e, &cw, c[2],
                        "{\"type\":\"FamilyReunification\",\"status\":\"Completed\","
                        "\"destination_country\":\"PE\",\"reunification_date\":\"2026-05-01\","
                        "\"reunified_with\":[\"Mother\"]}",
                        NULL, &err),
          err);
    CT_OK(create_return(e, &cw, c[2],
                        "{\"type\":\"FamilyReunification\",\"status\":\"Completed\","
                        "\"destination_country\":\"PE\",\"reunification_date\":\"2026-05-20\","
                        "\"reunified_with\":[\"Mother\"]}",
                        NULL, &err),
          err);
    /* a minor reunited with family in Ecuador: not abroad */
    CT_OK(create_return(e, &cw, c[4],
                        "{\"type\":\"FamilyReunification\",\"status\":\"Completed\","
                        "\"destination_country\":\"EC\",\"reunification_date\":\"2026-06-01\","
                        "\"reunified_with\":[\"Father\"]}",
                        NULL, &err),
          err);
    /* planned: not counted */
    CT_OK(create_return(e, &cw, c[3],
                        "{\"type\":\"VoluntaryReturn\",\"destination_country\":\"CO\","
                        "\"departure_date\":\"2026-06-01\"}",
                        NULL, &err),
          err);
    principal an = ct_user("analyst", "org-a", ROLE_ANALYST);
    list_param ps[16];
    size_t n = ct_params("period=2026", ps);
    json_t *out = NULL;
    CT_OK(returns_stats(e->core, &an, ps, n, &out, &err), err);
    assert_int_equal(ct_i(out, "victims_registered"), 6);
    assert_int_equal(ct_i(out, "foreign_victims"), 3);
    assert_int_equal(ct_i(json_object_get(out, "foreign_by_citizenship"), "PE"), 2);
    assert_int_equal(ct_i(out, "returned_home"), 2);
    assert_int_equal(ct_i(out, "reunifications"), 4);
    assert_int_equal(ct_i(out, "minors_reunited"), 4);
    assert_int_equal(ct_i(out, "minors_reunited_abroad"), 3);
    assert_int_equal(ct_i(out, "returns_pending"), 1);
    assert_int_equal(ct_i(json_object_get(out, "returns_by_destination"), "CO"), 1);
    json_decref(out);
    /* an earlier period */
    n = ct_params("from=2026-01-01&to=2026-03-31", ps);
    CT_OK(returns_stats(e->core, &an, ps, n, &out, &err), err);
    assert_int_equal(ct_i(out, "victims_registered"), 4);
    assert_int_equal(ct_i(out, "returned_home"), 1);
    assert_int_equal(ct_i(out, "minors_reunited_abroad"), 1);
    json_decref(out);
    /* the auditor gets no figures; bad parameters are refused */
    principal au = ct_user("auditor", "org-a", ROLE_AUDITOR);
    assert_int_equal(returns_stats(e->core, &au, ps, n, &out, &err), AMP_EFORBIDDEN);
    amp_err_clear(&err);
    n = ct_params("period=2026&colour=red", ps);
    assert_int_equal(returns_stats(e->core, &an, ps, n, &out, &err), AMP_EBADREQ);
    assert_true(tu_has_field_error(&err, "colour", "unknown_parameter"));
    amp_err_clear(&err);
}

typedef struct {
    tu_env *e;
    const char *case_uid;
    bool keep;
} erase_arg;

static int erase_job(store_tx *tx, void *arg)
{
    erase_arg *a = arg;
    principal in = ct_internal();
    return care_erase_case_tx(tx, a->e->core, &in, a->case_uid, a->keep);
}

/* Erasing a case removes the identity-level fields of its care records (or the
 * records, without consent to statistics); an erased case's records no longer
 * change. */
static void test_erasure(void **state)
{
    tu_env *e = *state;
    char cid[40];
    ct_case(e, "org-a", "\"prs_Citizenship\":[\"EC\"]", cid);
    principal cw = ct_user("cw-a", "org-a", ROLE_CASEWORKER);
    amp_err err = {0};
    json_t *out = NULL;
    CT_OK(create_return(e, &cw, cid,
                        "{\"type\":\"FamilyReunification\",\"destination_country\":\"EC\","
                        "\"family_contact\":\"grandmother, Otavalo\",\"notes\":\"x\"}",
                        NULL, &err),
          err);
    erase_arg a = {e, cid, true};
    assert_int_equal(store_run(e->store, erase_job, &a), STORE_OK);
    CT_OK(returns_list(e->core, &cw, cid, &out, &err), err);
    json_t *r = json_array_get(json_object_get(out, "items"), 0);
    assert_non_null(r);
    assert_null(json_object_get(r, "family_contact"));
    assert_null(json_object_get(r, "notes"));
    assert_string_equal(ct_s(r, "destination_country"), "EC");
    json_decref(out);
    a.keep = false;
    assert_int_equal(store_run(e->store, erase_job, &a), STORE_OK);
    CT_OK(returns_list(e->core, &cw, cid, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 0);
    json_decref(out);
    /* the case erased: its records can no longer change */
    principal in = ct_internal();
    CT_OK(cases_erase(e->core, &in, cid, &out, &err), err);
    json_decref(out);
    assert_int_equal(create_return(e, &cw, cid,
                                   "{\"type\":\"VoluntaryReturn\",\"destination_country\":\"CO\"}",
                                   NULL, &err),
                     AMP_ESTATE);
    amp_err_clear(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_border_consent_and_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erasure, setup, teardown),
    };
    return cmocka_run_group_tests_name("returns", tests, NULL, NULL);
}
