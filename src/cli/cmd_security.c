/* cmd_security.c — amparo org, amparo user, amparo roles: organisations and
 * accounts from the command line.  Passwords come from standard input or a
 * prompt, never from the command line (it is visible to other local users). */
#include "cli/cli.h"
#include "core/accounts.h"
#include "core/keyring.h"
#include "http/request.h"
#include "util/conf.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* ==== shared ===================================================================== */

static principal cli_principal(void)
{
    principal p = {.actor = "cli", .lang = "en", .internal = true};
    const char *u = getenv("USER");
    if (u && *u)
        snprintf(p.actor, sizeof p.actor, "cli:%.60s", u);
    return p;
}

/* Reads a password: a prompt with echo off on a terminal, else one line of stdin. */
static int read_password(const char *prompt, char *out, size_t n)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    bool ok = fgets(out, (int)n, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fputc('\n', stderr);
    }
    if (!ok)
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

int cli_open_accounts(cli_env *env, accounts **acc);

/** Opens the accounts of an opened data directory; -1 with a message. */
int cli_open_accounts(cli_env *env, accounts **acc)
{
    accounts_settings as;
    char err[512];
    if (accounts_settings_load_key(&as, env->dir, keyring_index_key(env->kr), err, sizeof err) <
        0) {
        fprintf(stderr, "amparo: %s\n", err);
        return -1;
    }
    *acc = accounts_new(env->core, &as);
    sodium_memzero(&as, sizeof as);
    if (!*acc) {
        fprintf(stderr, "amparo: cannot set up accounts\n");
        return -1;
    }
    return 0;
}

/* "a,b,c" as a new JSON array of strings (empty items skipped). */
static json_t *comma_list(const char *text)
{
    json_t *arr = json_array();
    char *copy = strdup(text), *save = NULL;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
        json_array_append_new(arr, json_string(t));
    free(copy);
    return arr;
}

static void print_json(const json_t *j)
{
    char *t = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (t)
        puts(t);
    free(t);
}

/* ==== amparo org ===================================================================== */

static const char org_usage[] =
    "usage: amparo org add [--data DIR] --id ID --name NAME [--type T] [--country CC]\n"
    "                      [--region R] [--kind K[,K...]]\n"
    "       amparo org list [--data DIR] [--json]\n"
    "\n"
    "Organisations are the tenants of Amparo: every user and case belongs to one.\n"
    "  --id ID        a slug of letters, digits, '.', '_' or '-' (1-64)\n"
    "  --name NAME    org_Name\n"
    "  --type T       org_Type (NGO, LawEnforcement, HealthServiceOrganisation,\n"
    "                 CentralGovernmentOrganisation, LocalGovernmentOrganisation,\n"
    "                 ImmigrationService, LegalService, CorporateBusiness, SchoolOrCollege)\n"
    "  --country CC   amp_OrgCountry, ISO 3166-1 alpha-2\n"
    "  --region R     amp_OrgRegion\n"
    "  --kind K       amp_OrgCategory: NGO, InternationalOrganisation, Police, Prosecutor,\n"
    "                 Court, Hotline, Shelter, HealthService, SocialService,\n"
    "                 LocalAuthority, Ministry, Consulate, LabourInspectorate, LegalAid\n";

