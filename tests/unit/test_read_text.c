/* test_read_text.c — the read fast path (cases_get_text) gives byte for byte the
 * JSON that the general path (cases_get + json_dumps) gives. */
#include "testutil.h"

#include "util/buf.h"

static void expect_same(tu_env *e, const char *key)
{
    amp_err err = {0};
    json_t *rec = NULL;
    assert_int_equal(cases_get(e->core, &e->who, key, &rec, &err), AMP_OK);
    char *want = json_dumps(rec, JSON_COMPACT);
    char *text = NULL;
    size_t len = 0;
    int64_t version = 0;
    assert_int_equal(cases_get_text(e->core, &e->who, key, &text, &len, &version, &err), AMP_OK);
    assert_string_equal(text, want);
    assert_int_equal(len, strlen(want));
    assert_int_equal(version, json_integer_value(json_object_get(rec, "version")));
    free(text);
    free(want);
    json_decref(rec);
}

/* The answer to a create (built as text by the core) is byte for byte what a
 * later read of the same case gives. */
static void expect_create_answer_same(tu_env *e, const json_t *created)
{
    amp_err err = {0};
    char *want = json_dumps(created, JSON_COMPACT);
    char *text = NULL;
    size_t len = 0;
    int64_t version = 0;
    assert_int_equal(cases_get_text(e->core, &e->who,
                                    json_string_value(json_object_get(created, "id")), &text, &len,
                                    &version, &err),
                     AMP_OK);
    assert_string_equal(want, text);
    free(text);
    free(want);
}

static void test_minimal_case(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    json_t *body = tu_json(TU_MINIMAL_CASE), *rec = NULL;
    amp_err err = {0};
    assert_int_equal(cases_create_sync(e->core, &e->who, body, &rec, &err), AMP_OK);
    expect_create_answer_same(e, rec);
    expect_same(e, json_string_value(json_object_get(rec, "id")));
    expect_same(e, json_string_value(json_object_get(rec, "reference")));
    json_decref(rec);
    json_decref(body);
    tu_env_free(e);
}

/* Events given out of route order, some without a sequence or a date, plus every
 * other kind of child and text that needs escaping. */
static void test_full_case_in_route_order(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    json_t *body = tu_json(
        "{\"prs_FirstName\":\"Ольга \\\"Оля\\\"\",\"prs_Gender\":\"Feminine\","
        "\"prs_Birthdate\":\"1990-01-02\",\"vic_TraffickingStatus\":\"ActualVictimOfTrafficking\","
        "\"vic_TypeOfExploitation\":[\"ForcedLabour\",\"ForcedBegging\"],"
        "\"events\":[{\"hte_Type\":\"Exploitation\",\"hte_Country\":\"PL\",\"amp_EventSequence\":3}"
        ","
        "{\"hte_Type\":\"Transit\",\"hte_Date\":\"2020-05-01\"},"
        "{\"hte_Type\":\"Recruitment\",\"hte_Country\":\"UA\",\"amp_EventSequence\":1},"
        "{\"hte_Type\":\"Transit\",\"hte_Date\":\"2019-05-01\"},"
        "{\"hte_Type\":\"Transit\"}],"
        "\"comments\":[{\"cco_CaseComment\":\"line one\\nline \\\\ two\\ttab\"}],"
        "\"support_plans\":[{\"spl_Type\":\"Health\"}],"
        "\"perpetrators\":[{\"prs_Gender\":\"Masculine\",\"per_RoleInProcess\":[\"Exploiter\"]}]}");
    json_t *rec = NULL;
    amp_err err = {0};
    assert_int_equal(cases_create_sync(e->core, &e->who, body, &rec, &err), AMP_OK);
    const char *id = json_string_value(json_object_get(rec, "id"));
    expect_create_answer_same(e, rec);
    expect_same(e, id);

    json_t *got = NULL;
    assert_int_equal(cases_get(e->core, &e->who, id, &got, &err), AMP_OK);
    json_t *events = json_object_get(got, "events");
    assert_int_equal(json_array_size(events), 5);
    /* sequence 1, sequence 3, then by date, then the one with neither */
    assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "hte_Type")),
                        "Recruitment");
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(events, 1), "amp_EventSequence")), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(events, 2), "hte_Date")),
                        "2019-05-01");
    assert_string_equal(json_string_value(json_object_get(json_array_get(events, 3), "hte_Date")),
                        "2020-05-01");
    assert_null(json_object_get(json_array_get(events, 4), "hte_Date"));
    json_decref(got);
    json_decref(rec);
    json_decref(body);
    tu_env_free(e);
}

static void test_not_found(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    amp_err err = {0};
    char *text = NULL;
    size_t len;
    int64_t v;
    assert_int_equal(cases_get_text(e->core, &e->who, "EC-2026-999999", &text, &len, &v, &err),
                     AMP_ENOTFOUND);
    assert_null(text);
    amp_err_clear(&err);
    tu_env_free(e);
}

static void test_buf_escapes(void **state)
{
    (void)state;
    buf b;
    buf_init(&b);
    buf_add_json_string(&b, "a\"b\\c\n\x01é");
    size_t len;
    char *s = buf_detach(&b, &len);
    assert_string_equal(s, "\"a\\\"b\\\\c\\n\\u0001é\"");
    json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
    assert_string_equal(json_string_value(j), "a\"b\\c\n\x01é");
    json_decref(j);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_case),
        cmocka_unit_test(test_full_case_in_route_order),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_buf_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
