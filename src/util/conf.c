/* conf.c — reading amparo.conf.  See conf.h. */
#include "util/conf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CONF_LINE_MAX 1024

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

int conf_each(const char *dir, conf_fn fn, void *arg)
{
    char path[4200], line[CONF_LINE_MAX];
    snprintf(path, sizeof path, "%s/amparo.conf", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    int bad = 0, no = 0;
    while (fgets(line, sizeof line, f)) {
        no++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            /* the buffer is full: a whole line only if the file or the line ends here */
            int ch = fgetc(f);
            if (ch != EOF && ch != '\n') {
                while ((ch = fgetc(f)) != EOF && ch != '\n') {
                }
                bad++; /* overlong: skipped */
                continue;
            }
        }
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            bad++;
            continue;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        if (!*key) {
            bad++;
            continue;
        }
        fn(arg, no, key, value);
    }
    fclose(f);
    return bad;
}

typedef struct {
    const char *key;
    char *out;
    size_t n;
    bool found;
} get_arg;

static void get_one(void *arg, int line, const char *key, const char *value)
{
    (void)line;
    get_arg *g = arg;
    if (strcmp(key, g->key) == 0) {
        snprintf(g->out, g->n, "%s", value);
        g->found = true;
    }
}

bool conf_get(const char *dir, const char *key, char *out, size_t n)
{
    get_arg g = {key, out, n, false};
    conf_each(dir, get_one, &g);
    return g.found;
}

bool conf_key_known(const char *key)
{
    static const char *const known[] = {
        "country",
        "pwhash",
        "mfa_required_roles",
        "session_idle_minutes",
        "session_max_hours",
        "session_idle_seconds",
        "session_max_seconds",
        "login_max_failures",
        "login_max_failures_address",
        "login_window_minutes",
        "retention_closed_days",
        "read_audit",
        "read_audit_window_ms",
    };
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        if (strcmp(key, known[i]) == 0)
            return true;
    }
    return false;
}