static int org_add(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"id", required_argument, NULL, 'i'},
                                         {"name", required_argument, NULL, 'n'},
                                         {"type", required_argument, NULL, 't'},
                                         {"country", required_argument, NULL, 'c'},
                                         {"region", required_argument, NULL, 'r'},
                                         {"kind", required_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *data = NULL, *id = NULL, *name = NULL, *type = NULL, *country = NULL,
               *region = NULL, *kind = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': data = optarg; break;
        case 'i': id = optarg; break;
        case 'n': name = optarg; break;
        case 't': type = optarg; break;
        case 'c': country = optarg; break;
        case 'r': region = optarg; break;
        case 'k': kind = optarg; break;
        case 'h': fputs(org_usage, stdout); return EXIT_OK;
        default: fputs(org_usage, stderr); return EXIT_USAGE;
        }
    }
    if (!id || !name || optind < argc) {
        fprintf(stderr, "amparo org add: --id and --name are required\n%s", org_usage);
        return EXIT_USAGE;
    }
    json_t *body = json_pack("{s:s, s:s}", "id", id, "org_Name", name);
    if (type)
        json_object_set_new(body, "org_Type", json_string(type));
    if (country)
        json_object_set_new(body, "amp_OrgCountry", json_string(country));
    if (region)
        json_object_set_new(body, "amp_OrgRegion", json_string(region));
    if (kind) {
        json_object_set_new(body, "amp_OrgCategory", comma_list(kind));
    }
    cli_env env;
    if (cli_env_open(&env, cli_data_dir(data)) < 0) {
        json_decref(body);
        return EXIT_FAIL;
    }
    principal p = cli_principal();
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = orgs_put(env.core, &p, body, &out, &err);
    json_decref(body);
    int rc = EXIT_OK;
    if (code == AMP_OK) {
        printf("organisation %s saved (version %lld)\n", id,
               (long long)json_integer_value(json_object_get(out, "version")));
        json_decref(out);
    } else {
        rc = cli_report(&err);
    }
    amp_err_clear(&err);
    cli_env_close(&env);
    return rc;
}

static int org_list(int argc, char **argv)
{
    const char *data = NULL;
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(org_usage, stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            as_json = true;
        } else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else {
            fprintf(stderr, "amparo org list: unexpected '%s'\n%s", argv[i], org_usage);
            return EXIT_USAGE;
        }
    }
    cli_env env;
    if (cli_env_open(&env, cli_data_dir(data)) < 0)
        return EXIT_FAIL;
    principal p = cli_principal();
    amp_err err = {0};
    json_t *out = NULL;
    int rc = EXIT_OK;
    if (orgs_list(env.core, &p, &out, &err) == AMP_OK) {
        if (as_json) {
            print_json(out);
        } else {
            size_t i;
            json_t *o;
            json_array_foreach (json_object_get(out, "items"), i, o)
                printf("%-20s %-4s %s\n", json_string_value(json_object_get(o, "id")),
                       json_string_value(json_object_get(o, "amp_OrgCountry"))
                           ? json_string_value(json_object_get(o, "amp_OrgCountry"))
                           : "-",
                       json_string_value(json_object_get(o, "org_Name")));
        }
        json_decref(out);
    } else {
        rc = cli_report(&err);
    }
    amp_err_clear(&err);
    cli_env_close(&env);
    return rc;
}

static int cmd_org(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(org_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "add") == 0)
        return org_add(argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return org_list(argc - 1, argv + 1);
    fprintf(stderr, "amparo org: unknown subcommand '%s'\n%s", argv[1], org_usage);
    return EXIT_USAGE;
}

/* ==== amparo user ====================================================================== */

static const char user_usage[] =
    "usage: amparo user add [--data DIR] --username U --org ORG --roles R[,R...]\n"
    "                       [--lang en|es|fr|uk] [--name DISPLAY] [--generate]\n"
    "       amparo user list [--data DIR] [--org ORG] [--json]\n"
    "       amparo user show [--data DIR] USERNAME\n"
    "       amparo user disable|enable [--data DIR] USERNAME\n"
    "       amparo user reset-password [--data DIR] [--generate] USERNAME\n"
    "       amparo user reset-totp [--data DIR] USERNAME\n"
    "\n"
    "The password is read from standard input (one line) or asked for on a terminal;\n"
    "never give it on the command line.  --generate makes one and prints it once.\n"
    "Roles: sysadmin, orgadmin, coordinator, caseworker, hotline, shelter, analyst,\n"
    "auditor ('amparo roles' prints what each may do).  Disabling a user or resetting\n"
    "their password ends their sessions and API tokens.\n";

