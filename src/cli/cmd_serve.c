/* cmd_serve.c — amparo serve: run the HTTP server until SIGINT or SIGTERM. */
#include "cli/cli.h"
#include "core/accounts.h"
#include "core/keyring.h"
#include "core/read_journal.h"
#include "http/server.h"
#include "util/clock.h"
#include "util/conf.h"
#include "util/log.h"

#include <getopt.h>
#include <sodium.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: amparo serve [--data DIR] [--listen HOST:PORT] [--threads N] [--port-file F]\n"
    "                    [--tls-cert FILE --tls-key FILE]\n"
    "\n"
    "Serves the web UI and the JSON API (docs/API.md; OpenAPI at /api/v1/openapi.yaml)\n"
    "until interrupted (SIGINT or SIGTERM stop it cleanly: writes in flight finish).\n"
    "Every API call but login needs a session (docs/SECURITY.md).\n"
    "\n"
    "  --data DIR          data directory (default: $AMPARO_DATA or ./data)\n"
    "  --listen HOST:PORT  address to listen on (default 127.0.0.1:8080; port 0\n"
    "                      picks a free port)\n"
    "  --threads N         HTTP threads (default: one per CPU); password hashing\n"
    "                      (sign-in) runs on N/2 more, at least one\n"
    "  --port-file F       write the port listened on into F once ready\n"
    "  --tls-cert FILE     serve HTTPS with this PEM certificate (chain)\n"
    "  --tls-key FILE      ... and this PEM private key (readable by its owner only)\n"
    "Behind a reverse proxy that terminates TLS, keep --listen on 127.0.0.1\n"
    "(docs/SECURITY.md has an nginx example).\n"
    "\n"
    "Reads are recorded in the audit trail through the read journal (the files\n"
    "read-journal.* of the data directory): a read is answered once its entry\n"
    "is written there, and joins the chain within read_audit_window_ms\n"
    "(amparo.conf, default 10).  read_audit=durable in amparo.conf answers a read\n"
    "only once its entry is fsynced instead (slower; docs/AUDIT.md).\n"
    "\n"
    "Settings come from DATA/amparo.conf, read at start-up; every key is in\n"
    "docs/SETTINGS.md.  Lines that are not key=value and unknown keys are named\n"
    "in the log and ignored.\n";

/* The read journal commits what it holds before the store closes. */
static void close_env(cli_env *env, read_journal *journal)
{
    core_set_read_journal(env->core, NULL);
    read_journal_close(journal);
    cli_env_close(env);
}

/* Reads a whole (small) PEM file; NULL with a message on failure. */
static char *read_pem(const char *path, bool secret)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "amparo serve: cannot open '%s'\n", path);
        return NULL;
    }
    struct stat st;
    if (secret && fstat(fileno(f), &st) == 0 && (st.st_mode & 077)) {
        fprintf(stderr, "amparo serve: '%s' must be readable by its owner only (chmod 600)\n",
                path);
        fclose(f);
        return NULL;
    }
    char *buf = calloc(1, 1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (!buf || n == 0) {
        fprintf(stderr, "amparo serve: '%s' is empty or unreadable\n", path);
        free(buf);
        return NULL;
    }
    return buf;
}

