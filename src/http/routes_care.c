/* routes_care.c — the HTTP routes of the care and follow-up modules: shelters
 * and stays, returns, reintegration, proceedings, trainings and indicators.
 * Handlers only translate between HTTP and the core (see docs/CARE.md). */
#include "core/care_common.h"
#include "core/indicators.h"
#include "core/proceedings.h"
#include "core/reintegration.h"
#include "core/returns.h"
#include "core/shelters.h"
#include "core/trainings.h"
#include "http/request.h"

#include <stdio.h>
#include <string.h>

/* ==== shapes of handlers ======================================================== */

static void answer(request *r, amp_code code, json_t *out, amp_err *err)
{
    if (code == AMP_OK) {
        json_t *v = json_object_get(out, "version");
        if (json_is_integer(v))
            snprintf(r->etag, sizeof r->etag, "\"%lld\"", (long long)json_integer_value(v));
        req_reply(r, MHD_HTTP_OK, out);
    } else {
        json_decref(out);
        req_fail(r, err);
    }
    amp_err_clear(err);
}

/* Parses the query string; answers 400 itself on failure. */
static bool query_of(request *r, query_params *q)
{
    amp_err err = {0};
    if (parse_query(r->query ? r->query : "", r->query ? strlen(r->query) : 0, q, &err) < 0) {
        req_fail(r, &err);
        amp_err_clear(&err);
        return false;
    }
    return true;
}

typedef amp_code (*list_fn)(core *, const principal *, const list_param *, size_t, json_t **,
                            amp_err *);
typedef amp_code (*keyed_list_fn)(core *, const principal *, const char *, const list_param *,
                                  size_t, json_t **, amp_err *);
typedef amp_code (*get_fn)(core *, const principal *, const char *, json_t **, amp_err *);
typedef amp_code (*get2_fn)(core *, const principal *, const char *, const char *, json_t **,
                            amp_err *);
typedef amp_code (*create_fn)(core *, const principal *, const json_t *, core_done_fn, void *,
                              amp_err *);
typedef amp_code (*keyed_create_fn)(core *, const principal *, const char *, const json_t *,
                                    core_done_fn, void *, amp_err *);
typedef amp_code (*update_fn)(core *, const principal *, const char *, const json_t *, int64_t,
                              core_done_fn, void *, amp_err *);
typedef amp_code (*update2_fn)(core *, const principal *, const char *, const char *,
                               const json_t *, int64_t, core_done_fn, void *, amp_err *);
typedef amp_code (*delete_fn)(core *, const principal *, const char *, int64_t, core_done_fn,
                              void *, amp_err *);

static void do_list(request *r, list_fn fn)
{
    query_params q;
    if (!query_of(r, &q))
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = fn(r->core, &r->who, q.items, q.n, &out, &err);
    query_params_release(&q);
    answer(r, code, out, &err);
}

static void do_keyed_list(request *r, keyed_list_fn fn)
{
    query_params q;
    if (!query_of(r, &q))
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = fn(r->core, &r->who, r->params[0], q.items, q.n, &out, &err);
    query_params_release(&q);
    answer(r, code, out, &err);
}

static void do_get(request *r, get_fn fn)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = fn(r->core, &r->who, r->params[0], &out, &err);
    answer(r, code, out, &err);
}

static void do_get2(request *r, get2_fn fn)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = fn(r->core, &r->who, r->params[0], r->params[1], &out, &err);
    answer(r, code, out, &err);
}

static void do_create(request *r, create_fn fn)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    req_async_begin(r);
    amp_code code = fn(r->core, &r->who, body, req_create_done, r, &err);
    json_decref(body);
    req_async_end(r, code, &err);
    amp_err_clear(&err);
}

/* done: req_create_done (201 + Location) or req_write_done (200). */
static void do_keyed_create(request *r, keyed_create_fn fn, core_done_fn done)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    req_async_begin(r);
    amp_code code = fn(r->core, &r->who, r->params[0], body, done, r, &err);
    json_decref(body);
    req_async_end(r, code, &err);
    amp_err_clear(&err);
}

