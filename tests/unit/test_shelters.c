/* test_shelters.c — shelters, admissions, capacity, the waiting list, stays and
 * their figures, with crafted principals. */
#include "care_testutil.h"

#include "core/referrals.h"
#include "core/shelters.h"

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

static principal shelter_b(void)
{
    return ct_user("shelter-b", "org-b", ROLE_SHELTER);
}

/* Creates a shelter of org-b; writes its id. */
static void make_shelter(tu_env *e, const char *body, char id[40])
{
    principal p = shelter_b();
    amp_err err = {0};
    json_t *b = tu_json(body), *out = NULL;
    CT_OK(CARE_SYNC(&out, &err, shelters_create, e->core, &p, b), err);
    snprintf(id, 40, "%s", ct_s(out, "id"));
    json_decref(b);
    json_decref(out);
}

static amp_code admit(tu_env *e, const principal *p, const char *shelter, const char *body,
                      json_t **out, amp_err *err)
{
    json_t *b = tu_json(body);
    json_t *o = NULL;
    amp_code code = CARE_SYNC(&o, err, stays_admit, e->core, p, shelter, b);
    json_decref(b);
    if (out)
        *out = o;
    else
        json_decref(o);
    return code;
}

static amp_code discharge(tu_env *e, const principal *p, const char *stay, const char *body,
                          json_t **out, amp_err *err)
{
    json_t *b = tu_json(body);
    json_t *o = NULL;
    amp_code code = CARE_SYNC(&o, err, stays_discharge, e->core, p, stay, b);
    json_decref(b);
    if (out)
        *out = o;
    else
        json_decref(o);
    return code;
}

#define SHELTER_BODY                                                                               \
    "{\"name\":\"Casa Amparo\",\"capacity\":{\"Women\":2,\"Children\":3},"                         \
    "\"cost_per_night\":{\"Women\":20,\"Children\":15},\"currency\":\"USD\","                      \
    "\"country\":\"EC\",\"region\":\"Imbabura\",\"city\":\"Ibarra\","                              \
    "\"address\":\"Calle 1\",\"opened_on\":\"2020-01-01\"}"

static void test_create_get_list(void **state)
{
    tu_env *e = *state;
    char id[40];
    make_shelter(e, SHELTER_BODY, id);
    principal cw = ct_user("cw-a", "org-a", ROLE_CASEWORKER), sb = shelter_b();
    amp_err err = {0};
    json_t *out = NULL;
    CT_OK(shelters_get(e->core, &sb, id, &out, &err), err);
    assert_string_equal(ct_s(out, "org"), "org-b");
    assert_string_equal(ct_s(out, "address"), "Calle 1");
    assert_int_equal(ct_i(out, "capacity_total"), 5);
    assert_int_equal(ct_i(json_object_get(out, "free"), "Women"), 2);
    assert_null(json_object_get(out, "load_ref"));
    json_decref(out);
    /* a caseworker of another organisation reads the shelter (with identity) */
    CT_OK(shelters_get(e->core, &cw, id, &out, &err), err);
    assert_string_equal(ct_s(out, "name"), "Casa Amparo");
    json_decref(out);
    /* a coordinator (no identity... coordinators may read identity): analysts may not read */
    principal an = ct_user("analyst", "org-a", ROLE_ANALYST);
    assert_int_equal(shelters_get(e->core, &an, id, &out, &err), AMP_EFORBIDDEN);
    amp_err_clear(&err);
    list_param ps[16];
    size_t n = ct_params("city=ibarra&kind=Children", ps);
    CT_OK(shelters_list(e->core, &cw, ps, n, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 1);
    json_decref(out);
    n = ct_params("kind=Men", ps);
    CT_OK(shelters_list(e->core, &cw, ps, n, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 0);
    json_decref(out);
    n = ct_params("kind=Boats", ps);
    assert_int_equal(shelters_list(e->core, &cw, ps, n, &out, &err), AMP_EBADREQ);
    assert_true(tu_has_field_error(&err, "kind", "picklist"));
    amp_err_clear(&err);
}

static void test_create_refusals(void **state)
{
    tu_env *e = *state;
    principal sb = shelter_b(), cw = ct_user("cw-a", "org-a", ROLE_CASEWORKER);
    amp_err err = {0};
    json_t *out = NULL;
    json_t *b = tu_json(SHELTER_BODY);
    assert_int_equal(CARE_SYNC(&out, &err, shelters_create, e->core, &cw, b), AMP_EFORBIDDEN);
    amp_err_clear(&err);
    json_decref(b);
    b = tu_json("{\"name\":\"X\",\"capacity\":{\"Women\":-1,\"Boats\":2},\"cost_per_night\":"
                "{\"Women\":3},\"colour\":\"red\",\"country\":\"XX\",\"org\":\"org-a\"}");
    assert_int_equal(CARE_SYNC(&out, &err, shelters_create, e->core, &sb, b), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "capacity.Women", "min"));
    assert_true(tu_has_field_error(&err, "capacity.Boats", "picklist"));
    assert_true(tu_has_field_error(&err, "colour", "unknown_field"));
    assert_true(tu_has_field_error(&err, "country", "country"));
    assert_true(tu_has_field_error(&err, "currency", "required_when"));
    assert_true(tu_has_field_error(&err, "org", "wrong_organisation"));
    amp_err_clear(&err);
    json_decref(b);
    b = tu_json("{\"capacity\":{}}");
    assert_int_equal(CARE_SYNC(&out, &err, shelters_create, e->core, &sb, b), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "name", "required"));
    assert_true(tu_has_field_error(&err, "capacity", "min"));
    amp_err_clear(&err);
    json_decref(b);
}

