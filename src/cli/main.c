/* main.c — the amparo command: dispatch to subcommands. */
#include "cli/cli.h"
#include "core/version.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const cli_command core_commands[] = {
    {"init", "create a data directory (database, keys, first admin)", cmd_init},
    {"serve", "serve the web UI and JSON API (default 127.0.0.1:8080)", cmd_serve},
    {"demo", "load realistic synthetic cases", cmd_demo},
    {"case", "read cases: 'case get', 'case list'", cmd_case},
    {NULL, NULL, NULL},
};

static const cli_command *command_table(size_t i)
{
    const cli_command *const tables[] = {
        core_commands,        cli_commands_security, cli_commands_referrals, cli_commands_care,
        cli_commands_reports, cli_commands_audit,    cli_commands_keys};
    return i < sizeof tables / sizeof *tables ? tables[i] : NULL;
}
#define COMMAND_TABLES 7

static void usage(FILE *f)
{
    fputs("usage: amparo <command> [options]\n"
          "\n"
          "Amparo registers, refers and follows up cases of victims of human trafficking\n"
          "(HTCDS 2.0).  Commands:\n",
          f);
    for (size_t t = 0; t < COMMAND_TABLES; t++) {
        const cli_command *table = command_table(t);
        for (size_t i = 0; table && table[i].name; i++)
            fprintf(f, "  %-10s %s\n", table[i].name, table[i].summary);
    }
    fputs("  version    print the version\n"
          "\n"
          "Every command takes --data DIR (or AMPARO_DATA; default ./data) and --help.\n"
          "Exit codes: 0 success, 1 failure, 2 usage error, 3 not found, 4 invalid input.\n",
          f);
}

int main(int argc, char **argv)
{
    umask(077); /* the database and keys hold identity data: owner only */
    if (sodium_init() < 0) {
        fprintf(stderr, "amparo: cannot initialise libsodium\n");
        return EXIT_FAIL;
    }
    if (argc < 2 || cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("amparo %s\n", AMPARO_VERSION);
        return EXIT_OK;
    }
    for (size_t t = 0; t < COMMAND_TABLES; t++) {
        const cli_command *table = command_table(t);
        for (size_t i = 0; table && table[i].name; i++) {
            if (strcmp(cmd, table[i].name) == 0)
                return table[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "amparo: '%s' is not a command; see 'amparo --help'\n", cmd);
    return EXIT_USAGE;
}
