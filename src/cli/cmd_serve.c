/* cmd_serve.c — amparo serve: run the HTTP server until SIGINT or SIGTERM. */
#include "cli/cli.h"
#include "http/server.h"
#include "util/clock.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: amparo serve [--data DIR] [--listen HOST:PORT] [--threads N] [--port-file F]\n"
    "\n"
    "Serves the JSON API (docs/API.md; OpenAPI at /api/v1/openapi.yaml) until\n"
    "interrupted (SIGINT or SIGTERM stop it cleanly: writes in flight finish).\n"
    "\n"
    "  --data DIR          data directory (default: $AMPARO_DATA or ./data)\n"
    "  --listen HOST:PORT  address to listen on (default 127.0.0.1:8080; port 0\n"
    "                      picks a free port)\n"
    "  --threads N         worker threads (default: one per CPU)\n"
    "  --port-file F       write the port listened on into F once ready\n";

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},    {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'}, {"port-file", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    const char *data = NULL, *portfile = NULL;
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
        case 'h': fputs(usage, stdout); return EXIT_OK;
        default: fputs(usage, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "amparo serve: unexpected argument '%s'\n%s", argv[optind], usage);
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
    char err[512];
    server *srv = server_start(env.core, &so, err, sizeof err);
    if (!srv) {
        fprintf(stderr, "amparo serve: %s\n", err);
        cli_env_close(&env);
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
    fprintf(stderr, "amparo: serving %lld cases from %s on port %u (ready in %.1f ms)\n",
            (long long)n, env.dir, server_port(srv), (double)(clock_mono_us() - t0) / 1000.0);
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "amparo: stopping (signal %d)\n", sig);
    server_stop(srv);
    cli_env_close(&env);
    return EXIT_OK;
}
