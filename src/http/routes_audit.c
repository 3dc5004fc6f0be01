/* routes_audit.c — the audit trail over HTTP: GET /api/v1/audit (list, with
 * filters) and GET /api/v1/audit/verify.  Only translation: the core checks the
 * permission (auditors) and records the read. */
#include "core/audit.h"
#include "http/request.h"

#include <string.h>

/* Parses the query, runs fn and answers its result or error. */
static void run_query(request *r, amp_code (*fn)(core *, const principal *, const list_param *,
                                                 size_t, json_t **, amp_err *))
{
    amp_err err = {0};
    query_params q;
    if (parse_query(r->query ? r->query : "", r->query ? strlen(r->query) : 0, &q, &err) < 0) {
        req_fail(r, &err);
        amp_err_clear(&err);
        return;
    }
    json_t *out = NULL;
    amp_code code = fn(r->core, &r->who, q.items, q.n, &out, &err);
    query_params_release(&q);
    if (code == AMP_OK)
        req_reply(r, MHD_HTTP_OK, out);
    else
        req_fail(r, &err);
    amp_err_clear(&err);
}

static void h_audit_list(request *r)
{
    run_query(r, audit_query);
}

static void h_audit_verify(request *r)
{
    run_query(r, audit_check);
}

const route routes_audit[] = {
    {"GET", "/api/v1/audit", h_audit_list},
    {"GET", "/api/v1/audit/verify", h_audit_verify, .slow = ROUTE_SLOW_LONG},
    {NULL, NULL, NULL},
};
