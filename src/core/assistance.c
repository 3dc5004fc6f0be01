/* assistance.c — assistance given and its link to support plans (see assistance.h). */
#include "core/assistance.h"

#include "core/audit.h"
#include "core/refcommon.h"
#include "util/clock.h"
#include "util/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIND "assistance"

static const rc_field fields[] = {
    {"type", RF_CODE, "services", true, false, 0, 0},
    {"provider_org", RF_ORG, NULL, false, false, 0, 0},
    {"start_date", RF_DATE, NULL, true, false, 0, 0},
    {"planned_end_date", RF_DATE, NULL, false, false, 0, 0},
    {"end_date", RF_DATE, NULL, false, false, 0, 0},
    {"status", RF_CODE, "assistance_statuses", false, false, 0, 0},
    {"outcome", RF_CODE, "assistance_outcomes", false, false, 0, 0},
    {"cost", RF_NUMBER, NULL, false, false, 0, 1e12},
    {"currency", RF_CURRENCY, NULL, false, false, 0, 0},
    {"support_plan", RF_UUID, NULL, false, false, 0, 0},
    {"referral", RF_UUID, NULL, false, false, 0, 0},
    {"interview_checklist", RF_CHECKLIST, "interview_checklist", false, false, 0, 0},
    {"notes", RF_LONGTEXT, NULL, false, true, 0, 10000},
    {NULL, 0, NULL, false, false, 0, 0},
};

static const char *const server_keys[] = {"case", "case_reference", "version", NULL};

