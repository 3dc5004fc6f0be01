/* reintegration.c — plans, scored visits, trends, alerts, outcomes (see
 * reintegration.h). */
#include "core/reintegration.h"
#include "core/care_common.h"
#include "util/clock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIND_PLAN "reintegration_plan"
#define KIND_VISIT "visit"

const care_field care_plan_fields[] = {
    {"case", CF_UID, CF_SERVER, NULL, 0, 0, NULL},
    {"framework", CF_PICK, 0, "frameworks", 0, 0, NULL},
    {"start_date", CF_DATE, CF_REQ, NULL, 0, 0, NULL},
    {"planned_end_date", CF_DATE, 0, NULL, 0, 0, NULL},
    {"end_date", CF_DATE, CF_NOFUTURE, NULL, 0, 0, NULL},
    {"status", CF_PICK, 0, "plan_statuses", 0, 0, NULL},
    {"visit_interval_days", CF_INT, 0, NULL, 7, 365, NULL},
    {"services", CF_MULTI, 0, "reintegration_services", 0, 32, NULL},
    {"responsible_org", CF_ORG, 0, NULL, 0, 0, NULL},
    {"location_country", CF_COUNTRY, 0, NULL, 0, 0, NULL},
    {"location_city", CF_STRING, 0, NULL, 0, 100, NULL},
    {"goals", CF_TEXT, CF_IDENTITY, NULL, 0, 4000, NULL},
    {"notes", CF_TEXT, CF_IDENTITY, NULL, 0, 4000, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

const care_field care_visit_fields[] = {
    {"case", CF_UID, CF_SERVER, NULL, 0, 0, NULL},
    {"plan", CF_UID, CF_SERVER, NULL, 0, 0, NULL},
    {"date", CF_DATE, CF_REQ | CF_NOFUTURE, NULL, 0, 0, NULL},
    {"type", CF_PICK, 0, "visit_types", 0, 0, NULL},
    {"scores", CF_OBJECT, CF_REQ, NULL, 0, 128, NULL},
    {"notes", CF_TEXT, CF_IDENTITY, NULL, 0, 4000, NULL},
    {"framework", CF_PICK, CF_SERVER, "frameworks", 0, 0, NULL},
    {"dimension_scores", CF_OBJECT, CF_SERVER, NULL, 0, 0, NULL},
    {"composite", CF_NUMBER, CF_SERVER, NULL, 0, 0, NULL},
    {"sustainable", CF_BOOL, CF_SERVER, NULL, 0, 0, NULL},
    {"next_visit_due", CF_DATE, CF_SERVER, NULL, 0, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const char *dstr(const json_t *doc, const char *key)
{
    return json_string_value(json_object_get(doc, key));
}

static double round3(double x)
{
    return round(x * 1000) / 1000;
}

static const json_t *framework_of(const char *name)
{
    return json_object_get(json_object_get(care_config(), "frameworks"), name ? name : "adult");
}

static int interval_of(const json_t *plan)
{
    const json_t *v = json_object_get(plan, "visit_interval_days");
    if (json_is_integer(v))
        return (int)json_integer_value(v);
    return (int)care_config_number("default_visit_interval_days", 90);
}

static double threshold(void)
{
    return care_config_number("sustainable_threshold", 0.66);
}

/* The dimension of an indicator code in the framework, or NULL. */
static const json_t *indicator_dimension(const json_t *framework, const char *code)
{
    size_t d, k;
    json_t *dim, *ind;
    json_array_foreach (json_object_get(framework, "dimensions"), d, dim) {
        json_array_foreach (json_object_get(dim, "indicators"), k, ind) {
            if (strcmp(dstr(ind, "code"), code) == 0)
                return dim;
        }
    }
    return NULL;
}

double reint_score(const json_t *framework, const json_t *scores, json_t **dims)
{
    size_t d, k;
    json_t *dim, *ind;
    double total = 0, weights = 0;
    *dims = json_object();
    json_array_foreach (json_object_get(framework, "dimensions"), d, dim) {
        double sum = 0, w = 0;
        json_array_foreach (json_object_get(dim, "indicators"), k, ind) {
            const json_t *s = json_object_get(scores, dstr(ind, "code"));
            if (!json_is_number(s))
                continue;
            double iw = json_number_value(json_object_get(ind, "weight"));
            sum += iw * json_number_value(s);
            w += iw;
        }
        if (w <= 0)
            continue;
        double score = sum / w;
        json_object_set_new(*dims, dstr(dim, "code"), json_real(round3(score)));
        double dw = json_number_value(json_object_get(dim, "weight"));
        total += dw * score;
        weights += dw;
    }
    return weights > 0 ? round3(total / weights) : -1;
}

/* ==== plans ===================================================================== */

static void plan_check(const principal *p, const json_t *doc, amp_err *err)
{
    const char *start = dstr(doc, "start_date"), *planned = dstr(doc, "planned_end_date");
    const char *end = dstr(doc, "end_date"), *status = dstr(doc, "status");
    if (start && planned && strcmp(planned, start) < 0)
        care_field_error(err, p, "planned_end_date", "date_order", "start_date");
    if (start && end && strcmp(end, start) < 0)
        care_field_error(err, p, "end_date", "date_order", "start_date");
    if (status && strcmp(status, "Active") != 0 && !end)
        care_field_error(err, p, "end_date", "required_when",
                         "the plan is Completed or Discontinued");
}

static int job_plan_put(store_tx *tx, care_op *op)
{
    store_record r;
    int rc = store_tx_record_get(tx, KIND_PLAN, op->case_uid, &r);
    bool exists = rc == STORE_OK;
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return care_op_store_fail(op, rc, "reintegration plan");
    int out = STORE_OK;
    int64_t expected = 0;
    if (exists) {
        if (op->if_match <= 0 && op->body_version <= 0) {
            amp_err_set(&op->err, AMP_ENEEDVER,
                        "the case has a reintegration plan: give its version (If-Match header "
                        "or \"version\" field) to replace it");
            out = care_op_fail(op, AMP_ENEEDVER);
            goto done;
        }
        if ((out = care_op_check_version(op, r.version, "reintegration plan")) != STORE_OK)
            goto done;
        expected = r.version;
        json_t *doc = json_deep_copy(op->body);
        json_decref(r.doc);
        r.doc = doc;
    } else {
        care_record_init(op, &r, KIND_PLAN);
        snprintf(r.uid, sizeof r.uid, "%s", op->case_uid);
        snprintf(r.case_uid, sizeof r.case_uid, "%s", op->case_uid);
        r.doc = json_deep_copy(op->body);
    }
    json_t *doc = r.doc;
    json_object_set_new(doc, "case", json_string(op->case_uid));
    if (!dstr(doc, "framework"))
        json_object_set_new(doc, "framework",
                            json_string(care_is_minor(op->case_row.doc, dstr(doc, "start_date"))
                                            ? "child"
                                            : "adult"));
    if (!dstr(doc, "status"))
        json_object_set_new(doc, "status", json_string("Active"));
    if (!dstr(doc, "responsible_org") && op->p.org[0])
        json_object_set_new(doc, "responsible_org", json_string(op->p.org));
    const char *resp = dstr(doc, "responsible_org");
    snprintf(r.org, sizeof r.org, "%s", resp ? resp : op->case_row.owner_org);
    snprintf(r.status, sizeof r.status, "%s", dstr(doc, "status"));
    snprintf(r.due, sizeof r.due, "%s", dstr(doc, "start_date"));
    care_record_touch(op, &r);
    rc = care_tx_put(tx, op->c, &r, care_plan_fields, expected, &op->err);
    if (rc == STORE_EXISTS) {
        care_field_error(&op->err, &op->p, "case", "one_per_case", "a reintegration plan");
        amp_err_set(&op->err, AMP_ECONFLICT, "the case already has a reintegration plan");
        out = care_op_fail(op, AMP_ECONFLICT);
        goto done;
    }
    if (rc == STORE_OK) {
        json_t *fields = json_array();
        const char *key;
        json_t *v;
        json_object_foreach (op->body, key, v)
            json_array_append_new(fields, json_string(key));
        json_t *detail = json_pack("{s:s, s:o}", "case", op->case_uid, "fields", fields);
        rc = audit_tx(tx, &op->p,
                      exists ? "reintegration_plan.replace" : "reintegration_plan.create",
                      KIND_PLAN, r.uid, detail);
        json_decref(detail);
    }
    if (rc != STORE_OK) {
        out = care_op_store_fail(op, rc, "reintegration plan");
        goto done;
    }
    op->result = care_record_json(&op->p, care_plan_fields, &r);
done:
    store_record_release(&r);
    return out;
}

amp_code reint_plan_put(core *c, const principal *p, const char *case_key, const json_t *body,
                        int64_t if_match, core_done_fn done, void *arg, amp_err *err)
{
    amp_code code = authz_require(p, ACT_CREATE, RES_REINTEGRATION, err);
    if (code == AMP_OK)
        code = authz_require(p, ACT_UPDATE, RES_REINTEGRATION, err);
    if (code != AMP_OK)
        return code;
    if (!json_is_object(body)) {
        care_field_error(err, p, "", "object", NULL);
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    }
    care_op *op = care_op_new(c, p, job_plan_put, done, arg);
    if (!op)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    if ((code = care_case_access(c, p, case_key, ACT_UPDATE, &op->case_row, err)) != AMP_OK) {
        care_op_free(op);
        return code;
    }
    snprintf(op->case_uid, sizeof op->case_uid, "%s", op->case_row.uid);
    if (care_case_erased(op->case_row.doc)) {
        care_op_free(op);
        return amp_err_set(err, AMP_ESTATE,
                           "the case was erased; its records can no longer change");
    }
    op->body = json_deep_copy(body);
    op->if_match = if_match;
    json_t *v = json_object_get(op->body, "version");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 1)) {
        care_field_error(err, p, "version", "type", "a positive whole number");
    } else if (v) {
        op->body_version = json_integer_value(v);
        json_object_del(op->body, "version");
    }
    care_validate(c, p, care_plan_fields, op->body, false, NULL, NULL, op->today, err);
    plan_check(p, op->body, err);
    if (json_array_size(err->fields)) {
        care_op_free(op);
        return care_invalid(err, p);
    }
    return care_op_submit(op, err);
}

/* Visits of a case sorted by date (rows as stored). */
static amp_code case_visits(core *c, const char *case_uid, store_record **rows, int *n,
                            amp_err *err)
{
    store_record_query q = {.kind = KIND_VISIT, .case_uid = case_uid, .by_due = true};
    return care_scan(c, &q, rows, n, err);
}

/* The alerts of one plan given its visits (by date), appended to items. */
static void plan_alerts(const store_record *plan, const store_record *visits, int n,
                        const char *today, json_t *items)
{
    const json_t *pd = plan->doc;
    if (!dstr(pd, "status") || strcmp(dstr(pd, "status"), "Active") != 0)
        return;
    const char *fw_name = dstr(pd, "framework");
    const json_t *fw = framework_of(fw_name);
    const char *last = n > 0 ? dstr(visits[n - 1].doc, "date") : dstr(pd, "start_date");
    int32_t due = care_days(last) + interval_of(pd);
    char due_s[11];
    care_date(due, due_s);
    if (care_days(last) != INT32_MIN && due < care_days(today)) {
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "case", plan->case_uid, "kind",
                             "visit_overdue", "framework", fw_name ? fw_name : "adult", "severity",
                             strcmp(fw_name ? fw_name : "", "child") == 0 ? "high" : "medium",
                             "due", due_s, "days_overdue", (json_int_t)(care_days(today) - due)));
    }
    if (n == 0)
        return;
    double drop = care_config_number("alert_drop", 0.2),
           below = care_config_number("alert_below", 0.33);
    const json_t *latest = visits[n - 1].doc, *prev = n > 1 ? visits[n - 2].doc : NULL;
    const char *ldate = dstr(latest, "date");
    /* the composite, then each dimension */
    size_t d;
    json_t *dim;
    for (int pass = 0; pass < 2; pass++) {
        json_array_foreach (json_object_get(fw, "dimensions"), d, dim) {
            const char *code = pass == 0 ? "composite" : dstr(dim, "code");
            const json_t *now =
                pass == 0 ? json_object_get(latest, "composite")
                          : json_object_get(json_object_get(latest, "dimension_scores"), code);
            const json_t *before =
                !prev       ? NULL
                : pass == 0 ? json_object_get(prev, "composite")
                            : json_object_get(json_object_get(prev, "dimension_scores"), code);
            double lim = below;
            const json_t *own = pass == 1 ? json_object_get(dim, "alert_below") : NULL;
            if (json_is_number(own))
                lim = json_number_value(own);
            bool high = (pass == 1 && strcmp(code, "safety") == 0) ||
                        (fw_name && strcmp(fw_name, "child") == 0);
            if (json_is_number(now) && json_number_value(now) < lim)
                json_array_append_new(
                    items,
                    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f}", "case", plan->case_uid,
                              "kind", "score_below", "framework", fw_name ? fw_name : "adult",
                              "severity", high ? "high" : "medium", "dimension", code, "date",
                              ldate, "score", json_number_value(now), "threshold", lim));
            if (json_is_number(now) && json_is_number(before) &&
                json_number_value(before) - json_number_value(now) > drop + 1e-9)
                json_array_append_new(
                    items,
                    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:s}", "case",
                              plan->case_uid, "kind", "score_drop", "framework",
                              fw_name ? fw_name : "adult", "severity", high ? "high" : "medium",
                              "dimension", code, "date", ldate, "score", json_number_value(now),
                              "previous", json_number_value(before), "previous_date",
                              dstr(prev, "date")));
            if (pass == 0)
                break; /* the composite once */
        }
    }
}

