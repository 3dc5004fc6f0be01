/* indicators.c — indicators, targets and actuals from the records (see
 * indicators.h). */
#include "core/indicators.h"
#include "core/care_common.h"
#include "core/proceedings.h"
#include "core/returns.h"
#include "core/shelters.h"
#include "core/trainings.h"
#include "util/clock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KIND_INDICATOR "indicator"

static const care_field target_fields[] = {
    {"period", CF_STRING, CF_REQ, NULL, 0, 30, NULL},
    {"target", CF_NUMBER, CF_REQ, NULL, 0, 1e12, NULL},
    {"notes", CF_STRING, 0, NULL, 0, 500, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const care_field indicator_fields[] = {
    {"code", CF_STRING, CF_REQ, NULL, 0, 40, NULL},
    {"name", CF_LABEL, CF_REQ, NULL, 0, 300, NULL},
    {"description", CF_TEXT, 0, NULL, 0, 4000, NULL},
    {"measure", CF_PICK, CF_REQ, "indicator_measures", 0, 0, NULL},
    {"unit", CF_STRING, 0, NULL, 0, 60, NULL},
    {"programme", CF_STRING, 0, NULL, 0, 200, NULL},
    {"action_plan", CF_STRING, 0, NULL, 0, 200, NULL},
    {"org", CF_ORG, 0, NULL, 0, 0, NULL},
    {"filter_org", CF_ORG, 0, NULL, 0, 0, NULL},
    {"filter_country", CF_COUNTRY, 0, NULL, 0, 0, NULL},
    {"filter_city", CF_STRING, 0, NULL, 0, 100, NULL},
    {"filter_event_types", CF_MULTI, 0, "event_types", 0, 4, NULL},
    {"baseline", CF_NUMBER, 0, NULL, 0, 1e12, NULL},
    {"targets", CF_OBJECTS, 0, NULL, 0, 40, target_fields},
    {"status", CF_PICK, 0, "indicator_statuses", 0, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const char *dstr(const json_t *doc, const char *key)
{
    return json_string_value(json_object_get(doc, key));
}

static void indicator_check(care_op *op, const json_t *doc, const json_t *before)
{
    (void)before;
    size_t i, j;
    json_t *t;
    char path[64];
    json_array_foreach (json_object_get(doc, "targets"), i, t) {
        const char *per = dstr(t, "period");
        care_period tmp;
        if (!per)
            continue;
        snprintf(path, sizeof path, "targets[%zu].period", i);
        if (care_period_parse(per, &tmp) != 0) {
            care_field_error(&op->err, &op->p, path, "period", NULL);
            continue;
        }
        for (j = 0; j < i; j++) {
            const char *other = dstr(json_array_get(json_object_get(doc, "targets"), j), "period");
            if (other && strcmp(other, per) == 0) {
                care_field_error(&op->err, &op->p, path, "duplicate", per);
                break;
            }
        }
    }
    const char *city = dstr(doc, "filter_city"), *m = dstr(doc, "measure");
    if ((city || json_object_get(doc, "filter_event_types")) && m &&
        strcmp(m, "officials_trained") && strcmp(m, "participants") && strcmp(m, "events_held"))
        care_field_error(
            &op->err, &op->p, city ? "filter_city" : "filter_event_types", "applies_if",
            "the measure counts events (officials_trained, participants, events_held)");
}

static void indicator_derive(care_op *op, json_t *doc, store_record *r)
{
    (void)op;
    if (!dstr(doc, "status"))
        json_object_set_new(doc, "status", json_string("Active"));
    snprintf(r->status, sizeof r->status, "%s", dstr(doc, "status"));
    snprintf(r->org2, sizeof r->org2, "%s", dstr(doc, "measure"));
}

static const care_entity indicator_entity = {
    KIND_INDICATOR,  "indicator",      RES_INDICATOR, indicator_fields,
    indicator_check, indicator_derive, "org",
};

amp_code indicators_create(core *c, const principal *p, const json_t *body, core_done_fn done,
                           void *arg, amp_err *err)
{
    return care_org_create(c, p, &indicator_entity, body, done, arg, err);
}

amp_code indicators_update(core *c, const principal *p, const char *id, const json_t *patch,
                           int64_t if_match, core_done_fn done, void *arg, amp_err *err)
{
    return care_org_update(c, p, &indicator_entity, id, patch, if_match, done, arg, err);
}

amp_code indicators_delete(core *c, const principal *p, const char *id, int64_t if_match,
                           core_done_fn done, void *arg, amp_err *err)
{
    return care_org_delete(c, p, &indicator_entity, id, if_match, done, arg, err);
}

amp_code indicators_get(core *c, const principal *p, const char *id, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_INDICATOR, err);
    if (code != AMP_OK)
        return code;
    store_record r;
    if ((code = care_get(c, KIND_INDICATOR, "indicator", id, &r, err)) != AMP_OK)
        return code;
    *out = care_record_json(p, indicator_fields, &r);
    store_record_release(&r);
    return AMP_OK;
}

amp_code indicators_list(core *c, const principal *p, const list_param *params, size_t n,
                         json_t **out, amp_err *err)
{
    static const char *const known[] = {"status", "measure", "programme", "org", NULL};
    amp_code code = authz_require(p, ACT_READ, RES_INDICATOR, err);
    if (code != AMP_OK)
        return code;
    int limit, offset;
    if ((code = care_params_check(p, params, n, known, NULL, &limit, &offset, err)) != AMP_OK)
        return code;
    const char *status = care_param(params, n, "status"),
               *measure = care_param(params, n, "measure");
    if (status && !care_picklist_has("indicator_statuses", status))
        care_field_error(err, p, "status", "picklist", status);
    if (measure && !care_picklist_has("indicator_measures", measure))
        care_field_error(err, p, "measure", "picklist", measure);
    if (json_array_size(err->fields))
        return amp_err_set(err, AMP_EBADREQ, "the list parameters are not valid");
    store_record_query q = {.kind = KIND_INDICATOR,
                            .status = status,
                            .org2 = measure,
                            .org = care_param(params, n, "org")};
    store_record *rows;
    int nr;
    if ((code = care_scan(c, &q, &rows, &nr, err)) != AMP_OK)
        return code;
    const char *prog = care_param(params, n, "programme");
    json_t *items = json_array();
    for (int i = 0; i < nr; i++) {
        if (prog &&
            (!dstr(rows[i].doc, "programme") || strcasecmp(dstr(rows[i].doc, "programme"), prog)))
            continue;
        json_array_append_new(items, care_record_json(p, indicator_fields, &rows[i]));
    }
    care_rows_free(rows, nr);
    *out = care_page(items, limit, offset);
    return AMP_OK;
}

/* ==== measures ====================================================================== */

static bool in_range(const char *d, const char *from, const char *to)
{
    return d && strncmp(d, from, 10) >= 0 && strncmp(d, to, 10) <= 0;
}

/* A figure of another module's statistics, computed as an internal principal. */
typedef amp_code (*stats_fn)(core *, const principal *, const list_param *, size_t, json_t **,
                             amp_err *);

static amp_code figure(core *c, stats_fn fn, const list_param *extra, size_t nextra,
                       const char *from, const char *to, const char *key, double *value,
                       amp_err *err)
{
    principal in = {.actor = "indicators", .lang = "en", .internal = true};
    list_param ps[8];
    size_t n = 0;
    ps[n++] = (list_param){"from", from};
    ps[n++] = (list_param){"to", to};
    for (size_t i = 0; i < nextra && n < 8; i++)
        ps[n++] = extra[i];
    json_t *out = NULL;
    amp_code code = fn(c, &in, ps, n, &out, err);
    if (code == AMP_OK)
        *value = json_number_value(json_object_get(out, key));
    json_decref(out);
    return code;
}

static amp_code scan_kind(core *c, const char *kind, const char *org, store_record **rows, int *n,
                          amp_err *err)
{
    store_record_query q = {.kind = kind, .org = org};
    return care_scan(c, &q, rows, n, err);
}

/* The date an assistance record (referral module) counts on. */
static const char *assistance_date(const store_record *r)
{
    static const char *const keys[] = {"start_date", "date", "provided_on", "end_date", NULL};
    for (int i = 0; keys[i]; i++) {
        const char *d = dstr(r->doc, keys[i]);
        if (d)
            return d;
    }
    return r->created_at;
}

amp_code indicators_cases_assisted(core *c, const char *org, const char *from, const char *to,
                                   json_t **cases, amp_err *err)
{
    *cases = NULL;
    json_t *seen = json_object();
    store_record *rows;
    int n;
    char today[11];
    clock_today(today);
    static const char *const kinds[] = {"assistance", "stay", "return", "visit"};
    for (int k = 0; k < 4; k++) {
        amp_code code = scan_kind(c, kinds[k], org, &rows, &n, err);
        if (code != AMP_OK) {
            json_decref(seen);
            return code;
        }
        for (int i = 0; i < n; i++) {
            const store_record *r = &rows[i];
            bool counts = false;
            if (!r->case_uid[0])
                continue;
            if (k == 0)
                counts = in_range(assistance_date(r), from, to);
            else if (k == 1)
                counts = shelters_stay_nights(r->doc, from, to, today) > 0 ||
                         in_range(dstr(r->doc, "admitted_on"), from, to);
            else if (k == 2)
                counts = strcmp(r->status, "Cancelled") != 0 &&
                         (in_range(dstr(r->doc, "departure_date"), from, to) ||
                          in_range(dstr(r->doc, "reunification_date"), from, to));
            else
                counts = in_range(dstr(r->doc, "date"), from, to);
            if (counts)
                json_object_set_new(seen, r->case_uid, json_true());
        }
        care_rows_free(rows, n);
    }
    *cases = seen;
    return AMP_OK;
}

static amp_code cases_assisted(core *c, const char *org, const char *from, const char *to,
                               double *value, amp_err *err)
{
    json_t *seen = NULL;
    amp_code code = indicators_cases_assisted(c, org, from, to, &seen, err);
    if (code == AMP_OK)
        *value = (double)json_object_size(seen);
    json_decref(seen);
    return code;
}

static bool has_str(const json_t *arr, const char *v)
{
    size_t i;
    json_t *x;
    json_array_foreach (arr, i, x) {
        if (json_is_string(x) && strcmp(json_string_value(x), v) == 0)
            return true;
    }
    return false;
}

static amp_code shelters_supported(core *c, const char *org, const char *from, const char *to,
                                   double *value, amp_err *err)
{
    store_record *rows;
    int n;
    amp_code code = scan_kind(c, "shelter", NULL, &rows, &n, err);
    if (code != AMP_OK)
        return code;
    double count = 0;
    for (int i = 0; i < n; i++) {
        const json_t *d = rows[i].doc;
        const char *opened = dstr(d, "opened_on"), *closed = dstr(d, "closed_on");
        if ((opened && strcmp(opened, to) > 0) || (closed && strcmp(closed, from) < 0))
            continue;
        if (org && strcmp(rows[i].org, org) != 0 &&
            !has_str(json_object_get(d, "supported_by"), org))
            continue;
        count++;
    }
    care_rows_free(rows, n);
    *value = count;
    return AMP_OK;
}

static amp_code visits_measure(core *c, const char *org, const char *from, const char *to,
                               bool sustainable, double *value, amp_err *err)
{
    store_record_query q = {
        .kind = "visit", .org = org, .due_from = from, .due_to = to, .by_due = true};
    store_record *rows;
    int n;
    amp_code code = care_scan(c, &q, &rows, &n, err);
    if (code != AMP_OK)
        return code;
    if (!sustainable) {
        *value = n;
        care_rows_free(rows, n);
        return AMP_OK;
    }
    /* cases whose latest visit in the period reaches the threshold */
    json_t *latest = json_object();
    for (int i = 0; i < n; i++) /* by date: later visits overwrite */
        json_object_set(latest, rows[i].case_uid, json_object_get(rows[i].doc, "sustainable"));
    double count = 0;
    const char *k;
    json_t *v;
    json_object_foreach (latest, k, v)
        count += json_is_true(v);
    json_decref(latest);
    care_rows_free(rows, n);
    *value = count;
    return AMP_OK;
}

typedef struct {
    const char *country;
    bool foreign;
    double n;
} country_count;

static void count_in_country(const store_row *row, void *arg)
{
    country_count *a = arg;
    const char *home = dstr(row->doc, "amp_RegistrationCountry");
    if (!home || strcmp(home, a->country) != 0)
        return;
    if (a->foreign) {
        const json_t *cit = json_object_get(row->doc, "prs_Citizenship");
        if (!json_array_size(cit) || has_str(cit, home))
            return;
    }
    a->n++;
}

amp_code indicators_measure(core *c, const char *measure, const json_t *doc, const char *from,
                            const char *to, double *value, amp_err *err)
{
    const char *org = dstr(doc, "filter_org");
    list_param org_p[1] = {{"org", org}};
    size_t norg = org ? 1 : 0;
    *value = 0;
    if (!measure)
        return amp_err_set(err, AMP_EINVALID, "no measure");
    if (strcmp(measure, "cases_registered") == 0 || strcmp(measure, "foreign_victims") == 0) {
        const char *country = dstr(doc, "filter_country");
        if (!country)
            return figure(c, returns_stats, org_p, norg, from, to,
                          measure[0] == 'c' ? "victims_registered" : "foreign_victims", value, err);
        /* registration country: count the cases directly */
        country_count a = {country, measure[0] == 'f', 0};
        amp_code code = care_cases_scan(c, from, to, org, count_in_country, &a, err);
        *value = a.n;
        return code;
    }
    if (strcmp(measure, "returns") == 0)
        return figure(c, returns_stats, org_p, norg, from, to, "returned_home", value, err);
    if (strcmp(measure, "reunifications") == 0)
        return figure(c, returns_stats, org_p, norg, from, to, "reunifications", value, err);
    if (strcmp(measure, "minors_reunified") == 0)
        return figure(c, returns_stats, org_p, norg, from, to, "minors_reunited", value, err);
    if (strcmp(measure, "admissions") == 0)
        return figure(c, shelters_stats, org_p, norg, from, to, "admissions", value, err);
    if (strcmp(measure, "bed_nights") == 0)
        return figure(c, shelters_stats, org_p, norg, from, to, "bed_nights", value, err);
    if (strcmp(measure, "proceedings_opened") == 0)
        return figure(c, proceedings_stats, org_p, norg, from, to, "opened", value, err);
    if (strcmp(measure, "convictions") == 0)
        return figure(c, proceedings_stats, org_p, norg, from, to, "convictions", value, err);
    if (strcmp(measure, "officials_trained") == 0 || strcmp(measure, "participants") == 0 ||
        strcmp(measure, "events_held") == 0) {
        const char *key = measure[0] == 'o'   ? "officials_trained"
                          : measure[0] == 'p' ? "participants"
                                              : "events";
        list_param ps[6];
        size_t n = 0;
        if (org)
            ps[n++] = (list_param){"org", org};
        if (dstr(doc, "filter_city"))
            ps[n++] = (list_param){"city", dstr(doc, "filter_city")};
        if (dstr(doc, "filter_country"))
            ps[n++] = (list_param){"country", dstr(doc, "filter_country")};
        const json_t *types = json_object_get(doc, "filter_event_types");
        if (!json_array_size(types))
            return figure(c, trainings_stats, ps, n, from, to, key, value, err);
        size_t i;
        json_t *t;
        json_array_foreach (types, i, t) {
            double v = 0;
            ps[n] = (list_param){"type", json_string_value(t)};
            amp_code code = figure(c, trainings_stats, ps, n + 1, from, to, key, &v, err);
            if (code != AMP_OK)
                return code;
            *value += v;
        }
        return AMP_OK;
    }
    if (strcmp(measure, "cases_assisted") == 0)
        return cases_assisted(c, org, from, to, value, err);
    if (strcmp(measure, "shelters_supported") == 0)
        return shelters_supported(c, org, from, to, value, err);
    if (strcmp(measure, "monitoring_visits") == 0)
        return visits_measure(c, org, from, to, false, value, err);
    if (strcmp(measure, "sustainable_reintegrations") == 0)
        return visits_measure(c, org, from, to, true, value, err);
    return amp_err_set(err, AMP_EINVALID, "'%.60s' is not a measure", measure);
}

/* ==== actuals ======================================================================== */

static json_t *actual_json(core *c, const json_t *doc, const care_period *per, const json_t *target,
                           amp_err *err, amp_code *code)
{
    double actual = 0;
    *code = indicators_measure(c, dstr(doc, "measure"), doc, per->from, per->to, &actual, err);
    if (*code != AMP_OK)
        return NULL;
    json_t *o = json_pack("{s:s, s:s, s:s, s:f}", "period", per->label, "from", per->from, "to",
                          per->to, "actual", actual);
    if (json_is_number(target)) {
        double t = json_number_value(target);
        json_object_set(o, "target", (json_t *)target);
        json_object_set_new(o, "difference", json_real(actual - t));
        json_object_set_new(o, "met", json_boolean(actual >= t));
        if (t > 0)
            json_object_set_new(o, "achieved", json_real(round(actual / t * 1000) / 1000));
    }
    const json_t *baseline = json_object_get(doc, "baseline");
    if (json_is_number(baseline))
        json_object_set(o, "baseline", (json_t *)baseline);
    return o;
}

static const json_t *target_for(const json_t *doc, const char *label)
{
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get(doc, "targets"), i, t) {
        if (dstr(t, "period") && strcmp(dstr(t, "period"), label) == 0)
            return json_object_get(t, "target");
    }
    return NULL;
}

amp_code indicators_actuals(core *c, const principal *p, const char *id, const list_param *params,
                            size_t n, json_t **out, amp_err *err)
{
    static const char *const known[] = {"period", NULL};
    amp_code code = authz_require(p, ACT_READ, RES_INDICATOR, err);
    if (code != AMP_OK)
        return code;
    if ((code = care_params_check(p, params, n, known, NULL, NULL, NULL, err)) != AMP_OK)
        return code;
    store_record r;
    if ((code = care_get(c, KIND_INDICATOR, "indicator", id, &r, err)) != AMP_OK)
        return code;
    json_t *items = json_array();
    const char *want = care_param(params, n, "period");
    if (want) {
        care_period per;
        care_period_parse(want, &per);
        json_t *it = actual_json(c, r.doc, &per, target_for(r.doc, want), err, &code);
        if (it)
            json_array_append_new(items, it);
    } else {
        size_t i;
        json_t *t;
        json_array_foreach (json_object_get(r.doc, "targets"), i, t) {
            care_period per;
            if (care_period_parse(dstr(t, "period"), &per) != 0)
                continue;
            json_t *it = actual_json(c, r.doc, &per, json_object_get(t, "target"), err, &code);
            if (!it)
                break;
            json_array_append_new(items, it);
        }
    }
    if (code != AMP_OK) {
        json_decref(items);
        store_record_release(&r);
        return code;
    }
    *out = json_pack("{s:s, s:s, s:O, s:s, s:o}", "id", r.uid, "code", dstr(r.doc, "code"), "name",
                     json_object_get(r.doc, "name"), "measure", dstr(r.doc, "measure"), "items",
                     items);
    store_record_release(&r);
    return AMP_OK;
}

amp_code indicators_report(core *c, const principal *p, const list_param *params, size_t n,
                           json_t **out, amp_err *err)
{
    static const char *const known[] = {"period", "programme", "org", NULL};
    amp_code code = authz_require(p, ACT_READ, RES_INDICATOR, err);
    if (code != AMP_OK)
        return code;
    if ((code = care_params_check(p, params, n, known, NULL, NULL, NULL, err)) != AMP_OK)
        return code;
    const char *want = care_param(params, n, "period");
    if (!want) {
        care_field_error(err, p, "period", "required", NULL);
        return amp_err_set(err, AMP_EBADREQ, "give the period of the report, e.g. period=2026");
    }
    care_period per;
    care_period_parse(want, &per);
    store_record_query q = {
        .kind = KIND_INDICATOR, .status = "Active", .org = care_param(params, n, "org")};
    store_record *rows;
    int nr;
    if ((code = care_scan(c, &q, &rows, &nr, err)) != AMP_OK)
        return code;
    const char *prog = care_param(params, n, "programme");
    json_t *items = json_array();
    json_int_t met = 0, with_target = 0;
    for (int i = 0; i < nr && code == AMP_OK; i++) {
        const json_t *d = rows[i].doc;
        if (prog && (!dstr(d, "programme") || strcasecmp(dstr(d, "programme"), prog)))
            continue;
        json_t *it = actual_json(c, d, &per, target_for(d, want), err, &code);
        if (!it)
            break;
        json_object_set_new(it, "id", json_string(rows[i].uid));
        json_object_set_new(it, "code", json_string(dstr(d, "code")));
        json_object_set(it, "name", json_object_get(d, "name"));
        json_object_set_new(it, "measure", json_string(dstr(d, "measure")));
        if (dstr(d, "unit"))
            json_object_set_new(it, "unit", json_string(dstr(d, "unit")));
        if (json_object_get(it, "target")) {
            with_target++;
            met += json_is_true(json_object_get(it, "met"));
        }
        json_array_append_new(items, it);
    }
    care_rows_free(rows, nr);
    if (code != AMP_OK) {
        json_decref(items);
        return code;
    }
    *out = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "period", per.label, "from", per.from, "to",
                     per.to, "with_target", (json_int_t)with_target, "met", (json_int_t)met,
                     "items", items);
    return AMP_OK;
}
