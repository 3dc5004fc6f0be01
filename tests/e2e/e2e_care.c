/* e2e_care.c — the care modules over HTTP against a real server: shelters and
 * stays (capacity, waiting list, 409 over_capacity), returns, reintegration,
 * proceedings, trainings, indicators; refusals by role and organisation. */
#include "e2e_util.h"

#include <math.h>

static int care_setup(void **state)
{
    if (group_setup(state) != 0)
        return -1;
    e2e_world_setup();
    return 0;
}

/* POSTs (or PUTs…) and expects `status`; copies the answer's id when asked. */
static void send_expect(const char *method, const char *path, const char *body, long status,
                        char id[64])
{
    resp r;
    SEND(&r, method, path, body, NULL);
    EXPECT_STATUS(&r, status);
    if (id)
        snprintf(id, 64, "%s", jstr(r.json, "id") ? jstr(r.json, "id") : "");
    resp_free(&r);
}

static void get_expect(const char *path, long status)
{
    resp r;
    GET(&r, path);
    EXPECT_STATUS(&r, status);
    resp_free(&r);
}

static void test_picklists(void **state)
{
    (void)state;
    e2e_as("cw-a");
    resp r;
    GET(&r, "/api/v1/care/picklists");
    EXPECT_STATUS(&r, 200);
    json_t *pl = json_object_get(json_object_get(r.json, "picklists"), "discharge_reasons");
    json_t *first = json_array_get(json_object_get(pl, "values"), 0);
    assert_string_equal(jstr(first, "name"), "FamilyReintegration");
    assert_string_equal(jstr(json_object_get(first, "label"), "es"), "Reintegración familiar");
    resp_free(&r);
    GET(&r, "/api/v1/reintegration/indicators");
    EXPECT_STATUS(&r, 200);
    assert_non_null(json_object_get(json_object_get(r.json, "frameworks"), "child"));
    resp_free(&r);
#ifdef E2E_HAVE_AUTH
    e2e_as(NULL);
    GET(&r, "/api/v1/care/picklists");
    expect_error(&r, 401, NULL);
    resp_free(&r);
    GET(&r, "/api/v1/shelters");
    expect_error(&r, 401, NULL);
    resp_free(&r);
    e2e_as("cw-a");
#endif
}