amp_code reint_plan_get(core *c, const principal *p, const char *case_key, json_t **out,
                        amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_REINTEGRATION, err);
    if (code != AMP_OK)
        return code;
    store_row row;
    if ((code = cases_access(c, p, case_key, ACT_READ, &row, err)) != AMP_OK)
        return code;
    store_record plan;
    int rc = store_record_get(core_store(c), KIND_PLAN, row.uid, &plan);
    store_row_release(&row);
    if (rc != STORE_OK)
        return rc == STORE_NOTFOUND
                   ? amp_err_set(err, AMP_ENOTFOUND, "the case has no reintegration plan")
                   : amp_err_set(err, AMP_EINTERNAL, "storage failure");
    store_record *visits;
    int n;
    if ((code = case_visits(c, plan.case_uid, &visits, &n, err)) != AMP_OK) {
        store_record_release(&plan);
        return code;
    }
    if ((code = care_audit_read(c, p, "reintegration_plan.read", plan.case_uid, 1 + n, err)) !=
        AMP_OK) {
        care_rows_free(visits, n);
        store_record_release(&plan);
        return code;
    }
    char today[11], due[11];
    clock_today(today);
    care_open_rows(c, p, &plan, 1);
    *out = care_record_json(p, care_plan_fields, &plan);
    const char *last = n ? dstr(visits[n - 1].doc, "date") : dstr(plan.doc, "start_date");
    care_date(care_days(last) + interval_of(plan.doc), due);
    json_object_set_new(*out, "visit_interval_days", json_integer(interval_of(plan.doc)));
    if (dstr(plan.doc, "status") && strcmp(dstr(plan.doc, "status"), "Active") == 0)
        json_object_set_new(*out, "next_visit_due", json_string(due));
    json_object_set_new(*out, "visits", json_integer(n));
    if (n) {
        json_object_set(*out, "latest_composite", json_object_get(visits[n - 1].doc, "composite"));
        json_object_set(*out, "latest_visit", json_object_get(visits[n - 1].doc, "date"));
    }
    json_t *alerts = json_array();
    plan_alerts(&plan, visits, n, today, alerts);
    json_object_set_new(*out, "alerts", alerts);
    care_rows_free(visits, n);
    store_record_release(&plan);
    return AMP_OK;
}

