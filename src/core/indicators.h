/* indicators.h — programme and action-plan indicators with targets, and their
 * actuals computed from the records.
 *
 * An indicator (record kind "indicator": org = the owning organisation, ""
 * for a national one; status Active / Archived) has a code, a name, a declared
 * measure — cases_registered, cases_assisted, foreign_victims,
 * officials_trained, participants, events_held, shelters_supported,
 * admissions, bed_nights, returns, reunifications, minors_reunified,
 * monitoring_visits, sustainable_reintegrations, proceedings_opened,
 * convictions — optional filters (filter_org, filter_country, filter_city,
 * filter_event_types), a baseline and targets per period ("2026", "2026-Q1",
 * "2026-H2", "2026-05", "2026-01-01..2026-06-30").  Its actual for a period is
 * computed from the records every time it is asked for, so "65 assisted
 * against a target of 45" is a query.
 *
 * Access: RES_INDICATOR in the matrix. */
#ifndef AMPARO_INDICATORS_H
#define AMPARO_INDICATORS_H

#include "core/core.h"

amp_code indicators_create(core *c, const principal *p, const json_t *body, core_done_fn done,
                           void *arg, amp_err *err);

amp_code indicators_update(core *c, const principal *p, const char *id, const json_t *patch,
                           int64_t if_match, core_done_fn done, void *arg, amp_err *err);

amp_code indicators_delete(core *c, const principal *p, const char *id, int64_t if_match,
                           core_done_fn done, void *arg, amp_err *err);

amp_code indicators_get(core *c, const principal *p, const char *id, json_t **out, amp_err *err);

/** Indicators.  Parameters: status, measure, programme, org, limit, offset. */
amp_code indicators_list(core *c, const principal *p, const list_param *params, size_t n,
                         json_t **out, amp_err *err);

/** The indicator's actuals: for `period` if given, else for each of its
 *  targets: {period, from, to, target, actual, difference, achieved, met}. */
amp_code indicators_actuals(core *c, const principal *p, const char *id, const list_param *params,
                            size_t n, json_t **out, amp_err *err);

/** Every active indicator's actual for `period` (required) against its target
 *  for exactly that period, if any.  Parameters: period, programme, org. */
amp_code indicators_report(core *c, const principal *p, const list_param *params, size_t n,
                           json_t **out, amp_err *err);

/** The value of a measure over [from, to] with an indicator's filters (doc:
 *  the indicator document, may be NULL).  AMP_OK with *value, AMP_EINVALID for
 *  an unknown measure, AMP_EINTERNAL. */
amp_code indicators_measure(core *c, const char *measure, const json_t *doc, const char *from,
                            const char *to, double *value, amp_err *err);

/** The cases that received help in [from, to] (the measure cases_assisted):
 *  an assistance record starting then, a shelter stay with nights in the
 *  period or admitted then, a return not cancelled departing or reunited then,
 *  or a monitoring visit then.  org: only records of that organisation, or
 *  NULL.  *cases: a new object whose keys are the case uids. */
amp_code indicators_cases_assisted(core *c, const char *org, const char *from, const char *to,
                                   json_t **cases, amp_err *err);

#endif
