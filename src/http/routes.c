/* routes.c — the route table of the JSON API and its handlers.  Handlers only
 * translate between HTTP and the core: parse, call, answer. */
#include "core/version.h"
#include "http/request.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *routes_schema_json;
size_t routes_schema_len;
extern const char amparo_openapi_yaml[], amparo_openapi_yaml_end[];

/* ==== handlers ============================================================== */

/* Public: up or not, nothing about the data (counts are in GET /api/v1/status). */
static void h_healthz(request *r)
{
    int64_t n = 0;
    if (store_count_cases(core_store(r->core), &n) != STORE_OK) {
        req_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "the database is not readable",
                  NULL);
        return;
    }
    req_reply(r, MHD_HTTP_OK,
              json_pack("{s:s, s:s, s:s}", "status", "ok", "engine",
                        core_store(r->core)->ops->engine, "version", AMPARO_VERSION));
}

static void h_status(request *r)
{
    json_t *out = NULL;
    amp_err err = {0};
    if (core_status(r->core, &r->who, &out, &err) != AMP_OK) {
        req_fail(r, &err);
        amp_err_clear(&err);
        return;
    }
    req_reply(r, MHD_HTTP_OK, out);
}

/* The catalogue (about 220 KB) changes only with the binary: an ETag from its
 * bytes lets browsers revalidate it with a 304 instead of downloading it again. */
static char schema_etag[24];

static void schema_etag_init(void)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over the served bytes */
    for (size_t i = 0; i < routes_schema_len; i++)
        h = (h ^ (unsigned char)routes_schema_json[i]) * 1099511628211ULL;
    snprintf(schema_etag, sizeof schema_etag, "\"%016llx\"", (unsigned long long)h);
}

static void h_schema(request *r)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, schema_etag_init);
    const char *etag = schema_etag;
    snprintf(r->etag, sizeof r->etag, "%s", etag);
    r->cache_control = "no-cache";
    const char *inm = req_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm && strstr(inm, etag)) {
        r->raw_reply = "";
        r->raw_len = 0;
        r->status = MHD_HTTP_NOT_MODIFIED;
        r->answered = true;
        return;
    }
    r->raw_reply = routes_schema_json;
    r->raw_len = routes_schema_len;
    r->status = MHD_HTTP_OK;
    r->answered = true;
}

static void h_openapi(request *r)
{
    r->raw_reply = amparo_openapi_yaml;
    r->raw_len = (size_t)(amparo_openapi_yaml_end - amparo_openapi_yaml);
    r->content_type = "application/yaml; charset=utf-8";
    r->status = MHD_HTTP_OK;
    r->answered = true;
}

static void answer(request *r, amp_code code, json_t *out, amp_err *err)
{
    if (code == AMP_OK) {
        json_t *v = json_object_get(out, "version");
        if (json_is_integer(v))
            snprintf(r->etag, sizeof r->etag, "\"%lld\"", (long long)json_integer_value(v));
        req_reply(r, MHD_HTTP_OK, out);
    } else {
        req_fail(r, err);
    }
    amp_err_clear(err);
}

static void h_cases_list(request *r)
{
    amp_err err = {0};
    query_params q;
    if (parse_query(r->query ? r->query : "", r->query ? strlen(r->query) : 0, &q, &err) < 0) {
        req_fail(r, &err);
        amp_err_clear(&err);
        return;
    }
    json_t *out = NULL;
    amp_code code = cases_list(r->core, &r->who, q.items, q.n, &out, &err);
    query_params_release(&q);
    answer(r, code, out, &err);
}

static void h_cases_create(request *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    req_async_begin(r);
    amp_code code = cases_create(r->core, &r->who, body, req_create_done, r, &err);
    json_decref(body);
    req_async_end(r, code, &err);
    amp_err_clear(&err);
}

/* The read is answered from the audit callback, once its entry is durable. */
static void h_case_get(request *r)
{
    amp_err err = {0};
    req_async_begin(r);
    amp_code code = cases_get_async(r->core, &r->who, r->params[0], req_write_done, r, &err);
    req_async_end(r, code, &err);
    amp_err_clear(&err);
}

