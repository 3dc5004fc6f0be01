/* audit_bench.c — throughput and cost of the audit trail (bench/audit.sh builds
 * and runs it; figures in bench/README.md).
 *
 *   audit_bench DIR SECONDS CALLERS...
 *
 * On a new database in DIR (its disk is the one that fsyncs):
 *   1. for each CALLERS count: that many threads call audit_log (durable, one
 *      store job each, group-committed) for SECONDS; prints entries/s and the
 *      p50/p99 latency of a call;
 *   2. audit_submit: one thread queues 50,000 entries without waiting, one job
 *      each, then the same in rounds of 64 (as a server thread does: one job
 *      per round, audit_round_begin/end);
 *   3. the CPU cost of one entry without the commit: 20,000 audit_tx in one job;
 *   4. the head read each append makes, alone (20,000 in one job);
 *   5. read entries as the read journal commits them: jobs of 256 prepared
 *      case.read entries (audit_tx_append_fields), a random case id each, one
 *      commit per job; wall and process CPU time per entry;
 *   6. verification speed: audit_verify over everything written.
 * Prints one JSON object per measurement on stdout.  AUDIT_BENCH_ONLY=journal
 * runs step 5 alone (to profile it). */
#include "core/audit.h"
#include "util/clock.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SAMPLES 400000

typedef struct {
    core *core;
    int index;
    int64_t deadline_us;
    int64_t *lat; /* this caller's latencies, µs */
    size_t nlat, cap;
    int failures;
} caller;

static void *caller_main(void *arg)
{
    caller *c = arg;
    principal p = {.roles = ROLE_CASEWORKER};
    snprintf(p.actor, sizeof p.actor, "bench-%d", c->index);
    snprintf(p.org, sizeof p.org, "org-a");
    snprintf(p.addr, sizeof p.addr, "192.0.2.%d", c->index % 250);
    json_t *detail = json_pack("{s:[s,s,s]}", "fields", "prs_Gender", "cas_Status", "vic_Age");
    char id[40];
    while (clock_mono_us() < c->deadline_us) {
        snprintf(id, sizeof id, "0193a000-0000-7000-8000-%012zx", c->nlat);
        int64_t t0 = clock_mono_us();
        amp_err err = {0};
        if (audit_log(c->core, &p, "case.read", "case", id, detail, &err) != AMP_OK)
            c->failures++;
        amp_err_clear(&err);
        if (c->nlat < c->cap)
            c->lat[c->nlat++] = clock_mono_us() - t0;
    }
    json_decref(detail);
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void run_callers(core *co, int n, double seconds)
{
    caller *c = calloc((size_t)n, sizeof *c);
    pthread_t *t = calloc((size_t)n, sizeof *t);
    size_t per = MAX_SAMPLES / (size_t)n;
    int64_t start = clock_mono_us();
    for (int i = 0; i < n; i++) {
        c[i] = (caller){.core = co,
                        .index = i,
                        .deadline_us = start + (int64_t)(seconds * 1e6),
                        .lat = malloc(per * sizeof(int64_t)),
                        .cap = per};
        pthread_create(&t[i], NULL, caller_main, &c[i]);
    }
    size_t total = 0;
    int failures = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        total += c[i].nlat;
        failures += c[i].failures;
    }
    double elapsed = (double)(clock_mono_us() - start) / 1e6;
    int64_t *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        memcpy(all + k, c[i].lat, c[i].nlat * sizeof *all);
        k += c[i].nlat;
        free(c[i].lat);
    }
    qsort(all, total, sizeof *all, cmp64);
    printf("{\"test\":\"audit_log\",\"callers\":%d,\"entries\":%zu,\"failures\":%d,"
           "\"seconds\":%.2f,\"entries_per_s\":%.0f,\"p50_us\":%lld,\"p99_us\":%lld}\n",
           n, total, failures, elapsed, (double)total / elapsed,
           (long long)(total ? all[total / 2] : 0),
           (long long)(total ? all[(size_t)((double)total * 0.99)] : 0));
    fflush(stdout);
    free(all);
    free(c);
    free(t);
}

#define IN_ONE_JOB 20000

static int many_job(store_tx *tx, void *arg)
{
    (void)arg;
    principal p = {.actor = "bench", .org = "org-a", .addr = "192.0.2.1"};
    json_t *detail = json_pack("{s:[s,s,s]}", "fields", "prs_Gender", "cas_Status", "vic_Age");
    int rc = STORE_OK;
    for (int i = 0; i < IN_ONE_JOB && rc == STORE_OK; i++)
        rc =
            audit_tx(tx, &p, "case.update", "case", "0193a000-0000-7000-8000-000000000001", detail);
    json_decref(detail);
    return rc;
}

#define JOURNAL_JOBS 200
#define JOURNAL_LINES 256

static int journal_job(store_tx *tx, void *arg)
{
    audit_fields *f = arg;
    const audit_fields *list[JOURNAL_LINES];
    for (int i = 0; i < JOURNAL_LINES; i++) {
        unsigned char r[6];
        randombytes_buf(r, sizeof r);
        snprintf(f[i].object_id, sizeof f[i].object_id,
                 "0193a000-0000-7000-8000-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
                 r[5]);
        list[i] = &f[i];
    }
    return audit_tx_append_fields(tx, list, JOURNAL_LINES);
}

