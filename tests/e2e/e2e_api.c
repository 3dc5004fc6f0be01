/* e2e_api.c — end-to-end tests of the JSON API against a real `amparo serve`.
 *
 * The group setup creates a temporary data directory, runs `$AMPARO_BIN init`
 * and starts `$AMPARO_BIN serve --listen 127.0.0.1:0 --port-file …` with
 * AMPARO_TODAY fixed, then every test talks HTTP to it with libcurl.  The
 * durability test kills the server with SIGKILL and restarts it on the same
 * data; the last test stops it with SIGTERM and requires exit status 0 (a crash
 * or a sanitizer report in the server fails the suite).  The server's output
 * goes to a log file that is printed whenever the server misbehaves.
 */
#include "e2e_util.h"

#define MINIMAL_CASE TU_MINIMAL_CASE

/* ==== system routes ================================================================ */

static void test_healthz(void **state)
{
    (void)state;
    resp r;
    GET(&r, "/healthz");
    EXPECT_STATUS(&r, 200);
    assert_true(starts_with(r.ctype, "application/json"));
    assert_non_null(r.json);
    assert_string_equal(jstr(r.json, "status"), "ok");
    assert_string_equal(jstr(r.json, "engine"), "sqlite");
    assert_non_null(jstr(r.json, "version"));
    assert_null(json_object_get(r.json, "cases")); /* no counts for anyone who asks */
    assert_int_equal(json_object_size(r.json), 3);
    resp_free(&r);

    /* the counts, for the system admin only */
    e2e_as("admin");
    GET(&r, "/api/v1/status");
    EXPECT_STATUS(&r, 200);
    assert_true(jint(r.json, "cases") >= 0);
    assert_true(jint(r.json, "audit_entries") > 0); /* the admin's sign-in at least */
    assert_string_equal(jstr(r.json, "engine"), "sqlite");
    resp_free(&r);
    e2e_as("cw-a");
    GET(&r, "/api/v1/status");
    EXPECT_STATUS(&r, 403);
    resp_free(&r);
    e2e_as("");
    GET(&r, "/api/v1/status");
    expect_error(&r, 401, "unauthenticated");
    resp_free(&r);
    e2e_as("cw-a"); /* as the group set up */

    http_do(NULL, &r, "HEAD", "/healthz", NULL, 0, NULL);
    EXPECT_STATUS(&r, 200);
    assert_int_equal(r.cc, CURLE_OK);
    assert_int_equal(r.len, 0);
    assert_true(starts_with(r.ctype, "application/json"));
    resp_free(&r);
}

static void test_schema_and_openapi(void **state)
{
    (void)state;
    resp r;
    GET(&r, "/api/v1/schema");
    EXPECT_STATUS(&r, 200);
    assert_true(starts_with(r.ctype, "application/json"));
    assert_non_null(r.json);
    assert_true(json_array_size(json_object_get(r.json, "fields")) > 50);
    assert_true(json_array_size(json_object_get(r.json, "entities")) >= 5);
    /* a picklist value as documented */
    bool found = false;
    size_t i;
    json_t *f;
    json_array_foreach (json_object_get(r.json, "fields"), i, f) {
        if (!jstr(f, "name") || strcmp(jstr(f, "name"), "prs_Gender") != 0)
            continue;
        size_t k;
        json_t *v;
        json_array_foreach (json_object_get(f, "values"), k, v) {
            if (jstr(v, "name") && strcmp(jstr(v, "name"), "Feminine") == 0)
                found = true;
        }
    }
    assert_true(found);
    /* revalidated, not downloaded again */
    char etag[64];
    snprintf(etag, sizeof etag, "%s", r.etag);
    assert_true(etag[0] == '"');
    resp_free(&r);
    SEND(&r, "GET", "/api/v1/schema", NULL, pf("If-None-Match: %s", etag));
    EXPECT_STATUS(&r, 304);
    assert_int_equal(r.len, 0);
    resp_free(&r);

    GET(&r, "/api/v1/openapi.yaml");
    EXPECT_STATUS(&r, 200);
    assert_true(starts_with(r.ctype, "application/yaml"));
    assert_true(r.len > 1000);
    assert_true(starts_with(r.body, "openapi:"));
    assert_null(r.json);
    resp_free(&r);
}

static void test_unknown_route_and_method(void **state)
{
    (void)state;
    resp r;
    GET(&r, "/api/v1/nothing-here");
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    GET(&r, "/nope");
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    GET(&r, "/api/v2/cases");
    expect_error(&r, 404, "not_found");
    resp_free(&r);

    SEND(&r, "DELETE", "/api/v1/cases", NULL, NULL);
    expect_error(&r, 405, "method_not_allowed");
    assert_non_null(strstr(r.allow, "GET"));
    assert_non_null(strstr(r.allow, "POST"));
    assert_null(strstr(r.allow, "DELETE"));
    resp_free(&r);

    SEND(&r, "PUT", "/healthz", MINIMAL_CASE, NULL);
    expect_error(&r, 405, "method_not_allowed");
    assert_string_equal(r.allow, "GET");
    resp_free(&r);

    SEND(&r, "PATCH", "/api/v1/organisations", "{}", NULL);
    expect_error(&r, 405, "method_not_allowed");
    assert_non_null(strstr(r.allow, "GET"));
    resp_free(&r);

    /* one trailing slash is tolerated */
    GET(&r, "/api/v1/cases/?limit=1");
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
}

/* ==== creating and reading cases ==================================================== */

static const char full_case[] =
    "{\"prs_FirstName\": \"Luz Marina\", \"prs_SecondName\": \"Cárdenas Ortiz\","
    " \"prs_Birthdate\": \"1999-03-14\", \"prs_Gender\": \"Feminine\", \"prs_Citizenship\": "
    "[\"CO\"],"
    " \"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","
    " \"vic_TypeOfExploitation\": [\"SexualExploitation\"],"
    " \"vic_TypeOfSexExploitation\": [\"Prostitution\"],"
    " \"events\": ["
    "  {\"hte_Type\": \"Exploitation\", \"hte_Country\": \"EC\", \"hte_City\": \"Quito\", "
    "\"amp_EventSequence\": 3},"
    "  {\"hte_Type\": \"Recruitment\", \"hte_Country\": \"CO\", \"hte_City\": \"Pereira\", "
    "\"amp_EventSequence\": 1, \"hte_Date\": \"2025-10-01\"},"
    "  {\"hte_Type\": \"Transit\", \"hte_Country\": \"CO\", \"hte_City\": \"Ipiales\", "
    "\"amp_EventSequence\": 2}],"
    " \"comments\": [{\"cco_CaseComment\": \"First interview at the shelter.\"}]}";

static void test_create_case_and_read_back(void **state)
{
    (void)state;
    resp r, g;
    json_int_t before = healthz_cases();
    SEND(&r, "POST", "/api/v1/cases", full_case, NULL);
    EXPECT_STATUS(&r, 201);
    assert_non_null(r.json);
    const char *id = jstr(r.json, "id"), *ref = jstr(r.json, "reference");
    assert_non_null(id);
    assert_int_equal(strlen(id), 36);
    if (!is_reference(ref, "EC-2026-"))
        fail_msg("reference '%s' is not EC-2026-NNNNNN", ref ? ref : "(null)");
    assert_string_equal(r.location, pf("/api/v1/cases/%s", id));
    assert_string_equal(r.etag, "\"1\"");
    assert_int_equal(jint(r.json, "version"), 1);
    assert_string_equal(jstr(r.json, "cas_Status"), "Active");
    assert_string_equal(jstr(r.json, "amp_RegistrationDate"), TEST_TODAY);
    assert_string_equal(jstr(r.json, "amp_RegistrationCountry"), "EC");
    assert_string_equal(jstr(r.json, "created_by"), "cw-a");
    assert_string_equal(jstr(r.json, "prs_SecondName"), "Cárdenas Ortiz");
    assert_non_null(jstr(r.json, "created_at"));
    const json_t *events = json_object_get(r.json, "events");
    assert_int_equal(json_array_size(events), 3);
    /* route order: amp_EventSequence */
    assert_string_equal(jstr(json_array_get(events, 0), "hte_City"), "Pereira");
    assert_string_equal(jstr(json_array_get(events, 1), "hte_City"), "Ipiales");
    assert_string_equal(jstr(json_array_get(events, 2), "hte_City"), "Quito");
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(jint(json_array_get(events, i), "version"), 1);
        assert_int_equal(strlen(jstr(json_array_get(events, i), "id")), 36);
    }
    assert_int_equal(json_array_size(json_object_get(r.json, "comments")), 1);
    assert_string_equal(
        jstr(json_array_get(json_object_get(r.json, "comments"), 0), "cco_CaseComment"),
        "First interview at the shelter.");
    assert_true(json_is_array(json_object_get(r.json, "support_plans")));
    assert_int_equal(json_array_size(json_object_get(r.json, "support_plans")), 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "perpetrators")), 0);

    /* by id and by reference: the same record */
    GET(&g, pf("/api/v1/cases/%s", id));
    EXPECT_STATUS(&g, 200);
    assert_string_equal(g.etag, "\"1\"");
    if (!json_equal(g.json, r.json))
        fail_msg("GET by id differs from the 201 body:\n%s\n%s", g.body, r.body);
    resp_free(&g);
    GET(&g, pf("/api/v1/cases/%s", ref));
    EXPECT_STATUS(&g, 200);
    assert_string_equal(g.etag, "\"1\"");
    if (!json_equal(g.json, r.json))
        fail_msg("GET by reference differs from the 201 body:\n%s\n%s", g.body, r.body);
    resp_free(&g);

    /* listed by reference, without its child arrays */
    GET(&g, pf("/api/v1/cases?reference=%s", ref));
    EXPECT_STATUS(&g, 200);
    assert_int_equal(jint(g.json, "total"), 1);
    const json_t *item = json_array_get(json_object_get(g.json, "items"), 0);
    assert_string_equal(jstr(item, "id"), id);
    assert_null(json_object_get(item, "events"));
    resp_free(&g);

    assert_int_equal(healthz_cases(), before + 1);

    /* no such case */
    GET(&g, "/api/v1/cases/0195a3c2-7e41-7b8a-9c1d-2f4e6a8b0c13");
    expect_error(&g, 404, "not_found");
    resp_free(&g);
    GET(&g, "/api/v1/cases/EC-2026-999999");
    expect_error(&g, 404, "not_found");
    resp_free(&g);
    resp_free(&r);
}

