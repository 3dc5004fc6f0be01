/* referrals.c — referrals between organisations (see referrals.h). */
#include "core/referrals.h"

#include "core/audit.h"
#include "core/consent.h"
#include "core/directory.h"
#include "core/refcommon.h"
#include "core/validate.h"
#include "util/clock.h"
#include "util/log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIND "referral"
#define PENDING_KIND "referral_pending"

static const rc_field send_fields[] = {
    {"case", RF_TEXT, NULL, true, false, 0, 64},
    {"to_org", RF_ORG, NULL, true, false, 0, 0},
    {"from_org", RF_ORG, NULL, false, false, 0, 0},
    {"services", RF_CODES, "services", true, false, 0, 16},
    {"urgency", RF_CODE, "urgency", true, false, 0, 0},
    {"reason", RF_CODE, "referral_reasons", true, false, 0, 0},
    {"notes", RF_LONGTEXT, NULL, false, true, 0, 10000},
    {NULL, 0, NULL, false, false, 0, 0},
};

/* free text of a referral: shown only to those who see identity */
static const char *const free_text[] = {"notes", "decline_details", "cancel_details",
                                        "outcome_notes", NULL};

/* ==== reading ============================================================== */

bool referrals_is_overdue(const store_record *r, const char *now)
{
    return strcmp(r->status, "Sent") == 0 && r->due[0] && strcmp(r->due, now) < 0;
}

static bool is_party(const principal *p, const store_record *r)
{
    return p->internal ||
           (p->org[0] && (strcmp(p->org, r->org) == 0 || strcmp(p->org, r->org2) == 0));
}

static bool may_see(const principal *p, const store_record *r)
{
    return is_party(p, r) || rc_is_coordinator(p);
}

/* May p read the referral's free text? */
static bool sees_text(const principal *p, const store_record *r)
{
    if (p->internal)
        return true;
    if (!authz_sees_identity(p) || !p->org[0])
        return false;
    if (strcmp(p->org, r->org) == 0)
        return true;
    return strcmp(p->org, r->org2) == 0 &&
           (strcmp(r->status, "Accepted") == 0 || strcmp(r->status, "Completed") == 0);
}

static json_t *referral_json(core *c, const principal *p, const store_record *r, const char *now,
                             bool with_summary)
{
    json_t *o = rc_record_json(r);
    if (!sees_text(p, r)) {
        for (const char *const *k = free_text; *k; k++)
            json_object_del(o, *k);
        size_t i;
        json_t *h;
        json_array_foreach (json_object_get(o, "history"), i, h)
            json_object_del(h, "details");
    }
    json_object_set_new(o, "overdue", json_boolean(referrals_is_overdue(r, now)));
    char *fn = rc_org_name(c, r->org), *tn = rc_org_name(c, r->org2);
    json_object_set_new(o, "from_org_name", fn ? json_string(fn) : json_null());
    json_object_set_new(o, "to_org_name", tn ? json_string(tn) : json_null());
    free(fn);
    free(tn);
    if (with_summary) {
        store_row row;
        amp_err oerr = {0};
        if (store_case_get(core_store(c), r->case_uid, &row, NULL) == STORE_OK &&
            (cases_open_row(c, &row, &oerr) == AMP_OK || (store_row_release(&row), false))) {
            char today[11];
            clock_today(today);
            json_object_set_new(o, "case_summary", rc_case_summary(&row, today));
            store_row_release(&row);
        }
    }
    return o;
}

static amp_code load_visible(core *c, const principal *p, const char *id, store_record *r,
                             amp_err *err)
{
    if (!id || strlen(id) >= sizeof r->uid)
        return rc_fail(err, p, AMP_ENOTFOUND, "nf.referral", id);
    int rc = store_record_get(core_store(c), KIND, id, r);
    if (rc == STORE_NOTFOUND)
        return rc_fail(err, p, AMP_ENOTFOUND, "nf.referral", id);
    if (rc != STORE_OK)
        return rc_fail(err, p, AMP_EINTERNAL, "storage", NULL);
    if (!may_see(p, r)) {
        store_record_release(r);
        return rc_fail(err, p, AMP_ENOTFOUND, "nf.referral", id);
    }
    return AMP_OK;
}

