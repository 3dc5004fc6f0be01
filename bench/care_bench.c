/* care_bench.c — how long the care figures take over a national registry's
 * records (see bench/care.sh and docs/CARE.md, "Speed").
 *
 * Usage: care_bench DIR N.  Loads N cases (bulk) and, for each, a shelter stay,
 * a return with reunification, a reintegration plan and a scored visit, plus
 * N/10 trainings, straight through the store (the writes themselves are the
 * module's normal jobs; here only the reads are measured).  Then times each
 * figure (median of 5 runs) as an internal principal and prints one JSON line
 * per figure: {"figure", "records", "ms"}. */
#include "core/care_common.h"
#include "core/indicators.h"
#include "core/keyring.h"
#include "core/reintegration.h"
#include "core/returns.h"
#include "core/shelters.h"
#include "core/trainings.h"
#include "util/log.h"
#include "util/uuid.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

typedef struct {
    char (*cases)[40];
    int n;
    char shelter[40];
} fill;

static int put(store_tx *tx, const char *kind, const char *uid, const char *case_uid,
               const char *org, const char *org2, const char *status, const char *due, json_t *doc)
{
    store_record r = {0};
    snprintf(r.kind, sizeof r.kind, "%s", kind);
    if (uid)
        snprintf(r.uid, sizeof r.uid, "%s", uid);
    else
        uuid_v7(r.uid);
    snprintf(r.case_uid, sizeof r.case_uid, "%s", case_uid ? case_uid : "");
    snprintf(r.org, sizeof r.org, "%s", org);
    snprintf(r.org2, sizeof r.org2, "%s", org2 ? org2 : "");
    snprintf(r.status, sizeof r.status, "%s", status ? status : "");
    snprintf(r.due, sizeof r.due, "%s", due ? due : "");
    r.doc = doc;
    int rc = store_tx_record_put(tx, &r, 0);
    store_record_release(&r);
    return rc;
}

static int fill_job(store_tx *tx, void *arg)
{
    fill *f = arg;
    int rc = STORE_OK;
    for (int i = 0; i < f->n && rc == STORE_OK; i++) {
        const char *cu = f->cases[i];
        char a[11], d[11];
        care_date(care_days("2024-01-01") + (i * 7) % 800, a);
        care_date(care_days(a) + 30 + i % 300, d);
        rc = put(tx, "stay", NULL, cu, "org-b", f->shelter, "Discharged", "",
                 json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:f, s:s}", "case", cu,
                           "shelter", f->shelter, "place_kind", "Women", "places", 1, "status",
                           "Discharged", "admitted_on", a, "discharged_on", d, "discharge_reason",
                           "FamilyReintegration", "cost", 300.0, "currency", "USD"));
        if (rc == STORE_OK)
            rc = put(tx, "return", NULL, cu, "org-a", "", "Completed", d,
                     json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s]}", "case", cu, "type",
                               "ReturnAndReunification", "destination_country", "CO",
                               "departure_date", d, "reunification_date", d, "reunified_with",
                               "Mother"));
        if (rc == STORE_OK)
            rc = put(tx, "reintegration_plan", cu, cu, "org-a", "", "Active", a,
                     json_pack("{s:s, s:s, s:s, s:s}", "case", cu, "start_date", a, "framework",
                               "adult", "status", "Active"));
        if (rc == STORE_OK)
            rc = put(tx, "visit", NULL, cu, "org-a", "", "", d,
                     json_pack("{s:s, s:s, s:{s:f}, s:{s:f}, s:f, s:b}", "case", cu, "date", d,
                               "scores", "soc_housing", 0.7, "dimension_scores", "social", 0.7,
                               "composite", 0.7, "sustainable", 1));
        if (rc == STORE_OK && i % 10 == 0)
            rc = put(tx, "training", NULL, NULL, "org-a", "", "Training", a,
                     json_pack("{s:s, s:s, s:s, s:s, s:i, s:{s:i, s:i}, s:i}", "type", "Training",
                               "title", "T", "start_date", a, "city", i % 20 ? "Quito" : "Ibarra",
                               "participants", 30, "participants_by_org_type", "LawEnforcement", 20,
                               "NGO", 10, "officials", 20));
    }
    return rc;
}

typedef amp_code (*figure_fn)(core *, const principal *, const list_param *, size_t, json_t **,
                              amp_err *);

static void time_figure(core *c, const char *name, figure_fn fn, const list_param *ps, size_t n,
                        int records)
{
    principal in = {.actor = "bench", .lang = "en", .internal = true};
    double t[5];
    for (int k = 0; k < 5; k++) {
        amp_err err = {0};
        json_t *out = NULL;
        double t0 = now_ms();
        if (fn(c, &in, ps, n, &out, &err) != AMP_OK)
            fprintf(stderr, "%s: %s\n", name, err.message);
        t[k] = now_ms() - t0;
        json_decref(out);
        amp_err_clear(&err);
    }
    printf("{\"figure\":\"%s\",\"records\":%d,\"ms\":%.1f}\n", name, records, care_median(t, 5));
}

