/* lifecycle.h — a case's life: identification decisions, closure and
 * reopening, and the tasks and reminders caseworkers work from.
 *
 * Identification follows national referral mechanisms: an initial decision
 * (reasonable grounds) is due within a configurable number of working days of
 * registration; a positive one opens a recovery and reflection period
 * (configurable calendar days), after which a conclusive decision is due
 * within a configurable number of working days.  Decisions keep the case's
 * vic_TraffickingStatus and vic_TraffickingStatusDecisionMakingOrg in step:
 * initial positive → PossibleVictimOfTrafficking; conclusive positive →
 * ActualVictimOfTrafficking; a negative decision → NotAVictimOfTrafficking.
 * Deadlines use the calendar of the case owner's country.
 *
 * Records: "decision" (case_uid, org = deciding organisation, status = kind),
 * "case_event" (closure and reopening), "task" (reminders; org, due, status
 * Open/Done).  Case status (cas_Status) and closure reason are HTCDS fields
 * changed through the case API. */
#ifndef AMPARO_LIFECYCLE_H
#define AMPARO_LIFECYCLE_H

#include "core/core.h"

/** Records a decision.  body: {"kind": "Initial"|"Conclusive", "outcome":
 *  "Positive"|"Negative", "decision_maker": vic_TraffickingStatusDecisionMakingOrg
 *  code, "deciding_org"?, "decided_on"? (date, default today), "notes"?}.
 *  A conclusive decision needs a positive initial one; none after conclusion. */
amp_code lifecycle_decide(core *c, const principal *p, const char *case_key, const json_t *body,
                          json_t **out, amp_err *err);

/** The case's decisions and where identification stands: {"items": [...],
 *  "identification": {"stage", "initial_due", "reflection_ends",
 *  "conclusive_due", "overdue"}}. */
amp_code lifecycle_decisions(core *c, const principal *p, const char *case_key, json_t **out,
                             amp_err *err);

/** Closes a case: body {"reason" (free text, required), "kind"?: "Closed" |
 *  "ClosedReferred", "follow_up"?: date of a follow-up reminder}.  Refused while
 *  referrals of the case await an answer.  *out: the event. */
amp_code lifecycle_close(core *c, const principal *p, const char *case_key, const json_t *body,
                         json_t **out, amp_err *err);

/** Reopens a closed case (cas_Status Active): body {"reason"}. */
amp_code lifecycle_reopen(core *c, const principal *p, const char *case_key, const json_t *body,
                          json_t **out, amp_err *err);

/** The closure and reopening events of a case. */
amp_code lifecycle_events(core *c, const principal *p, const char *case_key, json_t **out,
                          amp_err *err);

/** The caller's organisation's tasks, soonest first: referrals to answer
 *  (ReferralAnswerDue) and overdue ones sent (ReferralOverdue), identification
 *  decisions due (DecisionDue), support plans and assistance whose planned end
 *  has passed (PlanEndPassed, AssistanceEndPassed) and follow-up reminders
 *  (FollowUp).  Parameters: due_before (date or timestamp), kind, limit, offset.
 *  Each task: {"kind", "due", "overdue", "case", "case_reference", "referral"?,
 *  "task"?}. */
amp_code tasks_list(core *c, const principal *p, const list_param *params, size_t n, json_t **out,
                    amp_err *err);

/** A follow-up reminder: body {"case", "due" (date), "note"?, "assignee"?}. */
amp_code tasks_create(core *c, const principal *p, const json_t *body, json_t **out, amp_err *err);

/** Marks a reminder done. */
amp_code tasks_done(core *c, const principal *p, const char *id, json_t **out, amp_err *err);

#endif
