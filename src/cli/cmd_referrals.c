/* cmd_referrals.c — the referral mechanism from the command line: amparo
 * referral, directory, hotline, assistance, decision, lifecycle and tasks.
 * Each subcommand calls the same core function as the API, as the internal
 * "cli" principal (optionally acting for an organisation with --org), and
 * prints the answer as JSON.  Request bodies are given with --json TEXT (or
 * --json @FILE); list filters as --NAME VALUE. */
#include "cli/cli.h"
#include "core/assistance.h"
#include "core/directory.h"
#include "core/hotline.h"
#include "core/lifecycle.h"
#include "core/refcommon.h"
#include "core/referrals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 24

/* What a subcommand takes: arguments (ids), a JSON body, list filters. */
typedef enum { A_LIST, A_ID, A_ID_BODY, A_BODY, A_CASE, A_CASE_BODY, A_CASE_ID, A_NONE } arg_shape;

typedef struct {
    const char *name;
    arg_shape shape;
    const char *help;
    void *fn;
} sub;

typedef amp_code (*f_list)(core *, const principal *, const list_param *, size_t, json_t **,
                           amp_err *);
typedef amp_code (*f_id)(core *, const principal *, const char *, json_t **, amp_err *);
typedef amp_code (*f_id_body)(core *, const principal *, const char *, const json_t *, json_t **,
                              amp_err *);
typedef amp_code (*f_trans)(core *, const principal *, const char *, const json_t *, int64_t,
                            json_t **, amp_err *);
typedef amp_code (*f_body)(core *, const principal *, const json_t *, json_t **, amp_err *);
typedef amp_code (*f_case_id)(core *, const principal *, const char *, const char *, json_t **,
                              amp_err *);
typedef amp_code (*f_none)(core *, const principal *, json_t **, amp_err *);

static amp_code settings_show(core *c, const principal *p, json_t **out, amp_err *err)
{
    return rc_settings_read(c, p, out, err);
}

static amp_code settings_set(core *c, const principal *p, const json_t *body, json_t **out,
                             amp_err *err)
{
    return rc_settings_put(c, p, body, 0, out, err);
}

static amp_code directory_set(core *c, const principal *p, const char *org, const json_t *body,
                              json_t **out, amp_err *err)
{
    return directory_put(c, p, org, body, 0, out, NULL, err);
}

/* Transitions take (id, body, version); wrap them as id + body. */
#define TRANS(fn)                                                                                  \
    static amp_code fn##_cli(core *c, const principal *p, const char *id, const json_t *b,         \
                             json_t **out, amp_err *err)                                           \
    {                                                                                              \
        return fn(c, p, id, b, 0, out, err);                                                       \
    }
TRANS(referrals_accept)
TRANS(referrals_decline)
TRANS(referrals_complete)
TRANS(referrals_cancel)

static const sub referral_subs[] = {
    {"list", A_LIST, "--box inbox|outbox|all --status S --overdue true --urgency U --case C",
     referrals_list},
    {"show", A_ID, "ID", referrals_get},
    {"send", A_BODY,
     "--json '{\"case\",\"to_org\",\"services\":[...],\"urgency\",\"reason\",\"notes\"}'",
     referrals_send},
    {"accept", A_ID_BODY, "ID", referrals_accept_cli},
    {"decline", A_ID_BODY, "ID --json '{\"reason\":\"NoCapacity\",\"details\"}'",
     referrals_decline_cli},
    {"complete", A_ID_BODY, "ID --json '{\"outcome\":\"ServicesProvided\",\"notes\"}'",
     referrals_complete_cli},
    {"cancel", A_ID_BODY, "ID --json '{\"reason\":\"NoLongerNeeded\",\"details\"}'",
     referrals_cancel_cli},
    {"flows", A_LIST, "--from DATE --to DATE", referrals_flows},
    {"picklists", A_NONE, "", referrals_picklists},
    {"settings", A_NONE, "(print the deadline settings and calendars)", settings_show},
    {"set-settings", A_BODY, "--json '{\"standard_working_days\":5,\"calendars\":{...}}'",
     settings_set},
    {NULL, 0, NULL, NULL},
};

static const sub directory_subs[] = {
    {"list", A_LIST, "--service S --region R --country CC --language L --available true",
     directory_list},
    {"show", A_ID, "ORG", directory_get},
    {"set", A_ID_BODY, "ORG --json '{\"services\":[...],\"regions\",\"languages\",\"capacity\"}'",
     directory_set},
    {NULL, 0, NULL, NULL},
};

