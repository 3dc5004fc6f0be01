/* cmd_case.c — amparo case get / case list: read cases from the command line. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: amparo case get [--data DIR] [--history] ID|REFERENCE\n"
    "       amparo case list [--data DIR] [--json] [--FILTER VALUE]...\n"
    "       amparo case erase [--data DIR] ID|REFERENCE   (see amparo case erase --help)\n"
    "\n"
    "get   prints a case (with events, comments, support plans, perpetrators) as\n"
    "      JSON; --history prints its change history instead.\n"
    "list  prints matching cases, newest registration first.  Filters (values\n"
    "      comma-separated mean any of them):\n"
    "        --status Active            --trafficking-status ActualVictimOfTrafficking\n"
    "        --exploitation ForcedLabour   --gender Feminine   --citizenship CO\n"
    "        --country-of-exploitation EC  --registered-from 2025-01-01\n"
    "        --registered-to 2025-12-31    --reference EC-2026   --owner ORG\n"
    "        --sort registered|reference|created|updated (prefix - : descending)\n"
    "        --limit N (1-500, default 50)  --offset N\n"
    "      --json prints the API's JSON instead of a table.\n"
    "\n"
    "  --data DIR   data directory (default: $AMPARO_DATA or ./data)\n";

static void print_json(json_t *o)
{
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    if (text) {
        puts(text);
        free(text);
    }
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void join(const json_t *arr, char *out, size_t n)
{
    size_t o = 0;
    out[0] = '\0';
    size_t i;
    json_t *v;
    json_array_foreach (arr, i, v) {
        o += (size_t)snprintf(out + o, o < n ? n - o : 0, "%s%s", i ? "," : "",
                              json_string_value(v));
        if (o >= n)
            break;
    }
}

static int case_get(int argc, char **argv)
{
    const char *data = NULL, *key = NULL;
    bool history = false;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else if (strncmp(argv[i], "--data=", 7) == 0) {
            data = argv[i] + 7;
        } else if (strcmp(argv[i], "--history") == 0) {
            history = true;
        } else if (argv[i][0] != '-' && !key) {
            key = argv[i];
        } else {
            fprintf(stderr, "amparo case get: unexpected argument '%s'\n%s", argv[i], usage);
            return EXIT_USAGE;
        }
    }
    if (!key) {
        fprintf(stderr, "amparo case get: give a case id or reference\n%s", usage);
        return EXIT_USAGE;
    }
    cli_env env;
    if (cli_env_open(&env, cli_data_dir(data)) < 0)
        return EXIT_FAIL;
    principal p = {.actor = "cli", .lang = "en", .internal = true};
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = history ? cases_history(env.core, &p, key, &out, &err)
                            : cases_get(env.core, &p, key, &out, &err);
    int rc = EXIT_OK;
    if (code == AMP_OK)
        print_json(out);
    else
        rc = cli_report(&err);
    json_decref(out);
    amp_err_clear(&err);
    cli_env_close(&env);
    return rc;
}

#define MAX_FILTERS 32

static int case_list(int argc, char **argv)
{
    const char *data = NULL;
    bool as_json = false;
    list_param params[MAX_FILTERS];
    char names[MAX_FILTERS][48];
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(usage, stdout);
            return EXIT_OK;
        }
        if (strcmp(a, "--json") == 0) {
            as_json = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || n == MAX_FILTERS) {
            fprintf(stderr, "amparo case list: unexpected argument '%s'\n%s", a, usage);
            return EXIT_USAGE;
        }
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!value || len == 0 || len >= sizeof names[0]) {
            fprintf(stderr, "amparo case list: %s needs a value\n", a);
            return EXIT_USAGE;
        }
        if (len == 4 && strncmp(a + 2, "data", 4) == 0) {
            data = value;
            continue;
        }
        for (size_t k = 0; k < len; k++)
            names[n][k] = a[2 + k] == '-' ? '_' : a[2 + k];
        names[n][len] = '\0';
        params[n].name = names[n];
        params[n].value = value;
        n++;
    }
    cli_env env;
    if (cli_env_open(&env, cli_data_dir(data)) < 0)
        return EXIT_FAIL;
    principal p = {.actor = "cli", .lang = "en", .internal = true};
    amp_err err = {0};
    json_t *out = NULL;
    int rc = EXIT_OK;
    if (cases_list(env.core, &p, params, n, &out, &err) != AMP_OK) {
        rc = cli_report(&err);
    } else if (as_json) {
        print_json(out);
    } else {
        printf("%-16s %-10s %-10s %-26s %-20s %-8s %s\n", "REFERENCE", "REGISTERED", "STATUS",
               "TRAFFICKING STATUS", "GENDER", "CITIZEN", "EXPLOITATION");
        size_t i;
        json_t *c;
        json_array_foreach (json_object_get(out, "items"), i, c) {
            char cit[64], expl[160];
            join(json_object_get(c, "prs_Citizenship"), cit, sizeof cit);
            join(json_object_get(c, "vic_TypeOfExploitation"), expl, sizeof expl);
            printf("%-16s %-10s %-10s %-26s %-20s %-8s %s\n", str(c, "reference"),
                   str(c, "amp_RegistrationDate"), str(c, "cas_Status"),
                   str(c, "vic_TraffickingStatus"), str(c, "prs_Gender"), cit, expl);
        }
        printf("%lld of %lld cases\n", (long long)json_array_size(json_object_get(out, "items")),
               (long long)json_integer_value(json_object_get(out, "total")));
    }
    json_decref(out);
    amp_err_clear(&err);
    cli_env_close(&env);
    return rc;
}

int cmd_case(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "erase") == 0)
        return cmd_case_erase(argc - 1, argv + 1);
    if (strcmp(argv[1], "get") == 0)
        return case_get(argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return case_list(argc - 1, argv + 1);
    fprintf(stderr, "amparo case: '%s' is not a subcommand (get, list)\n%s", argv[1], usage);
    return EXIT_USAGE;
}
