/* cmd_reports.c — amparo report / export / import: statistics and exchange files
 * from the command line (see docs/REPORTS.md). */
#include "cli/cli.h"
#include "core/ctdc.h"
#include "core/disclosure.h"
#include "core/htcds_io.h"
#include "core/report.h"
#include "core/standard_reports.h"
#include "util/clock.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char report_usage[] =
    "usage: amparo report dimensions [--data DIR]\n"
    "       amparo report crosstab [--data DIR] [--format json|csv|xlsx] [--out FILE]\n"
    "                              [--lang L] [--labels codes|labels|both] NAME=VALUE...\n"
    "       amparo report standard [--data DIR] [NAME [year=YYYY]] [--format json|csv|xlsx]\n"
    "                              [--out FILE] [--lang L] [--labels codes|labels|both]\n"
    "       amparo report ledger [--data DIR] DATASET [budget=B]\n"
    "\n"
    "dimensions  lists the entities, their dimensions and measures (JSON).\n"
    "crosstab    counts an entity by 1-4 dimensions.  Parameters are those of\n"
    "            GET /api/v1/reports/crosstab, e.g.\n"
    "              amparo report crosstab dims=year,gender exploitation=ForcedLabour\n"
    "              amparo report crosstab entity=stays dims=year measure=mean:length_of_stay_days\n"
    "              amparo report crosstab dims=gender assisted_from=2026-01-01 "
    "assisted_to=2026-12-31\n"
    "            Assistance cost is summed per currency (the currency dimension is\n"
    "            added unless given or filtered to one).  Files end with notes:\n"
    "            cases, mentions or records; population; disclosure control.\n"
    "            Files (--format csv or xlsx) are publications: disclosure control\n"
    "            applies unless publish=false.  JSON from the CLI covers every\n"
    "            organisation without control unless publish=true (then threshold,\n"
    "            rounding, epsilon, mechanism, dataset, budget; budget=B first\n"
    "            defines the dataset or sets its budget, as below).\n"
    "standard    lists the standard packs, or runs one (action-plan, donor-results,\n"
    "            nrm-quarterly) for a year; packs are always disclosure-controlled,\n"
    "            state who they count (population), and donor-results starts with\n"
    "            the indicators against their targets (as 'indicator report').\n"
    "ledger      prints a dataset's privacy budget and what was spent from it.\n"
    "            budget=B (0 < B <= 1000) defines the dataset with that budget, or\n"
    "            changes its budget (what was spent stays).  Only an administrator\n"
    "            defines datasets: a release names one of them (dataset=NAME), or\n"
    "            by default spends from the dataset named after its entity\n"
    "            (e.g. cases), created with a budget of 10 on first use.\n"
    "\n"
    "  --data DIR   data directory (default: $AMPARO_DATA or ./data)\n"
    "  --format F   json (default), csv or xlsx (xlsx needs --out)\n"
    "  --out FILE   write to FILE instead of standard output\n"
    "  --lang L     en (default), es, fr or uk: the packs' titles, and the labels\n"
    "               and headings of files\n"
    "  --labels N   how files name dimensions and categories: codes (as parameters\n"
    "               spell them; the default for csv), labels in --lang (the default\n"
    "               for xlsx) or both (a code and a label column per dimension)\n";

static principal cli_principal(const char *lang)
{
    principal p = {.actor = "cli", .lang = "en", .internal = true};
    if (lang)
        snprintf(p.lang, sizeof p.lang, "%s", lang);
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
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
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
    const char *data, *format, *out, *lang, *labels;
    list_param params[64];
    size_t nparams;
    const char *positional[4];
    int npositional;
} cli_opts;