static void test_shelters_and_stays(void **state)
{
    (void)state;
    char shelter[64], c1[64], c2[64], stay1[64], stay2[64];
    e2e_as("shelter-b");
    resp r;
    SEND(&r, "POST", "/api/v1/shelters",
         "{\"name\":\"Casa Esperanza\",\"capacity\":{\"Women\":1,\"Children\":2},"
         "\"cost_per_night\":{\"Women\":25},\"currency\":\"USD\",\"region\":\"Imbabura\","
         "\"city\":\"Ibarra\",\"address\":\"Calle Oculta 12\",\"opened_on\":\"2019-01-01\"}",
         NULL);
    EXPECT_STATUS(&r, 201);
    snprintf(shelter, sizeof shelter, "%s", jstr(r.json, "id"));
    assert_true(starts_with(r.location, "/api/v1/shelters/"));
    assert_string_equal(jstr(r.json, "org"), "org-b");
    resp_free(&r);
    /* bad bodies */
    SEND(&r, "POST", "/api/v1/shelters", "{\"name\":\"X\",\"capacity\":{\"Cats\":2},\"pool\":1}",
         NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "capacity.Cats", "picklist");
    expect_field_error(&r, "pool", "unknown_field");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/shelters", "{\"name\":", NULL);
    expect_error(&r, 400, NULL);
    resp_free(&r);
    SEND(&r, "PATCH", pf("/api/v1/shelters/%s", shelter), "{\"region\":\"Carchi\"}", NULL);
    expect_error(&r, 428, NULL);
    resp_free(&r);
    SEND(&r, "PATCH", pf("/api/v1/shelters/%s", shelter), "{\"region\":\"Carchi\"}",
         "If-Match: \"9\"");
    expect_error(&r, 412, NULL);
    resp_free(&r);
    SEND(&r, "PATCH", pf("/api/v1/shelters/%s", shelter), "{\"region\":\"Carchi\"}",
         "If-Match: \"1\"");
    EXPECT_STATUS(&r, 200);
    assert_string_equal(r.etag, "\"2\"");
    resp_free(&r);
    /* the people: cases of the shelter's organisation */
    e2e_as("cw-b");
    create_case(
        "{\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":\"ActualVictimOfTrafficking\"}", c1,
        NULL);
    create_case(
        "{\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":\"ActualVictimOfTrafficking\"}", c2,
        NULL);
    e2e_as("shelter-b");
    SEND(&r, "POST", pf("/api/v1/shelters/%s/stays", shelter),
         pf("{\"case\":\"%s\",\"place_kind\":\"Women\",\"admitted_on\":\"2026-01-01\","
            "\"planned_discharge\":\"2026-08-01\"}",
            c1),
         NULL);
    EXPECT_STATUS(&r, 201);
    snprintf(stay1, sizeof stay1, "%s", jstr(r.json, "id"));
    assert_true(starts_with(r.location, "/api/v1/stays/"));
    assert_string_equal(jstr(r.json, "status"), "Admitted");
    resp_free(&r);
    /* full: 409 over_capacity, naming the kind of place */
    SEND(&r, "POST", pf("/api/v1/shelters/%s/stays", shelter),
         pf("{\"case\":\"%s\",\"place_kind\":\"Women\"}", c2), "Accept-Language: es");
    expect_error(&r, 409, "over_capacity");
    expect_field_error(&r, "place_kind", "over_capacity");
    assert_non_null(strstr(r.body, "Mujeres"));
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/shelters/%s/stays", shelter),
         pf("{\"case\":\"%s\",\"place_kind\":\"Women\",\"waiting_list\":true}", c2), NULL);
    EXPECT_STATUS(&r, 201);
    snprintf(stay2, sizeof stay2, "%s", jstr(r.json, "id"));
    assert_string_equal(jstr(r.json, "status"), "Waiting");
    resp_free(&r);
    GET(&r, pf("/api/v1/shelters/%s/waiting-list", shelter));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 1);
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/stays/%s/admit", stay2), NULL, NULL);
    expect_error(&r, 409, "over_capacity");
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/stays/%s/discharge", stay1),
         "{\"discharged_on\":\"2025-12-01\",\"discharge_reason\":\"FosterFamily\"}", NULL);
    expect_error(&r, 422, NULL);
    expect_field_error(&r, "discharged_on", "date_order");
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/stays/%s/discharge", stay1),
         "{\"discharged_on\":\"2026-06-01\",\"discharge_reason\":\"FosterFamily\"}", NULL);
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "nights"), 151);
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/stays/%s/discharge", stay1), "{\"discharge_reason\":\"Other\"}",
         NULL);
    expect_error(&r, 409, "invalid_state");
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/stays/%s/admit", stay2), "{}", NULL);
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "status"), "Admitted");
    resp_free(&r);
    GET(&r, pf("/api/v1/shelters/%s/occupancy", shelter));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "occupied"), 1);
    assert_int_equal(jint(r.json, "waiting"), 0);
    resp_free(&r);
    GET(&r, pf("/api/v1/shelters/%s/occupancy?from=2026-01-01&to=2026-06-15&step=month", shelter));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 6);
    resp_free(&r);
    GET(&r, pf("/api/v1/shelters/%s/occupancy?step=year&from=2026-01-01", shelter));
    expect_error(&r, 400, NULL);
    resp_free(&r);
    GET(&r, "/api/v1/shelters/stats?period=2026");
    EXPECT_STATUS(&r, 200);
    json_t *los = json_object_get(r.json, "length_of_stay");
    assert_int_equal(jint(los, "stays"), 1);
    assert_true(fabs(json_number_value(json_object_get(los, "median_days")) - 151) < 1e-9);
    assert_true(fabs(json_number_value(json_object_get(
                         json_object_get(json_object_get(r.json, "cost"), "USD"), "total")) -
                     151 * 25) < 1e-9);
    resp_free(&r);
    GET(&r, pf("/api/v1/cases/%s/stays", c1));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 1);
    resp_free(&r);
    GET(&r, "/api/v1/shelters?city=Ibarra&available=true");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 1); /* children's places are free */
    resp_free(&r);
