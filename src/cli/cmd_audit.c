/* cmd_audit.c — amparo audit verify / head / list: the audit trail from the
 * command line (docs/AUDIT.md). */
#include "cli/cli.h"
#include "core/audit.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: amparo audit verify [--data DIR] [--expect-head SEQ:HASH] [--repair-index]\n"
    "                           [--json]\n"
    "       amparo audit head [--data DIR] [--json]\n"
    "       amparo audit list [--data DIR] [--json] [--FILTER VALUE]...\n"
    "\n"
    "verify  walks the whole hash chain with the audit key (DIR/audit.key) and\n"
    "        names the first changed, removed, inserted or reordered entry.  In\n"
    "        the same pass it checks the lookup table that lists filtered by\n"
    "        actor or object read (audit_keys, audit_keys_upto): a missing row\n"
    "        hides an entry from those lists (index_missing), and a row no entry\n"
    "        gives (index_extra), a wrong audit_keys_upto (index_upto) or a\n"
    "        column that is not text (field_type) are named with their entry.\n"
    "        Exit 0 when intact, 1 when tampered or unreadable.  Removing the\n"
    "        newest entries leaves a shorter chain that is still consistent: it\n"
    "        is caught only against a head recorded earlier (--expect-head).\n"
    "        --repair-index: when the chain verifies and only the lookup table\n"
    "        is wrong, rebuild it from the entries in one transaction, recorded\n"
    "        as audit.index_repair, then verify again (exit 0 when intact after\n"
    "        the repair).  A chain that does not verify is never repaired.\n"
    "head    prints the newest entry as SEQ:HASH; write it down or ship it\n"
    "        elsewhere (a log host, a ticket) to check truncation later.\n"
    "list    prints entries, newest first.  Filters:\n"
    "          --actor USER  --action case.read  --object ID  --object-type case\n"
    "          --org ORG  --from T  --to T (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z)\n"
    "          --order asc|desc  --limit N (1-500, default 50)  --offset N\n"
    "        --json prints the API's JSON.  Listing is itself recorded (audit.read).\n"
    "\n"
    "  --data DIR   data directory (default: $AMPARO_DATA or ./data)\n";

static void print_json(json_t *o)
{
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    if (text) {
        puts(text);
        free(text);
    }
}

/* Parses --data DIR / --data=DIR at argv[*i]; true when it was one. */
static bool data_opt(int argc, char **argv, int *i, const char **data)
{
    if (strcmp(argv[*i], "--data") == 0 && *i + 1 < argc) {
        *data = argv[++*i];
        return true;
    }
    if (strncmp(argv[*i], "--data=", 7) == 0) {
        *data = argv[*i] + 7;
        return true;
    }
    return false;
}

/* The outcome of a verification, as text; hint_repair: name --repair-index when
 * it would mend the problem. */
static void print_verify(const audit_verify_result *r, int rc, bool hint_repair)
{
    if (rc == 0) {
        printf("%s\n", r->message);
        return;
    }
    printf("audit trail NOT intact: %s: %s\n", audit_problem_name(r->problem), r->message);
    if (audit_problem_is_index(r->problem) || r->problem == AUDIT_FIELD_TYPE)
        printf("the hash chain checks out: entries 1 to %lld (head %s)\n", (long long)r->head_seq,
               r->head_seq ? r->head_hash : "(empty)");
    else if (r->head_seq)
        printf("entries 1 to %lld check out (head %s)\n", (long long)r->head_seq, r->head_hash);
    if (hint_repair && audit_problem_is_index(r->problem))
        printf("the lookup table can be rebuilt from the chain: amparo audit verify "
               "--repair-index\n");
}

