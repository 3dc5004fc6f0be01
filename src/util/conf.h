/* conf.h — DIR/amparo.conf, the data directory's settings: one `key=value` a
 * line.  Spaces and tabs around the key and the value do not count, lines that
 * start with '#' and blank lines are skipped, and when a key appears more than
 * once the last line wins.  Every part of Amparo that reads a setting reads it
 * through here, so "pwhash = moderate" means what "pwhash=moderate" means. */
#ifndef AMPARO_CONF_H
#define AMPARO_CONF_H

#include <stdbool.h>
#include <stddef.h>

/* Called for each setting in file order, with its 1-based line number. */
typedef void (*conf_fn)(void *arg, int line, const char *key, const char *value);

/** Calls fn for every `key=value` line of DIR/amparo.conf.  Returns the number of
 *  lines that are neither settings, comments nor blank (fn never sees them; a
 *  line without '=' or with an empty key), or -1 when the file cannot be read
 *  (a missing file is an empty one: 0). */
int conf_each(const char *dir, conf_fn fn, void *arg);

/** The value of key (the last line that sets it) into out[n], cut to fit; false
 *  when no line sets it (out untouched). */
bool conf_get(const char *dir, const char *key, char *out, size_t n);

/** True when key is a setting Amparo knows (docs/SETTINGS.md lists them). */
bool conf_key_known(const char *key);

#endif