static int user_add(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"username", required_argument, NULL, 'u'},
                                         {"org", required_argument, NULL, 'o'},
                                         {"roles", required_argument, NULL, 'r'},
                                         {"lang", required_argument, NULL, 'l'},
                                         {"name", required_argument, NULL, 'n'},
                                         {"generate", no_argument, NULL, 'g'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *data = NULL, *username = NULL, *org = NULL, *roles = NULL, *lang = NULL,
               *name = NULL;
    bool generate = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': data = optarg; break;
        case 'u': username = optarg; break;
        case 'o': org = optarg; break;
        case 'r': roles = optarg; break;
        case 'l': lang = optarg; break;
        case 'n': name = optarg; break;
        case 'g': generate = true; break;
        case 'h': fputs(user_usage, stdout); return EXIT_OK;
        default: fputs(user_usage, stderr); return EXIT_USAGE;
        }
    }
    if (!username || !roles || optind < argc) {
        fprintf(stderr, "amparo user add: --username and --roles are required\n%s", user_usage);
        return EXIT_USAGE;
    }
    json_t *body = json_pack("{s:s, s:o}", "username", username, "roles", comma_list(roles));
    if (org)
        json_object_set_new(body, "org", json_string(org));
    if (lang)
        json_object_set_new(body, "lang", json_string(lang));
    if (name)
        json_object_set_new(body, "display_name", json_string(name));
    char pw[1100] = "";
    if (!generate) {
        if (read_password("password: ", pw, sizeof pw) < 0 || !pw[0]) {
            fprintf(stderr, "amparo user add: no password given (or use --generate)\n");
            json_decref(body);
            return EXIT_USAGE;
        }
        json_object_set_new(body, "password", json_string(pw));
        sodium_memzero(pw, sizeof pw);
    }
    cli_env env;
    accounts *acc = NULL;
    if (cli_env_open(&env, cli_data_dir(data)) < 0 || cli_open_accounts(&env, &acc) < 0) {
        json_decref(body);
        return EXIT_FAIL;
    }
    principal p = cli_principal();
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = accounts_user_create(acc, &p, body, &out, &err);
    json_t *pwv = json_object_get(body, "password");
    if (pwv)
        sodium_memzero((char *)json_string_value(pwv), strlen(json_string_value(pwv)));
    json_decref(body);
    int rc = EXIT_OK;
    if (code == AMP_OK) {
        printf("user %s created\n", username);
        const char *gen = json_string_value(json_object_get(out, "password"));
        if (gen)
            printf("password (shown once): %s\n", gen);
        json_decref(out);
    } else {
        rc = cli_report(&err);
    }
    amp_err_clear(&err);
    accounts_free(acc);
    cli_env_close(&env);
    return rc;
}

static int user_list(int argc, char **argv)
{
    const char *data = NULL, *org = NULL;
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(user_usage, stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            as_json = true;
        } else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else if (strcmp(argv[i], "--org") == 0 && i + 1 < argc) {
            org = argv[++i];
        } else {
            fprintf(stderr, "amparo user list: unexpected '%s'\n%s", argv[i], user_usage);
            return EXIT_USAGE;
        }
    }
    cli_env env;
    if (cli_env_open(&env, cli_data_dir(data)) < 0)
        return EXIT_FAIL;
    store_user *rows = NULL;
    int n = 0;
    int rc = EXIT_OK;
    if (store_user_list(env.store, org, &rows, &n) != STORE_OK) {
        fprintf(stderr, "amparo: cannot read accounts\n");
        rc = EXIT_FAIL;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        char roles[200];
        authz_roles_format(rows[i].roles, roles, sizeof roles);
        if (as_json)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b, s:b}", "username",
                                                 rows[i].username, "org", rows[i].org, "roles",
                                                 roles, "disabled", rows[i].disabled,
                                                 "mfa_enrolled", rows[i].totp_enabled));
        else
            printf("%-24s %-16s %-40s%s%s\n", rows[i].username, rows[i].org[0] ? rows[i].org : "-",
                   roles, rows[i].disabled ? " disabled" : "", rows[i].totp_enabled ? " mfa" : "");
    }
    if (as_json)
        print_json(arr);
    json_decref(arr);
    sodium_memzero(rows, sizeof *rows * (size_t)n);
    free(rows);
    cli_env_close(&env);
    return rc;
}

