/* test_cases.c — the domain core: creating, reading, correcting and listing cases. */
#include "testutil.h"

#include "http/parse.h"
#include "util/log.h"

#include <pthread.h>

static int setup(void **state)
{
    log_set_quiet(1);
    *state = tu_env_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    tu_env_free(*state);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------ */

static void dump_err(const char *what, amp_code code, const amp_err *err)
{
    char *d = err->fields ? json_dumps(err->fields, JSON_COMPACT) : NULL;
    print_error("%s: code %d (%s) %s %s\n", what, code, amp_code_name(code), err->message,
                d ? d : "");
    free(d);
}

static amp_code create(tu_env *e, const char *text, json_t **out, amp_err *err)
{
    json_t *body = tu_json(text);
    *out = NULL;
    amp_code code = cases_create_sync(e->core, &e->who, body, out, err);
    json_decref(body);
    return code;
}

/* Creates a case or fails the test; returns the record (caller decrefs). */
static json_t *create_ok(tu_env *e, const char *text)
{
    amp_err err = {0};
    json_t *rec = NULL;
    amp_code code = create(e, text, &rec, &err);
    if (code != AMP_OK) {
        dump_err(text, code, &err);
        amp_err_clear(&err);
        fail();
    }
    assert_non_null(rec);
    return rec;
}

static const char *sval(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static json_int_t ival(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static amp_code update(tu_env *e, const char *key, const char *patch, int64_t if_match,
                       json_t **out, amp_err *err)
{
    json_t *p = tu_json(patch);
    json_t *rec = NULL;
    amp_code code = cases_update_sync(e->core, &e->who, key, p, if_match, &rec, err);
    json_decref(p);
    if (out)
        *out = rec;
    else
        json_decref(rec);
    return code;
}

static json_t *update_ok(tu_env *e, const char *key, const char *patch, int64_t if_match)
{
    amp_err err = {0};
    json_t *rec = NULL;
    amp_code code = update(e, key, patch, if_match, &rec, &err);
    if (code != AMP_OK) {
        dump_err(patch, code, &err);
        amp_err_clear(&err);
        fail();
    }
    return rec;
}

static json_t *get_ok(tu_env *e, const char *key)
{
    amp_err err = {0};
    json_t *rec = NULL;
    amp_code code = cases_get(e->core, &e->who, key, &rec, &err);
    if (code != AMP_OK) {
        dump_err(key, code, &err);
        amp_err_clear(&err);
        fail();
    }
    return rec;
}

static json_t *history_ok(tu_env *e, const char *key)
{
    amp_err err = {0};
    json_t *h = NULL;
    assert_int_equal(cases_history(e->core, &e->who, key, &h, &err), AMP_OK);
    json_t *items = json_incref(json_object_get(h, "items"));
    json_decref(h);
    return items;
}

/* Lists with a query string ("status=Active&sort=reference"). */
static amp_code list(tu_env *e, const char *qs, json_t **out, amp_err *err)
{
    query_params q;
    *out = NULL;
    assert_int_equal(parse_query(qs, strlen(qs), &q, err), 0);
    amp_code code = cases_list(e->core, &e->who, q.items, q.n, out, err);
    query_params_release(&q);
    return code;
}

/* The references listed, comma-separated, into out; returns the total. */
static json_int_t list_refs(tu_env *e, const char *qs, char *out, size_t n)
{
    amp_err err = {0};
    json_t *res = NULL;
    amp_code code = list(e, qs, &res, &err);
    if (code != AMP_OK) {
        dump_err(qs, code, &err);
        amp_err_clear(&err);
        fail();
    }
    size_t o = 0, i;
    json_t *it;
    out[0] = '\0';
    json_array_foreach (json_object_get(res, "items"), i, it)
        o += (size_t)snprintf(out + o, n - o, "%s%s", i ? "," : "", sval(it, "reference"));
    json_int_t total = ival(res, "total");
    json_decref(res);
    return total;
}

static void expect_list(tu_env *e, const char *qs, const char *refs, json_int_t total)
{
    char got[1024];
    json_int_t t = list_refs(e, qs, got, sizeof got);
    if (strcmp(got, refs) != 0 || t != total)
        fail_msg("list %s: got [%s] total %lld, expected [%s] total %lld", qs, got, (long long)t,
                 refs, (long long)total);
}

static void expect_list_refused(tu_env *e, const char *qs, const char *field, const char *rule)
{
    amp_err err = {0};
    json_t *res = NULL;
    amp_code code = list(e, qs, &res, &err);
    if (code != AMP_EBADREQ || !tu_has_field_error(&err, field, rule)) {
        dump_err(qs, code, &err);
        json_decref(res);
        amp_err_clear(&err);
        fail_msg("list %s: expected AMP_EBADREQ with %s/%s", qs, field, rule);
    }
    assert_null(res);
    amp_err_clear(&err);
}

static json_int_t total_cases(tu_env *e)
{
    char refs[4096];
    return list_refs(e, "limit=1", refs, sizeof refs);
}

/* True when the JSON array of strings holds exactly the names (any order). */
static bool same_names(const json_t *arr, const char *const *names, size_t n)
{
    if (json_array_size(arr) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        size_t k;
        json_t *v;
        json_array_foreach (arr, k, v)
            found = found || strcmp(json_string_value(v), names[i]) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* ---- asynchronous child operations, waited for --------------------------------------- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool finished;
    amp_code code;
    json_t *result;
    json_t *fields;
    char message[256];
} waiter;

static void waiter_done(void *arg, amp_code code, json_t *result, char *text, amp_err *err)
{
    waiter *w = arg;
    if (text) {
        json_decref(result);
        result = json_loads(text, 0, NULL);
        free(text);
    }
    pthread_mutex_lock(&w->mu);
    w->code = code;
    w->result = result;
    w->fields = err->fields;
    err->fields = NULL;
    memcpy(w->message, err->message, sizeof w->message);
    w->finished = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Waits when the call was queued; moves the outcome into *out / err. */
static amp_code waiter_finish(waiter *w, amp_code code, json_t **out, amp_err *err)
{
    if (code == AMP_OK) {
        pthread_mutex_lock(&w->mu);
        while (!w->finished)
            pthread_cond_wait(&w->cv, &w->mu);
        pthread_mutex_unlock(&w->mu);
        code = w->code;
        if (code != AMP_OK) {
            err->code = code;
            memcpy(err->message, w->message, sizeof err->message);
            json_decref(err->fields);
            err->fields = w->fields;
        } else {
            json_decref(w->fields);
        }
        if (out)
            *out = w->result;
        else
            json_decref(w->result);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    return code;
}

static void waiter_init(waiter *w)
{
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
}

static amp_code child_update(tu_env *e, const char *case_key, const char *coll, const char *uid,
                             const char *patch, int64_t if_match, json_t **out, amp_err *err)
{
    waiter w;
    waiter_init(&w);
    json_t *p = tu_json(patch);
    if (out)
        *out = NULL;
    amp_code code = children_update(e->core, &e->who, case_key, core_child_kind(coll), uid, p,
                                    if_match, waiter_done, &w, err);
    json_decref(p);
    return waiter_finish(&w, code, out, err);
}

static amp_code child_delete(tu_env *e, const char *case_key, const char *coll, const char *uid,
                             int64_t if_match, json_t **out, amp_err *err)
{
    waiter w;
    waiter_init(&w);
    if (out)
        *out = NULL;
    amp_code code = children_delete(e->core, &e->who, case_key, core_child_kind(coll), uid,
                                    if_match, waiter_done, &w, err);
    return waiter_finish(&w, code, out, err);
}

static amp_code child_create(tu_env *e, const char *case_key, const char *coll, const char *body,
                             json_t **out, amp_err *err)
{
    json_t *b = tu_json(body);
    json_t *rec = NULL;
    amp_code code =
        children_create_sync(e->core, &e->who, case_key, core_child_kind(coll), b, &rec, err);
    json_decref(b);
    if (out)
        *out = rec;
    else
        json_decref(rec);
    return code;
}

/* ---- create ------------------------------------------------------------------------- */

static bool is_reference(const char *s)
{
    /* CC-YYYY-NNNNNN */
    if (!s || strlen(s) != 14 || s[2] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 14; i++) {
        if (i == 2 || i == 7)
            continue;
        if (i < 2 ? !(s[i] >= 'A' && s[i] <= 'Z') : !(s[i] >= '0' && s[i] <= '9'))
            return false;
    }
    return true;
}

static void test_create_reference_and_defaults(void **state)
{
    tu_env *e = *state;
    json_t *rec = create_ok(e, TU_MINIMAL_CASE);
    assert_true(is_reference(sval(rec, "reference")));
    assert_string_equal(sval(rec, "reference"), "EC-2026-000001");
    assert_int_equal(ival(rec, "version"), 1);
    assert_string_equal(sval(rec, "cas_Status"), "Active");
    assert_string_equal(sval(rec, "amp_RegistrationDate"), TEST_TODAY);
    assert_string_equal(sval(rec, "amp_RegistrationCountry"), "EC");
    assert_string_equal(sval(rec, "prs_Gender"), "Feminine");
    assert_string_equal(sval(rec, "created_by"), "tester");
    assert_string_equal(sval(rec, "updated_by"), "tester");
    assert_string_equal(sval(rec, "created_at"), sval(rec, "updated_at"));
    const char *id = sval(rec, "id");
    assert_non_null(id);
    assert_int_equal(strlen(id), 36);
    assert_int_equal(id[14], '7'); /* UUID version 7 */
    static const char *const colls[] = {"events", "comments", "support_plans", "perpetrators"};
    for (int i = 0; i < 4; i++) {
        assert_true(json_is_array(json_object_get(rec, colls[i])));
        assert_int_equal(json_array_size(json_object_get(rec, colls[i])), 0);
    }
    /* what was returned is what is stored */
    json_t *again = get_ok(e, id);
    assert_true(json_equal(rec, again));
    json_decref(again);
    json_decref(rec);

    rec = create_ok(e, TU_MINIMAL_CASE);
    assert_string_equal(sval(rec, "reference"), "EC-2026-000002");
    json_decref(rec);
}

static void test_reference_sequences(void **state)
{
    tu_env *e = *state;
    static const struct {
        const char *body, *ref;
    } seq[] = {
        {TU_MINIMAL_CASE, "EC-2026-000001"},
        {"{\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\","
         "\"amp_RegistrationDate\":\"2025-03-01\"}",
         "EC-2025-000001"},
        {"{\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\","
         "\"amp_RegistrationCountry\":\"UA\"}",
         "UA-2026-000001"},
        {TU_MINIMAL_CASE, "EC-2026-000002"},
        {"{\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\","
         "\"amp_RegistrationDate\":\"2025-12-31\"}",
         "EC-2025-000002"},
        {"{\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\","
         "\"amp_RegistrationCountry\":\"UA\",\"amp_RegistrationDate\":\"2024-02-29\"}",
         "UA-2024-000001"},
        {"{\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\","
         "\"amp_RegistrationCountry\":\"UA\"}",
         "UA-2026-000002"},
        {TU_MINIMAL_CASE, "EC-2026-000003"},
    };
    for (size_t i = 0; i < sizeof seq / sizeof *seq; i++) {
        json_t *rec = create_ok(e, seq[i].body);
        assert_string_equal(sval(rec, "reference"), seq[i].ref);
        json_decref(rec);
    }
    json_t *rec = get_ok(e, "EC-2025-000001");
    assert_string_equal(sval(rec, "amp_RegistrationDate"), "2025-03-01");
    json_decref(rec);
    assert_int_equal(total_cases(e), 8);
}

static void test_create_with_children(void **state)
{
    tu_env *e = *state;
    json_t *rec = create_ok(
        e, "{\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":\"ActualVictimOfTrafficking\","
           "\"prs_Birthdate\":\"2001-04-02\","
           "\"events\":[{\"hte_Type\":\"Exploitation\",\"hte_Country\":\"EC\",\"hte_City\":"
           "\"Quito\",\"amp_EventSequence\":2,\"hte_Date\":\"2025-01-01\"},"
           "{\"hte_Type\":\"Recruitment\",\"hte_Country\":\"CO\",\"amp_EventSequence\":1}],"
           "\"comments\":[{\"cco_CaseComment\":\"First interview.\\nCalm.\"}],"
           "\"support_plans\":[{\"spl_Type\":\"Health\",\"spl_PlannedEndDate\":\"2026-12-31\"}],"
           "\"perpetrators\":[{\"prs_Gender\":\"Masculine\",\"per_RoleInProcess\":"
           "[\"RecruiterOrIntermediary\"]}]}");
    json_t *evs = json_object_get(rec, "events");
    assert_int_equal(json_array_size(evs), 2);
    /* route order: amp_EventSequence first */
    assert_string_equal(sval(json_array_get(evs, 0), "hte_Type"), "Recruitment");
    assert_string_equal(sval(json_array_get(evs, 1), "hte_Type"), "Exploitation");
    assert_string_equal(sval(json_array_get(evs, 1), "hte_City"), "Quito");
    assert_int_equal(json_array_size(json_object_get(rec, "comments")), 1);
    assert_int_equal(json_array_size(json_object_get(rec, "support_plans")), 1);
    assert_int_equal(json_array_size(json_object_get(rec, "perpetrators")), 1);
    json_t *pl = json_array_get(json_object_get(rec, "support_plans"), 0);
    assert_string_equal(sval(pl, "spl_Type"), "Health");
    assert_int_equal(ival(pl, "version"), 1);
    assert_int_equal(strlen(sval(pl, "id")), 36);
    assert_string_equal(
        sval(json_array_get(json_object_get(rec, "comments"), 0), "cco_CaseComment"),
        "First interview.\nCalm.");
    assert_string_equal(sval(json_array_get(json_object_get(rec, "perpetrators"), 0), "prs_Gender"),
                        "Masculine");
    /* children are not case fields */
    assert_null(json_object_get(rec, "hte_Type"));
    json_t *again = get_ok(e, sval(rec, "reference"));
    assert_true(json_equal(rec, again));
    json_decref(again);

    /* children can be listed and read one by one */
    amp_err err = {0};
    json_t *items = NULL;
    assert_int_equal(
        children_list(e->core, &e->who, sval(rec, "id"), core_child_kind("events"), &items, &err),
        AMP_OK);
    assert_true(json_equal(json_object_get(items, "items"), evs));
    json_decref(items);
    json_t *ch = NULL;
    assert_int_equal(children_get(e->core, &e->who, "EC-2026-000001",
                                  core_child_kind("support-plans"), sval(pl, "id"), &ch, &err),
                     AMP_OK);
    assert_true(json_equal(ch, pl));
    json_decref(ch);
    json_decref(rec);
}

static void test_create_invalid_lists_every_field(void **state)
{
    tu_env *e = *state;
    amp_err err = {0};
    json_t *rec = NULL;
    amp_code code = create(e,
                           "{\"prs_Gender\":\"Female\",\"prs_Birthdate\":\"2000-05-05\","
                           "\"events\":[{\"hte_Type\":\"Recruitment\",\"hte_Date\":\"2001-01-01\"},"
                           "{\"hte_Type\":\"Transit\",\"hte_Date\":\"2027-01-01\"},"
                           "{\"hte_Type\":\"Exploitation\",\"hte_Date\":\"1999-01-01\"}],"
                           "\"comments\":[{}],\"perpetrators\":[{\"prs_Gender\":\"Other\"}]}",
                           &rec, &err);
    assert_int_equal(code, AMP_EINVALID);
    assert_null(rec);
    assert_true(tu_has_field_error(&err, "prs_Gender", "picklist"));
    assert_true(tu_has_field_error(&err, "vic_TraffickingStatus", "required"));
    assert_true(tu_has_field_error(&err, "events[1].hte_Date", "not_future"));
    assert_true(tu_has_field_error(&err, "events[2].hte_Date", "not_before_birth"));
    assert_true(tu_has_field_error(&err, "comments[0].cco_CaseComment", "required"));
    assert_true(tu_has_field_error(&err, "perpetrators[0].prs_Gender", "picklist"));
    assert_int_equal(json_array_size(err.fields), 6);
    assert_string_equal(err.message, "6 fields are invalid");
    amp_err_clear(&err);

    /* nothing stored, no reference used up */
    assert_int_equal(total_cases(e), 0);
    json_t *ok = create_ok(e, TU_MINIMAL_CASE);
    assert_string_equal(sval(ok, "reference"), "EC-2026-000001");
    json_decref(ok);

    /* malformed shapes */
    code = create(e, "[1]", &rec, &err);
    assert_int_equal(code, AMP_EBADREQ);
    amp_err_clear(&err);
    code = create(e,
                  "{\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\","
                  "\"events\":{\"hte_Type\":\"Transit\"}}",
                  &rec, &err);
    assert_int_equal(code, AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "events", "type"));
    assert_int_equal(json_array_size(err.fields), 1);
    assert_string_equal(err.message, "1 field is invalid");
    amp_err_clear(&err);
    assert_int_equal(total_cases(e), 1);
}

static void test_create_too_many_children(void **state)
{
    tu_env *e = *state;
    json_t *body = tu_json(TU_MINIMAL_CASE);
    json_t *arr = json_array();
    for (int i = 0; i < 201; i++)
        json_array_append_new(arr, json_pack("{s:s}", "cco_CaseComment", "note"));
    json_object_set_new(body, "comments", arr);
    amp_err err = {0};
    json_t *rec = NULL;
    assert_int_equal(cases_create_sync(e->core, &e->who, body, &rec, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "comments", "max_items"));
    amp_err_clear(&err);
    /* 200 is fine */
    json_array_remove(arr, 0);
    assert_int_equal(cases_create_sync(e->core, &e->who, body, &rec, &err), AMP_OK);
    assert_int_equal(json_array_size(json_object_get(rec, "comments")), 200);
    json_decref(rec);
    json_decref(body);
}

static void test_read_only_keys(void **state)
{
    tu_env *e = *state;
    amp_err err = {0};
    json_t *rec = NULL;
    amp_code code = create(
        e,
        "{\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\","
        "\"id\":\"0195a3c2-7e41-7b8a-9c1d-2f4e6a8b0c13\",\"reference\":\"EC-2026-000999\","
        "\"version\":7,\"created_at\":\"2020-01-01T00:00:00Z\",\"updated_by\":\"me\"}",
        &rec, &err);
    assert_int_equal(code, AMP_EINVALID);
    static const char *const keys[] = {"id", "reference", "version", "created_at", "updated_by"};
    for (int i = 0; i < 5; i++)
        assert_true(tu_has_field_error(&err, keys[i], "read_only"));
    assert_int_equal(json_array_size(err.fields), 5);
    amp_err_clear(&err);
    assert_int_equal(total_cases(e), 0);

    /* in a patch too (except version) */
    json_t *c = create_ok(e, TU_MINIMAL_CASE);
    code =
        update(e, sval(c, "id"), "{\"version\":1,\"reference\":\"EC-2026-000999\"}", 0, NULL, &err);
    assert_int_equal(code, AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "reference", "read_only"));
    amp_err_clear(&err);
    /* and in a new child */
    code = child_create(e, sval(c, "id"), "comments",
                        "{\"cco_CaseComment\":\"x\",\"id\":\"abc\",\"version\":1}", NULL, &err);
    assert_int_equal(code, AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "id", "read_only"));
    assert_true(tu_has_field_error(&err, "version", "read_only"));
    amp_err_clear(&err);
    json_t *now = get_ok(e, sval(c, "id"));
    assert_string_equal(sval(now, "reference"), "EC-2026-000001");
    assert_int_equal(ival(now, "version"), 1);
    assert_int_equal(json_array_size(json_object_get(now, "comments")), 0);
    json_decref(now);
    json_decref(c);
}

/* ---- organisations ------------------------------------------------------------------- */

static void test_orgs(void **state)
{
    tu_env *e = *state;
    amp_err err = {0};
    json_t *out = NULL;
    json_t *b = tu_json("{\"id\":\"fundacion-renacer\",\"org_Name\":\"Fundación Renacer\","
                        "\"org_Type\":\"NGO\",\"org_ShippingCountry\":\"EC\"}");
    assert_int_equal(orgs_put(e->core, &e->who, b, &out, &err), AMP_OK);
    assert_string_equal(sval(out, "id"), "fundacion-renacer");
    assert_int_equal(ival(out, "version"), 1);
    assert_string_equal(sval(out, "org_Name"), "Fundación Renacer");
    json_decref(out);
    json_decref(b);
    /* replacing bumps the version and drops absent fields */
    b = tu_json("{\"id\":\"fundacion-renacer\",\"org_Name\":\"Renacer\",\"org_Type\":null}");
    assert_int_equal(orgs_put(e->core, &e->who, b, &out, &err), AMP_OK);
    assert_int_equal(ival(out, "version"), 2);
    json_decref(out);
    json_decref(b);
    b = tu_json("{\"id\":\"alas\",\"org_Name\":\"Alas\"}");
    assert_int_equal(orgs_put(e->core, &e->who, b, NULL, &err), AMP_OK);
    json_decref(b);

    assert_int_equal(orgs_list(e->core, &e->who, &out, &err), AMP_OK);
    json_t *items = json_object_get(out, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(sval(json_array_get(items, 0), "id"), "alas");
    json_t *fr = json_array_get(items, 1);
    assert_string_equal(sval(fr, "id"), "fundacion-renacer");
    assert_string_equal(sval(fr, "org_Name"), "Renacer");
    assert_int_equal(ival(fr, "version"), 2);
    assert_null(json_object_get(fr, "org_Type"));
    json_decref(out);

    /* invalid: missing name, bad id, bad values */
    b = tu_json("{\"id\":\"bad id\",\"org_Type\":\"Bank\",\"org_Phone\":\"12\"}");
    assert_int_equal(orgs_put(e->core, &e->who, b, &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "id", "identifier"));
    assert_true(tu_has_field_error(&err, "org_Name", "required"));
    assert_true(tu_has_field_error(&err, "org_Type", "picklist"));
    assert_true(tu_has_field_error(&err, "org_Phone", "phone"));
    assert_int_equal(json_array_size(err.fields), 4);
    amp_err_clear(&err);
    json_decref(b);
    b = tu_json("{\"org_Name\":\"No id\"}");
    assert_int_equal(orgs_put(e->core, &e->who, b, &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "id", "identifier"));
    amp_err_clear(&err);
    json_decref(b);
    assert_int_equal(orgs_list(e->core, &e->who, &out, &err), AMP_OK);
    assert_int_equal(json_array_size(json_object_get(out, "items")), 2);
    json_decref(out);
}

static void test_owner_organisation_lookup(void **state)
{
    tu_env *e = *state;
    amp_err err = {0};
    json_t *rec = NULL;
    const char *body = "{\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\","
                       "\"amp_OwnerOrganisation\":\"fundacion-renacer\"}";
    assert_int_equal(create(e, body, &rec, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "amp_OwnerOrganisation", "lookup"));
    assert_int_equal(json_array_size(err.fields), 1);
    amp_err_clear(&err);

    json_t *org = tu_json("{\"id\":\"fundacion-renacer\",\"org_Name\":\"Fundación Renacer\"}");
    assert_int_equal(orgs_put(e->core, &e->who, org, NULL, &err), AMP_OK);
    json_decref(org);
    rec = create_ok(e, body);
    assert_string_equal(sval(rec, "amp_OwnerOrganisation"), "fundacion-renacer");
    json_decref(rec);
    json_t *other = create_ok(e, TU_MINIMAL_CASE);
    expect_list(e, "owner=fundacion-renacer", "EC-2026-000001", 1);
    expect_list(e, "owner=nobody", "", 0);
    /* changing the owner to an unknown organisation is refused */
    assert_int_equal(update(e, "EC-2026-000002",
                            "{\"amp_OwnerOrganisation\":\"nobody\",\"version\":1}", 0, NULL, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "amp_OwnerOrganisation", "lookup"));
    amp_err_clear(&err);
    json_t *u =
        update_ok(e, "EC-2026-000002", "{\"amp_OwnerOrganisation\":\"fundacion-renacer\"}", 1);
    json_decref(u);
    expect_list(e, "owner=fundacion-renacer&sort=reference", "EC-2026-000001,EC-2026-000002", 2);
    json_decref(other);
}

/* ---- update -------------------------------------------------------------------------- */

static void test_update_versions(void **state)
{
    tu_env *e = *state;
    amp_err err = {0};
    json_t *c = create_ok(e, "{\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":"
                             "\"PossibleVictimOfTrafficking\",\"prs_FirstName\":\"Ana\"}");
    const char *id = sval(c, "id");

    /* no version at all */
    assert_int_equal(update(e, id, "{\"prs_FirstName\":\"Lucía\"}", 0, NULL, &err), AMP_ENEEDVER);
    amp_err_clear(&err);
    /* stale If-Match */
    assert_int_equal(update(e, id, "{\"prs_FirstName\":\"Lucía\"}", 2, NULL, &err), AMP_EPRECOND);
    assert_non_null(strstr(err.message, "version 1"));
    amp_err_clear(&err);
    /* stale body version */
    assert_int_equal(update(e, id, "{\"prs_FirstName\":\"Lucía\",\"version\":3}", 0, NULL, &err),
                     AMP_ECONFLICT);
    amp_err_clear(&err);
    /* a malformed version */
    assert_int_equal(
        update(e, id, "{\"prs_FirstName\":\"Lucía\",\"version\":\"1\"}", 0, NULL, &err),
        AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "version", "type"));
    amp_err_clear(&err);
    json_t *now = get_ok(e, id);
    assert_int_equal(ival(now, "version"), 1);
    assert_string_equal(sval(now, "prs_FirstName"), "Ana");
    json_decref(now);

    /* the right version via If-Match */
    json_t *u = update_ok(e, id, "{\"prs_FirstName\":\"Lucía\",\"cas_Status\":\"FollowUp\"}", 1);
    assert_int_equal(ival(u, "version"), 2);
    assert_string_equal(sval(u, "prs_FirstName"), "Lucía");
    assert_string_equal(sval(u, "cas_Status"), "FollowUp");
    assert_string_equal(sval(u, "reference"), "EC-2026-000001");
    assert_string_equal(sval(u, "created_at"), sval(c, "created_at"));
    json_decref(u);
    /* the right version in the body, the key being the reference */
    u = update_ok(e, "EC-2026-000001",
                  "{\"version\":2,\"vic_TraffickingStatus\":"
                  "\"ActualVictimOfTrafficking\"}",
                  0);
    assert_int_equal(ival(u, "version"), 3);
    json_decref(u);
    now = get_ok(e, id);
    assert_int_equal(ival(now, "version"), 3);
    assert_string_equal(sval(now, "vic_TraffickingStatus"), "ActualVictimOfTrafficking");
    json_decref(now);

    /* history: names of the changed fields, never values */
    json_t *h = history_ok(e, id);
    assert_int_equal(json_array_size(h), 3);
    json_t *h0 = json_array_get(h, 0), *h1 = json_array_get(h, 1), *h2 = json_array_get(h, 2);
    assert_string_equal(sval(h0, "action"), "create");
    assert_int_equal(ival(h0, "version"), 1);
    assert_true(json_is_null(json_object_get(h0, "target")));
    assert_string_equal(sval(h0, "actor"), "tester");
    static const char *const created[] = {"prs_Gender",           "vic_TraffickingStatus",
                                          "prs_FirstName",        "cas_Status",
                                          "amp_RegistrationDate", "amp_RegistrationCountry"};
    assert_true(same_names(json_object_get(h0, "fields"), created, 6));
    assert_string_equal(sval(h1, "action"), "update");
    assert_int_equal(ival(h1, "version"), 2);
    static const char *const changed1[] = {"prs_FirstName", "cas_Status"};
    assert_true(same_names(json_object_get(h1, "fields"), changed1, 2));
    assert_int_equal(ival(h2, "version"), 3);
    static const char *const changed2[] = {"vic_TraffickingStatus"};
    assert_true(same_names(json_object_get(h2, "fields"), changed2, 1));
    char *dump = json_dumps(h, 0);
    assert_null(strstr(dump, "Ana"));
    assert_null(strstr(dump, "Lucía"));
    assert_null(strstr(dump, "FollowUp"));
    assert_null(strstr(dump, "ActualVictimOfTrafficking"));
    free(dump);
    json_decref(h);
    json_decref(c);

    /* an unknown case */
    assert_int_equal(update(e, "EC-2026-000099", "{\"prs_FirstName\":\"x\"}", 1, NULL, &err),
                     AMP_ENOTFOUND);
    amp_err_clear(&err);
}

static void test_update_history_fields_sorted(void **state)
{
    tu_env *e = *state;
    json_t *c = create_ok(e, "{\"prs_FirstName\":\"Ana\",\"vic_TraffickingStatus\":"
                             "\"PossibleVictimOfTrafficking\",\"prs_Gender\":\"Feminine\"}");
    json_t *u = update_ok(e, sval(c, "id"),
                          "{\"prs_Gender\":\"Masculine\",\"prs_FirstName\":\"Luis\","
                          "\"cas_Status\":\"FollowUp\"}",
                          1);
    json_decref(u);
    json_t *h = history_ok(e, sval(c, "id"));
    json_t *want = tu_json("[\"cas_Status\",\"prs_FirstName\",\"prs_Gender\"]");
    json_t *got = json_object_get(json_array_get(h, 1), "fields");
    if (!json_equal(got, want)) {
        /* Fixed bug, guarded here: src/core/cases.c changed_fields() promises the changed names
         * "sorted" but returns them in document order (here prs_FirstName, prs_Gender, cas_Status),
         * so history entries list fields in an order that depends on how the record was first
         * written.  Fix: sort `names` (e.g. collect, qsort with strcmp) before returning, or drop
         * "sorted" from the comment. */
        json_decref(want);
        json_decref(h);
        json_decref(c);
        fail_msg("regression of a fixed bug: see the comment above");
    }
    json_decref(want);
    json_decref(h);
    json_decref(c);
}

static void test_update_merge_patch(void **state)
{
    tu_env *e = *state;
    json_t *c = create_ok(e, "{\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":"
                             "\"PossibleVictimOfTrafficking\",\"prs_MiddleName\":\"María\","
                             "\"prs_Citizenship\":[\"CO\"]}");
    const char *id = sval(c, "id");
    /* null removes a field; arrays are replaced whole */
    json_t *u =
        update_ok(e, id, "{\"prs_MiddleName\":null,\"prs_Citizenship\":[\"VE\",\"EC\"]}", 1);
    assert_int_equal(ival(u, "version"), 2);
    assert_null(json_object_get(u, "prs_MiddleName"));
    assert_int_equal(json_array_size(json_object_get(u, "prs_Citizenship")), 2);
    json_decref(u);
    json_t *now = get_ok(e, id);
    assert_null(json_object_get(now, "prs_MiddleName"));
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(now, "prs_Citizenship"), 0)), "VE");
    json_decref(now);
    json_t *h = history_ok(e, id);
    static const char *const changed[] = {"prs_MiddleName", "prs_Citizenship"};
    assert_true(same_names(json_object_get(json_array_get(h, 1), "fields"), changed, 2));
    json_decref(h);

    /* removing a field that is not there, or setting a value it already has: no change */
    u = update_ok(e, id, "{\"prs_MiddleName\":null,\"prs_Gender\":\"Feminine\"}", 2);
    assert_int_equal(ival(u, "version"), 2);
    json_decref(u);
    u = update_ok(e, id, "{\"version\":2}", 0);
    assert_int_equal(ival(u, "version"), 2);
    json_decref(u);
    h = history_ok(e, id);
    assert_int_equal(json_array_size(h), 2);
    json_decref(h);

    /* removing a required field is invalid */
    amp_err err = {0};
    assert_int_equal(update(e, id, "{\"vic_TraffickingStatus\":null}", 2, NULL, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "vic_TraffickingStatus", "required"));
    amp_err_clear(&err);
    /* the whole record is validated after the merge */
    assert_int_equal(
        update(e, id, "{\"cas_Status\":\"Closed\",\"prs_Nickname\":\"x\"}", 2, NULL, &err),
        AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "cas_ReasonForCaseClosure", "required_if"));
    assert_true(tu_has_field_error(&err, "prs_Nickname", "unknown_field"));
    assert_int_equal(json_array_size(err.fields), 2);
    amp_err_clear(&err);
    now = get_ok(e, id);
    assert_int_equal(ival(now, "version"), 2);
    assert_string_equal(sval(now, "cas_Status"), "Active");
    json_decref(now);
    json_decref(c);
}

