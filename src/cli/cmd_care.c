/* cmd_care.c — amparo shelter / stay / return / reintegration / visit /
 * proceeding / training / indicator: the care modules from the command line.
 *
 * Every command is NOUN VERB [ARGUMENTS] [OPTIONS]; bodies come from
 * --json FILE (or - for standard input) and/or --set FIELD=VALUE (VALUE read as
 * JSON when it parses, else as text); any other --NAME VALUE is a list
 * parameter (--from 2026-01-01, --period 2026…).  Output is the API's JSON. */
#include "cli/cli.h"
#include "core/care_common.h"
#include "core/indicators.h"
#include "core/proceedings.h"
#include "core/reintegration.h"
#include "core/returns.h"
#include "core/shelters.h"
#include "core/trainings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef amp_code (*list_fn)(core *, const principal *, const list_param *, size_t, json_t **,
                            amp_err *);
typedef amp_code (*keyed_list_fn)(core *, const principal *, const char *, const list_param *,
                                  size_t, json_t **, amp_err *);
typedef amp_code (*get_fn)(core *, const principal *, const char *, json_t **, amp_err *);
typedef amp_code (*get2_fn)(core *, const principal *, const char *, const char *, json_t **,
                            amp_err *);
typedef amp_code (*create_fn)(core *, const principal *, const json_t *, core_done_fn, void *,
                              amp_err *);
typedef amp_code (*keyed_create_fn)(core *, const principal *, const char *, const json_t *,
                                    core_done_fn, void *, amp_err *);
typedef amp_code (*update_fn)(core *, const principal *, const char *, const json_t *, int64_t,
                              core_done_fn, void *, amp_err *);
typedef amp_code (*update2_fn)(core *, const principal *, const char *, const char *,
                               const json_t *, int64_t, core_done_fn, void *, amp_err *);
typedef amp_code (*delete_fn)(core *, const principal *, const char *, int64_t, core_done_fn,
                              void *, amp_err *);

/* One subcommand: exactly one function is set; nargs positional arguments. */
typedef struct {
    const char *noun, *verb, *args, *summary;
    list_fn list;
    keyed_list_fn keyed_list;
    get_fn get;
    get2_fn get2;
    create_fn create;
    keyed_create_fn keyed_create;
    update_fn update;
    update2_fn update2;
    delete_fn del;
    int nargs;
    bool body; /* takes --json / --set */
} care_cmd;

