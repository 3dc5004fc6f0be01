/* routes_referrals.c — the referral mechanism's API: directory, referrals,
 * assistance, identification decisions, closure, tasks, hotline contacts and
 * the module's picklists and settings.  Handlers only translate HTTP ↔ core. */
#include "core/assistance.h"
#include "core/directory.h"
#include "core/hotline.h"
#include "core/lifecycle.h"
#include "core/refcommon.h"
#include "core/referrals.h"
#include "http/request.h"

#include <stdio.h>
#include <string.h>

/* Answers the core's result: 200 (or `ok`) with an ETag from "version", or the error. */
static void answer(request *r, unsigned ok, amp_code code, json_t *out, amp_err *err)
{
    if (code == AMP_OK) {
        json_t *v = json_object_get(out, "version");
        if (json_is_integer(v))
            snprintf(r->etag, sizeof r->etag, "\"%lld\"", (long long)json_integer_value(v));
        const char *id = json_string_value(json_object_get(out, "id"));
        if (ok == MHD_HTTP_CREATED && id) {
            size_t n = strlen(r->path);
            while (n > 1 && r->path[n - 1] == '/')
                n--;
            snprintf(r->location, sizeof r->location, "%.*s/%s", (int)n, r->path, id);
        }
        req_reply(r, ok, out);
    } else {
        json_decref(out);
        req_fail(r, err);
    }
    amp_err_clear(err);
}

/* Parses the query string; false when it has been answered with an error. */
static bool query(request *r, query_params *q)
{
    amp_err err = {0};
    if (parse_query(r->query ? r->query : "", r->query ? strlen(r->query) : 0, q, &err) < 0) {
        req_fail(r, &err);
        amp_err_clear(&err);
        return false;
    }
    return true;
}

/* An optional JSON body: NULL and *ok when there is none. */
static json_t *optional_body(request *r, bool *ok)
{
    *ok = true;
    if (r->body_len == 0)
        return NULL;
    json_t *b = req_json_body(r);
    *ok = b != NULL;
    return b;
}

typedef amp_code (*list_fn)(core *, const principal *, const list_param *, size_t, json_t **,
                            amp_err *);

static void do_list(request *r, list_fn fn)
{
    query_params q;
    if (!query(r, &q))
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = fn(r->core, &r->who, q.items, q.n, &out, &err);
    query_params_release(&q);
    answer(r, MHD_HTTP_OK, code, out, &err);
}

/* ==== directory ==== */

static void h_directory_list(request *r)
{
    do_list(r, directory_list);
}

static void h_directory_get(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = directory_get(r->core, &r->who, r->params[0], &out, &err);
    answer(r, MHD_HTTP_OK, code, out, &err);
}

static void h_directory_put(request *r)
{
    int64_t im = req_if_match(r);
    if (im < 0)
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    bool created = false;
    amp_code code = directory_put(r->core, &r->who, r->params[0], body, im, &out, &created, &err);
    json_decref(body);
    answer(r, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, code, out, &err);
    r->location[0] = '\0';
}

/* ==== referrals ==== */

static void h_referrals_list(request *r)
{
    do_list(r, referrals_list);
}

static void h_referrals_flows(request *r)
{
    do_list(r, referrals_flows);
}

static void h_referrals_picklists(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = referrals_picklists(r->core, &r->who, &out, &err);
    answer(r, MHD_HTTP_OK, code, out, &err);
}

static void h_settings_get(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = rc_settings_read(r->core, &r->who, &out, &err);
    answer(r, MHD_HTTP_OK, code, out, &err);
}

static void h_settings_put(request *r)
{
    int64_t im = req_if_match(r);
    if (im < 0)
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = rc_settings_put(r->core, &r->who, body, im, &out, &err);
    json_decref(body);
    answer(r, MHD_HTTP_OK, code, out, &err);
}

static void h_referrals_send(request *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = referrals_send(r->core, &r->who, body, &out, &err);
    json_decref(body);
    answer(r, MHD_HTTP_CREATED, code, out, &err);
}

static void h_referral_get(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = referrals_get(r->core, &r->who, r->params[0], &out, &err);
    answer(r, MHD_HTTP_OK, code, out, &err);
}

