/* cmd_init.c — amparo init: create a data directory with its database and key. */
#include "cli/cli.h"
#include "core/keyring.h"
#include "core/accounts.h"
#include "core/audit.h"
#include "core/validate.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static const char usage[] =
    "usage: amparo init [--data DIR] --country CC\n"
    "\n"
    "Creates the data directory DIR (mode 0700) holding the SQLite database\n"
    "(amparo.db, schema migrations applied), amparo.conf, the audit key\n"
    "(audit.key, mode 0600: it seals the audit trail; see docs/AUDIT.md) and the key\n"
    "directory keys/ (mode 0700; $AMPARO_KEY_DIR if set) with the first master key\n"
    "master-1.key and the blind-index key index.key (mode 0600, 32 random bytes\n"
    "each: keep them out of backups of the database; see docs/ENCRYPTION.md).\n"
    "Running it again on an initialised directory changes nothing.\n"
    "\n"
    "It also creates the first system admin, 'admin', with the password taken from\n"
    "$AMPARO_ADMIN_PASSWORD, or asked for on a terminal, or else generated and\n"
    "printed once.  Sign in as admin to create organisations and users.\n"
    "\n"
    "  --data DIR      data directory (default: $AMPARO_DATA or ./data)\n"
    "  --country CC    ISO 3166-1 alpha-2 code of the registry's country; case\n"
    "                  references start with it (EC-2026-000154)\n";

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(tmp, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

int cli_open_accounts(cli_env *env, accounts **acc);

/* Creates the system admin 'admin' when the directory has no user yet. */
static int create_admin(const char *dir)
{
    cli_env env;
    accounts *acc = NULL;
    if (cli_env_open(&env, dir) < 0)
        return EXIT_FAIL;
    int64_t n = 0;
    if (store_user_count(env.store, &n) != STORE_OK || n > 0 || cli_open_accounts(&env, &acc) < 0) {
        cli_env_close(&env);
        return n > 0 ? EXIT_OK : EXIT_FAIL;
    }
    char pw[1100] = "";
    const char *env_pw = getenv("AMPARO_ADMIN_PASSWORD");
    bool generated = false;
    if (env_pw && *env_pw) {
        snprintf(pw, sizeof pw, "%s", env_pw);
    } else if (isatty(STDIN_FILENO)) {
        struct termios old, quiet;
        fprintf(stderr, "password for the system admin 'admin' (empty: generate one): ");
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
        if (!fgets(pw, sizeof pw, stdin))
            pw[0] = '\0';
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fputc('\n', stderr);
        pw[strcspn(pw, "\r\n")] = '\0';
    }
    if (!pw[0]) {
        accounts_generate_password(pw);
        generated = true;
    }
    principal p = {.actor = "init", .lang = "en", .internal = true};
    json_t *body = json_pack("{s:s, s:[s], s:s, s:s}", "username", "admin", "roles", "sysadmin",
                             "password", pw, "display_name", "System administrator");
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = accounts_user_create(acc, &p, body, &out, &err);
    json_decref(body);
    int rc = EXIT_OK;
    if (code == AMP_OK) {
        if (generated)
            printf("system admin 'admin' created; password (shown once): %s\n", pw);
        else
            printf("system admin 'admin' created\n");
    } else {
        rc = cli_report(&err);
    }
    sodium_memzero(pw, sizeof pw);
    json_decref(out);
    amp_err_clear(&err);
    accounts_free(acc);
    cli_env_close(&env);
    return rc;
}

int cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"country", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *data = NULL, *country = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': data = optarg; break;
        case 'c': country = optarg; break;
        case 'h': fputs(usage, stdout); return EXIT_OK;
        default: fputs(usage, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "amparo init: unexpected argument '%s'\n%s", argv[optind], usage);
        return EXIT_USAGE;
    }
    const char *dir = cli_data_dir(data);
    char path[4200];
    snprintf(path, sizeof path, "%s/amparo.conf", dir);
    struct stat st;
    bool configured = stat(path, &st) == 0;
    if (!configured) {
        if (!country || strlen(country) != 2) {
            fprintf(stderr, "amparo init: --country CC is required (e.g. --country EC)\n");
            return EXIT_USAGE;
        }
        char err[256];
        catalogue *cat = catalogue_load_embedded(err, sizeof err);
        bool known = cat && catalogue_is_country(cat, country);
        catalogue_free(cat);
        if (!known) {
            fprintf(stderr, "amparo init: '%s' is not an ISO 3166-1 alpha-2 country code\n",
                    country);
            return EXIT_USAGE;
        }
    }
    if (mkdir_p(dir) != 0) {
        fprintf(stderr, "amparo init: cannot create '%s': %s\n", dir, strerror(errno));
        return EXIT_FAIL;
    }
    if (!configured) {
        FILE *f = fopen(path, "w");
        if (!f || fprintf(f, "# Amparo data directory settings\ncountry=%s\n", country) < 0 ||
            fclose(f) != 0) {
            fprintf(stderr, "amparo init: cannot write '%s'\n", path);
            return EXIT_FAIL;
        }
    }
    amp_err kerr = {0};
    if (keyring_init_dir(dir, &kerr) != 0) {
        fprintf(stderr, "amparo init: %s\n", kerr.message);
        amp_err_clear(&kerr);
        return EXIT_FAIL;
    }
    char err[512];
    if (audit_create_key(dir, err, sizeof err) != 0) {
        fprintf(stderr, "amparo init: %s\n", err);
        return EXIT_FAIL;
    }
    snprintf(path, sizeof path, "%s/amparo.db", dir);
    store *s = store_sqlite_open(path, err, sizeof err);
    if (!s) {
        fprintf(stderr, "amparo init: %s\n", err);
        return EXIT_FAIL;
    }
    store_close(s);
    int rc = create_admin(dir);
    if (rc != EXIT_OK)
        return rc;
    printf("initialised %s%s\n", dir, configured ? " (already set up; nothing changed)" : "");
    return EXIT_OK;
}