static void test_create_refuses_server_keys(void **state)
{
    (void)state;
    resp r;
    SEND(&r, "POST", "/api/v1/cases",
         "{\"id\": \"x\", \"reference\": \"EC-2026-000001\", \"version\": 7,"
         " \"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\"}",
         NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "id", "read_only");
    expect_field_error(&r, "reference", "read_only");
    expect_field_error(&r, "version", "read_only");
    resp_free(&r);
}

/* ==== validation ================================================================== */

static const char invalid_case[] =
    "{\"prs_Gender\": \"Female\", \"amp_NotAField\": 1,"
    " \"events\": [{\"hte_Type\": \"Exploitation\", \"hte_Country\": \"XX\","
    " \"hte_Date\": \"2027-01-01\"}, {\"hte_City\": \"Quito\"}]}";

static void test_validation_lists_every_field(void **state)
{
    (void)state;
    json_int_t before = list_total("limit=1");
    json_int_t hbefore = healthz_cases();
    resp r;
    SEND(&r, "POST", "/api/v1/cases", invalid_case, NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "prs_Gender", "picklist");
    expect_field_error(&r, "amp_NotAField", "unknown_field");
    expect_field_error(&r, "vic_TraffickingStatus", "required");
    expect_field_error(&r, "events[0].hte_Country", "country");
    expect_field_error(&r, "events[0].hte_Date", "not_future");
    expect_field_error(&r, "events[1].hte_Type", "required");
    assert_int_equal(error_field_count(&r), 6);
    assert_string_equal(jstr(json_object_get(r.json, "error"), "message"), "6 fields are invalid");
    const char *m = jstr(field_error(&r, "prs_Gender", "picklist"), "message");
    assert_string_equal(m, "prs_Gender: 'Female' is not one of the allowed values");
    /* AMPARO_TODAY is the server's today */
    m = jstr(field_error(&r, "events[0].hte_Date", "not_future"), "message");
    assert_non_null(strstr(m, TEST_TODAY));
    resp_free(&r);

    SEND(&r, "POST", "/api/v1/cases", invalid_case, "Accept-Language: fr-CH, fr;q=0.9, en;q=0.8");
    expect_error(&r, 422, "validation_failed");
    assert_int_equal(error_field_count(&r), 6);
    assert_string_equal(jstr(json_object_get(r.json, "error"), "message"),
                        "6 champ(s) non valides");
    m = jstr(field_error(&r, "prs_Gender", "picklist"), "message");
    assert_non_null(strstr(m, "ne fait pas partie des valeurs autorisées"));
    m = jstr(field_error(&r, "vic_TraffickingStatus", "required"), "message");
    assert_string_equal(m, "vic_TraffickingStatus est obligatoire");
    resp_free(&r);

    SEND(&r, "POST", "/api/v1/cases", invalid_case, "Accept-Language: es");
    expect_error(&r, 422, "validation_failed");
    assert_string_equal(jstr(json_object_get(r.json, "error"), "message"),
                        "6 campo(s) no son válidos");
    resp_free(&r);

    SEND(&r, "POST", "/api/v1/cases", invalid_case, "Accept-Language: de, uk;q=0.5");
    expect_error(&r, 422, "validation_failed");
    assert_string_equal(jstr(json_object_get(r.json, "error"), "message"), "Недійсних полів: 6");
    resp_free(&r);

    /* other rules */
    SEND(&r, "POST", "/api/v1/cases",
         "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","
         " \"cas_Status\": \"Closed\", \"prs_Birthdate\": \"1999-02-30\","
         " \"prs_Citizenship\": \"CO\", \"prs_Email\": \"nope\","
         " \"vic_ForcedLabourIndustry\": \"F_Construction\"}",
         NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "cas_ReasonForCaseClosure", "required_if");
    expect_field_error(&r, "prs_Birthdate", "date");
    expect_field_error(&r, "prs_Citizenship", "type");
    expect_field_error(&r, "prs_Email", "email");
    expect_field_error(&r, "vic_ForcedLabourIndustry", "applies_if");
    resp_free(&r);

    /* nothing was stored */
    assert_int_equal(list_total("limit=1"), before);
    assert_int_equal(healthz_cases(), hbefore);
}

/* ==== malformed requests ============================================================ */

/* {"a":{"a":…{}…}}: `depth` nested objects. */
static char *nested_objects(int depth)
{
    size_t n = (size_t)depth * 6 + 8;
    char *s = xmalloc(n), *w = s;
    for (int i = 0; i < depth - 1; i++) {
        memcpy(w, "{\"a\":", 5);
        w += 5;
    }
    memcpy(w, "{}", 2);
    w += 2;
    for (int i = 0; i < depth - 1; i++)
        *w++ = '}';
    *w = '\0';
    return s;
}

