/* fuzz_import_xml.c — libFuzzer target for the XForm XML import reader
 * (libxml2, src/core/htcds_io.c), through the real core and a
 * SQLite store in a temporary directory.
 *
 * The input is the XML file (ODK or KoboToolbox submission instances).
 * Every run is a dry run (nothing is kept).  Checks: a report always comes
 * back; the code is AMP_OK exactly when it lists no error; every error is an
 * object with an integer or null line, string field, rule and message, and
 * the report serialises (so the CLI and the API can print it); nothing is
 * imported. */
#include "core/htcds_io.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static store *st;
static catalogue *cat;
static core *cr;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char dir[] = "/tmp/amparo-fuzz-XXXXXX", path[64], err[256];
    if (sodium_init() < 0 || !mkdtemp(dir))
        abort();
    snprintf(path, sizeof path, "%s/amparo.db", dir);
    cat = catalogue_load_embedded(err, sizeof err);
    st = cat ? store_sqlite_open(path, err, sizeof err) : NULL;
    cr = st ? core_new(st, cat, "EC") : NULL;
    if (!cr)
        abort();
    return 0;
}

static void check_report(const json_t *rep, amp_code code)
{
    if (!rep)
        __builtin_trap();
    size_t n = json_array_size(json_object_get(rep, "errors"));
    json_int_t count = json_integer_value(json_object_get(rep, "error_count"));
    if ((code == AMP_OK) != (count == 0) || (size_t)count < n)
        __builtin_trap();
    if (json_integer_value(json_object_get(rep, "imported")) != 0)
        __builtin_trap();
    size_t i;
    const json_t *e;
    json_array_foreach (json_object_get(rep, "errors"), i, e) {
        const json_t *line = json_object_get(e, "line");
        if (!json_is_object(e) || !(json_is_integer(line) || json_is_null(line)) ||
            !json_is_string(json_object_get(e, "field")) ||
            !json_is_string(json_object_get(e, "rule")) ||
            !json_is_string(json_object_get(e, "message")))
            __builtin_trap();
    }
    char *text = json_dumps(rep, 0);
    if (!text)
        __builtin_trap();
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *buf = malloc(size ? size : 1); /* exact size: ASan sees overreads */
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    principal p = {.actor = "fuzz", .lang = "en", .internal = true};
    htcds_import_options opt = {.format = HTCDS_XFORM_XML, .dry_run = true, .max_errors = 50};
    json_t *rep = NULL;
    amp_err err = {0};
    amp_code code = htcds_import(cr, &p, buf, size, &opt, &rep, &err);
    if (code != AMP_EINTERNAL)
        check_report(rep, code);
    json_decref(rep);
    amp_err_clear(&err);
    free(buf);
    return 0;
}
