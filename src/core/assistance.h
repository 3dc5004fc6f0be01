/* assistance.h — assistance given to a person: shelter, medical, psychosocial,
 * crisis intervention, legal aid, interview (with the interview checklist),
 * interpretation, education, vocational training, income generation, family
 * tracing and reunification, assisted voluntary return, reintegration grant,
 * documents, other — each with its provider, dates, status, outcome and cost,
 * linked to the support plan (HTCDS spl_) it carries out and to the referral it
 * answers.
 *
 * Records: kind "assistance", case_uid = the case, org = the organisation that
 * recorded it (only it may change or delete it), org2 = the provider, status,
 * due = the planned end date.  Access follows the case (cases_access) and the
 * RES_ASSISTANCE row of the matrix; notes are identity-level text. */
#ifndef AMPARO_ASSISTANCE_H
#define AMPARO_ASSISTANCE_H

#include "core/core.h"

/** The case's assistance, oldest first: {"items", "total", "limit", "offset",
 *  "cost": {currency: sum}, "support_plans": {plan id: [assistance ids]}}. */
amp_code assistance_list(core *c, const principal *p, const char *case_key, json_t **out,
                         amp_err *err);

/** Records assistance.  body: {"type", "provider_org"?, "start_date",
 *  "planned_end_date"?, "end_date"?, "status"?, "outcome"?, "cost"?, "currency"?,
 *  "support_plan"?, "referral"?, "interview_checklist"?, "notes"?}. */
amp_code assistance_create(core *c, const principal *p, const char *case_key, const json_t *body,
                           json_t **out, amp_err *err);

amp_code assistance_get(core *c, const principal *p, const char *case_key, const char *id,
                        json_t **out, amp_err *err);

/** Applies a merge patch (version required: if_match or body "version"). */
amp_code assistance_update(core *c, const principal *p, const char *case_key, const char *id,
                           const json_t *patch, int64_t if_match, json_t **out, amp_err *err);

/** Deletes a record (version required). */
amp_code assistance_delete(core *c, const principal *p, const char *case_key, const char *id,
                           int64_t if_match, json_t **out, amp_err *err);

#endif