static void test_malformed_bodies(void **state)
{
    (void)state;
    json_int_t before = healthz_cases();
    resp r;
    const json_t *f;

    SEND(&r, "POST", "/api/v1/cases", "{\"vic_TraffickingStatus\": }", NULL);
    expect_error(&r, 400, "bad_request");
    f = json_array_get(json_object_get(json_object_get(r.json, "error"), "fields"), 0);
    assert_string_equal(jstr(f, "rule"), "json");
    assert_non_null(strstr(jstr(f, "message"), "line 1"));
    assert_non_null(strstr(jstr(f, "message"), "column"));
    resp_free(&r);

    SEND(&r, "POST", "/api/v1/cases", "{\n  \"prs_Gender\": \"Feminine\",\n  oops\n}", NULL);
    expect_error(&r, 400, "bad_request");
    f = json_array_get(json_object_get(json_object_get(r.json, "error"), "fields"), 0);
    assert_string_equal(jstr(f, "rule"), "json");
    assert_non_null(strstr(jstr(f, "message"), "line 3"));
    assert_non_null(strstr(jstr(json_object_get(r.json, "error"), "message"), "line 3"));
    resp_free(&r);

    /* nesting: 33 is refused by the depth rule, 32 is parsed */
    char *deep = nested_objects(33);
    SEND(&r, "POST", "/api/v1/cases", deep, NULL);
    expect_error(&r, 400, "bad_request");
    expect_field_error(&r, "body", "depth");
    resp_free(&r);
    free(deep);
    deep = nested_objects(32);
    SEND(&r, "POST", "/api/v1/cases", deep, NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "a", "unknown_field");
    resp_free(&r);
    free(deep);
    /* brackets inside strings do not count */
    SEND(&r, "POST", "/api/v1/cases",
         "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\", \"prs_FirstName\":"
         " \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\\\"\"}",
         NULL);
    EXPECT_STATUS(&r, 201);
    resp_free(&r);
    before++;

    SEND(&r, "POST", "/api/v1/cases",
         "{\"prs_Gender\": \"Feminine\", \"prs_Gender\": \"Masculine\","
         " \"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\"}",
         NULL);
    expect_error(&r, 400, "bad_request");
    expect_field_error(&r, "body", "json");
    assert_non_null(strstr(r.body, "duplicate"));
    resp_free(&r);

    SEND(&r, "POST", "/api/v1/cases", "[" MINIMAL_CASE "]", NULL);
    expect_error(&r, 400, "bad_request");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/cases", "\"just a string\"", NULL);
    expect_error(&r, 400, "bad_request");
    resp_free(&r);

    SEND(&r, "POST", "/api/v1/cases", "", NULL);
    expect_error(&r, 400, "bad_request");
    resp_free(&r);
    http_do(NULL, &r, "POST", "/api/v1/cases", NULL, 0, "Content-Type: application/json");
    expect_error(&r, 400, "bad_request");
    resp_free(&r);

    SEND(&r, "POST", "/api/v1/cases", MINIMAL_CASE, "Content-Type: text/plain");
    expect_error(&r, 415, "unsupported_media_type");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/cases", MINIMAL_CASE,
         "Content-Type: application/x-www-form-urlencoded");
    expect_error(&r, 415, "unsupported_media_type");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/cases", MINIMAL_CASE, "Content-Type: application/jsonp");
    expect_error(&r, 415, "unsupported_media_type");
    resp_free(&r);
    /* parameters of the media type are fine */
    SEND(&r, "POST", "/api/v1/cases", MINIMAL_CASE,
         "Content-Type: application/json; charset=utf-8");
    EXPECT_STATUS(&r, 201);
    resp_free(&r);
    before++;

    /* 1.2 MiB: over the limit */
    size_t big = 1258291;
    char *huge = xmalloc(big + 1);
    memset(huge, 'x', big);
    memcpy(huge, "{\"prs_FirstName\": \"", 19);
    memcpy(huge + big - 2, "\"}", 2);
    huge[big] = '\0';
    SEND(&r, "POST", "/api/v1/cases", huge, NULL);
    expect_error(&r, 413, "too_large");
    resp_free(&r);
    /* just under 1 MiB is read (and refused by validation) */
    size_t under = 1000000;
    memcpy(huge + under - 2, "\"}", 3);
    SEND(&r, "POST", "/api/v1/cases", huge, NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "prs_FirstName", "max_length");
    resp_free(&r);
    free(huge);

    /* invalid UTF-8, an escaped NUL */
    SEND(&r, "POST", "/api/v1/cases",
         "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\", \"prs_FirstName\": "
         "\"\xff\xfe\xc3\"}",
         NULL);
    expect_error(&r, 400, "bad_request");
    expect_field_error(&r, "body", "json");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/cases",
         "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\", \"prs_FirstName\": "
         "\"a\\u0000b\"}",
         NULL);
    expect_error(&r, 400, "bad_request");
    resp_free(&r);
    /* a raw NUL byte inside the body */
    static const char with_nul[] = "{\"vic_TraffickingStatus\": \"PossibleVic\0\"}";
    http_do(NULL, &r, "POST", "/api/v1/cases", with_nul, sizeof with_nul - 1, NULL);
    expect_error(&r, 400, "bad_request");
    resp_free(&r);

    assert_int_equal(healthz_cases(), before);
}

/* ==== PATCH and history ================================================================ */

static void test_patch_versions_and_history(void **state)
{
    (void)state;
    char id[64], ref[32];
    create_case("{\"prs_FirstName\": \"Ana\", \"prs_MiddleName\": \"María\","
                " \"prs_Gender\": \"Feminine\","
                " \"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\"}",
                id, ref);
    const char *path = pf("/api/v1/cases/%s", id);
    char p[128];
    snprintf(p, sizeof p, "%s", path);
    resp r;

    SEND(&r, "PATCH", p, "{\"cas_Status\": \"FollowUp\"}", NULL);
    expect_error(&r, 428, "precondition_required");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"cas_Status\": \"FollowUp\"}", "If-Match: \"7\"");
    expect_error(&r, 412, "precondition_failed");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"version\": 3, \"cas_Status\": \"FollowUp\"}", NULL);
    expect_error(&r, 409, "version_conflict");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"cas_Status\": \"FollowUp\"}", "If-Match: abc");
    expect_error(&r, 400, "bad_request");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"version\": \"1\", \"cas_Status\": \"FollowUp\"}", NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "version", "type");
    resp_free(&r);
    SEND(&r, "PATCH", p, "[1]", "If-Match: \"1\"");
    expect_error(&r, 400, "bad_request");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"cas_Status\": \"FollowUp\"}",
         "If-Match: \"1\"\nContent-Type: text/plain");
    expect_error(&r, 415, "unsupported_media_type");
    resp_free(&r);
    /* child arrays, server keys and bad values are refused with the right version */
    SEND(&r, "PATCH", p, "{\"events\": [], \"cas_Status\": \"FollowUp\"}", "If-Match: \"1\"");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "events", "sub_resource");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"support-plans\": []}", "If-Match: \"1\"");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "support-plans", "sub_resource");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"reference\": \"EC-2026-000001\"}", "If-Match: \"1\"");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "reference", "read_only");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"cas_Status\": \"Bogus\"}", "If-Match: \"1\"");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "cas_Status", "picklist");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"cas_Status\": \"Closed\"}", "If-Match: \"1\"");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "cas_ReasonForCaseClosure", "required_if");
    resp_free(&r);
    SEND(&r, "PATCH", "/api/v1/cases/EC-2026-999999", "{\"cas_Status\": \"FollowUp\"}",
         "If-Match: \"1\"");
    expect_error(&r, 404, "not_found");
    resp_free(&r);

    /* nothing changed */
    GET(&r, p);
    EXPECT_STATUS(&r, 200);
    assert_string_equal(r.etag, "\"1\"");
    assert_int_equal(jint(r.json, "version"), 1);
    assert_string_equal(jstr(r.json, "cas_Status"), "Active");
    assert_string_equal(jstr(r.json, "prs_MiddleName"), "María");
    resp_free(&r);

    /* the right If-Match; null removes a field */
    SEND(&r, "PATCH", p, "{\"cas_Status\": \"FollowUp\", \"prs_MiddleName\": null}",
         "If-Match: \"1\"\nContent-Type: application/merge-patch+json");
    EXPECT_STATUS(&r, 200);
    assert_string_equal(r.etag, "\"2\"");
    assert_int_equal(jint(r.json, "version"), 2);
    assert_string_equal(jstr(r.json, "cas_Status"), "FollowUp");
    assert_null(json_object_get(r.json, "prs_MiddleName"));
    assert_string_equal(jstr(r.json, "prs_FirstName"), "Ana");
    assert_string_equal(jstr(r.json, "reference"), ref);
    assert_true(json_is_array(json_object_get(r.json, "events")));
    resp_free(&r);
    GET(&r, p);
    EXPECT_STATUS(&r, 200);
    assert_string_equal(r.etag, "\"2\"");
    assert_null(json_object_get(r.json, "prs_MiddleName"));
    assert_string_equal(jstr(r.json, "cas_Status"), "FollowUp");
    resp_free(&r);

    /* a patch that changes nothing keeps the version */
    SEND(&r, "PATCH", p, "{\"version\": 2, \"cas_Status\": \"FollowUp\"}", NULL);
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "version"), 2);
    assert_string_equal(r.etag, "\"2\"");
    resp_free(&r);

    /* by reference, version in the body; W/ tags are accepted too */
    SEND(&r, "PATCH", pf("/api/v1/cases/%s", ref),
         "{\"version\": 2, \"prs_FirstName\": \"Ana Lucía\"}", NULL);
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "version"), 3);
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"prs_SecondName\": \"Quispe\"}", "If-Match: W/\"3\"");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "version"), 4);
    resp_free(&r);

    /* history: create and updates, names of changed fields only */
    GET(&r, pf("/api/v1/cases/%s/history", ref));
    EXPECT_STATUS(&r, 200);
    const json_t *items = json_object_get(r.json, "items");
    if (json_array_size(items) != 4)
        fail_msg("expected 4 history entries: %s", r.body);
    const json_t *h0 = json_array_get(items, 0), *h1 = json_array_get(items, 1),
                 *h2 = json_array_get(items, 2), *h3 = json_array_get(items, 3);
    assert_string_equal(jstr(h0, "action"), "create");
    assert_int_equal(jint(h0, "version"), 1);
    assert_string_equal(jstr(h0, "actor"), "cw-a");
    assert_true(json_is_null(json_object_get(h0, "target")));
    assert_non_null(jstr(h0, "at"));
    assert_string_equal(jstr(h1, "action"), "update");
    assert_int_equal(jint(h1, "version"), 2);
    const json_t *fields = json_object_get(h1, "fields");
    assert_int_equal(json_array_size(fields), 2);
    bool status_seen = false, middle_seen = false;
    size_t i;
    json_t *v;
    json_array_foreach (fields, i, v) {
        status_seen |= strcmp(json_string_value(v), "cas_Status") == 0;
        middle_seen |= strcmp(json_string_value(v), "prs_MiddleName") == 0;
    }
    assert_true(status_seen && middle_seen);
    assert_int_equal(jint(h2, "version"), 3);
    assert_int_equal(json_array_size(json_object_get(h2, "fields")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(h2, "fields"), 0)),
                        "prs_FirstName");
    assert_int_equal(jint(h3, "version"), 4);
    /* never values */
    assert_null(strstr(r.body, "María"));
    assert_null(strstr(r.body, "Lucía"));
    assert_null(strstr(r.body, "FollowUp"));
    assert_null(strstr(r.body, "Quispe"));
    resp_free(&r);

    GET(&r, "/api/v1/cases/EC-2026-999999/history");
    expect_error(&r, 404, "not_found");
    resp_free(&r);
}

