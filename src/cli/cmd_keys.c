/* cmd_keys.c — amparo key: status, rotate and retire the master keys that wrap
 * the per-case data keys (docs/ENCRYPTION.md). */
#include "cli/cli.h"
#include "core/casekey.h"
#include "core/keyring.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: amparo key <status|rotate|retire> [--data DIR]\n"
    "\n"
    "Master keys live outside the database, in the key directory (DIR/keys, or\n"
    "$AMPARO_KEY_DIR) as master-<N>.key; the highest N wraps new data keys.\n"
    "\n"
    "  status    generations present and how many case keys each wraps\n"
    "  rotate    write master-(N+1).key and re-wrap every case key under it,\n"
    "            while the server keeps running\n"
    "  retire    delete the key files of generations no case key uses any more\n"
    "            (this makes erasures effective in older backups)\n"
    "\n"
    "'amparo key <command> --help' describes each command.\n";

static const char usage_status[] =
    "usage: amparo key status [--data DIR]\n"
    "\n"
    "Lists the master key generations found (files in the key directory, the\n"
    "legacy master.key, $AMPARO_MASTER_KEY), the current one, and how many case\n"
    "data keys each generation wraps.  A generation that wraps keys but has no\n"
    "master key is reported as MISSING (those cases cannot be read).\n"
    "Exit code 1 when a generation is missing.\n"
    "\n"
    "  --data DIR   data directory (default: $AMPARO_DATA or ./data)\n";

static const char usage_rotate[] =
    "usage: amparo key rotate [--data DIR] [--batch N] [--no-new-key]\n"
    "\n"
    "Writes a new master key master-(N+1).key (mode 0600) in the key directory,\n"
    "then re-wraps every case data key under it, N keys per transaction (default\n"
    "1000), reporting progress.  The server may keep running: it notices the new\n"
    "generation within a second, and keeps reading keys of older generations\n"
    "until they are retired.  The data itself is not re-encrypted (the data keys\n"
    "stay the same).  Afterwards run 'amparo key retire'.\n"
    "\n"
    "  --data DIR     data directory (default: $AMPARO_DATA or ./data)\n"
    "  --batch N      case keys per transaction (1..100000, default 1000)\n"
    "  --no-new-key   write no new key: re-wrap the keys of older generations under\n"
    "                 the current one (finishes an interrupted rotation)\n";

static const char usage_retire[] =
    "usage: amparo key retire [--data DIR]\n"
    "\n"
    "Deletes the key file of every generation older than the current one that no\n"
    "case data key uses any more (overwritten with zeros, then unlinked; for\n"
    "generation 1 also the legacy master.key).  Refuses for generations still in\n"
    "use, naming how many case keys remain (run 'amparo key rotate --no-new-key').\n"
    "\n"
    "Once a generation is retired, every backup of the database taken while it\n"
    "was current can no longer be decrypted — neither the cases erased since\n"
    "(the point: crypto-shredding reaches the backups) nor any other case of that\n"
    "backup.  Take a fresh backup after retiring.  Exit code 1 when a generation\n"
    "could not be retired.\n"
    "\n"
    "  --data DIR   data directory (default: $AMPARO_DATA or ./data)\n";

typedef struct {
    const char *data;
    int batch;
    bool no_new_key;
} key_opts;

/* Parses the options of a subcommand; returns -1 when it printed help (exit 0),
 * or the exit code of a usage error, or 0. */
static int parse(int argc, char **argv, const char *help, bool rotate, key_opts *o)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"batch", required_argument, NULL, 'b'},
                                         {"no-new-key", no_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->batch = 1000;
    optind = 0; /* full re-initialisation (glibc), also for repeated calls */
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': o->data = optarg; break;
        case 'b': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (!rotate || *end || v < 1 || v > 100000) {
                fprintf(stderr, "amparo key: --batch takes a number from 1 to 100000\n");
                return EXIT_USAGE;
            }
            o->batch = (int)v;
            break;
        }
        case 'n':
            if (!rotate) {
                fputs(help, stderr);
                return EXIT_USAGE;
            }
            o->no_new_key = true;
            break;
        case 'h': fputs(help, stdout); return -1;
        default: fputs(help, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "amparo key: unexpected argument '%s'\n%s", argv[optind], help);
        return EXIT_USAGE;
    }
    return 0;
}

/* Opens the data directory and its keyring; prints why not and returns -1. */
static int open_all(const key_opts *o, cli_env *env, keyring **kr)
{
    if (cli_env_open(env, cli_data_dir(o->data)) != 0)
        return -1;
    amp_err err = {0};
    *kr = keyring_open(env->dir, &err);
    if (!*kr) {
        cli_report(&err);
        amp_err_clear(&err);
        cli_env_close(env);
        return -1;
    }
    return 0;
}

static json_int_t count_for(const json_t *counts, int gen)
{
    char g[16];
    snprintf(g, sizeof g, "%d", gen);
    return json_integer_value(json_object_get(counts, g));
}

