/* hotline.c — hotline contacts, repeat contacts, cases opened from them, figures
 * (see hotline.h). */
#include "core/hotline.h"

#include "core/audit.h"
#include "core/refcommon.h"
#include "util/clock.h"
#include "util/log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIND "hotline_contact"

static const rc_field fields[] = {
    {"channel", RF_CODE, "hotline_channels", true, false, 0, 0},
    {"caller_type", RF_CODE, "caller_types", true, false, 0, 0},
    {"received_at", RF_TIMESTAMP, NULL, false, false, 0, 0},
    {"place", RF_TEXT, NULL, false, false, 0, 200},
    {"place_country", RF_COUNTRY, NULL, false, false, 0, 0},
    {"language", RF_LANGUAGE, NULL, false, false, 0, 0},
    {"summary", RF_LONGTEXT, NULL, false, true, 0, 10000},
    {"caller_contact", RF_TEXT, NULL, false, true, 0, 200},
    {"indicators", RF_CODES, "indicators", false, false, 0, 50},
    {"urgency", RF_CODE, "hotline_urgency", true, false, 0, 0},
    {"outcome", RF_CODE, "hotline_outcomes", false, false, 0, 0},
    {"referred_to", RF_ORG, NULL, false, false, 0, 0},
    {"referred_at", RF_TIMESTAMP, NULL, false, false, 0, 0},
    {NULL, 0, NULL, false, false, 0, 0},
};

static const rc_field repeat_fields[] = {
    {"channel", RF_CODE, "hotline_channels", true, false, 0, 0},
    {"received_at", RF_TIMESTAMP, NULL, false, false, 0, 0},
    {"summary", RF_LONGTEXT, NULL, false, true, 0, 10000},
    {"indicators", RF_CODES, "indicators", false, false, 0, 50},
    {"urgency", RF_CODE, "hotline_urgency", false, false, 0, 0},
    {"outcome", RF_CODE, "hotline_outcomes", false, false, 0, 0},
    {NULL, 0, NULL, false, false, 0, 0},
};

static const char *const server_keys[] = {
    "case",         "case_reference",  "case_opened_at", "repeats",
    "repeat_count", "last_contact_at", "version",        NULL};

static const char *sv(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bool sees_text(const principal *p, const store_record *r)
{
    return p->internal || (authz_sees_identity(p) && p->org[0] && strcmp(p->org, r->org) == 0);
}

static json_t *view(const principal *p, const store_record *r)
{
    json_t *o = rc_record_json(r);
    json_object_set_new(o, "org", json_string(r->org));
    if (!sees_text(p, r)) {
        rc_strip_identity(fields, o);
        size_t i;
        json_t *x;
        json_array_foreach (json_object_get(o, "repeats"), i, x)
            json_object_del(x, "summary");
    }
    const char *ra = sv(r->doc, "received_at"), *fa = sv(r->doc, "referred_at");
    int64_t a, b;
    if (ra && fa && clock_parse(ra, &a) == 0 && clock_parse(fa, &b) == 0 && b >= a)
        json_object_set_new(o, "hours_to_referral", json_real(round((b - a) / 36.0) / 100.0));
    return o;
}

static bool may_read(const principal *p, const store_record *r)
{
    return rc_is_org(p, r->org) || (p->roles & ROLE_COORDINATOR);
}

static void fill_columns(store_record *r)
{
    const char *o = sv(r->doc, "outcome"), *ra = sv(r->doc, "received_at");
    snprintf(r->status, sizeof r->status, "%s", o ? o : "");
    snprintf(r->due, sizeof r->due, "%s", ra ? ra : r->created_at);
}

/* Keeps referred_at in step with referred_to / a referral outcome. */
static void referral_time(json_t *doc, const json_t *before, const char *now)
{
    const char *o = sv(doc, "outcome");
    bool referred = json_object_get(doc, "referred_to") ||
                    (o && (!strcmp(o, "ReferredToPolice") || !strcmp(o, "ReferredToNGO")));
    if (referred && !json_object_get(doc, "referred_at")) {
        const json_t *prev = before ? json_object_get(before, "referred_at") : NULL;
        json_object_set_new(doc, "referred_at",
                            prev ? json_incref((json_t *)prev) : json_string(now));
    }
}

/* ---- reads ---- */

amp_code hotline_get(core *c, const principal *p, const char *id, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_HOTLINE, err);
    if (code != AMP_OK)
        return code;
    store_record r;
    int rc = id && strlen(id) < sizeof r.uid ? store_record_get(core_store(c), KIND, id, &r)
                                             : STORE_NOTFOUND;
    if (rc == STORE_OK && !may_read(p, &r)) {
        store_record_release(&r);
        rc = STORE_NOTFOUND;
    }
    if (rc != STORE_OK)
        return rc_fail(err, p, rc == STORE_NOTFOUND ? AMP_ENOTFOUND : AMP_EINTERNAL,
                       rc == STORE_NOTFOUND ? "nf.contact" : "storage", id);
    *out = view(p, &r);
    if (sees_text(p, &r)) { /* a read of identity-level text is on the audit trail */
        amp_err aerr = {0};
        if (audit_read(c, p, "hotline.read", "hotline_contact", r.uid, NULL, &aerr) != AMP_OK) {
            json_decref(*out);
            *out = NULL;
            store_record_release(&r);
            amp_err_clear(err);
            *err = aerr;
            return err->code;
        }
    }
    store_record_release(&r);
    return AMP_OK;
}

