/* e2e_referrals.c — the referral mechanism over HTTP against a real server:
 * directory, a referral from org-a to org-b through every transition and its
 * refusals, the case's HTCDS fields, overdue deadlines with a controlled clock
 * (AMPARO_NOW, the server restarted later in time), hotline contacts opened as
 * cases, decisions, closure and the picklists. */
#include "e2e_util.h"

static char case_id[64];

static const char *consented_case =
    "{\"prs_Gender\":\"Feminine\",\"prs_FirstName\":\"Rosa\",\"prs_Birthdate\":\"1994-03-02\","
    "\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\",\"amp_OwnerOrganisation\":"
    "\"org-a\",\"con_Consent\":true,\"amp_ConsentScope\":[\"Registration\",\"Referral\"]}";

static char *send_referral(const char *to, const char *urgency, long want)
{
    resp r;
    SEND(&r, "POST", "/api/v1/referrals",
         pf("{\"case\":\"%s\",\"to_org\":\"%s\",\"services\":[\"Shelter\",\"Medical\"],"
            "\"urgency\":\"%s\",\"reason\":\"AdditionalServicesRequired\",\"notes\":\"urgent "
            "shelter\"}",
            case_id, to, urgency),
         NULL);
    EXPECT_STATUS(&r, want);
    char *id = want == 201 ? strdup(jstr(r.json, "id")) : NULL;
    if (want == 201) {
        assert_true(starts_with(r.location, "/api/v1/referrals/"));
        assert_non_null(r.etag[0] ? r.etag : NULL);
    }
    resp_free(&r);
    return id;
}

static void test_world_and_directory(void **state)
{
    (void)state;
    e2e_world_setup();
    e2e_as("cw-a");
    create_case(consented_case, case_id, NULL);
    resp r;
    e2e_as("admin");
    SEND(&r, "PUT", "/api/v1/directory/org-b",
         "{\"services\":[\"Shelter\",\"Medical\"],\"regions\":[\"Pichincha\"],\"languages\":"
         "[\"es\"],\"capacity\":20,\"availability\":\"Available\",\"accepts_emergency\":true}",
         NULL);
    EXPECT_STATUS(&r, 201);
    resp_free(&r);
    SEND(&r, "PUT", "/api/v1/directory/org-b", "{\"services\":[\"Spa\"],\"colour\":1}", NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "services", "picklist");
    expect_field_error(&r, "colour", "unknown_field");
    resp_free(&r);
    SEND(&r, "PUT", "/api/v1/directory/nowhere", "{\"services\":[\"Shelter\"]}", NULL);
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    e2e_as("cw-a");
    GET(&r, "/api/v1/directory?service=Shelter&region=pichincha&country=EC");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 1);
    assert_string_equal(jstr(json_array_get(json_object_get(r.json, "items"), 0), "org"), "org-b");
    resp_free(&r);
    GET(&r, "/api/v1/directory?service=Shelter&country=PE");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 0);
    resp_free(&r);
    GET(&r, "/api/v1/directory?flavour=x");
    expect_error(&r, 422, NULL);
    resp_free(&r);
}

static void test_referral_lifecycle(void **state)
{
    (void)state;
    e2e_as("cw-a");
    resp r;
    /* refusals first: cross-border without consent, bad bodies */
    char *none = send_referral("org-c", "Standard", 422);
    assert_null(none);
    SEND(&r, "POST", "/api/v1/referrals", "{\"case\":1}", NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "case", "type");
    expect_field_error(&r, "to_org", "required");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/referrals", "{not json", NULL);
    expect_error(&r, 400, NULL);
    resp_free(&r);

    char *id = send_referral("org-b", "Standard", 201);
    (void)send_referral("org-b", "Standard", 409); /* one pending per receiver */
    GET(&r, pf("/api/v1/referrals/%s", id));
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "status"), "Sent");
    assert_string_equal(jstr(r.json, "due_at"), "2026-06-19T09:00:00.000Z");
    const json_t *sum = json_object_get(r.json, "case_summary");
    assert_string_equal(jstr(sum, "prs_Gender"), "Feminine");
    assert_null(json_object_get(sum, "prs_FirstName"));
    resp_free(&r);
    GET(&r, "/api/v1/referrals?box=outbox&status=Sent");
    EXPECT_STATUS(&r, 200);
    assert_true(jint(r.json, "total") >= 1);
    resp_free(&r);
    GET(&r, "/api/v1/referrals?box=sideways");
    expect_error(&r, 422, NULL);
    expect_field_error(&r, "box", "list.value");
    resp_free(&r);