/* ==== visits ===================================================================== */

static void visit_check(care_op *op, const json_t *doc, const json_t *before)
{
    store_record plan;
    const principal *p = &op->p;
    if (store_record_get(core_store(op->c), KIND_PLAN, op->case_uid, &plan) != STORE_OK) {
        care_field_error(&op->err, p, "plan", "required", NULL);
        amp_err_set(
            &op->err, AMP_EINVALID,
            "the case has no reintegration plan: PUT /api/v1/cases/{id}/reintegration first");
        return;
    }
    const char *date = dstr(doc, "date"), *start = dstr(plan.doc, "start_date");
    if (date && start && strcmp(date, start) < 0)
        care_field_error(&op->err, p, "date", "date_order", "the plan's start_date");
    const char *fw_name = before && dstr(before, "framework") ? dstr(before, "framework")
                                                              : dstr(plan.doc, "framework");
    const json_t *fw = framework_of(fw_name);
    const json_t *scores = json_object_get(doc, "scores");
    const char *key;
    json_t *v;
    char path[120];
    json_object_foreach ((json_t *)scores, key, v) {
        snprintf(path, sizeof path, "scores.%.100s", key);
        if (!indicator_dimension(fw, key))
            care_field_error(&op->err, p, path, "unknown_indicator", key);
        else if (!json_is_null(v) && (!json_is_number(v) || json_number_value(v) < 0 ||
                                      json_number_value(v) > 1 || isnan(json_number_value(v))))
            care_field_error(&op->err, p, path, "score_range", NULL);
    }
    if (json_is_object(scores) && json_object_size(scores) == 0)
        care_field_error(&op->err, p, "scores", "required", NULL);
    store_record_release(&plan);
}