static void h_case_patch(request *r)
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
        cases_update(r->core, &r->who, r->params[0], body, if_match, req_write_done, r, &err);
    json_decref(body);
    req_async_end(r, code, &err);
    amp_err_clear(&err);
}

static void h_case_history(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = cases_history(r->core, &r->who, r->params[0], &out, &err);
    answer(r, code, out, &err);
}

static const child_kind *kind_or_404(request *r)
{
    const child_kind *k = core_child_kind(r->params[1]);
    if (!k)
        req_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such resource", NULL);
    return k;
}

static void h_children_list(request *r)
{
    const child_kind *k = kind_or_404(r);
    if (!k)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = children_list(r->core, &r->who, r->params[0], k, &out, &err);
    answer(r, code, out, &err);
}

static void h_children_create(request *r)
{
    const child_kind *k = kind_or_404(r);
    if (!k)
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    req_async_begin(r);
    amp_code code =
        children_create(r->core, &r->who, r->params[0], k, body, req_create_done, r, &err);
    json_decref(body);
    req_async_end(r, code, &err);
    amp_err_clear(&err);
}

static void h_child_get(request *r)
{
    const child_kind *k = kind_or_404(r);
    if (!k)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = children_get(r->core, &r->who, r->params[0], k, r->params[2], &out, &err);
    answer(r, code, out, &err);
}

static void h_child_patch(request *r)
{
    const child_kind *k = kind_or_404(r);
    if (!k)
        return;
    int64_t if_match = req_if_match(r);
    if (if_match < 0)
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    req_async_begin(r);
    amp_code code = children_update(r->core, &r->who, r->params[0], k, r->params[2], body, if_match,
                                    req_write_done, r, &err);
    json_decref(body);
    req_async_end(r, code, &err);
    amp_err_clear(&err);
}

static void h_child_delete(request *r)
{
    const child_kind *k = kind_or_404(r);
    if (!k)
        return;
    int64_t if_match = req_if_match(r);
    if (if_match < 0)
        return;
    amp_err err = {0};
    req_async_begin(r);
    amp_code code = children_delete(r->core, &r->who, r->params[0], k, r->params[2], if_match,
                                    req_write_done, r, &err);
    req_async_end(r, code, &err);
    amp_err_clear(&err);
}

static void h_orgs_list(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = orgs_list(r->core, &r->who, &out, &err);
    answer(r, code, out, &err);
}

static void h_org_put(request *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    const json_t *id = json_object_get(body, "id");
    amp_code code;
    if (id && !(json_is_string(id) && strcmp(json_string_value(id), r->params[0]) == 0)) {
        amp_err_field(&err, "id", "mismatch", "id in the body differs from the one in the URL");
        code = amp_err_set(&err, AMP_EINVALID, "id in the body differs from the one in the URL");
    } else {
        if (json_is_object(body))
            json_object_set_new(body, "id", json_string(r->params[0]));
        code = orgs_put(r->core, &r->who, body, &out, &err);
    }
    json_decref(body);
    answer(r, code, out, &err);
}

/* ==== the table ============================================================== */

static const route core_routes[] = {
    {"GET", "/healthz", h_healthz, ROUTE_PUBLIC},
    {"GET", "/api/v1/status", h_status},
    {"GET", "/api/v1/schema", h_schema, ROUTE_PUBLIC},
    {"GET", "/api/v1/openapi.yaml", h_openapi, ROUTE_PUBLIC},
    {"GET", "/api/v1/cases", h_cases_list},
    {"POST", "/api/v1/cases", h_cases_create},
    {"GET", "/api/v1/cases/:id", h_case_get},
    {"PATCH", "/api/v1/cases/:id", h_case_patch},
    {"GET", "/api/v1/cases/:id/history", h_case_history},
    {"GET", "/api/v1/cases/:id/:collection", h_children_list},
    {"POST", "/api/v1/cases/:id/:collection", h_children_create},
    {"GET", "/api/v1/cases/:id/:collection/:child", h_child_get},
    {"PATCH", "/api/v1/cases/:id/:collection/:child", h_child_patch},
    {"DELETE", "/api/v1/cases/:id/:collection/:child", h_child_delete},
    {"GET", "/api/v1/organisations", h_orgs_list},
    {"PUT", "/api/v1/organisations/:id", h_org_put},
    {NULL, NULL, NULL},
};

