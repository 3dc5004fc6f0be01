/* cmd_reports.c — amparo report / export / import: statistics and exchange files
 * from the command line (see docs/REPORTS.md). */
#include "cli/cli.h"
#include "core/ctdc.h"
#include "core/disclosure.h"
#include "core/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char report_usage[] =
    "usage: amparo report dimensions [--data DIR]\n"
    "       amparo report crosstab [--data DIR] [--format json|csv|xlsx] [--out FILE]\n"
    "                              NAME=VALUE...\n"
    "       amparo report ledger [--data DIR] DATASET\n"
    "\n"
    "dimensions  lists the entities, their dimensions and measures (JSON).\n"
    "crosstab    counts an entity by 1-4 dimensions.  Parameters are those of\n"
    "            GET /api/v1/reports/crosstab, e.g.\n"
    "              amparo report crosstab dims=year,gender exploitation=ForcedLabour\n"
    "              amparo report crosstab entity=stays dims=year measure=mean:length_of_stay_days\n"
    "            From the CLI no disclosure control applies unless publish=true\n"
    "            (then threshold, rounding, epsilon, mechanism, dataset, budget).\n"
    "ledger      prints the privacy budget spent on a dataset.\n"
    "\n"
    "  --data DIR   data directory (default: $AMPARO_DATA or ./data)\n"
    "  --format F   json (default), csv or xlsx (xlsx needs --out)\n"
    "  --out FILE   write to FILE instead of standard output\n";

static principal cli_principal(void)
{
    principal p = {.actor = "cli", .lang = "en", .internal = true};
    return p;
}

static int write_out(const char *out, const void *data, size_t len)
{
    FILE *f = out ? fopen(out, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "amparo: cannot open '%s'\n", out);
        return EXIT_FAIL;
    }
    bool ok = fwrite(data, 1, len, f) == len;
    if (out)
        ok = fclose(f) == 0 && ok;
    if (!ok) {
        fprintf(stderr, "amparo: cannot write '%s'\n", out ? out : "standard output");
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int print_json_out(const char *out, const json_t *o)
{
    char *text = json_dumps(o, JSON_INDENT(2));
    if (!text)
        return EXIT_FAIL;
    size_t n = strlen(text);
    text[n] = '\n';
    int rc = write_out(out, text, n + 1);
    free(text);
    return rc;
}

/* Common options: --data, --format, --out; the rest are NAME=VALUE parameters. */
typedef struct {
    const char *data, *format, *out;
    list_param params[64];
    size_t nparams;
    const char *positional[4];
    int npositional;
} cli_opts;

static int parse_opts(int argc, char **argv, int first, cli_opts *o, const char *usage,
                      const char *cmd)
{
    memset(o, 0, sizeof *o);
    static char names[64][64];
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(usage, stdout);
            return -1;
        } else if ((strcmp(a, "--data") == 0 || strcmp(a, "--format") == 0 ||
                    strcmp(a, "--out") == 0) &&
                   i + 1 < argc) {
            const char **slot = a[2] == 'd' ? &o->data : a[2] == 'f' ? &o->format : &o->out;
            *slot = argv[++i];
        } else if (strncmp(a, "--data=", 7) == 0) {
            o->data = a + 7;
        } else if (strncmp(a, "--format=", 9) == 0) {
            o->format = a + 9;
        } else if (strncmp(a, "--out=", 6) == 0) {
            o->out = a + 6;
        } else if (a[0] != '-' && strchr(a, '=') && o->nparams < 64) {
            size_t n = (size_t)(strchr(a, '=') - a);
            if (n == 0 || n >= sizeof names[0]) {
                fprintf(stderr, "amparo %s: bad parameter '%s'\n", cmd, a);
                return EXIT_USAGE;
            }
            memcpy(names[o->nparams], a, n);
            names[o->nparams][n] = 0;
            o->params[o->nparams].name = names[o->nparams];
            o->params[o->nparams++].value = a + n + 1;
        } else if (a[0] != '-' && o->npositional < 4) {
            o->positional[o->npositional++] = a;
        } else {
            fprintf(stderr, "amparo %s: unexpected argument '%s'\n%s", cmd, a, usage);
            return EXIT_USAGE;
        }
    }
    return 0;
}