static void visit_derive(care_op *op, json_t *doc, store_record *r)
{
    store_record plan;
    const char *fw_name = dstr(doc, "framework");
    int interval = (int)care_config_number("default_visit_interval_days", 90);
    if (store_record_get(core_store(op->c), KIND_PLAN, op->case_uid, &plan) == STORE_OK) {
        if (!fw_name)
            json_object_set(doc, "framework", json_object_get(plan.doc, "framework"));
        interval = interval_of(plan.doc);
        store_record_release(&plan);
    }
    json_object_set_new(doc, "plan", json_string(op->case_uid));
    json_t *dims = NULL;
    double comp =
        reint_score(framework_of(dstr(doc, "framework")), json_object_get(doc, "scores"), &dims);
    json_object_set_new(doc, "dimension_scores", dims);
    if (comp >= 0) {
        json_object_set_new(doc, "composite", json_real(comp));
        json_object_set_new(doc, "sustainable", json_boolean(comp >= threshold() - 1e-9));
    } else {
        json_object_del(doc, "composite");
        json_object_del(doc, "sustainable");
    }
    char due[11];
    care_date(care_days(dstr(doc, "date")) + interval, due);
    json_object_set_new(doc, "next_visit_due", json_string(due));
    snprintf(r->due, sizeof r->due, "%s", dstr(doc, "date"));
}

