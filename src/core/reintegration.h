/* reintegration.h — reintegration plans, scored monitoring visits, trends,
 * alerts and outcome figures.
 *
 * A case has at most one reintegration plan (record kind
 * "reintegration_plan", uid = the case's id, org = the responsible
 * organisation, status Active / Completed / Discontinued).  Its framework is
 * "adult" (economic, social and psychosocial dimensions, in the manner of IOM's
 * Reintegration Sustainability Survey) or "child" (safety, schooling, family
 * environment, health, best-interest assessment); a child's case gets the child
 * framework by default.  The indicators, their weights and the thresholds are
 * data (schema/reintegration-indicators.json; see care_config).
 *
 * A monitoring visit (kind "visit", due = its date) scores indicators of the
 * plan's framework from 0 to 1; the server computes each dimension's score (the
 * weighted mean of its indicators) and the composite (the weighted mean of the
 * dimensions), and whether it reaches the sustainable threshold.
 *
 * Access: RES_REINTEGRATION in the matrix and the case through cases_access;
 * the outcome figures need read on RES_REPORT. */
#ifndef AMPARO_REINTEGRATION_H
#define AMPARO_REINTEGRATION_H

#include "core/core.h"

/** The plan of the case with what the server derives: next_visit_due,
 *  visits, latest composite and the case's open alerts.  AMP_ENOTFOUND when
 *  the case has no plan. */
amp_code reint_plan_get(core *c, const principal *p, const char *case_key, json_t **out,
                        amp_err *err);

/** Creates the case's plan, or replaces it (then the version is required:
 *  if_match or the body's "version").  Asynchronous (core.h). */
amp_code reint_plan_put(core *c, const principal *p, const char *case_key, const json_t *body,
                        int64_t if_match, core_done_fn done, void *arg, amp_err *err);

/** Records a monitoring visit of the case (the case needs a plan).  body:
 *  date, type, scores {indicator: 0..1}, notes. */
amp_code reint_visit_create(core *c, const principal *p, const char *case_key, const json_t *body,
                            core_done_fn done, void *arg, amp_err *err);

/** Corrects a visit (merge patch with a version); the scores are recomputed. */
amp_code reint_visit_update(core *c, const principal *p, const char *case_key, const char *id,
                            const json_t *patch, int64_t if_match, core_done_fn done, void *arg,
                            amp_err *err);

amp_code reint_visit_get(core *c, const principal *p, const char *case_key, const char *id,
                         json_t **out, amp_err *err);

/** The case's visits, by date. */
amp_code reint_visits_list(core *c, const principal *p, const char *case_key, json_t **out,
                           amp_err *err);

/** The case's trend: each visit's dimension scores and composite with the
 *  change since the previous visit, and the change since the first. */
amp_code reint_trend(core *c, const principal *p, const char *case_key, json_t **out, amp_err *err);

/** The indicator frameworks and thresholds in force (the configuration). */
amp_code reint_indicators(core *c, const principal *p, json_t **out, amp_err *err);

/** Open alerts over the active plans p may see: visit_overdue, score_drop,
 *  score_below (severity high for a child's safety).  Parameters: framework,
 *  kind, org, limit, offset. */
amp_code reint_alerts(core *c, const principal *p, const list_param *params, size_t n, json_t **out,
                      amp_err *err);

/** Outcome figures: for each of the configured months after the plan start
 *  (6 and 12), the plans due, those measured (a visit near that date), those
 *  sustainably reintegrated (composite >= threshold) and the shares.
 *  Parameters: framework, org, start_from, start_to, threshold (0..1). */
amp_code reint_outcomes(core *c, const principal *p, const list_param *params, size_t n,
                        json_t **out, amp_err *err);

/** Scores a visit: for framework (a configuration framework object) and
 *  scores {indicator: number}, *dims = {dimension: score} (new) and the
 *  composite (-1 when nothing was scored).  Exposed for tests. */
double reint_score(const json_t *framework, const json_t *scores, json_t **dims);

#endif
