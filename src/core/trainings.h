/* trainings.h — trainings, workshops, awareness campaigns and coordination
 * meetings.
 *
 * An event (record kind "training": org = the organiser, status = the kind of
 * event, due = the start date) has dates, a place (country, province, city),
 * audiences, topics and participants: a total, counts by sex and by type of
 * organisation (these must add up to the total), and optionally the named
 * participants from partner organisations — identity-level data, shown only to
 * roles allowed RES_CASE_IDENTITY.  Participants from public bodies (the
 * organisation types marked "official" in the picklist) count as officials
 * trained when the event is a Training or a Workshop.
 *
 * Access: RES_TRAINING in the matrix; changes by the organiser's organisation. */
#ifndef AMPARO_TRAININGS_H
#define AMPARO_TRAININGS_H

#include "core/core.h"

amp_code trainings_create(core *c, const principal *p, const json_t *body, core_done_fn done,
                          void *arg, amp_err *err);

amp_code trainings_update(core *c, const principal *p, const char *id, const json_t *patch,
                          int64_t if_match, core_done_fn done, void *arg, amp_err *err);

amp_code trainings_delete(core *c, const principal *p, const char *id, int64_t if_match,
                          core_done_fn done, void *arg, amp_err *err);

amp_code trainings_get(core *c, const principal *p, const char *id, json_t **out, amp_err *err);

/** Events, newest first.  Parameters: type, country, province, city (case
 *  insensitive), audience, topic, org, from, to (start date), limit, offset. */
amp_code trainings_list(core *c, const principal *p, const list_param *params, size_t n,
                        json_t **out, amp_err *err);

/** Figures over the matching events (same filters, or period): events by
 *  type, participants by sex, by organisation type, by city and province,
 *  officials trained, events by audience and topic. */
amp_code trainings_stats(core *c, const principal *p, const list_param *params, size_t n,
                         json_t **out, amp_err *err);

/** Officials trained in one event document (0 unless a Training or Workshop). */
long trainings_officials(const json_t *doc);

#endif