/* clang-format off */
static const care_cmd cmds[] = {
    {"shelter", "list", "", "list shelters (--org, --country, --region, --city, --kind, --available true, --open true)", .list = shelters_list},
    {"shelter", "get", "ID", "a shelter with its occupancy", .get = shelters_get, .nargs = 1},
    {"shelter", "create", "", "create a shelter (name, org, capacity {Women,Men,Children,Families}, cost_per_night, currency, ...)", .create = shelters_create, .body = true},
    {"shelter", "update", "ID", "change a shelter (--version N)", .update = shelters_update, .nargs = 1, .body = true},
    {"shelter", "occupancy", "ID", "occupancy now, or over time with --from/--to [--step day|week|month]", .keyed_list = shelters_occupancy, .nargs = 1},
    {"shelter", "occupancy-all", "", "occupancy of all shelters, now or over time (--from/--to, --step, --org, --country, --region)", .list = shelters_occupancy_all},
    {"shelter", "stats", "", "length of stay, occupancy rate and cost (--period 2026 | --from/--to, --shelter, --org, --kind)", .list = shelters_stats},
    {"shelter", "stays", "ID", "stays of a shelter (--status, --case, --kind)", .keyed_list = stays_list, .nargs = 1},
    {"shelter", "waiting-list", "ID", "the shelter's waiting list", .get = stays_waiting_list, .nargs = 1},
    {"shelter", "admit", "ID", "admit a person (case, place_kind, admitted_on, planned_discharge, waiting_list)", .keyed_create = stays_admit, .nargs = 1, .body = true},
    {"stay", "get", "ID", "a stay", .get = stays_get, .nargs = 1},
    {"stay", "update", "ID", "change planned_discharge, referred_by or notes (--version N)", .update = stays_update, .nargs = 1, .body = true},
    {"stay", "discharge", "ID", "discharge (discharge_reason, discharged_on, notes)", .keyed_create = stays_discharge, .nargs = 1, .body = true},
    {"stay", "admit", "ID", "admit a waiting-list entry (admitted_on, planned_discharge)", .keyed_create = stays_admit_waiting, .nargs = 1, .body = true},
    {"stay", "cancel", "ID", "take an entry off the waiting list (reason)", .keyed_create = stays_cancel, .nargs = 1, .body = true},
    {"stay", "of-case", "CASE", "the stays of a case", .get = stays_of_case, .nargs = 1},
    {"return", "list", "CASE", "returns and reunifications of a case", .get = returns_list, .nargs = 1},
    {"return", "get", "CASE ID", "one return", .get2 = returns_get, .nargs = 2},
    {"return", "create", "CASE", "record a return or reunification (type, destination_country, ...)", .keyed_create = returns_create, .nargs = 1, .body = true},
    {"return", "update", "CASE ID", "change a return (--version N)", .update2 = returns_update, .nargs = 2, .body = true},
    {"return", "stats", "", "foreign victims, returned home, minors reunited (--period | --from/--to, --org)", .list = returns_stats},
    {"reintegration", "plan", "CASE", "the case's reintegration plan, next visit and alerts", .get = reint_plan_get, .nargs = 1},
    {"reintegration", "set-plan", "CASE", "create or replace the plan (start_date, framework, visit_interval_days, ...; --version N to replace)", .update = NULL, .keyed_create = NULL, .nargs = 1, .body = true},
    {"reintegration", "trend", "CASE", "scores of the case's visits over time", .get = reint_trend, .nargs = 1},
    {"reintegration", "alerts", "", "overdue visits and falling or low scores (--framework, --kind, --org)", .list = reint_alerts},
    {"reintegration", "outcomes", "", "share of sustainable reintegration at 6 and 12 months (--framework, --org, --start-from, --start-to, --threshold)", .list = reint_outcomes},
    {"reintegration", "indicators", "", "the indicator frameworks and thresholds in force", .list = NULL},
    {"reintegration", "check-config", "FILE", "check a replacement indicators file (for AMPARO_CARE_CONFIG)", .nargs = 1},
    {"visit", "list", "CASE", "monitoring visits of a case", .get = reint_visits_list, .nargs = 1},
    {"visit", "get", "CASE ID", "one visit", .get2 = reint_visit_get, .nargs = 2},
    {"visit", "create", "CASE", "record a scored visit (date, type, scores {indicator: 0..1}, notes)", .keyed_create = reint_visit_create, .nargs = 1, .body = true},
    {"visit", "update", "CASE ID", "correct a visit (--version N)", .update2 = reint_visit_update, .nargs = 2, .body = true},
    {"proceeding", "list", "", "criminal proceedings (--case, --status, --stage, --verdict, --org, --opened-from, --opened-to)", .list = proceedings_list},
    {"proceeding", "get", "ID", "one proceeding", .get = proceedings_get, .nargs = 1},
    {"proceeding", "create", "", "open a proceeding (case, stages [{stage, date}], victim_roles, perpetrators, ...)", .create = proceedings_create, .body = true},
    {"proceeding", "update", "ID", "change a proceeding (--version N)", .update = proceedings_update, .nargs = 1, .body = true},
    {"proceeding", "of-case", "CASE", "the proceedings of a case", .get = proceedings_of_case, .nargs = 1},
    {"proceeding", "stats", "", "opened, verdicts, convictions, victims' roles (--period | --from/--to, --org)", .list = proceedings_stats},
    {"training", "list", "", "events (--type, --country, --province, --city, --audience, --topic, --org, --from, --to)", .list = trainings_list},
    {"training", "get", "ID", "one event", .get = trainings_get, .nargs = 1},
    {"training", "create", "", "record an event (type, title, start_date, city, participants_by_sex, ...)", .create = trainings_create, .body = true},
    {"training", "update", "ID", "change an event (--version N)", .update = trainings_update, .nargs = 1, .body = true},
    {"training", "delete", "ID", "delete an event (--version N)", .del = trainings_delete, .nargs = 1},
    {"training", "stats", "", "participants, officials trained, by sex, place, audience (same filters, or --period)", .list = trainings_stats},
    {"indicator", "list", "", "indicators (--status, --measure, --programme, --org)", .list = indicators_list},
    {"indicator", "get", "ID", "one indicator", .get = indicators_get, .nargs = 1},
    {"indicator", "create", "", "define an indicator (code, name, measure, targets [{period, target}], ...)", .create = indicators_create, .body = true},
    {"indicator", "update", "ID", "change an indicator (--version N)", .update = indicators_update, .nargs = 1, .body = true},
    {"indicator", "delete", "ID", "delete an indicator (--version N)", .del = indicators_delete, .nargs = 1},
    {"indicator", "actuals", "ID", "actual against target for each target period (or --period)", .keyed_list = indicators_actuals, .nargs = 1},
    {"indicator", "report", "", "every active indicator against its target (--period required, --programme, --org)", .list = indicators_report},
};
/* clang-format on */
#define NCMDS (sizeof cmds / sizeof *cmds)