static void test_update_refuses_child_arrays(void **state)
{
    tu_env *e = *state;
    amp_err err = {0};
    json_t *c = create_ok(e, TU_MINIMAL_CASE);
    assert_int_equal(update(e, sval(c, "id"),
                            "{\"events\":[{\"hte_Type\":\"Transit\"}],\"comments\":null,"
                            "\"support-plans\":[]}",
                            1, NULL, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "events", "sub_resource"));
    assert_true(tu_has_field_error(&err, "comments", "sub_resource"));
    assert_true(tu_has_field_error(&err, "support-plans", "sub_resource"));
    amp_err_clear(&err);
    json_t *now = get_ok(e, sval(c, "id"));
    assert_int_equal(ival(now, "version"), 1);
    assert_int_equal(json_array_size(json_object_get(now, "events")), 0);
    json_decref(now);
    json_decref(c);
}

static void test_update_birthdate_after_event(void **state)
{
    tu_env *e = *state;
    amp_err err = {0};
    json_t *c = create_ok(e, "{\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\","
                             "\"prs_Birthdate\":\"2000-01-01\","
                             "\"events\":[{\"hte_Type\":\"Recruitment\",\"hte_Date\":"
                             "\"2015-03-01\"}]}");
    assert_int_equal(update(e, sval(c, "id"), "{\"prs_Birthdate\":\"2016-01-01\"}", 1, NULL, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "events[0].hte_Date", "not_before_birth"));
    assert_int_equal(json_array_size(err.fields), 1);
    amp_err_clear(&err);
    json_t *now = get_ok(e, sval(c, "id"));
    assert_string_equal(sval(now, "prs_Birthdate"), "2000-01-01");
    assert_int_equal(ival(now, "version"), 1);
    json_decref(now);
    /* an earlier birthdate is fine */
    json_t *u = update_ok(e, sval(c, "id"), "{\"prs_Birthdate\":\"1999-01-01\"}", 1);
    assert_int_equal(ival(u, "version"), 2);
    json_decref(u);
    /* a new event before the birthdate is refused, without a prefix */
    assert_int_equal(child_create(e, sval(c, "id"), "events",
                                  "{\"hte_Type\":\"Transit\",\"hte_Date\":\"1998-12-31\"}", NULL,
                                  &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "hte_Date", "not_before_birth"));
    amp_err_clear(&err);
    json_decref(c);
}

