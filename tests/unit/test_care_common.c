/* test_care_common.c — the shared machinery of the care modules: periods, date
 * arithmetic, field validation, merge patches, list parameters and the
 * picklists data. */
#include "care_testutil.h"

static tu_env *env;

static int group_setup(void **state)
{
    (void)state;
    env = tu_env_new();
    ct_world(env);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tu_env_free(env);
    return 0;
}

static void test_periods(void **state)
{
    (void)state;
    care_period p;
    static const struct {
        const char *in, *from, *to;
    } ok[] = {
        {"2026", "2026-01-01", "2026-12-31"},
        {"2024-Q1", "2024-01-01", "2024-03-31"},
        {"2026-Q4", "2026-10-01", "2026-12-31"},
        {"2026-H1", "2026-01-01", "2026-06-30"},
        {"2026-H2", "2026-07-01", "2026-12-31"},
        {"2024-02", "2024-02-01", "2024-02-29"},
        {"2025-02", "2025-02-01", "2025-02-28"},
        {"2026-05-03", "2026-05-03", "2026-05-03"},
        {"2026-01-15..2026-02-10", "2026-01-15", "2026-02-10"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        assert_int_equal(care_period_parse(ok[i].in, &p), 0);
        assert_string_equal(p.from, ok[i].from);
        assert_string_equal(p.to, ok[i].to);
        assert_string_equal(p.label, ok[i].in);
    }
    static const char *const bad[] = {"",
                                      "26",
                                      "2026-Q5",
                                      "2026-Q0",
                                      "2026-H3",
                                      "2026-13",
                                      "2026-00",
                                      "2026-02-30",
                                      "1800",
                                      "2026-02..x",
                                      "2026-03-01..2026-02-01",
                                      "2026-Q1x",
                                      "２０２６",
                                      "2026-1",
                                      "2026..2027"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (care_period_parse(bad[i], &p) == 0)
            fail_msg("'%s' was accepted as a period", bad[i]);
    }
    assert_int_equal(care_period_parse(NULL, &p), -1);
}

static void test_dates(void **state)
{
    (void)state;
    char out[11];
    assert_int_equal(care_days("1970-01-01"), 0);
    assert_int_equal(care_days("2026-06-15") - care_days("2026-01-01"), 165);
    assert_int_equal(care_days("2024-03-01") - care_days("2024-02-28"), 2);
    assert_int_equal(care_days("nope"), INT32_MIN);
    for (int32_t d = care_days("1999-12-25"); d < care_days("2001-01-10"); d += 17) {
        care_date(d, out);
        assert_int_equal(care_days(out), d);
    }
    care_add_months("2026-01-31", 1, out);
    assert_string_equal(out, "2026-02-28");
    care_add_months("2025-08-31", 6, out);
    assert_string_equal(out, "2026-02-28");
    care_add_months("2026-06-15", -12, out);
    assert_string_equal(out, "2025-06-15");
    care_add_months("2026-11-30", 14, out);
    assert_string_equal(out, "2028-01-30");
    assert_int_equal(care_age_on("2008-06-16", "2026-06-15"), 17);
    assert_int_equal(care_age_on("2008-06-15", "2026-06-15"), 18);
    double v[] = {5, 1, 4, 2};
    assert_true(fabs(care_median(v, 4) - 3) < 1e-9);
    assert_true(fabs(care_median(v, 3) - 2) < 1e-9); /* the sorted first three: 1 2 4 */
    assert_true(fabs(care_median(NULL, 0)) < 1e-9);
}

static const care_field sub_fields[] = {
    {"n", CF_INT, CF_REQ, NULL, 1, 5, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const care_field fields[] = {
    {"s", CF_STRING, CF_REQ, NULL, 0, 5, NULL},
    {"t", CF_TEXT, 0, NULL, 0, 0, NULL},
    {"d", CF_DATE, CF_NOFUTURE, NULL, 0, 0, NULL},
    {"i", CF_INT, 0, NULL, 0, 10, NULL},
    {"x", CF_NUMBER, 0, NULL, -1, 1, NULL},
    {"b", CF_BOOL, 0, NULL, 0, 0, NULL},
    {"p", CF_PICK, 0, "place_kinds", 0, 0, NULL},
    {"m", CF_MULTI, 0, "place_kinds", 0, 2, NULL},
    {"c", CF_COUNTRY, 0, NULL, 0, 0, NULL},
    {"o", CF_ORG, 0, NULL, 0, 0, NULL},
    {"os", CF_ORGS, 0, NULL, 0, 0, NULL},
    {"u", CF_UID, 0, NULL, 0, 0, NULL},
    {"cur", CF_CURRENCY, 0, NULL, 0, 0, NULL},
    {"k", CF_COUNTS, 0, "place_kinds", 0, 0, NULL},
    {"a", CF_AMOUNTS, 0, "place_kinds", 0, 0, NULL},
    {"l", CF_OBJECTS, 0, NULL, 0, 2, sub_fields},
    {"lab", CF_LABEL, 0, NULL, 0, 0, NULL},
    {"obj", CF_OBJECT, 0, NULL, 0, 2, NULL},
    {"srv", CF_INT, CF_SERVER, NULL, 0, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static void test_validation(void **state)
{
    (void)state;
    principal p = ct_user("u", "org-a", ROLE_CASEWORKER);
    amp_err err = {0};
    json_t *doc = tu_json(
        "{\"s\":\"abc\",\"t\":\"line\\nline\",\"d\":\"2026-06-15\",\"i\":3,\"x\":-0.5,\"b\":true,"
        "\"p\":\"Women\",\"m\":[\"Men\",\"Women\"],\"c\":\"EC\",\"o\":\"org-b\",\"os\":[\"org-a\"],"
        "\"u\":\"01a2337a-51f3-758a-b5cf-0ab2c17cb3be\",\"cur\":\"USD\",\"k\":{\"Women\":2},"
        "\"a\":{\"Men\":2.5},\"l\":[{\"n\":2}],\"lab\":{\"en\":\"x\",\"fr\":\"y\"},\"obj\":{}}");
    assert_int_equal(care_validate(env->core, &p, fields, doc, false, NULL, NULL, TEST_TODAY, &err),
                     0);
    json_decref(doc);
    doc = tu_json("{\"s\":\"abcdef\",\"t\":\"a\\u0001b\",\"d\":\"2026-06-16\",\"i\":3.5,\"x\":2,"
                  "\"b\":\"yes\",\"p\":\"Boats\",\"m\":[\"Men\",\"Men\",\"Women\"],\"c\":\"XX\","
                  "\"o\":\"nobody\",\"os\":[\"org-a\",\"org-a\"],\"u\":\"123\",\"cur\":\"usd\","
                  "\"k\":{\"Women\":-1,\"Cats\":1},\"a\":{\"Men\":\"2\"},\"l\":[{\"n\":9},3,{}],"
                  "\"lab\":{\"fr\":\"y\"},\"obj\":{\"a\":1,\"b\":2,\"c\":3},\"srv\":1,"
                  "\"zzz\":null}");
    care_validate(env->core, &p, fields, doc, false, NULL, "x.", TEST_TODAY, &err);
    static const char *const expected[][2] = {
        {"x.s", "max_length"},
        {"x.t", "control_characters"},
        {"x.d", "not_future"},
        {"x.i", "integer"},
        {"x.x", "max"},
        {"x.b", "type"},
        {"x.p", "picklist"},
        {"x.m", "max_items"},
        {"x.c", "country"},
        {"x.o", "lookup"},
        {"x.os[1]", "duplicate"},
        {"x.u", "uid"},
        {"x.cur", "currency"},
        {"x.k.Women", "min"},
        {"x.k.Cats", "picklist"},
        {"x.a.Men", "type"},
        {"x.l", "max_items"},
        {"x.lab", "required"},
        {"x.obj", "max_items"},
        {"x.srv", "read_only"},
        {"x.zzz", "unknown_field"},
    };
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++) {
        if (!tu_has_field_error(&err, expected[i][0], expected[i][1]))
            fail_msg("no %s error on %s", expected[i][1], expected[i][0]);
    }
    amp_err_clear(&err);
    json_decref(doc);
    /* array elements of objects, and required fields */
    doc = tu_json("{\"l\":[{\"n\":9},3]}");
    care_validate(env->core, &p, fields, doc, false, NULL, NULL, TEST_TODAY, &err);
    assert_true(tu_has_field_error(&err, "l[0].n", "max"));
    assert_true(tu_has_field_error(&err, "l[1]", "type"));
    assert_true(tu_has_field_error(&err, "s", "required"));
    amp_err_clear(&err);
    /* partial: no required check */
    assert_int_equal(care_validate(env->core, &p, fields, doc, true, NULL, NULL, TEST_TODAY, &err),
                     2);
    amp_err_clear(&err);
    json_decref(doc);
    /* messages follow the caller's language */
    principal es = p;
    snprintf(es.lang, sizeof es.lang, "es");
    doc = tu_json("{\"s\":\"a\",\"d\":\"2026-06-01\",\"i\":2}");
    care_field_error(&err, &es, "discharged_on", "date_order", "admitted_on");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(err.fields, 0), "message")),
        "discharged_on no puede ser anterior a admitted_on");
    care_invalid(&err, &es);
    assert_non_null(strstr(err.message, "campo"));
    amp_err_clear(&err);
    json_decref(doc);
}

static void test_merge_and_filter(void **state)
{
    (void)state;
    json_t *doc = tu_json("{\"a\":1,\"o\":{\"x\":1,\"y\":2},\"n\":\"secret\"}");
    json_t *patch = tu_json("{\"a\":null,\"o\":{\"y\":null,\"z\":3},\"version\":4,\"b\":[1]}");
    json_t *m = care_merge(doc, patch);
    json_t *want = tu_json("{\"o\":{\"x\":1,\"z\":3},\"n\":\"secret\",\"b\":[1]}");
    assert_true(json_equal(m, want));
    json_decref(m);
    json_decref(want);
    static const care_field f[] = {
        {"n", CF_TEXT, CF_IDENTITY, NULL, 0, 0, NULL},
        {NULL, 0, 0, NULL, 0, 0, NULL},
    };
    json_t *hidden = care_filter(f, doc, true);
    assert_null(json_object_get(hidden, "n"));
    assert_non_null(json_object_get(hidden, "a"));
    json_decref(hidden);
    json_decref(doc);
    json_decref(patch);
}

static void test_params(void **state)
{
    (void)state;
    principal p = ct_user("u", "org-a", ROLE_CASEWORKER);
    amp_err err = {0};
    static const char *const known[] = {"from", "period", NULL};
    static const char *const dates[] = {"from", NULL};
    list_param ps[16];
    size_t n = ct_params("limit=501&offset=-1&from=2026-02-30&period=2026-Q9&what=1", ps);
    int limit, offset;
    assert_int_equal(care_params_check(&p, ps, n, known, dates, &limit, &offset, &err),
                     AMP_EBADREQ);
    assert_true(tu_has_field_error(&err, "limit", "limit"));
    assert_true(tu_has_field_error(&err, "offset", "offset"));
    assert_true(tu_has_field_error(&err, "from", "date"));
    assert_true(tu_has_field_error(&err, "period", "period"));
    assert_true(tu_has_field_error(&err, "what", "unknown_parameter"));
    amp_err_clear(&err);
    n = ct_params("limit=2&offset=1", ps);
    assert_int_equal(care_params_check(&p, ps, n, known, dates, &limit, &offset, &err), AMP_OK);
    assert_int_equal(limit, 2);
    assert_int_equal(offset, 1);
    json_t *items = tu_json("[1,2,3,4]");
    json_t *page = care_page(items, limit, offset);
    assert_int_equal(ct_i(page, "total"), 4);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(page, "items"), 0)), 2);
    assert_int_equal(json_array_size(json_object_get(page, "items")), 2);
    json_decref(page);
    care_period per;
    n = ct_params("from=2026-05-01&to=2026-04-01", ps);
    assert_int_equal(care_period_from_params(&p, ps, n, TEST_TODAY, &per, &err), AMP_EBADREQ);
    assert_true(tu_has_field_error(&err, "to", "date_order"));
    amp_err_clear(&err);
    n = ct_params("from=2026-05-01", ps);
    assert_int_equal(care_period_from_params(&p, ps, n, TEST_TODAY, &per, &err), AMP_OK);
    assert_string_equal(per.to, TEST_TODAY);
}