static amp_code measure_assisted(core *c, const principal *p, const list_param *ps, size_t n,
                                 json_t **out, amp_err *err)
{
    (void)p, (void)ps, (void)n;
    double v = 0;
    amp_code code =
        indicators_measure(c, "cases_assisted", NULL, "2025-01-01", "2025-12-31", &v, err);
    *out = json_real(v);
    return code;
}

int main(int argc, char **argv)
{
    if (argc < 3 || sodium_init() < 0) {
        fprintf(stderr, "usage: care_bench DIR N\n");
        return 2;
    }
    int n = atoi(argv[2]);
    char path[4200], err_text[512];
    log_set_quiet(1);
    snprintf(path, sizeof path, "%s/amparo.db", argv[1]);
    catalogue *cat = catalogue_load_embedded(err_text, sizeof err_text);
    store *s = store_sqlite_open(path, err_text, sizeof err_text);
    amp_err err = {0};
    if (!cat || !s || keyring_init_dir(argv[1], &err) != 0) {
        fprintf(stderr, "care_bench: %s %s\n", err_text, err.message);
        return 1;
    }
    keyring *kr = keyring_open(argv[1], &err);
    core *c = core_new(s, cat, "EC");
    core_set_keyring(c, kr);
    principal in = {.actor = "bench", .lang = "en", .internal = true};
    static const char *const orgs[] = {"org-a", "org-b"};
    for (int i = 0; i < 2; i++) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", orgs[i], "org_Name", orgs[i],
                              "org_Type", "NGO", "amp_OrgCountry", "EC"),
               *out = NULL;
        orgs_put(c, &in, o, &out, &err);
        json_decref(o);
        json_decref(out);
    }
    double t0 = now_ms();
    store_bulk_begin(s);
    amp_code code = AMP_OK;
    for (int i = 0; i < n && code == AMP_OK; i++) {
        char reg[11];
        care_date(care_days("2024-01-01") + (i * 7) % 800, reg);
        json_t *one =
            json_pack("{s:s, s:s, s:[s], s:s, s:s, s:s}", "prs_Gender", "Feminine",
                      "vic_TraffickingStatus", "ActualVictimOfTrafficking", "prs_Citizenship",
                      i % 3 ? "EC" : "CO", "amp_RegistrationDate", reg, "prs_Birthdate",
                      i % 4 ? "1995-01-01" : "2012-01-01", "amp_OwnerOrganisation", "org-a");
        code = cases_bulk_insert(c, &in, one, &err);
        json_decref(one);
    }
    store_bulk_end(s, code == AMP_OK);
    fill f = {calloc((size_t)n + 1, 40), 0, ""};
    for (int offset = 0; f.n < n; offset += 500) {
        store_query q = {.sort = SORT_CREATED, .limit = 500, .offset = offset};
        store_row *rows = NULL;
        int nr = 0;
        int64_t total = 0;
        store_case_list(s, &q, &rows, &nr, &total);
        for (int i = 0; i < nr; i++) {
            if (f.n < n)
                snprintf(f.cases[f.n++], 40, "%s", rows[i].uid);
            store_row_release(&rows[i]);
        }
        free(rows);
        if (nr < 500)
            break;
    }
    json_t *sb = json_pack("{s:s, s:s, s:{s:i}, s:s}", "name", "S", "org", "org-b", "capacity",
                           "Women", 100, "opened_on", "2020-01-01"),
           *out = NULL;
    care_wait *w = care_wait_new();
    care_wait_end(w, shelters_create(c, &in, sb, care_wait_done, w, &err), &out, &err);
    snprintf(f.shelter, sizeof f.shelter, "%s", json_string_value(json_object_get(out, "id")));
    json_decref(out);
    json_decref(sb);
    store_run(s, fill_job, &f);
    fprintf(stderr,
            "care bench: %d cases, %d each of stays, returns, plans, visits, %d trainings "
            "loaded in %.1f s\n",
            f.n, f.n, (f.n + 9) / 10, (now_ms() - t0) / 1000);
    list_param year[] = {{"period", "2025"}};
    list_param series[] = {{"from", "2025-01-01"}, {"to", "2025-12-31"}, {"step", "month"}};
    time_figure(c, "returns/stats", returns_stats, year, 1, f.n);
    time_figure(c, "shelters/stats", shelters_stats, year, 1, f.n);
    time_figure(c, "shelters/occupancy (year, monthly)", shelters_occupancy_all, series, 3, f.n);
    time_figure(c, "trainings/stats", trainings_stats, year, 1, (f.n + 9) / 10);
    time_figure(c, "reintegration/outcomes", reint_outcomes, NULL, 0, f.n);
    time_figure(c, "reintegration/alerts", reint_alerts, NULL, 0, f.n);
    time_figure(c, "indicator cases_assisted", measure_assisted, NULL, 0, 4 * f.n);
    free(f.cases);
    core_free(c);
    keyring_free(kr);
    store_close(s);
    catalogue_free(cat);
    return 0;
}