/* user show|disable|enable|reset-password|reset-totp USERNAME */
static int user_one(const char *sub, int argc, char **argv)
{
    const char *data = NULL, *username = NULL;
    bool generate = false;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(user_usage, stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else if (strcmp(argv[i], "--generate") == 0 && strcmp(sub, "reset-password") == 0) {
            generate = true;
        } else if (argv[i][0] != '-' && !username) {
            username = argv[i];
        } else {
            fprintf(stderr, "amparo user %s: unexpected '%s'\n%s", sub, argv[i], user_usage);
            return EXIT_USAGE;
        }
    }
    if (!username) {
        fprintf(stderr, "amparo user %s: name the user\n%s", sub, user_usage);
        return EXIT_USAGE;
    }
    char pw[1100] = "";
    if (strcmp(sub, "reset-password") == 0 && !generate &&
        (read_password("new password: ", pw, sizeof pw) < 0 || !pw[0])) {
        fprintf(stderr, "amparo user reset-password: no password given (or use --generate)\n");
        return EXIT_USAGE;
    }
    cli_env env;
    accounts *acc = NULL;
    if (cli_env_open(&env, cli_data_dir(data)) < 0 || cli_open_accounts(&env, &acc) < 0)
        return EXIT_FAIL;
    principal p = cli_principal();
    amp_err err = {0};
    amp_code code;
    json_t *out = NULL;
    char *generated = NULL;
    if (strcmp(sub, "show") == 0)
        code = accounts_user_get(acc, &p, username, &out, &err);
    else if (strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0)
        code = accounts_user_disable(acc, &p, username, strcmp(sub, "disable") == 0, &err);
    else if (strcmp(sub, "reset-totp") == 0)
        code = accounts_user_reset_totp(acc, &p, username, &err);
    else
        code =
            accounts_user_reset_password(acc, &p, username, generate ? NULL : pw, &generated, &err);
    sodium_memzero(pw, sizeof pw);
    int rc = EXIT_OK;
    if (code == AMP_OK) {
        if (out)
            print_json(out);
        else
            printf("user %s: %s done\n", username, sub);
        if (generated)
            printf("password (shown once): %s\n", generated);
    } else {
        rc = cli_report(&err);
    }
    json_decref(out);
    if (generated) {
        sodium_memzero(generated, strlen(generated));
        free(generated);
    }
    amp_err_clear(&err);
    accounts_free(acc);
    cli_env_close(&env);
    return rc;
}

static int cmd_user(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(user_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "add") == 0)
        return user_add(argc - 1, argv + 1);
    if (strcmp(sub, "list") == 0)
        return user_list(argc - 1, argv + 1);
    if (strcmp(sub, "show") == 0 || strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0 ||
        strcmp(sub, "reset-password") == 0 || strcmp(sub, "reset-totp") == 0)
        return user_one(sub, argc - 1, argv + 1);
    fprintf(stderr, "amparo user: unknown subcommand '%s'\n%s", sub, user_usage);
    return EXIT_USAGE;
}

/* ==== amparo roles ======================================================================= */

static int cmd_roles(int argc, char **argv)
{
    if (argc > 1 && cli_is_help(argv[1])) {
        puts("usage: amparo roles [--json]\n\nPrints the permission matrix: what each role may "
             "do on each resource\n(record scope — own organisation, shared, restricted — "
             "applies on top).");
        return EXIT_OK;
    }
    json_t *m = authz_matrix_json();
    if (argc > 1 && strcmp(argv[1], "--json") == 0) {
        print_json(m);
    } else {
        const char *role;
        json_t *row;
        json_object_foreach (json_object_get(m, "matrix"), role, row) {
            printf("%s\n", role);
            const char *res;
            json_t *acts;
            json_object_foreach (row, res, acts) {
                printf("  %-15s", res);
                size_t i;
                json_t *a;
                json_array_foreach (acts, i, a)
                    printf(" %s", json_string_value(a));
                putchar('\n');
            }
        }
    }
    json_decref(m);
    return EXIT_OK;
}