static void run_journal(store *s)
{
    audit_fields *f = calloc(JOURNAL_LINES, sizeof *f);
    principal p = {.actor = "bench", .org = "org-a", .addr = "192.0.2.1"};
    for (int i = 0; i < JOURNAL_LINES; i++) {
        audit_fields_prepare(&f[i], &p, "case.read", "case", "", NULL);
        free(f[i].detail);
        f[i].detail = strdup("{\"identity\":true}");
    }
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    int64_t t0 = clock_mono_us();
    int rc = STORE_OK;
    for (int j = 0; j < JOURNAL_JOBS && rc == STORE_OK; j++)
        rc = store_run(s, journal_job, f);
    double us = (double)(clock_mono_us() - t0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) * 1e6 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e3;
    int n = JOURNAL_JOBS * JOURNAL_LINES;
    printf("{\"test\":\"journal_commits\",\"entries\":%d,\"per_commit\":%d,\"ok\":%s,"
           "\"us_per_entry\":%.2f,\"cpu_us_per_entry\":%.2f}\n",
           n, JOURNAL_LINES, rc == STORE_OK ? "true" : "false", us / n, cpu / n);
    fflush(stdout);
    for (int i = 0; i < JOURNAL_LINES; i++)
        audit_fields_release(&f[i]);
    free(f);
}

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long done, ok;
} submit_wait;

static void on_submitted(void *arg, amp_code code)
{
    submit_wait *w = arg;
    pthread_mutex_lock(&w->mu);
    w->done++;
    w->ok += code == AMP_OK;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

#define SUBMITS 50000

/* One thread queues SUBMITS entries without waiting (audit_submit), in rounds
 * of per_round entries (0: no rounds), then waits for every callback. */
static void run_submit(core *co, int per_round)
{
    submit_wait w = {.done = 0};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    principal p = {.actor = "bench-async", .org = "org-a", .addr = "192.0.2.2"};
    json_t *detail = json_pack("{s:[s,s,s]}", "fields", "prs_Gender", "cas_Status", "vic_Age");
    int64_t t0 = clock_mono_us();
    for (int i = 0; i < SUBMITS; i++) {
        amp_err err = {0};
        if (per_round && i % per_round == 0)
            audit_round_begin();
        audit_submit(co, &p, "case.read", "case", "0193a000-0000-7000-8000-000000000002", detail,
                     on_submitted, &w, &err);
        if (per_round && (i % per_round == per_round - 1 || i == SUBMITS - 1))
            audit_round_end(co);
    }
    pthread_mutex_lock(&w.mu);
    while (w.done < SUBMITS)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    double secs = (double)(clock_mono_us() - t0) / 1e6;
    json_decref(detail);
    printf("{\"test\":\"audit_submit\",\"per_round\":%d,\"entries\":%d,\"ok\":%ld,"
           "\"seconds\":%.2f,\"entries_per_s\":%.0f}\n",
           per_round, SUBMITS, w.ok, secs, SUBMITS / secs);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
}

/* The head read that every append makes, alone: what keeping the head in memory
 * would save. */
static int heads_job(store_tx *tx, void *arg)
{
    (void)arg;
    for (int i = 0; i < IN_ONE_JOB; i++) {
        store_audit_entry e;
        if (store_tx_audit_head(tx, &e) != STORE_OK)
            return STORE_ERROR;
        store_audit_entry_release(&e);
    }
    return STORE_OK;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: audit_bench DIR SECONDS CALLERS...\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/amparo.db", argv[1]);
    if (audit_load_key(argv[1], err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    store *s = store_sqlite_open(path, err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    catalogue *cat = catalogue_load_embedded(err, sizeof err);
    core *co = cat ? core_new(s, cat, "EC") : NULL;
    if (!co) {
        fprintf(stderr, "cannot create the core\n");
        return 1;
    }
    double seconds = atof(argv[2]);
    const char *only = getenv("AUDIT_BENCH_ONLY"); /* "journal": step 5 alone (profiling) */
    if (only && strcmp(only, "journal") == 0) {
        run_journal(s);
        core_free(co);
        catalogue_free(cat);
        store_close(s);
        return 0;
    }
    for (int i = 3; i < argc; i++)
        run_callers(co, atoi(argv[i]), seconds);

    run_submit(co, 0);
    run_submit(co, 64);
    int64_t t0 = clock_mono_us();
    int rc = store_run(s, many_job, NULL);
    double us = (double)(clock_mono_us() - t0);
    printf("{\"test\":\"audit_tx_in_one_job\",\"entries\":%d,\"ok\":%s,\"us_per_entry\":%.2f}\n",
           IN_ONE_JOB, rc == STORE_OK ? "true" : "false", us / IN_ONE_JOB);

    t0 = clock_mono_us();
    int hrc = store_run(s, heads_job, NULL);
    us = (double)(clock_mono_us() - t0);
    printf("{\"test\":\"head_read\",\"reads\":%d,\"ok\":%s,\"us_per_read\":%.2f}\n", IN_ONE_JOB,
           hrc == STORE_OK ? "true" : "false", us / IN_ONE_JOB);

    run_journal(s);

    audit_verify_result r;
    t0 = clock_mono_us();
    int v = audit_verify(s, NULL, NULL, &r);
    us = (double)(clock_mono_us() - t0);
    printf("{\"test\":\"verify\",\"intact\":%s,\"entries\":%lld,\"seconds\":%.2f,"
           "\"entries_per_s\":%.0f}\n",
           v == 0 ? "true" : "false", (long long)r.entries, us / 1e6,
           (double)r.entries / (us / 1e6));
    core_free(co);
    catalogue_free(cat);
    store_close(s);
    return v == 0 && rc == STORE_OK ? 0 : 1;
}
