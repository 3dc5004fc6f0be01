/* hotline.h — hotline contacts (a police 101 line, an NGO helpline…).
 *
 * A contact records the channel, caller type, place, language, a summary,
 * the trafficking indicators observed (a configurable checklist), urgency and
 * outcome.  Repeat contacts about the same situation attach to the same record
 * ("contacts").  One call turns a contact into a potential-victim case owned by
 * the hotline's organisation, linked both ways (the contact's "case"; the
 * case's contacts at GET /cases/:id/hotline-contacts).  Figures: contacts by
 * channel, caller type, outcome, urgency and indicator, and time to referral.
 *
 * Records: kind "hotline_contact", org = the hotline's organisation, case_uid,
 * status = outcome, due = when it was received.  The summary, caller contact
 * and place details are identity-level: only roles that see identity read them. */
#ifndef AMPARO_HOTLINE_H
#define AMPARO_HOTLINE_H

#include "core/core.h"

/** Lists contacts.  Parameters: channel, caller_type, outcome, urgency, from,
 *  to (received dates), case, limit, offset; newest first. */
amp_code hotline_list(core *c, const principal *p, const list_param *params, size_t n, json_t **out,
                      amp_err *err);

/** Logs a contact.  body: {"channel", "caller_type", "received_at"?, "place"?,
 *  "place_country"?, "language"?, "summary"?, "caller_contact"?, "indicators"?,
 *  "urgency", "outcome"?, "referred_to"?}. */
amp_code hotline_create(core *c, const principal *p, const json_t *body, json_t **out,
                        amp_err *err);

amp_code hotline_get(core *c, const principal *p, const char *id, json_t **out, amp_err *err);

/** Merge patch (version required). */
amp_code hotline_update(core *c, const principal *p, const char *id, const json_t *patch,
                        int64_t if_match, json_t **out, amp_err *err);

/** Attaches a repeat contact: body {"channel", "received_at"?, "summary"?,
 *  "indicators"?, "urgency"?, "outcome"?}; the record's indicators gain the new
 *  ones and its urgency and outcome follow the latest contact. */
amp_code hotline_repeat(core *c, const principal *p, const char *id, const json_t *body,
                        json_t **out, amp_err *err);

/** Opens a potential-victim case from a contact.  body: case fields (may be
 *  empty) for cases_create; vic_TraffickingStatus defaults to
 *  PossibleVictimOfTrafficking, the owner to the hotline's organisation, the
 *  language to the contact's.  *out: {"contact": …, "case": {id, reference}}. */
amp_code hotline_open_case(core *c, const principal *p, const char *id, const json_t *body,
                           json_t **out, amp_err *err);

/** Figures.  Parameters: from, to (dates), org (coordinators). */
amp_code hotline_stats(core *c, const principal *p, const list_param *params, size_t n,
                       json_t **out, amp_err *err);

/** The contacts linked to a case. */
amp_code hotline_of_case(core *c, const principal *p, const char *case_key, json_t **out,
                         amp_err *err);

#endif