/* An action (POST .../discharge): the body may be empty. */
static void do_action(request *r, keyed_create_fn fn)
{
    json_t *body = NULL;
    if (r->body_len > 0) {
        body = req_json_body(r);
        if (!body)
            return;
    }
    amp_err err = {0};
    req_async_begin(r);
    amp_code code = fn(r->core, &r->who, r->params[0], body, req_write_done, r, &err);
    json_decref(body);
    req_async_end(r, code, &err);
    amp_err_clear(&err);
}

static void do_update(request *r, update_fn fn)
{
    int64_t if_match = req_if_match(r);
    if (if_match < 0)
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    req_async_begin(r);
    amp_code code = fn(r->core, &r->who, r->params[0], body, if_match, req_write_done, r, &err);
    json_decref(body);
    req_async_end(r, code, &err);
    amp_err_clear(&err);
}

static void do_update2(request *r, update2_fn fn)
{
    int64_t if_match = req_if_match(r);
    if (if_match < 0)
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    req_async_begin(r);
    amp_code code =
        fn(r->core, &r->who, r->params[0], r->params[1], body, if_match, req_write_done, r, &err);
    json_decref(body);
    req_async_end(r, code, &err);
    amp_err_clear(&err);
}

static void do_delete(request *r, delete_fn fn)
{
    int64_t if_match = req_if_match(r);
    if (if_match < 0)
        return;
    amp_err err = {0};
    req_async_begin(r);
    amp_code code = fn(r->core, &r->who, r->params[0], if_match, req_write_done, r, &err);
    req_async_end(r, code, &err);
    amp_err_clear(&err);
}

/* ==== picklists ================================================================== */

static void h_picklists(request *r)
{
    req_reply(r, MHD_HTTP_OK, json_deep_copy(care_picklists()));
}

/* ==== shelters and stays ========================================================== */

static void h_shelters_list(request *r)
{
    do_list(r, shelters_list);
}
static void h_shelters_create(request *r)
{
    do_create(r, shelters_create);
}
static void h_shelters_stats(request *r)
{
    do_list(r, shelters_stats);
}
static void h_shelters_occupancy(request *r)
{
    do_list(r, shelters_occupancy_all);
}
static void h_shelter_get(request *r)
{
    do_get(r, shelters_get);
}
static void h_shelter_patch(request *r)
{
    do_update(r, shelters_update);
}
static void h_shelter_occupancy(request *r)
{
    do_keyed_list(r, shelters_occupancy);
}
static void h_shelter_stays(request *r)
{
    do_keyed_list(r, stays_list);
}
static void h_shelter_waiting(request *r)
{
    do_get(r, stays_waiting_list);
}

static bool has_field_rule(const amp_err *err, const char *rule)
{
    size_t i;
    json_t *f;
    json_array_foreach (err->fields, i, f) {
        const char *ru = json_string_value(json_object_get(f, "rule"));
        if (ru && strcmp(ru, rule) == 0)
            return true;
    }
    return false;
}

/* Admissions wait for the write so that a full shelter answers 409 with the
 * code over_capacity (and the way to the waiting list). */
static void h_shelter_admit(request *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    care_wait *w = care_wait_new();
    amp_code code = care_wait_end(
        w, w ? stays_admit(r->core, &r->who, r->params[0], body, care_wait_done, w, &err) : AMP_OK,
        &out, &err);
    json_decref(body);
    if (code == AMP_ESTATE && has_field_rule(&err, "over_capacity")) {
        req_error(r, MHD_HTTP_CONFLICT, "over_capacity", err.message, err.fields);
    } else if (code != AMP_OK) {
        req_fail(r, &err);
    } else {
        const char *id = json_string_value(json_object_get(out, "id"));
        json_t *v = json_object_get(out, "version");
        snprintf(r->location, sizeof r->location, "/api/v1/stays/%s", id ? id : "");
        if (json_is_integer(v))
            snprintf(r->etag, sizeof r->etag, "\"%lld\"", (long long)json_integer_value(v));
        req_reply(r, MHD_HTTP_CREATED, out);
        out = NULL;
    }
    json_decref(out);
    amp_err_clear(&err);
}