static const care_entity visit_entity = {
    KIND_VISIT, "visit", RES_REINTEGRATION, care_visit_fields, visit_check, visit_derive, NULL,
};

amp_code reint_visit_create(core *c, const principal *p, const char *case_key, const json_t *body,
                            core_done_fn done, void *arg, amp_err *err)
{
    return care_case_create(c, p, &visit_entity, case_key, body, done, arg, err);
}

amp_code reint_visit_update(core *c, const principal *p, const char *case_key, const char *id,
                            const json_t *patch, int64_t if_match, core_done_fn done, void *arg,
                            amp_err *err)
{
    return care_case_update(c, p, &visit_entity, case_key, id, patch, if_match, done, arg, err);
}

amp_code reint_visit_get(core *c, const principal *p, const char *case_key, const char *id,
                         json_t **out, amp_err *err)
{
    return care_case_get(c, p, &visit_entity, case_key, id, out, err);
}

amp_code reint_visits_list(core *c, const principal *p, const char *case_key, json_t **out,
                           amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_REINTEGRATION, err);
    if (code != AMP_OK)
        return code;
    store_row row;
    if ((code = cases_access(c, p, case_key, ACT_READ, &row, err)) != AMP_OK)
        return code;
    store_record *rows;
    int n;
    code = case_visits(c, row.uid, &rows, &n, err);
    if (code == AMP_OK && (code = care_audit_read(c, p, "visit.list", row.uid, n, err)) != AMP_OK)
        care_rows_free(rows, n);
    store_row_release(&row);
    if (code != AMP_OK)
        return code;
    care_open_rows(c, p, rows, n);
    json_t *items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, care_record_json(p, care_visit_fields, &rows[i]));
    care_rows_free(rows, n);
    *out = care_page(items, n > CASES_DEFAULT_LIMIT ? n : CASES_DEFAULT_LIMIT, 0);
    return AMP_OK;
}