amp_code referrals_get(core *c, const principal *p, const char *id, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_REFERRAL, err);
    if (code != AMP_OK)
        return code;
    store_record r;
    if ((code = load_visible(c, p, id, &r, err)) != AMP_OK)
        return code;
    char now[32];
    clock_now(now);
    if (sees_text(p, &r) && json_object_get(r.doc, "notes")) { /* free text read: audited */
        json_t *detail = json_pack("{s:s}", "case", r.case_uid);
        code = audit_read(c, p, "referral.read", "referral", r.uid, detail, err);
        json_decref(detail);
        if (code != AMP_OK) {
            store_record_release(&r);
            return code;
        }
    }
    *out = referral_json(c, p, &r, now, true);
    store_record_release(&r);
    return AMP_OK;
}

static bool statuses_ok(core *c, const char *list)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!rc_picklist_has(c, "referral_statuses", t) || ++n > 5)
            return false;
    }
    return n > 0 && strlen(list) < sizeof buf;
}

amp_code referrals_list(core *c, const principal *p, const list_param *params, size_t n,
                        json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_REFERRAL, err);
    if (code != AMP_OK)
        return code;
    static const char *const known[] = {"box", "status", "overdue", "urgency", "case",
                                        "org", "limit",  "offset",  NULL};
    const char *bad = rc_unknown_param(params, n, known);
    if (bad)
        return rc_unknown_param_error(p, bad, err);
    int limit, offset;
    if ((code = rc_paging(p, rc_param(params, n, "limit"), rc_param(params, n, "offset"), &limit,
                          &offset, err)) != AMP_OK)
        return code;
    const char *box = rc_param(params, n, "box"), *status = rc_param(params, n, "status");
    const char *overdue = rc_param(params, n, "overdue"), *urgency = rc_param(params, n, "urgency");
    const char *case_key = rc_param(params, n, "case"), *org = rc_param(params, n, "org");
    if (box && strcmp(box, "inbox") && strcmp(box, "outbox") && strcmp(box, "all"))
        amp_err_field(err, "box", "list.value", "box is inbox, outbox or all");
    if (status && !statuses_ok(c, status))
        amp_err_field(err, "status", "list.value",
                      "status: Sent, Accepted, Declined, Completed or Cancelled (comma-separated)");
    if (overdue && strcmp(overdue, "true") && strcmp(overdue, "false"))
        amp_err_field(err, "overdue", "list.value", "overdue must be true or false");
    if (urgency && !rc_picklist_has(c, "urgency", urgency))
        amp_err_field(err, "urgency", "list.value", "urgency is Emergency or Standard");
    if (org && !validate_identifier(org))
        amp_err_field(err, "org", "list.owner", "org must be an organisation identifier");
    if (json_array_size(err->fields))
        return rc_fail(err, p, AMP_EINVALID, "invalid", NULL);
    /* whose referrals */
    const char *me = p->org[0] ? p->org : NULL;
    if (!me && !rc_is_coordinator(p))
        return rc_fail(err, p, AMP_EFORBIDDEN, "no_org", NULL);
    const char *who = me;
    if (rc_is_coordinator(p))
        who = org ? org : (box && strcmp(box, "all") != 0 ? me : NULL);
    else if (org && strcmp(org, me) != 0)
        who = "\x01"; /* another organisation's: nothing visible */
    store_record_query q = {.kind = KIND, .descending = true, .limit = 0};
    if (who && box && strcmp(box, "inbox") == 0)
        q.org2 = who;
    else if (who && box && strcmp(box, "outbox") == 0)
        q.org = who;
    else if (who)
        q.org_any = who;
    char now[32];
    clock_now(now);
    bool only_overdue = overdue && strcmp(overdue, "true") == 0;
    q.status = only_overdue ? "Sent" : status;
    if (only_overdue)
        q.due_before = now;
    if (only_overdue && status && !strstr(status, "Sent"))
        q.status = "-"; /* overdue referrals are Sent ones */
    char case_uid[40] = "";
    if (case_key) {
        store_row row;
        if (store_case_get(core_store(c), case_key, &row, NULL) == STORE_OK) {
            snprintf(case_uid, sizeof case_uid, "%s", row.uid);
            store_row_release(&row);
        } else {
            snprintf(case_uid, sizeof case_uid, "-");
        }
        q.case_uid = case_uid;
    }
    bool filter_urgency = urgency != NULL;
    if (!filter_urgency) {
        q.limit = limit;
        q.offset = offset;
    }
    store_record *rows = NULL;
    int nrows = 0;
    int64_t total = 0;
    if (store_record_list(core_store(c), &q, &rows, &nrows, &total) != STORE_OK)
        return rc_fail(err, p, AMP_EINTERNAL, "storage", NULL);
    json_t *items = json_array();
    int matched = 0;
    for (int i = 0; i < nrows; i++) {
        bool ok = true;
        if (filter_urgency) {
            const char *u = json_string_value(json_object_get(rows[i].doc, "urgency"));
            ok = u && strcmp(u, urgency) == 0;
            if (ok && (matched < offset || matched >= offset + limit)) {
                matched++;
                ok = false;
            } else if (ok) {
                matched++;
            }
        }
        if (ok)
            json_array_append_new(items, referral_json(c, p, &rows[i], now, false));
        store_record_release(&rows[i]);
    }
    free(rows);
    *out =
        json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total",
                  (json_int_t)(filter_urgency ? matched : total), "limit", limit, "offset", offset);
    return AMP_OK;
}