static bool date_param_bad(const char *v)
{
    int64_t t;
    return v && (strlen(v) != 10 || clock_parse(v, &t) != 0);
}

amp_code hotline_list(core *c, const principal *p, const list_param *params, size_t n, json_t **out,
                      amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_HOTLINE, err);
    if (code != AMP_OK)
        return code;
    static const char *const known[] = {"channel", "caller_type", "outcome", "urgency",
                                        "from",    "to",          "case",    "org",
                                        "limit",   "offset",      NULL};
    const char *bad = rc_unknown_param(params, n, known);
    if (bad)
        return rc_unknown_param_error(p, bad, err);
    int limit, offset;
    if ((code = rc_paging(p, rc_param(params, n, "limit"), rc_param(params, n, "offset"), &limit,
                          &offset, err)) != AMP_OK)
        return code;
    static const struct {
        const char *param, *list;
    } coded[] = {{"channel", "hotline_channels"},
                 {"caller_type", "caller_types"},
                 {"outcome", "hotline_outcomes"},
                 {"urgency", "hotline_urgency"}};
    for (size_t i = 0; i < 4; i++) {
        const char *v = rc_param(params, n, coded[i].param);
        if (v && !rc_picklist_has(c, coded[i].list, v)) {
            char msg[160];
            snprintf(msg, sizeof msg, "%s: not one of the values of %s", coded[i].param,
                     coded[i].list);
            amp_err_field(err, coded[i].param, "list.value", msg);
        }
    }
    const char *from = rc_param(params, n, "from"), *to = rc_param(params, n, "to");
    if (date_param_bad(from))
        amp_err_field(err, "from", "date", "from must be a date YYYY-MM-DD");
    if (date_param_bad(to))
        amp_err_field(err, "to", "date", "to must be a date YYYY-MM-DD");
    if (json_array_size(err->fields))
        return rc_fail(err, p, AMP_EINVALID, "invalid", NULL);
    if (!p->internal && !p->org[0] && !(p->roles & ROLE_COORDINATOR))
        return rc_fail(err, p, AMP_EFORBIDDEN, "no_org", NULL);
    const char *org = rc_param(params, n, "org");
    store_record_query q = {.kind = KIND, .descending = true, .by_due = true};
    q.org = (p->internal || (p->roles & ROLE_COORDINATOR)) ? org : p->org;
    q.status = rc_param(params, n, "outcome");
    char to_end[16];
    if (from)
        q.due_from = from;
    if (to) {
        snprintf(to_end, sizeof to_end, "%s~", to); /* the whole day */
        q.due_to = to_end;
    }
    char case_uid[40] = "";
    const char *ck = rc_param(params, n, "case");
    if (ck) {
        store_row row;
        if (store_case_get(core_store(c), ck, &row, NULL) == STORE_OK) {
            snprintf(case_uid, sizeof case_uid, "%s", row.uid);
            store_row_release(&row);
        } else {
            snprintf(case_uid, sizeof case_uid, "-");
        }
        q.case_uid = case_uid;
    }
    store_record *rows = NULL;
    int nrows = 0;
    if (store_record_list(core_store(c), &q, &rows, &nrows, NULL) != STORE_OK)
        return rc_fail(err, p, AMP_EINTERNAL, "storage", NULL);
    json_t *items = json_array();
    int total = 0;
    for (int i = 0; i < nrows; i++) {
        bool ok = true;
        for (size_t k = 0; k < 3 && ok; k++) {
            static const char *const keys[] = {"channel", "caller_type", "urgency"};
            const char *want = rc_param(params, n, keys[k]);
            const char *have = sv(rows[i].doc, keys[k]);
            ok = !want || (have && strcmp(want, have) == 0);
        }
        if (ok && total >= offset && total < offset + limit)
            json_array_append_new(items, view(p, &rows[i]));
        total += ok;
        store_record_release(&rows[i]);
    }
    free(rows);
    *out = json_pack("{s:o, s:i, s:i, s:i}", "items", items, "total", total, "limit", limit,
                     "offset", offset);
    return AMP_OK;
}