amp_code reint_trend(core *c, const principal *p, const char *case_key, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_REINTEGRATION, err);
    if (code != AMP_OK)
        return code;
    store_row row;
    if ((code = cases_access(c, p, case_key, ACT_READ, &row, err)) != AMP_OK)
        return code;
    store_record plan;
    int rc = store_record_get(core_store(c), KIND_PLAN, row.uid, &plan);
    store_row_release(&row);
    if (rc != STORE_OK)
        return rc == STORE_NOTFOUND
                   ? amp_err_set(err, AMP_ENOTFOUND, "the case has no reintegration plan")
                   : amp_err_set(err, AMP_EINTERNAL, "storage failure");
    store_record *v;
    int n;
    if ((code = case_visits(c, plan.case_uid, &v, &n, err)) != AMP_OK) {
        store_record_release(&plan);
        return code;
    }
    const char *start = dstr(plan.doc, "start_date");
    json_t *items = json_array(), *by_dim = json_object();
    const json_t *prev = NULL, *first = NULL;
    for (int i = 0; i < n; i++) {
        const json_t *d = v[i].doc, *comp = json_object_get(d, "composite");
        json_t *it = json_pack(
            "{s:s, s:s, s:O, s:f}", "visit", v[i].uid, "date", dstr(d, "date"), "dimension_scores",
            json_object_get(d, "dimension_scores"), "months_since_start",
            round((care_days(dstr(d, "date")) - care_days(start)) / 30.4375 * 10) / 10);
        if (json_is_number(comp)) {
            json_object_set(it, "composite", (json_t *)comp);
            json_object_set(it, "sustainable", json_object_get(d, "sustainable"));
            if (prev)
                json_object_set_new(
                    it, "change",
                    json_real(round3(json_number_value(comp) -
                                     json_number_value(json_object_get(prev, "composite")))));
            prev = d;
            if (!first)
                first = d;
        }
        const char *dk;
        json_t *dv;
        json_object_foreach (json_object_get(d, "dimension_scores"), dk, dv) {
            json_t *arr = json_object_get(by_dim, dk);
            if (!arr) {
                arr = json_array();
                json_object_set_new(by_dim, dk, arr);
            }
            json_array_append_new(arr,
                                  json_pack("{s:s, s:O}", "date", dstr(d, "date"), "score", dv));
        }
        json_array_append_new(items, it);
    }
    *out = json_pack("{s:s, s:s, s:s, s:f, s:o, s:o}", "case", plan.case_uid, "framework",
                     dstr(plan.doc, "framework") ? dstr(plan.doc, "framework") : "adult",
                     "start_date", start ? start : "", "threshold", threshold(), "items", items,
                     "by_dimension", by_dim);
    if (first && prev) {
        double a = json_number_value(json_object_get(first, "composite"));
        double b = json_number_value(json_object_get(prev, "composite"));
        json_object_set_new(*out, "first_composite", json_real(a));
        json_object_set_new(*out, "latest_composite", json_real(b));
        json_object_set_new(*out, "change_since_first", json_real(round3(b - a)));
        json_object_set_new(*out, "sustainable", json_boolean(b >= threshold() - 1e-9));
    }
    care_rows_free(v, n);
    store_record_release(&plan);
    return AMP_OK;
}

amp_code reint_indicators(core *c, const principal *p, json_t **out, amp_err *err)
{
    (void)c;
    if (!authz_allows(p, ACT_READ, RES_REINTEGRATION) && !authz_allows(p, ACT_READ, RES_REPORT))
        return authz_require(p, ACT_READ, RES_REINTEGRATION, err);
    *out = json_deep_copy(care_config());
    return AMP_OK;
}

/* ==== across plans ================================================================ */

/* Every visit, by date, grouped by case: one scan instead of one query per
 * plan.  v->rows own the records; lookups return shallow copies. */
typedef struct {
    store_record *rows;
    int n;
    json_t *by_case; /* case uid -> [row indexes] */
    store_record *scratch;
} visit_index;

static amp_code visit_index_load(core *c, visit_index *v, amp_err *err)
{
    memset(v, 0, sizeof *v);
    store_record_query q = {.kind = KIND_VISIT, .by_due = true};
    amp_code code = care_scan(c, &q, &v->rows, &v->n, err);
    if (code != AMP_OK)
        return code;
    v->by_case = json_object();
    v->scratch = calloc((size_t)v->n + 1, sizeof *v->scratch);
    if (!v->scratch)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    for (int i = 0; i < v->n; i++) {
        json_t *arr = json_object_get(v->by_case, v->rows[i].case_uid);
        if (!arr) {
            arr = json_array();
            json_object_set_new(v->by_case, v->rows[i].case_uid, arr);
        }
        json_array_append_new(arr, json_integer(i));
    }
    return AMP_OK;
}