amp_code referrals_of_case(core *c, const principal *p, const char *case_key, json_t **out,
                           amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_REFERRAL, err);
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
    char now[32];
    clock_now(now);
    json_t *items = json_array();
    for (int i = 0; i < nrows; i++) {
        if (may_see(p, &rows[i]))
            json_array_append_new(items, referral_json(c, p, &rows[i], now, false));
        store_record_release(&rows[i]);
    }
    free(rows);
    *out = json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total",
                     (json_int_t)json_array_size(items), "limit", (int)json_array_size(items),
                     "offset", 0);
    return AMP_OK;
}

/* ==== the case's HTCDS referral fields ======================================== */

/* The case's HTCDS referral fields from its referrals: the latest outgoing one
 * still in force (Sent, Accepted or Completed) and the latest accepted one. */
static json_t *referral_fields(const store_record *rows, int nrows)
{
    const store_record *out = NULL, *in = NULL;
    for (int i = 0; i < nrows; i++) {
        const char *s = rows[i].status;
        if (!strcmp(s, "Sent") || !strcmp(s, "Accepted") || !strcmp(s, "Completed"))
            out = &rows[i];
        if (!strcmp(s, "Accepted") || !strcmp(s, "Completed"))
            in = &rows[i];
    }
    json_t *patch = json_object();
    if (out) {
        const char *sent = json_string_value(json_object_get(out->doc, "sent_at"));
        json_object_set_new(patch, "cas_ReferredOrganisation", json_string(out->org2));
        json_object_set(patch, "cas_ReasonForOutgoingReferral",
                        json_object_get(out->doc, "reason"));
        json_object_set_new(patch, "cas_OutgoingReferralDate",
                            json_stringn(sent ? sent : out->created_at, 10));
    } else {
        json_object_set_new(patch, "cas_ReferredOrganisation", json_null());
        json_object_set_new(patch, "cas_ReasonForOutgoingReferral", json_null());
        json_object_set_new(patch, "cas_OutgoingReferralDate", json_null());
    }
    if (in) {
        const char *acc = json_string_value(json_object_get(in->doc, "accepted_at"));
        json_object_set_new(patch, "cas_ReferringOrganisation", json_string(in->org));
        json_object_set(patch, "cas_ReasonForIncomingReferral", json_object_get(in->doc, "reason"));
        json_object_set_new(patch, "cas_IncomingReferralDate",
                            json_stringn(acc ? acc : in->updated_at, 10));
    } else {
        json_object_set_new(patch, "cas_ReferringOrganisation", json_null());
        json_object_set_new(patch, "cas_ReasonForIncomingReferral", json_null());
        json_object_set_new(patch, "cas_IncomingReferralDate", json_null());
    }
    return patch;
}

/* Sets the case's referral fields inside the job that changed a referral, so
 * that both commit together (as the system: the job has checked who may act). */
static int sync_case_tx(rc_job *j, store_tx *tx, const char *case_uid)
{
    store_record_query q = {.kind = KIND, .case_uid = case_uid};
    store_record *rows = NULL;
    int nrows = 0;
    int rc = store_tx_record_list(tx, &q, &rows, &nrows, NULL);
    if (rc != STORE_OK)
        return rc_job_store_fail(j, rc, "referral");
    json_t *patch = referral_fields(rows, nrows);
    for (int i = 0; i < nrows; i++)
        store_record_release(&rows[i]);
    free(rows);
    rc = rc_job_case_patch(j, tx, case_uid, patch, true);
    json_decref(patch);
    return rc;
}

/* ==== sending ==================================================================== */

typedef struct {
    store_record rec; /* the new referral */
    char case_key[72];
    char pending_uid[40];
} send_ctx;