amp_code hotline_of_case(core *c, const principal *p, const char *case_key, json_t **out,
                         amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_HOTLINE, err);
    if (code != AMP_OK)
        return code;
    store_row row;
    if ((code = cases_access(c, p, case_key, ACT_READ, &row, err)) != AMP_OK)
        return code;
    store_record_query q = {.kind = KIND, .case_uid = row.uid};
    store_row_release(&row);
    store_record *rows = NULL;
    int nrows = 0;
    if (store_record_list(core_store(c), &q, &rows, &nrows, NULL) != STORE_OK)
        return rc_fail(err, p, AMP_EINTERNAL, "storage", NULL);
    json_t *items = json_array();
    for (int i = 0; i < nrows; i++) {
        json_array_append_new(items, view(p, &rows[i]));
        store_record_release(&rows[i]);
    }
    free(rows);
    *out = json_pack("{s:o, s:i, s:i, s:i}", "items", items, "total", nrows, "limit", nrows,
                     "offset", 0);
    return AMP_OK;
}

/* ---- writes ---- */

typedef enum { W_CREATE, W_UPDATE, W_REPEAT, W_LINK } write_kind;

typedef struct {
    write_kind w;
    store_record rec;
    const json_t *body;
    int64_t version;
    bool from_header;
    const char *case_uid, *case_ref;
} write_ctx;

static const char *const actions[] = {"hotline.create", "hotline.update", "hotline.repeat",
                                      "hotline.open_case"};