static void test_messages_follow_language(void **state)
{
    tu_env *e = *state;
    amp_err err = {0};
    json_t *rec = NULL;
    snprintf(e->who.lang, sizeof e->who.lang, "es");
    assert_int_equal(create(e, "{\"prs_Gender\":\"Female\"}", &rec, &err), AMP_EINVALID);
    assert_string_equal(err.message, "2 campo(s) no son válidos");
    size_t i;
    json_t *f;
    json_array_foreach (err.fields, i, f) {
        if (strcmp(sval(f, "field"), "vic_TraffickingStatus") == 0)
            assert_string_equal(sval(f, "message"), "vic_TraffickingStatus es obligatorio");
    }
    amp_err_clear(&err);
    snprintf(e->who.lang, sizeof e->who.lang, "fr");
    assert_int_equal(create(e, "{}", &rec, &err), AMP_EINVALID);
    assert_string_equal(err.message, "1 champ(s) non valides");
    assert_string_equal(sval(json_array_get(err.fields, 0), "message"),
                        "vic_TraffickingStatus est obligatoire");
    amp_err_clear(&err);
}

/* ---- lists --------------------------------------------------------------------------- */

static void seed_cases(tu_env *e)
{
    static const char *const bodies[] = {
        /* A: EC-2026-000001 */
        "{\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\","
        "\"vic_TypeOfExploitation\":[\"SexualExploitation\"],\"prs_Citizenship\":[\"CO\"],"
        "\"amp_RegistrationDate\":\"2026-01-10\",\"events\":[{\"hte_Type\":\"Recruitment\","
        "\"hte_Country\":\"CO\"},{\"hte_Type\":\"Exploitation\",\"hte_Country\":\"EC\"}]}",
        /* B: EC-2026-000002 */
        "{\"prs_Gender\":\"Masculine\",\"vic_TraffickingStatus\":\"ActualVictimOfTrafficking\","
        "\"cas_Status\":\"FollowUp\",\"vic_TypeOfExploitation\":[\"ForcedLabour\"],"
        "\"prs_Citizenship\":[\"VE\"],\"amp_RegistrationDate\":\"2026-03-05\"}",
        /* C: EC-2025-000001 */
        "{\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":\"ActualVictimOfTrafficking\","
        "\"cas_Status\":\"Closed\",\"cas_ReasonForCaseClosure\":\"Returned home\","
        "\"vic_TypeOfExploitation\":[\"ForcedLabour\",\"SexualExploitation\"],"
        "\"prs_Citizenship\":[\"CO\",\"EC\"],\"amp_RegistrationDate\":\"2025-12-31\"}",
        /* D: EC-2026-000003, registered today */
        "{\"prs_Gender\":\"NonConforming\",\"vic_TraffickingStatus\":"
        "\"PossibleVictimOfTrafficking\"}",
    };
    for (size_t i = 0; i < 4; i++)
        json_decref(create_ok(e, bodies[i]));
}