static void history_add(json_t *doc, const char *status, const char *at, const principal *p,
                        const char *reason, const json_t *details)
{
    json_t *h = json_object_get(doc, "history");
    if (!json_is_array(h)) {
        h = json_array();
        json_object_set_new(doc, "history", h);
    }
    json_t *e = json_pack("{s:s, s:s, s:s}", "status", status, "at", at, "by", p->actor);
    if (p->org[0])
        json_object_set_new(e, "org", json_string(p->org));
    if (reason)
        json_object_set_new(e, "reason", json_string(reason));
    if (details)
        json_object_set(e, "details", (json_t *)details);
    json_array_append_new(h, e);
}

static int job_send(rc_job *j, store_tx *tx)
{
    send_ctx *x = j->ctx;
    store_row row;
    int rc = store_tx_case_get(tx, x->rec.case_uid, &row);
    if (rc != STORE_OK)
        return rc_job_store_fail(j, rc, "case");
    store_row_release(&row);
    /* one referral awaiting an answer per case and receiver */
    store_record marker;
    rc_record_init(&marker, PENDING_KIND, x->pending_uid, j->p, j->now);
    snprintf(marker.case_uid, sizeof marker.case_uid, "%s", x->rec.case_uid);
    snprintf(marker.org2, sizeof marker.org2, "%s", x->rec.org2);
    marker.doc = json_pack("{s:s}", "referral", x->rec.uid);
    rc = store_tx_record_put(tx, &marker, 0);
    store_record_release(&marker);
    if (rc == STORE_EXISTS)
        return rc_job_fail(j, AMP_ESTATE, "ref.pending", x->rec.org2);
    if (rc == STORE_OK)
        rc = store_tx_record_put(tx, &x->rec, 0);
    if (rc == STORE_OK) {
        json_t *detail =
            json_pack("{s:s, s:s, s:s, s:O, s:O}", "case", x->rec.case_uid, "from", x->rec.org,
                      "to", x->rec.org2, "urgency", json_object_get(x->rec.doc, "urgency"),
                      "services", json_object_get(x->rec.doc, "services"));
        rc = audit_tx(tx, j->p, "referral.send", "referral", x->rec.uid, detail);
        json_decref(detail);
    }
    if (rc != STORE_OK)
        return rc_job_store_fail(j, rc, "referral");
    return sync_case_tx(j, tx, x->rec.case_uid);
}

