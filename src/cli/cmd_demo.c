/* cmd_demo.c — amparo demo: load realistic synthetic cases. */
#include "cli/cli.h"
#include "demo/activity.h"
#include "demo/demo.h"
#include "util/clock.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: amparo demo [--data DIR] [--cases N] [--seed S]\n"
    "       amparo demo [--data DIR] --activity [--seed S]\n"
    "\n"
    "Loads N synthetic cases (default 5000; up to 10,000,000) into an initialised\n"
    "data directory: organisations in Ecuador, Peru, Colombia, Guatemala, Ukraine,\n"
    "Belarus and Moldova, and cases across years, exploitation types, routes, ages\n"
    "and genders.  Every case is fiction, validated like any other.  The same seed\n"
    "gives the same data.\n"
    "\n"
    "--activity adds, to a data directory loaded that way, the last five months\n"
    "of the organisations' work, replayed through the core as their staff at the\n"
    "time of each action (validated, consent-checked, sealed and audited like real\n"
    "work): the referral directory of every demo organisation; referrals of about\n"
    "3.5 %% of the cases, in and across countries, sent, accepted, declined with a\n"
    "reason, completed, cancelled or still unanswered (some overdue), refused by the\n"
    "core when the consent does not allow them; two shelters of Centro de Acogida\n"
    "Santa Marta with stays (ongoing, ended) and the waiting list when full;\n"
    "assistance with providers and costs; identification decisions; criminal\n"
    "proceedings after some of them (complaint, investigation, prosecution, trial,\n"
    "verdict); follow-up reminders, done or due; reintegration\n"
    "plans with monitoring visits; trainings and campaigns with participants by sex\n"
    "and organisation type; hotline contacts of Fundación Alas de Colibrí, some\n"
    "turned into cases.  It runs once: a data directory that already holds referrals\n"
    "or shelters is refused (exit 1) and nothing is added.\n"
    "\n"
    "  --data DIR   data directory (default: $AMPARO_DATA or ./data)\n"
    "  --cases N    number of cases\n"
    "  --seed S     random seed (default 2026)\n"
    "  --activity   add the activity described above instead of loading cases\n";

#define CHUNK 20000 /* cases per transaction */

int cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'}, {"cases", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'}, {"activity", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
    const char *data = NULL;
    long long ncases = 5000;
    unsigned long long seed = 2026;
    int ch;
    bool activity = false, cases_given = false;
    char *end;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': data = optarg; break;
        case 'a': activity = true; break;
        case 'n':
            cases_given = true;
            ncases = strtoll(optarg, &end, 10);
            if (*end || ncases < 0 || ncases > 10000000) {
                fprintf(stderr, "amparo demo: --cases must be 0 to 10000000\n");
                return EXIT_USAGE;
            }
            break;
        case 's':
            seed = strtoull(optarg, &end, 10);
            if (*end) {
                fprintf(stderr, "amparo demo: --seed must be a number\n");
                return EXIT_USAGE;
            }
            break;
        case 'h': fputs(usage, stdout); return EXIT_OK;
        default: fputs(usage, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "amparo demo: unexpected argument '%s'\n%s", argv[optind], usage);
        return EXIT_USAGE;
    }
    if (activity && cases_given) {
        fprintf(stderr, "amparo demo: --activity and --cases are separate steps\n%s", usage);
        return EXIT_USAGE;
    }
    cli_env env;
    if (cli_env_open(&env, cli_data_dir(data)) < 0)
        return EXIT_FAIL;
    principal p = {.actor = "demo", .lang = "en", .internal = true};
    char today[11];
    clock_today(today);
    int rc = EXIT_OK;
    amp_err err = {0};
    if (activity) {
        demo_activity_counts n;
        int64_t a0 = clock_mono_us();
        if (demo_activity_run(env.core, seed, today, &n, &err) != AMP_OK) {
            rc = cli_report(&err);
        } else {
            printf("activity in %.1f s: %ld directory entries; %ld referrals (%ld accepted, %ld "
                   "completed, %ld declined, %ld cancelled, %ld unanswered; %ld refused for "
                   "consent); %ld shelters, %ld stays (%ld ended), %ld on the waiting list, %ld "
                   "returns home; %ld "
                   "assistance records; %ld decisions; %ld reintegration plans, %ld visits; %ld "
                   "trainings; %ld hotline contacts (%ld turned into cases); %ld criminal "
                   "proceedings (%ld verdicts); %ld reminders (%ld done)\n",
                   (double)(clock_mono_us() - a0) / 1e6, n.directory, n.referrals, n.accepted,
                   n.completed, n.declined, n.cancelled, n.unanswered, n.refused_consent,
                   n.shelters, n.admitted, n.discharged, n.waiting, n.returns, n.assistance,
                   n.decisions, n.plans, n.visits, n.trainings, n.contacts, n.contacts_to_cases,
                   n.proceedings, n.verdicts, n.reminders, n.reminders_done);
        }
        amp_err_clear(&err);
        cli_env_close(&env);
        return rc;
    }
    demo_gen *g = demo_gen_new(seed, today);
    json_t *orgs = demo_gen_organisations(g);
    size_t i;
    json_t *org;
    json_array_foreach (orgs, i, org) {
        if (orgs_put(env.core, &p, org, NULL, &err) != AMP_OK) {
            rc = cli_report(&err);
            goto out;
        }
    }
    int64_t t0 = clock_mono_us();
    bool tty = isatty(STDERR_FILENO);
    for (long long done = 0; done < ncases;) {
        if (store_bulk_begin(env.store) != STORE_OK) {
            fprintf(stderr, "amparo demo: cannot start a transaction\n");
            rc = EXIT_FAIL;
            goto out;
        }
        long long stop = done + CHUNK < ncases ? done + CHUNK : ncases;
        for (; done < stop; done++) {
            json_t *c = demo_gen_case(g);
            amp_code code = cases_bulk_insert(env.core, &p, c, &err);
            json_decref(c);
            if (code != AMP_OK) {
                store_bulk_end(env.store, false);
                fprintf(stderr, "amparo demo: generated case %lld was refused\n", done + 1);
                rc = cli_report(&err);
                goto out;
            }
        }
        if (store_bulk_end(env.store, true) != STORE_OK) {
            fprintf(stderr, "amparo demo: cannot commit\n");
            rc = EXIT_FAIL;
            goto out;
        }
        if (tty)
            fprintf(stderr, "\r%lld / %lld cases", done, ncases);
    }
    double secs = (double)(clock_mono_us() - t0) / 1e6;
    if (tty)
        fputc('\n', stderr);
    printf("loaded %zu organisations and %lld cases in %.1f s (%.0f cases/s)\n",
           json_array_size(orgs), ncases, secs, secs > 0 ? (double)ncases / secs : 0.0);
out:
    amp_err_clear(&err);
    json_decref(orgs);
    demo_gen_free(g);
    cli_env_close(&env);
    return rc;
}