#define A "EC-2026-000001"
#define B "EC-2026-000002"
#define C "EC-2025-000001"
#define D "EC-2026-000003"

static void test_list_filters(void **state)
{
    tu_env *e = *state;
    seed_cases(e);
    expect_list(e, "", D "," B "," A "," C, 4); /* default: -registered */
    expect_list(e, "sort=registered", C "," A "," B "," D, 4);
    expect_list(e, "sort=reference", C "," A "," B "," D, 4);
    expect_list(e, "sort=-reference", D "," B "," A "," C, 4);
    expect_list(e, "status=Active&sort=reference", A "," D, 2);
    expect_list(e, "status=Active,Closed&sort=reference", C "," A "," D, 3);
    expect_list(e, "status=Active&status=FollowUp&sort=reference", A "," B "," D, 3);
    expect_list(e, "trafficking_status=ActualVictimOfTrafficking&sort=reference", C "," B, 2);
    expect_list(e, "exploitation=SexualExploitation&sort=reference", C "," A, 2);
    expect_list(e, "exploitation=ForcedLabour,SexualExploitation&sort=reference", C "," A "," B, 3);
    expect_list(e, "exploitation=ForcedLabour&gender=Feminine", C, 1);
    expect_list(e, "gender=Feminine&sort=reference", C "," A, 2);
    expect_list(e, "gender=Masculine,NonConforming&sort=reference", B "," D, 2);
    expect_list(e, "citizenship=CO&sort=reference", C "," A, 2);
    expect_list(e, "citizenship=EC", C, 1);
    expect_list(e, "citizenship=CO,VE&sort=reference", C "," A "," B, 3);
    expect_list(e, "country_of_exploitation=EC", A, 1);
    expect_list(e, "country_of_exploitation=CO", "", 0); /* a recruitment event only */
    expect_list(e, "registered_from=2026-01-01&registered_to=2026-03-05&sort=reference", A "," B,
                2);
    expect_list(e, "registered_from=2026-03-05&sort=reference", B "," D, 2);
    expect_list(e, "registered_to=2025-12-31", C, 1);
    expect_list(e, "registered_from=2026-06-16", "", 0);
    expect_list(e, "reference=EC-2025", C, 1);
    expect_list(e, "reference=EC-2026&sort=reference", A "," B "," D, 3);
    expect_list(e, "reference=" B, B, 1);
    expect_list(e, "reference=UA", "", 0);
    expect_list(e, "sort=reference&limit=2&offset=1", A "," B, 4);
    expect_list(e, "sort=reference&limit=2&offset=3", D, 4);
    expect_list(e, "sort=reference&offset=4", "", 4);
    expect_list(e,
                "status=Active&gender=Feminine&citizenship=CO&exploitation=SexualExploitation"
                "&registered_from=2026-01-01&reference=EC-2026",
                A, 1);

    /* the envelope */
    amp_err err = {0};
    json_t *res = NULL;
    assert_int_equal(list(e, "", &res, &err), AMP_OK);
    assert_int_equal(ival(res, "limit"), CASES_DEFAULT_LIMIT);
    assert_int_equal(ival(res, "offset"), 0);
    assert_int_equal(ival(res, "total"), 4);
    json_t *it = json_array_get(json_object_get(res, "items"), 0);
    assert_string_equal(sval(it, "reference"), D);
    assert_int_equal(ival(it, "version"), 1);
    assert_string_equal(sval(it, "prs_Gender"), "NonConforming");
    assert_null(json_object_get(it, "events")); /* list items carry no child arrays */
    json_decref(res);
    assert_int_equal(list(e, "limit=2&offset=1", &res, &err), AMP_OK);
    assert_int_equal(ival(res, "limit"), 2);
    assert_int_equal(ival(res, "offset"), 1);
    assert_int_equal(json_array_size(json_object_get(res, "items")), 2);
    json_decref(res);
    assert_int_equal(list(e, "limit=500", &res, &err), AMP_OK);
    json_decref(res);
}

