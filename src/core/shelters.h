/* shelters.h — shelters, admissions, stays and the waiting list.
 *
 * A shelter (record kind "shelter", org = the organisation that runs it) has
 * places by kind (Women, Men, Children, Families), a cost per night by kind of
 * place, a region and an address (identity-level: only roles that may see
 * identity get it).  A stay (kind "stay": case_uid = the person's case, org =
 * the shelter's organisation, org2 = the shelter's id, status Waiting /
 * Admitted / Discharged / Cancelled, due = planned discharge) occupies places of
 * one kind from admission to discharge.
 *
 * Capacity is decided inside the write job: each shelter has a companion
 * record (kind "shelter_load") counting the places taken by kind, read and
 * rewritten in the same transaction as the stay, so two admissions racing for
 * the last place cannot both succeed.  An admission beyond capacity is refused
 * (AMP_ESTATE with a field error of rule "over_capacity" naming the kind of
 * place) unless the body asks for "waiting_list": true, which records a
 * Waiting stay instead.  One person has at most one open stay, checked the same
 * way through a "stay_open" marker record.
 *
 * Who may do what: reading shelters and their figures needs read on
 * RES_SHELTER; creating and changing shelters and stays needs create/update on
 * RES_SHELTER and belonging to the shelter's organisation; admitting a person
 * also needs access to their case (cases_access).  Stays are listed in full to
 * the shelter's organisation, and to others only for cases in their scope.
 *
 * Writes are asynchronous (see core.h); wrap them with care_wait_* to wait. */
#ifndef AMPARO_SHELTERS_H
#define AMPARO_SHELTERS_H

#include "core/core.h"

/** Creates a shelter.  body: name, capacity {kind: places}, cost_per_night
 *  {kind: amount}, currency, country, region, city, address, contact,
 *  services, supported_by, opened_on, closed_on, notes; "org" defaults to p's
 *  organisation (only internal principals may name another). */
amp_code shelters_create(core *c, const principal *p, const json_t *body, core_done_fn done,
                         void *arg, amp_err *err);

/** Applies a merge patch to a shelter (version from if_match or the body).
 *  Capacity may not drop below the places taken now. */
amp_code shelters_update(core *c, const principal *p, const char *id, const json_t *patch,
                         int64_t if_match, core_done_fn done, void *arg, amp_err *err);

/** A shelter with its current occupancy ("occupied", "free" by kind): *out new. */
amp_code shelters_get(core *c, const principal *p, const char *id, json_t **out, amp_err *err);

/** Lists shelters.  Parameters: org, country, region, city, kind (has places
 *  of this kind), available (true: a free place of `kind`, or of any kind),
 *  open (true: not closed), limit, offset. */
amp_code shelters_list(core *c, const principal *p, const list_param *params, size_t n,
                       json_t **out, amp_err *err);

/** Occupancy of a shelter.  Without from/to: now, by kind (capacity, occupied,
 *  free) and the waiting list's length.  With from and/or to (and step = day,
 *  week or month; default day up to 62 days, else month): a series of buckets
 *  {from, to, days, bed_nights, average, peak, rate, by_kind}. */
amp_code shelters_occupancy(core *c, const principal *p, const char *id, const list_param *params,
                            size_t n, json_t **out, amp_err *err);

/** Occupancy of all shelters together (filters: org, country, region), now
 *  or over time as shelters_occupancy, against their summed capacity.  Needs
 *  read on RES_SHELTER or RES_REPORT (the dashboard's "shelter occupancy over
 *  time"); no record is shown. */
amp_code shelters_occupancy_all(core *c, const principal *p, const list_param *params, size_t n,
                                json_t **out, amp_err *err);

/** Figures over stays: admissions in the period, length of stay of the stays
 *  discharged in it (mean, median, min, max, distribution in months), discharge
 *  reasons, bed-nights and occupancy rate in the period, cost per stay and in
 *  total (by currency), and the same for each shelter ("by_shelter").  Parameters: period or
 * from/to, shelter, org, kind. */
amp_code shelters_stats(core *c, const principal *p, const list_param *params, size_t n,
                        json_t **out, amp_err *err);

/** Admits the case body.case into the shelter `shelter_id`.  body: case (id or
 *  reference), place_kind, places (default 1), admitted_on (default today),
 *  planned_discharge, referred_by, notes, waiting_list (true: when full, put
 *  the person on the waiting list instead of refusing). */
amp_code stays_admit(core *c, const principal *p, const char *shelter_id, const json_t *body,
                     core_done_fn done, void *arg, amp_err *err);

/** Discharges an admitted stay.  body: discharged_on (default today),
 *  discharge_reason, notes.  A stay not Admitted: AMP_ESTATE; a discharge
 *  before the admission: AMP_EINVALID (rule date_order). */
amp_code stays_discharge(core *c, const principal *p, const char *stay_id, const json_t *body,
                         core_done_fn done, void *arg, amp_err *err);

/** Admits a Waiting stay (capacity checked as for an admission).  body:
 *  admitted_on, planned_discharge (optional). */
amp_code stays_admit_waiting(core *c, const principal *p, const char *stay_id, const json_t *body,
                             core_done_fn done, void *arg, amp_err *err);

/** Takes a Waiting stay off the waiting list.  body: reason (optional text). */
amp_code stays_cancel(core *c, const principal *p, const char *stay_id, const json_t *body,
                      core_done_fn done, void *arg, amp_err *err);

/** Changes planned_discharge, referred_by or notes of a stay (merge patch with
 *  a version). */
amp_code stays_update(core *c, const principal *p, const char *stay_id, const json_t *patch,
                      int64_t if_match, core_done_fn done, void *arg, amp_err *err);

amp_code stays_get(core *c, const principal *p, const char *stay_id, json_t **out, amp_err *err);

/** Stays of a shelter.  Parameters: status (comma-separated), case, kind,
 *  planned_before (planned discharge before a date: who leaves soon, ordered by
 *  it), limit, offset.  Otherwise in the order they were recorded. */
amp_code stays_list(core *c, const principal *p, const char *shelter_id, const list_param *params,
                    size_t n, json_t **out, amp_err *err);

/** The shelter's waiting list, first come first served, with each entry's
 *  position. */
amp_code stays_waiting_list(core *c, const principal *p, const char *shelter_id, json_t **out,
                            amp_err *err);

/** Stays of a case (every shelter), for those with access to the case. */
amp_code stays_of_case(core *c, const principal *p, const char *case_key, json_t **out,
                       amp_err *err);

/** Nights a stay covers within [from, to] (inclusive dates); an open stay runs
 *  until `today`.  Exposed for the indicators and tests. */
int shelters_stay_nights(const json_t *stay_doc, const char *from, const char *to,
                         const char *today);

#endif
