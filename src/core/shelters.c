/* shelters.c — shelters, stays, capacity and the waiting list (see shelters.h). */
#include "core/shelters.h"
#include "core/care_common.h"
#include "util/clock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KIND_SHELTER "shelter"
#define KIND_LOAD "shelter_load"
#define KIND_STAY "stay"
#define KIND_OPEN "stay_open"
#define MAX_SERIES_DAYS 3660

static const care_field shelter_fields[] = {
    {"name", CF_STRING, CF_REQ, NULL, 0, 200, NULL},
    {"org", CF_ORG, 0, NULL, 0, 0, NULL},
    {"capacity", CF_COUNTS, CF_REQ, "place_kinds", 0, 0, NULL},
    {"cost_per_night", CF_AMOUNTS, 0, "place_kinds", 0, 0, NULL},
    {"currency", CF_CURRENCY, 0, NULL, 0, 0, NULL},
    {"country", CF_COUNTRY, 0, NULL, 0, 0, NULL},
    {"region", CF_STRING, 0, NULL, 0, 100, NULL},
    {"city", CF_STRING, 0, NULL, 0, 100, NULL},
    {"address", CF_TEXT, CF_IDENTITY, NULL, 0, 500, NULL},
    {"contact", CF_STRING, CF_IDENTITY, NULL, 0, 200, NULL},
    {"services", CF_MULTI, 0, "reintegration_services", 0, 32, NULL},
    {"supported_by", CF_ORGS, 0, NULL, 0, 32, NULL},
    {"opened_on", CF_DATE, 0, NULL, 0, 0, NULL},
    {"closed_on", CF_DATE, 0, NULL, 0, 0, NULL},
    {"notes", CF_TEXT, CF_IDENTITY, NULL, 0, 4000, NULL},
    {"load_ref", CF_UID, CF_SERVER, NULL, 0, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

const care_field care_stay_fields[] = {
    {"case", CF_STRING, CF_REQ, NULL, 0, 64, NULL},
    {"shelter", CF_UID, CF_SERVER, NULL, 0, 0, NULL},
    {"place_kind", CF_PICK, CF_REQ, "place_kinds", 0, 0, NULL},
    {"places", CF_INT, 0, NULL, 1, 20, NULL},
    {"status", CF_PICK, CF_SERVER, "stay_statuses", 0, 0, NULL},
    {"requested_on", CF_DATE, CF_SERVER, NULL, 0, 0, NULL},
    {"admitted_on", CF_DATE, CF_NOFUTURE, NULL, 0, 0, NULL},
    {"planned_discharge", CF_DATE, 0, NULL, 0, 0, NULL},
    {"discharged_on", CF_DATE, CF_SERVER, NULL, 0, 0, NULL},
    {"discharge_reason", CF_PICK, CF_SERVER, "discharge_reasons", 0, 0, NULL},
    {"nights", CF_INT, CF_SERVER, NULL, 0, 0, NULL},
    {"cost", CF_NUMBER, CF_SERVER, NULL, 0, 0, NULL},
    {"currency", CF_CURRENCY, CF_SERVER, NULL, 0, 0, NULL},
    {"cancel_reason", CF_TEXT, CF_SERVER | CF_IDENTITY, NULL, 0, 0, NULL},
    {"referred_by", CF_ORG, 0, NULL, 0, 0, NULL},
    {"waiting_list", CF_BOOL, 0, NULL, 0, 0, NULL},
    {"notes", CF_TEXT, CF_IDENTITY, NULL, 0, 4000, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const care_field discharge_fields[] = {
    {"discharged_on", CF_DATE, CF_NOFUTURE, NULL, 0, 0, NULL},
    {"discharge_reason", CF_PICK, CF_REQ, "discharge_reasons", 0, 0, NULL},
    {"notes", CF_TEXT, CF_IDENTITY, NULL, 0, 4000, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const care_field admit_waiting_fields[] = {
    {"admitted_on", CF_DATE, CF_NOFUTURE, NULL, 0, 0, NULL},
    {"planned_discharge", CF_DATE, 0, NULL, 0, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const care_field cancel_fields[] = {
    {"reason", CF_TEXT, 0, NULL, 0, 2000, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const care_field stay_patch_fields[] = {
    {"planned_discharge", CF_DATE, 0, NULL, 0, 0, NULL},
    {"referred_by", CF_ORG, 0, NULL, 0, 0, NULL},
    {"notes", CF_TEXT, CF_IDENTITY, NULL, 0, 4000, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* ==== helpers ================================================================== */

static const char *dstr(const json_t *doc, const char *key)
{
    return json_string_value(json_object_get(doc, key));
}

static json_int_t dint(const json_t *doc, const char *key, json_int_t dflt)
{
    const json_t *v = json_object_get(doc, key);
    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static const char *const place_kinds[] = {"Women", "Men", "Children", "Families"};
#define NKINDS 4

static json_int_t capacity_of(const json_t *shelter_doc, const char *kind)
{
    return dint(json_object_get(shelter_doc, "capacity"), kind, 0);
}

static json_int_t capacity_total(const json_t *shelter_doc)
{
    json_int_t t = 0;
    for (int k = 0; k < NKINDS; k++)
        t += capacity_of(shelter_doc, place_kinds[k]);
    return t;
}

/* A stay's end for occupancy: the discharge date (exclusive), or the day after
 * `today` for a stay still open. */
static int32_t stay_end(const json_t *doc, const char *today)
{
    const char *d = dstr(doc, "discharged_on");
    return d ? care_days(d) : care_days(today) + 1;
}

int shelters_stay_nights(const json_t *doc, const char *from, const char *to, const char *today)
{
    const char *status = dstr(doc, "status");
    if (!status || (strcmp(status, "Admitted") != 0 && strcmp(status, "Discharged") != 0))
        return 0;
    int32_t a = care_days(dstr(doc, "admitted_on")), e = stay_end(doc, today);
    int32_t f = care_days(from), t = care_days(to) + 1;
    if (a == INT32_MIN || e == INT32_MIN || f == INT32_MIN || t == INT32_MIN)
        return 0;
    int32_t lo = a > f ? a : f, hi = e < t ? e : t;
    return hi > lo ? (int)(hi - lo) * (int)dint(doc, "places", 1) : 0;
}

/* Reads the shelter and checks the principal may see it. */
static amp_code shelter_read(core *c, const principal *p, const char *id, store_record *out,
                             amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_SHELTER, err);
    if (code != AMP_OK)
        return code;
    return care_get(c, KIND_SHELTER, "shelter", id, out, err);
}

/* Places taken by kind in the shelter's load record (a new object). */
static json_t *load_counts(core *c, const json_t *shelter_doc)
{
    store_record load;
    const char *ref = dstr(shelter_doc, "load_ref");
    json_t *occ = NULL;
    if (ref && store_record_get(core_store(c), KIND_LOAD, ref, &load) == STORE_OK) {
        occ = json_deep_copy(json_object_get(load.doc, "occupied"));
        store_record_release(&load);
    }
    return occ ? occ : json_object();
}

static json_t *shelter_json(core *c, const principal *p, const store_record *r)
{
    json_t *o = care_record_json(p, shelter_fields, r);
    json_object_del(o, "load_ref");
    json_t *occ = load_counts(c, r->doc), *free_ = json_object();
    json_int_t total_free = 0, total_occ = 0;
    for (int k = 0; k < NKINDS; k++) {
        json_int_t cap = capacity_of(r->doc, place_kinds[k]);
        json_int_t used = dint(occ, place_kinds[k], 0);
        if (cap > 0 || used > 0) {
            json_object_set_new(free_, place_kinds[k], json_integer(cap > used ? cap - used : 0));
            total_free += cap > used ? cap - used : 0;
        }
        total_occ += used;
    }
    json_object_set_new(o, "occupied", occ);
    json_object_set_new(o, "free", free_);
    json_object_set_new(o, "capacity_total", json_integer(capacity_total(r->doc)));
    json_object_set_new(o, "occupied_total", json_integer(total_occ));
    json_object_set_new(o, "free_total", json_integer(total_free));
    return o;
}

static json_t *stay_json(const principal *p, const store_record *r, const char *today)
{
    json_t *o = care_record_json(p, care_stay_fields, r);
    if (r->status[0] && strcmp(r->status, "Admitted") == 0) {
        int32_t a = care_days(dstr(r->doc, "admitted_on")), t = care_days(today);
        if (a != INT32_MIN && t != INT32_MIN)
            json_object_set_new(o, "nights_so_far", json_integer(t - a));
    }
    return o;
}

static void stay_columns(store_record *r)
{
    const char *s = dstr(r->doc, "status"), *due = dstr(r->doc, "planned_discharge");
    snprintf(r->status, sizeof r->status, "%s", s ? s : "");
    snprintf(r->due, sizeof r->due, "%s", due ? due : "");
    const char *cs = dstr(r->doc, "case"), *sh = dstr(r->doc, "shelter");
    snprintf(r->case_uid, sizeof r->case_uid, "%s", cs ? cs : "");
    snprintf(r->org2, sizeof r->org2, "%s", sh ? sh : "");
}

/* Cross-field checks of a shelter document. */
static void shelter_check(const principal *p, const json_t *doc, amp_err *err)
{
    const char *opened = dstr(doc, "opened_on"), *closed = dstr(doc, "closed_on");
    if (opened && closed && strcmp(closed, opened) < 0)
        care_field_error(err, p, "closed_on", "date_order", "opened_on");
    if (json_object_size(json_object_get(doc, "cost_per_night")) && !dstr(doc, "currency"))
        care_field_error(err, p, "currency", "required_when", "cost_per_night is given");
    if (json_is_object(json_object_get(doc, "capacity")) && capacity_total(doc) == 0)
        care_field_error(err, p, "capacity", "min", "1");
}

/* ==== shelters: create and update ================================================ */

static int job_shelter_create(store_tx *tx, care_op *op)
{
    store_record load, r;
    care_record_init(op, &load, KIND_LOAD);
    snprintf(load.org, sizeof load.org, "%s", dstr(op->body, "org"));
    load.doc = json_pack("{s:{}}", "occupied");
    care_record_init(op, &r, KIND_SHELTER);
    snprintf(r.org, sizeof r.org, "%s", dstr(op->body, "org"));
    json_object_set_new(op->body, "load_ref", json_string(load.uid));
    r.doc = json_incref(op->body);
    snprintf(load.case_uid, sizeof load.case_uid, "%s", r.uid);
    int rc = store_tx_record_put(tx, &load, 0);
    if (rc == STORE_OK)
        rc = store_tx_record_put(tx, &r, 0);
    if (rc == STORE_OK) {
        json_t *detail = json_pack("{s:s}", "org", r.org);
        rc = audit_tx(tx, &op->p, "shelter.create", "shelter", r.uid, detail);
        json_decref(detail);
    }
    if (rc != STORE_OK) {
        store_record_release(&load);
        store_record_release(&r);
        return care_op_store_fail(op, rc, "shelter");
    }
    /* a new shelter: every place free */
    json_t *out = care_record_json(&op->p, shelter_fields, &r), *free_ = json_object();
    json_object_del(out, "load_ref");
    for (int k = 0; k < NKINDS; k++) {
        json_int_t cap = capacity_of(r.doc, place_kinds[k]);
        if (cap > 0)
            json_object_set_new(free_, place_kinds[k], json_integer(cap));
    }
    json_object_set_new(out, "occupied", json_object());
    json_object_set_new(out, "free", free_);
    json_object_set_new(out, "capacity_total", json_integer(capacity_total(r.doc)));
    json_object_set_new(out, "occupied_total", json_integer(0));
    json_object_set_new(out, "free_total", json_integer(capacity_total(r.doc)));
    op->result = out;
    store_record_release(&load);
    store_record_release(&r);
    return STORE_OK;
}

amp_code shelters_create(core *c, const principal *p, const json_t *body, core_done_fn done,
                         void *arg, amp_err *err)
{
    amp_code code = authz_require(p, ACT_CREATE, RES_SHELTER, err);
    if (code != AMP_OK)
        return code;
    if (!json_is_object(body)) {
        care_field_error(err, p, "", "object", NULL);
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    }
    care_op *op = care_op_new(c, p, job_shelter_create, done, arg);
    if (!op)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    op->body = care_filter(NULL, body, false);
    care_validate(c, p, shelter_fields, op->body, false, NULL, NULL, op->today, err);
    shelter_check(p, op->body, err);
    const char *org = dstr(op->body, "org");
    if (!org) {
        if (!p->org[0] && !json_array_size(err->fields))
            care_field_error(err, p, "org", "required", NULL);
        else if (p->org[0])
            json_object_set_new(op->body, "org", json_string(p->org));
    } else if (!p->internal && strcmp(org, p->org) != 0) {
        care_field_error(err, p, "org", "wrong_organisation", org);
    }
    if (json_array_size(err->fields)) {
        care_op_free(op);
        return care_invalid(err, p);
    }
    return care_op_submit(op, err);
}

static int job_shelter_update(store_tx *tx, care_op *op)
{
    store_record r;
    int rc = store_tx_record_get(tx, KIND_SHELTER, op->uid, &r);
    if (rc != STORE_OK)
        return care_op_store_fail(op, rc, "shelter");
    int out = care_op_check_version(op, r.version, "shelter");
    json_t *merged = NULL, *occ = NULL;
    if (out != STORE_OK)
        goto done;
    if (care_require_org(&op->p, r.org, "shelter", &op->err) != AMP_OK) {
        out = care_op_fail(op, AMP_EFORBIDDEN);
        goto done;
    }
    merged = care_merge(r.doc, op->body);
    care_validate(op->c, &op->p, shelter_fields, merged, false,
                  (const char *const[]){"load_ref", NULL}, NULL, op->today, &op->err);
    shelter_check(&op->p, merged, &op->err);
    if (!json_equal(json_object_get(merged, "org"), json_object_get(r.doc, "org")) &&
        !op->p.internal)
        care_field_error(&op->err, &op->p, "org", "read_only", NULL);
    /* capacity may not drop below the places taken now */
    store_record load;
    if (store_tx_record_get(tx, KIND_LOAD, dstr(r.doc, "load_ref") ? dstr(r.doc, "load_ref") : "",
                            &load) == STORE_OK) {
        occ = json_incref(json_object_get(load.doc, "occupied"));
        store_record_release(&load);
    }
    for (int k = 0; k < NKINDS; k++) {
        json_int_t used = dint(occ, place_kinds[k], 0);
        if (used > capacity_of(merged, place_kinds[k])) {
            char path[64], d[32];
            snprintf(path, sizeof path, "capacity.%s", place_kinds[k]);
            snprintf(d, sizeof d, "%lld", (long long)used);
            care_field_error(&op->err, &op->p, path, "min", d);
        }
    }
    if (json_array_size(op->err.fields)) {
        care_invalid(&op->err, &op->p);
        out = care_op_fail(op, AMP_EINVALID);
        goto done;
    }
    int64_t expected = r.version;
    json_t *changed = json_array();
    const char *key;
    json_t *v;
    json_object_foreach (op->body, key, v)
        json_array_append_new(changed, json_string(key));
    json_decref(r.doc);
    r.doc = json_incref(merged);
    snprintf(r.org, sizeof r.org, "%s", dstr(merged, "org") ? dstr(merged, "org") : "");
    care_record_touch(op, &r);
    rc = store_tx_record_put(tx, &r, expected);
    if (rc == STORE_OK) {
        json_t *detail = json_pack("{s:o}", "fields", changed);
        rc = audit_tx(tx, &op->p, "shelter.update", "shelter", r.uid, detail);
        json_decref(detail);
    } else {
        json_decref(changed);
    }
    if (rc != STORE_OK) {
        out = care_op_store_fail(op, rc, "shelter");
        goto done;
    }
    op->result = care_record_json(&op->p, shelter_fields, &r);
    json_object_del(op->result, "load_ref");
done:
    json_decref(merged);
    json_decref(occ);
    store_record_release(&r);
    return out;
}

amp_code shelters_update(core *c, const principal *p, const char *id, const json_t *patch,
                         int64_t if_match, core_done_fn done, void *arg, amp_err *err)
{
    amp_code code = authz_require(p, ACT_UPDATE, RES_SHELTER, err);
    if (code != AMP_OK)
        return code;
    store_record r;
    if ((code = care_get(c, KIND_SHELTER, "shelter", id, &r, err)) != AMP_OK)
        return code;
    code = care_require_org(p, r.org, "shelter", err);
    store_record_release(&r);
    if (code != AMP_OK)
        return code;
    if (!json_is_object(patch)) {
        care_field_error(err, p, "", "object", NULL);
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    }
    care_op *op = care_op_new(c, p, job_shelter_update, done, arg);
    if (!op)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    snprintf(op->uid, sizeof op->uid, "%s", id);
    op->body = json_deep_copy(patch);
    op->if_match = if_match;
    if ((code = care_op_take_version(op, err)) != AMP_OK) {
        care_op_free(op);
        return code;
    }
    care_validate(c, p, shelter_fields, op->body, true, NULL, NULL, op->today, err);
    if (json_array_size(err->fields)) {
        care_op_free(op);
        return care_invalid(err, p);
    }
    return care_op_submit(op, err);
}

/* ==== shelters: reads ============================================================ */

amp_code shelters_get(core *c, const principal *p, const char *id, json_t **out, amp_err *err)
{
    store_record r;
    amp_code code = shelter_read(c, p, id, &r, err);
    if (code != AMP_OK)
        return code;
    *out = shelter_json(c, p, &r);
    store_record_release(&r);
    return AMP_OK;
}

amp_code shelters_list(core *c, const principal *p, const list_param *params, size_t n,
                       json_t **out, amp_err *err)
{
    static const char *const known[] = {"org",  "country",   "region", "city",
                                        "kind", "available", "open",   NULL};
    int limit, offset;
    amp_code code = authz_require(p, ACT_READ, RES_SHELTER, err);
    if (code != AMP_OK)
        return code;
    if ((code = care_params_check(p, params, n, known, NULL, &limit, &offset, err)) != AMP_OK)
        return code;
    const char *kind = care_param(params, n, "kind");
    if (kind && !care_picklist_has("place_kinds", kind)) {
        care_field_error(err, p, "kind", "picklist", kind);
        return amp_err_set(err, AMP_EBADREQ, "kind is not a kind of place");
    }
    const char *avail = care_param(params, n, "available"), *open = care_param(params, n, "open");
    store_record_query q = {.kind = KIND_SHELTER, .org = care_param(params, n, "org")};
    store_record *rows;
    int nrows;
    char today[11];
    if ((code = care_scan(c, &q, &rows, &nrows, err)) != AMP_OK)
        return code;
    json_t *items = json_array();
    clock_today(today);
    for (int i = 0; i < nrows; i++) {
        const json_t *d = rows[i].doc;
        static const char *const eq[] = {"country", "region", "city"};
        bool keep = true;
        for (int k = 0; k < 3 && keep; k++) {
            const char *want = care_param(params, n, eq[k]);
            keep = !want || (dstr(d, eq[k]) && strcasecmp(dstr(d, eq[k]), want) == 0);
        }
        if (keep && kind)
            keep = capacity_of(d, kind) > 0;
        if (keep && open && strcmp(open, "true") == 0)
            keep = !dstr(d, "closed_on") || strcmp(dstr(d, "closed_on"), today) > 0;
        if (!keep)
            continue;
        json_t *o = shelter_json(c, p, &rows[i]);
        if (avail && strcmp(avail, "true") == 0) {
            json_int_t f =
                kind ? dint(json_object_get(o, "free"), kind, 0) : dint(o, "free_total", 0);
            if (f <= 0) {
                json_decref(o);
                continue;
            }
        }
        json_array_append_new(items, o);
    }
    care_rows_free(rows, nrows);
    *out = care_page(items, limit, offset);
    return AMP_OK;
}

/* Stays of one shelter (all statuses), as stored. */
static amp_code shelter_stays(core *c, const char *shelter_uid, const char *status,
                              store_record **rows, int *n, amp_err *err)
{
    store_record_query q = {.kind = KIND_STAY, .org2 = shelter_uid, .status = status};
    return care_scan(c, &q, rows, n, err);
}

typedef struct {
    int32_t from;
    int ndays;
    double *occ; /* places taken per day */
    double *by[NKINDS];
} series;

static int kind_index(const char *k)
{
    for (int i = 0; k && i < NKINDS; i++) {
        if (strcmp(place_kinds[i], k) == 0)
            return i;
    }
    return -1;
}

static void series_add(series *s, const json_t *doc, const char *today)
{
    int32_t a = care_days(dstr(doc, "admitted_on")), e = stay_end(doc, today);
    int ki = kind_index(dstr(doc, "place_kind"));
    double places = (double)dint(doc, "places", 1);
    if (a == INT32_MIN || e == INT32_MIN)
        return;
    for (int32_t d = a > s->from ? a : s->from; d < e && d < s->from + s->ndays; d++) {
        s->occ[d - s->from] += places;
        if (ki >= 0)
            s->by[ki][d - s->from] += places;
    }
}

static json_t *bucket_json(const series *s, int lo, int hi, const json_t *shelter_doc)
{
    char f[11], t[11];
    care_date(s->from + lo, f);
    care_date(s->from + hi - 1, t);
    double sum = 0, peak = 0;
    for (int d = lo; d < hi; d++) {
        sum += s->occ[d];
        if (s->occ[d] > peak)
            peak = s->occ[d];
    }
    int days = hi - lo;
    json_int_t cap = capacity_total(shelter_doc);
    json_t *b =
        json_pack("{s:s, s:s, s:i, s:f, s:f, s:f}", "from", f, "to", t, "days", days, "bed_nights",
                  sum, "average", round(sum / days * 100) / 100, "peak", peak);
    if (cap > 0)
        json_object_set_new(b, "rate", json_real(round(sum / ((double)days * cap) * 1000) / 1000));
    json_t *by = json_object();
    for (int k = 0; k < NKINDS; k++) {
        double ks = 0, kp = 0;
        for (int d = lo; d < hi; d++) {
            ks += s->by[k][d];
            if (s->by[k][d] > kp)
                kp = s->by[k][d];
        }
        if (ks > 0 || capacity_of(shelter_doc, place_kinds[k]) > 0)
            json_object_set_new(by, place_kinds[k],
                                json_pack("{s:f, s:f, s:f}", "bed_nights", ks, "average",
                                          round(ks / days * 100) / 100, "peak", kp));
    }
    json_object_set_new(b, "by_kind", by);
    return b;
}

/* The occupancy series of stays (rows) against the capacity in capdoc
 * ({"capacity": {...}}) over from/to/step of the parameters: *items, and the
 * bounds and step used. */
static amp_code occupancy_series(const principal *p, const list_param *params, size_t n,
                                 const store_record *rows, int nrows, const json_t *capdoc,
                                 const char *today, json_t **items_out, char f[11], char t[11],
                                 const char **step_out, amp_err *err)
{
    const char *from = care_param(params, n, "from"), *to = care_param(params, n, "to");
    snprintf(t, 11, "%s", to ? to : today);
    if (from)
        snprintf(f, 11, "%s", from);
    else
        care_add_months(t, -12, f);
    int32_t fd = care_days(f), td = care_days(t);
    const char *step = care_param(params, n, "step");
    if (td < fd || td - fd + 1 > MAX_SERIES_DAYS ||
        (step && strcmp(step, "day") && strcmp(step, "week") && strcmp(step, "month"))) {
        if (td < fd)
            care_field_error(err, p, "to", "date_order", "from");
        else if (td - fd + 1 > MAX_SERIES_DAYS)
            care_field_error(err, p, "to", "max", "10 years after from");
        else
            care_field_error(err, p, "step", "picklist", step);
        return amp_err_set(err, AMP_EBADREQ, "the period of the series is not valid");
    }
    series s = {.from = fd, .ndays = td - fd + 1};
    s.occ = calloc((size_t)s.ndays * (NKINDS + 1), sizeof(double));
    if (!s.occ)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    for (int k = 0; k < NKINDS; k++)
        s.by[k] = s.occ + (size_t)s.ndays * (size_t)(k + 1);
    for (int i = 0; i < nrows; i++) {
        if (strcmp(rows[i].status, "Admitted") == 0 || strcmp(rows[i].status, "Discharged") == 0)
            series_add(&s, rows[i].doc, today);
    }
    if (!step)
        step = s.ndays <= 62 ? "day" : "month";
    json_t *items = json_array();
    int lo = 0;
    while (lo < s.ndays) {
        int hi;
        if (strcmp(step, "day") == 0) {
            hi = lo + 1;
        } else if (strcmp(step, "week") == 0) {
            hi = lo + 7;
        } else {
            char cur[11], next[11];
            care_date(s.from + lo, cur);
            snprintf(next, sizeof next, "%.8s01", cur);
            care_add_months(next, 1, next);
            hi = (int)(care_days(next) - s.from);
        }
        if (hi > s.ndays)
            hi = s.ndays;
        json_array_append_new(items, bucket_json(&s, lo, hi, capdoc));
        lo = hi;
    }
    free(s.occ);
    *items_out = items;
    *step_out = step;
    return AMP_OK;
}

amp_code shelters_occupancy(core *c, const principal *p, const char *id, const list_param *params,
                            size_t n, json_t **out, amp_err *err)
{
    static const char *const known[] = {"from", "to", "step", NULL};
    static const char *const dates[] = {"from", "to", NULL};
    store_record sh;
    amp_code code = shelter_read(c, p, id, &sh, err);
    if (code != AMP_OK)
        return code;
    if ((code = care_params_check(p, params, n, known, dates, NULL, NULL, err)) != AMP_OK) {
        store_record_release(&sh);
        return code;
    }
    char today[11];
    clock_today(today);
    store_record *rows;
    int nrows;
    if ((code = shelter_stays(c, sh.uid, "Admitted,Discharged,Waiting", &rows, &nrows, err)) !=
        AMP_OK) {
        store_record_release(&sh);
        return code;
    }
    const char *from = care_param(params, n, "from"), *to = care_param(params, n, "to");
    if (!from && !to) { /* now */
        json_t *by = json_object();
        json_int_t occ[NKINDS] = {0}, waiting = 0, total = 0;
        for (int i = 0; i < nrows; i++) {
            if (strcmp(rows[i].status, "Waiting") == 0) {
                waiting++;
                continue;
            }
            int ki = kind_index(dstr(rows[i].doc, "place_kind"));
            if (strcmp(rows[i].status, "Admitted") == 0 && ki >= 0) {
                occ[ki] += dint(rows[i].doc, "places", 1);
                total += dint(rows[i].doc, "places", 1);
            }
        }
        for (int k = 0; k < NKINDS; k++) {
            json_int_t cap = capacity_of(sh.doc, place_kinds[k]);
            if (cap > 0 || occ[k] > 0)
                json_object_set_new(by, place_kinds[k],
                                    json_pack("{s:I, s:I, s:I}", "capacity", (json_int_t)cap,
                                              "occupied", (json_int_t)occ[k], "free",
                                              (json_int_t)(cap > occ[k] ? cap - occ[k] : 0)));
        }
        json_int_t cap = capacity_total(sh.doc);
        *out = json_pack("{s:s, s:s, s:o, s:I, s:I, s:I}", "shelter", sh.uid, "date", today,
                         "by_kind", by, "capacity", (json_int_t)cap, "occupied", (json_int_t)total,
                         "waiting", (json_int_t)waiting);
        if (cap > 0)
            json_object_set_new(*out, "rate", json_real(round((double)total / cap * 1000) / 1000));
        care_rows_free(rows, nrows);
        store_record_release(&sh);
        return AMP_OK;
    }
    char f[11], t[11];
    const char *step = NULL;
    json_t *items = NULL;
    code = occupancy_series(p, params, n, rows, nrows, sh.doc, today, &items, f, t, &step, err);
    if (code != AMP_OK) {
        care_rows_free(rows, nrows);
        store_record_release(&sh);
        return code;
    }
    *out = json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "shelter", sh.uid, "from", f, "to", t,
                     "step", step, "capacity", (json_int_t)capacity_total(sh.doc), "items", items);
    care_rows_free(rows, nrows);
    store_record_release(&sh);
    return AMP_OK;
}

amp_code shelters_occupancy_all(core *c, const principal *p, const list_param *params, size_t n,
                                json_t **out, amp_err *err)
{
    static const char *const known[] = {"from", "to", "step", "org", "country", "region", NULL};
    static const char *const dates[] = {"from", "to", NULL};
    amp_code code = authz_require(p, ACT_READ, RES_SHELTER, err);
    if (code != AMP_OK && !authz_allows(p, ACT_READ, RES_REPORT))
        return code;
    amp_err_clear(err);
    if ((code = care_params_check(p, params, n, known, dates, NULL, NULL, err)) != AMP_OK)
        return code;
    char today[11];
    clock_today(today);
    store_record_query sq = {.kind = KIND_SHELTER, .org = care_param(params, n, "org")};
    store_record *shel, *stays;
    int nshel, nstays;
    if ((code = care_scan(c, &sq, &shel, &nshel, err)) != AMP_OK)
        return code;
    store_record_query q = {
        .kind = KIND_STAY, .org = sq.org, .status = "Admitted,Discharged,Waiting"};
    if ((code = care_scan(c, &q, &stays, &nstays, err)) != AMP_OK) {
        care_rows_free(shel, nshel);
        return code;
    }
    /* the shelters counted: their summed capacity; their stays only */
    json_t *cap = json_object(), *ids = json_object();
    const char *country = care_param(params, n, "country"),
               *region = care_param(params, n, "region");
    json_int_t counted = 0;
    for (int i = 0; i < nshel; i++) {
        const json_t *d = shel[i].doc;
        if ((country && (!dstr(d, "country") || strcasecmp(dstr(d, "country"), country))) ||
            (region && (!dstr(d, "region") || strcasecmp(dstr(d, "region"), region))))
            continue;
        counted++;
        json_object_set_new(ids, shel[i].uid, json_true());
        for (int k = 0; k < NKINDS; k++)
            json_object_set_new(
                cap, place_kinds[k],
                json_integer(dint(cap, place_kinds[k], 0) + capacity_of(d, place_kinds[k])));
    }
    int kept = 0;
    for (int i = 0; i < nstays; i++) {
        if (json_object_get(ids, stays[i].org2)) {
            if (kept != i) {
                store_record tmp = stays[kept];
                stays[kept] = stays[i];
                stays[i] = tmp;
            }
            kept++;
        }
    }
    json_t *capdoc = json_pack("{s:o}", "capacity", cap);
    if (!care_param(params, n, "from") && !care_param(params, n, "to")) {
        json_int_t occ[NKINDS] = {0}, waiting = 0, total = 0;
        for (int i = 0; i < kept; i++) {
            int ki = kind_index(dstr(stays[i].doc, "place_kind"));
            if (strcmp(stays[i].status, "Waiting") == 0)
                waiting++;
            else if (strcmp(stays[i].status, "Admitted") == 0 && ki >= 0) {
                occ[ki] += dint(stays[i].doc, "places", 1);
                total += dint(stays[i].doc, "places", 1);
            }
        }
        json_t *by = json_object();
        for (int k = 0; k < NKINDS; k++) {
            json_int_t kc = capacity_of(capdoc, place_kinds[k]);
            if (kc > 0 || occ[k] > 0)
                json_object_set_new(by, place_kinds[k],
                                    json_pack("{s:I, s:I, s:I}", "capacity", kc, "occupied", occ[k],
                                              "free", kc > occ[k] ? kc - occ[k] : 0));
        }
        json_int_t ct = capacity_total(capdoc);
        *out = json_pack("{s:I, s:s, s:o, s:I, s:I, s:I}", "shelters", counted, "date", today,
                         "by_kind", by, "capacity", ct, "occupied", total, "waiting", waiting);
        if (ct > 0)
            json_object_set_new(*out, "rate", json_real(round((double)total / ct * 1000) / 1000));
    } else {
        char f[11], t[11];
        const char *step = NULL;
        json_t *items = NULL;
        code = occupancy_series(p, params, n, stays, kept, capdoc, today, &items, f, t, &step, err);
        if (code == AMP_OK)
            *out = json_pack("{s:I, s:s, s:s, s:s, s:I, s:o}", "shelters", counted, "from", f, "to",
                             t, "step", step, "capacity", capacity_total(capdoc), "items", items);
    }
    json_decref(capdoc);
    json_decref(ids);
    care_rows_free(shel, nshel);
    care_rows_free(stays, nstays);
    return code;
}

/* ==== figures ================================================================== */

typedef struct {
    const char *label;
    int lo, hi; /* days, [lo, hi) */
} los_bucket;

static const los_bucket los_buckets[] = {
    {"under 1 month", 0, 30}, {"1-3 months", 30, 91},    {"3-6 months", 91, 182},
    {"6-9 months", 182, 273}, {"9-12 months", 273, 365}, {"12 months or more", 365, 1 << 30},
};
#define NBUCKETS (sizeof los_buckets / sizeof *los_buckets)

amp_code shelters_stats(core *c, const principal *p, const list_param *params, size_t n,
                        json_t **out, amp_err *err)
{
    static const char *const known[] = {"period", "from", "to", "shelter", "org", "kind", NULL};
    static const char *const dates[] = {"from", "to", NULL};
    amp_code code = authz_require(p, ACT_READ, RES_SHELTER, err);
    if (code != AMP_OK)
        return code;
    if ((code = care_params_check(p, params, n, known, dates, NULL, NULL, err)) != AMP_OK)
        return code;
    char today[11];
    clock_today(today);
    care_period per;
    if ((code = care_period_from_params(p, params, n, today, &per, err)) != AMP_OK)
        return code;
    const char *want_shelter = care_param(params, n, "shelter"),
               *want_org = care_param(params, n, "org");
    const char *want_kind = care_param(params, n, "kind");
    if (want_kind && !care_picklist_has("place_kinds", want_kind)) {
        care_field_error(err, p, "kind", "picklist", want_kind);
        return amp_err_set(err, AMP_EBADREQ, "kind is not a kind of place");
    }
    store_record_query sq = {.kind = KIND_SHELTER, .org = want_org};
    store_record *shel, *stays;
    int nshel, nstays;
    if ((code = care_scan(c, &sq, &shel, &nshel, err)) != AMP_OK)
        return code;
    store_record_query q = {
        .kind = KIND_STAY, .org = want_org, .org2 = want_shelter, .status = "Admitted,Discharged"};
    if ((code = care_scan(c, &q, &stays, &nstays, err)) != AMP_OK) {
        care_rows_free(shel, nshel);
        return code;
    }
    int32_t pf = care_days(per.from), pt = care_days(per.to);
    double capacity_nights = 0;
    json_int_t shelters_counted = 0;
    json_t *by = json_object(); /* shelter id -> its own figures */
    for (int i = 0; i < nshel; i++) {
        if (want_shelter && strcmp(shel[i].uid, want_shelter) != 0)
            continue;
        const char *opened = dstr(shel[i].doc, "opened_on"),
                   *closed = dstr(shel[i].doc, "closed_on");
        int32_t lo = opened && care_days(opened) > pf ? care_days(opened) : pf;
        int32_t hi = closed && care_days(closed) < pt ? care_days(closed) : pt;
        int32_t last = care_days(today) < hi ? care_days(today) : hi;
        json_int_t cap =
            want_kind ? capacity_of(shel[i].doc, want_kind) : capacity_total(shel[i].doc);
        double own = last >= lo ? (double)(last - lo + 1) * (double)cap : 0;
        capacity_nights += own;
        shelters_counted++;
        json_object_set_new(
            by, shel[i].uid,
            json_pack("{s:s, s:s, s:f, s:f, s:i, s:i, s:f}", "shelter", shel[i].uid, "name",
                      dstr(shel[i].doc, "name") ? dstr(shel[i].doc, "name") : "", "capacity_nights",
                      own, "bed_nights", 0.0, "admissions", 0, "discharges", 0, "cost", 0.0));
    }
    double *los = calloc((size_t)nstays + 1, sizeof(double));
    json_int_t admissions = 0, discharged = 0, bucket_n[NBUCKETS] = {0};
    double bed_nights = 0, los_sum = 0, los_min = 0, los_max = 0;
    json_t *reasons = json_object(), *costs = json_object(), *kinds = json_object();
    for (int i = 0; los && i < nstays; i++) {
        const json_t *d = stays[i].doc;
        if (want_kind && (!dstr(d, "place_kind") || strcmp(dstr(d, "place_kind"), want_kind)))
            continue;
        const char *adm = dstr(d, "admitted_on"), *dis = dstr(d, "discharged_on");
        json_t *mine = json_object_get(by, stays[i].org2);
        double nights = shelters_stay_nights(d, per.from, per.to, today);
        if (mine)
            json_object_set_new(
                mine, "bed_nights",
                json_real(json_number_value(json_object_get(mine, "bed_nights")) + nights));
        if (adm && strcmp(adm, per.from) >= 0 && strcmp(adm, per.to) <= 0) {
            admissions++;
            if (mine)
                json_object_set_new(mine, "admissions",
                                    json_integer(dint(mine, "admissions", 0) + 1));
            const char *k = dstr(d, "place_kind");
            if (k)
                json_object_set_new(kinds, k, json_integer(dint(kinds, k, 0) + 1));
        }
        bed_nights += nights;
        if (!dis || strcmp(dis, per.from) < 0 || strcmp(dis, per.to) > 0)
            continue;
        if (mine) {
            json_object_set_new(mine, "discharges", json_integer(dint(mine, "discharges", 0) + 1));
            const json_t *sc = json_object_get(d, "cost");
            if (json_is_number(sc))
                json_object_set_new(mine, "cost",
                                    json_real(json_number_value(json_object_get(mine, "cost")) +
                                              json_number_value(sc)));
        }
        double days = (double)(care_days(dis) - care_days(adm));
        los[discharged] = days;
        los_sum += days;
        if (discharged == 0 || days < los_min)
            los_min = days;
        if (discharged == 0 || days > los_max)
            los_max = days;
        discharged++;
        for (size_t b = 0; b < NBUCKETS; b++) {
            if (days >= los_buckets[b].lo && days < los_buckets[b].hi)
                bucket_n[b]++;
        }
        const char *reason = dstr(d, "discharge_reason");
        if (reason)
            json_object_set_new(reasons, reason, json_integer(dint(reasons, reason, 0) + 1));
        const json_t *cost = json_object_get(d, "cost");
        const char *cur = dstr(d, "currency");
        if (json_is_number(cost) && cur) {
            json_t *cc = json_object_get(costs, cur);
            if (!cc) {
                cc = json_pack("{s:f, s:i}", "total", 0.0, "stays", 0);
                json_object_set_new(costs, cur, cc);
            }
            json_object_set_new(cc, "total",
                                json_real(json_number_value(json_object_get(cc, "total")) +
                                          json_number_value(cost)));
            json_object_set_new(cc, "stays", json_integer(dint(cc, "stays", 0) + 1));
        }
    }
    const char *cur;
    json_t *cc;
    json_object_foreach (costs, cur, cc) {
        double total = json_number_value(json_object_get(cc, "total"));
        json_object_set_new(cc, "total", json_real(round(total * 100) / 100));
        json_object_set_new(cc, "per_stay",
                            json_real(round(total / (double)dint(cc, "stays", 1) * 100) / 100));
    }
    json_t *dist = json_array();
    for (size_t b = 0; b < NBUCKETS; b++)
        json_array_append_new(dist, json_pack("{s:s, s:i, s:I}", "bucket", los_buckets[b].label,
                                              "from_days", los_buckets[b].lo, "stays",
                                              (json_int_t)bucket_n[b]));
    json_t *length = json_pack("{s:I, s:o}", "stays", (json_int_t)discharged, "distribution", dist);
    if (discharged > 0) {
        json_object_set_new(length, "mean_days", json_real(round(los_sum / discharged * 10) / 10));
        json_object_set_new(length, "median_days", json_real(care_median(los, (size_t)discharged)));
        json_object_set_new(length, "min_days", json_real(los_min));
        json_object_set_new(length, "max_days", json_real(los_max));
        json_object_set_new(length, "mean_months",
                            json_real(round(los_sum / discharged / 30.4375 * 10) / 10));
    }
    *out = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:I, s:o, s:o, s:f, s:o}", "period", per.label,
                     "from", per.from, "to", per.to, "shelters", (json_int_t)shelters_counted,
                     "admissions", (json_int_t)admissions, "admissions_by_kind", kinds,
                     "discharges", (json_int_t)discharged, "length_of_stay", length,
                     "discharge_reasons", reasons, "bed_nights", bed_nights, "cost", costs);
    if (capacity_nights > 0)
        json_object_set_new(*out, "occupancy_rate",
                            json_real(round(bed_nights / capacity_nights * 1000) / 1000));
    /* each shelter's own figures, for comparing them (costs in its currency) */
    json_t *list = json_array();
    const char *sid;
    json_t *mine;
    json_object_foreach (by, sid, mine) {
        double cn = json_number_value(json_object_get(mine, "capacity_nights"));
        double bn = json_number_value(json_object_get(mine, "bed_nights"));
        if (cn > 0)
            json_object_set_new(mine, "occupancy_rate", json_real(round(bn / cn * 1000) / 1000));
        json_int_t dn = dint(mine, "discharges", 0);
        double cost = json_number_value(json_object_get(mine, "cost"));
        json_object_set_new(mine, "cost", json_real(round(cost * 100) / 100));
        if (dn > 0)
            json_object_set_new(mine, "cost_per_stay", json_real(round(cost / dn * 100) / 100));
        json_array_append(list, mine);
    }
    json_object_set_new(*out, "by_shelter", list);
    json_decref(by);
    free(los);
    care_rows_free(shel, nshel);
    care_rows_free(stays, nstays);
    return AMP_OK;
}

/* ==== stays: admission and transitions =========================================== */

/* The places of `kind` free in the shelter inside the job: *free_out; the load
 * record in *load (release it). */
static int tx_free_places(store_tx *tx, const store_record *sh, const char *kind,
                          store_record *load, json_int_t *free_out)
{
    const char *ref = dstr(sh->doc, "load_ref");
    int rc = store_tx_record_get(tx, KIND_LOAD, ref ? ref : "", load);
    if (rc != STORE_OK)
        return rc;
    json_int_t used = dint(json_object_get(load->doc, "occupied"), kind, 0);
    *free_out = capacity_of(sh->doc, kind) - used;
    return STORE_OK;
}

static int tx_add_load(store_tx *tx, store_record *load, const char *kind, json_int_t delta,
                       care_op *op)
{
    json_t *occ = json_object_get(load->doc, "occupied");
    if (!json_is_object(occ)) {
        occ = json_object();
        json_object_set_new(load->doc, "occupied", occ);
    }
    json_int_t v = dint(occ, kind, 0) + delta;
    json_object_set_new(occ, kind, json_integer(v < 0 ? 0 : v));
    care_record_touch(op, load);
    return store_tx_record_put(tx, load, load->version);
}

static void over_capacity(care_op *op, const char *kind)
{
    const json_t *entry = care_picklist_value("place_kinds", kind);
    const char *label = json_string_value(
        json_object_get(json_object_get(entry, "label"), op->p.lang[0] ? op->p.lang : "en"));
    char msg[300];
    care_field_error(&op->err, &op->p, "place_kind", "over_capacity", label ? label : kind);
    care_message(&op->p, "over_capacity", label ? label : kind, msg, sizeof msg);
    amp_err_set(&op->err, AMP_ESTATE, "%s", msg);
}

/* One open stay per person, decided inside the write job: a marker record
 * (kind "stay_open") whose id is the case's id with the UUID version digit set
 * to 0 (no generated id has it) holds the open stay and its shelter. */
static void open_marker_uid(const char *case_uid, char out[40])
{
    snprintf(out, 40, "%s", case_uid);
    if (strlen(out) == 36)
        out[14] = '0';
}

/* STORE_OK when the person has no open stay; else the job's failure. */
static int tx_check_not_open(store_tx *tx, care_op *op, const char *case_uid)
{
    char uid[40];
    store_record m;
    open_marker_uid(case_uid, uid);
    int rc = store_tx_record_get(tx, KIND_OPEN, uid, &m);
    if (rc == STORE_NOTFOUND)
        return STORE_OK;
    if (rc != STORE_OK)
        return care_op_store_fail(op, rc, "stay");
    char msg[300];
    const char *where = dstr(m.doc, "shelter");
    care_field_error(&op->err, &op->p, "case", "duplicate", where ? where : "?");
    care_message(&op->p, "already_admitted", where ? where : "?", msg, sizeof msg);
    amp_err_set(&op->err, AMP_ESTATE, "%s", msg);
    store_record_release(&m);
    return care_op_fail(op, AMP_ESTATE);
}

static int tx_mark_open(store_tx *tx, care_op *op, const store_record *stay)
{
    store_record m;
    care_record_init(op, &m, KIND_OPEN);
    open_marker_uid(stay->case_uid, m.uid);
    snprintf(m.case_uid, sizeof m.case_uid, "%s", stay->case_uid);
    snprintf(m.org, sizeof m.org, "%s", stay->org);
    m.doc = json_pack("{s:s, s:s}", "stay", stay->uid, "shelter", stay->org2);
    int rc = store_tx_record_put(tx, &m, 0);
    store_record_release(&m);
    return rc;
}

static int tx_unmark_open(store_tx *tx, const char *case_uid)
{
    char uid[40];
    open_marker_uid(case_uid, uid);
    int rc = store_tx_record_delete(tx, KIND_OPEN, uid);
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

static int job_admit(store_tx *tx, care_op *op)
{
    store_record sh, load = {0}, r;
    int rc = store_tx_record_get(tx, KIND_SHELTER, op->uid, &sh);
    if (rc != STORE_OK)
        return care_op_store_fail(op, rc, "shelter");
    const char *kind = dstr(op->body, "place_kind");
    json_int_t places = dint(op->body, "places", 1), free_places = 0;
    int out = STORE_OK;
    if ((rc = tx_free_places(tx, &sh, kind, &load, &free_places)) != STORE_OK) {
        out = care_op_store_fail(op, rc, "shelter");
        goto done;
    }
    bool waiting = false;
    if (free_places < places) {
        if (!json_is_true(json_object_get(op->body, "waiting_list"))) {
            over_capacity(op, kind);
            out = care_op_fail(op, AMP_ESTATE);
            goto done;
        }
        waiting = true;
    }
    if (!waiting && (out = tx_check_not_open(tx, op, op->case_uid)) != STORE_OK)
        goto done;
    care_record_init(op, &r, KIND_STAY);
    snprintf(r.org, sizeof r.org, "%s", sh.org);
    json_object_del(op->body, "waiting_list");
    json_object_set_new(op->body, "case", json_string(op->case_uid));
    json_object_set_new(op->body, "shelter", json_string(sh.uid));
    json_object_set_new(op->body, "places", json_integer(places));
    if (waiting) {
        json_object_set_new(op->body, "status", json_string("Waiting"));
        json_object_set_new(op->body, "requested_on", json_string(op->today));
        json_object_del(op->body, "admitted_on");
    } else {
        json_object_set_new(op->body, "status", json_string("Admitted"));
        if (!dstr(op->body, "admitted_on"))
            json_object_set_new(op->body, "admitted_on", json_string(op->today));
    }
    r.doc = json_incref(op->body);
    stay_columns(&r);
    rc = care_tx_put(tx, op->c, &r, care_stay_fields, 0, &op->err);
    if (rc == STORE_OK && !waiting)
        rc = tx_add_load(tx, &load, kind, places, op);
    if (rc == STORE_OK && !waiting)
        rc = tx_mark_open(tx, op, &r);
    if (rc == STORE_OK) {
        json_t *detail = json_pack("{s:s, s:s, s:s}", "shelter", sh.uid, "place_kind", kind,
                                   "status", waiting ? "Waiting" : "Admitted");
        rc = audit_tx(tx, &op->p, waiting ? "stay.waitlist" : "stay.admit", "stay", r.uid, detail);
        json_decref(detail);
    }
    if (rc != STORE_OK) {
        store_record_release(&r);
        out = care_op_store_fail(op, rc, "stay");
        goto done;
    }
    op->result = stay_json(&op->p, &r, op->today);
    store_record_release(&r);
done:
    store_record_release(&load);
    store_record_release(&sh);
    return out;
}

amp_code stays_admit(core *c, const principal *p, const char *shelter_id, const json_t *body,
                     core_done_fn done, void *arg, amp_err *err)
{
    amp_code code = authz_require(p, ACT_CREATE, RES_SHELTER, err);
    if (code != AMP_OK)
        return code;
    store_record sh;
    if ((code = care_get(c, KIND_SHELTER, "shelter", shelter_id, &sh, err)) != AMP_OK)
        return code;
    if ((code = care_require_org(p, sh.org, "shelter", err)) != AMP_OK) {
        store_record_release(&sh);
        return code;
    }
    if (!json_is_object(body)) {
        store_record_release(&sh);
        care_field_error(err, p, "", "object", NULL);
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    }
    care_op *op = care_op_new(c, p, job_admit, done, arg);
    if (!op) {
        store_record_release(&sh);
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    }
    snprintf(op->uid, sizeof op->uid, "%s", sh.uid);
    op->body = care_filter(NULL, body, false);
    care_validate(c, p, care_stay_fields, op->body, false, NULL, NULL, op->today, err);
    const char *kind = dstr(op->body, "place_kind"), *adm = dstr(op->body, "admitted_on");
    const char *planned = dstr(op->body, "planned_discharge");
    if (adm && planned && strcmp(planned, adm) < 0)
        care_field_error(err, p, "planned_discharge", "date_order", "admitted_on");
    if (kind && care_picklist_has("place_kinds", kind) && capacity_of(sh.doc, kind) <= 0) {
        const json_t *entry = care_picklist_value("place_kinds", kind);
        const char *label =
            json_string_value(json_object_get(json_object_get(entry, "label"), p->lang));
        care_field_error(err, p, "place_kind", "no_places", label ? label : kind);
    }
    const char *closed = dstr(sh.doc, "closed_on");
    if (closed && strcmp(closed, op->today) <= 0)
        care_field_error(err, p, "shelter", "closed", dstr(sh.doc, "name"));
    store_record_release(&sh);
    if (json_array_size(err->fields)) {
        care_op_free(op);
        return care_invalid(err, p);
    }
    /* the person's case: the shelter's organisation needs access to it */
    if ((code = care_case_access(c, p, dstr(op->body, "case"), ACT_READ, &op->case_row, err)) !=
        AMP_OK) {
        care_op_free(op);
        return code;
    }
    snprintf(op->case_uid, sizeof op->case_uid, "%s", op->case_row.uid);
    if (care_case_erased(op->case_row.doc)) {
        care_op_free(op);
        char msg[300];
        care_message(p, "erased", NULL, msg, sizeof msg);
        return amp_err_set(err, AMP_ESTATE, "%s", msg);
    }
    return care_op_submit(op, err);
}

typedef enum { T_DISCHARGE, T_ADMIT_WAITING, T_CANCEL } transition;

static int job_transition(store_tx *tx, care_op *op)
{
    transition t = (transition)json_integer_value(json_object_get(op->extra, "t"));
    store_record r, sh = {0}, load = {0};
    int rc = store_tx_record_get(tx, KIND_STAY, op->uid, &r);
    if (rc != STORE_OK)
        return care_op_store_fail(op, rc, "stay");
    if (care_tx_open(tx, op->c, &r, &op->err) != AMP_OK) {
        store_record_release(&r);
        return care_op_fail(op, AMP_EINTERNAL);
    }
    int out = STORE_OK;
    if (care_require_org(&op->p, r.org, "stay", &op->err) != AMP_OK) {
        out = care_op_fail(op, AMP_EFORBIDDEN);
        goto done;
    }
    const char *need = t == T_DISCHARGE ? "Admitted" : "Waiting";
    if (strcmp(r.status, need) != 0) {
        char msg[300];
        if (t == T_DISCHARGE && strcmp(r.status, "Discharged") == 0)
            care_message(&op->p, "already_discharged",
                         dstr(r.doc, "discharged_on") ? dstr(r.doc, "discharged_on") : "?", msg,
                         sizeof msg);
        else
            care_message(&op->p, t == T_DISCHARGE ? "not_admitted" : "not_waiting", r.status, msg,
                         sizeof msg);
        amp_err_set(&op->err, AMP_ESTATE, "%s", msg);
        out = care_op_fail(op, AMP_ESTATE);
        goto done;
    }
    const char *kind = dstr(r.doc, "place_kind");
    json_int_t places = dint(r.doc, "places", 1);
    if ((rc = store_tx_record_get(tx, KIND_SHELTER, r.org2, &sh)) != STORE_OK) {
        out = care_op_store_fail(op, rc, "shelter");
        goto done;
    }
    json_int_t free_places = 0;
    if (t != T_CANCEL && (rc = tx_free_places(tx, &sh, kind, &load, &free_places)) != STORE_OK) {
        out = care_op_store_fail(op, rc, "shelter");
        goto done;
    }
    json_t *doc = json_deep_copy(r.doc);
    const char *action;
    if (t == T_DISCHARGE) {
        const char *dis =
            dstr(op->body, "discharged_on") ? dstr(op->body, "discharged_on") : op->today;
        const char *adm = dstr(r.doc, "admitted_on");
        if (adm && strcmp(dis, adm) < 0) {
            care_field_error(&op->err, &op->p, "discharged_on", "date_order", adm);
            care_invalid(&op->err, &op->p);
            json_decref(doc);
            out = care_op_fail(op, AMP_EINVALID);
            goto done;
        }
        int nights = (int)(care_days(dis) - care_days(adm));
        json_object_set_new(doc, "status", json_string("Discharged"));
        json_object_set_new(doc, "discharged_on", json_string(dis));
        json_object_set(doc, "discharge_reason", json_object_get(op->body, "discharge_reason"));
        if (json_object_get(op->body, "notes"))
            json_object_set(doc, "notes", json_object_get(op->body, "notes"));
        json_object_set_new(doc, "nights", json_integer(nights));
        const json_t *cpn = json_object_get(json_object_get(sh.doc, "cost_per_night"), kind);
        if (json_is_number(cpn) && dstr(sh.doc, "currency")) {
            double cost = json_number_value(cpn) * nights * (double)places;
            json_object_set_new(doc, "cost", json_real(round(cost * 100) / 100));
            json_object_set_new(doc, "currency", json_string(dstr(sh.doc, "currency")));
        }
        rc = tx_add_load(tx, &load, kind, -places, op);
        if (rc == STORE_OK)
            rc = tx_unmark_open(tx, r.case_uid);
        action = "stay.discharge";
    } else if (t == T_ADMIT_WAITING) {
        if (free_places < places) {
            over_capacity(op, kind);
            json_decref(doc);
            out = care_op_fail(op, AMP_ESTATE);
            goto done;
        }
        const char *adm = dstr(op->body, "admitted_on") ? dstr(op->body, "admitted_on") : op->today;
        json_object_set_new(doc, "status", json_string("Admitted"));
        json_object_set_new(doc, "admitted_on", json_string(adm));
        if (json_object_get(op->body, "planned_discharge"))
            json_object_set(doc, "planned_discharge",
                            json_object_get(op->body, "planned_discharge"));
        const char *planned = dstr(doc, "planned_discharge");
        if (planned && strcmp(planned, adm) < 0) {
            care_field_error(&op->err, &op->p, "planned_discharge", "date_order", "admitted_on");
            care_invalid(&op->err, &op->p);
            json_decref(doc);
            out = care_op_fail(op, AMP_EINVALID);
            goto done;
        }
        if ((out = tx_check_not_open(tx, op, r.case_uid)) != STORE_OK) {
            json_decref(doc);
            goto done;
        }
        rc = tx_add_load(tx, &load, kind, places, op);
        if (rc == STORE_OK)
            rc = tx_mark_open(tx, op, &r);
        action = "stay.admit";
    } else {
        json_object_set_new(doc, "status", json_string("Cancelled"));
        if (json_object_get(op->body, "reason"))
            json_object_set(doc, "cancel_reason", json_object_get(op->body, "reason"));
        action = "stay.cancel";
    }
    int64_t expected = r.version;
    json_decref(r.doc);
    r.doc = doc;
    stay_columns(&r);
    care_record_touch(op, &r);
    if (rc == STORE_OK)
        rc = care_tx_put(tx, op->c, &r, care_stay_fields, expected, &op->err);
    if (rc == STORE_OK) {
        json_t *detail = json_pack("{s:s, s:s}", "shelter", sh.uid, "status", r.status);
        rc = audit_tx(tx, &op->p, action, "stay", r.uid, detail);
        json_decref(detail);
    }
    if (rc != STORE_OK) {
        out = care_op_store_fail(op, rc, "stay");
        goto done;
    }
    op->result = stay_json(&op->p, &r, op->today);
done:
    store_record_release(&r);
    store_record_release(&sh);
    store_record_release(&load);
    return out;
}

static amp_code submit_transition(core *c, const principal *p, const char *stay_id,
                                  const json_t *body, transition t, const care_field *fields,
                                  core_done_fn done, void *arg, amp_err *err)
{
    amp_code code = authz_require(p, ACT_UPDATE, RES_SHELTER, err);
    if (code != AMP_OK)
        return code;
    store_record r;
    if ((code = care_get(c, KIND_STAY, "stay", stay_id, &r, err)) != AMP_OK)
        return code;
    code = care_require_org(p, r.org, "stay", err);
    store_record_release(&r);
    if (code != AMP_OK)
        return code;
    if (body && !json_is_object(body)) {
        care_field_error(err, p, "", "object", NULL);
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    }
    care_op *op = care_op_new(c, p, job_transition, done, arg);
    if (!op)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    snprintf(op->uid, sizeof op->uid, "%s", stay_id);
    op->body = body ? care_filter(NULL, body, false) : json_object();
    op->extra = json_pack("{s:i}", "t", (int)t);
    care_validate(c, p, fields, op->body, false, NULL, NULL, op->today, err);
    if (json_array_size(err->fields)) {
        care_op_free(op);
        return care_invalid(err, p);
    }
    return care_op_submit(op, err);
}

amp_code stays_discharge(core *c, const principal *p, const char *stay_id, const json_t *body,
                         core_done_fn done, void *arg, amp_err *err)
{
    return submit_transition(c, p, stay_id, body, T_DISCHARGE, discharge_fields, done, arg, err);
}

amp_code stays_admit_waiting(core *c, const principal *p, const char *stay_id, const json_t *body,
                             core_done_fn done, void *arg, amp_err *err)
{
    return submit_transition(c, p, stay_id, body, T_ADMIT_WAITING, admit_waiting_fields, done, arg,
                             err);
}

amp_code stays_cancel(core *c, const principal *p, const char *stay_id, const json_t *body,
                      core_done_fn done, void *arg, amp_err *err)
{
    return submit_transition(c, p, stay_id, body, T_CANCEL, cancel_fields, done, arg, err);
}

static int job_stay_update(store_tx *tx, care_op *op)
{
    store_record r;
    int rc = store_tx_record_get(tx, KIND_STAY, op->uid, &r);
    if (rc != STORE_OK)
        return care_op_store_fail(op, rc, "stay");
    if (care_tx_open(tx, op->c, &r, &op->err) != AMP_OK) {
        store_record_release(&r);
        return care_op_fail(op, AMP_EINTERNAL);
    }
    int out = care_op_check_version(op, r.version, "stay");
    if (out != STORE_OK)
        goto done;
    json_t *merged = care_merge(r.doc, op->body);
    const char *adm = dstr(merged, "admitted_on"), *planned = dstr(merged, "planned_discharge");
    if (adm && planned && strcmp(planned, adm) < 0) {
        care_field_error(&op->err, &op->p, "planned_discharge", "date_order", "admitted_on");
        care_invalid(&op->err, &op->p);
        json_decref(merged);
        out = care_op_fail(op, AMP_EINVALID);
        goto done;
    }
    int64_t expected = r.version;
    json_decref(r.doc);
    r.doc = merged;
    stay_columns(&r);
    care_record_touch(op, &r);
    rc = care_tx_put(tx, op->c, &r, care_stay_fields, expected, &op->err);
    if (rc == STORE_OK) {
        json_t *fields = json_array();
        const char *key;
        json_t *v;
        json_object_foreach (op->body, key, v)
            json_array_append_new(fields, json_string(key));
        json_t *detail = json_pack("{s:o}", "fields", fields);
        rc = audit_tx(tx, &op->p, "stay.update", "stay", r.uid, detail);
        json_decref(detail);
    }
    if (rc != STORE_OK) {
        out = care_op_store_fail(op, rc, "stay");
        goto done;
    }
    op->result = stay_json(&op->p, &r, op->today);
done:
    store_record_release(&r);
    return out;
}

amp_code stays_update(core *c, const principal *p, const char *stay_id, const json_t *patch,
                      int64_t if_match, core_done_fn done, void *arg, amp_err *err)
{
    amp_code code = authz_require(p, ACT_UPDATE, RES_SHELTER, err);
    if (code != AMP_OK)
        return code;
    store_record r;
    if ((code = care_get(c, KIND_STAY, "stay", stay_id, &r, err)) != AMP_OK)
        return code;
    code = care_require_org(p, r.org, "stay", err);
    store_record_release(&r);
    if (code != AMP_OK)
        return code;
    if (!json_is_object(patch)) {
        care_field_error(err, p, "", "object", NULL);
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    }
    care_op *op = care_op_new(c, p, job_stay_update, done, arg);
    if (!op)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    snprintf(op->uid, sizeof op->uid, "%s", stay_id);
    op->body = json_deep_copy(patch);
    op->if_match = if_match;
    if ((code = care_op_take_version(op, err)) != AMP_OK) {
        care_op_free(op);
        return code;
    }
    care_validate(c, p, stay_patch_fields, op->body, true, NULL, NULL, op->today, err);
    if (json_array_size(err->fields)) {
        care_op_free(op);
        return care_invalid(err, p);
    }
    return care_op_submit(op, err);
}

/* ==== stays: reads =============================================================== */

/* May p see this stay?  The shelter's organisation sees all of its stays;
 * others see the stays of cases in their scope. */
static bool stay_visible(core *c, const principal *p, const store_record *r)
{
    if (p->internal || (p->org[0] && strcmp(p->org, r->org) == 0))
        return true;
    return care_case_visible(c, p, r->case_uid);
}

amp_code stays_get(core *c, const principal *p, const char *stay_id, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_SHELTER, err);
    if (code != AMP_OK)
        return code;
    store_record r;
    if ((code = care_get(c, KIND_STAY, "stay", stay_id, &r, err)) != AMP_OK)
        return code;
    if (!stay_visible(c, p, &r)) {
        store_record_release(&r);
        return amp_err_set(err, AMP_ENOTFOUND, "no stay '%s'", stay_id);
    }
    char today[11];
    clock_today(today);
    care_open_rows(c, p, &r, 1);
    *out = stay_json(p, &r, today);
    store_record_release(&r);
    return AMP_OK;
}

static amp_code list_stays(core *c, const principal *p, const store_record_query *q,
                           const char *kind, int limit, int offset, json_t **out, amp_err *err)
{
    store_record *rows;
    int n;
    amp_code code = care_scan(c, q, &rows, &n, err);
    if (code != AMP_OK)
        return code;
    char today[11];
    clock_today(today);
    json_t *items = json_array();
    for (int i = 0; i < n; i++) {
        if (kind &&
            (!dstr(rows[i].doc, "place_kind") || strcmp(dstr(rows[i].doc, "place_kind"), kind)))
            continue;
        if (stay_visible(c, p, &rows[i])) {
            care_open_rows(c, p, &rows[i], 1);
            json_array_append_new(items, stay_json(p, &rows[i], today));
        }
    }
    care_rows_free(rows, n);
    *out = care_page(items, limit, offset);
    return AMP_OK;
}

amp_code stays_list(core *c, const principal *p, const char *shelter_id, const list_param *params,
                    size_t n, json_t **out, amp_err *err)
{
    static const char *const known[] = {"status", "case", "kind", "planned_before", NULL};
    static const char *const dates[] = {"planned_before", NULL};
    store_record sh;
    amp_code code = shelter_read(c, p, shelter_id, &sh, err);
    if (code != AMP_OK)
        return code;
    int limit, offset;
    if ((code = care_params_check(p, params, n, known, dates, &limit, &offset, err)) != AMP_OK) {
        store_record_release(&sh);
        return code;
    }
    const char *status = care_param(params, n, "status");
    if (status) {
        char copy[128], *save = NULL;
        snprintf(copy, sizeof copy, "%s", status);
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (!care_picklist_has("stay_statuses", tok))
                care_field_error(err, p, "status", "picklist", tok);
        }
    }
    const char *kind = care_param(params, n, "kind");
    if (kind && !care_picklist_has("place_kinds", kind))
        care_field_error(err, p, "kind", "picklist", kind);
    if (json_array_size(err->fields)) {
        store_record_release(&sh);
        return amp_err_set(err, AMP_EBADREQ, "the list parameters are not valid");
    }
    const char *before = care_param(params, n, "planned_before");
    store_record_query q = {.kind = KIND_STAY,
                            .org2 = sh.uid,
                            .status = status,
                            .case_uid = care_param(params, n, "case"),
                            .due_before = before,
                            .by_due = before != NULL};
    code = list_stays(c, p, &q, kind, limit, offset, out, err);
    store_record_release(&sh);
    return code;
}

amp_code stays_waiting_list(core *c, const principal *p, const char *shelter_id, json_t **out,
                            amp_err *err)
{
    store_record sh;
    amp_code code = shelter_read(c, p, shelter_id, &sh, err);
    if (code != AMP_OK)
        return code;
    store_record_query q = {.kind = KIND_STAY, .org2 = sh.uid, .status = "Waiting"};
    code = list_stays(c, p, &q, NULL, CASES_MAX_LIMIT, 0, out, err);
    store_record_release(&sh);
    if (code != AMP_OK)
        return code;
    size_t i;
    json_t *it;
    json_array_foreach (json_object_get(*out, "items"), i, it)
        json_object_set_new(it, "position", json_integer((json_int_t)i + 1));
    return AMP_OK;
}

amp_code stays_of_case(core *c, const principal *p, const char *case_key, json_t **out,
                       amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_SHELTER, err);
    if (code != AMP_OK)
        return code;
    store_row row;
    if ((code = cases_access(c, p, case_key, ACT_READ, &row, err)) != AMP_OK)
        return code;
    store_record_query q = {.kind = KIND_STAY, .case_uid = row.uid};
    code = list_stays(c, p, &q, NULL, CASES_MAX_LIMIT, 0, out, err);
    if (code == AMP_OK &&
        (code = care_audit_read(c, p, "stay.list", row.uid,
                                (int)json_array_size(json_object_get(*out, "items")), err)) !=
            AMP_OK) {
        json_decref(*out);
        *out = NULL;
    }
    store_row_release(&row);
    return code;
}