static const char common_opts[] =
    "\n"
    "  --json FILE       the body as a JSON file ('-': standard input)\n"
    "  --set FIELD=VALUE a body field (VALUE as JSON if it parses, else text); repeatable\n"
    "  --version N       the version being changed (updates, deletes, replacing a plan)\n"
    "  --NAME VALUE      a list parameter (e.g. --period 2026, --from 2026-01-01)\n"
    "  --data DIR        data directory (default: $AMPARO_DATA or ./data)\n"
    "Output: the API's JSON.  Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 invalid input.\n"
    "See docs/CARE.md.\n";

static void noun_usage(FILE *f, const char *noun)
{
    fprintf(f, "usage: amparo %s VERB [ARGUMENTS] [OPTIONS]\n\n", noun);
    for (size_t i = 0; i < NCMDS; i++) {
        if (strcmp(cmds[i].noun, noun) == 0)
            fprintf(f, "  %-14s %-8s %s\n", cmds[i].verb, cmds[i].args, cmds[i].summary);
    }
    fputs(common_opts, f);
}

static void verb_usage(FILE *f, const care_cmd *c)
{
    fprintf(f, "usage: amparo %s %s %s [OPTIONS]\n\n%s\n", c->noun, c->verb, c->args, c->summary);
    fputs(common_opts, f);
}

static void print_json(const json_t *o)
{
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    if (text) {
        puts(text);
        free(text);
    }
}

static json_t *read_body(const char *path, char *err, size_t n)
{
    json_error_t je;
    json_t *doc = strcmp(path, "-") == 0 ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &je)
                                         : json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        snprintf(err, n, "%s: %s (line %d, column %d)", path, je.text, je.line, je.column);
    return doc;
}

#define MAX_PARAMS 32

