/* directory.c — the referral network's service directory (see directory.h). */
#include "core/directory.h"

#include "core/audit.h"
#include "core/refcommon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIND "directory"

static const rc_field fields[] = {
    {"services", RF_CODES, "services", true, false, 0, 16},
    {"regions", RF_STRINGS, NULL, false, false, 0, 50},
    {"languages", RF_LANGUAGES, NULL, false, false, 0, 20},
    {"capacity", RF_INT, NULL, false, false, 0, 100000},
    {"available_places", RF_INT, NULL, false, false, 0, 100000},
    {"availability", RF_CODE, "availability", false, false, 0, 0},
    {"hours", RF_TEXT, NULL, false, false, 0, 200},
    {"accepts_emergency", RF_BOOL, NULL, false, false, 0, 0},
    {"age_groups", RF_CODES, "age_groups", false, false, 0, 2},
    {"contact_name", RF_TEXT, NULL, false, false, 0, 200},
    {"contact_phone", RF_PHONE, NULL, false, false, 0, 0},
    {"contact_email", RF_EMAIL, NULL, false, false, 0, 0},
    {"notes", RF_LONGTEXT, NULL, false, false, 0, 2000},
    {NULL, 0, NULL, false, false, 0, 0},
};

static int entry_get(core *c, const char *org, store_record *out)
{
    char uid[40];
    rc_key_uid(KIND, org, uid);
    return store_record_get(core_store(c), KIND, uid, out);
}

/* The entry with its organisation's public facts. */
static json_t *entry_json(core *c, const store_record *r)
{
    json_t *o = rc_record_json(r);
    json_object_set_new(o, "org", json_string(r->org));
    store_row org;
    if (store_org_get(core_store(c), r->org, &org) == STORE_OK) {
        static const char *const keys[] = {"org_Name",      "org_Type",        "amp_OrgCountry",
                                           "amp_OrgRegion", "amp_OrgCategory", NULL};
        for (const char *const *k = keys; *k; k++) {
            json_t *v = json_object_get(org.doc, *k);
            if (v)
                json_object_set(o, *k, v);
        }
        store_row_release(&org);
    }
    return o;
}

static bool array_has(const json_t *arr, const char *v, bool nocase)
{
    size_t i;
    json_t *x;
    json_array_foreach (arr, i, x) {
        const char *s = json_string_value(x);
        if (s && (nocase ? strcasecmp(s, v) == 0 : strcmp(s, v) == 0))
            return true;
    }
    return false;
}

amp_code directory_list(core *c, const principal *p, const list_param *params, size_t n,
                        json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_DIRECTORY, err);
    if (code != AMP_OK)
        return code;
    static const char *const known[] = {"service",   "region", "country", "language", "available",
                                        "emergency", "limit",  "offset",  NULL};
    const char *bad = rc_unknown_param(params, n, known);
    if (bad)
        return rc_unknown_param_error(p, bad, err);
    int limit, offset;
    if ((code = rc_paging(p, rc_param(params, n, "limit"), rc_param(params, n, "offset"), &limit,
                          &offset, err)) != AMP_OK)
        return code;
    const char *service = rc_param(params, n, "service");
    const char *region = rc_param(params, n, "region");
    const char *country = rc_param(params, n, "country");
    const char *language = rc_param(params, n, "language");
    const char *available = rc_param(params, n, "available");
    const char *emergency = rc_param(params, n, "emergency");
    char msg[256];
    if (service && !rc_picklist_has(c, "services", service)) {
        snprintf(msg, sizeof msg, "service: '%.60s' is not one of the services", service);
        amp_err_field(err, "service", "list.value", msg);
    }
    if (country && !catalogue_is_country(core_catalogue(c), country)) {
        snprintf(msg, sizeof msg, "country: '%.20s' is not an ISO 3166-1 alpha-2 code", country);
        amp_err_field(err, "country", "list.value", msg);
    }
    if (language && !catalogue_is_language(core_catalogue(c), language)) {
        snprintf(msg, sizeof msg, "language: '%.20s' is not an ISO 639 code", language);
        amp_err_field(err, "language", "list.value", msg);
    }
    const char *flags[2][2] = {{"available", available}, {"emergency", emergency}};
    for (int i = 0; i < 2; i++) {
        if (flags[i][1] && strcmp(flags[i][1], "true") && strcmp(flags[i][1], "false")) {
            snprintf(msg, sizeof msg, "%s must be true or false", flags[i][0]);
            amp_err_field(err, flags[i][0], "list.value", msg);
        }
    }
    if (json_array_size(err->fields))
        return rc_fail(err, p, AMP_EINVALID, "invalid", NULL);
    store_record_query q = {.kind = KIND};
    store_record *rows = NULL;
    int nrows = 0;
    if (store_record_list(core_store(c), &q, &rows, &nrows, NULL) != STORE_OK)
        return rc_fail(err, p, AMP_EINTERNAL, "storage", NULL);
    json_t *items = json_array();
    int total = 0;
    for (int i = 0; i < nrows; i++) {
        json_t *e = entry_json(c, &rows[i]);
        bool ok = true;
        if (service)
            ok = ok && array_has(json_object_get(e, "services"), service, false);
        if (language)
            ok = ok && array_has(json_object_get(e, "languages"), language, false);
        if (country) {
            const char *oc = json_string_value(json_object_get(e, "amp_OrgCountry"));
            ok = ok && oc && strcmp(oc, country) == 0;
        }
        if (region) {
            const char *orr = json_string_value(json_object_get(e, "amp_OrgRegion"));
            ok = ok && (array_has(json_object_get(e, "regions"), region, true) ||
                        (orr && strcasecmp(orr, region) == 0));
        }
        if (available && strcmp(available, "true") == 0) {
            const char *av = json_string_value(json_object_get(e, "availability"));
            ok = ok && !(av && strcmp(av, "Unavailable") == 0);
        }
        if (emergency && strcmp(emergency, "true") == 0)
            ok = ok && json_is_true(json_object_get(e, "accepts_emergency"));
        if (ok && total >= offset && total < offset + limit)
            json_array_append(items, e);
        total += ok;
        json_decref(e);
        store_record_release(&rows[i]);
    }
    free(rows);
    *out = json_pack("{s:o, s:i, s:i, s:i}", "items", items, "total", total, "limit", limit,
                     "offset", offset);
    return AMP_OK;
}