static int job_write(rc_job *j, store_tx *tx)
{
    write_ctx *x = j->ctx;
    store_record *r = &x->rec;
    int64_t expected = 0;
    if (x->w != W_CREATE) {
        char uid[40];
        snprintf(uid, sizeof uid, "%s", r->uid);
        int rc = store_tx_record_get(tx, KIND, uid, r);
        if (rc != STORE_OK || !may_read(j->p, r)) {
            if (rc == STORE_OK)
                store_record_release(r);
            memset(r, 0, sizeof *r);
            return rc_job_fail(j, AMP_ENOTFOUND, "nf.contact", uid);
        }
        if (!rc_is_org(j->p, r->org))
            return rc_job_fail(j, AMP_EFORBIDDEN, "rec.owner", NULL);
        int v = rc_job_check_version(j, r->version, x->version, x->from_header);
        if (v != STORE_OK)
            return v;
        expected = r->version;
        json_t *doc = r->doc;
        if (x->w == W_UPDATE) {
            json_t *merged = rc_merge(doc, x->body);
            json_object_del(merged, "version");
            rc_check(j->c, j->p, fields, merged, true, server_keys, j->err);
            if (json_array_size(j->err->fields)) {
                json_decref(merged);
                j->code = rc_invalid(j->p, j->err);
                return 100 + (int)j->code;
            }
            referral_time(merged, doc, j->now);
            json_decref(r->doc);
            r->doc = doc = merged;
        } else if (x->w == W_REPEAT) {
            json_t *rep = json_deep_copy(x->body);
            if (!json_object_get(rep, "received_at"))
                json_object_set_new(rep, "received_at", json_string(j->now));
            json_object_set_new(rep, "recorded_by", json_string(j->p->actor));
            json_t *arr = json_object_get(doc, "repeats");
            if (!json_is_array(arr)) {
                arr = json_array();
                json_object_set_new(doc, "repeats", arr);
            }
            json_array_append_new(arr, rep);
            json_t *ind = json_object_get(doc, "indicators");
            if (!json_is_array(ind)) {
                ind = json_array();
                json_object_set_new(doc, "indicators", ind);
            }
            size_t i, k;
            json_t *v2, *w2;
            json_array_foreach (json_object_get(x->body, "indicators"), i, v2) {
                bool have = false;
                json_array_foreach (ind, k, w2)
                    have = have || json_equal(v2, w2);
                if (!have)
                    json_array_append(ind, v2);
            }
            static const char *const follow[] = {"urgency", "outcome", NULL};
            for (const char *const *f = follow; *f; f++) {
                if (json_object_get(x->body, *f))
                    json_object_set(doc, *f, json_object_get(x->body, *f));
            }
            json_object_set_new(doc, "repeat_count",
                                json_integer((json_int_t)json_array_size(arr)));
            json_object_set_new(doc, "last_contact_at",
                                json_object_get(rep, "received_at")
                                    ? json_incref(json_object_get(rep, "received_at"))
                                    : json_string(j->now));
            referral_time(doc, NULL, j->now);
        } else { /* W_LINK */
            if (r->case_uid[0])
                return rc_job_fail(j, AMP_ESTATE, "hot.case_open", sv(doc, "case_reference"));
            snprintf(r->case_uid, sizeof r->case_uid, "%s", x->case_uid);
            json_object_set_new(doc, "case", json_string(x->case_uid));
            json_object_set_new(doc, "case_reference", json_string(x->case_ref));
            json_object_set_new(doc, "case_opened_at", json_string(j->now));
            json_object_set_new(doc, "outcome", json_string("CaseOpened"));
        }
        rc_record_touch(r, j->p, j->now);
    }
    fill_columns(r);
    int rc = store_tx_record_put(tx, r, expected);
    if (rc == STORE_OK) {
        json_t *detail = json_pack("{s:s?, s:s?}", "channel", sv(r->doc, "channel"), "case",
                                   r->case_uid[0] ? r->case_uid : NULL);
        rc = audit_tx(tx, j->p, actions[x->w], "hotline_contact", r->uid, detail);
        json_decref(detail);
    }
    if (rc != STORE_OK)
        return rc_job_store_fail(j, rc, "hotline contact");
    j->result = view(j->p, r);
    return STORE_OK;
}

amp_code hotline_create(core *c, const principal *p, const json_t *body, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_CREATE, RES_HOTLINE, err);
    if (code != AMP_OK)
        return code;
    if (rc_check(c, p, fields, body, true, NULL, err))
        return rc_invalid(p, err);
    if ((code = rc_identity_write(p, fields, body, ACT_CREATE, err)) != AMP_OK)
        return code;
    if (!p->org[0] && !p->internal)
        return rc_fail(err, p, AMP_EFORBIDDEN, "no_org", NULL);
    write_ctx x = {.w = W_CREATE};
    rc_job j;
    rc_job_init(&j, c, p, job_write, &x, err);
    rc_record_init(&x.rec, KIND, NULL, p, j.now);
    snprintf(x.rec.org, sizeof x.rec.org, "%s", p->org);
    x.rec.doc = json_deep_copy(body);
    if (!json_object_get(x.rec.doc, "received_at"))
        json_object_set_new(x.rec.doc, "received_at", json_string(j.now));
    json_object_set_new(x.rec.doc, "repeat_count", json_integer(0));
    referral_time(x.rec.doc, NULL, j.now);
    code = rc_job_run(&j);
    if (code == AMP_OK)
        *out = j.result;
    store_record_release(&x.rec);
    return code;
}

