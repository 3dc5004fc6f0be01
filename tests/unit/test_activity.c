/* test_activity.c — the demo activity (src/demo/activity.c) on 300 demo cases:
 * the same seed gives the same activity; every referral sent is one the
 * case's consent allows, while the core refused others; accepted referrals
 * shared their case with the receiver; criminal proceedings have stages in
 * order, dated after the case's registration, and a verdict only at the verdict
 * stage; reminders are set and some done; a second run is refused and adds
 * nothing; a data directory without demo cases is refused. */
#include "testutil.h"

#include "core/consent.h"
#include "core/lifecycle.h"
#include "core/proceedings.h"
#include "core/referrals.h"
#include "core/shelters.h"
#include "core/trainings.h"
#include "demo/activity.h"
#include "demo/demo.h"

static void load_demo(tu_env *e, int ncases)
{
    demo_gen *g = demo_gen_new(2026, TEST_TODAY);
    json_t *orgs = demo_gen_organisations(g);
    amp_err err = {0};
    size_t i;
    json_t *org;
    json_array_foreach (orgs, i, org)
        if (orgs_put(e->core, &e->who, org, NULL, &err) != AMP_OK)
            fail_msg("organisation: %s", err.message);
    json_decref(orgs);
    assert_int_equal(store_bulk_begin(e->store), STORE_OK);
    for (int k = 0; k < ncases; k++) {
        json_t *c = demo_gen_case(g);
        if (cases_bulk_insert(e->core, &e->who, c, &err) != AMP_OK)
            fail_msg("case %d: %s", k, err.message);
        json_decref(c);
    }
    assert_int_equal(store_bulk_end(e->store, true), STORE_OK);
    demo_gen_free(g);
}

static amp_code run_activity(tu_env *e, demo_activity_counts *n, amp_err *err)
{
    amp_code code = demo_activity_run(e->core, 7, TEST_TODAY, n, err);
    clock_set_today(TEST_TODAY); /* the run gives the clock back to real time */
    return code;
}

static json_t *all_referrals(tu_env *e)
{
    list_param params[] = {{"limit", "500"}};
    json_t *out = NULL;
    amp_err err = {0};
    if (referrals_list(e->core, &e->who, params, 1, &out, &err) != AMP_OK)
        fail_msg("referrals: %s", err.message);
    return out;
}

static void test_same_seed_same_activity(void **state)
{
    (void)state;
    tu_env *a = tu_env_new(), *b = tu_env_new();
    load_demo(a, 300);
    load_demo(b, 300);
    demo_activity_counts na, nb;
    amp_err err = {0};
    if (run_activity(a, &na, &err) != AMP_OK || run_activity(b, &nb, &err) != AMP_OK)
        fail_msg("activity: %s", err.message);
    assert_memory_equal(&na, &nb, sizeof na);
    assert_true(na.referrals >= 5);
    assert_true(na.accepted + na.completed > 0);
    assert_int_equal(na.shelters, 2);
    assert_true(na.admitted > 0);
    assert_true(na.trainings >= 6);
    assert_true(na.contacts >= 15);
    assert_true(na.contacts_to_cases >= 2);
    assert_true(na.decisions > 0);
    assert_int_equal(na.directory, 19);
    /* the referrals themselves are the same: same cases, receivers, states */
    json_t *ra = all_referrals(a), *rb = all_referrals(b);
    assert_int_equal(json_integer_value(json_object_get(ra, "total")), na.referrals);
    size_t i;
    json_t *x;
    json_array_foreach (json_object_get(ra, "items"), i, x) {
        json_t *y = json_array_get(json_object_get(rb, "items"), i);
        assert_non_null(y);
        assert_string_equal(json_string_value(json_object_get(x, "case_reference")),
                            json_string_value(json_object_get(y, "case_reference")));
        assert_string_equal(json_string_value(json_object_get(x, "to_org")),
                            json_string_value(json_object_get(y, "to_org")));
        assert_string_equal(json_string_value(json_object_get(x, "status")),
                            json_string_value(json_object_get(y, "status")));
        assert_string_equal(json_string_value(json_object_get(x, "sent_at")),
                            json_string_value(json_object_get(y, "sent_at")));
    }
    json_decref(ra);
    json_decref(rb);
    tu_env_free(a);
    tu_env_free(b);
}