#ifdef E2E_HAVE_AUTH
    /* caseworkers read shelters but do not run them */
    e2e_as("cw-a");
    send_expect("POST", "/api/v1/shelters", "{\"name\":\"Mine\",\"capacity\":{\"Men\":1}}", 403,
                NULL);
    send_expect("POST", pf("/api/v1/stays/%s/discharge", stay2), "{\"discharge_reason\":\"Other\"}",
                403, NULL);
    GET(&r, pf("/api/v1/shelters/%s", shelter));
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "address"), "Calle Oculta 12");
    resp_free(&r);
    /* another organisation's caseworker sees none of the stays (cases out of scope) */
    GET(&r, pf("/api/v1/shelters/%s/stays", shelter));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 0);
    resp_free(&r);
    get_expect(pf("/api/v1/stays/%s", stay2), 404);
    get_expect(pf("/api/v1/cases/%s/stays", c1), 404);
    /* a coordinator reads shelters without the address */
    e2e_as("coord-a");
    GET(&r, pf("/api/v1/shelters/%s", shelter));
    EXPECT_STATUS(&r, 200);
    assert_null(json_object_get(r.json, "address"));
    resp_free(&r);
    /* analysts get no shelter records; auditors nothing */
    e2e_as("analyst");
    get_expect("/api/v1/shelters", 403);
    GET(&r, "/api/v1/shelters/occupancy?from=2026-01-01&to=2026-03-31&step=month");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 3);
    resp_free(&r);
    e2e_as("auditor");
    get_expect("/api/v1/shelters/stats", 403);
#endif
    e2e_as("cw-a");
}

