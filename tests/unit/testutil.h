/* testutil.h — shared helpers for the cmocka unit tests (header-only). */
#ifndef AMPARO_TESTUTIL_H
#define AMPARO_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "core/keyring.h"
#include "util/clock.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The date every test treats as today. */
#define TEST_TODAY "2026-06-15"

/** A fresh directory under $TMPDIR (or /tmp); the caller removes it with
 *  tu_rmdir.  Writes the path into out[256]. */
static inline void tu_tmpdir(char out[256])
{
    const char *base = getenv("TMPDIR");
    snprintf(out, 256, "%s/amparo-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(out))
        fail_msg("mkdtemp failed");
}

static inline void tu_rmdir(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/** A store, catalogue and core on a new database in a temporary directory. */
typedef struct {
    char dir[256];
    store *store;
    catalogue *cat;
    core *core;
    keyring *kr;
    principal who;
} tu_env;

static inline tu_env *tu_env_new(void)
{
    tu_env *e = calloc(1, sizeof *e);
    char err[512], path[300];
    assert_non_null(e);
    assert_true(sodium_init() >= 0);
    clock_set_today(TEST_TODAY);
    tu_tmpdir(e->dir);
    snprintf(path, sizeof path, "%s/amparo.db", e->dir);
    e->cat = catalogue_load_embedded(err, sizeof err);
    if (!e->cat)
        fail_msg("catalogue: %s", err);
    e->store = store_sqlite_open(path, err, sizeof err);
    if (!e->store)
        fail_msg("store: %s", err);
    e->core = core_new(e->store, e->cat, "EC");
    amp_err kerr = {0};
    if (keyring_init_dir(e->dir, &kerr) != 0 || !(e->kr = keyring_open(e->dir, &kerr)))
        fail_msg("keyring: %s", kerr.message);
    core_set_keyring(e->core, e->kr); /* identity sealed at rest, as in use */
    snprintf(e->who.actor, sizeof e->who.actor, "tester");
    snprintf(e->who.lang, sizeof e->who.lang, "en");
    e->who.internal = true; /* the core's mechanics; tests of roles and scope build their own */
    return e;
}

static inline void tu_env_free(tu_env *e)
{
    if (!e)
        return;
    core_free(e->core);
    store_close(e->store);
    keyring_free(e->kr);
    catalogue_free(e->cat);
    tu_rmdir(e->dir);
    free(e);
}

/** The embedded catalogue, for tests that need only it: tu_catalogue_setup and
 *  tu_catalogue_teardown as group fixtures fill and free tu_cat. */
static catalogue *tu_cat;

static inline int tu_catalogue_setup(void **state)
{
    char err[512] = "";
    (void)state;
    tu_cat = catalogue_load_embedded(err, sizeof err);
    if (!tu_cat) {
        fprintf(stderr, "catalogue: %s\n", err);
        return -1;
    }
    return 0;
}

static inline int tu_catalogue_teardown(void **state)
{
    (void)state;
    catalogue_free(tu_cat);
    tu_cat = NULL;
    return 0;
}

/** Parses JSON text or fails the test. */
static inline json_t *tu_json(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        fail_msg("bad JSON in test: %s: %s", je.text, text);
    return j;
}

/** A minimal valid case body. */
#define TU_MINIMAL_CASE                                                                            \
    "{\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\"}"

/** True when err lists a failure of `rule` on `field`. */
static inline int tu_has_field_error(const amp_err *err, const char *field, const char *rule)
{
    size_t i;
    json_t *f;
    json_array_foreach (err->fields, i, f) {
        const char *fn = json_string_value(json_object_get(f, "field"));
        const char *rn = json_string_value(json_object_get(f, "rule"));
        if (fn && rn && strcmp(fn, field) == 0 && strcmp(rn, rule) == 0)
            return 1;
    }
    return 0;
}

#endif