/* --NAME VALUE or --NAME=VALUE for the options of cli_opts; advances *i past them. */
static bool option_value(int argc, char **argv, int *i, cli_opts *o)
{
    const struct {
        const char *name;
        const char **slot;
    } opts[] = {{"--data", &o->data},
                {"--format", &o->format},
                {"--out", &o->out},
                {"--lang", &o->lang},
                {"--labels", &o->labels}};
    const char *a = argv[*i];
    for (size_t k = 0; k < sizeof opts / sizeof *opts; k++) {
        size_t n = strlen(opts[k].name);
        if (strncmp(a, opts[k].name, n) != 0)
            continue;
        if (a[n] == '=') {
            *opts[k].slot = a + n + 1;
            return true;
        }
        if (a[n] == '\0' && *i + 1 < argc) {
            *opts[k].slot = argv[++*i];
            return true;
        }
    }
    return false;
}

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
        } else if (option_value(argc, argv, &i, o)) {
            continue;
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

/* What files show: codes by default in CSV, labels in XLSX (see --labels). */
static report_render_opts render_opts(const cli_opts *o, bool xlsx)
{
    report_render_opts ro = {.naming = xlsx ? REPORT_LABELS : REPORT_CODES, .lang = o->lang};
    if (o->labels)
        report_naming_parse(o->labels, &ro.naming); /* checked in cmd_report */
    return ro;
}

static int report_crosstab_cmd(cli_env *env, cli_opts *o)
{
    if (o->npositional) {
        fprintf(stderr,
                "amparo report crosstab: unexpected argument '%s' (parameters are NAME=VALUE)\n",
                o->positional[0]);
        return EXIT_USAGE;
    }
    principal p = cli_principal(o->lang);
    const char *fmt = o->format ? o->format : "json";
    /* a file is a publication: disclosure control unless publish=false says otherwise */
    list_param ps[65];
    size_t n = o->nparams;
    bool publish_given = false;
    for (size_t i = 0; i < n; i++) {
        ps[i] = o->params[i];
        publish_given |= strcmp(ps[i].name, "publish") == 0;
    }
    if (strcmp(fmt, "json") != 0 && !publish_given)
        ps[n++] = (list_param){.name = "publish", .value = "true"};
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = report_crosstab(env->core, &p, ps, n, &out, &err);
    if (code != AMP_OK) {
        int rc = cli_report(&err);
        amp_err_clear(&err);
        return rc;
    }
    int rc = EXIT_OK;
    if (strcmp(fmt, "csv") == 0) {
        size_t len = 0;
        report_render_opts ro = render_opts(o, false);
        char *csv = report_render_csv(out, &ro, &len);
        rc = csv ? write_out(o->out, csv, len) : EXIT_FAIL;
        free(csv);
    } else if (strcmp(fmt, "xlsx") == 0) {
        json_t *arr = json_pack("[O]", out);
        size_t len = 0;
        report_render_opts ro = render_opts(o, true);
        unsigned char *x = report_render_xlsx(arr, &ro, &len);
        json_decref(arr);
        rc = x ? write_out(o->out, x, len) : EXIT_FAIL;
        free(x);
    } else {
        rc = print_json_out(o->out, out);
    }
    json_decref(out);
    return rc;
}

static int report_standard_cmd(cli_env *env, cli_opts *o)
{
    if (o->npositional == 0) {
        json_t *l = standard_reports_list();
        int rc = print_json_out(o->out, l);
        json_decref(l);
        return rc;
    }
    const char *year = NULL;
    for (size_t i = 0; i < o->nparams; i++) {
        if (strcmp(o->params[i].name, "year") != 0) {
            fprintf(stderr, "amparo report standard: unknown parameter '%s' (year)\n",
                    o->params[i].name);
            return EXIT_USAGE;
        }
        year = o->params[i].value;
    }
    principal p = cli_principal(o->lang);
    amp_err err = {0};
    json_t *out = NULL;
    if (standard_report_run(env->core, &p, o->positional[0], year, &out, &err) != AMP_OK) {
        int rc = cli_report(&err);
        amp_err_clear(&err);
        return rc;
    }
    json_t *tables = json_array();
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get(out, "tables"), i, t) {
        if (json_object_get(t, "cells") || json_object_get(t, "items") ||
            json_object_get(t, "error"))
            json_array_append(tables, t); /* list tables (indicators) too; errors as notes */
    }
    int rc;
    const char *fmt = o->format ? o->format : "json";
    size_t n = 0;
    if (strcmp(fmt, "csv") == 0) {
        report_render_opts ro = render_opts(o, false);
        char *csv = report_render_csv_pack(tables, &ro, &n);
        rc = csv ? write_out(o->out, csv, n) : EXIT_FAIL;
        free(csv);
    } else if (strcmp(fmt, "xlsx") == 0) {
        report_render_opts ro = render_opts(o, true);
        unsigned char *x = report_render_xlsx(tables, &ro, &n);
        rc = x ? write_out(o->out, x, n) : EXIT_FAIL;
        free(x);
    } else {
        rc = print_json_out(o->out, out);
    }
    json_decref(tables);
    json_decref(out);
    return rc;
}