amp_code referrals_send(core *c, const principal *p, const json_t *body, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_CREATE, RES_REFERRAL, err);
    if (code != AMP_OK)
        return code;
    if (rc_check(c, p, send_fields, body, true, NULL, err))
        return rc_invalid(p, err);
    if ((code = rc_identity_write(p, send_fields, body, ACT_CREATE, err)) != AMP_OK)
        return code;
    const char *case_key = json_string_value(json_object_get(body, "case"));
    const char *to = json_string_value(json_object_get(body, "to_org"));
    const char *from = json_string_value(json_object_get(body, "from_org"));
    if (from && !p->internal && strcmp(from, p->org) != 0) {
        amp_err_field(err, "from_org", "own_organisation",
                      "from_org: you send referrals for your own organisation only");
        return rc_invalid(p, err);
    }
    store_row row;
    if ((code = cases_access(c, p, case_key, ACT_UPDATE, &row, err)) != AMP_OK)
        return code;
    char today[11], sender[72];
    clock_today(today);
    snprintf(sender, sizeof sender, "%s", from ? from : p->org[0] ? p->org : row.owner_org);
    json_t *doc = NULL;
    if (!sender[0]) {
        code = rc_fail(err, p, AMP_EINVALID, "ref.no_from", NULL);
        amp_err_field(err, "from_org", "required", rc_msg(p->lang, "ref.no_from"));
        goto out;
    }
    if (strcmp(sender, to) == 0) {
        amp_err_field(err, "to_org", "other_organisation", rc_msg(p->lang, "ref.same_org"));
        code = rc_invalid(p, err);
        goto out;
    }
    const char *cstatus = json_string_value(json_object_get(row.doc, "cas_Status"));
    if (cstatus && strncmp(cstatus, "Closed", 6) == 0) {
        code = rc_fail(err, p, AMP_ESTATE, "case.closed", NULL);
        goto out;
    }
    /* consent: cross-border when the receiver's country differs from the owner's */
    char to_country[3], owner_country[3];
    rc_org_country(c, to, to_country);
    rc_org_country(c, row.owner_org, owner_country);
    bool cross = to_country[0] && owner_country[0] && strcmp(to_country, owner_country) != 0;
    if ((code = consent_check(row.doc, cross ? CONSENT_CROSS_BORDER : CONSENT_REFERRAL, today,
                              p->lang, err)) != AMP_OK)
        goto out;
    /* the answer's deadline */
    rc_settings s;
    rc_settings_get(c, &s);
    rc_job j;
    send_ctx x;
    memset(&x, 0, sizeof x);
    rc_job_init(&j, c, p, NULL, &x, err);
    int64_t sent;
    clock_parse(j.now, &sent);
    const char *urgency = json_string_value(json_object_get(body, "urgency"));
    int64_t due;
    if (strcmp(urgency, "Emergency") == 0) {
        due = sent + (int64_t)s.emergency_hours * 3600;
    } else {
        workdays_cal cal;
        rc_calendar(&s, to_country, &cal);
        due = workdays_deadline(&cal, sent, s.standard_working_days);
    }
    char due_at[32];
    clock_format(due, due_at);
    rc_settings_release(&s);

    store_record *r = &x.rec;
    rc_record_init(r, KIND, NULL, p, j.now);
    snprintf(r->case_uid, sizeof r->case_uid, "%s", row.uid);
    snprintf(r->org, sizeof r->org, "%s", sender);
    snprintf(r->org2, sizeof r->org2, "%s", to);
    snprintf(r->status, sizeof r->status, "Sent");
    snprintf(r->due, sizeof r->due, "%s", due_at);
    rc_key_uid(row.uid, to, x.pending_uid);
    doc = json_pack("{s:s, s:s, s:s, s:s, s:O, s:s, s:O, s:b, s:s, s:s, s:s, s:s}", "case", row.uid,
                    "case_reference", row.reference, "from_org", sender, "to_org", to, "services",
                    json_object_get(body, "services"), "urgency", urgency, "reason",
                    json_object_get(body, "reason"), "cross_border", cross, "status", "Sent",
                    "sent_at", j.now, "sent_by", p->actor, "due_at", due_at);
    if (to_country[0])
        json_object_set_new(doc, "to_country", json_string(to_country));
    const json_t *notes = json_object_get(body, "notes");
    if (json_is_string(notes))
        json_object_set(doc, "notes", (json_t *)notes);
    /* services the receiver does not list in the directory: a warning, not a refusal */
    json_t *offered = directory_services(c, to), *missing = json_array();
    size_t i;
    json_t *sv;
    json_array_foreach (json_object_get(body, "services"), i, sv) {
        bool found = false;
        size_t k;
        json_t *o;
        json_array_foreach (offered, k, o)
            found = found || json_equal(o, sv);
        if (!found && json_array_size(offered))
            json_array_append(missing, sv);
    }
    json_decref(offered);
    history_add(doc, "Sent", j.now, p, NULL, NULL);
    r->doc = doc;
    doc = NULL;
    j.apply = job_send;
    code = rc_job_run(&j);
    if (code == AMP_OK) {
        char now[32];
        clock_now(now);
        *out = referral_json(c, p, r, now, true);
        if (json_array_size(missing))
            json_object_set_new(
                *out, "warnings",
                json_pack("[{s:s, s:O}]", "code", "services_not_listed", "services", missing));
    }
    json_decref(missing);
    store_record_release(r);
out:
    json_decref(doc);
    store_row_release(&row);
    return code;
}

/* ==== transitions ================================================================== */

typedef enum { T_ACCEPT, T_DECLINE, T_COMPLETE, T_CANCEL } transition;

typedef struct {
    transition t;
    const char *id;
    const json_t *body;
    int64_t version;
    bool from_header;
    store_record rec; /* the record after the write */
} trans_ctx;

static const char *const target_status[] = {"Accepted", "Declined", "Completed", "Cancelled"};
static const char *const audit_action[] = {"referral.accept", "referral.decline",
                                           "referral.complete", "referral.cancel"};

