/* routes_reports.c — the statistics API: dimensions, crosstabs (JSON, CSV,
 * XLSX), standard report packs, the dashboard, the privacy ledger and the CTDC
 * export.  Handlers only translate HTTP to the core (see docs/REPORTS.md). */
#include "core/audit.h"
#include "core/ctdc.h"
#include "core/disclosure.h"
#include "core/report.h"
#include "core/standard_reports.h"
#include "http/request.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 70

static const char csv_type[] = "text/csv; charset=utf-8";
static const char xlsx_type[] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/* The query parameters, or NULL after answering 400. */
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

static const char *param(const query_params *q, const char *name)
{
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->items[i].name, name) == 0)
            return q->items[i].value;
    return NULL;
}

/* A parameter's value breaks a rule: 422, as every other report and export
 * parameter error (crosstab, CTDC), naming the field and the rule. */
static void bad_param(request *r, const char *field, const char *rule, const char *msg)
{
    json_t *fields = json_pack("[{s:s, s:s, s:s}]", "field", field, "rule", rule, "message", msg);
    req_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "validation_failed", msg, fields);
    json_decref(fields);
}

/* The format parameter: 0 json, 1 csv, 2 xlsx; -1 after answering 422. */
static int format_of(request *r, const query_params *q)
{
    const char *f = param(q, "format");
    if (!f || strcmp(f, "json") == 0)
        return 0;
    if (strcmp(f, "csv") == 0)
        return 1;
    if (strcmp(f, "xlsx") == 0)
        return 2;
    bad_param(r, "format", "enum", "format must be json, csv or xlsx");
    return -1;
}

/* format, lang and labels: the format as format_of, -1 after answering 422.
 * lang (en, es, fr, uk) overrides Accept-Language for the request (titles, and
 * the labels of files); labels (codes, labels, both) says how a file names
 * dimensions and categories: codes in CSV and labels in XLSX unless asked. */
static int file_options(request *r, const query_params *q, report_render_opts *ro)
{
    int fmt = format_of(r, q);
    if (fmt < 0)
        return -1;
    const char *lang = param(q, "lang"), *labels = param(q, "labels");
    if (lang) {
        if (strcmp(lang, "en") != 0 && strcmp(lang, "es") != 0 && strcmp(lang, "fr") != 0 &&
            strcmp(lang, "uk") != 0) {
            bad_param(r, "lang", "enum", "lang must be en, es, fr or uk");
            return -1;
        }
        snprintf(r->who.lang, sizeof r->who.lang, "%s", lang);
    }
    ro->lang = r->who.lang;
    ro->naming = fmt == 2 ? REPORT_LABELS : REPORT_CODES;
    if (labels && !report_naming_parse(labels, &ro->naming)) {
        bad_param(r, "labels", "enum", "labels must be codes, labels or both");
        return -1;
    }
    if (labels && fmt == 0) {
        bad_param(r, "labels", "requires_file_format",
                  "labels applies to files: add format=csv or format=xlsx (JSON answers carry "
                  "codes and, under categories, their labels)");
        return -1;
    }
    return fmt;
}

static void reply_raw(request *r, void *data, size_t len, const char *type)
{
    if (!data) {
        req_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "the file could not be built",
                  NULL);
        return;
    }
    r->raw_owned = data;
    r->raw_reply = data;
    r->raw_len = len;
    r->content_type = type;
    r->status = MHD_HTTP_OK;
    r->answered = true;
}

/* Sends a table or a pack (tables: array) in the asked format; takes `body`.
 * Files are exports: audited. */
static void send_tables(request *r, json_t *body, json_t *tables, int fmt,
                        const report_render_opts *ro, const char *what)
{
    if (fmt == 0) {
        req_reply(r, MHD_HTTP_OK, body);
        return;
    }
    amp_err err = {0};
    json_t *detail = json_pack("{s:s, s:s}", "what", what, "format", fmt == 1 ? "csv" : "xlsx");
    amp_code code = audit_log(r->core, &r->who, "report.export", "report", what, detail, &err);
    json_decref(detail);
    if (code != AMP_OK) {
        req_fail(r, &err);
        amp_err_clear(&err);
        json_decref(body);
        return;
    }
    size_t len = 0;
    /* a download, named after what it holds ("crosstab", "action-plan"…) */
    char name[64];
    size_t o = 0;
    for (const char *q = what; *q && o < sizeof name - 1; q++)
        name[o++] = (isalnum((unsigned char)*q) || *q == '-' || *q == '_') ? *q : '-';
    name[o] = '\0';
    snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"amparo-%s.%s\"",
             o ? name : "report", fmt == 1 ? "csv" : "xlsx");
    if (fmt == 1) {
        char *csv =
            tables ? report_render_csv_pack(tables, ro, &len) : report_render_csv(body, ro, &len);
        reply_raw(r, csv, len, csv_type);
    } else {
        json_t *arr = tables ? json_incref(tables) : json_pack("[O]", body);
        unsigned char *x = report_render_xlsx(arr, ro, &len);
        json_decref(arr);
        reply_raw(r, x, len, xlsx_type);
    }
    json_decref(body);
}