static const sub hotline_subs[] = {
    {"list", A_LIST, "--channel C --caller-type T --outcome O --from DATE --to DATE", hotline_list},
    {"show", A_ID, "ID", hotline_get},
    {"add", A_BODY, "--json '{\"channel\",\"caller_type\",\"urgency\",\"indicators\":[...]}'",
     hotline_create},
    {"repeat", A_ID_BODY, "ID --json '{\"channel\",\"summary\",\"indicators\"}'", hotline_repeat},
    {"open-case", A_ID_BODY, "ID [--json '{case fields}']", hotline_open_case},
    {"stats", A_LIST, "--from DATE --to DATE --org ORG", hotline_stats},
    {NULL, 0, NULL, NULL},
};

static const sub assistance_subs[] = {
    {"list", A_CASE, "CASE", assistance_list},
    {"add", A_CASE_BODY, "CASE --json '{\"type\",\"start_date\",\"cost\",\"currency\"}'",
     assistance_create},
    {"show", A_CASE_ID, "CASE ID", assistance_get},
    {NULL, 0, NULL, NULL},
};

static const sub decision_subs[] = {
    {"list", A_CASE, "CASE", lifecycle_decisions},
    {"add", A_CASE_BODY,
     "CASE --json '{\"kind\":\"Initial\",\"outcome\":\"Positive\",\"decision_maker\":\"Police\"}'",
     lifecycle_decide},
    {NULL, 0, NULL, NULL},
};

static const sub lifecycle_subs[] = {
    {"close", A_CASE_BODY, "CASE --json '{\"reason\",\"kind\",\"follow_up\"}'", lifecycle_close},
    {"reopen", A_CASE_BODY, "CASE --json '{\"reason\"}'", lifecycle_reopen},
    {"events", A_CASE, "CASE", lifecycle_events},
    {NULL, 0, NULL, NULL},
};

static void usage(FILE *f, const char *cmd, const sub *subs)
{
    fprintf(f, "usage: amparo %s <subcommand> [--data DIR] [--org ORG] [--lang LANG] ...\n\n", cmd);
    for (const sub *s = subs; s->name; s++)
        fprintf(f, "  amparo %s %-12s %s\n", cmd, s->name, s->help);
    fputs("\n  --data DIR   data directory (default: $AMPARO_DATA or ./data)\n"
          "  --org ORG    act for organisation ORG (sender, receiver, owner)\n"
          "  --lang LANG  messages in en, es, fr or uk\n"
          "  --json BODY  the request body as JSON text, or @FILE to read it from a file\n"
          "Answers are printed as JSON.  Exit codes: 0 ok, 1 failure, 2 usage, 3 not found,\n"
          "4 invalid input.  See docs/REFERRALS.md.\n",
          f);
}

