/* lifecycle.c — identification decisions, closure and reopening, tasks (see lifecycle.h). */
#include "core/lifecycle.h"

#include "core/audit.h"
#include "core/refcommon.h"
#include "core/referrals.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DECISION "decision"
#define IDENT "identification"
#define EVENT "case_event"
#define TASK "task"

static const char *sv(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* ==== identification ==================================================== */

static const rc_field decision_fields[] = {
    {"kind", RF_CODE, "decision_kinds", true, false, 0, 0},
    {"outcome", RF_CODE, "decision_outcomes", true, false, 0, 0},
    {"decision_maker", RF_TEXT, NULL, true, false, 0, 64},
    {"deciding_org", RF_ORG, NULL, false, false, 0, 0},
    {"decided_on", RF_DATE, NULL, false, false, 0, 0},
    {"notes", RF_LONGTEXT, NULL, false, true, 0, 10000},
    {NULL, 0, NULL, false, false, 0, 0},
};

/* The calendar of the case owner's country (or the registration country). */
static void case_calendar(core *c, const rc_settings *s, const store_row *row, workdays_cal *cal)
{
    char cc[3] = "";
    rc_org_country(c, row->owner_org, cc);
    if (!cc[0]) {
        const char *rc = sv(row->doc, "amp_RegistrationCountry");
        snprintf(cc, sizeof cc, "%s", rc ? rc : "");
    }
    rc_calendar(s, cc, cal);
}

static void fmt_day(int64_t d, char out[11])
{
    workdays_format(d, out);
}

/* Where identification stands when no decision was recorded yet. */
static json_t *initial_state(core *c, const rc_settings *s, const store_row *row)
{
    workdays_cal cal;
    case_calendar(c, s, row, &cal);
    int64_t reg = workdays_day(row->registered_on[0] ? row->registered_on : row->created_at);
    char due[11];
    fmt_day(workdays_add(&cal, reg, s->initial_decision_working_days), due);
    return json_pack("{s:s, s:s}", "stage", "AwaitingInitial", "initial_due", due);
}

typedef struct {
    const store_row *row;
    json_t *body;
    const char *decision_maker;
    store_record decision;
    json_t *state; /* the identification record's doc after the write */
    rc_settings *settings;
} decide_ctx;

static int job_decide(rc_job *j, store_tx *tx)
{
    decide_ctx *x = j->ctx;
    char uid[40];
    rc_key_uid(IDENT, x->row->uid, uid);
    store_record id = {0};
    int rc = store_tx_record_get(tx, IDENT, uid, &id);
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return rc_job_store_fail(j, rc, "identification");
    int64_t expected = rc == STORE_OK ? id.version : 0;
    if (rc == STORE_NOTFOUND) {
        rc_record_init(&id, IDENT, uid, j->p, j->now);
        snprintf(id.case_uid, sizeof id.case_uid, "%s", x->row->uid);
        snprintf(id.org, sizeof id.org, "%s", x->row->owner_org);
        id.doc = initial_state(j->c, x->settings, x->row);
    }
    const char *stage = sv(id.doc, "stage");
    const char *kind = sv(x->body, "kind"), *outcome = sv(x->body, "outcome");
    bool positive = strcmp(outcome, "Positive") == 0;
    int fail = 0;
    if (strcmp(stage, "Concluded") == 0)
        fail =
            rc_job_fail(j, AMP_ESTATE, "dec.concluded",
                        sv(id.doc, "trafficking_status") ? sv(id.doc, "trafficking_status") : "");
    else if (strcmp(kind, "Initial") == 0 && strcmp(stage, "AwaitingInitial") != 0)
        fail = rc_job_fail(j, AMP_ESTATE, "dec.initial_done", NULL);
    else if (strcmp(kind, "Conclusive") == 0 && strcmp(stage, "Reflection") != 0)
        fail = rc_job_fail(j, AMP_ESTATE, "dec.initial_first", NULL);
    if (fail) {
        store_record_release(&id);
        return fail;
    }
    const char *decided = sv(x->body, "decided_on");
    const char *status = !positive                      ? "NotAVictimOfTrafficking"
                         : strcmp(kind, "Initial") == 0 ? "PossibleVictimOfTrafficking"
                                                        : "ActualVictimOfTrafficking";
    json_t *st = json_object();
    if (strcmp(kind, "Initial") == 0 && positive) {
        workdays_cal cal;
        case_calendar(j->c, x->settings, x->row, &cal);
        int64_t d = workdays_day(decided);
        char ends[11], due[11];
        fmt_day(d + x->settings->reflection_period_days, ends);
        fmt_day(workdays_add(&cal, d + x->settings->reflection_period_days,
                             x->settings->conclusive_decision_working_days),
                due);
        json_object_set_new(st, "stage", json_string("Reflection"));
        json_object_set_new(st, "reflection_ends", json_string(ends));
        json_object_set_new(st, "conclusive_due", json_string(due));
        json_object_set(x->body, "reflection_ends", json_object_get(st, "reflection_ends"));
        json_object_set(x->body, "conclusive_due", json_object_get(st, "conclusive_due"));
        snprintf(id.due, sizeof id.due, "%s", due);
    } else {
        json_object_set_new(st, "stage", json_string("Concluded"));
        json_object_set_new(st, "concluded_on", json_string(decided));
        id.due[0] = '\0';
    }
    if (sv(id.doc, "initial_due"))
        json_object_set(st, "initial_due", json_object_get(id.doc, "initial_due"));
    json_object_set_new(st, "trafficking_status", json_string(status));
    json_object_set_new(x->body, "resulting_status", json_string(status));
    snprintf(id.status, sizeof id.status, "%s", sv(st, "stage"));
    json_decref(id.doc);
    id.doc = st;
    rc_record_touch(&id, j->p, j->now);
    rc = store_tx_record_put(tx, &id, expected);
    store_record *r = &x->decision;
    rc_record_init(r, DECISION, NULL, j->p, j->now);
    snprintf(r->case_uid, sizeof r->case_uid, "%s", x->row->uid);
    snprintf(r->org, sizeof r->org, "%s", sv(x->body, "deciding_org"));
    snprintf(r->status, sizeof r->status, "%s", kind);
    snprintf(r->due, sizeof r->due, "%s", decided);
    r->doc = json_incref(x->body);
    if (rc == STORE_OK)
        rc = store_tx_record_put(tx, r, 0);
    if (rc == STORE_OK) {
        json_t *detail = json_pack("{s:s, s:s, s:s, s:s}", "case", x->row->uid, "kind", kind,
                                   "outcome", outcome, "status", status);
        rc = audit_tx(tx, j->p, "decision.create", "decision", r->uid, detail);
        json_decref(detail);
    }
    x->state = json_incref(st);
    store_record_release(&id);
    if (rc != STORE_OK)
        return rc_job_store_fail(j, rc, "decision");
    /* the case's status follows the decision, in the same transaction */
    json_t *patch = json_pack("{s:s}", "vic_TraffickingStatus", status);
    json_t *maker = json_object_get(x->body, "decision_maker");
    if (maker)
        json_object_set(patch, "vic_TraffickingStatusDecisionMakingOrg", maker);
    rc = rc_job_case_patch(j, tx, x->row->uid, patch, true);
    json_decref(patch);
    return rc;
}

amp_code lifecycle_decide(core *c, const principal *p, const char *case_key, const json_t *body,
                          json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_CREATE, RES_LIFECYCLE, err);
    if (code != AMP_OK)
        return code;
    store_row row;
    if ((code = cases_access(c, p, case_key, ACT_UPDATE, &row, err)) != AMP_OK)
        return code;
    rc_settings s = {0};
    decide_ctx x = {.row = &row, .settings = &s};
    if (rc_check(c, p, decision_fields, body, true, NULL, err) == 0) {
        const cat_field *f =
            catalogue_field(core_catalogue(c), "case", "vic_TraffickingStatusDecisionMakingOrg");
        const char *dm = sv(body, "decision_maker");
        if (f && !cat_field_has_value(f, dm))
            amp_err_field(err, "decision_maker", "picklist",
                          "decision_maker: not a value of vic_TraffickingStatusDecisionMakingOrg "
                          "(Police, NGO, CourtOrProsecution, NonPoliceGovernmentalOrganization, "
                          "Other)");
        char today[11];
        clock_today(today);
        const char *d = sv(body, "decided_on");
        if (d && strcmp(d, today) > 0)
            amp_err_field(err, "decided_on", "not_future", "decided_on cannot be in the future");
    }
    if (json_array_size(err->fields)) {
        store_row_release(&row);
        return rc_invalid(p, err);
    }
    if ((code = rc_identity_write(p, decision_fields, body, ACT_CREATE, err)) != AMP_OK) {
        store_row_release(&row);
        return code;
    }
    x.body = json_deep_copy(body);
    char today[11];
    clock_today(today);
    if (!sv(x.body, "decided_on"))
        json_object_set_new(x.body, "decided_on", json_string(today));
    if (!sv(x.body, "deciding_org"))
        json_object_set_new(x.body, "deciding_org",
                            json_string(p->org[0] ? p->org : row.owner_org));
    json_object_set_new(x.body, "case", json_string(row.uid));
    rc_settings_get(c, &s);
    rc_job j;
    rc_job_init(&j, c, p, job_decide, &x, err);
    code = rc_job_run(&j);
    if (code == AMP_OK) {
        *out = rc_record_json(&x.decision);
        if (!authz_sees_identity(p))
            json_object_del(*out, "notes");
        json_object_set(*out, "identification", x.state);
    }
    json_decref(x.state);
    store_record_release(&x.decision);
    json_decref(x.body);
    rc_settings_release(&s);
    store_row_release(&row);
    return code;
}

