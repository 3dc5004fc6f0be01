/* test_referrals.c — the referral mechanism's core: every referral transition
 * and refusal, consent, visibility across organisations, deadlines on
 * working-day calendars, identification decisions, closure, tasks, hotline
 * contacts and assistance, with principals of several organisations. */
#include "testutil.h"

#include "core/assistance.h"
#include "core/directory.h"
#include "core/hotline.h"
#include "core/lifecycle.h"
#include "core/refcommon.h"
#include "core/referrals.h"
#include "util/log.h"

typedef struct {
    tu_env *e;
    principal sys, cw_a, cw_b, cw_c, coord, analyst, hot_a, admin;
    char case_id[40], child_id[40], noconsent_id[40];
} world;

static principal person(const char *name, const char *org, uint32_t roles)
{
    principal p = {.roles = roles, .user_id = 7};
    snprintf(p.actor, sizeof p.actor, "%s", name);
    snprintf(p.org, sizeof p.org, "%s", org);
    snprintf(p.lang, sizeof p.lang, "en");
    return p;
}

static void must(amp_code code, const amp_err *err, const char *what)
{
    if (code != AMP_OK) {
        char *f = err->fields ? json_dumps(err->fields, JSON_COMPACT) : NULL;
        fail_msg("%s: %s %s %s", what, amp_code_name(code), err->message, f ? f : "");
    }
}

static void make_case(world *w, const char *body, char out[40])
{
    json_t *b = tu_json(body), *rec = NULL;
    amp_err err = {0};
    must(cases_create_sync(w->e->core, &w->sys, b, &rec, &err), &err, "case");
    snprintf(out, 40, "%s", json_string_value(json_object_get(rec, "id")));
    json_decref(rec);
    json_decref(b);
}

static int setup(void **state)
{
    log_set_quiet(1);
    world *w = calloc(1, sizeof *w);
    w->e = tu_env_new();
    clock_set_now("2026-06-12T10:00:00Z"); /* a Friday */
    clock_set_today("2026-06-12");
    w->sys = person("system", "", 0);
    w->sys.internal = true;
    w->cw_a = person("cw-a", "org-a", ROLE_CASEWORKER);
    w->cw_b = person("cw-b", "org-b", ROLE_CASEWORKER);
    w->cw_c = person("cw-c", "org-c", ROLE_CASEWORKER);
    w->coord = person("coord", "org-a", ROLE_COORDINATOR);
    w->analyst = person("analyst", "org-a", ROLE_ANALYST);
    w->hot_a = person("hotline-a", "org-a", ROLE_HOTLINE);
    w->admin = person("admin", "", ROLE_SYSADMIN);
    static const char *const orgs[][2] = {{"org-a", "EC"}, {"org-b", "EC"}, {"org-c", "PE"}};
    for (size_t i = 0; i < 3; i++) {
        char text[200];
        snprintf(text, sizeof text,
                 "{\"id\":\"%s\",\"org_Name\":\"Org %s\",\"org_Type\":\"NGO\",\"amp_OrgCountry\":"
                 "\"%s\"}",
                 orgs[i][0], orgs[i][0], orgs[i][1]);
        json_t *b = tu_json(text), *out = NULL;
        amp_err err = {0};
        must(orgs_put(w->e->core, &w->sys, b, &out, &err), &err, "org");
        json_decref(out);
        json_decref(b);
    }
    make_case(w,
              "{\"prs_Gender\":\"Feminine\",\"prs_FirstName\":\"Ana\",\"prs_Birthdate\":"
              "\"1990-02-01\",\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\","
              "\"amp_OwnerOrganisation\":\"org-a\",\"con_Consent\":true,\"amp_ConsentScope\":"
              "[\"Registration\",\"Referral\"],\"amp_RegistrationDate\":\"2026-06-12\"}",
              w->case_id);
    make_case(w,
              "{\"prs_Gender\":\"Masculine\",\"prs_Birthdate\":\"2012-02-01\","
              "\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\","
              "\"amp_OwnerOrganisation\":\"org-a\",\"con_Consent\":true,\"amp_ConsentScope\":"
              "[\"Registration\",\"Referral\"]}",
              w->child_id);
    make_case(w,
              "{\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":"
              "\"PossibleVictimOfTrafficking\",\"amp_OwnerOrganisation\":\"org-a\"}",
              w->noconsent_id);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    clock_set_now(NULL);
    clock_set_today(TEST_TODAY);
    tu_env_free(w->e);
    free(w);
    return 0;
}