static amp_code change(core *c, const principal *p, write_kind w, const char *id,
                       const json_t *body, int64_t if_match, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_UPDATE, RES_HOTLINE, err);
    if (code != AMP_OK)
        return code;
    write_ctx x = {.w = w, .body = body};
    if (w == W_UPDATE) {
        if (!json_is_object(body)) {
            amp_err_field(err, "", "object", "the body must be a JSON object");
            return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
        }
        if ((code = rc_take_version(body, if_match, &x.version, &x.from_header, err)) != AMP_OK)
            return code;
        if (x.version <= 0)
            return rc_fail(err, p, AMP_ENEEDVER, "needver", NULL);
        for (const char *const *k = server_keys; *k; k++) {
            if (strcmp(*k, "version") && json_object_get(body, *k))
                amp_err_field(err, *k, "read_only", "set by the server");
        }
        if (json_array_size(err->fields))
            return rc_invalid(p, err);
    } else if (rc_check(c, p, repeat_fields, body, true, NULL, err)) {
        return rc_invalid(p, err);
    }
    if ((code = rc_identity_write(p, w == W_UPDATE ? fields : repeat_fields, body, ACT_UPDATE,
                                  err)) != AMP_OK)
        return code;
    if (!id || strlen(id) >= sizeof x.rec.uid)
        return rc_fail(err, p, AMP_ENOTFOUND, "nf.contact", id);
    snprintf(x.rec.uid, sizeof x.rec.uid, "%s", id);
    rc_job j;
    rc_job_init(&j, c, p, job_write, &x, err);
    code = rc_job_run(&j);
    if (code == AMP_OK)
        *out = j.result;
    store_record_release(&x.rec);
    return code;
}

amp_code hotline_update(core *c, const principal *p, const char *id, const json_t *patch,
                        int64_t if_match, json_t **out, amp_err *err)
{
    return change(c, p, W_UPDATE, id, patch, if_match, out, err);
}

amp_code hotline_repeat(core *c, const principal *p, const char *id, const json_t *body,
                        json_t **out, amp_err *err)
{
    return change(c, p, W_REPEAT, id, body, 0, out, err);
}

amp_code hotline_open_case(core *c, const principal *p, const char *id, const json_t *body,
                           json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_UPDATE, RES_HOTLINE, err);
    if (code == AMP_OK)
        code = authz_require(p, ACT_CREATE, RES_CASE, err);
    if (code != AMP_OK)
        return code;
    if (body && !json_is_object(body)) {
        amp_err_field(err, "", "object", "the body must be a JSON object");
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    }
    store_record r;
    int rc = id && strlen(id) < sizeof r.uid ? store_record_get(core_store(c), KIND, id, &r)
                                             : STORE_NOTFOUND;
    if (rc == STORE_OK && !may_read(p, &r)) {
        store_record_release(&r);
        rc = STORE_NOTFOUND;
    }
    if (rc != STORE_OK)
        return rc_fail(err, p, rc == STORE_NOTFOUND ? AMP_ENOTFOUND : AMP_EINTERNAL,
                       rc == STORE_NOTFOUND ? "nf.contact" : "storage", id);
    if (!rc_is_org(p, r.org)) {
        store_record_release(&r);
        return rc_fail(err, p, AMP_EFORBIDDEN, "rec.owner", NULL);
    }
    if (r.case_uid[0]) {
        code = rc_fail(err, p, AMP_ESTATE, "hot.case_open", sv(r.doc, "case_reference"));
        store_record_release(&r);
        return code;
    }
    json_t *fields_in = body ? json_deep_copy(body) : json_object();
    if (!json_object_get(fields_in, "vic_TraffickingStatus"))
        json_object_set_new(fields_in, "vic_TraffickingStatus",
                            json_string("PossibleVictimOfTrafficking"));
    if (!json_object_get(fields_in, "amp_OwnerOrganisation") && r.org[0])
        json_object_set_new(fields_in, "amp_OwnerOrganisation", json_string(r.org));
    if (!json_object_get(fields_in, "prs_PrimaryLanguage") && sv(r.doc, "language"))
        json_object_set(fields_in, "prs_PrimaryLanguage", json_object_get(r.doc, "language"));
    if (!json_object_get(fields_in, "cas_Status"))
        json_object_set_new(fields_in, "cas_Status", json_string("Active"));
    json_t *created = NULL;
    code = cases_create_sync(c, p, fields_in, &created, err);
    json_decref(fields_in);
    store_record_release(&r);
    if (code != AMP_OK)
        return code;
    write_ctx x = {
        .w = W_LINK, .case_uid = sv(created, "id"), .case_ref = sv(created, "reference")};
    snprintf(x.rec.uid, sizeof x.rec.uid, "%s", id);
    rc_job j;
    rc_job_init(&j, c, p, job_write, &x, err);
    code = rc_job_run(&j);
    if (code == AMP_OK)
        *out = json_pack("{s:o, s:{s:s, s:s}}", "contact", j.result, "case", "id", x.case_uid,
                         "reference", x.case_ref);
    else
        log_error("hotline: case %s was opened but could not be linked to contact %s", x.case_uid,
                  id);
    store_record_release(&x.rec);
    json_decref(created);
    return code;
}