amp_code directory_get(core *c, const principal *p, const char *org, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_DIRECTORY, err);
    if (code != AMP_OK)
        return code;
    store_record r;
    int rc = entry_get(c, org, &r);
    if (rc == STORE_NOTFOUND)
        return rc_fail(err, p, AMP_ENOTFOUND, "nf.directory", org);
    if (rc != STORE_OK)
        return rc_fail(err, p, AMP_EINTERNAL, "storage", NULL);
    *out = entry_json(c, &r);
    store_record_release(&r);
    return AMP_OK;
}

json_t *directory_services(core *c, const char *org)
{
    store_record r;
    json_t *out = NULL;
    if (entry_get(c, org, &r) == STORE_OK) {
        out = json_incref(json_object_get(r.doc, "services"));
        store_record_release(&r);
    }
    return out ? out : json_array();
}

typedef struct {
    const char *org;
    json_t *doc;
    int64_t version;
    bool from_header, created;
} put_ctx;

static int job_put(rc_job *j, store_tx *tx)
{
    put_ctx *x = j->ctx;
    /* one entry per organisation: its uid is derived from the organisation id */
    char uid[40];
    rc_key_uid(KIND, x->org, uid);
    store_record cur = {0};
    int rc = store_tx_record_get(tx, KIND, uid, &cur);
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return rc_job_store_fail(j, rc, "directory entry");
    int64_t expected = rc == STORE_OK ? cur.version : 0;
    int v = rc_job_check_version(j, expected, x->version, x->from_header);
    if (v != STORE_OK) {
        store_record_release(&cur);
        return v;
    }
    store_record r;
    if (rc == STORE_OK) {
        r = cur;
        json_decref(r.doc);
    } else {
        rc_record_init(&r, KIND, uid, j->p, j->now);
        snprintf(r.org, sizeof r.org, "%s", x->org);
        x->created = true;
    }
    rc_record_touch(&r, j->p, j->now);
    r.doc = json_incref(x->doc);
    rc = store_tx_record_put(tx, &r, expected);
    if (rc == STORE_OK) {
        json_t *detail = json_pack("{s:s}", "org", x->org);
        rc = audit_tx(tx, j->p, x->created ? "directory.create" : "directory.update", "directory",
                      r.uid, detail);
        json_decref(detail);
    }
    if (rc != STORE_OK) {
        store_record_release(&r);
        return rc_job_store_fail(j, rc, "directory entry");
    }
    j->result = entry_json(j->c, &r);
    store_record_release(&r);
    return STORE_OK;
}

amp_code directory_put(core *c, const principal *p, const char *org, const json_t *body,
                       int64_t if_match, json_t **out, bool *created, amp_err *err)
{
    amp_code code = authz_require(p, ACT_UPDATE, RES_DIRECTORY, err);
    if (code != AMP_OK)
        return code;
    char country[3];
    if (!rc_org_country(c, org, country))
        return rc_fail(err, p, AMP_ENOTFOUND, "nf.org", org);
    if (!p->internal && !(p->roles & (ROLE_SYSADMIN | ROLE_COORDINATOR)) &&
        strcmp(p->org, org) != 0)
        return rc_fail(err, p, AMP_EFORBIDDEN, "org.scope", NULL);
    static const char *const allow[] = {"version", "org", NULL};
    rc_check(c, p, fields, body, true, allow, err);
    const json_t *o = json_object_get(body, "org");
    if (o && !(json_is_string(o) && strcmp(json_string_value(o), org) == 0))
        amp_err_field(err, "org", "mismatch", "org in the body differs from the one in the URL");
    put_ctx x = {.org = org};
    if (json_array_size(err->fields) == 0 &&
        rc_take_version(body, if_match, &x.version, &x.from_header, err) != AMP_OK)
        return err->code;
    if (json_array_size(err->fields))
        return rc_invalid(p, err);
    x.doc = json_deep_copy(body);
    json_object_del(x.doc, "version");
    json_object_del(x.doc, "org");
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe (x.doc, tmp, k, v) {
        if (json_is_null(v))
            json_object_del(x.doc, k);
    }
    rc_job j;
    rc_job_init(&j, c, p, job_put, &x, err);
    code = rc_job_run(&j);
    json_decref(x.doc);
    if (code == AMP_OK) {
        *out = j.result;
        if (created)
            *created = x.created;
    }
    return code;
}
