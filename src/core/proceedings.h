/* proceedings.h — criminal proceedings linked to a case.
 *
 * A proceeding (record kind "proceeding": case_uid = the victim's case, org =
 * the organisation following it, status Open / Closed, due = the date it was
 * opened) moves through dated stages — Complaint, Investigation, Prosecution,
 * Trial, Verdict, Sentence, Appeal, Compensation, Closed — with the victim's
 * role (witness, civil party, complainant), protection measures, the verdict,
 * sentence and compensation.  Perpetrators are the case's HTCDS perpetrator
 * records ("per_" fields, case children of kind "perpetrator"): a proceeding
 * links them by id with their standing (suspect, accused, convicted…) instead
 * of copying them.  File numbers, stage notes and sentence details are
 * identity-level.
 *
 * Access: RES_PROCEEDING in the matrix and the case through cases_access. */
#ifndef AMPARO_PROCEEDINGS_H
#define AMPARO_PROCEEDINGS_H

#include "core/core.h"

/** Opens a proceeding; body.case names the case (id or reference). */
amp_code proceedings_create(core *c, const principal *p, const json_t *body, core_done_fn done,
                            void *arg, amp_err *err);

/** Applies a merge patch (version from if_match or the body). */
amp_code proceedings_update(core *c, const principal *p, const char *id, const json_t *patch,
                            int64_t if_match, core_done_fn done, void *arg, amp_err *err);

amp_code proceedings_get(core *c, const principal *p, const char *id, json_t **out, amp_err *err);

/** Proceedings p may see.  Parameters: case, status (Open, Closed), stage,
 *  verdict, org, opened_from, opened_to, limit, offset. */
amp_code proceedings_list(core *c, const principal *p, const list_param *params, size_t n,
                          json_t **out, amp_err *err);

/** The proceedings of one case. */
amp_code proceedings_of_case(core *c, const principal *p, const char *case_key, json_t **out,
                             amp_err *err);

/** Figures (read on RES_REPORT): proceedings opened in the period, by
 *  current stage, verdicts and convictions in it, perpetrators convicted,
 *  victims as witnesses or civil parties, protection measures, compensation
 *  awarded and paid by currency.  Parameters: period or from/to, org. */
amp_code proceedings_stats(core *c, const principal *p, const list_param *params, size_t n,
                           json_t **out, amp_err *err);

#endif
