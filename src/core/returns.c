/* returns.c — voluntary return and family reunification (see returns.h). */
#include "core/returns.h"
#include "core/care_common.h"
#include "core/consent.h"
#include "util/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const care_field care_return_fields[] = {
    {"case", CF_UID, CF_SERVER, NULL, 0, 0, NULL},
    {"type", CF_PICK, CF_REQ, "return_types", 0, 0, NULL},
    {"status", CF_PICK, 0, "return_statuses", 0, 0, NULL},
    {"departure_country", CF_COUNTRY, 0, NULL, 0, 0, NULL},
    {"departure_city", CF_STRING, 0, NULL, 0, 100, NULL},
    {"destination_country", CF_COUNTRY, CF_REQ, NULL, 0, 0, NULL},
    {"destination_city", CF_STRING, 0, NULL, 0, 100, NULL},
    {"departure_date", CF_DATE, 0, NULL, 0, 0, NULL},
    {"arrival_date", CF_DATE, 0, NULL, 0, 0, NULL},
    {"escort", CF_PICK, 0, "escorts", 0, 0, NULL},
    {"escort_details", CF_TEXT, CF_IDENTITY, NULL, 0, 1000, NULL},
    {"receiving_org", CF_ORG, 0, NULL, 0, 0, NULL},
    {"receiving_referral", CF_UID, 0, NULL, 0, 0, NULL},
    {"travel_documents", CF_MULTI, 0, "travel_documents", 0, 16, NULL},
    {"travel_documents_ready", CF_BOOL, 0, NULL, 0, 0, NULL},
    {"family_tracing", CF_PICK, 0, "family_tracing_results", 0, 0, NULL},
    {"family_tracing_date", CF_DATE, CF_NOFUTURE, NULL, 0, 0, NULL},
    {"family_assessment_date", CF_DATE, CF_NOFUTURE, NULL, 0, 0, NULL},
    {"risk_level", CF_PICK, 0, "risk_levels", 0, 0, NULL},
    {"reunification_date", CF_DATE, 0, NULL, 0, 0, NULL},
    {"reunified_with", CF_MULTI, 0, "reunified_with", 0, 16, NULL},
    {"family_contact", CF_TEXT, CF_IDENTITY, NULL, 0, 1000, NULL},
    {"notes", CF_TEXT, CF_IDENTITY, NULL, 0, 4000, NULL},
    {"minor", CF_BOOL, CF_SERVER, NULL, 0, 0, NULL},
    {"cross_border", CF_BOOL, CF_SERVER, NULL, 0, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const char *dstr(const json_t *doc, const char *key)
{
    return json_string_value(json_object_get(doc, key));
}

static bool is_return(const char *type)
{
    return type &&
           (strcmp(type, "VoluntaryReturn") == 0 || strcmp(type, "ReturnAndReunification") == 0);
}

static bool is_reunification(const char *type)
{
    return type && (strcmp(type, "FamilyReunification") == 0 ||
                    strcmp(type, "ReturnAndReunification") == 0);
}

/* The country of an organisation (amp_OrgCountry), into out[3]; "" if none. */
static void org_country(core *c, const char *org, char out[3])
{
    store_row row;
    out[0] = '\0';
    if (!org || store_org_get(core_store(c), org, &row) != STORE_OK)
        return;
    const char *cc = dstr(row.doc, "amp_OrgCountry");
    if (cc)
        snprintf(out, 3, "%.2s", cc);
    store_row_release(&row);
}

/* A child when identified (the registration date) or on the date of the
 * return or reunification. */
static bool minor_when(const json_t *case_doc, const char *on)
{
    const json_t *age = json_object_get(case_doc, "amp_AgeAtRegistration");
    if (json_is_integer(age) && json_integer_value(age) < 18)
        return true;
    const char *reg = dstr(case_doc, "amp_RegistrationDate");
    return (reg && care_is_minor(case_doc, reg)) || care_is_minor(case_doc, on);
}

static void return_check(care_op *op, const json_t *doc, const json_t *before)
{
    const principal *p = &op->p;
    amp_err *err = &op->err;
    const char *type = dstr(doc, "type"), *status = dstr(doc, "status");
    const char *dep = dstr(doc, "departure_date"), *arr = dstr(doc, "arrival_date");
    const char *reu = dstr(doc, "reunification_date");
    if (dep && arr && strcmp(arr, dep) < 0)
        care_field_error(err, p, "arrival_date", "date_order", "departure_date");
    if (dep && reu && strcmp(reu, dep) < 0)
        care_field_error(err, p, "reunification_date", "date_order", "departure_date");
    if (reu && !json_array_size(json_object_get(doc, "reunified_with")))
        care_field_error(err, p, "reunified_with", "required_when", "reunification_date is given");
    if (reu && !is_reunification(type))
        care_field_error(err, p, "reunification_date", "applies_if",
                         "type is FamilyReunification or ReturnAndReunification");
    if (status && strcmp(status, "Completed") == 0) {
        if (is_return(type) && !dep)
            care_field_error(err, p, "departure_date", "required_when", "status is Completed");
        if (is_reunification(type) && !reu)
            care_field_error(err, p, "reunification_date", "required_when", "status is Completed");
        const char *actual[] = {"departure_date", "arrival_date", "reunification_date"};
        for (int i = 0; i < 3; i++) {
            const char *d = dstr(doc, actual[i]);
            if (d && strcmp(d, op->today) > 0)
                care_field_error(err, p, actual[i], "not_future", op->today);
        }
    }
    if (before && dstr(before, "status") &&
        (strcmp(dstr(before, "status"), "Completed") == 0 ||
         strcmp(dstr(before, "status"), "Cancelled") == 0) &&
        status && strcmp(status, dstr(before, "status")) != 0)
        care_field_error(err, p, "status", "closed", dstr(before, "status"));
    /* a receiving organisation abroad: the case goes across a border */
    const json_t *case_doc = op->case_row.doc;
    const char *home = dstr(case_doc, "amp_RegistrationCountry");
    const char *recv = dstr(doc, "receiving_org");
    bool recv_changed = !before || !json_equal(json_object_get(before, "receiving_org"),
                                               json_object_get(doc, "receiving_org"));
    if (recv && recv_changed) {
        char cc[3];
        org_country(op->c, recv, cc);
        if (cc[0] && home && strcmp(cc, home) != 0) {
            amp_err consent = {0};
            if (consent_check(case_doc, CONSENT_CROSS_BORDER, op->today, p->lang, &consent) !=
                AMP_OK) {
                size_t i;
                json_t *f;
                json_array_foreach (consent.fields, i, f)
                    amp_err_field(err, dstr(f, "field"), dstr(f, "rule"), dstr(f, "message"));
            }
            amp_err_clear(&consent);
        }
    }
    const char *ref = dstr(doc, "receiving_referral");
    if (ref && (!before || !json_equal(json_object_get(before, "receiving_referral"),
                                       json_object_get(doc, "receiving_referral")))) {
        store_record rr;
        if (store_record_get(core_store(op->c), "referral", ref, &rr) != STORE_OK) {
            care_field_error(err, p, "receiving_referral", "lookup", "referral");
        } else {
            if (strcmp(rr.case_uid, op->case_uid) != 0)
                care_field_error(err, p, "receiving_referral", "not_in_case", ref);
            else if (recv && strcmp(rr.org2, recv) != 0) /* the referral's receiver */
                care_field_error(err, p, "receiving_referral", "wrong_organisation", rr.org2);
            store_record_release(&rr);
        }
    }
}

static void return_derive(care_op *op, json_t *doc, store_record *r)
{
    const char *status = dstr(doc, "status");
    if (!status) {
        json_object_set_new(doc, "status", json_string("Planned"));
        status = "Planned";
    }
    const char *on = dstr(doc, "reunification_date");
    if (!on)
        on = dstr(doc, "departure_date");
    json_object_set_new(doc, "minor",
                        json_boolean(minor_when(op->case_row.doc, on ? on : op->today)));
    const char *home = dstr(op->case_row.doc, "amp_RegistrationCountry");
    const char *dest = dstr(doc, "destination_country");
    if (!dstr(doc, "departure_country") && home) /* default: from the registering country */
        json_object_set_new(doc, "departure_country", json_string(home));
    json_object_set_new(doc, "cross_border", json_boolean(home && dest && strcmp(home, dest) != 0));
    snprintf(r->status, sizeof r->status, "%s", status);
    const char *due = dstr(doc, "departure_date");
    snprintf(r->due, sizeof r->due, "%s", due ? due : "");
    const char *recv = dstr(doc, "receiving_org");
    snprintf(r->org2, sizeof r->org2, "%s", recv ? recv : "");
}

static const care_entity return_entity = {
    "return", "return", RES_RETURN, care_return_fields, return_check, return_derive, NULL,
};

amp_code returns_create(core *c, const principal *p, const char *case_key, const json_t *body,
                        core_done_fn done, void *arg, amp_err *err)
{
    return care_case_create(c, p, &return_entity, case_key, body, done, arg, err);
}

amp_code returns_update(core *c, const principal *p, const char *case_key, const char *id,
                        const json_t *patch, int64_t if_match, core_done_fn done, void *arg,
                        amp_err *err)
{
    return care_case_update(c, p, &return_entity, case_key, id, patch, if_match, done, arg, err);
}

amp_code returns_get(core *c, const principal *p, const char *case_key, const char *id,
                     json_t **out, amp_err *err)
{
    return care_case_get(c, p, &return_entity, case_key, id, out, err);
}

amp_code returns_list(core *c, const principal *p, const char *case_key, json_t **out, amp_err *err)
{
    return care_case_list(c, p, &return_entity, case_key, out, err);
}

/* ==== figures ================================================================== */

typedef struct {
    json_int_t registered, foreign;
    json_t *by_citizenship;
} reg_count;

static void count(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    json_object_set_new(obj, key, json_integer((v ? json_integer_value(v) : 0) + 1));
}

static void count_case(const store_row *row, void *arg)
{
    reg_count *rc = arg;
    rc->registered++;
    const char *home = dstr(row->doc, "amp_RegistrationCountry");
    const json_t *cit = json_object_get(row->doc, "prs_Citizenship");
    if (!home || !json_array_size(cit))
        return;
    size_t i;
    json_t *v;
    bool national = false;
    json_array_foreach (cit, i, v)
        national = national || (json_is_string(v) && strcmp(json_string_value(v), home) == 0);
    if (!national) {
        rc->foreign++;
        count(rc->by_citizenship, json_string_value(json_array_get(cit, 0)));
    }
}

/* The case's fields for the figures: the stored clear members, opened (the
 * sealed birth date) only when the age at registration is not recorded. */
static json_t *case_facts(core *c, const char *case_uid)
{
    store_row row;
    if (store_case_get(core_store(c), case_uid, &row, NULL) != STORE_OK)
        return NULL;
    if (!json_is_integer(json_object_get(row.doc, "amp_AgeAtRegistration")))
        care_case_open(c, &row);
    json_t *doc = json_incref(row.doc);
    store_row_release(&row);
    return doc;
}

amp_code returns_stats(core *c, const principal *p, const list_param *params, size_t n,
                       json_t **out, amp_err *err)
{
    static const char *const known[] = {"period", "from", "to", "org", NULL};
    static const char *const dates[] = {"from", "to", NULL};
    amp_code code = authz_require(p, ACT_READ, RES_REPORT, err);
    if (code != AMP_OK)
        return code;
    if ((code = care_params_check(p, params, n, known, dates, NULL, NULL, err)) != AMP_OK)
        return code;
    char today[11];
    clock_today(today);
    care_period per;
    if ((code = care_period_from_params(p, params, n, today, &per, err)) != AMP_OK)
        return code;
    const char *org = care_param(params, n, "org");
    reg_count rc = {0, 0, json_object()};
    if ((code = care_cases_scan(c, per.from, per.to, org, count_case, &rc, err)) != AMP_OK) {
        json_decref(rc.by_citizenship);
        return code;
    }
    store_record_query q = {.kind = "return", .status = "Completed,InProgress,Planned"};
    store_record *rows;
    int nrows;
    if ((code = care_scan(c, &q, &rows, &nrows, err)) != AMP_OK) {
        json_decref(rc.by_citizenship);
        return code;
    }
    json_t *returned = json_object(), *reunited = json_object(), *minors = json_object(),
           *minors_abroad = json_object(), *by_dest = json_object(), *with = json_object();
    json_int_t planned = 0;
    for (int i = 0; i < nrows; i++) {
        const json_t *d = rows[i].doc;
        json_t *case_doc = NULL;
        if (org) {
            case_doc = case_facts(c, rows[i].case_uid);
            const char *owner = dstr(case_doc, "amp_OwnerOrganisation");
            if (!owner || strcmp(owner, org) != 0) {
                json_decref(case_doc);
                continue;
            }
        }
        const char *type = dstr(d, "type"), *dep = dstr(d, "departure_date");
        const char *reu = dstr(d, "reunification_date");
        bool completed = strcmp(rows[i].status, "Completed") == 0;
        if (!completed) {
            if (dep && strcmp(dep, per.from) >= 0 && strcmp(dep, per.to) <= 0)
                planned++;
            json_decref(case_doc);
            continue;
        }
        if (is_return(type) && dep && strcmp(dep, per.from) >= 0 && strcmp(dep, per.to) <= 0 &&
            !json_object_get(returned, rows[i].case_uid)) {
            json_object_set_new(returned, rows[i].case_uid, json_true());
            count(by_dest, dstr(d, "destination_country"));
        }
        if (is_reunification(type) && reu && strcmp(reu, per.from) >= 0 &&
            strcmp(reu, per.to) <= 0 && !json_object_get(reunited, rows[i].case_uid)) {
            json_object_set_new(reunited, rows[i].case_uid, json_true());
            size_t k;
            json_t *w;
            json_array_foreach (json_object_get(d, "reunified_with"), k, w)
                count(with, json_string_value(w));
            if (!case_doc)
                case_doc = case_facts(c, rows[i].case_uid);
            if (case_doc && minor_when(case_doc, reu)) {
                json_object_set_new(minors, rows[i].case_uid, json_true());
                const char *home = dstr(case_doc, "amp_RegistrationCountry");
                const char *dest = dstr(d, "destination_country");
                if (home && dest && strcmp(home, dest) != 0)
                    json_object_set_new(minors_abroad, rows[i].case_uid, json_true());
            }
        }
        json_decref(case_doc);
    }
    care_rows_free(rows, nrows);
    *out = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:I, s:o, s:I, s:I, s:I, s:o, s:I}", "period",
                     per.label, "from", per.from, "to", per.to, "victims_registered",
                     (json_int_t)rc.registered, "foreign_victims", (json_int_t)rc.foreign,
                     "foreign_by_citizenship", rc.by_citizenship, "returned_home",
                     (json_int_t)json_object_size(returned), "returns_by_destination", by_dest,
                     "reunifications", (json_int_t)json_object_size(reunited), "minors_reunited",
                     (json_int_t)json_object_size(minors), "minors_reunited_abroad",
                     (json_int_t)json_object_size(minors_abroad), "reunified_with", with,
                     "returns_pending", (json_int_t)planned);
    json_decref(returned);
    json_decref(reunited);
    json_decref(minors);
    json_decref(minors_abroad);
    return AMP_OK;
}