/* ==== amparo case erase, amparo retention ==================================================== */

static const char retention_usage[] =
    "usage: amparo retention [--data DIR] [--days N] [--apply] [--json]\n"
    "\n"
    "Lists the closed cases (cas_Status Closed or ClosedReferred) left unchanged for\n"
    "longer than the retention period: amparo.conf's retention_closed_days, or --days.\n"
    "With --apply it erases them (identity destroyed, statistics kept where the consent\n"
    "allows; see 'amparo case erase --help').  Exit 0; 1 on failure; 2 when no period is set.\n";

static long conf_long(const char *dir, const char *key)
{
    char v[64];
    return conf_get(dir, key, v, sizeof v) ? strtol(v, NULL, 10) : 0;
}

static int cmd_retention(int argc, char **argv)
{
    const char *data = NULL;
    long days = -1;
    bool apply = false, as_json = false;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(retention_usage, stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
            char *end;
            days = strtol(argv[++i], &end, 10);
            if (*end || days < 1 || days > 36500) {
                fprintf(stderr, "amparo retention: --days must be 1 to 36500\n");
                return EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--apply") == 0) {
            apply = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            as_json = true;
        } else {
            fprintf(stderr, "amparo retention: unexpected '%s'\n%s", argv[i], retention_usage);
            return EXIT_USAGE;
        }
    }
    cli_env env;
    if (cli_env_open(&env, cli_data_dir(data)) < 0)
        return EXIT_FAIL;
    if (days < 0)
        days = conf_long(env.dir, "retention_closed_days");
    if (days <= 0) {
        fprintf(stderr, "amparo retention: no retention period (set retention_closed_days in "
                        "amparo.conf or give --days)\n");
        cli_env_close(&env);
        return EXIT_USAGE;
    }
    time_t cutoff_t = time(NULL) - (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&cutoff_t, &tm);
    char cutoff[32];
    strftime(cutoff, sizeof cutoff, "%Y-%m-%dT%H:%M:%S", &tm);
    principal p = cli_principal();
    json_t *due = json_array();
    int rc = EXIT_OK;
    char offset[24];
    for (long off = 0;; off += 500) {
        snprintf(offset, sizeof offset, "%ld", off);
        list_param params[] = {{"status", "Closed,ClosedReferred"},
                               {"limit", "500"},
                               {"offset", offset},
                               {"sort", "updated"}};
        json_t *page = NULL;
        amp_err err = {0};
        if (cases_list(env.core, &p, params, 4, &page, &err) != AMP_OK) {
            rc = cli_report(&err);
            amp_err_clear(&err);
            break;
        }
        json_t *items = json_object_get(page, "items");
        size_t i;
        json_t *c;
        json_array_foreach (items, i, c) {
            const char *upd = json_string_value(json_object_get(c, "updated_at"));
            if (upd && strcmp(upd, cutoff) < 0 && !json_object_get(c, "_erased_at"))
                json_array_append_new(due, json_pack("{s:O, s:O, s:O, s:O}", "id",
                                                     json_object_get(c, "id"), "reference",
                                                     json_object_get(c, "reference"), "status",
                                                     json_object_get(c, "cas_Status"), "updated_at",
                                                     json_object_get(c, "updated_at")));
        }
        size_t n = json_array_size(items);
        json_decref(page);
        if (n < 500)
            break;
    }
    size_t erased = 0, i;
    json_t *c;
    json_array_foreach (due, i, c) {
        if (!as_json)
            printf("%s %-16s %-14s last changed %s\n", apply ? "erase" : "due  ",
                   json_string_value(json_object_get(c, "reference")),
                   json_string_value(json_object_get(c, "status")),
                   json_string_value(json_object_get(c, "updated_at")));
        if (apply) {
            amp_err err = {0};
            json_t *out = NULL;
            if (cases_erase(env.core, &p, json_string_value(json_object_get(c, "id")), &out,
                            &err) == AMP_OK)
                erased++;
            else
                rc = cli_report(&err);
            json_decref(out);
            amp_err_clear(&err);
        }
    }
    if (as_json) {
        json_t *o = json_pack("{s:i, s:s, s:O, s:I}", "retention_days", (int)days, "cutoff", cutoff,
                              "due", due, "erased", (json_int_t)erased);
        print_json(o);
        json_decref(o);
    } else {
        printf("%zu closed case(s) past the %ld-day retention period%s\n", json_array_size(due),
               days, apply ? "; erased" : "");
    }
    json_decref(due);
    cli_env_close(&env);
    return rc;
}