static void h_dimensions(request *r)
{
    amp_err err = {0};
    if (authz_require(&r->who, ACT_READ, RES_REPORT, &err) != AMP_OK) {
        req_fail(r, &err);
        amp_err_clear(&err);
        return;
    }
    req_reply(r, MHD_HTTP_OK, reports_dimensions(r->core));
}

static void h_crosstab(request *r)
{
    query_params q;
    if (!query_of(r, &q))
        return;
    report_render_opts ro;
    int fmt = file_options(r, &q, &ro);
    if (fmt < 0) {
        query_params_release(&q);
        return;
    }
    list_param ps[MAX_PARAMS];
    size_t n = 0;
    bool published = false, scope_given = false;
    for (size_t i = 0; i < q.n && n + 2 < MAX_PARAMS; i++) {
        if (strcmp(q.items[i].name, "labels") == 0) /* the file's, not the query's */
            continue;
        if (strcmp(q.items[i].name, "publish") == 0)
            published = q.items[i].value && strcmp(q.items[i].value, "true") == 0;
        scope_given |= strcmp(q.items[i].name, "scope") == 0;
        ps[n++] = q.items[i];
    }
    if (fmt != 0) {
        /* a file is a publication, of the figures on screen: those of the
         * caller's organisation when the same query as JSON would be */
        if (!scope_given && r->who.org[0] && !report_is_controlled(&r->who, published)) {
            ps[n].name = "scope";
            ps[n++].value = "organisation";
        }
        ps[n].name = "publish";
        ps[n++].value = "true";
    }
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = report_crosstab(r->core, &r->who, ps, n, &out, &err);
    query_params_release(&q);
    if (code != AMP_OK) {
        req_fail(r, &err);
        amp_err_clear(&err);
        return;
    }
    send_tables(r, out, NULL, fmt, &ro, "crosstab");
}

static void h_standard_list(request *r)
{
    amp_err err = {0};
    if (authz_require(&r->who, ACT_READ, RES_REPORT, &err) != AMP_OK) {
        req_fail(r, &err);
        amp_err_clear(&err);
        return;
    }
    req_reply(r, MHD_HTTP_OK, standard_reports_list());
}

static void h_standard_run(request *r)
{
    query_params q;
    if (!query_of(r, &q))
        return;
    report_render_opts ro;
    int fmt = file_options(r, &q, &ro);
    static const char *const known[] = {"year", "format", "lang", "labels"};
    for (size_t i = 0; fmt >= 0 && i < q.n; i++) {
        bool ok = false;
        for (size_t k = 0; k < sizeof known / sizeof *known; k++)
            ok = ok || strcmp(q.items[i].name, known[k]) == 0;
        if (!ok) {
            char msg[160];
            snprintf(msg, sizeof msg, "unknown parameter '%.60s' (year, format, lang, labels)",
                     q.items[i].name);
            bad_param(r, q.items[i].name, "unknown_parameter", msg);
            fmt = -1;
        }
    }
    if (fmt < 0) {
        query_params_release(&q);
        return;
    }
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code =
        standard_report_run(r->core, &r->who, r->params[0], param(&q, "year"), &out, &err);
    query_params_release(&q);
    if (code != AMP_OK) {
        req_fail(r, &err);
        amp_err_clear(&err);
        return;
    }
    json_t *tables = json_incref(json_object_get(out, "tables"));
    /* crosstabs and list tables (indicators, shelter occupancy) go into files;
     * a table in error goes as its note */
    json_t *files = json_array();
    size_t i;
    json_t *t;
    json_array_foreach (tables, i, t) {
        if (json_object_get(t, "cells") || json_object_get(t, "items") ||
            json_object_get(t, "error"))
            json_array_append(files, t);
    }
    json_decref(tables);
    send_tables(r, out, files, fmt, &ro, r->params[0]);
    json_decref(files);
}

static void h_dashboard(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    if (report_dashboard(r->core, &r->who, &out, &err) != AMP_OK) {
        req_fail(r, &err);
        amp_err_clear(&err);
        return;
    }
    req_reply(r, MHD_HTTP_OK, out);
}

static void h_ledger(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    if (disclosure_ledger_get(r->core, &r->who, r->params[0], &out, &err) != AMP_OK) {
        req_fail(r, &err);
        amp_err_clear(&err);
        return;
    }
    req_reply(r, MHD_HTTP_OK, out);
}