/* List-parameter errors name the parameter and the rule, in the caller's language. */
static void test_list_errors_in_callers_language(void **state)
{
    tu_env *e = *state;
    list_param params[] = {{"colour", "red"}, {"gender", "Female"}, {"limit", "0"}};
    principal es = e->who;
    snprintf(es.lang, sizeof es.lang, "es");
    amp_err err = {0};
    json_t *out = NULL;
    assert_int_equal(cases_list(e->core, &es, params, 3, &out, &err), AMP_EBADREQ);
    assert_null(out);
    assert_int_equal(json_array_size(err.fields), 3);
    assert_true(tu_has_field_error(&err, "colour", "unknown_parameter"));
    assert_true(tu_has_field_error(&err, "gender", "picklist"));
    assert_true(tu_has_field_error(&err, "limit", "max"));
    const char *m0 = json_string_value(json_object_get(json_array_get(err.fields, 0), "message"));
    assert_non_null(strstr(m0, "no es un parámetro"));
    assert_non_null(strstr(err.message, "no son válidos"));
    amp_err_clear(&err);
}

static void test_list_follows_updates_and_events(void **state)
{
    tu_env *e = *state;
    amp_err err = {0};
    seed_cases(e);
    /* a status change moves the case between filters */
    json_decref(update_ok(e, D, "{\"cas_Status\":\"FollowUp\"}", 1));
    expect_list(e, "status=Active", A, 1);
    expect_list(e, "status=FollowUp&sort=reference", B "," D, 2);
    /* a new registration date moves it in date ranges */
    json_decref(update_ok(e, D, "{\"amp_RegistrationDate\":\"2026-02-01\"}", 2));
    expect_list(e, "registered_from=2026-02-01&registered_to=2026-02-28", D, 1);
    /* removing a multiselect removes its terms */
    json_decref(update_ok(e, B, "{\"vic_TypeOfExploitation\":null}", 1));
    expect_list(e, "exploitation=ForcedLabour", C, 1);

    /* events added through the sub-resource feed country_of_exploitation */
    json_t *ev = NULL;
    assert_int_equal(child_create(e, B, "events",
                                  "{\"hte_Type\":\"Exploitation\",\"hte_Country\":\"PE\"}", &ev,
                                  &err),
                     AMP_OK);
    expect_list(e, "country_of_exploitation=PE", B, 1);
    expect_list(e, "country_of_exploitation=EC,PE&sort=reference", A "," B, 2);
    /* an event of another type does not */
    assert_int_equal(child_create(e, D, "events",
                                  "{\"hte_Type\":\"Transit\",\"hte_Country\":\"PE\"}", NULL, &err),
                     AMP_OK);
    expect_list(e, "country_of_exploitation=PE", B, 1);
    /* changing the event's country moves the case */
    json_t *ch = NULL;
    assert_int_equal(
        child_update(e, B, "events", sval(ev, "id"), "{\"hte_Country\":\"BO\"}", 1, &ch, &err),
        AMP_OK);
    json_decref(ch);
    expect_list(e, "country_of_exploitation=PE", "", 0);
    expect_list(e, "country_of_exploitation=BO", B, 1);
    /* deleting it removes the country */
    assert_int_equal(child_delete(e, B, "events", sval(ev, "id"), 0, NULL, &err), AMP_OK);
    expect_list(e, "country_of_exploitation=BO", "", 0);
    /* the case's other terms survive a child change */
    expect_list(e, "citizenship=VE", B, 1);
    json_t *rec = get_ok(e, B);
    assert_int_equal(ival(rec, "version"), 2); /* child changes do not bump the case */
    json_decref(rec);
    json_decref(ev);
}

