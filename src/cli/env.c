/* env.c — opening a data directory for a subcommand. */
#include "cli/cli.h"
#include "core/audit.h"
#include "core/keyring.h"
#include "util/conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *cli_data_dir(const char *opt)
{
    if (opt && *opt)
        return opt;
    const char *env = getenv("AMPARO_DATA");
    return env && *env ? env : "data";
}

int cli_is_help(const char *arg)
{
    return arg && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0);
}

static void read_country(cli_env *env)
{
    char v[16];
    if (conf_get(env->dir, "country", v, sizeof v) && strlen(v) >= 2)
        snprintf(env->country, sizeof env->country, "%.2s", v);
}

int cli_env_open(cli_env *env, const char *dir)
{
    memset(env, 0, sizeof *env);
    snprintf(env->dir, sizeof env->dir, "%s", dir);
    char path[4200], err[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/amparo.db", dir);
    if (stat(path, &st) != 0) {
        fprintf(stderr, "amparo: no database in '%s'; run 'amparo init --data %s' first\n", dir,
                dir);
        return -1;
    }
    read_country(env);
    if (audit_load_key(dir, err, sizeof err) != 0) { /* before any entry is written */
        fprintf(stderr, "amparo: %s\n", err);
        return -1;
    }
    const char *catfile = getenv("AMPARO_CATALOGUE");
    env->cat = catfile && *catfile ? catalogue_load_file(catfile, err, sizeof err)
                                   : catalogue_load_embedded(err, sizeof err);
    if (!env->cat) {
        fprintf(stderr, "amparo: %s\n", err);
        return -1;
    }
    env->store = store_sqlite_open(path, err, sizeof err);
    if (!env->store) {
        fprintf(stderr, "amparo: %s\n", err);
        catalogue_free(env->cat);
        return -1;
    }
    if (audit_head_matches_key(env->store, NULL) == 0)
        fprintf(stderr,
                "amparo: warning: the newest audit entry does not verify with %s/%s (a "
                "different key, or the trail was changed); run 'amparo audit verify'\n",
                dir, AUDIT_KEY_FILE);
    env->core = core_new(env->store, env->cat, env->country);
    if (!env->core)
        return -1;
    amp_err kerr = {0};
    env->kr = keyring_open(dir, &kerr);
    if (!env->kr) {
        fprintf(stderr, "amparo: %s\n", kerr.message);
        amp_err_clear(&kerr);
        cli_env_close(env);
        return -1;
    }
    core_set_keyring(env->core, env->kr);
    return 0;
}

void cli_env_close(cli_env *env)
{
    core_free(env->core);
    keyring_free(env->kr);
    store_close(env->store);
    catalogue_free(env->cat);
    memset(env, 0, sizeof *env);
}

int cli_report(const amp_err *err)
{
    fprintf(stderr, "amparo: %s\n", err->message);
    size_t i;
    json_t *f;
    json_array_foreach (err->fields, i, f) {
        fprintf(stderr, "  %s (%s): %s\n", json_string_value(json_object_get(f, "field")),
                json_string_value(json_object_get(f, "rule")),
                json_string_value(json_object_get(f, "message")));
    }
    switch (err->code) {
    case AMP_ENOTFOUND: return EXIT_NOTFOUND;
    case AMP_EINVALID:
    case AMP_EBADREQ: return EXIT_INVALID;
    default: return EXIT_FAIL;
    }
}
