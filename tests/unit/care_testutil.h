/* care_testutil.h — helpers of the care-module unit tests (header-only): a test
 * world of organisations and cases, crafted principals, synchronous writes. */
#ifndef AMPARO_CARE_TESTUTIL_H
#define AMPARO_CARE_TESTUTIL_H

#pragma GCC diagnostic ignored "-Wunused-function"

#include "testutil.h"

#include "core/care_common.h"
#include "util/log.h"

#include <math.h>

/** Calls an asynchronous core write `fn(args..., done, arg, err)` and waits. */
#define CARE_SYNC(outp, errp, fn, ...)                                                             \
    __extension__({                                                                                \
        care_wait *w_ = care_wait_new();                                                           \
        care_wait_end(w_, fn(__VA_ARGS__, care_wait_done, w_, errp), outp, errp);                  \
    })

static void ct_dump(const char *what, amp_code code, const amp_err *err)
{
    char *d = err->fields ? json_dumps(err->fields, JSON_COMPACT) : NULL;
    print_error("%s: code %d (%s) %s %s\n", what, code, amp_code_name(code), err->message,
                d ? d : "");
    free(d);
}

/** Fails the test unless code is AMP_OK (printing the error). */
#define CT_OK(code, err)                                                                           \
    do {                                                                                           \
        amp_code c_ = (code);                                                                      \
        if (c_ != AMP_OK) {                                                                        \
            ct_dump(#code, c_, &(err));                                                            \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/** A principal of org with roles (not internal). */
static principal ct_user(const char *actor, const char *org, uint32_t roles)
{
    principal p = {0};
    snprintf(p.actor, sizeof p.actor, "%s", actor);
    snprintf(p.lang, sizeof p.lang, "en");
    snprintf(p.org, sizeof p.org, "%s", org);
    p.roles = roles;
    return p;
}

static principal ct_internal(void)
{
    principal p = {0};
    snprintf(p.actor, sizeof p.actor, "tester");
    snprintf(p.lang, sizeof p.lang, "en");
    p.internal = true;
    return p;
}

static void ct_org(tu_env *e, const char *id, const char *country, const char *category)
{
    principal in = ct_internal();
    amp_err err = {0};
    char text[400];
    snprintf(text, sizeof text,
             "{\"id\":\"%s\",\"org_Name\":\"Org %s\",\"org_Type\":\"NGO\","
             "\"amp_OrgCountry\":\"%s\",\"amp_OrgCategory\":[\"%s\"]}",
             id, id, country, category);
    json_t *body = tu_json(text), *out = NULL;
    CT_OK(orgs_put(e->core, &in, body, &out, &err), err);
    json_decref(body);
    json_decref(out);
}

/** The world: org-a (NGO, EC), org-b (shelter, EC), org-c (NGO, PE). */
static void ct_world(tu_env *e)
{
    log_set_quiet(1);
    ct_org(e, "org-a", "EC", "NGO");
    ct_org(e, "org-b", "EC", "Shelter");
    ct_org(e, "org-c", "EC", "NGO");
    ct_org(e, "org-pe", "PE", "NGO");
}

/** Creates a case owned by org with extra fields (a JSON object's inside, may
 *  be ""); writes its id into id[40]. */
static void ct_case(tu_env *e, const char *org, const char *extra, char id[40])
{
    principal in = ct_internal();
    amp_err err = {0};
    char text[2000];
    snprintf(text, sizeof text,
             "{\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":\"ActualVictimOfTrafficking\","
             "\"amp_OwnerOrganisation\":\"%s\"%s%s}",
             org, extra && *extra ? "," : "", extra ? extra : "");
    json_t *body = tu_json(text), *out = NULL;
    CT_OK(cases_create_sync(e->core, &in, body, &out, &err), err);
    snprintf(id, 40, "%s", json_string_value(json_object_get(out, "id")));
    json_decref(body);
    json_decref(out);
}

typedef struct {
    int64_t case_id;
    const char *org;
} ct_grant_arg;

static int ct_grant_job(store_tx *tx, void *arg)
{
    ct_grant_arg *g = arg;
    return store_tx_case_grant(tx, g->case_id, g->org, "test", "2026-06-01T00:00:00.000Z");
}

/** Gives org access to the case (as an accepted referral would). */
static void ct_grant(tu_env *e, const char *case_id, const char *org)
{
    store_row row;
    assert_int_equal(store_case_get(e->store, case_id, &row, NULL), STORE_OK);
    ct_grant_arg g = {row.id, org};
    store_row_release(&row);
    assert_int_equal(store_run(e->store, ct_grant_job, &g), STORE_OK);
}

static const char *ct_s(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static json_int_t ct_i(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("'%s' is not an integer", key);
    return json_integer_value(v);
}

static double ct_n(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fail_msg("'%s' is not a number", key);
    return json_number_value(v);
}

/** Parameters from "a=1&b=2" (static storage: one call at a time). */
static size_t ct_params(const char *qs, list_param out[16])
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s", qs);
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, "&", &save); tok && n < 16; tok = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = '\0';
        out[n].name = tok;
        out[n].value = eq + 1;
        n++;
    }
    return n;
}

#endif