typedef amp_code (*transition_fn)(core *, const principal *, const char *, const json_t *, int64_t,
                                  json_t **, amp_err *);

static void do_transition(request *r, transition_fn fn)
{
    int64_t im = req_if_match(r);
    if (im < 0)
        return;
    bool ok;
    json_t *body = optional_body(r, &ok);
    if (!ok)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = fn(r->core, &r->who, r->params[0], body, im, &out, &err);
    json_decref(body);
    answer(r, MHD_HTTP_OK, code, out, &err);
}

static void h_referral_accept(request *r)
{
    do_transition(r, referrals_accept);
}
static void h_referral_decline(request *r)
{
    do_transition(r, referrals_decline);
}
static void h_referral_complete(request *r)
{
    do_transition(r, referrals_complete);
}
static void h_referral_cancel(request *r)
{
    do_transition(r, referrals_cancel);
}

static void h_case_referrals(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = referrals_of_case(r->core, &r->who, r->params[0], &out, &err);
    answer(r, MHD_HTTP_OK, code, out, &err);
}

/* ==== assistance ==== */

static void h_assistance_list(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = assistance_list(r->core, &r->who, r->params[0], &out, &err);
    answer(r, MHD_HTTP_OK, code, out, &err);
}

static void h_assistance_create(request *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = assistance_create(r->core, &r->who, r->params[0], body, &out, &err);
    json_decref(body);
    answer(r, MHD_HTTP_CREATED, code, out, &err);
}

static void h_assistance_get(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = assistance_get(r->core, &r->who, r->params[0], r->params[1], &out, &err);
    answer(r, MHD_HTTP_OK, code, out, &err);
}

static void h_assistance_patch(request *r)
{
    int64_t im = req_if_match(r);
    if (im < 0)
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code =
        assistance_update(r->core, &r->who, r->params[0], r->params[1], body, im, &out, &err);
    json_decref(body);
    answer(r, MHD_HTTP_OK, code, out, &err);
}

static void h_assistance_delete(request *r)
{
    int64_t im = req_if_match(r);
    if (im < 0)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = assistance_delete(r->core, &r->who, r->params[0], r->params[1], im, &out, &err);
    answer(r, MHD_HTTP_OK, code, out, &err);
}

/* ==== lifecycle ==== */

typedef amp_code (*case_body_fn)(core *, const principal *, const char *, const json_t *, json_t **,
                                 amp_err *);
typedef amp_code (*case_read_fn)(core *, const principal *, const char *, json_t **, amp_err *);

static void do_case_body(request *r, case_body_fn fn, unsigned ok)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = fn(r->core, &r->who, r->params[0], body, &out, &err);
    json_decref(body);
    answer(r, ok, code, out, &err);
    r->location[0] = '\0';
}

static void do_case_read(request *r, case_read_fn fn)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = fn(r->core, &r->who, r->params[0], &out, &err);
    answer(r, MHD_HTTP_OK, code, out, &err);
}

static void h_decisions_list(request *r)
{
    do_case_read(r, lifecycle_decisions);
}
static void h_decisions_create(request *r)
{
    do_case_body(r, lifecycle_decide, MHD_HTTP_CREATED);
}
static void h_case_close(request *r)
{
    do_case_body(r, lifecycle_close, MHD_HTTP_OK);
}
static void h_case_reopen(request *r)
{
    do_case_body(r, lifecycle_reopen, MHD_HTTP_OK);
}
static void h_case_lifecycle(request *r)
{
    do_case_read(r, lifecycle_events);
}
static void h_case_hotline(request *r)
{
    do_case_read(r, hotline_of_case);
}

static void h_tasks_list(request *r)
{
    do_list(r, tasks_list);
}

static void h_tasks_create(request *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = tasks_create(r->core, &r->who, body, &out, &err);
    json_decref(body);
    answer(r, MHD_HTTP_CREATED, code, out, &err);
}

static void h_task_done(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = tasks_done(r->core, &r->who, r->params[0], &out, &err);
    answer(r, MHD_HTTP_OK, code, out, &err);
}

/* ==== hotline ==== */