/* The case's visits by date (valid until the next call; not to be released). */
static store_record *visit_index_get(visit_index *v, const char *case_uid, int *n)
{
    json_t *arr = json_object_get(v->by_case, case_uid);
    size_t i;
    json_t *x;
    *n = 0;
    json_array_foreach (arr, i, x)
        v->scratch[(*n)++] = v->rows[json_integer_value(x)];
    return v->scratch;
}

static void visit_index_free(visit_index *v)
{
    care_rows_free(v->rows, v->n);
    json_decref(v->by_case);
    free(v->scratch);
}

static bool plan_visible(core *c, const principal *p, const store_record *plan)
{
    if (p->internal || (p->org[0] && strcmp(p->org, plan->org) == 0))
        return true;
    return care_case_visible(c, p, plan->case_uid);
}

static int cmp_alert(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int hx = strcmp(dstr(x, "severity"), "high") == 0,
        hy = strcmp(dstr(y, "severity"), "high") == 0;
    if (hx != hy)
        return hy - hx;
    const char *dx = dstr(x, "due") ? dstr(x, "due") : dstr(x, "date");
    const char *dy = dstr(y, "due") ? dstr(y, "due") : dstr(y, "date");
    return strcmp(dx ? dx : "", dy ? dy : "");
}

amp_code reint_alerts(core *c, const principal *p, const list_param *params, size_t n, json_t **out,
                      amp_err *err)
{
    static const char *const known[] = {"framework", "kind", "org", NULL};
    amp_code code = authz_require(p, ACT_READ, RES_REINTEGRATION, err);
    if (code != AMP_OK)
        return code;
    int limit, offset;
    if ((code = care_params_check(p, params, n, known, NULL, &limit, &offset, err)) != AMP_OK)
        return code;
    const char *fw = care_param(params, n, "framework"), *kind = care_param(params, n, "kind");
    if (fw && !care_picklist_has("frameworks", fw))
        care_field_error(err, p, "framework", "picklist", fw);
    if (kind && strcmp(kind, "visit_overdue") && strcmp(kind, "score_drop") &&
        strcmp(kind, "score_below"))
        care_field_error(err, p, "kind", "picklist", kind);
    if (json_array_size(err->fields))
        return amp_err_set(err, AMP_EBADREQ, "the list parameters are not valid");
    store_record_query q = {
        .kind = KIND_PLAN, .org = care_param(params, n, "org"), .status = "Active"};
    store_record *plans;
    int np;
    if ((code = care_scan(c, &q, &plans, &np, err)) != AMP_OK)
        return code;
    char today[11];
    clock_today(today);
    visit_index vi;
    if ((code = visit_index_load(c, &vi, err)) != AMP_OK) {
        visit_index_free(&vi);
        care_rows_free(plans, np);
        return code;
    }
    json_t *all = json_array();
    for (int i = 0; i < np; i++) {
        if (fw && (!dstr(plans[i].doc, "framework") || strcmp(dstr(plans[i].doc, "framework"), fw)))
            continue;
        if (!plan_visible(c, p, &plans[i]))
            continue;
        int nv;
        store_record *v = visit_index_get(&vi, plans[i].case_uid, &nv);
        plan_alerts(&plans[i], v, nv, today, all);
    }
    visit_index_free(&vi);
    care_rows_free(plans, np);
    size_t total = json_array_size(all);
    json_t **sorted = calloc(total + 1, sizeof *sorted);
    json_t *items = json_array();
    for (size_t i = 0; sorted && i < total; i++)
        sorted[i] = json_array_get(all, i);
    if (sorted)
        qsort(sorted, total, sizeof *sorted, cmp_alert);
    for (size_t i = 0; sorted && i < total; i++) {
        if (!kind || strcmp(dstr(sorted[i], "kind"), kind) == 0)
            json_array_append(items, sorted[i]);
    }
    free(sorted);
    json_decref(all);
    *out = care_page(items, limit, offset);
    return AMP_OK;
}