static int job_transition(rc_job *j, store_tx *tx)
{
    trans_ctx *x = j->ctx;
    store_record *r = &x->rec;
    int rc = store_tx_record_get(tx, KIND, x->id, r);
    if (rc == STORE_NOTFOUND || (rc == STORE_OK && !may_see(j->p, r))) {
        if (rc == STORE_OK)
            store_record_release(r);
        memset(r, 0, sizeof *r);
        return rc_job_fail(j, AMP_ENOTFOUND, "nf.referral", x->id);
    }
    if (rc != STORE_OK)
        return rc_job_store_fail(j, rc, "referral");
    /* who may make this transition */
    bool receiver_act = x->t != T_CANCEL;
    const char *party = receiver_act ? r->org2 : r->org;
    if (!rc_is_org(j->p, party))
        return rc_job_fail(j, AMP_EFORBIDDEN, receiver_act ? "party.receiver" : "party.sender",
                           NULL);
    int v = rc_job_check_version(j, r->version, x->version, x->from_header);
    if (v != STORE_OK)
        return v;
    const char *need = x->t == T_COMPLETE ? "Accepted" : "Sent";
    if (strcmp(r->status, need) != 0)
        return rc_job_fail(j, AMP_ESTATE,
                           x->t == T_COMPLETE ? "state.complete"
                           : x->t == T_CANCEL ? "state.cancel"
                                              : "state.answer",
                           rc_label("referral_statuses", r->status, j->p->lang));
    int64_t expected = r->version;
    const char *to = target_status[x->t];
    json_t *doc = r->doc;
    const json_t *reason = json_object_get(x->body, x->t == T_COMPLETE ? "outcome" : "reason");
    const json_t *details = json_object_get(x->body, x->t == T_COMPLETE ? "notes" : "details");
    json_object_set_new(doc, "status", json_string(to));
    char key[32];
    static const char *const prefix[] = {"accepted", "declined", "completed", "cancelled"};
    snprintf(key, sizeof key, "%s_at", prefix[x->t]);
    json_object_set_new(doc, key, json_string(j->now));
    snprintf(key, sizeof key, "%s_by", prefix[x->t]);
    json_object_set_new(doc, key, json_string(j->p->actor));
    if (x->t == T_ACCEPT || x->t == T_DECLINE) {
        int64_t sent, now;
        const char *sa = json_string_value(json_object_get(doc, "sent_at"));
        if (sa && clock_parse(sa, &sent) == 0 && clock_parse(j->now, &now) == 0)
            json_object_set_new(doc, "response_hours",
                                json_real(round((double)(now - sent) / 36.0) / 100.0));
        json_object_set_new(doc, "answered_at", json_string(j->now));
        json_object_set_new(doc, "answered_on_time", json_boolean(strcmp(j->now, r->due) <= 0));
    }
    if (x->t == T_DECLINE) {
        json_object_set(doc, "decline_reason", (json_t *)reason);
        if (details)
            json_object_set(doc, "decline_details", (json_t *)details);
    } else if (x->t == T_CANCEL) {
        json_object_set(doc, "cancel_reason", (json_t *)reason);
        if (details)
            json_object_set(doc, "cancel_details", (json_t *)details);
    } else if (x->t == T_COMPLETE) {
        json_object_set(doc, "outcome", (json_t *)reason);
        if (details)
            json_object_set(doc, "outcome_notes", (json_t *)details);
    }
    history_add(doc, to, j->now, j->p, json_string_value(reason), details);
    snprintf(r->status, sizeof r->status, "%s", to);
    rc_record_touch(r, j->p, j->now);
    rc = store_tx_record_put(tx, r, expected);
    if (rc == STORE_OK && x->t != T_COMPLETE) { /* answered or withdrawn: no longer pending */
        char pending[40];
        rc_key_uid(r->case_uid, r->org2, pending);
        rc = store_tx_record_delete(tx, PENDING_KIND, pending);
        if (rc == STORE_NOTFOUND)
            rc = STORE_OK;
    }
    if (rc == STORE_OK && x->t == T_ACCEPT) {
        store_row row;
        rc = store_tx_case_get(tx, r->case_uid, &row);
        if (rc == STORE_OK) {
            rc = store_tx_case_grant(tx, row.id, r->org2, r->uid, j->now);
            store_row_release(&row);
        }
    }
    if (rc == STORE_OK) {
        json_t *detail = json_pack("{s:s, s:s, s:s, s:s}", "case", r->case_uid, "from", r->org,
                                   "to", r->org2, "status", to);
        if (reason)
            json_object_set(detail, x->t == T_COMPLETE ? "outcome" : "reason", (json_t *)reason);
        rc = audit_tx(tx, j->p, audit_action[x->t], "referral", r->uid, detail);
        json_decref(detail);
    }
    if (rc != STORE_OK)
        return rc_job_store_fail(j, rc, "referral");
    return sync_case_tx(j, tx, r->case_uid);
}