/* Every picklist and value has labels in the four languages; names are unique. */
static void test_picklists_data(void **state)
{
    (void)state;
    static const char *const langs[] = {"en", "es", "fr", "uk"};
    const json_t *all = json_object_get(care_picklists(), "picklists");
    assert_true(json_object_size(all) >= 20);
    const char *name;
    json_t *pl;
    json_object_foreach ((json_t *)all, name, pl) {
        for (int l = 0; l < 4; l++) {
            if (!json_string_value(json_object_get(json_object_get(pl, "label"), langs[l])))
                fail_msg("picklist %s has no %s label", name, langs[l]);
        }
        size_t i, j;
        json_t *v, *w;
        json_array_foreach (json_object_get(pl, "values"), i, v) {
            for (int l = 0; l < 4; l++) {
                if (!json_string_value(json_object_get(json_object_get(v, "label"), langs[l])))
                    fail_msg("%s.%s has no %s label", name, ct_s(v, "name"), langs[l]);
            }
            json_array_foreach (json_object_get(pl, "values"), j, w) {
                if (j < i && strcmp(ct_s(v, "name"), ct_s(w, "name")) == 0)
                    fail_msg("%s.%s twice", name, ct_s(v, "name"));
            }
        }
    }
    assert_true(care_picklist_has("place_kinds", "Families"));
    assert_false(care_picklist_has("place_kinds", "families"));
    assert_true(json_is_true(
        json_object_get(care_picklist_value("participant_org_types", "Judiciary"), "official")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_periods),    cmocka_unit_test(test_dates),
        cmocka_unit_test(test_validation), cmocka_unit_test(test_merge_and_filter),
        cmocka_unit_test(test_params),     cmocka_unit_test(test_picklists_data),
    };
    return cmocka_run_group_tests_name("care common", tests, group_setup, group_teardown);
}