/* A setting nobody reads is most likely a misspelt one: say so at start-up. */
static void warn_unknown_setting(void *arg, int line, const char *key, const char *value)
{
    (void)arg, (void)value;
    if (!conf_key_known(key))
        log_error("amparo.conf line %d: unknown setting '%.64s', ignored (docs/SETTINGS.md)", line,
                  key);
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},     {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'},  {"port-file", required_argument, NULL, 'p'},
        {"tls-cert", required_argument, NULL, 'c'}, {"tls-key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    const char *data = NULL, *portfile = NULL, *cert = NULL, *key = NULL;
    server_options so = {.listen = "127.0.0.1:8080"};
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': data = optarg; break;
        case 'l': so.listen = optarg; break;
        case 't': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 256) {
                fprintf(stderr, "amparo serve: --threads must be 1 to 256\n");
                return EXIT_USAGE;
            }
            so.threads = (unsigned)n;
            break;
        }
        case 'p': portfile = optarg; break;
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'h': fputs(usage, stdout); return EXIT_OK;
        default: fputs(usage, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "amparo serve: unexpected argument '%s'\n%s", argv[optind], usage);
        return EXIT_USAGE;
    }
    if ((cert != NULL) != (key != NULL)) {
        fprintf(stderr, "amparo serve: --tls-cert and --tls-key go together\n");
        return EXIT_USAGE;
    }
    int64_t t0 = clock_mono_us();
    /* Every thread inherits this mask; the main thread alone waits for signals. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    cli_env env;
    if (cli_env_open(&env, cli_data_dir(data)) < 0)
        return EXIT_FAIL;
    int malformed = conf_each(env.dir, warn_unknown_setting, NULL);
    if (malformed > 0)
        log_error("amparo.conf: %d line%s not of the form key=value, ignored", malformed,
                  malformed == 1 ? " is" : "s are");
    char err[512];
    read_journal *journal = NULL;
    char mode[32] = "journal", window[32] = "";
    conf_get(env.dir, "read_audit", mode, sizeof mode);
    conf_get(env.dir, "read_audit_window_ms", window, sizeof window);
    if (strcmp(mode, "journal") != 0 && strcmp(mode, "durable") != 0) {
        fprintf(stderr, "amparo serve: amparo.conf: read_audit must be journal or durable\n");
        cli_env_close(&env);
        return EXIT_FAIL;
    }
    char *wend = NULL;
    long wms = window[0] ? strtol(window, &wend, 10) : 0;
    if (window[0] && (*wend || wms < 1 || wms > 1000)) {
        fprintf(stderr, "amparo serve: amparo.conf: read_audit_window_ms must be 1 to 1000\n");
        cli_env_close(&env);
        return EXIT_FAIL;
    }
    if (strcmp(mode, "journal") == 0) {
        read_journal_options jo = {.window_ms = (unsigned)wms};
        journal = read_journal_open(env.dir, env.store, &jo, err, sizeof err);
        if (!journal) {
            fprintf(stderr, "amparo serve: %s\n", err);
            cli_env_close(&env);
            return EXIT_FAIL;
        }
        core_set_read_journal(env.core, journal);
    }
    accounts_settings as;
    if (accounts_settings_load_key(&as, env.dir, keyring_index_key(env.kr), err, sizeof err) < 0) {
        fprintf(stderr, "amparo serve: %s\n", err);
        close_env(&env, journal);
        return EXIT_FAIL;
    }
    as.login_concurrency = so.threads > 2 ? (int)so.threads / 2 : 1;
    accounts *acc = accounts_new(env.core, &as);
    sodium_memzero(&as, sizeof as);
    char *cert_pem = cert ? read_pem(cert, false) : NULL;
    char *key_pem = key ? read_pem(key, true) : NULL;
    if (!acc || (cert && (!cert_pem || !key_pem))) {
        if (!acc)
            fprintf(stderr, "amparo serve: cannot set up accounts\n");
        free(cert_pem);
        free(key_pem);
        accounts_free(acc);
        close_env(&env, journal);
        return EXIT_FAIL;
    }
    so.acc = acc;
    so.tls_cert = cert_pem;
    so.tls_key = key_pem;
    server *srv = server_start(env.core, &so, err, sizeof err);
    if (!srv) {
        fprintf(stderr, "amparo serve: %s\n", err);
        free(cert_pem);
        if (key_pem)
            sodium_memzero(key_pem, strlen(key_pem));
        free(key_pem);
        accounts_free(acc);
        close_env(&env, journal);
        return EXIT_FAIL;
    }
    if (portfile) {
        FILE *f = fopen(portfile, "w");
        if (f) {
            fprintf(f, "%u\n", server_port(srv));
            fclose(f);
        }
    }
    int64_t n = 0;
    store_count_cases(env.store, &n);
    fprintf(stderr, "amparo: serving %lld cases from %s on %s port %u (ready in %.1f ms)\n",
            (long long)n, env.dir, cert ? "HTTPS" : "HTTP", server_port(srv),
            (double)(clock_mono_us() - t0) / 1000.0);
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "amparo: stopping (signal %d)\n", sig);
    server_stop(srv);
    accounts_free(acc);
    free(cert_pem);
    if (key_pem)
        sodium_memzero(key_pem, strlen(key_pem));
    free(key_pem);
    close_env(&env, journal);
    return EXIT_OK;
}