static void test_returns_and_reintegration(void **state)
{
    (void)state;
    char cid[64], rid[64], vid[64];
    e2e_as("cw-a");
    create_case(
        "{\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":\"ActualVictimOfTrafficking\","
        "\"prs_Citizenship\":[\"CO\"],\"prs_Birthdate\":\"1995-02-01\","
        "\"amp_RegistrationDate\":\"2026-01-05\",\"con_Consent\":true,"
        "\"amp_ConsentScope\":[\"Registration\",\"Referral\",\"CrossBorder\"],"
        "\"amp_ConsentDate\":\"2026-01-05\"}",
        cid, NULL);
    resp r;
    SEND(&r, "POST", pf("/api/v1/cases/%s/returns", cid),
         "{\"type\":\"VoluntaryReturn\",\"destination_country\":\"CO\",\"destination_city\":"
         "\"Cali\",\"departure_date\":\"2026-03-01\",\"arrival_date\":\"2026-02-01\"}",
         NULL);
    expect_error(&r, 422, NULL);
    expect_field_error(&r, "arrival_date", "date_order");
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/cases/%s/returns", cid),
         "{\"type\":\"VoluntaryReturn\",\"destination_country\":\"CO\",\"destination_city\":"
         "\"Cali\",\"departure_date\":\"2026-03-01\",\"receiving_org\":\"org-c\","
         "\"escort\":\"IOMStaff\",\"travel_documents\":[\"EmergencyTravelDocument\"]}",
         NULL);
    EXPECT_STATUS(&r, 201);
    snprintf(rid, sizeof rid, "%s", jstr(r.json, "id"));
    assert_true(json_is_true(json_object_get(r.json, "cross_border")));
    resp_free(&r);
    SEND(&r, "PATCH", pf("/api/v1/cases/%s/returns/%s", cid, rid),
         "{\"status\":\"Completed\",\"arrival_date\":\"2026-03-01\"}", "If-Match: \"1\"");
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "status"), "Completed");
    resp_free(&r);
    GET(&r, pf("/api/v1/cases/%s/returns", cid));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 1);
    resp_free(&r);
    /* the plan and a scored visit */
    SEND(&r, "PUT", pf("/api/v1/cases/%s/reintegration", cid),
         "{\"start_date\":\"2026-03-02\",\"services\":[\"VocationalTraining\"],"
         "\"location_country\":\"CO\",\"location_city\":\"Cali\"}",
         NULL);
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "framework"), "adult");
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/cases/%s/visits", cid),
         "{\"date\":\"2026-05-01\",\"scores\":{\"eco_employment\":1.2}}", NULL);
    expect_error(&r, 422, NULL);
    expect_field_error(&r, "scores.eco_employment", "score_range");
    resp_free(&r);
    SEND(&r, "POST", pf("/api/v1/cases/%s/visits", cid),
         "{\"date\":\"2026-05-01\",\"type\":\"PhoneCall\",\"scores\":{\"eco_employment\":0.5,"
         "\"soc_housing\":1,\"psy_support_network\":0.75}}",
         NULL);
    EXPECT_STATUS(&r, 201);
    snprintf(vid, sizeof vid, "%s", jstr(r.json, "id"));
    assert_true(fabs(json_number_value(json_object_get(r.json, "composite")) - 0.75) < 1e-9);
    assert_true(json_is_true(json_object_get(r.json, "sustainable")));
    resp_free(&r);
    GET(&r, pf("/api/v1/cases/%s/visits/%s", cid, vid));
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
    GET(&r, pf("/api/v1/cases/%s/reintegration/trend", cid));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    resp_free(&r);
    GET(&r, pf("/api/v1/cases/%s/reintegration", cid));
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "next_visit_due"), "2026-07-30");
    resp_free(&r);
    GET(&r, "/api/v1/reintegration/alerts");
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
#ifdef E2E_HAVE_AUTH
    e2e_as("analyst");
    GET(&r, "/api/v1/returns/stats?period=2026");
    EXPECT_STATUS(&r, 200);
    assert_true(jint(r.json, "foreign_victims") >= 1);
    assert_int_equal(jint(r.json, "returned_home"), 1);
    resp_free(&r);
    GET(&r, "/api/v1/reintegration/outcomes");
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
    get_expect(pf("/api/v1/cases/%s/visits", cid), 403);
    get_expect(pf("/api/v1/cases/%s/returns", cid), 403);
    /* another organisation: not found, never forbidden */
    e2e_as("cw-c");
    get_expect(pf("/api/v1/cases/%s/returns", cid), 404);
    get_expect(pf("/api/v1/cases/%s/reintegration", cid), 404);
    send_expect("POST", pf("/api/v1/cases/%s/visits", cid),
                "{\"date\":\"2026-05-01\",\"scores\":{\"soc_housing\":1}}", 404, NULL);
    /* a hotline operator may not record visits */
    e2e_as("hotline-a");
    send_expect("POST", pf("/api/v1/cases/%s/visits", cid),
                "{\"date\":\"2026-05-01\",\"scores\":{\"soc_housing\":1}}", 403, NULL);
#endif
    e2e_as("cw-a");
}