/* ---- figures ---- */

static void count(json_t *obj, const char *key)
{
    if (!key)
        key = "Unknown";
    json_object_set_new(obj, key, json_integer(json_integer_value(json_object_get(obj, key)) + 1));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

amp_code hotline_stats(core *c, const principal *p, const list_param *params, size_t n,
                       json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_HOTLINE, err);
    if (code != AMP_OK)
        return code;
    static const char *const known[] = {"from", "to", "org", NULL};
    const char *bad = rc_unknown_param(params, n, known);
    if (bad)
        return rc_unknown_param_error(p, bad, err);
    const char *from = rc_param(params, n, "from"), *to = rc_param(params, n, "to");
    if (date_param_bad(from))
        amp_err_field(err, "from", "date", "from must be a date YYYY-MM-DD");
    if (date_param_bad(to))
        amp_err_field(err, "to", "date", "to must be a date YYYY-MM-DD");
    if (json_array_size(err->fields))
        return rc_fail(err, p, AMP_EINVALID, "invalid", NULL);
    if (!p->internal && !p->org[0] && !(p->roles & ROLE_COORDINATOR))
        return rc_fail(err, p, AMP_EFORBIDDEN, "no_org", NULL);
    store_record_query q = {.kind = KIND};
    q.org = (p->internal || (p->roles & ROLE_COORDINATOR)) ? rc_param(params, n, "org") : p->org;
    char to_end[16];
    q.due_from = from;
    if (to) {
        snprintf(to_end, sizeof to_end, "%s~", to);
        q.due_to = to_end;
    }
    store_record *rows = NULL;
    int nrows = 0;
    if (store_record_list(core_store(c), &q, &rows, &nrows, NULL) != STORE_OK)
        return rc_fail(err, p, AMP_EINTERNAL, "storage", NULL);
    json_t *by_channel = json_object(), *by_caller = json_object(), *by_outcome = json_object();
    json_t *by_urgency = json_object(), *by_indicator = json_object();
    double *hours = calloc((size_t)(nrows ? nrows : 1), sizeof *hours);
    int nh = 0, repeats = 0, cases = 0;
    for (int i = 0; i < nrows; i++) {
        const json_t *d = rows[i].doc;
        count(by_channel, sv(d, "channel"));
        count(by_caller, sv(d, "caller_type"));
        count(by_outcome, sv(d, "outcome"));
        count(by_urgency, sv(d, "urgency"));
        size_t k;
        json_t *v;
        json_array_foreach (json_object_get(d, "indicators"), k, v)
            count(by_indicator, json_string_value(v));
        repeats += (int)json_integer_value(json_object_get(d, "repeat_count"));
        cases += rows[i].case_uid[0] != '\0';
        const char *ra = sv(d, "received_at"), *fa = sv(d, "referred_at");
        if (!fa)
            fa = sv(d, "case_opened_at");
        int64_t a, b;
        if (hours && ra && fa && clock_parse(ra, &a) == 0 && clock_parse(fa, &b) == 0 && b >= a)
            hours[nh++] = (double)(b - a) / 3600.0;
        store_record_release(&rows[i]);
    }
    free(rows);
    json_t *ttr;
    if (nh > 0) {
        qsort(hours, (size_t)nh, sizeof *hours, cmp_double);
        double sum = 0;
        for (int i = 0; i < nh; i++)
            sum += hours[i];
        double med = nh % 2 ? hours[nh / 2] : (hours[nh / 2 - 1] + hours[nh / 2]) / 2;
        ttr = json_pack("{s:i, s:f, s:f}", "referred", nh, "median_hours", round(med * 100) / 100,
                        "mean_hours", round(sum / nh * 100) / 100);
    } else {
        ttr = json_pack("{s:i, s:n, s:n}", "referred", 0, "median_hours", "mean_hours");
    }
    free(hours);
    *out =
        json_pack("{s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:s?, s:s?}", "contacts", nrows,
                  "repeat_contacts", repeats, "cases_opened", cases, "by_channel", by_channel,
                  "by_caller_type", by_caller, "by_outcome", by_outcome, "by_urgency", by_urgency,
                  "by_indicator", by_indicator, "time_to_referral", ttr, "from", from, "to", to);
    return AMP_OK;
}
