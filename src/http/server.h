/* server.h — the HTTP server (libmicrohttpd) in front of the domain core.
 *
 * Every request goes through one pipeline: parse → route → authenticate →
 * handler → response.  Handlers for writes hand the work to the core and suspend
 * the connection; the core's callback resumes it once the write is durable. */
#ifndef AMPARO_SERVER_H
#define AMPARO_SERVER_H

#include "core/core.h"

#include <stddef.h>

typedef struct server server;

struct accounts;

typedef struct {
    struct accounts *acc; /* authentication (required; borrowed) */
    const char *tls_cert; /* PEM text of the certificate chain, or NULL for plain HTTP */
    const char *tls_key;  /* PEM text of its private key */
    const char *listen;   /* "HOST:PORT"; port 0 picks a free port */
    unsigned threads;     /* worker threads; 0 = number of CPUs */
    size_t max_body;      /* bytes; 0 = 1 MiB */
} server_options;

/** Starts serving; NULL with err set on failure (e.g. the port is taken). */
server *server_start(core *c, const server_options *opt, char *err, size_t errlen);

/** The port actually bound. */
unsigned server_port(const server *s);

/** Stops accepting, lets writes in flight finish, and stops.  NULL allowed. */
void server_stop(server *s);

#endif