static int audit_verify_cmd(int argc, char **argv)
{
    const char *data = NULL, *expect_text = NULL;
    bool as_json = false, repair = false;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return EXIT_OK;
        } else if (data_opt(argc, argv, &i, &data)) {
        } else if (strcmp(argv[i], "--expect-head") == 0 && i + 1 < argc) {
            expect_text = argv[++i];
        } else if (strncmp(argv[i], "--expect-head=", 14) == 0) {
            expect_text = argv[i] + 14;
        } else if (strcmp(argv[i], "--json") == 0) {
            as_json = true;
        } else if (strcmp(argv[i], "--repair-index") == 0) {
            repair = true;
        } else {
            fprintf(stderr, "amparo audit verify: unexpected argument '%s'\n%s", argv[i], usage);
            return EXIT_USAGE;
        }
    }
    audit_checkpoint expect;
    if (expect_text && audit_checkpoint_parse(expect_text, &expect) != 0) {
        fprintf(stderr, "amparo audit verify: --expect-head must be SEQ:HASH as printed by "
                        "'amparo audit head'\n");
        return EXIT_INVALID;
    }
    const char *dir = cli_data_dir(data);
    uint8_t key[AUDIT_KEY_BYTES];
    char err[512];
    /* read first, so a missing key is reported and not replaced by a new one */
    if (audit_read_key(dir, key, err, sizeof err) != 0) {
        fprintf(stderr, "amparo audit verify: %s\n", err);
        return EXIT_FAIL;
    }
    cli_env env;
    if (cli_env_open(&env, dir) < 0) {
        sodium_memzero(key, sizeof key);
        return EXIT_FAIL;
    }
    audit_verify_result r;
    int rc = audit_verify(env.store, key, expect_text ? &expect : NULL, &r);
    audit_repair_result repaired = {0};
    bool did_repair = false;
    if (repair && rc == 1 && audit_problem_is_index(r.problem)) {
        if (!as_json)
            print_verify(&r, rc, false);
        principal p = {.actor = "cli", .lang = "en", .internal = true};
        amp_err aerr = {0};
        if (audit_repair_index(env.core, &p, &r, &repaired, &aerr) != AMP_OK) {
            rc = cli_report(&aerr);
            amp_err_clear(&aerr);
            sodium_memzero(key, sizeof key);
            cli_env_close(&env);
            return rc;
        }
        did_repair = true;
        if (!as_json)
            printf("repaired the lookup table audit_keys: %lld rows removed, %lld added "
                   "(recorded as audit.index_repair); verifying again\n",
                   (long long)repaired.removed, (long long)repaired.added);
        rc = audit_verify(env.store, key, expect_text ? &expect : NULL, &r);
    }
    sodium_memzero(key, sizeof key);
    if (as_json) {
        json_t *o = audit_verify_json(&r);
        if (o && did_repair)
            json_object_set_new(o, "repaired",
                                json_pack("{s:I, s:I}", "removed", (json_int_t)repaired.removed,
                                          "added", (json_int_t)repaired.added));
        print_json(o);
        json_decref(o);
    } else {
        print_verify(&r, rc, !repair);
        if (repair && rc == 1 && !did_repair)
            printf("not repairing: the lookup table is rebuilt only from a chain that verifies\n");
        else if (repair && rc == 0 && !did_repair)
            printf("nothing to repair\n");
    }
    cli_env_close(&env);
    return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

static int audit_head_cmd(int argc, char **argv)
{
    const char *data = NULL;
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return EXIT_OK;
        } else if (data_opt(argc, argv, &i, &data)) {
        } else if (strcmp(argv[i], "--json") == 0) {
            as_json = true;
        } else {
            fprintf(stderr, "amparo audit head: unexpected argument '%s'\n%s", argv[i], usage);
            return EXIT_USAGE;
        }
    }
    cli_env env;
    if (cli_env_open(&env, cli_data_dir(data)) < 0)
        return EXIT_FAIL;
    audit_checkpoint h;
    int rc = EXIT_OK;
    if (audit_head(env.store, &h) != 0) {
        fprintf(stderr, "amparo audit head: the audit trail could not be read\n");
        rc = EXIT_FAIL;
    } else if (as_json) {
        json_t *o = h.seq ? json_pack("{s:I, s:s}", "seq", (json_int_t)h.seq, "hash", h.hash)
                          : json_pack("{s:i, s:n}", "seq", 0, "hash");
        print_json(o);
        json_decref(o);
    } else if (h.seq) {
        printf("%lld:%s\n", (long long)h.seq, h.hash);
    } else {
        fprintf(stderr, "amparo audit head: the audit trail is empty\n");
    }
    cli_env_close(&env);
    return rc;
}