/* Admitting from the waiting list: the same 409 over_capacity when full. */
static void h_stay_admit(request *r)
{
    json_t *body = NULL;
    if (r->body_len > 0 && !(body = req_json_body(r)))
        return;
    amp_err err = {0};
    json_t *out = NULL;
    care_wait *w = care_wait_new();
    amp_code code = care_wait_end(
        w,
        w ? stays_admit_waiting(r->core, &r->who, r->params[0], body, care_wait_done, w, &err)
          : AMP_OK,
        &out, &err);
    json_decref(body);
    if (code == AMP_ESTATE && has_field_rule(&err, "over_capacity"))
        req_error(r, MHD_HTTP_CONFLICT, "over_capacity", err.message, err.fields);
    else
        answer(r, code, out, &err);
    amp_err_clear(&err);
}

static void h_stay_get(request *r)
{
    do_get(r, stays_get);
}
static void h_stay_patch(request *r)
{
    do_update(r, stays_update);
}
static void h_stay_discharge(request *r)
{
    do_action(r, stays_discharge);
}
static void h_stay_cancel(request *r)
{
    do_action(r, stays_cancel);
}
static void h_case_stays(request *r)
{
    do_get(r, stays_of_case);
}

/* ==== returns ====================================================================== */

static void h_returns_list(request *r)
{
    do_get(r, returns_list);
}
static void h_returns_create(request *r)
{
    do_keyed_create(r, returns_create, req_create_done);
}
static void h_return_get(request *r)
{
    do_get2(r, returns_get);
}
static void h_return_patch(request *r)
{
    do_update2(r, returns_update);
}
static void h_returns_stats(request *r)
{
    do_list(r, returns_stats);
}

/* ==== reintegration ================================================================== */

static void h_plan_get(request *r)
{
    do_get(r, reint_plan_get);
}

static void h_plan_put(request *r)
{
    int64_t if_match = req_if_match(r);
    if (if_match < 0)
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    req_async_begin(r);
    amp_code code =
        reint_plan_put(r->core, &r->who, r->params[0], body, if_match, req_write_done, r, &err);
    json_decref(body);
    req_async_end(r, code, &err);
    amp_err_clear(&err);
}

static void h_plan_trend(request *r)
{
    do_get(r, reint_trend);
}
static void h_visits_list(request *r)
{
    do_get(r, reint_visits_list);
}
static void h_visits_create(request *r)
{
    do_keyed_create(r, reint_visit_create, req_create_done);
}
static void h_visit_get(request *r)
{
    do_get2(r, reint_visit_get);
}
static void h_visit_patch(request *r)
{
    do_update2(r, reint_visit_update);
}

static void h_reint_indicators(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = reint_indicators(r->core, &r->who, &out, &err);
    answer(r, code, out, &err);
}

static void h_reint_alerts(request *r)
{
    do_list(r, reint_alerts);
}
static void h_reint_outcomes(request *r)
{
    do_list(r, reint_outcomes);
}

/* ==== proceedings ====================================================================== */

static void h_proceedings_list(request *r)
{
    do_list(r, proceedings_list);
}
static void h_proceedings_create(request *r)
{
    do_create(r, proceedings_create);
}
static void h_proceedings_stats(request *r)
{
    do_list(r, proceedings_stats);
}
static void h_proceeding_get(request *r)
{
    do_get(r, proceedings_get);
}
static void h_proceeding_patch(request *r)
{
    do_update(r, proceedings_update);
}
static void h_case_proceedings(request *r)
{
    do_get(r, proceedings_of_case);
}

/* ==== trainings ========================================================================= */

static void h_trainings_list(request *r)
{
    do_list(r, trainings_list);
}
static void h_trainings_create(request *r)
{
    do_create(r, trainings_create);
}
static void h_trainings_stats(request *r)
{
    do_list(r, trainings_stats);
}
static void h_training_get(request *r)
{
    do_get(r, trainings_get);
}
static void h_training_patch(request *r)
{
    do_update(r, trainings_update);
}
static void h_training_delete(request *r)
{
    do_delete(r, trainings_delete);
}

/* ==== indicators ========================================================================= */

static void h_indicators_list(request *r)
{
    do_list(r, indicators_list);
}
static void h_indicators_create(request *r)
{
    do_create(r, indicators_create);
}
static void h_indicators_report(request *r)
{
    do_list(r, indicators_report);
}
static void h_indicator_get(request *r)
{
    do_get(r, indicators_get);
}
static void h_indicator_patch(request *r)
{
    do_update(r, indicators_update);
}
static void h_indicator_delete(request *r)
{
    do_delete(r, indicators_delete);
}
static void h_indicator_actuals(request *r)
{
    do_keyed_list(r, indicators_actuals);
}