amp_code lifecycle_decisions(core *c, const principal *p, const char *case_key, json_t **out,
                             amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_LIFECYCLE, err);
    if (code != AMP_OK)
        return code;
    store_row row;
    if ((code = cases_access(c, p, case_key, ACT_READ, &row, err)) != AMP_OK)
        return code;
    store_record_query q = {.kind = DECISION, .case_uid = row.uid};
    store_record *rows = NULL;
    int n = 0;
    if (store_record_list(core_store(c), &q, &rows, &n, NULL) != STORE_OK) {
        store_row_release(&row);
        return rc_fail(err, p, AMP_EINTERNAL, "storage", NULL);
    }
    json_t *items = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = rc_record_json(&rows[i]);
        if (!authz_sees_identity(p))
            json_object_del(o, "notes");
        json_array_append_new(items, o);
        store_record_release(&rows[i]);
    }
    free(rows);
    char uid[40];
    rc_key_uid(IDENT, row.uid, uid);
    store_record id;
    json_t *state;
    if (store_record_get(core_store(c), IDENT, uid, &id) == STORE_OK) {
        state = json_incref(id.doc);
        store_record_release(&id);
    } else {
        rc_settings s;
        rc_settings_get(c, &s);
        state = initial_state(c, &s, &row);
        rc_settings_release(&s);
    }
    char today[11];
    clock_today(today);
    json_t *st = json_deep_copy(state);
    json_decref(state);
    const char *due = sv(st, "conclusive_due");
    if (!due && strcmp(sv(st, "stage"), "AwaitingInitial") == 0)
        due = sv(st, "initial_due");
    json_object_set_new(
        st, "overdue",
        json_boolean(due && strcmp(due, today) < 0 && strcmp(sv(st, "stage"), "Concluded") != 0));
    *out = json_pack("{s:o, s:o}", "items", items, "identification", st);
    store_row_release(&row);
    return AMP_OK;
}

