/* referrals.h — referrals between organisations, also across borders.
 *
 * A referral sends a case from one organisation (the sender) to another (the
 * receiver) for services, with an urgency and a reason (HTCDS
 * cas_ReasonForOutgoingReferral).  Statuses:
 *
 *     Sent ──accept──▶ Accepted ──complete──▶ Completed
 *      │ └──decline (reason)──▶ Declined
 *      └──cancel (reason, sender)──▶ Cancelled
 *
 * Only the receiver accepts, declines and completes; only the sender cancels.
 * Every transition is timestamped with who made it and kept in the record's
 * "history".  Consent is checked before a referral is sent (cross-border when
 * the receiver's amp_OrgCountry differs from the case owner's).  The answer is
 * due within the emergency hours (Emergency) or the standard number of working
 * days on the receiver's calendar (Standard); a Sent referral past its due
 * time is overdue.  Accepting grants the receiver access to the case; until
 * then it sees only a summary without identity.  The case's HTCDS referral
 * fields follow its referrals: outgoing ones from the latest referral sent and
 * not declined or cancelled, incoming ones from the latest accepted.
 *
 * Records: kind "referral", org = sender, org2 = receiver, status, due = the
 * answer deadline.  All functions are synchronous: a write returns once durable. */
#ifndef AMPARO_REFERRALS_H
#define AMPARO_REFERRALS_H

#include "core/core.h"

/** Sends a referral.  body: {"case", "to_org", "services": [...], "urgency":
 *  "Emergency"|"Standard", "reason", "notes"?, "from_org"? (internal callers
 *  only)}.  *out: the referral. */
amp_code referrals_send(core *c, const principal *p, const json_t *body, json_t **out,
                        amp_err *err);

/** The transitions.  body may be NULL for accept; decline and cancel need
 *  {"reason": code, "details"?}, complete {"outcome": code, "notes"?}.  A version
 *  (if_match > 0 or body "version") is checked when given.  Illegal transitions
 *  answer AMP_ESTATE; the wrong organisation AMP_EFORBIDDEN. */
amp_code referrals_accept(core *c, const principal *p, const char *id, const json_t *body,
                          int64_t if_match, json_t **out, amp_err *err);
amp_code referrals_decline(core *c, const principal *p, const char *id, const json_t *body,
                           int64_t if_match, json_t **out, amp_err *err);
amp_code referrals_complete(core *c, const principal *p, const char *id, const json_t *body,
                            int64_t if_match, json_t **out, amp_err *err);
amp_code referrals_cancel(core *c, const principal *p, const char *id, const json_t *body,
                          int64_t if_match, json_t **out, amp_err *err);

/** One referral with "overdue" and a "case_summary" without identity.  Visible
 *  to the sender, the receiver and coordinators; free text (notes, details) only
 *  to roles that see identity, in the sender's organisation or — once accepted —
 *  the receiver's. */
amp_code referrals_get(core *c, const principal *p, const char *id, json_t **out, amp_err *err);

/** Lists referrals.  Parameters: box (inbox: received, outbox: sent, all:
 *  both; default all), status (comma-separated), overdue (true), urgency, case
 *  (id or reference), org (coordinators: one organisation's), limit, offset.
 *  Newest first. */
amp_code referrals_list(core *c, const principal *p, const list_param *params, size_t n,
                        json_t **out, amp_err *err);

/** Flows between organisations: per (from_org, to_org) the counts by status,
 *  overdue, cross-border, and answer times in hours (median, mean).  No case
 *  and no person appear.  Coordinators see every flow, others those of their
 *  organisation.  Parameters: from, to (sent dates, inclusive). */
amp_code referrals_flows(core *c, const principal *p, const list_param *params, size_t n,
                         json_t **out, amp_err *err);

/** The referral module's picklists (with the configured indicator checklist)
 *  and the deadline settings, labels in en/es/fr/uk. */
amp_code referrals_picklists(core *c, const principal *p, json_t **out, amp_err *err);

/** True when a referral record is Sent and its answer was due before now. */
bool referrals_is_overdue(const store_record *r, const char *now);

/** The referrals of a case (scoped like referrals_list), oldest first. */
amp_code referrals_of_case(core *c, const principal *p, const char *case_key, json_t **out,
                           amp_err *err);

#endif