/* ==== the table: literal segments before :params ========================================= */

const route routes_care[] = {
    {"GET", "/api/v1/care/picklists", h_picklists},
    {"GET", "/api/v1/shelters", h_shelters_list},
    {"POST", "/api/v1/shelters", h_shelters_create},
    {"GET", "/api/v1/shelters/stats", h_shelters_stats},
    {"GET", "/api/v1/shelters/occupancy", h_shelters_occupancy},
    {"GET", "/api/v1/shelters/:id", h_shelter_get},
    {"PATCH", "/api/v1/shelters/:id", h_shelter_patch},
    {"GET", "/api/v1/shelters/:id/occupancy", h_shelter_occupancy},
    {"GET", "/api/v1/shelters/:id/stays", h_shelter_stays},
    {"POST", "/api/v1/shelters/:id/stays", h_shelter_admit},
    {"GET", "/api/v1/shelters/:id/waiting-list", h_shelter_waiting},
    {"GET", "/api/v1/stays/:id", h_stay_get},
    {"PATCH", "/api/v1/stays/:id", h_stay_patch},
    {"POST", "/api/v1/stays/:id/discharge", h_stay_discharge},
    {"POST", "/api/v1/stays/:id/admit", h_stay_admit},
    {"POST", "/api/v1/stays/:id/cancel", h_stay_cancel},
    {"GET", "/api/v1/returns/stats", h_returns_stats},
    {"GET", "/api/v1/reintegration/indicators", h_reint_indicators},
    {"GET", "/api/v1/reintegration/alerts", h_reint_alerts},
    {"GET", "/api/v1/reintegration/outcomes", h_reint_outcomes},
    {"GET", "/api/v1/proceedings", h_proceedings_list},
    {"POST", "/api/v1/proceedings", h_proceedings_create},
    {"GET", "/api/v1/proceedings/stats", h_proceedings_stats},
    {"GET", "/api/v1/proceedings/:id", h_proceeding_get},
    {"PATCH", "/api/v1/proceedings/:id", h_proceeding_patch},
    {"GET", "/api/v1/trainings", h_trainings_list},
    {"POST", "/api/v1/trainings", h_trainings_create},
    {"GET", "/api/v1/trainings/stats", h_trainings_stats},
    {"GET", "/api/v1/trainings/:id", h_training_get},
    {"PATCH", "/api/v1/trainings/:id", h_training_patch},
    {"DELETE", "/api/v1/trainings/:id", h_training_delete},
    {"GET", "/api/v1/indicators", h_indicators_list},
    {"POST", "/api/v1/indicators", h_indicators_create},
    {"GET", "/api/v1/indicators/report", h_indicators_report},
    {"GET", "/api/v1/indicators/:id", h_indicator_get},
    {"PATCH", "/api/v1/indicators/:id", h_indicator_patch},
    {"DELETE", "/api/v1/indicators/:id", h_indicator_delete},
    {"GET", "/api/v1/indicators/:id/actuals", h_indicator_actuals},
    {"GET", "/api/v1/cases/:id/stays", h_case_stays},
    {"GET", "/api/v1/cases/:id/returns", h_returns_list},
    {"POST", "/api/v1/cases/:id/returns", h_returns_create},
    {"GET", "/api/v1/cases/:id/returns/:rid", h_return_get},
    {"PATCH", "/api/v1/cases/:id/returns/:rid", h_return_patch},
    {"GET", "/api/v1/cases/:id/reintegration", h_plan_get},
    {"PUT", "/api/v1/cases/:id/reintegration", h_plan_put},
    {"GET", "/api/v1/cases/:id/reintegration/trend", h_plan_trend},
    {"GET", "/api/v1/cases/:id/visits", h_visits_list},
    {"POST", "/api/v1/cases/:id/visits", h_visits_create},
    {"GET", "/api/v1/cases/:id/visits/:vid", h_visit_get},
    {"PATCH", "/api/v1/cases/:id/visits/:vid", h_visit_patch},
    {"GET", "/api/v1/cases/:id/proceedings", h_case_proceedings},
    {NULL, NULL, NULL},
};