/* ==== closure and reopening =================================================== */

typedef struct {
    store_record event, task;
    bool with_task;
    const char *action;
    const json_t *patch; /* the case's status and closure reason */
} event_ctx;

static int job_event(rc_job *j, store_tx *tx)
{
    event_ctx *x = j->ctx;
    int rc = rc_job_case_patch(j, tx, x->event.case_uid, x->patch, false);
    if (rc != STORE_OK)
        return rc;
    rc = store_tx_record_put(tx, &x->event, 0);
    if (rc == STORE_OK && x->with_task)
        rc = store_tx_record_put(tx, &x->task, 0);
    if (rc == STORE_OK) {
        json_t *detail = json_pack("{s:s, s:s}", "case", x->event.case_uid, "action", x->action);
        rc = audit_tx(tx, j->p, x->action, "case", x->event.case_uid, detail);
        json_decref(detail);
    }
    return rc == STORE_OK ? STORE_OK : rc_job_store_fail(j, rc, "case event");
}

static amp_code case_event(core *c, const principal *p, const char *case_key, const json_t *body,
                           bool close, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_UPDATE, RES_LIFECYCLE, err);
    if (code != AMP_OK)
        return code;
    store_row row;
    if ((code = cases_access(c, p, case_key, ACT_UPDATE, &row, err)) != AMP_OK)
        return code;
    static const rc_field close_fields[] = {
        {"reason", RF_LONGTEXT, NULL, true, true, 0, 10000},
        {"kind", RF_CODE, "closure_kinds", false, false, 0, 0},
        {"follow_up", RF_DATE, NULL, false, false, 0, 0},
        {NULL, 0, NULL, false, false, 0, 0},
    };
    static const rc_field reopen_fields[] = {
        {"reason", RF_LONGTEXT, NULL, true, true, 0, 10000},
        {NULL, 0, NULL, false, false, 0, 0},
    };
    json_t *patch = NULL;
    if (rc_check(c, p, close ? close_fields : reopen_fields, body, true, NULL, err)) {
        code = rc_invalid(p, err);
        goto out;
    }
    const char *status = sv(row.doc, "cas_Status");
    bool closed = status && strncmp(status, "Closed", 6) == 0;
    if (close && closed) {
        code = rc_fail(err, p, AMP_ESTATE, "case.closed", NULL);
        goto out;
    }
    if (!close && !closed) {
        code = rc_fail(err, p, AMP_ESTATE, "case.not_closed", NULL);
        goto out;
    }
    if (close) { /* no closure while referrals of the case await an answer */
        store_record_query q = {.kind = "referral", .case_uid = row.uid, .status = "Sent"};
        store_record *rows = NULL;
        int n = 0;
        if (store_record_list(core_store(c), &q, &rows, &n, NULL) != STORE_OK) {
            code = rc_fail(err, p, AMP_EINTERNAL, "storage", NULL);
            goto out;
        }
        char ids[160] = "";
        for (int i = 0; i < n; i++) {
            size_t o = strlen(ids);
            if (i < 3)
                snprintf(ids + o, sizeof ids - o, "%s%s", i ? ", " : "", rows[i].uid);
            store_record_release(&rows[i]);
        }
        free(rows);
        if (n > 0) {
            code = rc_fail(err, p, AMP_ESTATE, "case.pending", ids);
            goto out;
        }
    }
    const char *kind = sv(body, "kind");
    const char *new_status = close ? (kind ? kind : "Closed") : "Active";
    patch = close ? json_pack("{s:s, s:O}", "cas_Status", new_status, "cas_ReasonForCaseClosure",
                              json_object_get(body, "reason"))
                  : json_pack("{s:s, s:n}", "cas_Status", new_status, "cas_ReasonForCaseClosure");
    /* the closure reason is free text of the case: only roles that write identity */
    if ((code = policy_identity_write(c, p, "case", patch, ACT_UPDATE, err)) != AMP_OK)
        goto out;
    event_ctx x = {.action = close ? "case.close" : "case.reopen", .patch = patch};
    rc_job j;
    rc_job_init(&j, c, p, job_event, &x, err);
    rc_record_init(&x.event, EVENT, NULL, p, j.now);
    snprintf(x.event.case_uid, sizeof x.event.case_uid, "%s", row.uid);
    snprintf(x.event.org, sizeof x.event.org, "%s", p->org[0] ? p->org : row.owner_org);
    snprintf(x.event.status, sizeof x.event.status, "%s", close ? "Closed" : "Reopened");
    snprintf(x.event.due, sizeof x.event.due, "%s", j.now);
    x.event.doc = json_pack("{s:s, s:s, s:s, s:O, s:s, s:s}", "case", row.uid, "action",
                            close ? "Close" : "Reopen", "cas_Status", new_status, "reason",
                            json_object_get(body, "reason"), "at", j.now, "by", p->actor);
    const char *fu = sv(body, "follow_up");
    if (close && fu) {
        x.with_task = true;
        json_object_set_new(x.event.doc, "follow_up", json_string(fu));
        rc_record_init(&x.task, TASK, NULL, p, j.now);
        snprintf(x.task.case_uid, sizeof x.task.case_uid, "%s", row.uid);
        snprintf(x.task.org, sizeof x.task.org, "%s", x.event.org);
        snprintf(x.task.status, sizeof x.task.status, "Open");
        snprintf(x.task.due, sizeof x.task.due, "%s", fu);
        x.task.doc = json_pack("{s:s, s:s, s:s, s:s}", "kind", "FollowUp", "case", row.uid,
                               "case_reference", row.reference, "due", fu);
    }
    code = rc_job_run(&j);
    if (code == AMP_OK) {
        *out = rc_record_json(&x.event);
        if (!authz_sees_identity(p))
            json_object_del(*out, "reason");
    }
    store_record_release(&x.event);
    store_record_release(&x.task);