#define MAX_FILTERS 16

static int audit_list_cmd(int argc, char **argv)
{
    const char *data = NULL;
    bool as_json = false;
    list_param params[MAX_FILTERS];
    char names[MAX_FILTERS][32];
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(usage, stdout);
            return EXIT_OK;
        }
        if (data_opt(argc, argv, &i, &data))
            continue;
        if (strcmp(a, "--json") == 0) {
            as_json = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || n == MAX_FILTERS) {
            fprintf(stderr, "amparo audit list: unexpected argument '%s'\n%s", a, usage);
            return EXIT_USAGE;
        }
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!value || len == 0 || len >= sizeof names[0] - 4) {
            fprintf(stderr, "amparo audit list: %s needs a value\n", a);
            return EXIT_USAGE;
        }
        for (size_t k = 0; k < len; k++)
            names[n][k] = a[2 + k] == '-' ? '_' : a[2 + k];
        names[n][len] = '\0';
        if (strcmp(names[n], "object") == 0)
            snprintf(names[n], sizeof names[n], "object_id");
        params[n].name = names[n];
        params[n].value = value;
        n++;
    }
    cli_env env;
    if (cli_env_open(&env, cli_data_dir(data)) < 0)
        return EXIT_FAIL;
    principal p = {.actor = "cli", .lang = "en", .internal = true};
    amp_err err = {0};
    json_t *out = NULL;
    int rc = EXIT_OK;
    if (audit_query(env.core, &p, params, n, &out, &err) != AMP_OK) {
        rc = cli_report(&err);
    } else if (as_json) {
        print_json(out);
    } else {
        printf("%-7s %-24s %-16s %-10s %-16s %-20s %s\n", "SEQ", "AT", "ACTOR", "ORG", "ADDRESS",
               "ACTION", "OBJECT");
        size_t i;
        json_t *e;
        json_array_foreach (json_object_get(out, "items"), i, e) {
            const char *ot = json_string_value(json_object_get(e, "object_type"));
            const char *oid = json_string_value(json_object_get(e, "object_id"));
            const char *org = json_string_value(json_object_get(e, "org"));
            const char *addr = json_string_value(json_object_get(e, "addr"));
            char *detail = json_dumps(json_object_get(e, "detail"), JSON_COMPACT);
            printf("%-7lld %-24s %-16s %-10s %-16s %-20s %s%s%s %s\n",
                   (long long)json_integer_value(json_object_get(e, "seq")),
                   json_string_value(json_object_get(e, "at")),
                   json_string_value(json_object_get(e, "actor")), org ? org : "-",
                   addr ? addr : "-", json_string_value(json_object_get(e, "action")), ot ? ot : "",
                   ot && oid ? ":" : "", oid ? oid : (ot ? "" : "-"),
                   detail && strcmp(detail, "{}") != 0 ? detail : "");
            free(detail);
        }
        printf("%zu of %lld entries\n", json_array_size(json_object_get(out, "items")),
               (long long)json_integer_value(json_object_get(out, "total")));
    }
    json_decref(out);
    amp_err_clear(&err);
    cli_env_close(&env);
    return rc;
}

int cmd_audit(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "verify") == 0)
        return audit_verify_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "head") == 0)
        return audit_head_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return audit_list_cmd(argc - 1, argv + 1);
    fprintf(stderr, "amparo audit: '%s' is not a subcommand (verify, head, list)\n%s", argv[1],
            usage);
    return EXIT_USAGE;
}

const cli_command cli_commands_audit[] = {
    {"audit", "the audit trail: 'audit verify', 'audit head', 'audit list'", cmd_audit},
    {NULL, NULL, NULL},
};