static void test_list_bad_parameters(void **state)
{
    tu_env *e = *state;
    seed_cases(e);
    expect_list_refused(e, "colour=red", "colour", "unknown_parameter");
    expect_list_refused(e, "registered=2026-01-01", "registered", "unknown_parameter");
    expect_list_refused(e, "status=Open", "status", "picklist");
    expect_list_refused(e, "status=Active,Open", "status", "picklist");
    expect_list_refused(e, "gender=Female", "gender", "picklist");
    expect_list_refused(e, "exploitation=forcedlabour", "exploitation", "picklist");
    expect_list_refused(e, "citizenship=XX", "citizenship", "picklist");
    expect_list_refused(e, "country_of_exploitation=ec", "country_of_exploitation", "picklist");
    expect_list_refused(e, "status=Active,,Closed", "status", "picklist");
    expect_list_refused(e, "limit=0", "limit", "max");
    expect_list_refused(e, "limit=501", "limit", "max");
    expect_list_refused(e, "limit=ten", "limit", "max");
    expect_list_refused(e, "offset=-1", "offset", "min");
    expect_list_refused(e, "registered_from=2026-02-30", "registered_from", "date");
    expect_list_refused(e, "registered_to=yesterday", "registered_to", "date");
    expect_list_refused(e, "sort=name", "sort", "picklist");
    expect_list_refused(e, "reference=ec-2026", "reference", "reference");
    expect_list_refused(e, "owner=bad%20id", "owner", "lookup");

    /* every bad parameter is named at once */
    amp_err err = {0};
    json_t *res = NULL;
    assert_int_equal(list(e, "colour=red&status=Open&limit=0", &res, &err), AMP_EBADREQ);
    assert_int_equal(json_array_size(err.fields), 3);
    assert_non_null(strstr(sval(json_array_get(err.fields, 0), "message"), "colour"));
    amp_err_clear(&err);

    /* 32 values per filter, not 33 */
    char qs[2048];
    size_t o = (size_t)snprintf(qs, sizeof qs, "citizenship=");
    static const char *const cc[] = {"AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ",
                                     "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB",
                                     "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM",
                                     "BN", "BO", "BQ", "BR", "CO", "EC"}; /* CO is the 32nd */
    for (int i = 0; i < 32; i++)
        o += (size_t)snprintf(qs + o, sizeof qs - o, "%s%s", i ? "," : "", cc[i]);
    expect_list(e, qs, A "," C, 2);
    snprintf(qs + o, sizeof qs - o, ",EC");
    expect_list_refused(e, qs, "citizenship", "max_items");
}

static void test_list_empty_filter_value(void **state)
{
    tu_env *e = *state;
    seed_cases(e);
    /* a filter without a value is refused, naming it; it must not silently match
     * nothing (nor shift the other filters' parameters) */
    static const char *const qs[] = {"status=", "status=&gender=Feminine",
                                     "gender=Feminine&citizenship=", "country_of_exploitation="};
    static const char *const bad[] = {"status", "status", "citizenship", "country_of_exploitation"};
    for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
        amp_err err = {0};
        json_t *res = NULL;
        amp_code code = list(e, qs[i], &res, &err);
        bool named = false;
        size_t k;
        json_t *f;
        json_array_foreach (err.fields, k, f)
            named = named || strcmp(sval(f, "field"), bad[i]) == 0;
        if (code != AMP_EBADREQ || !named) {
            dump_err(qs[i], code, &err);
            json_decref(res);
            amp_err_clear(&err);
            fail_msg("list %s: expected AMP_EBADREQ naming %s", qs[i], bad[i]);
        }
        assert_null(res);
        amp_err_clear(&err);
    }
}

/* ---- reads --------------------------------------------------------------------------- */