static void test_proceedings(void **state)
{
    (void)state;
    char cid[64], pid[64];
    e2e_as("cw-a");
    resp r;
    SEND(&r, "POST", "/api/v1/cases",
         "{\"prs_Gender\":\"Masculine\",\"vic_TraffickingStatus\":\"ActualVictimOfTrafficking\","
         "\"perpetrators\":[{\"prs_Gender\":\"Masculine\"}]}",
         NULL);
    EXPECT_STATUS(&r, 201);
    snprintf(cid, sizeof cid, "%s", jstr(r.json, "id"));
    resp_free(&r);
    GET(&r, pf("/api/v1/cases/%s", cid));
    EXPECT_STATUS(&r, 200);
    char per[64];
    snprintf(per, sizeof per, "%s",
             jstr(json_array_get(json_object_get(r.json, "perpetrators"), 0), "id"));
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/proceedings",
         pf("{\"case\":\"%s\",\"file_number\":\"F-77\",\"stages\":[{\"stage\":\"Complaint\","
            "\"date\":\"2026-02-01\"}],\"victim_roles\":[\"Witness\"],\"protection_measures\":"
            "[\"IdentityProtection\"],\"perpetrators\":[{\"perpetrator\":\"%s\",\"standing\":"
            "\"Suspect\"}]}",
            cid, per),
         NULL);
    EXPECT_STATUS(&r, 201);
    snprintf(pid, sizeof pid, "%s", jstr(r.json, "id"));
    assert_string_equal(jstr(r.json, "stage"), "Complaint");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/proceedings",
         pf("{\"case\":\"%s\",\"stages\":[{\"stage\":\"Complaint\",\"date\":\"2026-02-01\"}],"
            "\"perpetrators\":[{\"perpetrator\":\"01a2337a-51f3-758a-b5cf-0ab2c17cb3be\"}]}",
            cid),
         NULL);
    expect_error(&r, 422, NULL);
    expect_field_error(&r, "perpetrators[0].perpetrator", "not_in_case");
    resp_free(&r);
    SEND(&r, "PATCH", pf("/api/v1/proceedings/%s", pid),
         "{\"version\":1,\"stages\":[{\"stage\":\"Complaint\",\"date\":\"2026-02-01\"},"
         "{\"stage\":\"Investigation\",\"date\":\"2026-03-01\"}]}",
         NULL);
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "stage"), "Investigation");
    resp_free(&r);
    GET(&r, pf("/api/v1/cases/%s/proceedings", cid));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 1);
    resp_free(&r);
    GET(&r, "/api/v1/proceedings?status=Open");
    EXPECT_STATUS(&r, 200);
    assert_true(jint(r.json, "total") >= 1);
    resp_free(&r);
#ifdef E2E_HAVE_AUTH
    /* the coordinator follows the proceeding without the file number */
    e2e_as("coord-a");
    GET(&r, pf("/api/v1/proceedings/%s", pid));
    EXPECT_STATUS(&r, 200);
    assert_null(json_object_get(r.json, "file_number"));
    assert_null(json_object_get(r.json, "_sealed"));
    assert_string_equal(jstr(r.json, "stage"), "Investigation");
    resp_free(&r);
    e2e_as("cw-c");
    get_expect(pf("/api/v1/proceedings/%s", pid), 404);
    e2e_as("shelter-b");
    get_expect(pf("/api/v1/proceedings/%s", pid), 403);
    e2e_as("analyst");
    GET(&r, "/api/v1/proceedings/stats?period=2026");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "opened"), 1);
    resp_free(&r);
#endif
    e2e_as("cw-a");
}

static void test_trainings_and_indicators(void **state)
{
    (void)state;
    char tid[64], iid[64];
    e2e_as("cw-a");
    send_expect("POST", "/api/v1/trainings",
                "{\"type\":\"Workshop\",\"title\":\"Taller\",\"start_date\":\"2026-04-02\","
                "\"city\":\"Ibarra\",\"province\":\"Imbabura\",\"participants\":35,"
                "\"participants_by_sex\":{\"Female\":21,\"Male\":14},\"participants_by_org_type\":"
                "{\"LawEnforcement\":35},\"named_participants\":[{\"name\":\"Luis Mora\"}]}",
                201, tid);
    resp r;
    SEND(&r, "POST", "/api/v1/trainings",
         "{\"type\":\"Workshop\",\"title\":\"T\",\"start_date\":\"2026-04-02\","
         "\"participants\":35,\"participants_by_sex\":{\"Female\":2}}",
         NULL);
    expect_error(&r, 422, NULL);
    expect_field_error(&r, "participants_by_sex", "participant_totals");
    resp_free(&r);
    GET(&r, "/api/v1/trainings/stats?city=Ibarra&period=2026");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "participants"), 35);
    assert_int_equal(jint(r.json, "officials_trained"), 35);
    resp_free(&r);