/* ==== child records ================================================================== */

static void test_children(void **state)
{
    (void)state;
    char id[64], ref[32], other[64];
    create_case(MINIMAL_CASE, id, ref);
    create_case(MINIMAL_CASE, other, NULL);
    char base[128], q[200];
    snprintf(base, sizeof base, "/api/v1/cases/%s", id);
    resp r;

    SEND(&r, "POST", pf("%s/events", base),
         "{\"hte_Type\": \"Exploitation\", \"hte_Country\": \"PE\", \"hte_City\": \"Lima\","
         " \"hte_Date\": \"2025-11-20\"}",
         NULL);
    EXPECT_STATUS(&r, 201);
    char eid[64];
    snprintf(eid, sizeof eid, "%s", jstr(r.json, "id"));
    assert_string_equal(r.location, pf("%s/events/%s", base, eid));
    assert_string_equal(r.etag, "\"1\"");
    assert_int_equal(jint(r.json, "version"), 1);
    assert_string_equal(jstr(r.json, "hte_City"), "Lima");
    resp_free(&r);

    /* the event feeds the country_of_exploitation filter */
    snprintf(q, sizeof q, "reference=%s&country_of_exploitation=PE", ref);
    assert_int_equal(list_total(q), 1);

    GET(&r, pf("%s/events", base));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    assert_string_equal(jstr(json_array_get(json_object_get(r.json, "items"), 0), "id"), eid);
    resp_free(&r);
    GET(&r, pf("%s/events/%s", base, eid));
    EXPECT_STATUS(&r, 200);
    assert_string_equal(r.etag, "\"1\"");
    assert_string_equal(jstr(r.json, "hte_Country"), "PE");
    resp_free(&r);
    GET(&r, pf("/api/v1/cases/%s/events/%s", ref, eid));
    EXPECT_STATUS(&r, 200);
    resp_free(&r);

    /* a child is only found under its own case and collection */
    GET(&r, pf("/api/v1/cases/%s/events/%s", other, eid));
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    GET(&r, pf("%s/comments/%s", base, eid));
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    SEND(&r, "PATCH", pf("/api/v1/cases/%s/events/%s", other, eid), "{\"hte_City\": \"X\"}",
         "If-Match: \"1\"");
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    SEND(&r, "DELETE", pf("/api/v1/cases/%s/events/%s", other, eid), NULL, NULL);
    expect_error(&r, 404, "not_found");
    resp_free(&r);

    /* PATCH */
    SEND(&r, "PATCH", pf("%s/events/%s", base, eid), "{\"hte_City\": \"Cusco\"}", NULL);
    expect_error(&r, 428, "precondition_required");
    resp_free(&r);
    SEND(&r, "PATCH", pf("%s/events/%s", base, eid), "{\"hte_Type\": \"Nope\"}", "If-Match: \"1\"");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "hte_Type", "picklist");
    resp_free(&r);
    SEND(&r, "PATCH", pf("%s/events/%s", base, eid), "{\"hte_City\": \"Cusco\"}",
         "If-Match: \"1\"\nContent-Type: application/merge-patch+json");
    EXPECT_STATUS(&r, 200);
    assert_string_equal(r.etag, "\"2\"");
    assert_int_equal(jint(r.json, "version"), 2);
    assert_string_equal(jstr(r.json, "hte_City"), "Cusco");
    resp_free(&r);
    SEND(&r, "PATCH", pf("%s/events/%s", base, eid), "{\"hte_City\": \"Arequipa\"}",
         "If-Match: \"1\"");
    expect_error(&r, 412, "precondition_failed");
    resp_free(&r);
    SEND(&r, "PATCH", pf("%s/events/%s", base, eid), "{\"version\": 1, \"hte_City\": \"Arequipa\"}",
         NULL);
    expect_error(&r, 409, "version_conflict");
    resp_free(&r);

    /* DELETE: stale If-Match refused, then deleted */
    SEND(&r, "DELETE", pf("%s/events/%s", base, eid), NULL, "If-Match: \"1\"");
    expect_error(&r, 412, "precondition_failed");
    resp_free(&r);
    SEND(&r, "DELETE", pf("%s/events/%s", base, eid), NULL, "If-Match: \"2\"");
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "id"), eid);
    assert_true(json_is_true(json_object_get(r.json, "deleted")));
    resp_free(&r);
    GET(&r, pf("%s/events/%s", base, eid));
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    SEND(&r, "DELETE", pf("%s/events/%s", base, eid), NULL, NULL);
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    GET(&r, pf("%s/events", base));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    resp_free(&r);
    assert_int_equal(list_total(q), 0);

    /* support-plans and support_plans are the same collection */
    SEND(&r, "POST", pf("%s/support-plans", base), "{\"spl_Type\": \"Health\"}", NULL);
    EXPECT_STATUS(&r, 201);
    char sid[64];
    snprintf(sid, sizeof sid, "%s", jstr(r.json, "id"));
    resp_free(&r);
    SEND(&r, "POST", pf("%s/support_plans", base), "{\"spl_Type\": \"Legal\"}", NULL);
    EXPECT_STATUS(&r, 201);
    resp_free(&r);
    GET(&r, pf("%s/support_plans", base));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    resp_free(&r);
    GET(&r, pf("%s/support-plans/%s", base, sid));
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "spl_Type"), "Health");
    resp_free(&r);
    GET(&r, pf("%s/support_plans/%s", base, sid));
    EXPECT_STATUS(&r, 200);
    resp_free(&r);

    /* comments, perpetrators */
    SEND(&r, "POST", pf("%s/comments", base), "{\"cco_CaseComment\": \"Follow-up call.\"}", NULL);
    EXPECT_STATUS(&r, 201);
    resp_free(&r);
    SEND(&r, "POST", pf("%s/comments", base), "{}", NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "cco_CaseComment", "required");
    resp_free(&r);
    SEND(&r, "POST", pf("%s/comments", base), "{\"id\": \"x\", \"cco_CaseComment\": \"c\"}", NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "id", "read_only");
    resp_free(&r);
    SEND(&r, "POST", pf("%s/perpetrators", base), "{\"prs_FirstName\": \"Desconocido\"}", NULL);
    EXPECT_STATUS(&r, 201);
    resp_free(&r);

    /* unknown collection, unknown case */
    GET(&r, pf("%s/widgets", base));
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    SEND(&r, "POST", pf("%s/widgets", base), "{}", NULL);
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    GET(&r, pf("%s/widgets/%s", base, sid));
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    GET(&r, "/api/v1/cases/0195a3c2-7e41-7b8a-9c1d-2f4e6a8b0c13/events");
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/cases/EC-2026-999999/comments", "{\"cco_CaseComment\": \"x\"}", NULL);
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    SEND(&r, "PUT", pf("%s/events", base), "{}", NULL);
    expect_error(&r, 405, "method_not_allowed");
    resp_free(&r);

    /* the case carries them all; history names the child operations */
    GET(&r, base);
    EXPECT_STATUS(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "events")), 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "support_plans")), 2);
    assert_int_equal(json_array_size(json_object_get(r.json, "comments")), 1);
    assert_int_equal(json_array_size(json_object_get(r.json, "perpetrators")), 1);
    resp_free(&r);
    GET(&r, pf("%s/history", base));
    EXPECT_STATUS(&r, 200);
    const char *want[] = {"create", "event.create", "event.update", "event.delete"};
    const json_t *items = json_object_get(r.json, "items");
    for (size_t k = 0; k < 4; k++) {
        const json_t *h = json_array_get(items, k);
        if (!h || strcmp(jstr(h, "action"), want[k]) != 0)
            fail_msg("history entry %zu is not %s: %s", k, want[k], r.body);
        if (k > 0)
            assert_string_equal(jstr(h, "target"), eid);
    }
    resp_free(&r);
}

