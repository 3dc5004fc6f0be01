/* disclosure.c — suppression, rounding and differentially private noise of
 * aggregate tables, and the privacy-budget ledger (see disclosure.h). */
#include "core/disclosure.h"
#include "core/audit.h"
#include "core/core.h"
#include "util/clock.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== tables ================================================================= */

amp_code dc_table_init(dc_table *t, int ndims, const size_t *size, amp_err *err)
{
    memset(t, 0, sizeof *t);
    if (ndims < 1 || ndims > DC_MAX_DIMS)
        return amp_err_set(err, AMP_EBADREQ, "a table has 1 to %d dimensions", DC_MAX_DIMS);
    size_t n = 1;
    for (int d = 0; d < ndims; d++) {
        t->size[d] = size[d];
        if (size[d] + 1 > DC_MAX_CELLS / n)
            return amp_err_set(err, AMP_ETOOBIG,
                               "the table would have more than %u cells: use fewer dimensions "
                               "or filters",
                               DC_MAX_CELLS);
        n *= size[d] + 1;
    }
    t->ndims = ndims;
    t->ncells = n;
    t->count = calloc(n, sizeof *t->count);
    t->status = calloc(n, sizeof *t->status);
    if (!t->count || !t->status) {
        dc_table_release(t);
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    }
    return AMP_OK;
}

void dc_table_release(dc_table *t)
{
    free(t->count);
    free(t->status);
    memset(t, 0, sizeof *t);
}

static size_t stride_of(const dc_table *t, int d)
{
    size_t s = 1;
    for (int e = t->ndims - 1; e > d; e--)
        s *= t->size[e] + 1;
    return s;
}

size_t dc_index(const dc_table *t, const size_t *idx)
{
    size_t i = 0;
    for (int d = 0; d < t->ndims; d++)
        i = i * (t->size[d] + 1) + idx[d];
    return i;
}

/* ==== suppression ================================================================ */

/* One pass of secondary suppression along dimension d; returns cells added. */
static size_t secondary_pass(dc_table *t, int d)
{
    size_t stride = stride_of(t, d), len = t->size[d] + 1, added = 0;
    for (size_t start = 0; start < t->ncells; start++) {
        if ((start / stride) % len != 0)
            continue; /* not the first cell of a line along d */
        size_t withheld = 0;
        for (size_t k = 0; k < len && withheld < 2; k++)
            withheld += t->status[start + k * stride] != DC_SHOWN;
        if (withheld != 1)
            continue;
        /* the smallest non-zero shown category cell, else the total */
        size_t best = SIZE_MAX;
        for (size_t k = 0; k + 1 < len; k++) {
            size_t i = start + k * stride;
            if (t->status[i] == DC_SHOWN && t->count[i] > 0 &&
                (best == SIZE_MAX || t->count[i] < t->count[best]))
                best = i;
        }
        size_t total = start + (len - 1) * stride;
        if (best == SIZE_MAX && t->status[total] == DC_SHOWN)
            best = total;
        if (best != SIZE_MAX) {
            t->status[best] = DC_SECONDARY;
            added++;
        }
    }
    return added;
}

size_t disclosure_suppress(dc_table *t, int threshold)
{
    size_t n = 0;
    if (threshold <= 1)
        return 0;
    for (size_t i = 0; i < t->ncells; i++) {
        if (t->count[i] >= 1 && t->count[i] < threshold && t->status[i] == DC_SHOWN) {
            t->status[i] = DC_PRIMARY;
            n++;
        }
    }
    if (!n)
        return 0;
    /* until no line along any dimension holds exactly one withheld cell */
    for (;;) {
        size_t added = 0;
        for (int d = 0; d < t->ndims; d++)
            added += secondary_pass(t, d);
        n += added;
        if (!added)
            break;
    }
    return n;
}

/* ==== noise ======================================================================= */

/* Uniform on (0, 1), never 0 or 1. */
static double uniform01(void)
{
    uint64_t r;
    randombytes_buf(&r, sizeof r);
    return ((double)(r >> 11) + 0.5) / 9007199254740992.0;
}