out:
    json_decref(patch);
    store_row_release(&row);
    return code;
}

amp_code lifecycle_close(core *c, const principal *p, const char *case_key, const json_t *body,
                         json_t **out, amp_err *err)
{
    return case_event(c, p, case_key, body, true, out, err);
}

amp_code lifecycle_reopen(core *c, const principal *p, const char *case_key, const json_t *body,
                          json_t **out, amp_err *err)
{
    return case_event(c, p, case_key, body, false, out, err);
}

amp_code lifecycle_events(core *c, const principal *p, const char *case_key, json_t **out,
                          amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_LIFECYCLE, err);
    if (code != AMP_OK)
        return code;
    store_row row;
    if ((code = cases_access(c, p, case_key, ACT_READ, &row, err)) != AMP_OK)
        return code;
    store_record_query q = {.kind = EVENT, .case_uid = row.uid};
    store_row_release(&row);
    store_record *rows = NULL;
    int n = 0;
    if (store_record_list(core_store(c), &q, &rows, &n, NULL) != STORE_OK)
        return rc_fail(err, p, AMP_EINTERNAL, "storage", NULL);
    json_t *items = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = rc_record_json(&rows[i]);
        if (!authz_sees_identity(p))
            json_object_del(o, "reason");
        json_array_append_new(items, o);
        store_record_release(&rows[i]);
    }
    free(rows);
    *out = json_pack("{s:o, s:i, s:i, s:i}", "items", items, "total", n, "limit", n, "offset", 0);
    return AMP_OK;
}

