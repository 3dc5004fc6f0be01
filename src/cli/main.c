/* main.c — the amparo command: dispatch to subcommands. */
#include "cli/cli.h"
#include "core/version.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: amparo <command> [options]\n"
    "\n"
    "Amparo registers, refers and follows up cases of victims of human trafficking\n"
    "(HTCDS 2.0).  Commands:\n"
    "  init     create a data directory (database and keys)\n"
    "  serve    serve the JSON API (default 127.0.0.1:8080)\n"
    "  demo     load realistic synthetic cases\n"
    "  case     read cases: 'case get', 'case list'\n"
    "  version  print the version\n"
    "\n"
    "Every command takes --data DIR (or AMPARO_DATA; default ./data) and --help.\n"
    "Exit codes: 0 success, 1 failure, 2 usage error, 3 not found, 4 invalid input.\n";

int main(int argc, char **argv)
{
    umask(077); /* the database and keys hold identity data: owner only */
    if (sodium_init() < 0) {
        fprintf(stderr, "amparo: cannot initialise libsodium\n");
        return EXIT_FAIL;
    }
    if (argc < 2 || cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("amparo %s\n", AMPARO_VERSION);
        return EXIT_OK;
    }
    if (strcmp(cmd, "init") == 0)
        return cmd_init(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return cmd_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "case") == 0)
        return cmd_case(argc - 1, argv + 1);
    fprintf(stderr, "amparo: '%s' is not a command; see 'amparo --help'\n", cmd);
    return EXIT_USAGE;
}