double disclosure_laplace(double b)
{
    double u = uniform01() - 0.5;
    return -b * (u < 0 ? -1.0 : 1.0) * log(1.0 - 2.0 * fabs(u));
}

/* A geometric draw: failures before the first success, success probability 1 - alpha. */
static int64_t geometric1(double alpha)
{
    double g = floor(log(uniform01()) / log(alpha));
    return g > 1e12 ? (int64_t)1e12 : (int64_t)g;
}

int64_t disclosure_geometric(double alpha)
{
    if (alpha <= 0)
        return 0;
    return geometric1(alpha) - geometric1(alpha);
}

static void add_noise(dc_table *t, const disclosure_opts *o)
{
    double delta = o->sensitivity > 0 ? o->sensitivity : 1.0;
    for (size_t i = 0; i < t->ncells; i++) {
        int64_t v;
        if (o->mechanism == DP_GEOMETRIC)
            v = t->count[i] + disclosure_geometric(exp(-o->epsilon / delta));
        else
            v = (int64_t)llround((double)t->count[i] + disclosure_laplace(delta / o->epsilon));
        t->count[i] = v < 0 ? 0 : v; /* post-processing keeps the guarantee */
    }
}

size_t disclosure_apply(dc_table *t, const disclosure_opts *o)
{
    if (o->mechanism != DP_NONE && o->epsilon > 0)
        add_noise(t, o);
    size_t n = disclosure_suppress(t, o->threshold);
    if (o->rounding > 1) {
        for (size_t i = 0; i < t->ncells; i++) {
            int64_t b = o->rounding, v = t->count[i];
            t->count[i] = (v + b / 2) / b * b;
        }
    }
    return n;
}

json_t *disclosure_describe(const dc_table *t, const disclosure_opts *o)
{
    size_t prim = 0, sec = 0;
    for (size_t i = 0; i < t->ncells; i++) {
        prim += t->status[i] == DC_PRIMARY;
        sec += t->status[i] == DC_SECONDARY;
    }
    json_t *dp = json_null();
    if (o->mechanism != DP_NONE && o->epsilon > 0)
        dp = json_pack("{s:s, s:f, s:f, s:s}", "mechanism",
                       o->mechanism == DP_GEOMETRIC ? "geometric" : "laplace", "epsilon",
                       o->epsilon, "sensitivity", o->sensitivity > 0 ? o->sensitivity : 1.0, "note",
                       "every count, totals included, carries independent noise");
    return json_pack("{s:b, s:i, s:o, s:I, s:I, s:o}", "applied", 1, "threshold", o->threshold,
                     "rounding", o->rounding > 1 ? json_integer(o->rounding) : json_null(),
                     "suppressed_primary", (json_int_t)prim, "suppressed_secondary",
                     (json_int_t)sec, "dp", dp);
}

/* ==== the privacy budget ledger ===================================================== */

#define LEDGER_KIND "dp_ledger"
#define LEDGER_MAX_RELEASES 5000

static bool dataset_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return false;
    }
    return true;
}

typedef struct {
    const principal *p;
    const char *dataset, *release;
    double epsilon, budget, spent;
} spend_job;