static amp_code transition_run(core *c, const principal *p, transition t, const char *id,
                               const json_t *body, int64_t if_match, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_UPDATE, RES_REFERRAL, err);
    if (code != AMP_OK)
        return code;
    static const rc_field answer_fields[][3] = {
        [T_ACCEPT] = {{NULL, 0, NULL, false, false, 0, 0}},
        [T_DECLINE] = {{"reason", RF_CODE, "decline_reasons", true, false, 0, 0},
                       {"details", RF_LONGTEXT, NULL, false, true, 0, 2000},
                       {NULL, 0, NULL, false, false, 0, 0}},
        [T_COMPLETE] = {{"outcome", RF_CODE, "referral_outcomes", true, false, 0, 0},
                        {"notes", RF_LONGTEXT, NULL, false, true, 0, 2000},
                        {NULL, 0, NULL, false, false, 0, 0}},
        [T_CANCEL] = {{"reason", RF_CODE, "cancel_reasons", true, false, 0, 0},
                      {"details", RF_LONGTEXT, NULL, false, true, 0, 2000},
                      {NULL, 0, NULL, false, false, 0, 0}},
    };
    json_t *empty = body ? NULL : json_object();
    const json_t *b = body ? body : empty;
    static const char *const allow[] = {"version", NULL};
    rc_check(c, p, answer_fields[t], b, true, allow, err);
    trans_ctx x = {.t = t, .id = id, .body = b};
    if (json_array_size(err->fields) == 0 &&
        rc_take_version(b, if_match, &x.version, &x.from_header, err) != AMP_OK) {
        json_decref(empty);
        return err->code;
    }
    if (json_array_size(err->fields)) {
        json_decref(empty);
        return rc_invalid(p, err);
    }
    if ((code = rc_identity_write(p, answer_fields[t], b, ACT_UPDATE, err)) != AMP_OK) {
        json_decref(empty);
        return code;
    }
    if (!id || strlen(id) >= sizeof x.rec.uid) {
        json_decref(empty);
        return rc_fail(err, p, AMP_ENOTFOUND, "nf.referral", id);
    }
    rc_job j;
    rc_job_init(&j, c, p, job_transition, &x, err);
    code = rc_job_run(&j);
    json_decref(empty);
    if (code == AMP_OK) {
        char now[32];
        clock_now(now);
        *out = referral_json(c, p, &x.rec, now, true);
    }
    store_record_release(&x.rec);
    return code;
}

amp_code referrals_accept(core *c, const principal *p, const char *id, const json_t *body,
                          int64_t if_match, json_t **out, amp_err *err)
{
    return transition_run(c, p, T_ACCEPT, id, body, if_match, out, err);
}

amp_code referrals_decline(core *c, const principal *p, const char *id, const json_t *body,
                           int64_t if_match, json_t **out, amp_err *err)
{
    return transition_run(c, p, T_DECLINE, id, body, if_match, out, err);
}

amp_code referrals_complete(core *c, const principal *p, const char *id, const json_t *body,
                            int64_t if_match, json_t **out, amp_err *err)
{
    return transition_run(c, p, T_COMPLETE, id, body, if_match, out, err);
}

amp_code referrals_cancel(core *c, const principal *p, const char *id, const json_t *body,
                          int64_t if_match, json_t **out, amp_err *err)
{
    return transition_run(c, p, T_CANCEL, id, body, if_match, out, err);
}