static int run_noun(const char *noun, int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        noun_usage(argc < 2 ? stderr : stdout, noun);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const care_cmd *cmd = NULL;
    for (size_t i = 0; i < NCMDS && !cmd; i++) {
        if (strcmp(cmds[i].noun, noun) == 0 && strcmp(cmds[i].verb, argv[1]) == 0)
            cmd = &cmds[i];
    }
    if (!cmd) {
        fprintf(stderr, "amparo %s: '%s' is not a subcommand\n", noun, argv[1]);
        noun_usage(stderr, noun);
        return EXIT_USAGE;
    }
    const char *data = NULL, *args[2] = {NULL, NULL};
    int nargs = 0;
    int64_t version = 0;
    json_t *body = NULL;
    list_param params[MAX_PARAMS];
    char names[MAX_PARAMS][48];
    size_t np = 0;
    char err_text[600];
    int rc = EXIT_OK;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            verb_usage(stdout, cmd);
            json_decref(body);
            return EXIT_OK;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (nargs >= cmd->nargs) {
                fprintf(stderr, "amparo %s %s: unexpected argument '%s'\n", noun, cmd->verb, a);
                json_decref(body);
                return EXIT_USAGE;
            }
            args[nargs++] = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t len = eq && strncmp(a, "--set", 5) != 0 ? (size_t)(eq - a - 2) : strlen(a + 2);
        const char *value = eq && strncmp(a, "--set", 5) != 0 ? eq + 1
                            : i + 1 < argc                    ? argv[++i]
                                                              : NULL;
        if (!value || len == 0 || len >= sizeof names[0]) {
            fprintf(stderr, "amparo %s %s: %s needs a value\n", noun, cmd->verb, a);
            json_decref(body);
            return EXIT_USAGE;
        }
        if (len == 4 && strncmp(a + 2, "data", 4) == 0) {
            data = value;
        } else if (len == 7 && strncmp(a + 2, "version", 7) == 0) {
            char *end;
            version = strtoll(value, &end, 10);
            if (*end || version < 1) {
                fprintf(stderr, "amparo %s %s: --version must be a positive number\n", noun,
                        cmd->verb);
                json_decref(body);
                return EXIT_USAGE;
            }
        } else if (cmd->body && len == 4 && strncmp(a + 2, "json", 4) == 0) {
            json_t *doc = read_body(value, err_text, sizeof err_text);
            if (!doc || !json_is_object(doc)) {
                fprintf(stderr, "amparo: %s\n", doc ? "the body must be a JSON object" : err_text);
                json_decref(doc);
                json_decref(body);
                return EXIT_INVALID;
            }
            if (!body)
                body = json_object();
            json_object_update(body, doc);
            json_decref(doc);
        } else if (cmd->body && len == 3 && strncmp(a + 2, "set", 3) == 0) {
            const char *e2 = strchr(value, '=');
            if (!e2 || e2 == value) {
                fprintf(stderr, "amparo %s %s: --set needs FIELD=VALUE\n", noun, cmd->verb);
                json_decref(body);
                return EXIT_USAGE;
            }
            char field[128];
            snprintf(field, sizeof field, "%.*s", (int)(e2 - value), value);
            json_t *v = json_loads(e2 + 1, JSON_DECODE_ANY, NULL);
            if (!v)
                v = json_string(e2 + 1);
            if (!body)
                body = json_object();
            json_object_set_new(body, field, v);
        } else if (np < MAX_PARAMS) {
            for (size_t k = 0; k < len; k++)
                names[np][k] = a[2 + k] == '-' ? '_' : a[2 + k];
            names[np][len] = '\0';
            params[np].name = names[np];
            params[np].value = value;
            np++;
        }
    }
    if (nargs < cmd->nargs) {
        fprintf(stderr, "amparo %s %s: give %s\n", noun, cmd->verb, cmd->args);
        verb_usage(stderr, cmd);
        json_decref(body);
        return EXIT_USAGE;
    }
    if (strcmp(cmd->verb, "check-config") == 0) {
        json_error_t je;
        json_t *doc = json_load_file(args[0], JSON_REJECT_DUPLICATES, &je);
        if (!doc) {
            fprintf(stderr, "amparo: %s: %s (line %d)\n", args[0], je.text, je.line);
            return EXIT_INVALID;
        }
        rc = care_config_check(doc, err_text, sizeof err_text) == 0 ? EXIT_OK : EXIT_INVALID;
        if (rc == EXIT_OK)
            printf("%s: a valid indicators file\n", args[0]);
        else
            fprintf(stderr, "amparo: %s: %s\n", args[0], err_text);
        json_decref(doc);
        return rc;
    }
    if (!body)
        body = json_object();
    cli_env env;
    if (cli_env_open(&env, cli_data_dir(data)) < 0) {
        json_decref(body);
        return EXIT_FAIL;
    }
    principal p = {.actor = "cli", .lang = "en", .internal = true};
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code;
    core *c = env.core;
    care_wait *w = NULL;
    if (cmd->list || cmd->keyed_list || cmd->get || cmd->get2 ||
        strcmp(cmd->verb, "indicators") == 0) {
        if (cmd->list)
            code = cmd->list(c, &p, params, np, &out, &err);
        else if (cmd->keyed_list)
            code = cmd->keyed_list(c, &p, args[0], params, np, &out, &err);
        else if (cmd->get)
            code = cmd->get(c, &p, args[0], &out, &err);
        else if (cmd->get2)
            code = cmd->get2(c, &p, args[0], args[1], &out, &err);
        else
            code = reint_indicators(c, &p, &out, &err);
    } else {
        w = care_wait_new();
        if (!w)
            code = amp_err_set(&err, AMP_EINTERNAL, "out of memory");
        else if (cmd->create)
            code = cmd->create(c, &p, body, care_wait_done, w, &err);
        else if (cmd->keyed_create)
            code = cmd->keyed_create(c, &p, args[0], body, care_wait_done, w, &err);
        else if (cmd->update)
            code = cmd->update(c, &p, args[0], body, version, care_wait_done, w, &err);
        else if (cmd->update2)
            code = cmd->update2(c, &p, args[0], args[1], body, version, care_wait_done, w, &err);
        else if (cmd->del)
            code = cmd->del(c, &p, args[0], version, care_wait_done, w, &err);
        else /* reintegration set-plan */
            code = reint_plan_put(c, &p, args[0], body, version, care_wait_done, w, &err);
        if (w)
            code = care_wait_end(w, code, &out, &err);
    }
    if (code == AMP_OK)
        print_json(out);
    else
        rc = cli_report(&err);
    json_decref(out);
    json_decref(body);
    amp_err_clear(&err);
    cli_env_close(&env);
    return rc;
}