#ifdef E2E_HAVE_AUTH
    e2e_as("analyst");
    GET(&r, pf("/api/v1/trainings/%s", tid));
    EXPECT_STATUS(&r, 200);
    assert_null(json_object_get(r.json, "named_participants"));
    resp_free(&r);
    send_expect("PATCH", pf("/api/v1/trainings/%s", tid), "{\"version\":1,\"title\":\"x\"}", 403,
                NULL);
    e2e_as("cw-c");
    send_expect("PATCH", pf("/api/v1/trainings/%s", tid), "{\"version\":1,\"title\":\"x\"}", 403,
                NULL);
    e2e_as("cw-a");
    send_expect("POST", "/api/v1/indicators",
                "{\"code\":\"1\",\"name\":\"x\",\"measure\":\"returns\"}", 403, NULL);
#endif
    e2e_as("coord-a");
    send_expect(
        "POST", "/api/v1/indicators",
        "{\"code\":\"2.1\",\"name\":{\"en\":\"Officials trained\",\"fr\":\"Agents formés\"},"
        "\"measure\":\"officials_trained\",\"targets\":[{\"period\":\"2026\",\"target\":30}]}",
        201, iid);
    GET(&r, pf("/api/v1/indicators/%s/actuals", iid));
    EXPECT_STATUS(&r, 200);
    json_t *it = json_array_get(json_object_get(r.json, "items"), 0);
    assert_true(fabs(json_number_value(json_object_get(it, "actual")) - 35) < 1e-9);
    assert_true(json_is_true(json_object_get(it, "met")));
    resp_free(&r);
    GET(&r, "/api/v1/indicators/report?period=2026");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "met"), 1);
    resp_free(&r);
    GET(&r, "/api/v1/indicators/report");
    expect_error(&r, 400, NULL);
    expect_field_error(&r, "period", "required");
    resp_free(&r);
    SEND(&r, "DELETE", pf("/api/v1/indicators/%s", iid), NULL, "If-Match: \"1\"");
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
    get_expect(pf("/api/v1/indicators/%s", iid), 404);
    e2e_as("cw-a");
}

/* The commands against the same data directory: exit codes 0, 2, 3, 4. */
static int tool(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5)
{
    char *argv[] = {(char *)srv.bin, (char *)a1, (char *)a2, "--data", srv.data,
                    (char *)a3,      (char *)a4, (char *)a5, NULL};
    int st = run_tool(argv);
    return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void **state)
{
    (void)state;
    assert_int_equal(tool("shelter", "list", NULL, NULL, NULL), 0);
    assert_int_equal(tool("shelter", "--help", NULL, NULL, NULL), 0);
    assert_int_equal(tool("shelter", "admit", "--help", NULL, NULL), 0);
    assert_int_equal(tool("shelter", "frobnicate", NULL, NULL, NULL), 2);
    assert_int_equal(tool("shelter", "get", NULL, NULL, NULL), 2);
    assert_int_equal(tool("shelter", "get", "01a2337a-51f3-758a-b5cf-0ab2c17cb3be", NULL, NULL), 3);
    assert_int_equal(tool("shelter", "create", "--set", "name=Casa", NULL),
                     4); /* no org, no capacity */
    assert_int_equal(tool("shelter", "create", "--set", "name=Casa", "--set"), 2);
    assert_int_equal(tool("indicator", "report", NULL, NULL, NULL), 4); /* period required */
    assert_int_equal(tool("indicator", "report", "--period", "2026", NULL), 0);
    assert_int_equal(tool("reintegration", "indicators", NULL, NULL, NULL), 0);
    assert_int_equal(tool("return", "stats", "--period", "2026-Q9", NULL), 4);
    assert_int_equal(tool("training", "stats", "--city", "Ibarra", NULL), 0);
    char cfg[400];
    snprintf(cfg, sizeof cfg, "%s/bad-indicators.json", srv.root);
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fputs("{\"sustainable_threshold\": 7}", f);
    fclose(f);
    assert_int_equal(tool("reintegration", "check-config", cfg, NULL, NULL), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_picklists),
        cmocka_unit_test(test_shelters_and_stays),
        cmocka_unit_test(test_returns_and_reintegration),
        cmocka_unit_test(test_proceedings),
        cmocka_unit_test(test_trainings_and_indicators),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_sigterm_exits_cleanly),
    };
    return cmocka_run_group_tests_name("e2e care", tests, care_setup, group_teardown);
}