/* ==== flows ============================================================================ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    char from[72], to[72];
    int counts[5], overdue, cross_border, total;
    double *times;
    int ntimes, captimes;
} flow;

static void add_time(flow *f, double h)
{
    if (f->ntimes == f->captimes) {
        int cap = f->captimes ? f->captimes * 2 : 8;
        double *g = realloc(f->times, (size_t)cap * sizeof *g);
        if (!g)
            return;
        f->times = g;
        f->captimes = cap;
    }
    f->times[f->ntimes++] = h;
}

static json_t *times_json(double *t, int n)
{
    if (n == 0)
        return json_pack("{s:n, s:n, s:i}", "median_hours", "mean_hours", "answered", 0);
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += t[i];
    double median = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    return json_pack("{s:f, s:f, s:i}", "median_hours", round(median * 100) / 100, "mean_hours",
                     round(sum / n * 100) / 100, "answered", n);
}

amp_code referrals_flows(core *c, const principal *p, const list_param *params, size_t n,
                         json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_REFERRAL, err);
    if (code != AMP_OK)
        return code;
    static const char *const known[] = {"from", "to", NULL};
    const char *bad = rc_unknown_param(params, n, known);
    if (bad)
        return rc_unknown_param_error(p, bad, err);
    const char *from = rc_param(params, n, "from"), *to = rc_param(params, n, "to");
    if (from && (strlen(from) != 10 || !validate_date(from)))
        amp_err_field(err, "from", "date", "from must be a date YYYY-MM-DD");
    if (to && (strlen(to) != 10 || !validate_date(to)))
        amp_err_field(err, "to", "date", "to must be a date YYYY-MM-DD");
    if (json_array_size(err->fields))
        return rc_fail(err, p, AMP_EINVALID, "invalid", NULL);
    if (!rc_is_coordinator(p) && !p->org[0])
        return rc_fail(err, p, AMP_EFORBIDDEN, "no_org", NULL);
    store_record_query q = {.kind = KIND};
    if (!rc_is_coordinator(p))
        q.org_any = p->org;
    store_record *rows = NULL;
    int nrows = 0;
    if (store_record_list(core_store(c), &q, &rows, &nrows, NULL) != STORE_OK)
        return rc_fail(err, p, AMP_EINTERNAL, "storage", NULL);
    char now[32];
    clock_now(now);
    flow *flows = NULL;
    int nflows = 0;
    flow all = {0};
    for (int i = 0; i < nrows; i++) {
        store_record *r = &rows[i];
        const char *sent = json_string_value(json_object_get(r->doc, "sent_at"));
        if (!sent)
            sent = r->created_at;
        bool in = (!from || strncmp(sent, from, 10) >= 0) && (!to || strncmp(sent, to, 10) <= 0);
        flow *f = NULL;
        for (int k = 0; in && k < nflows && !f; k++) {
            if (!strcmp(flows[k].from, r->org) && !strcmp(flows[k].to, r->org2))
                f = &flows[k];
        }
        if (in && !f) {
            flow *g = realloc(flows, (size_t)(nflows + 1) * sizeof *g);
            if (g) {
                flows = g;
                f = &flows[nflows++];
                memset(f, 0, sizeof *f);
                snprintf(f->from, sizeof f->from, "%s", r->org);
                snprintf(f->to, sizeof f->to, "%s", r->org2);
            }
        }
        if (f) {
            static const char *const st[] = {"Sent", "Accepted", "Declined", "Completed",
                                             "Cancelled"};
            for (int k = 0; k < 5; k++) {
                if (!strcmp(r->status, st[k])) {
                    f->counts[k]++;
                    all.counts[k]++;
                }
            }
            f->total++;
            all.total++;
            if (referrals_is_overdue(r, now)) {
                f->overdue++;
                all.overdue++;
            }
            if (json_is_true(json_object_get(r->doc, "cross_border"))) {
                f->cross_border++;
                all.cross_border++;
            }
            const json_t *h = json_object_get(r->doc, "response_hours");
            if (json_is_number(h)) {
                add_time(f, json_number_value(h));
                add_time(&all, json_number_value(h));
            }
        }
        store_record_release(r);
    }
    free(rows);
    json_t *items = json_array();
    for (int k = 0; k < nflows; k++) {
        flow *f = &flows[k];
        json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "from_org",
                              f->from, "to_org", f->to, "total", f->total, "sent", f->counts[0],
                              "accepted", f->counts[1], "declined", f->counts[2], "completed",
                              f->counts[3], "cancelled", f->counts[4], "overdue", f->overdue,
                              "cross_border", f->cross_border);
        json_t *tj = times_json(f->times, f->ntimes);
        json_object_update(o, tj);
        json_decref(tj);
        json_array_append_new(items, o);
        free(f->times);
    }
    free(flows);
    json_t *totals = json_pack(
        "{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "total", all.total, "sent", all.counts[0],
        "accepted", all.counts[1], "declined", all.counts[2], "completed", all.counts[3],
        "cancelled", all.counts[4], "overdue", all.overdue, "cross_border", all.cross_border);
    json_t *tt = times_json(all.times, all.ntimes);
    json_object_update(totals, tt);
    json_decref(tt);
    free(all.times);
    *out =
        json_pack("{s:o, s:o, s:o, s:o}", "items", items, "totals", totals, "from",
                  from ? json_string(from) : json_null(), "to", to ? json_string(to) : json_null());
    return AMP_OK;
}

/* ==== picklists ========================================================================= */

amp_code referrals_picklists(core *c, const principal *p, json_t **out, amp_err *err)
{
    (void)p, (void)err;
    rc_settings s;
    rc_settings_get(c, &s);
    json_t *lists = json_deep_copy(json_object_get(rc_document(), "picklists"));
    json_object_set(lists, "indicators", s.indicators);
    json_t *settings = rc_settings_json(&s);
    json_object_del(settings, "calendars");
    json_object_del(settings, "indicators");
    rc_settings_release(&s);
    *out = json_pack("{s:o, s:o, s:[ssss]}", "picklists", lists, "settings", settings, "languages",
                     "en", "es", "fr", "uk");
    return AMP_OK;
}