static void test_update_org_and_version(void **state)
{
    tu_env *e = *state;
    char id[40];
    make_shelter(e, SHELTER_BODY, id);
    principal sb = shelter_b(), other = ct_user("shelter-x", "org-a", ROLE_SHELTER);
    amp_err err = {0};
    json_t *out = NULL, *patch = tu_json("{\"region\":\"Pichincha\"}");
    assert_int_equal(CARE_SYNC(&out, &err, shelters_update, e->core, &other, id, patch, 1),
                     AMP_EFORBIDDEN);
    assert_true(tu_has_field_error(&err, "shelter", "wrong_organisation"));
    amp_err_clear(&err);
    assert_int_equal(CARE_SYNC(&out, &err, shelters_update, e->core, &sb, id, patch, 0),
                     AMP_ENEEDVER);
    amp_err_clear(&err);
    CT_OK(CARE_SYNC(&out, &err, shelters_update, e->core, &sb, id, patch, 1), err);
    assert_int_equal(ct_i(out, "version"), 2);
    assert_string_equal(ct_s(out, "region"), "Pichincha");
    json_decref(out);
    assert_int_equal(CARE_SYNC(&out, &err, shelters_update, e->core, &sb, id, patch, 1),
                     AMP_EPRECOND);
    amp_err_clear(&err);
    json_decref(patch);
}