static int job_spend(store_tx *tx, void *arg)
{
    spend_job *j = arg;
    store_record r;
    memset(&r, 0, sizeof r);
    char uid[40];
    snprintf(uid, sizeof uid, "dp:%s", j->dataset);
    int rc = store_tx_record_get(tx, LEDGER_KIND, uid, &r);
    int64_t expected = 0;
    if (rc == STORE_NOTFOUND) {
        memset(&r, 0, sizeof r);
        snprintf(r.kind, sizeof r.kind, "%s", LEDGER_KIND);
        snprintf(r.uid, sizeof r.uid, "%s", uid);
        snprintf(r.status, sizeof r.status, "%s", j->dataset);
        r.doc = json_pack("{s:s, s:f, s:[]}", "dataset", j->dataset, "spent", 0.0, "releases");
    } else if (rc != STORE_OK) {
        return rc;
    } else {
        expected = r.version;
    }
    double spent = json_number_value(json_object_get(r.doc, "spent"));
    if (spent + j->epsilon > j->budget + 1e-12) {
        j->spent = spent;
        store_record_release(&r);
        return 100; /* over budget */
    }
    char now[32];
    clock_now(now);
    json_t *rels = json_object_get(r.doc, "releases");
    if (!json_is_array(rels)) {
        rels = json_array();
        json_object_set_new(r.doc, "releases", rels);
    }
    while (json_array_size(rels) >= LEDGER_MAX_RELEASES)
        json_array_remove(rels, 0); /* the running total keeps them all */
    json_array_append_new(rels, json_pack("{s:s, s:s, s:f, s:s}", "at", now, "actor", j->p->actor,
                                          "epsilon", j->epsilon, "release", j->release));
    j->spent = spent + j->epsilon;
    json_object_set_new(r.doc, "spent", json_real(j->spent));
    json_object_set_new(r.doc, "budget", json_real(j->budget));
    snprintf(r.updated_at, sizeof r.updated_at, "%s", now);
    snprintf(r.updated_by, sizeof r.updated_by, "%s", j->p->actor);
    if (!expected) {
        snprintf(r.created_at, sizeof r.created_at, "%s", now);
        snprintf(r.created_by, sizeof r.created_by, "%s", j->p->actor);
    }
    rc = store_tx_record_put(tx, &r, expected);
    if (rc == STORE_OK) {
        json_t *detail = json_pack("{s:s, s:f, s:f}", "dataset", j->dataset, "epsilon", j->epsilon,
                                   "spent", j->spent);
        audit_tx(tx, j->p, "report.dp_spend", "dp_ledger", uid, detail);
        json_decref(detail);
    }
    store_record_release(&r);
    return rc;
}

amp_code disclosure_ledger_spend(core *c, const principal *p, const char *dataset, double epsilon,
                                 double budget, const char *release, double *spent, amp_err *err)
{
    if (!dataset_ok(dataset)) {
        amp_err_field(err, "dataset", "pattern", "1 to 32 of A-Z a-z 0-9 _ . -");
        return amp_err_set(err, AMP_EINVALID, "invalid dataset name");
    }
    if (!(epsilon > 0) || epsilon > 100) {
        amp_err_field(err, "epsilon", "range", "epsilon must be greater than 0 and at most 100");
        return amp_err_set(err, AMP_EINVALID, "invalid epsilon");
    }
    spend_job j = {.p = p,
                   .dataset = dataset,
                   .release = release ? release : "",
                   .epsilon = epsilon,
                   .budget = budget > 0 ? budget : DC_DEFAULT_BUDGET};
    int rc = store_run(core_store(c), job_spend, &j);
    if (spent)
        *spent = j.spent;
    if (rc == 100)
        return amp_err_set(err, AMP_ESTATE,
                           "the privacy budget of '%s' would be exceeded: %.3g of %.3g spent, "
                           "%.3g asked",
                           dataset, j.spent, j.budget, epsilon);
    if (rc != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "the privacy ledger could not be written");
    return AMP_OK;
}

amp_code disclosure_ledger_get(core *c, const principal *p, const char *dataset, json_t **out,
                               amp_err *err)
{
    *out = NULL;
    amp_code code = authz_require(p, ACT_READ, RES_REPORT, err);
    if (code != AMP_OK)
        return code;
    if (!dataset_ok(dataset)) {
        amp_err_field(err, "dataset", "pattern", "1 to 32 of A-Z a-z 0-9 _ . -");
        return amp_err_set(err, AMP_EINVALID, "invalid dataset name");
    }
    char uid[40];
    snprintf(uid, sizeof uid, "dp:%s", dataset);
    store_record r;
    memset(&r, 0, sizeof r);
    int rc = store_record_get(core_store(c), LEDGER_KIND, uid, &r);
    if (rc == STORE_NOTFOUND) {
        *out = json_pack("{s:s, s:f, s:[]}", "dataset", dataset, "spent", 0.0, "releases");
        return AMP_OK;
    }
    if (rc != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "the privacy ledger could not be read");
    *out = json_incref(r.doc);
    store_record_release(&r);
    return AMP_OK;
}