static const char *sv(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static amp_code send(world *w, const principal *p, const char *case_id, const char *to,
                     const char *urgency, json_t **out, amp_err *err)
{
    char text[600];
    snprintf(text, sizeof text,
             "{\"case\":\"%s\",\"to_org\":\"%s\",\"services\":[\"Shelter\"],\"urgency\":\"%s\","
             "\"reason\":\"AdditionalServicesRequired\",\"notes\":\"needs a safe place\"}",
             case_id, to, urgency);
    json_t *b = tu_json(text);
    *out = NULL;
    amp_code code = referrals_send(w->e->core, p, b, out, err);
    json_decref(b);
    return code;
}

static json_t *send_ok(world *w, const principal *p, const char *case_id, const char *to,
                       const char *urgency)
{
    amp_err err = {0};
    json_t *out;
    must(send(w, p, case_id, to, urgency, &out, &err), &err, "send");
    return out;
}

typedef amp_code (*trans_fn)(core *, const principal *, const char *, const json_t *, int64_t,
                             json_t **, amp_err *);

static amp_code act(world *w, trans_fn fn, const principal *p, const char *id, const char *body,
                    amp_err *err)
{
    json_t *b = body ? tu_json(body) : NULL, *out = NULL;
    amp_code code = fn(w->e->core, p, id, b, 0, &out, err);
    json_decref(out);
    json_decref(b);
    return code;
}

/* ---- the happy path and visibility ---- */

static void test_send_accept_complete(void **state)
{
    world *w = *state;
    core *c = w->e->core;
    json_t *r = send_ok(w, &w->cw_a, w->case_id, "org-b", "Standard");
    char id[40];
    snprintf(id, sizeof id, "%s", sv(r, "id"));
    assert_string_equal(sv(r, "status"), "Sent");
    assert_string_equal(sv(r, "from_org"), "org-a");
    assert_string_equal(sv(r, "due_at"), "2026-06-19T10:00:00.000Z"); /* 5 working days */
    assert_false(json_is_true(json_object_get(r, "cross_border")));
    json_decref(r);

    /* the receiver sees a summary without identity and no free text, and no case yet */
    json_t *got = NULL;
    amp_err err = {0};
    must(referrals_get(c, &w->cw_b, id, &got, &err), &err, "get");
    const json_t *sum = json_object_get(got, "case_summary");
    assert_non_null(sum);
    assert_string_equal(sv(sum, "prs_Gender"), "Feminine");
    assert_string_equal(sv(sum, "age_group"), "30--38");
    assert_null(json_object_get(sum, "prs_FirstName"));
    assert_null(json_object_get(sum, "prs_Birthdate"));
    assert_null(json_object_get(got, "notes"));
    json_decref(got);
    assert_int_equal(cases_access(c, &w->cw_b, w->case_id, ACT_READ, NULL, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    /* an organisation that is not a party does not see it at all */
    assert_int_equal(referrals_get(c, &w->cw_c, id, &got, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    /* the inbox and outbox */
    list_param inbox[] = {{"box", "inbox"}};
    json_t *l = NULL;
    must(referrals_list(c, &w->cw_b, inbox, 1, &l, &err), &err, "inbox");
    assert_int_equal(json_integer_value(json_object_get(l, "total")), 1);
    json_decref(l);
    must(referrals_list(c, &w->cw_a, inbox, 1, &l, &err), &err, "inbox a");
    assert_int_equal(json_integer_value(json_object_get(l, "total")), 0);
    json_decref(l);

    /* the sender cannot accept; the receiver can, once */
    assert_int_equal(act(w, referrals_accept, &w->cw_a, id, NULL, &err), AMP_EFORBIDDEN);
    amp_err_clear(&err);
    clock_set_now("2026-06-12T16:30:00Z");
    must(act(w, referrals_accept, &w->cw_b, id, NULL, &err), &err, "accept");
    assert_int_equal(act(w, referrals_accept, &w->cw_b, id, NULL, &err), AMP_ESTATE);
    amp_err_clear(&err);
    assert_int_equal(act(w, referrals_decline, &w->cw_b, id, "{\"reason\":\"NoCapacity\"}", &err),
                     AMP_ESTATE);
    amp_err_clear(&err);
    /* the receiver now opens the case and reads the notes */
    store_row row;
    must(cases_access(c, &w->cw_b, w->case_id, ACT_READ, &row, &err), &err, "access");
    assert_string_equal(sv(row.doc, "cas_ReferredOrganisation"), "org-b");
    assert_string_equal(sv(row.doc, "cas_ReferringOrganisation"), "org-a");
    assert_string_equal(sv(row.doc, "cas_ReasonForOutgoingReferral"), "AdditionalServicesRequired");
    assert_string_equal(sv(row.doc, "cas_IncomingReferralDate"), "2026-06-12");
    store_row_release(&row);
    must(referrals_get(c, &w->cw_b, id, &got, &err), &err, "get after accept");
    assert_string_equal(sv(got, "notes"), "needs a safe place");
    assert_string_equal(sv(got, "status"), "Accepted");
    assert_true(json_number_value(json_object_get(got, "response_hours")) == 6.5);
    assert_int_equal(json_array_size(json_object_get(got, "history")), 2);
    json_decref(got);
    /* cancel after acceptance, completion by the sender: refused */
    assert_int_equal(
        act(w, referrals_cancel, &w->cw_a, id, "{\"reason\":\"NoLongerNeeded\"}", &err),
        AMP_ESTATE);
    amp_err_clear(&err);
    assert_int_equal(
        act(w, referrals_complete, &w->cw_a, id, "{\"outcome\":\"ServicesProvided\"}", &err),
        AMP_EFORBIDDEN);
    amp_err_clear(&err);
    assert_int_equal(act(w, referrals_complete, &w->cw_b, id, "{}", &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "outcome", "required"));
    amp_err_clear(&err);
    must(act(w, referrals_complete, &w->cw_b, id, "{\"outcome\":\"ServicesProvided\"}", &err), &err,
         "complete");
    assert_int_equal(
        act(w, referrals_complete, &w->cw_b, id, "{\"outcome\":\"ServicesProvided\"}", &err),
        AMP_ESTATE);
    amp_err_clear(&err);
    /* flows: counts and answer time, no case */
    json_t *flows = NULL;
    must(referrals_flows(c, &w->coord, NULL, 0, &flows, &err), &err, "flows");
    json_t *f0 = json_array_get(json_object_get(flows, "items"), 0);
    assert_string_equal(sv(f0, "from_org"), "org-a");
    assert_int_equal(json_integer_value(json_object_get(f0, "completed")), 1);
    assert_true(json_number_value(json_object_get(f0, "median_hours")) == 6.5);
    char *text = json_dumps(flows, JSON_COMPACT);
    assert_null(strstr(text, w->case_id));
    free(text);
    json_decref(flows);
}

static void test_refusals(void **state)
{
    world *w = *state;
    core *c = w->e->core;
    amp_err err = {0};
    json_t *out = NULL;
    /* consent missing: each missing element named */
    assert_int_equal(send(w, &w->cw_a, w->noconsent_id, "org-b", "Standard", &out, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "con_Consent", "consent_required"));
    assert_true(tu_has_field_error(&err, "amp_ConsentScope", "consent_scope"));
    amp_err_clear(&err);
    /* a child without guardian consent or best-interest decision */
    assert_int_equal(send(w, &w->cw_a, w->child_id, "org-b", "Standard", &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "amp_GuardianConsent", "guardian_consent_required"));
    amp_err_clear(&err);
    /* across the border (org-c is in PE) the CrossBorder scope is needed */
    assert_int_equal(send(w, &w->cw_a, w->case_id, "org-c", "Standard", &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "amp_ConsentScope", "consent_scope"));
    char *fields = json_dumps(err.fields, 0);
    bool names_scope = fields && strstr(fields, "CrossBorder");
    free(fields);
    assert_true(names_scope);
    amp_err_clear(&err);
    /* roles, scope and bad bodies */
    assert_int_equal(send(w, &w->analyst, w->case_id, "org-b", "Standard", &out, &err),
                     AMP_EFORBIDDEN);
    amp_err_clear(&err);
    assert_int_equal(send(w, &w->cw_c, w->case_id, "org-b", "Standard", &out, &err),
                     AMP_ENOTFOUND); /* not org-c's case */
    amp_err_clear(&err);
    assert_int_equal(send(w, &w->cw_a, w->case_id, "org-a", "Standard", &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "to_org", "other_organisation"));
    amp_err_clear(&err);
    json_t *b = tu_json("{\"case\":\"x\",\"to_org\":\"nowhere\",\"services\":[\"Spa\"],"
                        "\"urgency\":\"Soon\",\"colour\":1}");
    assert_int_equal(referrals_send(c, &w->cw_a, b, &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "to_org", "lookup"));
    assert_true(tu_has_field_error(&err, "services", "picklist"));
    assert_true(tu_has_field_error(&err, "urgency", "picklist"));
    assert_true(tu_has_field_error(&err, "reason", "required"));
    assert_true(tu_has_field_error(&err, "colour", "unknown_field"));
    amp_err_clear(&err);
    json_decref(b);

    /* one pending referral per receiver; decline needs a reason; the receiver cannot cancel */
    json_t *r = send_ok(w, &w->cw_a, w->case_id, "org-b", "Emergency");
    char id[40];
    snprintf(id, sizeof id, "%s", sv(r, "id"));
    assert_string_equal(sv(r, "due_at"), "2026-06-13T10:00:00.000Z"); /* 24 hours */
    json_decref(r);
    assert_int_equal(send(w, &w->cw_a, w->case_id, "org-b", "Standard", &out, &err), AMP_ESTATE);
    amp_err_clear(&err);
    assert_int_equal(act(w, referrals_decline, &w->cw_b, id, "{}", &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "reason", "required"));
    amp_err_clear(&err);
    assert_int_equal(act(w, referrals_decline, &w->cw_b, id, "{\"reason\":\"Busy\"}", &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "reason", "picklist"));
    amp_err_clear(&err);
    assert_int_equal(
        act(w, referrals_cancel, &w->cw_b, id, "{\"reason\":\"NoLongerNeeded\"}", &err),
        AMP_EFORBIDDEN);
    amp_err_clear(&err);
    assert_int_equal(act(w, referrals_accept, &w->cw_c, id, NULL, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    assert_int_equal(act(w, referrals_accept, &w->coord, id, NULL, &err), AMP_EFORBIDDEN);
    amp_err_clear(&err);
    must(act(w, referrals_decline, &w->cw_b, id,
             "{\"reason\":\"NoCapacity\",\"details\":\"full until July\"}", &err),
         &err, "decline");
    /* completing a declined referral */
    assert_int_equal(
        act(w, referrals_complete, &w->cw_b, id, "{\"outcome\":\"ServicesProvided\"}", &err),
        AMP_ESTATE);
    assert_string_equal(amp_code_name(err.code), "invalid_state");
    amp_err_clear(&err);
    /* the decline gives no access; a new referral may be sent, then cancelled */
    assert_int_equal(cases_access(c, &w->cw_b, w->case_id, ACT_READ, NULL, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    r = send_ok(w, &w->cw_a, w->case_id, "org-b", "Standard");
    snprintf(id, sizeof id, "%s", sv(r, "id"));
    json_decref(r);
    assert_int_equal(act(w, referrals_cancel, &w->cw_a, id, "{}", &err), AMP_EINVALID);
    amp_err_clear(&err);
    must(act(w, referrals_cancel, &w->cw_a, id, "{\"reason\":\"SentInError\"}", &err), &err,
         "cancel");
    assert_int_equal(act(w, referrals_accept, &w->cw_b, id, NULL, &err), AMP_ESTATE);
    amp_err_clear(&err);
    /* stale versions */
    r = send_ok(w, &w->cw_a, w->case_id, "org-b", "Standard");
    snprintf(id, sizeof id, "%s", sv(r, "id"));
    json_decref(r);
    assert_int_equal(referrals_accept(c, &w->cw_b, id, NULL, 7, &out, &err), AMP_EPRECOND);
    amp_err_clear(&err);
    must(referrals_accept(c, &w->cw_b, id, NULL, 1, &out, &err), &err, "accept v1");
    json_decref(out);
    /* free text needs identity write rights; a shelter answers without it */
    assert_int_equal(send(w, &w->coord, w->case_id, "org-c", "Standard", &out, &err),
                     AMP_EFORBIDDEN);
    assert_true(tu_has_field_error(&err, "notes", "forbidden"));
    amp_err_clear(&err);
    principal shelter_b = person("shelter-b", "org-b", ROLE_SHELTER);
    r = send_ok(w, &w->cw_a, w->case_id, "org-b", "Standard");
    json_decref(r);
    /* (the previous one to org-b was accepted; this is a new pending one) */
    list_param inbox[] = {{"box", "inbox"}, {"status", "Sent"}};
    must(referrals_list(c, &shelter_b, inbox, 2, &out, &err), &err, "shelter inbox");
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 1);
    char sid[40];
    snprintf(sid, sizeof sid, "%s", sv(json_array_get(json_object_get(out, "items"), 0), "id"));
    json_decref(out);
    assert_int_equal(act(w, referrals_decline, &shelter_b, sid,
                         "{\"reason\":\"NoCapacity\",\"details\":\"x\"}", &err),
                     AMP_EFORBIDDEN);
    assert_true(tu_has_field_error(&err, "details", "forbidden"));
    amp_err_clear(&err);
    must(act(w, referrals_decline, &shelter_b, sid, "{\"reason\":\"NoCapacity\"}", &err), &err,
         "shelter decline");
    /* messages in the caller's language */
    principal es = w->cw_b;
    snprintf(es.lang, sizeof es.lang, "es");
    assert_int_equal(act(w, referrals_accept, &es, id, NULL, &err), AMP_ESTATE);
    assert_non_null(strstr(err.message, "derivación"));
    amp_err_clear(&err);
}

static void test_deadlines_and_overdue(void **state)
{
    world *w = *state;
    core *c = w->e->core;
    amp_err err = {0};
    json_t *out = NULL;
    /* a holiday on Monday 15 June in Ecuador pushes the deadline one day */
    json_t *s = tu_json("{\"standard_working_days\":3,\"calendars\":{\"EC\":{\"dates\":"
                        "[\"2026-06-15\"]}}}");
    assert_int_equal(rc_settings_put(c, &w->cw_a, s, 0, &out, &err), AMP_EFORBIDDEN);
    amp_err_clear(&err);
    must(rc_settings_put(c, &w->admin, s, 0, &out, &err), &err, "settings");
    assert_int_equal(json_integer_value(json_object_get(out, "standard_working_days")), 3);
    json_decref(out);
    json_decref(s);
    s = tu_json("{\"standard_working_days\":0,\"calendars\":{\"ec\":{}}}");
    assert_int_equal(rc_settings_put(c, &w->admin, s, 0, &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "standard_working_days", "min"));
    assert_true(tu_has_field_error(&err, "calendars.ec", "country"));
    amp_err_clear(&err);
    json_decref(s);
    json_t *r = send_ok(w, &w->cw_a, w->case_id, "org-b", "Standard");
    /* Fri 12 + 3 working days, skipping Sat, Sun and the holiday Mon 15 → Thu 18 */
    assert_string_equal(sv(r, "due_at"), "2026-06-18T10:00:00.000Z");
    char id[40];
    snprintf(id, sizeof id, "%s", sv(r, "id"));
    json_decref(r);
    list_param overdue[] = {{"overdue", "true"}};
    must(referrals_list(c, &w->cw_b, overdue, 1, &out, &err), &err, "overdue list");
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 0);
    json_decref(out);
    /* a week later it is overdue: flagged in lists and as tasks on both sides */
    clock_set_now("2026-06-19T09:00:00Z");
    clock_set_today("2026-06-19");
    must(referrals_list(c, &w->cw_b, overdue, 1, &out, &err), &err, "overdue list 2");
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 1);
    assert_true(
        json_is_true(json_object_get(json_array_get(json_object_get(out, "items"), 0), "overdue")));
    json_decref(out);
    list_param kind[] = {{"kind", "ReferralAnswerDue"}};
    must(tasks_list(c, &w->cw_b, kind, 1, &out, &err), &err, "tasks b");
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 1);
    json_t *t = json_array_get(json_object_get(out, "items"), 0);
    assert_true(json_is_true(json_object_get(t, "overdue")));
    assert_string_equal(sv(t, "referral"), id);
    json_decref(out);
    list_param kind2[] = {{"kind", "ReferralOverdue"}};
    must(tasks_list(c, &w->cw_a, kind2, 1, &out, &err), &err, "tasks a");
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 1);
    json_decref(out);
    /* answering late is recorded as such */
    must(act(w, referrals_accept, &w->cw_b, id, NULL, &err), &err, "late accept");
    json_t *got = NULL;
    must(referrals_get(c, &w->cw_a, id, &got, &err), &err, "get");
    assert_false(json_is_true(json_object_get(got, "answered_on_time")));
    assert_false(json_is_true(json_object_get(got, "overdue")));
    json_decref(got);
    list_param bad[] = {{"overdue", "maybe"}};
    assert_int_equal(referrals_list(c, &w->cw_b, bad, 1, &out, &err), AMP_EINVALID);
    amp_err_clear(&err);
}

static void test_decisions(void **state)
{
    world *w = *state;
    core *c = w->e->core;
    amp_err err = {0};
    json_t *out = NULL, *b;
    b = tu_json("{\"kind\":\"Conclusive\",\"outcome\":\"Positive\",\"decision_maker\":\"Police\"}");
    assert_int_equal(lifecycle_decide(c, &w->cw_a, w->case_id, b, &out, &err), AMP_ESTATE);
    amp_err_clear(&err);
    json_decref(b);
    must(lifecycle_decisions(c, &w->cw_a, w->case_id, &out, &err), &err, "decisions");
    json_t *id = json_object_get(out, "identification");
    assert_string_equal(sv(id, "stage"), "AwaitingInitial");
    assert_string_equal(sv(id, "initial_due"), "2026-06-19"); /* 5 working days */
    json_decref(out);
    b = tu_json("{\"kind\":\"Initial\",\"outcome\":\"Positive\",\"decision_maker\":\"Sheriff\"}");
    assert_int_equal(lifecycle_decide(c, &w->cw_a, w->case_id, b, &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "decision_maker", "picklist"));
    amp_err_clear(&err);
    json_decref(b);
    b = tu_json("{\"kind\":\"Initial\",\"outcome\":\"Positive\",\"decision_maker\":\"Police\"}");
    assert_int_equal(lifecycle_decide(c, &w->cw_c, w->case_id, b, &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    must(lifecycle_decide(c, &w->cw_a, w->case_id, b, &out, &err), &err, "initial");
    id = json_object_get(out, "identification");
    assert_string_equal(sv(id, "stage"), "Reflection");
    assert_string_equal(sv(id, "reflection_ends"), "2026-07-12"); /* 30 days */
    assert_string_equal(sv(id, "conclusive_due"), "2026-07-24");  /* + 10 working days */
    json_decref(out);
    assert_int_equal(lifecycle_decide(c, &w->cw_a, w->case_id, b, &out, &err), AMP_ESTATE);
    amp_err_clear(&err);
    json_decref(b);
    b = tu_json("{\"kind\":\"Conclusive\",\"outcome\":\"Positive\",\"decision_maker\":"
                "\"CourtOrProsecution\"}");
    must(lifecycle_decide(c, &w->cw_a, w->case_id, b, &out, &err), &err, "conclusive");
    json_decref(out);
    store_row row;
    must(cases_access(c, &w->cw_a, w->case_id, ACT_READ, &row, &err), &err, "case");
    assert_string_equal(sv(row.doc, "vic_TraffickingStatus"), "ActualVictimOfTrafficking");
    assert_string_equal(sv(row.doc, "vic_TraffickingStatusDecisionMakingOrg"),
                        "CourtOrProsecution");
    store_row_release(&row);
    assert_int_equal(lifecycle_decide(c, &w->cw_a, w->case_id, b, &out, &err), AMP_ESTATE);
    amp_err_clear(&err);
    json_decref(b);
}

static void test_close_reopen(void **state)
{
    world *w = *state;
    core *c = w->e->core;
    amp_err err = {0};
    json_t *out = NULL;
    json_t *r = send_ok(w, &w->cw_a, w->case_id, "org-b", "Standard");
    char id[40];
    snprintf(id, sizeof id, "%s", sv(r, "id"));
    json_decref(r);
    json_t *b = tu_json("{\"reason\":\"reintegrated\",\"follow_up\":\"2026-09-01\"}");
    assert_int_equal(lifecycle_close(c, &w->cw_a, w->case_id, b, &out, &err), AMP_ESTATE);
    assert_non_null(strstr(err.message, id));
    amp_err_clear(&err);
    must(act(w, referrals_cancel, &w->cw_a, id, "{\"reason\":\"NoLongerNeeded\"}", &err), &err,
         "cancel");
    json_t *noreason = tu_json("{}");
    assert_int_equal(lifecycle_close(c, &w->cw_a, w->case_id, noreason, &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "reason", "required"));
    amp_err_clear(&err);
    must(lifecycle_close(c, &w->cw_a, w->case_id, b, &out, &err), &err, "close");
    json_decref(out);
    assert_int_equal(lifecycle_close(c, &w->cw_a, w->case_id, b, &out, &err), AMP_ESTATE);
    amp_err_clear(&err);
    store_row row;
    must(cases_access(c, &w->cw_a, w->case_id, ACT_READ, &row, &err), &err, "case");
    assert_string_equal(sv(row.doc, "cas_Status"), "Closed");
    assert_string_equal(sv(row.doc, "cas_ReasonForCaseClosure"), "reintegrated");
    store_row_release(&row);
    /* no referral of a closed case; the follow-up reminder is a task */
    assert_int_equal(send(w, &w->cw_a, w->case_id, "org-b", "Standard", &out, &err), AMP_ESTATE);
    amp_err_clear(&err);
    list_param fu[] = {{"kind", "FollowUp"}};
    must(tasks_list(c, &w->cw_a, fu, 1, &out, &err), &err, "tasks");
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 1);
    char task[40];
    snprintf(task, sizeof task, "%s", sv(json_array_get(json_object_get(out, "items"), 0), "task"));
    json_decref(out);
    assert_int_equal(tasks_done(c, &w->cw_b, task, &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    must(tasks_done(c, &w->cw_a, task, &out, &err), &err, "done");
    json_decref(out);
    assert_int_equal(tasks_done(c, &w->cw_a, task, &out, &err), AMP_ESTATE);
    amp_err_clear(&err);
    json_t *re = tu_json("{\"reason\":\"new exploitation reported\"}");
    must(lifecycle_reopen(c, &w->cw_a, w->case_id, re, &out, &err), &err, "reopen");
    json_decref(out);
    assert_int_equal(lifecycle_reopen(c, &w->cw_a, w->case_id, re, &out, &err), AMP_ESTATE);
    amp_err_clear(&err);
    must(lifecycle_events(c, &w->cw_a, w->case_id, &out, &err), &err, "events");
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 2);
    json_decref(out);
    json_decref(re);
    json_decref(noreason);
    json_decref(b);
}

static void test_hotline(void **state)
{
    world *w = *state;
    core *c = w->e->core;
    amp_err err = {0};
    json_t *out = NULL;
    principal hot_c = person("hotline-c", "org-c", ROLE_HOTLINE);
    json_t *b = tu_json("{\"channel\":\"Phone\",\"caller_type\":\"Relative\",\"urgency\":\"High\","
                        "\"language\":\"es\",\"indicators\":[\"DocumentsWithheld\"],"
                        "\"summary\":\"her sister is locked in a workshop\","
                        "\"received_at\":\"2026-06-12T08:00:00Z\"}");
    assert_int_equal(hotline_create(c, &w->cw_a, b, &out, &err), AMP_EFORBIDDEN);
    amp_err_clear(&err);
    must(hotline_create(c, &w->hot_a, b, &out, &err), &err, "contact");
    char id[40];
    snprintf(id, sizeof id, "%s", sv(out, "id"));
    json_decref(out);
    json_decref(b);
    b = tu_json("{\"channel\":\"Fax\",\"caller_type\":\"Relative\",\"urgency\":\"High\","
                "\"indicators\":[\"Nope\"]}");
    assert_int_equal(hotline_create(c, &w->hot_a, b, &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "channel", "picklist"));
    assert_true(tu_has_field_error(&err, "indicators", "picklist"));
    amp_err_clear(&err);
    json_decref(b);
    /* another hotline does not see it; a coordinator sees it without the summary */
    assert_int_equal(hotline_get(c, &hot_c, id, &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    principal coord_c = person("coord-c", "org-c", ROLE_COORDINATOR);
    must(hotline_get(c, &coord_c, id, &out, &err), &err, "coord get");
    assert_null(json_object_get(out, "summary"));
    json_decref(out);
    /* a repeat contact attaches to the same record */
    b = tu_json("{\"channel\":\"Messaging\",\"indicators\":[\"MovementRestricted\"],"
                "\"outcome\":\"ReferredToPolice\"}");
    must(hotline_repeat(c, &w->hot_a, id, b, &out, &err), &err, "repeat");
    assert_int_equal(json_integer_value(json_object_get(out, "repeat_count")), 1);
    assert_int_equal(json_array_size(json_object_get(out, "indicators")), 2);
    assert_true(json_number_value(json_object_get(out, "hours_to_referral")) == 2.0);
    json_decref(out);
    json_decref(b);
    /* corrections need the version; server-set keys are refused */
    b = tu_json("{\"place\":\"Quito\",\"referred_to\":\"org-b\"}");
    assert_int_equal(hotline_update(c, &w->hot_a, id, b, 0, &out, &err), AMP_ENEEDVER);
    amp_err_clear(&err);
    assert_int_equal(hotline_update(c, &w->hot_a, id, b, 1, &out, &err), AMP_EPRECOND);
    amp_err_clear(&err);
    must(hotline_update(c, &w->hot_a, id, b, 2, &out, &err), &err, "update");
    assert_string_equal(sv(out, "place"), "Quito");
    assert_int_equal(json_integer_value(json_object_get(out, "repeat_count")), 1);
    json_decref(out);
    json_decref(b);
    b = tu_json("{\"repeat_count\":0,\"version\":3}");
    assert_int_equal(hotline_update(c, &w->hot_a, id, b, 0, &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "repeat_count", "read_only"));
    amp_err_clear(&err);
    json_decref(b);
    b = tu_json("{\"place\":\"Lima\",\"version\":3}");
    assert_int_equal(hotline_update(c, &hot_c, id, b, 0, &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    json_decref(b);
    /* one step to a potential-victim case, linked both ways */
    b = tu_json("{\"prs_Gender\":\"Feminine\"}");
    must(hotline_open_case(c, &w->hot_a, id, b, &out, &err), &err, "open case");
    char case_id[40];
    snprintf(case_id, sizeof case_id, "%s", sv(json_object_get(out, "case"), "id"));
    assert_string_equal(sv(json_object_get(out, "contact"), "outcome"), "CaseOpened");
    json_decref(out);
    assert_int_equal(hotline_open_case(c, &w->hot_a, id, b, &out, &err), AMP_ESTATE);
    amp_err_clear(&err);
    json_decref(b);
    store_row row;
    must(cases_access(c, &w->hot_a, case_id, ACT_READ, &row, &err), &err, "new case");
    assert_string_equal(sv(row.doc, "vic_TraffickingStatus"), "PossibleVictimOfTrafficking");
    assert_string_equal(row.owner_org, "org-a");
    assert_string_equal(sv(row.doc, "prs_PrimaryLanguage"), "es");
    store_row_release(&row);
    must(hotline_of_case(c, &w->hot_a, case_id, &out, &err), &err, "contacts of case");
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 1);
    json_decref(out);
    must(hotline_stats(c, &w->hot_a, NULL, 0, &out, &err), &err, "stats");
    assert_int_equal(json_integer_value(json_object_get(out, "contacts")), 1);
    assert_int_equal(json_integer_value(json_object_get(out, "repeat_contacts")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(out, "by_channel"), "Phone")), 1);
    json_decref(out);
    must(hotline_stats(c, &hot_c, NULL, 0, &out, &err), &err, "stats c");
    assert_int_equal(json_integer_value(json_object_get(out, "contacts")), 0);
    json_decref(out);
}

static void test_assistance_and_directory(void **state)
{
    world *w = *state;
    core *c = w->e->core;
    amp_err err = {0};
    json_t *out = NULL;
    json_t *b = tu_json("{\"type\":\"Interview\",\"start_date\":\"2026-06-10\",\"cost\":12,"
                        "\"interview_checklist\":{\"InformedOfRights\":true,\"Nope\":true}}");
    assert_int_equal(assistance_create(c, &w->cw_a, w->case_id, b, &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "currency", "required_if"));
    assert_true(tu_has_field_error(&err, "interview_checklist.Nope", "unknown_field"));
    amp_err_clear(&err);
    json_decref(b);
    b = tu_json("{\"type\":\"Medical\",\"start_date\":\"2026-06-10\",\"planned_end_date\":"
                "\"2026-06-11\",\"cost\":40,\"currency\":\"USD\",\"notes\":\"x-ray\"}");
    assert_int_equal(assistance_create(c, &w->cw_b, w->case_id, b, &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    must(assistance_create(c, &w->cw_a, w->case_id, b, &out, &err), &err, "assistance");
    char aid[40];
    snprintf(aid, sizeof aid, "%s", sv(out, "id"));
    assert_string_equal(sv(out, "status"), "InProgress");
    json_decref(out);
    json_decref(b);
    list_param k[] = {{"kind", "AssistanceEndPassed"}};
    must(tasks_list(c, &w->cw_a, k, 1, &out, &err), &err, "tasks");
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 1);
    json_decref(out);
    b = tu_json("{\"end_date\":\"2026-06-11\",\"status\":\"Completed\",\"outcome\":\"Achieved\"}");
    assert_int_equal(assistance_update(c, &w->cw_a, w->case_id, aid, b, 0, &out, &err),
                     AMP_ENEEDVER);
    amp_err_clear(&err);
    assert_int_equal(assistance_update(c, &w->cw_a, w->case_id, aid, b, 5, &out, &err),
                     AMP_EPRECOND);
    amp_err_clear(&err);
    must(assistance_update(c, &w->cw_a, w->case_id, aid, b, 1, &out, &err), &err, "update");
    json_decref(out);
    json_decref(b);
    /* linked to the support plan it carries out (which must be the case's) */
    json_t *plan = tu_json("{\"spl_Type\":\"Health\",\"spl_PlannedEndDate\":\"2026-07-01\"}");
    must(children_create_sync(c, &w->sys, w->case_id, core_child_kind("support_plans"), plan, &out,
                              &err),
         &err, "plan");
    char plan_id[40];
    snprintf(plan_id, sizeof plan_id, "%s", sv(out, "id"));
    json_decref(out);
    json_decref(plan);
    char text[300];
    snprintf(text, sizeof text,
             "{\"type\":\"Psychosocial\",\"start_date\":\"2026-06-11\",\"support_plan\":\"%s\"}",
             plan_id);
    b = tu_json(text);
    must(assistance_create(c, &w->cw_a, w->case_id, b, &out, &err), &err, "linked assistance");
    json_decref(out);
    json_decref(b);
    b = tu_json("{\"type\":\"Psychosocial\",\"start_date\":\"2026-06-11\",\"support_plan\":"
                "\"01a23374-d4b8-785f-8e72-301fde4cf291\"}");
    assert_int_equal(assistance_create(c, &w->cw_a, w->case_id, b, &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "support_plan", "lookup"));
    amp_err_clear(&err);
    json_decref(b);
    must(assistance_list(c, &w->cw_a, w->case_id, &out, &err), &err, "list");
    assert_true(json_number_value(json_object_get(json_object_get(out, "cost"), "USD")) == 40);
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(out, "support_plans"), plan_id)), 1);
    json_decref(out);
    /* an organisation without the case does not reach its assistance */
    assert_int_equal(assistance_delete(c, &w->cw_c, w->case_id, aid, 2, &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    must(assistance_delete(c, &w->cw_a, w->case_id, aid, 2, &out, &err), &err, "delete");
    json_decref(out);
    assert_int_equal(assistance_get(c, &w->cw_a, w->case_id, aid, &out, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    /* the directory: own entry only for an organisation admin */
    principal oa = person("orgadmin-a", "org-a", ROLE_ORGADMIN);
    b = tu_json("{\"services\":[\"Shelter\",\"Medical\"],\"regions\":[\"Pichincha\"],"
                "\"languages\":[\"es\",\"qu\"],\"capacity\":12,\"availability\":\"Limited\"}");
    bool created = false;
    assert_int_equal(directory_put(c, &oa, "org-b", b, 0, &out, &created, &err), AMP_EFORBIDDEN);
    amp_err_clear(&err);
    assert_int_equal(directory_put(c, &w->cw_a, "org-a", b, 0, &out, &created, &err),
                     AMP_EFORBIDDEN);
    amp_err_clear(&err);
    must(directory_put(c, &oa, "org-a", b, 0, &out, &created, &err), &err, "directory");
    assert_true(created);
    json_decref(out);
    must(directory_put(c, &oa, "org-a", b, 1, &out, &created, &err), &err, "directory v1");
    assert_false(created);
    json_decref(out);
    json_decref(b);
    list_param q[] = {{"service", "Medical"}, {"region", "pichincha"}, {"country", "EC"}};
    must(directory_list(c, &w->cw_b, q, 3, &out, &err), &err, "search");
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 1);
    json_decref(out);
    list_param q2[] = {{"country", "PE"}};
    must(directory_list(c, &w->cw_b, q2, 1, &out, &err), &err, "search PE");
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 0);
    json_decref(out);
    list_param q3[] = {{"service", "Spa"}};
    assert_int_equal(directory_list(c, &w->cw_b, q3, 1, &out, &err), AMP_EINVALID);
    amp_err_clear(&err);
}

static void test_tasks_from_cases(void **state)
{
    world *w = *state;
    core *c = w->e->core;
    amp_err err = {0};
    json_t *out = NULL;
    /* a support plan whose planned end has passed, with no actual end */
    json_t *plan = tu_json("{\"spl_Type\":\"Health\",\"spl_PlannedEndDate\":\"2026-06-01\"}");
    must(children_create_sync(c, &w->sys, w->case_id, core_child_kind("support_plans"), plan, &out,
                              &err),
         &err, "plan");
    char plan_id[40];
    snprintf(plan_id, sizeof plan_id, "%s", sv(out, "id"));
    json_decref(out);
    json_decref(plan);
    list_param k[] = {{"kind", "PlanEndPassed"}};
    must(tasks_list(c, &w->cw_a, k, 1, &out, &err), &err, "plan tasks");
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 1);
    json_t *t = json_array_get(json_object_get(out, "items"), 0);
    assert_string_equal(sv(t, "support_plan"), plan_id);
    assert_true(json_is_true(json_object_get(t, "overdue")));
    json_decref(out);
    /* other organisations do not get org-a's tasks */
    must(tasks_list(c, &w->cw_b, k, 1, &out, &err), &err, "plan tasks b");
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 0);
    json_decref(out);
    /* possible victims without a decision: the initial decision is due */
    list_param d[] = {{"kind", "DecisionDue"}, {"due_before", "2026-12-31"}};
    must(tasks_list(c, &w->cw_a, d, 2, &out, &err), &err, "decision tasks");
    assert_int_equal(json_integer_value(json_object_get(out, "total")), 3);
    json_decref(out);
    list_param bad[] = {{"due_before", "soon"}};
    assert_int_equal(tasks_list(c, &w->cw_a, bad, 1, &out, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "due_before", "list.value"));
    amp_err_clear(&err);
    assert_int_equal(tasks_list(c, &w->analyst, NULL, 0, &out, &err), AMP_EFORBIDDEN);
    amp_err_clear(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_send_accept_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadlines_and_overdue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hotline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_assistance_and_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tasks_from_cases, setup, teardown),
    };
    return cmocka_run_group_tests_name("referrals", tests, NULL, NULL);
}