static const char erase_usage[] =
    "usage: amparo case erase [--data DIR] ID|REFERENCE\n"
    "\n"
    "Erases a case: its identity fields and free text (and those of its events,\n"
    "comments, plans and perpetrators) are destroyed; what is not identifying stays for\n"
    "statistics when the consent allows it, otherwise only the registration facts do.\n"
    "The case can no longer change.  Audited.  Exit 0, 3 not found, 1 otherwise.\n";

int cmd_case_erase(int argc, char **argv)
{
    const char *data = NULL, *key = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(erase_usage, stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else if (argv[i][0] != '-' && !key) {
            key = argv[i];
        } else {
            fprintf(stderr, "amparo case erase: unexpected '%s'\n%s", argv[i], erase_usage);
            return EXIT_USAGE;
        }
    }
    if (!key) {
        fputs(erase_usage, stderr);
        return EXIT_USAGE;
    }
    cli_env env;
    if (cli_env_open(&env, cli_data_dir(data)) < 0)
        return EXIT_FAIL;
    principal p = cli_principal();
    amp_err err = {0};
    json_t *out = NULL;
    int rc = EXIT_OK;
    if (cases_erase(env.core, &p, key, &out, &err) == AMP_OK) {
        printf("case %s erased (statistics %s)\n",
               json_string_value(json_object_get(out, "reference")),
               json_is_true(json_object_get(out, "statistics_kept")) ? "kept" : "removed");
        json_decref(out);
    } else {
        rc = cli_report(&err);
    }
    amp_err_clear(&err);
    cli_env_close(&env);
    return rc;
}

/* ==== amparo routes ======================================================================= */

static void print_route(const route *rt, void *arg)
{
    bool as_json = *(bool *)arg;
    const char *access = rt->access == ROUTE_PUBLIC        ? "public"
                         : rt->access == ROUTE_MFA_PENDING ? "signed-in (also before MFA)"
                                                           : "signed-in";
    if (as_json)
        printf("{\"method\":\"%s\",\"path\":\"%s\",\"access\":\"%s\"}\n", rt->method, rt->pattern,
               rt->access == ROUTE_PUBLIC ? "public" : "signed-in");
    else
        printf("%-7s %-50s %s\n", rt->method, rt->pattern, access);
}

static int cmd_routes(int argc, char **argv)
{
    if (argc > 1 && cli_is_help(argv[1])) {
        puts("usage: amparo routes [--json]\n\nLists every HTTP route of the API and who may "
             "call it (public, or signed-in;\nthe permission matrix then decides, see 'amparo "
             "roles').  --json prints one\nJSON object per line.");
        return EXIT_OK;
    }
    bool as_json = argc > 1 && strcmp(argv[1], "--json") == 0;
    routes_each(print_route, &as_json);
    return EXIT_OK;
}

const cli_command cli_commands_security[] = {
    {"routes", "list the HTTP API's routes and who may call them", cmd_routes},
    {"org", "organisations: 'org add', 'org list'", cmd_org},
    {"user", "accounts: add, list, show, disable, enable, reset-password, reset-totp", cmd_user},
    {"roles", "print the permission matrix", cmd_roles},
    {"retention", "closed cases past the retention period; --apply erases them", cmd_retention},
    {NULL, NULL, NULL},
};
