/* returns.h — assisted voluntary return and family reunification.
 *
 * A return (record kind "return": case_uid = the person's case, org = the
 * organisation that organises it, org2 = the receiving organisation in the
 * country of return, status Planned / InProgress / Completed / Cancelled, due =
 * the departure date) holds the route (departure and destination country and
 * city), dates, escort, travel documents, the family tracing result and the
 * reunification (date and with whom).  Family contacts, escort details and
 * notes are identity-level.
 *
 * Handing the case to a receiving organisation in another country than the
 * case's registration country is a cross-border sharing: it needs the person's
 * consent (consent_check with CONSENT_CROSS_BORDER; children: guardian consent
 * or a best-interest decision).  The referral itself is made through the
 * referral module; its id may be recorded in "receiving_referral".
 *
 * Access: RES_RETURN in the matrix, and the case through cases_access. */
#ifndef AMPARO_RETURNS_H
#define AMPARO_RETURNS_H

#include "core/core.h"

/** Records a return or reunification for the case.  Asynchronous (core.h). */
amp_code returns_create(core *c, const principal *p, const char *case_key, const json_t *body,
                        core_done_fn done, void *arg, amp_err *err);

/** Applies a merge patch (version from if_match or the body). */
amp_code returns_update(core *c, const principal *p, const char *case_key, const char *id,
                        const json_t *patch, int64_t if_match, core_done_fn done, void *arg,
                        amp_err *err);

amp_code returns_get(core *c, const principal *p, const char *case_key, const char *id,
                     json_t **out, amp_err *err);

/** The case's returns, oldest first: *out = {"items", "total", "limit", "offset"}. */
amp_code returns_list(core *c, const principal *p, const char *case_key, json_t **out,
                      amp_err *err);

/** The figures of a period straight from the records (needs read on
 *  RES_REPORT): victims registered, foreign victims (no citizenship equal to
 *  the registration country) by citizenship, persons helped to return home
 *  (completed returns that departed in the period) by destination,
 *  reunifications, minors reunited and minors reunited abroad (a child when
 *  identified or on the reunification date; destination outside the
 *  registration country).
 *  Persons are counted once.  Parameters: period or from/to, org (owner of the
 *  cases). */
amp_code returns_stats(core *c, const principal *p, const list_param *params, size_t n,
                       json_t **out, amp_err *err);

#endif