static void h_hotline_list(request *r)
{
    do_list(r, hotline_list);
}
static void h_hotline_stats(request *r)
{
    do_list(r, hotline_stats);
}

static void h_hotline_create(request *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = hotline_create(r->core, &r->who, body, &out, &err);
    json_decref(body);
    answer(r, MHD_HTTP_CREATED, code, out, &err);
}

static void h_hotline_get(request *r)
{
    do_case_read(r, hotline_get);
}

static void h_hotline_patch(request *r)
{
    int64_t im = req_if_match(r);
    if (im < 0)
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = hotline_update(r->core, &r->who, r->params[0], body, im, &out, &err);
    json_decref(body);
    answer(r, MHD_HTTP_OK, code, out, &err);
}

static void h_hotline_repeat(request *r)
{
    do_case_body(r, hotline_repeat, MHD_HTTP_OK);
}

static void h_hotline_open_case(request *r)
{
    bool ok;
    json_t *body = optional_body(r, &ok);
    if (!ok)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = hotline_open_case(r->core, &r->who, r->params[0], body, &out, &err);
    json_decref(body);
    answer(r, MHD_HTTP_CREATED, code, out, &err);
    r->location[0] = '\0';
}

/* ==== the table (literal segments before :params) ==== */

const route routes_referrals[] = {
    {"GET", "/api/v1/directory", h_directory_list},
    {"GET", "/api/v1/directory/:org", h_directory_get},
    {"PUT", "/api/v1/directory/:org", h_directory_put},
    {"GET", "/api/v1/referrals", h_referrals_list},
    {"POST", "/api/v1/referrals", h_referrals_send},
    {"GET", "/api/v1/referrals/flows", h_referrals_flows},
    {"GET", "/api/v1/referrals/picklists", h_referrals_picklists},
    {"GET", "/api/v1/referrals/settings", h_settings_get},
    {"PUT", "/api/v1/referrals/settings", h_settings_put},
    {"GET", "/api/v1/referrals/:id", h_referral_get},
    {"POST", "/api/v1/referrals/:id/accept", h_referral_accept},
    {"POST", "/api/v1/referrals/:id/decline", h_referral_decline},
    {"POST", "/api/v1/referrals/:id/complete", h_referral_complete},
    {"POST", "/api/v1/referrals/:id/cancel", h_referral_cancel},
    {"GET", "/api/v1/cases/:id/referrals", h_case_referrals},
    {"GET", "/api/v1/cases/:id/assistance", h_assistance_list},
    {"POST", "/api/v1/cases/:id/assistance", h_assistance_create},
    {"GET", "/api/v1/cases/:id/assistance/:aid", h_assistance_get},
    {"PATCH", "/api/v1/cases/:id/assistance/:aid", h_assistance_patch},
    {"DELETE", "/api/v1/cases/:id/assistance/:aid", h_assistance_delete},
    {"GET", "/api/v1/cases/:id/decisions", h_decisions_list},
    {"POST", "/api/v1/cases/:id/decisions", h_decisions_create},
    {"POST", "/api/v1/cases/:id/close", h_case_close},
    {"POST", "/api/v1/cases/:id/reopen", h_case_reopen},
    {"GET", "/api/v1/cases/:id/lifecycle", h_case_lifecycle},
    {"GET", "/api/v1/cases/:id/hotline-contacts", h_case_hotline},
    {"GET", "/api/v1/tasks", h_tasks_list},
    {"POST", "/api/v1/tasks", h_tasks_create},
    {"POST", "/api/v1/tasks/:id/done", h_task_done},
    {"GET", "/api/v1/hotline/contacts", h_hotline_list},
    {"POST", "/api/v1/hotline/contacts", h_hotline_create},
    {"GET", "/api/v1/hotline/stats", h_hotline_stats},
    {"GET", "/api/v1/hotline/contacts/:id", h_hotline_get},
    {"PATCH", "/api/v1/hotline/contacts/:id", h_hotline_patch},
    {"POST", "/api/v1/hotline/contacts/:id/repeat", h_hotline_repeat},
    {"POST", "/api/v1/hotline/contacts/:id/open-case", h_hotline_open_case},
    {NULL, NULL, NULL},
};