#ifdef E2E_HAVE_AUTH
    {
        /* the receiver sees no free text and cannot open the case before accepting */
        e2e_as("cw-b");
        GET(&r, pf("/api/v1/referrals/%s", id));
        EXPECT_STATUS(&r, 200);
        assert_null(json_object_get(r.json, "notes"));
        resp_free(&r);
        GET(&r, pf("/api/v1/cases/%s", case_id));
        expect_error(&r, 404, NULL);
        resp_free(&r);
        /* the sender cannot accept; another organisation does not see it */
        e2e_as("cw-a");
        SEND(&r, "POST", pf("/api/v1/referrals/%s/accept", id), NULL, NULL);
        expect_error(&r, 403, "forbidden");
        resp_free(&r);
        e2e_as("cw-c");
        SEND(&r, "POST", pf("/api/v1/referrals/%s/accept", id), NULL, NULL);
        expect_error(&r, 404, NULL);
        resp_free(&r);
        e2e_as("analyst");
        GET(&r, "/api/v1/referrals");
        expect_error(&r, 403, "forbidden");
        resp_free(&r);
    }
#endif
    e2e_as("cw-b");
    SEND(&r, "POST", pf("/api/v1/referrals/%s/decline", id), "{}", NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "reason", "required");
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/referrals/%s/accept", id), NULL, "If-Match: \"9\"");
    expect_error(&r, 412, NULL);
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/referrals/%s/accept", id), NULL, NULL);
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "status"), "Accepted");
    assert_string_equal(r.etag, "\"2\"");
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/referrals/%s/accept", id), NULL, NULL);
    expect_error(&r, 409, "invalid_state");
    resp_free(&r);
    e2e_as("cw-a");
    SEND(&r, "POST", pf("/api/v1/referrals/%s/cancel", id), "{\"reason\":\"NoLongerNeeded\"}",
         NULL);
    expect_error(&r, 409, "invalid_state");
    resp_free(&r);
    /* the case's HTCDS referral fields follow */
    GET(&r, pf("/api/v1/cases/%s", case_id));
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "cas_ReferredOrganisation"), "org-b");
    assert_string_equal(jstr(r.json, "cas_ReasonForOutgoingReferral"),
                        "AdditionalServicesRequired");
    resp_free(&r);
    GET(&r, pf("/api/v1/cases/%s/referrals", case_id));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 1);
    resp_free(&r);
    e2e_as("cw-b");
    SEND(&r, "POST", pf("/api/v1/referrals/%s/complete", id), "{\"outcome\":\"ServicesProvided\"}",
         NULL);
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "status"), "Completed");
    assert_int_equal(json_array_size(json_object_get(r.json, "history")), 3);
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/referrals/%s/decline", id), "{\"reason\":\"NoCapacity\"}", NULL);
    expect_error(&r, 409, "invalid_state");
    resp_free(&r);
#ifdef E2E_HAVE_AUTH
    /* after acceptance the receiver opens the case */
    GET(&r, pf("/api/v1/cases/%s", case_id));
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
    /* every transition is on the audit trail, without identity values */
    e2e_as("auditor");
    GET(&r, "/api/v1/audit?action=referral.accept");
    EXPECT_STATUS(&r, 200);
    assert_true(json_array_size(json_object_get(r.json, "items")) >= 1);
    assert_null(strstr(r.body, "urgent shelter"));
    assert_null(strstr(r.body, "Rosa"));
    resp_free(&r);
    /* roles: an organisation admin edits only its own directory entry; a
     * caseworker logs no hotline contact and changes no settings; an analyst
     * sees no flows; nobody unsigned sees anything */
    e2e_as("orgadmin-a");
    SEND(&r, "PUT", "/api/v1/directory/org-b", "{\"services\":[\"Shelter\"]}", NULL);
    expect_error(&r, 403, "forbidden");
    resp_free(&r);
    SEND(&r, "PUT", "/api/v1/directory/org-a", "{\"services\":[\"LegalAid\"]}", NULL);
    EXPECT_STATUS(&r, 201);
    resp_free(&r);
    e2e_as("cw-a");
    SEND(&r, "POST", "/api/v1/hotline/contacts",
         "{\"channel\":\"Phone\",\"caller_type\":\"Relative\",\"urgency\":\"High\"}", NULL);
    expect_error(&r, 403, "forbidden");
    resp_free(&r);
    SEND(&r, "PUT", "/api/v1/referrals/settings", "{\"standard_working_days\":4}", NULL);
    expect_error(&r, 403, "forbidden");
    resp_free(&r);
    e2e_as("analyst");
    GET(&r, "/api/v1/referrals/flows");
    expect_error(&r, 403, "forbidden");
    resp_free(&r);
    e2e_as("");
    GET(&r, "/api/v1/referrals");
    expect_error(&r, 401, NULL);
    resp_free(&r);
    e2e_as("cw-b");
#endif
    SEND(&r, "POST", "/api/v1/referrals/nope/accept", NULL, NULL);
    expect_error(&r, 404, NULL);
    resp_free(&r);
    free(id);
    e2e_as("coord-a");
    GET(&r, "/api/v1/referrals/flows");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(json_object_get(r.json, "totals"), "completed"), 1);
    assert_null(strstr(r.body, case_id));
    resp_free(&r);
}

