/* audit_verify_bench.c — how long `amparo audit verify` takes on a large trail
 * (bench/audit_verify.sh builds and runs it; figures in docs/AUDIT.md,
 * "Verification").
 *
 *   audit_verify_bench DIR ENTRIES RUNS
 *
 * When DIR/amparo.db does not exist yet, writes ENTRIES entries into it first
 * (jobs of 5,000 audit_tx: 40 actors, a case id on four entries in five, like a
 * registry's reads and updates; logins carry no object).  Then runs audit_verify
 * RUNS times and prints one JSON object per run and one with the fastest and
 * the median run.  The key is DIR/audit.key (created when missing), so two
 * builds can be timed on the same database. */
#include "core/audit.h"
#include "util/clock.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PER_JOB 5000
#define MAX_RUNS 50

typedef struct {
    int64_t from, n;
} fill_arg;

static int fill_job(store_tx *tx, void *arg)
{
    const fill_arg *a = arg;
    json_t *detail = json_pack("{s:[s,s]}", "fields", "prs_Gender", "cas_Status");
    int rc = STORE_OK;
    for (int64_t i = a->from; i < a->from + a->n && rc == STORE_OK; i++) {
        principal p = {.roles = ROLE_CASEWORKER};
        snprintf(p.actor, sizeof p.actor, "worker-%02d", (int)(i % 40));
        snprintf(p.org, sizeof p.org, "org-%d", (int)(i % 3));
        snprintf(p.addr, sizeof p.addr, "192.0.2.%d", (int)(i % 250));
        char uid[40];
        snprintf(uid, sizeof uid, "0193a000-0000-7000-8000-%012llx", (long long)(i * 7919 % 6000));
        bool login = i % 5 == 4;
        rc = audit_tx(tx, &p, login ? "login.success" : i % 3 ? "case.read" : "case.update",
                      login ? NULL : "case", login ? NULL : uid, login ? NULL : detail);
    }
    json_decref(detail);
    return rc;
}

/* CPU seconds of this process: less disturbed than wall time by other work on
 * the machine. */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: audit_verify_bench DIR ENTRIES RUNS\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    int64_t entries = atoll(argv[2]);
    int runs = atoi(argv[3]);
    if (runs < 1 || runs > MAX_RUNS)
        runs = 5;
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/amparo.db", argv[1]);
    bool fresh = access(path, F_OK) != 0;
    if (audit_load_key(argv[1], err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    store *s = store_sqlite_open(path, err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (fresh) {
        int64_t t0 = clock_mono_us();
        for (int64_t from = 0; from < entries; from += PER_JOB) {
            fill_arg a = {from, entries - from < PER_JOB ? entries - from : PER_JOB};
            if (store_run(s, fill_job, &a) != STORE_OK) {
                fprintf(stderr, "cannot write entries from %lld\n", (long long)from);
                store_close(s);
                return 1;
            }
        }
        printf("{\"test\":\"fill\",\"entries\":%lld,\"seconds\":%.2f}\n", (long long)entries,
               (double)(clock_mono_us() - t0) / 1e6);
    }
    double secs[MAX_RUNS], cpu[MAX_RUNS];
    int ok = 1;
    audit_verify_result r;
    for (int i = 0; i < runs; i++) {
        int64_t t0 = clock_mono_us();
        double c0 = cpu_seconds();
        int v = audit_verify(s, NULL, NULL, &r);
        secs[i] = (double)(clock_mono_us() - t0) / 1e6;
        cpu[i] = cpu_seconds() - c0;
        ok &= v == 0;
        printf("{\"test\":\"verify\",\"run\":%d,\"intact\":%s,\"entries\":%lld,\"seconds\":%.3f,"
               "\"cpu_s\":%.3f}\n",
               i + 1, v == 0 ? "true" : "false", (long long)r.entries, secs[i], cpu[i]);
        if (v != 0)
            printf("{\"message\":\"%s\"}\n", r.message);
    }
    qsort(secs, (size_t)runs, sizeof *secs, cmp_double);
    qsort(cpu, (size_t)runs, sizeof *cpu, cmp_double);
    double median = secs[runs / 2];
    printf("{\"test\":\"verify_summary\",\"entries\":%lld,\"runs\":%d,\"fastest_s\":%.3f,"
           "\"median_s\":%.3f,\"median_cpu_s\":%.3f,\"entries_per_s\":%.0f}\n",
           (long long)r.entries, runs, secs[0], median, cpu[runs / 2],
           (double)r.entries / median);
    store_close(s);
    return ok ? 0 : 1;
}