static void test_admission_capacity_waiting_list(void **state)
{
    tu_env *e = *state;
    char id[40], c1[40], c2[40], c3[40], c4[40];
    make_shelter(e, SHELTER_BODY, id);
    ct_case(e, "org-a", "", c1);
    ct_case(e, "org-a", "", c2);
    ct_case(e, "org-a", "", c3);
    ct_case(e, "org-a", "", c4);
    principal sb = shelter_b();
    amp_err err = {0};
    json_t *s1 = NULL, *s2 = NULL, *s3 = NULL, *out = NULL;
    char body[300];
    /* no access to the case yet: the shelter cannot see it */
    snprintf(body, sizeof body, "{\"case\":\"%s\",\"place_kind\":\"Women\"}", c1);
    assert_int_equal(admit(e, &sb, id, body, NULL, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    ct_grant(e, c1, "org-b");
    ct_grant(e, c2, "org-b");
    ct_grant(e, c3, "org-b");
    ct_grant(e, c4, "org-b");
    snprintf(body, sizeof body,
             "{\"case\":\"%s\",\"place_kind\":\"Women\",\"admitted_on\":\"2026-01-10\","
             "\"planned_discharge\":\"2026-08-10\"}",
             c1);
    CT_OK(admit(e, &sb, id, body, &s1, &err), err);
    assert_string_equal(ct_s(s1, "status"), "Admitted");
    assert_string_equal(ct_s(s1, "shelter"), id);
    /* the same person cannot be admitted twice */
    assert_int_equal(admit(e, &sb, id, body, NULL, &err), AMP_ESTATE);
    amp_err_clear(&err);
    snprintf(body, sizeof body, "{\"case\":\"%s\",\"place_kind\":\"Women\"}", c2);
    CT_OK(admit(e, &sb, id, body, &s2, &err), err);
    /* full: refused, naming the kind of place */
    snprintf(body, sizeof body, "{\"case\":\"%s\",\"place_kind\":\"Women\"}", c3);
    assert_int_equal(admit(e, &sb, id, body, NULL, &err), AMP_ESTATE);
    assert_true(tu_has_field_error(&err, "place_kind", "over_capacity"));
    assert_non_null(strstr(
        json_string_value(json_object_get(json_array_get(err.fields, 0), "message")), "Women"));
    amp_err_clear(&err);
    /* in the caller's language, naming the kind of place */
    principal fr = sb;
    snprintf(fr.lang, sizeof fr.lang, "fr");
    assert_int_equal(admit(e, &fr, id, body, NULL, &err), AMP_ESTATE);
    assert_non_null(strstr(err.message, "le foyer est complet pour Femmes"));
    amp_err_clear(&err);
    /* ... or put on the waiting list */
    snprintf(body, sizeof body, "{\"case\":\"%s\",\"place_kind\":\"Women\",\"waiting_list\":true}",
             c3);
    CT_OK(admit(e, &sb, id, body, &s3, &err), err);
    assert_string_equal(ct_s(s3, "status"), "Waiting");
    assert_string_equal(ct_s(s3, "requested_on"), TEST_TODAY);
    CT_OK(stays_waiting_list(e->core, &sb, id, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 1);
    assert_int_equal(ct_i(json_array_get(json_object_get(out, "items"), 0), "position"), 1);
    json_decref(out);
    /* no places of this kind at all */
    snprintf(body, sizeof body, "{\"case\":\"%s\",\"place_kind\":\"Men\"}", c4);
    assert_int_equal(admit(e, &sb, id, body, NULL, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "place_kind", "no_places"));
    amp_err_clear(&err);
    /* admitting from the waiting list while full is refused */
    json_t *empty = json_object();
    assert_int_equal(
        CARE_SYNC(&out, &err, stays_admit_waiting, e->core, &sb, ct_s(s3, "id"), empty),
        AMP_ESTATE);
    assert_true(tu_has_field_error(&err, "place_kind", "over_capacity"));
    amp_err_clear(&err);
    /* discharge before the admission: refused */
    assert_int_equal(discharge(e, &sb, ct_s(s1, "id"),
                               "{\"discharged_on\":\"2026-01-01\",\"discharge_reason\":"
                               "\"FamilyReintegration\"}",
                               NULL, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "discharged_on", "date_order"));
    amp_err_clear(&err);
    assert_int_equal(
        discharge(e, &sb, ct_s(s1, "id"), "{\"discharge_reason\":\"Holiday\"}", NULL, &err),
        AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "discharge_reason", "picklist"));
    amp_err_clear(&err);
    CT_OK(discharge(e, &sb, ct_s(s1, "id"),
                    "{\"discharged_on\":\"2026-06-01\",\"discharge_reason\":\"FosterFamily\"}",
                    &out, &err),
          err);
    assert_string_equal(ct_s(out, "status"), "Discharged");
    assert_int_equal(ct_i(out, "nights"), 142);
    assert_true(fabs(ct_n(out, "cost") - 142 * 20.0) < 1e-9);
    assert_string_equal(ct_s(out, "currency"), "USD");
    json_decref(out);
    /* discharge twice: refused */
    assert_int_equal(
        discharge(e, &sb, ct_s(s1, "id"), "{\"discharge_reason\":\"Other\"}", NULL, &err),
        AMP_ESTATE);
    amp_err_clear(&err);
    /* a waiting-list entry cannot be discharged */
    assert_int_equal(
        discharge(e, &sb, ct_s(s3, "id"), "{\"discharge_reason\":\"Other\"}", NULL, &err),
        AMP_ESTATE);
    amp_err_clear(&err);
    /* now there is room */
    CT_OK(CARE_SYNC(&out, &err, stays_admit_waiting, e->core, &sb, ct_s(s3, "id"), empty), err);
    assert_string_equal(ct_s(out, "status"), "Admitted");
    json_decref(out);
    CT_OK(shelters_get(e->core, &sb, id, &out, &err), err);
    assert_int_equal(ct_i(json_object_get(out, "occupied"), "Women"), 2);
    assert_int_equal(ct_i(json_object_get(out, "free"), "Women"), 0);
    json_decref(out);
    /* who leaves soon: planned discharge before a date */
    list_param lp[16];
    size_t nl = ct_params("status=Admitted&planned_before=2026-09-01", lp);
    CT_OK(stays_list(e->core, &sb, id, lp, nl, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 0); /* c1 (planned 2026-08-10) was discharged */
    json_decref(out);
    nl = ct_params("planned_before=2026-09-01", lp);
    CT_OK(stays_list(e->core, &sb, id, lp, nl, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 1);
    json_decref(out);
    nl = ct_params("planned_before=soon", lp);
    assert_int_equal(stays_list(e->core, &sb, id, lp, nl, &out, &err), AMP_EBADREQ);
    assert_true(tu_has_field_error(&err, "planned_before", "date"));
    amp_err_clear(&err);
    /* occupancy now agrees with the counter */
    CT_OK(shelters_occupancy(e->core, &sb, id, NULL, 0, &out, &err), err);
    assert_int_equal(ct_i(out, "occupied"), 2);
    assert_int_equal(ct_i(out, "waiting"), 0);
    assert_int_equal(ct_i(json_object_get(json_object_get(out, "by_kind"), "Women"), "free"), 0);
    json_decref(out);
    /* capacity cannot drop below the places taken */
    json_t *patch = tu_json("{\"capacity\":{\"Women\":1,\"Children\":3}}");
    assert_int_equal(CARE_SYNC(&out, &err, shelters_update, e->core, &sb, id, patch, 1),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "capacity.Women", "min"));
    amp_err_clear(&err);
    json_decref(patch);
    /* a shelter worker of another organisation cannot discharge */
    principal other = ct_user("shelter-x", "org-a", ROLE_SHELTER);
    assert_int_equal(
        discharge(e, &other, ct_s(s2, "id"), "{\"discharge_reason\":\"Other\"}", NULL, &err),
        AMP_EFORBIDDEN);
    amp_err_clear(&err);
    json_decref(empty);
    json_decref(s1);
    json_decref(s2);
    json_decref(s3);
}

/* Two admissions racing for the last place: exactly one wins. */
static void test_admission_race(void **state)
{
    tu_env *e = *state;
    char id[40], cases[8][40];
    make_shelter(e, "{\"name\":\"Small\",\"capacity\":{\"Men\":1}}", id);
    principal sb = shelter_b();
    care_wait *w[8];
    amp_err errs[8];
    amp_code codes[8];
    for (int i = 0; i < 8; i++) {
        ct_case(e, "org-a", "", cases[i]);
        ct_grant(e, cases[i], "org-b");
    }
    for (int i = 0; i < 8; i++) {
        char body[400];
        snprintf(body, sizeof body, "{\"case\":\"%s\",\"place_kind\":\"Men\"}", cases[i]);
        json_t *b = tu_json(body);
        memset(&errs[i], 0, sizeof errs[i]);
        w[i] = care_wait_new();
        codes[i] = stays_admit(e->core, &sb, id, b, care_wait_done, w[i], &errs[i]);
        json_decref(b);
    }
    int won = 0, full = 0;
    for (int i = 0; i < 8; i++) {
        json_t *out = NULL;
        codes[i] = care_wait_end(w[i], codes[i], &out, &errs[i]);
        if (codes[i] == AMP_OK)
            won++;
        else if (codes[i] == AMP_ESTATE &&
                 tu_has_field_error(&errs[i], "place_kind", "over_capacity"))
            full++;
        json_decref(out);
        amp_err_clear(&errs[i]);
    }
    assert_int_equal(won, 1);
    assert_int_equal(full, 7);
    /* one person, admitted at the same time into four shelters: once */
    char more[4][40], person[40];
    ct_case(e, "org-b", "", person);
    for (int i = 0; i < 4; i++)
        make_shelter(e, "{\"name\":\"Big\",\"capacity\":{\"Men\":10}}", more[i]);
    for (int i = 0; i < 4; i++) {
        char body[400];
        snprintf(body, sizeof body, "{\"case\":\"%s\",\"place_kind\":\"Men\"}", person);
        json_t *b = tu_json(body);
        memset(&errs[i], 0, sizeof errs[i]);
        w[i] = care_wait_new();
        codes[i] = stays_admit(e->core, &sb, more[i], b, care_wait_done, w[i], &errs[i]);
        json_decref(b);
    }
    won = 0;
    int dup = 0;
    for (int i = 0; i < 4; i++) {
        json_t *out = NULL;
        codes[i] = care_wait_end(w[i], codes[i], &out, &errs[i]);
        won += codes[i] == AMP_OK;
        dup += codes[i] == AMP_ESTATE && tu_has_field_error(&errs[i], "case", "duplicate");
        json_decref(out);
        amp_err_clear(&errs[i]);
    }
    assert_int_equal(won, 1);
    assert_int_equal(dup, 3);
}

static void stay_at(tu_env *e, const char *shelter, const char *kind, const char *adm,
                    const char *dis, const char *reason)
{
    char cid[40], body[300];
    principal sb = shelter_b();
    amp_err err = {0};
    json_t *s = NULL;
    ct_case(e, "org-b", "", cid);
    snprintf(body, sizeof body, "{\"case\":\"%s\",\"place_kind\":\"%s\",\"admitted_on\":\"%s\"}",
             cid, kind, adm);
    CT_OK(admit(e, &sb, shelter, body, &s, &err), err);
    if (dis) {
        snprintf(body, sizeof body, "{\"discharged_on\":\"%s\",\"discharge_reason\":\"%s\"}", dis,
                 reason);
        CT_OK(discharge(e, &sb, ct_s(s, "id"), body, NULL, &err), err);
    }
    json_decref(s);
}

static void test_stats_and_occupancy_over_time(void **state)
{
    tu_env *e = *state;
    char id[40];
    make_shelter(e,
                 "{\"name\":\"Figures\",\"capacity\":{\"Women\":4,\"Children\":2},"
                 "\"cost_per_night\":{\"Women\":10,\"Children\":20},\"currency\":\"USD\"}",
                 id);
    /* lengths 30, 100, 200 and 250 days; one open stay */
    stay_at(e, id, "Women", "2026-01-01", "2026-01-31", "LeftOfOwnAccord");
    stay_at(e, id, "Women", "2026-01-01", "2026-04-11", "FamilyReintegration");
    stay_at(e, id, "Children", "2025-10-01", "2026-04-19", "FosterFamily");
    stay_at(e, id, "Women", "2025-09-01", "2026-05-09", "FamilyReintegration");
    stay_at(e, id, "Children", "2026-06-01", NULL, NULL);
    principal coord = ct_user("coord-a", "org-a", ROLE_COORDINATOR);
    amp_err err = {0};
    json_t *out = NULL;
    list_param ps[16];
    size_t n = ct_params("period=2026", ps);
    CT_OK(shelters_stats(e->core, &coord, ps, n, &out, &err), err);
    json_t *los = json_object_get(out, "length_of_stay");
    assert_int_equal(ct_i(los, "stays"), 4);
    assert_true(fabs(ct_n(los, "mean_days") - 145.0) < 1e-9);
    assert_true(fabs(ct_n(los, "median_days") - 150.0) < 1e-9);
    assert_true(fabs(ct_n(los, "min_days") - 30.0) < 1e-9);
    assert_true(fabs(ct_n(los, "max_days") - 250.0) < 1e-9);
    json_t *dist = json_object_get(los, "distribution");
    assert_int_equal(ct_i(json_array_get(dist, 0), "stays"), 0); /* under 1 month */
    assert_int_equal(ct_i(json_array_get(dist, 1), "stays"), 1); /* 30 days */
    assert_int_equal(ct_i(json_array_get(dist, 2), "stays"), 1); /* 100 days */
    assert_int_equal(ct_i(json_array_get(dist, 3), "stays"), 2); /* 200 and 250 */
    assert_int_equal(ct_i(json_object_get(out, "discharge_reasons"), "FamilyReintegration"), 2);
    assert_int_equal(ct_i(out, "admissions"), 3); /* admitted in 2026 */
    json_t *usd = json_object_get(json_object_get(out, "cost"), "USD");
    /* 30*10 + 100*10 + 200*20 + 250*10 = 7800 */
    assert_true(fabs(ct_n(usd, "total") - 7800) < 1e-9);
    assert_true(fabs(ct_n(usd, "per_stay") - 1950) < 1e-9);
    json_t *mine = json_array_get(json_object_get(out, "by_shelter"), 0);
    assert_string_equal(ct_s(mine, "name"), "Figures");
    assert_int_equal(ct_i(mine, "discharges"), 4);
    assert_true(fabs(ct_n(mine, "cost_per_stay") - 1950) < 1e-9);
    /* capacity 6 over 2026-01-01..2026-06-15 (166 days) */
    assert_true(fabs(ct_n(mine, "capacity_nights") - 6 * 166) < 1e-9);
    assert_true(fabs(ct_n(mine, "bed_nights") - ct_n(out, "bed_nights")) < 1e-9);
    json_decref(out);
    /* only the Children places */
    n = ct_params("period=2026&kind=Children", ps);
    CT_OK(shelters_stats(e->core, &coord, ps, n, &out, &err), err);
    assert_int_equal(ct_i(json_object_get(out, "length_of_stay"), "stays"), 1);
    json_decref(out);
    /* occupancy by day in January 2026: two women from 1 Jan, one child, one woman */
    n = ct_params("from=2026-01-01&to=2026-01-31&step=day", ps);
    CT_OK(shelters_occupancy(e->core, &coord, id, ps, n, &out, &err), err);
    json_t *items = json_object_get(out, "items");
    assert_int_equal(json_array_size(items), 31);
    assert_true(fabs(ct_n(json_array_get(items, 0), "average") - 4) < 1e-9);
    assert_true(fabs(ct_n(json_array_get(items, 30), "average") - 3) < 1e-9); /* one left 31 Jan */
    json_decref(out);
    n = ct_params("from=2026-01-01&to=2026-06-15&step=month", ps);
    CT_OK(shelters_occupancy(e->core, &coord, id, ps, n, &out, &err), err);
    items = json_object_get(out, "items");
    assert_int_equal(json_array_size(items), 6);
    assert_int_equal(ct_i(json_array_get(items, 5), "days"), 15);
    /* June 1-15: the open child stay, 15 nights */
    assert_true(fabs(ct_n(json_array_get(items, 5), "bed_nights") - 15) < 1e-9);
    json_decref(out);
    /* all shelters together, as the dashboard asks (analysts may) */
    principal an = ct_user("analyst", "", ROLE_ANALYST), au = ct_user("auditor", "", ROLE_AUDITOR);
    n = ct_params("from=2026-01-01&to=2026-01-31&step=week", ps);
    CT_OK(shelters_occupancy_all(e->core, &an, ps, n, &out, &err), err);
    assert_int_equal(ct_i(out, "shelters"), 1);
    assert_int_equal(ct_i(out, "capacity"), 6);
    items = json_object_get(out, "items");
    assert_int_equal(json_array_size(items), 5);
    assert_true(fabs(ct_n(json_array_get(items, 0), "bed_nights") - 28) < 1e-9); /* 4 x 7 days */
    json_decref(out);
    CT_OK(shelters_occupancy_all(e->core, &an, NULL, 0, &out, &err), err);
    assert_int_equal(ct_i(out, "occupied"), 1);
    json_decref(out);
    assert_int_equal(shelters_occupancy_all(e->core, &au, NULL, 0, &out, &err), AMP_EFORBIDDEN);
    amp_err_clear(&err);
    n = ct_params("from=2026-02-01&to=2026-01-01", ps);
    assert_int_equal(shelters_occupancy(e->core, &coord, id, ps, n, &out, &err), AMP_EBADREQ);
    amp_err_clear(&err);
    n = ct_params("period=2026-Q5", ps);
    assert_int_equal(shelters_stats(e->core, &coord, ps, n, &out, &err), AMP_EBADREQ);
    assert_true(tu_has_field_error(&err, "period", "period"));
    amp_err_clear(&err);
}

static void test_stay_scope_and_identity(void **state)
{
    tu_env *e = *state;
    char id[40], cid[40];
    make_shelter(e, SHELTER_BODY, id);
    ct_case(e, "org-a", "", cid);
    ct_grant(e, cid, "org-b");
    principal sb = shelter_b();
    amp_err err = {0};
    json_t *s = NULL, *out = NULL;
    char body[300];
    snprintf(body, sizeof body, "{\"case\":\"%s\",\"place_kind\":\"Children\",\"notes\":\"x\"}",
             cid);
    CT_OK(admit(e, &sb, id, body, &s, &err), err);
    /* the case owner's caseworker sees the stay; another organisation does not */
    principal cwa = ct_user("cw-a", "org-a", ROLE_CASEWORKER),
              cwc = ct_user("cw-c", "org-c", ROLE_CASEWORKER);
    CT_OK(stays_get(e->core, &cwa, ct_s(s, "id"), &out, &err), err);
    assert_string_equal(ct_s(out, "notes"), "x");
    json_decref(out);
    assert_int_equal(stays_get(e->core, &cwc, ct_s(s, "id"), &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    CT_OK(stays_list(e->core, &cwc, id, NULL, 0, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 0);
    json_decref(out);
    CT_OK(stays_of_case(e->core, &cwa, cid, &out, &err), err);
    assert_int_equal(ct_i(out, "total"), 1);
    json_decref(out);
    /* a role without identity access gets no notes and no address */
    principal mix = ct_user("x", "org-b", ROLE_SHELTER);
    (void)mix;
    json_t *patch = tu_json("{\"planned_discharge\":\"2026-01-01\"}");
    snprintf(body, sizeof body, "%s", ct_s(s, "id"));
    /* planned before admitted (today) */
    assert_int_equal(CARE_SYNC(&out, &err, stays_update, e->core, &sb, body, patch, 1),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "planned_discharge", "date_order"));
    amp_err_clear(&err);
    json_decref(patch);
    json_decref(s);
}

/* The whole chain: the caseworker refers the person to the shelter's
 * organisation (with consent), the shelter accepts, then admits. */
static void test_admission_after_referral(void **state)
{
    tu_env *e = *state;
    char id[40], cid[40];
    make_shelter(e, SHELTER_BODY, id);
    ct_case(e, "org-a",
            "\"con_Consent\":true,\"amp_ConsentScope\":[\"Registration\",\"Referral\"],"
            "\"amp_ConsentDate\":\"2026-06-01\"",
            cid);
    principal cw = ct_user("cw-a", "org-a", ROLE_CASEWORKER), sb = shelter_b();
    amp_err err = {0};
    json_t *out = NULL;
    char body[400];
    snprintf(body, sizeof body, "{\"case\":\"%s\",\"place_kind\":\"Women\"}", cid);
    assert_int_equal(admit(e, &sb, id, body, NULL, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    char ref[400];
    snprintf(ref, sizeof ref,
             "{\"case\":\"%s\",\"to_org\":\"org-b\",\"services\":[\"Shelter\"],"
             "\"urgency\":\"Emergency\",\"reason\":\"AdditionalServicesRequired\"}",
             cid);
    json_t *b = tu_json(ref);
    CT_OK(referrals_send(e->core, &cw, b, &out, &err), err);
    json_decref(b);
    char rid[40];
    snprintf(rid, sizeof rid, "%s", ct_s(out, "id"));
    json_decref(out);
    CT_OK(referrals_accept(e->core, &sb, rid, NULL, 0, &out, &err), err);
    json_decref(out);
    snprintf(body, sizeof body,
             "{\"case\":\"%s\",\"place_kind\":\"Women\",\"referred_by\":\"org-a\"}", cid);
    CT_OK(admit(e, &sb, id, body, &out, &err), err);
    assert_string_equal(ct_s(out, "status"), "Admitted");
    assert_string_equal(ct_s(out, "referred_by"), "org-a");
    json_decref(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_get_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_org_and_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admission_capacity_waiting_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admission_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_and_occupancy_over_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stay_scope_and_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admission_after_referral, setup, teardown),
    };
    return cmocka_run_group_tests_name("shelters", tests, NULL, NULL);
}