static int cmd_shelter(int argc, char **argv)
{
    return run_noun("shelter", argc, argv);
}
static int cmd_stay(int argc, char **argv)
{
    return run_noun("stay", argc, argv);
}
static int cmd_return(int argc, char **argv)
{
    return run_noun("return", argc, argv);
}
static int cmd_reintegration(int argc, char **argv)
{
    return run_noun("reintegration", argc, argv);
}
static int cmd_visit(int argc, char **argv)
{
    return run_noun("visit", argc, argv);
}
static int cmd_proceeding(int argc, char **argv)
{
    return run_noun("proceeding", argc, argv);
}
static int cmd_training(int argc, char **argv)
{
    return run_noun("training", argc, argv);
}
static int cmd_indicator(int argc, char **argv)
{
    return run_noun("indicator", argc, argv);
}

const cli_command cli_commands_care[] = {
    {"shelter", "shelters, capacity, occupancy, admissions, length-of-stay figures", cmd_shelter},
    {"stay", "a shelter stay: discharge, admit from the waiting list, cancel", cmd_stay},
    {"return", "voluntary return and family reunification; their figures", cmd_return},
    {"reintegration", "reintegration plans, trends, alerts, outcomes, indicators",
     cmd_reintegration},
    {"visit", "scored reintegration monitoring visits", cmd_visit},
    {"proceeding", "criminal proceedings and their figures", cmd_proceeding},
    {"training", "trainings, workshops, campaigns and their figures", cmd_training},
    {"indicator", "programme indicators, targets and actuals", cmd_indicator},
    {NULL, NULL, NULL},
};