/* ==== listing ============================================================================ */

#define NLIST 12

static const char *const list_genders[] = {"Feminine", "Masculine", "TransgenderFeminine"};

static bool in_status_active(int i)
{
    return i % 2 == 0;
}
static bool has_forced_labour(int i)
{
    return i % 4 == 1 || i % 4 == 2;
}
static bool citizen_pe(int i)
{
    return i % 2 == 1;
}
static bool exploited_in_pe(int i)
{
    return i % 3 == 1;
}
static bool exploited_in_ec(int i)
{
    return i % 3 == 0;
}

static void create_list_dataset(void)
{
    for (int i = 0; i < NLIST; i++) {
        char body[1024];
        const char *expl = i % 4 == 0   ? ", \"vic_TypeOfExploitation\": [\"SexualExploitation\"]"
                           : i % 4 == 1 ? ", \"vic_TypeOfExploitation\": [\"ForcedLabour\"]"
                           : i % 4 == 2 ? ", \"vic_TypeOfExploitation\": [\"SexualExploitation\", "
                                          "\"ForcedLabour\"]"
                                        : "";
        const char *event = i % 3 == 0 ? "{\"hte_Type\": \"Exploitation\", \"hte_Country\": \"EC\"}"
                            : i % 3 == 1
                                ? "{\"hte_Type\": \"Exploitation\", \"hte_Country\": \"PE\"}"
                                : "{\"hte_Type\": \"Recruitment\", \"hte_Country\": \"EC\"}";
        snprintf(body, sizeof body,
                 "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","
                 " \"prs_Gender\": \"%s\", \"cas_Status\": \"%s\", \"prs_Citizenship\": %s,"
                 " \"amp_RegistrationDate\": \"2019-01-%02d\", \"amp_RegistrationCountry\": \"%s\""
                 "%s, \"events\": [%s]}",
                 list_genders[i % 3], in_status_active(i) ? "Active" : "FollowUp",
                 citizen_pe(i) ? "[\"VE\", \"PE\"]" : "[\"CO\"]", 10 + i, i < 3 ? "PE" : "EC", expl,
                 event);
        create_case(body, NULL, NULL);
    }
}

#define B "registered_from=2019-01-01&registered_to=2019-12-31"

/** The references of one page of GET /api/v1/cases?query, appended to refs. */
static size_t list_page(const char *query, char refs[][32], size_t at, json_int_t *total)
{
    resp r;
    GET(&r, pf("/api/v1/cases?%s", query));
    EXPECT_STATUS(&r, 200);
    const json_t *items = json_object_get(r.json, "items");
    size_t n = json_array_size(items);
    for (size_t i = 0; i < n && at + i < 64; i++)
        snprintf(refs[at + i], 32, "%s", jstr(json_array_get(items, i), "reference"));
    if (total)
        *total = jint(r.json, "total");
    resp_free(&r);
    return n;
}

static void test_list_filters_sort_paging(void **state)
{
    (void)state;
    create_list_dataset();
    int expect_active = 0, expect_masc = 0, expect_fl = 0, expect_pe = 0, expect_coe_pe = 0,
        expect_coe_ec = 0, expect_fl_active = 0, expect_combo = 0;
    for (int i = 0; i < NLIST; i++) {
        expect_active += in_status_active(i);
        expect_masc += i % 3 == 1;
        expect_fl += has_forced_labour(i);
        expect_pe += citizen_pe(i);
        expect_coe_pe += exploited_in_pe(i);
        expect_coe_ec += exploited_in_ec(i);
        expect_fl_active += has_forced_labour(i) && in_status_active(i);
        expect_combo += i % 3 == 0 && !citizen_pe(i) && exploited_in_ec(i);
    }
    struct {
        const char *query;
        int total;
    } cases[] = {
        {B, NLIST},
        {B "&status=Active", expect_active},
        {B "&status=Active,FollowUp", NLIST},
        {B "&status=Active&status=FollowUp", NLIST},
        {B "&status=Closed", 0},
        {B "&gender=Masculine", expect_masc},
        {B "&exploitation=ForcedLabour", expect_fl},
        {B "&exploitation=ChildLabour,ForcedLabour", expect_fl},
        {B "&exploitation=ForcedLabour&status=Active", expect_fl_active},
        {B "&citizenship=PE", expect_pe},
        {B "&citizenship=CO", NLIST - expect_pe},
        {B "&citizenship=CO%2CVE", NLIST},
        {B "&country_of_exploitation=PE", expect_coe_pe},
        {B "&country_of_exploitation=EC", expect_coe_ec},
        {B "&country_of_exploitation=EC,PE", expect_coe_ec + expect_coe_pe},
        {B "&gender=Feminine&citizenship=CO&country_of_exploitation=EC", expect_combo},
        {B "&trafficking_status=PossibleVictimOfTrafficking", NLIST},
        {"registered_from=2019-01-12&registered_to=2019-01-14", 3},
        {"registered_from=2019-01-21&registered_to=2019-01-21", 1},
        {"registered_to=2019-01-09&registered_from=2019-01-01", 0},
        {"reference=PE-2019", 3},
        {"reference=EC-2019", NLIST - 3},
        {"reference=EC-2019-000004", 1},
        {"reference=EC-2019-0000", NLIST - 3},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        json_int_t t = list_total(cases[k].query);
        if (t != cases[k].total)
            fail_msg("?%s: total %lld, expected %d", cases[k].query, (long long)t, cases[k].total);
    }

    /* sort */
    char all[64][32], tmp[64][32];
    json_int_t total;
    size_t n = list_page(B "&sort=reference&limit=100", all, 0, &total);
    assert_int_equal(n, NLIST);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(all[i - 1], all[i]) < 0);
    assert_true(starts_with(all[0], "EC-2019-"));
    assert_true(starts_with(all[NLIST - 1], "PE-2019-"));
    n = list_page(B "&sort=-reference", tmp, 0, NULL);
    assert_int_equal(n, NLIST);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(tmp[i], all[NLIST - 1 - i]);

    resp r;
    const char *sorts[] = {"sort=registered", "sort=-registered", "", "sort=created",
                           "sort=-updated"};
    for (size_t s = 0; s < sizeof sorts / sizeof *sorts; s++) {
        GET(&r, pf("/api/v1/cases?" B "&%s", sorts[s]));
        EXPECT_STATUS(&r, 200);
        const json_t *items = json_object_get(r.json, "items");
        assert_int_equal(json_array_size(items), NLIST);
        assert_int_equal(jint(r.json, "limit"), 50);
        assert_int_equal(jint(r.json, "offset"), 0);
        const char *key = strstr(sorts[s], "registered") || !*sorts[s] ? "amp_RegistrationDate"
                          : strstr(sorts[s], "created")                ? "created_at"
                                                                       : "updated_at";
        bool desc = strchr(sorts[s], '-') || !*sorts[s];
        for (size_t i = 1; i < NLIST; i++) {
            int c = strcmp(jstr(json_array_get(items, i - 1), key),
                           jstr(json_array_get(items, i), key));
            if (desc ? c < 0 : c > 0)
                fail_msg("?%s is not sorted by %s", sorts[s], key);
        }
        assert_null(json_object_get(json_array_get(items, 0), "events"));
        resp_free(&r);
    }

    /* paging: no duplicates, no gaps */
    size_t got = 0;
    for (int off = 0; off < NLIST + 5; off += 5) {
        size_t k = list_page(pf(B "&sort=reference&limit=5&offset=%d", off), tmp, got, &total);
        assert_int_equal(total, NLIST);
        assert_int_equal(k, off + 5 <= NLIST ? 5 : (size_t)(NLIST > off ? NLIST - off : 0));
        got += k;
    }
    assert_int_equal(got, NLIST);
    for (size_t i = 0; i < NLIST; i++)
        assert_string_equal(tmp[i], all[i]);
    GET(&r, "/api/v1/cases?" B "&limit=5&offset=10");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "limit"), 5);
    assert_int_equal(jint(r.json, "offset"), 10);
    resp_free(&r);
    GET(&r, "/api/v1/cases?" B "&limit=500&offset=1000");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    assert_int_equal(jint(r.json, "total"), NLIST);
    resp_free(&r);

    /* bad parameters: 400 naming them */
    struct {
        const char *query, *field, *rule;
    } bad[] = {
        {"limit=501", "limit", "max"},
        {"limit=0", "limit", "max"},
        {"limit=ten", "limit", "max"},
        {"offset=-1", "offset", "min"},
        {"colour=red", "colour", "unknown_parameter"},
        {"status=Bogus", "status", "picklist"},
        {"status=Active,Bogus", "status", "picklist"},
        {"gender=Female", "gender", "picklist"},
        {"citizenship=XX", "citizenship", "picklist"},
        {"country_of_exploitation=Ecuador", "country_of_exploitation", "picklist"},
        {"registered_from=2019-13-01", "registered_from", "date"},
        {"registered_to=yesterday", "registered_to", "date"},
        {"reference=ec-2019", "reference", "reference"},
        {"sort=name", "sort", "picklist"},
        {"owner=no%20spaces", "owner", "lookup"},
        {"reference=%zz", "query", "encoding"},
        {"reference=EC%2", "query", "encoding"},
        {"reference=%0a", "query", "encoding"},
        {"st%atus=Active", "query", "encoding"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        GET(&r, pf("/api/v1/cases?%s", bad[k].query));
        if (r.status != 400)
            fail_msg("?%s: HTTP %ld, expected 400: %.300s", bad[k].query, r.status, r.body);
        expect_error(&r, 400, "bad_request");
        if (!field_error(&r, bad[k].field, bad[k].rule))
            fail_msg("?%s: no error on %s (rule %s): %s", bad[k].query, bad[k].field, bad[k].rule,
                     r.body);
        resp_free(&r);
    }
    GET(&r, "/api/v1/cases?colour=red");
    assert_non_null(
        strstr(jstr(field_error(&r, "colour", "unknown_parameter"), "message"), "colour"));
    resp_free(&r);
    /* every bad parameter is listed */
    GET(&r, "/api/v1/cases?limit=501&colour=red&status=Bogus");
    expect_error(&r, 400, "bad_request");
    assert_int_equal(error_field_count(&r), 3);
    resp_free(&r);
    /* 33 values in one filter: over the limit of 32 */
    char many[600] = "citizenship=";
    for (int k = 0; k < 33; k++)
        strcat(many, k ? ",EC" : "EC");
    GET(&r, pf("/api/v1/cases?%s", many));
    expect_error(&r, 400, "bad_request");
    expect_field_error(&r, "citizenship", "max_items");
    resp_free(&r);
}