static json_t *read_body(const char *arg)
{
    json_error_t je;
    json_t *j = arg[0] == '@' ? json_load_file(arg + 1, JSON_REJECT_DUPLICATES, &je)
                              : json_loads(arg, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        fprintf(stderr, "amparo: --json: %s (line %d, column %d)\n", je.text, je.line, je.column);
    return j;
}

static int run(const char *cmd, const sub *subs, int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout, cmd, subs);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const sub *s = NULL;
    for (const sub *x = subs; x->name && !s; x++) {
        if (strcmp(x->name, argv[1]) == 0)
            s = x;
    }
    if (!s) {
        fprintf(stderr, "amparo %s: '%s' is not a subcommand\n", cmd, argv[1]);
        usage(stderr, cmd, subs);
        return EXIT_USAGE;
    }
    const char *data = NULL, *org = NULL, *lang = "en", *body_arg = NULL;
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    list_param params[MAX_PARAMS];
    char names[MAX_PARAMS][48];
    size_t np = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            printf("usage: amparo %s %s %s\n", cmd, s->name, s->help);
            return EXIT_OK;
        }
        if (strncmp(a, "--", 2) == 0) {
            const char *v = i + 1 < argc ? argv[i + 1] : NULL;
            if (!v) {
                fprintf(stderr, "amparo %s %s: %s needs a value\n", cmd, s->name, a);
                return EXIT_USAGE;
            }
            i++;
            if (!strcmp(a, "--data"))
                data = v;
            else if (!strcmp(a, "--org"))
                org = v;
            else if (!strcmp(a, "--lang"))
                lang = v;
            else if (!strcmp(a, "--json"))
                body_arg = v;
            else if (s->shape == A_LIST && np < MAX_PARAMS && strlen(a + 2) < sizeof names[0]) {
                size_t k = 0;
                for (; a[2 + k]; k++)
                    names[np][k] = a[2 + k] == '-' ? '_' : a[2 + k];
                names[np][k] = '\0';
                params[np].name = names[np];
                params[np].value = v;
                np++;
            } else {
                fprintf(stderr, "amparo %s %s: unexpected option '%s'\n", cmd, s->name, a);
                return EXIT_USAGE;
            }
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            fprintf(stderr, "amparo %s %s: unexpected argument '%s'\n", cmd, s->name, a);
            return EXIT_USAGE;
        }
    }
    int need =
        s->shape == A_ID || s->shape == A_ID_BODY || s->shape == A_CASE || s->shape == A_CASE_BODY
            ? 1
        : s->shape == A_CASE_ID ? 2
                                : 0;
    if (npos != need) {
        fprintf(stderr, "usage: amparo %s %s %s\n", cmd, s->name, s->help);
        return EXIT_USAGE;
    }
    bool needs_body = s->shape == A_BODY || s->shape == A_CASE_BODY;
    if (needs_body && !body_arg) {
        fprintf(stderr, "amparo %s %s: give the body with --json\n", cmd, s->name);
        return EXIT_USAGE;
    }
    json_t *body = body_arg ? read_body(body_arg) : NULL;
    if (body_arg && !body)
        return EXIT_INVALID;
    cli_env env;
    if (cli_env_open(&env, cli_data_dir(data)) < 0) {
        json_decref(body);
        return EXIT_FAIL;
    }
    principal p = {.actor = "cli", .internal = true};
    snprintf(p.lang, sizeof p.lang, "%s", lang);
    if (org)
        snprintf(p.org, sizeof p.org, "%s", org);
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = AMP_OK;
    switch (s->shape) {
    case A_LIST: code = ((f_list)s->fn)(env.core, &p, params, np, &out, &err); break;
    case A_ID:
    case A_CASE: code = ((f_id)s->fn)(env.core, &p, pos[0], &out, &err); break;
    case A_ID_BODY:
    case A_CASE_BODY: code = ((f_id_body)s->fn)(env.core, &p, pos[0], body, &out, &err); break;
    case A_BODY: code = ((f_body)s->fn)(env.core, &p, body, &out, &err); break;
    case A_CASE_ID: code = ((f_case_id)s->fn)(env.core, &p, pos[0], pos[1], &out, &err); break;
    case A_NONE: code = ((f_none)s->fn)(env.core, &p, &out, &err); break;
    }
    int rc = EXIT_OK;
    if (code == AMP_OK) {
        char *text = json_dumps(out, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        if (text)
            puts(text);
        free(text);
    } else {
        rc = cli_report(&err);
    }
    json_decref(out);
    json_decref(body);
    amp_err_clear(&err);
    cli_env_close(&env);
    return rc;
}

static int cmd_referral(int argc, char **argv)
{
    return run("referral", referral_subs, argc, argv);
}
static int cmd_directory(int argc, char **argv)
{
    return run("directory", directory_subs, argc, argv);
}
static int cmd_hotline(int argc, char **argv)
{
    return run("hotline", hotline_subs, argc, argv);
}
static int cmd_assistance(int argc, char **argv)
{
    return run("assistance", assistance_subs, argc, argv);
}
static int cmd_decision(int argc, char **argv)
{
    return run("decision", decision_subs, argc, argv);
}
static int cmd_lifecycle(int argc, char **argv)
{
    return run("lifecycle", lifecycle_subs, argc, argv);
}

static int cmd_tasks(int argc, char **argv)
{
    static const sub subs[] = {
        {"list", A_LIST, "--org ORG --kind K --due-before DATE", tasks_list},
        {"add", A_BODY, "--json '{\"case\",\"due\",\"note\",\"assignee\"}'", tasks_create},
        {"done", A_ID, "ID", tasks_done},
        {NULL, 0, NULL, NULL},
    };
    return run("tasks", subs, argc, argv);
}

const cli_command cli_commands_referrals[] = {
    {"referral", "refer cases: list, show, send, accept, decline, complete, cancel, flows",
     cmd_referral},
    {"directory", "the referral network's service directory: list, show, set", cmd_directory},
    {"hotline", "hotline contacts: list, show, add, repeat, open-case, stats", cmd_hotline},
    {"assistance", "assistance given to a case: list, add, show", cmd_assistance},
    {"decision", "identification decisions of a case: list, add", cmd_decision},
    {"lifecycle", "close and reopen cases: close, reopen, events", cmd_lifecycle},
    {"tasks", "tasks and reminders: list, add, done", cmd_tasks},
    {NULL, NULL, NULL},
};