/* PUT {"budget": B}: an administrator defines the dataset or sets its budget. */
static void h_ledger_put(request *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    const json_t *b = json_object_get(body, "budget");
    amp_code code = AMP_OK;
    if (!json_is_number(b) || json_object_size(body) != 1) {
        amp_err_field(&err, "budget", "required", "give {\"budget\": B} with 0 < B <= 1000");
        code = amp_err_set(&err, AMP_EINVALID, "the body must be {\"budget\": number}");
    }
    if (code == AMP_OK)
        code = disclosure_ledger_define(r->core, &r->who, r->params[0], json_number_value(b), &err);
    if (code == AMP_OK)
        code = disclosure_ledger_get(r->core, &r->who, r->params[0], &out, &err);
    json_decref(body);
    if (code != AMP_OK) {
        req_fail(r, &err);
        amp_err_clear(&err);
        return;
    }
    req_reply(r, MHD_HTTP_OK, out);
}

static void ctdc_bad(amp_err *e, const char *field, const char *rule, const char *msg)
{
    amp_err_field(e, field, rule, msg);
    amp_err_set(e, AMP_EINVALID, "%s", msg);
}

/* GET /api/v1/exports/ctdc: the CTDC file, or with summary=true the JSON summary
 * of what its anonymisation did instead (the same computation: the export is
 * deterministic, so it describes the file the same request returns while the
 * data stay as they are).  Bad parameters are 422 naming the field and rule. */
static void h_ctdc(request *r)
{
    query_params q;
    if (!query_of(r, &q))
        return;
    ctdc_options opt = {0};
    amp_err err = {0};
    bool bad = false;
    for (size_t i = 0; i < q.n && !bad; i++) {
        const char *k = q.items[i].name, *v = q.items[i].value ? q.items[i].value : "";
        char *end, msg[160];
        bad = true;
        if (strcmp(k, "k") == 0) {
            long kk = strtol(v, &end, 10);
            if (!*v || *end || kk < 2 || kk > 1000)
                ctdc_bad(&err, "k", "range", "k must be a whole number from 2 to 1000");
            else
                bad = false;
            opt.k = (int)kk;
        } else if (strcmp(k, "qi") == 0) {
            opt.qi = v;
            bad = false;
        } else if (strcmp(k, "delimiter") == 0) {
            if (strcmp(v, ";") == 0 || strcmp(v, ",") == 0) {
                opt.delimiter = v[0];
                bad = false;
            } else {
                ctdc_bad(&err, "delimiter", "enum", "delimiter must be ; or ,");
            }
        } else if (strcmp(k, "from_year") == 0 || strcmp(k, "to_year") == 0) {
            bool year = strlen(v) == 4 && strspn(v, "0123456789") == 4;
            if (year) {
                *(k[0] == 'f' ? &opt.year_from : &opt.year_to) = v;
                bad = false;
            } else {
                snprintf(msg, sizeof msg, "%s must be a year written YYYY", k);
                ctdc_bad(&err, k, "year", msg);
            }
        } else if (strcmp(k, "summary") == 0) {
            if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
                opt.summary_only = v[0] == 't';
                bad = false;
            } else {
                ctdc_bad(&err, "summary", "boolean", "summary must be true or false");
            }
        } else {
            snprintf(msg, sizeof msg,
                     "unknown parameter '%.60s' (k, qi, delimiter, from_year, to_year, summary)",
                     k);
            ctdc_bad(&err, k, "unknown_parameter", msg);
        }
    }
    if (bad) {
        query_params_release(&q);
        req_fail(r, &err);
        amp_err_clear(&err);
        return;
    }
    char *data = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&data, &len);
    if (!f) {
        query_params_release(&q);
        req_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory", NULL);
        return;
    }
    json_t *summary = NULL;
    amp_code code = ctdc_export(r->core, &r->who, &opt, f, &summary, &err);
    fclose(f);
    query_params_release(&q);
    if (code != AMP_OK) {
        free(data);
        req_fail(r, &err);
        amp_err_clear(&err);
        return;
    }
    if (opt.summary_only) {
        free(data);
        req_reply(r, MHD_HTTP_OK, summary);
        return;
    }
    json_decref(summary);
    reply_raw(r, data, len, csv_type);
}

const route routes_reports[] = {
    {"GET", "/api/v1/reports/dimensions", h_dimensions},
    {"GET", "/api/v1/reports/crosstab", h_crosstab},
    {"GET", "/api/v1/reports/standard", h_standard_list},
    {"GET", "/api/v1/reports/standard/:name", h_standard_run, .slow = ROUTE_SLOW_LONG},
    {"GET", "/api/v1/reports/dashboard", h_dashboard},
    {"GET", "/api/v1/reports/ledger/:dataset", h_ledger},
    {"PUT", "/api/v1/reports/ledger/:dataset", h_ledger_put},
    {"GET", "/api/v1/exports/ctdc", h_ctdc, .slow = ROUTE_SLOW_LONG},
    {NULL, NULL, NULL},
};