/* ==== organisations ==================================================================== */

static void test_organisations(void **state)
{
    (void)state;
    resp r;
    /* a caseworker may not create organisations */
    SEND(&r, "PUT", "/api/v1/organisations/fundacion-e2e-quito", "{\"org_Name\": \"X\"}", NULL);
    expect_error(&r, 403, "forbidden");
    resp_free(&r);
    e2e_as("admin");
    SEND(&r, "PUT", "/api/v1/organisations/fundacion-e2e-quito",
         "{\"org_Name\": \"Fundación E2E Quito\", \"org_ShippingCountry\": \"EC\","
         " \"org_Phone\": \"+59322345678\"}",
         NULL);
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "id"), "fundacion-e2e-quito");
    assert_int_equal(jint(r.json, "version"), 1);
    assert_string_equal(jstr(r.json, "org_Name"), "Fundación E2E Quito");
    resp_free(&r);
    SEND(&r, "PUT", "/api/v1/organisations/fundacion-e2e-quito",
         "{\"org_Name\": \"Fundación E2E Quito (sede norte)\"}", NULL);
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "version"), 2);
    assert_null(json_object_get(r.json, "org_Phone")); /* replaced as a whole */
    resp_free(&r);

    GET(&r, "/api/v1/organisations");
    EXPECT_STATUS(&r, 200);
    bool found = false;
    size_t i;
    json_t *o;
    json_array_foreach (json_object_get(r.json, "items"), i, o) {
        if (strcmp(jstr(o, "id"), "fundacion-e2e-quito") == 0) {
            found = true;
            assert_string_equal(jstr(o, "org_Name"), "Fundación E2E Quito (sede norte)");
        }
    }
    assert_true(found);
    resp_free(&r);

    SEND(&r, "PUT", "/api/v1/organisations/fundacion-e2e-quito",
         "{\"id\": \"another\", \"org_Name\": \"X\"}", NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "id", "mismatch");
    resp_free(&r);
    SEND(&r, "PUT", "/api/v1/organisations/no-name", "{\"org_Phone\": \"12\"}", NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "org_Name", "required");
    expect_field_error(&r, "org_Phone", "phone");
    resp_free(&r);
    SEND(&r, "PUT", "/api/v1/organisations/bad%20id", "{\"org_Name\": \"X\"}", NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "id", "identifier");
    resp_free(&r);
    SEND(&r, "PUT", "/api/v1/organisations/x", "{\"org_Name\": \"X\"}", "Content-Type: text/plain");
    expect_error(&r, 415, "unsupported_media_type");
    resp_free(&r);

    /* a case belongs to the organisation of the caseworker who registers it */
    e2e_as("cw-a");
    char id[64];
    create_case("{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\"}", id, NULL);
    GET(&r, pf("/api/v1/cases/%s", id));
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "amp_OwnerOrganisation"), "org-a");
    resp_free(&r);
    assert_int_equal(list_total("owner=fundacion-e2e-quito"), 0);
    assert_int_equal(list_total("owner=nobody-here"), 0);
    assert_true(list_total("owner=org-a") >= 1);

    json_int_t before = healthz_cases();
    SEND(&r, "POST", "/api/v1/cases",
         "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","
         " \"amp_OwnerOrganisation\": \"fundacion-e2e-quito\"}",
         NULL);
    expect_error(&r, 403, "forbidden");
    expect_field_error(&r, "amp_OwnerOrganisation", "forbidden");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/cases",
         "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","
         " \"cas_ReferringOrganisation\": \"no-such-organisation\"}",
         NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "cas_ReferringOrganisation", "lookup");
    resp_free(&r);
    /* nor can a patch hand the case to another organisation (referrals do that) */
    SEND(&r, "PATCH", pf("/api/v1/cases/%s", id),
         "{\"amp_OwnerOrganisation\": \"no-such-organisation\"}", "If-Match: \"1\"");
    expect_error(&r, 403, "forbidden");
    expect_field_error(&r, "amp_OwnerOrganisation", "forbidden");
    resp_free(&r);
    assert_int_equal(healthz_cases(), before);
}

/* ==== concurrency ======================================================================== */

#define NTHREADS 16
#define PER_THREAD 25

typedef struct {
    pthread_barrier_t *barrier;
    int index;
    long status[PER_THREAD];
    char refs[PER_THREAD][32];
} creator;

static void *creator_main(void *arg)
{
    creator *c = arg;
    CURL *h = curl_easy_init();
    pthread_barrier_wait(c->barrier);
    for (int i = 0; i < PER_THREAD; i++) {
        char body[256];
        resp r;
        snprintf(body, sizeof body,
                 "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","
                 " \"prs_FirstName\": \"T%d-%d\"}",
                 c->index, i);
        if (!h) {
            c->status[i] = -1;
            continue;
        }
        http_do(h, &r, "POST", "/api/v1/cases", body, strlen(body), NULL);
        c->status[i] = r.status;
        const char *ref = jstr(r.json, "reference");
        snprintf(c->refs[i], sizeof c->refs[i], "%s", ref ? ref : "");
        resp_free(&r);
    }
    curl_easy_cleanup(h);
    return NULL;
}