static void test_consent_and_sharing(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    load_demo(e, 300);
    demo_activity_counts n;
    amp_err err = {0};
    if (run_activity(e, &n, &err) != AMP_OK)
        fail_msg("activity: %s", err.message);
    assert_true(n.refused_consent > 0); /* the core said no to some */
    json_t *refs = all_referrals(e);
    size_t i;
    json_t *r;
    int shared = 0;
    json_array_foreach (json_object_get(refs, "items"), i, r) {
        const char *case_id = json_string_value(json_object_get(r, "case"));
        const char *to = json_string_value(json_object_get(r, "to_org"));
        const char *sent = json_string_value(json_object_get(r, "sent_at"));
        const char *status = json_string_value(json_object_get(r, "status"));
        store_row row;
        assert_int_equal(cases_access(e->core, &e->who, case_id, ACT_READ, &row, &err), AMP_OK);
        char day[11];
        snprintf(day, sizeof day, "%s", sent);
        bool cross = json_is_true(json_object_get(r, "cross_border"));
        assert_true(consent_allows(row.doc, cross ? CONSENT_CROSS_BORDER : CONSENT_REFERRAL, day));
        /* sent after the case was registered, and not after today */
        const char *reg = json_string_value(json_object_get(row.doc, "amp_RegistrationDate"));
        assert_true(strcmp(reg, day) < 0);
        assert_true(strcmp(day, TEST_TODAY) <= 0);
        store_row_release(&row);
        /* accepted: the receiver's caseworker now reads the case */
        principal cw = {.actor = "cw", .lang = "en", .roles = ROLE_CASEWORKER};
        snprintf(cw.org, sizeof cw.org, "%s", to);
        amp_code code = cases_access(e->core, &cw, case_id, ACT_READ, NULL, &err);
        amp_err_clear(&err);
        if (strcmp(status, "Accepted") == 0 || strcmp(status, "Completed") == 0) {
            assert_int_equal(code, AMP_OK);
            shared++;
        } else if (strcmp(status, "Sent") == 0) {
            assert_int_equal(code, AMP_ENOTFOUND);
        }
    }
    assert_true(shared > 0);
    json_decref(refs);
    tu_env_free(e);
}

static void test_proceedings_and_reminders(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    load_demo(e, 600);
    demo_activity_counts n;
    amp_err err = {0};
    if (run_activity(e, &n, &err) != AMP_OK)
        fail_msg("activity: %s", err.message);
    assert_true(n.proceedings > 0);
    assert_true(n.reminders > 0 && n.reminders_done > 0 && n.reminders_done <= n.reminders);
    list_param params[] = {{"limit", "500"}};
    json_t *out = NULL;
    assert_int_equal(proceedings_list(e->core, &e->who, params, 1, &out, &err), AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "total")), n.proceedings);
    size_t i;
    json_t *pr;
    long verdicts = 0;
    json_array_foreach (json_object_get(out, "items"), i, pr) {
        const json_t *stages = json_object_get(pr, "stages");
        assert_true(json_array_size(stages) >= 1);
        const char *prev = "";
        size_t k;
        json_t *st;
        json_array_foreach (stages, k, st) {
            const char *d = json_string_value(json_object_get(st, "date"));
            assert_true(strcmp(prev, d) < 0 && strcmp(d, TEST_TODAY) <= 0);
            prev = d;
        }
        const char *stage = json_string_value(json_object_get(pr, "stage"));
        bool has_verdict = json_object_get(pr, "verdict") != NULL;
        assert_int_equal(has_verdict, strcmp(stage, "Verdict") == 0);
        verdicts += has_verdict;
        store_row row;
        const char *case_id = json_string_value(json_object_get(pr, "case"));
        assert_int_equal(cases_access(e->core, &e->who, case_id, ACT_READ, &row, &err), AMP_OK);
        const char *reg = json_string_value(json_object_get(row.doc, "amp_RegistrationDate"));
        const char *first = json_string_value(json_object_get(json_array_get(stages, 0), "date"));
        assert_true(strcmp(reg, first) < 0);
        store_row_release(&row);
    }
    assert_int_equal(verdicts, n.verdicts);
    json_decref(out);
    /* the reminders still open are the organisations' FollowUp tasks */
    list_param follow[] = {{"limit", "500"}, {"kind", "FollowUp"}};
    assert_int_equal(tasks_list(e->core, &e->who, follow, 2, &out, &err), AMP_OK);
    assert_int_equal((long)json_array_size(json_object_get(out, "items")),
                     n.reminders - n.reminders_done);
    json_decref(out);
    tu_env_free(e);
}

static void test_second_run_refused(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    load_demo(e, 300);
    demo_activity_counts n, again;
    amp_err err = {0};
    if (run_activity(e, &n, &err) != AMP_OK)
        fail_msg("activity: %s", err.message);
    memset(&again, 0xff, sizeof again);
    assert_int_equal(run_activity(e, &again, &err), AMP_ESTATE);
    assert_non_null(strstr(err.message, "already"));
    amp_err_clear(&err);
    json_t *refs = all_referrals(e);
    assert_int_equal(json_integer_value(json_object_get(refs, "total")), n.referrals);
    json_decref(refs);
    list_param one[] = {{"limit", "100"}};
    json_t *out = NULL;
    assert_int_equal(shelters_list(e->core, &e->who, one, 1, &out, &err), AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 2);
    json_decref(out);
    assert_int_equal(trainings_list(e->core, &e->who, one, 1, &out, &err), AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "total")), n.trainings);
    json_decref(out);
    tu_env_free(e);
}

static void test_no_demo_cases_refused(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    demo_activity_counts n;
    amp_err err = {0};
    assert_int_equal(run_activity(e, &n, &err), AMP_ESTATE);
    assert_non_null(strstr(err.message, "--cases"));
    amp_err_clear(&err);
    tu_env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_activity),
        cmocka_unit_test(test_consent_and_sharing),
        cmocka_unit_test(test_proceedings_and_reminders),
        cmocka_unit_test(test_second_run_refused),
        cmocka_unit_test(test_no_demo_cases_refused),
    };
    return cmocka_run_group_tests_name("activity", tests, NULL, NULL);
}