static void test_overdue_with_a_later_clock(void **state)
{
    (void)state;
    e2e_as("cw-a");
    char *id = send_referral("org-b", "Emergency", 201);
    resp r;
    GET(&r, "/api/v1/referrals?overdue=true");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 0);
    resp_free(&r);
    /* two days later: the emergency referral (24 hours) is overdue */
    assert_int_equal(WEXITSTATUS(server_terminate()), 0);
    setenv("AMPARO_NOW", "2026-06-17T09:00:00Z", 1);
    assert_int_equal(server_launch(), 0);
    GET(&r, "/api/v1/referrals?overdue=true");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 1);
    assert_true(json_is_true(
        json_object_get(json_array_get(json_object_get(r.json, "items"), 0), "overdue")));
    resp_free(&r);
    e2e_as("cw-b");
    GET(&r, "/api/v1/tasks?kind=ReferralAnswerDue");
    EXPECT_STATUS(&r, 200);
    assert_true(jint(r.json, "total") >= 1);
    resp_free(&r);
    GET(&r, "/api/v1/tasks?kind=Chores");
    expect_error(&r, 422, NULL);
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/referrals/%s/decline", id),
         "{\"reason\":\"NoCapacity\",\"details\":\"full\"}", NULL);
    EXPECT_STATUS(&r, 200);
    assert_false(json_is_true(json_object_get(r.json, "answered_on_time")));
    resp_free(&r);
    free(id);
}

static void test_hotline_decisions_closure(void **state)
{
    (void)state;
    e2e_as("hotline-a");
    resp r;
    SEND(&r, "POST", "/api/v1/hotline/contacts",
         "{\"channel\":\"Phone\",\"caller_type\":\"MemberOfPublic\",\"urgency\":\"Emergency\","
         "\"indicators\":[\"MovementRestricted\"],\"summary\":\"workers locked in\"}",
         NULL);
    EXPECT_STATUS(&r, 201);
    char hid[64];
    snprintf(hid, sizeof hid, "%s", jstr(r.json, "id"));
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/hotline/contacts", "{\"channel\":\"Pigeon\"}", NULL);
    expect_error(&r, 422, NULL);
    expect_field_error(&r, "channel", "picklist");
    expect_field_error(&r, "caller_type", "required");
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/hotline/contacts/%s/repeat", hid),
         "{\"channel\":\"Messaging\",\"indicators\":[\"ThreatsOrViolence\"]}", NULL);
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "repeat_count"), 1);
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/hotline/contacts/%s/open-case", hid), NULL, NULL);
    EXPECT_STATUS(&r, 201);
    char cid[64];
    snprintf(cid, sizeof cid, "%s", jstr(json_object_get(r.json, "case"), "id"));
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/hotline/contacts/%s/open-case", hid), NULL, NULL);
    expect_error(&r, 409, "invalid_state");
    resp_free(&r);
    GET(&r, pf("/api/v1/cases/%s/hotline-contacts", cid));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 1);
    resp_free(&r);
    GET(&r, "/api/v1/hotline/stats");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "cases_opened"), 1);
    resp_free(&r);
    SEND(&r, "PATCH", pf("/api/v1/hotline/contacts/%s", hid), "{\"place\":\"Quito\"}", NULL);
    expect_error(&r, 428, NULL);
    resp_free(&r);

    e2e_as("cw-a");
    SEND(&r, "POST", pf("/api/v1/cases/%s/decisions", case_id),
         "{\"kind\":\"Conclusive\",\"outcome\":\"Positive\",\"decision_maker\":\"Police\"}", NULL);
    expect_error(&r, 409, "invalid_state");
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/cases/%s/decisions", case_id),
         "{\"kind\":\"Initial\",\"outcome\":\"Negative\",\"decision_maker\":\"NGO\"}", NULL);
    EXPECT_STATUS(&r, 201);
    resp_free(&r);
    GET(&r, pf("/api/v1/cases/%s", case_id));
    assert_string_equal(jstr(r.json, "vic_TraffickingStatus"), "NotAVictimOfTrafficking");
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/cases/%s/close", case_id), "{}", NULL);
    expect_error(&r, 422, NULL);
    expect_field_error(&r, "reason", "required");
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/cases/%s/close", case_id),
         "{\"reason\":\"not a victim\",\"kind\":\"Closed\"}", NULL);
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/cases/%s/reopen", case_id), "{\"reason\":\"new facts\"}", NULL);
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
    GET(&r, "/api/v1/referrals/picklists");
    EXPECT_STATUS(&r, 200);
    const json_t *pl = json_object_get(r.json, "picklists");
    assert_true(json_array_size(json_object_get(pl, "services")) >= 16);
    assert_string_equal(
        jstr(json_object_get(json_array_get(json_object_get(pl, "hotline_channels"), 0), "label"),
             "uk"),
        "Телефон");
    resp_free(&r);
    SEND(&r, "DELETE", "/api/v1/referrals/picklists", NULL, NULL);
    EXPECT_STATUS(&r, 405);
    resp_free(&r);
}

int main(void)
{
    setenv("AMPARO_NOW", "2026-06-12T09:00:00Z", 1); /* the server inherits it */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_world_and_directory),
        cmocka_unit_test(test_referral_lifecycle),
        cmocka_unit_test(test_overdue_with_a_later_clock),
        cmocka_unit_test(test_hotline_decisions_closure),
    };
    return cmocka_run_group_tests_name("e2e_referrals", tests, group_setup, group_teardown);
}