/* Each module of the API keeps its routes in its own file (routes_<module>.c),
 * as a table ending with {NULL}.  The references are weak so that a module can
 * be built or left out without touching this file. */
extern const route routes_auth[] __attribute__((weak));
extern const route routes_admin[] __attribute__((weak));
extern const route routes_audit[] __attribute__((weak));
extern const route routes_referrals[] __attribute__((weak));
extern const route routes_care[] __attribute__((weak));
extern const route routes_reports[] __attribute__((weak));
extern const route routes_ui[] __attribute__((weak));

static const route *route_table(size_t i)
{
    /* modules first, so their literal segments win over the core's generic
     * /cases/:id/:collection patterns */
    const route *const tables[] = {
        routes_auth, routes_admin,   routes_audit, routes_referrals,
        routes_care, routes_reports, routes_ui,    core_routes,
    };
    return i < sizeof tables / sizeof *tables ? tables[i] : NULL;
}
#define ROUTE_TABLES 8

/* Matches path against pattern; on success stores the parameters in r. */
static bool match(request *r, const char *pattern, const char *path)
{
    if (pattern[0] == '/' && pattern[1] == '\0') /* the root has no segment */
        return path[0] == '/' && path[1] == '\0';
    int np = 0;
    size_t used = 0;
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/')
            return false;
        pattern++;
        path++;
        size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");
        if (sl == 0)
            return false;
        if (*pattern == ':') {
            if (np == ROUTE_MAX_PARAMS || used + sl + 1 > sizeof r->param_store)
                return false;
            memcpy(r->param_store + used, path, sl);
            r->param_store[used + sl] = '\0';
            r->params[np++] = r->param_store + used;
            used += sl + 1;
        } else if (pl != sl || memcmp(pattern, path, sl) != 0) {
            return false;
        }
        pattern += pl;
        path += sl;
    }
    return *pattern == '\0' && *path == '\0';
}

const route *routes_match(request *r, unsigned *status)
{
    const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
    const char *path = r->path;
    char trimmed[512];
    size_t len = strlen(path);
    if (len > 1 && path[len - 1] == '/' && len < sizeof trimmed) { /* tolerate one trailing / */
        memcpy(trimmed, path, len - 1);
        trimmed[len - 1] = '\0';
        path = trimmed;
    }
    /* the first match wins: within a table literal segments are listed before
     * :params.  Routes of the request's method first (the path is compared only
     * with those); the others only to say which methods the path has (405). */
    r->allow[0] = '\0';
    for (size_t t = 0; t < ROUTE_TABLES; t++) {
        const route *table = route_table(t);
        for (size_t i = 0; table && table[i].method; i++) {
            if (strcmp(table[i].method, method) == 0 && match(r, table[i].pattern, path))
                return &table[i]; /* its parameters are in place */
        }
    }
    for (size_t t = 0; t < ROUTE_TABLES; t++) {
        const route *table = route_table(t);
        for (size_t i = 0; table && table[i].method; i++) {
            if (strstr(r->allow, table[i].method) || !match(r, table[i].pattern, path))
                continue;
            size_t o = strlen(r->allow);
            snprintf(r->allow + o, sizeof r->allow - o, "%s%s", o ? ", " : "", table[i].method);
        }
    }
    *status = r->allow[0] ? MHD_HTTP_METHOD_NOT_ALLOWED : MHD_HTTP_NOT_FOUND;
    return NULL;
}

void routes_each(void (*fn)(const route *rt, void *arg), void *arg)
{
    for (size_t t = 0; t < ROUTE_TABLES; t++) {
        const route *table = route_table(t);
        for (size_t i = 0; table && table[i].method; i++)
            fn(&table[i], arg);
    }
}