static int cmp_str32(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_concurrent_creates(void **state)
{
    (void)state;
    json_int_t before = healthz_cases();
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, NTHREADS);
    creator *cs = calloc(NTHREADS, sizeof *cs);
    pthread_t th[NTHREADS];
    assert_non_null(cs);
    for (int t = 0; t < NTHREADS; t++) {
        cs[t].barrier = &barrier;
        cs[t].index = t;
        assert_int_equal(pthread_create(&th[t], NULL, creator_main, &cs[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
    pthread_barrier_destroy(&barrier);

    char(*refs)[32] = calloc(NTHREADS * PER_THREAD, 32);
    assert_non_null(refs);
    size_t n = 0, bad = 0;
    for (int t = 0; t < NTHREADS; t++) {
        for (int i = 0; i < PER_THREAD; i++) {
            if (cs[t].status[i] != 201) {
                if (!bad)
                    fprintf(stderr, "thread %d request %d: HTTP %ld\n", t, i, cs[t].status[i]);
                bad++;
            } else {
                memcpy(refs[n++], cs[t].refs[i], 32);
            }
        }
    }
    free(cs);
    if (bad) {
        free(refs);
        fail_msg("%zu of %d concurrent creates were not 201", bad, NTHREADS * PER_THREAD);
    }
    qsort(refs, n, 32, cmp_str32);
    size_t dups = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_reference(refs[i], "EC-2026-") || (i > 0 && strcmp(refs[i - 1], refs[i]) == 0))
            dups++;
    }
    free(refs);
    assert_int_equal(n, NTHREADS * PER_THREAD);
    assert_int_equal(dups, 0);
    assert_int_equal(healthz_cases(), before + NTHREADS * PER_THREAD);
}

typedef struct {
    pthread_barrier_t *barrier;
    const char *path;
    char body[128], if_match[32];
    long status;
} patcher;

static void *patcher_main(void *arg)
{
    patcher *p = arg;
    CURL *h = curl_easy_init();
    resp r;
    pthread_barrier_wait(p->barrier);
    if (!h) {
        p->status = -1;
        return NULL;
    }
    http_do(h, &r, "PATCH", p->path, p->body, strlen(p->body), p->if_match);
    p->status = r.status;
    resp_free(&r);
    curl_easy_cleanup(h);
    return NULL;
}

static void test_concurrent_patch_race(void **state)
{
    (void)state;
    char id[64], path[128];
    create_case(MINIMAL_CASE, id, NULL);
    snprintf(path, sizeof path, "/api/v1/cases/%s", id);
    for (int round = 1; round <= 5; round++) {
        pthread_barrier_t barrier;
        pthread_barrier_init(&barrier, NULL, 2);
        patcher ps[2];
        pthread_t th[2];
        for (int k = 0; k < 2; k++) {
            memset(&ps[k], 0, sizeof ps[k]);
            ps[k].barrier = &barrier;
            ps[k].path = path;
            snprintf(ps[k].body, sizeof ps[k].body, "{\"prs_FirstName\": \"%c%d\"}", 'A' + k,
                     round);
            snprintf(ps[k].if_match, sizeof ps[k].if_match, "If-Match: \"%d\"", round);
            assert_int_equal(pthread_create(&th[k], NULL, patcher_main, &ps[k]), 0);
        }
        for (int k = 0; k < 2; k++)
            pthread_join(th[k], NULL);
        pthread_barrier_destroy(&barrier);
        long a = ps[0].status, b = ps[1].status;
        if (!((a == 200 && b == 412) || (a == 412 && b == 200)))
            fail_msg("round %d: expected one 200 and one 412, got %ld and %ld", round, a, b);
        resp r;
        GET(&r, path);
        EXPECT_STATUS(&r, 200);
        assert_int_equal(jint(r.json, "version"), round + 1);
        char want[24];
        snprintf(want, sizeof want, "%c%d", a == 200 ? 'A' : 'B', round);
        assert_string_equal(jstr(r.json, "prs_FirstName"), want);
        resp_free(&r);
    }
}

/* ==== robustness ==================================================================== */

static uint32_t rng_state = 0x2545F491u;

static uint32_t rnd(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/** Sends raw bytes on a new TCP connection; returns the status of the answer, 0 if
 *  the server closed the connection or did not answer within timeout_ms. */
static int raw_exchange(const char *req, size_t len, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    (void)!send(fd, req, len, MSG_NOSIGNAL);
    char buf[256];
    size_t got = 0;
    while (got < sizeof buf - 1) {
        ssize_t k = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (k <= 0)
            break;
        got += (size_t)k;
        if (memchr(buf, '\n', got))
            break;
    }
    close(fd);
    buf[got] = '\0';
    int status = 0;
    if (got > 12 && strncmp(buf, "HTTP/1.", 7) == 0)
        status = atoi(buf + 9);
    return status;
}

static void test_garbage_never_5xx(void **state)
{
    (void)state;
    char id[64];
    create_case(MINIMAL_CASE, id, NULL);
    const char *methods[] = {"GET",     "POST", "PUT",   "PATCH",   "DELETE",
                             "OPTIONS", "HEAD", "TRACE", "PROPFIND"};
    char paths[8][160];
    snprintf(paths[0], sizeof paths[0], "/api/v1/cases");
    snprintf(paths[1], sizeof paths[1], "/api/v1/cases/%s", id);
    snprintf(paths[2], sizeof paths[2], "/api/v1/cases/%s/events", id);
    snprintf(paths[3], sizeof paths[3], "/api/v1/cases/%s/support-plans/%s", id, id);
    snprintf(paths[4], sizeof paths[4], "/api/v1/organisations/rnd");
    snprintf(paths[5], sizeof paths[5], "/api/v1/cases/%%ff%%00%%2e%%2e/..//events");
    snprintf(paths[6], sizeof paths[6], "/healthz?x=%%00&&&=&%%");
    snprintf(paths[7], sizeof paths[7], "/api/v1/cases?status=%%C3%%28&limit=-0&offset=1e9");
    const char *ctypes[] = {"application/json",
                            "application/merge-patch+json",
                            "text/plain",
                            "application/json; charset=latin1",
                            "",
                            "*/*"};
    const char *extra[] = {"If-Match: \"1\"",        "If-Match: *",
                           "If-Match: W/\"x\"",      "If-Match: \"99999999999999999999999\"",
                           "Accept-Language: ,,,;;", "Accept-Language: ukfr, es-ES",
                           "If-Match: \"1",          ""};
    for (int k = 0; k < 80; k++) {
        size_t len = rnd() % 3000;
        char *body = xmalloc(len + 1);
        for (size_t i = 0; i < len; i++)
            body[i] = (char)(rnd() & 0xff);
        if (len && k % 4 == 0)
            body[0] = '{';
        body[len] = '\0';
        const char *m = methods[rnd() % (sizeof methods / sizeof *methods)];
        const char *path = paths[rnd() % 8];
        char hdrs[256];
        snprintf(hdrs, sizeof hdrs, "Content-Type: %s\n%s",
                 ctypes[rnd() % (sizeof ctypes / sizeof *ctypes)], extra[k % 8]);
        resp r;
        bool send_body = strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0;
        http_do(NULL, &r, m, path, send_body ? body : NULL, len, hdrs);
        if (r.status >= 500)
            fail_msg("garbage request %s %s gave HTTP %ld: %.300s", m, path, r.status,
                     r.body ? r.body : "");
        if (r.cc != CURLE_OK || r.status < 200)
            fail_msg("garbage request %s %s got no answer: %s", m, path, curl_easy_strerror(r.cc));
        if (r.json && r.status >= 400)
            expect_error(&r, r.status, NULL);
        resp_free(&r);
        free(body);
    }

    /* a 100 KB header: refused by the HTTP layer (431) or the connection closed */
    size_t hl = 100 * 1024;
    char *hdr = xmalloc(hl + 16);
    strcpy(hdr, "X-Huge: ");
    memset(hdr + 8, 'h', hl);
    hdr[8 + hl] = '\0';
    resp r;
    http_do(NULL, &r, "GET", "/healthz", NULL, 0, hdr);
    if (r.cc == CURLE_OK && (r.status < 400 || r.status >= 500))
        fail_msg("a 100 KB header gave HTTP %ld", r.status);
    resp_free(&r);
    free(hdr);

    /* a 10 KB URL: 414 */
    size_t ul = 10 * 1024;
    char *url = xmalloc(ul + 64);
    strcpy(url, "/api/v1/cases/");
    memset(url + 14, 'a', ul);
    url[14 + ul] = '\0';
    GET(&r, url);
    expect_error(&r, 414, "uri_too_long");
    resp_free(&r);
    /* a 10 KB query string: refused (414 as documented, see
     * test_long_query_is_414 for the status) */
    strcpy(url, "/api/v1/cases?reference=");
    memset(url + 24, 'A', ul);
    url[24 + ul] = '\0';
    GET(&r, url);
    assert_true(r.status >= 400 && r.status < 500);
    expect_error(&r, r.status, NULL);
    resp_free(&r);
    free(url);
    /* a path parameter longer than the router keeps */
    char longid[400];
    memset(longid, 'b', 300);
    longid[300] = '\0';
    GET(&r, pf("/api/v1/cases/%s/events/%s", longid, longid));
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    GET(&r, pf("/api/v1/cases/%s", longid));
    expect_error(&r, 404, "not_found");
    resp_free(&r);

    /* raw TCP: bad request lines */
    static const char *const raws[] = {
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET  HTTP/1.1\r\n\r\n",
        "GET /healthz\r\n\r\n",
        "\xff\xfe\xfd / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nbadheader\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        "POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        "POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 99999999999999999999\r\n\r\n{}",
        "POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{",
        "GET /api/v1/cases/%00 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
        "\r\n\r\n\r\n",
    };
    for (size_t k = 0; k < sizeof raws / sizeof *raws; k++) {
        int st = raw_exchange(raws[k], strlen(raws[k]), 1000);
        if (st >= 500 || st < 0)
            fail_msg("raw request %zu gave %d", k, st);
    }
    /* a NUL inside the request line */
    static const char nul_line[] = "GET /heal\0thz HTTP/1.1\r\nHost: x\r\n\r\n";
    int st = raw_exchange(nul_line, sizeof nul_line - 1, 1000);
    assert_true(st >= 0 && st < 500);

    /* still alive and well */
    assert_true(healthz_ok());
    create_case(MINIMAL_CASE, NULL, NULL);
}

/* ==== known bugs: documented behaviour, skipped while the server differs ============= */

/* Location names the new child under the case path the request used: by id when
 * created by id, by reference when created by reference (both are valid URLs). */
static void test_child_location_uses_case_id(void **state)
{
    (void)state;
    char id[64], ref[32];
    create_case(MINIMAL_CASE, id, ref);
    const char *keys[2] = {id, ref};
    for (int k = 0; k < 2; k++) {
        resp r;
        SEND(&r, "POST", pf("/api/v1/cases/%s/comments", keys[k]),
             "{\"cco_CaseComment\": \"Psychological follow-up scheduled.\"}", NULL);
        EXPECT_STATUS(&r, 201);
        char want[300];
        snprintf(want, sizeof want, "/api/v1/cases/%s/comments/%s", keys[k], jstr(r.json, "id"));
        assert_string_equal(r.location, want);
        resp g;
        GET(&g, want);
        EXPECT_STATUS(&g, 200);
        resp_free(&g);
        resp_free(&r);
    }
}

static void test_location_with_trailing_slash(void **state)
{
    (void)state;
    resp r;
    SEND(&r, "POST", "/api/v1/cases/", MINIMAL_CASE, NULL);
    EXPECT_STATUS(&r, 201);
    char want[128];
    snprintf(want, sizeof want, "/api/v1/cases/%s", jstr(r.json, "id"));
    assert_string_equal(r.location, want);
    resp_free(&r);
}

static void test_long_query_is_414(void **state)
{
    (void)state;
    json_int_t before = healthz_cases();
    char *url = xmalloc(12000);
    strcpy(url, "/api/v1/cases?reference=");
    long got[3];
    resp r;
    memset(url + 24, 'A', 5000); /* 5 KB query */
    url[5024] = '\0';
    GET(&r, url);
    got[0] = r.status;
    resp_free(&r);
    memset(url + 24, 'A', 10240); /* 10 KB query */
    url[10264] = '\0';
    GET(&r, url);
    got[1] = r.status;
    resp_free(&r);
    SEND(&r, "POST", url, MINIMAL_CASE, NULL);
    got[2] = r.status;
    resp_free(&r);
    if (got[0] != 414 || got[1] != 414 || got[2] != 414) {
        json_int_t after = healthz_cases();
        fprintf(stderr,
                "long queries: 5 KB GET %ld, 10 KB GET %ld, 10 KB POST %ld (%lld case"
                "(s) created)\n",
                got[0], got[1], got[2], (long long)(after - before));
        free(url);
        fail_msg("a query string over 4 KiB must be answered 414 on every route");
    }
    GET(&r, url);
    expect_error(&r, 414, "uri_too_long");
    resp_free(&r);
    free(url);
}

static void test_empty_filter_value_is_400(void **state)
{
    (void)state;
    resp r;
    GET(&r, "/api/v1/cases?" B "&exploitation=");
    expect_error(&r, 400, "bad_request");
    expect_field_error(&r, "exploitation", "required");
    resp_free(&r);
}

/* ==== durability ===================================================================== */

#define DUR_THREADS 4
#define DUR_MAX_PER_THREAD 100
#define DUR_WANT 50

static struct {
    pthread_mutex_t mu;
    atomic_bool stop;
    size_t acked;
    char ids[DUR_THREADS * DUR_MAX_PER_THREAD][40];
    char refs[DUR_THREADS * DUR_MAX_PER_THREAD][32];
    size_t unexpected;
} dur = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void *durable_writer(void *arg)
{
    CURL *h = curl_easy_init();
    int index = (int)(intptr_t)arg;
    for (int i = 0; h && i < DUR_MAX_PER_THREAD && !atomic_load(&dur.stop); i++) {
        char body[200];
        resp r;
        snprintf(body, sizeof body,
                 "{\"vic_TraffickingStatus\": \"ActualVictimOfTrafficking\","
                 " \"prs_FirstName\": \"D%d-%d\"}",
                 index, i);
        http_do(h, &r, "POST", "/api/v1/cases", body, strlen(body), NULL);
        const char *id = jstr(r.json, "id"), *ref = jstr(r.json, "reference");
        pthread_mutex_lock(&dur.mu);
        if (r.status == 201 && id && ref) {
            snprintf(dur.ids[dur.acked], sizeof dur.ids[0], "%s", id);
            snprintf(dur.refs[dur.acked], sizeof dur.refs[0], "%s", ref);
            dur.acked++;
        } else if (r.status != 0) {
            dur.unexpected++;
        }
        pthread_mutex_unlock(&dur.mu);
        bool dead = r.status == 0;
        resp_free(&r);
        if (dead)
            break; /* the server was killed */
    }
    curl_easy_cleanup(h);
    return NULL;
}

static void test_durability_after_kill9(void **state)
{
    (void)state;
    pthread_t th[DUR_THREADS];
    atomic_store(&dur.stop, false);
    for (int t = 0; t < DUR_THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, durable_writer, (void *)(intptr_t)t), 0);
    /* kill -9 as soon as 50 creates are acknowledged, with more in flight */
    int64_t deadline = now_ms() + 30000;
    size_t acked = 0;
    while (now_ms() < deadline) {
        pthread_mutex_lock(&dur.mu);
        acked = dur.acked;
        pthread_mutex_unlock(&dur.mu);
        if (acked >= DUR_WANT)
            break;
        usleep(200);
    }
    kill(srv.pid, SIGKILL);
    atomic_store(&dur.stop, true);
    for (int t = 0; t < DUR_THREADS; t++)
        pthread_join(th[t], NULL);
    int status;
    assert_int_equal(wait_exit(STOP_TIMEOUT_MS, &status), 1);
    srv.pid = 0;
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_int_equal(dur.unexpected, 0);
    if (dur.acked < DUR_WANT)
        fail_msg("only %zu creates were acknowledged before the deadline", dur.acked);

    /* restart on the same data: every acknowledged case is there */
    if (server_launch() != 0)
        fail_msg("the server did not restart after kill -9");
    size_t missing = 0;
    for (size_t i = 0; i < dur.acked; i++) {
        resp r;
        GET(&r, pf("/api/v1/cases/%s", dur.ids[i]));
        if (r.status != 200 || !jstr(r.json, "reference") ||
            strcmp(jstr(r.json, "reference"), dur.refs[i]) != 0) {
            if (!missing)
                fprintf(stderr, "acknowledged case %s (%s): HTTP %ld\n", dur.ids[i], dur.refs[i],
                        r.status);
            missing++;
        }
        resp_free(&r);
    }
    if (missing)
        fail_msg("%zu of %zu acknowledged cases were lost by kill -9", missing, dur.acked);
    /* and the server keeps working: new references continue after the old ones */
    char ref[32];
    create_case(MINIMAL_CASE, NULL, ref);
    for (size_t i = 0; i < dur.acked; i++)
        assert_true(strcmp(ref, dur.refs[i]) != 0);
}

/* ==== shutting down ==================================================================== */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_schema_and_openapi),
        cmocka_unit_test(test_unknown_route_and_method),
        cmocka_unit_test(test_create_case_and_read_back),
        cmocka_unit_test(test_create_refuses_server_keys),
        cmocka_unit_test(test_validation_lists_every_field),
        cmocka_unit_test(test_malformed_bodies),
        cmocka_unit_test(test_patch_versions_and_history),
        cmocka_unit_test(test_children),
        cmocka_unit_test(test_list_filters_sort_paging),
        cmocka_unit_test(test_organisations),
        cmocka_unit_test(test_concurrent_creates),
        cmocka_unit_test(test_concurrent_patch_race),
        cmocka_unit_test(test_garbage_never_5xx),
        cmocka_unit_test(test_child_location_uses_case_id),
        cmocka_unit_test(test_location_with_trailing_slash),
        cmocka_unit_test(test_long_query_is_414),
        cmocka_unit_test(test_empty_filter_value_is_400),
        cmocka_unit_test(test_durability_after_kill9),
        cmocka_unit_test(test_sigterm_exits_cleanly),
    };
    return cmocka_run_group_tests_name("e2e_api", tests, world_setup, group_teardown);
}