/* ==== tasks =========================================================================== */

#define PLAN_SCAN_MAX 200 /* open cases whose support plans are checked per call */

typedef struct {
    json_t *items;
    const char *kind, *due_before, *now, *today, *lang;
} task_acc;

static void task_add(task_acc *a, const char *kind, const char *due, const char *case_uid,
                     const char *reference, const char *key, const char *id)
{
    if (a->kind && strcmp(a->kind, kind) != 0)
        return;
    if (a->due_before && due && strcmp(due, a->due_before) >= 0)
        return;
    bool overdue = due && (strlen(due) == 10 ? strcmp(due, a->today) < 0 : strcmp(due, a->now) < 0);
    json_t *t = json_pack("{s:s, s:s, s:s?, s:b, s:s?, s:s?}", "kind", kind, "label",
                          rc_label("task_kinds", kind, a->lang), "due", due, "overdue", overdue,
                          "case", case_uid && *case_uid ? case_uid : NULL, "case_reference",
                          reference && *reference ? reference : NULL);
    if (key && id)
        json_object_set_new(t, key, json_string(id));
    json_array_append_new(a->items, t);
}

static int cmp_due(const void *x, const void *y)
{
    const char *a = json_string_value(json_object_get(*(json_t *const *)x, "due"));
    const char *b = json_string_value(json_object_get(*(json_t *const *)y, "due"));
    return strcmp(a ? a : "~", b ? b : "~");
}