static int key_status(int argc, char **argv)
{
    key_opts o;
    int rc = parse(argc, argv, usage_status, false, &o);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    cli_env env;
    keyring *kr;
    if (open_all(&o, &env, &kr) != 0)
        return EXIT_FAIL;
    json_t *counts = NULL;
    if (store_key_counts(env.store, &counts) != STORE_OK) {
        fprintf(stderr, "amparo key status: cannot count the case keys\n");
        keyring_free(kr);
        cli_env_close(&env);
        return EXIT_FAIL;
    }
    int gens[KEYRING_MAX_GENS];
    int n = keyring_gens(kr, gens, KEYRING_MAX_GENS);
    int cur = keyring_current_gen(kr);
    printf("key directory: %s\n", keyring_dir(kr));
    printf("%-12s %s\n", "generation", "case keys");
    json_int_t total = 0;
    for (int i = 0; i < n; i++) {
        printf("%-12d %lld%s\n", gens[i], (long long)count_for(counts, gens[i]),
               gens[i] == cur ? "  (current)" : "");
        total += count_for(counts, gens[i]);
    }
    /* generations the database uses but no key is loaded for */
    int missing = 0;
    const char *g;
    json_t *v;
    json_object_foreach (counts, g, v) {
        int gen = atoi(g);
        bool have = false;
        for (int i = 0; i < n; i++)
            have = have || gens[i] == gen;
        if (!have) {
            printf("%-12d %lld  MISSING: no master key of this generation\n", gen,
                   (long long)json_integer_value(v));
            missing++;
        }
        total += have ? 0 : json_integer_value(v);
    }
    printf("total case keys: %lld\n", (long long)total);
    json_decref(counts);
    keyring_free(kr);
    cli_env_close(&env);
    return missing ? EXIT_FAIL : EXIT_OK;
}

static void print_progress(void *arg, long long done)
{
    (void)arg;
    fprintf(stderr, "  re-wrapped %lld case keys\n", done);
}

static int key_rotate(int argc, char **argv)
{
    key_opts o;
    int rc = parse(argc, argv, usage_rotate, true, &o);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    cli_env env;
    keyring *kr;
    if (open_all(&o, &env, &kr) != 0)
        return EXIT_FAIL;
    amp_err err = {0};
    int gen = keyring_current_gen(kr);
    if (!o.no_new_key) {
        if (keyring_add_generation(kr, &gen, &err) != 0) {
            rc = cli_report(&err);
            goto out;
        }
        printf("wrote %s/master-%d.key (generation %d is now current)\n", keyring_dir(kr), gen,
               gen);
    }
    long long done = 0;
    /* 2 s settle: longer than a running server's once-a-second look for a newer key */
    if (casekey_rewrap_all(env.store, kr, gen, o.batch, 2000, print_progress, NULL, &done, &err) !=
        AMP_OK) {
        fprintf(stderr, "amparo key rotate: stopped after %lld case keys\n", done);
        rc = cli_report(&err);
        fprintf(stderr, "run 'amparo key rotate --no-new-key' to continue\n");
        goto out;
    }
    printf("re-wrapped %lld case keys under generation %d\n", done, gen);
    printf("next: 'amparo key retire' deletes the generations no case key uses\n");
    rc = EXIT_OK;
out:
    amp_err_clear(&err);
    keyring_free(kr);
    cli_env_close(&env);
    return rc;
}

static int key_retire(int argc, char **argv)
{
    key_opts o;
    int rc = parse(argc, argv, usage_retire, false, &o);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    cli_env env;
    keyring *kr;
    if (open_all(&o, &env, &kr) != 0)
        return EXIT_FAIL;
    json_t *counts = NULL;
    if (store_key_counts(env.store, &counts) != STORE_OK) {
        fprintf(stderr, "amparo key retire: cannot count the case keys\n");
        keyring_free(kr);
        cli_env_close(&env);
        return EXIT_FAIL;
    }
    int gens[KEYRING_MAX_GENS];
    int n = keyring_gens(kr, gens, KEYRING_MAX_GENS);
    int cur = keyring_current_gen(kr);
    int retired = 0, refused = 0;
    rc = EXIT_OK;
    for (int i = 0; i < n; i++) {
        if (gens[i] >= cur)
            continue;
        json_int_t left = count_for(counts, gens[i]);
        if (left > 0) {
            fprintf(stderr,
                    "amparo key retire: generation %d still wraps %lld case keys; run "
                    "'amparo key rotate --no-new-key' first\n",
                    gens[i], (long long)left);
            refused++;
            continue;
        }
        amp_err err = {0};
        if (keyring_remove_generation(kr, gens[i], &err) != 0) {
            fprintf(stderr, "amparo key retire: generation %d: %s\n", gens[i], err.message);
            amp_err_clear(&err);
            refused++;
            continue;
        }
        printf("retired generation %d\n", gens[i]);
        retired++;
    }
    if (!retired && !refused)
        printf("nothing to retire: generation %d is the only one\n", cur);
    else if (retired)
        printf("backups of the database taken before generation %d became current can no "
               "longer be decrypted; take a fresh backup\n",
               cur);
    json_decref(counts);
    keyring_free(kr);
    cli_env_close(&env);
    return refused ? EXIT_FAIL : rc;
}

int cmd_key(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    if (cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "status") == 0)
        return key_status(argc - 1, argv + 1);
    if (strcmp(argv[1], "rotate") == 0)
        return key_rotate(argc - 1, argv + 1);
    if (strcmp(argv[1], "retire") == 0)
        return key_retire(argc - 1, argv + 1);
    fprintf(stderr, "amparo key: '%s' is not a key command\n%s", argv[1], usage);
    return EXIT_USAGE;
}

const cli_command cli_commands_keys[] = {
    {"key", "master keys: 'key status', 'key rotate', 'key retire'", cmd_key},
    {NULL, NULL, NULL},
};