amp_code reint_outcomes(core *c, const principal *p, const list_param *params, size_t n,
                        json_t **out, amp_err *err)
{
    static const char *const known[] = {"framework", "org",       "start_from",
                                        "start_to",  "threshold", NULL};
    static const char *const dates[] = {"start_from", "start_to", NULL};
    amp_code code = authz_require(p, ACT_READ, RES_REPORT, err);
    if (code != AMP_OK)
        return code;
    if ((code = care_params_check(p, params, n, known, dates, NULL, NULL, err)) != AMP_OK)
        return code;
    const char *fw = care_param(params, n, "framework"), *ts = care_param(params, n, "threshold");
    double thr = threshold();
    if (ts) {
        char *end;
        thr = strtod(ts, &end);
        if (*end || end == ts || !(thr >= 0 && thr <= 1))
            care_field_error(err, p, "threshold", "score_range", NULL);
    }
    if (fw && !care_picklist_has("frameworks", fw))
        care_field_error(err, p, "framework", "picklist", fw);
    if (json_array_size(err->fields))
        return amp_err_set(err, AMP_EBADREQ, "the parameters are not valid");
    const char *sf = care_param(params, n, "start_from"), *st = care_param(params, n, "start_to");
    store_record_query q = {
        .kind = KIND_PLAN, .org = care_param(params, n, "org"), .due_from = sf, .due_to = st};
    store_record *plans;
    int np;
    if ((code = care_scan(c, &q, &plans, &np, err)) != AMP_OK)
        return code;
    char today[11];
    clock_today(today);
    visit_index vi;
    if ((code = visit_index_load(c, &vi, err)) != AMP_OK) {
        visit_index_free(&vi);
        care_rows_free(plans, np);
        return code;
    }
    const json_t *months = json_object_get(care_config(), "outcome_months");
    int window = (int)care_config_number("outcome_window_days", 60);
    size_t nm = json_array_size(months);
    json_int_t *due = calloc(nm + 1, sizeof *due), *measured = calloc(nm + 1, sizeof *measured),
               *sust = calloc(nm + 1, sizeof *sust);
    double *sum = calloc(nm + 1, sizeof *sum);
    json_int_t counted = 0;
    for (int i = 0; due && measured && sust && sum && i < np; i++) {
        const json_t *pd = plans[i].doc;
        if (fw && (!dstr(pd, "framework") || strcmp(dstr(pd, "framework"), fw)))
            continue;
        const char *start = dstr(pd, "start_date");
        if (!start)
            continue;
        counted++;
        int nv;
        store_record *v = visit_index_get(&vi, plans[i].case_uid, &nv);
        for (size_t m = 0; m < nm; m++) {
            char target[11];
            care_add_months(start, (int)json_integer_value(json_array_get(months, m)), target);
            if (strcmp(target, today) > 0)
                continue;
            due[m]++;
            int32_t t = care_days(target);
            int best = -1, bestd = 0;
            for (int k = 0; k < nv; k++) {
                if (!json_is_number(json_object_get(v[k].doc, "composite")))
                    continue;
                int dd = abs((int)(care_days(dstr(v[k].doc, "date")) - t));
                if (dd <= window && (best < 0 || dd < bestd || (dd == bestd && k > best))) {
                    best = k;
                    bestd = dd;
                }
            }
            if (best < 0)
                continue;
            double comp = json_number_value(json_object_get(v[best].doc, "composite"));
            measured[m]++;
            sum[m] += comp;
            if (comp >= thr - 1e-9)
                sust[m]++;
        }
    }
    visit_index_free(&vi);
    json_t *items = json_array();
    for (size_t m = 0; due && measured && sust && sum && m < nm; m++) {
        json_t *it = json_pack("{s:I, s:I, s:I, s:I}", "months",
                               json_integer_value(json_array_get(months, m)), "plans_due",
                               (json_int_t)due[m], "measured", (json_int_t)measured[m],
                               "sustainable", (json_int_t)sust[m]);
        if (measured[m]) {
            json_object_set_new(it, "share", json_real(round3((double)sust[m] / measured[m])));
            json_object_set_new(it, "mean_composite", json_real(round3(sum[m] / measured[m])));
        }
        if (due[m])
            json_object_set_new(it, "share_of_due", json_real(round3((double)sust[m] / due[m])));
        json_array_append_new(items, it);
    }
    *out = json_pack("{s:I, s:f, s:i, s:o}", "plans", (json_int_t)counted, "threshold", thr,
                     "window_days", window, "items", items);
    if (fw)
        json_object_set_new(*out, "framework", json_string(fw));
    free(due);
    free(measured);
    free(sust);
    free(sum);
    care_rows_free(plans, np);
    return AMP_OK;
}
