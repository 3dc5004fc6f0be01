/* cli.h — what the amparo subcommands share: options, the data directory, exit
 * codes.  Exit codes: 0 success, 1 failure, 2 usage error, 3 not found,
 * 4 invalid input. */
#ifndef AMPARO_CLI_H
#define AMPARO_CLI_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_NOTFOUND = 3, EXIT_INVALID = 4 };

/** An opened data directory: its store, catalogue and core. */
typedef struct {
    char dir[4096];
    char country[3];
    store *store;
    catalogue *cat;
    core *core;
    struct keyring *kr; /* the master keys: identity data is sealed under them */
} cli_env;

/** The data directory: --data if given, else $AMPARO_DATA, else "./data". */
const char *cli_data_dir(const char *opt);

/** Opens an initialised data directory; prints the reason and returns -1 on failure. */
int cli_env_open(cli_env *env, const char *dir);
void cli_env_close(cli_env *env);

/** Prints a core error (message and each field) to stderr; returns the exit code. */
int cli_report(const amp_err *err);

/** True when arg is -h or --help. */
int cli_is_help(const char *arg);

int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_case(int argc, char **argv);
/** amparo case erase (cmd_security.c). */
int cmd_case_erase(int argc, char **argv);

/** A subcommand of a module, in its own file (cmd_<module>.c): a table ending
 *  with {NULL}.  main.c finds the tables through weak references, so a module
 *  is added without touching the dispatcher. */
typedef struct {
    const char *name;    /* "user", "referral"… */
    const char *summary; /* one line for `amparo --help` */
    int (*run)(int argc, char **argv);
} cli_command;

extern const cli_command cli_commands_security[] __attribute__((weak));
extern const cli_command cli_commands_referrals[] __attribute__((weak));
extern const cli_command cli_commands_care[] __attribute__((weak));
extern const cli_command cli_commands_reports[] __attribute__((weak));
extern const cli_command cli_commands_audit[] __attribute__((weak));
extern const cli_command cli_commands_keys[] __attribute__((weak));

/** `amparo key status|rotate|retire` (cmd_keys.c, the table cli_commands_keys);
 *  declared so tests can call it (a weak reference alone links nothing in). */
int cmd_key(int argc, char **argv);
/** `amparo audit verify|head|list` (cmd_audit.c, the table cli_commands_audit);
 *  declared for tests, like cmd_key. */
int cmd_audit(int argc, char **argv);

#endif
