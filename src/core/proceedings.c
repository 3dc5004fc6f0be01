/* proceedings.c — criminal proceedings, stages and perpetrators (see
 * proceedings.h). */
#include "core/proceedings.h"
#include "core/care_common.h"
#include "util/clock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIND_PROCEEDING "proceeding"

static const care_field stage_fields[] = {
    {"stage", CF_PICK, CF_REQ, "proceeding_stages", 0, 0, NULL},
    {"date", CF_DATE, CF_REQ | CF_NOFUTURE, NULL, 0, 0, NULL},
    {"authority", CF_STRING, 0, NULL, 0, 200, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const care_field link_fields[] = {
    {"perpetrator", CF_UID, CF_REQ, NULL, 0, 0, NULL},
    {"standing", CF_PICK, 0, "perpetrator_roles", 0, 0, NULL},
    {"verdict", CF_PICK, 0, "verdicts", 0, 0, NULL},
    {"sentence_months", CF_INT, 0, NULL, 0, 1200, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

const care_field care_proceeding_fields[] = {
    {"case", CF_UID, CF_SERVER, NULL, 0, 0, NULL},
    {"file_number", CF_STRING, CF_IDENTITY, NULL, 0, 100, NULL},
    {"jurisdiction_country", CF_COUNTRY, 0, NULL, 0, 0, NULL},
    {"jurisdiction_city", CF_STRING, 0, NULL, 0, 100, NULL},
    {"authority", CF_STRING, 0, NULL, 0, 200, NULL},
    {"offences", CF_MULTI, 0, "offences", 0, 16, NULL},
    {"stages", CF_OBJECTS, CF_REQ, NULL, 0, 50, stage_fields},
    {"victim_roles", CF_MULTI, 0, "victim_roles", 0, 8, NULL},
    {"protection_measures", CF_MULTI, 0, "protection_measures", 0, 16, NULL},
    {"legal_representation", CF_BOOL, 0, NULL, 0, 0, NULL},
    {"verdict", CF_PICK, 0, "verdicts", 0, 0, NULL},
    {"verdict_date", CF_DATE, CF_NOFUTURE, NULL, 0, 0, NULL},
    {"sentence_months", CF_INT, 0, NULL, 0, 1200, NULL},
    {"sentence_details", CF_TEXT, CF_IDENTITY, NULL, 0, 2000, NULL},
    {"compensation_awarded", CF_NUMBER, 0, NULL, 0, 1e12, NULL},
    {"compensation_paid", CF_NUMBER, 0, NULL, 0, 1e12, NULL},
    {"currency", CF_CURRENCY, 0, NULL, 0, 0, NULL},
    {"perpetrators", CF_OBJECTS, 0, NULL, 0, 50, link_fields},
    {"notes", CF_TEXT, CF_IDENTITY, NULL, 0, 4000, NULL},
    {"stage", CF_PICK, CF_SERVER, "proceeding_stages", 0, 0, NULL},
    {"opened_on", CF_DATE, CF_SERVER, NULL, 0, 0, NULL},
    {"status", CF_STRING, CF_SERVER, NULL, 0, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The order stages happen in: a later stage cannot be dated before an earlier. */
static const char *const stage_order[] = {"Complaint", "Investigation", "Prosecution",
                                          "Trial",     "Verdict",       "Sentence",
                                          "Appeal",    "Compensation",  "Closed"};
#define NSTAGES (sizeof stage_order / sizeof *stage_order)

static const char *dstr(const json_t *doc, const char *key)
{
    return json_string_value(json_object_get(doc, key));
}

static int stage_rank(const char *s)
{
    for (size_t i = 0; s && i < NSTAGES; i++) {
        if (strcmp(stage_order[i], s) == 0)
            return (int)i;
    }
    return -1;
}

static bool is_conviction(const char *v)
{
    return v && (strcmp(v, "Conviction") == 0 || strcmp(v, "PartialConviction") == 0);
}

static void proceeding_check(care_op *op, const json_t *doc, const json_t *before)
{
    const principal *p = &op->p;
    amp_err *err = &op->err;
    const json_t *stages = json_object_get(doc, "stages");
    size_t i, j;
    json_t *a, *b;
    const char *earliest = NULL;
    char path[64], detail[200];
    (void)before;
    json_array_foreach (stages, i, a) {
        const char *sa = dstr(a, "stage"), *da = dstr(a, "date");
        if (!sa || !da)
            continue;
        if (!earliest || strcmp(da, earliest) < 0)
            earliest = da;
        json_array_foreach (stages, j, b) {
            const char *sb = dstr(b, "stage"), *db = dstr(b, "date");
            if (j == i || !sb || !db)
                continue;
            if (stage_rank(sa) > stage_rank(sb) && strcmp(da, db) < 0) {
                snprintf(path, sizeof path, "stages[%zu].date", i);
                snprintf(detail, sizeof detail, "%s (%s) cannot come before %s (%s)", sa, da, sb,
                         db);
                care_field_error(err, p, path, "stage_order", detail);
                break;
            }
        }
    }
    const char *verdict = dstr(doc, "verdict"), *vdate = dstr(doc, "verdict_date");
    if (verdict && !vdate)
        care_field_error(err, p, "verdict_date", "required_when", "verdict is given");
    if (vdate && !verdict)
        care_field_error(err, p, "verdict", "required_when", "verdict_date is given");
    if (vdate && earliest && strcmp(vdate, earliest) < 0)
        care_field_error(err, p, "verdict_date", "date_order", earliest);
    if (json_object_get(doc, "sentence_months") && !is_conviction(verdict))
        care_field_error(err, p, "sentence_months", "applies_if", "the verdict is a conviction");
    const json_t *aw = json_object_get(doc, "compensation_awarded"),
                 *paid = json_object_get(doc, "compensation_paid");
    if ((aw || paid) && !dstr(doc, "currency"))
        care_field_error(err, p, "currency", "required_when", "compensation is given");
    if (json_is_number(aw) && json_is_number(paid) &&
        json_number_value(paid) > json_number_value(aw)) {
        snprintf(detail, sizeof detail, "%g", json_number_value(aw));
        care_field_error(err, p, "compensation_paid", "max", detail);
    }
    /* perpetrators: the case's own perpetrator records, each once */
    json_array_foreach (json_object_get(doc, "perpetrators"), i, a) {
        const char *uid = dstr(a, "perpetrator");
        if (!uid)
            continue;
        snprintf(path, sizeof path, "perpetrators[%zu].perpetrator", i);
        bool dup = false;
        for (j = 0; j < i; j++)
            dup = dup ||
                  (dstr(json_array_get(json_object_get(doc, "perpetrators"), j), "perpetrator") &&
                   strcmp(
                       dstr(json_array_get(json_object_get(doc, "perpetrators"), j), "perpetrator"),
                       uid) == 0);
        if (dup) {
            care_field_error(err, p, path, "duplicate", uid);
            continue;
        }
        store_row ch;
        if (store_child_get(core_store(op->c), op->case_uid, "perpetrator", uid, &ch) != STORE_OK) {
            care_field_error(err, p, path, "not_in_case", uid);
            continue;
        }
        store_row_release(&ch);
        const char *lv = dstr(a, "verdict");
        if (json_object_get(a, "sentence_months") && !is_conviction(lv)) {
            snprintf(path, sizeof path, "perpetrators[%zu].sentence_months", i);
            care_field_error(err, p, path, "applies_if",
                             "the perpetrator's verdict is a conviction");
        }
    }
}

static int cmp_stage(const void *x, const void *y)
{
    const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    int c = strcmp(dstr(a, "date"), dstr(b, "date"));
    return c ? c : stage_rank(dstr(a, "stage")) - stage_rank(dstr(b, "stage"));
}

static void proceeding_derive(care_op *op, json_t *doc, store_record *r)
{
    (void)op;
    json_t *stages = json_object_get(doc, "stages");
    size_t n = json_array_size(stages);
    json_t **v = calloc(n + 1, sizeof *v);
    if (v && n) {
        for (size_t i = 0; i < n; i++)
            v[i] = json_incref(json_array_get(stages, i));
        qsort(v, n, sizeof *v, cmp_stage);
        json_t *sorted = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(sorted, v[i]);
        json_object_set_new(doc, "stages", sorted);
        json_object_set_new(doc, "opened_on", json_string(dstr(json_array_get(sorted, 0), "date")));
        json_object_set_new(doc, "stage",
                            json_string(dstr(json_array_get(sorted, n - 1), "stage")));
    }
    free(v);
    bool closed = false;
    size_t i;
    json_t *s;
    json_array_foreach (json_object_get(doc, "stages"), i, s)
        closed = closed || strcmp(dstr(s, "stage"), "Closed") == 0;
    json_object_set_new(doc, "status", json_string(closed ? "Closed" : "Open"));
    snprintf(r->status, sizeof r->status, "%s", closed ? "Closed" : "Open");
    snprintf(r->due, sizeof r->due, "%s", dstr(doc, "opened_on") ? dstr(doc, "opened_on") : "");
}

static const care_entity proceeding_entity = {
    KIND_PROCEEDING,  "proceeding",      RES_PROCEEDING, care_proceeding_fields,
    proceeding_check, proceeding_derive, NULL,
};

amp_code proceedings_create(core *c, const principal *p, const json_t *body, core_done_fn done,
                            void *arg, amp_err *err)
{
    amp_code code = authz_require(p, ACT_CREATE, RES_PROCEEDING, err);
    if (code != AMP_OK)
        return code;
    if (!json_is_object(body)) {
        care_field_error(err, p, "", "object", NULL);
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    }
    const char *key = dstr(body, "case");
    if (!key) {
        care_field_error(err, p, "case", json_object_get(body, "case") ? "type" : "required",
                         "text");
        return care_invalid(err, p);
    }
    json_t *rest = json_deep_copy(body);
    json_object_del(rest, "case");
    code = care_case_create(c, p, &proceeding_entity, key, rest, done, arg, err);
    json_decref(rest);
    return code;
}

/* The case of a proceeding (committed state) into case_uid[40]. */
static amp_code case_of(core *c, const principal *p, const char *id, char case_uid[40],
                        amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_PROCEEDING, err);
    if (code != AMP_OK)
        return code;
    store_record r;
    if ((code = care_get(c, KIND_PROCEEDING, "proceeding", id, &r, err)) != AMP_OK)
        return code;
    snprintf(case_uid, 40, "%s", r.case_uid);
    store_record_release(&r);
    return AMP_OK;
}

amp_code proceedings_update(core *c, const principal *p, const char *id, const json_t *patch,
                            int64_t if_match, core_done_fn done, void *arg, amp_err *err)
{
    char cu[40];
    amp_code code = case_of(c, p, id, cu, err);
    if (code != AMP_OK)
        return code;
    if (json_is_object(patch) && json_object_get(patch, "case")) {
        care_field_error(err, p, "case", "read_only", NULL);
        return care_invalid(err, p);
    }
    code = care_case_update(c, p, &proceeding_entity, cu, id, patch, if_match, done, arg, err);
    if (code == AMP_ENOTFOUND)
        amp_err_set(err, AMP_ENOTFOUND, "no proceeding '%.40s'", id);
    return code;
}

amp_code proceedings_get(core *c, const principal *p, const char *id, json_t **out, amp_err *err)
{
    char cu[40];
    amp_code code = case_of(c, p, id, cu, err);
    if (code != AMP_OK)
        return code;
    code = care_case_get(c, p, &proceeding_entity, cu, id, out, err);
    if (code == AMP_ENOTFOUND) /* the case is out of scope: never confirm the record exists */
        amp_err_set(err, AMP_ENOTFOUND, "no proceeding '%.40s'", id);
    return code;
}

amp_code proceedings_of_case(core *c, const principal *p, const char *case_key, json_t **out,
                             amp_err *err)
{
    return care_case_list(c, p, &proceeding_entity, case_key, out, err);
}

static bool visible(core *c, const principal *p, const store_record *r)
{
    if (p->internal)
        return true;
    return care_case_visible(c, p, r->case_uid);
}

amp_code proceedings_list(core *c, const principal *p, const list_param *params, size_t n,
                          json_t **out, amp_err *err)
{
    static const char *const known[] = {"case", "status",      "stage",     "verdict",
                                        "org",  "opened_from", "opened_to", NULL};
    static const char *const dates[] = {"opened_from", "opened_to", NULL};
    amp_code code = authz_require(p, ACT_READ, RES_PROCEEDING, err);
    if (code != AMP_OK)
        return code;
    int limit, offset;
    if ((code = care_params_check(p, params, n, known, dates, &limit, &offset, err)) != AMP_OK)
        return code;
    const char *status = care_param(params, n, "status"), *stage = care_param(params, n, "stage");
    const char *verdict = care_param(params, n, "verdict"), *ck = care_param(params, n, "case");
    if (status && strcmp(status, "Open") && strcmp(status, "Closed"))
        care_field_error(err, p, "status", "picklist", status);
    if (stage && !care_picklist_has("proceeding_stages", stage))
        care_field_error(err, p, "stage", "picklist", stage);
    if (verdict && !care_picklist_has("verdicts", verdict))
        care_field_error(err, p, "verdict", "picklist", verdict);
    if (json_array_size(err->fields))
        return amp_err_set(err, AMP_EBADREQ, "the list parameters are not valid");
    char case_uid[40] = "";
    if (ck) {
        store_row row;
        if (cases_access(c, p, ck, ACT_READ, &row, err) != AMP_OK) {
            amp_err_clear(err);
            *out = care_page(json_array(), limit, offset);
            return AMP_OK;
        }
        snprintf(case_uid, sizeof case_uid, "%s", row.uid);
        store_row_release(&row);
    }
    store_record_query q = {.kind = KIND_PROCEEDING,
                            .case_uid = ck ? case_uid : NULL,
                            .org = care_param(params, n, "org"),
                            .status = status,
                            .due_from = care_param(params, n, "opened_from"),
                            .due_to = care_param(params, n, "opened_to"),
                            .by_due = true,
                            .descending = true};
    store_record *rows;
    int nr;
    if ((code = care_scan(c, &q, &rows, &nr, err)) != AMP_OK)
        return code;
    json_t *items = json_array();
    for (int i = 0; i < nr; i++) {
        if (stage && (!dstr(rows[i].doc, "stage") || strcmp(dstr(rows[i].doc, "stage"), stage)))
            continue;
        if (verdict &&
            (!dstr(rows[i].doc, "verdict") || strcmp(dstr(rows[i].doc, "verdict"), verdict)))
            continue;
        if (visible(c, p, &rows[i])) {
            care_open_rows(c, p, &rows[i], 1);
            json_array_append_new(items, care_record_json(p, care_proceeding_fields, &rows[i]));
        }
    }
    care_rows_free(rows, nr);
    *out = care_page(items, limit, offset);
    return AMP_OK;
}

static void bump(json_t *obj, const char *key, json_int_t by)
{
    if (!key)
        return;
    json_t *v = json_object_get(obj, key);
    json_object_set_new(obj, key, json_integer((v ? json_integer_value(v) : 0) + by));
}

static bool in_period(const char *d, const care_period *per)
{
    return d && strcmp(d, per->from) >= 0 && strcmp(d, per->to) <= 0;
}

amp_code proceedings_stats(core *c, const principal *p, const list_param *params, size_t n,
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
    store_record_query q = {.kind = KIND_PROCEEDING, .org = care_param(params, n, "org")};
    store_record *rows;
    int nr;
    if ((code = care_scan(c, &q, &rows, &nr, err)) != AMP_OK)
        return code;
    json_int_t opened = 0, open_now = 0, verdicts_n = 0, convictions = 0, convicted = 0;
    json_t *by_stage = json_object(), *verdicts = json_object(), *roles = json_object(),
           *measures = json_object(), *comp = json_object(), *victims = json_object();
    for (int i = 0; i < nr; i++) {
        const json_t *d = rows[i].doc;
        if (strcmp(rows[i].status, "Open") == 0) {
            open_now++;
            bump(by_stage, dstr(d, "stage"), 1);
        }
        if (in_period(dstr(d, "opened_on"), &per)) {
            opened++;
            json_object_set_new(victims, rows[i].case_uid, json_true());
            size_t k;
            json_t *v;
            json_array_foreach (json_object_get(d, "victim_roles"), k, v)
                bump(roles, json_string_value(v), 1);
            json_array_foreach (json_object_get(d, "protection_measures"), k, v)
                bump(measures, json_string_value(v), 1);
        }
        if (in_period(dstr(d, "verdict_date"), &per)) {
            verdicts_n++;
            bump(verdicts, dstr(d, "verdict"), 1);
            if (is_conviction(dstr(d, "verdict")))
                convictions++;
            size_t k;
            json_t *l;
            json_array_foreach (json_object_get(d, "perpetrators"), k, l) {
                if (is_conviction(dstr(l, "verdict")) ||
                    (dstr(l, "standing") && strcmp(dstr(l, "standing"), "Convicted") == 0))
                    convicted++;
            }
            const char *cur = dstr(d, "currency");
            if (cur) {
                json_t *cc = json_object_get(comp, cur);
                if (!cc) {
                    cc = json_pack("{s:f, s:f}", "awarded", 0.0, "paid", 0.0);
                    json_object_set_new(comp, cur, cc);
                }
                const char *keys[] = {"awarded", "paid"};
                const char *src[] = {"compensation_awarded", "compensation_paid"};
                for (int k2 = 0; k2 < 2; k2++) {
                    const json_t *x = json_object_get(d, src[k2]);
                    if (json_is_number(x))
                        json_object_set_new(
                            cc, keys[k2],
                            json_real(json_number_value(json_object_get(cc, keys[k2])) +
                                      json_number_value(x)));
                }
            }
        }
    }
    care_rows_free(rows, nr);
    *out = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:I, s:o, s:I, s:I, s:o, s:o, s:o}",
                     "period", per.label, "from", per.from, "to", per.to, "opened",
                     (json_int_t)opened, "victims", (json_int_t)json_object_size(victims),
                     "open_now", (json_int_t)open_now, "open_by_stage", by_stage, "verdicts",
                     (json_int_t)verdicts_n, "verdicts_by_outcome", verdicts, "convictions",
                     (json_int_t)convictions, "perpetrators_convicted", (json_int_t)convicted,
                     "victim_roles", roles, "protection_measures", measures, "compensation", comp);
    json_decref(victims);
    return AMP_OK;
}