static const char *sv(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Checks a whole record (fields, then the rules between them). */
static void check_doc(core *c, const principal *p, const store_row *cs, json_t *doc, amp_err *err)
{
    rc_check(c, p, fields, doc, true, server_keys, err);
    const char *start = sv(doc, "start_date"), *end = sv(doc, "end_date");
    const char *planned = sv(doc, "planned_end_date");
    if (start && end && strcmp(end, start) < 0)
        amp_err_field(err, "end_date", "after_start", "end_date is before start_date");
    if (start && planned && strcmp(planned, start) < 0)
        amp_err_field(err, "planned_end_date", "after_start",
                      "planned_end_date is before start_date");
    if (json_object_get(doc, "cost") && !json_object_get(doc, "currency"))
        amp_err_field(err, "currency", "required_if", "currency is required when cost is given");
    const char *type = sv(doc, "type");
    if (json_object_get(doc, "interview_checklist") && type && strcmp(type, "Interview") != 0)
        amp_err_field(err, "interview_checklist", "applies_if",
                      "interview_checklist may only be given when type is Interview");
    const char *plan = sv(doc, "support_plan");
    if (plan && uuid_valid(plan)) {
        store_row ch;
        if (store_child_get(core_store(c), cs->uid, "support_plan", plan, &ch) == STORE_OK)
            store_row_release(&ch);
        else
            amp_err_field(err, "support_plan", "lookup",
                          "support_plan: no support plan of this "
                          "case has this identifier");
    }
    const char *ref = sv(doc, "referral");
    if (ref && uuid_valid(ref)) {
        store_record r;
        if (store_record_get(core_store(c), "referral", ref, &r) == STORE_OK) {
            if (strcmp(r.case_uid, cs->uid) != 0)
                amp_err_field(err, "referral", "lookup",
                              "referral: no referral of this case has this identifier");
            store_record_release(&r);
        } else {
            amp_err_field(err, "referral", "lookup",
                          "referral: no referral of this case has this identifier");
        }
    }
}

/* The status when none is given: from the dates. */
static void default_status(json_t *doc, const char *today)
{
    if (json_object_get(doc, "status"))
        return;
    const char *start = sv(doc, "start_date");
    const char *st = sv(doc, "end_date")                 ? "Completed"
                     : start && strcmp(start, today) > 0 ? "Planned"
                                                         : "InProgress";
    json_object_set_new(doc, "status", json_string(st));
}

static void fill_columns(store_record *r, const json_t *doc)
{
    const char *prov = sv(doc, "provider_org"), *st = sv(doc, "status");
    const char *due = sv(doc, "planned_end_date");
    snprintf(r->org2, sizeof r->org2, "%s", prov ? prov : "");
    snprintf(r->status, sizeof r->status, "%s", st ? st : "");
    snprintf(r->due, sizeof r->due, "%s", due ? due : "");
}

static json_t *view(const principal *p, const store_record *r)
{
    json_t *o = rc_record_json(r);
    json_object_set_new(o, "recorded_by_org", json_string(r->org));
    if (!authz_sees_identity(p))
        rc_strip_identity(fields, o);
    return o;
}

static amp_code open_case(core *c, const principal *p, const char *case_key, authz_action a,
                          store_row *row, amp_err *err)
{
    amp_code code = authz_require(p, a, RES_ASSISTANCE, err);
    if (code != AMP_OK)
        return code;
    return cases_access(c, p, case_key, a == ACT_READ ? ACT_READ : ACT_UPDATE, row, err);
}

amp_code assistance_list(core *c, const principal *p, const char *case_key, json_t **out,
                         amp_err *err)
{
    store_row row;
    amp_code code = open_case(c, p, case_key, ACT_READ, &row, err);
    if (code != AMP_OK)
        return code;
    store_record_query q = {.kind = KIND, .case_uid = row.uid};
    store_row_release(&row);
    store_record *rows = NULL;
    int n = 0;
    if (store_record_list(core_store(c), &q, &rows, &n, NULL) != STORE_OK)
        return rc_fail(err, p, AMP_EINTERNAL, "storage", NULL);
    json_t *items = json_array(), *cost = json_object(), *plans = json_object();
    for (int i = 0; i < n; i++) {
        json_array_append_new(items, view(p, &rows[i]));
        const char *plan = sv(rows[i].doc, "support_plan");
        if (plan) { /* the assistance that carries out each support plan */
            json_t *ids = json_object_get(plans, plan);
            if (!ids) {
                ids = json_array();
                json_object_set_new(plans, plan, ids);
            }
            json_array_append_new(ids, json_string(rows[i].uid));
        }
        const json_t *amount = json_object_get(rows[i].doc, "cost");
        const char *cur = sv(rows[i].doc, "currency");
        if (json_is_number(amount) && cur) {
            double sum = json_number_value(json_object_get(cost, cur)) + json_number_value(amount);
            json_object_set_new(cost, cur, json_real(sum));
        }
        store_record_release(&rows[i]);
    }
    free(rows);
    *out = json_pack("{s:o, s:i, s:i, s:i, s:o, s:o}", "items", items, "total", n, "limit", n,
                     "offset", 0, "cost", cost, "support_plans", plans);
    return AMP_OK;
}

typedef struct {
    store_record rec;
    const char *action;
    int64_t version;
    bool from_header, del;
    json_t *patch;
    const store_row *cs;
    amp_err *verr;
} write_ctx;

static int job_write(rc_job *j, store_tx *tx)
{
    write_ctx *x = j->ctx;
    store_record *r = &x->rec;
    int64_t expected = 0;
    if (x->patch || x->del) {
        char uid[40];
        snprintf(uid, sizeof uid, "%s", r->uid);
        int rc = store_tx_record_get(tx, KIND, uid, r);
        if (rc != STORE_OK || strcmp(r->case_uid, x->cs->uid) != 0) {
            if (rc == STORE_OK)
                store_record_release(r);
            memset(r, 0, sizeof *r);
            return rc_job_fail(j, AMP_ENOTFOUND, "nf.assistance", uid);
        }
        if (!rc_is_org(j->p, r->org))
            return rc_job_fail(j, AMP_EFORBIDDEN, "rec.owner", NULL);
        int v = rc_job_check_version(j, r->version, x->version, x->from_header);
        if (v != STORE_OK)
            return v;
        expected = r->version;
        if (x->patch) {
            json_t *merged = rc_merge(r->doc, x->patch);
            json_object_del(merged, "status");
            if (json_object_get(x->patch, "status"))
                json_object_set(merged, "status", json_object_get(x->patch, "status"));
            else
                json_object_set(merged, "status", json_object_get(r->doc, "status"));
            check_doc(j->c, j->p, x->cs, merged, j->err);
            if (json_array_size(j->err->fields)) {
                json_decref(merged);
                j->code = rc_invalid(j->p, j->err);
                return 100 + (int)j->code;
            }
            json_decref(r->doc);
            r->doc = merged;
            fill_columns(r, merged);
        }
        rc_record_touch(r, j->p, j->now);
    }
    int rc =
        x->del ? store_tx_record_delete(tx, KIND, r->uid) : store_tx_record_put(tx, r, expected);
    if (rc == STORE_OK) {
        json_t *detail =
            json_pack("{s:s, s:O}", "case", r->case_uid, "type", json_object_get(r->doc, "type"));
        rc = audit_tx(tx, j->p, x->action, "assistance", r->uid, detail);
        json_decref(detail);
    }
    if (rc != STORE_OK)
        return rc_job_store_fail(j, rc, "assistance record");
    j->result = x->del ? json_pack("{s:s, s:b}", "id", r->uid, "deleted", 1) : view(j->p, r);
    return STORE_OK;
}

amp_code assistance_create(core *c, const principal *p, const char *case_key, const json_t *body,
                           json_t **out, amp_err *err)
{
    store_row row;
    amp_code code = open_case(c, p, case_key, ACT_CREATE, &row, err);
    if (code != AMP_OK)
        return code;
    json_t *doc = json_is_object(body) ? json_deep_copy(body) : NULL;
    if (!doc) {
        store_row_release(&row);
        amp_err_field(err, "", "object", "the body must be a JSON object");
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    }
    for (const char *const *k = server_keys; *k; k++) {
        if (json_object_get(doc, *k))
            amp_err_field(err, *k, "read_only", "set by the server");
    }
    char today[11];
    clock_today(today);
    if (!json_object_get(doc, "provider_org") && (p->org[0] || row.owner_org[0]))
        json_object_set_new(doc, "provider_org", json_string(p->org[0] ? p->org : row.owner_org));
    check_doc(c, p, &row, doc, err);
    if (json_array_size(err->fields)) {
        json_decref(doc);
        store_row_release(&row);
        return rc_invalid(p, err);
    }
    if ((code = rc_identity_write(p, fields, doc, ACT_CREATE, err)) != AMP_OK) {
        json_decref(doc);
        store_row_release(&row);
        return code;
    }
    default_status(doc, today);
    json_object_set_new(doc, "case", json_string(row.uid));
    json_object_set_new(doc, "case_reference", json_string(row.reference));
    write_ctx x = {.action = "assistance.create", .cs = &row};
    rc_job j;
    rc_job_init(&j, c, p, job_write, &x, err);
    rc_record_init(&x.rec, KIND, NULL, p, j.now);
    snprintf(x.rec.case_uid, sizeof x.rec.case_uid, "%s", row.uid);
    snprintf(x.rec.org, sizeof x.rec.org, "%s", p->org[0] ? p->org : row.owner_org);
    x.rec.doc = doc;
    fill_columns(&x.rec, doc);
    code = rc_job_run(&j);
    if (code == AMP_OK)
        *out = j.result;
    store_record_release(&x.rec);
    store_row_release(&row);
    return code;
}

amp_code assistance_get(core *c, const principal *p, const char *case_key, const char *id,
                        json_t **out, amp_err *err)
{
    store_row row;
    amp_code code = open_case(c, p, case_key, ACT_READ, &row, err);
    if (code != AMP_OK)
        return code;
    store_record r;
    int rc = id && strlen(id) < sizeof r.uid ? store_record_get(core_store(c), KIND, id, &r)
                                             : STORE_NOTFOUND;
    if (rc == STORE_OK && strcmp(r.case_uid, row.uid) != 0) {
        store_record_release(&r);
        rc = STORE_NOTFOUND;
    }
    store_row_release(&row);
    if (rc != STORE_OK)
        return rc_fail(err, p, rc == STORE_NOTFOUND ? AMP_ENOTFOUND : AMP_EINTERNAL,
                       rc == STORE_NOTFOUND ? "nf.assistance" : "storage", id);
    *out = view(p, &r);
    store_record_release(&r);
    return AMP_OK;
}

static amp_code change(core *c, const principal *p, const char *case_key, const char *id,
                       const json_t *patch, int64_t if_match, bool del, json_t **out, amp_err *err)
{
    store_row row;
    amp_code code = open_case(c, p, case_key, del ? ACT_DELETE : ACT_UPDATE, &row, err);
    if (code != AMP_OK)
        return code;
    write_ctx x = {
        .action = del ? "assistance.delete" : "assistance.update", .cs = &row, .del = del};
    json_t *empty = json_object();
    if ((code = rc_take_version(patch ? patch : empty, if_match, &x.version, &x.from_header,
                                err)) != AMP_OK)
        goto out;
    if (x.version <= 0) {
        code = rc_fail(err, p, AMP_ENEEDVER, "needver", NULL);
        goto out;
    }
    if (patch) {
        if (!json_is_object(patch)) {
            amp_err_field(err, "", "object", "the body must be a JSON object");
            code = amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
            goto out;
        }
        x.patch = json_deep_copy(patch);
        json_object_del(x.patch, "version");
        for (const char *const *k = server_keys; *k; k++) {
            if (strcmp(*k, "version") && json_object_get(x.patch, *k))
                amp_err_field(err, *k, "read_only", "set by the server");
        }
        if (json_array_size(err->fields)) {
            code = rc_invalid(p, err);
            goto out;
        }
        if ((code = rc_identity_write(p, fields, x.patch, ACT_UPDATE, err)) != AMP_OK)
            goto out;
    }
    if (!id || strlen(id) >= sizeof x.rec.uid) {
        code = rc_fail(err, p, AMP_ENOTFOUND, "nf.assistance", id);
        goto out;
    }
    snprintf(x.rec.uid, sizeof x.rec.uid, "%s", id);
    rc_job j;
    rc_job_init(&j, c, p, job_write, &x, err);
    code = rc_job_run(&j);
    if (code == AMP_OK)
        *out = j.result;
out:
    json_decref(empty);
    json_decref(x.patch);
    store_record_release(&x.rec);
    store_row_release(&row);
    return code;
}

amp_code assistance_update(core *c, const principal *p, const char *case_key, const char *id,
                           const json_t *patch, int64_t if_match, json_t **out, amp_err *err)
{
    return change(c, p, case_key, id, patch, if_match, false, out, err);
}

amp_code assistance_delete(core *c, const principal *p, const char *case_key, const char *id,
                           int64_t if_match, json_t **out, amp_err *err)
{
    return change(c, p, case_key, id, NULL, if_match, true, out, err);
}