static void referral_tasks(core *c, task_acc *a, const char *org)
{
    store_record_query q = {.kind = "referral", .status = "Sent"};
    store_record *rows = NULL;
    int n = 0;
    q.org_any = org;
    if (store_record_list(core_store(c), &q, &rows, &n, NULL) != STORE_OK)
        return;
    for (int i = 0; i < n; i++) {
        store_record *r = &rows[i];
        const char *ref = sv(r->doc, "case_reference");
        if (!org || strcmp(r->org2, org) == 0)
            task_add(a, "ReferralAnswerDue", r->due, r->case_uid, ref, "referral", r->uid);
        if ((!org || strcmp(r->org, org) == 0) && referrals_is_overdue(r, a->now))
            task_add(a, "ReferralOverdue", r->due, r->case_uid, ref, "referral", r->uid);
        store_record_release(r);
    }
    free(rows);
}

static void record_tasks(core *c, task_acc *a, const char *org, bool sees)
{
    /* identification in reflection: conclusive decision due */
    store_record_query q = {.kind = IDENT, .org = org, .status = "Reflection"};
    store_record *rows = NULL;
    int n = 0;
    if (store_record_list(core_store(c), &q, &rows, &n, NULL) == STORE_OK) {
        for (int i = 0; i < n; i++) {
            store_row row;
            char ref[40] = "";
            if (store_case_get(core_store(c), rows[i].case_uid, &row, NULL) == STORE_OK) {
                snprintf(ref, sizeof ref, "%s", row.reference);
                store_row_release(&row);
            }
            task_add(a, "DecisionDue", rows[i].due, rows[i].case_uid, ref, NULL, NULL);
            store_record_release(&rows[i]);
        }
        free(rows);
    }
    /* assistance past its planned end */
    store_record_query qa = {
        .kind = "assistance", .org = org, .status = "Planned,InProgress", .due_before = a->today};
    if (store_record_list(core_store(c), &qa, &rows, &n, NULL) == STORE_OK) {
        for (int i = 0; i < n; i++) {
            task_add(a, "AssistanceEndPassed", rows[i].due, rows[i].case_uid,
                     sv(rows[i].doc, "case_reference"), "assistance", rows[i].uid);
            store_record_release(&rows[i]);
        }
        free(rows);
    }
    /* follow-up reminders */
    store_record_query qt = {.kind = TASK, .org = org, .status = "Open"};
    if (store_record_list(core_store(c), &qt, &rows, &n, NULL) == STORE_OK) {
        for (int i = 0; i < n; i++) {
            size_t before = json_array_size(a->items);
            task_add(a, "FollowUp", rows[i].due, rows[i].case_uid,
                     sv(rows[i].doc, "case_reference"), "task", rows[i].uid);
            json_t *t = json_array_get(a->items, before);
            if (t) {
                const char *note = sv(rows[i].doc, "note"), *who = sv(rows[i].doc, "assignee");
                if (note && sees)
                    json_object_set_new(t, "note", json_string(note));
                if (who)
                    json_object_set_new(t, "assignee", json_string(who));
            }
            store_record_release(&rows[i]);
        }
        free(rows);
    }
}

/* Cases of org: initial decisions due (possible victims without a decision) and
 * support plans past their planned end.  Bounded: see PLAN_SCAN_MAX. */
