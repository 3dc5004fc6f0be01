/* e2e_demo.c — the demo `make run` serves: `amparo demo --cases 300` then
 * `amparo demo --activity` on a new data directory, and what users of the demo
 * organisations then find through the API: a referral inbox, a case shared by
 * an accepted referral (and one still awaiting an answer kept out of reach),
 * the directory, occupied shelters, trainings whose counts add up, hotline
 * contacts turned into cases, identification decisions, provinces of the places
 * of exploitation; and a second
 * `--activity` run refused without adding anything. */
#include "e2e_util.h"

static const char *const demo_users[][3] = {
    {"demo-cw-sm", "ec-acogida-santa-marta", "caseworker"},
    {"demo-shelter", "ec-acogida-santa-marta", "shelter"},
    {"demo-cw-alas", "ec-fundacion-alas", "caseworker"},
    {"demo-coord", "ec-fundacion-alas", "coordinator"},
    {"demo-hotline", "ec-fundacion-alas", "hotline"},
};

static int run_demo(const char *what, const char *arg)
{
    char *argv[] = {(char *)srv.bin, "demo", "--data", srv.data, (char *)what, (char *)arg, NULL};
    int st = run_tool(argv);
    return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The server, stopped while the demo is loaded into its data directory (as
 * `make run` does before serving), then the demo organisations' users. */
static int demo_setup(void **state)
{
    if (group_setup(state) != 0)
        return -1;
    if (server_terminate() < 0)
        return -1;
    if (run_demo("--cases", "300") != 0 || run_demo("--activity", NULL) != 0) {
        dump_log("amparo demo");
        return -1;
    }
    if (server_launch() != 0)
        return -1;
    e2e_as("admin");
    for (size_t i = 0; i < sizeof demo_users / sizeof *demo_users; i++) {
        resp r;
        SEND(&r, "POST", "/api/v1/users",
             pf("{\"username\": \"%s\", \"org\": \"%s\", \"roles\": [\"%s\"], "
                "\"password\": \"%s\"}",
                demo_users[i][0], demo_users[i][1], demo_users[i][2], E2E_PASSWORD),
             NULL);
        long st = r.status;
        resp_free(&r);
        if (st != 201)
            return -1;
    }
    return 0;
}

static json_int_t total_of(const char *path)
{
    resp r;
    GET(&r, path);
    EXPECT_STATUS(&r, 200);
    json_int_t n = jint(r.json, "total");
    resp_free(&r);
    return n;
}

static void test_inbox_and_shared_case(void **state)
{
    (void)state;
    e2e_as("demo-cw-sm");
    resp r;
    GET(&r, "/api/v1/referrals?box=inbox&limit=500");
    EXPECT_STATUS(&r, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_true(json_array_size(items) > 0);
    size_t i;
    json_t *it;
    char shared[64] = "", pending[64] = "";
    json_array_foreach (items, i, it) {
        assert_string_equal(jstr(it, "to_org"), "ec-acogida-santa-marta");
        assert_non_null(jstr(it, "sent_at"));
        assert_true(strcmp(jstr(it, "sent_at"), TEST_TODAY "T23:59:59Z") < 0);
        const char *st = jstr(it, "status");
        if (!shared[0] && (strcmp(st, "Accepted") == 0 || strcmp(st, "Completed") == 0))
            snprintf(shared, sizeof shared, "%s", jstr(it, "case"));
        if (!pending[0] && strcmp(st, "Sent") == 0)
            snprintf(pending, sizeof pending, "%s", jstr(it, "case"));
    }
    resp_free(&r);
    assert_true(shared[0]); /* at least one accepted referral */
    /* accepting granted the shelter organisation access to the case */
    GET(&r, pf("/api/v1/cases/%s", shared));
    EXPECT_STATUS(&r, 200);
    assert_string_not_equal(jstr(r.json, "amp_OwnerOrganisation"), "ec-acogida-santa-marta");
    resp_free(&r);
    if (pending[0]) { /* not before an answer */
        GET(&r, pf("/api/v1/cases/%s", pending));
        expect_error(&r, 404, NULL);
        resp_free(&r);
    }
}

static void test_referral_states(void **state)
{
    (void)state;
    e2e_as("demo-coord");
    resp r;
    GET(&r, "/api/v1/referrals?limit=500");
    EXPECT_STATUS(&r, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_true(json_array_size(items) >= 8);
    int accepted = 0, completed = 0, closed_unserved = 0, cross = 0;
    size_t i;
    json_t *it;
    json_array_foreach (items, i, it) {
        const char *st = jstr(it, "status");
        accepted += strcmp(st, "Accepted") == 0;
        completed += strcmp(st, "Completed") == 0;
        closed_unserved += strcmp(st, "Declined") == 0 || strcmp(st, "Cancelled") == 0;
        cross += json_is_true(json_object_get(it, "cross_border"));
    }
    resp_free(&r);
    assert_true(accepted > 0);
    assert_true(completed > 0);
    assert_true(closed_unserved > 0);
    (void)cross;
    /* the directory lists every demo organisation */
    assert_true(total_of("/api/v1/directory?limit=100") >= 19);
    assert_true(total_of("/api/v1/directory?service=Shelter&country=PE") >= 1);
}

static void test_shelters_occupied(void **state)
{
    (void)state;
    e2e_as("demo-shelter");
    resp r;
    GET(&r, "/api/v1/shelters");
    EXPECT_STATUS(&r, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    json_int_t occupied = 0, stays = 0;
    size_t i;
    json_t *it;
    json_array_foreach (items, i, it) {
        assert_string_equal(jstr(it, "org"), "ec-acogida-santa-marta");
        occupied += jint(it, "occupied_total");
        stays += total_of(pf("/api/v1/shelters/%s/stays", jstr(it, "id")));
    }
    resp_free(&r);
    assert_true(occupied > 0);
    assert_true(stays >= occupied);
}

static void test_trainings_add_up(void **state)
{
    (void)state;
    e2e_as("demo-coord");
    resp r;
    GET(&r, "/api/v1/trainings?limit=100");
    EXPECT_STATUS(&r, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_true(json_array_size(items) >= 6);
    json_int_t sum = 0;
    size_t i;
    json_t *it;
    json_array_foreach (items, i, it) {
        json_int_t n = jint(it, "participants"), by_sex = 0, by_org = 0;
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get(it, "participants_by_sex"), k, v)
            by_sex += json_integer_value(v);
        json_object_foreach (json_object_get(it, "participants_by_org_type"), k, v)
            by_org += json_integer_value(v);
        assert_true(n > 0);
        assert_int_equal(by_sex, n);
        assert_int_equal(by_org, n);
        assert_true(strcmp(jstr(it, "start_date"), TEST_TODAY) <= 0);
        sum += n;
    }
    resp_free(&r);
    GET(&r, "/api/v1/trainings/stats");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "participants"), sum);
    resp_free(&r);
}

static void test_hotline_and_decisions(void **state)
{
    (void)state;
    e2e_as("demo-hotline");
    resp r;
    GET(&r, "/api/v1/hotline/contacts?limit=500");
    EXPECT_STATUS(&r, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_true(json_array_size(items) >= 15);
    char opened[64] = "";
    size_t i;
    json_t *it;
    json_array_foreach (items, i, it)
        if (!opened[0] && jstr(it, "case"))
            snprintf(opened, sizeof opened, "%s", jstr(it, "case"));
    resp_free(&r);
    assert_true(opened[0]);
    /* the case a contact became belongs to the hotline's organisation */
    e2e_as("demo-cw-alas");
    GET(&r, pf("/api/v1/cases/%s", opened));
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "amp_OwnerOrganisation"), "ec-fundacion-alas");
    resp_free(&r);
    /* identification decisions on the office's recent cases */
    GET(&r, "/api/v1/cases?owner=ec-fundacion-alas&registered_from=2026-01-01&limit=200");
    EXPECT_STATUS(&r, 200);
    json_t *cases = json_incref(json_object_get(r.json, "items"));
    resp_free(&r);
    size_t decisions = 0;
    json_array_foreach (cases, i, it) {
        GET(&r, pf("/api/v1/cases/%s/decisions", jstr(it, "id")));
        EXPECT_STATUS(&r, 200);
        json_t *d = json_object_get(r.json, "items");
        decisions += json_array_size(d);
        if (json_array_size(d))
            assert_string_equal(jstr(json_array_get(d, 0), "kind"), "Initial");
        resp_free(&r);
    }
    json_decref(cases);
    assert_true(decisions > 0);
}

static void test_second_run_adds_nothing(void **state)
{
    (void)state;
    e2e_as("demo-coord");
    json_int_t refs = total_of("/api/v1/referrals?limit=1");
    json_int_t trainings = total_of("/api/v1/trainings?limit=1");
    assert_true(refs > 0);
    assert_int_equal(run_demo("--activity", NULL), 1);
    assert_int_equal(total_of("/api/v1/referrals?limit=1"), refs);
    assert_int_equal(total_of("/api/v1/trainings?limit=1"), trainings);
    e2e_as("demo-shelter");
    assert_int_equal(total_of("/api/v1/shelters"), 2);
}

/* Places of exploitation carry their province, so the province dimension (the
 * NRM pack's "by quarter and province") has figures, not only "_none". */
static void test_provinces(void **state)
{
    (void)state;
    e2e_as("demo-coord");
    resp r;
    GET(&r, "/api/v1/reports/crosstab?dims=province");
    EXPECT_STATUS(&r, 200);
    json_int_t named = 0, total = 0;
    size_t i;
    json_t *c;
    json_array_foreach (json_object_get(r.json, "cells"), i, c) {
        const json_t *key = json_array_get(json_object_get(c, "keys"), 0);
        json_int_t n = json_integer_value(json_object_get(c, "count"));
        total += n;
        if (json_is_string(key) && strcmp(json_string_value(key), "_none") != 0)
            named += n;
    }
    resp_free(&r);
    assert_true(total > 0);
    assert_true(named * 2 > total); /* most cases name a city of a known country */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inbox_and_shared_case),
        cmocka_unit_test(test_referral_states),
        cmocka_unit_test(test_shelters_occupied),
        cmocka_unit_test(test_trainings_add_up),
        cmocka_unit_test(test_provinces),
        cmocka_unit_test(test_hotline_and_decisions),
        cmocka_unit_test(test_second_run_adds_nothing),
        cmocka_unit_test(test_sigterm_exits_cleanly),
    };
    return cmocka_run_group_tests_name("e2e_demo", tests, demo_setup, group_teardown);
}