static int report_crosstab_cmd(cli_env *env, cli_opts *o)
{
    principal p = cli_principal();
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = report_crosstab(env->core, &p, o->params, o->nparams, &out, &err);
    if (code != AMP_OK) {
        int rc = cli_report(&err);
        amp_err_clear(&err);
        return rc;
    }
    int rc = EXIT_OK;
    const char *fmt = o->format ? o->format : "json";
    if (strcmp(fmt, "csv") == 0) {
        size_t n = 0;
        char *csv = report_render_csv(out, &n);
        rc = csv ? write_out(o->out, csv, n) : EXIT_FAIL;
        free(csv);
    } else if (strcmp(fmt, "xlsx") == 0) {
        json_t *arr = json_pack("[O]", out);
        size_t n = 0;
        unsigned char *x = report_render_xlsx(arr, &n);
        json_decref(arr);
        rc = x ? write_out(o->out, x, n) : EXIT_FAIL;
        free(x);
    } else {
        rc = print_json_out(o->out, out);
    }
    json_decref(out);
    return rc;
}

static int cmd_report(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(report_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    cli_opts o;
    int rc = parse_opts(argc, argv, 2, &o, report_usage, "report");
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (o.format && strcmp(o.format, "json") != 0 && strcmp(o.format, "csv") != 0 &&
        strcmp(o.format, "xlsx") != 0) {
        fprintf(stderr, "amparo report: --format must be json, csv or xlsx\n");
        return EXIT_USAGE;
    }
    if (o.format && strcmp(o.format, "xlsx") == 0 && !o.out) {
        fprintf(stderr, "amparo report: --format xlsx needs --out FILE\n");
        return EXIT_USAGE;
    }
    if (strcmp(sub, "dimensions") != 0 && strcmp(sub, "crosstab") != 0 &&
        strcmp(sub, "ledger") != 0) {
        fprintf(stderr, "amparo report: unknown subcommand '%s'\n%s", sub, report_usage);
        return EXIT_USAGE;
    }
    if (strcmp(sub, "ledger") == 0 && o.npositional != 1) {
        fprintf(stderr, "amparo report ledger: give a dataset name\n");
        return EXIT_USAGE;
    }
    cli_env env;
    if (cli_env_open(&env, cli_data_dir(o.data)) < 0)
        return EXIT_FAIL;
    if (strcmp(sub, "dimensions") == 0) {
        json_t *d = reports_dimensions(env.core);
        rc = print_json_out(o.out, d);
        json_decref(d);
    } else if (strcmp(sub, "crosstab") == 0) {
        rc = report_crosstab_cmd(&env, &o);
    } else {
        principal p = cli_principal();
        amp_err err = {0};
        json_t *l = NULL;
        if (disclosure_ledger_get(env.core, &p, o.positional[0], &l, &err) != AMP_OK) {
            rc = cli_report(&err);
        } else {
            rc = print_json_out(o.out, l);
            json_decref(l);
        }
        amp_err_clear(&err);
    }
    reports_forget(env.core);
    cli_env_close(&env);
    return rc;
}

static const char export_usage[] =
    "usage: amparo export ctdc [--data DIR] [--out FILE] [--k N] [--qi VAR,VAR...]\n"
    "                          [--max-suppress FRACTION] [--delimiter ';'|','] [--summary FILE]\n"
    "                          [--from-year YYYY] [--to-year YYYY]\n"
    "       amparo export htcds [--data DIR] [--out FILE] [--format csv|json] [--with-identity]\n"
    "\n"
    "ctdc   writes the CTDC global dataset (63 variables, CTDC names and codings),\n"
    "       k-anonymised (k = 11 by default) over the quasi-identifiers (default:\n"
    "       yearOfRegistration, gender, ageBroad, majorityStatus,\n"
    "       majorityStatusAtExploit, majorityEntry, citizenship, CountryOfExploitation).\n"
    "       Only cases whose consent allows statistics are exported.  A summary of\n"
    "       what was generalised or suppressed goes to standard error (or --summary).\n"
    "htcds  writes every case as HTCDS CSV (standard column names) or JSON.\n"
    "       Identity fields are left out unless --with-identity is given.\n"
    "\n"
    "  --data DIR   data directory (default: $AMPARO_DATA or ./data)\n"
    "  --out FILE   write to FILE instead of standard output\n";

static int export_ctdc(int argc, char **argv)
{
    const char *data = NULL, *out = NULL, *summary_path = NULL;
    ctdc_options opt = {0};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            fputs(export_usage, stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--data") == 0 && val) {
            data = argv[++i];
        } else if (strcmp(a, "--out") == 0 && val) {
            out = argv[++i];
        } else if (strcmp(a, "--summary") == 0 && val) {
            summary_path = argv[++i];
        } else if (strcmp(a, "--k") == 0 && val) {
            char *end;
            long k = strtol(argv[++i], &end, 10);
            if (*end || k < 2 || k > 1000) {
                fprintf(stderr, "amparo export ctdc: --k must be 2 to 1000\n");
                return EXIT_USAGE;
            }
            opt.k = (int)k;
        } else if (strcmp(a, "--qi") == 0 && val) {
            opt.qi = argv[++i];
        } else if (strcmp(a, "--max-suppress") == 0 && val) {
            char *end;
            opt.max_suppress = strtod(argv[++i], &end);
            if (*end || !(opt.max_suppress > 0) || opt.max_suppress > 1) {
                fprintf(stderr, "amparo export ctdc: --max-suppress must be in (0, 1]\n");
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--delimiter") == 0 && val) {
            const char *d = argv[++i];
            if ((d[0] != ';' && d[0] != ',') || d[1]) {
                fprintf(stderr, "amparo export ctdc: --delimiter must be ';' or ','\n");
                return EXIT_USAGE;
            }
            opt.delimiter = d[0];
        } else if (strcmp(a, "--from-year") == 0 && val) {
            opt.year_from = argv[++i];
        } else if (strcmp(a, "--to-year") == 0 && val) {
            opt.year_to = argv[++i];
        } else {
            fprintf(stderr, "amparo export ctdc: unexpected argument '%s'\n%s", a, export_usage);
            return EXIT_USAGE;
        }
    }
    cli_env env;
    if (cli_env_open(&env, cli_data_dir(data)) < 0)
        return EXIT_FAIL;
    FILE *f = out ? fopen(out, "wb") : stdout;
    int rc = EXIT_OK;
    if (!f) {
        fprintf(stderr, "amparo export ctdc: cannot open '%s'\n", out);
        rc = EXIT_FAIL;
    } else {
        static char iobuf[1 << 16];
        setvbuf(f, iobuf, _IOFBF, sizeof iobuf);
        principal p = cli_principal();
        amp_err err = {0};
        json_t *summary = NULL;
        if (ctdc_export(env.core, &p, &opt, f, &summary, &err) != AMP_OK) {
            rc = cli_report(&err);
        } else {
            char *text = json_dumps(summary, JSON_INDENT(2));
            FILE *sf = summary_path ? fopen(summary_path, "w") : stderr;
            if (sf && text) {
                fprintf(sf, "%s\n", text);
                if (summary_path)
                    fclose(sf);
            }
            free(text);
            json_decref(summary);
        }
        amp_err_clear(&err);
        if (out && fclose(f) != 0 && rc == EXIT_OK) {
            fprintf(stderr, "amparo export ctdc: cannot write '%s'\n", out);
            rc = EXIT_FAIL;
        }
    }
    reports_forget(env.core);
    cli_env_close(&env);
    return rc;
}

static int cmd_export(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(export_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "ctdc") == 0)
        return export_ctdc(argc, argv);
    fprintf(stderr, "amparo export: unknown format '%s'\n%s", argv[1], export_usage);
    return EXIT_USAGE;
}

const cli_command cli_commands_reports[] = {
    {"export", "exchange files: CTDC global dataset (k-anonymised), HTCDS CSV/JSON", cmd_export},
    {"report", "statistics: crosstabs, standard reports, privacy ledger", cmd_report},
    {NULL, NULL, NULL},
};