static bool case_tasks(core *c, const principal *p, task_acc *a, const char *org)
{
    principal sys = *p;
    sys.internal = true;
    list_param params[4] = {{"status", "Active,FollowUp"}, {"sort", "-updated"}, {"limit", "200"}};
    size_t np = 3;
    if (org)
        params[np++] = (list_param){"owner", org};
    json_t *list = NULL;
    amp_err e = {0};
    bool truncated = false;
    if (cases_list(c, &sys, params, np, &list, &e) != AMP_OK) {
        amp_err_clear(&e);
        return false;
    }
    truncated = json_integer_value(json_object_get(list, "total")) > PLAN_SCAN_MAX;
    rc_settings s;
    rc_settings_get(c, &s);
    size_t i;
    json_t *cs;
    json_array_foreach (json_object_get(list, "items"), i, cs) {
        const char *uid = sv(cs, "id"), *ref = sv(cs, "reference");
        if (!uid)
            continue;
        store_row row;
        json_t *children = NULL;
        if (store_case_get(core_store(c), uid, &row, &children) != STORE_OK)
            continue;
        const char *ts = sv(row.doc, "vic_TraffickingStatus");
        if (ts && strcmp(ts, "PossibleVictimOfTrafficking") == 0) {
            char iuid[40];
            rc_key_uid(IDENT, uid, iuid);
            store_record id;
            if (store_record_get(core_store(c), IDENT, iuid, &id) == STORE_OK) {
                store_record_release(&id);
            } else {
                json_t *st = initial_state(c, &s, &row);
                task_add(a, "DecisionDue", sv(st, "initial_due"), uid, ref, NULL, NULL);
                json_decref(st);
            }
        }
        size_t k;
        json_t *pl;
        json_array_foreach (json_object_get(children, "support_plan"), k, pl) {
            const json_t *d = json_object_get(pl, "doc");
            const char *end = sv(d, "spl_PlannedEndDate");
            if (end && !sv(d, "spl_ActualEndDate") && strcmp(end, a->today) < 0)
                task_add(a, "PlanEndPassed", end, uid, ref, "support_plan", sv(pl, "id"));
        }
        json_decref(children);
        store_row_release(&row);
    }
    rc_settings_release(&s);
    json_decref(list);
    return truncated;
}

amp_code tasks_list(core *c, const principal *p, const list_param *params, size_t n, json_t **out,
                    amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_LIFECYCLE, err);
    if (code != AMP_OK)
        return code;
    static const char *const known[] = {"due_before", "kind", "org", "limit", "offset", NULL};
    const char *bad = rc_unknown_param(params, n, known);
    if (bad)
        return rc_unknown_param_error(p, bad, err);
    int limit, offset;
    if ((code = rc_paging(p, rc_param(params, n, "limit"), rc_param(params, n, "offset"), &limit,
                          &offset, err)) != AMP_OK)
        return code;
    const char *kind = rc_param(params, n, "kind"), *due = rc_param(params, n, "due_before");
    const char *org = rc_param(params, n, "org");
    int64_t t;
    if (kind && !rc_picklist_has(c, "task_kinds", kind))
        amp_err_field(err, "kind", "list.value",
                      "kind: ReferralAnswerDue, ReferralOverdue, DecisionDue, PlanEndPassed, "
                      "AssistanceEndPassed or FollowUp");
    if (due && clock_parse(due, &t) != 0)
        amp_err_field(err, "due_before", "list.value",
                      "due_before must be a date YYYY-MM-DD or a UTC timestamp");
    if (json_array_size(err->fields))
        return rc_fail(err, p, AMP_EINVALID, "invalid", NULL);
    if (!p->internal) {
        if (!p->org[0])
            return rc_fail(err, p, AMP_EFORBIDDEN, "no_org", NULL);
        org = p->org; /* one's own organisation's tasks */
    }
    char now[32], today[11];
    clock_now(now);
    clock_today(today);
    task_acc a = {json_array(), kind, due, now, today, p->lang};
    referral_tasks(c, &a, org);
    record_tasks(c, &a, org, authz_sees_identity(p));
    bool truncated = false;
    if (!kind || !strcmp(kind, "DecisionDue") || !strcmp(kind, "PlanEndPassed"))
        truncated = case_tasks(c, p, &a, org);
    size_t total = json_array_size(a.items);
    json_t **v = calloc(total ? total : 1, sizeof *v);
    for (size_t i = 0; v && i < total; i++)
        v[i] = json_incref(json_array_get(a.items, i));
    if (v)
        qsort(v, total, sizeof *v, cmp_due);
    json_t *items = json_array();
    for (size_t i = 0; v && i < total; i++) {
        if (i >= (size_t)offset && i < (size_t)offset + (size_t)limit)
            json_array_append(items, v[i]);
        json_decref(v[i]);
    }
    free(v);
    json_decref(a.items);
    *out = json_pack("{s:o, s:i, s:i, s:i, s:b}", "items", items, "total", (int)total, "limit",
                     limit, "offset", offset, "truncated", truncated);
    return AMP_OK;
}