static int cmd_report(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(report_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    /* options may come before the subcommand too: it is the first positional word */
    cli_opts o;
    int rc = parse_opts(argc, argv, 1, &o, report_usage, "report");
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (o.npositional == 0) {
        fprintf(stderr, "amparo report: give a subcommand\n%s", report_usage);
        return EXIT_USAGE;
    }
    const char *sub = o.positional[0];
    for (int i = 1; i < o.npositional; i++)
        o.positional[i - 1] = o.positional[i];
    o.npositional--;
    if (o.format && strcmp(o.format, "json") != 0 && strcmp(o.format, "csv") != 0 &&
        strcmp(o.format, "xlsx") != 0) {
        fprintf(stderr, "amparo report: --format must be json, csv or xlsx\n");
        return EXIT_USAGE;
    }
    report_naming naming;
    if (o.labels && !report_naming_parse(o.labels, &naming)) {
        fprintf(stderr, "amparo report: --labels must be codes, labels or both\n");
        return EXIT_USAGE;
    }
    if (o.lang && strcmp(o.lang, "en") != 0 && strcmp(o.lang, "es") != 0 &&
        strcmp(o.lang, "fr") != 0 && strcmp(o.lang, "uk") != 0) {
        fprintf(stderr, "amparo report: --lang must be en, es, fr or uk\n");
        return EXIT_USAGE;
    }
    if (o.format && strcmp(o.format, "xlsx") == 0 && !o.out) {
        fprintf(stderr, "amparo report: --format xlsx needs --out FILE\n");
        return EXIT_USAGE;
    }
    if (strcmp(sub, "dimensions") != 0 && strcmp(sub, "crosstab") != 0 &&
        strcmp(sub, "ledger") != 0 && strcmp(sub, "standard") != 0) {
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
    } else if (strcmp(sub, "standard") == 0) {
        rc = report_standard_cmd(&env, &o);
    } else {
        principal p = cli_principal(NULL);
        amp_err err = {0};
        json_t *l = NULL;
        double budget = 0;
        rc = EXIT_OK;
        for (size_t i = 0; i < o.nparams && rc == EXIT_OK; i++) {
            char *end;
            if (strcmp(o.params[i].name, "budget") != 0) {
                fprintf(stderr, "amparo report ledger: unknown parameter '%s' (only budget=B)\n",
                        o.params[i].name);
                rc = EXIT_USAGE;
            } else if (budget = strtod(o.params[i].value, &end), !*o.params[i].value || *end) {
                fprintf(stderr, "amparo report ledger: budget must be a number in (0, 1000]\n");
                rc = EXIT_INVALID;
            }
        }
        if (rc != EXIT_OK) {
        } else if (o.nparams && disclosure_ledger_define(env.core, &p, o.positional[0], budget,
                                                         &err) != AMP_OK) {
            rc = cli_report(&err);
        } else if (disclosure_ledger_get(env.core, &p, o.positional[0], &l, &err) != AMP_OK) {
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
    "       k-anonymised over the quasi-identifiers (default: yearOfRegistration,\n"
    "       gender, ageBroad, majorityStatus, majorityStatusAtExploit, majorityEntry,\n"
    "       citizenship, CountryOfExploitation): every combination of their values,\n"
    "       blank included, is shared by at least k rows.  k defaults to\n"
    "       AMPARO_CTDC_MIN_K (11), the least a role without case access may use\n"
    "       over HTTP; this command (an administrator's) may choose any k >= 2 and\n"
    "       any quasi-identifiers, and the summary says so.  Values are blanked only\n"
    "       in the rows of classes smaller than k, choosing what costs the least\n"
    "       information (ageBroad before majorityStatus); rows that cannot be placed\n"
    "       are left out, at most --max-suppress of them (default 0.02), else a\n"
    "       variable is generalised.  Only cases whose consent allows statistics\n"
    "       are exported.  The JSON summary of what was blanked or left out\n"
    "       (per variable) goes to standard error, or to --summary FILE.\n"
    "htcds  writes every case as HTCDS CSV (standard column names) or JSON.\n"
    "       Identity fields are left out unless --with-identity is given; the\n"
    "       JSON file is then {\"identity\": false, \"items\": [...]} (with them, an\n"
    "       array).  Both import again: the closure reason and comment texts they\n"
    "       cannot hold are recorded as withheld.\n"
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
        principal p = cli_principal(NULL);
        amp_err err = {0};
        json_t *summary = NULL;
        if (ctdc_export(env.core, &p, &opt, f, &summary, &err) != AMP_OK) {
            rc = cli_report(&err);
        } else {
            char *text = json_dumps(summary, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
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

static int export_htcds(int argc, char **argv)
{
    const char *data = NULL, *out = NULL, *fmt = "csv";
    bool identity = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (cli_is_help(a)) {
            fputs(export_usage, stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--data") == 0 && has) {
            data = argv[++i];
        } else if (strcmp(a, "--out") == 0 && has) {
            out = argv[++i];
        } else if (strcmp(a, "--format") == 0 && has) {
            fmt = argv[++i];
        } else if (strcmp(a, "--with-identity") == 0) {
            identity = true;
        } else {
            fprintf(stderr, "amparo export htcds: unexpected argument '%s'\n%s", a, export_usage);
            return EXIT_USAGE;
        }
    }
    htcds_format format;
    if (!htcds_format_parse(fmt, &format) || (format != HTCDS_CSV && format != HTCDS_JSON)) {
        fprintf(stderr, "amparo export htcds: --format must be csv or json\n");
        return EXIT_USAGE;
    }
    cli_env env;
    if (cli_env_open(&env, cli_data_dir(data)) < 0)
        return EXIT_FAIL;
    int rc = EXIT_OK;
    FILE *f = out ? fopen(out, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "amparo export htcds: cannot open '%s'\n", out);
        rc = EXIT_FAIL;
    } else {
        principal p = cli_principal(NULL);
        amp_err err = {0};
        json_t *summary = NULL;
        if (htcds_export(env.core, &p, format, identity, f, &summary, &err) != AMP_OK) {
            rc = cli_report(&err);
        } else {
            fprintf(stderr, "exported %lld cases (%s)\n",
                    (long long)json_integer_value(json_object_get(summary, "cases")),
                    identity ? "with identity fields" : "without identity fields");
        }
        json_decref(summary);
        amp_err_clear(&err);
        if (out && fclose(f) != 0 && rc == EXIT_OK) {
            fprintf(stderr, "amparo export htcds: cannot write '%s'\n", out);
            rc = EXIT_FAIL;
        }
    }
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
    if (strcmp(argv[1], "htcds") == 0)
        return export_htcds(argc, argv);
    fprintf(stderr, "amparo export: unknown format '%s'\n%s", argv[1], export_usage);
    return EXIT_USAGE;
}

static const char import_usage[] =
    "usage: amparo import htcds [--data DIR] [--dry-run] [--format csv|json|xform-csv|xform-xml]\n"
    "                           [--errors FILE] [--max-errors N|all] [--org ORG]\n"
    "                           [--without-identity] [--threads N] FILE\n"
    "\n"
    "Imports case records.  Every row is validated first; a real import is all or\n"
    "nothing.  --dry-run checks every row, finds every error (line, record, column,\n"
    "field, rule) and changes nothing.  Formats: csv (HTCDS column names, multi-values\n"
    "joined with ';'), json (an array of case records, as amparo export htcds --format\n"
    "json writes), xform-csv and xform-xml (submissions of the HTCDS XLSForm/XForm as\n"
    "KoboToolbox or ODK export them; registered on the day of the submission).  The\n"
    "default format follows the file name (.json, .xml).  On a terminal a progress\n"
    "bar is shown.  Exit codes: 0 imported (or a clean dry run), 4 errors found\n"
    "(nothing imported) or an unknown --org, 1 failure, 2 usage.\n"
    "\n"
    "  --errors FILE       write the whole report (JSON) with every error to FILE\n"
    "  --max-errors N|all  errors printed here (default 20; the total is always\n"
    "                      printed, and --errors FILE holds all of them)\n"
    "  --org ORG           owner organisation of the records that name none\n"
    "                      (required for xform-csv and xform-xml: the form has no\n"
    "                      such field; without it HTCDS records with no\n"
    "                      amp_OwnerOrganisation get no owner)\n"
    "  --without-identity  the file was exported without identity fields: identity\n"
    "                      fields a rule requires (the reason a case was closed, the\n"
    "                      text of a comment) are recorded as withheld.  Files of\n"
    "                      amparo export htcds say so themselves (a CSV header with no\n"
    "                      identity column, a JSON object with \"identity\": false)\n"
    "  --threads N         CSV: threads checking and preparing rows besides the one\n"
    "                      inserting them (default: one per CPU; 1: none, all in one)\n"
    "  --data DIR          data directory (default: $AMPARO_DATA or ./data)\n";

#define IMPORT_ERRORS_SHOWN 20

/* Where the errors of an import go, as they are found: the first `shown` to
 * standard error, every one to the --errors file (streamed, so memory does not
 * grow with the number of errors). */
typedef struct {
    const char *path;
    bool records; /* JSON/XML: the record's index says more than its line */
    size_t shown, seen;
    FILE *file;
} import_errors;

static void import_error(void *arg, const json_t *e)
{
    import_errors *ie = arg;
    if (ie->seen++ < ie->shown) {
        const json_t *line = json_object_get(e, "line");
        const json_t *rec = json_object_get(e, "record");
        const char *col = json_string_value(json_object_get(e, "column"));
        char where[48] = "";
        if (ie->records && rec)
            snprintf(where, sizeof where, " record %lld:", (long long)json_integer_value(rec));
        fprintf(stderr, "%s:%lld:%s column %s: field %s: %s: %s\n", ie->path,
                (long long)json_integer_value(line), where, col ? col : "-",
                json_string_value(json_object_get(e, "field")),
                json_string_value(json_object_get(e, "rule")),
                json_string_value(json_object_get(e, "message")));
    }
    if (ie->file) {
        fputs(ie->seen > 1 ? ",\n  " : "\n  ", ie->file);
        json_dumpf(e, ie->file, JSON_COMPACT);
    }
}

static void progress_bar(void *arg, size_t rows, size_t done, size_t total)
{
    (void)arg;
    int pct = total ? (int)(done * 100 / total) : 100;
    int filled = pct * 30 / 100;
    char bar[31];
    for (int i = 0; i < 30; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[30] = 0;
    fprintf(stderr, "\r[%s] %3d%%  %zu rows", bar, pct, rows);
}

static int cmd_import(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(import_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "htcds") != 0) {
        fprintf(stderr, "amparo import: unknown format '%s'\n%s", argv[1], import_usage);
        return EXIT_USAGE;
    }
    const char *data = NULL, *fmt = NULL, *path = NULL, *errors_path = NULL, *org = NULL;
    bool dry = false, without_identity = false;
    int threads = 0;
    size_t shown = IMPORT_ERRORS_SHOWN;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (cli_is_help(a)) {
            fputs(import_usage, stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--data") == 0 && has) {
            data = argv[++i];
        } else if (strcmp(a, "--format") == 0 && has) {
            fmt = argv[++i];
        } else if (strcmp(a, "--errors") == 0 && has) {
            errors_path = argv[++i];
        } else if (strcmp(a, "--threads") == 0 && has) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > 64) {
                fprintf(stderr, "amparo import htcds: --threads takes a number from 1 to 64\n");
                return EXIT_USAGE;
            }
            threads = (int)n;
        } else if (strcmp(a, "--max-errors") == 0 && has) {
            const char *v = argv[++i];
            char *end;
            long long n = strtoll(v, &end, 10);
            if (strcmp(v, "all") == 0) {
                shown = SIZE_MAX;
            } else if (*end || end == v || n < 0) {
                fprintf(stderr, "amparo import htcds: --max-errors takes a number or 'all'\n");
                return EXIT_USAGE;
            } else {
                shown = (size_t)n;
            }
        } else if (strcmp(a, "--org") == 0 && has) {
            org = argv[++i];
        } else if (strcmp(a, "--without-identity") == 0) {
            without_identity = true;
        } else if (strcmp(a, "--dry-run") == 0) {
            dry = true;
        } else if (a[0] != '-' && !path) {
            path = a;
        } else {
            fprintf(stderr, "amparo import htcds: unexpected argument '%s'\n%s", a, import_usage);
            return EXIT_USAGE;
        }
    }
    if (!path) {
        fprintf(stderr, "amparo import htcds: give a file\n%s", import_usage);
        return EXIT_USAGE;
    }
    htcds_format format = HTCDS_CSV;
    size_t plen = strlen(path);
    if (!fmt)
        fmt = plen > 5 && strcmp(path + plen - 5, ".json") == 0  ? "json"
              : plen > 4 && strcmp(path + plen - 4, ".xml") == 0 ? "xform-xml"
                                                                 : "csv";
    if (!htcds_format_parse(fmt, &format)) {
        fprintf(stderr,
                "amparo import htcds: --format must be csv, json, xform-csv or xform-xml\n");
        return EXIT_USAGE;
    }
    if (!org && (format == HTCDS_XFORM_CSV || format == HTCDS_XFORM_XML)) {
        fprintf(stderr, "amparo import htcds: XForm submissions name no owner organisation: "
                        "give --org ORG\n");
        return EXIT_USAGE;
    }
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "amparo import htcds: cannot open '%s'\n", path);
        if (fd >= 0)
            close(fd);
        return EXIT_NOTFOUND;
    }
    size_t len = (size_t)st.st_size;
    char *text = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (len && text == MAP_FAILED) {
        fprintf(stderr, "amparo import htcds: cannot read '%s'\n", path);
        return EXIT_FAIL;
    }
    cli_env env;
    if (cli_env_open(&env, cli_data_dir(data)) < 0) {
        if (len)
            munmap(text, len);
        return EXIT_FAIL;
    }
    principal p = cli_principal(NULL);
    import_errors ie = {
        .path = path, .records = format == HTCDS_JSON || format == HTCDS_XFORM_XML, .shown = shown};
    if (errors_path) {
        ie.file = fopen(errors_path, "w");
        if (!ie.file) {
            fprintf(stderr, "amparo import htcds: cannot write '%s'\n", errors_path);
            cli_env_close(&env);
            if (len)
                munmap(text, len);
            return EXIT_FAIL;
        }
        fputs("{\"errors\": [", ie.file);
    }
    /* every error goes through import_error; the report keeps only a few */
    htcds_import_options opt = {.format = format,
                                .dry_run = dry,
                                .threads = threads,
                                .max_errors = 1,
                                .on_error = import_error,
                                .on_error_arg = &ie,
                                .owner_org = org,
                                .identity_withheld = without_identity};
    if (isatty(STDERR_FILENO))
        opt.progress = progress_bar;
    amp_err err = {0};
    json_t *report = NULL;
    int64_t t0 = clock_mono_us();
    amp_code code = htcds_import(env.core, &p, len ? text : "", len, &opt, &report, &err);
    double secs = (double)(clock_mono_us() - t0) / 1e6;
    if (opt.progress)
        fputc('\n', stderr);
    int rc = EXIT_OK;
    if (ie.file) { /* the rest of the report after the errors */
        fputs(ie.seen ? "\n]" : "]", ie.file);
        const char *key;
        json_t *v;
        json_object_foreach (report, key, v) {
            if (strcmp(key, "errors") == 0)
                continue;
            fprintf(ie.file, ",\n\"%s\": ", key);
            json_dumpf(strcmp(key, "truncated") == 0 ? json_false() : v, ie.file,
                       JSON_COMPACT | JSON_ENCODE_ANY);
        }
        if (!report)
            fprintf(ie.file, ",\n\"error\": \"%s\"", amp_code_name(err.code));
        fputs("}\n", ie.file);
        if (fclose(ie.file) != 0)
            fprintf(stderr, "amparo import htcds: cannot write '%s'\n", errors_path);
    }
    if (ie.seen > ie.shown)
        fprintf(stderr, "(%zu of %zu errors shown%s)\n", ie.shown, ie.seen,
                errors_path ? "; all of them are in the --errors file"
                            : "; --errors FILE writes all of them, --max-errors all shows them");
    if (report) {
        long long rows = (long long)json_integer_value(json_object_get(report, "rows"));
        printf("%s: %lld rows, %lld errors, %lld imported%s in %.2f s (%.0f rows/s)\n", path, rows,
               (long long)json_integer_value(json_object_get(report, "error_count")),
               (long long)json_integer_value(json_object_get(report, "imported")),
               dry ? " (dry run)" : "", secs, secs > 0 ? (double)rows / secs : 0.0);
        json_decref(report);
    }
    if (!report && code != AMP_OK)
        rc = cli_report(&err); /* nothing was read: an unknown --org, no rights… */
    else if (code == AMP_EINVALID || code == AMP_EBADREQ)
        rc = EXIT_INVALID;
    else if (code != AMP_OK)
        rc = cli_report(&err);
    amp_err_clear(&err);
    cli_env_close(&env);
    if (len)
        munmap(text, len);
    return rc;
}

const cli_command cli_commands_reports[] = {
    {"import", "import HTCDS CSV/JSON and XForm (KoboToolbox, ODK) submissions", cmd_import},
    {"export", "exchange files: CTDC global dataset (k-anonymised), HTCDS CSV/JSON", cmd_export},
    {"report", "statistics: crosstabs, standard reports, privacy ledger", cmd_report},
    {NULL, NULL, NULL},
};