static void test_get_by_reference_and_id(void **state)
{
    tu_env *e = *state;
    amp_err err = {0};
    json_t *c = create_ok(e, TU_MINIMAL_CASE);
    json_t *by_ref = get_ok(e, "EC-2026-000001");
    json_t *by_id = get_ok(e, sval(c, "id"));
    assert_true(json_equal(by_ref, by_id));
    assert_true(json_equal(by_ref, c));
    json_decref(by_ref);
    json_decref(by_id);
    json_t *out = NULL;
    assert_int_equal(cases_get(e->core, &e->who, "EC-2026-000002", &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    assert_int_equal(
        cases_get(e->core, &e->who, "0195a3c2-7e41-7b8a-9c1d-2f4e6a8b0c13", &out, &err),
        AMP_ENOTFOUND);
    amp_err_clear(&err);
    assert_int_equal(cases_get(e->core, &e->who, "", &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    assert_int_equal(cases_history(e->core, &e->who, "EC-2026-000002", &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    assert_null(out);
    json_decref(c);
}

static void test_child_kinds(void **state)
{
    (void)state;
    assert_string_equal(core_child_kind("events")->entity, "event");
    assert_string_equal(core_child_kind("comments")->entity, "comment");
    assert_string_equal(core_child_kind("support_plans")->entity, "support_plan");
    assert_string_equal(core_child_kind("support-plans")->entity, "support_plan");
    assert_string_equal(core_child_kind("support-plans")->collection, "support_plans");
    assert_string_equal(core_child_kind("perpetrators")->entity, "perpetrator");
    assert_null(core_child_kind("event"));
    assert_null(core_child_kind("support_plan"));
    assert_null(core_child_kind("events-"));
    assert_null(core_child_kind(""));
}

/* ---- children ------------------------------------------------------------------------ */

static void test_children_lifecycle(void **state)
{
    tu_env *e = *state;
    amp_err err = {0};
    json_t *c = create_ok(e, TU_MINIMAL_CASE);
    json_t *other = create_ok(e, TU_MINIMAL_CASE);
    const char *cid = sval(c, "id");
    json_t *cm = NULL;
    assert_int_equal(
        child_create(e, cid, "comments", "{\"cco_CaseComment\":\"First contact\"}", &cm, &err),
        AMP_OK);
    const char *uid = sval(cm, "id");
    assert_int_equal(strlen(uid), 36);
    assert_int_equal(ival(cm, "version"), 1);
    assert_string_equal(sval(cm, "cco_CaseComment"), "First contact");
    assert_string_equal(sval(cm, "created_by"), "tester");

    /* read it back, by the case's id or reference */
    json_t *got = NULL;
    assert_int_equal(children_get(e->core, &e->who, "EC-2026-000001", core_child_kind("comments"),
                                  uid, &got, &err),
                     AMP_OK);
    assert_true(json_equal(got, cm));
    json_decref(got);
    json_t *items = NULL;
    assert_int_equal(
        children_list(e->core, &e->who, cid, core_child_kind("comments"), &items, &err), AMP_OK);
    assert_int_equal(json_array_size(json_object_get(items, "items")), 1);
    json_decref(items);
    /* not under another case or kind */
    assert_int_equal(children_get(e->core, &e->who, sval(other, "id"), core_child_kind("comments"),
                                  uid, &got, &err),
                     AMP_ENOTFOUND);
    amp_err_clear(&err);
    assert_int_equal(
        children_get(e->core, &e->who, cid, core_child_kind("events"), uid, &got, &err),
        AMP_ENOTFOUND);
    amp_err_clear(&err);
    assert_int_equal(child_update(e, sval(other, "id"), "comments", uid,
                                  "{\"cco_CaseComment\":\"x\"}", 1, NULL, &err),
                     AMP_ENOTFOUND);
    amp_err_clear(&err);
    assert_int_equal(
        child_create(e, "EC-2026-000099", "comments", "{\"cco_CaseComment\":\"x\"}", NULL, &err),
        AMP_ENOTFOUND);
    amp_err_clear(&err);

    /* update: version rules as for cases */
    assert_int_equal(
        child_update(e, cid, "comments", uid, "{\"cco_CaseComment\":\"Second\"}", 0, NULL, &err),
        AMP_ENEEDVER);
    amp_err_clear(&err);
    assert_int_equal(
        child_update(e, cid, "comments", uid, "{\"cco_CaseComment\":\"Second\"}", 2, NULL, &err),
        AMP_EPRECOND);
    amp_err_clear(&err);
    assert_int_equal(child_update(e, cid, "comments", uid,
                                  "{\"cco_CaseComment\":\"Second\",\"version\":5}", 0, NULL, &err),
                     AMP_ECONFLICT);
    amp_err_clear(&err);
    assert_int_equal(
        child_update(e, cid, "comments", uid, "{\"cco_CaseComment\":\"  \"}", 1, NULL, &err),
        AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "cco_CaseComment", "required"));
    amp_err_clear(&err);
    json_t *u = NULL;
    assert_int_equal(child_update(e, cid, "comments", uid,
                                  "{\"cco_CaseComment\":\"Second\",\"version\":1}", 0, &u, &err),
                     AMP_OK);
    assert_int_equal(ival(u, "version"), 2);
    assert_string_equal(sval(u, "cco_CaseComment"), "Second");
    assert_string_equal(sval(u, "id"), uid);
    json_decref(u);
    /* a patch that changes nothing keeps the version */
    assert_int_equal(
        child_update(e, cid, "comments", uid, "{\"cco_CaseComment\":\"Second\"}", 2, &u, &err),
        AMP_OK);
    assert_int_equal(ival(u, "version"), 2);
    json_decref(u);

    /* delete: a stale If-Match is refused, the right one deletes */
    json_t *del = NULL;
    assert_int_equal(child_delete(e, cid, "comments", uid, 1, &del, &err), AMP_EPRECOND);
    amp_err_clear(&err);
    assert_int_equal(child_delete(e, cid, "comments", uid, 2, &del, &err), AMP_OK);
    assert_string_equal(sval(del, "id"), uid);
    assert_true(json_is_true(json_object_get(del, "deleted")));
    json_decref(del);
    assert_int_equal(
        children_get(e->core, &e->who, cid, core_child_kind("comments"), uid, &got, &err),
        AMP_ENOTFOUND);
    amp_err_clear(&err);
    assert_int_equal(child_delete(e, cid, "comments", uid, 0, NULL, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);

    /* history of the child changes: names only, the child as target */
    json_t *h = history_ok(e, cid);
    assert_int_equal(json_array_size(h), 4);
    static const char *const actions[] = {"create", "comment.create", "comment.update",
                                          "comment.delete"};
    for (int i = 0; i < 4; i++) {
        json_t *it = json_array_get(h, (size_t)i);
        assert_string_equal(sval(it, "action"), actions[i]);
        assert_int_equal(ival(it, "version"), 1); /* the case's version */
        if (i > 0)
            assert_string_equal(sval(it, "target"), uid);
    }
    static const char *const cc[] = {"cco_CaseComment"};
    assert_true(same_names(json_object_get(json_array_get(h, 1), "fields"), cc, 1));
    assert_true(same_names(json_object_get(json_array_get(h, 2), "fields"), cc, 1));
    assert_int_equal(json_array_size(json_object_get(json_array_get(h, 3), "fields")), 0);
    char *dump = json_dumps(h, 0);
    assert_null(strstr(dump, "First contact"));
    assert_null(strstr(dump, "Second"));
    free(dump);
    json_decref(h);
    /* the other case's history is its own */
    h = history_ok(e, sval(other, "id"));
    assert_int_equal(json_array_size(h), 1);
    json_decref(h);
    json_decref(cm);
    json_decref(c);
    json_decref(other);
}

static void test_child_patch_null_and_readonly(void **state)
{
    tu_env *e = *state;
    amp_err err = {0};
    json_t *c = create_ok(e, "{\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\","
                             "\"events\":[{\"hte_Type\":\"Transit\",\"hte_City\":\"Tulcán\"}]}");
    const char *uid = sval(json_array_get(json_object_get(c, "events"), 0), "id");
    json_t *u = NULL;
    assert_int_equal(
        child_update(e, sval(c, "id"), "events", uid, "{\"hte_City\":null}", 1, &u, &err), AMP_OK);
    assert_null(json_object_get(u, "hte_City"));
    assert_int_equal(ival(u, "version"), 2);
    json_decref(u);
    assert_int_equal(child_update(e, sval(c, "id"), "events", uid,
                                  "{\"created_by\":\"me\",\"hte_Type\":\"Flight\"}", 2, NULL, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "created_by", "read_only"));
    assert_true(tu_has_field_error(&err, "hte_Type", "picklist"));
    amp_err_clear(&err);
    json_t *now = get_ok(e, sval(c, "id"));
    json_t *ev = json_array_get(json_object_get(now, "events"), 0);
    assert_string_equal(sval(ev, "hte_Type"), "Transit");
    assert_int_equal(ival(ev, "version"), 2);
    json_decref(now);
    json_decref(c);
}

/* ---- things the core must not do --------------------------------------------------------- */

static void test_create_leaves_body_unchanged(void **state)
{
    tu_env *e = *state;
    json_t *body = tu_json("{\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\","
                           "\"prs_MiddleName\":null,"
                           "\"events\":[{\"hte_Type\":\"Transit\",\"hte_City\":null}]}");
    json_t *copy = json_deep_copy(body);
    amp_err err = {0};
    json_t *rec = NULL;
    assert_int_equal(cases_create_sync(e->core, &e->who, body, &rec, &err), AMP_OK);
    /* nulls are not stored */
    assert_null(json_object_get(rec, "prs_MiddleName"));
    assert_null(json_object_get(json_array_get(json_object_get(rec, "events"), 0), "hte_City"));
    json_decref(rec);
    bool unchanged = json_equal(body, copy);
    json_decref(body);
    json_decref(copy);
    if (!unchanged) {
        /* Fixed bug, guarded here: src/core/cases.c split_case_body() (json_object_set of the child
         * array) shares the caller's child arrays, and new_case_build() then runs drop_nulls() on
         * each child document, deleting members of the caller's `const json_t *body` (here
         * events[0].hte_City).  cases_bulk_insert and any caller that reuses or logs the body see
         * it changed.  Fix: deep-copy the child arrays in split_case_body
         * (json_object_set_new(*children, kind->entity, json_deep_copy(v))). */
        fail_msg("regression of a fixed bug: see the comment above");
    }
}

static void test_non_object_child_path(void **state)
{
    tu_env *e = *state;
    amp_err err = {0};
    json_t *rec = NULL;
    assert_int_equal(create(e,
                            "{\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\","
                            "\"events\":[{\"hte_Type\":\"Transit\"},\"Quito\"]}",
                            &rec, &err),
                     AMP_EINVALID);
    assert_int_equal(json_array_size(err.fields), 1);
    const char *field = sval(json_array_get(err.fields, 0), "field");
    assert_string_equal(sval(json_array_get(err.fields, 0), "rule"), "object");
    bool ok = strcmp(field, "events[1]") == 0;
    amp_err_clear(&err);
    if (!ok) {
        /* Fixed bug, guarded here: src/core/cases.c validate_child() reports a non-object child at
         * the prefix "events[1]." (trailing dot) instead of the path "events[1]", unlike every
         * other field path.  Fix: when !json_is_object(doc), format the path as "%s[%d]"
         * (kind->collection, index) rather than reusing `prefix`. */
        fail_msg("regression of a fixed bug: see the comment above");
    }
}

/* ---- concurrency --------------------------------------------------------------------- */

#define CREATORS 4
#define PER_CREATOR 25

typedef struct {
    tu_env *e;
    int failures;
    char refs[PER_CREATOR][40];
} creator;

static void *create_many(void *arg)
{
    creator *cr = arg;
    json_t *body = tu_json(TU_MINIMAL_CASE);
    for (int i = 0; i < PER_CREATOR; i++) {
        amp_err err = {0};
        json_t *rec = NULL;
        if (cases_create_sync(cr->e->core, &cr->e->who, body, &rec, &err) != AMP_OK) {
            cr->failures++;
            amp_err_clear(&err);
            continue;
        }
        snprintf(cr->refs[i], sizeof cr->refs[i], "%s", sval(rec, "reference"));
        json_decref(rec);
    }
    json_decref(body);
    return NULL;
}

static void test_concurrent_creates_get_distinct_references(void **state)
{
    tu_env *e = *state;
    creator *cr = calloc(CREATORS, sizeof *cr);
    pthread_t th[CREATORS];
    for (int k = 0; k < CREATORS; k++) {
        cr[k].e = e;
        assert_int_equal(pthread_create(&th[k], NULL, create_many, &cr[k]), 0);
    }
    for (int k = 0; k < CREATORS; k++)
        pthread_join(th[k], NULL);
    bool seen[CREATORS * PER_CREATOR + 1] = {false};
    for (int k = 0; k < CREATORS; k++) {
        assert_int_equal(cr[k].failures, 0);
        for (int i = 0; i < PER_CREATOR; i++) {
            const char *ref = cr[k].refs[i];
            assert_true(is_reference(ref));
            assert_memory_equal(ref, "EC-2026-", 8);
            int n = atoi(ref + 8);
            assert_in_range(n, 1, CREATORS * PER_CREATOR);
            assert_false(seen[n]);
            seen[n] = true;
        }
    }
    assert_int_equal(total_cases(e), CREATORS * PER_CREATOR);
    free(cr);
}

#define ORG_PUTTERS 4
#define PUTS_EACH 20

static void *put_org_many(void *arg)
{
    tu_env *e = arg;
    json_t *b = tu_json("{\"id\":\"shared\",\"org_Name\":\"Shared\"}");
    for (int i = 0; i < PUTS_EACH; i++) {
        amp_err err = {0};
        if (orgs_put(e->core, &e->who, b, NULL, &err) != AMP_OK)
            amp_err_clear(&err);
    }
    json_decref(b);
    return NULL;
}

static void test_concurrent_org_puts_count_versions(void **state)
{
    tu_env *e = *state;
    pthread_t th[ORG_PUTTERS];
    for (int k = 0; k < ORG_PUTTERS; k++)
        assert_int_equal(pthread_create(&th[k], NULL, put_org_many, e), 0);
    for (int k = 0; k < ORG_PUTTERS; k++)
        pthread_join(th[k], NULL);
    amp_err err = {0};
    json_t *out = NULL;
    assert_int_equal(orgs_list(e->core, &e->who, &out, &err), AMP_OK);
    json_t *org = json_array_get(json_object_get(out, "items"), 0);
    json_int_t version = ival(org, "version");
    json_decref(out);
    if (version != ORG_PUTTERS * PUTS_EACH) {
        /* Fixed bug, guarded here: src/core/cases.c orgs_put() computes the new version from a read
         * (store_org_get) made outside the write job, so concurrent replacements of one
         * organisation read the same old version and write the same new one: here 80
         * puts ended at a lower version, and two different documents can carry the
         * same version/ETag.  Fix: compute the version inside the job, e.g. make
         * S_ORG_PUT "... ON CONFLICT(id) DO UPDATE SET version = version + 1, ..."
         * RETURNING version (or read the row with the tx connection in job_org_put). */
        print_message("orgs_put: %d puts gave version %lld\n", ORG_PUTTERS * PUTS_EACH,
                      (long long)version);
        fail_msg("regression of a fixed bug: see the comment above");
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_reference_and_defaults),
        T(test_reference_sequences),
        T(test_create_with_children),
        T(test_create_invalid_lists_every_field),
        T(test_create_too_many_children),
        T(test_read_only_keys),
        T(test_orgs),
        T(test_owner_organisation_lookup),
        T(test_update_versions),
        T(test_update_history_fields_sorted),
        T(test_update_merge_patch),
        T(test_update_refuses_child_arrays),
        T(test_update_birthdate_after_event),
        T(test_messages_follow_language),
        T(test_list_filters),
        T(test_list_follows_updates_and_events),
        T(test_list_errors_in_callers_language),
        T(test_list_bad_parameters),
        T(test_list_empty_filter_value),
        T(test_get_by_reference_and_id),
        cmocka_unit_test(test_child_kinds),
        T(test_children_lifecycle),
        T(test_child_patch_null_and_readonly),
        T(test_create_leaves_body_unchanged),
        T(test_non_object_child_path),
        T(test_concurrent_creates_get_distinct_references),
        T(test_concurrent_org_puts_count_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