static int job_task(rc_job *j, store_tx *tx)
{
    store_record *r = j->ctx;
    int64_t expected = 0;
    if (r->version > 0) { /* done: re-read and check */
        char uid[40];
        snprintf(uid, sizeof uid, "%s", r->uid);
        store_record cur;
        int rc = store_tx_record_get(tx, TASK, uid, &cur);
        if (rc != STORE_OK || !rc_is_org(j->p, cur.org)) {
            if (rc == STORE_OK)
                store_record_release(&cur);
            return rc_job_fail(j, AMP_ENOTFOUND, "nf.task", uid);
        }
        if (strcmp(cur.status, "Done") == 0) {
            store_record_release(&cur);
            return rc_job_fail(j, AMP_ESTATE, "task.done", NULL);
        }
        store_record_release(r);
        *r = cur;
        expected = cur.version;
        snprintf(r->status, sizeof r->status, "Done");
        json_object_set_new(r->doc, "done_at", json_string(j->now));
        json_object_set_new(r->doc, "done_by", json_string(j->p->actor));
        rc_record_touch(r, j->p, j->now);
    }
    int rc = store_tx_record_put(tx, r, expected);
    if (rc == STORE_OK) {
        json_t *detail = json_pack("{s:s}", "case", r->case_uid);
        rc = audit_tx(tx, j->p, expected ? "task.done" : "task.create", "task", r->uid, detail);
        json_decref(detail);
    }
    return rc == STORE_OK ? STORE_OK : rc_job_store_fail(j, rc, "task");
}

static json_t *task_json(const principal *p, const store_record *r)
{
    json_t *o = rc_record_json(r);
    json_object_set_new(o, "status", json_string(r->status));
    if (!authz_sees_identity(p))
        json_object_del(o, "note");
    return o;
}

amp_code tasks_create(core *c, const principal *p, const json_t *body, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_CREATE, RES_LIFECYCLE, err);
    if (code != AMP_OK)
        return code;
    static const rc_field fields[] = {
        {"case", RF_TEXT, NULL, true, false, 0, 64},
        {"due", RF_DATE, NULL, true, false, 0, 0},
        {"note", RF_LONGTEXT, NULL, false, true, 0, 2000},
        {"assignee", RF_TEXT, NULL, false, false, 0, 72},
        {NULL, 0, NULL, false, false, 0, 0},
    };
    if (rc_check(c, p, fields, body, true, NULL, err))
        return rc_invalid(p, err);
    if ((code = rc_identity_write(p, fields, body, ACT_CREATE, err)) != AMP_OK)
        return code;
    store_row row;
    if ((code = cases_access(c, p, sv(body, "case"), ACT_UPDATE, &row, err)) != AMP_OK)
        return code;
    store_record r;
    rc_job j;
    rc_job_init(&j, c, p, job_task, &r, err);
    rc_record_init(&r, TASK, NULL, p, j.now);
    snprintf(r.case_uid, sizeof r.case_uid, "%s", row.uid);
    snprintf(r.org, sizeof r.org, "%s", p->org[0] ? p->org : row.owner_org);
    snprintf(r.status, sizeof r.status, "Open");
    snprintf(r.due, sizeof r.due, "%s", sv(body, "due"));
    r.doc = json_deep_copy(body);
    json_object_set_new(r.doc, "kind", json_string("FollowUp"));
    json_object_set_new(r.doc, "case", json_string(row.uid));
    json_object_set_new(r.doc, "case_reference", json_string(row.reference));
    store_row_release(&row);
    code = rc_job_run(&j);
    if (code == AMP_OK)
        *out = task_json(p, &r);
    store_record_release(&r);
    return code;
}

amp_code tasks_done(core *c, const principal *p, const char *id, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_UPDATE, RES_LIFECYCLE, err);
    if (code != AMP_OK)
        return code;
    if (!id || strlen(id) >= 40)
        return rc_fail(err, p, AMP_ENOTFOUND, "nf.task", id);
    store_record r = {0};
    snprintf(r.uid, sizeof r.uid, "%s", id);
    r.version = 1;
    rc_job j;
    rc_job_init(&j, c, p, job_task, &r, err);
    code = rc_job_run(&j);
    if (code == AMP_OK)
        *out = task_json(p, &r);
    store_record_release(&r);
    return code;
}
