/* routes_admin.c — case-level protection: restriction to named users and
 * erasure (crypto-shredding). */
#include "http/request.h"

#include <stdio.h>
#include <string.h>

static void answer(request *r, amp_code code, json_t *out, amp_err *err)
{
    if (code == AMP_OK)
        req_reply(r, MHD_HTTP_OK, out);
    else
        req_fail(r, err);
    amp_err_clear(err);
}

static void h_restrict(request *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code;
    if (!json_is_object(body) || json_object_size(body) != 1 || !json_object_get(body, "users")) {
        amp_err_field(&err, "users", "required", "give {\"users\": [\"name\", …]}");
        code = amp_err_set(&err, AMP_EINVALID, "give {\"users\": [\"name\", …]}");
    } else {
        code = cases_restrict(r->core, &r->who, r->params[0], json_object_get(body, "users"), &out,
                              &err);
    }
    json_decref(body);
    answer(r, code, out, &err);
}

static void h_unrestrict(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = cases_restrict(r->core, &r->who, r->params[0], NULL, &out, &err);
    answer(r, code, out, &err);
}

static void h_erase(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = cases_erase(r->core, &r->who, r->params[0], &out, &err);
    answer(r, code, out, &err);
}

const route routes_admin[] = {
    {"PUT", "/api/v1/cases/:id/restriction", h_restrict},
    {"DELETE", "/api/v1/cases/:id/restriction", h_unrestrict},
    {"POST", "/api/v1/cases/:id/erase", h_erase},
    {NULL, NULL, NULL},
};
